//! Sign-in, sign-out, the caller's account (password, API tokens) and, for organisers and
//! administrators, user registration and the audit log.

use super::{FormPairs, WebError, options, param, render, render_status, zh};
use crate::auth::{self, Caller, Who};
use crate::error::HttpStatus;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::accounts::{self, NewAccount, OrgChoice};
use duijie_app::authz::{self, Action};
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/admin", get(admin_page))
        .route("/admin/users", post(create_user))
}

/// Where to go after signing in: a path on this site only (never `//host` or a URL).
fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/".into(),
    }
}

fn login_form(
    ctx: &App,
    caller: &Caller,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<String>,
) -> Response {
    let (caller, set) = match super::visitor_csrf(caller) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut r = render_status(
        status,
        ctx,
        &caller,
        "login.html",
        "login",
        "登录",
        json!({"next": next, "email": email, "error": error}),
    );
    if let Some(c) = set {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

async fn login_page(State(ctx): State<App>, caller: Who, RawQuery(q): RawQuery) -> Response {
    let next = safe_next(param(q.as_deref(), "next"));
    if caller.user.is_some() {
        return Redirect::to(&next).into_response();
    }
    login_form(&ctx, &caller, StatusCode::OK, &next, "", None)
}

async fn login(State(ctx): State<App>, caller: Who, form: FormPairs) -> Response {
    let next = safe_next(form.get("next"));
    let email = form.get("email").unwrap_or_default();
    let password = form.raw("password").to_string();
    match auth::sign_in(&ctx, &email, &password, caller.peer).await {
        Ok(s) => {
            let max_age = ctx.settings.auth.session_hours * 3600;
            let mut r = Redirect::to(&next).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                auth::session_cookie(&s.session_id, max_age, caller.secure),
            );
            r
        }
        Err(e @ (AppError::Unauthorized { .. } | AppError::TooManyRequests(_))) => {
            let msg = zh(e.body()["error"]["message"].as_str().unwrap_or("")).to_string();
            login_form(&ctx, &caller, e.status(), &next, &email, Some(msg))
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn logout(State(ctx): State<App>, caller: Who, _form: FormPairs) -> Response {
    if let Err(e) = accounts::sign_out(&ctx, &caller).await {
        return WebError::from(e).into_response();
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::session_cookie("", 0, caller.secure),
    );
    r
}

async fn account_data(ctx: &App, caller: &Caller, mut extra: Value) -> Result<Value, AppError> {
    extra["tokens"] = json!(accounts::tokens(ctx, caller).await?);
    extra["notification_settings"] =
        json!(duijie_app::signup::notification_settings(ctx, caller).await?);
    Ok(extra)
}

async fn account_page(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let notice = match param(q.as_deref(), "done").as_deref() {
        Some("password") => Some("密码已修改，其他设备上的登录已退出。"),
        Some("revoked") => Some("令牌已撤销。"),
        Some("notifications") => Some("邮件通知设置已保存。"),
        _ => None,
    };
    let data = account_data(&ctx, &caller, json!({"notice": notice})).await?;
    Ok(render(&ctx, &caller, "account.html", "account", "我的账户", data)?.into_response())
}

async fn change_password(
    State(ctx): State<App>,
    caller: Who,
    form: FormPairs,
) -> Result<Response, WebError> {
    caller.require()?;
    let field = |k: &str| form.raw(k).to_string();
    let (current, new, confirm) = (
        field("current_password"),
        field("new_password"),
        field("confirm_password"),
    );
    let result = if new != confirm {
        Err(AppError::bad_request(
            Code::PASSWORD_MISMATCH,
            "两次输入的新密码不一致",
            "the new passwords differ",
        ))
    } else {
        accounts::change_password(&ctx, &caller, &current, &new).await
    };
    match result {
        Ok(()) => Ok(Redirect::to("/account?done=password").into_response()),
        Err(e) if e.status().is_client_error() => {
            let msg = zh(e.body()["error"]["message"].as_str().unwrap_or("")).to_string();
            let data = account_data(&ctx, &caller, json!({"password_error": msg})).await?;
            Ok(render_status(
                e.status(),
                &ctx,
                &caller,
                "account.html",
                "account",
                "我的账户",
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn create_token(
    State(ctx): State<App>,
    caller: Who,
    form: FormPairs,
) -> Result<Response, WebError> {
    let name = form.get("name").unwrap_or_else(|| "API".into());
    match accounts::create_token(&ctx, &caller, &name).await {
        Ok((token, _)) => {
            let data = account_data(&ctx, &caller, json!({"new_token": token})).await?;
            let mut r =
                render(&ctx, &caller, "account.html", "account", "我的账户", data)?.into_response();
            // the page shows a secret: keep it out of caches and history
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(r)
        }
        Err(e) if e.status().is_client_error() && caller.user.is_some() => {
            let msg = zh(e.body()["error"]["message"].as_str().unwrap_or("")).to_string();
            let data = account_data(&ctx, &caller, json!({"token_error": msg})).await?;
            Ok(render_status(
                e.status(),
                &ctx,
                &caller,
                "account.html",
                "account",
                "我的账户",
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    _form: FormPairs,
) -> Result<Response, WebError> {
    let id = raw
        .parse::<i64>()
        .map_err(|_| AppError::NotFound(format!("令牌 {raw} 不存在 / no token {raw}")))?;
    accounts::revoke_token(&ctx, &caller, id).await?;
    Ok(Redirect::to("/account?done=revoked").into_response())
}

async fn admin_data(ctx: &App, caller: &Caller, mut extra: Value) -> Result<Value, AppError> {
    let users = accounts::users(ctx, caller, 200, 0).await?;
    extra["users"] = json!(users.items);
    extra["users_total"] = json!(users.total);
    let roles: Vec<(&str, &str)> = if caller.role() == Some(duijie_domain::Role::Admin) {
        auth::ROLES.to_vec()
    } else {
        auth::ROLES
            .iter()
            .copied()
            .filter(|(c, _)| ["enterprise", "researcher"].contains(c))
            .collect()
    };
    extra["roles"] = options(&roles);
    if caller.role() == Some(duijie_domain::Role::Admin) {
        extra["audit"] = json!(
            accounts::audit_log(ctx, caller, None, None, 50, 0)
                .await?
                .items
        );
        extra["mail"] = json!(
            duijie_app::signup::mail_log(ctx, caller, None, 30, 0)
                .await?
                .items
        );
    }
    Ok(extra)
}

async fn admin_page(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    authz::authorize(&ctx, &caller, Action::RegisterUsers).await?;
    let notice = (param(q.as_deref(), "done").as_deref() == Some("user")).then_some("账户已创建。");
    let data = admin_data(&ctx, &caller, json!({"notice": notice, "values": {}})).await?;
    Ok(render(&ctx, &caller, "admin.html", "admin", "用户与审计", data)?.into_response())
}

async fn create_user(
    State(ctx): State<App>,
    caller: Who,
    form: FormPairs,
) -> Result<Response, WebError> {
    authz::authorize(&ctx, &caller, Action::RegisterUsers).await?;
    let password = Some(form.raw("password").to_string()).filter(|v| !v.is_empty());
    let a = NewAccount {
        email: form.get("email").unwrap_or_default(),
        name: form.get("name"),
        role: form.get("role").unwrap_or_default(),
        organization: form
            .get("organization")
            .map(OrgChoice::Name)
            .unwrap_or(OrgChoice::None),
        password,
    };
    match accounts::register(&ctx, &caller, a).await {
        Ok(_) => Ok(Redirect::to("/admin?done=user").into_response()),
        Err(e) if e.status().is_client_error() => {
            let msg = zh(e.body()["error"]["message"].as_str().unwrap_or("")).to_string();
            let values = json!({"email": form.get("email"), "name": form.get("name"), "role": form.get("role"), "organization": form.get("organization")});
            let data = admin_data(&ctx, &caller, json!({"error": msg, "values": values})).await?;
            Ok(render_status(
                e.status(),
                &ctx,
                &caller,
                "admin.html",
                "admin",
                "用户与审计",
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
