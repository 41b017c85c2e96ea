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
fn unseated_for_lack_of_slots_names_the_participant() {
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
    assert_eq!(sol.pairs.len(), 2);
    assert_eq!(sol.unseated.len(), 1);
    let u = &sol.unseated[0];
    assert_eq!(u.result, "a", "the worst meeting is the one left out");
    assert!(u.reason.contains("时段不足") && u.reason.contains("not enough time slots"));
    assert!(u.reason.contains("busy") && u.reason.contains('3') && u.reason.contains('2'));
    // Unseated meetings still count as assigned: nobody is reported short.
    assert!(sol.unplaced.is_empty());
}

#[test]
fn unseated_for_lack_of_tables_keeps_forced_and_fairness() {
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
    assert_eq!(sol.unseated.len(), 1);
    assert_eq!(
        (
            sol.unseated[0].enterprise.as_str(),
            sol.unseated[0].result.as_str()
        ),
        ("e1", "r2")
    );
    assert!(
        sol.unseated[0].reason.contains("桌位不足")
            && sol.unseated[0].reason.contains("not enough tables")
    );
}
