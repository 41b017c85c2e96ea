//! Matching benchmark: 100,000 listings (results, needs and experts) built by recombining
//! the sentences of the CSL papers in `../shared/eval/csl-dev.jsonl` beside the checkout, or
//! `CSL_FILE` (generated text when
//! the file is absent), then need → top-20 results with breakdown, p50 and p99 latency.
//! Prints the index build time and the corpus model build time too. Not a test: it never
//! fails on time. Targets: p50 ≤ 5 ms, p99 ≤ 20 ms.
//!
//! Run with `cargo bench -p duijie-match --bench matching` (release profile). Environment:
//! `MATCH_BENCH_DOCS` (default 100000), `MATCH_BENCH_QUERIES` (default 400), `MATCH_BENCH_CANDIDATES`,
//! `MATCH_BENCH_QUERY_TERMS`, `MATCH_BENCH_LATENT`, `MATCH_BENCH_THREADS` (engine tuning), `CSL_FILE`;
//! `MATCH_BENCH_PHASES` (any value) also prints where a request's time goes.

use duijie_domain::{ListingKind, ListingText, OrgSummary, zones_of_city};
use duijie_index::{IndexOptions, SearchIndex};
use duijie_match::engine::{MatchOptions, MatchWeights, Matcher, MatcherConfig};
use duijie_match::eval::read_jsonl;
use duijie_text::{Analyzer, AnalyzerConfig, Stopwords, Synonyms};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const CITIES: &[&str] = &[
    "沈阳",
    "大连",
    "鞍山",
    "抚顺",
    "锦州",
    "营口",
    "丹东",
    "朝阳",
    "北京",
    "哈尔滨",
];
const INDUSTRIES: &[&str] = &[
    "metallurgy",
    "new_materials",
    "new_energy",
    "biomedicine",
    "intelligent_manufacturing",
    "modern_agriculture",
    "tcm",
    "information_technology",
];
const MATURITY: &[&str] = &["lab", "pilot", "industrialized"];
const MODES: &[&str] = &[
    "transfer",
    "license",
    "equity",
    "joint_development",
    "commissioned_development",
    "technical_service",
];

/// Topics: (title, sentences) per discipline.
fn topics() -> Vec<(Vec<String>, Vec<String>)> {
    // the shared data sits beside the checkout: <checkout>/../shared/eval/csl-dev.jsonl
    let file = std::env::var("CSL_FILE").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/eval/csl-dev.jsonl"
        )
        .into()
    });
    match read_jsonl(&PathBuf::from(&file)) {
        Ok(recs) if !recs.is_empty() => {
            let mut by: std::collections::BTreeMap<String, (Vec<String>, Vec<String>)> =
                Default::default();
            for r in recs {
                let e = by.entry(r.discipline.clone()).or_default();
                e.0.push(r.title.clone());
                for s in r.abstract_text.split(['。', '；', '.']) {
                    if s.chars().count() >= 8 {
                        e.1.push(format!("{s}。"));
                    }
                }
            }
            println!(
                "text: sentences of {file} recombined within {} disciplines",
                by.len()
            );
            by.into_values()
                .filter(|(t, s)| !t.is_empty() && !s.is_empty())
                .collect()
        }
        _ => {
            println!("text: generated ({file} not found)");
            let words = [
                "稀土",
                "催化剂",
                "制氢",
                "数控机床",
                "误差补偿",
                "中药",
                "质量控制",
                "养殖",
                "尾水",
                "高炉",
                "锂电池",
                "正极材料",
                "秸秆",
                "饲料",
                "信号系统",
                "封装",
                "测试",
                "工业互联网",
                "加氢",
                "病虫害",
                "冷链",
                "缺陷检测",
                "风电",
                "抗体",
            ];
            (0..24)
                .map(|t| {
                    let w = |i: usize| words[(t * 3 + i) % words.len()];
                    let titles = (0..20)
                        .map(|i| format!("{}{}的{}研究", w(i % 3), w((i + 1) % 3), w(i % 5)))
                        .collect();
                    let sents = (0..60)
                        .map(|i| {
                            format!(
                                "采用{}与{}方法提高{}的性能，实现{}的稳定运行。",
                                w(i % 4),
                                w(i % 3 + 1),
                                w(i % 5),
                                w(i % 2)
                            )
                        })
                        .collect();
                    (titles, sents)
                })
                .collect()
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n_docs: usize = std::env::var("MATCH_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let n_queries: usize = std::env::var("MATCH_BENCH_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let dict = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/dict"));
    let analyzer = Arc::new(Analyzer::new(&AnalyzerConfig {
        hmm: false,
        user_dict: Some(dict.join("user.dict")),
    })?);
    let synonyms = Arc::new(Synonyms::load(&dict.join("synonyms.txt"), &analyzer)?);
    let stopwords = Arc::new(Stopwords::load(&dict.join("stopwords.txt"))?);
    let topics = topics();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut docs = Vec::with_capacity(n_docs);
    for i in 0..n_docs {
        let (titles, sents) = &topics[rng.below(topics.len())];
        let kind = match i % 10 {
            0..=5 => ListingKind::Result,
            6..=8 => ListingKind::Need,
            _ => ListingKind::Expert,
        };
        let mut body = String::new();
        for _ in 0..3 + rng.below(3) {
            body.push_str(&sents[rng.below(sents.len())]);
        }
        let title = titles[rng.below(titles.len())].clone();
        let city = CITIES[rng.below(CITIES.len())];
        let lo = (1 + rng.below(50)) as i64 * 100_000;
        let modes: Vec<String> = (0..1 + rng.below(3))
            .map(|_| MODES[rng.below(MODES.len())].to_string())
            .collect();
        docs.push(ListingText {
            kind,
            id: i as i64 + 1,
            external_id: Some(format!("B{i}")),
            title,
            body,
            keywords: vec![],
            organization: Some(OrgSummary {
                id: (i % 500) as i64,
                name: format!("单位{}", i % 500),
                kind: "university".into(),
                city: Some(city.into()),
                zones: zones_of_city(city).into_iter().map(|z| z.code()).collect(),
            }),
            industry: Some(INDUSTRIES[rng.below(INDUSTRIES.len())].into()),
            maturity: (kind != ListingKind::Expert)
                .then(|| MATURITY[rng.below(MATURITY.len())].into()),
            status: if rng.below(20) == 0 {
                "withdrawn".into()
            } else {
                "published".into()
            },
            modes: if kind == ListingKind::Expert {
                vec![]
            } else {
                modes
            },
            money_min: (kind != ListingKind::Expert).then_some(lo),
            money_max: (kind != ListingKind::Expert).then_some(lo * 3),
            deadline: (kind == ListingKind::Need).then(|| format!("2027-0{}-15", 1 + rng.below(9))),
            updated_at: format!("2026-{:02}-01T00:00:00Z", 1 + rng.below(11)),
        });
    }
    let chars: usize = docs
        .iter()
        .map(|d| d.body.chars().count() + d.title.chars().count())
        .sum();
    println!(
        "{n_docs} listings, {:.0} characters each on average",
        chars as f64 / n_docs as f64
    );

    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let index = Arc::new(SearchIndex::open(
        dir.path(),
        analyzer,
        synonyms,
        &IndexOptions {
            writer_threads: 2,
            writer_memory: 256 << 20,
            ..Default::default()
        },
    )?);
    for chunk in docs.chunks(20_000) {
        index.add_uncommitted(chunk)?;
    }
    index.commit(1)?;
    let build = t.elapsed();
    println!(
        "index build: {:.1} s ({:.0} docs/s), {:.0} MiB on disk",
        build.as_secs_f64(),
        n_docs as f64 / build.as_secs_f64(),
        index.size_bytes() as f64 / 1048576.0
    );

    let mut config = MatcherConfig::default();
    if let Some(v) = std::env::var("MATCH_BENCH_CANDIDATES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.candidates = v;
    }
    if let Some(v) = std::env::var("MATCH_BENCH_QUERY_TERMS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.query_terms = v;
    }
    if let Some(v) = std::env::var("MATCH_BENCH_LATENT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.latent_candidates = v;
    }
    if let Some(v) = std::env::var("MATCH_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.threads = v;
    }
    println!(
        "engine: candidates {} + {} from the semantic space, query terms {}, threads {}",
        config.candidates, config.latent_candidates, config.query_terms, config.threads
    );
    let matcher = Matcher::with_config(index.clone(), stopwords, MatchWeights::default(), config)?;
    let stats = matcher.refresh_model()?;
    println!(
        "corpus model: {} docs, {} terms, semantic {} terms × {} dims, built in {:.1} s",
        stats.docs,
        stats.terms,
        stats.semantic_terms,
        stats.dims,
        stats.build_time.as_secs_f64()
    );

    let needs: Vec<&ListingText> = docs
        .iter()
        .filter(|d| d.kind == ListingKind::Need && d.status == "published")
        .collect();
    let opts = MatchOptions {
        limit: 20,
        today: Some("2026-11-23".into()),
        ..Default::default()
    };
    for q in needs.iter().take(20) {
        matcher.for_listing(q, ListingKind::Result, &opts)?;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(n_queries);
    let mut returned = 0usize;
    for _ in 0..n_queries {
        let q = needs[rng.below(needs.len())];
        let t = Instant::now();
        let m = matcher.for_listing(q, ListingKind::Result, &opts)?;
        times.push(t.elapsed());
        returned += m.len();
    }
    times.sort();
    let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    if std::env::var_os("MATCH_BENCH_PHASES").is_some() {
        // where the time goes: analysing the need, ranking without explanations (one thread)
        // with the configured pool and with a pool of `limit`, and the whole request
        let median = |f: &dyn Fn(&ListingText)| -> f64 {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            let mut t: Vec<Duration> = (0..n_queries)
                .map(|_| {
                    let q = needs[rng.below(needs.len())];
                    let s = Instant::now();
                    f(q);
                    s.elapsed()
                })
                .collect();
            t.sort();
            t[t.len() / 2].as_secs_f64() * 1e3
        };
        let analyzer = index.analyzer();
        let tv = median(&|q| {
            std::hint::black_box(duijie_index::similar::TermVector::of_listing(analyzer, q));
        });
        let rank = median(&|q| {
            std::hint::black_box(matcher.rank_listing(q, ListingKind::Result, &opts).ok());
        });
        let small = MatchOptions {
            candidates: Some(opts.limit),
            ..opts.clone()
        };
        let rank_small = median(&|q| {
            std::hint::black_box(matcher.rank_listing(q, ListingKind::Result, &small).ok());
        });
        let full = median(&|q| {
            std::hint::black_box(matcher.for_listing(q, ListingKind::Result, &opts).ok());
        });
        println!(
            "phases (p50): analyse need {tv:.2} ms; rank without explanations {rank:.2} ms \
             ({rank_small:.2} ms with {} candidates); whole request {full:.2} ms",
            opts.limit
        );
    }
    println!(
        "need → top-20 results with breakdown ({} queries, {:.1} matches each): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms (targets p50 ≤ 5, p99 ≤ 20)",
        n_queries,
        returned as f64 / n_queries as f64,
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    Ok(())
}
