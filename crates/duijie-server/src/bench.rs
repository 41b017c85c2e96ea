//! `duijie bench`: import and search speed at province scale, measured through the real
//! API path. Prints figures; asserts nothing (timings are not tests).
//!
//! Listings are built from the CSL paper file (`../shared/eval/csl-dev.jsonl` by default):
//! titles and abstract sentences of different papers are recombined into ~600-character
//! summaries, so the text is real Chinese technical prose at the volume a province has.
//! Without the file, sentences are generated from the demo data instead.

use crate::startup::Application;
use anyhow::Context as _;
use duijie_app::diagnostics;
use duijie_app::settings::Settings;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Benchmark options.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Number of listings to import.
    #[arg(long, default_value_t = 100_000)]
    pub listings: usize,
    /// Number of search queries to time.
    #[arg(long, default_value_t = 2_000)]
    pub queries: usize,
    /// Number of need texts to match (top 20 results each, with the breakdown); 0 skips
    /// matching and the semantic model.
    #[arg(long, default_value_t = 500)]
    pub matches: usize,
    /// CSL-shaped JSONL file giving the text.
    #[arg(long, default_value = "../shared/eval/csl-dev.jsonl")]
    pub source: PathBuf,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn corpus(args: &BenchArgs) -> (Vec<String>, Vec<String>) {
    let mut titles = Vec::new();
    let mut sentences = Vec::new();
    if let Ok(text) = std::fs::read_to_string(&args.source) {
        for line in text.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(t) = v["title"].as_str() {
                    titles.push(t.to_string());
                }
                if let Some(a) = v["abstract"].as_str() {
                    sentences.extend(
                        a.split_inclusive('。')
                            .filter(|s| s.chars().count() > 8)
                            .map(str::to_string),
                    );
                }
            }
        }
    }
    if titles.is_empty() || sentences.is_empty() {
        eprintln!(
            "{} not readable: using the demo data's text instead",
            args.source.display()
        );
        let d = duijie_app::demo::generate();
        titles = d
            .results
            .iter()
            .map(|r| r.title.clone())
            .chain(d.needs.iter().map(|n| n.title.clone()))
            .collect();
        sentences = d
            .results
            .iter()
            .map(|r| r.summary.as_str())
            .chain(d.needs.iter().map(|n| n.description.as_str()))
            .flat_map(|s| {
                s.split_inclusive('。')
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    (titles, sentences)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Resident memory in MiB: total, peak, and the total's anonymous (heap) and file-backed
/// (mapped index files) parts.
fn rss_mib() -> (f64, f64, f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (
        field("VmRSS:"),
        field("VmHWM:"),
        field("RssAnon:"),
        field("RssFile:"),
    )
}

/// Runs the benchmark in a temporary data directory.
pub async fn run(mut s: Settings, args: BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    s.data.dir = dir.path().to_path_buf();
    s.database.url = String::new();
    s.demo.load = false;
    s.server.bind = "127.0.0.1:0".into();
    let (titles, sentences) = corpus(&args);
    let mut rng = Rng(20261123);
    let file = dir.path().join("bench.jsonl");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for i in 0..args.listings {
            let title = format!("{}（{}）", titles[rng.below(titles.len())], i);
            let mut summary = String::new();
            while summary.chars().count() < 600 {
                summary.push_str(&sentences[rng.below(sentences.len())]);
            }
            let summary: String = summary.chars().take(700).collect();
            serde_json::to_writer(
                &mut w,
                &serde_json::json!({"external_id": format!("B-{i}"), "title": title, "summary": summary, "industry": "new_materials"}),
            )?;
            w.write_all(b"\n")?;
        }
    }
    let body = std::fs::read(&file)?;
    let mb = body.len() as f64 / 1e6;
    println!(
        "listings: {} ({mb:.1} MB of JSONL, ~{} chars each)",
        args.listings,
        body.len() / args.listings.max(1) / 3
    );

    let app = Application::build(s.clone()).await?;
    let addr = app.addr();
    let ctx = app.context().clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stop_rx.await;
    }));
    // imports go through the public API, which needs an account with the right to import
    let token = duijie_app::accounts::local_admin_token(&ctx, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()?;
    let started = Instant::now();
    let resp = client
        .post(format!("http://{addr}/api/v1/import?kind=results"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .context("import request")?;
    let status = resp.status();
    let summary: serde_json::Value = resp.json().await?;
    let secs = started.elapsed().as_secs_f64();
    // a failed or partial import would make fast figures of nothing
    if !status.is_success() || summary["imported"].as_u64() != Some(args.listings as u64) {
        anyhow::bail!(
            "the benchmark import did not take every listing ({status}): {}",
            summary
        );
    }
    let import_rate = args.listings as f64 / secs;
    println!(
        "import (HTTP, store + index, searchable on return): {secs:.2}s → {:.0} listings/s, {:.1} MB/s [{status}, imported {}]",
        import_rate,
        mb / secs,
        summary["imported"]
    );

    // queries of 1–4 consecutive words of real titles, timed inside the server process
    let mut queries = Vec::with_capacity(args.queries);
    while queries.len() < args.queries {
        let toks = diagnostics::query_words(&ctx, &titles[rng.below(titles.len())]);
        if toks.is_empty() {
            continue;
        }
        let n = 1 + rng.below(4).min(toks.len() - 1);
        let start = rng.below(toks.len() - n + 1);
        queries.push(toks[start..start + n].join(""));
    }
    let timings = diagnostics::time_searches(&ctx, queries)
        .await
        .map_err(|e| anyhow::anyhow!("search failed during the benchmark: {e}"))?;
    let (lat, bare_rank) = (timings.full, timings.ranking);
    println!(
        "search (1–4 words, top 10 with facets and highlights, server side): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms over {} queries",
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        percentile(&lat, 0.99),
        lat.len()
    );
    println!(
        "  of which ranking alone (text query, top 10): p50 {:.2} ms, p99 {:.2} ms; the rest is filters, total count, facet counts, stored fields and highlights",
        percentile(&bare_rank, 0.5),
        percentile(&bare_rank, 0.99)
    );
    println!(
        "index size: {:.1} MiB; database: {:.1} MiB",
        diagnostics::index_bytes(&ctx) as f64 / (1 << 20) as f64,
        file_mib(&dir.path().join("duijie.db"))
    );
    let (rss, hwm, anon, mapped) = rss_mib();
    println!(
        "memory: RSS {rss:.0} MiB, peak {hwm:.0} MiB (heap {anon:.0} MiB, mapped files {mapped:.0} MiB)"
    );

    if args.matches > 0 {
        // the semantic model a server builds in the background after a bulk import, then
        // needs of a title and two to four sentences matched to their top 20 results
        let model = diagnostics::build_matching_model(&ctx)
            .await
            .map_err(|e| anyhow::anyhow!("the semantic model failed to build: {e}"))?;
        println!(
            "semantic model: built in {:.1} s ({} listings, {} terms, {} in the model × {} dims; {} listings' vectors kept, {:.0} MiB)",
            model.build_time.as_secs_f64(),
            model.docs,
            model.terms,
            model.semantic_terms,
            model.dims,
            model.cached_docs,
            model.cache_bytes as f64 / (1 << 20) as f64
        );
        let needs: Vec<String> = (0..args.matches)
            .map(|_| {
                let mut text = titles[rng.below(titles.len())].clone();
                text.push('。');
                for _ in 0..2 + rng.below(3) {
                    text.push_str(&sentences[rng.below(sentences.len())]);
                }
                text
            })
            .collect();
        let (times, returned) = diagnostics::time_matches(&ctx, needs, 20, "2026-11-23")
            .await
            .map_err(|e| anyhow::anyhow!("matching failed during the benchmark: {e}"))?;
        println!(
            "match (need text → top 20 results with breakdown, server side): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms over {} needs ({:.1} matches each)",
            percentile(&times, 0.5),
            percentile(&times, 0.9),
            percentile(&times, 0.99),
            times.len(),
            returned as f64 / times.len().max(1) as f64
        );
        let (rss, hwm, anon, mapped) = rss_mib();
        println!(
            "memory with the matching model: RSS {rss:.0} MiB, peak {hwm:.0} MiB (heap {anon:.0} MiB, mapped files {mapped:.0} MiB)"
        );
    }

    // the engine's own limit on the same texts, read back from the file after the memory
    // figure so the texts do not count in it
    let mut texts = Vec::with_capacity(args.listings);
    for line in std::fs::read_to_string(&file)?.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        texts.push((
            v["title"].as_str().unwrap_or_default().to_string(),
            v["summary"].as_str().unwrap_or_default().to_string(),
        ));
    }
    let (threads, _) = ctx.index_writer_budget();
    let bare = diagnostics::bare_indexing(&ctx, dir.path().join("bare-index"), texts)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "bare tantivy + jieba: {:.0} docs/s (the same texts and analyser, {threads} indexing threads, title and body only, no store: {} docs in {:.2}s)",
        bare.docs_per_sec(),
        bare.docs,
        bare.elapsed.as_secs_f64()
    );
    let (p50, rank50) = (percentile(&lat, 0.5), percentile(&bare_rank, 0.5));
    println!(
        "ratios: import {:.2} × bare indexing (target ≥ 0.8); search p50 {:.2} × ranking alone (target ≤ 1.5)",
        import_rate / bare.docs_per_sec().max(1e-9),
        p50 / rank50.max(1e-9)
    );
    let _ = stop_tx.send(());
    server.await??;
    drop(ctx);

    // start-up with the listings in place (store opened, migrations checked, index caught up)
    // the previous instance's indexer lets go of the index writer once its last handle is gone
    let t = Instant::now();
    let app = loop {
        match Application::build(s.clone()).await {
            Err(e) if e.index_locked().is_some() && t.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => break other?,
        }
    };
    println!(
        "start with {} listings: {:.2}s",
        args.listings,
        t.elapsed().as_secs_f64()
    );
    drop(app);
    Ok(())
}

fn file_mib(p: &std::path::Path) -> f64 {
    std::fs::metadata(p)
        .map(|m| m.len() as f64 / (1 << 20) as f64)
        .unwrap_or(0.0)
}
