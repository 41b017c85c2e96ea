//! The ledger pages (台账: list with filters, an entry with its history and the form to
//! record what happened, filing a cooperation or an inter-university project, spreadsheet
//! import) and the public progress dashboard.

use super::console::{format_of, read_upload};
use super::{FormPairs, WebError, field_errors, page_id, pagination, render, render_status, zh};
use crate::auth::{Caller, Who};
use crate::error::HttpStatus;
use crate::extract::Params;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::authz::Action;
use duijie_app::import::Format;
use duijie_app::listings::ListFilter;
use duijie_app::{ledger, stats};
use duijie_domain::ledger::{ENTRY_KINDS, LEDGER_STATUSES, PROJECT_KINDS};
use duijie_domain::{Zone, vocab};
use serde_json::{Map, Value, json};

const PER_PAGE: i64 = 20;

pub fn router(ctx: App) -> Router<App> {
    let guard = axum::middleware::from_fn_with_state(
        (ctx, Action::ManageLedger, "ledger"),
        super::guard_pages,
    );
    let writes = Router::new()
        .route("/ledger/new", post(create))
        .route("/ledger/{id}/outcome", post(record))
        .route(
            "/ledger/import",
            post(import).layer(DefaultBodyLimit::max(16 << 20)),
        )
        .route_layer(guard);
    Router::new()
        .route("/ledger", get(list_page))
        .route("/ledger/{id}", get(entry_page))
        .route("/dashboard", get(dashboard))
        .merge(writes)
}

fn status_options() -> Value {
    LEDGER_STATUSES
        .iter()
        .map(|(c, l, _)| json!({"code": c, "label": l}))
        .collect()
}

/// Organisation names for the form's suggestions.
async fn org_names(ctx: &App, kind: &str) -> Result<Vec<String>, WebError> {
    let f = ListFilter {
        kind: Some(kind.into()),
        ..ListFilter::default()
    };
    let page = duijie_app::listings::organizations(ctx, &f, 1000, 0).await?;
    Ok(page.items.into_iter().map(|o| o.name).collect())
}

async fn list_data(
    ctx: &App,
    caller: &Caller,
    query: &str,
    extra: Value,
) -> Result<Value, WebError> {
    let mut p = Params::from_query(query)?;
    let page_no = p.int("page", 1, 1, 100_000)?;
    let filter = crate::routes::ledger::filter_from(ctx, &mut p)?;
    // the filters as they were given, to refill the form and build links
    let mut given = Map::new();
    for key in [
        "event",
        "zone",
        "city",
        "industry",
        "organization",
        "status",
        "kind",
        "from",
        "to",
    ] {
        if let Some(v) = p.str(key) {
            given.insert(key.into(), json!(v));
        }
    }
    p.finish()?;
    let offset = (page_no - 1) * PER_PAGE;
    let page = ledger::list(ctx, caller, filter, PER_PAGE, offset).await?;
    let qs = serde_urlencoded::to_string(
        given
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let base = if qs.is_empty() {
        "/ledger".to_string()
    } else {
        format!("/ledger?{qs}")
    };
    let sep = if qs.is_empty() { "" } else { "&" };
    let manages = ledger::sees_all(caller)
        && duijie_app::authz::authorize(ctx, caller, Action::ManageLedger)
            .await
            .is_ok();
    let mut data = json!({
        "entries": page.items,
        "total": page.total,
        "pager": pagination(&base, page.total as u64, PER_PAGE as u64, offset as u64),
        "filters": given,
        "export_xlsx": format!("/api/v1/ledger/export?format=xlsx{sep}{qs}"),
        "export_csv": format!("/api/v1/ledger/export?format=csv{sep}{qs}"),
        "statuses": status_options(),
        "kinds": super::options(ENTRY_KINDS),
        "project_kinds": super::options(PROJECT_KINDS),
        "industries": super::industry_options(ctx),
        "zones": Zone::ALL.iter().map(|z| json!({"code": z.code(), "label": z.label_zh()})).collect::<Vec<_>>(),
        "manages": manages,
        "sees_all": ledger::sees_all(caller),
        "new_values": {},
        "new_errors": {},
    });
    if manages {
        data["universities"] = json!(org_names(ctx, "university").await?);
        data["enterprises"] = json!(org_names(ctx, "enterprise").await?);
    }
    if let (Value::Object(d), Value::Object(x)) = (&mut data, extra) {
        d.extend(x);
    }
    Ok(data)
}

async fn list_page(
    State(ctx): State<App>,
    caller: Who,
    uri: axum::http::Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let data = list_data(&ctx, &caller, q.as_deref().unwrap_or(""), json!({})).await?;
    Ok(render(&ctx, &caller, "ledger.html", "ledger", "成效台账", data)?.into_response())
}

async fn entry_data(ctx: &App, caller: &Caller, id: i64, extra: Value) -> Result<Value, WebError> {
    let (entry, history) = ledger::entry(ctx, caller, id).await?;
    let next: Vec<Value> = entry
        .next_statuses
        .iter()
        .map(|c| json!({"code": c, "label": duijie_domain::ledger::status_label(c)}))
        .collect();
    let manages = duijie_app::authz::authorize(ctx, caller, Action::ManageLedger)
        .await
        .is_ok();
    let mut data = json!({
        "entry": entry,
        "history": history,
        "next": next,
        "modes": super::options(vocab::TRANSFER_MODES),
        "manages": manages,
        "today": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        "values": {},
        "errors": {},
    });
    if let (Value::Object(d), Value::Object(x)) = (&mut data, extra) {
        d.extend(x);
    }
    Ok(data)
}

async fn entry_page(
    State(ctx): State<App>,
    caller: Who,
    uri: axum::http::Uri,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = page_id(&raw)?;
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let notice = uri
        .query()
        .is_some_and(|q| q.contains("saved=1"))
        .then_some("已记录。");
    let data = entry_data(&ctx, &caller, id, json!({"notice": notice})).await?;
    let title = data["entry"]["title"]
        .as_str()
        .unwrap_or("台账记录")
        .to_string();
    Ok(render(&ctx, &caller, "ledger_entry.html", "ledger", &title, data)?.into_response())
}

/// Form fields → the API's outcome body.
fn outcome_body(form: &FormPairs) -> Map<String, Value> {
    let mut m = Map::new();
    for k in [
        "status",
        "date",
        "amount_yuan",
        "contract_date",
        "contract_mode",
        "reason",
        "note",
        "expected_status",
    ] {
        if let Some(v) = form.get(k) {
            let v = if k == "amount_yuan" {
                // 万元 in the form, yuan in the ledger
                match v.replace(',', "").parse::<f64>() {
                    Ok(w) if w.is_finite() => json!((w * 10_000.0).round() as i64),
                    _ => json!(v),
                }
            } else {
                json!(v)
            };
            m.insert(k.into(), v);
        }
    }
    m
}

async fn record(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    form: FormPairs,
) -> Result<Response, WebError> {
    let id = page_id(&raw)?;
    let body = outcome_body(&form);
    match ledger::record(&ctx, &caller, id, &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/ledger/{id}?saved=1")).into_response()),
        Err(e) => {
            let status = e.status();
            let (errors, summary, message) = match &e {
                AppError::Validation(f) => {
                    let (by, sum) = field_errors(f);
                    (by, sum, None)
                }
                other => (
                    json!({}),
                    vec![],
                    Some(zh(other.body()["error"]["message"].as_str().unwrap_or("")).to_string()),
                ),
            };
            if matches!(e, AppError::Internal(_) | AppError::Unavailable(_)) {
                return Err(e.into());
            }
            let values: Map<String, Value> = form
                .0
                .iter()
                .filter(|(k, _)| k != "csrf")
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            let data = entry_data(
                &ctx,
                &caller,
                id,
                json!({"errors": errors, "summary": summary, "error": message, "values": values}),
            )
            .await?;
            let title = data["entry"]["title"]
                .as_str()
                .unwrap_or("台账记录")
                .to_string();
            Ok(render_status(
                status,
                &ctx,
                &caller,
                "ledger_entry.html",
                "ledger",
                &title,
                data,
            ))
        }
    }
}

async fn create(
    State(ctx): State<App>,
    caller: Who,
    form: FormPairs,
) -> Result<Response, WebError> {
    let mut body = Map::new();
    for k in [
        "kind",
        "project_kind",
        "title",
        "industry",
        "year",
        "need_id",
        "result_id",
        "expert_id",
    ] {
        if let Some(v) = form.get(k) {
            body.insert(k.into(), json!(v));
        }
    }
    let mut unknown = duijie_domain::FieldErrors::default();
    for (field, key) in [
        ("enterprise", "enterprise_id"),
        ("university", "university_id"),
        ("partner_university", "partner_university_id"),
    ] {
        if let Some(name) = form.get(field) {
            match duijie_app::listings::organization_named(&ctx, &name).await? {
                Some(id) => {
                    body.insert(key.into(), json!(id));
                }
                None => unknown.push(
                    key,
                    "invalid_reference",
                    format!("没有名为“{name}”的单位，请填写全称或先登记该单位"),
                    format!("no organization named {name}"),
                ),
            }
        }
    }
    let outcome = if unknown.is_empty() {
        ledger::create(&ctx, &caller, &body).await
    } else {
        Err(AppError::Validation(unknown))
    };
    match outcome {
        Ok(e) => Ok(Redirect::to(&format!("/ledger/{}?saved=1", e.entry.id)).into_response()),
        Err(e @ (AppError::Internal(_) | AppError::Unavailable(_))) => Err(e.into()),
        Err(e) => {
            let status = e.status();
            let (errors, summary, message) = match &e {
                AppError::Validation(f) => {
                    let (mut by, sum) = field_errors(f);
                    // API field names → form field names
                    if let Value::Object(m) = &mut by {
                        for (api, web) in [
                            ("enterprise_id", "enterprise"),
                            ("university_id", "university"),
                            ("partner_university_id", "partner_university"),
                        ] {
                            if let Some(v) = m.remove(api) {
                                m.insert(web.into(), v);
                            }
                        }
                    }
                    (by, sum, None)
                }
                other => (
                    json!({}),
                    vec![],
                    Some(zh(other.body()["error"]["message"].as_str().unwrap_or("")).to_string()),
                ),
            };
            let values: Map<String, Value> = form
                .0
                .iter()
                .filter(|(k, _)| k != "csrf")
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            let data = list_data(
                &ctx,
                &caller,
                "",
                json!({"new_errors": errors, "new_summary": summary, "new_error": message, "new_values": values, "open_new": true}),
            )
            .await?;
            Ok(render_status(
                status,
                &ctx,
                &caller,
                "ledger.html",
                "ledger",
                "成效台账",
                data,
            ))
        }
    }
}

async fn import(
    State(ctx): State<App>,
    caller: Who,
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let result = async {
        let m = m.map_err(|e| {
            AppError::bad_request(
                Code::INVALID_UPLOAD,
                format!("上传格式错误：{}", e.body_text()),
                format!("invalid upload: {}", e.body_text()),
            )
        })?;
        let up = read_upload(&caller, m).await?;
        let format = match format_of(&up)? {
            Format::Jsonl => {
                return Err(AppError::UnsupportedMediaType(
                    "台账请用 CSV 或 XLSX 上传 / the ledger is imported from CSV or XLSX".into(),
                ));
            }
            f => f,
        };
        let bytes = up.bytes;
        let rows = {
            let limits = duijie_app::sheet::SheetLimits::of(&ctx.settings);
            tokio::task::spawn_blocking(move || {
                duijie_app::events::read_table(format, &bytes, &limits)
            })
        }
        .await??;
        ledger::import(&ctx, &caller, rows).await
    }
    .await;
    let (status, report) = match result {
        Ok(r) => (
            if r.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            },
            json!({
                "created": r.created, "updated": r.updated, "unchanged": r.unchanged,
                "errors": r.errors.iter().map(|e| json!({"line": e.line, "message": zh(&e.message)})).collect::<Vec<_>>(),
            }),
        ),
        Err(e @ (AppError::Internal(_) | AppError::Unavailable(_))) => return Err(e.into()),
        Err(e) => (
            e.status(),
            json!({"fatal": zh(e.body()["error"]["message"].as_str().unwrap_or(""))}),
        ),
    };
    let data = list_data(&ctx, &caller, "", json!({"import": report})).await?;
    Ok(render_status(
        status,
        &ctx,
        &caller,
        "ledger.html",
        "ledger",
        "成效台账",
        data,
    ))
}

async fn dashboard(
    State(ctx): State<App>,
    caller: Who,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    let mut p = Params::from_query(q.as_deref().unwrap_or(""))?;
    let year = p.str("year");
    p.finish()?;
    let s = crate::routes::ledger::compute(&ctx, year.as_deref()).await?;
    let heat_rows: Vec<Value> = s
        .heat
        .rows
        .iter()
        .zip(&s.heat.cells)
        .map(|((_, label), cells)| {
            json!({
                "label": label,
                "cells": cells.iter().map(|v| json!({"v": v, "level": stats::heat_level(*v, s.heat.max)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let this_year: i64 = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2026);
    let funnel = if caller
        .role()
        .is_some_and(duijie_domain::Role::keeps_programme)
    {
        let from = year.as_deref().map(|y| format!("{y}-01-01"));
        Some(duijie_app::connections::funnel(&ctx, &caller, from.as_deref()).await?)
    } else {
        None
    };
    let funnel_svg = funnel.as_ref().map(|f| stats::funnel_svg(&f.overall));
    let data = json!({
        "stats": s,
        "funnel": funnel,
        "funnel_svg": funnel_svg,
        "progress_svg": stats::progress_svg(&s),
        "trend_svg": stats::trend_svg(&s),
        "contract_value": stats::yuan(s.contract_value_yuan),
        "heat_columns": s.heat.columns.iter().map(|(_, l)| l).collect::<Vec<_>>(),
        "heat_rows": heat_rows,
        "cities": s.by_city.iter().take(15).map(|g| json!({"label": g.label, "met": g.met, "contracts": g.contracts, "value": stats::yuan(g.contract_value_yuan), "transferred": g.transferred})).collect::<Vec<_>>(),
        "industries": s.by_industry.iter().take(15).map(|g| json!({"label": g.label, "met": g.met, "contracts": g.contracts, "value": stats::yuan(g.contract_value_yuan), "transferred": g.transferred})).collect::<Vec<_>>(),
        "zones": s.by_zone.iter().map(|g| json!({"label": g.label, "met": g.met, "contracts": g.contracts, "value": stats::yuan(g.contract_value_yuan), "transferred": g.transferred})).collect::<Vec<_>>(),
        "year": year,
        "years": (2023..=this_year).rev().collect::<Vec<_>>(),
    });
    Ok(render(
        &ctx,
        &caller,
        "dashboard.html",
        "dashboard",
        "进展看板",
        data,
    )?
    .into_response())
}
