//! `duijie eval csl FILE`: the matching quality report on CSL-shaped paper records.
//!
//! The papers are imported through the public API into a fresh data directory (abstracts
//! as results with a neutral title, titles as needs), then the engine answers the four
//! questions of `duijie_match::eval`: abstract → own title and title → own abstract
//! (MRR@10, recall@1/@10), and the share of same-discipline papers among the top 10 for each
//! abstract and each title (P@10). `--baseline` adds plain jieba + BM25 for comparison.

use crate::startup::Application;
use anyhow::{Context as _, bail};
use duijie_app::settings::Settings;
use duijie_domain::ListingKind;
use duijie_match::eval::{self, CslPaper, CslRecord, CslReport};
use std::collections::HashMap;
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
    let papers = eval::read_jsonl(file)?;
    let extra: Vec<CslRecord> = match distractors {
        Some(p) => eval::read_jsonl(p)?,
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
    let mut ids: HashMap<String, i64> = HashMap::new();
    for kind in [ListingKind::Result, ListingKind::Need] {
        let mut after = 0;
        loop {
            let page = ctx.store.scan_texts(kind, after, 5000).await?;
            let Some(last) = page.last().map(|t| t.id) else {
                break;
            };
            after = last;
            for t in page {
                if let Some(x) = t.external_id {
                    ids.insert(x, t.id);
                }
            }
        }
    }
    let all: Vec<CslRecord> = papers.iter().chain(extra.iter()).cloned().collect();
    let matcher = ctx.matcher.clone();
    let index = ctx.index.clone();
    let threads = eval::default_threads();
    let (report, bm25, secs, bm25_secs, model) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let t = Instant::now();
            let model = matcher
                .refresh_model()
                .map_err(|e| anyhow::anyhow!(e.message_en()))?;
            let model_secs = t.elapsed().as_secs_f64();
            let list: Vec<CslPaper<'_>> = all
                .iter()
                .filter_map(|p| {
                    Some(CslPaper {
                        record: p,
                        result_id: ids.get(&format!("R:{}", p.id)).copied(),
                        need_id: *ids.get(&format!("N:{}", p.id))?,
                    })
                })
                .collect();
            let t = Instant::now();
            let report = eval::evaluate_csl(&matcher, &list, threads)
                .map_err(|e| anyhow::anyhow!(e.message_en()))?;
            let secs = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let bm25 = if baseline {
                Some(
                    eval::evaluate_csl_bm25(&index, &list, threads)
                        .map_err(|e| anyhow::anyhow!(e.message_en()))?,
                )
            } else {
                None
            };
            let bm25_secs = t.elapsed().as_secs_f64();
            Ok((report, bm25, secs, bm25_secs, (model, model_secs)))
        })
        .await??;
    let report_secs = report_start.elapsed().as_secs_f64() - bm25_secs;
    println!("semantic model: {:?} built in {:.2}s", model.0, model.1);
    print(
        &format!("duijie matching engine (queries in {secs:.2}s on {threads} threads)"),
        &report,
    );
    println!(
        "report phase after the import: {report_secs:.2}s (ids {:.2}s, model {:.2}s, queries {secs:.2}s)",
        report_secs - model.1 - secs,
        model.1
    );
    if let Some(b) = bm25 {
        print(
            &format!(
                "baseline: jieba + BM25 over the whole text ({bm25_secs:.2}s, not in the report phase)"
            ),
            &b,
        );
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}
