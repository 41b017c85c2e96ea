//! The outcomes ledger and the programme statistics over the API.

use crate::auth::{Caller, Who};
use crate::error::ApiError;
use crate::extract::{Id, JsonObject, Params};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::authz::{self, Action};
use duijie_app::ledger::LedgerFilter;
use duijie_app::{ledger, stats};
use duijie_domain::ledger::{self as rules, ENTRY_KINDS};
use duijie_domain::{Zone, geo};
use serde_json::json;

pub fn router() -> Router<App> {
    Router::new()
        .route("/ledger", get(list).post(create))
        .route("/ledger/export", get(export))
        .route("/ledger/import", post(import))
        .route("/ledger/{id}", get(entry))
        .route("/ledger/{id}/outcomes", post(record))
        .route("/ledger/{id}/broker", post(broker))
        .route("/stats", get(statistics))
}

/// `GET /ledger?event=&zone=&city=&industry=&organization=&status=&kind=&from=&to=&limit=&offset=`
async fn list(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    let max = ctx.settings.server.max_page_size;
    let limit = p.int("limit", 20, 1, max as i64)?;
    let offset = p.int("offset", 0, 0, 1_000_000)?;
    let filter = filter_from(&ctx, &mut p)?;
    p.finish()?;
    let page = ledger::list(&ctx, &caller, filter, limit, offset).await?;
    Ok(Json(json!(page)))
}

async fn create(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let e = ledger::create(&ctx, &caller, &body).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/ledger/{}", e.entry.id))],
        Json(json!(e)),
    )
        .into_response())
}

async fn entry(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    p: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    p.finish()?;
    let (e, history) = ledger::entry(&ctx, &caller, id).await?;
    let mut v = json!(e);
    v["history"] = json!(history);
    Ok(Json(v))
}

/// `POST /ledger/{id}/outcomes {status, date?, amount_yuan?, contract_date?, contract_mode?,
/// reason?, note?, expected_status?}`
async fn record(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!(ledger::record(&ctx, &caller, id, &body).await?)))
}

/// `POST /ledger/{id}/broker {broker_id}` (`null` clears it)
async fn broker(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    JsonObject(body): JsonObject,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!(
        ledger::set_broker(&ctx, &caller, id, &body).await?
    )))
}

/// `GET /ledger/export?format=xlsx|csv&...filters`
async fn export(State(ctx): State<App>, caller: Who, mut p: Params) -> Result<Response, ApiError> {
    let format = p
        .choice("format", &["xlsx", "csv"])?
        .unwrap_or_else(|| "xlsx".into());
    let filter = filter_from(&ctx, &mut p)?;
    p.finish()?;
    export_response(&ctx, &caller, filter, &format).await
}

/// The download shared by the API and the page.
pub async fn export_response(
    ctx: &App,
    caller: &Caller,
    filter: LedgerFilter,
    format: &str,
) -> Result<Response, ApiError> {
    let entries = ledger::all(ctx, caller, filter).await?;
    let ctx2 = ctx.clone();
    let csv = format == "csv";
    let bytes = tokio::task::spawn_blocking(move || {
        if csv {
            ledger::csv(&ctx2, &entries)
        } else {
            ledger::xlsx(&ctx2, &entries)
        }
    })
    .await??;
    let (ct, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    };
    let date = chrono::Utc::now().format("%Y%m%d");
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"ledger-{date}.{ext}\"; filename*=UTF-8''%E5%8F%B0%E8%B4%A6-{date}.{ext}"
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /ledger/import` with a CSV (text/csv) or XLSX body in the export's columns.
async fn import(
    State(ctx): State<App>,
    caller: Who,
    p: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    p.finish()?;
    authz::authorize(&ctx, &caller, Action::ManageLedger).await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = match duijie_app::import::Format::from_content_type(ct) {
        Some(f @ (duijie_app::import::Format::Csv { .. } | duijie_app::import::Format::Xlsx)) => f,
        _ => {
            return Err(AppError::UnsupportedMediaType(format!(
                "不支持的内容类型“{ct}”，台账请用 CSV（text/csv）或 XLSX 上传 / unsupported Content-Type '{ct}': upload the ledger as text/csv or XLSX"
            ))
            .into());
        }
    };
    let bytes = axum::body::to_bytes(body, ctx.settings.server.max_json_bytes.max(8 << 20))
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
        tokio::task::spawn_blocking(move || duijie_app::events::read_table(format, &bytes, &limits))
    }
    .await??;
    let report = ledger::import(&ctx, &caller, rows).await?;
    let status = if report.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(json!(report))).into_response())
}

/// `GET /stats?year=`: progress toward the programme's targets, by zone, city, industry and
/// month, computed from the ledger. Public: aggregates only.
async fn statistics(
    State(ctx): State<App>,
    mut p: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    let year = p.str("year");
    p.finish()?;
    Ok(Json(json!(compute(&ctx, year.as_deref()).await?)))
}

/// The statistics of the whole ledger, or of one year.
pub async fn compute(ctx: &App, year: Option<&str>) -> Result<stats::Stats, ApiError> {
    let year = match year {
        None => None,
        Some(y) => Some(
            y.parse::<i64>()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        Code::INVALID_PARAMETER,
                        format!("参数 year 应为 2000 到 2100 之间的年份，收到“{y}”"),
                        format!("parameter year must be a year from 2000 to 2100, got '{y}'"),
                    )
                })?,
        ),
    };
    Ok(stats::programme(ctx, year).await?)
}

/// Reads the list filters from query parameters (shared by the API, the page and exports).
pub(crate) fn filter_from(ctx: &App, p: &mut Params) -> Result<LedgerFilter, ApiError> {
    let bad = |name: &str, v: &str| {
        ApiError::bad_request(
            Code::INVALID_PARAMETER,
            format!("参数 {name} 的值“{v}”无效"),
            format!("invalid value '{v}' for parameter {name}"),
        )
    };
    let mut f = LedgerFilter {
        event_id: match p.str("event") {
            Some(s) => Some(
                s.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("event", &s))?,
            ),
            None => None,
        },
        organization_id: match p.str("organization") {
            Some(s) => Some(
                s.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("organization", &s))?,
            ),
            None => None,
        },
        ..LedgerFilter::default()
    };
    let statuses: Vec<&str> = rules::LEDGER_STATUSES.iter().map(|(c, _, _)| *c).collect();
    f.status = p.choice("status", &statuses)?;
    let kinds: Vec<&str> = ENTRY_KINDS.iter().map(|(c, _)| *c).collect();
    f.kind = p.choice("kind", &kinds)?;
    if let Some(i) = p.str("industry") {
        f.industry = Some(
            ctx.vocab
                .resolve_industry(&i)
                .ok_or_else(|| bad("industry", &i))?,
        );
    }
    let zone = p.str("zone");
    let city = p.str("city");
    match (zone, city) {
        (Some(z), c) => {
            let zone = Zone::parse(&z).ok_or_else(|| bad("zone", &z))?;
            let mut cities: Vec<String> = geo::LIAONING_CITIES
                .iter()
                .filter(|c| geo::zones_of_city(c).contains(&zone))
                .map(|c| c.to_string())
                .collect();
            if let Some(c) = c {
                let c = geo::normalize_city(&c);
                cities.retain(|x| *x == c);
            }
            f.cities = Some(cities);
        }
        (None, Some(c)) => f.cities = Some(vec![geo::normalize_city(&c)]),
        (None, None) => {}
    }
    for (key, slot) in [("from", &mut f.from), ("to", &mut f.to)] {
        if let Some(d) = p.str(key) {
            if !rules::valid_date(&d) {
                return Err(ApiError::bad_request(
                    Code::INVALID_PARAMETER,
                    format!("参数 {key} 应为 YYYY-MM-DD 日期，收到“{d}”"),
                    format!("parameter {key} must be a YYYY-MM-DD date, got '{d}'"),
                ));
            }
            *slot = Some(d);
        }
    }
    Ok(f)
}
