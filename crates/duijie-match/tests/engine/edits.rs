//! Organiser edits: each rejection reason, and valid edits with recomputed summaries.

use duijie_match::{
    Edit, Group, Instance, Party, PlacedPair, ScoreEntry, Solution, Stats, Unseated, apply_edit,
};

fn party(id: &str, capacity: i64) -> Party {
    Party {
        id: id.into(),
        capacity,
    }
}

fn score(e: &str, r: &str, s: f64) -> ScoreEntry {
    ScoreEntry {
        enterprise: e.into(),
        result: r.into(),
        score: s,
    }
}

fn instance() -> Instance {
    Instance {
        enterprises: vec![party("e1", 2), party("e2", 1), party("e3", 1)],
        results: vec![party("r1", 1), party("r2", 2), party("r3", 1)],
        scores: vec![
            score("e1", "r1", 0.9),
            score("e1", "r2", 0.8),
            score("e2", "r2", 0.7),
            score("e3", "r3", 0.6),
            score("e2", "r3", 0.2),
            score("e3", "r1", 0.5),
            score("e3", "r2", 0.5),
        ],
        forbidden: vec![("e3".into(), "r2".into())],
        forced: vec![("e3".into(), "r3".into())],
        min_score: 0.3,
        slots: 3,
        tables: 2,
        groups: Vec::new(),
    }
}

fn pair(e: &str, r: &str, s: f64, slot: u32, table: u32) -> PlacedPair {
    PlacedPair {
        enterprise: e.into(),
        result: r.into(),
        score: s,
        slot,
        table,
    }
}

fn solution() -> Solution {
    Solution {
        pairs: vec![
            pair("e1", "r1", 0.9, 0, 0),
            pair("e2", "r2", 0.7, 0, 1),
            pair("e1", "r2", 0.8, 1, 0),
            pair("e3", "r3", 0.6, 1, 1),
        ],
        total_score: 3.0,
        enterprises_served: 3,
        unplaced: vec![],
        unseated: vec![],
        slots_used: 2,
        stats: Stats::default(),
    }
}

fn add(e: &str, r: &str, slot: u32, table: u32) -> Edit {
    Edit::Add {
        enterprise: e.into(),
        result: r.into(),
        slot,
        table,
    }
}

fn mv(e: &str, r: &str, slot: u32, table: u32) -> Edit {
    Edit::Move {
        enterprise: e.into(),
        result: r.into(),
        slot,
        table,
    }
}

fn remove(e: &str, r: &str) -> Edit {
    Edit::Remove {
        enterprise: e.into(),
        result: r.into(),
    }
}

/// Expect a rejection with `code` whose messages mention every word of `names`.
fn rejected(sol: &Solution, edit: &Edit, code: &str, names: &[&str]) {
    let inst = instance();
    match apply_edit(&inst, sol, edit) {
        Err(r) => {
            assert_eq!(r.code, code, "{edit:?}: {}", r.message);
            for n in names {
                assert!(
                    r.message.contains(n),
                    "{edit:?}: English message lacks {n}: {}",
                    r.message
                );
                assert!(
                    r.message_zh.contains(n),
                    "{edit:?}: Chinese message lacks {n}: {}",
                    r.message_zh
                );
            }
        }
        Ok(_) => panic!("{edit:?} should be rejected with {code}"),
    }
}

#[test]
fn each_rejection_reason() {
    let s0 = solution();
    rejected(&s0, &add("e9", "r1", 0, 0), "unknown_id", &["e9"]);
    rejected(&s0, &add("e1", "r9", 0, 0), "unknown_id", &["r9"]);
    rejected(&s0, &add("e2", "r1", 3, 0), "slot_out_of_range", &["3"]);
    rejected(&s0, &add("e2", "r1", 2, 2), "table_out_of_range", &["2"]);
    rejected(&s0, &add("e1", "r1", 2, 0), "already_paired", &["e1", "r1"]);
    rejected(&s0, &add("e3", "r2", 2, 0), "forbidden", &["e3", "r2"]);
    rejected(&s0, &add("e2", "r1", 2, 0), "not_scored", &["e2", "r1"]);
    rejected(
        &s0,
        &add("e2", "r3", 2, 0),
        "below_min_score",
        &["e2", "r3", "0.2"],
    );
    rejected(&s0, &add("e3", "r1", 2, 0), "capacity", &["e3"]);
    rejected(&s0, &remove("e3", "r3"), "forced_pair", &["e3", "r3"]);
    rejected(&s0, &remove("e2", "r1"), "not_found", &["e2", "r1"]);
    rejected(&s0, &mv("e2", "r1", 0, 0), "not_found", &["e2", "r1"]);
    rejected(&s0, &mv("e1", "r1", 1, 1), "busy", &["e1", "r2"]);
    rejected(&s0, &mv("e1", "r1", 0, 1), "table_occupied", &["e2", "r2"]);
    rejected(&s0, &mv("e1", "r1", 5, 0), "slot_out_of_range", &["5"]);
    rejected(
        &s0,
        &Edit::SwapTables {
            slot: 0,
            table_a: 0,
            table_b: 7,
        },
        "table_out_of_range",
        &["7"],
    );

    // Free e1 and r2 by removing e1-r2, then try to put it back in busy places.
    let inst = instance();
    let s1 = apply_edit(&inst, &s0, &remove("e1", "r2")).expect("remove");
    rejected(&s1, &add("e1", "r2", 0, 0), "busy", &["e1", "r1"]);
    rejected(&s1, &add("e1", "r2", 1, 1), "table_occupied", &["e3", "r3"]);
    let s2 = apply_edit(&inst, &s1, &remove("e1", "r1")).expect("remove");
    rejected(&s2, &add("e1", "r2", 0, 0), "busy", &["r2", "e2"]);
}

#[test]
fn an_add_beyond_a_group_cap_is_rejected() {
    let mut inst = instance();
    inst.groups = vec![Group {
        id: "u1".into(),
        capacity: 2,
        members: vec!["r1".into(), "r2".into()],
    }];
    // The schedule holds e1–r1, e2–r2, e1–r2 (three meetings of u1); take one away, then
    // the group is at its cap of two.
    let s1 = apply_edit(&inst, &solution(), &remove("e1", "r2")).expect("remove");
    let err = apply_edit(&inst, &s1, &add("e1", "r2", 2, 0)).expect_err("over the group cap");
    assert_eq!(err.code, "group_cap", "{}", err.message);
    for name in ["r2", "u1", "2"] {
        assert!(err.message.contains(name), "{}", err.message);
        assert!(err.message_zh.contains(name), "{}", err.message_zh);
    }
    // e1's remaining candidate r2 has room but its university is at its cap, and so is r2.
    let reason = |id: &str| {
        s1.unplaced
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.reason_code.clone())
    };
    assert_eq!(reason("e1").as_deref(), Some("group_cap"));
    assert_eq!(reason("r2").as_deref(), Some("group_cap"));
    // A move keeps the meetings, so it never reaches the cap.
    apply_edit(&inst, &s1, &mv("e1", "r1", 2, 1)).expect("move within the cap");
    // With a cap of three the add is fine.
    inst.groups[0].capacity = 3;
    apply_edit(&inst, &s1, &add("e1", "r2", 2, 0)).expect("within the cap");
}

#[test]
fn valid_edits_recompute_the_summary() {
    let inst = instance();
    let s0 = solution();
    let moved = apply_edit(&inst, &s0, &mv("e1", "r1", 2, 1)).expect("valid move");
    let p = moved
        .pairs
        .iter()
        .find(|p| p.enterprise == "e1" && p.result == "r1")
        .expect("still there");
    assert_eq!((p.slot, p.table), (2, 1));
    assert_eq!(moved.slots_used, 3);
    assert_eq!(moved.stats.edits, 1);
    assert!(
        moved
            .pairs
            .windows(2)
            .all(|w| (w[0].slot, w[0].table) <= (w[1].slot, w[1].table))
    );
    assert_eq!(s0.pairs[0].slot, 0, "input solution unchanged");

    let removed = apply_edit(&inst, &s0, &remove("e1", "r2")).expect("remove");
    assert!((removed.total_score - 2.2).abs() < 1e-9);
    assert_eq!(removed.enterprises_served, 3);
    // e1 and r2 now have room and an unused candidate with room: an organiser choice.
    let e1 = removed
        .unplaced
        .iter()
        .find(|u| u.id == "e1")
        .expect("e1 short");
    assert_eq!(
        (e1.wanted, e1.got, e1.reason_code.as_str()),
        (2, 1, "manual")
    );

    let readded = apply_edit(&inst, &removed, &add("e1", "r2", 2, 0)).expect("add back");
    assert!((readded.total_score - 3.0).abs() < 1e-9);
    assert!(readded.unplaced.iter().all(|u| u.id != "e1"));
    assert_eq!(readded.stats.edits, 2);

    let swapped = apply_edit(
        &inst,
        &s0,
        &Edit::SwapTables {
            slot: 0,
            table_a: 0,
            table_b: 1,
        },
    )
    .expect("swap");
    let t = |sol: &Solution, e: &str| {
        sol.pairs
            .iter()
            .find(|p| p.enterprise == e && p.slot == 0)
            .map(|p| p.table)
    };
    assert_eq!((t(&swapped, "e1"), t(&swapped, "e2")), (Some(1), Some(0)));
}

#[test]
fn adding_an_unseated_meeting_seats_it() {
    let inst = instance();
    let mut s = solution();
    s.pairs
        .retain(|p| !(p.enterprise == "e1" && p.result == "r2"));
    s.unseated.push(Unseated {
        enterprise: "e1".into(),
        result: "r2".into(),
        score: 0.8,
        reason: "时段不足 / not enough time slots".into(),
    });
    let out = apply_edit(&inst, &s, &add("e1", "r2", 2, 1)).expect("seat it");
    assert!(out.unseated.is_empty());
    assert_eq!(out.pairs.len(), 4);
    assert_eq!(out.stats.meetings_unseated, 0);
}

#[test]
fn edits_round_trip_as_json() {
    let e: Edit =
        serde_json::from_str(r#"{"op": "swap_tables", "slot": 1, "table_a": 0, "table_b": 3}"#)
            .expect("parse");
    assert_eq!(
        e,
        Edit::SwapTables {
            slot: 1,
            table_a: 0,
            table_b: 3
        }
    );
    let text = serde_json::to_string(&add("e1", "r1", 0, 2)).expect("json");
    assert!(text.contains(r#""op":"add""#));
    assert!(serde_json::from_str::<Edit>(r#"{"op": "teleport"}"#).is_err());
}
