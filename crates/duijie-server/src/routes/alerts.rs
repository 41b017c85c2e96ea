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
    let created = alerts::SubscriptionCreated {
        subscription: s,
        secret,
    };
    Ok((StatusCode::CREATED, Json(json!(created))))
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
    Ok(Json(json!(
        alerts::deliveries(&ctx, &caller, id, limit).await?
    )))
}

async fn notifications(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let max = ctx.settings.server.max_page_size as i64;
    let limit = p.int("limit", 20, 1, max)?;
    let offset = p.int("offset", 0, 0, 1_000_000)?;
    let unread = p.choice("unread", &["true", "false"])?.as_deref() == Some("true");
    p.finish()?;
    Ok(Json(json!(
        alerts::notifications(&ctx, &caller, unread, limit, offset).await?
    )))
}

async fn mark_read(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(alerts::mark_read(&ctx, &caller, id).await?)))
}

async fn read_all(State(ctx): State<App>, caller: Who) -> Result<Json<Value>, ApiError> {
    let n = alerts::mark_all_read(&ctx, &caller).await?;
    Ok(Json(json!({"marked": n})))
}
