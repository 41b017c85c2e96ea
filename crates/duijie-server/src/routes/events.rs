//! Matchmaking events: `/events` CRUD, participants (and their import), preferences,
//! pairing generation and edits, the schedule and its exports.

use crate::auth::Who;
use crate::error::ApiError;
use crate::extract::{Id, Ids, JsonObject, Params};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::events::EventFilter;
use duijie_app::events::{self, STATUSES};
use duijie_app::export;
use duijie_domain::{EventFormat, EventStatus};
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/events", get(list).post(create))
        .route("/events/{id}", get(read).patch(update).delete(remove))
        .route(
            "/events/{id}/participants",
            get(participants).post(add_participant),
        )
        .route(
            "/events/{id}/participants:import",
            post(import_participants),
        )
        .route(
            "/events/{id}/participants/{pid}",
            delete(remove_participant),
        )
        .route(
            "/events/{id}/preferences",
            get(preferences).post(set_preference),
        )
        .route("/events/{id}/preferences/{pid}", delete(delete_preference))
        .route("/events/{id}/pairings:generate", post(generate))
        .route("/events/{id}/pairings:swap-tables", post(swap_tables))
        .route("/events/{id}/pairings", get(pairings).post(add_pairing))
        .route(
            "/events/{id}/pairings/{pid}",
            patch(patch_pairing).delete(delete_pairing),
        )
        .route("/events/{id}/pairings/{pid}/attendance", post(attendance))
        .route("/events/{id}/schedule", get(schedule))
        .route("/events/{id}/schedule:publish", post(publish))
        .route("/events/{id}/export.xlsx", get(export_xlsx))
        .route("/events/{id}/export.csv", get(export_csv))
        .route("/events/{id}/agenda.html", get(agenda_html))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    Ok(serde_json::to_value(v).map_err(|e| AppError::Internal(e.to_string()))?)
}

async fn list(State(ctx): State<App>, caller: Who, mut p: Params) -> Result<Json<Value>, ApiError> {
    let max = ctx.settings.server.max_page_size as i64;
    let limit = p.int("limit", 20, 1, max)?;
    let offset = p.int("offset", 0, 0, 1_000_000)?;
    let statuses: Vec<&str> = STATUSES.iter().map(|(c, _)| *c).collect();
    let formats: Vec<&str> = events::FORMATS.iter().map(|(c, _)| *c).collect();
    let f = EventFilter {
        status: p
            .choice("status", &statuses)?
            .and_then(|s| EventStatus::parse(&s)),
        format: p
            .choice("format", &formats)?
            .and_then(|f| EventFormat::parse(&f)),
        announced_only: false,
    };
    p.finish()?;
    Ok(Json(to_json(
        &events::list_for(&ctx, &caller, f, limit, offset).await?,
    )?))
}

async fn create(
    State(ctx): State<App>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let e = events::create(&ctx, &body).await?;
    Ok((StatusCode::CREATED, Json(events::event_json(&e))))
}

async fn read(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    Ok(Json(events::event_json(
        &events::load_for(&ctx, &caller, id).await?,
    )))
}

async fn update(
    State(ctx): State<App>,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    events::load(&ctx, id).await?;
    Ok(Json(events::event_json(
        &events::patch(&ctx, id, body).await?,
    )))
}

async fn remove(State(ctx): State<App>, Id(id): Id) -> Result<StatusCode, ApiError> {
    events::delete(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn participants(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let items = events::participants_for(&ctx, &caller, id).await?;
    Ok(Json(
        json!({"items": to_json(&items)?, "total": items.len()}),
    ))
}

async fn add_participant(
    State(ctx): State<App>,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (p, created) = events::add_participant(&ctx, id, &body).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(to_json(&p)?),
    ))
}

async fn import_participants(
    State(ctx): State<App>,
    Id(id): Id,
    p: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    p.finish()?;
    events::load(&ctx, id).await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = duijie_app::import::Format::from_content_type(ct).ok_or_else(|| {
        AppError::UnsupportedMediaType(format!(
            "不支持的内容类型“{ct}”，请使用 text/csv 或 XLSX / unsupported Content-Type '{ct}': use text/csv (header row) or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ))
    })?;
    let bytes = axum::body::to_bytes(body, ctx.settings.server.max_json_bytes)
        .await
        .map_err(|e| {
            ApiError::bad_request(
                Code::READ_FAILED,
                format!("读取上传内容失败或内容过大：{e}"),
                format!("could not read the upload or it is too large: {e}"),
            )
        })?;
    let rows = {
        let limits = duijie_app::sheet::SheetLimits::of(&ctx.settings);
        tokio::task::spawn_blocking(move || events::read_table(format, &bytes, &limits)).await??
    };
    let summary = events::import_participants(&ctx, id, rows).await?;
    let mut body = to_json(&summary)?;
    let status = if summary.failed == 0 {
        StatusCode::OK
    } else {
        let kept = summary.imported + summary.updated;
        body["error"] = json!({
            "code": duijie_app::Code::IMPORT_ROWS_FAILED.code,
            "message": format!("{} 行导入失败，其余 {kept} 家单位已保存，详见 errors / {} rows failed, the other {kept} organizations were saved; see errors", summary.failed, summary.failed),
        });
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(body)).into_response())
}

async fn remove_participant(
    State(ctx): State<App>,
    Ids(id, pid): Ids,
) -> Result<StatusCode, ApiError> {
    events::remove_participant(&ctx, id, pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn preferences(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let items = events::preferences_for(&ctx, &caller, id).await?;
    Ok(Json(
        json!({"items": to_json(&items)?, "total": items.len()}),
    ))
}

async fn set_preference(
    State(ctx): State<App>,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (p, created) = events::set_preference(&ctx, id, &body).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(to_json(&p)?),
    ))
}

async fn delete_preference(
    State(ctx): State<App>,
    Ids(id, pid): Ids,
) -> Result<StatusCode, ApiError> {
    events::delete_preference(&ctx, id, pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn generate(State(ctx): State<App>, Id(id): Id, p: Params) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    Ok(Json(to_json(&events::generate(&ctx, id).await?)?))
}

async fn pairings(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let e = events::load_for(&ctx, &caller, id).await?;
    Ok(Json(to_json(
        &events::pairing_view_for(&ctx, &caller, &e).await?,
    )?))
}

async fn add_pairing(
    State(ctx): State<App>,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let m = events::add_pairing(&ctx, id, &body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&m)?)))
}

async fn patch_pairing(
    State(ctx): State<App>,
    Ids(id, pid): Ids,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    Ok(match events::patch_pairing(&ctx, id, pid, &body).await? {
        Some(m) => Json(to_json(&m)?).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn delete_pairing(State(ctx): State<App>, Ids(id, pid): Ids) -> Result<StatusCode, ApiError> {
    events::edit(&ctx, id, events::EditRequest::Remove { id: pid }).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn swap_tables(
    State(ctx): State<App>,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(to_json(&events::swap_tables(&ctx, id, &body).await?)?))
}

async fn schedule(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let e = events::load_for(&ctx, &caller, id).await?;
    let s = events::schedule(&ctx, &e).await?;
    if events::sees_working_data(&ctx, &caller, &e).await? {
        Ok(Json(to_json(&s.body())?))
    } else {
        // everyone else: the public programme (no scores, no reasons)
        Ok(Json(to_json(&s.public())?))
    }
}

async fn load_schedule(
    ctx: &App,
    caller: &Who,
    id: i64,
    p: Params,
) -> Result<events::ScheduleView, ApiError> {
    p.finish()?;
    let e = events::load_for(ctx, caller, id).await?;
    events::require_working_data(ctx, caller, &e).await?;
    Ok(events::schedule(ctx, &e).await?)
}

fn download(content_type: &'static str, disposition: Option<String>, body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Some(d) = disposition.and_then(|d| header::HeaderValue::from_str(&d).ok()) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, d);
    }
    r
}

async fn export_xlsx(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Response, ApiError> {
    let s = load_schedule(&ctx, &caller, id, p).await?;
    let name = s.event.name.clone();
    let bytes = tokio::task::spawn_blocking(move || export::xlsx(&s)).await??;
    Ok(download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some(export::content_disposition(id, &name, "对接安排.xlsx")),
        bytes,
    ))
}

async fn export_csv(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Response, ApiError> {
    let s = load_schedule(&ctx, &caller, id, p).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        Some(export::content_disposition(
            id,
            &s.event.name,
            "对接清单.csv",
        )),
        export::csv(&s)?,
    ))
}

async fn agenda_html(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Response, ApiError> {
    let s = load_schedule(&ctx, &caller, id, p).await?;
    Ok(download(
        "text/html; charset=utf-8",
        None,
        export::agenda_html(&s).into_bytes(),
    ))
}

async fn publish(State(ctx): State<App>, Id(id): Id) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(events::publish(&ctx, id).await?)))
}

async fn attendance(
    State(ctx): State<App>,
    caller: Who,
    Ids(id, pid): Ids,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        events::set_attendance(&ctx, &caller, id, pid, &body).await?
    )))
}
