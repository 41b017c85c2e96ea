//! The pairing input on anything a file or a client can hold: parsing and validation never
//! panic, and whatever validates is solved into a schedule that keeps every rule.

use duijie_match::{Instance, Party, ScoreEntry, SolveOptions, parse_instance, solve};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

/// Instances that are often valid and often subtly not: repeated ids, negative
/// capacities, scores out of range, forced and forbidden pairs naming unknown parties.
fn instance() -> impl Strategy<Value = Instance> {
    let id = |p: &'static str| (0u8..6).prop_map(move |i| format!("{p}{i}"));
    let party =
        |p: &'static str| (id(p), -1i64..4).prop_map(|(id, capacity)| Party { id, capacity });
    let score = prop_oneof![
        8 => 0.0f64..1.0,
        1 => Just(f64::NAN),
        1 => Just(-0.5),
        1 => Just(1e9),
    ];
    (
        proptest::collection::vec(party("e"), 0..6),
        proptest::collection::vec(party("r"), 0..6),
        proptest::collection::vec((id("e"), id("r"), score), 0..20),
        proptest::collection::vec((id("e"), id("r")), 0..3),
        proptest::collection::vec((id("e"), id("r")), 0..3),
        -0.5f64..0.8,
        -1i64..5,
        -1i64..4,
    )
        .prop_map(
            |(enterprises, results, scores, forbidden, forced, min_score, slots, tables)| {
                Instance {
                    enterprises,
                    results,
                    scores: scores
                        .into_iter()
                        .map(|(enterprise, result, score)| ScoreEntry {
                            enterprise,
                            result,
                            score,
                        })
                        .collect(),
                    forbidden,
                    forced,
                    min_score,
                    slots,
                    tables,
                    groups: Vec::new(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_or_names_its_error(text in "\\PC{0,300}") {
        if let Err(e) = parse_instance(&text) {
            prop_assert!(!e.code().is_empty());
            prop_assert!(!e.message_zh().is_empty());
        }
    }

    #[test]
    fn any_instance_validates_or_solves_within_the_rules(inst in instance()) {
        // the JSON round trip is the file format
        let text = serde_json::to_string(&inst).unwrap_or_default();
        let parsed = parse_instance(&text);
        let inst = match parsed {
            Ok(i) => i,
            Err(e) => {
                prop_assert!(!e.code().is_empty());
                return Ok(());
            }
        };
        if inst.validate().is_err() {
            prop_assert!(solve(&inst, &SolveOptions::default()).is_err(), "solve refuses what validate refuses");
            return Ok(());
        }
        let s = match solve(&inst, &SolveOptions::default()) {
            Ok(s) => s,
            // forced pairs that cannot all be placed are refused with a reason
            Err(e) => { prop_assert!(!e.code().is_empty()); return Ok(()); }
        };
        let cap: HashMap<&str, i64> = inst
            .enterprises
            .iter()
            .chain(&inst.results)
            .map(|p| (p.id.as_str(), p.capacity))
            .collect();
        let mut used: HashMap<&str, i64> = HashMap::new();
        let mut at: HashSet<(u32, u32)> = HashSet::new();
        let mut busy: HashSet<(&str, u32)> = HashSet::new();
        let forbidden: HashSet<(&str, &str)> = inst.forbidden.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        for p in &s.pairs {
            *used.entry(p.enterprise.as_str()).or_default() += 1;
            *used.entry(p.result.as_str()).or_default() += 1;
            prop_assert!(!forbidden.contains(&(p.enterprise.as_str(), p.result.as_str())), "a forbidden pair met");
            prop_assert!(i64::from(p.slot) < inst.slots && i64::from(p.table) < inst.tables, "outside the grid");
            prop_assert!(busy.insert((p.enterprise.as_str(), p.slot)), "an enterprise twice in a slot");
            prop_assert!(busy.insert((p.result.as_str(), p.slot)), "a result twice in a slot");
            prop_assert!(at.insert((p.slot, p.table)), "two meetings at one table");
        }
        for (id, n) in used {
            prop_assert!(n <= cap[id], "{} over its capacity", id);
        }
        for (e, r) in &inst.forced {
            prop_assert!(
                s.pairs.iter().any(|p| &p.enterprise == e && &p.result == r)
                    || s.unseated.iter().any(|u| &u.enterprise == e && &u.result == r),
                "forced pair {}–{} neither placed nor reported unseated", e, r
            );
        }
    }
}
