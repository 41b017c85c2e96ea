//! Measures analysis speed on real Chinese abstracts: `cargo run --release -p duijie-text
//! --example tokenize_speed [FILE]` (default ../shared/eval/csl-dev.jsonl). Prints MB/s for
//! index-mode and query-mode tokens.

use duijie_text::{Analyzer, AnalyzerConfig};
use std::time::Instant;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/eval/csl-dev.jsonl".to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let dict = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/dict/user.dict"
    ));
    let t = Instant::now();
    let a = Analyzer::new(&AnalyzerConfig {
        hmm: false,
        user_dict: Some(dict),
    })
    .expect("analyzer");
    println!(
        "dictionary loaded in {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let bytes = text.len() as f64;
    for (name, f) in [
        (
            "index",
            Analyzer::index_tokens as fn(&Analyzer, &str) -> Vec<duijie_text::Token>,
        ),
        ("query", Analyzer::query_tokens),
    ] {
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..5 {
            for line in text.lines() {
                n += f(&a, line).len();
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{name} mode: {:.1} MB/s, {} tokens",
            5.0 * bytes / s / 1e6,
            n / 5
        );
    }
}
