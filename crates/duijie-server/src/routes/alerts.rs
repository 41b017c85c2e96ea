//! Match alert subscriptions, their delivery log, and the caller's in-app notifications.
//! Signed-in callers only; a caller sees and changes their own subscriptions
//! (administrators: everyone's).

use crate::auth::Who;
use crate::error::ApiError;
use crate::extract::{Id, JsonObject, Params};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::alerts;
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/alerts", get(list).post(create))
        .route("/alerts/{id}", get(read).delete(delete))
        .route("/alerts/{id}/test", post(send_test))
        .route("/alerts/{id}/deliveries", get(deliveries))
        .route("/notifications", get(notifications))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(mark_read))
}

async fn create(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (s, secret) = alerts::create(&ctx, &caller, &body).await?;
    let mut v = alerts::to_json(&s);
    // shown this once; the receiver verifies X-Duijie-Signature with it
    v["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(v)))
}

async fn list(State(ctx): State<App>, caller: Who, mut p: Params) -> Result<Json<Value>, ApiError> {
    let all = p.choice("all", &["true", "false"])?.as_deref() == Some("true");
    p.finish()?;
    let items = alerts::list(&ctx, &caller, all).await?;
    Ok(Json(json!({"items": items, "total": items.len()})))
}

async fn read(State(ctx): State<App>, caller: Who, Id(id): Id) -> Result<Json<Value>, ApiError> {
    Ok(Json(alerts::to_json(
        &alerts::owned(&ctx, &caller, id).await?,
    )))
}

async fn delete(State(ctx): State<App>, caller: Who, Id(id): Id) -> Result<StatusCode, ApiError> {
    alerts::delete(&ctx, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn send_test(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let d = alerts::send_test(&ctx, &caller, id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!(d))))
}

async fn deliveries(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let limit = p.int("limit", 50, 1, ctx.settings.server.max_page_size as i64)?;
    p.finish()?;
    Ok(Json(alerts::deliveries(&ctx, &caller, id, limit).await?))
}

async fn notifications(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let user = caller.require()?;
    let max = ctx.settings.server.max_page_size as i64;
    let limit = p.int("limit", 20, 1, max)?;
    let offset = p.int("offset", 0, 0, 1_000_000)?;
    let unread = p.choice("unread", &["true", "false"])?.as_deref() == Some("true");
    p.finish()?;
    let page = ctx
        .store
        .notifications(user.id, unread, limit, offset)
        .await?;
    let count = ctx.store.unread_notifications(user.id).await?;
    let mut v = json!(page);
    v["unread"] = json!(count);
    Ok(Json(v))
}

async fn mark_read(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    let user = caller.require()?;
    let n = ctx
        .store
        .mark_notification_read(user.id, id)
        .await
        .map_err(|e| match e {
            duijie_store::StoreError::NotFound { .. } => {
                ApiError::not_found("通知", "notification", id)
            }
            e => e.into(),
        })?;
    Ok(Json(json!(n)))
}

async fn read_all(State(ctx): State<App>, caller: Who) -> Result<Json<Value>, ApiError> {
    let user = caller.require()?;
    let n = ctx.store.mark_all_notifications_read(user.id).await?;
    Ok(Json(json!({"marked": n})))
}
