//! `duijie eval csl FILE`: the matching quality report on CSL-shaped paper records.
//!
//! The papers are imported through the public API into a fresh data directory (abstracts
//! as results with a neutral title, titles as needs), then the engine answers the four
//! questions of `duijie_match::eval`: abstract → own title and title → own abstract
//! (MRR@10, recall@1/@10), and the share of same-discipline papers among the top 10 for each
//! abstract and each title (P@10). `--baseline` adds plain jieba + BM25 for comparison.

use crate::startup::Application;
use anyhow::{Context as _, bail};
use duijie_app::quality::{CslRecord, CslReport};
use duijie_app::settings::Settings;
use std::path::Path;
use std::time::Instant;

fn jsonl<'a>(items: impl Iterator<Item = serde_json::Value> + 'a) -> String {
    items.map(|v| v.to_string() + "\n").collect()
}

async fn import(
    client: &reqwest::Client,
    base: &str,
    kind: &str,
    body: String,
) -> anyhow::Result<serde_json::Value> {
    let r = client
        .post(format!("{base}/api/v1/import?kind={kind}"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .context("import request")?;
    let status = r.status();
    let v: serde_json::Value = r.json().await?;
    if !status.is_success() {
        bail!("import of {kind} answered {status}: {v}");
    }
    Ok(v)
}

fn print(name: &str, r: &CslReport) {
    println!("{name}");
    println!(
        "  abstract → own title:     MRR@10 {:.3}  R@1 {:.3}  R@10 {:.3}  ({} queries, p50 {:.2} ms, p99 {:.2} ms)",
        r.abstract_to_title.mrr_at_10,
        r.abstract_to_title.recall_at_1,
        r.abstract_to_title.recall_at_10,
        r.abstract_to_title.queries,
        r.latency[0].p50_ms,
        r.latency[0].p99_ms
    );
    println!(
        "  title → own abstract:     MRR@10 {:.3}  R@1 {:.3}  R@10 {:.3}  ({} queries, p50 {:.2} ms, p99 {:.2} ms)",
        r.title_to_abstract.mrr_at_10,
        r.title_to_abstract.recall_at_1,
        r.title_to_abstract.recall_at_10,
        r.title_to_abstract.queries,
        r.latency[1].p50_ms,
        r.latency[1].p99_ms
    );
    println!(
        "  abstract → abstracts:     same-discipline P@10 {:.3}  (p50 {:.2} ms)",
        r.abstract_p10, r.latency[2].p50_ms
    );
    println!(
        "  title → abstracts:        same-discipline P@10 {:.3}  (p50 {:.2} ms)",
        r.title_p10, r.latency[3].p50_ms
    );
}

/// Runs the report. `distractors`: extra CSL-shaped records whose titles are added as needs
/// only.
pub async fn run(
    mut s: Settings,
    file: &Path,
    distractors: Option<&Path>,
    baseline: bool,
) -> anyhow::Result<()> {
    let papers = duijie_app::quality::read_jsonl(file)?;
    let extra: Vec<CslRecord> = match distractors {
        Some(p) => duijie_app::quality::read_jsonl(p)?,
        None => Vec::new(),
    };
    if papers.is_empty() {
        bail!("{} holds no records", file.display());
    }
    let dir = tempfile::tempdir()?;
    s.data.dir = dir.path().to_path_buf();
    s.database.url = String::new();
    s.demo.load = false;
    s.server.bind = "127.0.0.1:0".into();
    let app = Application::build(s).await?;
    let base = format!("http://{}", app.addr());
    let ctx = app.context().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    // imports go through the public API, which needs an account with the right to import
    let token = duijie_app::accounts::local_admin_token(&ctx, "eval")
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
    let t = Instant::now();
    let results = jsonl(papers.iter().filter(|p| !p.abstract_text.trim().is_empty()).map(|p| {
        serde_json::json!({"external_id": format!("R:{}", p.id), "title": p.id, "summary": p.abstract_text})
    }));
    let r = import(&client, &base, "results", results).await?;
    let needs = jsonl(papers.iter().chain(extra.iter()).map(|p| serde_json::json!({"external_id": format!("N:{}", p.id), "title": p.title, "description": p.title})));
    let n = import(&client, &base, "needs", needs).await?;
    println!(
        "imported through the API in {:.1}s: {} results (abstracts), {} needs (titles{})",
        t.elapsed().as_secs_f64(),
        r["imported"],
        n["imported"],
        if extra.is_empty() {
            String::new()
        } else {
            format!(", {} of them distractors", extra.len())
        }
    );

    // the report phase: everything after the import
    let report_start = Instant::now();
    let all: Vec<CslRecord> = papers.iter().chain(extra.iter()).cloned().collect();
    let out = duijie_app::quality::csl_report(&ctx, all, baseline)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = out.engine_secs;
    let threads = out.threads;
    let report_secs = report_start.elapsed().as_secs_f64() - out.bm25_secs;
    println!(
        "semantic model: {} built in {:.2}s",
        out.model.0, out.model.1
    );
    print(
        &format!("duijie matching engine (queries in {secs:.2}s on {threads} threads)"),
        &out.engine,
    );
    println!(
        "report phase after the import: {report_secs:.2}s (ids {:.2}s, model {:.2}s, queries {secs:.2}s)",
        out.ids_secs, out.model.1
    );
    if let Some(b) = &out.bm25 {
        print(
            &format!(
                "baseline: jieba + BM25 over the whole text ({:.2}s, not in the report phase)",
                out.bm25_secs
            ),
            b,
        );
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}
