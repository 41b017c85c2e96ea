//! Match alerts for signed-in users: subscribe, list, send a test, read the delivery log
//! (`/alerts`), and the in-app notifications (`/notifications`). The same service
//! functions as `/api/v1/alerts`.

use super::{FormPairs, WebError, field_errors, industry_options, page_id, render, render_status};
use crate::auth::{Caller, Who};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::alerts;
use serde_json::{Map, Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/alerts", get(page).post(subscribe))
        .route("/alerts/{id}", get(log_page))
        .route("/alerts/{id}/test", post(send_test))
        .route("/alerts/{id}/delete", post(delete))
        .route("/notifications", get(notifications))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(mark_read))
}

fn done(q: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v)
}

/// The page's data: subscriptions, the form's choices, the caller's own needs.
async fn page_data(ctx: &App, caller: &Caller, mut extra: Value) -> Result<Value, AppError> {
    let user = caller.require()?;
    let subs = alerts::list(ctx, caller, false).await?;
    extra["subscriptions"] = json!(subs);
    extra["kinds"] = super::options(alerts::KINDS);
    extra["industries"] = industry_options(ctx);
    extra["default_min_score"] = json!(ctx.settings.alerts.default_min_score);
    extra["unread"] = json!(alerts::unread(ctx, caller).await);
    if let Some(org) = user.organization_id {
        extra["own_needs"] = json!(
            duijie_app::listings::need_titles(ctx, org, 50)
                .await?
                .into_iter()
                .map(|(id, title)| json!({"id": id, "title": title}))
                .collect::<Vec<_>>()
        );
    }
    if extra.get("values").is_none() {
        extra["values"] = json!({});
    }
    Ok(extra)
}

async fn page(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let notice = match done(q.as_deref()).as_deref() {
        Some("deleted") => Some("订阅已删除。"),
        _ => None,
    };
    let data = page_data(&ctx, &caller, json!({"notice": notice})).await?;
    Ok(render(&ctx, &caller, "alerts.html", "alerts", "匹配提醒", data)?.into_response())
}

async fn subscribe(
    State(ctx): State<App>,
    caller: Who,
    form: FormPairs,
) -> Result<Response, WebError> {
    caller.require()?;
    let mut rec = Map::new();
    for k in ["kind", "need_id", "industry", "min_score", "webhook_url"] {
        if let Some(v) = form.get(k) {
            rec.insert(k.to_string(), json!(v));
        }
    }
    // the form shows every field; those of the other kind are ignored
    match form.get("kind").as_deref() {
        Some(alerts::KIND_NEED_MATCHES) => {
            rec.remove("industry");
        }
        Some(alerts::KIND_INDUSTRY_NEEDS) => {
            rec.remove("need_id");
            rec.remove("min_score");
        }
        _ => {}
    }
    let values = json!(rec.clone());
    match alerts::create(&ctx, &caller, &rec).await {
        Ok((s, secret)) => {
            let data = page_data(
                &ctx,
                &caller,
                json!({"created": {"id": s.id, "secret": secret}}),
            )
            .await?;
            let mut r =
                render(&ctx, &caller, "alerts.html", "alerts", "匹配提醒", data)?.into_response();
            // the page shows a secret: keep it out of caches and history
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(r)
        }
        Err(AppError::Validation(fe)) => {
            let (errors, summary) = field_errors(&fe);
            let data = page_data(
                &ctx,
                &caller,
                json!({"errors": errors, "error_summary": summary, "values": values}),
            )
            .await?;
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ctx,
                &caller,
                "alerts.html",
                "alerts",
                "匹配提醒",
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn log_page(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let id = page_id(&raw)?;
    let sub = alerts::owned(&ctx, &caller, id).await?;
    let log = alerts::deliveries(&ctx, &caller, id, 50).await?;
    let notice = match done(q.as_deref()).as_deref() {
        Some("test") => Some("测试提醒已排队发送，几秒后刷新本页查看结果。"),
        _ => None,
    };
    let refused = match done(q.as_deref()).as_deref() {
        Some("no_webhook") => Some("该订阅没有设置 Webhook 网址，无法发送测试。"),
        _ => None,
    };
    let data = json!({
        "sub": sub, "deliveries": log.items, "notice": notice, "refused": refused,
        "kinds": super::options(alerts::KINDS),
        "unread": alerts::unread(&ctx, &caller).await,
    });
    let title = format!("提醒 #{id} 的投递记录");
    Ok(render(&ctx, &caller, "alerts_log.html", "alerts", &title, data)?.into_response())
}

async fn send_test(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    _form: FormPairs,
) -> Result<Response, WebError> {
    let id = page_id(&raw)?;
    match alerts::send_test(&ctx, &caller, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/alerts/{id}?done=test")).into_response()),
        Err(AppError::BadRequest {
            code: Code::NO_WEBHOOK,
            ..
        }) => Ok(Redirect::to(&format!("/alerts/{id}?done=no_webhook")).into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    _form: FormPairs,
) -> Result<Response, WebError> {
    let id = page_id(&raw)?;
    alerts::delete(&ctx, &caller, id).await?;
    Ok(Redirect::to("/alerts?done=deleted").into_response())
}

async fn notifications(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
) -> Result<Response, WebError> {
    let Some(user) = &caller.user else {
        return Ok(super::to_login(&uri).into_response());
    };
    let _ = user;
    let n = alerts::notifications(&ctx, &caller, false, 100, 0).await?;
    let data = json!({"notifications": n.page.items, "total": n.page.total, "unread": n.unread});
    Ok(render(
        &ctx,
        &caller,
        "notifications.html",
        "notifications",
        "通知",
        data,
    )?
    .into_response())
}

async fn mark_read(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    _form: FormPairs,
) -> Result<Response, WebError> {
    let id = page_id(&raw)?;
    let n = alerts::mark_read(&ctx, &caller, id).await?;
    // open what it is about, or go back to the list
    let to = n
        .link
        .filter(|l| l.starts_with('/') && !l.starts_with("//"))
        .unwrap_or_else(|| "/notifications".into());
    Ok(Redirect::to(&to).into_response())
}

async fn read_all(
    State(ctx): State<App>,
    caller: Who,
    _form: FormPairs,
) -> Result<Response, WebError> {
    alerts::mark_all_read(&ctx, &caller).await?;
    Ok(Redirect::to("/notifications").into_response())
}
