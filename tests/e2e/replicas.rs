//! Two `duijie serve` processes on one PostgreSQL database, each with its own index
//! directory: what one writes, the other finds by search once its index has polled the
//! store's change log; a pairing lock held anywhere refuses a second generation.
//!
//! Needs PostgreSQL (`DUIJIE_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432`);
//! without one it says it was skipped, except under `CI=true`, where it fails.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a write may take to show up in the other replica's search: the index polls
/// every `index.poll_interval_ms` (500 ms here), then commits.
const VISIBLE_WITHIN: Duration = Duration::from_secs(10);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn duijie(dir: &std::path::Path, db: &str) -> Command {
    let mut c = crate::helpers::binary::duijie_command();
    c.env("DUIJIE__DATABASE__URL", db)
        .env("DUIJIE__DATA__DIR", dir)
        .env("DUIJIE__INDEX__WRITER_THREADS", "1")
        .env("DUIJIE__INDEX__POLL_INTERVAL_MS", "500");
    c
}

fn start(dir: &std::path::Path, db: &str) -> (Server, String) {
    start_with(dir, db, &[])
}

/// [`start`] with settings of the test's own (environment variables).
fn start_with(dir: &std::path::Path, db: &str, env: &[(&str, &str)]) -> (Server, String) {
    let mut c = duijie(dir, db);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut server = Server(
        c.args(["serve", "--no-demo", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start duijie"),
    );
    let stdout = server.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "server did not print its address"
        );
        let line = lines.next().expect("server exited early").expect("stdout");
        if let Some(rest) = line.split("http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_string();
            std::thread::spawn(move || for _ in lines {});
            return (server, format!("http://{addr}"));
        }
    }
}

/// An administrator's API token, made with the command line against the shared database.
fn admin_token(dir: &std::path::Path, db: &str) -> String {
    let mut child = duijie(dir, db)
        .args([
            "admin",
            "create-user",
            "--email",
            "ops@test.example",
            "--role",
            "organizer",
            "--org",
            "辽宁省教育厅",
        ])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("create-user");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let out = duijie(dir, db)
        .args(["admin", "create-token", "--email", "ops@test.example"])
        .output()
        .expect("create-token");
    assert!(out.status.success(), "create-token failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A fresh database on the test server, or `None` (skipped) when there is none outside CI.
pub(crate) async fn fresh_database(test: &str) -> Option<String> {
    let base = std::env::var("DUIJIE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    let ci = crate::helpers::strict_ci();
    let admin = match sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&format!("{base}/postgres"))
        .await
    {
        Ok(p) => p,
        Err(e) => {
            assert!(!ci, "PostgreSQL is required under CI=true: {e}");
            eprintln!("SKIPPED {test}: no PostgreSQL server at {base} ({e})");
            return None;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let db = format!("duijie_replicas_{}_{nanos}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    Some(format!("{base}/{db}"))
}

async fn search_total(client: &reqwest::Client, base: &str, q: &str) -> i64 {
    let r = client
        .get(format!(
            "{base}/api/v1/search?{}",
            serde_urlencoded::to_string([("q", q)]).unwrap()
        ))
        .send()
        .await
        .expect("search");
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    v["total"].as_i64().unwrap_or(-1)
}

/// Waits until `base` finds `q`; returns how long it took.
async fn until_found(client: &reqwest::Client, base: &str, q: &str) -> Duration {
    let t = Instant::now();
    while search_total(client, base, q).await < 1 {
        assert!(
            t.elapsed() < VISIBLE_WITHIN,
            "{q} not found on {base} within {VISIBLE_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.elapsed()
}

#[tokio::test]
async fn two_replicas_share_writes_and_never_pair_one_event_twice() {
    let Some(db) = fresh_database("two replicas on PostgreSQL").await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_a, base_a) = start(dir_a.path(), &db);
    let (_b, base_b) = start(dir_b.path(), &db);
    let token = admin_token(dir_a.path(), &db);
    let client = crate::helpers::client_with(&token);

    // written through A, found on B; and the other way round
    let r = client
        .post(format!("{base_a}/api/v1/results"))
        .json(&json!({"title": "海水淡化反渗透膜组件", "summary": "高脱盐率反渗透膜，适用于海岛供水", "industry": "new_materials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_i64().expect("the new result's id");
    assert_eq!(
        search_total(&client, &base_a, "反渗透膜").await,
        1,
        "read your writes on A"
    );
    let took = until_found(&client, &base_b, "反渗透膜").await;
    eprintln!("A → B visible after {took:?}");
    let r = client
        .post(format!("{base_b}/api/v1/needs"))
        .json(&json!({"title": "高炉煤气余热发电改造", "description": "寻求余热回收与发电技术", "industry": "metallurgy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let took = until_found(&client, &base_a, "余热发电").await;
    eprintln!("B → A visible after {took:?}");

    // a deletion through B leaves A's search too
    let r = client
        .delete(format!("{base_b}/api/v1/results/{id}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let t = Instant::now();
    while search_total(&client, &base_a, "反渗透膜").await != 0 {
        assert!(t.elapsed() < VISIBLE_WITHIN, "the deletion did not reach A");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // an event; while another process holds its pairing lock, neither replica pairs it
    let r = client
        .post(format!("{base_a}/api/v1/events"))
        .json(
            &json!({"name": "双实例对接会", "format": "fair", "date": "2027-04-25",
                      "themes": ["new_energy"], "start_time": "09:00", "slot_minutes": 20,
                      "slot_count": 2, "table_count": 2}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let event: Value = r.json().await.unwrap();
    let event_id = event["id"].as_i64().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO pairing_locks (event_id, holder, acquired_at, expires_at) \
         VALUES ($1, 'a third replica', '2026-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')",
    )
    .bind(event_id)
    .execute(&pool)
    .await
    .unwrap();
    let generate = |base: String| {
        let client = client.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/events/{event_id}/pairings:generate"))
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    for base in [&base_a, &base_b] {
        let (s, e) = generate(base.clone()).await;
        assert_eq!(s, 409, "{e}");
        assert_eq!(e["error"]["code"], "pairing_running");
        assert!(e["error"]["message"].as_str().unwrap().contains("正在生成"));
    }
    sqlx::query("DELETE FROM pairing_locks")
        .execute(&pool)
        .await
        .unwrap();
    // both at once: each either pairs or is told the other is pairing; the lock is free after
    let (ra, rb) = tokio::join!(generate(base_a.clone()), generate(base_b.clone()));
    for (s, e) in [&ra, &rb] {
        assert!(
            *s == 200 || (*s == 409 && e["error"]["code"] == "pairing_running"),
            "{s}: {e}"
        );
    }
    let paired: Vec<&Value> = [&ra, &rb]
        .into_iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert!(!paired.is_empty(), "one of them paired");
    // each success is a run of its own: two runs at once (the lock failing) would both be
    // built on the same previous version and answer the same one; the stored pairing is
    // the last of them
    let versions: std::collections::BTreeSet<i64> = paired
        .iter()
        .map(|b| b["version"].as_i64().expect("a version"))
        .collect();
    assert_eq!(versions.len(), paired.len(), "{ra:?} {rb:?}");
    let stored: i64 =
        sqlx::query_scalar("SELECT version FROM event_pairing_runs WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        Some(&stored),
        versions.iter().max(),
        "the stored run is the newest answer"
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pairing_locks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "the lock is given back");
    pool.close().await;
}

/// Five wrong passwords spread over two servers on one database lock the account on both
/// (the failure counts live in the store), even for the right password afterwards.
async fn lockout_across_two_servers(db: &str) {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    admin_token(dir_a.path(), db); // ops@test.example, "a long enough password"
    let (_a, base_a) = start(dir_a.path(), db);
    let (_b, base_b) = start(dir_b.path(), db);
    let client = reqwest::Client::new();
    let sign_in = |base: String, password: &'static str| {
        let client = client.clone();
        async move {
            client
                .post(format!("{base}/api/v1/sessions"))
                .json(&json!({"email": "ops@test.example", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..5 {
        let base = if i % 2 == 0 { &base_a } else { &base_b };
        assert_eq!(
            sign_in(base.clone(), "wrong password!!").await,
            401,
            "attempt {i}"
        );
    }
    assert_eq!(
        sign_in(base_a.clone(), "a long enough password").await,
        429,
        "locked on the first server"
    );
    assert_eq!(
        sign_in(base_b.clone(), "a long enough password").await,
        429,
        "locked on the second server too"
    );
}

#[tokio::test]
async fn failed_sign_ins_over_two_replicas_on_postgresql_lock_the_account() {
    let Some(db) = fresh_database("failed sign-ins over two replicas on PostgreSQL").await else {
        return;
    };
    lockout_across_two_servers(&db).await;
}

#[tokio::test]
async fn failed_sign_ins_over_two_servers_on_one_sqlite_file_lock_the_account() {
    let shared = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        shared.path().join("shared.db").display()
    );
    lockout_across_two_servers(&db).await;
}

/// Changes every live server has applied are compacted away; a server that was down all
/// the while comes back behind the retained log and rebuilds its index from the store,
/// finding what was written while it was gone.
async fn compaction_and_a_returning_replica(db: &str) {
    let env = [
        ("DUIJIE__INDEX__CHANGE_LOG_RETENTION_MINUTES", "0"),
        ("DUIJIE__INDEX__COMPACTION_INTERVAL_SECS", "1"),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let token = admin_token(dir_a.path(), db);
    let (_a, base_a) = start_with(dir_a.path(), db, &env);
    let (b, base_b) = start_with(dir_b.path(), db, &env);
    let client = crate::helpers::client_with(&token);
    let post = |base: String, title: &'static str| {
        let client = client.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/results"))
                .json(&json!({"title": title, "summary": "用于检验变更日志压缩的成果", "status": "published"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
        }
    };
    post(base_a.clone(), "压缩前写入的钛合金焊接成果").await;
    until_found(&client, &base_b, "钛合金焊接").await;
    drop(b); // killed
    post(base_a.clone(), "离线期间写入的稀土永磁电机成果").await;
    post(base_a.clone(), "离线期间写入的氢燃料电池成果").await;
    // wait until A has compacted the log past everything B had seen
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(db)
        .await
        .expect("the test reads the store");
    let t = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM change_log")
            .fetch_one(&pool)
            .await
            .unwrap();
        if left <= 1 {
            break;
        }
        assert!(
            t.elapsed() < VISIBLE_WITHIN,
            "the change log was not compacted ({left} left)"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let compacted: i64 =
        sqlx::query_scalar("SELECT seq FROM worker_watermarks WHERE name = 'compacted'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        compacted >= 2,
        "changes B never applied were removed ({compacted})"
    );
    pool.close().await;
    // B comes back: it cannot follow a log that lost its changes, so it rebuilds
    let (_b, base_b) = start_with(dir_b.path(), db, &env);
    until_found(&client, &base_b, "稀土永磁").await;
    until_found(&client, &base_b, "氢燃料电池").await;
    until_found(&client, &base_b, "钛合金焊接").await;
}

#[tokio::test]
async fn a_replica_back_after_compaction_rebuilds_on_postgresql() {
    let Some(db) = fresh_database("change-log compaction on PostgreSQL").await else {
        return;
    };
    compaction_and_a_returning_replica(&db).await;
}

#[tokio::test]
async fn a_server_back_after_compaction_rebuilds_on_sqlite() {
    let shared = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        shared.path().join("shared.db").display()
    );
    compaction_and_a_returning_replica(&db).await;
}
