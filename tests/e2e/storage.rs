//! A full disk or a read-only data directory: a clear error at start or on write, nothing
//! acknowledged lost, nothing corrupted, and the service carries on once space is back,
//! without a restart.
//!
//! The data directory is a small tmpfs mounted for the test, so this needs the right to
//! mount (root, as on CI). Elsewhere the tests say they were skipped; under `CI=true` they
//! never skip.

use crate::crash::{cli_token, start, status};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmpfs mounted on a temporary directory, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(test: &str, size_mb: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mb}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs {
                path: dir.path().to_path_buf(),
                _dir: dir,
            }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    !crate::helpers::strict_ci(),
                    "CI=true but a tmpfs cannot be mounted for {test}: {why}"
                );
                eprintln!(
                    "SKIPPED {test}: needs the right to mount a tmpfs (root) to fill or freeze a disk: {why}"
                );
                None
            }
        }
    }

    fn remount(&self, options: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.path)
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "remount {options}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }
}

/// A batch of listings with long, distinct summaries (they fill a disk quickly).
fn batch(b: usize, n: usize) -> String {
    (0..n)
        .map(|i| {
            let filler: String = (0..40)
                .map(|k| format!("第{b}批第{i}项的第{k}段说明：稀土催化剂低温制氢工艺放大与在线监测。"))
                .collect();
            json!({"external_id": format!("F-{b}-{i}"), "title": format!("满盘测试成果 {b}-{i}"), "summary": filler}).to_string() + "\n"
        })
        .collect()
}

async fn import(client: &reqwest::Client, base: &str, body: String) -> (u16, Value) {
    let r = client
        .post(format!("{base}/api/v1/import?kind=results"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .expect("the server answers even when its disk is full");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn total(client: &reqwest::Client, base: &str) -> i64 {
    let v: Value = client
        .get(format!("{base}/api/v1/results?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["total"].as_i64().unwrap()
}

/// Waits until the index holds exactly what the store holds.
async fn until_in_step(client: &reqwest::Client, base: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let s = status(client, base).await;
        if s["behind"] == 0 && s["store"] == s["index"] {
            return s;
        }
        assert!(Instant::now() < deadline, "the index never caught up: {s}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_cleanly_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("a_full_disk_refuses_writes_cleanly_and_loses_nothing", 12) else {
        return;
    };
    let dir = fs.path.join("data");
    let (mut server, base) = start(&dir);
    let client = crate::helpers::client_with(&cli_token(&dir));

    let mut acknowledged = 0i64;
    let mut refused = None;
    for b in 0..200 {
        let (s, r) = import(&client, &base, batch(b, 100)).await;
        match s {
            200 => acknowledged += r["imported"].as_i64().unwrap(),
            _ => {
                refused = Some((b, s, r));
                break;
            }
        }
    }
    let (failed_batch, s, r) = refused.expect("12 MiB should have filled up");
    assert!(acknowledged > 0, "nothing fitted at all");
    // a clear, retryable answer, never a 500
    assert_eq!(s, 503, "{r}");
    let code = r["error"]["code"].as_str().unwrap_or_default();
    assert!(
        ["storage_unavailable", "index_behind"].contains(&code),
        "{r}"
    );
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(msg.contains("已满") && msg.contains("full"), "{msg}");

    // reads carry on while the disk is full
    let h = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
    assert!(total(&client, &base).await >= acknowledged);
    // a single write: saved, or refused with the same clear error
    let w = client
        .post(format!("{base}/api/v1/results"))
        .json(&json!({"title": "满盘时提交的成果", "summary": "说明".repeat(2000)}))
        .send()
        .await
        .unwrap();
    let ws = w.status().as_u16();
    let wb: Value = w.json().await.unwrap_or(Value::Null);
    assert!(
        ws == 201 || (ws == 503 && wb["error"]["code"].is_string()),
        "{ws} {wb}"
    );

    // space comes back: no restart needed, the index catches up by itself
    fs.remount("size=96m");
    let s = until_in_step(&client, &base).await;
    let in_store = s["store"]["results"].as_i64().unwrap();
    assert!(in_store >= acknowledged, "acknowledged rows lost: {s}");
    // the refused batch goes through now, without duplicating what was kept of it
    let (s2, r2) = import(&client, &base, batch(failed_batch, 100)).await;
    assert_eq!(s2, 200, "{r2}");
    assert_eq!(
        r2["imported"].as_i64().unwrap() + r2["updated"].as_i64().unwrap(),
        100
    );
    let s = until_in_step(&client, &base).await;
    let after = s["store"]["results"].as_i64().unwrap();
    assert_eq!(after, in_store + r2["imported"].as_i64().unwrap(), "{s}");
    // the batch's listings are findable
    let found: Value = client
        .get(format!(
            "{base}/api/v1/results?external_id=F-{failed_batch}-99"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "{found}");

    // and a restart finds store and index in step
    server.kill9();
    let (_server, base) = start(&dir);
    let s = until_in_step(&client, &base).await;
    assert_eq!(s["store"]["results"].as_i64().unwrap(), after);
}

fn serve_once(dir: &Path) -> std::process::Output {
    crate::helpers::binary::duijie_command()
        .args(["serve", "--no-demo", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run duijie")
}

#[tokio::test]
async fn a_read_only_data_directory_is_a_clear_error_at_start() {
    let Some(fs) = Tmpfs::mount("a_read_only_data_directory_is_a_clear_error_at_start", 64) else {
        return;
    };
    let dir = fs.path.join("data");
    let (mut server, base) = start(&dir);
    let client = crate::helpers::client_with(&cli_token(&dir));
    let (s, r) = import(&client, &base, batch(0, 50)).await;
    assert_eq!(s, 200, "{r}");
    server.kill9();

    fs.remount("ro");
    let out = serve_once(&dir);
    assert!(!out.status.success(), "started on a read-only directory");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("无法写入") && err.contains("cannot be written") && err.contains("Read-only"),
        "unclear message: {err}"
    );
    // the command line's writers say the same
    let out = crate::helpers::binary::duijie_command()
        .args(["reindex", "--data-dir"])
        .arg(&dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be written"));

    // writable again: everything is there, store and index in step
    fs.remount("rw");
    let (_server, base) = start(&dir);
    let s = until_in_step(&client, &base).await;
    assert_eq!(s["store"]["results"], 50, "{s}");
    assert_eq!(total(&client, &base).await, 50);
}
