//! Reading and validating an event's fields, its slots and tables.

use super::*;
use crate::codes::Code;

/// The one field reader (`duijie_domain::input::Reader`): trimming, lengths, control
/// characters and closed choices (with their aliases) follow the same rule as every other
/// input.
pub(super) type In<'a> = duijie_domain::input::Reader<'a>;

pub(super) fn minutes_of(hhmm: &str) -> Option<i64> {
    let t = chrono::NaiveTime::parse_from_str(hhmm, "%H:%M").ok()?;
    use chrono::Timelike;
    Some(i64::from(t.hour()) * 60 + i64::from(t.minute()))
}

pub(super) fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Read-only fields of the event view, accepted and ignored on input.
pub(super) const EVENT_READ_ONLY: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "slots",
    "tables",
    "format_label",
    "status_label",
];

/// The breaks between slots: objects `{after_slot, minutes, label}`, each after a slot
/// that exists, at most one after each slot.
fn read_breaks(r: &mut In<'_>, slot_count: i64) -> Vec<EventBreak> {
    let mut breaks: Vec<EventBreak> = Vec::new();
    if let Some(v) = r.raw("breaks") {
        match v {
            Value::Array(items) => {
                for (i, b) in items.iter().enumerate() {
                    let field = format!("breaks[{i}]");
                    let parsed = b.as_object().and_then(|o| {
                        let after = o.get("after_slot")?.as_i64()?;
                        let minutes = o.get("minutes")?.as_i64()?;
                        let label = match o.get("label") {
                            None | Some(Value::Null) => None,
                            Some(Value::String(s))
                                if s.chars().count() <= 50
                                    && !duijie_domain::input::has_control(s) =>
                            {
                                Some(s.trim().to_string())
                            }
                            Some(_) => return None,
                        };
                        o.keys()
                            .all(|k| ["after_slot", "minutes", "label"].contains(&k.as_str()))
                            .then_some(EventBreak {
                                after_slot: after,
                                minutes,
                                label,
                            })
                    });
                    match parsed {
                        Some(b) if (1..slot_count).contains(&b.after_slot) && (1..=480).contains(&b.minutes) => {
                            if breaks.iter().any(|x| x.after_slot == b.after_slot) {
                                r.error(field, "duplicate", format!("第 {} 个时段后的休息重复", b.after_slot), format!("two breaks after slot {}", b.after_slot));
                            } else {
                                breaks.push(b);
                            }
                        }
                        Some(b) => r.error(
                            field,
                            "out_of_range",
                            format!("休息应在第 1 到 {} 个时段之后、时长 1 到 480 分钟，收到第 {} 个时段后 {} 分钟", slot_count - 1, b.after_slot, b.minutes),
                            format!("a break must follow slot 1 to {} and last 1 to 480 minutes, got after slot {} for {} minutes", slot_count - 1, b.after_slot, b.minutes),
                        ),
                        None => r.error(
                            field,
                            "invalid_type",
                            "休息应为 {after_slot, minutes, label} 对象",
                            "a break must be an object {after_slot, minutes, label}",
                        ),
                    }
                }
            }
            _ => r.error(
                "breaks",
                "invalid_type",
                "breaks 应为列表",
                "breaks must be a list",
            ),
        }
    }
    breaks
}

/// The themes as industry codes (Chinese names accepted), without repeats.
fn read_themes(ctx: &App, r: &mut In<'_>) -> Vec<String> {
    let mut themes = Vec::new();
    for t in r.list("themes", 20, 50) {
        match ctx.vocab.resolve_industry(&t) {
            Some(code) if !themes.contains(&code) => themes.push(code),
            Some(_) => {}
            None => r.error(
                "themes",
                "invalid_choice",
                format!("行业“{t}”不在行业目录中"),
                format!("industry '{t}' is not in the vocabulary"),
            ),
        }
    }
    themes
}

/// Validates an event (a PATCH merges onto the stored fields first, see [`patch`]).
pub fn parse_event(ctx: &App, rec: &Record) -> Result<EventDraft, FieldErrors> {
    let mut r = In::new(rec);
    let name = r.required_text("name", 200, false);
    let format = r
        .choice_or("format", FORMATS, Some("fair"))
        .and_then(EventFormat::parse)
        .unwrap_or(EventFormat::Fair);
    let date_raw = r.required_text("date", 10, false);
    if !date_raw.is_empty() && chrono::NaiveDate::parse_from_str(&date_raw, "%Y-%m-%d").is_err() {
        r.error(
            "date",
            "invalid_date",
            format!("日期“{date_raw}”无效，应为 YYYY-MM-DD"),
            format!("date '{date_raw}' is not a valid YYYY-MM-DD date"),
        );
    }
    let venue = r.text("venue", 200, false);
    let description = r.text("description", 2000, true);
    let themes = read_themes(ctx, &mut r);
    let start_time = r
        .text("start_time", 5, false)
        .unwrap_or_else(|| "09:00".into());
    let start = minutes_of(&start_time);
    if start.is_none() {
        r.error(
            "start_time",
            "invalid_time",
            format!("开始时间“{start_time}”无效，应为 HH:MM"),
            format!("start_time '{start_time}' is not a valid HH:MM time"),
        );
    }
    let slot_minutes = r.int_or("slot_minutes", 20, 5, 240);
    let slot_count = r.int_or("slot_count", 8, 1, 48);
    let mut breaks = read_breaks(&mut r, slot_count);
    breaks.sort_by_key(|b| b.after_slot);
    let table_count = r.int_or("table_count", 10, 1, 500);
    let table_names = r.list("table_names", 500, 50);
    if table_names.len() as i64 > table_count {
        r.error(
            "table_names",
            "too_many",
            format!("桌名 {} 个，多于桌数 {table_count}", table_names.len()),
            format!("{} table names for {table_count} tables", table_names.len()),
        );
    }
    let seats_per_table = r.int_or("seats_per_table", 4, 1, 50);
    let max_per_enterprise = r.int_or("max_per_enterprise", 3, 1, 50);
    let max_per_result = r.int_or("max_per_result", 4, 1, 50);
    let max_per_expert = r.int_or("max_per_expert", 3, 1, 50);
    let min_score = r.float_or("min_score", 0.0, 0.0, 1.0);
    let status = r
        .choice_or("status", STATUSES, Some("draft"))
        .and_then(EventStatus::parse)
        .unwrap_or(EventStatus::Draft);
    if let Some(start) = start {
        let end = start + slot_minutes * slot_count + breaks.iter().map(|b| b.minutes).sum::<i64>();
        if end > 24 * 60 {
            r.error(
                "slot_count",
                "past_midnight",
                format!(
                    "日程从 {start_time} 开始将持续到次日（{} 分钟）",
                    end - start
                ),
                format!(
                    "the schedule starting at {start_time} would run past midnight ({} minutes)",
                    end - start
                ),
            );
        }
    }
    let self_service = read_self_service(&mut r);
    let errors = r.finish_ignoring(EVENT_READ_ONLY);
    errors.into_result(EventDraft {
        name,
        format,
        date: date_raw,
        venue,
        description,
        themes,
        start_time: start.map(hhmm).unwrap_or(start_time),
        slot_minutes,
        slot_count,
        breaks,
        table_count,
        table_names,
        seats_per_table,
        max_per_enterprise,
        max_per_result,
        max_per_expert,
        min_score,
        status,
        self_service,
    })
}

/// A deadline: RFC 3339, or programme time without an offset (`2026-12-10T18:00`); stored
/// as RFC 3339 with the +08:00 offset.
fn read_deadline(r: &mut In<'_>, name: &'static str) -> Option<String> {
    let raw = r.text(name, 40, false)?;
    match duijie_domain::connection::parse_time(&raw) {
        Some(t) => Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)),
        None => {
            r.error(
                name,
                "invalid_time",
                format!("时间“{raw}”无效，应为 2026-12-10T18:00（北京时间）或 RFC 3339"),
                format!("'{raw}' is not a time like 2026-12-10T18:00 (Beijing time) or RFC 3339"),
            );
            None
        }
    }
}

/// The self-service settings: registration mode and deadline, wish quotas and deadline,
/// `mutual_only` and the cap of meetings per organisation.
fn read_self_service(r: &mut In<'_>) -> duijie_store::SelfService {
    let d = duijie_store::SelfService::default();
    duijie_store::SelfService {
        registration: r
            .choice_or(
                "registration",
                duijie_domain::RegistrationMode::TABLE,
                Some("closed"),
            )
            .and_then(duijie_domain::RegistrationMode::parse)
            .unwrap_or(d.registration),
        registration_closes_at: read_deadline(r, "registration_closes_at"),
        wishes_close_at: read_deadline(r, "wishes_close_at"),
        max_must: r.int_or("max_must", d.max_must, 0, 20),
        max_like: r.int_or("max_like", d.max_like, 0, 100),
        mutual_only: r.bool_or("mutual_only", d.mutual_only),
        max_per_organization: r.int_or("max_per_organization", 0, 0, 1000),
    }
}

pub(super) fn draft_record(d: &EventDraft) -> Record {
    let v = serde_json::json!({
        "name": d.name, "format": d.format, "date": d.date, "venue": d.venue, "description": d.description,
        "themes": d.themes, "start_time": d.start_time, "slot_minutes": d.slot_minutes, "slot_count": d.slot_count,
        "breaks": d.breaks, "table_count": d.table_count, "table_names": d.table_names, "seats_per_table": d.seats_per_table,
        "max_per_enterprise": d.max_per_enterprise, "max_per_result": d.max_per_result, "max_per_expert": d.max_per_expert,
        "min_score": d.min_score, "status": d.status,
        "registration": d.self_service.registration, "registration_closes_at": d.self_service.registration_closes_at,
        "wishes_close_at": d.self_service.wishes_close_at, "max_must": d.self_service.max_must,
        "max_like": d.self_service.max_like, "mutual_only": d.self_service.mutual_only,
        "max_per_organization": d.self_service.max_per_organization,
    });
    v.as_object().cloned().unwrap_or_default()
}

/// Start and end of one time slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotTime {
    /// 0-based.
    pub slot: i64,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
}

/// The times of the event's slots, breaks included.
pub fn slot_times(e: &Event) -> Vec<SlotTime> {
    let mut t = minutes_of(&e.start_time).unwrap_or(9 * 60);
    let mut out = Vec::with_capacity(e.slot_count.max(0) as usize);
    for s in 0..e.slot_count {
        out.push(SlotTime {
            slot: s,
            start: hhmm(t),
            end: hhmm(t + e.slot_minutes),
        });
        t += e.slot_minutes;
        t += e
            .breaks
            .iter()
            .filter(|b| b.after_slot == s + 1)
            .map(|b| b.minutes)
            .sum::<i64>();
    }
    out
}

/// Table names: the event's, else the pairing's (roundtable themes), else `N号桌`.
pub(super) fn table_names(e: &Event, from_pairing: &[String]) -> Vec<String> {
    (0..e.table_count)
        .map(|t| {
            e.table_names
                .get(t as usize)
                .filter(|n| !n.is_empty())
                .or_else(|| from_pairing.get(t as usize).filter(|n| !n.is_empty()))
                .cloned()
                .unwrap_or_else(|| format!("{}号桌", t + 1))
        })
        .collect()
}

/// An event as clients see it: the stored fields plus labels, slot times and table names.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventView {
    /// The stored event.
    #[serde(flatten)]
    pub event: Event,
    /// The format's Chinese name.
    pub format_label: &'static str,
    /// The status's Chinese name.
    pub status_label: &'static str,
    /// Slot times.
    pub slots: Vec<SlotTime>,
    /// Table names, one per table.
    pub tables: Vec<String>,
}

/// The event as clients see it.
pub fn event_view(e: &Event) -> EventView {
    EventView {
        event: e.clone(),
        format_label: e.format.label_zh(),
        status_label: e.status.label_zh(),
        slots: slot_times(e),
        tables: table_names(e, &[]),
    }
}

/// The event as JSON (see [`EventView`]).
pub fn event_json(e: &Event) -> Value {
    serde_json::to_value(event_view(e)).unwrap_or(Value::Null)
}

/// Creates an event.
pub async fn create(ctx: &App, rec: &Record) -> Result<Event, AppError> {
    let d = parse_event(ctx, rec)?;
    let id = ctx.store.create_event(&d).await?;
    Ok(ctx.store.event(id).await?)
}

/// Applies a partial update (given fields replace stored ones, `null` resets to the default).
pub async fn patch(ctx: &App, id: i64, patch: Record) -> Result<Event, AppError> {
    let e = ctx.store.event(id).await?;
    let mut rec = draft_record(&e.to_draft());
    for (k, v) in patch {
        if v.is_null() {
            rec.remove(&k);
        } else {
            rec.insert(k, v);
        }
    }
    let d = parse_event(ctx, &rec)?;
    ctx.store.update_event(id, &d).await?;
    Ok(ctx.store.event(id).await?)
}

/// Lists events.
pub async fn list(
    ctx: &App,
    f: &EventFilter,
    limit: i64,
    offset: i64,
) -> Result<Page<EventView>, AppError> {
    let page = ctx.store.events(f, limit, offset).await?;
    Ok(Page {
        items: page.items.iter().map(event_view).collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
}

pub(super) fn event_not_found(id: i64) -> AppError {
    AppError::not_found("对接会", "event", id)
}

/// Loads an event, answering 404 in the event's words.
pub async fn load(ctx: &App, id: i64) -> Result<Event, AppError> {
    match ctx.store.event(id).await {
        Err(duijie_store::StoreError::NotFound { .. }) => Err(event_not_found(id)),
        other => Ok(other?),
    }
}

/// Whether `caller` keeps the programme (organisers, administrators, the command line):
/// they see every event and all of its records.
pub fn keeps_events(caller: &crate::auth::Caller) -> bool {
    matches!(caller.via, crate::auth::Via::Local(_))
        || caller
            .user
            .as_ref()
            .is_some_and(|u| u.role.keeps_programme())
}

/// Loads an event for `caller`: a draft exists only for those who keep the programme
/// (for anyone else it is 404, as an unknown id).
pub async fn load_for(ctx: &App, caller: &crate::auth::Caller, id: i64) -> Result<Event, AppError> {
    let e = load(ctx, id).await?;
    if e.status == EventStatus::Draft && !keeps_events(caller) {
        return Err(event_not_found(id));
    }
    Ok(e)
}

/// Lists events for `caller`: drafts only for those who keep the programme.
pub async fn list_for(
    ctx: &App,
    caller: &crate::auth::Caller,
    mut f: EventFilter,
    limit: i64,
    offset: i64,
) -> Result<Page<EventView>, AppError> {
    if !keeps_events(caller) {
        f.announced_only = true;
    }
    list(ctx, &f, limit, offset).await
}

/// Refuses changes to a closed event, and pairing changes to a published one.
pub(super) fn check_writable(e: &Event, pairing: bool) -> Result<(), AppError> {
    if e.status == EventStatus::Closed {
        return Err(AppError::Conflict {
            code: Code::EVENT_CLOSED,
            message: "对接会已结束，不能再修改 / the event is closed and can no longer be changed"
                .into(),
        });
    }
    if pairing && e.status == EventStatus::Published {
        return Err(AppError::Conflict {
            code: Code::EVENT_PUBLISHED,
            message: "对接安排已发布；请先将状态改回 open 再修改 / the pairing is published; set the status back to open to change it".into(),
        });
    }
    Ok(())
}
