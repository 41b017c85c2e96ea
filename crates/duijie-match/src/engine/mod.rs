//! # The matching engine: needs ↔ results ↔ experts, explained
//!
//! For a technology need (技术需求) the engine proposes research results (科技成果) and experts
//! (专家); for a result it proposes needs; for a text an enterprise is still typing it proposes
//! any of them. It reads only the search index (stored fields included), never the database,
//! and is CPU-bound: call it from a blocking thread.
//!
//! ## Two stages
//!
//! 1. **Candidates from the index, not a scan.** The source's term vector (title and keywords
//!    weighted up, sub-words of long words at half weight, see [`duijie_index::similar`]) is
//!    weighted by TF-IDF against the index's own statistics; its [`MatcherConfig::query_terms`]
//!    heaviest terms, plus their synonyms at [`duijie_index::query::SYNONYM_WEIGHT`], form a
//!    weighted BM25 disjunction over title, keywords and body. The top
//!    [`MatcherConfig::candidates`] documents that pass the filters (kind, `published` status
//!    only — withdrawn, closed, draft, transferred and matched listings are never proposed —
//!    optional industry, city, zone, maturity, excluded ids) go to stage 2. The whole source text
//!    is used: a long description is never cut to its first words. A BM25 query only finds
//!    listings that share one of those terms, so stage 1 has a second source: the
//!    [`MatcherConfig::latent_candidates`] listings (passing the same filters) whose semantic
//!    vectors are nearest to the source's, among those the BM25 query did not find: the same
//!    topic in other words ([`latent`]: exhaustive up to [`latent::EXACT_MAX`] listings of a
//!    kind, an inverted-file index of k-means lists above).
//! 2. **Re-scoring with an explainable model.** Each candidate gets seven components in [0, 1],
//!    each with a one-line reason in Chinese:
//!
//! | component | formula |
//! |---|---|
//! | `text` | `α · cos_tfidf(a, b) + (1 − α) · max(0, cos_lsa(a, b))`, α = `α_long + (α_short − α_long) · exp(−min(n_a, n_b) / n₀)` with `n` a side's feature count ([`MatcherConfig::text_share`]: 0.6 for two long texts, up to 0.9 for short ones; only the cosine without a semantic model) |
//! | `industry` | same 1, related (same value chain) 0.6, unknown 0.5, different 0 |
//! | `region` | same city 1, same zone of 一圈一带两区 0.75, both in Liaoning 0.5, one outside 0.25, unknown 0.5 |
//! | `maturity` | result ≥ need's requirement 1, one level short 0.4, two 0, unknown 0.7 |
//! | `modes` | share of the need's wanted modes the result accepts, unknown 0.5 |
//! | `budget` | budget and price ranges overlap (or price below budget) 1, price above budget `budget_max / price_min`, unknown 0.5 |
//! | `freshness` | mean over the pair's saved needs/results of: need past its deadline 0, else `0.5 + 0.5 · 2^(−days since update / 180)` (unknown 0.75) |
//!
//! `score = Σ wᵢ · sᵢ / Σ wᵢ` over the components that apply to the pair, so the breakdown's
//! weights (normalised to sum to 1) times its scores add up to the score exactly. Maturity,
//! modes and budget only apply to a need–result pair (not to experts, nor to two listings of
//! the same kind); freshness only when one side is a saved need or result. Weights come from
//! configuration ([`MatchWeights`], defaults text 0.55, industry 0.12, region 0.08, maturity
//! 0.08, modes 0.07, budget 0.05, freshness 0.05) and a request may override any of them
//! ([`WeightsOverride`]).
//!
//! ## Why the text component looks the way it does
//!
//! * **Symmetric.** A pair must score the same whichever side asks, because organisers see
//!   the pair from both sides and the event pairing uses the score as an edge weight. BM25 of
//!   one listing used as a query against the other is not symmetric (length normalisation and
//!   query term weights differ), so stage 2 uses cosines of vectors built the same way for both
//!   sides: features are the title/keyword/body term multiset (title and keywords ×2,
//!   dictionary sub-words ×0.5) plus each Han character of a multi-character word at 0.3 of
//!   the word's frequency (Chinese technical vocabulary shares morphemes: `制氢`, `储氢`,
//!   `氢能`), weighted `ln(1 + tf) · ln(1 + N/df)^1.3` ([`SemanticParams::idf_power`]). Every component is defined by role (the
//!   need side, the result side), never by who asked; sums run in a fixed term order, so
//!   `score(a, b) == score(b, a)` exactly.
//! * **Beyond exact overlap.** Needs are written by engineers in enterprises, results by
//!   researchers: they often describe the same thing with different words. The semantic
//!   component is a latent semantic model ([`CorpusModel`]) trained on the index's own
//!   listings when the matcher first needs it (and again when the index has changed: at once
//!   for small indexes, in the background for large ones), deterministic and without
//!   downloads. Its cosine lifts pairs that share a topic but few words; the lexical cosine
//!   keeps exact technical terms decisive.
//! * **Missing data is neutral.** Unknown structured fields score a constant, so when a
//!   source has no industry, every candidate gets the same industry score and the ranking is
//!   decided by what is known.
//!
//! Matched terms are the shared words that contributed most to the lexical cosine (a word
//! inside a longer shown word is not repeated, single characters are features but are not
//! shown); highlights mark them in the candidate's title and body.
//!
//! ## Cost
//!
//! Ranking and explaining are separate: stage 2 computes numbers only (no reasons, no
//! matched terms, no highlights), and only the `limit` matches returned are explained
//! (reasons, matched terms, highlights). The model keeps the indexed listings' vectors and
//! structured fields ([`SemanticParams::cache_docs`]) by where the listing is stored (segment
//! and document id: what a segment holds never changes), up to a memory budget
//! ([`SemanticParams::cache_max_bytes`], 512 MiB: about 125,000 listings of 650 characters), so
//! a candidate of the model's snapshot is re-scored without reading its document at all;
//! only the matches shown are read back for their title and text. A listing beyond the
//! budget, or stored since the model was built, is read, and its vectors are found by kind,
//! id and a fingerprint of its stored term vector, or computed.
//! Highlights find the matched words in the text by substring search when they are all Han
//! words (Latin ones, which the analyzer folds and lowercases, still go through the
//! segmenter), instead of segmenting every shown text again.
//!
//! The source is not analysed either when the index holds it as it is: the model keeps a
//! fingerprint of each kept listing's texts ([`CorpusModel::kept_for_texts`]), so a stored
//! need read from the database whose title, keywords and body are those indexed is matched
//! with the vectors kept for it (the same vectors an analysis gives). The texts of the
//! matches shown are kept by their place in the index for the next requests (`shown.rs`,
//! about 32 MiB: a segment's documents never change), and the candidates' BM25 query
//! takes its document frequencies from a per-searcher-generation cache and leaves out the
//! terms no listing has in a field (they add nothing to any score).
//! [`Matcher::pair_score_only`] and [`Matcher::rank_listing`] are the score-only entry points
//! (event pairing, the quality report); they give exactly the scores of the explaining ones.
//!
//! ## Measured (see `examples/csl_quality.rs` and `benches/matching.rs`)
//!
//! On 1,000 CSL papers (abstracts as results with neutral titles, titles as needs), against
//! plain jieba + BM25 on the same index (`duijie eval csl --baseline`, through the API):
//! abstract → own title MRR@10 0.980 (BM25 0.970), title → own abstract 0.984 (0.983),
//! same-discipline P@10 abstract → results 0.296 (0.205), title → results 0.274 (0.163).
//! Where the last steps came from (P@10 abstract / title, MRR title → abstract):
//!
//! * Semantic-space candidates in stage 1: +0.017 / +0.022. Before them re-scoring every
//!   listing reached about 0.29 and the engine 0.273: a BM25 query over the top 24 terms
//!   never finds a listing that shares none of them.
//! * `sv_power` 3 rather than 2: about +0.002 / +0.006.
//! * A larger α for short texts ([`MatcherConfig::text_share`], 0.9 rather than 0.6 at the
//!   limit): title → own abstract MRR 0.978 → 0.984 (now above BM25), and with 9,000
//!   distractor titles abstract → own title 0.926 → 0.937; title P@10 −0.006.
//! * idf^1.3 rather than idf: about +0.004 / +0.004.
//!
//! Removing the semantic model costs about 0.03 of P@10; removing the character features
//! about 0.02. Figures move by about ±0.003 between runs, because the index's segment order
//! changes the model's vocabulary order and so its random start. Tried without gain: log-
//! entropy term weights for the latent model, more or fewer dimensions (32–128), more
//! subspace iterations (20), a lower α for long texts (0.4–0.5), clustering the latent space
//! into topics and pulling each listing towards its topic, smoothing each listing's latent
//! vector with its nearest neighbours' (about +0.003, within the noise, and known-item MRR
//! −0.005), a second-order similarity (shared nearest neighbours), and a hubness correction
//! of the latent cosine (CSLS: it raised known-item MRR to 0.986 but lowered P@10).

mod components;
mod corpus;
mod error;
pub mod latent;
mod linalg;
mod retrieve;
mod shown;
mod weights;

pub use components::{
    RECENCY_HALF_LIFE_DAYS, RELATED_INDUSTRY, Scored, UNKNOWN_INDUSTRY, UNKNOWN_MATURITY, budget,
    days_of, fmt_yuan, freshness, industries_related, industry, listing_freshness, maturity, modes,
    region, today_days,
};
pub use corpus::{
    CachedDoc, CorpusModel, CorpusStats, Prepared, SemanticParams, lexical, lexical_cosine,
    semantic,
};
pub use error::MatchError;
pub use weights::{ComponentKind, MatchWeights, WeightsOverride};

/// A match's highlighted fragments: HTML with the matched terms in `<mark>`, everything
/// else escaped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = MatchHighlights))]
pub struct Highlights {
    /// The candidate's title.
    pub title: String,
    /// The best fragment of its summary / description / profile.
    pub summary: String,
}

use duijie_domain::{ListingKind, ListingText};
use duijie_index::SearchIndex;
use duijie_index::similar::TermVector;
use duijie_text::Stopwords;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Largest `limit` of one request.
pub const MAX_LIMIT: usize = 200;
/// Largest candidate pool of one request.
pub const MAX_CANDIDATES: usize = 1000;
/// Matched terms shown per match.
pub const MATCHED_TERMS_SHOWN: usize = 8;
/// Characters of the highlighted summary.
pub const SUMMARY_CHARS: usize = 160;

/// Tuning of the engine (not of the score's weights).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatcherConfig {
    /// Candidates re-scored per request (stage 1's top N).
    pub candidates: usize,
    /// Salient terms of the source used for stage 1.
    pub query_terms: usize,
    /// Further candidates from the semantic space: the listings whose semantic vectors are
    /// nearest to the source's, among those stage 1's BM25 query did not find (0: none).
    /// They are searched among the published listings of the model's snapshot, so there are
    /// none without [`SemanticParams::cache_docs`].
    pub latent_candidates: usize,
    /// α: share of the lexical cosine in the text component (the rest is semantic).
    pub lexical_share: f64,
    /// α of a pair whose shorter side has no feature at all; α moves from it towards
    /// [`MatcherConfig::lexical_share`] as `exp(−n / short_features)`, `n` the shorter side's
    /// feature count ([`MatcherConfig::text_share`]). A short text (a title, a need typed in
    /// a few words) gives a noisy latent vector, so its pairs lean on the exact terms.
    pub short_lexical_share: f64,
    /// Feature count at which a side stops counting as short (the scale of the decay).
    pub short_features: f64,
    /// Whether to build and use the semantic model.
    pub semantic: bool,
    /// Semantic model parameters.
    pub semantic_params: SemanticParams,
    /// Up to this many documents the model is rebuilt synchronously whenever the index has
    /// changed; above, in the background once the document count moved by
    /// [`MatcherConfig::rebuild_growth`] (the old model serves meanwhile).
    pub sync_rebuild_max_docs: u64,
    /// Relative change of the document count, or share of the model's kept listings no
    /// longer in place (segments merged away, listings edited or deleted:
    /// [`CorpusModel::stale_share`]), that triggers a background rebuild.
    pub rebuild_growth: f64,
    /// Threads used to re-score the candidates of one request (1: the calling thread only).
    pub threads: usize,
}

impl Default for MatcherConfig {
    fn default() -> Self {
        MatcherConfig {
            candidates: 60,
            query_terms: 24,
            latent_candidates: 30,
            lexical_share: 0.6,
            short_lexical_share: 0.9,
            short_features: 40.0,
            semantic: true,
            semantic_params: SemanticParams::default(),
            sync_rebuild_max_docs: 5_000,
            rebuild_growth: 0.1,
            threads: 2,
        }
    }
}

impl MatcherConfig {
    /// α of a pair whose sides have `a` and `b` features: [`MatcherConfig::lexical_share`]
    /// for two long texts, moving towards [`MatcherConfig::short_lexical_share`] (by default
    /// higher) as the shorter side gets shorter. Symmetric in `a` and `b`, in [0, 1].
    pub fn text_share(&self, a: usize, b: usize) -> f64 {
        let n = a.min(b) as f64;
        let (long, short) = (self.lexical_share, self.short_lexical_share);
        let decay = (-n / self.short_features.max(1.0)).exp();
        (long + (short - long) * decay).clamp(0.0, 1.0)
    }
}

/// Optional restrictions on the candidates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchFilters {
    /// Industry code.
    pub industry: Option<String>,
    /// City of the candidate's organisation.
    pub city: Option<String>,
    /// Zone code (一圈一带两区).
    pub zone: Option<String>,
    /// Maturity code.
    pub maturity: Option<String>,
}

/// One request's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchOptions {
    /// Matches returned (1..=[`MAX_LIMIT`]).
    pub limit: usize,
    /// Weight overrides on top of the configured weights.
    pub weights: WeightsOverride,
    /// Candidate filters.
    pub filters: MatchFilters,
    /// Listings never proposed (the source itself is always excluded).
    pub exclude: Vec<(ListingKind, i64)>,
    /// Candidate pool size; `None` uses [`MatcherConfig::candidates`].
    pub candidates: Option<usize>,
    /// Reference date `YYYY-MM-DD` for deadlines and recency; `None` is today (UTC).
    pub today: Option<String>,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            limit: 20,
            weights: WeightsOverride::default(),
            filters: MatchFilters::default(),
            exclude: Vec::new(),
            candidates: None,
            today: None,
        }
    }
}

/// One component of a match's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Component {
    /// Which component.
    pub component: ComponentKind,
    /// Its score in [0, 1].
    pub score: f64,
    /// Its weight, normalised over the components that apply (the weights sum to 1).
    pub weight: f64,
    /// Why, in Chinese, naming the specifics.
    pub reason: String,
}

/// A proposed listing with its score explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Match {
    /// Store id.
    pub id: i64,
    /// Organiser's id.
    pub external_id: Option<String>,
    /// Kind.
    pub kind: ListingKind,
    /// Plain title.
    pub title: String,
    /// `Σ weight · score` over the breakdown, in [0, 1].
    pub score: f64,
    /// The components that apply, in a fixed order.
    pub breakdown: Vec<Component>,
    /// Terms shared by the pair that contributed most.
    pub matched_terms: Vec<String>,
    /// The candidate's title and best summary fragment with the matched terms in `<mark>`.
    pub highlights: Highlights,
}

/// A proposed listing with its score only (no explanation): what ranking needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// Kind.
    pub kind: ListingKind,
    /// Store id.
    pub id: i64,
    /// The same score as [`Match::score`].
    pub score: f64,
}

/// A listing analysed once for repeated pair scoring (event pairing).
#[derive(Debug, Clone)]
pub struct PreparedListing {
    listing: ListingText,
    prepared: Arc<Prepared>,
    saved: bool,
    model: Arc<CorpusModel>,
}

impl PreparedListing {
    /// The listing.
    pub fn listing(&self) -> &ListingText {
        &self.listing
    }
}

struct Side<'a> {
    listing: &'a ListingText,
    prepared: &'a Prepared,
    /// A stored listing (not an unsaved text): counts for freshness.
    saved: bool,
}

struct Scoring {
    score: f64,
    breakdown: Vec<Component>,
    shared: Vec<(String, f64)>,
}

/// Stage 2's outcome: the best candidates, scored but not explained.
struct Rescored {
    model: Arc<CorpusModel>,
    searcher: tantivy::Searcher,
    source: Arc<Prepared>,
    weights: MatchWeights,
    today: i64,
    /// Best first.
    top: Vec<ScoredCandidate>,
}

/// A re-scored candidate.
struct ScoredCandidate {
    /// Stage-1 rank.
    rank: usize,
    score: f64,
    addr: tantivy::DocAddress,
    /// The listing; without its texts when it came from the model's cache (`complete`
    /// false): [`Matcher::run`] reads those for the matches it shows.
    listing: Arc<ListingText>,
    complete: bool,
    prepared: Arc<Prepared>,
}

/// The matching engine. Cheap to share (`Arc`); all methods take `&self`.
pub struct Matcher {
    index: Arc<SearchIndex>,
    stopwords: Arc<Stopwords>,
    weights: MatchWeights,
    config: MatcherConfig,
    model: Arc<RwLock<Option<Arc<CorpusModel>>>>,
    rebuilding: Arc<AtomicBool>,
    /// Texts of the matches shown recently, by their place in the index.
    shown: shown::ShownTexts,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("weights", &self.weights)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Highlighted terms per match at most.
const HIGHLIGHT_TERMS: usize = 10;
/// Shared words named per explained pair (the most contributing ones): enough for
/// [`HIGHLIGHT_TERMS`] and [`MATCHED_TERMS_SHOWN`] after words nested in shown ones are
/// left out.
const NAMED_TERMS: usize = 48;

/// Shared terms worth showing: words, not the single characters that also serve as
/// features, by contribution (descending, then term).
fn showable(shared: &[(String, f64)]) -> Vec<&(String, f64)> {
    let mut order: Vec<&(String, f64)> = shared
        .iter()
        .filter(|(t, _)| t.chars().nth(1).is_some())
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    order
}

/// The `n` most contributing shared words, a word inside a longer shown one left out.
fn display_terms(shared: &[(String, f64)], n: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (t, _) in showable(shared) {
        if out.len() >= n {
            break;
        }
        if out
            .iter()
            .any(|o| o.contains(t.as_str()) || t.contains(o.as_str()))
        {
            continue;
        }
        out.push(t.clone());
    }
    out
}

impl Matcher {
    /// A matcher over `index` with the configured `weights` (validated) and default tuning.
    pub fn new(
        index: Arc<SearchIndex>,
        stopwords: Arc<Stopwords>,
        weights: MatchWeights,
    ) -> Result<Matcher, MatchError> {
        Self::with_config(index, stopwords, weights, MatcherConfig::default())
    }

    /// A matcher with explicit tuning.
    pub fn with_config(
        index: Arc<SearchIndex>,
        stopwords: Arc<Stopwords>,
        weights: MatchWeights,
        config: MatcherConfig,
    ) -> Result<Matcher, MatchError> {
        weights.validate()?;
        Ok(Matcher {
            index,
            stopwords,
            weights,
            config,
            model: Arc::new(RwLock::new(None)),
            rebuilding: Arc::new(AtomicBool::new(false)),
            shown: shown::ShownTexts::default(),
        })
    }

    /// The configured weights.
    pub fn weights(&self) -> &MatchWeights {
        &self.weights
    }

    /// The tuning in force.
    pub fn config(&self) -> &MatcherConfig {
        &self.config
    }

    /// The index matched against.
    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.index
    }

    fn build_model(
        index: &SearchIndex,
        stopwords: &Stopwords,
        config: &MatcherConfig,
    ) -> Result<CorpusModel, MatchError> {
        let mut params = config.semantic_params;
        if !config.semantic {
            params.min_docs = usize::MAX;
        }
        Ok(CorpusModel::build(index, stopwords, &params)?)
    }

    /// Rebuilds the corpus statistics and the semantic model now (e.g. after a large import)
    /// and returns what was built. Blocking.
    pub fn refresh_model(&self) -> Result<CorpusStats, MatchError> {
        let m = Arc::new(Self::build_model(
            &self.index,
            &self.stopwords,
            &self.config,
        )?);
        let stats = m.stats();
        if let Ok(mut slot) = self.model.write() {
            *slot = Some(m);
        }
        Ok(stats)
    }

    /// Rebuilds the model on a background thread (unless a rebuild is already running) and
    /// returns at once; requests keep using the previous model until it is ready. A server
    /// calls this at start so that the first request on a large index does not wait for the
    /// model (about 30 s for 100,000 listings of 650 characters on two cores, 160 s for a
    /// million: the build reads every listing twice and trains on about
    /// [`SemanticParams::train_max_docs`] of them).
    pub fn spawn_refresh(&self) {
        if self.rebuilding.swap(true, Ordering::AcqRel) {
            return;
        }
        let (index, stopwords, config, slot, flag) = (
            self.index.clone(),
            self.stopwords.clone(),
            self.config,
            self.model.clone(),
            self.rebuilding.clone(),
        );
        std::thread::spawn(move || {
            if let Ok(built) = Self::build_model(&index, &stopwords, &config)
                && let Ok(mut s) = slot.write()
            {
                *s = Some(Arc::new(built));
            }
            flag.store(false, Ordering::Release);
        });
    }

    /// The model in force, (re)built as [`MatcherConfig::sync_rebuild_max_docs`] describes.
    pub fn model(&self) -> Result<Arc<CorpusModel>, MatchError> {
        let current = self.model.read().ok().and_then(|g| g.clone());
        let generation = self.index.generation();
        if let Some(m) = &current
            && m.generation() == generation
        {
            return Ok(m.clone());
        }
        let docs = self.index.num_docs();
        match current {
            Some(m) if docs > self.config.sync_rebuild_max_docs => {
                let moved = (docs as f64 - m.n_docs() as f64).abs();
                if moved >= self.config.rebuild_growth * m.n_docs().max(1) as f64
                    || m.stale_share(&self.index.searcher()) >= self.config.rebuild_growth
                {
                    self.spawn_refresh();
                }
                Ok(m)
            }
            _ => {
                let m = Arc::new(Self::build_model(
                    &self.index,
                    &self.stopwords,
                    &self.config,
                )?);
                if let Ok(mut slot) = self.model.write() {
                    *slot = Some(m.clone());
                }
                Ok(m)
            }
        }
    }

    fn today(opts_today: Option<&str>) -> Result<i64, MatchError> {
        match opts_today {
            Some(d) => days_of(d)
                .filter(|_| d.len() == 10)
                .ok_or_else(|| MatchError::InvalidDate(d.to_string())),
            None => Ok(today_days()),
        }
    }

    /// Ranked `target` listings for a listing (a stored need, result or expert, or any
    /// [`ListingText`] built by the caller). The source itself is never proposed.
    pub fn for_listing(
        &self,
        source: &ListingText,
        target: ListingKind,
        opts: &MatchOptions,
    ) -> Result<Vec<Match>, MatchError> {
        self.run(
            source,
            |m: &CorpusModel| self.listing_vectors(m, source),
            true,
            target,
            opts,
        )
    }

    /// Like [`Matcher::for_listing`] for a listing read from the index by kind and id.
    pub fn for_id(
        &self,
        kind: ListingKind,
        id: i64,
        target: ListingKind,
        opts: &MatchOptions,
    ) -> Result<Vec<Match>, MatchError> {
        let stored = self
            .index
            .get_listing(kind, id)?
            .ok_or(MatchError::NotFound {
                kind: kind.code(),
                id,
            })?;
        self.run(
            &stored.listing,
            |m: &CorpusModel| {
                m.cached(kind, id, &stored.encoded_terms)
                    .unwrap_or_else(|| Arc::new(m.prepare(stored.terms(), &self.stopwords)))
            },
            true,
            target,
            opts,
        )
    }

    /// Ranked `target` listings for an unsaved text (an enterprise typing its problem). The
    /// text is treated as a need without structured fields: those components are neutral.
    pub fn for_text(
        &self,
        text: &str,
        target: ListingKind,
        opts: &MatchOptions,
    ) -> Result<Vec<Match>, MatchError> {
        if text.trim().is_empty() {
            return Err(MatchError::EmptyText);
        }
        let source = unsaved_need(text);
        let tv = TermVector::of_text(self.index.analyzer(), text);
        if tv.terms.is_empty() {
            return Err(MatchError::EmptyText);
        }
        self.run(
            &source,
            |m: &CorpusModel| self.vectors_of(m, &tv),
            false,
            target,
            opts,
        )
    }

    /// The ranking of [`Matcher::for_listing`] (same candidates, same scores, same order)
    /// without explanations, computed on the calling thread only: for callers that run many
    /// requests in parallel themselves (the quality report).
    pub fn rank_listing(
        &self,
        source: &ListingText,
        target: ListingKind,
        opts: &MatchOptions,
    ) -> Result<Vec<Ranked>, MatchError> {
        let r = self.rescore(
            source,
            |m: &CorpusModel| self.listing_vectors(m, source),
            true,
            target,
            opts,
            1,
        )?;
        Ok(r.map(|r| {
            r.top
                .iter()
                .map(|c| Ranked {
                    kind: c.listing.kind,
                    id: c.listing.id,
                    score: c.score,
                })
                .collect()
        })
        .unwrap_or_default())
    }

    /// A listing's vectors under `model`: those the model keeps when the listing's texts
    /// are the ones it was indexed with ([`CorpusModel::kept_for_texts`]), else from an
    /// analysis of its texts (the same vectors either way).
    fn listing_vectors(&self, model: &CorpusModel, listing: &ListingText) -> Arc<Prepared> {
        model.kept_for_texts(listing).unwrap_or_else(|| {
            self.vectors_of(
                model,
                &TermVector::of_listing(self.index.analyzer(), listing),
            )
        })
    }

    /// The vectors of an analysed text under `model`.
    fn vectors_of(&self, model: &CorpusModel, tv: &TermVector) -> Arc<Prepared> {
        Arc::new(model.prepare(
            tv.terms.iter().map(|(t, w)| (t.as_str(), *w)),
            &self.stopwords,
        ))
    }

    /// Analyses a listing once for repeated [`Matcher::pair_score_prepared`] calls.
    pub fn prepare(&self, listing: &ListingText) -> Result<PreparedListing, MatchError> {
        let model = self.model()?;
        let prepared = self.listing_vectors(&model, listing);
        Ok(PreparedListing {
            listing: listing.clone(),
            prepared,
            saved: true,
            model,
        })
    }

    /// The score of one pair with its breakdown, described as a [`Match`] of `b`. Symmetric:
    /// `pair_score(a, b).score == pair_score(b, a).score`.
    pub fn pair_score(
        &self,
        a: &ListingText,
        b: &ListingText,
        weights: &MatchWeights,
    ) -> Result<Match, MatchError> {
        let (pa, pb) = (self.prepare(a)?, self.prepare(b)?);
        self.pair_score_prepared(&pa, &pb, weights, None)
    }

    /// [`Matcher::pair_score`] on prepared listings; `today` as in [`MatchOptions::today`].
    /// Both should be prepared by the same model (the second's model is used otherwise).
    pub fn pair_score_prepared(
        &self,
        a: &PreparedListing,
        b: &PreparedListing,
        weights: &MatchWeights,
        today: Option<&str>,
    ) -> Result<Match, MatchError> {
        let s = self.score_prepared(a, b, weights, today, true)?;
        Ok(self.to_match(&b.listing, s))
    }

    /// The score of [`Matcher::pair_score_prepared`] alone (exactly the same value), without
    /// building reasons, matched terms or highlights: for scoring many pairs.
    pub fn pair_score_only(
        &self,
        a: &PreparedListing,
        b: &PreparedListing,
        weights: &MatchWeights,
        today: Option<&str>,
    ) -> Result<f64, MatchError> {
        Ok(self.score_prepared(a, b, weights, today, false)?.score)
    }

    fn score_prepared(
        &self,
        a: &PreparedListing,
        b: &PreparedListing,
        weights: &MatchWeights,
        today: Option<&str>,
        explain: bool,
    ) -> Result<Scoring, MatchError> {
        weights.validate()?;
        let today = Self::today(today)?;
        let pa = if Arc::ptr_eq(&a.model, &b.model) {
            a.prepared.clone()
        } else {
            self.listing_vectors(&b.model, &a.listing)
        };
        let sa = Side {
            listing: &a.listing,
            prepared: &pa,
            saved: a.saved,
        };
        let sb = Side {
            listing: &b.listing,
            prepared: &b.prepared,
            saved: b.saved,
        };
        self.score_pair(&b.model, &sa, &sb, weights, today, explain)
    }

    /// Stages 1 and 2, then the shown matches explained; `vectors` gives the source's
    /// vectors under the model in force.
    fn run(
        &self,
        source: &ListingText,
        vectors: impl FnOnce(&CorpusModel) -> Arc<Prepared>,
        saved: bool,
        target: ListingKind,
        opts: &MatchOptions,
    ) -> Result<Vec<Match>, MatchError> {
        let threads = self.config.threads;
        let Some(r) = self.rescore(source, vectors, saved, target, opts, threads)? else {
            return Ok(Vec::new());
        };
        let src_side = Side {
            listing: source,
            prepared: &r.source,
            saved,
        };
        // explain the shown top only, reading their texts (or finding them kept)
        par_map(&r.top, threads, |_, c| {
            let full;
            let listing = if c.complete {
                &*c.listing
            } else {
                let at = self.index.stored_at(&r.searcher, c.addr);
                full = self.shown.get_or_read(at, || {
                    Ok::<_, MatchError>(self.index.stored_listing(&r.searcher, c.addr)?.listing)
                })?;
                &*full
            };
            let cand = Side {
                listing,
                prepared: &c.prepared,
                saved: true,
            };
            self.score_pair(&r.model, &src_side, &cand, &r.weights, r.today, true)
                .map(|s| self.to_match(listing, s))
        })
        .into_iter()
        .collect()
    }

    fn to_match(&self, l: &ListingText, s: Scoring) -> Match {
        let terms: Vec<(&str, f32)> = showable(&s.shared)
            .into_iter()
            .take(HIGHLIGHT_TERMS)
            .map(|(t, w)| (t.as_str(), *w as f32))
            .collect();
        let analyzer = self.index.analyzer();
        let highlight = |text: &str, max_chars: usize| {
            analyzer
                .snippet_of_terms(text, &terms, max_chars)
                .to_html(text)
        };
        let highlights = Highlights {
            title: highlight(&l.title, l.title.chars().count().max(1)),
            summary: highlight(&l.body, SUMMARY_CHARS),
        };
        Match {
            id: l.id,
            external_id: l.external_id.clone(),
            kind: l.kind,
            title: l.title.clone(),
            score: s.score,
            matched_terms: display_terms(&s.shared, MATCHED_TERMS_SHOWN),
            breakdown: s.breakdown,
            highlights,
        }
    }

    /// Scores a pair; without `explain` the reasons are left empty and no shared term is
    /// named (the score is the same).
    fn score_pair(
        &self,
        model: &CorpusModel,
        a: &Side<'_>,
        b: &Side<'_>,
        w: &MatchWeights,
        today: i64,
        explain: bool,
    ) -> Result<Scoring, MatchError> {
        use ComponentKind as C;
        let mut parts: Vec<(ComponentKind, Scored)> = Vec::with_capacity(7);

        // text
        let (lex, shared) = if explain {
            let (lex, shared) = lexical(a.prepared, b.prepared);
            // only words are ever shown (single characters are features, not shown), and
            // at most HIGHLIGHT_TERMS of them: name the most contributing words only
            let mut words: Vec<(&str, f64)> = shared
                .into_iter()
                .filter_map(|(k, c)| model.name(k, a.prepared).map(|t| (t, c)))
                .filter(|(t, _)| t.chars().nth(1).is_some())
                .collect();
            words.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(y.0)));
            words.truncate(NAMED_TERMS);
            let names: Vec<(String, f64)> =
                words.into_iter().map(|(t, c)| (t.to_string(), c)).collect();
            (lex, names)
        } else {
            (lexical_cosine(a.prepared, b.prepared), Vec::new())
        };
        let sem = if model.has_semantic() {
            Some(semantic(a.prepared, b.prepared).unwrap_or(0.0))
        } else {
            None
        };
        let alpha = self
            .config
            .text_share(a.prepared.terms.len(), b.prepared.terms.len());
        let text = match sem {
            Some(s) => alpha * lex + (1.0 - alpha) * s,
            None => lex,
        };
        let reason = if explain {
            let shown = display_terms(&shared, 5);
            let mut reason = if shown.is_empty() {
                "无共同关键词".to_string()
            } else {
                format!("共同关键词：{}", shown.join("、"))
            };
            reason.push_str(&format!("；词语相似度 {lex:.2}"));
            if let Some(s) = sem {
                reason.push_str(&format!("，主题相似度 {s:.2}"));
            }
            reason
        } else {
            String::new()
        };
        parts.push((
            C::Text,
            Scored {
                score: text.clamp(0.0, 1.0),
                reason,
            },
        ));

        fn city<'l>(s: &Side<'l>) -> Option<&'l str> {
            s.listing
                .organization
                .as_ref()
                .and_then(|o| o.city.as_deref())
        }
        parts.push((
            C::Industry,
            industry(
                a.listing.industry.as_deref(),
                b.listing.industry.as_deref(),
                explain,
            ),
        ));
        parts.push((C::Region, region(city(a), city(b), explain)));

        let roles = match (a.listing.kind, b.listing.kind) {
            (ListingKind::Need, ListingKind::Result) => Some((a.listing, b.listing)),
            (ListingKind::Result, ListingKind::Need) => Some((b.listing, a.listing)),
            _ => None,
        };
        if let Some((need, result)) = roles {
            parts.push((
                C::Maturity,
                maturity(
                    result.maturity.as_deref(),
                    need.maturity.as_deref(),
                    explain,
                ),
            ));
            parts.push((C::Modes, modes(&need.modes, &result.modes, explain)));
            parts.push((
                C::Budget,
                budget(
                    (need.money_min, need.money_max),
                    (result.money_min, result.money_max),
                    explain,
                ),
            ));
        }
        let mut sides: [&ListingText; 2] = [a.listing, b.listing];
        let mut counted = 0;
        // a fixed order by role keeps the mean identical from either side
        let mut ordered = [a, b];
        ordered.sort_by_key(|s| (s.listing.kind.code(), s.listing.id));
        for s in ordered {
            if s.saved && s.listing.kind != ListingKind::Expert {
                sides[counted] = s.listing;
                counted += 1;
            }
        }
        if let Some(f) = freshness(&sides[..counted], today, explain) {
            parts.push((C::Freshness, f));
        }

        let total: f64 = parts.iter().map(|(c, _)| w.get(*c)).sum();
        if total <= 0.0 {
            let pair = match roles {
                Some(_) => "需求—成果",
                None if a.listing.kind == ListingKind::Expert
                    || b.listing.kind == ListingKind::Expert =>
                {
                    "专家"
                }
                None => "同类",
            };
            return Err(MatchError::NoApplicableWeight(pair));
        }
        let breakdown: Vec<Component> = parts
            .into_iter()
            .map(|(c, s)| Component {
                component: c,
                score: s.score,
                weight: w.get(c) / total,
                reason: s.reason,
            })
            .collect();
        let score = breakdown
            .iter()
            .map(|c| c.weight * c.score)
            .sum::<f64>()
            .clamp(0.0, 1.0);
        Ok(Scoring {
            score,
            breakdown,
            shared,
        })
    }
}

/// How many [`par_map`] calls are running in this process now.
static PAR_MAPS_RUNNING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts a running [`par_map`] while it lives.
struct Running;

impl Running {
    /// Counts this call in; returns the guard and how many calls run now, this one included.
    fn start() -> (Running, usize) {
        let n = PAR_MAPS_RUNNING.fetch_add(1, Ordering::AcqRel) + 1;
        (Running, n)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        PAR_MAPS_RUNNING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// `f` over `items` on up to `threads` scoped threads (contiguous chunks, results in input
/// order, so the outcome does not depend on the number of threads). The threads are shared
/// out among the calls running at the same time: extra threads only shorten one request
/// while cores are idle, and under concurrent requests (each already on a thread of its
/// own) starting and ending them per call costs more than it saves (a tenth of a loaded
/// server's time went to creating and tearing down these threads).
fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    let (_running, concurrent) = Running::start();
    let threads = (threads / concurrent).max(1).min(items.len() / 8).max(1);
    if threads == 1 {
        return items.iter().enumerate().map(|(i, x)| f(i, x)).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .enumerate()
            .map(|(ci, chunk)| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(i, x)| f(ci * per + i, x))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The source listing used for an unsaved text.
fn unsaved_need(text: &str) -> ListingText {
    ListingText {
        kind: ListingKind::Need,
        id: 0,
        external_id: None,
        title: String::new(),
        body: text.to_string(),
        keywords: Vec::new(),
        organization: None,
        industry: None,
        maturity: None,
        status: "published".to_string(),
        modes: Vec::new(),
        money_min: None,
        money_max: None,
        deadline: None,
        updated_at: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::MatcherConfig;

    #[test]
    fn text_share_leans_on_exact_terms_for_short_texts_only() {
        let c = MatcherConfig::default();
        // two long texts: the configured share; a side without features: the short share
        assert!((c.text_share(5_000, 400) - c.lexical_share).abs() < 1e-4);
        assert!((c.text_share(0, 400) - c.short_lexical_share).abs() < 1e-12);
        // symmetric, decided by the shorter side, falling as it grows, always in [0, 1]
        assert_eq!(c.text_share(30, 300), c.text_share(300, 30));
        assert_eq!(c.text_share(30, 300), c.text_share(30, 3_000));
        let shares: Vec<f64> = [0, 10, 20, 40, 80, 160]
            .iter()
            .map(|&n| c.text_share(n, n))
            .collect();
        assert!(shares.windows(2).all(|w| w[0] > w[1]), "{shares:?}");
        let odd = MatcherConfig {
            lexical_share: 2.0,
            short_lexical_share: -1.0,
            short_features: 0.0,
            ..MatcherConfig::default()
        };
        for n in [0, 1, 10, 1_000] {
            assert!((0.0..=1.0).contains(&odd.text_share(n, n)));
        }
    }
}
