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
        result_group: Vec::new(),
        group_capacity: Vec::new(),
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
        result_group: Vec::new(),
        group_capacity: Vec::new(),
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
        result_group: Vec::new(),
        group_capacity: Vec::new(),
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
        result_group: Vec::new(),
        group_capacity: Vec::new(),
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
            result_group: Vec::new(),
            group_capacity: Vec::new(),
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

/// Random groups over the results of `p`: about a third of the results stay ungrouped, the
/// caps are a random fraction of what the members could take.
fn with_random_groups(rng: &mut SplitMix64, p: &AssignProblem, groups: usize) -> AssignProblem {
    let result_group: Vec<Option<u32>> = (0..p.result_capacity.len())
        .map(|_| (!rng.chance(0.3)).then(|| rng.below(groups as u64) as u32))
        .collect();
    let mut room = vec![0u64; groups];
    for (j, g) in result_group.iter().enumerate() {
        if let Some(g) = g {
            room[*g as usize] += p.result_capacity[j] as u64;
        }
    }
    AssignProblem {
        result_group,
        group_capacity: room
            .iter()
            .map(|&r| (r as f64 * rng.next_f64() * 0.6) as u32)
            .collect(),
        ..p.clone()
    }
}

#[test]
fn certificate_passes_with_binding_group_caps() {
    let mut rng = SplitMix64::new(0xc0ff_ee05);
    for (n, m, d, groups) in [(300, 2000, 30, 40), (300, 2000, 8, 200), (200, 150, 40, 10)] {
        let free = random_problem(&mut rng, n, m, d);
        let unlimited = assign(&free, &SolveOptions::default()).expect("assign");
        let p = with_random_groups(&mut rng, &free, groups);
        let a = assign(&p, &SolveOptions::default()).expect("assign");
        verify_optimality(&p, &a.selected).expect("optimal flow must pass the certificate");
        assert_eq!(
            p.cost(&a.selected).ok(),
            Some(-(a.gain as i128) - a.bonus as i128 * a.newly_served as i128)
        );
        // The caps bind: the optimum without them breaks one and is refused as such.
        assert!(matches!(
            verify_optimality(&p, &unlimited.selected),
            Err(OptimalityError::CapacityExceeded { side: "group", .. })
        ));
        assert!(p.cost(&a.selected).ok() > free.cost(&unlimited.selected).ok());
        // Groups and a binding total limit together.
        let count = a.selected.iter().filter(|s| **s).count() as u64;
        for limit in [count / 2, count - 1] {
            let q = AssignProblem {
                total_capacity: Some(limit),
                ..p.clone()
            };
            let b = assign(&q, &SolveOptions::default()).expect("assign");
            assert!(b.selected.iter().filter(|s| **s).count() as u64 <= limit);
            verify_optimality(&q, &b.selected)
                .unwrap_or_else(|e| panic!("groups and limit {limit} of {count}: {e}"));
        }
    }
}

#[test]
fn group_caps_that_cannot_bind_change_nothing() {
    let mut rng = SplitMix64::new(0xc0ff_ee06);
    let free = random_problem(&mut rng, 200, 600, 20);
    let a = assign(&free, &SolveOptions::default()).expect("assign");
    let mut p = with_random_groups(&mut rng, &free, 30);
    // Each cap at what its members can take: never binding, so no group node is built.
    let mut room = vec![0u32; p.group_capacity.len()];
    for (j, g) in p.result_group.iter().enumerate() {
        if let Some(g) = g {
            room[*g as usize] += p.result_capacity[j];
        }
    }
    p.group_capacity = room;
    let b = assign(&p, &SolveOptions::default()).expect("assign");
    assert_eq!(a.selected, b.selected);
    assert_eq!(a.dijkstra_runs, b.dijkstra_runs);
    verify_optimality(&p, &b.selected).expect("optimal");
}

#[test]
fn the_group_cap_example_at_flow_level() {
    // r0, r1 in group 0 (cap 1), r2 in group 1: e0–r0 0.9, e1–r1 0.8, e1–r2 0.3.
    let p = AssignProblem {
        enterprise_capacity: vec![1, 1],
        enterprise_served: vec![false, false],
        result_capacity: vec![1, 1, 1],
        edges: vec![
            FlowEdge {
                enterprise: 0,
                result: 0,
                gain: 900_000,
            },
            FlowEdge {
                enterprise: 1,
                result: 1,
                gain: 800_000,
            },
            FlowEdge {
                enterprise: 1,
                result: 2,
                gain: 300_000,
            },
        ],
        total_capacity: None,
        result_group: vec![Some(0), Some(0), Some(1)],
        group_capacity: vec![1, 1],
    };
    let a = assign(&p, &SolveOptions::default()).expect("assign");
    assert_eq!(a.selected, vec![true, false, true]);
    assert_eq!(a.gain, 1_200_000);
    verify_optimality(&p, &a.selected).expect("optimal");
    assert!(matches!(
        verify_optimality(&p, &[true, true, false]),
        Err(OptimalityError::CapacityExceeded {
            side: "group",
            index: 0,
            used: 2,
            capacity: 1
        })
    ));
    // A feasible but worse selection (e1 unserved) has an improving path.
    assert!(matches!(
        verify_optimality(&p, &[true, false, false]),
        Err(OptimalityError::NegativeCycle { .. })
    ));
    // Malformed groups are refused.
    let bad = AssignProblem {
        result_group: vec![Some(0), Some(2), None],
        ..p.clone()
    };
    assert_eq!(
        assign(&bad, &SolveOptions::default())
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("invalid_problem")
    );
    let short = AssignProblem {
        result_group: vec![Some(0)],
        ..p
    };
    assert!(short.check().is_err());
}

#[test]
fn checker_accepts_exactly_the_optimal_selections_with_groups() {
    let mut rng = SplitMix64::new(0xc0ff_ee07);
    let mut rejected = 0;
    for case in 0..400 {
        let n = 1 + rng.below(3) as usize;
        let m = 1 + rng.below(4) as usize;
        let edges: Vec<FlowEdge> = (0..rng.below(9))
            .map(|_| FlowEdge {
                enterprise: rng.below(n as u64) as u32,
                result: rng.below(m as u64) as u32,
                gain: rng.range(0, 4) * 10,
            })
            .collect();
        let groups = 1 + rng.below(2) as usize;
        let p = AssignProblem {
            enterprise_capacity: (0..n).map(|_| rng.range(0, 3) as u32).collect(),
            enterprise_served: (0..n).map(|_| rng.chance(0.2)).collect(),
            result_capacity: (0..m).map(|_| rng.range(0, 3) as u32).collect(),
            edges,
            total_capacity: rng.chance(0.4).then(|| rng.range(0, 4) as u64),
            result_group: (0..m)
                .map(|_| (!rng.chance(0.25)).then(|| rng.below(groups as u64) as u32))
                .collect(),
            group_capacity: (0..groups).map(|_| rng.range(0, 3) as u32).collect(),
        };
        let k = p.edges.len();
        let feasible = |sel: &[bool]| {
            let mut ue = vec![0u32; n];
            let mut ur = vec![0u32; m];
            let mut ug = vec![0u32; groups];
            for (e, _) in p.edges.iter().zip(sel).filter(|(_, s)| **s) {
                ue[e.enterprise as usize] += 1;
                ur[e.result as usize] += 1;
                if let Some(g) = p.result_group[e.result as usize] {
                    ug[g as usize] += 1;
                }
            }
            ue.iter().zip(&p.enterprise_capacity).all(|(u, c)| u <= c)
                && ur.iter().zip(&p.result_capacity).all(|(u, c)| u <= c)
                && ug.iter().zip(&p.group_capacity).all(|(u, c)| u <= c)
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
