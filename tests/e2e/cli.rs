//! The command line: import, search and pair, run as a user would.

use std::process::Command;

fn duijie(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_duijie"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run duijie");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_then_search_then_reindex() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("needs.csv");
    std::fs::write(&file, "external_id,title,description,industry\nC-1,船体分段焊接变形控制,焊接变形大需要矫正,船舶制造\nC-2,坏行,,不存在的行业\n").unwrap();
    let d = data.to_str().unwrap();
    let (code, out, err) = duijie(&[
        "import",
        "--kind",
        "needs",
        "--data-dir",
        d,
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "a partly failed import exits 2: {out} {err}");
    assert!(
        out.contains("1 imported") && out.contains("1 failed"),
        "{out}"
    );
    assert!(err.contains("line 3"), "{err}");
    let (code, out, _) = duijie(&["search", "焊接变形", "--kind", "needs", "--data-dir", d]);
    assert_eq!(code, 0);
    assert!(out.contains("船体分段焊接变形控制"), "{out}");
    let (code, out, err) = duijie(&["reindex", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 documents"), "{out}");
    let (code, _, err) = duijie(&[
        "import",
        "--kind",
        "patents",
        "--data-dir",
        d,
        file.to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown kind"), "{err}");
}

#[test]
fn pair_solves_and_refuses_bad_instances() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("instance.json");
    let output = dir.path().join("result.json");
    std::fs::write(
        &input,
        r#"{"enterprises": [{"id": "e1", "capacity": 1}, {"id": "e2", "capacity": 1}],
            "results": [{"id": "r1", "capacity": 1}, {"id": "r2", "capacity": 1}],
            "scores": [{"enterprise": "e1", "result": "r1", "score": 0.9}, {"enterprise": "e1", "result": "r2", "score": 0.8},
                       {"enterprise": "e2", "result": "r1", "score": 0.7}],
            "slots": 2, "tables": 2}"#,
    )
    .unwrap();
    let (code, _, err) = duijie(&[
        "pair",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let sol: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    // fairness first: both enterprises served (e1–r2, e2–r1 = 1.5) rather than the best single pair
    assert_eq!(sol["enterprises_served"], 2);
    assert!(
        (sol["total_score"].as_f64().unwrap() - 1.5).abs() < 1e-9,
        "{sol}"
    );
    std::fs::write(&input, r#"{"enterprises": [{"id": "e1", "capacity": -1}], "results": [], "scores": [], "slots": 1, "tables": 1}"#).unwrap();
    let (code, _, err) = duijie(&["pair", "--input", input.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("negative_capacity"), "{err}");
    std::fs::write(
        &input,
        r#"{"enterprises": [], "results": [], "scores": [], "slots": 0, "tables": 1}"#,
    )
    .unwrap();
    let (code, _, err) = duijie(&["pair", "--input", input.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("slots"), "{err}");
}
