//! Shared test helpers: the in-process launcher (`app`), the one request helper (`http`),
//! the real binary (`binary`), and the rules every test shares (error shape, CI strictness,
//! the CSL file).

mod app;
pub mod binary;
pub mod http;
pub mod mail;
pub mod people;

pub use app::*;
pub use http::send;
use serde_json::Value;

/// Whether this run must not skip anything: `CI` set to anything but empty, `0` or
/// `false`. Tests that need PostgreSQL, Chromium, tmpfs or the CSL file skip with a
/// message elsewhere, and fail here.
pub fn strict_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Asserts the error shape every client error must have, returning the code.
pub fn error_code(body: &Value) -> String {
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.code in {body}"));
    let msg = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.message in {body}"));
    assert!(!msg.is_empty(), "empty message in {body}");
    code.to_string()
}

/// The CSL evaluation file beside the repository, when present.
pub fn csl_file() -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/csl-dev.jsonl");
    if p.exists() {
        Some(p)
    } else {
        assert!(!strict_ci(), "CI is set but {} is missing", p.display());
        eprintln!("SKIPPED: {} not found", p.display());
        None
    }
}
