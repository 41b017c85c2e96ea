//! The organiser's pages: the list of events and a console per event (participants,
//! preferences, pairing, the schedule grid with edits, exports), and the bulk import page.
//! Every action is a plain form post handled by the same services as the JSON API; a
//! refused action shows the page again with the reason.

use super::{FormPairs, WebError, industry_options, options, render, render_status, zh};
use crate::auth::{Caller, Who};
use crate::error::HttpStatus;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::authz::Action;
use duijie_app::events;
use duijie_app::import::{self, Format, Source};
use duijie_app::invite::{invite_by_theme, org_listings};
use duijie_app::listings::Entity;
use duijie_app::listings::ListFilter;
use duijie_domain::{ListingKind, vocab};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Largest upload accepted by the import forms.
const MAX_UPLOAD: usize = 64 << 20;

pub fn router(ctx: App) -> Router<App> {
    let guard = |action, entity| {
        axum::middleware::from_fn_with_state((ctx.clone(), action, entity), super::guard_pages)
    };
    let console = Router::new()
        .route("/events/{id}", get(event_page))
        .route("/events/{id}/{action}", post(event_action))
        .route(
            "/events/{id}/participants/{pid}/remove",
            post(remove_participant),
        )
        .route(
            "/events/{id}/preferences/{pid}/remove",
            post(remove_preference),
        )
        .route("/events/{id}/pairings/{pid}/move", post(move_pairing))
        .route("/events/{id}/pairings/{pid}/remove", post(remove_pairing))
        .route(
            "/events/{id}/import",
            post(import_participants).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route_layer(guard(Action::ManageEvents, "event"));
    let import = Router::new()
        .route(
            "/import",
            get(import_page)
                .post(import_upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route_layer(guard(Action::Import, "import"));
    Router::new()
        .route("/events", get(list_events).post(create_event))
        .merge(console)
        .merge(import)
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

const EVENT_FIELDS: &[&str] = &[
    "name",
    "format",
    "date",
    "venue",
    "description",
    "start_time",
    "slot_minutes",
    "slot_count",
    "table_count",
    "max_per_enterprise",
    "max_per_result",
    "max_per_expert",
];

async fn events_page(ctx: &App, caller: &Who, mut extra: Value) -> Result<Value, AppError> {
    // drafts only for those who keep the programme
    let page = events::list_for(ctx, caller, Default::default(), 100, 0).await?;
    extra["events"] = json!(page.items);
    extra["total"] = json!(page.total);
    extra["formats"] = options(events::FORMATS);
    extra["industries"] = industry_options(ctx);
    Ok(extra)
}

async fn list_events(State(ctx): State<App>, caller: Who) -> Result<Html<String>, WebError> {
    let data = events_page(&ctx, &caller, json!({"values": {"format": "fair", "start_time": "09:00", "slot_minutes": 20, "slot_count": 6, "table_count": 10, "max_per_enterprise": 3, "max_per_result": 3, "max_per_expert": 3}})).await?;
    render(&ctx, &caller, "events.html", "events", "对接会", data)
}

async fn create_event(
    State(ctx): State<App>,
    caller: Who,
    uri: axum::http::Uri,
    form: FormPairs,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    duijie_app::authz::authorize(&ctx, &caller, Action::ManageEvents).await?;
    let mut rec = Map::new();
    let mut values = Map::new();
    for f in EVENT_FIELDS {
        values.insert(f.to_string(), json!(form.get(f).unwrap_or_default()));
        if let Some(v) = form.get(f) {
            rec.insert(f.to_string(), json!(v));
        }
    }
    let themes = form.all("themes");
    values.insert("themes".into(), json!(themes));
    if !themes.is_empty() {
        rec.insert("themes".into(), json!(themes));
    }
    let asked = Value::Object(rec.clone());
    let created = duijie_app::audit::within(
        &ctx,
        &caller,
        "create",
        "event",
        None,
        None,
        Some(&asked),
        events::create(&ctx, &rec),
    )
    .await;
    match created {
        Ok(e) => Ok(Redirect::to(&format!("/events/{}?done=created", e.id)).into_response()),
        Err(AppError::Validation(e)) => {
            let (errors, summary) = super::field_errors(&e);
            let data = events_page(
                &ctx,
                &caller,
                json!({"values": values, "errors": errors, "error_summary": summary}),
            )
            .await?;
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ctx,
                &caller,
                "events.html",
                "events",
                "对接会",
                data,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Messages for `?done=` after a successful action (fixed texts: nothing from the address
/// is shown).
fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "对接会已创建。下一步：添加参会单位。",
        "participant" => "参会单位已添加。",
        "invited" => "已按主题邀请参会单位。",
        "removed" => "已移除。",
        "preference" => "意向已保存。",
        "generated" => "对接安排已生成。",
        "moved" => "会谈已调整。",
        "status" => "状态已更新。",
        "imported" => "参会单位已导入。",
        "self-service" => "报名与意向设置已保存。",
        "decided" => "报名已审核，报名人会收到邮件。",
        "published" => "日程已发布：每个参会单位的成员都会收到日程邮件和日历文件。",
        "attendance" => "会谈情况已登记。",
        _ => return None,
    })
}

async fn event_page(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Html<String>, WebError> {
    let id = super::page_id(&raw)?;
    let mut extra = json!({});
    if let Some(code) =
        serde_urlencoded::from_str::<Vec<(String, String)>>(q.as_deref().unwrap_or(""))
            .unwrap_or_default()
            .into_iter()
            .find(|(k, _)| k == "done")
            .and_then(|(_, v)| done_message(&v))
    {
        extra["notice"] = json!(code);
    }
    let data = event_data(&ctx, id, extra).await?;
    let title = data["event"]["name"]
        .as_str()
        .unwrap_or("对接会")
        .to_string();
    render(&ctx, &caller, "event.html", "events", &title, data)
}

/// Everything the console shows.
async fn event_data(ctx: &App, id: i64, mut extra: Value) -> Result<Value, AppError> {
    let e = events::load(ctx, id).await?;
    let participants = events::participant_list(ctx, id).await?;
    let prefs = events::preferences(ctx, id).await?;
    let schedule = events::schedule(ctx, &e).await?;
    let in_event: BTreeSet<i64> = participants.iter().map(|p| p.organization_id).collect();
    let orgs = duijie_app::listings::organizations(ctx, &ListFilter::default(), 1000, 0).await?;
    let candidates: Vec<Value> = orgs
        .items
        .iter()
        .filter(|o| !in_event.contains(&o.id))
        .map(|o| json!({"id": o.id, "name": o.name, "kind": o.kind}))
        .collect();
    let mut needs = Vec::new();
    let mut partners = Vec::new();
    for p in &participants {
        for l in &p.listings {
            let label = format!(
                "{}｜{}",
                p.organization_name,
                l.title.clone().unwrap_or_else(|| "（已删除）".into())
            );
            match l.kind {
                ListingKind::Need => needs.push(json!({"id": l.id, "label": label})),
                k => partners.push(json!({"value": format!("{}:{}", k.code(), l.id), "label": format!("{}：{label}", k.label_zh())})),
            }
        }
    }
    let slots: Vec<Value> = schedule
        .pairing
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"slot": i, "label": format!("第 {} 场 {}–{}", i + 1, s.start, s.end)}))
        .collect();
    let n_enterprises = participants
        .iter()
        .filter(|p| p.listings.iter().any(|l| l.kind == ListingKind::Need))
        .count();
    extra["event"] = events::event_json(&e);
    extra["participants"] = serde_json::to_value(&participants).unwrap_or_default();
    extra["n_enterprises"] = json!(n_enterprises);
    extra["n_partners"] = json!(participants.len() - n_enterprises);
    extra["preferences"] = serde_json::to_value(&prefs).unwrap_or_default();
    extra["grid"] = serde_json::to_value(&schedule.grid).unwrap_or_default();
    extra["pairing"] = serde_json::to_value(&schedule.pairing).unwrap_or_default();
    extra["candidates"] = json!(candidates);
    extra["needs"] = json!(needs);
    extra["partners"] = json!(partners);
    extra["slots"] = json!(slots);
    extra["sides"] = options(events::SIDES);
    extra["prefs_options"] = options(events::PREFERENCES);
    extra["statuses"] = options(events::STATUSES);
    extra["registration_modes"] = options(duijie_domain::RegistrationMode::TABLE);
    let organiser = duijie_app::Caller::local("console");
    let registrations = events::registrations(ctx, &organiser, id, None).await?;
    extra["pending_registrations"] = json!(
        registrations
            .iter()
            .filter(|r| r.registration.status == duijie_domain::RegistrationStatus::Pending)
            .collect::<Vec<_>>()
    );
    extra["registrations"] = json!(registrations);
    extra["wishes"] = json!(events::wishes(ctx, &organiser, id).await?);
    let answers = events::attendance_marks(ctx, id).await?;
    extra["attendance"] = json!(answers);
    Ok(extra)
}

/// Shows the console again with the reason an action was refused (its 4xx status kept).
async fn refused(ctx: &App, caller: &Caller, id: i64, e: AppError) -> Result<Response, WebError> {
    let status = e.status();
    if !status.is_client_error() || events::load(ctx, id).await.is_err() {
        return Err(e.into());
    }
    let message = match &e {
        AppError::Validation(f) => {
            f.0.iter()
                .map(|fe| zh(&fe.message).to_string())
                .collect::<Vec<_>>()
                .join("；")
        }
        other => zh(other.body()["error"]["message"].as_str().unwrap_or("")).to_string(),
    };
    let data = event_data(ctx, id, json!({"refused": message})).await?;
    let title = data["event"]["name"]
        .as_str()
        .unwrap_or("对接会")
        .to_string();
    Ok(render_status(
        status,
        ctx,
        caller,
        "event.html",
        "events",
        &title,
        data,
    ))
}

fn done(id: i64, code: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/events/{id}?done={code}#{anchor}")).into_response()
}

/// Posts to `/events/{id}/{action}`.
async fn event_action(
    State(ctx): State<App>,
    caller: Who,
    Path((raw, action)): Path<(String, String)>,
    form: FormPairs,
) -> Result<Response, WebError> {
    let id = super::page_id(&raw)?;
    events::load(&ctx, id).await?;
    let outcome = match action.as_str() {
        "participants" => add_participant(&ctx, id, &form)
            .await
            .map(|_| ("participant", "participants")),
        "invite" => invite_by_theme(&ctx, id)
            .await
            .map(|_| ("invited", "participants")),
        "preferences" => set_preference(&ctx, id, &form)
            .await
            .map(|_| ("preference", "preferences")),
        "generate" => events::generate(&ctx, id)
            .await
            .map(|_| ("generated", "schedule")),
        "self-service" => {
            let mut rec = Map::new();
            for k in [
                "registration",
                "registration_closes_at",
                "wishes_close_at",
                "max_must",
                "max_like",
                "max_per_organization",
            ] {
                match form.get(k) {
                    Some(v) if !v.trim().is_empty() => rec.insert(k.into(), json!(v)),
                    _ => rec.insert(k.into(), Value::Null),
                };
            }
            rec.insert(
                "mutual_only".into(),
                json!(form.get("mutual_only").is_some()),
            );
            events::patch(&ctx, id, rec)
                .await
                .map(|_| ("self-service", "registrations"))
        }
        "approve" | "reject" => {
            let rid = form
                .get("registration_id")
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0);
            let mut rec = Map::new();
            if let Some(r) = form.get("reason") {
                rec.insert("reason".into(), json!(r));
            }
            events::decide_registration(&ctx, &caller, id, rid, action == "approve", &rec)
                .await
                .map(|_| ("decided", "registrations"))
        }
        "publish" => events::publish(&ctx, id)
            .await
            .map(|_| ("published", "schedule")),
        "attendance" => {
            let pid = form
                .get("pairing_id")
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0);
            let mut rec = Map::new();
            rec.insert(
                "status".into(),
                json!(form.get("status").unwrap_or_default()),
            );
            events::set_attendance(&ctx, &caller, id, pid, &rec)
                .await
                .map(|_| ("attendance", "schedule"))
        }
        "status" => {
            let mut rec = Map::new();
            rec.insert(
                "status".into(),
                json!(form.get("status").unwrap_or_default()),
            );
            events::patch(&ctx, id, rec)
                .await
                .map(|_| ("status", "top"))
        }
        _ => {
            return Err(
                AppError::NotFound(format!("操作 {action} 不存在 / no action {action}")).into(),
            );
        }
    };
    match outcome {
        Ok((code, anchor)) => Ok(done(id, code, anchor)),
        Err(e) => refused(&ctx, &caller, id, e).await,
    }
}

/// Adds an organisation with its published listings (needs for an enterprise; results and
/// experts for a university or institute).
async fn add_participant(ctx: &App, id: i64, form: &FormPairs) -> Result<(), AppError> {
    let org_id = form
        .get("organization_id")
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| {
            AppError::bad_request(
                Code::MISSING_PARAMETER,
                "请选择参会单位",
                "choose an organization",
            )
        })?;
    let org = duijie_app::listings::organization(ctx, org_id).await?;
    let listings = org_listings(ctx, org_id, &org.kind, None, 10).await?;
    if listings.is_empty() {
        return Err(AppError::Conflict {
            code: Code::NOTHING_TO_BRING,
            message: format!(
                "“{}”没有已发布的需求、成果或专家，无法参会 / '{}' has no published listings to bring",
                org.name, org.name
            ),
        });
    }
    let mut rec = Map::new();
    rec.insert("organization_id".into(), json!(org_id));
    rec.insert("listings".into(), json!(listings));
    events::add_participant(ctx, id, &rec).await.map(|_| ())
}

async fn set_preference(ctx: &App, id: i64, form: &FormPairs) -> Result<(), AppError> {
    let mut rec = Map::new();
    if let Some(n) = form.get("need_id").and_then(|s| s.parse::<i64>().ok()) {
        rec.insert("need_id".into(), json!(n));
    }
    if let Some((kind, pid)) = form.get("partner").and_then(|p| {
        let (k, i) = p.split_once(':')?;
        Some((k.to_string(), i.parse::<i64>().ok()?))
    }) {
        rec.insert(format!("{kind}_id"), json!(pid));
    }
    for k in ["side", "preference"] {
        if let Some(v) = form.get(k) {
            rec.insert(k.into(), json!(v));
        }
    }
    events::set_preference(ctx, id, &rec).await.map(|_| ())
}

async fn remove_participant(
    State(ctx): State<App>,
    caller: Who,
    Path((raw, pid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id = super::page_id(&raw)?;
    let pid = super::page_id(&pid)?;
    match events::remove_participant(&ctx, id, pid).await {
        Ok(()) => Ok(done(id, "removed", "participants")),
        Err(e) => refused(&ctx, &caller, id, e).await,
    }
}

async fn remove_preference(
    State(ctx): State<App>,
    caller: Who,
    Path((raw, pid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id = super::page_id(&raw)?;
    let pid = super::page_id(&pid)?;
    match events::delete_preference(&ctx, id, pid).await {
        Ok(()) => Ok(done(id, "removed", "preferences")),
        Err(e) => refused(&ctx, &caller, id, e).await,
    }
}

async fn move_pairing(
    State(ctx): State<App>,
    caller: Who,
    Path((raw, pid)): Path<(String, String)>,
    form: FormPairs,
) -> Result<Response, WebError> {
    let id = super::page_id(&raw)?;
    let pid = super::page_id(&pid)?;
    let mut rec = Map::new();
    for k in ["slot", "table"] {
        if let Some(v) = form.get(k) {
            rec.insert(
                k.into(),
                json!(v.parse::<i64>().map(Value::from).unwrap_or(json!(v))),
            );
        }
    }
    match events::patch_pairing(&ctx, id, pid, &rec).await {
        Ok(_) => Ok(done(id, "moved", "schedule")),
        Err(e) => refused(&ctx, &caller, id, e).await,
    }
}

async fn remove_pairing(
    State(ctx): State<App>,
    caller: Who,
    Path((raw, pid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id = super::page_id(&raw)?;
    let pid = super::page_id(&pid)?;
    match events::edit(&ctx, id, events::EditRequest::Remove { id: pid }).await {
        Ok(_) => Ok(done(id, "removed", "schedule")),
        Err(e) => refused(&ctx, &caller, id, e).await,
    }
}

/// An uploaded file and the other fields of a multipart form.
pub(super) struct Upload {
    pub(super) file_name: String,
    pub(super) bytes: bytes::Bytes,
    pub(super) fields: Vec<(String, String)>,
}

pub(super) async fn read_upload(caller: &Caller, mut m: Multipart) -> Result<Upload, AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::bad_request(
            Code::INVALID_UPLOAD,
            format!("无法读取上传的文件：{}", e.body_text()),
            format!("cannot read the upload: {}", e.body_text()),
        )
    };
    let mut up = Upload {
        file_name: String::new(),
        bytes: bytes::Bytes::new(),
        fields: Vec::new(),
    };
    while let Some(field) = m.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            up.file_name = field.file_name().unwrap_or("").to_string();
            up.bytes = field.bytes().await.map_err(bad)?;
        } else {
            let v = field.text().await.map_err(bad)?;
            up.fields.push((name, v));
        }
    }
    let csrf = up
        .fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    super::check_csrf(Some(caller), csrf).map_err(|e| e.0)?;
    up.fields.retain(|(k, _)| k != "csrf");
    if up.bytes.is_empty() {
        return Err(AppError::bad_request(
            Code::MISSING_FILE,
            "请选择要上传的文件",
            "choose a file to upload",
        ));
    }
    Ok(up)
}

pub(super) fn format_of(up: &Upload) -> Result<Format, AppError> {
    let gbk = up.fields.iter().any(|(k, v)| k == "charset" && v == "gbk");
    match Format::from_path(std::path::Path::new(&up.file_name)) {
        Some(Format::Csv { .. }) => Ok(Format::Csv { gbk }),
        Some(f) => Ok(f),
        None => Err(AppError::UnsupportedMediaType(format!(
            "不支持的文件“{}”：请上传 .csv、.xlsx 或 .jsonl 文件 / unsupported file '{}': upload a .csv, .xlsx or .jsonl file",
            up.file_name, up.file_name
        ))),
    }
}

async fn import_participants(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let id = super::page_id(&raw)?;
    events::load(&ctx, id).await?;
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
                    "参会单位请用 CSV 或 XLSX 上传 / participants are imported from CSV or XLSX"
                        .into(),
                ));
            }
            f => f,
        };
        let bytes = up.bytes;
        let rows = {
            let limits = duijie_app::sheet::SheetLimits::of(&ctx.settings);
            tokio::task::spawn_blocking(move || events::read_table(format, &bytes, &limits))
                .await??
        };
        events::import_participants(&ctx, id, rows).await
    }
    .await;
    match result {
        Ok(summary) if summary.failed == 0 => Ok(done(id, "imported", "participants")),
        Ok(summary) => {
            let data = event_data(
                &ctx,
                id,
                json!({"import": {
                    "imported": summary.imported, "updated": summary.updated, "failed": summary.failed,
                    "errors": summary.errors.iter().map(|e| json!({"line": e.line, "message": zh(&e.message)})).collect::<Vec<_>>(),
                }}),
            )
            .await?;
            let title = data["event"]["name"]
                .as_str()
                .unwrap_or("对接会")
                .to_string();
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ctx,
                &caller,
                "event.html",
                "events",
                &title,
                data,
            ))
        }
        Err(e) => refused(&ctx, &caller, id, e).await,
    }
}

// ---------------------------------------------------------------------------------------
// Bulk import of listings
// ---------------------------------------------------------------------------------------

const IMPORT_KINDS: &[(&str, &str)] = &[
    ("results", "科技成果"),
    ("needs", "技术需求"),
    ("experts", "专家"),
    ("organizations", "单位"),
];

async fn import_page(State(ctx): State<App>, caller: Who) -> Result<Html<String>, WebError> {
    render(
        &ctx,
        &caller,
        "import.html",
        "import",
        "批量导入",
        json!({"kinds": options(IMPORT_KINDS), "values": {"kind": "results", "charset": "utf-8"}}),
    )
}

async fn import_upload(
    State(ctx): State<App>,
    caller: Who,
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let mut values = json!({"kind": "results", "charset": "utf-8"});
    let result = async {
        let m = m.map_err(|e| {
            AppError::bad_request(
                Code::INVALID_UPLOAD,
                format!("上传格式错误：{}", e.body_text()),
                format!("invalid upload: {}", e.body_text()),
            )
        })?;
        let up = read_upload(&caller, m).await?;
        for (k, v) in &up.fields {
            values[k] = json!(v);
        }
        let kind = up
            .fields
            .iter()
            .find(|(k, _)| k == "kind")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let entity = Entity::parse(&kind).ok_or_else(|| {
            AppError::bad_request(
                Code::INVALID_PARAMETER,
                format!("请选择导入类型（{}）", vocab::choices(IMPORT_KINDS)),
                "choose what to import",
            )
        })?;
        let format = format_of(&up)?;
        let file_name = up.file_name.clone();
        let (source, _tmp) = if format == Format::Xlsx {
            let tmp = tempfile::Builder::new()
                .prefix("import-")
                .suffix(".xlsx")
                .tempfile_in(&ctx.settings.data.dir)
                .map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
            std::fs::write(tmp.path(), &up.bytes)
                .map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
            (Source::XlsxFile(tmp.path().to_path_buf()), Some(tmp))
        } else {
            let cursor = std::io::Cursor::new(up.bytes);
            (Source::Reader(Box::new(cursor)), None)
        };
        let summary = import::run(&ctx, entity, format, source, |_| {}).await?;
        Ok::<_, AppError>((summary, file_name, entity))
    }
    .await;
    let kinds = options(IMPORT_KINDS);
    match result {
        Ok((summary, file_name, entity)) => {
            let status = if summary.failed == 0 {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let list_url = match entity {
                Entity::Organization => "/organizations".to_string(),
                Entity::Listing(k) => format!("/{}", k.plural()),
            };
            Ok(render_status(
                status,
                &ctx,
                &caller,
                "import.html",
                "import",
                "批量导入",
                json!({
                    "kinds": kinds, "values": values,
                    "summary": {
                        "file": file_name, "imported": summary.imported, "updated": summary.updated,
                        "failed": summary.failed, "truncated": summary.errors_truncated, "list_url": list_url,
                        "errors": summary.errors.iter().map(|e| json!({"line": e.line, "message": zh(&e.message)})).collect::<Vec<_>>(),
                    },
                }),
            ))
        }
        Err(e) if e.status().is_client_error() => {
            let message = zh(e.body()["error"]["message"].as_str().unwrap_or("")).to_string();
            Ok(render_status(
                e.status(),
                &ctx,
                &caller,
                "import.html",
                "import",
                "批量导入",
                json!({"kinds": kinds, "values": values, "error": message}),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
