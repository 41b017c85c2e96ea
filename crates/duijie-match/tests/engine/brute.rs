//! Exhaustive comparison with `solve` on many small random instances.

use crate::common::{Shape, check_solution, objective, random_instance};
use duijie_match::synth::SplitMix64;
use duijie_match::{Instance, SolveOptions, scaled, solve};
use std::collections::{HashMap, HashSet};

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
    for &(e, r) in &forced {
        cap_e[e] -= 1;
        cap_r[r] -= 1;
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
            if self.cap_e[e] > 0 && self.cap_r[r] > 0 {
                self.cap_e[e] -= 1;
                self.cap_r[r] -= 1;
                self.count_e[e] += 1;
                self.go(k + 1, score + g);
                self.cap_e[e] += 1;
                self.cap_r[r] += 1;
                self.count_e[e] -= 1;
            }
        }
    }
    let mut s = Search {
        edges: &edges,
        cap_e,
        cap_r,
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
            slots: (1, 4),
            tables: (1, 5),
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
