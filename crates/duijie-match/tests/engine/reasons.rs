//! Reasons for participants with too few meetings, and for unseated meetings.

use crate::common::check_solution;
use duijie_match::{Solution, SolveOptions, parse_instance, solve};

fn reason<'a>(sol: &'a Solution, kind: &str, id: &str) -> Option<&'a str> {
    sol.unplaced
        .iter()
        .find(|u| u.kind.as_str() == kind && u.id == id)
        .map(|u| u.reason_code.as_str())
}

#[test]
fn unplaced_reasons() {
    let inst = parse_instance(
        r#"{"enterprises": [{"id": "low", "capacity": 1}, {"id": "banned", "capacity": 1},
                            {"id": "winner", "capacity": 1}, {"id": "loser", "capacity": 1},
                            {"id": "lonely", "capacity": 2}],
            "results": [{"id": "r1", "capacity": 1}, {"id": "r2", "capacity": 1},
                        {"id": "hot", "capacity": 1}],
            "scores": [{"enterprise": "low", "result": "r1", "score": 0.2},
                       {"enterprise": "banned", "result": "r2", "score": 0.9},
                       {"enterprise": "winner", "result": "hot", "score": 0.8},
                       {"enterprise": "loser", "result": "hot", "score": 0.6}],
            "forbidden": [["banned", "r2"]],
            "min_score": 0.5, "slots": 4, "tables": 4}"#,
    )
    .expect("parse");
    let sol = solve(&inst, &SolveOptions::default()).expect("solve");
    check_solution(&inst, &sol).expect("feasible");
    assert_eq!(reason(&sol, "enterprise", "low"), Some("no_candidate"));
    assert_eq!(reason(&sol, "enterprise", "banned"), Some("conflicts"));
    assert_eq!(reason(&sol, "enterprise", "loser"), Some("capacity"));
    assert_eq!(reason(&sol, "enterprise", "lonely"), Some("no_candidate"));
    assert_eq!(reason(&sol, "enterprise", "winner"), None);
    assert_eq!(reason(&sol, "result", "r1"), Some("no_candidate"));
    assert_eq!(reason(&sol, "result", "r2"), Some("conflicts"));
    assert_eq!(reason(&sol, "result", "hot"), None);
    let low = sol.unplaced.iter().find(|u| u.id == "low").expect("low");
    assert!(
        low.reason.contains("没有达到最低分数的候选"),
        "{}",
        low.reason
    );
    assert!(
        low.reason
            .contains("no candidate at or above the minimum score"),
        "{}",
        low.reason
    );
    let loser = sol
        .unplaced
        .iter()
        .find(|u| u.id == "loser")
        .expect("loser");
    assert_eq!((loser.wanted, loser.got), (1, 0));
}

#[test]
fn short_of_slots_keeps_the_best_meetings_and_says_why() {
    let inst = parse_instance(
        r#"{"enterprises": [{"id": "busy", "capacity": 3}],
            "results": [{"id": "a", "capacity": 1}, {"id": "b", "capacity": 1}, {"id": "c", "capacity": 1}],
            "scores": [{"enterprise": "busy", "result": "a", "score": 0.3},
                       {"enterprise": "busy", "result": "b", "score": 0.9},
                       {"enterprise": "busy", "result": "c", "score": 0.6}],
            "slots": 2, "tables": 5}"#,
    )
    .expect("parse");
    let sol = solve(&inst, &SolveOptions::default()).expect("solve");
    check_solution(&inst, &sol).expect("feasible");
    let mut got: Vec<&str> = sol.pairs.iter().map(|p| p.result.as_str()).collect();
    got.sort();
    assert_eq!(got, vec!["b", "c"], "the worst meeting is the one left out");
    assert!(sol.unseated.is_empty());
    assert_eq!(reason(&sol, "enterprise", "busy"), Some("slots"));
    assert_eq!(reason(&sol, "result", "a"), Some("slots"));
    let busy = sol.unplaced.iter().find(|u| u.id == "busy").expect("busy");
    assert_eq!((busy.wanted, busy.got), (3, 2));
    assert!(
        busy.reason.contains("时段") && busy.reason.contains("time slots"),
        "{}",
        busy.reason
    );
}

#[test]
fn short_of_tables_keeps_forced_and_fairness_and_says_why() {
    let inst = parse_instance(
        r#"{"enterprises": [{"id": "e1", "capacity": 2}, {"id": "e2", "capacity": 1}, {"id": "e3", "capacity": 1}],
            "results": [{"id": "r1", "capacity": 1}, {"id": "r2", "capacity": 1}, {"id": "r3", "capacity": 1}, {"id": "r4", "capacity": 1}],
            "scores": [{"enterprise": "e1", "result": "r1", "score": 0.9},
                       {"enterprise": "e1", "result": "r2", "score": 0.8},
                       {"enterprise": "e2", "result": "r3", "score": 0.1},
                       {"enterprise": "e3", "result": "r4", "score": 0.5}],
            "forced": [["e2", "r3"]],
            "slots": 3, "tables": 1}"#,
    )
    .expect("parse");
    let sol = solve(&inst, &SolveOptions::default()).expect("solve");
    check_solution(&inst, &sol).expect("feasible");
    assert_eq!(
        sol.enterprises_served, 3,
        "every enterprise keeps one meeting"
    );
    let mut got: Vec<(&str, &str)> = sol
        .pairs
        .iter()
        .map(|p| (p.enterprise.as_str(), p.result.as_str()))
        .collect();
    got.sort();
    assert_eq!(got, vec![("e1", "r1"), ("e2", "r3"), ("e3", "r4")]);
    assert_eq!(reason(&sol, "enterprise", "e1"), Some("tables"));
    assert_eq!(reason(&sol, "result", "r2"), Some("tables"));
    let e1 = sol.unplaced.iter().find(|u| u.id == "e1").expect("e1");
    assert!(
        e1.reason.contains("桌") && e1.reason.contains("tables"),
        "{}",
        e1.reason
    );
}
