//! Taking part in an event on the site: the public event page with its programme and a
//! register button, the participant's page (the other side ranked for it, wish buttons,
//! quotas left and the deadline), "我的日程" with confirm and decline, the reasons for
//! unmet wishes and the calendar download, and the help pages for each role.

use super::{FormPairs, WebError, page_id, render, render_status};
use crate::auth::{Caller, Who};
use crate::error::HttpStatus;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use duijie_app::events;
use duijie_app::{App, AppError};
use duijie_domain::input::Record;
use duijie_domain::{EventStatus, RegistrationMode};
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/participate/{id}", get(event_page).post(event_post))
        .route(
            "/participate/{id}/agenda",
            get(agenda_page).post(agenda_post),
        )
        .route("/participate/{id}/agenda.ics", get(agenda_ics))
        .route(
            "/participate/{id}/feedback",
            get(feedback_page).post(feedback_tap),
        )
        .route("/help", get(help_index))
        .route("/help/{role}", get(help_role))
}

fn message_zh(e: &AppError) -> String {
    match e {
        AppError::Validation(f) => {
            f.0.iter()
                .map(|fe| super::zh(&fe.message).to_string())
                .collect::<Vec<_>>()
                .join("；")
        }
        other => super::zh(other.body()["error"]["message"].as_str().unwrap_or("")).to_string(),
    }
}

fn done_param(q: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v)
}

fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "registered" => "报名成功，贵单位已成为参会方。现在可以浏览对方项目并提交会谈意向。",
        "pending" => "报名已提交，等待组织者审核；审核结果会通过邮件通知您。",
        "wish" => "会谈意向已保存。",
        "confirmed" => "已确认这场会谈；重新排期时它会保留在原时段和桌位。",
        "declined" => "已谢绝这场会谈，组织者不会再安排这一对。",
        _ => return None,
    })
}

/// What the event page shows the caller: the programme, its own registration, and for a
/// participant the ranked catalogue with its wishes.
async fn event_data(
    ctx: &App,
    caller: &Caller,
    id: i64,
    mut data: Value,
) -> Result<Value, AppError> {
    let e = events::load_for(ctx, caller, id).await?;
    let s = &e.self_service;
    data["event"] = events::event_json(&e);
    data["registration_label"] = json!(s.registration.label_zh());
    data["registration_open"] =
        json!(e.status == EventStatus::Open && s.registration != RegistrationMode::Closed);
    data["participants_count"] = json!(events::participant_list(ctx, id).await?.len());
    if data.get("errors").is_none() {
        data["errors"] = json!({});
    }
    let Some(user) = caller.user.as_ref() else {
        return Ok(data);
    };
    let Some(org) = user.organization_id else {
        return Ok(data);
    };
    let regs = events::registrations(ctx, caller, id, None).await?;
    data["registration"] = json!(regs.iter().find(|r| r.registration.organization_id == org));
    let participating = events::participant_list(ctx, id)
        .await?
        .into_iter()
        .any(|p| p.organization_id == org);
    data["participating"] = json!(participating);
    if participating {
        let cat = events::catalogue(ctx, caller, id, None, None, 100, 0).await?;
        data["must_left"] = json!((cat.wishes.max_must - cat.wishes.must_used).max(0));
        data["like_left"] = json!((cat.wishes.max_like - cat.wishes.like_used).max(0));
        data["catalogue"] = json!(cat);
    } else {
        // the listings the organisation could bring
        let mut own = Vec::new();
        for kind in duijie_domain::ListingKind::ALL.iter().copied() {
            let f = duijie_app::listings::ListFilter {
                organization_id: Some(org),
                ..Default::default()
            };
            let page = duijie_app::listings::list(
                ctx,
                duijie_app::listings::Entity::Listing(kind),
                &f,
                100,
                0,
                caller.viewer(),
            )
            .await?;
            for it in page["items"].as_array().cloned().unwrap_or_default() {
                if it["status"].as_str().is_some_and(|s| s != "published") {
                    continue;
                }
                let title = it["title"].as_str().or(it["name"].as_str()).unwrap_or("");
                own.push(json!({"value": format!("{}:{}", kind.code(), it["id"]), "label": format!("{}：{title}", kind.label_zh())}));
            }
        }
        data["own"] = json!(own);
    }
    Ok(data)
}

async fn event_page(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    let id = page_id(&raw)?;
    let data = event_data(
        &ctx,
        &caller,
        id,
        json!({"notice": notice(done_param(q.as_deref()).as_deref())}),
    )
    .await?;
    let title = data["event"]["name"]
        .as_str()
        .unwrap_or("对接会")
        .to_string();
    Ok(render(&ctx, &caller, "participate.html", "events", &title, data)?.into_response())
}

/// The forms of the event page: `action` = register (with `listing_ids`) or wish (with
/// `listing_id`, `partner_listing_id` and `kind` = must, like, no or clear).
async fn event_post(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    Path(raw): Path<String>,
    form: FormPairs,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let id = page_id(&raw)?;
    let outcome = match form.get("action").as_deref() {
        Some("register") => {
            let mut rec = Record::new();
            rec.insert("listing_ids".into(), json!(form.all("listing_ids")));
            events::register(&ctx, &caller, id, &rec)
                .await
                .map(|(_, approved)| if approved { "registered" } else { "pending" })
        }
        Some("wish") => wish(&ctx, &caller, id, &form).await.map(|_| "wish"),
        _ => Err(AppError::bad_request(
            duijie_app::Code::MISSING_PARAMETER,
            "未知操作",
            "unknown action",
        )),
    };
    match outcome {
        Ok(code) => Ok(Redirect::to(&format!("/participate/{id}?done={code}")).into_response()),
        Err(e) if e.status().is_client_error() && !matches!(e, AppError::NotFound(_)) => {
            let data = event_data(&ctx, &caller, id, json!({"refused": message_zh(&e)})).await?;
            let title = data["event"]["name"]
                .as_str()
                .unwrap_or("对接会")
                .to_string();
            Ok(render_status(
                e.status(),
                &ctx,
                &caller,
                "participate.html",
                "events",
                &title,
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes one wish: the current set with this pair replaced (or removed for `clear`).
async fn wish(ctx: &App, caller: &Caller, id: i64, form: &FormPairs) -> Result<(), AppError> {
    let mine = form.get("listing_id").unwrap_or_default();
    let theirs = form.get("partner_listing_id").unwrap_or_default();
    let kind = form.get("kind").unwrap_or_default();
    let current = events::wishes(ctx, caller, id).await?;
    let mut set: Vec<Value> = current
        .wishes
        .iter()
        .filter(|w| !(w.listing_id == mine && w.partner_listing_id == theirs))
        .map(|w| json!({"listing_id": w.listing_id, "partner_listing_id": w.partner_listing_id, "kind": w.kind}))
        .collect();
    if kind != "clear" {
        set.push(json!({"listing_id": mine, "partner_listing_id": theirs, "kind": kind}));
    }
    events::put_wishes(ctx, caller, id, &Value::Array(set))
        .await
        .map(|_| ())
}

async fn agenda_data(
    ctx: &App,
    caller: &Caller,
    id: i64,
    mut data: Value,
) -> Result<Value, AppError> {
    let e = events::load_for(ctx, caller, id).await?;
    data["event"] = events::event_json(&e);
    data["agenda"] = json!(events::my_agenda(ctx, caller, id, None).await?);
    Ok(data)
}

async fn agenda_page(
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
    let data = agenda_data(
        &ctx,
        &caller,
        id,
        json!({"notice": notice(done_param(q.as_deref()).as_deref())}),
    )
    .await?;
    Ok(render(&ctx, &caller, "my_agenda.html", "events", "我的日程", data)?.into_response())
}

/// `action` = confirm or decline (with `reason`) for `pairing_id`.
async fn agenda_post(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    Path(raw): Path<String>,
    form: FormPairs,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let id = page_id(&raw)?;
    let pid = form
        .get("pairing_id")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0);
    let confirm = form.get("action").as_deref() == Some("confirm");
    let mut rec = Record::new();
    if let Some(r) = form.get("reason") {
        rec.insert("reason".into(), json!(r));
    }
    match events::answer_meeting(&ctx, &caller, id, pid, confirm, &rec).await {
        Ok(_) => {
            let code = if confirm { "confirmed" } else { "declined" };
            Ok(Redirect::to(&format!("/participate/{id}/agenda?done={code}")).into_response())
        }
        Err(e) if e.status().is_client_error() && !matches!(e, AppError::NotFound(_)) => {
            let data = agenda_data(&ctx, &caller, id, json!({"refused": message_zh(&e)})).await?;
            Ok(render_status(
                e.status(),
                &ctx,
                &caller,
                "my_agenda.html",
                "events",
                "我的日程",
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn agenda_ics(
    State(ctx): State<App>,
    caller: Who,
    uri: Uri,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    let id = page_id(&raw)?;
    let ics = events::my_agenda_ics(&ctx, &caller, id, None).await?;
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

/// The roles the help pages are written for.
const HELP_ROLES: &[(&str, &str)] = &[
    ("enterprise", "企业"),
    ("researcher", "高校科研人员与技术转移机构"),
    ("organizer", "组织者"),
];

async fn help_index(State(ctx): State<App>, caller: Who) -> Result<Response, WebError> {
    Ok(render(
        &ctx,
        &caller,
        "help.html",
        "help",
        "使用帮助",
        json!({"roles": super::options(HELP_ROLES), "role": null}),
    )?
    .into_response())
}

async fn help_role(
    State(ctx): State<App>,
    caller: Who,
    Path(role): Path<String>,
) -> Result<Response, WebError> {
    let Some((code, label)) = HELP_ROLES.iter().find(|(c, _)| *c == role) else {
        return Err(AppError::NotFound("没有这个帮助页面 / no such help page".into()).into());
    };
    Ok(render(
        &ctx,
        &caller,
        "help.html",
        "help",
        &format!("使用帮助：{label}"),
        json!({"roles": super::options(HELP_ROLES), "role": code}),
    )?
    .into_response())
}

/// `m`, `u`, `a` and `s` of a one-tap link.
fn tap(q: Option<&str>) -> Option<(String, i64, String, String)> {
    let q: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or("")).ok()?;
    let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    Some((get("m")?, get("u")?.parse().ok()?, get("a")?, get("s")?))
}

/// The link in the mail opens a page with the chosen answer and one button.
async fn feedback_page(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let label = tap(q.as_deref())
        .and_then(|t| {
            events::FEEDBACK_ANSWERS
                .iter()
                .find(|(c, _)| *c == t.2)
                .map(|(_, l)| *l)
        })
        .filter(|_| page_id(&raw).is_ok());
    let action = format!("/participate/{raw}/feedback?{}", q.unwrap_or_default());
    super::tap_page(&ctx, &caller, "events", label, action)
}

/// The tap itself: the signed link is the only credential (no cookie, no CSRF token).
async fn feedback_tap(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let result = match (page_id(&raw), tap(q.as_deref())) {
        (Ok(id), Some((m, u, a, s))) => events::feedback_signed(&ctx, id, &m, u, &a, &s).await,
        _ => Err(AppError::bad_request(
            duijie_app::Code::MISSING_PARAMETER,
            "链接不完整",
            "the link is incomplete",
        )),
    };
    super::tap_outcome(&ctx, &caller, "events", result)
}
