//! Instance and solution types, JSON parsing and instance validation.

use crate::error::{PairError, Side};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Largest score accepted. Scores are turned into integer costs `round(score · 1e6)`; this
/// bound keeps those exact in `f64` and far from `i64` overflow.
pub const MAX_SCORE: f64 = 1e9;

/// One participant: an enterprise or a research result, with how many meetings it can take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Unique id within its side.
    pub id: String,
    /// Maximum number of meetings (parsed as `i64` so that negative values get a clear error).
    pub capacity: i64,
}

/// The matching score of one (enterprise, result) pair. Pairs without an entry cannot meet
/// unless they are forced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreEntry {
    /// Enterprise id.
    pub enterprise: String,
    /// Result id.
    pub result: String,
    /// Score, finite and in `0 ..= MAX_SCORE`; higher is better.
    pub score: f64,
}

/// Results that share a cap on their meetings (a university's results and experts): the
/// members together take at most `capacity` meetings, forced ones included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Unique id among the groups (e.g. the university's).
    pub id: String,
    /// Most meetings of all members together (parsed as `i64` so that negative values get
    /// a clear error).
    pub capacity: i64,
    /// Result ids; a result belongs to at most one group.
    pub members: Vec<String>,
}

/// A pairing and scheduling instance (the offline JSON file format).
///
/// ```json
/// {"enterprises": [{"id": "e1", "capacity": 3}],
///  "results":     [{"id": "r1", "capacity": 4}],
///  "scores":      [{"enterprise": "e1", "result": "r1", "score": 0.83}],
///  "forbidden":   [["e1", "r2"]],
///  "forced":      [["e2", "r1"]],
///  "groups":      [{"id": "thu", "capacity": 5, "members": ["r1", "r2"]}],
///  "min_score": 0.0, "slots": 8, "tables": 40}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// Enterprises (left side).
    pub enterprises: Vec<Party>,
    /// Research results (right side).
    pub results: Vec<Party>,
    /// Scored candidate pairs.
    pub scores: Vec<ScoreEntry>,
    /// `[enterprise, result]` pairs that must never meet.
    #[serde(default)]
    pub forbidden: Vec<(String, String)>,
    /// `[enterprise, result]` pairs that must meet (score from `scores`, else 0).
    #[serde(default)]
    pub forced: Vec<(String, String)>,
    /// Pairs scoring below this cannot meet (unless forced).
    #[serde(default)]
    pub min_score: f64,
    /// Number of time slots, numbered from 0.
    pub slots: i64,
    /// Number of tables, numbered from 0.
    pub tables: i64,
    /// Groups of results with a shared cap on their meetings (none by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
}

/// A meeting with its time slot and table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedPair {
    /// Enterprise id.
    pub enterprise: String,
    /// Result id.
    pub result: String,
    /// Score of the pair (0 for a forced pair without a score entry).
    pub score: f64,
    /// Time slot, `< instance.slots`.
    pub slot: u32,
    /// Table, `< instance.tables`.
    pub table: u32,
}

/// A participant that got fewer meetings than its capacity, with the binding reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unplaced {
    /// `"enterprise"` or `"result"`.
    pub kind: Side,
    /// Participant id.
    pub id: String,
    /// Its capacity.
    pub wanted: u64,
    /// Meetings it was assigned (placed or unseated).
    pub got: u64,
    /// `capacity`, `group_cap` (its group's meetings, or those of its remaining candidates'
    /// groups, reach the cap), `slots` (its own or its candidates' time slots are all taken),
    /// `tables` (every seat holds a better or fairer meeting), `no_candidate` or `conflicts`
    /// (and `manual` only after an organiser edit left a usable candidate unused).
    pub reason_code: String,
    /// Chinese sentence, `" / "`, English sentence.
    pub reason: String,
}

/// A meeting that was assigned but could not get a slot or a table. [`crate::solve()`]
/// never leaves one (the seats are constraints of its flow); grouped layouts built on top
/// of it (parlours, roundtables) and solutions stored by earlier versions may.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unseated {
    /// Enterprise id.
    pub enterprise: String,
    /// Result id.
    pub result: String,
    /// Score of the pair.
    pub score: f64,
    /// Chinese sentence, `" / "`, English sentence.
    pub reason: String,
}

/// Counters describing a solve (deterministic: no timings).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = SolveStats))]
pub struct Stats {
    /// Number of enterprises in the instance.
    pub enterprises: u64,
    /// Number of results in the instance.
    pub results: u64,
    /// Entries in `scores`.
    pub scored_pairs: u64,
    /// Scored pairs usable by the optimiser (not forbidden, not forced, score ≥ min_score).
    pub candidate_pairs: u64,
    /// Forced pairs.
    pub forced_pairs: u64,
    /// Meetings chosen by the assignment (forced included).
    pub meetings_assigned: u64,
    /// Meetings with a slot and a table.
    pub meetings_placed: u64,
    /// Meetings without slot or table.
    pub meetings_unseated: u64,
    /// Enterprises served by the assignment (before seating).
    pub enterprises_assigned: u64,
    /// Largest number of meetings of one participant among placed meetings.
    pub max_degree: u64,
    /// Dijkstra runs of the min-cost flow.
    pub dijkstra_runs: u64,
    /// Augmenting paths of the min-cost flow.
    pub augmenting_paths: u64,
    /// Organiser edits applied since the solve.
    pub edits: u64,
}

/// The result of [`crate::solve()`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    /// Scheduled meetings, ordered by slot then table.
    pub pairs: Vec<PlacedPair>,
    /// Sum of the scores of `pairs`.
    pub total_score: f64,
    /// Enterprises with at least one meeting in `pairs`.
    pub enterprises_served: u64,
    /// Participants with fewer meetings than their capacity.
    pub unplaced: Vec<Unplaced>,
    /// Assigned meetings that got no slot or table.
    pub unseated: Vec<Unseated>,
    /// Number of slots in use: one more than the largest slot of `pairs` (0 if none).
    pub slots_used: u32,
    /// Counters.
    #[serde(default)]
    pub stats: Stats,
}

/// Parse an instance from JSON. Serde errors become [`PairError::Json`] with line and
/// column. The instance is not validated; call [`Instance::validate`] (or [`crate::solve()`],
/// which does).
pub fn parse_instance(json: &str) -> Result<Instance, PairError> {
    serde_json::from_str(json).map_err(|e| PairError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Id → position maps for both sides (lookups only; never iterated).
pub(crate) struct Index<'a> {
    pub(crate) ent: HashMap<&'a str, usize>,
    pub(crate) res: HashMap<&'a str, usize>,
}

impl<'a> Index<'a> {
    /// Build the maps, keeping the first occurrence of a duplicated id.
    pub(crate) fn new(inst: &'a Instance) -> Self {
        let mut ent = HashMap::with_capacity(inst.enterprises.len());
        for (i, p) in inst.enterprises.iter().enumerate() {
            ent.entry(p.id.as_str()).or_insert(i);
        }
        let mut res = HashMap::with_capacity(inst.results.len());
        for (j, p) in inst.results.iter().enumerate() {
            res.entry(p.id.as_str()).or_insert(j);
        }
        Index { ent, res }
    }

    pub(crate) fn pair(
        &self,
        e: &str,
        r: &str,
        context: &'static str,
    ) -> Result<(usize, usize), PairError> {
        let i = *self.ent.get(e).ok_or_else(|| PairError::UnknownId {
            side: Side::Enterprise,
            id: e.to_string(),
            context,
        })?;
        let j = *self.res.get(r).ok_or_else(|| PairError::UnknownId {
            side: Side::Result,
            id: r.to_string(),
            context,
        })?;
        Ok((i, j))
    }
}

impl Instance {
    /// Check the instance; the first problem found is returned.
    ///
    /// Checked: `slots`/`tables` ≥ 1, finite `min_score`, duplicate ids within a side,
    /// negative capacities, unknown ids in `scores`/`forbidden`/`forced`, scores that are
    /// NaN/infinite/negative/above [`MAX_SCORE`], duplicate pairs in `scores` or `forced`, pairs
    /// both forced and forbidden, and forced pairs exceeding a participant's capacity, the
    /// number of slots, a group's cap, or `slots × tables` in total. Groups: unique ids,
    /// caps ≥ 0, members that are declared results, each result in at most one group.
    /// Repeated `forbidden` entries are harmless.
    pub fn validate(&self) -> Result<(), PairError> {
        if self.slots < 1 {
            return Err(PairError::InvalidSlots { slots: self.slots });
        }
        if self.tables < 1 {
            return Err(PairError::InvalidTables {
                tables: self.tables,
            });
        }
        if !self.min_score.is_finite() {
            return Err(PairError::InvalidMinScore {
                value: self.min_score,
            });
        }
        for (side, list) in [
            (Side::Enterprise, &self.enterprises),
            (Side::Result, &self.results),
        ] {
            let mut seen = HashSet::with_capacity(list.len());
            for p in list {
                if !seen.insert(p.id.as_str()) {
                    return Err(PairError::DuplicateId {
                        side,
                        id: p.id.clone(),
                    });
                }
                if p.capacity < 0 {
                    return Err(PairError::NegativeCapacity {
                        side,
                        id: p.id.clone(),
                        capacity: p.capacity,
                    });
                }
            }
        }
        let idx = Index::new(self);
        let group_of = self.group_of(&idx)?;
        let mut scored = HashSet::with_capacity(self.scores.len());
        for s in &self.scores {
            let key = idx.pair(&s.enterprise, &s.result, "scores")?;
            if !(s.score.is_finite() && (0.0..=MAX_SCORE).contains(&s.score)) {
                return Err(PairError::InvalidScore {
                    enterprise: s.enterprise.clone(),
                    result: s.result.clone(),
                    score: s.score,
                });
            }
            if !scored.insert(key) {
                return Err(PairError::DuplicatePair {
                    enterprise: s.enterprise.clone(),
                    result: s.result.clone(),
                    list: "scores",
                });
            }
        }
        let mut forbidden = HashSet::with_capacity(self.forbidden.len());
        for (e, r) in &self.forbidden {
            forbidden.insert(idx.pair(e, r, "forbidden")?);
        }
        let mut forced = HashSet::with_capacity(self.forced.len());
        let mut fe = vec![0u64; self.enterprises.len()];
        let mut fr = vec![0u64; self.results.len()];
        for (e, r) in &self.forced {
            let key = idx.pair(e, r, "forced")?;
            if !forced.insert(key) {
                return Err(PairError::DuplicatePair {
                    enterprise: e.clone(),
                    result: r.clone(),
                    list: "forced",
                });
            }
            if forbidden.contains(&key) {
                return Err(PairError::ForcedForbidden {
                    enterprise: e.clone(),
                    result: r.clone(),
                });
            }
            fe[key.0] += 1;
            fr[key.1] += 1;
        }
        for (side, list, counts) in [
            (Side::Enterprise, &self.enterprises, &fe),
            (Side::Result, &self.results, &fr),
        ] {
            for (p, &n) in list.iter().zip(counts.iter()) {
                if n as i128 > p.capacity as i128 {
                    return Err(PairError::ForcedOverCapacity {
                        side,
                        id: p.id.clone(),
                        forced: n,
                        capacity: p.capacity,
                    });
                }
                if n as i128 > self.slots as i128 {
                    return Err(PairError::ForcedOverSlots {
                        side,
                        id: p.id.clone(),
                        forced: n,
                        slots: self.slots,
                    });
                }
            }
        }
        let mut fg = vec![0u64; self.groups.len()];
        for (j, &n) in fr.iter().enumerate() {
            if let Some(g) = group_of[j] {
                fg[g] += n;
            }
        }
        for (g, &n) in self.groups.iter().zip(&fg) {
            if n as i128 > g.capacity as i128 {
                return Err(PairError::ForcedOverGroupCapacity {
                    group: g.id.clone(),
                    forced: n,
                    capacity: g.capacity,
                });
            }
        }
        let n_forced = self.forced.len() as i128;
        if n_forced > self.slots as i128 * self.tables as i128 {
            return Err(PairError::ForcedOverTables {
                forced: n_forced as u64,
                slots: self.slots,
                tables: self.tables,
            });
        }
        Ok(())
    }

    /// Check the groups (unique ids, caps ≥ 0, declared members, each result in at most one
    /// group) and return the group position of each result.
    pub(crate) fn group_of(&self, idx: &Index<'_>) -> Result<Vec<Option<usize>>, PairError> {
        let mut group_of: Vec<Option<usize>> = vec![None; self.results.len()];
        let mut ids = HashSet::with_capacity(self.groups.len());
        for (g, group) in self.groups.iter().enumerate() {
            if !ids.insert(group.id.as_str()) {
                return Err(PairError::DuplicateGroup {
                    id: group.id.clone(),
                });
            }
            if group.capacity < 0 {
                return Err(PairError::NegativeGroupCapacity {
                    group: group.id.clone(),
                    capacity: group.capacity,
                });
            }
            for member in &group.members {
                let j = *idx
                    .res
                    .get(member.as_str())
                    .ok_or_else(|| PairError::UnknownId {
                        side: Side::Result,
                        id: member.clone(),
                        context: "groups",
                    })?;
                if let Some(other) = group_of[j] {
                    return Err(PairError::GroupConflict {
                        result: member.clone(),
                        first: self.groups[other].id.clone(),
                        second: group.id.clone(),
                    });
                }
                group_of[j] = Some(g);
            }
        }
        Ok(group_of)
    }
}
