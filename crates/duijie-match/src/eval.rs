//! Quality measurement on CSL-shaped paper records (Chinese Scientific Literature:
//! `{id, title, abstract, keywords, discipline, category}`, one JSON object a line).
//!
//! Papers stand in for listings: an abstract is a research result with a *neutral* title
//! (the paper id, so the title's words are not in the result), a title is a short need whose
//! description is the title again ([`result_listing`], [`need_listing`]). Two questions:
//!
//! * **Known item**: an abstract should find its own title among all needs, a title its own
//!   abstract among all results: [`known_item`] gives MRR@10, recall@1 and recall@10.
//! * **Topical coherence**: the results proposed for an abstract (other than itself) or for
//!   a title (other than its own abstract) should come from the same discipline:
//!   [`same_label_precision`] gives P@10.
//!
//! [`evaluate_csl`] runs all four measurements with the [`Matcher`]; [`evaluate_csl_bm25`]
//! runs them with plain BM25 search (the whole source text as the query) as the baseline.

use crate::engine::{MatchError, MatchOptions, Matcher};
use duijie_domain::{ListingKind, ListingText};
use duijie_index::{SearchIndex, SearchRequest};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// One paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CslRecord {
    /// Paper id, e.g. `csl-dev-0000`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Abstract.
    #[serde(rename = "abstract")]
    pub abstract_text: String,
    /// Author keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Discipline (67 of them).
    #[serde(default)]
    pub discipline: String,
    /// Category (13 of them).
    #[serde(default)]
    pub category: String,
}

/// A malformed input line or an unreadable file.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The file cannot be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// File.
        path: String,
        /// Why.
        message: String,
    },
    /// A line is not a CSL record.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// Why.
        message: String,
    },
}

/// Parses JSON lines (blank lines skipped).
pub fn parse_jsonl(text: &str) -> Result<Vec<CslRecord>, EvalError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| EvalError::Parse {
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Reads a JSON-lines file of records.
pub fn read_jsonl(path: &Path) -> Result<Vec<CslRecord>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_jsonl(&text)
}

const EVAL_UPDATED_AT: &str = "2026-01-01T00:00:00Z";
/// Reference date used by the evaluation (all listings are equally fresh).
pub const EVAL_TODAY: &str = "2026-01-02";

fn base(kind: ListingKind, id: i64, title: String, body: String) -> ListingText {
    ListingText {
        kind,
        id,
        external_id: None,
        title,
        body,
        keywords: Vec::new(),
        organization: None,
        industry: None,
        maturity: None,
        status: "published".to_string(),
        modes: Vec::new(),
        money_min: None,
        money_max: None,
        deadline: None,
        updated_at: EVAL_UPDATED_AT.to_string(),
    }
}

/// The abstract as a research result: title = the paper id (neutral), body = the abstract,
/// no keywords, no structured fields.
pub fn result_listing(r: &CslRecord, id: i64) -> ListingText {
    let mut l = base(
        ListingKind::Result,
        id,
        r.id.clone(),
        r.abstract_text.clone(),
    );
    l.external_id = Some(r.id.clone());
    l
}

/// The title as a need: title and description are both the title; no structured fields.
pub fn need_listing(r: &CslRecord, id: i64) -> ListingText {
    let mut l = base(ListingKind::Need, id, r.title.clone(), r.title.clone());
    l.external_id = Some(r.id.clone());
    l
}

/// Known-item figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct KnownItem {
    /// Queries run.
    pub queries: usize,
    /// Mean reciprocal rank of the expected item within the top 10 (0 beyond).
    pub mrr_at_10: f64,
    /// Share of queries with the expected item first.
    pub recall_at_1: f64,
    /// Share of queries with the expected item in the top 10.
    pub recall_at_10: f64,
}

/// Known-item metrics over `(expected, ranked)` runs.
pub fn known_item<T: PartialEq>(runs: &[(T, Vec<T>)]) -> KnownItem {
    if runs.is_empty() {
        return KnownItem::default();
    }
    let (mut rr, mut r1, mut r10) = (0.0, 0usize, 0usize);
    for (want, ranked) in runs {
        if let Some(pos) = ranked.iter().take(10).position(|x| x == want) {
            rr += 1.0 / (pos + 1) as f64;
            r10 += 1;
            if pos == 0 {
                r1 += 1;
            }
        }
    }
    let n = runs.len() as f64;
    KnownItem {
        queries: runs.len(),
        mrr_at_10: rr / n,
        recall_at_1: r1 as f64 / n,
        recall_at_10: r10 as f64 / n,
    }
}

/// Mean share of the top `k` with the query's label, over `(label, ranked labels)` runs; a
/// ranking shorter than `k` counts its missing places as misses.
pub fn same_label_precision<T: PartialEq>(runs: &[(T, Vec<T>)], k: usize) -> f64 {
    if runs.is_empty() || k == 0 {
        return 0.0;
    }
    let total: f64 = runs
        .iter()
        .map(|(label, ranked)| {
            ranked.iter().take(k).filter(|l| *l == label).count() as f64 / k as f64
        })
        .sum();
    total / runs.len() as f64
}

/// A paper as indexed: its result id (`None` for a distractor title only) and need id.
#[derive(Debug, Clone, Copy)]
pub struct CslPaper<'a> {
    /// The record.
    pub record: &'a CslRecord,
    /// Id of its abstract as a result; `None` when only the title is indexed (distractor).
    pub result_id: Option<i64>,
    /// Id of its title as a need.
    pub need_id: i64,
}

/// Latency of one measurement's queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
}

fn latency(mut d: Vec<Duration>) -> Latency {
    if d.is_empty() {
        return Latency::default();
    }
    d.sort();
    let at = |q: f64| d[((d.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
    Latency {
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    }
}

/// The four measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CslReport {
    /// Abstract → its own title among all needs.
    pub abstract_to_title: KnownItem,
    /// Title → its own abstract among all results.
    pub title_to_abstract: KnownItem,
    /// Abstract → top-10 other results: share in the same discipline.
    pub abstract_p10: f64,
    /// Title → top-10 results other than its own abstract: share in the same discipline.
    pub title_p10: f64,
    /// Latencies: abstract → titles, title → abstracts, abstract → results, title → results.
    pub latency: [Latency; 4],
}

/// What one paper's four queries found, and how long each took.
struct PaperRun<'a> {
    a2t: (i64, Vec<i64>),
    t2a: (i64, Vec<i64>),
    ap: (&'a str, Vec<&'a str>),
    tp: (&'a str, Vec<&'a str>),
    times: [Duration; 4],
}

/// Worker threads of the quality report: the available cores (the queries are independent,
/// so the figures do not depend on it).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn run_all<'r, F>(papers: &[CslPaper<'r>], threads: usize, rank: F) -> Result<CslReport, MatchError>
where
    F: Fn(&ListingText, ListingKind, &[(ListingKind, i64)]) -> Result<Vec<i64>, MatchError> + Sync,
{
    let discipline: HashMap<i64, &'r str> = papers
        .iter()
        .filter_map(|p| p.result_id.map(|r| (r, p.record.discipline.as_str())))
        .collect();
    let full: Vec<(&CslPaper<'r>, i64)> = papers
        .iter()
        .filter_map(|p| p.result_id.map(|r| (p, r)))
        .collect();
    let one = |p: &CslPaper<'r>, rid: i64| -> Result<PaperRun<'r>, MatchError> {
        let result = result_listing(p.record, rid);
        let need = need_listing(p.record, p.need_id);
        let labels = |ids: Vec<i64>| -> Vec<&'r str> {
            ids.iter()
                .map(|id| discipline.get(id).copied().unwrap_or(""))
                .collect()
        };
        let mut times = [Duration::ZERO; 4];
        let t = Instant::now();
        let a2t = (p.need_id, rank(&result, ListingKind::Need, &[])?);
        times[0] = t.elapsed();
        let t = Instant::now();
        let t2a = (rid, rank(&need, ListingKind::Result, &[])?);
        times[1] = t.elapsed();
        let t = Instant::now();
        let others = rank(&result, ListingKind::Result, &[(ListingKind::Result, rid)])?;
        let ap = (p.record.discipline.as_str(), labels(others));
        times[2] = t.elapsed();
        let t = Instant::now();
        let others = rank(&need, ListingKind::Result, &[(ListingKind::Result, rid)])?;
        let tp = (p.record.discipline.as_str(), labels(others));
        times[3] = t.elapsed();
        Ok(PaperRun {
            a2t,
            t2a,
            ap,
            tp,
            times,
        })
    };
    // contiguous chunks per thread, joined in order: the same runs whatever the thread count
    let threads = threads.clamp(1, full.len().max(1));
    let per = full.len().div_ceil(threads).max(1);
    let runs: Vec<Result<PaperRun<'r>, MatchError>> = std::thread::scope(|s| {
        let handles: Vec<_> = full
            .chunks(per)
            .map(|chunk| {
                let one = &one;
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(p, rid)| one(p, *rid))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut report = CslReport::default();
    let mut times: [Vec<Duration>; 4] = Default::default();
    let (mut a2t, mut t2a, mut ap, mut tp) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in runs {
        let r = r?;
        a2t.push(r.a2t);
        t2a.push(r.t2a);
        ap.push(r.ap);
        tp.push(r.tp);
        for (slot, t) in times.iter_mut().zip(r.times) {
            slot.push(t);
        }
    }
    report.abstract_to_title = known_item(&a2t);
    report.title_to_abstract = known_item(&t2a);
    report.abstract_p10 = same_label_precision(&ap, 10);
    report.title_p10 = same_label_precision(&tp, 10);
    for (slot, t) in report.latency.iter_mut().zip(times) {
        *slot = latency(t);
    }
    Ok(report)
}

/// Runs the four measurements with the matching engine on `threads` worker threads (each
/// query on one thread, [`Matcher::rank_listing`]: the ranking of
/// [`Matcher::for_listing`] without explanations). The index must hold [`result_listing`]
/// for every paper with a `result_id` and [`need_listing`] for every paper.
pub fn evaluate_csl(
    matcher: &Matcher,
    papers: &[CslPaper<'_>],
    threads: usize,
) -> Result<CslReport, MatchError> {
    run_all(papers, threads, |source, target, exclude| {
        let opts = MatchOptions {
            limit: 10,
            exclude: exclude.to_vec(),
            today: Some(EVAL_TODAY.to_string()),
            ..Default::default()
        };
        Ok(matcher
            .rank_listing(source, target, &opts)?
            .into_iter()
            .map(|m| m.id)
            .collect())
    })
}

/// The same measurements with plain jieba + BM25 search: the source's title and body as the
/// query text, the same kind filter, excluded ids dropped from the ranking.
pub fn evaluate_csl_bm25(
    index: &SearchIndex,
    papers: &[CslPaper<'_>],
    threads: usize,
) -> Result<CslReport, MatchError> {
    run_all(papers, threads, |source, target, exclude| {
        let q = if source.title == source.body || source.kind == ListingKind::Result {
            source.body.clone()
        } else {
            format!("{} {}", source.title, source.body)
        };
        let self_excluded = usize::from(source.kind == target) + exclude.len();
        let req = SearchRequest {
            q,
            kind: Some(target),
            limit: 10 + self_excluded,
            ..Default::default()
        };
        let hits = index.search(&req)?.hits;
        Ok(hits
            .into_iter()
            .filter(|h| {
                (h.kind, h.id) != (source.kind, source.id) && !exclude.contains(&(h.kind, h.id))
            })
            .map(|h| h.id)
            .take(10)
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_item_metrics() {
        let runs = vec![
            (1, vec![1, 2, 3]),
            (2, vec![3, 2]),
            (9, vec![1, 2]),
            (4, (10..30).chain([4]).collect()),
        ];
        let m = known_item(&runs);
        assert_eq!(m.queries, 4);
        assert!((m.mrr_at_10 - (1.0 + 0.5) / 4.0).abs() < 1e-12);
        assert_eq!(m.recall_at_1, 0.25);
        assert_eq!(m.recall_at_10, 0.5);
        assert_eq!(known_item::<i32>(&[]), KnownItem::default());
    }

    #[test]
    fn precision_counts_short_lists_as_misses() {
        let runs = vec![("a", vec!["a", "b", "a"]), ("b", vec!["b"; 12])];
        let p = same_label_precision(&runs, 10);
        assert!((p - (0.2 + 1.0) / 2.0).abs() < 1e-12);
        assert_eq!(same_label_precision::<&str>(&[], 10), 0.0);
    }

    #[test]
    fn parses_records_and_reports_bad_lines() {
        let text = r#"{"id": "p1", "title": "稀土催化制氢", "abstract": "摘要", "keywords": ["稀土"], "discipline": "化学", "category": "理学"}

{"id": "p2", "title": "t", "abstract": "a"}"#;
        let recs = parse_jsonl(text).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].abstract_text, "摘要");
        assert_eq!(recs[1].discipline, "");
        let err = parse_jsonl("{\"id\": 1}").unwrap_err();
        assert!(matches!(err, EvalError::Parse { line: 1, .. }), "{err}");
        let r = result_listing(&recs[0], 7);
        assert_eq!(
            (r.kind, r.id, r.title.as_str(), r.body.as_str()),
            (ListingKind::Result, 7, "p1", "摘要")
        );
        let n = need_listing(&recs[0], 8);
        assert_eq!(
            (n.title.as_str(), n.body.as_str()),
            ("稀土催化制氢", "稀土催化制氢")
        );
        assert!(read_jsonl(Path::new("/nonexistent.jsonl")).is_err());
    }
}
