//! Organiser edits of a generated pairing: moves, swaps, added and removed meetings, each checked against the rules before it is stored.

use super::*;
use crate::codes::Code;

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
pub(super) fn readable(mut r: EditRejection, names: &Names) -> EditRejection {
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

pub(super) fn rejection(r: EditRejection) -> AppError {
    let message = format!("{} / {}", r.message_zh, r.message);
    match r.code {
        "slot_out_of_range" => {
            let mut f = FieldErrors::default();
            f.0.push(duijie_domain::FieldError {
                field: "slot".into(),
                code: r.code,
                message,
            });
            AppError::Validation(f)
        }
        "table_out_of_range" => {
            let mut f = FieldErrors::default();
            f.0.push(duijie_domain::FieldError {
                field: "table".into(),
                code: r.code,
                message,
            });
            AppError::Validation(f)
        }
        "unknown_id" => {
            let mut f = FieldErrors::default();
            f.0.push(duijie_domain::FieldError {
                field: "id".into(),
                code: r.code,
                message,
            });
            AppError::Validation(f)
        }
        code => AppError::Conflict {
            code: Code::of(code, ErrorKind::Conflict),
            message,
        },
    }
}

pub(super) fn reject(code: &'static str, zh: String, en: String) -> AppError {
    rejection(EditRejection {
        code,
        message: en,
        message_zh: zh,
    })
}

/// The stored pairing as the solver's solution (pairs from the rows).
pub(super) fn solution_of(l: &Loaded) -> Solution {
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
pub(super) fn check_group(
    l: &Loaded,
    skip: Option<i64>,
    org: i64,
    partner: (ListingKind, i64),
    slot: i64,
    table: i64,
) -> Result<(), AppError> {
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
        (r.partner_kind, r.partner_id) == partner
            && (e.format == EventFormat::Parlour || r.table != table)
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
    if e.format == EventFormat::Parlour && !at_table.is_empty() {
        return Err(reject(
            "table_occupied",
            format!("时段 {slot} 的 {table} 号桌已由其他企业接待来访"),
            format!("table {table} in slot {slot} hosts another enterprise's visit"),
        ));
    }
    if e.format == EventFormat::Roundtable && at_table.len() as i64 >= e.seats_per_table {
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
    ctx: &App,
    event_id: i64,
    req: EditRequest,
) -> Result<Option<MeetingView>, AppError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, true)?;
    let l = load_pairing(ctx, &e).await?;
    let Some(run) = &l.run else {
        return Err(AppError::Conflict {
            code: Code::NOT_GENERATED,
            message: "尚未生成对接安排，请先调用 pairings:generate / no pairing yet: call pairings:generate first".into(),
        });
    };
    let mut instance: Instance = serde_json::from_str(&run.instance)
        .map_err(|err| internal(format!("stored instance of event {event_id}: {err}")))?;
    let grouped = l.report.format.is_grouped();
    let row = |id: i64| {
        l.rows
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| AppError::not_found("对接", "pairing", id))
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
    let (edit, change) = match &req {
        EditRequest::Add {
            enterprise,
            need_id,
            partner,
            slot,
            table,
        } => add_change(
            &l,
            &instance,
            solution.pairs.len(),
            grouped,
            (*enterprise, *need_id, *partner),
            (*slot, *table),
        )?,
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
        } => swap_change(&e, &l, grouped, *slot, *table_a, *table_b)?,
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

/// A non-negative number as the solver's `u32`, or a 422 naming the field.
fn u32_of(v: i64, field: &str) -> Result<u32, AppError> {
    u32::try_from(v).map_err(|_| {
        field_error(
            field,
            "out_of_range",
            format!("{field} 应为非负整数"),
            format!("{field} must be a non-negative integer"),
        )
    })
}

/// The solver's edit and the stored change of an added meeting (`who`: enterprise, need,
/// partner; `at`: slot and table). Grouped formats check their own rules and give the
/// solver a slot of its own for the meeting.
fn add_change(
    l: &Loaded,
    instance: &Instance,
    placed: usize,
    grouped: bool,
    who: (i64, Option<i64>, (ListingKind, i64)),
    at: (i64, i64),
) -> Result<(Option<Edit>, Vec<PairingChange>), AppError> {
    let (enterprise, need_id, partner) = who;
    let (slot, table) = at;
    if grouped {
        check_group(l, None, enterprise, partner, slot, table)?;
    }
    let ek = enterprise_key(enterprise);
    let pk = partner_key(partner.0, partner.1);
    let edit = if grouped {
        Edit::Add {
            enterprise: ek.clone(),
            result: pk.clone(),
            slot: placed as u32,
            table: 0,
        }
    } else {
        Edit::Add {
            enterprise: ek.clone(),
            result: pk.clone(),
            slot: u32_of(slot, "slot")?,
            table: u32_of(table, "table")?,
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
        enterprise_id: enterprise,
        need_id: need_id.or(meta.map(|m| m.need_id)).unwrap_or(0),
        partner_kind: partner.0,
        partner_id: partner.1,
        score,
        base_score: meta.map(|m| m.base_score).unwrap_or(0.0),
        slot,
        table,
        forced,
        origin: "manual".into(),
    };
    Ok((Some(edit), vec![PairingChange::Insert(draft)]))
}

/// The solver's edit and the stored moves of swapping two tables in a slot.
fn swap_change(
    e: &Event,
    l: &Loaded,
    grouped: bool,
    slot: i64,
    table_a: i64,
    table_b: i64,
) -> Result<(Option<Edit>, Vec<PairingChange>), AppError> {
    for (v, f, n) in [
        (slot, "slot", e.slot_count),
        (table_a, "table_a", e.table_count),
        (table_b, "table_b", e.table_count),
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
        .filter(|r| r.slot == slot && (r.table == table_a || r.table == table_b))
        .map(|r| PairingChange::Move {
            id: r.id,
            slot,
            table: if r.table == table_a { table_b } else { table_a },
        })
        .collect();
    let edit = (!grouped).then_some(Edit::SwapTables {
        slot: slot as u32,
        table_a: table_a as u32,
        table_b: table_b as u32,
    });
    Ok((edit, changes))
}

/// Adds a meeting from `{need_id | organization_id, result_id | expert_id, slot, table}`.
pub async fn add_pairing(ctx: &App, event_id: i64, rec: &Record) -> Result<MeetingView, AppError> {
    load(ctx, event_id).await?;
    let names = Names::of(&ctx.store.participants(event_id).await?);
    let mut r = In::new(rec);
    let PairIds {
        need_id,
        org_id,
        result_id,
        expert_id,
    } = PairIds::read(&mut r);
    let slot = r.int("slot", 0, 1000);
    let table = r.int("table", 0, 1000);
    let mut errors = r.finish_ignoring(&[]);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
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
        return Err(AppError::Validation(errors));
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
    ctx: &App,
    event_id: i64,
    id: i64,
    rec: &Record,
) -> Result<Option<MeetingView>, AppError> {
    let mut r = In::new(rec);
    let remove = match r.raw("remove") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            r.error(
                "remove",
                "invalid_type",
                "remove 应为 true 或 false",
                "remove must be true or false",
            );
            false
        }
    };
    let slot = r.int("slot", 0, 1000);
    let table = r.int("table", 0, 1000);
    let mut errors = r.finish_ignoring(&["id"]);
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
        return Err(AppError::Validation(errors));
    }
    let req = if remove {
        EditRequest::Remove { id }
    } else {
        EditRequest::Move { id, slot, table }
    };
    edit(ctx, event_id, req).await
}

/// Swaps two tables in one slot from `{slot, table_a, table_b}`.
pub async fn swap_tables(ctx: &App, event_id: i64, rec: &Record) -> Result<PairingView, AppError> {
    let mut r = In::new(rec);
    let need = |r: &mut In, f: &'static str| {
        if r.raw(f).is_none() {
            r.error(
                f,
                "required",
                format!("{f} 为必填项"),
                format!("{f} is required"),
            );
        }
        r.int_or(f, 0, 0, 1000)
    };
    let slot = need(&mut r, "slot");
    let table_a = need(&mut r, "table_a");
    let table_b = need(&mut r, "table_b");
    let errors = r.finish_ignoring(&[]);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
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
