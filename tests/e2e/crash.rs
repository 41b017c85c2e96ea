//! kill -9 during a bulk import, then restart: the index holds exactly what the store
//! holds, and the same import run again completes without duplicates.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server process; killed (SIGKILL) and reaped when dropped, so a failing assertion
/// never leaves a server running.
pub(crate) struct Server(Child);

impl Server {
    /// True while the process runs.
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }

    pub(crate) fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub(crate) fn start(dir: &std::path::Path) -> (Server, String) {
    start_with(dir, None)
}

/// `duijie` with the data directory and, for PostgreSQL, the database URL.
fn duijie(dir: &std::path::Path, db: Option<&str>) -> Command {
    let mut c = crate::helpers::binary::duijie_command();
    c.arg("--data-dir").arg(dir);
    if let Some(url) = db {
        c.args(["--database-url", url]);
    }
    c
}

/// Starts `duijie serve` on SQLite in `dir`, or on the PostgreSQL database `db` with its
/// index in `dir`.
pub(crate) fn start_with(dir: &std::path::Path, db: Option<&str>) -> (Server, String) {
    start_command(duijie(dir, db))
}

/// Starts `duijie serve` on SQLite in `dir` with settings of the test's own (environment
/// variables set by `configure`).
pub(crate) fn start_configured(
    dir: &std::path::Path,
    configure: impl Fn(&mut Command),
) -> (Server, String) {
    let mut c = duijie(dir, None);
    configure(&mut c);
    start_command(c)
}

fn start_command(mut c: Command) -> (Server, String) {
    let mut server = Server(
        c.args(["serve", "--no-demo", "--bind", "127.0.0.1:0"])
            .env("DUIJIE__INDEX__WRITER_THREADS", "1")
            .env("DUIJIE__IMPORT__BATCH_SIZE", "200")
            .env("RUST_LOG", "warn")
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
        let line = lines
            .next()
            .expect("server exited early")
            .expect("read stdout");
        if let Some(rest) = line.split("http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_string();
            // keep draining stdout so the server never blocks on it
            std::thread::spawn(move || for _ in lines {});
            return (server, format!("http://{addr}"));
        }
    }
}

/// Creates an organiser with the command line (while the server runs) and returns a new
/// API token for it: the token must be the only thing on standard output.
pub(crate) fn cli_token(dir: &std::path::Path) -> String {
    cli_token_with(dir, None)
}

/// [`cli_token`] on SQLite or PostgreSQL.
pub(crate) fn cli_token_with(dir: &std::path::Path, db: Option<&str>) -> String {
    use std::io::Write;
    let mut child = duijie(dir, db)
        .args(["admin", "create-user"])
        .args([
            "--email",
            "Ops@Test.example",
            "--role",
            "organizer",
            "--org",
            "辽宁省教育厅",
            "--password-stdin",
        ])
        .env("RUST_LOG", "warn")
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
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "create-user failed");
    let user: Value = serde_json::from_slice(&out.stdout).expect("create-user prints the user");
    assert_eq!(user["email"], "ops@test.example");
    assert_eq!(user["role"], "organizer");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("a long enough password"));
    let out = duijie(dir, db)
        .args(["admin", "create-token"])
        .args(["--email", "ops@test.example"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("create-token");
    assert!(out.status.success(), "create-token failed");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the token: {stdout}");
    let token = stdout.trim().to_string();
    assert!(token.starts_with("dj_") && token.len() > 40, "{token}");
    // an unknown user is a clear failure
    let out = duijie(dir, db)
        .args(["admin", "create-token"])
        .args(["--email", "nobody@test.example"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    token
}

fn body(n: usize) -> String {
    (0..n)
        .map(|i| {
            json!({"external_id": format!("K-{i}"), "title": format!("船舶焊接机器人离线编程 {i}"), "summary": "针对船体分段焊接的机器人离线编程与焊缝跟踪。".repeat(8)}).to_string() + "\n"
        })
        .collect()
}

pub(crate) async fn status(client: &reqwest::Client, base: &str) -> Value {
    client
        .get(format!("{base}/api/v1/admin/index"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn kill_during_import_then_restart_is_consistent_and_reimport_completes() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let payload = body(n);
    let (mut child, base) = start(dir.path());
    let client = crate::helpers::client_with(&cli_token(dir.path()));
    // writes without a token are refused
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/import?kind=results"))
        .header("content-type", "application/x-ndjson")
        .body(body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let c2 = client.clone();
    let url = format!("{base}/api/v1/import?kind=results");
    let p2 = payload.clone();
    let import = tokio::spawn(async move {
        c2.post(url)
            .header("content-type", "application/x-ndjson")
            .body(p2)
            .send()
            .await
    });
    // wait until part of the import is committed, then kill -9
    let started = Instant::now();
    loop {
        let st = status(&client, &base).await;
        if st["store"]["results"].as_u64().unwrap_or(0) > 1000
            || started.elapsed() > Duration::from_secs(60)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill9();
    let _ = import.await;

    let (mut child, base) = start(dir.path());
    let st = status(&client, &base).await;
    let stored = st["store"]["results"].as_u64().unwrap();
    assert!(
        stored > 0 && stored < n as u64,
        "the kill landed mid-import: {st}"
    );
    assert_eq!(
        st["index"]["results"], st["store"]["results"],
        "after restart the index holds what the store holds: {st}"
    );
    assert_eq!(st["behind"], 0);

    let r: Value = client
        .post(format!("{base}/api/v1/import?kind=results"))
        .header("content-type", "application/x-ndjson")
        .body(payload)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["failed"], 0, "{r}");
    assert_eq!(
        r["imported"].as_u64().unwrap() + r["updated"].as_u64().unwrap(),
        n as u64
    );
    assert_eq!(
        r["updated"].as_u64().unwrap(),
        stored,
        "what was stored before the kill is updated, not duplicated"
    );
    let st = status(&client, &base).await;
    assert_eq!(
        (
            st["store"]["results"].as_u64(),
            st["index"]["results"].as_u64()
        ),
        (Some(n as u64), Some(n as u64)),
        "{st}"
    );
    child.kill9();
}

/// `n` records of round `round` (their own external ids).
fn round_body(round: usize, n: usize) -> String {
    (0..n)
        .map(|i| {
            json!({"external_id": format!("R{round}-{i}"), "title": format!("海上风电叶片检测 {round}-{i}"), "summary": "无人机巡检风电叶片表面缺陷识别。".repeat(4)}).to_string() + "\n"
        })
        .collect()
}

/// Twenty rounds on one data directory: start, bulk import, kill -9 at a random moment,
/// restart; after every round the index holds exactly what the store holds, and the same
/// import run again completes without duplicates. The seed is printed so a failure can be
/// replayed with `DUIJIE_CRASH_SEED`.
#[tokio::test]
async fn twenty_kills_at_random_moments_lose_nothing_and_duplicate_nothing() {
    twenty_kills(None).await;
}

/// The same twenty rounds with the store on PostgreSQL (the index stays in the directory).
#[tokio::test]
async fn twenty_kills_on_postgresql_lose_nothing_and_duplicate_nothing() {
    let Some(db) = crate::replicas::fresh_database("twenty kills on PostgreSQL").await else {
        return;
    };
    twenty_kills(Some(&db)).await;
}

async fn twenty_kills(db: Option<&str>) {
    const ROUNDS: usize = 20;
    const N: usize = 1_500;
    let seed: u64 = std::env::var("DUIJIE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    eprintln!("crash rounds: DUIJIE_CRASH_SEED={seed}");
    let mut rng = seed | 1;
    let mut next = move || {
        // xorshift64
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = start_with(dir.path(), db);
    let client = crate::helpers::client_with(&cli_token_with(dir.path(), db));
    drop(first);
    let mut mid_import = 0;
    for round in 0..ROUNDS {
        let (mut child, base) = start_with(dir.path(), db);
        let before = round * N;
        let payload = round_body(round, N);
        // kill after 0..N records of this round are stored (0: right at the start)
        let kill_at = before + (next() % N as u64) as usize;
        let url = format!("{base}/api/v1/import?kind=results");
        let (c2, p2) = (client.clone(), payload.clone());
        let import = tokio::spawn(async move {
            c2.post(url)
                .header("content-type", "application/x-ndjson")
                .body(p2)
                .send()
                .await
        });
        let started = Instant::now();
        loop {
            let st = status(&client, &base).await;
            if st["store"]["results"].as_u64().unwrap_or(0) as usize >= kill_at
                || import.is_finished()
                || started.elapsed() > Duration::from_secs(60)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill9();
        let _ = import.await;

        let (mut child, base) = start_with(dir.path(), db);
        let st = status(&client, &base).await;
        let stored = st["store"]["results"].as_u64().unwrap() as usize;
        assert!(
            (before..=before + N).contains(&stored),
            "round {round}: earlier rounds intact: {st}"
        );
        if stored < before + N {
            mid_import += 1;
        }
        assert_eq!(
            st["index"]["results"], st["store"]["results"],
            "round {round} (seed {seed}): the index holds what the store holds: {st}"
        );
        assert_eq!(st["behind"], 0, "round {round}: {st}");
        let r: Value = client
            .post(format!("{base}/api/v1/import?kind=results"))
            .header("content-type", "application/x-ndjson")
            .body(payload)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["failed"], 0, "round {round}: {r}");
        assert_eq!(
            r["updated"].as_u64().unwrap() as usize,
            stored - before,
            "round {round}: what was stored before the kill is updated, not duplicated"
        );
        let st = status(&client, &base).await;
        let want = ((round + 1) * N) as u64;
        assert_eq!(
            (
                st["store"]["results"].as_u64(),
                st["index"]["results"].as_u64()
            ),
            (Some(want), Some(want)),
            "round {round}: {st}"
        );
        child.kill9();
    }
    assert!(
        mid_import >= ROUNDS / 2,
        "most kills should land mid-import ({mid_import} of {ROUNDS}); the import is too fast for the test"
    );
}
