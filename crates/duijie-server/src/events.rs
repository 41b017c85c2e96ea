//! Matchmaking events (对接会, 会客厅, 圆桌论坛): validation, participants, preferences, pairing
//! generation and organiser edits, shared by the HTTP API (no axum types here).
//!
//! ## How an event becomes a solver instance
//!
//! * **Enterprise side.** One solver party per participating *enterprise organisation*
//!   (`e{org_id}`), capacity = the event's `max_per_enterprise`. Its needs only shape the
//!   scores: the score of (enterprise, result) is the best score of any of its needs with
//!   that result, and the meeting is recorded with that need. So the cap is per enterprise,
//!   an enterprise never meets the same result twice for two needs, and one enterprise
//!   delegation is never booked at two tables at once.
//! * **Result side.** One party per participating result (`r{id}`, `max_per_result`) and
//!   per participating expert (`x{id}`, `max_per_expert`), in every format.
//! * **Scores** come from [`event_scores`] (index candidates re-scored by the matching engine), then
//!   preferences: each side's "like" adds [`LIKE_BONUS`], both sides liking adds
//!   [`MUTUAL_BONUS`] more (a liked pair without a text score becomes a candidate); "no" and
//!   "conflict" from anyone forbid the pair, and an organisation never meets itself; "must"
//!   from anyone forces it unless it is forbidden or over a capacity, in which case it is
//!   listed in `ignored_forced` with the reason. The candidate graph is sparsified to the
//!   best [`SPARSIFY_FACTOR`] × capacity candidates of each side (liked and forced pairs are
//!   always kept), then `duijie_match::solve` runs on a blocking thread with a deadline.
//!
//! ## Formats
//!
//! * **fair** (对接会): one-to-one meetings; slots and tables are the solver's (bipartite
//!   edge colouring, then seating).
//! * **parlour** (会客厅): the same assignment, then each enterprise *hosts* its visitors
//!   (experts and result teams) together: a visit is one (slot, table) holding all of the
//!   enterprise's visitors who are free then; visitors busy elsewhere get a second visit in
//!   another slot. Enterprises with most visitors are placed first, each in the slot where
//!   most of its visitors are free.
//! * **roundtable** (圆桌论坛): results and experts are grouped by industry onto theme tables
//!   (the event's themes first, then other industries by size, then the rest); each
//!   enterprise visits, one slot per table, the tables of the partners it was assigned, with
//!   at most `seats_per_table` enterprises at a table in a slot.
//!
//! What does not fit is reported, never an error: `unplaced` (who got fewer meetings than
//! its capacity, with the solver's reason), `unseated` (assigned meetings without slot or
//! table, with the reason) and `ignored_forced`.

use crate::context::Context;
use crate::error::ApiError;
use duijie_domain::input::Record;
use duijie_domain::{FieldErrors, ListingKind, ListingText};
use duijie_match::{
    Edit, EditRejection, Instance, Party, PlacedPair, ScoreEntry, Solution, SolveOptions, Stats,
    Unplaced, Unseated,
};
use duijie_store::{
    Event, EventBreak, EventDraft, EventFilter, PairingChange, PairingDraft, PairingRow,
    PairingRun, Participant, Preference, PreferenceDraft,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Event formats.
pub const FORMATS: &[(&str, &str)] = &[
    ("fair", "对接会"),
    ("parlour", "会客厅"),
    ("roundtable", "圆桌论坛"),
];
/// Event statuses.
pub const STATUSES: &[(&str, &str)] = &[
    ("draft", "草稿"),
    ("open", "征集意向"),
    ("published", "已发布"),
    ("closed", "已结束"),
];
/// Who declares a preference.
pub const SIDES: &[(&str, &str)] = &[
    ("enterprise", "企业"),
    ("university", "高校"),
    ("organizer", "组织者"),
];
/// Preference values.
pub const PREFERENCES: &[(&str, &str)] = &[
    ("must", "必须会谈"),
    ("like", "希望会谈"),
    ("no", "不必会谈"),
    ("conflict", "利益冲突"),
];

/// Score added when one side likes a pair.
pub const LIKE_BONUS: f64 = 0.1;
/// Score added on top when both sides like a pair.
pub const MUTUAL_BONUS: f64 = 0.2;
/// Each party keeps its best `SPARSIFY_FACTOR × capacity` candidates (at least
/// [`SPARSIFY_MIN`]); a pair is kept when either side keeps it.
pub const SPARSIFY_FACTOR: usize = 4;
/// See [`SPARSIFY_FACTOR`].
pub const SPARSIFY_MIN: usize = 12;
/// Longest a pairing may run before it is cancelled.
pub const SOLVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Slots and tables given to the solver for grouped formats, whose own layout places the
/// meetings afterwards.
const UNBOUNDED: i64 = 100_000;

fn label(table: &[(&'static str, &'static str)], code: &str) -> &'static str {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

fn resolve(table: &[(&'static str, &'static str)], s: &str) -> Option<&'static str> {
    let s = s.trim();
    table
        .iter()
        .find(|(c, l)| *c == s || *l == s)
        .map(|(c, _)| *c)
}

fn choices(table: &[(&'static str, &'static str)]) -> String {
    table.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn field_error(
    field: &str,
    code: &'static str,
    zh: impl AsRef<str>,
    en: impl AsRef<str>,
) -> ApiError {
    let mut f = FieldErrors::default();
    f.push(field, code, zh, en);
    ApiError::Validation(f)
}

// ---------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------

/// Reads fields of a JSON object, collecting every problem.
struct In<'a> {
    rec: &'a Record,
    used: BTreeSet<&'static str>,
    errors: FieldErrors,
}

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

impl<'a> In<'a> {
    fn new(rec: &'a Record) -> Self {
        In {
            rec,
            used: BTreeSet::new(),
            errors: FieldErrors::default(),
        }
    }

    fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.used.insert(name);
        match self.rec.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v) => Some(v),
        }
    }

    fn text(&mut self, name: &'static str, max: usize, multiline: bool) -> Option<String> {
        let v = self.raw(name)?;
        let Value::String(s) = v else {
            self.errors.push(
                name,
                "invalid_type",
                format!("{name} 应为文本"),
                format!("{name} must be a string"),
            );
            return None;
        };
        let s = s.trim().to_string();
        let n = s.chars().count();
        if n > max {
            self.errors.push(
                name,
                "too_long",
                format!("{name} 过长：{n} 字，最多 {max} 字"),
                format!("{name} is too long: {n} characters, at most {max}"),
            );
            return None;
        }
        if has_control(&s) || (!multiline && s.contains(['\n', '\r'])) {
            self.errors.push(
                name,
                "invalid_characters",
                format!("{name} 含有不允许的控制字符或换行"),
                format!("{name} contains control characters or line breaks"),
            );
            return None;
        }
        Some(s)
    }

    fn required_text(&mut self, name: &'static str, max: usize) -> String {
        let present = self.raw(name).is_some();
        match self.text(name, max, false) {
            Some(s) => s,
            None => {
                if !present {
                    self.errors.push(
                        name,
                        "required",
                        format!("{name} 为必填项"),
                        format!("{name} is required"),
                    );
                }
                String::new()
            }
        }
    }

    fn int(&mut self, name: &'static str, default: i64, min: i64, max: i64) -> i64 {
        let Some(v) = self.raw(name) else {
            return default;
        };
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => n,
            Some(n) => {
                self.errors.push(
                    name,
                    "out_of_range",
                    format!("{name} 应在 {min} 到 {max} 之间，收到 {n}"),
                    format!("{name} must be between {min} and {max}, got {n}"),
                );
                default
            }
            None => {
                self.errors.push(
                    name,
                    "invalid_type",
                    format!("{name} 应为整数"),
                    format!("{name} must be an integer"),
                );
                default
            }
        }
    }

    fn float(&mut self, name: &'static str, default: f64, min: f64, max: f64) -> f64 {
        let Some(v) = self.raw(name) else {
            return default;
        };
        let n = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n.is_finite() && (min..=max).contains(&n) => n,
            Some(n) => {
                self.errors.push(
                    name,
                    "out_of_range",
                    format!("{name} 应在 {min} 到 {max} 之间，收到 {n}"),
                    format!("{name} must be between {min} and {max}, got {n}"),
                );
                default
            }
            None => {
                self.errors.push(
                    name,
                    "invalid_type",
                    format!("{name} 应为数字"),
                    format!("{name} must be a number"),
                );
                default
            }
        }
    }

    fn choice(
        &mut self,
        name: &'static str,
        table: &[(&'static str, &'static str)],
        default: Option<&'static str>,
    ) -> Option<&'static str> {
        let present = self.raw(name).is_some();
        match self.text(name, 50, false) {
            Some(s) => match resolve(table, &s) {
                Some(c) => Some(c),
                None => {
                    self.errors.push(
                        name,
                        "invalid_choice",
                        format!("{name} 的取值“{s}”无效，可选：{}", choices(table)),
                        format!("{name} '{s}' is not one of: {}", choices(table)),
                    );
                    None
                }
            },
            None if !present && default.is_none() => {
                self.errors.push(
                    name,
                    "required",
                    format!("{name} 为必填项，可选：{}", choices(table)),
                    format!("{name} is required: {}", choices(table)),
                );
                None
            }
            None => default,
        }
    }

    fn strings(&mut self, name: &'static str, max_items: usize, max_len: usize) -> Vec<String> {
        let Some(v) = self.raw(name) else {
            return Vec::new();
        };
        let items: Vec<Option<String>> = match v {
            Value::String(s) => s
                .split([';', '；', '、', '|', ',', '，'])
                .map(|p| Some(p.trim().to_string()))
                .filter(|p| p.as_ref().is_some_and(|p| !p.is_empty()))
                .collect(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map(|s| s.trim().to_string()))
                .collect(),
            _ => {
                self.errors.push(
                    name,
                    "invalid_type",
                    format!("{name} 应为文本列表"),
                    format!("{name} must be a list of strings"),
                );
                return Vec::new();
            }
        };
        if items.len() > max_items {
            self.errors.push(
                name,
                "too_many",
                format!("{name} 最多 {max_items} 项"),
                format!("{name} has more than {max_items} items"),
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Some(s) if s.chars().count() <= max_len && !has_control(&s) && !s.contains(['\n', '\r']) => out.push(s),
                Some(_) => self.errors.push(
                    format!("{name}[{i}]"),
                    "invalid_value",
                    format!("{name} 的第 {} 项过长或含控制字符（最多 {max_len} 字）", i + 1),
                    format!("item {} of {name} is too long or has control characters (at most {max_len} characters)", i + 1),
                ),
                None => self.errors.push(format!("{name}[{i}]"), "invalid_type", format!("{name} 的第 {} 项应为文本", i + 1), format!("item {} of {name} must be a string", i + 1)),
            }
        }
        out
    }

    /// Refuses fields nobody read; `ignore` are read-only fields a client may send back.
    fn finish(mut self, ignore: &[&str]) -> FieldErrors {
        for k in self.rec.keys() {
            if !self.used.contains(k.as_str()) && !ignore.contains(&k.as_str()) {
                self.errors.push(
                    k.clone(),
                    "unknown_field",
                    format!("未知字段“{k}”"),
                    format!("unknown field '{k}'"),
                );
            }
        }
        self.errors
    }
}

fn minutes_of(hhmm: &str) -> Option<i64> {
    let t = chrono::NaiveTime::parse_from_str(hhmm, "%H:%M").ok()?;
    use chrono::Timelike;
    Some(i64::from(t.hour()) * 60 + i64::from(t.minute()))
}

fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Read-only fields of the event view, accepted and ignored on input.
const EVENT_READ_ONLY: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "slots",
    "tables",
    "format_label",
    "status_label",
];

/// Validates an event (a PATCH merges onto the stored fields first, see [`patch`]).
pub fn parse_event(ctx: &Context, rec: &Record) -> Result<EventDraft, FieldErrors> {
    let mut r = In::new(rec);
    let name = r.required_text("name", 200);
    let format = r
        .choice("format", FORMATS, Some("fair"))
        .unwrap_or("fair")
        .to_string();
    let date_raw = r.required_text("date", 10);
    if !date_raw.is_empty() && chrono::NaiveDate::parse_from_str(&date_raw, "%Y-%m-%d").is_err() {
        r.errors.push(
            "date",
            "invalid_date",
            format!("日期“{date_raw}”无效，应为 YYYY-MM-DD"),
            format!("date '{date_raw}' is not a valid YYYY-MM-DD date"),
        );
    }
    let venue = r.text("venue", 200, false);
    let description = r.text("description", 2000, true);
    let mut themes = Vec::new();
    for t in r.strings("themes", 20, 50) {
        match ctx.vocab.resolve_industry(&t) {
            Some(code) if !themes.contains(&code) => themes.push(code),
            Some(_) => {}
            None => r.errors.push(
                "themes",
                "invalid_choice",
                format!("行业“{t}”不在行业目录中"),
                format!("industry '{t}' is not in the vocabulary"),
            ),
        }
    }
    let start_time = r
        .text("start_time", 5, false)
        .unwrap_or_else(|| "09:00".into());
    let start = minutes_of(&start_time);
    if start.is_none() {
        r.errors.push(
            "start_time",
            "invalid_time",
            format!("开始时间“{start_time}”无效，应为 HH:MM"),
            format!("start_time '{start_time}' is not a valid HH:MM time"),
        );
    }
    let slot_minutes = r.int("slot_minutes", 20, 5, 240);
    let slot_count = r.int("slot_count", 8, 1, 48);
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
                                if s.chars().count() <= 50 && !has_control(s) =>
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
                                r.errors.push(field, "duplicate", format!("第 {} 个时段后的休息重复", b.after_slot), format!("two breaks after slot {}", b.after_slot));
                            } else {
                                breaks.push(b);
                            }
                        }
                        Some(b) => r.errors.push(
                            field,
                            "out_of_range",
                            format!("休息应在第 1 到 {} 个时段之后、时长 1 到 480 分钟，收到第 {} 个时段后 {} 分钟", slot_count - 1, b.after_slot, b.minutes),
                            format!("a break must follow slot 1 to {} and last 1 to 480 minutes, got after slot {} for {} minutes", slot_count - 1, b.after_slot, b.minutes),
                        ),
                        None => r.errors.push(
                            field,
                            "invalid_type",
                            "休息应为 {after_slot, minutes, label} 对象",
                            "a break must be an object {after_slot, minutes, label}",
                        ),
                    }
                }
            }
            _ => r.errors.push(
                "breaks",
                "invalid_type",
                "breaks 应为列表",
                "breaks must be a list",
            ),
        }
    }
    breaks.sort_by_key(|b| b.after_slot);
    let table_count = r.int("table_count", 10, 1, 500);
    let table_names = r.strings("table_names", 500, 50);
    if table_names.len() as i64 > table_count {
        r.errors.push(
            "table_names",
            "too_many",
            format!("桌名 {} 个，多于桌数 {table_count}", table_names.len()),
            format!("{} table names for {table_count} tables", table_names.len()),
        );
    }
    let seats_per_table = r.int("seats_per_table", 4, 1, 50);
    let max_per_enterprise = r.int("max_per_enterprise", 3, 1, 50);
    let max_per_result = r.int("max_per_result", 4, 1, 50);
    let max_per_expert = r.int("max_per_expert", 3, 1, 50);
    let min_score = r.float("min_score", 0.0, 0.0, 1.0);
    let status = r
        .choice("status", STATUSES, Some("draft"))
        .unwrap_or("draft")
        .to_string();
    if let Some(start) = start {
        let end = start + slot_minutes * slot_count + breaks.iter().map(|b| b.minutes).sum::<i64>();
        if end > 24 * 60 {
            r.errors.push(
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
    let errors = r.finish(EVENT_READ_ONLY);
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
    })
}

fn draft_record(d: &EventDraft) -> Record {
    let v = serde_json::json!({
        "name": d.name, "format": d.format, "date": d.date, "venue": d.venue, "description": d.description,
        "themes": d.themes, "start_time": d.start_time, "slot_minutes": d.slot_minutes, "slot_count": d.slot_count,
        "breaks": d.breaks, "table_count": d.table_count, "table_names": d.table_names, "seats_per_table": d.seats_per_table,
        "max_per_enterprise": d.max_per_enterprise, "max_per_result": d.max_per_result, "max_per_expert": d.max_per_expert,
        "min_score": d.min_score, "status": d.status,
    });
    v.as_object().cloned().unwrap_or_default()
}

/// Start and end of one time slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
fn table_names(e: &Event, from_pairing: &[String]) -> Vec<String> {
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

/// The event as JSON: stored fields plus labels, slot times and table names.
pub fn event_json(e: &Event) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    v["format_label"] = label(FORMATS, &e.format).into();
    v["status_label"] = label(STATUSES, &e.status).into();
    v["slots"] = serde_json::to_value(slot_times(e)).unwrap_or(Value::Null);
    v["tables"] = table_names(e, &[]).into();
    v
}

/// Creates an event.
pub async fn create(ctx: &Context, rec: &Record) -> Result<Event, ApiError> {
    let d = parse_event(ctx, rec)?;
    let id = ctx.store.create_event(&d).await?;
    Ok(ctx.store.event(id).await?)
}

/// Applies a partial update (given fields replace stored ones, `null` resets to the default).
pub async fn patch(ctx: &Context, id: i64, patch: Record) -> Result<Event, ApiError> {
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
    ctx: &Context,
    f: &EventFilter,
    limit: i64,
    offset: i64,
) -> Result<Value, ApiError> {
    let page = ctx.store.events(f, limit, offset).await?;
    Ok(serde_json::json!({
        "items": page.items.iter().map(event_json).collect::<Vec<_>>(),
        "total": page.total, "limit": page.limit, "offset": page.offset,
    }))
}

fn event_not_found(id: i64) -> ApiError {
    ApiError::not_found("对接会", "event", id)
}

/// Loads an event, answering 404 in the event's words.
pub async fn load(ctx: &Context, id: i64) -> Result<Event, ApiError> {
    match ctx.store.event(id).await {
        Err(duijie_store::StoreError::NotFound { .. }) => Err(event_not_found(id)),
        other => Ok(other?),
    }
}

/// Refuses changes to a closed event, and pairing changes to a published one.
fn check_writable(e: &Event, pairing: bool) -> Result<(), ApiError> {
    if e.status == "closed" {
        return Err(ApiError::Conflict {
            code: "event_closed",
            message: "对接会已结束，不能再修改 / the event is closed and can no longer be changed"
                .into(),
        });
    }
    if pairing && e.status == "published" {
        return Err(ApiError::Conflict {
            code: "event_published",
            message: "对接安排已发布；请先将状态改回 open 再修改 / the pairing is published; set the status back to open to change it".into(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Participants
// ---------------------------------------------------------------------------------------

/// Which listing kinds an organisation of `kind` brings.
fn kinds_for(org_kind: &str) -> &'static [ListingKind] {
    match org_kind {
        "enterprise" => &[ListingKind::Need],
        "university" | "institute" => &[ListingKind::Result, ListingKind::Expert],
        _ => &[ListingKind::Need, ListingKind::Result, ListingKind::Expert],
    }
}

/// A listing named by a participant request: by store id or by organiser's id.
#[derive(Debug, Clone)]
pub enum ListingRef {
    /// Store id of a known kind.
    Id(ListingKind, i64),
    /// Organiser's id, kind given or to be found among the kinds the organisation brings.
    External(Option<ListingKind>, String),
}

/// Checks that a listing exists, belongs to `org` (of `org_kind`) and is published.
/// Errors are `(code, 中文 / English)`.
async fn check_listing(
    ctx: &Context,
    org: i64,
    org_kind: &str,
    r: &ListingRef,
) -> Result<Result<(ListingKind, i64), (&'static str, String)>, ApiError> {
    let allowed = kinds_for(org_kind);
    let (kind, id) = match r {
        ListingRef::Id(k, id) => (*k, *id),
        ListingRef::External(k, x) => {
            let mut found = Vec::new();
            for kind in allowed.iter().filter(|a| k.is_none_or(|k| k == **a)) {
                if let Some(id) = ctx.store.find_listing(*kind, x).await? {
                    found.push((*kind, id));
                }
            }
            match found.as_slice() {
                [one] => *one,
                [] => {
                    return Ok(Err((
                        "not_found",
                        format!(
                            "编号“{x}”没有对应的{} / no listing with external id '{x}' for this organization",
                            kind_names_zh(allowed)
                        ),
                    )));
                }
                _ => {
                    return Ok(Err((
                        "ambiguous",
                        format!(
                            "编号“{x}”同时对应多类项目，请写明类型 / external id '{x}' names listings of several kinds; give the kind"
                        ),
                    )));
                }
            }
        }
    };
    if !allowed.contains(&kind) {
        return Ok(Err((
            "kind_mismatch",
            format!(
                "{}只能带{}，不能带{} / an organization of kind {org_kind} brings {}, not {}",
                duijie_domain::label(duijie_domain::vocab::ORG_KINDS, org_kind).unwrap_or("该单位"),
                kind_names_zh(allowed),
                kind.label_zh(),
                allowed
                    .iter()
                    .map(|k| k.plural())
                    .collect::<Vec<_>>()
                    .join(" and "),
                kind.plural()
            ),
        )));
    }
    let (owner, status) = match kind {
        ListingKind::Need => match ctx.store.need(id).await {
            Ok(n) => (n.organization.map(|o| o.id), n.status),
            Err(duijie_store::StoreError::NotFound { .. }) => {
                return Ok(Err((
                    "not_found",
                    format!("技术需求 {id} 不存在 / need {id} not found"),
                )));
            }
            Err(e) => return Err(e.into()),
        },
        ListingKind::Result => match ctx.store.result(id).await {
            Ok(n) => (n.organization.map(|o| o.id), n.status),
            Err(duijie_store::StoreError::NotFound { .. }) => {
                return Ok(Err((
                    "not_found",
                    format!("科技成果 {id} 不存在 / result {id} not found"),
                )));
            }
            Err(e) => return Err(e.into()),
        },
        ListingKind::Expert => match ctx.store.expert(id).await {
            Ok(n) => (n.organization.map(|o| o.id), "published".to_string()),
            Err(duijie_store::StoreError::NotFound { .. }) => {
                return Ok(Err((
                    "not_found",
                    format!("专家 {id} 不存在 / expert {id} not found"),
                )));
            }
            Err(e) => return Err(e.into()),
        },
    };
    if owner != Some(org) {
        return Ok(Err((
            "wrong_organization",
            format!(
                "{}{id} 不属于该单位 / {} {id} does not belong to this organization",
                kind.label_zh(),
                kind.code()
            ),
        )));
    }
    if status != "published" {
        return Ok(Err((
            "not_published",
            format!(
                "{}{id} 未发布（状态 {status}） / {} {id} is not published (status {status})",
                kind.label_zh(),
                kind.code()
            ),
        )));
    }
    Ok(Ok((kind, id)))
}

fn kind_names_zh(kinds: &[ListingKind]) -> String {
    kinds
        .iter()
        .map(|k| k.label_zh())
        .collect::<Vec<_>>()
        .join("或")
}

/// Adds a participant from `{organization_id | organization_external_id | organization,
/// listings: [{kind, id} | {kind?, external_id}]}`; returns it and whether it is new.
pub async fn add_participant(
    ctx: &Context,
    event_id: i64,
    rec: &Record,
) -> Result<(Participant, bool), ApiError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    let mut errors = FieldErrors::default();
    for k in rec.keys() {
        if ![
            "organization_id",
            "organization_external_id",
            "organization",
            "listings",
        ]
        .contains(&k.as_str())
        {
            errors.push(
                k.clone(),
                "unknown_field",
                format!("未知字段“{k}”"),
                format!("unknown field '{k}'"),
            );
        }
    }
    let org = match (
        rec.get("organization_id"),
        rec.get("organization_external_id"),
        rec.get("organization"),
    ) {
        (Some(v), _, _) => match v.as_i64().filter(|n| *n > 0) {
            Some(id) => match ctx.store.organization(id).await {
                Ok(o) => Some(o),
                Err(duijie_store::StoreError::NotFound { .. }) => {
                    errors.push(
                        "organization_id",
                        "not_found",
                        format!("单位 {id} 不存在"),
                        format!("organization {id} does not exist"),
                    );
                    None
                }
                Err(e) => return Err(e.into()),
            },
            None => {
                errors.push(
                    "organization_id",
                    "invalid_type",
                    "organization_id 应为正整数",
                    "organization_id must be a positive integer",
                );
                None
            }
        },
        (None, x, n) if x.is_some() || n.is_some() => {
            let x = x.and_then(Value::as_str);
            let n = n.and_then(Value::as_str);
            match ctx.store.find_organization(x, n).await? {
                Some(id) => Some(ctx.store.organization(id).await?),
                None => {
                    let what = x.or(n).unwrap_or("");
                    errors.push(
                        "organization",
                        "not_found",
                        format!("单位“{what}”不存在"),
                        format!("organization '{what}' does not exist"),
                    );
                    None
                }
            }
        }
        _ => {
            errors.push(
                "organization_id",
                "required",
                "organization_id 为必填项",
                "organization_id is required",
            );
            None
        }
    };
    let mut refs = Vec::new();
    match rec.get("listings") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= 500 => {
            for (i, item) in items.iter().enumerate() {
                match parse_listing_ref(item) {
                    Ok(r) => refs.push((i, r)),
                    Err((code, zh, en)) => errors.push(format!("listings[{i}]"), code, zh, en),
                }
            }
        }
        Some(Value::Array(items)) if items.len() > 500 => errors.push(
            "listings",
            "too_many",
            "listings 最多 500 项",
            "listings has more than 500 items",
        ),
        _ => errors.push(
            "listings",
            "required",
            "listings 应为非空列表 [{kind, id}]",
            "listings must be a non-empty list of {kind, id}",
        ),
    }
    let Some(org) = org else {
        return Err(ApiError::Validation(errors));
    };
    let mut listings = Vec::new();
    for (i, r) in refs {
        match check_listing(ctx, org.id, &org.kind, &r).await? {
            Ok(l) if !listings.contains(&l) => listings.push(l),
            Ok(_) => {}
            Err((code, msg)) => errors.0.push(duijie_domain::FieldError {
                field: format!("listings[{i}]"),
                code,
                message: msg,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (pid, created) = ctx
        .store
        .add_participant(event_id, org.id, &listings)
        .await?;
    let p = ctx
        .store
        .participants(event_id)
        .await?
        .into_iter()
        .find(|p| p.id == pid)
        .ok_or_else(|| internal("participant vanished"))?;
    Ok((p, created))
}

fn parse_listing_ref(v: &Value) -> Result<ListingRef, (&'static str, String, String)> {
    let Some(o) = v.as_object() else {
        return Err((
            "invalid_type",
            "应为 {kind, id} 对象".into(),
            "must be an object {kind, id}".into(),
        ));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["kind", "id", "external_id"].contains(&k.as_str()))
    {
        return Err((
            "unknown_field",
            format!("未知字段“{k}”"),
            format!("unknown field '{k}'"),
        ));
    }
    let kind = match o.get("kind") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match ListingKind::parse(s.trim()) {
            Some(k) => Some(k),
            None => {
                return Err((
                    "invalid_choice",
                    format!("kind“{s}”无效，可选：need, result, expert"),
                    format!("kind '{s}' is not one of: need, result, expert"),
                ));
            }
        },
        Some(_) => {
            return Err((
                "invalid_type",
                "kind 应为文本".into(),
                "kind must be a string".into(),
            ));
        }
    };
    match (o.get("id"), o.get("external_id").and_then(Value::as_str)) {
        (Some(id), _) => match (kind, id.as_i64().filter(|n| *n > 0)) {
            (Some(k), Some(id)) => Ok(ListingRef::Id(k, id)),
            (None, _) => Err((
                "required",
                "按 id 指定时 kind 为必填项".into(),
                "kind is required with id".into(),
            )),
            (_, None) => Err((
                "invalid_type",
                "id 应为正整数".into(),
                "id must be a positive integer".into(),
            )),
        },
        (None, Some(x)) if !x.trim().is_empty() => {
            Ok(ListingRef::External(kind, x.trim().to_string()))
        }
        _ => Err((
            "required",
            "应给出 id 或 external_id".into(),
            "id or external_id is required".into(),
        )),
    }
}

/// Removes a participant.
pub async fn remove_participant(ctx: &Context, event_id: i64, pid: i64) -> Result<(), ApiError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    match ctx.store.remove_participant(event_id, pid).await {
        Err(duijie_store::StoreError::NotFound { .. }) => {
            Err(ApiError::not_found("参会单位", "participant", pid))
        }
        other => Ok(other?),
    }
}

/// One refused row of a participant import.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    /// 1-based line (CSV) or row (XLSX), the header being 1.
    pub line: u64,
    /// Stable code.
    pub code: &'static str,
    /// `中文 / English`.
    pub message: String,
}

/// The answer of a participant import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ParticipantImport {
    /// New participants.
    pub imported: u64,
    /// Participants already in the event that got listings added.
    pub updated: u64,
    /// Refused rows.
    pub failed: u64,
    /// Refused rows with reasons.
    pub errors: Vec<RowError>,
}

const ORG_NAME_COLUMNS: &[&str] = &[
    "organization",
    "organization_name",
    "单位",
    "单位名称",
    "企业",
    "高校",
    "参会单位",
];
const ORG_EXT_COLUMNS: &[&str] = &["organization_external_id", "单位编号"];
const LISTING_COLUMNS: &[&str] = &[
    "listings",
    "listing_external_ids",
    "external_ids",
    "项目编号",
    "对接项目编号",
    "需求/成果编号",
];
const KIND_COLUMNS: &[&str] = &["kind", "类型"];

/// Imports participants from rows of `header → value`: an organisation by name or
/// organiser's id, and the organiser's ids of its listings separated by `;`, `,`, `、` or
/// spaces. Good rows are kept whatever the bad ones.
pub async fn import_participants(
    ctx: &Context,
    event_id: i64,
    rows: TableRows,
) -> Result<ParticipantImport, ApiError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    if rows.is_empty() {
        return Err(ApiError::bad_request(
            "empty_import",
            "导入内容为空，没有任何记录",
            "the import contains no records",
        ));
    }
    let mut out = ParticipantImport::default();
    let mut good: Vec<(i64, Vec<(ListingKind, i64)>)> = Vec::new();
    let known: Vec<&str> = ORG_NAME_COLUMNS
        .iter()
        .chain(ORG_EXT_COLUMNS)
        .chain(LISTING_COLUMNS)
        .chain(KIND_COLUMNS)
        .copied()
        .collect();
    if let Some((_, first)) = rows.first()
        && let Some(k) = first.keys().find(|k| !known.contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(
            "unknown_column",
            format!("未知的列“{k}”；可用的列：单位（或 单位编号）、项目编号、类型"),
            format!(
                "unknown column '{k}'; columns are organization (or organization_external_id), listings, kind"
            ),
        ));
    }
    for (line, row) in rows {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| row.get(*n))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let fail = |out: &mut ParticipantImport, code: &'static str, message: String| {
            out.failed += 1;
            out.errors.push(RowError {
                line,
                code,
                message,
            });
        };
        let (name, ext) = (get(ORG_NAME_COLUMNS), get(ORG_EXT_COLUMNS));
        if name.is_none() && ext.is_none() {
            fail(
                &mut out,
                "required",
                "缺少单位名称或单位编号 / organization name or external id is missing".into(),
            );
            continue;
        }
        let Some(org) = ctx
            .store
            .find_organization(ext.as_deref(), name.as_deref())
            .await?
        else {
            let what = ext.or(name).unwrap_or_default();
            fail(
                &mut out,
                "not_found",
                format!("单位“{what}”不存在 / organization '{what}' does not exist"),
            );
            continue;
        };
        let org = ctx.store.organization(org).await?;
        let kind = match get(KIND_COLUMNS) {
            None => None,
            Some(k) => match ListingKind::parse(&k).or(match k.as_str() {
                "技术需求" | "需求" => Some(ListingKind::Need),
                "科技成果" | "成果" => Some(ListingKind::Result),
                "专家" => Some(ListingKind::Expert),
                _ => None,
            }) {
                Some(k) => Some(k),
                None => {
                    fail(
                        &mut out,
                        "invalid_choice",
                        format!(
                            "类型“{k}”无效，可选：need, result, expert / kind '{k}' is not one of: need, result, expert"
                        ),
                    );
                    continue;
                }
            },
        };
        let ids: Vec<String> = get(LISTING_COLUMNS)
            .unwrap_or_default()
            .split([';', '；', '、', '|', ',', '，', ' ', '\n'])
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if ids.is_empty() {
            fail(
                &mut out,
                "required",
                "缺少项目编号 / no listing external ids".into(),
            );
            continue;
        }
        let mut listings = Vec::new();
        let mut bad = None;
        for x in &ids {
            match check_listing(
                ctx,
                org.id,
                &org.kind,
                &ListingRef::External(kind, x.clone()),
            )
            .await?
            {
                Ok(l) if !listings.contains(&l) => listings.push(l),
                Ok(_) => {}
                Err(err) => {
                    bad = Some(err);
                    break;
                }
            }
        }
        match bad {
            Some((code, message)) => fail(&mut out, code, message),
            None => good.push((org.id, listings)),
        }
    }
    if !good.is_empty() {
        let mut seen = HashSet::new();
        for (pid, created) in ctx.store.add_participants(event_id, &good).await? {
            // several rows of one organisation count once
            if seen.insert(pid) {
                if created {
                    out.imported += 1
                } else {
                    out.updated += 1
                }
            }
        }
    }
    out.errors.sort_by_key(|e| e.line);
    Ok(out)
}

/// Rows of an uploaded table: 1-based line (header = 1) and `header → value`.
pub type TableRows = Vec<(u64, BTreeMap<String, String>)>;

/// Reads a participant list upload (CSV or XLSX, header row first) into rows.
pub fn read_table(format: crate::import::Format, bytes: &[u8]) -> Result<TableRows, ApiError> {
    use crate::import::Format;
    match format {
        Format::Csv { gbk } => {
            let text = if gbk {
                let (s, _, bad) = encoding_rs::GB18030.decode(bytes);
                if bad {
                    return Err(ApiError::bad_request("invalid_encoding", "CSV 文件不是有效的 GBK 编码", "the CSV file is not valid GBK"));
                }
                s.into_owned()
            } else {
                String::from_utf8(bytes.to_vec()).map_err(|_| {
                    ApiError::bad_request(
                        "invalid_encoding",
                        "CSV 文件不是 UTF-8 编码；请另存为 UTF-8，或以 Content-Type: text/csv; charset=gbk 上传 GBK 文件",
                        "the CSV file is not UTF-8; save it as UTF-8, or send GBK files with Content-Type: text/csv; charset=gbk",
                    )
                })?
            };
            let text = text.trim_start_matches('\u{feff}');
            let mut r = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(text.as_bytes());
            let mut records = r.records();
            let header: Vec<String> = match records.next() {
                None => return Ok(Vec::new()),
                Some(Err(e)) => return Err(ApiError::bad_request("invalid_csv", format!("CSV 表头无法读取：{e}"), format!("cannot read the CSV header: {e}"))),
                Some(Ok(h)) => h.iter().map(|s| s.trim().to_string()).collect(),
            };
            let mut out = Vec::new();
            for rec in records {
                let rec = rec.map_err(|e| ApiError::bad_request("invalid_csv", format!("CSV 格式错误：{e}"), format!("malformed CSV: {e}")))?;
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                let row: BTreeMap<String, String> =
                    header.iter().zip(rec.iter()).filter(|(h, v)| !h.is_empty() && !v.trim().is_empty()).map(|(h, v)| (h.clone(), v.to_string())).collect();
                if !row.is_empty() {
                    out.push((line, row));
                }
            }
            Ok(out)
        }
        Format::Xlsx => {
            use calamine::Reader;
            let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec()))
                .map_err(|e| ApiError::bad_request("invalid_xlsx", format!("无法读取 XLSX 文件：{e}"), format!("not a readable XLSX file: {e}")))?;
            let Some(sheet) = wb.sheet_names().first().cloned() else {
                return Err(ApiError::bad_request("invalid_xlsx", "XLSX 文件没有工作表", "the XLSX file has no sheet"));
            };
            let range = wb
                .worksheet_range(&sheet)
                .map_err(|e| ApiError::bad_request("invalid_xlsx", format!("无法读取工作表：{e}"), format!("cannot read the sheet: {e}")))?;
            let mut rows = range.rows();
            let Some(header) = rows.next() else { return Ok(Vec::new()) };
            let header: Vec<String> = header.iter().map(|c| cell_text(c).trim().to_string()).collect();
            let mut out = Vec::new();
            for (i, r) in rows.enumerate() {
                let row: BTreeMap<String, String> =
                    header.iter().zip(r.iter()).map(|(h, c)| (h.clone(), cell_text(c))).filter(|(h, v)| !h.is_empty() && !v.trim().is_empty()).collect();
                if !row.is_empty() {
                    out.push((i as u64 + 2, row));
                }
            }
            Ok(out)
        }
        Format::Jsonl => Err(ApiError::UnsupportedMediaType(
            "参会名单请用 CSV（text/csv）或 XLSX 上传 / upload participant lists as CSV (text/csv) or XLSX".into(),
        )),
    }
}

fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Names of everything an event shows
// ---------------------------------------------------------------------------------------

/// Names of the organisations and listings of an event, from its participants.
#[derive(Debug, Default)]
struct Names {
    orgs: HashMap<i64, (String, String)>,
    listings: HashMap<(ListingKind, i64), (Option<String>, i64)>,
}

impl Names {
    fn of(participants: &[Participant]) -> Names {
        let mut n = Names::default();
        for p in participants {
            n.orgs.insert(
                p.organization_id,
                (p.organization_name.clone(), p.organization_kind.clone()),
            );
            for l in &p.listings {
                n.listings
                    .insert((l.kind, l.id), (l.title.clone(), p.organization_id));
            }
        }
        n
    }

    fn org(&self, id: i64) -> String {
        self.orgs
            .get(&id)
            .map(|o| o.0.clone())
            .unwrap_or_else(|| format!("单位 {id}（已退出）"))
    }

    fn title(&self, kind: ListingKind, id: i64) -> Option<String> {
        self.listings.get(&(kind, id)).and_then(|l| l.0.clone())
    }

    fn owner(&self, kind: ListingKind, id: i64) -> Option<i64> {
        self.listings.get(&(kind, id)).map(|l| l.1)
    }
}

// ---------------------------------------------------------------------------------------
// Preferences
// ---------------------------------------------------------------------------------------

/// A preference with the names of who and whom.
#[derive(Debug, Clone, Serialize)]
pub struct PreferenceView {
    /// The stored preference.
    #[serde(flatten)]
    pub preference: Preference,
    /// Enterprise name.
    pub enterprise_name: String,
    /// Need title when the preference is about one need.
    pub need_title: Option<String>,
    /// Result title or expert name.
    pub partner_title: Option<String>,
    /// The partner's organisation.
    pub partner_organization_name: Option<String>,
}

fn preference_view(p: Preference, names: &Names) -> PreferenceView {
    let owner = names.owner(p.partner_kind, p.partner_id);
    PreferenceView {
        enterprise_name: names.org(p.enterprise_id),
        need_title: p.need_id.and_then(|n| names.title(ListingKind::Need, n)),
        partner_title: names.title(p.partner_kind, p.partner_id),
        partner_organization_name: owner.map(|o| names.org(o)),
        preference: p,
    }
}

/// The preferences of an event.
pub async fn preferences(ctx: &Context, event_id: i64) -> Result<Vec<PreferenceView>, ApiError> {
    load(ctx, event_id).await?;
    let names = Names::of(&ctx.store.participants(event_id).await?);
    Ok(ctx
        .store
        .preferences(event_id)
        .await?
        .into_iter()
        .map(|p| preference_view(p, &names))
        .collect())
}

/// The ids naming an enterprise (a need, or the organisation) and a partner (a result or
/// an expert), as preferences and added meetings give them.
struct PairIds {
    need_id: Option<i64>,
    org_id: Option<i64>,
    result_id: Option<i64>,
    expert_id: Option<i64>,
}

impl PairIds {
    fn read(r: &mut In<'_>) -> PairIds {
        let mut id =
            |name: &'static str| r.raw(name).is_some().then(|| r.int(name, 0, 1, i64::MAX));
        PairIds {
            need_id: id("need_id"),
            org_id: id("organization_id"),
            result_id: id("result_id"),
            expert_id: id("expert_id"),
        }
    }
}

/// The enterprise owning need `n` in this event, checked against `org` when both are given.
fn need_owner(names: &Names, n: i64, org: Option<i64>, errors: &mut FieldErrors) -> Option<i64> {
    match names.owner(ListingKind::Need, n) {
        Some(owner) if org.is_none_or(|o| o == owner) => Some(owner),
        Some(_) => {
            errors.push(
                "organization_id",
                "mismatch",
                "organization_id 与该需求所属单位不一致",
                "organization_id is not the need's organization",
            );
            None
        }
        None => {
            errors.push(
                "need_id",
                "not_participating",
                format!("技术需求 {n} 不在本次对接会中"),
                format!("need {n} does not take part in this event"),
            );
            None
        }
    }
}

/// Records an error when the partner does not take part in this event.
fn check_partner(names: &Names, partner: Option<(ListingKind, i64)>, errors: &mut FieldErrors) {
    if let Some((k, id)) = partner
        && names.owner(k, id).is_none()
    {
        let field = if k == ListingKind::Result {
            "result_id"
        } else {
            "expert_id"
        };
        errors.push(
            field,
            "not_participating",
            format!("{}{id} 不在本次对接会中", k.label_zh()),
            format!("{} {id} does not take part in this event", k.code()),
        );
    }
}

/// Records a preference from `{need_id | organization_id, result_id | expert_id, side,
/// preference}`; returns it and whether it is new (a side's new word on the same pair
/// replaces its old one).
pub async fn set_preference(
    ctx: &Context,
    event_id: i64,
    rec: &Record,
) -> Result<(PreferenceView, bool), ApiError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    let participants = ctx.store.participants(event_id).await?;
    let names = Names::of(&participants);
    let mut r = In::new(rec);
    let PairIds {
        need_id,
        org_id,
        result_id,
        expert_id,
    } = PairIds::read(&mut r);
    let side = r.choice("side", SIDES, None);
    let preference = r.choice("preference", PREFERENCES, None);
    let mut errors = r.finish(&[]);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let enterprise = match (need_id, org_id) {
        (Some(n), o) => need_owner(&names, n, o, &mut errors),
        (None, Some(o)) => {
            let brings_needs = participants.iter().any(|p| {
                p.organization_id == o && p.listings.iter().any(|l| l.kind == ListingKind::Need)
            });
            if brings_needs {
                Some(o)
            } else {
                errors.push(
                    "organization_id",
                    "not_participating",
                    format!("单位 {o} 没有带技术需求参加本次对接会"),
                    format!("organization {o} takes part in this event with no need"),
                );
                None
            }
        }
        (None, None) => {
            errors.push(
                "need_id",
                "required",
                "需要 need_id 或 organization_id（企业）",
                "need_id or organization_id (the enterprise) is required",
            );
            None
        }
    };
    let partner = match (result_id, expert_id) {
        (Some(id), None) => Some((ListingKind::Result, id)),
        (None, Some(id)) => Some((ListingKind::Expert, id)),
        (Some(_), Some(_)) => {
            errors.push(
                "expert_id",
                "exclusive",
                "result_id 与 expert_id 只能给一个",
                "give result_id or expert_id, not both",
            );
            None
        }
        (None, None) => {
            errors.push(
                "result_id",
                "required",
                "需要 result_id 或 expert_id",
                "result_id or expert_id is required",
            );
            None
        }
    };
    check_partner(&names, partner, &mut errors);
    if side == Some("organizer") && preference == Some("like") {
        errors.push(
            "preference",
            "invalid_choice",
            "组织者可指定 must、no 或 conflict，不能指定 like",
            "the organizer sets must, no or conflict, not like",
        );
    }
    let (Some(enterprise), Some((partner_kind, partner_id)), Some(side), Some(preference)) =
        (enterprise, partner, side, preference)
    else {
        return Err(ApiError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let d = PreferenceDraft {
        enterprise_id: enterprise,
        need_id,
        partner_kind,
        partner_id,
        side: side.into(),
        preference: preference.into(),
    };
    let (id, created) = ctx.store.upsert_preference(event_id, &d).await?;
    Ok((
        preference_view(ctx.store.preference(event_id, id).await?, &names),
        created,
    ))
}

/// Deletes a preference.
pub async fn delete_preference(ctx: &Context, event_id: i64, id: i64) -> Result<(), ApiError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    match ctx.store.delete_preference(event_id, id).await {
        Err(duijie_store::StoreError::NotFound { .. }) => {
            Err(ApiError::not_found("意向", "preference", id))
        }
        other => Ok(other?),
    }
}

// ---------------------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------------------

/// Largest number of salient terms of a need used as its query.
const QUERY_TERMS: usize = 32;

/// Matching scores of every need against every partner (result or expert), in `[0, 1]`:
/// `(need id, partner kind, partner id, score)`, pairs without any common term left out.
///
/// The one place scores are made, so it can be switched to the matching engine when that
/// lands. For now: each need's query is its most salient terms (TF-IDF over the index,
/// title, keywords and description together), run against the index restricted to the
/// event's partners, and BM25 is divided by the need's best score, so every need's best
/// partner scores 1 and the rest are relative to it. Blocking; deterministic for one index
/// state.
/// Candidate pairs re-scored by the matching engine: the search index proposes, for each
/// need, the event's partners sharing its salient terms (BM25, best
/// [`ENGINE_CANDIDATES_PER_NEED`]), and the engine's explainable model scores each pair
/// (text relevance, industry, region, maturity, modes, budget, freshness) with the configured
/// weights. Pairs sharing no term are not candidates: the engine's neutral values for
/// unknown fields would otherwise make every pair look plausible.
pub fn event_scores(
    ctx: &Context,
    needs: &[ListingText],
    partners: &[ListingText],
) -> Result<Vec<(i64, ListingKind, i64, f64)>, ApiError> {
    let candidates = bm25_candidates(ctx, needs, partners)?;
    let matcher = &ctx.matcher;
    let weights = ctx.settings.matching.weights;
    let mut prepared_needs = HashMap::new();
    for n in needs {
        prepared_needs.insert(n.id, matcher.prepare(n)?);
    }
    let mut prepared_partners = HashMap::new();
    for p in partners {
        prepared_partners.insert((p.kind, p.id), matcher.prepare(p)?);
    }
    let mut per_need: BTreeMap<i64, Vec<(ListingKind, i64, f64)>> = BTreeMap::new();
    for (need, kind, id, bm25) in candidates {
        per_need.entry(need).or_default().push((kind, id, bm25));
    }
    let mut out = Vec::new();
    for (need, mut cands) in per_need {
        cands.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
        cands.truncate(ENGINE_CANDIDATES_PER_NEED);
        let Some(pn) = prepared_needs.get(&need) else {
            continue;
        };
        for (kind, id, _) in cands {
            let Some(pp) = prepared_partners.get(&(kind, id)) else {
                continue;
            };
            let score = matcher.pair_score_only(pn, pp, &weights, None)?;
            out.push((need, kind, id, (score * 1e4).round() / 1e4));
        }
    }
    out.sort_by_key(|a| (a.0, a.1, a.2));
    Ok(out)
}

/// Candidates per need re-scored by the engine.
pub const ENGINE_CANDIDATES_PER_NEED: usize = 40;

fn bm25_candidates(
    ctx: &Context,
    needs: &[ListingText],
    partners: &[ListingText],
) -> Result<Vec<(i64, ListingKind, i64, f64)>, ApiError> {
    use duijie_index::query::{FieldWeights, WeightedTerm, text_query, weighted_terms_query};
    use tantivy::collector::{DocSetCollector, TopDocs};
    use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermSetQuery};
    use tantivy::schema::Value as _;
    if needs.is_empty() || partners.is_empty() {
        return Ok(Vec::new());
    }
    let index = &ctx.index;
    let f = index.fields();
    let searcher = index.searcher();
    let keys: Vec<tantivy::Term> = partners
        .iter()
        .map(|p| tantivy::Term::from_field_text(f.key, &format!("{}:{}", p.kind.code(), p.id)))
        .collect();
    let filter = TermSetQuery::new(keys);
    // which document is which partner
    let docs = searcher
        .search(&filter, &DocSetCollector)
        .map_err(internal)?;
    let mut who: HashMap<tantivy::DocAddress, (ListingKind, i64)> =
        HashMap::with_capacity(docs.len());
    for addr in docs {
        let doc: tantivy::TantivyDocument = searcher.doc(addr).map_err(internal)?;
        let kind = doc
            .get_first(f.kind)
            .and_then(|v| v.as_str())
            .and_then(ListingKind::parse);
        let id = doc.get_first(f.id).and_then(|v| v.as_i64());
        if let (Some(kind), Some(id)) = (kind, id) {
            who.insert(addr, (kind, id));
        }
    }
    let n_docs = index.num_docs().max(1) as f32;
    let idf = |t: &str| -> Option<f32> {
        let df = index.doc_freq(t);
        (df > 0).then(|| (n_docs / df as f32).ln().max(0.01))
    };
    let weights = FieldWeights {
        org: 0.0,
        ..FieldWeights::default()
    };
    let mut out = Vec::new();
    for need in needs {
        let text = format!(
            "{}\n{}\n{}",
            need.title,
            need.keywords.join("，"),
            need.body
        );
        let terms: Vec<WeightedTerm> =
            duijie_text::salient_terms(index.analyzer(), &text, &idf, &ctx.stopwords, QUERY_TERMS)
                .into_iter()
                .map(|(term, weight)| WeightedTerm { term, weight })
                .collect();
        let q = match weighted_terms_query(f, &weights, &terms) {
            Some(q) => q,
            None => {
                match text_query(index.analyzer(), index.synonyms(), f, &weights, &need.title) {
                    Some(q) => q,
                    None => continue,
                }
            }
        };
        let clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, q),
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(filter.clone()), 0.0)),
            ),
        ];
        let top = searcher
            .search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(partners.len()).order_by_score(),
            )
            .map_err(internal)?;
        let best = top.first().map(|(s, _)| *s).unwrap_or(0.0);
        if best <= 0.0 {
            continue;
        }
        let mut scored: Vec<(ListingKind, i64, f64)> = top
            .iter()
            .filter(|(s, _)| *s > 0.0)
            .filter_map(|(s, addr)| {
                who.get(addr).map(|(k, id)| {
                    (
                        *k,
                        *id,
                        ((f64::from(*s) / f64::from(best)) * 1e4).round() / 1e4,
                    )
                })
            })
            .collect();
        scored.sort_by_key(|a| (a.0, a.1));
        out.extend(scored.into_iter().map(|(k, id, s)| (need.id, k, id, s)));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Building the instance (pure)
// ---------------------------------------------------------------------------------------

/// Solver id of an enterprise organisation.
pub fn enterprise_key(org: i64) -> String {
    format!("e{org}")
}

/// Solver id of a result or expert.
pub fn partner_key(kind: ListingKind, id: i64) -> String {
    match kind {
        ListingKind::Expert => format!("x{id}"),
        _ => format!("r{id}"),
    }
}

fn parse_enterprise_key(s: &str) -> Option<i64> {
    s.strip_prefix('e')?.parse().ok()
}

fn parse_partner_key(s: &str) -> Option<(ListingKind, i64)> {
    match s.split_at_checked(1)? {
        ("r", id) => Some((ListingKind::Result, id.parse().ok()?)),
        ("x", id) => Some((ListingKind::Expert, id.parse().ok()?)),
        _ => None,
    }
}

/// An enterprise taking part with its needs.
#[derive(Debug, Clone)]
pub struct EnterpriseIn {
    /// Organisation id.
    pub org_id: i64,
    /// Its participating, published needs.
    pub needs: Vec<i64>,
}

/// A result or expert taking part.
#[derive(Debug, Clone)]
pub struct PartnerIn {
    /// Result or expert.
    pub kind: ListingKind,
    /// Listing id.
    pub id: i64,
    /// Owning organisation.
    pub org_id: i64,
    /// Industry code (roundtable tables).
    pub industry: Option<String>,
}

/// What a pair of the instance stands for: the need the meeting is recorded with and the
/// score before preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateMeta {
    /// Enterprise key.
    pub enterprise: String,
    /// Partner key.
    pub partner: String,
    /// The need the meeting is recorded with (0 when the enterprise has none).
    pub need_id: i64,
    /// Matching score before preferences.
    pub base_score: f64,
}

/// A "must" that could not be honoured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IgnoredForced {
    /// Enterprise key.
    pub enterprise: String,
    /// Partner key.
    pub partner: String,
    /// `conflicts` or `capacity`.
    pub reason_code: String,
    /// `中文 / English`.
    pub reason: String,
}

/// An event turned into a solver instance.
#[derive(Debug, Clone)]
pub struct Built {
    /// The instance.
    pub instance: Instance,
    /// Every pair that may meet, with its need and base score.
    pub candidates: Vec<CandidateMeta>,
    /// Forced pairs that were dropped.
    pub ignored_forced: Vec<IgnoredForced>,
}

#[derive(Debug, Default)]
struct Agg {
    forbid: bool,
    must: Option<(i64, Option<i64>)>,
    ent_like: bool,
    uni_like: bool,
}

/// Builds the solver instance of an event (see the module documentation). `grouped`
/// formats get unbounded slots and tables: their own layout places the meetings.
pub fn build_instance(
    e: &Event,
    enterprises: &[EnterpriseIn],
    partners: &[PartnerIn],
    need_scores: &[(i64, ListingKind, i64, f64)],
    prefs: &[Preference],
) -> Built {
    let grouped = e.format != "fair";
    let (slots, tables) = if grouped {
        (UNBOUNDED, UNBOUNDED)
    } else {
        (e.slot_count, e.table_count)
    };
    let need_org: HashMap<i64, i64> = enterprises
        .iter()
        .flat_map(|x| x.needs.iter().map(move |n| (*n, x.org_id)))
        .collect();
    let ent_set: HashSet<i64> = enterprises.iter().map(|x| x.org_id).collect();
    let partner_org: HashMap<(ListingKind, i64), i64> = partners
        .iter()
        .map(|p| ((p.kind, p.id), p.org_id))
        .collect();
    let first_need: HashMap<i64, i64> = enterprises
        .iter()
        .map(|x| (x.org_id, x.needs.iter().copied().min().unwrap_or(0)))
        .collect();

    // best need per (enterprise, partner)
    let mut best: BTreeMap<(i64, ListingKind, i64), (f64, i64)> = BTreeMap::new();
    for &(need, kind, pid, score) in need_scores {
        let (Some(&org), true) = (need_org.get(&need), partner_org.contains_key(&(kind, pid)))
        else {
            continue;
        };
        if !(score.is_finite() && score > 0.0) {
            continue;
        }
        let cur = best.entry((org, kind, pid)).or_insert((score, need));
        if score > cur.0 || (score == cur.0 && need < cur.1) {
            *cur = (score, need);
        }
    }
    // preferences per (enterprise, partner); oldest first, so the first "must" wins
    let mut agg: BTreeMap<(i64, ListingKind, i64), Agg> = BTreeMap::new();
    let mut prefs: Vec<&Preference> = prefs.iter().collect();
    prefs.sort_by_key(|p| p.id);
    for p in &prefs {
        if !ent_set.contains(&p.enterprise_id)
            || !partner_org.contains_key(&(p.partner_kind, p.partner_id))
        {
            continue;
        }
        let a = agg
            .entry((p.enterprise_id, p.partner_kind, p.partner_id))
            .or_default();
        match p.preference.as_str() {
            "no" | "conflict" => a.forbid = true,
            "must" if a.must.is_none() => a.must = Some((p.id, p.need_id)),
            "like" if p.side == "enterprise" => a.ent_like = true,
            "like" => a.uni_like = true,
            _ => {}
        }
    }
    let same_org =
        |org: i64, kind: ListingKind, pid: i64| partner_org.get(&(kind, pid)) == Some(&org);
    let forbidden = |k: &(i64, ListingKind, i64)| {
        agg.get(k).is_some_and(|a| a.forbid) || same_org(k.0, k.1, k.2)
    };

    let mut keys: BTreeSet<(i64, ListingKind, i64)> = best.keys().copied().collect();
    keys.extend(
        agg.iter()
            .filter(|(_, a)| a.ent_like || a.uni_like || a.must.is_some())
            .map(|(k, _)| *k),
    );
    let mut scores = Vec::new();
    let mut protected = Vec::new();
    let mut candidates = Vec::new();
    let mut forbidden_pairs = Vec::new();
    let mut forbidden_scores = Vec::new();
    for k in &keys {
        let (ek, pk) = (enterprise_key(k.0), partner_key(k.1, k.2));
        if forbidden(k) {
            // kept in the scores (the solver never uses a forbidden pair) so that shortfalls
            // are explained as conflicts rather than as a lack of candidates
            if let Some((base, _)) = best.get(k) {
                forbidden_scores.push(ScoreEntry {
                    enterprise: ek.clone(),
                    result: pk.clone(),
                    score: (base * 1e6).round() / 1e6,
                });
            }
            forbidden_pairs.push((ek, pk));
            continue;
        }
        let a = agg.get(k);
        let (base, need) = best.get(k).copied().unwrap_or((0.0, 0));
        let must_need = a
            .and_then(|a| a.must)
            .and_then(|m| m.1)
            .filter(|n| need_org.get(n) == Some(&k.0));
        let need = must_need.unwrap_or(if need != 0 {
            need
        } else {
            first_need.get(&k.0).copied().unwrap_or(0)
        });
        let likes = a
            .map(|a| u8::from(a.ent_like) + u8::from(a.uni_like))
            .unwrap_or(0);
        let score =
            base + LIKE_BONUS * f64::from(likes) + if likes == 2 { MUTUAL_BONUS } else { 0.0 };
        candidates.push(CandidateMeta {
            enterprise: ek.clone(),
            partner: pk.clone(),
            need_id: need,
            base_score: base,
        });
        if score > 0.0 {
            protected.push(likes > 0 || a.is_some_and(|a| a.must.is_some()));
            scores.push(ScoreEntry {
                enterprise: ek,
                result: pk,
                score: (score * 1e6).round() / 1e6,
            });
        }
    }
    let cap_of = |kind: ListingKind| {
        if kind == ListingKind::Expert {
            e.max_per_expert
        } else {
            e.max_per_result
        }
    };
    let k_e = (SPARSIFY_FACTOR * e.max_per_enterprise as usize).max(SPARSIFY_MIN);
    let k_r = (SPARSIFY_FACTOR * e.max_per_result.max(e.max_per_expert) as usize).max(SPARSIFY_MIN);
    let kept: HashSet<(String, String)> = duijie_match::sparsify(&scores, k_e, k_r)
        .into_iter()
        .map(|s| (s.enterprise, s.result))
        .collect();
    let mut scores: Vec<ScoreEntry> = scores
        .into_iter()
        .zip(protected)
        .filter(|(s, p)| *p || kept.contains(&(s.enterprise.clone(), s.result.clone())))
        .map(|(s, _)| s)
        .collect();
    scores.extend(forbidden_scores);

    // forced pairs within capacities, oldest "must" first
    let mut musts: Vec<(i64, (i64, ListingKind, i64))> = agg
        .iter()
        .filter_map(|(k, a)| a.must.map(|m| (m.0, *k)))
        .collect();
    musts.sort();
    let mut forced = Vec::new();
    let mut ignored_forced = Vec::new();
    let mut n_e: HashMap<i64, i64> = HashMap::new();
    let mut n_p: HashMap<(ListingKind, i64), i64> = HashMap::new();
    for (_, k) in musts {
        let (ek, pk) = (enterprise_key(k.0), partner_key(k.1, k.2));
        if forbidden(&k) {
            let (zh, en) = if same_org(k.0, k.1, k.2) {
                ("同一单位不安排会谈", "an organization does not meet itself")
            } else {
                (
                    "一方表示不必会谈或声明了利益冲突",
                    "one side said no or declared a conflict",
                )
            };
            ignored_forced.push(IgnoredForced {
                enterprise: ek,
                partner: pk,
                reason_code: "conflicts".into(),
                reason: format!("{zh} / {en}"),
            });
            continue;
        }
        let ce = n_e.get(&k.0).copied().unwrap_or(0);
        let cp = n_p.get(&(k.1, k.2)).copied().unwrap_or(0);
        let slot_limit = if grouped { i64::MAX } else { slots };
        let over_cap = ce >= e.max_per_enterprise || cp >= cap_of(k.1);
        let over_slots = ce >= slot_limit
            || cp >= slot_limit
            || (!grouped && forced.len() as i64 >= slots * tables);
        if over_cap || over_slots {
            let (zh, en) = if over_cap {
                (
                    "指定会谈已达到容量上限",
                    "the forced meetings already reach a capacity",
                )
            } else {
                (
                    "指定会谈已占满时段或桌位",
                    "the forced meetings already fill the slots or tables",
                )
            };
            ignored_forced.push(IgnoredForced {
                enterprise: ek,
                partner: pk,
                reason_code: "capacity".into(),
                reason: format!("{zh} / {en}"),
            });
            continue;
        }
        *n_e.entry(k.0).or_default() += 1;
        *n_p.entry((k.1, k.2)).or_default() += 1;
        forced.push((ek, pk));
    }
    let instance = Instance {
        enterprises: enterprises
            .iter()
            .map(|x| Party {
                id: enterprise_key(x.org_id),
                capacity: e.max_per_enterprise,
            })
            .collect(),
        results: partners
            .iter()
            .map(|p| Party {
                id: partner_key(p.kind, p.id),
                capacity: cap_of(p.kind),
            })
            .collect(),
        scores,
        forbidden: forbidden_pairs,
        forced,
        min_score: e.min_score,
        slots,
        tables,
    };
    Built {
        instance,
        candidates,
        ignored_forced,
    }
}

// ---------------------------------------------------------------------------------------
// Grouped layouts (pure)
// ---------------------------------------------------------------------------------------

/// A meeting to lay out: enterprise index, partner index, score.
pub type LayoutMeeting = (usize, usize, f64);

/// Placed meetings `(meeting, slot, table)` and the rest with reasons.
pub type Layout = (Vec<(usize, u32, u32)>, Vec<(usize, String)>);

/// Parlour layout: each enterprise hosts its visitors together (see the module docs).
pub fn layout_parlour(
    meetings: &[LayoutMeeting],
    n_enterprises: usize,
    n_partners: usize,
    slots: usize,
    tables: usize,
) -> Layout {
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n_enterprises];
    for (k, m) in meetings.iter().enumerate() {
        groups[m.0].push(k);
    }
    for g in &mut groups {
        g.sort_by(|a, b| meetings[*b].2.total_cmp(&meetings[*a].2).then(a.cmp(b)));
    }
    let mut order: Vec<usize> = (0..n_enterprises)
        .filter(|e| !groups[*e].is_empty())
        .collect();
    order.sort_by(|a, b| groups[*b].len().cmp(&groups[*a].len()).then(a.cmp(b)));
    let mut partner_busy = vec![vec![false; slots]; n_partners];
    let mut host_busy = vec![vec![false; slots]; n_enterprises];
    let mut used_tables = vec![0usize; slots];
    let (mut placed, mut dropped) = (Vec::new(), Vec::new());
    for e in order {
        let mut remaining = groups[e].clone();
        while !remaining.is_empty() {
            let best = (0..slots)
                .filter(|&s| !host_busy[e][s] && used_tables[s] < tables)
                .map(|s| {
                    (
                        remaining
                            .iter()
                            .filter(|&&k| !partner_busy[meetings[k].1][s])
                            .count(),
                        s,
                    )
                })
                .filter(|(n, _)| *n > 0)
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            let Some((_, s)) = best else {
                let no_table = (0..slots).all(|s| host_busy[e][s] || used_tables[s] >= tables);
                let reason = if no_table {
                    format!(
                        "桌位不足：{slots} 个时段 × {tables} 张桌已用完 / not enough tables: all {slots} slots x {tables} tables are taken"
                    )
                } else {
                    "来访者在企业有空桌的所有时段都已安排其他拜访 / the visitor is busy in every slot in which the host has a free table".to_string()
                };
                dropped.extend(remaining.iter().map(|&k| (k, reason.clone())));
                break;
            };
            let table = used_tables[s];
            used_tables[s] += 1;
            host_busy[e][s] = true;
            let (now, later): (Vec<usize>, Vec<usize>) = remaining
                .iter()
                .partition(|&&k| !partner_busy[meetings[k].1][s]);
            for k in now {
                partner_busy[meetings[k].1][s] = true;
                placed.push((k, s as u32, table as u32));
            }
            remaining = later;
        }
    }
    dropped.sort_by_key(|d| d.0);
    (placed, dropped)
}

/// Theme tables of a roundtable: the home table of each partner (by industry: the event's
/// themes in order, then other industries by size, then those without one), and the
/// industries seated at each table.
pub fn roundtable_tables(
    industries: &[Option<String>],
    themes: &[String],
    tables: usize,
) -> (Vec<u32>, Vec<Vec<Option<String>>>) {
    let mut count: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for i in industries {
        *count.entry(i.clone()).or_default() += 1;
    }
    let mut groups: Vec<Option<String>> = themes
        .iter()
        .filter(|t| count.contains_key(&Some((*t).clone())))
        .map(|t| Some(t.clone()))
        .collect();
    let mut rest: Vec<(&Option<String>, &usize)> = count
        .iter()
        .filter(|(k, _)| k.is_some() && !groups.contains(k))
        .collect();
    rest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    groups.extend(rest.into_iter().map(|(k, _)| k.clone()));
    if count.contains_key(&None) {
        groups.push(None);
    }
    let tables = tables.max(1);
    let mut seated = vec![Vec::new(); tables];
    for (i, g) in groups.iter().enumerate() {
        seated[i % tables].push(g.clone());
    }
    let home = industries
        .iter()
        .map(|i| (groups.iter().position(|g| g == i).unwrap_or(0) % tables) as u32)
        .collect();
    (home, seated)
}

/// Roundtable layout: each enterprise visits, one slot each, the home tables of its
/// partners, at most `seats` enterprises per table and slot.
pub fn layout_roundtable(
    meetings: &[LayoutMeeting],
    n_enterprises: usize,
    home: &[u32],
    slots: usize,
    tables: usize,
    seats: usize,
) -> Layout {
    let mut visits: BTreeMap<(usize, u32), Vec<usize>> = BTreeMap::new();
    for (k, m) in meetings.iter().enumerate() {
        visits.entry((m.0, home[m.1])).or_default().push(k);
    }
    let mut per_ent: Vec<Vec<(u32, Vec<usize>)>> = vec![Vec::new(); n_enterprises];
    for ((e, t), ks) in visits {
        per_ent[e].push((t, ks));
    }
    let mut ent_busy = vec![vec![false; slots]; n_enterprises];
    let mut seats_used = vec![vec![0usize; slots]; tables.max(1)];
    let (mut placed, mut dropped) = (Vec::new(), Vec::new());
    for (e, vs) in per_ent.iter_mut().enumerate() {
        vs.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        for (t, ks) in vs.iter() {
            let slot = (0..slots).find(|&s| !ent_busy[e][s] && seats_used[*t as usize][s] < seats);
            match slot {
                Some(s) => {
                    ent_busy[e][s] = true;
                    seats_used[*t as usize][s] += 1;
                    placed.extend(ks.iter().map(|&k| (k, s as u32, *t)));
                }
                None => {
                    let reason = format!(
                        "{}号桌在企业有空的时段都已坐满（每桌每时段 {seats} 家企业） / table {} is full ({seats} enterprises per slot) in every slot the enterprise is free",
                        t + 1,
                        t + 1
                    );
                    dropped.extend(ks.iter().map(|&k| (k, reason.clone())));
                }
            }
        }
    }
    placed.sort_by_key(|p| (p.1, p.2, p.0));
    dropped.sort_by_key(|d| d.0);
    (placed, dropped)
}

// ---------------------------------------------------------------------------------------
// Generating
// ---------------------------------------------------------------------------------------

/// What is stored beside the meetings of a pairing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredReport {
    /// Format the pairing was made for.
    pub format: String,
    /// Participants with fewer meetings than their capacity.
    pub unplaced: Vec<Unplaced>,
    /// Assigned meetings without slot or table.
    pub unseated: Vec<Unseated>,
    /// "must" pairs that were dropped.
    pub ignored_forced: Vec<IgnoredForced>,
    /// Solver counters.
    pub stats: Stats,
    /// Every pair that may meet.
    pub candidates: Vec<CandidateMeta>,
    /// Table names made by the layout (roundtable themes).
    pub table_names: Vec<String>,
}

struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn pair_error(e: duijie_match::PairError) -> ApiError {
    match e {
        duijie_match::PairError::Cancelled => ApiError::Unavailable("pairing was cancelled".into()),
        e => ApiError::Conflict {
            code: e.code(),
            message: format!("{} / {e}", e.message_zh()),
        },
    }
}

/// Generates the event's pairing and schedule, replacing the previous one.
#[tracing::instrument(skip_all, fields(event_id))]
pub async fn generate(ctx: &Context, event_id: i64) -> Result<PairingView, ApiError> {
    let started = std::time::Instant::now();
    // one generation per event at a time, across every process on this database; the lease
    // outlives the solver's deadline, so only a killed process leaves a lock to lapse
    let holder = format!("{}-{}", std::process::id(), crate::auth::random_hex(8)?);
    let lease_ms = (SOLVE_TIMEOUT.as_millis() as i64) * 3;
    if !ctx
        .store
        .try_lock_pairing(event_id, &holder, lease_ms)
        .await?
    {
        return Err(ApiError::Conflict {
            code: "pairing_running",
            message: "该对接会正在生成对接安排，请等它完成后再试 / pairing of this event is already running; try again when it has finished".into(),
        });
    }
    let r = generate_run(ctx, event_id, started).await;
    if let Err(e) = ctx.store.unlock_pairing(event_id, &holder).await {
        tracing::warn!(event_id, error = %e, "releasing the pairing lock failed; it lapses with its lease");
    }
    ctx.metrics
        .pairing_run(crate::metrics::Outcome::of(&r), started.elapsed());
    r
}

async fn generate_run(
    ctx: &Context,
    event_id: i64,
    started: std::time::Instant,
) -> Result<PairingView, ApiError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, true)?;
    let participants = ctx.store.participants(event_id).await?;
    let prefs = ctx.store.preferences(event_id).await?;

    let published = |l: &duijie_store::ParticipantListing| {
        l.title.is_some() && l.status.as_deref() == Some("published")
    };
    let mut enterprises = Vec::new();
    let mut partners = Vec::new();
    for p in &participants {
        let needs: Vec<i64> = p
            .listings
            .iter()
            .filter(|l| l.kind == ListingKind::Need && published(l))
            .map(|l| l.id)
            .collect();
        if !needs.is_empty() {
            enterprises.push(EnterpriseIn {
                org_id: p.organization_id,
                needs,
            });
        }
        for l in p
            .listings
            .iter()
            .filter(|l| l.kind != ListingKind::Need && published(l))
        {
            partners.push(PartnerIn {
                kind: l.kind,
                id: l.id,
                org_id: p.organization_id,
                industry: l.industry.clone(),
            });
        }
    }
    enterprises.sort_by_key(|x| x.org_id);
    partners.sort_by_key(|p| (p.kind, p.id));
    let need_ids: Vec<i64> = enterprises
        .iter()
        .flat_map(|x| x.needs.iter().copied())
        .collect();
    let need_texts = ctx
        .store
        .listing_texts(ListingKind::Need, &need_ids)
        .await?;
    let mut partner_texts = Vec::new();
    for kind in [ListingKind::Result, ListingKind::Expert] {
        let ids: Vec<i64> = partners
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.id)
            .collect();
        partner_texts.extend(ctx.store.listing_texts(kind, &ids).await?);
    }
    let need_scores = {
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || event_scores(&ctx, &need_texts, &partner_texts))
            .await??
    };
    let built = build_instance(&e, &enterprises, &partners, &need_scores, &prefs);

    let cancel = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    let opts = SolveOptions {
        cancel: Some(cancel.clone()),
        progress: Some(Arc::new(move |p: duijie_match::Progress| {
            tracing::debug!(
                event_id,
                phase = p.phase,
                done = p.done,
                total = p.total,
                "pairing progress"
            );
        })),
    };
    let instance = built.instance.clone();
    let task = tokio::task::spawn_blocking(move || duijie_match::solve(&instance, &opts));
    let solution = match tokio::time::timeout(SOLVE_TIMEOUT, task).await {
        Ok(joined) => joined?.map_err(pair_error)?,
        Err(_) => {
            cancel.store(true, Ordering::Relaxed);
            return Err(ApiError::Unavailable(format!(
                "pairing of event {event_id} exceeded {SOLVE_TIMEOUT:?}"
            )));
        }
    };

    let (placed, unseated, layout_tables) = lay_out(&e, &built.instance, &partners, &solution);
    let meta: HashMap<(&str, &str), &CandidateMeta> = built
        .candidates
        .iter()
        .map(|c| ((c.enterprise.as_str(), c.partner.as_str()), c))
        .collect();
    let forced: HashSet<(&str, &str)> = built
        .instance
        .forced
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut rows = Vec::with_capacity(placed.len());
    for p in &placed {
        let (Some(org), Some((kind, pid))) = (
            parse_enterprise_key(&p.enterprise),
            parse_partner_key(&p.result),
        ) else {
            return Err(internal(format!(
                "solver returned unknown ids {} {}",
                p.enterprise, p.result
            )));
        };
        let m = meta.get(&(p.enterprise.as_str(), p.result.as_str()));
        rows.push(PairingDraft {
            enterprise_id: org,
            need_id: m.map(|m| m.need_id).unwrap_or(0),
            partner_kind: kind,
            partner_id: pid,
            score: p.score,
            base_score: m.map(|m| m.base_score).unwrap_or(0.0),
            slot: i64::from(p.slot),
            table: i64::from(p.table),
            forced: forced.contains(&(p.enterprise.as_str(), p.result.as_str())),
            origin: "solver".into(),
        });
    }
    // the stored instance has the event's real slots and tables: edits are checked against them
    let mut stored_instance = built.instance.clone();
    stored_instance.slots = e.slot_count;
    stored_instance.tables = e.table_count;
    let mut stats = solution.stats.clone();
    stats.meetings_placed = rows.len() as u64;
    stats.meetings_unseated = unseated.len() as u64;
    let report = StoredReport {
        format: e.format.clone(),
        unplaced: solution.unplaced.clone(),
        unseated,
        ignored_forced: built.ignored_forced,
        stats,
        candidates: built.candidates,
        table_names: layout_tables,
    };
    let instance_json = serde_json::to_string(&stored_instance).map_err(internal)?;
    let report_json = serde_json::to_string(&report).map_err(internal)?;
    ctx.store
        .save_pairing(event_id, &instance_json, &report_json, &rows)
        .await?;
    let mut view = pairing_view(ctx, &e).await?;
    view.elapsed_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    tracing::info!(
        event_id,
        meetings = view.meetings,
        enterprises_served = view.enterprises_served,
        unplaced = view.unplaced.len(),
        elapsed_ms = view.elapsed_ms,
        "pairing generated"
    );
    Ok(view)
}

/// Places the solution's meetings according to the event's format; returns the placed
/// meetings, the unseated ones and table names made by the layout.
fn lay_out(
    e: &Event,
    instance: &Instance,
    partners: &[PartnerIn],
    solution: &Solution,
) -> (Vec<PlacedPair>, Vec<Unseated>, Vec<String>) {
    if e.format == "fair" {
        return (
            solution.pairs.clone(),
            solution.unseated.clone(),
            Vec::new(),
        );
    }
    let ent_idx: HashMap<&str, usize> = instance
        .enterprises
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let par_idx: HashMap<&str, usize> = instance
        .results
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let all: Vec<(&str, &str, f64)> = solution
        .pairs
        .iter()
        .map(|p| (p.enterprise.as_str(), p.result.as_str(), p.score))
        .chain(
            solution
                .unseated
                .iter()
                .map(|u| (u.enterprise.as_str(), u.result.as_str(), u.score)),
        )
        .collect();
    let meetings: Vec<LayoutMeeting> = all
        .iter()
        .filter_map(|(a, b, s)| Some((*ent_idx.get(a)?, *par_idx.get(b)?, *s)))
        .collect();
    let (slots, tables) = (e.slot_count as usize, e.table_count as usize);
    let (layout, names) = if e.format == "parlour" {
        (
            layout_parlour(
                &meetings,
                instance.enterprises.len(),
                instance.results.len(),
                slots,
                tables,
            ),
            Vec::new(),
        )
    } else {
        let industries: Vec<Option<String>> = partners.iter().map(|p| p.industry.clone()).collect();
        let (home, seated) = roundtable_tables(&industries, &e.themes, tables);
        let names = seated
            .iter()
            .map(|g| {
                g.iter()
                    .map(|i| {
                        i.as_deref()
                            .map(|c| {
                                duijie_domain::label(duijie_domain::vocab::INDUSTRIES, c)
                                    .unwrap_or(c)
                                    .to_string()
                            })
                            .unwrap_or_else(|| "综合".into())
                    })
                    .collect::<Vec<_>>()
                    .join("、")
            })
            .collect();
        (
            layout_roundtable(
                &meetings,
                instance.enterprises.len(),
                &home,
                slots,
                tables,
                e.seats_per_table as usize,
            ),
            names,
        )
    };
    let (placed, dropped) = layout;
    let mut pairs: Vec<PlacedPair> = placed
        .iter()
        .map(|&(k, slot, table)| {
            let (a, b, s) = meetings[k];
            PlacedPair {
                enterprise: instance.enterprises[a].id.clone(),
                result: instance.results[b].id.clone(),
                score: s,
                slot,
                table,
            }
        })
        .collect();
    pairs.sort_by(|x, y| {
        (x.slot, x.table, &x.enterprise, &x.result).cmp(&(
            y.slot,
            y.table,
            &y.enterprise,
            &y.result,
        ))
    });
    let unseated = dropped
        .into_iter()
        .map(|(k, reason)| {
            let (a, b, s) = meetings[k];
            Unseated {
                enterprise: instance.enterprises[a].id.clone(),
                result: instance.results[b].id.clone(),
                score: s,
                reason,
            }
        })
        .collect();
    (pairs, unseated, names)
}

// ---------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------

/// The enterprise side of a meeting.
#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseRef {
    /// Organisation id.
    pub organization_id: i64,
    /// Organisation name.
    pub organization_name: String,
    /// The need the meeting is about (0 when none).
    pub need_id: i64,
    /// Its title.
    pub need_title: Option<String>,
}

/// The result side of a meeting.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerRef {
    /// `result` or `expert`.
    pub kind: ListingKind,
    /// Listing id.
    pub id: i64,
    /// Result title or expert name (`None` when deleted).
    pub title: Option<String>,
    /// Owning organisation.
    pub organization_id: Option<i64>,
    /// Its name.
    pub organization_name: Option<String>,
}

/// One scheduled meeting.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    /// Pairing id (for PATCH).
    pub id: i64,
    /// 0-based slot.
    pub slot: i64,
    /// 0-based table.
    pub table: i64,
    /// Slot start `HH:MM`.
    pub start: String,
    /// Slot end `HH:MM`.
    pub end: String,
    /// Table name.
    pub table_name: String,
    /// Score used by the optimiser.
    pub score: f64,
    /// Matching score before preferences.
    pub base_score: f64,
    /// Forced by a "must".
    pub forced: bool,
    /// `solver` or `manual`.
    pub origin: String,
    /// Enterprise side.
    pub enterprise: EnterpriseRef,
    /// Result side.
    pub partner: PartnerRef,
}

/// A participant with fewer meetings than its capacity.
#[derive(Debug, Clone, Serialize)]
pub struct UnplacedView {
    /// `enterprise`, `result` or `expert`.
    pub side: &'static str,
    /// Organisation id.
    pub organization_id: Option<i64>,
    /// Organisation name.
    pub organization_name: String,
    /// The result or expert (`None` for an enterprise).
    pub listing_id: Option<i64>,
    /// Its title or name.
    pub title: Option<String>,
    /// Capacity.
    pub wanted: u64,
    /// Meetings assigned.
    pub got: u64,
    /// `capacity`, `no_candidate`, `conflicts` or `manual`.
    pub reason_code: String,
    /// `中文 / English`.
    pub reason: String,
}

/// A meeting without slot or table, or a "must" that was dropped.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOutView {
    /// Enterprise side.
    pub enterprise: EnterpriseRef,
    /// Result side.
    pub partner: PartnerRef,
    /// Score (0 for dropped "must" pairs).
    pub score: f64,
    /// Reason code for dropped "must" pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// `中文 / English`.
    pub reason: String,
}

/// A table and its name.
#[derive(Debug, Clone, Serialize)]
pub struct TableView {
    /// 0-based.
    pub table: i64,
    /// Name.
    pub name: String,
}

/// The pairing of an event as clients see it.
#[derive(Debug, Clone, Serialize)]
pub struct PairingView {
    /// Event.
    pub event_id: i64,
    /// Format.
    pub format: String,
    /// Whether a pairing was generated.
    pub generated: bool,
    /// RFC 3339.
    pub generated_at: Option<String>,
    /// Last edit, RFC 3339.
    pub updated_at: Option<String>,
    /// Incremented by every edit.
    pub version: i64,
    /// Participants or preferences changed since it was generated.
    pub stale: bool,
    /// Sum of the scores of the meetings.
    pub total_score: f64,
    /// Enterprises with at least one meeting.
    pub enterprises_served: u64,
    /// Number of meetings.
    pub meetings: u64,
    /// Slots in use.
    pub slots_used: i64,
    /// Slot times.
    pub slots: Vec<SlotTime>,
    /// Tables.
    pub tables: Vec<TableView>,
    /// The meetings by slot and table.
    pub items: Vec<MeetingView>,
    /// Participants with fewer meetings than their capacity.
    pub unplaced: Vec<UnplacedView>,
    /// Assigned meetings without slot or table.
    pub unseated: Vec<LeftOutView>,
    /// "must" pairs that could not be honoured.
    pub ignored_forced: Vec<LeftOutView>,
    /// Solver counters.
    pub stats: Option<Stats>,
    /// Time taken by `pairings:generate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<f64>,
}

fn enterprise_ref(names: &Names, org: i64, need: i64) -> EnterpriseRef {
    EnterpriseRef {
        organization_id: org,
        organization_name: names.org(org),
        need_id: need,
        need_title: names.title(ListingKind::Need, need),
    }
}

fn partner_ref(names: &Names, kind: ListingKind, id: i64) -> PartnerRef {
    let owner = names.owner(kind, id);
    PartnerRef {
        kind,
        id,
        title: names.title(kind, id),
        organization_id: owner,
        organization_name: owner.map(|o| names.org(o)),
    }
}

fn refs_of_keys(
    names: &Names,
    meta: &HashMap<(String, String), i64>,
    e: &str,
    p: &str,
) -> Option<(EnterpriseRef, PartnerRef)> {
    let org = parse_enterprise_key(e)?;
    let (kind, id) = parse_partner_key(p)?;
    let need = meta
        .get(&(e.to_string(), p.to_string()))
        .copied()
        .unwrap_or(0);
    Some((
        enterprise_ref(names, org, need),
        partner_ref(names, kind, id),
    ))
}

/// Everything needed to show, export or edit an event's pairing.
struct Loaded {
    event: Event,
    participants: Vec<Participant>,
    run: Option<PairingRun>,
    report: StoredReport,
    rows: Vec<PairingRow>,
}

async fn load_pairing(ctx: &Context, e: &Event) -> Result<Loaded, ApiError> {
    let participants = ctx.store.participants(e.id).await?;
    let run = ctx.store.pairing_run(e.id).await?;
    let report: StoredReport = match &run {
        Some(r) => serde_json::from_str(&r.report)
            .map_err(|err| internal(format!("stored pairing report of event {}: {err}", e.id)))?,
        None => StoredReport::default(),
    };
    let rows = ctx.store.pairings(e.id).await?;
    Ok(Loaded {
        event: e.clone(),
        participants,
        run,
        report,
        rows,
    })
}

fn view_of(l: &Loaded) -> PairingView {
    let e = &l.event;
    let names = Names::of(&l.participants);
    let times = slot_times(e);
    let tables = table_names(e, &l.report.table_names);
    let time = |s: i64| {
        times
            .get(s as usize)
            .map(|t| (t.start.clone(), t.end.clone()))
            .unwrap_or_default()
    };
    let items: Vec<MeetingView> = l
        .rows
        .iter()
        .map(|r| {
            let (start, end) = time(r.slot);
            MeetingView {
                id: r.id,
                slot: r.slot,
                table: r.table,
                start,
                end,
                table_name: tables
                    .get(r.table as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("{}号桌", r.table + 1)),
                score: r.score,
                base_score: r.base_score,
                forced: r.forced,
                origin: r.origin.clone(),
                enterprise: enterprise_ref(&names, r.enterprise_id, r.need_id),
                partner: partner_ref(&names, r.partner_kind, r.partner_id),
            }
        })
        .collect();
    let meta: HashMap<(String, String), i64> = l
        .report
        .candidates
        .iter()
        .map(|c| ((c.enterprise.clone(), c.partner.clone()), c.need_id))
        .collect();
    let unplaced = l
        .report
        .unplaced
        .iter()
        .filter_map(|u| {
            let (side, org, listing, title) = match u.kind {
                duijie_match::Side::Enterprise => {
                    let org = parse_enterprise_key(&u.id)?;
                    ("enterprise", Some(org), None, None)
                }
                duijie_match::Side::Result => {
                    let (kind, id) = parse_partner_key(&u.id)?;
                    (
                        if kind == ListingKind::Expert {
                            "expert"
                        } else {
                            "result"
                        },
                        names.owner(kind, id),
                        Some(id),
                        names.title(kind, id),
                    )
                }
            };
            Some(UnplacedView {
                side,
                organization_id: org,
                organization_name: org.map(|o| names.org(o)).unwrap_or_default(),
                listing_id: listing,
                title,
                wanted: u.wanted,
                got: u.got,
                reason_code: u.reason_code.clone(),
                reason: u.reason.clone(),
            })
        })
        .collect();
    let unseated = l
        .report
        .unseated
        .iter()
        .filter_map(|u| {
            let (er, pr) = refs_of_keys(&names, &meta, &u.enterprise, &u.result)?;
            Some(LeftOutView {
                enterprise: er,
                partner: pr,
                score: u.score,
                reason_code: None,
                reason: u.reason.clone(),
            })
        })
        .collect();
    let ignored_forced = l
        .report
        .ignored_forced
        .iter()
        .filter_map(|u| {
            let (er, pr) = refs_of_keys(&names, &meta, &u.enterprise, &u.partner)?;
            Some(LeftOutView {
                enterprise: er,
                partner: pr,
                score: 0.0,
                reason_code: Some(u.reason_code.clone()),
                reason: u.reason.clone(),
            })
        })
        .collect();
    let served: BTreeSet<i64> = l.rows.iter().map(|r| r.enterprise_id).collect();
    PairingView {
        event_id: e.id,
        format: e.format.clone(),
        generated: l.run.is_some(),
        generated_at: l.run.as_ref().map(|r| r.generated_at.clone()),
        updated_at: l.run.as_ref().map(|r| r.updated_at.clone()),
        version: l.run.as_ref().map(|r| r.version).unwrap_or(0),
        stale: l.run.as_ref().is_some_and(|r| r.stale),
        total_score: (l.rows.iter().map(|r| r.score).sum::<f64>() * 1e6).round() / 1e6,
        enterprises_served: served.len() as u64,
        meetings: l.rows.len() as u64,
        slots_used: l.rows.iter().map(|r| r.slot + 1).max().unwrap_or(0),
        slots: times,
        tables: tables
            .into_iter()
            .enumerate()
            .map(|(i, name)| TableView {
                table: i as i64,
                name,
            })
            .collect(),
        items,
        unplaced,
        unseated,
        ignored_forced,
        stats: l.run.as_ref().map(|_| l.report.stats.clone()),
        elapsed_ms: None,
    }
}

/// The event's pairing (empty with `generated: false` before the first generation).
pub async fn pairing_view(ctx: &Context, e: &Event) -> Result<PairingView, ApiError> {
    Ok(view_of(&load_pairing(ctx, e).await?))
}

/// One line of a participant's agenda.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaItem {
    /// Pairing id.
    pub pairing_id: i64,
    /// 0-based slot.
    pub slot: i64,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// 0-based table.
    pub table: i64,
    /// Table name.
    pub table_name: String,
    /// What the participant brings to this meeting (need, result or expert).
    pub own_kind: ListingKind,
    /// Its title.
    pub own_title: Option<String>,
    /// Who it meets.
    pub counterpart_organization: String,
    /// What the other side brings.
    pub counterpart_kind: ListingKind,
    /// Its title.
    pub counterpart_title: Option<String>,
}

/// A participant's agenda.
#[derive(Debug, Clone, Serialize)]
pub struct Agenda {
    /// Organisation id.
    pub organization_id: i64,
    /// Name.
    pub organization_name: String,
    /// Kind code.
    pub organization_kind: String,
    /// Meetings by time.
    pub items: Vec<AgendaItem>,
}

/// One cell of the schedule grid.
#[derive(Debug, Clone, Serialize)]
pub struct GridCell {
    /// 0-based table.
    pub table: i64,
    /// Table name.
    pub table_name: String,
    /// Meetings at this table in this slot (several at a roundtable or parlour).
    pub meetings: Vec<MeetingView>,
}

/// One row of the schedule grid.
#[derive(Debug, Clone, Serialize)]
pub struct GridRow {
    /// 0-based slot.
    pub slot: i64,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// A break after this slot, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_after: Option<EventBreak>,
    /// One cell per table.
    pub cells: Vec<GridCell>,
}

/// The schedule of an event: the grid and every participant's agenda.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    /// The event.
    pub event: Event,
    /// Slots × tables.
    pub grid: Vec<GridRow>,
    /// Per participant, in the order they joined.
    pub agendas: Vec<Agenda>,
    /// The pairing the schedule shows.
    pub pairing: PairingView,
}

/// Builds the schedule of an event.
pub async fn schedule(ctx: &Context, e: &Event) -> Result<ScheduleView, ApiError> {
    let l = load_pairing(ctx, e).await?;
    let pairing = view_of(&l);
    let grid = pairing
        .slots
        .iter()
        .map(|s| GridRow {
            slot: s.slot,
            start: s.start.clone(),
            end: s.end.clone(),
            break_after: e
                .breaks
                .iter()
                .find(|b| b.after_slot == s.slot + 1)
                .cloned(),
            cells: pairing
                .tables
                .iter()
                .map(|t| GridCell {
                    table: t.table,
                    table_name: t.name.clone(),
                    meetings: pairing
                        .items
                        .iter()
                        .filter(|m| m.slot == s.slot && m.table == t.table)
                        .cloned()
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let agendas = l
        .participants
        .iter()
        .map(|p| {
            let mut items: Vec<AgendaItem> = Vec::new();
            for m in &pairing.items {
                let item = |own_kind,
                            own_title: &Option<String>,
                            org: &str,
                            kind,
                            title: &Option<String>| AgendaItem {
                    pairing_id: m.id,
                    slot: m.slot,
                    start: m.start.clone(),
                    end: m.end.clone(),
                    table: m.table,
                    table_name: m.table_name.clone(),
                    own_kind,
                    own_title: own_title.clone(),
                    counterpart_organization: org.to_string(),
                    counterpart_kind: kind,
                    counterpart_title: title.clone(),
                };
                if m.enterprise.organization_id == p.organization_id {
                    items.push(item(
                        ListingKind::Need,
                        &m.enterprise.need_title,
                        m.partner.organization_name.as_deref().unwrap_or(""),
                        m.partner.kind,
                        &m.partner.title,
                    ));
                }
                if m.partner.organization_id == Some(p.organization_id) {
                    items.push(item(
                        m.partner.kind,
                        &m.partner.title,
                        &m.enterprise.organization_name,
                        ListingKind::Need,
                        &m.enterprise.need_title,
                    ));
                }
            }
            items.sort_by_key(|i| (i.slot, i.table, i.pairing_id));
            Agenda {
                organization_id: p.organization_id,
                organization_name: p.organization_name.clone(),
                organization_kind: p.organization_kind.clone(),
                items,
            }
        })
        .collect();
    Ok(ScheduleView {
        event: e.clone(),
        grid,
        agendas,
        pairing,
    })
}

// ---------------------------------------------------------------------------------------
// Organiser edits
// ---------------------------------------------------------------------------------------

/// An organiser's change, in store terms.
#[derive(Debug, Clone)]
pub enum EditRequest {
    /// Add a meeting.
    Add {
        /// Enterprise organisation.
        enterprise: i64,
        /// Its need (`None`: the pair's best).
        need_id: Option<i64>,
        /// Result or expert.
        partner: (ListingKind, i64),
        /// Slot.
        slot: i64,
        /// Table.
        table: i64,
    },
    /// Move a meeting.
    Move {
        /// Pairing id.
        id: i64,
        /// New slot (`None`: keep).
        slot: Option<i64>,
        /// New table (`None`: keep).
        table: Option<i64>,
    },
    /// Remove a meeting.
    Remove {
        /// Pairing id.
        id: i64,
    },
    /// Swap two tables in one slot.
    SwapTables {
        /// Slot.
        slot: i64,
        /// One table.
        table_a: i64,
        /// The other.
        table_b: i64,
    },
}

/// The solver names participants by keys (`e12`, `r7`) and counts slots from 0; people
/// read organisation names, titles and slots counted from 1.
fn readable(mut r: EditRejection, names: &Names) -> EditRejection {
    let mut text = r.message_zh.clone();
    for (open, close) in [("“", "”"), ("\"", "\"")] {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(open) {
            out.push_str(&rest[..i + open.len()]);
            rest = &rest[i + open.len()..];
            let Some(j) = rest.find(close) else { break };
            let key = &rest[..j];
            let name = parse_enterprise_key(key)
                .map(|org| names.org(org))
                .or_else(|| parse_partner_key(key).and_then(|(k, id)| names.title(k, id)));
            out.push_str(name.as_deref().unwrap_or(key));
            rest = &rest[j..];
        }
        out.push_str(rest);
        text = out;
    }
    // "时段 3" (from 0) → "第 4 个时段"
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("时段 ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "时段 ".len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse::<u64>() {
            Ok(n) => {
                out.push_str(&format!("第 {} 个时段", n + 1));
                rest = &after[digits.len()..];
            }
            Err(_) => {
                out.push_str("时段 ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    // "0 号桌" (from 0) → "第 1 张桌"
    let mut text = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find(" 号桌") {
        let before = &rest[..i];
        let start = before
            .rfind(|c: char| !c.is_ascii_digit())
            .map(|k| k + before[k..].chars().next().map_or(1, char::len_utf8))
            .unwrap_or(0);
        match before[start..].parse::<u64>() {
            Ok(n) => text.push_str(&format!("{}第 {} 张桌", &before[..start], n + 1)),
            Err(_) => text.push_str(&rest[..i + " 号桌".len()]),
        }
        rest = &rest[i + " 号桌".len()..];
    }
    text.push_str(rest);
    r.message_zh = text.replace("个时段 的 ", "个时段的");
    r
}

#[cfg(test)]
mod readable_tests {
    use super::*;

    #[test]
    fn refusals_name_participants_and_count_from_one() {
        let mut names = Names::default();
        names
            .orgs
            .insert(30, ("鞍钢集团".into(), "enterprise".into()));
        names
            .listings
            .insert((ListingKind::Result, 310), (Some("余热发电技术".into()), 5));
        let r = EditRejection {
            code: "table_occupied",
            message: "table 0 in slot 1 is taken".into(),
            message_zh: "时段 1 的 0 号桌已被企业“e30”与成果“r310”的会谈占用".into(),
        };
        let out = readable(r, &names);
        assert_eq!(
            out.message_zh,
            "第 2 个时段的第 1 张桌已被企业“鞍钢集团”与成果“余热发电技术”的会谈占用"
        );
        assert_eq!(
            out.message, "table 0 in slot 1 is taken",
            "the API's English keeps numbers"
        );
    }
}

fn rejection(r: EditRejection) -> ApiError {
    let message = format!("{} / {}", r.message_zh, r.message);
    match r.code {
        "slot_out_of_range" => {
            let mut f = FieldErrors::default();
            f.0.push(duijie_domain::FieldError {
                field: "slot".into(),
                code: r.code,
                message,
            });
            ApiError::Validation(f)
        }
        "table_out_of_range" => {
            let mut f = FieldErrors::default();
            f.0.push(duijie_domain::FieldError {
                field: "table".into(),
                code: r.code,
                message,
            });
            ApiError::Validation(f)
        }
        "unknown_id" => {
            let mut f = FieldErrors::default();
            f.0.push(duijie_domain::FieldError {
                field: "id".into(),
                code: r.code,
                message,
            });
            ApiError::Validation(f)
        }
        code => ApiError::Conflict { code, message },
    }
}

fn reject(code: &'static str, zh: String, en: String) -> ApiError {
    rejection(EditRejection {
        code,
        message: en,
        message_zh: zh,
    })
}

/// The stored pairing as the solver's solution (pairs from the rows).
fn solution_of(l: &Loaded) -> Solution {
    let pairs: Vec<PlacedPair> = l
        .rows
        .iter()
        .map(|r| PlacedPair {
            enterprise: enterprise_key(r.enterprise_id),
            result: partner_key(r.partner_kind, r.partner_id),
            score: r.score,
            slot: r.slot as u32,
            table: r.table as u32,
        })
        .collect();
    Solution {
        total_score: pairs.iter().map(|p| p.score).sum(),
        enterprises_served: pairs
            .iter()
            .map(|p| p.enterprise.as_str())
            .collect::<BTreeSet<_>>()
            .len() as u64,
        slots_used: pairs.iter().map(|p| p.slot + 1).max().unwrap_or(0),
        pairs,
        unplaced: l.report.unplaced.clone(),
        unseated: l.report.unseated.clone(),
        stats: l.report.stats.clone(),
    }
}

/// Grouped formats: the group rules apply_edit does not know. `skip` is the meeting being
/// moved.
fn check_group(
    l: &Loaded,
    skip: Option<i64>,
    org: i64,
    partner: (ListingKind, i64),
    slot: i64,
    table: i64,
) -> Result<(), ApiError> {
    let e = &l.event;
    if !(0..e.slot_count).contains(&slot) {
        return Err(reject(
            "slot_out_of_range",
            format!(
                "时段 {slot} 超出范围（共 {} 个时段，编号从 0 开始）",
                e.slot_count
            ),
            format!(
                "slot {slot} is out of range (there are {} slots, numbered from 0)",
                e.slot_count
            ),
        ));
    }
    if !(0..e.table_count).contains(&table) {
        return Err(reject(
            "table_out_of_range",
            format!(
                "{table} 号桌超出范围（共 {} 张桌，编号从 0 开始）",
                e.table_count
            ),
            format!(
                "table {table} is out of range (there are {} tables, numbered from 0)",
                e.table_count
            ),
        ));
    }
    let same_slot: Vec<&PairingRow> = l
        .rows
        .iter()
        .filter(|r| r.slot == slot && Some(r.id) != skip)
        .collect();
    if let Some(r) = same_slot.iter().find(|r| {
        (r.partner_kind, r.partner_id) == partner && (e.format == "parlour" || r.table != table)
    }) {
        return Err(reject(
            "busy",
            format!("该成果（专家）在时段 {slot} 已在 {} 号桌", r.table),
            format!(
                "the result (expert) is already at table {} in slot {slot}",
                r.table
            ),
        ));
    }
    if let Some(r) = same_slot
        .iter()
        .find(|r| r.enterprise_id == org && r.table != table)
    {
        return Err(reject(
            "busy",
            format!("该企业在时段 {slot} 已在 {} 号桌", r.table),
            format!(
                "the enterprise is already at table {} in slot {slot}",
                r.table
            ),
        ));
    }
    let at_table: BTreeSet<i64> = same_slot
        .iter()
        .filter(|r| r.table == table && r.enterprise_id != org)
        .map(|r| r.enterprise_id)
        .collect();
    if e.format == "parlour" && !at_table.is_empty() {
        return Err(reject(
            "table_occupied",
            format!("时段 {slot} 的 {table} 号桌已由其他企业接待来访"),
            format!("table {table} in slot {slot} hosts another enterprise's visit"),
        ));
    }
    if e.format == "roundtable" && at_table.len() as i64 >= e.seats_per_table {
        return Err(reject(
            "table_occupied",
            format!(
                "时段 {slot} 的 {table} 号桌已坐满 {} 家企业",
                e.seats_per_table
            ),
            format!(
                "table {table} in slot {slot} already seats {} enterprises",
                e.seats_per_table
            ),
        ));
    }
    Ok(())
}

/// Applies an organiser edit: validated with `duijie_match::apply_edit` against the
/// instance the pairing was made from (and the group rules of parlours and roundtables),
/// stored with the new report. Returns the added or moved meeting.
pub async fn edit(
    ctx: &Context,
    event_id: i64,
    req: EditRequest,
) -> Result<Option<MeetingView>, ApiError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, true)?;
    let l = load_pairing(ctx, &e).await?;
    let Some(run) = &l.run else {
        return Err(ApiError::Conflict {
            code: "not_generated",
            message: "尚未生成对接安排，请先调用 pairings:generate / no pairing yet: call pairings:generate first".into(),
        });
    };
    let mut instance: Instance = serde_json::from_str(&run.instance)
        .map_err(|err| internal(format!("stored instance of event {event_id}: {err}")))?;
    let grouped = l.report.format != "fair";
    let row = |id: i64| {
        l.rows
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| ApiError::not_found("对接", "pairing", id))
    };
    let mut solution = solution_of(&l);
    if grouped {
        // group formats seat several meetings per participant, slot and table: the solver
        // checks capacity, scores and forced pairs on a copy where every meeting has its
        // own slot, and check_group the rules of the format
        instance.slots = UNBOUNDED;
        instance.tables = 1;
        for (i, p) in solution.pairs.iter_mut().enumerate() {
            p.slot = i as u32;
            p.table = 0;
        }
    }
    let u32_of = |v: i64, field: &str| -> Result<u32, ApiError> {
        u32::try_from(v).map_err(|_| {
            field_error(
                field,
                "out_of_range",
                format!("{field} 应为非负整数"),
                format!("{field} must be a non-negative integer"),
            )
        })
    };
    let (edit, change) = match &req {
        EditRequest::Add {
            enterprise,
            need_id,
            partner,
            slot,
            table,
        } => {
            if grouped {
                check_group(&l, None, *enterprise, *partner, *slot, *table)?;
            }
            let ek = enterprise_key(*enterprise);
            let pk = partner_key(partner.0, partner.1);
            let edit = if grouped {
                Edit::Add {
                    enterprise: ek.clone(),
                    result: pk.clone(),
                    slot: solution.pairs.len() as u32,
                    table: 0,
                }
            } else {
                Edit::Add {
                    enterprise: ek.clone(),
                    result: pk.clone(),
                    slot: u32_of(*slot, "slot")?,
                    table: u32_of(*table, "table")?,
                }
            };
            let meta = l
                .report
                .candidates
                .iter()
                .find(|c| c.enterprise == ek && c.partner == pk);
            let score = instance
                .scores
                .iter()
                .find(|s| s.enterprise == ek && s.result == pk)
                .map(|s| s.score)
                .unwrap_or(0.0);
            let forced = instance.forced.iter().any(|(a, b)| *a == ek && *b == pk);
            let draft = PairingDraft {
                enterprise_id: *enterprise,
                need_id: need_id.or(meta.map(|m| m.need_id)).unwrap_or(0),
                partner_kind: partner.0,
                partner_id: partner.1,
                score,
                base_score: meta.map(|m| m.base_score).unwrap_or(0.0),
                slot: *slot,
                table: *table,
                forced,
                origin: "manual".into(),
            };
            (Some(edit), vec![PairingChange::Insert(draft)])
        }
        EditRequest::Move { id, slot, table } => {
            let r = row(*id)?;
            let (slot, table) = (slot.unwrap_or(r.slot), table.unwrap_or(r.table));
            let ek = enterprise_key(r.enterprise_id);
            let pk = partner_key(r.partner_kind, r.partner_id);
            if grouped {
                check_group(
                    &l,
                    Some(r.id),
                    r.enterprise_id,
                    (r.partner_kind, r.partner_id),
                    slot,
                    table,
                )?;
                (
                    None,
                    vec![PairingChange::Move {
                        id: *id,
                        slot,
                        table,
                    }],
                )
            } else {
                let edit = Edit::Move {
                    enterprise: ek,
                    result: pk,
                    slot: u32_of(slot, "slot")?,
                    table: u32_of(table, "table")?,
                };
                (
                    Some(edit),
                    vec![PairingChange::Move {
                        id: *id,
                        slot,
                        table,
                    }],
                )
            }
        }
        EditRequest::Remove { id } => {
            let r = row(*id)?;
            let edit = Edit::Remove {
                enterprise: enterprise_key(r.enterprise_id),
                result: partner_key(r.partner_kind, r.partner_id),
            };
            (Some(edit), vec![PairingChange::Delete(*id)])
        }
        EditRequest::SwapTables {
            slot,
            table_a,
            table_b,
        } => {
            for (v, f, n) in [
                (*slot, "slot", e.slot_count),
                (*table_a, "table_a", e.table_count),
                (*table_b, "table_b", e.table_count),
            ] {
                if !(0..n).contains(&v) {
                    return Err(field_error(
                        f,
                        "out_of_range",
                        format!("{f} 应在 0 到 {} 之间", n - 1),
                        format!("{f} must be between 0 and {}", n - 1),
                    ));
                }
            }
            let changes = l
                .rows
                .iter()
                .filter(|r| r.slot == *slot && (r.table == *table_a || r.table == *table_b))
                .map(|r| PairingChange::Move {
                    id: r.id,
                    slot: *slot,
                    table: if r.table == *table_a {
                        *table_b
                    } else {
                        *table_a
                    },
                })
                .collect();
            let edit = (!grouped).then_some(Edit::SwapTables {
                slot: *slot as u32,
                table_a: *table_a as u32,
                table_b: *table_b as u32,
            });
            (edit, changes)
        }
    };
    let new = match &edit {
        Some(edit) => duijie_match::apply_edit(&instance, &solution, edit)
            .map_err(|r| rejection(readable(r, &Names::of(&l.participants))))?,
        None => solution.clone(),
    };
    let mut report = l.report.clone();
    report.unplaced = new.unplaced;
    report.unseated = new.unseated;
    report.stats = new.stats;
    let report_json = serde_json::to_string(&report).map_err(internal)?;
    let inserted = ctx
        .store
        .edit_pairing(event_id, run.version, &change, &report_json)
        .await?;
    let target = match &req {
        EditRequest::Add { .. } => inserted.first().copied(),
        EditRequest::Move { id, .. } => Some(*id),
        _ => None,
    };
    let Some(target) = target else {
        return Ok(None);
    };
    let view = pairing_view(ctx, &e).await?;
    Ok(view.items.into_iter().find(|m| m.id == target))
}

/// Adds a meeting from `{need_id | organization_id, result_id | expert_id, slot, table}`.
pub async fn add_pairing(
    ctx: &Context,
    event_id: i64,
    rec: &Record,
) -> Result<MeetingView, ApiError> {
    load(ctx, event_id).await?;
    let names = Names::of(&ctx.store.participants(event_id).await?);
    let mut r = In::new(rec);
    let PairIds {
        need_id,
        org_id,
        result_id,
        expert_id,
    } = PairIds::read(&mut r);
    let slot = r.raw("slot").is_some().then(|| r.int("slot", 0, 0, 1000));
    let table = r.raw("table").is_some().then(|| r.int("table", 0, 0, 1000));
    let mut errors = r.finish(&[]);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let enterprise = match (need_id, org_id) {
        (Some(n), o) => need_owner(&names, n, o, &mut errors),
        (None, Some(o)) if names.orgs.contains_key(&o) => Some(o),
        (None, Some(o)) => {
            errors.push(
                "organization_id",
                "not_participating",
                format!("单位 {o} 未参加本次对接会"),
                format!("organization {o} does not take part in this event"),
            );
            None
        }
        (None, None) => {
            errors.push(
                "need_id",
                "required",
                "需要 need_id 或 organization_id（企业）",
                "need_id or organization_id (the enterprise) is required",
            );
            None
        }
    };
    let partner = match (result_id, expert_id) {
        (Some(id), None) => Some((ListingKind::Result, id)),
        (None, Some(id)) => Some((ListingKind::Expert, id)),
        _ => {
            errors.push(
                "result_id",
                "required",
                "需要 result_id 或 expert_id 之一",
                "exactly one of result_id and expert_id is required",
            );
            None
        }
    };
    check_partner(&names, partner, &mut errors);
    for (v, f) in [(slot, "slot"), (table, "table")] {
        if v.is_none() {
            errors.push(
                f,
                "required",
                format!("{f} 为必填项"),
                format!("{f} is required"),
            );
        }
    }
    let (Some(enterprise), Some(partner), Some(slot), Some(table), true) =
        (enterprise, partner, slot, table, errors.is_empty())
    else {
        return Err(ApiError::Validation(errors));
    };
    edit(
        ctx,
        event_id,
        EditRequest::Add {
            enterprise,
            need_id,
            partner,
            slot,
            table,
        },
    )
    .await?
    .ok_or_else(|| internal("added meeting not found"))
}

/// Moves (`{slot?, table?}`) or removes (`{"remove": true}`) a meeting; returns the moved
/// meeting, `None` when removed.
pub async fn patch_pairing(
    ctx: &Context,
    event_id: i64,
    id: i64,
    rec: &Record,
) -> Result<Option<MeetingView>, ApiError> {
    let mut r = In::new(rec);
    let remove = match r.raw("remove") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            r.errors.push(
                "remove",
                "invalid_type",
                "remove 应为 true 或 false",
                "remove must be true or false",
            );
            false
        }
    };
    let slot = r.raw("slot").is_some().then(|| r.int("slot", 0, 0, 1000));
    let table = r.raw("table").is_some().then(|| r.int("table", 0, 0, 1000));
    let mut errors = r.finish(&["id"]);
    if remove && (slot.is_some() || table.is_some()) {
        errors.push(
            "remove",
            "exclusive",
            "remove 不能与 slot、table 同时给出",
            "remove cannot be combined with slot or table",
        );
    }
    if !remove && slot.is_none() && table.is_none() {
        errors.push(
            "slot",
            "required",
            "需要 slot 和/或 table，或 remove: true",
            "give slot and/or table, or remove: true",
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let req = if remove {
        EditRequest::Remove { id }
    } else {
        EditRequest::Move { id, slot, table }
    };
    edit(ctx, event_id, req).await
}

/// Swaps two tables in one slot from `{slot, table_a, table_b}`.
pub async fn swap_tables(
    ctx: &Context,
    event_id: i64,
    rec: &Record,
) -> Result<PairingView, ApiError> {
    let mut r = In::new(rec);
    let need = |r: &mut In, f: &'static str| {
        if r.raw(f).is_none() {
            r.errors.push(
                f,
                "required",
                format!("{f} 为必填项"),
                format!("{f} is required"),
            );
        }
        r.int(f, 0, 0, 1000)
    };
    let slot = need(&mut r, "slot");
    let table_a = need(&mut r, "table_a");
    let table_b = need(&mut r, "table_b");
    let errors = r.finish(&[]);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    edit(
        ctx,
        event_id,
        EditRequest::SwapTables {
            slot,
            table_a,
            table_b,
        },
    )
    .await?;
    let e = load(ctx, event_id).await?;
    pairing_view(ctx, &e).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(format: &str) -> Event {
        Event {
            id: 1,
            name: "对接会".into(),
            format: format.into(),
            date: "2026-04-25".into(),
            venue: None,
            description: None,
            themes: vec!["metallurgy".into()],
            start_time: "09:00".into(),
            slot_minutes: 20,
            slot_count: 4,
            breaks: vec![EventBreak {
                after_slot: 2,
                minutes: 15,
                label: None,
            }],
            table_count: 3,
            table_names: vec![],
            seats_per_table: 2,
            max_per_enterprise: 2,
            max_per_result: 2,
            max_per_expert: 1,
            min_score: 0.1,
            status: "open".into(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn pref(
        id: i64,
        ent: i64,
        need: Option<i64>,
        kind: ListingKind,
        pid: i64,
        side: &str,
        value: &str,
    ) -> Preference {
        Preference {
            id,
            event_id: 1,
            enterprise_id: ent,
            need_id: need,
            partner_kind: kind,
            partner_id: pid,
            side: side.into(),
            preference: value.into(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn slot_times_include_breaks() {
        let t = slot_times(&event("fair"));
        let got: Vec<(&str, &str)> = t
            .iter()
            .map(|s| (s.start.as_str(), s.end.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("09:00", "09:20"),
                ("09:20", "09:40"),
                ("09:55", "10:15"),
                ("10:15", "10:35")
            ]
        );
    }

    #[test]
    fn instance_uses_best_need_preferences_and_conflicts() {
        let e = event("fair");
        // enterprise 10 (needs 1, 2), enterprise 11 (need 3); university 20 owns results 100,
        // 101 and expert 200; organisation 11 is also the owner of result 102 (kind "other")
        let ents = vec![
            EnterpriseIn {
                org_id: 10,
                needs: vec![1, 2],
            },
            EnterpriseIn {
                org_id: 11,
                needs: vec![3],
            },
        ];
        let partners = vec![
            PartnerIn {
                kind: ListingKind::Result,
                id: 100,
                org_id: 20,
                industry: None,
            },
            PartnerIn {
                kind: ListingKind::Result,
                id: 101,
                org_id: 20,
                industry: None,
            },
            PartnerIn {
                kind: ListingKind::Result,
                id: 102,
                org_id: 11,
                industry: None,
            },
            PartnerIn {
                kind: ListingKind::Expert,
                id: 200,
                org_id: 20,
                industry: None,
            },
        ];
        let scores = vec![
            (1, ListingKind::Result, 100, 0.5),
            (2, ListingKind::Result, 100, 0.9),
            (3, ListingKind::Result, 100, 0.3),
            (3, ListingKind::Result, 102, 1.0),
            (1, ListingKind::Result, 101, 0.2),
        ];
        let prefs = vec![
            pref(1, 10, None, ListingKind::Result, 101, "enterprise", "like"),
            pref(
                2,
                10,
                Some(1),
                ListingKind::Result,
                101,
                "university",
                "like",
            ),
            pref(3, 11, None, ListingKind::Result, 100, "university", "no"),
            pref(4, 11, None, ListingKind::Result, 100, "enterprise", "must"),
            pref(
                5,
                11,
                Some(3),
                ListingKind::Expert,
                200,
                "organizer",
                "must",
            ),
            pref(6, 10, None, ListingKind::Expert, 200, "enterprise", "like"),
        ];
        let b = build_instance(&e, &ents, &partners, &scores, &prefs);
        let score = |ek: &str, pk: &str| {
            b.instance
                .scores
                .iter()
                .find(|s| s.enterprise == ek && s.result == pk)
                .map(|s| s.score)
        };
        assert_eq!(score("e10", "r100"), Some(0.9), "best need wins");
        assert_eq!(
            b.candidates
                .iter()
                .find(|c| c.enterprise == "e10" && c.partner == "r100")
                .map(|c| c.need_id),
            Some(2)
        );
        assert!(
            (score("e10", "r101").unwrap() - (0.2 + 2.0 * LIKE_BONUS + MUTUAL_BONUS)).abs() < 1e-9,
            "mutual like raises the score"
        );
        assert_eq!(
            score("e10", "x200"),
            Some(LIKE_BONUS),
            "a liked pair without text score becomes a candidate"
        );
        assert_eq!(
            score("e11", "r100"),
            Some(0.3),
            "a forbidden pair keeps its score, for the explanations"
        );
        assert!(
            b.instance
                .forbidden
                .contains(&("e11".into(), "r100".into()))
        );
        assert!(
            b.instance
                .forbidden
                .contains(&("e11".into(), "r102".into()))
        );
        assert_eq!(
            b.instance.forced,
            vec![("e11".to_string(), "x200".to_string())]
        );
        assert_eq!(
            b.candidates
                .iter()
                .find(|c| c.partner == "x200" && c.enterprise == "e11")
                .map(|c| c.need_id),
            Some(3)
        );
        assert_eq!(b.ignored_forced.len(), 1);
        assert_eq!(b.ignored_forced[0].reason_code, "conflicts");
        assert_eq!(
            b.instance
                .results
                .iter()
                .find(|p| p.id == "x200")
                .map(|p| p.capacity),
            Some(1)
        );
        assert_eq!((b.instance.slots, b.instance.tables), (4, 3));
        b.instance.validate().expect("a valid instance");
        let s = duijie_match::solve(&b.instance, &SolveOptions::default()).unwrap();
        assert!(
            s.pairs
                .iter()
                .any(|p| p.enterprise == "e11" && p.result == "x200"),
            "forced pair placed"
        );
        assert!(
            !s.pairs
                .iter()
                .any(|p| p.enterprise == "e11" && (p.result == "r100" || p.result == "r102"))
        );
        // deterministic
        let again = build_instance(&e, &ents, &partners, &scores, &prefs);
        assert_eq!(again.instance, b.instance);
    }

    #[test]
    fn forced_pairs_over_capacity_are_reported() {
        let e = event("fair");
        let ents = vec![
            EnterpriseIn {
                org_id: 10,
                needs: vec![1],
            },
            EnterpriseIn {
                org_id: 11,
                needs: vec![2],
            },
        ];
        let partners = vec![PartnerIn {
            kind: ListingKind::Expert,
            id: 200,
            org_id: 20,
            industry: None,
        }];
        let prefs = vec![
            pref(1, 10, None, ListingKind::Expert, 200, "organizer", "must"),
            pref(2, 11, None, ListingKind::Expert, 200, "organizer", "must"),
        ];
        let b = build_instance(&e, &ents, &partners, &[], &prefs);
        assert_eq!(
            b.instance.forced,
            vec![("e10".to_string(), "x200".to_string())]
        );
        assert_eq!(b.ignored_forced[0].enterprise, "e11");
        assert_eq!(b.ignored_forced[0].reason_code, "capacity");
        b.instance.validate().unwrap();
    }

    #[test]
    fn parlour_groups_visitors_per_host_without_double_booking() {
        // three hosts, visitors 0..4; visitor 0 visits all three hosts
        let meetings = vec![
            (0, 0, 1.0),
            (0, 1, 0.9),
            (0, 2, 0.8),
            (1, 0, 0.7),
            (1, 3, 0.6),
            (2, 0, 0.5),
        ];
        let (placed, dropped) = layout_parlour(&meetings, 3, 4, 3, 2);
        assert!(dropped.is_empty(), "{dropped:?}");
        assert_eq!(placed.len(), meetings.len());
        // each host uses one (slot, table) per visit; a visitor is never in two places at once
        let mut seen = HashSet::new();
        for &(k, s, _) in &placed {
            assert!(
                seen.insert((meetings[k].1, s)),
                "visitor {} twice in slot {s}",
                meetings[k].1
            );
        }
        let host0: BTreeSet<(u32, u32)> = placed
            .iter()
            .filter(|p| meetings[p.0].0 == 0)
            .map(|p| (p.1, p.2))
            .collect();
        assert_eq!(host0.len(), 1, "host 0's three visitors come together");
        let cells: BTreeSet<(u32, u32, usize)> =
            placed.iter().map(|p| (p.1, p.2, meetings[p.0].0)).collect();
        let per_cell: BTreeSet<(u32, u32)> = cells.iter().map(|c| (c.0, c.1)).collect();
        assert_eq!(per_cell.len(), cells.len(), "one host per table and slot");
        // one slot, one table: only the first host fits
        let (placed, dropped) = layout_parlour(&meetings, 3, 4, 1, 1);
        assert_eq!(placed.len(), 3);
        assert_eq!(dropped.len(), 3);
        assert!(dropped[0].1.contains("not enough tables"));
    }

    #[test]
    fn roundtable_seats_partners_by_theme_and_limits_seats() {
        let industries = vec![
            Some("new_energy".to_string()),
            Some("metallurgy".to_string()),
            None,
            Some("new_energy".to_string()),
        ];
        let (home, seated) = roundtable_tables(&industries, &["metallurgy".to_string()], 2);
        assert_eq!(
            home,
            vec![1, 0, 0, 1],
            "themes first, then by size, then without industry"
        );
        assert_eq!(seated[0], vec![Some("metallurgy".to_string()), None]);
        // three enterprises all want partner 0 at table 1, two seats per table and slot
        let meetings = vec![(0, 0, 1.0), (1, 0, 1.0), (2, 0, 1.0), (0, 1, 0.5)];
        let (placed, dropped) = layout_roundtable(&meetings, 3, &home, 2, 2, 2);
        assert!(dropped.is_empty());
        let mut per: HashMap<(u32, u32), BTreeSet<usize>> = HashMap::new();
        for &(k, s, t) in &placed {
            assert_eq!(t, home[meetings[k].1]);
            per.entry((s, t)).or_default().insert(meetings[k].0);
        }
        assert!(per.values().all(|v| v.len() <= 2));
        let ent0: BTreeSet<u32> = placed
            .iter()
            .filter(|p| meetings[p.0].0 == 0)
            .map(|p| p.1)
            .collect();
        assert_eq!(ent0.len(), 2, "enterprise 0 visits two tables in two slots");
        let (_, dropped) = layout_roundtable(&meetings, 3, &home, 1, 2, 2);
        assert_eq!(dropped.len(), 1);
    }

    #[test]
    fn solver_keys_round_trip() {
        assert_eq!(parse_enterprise_key(&enterprise_key(42)), Some(42));
        assert_eq!(
            parse_partner_key(&partner_key(ListingKind::Expert, 7)),
            Some((ListingKind::Expert, 7))
        );
        assert_eq!(
            parse_partner_key(&partner_key(ListingKind::Result, 9)),
            Some((ListingKind::Result, 9))
        );
        assert_eq!(parse_partner_key("q1"), None);
    }
}
