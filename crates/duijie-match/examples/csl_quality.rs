//! Matching quality on CSL papers: builds an index in a temporary directory straight from a
//! CSL JSON-lines file, then runs the four measurements of [`duijie_match::eval`] with the
//! matching engine and with plain BM25, and prints the figures and timings.
//!
//! ```text
//! cargo run --release -p duijie-match --example csl_quality -- [FILE] [options]
//!   FILE               default ../shared/eval/csl-dev.jsonl beside the checkout
//!   --distractors N    index only the titles of the last N papers (as extra needs)
//!   --distractor-file F  also index the titles of F's papers as extra needs
//!   --alpha X          share of the lexical cosine in the text component
//!   --short-alpha X    that share for a pair with a side without features
//!   --short-features N feature count at which a side stops counting as short
//!   --dims N           semantic dimensions
//!   --sv-power X       singular-value exponent of the semantic vectors
//!   --no-semantic      lexical cosine only
//!   --candidates N     stage-1 pool size
//!   --latent N         stage-1 candidates from the semantic space
//!   --no-bm25          skip the baseline
//!   --threads N        worker threads (default: the available cores)
//! ```

use duijie_index::{IndexOptions, SearchIndex};
use duijie_match::engine::{MatchWeights, Matcher, MatcherConfig};
use duijie_match::eval::{
    CslPaper, CslReport, evaluate_csl, evaluate_csl_bm25, need_listing, read_jsonl, result_listing,
};
use duijie_text::{Analyzer, AnalyzerConfig, Stopwords, Synonyms};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn print(name: &str, r: &CslReport) {
    println!("{name}");
    println!(
        "  abstract → own title   MRR@10 {:.3}  R@1 {:.3}  R@10 {:.3}   ({} queries, p50 {:.2} ms, p99 {:.2} ms)",
        r.abstract_to_title.mrr_at_10,
        r.abstract_to_title.recall_at_1,
        r.abstract_to_title.recall_at_10,
        r.abstract_to_title.queries,
        r.latency[0].p50_ms,
        r.latency[0].p99_ms
    );
    println!(
        "  title → own abstract   MRR@10 {:.3}  R@1 {:.3}  R@10 {:.3}   (p50 {:.2} ms, p99 {:.2} ms)",
        r.title_to_abstract.mrr_at_10,
        r.title_to_abstract.recall_at_1,
        r.title_to_abstract.recall_at_10,
        r.latency[1].p50_ms,
        r.latency[1].p99_ms
    );
    println!(
        "  abstract → results     same-discipline P@10 {:.3}   (p50 {:.2} ms, p99 {:.2} ms)",
        r.abstract_p10, r.latency[2].p50_ms, r.latency[2].p99_ms
    );
    println!(
        "  title → results        same-discipline P@10 {:.3}   (p50 {:.2} ms, p99 {:.2} ms)",
        r.title_p10, r.latency[3].p50_ms, r.latency[3].p99_ms
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut file = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/eval/csl-dev.jsonl"
    ));
    let mut distractors = 0usize;
    let mut extra_file: Option<PathBuf> = None;
    let mut config = MatcherConfig::default();
    let mut bm25 = true;
    let mut threads = duijie_match::eval::default_threads();
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--distractors" => distractors = val()?.parse()?,
            "--distractor-file" => extra_file = Some(PathBuf::from(val()?)),
            "--alpha" => config.lexical_share = val()?.parse()?,
            "--short-alpha" => config.short_lexical_share = val()?.parse()?,
            "--short-features" => config.short_features = val()?.parse()?,
            "--dims" => config.semantic_params.dims = val()?.parse()?,
            "--sv-power" => config.semantic_params.sv_power = val()?.parse()?,
            "--iterations" => config.semantic_params.iterations = val()?.parse()?,
            "--candidates" => config.candidates = val()?.parse()?,
            "--query-terms" => config.query_terms = val()?.parse()?,
            "--latent" => config.latent_candidates = val()?.parse()?,
            "--no-semantic" => config.semantic = false,
            "--idf-power" => config.semantic_params.idf_power = val()?.parse()?,
            "--char-weight" => config.semantic_params.char_weight = val()?.parse()?,
            "--common-char-weight" => config.semantic_params.common_char_weight = val()?.parse()?,
            "--no-center" => config.semantic_params.center = false,
            "--no-unit-terms" => config.semantic_params.unit_terms = false,
            "--no-bm25" => bm25 = false,
            "--threads" => threads = val()?.parse()?,
            other if !other.starts_with("--") => file = PathBuf::from(other),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let mut records = read_jsonl(&file)?;
    let n_main = records.len();
    if let Some(f) = &extra_file {
        records.extend(read_jsonl(f)?);
    }
    let dict = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/dict"));
    let analyzer = Arc::new(Analyzer::new(&AnalyzerConfig {
        hmm: false,
        user_dict: Some(dict.join("user.dict")),
    })?);
    let synonyms = Arc::new(Synonyms::load(&dict.join("synonyms.txt"), &analyzer)?);
    let stopwords = Arc::new(Stopwords::load(&dict.join("stopwords.txt"))?);

    let full = n_main.saturating_sub(distractors);
    let papers: Vec<CslPaper<'_>> = records
        .iter()
        .enumerate()
        .map(|(i, r)| CslPaper {
            record: r,
            result_id: (i < full).then_some(i as i64 + 1),
            need_id: i as i64 + 1,
        })
        .collect();
    let mut docs = Vec::new();
    for p in &papers {
        if let Some(rid) = p.result_id {
            docs.push(result_listing(p.record, rid));
        }
        docs.push(need_listing(p.record, p.need_id));
    }
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let index = Arc::new(SearchIndex::open(
        dir.path(),
        analyzer,
        synonyms,
        &IndexOptions::default(),
    )?);
    index.apply(&[], &docs, 1)?;
    println!(
        "{} papers ({} with abstracts, {} title-only distractors): {} documents indexed in {:.2} s",
        records.len(),
        full,
        records.len() - full,
        docs.len(),
        t.elapsed().as_secs_f64()
    );

    let matcher = Matcher::with_config(index.clone(), stopwords, MatchWeights::default(), config)?;
    let stats = matcher.refresh_model()?;
    println!(
        "corpus model: {} docs, {} terms, semantic {} terms × {} dims, built in {:.2} s",
        stats.docs,
        stats.terms,
        stats.semantic_terms,
        stats.dims,
        stats.build_time.as_secs_f64()
    );
    let t = Instant::now();
    let r = evaluate_csl(&matcher, &papers, threads)?;
    print(
        &format!(
            "matching engine (α = {}, semantic = {}; {:.1} s)",
            config.lexical_share,
            config.semantic,
            t.elapsed().as_secs_f64()
        ),
        &r,
    );
    if bm25 {
        let t = Instant::now();
        let b = evaluate_csl_bm25(&index, &papers, threads)?;
        print(
            &format!(
                "plain jieba + BM25 baseline ({:.1} s)",
                t.elapsed().as_secs_f64()
            ),
            &b,
        );
    }
    Ok(())
}
