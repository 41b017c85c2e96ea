//! Measurements for `duijie bench` and the quality report: the pieces of a search timed
//! inside the process (the whole search, and the ranking alone), the analyser's words of a
//! text, and sizes on disk.

use crate::app::App;
use crate::error::AppError;
use std::time::{Duration, Instant};

/// The analyser's query words of a text, in order (the words a search for it would use).
pub fn query_words(ctx: &App, text: &str) -> Vec<String> {
    ctx.index
        .analyzer()
        .query_tokens(text)
        .into_iter()
        .map(|t| t.text)
        .collect()
}

/// Latencies of searches, each sorted ascending.
#[derive(Debug, Clone, Default)]
pub struct SearchTimings {
    /// The whole search: top 10 with total count, facets and highlights.
    pub full: Vec<Duration>,
    /// The ranking alone: the same text ranked the way a search ranks it, top 10, no
    /// filters, counts, facets or highlights.
    pub ranking: Vec<Duration>,
}

/// Runs each query as a whole search and as its ranking alone, off the async runtime. A
/// failing search fails the measurement (a broken search must not report fast figures).
pub async fn time_searches(ctx: &App, queries: Vec<String>) -> Result<SearchTimings, AppError> {
    let index = ctx.index.clone();
    tokio::task::spawn_blocking(move || {
        let mut t = SearchTimings::default();
        for q in &queries {
            let started = Instant::now();
            index.search(&duijie_index::SearchRequest {
                q: q.clone(),
                limit: 10,
                ..Default::default()
            })?;
            t.full.push(started.elapsed());
            let started = Instant::now();
            index
                .rank(q, 10)
                .map_err(|e| AppError::Internal(format!("ranking: {e}")))?;
            t.ranking.push(started.elapsed());
        }
        t.full.sort();
        t.ranking.sort();
        Ok(t)
    })
    .await?
}

/// Builds the matching engine's corpus statistics and semantic model now (what a server
/// does in the background after start or a bulk load) and reports what it built and how
/// long it took. Off the async runtime.
pub async fn build_matching_model(
    ctx: &App,
) -> Result<duijie_match::engine::CorpusStats, AppError> {
    let m = ctx.matcher.clone();
    Ok(tokio::task::spawn_blocking(move || m.refresh_model()).await??)
}

/// Latencies of matching texts, each an unsaved need, to their top `limit` results with the
/// explained breakdown (what a need's match list asks of the engine), sorted ascending, and
/// the number of matches returned. Off the async runtime; a failing match fails the
/// measurement.
pub async fn time_matches(
    ctx: &App,
    texts: Vec<String>,
    limit: usize,
    today: &str,
) -> Result<(Vec<Duration>, usize), AppError> {
    let m = ctx.matcher.clone();
    let opts = duijie_match::engine::MatchOptions {
        limit,
        today: Some(today.to_string()),
        ..Default::default()
    };
    tokio::task::spawn_blocking(move || {
        let mut times = Vec::with_capacity(texts.len());
        let mut returned = 0;
        for t in &texts {
            let started = Instant::now();
            returned += m
                .for_text(t, duijie_domain::ListingKind::Result, &opts)?
                .len();
            times.push(started.elapsed());
        }
        times.sort();
        Ok((times, returned))
    })
    .await?
}

/// Size of the index directory in bytes.
pub fn index_bytes(ctx: &App) -> u64 {
    ctx.index.size_bytes()
}

/// The store's latest change number.
pub async fn latest_change(ctx: &App) -> Result<i64, AppError> {
    Ok(ctx.store.max_seq().await?)
}

/// How far a consumer of the change log (`alerts`, a replica's index ...) has read.
pub async fn watermark(ctx: &App, consumer: &str) -> Result<i64, AppError> {
    Ok(ctx.store.watermark(consumer).await?)
}

/// The engine's own indexing limit on the same texts: bare tantivy with the same analyser
/// and the index's writer threads and memory, into a fresh directory `dir` (no store, no
/// term vectors, no facets). Runs off the async runtime.
pub async fn bare_indexing(
    ctx: &App,
    dir: std::path::PathBuf,
    texts: Vec<(String, String)>,
) -> Result<duijie_index::bare::BareFigures, AppError> {
    let index = ctx.index.clone();
    let (threads, memory) = ctx.index_writer_budget();
    tokio::task::spawn_blocking(move || {
        duijie_index::bare::index_texts(&dir, index.analyzer(), &texts, threads, memory)
            .map_err(|e| AppError::Internal(format!("bare indexing: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("bare indexing: {e}")))?
}
