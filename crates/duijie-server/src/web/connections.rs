//! Connection requests on the site: the inbox (`/connections`: received, sent, archived;
//! `/broker` for brokers), one request with its answer forms, a new request from a listing
//! or a proposed match, and the one-tap meeting question from the mail (no sign-in).

use super::{FormPairs, WebError, field_errors, page_id, render, render_status};
use crate::auth::{Caller, Who};
use crate::error::HttpStatus;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use duijie_app::connections::{self, InboxBox};
use duijie_app::{App, AppError};
use duijie_domain::ListingKind;
use duijie_domain::connection::DeclineReason;
use duijie_domain::input::Record;
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/connections", get(inbox))
        .route("/broker", get(broker))
        .route("/connections/new", get(new_page).post(send))
        .route("/connections/{id}", get(detail).post(step))
        .route(
            "/connections/{id}/feedback",
            get(feedback_page).post(feedback_tap),
        )
}

fn zh_message(e: &AppError) -> String {
    super::zh(e.body()["error"]["message"].as_str().unwrap_or("")).to_string()
}

fn query(q: Option<&str>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(q.unwrap_or("")).unwrap_or_default()
}

fn param(q: &[(String, String)], k: &str) -> Option<String> {
    q.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone())
}

async fn inbox_page(
    ctx: &App,
    caller: &Caller,
    b: InboxBox,
    name: &str,
) -> Result<Response, WebError> {
    let page = connections::list(ctx, caller, b, None, 100, 0).await?;
    let title = if b == InboxBox::Broker {
        "我的经纪案件"
    } else {
        "对接申请"
    };
    Ok(render(
        ctx,
        caller,
        "connections.html",
        "connections",
        title,
        json!({"box": name, "page": page}),
    )?
    .into_response())
}

async fn inbox(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let q = query(q.as_deref());
    let name = param(&q, "box").unwrap_or_else(|| "received".into());
    let b = InboxBox::parse(&name).unwrap_or(InboxBox::Received);
    inbox_page(&ctx, &caller, b, &name).await
}

async fn broker(State(ctx): State<App>, caller: Who, uri: Uri) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    inbox_page(&ctx, &caller, InboxBox::Broker, "broker").await
}

/// The caller's own listings that can ask about a listing of `kind`.
async fn own_options(
    ctx: &App,
    caller: &Caller,
    to_kind: ListingKind,
) -> Result<Vec<Value>, AppError> {
    let Some(org) = caller.user.as_ref().and_then(|u| u.organization_id) else {
        return Ok(Vec::new());
    };
    let kinds: &[ListingKind] = match to_kind {
        ListingKind::Need => &[ListingKind::Result, ListingKind::Expert],
        _ => &[ListingKind::Need],
    };
    let f = duijie_app::listings::ListFilter {
        organization_id: Some(org),
        ..Default::default()
    };
    let mut out = Vec::new();
    for k in kinds {
        let page = duijie_app::listings::list(
            ctx,
            duijie_app::listings::Entity::Listing(*k),
            &f,
            100,
            0,
            caller.viewer(),
        )
        .await?;
        for it in page["items"].as_array().cloned().unwrap_or_default() {
            let title = it["title"]
                .as_str()
                .or(it["name"].as_str())
                .unwrap_or("")
                .to_string();
            out.push(json!({"value": format!("{}:{}", k.code(), it["id"]), "label": format!("{}：{title}", k.label_zh())}));
        }
    }
    Ok(out)
}

async fn new_data(
    ctx: &App,
    caller: &Caller,
    to: &str,
    from: Option<&str>,
    extra: Value,
) -> Result<Value, AppError> {
    let (kind, id) = to
        .split_once(':')
        .and_then(|(k, i)| Some((ListingKind::parse(k)?, i.parse::<i64>().ok()?)))
        .ok_or_else(|| AppError::NotFound("没有这一项 / no such listing".into()))?;
    let item =
        duijie_app::listings::get(ctx, duijie_app::listings::Entity::Listing(kind), id, caller)
            .await?;
    let mut data = extra;
    data["to"] = json!(to);
    data["from"] = json!(from);
    data["target"] = item;
    data["target_kind"] = json!(kind.code());
    data["own"] = json!(own_options(ctx, caller, kind).await?);
    if data.get("errors").is_none() {
        data["errors"] = json!({});
    }
    Ok(data)
}

async fn new_page(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let q = query(q.as_deref());
    let to = param(&q, "to").unwrap_or_default();
    let data = new_data(&ctx, &caller, &to, param(&q, "from").as_deref(), json!({})).await?;
    Ok(render(
        &ctx,
        &caller,
        "connection_new.html",
        "connections",
        "申请对接",
        data,
    )?
    .into_response())
}

async fn send(State(ctx): State<App>, caller: Who, form: FormPairs) -> Result<Response, WebError> {
    caller.require()?;
    let to = form.get("to").unwrap_or_default();
    let from = form.get("from");
    let mut rec = Record::new();
    rec.insert("to_listing_id".into(), json!(to));
    if let Some(f) = &from {
        rec.insert("from_listing_id".into(), json!(f));
    }
    if let Some(n) = form.get("note") {
        rec.insert("note".into(), json!(n));
    }
    match connections::create(&ctx, &caller, &rec).await {
        Ok(c) => Ok(
            Redirect::to(&format!("/connections/{}?done=sent", c.connection.id)).into_response(),
        ),
        Err(
            e @ (AppError::Validation(_)
            | AppError::Conflict { .. }
            | AppError::TooManyRequests(_)
            | AppError::Forbidden { .. }),
        ) => {
            let (errors, summary) = match &e {
                AppError::Validation(fe) => field_errors(fe),
                other => (json!({}), vec![json!(zh_message(other))]),
            };
            let data = new_data(
                &ctx,
                &caller,
                &to,
                from.as_deref(),
                json!({"errors": errors, "summary": summary, "note": form.get("note")}),
            )
            .await?;
            Ok(render_status(
                e.status(),
                &ctx,
                &caller,
                "connection_new.html",
                "connections",
                "申请对接",
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn detail_data(ctx: &App, caller: &Caller, id: i64, extra: Value) -> Result<Value, AppError> {
    let d = connections::get(ctx, caller, id).await?;
    let mut data = extra;
    if d.view.actions.contains(&"assign") {
        data["colleagues"] = json!(
            connections::colleagues(ctx, caller, id)
                .await?
                .into_iter()
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect::<Vec<_>>()
        );
    }
    data["c"] = json!(d);
    data["reasons"] = super::options(DeclineReason::TABLE);
    data["answers"] = super::options(connections::ANSWERS);
    data["modes"] = super::options(duijie_domain::vocab::TRANSFER_MODES);
    Ok(data)
}

async fn detail(
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
    let notice = match param(&query(q.as_deref()), "done").as_deref() {
        Some("sent") => Some("对接申请已发出，对方答复后您会收到邮件和站内通知。"),
        Some("accepted") => Some("已接受。双方现在可以看到彼此的联系方式。"),
        Some("declined") => Some("已谢绝，对方会收到通知。"),
        Some("proposed") => Some("已提议新的会谈时间，等待对方答复。"),
        Some("withdrawn") => Some("已撤回。"),
        Some("feedback") => Some("感谢反馈！"),
        Some("outcome") => Some("合作进展已登记。"),
        Some("assigned") => Some("已转交。"),
        Some("broker") => Some("已指派技术经纪人。"),
        _ => None,
    };
    let data = detail_data(&ctx, &caller, id, json!({"notice": notice})).await?;
    Ok(render(
        &ctx,
        &caller,
        "connection.html",
        "connections",
        "对接申请",
        data,
    )?
    .into_response())
}

/// The answer forms post here with `action` = accept, decline, propose, withdraw, assign,
/// broker, feedback or outcome.
async fn step(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    form: FormPairs,
) -> Result<Response, WebError> {
    caller.require()?;
    let id = page_id(&raw)?;
    let action = form.get("action").unwrap_or_default();
    let mut rec = Record::new();
    let meeting = |form: &FormPairs| {
        let start = form.get("start");
        let end = form.get("end").or_else(|| {
            // a start and a duration in minutes, as the form offers
            let s = duijie_domain::connection::parse_time(&form.get("start")?)?;
            let mins: i64 = form.get("minutes")?.parse().ok()?;
            Some(
                (s + chrono::Duration::minutes(mins))
                    .format("%Y-%m-%dT%H:%M")
                    .to_string(),
            )
        });
        let mut m = serde_json::Map::new();
        if let Some(s) = start {
            m.insert("start".into(), json!(s));
        }
        if let Some(e) = end {
            m.insert("end".into(), json!(e));
        }
        if let Some(p) = form.get("place") {
            m.insert("place".into(), json!(p));
        }
        if let Some(u) = form.get("online_url") {
            m.insert("online_url".into(), json!(u));
        }
        (!m.is_empty()).then_some(Value::Object(m))
    };
    for k in [
        "message",
        "reason",
        "note",
        "user_id",
        "broker_id",
        "answer",
        "status",
        "amount_yuan",
        "contract_date",
        "contract_mode",
        "registration_no",
        "date",
    ] {
        if let Some(v) = form.get(k) {
            let v = match k {
                "user_id" | "broker_id" | "amount_yuan" => {
                    v.parse::<i64>().map(Value::from).unwrap_or(json!(v))
                }
                _ => json!(v),
            };
            rec.insert(k.into(), v);
        }
    }
    if matches!(action.as_str(), "accept" | "propose")
        && let Some(m) = meeting(&form)
    {
        rec.insert("meeting".into(), m);
    }
    let result = match action.as_str() {
        "accept" => connections::accept(&ctx, &caller, id, &rec)
            .await
            .map(|_| "accepted"),
        "decline" => connections::decline(&ctx, &caller, id, &rec)
            .await
            .map(|_| "declined"),
        "propose" => connections::propose(&ctx, &caller, id, &rec)
            .await
            .map(|_| "proposed"),
        "withdraw" => connections::withdraw(&ctx, &caller, id, &rec)
            .await
            .map(|_| "withdrawn"),
        "assign" => connections::assign(&ctx, &caller, id, &rec)
            .await
            .map(|_| "assigned"),
        "broker" => connections::set_broker(&ctx, &caller, id, &rec)
            .await
            .map(|_| "broker"),
        "feedback" => connections::feedback(&ctx, &caller, id, &rec)
            .await
            .map(|_| "feedback"),
        "outcome" => connections::outcome(&ctx, &caller, id, &rec)
            .await
            .map(|_| "outcome"),
        _ => Err(AppError::bad_request(
            duijie_app::Code::INVALID_PARAMETER,
            "未知操作",
            "unknown action",
        )),
    };
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/connections/{id}?done={done}")).into_response()),
        Err(e)
            if e.status().is_client_error()
                && !matches!(e, AppError::NotFound(_) | AppError::Unauthorized { .. }) =>
        {
            let (errors, summary) = match &e {
                AppError::Validation(fe) => field_errors(fe),
                other => (json!({}), vec![json!(zh_message(other))]),
            };
            let data = detail_data(
                &ctx,
                &caller,
                id,
                json!({"errors": errors, "summary": summary, "failed": action, "values": json!(rec)}),
            )
            .await?;
            Ok(render_status(
                e.status(),
                &ctx,
                &caller,
                "connection.html",
                "connections",
                "对接申请",
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

struct Tap {
    user: i64,
    answer: String,
    sig: String,
}

fn tap_params(q: Option<&str>) -> Option<Tap> {
    let q = query(q);
    Some(Tap {
        user: param(&q, "u")?.parse().ok()?,
        answer: param(&q, "a")?,
        sig: param(&q, "s")?,
    })
}

/// The link in the mail opens a page with the chosen answer and one button: mail scanners
/// that open links never answer for anyone.
async fn feedback_page(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let label = tap_params(q.as_deref())
        .and_then(|t| {
            connections::ANSWERS
                .iter()
                .find(|(c, _)| *c == t.answer)
                .map(|(_, l)| *l)
        })
        .filter(|_| page_id(&raw).is_ok());
    let action = format!("/connections/{raw}/feedback?{}", q.unwrap_or_default());
    super::tap_page(&ctx, &caller, "connections", label, action)
}

/// The tap itself: the signed link is the only credential (no cookie, no CSRF token).
async fn feedback_tap(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let result = match (page_id(&raw), tap_params(q.as_deref())) {
        (Ok(id), Some(t)) => {
            connections::feedback_signed(&ctx, id, t.user, &t.answer, &t.sig).await
        }
        _ => Err(AppError::bad_request(
            duijie_app::Code::MISSING_PARAMETER,
            "链接不完整",
            "the link is incomplete",
        )),
    };
    super::tap_outcome(&ctx, &caller, "connections", result)
}
