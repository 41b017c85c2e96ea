//! Property tests on medium random instances, determinism, cancellation, progress, sparsify.

use crate::common::{Shape, check_solution, random_instance};
use duijie_match::synth::{SplitMix64, SynthParams, synthetic_instance};
use duijie_match::{
    PairError, Progress, ScoreEntry, SolveOptions, parse_instance, solve, sparsify,
};
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

fn medium_shape(rng: &mut SplitMix64) -> Shape {
    Shape {
        enterprises: 30,
        results: 60,
        cap_e: (1, 5),
        cap_r: (1, 5),
        density: [0.05, 0.15, 0.4][rng.below(3) as usize],
        forbidden: 0.02,
        forced: 0.005,
        slots: (1, 10),
        tables: (1, 40),
    }
}

#[test]
fn medium_instances_satisfy_every_constraint() {
    let mut rng = SplitMix64::new(0xfeed_0002);
    let mut seats_short = 0;
    let mut tables_bound = 0;
    for case in 0..60 {
        let shape = medium_shape(&mut rng);
        let inst = random_instance(&mut rng, &shape);
        let sol =
            solve(&inst, &SolveOptions::default()).unwrap_or_else(|e| panic!("case {case}: {e}"));
        if let Err(msg) = check_solution(&inst, &sol) {
            panic!("case {case}: {msg}");
        }
        if sol
            .unplaced
            .iter()
            .any(|u| u.reason_code == "slots" || u.reason_code == "tables")
        {
            seats_short += 1;
        }
        if sol.slots_used as u64 > sol.stats.max_degree {
            tables_bound += 1;
        }
        // Determinism: the same input gives byte-identical JSON.
        let again = solve(&inst, &SolveOptions::default()).expect("second solve");
        assert_eq!(
            serde_json::to_string(&sol).expect("json"),
            serde_json::to_string(&again).expect("json"),
            "case {case}: not deterministic"
        );
    }
    // The generator must exercise both slot/table shortages and the table-bound case.
    assert!(
        seats_short > 5,
        "only {seats_short} cases short of slots or tables"
    );
    assert!(
        tables_bound > 2,
        "only {tables_bound} cases limited by tables"
    );
}

#[test]
fn slots_used_equals_max_degree_when_tables_suffice() {
    let mut rng = SplitMix64::new(0xfeed_0003);
    for case in 0..20 {
        let mut shape = medium_shape(&mut rng);
        shape.slots = (10, 10);
        shape.tables = (1000, 1000);
        let inst = random_instance(&mut rng, &shape);
        let sol = solve(&inst, &SolveOptions::default()).expect("solve");
        check_solution(&inst, &sol).unwrap_or_else(|m| panic!("case {case}: {m}"));
        assert!(sol.unseated.is_empty(), "case {case}");
        assert_eq!(sol.slots_used as u64, sol.stats.max_degree, "case {case}");
    }
}

#[test]
fn json_round_trip_and_determinism_on_a_synthetic_market() {
    let inst = synthetic_instance(&SynthParams {
        enterprises: 60,
        results: 300,
        candidates: 40,
        enterprise_capacity: (3, 5),
        result_capacity: (1, 3),
        slots: 6,
        tables: 30,
        seed: 9,
    });
    let text = serde_json::to_string(&inst).expect("serialise");
    let back = parse_instance(&text).expect("parse back");
    assert_eq!(back, inst);
    let a = solve(&inst, &SolveOptions::default()).expect("solve");
    let b = solve(&back, &SolveOptions::default()).expect("solve");
    assert_eq!(
        serde_json::to_string(&a).ok(),
        serde_json::to_string(&b).ok()
    );
    check_solution(&inst, &a).expect("feasible");
    let mut sol_back: duijie_match::Solution =
        serde_json::from_str(&serde_json::to_string(&a).expect("json")).expect("solution json");
    // serde_json parses floats fast rather than always bit-exactly (no `float_roundtrip`),
    // so a sum of many scores may come back one ulp off.
    assert!((sol_back.total_score - a.total_score).abs() < 1e-9);
    sol_back.total_score = a.total_score;
    assert_eq!(sol_back, a);
}

#[test]
fn cancellation_stops_the_solver() {
    let inst = synthetic_instance(&SynthParams {
        enterprises: 50,
        results: 100,
        candidates: 20,
        enterprise_capacity: (1, 3),
        result_capacity: (1, 3),
        slots: 5,
        tables: 50,
        seed: 1,
    });
    let opts = SolveOptions {
        cancel: Some(Arc::new(AtomicBool::new(true))),
        progress: None,
    };
    assert_eq!(solve(&inst, &opts), Err(PairError::Cancelled));
    assert_eq!(PairError::Cancelled.code(), "cancelled");

    // Raised from the progress callback once the flow has started: the flow loop stops.
    let flag = Arc::new(AtomicBool::new(false));
    let raise = Arc::clone(&flag);
    let phases: Arc<Mutex<Vec<&'static str>>> = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&phases);
    let opts = SolveOptions {
        cancel: Some(flag),
        progress: Some(Arc::new(move |p: Progress| {
            if let Ok(mut l) = log.lock() {
                l.push(p.phase);
            }
            if p.phase == "assign" {
                raise.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        })),
    };
    assert_eq!(solve(&inst, &opts), Err(PairError::Cancelled));
    let seen = phases.lock().map(|l| l.clone()).unwrap_or_default();
    assert_eq!(seen.last(), Some(&"assign"), "{seen:?}");
}

#[test]
fn progress_reports_every_phase_in_order() {
    let inst = synthetic_instance(&SynthParams {
        enterprises: 20,
        results: 50,
        candidates: 10,
        enterprise_capacity: (1, 3),
        result_capacity: (1, 3),
        slots: 5,
        tables: 50,
        seed: 2,
    });
    let log: Arc<Mutex<Vec<Progress>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let opts = SolveOptions {
        cancel: None,
        progress: Some(Arc::new(move |p| {
            if let Ok(mut l) = sink.lock() {
                l.push(p);
            }
        })),
    };
    solve(&inst, &opts).expect("solve");
    let log = log.lock().expect("lock").clone();
    let mut phases: Vec<&str> = log.iter().map(|p| p.phase).collect();
    phases.dedup();
    assert_eq!(
        phases,
        vec!["validate", "assign", "schedule", "seat", "done"]
    );
    assert!(log.iter().all(|p| p.done <= p.total));
}

fn entry(e: &str, r: &str, score: f64) -> ScoreEntry {
    ScoreEntry {
        enterprise: e.into(),
        result: r.into(),
        score,
    }
}

#[test]
fn sparsify_keeps_top_k_of_either_side() {
    let scores = vec![
        entry("a", "x", 0.9),
        entry("a", "y", 0.8),
        entry("a", "z", 0.1),
        entry("b", "z", 0.2),
        entry("b", "x", 0.95),
        entry("b", "y", 0.7),
    ];
    // Top-1 per enterprise: a-x, b-x. Top-1 per result: x: b-x, y: a-y, z: b-z.
    let kept = sparsify(&scores, 1, 1);
    let names: Vec<(&str, &str)> = kept
        .iter()
        .map(|s| (s.enterprise.as_str(), s.result.as_str()))
        .collect();
    assert_eq!(names, vec![("a", "x"), ("a", "y"), ("b", "z"), ("b", "x")]);
    assert!(sparsify(&scores, 0, 0).is_empty());
    assert_eq!(sparsify(&scores, 10, 0).len(), 6);
}

#[test]
fn sparsify_property_on_random_scores() {
    let mut rng = SplitMix64::new(77);
    let mut scores = Vec::new();
    for i in 0..40 {
        for j in 0..80 {
            if rng.chance(0.3) {
                scores.push(entry(
                    &format!("e{i}"),
                    &format!("r{j}"),
                    rng.below(50) as f64 / 50.0,
                ));
            }
        }
    }
    let (ke, kr) = (5, 2);
    let kept = sparsify(&scores, ke, kr);
    let again = sparsify(&scores, ke, kr);
    assert_eq!(kept, again);
    // Reference: rank within each group by (score desc, position).
    let rank = |key: &dyn Fn(&ScoreEntry) -> &str| -> Vec<usize> {
        let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
        for (k, s) in scores.iter().enumerate() {
            groups.entry(key(s)).or_default().push(k);
        }
        let mut rank = vec![0; scores.len()];
        for list in groups.values_mut() {
            list.sort_by(|&a, &b| scores[b].score.total_cmp(&scores[a].score).then(a.cmp(&b)));
            for (r, &k) in list.iter().enumerate() {
                rank[k] = r;
            }
        }
        rank
    };
    let re = rank(&|s| s.enterprise.as_str());
    let rr = rank(&|s| s.result.as_str());
    let expected: Vec<ScoreEntry> = scores
        .iter()
        .enumerate()
        .filter(|(k, _)| re[*k] < ke || rr[*k] < kr)
        .map(|(_, s)| s.clone())
        .collect();
    assert_eq!(kept, expected);
    assert!(kept.len() < scores.len());
}
