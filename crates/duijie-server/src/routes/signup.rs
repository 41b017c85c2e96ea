//! Self-service accounts over the API: sign-up with verification and approval, invitations,
//! password resets, the caller's mail categories, and the outbox for administrators.

use crate::auth::Who;
use crate::error::ApiError;
use crate::extract::{Id, JsonObject, Params};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::signup::{self, Outcome};
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/registrations", get(applicants).post(register))
        .route("/registrations/verify", post(verify))
        .route("/users/{id}/approve", post(approve))
        .route("/users/{id}/reject", post(reject))
        .route("/invitations", post(invite))
        .route("/password-resets", post(request_reset))
        .route("/password-resets/confirm", post(confirm_reset))
        .route(
            "/me/notification-settings",
            get(notification_settings).put(set_notification_settings),
        )
        .route("/admin/mail", get(mail_log))
}

/// `POST /registrations`: 202 (check your mail) or, with an invitation, 201 and the account.
async fn register(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match signup::register(&ctx, &body, caller.peer).await? {
        Outcome::Pending(r) => Ok((StatusCode::ACCEPTED, Json(json!(r)))),
        Outcome::Active(u) => Ok((StatusCode::CREATED, Json(json!({"user": u})))),
    }
}

async fn verify(
    State(ctx): State<App>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let user = signup::verify(&ctx, &body).await?;
    Ok(Json(json!({"user": user})))
}

async fn applicants(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let status = p.choice(
        "status",
        &["pending_approval", "pending_verification", "rejected"],
    )?;
    let limit = p.int("limit", 20, 1, ctx.settings.server.max_page_size as i64)?;
    let offset = p.int("offset", 0, 0, i64::MAX / 2)?;
    p.finish()?;
    Ok(Json(json!(
        signup::applicants(&ctx, &caller, status.as_deref(), limit, offset).await?
    )))
}

async fn approve(State(ctx): State<App>, caller: Who, Id(id): Id) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({"user": signup::approve(&ctx, &caller, id).await?}),
    ))
}

async fn reject(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({"user": signup::reject(&ctx, &caller, id, &body).await?}),
    ))
}

async fn invite(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let sent = signup::invite(&ctx, &caller, &body).await?;
    Ok((StatusCode::CREATED, Json(json!(sent))))
}

async fn request_reset(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let r = signup::request_reset(&ctx, &body, caller.peer).await?;
    Ok((StatusCode::ACCEPTED, Json(json!(r))))
}

async fn confirm_reset(
    State(ctx): State<App>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let user = signup::confirm_reset(&ctx, &body).await?;
    Ok(Json(json!({"user": user})))
}

async fn notification_settings(
    State(ctx): State<App>,
    caller: Who,
) -> Result<Json<Value>, ApiError> {
    let items = signup::notification_settings(&ctx, &caller).await?;
    Ok(Json(json!({"items": items})))
}

async fn set_notification_settings(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let items = signup::set_notification_settings(&ctx, &caller, &body).await?;
    Ok(Json(json!({"items": items})))
}

async fn mail_log(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let status = p.choice("status", &["pending", "sent", "failed"])?;
    let limit = p.int("limit", 50, 1, ctx.settings.server.max_page_size as i64)?;
    let offset = p.int("offset", 0, 0, i64::MAX / 2)?;
    p.finish()?;
    Ok(Json(json!(
        signup::mail_log(&ctx, &caller, status.as_deref(), limit, offset).await?
    )))
}
