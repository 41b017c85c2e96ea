//! Connection requests (对接申请): their statuses, the reasons for declining, the meeting a
//! side proposes, the calendar file both sides get, and the format of a technology contract's
//! registration number (技术合同登记号). No I/O.

use crate::FieldErrors;
use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::kinds::{ConnectionStatus, DeclineReason};

/// The programme's time zone (China Standard Time, no daylight saving).
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!("+08:00 is a valid offset"))
}

/// A meeting one side proposes: when, and where or online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Meeting {
    /// Start, RFC 3339 with the +08:00 offset.
    pub start: String,
    /// End, RFC 3339 with the +08:00 offset.
    pub end: String,
    /// Where, for a meeting in person.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub place: Option<String>,
    /// The link, for a meeting online.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub online_url: Option<String>,
}

/// Longest meeting accepted.
pub const MAX_MEETING_HOURS: i64 = 12;
/// How far ahead a meeting may be proposed.
pub const MAX_MEETING_DAYS_AHEAD: i64 = 366;

/// Parses a time given as RFC 3339 (any offset) or as local programme time without an
/// offset (`2026-12-10T14:00`, `2026-12-10 14:00`, with or without seconds).
pub fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&cst()));
    }
    for f in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return cst().from_local_datetime(&n).single();
        }
    }
    None
}

impl Meeting {
    /// Start as a time (a stored meeting always parses).
    pub fn start_at(&self) -> Option<DateTime<FixedOffset>> {
        parse_time(&self.start)
    }

    /// End as a time.
    pub fn end_at(&self) -> Option<DateTime<FixedOffset>> {
        parse_time(&self.end)
    }

    /// A readable Chinese line: `12月10日 14:00–15:00 · 大连理工大学科技园 A 座`.
    pub fn describe_zh(&self) -> String {
        let (Some(s), Some(e)) = (self.start_at(), self.end_at()) else {
            return format!("{} – {}", self.start, self.end);
        };
        let when = if s.date_naive() == e.date_naive() {
            format!(
                "{}年{}月{}日 {}–{}",
                s.format("%Y"),
                s.format("%-m"),
                s.format("%-d"),
                s.format("%H:%M"),
                e.format("%H:%M")
            )
        } else {
            format!(
                "{} – {}",
                s.format("%Y-%m-%d %H:%M"),
                e.format("%Y-%m-%d %H:%M")
            )
        };
        match (&self.place, &self.online_url) {
            (Some(p), _) => format!("{when} · {p}"),
            (None, Some(u)) => format!("{when} · 线上 {u}"),
            (None, None) => when,
        }
    }
}

/// Validates a meeting object `{start, end, place | online_url}` given under `field`,
/// against `now`. Times come back normalised to RFC 3339 in +08:00.
pub fn parse_meeting(
    v: &Value,
    field: &str,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> Option<Meeting> {
    let Some(o) = v.as_object() else {
        errors.push(
            field,
            "invalid_type",
            "会谈安排应为对象 {start, end, place 或 online_url}",
            "a meeting must be an object {start, end, place | online_url}",
        );
        return None;
    };
    let before = errors.0.len();
    for k in o.keys() {
        if !["start", "end", "place", "online_url"].contains(&k.as_str()) {
            errors.push(
                format!("{field}.{k}"),
                "unknown_field",
                "未知字段",
                "unknown field",
            );
        }
    }
    let time = |k: &str, errors: &mut FieldErrors| -> Option<DateTime<FixedOffset>> {
        match o.get(k) {
            Some(Value::String(s)) => {
                let t = parse_time(s);
                if t.is_none() {
                    errors.push(
                        format!("{field}.{k}"),
                        "invalid_format",
                        "时间格式应为 2026-12-10T14:00（北京时间）或带时区的 RFC 3339",
                        "a time must look like 2026-12-10T14:00 (Beijing time) or RFC 3339 with an offset",
                    );
                }
                t
            }
            None | Some(Value::Null) => {
                errors.push(format!("{field}.{k}"), "required", "必填", "required");
                None
            }
            Some(_) => {
                errors.push(
                    format!("{field}.{k}"),
                    "invalid_type",
                    "应为文本时间",
                    "must be a string",
                );
                None
            }
        }
    };
    let start = time("start", errors);
    let end = time("end", errors);
    let text = |k: &str, max: usize, errors: &mut FieldErrors| -> Option<String> {
        match o.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.is_empty() {
                    None
                } else if s.chars().count() > max || s.chars().any(char::is_control) {
                    errors.push(
                        format!("{field}.{k}"),
                        "too_long",
                        format!("最多 {max} 个字符，且不含控制字符"),
                        format!("at most {max} characters, no control characters"),
                    );
                    None
                } else {
                    Some(s.to_string())
                }
            }
            Some(_) => {
                errors.push(
                    format!("{field}.{k}"),
                    "invalid_type",
                    "应为文本",
                    "must be a string",
                );
                None
            }
        }
    };
    let place = text("place", 200, errors);
    let online_url = text("online_url", 500, errors);
    if let Some(u) = &online_url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        errors.push(
            format!("{field}.online_url"),
            "invalid_format",
            "线上会议链接应以 https:// 或 http:// 开头",
            "an online meeting link must start with https:// or http://",
        );
    }
    if place.is_none() && online_url.is_none() && errors.0.len() == before {
        errors.push(
            field,
            "required",
            "请填写会谈地点（place）或线上会议链接（online_url）",
            "give a place or an online_url",
        );
    }
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            errors.push(
                format!("{field}.end"),
                "invalid_range",
                "结束时间应晚于开始时间",
                "the end must be after the start",
            );
        } else if e - s > Duration::hours(MAX_MEETING_HOURS) {
            errors.push(
                format!("{field}.end"),
                "invalid_range",
                format!("会谈最长 {MAX_MEETING_HOURS} 小时"),
                format!("a meeting lasts at most {MAX_MEETING_HOURS} hours"),
            );
        }
        if s.with_timezone(&Utc) < now - Duration::minutes(5) {
            errors.push(
                format!("{field}.start"),
                "in_past",
                "会谈时间不能早于现在",
                "the meeting cannot start in the past",
            );
        } else if s.with_timezone(&Utc) > now + Duration::days(MAX_MEETING_DAYS_AHEAD) {
            errors.push(
                format!("{field}.start"),
                "invalid_range",
                "会谈时间最多可约在一年以内",
                "a meeting can be at most a year ahead",
            );
        }
    }
    if errors.0.len() > before {
        return None;
    }
    let (s, e) = (start?, end?);
    Some(Meeting {
        start: s.to_rfc3339(),
        end: e.to_rfc3339(),
        place,
        online_url,
    })
}

/// Escapes a text value for iCalendar (RFC 5545 §3.3.11).
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets without splitting a character (RFC 5545 §3.1).
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

/// One event of a calendar file.
#[derive(Debug, Clone)]
pub struct CalendarEvent {
    /// Globally unique id (stays the same when the meeting moves, so calendars update it).
    pub uid: String,
    /// Incremented each time the meeting changes.
    pub sequence: i64,
    /// Title.
    pub summary: String,
    /// Longer text.
    pub description: String,
    /// The meeting.
    pub meeting: Meeting,
}

/// A calendar file (text/calendar) with one VEVENT per meeting, times in Asia/Shanghai.
pub fn ics(events: &[CalendarEvent], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//duijie//connections//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Shanghai",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0800",
        "TZNAME:CST",
        "END:STANDARD",
        "END:VTIMEZONE",
    ] {
        fold(l, &mut out);
    }
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    for e in events {
        let (Some(s), Some(t)) = (e.meeting.start_at(), e.meeting.end_at()) else {
            continue;
        };
        let local = |d: DateTime<FixedOffset>| d.with_timezone(&cst()).format("%Y%m%dT%H%M%S");
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}", e.uid), &mut out);
        fold(&format!("SEQUENCE:{}", e.sequence), &mut out);
        fold(&format!("DTSTAMP:{stamp}"), &mut out);
        fold(
            &format!("DTSTART;TZID=Asia/Shanghai:{}", local(s)),
            &mut out,
        );
        fold(&format!("DTEND;TZID=Asia/Shanghai:{}", local(t)), &mut out);
        fold(&format!("SUMMARY:{}", ics_text(&e.summary)), &mut out);
        let mut description = e.description.clone();
        if let Some(u) = &e.meeting.online_url {
            description.push_str(&format!("\n线上会议：{u}"));
            fold(&format!("URL:{}", ics_text(u)), &mut out);
        }
        fold(&format!("DESCRIPTION:{}", ics_text(&description)), &mut out);
        let location = e
            .meeting
            .place
            .clone()
            .or_else(|| e.meeting.online_url.as_ref().map(|_| "线上".to_string()));
        if let Some(l) = location {
            fold(&format!("LOCATION:{}", ics_text(&l)), &mut out);
        }
        fold("STATUS:CONFIRMED", &mut out);
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

/// Province codes that begin a technology contract registration number (the national
/// region codes of the contract registration forms: 11 Beijing … 65 Xinjiang, 71 Hong
/// Kong, Macao and Taiwan).
const PROVINCES: &[u32] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71,
];

/// Checks the format of a 技术合同登记号: 16 digits, the registration year (1985, when
/// registration began, to next year), the six-digit code of the registering office's
/// region (its first two digits a province code) and a six-digit serial number other than
/// 000000, as in `2026210102000123`. Spaces and hyphens people type are ignored; the
/// normalised number is returned. The error is a `中文 / English` sentence.
pub fn check_registration_no(s: &str, this_year: i32) -> Result<String, String> {
    let n: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if n.chars().count() != 16 || !n.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "技术合同登记号应为 16 位数字（年份 4 位 + 登记机构地区代码 6 位 + 序号 6 位，如 2026210102000123），收到“{s}” / a technology contract registration number has 16 digits (year, 6-digit region code, 6-digit serial), got '{s}'"
        ));
    }
    let year: i32 = n[..4].parse().unwrap_or(0);
    if !(1985..=this_year + 1).contains(&year) {
        return Err(format!(
            "登记号前 4 位应为登记年份（1985–{}），收到 {year} / the first four digits are the registration year (1985–{}), got {year}",
            this_year + 1,
            this_year + 1
        ));
    }
    let province: u32 = n[4..6].parse().unwrap_or(0);
    if !PROVINCES.contains(&province) {
        return Err(format!(
            "登记号第 5–10 位应为登记机构的地区代码，{province} 不是省级代码 / digits 5–10 are the registering office's region code; {province} is no province code"
        ));
    }
    if &n[10..] == "000000" {
        return Err(
            "登记号最后 6 位为序号，不能全为 0 / the last six digits are a serial number and cannot all be 0"
                .to_string(),
        );
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0).unwrap()
    }

    #[test]
    fn meetings_are_checked_and_normalised_to_beijing_time() {
        let mut e = FieldErrors::default();
        let m = parse_meeting(
            &serde_json::json!({"start": "2026-12-10T14:00", "end": "2026-12-10T15:30", "place": "大连理工大学 科技园A座"}),
            "meeting",
            now(),
            &mut e,
        )
        .unwrap();
        assert!(e.is_empty());
        assert_eq!(m.start, "2026-12-10T14:00:00+08:00");
        assert_eq!(
            m.describe_zh(),
            "2026年12月10日 14:00–15:30 · 大连理工大学 科技园A座"
        );
        // an offset is kept as the same instant
        let m = parse_meeting(
            &serde_json::json!({"start": "2026-12-10T06:00:00Z", "end": "2026-12-10T07:00:00Z", "online_url": "https://meet.example.cn/x"}),
            "meeting",
            now(),
            &mut e,
        )
        .unwrap();
        assert_eq!(m.start, "2026-12-10T14:00:00+08:00");
        for (bad, field) in [
            (
                serde_json::json!({"start": "2026-12-10T15:00", "end": "2026-12-10T14:00", "place": "x"}),
                "meeting.end",
            ),
            (
                serde_json::json!({"start": "2026-12-01T15:00", "end": "2026-12-01T16:00", "place": "x"}),
                "meeting.start",
            ),
            (
                serde_json::json!({"start": "2026-12-10T15:00", "end": "2026-12-10T16:00"}),
                "meeting",
            ),
            (
                serde_json::json!({"start": "明天下午", "end": "2026-12-10T16:00", "place": "x"}),
                "meeting.start",
            ),
            (
                serde_json::json!({"start": "2026-12-10T15:00", "end": "2026-12-10T16:00", "online_url": "ftp://x"}),
                "meeting.online_url",
            ),
            (
                serde_json::json!({"start": "2026-12-10T08:00", "end": "2026-12-10T23:00", "place": "x"}),
                "meeting.end",
            ),
        ] {
            let mut e = FieldErrors::default();
            assert!(
                parse_meeting(&bad, "meeting", now(), &mut e).is_none(),
                "{bad}"
            );
            assert!(e.0.iter().any(|x| x.field == field), "{bad}: {e:?}");
        }
    }

    #[test]
    fn calendar_files_have_one_event_per_meeting_in_shanghai_time() {
        let m = Meeting {
            start: "2026-12-10T14:00:00+08:00".into(),
            end: "2026-12-10T15:00:00+08:00".into(),
            place: Some("沈阳, 浑南区; 科技大厦".into()),
            online_url: None,
        };
        let ev = CalendarEvent {
            uid: "connection-7@duijie".into(),
            sequence: 2,
            summary: "对接洽谈：高强度钢材焊接".into(),
            description: "需求 ↔ 成果".repeat(10),
            meeting: m,
        };
        let s = ics(&[ev], now());
        assert!(s.starts_with("BEGIN:VCALENDAR\r\n") && s.ends_with("END:VCALENDAR\r\n"));
        assert_eq!(s.matches("BEGIN:VEVENT").count(), 1);
        assert!(s.contains("DTSTART;TZID=Asia/Shanghai:20261210T140000\r\n"));
        assert!(s.contains("LOCATION:沈阳\\, 浑南区\\; 科技大厦\r\n"));
        // folded lines stay within 75 octets and never split a character
        for line in s.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
    }

    #[test]
    fn registration_numbers_are_format_checked() {
        assert_eq!(
            check_registration_no("2026 2101 0200 0123", 2026).unwrap(),
            "2026210102000123"
        );
        assert!(check_registration_no("2026210102000123", 2026).is_ok());
        for bad in [
            "202621010200012",  // 15 digits
            "2026210102000A23", // a letter
            "1984210102000123", // before registration began
            "2031210102000123", // the future
            "2026990102000123", // no province 99
            "2026210102000000", // serial 0
        ] {
            assert!(check_registration_no(bad, 2026).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_and_reasons_have_labels() {
        assert!(ConnectionStatus::Pending.is_open() && ConnectionStatus::Proposed.is_open());
        assert!(!ConnectionStatus::Accepted.is_open());
        assert_eq!(DeclineReason::parse("timing"), Some(DeclineReason::Timing));
        assert_eq!(DeclineReason::AlreadyPartnered.label_zh(), "已有合作方");
    }
}
