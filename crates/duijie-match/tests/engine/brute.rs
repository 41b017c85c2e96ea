//! Exhaustive comparison with `solve` on many small random instances: the assignment alone
//! where seats are ample, and assignment *and* placement into slots and tables where they
//! are short.

use crate::common::{Shape, add_random_groups, check_solution, objective, random_instance};
use duijie_match::synth::SplitMix64;
use duijie_match::{Instance, Solution, SolveOptions, scaled, solve};
use std::collections::{HashMap, HashSet};

/// Group position of each result (by result index) and each group's cap.
fn groups_of(inst: &Instance, ri: &HashMap<&str, usize>) -> (Vec<Option<usize>>, Vec<i64>) {
    let mut group = vec![None; inst.results.len()];
    for (g, grp) in inst.groups.iter().enumerate() {
        for r in &grp.members {
            group[ri[r.as_str()]] = Some(g);
        }
    }
    (group, inst.groups.iter().map(|g| g.capacity).collect())
}

/// Best (served, scaled score) over all feasible edge subsets, by exhaustive search.
fn brute_force(inst: &Instance) -> (usize, i64) {
    let ei: HashMap<&str, usize> = inst
        .enterprises
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let ri: HashMap<&str, usize> = inst
        .results
        .iter()
        .enumerate()
        .map(|(j, p)| (p.id.as_str(), j))
        .collect();
    let forbidden: HashSet<(usize, usize)> = inst
        .forbidden
        .iter()
        .map(|(e, r)| (ei[e.as_str()], ri[r.as_str()]))
        .collect();
    let forced: HashSet<(usize, usize)> = inst
        .forced
        .iter()
        .map(|(e, r)| (ei[e.as_str()], ri[r.as_str()]))
        .collect();
    let mut cap_e: Vec<i64> = inst.enterprises.iter().map(|p| p.capacity).collect();
    let mut cap_r: Vec<i64> = inst.results.iter().map(|p| p.capacity).collect();
    let mut base_served = vec![false; inst.enterprises.len()];
    let mut base_score = 0i64;
    let score: HashMap<(usize, usize), f64> = inst
        .scores
        .iter()
        .map(|s| ((ei[s.enterprise.as_str()], ri[s.result.as_str()]), s.score))
        .collect();
    let (group, mut cap_g) = groups_of(inst, &ri);
    for &(e, r) in &forced {
        cap_e[e] -= 1;
        cap_r[r] -= 1;
        if let Some(g) = group[r] {
            cap_g[g] -= 1;
        }
        base_served[e] = true;
        base_score += scaled(score.get(&(e, r)).copied().unwrap_or(0.0));
    }
    let edges: Vec<(usize, usize, i64)> = inst
        .scores
        .iter()
        .map(|s| (ei[s.enterprise.as_str()], ri[s.result.as_str()], s.score))
        .filter(|&(e, r, s)| {
            !forbidden.contains(&(e, r)) && !forced.contains(&(e, r)) && s >= inst.min_score
        })
        .map(|(e, r, s)| (e, r, scaled(s)))
        .collect();

    struct Search<'a> {
        edges: &'a [(usize, usize, i64)],
        cap_e: Vec<i64>,
        cap_r: Vec<i64>,
        group: &'a [Option<usize>],
        cap_g: Vec<i64>,
        count_e: Vec<usize>,
        base_served: &'a [bool],
        best: (usize, i64),
    }
    impl Search<'_> {
        fn go(&mut self, k: usize, score: i64) {
            if k == self.edges.len() {
                let served = (0..self.count_e.len())
                    .filter(|&i| self.base_served[i] || self.count_e[i] > 0)
                    .count();
                self.best = self.best.max((served, score));
                return;
            }
            self.go(k + 1, score);
            let (e, r, g) = self.edges[k];
            let grp = self.group[r];
            if self.cap_e[e] > 0 && self.cap_r[r] > 0 && grp.is_none_or(|x| self.cap_g[x] > 0) {
                self.cap_e[e] -= 1;
                self.cap_r[r] -= 1;
                if let Some(x) = grp {
                    self.cap_g[x] -= 1;
                }
                self.count_e[e] += 1;
                self.go(k + 1, score + g);
                self.cap_e[e] += 1;
                self.cap_r[r] += 1;
                if let Some(x) = grp {
                    self.cap_g[x] += 1;
                }
                self.count_e[e] -= 1;
            }
        }
    }
    let mut s = Search {
        edges: &edges,
        cap_e,
        cap_r,
        group: &group,
        cap_g,
        count_e: vec![0; inst.enterprises.len()],
        base_served: &base_served,
        best: (0, i64::MIN),
    };
    s.go(0, base_score);
    s.best
}

#[test]
fn solve_matches_exhaustive_search_on_small_instances() {
    let mut rng = SplitMix64::new(0x5eed_0001);
    let mut nontrivial = 0;
    for case in 0..600 {
        let shape = Shape {
            enterprises: 1 + rng.below(4) as usize,
            results: 1 + rng.below(4) as usize,
            cap_e: (0, 3),
            cap_r: (0, 3),
            density: [0.5, 0.8, 1.0][rng.below(3) as usize],
            forbidden: 0.1,
            forced: 0.08,
            // Ample seats (capacities are at most 3): here the assignment alone decides.
            slots: (3, 4),
            tables: (12, 12),
        };
        let inst = random_instance(&mut rng, &shape);
        inst.validate()
            .unwrap_or_else(|e| panic!("case {case}: generator made {e}"));
        let sol =
            solve(&inst, &SolveOptions::default()).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let expected = brute_force(&inst);
        assert_eq!(
            objective(&sol),
            expected,
            "case {case}: solve vs exhaustive search\n{}",
            serde_json::to_string(&inst).unwrap_or_default()
        );
        if let Err(msg) = check_solution(&inst, &sol) {
            panic!(
                "case {case}: {msg}\n{}",
                serde_json::to_string(&inst).unwrap_or_default()
            );
        }
        if expected.1 > 0 {
            nontrivial += 1;
        }
    }
    assert!(nontrivial > 300, "generator too weak: {nontrivial}");
}

/// Best (served, scaled score) over every schedule, by exhaustive search: each forced pair
/// must get, and each candidate pair may get, a slot and a table such that nobody is in two
/// meetings of one slot, no table holds two meetings at once, and capacities hold. Slots
/// and tables are interchangeable, so a meeting goes to an already used slot or the first
/// unused one, and to the next free table of its slot (symmetry breaking only: every
/// schedule is reached up to renaming slots and tables).
fn brute_force_seated(inst: &Instance) -> (usize, i64) {
    let ei: HashMap<&str, usize> = inst
        .enterprises
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let ri: HashMap<&str, usize> = inst
        .results
        .iter()
        .enumerate()
        .map(|(j, p)| (p.id.as_str(), j))
        .collect();
    let pair = |e: &String, r: &String| (ei[e.as_str()], ri[r.as_str()]);
    let forbidden: HashSet<(usize, usize)> =
        inst.forbidden.iter().map(|(e, r)| pair(e, r)).collect();
    let forced: Vec<(usize, usize)> = inst.forced.iter().map(|(e, r)| pair(e, r)).collect();
    let score: HashMap<(usize, usize), f64> = inst
        .scores
        .iter()
        .map(|s| (pair(&s.enterprise, &s.result), s.score))
        .collect();
    // (enterprise, result, gain, must): forced pairs first.
    let mut meetings: Vec<(usize, usize, i64, bool)> = forced
        .iter()
        .map(|&(e, r)| {
            (
                e,
                r,
                scaled(score.get(&(e, r)).copied().unwrap_or(0.0)),
                true,
            )
        })
        .collect();
    for s in &inst.scores {
        let (e, r) = pair(&s.enterprise, &s.result);
        if !forbidden.contains(&(e, r)) && !forced.contains(&(e, r)) && s.score >= inst.min_score {
            meetings.push((e, r, scaled(s.score), false));
        }
    }

    let (group, cap_g) = groups_of(inst, &ri);

    struct Search<'a> {
        meetings: &'a [(usize, usize, i64, bool)],
        slots: usize,
        tables: usize,
        cap_e: Vec<i64>,
        cap_r: Vec<i64>,
        group: &'a [Option<usize>],
        cap_g: Vec<i64>,
        /// Busy (enterprise, slot) and (result, slot).
        busy_e: Vec<Vec<bool>>,
        busy_r: Vec<Vec<bool>>,
        /// Tables taken in each slot.
        at: Vec<usize>,
        count_e: Vec<usize>,
        best: (usize, i64),
    }
    impl Search<'_> {
        fn go(&mut self, k: usize, score: i64) {
            if k == self.meetings.len() {
                let served = self.count_e.iter().filter(|&&c| c > 0).count();
                self.best = self.best.max((served, score));
                return;
            }
            let (e, r, g, must) = self.meetings[k];
            if !must {
                self.go(k + 1, score);
            }
            let grp = self.group[r];
            if self.cap_e[e] == 0 || self.cap_r[r] == 0 || grp.is_some_and(|x| self.cap_g[x] == 0) {
                return;
            }
            let opened = self.at.iter().filter(|&&t| t > 0).count();
            for s in 0..self.slots.min(opened + 1) {
                if self.busy_e[e][s] || self.busy_r[r][s] || self.at[s] >= self.tables {
                    continue;
                }
                // The meeting sits at table `self.at[s]` of slot `s`.
                self.busy_e[e][s] = true;
                self.busy_r[r][s] = true;
                self.at[s] += 1;
                self.cap_e[e] -= 1;
                self.cap_r[r] -= 1;
                if let Some(x) = grp {
                    self.cap_g[x] -= 1;
                }
                self.count_e[e] += 1;
                self.go(k + 1, score + g);
                self.busy_e[e][s] = false;
                self.busy_r[r][s] = false;
                self.at[s] -= 1;
                self.cap_e[e] += 1;
                self.cap_r[r] += 1;
                if let Some(x) = grp {
                    self.cap_g[x] += 1;
                }
                self.count_e[e] -= 1;
            }
        }
    }
    let slots = inst.slots as usize;
    let mut s = Search {
        meetings: &meetings,
        slots,
        tables: inst.tables as usize,
        cap_e: inst.enterprises.iter().map(|p| p.capacity).collect(),
        cap_r: inst.results.iter().map(|p| p.capacity).collect(),
        group: &group,
        cap_g,
        busy_e: vec![vec![false; slots]; inst.enterprises.len()],
        busy_r: vec![vec![false; slots]; inst.results.len()],
        at: vec![0; slots],
        count_e: vec![0; inst.enterprises.len()],
        best: (0, i64::MIN),
    };
    s.go(0, 0);
    s.best
}

/// (served enterprises, total scaled score) of the placed meetings.
fn placed_objective(sol: &Solution) -> (usize, i64) {
    let served: HashSet<&str> = sol.pairs.iter().map(|p| p.enterprise.as_str()).collect();
    (
        served.len(),
        sol.pairs.iter().map(|p| scaled(p.score)).sum(),
    )
}

#[test]
fn solve_matches_exhaustive_schedules_when_seats_are_short() {
    let mut rng = SplitMix64::new(0x5eed_0020);
    let (mut compared, mut short) = (0, 0);
    for case in 0..600 {
        let shape = Shape {
            enterprises: 1 + rng.below(4) as usize,
            results: 1 + rng.below(4) as usize,
            cap_e: (0, 3),
            cap_r: (0, 3),
            density: [0.5, 0.8, 1.0][rng.below(3) as usize],
            forbidden: 0.1,
            forced: 0.08,
            slots: (1, 3),
            tables: (1, 2),
        };
        let inst = random_instance(&mut rng, &shape);
        inst.validate()
            .unwrap_or_else(|e| panic!("case {case}: generator made {e}"));
        let json = serde_json::to_string(&inst).unwrap_or_default();
        let sol =
            solve(&inst, &SolveOptions::default()).unwrap_or_else(|e| panic!("case {case}: {e}"));
        check_solution(&inst, &sol).unwrap_or_else(|m| panic!("case {case}: {m}\n{json}"));
        let expected = brute_force_seated(&inst);
        assert_eq!(
            placed_objective(&sol),
            expected,
            "case {case}: solve vs exhaustive schedules\n{json}"
        );
        compared += 1;
        // Seats bind when the best assignment without them does not fit.
        let unseated = brute_force(&inst);
        if unseated != expected {
            short += 1;
        }
    }
    assert_eq!(compared, 600);
    assert!(short > 100, "seats bind in only {short} cases");
}

#[test]
fn the_seat_shortage_example_seats_the_best_meeting() {
    // Seating the optimal assignment (e0–r0, e1–r1) afterwards would keep 0.9; the best
    // single meeting that fits one slot with one table is e0–r1 at 0.95.
    let inst = duijie_match::parse_instance(
        r#"{"enterprises": [{"id": "e0", "capacity": 1}, {"id": "e1", "capacity": 1}],
            "results": [{"id": "r0", "capacity": 1}, {"id": "r1", "capacity": 1}],
            "scores": [{"enterprise": "e0", "result": "r0", "score": 0.9},
                       {"enterprise": "e1", "result": "r1", "score": 0.8},
                       {"enterprise": "e0", "result": "r1", "score": 0.95}],
            "slots": 1, "tables": 1}"#,
    )
    .expect("parse");
    let sol = solve(&inst, &SolveOptions::default()).expect("solve");
    check_solution(&inst, &sol).expect("feasible");
    let got: Vec<(&str, &str, f64, u32, u32)> = sol
        .pairs
        .iter()
        .map(|p| {
            (
                p.enterprise.as_str(),
                p.result.as_str(),
                p.score,
                p.slot,
                p.table,
            )
        })
        .collect();
    assert_eq!(got, vec![("e0", "r1", 0.95, 0, 0)]);
    assert!(sol.unseated.is_empty());
    assert_eq!(brute_force_seated(&inst), placed_objective(&sol));
    // e1's only candidate went to e0.
    let e1 = sol
        .unplaced
        .iter()
        .find(|u| u.id == "e1")
        .expect("e1 short");
    assert_eq!(e1.reason_code, "capacity", "{}", e1.reason);
}

#[test]
fn fairness_beats_score() {
    // e0 could take both results for 1.8, but serving e1 too is lexicographically better.
    let inst = duijie_match::parse_instance(
        r#"{"enterprises": [{"id": "e0", "capacity": 2}, {"id": "e1", "capacity": 1}],
            "results": [{"id": "r0", "capacity": 1}, {"id": "r1", "capacity": 1}],
            "scores": [{"enterprise": "e0", "result": "r0", "score": 0.9},
                       {"enterprise": "e0", "result": "r1", "score": 0.9},
                       {"enterprise": "e1", "result": "r0", "score": 0.1}],
            "slots": 2, "tables": 2}"#,
    )
    .expect("parse");
    let sol = solve(&inst, &SolveOptions::default()).expect("solve");
    assert_eq!(sol.enterprises_served, 2);
    assert!((sol.total_score - 1.0).abs() < 1e-9);
    let mut got: Vec<(String, String)> = sol
        .pairs
        .iter()
        .map(|p| (p.enterprise.clone(), p.result.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![("e0".into(), "r1".into()), ("e1".into(), "r0".into())]
    );
}

#[test]
fn forced_pairs_are_placed_whatever_their_score() {
    let inst = duijie_match::parse_instance(
        r#"{"enterprises": [{"id": "e0", "capacity": 1}, {"id": "e1", "capacity": 1}],
            "results": [{"id": "r0", "capacity": 1}, {"id": "r1", "capacity": 1}],
            "scores": [{"enterprise": "e0", "result": "r0", "score": 0.9},
                       {"enterprise": "e1", "result": "r0", "score": 0.1}],
            "forced": [["e1", "r0"], ["e0", "r1"]],
            "min_score": 0.5, "slots": 1, "tables": 2}"#,
    )
    .expect("parse");
    let sol = solve(&inst, &SolveOptions::default()).expect("solve");
    let mut got: Vec<(String, String, f64)> = sol
        .pairs
        .iter()
        .map(|p| (p.enterprise.clone(), p.result.clone(), p.score))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("e0".into(), "r1".into(), 0.0),
            ("e1".into(), "r0".into(), 0.1)
        ]
    );
    check_solution(&inst, &sol).expect("feasible");
}

/// Random small fairs whose results belong to random groups with small caps: `solve`
/// agrees with the exhaustive search honouring the caps, both where the seats are ample
/// (the assignment alone decides) and where they are short (placement too).
#[test]
fn solve_matches_exhaustive_search_with_group_caps() {
    let mut rng = SplitMix64::new(0x5eed_0030);
    let (mut compared, mut binding, mut seated_short) = (0, 0, 0);
    for case in 0..900 {
        let short = case % 3 == 2;
        let shape = Shape {
            enterprises: 1 + rng.below(4) as usize,
            results: 1 + rng.below(5) as usize,
            cap_e: (0, 3),
            cap_r: (0, 3),
            density: [0.5, 0.8, 1.0][rng.below(3) as usize],
            forbidden: 0.1,
            forced: 0.08,
            slots: if short { (1, 3) } else { (3, 4) },
            tables: if short { (1, 2) } else { (12, 12) },
        };
        let mut inst = random_instance(&mut rng, &shape);
        add_random_groups(&mut rng, &mut inst);
        inst.validate()
            .unwrap_or_else(|e| panic!("case {case}: generator made {e}"));
        let json = serde_json::to_string(&inst).unwrap_or_default();
        let sol =
            solve(&inst, &SolveOptions::default()).unwrap_or_else(|e| panic!("case {case}: {e}"));
        check_solution(&inst, &sol).unwrap_or_else(|m| panic!("case {case}: {m}\n{json}"));
        let expected = if short {
            brute_force_seated(&inst)
        } else {
            brute_force(&inst)
        };
        assert_eq!(
            placed_objective(&sol),
            expected,
            "case {case}: solve vs exhaustive search with group caps\n{json}"
        );
        compared += 1;
        let free = Instance {
            groups: Vec::new(),
            ..inst.clone()
        };
        let without = if short {
            brute_force_seated(&free)
        } else {
            brute_force(&free)
        };
        if without != expected {
            binding += 1;
            if short {
                seated_short += 1;
            }
        }
    }
    assert_eq!(compared, 900);
    assert!(binding > 150, "group caps bind in only {binding} cases");
    assert!(
        seated_short > 40,
        "group caps bind with short seats in only {seated_short} cases"
    );
}

/// r1 and r2 belong to one university with a cap of one meeting, r3 to another: the best
/// pairs e1–r1 (0.9) and e2–r2 (0.8) would give that university two meetings, so e2 meets
/// r3 (0.3) instead.
#[test]
fn a_binding_group_cap_sends_the_second_enterprise_elsewhere() {
    let inst = duijie_match::parse_instance(
        r#"{"enterprises": [{"id": "e1", "capacity": 1}, {"id": "e2", "capacity": 1}],
            "results": [{"id": "r1", "capacity": 1}, {"id": "r2", "capacity": 1},
                        {"id": "r3", "capacity": 1}],
            "scores": [{"enterprise": "e1", "result": "r1", "score": 0.9},
                       {"enterprise": "e2", "result": "r2", "score": 0.8},
                       {"enterprise": "e2", "result": "r3", "score": 0.3}],
            "groups": [{"id": "thu", "capacity": 1, "members": ["r1", "r2"]},
                       {"id": "pku", "capacity": 1, "members": ["r3"]}],
            "slots": 2, "tables": 2}"#,
    )
    .expect("parse");
    let sol = solve(&inst, &SolveOptions::default()).expect("solve");
    check_solution(&inst, &sol).expect("feasible");
    let mut got: Vec<(&str, &str)> = sol
        .pairs
        .iter()
        .map(|p| (p.enterprise.as_str(), p.result.as_str()))
        .collect();
    got.sort();
    assert_eq!(got, vec![("e1", "r1"), ("e2", "r3")]);
    assert_eq!(sol.enterprises_served, 2);
    assert!((sol.total_score - 1.2).abs() < 1e-9);
    assert_eq!(brute_force(&inst), placed_objective(&sol));
    // r2 is short because its university's meetings reach the cap.
    let r2 = sol
        .unplaced
        .iter()
        .find(|u| u.id == "r2")
        .expect("r2 short");
    assert_eq!(r2.reason_code, "group_cap");
    assert_eq!(
        r2.reason,
        "所在单位的会谈已达上限 / its organisation's meetings reach the cap"
    );
    // Without the cap the two best pairs win.
    let free = Instance {
        groups: Vec::new(),
        ..inst
    };
    let sol = solve(&free, &SolveOptions::default()).expect("solve");
    let mut got: Vec<(&str, &str)> = sol
        .pairs
        .iter()
        .map(|p| (p.enterprise.as_str(), p.result.as_str()))
        .collect();
    got.sort();
    assert_eq!(got, vec![("e1", "r1"), ("e2", "r2")]);
}
