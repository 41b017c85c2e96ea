//! The optimality certificate: it passes on solver output and fails on sub-optimal flows.

use duijie_match::synth::SplitMix64;
use duijie_match::{
    AssignProblem, FlowEdge, OptimalityError, SolveOptions, assign, verify_optimality,
};

fn random_problem(
    rng: &mut SplitMix64,
    n: usize,
    m: usize,
    per_enterprise: usize,
) -> AssignProblem {
    let mut edges = Vec::new();
    for i in 0..n {
        let mut picked = std::collections::HashSet::new();
        while picked.len() < per_enterprise.min(m) {
            let j = rng.below(m as u64) as u32;
            if picked.insert(j) {
                // Skewed gains with many ties to stress degenerate cases.
                let u = rng.next_f64();
                edges.push(FlowEdge {
                    enterprise: i as u32,
                    result: j,
                    gain: ((u * u * 1000.0) as i64) * 1000,
                });
            }
        }
    }
    AssignProblem {
        enterprise_capacity: (0..n).map(|_| rng.range(0, 5) as u32).collect(),
        enterprise_served: (0..n).map(|_| rng.chance(0.05)).collect(),
        result_capacity: (0..m).map(|_| rng.range(0, 3) as u32).collect(),
        edges,
        total_capacity: None,
    }
}

#[test]
fn certificate_passes_on_large_random_instances() {
    let mut rng = SplitMix64::new(0xc0ff_ee01);
    for (n, m, d) in [(300, 2000, 30), (300, 2000, 8), (200, 150, 40)] {
        let p = random_problem(&mut rng, n, m, d);
        let a = assign(&p, &SolveOptions::default()).expect("assign");
        verify_optimality(&p, &a.selected).expect("optimal flow must pass the certificate");
        assert_eq!(
            p.cost(&a.selected).ok(),
            Some(-(a.gain as i128) - a.bonus as i128 * a.newly_served as i128)
        );
    }
}

#[test]
fn certificate_passes_with_a_binding_total_limit() {
    let mut rng = SplitMix64::new(0xc0ff_ee04);
    for (n, m, d) in [(300, 2000, 30), (300, 2000, 8), (200, 150, 40)] {
        let free = random_problem(&mut rng, n, m, d);
        let unlimited = assign(&free, &SolveOptions::default()).expect("assign");
        let count = unlimited.selected.iter().filter(|s| **s).count() as u64;
        for limit in [0, count / 3, count * 2 / 3, count - 1] {
            let p = AssignProblem {
                total_capacity: Some(limit),
                ..free.clone()
            };
            let a = assign(&p, &SolveOptions::default()).expect("assign");
            let used = a.selected.iter().filter(|s| **s).count() as u64;
            assert!(used <= limit, "{used} > {limit}");
            verify_optimality(&p, &a.selected)
                .unwrap_or_else(|e| panic!("limit {limit} of {count}: {e}"));
            // The unlimited optimum breaks the limit and is refused as such.
            assert!(matches!(
                verify_optimality(&p, &unlimited.selected),
                Err(OptimalityError::TotalExceeded { .. })
            ));
        }
    }
}

#[test]
fn certificate_fails_when_an_improving_edge_is_dropped() {
    let mut rng = SplitMix64::new(0xc0ff_ee02);
    let p = random_problem(&mut rng, 300, 2000, 20);
    let a = assign(&p, &SolveOptions::default()).expect("assign");
    let k = (0..p.edges.len())
        .find(|&k| a.selected[k] && p.edges[k].gain > 0)
        .expect("some selected edge with positive gain");
    let mut worse = a.selected.clone();
    worse[k] = false;
    match verify_optimality(&p, &worse) {
        Err(OptimalityError::NegativeCycle { cost, kind, .. }) => {
            assert!(cost < 0);
            assert_eq!(kind, "source-to-sink path");
        }
        other => panic!("expected a negative source-to-sink path, got {other:?}"),
    }
}

#[test]
fn certificate_fails_on_greedy_and_rerouting_counterexamples() {
    // Greedy takes e0-r0 (best score) and leaves e1 unserved.
    let p = AssignProblem {
        enterprise_capacity: vec![1, 1],
        enterprise_served: vec![false, false],
        result_capacity: vec![1, 1],
        edges: vec![
            FlowEdge {
                enterprise: 0,
                result: 0,
                gain: 90,
            },
            FlowEdge {
                enterprise: 0,
                result: 1,
                gain: 80,
            },
            FlowEdge {
                enterprise: 1,
                result: 0,
                gain: 85,
            },
        ],
        total_capacity: None,
    };
    let greedy = vec![true, false, false];
    assert!(matches!(
        verify_optimality(&p, &greedy),
        Err(OptimalityError::NegativeCycle { .. })
    ));
    let a = assign(&p, &SolveOptions::default()).expect("assign");
    assert_eq!(a.selected, vec![false, true, true]);
    verify_optimality(&p, &a.selected).expect("optimal");

    // Same flow value, worse score: only a rerouting cycle improves it.
    let q = AssignProblem {
        enterprise_capacity: vec![1, 1],
        enterprise_served: vec![false, false],
        result_capacity: vec![1, 1],
        edges: vec![
            FlowEdge {
                enterprise: 0,
                result: 0,
                gain: 50,
            },
            FlowEdge {
                enterprise: 0,
                result: 1,
                gain: 90,
            },
            FlowEdge {
                enterprise: 1,
                result: 0,
                gain: 90,
            },
            FlowEdge {
                enterprise: 1,
                result: 1,
                gain: 50,
            },
        ],
        total_capacity: None,
    };
    match verify_optimality(&q, &[true, false, false, true]) {
        Err(OptimalityError::NegativeCycle { kind, cost, .. }) => {
            assert_eq!(kind, "cycle");
            assert_eq!(cost, -80);
        }
        other => panic!("expected a negative cycle, got {other:?}"),
    }
    verify_optimality(&q, &[false, true, true, false]).expect("optimal");
}

#[test]
fn certificate_rejects_capacity_violations_and_malformed_input() {
    let p = AssignProblem {
        enterprise_capacity: vec![1],
        enterprise_served: vec![false],
        result_capacity: vec![2],
        edges: vec![
            FlowEdge {
                enterprise: 0,
                result: 0,
                gain: 5,
            },
            FlowEdge {
                enterprise: 0,
                result: 0,
                gain: 3,
            },
        ],
        total_capacity: None,
    };
    assert!(matches!(
        verify_optimality(&p, &[true, true]),
        Err(OptimalityError::CapacityExceeded {
            side: "enterprise",
            ..
        })
    ));
    assert!(matches!(
        verify_optimality(&p, &[true]),
        Err(OptimalityError::Malformed(_))
    ));
    let bad = AssignProblem {
        edges: vec![FlowEdge {
            enterprise: 3,
            result: 0,
            gain: 1,
        }],
        ..p.clone()
    };
    assert_eq!(
        assign(&bad, &SolveOptions::default())
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("invalid_problem")
    );
}

#[test]
fn checker_accepts_exactly_the_optimal_selections_of_small_problems() {
    let mut rng = SplitMix64::new(0xc0ff_ee03);
    let mut rejected = 0;
    for case in 0..300 {
        let n = 1 + rng.below(3) as usize;
        let m = 1 + rng.below(3) as usize;
        let edges: Vec<FlowEdge> = (0..rng.below(9))
            .map(|_| FlowEdge {
                enterprise: rng.below(n as u64) as u32,
                result: rng.below(m as u64) as u32,
                gain: rng.range(0, 4) * 10,
            })
            .collect();
        let p = AssignProblem {
            enterprise_capacity: (0..n).map(|_| rng.range(0, 3) as u32).collect(),
            enterprise_served: (0..n).map(|_| rng.chance(0.2)).collect(),
            result_capacity: (0..m).map(|_| rng.range(0, 3) as u32).collect(),
            edges,
            total_capacity: rng.chance(0.5).then(|| rng.range(0, 4) as u64),
        };
        let k = p.edges.len();
        let feasible = |sel: &[bool]| {
            let mut ue = vec![0u32; n];
            let mut ur = vec![0u32; m];
            for (e, _) in p.edges.iter().zip(sel).filter(|(_, s)| **s) {
                ue[e.enterprise as usize] += 1;
                ur[e.result as usize] += 1;
            }
            ue.iter().zip(&p.enterprise_capacity).all(|(u, c)| u <= c)
                && ur.iter().zip(&p.result_capacity).all(|(u, c)| u <= c)
                && p.total_capacity
                    .is_none_or(|t| sel.iter().filter(|s| **s).count() as u64 <= t)
        };
        let subsets: Vec<Vec<bool>> = (0..1u32 << k)
            .map(|mask| (0..k).map(|b| mask >> b & 1 == 1).collect())
            .filter(|s: &Vec<bool>| feasible(s))
            .collect();
        let best = subsets
            .iter()
            .filter_map(|s| p.cost(s).ok())
            .min()
            .expect("the empty selection is feasible");
        let a = assign(&p, &SolveOptions::default()).expect("assign");
        assert_eq!(p.cost(&a.selected).ok(), Some(best), "case {case}: {p:?}");
        for s in &subsets {
            let optimal = p.cost(s).ok() == Some(best);
            let certified = verify_optimality(&p, s).is_ok();
            assert_eq!(certified, optimal, "case {case}: selection {s:?} of {p:?}");
            if !certified {
                rejected += 1;
            }
        }
    }
    assert!(
        rejected > 500,
        "too few sub-optimal selections tested: {rejected}"
    );
}
