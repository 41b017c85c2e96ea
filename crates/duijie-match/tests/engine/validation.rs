//! Every kind of bad input gives its error code (and messages in both languages), no panic.

use duijie_match::{
    Group, Instance, PairError, Party, ScoreEntry, SolveOptions, parse_instance, solve,
};

fn base() -> Instance {
    Instance {
        enterprises: vec![
            Party {
                id: "e1".into(),
                capacity: 2,
            },
            Party {
                id: "e2".into(),
                capacity: 1,
            },
        ],
        results: vec![
            Party {
                id: "r1".into(),
                capacity: 1,
            },
            Party {
                id: "r2".into(),
                capacity: 2,
            },
        ],
        scores: vec![
            ScoreEntry {
                enterprise: "e1".into(),
                result: "r1".into(),
                score: 0.5,
            },
            ScoreEntry {
                enterprise: "e2".into(),
                result: "r2".into(),
                score: 0.7,
            },
        ],
        forbidden: vec![],
        forced: vec![],
        min_score: 0.0,
        slots: 3,
        tables: 2,
        groups: vec![],
    }
}

fn code_of(inst: &Instance) -> &'static str {
    let err = inst.validate().expect_err("must be rejected");
    // solve must reject it the same way.
    assert_eq!(
        solve(inst, &SolveOptions::default())
            .err()
            .as_ref()
            .map(PairError::code),
        Some(err.code())
    );
    assert!(!err.to_string().is_empty());
    assert!(!err.message_zh().is_empty());
    err.code()
}

#[test]
fn valid_base_instance_passes() {
    base().validate().expect("valid");
}

#[test]
fn each_bad_input_has_its_code() {
    let mut i = base();
    i.scores[0].enterprise = "ghost".into();
    assert_eq!(code_of(&i), "unknown_id");
    assert!(
        i.validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("ghost")
    );

    let mut i = base();
    i.forbidden.push(("e1".into(), "nope".into()));
    assert_eq!(code_of(&i), "unknown_id");
    assert!(
        i.validate()
            .err()
            .map(|e| e.message_zh())
            .unwrap_or_default()
            .contains("nope")
    );

    let mut i = base();
    i.forced.push(("zz".into(), "r1".into()));
    assert_eq!(code_of(&i), "unknown_id");

    let mut i = base();
    i.results[1].capacity = -1;
    assert_eq!(code_of(&i), "negative_capacity");
    assert!(
        i.validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("r2")
    );

    for bad in [f64::NAN, f64::INFINITY, -0.1, 2e9] {
        let mut i = base();
        i.scores[1].score = bad;
        assert_eq!(code_of(&i), "invalid_score", "score {bad}");
    }

    let mut i = base();
    i.scores.push(ScoreEntry {
        enterprise: "e1".into(),
        result: "r1".into(),
        score: 0.1,
    });
    assert_eq!(code_of(&i), "duplicate_pair");

    let mut i = base();
    i.forced = vec![("e1".into(), "r2".into()), ("e1".into(), "r2".into())];
    assert_eq!(code_of(&i), "duplicate_pair");

    let mut i = base();
    i.enterprises.push(Party {
        id: "e1".into(),
        capacity: 1,
    });
    assert_eq!(code_of(&i), "duplicate_id");

    let mut i = base();
    i.slots = 0;
    assert_eq!(code_of(&i), "invalid_slots");

    let mut i = base();
    i.tables = -3;
    assert_eq!(code_of(&i), "invalid_tables");

    let mut i = base();
    i.min_score = f64::NAN;
    assert_eq!(code_of(&i), "invalid_min_score");

    let mut i = base();
    i.forced.push(("e1".into(), "r2".into()));
    i.forbidden.push(("e1".into(), "r2".into()));
    assert_eq!(code_of(&i), "forced_forbidden");

    let mut i = base();
    i.forced = vec![("e2".into(), "r1".into()), ("e2".into(), "r2".into())];
    assert_eq!(code_of(&i), "forced_over_capacity");
    assert!(
        i.validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("e2")
    );

    let mut i = base();
    i.slots = 1;
    i.forced = vec![("e1".into(), "r1".into()), ("e1".into(), "r2".into())];
    assert_eq!(code_of(&i), "forced_over_slots");

    let mut i = base();
    i.slots = 1;
    i.tables = 1;
    i.forced = vec![("e1".into(), "r1".into()), ("e2".into(), "r2".into())];
    assert_eq!(code_of(&i), "forced_over_tables");
}

fn group(id: &str, capacity: i64, members: &[&str]) -> Group {
    Group {
        id: id.into(),
        capacity,
        members: members.iter().map(|m| m.to_string()).collect(),
    }
}

/// The error's English and Chinese messages both name every one of `names`.
fn names_all(inst: &Instance, names: &[&str]) {
    let err = inst.validate().expect_err("must be rejected");
    for n in names {
        assert!(err.to_string().contains(n), "{err}");
        assert!(err.message_zh().contains(n), "{}", err.message_zh());
    }
}

#[test]
fn each_bad_group_has_its_code() {
    let mut i = base();
    i.groups = vec![group("u1", 1, &["r1"]), group("u2", 2, &["r2"])];
    i.validate().expect("valid groups");

    let mut i = base();
    i.groups = vec![group("u1", 1, &["r1"]), group("u1", 2, &["r2"])];
    assert_eq!(code_of(&i), "duplicate_group");
    names_all(&i, &["u1"]);

    let mut i = base();
    i.groups = vec![group("u1", -1, &["r1"])];
    assert_eq!(code_of(&i), "negative_group_capacity");
    names_all(&i, &["u1", "-1"]);

    let mut i = base();
    i.groups = vec![group("u1", 1, &["r1", "r7"])];
    assert_eq!(code_of(&i), "unknown_id");
    names_all(&i, &["r7", "groups"]);

    let mut i = base();
    i.groups = vec![group("u1", 1, &["r1"]), group("u2", 1, &["r2", "r1"])];
    assert_eq!(code_of(&i), "group_conflict");
    names_all(&i, &["r1", "u1", "u2"]);

    let mut i = base();
    i.groups = vec![group("u1", 3, &["r1", "r1"])];
    assert_eq!(code_of(&i), "group_conflict");

    let mut i = base();
    i.groups = vec![group("u1", 1, &["r1", "r2"])];
    i.forced = vec![("e1".into(), "r1".into()), ("e2".into(), "r2".into())];
    assert_eq!(code_of(&i), "forced_over_group_capacity");
    names_all(&i, &["u1", "2", "1"]);
    // At the cap the forced pairs are kept and the group takes nothing else.
    i.groups[0].capacity = 2;
    let sol = solve(&i, &SolveOptions::default()).expect("solve");
    assert_eq!(sol.pairs.len(), 2);

    // Groups are optional in JSON, and not written when there are none.
    let text = serde_json::to_string(&base()).expect("json");
    assert!(!text.contains("groups"));
    let mut i = base();
    i.groups = vec![group("u1", 1, &["r1"])];
    let text = serde_json::to_string(&i).expect("json");
    assert_eq!(parse_instance(&text).expect("parse"), i);
    assert_eq!(
        parse_instance(&text.replace("\"members\"", "\"member\""))
            .err()
            .map(|e| e.code()),
        Some("json")
    );
}

#[test]
fn json_errors_carry_line_and_column() {
    let cases = [
        "{",
        r#"{"enterprises": [], "results": [], "scores": [], "slots": 1}"#,
        r#"{"enterprises": [{"id": "e1", "capacity": 1.5}], "results": [], "scores": [], "slots": 1, "tables": 1}"#,
        r#"{"enterprises": [], "results": [], "scores": [], "slots": 1, "tables": 1, "colour": "red"}"#,
        "{\n  \"enterprises\": [{\"id\": \"e1\", \"capacity\": 1, \"extra\": 2}],\n  \"results\": [], \"scores\": [], \"slots\": 1, \"tables\": 1}",
        r#"{"enterprises": [], "results": [], "scores": [{"enterprise": "a", "result": "b", "score": "high"}], "slots": 1, "tables": 1}"#,
        r#"{"enterprises": [], "results": [], "scores": [], "forbidden": [["a"]], "slots": 1, "tables": 1}"#,
    ];
    for text in cases {
        match parse_instance(text) {
            Err(e @ PairError::Json { line, column, .. }) => {
                assert_eq!(e.code(), "json");
                assert!(line >= 1 && column >= 1, "{text}");
                assert!(e.message_zh().contains("JSON"));
            }
            other => panic!("{text}: expected a JSON error, got {other:?}"),
        }
    }
    match parse_instance("{\n  \"enterprises\": [{\"id\": \"e1\", \"capacity\": 1, \"extra\": 2}]}")
    {
        Err(PairError::Json { line, .. }) => assert_eq!(line, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn optional_fields_default() {
    let i = parse_instance(
        r#"{"enterprises": [{"id": "e1", "capacity": 1}], "results": [{"id": "r1", "capacity": 1}],
            "scores": [{"enterprise": "e1", "result": "r1", "score": 0.3}], "slots": 1, "tables": 1}"#,
    )
    .expect("parse");
    assert!(i.forbidden.is_empty() && i.forced.is_empty());
    assert_eq!(i.min_score, 0.0);
    let sol = solve(&i, &SolveOptions::default()).expect("solve");
    assert_eq!(sol.pairs.len(), 1);
    assert_eq!((sol.pairs[0].slot, sol.pairs[0].table), (0, 0));
}

#[test]
fn empty_instance_is_fine() {
    let i = parse_instance(
        r#"{"enterprises": [], "results": [], "scores": [], "slots": 1, "tables": 1}"#,
    )
    .expect("parse");
    let sol = solve(&i, &SolveOptions::default()).expect("solve");
    assert!(sol.pairs.is_empty() && sol.unplaced.is_empty());
    assert_eq!(sol.slots_used, 0);
}
