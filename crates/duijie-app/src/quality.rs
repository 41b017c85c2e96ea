//! The matching quality report on CSL-shaped paper records (`duijie eval csl`): once the
//! papers are imported (abstracts as results, titles as needs), the engine answers the
//! questions of `duijie_match::eval`, optionally beside plain jieba + BM25.

use crate::app::App;
use crate::error::AppError;
use duijie_domain::ListingKind;
use duijie_match::eval::{self, CslPaper};
pub use duijie_match::eval::{CslRecord, CslReport, read_jsonl};
use std::collections::HashMap;
use std::time::Instant;

/// What the report phase measured.
#[derive(Debug)]
pub struct CslOutcome {
    /// The engine's figures.
    pub engine: CslReport,
    /// Plain jieba + BM25 on the same index, when asked for.
    pub bm25: Option<CslReport>,
    /// The semantic model's description and how long it took to build, seconds.
    pub model: (String, f64),
    /// Seconds for the engine's queries.
    pub engine_secs: f64,
    /// Seconds for the baseline's queries.
    pub bm25_secs: f64,
    /// Seconds reading the imported ids back.
    pub ids_secs: f64,
    /// Threads the queries ran on.
    pub threads: usize,
}

/// Runs the report over imported papers; a paper whose need was not imported is left out.
/// Imported listings carry `R:{id}` (results) and `N:{id}` (needs) as external ids.
pub async fn csl_report(
    ctx: &App,
    papers: Vec<CslRecord>,
    baseline: bool,
) -> Result<CslOutcome, AppError> {
    let started = Instant::now();
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
    let ids_secs = started.elapsed().as_secs_f64();
    let matcher = ctx.matcher.clone();
    let index = ctx.index.clone();
    let threads = eval::default_threads();
    tokio::task::spawn_blocking(move || {
        let fail = |e: duijie_match::engine::MatchError| AppError::Internal(e.message_en());
        let t = Instant::now();
        let model = matcher.refresh_model().map_err(fail)?;
        let model_secs = t.elapsed().as_secs_f64();
        let list: Vec<CslPaper<'_>> = papers
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
        let engine = eval::evaluate_csl(&matcher, &list, threads).map_err(fail)?;
        let engine_secs = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let bm25 = if baseline {
            Some(eval::evaluate_csl_bm25(&index, &list, threads).map_err(fail)?)
        } else {
            None
        };
        Ok(CslOutcome {
            engine,
            bm25,
            model: (format!("{model:?}"), model_secs),
            engine_secs,
            bm25_secs: t.elapsed().as_secs_f64(),
            ids_secs,
            threads,
        })
    })
    .await?
}
