//! The full pipeline: validate, assign (one min-cost flow that already respects the slots
//! and tables), colour into slots, seat, and explain who got fewer meetings than wanted.

use crate::colour::{max_degree, schedule, seat};
use crate::error::{PairError, Side};
use crate::flow::{AssignProblem, FlowEdge, assign};
use crate::model::{Index, Instance, PlacedPair, Solution, Stats, Unplaced};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Progress report passed to [`SolveOptions::progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// `"validate"`, `"assign"`, `"schedule"`, `"seat"` or `"done"`.
    pub phase: &'static str,
    /// Work done in this phase.
    pub done: u64,
    /// Total work of this phase.
    pub total: u64,
}

/// Callback type for progress reports.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Options of [`solve()`] and [`assign`]: cooperative cancellation and progress reporting.
#[derive(Clone, Default)]
pub struct SolveOptions {
    /// When set to `true` (by another thread), solving stops with [`PairError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
    /// Called with progress reports from the solving thread.
    pub progress: Option<ProgressFn>,
}

impl fmt::Debug for SolveOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SolveOptions")
            .field("cancel", &self.cancel)
            .field("progress", &self.progress.as_ref().map(|_| "Fn(Progress)"))
            .finish()
    }
}

impl SolveOptions {
    /// `Err(Cancelled)` if the cancellation flag is raised.
    pub fn check_cancel(&self) -> Result<(), PairError> {
        match &self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(PairError::Cancelled),
            _ => Ok(()),
        }
    }

    /// Send a progress report if a callback is set.
    pub fn report(&self, phase: &'static str, done: u64, total: u64) {
        if let Some(p) = &self.progress {
            p(Progress { phase, done, total });
        }
    }
}

/// Scores are compared as integers `round(score · SCALE)` by the optimiser.
pub const SCALE: f64 = 1e6;

/// Integer gain of a score, as used by the optimiser.
pub fn scaled(score: f64) -> i64 {
    (score * SCALE).round() as i64
}

/// One assigned meeting, by index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meeting {
    pub(crate) e: usize,
    pub(crate) r: usize,
    pub(crate) score: f64,
}

/// Solve an instance: validate it, compute the exact optimal assignment (lexicographically:
/// most enterprises served, then highest total score), schedule it into slots and tables,
/// and explain shortfalls.
///
/// * Forced pairs are always assigned (their score comes from `scores`, else 0), forbidden
///   pairs and unscored pairs never, pairs scoring below `min_score` only when forced.
/// * The seats are constraints of the same flow, so the optimum is over schedules, not over
///   assignments seated afterwards: each participant has at most `min(capacity, slots)`
///   meetings and all of them together at most `slots × tables`. That is exactly what fits:
///   a bipartite graph of maximum degree Δ ≤ `slots` has, for every k ≥ Δ, a proper edge
///   colouring with k colours whose classes differ in size by at most one (de Werra), so with
///   k = max(Δ, ⌈meetings / tables⌉) ≤ `slots` every slot fits into `tables`. Nothing the
///   solver assigns is left `unseated`; who got fewer meetings for lack of slots or tables
///   says so in `unplaced` (reason codes `slots`, `tables`).
/// * Group caps (`instance.groups`: a university's results together take at most `capacity`
///   meetings, forced ones included) are constraints of the same flow, so the optimum
///   respects them; a result short because its group is at its cap says `group_cap`.
/// * The meetings use Δ slots (Δ = most meetings of one participant) when every slot then
///   fits into `tables`, else the fewest slots that fit, balanced to within one meeting.
///
/// Deterministic for the same input: ties follow input order, never hash order.
pub fn solve(instance: &Instance, opts: &SolveOptions) -> Result<Solution, PairError> {
    opts.report("validate", 0, 1);
    instance.validate()?;
    opts.check_cancel()?;
    opts.report("validate", 1, 1);
    let idx = Index::new(instance);
    let n = instance.enterprises.len();
    let m = instance.results.len();

    let mut pairs = index_pairs(instance, &idx)?;
    let (cand, problem) = assignment_problem(instance, &pairs);
    let assignment = assign(&problem, opts)?;
    let mut selected = assignment.selected;
    fill_spare_capacity(&problem, &mut selected);
    let mut meetings = std::mem::take(&mut pairs.forced_meetings);
    for (k, &((e, r), score)) in cand.iter().enumerate() {
        if selected[k] {
            meetings.push(Meeting { e, r, score });
        }
    }
    meetings.sort_by_key(|x| (x.e, x.r));
    opts.check_cancel()?;

    let mut stats = Stats {
        enterprises: n as u64,
        results: m as u64,
        scored_pairs: instance.scores.len() as u64,
        candidate_pairs: cand.len() as u64,
        forced_pairs: instance.forced.len() as u64,
        meetings_assigned: meetings.len() as u64,
        dijkstra_runs: assignment.dijkstra_runs,
        augmenting_paths: assignment.augmenting_paths,
        ..Stats::default()
    };
    {
        let mut served = vec![false; n];
        for x in &meetings {
            served[x.e] = true;
        }
        stats.enterprises_assigned = served.iter().filter(|&&s| s).count() as u64;
    }

    let unplaced = explain_shortfalls(instance, &idx, &meetings, &pairs.forbidden);
    let plan = place(instance, &meetings, opts)?;
    opts.report("done", 1, 1);
    Ok(to_solution(instance, &meetings, &plan, unplaced, stats))
}

/// A pair by (enterprise, result) index, with its score.
type ScoredPair = ((usize, usize), f64);

/// The instance's pairs resolved to indices once, so the optimiser and the shortfall
/// explanation work on integers rather than ids.
struct IndexedPairs {
    /// Every scored pair with its score, in input order (ties follow input order).
    scored: Vec<ScoredPair>,
    /// Pairs that may never meet.
    forbidden: HashSet<(usize, usize)>,
    /// Pairs that always meet.
    forced: HashSet<(usize, usize)>,
    /// The forced pairs as meetings, in input order, scored from `scores` (else 0).
    forced_meetings: Vec<Meeting>,
    /// Forced meetings per enterprise.
    forced_e: Vec<u64>,
    /// Forced meetings per result.
    forced_r: Vec<u64>,
    /// Group (position in `instance.groups`) of each result.
    group_of: Vec<Option<usize>>,
    /// Forced meetings per group.
    forced_g: Vec<u64>,
}

/// Resolve the ids of `scores`, `forbidden` and `forced` (in that order, so the first
/// unknown id reported is the same as ever), then the groups' members.
fn index_pairs(instance: &Instance, idx: &Index<'_>) -> Result<IndexedPairs, PairError> {
    let n = instance.enterprises.len();
    let m = instance.results.len();
    let mut score_of: HashMap<(usize, usize), f64> = HashMap::with_capacity(instance.scores.len());
    let mut scored = Vec::with_capacity(instance.scores.len());
    for s in &instance.scores {
        let key = idx.pair(&s.enterprise, &s.result, "scores")?;
        score_of.insert(key, s.score);
        scored.push((key, s.score));
    }
    let mut forbidden = HashSet::with_capacity(instance.forbidden.len());
    for (e, r) in &instance.forbidden {
        forbidden.insert(idx.pair(e, r, "forbidden")?);
    }
    let mut forced = HashSet::with_capacity(instance.forced.len());
    let mut forced_meetings: Vec<Meeting> = Vec::new();
    let mut forced_e = vec![0u64; n];
    let mut forced_r = vec![0u64; m];
    for (e, r) in &instance.forced {
        let key = idx.pair(e, r, "forced")?;
        forced.insert(key);
        forced_e[key.0] += 1;
        forced_r[key.1] += 1;
        forced_meetings.push(Meeting {
            e: key.0,
            r: key.1,
            score: score_of.get(&key).copied().unwrap_or(0.0),
        });
    }
    let group_of = instance.group_of(idx)?;
    let mut forced_g = vec![0u64; instance.groups.len()];
    for (j, &f) in forced_r.iter().enumerate() {
        if let Some(g) = group_of[j] {
            forced_g[g] += f;
        }
    }
    Ok(IndexedPairs {
        scored,
        forbidden,
        forced,
        forced_meetings,
        forced_e,
        forced_r,
        group_of,
        forced_g,
    })
}

/// The candidate pairs (scored, not forbidden, not forced, at or above `min_score`) and the
/// flow problem over them. Capacities are `min(capacity, slots)` less the forced pairs,
/// capped by the number of candidates (more can never be used, and it keeps the flow small);
/// the total is capped by the seats the forced pairs leave, each group by the cap its forced
/// pairs leave; enterprises with a forced pair already count as served.
fn assignment_problem(
    instance: &Instance,
    pairs: &IndexedPairs,
) -> (Vec<ScoredPair>, AssignProblem) {
    let n = instance.enterprises.len();
    let m = instance.results.len();
    let mut cand: Vec<ScoredPair> = Vec::new();
    let mut deg_e = vec![0u64; n];
    let mut deg_r = vec![0u64; m];
    for &(key, score) in &pairs.scored {
        if pairs.forbidden.contains(&key)
            || pairs.forced.contains(&key)
            || score < instance.min_score
        {
            continue;
        }
        deg_e[key.0] += 1;
        deg_r[key.1] += 1;
        cand.push((key, score));
    }
    let slots = instance.slots.max(0) as u64;
    let rest = |cap: i64, forced: u64, deg: u64| -> u32 {
        (cap.max(0) as u64)
            .min(slots)
            .saturating_sub(forced)
            .min(deg)
            .min(u32::MAX as u64 - 1) as u32
    };
    let problem = AssignProblem {
        enterprise_capacity: (0..n)
            .map(|i| {
                rest(
                    instance.enterprises[i].capacity,
                    pairs.forced_e[i],
                    deg_e[i],
                )
            })
            .collect(),
        enterprise_served: pairs.forced_e.iter().map(|&f| f > 0).collect(),
        result_capacity: (0..m)
            .map(|j| rest(instance.results[j].capacity, pairs.forced_r[j], deg_r[j]))
            .collect(),
        edges: cand
            .iter()
            .map(|&((e, r), s)| FlowEdge {
                enterprise: e as u32,
                result: r as u32,
                gain: scaled(s),
            })
            .collect(),
        total_capacity: Some(seats(instance).saturating_sub(pairs.forced_meetings.len() as u64)),
        result_group: if instance.groups.is_empty() {
            Vec::new()
        } else {
            pairs.group_of.iter().map(|g| g.map(|g| g as u32)).collect()
        },
        group_capacity: instance
            .groups
            .iter()
            .zip(&pairs.forced_g)
            .map(|(g, &forced)| {
                (g.capacity.max(0) as u64)
                    .saturating_sub(forced)
                    .min(u32::MAX as u64 - 1) as u32
            })
            .collect(),
    };
    (cand, problem)
}

/// `slots × tables` (validated ≥ 1 each; saturating, so any size is safe).
fn seats(instance: &Instance) -> u64 {
    (instance.slots.max(0) as u64).saturating_mul(instance.tables.max(0) as u64)
}

/// Select, in edge order, every unselected edge whose both ends (and the result's group)
/// still have room, while the total limit allows.
///
/// The optimiser has no reason to take zero-gain edges; adding them changes neither the
/// served enterprises nor the score, but makes "capacity" (or "slots", "group_cap") the true
/// reason for every remaining shortfall or dropped meeting.
fn fill_spare_capacity(problem: &AssignProblem, selected: &mut [bool]) {
    let mut used_e: Vec<u64> = vec![0; problem.enterprise_capacity.len()];
    let mut used_r: Vec<u64> = vec![0; problem.result_capacity.len()];
    let mut used_g: Vec<u64> = vec![0; problem.group_capacity.len()];
    let group = |j: usize| problem.result_group.get(j).copied().flatten();
    let mut left = problem.total_capacity.unwrap_or(u64::MAX);
    for (k, _) in selected.iter().enumerate().filter(|(_, s)| **s) {
        let j = problem.edges[k].result as usize;
        used_e[problem.edges[k].enterprise as usize] += 1;
        used_r[j] += 1;
        if let Some(g) = group(j) {
            used_g[g as usize] += 1;
        }
        left = left.saturating_sub(1);
    }
    for (k, e) in problem.edges.iter().enumerate() {
        let (i, j) = (e.enterprise as usize, e.result as usize);
        if left == 0 {
            break;
        }
        let g = group(j).map(|g| g as usize);
        if !selected[k]
            && used_e[i] < problem.enterprise_capacity[i] as u64
            && used_r[j] < problem.result_capacity[j] as u64
            && g.is_none_or(|g| used_g[g] < problem.group_capacity[g] as u64)
        {
            selected[k] = true;
            used_e[i] += 1;
            used_r[j] += 1;
            if let Some(g) = g {
                used_g[g] += 1;
            }
            left -= 1;
        }
    }
}

/// Turn the plan's meeting indices back into ids, ordered by slot then table, and fill in
/// the totals with [`summarise`] (the same function organiser edits use, so both agree).
fn to_solution(
    instance: &Instance,
    meetings: &[Meeting],
    plan: &Plan,
    unplaced: Vec<Unplaced>,
    mut stats: Stats,
) -> Solution {
    let mut pairs: Vec<PlacedPair> = plan
        .iter()
        .map(|&(k, slot, table)| {
            let x = meetings[k];
            PlacedPair {
                enterprise: instance.enterprises[x.e].id.clone(),
                result: instance.results[x.r].id.clone(),
                score: x.score,
                slot: slot as u32,
                table: table as u32,
            }
        })
        .collect();
    pairs.sort_by_key(|p| (p.slot, p.table));
    stats.meetings_placed = pairs.len() as u64;
    stats.meetings_unseated = 0;
    let mut solution = Solution {
        pairs,
        total_score: 0.0,
        enterprises_served: 0,
        unplaced,
        unseated: Vec::new(),
        slots_used: 0,
        stats,
    };
    summarise(&mut solution);
    solution
}

/// Recompute `total_score`, `enterprises_served`, `slots_used` and the degree statistic
/// from `pairs`.
pub(crate) fn summarise(sol: &mut Solution) {
    sol.total_score = sol.pairs.iter().map(|p| p.score).sum();
    let mut served: HashSet<&str> = HashSet::new();
    let mut deg: HashMap<(u8, &str), u64> = HashMap::new();
    for p in &sol.pairs {
        served.insert(p.enterprise.as_str());
        *deg.entry((0, p.enterprise.as_str())).or_default() += 1;
        *deg.entry((1, p.result.as_str())).or_default() += 1;
    }
    sol.enterprises_served = served.len() as u64;
    sol.slots_used = sol.pairs.iter().map(|p| p.slot + 1).max().unwrap_or(0);
    sol.stats.max_degree = deg.values().copied().max().unwrap_or(0);
    sol.stats.meetings_placed = sol.pairs.len() as u64;
    sol.stats.meetings_unseated = sol.unseated.len() as u64;
}

/// The meetings with their slots and tables: (meeting index, slot, table).
type Plan = Vec<(usize, usize, usize)>;

/// Colour the meetings with the fewest slots that fit the tables (at least Δ, at least
/// ⌈meetings / tables⌉), balanced, then give each meeting a table in its slot. The flow kept
/// Δ ≤ `slots` and meetings ≤ `slots × tables`, so that number of slots is at most `slots`
/// (see [`solve`]); anything else is an internal error, never a silent cut.
fn place(
    instance: &Instance,
    meetings: &[Meeting],
    opts: &SolveOptions,
) -> Result<Plan, PairError> {
    let total = meetings.len();
    opts.report("schedule", 0, total as u64);
    if total == 0 {
        return Ok(Vec::new());
    }
    let n = instance.enterprises.len();
    let m = instance.results.len();
    // Validated ≥ 1; more than `total` tables are never needed.
    let tables = (instance.tables.max(1) as u64).min(total as u64) as usize;
    let ends: Vec<(usize, usize)> = meetings.iter().map(|x| (x.e, x.r)).collect();
    let needed = max_degree(n, m, &ends).max(total.div_ceil(tables));
    if needed as u64 > instance.slots.max(1) as u64 {
        return Err(PairError::InvalidProblem {
            detail: format!(
                "internal invariant failed: {total} meetings need {needed} slots but there are {}",
                instance.slots
            ),
        });
    }
    let colours = schedule(n, m, &ends, needed)?;
    opts.report("schedule", total as u64, total as u64);
    opts.check_cancel()?;
    opts.report("seat", 0, total as u64);
    let table = seat(n, m, &ends, &colours, tables)?;
    opts.report("seat", total as u64, total as u64);
    Ok((0..total).map(|k| (k, colours[k], table[k])).collect())
}

/// List every participant with fewer assigned meetings than its capacity, with the binding
/// reason. `meetings` are all assigned meetings (placed or unseated).
///
/// The seats are constraints of the solve, so they are reasons too: a participant whose
/// meetings fill every slot is short for lack of `slots`; one whose remaining candidates
/// have their slots filled likewise; one with a candidate that has room on both sides while
/// every seat is taken is short for lack of `tables` (after organiser edits with seats left,
/// that is `manual`). So are group caps: a result whose group's meetings reach the cap is
/// short for `group_cap`, and so is a participant whose remaining candidates all have room
/// but sit in such groups.
pub(crate) fn explain_shortfalls(
    instance: &Instance,
    idx: &Index<'_>,
    meetings: &[Meeting],
    forbidden: &HashSet<(usize, usize)>,
) -> Vec<Unplaced> {
    let n = instance.enterprises.len();
    let m = instance.results.len();
    let mut got_e = vec![0u64; n];
    let mut got_r = vec![0u64; m];
    let mut paired: HashSet<(usize, usize)> = HashSet::with_capacity(meetings.len());
    for x in meetings {
        got_e[x.e] += 1;
        got_r[x.r] += 1;
        paired.insert((x.e, x.r));
    }
    // Groups whose meetings (forced ones included) reach the cap; the instance was
    // validated, so a malformed group list only means no group information.
    let group_of = instance.group_of(idx).unwrap_or_else(|_| vec![None; m]);
    let mut got_g = vec![0u64; instance.groups.len()];
    for (j, g) in group_of.iter().enumerate() {
        if let Some(g) = g {
            got_g[*g] += got_r[j];
        }
    }
    let cap = |c: i64| c.max(0) as u64;
    let group_full: Vec<bool> = (0..m)
        .map(|j| group_of[j].is_some_and(|g| got_g[g] >= cap(instance.groups[g].capacity)))
        .collect();
    let slots = instance.slots.max(0) as u64;
    let seating = Seats {
        slots,
        tables: instance.tables.max(0) as u64,
        full: meetings.len() as u64 >= seats(instance),
    };
    let short_e: Vec<bool> = (0..n)
        .map(|i| got_e[i] < cap(instance.enterprises[i].capacity))
        .collect();
    let short_r: Vec<bool> = (0..m)
        .map(|j| got_r[j] < cap(instance.results[j].capacity))
        .collect();
    // Where the partner of an eligible pair stands: at capacity, out of slots, or with room.
    let state = |got: u64, capacity: i64| -> usize {
        if got >= cap(capacity) {
            FULL
        } else if got >= slots {
            NO_SLOTS
        } else {
            OPEN
        }
    };
    let mut tally_e = vec![Tally::default(); n];
    let mut tally_r = vec![Tally::default(); m];
    for s in &instance.scores {
        let Ok(key) = idx.pair(&s.enterprise, &s.result, "scores") else {
            continue;
        };
        let (i, j) = key;
        if !(short_e[i] || short_r[j]) || paired.contains(&key) || s.score < instance.min_score {
            continue;
        }
        if forbidden.contains(&key) {
            tally_e[i][BANNED] += 1;
            tally_r[j][BANNED] += 1;
            continue;
        }
        tally_e[i][match state(got_r[j], instance.results[j].capacity) {
            FULL => FULL,
            _ if group_full[j] => GROUP_FULL,
            other => other,
        }] += 1;
        tally_r[j][state(got_e[i], instance.enterprises[i].capacity)] += 1;
    }
    let mut out = Vec::new();
    let no_group = vec![false; n];
    let sides = [
        (
            Side::Enterprise,
            &instance.enterprises,
            &got_e,
            &short_e,
            &tally_e,
            &no_group,
        ),
        (
            Side::Result,
            &instance.results,
            &got_r,
            &short_r,
            &tally_r,
            &group_full,
        ),
    ];
    for (side, parties, got, short, tally, capped) in sides {
        for (i, p) in parties.iter().enumerate() {
            if !short[i] {
                continue;
            }
            let own = Own {
                got: got[i],
                group_full: capped[i],
            };
            let (code, reason) = reason_text(side, &own, &tally[i], &seating, instance.min_score);
            out.push(Unplaced {
                kind: side,
                id: p.id.clone(),
                wanted: cap(p.capacity),
                got: got[i],
                reason_code: code.to_string(),
                reason,
            });
        }
    }
    out
}

/// Eligible candidates of a short participant by where the partner stands (indices below).
type Tally = [u64; 5];
/// The partner is at its capacity.
const FULL: usize = 0;
/// The partner has capacity left but every slot of it holds a meeting.
const NO_SLOTS: usize = 1;
/// The partner has room.
const OPEN: usize = 2;
/// The pair is forbidden.
const BANNED: usize = 3;
/// The partner (a result) has room but its group's meetings reach the cap.
const GROUP_FULL: usize = 4;

/// Where a short participant itself stands.
struct Own {
    /// Meetings it got.
    got: u64,
    /// It is a result whose group's meetings reach the cap.
    group_full: bool,
}

/// The instance's seating, for the reasons.
struct Seats {
    slots: u64,
    tables: u64,
    /// Every seat (`slots × tables`) holds a meeting.
    full: bool,
}

fn reason_text(
    side: Side,
    own: &Own,
    tally: &Tally,
    seats: &Seats,
    min_score: f64,
) -> (&'static str, String) {
    let other = match side {
        Side::Enterprise => Side::Result,
        Side::Result => Side::Enterprise,
    };
    let got = own.got;
    let (more_zh, more_en) = if got > 0 {
        ("更多", "further ")
    } else {
        ("", "")
    };
    let (slots, tables) = (seats.slots, seats.tables);
    let [full, no_slots, open, banned, group_full] = *tally;
    if got >= slots {
        (
            "slots",
            format!(
                "全部 {slots} 个时段都已安排会谈 / all {slots} time slots already hold a meeting"
            ),
        )
    } else if own.group_full {
        (
            "group_cap",
            "所在单位的会谈已达上限 / its organisation's meetings reach the cap".to_string(),
        )
    } else if open > 0 && seats.full {
        (
            "tables",
            format!(
                "{slots} 个时段 × {tables} 张桌已被更优或更公平的会谈占满，{open} 个候选{}未能安排 / all {slots} slots x {tables} tables are taken by better or fairer meetings; {open} candidate {other}s with room could not be seated",
                other.zh()
            ),
        )
    } else if open > 0 {
        (
            "manual",
            format!(
                "经组织者调整，仍有 {open} 个有空余名额的候选{}未安排 / after organiser edits, {open} candidate {other}s with free capacity are not paired",
                other.zh()
            ),
        )
    } else if full > 0 {
        (
            "capacity",
            format!(
                "其余 {full} 个候选{}的名额已被更优或更公平的配对占满 / all {full} remaining candidate {other}s are at capacity with better or fairer pairs",
                other.zh()
            ),
        )
    } else if group_full > 0 {
        (
            "group_cap",
            format!(
                "其余 {group_full} 个候选{}所在单位的会谈已达上限 / the organisations of all {group_full} remaining candidate {other}s reach their meeting caps",
                other.zh()
            ),
        )
    } else if no_slots > 0 {
        (
            "slots",
            format!(
                "其余 {no_slots} 个候选{}的全部时段已被更优或更公平的会谈占满 / every time slot of the {no_slots} remaining candidate {other}s holds a better or fairer meeting",
                other.zh()
            ),
        )
    } else if banned > 0 {
        (
            "conflicts",
            format!(
                "其余 {banned} 个候选均被禁止配对 / all {banned} remaining candidates are forbidden pairs"
            ),
        )
    } else {
        (
            "no_candidate",
            format!(
                "没有{more_zh}达到最低分数的候选（最低分数 {min_score}） / no {more_en}candidate at or above the minimum score ({min_score})"
            ),
        )
    }
}
