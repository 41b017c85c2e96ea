//! Taking part in an event over the API, for the participants themselves: registration
//! (and the organisers' decisions on it), the catalogue of the other side, their own wishes,
//! their agenda with confirm and decline, and its calendar file. Publishing and attendance
//! are organiser writes and live with the event routes.

use crate::auth::Who;
use crate::error::ApiError;
use crate::extract::{Id, Ids, JsonBody, JsonObject, MaybeObject, Params};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use duijie_app::events;
use duijie_app::{App, Code};
use duijie_domain::RegistrationStatus;
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/events/{id}/registrations",
            get(registrations).post(register),
        )
        .route("/events/{id}/registrations/{rid}/approve", post(approve))
        .route("/events/{id}/registrations/{rid}/reject", post(reject))
        .route("/events/{id}/catalogue", get(catalogue))
        .route("/events/{id}/wishes", get(wishes).put(put_wishes))
        .route("/events/{id}/my-agenda", get(my_agenda))
        .route("/events/{id}/my-agenda.ics", get(my_agenda_ics))
        .route("/events/{id}/my-agenda/{pid}/confirm", post(confirm))
        .route("/events/{id}/my-agenda/{pid}/decline", post(decline))
        .route("/events/{id}/my-agenda/{pid}/feedback", post(feedback))
}

async fn register(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (r, _) = events::register(&ctx, &caller, id, &body).await?;
    Ok((StatusCode::CREATED, Json(json!(r))))
}

async fn registrations(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let codes: Vec<&str> = RegistrationStatus::ALL.iter().map(|s| s.code()).collect();
    let status = p
        .choice("status", &codes)?
        .and_then(|s| RegistrationStatus::parse(&s));
    p.finish()?;
    let items = events::registrations(&ctx, &caller, id, status).await?;
    Ok(Json(json!({"items": items, "total": items.len()})))
}

async fn approve(
    State(ctx): State<App>,
    caller: Who,
    Ids(id, rid): Ids,
    MaybeObject(body): MaybeObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        events::decide_registration(&ctx, &caller, id, rid, true, &body).await?
    )))
}

async fn reject(
    State(ctx): State<App>,
    caller: Who,
    Ids(id, rid): Ids,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        events::decide_registration(&ctx, &caller, id, rid, false, &body).await?
    )))
}

async fn catalogue(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let limit = p.int("limit", 20, 1, ctx.settings.server.max_page_size as i64)?;
    let offset = p.int("offset", 0, 0, 1_000_000)?;
    let industry = match p.str("industry") {
        Some(i) => Some(ctx.vocab.resolve_industry(&i).ok_or_else(|| {
            ApiError::bad_request(
                Code::INVALID_PARAMETER,
                format!("行业“{i}”不在行业目录中"),
                format!("industry '{i}' is not in the vocabulary"),
            )
        })?),
        None => None,
    };
    let city = p.str("city").filter(|c| !c.trim().is_empty());
    p.finish()?;
    Ok(Json(json!(
        events::catalogue(&ctx, &caller, id, industry, city, limit, offset).await?
    )))
}

async fn wishes(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    Ok(Json(json!(events::wishes(&ctx, &caller, id).await?)))
}

async fn put_wishes(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        events::put_wishes(&ctx, &caller, id, &body).await?
    )))
}

fn organization(p: &mut Params) -> Result<Option<i64>, ApiError> {
    Ok(match p.str("organization_id") {
        None => None,
        Some(_) => Some(p.int("organization_id", 1, 1, i64::MAX)?),
    })
}

async fn my_agenda(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    mut p: Params,
) -> Result<Json<Value>, ApiError> {
    let org = organization(&mut p)?;
    p.finish()?;
    Ok(Json(json!(
        events::my_agenda(&ctx, &caller, id, org).await?
    )))
}

async fn my_agenda_ics(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    mut p: Params,
) -> Result<Response, ApiError> {
    let org = organization(&mut p)?;
    p.finish()?;
    let ics = events::my_agenda_ics(&ctx, &caller, id, org).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"agenda.ics\"",
            ),
        ],
        ics,
    )
        .into_response())
}

async fn confirm(
    State(ctx): State<App>,
    caller: Who,
    Ids(id, pid): Ids,
    MaybeObject(body): MaybeObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        events::answer_meeting(&ctx, &caller, id, pid, true, &body).await?
    )))
}

async fn decline(
    State(ctx): State<App>,
    caller: Who,
    Ids(id, pid): Ids,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        events::answer_meeting(&ctx, &caller, id, pid, false, &body).await?
    )))
}

async fn feedback(
    State(ctx): State<App>,
    caller: Who,
    Ids(id, pid): Ids,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let a = events::meeting_feedback(&ctx, &caller, id, pid, &body).await?;
    Ok(Json(
        json!({"pairing_id": pid, "attendance": a, "attendance_label": a.label_zh()}),
    ))
}
