//! The outcomes ledger (台账): what came of a pairing or a cooperation, as a chain of
//! stages, and the rules for moving along it. No I/O: the store keeps the entries, the
//! server validates requests with [`check_transition`] and [`parse_outcome`].
//!
//! Stages, in order: proposed (推荐) → accepted (已接受) → met (已洽谈) → intention (意向)
//! → contract (签约; amount in yuan, date, mode) → transferred (已转化). A step may skip
//! stages (an organiser often learns of a contract after the fact) but never goes back.
//! Two endings leave the chain: declined (谢绝; only before the meeting) and dropped
//! (终止, with a reason, from any open stage).

use crate::FieldErrors;
use crate::vocab::TRANSFER_MODES;
use serde_json::{Map, Value};

/// Ledger statuses: code, Chinese label, stage on the chain (`None` for the two endings).
pub const LEDGER_STATUSES: &[(&str, &str, Option<i64>)] = &[
    ("proposed", "已推荐", Some(0)),
    ("accepted", "已接受", Some(1)),
    ("met", "已洽谈", Some(2)),
    ("intention", "达成意向", Some(3)),
    ("contract", "已签约", Some(4)),
    ("transferred", "成果已转化", Some(5)),
    ("declined", "已谢绝", None),
    ("dropped", "已终止", None),
];

/// The five kinds of inter-university cooperation project (domain.md).
pub const PROJECT_KINDS: &[(&str, &str)] = &[
    ("joint_training", "联合培养"),
    ("teacher_exchange", "教师互聘"),
    ("collaborative_innovation", "协同创新"),
    ("resource_sharing", "资源共享"),
    ("exchange", "合作交流"),
];

/// Kinds of ledger entry.
pub const ENTRY_KINDS: &[(&str, &str)] = &[
    ("pairing", "对接会配对"),
    ("cooperation", "校企合作"),
    ("inter_university", "校校合作"),
];

/// How many projects of one kind a university may file in one year.
pub const PROJECTS_PER_KIND_PER_YEAR: i64 = 5;

/// Largest contract amount accepted, in yuan (10 billion).
pub const MAX_AMOUNT_YUAN: i64 = 10_000_000_000;

/// The stage of a status on the chain, `None` for declined / dropped / unknown codes.
pub fn stage(status: &str) -> Option<i64> {
    LEDGER_STATUSES
        .iter()
        .find(|(c, _, _)| *c == status)
        .and_then(|(_, _, s)| *s)
}

/// The Chinese label of a status code (the code itself when unknown).
pub fn status_label(status: &str) -> &str {
    LEDGER_STATUSES
        .iter()
        .find(|(c, _, _)| *c == status)
        .map(|(_, l, _)| *l)
        .unwrap_or(status)
}

/// Parses a status given by its code or its Chinese label (spreadsheets carry labels).
pub fn parse_status(s: &str) -> Option<&'static str> {
    let s = s.trim();
    LEDGER_STATUSES
        .iter()
        .find(|(c, l, _)| *c == s || *l == s)
        .map(|(c, _, _)| *c)
}

/// Parses a project kind by code or Chinese label.
pub fn parse_project_kind(s: &str) -> Option<&'static str> {
    let s = s.trim();
    PROJECT_KINDS
        .iter()
        .find(|(c, l)| *c == s || *l == s)
        .map(|(c, _)| *c)
}

/// The Chinese label of a project kind.
pub fn project_kind_label(code: &str) -> &str {
    PROJECT_KINDS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or(code)
}

/// Parses a transfer mode by code or Chinese label.
pub fn parse_mode(s: &str) -> Option<&'static str> {
    let s = s.trim();
    TRANSFER_MODES
        .iter()
        .find(|(c, l)| *c == s || *l == s)
        .map(|(c, _)| *c)
}

/// True for statuses nothing can follow.
pub fn is_final(status: &str) -> bool {
    matches!(status, "declined" | "dropped" | "transferred")
}

/// Whether `from` may move to `to`; the error is a `中文 / English` sentence.
pub fn check_transition(from: &str, to: &str) -> Result<(), String> {
    let (fl, tl) = (status_label(from), status_label(to));
    if from == to {
        return Err(format!("该记录已是“{tl}”状态 / the entry is already {to}"));
    }
    if is_final(from) {
        return Err(format!(
            "“{fl}”是最终状态，不能再改为“{tl}” / {from} is final and cannot become {to}"
        ));
    }
    match (stage(from), to) {
        (_, "dropped") => Ok(()),
        (Some(s), "declined") if s <= 1 => Ok(()),
        (_, "declined") => Err(format!(
            "已洽谈之后不能再谢绝，请改为“已终止”并写明原因 / after the meeting an entry can no longer be declined; drop it with a reason instead (it is {from})"
        )),
        (Some(s), _) => match stage(to) {
            Some(t) if t > s => Ok(()),
            Some(_) => Err(format!(
                "状态只能向前推进：“{fl}”之后不能改为“{tl}” / a status only moves forward: {from} cannot become {to}"
            )),
            None => Err(format!("未知状态“{to}” / unknown status {to}")),
        },
        (None, _) => Err(format!("未知状态“{from}” / unknown status {from}")),
    }
}

/// A validated outcome to record on an entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The new status code.
    pub status: String,
    /// When it happened (YYYY-MM-DD); today when not given.
    pub date: Option<String>,
    /// Contract amount in yuan (contract).
    pub amount_yuan: Option<i64>,
    /// Contract date (contract; defaults to `date`).
    pub contract_date: Option<String>,
    /// Contract mode code (contract).
    pub contract_mode: Option<String>,
    /// Why it was dropped or declined.
    pub reason: Option<String>,
    /// Free note.
    pub note: Option<String>,
    /// 技术合同登记号 of a contract (format-checked).
    pub registration_no: Option<String>,
    /// The broker (技术经纪人) credited, a user id (the application checks the role).
    pub broker_id: Option<i64>,
}

/// True for `YYYY-MM-DD` dates that exist.
pub fn valid_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// An optional text field of a JSON object: trimmed, empty as absent, at most `max`
/// characters, no control characters (`input::has_control`, the rule of every input path),
/// otherwise an error for `key`.
pub fn text_field(
    obj: &Map<String, Value>,
    key: &str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.chars().count() > max => {
            errors.push(
                key,
                "too_long",
                format!("最多 {max} 个字"),
                format!("at most {max} characters"),
            );
            None
        }
        // the rule of every input path: no control characters (line breaks and tabs are
        // text; notes and reasons may have several lines)
        Some(Value::String(s)) if crate::input::has_control(s) => {
            errors.push(
                key,
                "invalid_characters",
                "含有不允许的控制字符",
                "contains control characters",
            );
            None
        }
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(_) => {
            errors.push(key, "invalid_type", "应为文本", "must be a string");
            None
        }
    }
}

/// Reads an integer amount in yuan: a JSON integer or a string of digits (spreadsheets).
fn amount_field(obj: &Map<String, Value>, errors: &mut FieldErrors) -> Option<i64> {
    let key = "amount_yuan";
    let v = match obj.get(key) {
        None | Some(Value::Null) => return None,
        Some(Value::String(s)) if s.trim().is_empty() => return None,
        Some(Value::Number(n)) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Some(Value::String(s)) => s.trim().replace(',', "").parse::<i64>().ok(),
        Some(_) => None,
    };
    match v {
        Some(a) if a > 0 && a <= MAX_AMOUNT_YUAN => Some(a),
        Some(_) => {
            errors.push(
                key,
                "out_of_range",
                "金额应为大于 0、不超过 100 亿的整数（元）",
                "amount must be a whole number of yuan above 0 and at most 10 billion",
            );
            None
        }
        None => {
            errors.push(
                key,
                "invalid_type",
                "金额应为整数（元）",
                "amount must be a whole number of yuan",
            );
            None
        }
    }
}

fn date_field(obj: &Map<String, Value>, key: &str, errors: &mut FieldErrors) -> Option<String> {
    let s = text_field(obj, key, 10, errors)?;
    if valid_date(&s) {
        Some(s)
    } else {
        errors.push(
            key,
            "invalid_date",
            "日期格式应为 YYYY-MM-DD",
            "date must be YYYY-MM-DD",
        );
        None
    }
}

/// Validates an outcome body (`status`, `date`, `amount_yuan`, `contract_date`,
/// `contract_mode`, `reason`, `note`); field rules depend on the status: a contract needs
/// amount, date and mode, a drop needs a reason. Unknown fields are refused.
pub fn parse_outcome(obj: &Map<String, Value>) -> Result<Outcome, FieldErrors> {
    let mut errors = FieldErrors::default();
    const KNOWN: [&str; 9] = [
        "status",
        "date",
        "amount_yuan",
        "contract_date",
        "contract_mode",
        "reason",
        "note",
        "registration_no",
        "broker_id",
    ];
    for k in obj.keys() {
        if !KNOWN.contains(&k.as_str()) {
            errors.push(
                k.as_str(),
                "unknown_field",
                format!("不认识的字段 {k}"),
                format!("unknown field {k}"),
            );
        }
    }
    let status = match text_field(obj, "status", 20, &mut errors) {
        Some(s) => match parse_status(&s) {
            Some(c) => Some(c.to_string()),
            None => {
                let choices: Vec<&str> = LEDGER_STATUSES.iter().map(|(c, _, _)| *c).collect();
                errors.push(
                    "status",
                    "invalid_choice",
                    format!("未知状态“{s}”，可选：{}", choices.join("、")),
                    format!("unknown status {s}; one of {}", choices.join(", ")),
                );
                None
            }
        },
        None => {
            if !errors.0.iter().any(|e| e.field == "status") {
                errors.push("status", "required", "请选择新状态", "status is required");
            }
            None
        }
    };
    let date = date_field(obj, "date", &mut errors);
    let amount_yuan = amount_field(obj, &mut errors);
    let contract_date = date_field(obj, "contract_date", &mut errors);
    let contract_mode = match text_field(obj, "contract_mode", 20, &mut errors) {
        Some(m) => match parse_mode(&m) {
            Some(c) => Some(c.to_string()),
            None => {
                errors.push(
                    "contract_mode",
                    "invalid_choice",
                    format!("未知合作方式“{m}”"),
                    format!("unknown contract mode {m}"),
                );
                None
            }
        },
        None => None,
    };
    let reason = text_field(obj, "reason", 500, &mut errors);
    let note = text_field(obj, "note", 2000, &mut errors);
    let this_year = chrono::Datelike::year(&chrono::Utc::now());
    let registration_no = text_field(obj, "registration_no", 40, &mut errors).and_then(|r| {
        match crate::connection::check_registration_no(&r, this_year) {
            Ok(n) => Some(n),
            Err(m) => {
                let (zh, en) = m.split_once(" / ").unwrap_or((m.as_str(), m.as_str()));
                errors.push("registration_no", "invalid_format", zh, en);
                None
            }
        }
    });
    let broker_id = match obj.get("broker_id") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().filter(|n| *n > 0) {
            Some(n) => Some(n),
            None => {
                errors.push(
                    "broker_id",
                    "invalid_type",
                    "broker_id 应为技术经纪人的用户编号（正整数）",
                    "broker_id must be the broker's user id (a positive integer)",
                );
                None
            }
        },
    };
    if let Some(s) = status.as_deref() {
        if s == "contract" {
            if amount_yuan.is_none() && !errors.0.iter().any(|e| e.field == "amount_yuan") {
                errors.push(
                    "amount_yuan",
                    "required",
                    "签约须填写合同金额（元）",
                    "a contract needs its amount in yuan",
                );
            }
            if contract_mode.is_none() && !errors.0.iter().any(|e| e.field == "contract_mode") {
                errors.push(
                    "contract_mode",
                    "required",
                    "签约须选择合作方式",
                    "a contract needs its mode",
                );
            }
        }
        if s == "dropped" && reason.is_none() && !errors.0.iter().any(|e| e.field == "reason") {
            errors.push(
                "reason",
                "required",
                "终止须写明原因",
                "dropping an entry needs a reason",
            );
        }
    }
    errors.into_result(())?;
    let status = status.unwrap_or_default();
    let contract_date = if status == "contract" {
        contract_date.or_else(|| date.clone())
    } else {
        contract_date
    };
    Ok(Outcome {
        status,
        date,
        amount_yuan,
        contract_date,
        contract_mode,
        reason,
        note,
        registration_no,
        broker_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_chain_only_moves_forward_and_may_skip() {
        assert!(check_transition("proposed", "accepted").is_ok());
        assert!(check_transition("proposed", "contract").is_ok());
        assert!(check_transition("met", "transferred").is_ok());
        let back = check_transition("contract", "met").unwrap_err();
        assert!(back.contains("只能向前"), "{back}");
        let same = check_transition("met", "met").unwrap_err();
        assert!(same.contains("已是"), "{same}");
    }

    #[test]
    fn endings_are_final_and_declining_is_only_before_the_meeting() {
        for end in ["declined", "dropped", "transferred"] {
            let e = check_transition(end, "contract").unwrap_err();
            assert!(e.contains("最终状态"), "{end}: {e}");
        }
        assert!(check_transition("accepted", "declined").is_ok());
        assert!(check_transition("met", "declined").is_err());
        assert!(check_transition("intention", "dropped").is_ok());
    }

    #[test]
    fn a_contract_needs_amount_and_mode_and_takes_labels() {
        let e = parse_outcome(&obj(json!({"status": "contract"}))).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["amount_yuan", "contract_mode"]);
        let ok = parse_outcome(&obj(json!({
            "status": "已签约", "amount_yuan": "1,200,000", "contract_mode": "许可",
            "date": "2026-03-05"
        })))
        .unwrap();
        assert_eq!(ok.status, "contract");
        assert_eq!(ok.amount_yuan, Some(1_200_000));
        assert_eq!(ok.contract_mode.as_deref(), Some("license"));
        assert_eq!(ok.contract_date.as_deref(), Some("2026-03-05"));
    }

    #[test]
    fn bad_values_are_named_field_by_field() {
        let e = parse_outcome(&obj(json!({
            "status": "won", "amount_yuan": -5, "date": "2026-02-30", "colour": 1
        })))
        .unwrap_err();
        let codes: Vec<(&str, &str)> = e.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert!(codes.contains(&("status", "invalid_choice")), "{codes:?}");
        assert!(
            codes.contains(&("amount_yuan", "out_of_range")),
            "{codes:?}"
        );
        assert!(codes.contains(&("date", "invalid_date")), "{codes:?}");
        assert!(codes.contains(&("colour", "unknown_field")), "{codes:?}");
        let drop = parse_outcome(&obj(json!({"status": "dropped"}))).unwrap_err();
        assert_eq!(drop.0[0].field, "reason");
    }
}
