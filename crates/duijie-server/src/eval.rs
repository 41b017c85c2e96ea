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

/// Lowest figures the report accepts (`None`: not checked).
#[derive(Debug, Clone, Copy, Default)]
pub struct Floors {
    /// Known-item MRR@10, both directions.
    pub mrr: Option<f64>,
    /// Same-discipline P@10 of abstracts.
    pub p10_abstract: Option<f64>,
    /// Same-discipline P@10 of titles.
    pub p10_title: Option<f64>,
}

impl Floors {
    /// The figures below their floor, as lines to print.
    pub fn failures(&self, r: &CslReport) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str, value: f64, floor: Option<f64>| {
            if let Some(f) = floor
                && (value.is_nan() || value < f)
            {
                out.push(format!("{name} {value:.3} is below the floor {f:.3}"));
            }
        };
        check(
            "abstract → own title MRR@10",
            r.abstract_to_title.mrr_at_10,
            self.mrr,
        );
        check(
            "title → own abstract MRR@10",
            r.title_to_abstract.mrr_at_10,
            self.mrr,
        );
        check(
            "abstract → abstracts same-discipline P@10",
            r.abstract_p10,
            self.p10_abstract,
        );
        check(
            "title → abstracts same-discipline P@10",
            r.title_p10,
            self.p10_title,
        );
        out
    }
}

/// Runs the report. `distractors`: extra CSL-shaped records whose titles are added as needs
/// only. Exits with status 3 when a figure is below its floor.
pub async fn run(
    mut s: Settings,
    file: &Path,
    distractors: Option<&Path>,
    baseline: bool,
    floors: Floors,
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
    let failures = floors.failures(&out.engine);
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("质量低于下限 / quality below the floor: {f}");
        }
        std::process::exit(3);
    }
    if floors.mrr.is_some() || floors.p10_abstract.is_some() || floors.p10_title.is_some() {
        println!("quality floors: all figures at or above their floors");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_name_each_figure_below_them() {
        let mut r = CslReport::default();
        r.abstract_to_title.mrr_at_10 = 0.97;
        r.title_to_abstract.mrr_at_10 = 0.95;
        r.abstract_p10 = 0.30;
        r.title_p10 = f64::NAN;
        let floors = Floors {
            mrr: Some(0.96),
            p10_abstract: Some(0.28),
            p10_title: Some(0.24),
        };
        let f = floors.failures(&r);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            f[0].starts_with("title → own abstract MRR@10 0.950"),
            "{f:?}"
        );
        assert!(f[1].contains("titles") || f[1].contains("title →"), "{f:?}");
        assert!(Floors::default().failures(&r).is_empty());
    }
}
