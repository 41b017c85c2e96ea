//! Connection requests over the API: send, list, read, answer (accept, decline, propose),
//! withdraw, hand on, assign a broker, the meeting's calendar file, the meeting question,
//! outcomes, the funnel and an organisation's responsiveness.

use crate::auth::Who;
use crate::error::ApiError;
use crate::extract::{Id, JsonObject, Params};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::connections::{self, InboxBox};
use duijie_domain::connection::ConnectionStatus;
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/connections", get(list).post(create))
        .route("/connections/funnel", get(funnel))
        .route("/connections/{id}", get(one))
        .route("/connections/{id}/accept", post(accept))
        .route("/connections/{id}/decline", post(decline))
        .route("/connections/{id}/propose", post(propose))
        .route("/connections/{id}/withdraw", post(withdraw))
        .route("/connections/{id}/assign", post(assign))
        .route("/connections/{id}/broker", post(broker))
        .route("/connections/{id}/feedback", post(feedback))
        .route("/connections/{id}/outcome", post(outcome))
        .route("/connections/{id}/meeting.ics", get(ics))
        .route("/organizations/{id}/responsiveness", get(responsiveness))
}

async fn create(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, [(header::HeaderName, String); 1], Json<Value>), ApiError> {
    let c = connections::create(&ctx, &caller, &body).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/connections/{}", c.connection.id),
        )],
        Json(json!(c)),
    ))
}

async fn list(State(ctx): State<App>, caller: Who, mut p: Params) -> Result<Json<Value>, ApiError> {
    let inbox = p
        .choice("box", &["sent", "received", "archived", "broker", "all"])?
        .and_then(|b| InboxBox::parse(&b))
        .unwrap_or(InboxBox::Received);
    let codes: Vec<&str> = ConnectionStatus::ALL.iter().map(|s| s.code()).collect();
    let status = p
        .choice("status", &codes)?
        .and_then(|s| ConnectionStatus::parse(&s));
    let limit = p.int("limit", 20, 1, ctx.settings.server.max_page_size as i64)?;
    let offset = p.int("offset", 0, 0, i64::MAX / 2)?;
    p.finish()?;
    Ok(Json(json!(
        connections::list(&ctx, &caller, inbox, status, limit, offset).await?
    )))
}

async fn one(State(ctx): State<App>, caller: Who, Id(id): Id) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(connections::get(&ctx, &caller, id).await?)))
}

macro_rules! step {
    ($name:ident, $f:path) => {
        async fn $name(
            State(ctx): State<App>,
            caller: Who,
            Id(id): Id,
            JsonObject(body): JsonObject,
        ) -> Result<Json<Value>, ApiError> {
            Ok(Json(json!($f(&ctx, &caller, id, &body).await?)))
        }
    };
}

step!(accept, connections::accept);
step!(decline, connections::decline);
step!(propose, connections::propose);
step!(withdraw, connections::withdraw);
step!(assign, connections::assign);
step!(broker, connections::set_broker);
step!(feedback, connections::feedback);
step!(outcome, connections::outcome);

async fn ics(State(ctx): State<App>, caller: Who, Id(id): Id) -> Result<Response, ApiError> {
    let body = connections::ics(&ctx, &caller, id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"connection-{id}.ics\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn funnel(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let from = p.str("from");
    if let Some(f) = &from
        && !duijie_domain::ledger::valid_date(f)
    {
        return Err(duijie_app::AppError::bad_request(
            duijie_app::codes::Code::INVALID_DATE,
            format!("from 应为 YYYY-MM-DD 日期，收到“{f}”"),
            format!("from must be a YYYY-MM-DD date, got '{f}'"),
        )
        .into());
    }
    p.finish()?;
    Ok(Json(json!(
        connections::funnel(&ctx, &caller, from.as_deref()).await?
    )))
}

async fn responsiveness(State(ctx): State<App>, Id(id): Id) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(connections::responsiveness(&ctx, id).await?)))
}
