//! Corpus statistics and the semantic model, learnt from the index's own listings.
//!
//! A [`CorpusModel`] is a snapshot of the index: the number of documents, every term's
//! document frequency (for idf) and a latent semantic model (LSA): the top right singular
//! vectors of the listings' TF-IDF term–document matrix, computed by randomized subspace
//! iteration. Terms that occur in the same listings, or in listings that share other terms,
//! get nearby directions, so two listings that say the same thing in different words still
//! come out similar. A listing's semantic vector is the TF-IDF-weighted sum of its terms'
//! unit directions, minus the mean direction of all listings (what every listing shares, such
//! as the vocabulary of scientific writing), normalised.
//!
//! Nothing is downloaded and nothing is tuned to an evaluation set: the model is a function
//! of the indexed text alone, built with a fixed seed and a fixed work split, so it is
//! deterministic.

use super::latent::LatentSet;
use super::linalg::{Csr, gram, orthonormalize, random_matrix, symmetric_eigen};
use duijie_domain::ListingKind;
use duijie_domain::{Listed, ListingText};
use duijie_index::SearchIndex;
use duijie_index::similar::{StoredAt, decode_terms};
use duijie_text::{RARE_CHAR_MIN_IDF, Stopwords, is_han};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::index::SegmentId;

/// How the corpus model is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemanticParams {
    /// Latent dimensions (at most; fewer for small corpora: one per 8 documents).
    pub dims: usize,
    /// Oversampling of the randomized subspace iteration.
    pub oversample: usize,
    /// Subspace iterations.
    pub iterations: usize,
    /// Largest vocabulary (the terms with the highest document frequency are kept).
    pub max_vocab: usize,
    /// No semantic model below this many documents.
    pub min_docs: usize,
    /// Listings the term space is learnt from, about (one in `⌈n / max⌉`, picked by a hash
    /// of each listing, so spread over the whole index; the vocabulary and its document
    /// frequencies always come from every listing). The
    /// training's time and memory grow with the sample, so they stop growing past it;
    /// every listing still gets its vectors.
    pub train_max_docs: usize,
    /// `p`: a term's vector is its row of `V · Σ^(p − 1)` (`V` the right singular vectors,
    /// `Σ` the singular values). 2 gives the classic LSA term space `VΣ`, in which the dot
    /// products of terms are those of the rank-k term co-occurrence matrix `XᵀX`, so broad
    /// topics (large singular values) weigh more than narrow ones; 1 weighs every dimension
    /// alike. With `unit_terms` only directions count, and 2 still ranks listings by topic
    /// better than 1 (same-discipline P@10 on CSL papers about +0.005); 3, the default,
    /// weighs broad topics more again (title → results P@10 about +0.006, abstracts +0.002,
    /// known-item MRR unchanged; 4 gives no more).
    pub sv_power: f32,
    /// Subtract the mean listing direction before comparing.
    pub center: bool,
    /// Scale every term vector to unit length, so a listing's semantic vector is the
    /// TF-IDF-weighted mean of its terms' directions (frequent terms, whose LSA vectors are
    /// longer, do not drown the specific ones).
    pub unit_terms: bool,
    /// Exponent of idf in term weights `ln(1 + tf) · idf^p` (lexical and semantic). Above 1
    /// the specific terms of a text weigh more against its generic ones: 1.3, the default,
    /// gave same-discipline P@10 about +0.004 on CSL papers (abstracts and titles) with the
    /// semantic candidates and the short-text α in place, known-item MRR unchanged; 2 gave a
    /// little more P@10 but lost known-item MRR.
    pub idf_power: f64,
    /// Each Han character of a multi-character word is also a feature, with this share of
    /// the word's frequency (0: words only). Chinese technical terms that jieba segments
    /// differently, or that are new compounds of known morphemes (`制氢`, `氢能`, `储氢`),
    /// still share their characters.
    pub char_weight: f32,
    /// Weight factor of single Han characters that are common (`ln(N/df)` below
    /// [`RARE_CHAR_MIN_IDF`]); rare ones always count fully.
    pub common_char_weight: f64,
    /// Keep every indexed listing's vectors (as [`CorpusModel::prepare`] would compute them)
    /// and its structured fields with the model, by kind and id and by where it is stored, so
    /// re-scoring a candidate reads neither its document nor its stored term vector. Costs
    /// memory: about 8 bytes per feature plus 4 per dimension, plus the structured fields
    /// (a few hundred bytes), per listing.
    pub cache_docs: bool,
    /// Memory for the kept vectors and structured fields ([`SemanticParams::cache_docs`]),
    /// bytes: listings are kept in index order until it is spent, the others are read from
    /// the index when they are candidates. The semantic vectors of published listings (about
    /// 320 bytes each) are always kept, for the semantic candidates.
    pub cache_max_bytes: usize,
}

impl Default for SemanticParams {
    fn default() -> Self {
        SemanticParams {
            dims: 64,
            oversample: 16,
            iterations: 8,
            max_vocab: 60_000,
            min_docs: 40,
            train_max_docs: 50_000,
            sv_power: 3.0,
            center: true,
            unit_terms: true,
            idf_power: 1.3,
            char_weight: 0.3,
            common_char_weight: 1.0,
            cache_docs: true,
            cache_max_bytes: 512 << 20,
        }
    }
}

/// The learnt term space.
#[derive(Debug)]
struct Lsa {
    dims: usize,
    /// term id → row in `vectors`, `u32::MAX` when the term is not in the model.
    row: Vec<u32>,
    vectors: Vec<f32>,
    /// Mean unit listing vector of the training listings (zero when not centring).
    mean: Vec<f64>,
}

/// Statistics of one index snapshot and the semantic model built from it.
#[derive(Debug)]
pub struct CorpusModel {
    n_docs: u64,
    generation: u64,
    ids: TermIds,
    names: Vec<Box<str>>,
    df: Vec<u32>,
    /// term id → `idf^p`, or 0 when the term does not count (stopword, common single
    /// character).
    term_weight: Vec<f64>,
    lsa: Option<Lsa>,
    build_time: Duration,
    idf_power: f64,
    char_weight: f32,
    common_char_weight: f64,
    /// term id → range of `char_ids`: the ids of its Han characters when it is a
    /// multi-character Han word (empty otherwise).
    char_span: Vec<(u32, u32)>,
    char_ids: Vec<u32>,
    /// `(kind, id)` → the listing's vectors, with the fingerprints of the stored term vector
    /// and of the texts they were computed from.
    docs: HashMap<(ListingKind, i64), KeptVectors, FxBuild>,
    /// The same vectors, with each listing's scoring view, by where the listing is stored:
    /// a candidate from the index is scored without reading its document.
    placed: HashMap<SegmentId, Vec<Option<CachedDoc>>, FxBuild>,
    /// Listings kept per segment, with their vectors or as semantic candidates
    /// ([`CorpusModel::stale_share`]).
    kept_per_segment: Vec<(SegmentId, u64)>,
    /// Every published listing of the snapshot with a semantic vector (kept vectors or not),
    /// by kind, searchable by semantic cosine.
    latent: Vec<(ListingKind, LatentSet<LatentItem>)>,
    cache_bytes: usize,
}

/// An indexed listing as the model keeps it ([`SemanticParams::cache_docs`]).
#[derive(Debug, Clone)]
pub struct CachedDoc {
    /// The listing without its title, body and keywords (everything the score's structured
    /// components read).
    pub listing: Arc<ListingText>,
    /// Its vectors.
    pub prepared: Arc<Prepared>,
}

/// A listing's vectors under a [`CorpusModel`].
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// `(term key, ln(1 + tf) · idf^p)`, sorted by key, zero weights dropped. Keys are the
    /// model's term ids; terms the model does not know get a hashed key with the top bit set.
    pub terms: Vec<(u32, f32)>,
    /// Euclidean norm of the weights.
    pub norm: f64,
    /// Unit vector in the semantic space; `None` without a model or without known terms.
    pub semantic: Option<Vec<f32>>,
    /// Names of the terms the model does not know, by key.
    pub unknown: Vec<(u32, String)>,
}

/// What a model build reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorpusStats {
    /// Documents seen.
    pub docs: u64,
    /// Distinct terms.
    pub terms: usize,
    /// Terms in the semantic model.
    pub semantic_terms: usize,
    /// Dimensions of the semantic model (0 without one).
    pub dims: usize,
    /// Listings whose vectors are kept with the model.
    pub cached_docs: usize,
    /// Approximate heap bytes of the kept vectors.
    pub cache_bytes: usize,
    /// Time taken.
    pub build_time: Duration,
}

const UNKNOWN_BIT: u32 = 1 << 31;

/// A kept listing and its semantic vector, as [`LatentSet`] takes it.
type LatentEntry = (LatentItem, Vec<f32>);

/// A published listing the semantic candidates are searched among: where it is stored, and
/// its fields for the candidate filter.
type LatentItem = (StoredAt, Arc<ListingText>);

/// A fast non-cryptographic hasher for term lookups (FxHash's multiply-rotate); the keys
/// are the index's own terms, not attacker-chosen.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.0 = (self.0.rotate_left(26) ^ u64::from_le_bytes(b)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(26) ^ u64::from_le_bytes(b) ^ (rest.len() as u64) << 56)
                .wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(26) ^ u64::from(i)).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;
type TermIds = HashMap<Box<str>, u32, FxBuild>;

fn unknown_key(term: &str) -> u32 {
    // FNV-1a: stable across runs and platforms
    let mut h: u32 = 0x811c_9dc5;
    for b in term.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    UNKNOWN_BIT | (h & !UNKNOWN_BIT)
}

/// Fingerprint of a stored term vector: the cached vectors of a listing are used only for
/// the exact text they were computed from.
fn fingerprint(encoded: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = FxHasher::default();
    h.write(encoded.as_bytes());
    h.finish() ^ (encoded.len() as u64).rotate_left(32)
}

/// A kept listing's vectors and what they were computed from.
#[derive(Debug, Clone)]
struct KeptVectors {
    /// [`fingerprint`] of its stored term vector.
    terms: u64,
    /// [`text_fingerprint`] of its stored texts.
    text: u64,
    prepared: Arc<Prepared>,
}

/// Fingerprint of what [`TermVector::of_listing`](duijie_index::similar::TermVector::of_listing)
/// reads from a listing: its kind (an expert's title does not count), title, keywords and
/// body, each length-prefixed so that no two different texts run together into one.
fn text_fingerprint(l: &ListingText) -> u64 {
    use std::hash::Hasher;
    let mut h = FxHasher::default();
    let mut field = |s: &str| {
        h.write(&(s.len() as u64).to_le_bytes());
        h.write(s.as_bytes());
    };
    field(l.kind.code());
    field(&l.title);
    field(&l.body);
    for k in &l.keywords {
        field(k);
    }
    h.write(&(l.keywords.len() as u64).to_le_bytes());
    h.finish()
}

/// What pass 2 of a model build keeps: the listings' vectors (and their metadata without
/// texts), by id and by position in their segment, up to a memory budget in index order,
/// plus the semantic vectors of every published listing by kind for nearest-neighbour
/// candidates. Stage 2 scores a kept listing from the model alone, without reading or
/// analysing stored text, and reads the others from the index.
#[derive(Default)]
struct Kept {
    cache: HashMap<(ListingKind, i64), KeptVectors, FxBuild>,
    placed: HashMap<SegmentId, Vec<Option<CachedDoc>>, FxBuild>,
    by_kind: Vec<(ListingKind, Vec<LatentEntry>)>,
    held: HashMap<SegmentId, u64, FxBuild>,
    /// Heap bytes of everything kept.
    bytes: usize,
    /// Heap bytes of the vectors and fields the budget covers.
    kept_bytes: usize,
    /// The budget is spent: no later listing's vectors are kept.
    full: bool,
}

impl Kept {
    /// Takes a listing's vectors `p` (what [`CorpusModel::prepare`] gives for its stored
    /// terms, whose fingerprint is `fp`, and its texts, whose fingerprint is `text_fp`) and
    /// its fields without texts.
    fn add(
        &mut self,
        p: Prepared,
        listing: ListingText,
        (fp, text_fp): (u64, u64),
        at: StoredAt,
        max_bytes: usize,
    ) {
        let listing = Arc::new(listing);
        let latent = p.semantic.is_some() && listing.is_published();
        let fields = listing.footprint();
        let size = std::mem::size_of::<Prepared>()
            + fields
            + p.terms.len() * 8
            + p.semantic.as_ref().map_or(0, |v| v.len() * 4);
        // once the budget is spent, no later listing is kept (its vectors are computed again
        // from the index when it is a candidate)
        self.full = self.full || self.kept_bytes + size > max_bytes;
        if latent || !self.full {
            *self.held.entry(at.segment).or_default() += 1;
        }
        // only what can be proposed: stage 2 takes published listings alone
        if let Some(v) = p.semantic.as_ref().filter(|_| latent) {
            self.bytes += v.len() * 4 + 64;
            if self.full {
                // the fields are shared with the kept vectors when there are any
                self.bytes += fields;
            }
            let entry = ((at, listing.clone()), v.clone());
            match self.by_kind.iter_mut().find(|(k, _)| *k == listing.kind) {
                Some((_, list)) => list.push(entry),
                None => self.by_kind.push((listing.kind, vec![entry])),
            }
        }
        if self.full {
            return;
        }
        self.bytes += size;
        self.kept_bytes += size;
        let p = Arc::new(p);
        self.cache.insert(
            (listing.kind, listing.id),
            KeptVectors {
                terms: fp,
                text: text_fp,
                prepared: p.clone(),
            },
        );
        let slots = self.placed.entry(at.segment).or_default();
        let d = at.doc_id as usize;
        if slots.len() <= d {
            slots.resize(d + 1, None);
        }
        slots[d] = Some(CachedDoc {
            listing,
            prepared: p,
        });
    }
}

impl CorpusModel {
    /// Reads every listing's stored term vector from the index and builds the statistics
    /// and the semantic model: a first pass counts the vocabulary and keeps a training
    /// sample, a second (with [`SemanticParams::cache_docs`]) computes and keeps the
    /// listings' vectors.
    pub fn build(
        index: &SearchIndex,
        stopwords: &Stopwords,
        params: &SemanticParams,
    ) -> Result<CorpusModel, duijie_index::IndexError> {
        let t0 = Instant::now();
        let searcher = index.searcher();
        let generation = searcher.generation().generation_id();
        let mut ids: TermIds = TermIds::default();
        let mut names: Vec<Box<str>> = Vec::new();
        let mut df: Vec<u32> = Vec::new();
        // pass 1: the vocabulary and its document frequencies from every listing, and the
        // rows of the training sample (one listing in `step`, by a hash), so the memory of the build
        // is that of the sample, not of the corpus
        let step = (searcher.num_docs() as usize)
            .div_ceil(params.train_max_docs.max(1))
            .max(1);
        let mut sample: Vec<SampleRow> = Vec::new();
        let mut n_docs = 0u64;
        let char_weight = params.char_weight;
        index.for_each_stored(&searcher, |_, listing, encoded| {
            let row = stored_row(encoded, char_weight, |t| {
                Some(match ids.get(t) {
                    Some(&id) => id,
                    None => {
                        let id = df.len() as u32;
                        ids.insert(t.into(), id);
                        names.push(t.into());
                        df.push(0);
                        id
                    }
                })
            });
            for &(id, _) in &row {
                df[id as usize] += 1;
            }
            if in_sample(listing.kind, listing.id, step) {
                sample.push(((listing.kind, listing.id), row));
            }
            n_docs += 1;
        })?;
        // the model depends on the listings alone, not on how the index happens to lay them
        // out in segments (whose order is that of random segment ids)
        let sample = canonical_order(&mut ids, &mut names, &mut df, sample);
        let mut model = CorpusModel {
            n_docs,
            generation,
            ids,
            names,
            df,
            term_weight: Vec::new(),
            lsa: None,
            build_time: Duration::ZERO,
            idf_power: params.idf_power,
            char_weight: params.char_weight,
            common_char_weight: params.common_char_weight,
            char_span: Vec::new(),
            char_ids: Vec::new(),
            docs: HashMap::default(),
            placed: HashMap::default(),
            kept_per_segment: Vec::new(),
            latent: Vec::new(),
            cache_bytes: 0,
        };
        if model.char_weight > 0.0 {
            model.index_term_chars();
        }
        model.term_weight = (0..model.df.len())
            .map(|id| model.base_weight(&model.names[id], model.df[id], stopwords))
            .collect();
        if n_docs >= params.min_docs.max(2) as u64 {
            model.lsa = model.train(&sample, params);
        }
        drop(sample);
        if params.cache_docs {
            // pass 2: every listing's vectors under the model, kept within the budget
            let mut kept = Kept::default();
            index.for_each_stored(&searcher, |at, mut listing, encoded| {
                // the same snapshot as pass 1: every term has its id
                let row = stored_row(encoded, char_weight, |t| model.ids.get(t).copied());
                let fps = (fingerprint(encoded), text_fingerprint(&listing));
                // what scoring needs; the texts are read again for the few matches shown
                listing.title = String::new();
                listing.body = String::new();
                listing.keywords = Vec::new();
                let p = model.vectorize(row, Vec::new(), stopwords);
                kept.add(p, listing, fps, at, params.cache_max_bytes);
            })?;
            model.keep(kept);
        }
        model.build_time = t0.elapsed();
        Ok(model)
    }

    /// Fill `char_span` and `char_ids`: for every known term, the ids of its Han characters
    /// (when it is a multi-character Han word) that are themselves in the vocabulary, so
    /// `prepare` adds a known term's character features by id, without splitting the term
    /// and looking its characters up again for every listing.
    fn index_term_chars(&mut self) {
        let mut spans = Vec::with_capacity(self.names.len());
        let mut char_ids = Vec::new();
        for t in &self.names {
            let from = char_ids.len() as u32;
            for (c, _) in with_chars(std::iter::once((&**t, 1.0)), self.char_weight).skip(1) {
                if let Some(&cid) = self.ids.get(c) {
                    char_ids.push(cid);
                }
            }
            spans.push((from, char_ids.len() as u32));
        }
        self.char_span = spans;
        self.char_ids = char_ids;
    }

    /// Installs what pass 2 of [`CorpusModel::build`] kept.
    fn keep(&mut self, kept: Kept) {
        if let Some(lsa) = &self.lsa {
            self.latent = kept
                .by_kind
                .into_iter()
                .map(|(k, mut entries)| {
                    // in listing order, like the training sample: the k-means lists of a
                    // large set and the order of equal scores then do not depend on segments
                    entries.sort_unstable_by_key(|((_, listing), _)| listing.id);
                    (k, LatentSet::new(lsa.dims, entries))
                })
                .collect();
        }
        self.kept_per_segment = kept.held.into_iter().collect();
        self.docs = kept.cache;
        self.placed = kept.placed;
        self.cache_bytes = kept.bytes;
    }

    /// The vectors of an indexed listing as kept by the model, when `encoded` (its stored
    /// term vector) is what they were computed from; equal to [`CorpusModel::prepare`] of
    /// the decoded terms.
    pub fn cached(&self, kind: ListingKind, id: i64, encoded: &str) -> Option<Arc<Prepared>> {
        match self.docs.get(&(kind, id)) {
            Some(k) if k.terms == fingerprint(encoded) => Some(k.prepared.clone()),
            _ => None,
        }
    }

    /// The vectors of a listing the model keeps, when `listing`'s texts (title, keywords,
    /// body) are those they were computed from: what [`CorpusModel::prepare`] gives for
    /// [`TermVector::of_listing`](duijie_index::similar::TermVector::of_listing) of
    /// `listing`, without analysing it. A listing read from the store that the index holds
    /// as it is needs no analysis to be matched; one edited since (or never indexed) gets
    /// `None`.
    pub fn kept_for_texts(&self, listing: &ListingText) -> Option<Arc<Prepared>> {
        match self.docs.get(&(listing.kind, listing.id)) {
            Some(k) if k.text == text_fingerprint(listing) => Some(k.prepared.clone()),
            _ => None,
        }
    }

    /// The scoring view and vectors of the document at `at`, when it was in the snapshot the
    /// model was built from (a segment's documents never change, so no check is needed).
    pub fn at(&self, at: StoredAt) -> Option<&CachedDoc> {
        self.placed
            .get(&at.segment)?
            .get(at.doc_id as usize)?
            .as_ref()
    }

    /// The `k` kept listings of `kind` whose semantic vectors are nearest to `query` (a
    /// [`Prepared::semantic`] of this model), best first, among those `accept` lets through,
    /// with their semantic cosines; empty without a semantic model or published listings
    /// ([`SemanticParams::cache_docs`] off keeps none). Exact
    /// up to [`super::latent::EXACT_MAX`] listings of the kind, approximate above.
    pub fn nearest(
        &self,
        kind: ListingKind,
        query: &[f32],
        k: usize,
        mut accept: impl FnMut(StoredAt, &ListingText) -> bool,
    ) -> Vec<(StoredAt, &ListingText, f32)> {
        match self.latent.iter().find(|(k2, _)| *k2 == kind) {
            Some((_, set)) => set
                .nearest(query, k, |(at, d)| accept(*at, d))
                .into_iter()
                .map(|((at, d), s)| (*at, &**d, s))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Share of the listings this model keeps that `searcher` no longer holds as they were:
    /// their segment was merged away, or they were deleted or edited since (segments are
    /// immutable, so a kept segment's live documents can only fall). 0 when nothing is kept.
    /// The kept vectors (re-scoring without reading documents, the semantic candidates) only
    /// serve the listings still in place, so a model whose share has grown is worth
    /// rebuilding even when the number of documents has not moved.
    pub fn stale_share(&self, searcher: &tantivy::Searcher) -> f64 {
        let kept: u64 = self.kept_per_segment.iter().map(|(_, k)| k).sum();
        if kept == 0 {
            return 0.0;
        }
        let readers = searcher.segment_readers();
        let stale: u64 = self
            .kept_per_segment
            .iter()
            .map(|(seg, k)| {
                readers
                    .iter()
                    .find(|r| r.segment_id() == *seg)
                    .map_or(*k, |r| k.saturating_sub(u64::from(r.num_docs())))
            })
            .sum();
        stale as f64 / kept as f64
    }

    /// An empty model (no documents): uniform idf, no semantic space.
    pub fn empty() -> CorpusModel {
        CorpusModel {
            n_docs: 0,
            generation: u64::MAX,
            ids: TermIds::default(),
            names: Vec::new(),
            df: Vec::new(),
            term_weight: Vec::new(),
            lsa: None,
            build_time: Duration::ZERO,
            idf_power: 1.0,
            char_weight: 0.0,
            common_char_weight: 1.0,
            char_span: Vec::new(),
            char_ids: Vec::new(),
            docs: HashMap::default(),
            placed: HashMap::default(),
            kept_per_segment: Vec::new(),
            latent: Vec::new(),
            cache_bytes: 0,
        }
    }

    /// The searcher generation the model was built from.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Documents in the snapshot.
    pub fn n_docs(&self) -> u64 {
        self.n_docs
    }

    /// Whether there is a semantic space.
    pub fn has_semantic(&self) -> bool {
        self.lsa.is_some()
    }

    /// Build statistics.
    pub fn stats(&self) -> CorpusStats {
        CorpusStats {
            docs: self.n_docs,
            terms: self.df.len(),
            semantic_terms: self
                .lsa
                .as_ref()
                .map_or(0, |l| l.row.iter().filter(|r| **r != u32::MAX).count()),
            dims: self.lsa.as_ref().map_or(0, |l| l.dims),
            cached_docs: self.docs.len(),
            cache_bytes: self.cache_bytes,
            build_time: self.build_time,
        }
    }

    /// `ln(1 + N / df)`; a term the snapshot does not know counts as occurring once.
    pub fn idf(&self, term: &str) -> f64 {
        let df = self.ids.get(term).map_or(0, |&i| self.df[i as usize]);
        self.idf_of_df(df)
    }

    fn idf_of_df(&self, df: u32) -> f64 {
        let n = self.n_docs.max(1) as f64;
        (1.0 + n / f64::from(df.max(1))).ln()
    }

    /// `idf^p` of a term with document frequency `df`, or 0 when the term does not count: a
    /// stopword, or a single Han character that is not rare (`ln(N/df)` below
    /// [`RARE_CHAR_MIN_IDF`]).
    fn base_weight(&self, term: &str, df: u32, stopwords: &Stopwords) -> f64 {
        if stopwords.contains(term) {
            return 0.0;
        }
        let mut chars = term.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && is_han(c)
        {
            let n = self.n_docs.max(1) as f64;
            if (n / f64::from(df.max(1))).ln() < f64::from(RARE_CHAR_MIN_IDF) {
                return self.common_char_weight * self.idf_of_df(df).powf(self.idf_power);
            }
        }
        self.idf_of_df(df).powf(self.idf_power)
    }

    /// The name of a term key of `p` (or of the model).
    pub fn name<'a>(&'a self, key: u32, p: &'a Prepared) -> Option<&'a str> {
        if key & UNKNOWN_BIT == 0 {
            self.names.get(key as usize).map(|s| &**s)
        } else {
            p.unknown
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, s)| s.as_str())
        }
    }

    /// A listing's TF-IDF and semantic vectors from `(term, weighted frequency)` pairs (the
    /// same features and weights the model was trained with: frequencies of a feature are
    /// summed before `ln(1 + tf)` is taken).
    pub fn prepare<'t>(
        &self,
        terms: impl IntoIterator<Item = (&'t str, f32)>,
        stopwords: &Stopwords,
    ) -> Prepared {
        let cw = self.char_weight;
        let mut feats: Vec<(u32, f32)> = Vec::new();
        let mut unknown: Vec<(u32, String)> = Vec::new();
        let mut unknown_feature =
            |t: &str, tf: f32, feats: &mut Vec<(u32, f32)>| match self.ids.get(t) {
                Some(&id) => feats.push((id, tf)),
                None => {
                    let key = unknown_key(t);
                    if !unknown.iter().any(|(k, _)| *k == key) {
                        unknown.push((key, t.to_string()));
                    }
                    feats.push((key, tf));
                }
            };
        for (t, tf) in terms {
            if tf.is_nan() || tf <= 0.0 {
                continue;
            }
            match self.ids.get(t) {
                Some(&id) => {
                    feats.push((id, tf));
                    if cw > 0.0 {
                        let (from, to) = self.char_span[id as usize];
                        for &c in &self.char_ids[from as usize..to as usize] {
                            feats.push((c, tf * cw));
                        }
                    }
                }
                None => {
                    for (f, w) in with_chars(std::iter::once((t, tf)), cw) {
                        unknown_feature(f, w, &mut feats);
                    }
                }
            }
        }
        sum_duplicates(&mut feats);
        self.vectorize(feats, unknown, stopwords)
    }

    /// Weights of summed features (sorted by key, one entry per key) and the semantic vector.
    fn vectorize(
        &self,
        feats: Vec<(u32, f32)>,
        mut unknown: Vec<(u32, String)>,
        stopwords: &Stopwords,
    ) -> Prepared {
        let mut out: Vec<(u32, f32)> = Vec::with_capacity(feats.len());
        let mut sem = self.lsa.as_ref().map(|l| vec![0f64; l.dims]);
        let mut any_sem = false;
        for (key, tf) in feats {
            let damp = (1.0 + f64::from(tf)).ln();
            if key & UNKNOWN_BIT == 0 {
                let id = key as usize;
                let base = self.term_weight[id];
                if base <= 0.0 {
                    continue;
                }
                let w = (damp * base) as f32;
                out.push((key, w));
                if let (Some(lsa), Some(v)) = (&self.lsa, sem.as_mut()) {
                    let r = lsa.row[id];
                    if r != u32::MAX {
                        any_sem = true;
                        let tv = &lsa.vectors[r as usize * lsa.dims..(r as usize + 1) * lsa.dims];
                        for (a, b) in v.iter_mut().zip(tv) {
                            *a += f64::from(w) * f64::from(*b);
                        }
                    }
                }
            } else if let Some((_, name)) = unknown.iter().find(|(k, _)| *k == key) {
                let base = self.base_weight(name, 0, stopwords);
                if base > 0.0 {
                    out.push((key, (damp * base) as f32));
                }
            }
        }
        unknown.retain(|(k, _)| out.binary_search_by_key(k, |x| x.0).is_ok());
        let norm = out
            .iter()
            .map(|(_, w)| f64::from(*w) * f64::from(*w))
            .sum::<f64>()
            .sqrt();
        let semantic = match (&self.lsa, sem) {
            (Some(lsa), Some(v)) if any_sem => lsa.finish(v),
            _ => None,
        };
        Prepared {
            terms: out,
            norm,
            semantic,
            unknown,
        }
    }

    /// Learns the term space from `sample`, rows of [`CorpusModel::build`]'s pass 1 (the
    /// vocabulary's document frequencies are those of every listing).
    fn train(&self, sample: &[Vec<(u32, f32)>], p: &SemanticParams) -> Option<Lsa> {
        let n = self.n_docs as usize;
        // vocabulary: counted terms in ≥ 2 documents and at most half of them
        let mut cand: Vec<(u32, u32)> = Vec::new();
        for (id, &df) in self.df.iter().enumerate() {
            if df >= 2 && (df as usize) * 2 <= n && self.term_weight[id] > 0.0 {
                cand.push((id as u32, df));
            }
        }
        cand.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        cand.truncate(p.max_vocab);
        if cand.len() < 4 {
            return None;
        }
        let mut row = vec![u32::MAX; self.df.len()];
        for (r, (id, _)) in cand.iter().enumerate() {
            row[*id as usize] = r as u32;
        }
        // the subspace of a large sample spread over the corpus is that of the whole: past
        // `train_max_docs` listings the training's time and memory stop growing
        let n = sample.len();
        let rows: Vec<Vec<(u32, f32)>> = sample
            .iter()
            .map(|d| {
                let mut r: Vec<(u32, f32)> = d
                    .iter()
                    .filter_map(|&(id, tf)| {
                        let c = row[id as usize];
                        (c != u32::MAX).then(|| {
                            (
                                c,
                                ((1.0 + f64::from(tf)).ln() * self.term_weight[id as usize]) as f32,
                            )
                        })
                    })
                    .collect();
                let norm = r.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
                if norm > 0.0 {
                    for (_, v) in &mut r {
                        *v /= norm;
                    }
                }
                r
            })
            .collect();
        let vocab = cand.len();
        let x = Csr::from_rows(&rows, vocab);
        let xt = x.transpose();
        let k = p.dims.min(n / 8).min(vocab / 2).max(2);
        let l = (k + p.oversample).min(vocab).min(n);
        if l < 2 {
            return None;
        }
        // subspace iteration on XᵀX (vocab × vocab), starting from a random basis
        let mut z = random_matrix(vocab * l, 0x5eed_d1e1_u64);
        orthonormalize(&mut z, vocab, l);
        for _ in 0..p.iterations {
            let y = x.mul(&z, l);
            z = xt.mul(&y, l);
            orthonormalize(&mut z, vocab, l);
        }
        // Rayleigh–Ritz: T = (XZ)ᵀ(XZ) = W Λ Wᵀ; right singular vectors Z W, σ = √λ
        let y = x.mul(&z, l);
        let t = gram(&y, n, l);
        let (lambda, w) = symmetric_eigen(&t, l);
        let k = k.min(l);
        let scale: Vec<f64> = (0..k)
            .map(|j| lambda[j].max(0.0).sqrt().powf(f64::from(p.sv_power) - 1.0))
            .map(|s| if s.is_finite() { s } else { 0.0 })
            .collect();
        let mut vectors = vec![0f32; vocab * k];
        for r in 0..vocab {
            let zr = &z[r * l..(r + 1) * l];
            let v = &mut vectors[r * k..(r + 1) * k];
            for (j, out) in v.iter_mut().enumerate() {
                let acc: f64 = (0..l).map(|i| f64::from(zr[i]) * w[i * l + j]).sum();
                *out = (acc * scale[j]) as f32;
            }
            if p.unit_terms {
                let n = v
                    .iter()
                    .map(|x| f64::from(*x) * f64::from(*x))
                    .sum::<f64>()
                    .sqrt();
                if n > 0.0 {
                    for x in v.iter_mut() {
                        *x = (f64::from(*x) / n) as f32;
                    }
                }
            }
        }
        let mut lsa = Lsa {
            dims: k,
            row,
            vectors,
            mean: vec![0f64; k],
        };
        if p.center {
            // mean direction of the training listings, with the same weights as `prepare`
            let mut mean = vec![0f64; k];
            let mut used = 0usize;
            let mut v = vec![0f64; k];
            for d in sample {
                v.fill(0.0);
                let mut any = false;
                for &(id, tf) in d {
                    let w = ((1.0 + f64::from(tf)).ln() * self.term_weight[id as usize]) as f32;
                    let r = lsa.row[id as usize];
                    if r == u32::MAX || w <= 0.0 {
                        continue;
                    }
                    any = true;
                    for (a, b) in v
                        .iter_mut()
                        .zip(&lsa.vectors[r as usize * k..(r as usize + 1) * k])
                    {
                        *a += f64::from(w) * f64::from(*b);
                    }
                }
                let nv = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                if any && nv > 0.0 {
                    used += 1;
                    for (m, x) in mean.iter_mut().zip(&v) {
                        *m += x / nv;
                    }
                }
            }
            for m in &mut mean {
                *m /= used.max(1) as f64;
            }
            lsa.mean = mean;
        }
        Some(lsa)
    }
}

impl Lsa {
    /// Normalises, subtracts the mean direction, normalises again.
    fn finish(&self, mut v: Vec<f64>) -> Option<Vec<f32>> {
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n <= 0.0 {
            return None;
        }
        for (x, m) in v.iter_mut().zip(&self.mean) {
            *x = *x / n - m;
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        (n > 0.0).then(|| v.iter().map(|x| (x / n) as f32).collect())
    }
}

/// A row of the training sample: the listing and its features `(term id, frequency)`.
type SampleRow = ((ListingKind, i64), Vec<(u32, f32)>);

/// Whether the listing `(kind, id)` is in the training sample of a corpus that takes one
/// listing in `step`: a hash of the listing, so the sample is the same whatever the order in
/// which the index holds the listings.
fn in_sample(kind: ListingKind, id: i64, step: usize) -> bool {
    if step <= 1 {
        return true;
    }
    // splitmix64's finaliser: every bit of the listing's id moves every bit of the hash
    let mut z = (id as u64) ^ (u64::from(kind as u8) << 56);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    z.is_multiple_of(step as u64)
}

/// Renumbers the vocabulary of a model build's first pass in the order of the terms
/// themselves (ids were given as terms were first seen, in the index's segment order) and
/// puts the sample's rows in listing order, so a build depends on the listings alone: two
/// indexes holding the same listings in other segments give the same model, bit for bit.
/// Returns the sample's rows, each sorted by its new ids.
fn canonical_order(
    ids: &mut TermIds,
    names: &mut Vec<Box<str>>,
    df: &mut Vec<u32>,
    mut sample: Vec<SampleRow>,
) -> Vec<Vec<(u32, f32)>> {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_unstable_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
    let mut new_id = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_id[old as usize] = new as u32;
    }
    *names = order
        .iter()
        .map(|&old| std::mem::take(&mut names[old as usize]))
        .collect();
    *df = order.iter().map(|&old| df[old as usize]).collect();
    for id in ids.values_mut() {
        *id = new_id[*id as usize];
    }
    sample.sort_unstable_by_key(|(listing, _)| *listing);
    sample
        .into_iter()
        .map(|(_, mut row)| {
            for (id, _) in &mut row {
                *id = new_id[*id as usize];
            }
            // a row's ids are distinct (its duplicates were summed): sorting is all it needs
            row.sort_unstable_by_key(|x| x.0);
            row
        })
        .collect()
}

/// The features of a stored term vector (`encoded`), with the Han characters of its words
/// at `char_weight`, as `(id, frequency)` sorted by id with duplicates summed; `id_of` names
/// each term's id (`None` leaves the term out).
fn stored_row(
    encoded: &str,
    char_weight: f32,
    mut id_of: impl FnMut(&str) -> Option<u32>,
) -> Vec<(u32, f32)> {
    let terms = decode_terms(encoded).filter(|(_, w)| !w.is_nan() && *w > 0.0);
    let mut row: Vec<(u32, f32)> = with_chars(terms, char_weight)
        .filter_map(|(t, w)| Some((id_of(t)?, w)))
        .collect();
    sum_duplicates(&mut row);
    row
}

/// The terms followed, when `char_weight > 0`, by the Han characters of each multi-character
/// Han term at `char_weight` times its frequency.
fn with_chars<'t>(
    terms: impl IntoIterator<Item = (&'t str, f32)>,
    char_weight: f32,
) -> impl Iterator<Item = (&'t str, f32)> {
    terms.into_iter().flat_map(move |(t, w)| {
        let chars: Vec<(&'t str, f32)> =
            if char_weight > 0.0 && t.chars().nth(1).is_some() && t.chars().all(is_han) {
                t.char_indices()
                    .map(|(i, c)| (&t[i..i + c.len_utf8()], w * char_weight))
                    .collect()
            } else {
                Vec::new()
            };
        std::iter::once((t, w)).chain(chars)
    })
}

/// Cosine of two prepared listings' TF-IDF vectors and their shared terms with each one's
/// contribution `w_a · w_b / (‖a‖ ‖b‖)`, in key order. Symmetric: the dot product is summed
/// in key order, the same whichever listing comes first.
pub fn lexical(a: &Prepared, b: &Prepared) -> (f64, Vec<(u32, f64)>) {
    let mut shared = Vec::new();
    let dot = merge_dot(a, b, |k, c| shared.push((k, c)));
    (dot, shared)
}

/// [`lexical`] without the shared terms: the same value, nothing allocated.
pub fn lexical_cosine(a: &Prepared, b: &Prepared) -> f64 {
    merge_dot(a, b, |_, _| {})
}

fn merge_dot(a: &Prepared, b: &Prepared, mut each: impl FnMut(u32, f64)) -> f64 {
    let denom = a.norm * b.norm;
    if denom <= 0.0 {
        return 0.0;
    }
    let (a, b) = (a.terms.as_slice(), b.terms.as_slice());
    let (mut i, mut j) = (0, 0);
    let mut dot = 0.0;
    // a merge of the two sorted key lists that advances without a data-dependent branch
    // (each side moves on when its key is not the larger one); shared keys, a small share,
    // are the only branch, and come in key order as before
    while i < a.len() && j < b.len() {
        let ((ka, wa), (kb, wb)) = (a[i], b[j]);
        if ka == kb {
            let c = f64::from(wa) * f64::from(wb) / denom;
            dot += c;
            each(ka, c);
        }
        i += usize::from(ka <= kb);
        j += usize::from(kb <= ka);
    }
    dot.clamp(0.0, 1.0)
}

/// Sorts `(key, frequency)` pairs by key and sums the frequencies of equal keys (in their
/// original order).
fn sum_duplicates(feats: &mut Vec<(u32, f32)>) {
    feats.sort_by_key(|x| x.0);
    feats.dedup_by(|later, first| {
        if later.0 == first.0 {
            first.1 += later.1;
            true
        } else {
            false
        }
    });
}

/// Cosine of the semantic vectors, clamped at 0; `None` when either has none.
pub fn semantic(a: &Prepared, b: &Prepared) -> Option<f64> {
    let (x, y) = (a.semantic.as_ref()?, b.semantic.as_ref()?);
    let dot: f64 = x
        .iter()
        .zip(y)
        .map(|(p, q)| f64::from(*p) * f64::from(*q))
        .sum();
    Some(dot.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(terms: &[(u32, f32)]) -> Prepared {
        let norm = terms
            .iter()
            .map(|(_, w)| f64::from(*w) * f64::from(*w))
            .sum::<f64>()
            .sqrt();
        Prepared {
            terms: terms.to_vec(),
            norm,
            semantic: None,
            unknown: Vec::new(),
        }
    }

    #[test]
    fn lexical_cosine_at_its_boundaries_and_equal_to_lexical() {
        let a = prepared(&[(1, 1.0), (3, 2.0)]);
        let b = prepared(&[(2, 1.0), (4, 2.0)]);
        let empty = prepared(&[]);
        // no overlap, full overlap, missing vector
        assert_eq!(lexical_cosine(&a, &b), 0.0);
        assert!((lexical_cosine(&a, &a) - 1.0).abs() < 1e-12);
        assert_eq!(lexical_cosine(&a, &empty), 0.0);
        assert_eq!(lexical_cosine(&empty, &empty), 0.0);
        // partial overlap: the same value as the explaining variant, from either side
        let c = prepared(&[(1, 0.5), (2, 1.0), (3, 0.25)]);
        let (lex, shared) = lexical(&a, &c);
        assert_eq!(lexical_cosine(&a, &c), lex);
        assert_eq!(lexical_cosine(&c, &a), lex);
        assert!(lex > 0.0 && lex < 1.0);
        assert_eq!(
            shared.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(lexical(&a, &b).1, Vec::new());
    }

    #[test]
    fn the_merged_dot_product_is_the_key_ordered_sum_over_shared_keys() {
        // random sparse vectors against a plain computation: every shared key, in key order
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..500 {
            let (len_a, len_b) = (next(40), next(40));
            let mut vec = |len: u64, span: u64| {
                let mut keys: Vec<u32> = (0..len).map(|_| next(span) as u32).collect();
                keys.sort_unstable();
                keys.dedup();
                let terms: Vec<(u32, f32)> = keys
                    .into_iter()
                    .map(|k| (k, 0.25 + next(100) as f32 / 10.0))
                    .collect();
                prepared(&terms)
            };
            let (a, b) = (vec(len_a, 60), vec(len_b, 60));
            let denom = a.norm * b.norm;
            let mut expected = 0.0;
            let mut keys = Vec::new();
            for &(k, wa) in &a.terms {
                if let Some(&(_, wb)) = b.terms.iter().find(|(kb, _)| *kb == k) {
                    expected += f64::from(wa) * f64::from(wb) / denom;
                    keys.push(k);
                }
            }
            let expected = if denom > 0.0 {
                expected.clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (lex, shared) = lexical(&a, &b);
            assert_eq!(lex, expected);
            assert_eq!(lexical_cosine(&b, &a), expected);
            if denom > 0.0 {
                assert_eq!(shared.iter().map(|(k, _)| *k).collect::<Vec<_>>(), keys);
            }
        }
    }

    #[test]
    fn duplicates_are_summed_in_order_and_fingerprints_tell_texts_apart() {
        let mut f = vec![(3, 1.0), (1, 0.5), (3, 0.25), (1, 0.5)];
        sum_duplicates(&mut f);
        assert_eq!(f, vec![(1, 1.0), (3, 1.25)]);
        let mut e: Vec<(u32, f32)> = Vec::new();
        sum_duplicates(&mut e);
        assert!(e.is_empty());
        assert_eq!(fingerprint("稀土:2 制氢:1"), fingerprint("稀土:2 制氢:1"));
        assert_ne!(fingerprint("稀土:2 制氢:1"), fingerprint("稀土:2 制氢:2"));
        assert_ne!(fingerprint(""), fingerprint("\0"));
        assert!(unknown_key("新词") & UNKNOWN_BIT != 0);
    }
}
