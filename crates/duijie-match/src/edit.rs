//! Organiser edits of a solved schedule, validated against the instance's constraints.

use crate::error::Side;
use crate::model::{Index, Instance, PlacedPair, Solution};
use crate::solve::{Meeting, explain_shortfalls, summarise};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

/// An organiser's change to a schedule. JSON: `{"op": "add", "enterprise": "e1",
/// "result": "r2", "slot": 0, "table": 3}`, `{"op": "swap_tables", "slot": 1, "table_a": 0,
/// "table_b": 4}`, ….
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Add a meeting (also the way to seat an `unseated` one).
    Add {
        /// Enterprise id.
        enterprise: String,
        /// Result id.
        result: String,
        /// Slot, `< instance.slots`.
        slot: u32,
        /// Table, `< instance.tables`.
        table: u32,
    },
    /// Move an existing meeting to another slot and/or table.
    Move {
        /// Enterprise id.
        enterprise: String,
        /// Result id.
        result: String,
        /// New slot.
        slot: u32,
        /// New table.
        table: u32,
    },
    /// Remove a meeting (not a forced one).
    Remove {
        /// Enterprise id.
        enterprise: String,
        /// Result id.
        result: String,
    },
    /// Exchange the meetings at two tables of one slot (either may be empty).
    SwapTables {
        /// The slot.
        slot: u32,
        /// One table.
        table_a: u32,
        /// The other table.
        table_b: u32,
    },
}

/// Why an edit was refused: a stable `code` and messages naming who or what conflicts.
///
/// Codes: `unknown_id`, `slot_out_of_range`, `table_out_of_range`, `already_paired`,
/// `not_found`, `forbidden`, `not_scored`, `below_min_score`, `capacity`, `group_cap`,
/// `busy`, `table_occupied`, `forced_pair`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditRejection {
    /// Stable machine code.
    pub code: &'static str,
    /// English message.
    pub message: String,
    /// Chinese message.
    pub message_zh: String,
}

impl fmt::Display for EditRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EditRejection {}

fn reject(code: &'static str, message_zh: String, message: String) -> EditRejection {
    EditRejection {
        code,
        message,
        message_zh,
    }
}

fn find_ids(idx: &Index<'_>, e: &str, r: &str) -> Result<(usize, usize), EditRejection> {
    if !idx.ent.contains_key(e) {
        return Err(reject(
            "unknown_id",
            format!("未知的企业编号“{e}”"),
            format!("unknown enterprise id \"{e}\""),
        ));
    }
    idx.pair(e, r, "edit").map_err(|_| {
        reject(
            "unknown_id",
            format!("未知的成果编号“{r}”"),
            format!("unknown result id \"{r}\""),
        )
    })
}

fn check_slot(instance: &Instance, slot: u32) -> Result<(), EditRejection> {
    if slot as i64 >= instance.slots {
        return Err(reject(
            "slot_out_of_range",
            format!(
                "时段 {slot} 超出范围（共 {} 个时段，编号从 0 开始）",
                instance.slots
            ),
            format!(
                "slot {slot} is out of range (there are {} slots, numbered from 0)",
                instance.slots
            ),
        ));
    }
    Ok(())
}

fn check_table(instance: &Instance, table: u32) -> Result<(), EditRejection> {
    if table as i64 >= instance.tables {
        return Err(reject(
            "table_out_of_range",
            format!(
                "{table} 号桌超出范围（共 {} 张桌，编号从 0 开始）",
                instance.tables
            ),
            format!(
                "table {table} is out of range (there are {} tables, numbered from 0)",
                instance.tables
            ),
        ));
    }
    Ok(())
}

/// Refuse if either participant already has another meeting in `slot`, or the table is
/// taken; `skip` is the position of the meeting being moved.
fn check_free(
    pairs: &[PlacedPair],
    skip: Option<usize>,
    e: &str,
    r: &str,
    slot: u32,
    table: u32,
) -> Result<(), EditRejection> {
    let others = pairs
        .iter()
        .enumerate()
        .filter(|(i, p)| Some(*i) != skip && p.slot == slot);
    for (_, p) in others.clone() {
        if p.enterprise == e {
            return Err(reject(
                "busy",
                format!("企业“{e}”在时段 {slot} 已与成果“{}”会谈", p.result),
                format!(
                    "enterprise \"{e}\" already meets result \"{}\" in slot {slot}",
                    p.result
                ),
            ));
        }
        if p.result == r {
            return Err(reject(
                "busy",
                format!("成果“{r}”在时段 {slot} 已与企业“{}”会谈", p.enterprise),
                format!(
                    "result \"{r}\" already meets enterprise \"{}\" in slot {slot}",
                    p.enterprise
                ),
            ));
        }
    }
    for (_, p) in others {
        if p.table == table {
            return Err(reject(
                "table_occupied",
                format!(
                    "时段 {slot} 的 {table} 号桌已被企业“{}”与成果“{}”的会谈占用",
                    p.enterprise, p.result
                ),
                format!(
                    "table {table} in slot {slot} is taken by enterprise \"{}\" and result \"{}\"",
                    p.enterprise, p.result
                ),
            ));
        }
    }
    Ok(())
}

fn not_found(e: &str, r: &str) -> EditRejection {
    reject(
        "not_found",
        format!("企业“{e}”与成果“{r}”没有已安排的会谈"),
        format!("enterprise \"{e}\" has no scheduled meeting with result \"{r}\""),
    )
}

/// Apply an organiser edit to a solution of `instance`, checking capacities, group caps
/// (a move keeps the same meetings, so only an add can reach one), forbidden and
/// unscored pairs (forced pairs may always be added), the minimum score, participants
/// already busy in the slot, occupied tables, slot/table ranges, and refusing to remove a
/// forced pair. Returns the edited solution with `total_score`, `enterprises_served`,
/// `slots_used`, `unplaced` and the counters recomputed (`stats.edits` incremented); the
/// input solution is unchanged. Adding an `unseated` meeting removes it from `unseated`.
pub fn apply_edit(
    instance: &Instance,
    solution: &Solution,
    edit: &Edit,
) -> Result<Solution, EditRejection> {
    let idx = Index::new(instance);
    let forbidden: HashSet<(usize, usize)> = instance
        .forbidden
        .iter()
        .filter_map(|(e, r)| idx.pair(e, r, "forbidden").ok())
        .collect();
    let mut sol = solution.clone();
    match edit {
        Edit::Add {
            enterprise: e,
            result: r,
            slot,
            table,
        } => add_meeting(instance, &idx, &forbidden, &mut sol, e, r, (*slot, *table))?,
        Edit::Move {
            enterprise: e,
            result: r,
            slot,
            table,
        } => {
            find_ids(&idx, e, r)?;
            let k = position(&sol.pairs, e, r).ok_or_else(|| not_found(e, r))?;
            check_slot(instance, *slot)?;
            check_table(instance, *table)?;
            check_free(&sol.pairs, Some(k), e, r, *slot, *table)?;
            sol.pairs[k].slot = *slot;
            sol.pairs[k].table = *table;
        }
        Edit::Remove {
            enterprise: e,
            result: r,
        } => {
            find_ids(&idx, e, r)?;
            let k = position(&sol.pairs, e, r).ok_or_else(|| not_found(e, r))?;
            if is_forced(instance, e, r) {
                return Err(reject(
                    "forced_pair",
                    format!("配对（“{e}”，“{r}”）是指定配对，不能删除"),
                    format!("pair (\"{e}\", \"{r}\") is forced and cannot be removed"),
                ));
            }
            sol.pairs.remove(k);
        }
        Edit::SwapTables {
            slot,
            table_a,
            table_b,
        } => swap_tables(instance, &mut sol, *slot, *table_a, *table_b)?,
    }
    recompute(instance, &idx, &forbidden, &mut sol);
    Ok(sol)
}

/// Whether `(e, r)` is one of the instance's forced pairs.
fn is_forced(instance: &Instance, e: &str, r: &str) -> bool {
    instance.forced.iter().any(|(a, b)| a == e && b == r)
}

/// Position of the meeting of `e` and `r` among `pairs`, if scheduled.
fn position(pairs: &[PlacedPair], e: &str, r: &str) -> Option<usize> {
    pairs
        .iter()
        .position(|p| p.enterprise == e && p.result == r)
}

/// [`Edit::Add`]: the checks run in a fixed order (ids, ranges, already paired, forbidden,
/// score, capacity, group cap, busy/table), so the rejection reported for an edit that breaks several
/// rules is always the same.
fn add_meeting(
    instance: &Instance,
    idx: &Index<'_>,
    forbidden: &HashSet<(usize, usize)>,
    sol: &mut Solution,
    e: &str,
    r: &str,
    (slot, table): (u32, u32),
) -> Result<(), EditRejection> {
    let (i, j) = find_ids(idx, e, r)?;
    check_slot(instance, slot)?;
    check_table(instance, table)?;
    if let Some(k) = position(&sol.pairs, e, r) {
        let p = &sol.pairs[k];
        return Err(reject(
            "already_paired",
            format!(
                "企业“{e}”与成果“{r}”已安排在时段 {} 的 {} 号桌",
                p.slot, p.table
            ),
            format!(
                "enterprise \"{e}\" already meets result \"{r}\" (slot {}, table {})",
                p.slot, p.table
            ),
        ));
    }
    if forbidden.contains(&(i, j)) {
        return Err(reject(
            "forbidden",
            format!("配对（“{e}”，“{r}”）被禁止"),
            format!("pair (\"{e}\", \"{r}\") is forbidden"),
        ));
    }
    let score = check_score(instance, e, r)?;
    check_capacity(instance, &sol.pairs, (i, j), e, r)?;
    check_group(instance, idx, &sol.pairs, j, r)?;
    check_free(&sol.pairs, None, e, r, slot, table)?;
    sol.pairs.push(PlacedPair {
        enterprise: e.to_owned(),
        result: r.to_owned(),
        score: score.unwrap_or(0.0),
        slot,
        table,
    });
    sol.unseated
        .retain(|u| !(u.enterprise == *e && u.result == *r));
    Ok(())
}

/// The pair's score (`None` when unscored). A forced pair may meet whatever its score, as
/// in [`crate::solve()`]; any other pair needs a score of at least `min_score`.
fn check_score(instance: &Instance, e: &str, r: &str) -> Result<Option<f64>, EditRejection> {
    let score = instance
        .scores
        .iter()
        .find(|s| s.enterprise == *e && s.result == *r)
        .map(|s| s.score);
    if !is_forced(instance, e, r) {
        match score {
            None => {
                return Err(reject(
                    "not_scored",
                    format!("配对（“{e}”，“{r}”）没有匹配分数，不能安排"),
                    format!("pair (\"{e}\", \"{r}\") has no score and cannot meet"),
                ));
            }
            Some(s) if s < instance.min_score => {
                return Err(reject(
                    "below_min_score",
                    format!(
                        "配对（“{e}”，“{r}”）的分数 {s} 低于最低分数 {}",
                        instance.min_score
                    ),
                    format!(
                        "pair (\"{e}\", \"{r}\") scores {s}, below the minimum score {}",
                        instance.min_score
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(score)
}

/// Refuse when the enterprise (checked first) or the result already has as many scheduled
/// meetings as its capacity.
fn check_capacity(
    instance: &Instance,
    pairs: &[PlacedPair],
    (i, j): (usize, usize),
    e: &str,
    r: &str,
) -> Result<(), EditRejection> {
    for (side, id, cap) in [
        (Side::Enterprise, e, instance.enterprises[i].capacity),
        (Side::Result, r, instance.results[j].capacity),
    ] {
        let count = pairs
            .iter()
            .filter(|p| match side {
                Side::Enterprise => p.enterprise == *id,
                Side::Result => p.result == *id,
            })
            .count() as i64;
        if count >= cap {
            return Err(reject(
                "capacity",
                format!("{}“{id}”已有 {count} 场会谈，达到容量 {cap}", side.zh()),
                format!("{side} \"{id}\" already has {count} meetings, its capacity is {cap}"),
            ));
        }
    }
    Ok(())
}

/// Refuse when result `r` (index `j`) is in a group whose results already have as many
/// scheduled meetings as the group's cap.
fn check_group(
    instance: &Instance,
    idx: &Index<'_>,
    pairs: &[PlacedPair],
    j: usize,
    r: &str,
) -> Result<(), EditRejection> {
    let Ok(group_of) = instance.group_of(idx) else {
        return Ok(());
    };
    let Some(g) = group_of[j] else {
        return Ok(());
    };
    let group = &instance.groups[g];
    let count = pairs
        .iter()
        .filter(|p| {
            idx.res
                .get(p.result.as_str())
                .is_some_and(|&k| group_of[k] == Some(g))
        })
        .count() as i64;
    if count >= group.capacity {
        let (id, cap) = (&group.id, group.capacity);
        return Err(reject(
            "group_cap",
            format!("成果“{r}”所在单位“{id}”已有 {count} 场会谈，达到上限 {cap}"),
            format!(
                "result \"{r}\" belongs to group \"{id}\", which already has {count} meetings, its cap is {cap}"
            ),
        ));
    }
    Ok(())
}

/// [`Edit::SwapTables`]: exchange the tables of the meetings at `table_a` and `table_b` in
/// `slot` (either may be empty, so one meeting simply moves).
fn swap_tables(
    instance: &Instance,
    sol: &mut Solution,
    slot: u32,
    table_a: u32,
    table_b: u32,
) -> Result<(), EditRejection> {
    check_slot(instance, slot)?;
    check_table(instance, table_a)?;
    check_table(instance, table_b)?;
    for p in sol.pairs.iter_mut().filter(|p| p.slot == slot) {
        if p.table == table_a {
            p.table = table_b;
        } else if p.table == table_b {
            p.table = table_a;
        }
    }
    Ok(())
}

/// After any accepted edit: restore the slot/table order, explain shortfalls again over
/// every assigned meeting (placed or unseated, as [`crate::solve()`] does), recompute the
/// totals and count the edit.
fn recompute(
    instance: &Instance,
    idx: &Index<'_>,
    forbidden: &HashSet<(usize, usize)>,
    sol: &mut Solution,
) {
    sol.pairs.sort_by_key(|p| (p.slot, p.table));
    let meetings: Vec<Meeting> = sol
        .pairs
        .iter()
        .map(|p| (&p.enterprise, &p.result, p.score))
        .chain(
            sol.unseated
                .iter()
                .map(|u| (&u.enterprise, &u.result, u.score)),
        )
        .filter_map(|(e, r, score)| {
            idx.pair(e, r, "solution")
                .ok()
                .map(|(e, r)| Meeting { e, r, score })
        })
        .collect();
    sol.unplaced = explain_shortfalls(instance, idx, &meetings, forbidden);
    summarise(sol);
    sol.stats.edits += 1;
}
