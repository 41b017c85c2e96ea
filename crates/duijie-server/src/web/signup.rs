//! Pages of self-service accounts: sign-up (and sign-up by invitation), the e-mail link
//! that verifies it, forgotten passwords, the organisers' approval queue, one-click
//! unsubscribe, and the mail categories on `/account`.

use super::{FormPairs, WebError, field_errors, param, render_status, zh};
use crate::auth::{self, Caller, Who};
use crate::error::HttpStatus;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use duijie_app::signup::{self, Outcome};
use duijie_app::{App, AppError};
use duijie_domain::input::Record;
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/register", get(register_page).post(register))
        .route("/verify", get(verify))
        .route("/forgot", get(forgot_page).post(forgot))
        .route("/reset", get(reset_page).post(reset))
        .route("/approvals", get(approvals))
        .route("/approvals/{id}/approve", post(approve))
        .route("/approvals/{id}/reject", post(reject))
        .route("/unsubscribe", get(unsubscribe_page).post(unsubscribe))
        .route("/account/notifications", post(set_notifications))
}

/// A page with a form for visitors: they get a CSRF cookie with it, as on the sign-in page.
fn visitor_page(
    status: StatusCode,
    ctx: &App,
    caller: &Caller,
    template: &str,
    title: &str,
    data: Value,
) -> Response {
    let (caller, set) = match super::visitor_csrf(caller) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut r = render_status(status, ctx, &caller, template, "register", title, data);
    if let Some(c) = set {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    // pages that carry one-time links in their address stay out of caches and referrers
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A page that says what happened and where to go next.
fn notice(
    ctx: &App,
    caller: &Caller,
    status: StatusCode,
    title: &str,
    text: String,
    ok: bool,
) -> Response {
    visitor_page(
        status,
        ctx,
        caller,
        "notice.html",
        title,
        json!({"title": title, "text": text, "ok": ok}),
    )
}

fn message_of(e: &AppError) -> String {
    zh(e.body()["error"]["message"].as_str().unwrap_or("")).to_string()
}

const KINDS: &[(&str, &str)] = &[
    ("enterprise", "企业"),
    ("university", "高校"),
    ("institute", "科研院所"),
    ("other", "其他"),
];

async fn register_form(
    ctx: &App,
    caller: &Caller,
    status: StatusCode,
    mut data: Value,
) -> Response {
    let invite = data["invite"].as_str().unwrap_or("").to_string();
    if !invite.is_empty() {
        match signup::invitation(ctx, &invite).await {
            Ok(Some(inv)) => {
                data["invitation"] = json!({
                    "email": inv.email,
                    "role_label": inv.role.label_zh(),
                    "organization": inv.organization.map(|o| o.1),
                    "event": inv.event.map(|e| e.1),
                });
            }
            Ok(None) => {
                return notice(
                    ctx,
                    caller,
                    StatusCode::GONE,
                    "邀请链接已失效",
                    "这个邀请链接无效、已使用或已过期。请联系邀请您的组织者重新发送，或直接注册。"
                        .into(),
                    false,
                );
            }
            Err(e) => return WebError::from(e).into_response(),
        }
    }
    data["kinds"] = super::options(KINDS);
    data["open"] = json!(ctx.settings.signup.open);
    visitor_page(status, ctx, caller, "register.html", "注册", data)
}

async fn register_page(State(ctx): State<App>, caller: Who, RawQuery(q): RawQuery) -> Response {
    if caller.user.is_some() {
        return Redirect::to("/account").into_response();
    }
    let invite = param(q.as_deref(), "invite").unwrap_or_default();
    register_form(
        &ctx,
        &caller,
        StatusCode::OK,
        json!({"invite": invite, "form": {}}),
    )
    .await
}

/// The sign-up form as the API's record: `organization` from its fields.
fn registration_record(form: &FormPairs) -> Record {
    let mut rec = Record::new();
    if let Some(invite) = form.get("invite") {
        rec.insert("invite".into(), json!(invite));
    } else {
        for k in ["email", "role"] {
            if let Some(v) = form.get(k) {
                rec.insert(k.into(), json!(v));
            }
        }
        let mut org = serde_json::Map::new();
        for (field, key) in [
            ("org_name", "name"),
            ("org_kind", "kind"),
            ("org_city", "city"),
            ("credit_code", "credit_code"),
        ] {
            if let Some(v) = form.get(field) {
                org.insert(key.into(), json!(v));
            }
        }
        if !org.is_empty() {
            rec.insert("organization".into(), Value::Object(org));
        }
    }
    if let Some(v) = form.get("name") {
        rec.insert("name".into(), json!(v));
    }
    rec.insert("password".into(), json!(form.raw("password")));
    rec
}

async fn register(State(ctx): State<App>, caller: Who, form: FormPairs) -> Response {
    let rec = registration_record(&form);
    let keep = json!({
        "email": form.get("email"), "name": form.get("name"), "role": form.get("role"),
        "org_name": form.get("org_name"), "org_kind": form.get("org_kind"),
        "org_city": form.get("org_city"), "credit_code": form.get("credit_code"),
    });
    let invite = form.get("invite").unwrap_or_default();
    if rec.get("password").and_then(Value::as_str) != Some(form.raw("password_confirm")) {
        let errors = json!({"password_confirm": "两次输入的密码不一致"});
        let summary = json!([{"field": "password_confirm", "message": "两次输入的密码不一致"}]);
        return register_form(
            &ctx,
            &caller,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"invite": invite, "form": keep, "errors": errors, "summary": summary}),
        )
        .await;
    }
    match signup::register(&ctx, &rec, caller.peer).await {
        Ok(Outcome::Pending(r)) => notice(
            &ctx,
            &caller,
            StatusCode::ACCEPTED,
            "请查收验证邮件",
            format!(
                "{} 打开邮件中的链接确认邮箱后，平台组织者会审核您的申请，结果将以邮件通知。没有收到？请检查垃圾邮件，或稍后重新注册。",
                zh(&r.message)
            ),
            true,
        ),
        Ok(Outcome::Active(u)) => notice(
            &ctx,
            &caller,
            StatusCode::CREATED,
            "注册成功",
            format!("账号 {} 已开通，现在可以登录了。", u.email),
            true,
        ),
        Err(AppError::Validation(f)) => {
            let (errors, summary) = form_errors(&f);
            register_form(
                &ctx,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"invite": invite, "form": keep, "errors": errors, "summary": summary}),
            )
            .await
        }
        Err(e) if e.status().is_client_error() => {
            register_form(
                &ctx,
                &caller,
                e.status(),
                json!({"invite": invite, "form": keep, "error": message_of(&e)}),
            )
            .await
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

/// Field errors by form field: the organisation's credit code has a field of its own, the
/// organisation's other fields share the organisation's.
fn form_errors(f: &duijie_domain::FieldErrors) -> (Value, Vec<Value>) {
    let mut renamed = f.clone();
    for e in &mut renamed.0 {
        if e.field == "organization.credit_code" {
            e.field = "credit_code".into();
        }
    }
    field_errors(&renamed)
}

async fn verify(State(ctx): State<App>, caller: Who, RawQuery(q): RawQuery) -> Response {
    let mut rec = Record::new();
    rec.insert(
        "token".into(),
        json!(param(q.as_deref(), "token").unwrap_or_default()),
    );
    match signup::verify(&ctx, &rec).await {
        Ok(u) => notice(
            &ctx,
            &caller,
            StatusCode::OK,
            "邮箱已确认",
            format!(
                "{} 的邮箱已确认。平台组织者审核通过后，您会收到通知邮件，届时即可登录。",
                u.email
            ),
            true,
        ),
        Err(e) if e.status().is_client_error() => notice(
            &ctx,
            &caller,
            e.status(),
            "无法确认邮箱",
            message_of(&e),
            false,
        ),
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn forgot_page(State(ctx): State<App>, caller: Who) -> Response {
    visitor_page(
        StatusCode::OK,
        &ctx,
        &caller,
        "forgot.html",
        "忘记密码",
        json!({}),
    )
}

async fn forgot(State(ctx): State<App>, caller: Who, form: FormPairs) -> Response {
    let mut rec = Record::new();
    if let Some(e) = form.get("email") {
        rec.insert("email".into(), json!(e));
    }
    match signup::request_reset(&ctx, &rec, caller.peer).await {
        Ok(r) => notice(
            &ctx,
            &caller,
            StatusCode::ACCEPTED,
            "请查收邮件",
            zh(&r.message).to_string(),
            true,
        ),
        Err(e) if e.status().is_client_error() => {
            let msg = match &e {
                AppError::Validation(f) => field_errors(f)
                    .1
                    .first()
                    .and_then(|v| v["message"].as_str().map(str::to_string))
                    .unwrap_or_default(),
                _ => message_of(&e),
            };
            visitor_page(
                e.status(),
                &ctx,
                &caller,
                "forgot.html",
                "忘记密码",
                json!({"error": msg, "email": form.get("email")}),
            )
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn reset_page(State(ctx): State<App>, caller: Who, RawQuery(q): RawQuery) -> Response {
    let token = param(q.as_deref(), "token").unwrap_or_default();
    visitor_page(
        StatusCode::OK,
        &ctx,
        &caller,
        "reset.html",
        "设置新密码",
        json!({"token": token}),
    )
}

async fn reset(State(ctx): State<App>, caller: Who, form: FormPairs) -> Response {
    let token = form.get("token").unwrap_or_default();
    let again = |status: StatusCode, error: String| {
        visitor_page(
            status,
            &ctx,
            &caller,
            "reset.html",
            "设置新密码",
            json!({"token": token, "error": error}),
        )
    };
    if form.raw("password") != form.raw("password_confirm") {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "两次输入的密码不一致".into(),
        );
    }
    let mut rec = Record::new();
    rec.insert("token".into(), json!(token));
    rec.insert("password".into(), json!(form.raw("password")));
    match signup::confirm_reset(&ctx, &rec).await {
        Ok(u) => {
            let mut r = notice(
                &ctx,
                &caller,
                StatusCode::OK,
                "密码已重设",
                format!(
                    "{} 的新密码已生效，所有设备上的登录都已退出。请用新密码登录。",
                    u.email
                ),
                true,
            );
            // this browser's session (if any) ended with the others
            r.headers_mut().append(
                header::SET_COOKIE,
                auth::session_cookie("", 0, caller.secure),
            );
            r
        }
        Err(AppError::Validation(f)) => {
            let msg = field_errors(&f)
                .1
                .iter()
                .filter_map(|v| v["message"].as_str())
                .collect::<Vec<_>>()
                .join("；");
            again(StatusCode::UNPROCESSABLE_ENTITY, msg)
        }
        Err(e) if e.status().is_client_error() => again(e.status(), message_of(&e)),
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn approvals(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let status = param(q.as_deref(), "status");
    let page = signup::applicants(&ctx, &caller, status.as_deref(), 100, 0).await?;
    let done = match param(q.as_deref(), "done").as_deref() {
        Some("approved") => Some("已通过，申请人已收到通知邮件。"),
        Some("rejected") => Some("已拒绝，申请人已收到附有原因的通知邮件。"),
        _ => None,
    };
    let data = json!({
        "applicants": page.items, "total": page.total,
        "status": status.unwrap_or_else(|| "pending_approval".into()),
        "notice": done, "error": param(q.as_deref(), "error"),
    });
    Ok(super::render(
        &ctx,
        &caller,
        "approvals.html",
        "approvals",
        "注册审核",
        data,
    )?
    .into_response())
}

/// Back to the queue with what went wrong, or the error page for a server problem.
fn approval_error(e: AppError) -> Result<Response, WebError> {
    if e.status().is_client_error() {
        let q = serde_urlencoded::to_string([("error", message_of(&e))]).unwrap_or_default();
        Ok(Redirect::to(&format!("/approvals?{q}")).into_response())
    } else {
        Err(e.into())
    }
}

async fn approve(
    State(ctx): State<App>,
    caller: Who,
    Path(id): Path<String>,
    _form: FormPairs,
) -> Result<Response, WebError> {
    let id = super::page_id(&id)?;
    match signup::approve(&ctx, &caller, id).await {
        Ok(_) => Ok(Redirect::to("/approvals?done=approved").into_response()),
        Err(e) => approval_error(e),
    }
}

async fn reject(
    State(ctx): State<App>,
    caller: Who,
    Path(id): Path<String>,
    form: FormPairs,
) -> Result<Response, WebError> {
    let id = super::page_id(&id)?;
    let mut rec = Record::new();
    if let Some(r) = form.get("reason") {
        rec.insert("reason".into(), json!(r));
    }
    match signup::reject(&ctx, &caller, id, &rec).await {
        Ok(_) => Ok(Redirect::to("/approvals?done=rejected").into_response()),
        Err(AppError::Validation(_)) => approval_error(AppError::bad_request(
            duijie_app::Code::MISSING_PARAMETER,
            "请填写拒绝原因，申请人会在通知邮件中看到",
            "give a reason; the applicant reads it in the mail",
        )),
        Err(e) => approval_error(e),
    }
}

struct Unsub {
    user: i64,
    category: String,
    sig: String,
}

fn unsub_params(q: Option<&str>) -> Option<Unsub> {
    Some(Unsub {
        user: param(q, "u")?.parse().ok()?,
        category: param(q, "c")?,
        sig: param(q, "s")?,
    })
}

async fn unsubscribe_page(State(ctx): State<App>, caller: Who, RawQuery(q): RawQuery) -> Response {
    let Some(u) = unsub_params(q.as_deref()) else {
        return notice(
            &ctx,
            &caller,
            StatusCode::BAD_REQUEST,
            "退订链接不完整",
            "请从邮件中完整复制退订链接，或登录后在账号设置中调整。".into(),
            false,
        );
    };
    visitor_page(
        StatusCode::OK,
        &ctx,
        &caller,
        "unsubscribe.html",
        "退订邮件",
        json!({"query": q.unwrap_or_default(), "label": duijie_app::mail::category_label(&u.category)}),
    )
}

/// One-click unsubscribe (RFC 8058): a mail client POSTs `List-Unsubscribe=One-Click` to the
/// link itself, without cookies, so the signed link is the only credential.
async fn unsubscribe(State(ctx): State<App>, caller: Who, RawQuery(q): RawQuery) -> Response {
    let result = match unsub_params(q.as_deref()) {
        Some(u) => duijie_app::mail::unsubscribe(&ctx, u.user, &u.category, &u.sig).await,
        None => Err(AppError::bad_request(
            duijie_app::Code::MISSING_PARAMETER,
            "退订链接不完整",
            "the unsubscribe link is incomplete",
        )),
    };
    match result {
        Ok(label) => notice(
            &ctx,
            &caller,
            StatusCode::OK,
            "已退订",
            format!("您将不再收到“{label}”类邮件。需要时可以登录后在账号设置中重新打开。"),
            true,
        ),
        Err(e) if e.status().is_client_error() => {
            notice(&ctx, &caller, e.status(), "无法退订", message_of(&e), false)
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn set_notifications(
    State(ctx): State<App>,
    caller: Who,
    form: FormPairs,
) -> Result<Response, WebError> {
    caller.require()?;
    let on: Vec<String> = form.all("category");
    let mut rec = Record::new();
    for (cat, _) in duijie_app::mail::CATEGORY_LABELS {
        rec.insert((*cat).into(), json!(on.iter().any(|c| c == cat)));
    }
    signup::set_notification_settings(&ctx, &caller, &rec).await?;
    Ok(Redirect::to("/account?done=notifications").into_response())
}
