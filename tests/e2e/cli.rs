//! The command line: import, search and pair, run as a user would.

fn duijie(args: &[&str]) -> (i32, String, String) {
    let out = crate::helpers::binary::duijie_command()
        .args(args)
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

/// Passwords, tokens and session ids never reach the server's logs, even at debug level.
#[tokio::test]
async fn secrets_stay_out_of_the_logs() {
    use std::io::{BufRead, Write};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let mut child = crate::helpers::binary::duijie_command()
        .args([
            "admin",
            "create-user",
            "--email",
            "wu@test.example",
            "--role",
            "organizer",
        ])
        .args(["--org", "辽宁省工信厅", "--password-stdin", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("cli.log")).unwrap())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"very secret password 42\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let mut server = crate::helpers::binary::duijie_command()
        .args(["serve", "--no-demo", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("server prints its address").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break format!("http://{}", rest.split_whitespace().next().unwrap());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let jar = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = jar
        .post(format!("{base}/api/v1/sessions"))
        .json(&serde_json::json!({"email": "wu@test.example", "password": "wrong secret pw 9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = jar
        .post(format!("{base}/api/v1/sessions"))
        .json(
            &serde_json::json!({"email": "wu@test.example", "password": "very secret password 42"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let session = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("duijie_session=")
        .to_string();
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("very secret") && !body.contains("argon2"),
        "{body}"
    );
    let t: serde_json::Value = jar
        .post(format!("{base}/api/v1/me/tokens"))
        .json(&serde_json::json!({"name": "日志测试"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = t["token"].as_str().unwrap().to_string();
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/me?x=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        400,
        "unknown parameter, still authenticated first"
    );
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let _ = server.kill();
    let _ = server.wait();
    let logs = std::fs::read_to_string(&log).unwrap()
        + &std::fs::read_to_string(dir.path().join("cli.log")).unwrap();
    assert!(
        logs.contains("signed in") || logs.contains("failed sign-in"),
        "debug logs were written"
    );
    for secret in [
        "very secret password 42",
        "wrong secret pw 9",
        token.as_str(),
        session.as_str(),
    ] {
        assert!(!logs.contains(secret), "a secret is in the logs: {secret}");
    }
}
