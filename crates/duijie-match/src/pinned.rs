//! Meetings kept where they are (a participant confirmed them) while the rest is solved
//! again: [`pin`] takes them out of the instance (capacities and candidates), [`solve`]
//! solves the rest optimally, and [`seat_around`] seats its meetings into the slots and
//! tables the pinned ones leave.
//!
//! Around pinned meetings the seating is a heuristic, not the exact colouring of
//! [`solve`]: most constrained meeting first (fewest slots both sides have free with a
//! table left), then best score, in the solver's own slot when it is free. A meeting that
//! finds no common free slot is reported unseated with that reason.
//!
//! [`solve`]: crate::solve()

use crate::model::{Instance, PlacedPair, Solution, Unseated};
use std::collections::{HashMap, HashSet};

/// The instance the solver gets around `fixed` meetings, and the meetings actually pinned.
///
/// A fixed meeting is pinned when both parties are in the instance, its slot and table
/// exist and it collides with no earlier pinned meeting (a party twice in a slot, two
/// meetings at one seat); its score is the instance's for the pair. Each pinned pair leaves
/// the candidates and the forced pairs, each party's capacity becomes
/// `min(capacity, slots)` less its pinned meetings, and each group's cap less its members'
/// pinned meetings.
pub fn pin(instance: &Instance, fixed: &[PlacedPair]) -> (Instance, Vec<PlacedPair>) {
    let mut out = instance.clone();
    let known: HashSet<&str> = instance
        .enterprises
        .iter()
        .chain(instance.results.iter())
        .map(|p| p.id.as_str())
        .collect();
    let score: HashMap<(&str, &str), f64> = instance
        .scores
        .iter()
        .map(|s| ((s.enterprise.as_str(), s.result.as_str()), s.score))
        .collect();
    let mut busy: HashSet<(String, u32)> = HashSet::new();
    let mut seats: HashSet<(u32, u32)> = HashSet::new();
    let mut pinned: Vec<PlacedPair> = Vec::new();
    for f in fixed {
        if !known.contains(f.enterprise.as_str())
            || !known.contains(f.result.as_str())
            || i64::from(f.slot) >= instance.slots
            || i64::from(f.table) >= instance.tables
            || busy.contains(&(f.enterprise.clone(), f.slot))
            || busy.contains(&(f.result.clone(), f.slot))
            || seats.contains(&(f.slot, f.table))
            || pinned
                .iter()
                .any(|p| p.enterprise == f.enterprise && p.result == f.result)
        {
            continue;
        }
        busy.insert((f.enterprise.clone(), f.slot));
        busy.insert((f.result.clone(), f.slot));
        seats.insert((f.slot, f.table));
        pinned.push(PlacedPair {
            score: score
                .get(&(f.enterprise.as_str(), f.result.as_str()))
                .copied()
                .unwrap_or(0.0),
            ..f.clone()
        });
    }
    let mut count: HashMap<&str, i64> = HashMap::new();
    for p in &pinned {
        *count.entry(p.enterprise.as_str()).or_default() += 1;
        *count.entry(p.result.as_str()).or_default() += 1;
    }
    for party in out.enterprises.iter_mut().chain(out.results.iter_mut()) {
        if let Some(k) = count.get(party.id.as_str()) {
            party.capacity = (party.capacity.min(instance.slots) - k).max(0);
        }
    }
    for group in &mut out.groups {
        let members: HashSet<&str> = group.members.iter().map(String::as_str).collect();
        let k = pinned
            .iter()
            .filter(|p| members.contains(p.result.as_str()))
            .count() as i64;
        group.capacity = (group.capacity - k).max(0);
    }
    let pinned_pairs: HashSet<(&str, &str)> = pinned
        .iter()
        .map(|p| (p.enterprise.as_str(), p.result.as_str()))
        .collect();
    out.scores
        .retain(|s| !pinned_pairs.contains(&(s.enterprise.as_str(), s.result.as_str())));
    out.forced
        .retain(|(x, y)| !pinned_pairs.contains(&(x.as_str(), y.as_str())));
    (out, pinned)
}

/// Seats the solver's meetings into the slots and tables the pinned meetings leave (see the
/// module documentation); returns the solution with the pinned meetings added, each party's
/// shortfall counted against its whole capacity.
pub fn seat_around(instance: &Instance, pinned: &[PlacedPair], mut solution: Solution) -> Solution {
    if pinned.is_empty() {
        return solution;
    }
    let (slots, tables) = (instance.slots.max(0) as u32, instance.tables.max(0) as u32);
    let ns = slots as usize;
    let todo = std::mem::take(&mut solution.pairs);
    // parties by index, and who is busy in which slot
    let mut index: HashMap<String, usize> = HashMap::new();
    fn id(s: &str, index: &mut HashMap<String, usize>) -> usize {
        let next = index.len();
        *index.entry(s.to_string()).or_insert(next)
    }
    let ends: Vec<(usize, usize)> = todo
        .iter()
        .map(|m| (id(&m.enterprise, &mut index), id(&m.result, &mut index)))
        .collect();
    let pinned_ends: Vec<(usize, usize)> = pinned
        .iter()
        .map(|p| (id(&p.enterprise, &mut index), id(&p.result, &mut index)))
        .collect();
    let mut busy = vec![false; index.len() * ns];
    let mut taken: HashSet<(u32, u32)> = HashSet::new();
    let mut free = vec![i64::from(tables); ns];
    let mut pairs = Vec::with_capacity(pinned.len() + todo.len());
    for (p, &(e, r)) in pinned.iter().zip(&pinned_ends) {
        if p.slot < slots {
            let s = p.slot as usize;
            busy[e * ns + s] = true;
            busy[r * ns + s] = true;
            if taken.insert((p.slot, p.table)) {
                free[s] -= 1;
            }
        }
        pairs.push(p.clone());
    }
    let mut by_party: Vec<Vec<usize>> = vec![Vec::new(); index.len()];
    for (k, &(e, r)) in ends.iter().enumerate() {
        by_party[e].push(k);
        by_party[r].push(k);
    }
    // most constrained first (fewest slots both sides have free with a table left), then
    // best score; a min-heap whose keys are refreshed whenever a meeting loses a slot
    let options = |k: usize, busy: &[bool], free: &[i64]| -> u32 {
        let (e, r) = ends[k];
        (0..ns)
            .filter(|&s| free[s] > 0 && !busy[e * ns + s] && !busy[r * ns + s])
            .count() as u32
    };
    type Key = std::cmp::Reverse<(u32, std::cmp::Reverse<u64>, usize)>;
    let key = |c: u32, k: usize| -> Key {
        std::cmp::Reverse((c, std::cmp::Reverse(todo[k].score.max(0.0).to_bits()), k))
    };
    let mut stored: Vec<u32> = (0..todo.len()).map(|k| options(k, &busy, &free)).collect();
    let mut heap: std::collections::BinaryHeap<Key> =
        (0..todo.len()).map(|k| key(stored[k], k)).collect();
    let mut done = vec![false; todo.len()];
    let mut next_table = vec![0u32; ns];
    let mut seated: Vec<Option<(u32, u32)>> = vec![None; todo.len()];
    while let Some(std::cmp::Reverse((c, _, k))) = heap.pop() {
        if done[k] || c != stored[k] {
            continue; // placed already, or a fresher entry is in the heap
        }
        done[k] = true;
        let (e, r) = ends[k];
        let open = |s: usize| free[s] > 0 && !busy[e * ns + s] && !busy[r * ns + s];
        let own = todo[k].slot as usize;
        let slot = if own < ns && open(own) {
            Some(own)
        } else {
            (0..ns).find(|&s| open(s))
        };
        let Some(s) = slot else {
            continue;
        };
        while taken.contains(&(s as u32, next_table[s])) {
            next_table[s] += 1;
        }
        let t = next_table[s];
        taken.insert((s as u32, t));
        seated[k] = Some((s as u32, t));
        busy[e * ns + s] = true;
        busy[r * ns + s] = true;
        free[s] -= 1;
        // refresh the meetings that lost slot s: those sharing a party, or all once the
        // slot is full
        let affected: Vec<usize> = if free[s] == 0 {
            (0..todo.len()).filter(|&j| !done[j]).collect()
        } else {
            by_party[e]
                .iter()
                .chain(&by_party[r])
                .copied()
                .filter(|&j| !done[j])
                .collect()
        };
        for j in affected {
            let now = options(j, &busy, &free);
            if now != stored[j] {
                stored[j] = now;
                heap.push(key(now, j));
            }
        }
    }
    for (m, place) in todo.into_iter().zip(seated) {
        match place {
            Some((slot, table)) => pairs.push(PlacedPair { slot, table, ..m }),
            None => solution.unseated.push(Unseated {
                enterprise: m.enterprise,
                result: m.result,
                score: m.score,
                reason: "已确认的会谈占去了双方共同的空闲时段或桌位（围绕已确认会谈的排座为启发式） / the confirmed meetings take every slot or table both sides have free (seating around confirmed meetings is heuristic)".into(),
            }),
        }
    }
    pairs.sort_by(|x, y| {
        (x.slot, x.table, &x.enterprise, &x.result).cmp(&(
            y.slot,
            y.table,
            &y.enterprise,
            &y.result,
        ))
    });
    let mut count: HashMap<&str, u64> = HashMap::new();
    for p in pinned {
        *count.entry(p.enterprise.as_str()).or_default() += 1;
        *count.entry(p.result.as_str()).or_default() += 1;
    }
    let capacity: HashMap<&str, i64> = instance
        .enterprises
        .iter()
        .chain(instance.results.iter())
        .map(|p| (p.id.as_str(), p.capacity))
        .collect();
    solution.unplaced.retain_mut(|u| {
        let k = count.get(u.id.as_str()).copied().unwrap_or(0);
        u.got += k;
        u.wanted = capacity
            .get(u.id.as_str())
            .map_or(u.wanted + k, |c| (*c).max(0) as u64);
        u.got < u.wanted
    });
    solution.total_score = pairs.iter().map(|p| p.score).sum();
    solution.enterprises_served = pairs
        .iter()
        .map(|p| p.enterprise.as_str())
        .collect::<HashSet<_>>()
        .len() as u64;
    solution.slots_used = pairs.iter().map(|p| p.slot + 1).max().unwrap_or(0);
    solution.pairs = pairs;
    solution
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Party, ScoreEntry};
    use crate::solve::{SolveOptions, solve};

    fn instance() -> Instance {
        let party = |id: &str, capacity| Party {
            id: id.into(),
            capacity,
        };
        let score = |e: &str, r: &str, s| ScoreEntry {
            enterprise: e.into(),
            result: r.into(),
            score: s,
        };
        Instance {
            enterprises: vec![party("e1", 2), party("e2", 2)],
            results: vec![party("r1", 2), party("r2", 2)],
            scores: vec![
                score("e1", "r1", 0.9),
                score("e1", "r2", 0.5),
                score("e2", "r1", 0.6),
                score("e2", "r2", 0.8),
            ],
            forbidden: vec![],
            forced: vec![],
            min_score: 0.0,
            slots: 2,
            tables: 2,
            groups: Vec::new(),
        }
    }

    fn fixed(e: &str, r: &str, slot: u32, table: u32) -> PlacedPair {
        PlacedPair {
            enterprise: e.into(),
            result: r.into(),
            score: 0.0,
            slot,
            table,
        }
    }

    #[test]
    fn a_pinned_meeting_keeps_its_slot_and_table_and_the_rest_fits_around_it() {
        let inst = instance();
        let (rest, pinned) = pin(&inst, &[fixed("e2", "r2", 1, 1)]);
        assert_eq!(pinned.len(), 1);
        assert_eq!(pinned[0].score, 0.8, "the instance's score");
        assert!(
            !rest
                .scores
                .iter()
                .any(|s| s.enterprise == "e2" && s.result == "r2")
        );
        assert_eq!(rest.enterprises[1].capacity, 1);
        let sol = seat_around(
            &inst,
            &pinned,
            solve(&rest, &SolveOptions::default()).unwrap(),
        );
        let kept = sol
            .pairs
            .iter()
            .find(|p| p.enterprise == "e2" && p.result == "r2")
            .unwrap();
        assert_eq!((kept.slot, kept.table), (1, 1));
        // all four pairs still fit (the greedy-by-score order would strand e2–r1)
        assert_eq!(sol.pairs.len(), 4, "{:?}", sol.pairs);
        let mut seen = HashSet::new();
        for p in &sol.pairs {
            assert!(seen.insert((p.enterprise.clone(), p.slot)));
            assert!(seen.insert((p.result.clone(), p.slot)));
            assert!(seen.insert((format!("t{}", p.table), p.slot)));
        }
        assert!(sol.unplaced.is_empty(), "{:?}", sol.unplaced);
        assert!((sol.total_score - 2.8).abs() < 1e-9);
    }

    #[test]
    fn fixed_meetings_that_no_longer_fit_are_not_pinned() {
        let inst = instance();
        let (_, pinned) = pin(
            &inst,
            &[
                fixed("e1", "r1", 5, 0), // no such slot
                fixed("e9", "r1", 0, 0), // no such enterprise
                fixed("e1", "r1", 0, 0), // kept
                fixed("e2", "r1", 0, 1), // r1 is busy in slot 0
                fixed("e2", "r2", 0, 0), // the seat is taken
            ],
        );
        assert_eq!(pinned.len(), 1);
        assert_eq!((pinned[0].enterprise.as_str(), pinned[0].slot), ("e1", 0));
    }

    #[test]
    fn pinned_meetings_use_up_their_group_cap() {
        let mut inst = instance();
        inst.groups = vec![crate::model::Group {
            id: "u".into(),
            capacity: 3,
            members: vec!["r1".into(), "r2".into()],
        }];
        let (rest, pinned) = pin(&inst, &[fixed("e1", "r1", 0, 0), fixed("e2", "r2", 0, 1)]);
        assert_eq!(pinned.len(), 2);
        assert_eq!(rest.groups[0].capacity, 1);
        let sol = seat_around(
            &inst,
            &pinned,
            solve(&rest, &SolveOptions::default()).unwrap(),
        );
        // The group takes three meetings in all although four pairs would fit.
        assert_eq!(sol.pairs.len(), 3, "{:?}", sol.pairs);
    }

    #[test]
    fn without_pinned_meetings_the_solution_is_untouched() {
        let inst = instance();
        let sol = solve(&inst, &SolveOptions::default()).unwrap();
        assert_eq!(seat_around(&inst, &[], sol.clone()), sol);
    }

    #[test]
    fn on_random_fairs_pinned_meetings_stay_and_nothing_is_double_booked_or_lost() {
        use crate::synth::{SynthParams, synthetic_instance};
        for seed in 0..200u64 {
            let inst = synthetic_instance(&SynthParams {
                enterprises: 6,
                results: 8,
                candidates: 5,
                enterprise_capacity: (1, 3),
                result_capacity: (1, 3),
                slots: 3,
                tables: 3 + (seed % 3) as i64,
                seed,
            });
            let first = solve(&inst, &SolveOptions::default()).unwrap();
            let fixed: Vec<PlacedPair> = first.pairs.iter().step_by(3).cloned().collect();
            let (rest, pinned) = pin(&inst, &fixed);
            assert_eq!(
                pinned.len(),
                fixed.len(),
                "seed {seed}: a valid schedule pins whole"
            );
            let again = solve(&rest, &SolveOptions::default()).unwrap();
            let assigned = again.pairs.len() + again.unseated.len();
            let sol = seat_around(&inst, &pinned, again);
            for f in &fixed {
                assert!(
                    sol.pairs.iter().any(|p| p.enterprise == f.enterprise
                        && p.result == f.result
                        && (p.slot, p.table) == (f.slot, f.table)),
                    "seed {seed}: pinned {f:?} moved"
                );
            }
            assert_eq!(
                sol.pairs.len() + sol.unseated.len(),
                fixed.len() + assigned,
                "seed {seed}: a meeting was lost"
            );
            let mut seen = HashSet::new();
            for p in &sol.pairs {
                assert!(
                    p.slot < 3 && i64::from(p.table) < inst.tables,
                    "seed {seed}"
                );
                assert!(
                    seen.insert((p.enterprise.clone(), p.slot)),
                    "seed {seed}: {p:?}"
                );
                assert!(
                    seen.insert((p.result.clone(), p.slot)),
                    "seed {seed}: {p:?}"
                );
                assert!(
                    seen.insert((format!("#{}", p.table), p.slot)),
                    "seed {seed}: {p:?}"
                );
            }
        }
    }
}
