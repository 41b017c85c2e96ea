//! Accounts over the API: sign-in for scripts that want a session, the caller's own
//! profile, password and tokens, user registration, and the audit log.

use crate::auth::{self, Who};
use crate::error::ApiError;
use crate::extract::{Id, JsonObject, Params};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::accounts;
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/sessions", post(sign_in).delete(sign_out))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/me/tokens", get(tokens).post(create_token))
        .route("/me/tokens/{id}", delete(revoke_token))
        .route("/users", get(users).post(create_user))
        .route("/users/{id}", patch(update_user))
        .route("/audit", get(audit_log))
}

fn text(body: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(
            Code::INVALID_PARAMETER,
            format!("{key} 应为文本"),
            format!("{key} must be a string"),
        )),
    }
}

fn only(body: &serde_json::Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad_request(
            Code::UNKNOWN_FIELD,
            format!("未知字段“{k}”，可用：{}", allowed.join(", ")),
            format!("unknown field '{k}'; allowed: {}", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

/// `POST /sessions {email, password}`: a session cookie for API clients that want one.
async fn sign_in(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    only(&body, &["email", "password"])?;
    let email = text(&body, "email")?.unwrap_or_default();
    let password = text(&body, "password")?.unwrap_or_default();
    let s = auth::sign_in(&ctx, &email, &password, caller.peer).await?;
    let max_age = ctx.settings.auth.session_hours * 3600;
    Ok((
        [(
            header::SET_COOKIE,
            auth::session_cookie(&s.session_id, max_age, caller.secure),
        )],
        Json(json!({"user": s.user})),
    )
        .into_response())
}

async fn sign_out(State(ctx): State<App>, caller: Who) -> Result<Response, ApiError> {
    accounts::sign_out(&ctx, &caller).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            auth::session_cookie("", 0, caller.secure),
        )],
    )
        .into_response())
}

async fn me(caller: Who, p: Params) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let user = caller.require()?;
    Ok(Json(json!({"user": user, "via": match caller.via {
        auth::Via::Token => "token", auth::Via::Session { .. } => "session", _ => "other" }})))
}

async fn change_password(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, ApiError> {
    only(&body, &["current_password", "new_password"])?;
    accounts::change_password(
        &ctx,
        &caller,
        &text(&body, "current_password")?.unwrap_or_default(),
        &text(&body, "new_password")?.unwrap_or_default(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn tokens(State(ctx): State<App>, caller: Who) -> Result<Json<Value>, ApiError> {
    let items = accounts::tokens(&ctx, &caller).await?;
    Ok(Json(json!({"items": items, "total": items.len()})))
}

async fn create_token(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    only(&body, &["name"])?;
    let name = text(&body, "name")?.unwrap_or_else(|| "API".into());
    let (token, record) = accounts::create_token(&ctx, &caller, &name).await?;
    let created = accounts::TokenCreated {
        record,
        token,
        note: "令牌只显示这一次，请妥善保存 / the token is shown only this once",
    };
    Ok((StatusCode::CREATED, Json(json!(created))))
}

async fn revoke_token(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    accounts::revoke_token(&ctx, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn users(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let limit = p.int("limit", 50, 1, ctx.settings.server.max_page_size as i64)?;
    let offset = p.int("offset", 0, 0, 1_000_000)?;
    p.finish()?;
    Ok(Json(
        serde_json::to_value(accounts::users(&ctx, &caller, limit, offset).await?)
            .map_err(|e| AppError::Internal(e.to_string()))?,
    ))
}

async fn create_user(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    only(
        &body,
        &[
            "email",
            "name",
            "role",
            "organization",
            "organization_id",
            "password",
        ],
    )?;
    let org_id = match body.get("organization_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            ApiError::bad_request(
                Code::INVALID_PARAMETER,
                "organization_id 应为整数",
                "organization_id must be an integer",
            )
        })?),
    };
    let req = accounts::NewAccount {
        email: text(&body, "email")?.unwrap_or_default(),
        name: text(&body, "name")?,
        role: text(&body, "role")?.unwrap_or_default(),
        organization: match org_id {
            Some(id) => accounts::OrgChoice::Id(id),
            None => match text(&body, "organization")? {
                Some(n) => accounts::OrgChoice::Name(n),
                None => accounts::OrgChoice::None,
            },
        },
        password: text(&body, "password")?,
    };
    let user = accounts::register(&ctx, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(json!(user))))
}

async fn update_user(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    only(&body, &["role", "organization_id", "disabled", "org_admin"])?;
    let mut change = accounts::UserChange {
        role: text(&body, "role")?,
        ..Default::default()
    };
    change.organization_id = match body.get("organization_id") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(v.as_i64().ok_or_else(|| {
            ApiError::bad_request(
                Code::INVALID_PARAMETER,
                "organization_id 应为整数",
                "organization_id must be an integer",
            )
        })?)),
    };
    change.disabled = match body.get("disabled") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::bad_request(
                Code::INVALID_PARAMETER,
                "disabled 应为 true 或 false",
                "disabled must be true or false",
            ));
        }
    };
    change.org_admin = match body.get("org_admin") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::bad_request(
                Code::INVALID_PARAMETER,
                "org_admin 应为 true 或 false",
                "org_admin must be true or false",
            ));
        }
    };
    let after = accounts::update_user(&ctx, &caller, id, change).await?;
    Ok(Json(json!(after)))
}

async fn audit_log(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let limit = p.int("limit", 50, 1, ctx.settings.server.max_page_size as i64)?;
    let offset = p.int("offset", 0, 0, 10_000_000)?;
    let entity = p.str("entity");
    let entity_id = match p.str("entity_id") {
        Some(_) => Some(p.int("entity_id", 0, 1, i64::MAX)?),
        None => None,
    };
    p.finish()?;
    Ok(Json(
        serde_json::to_value(
            accounts::audit_log(&ctx, &caller, entity.as_deref(), entity_id, limit, offset).await?,
        )
        .map_err(|e| AppError::Internal(e.to_string()))?,
    ))
}
