//! What "more like this" matching needs from the index: each listing's weighted term
//! vector (computed once at indexing time and stored), candidate generation by a flat
//! weighted term disjunction under filters, and read-back of stored listings.
//!
//! ## Term vectors
//!
//! A listing's [`TermVector`] is the multiset of its index tokens, each occurrence weighted
//! by where it occurs ([`TITLE_TERM_WEIGHT`], [`KEYWORD_TERM_WEIGHT`], [`BODY_TERM_WEIGHT`];
//! an expert's title is a person's name and job title and carries no weight) and by whether
//! it is a word of the exact segmentation (1) or a dictionary sub-word of one
//! ([`duijie_text::SUB_WORD_WEIGHT`]), so `催化` still links `光催化` and `催化剂`. Numbers
//! and punctuation are left out; stopwords are not (the matcher owns the stopword list).
//! The vector is stored with the document, so re-scoring a candidate never re-analyses it.
//!
//! ## Candidates
//!
//! [`SearchIndex::candidates`] runs a *flat* disjunction of boosted term queries (each term in
//! title, keywords and body) so that tantivy can use Block-WAND top-k pruning, and applies
//! filters (kind, status, industry, city, zone, maturity, excluded ids) through a per-segment
//! bitset checked in the collection callback instead of `Must` clauses, which would disable
//! the pruning.

use crate::query::{FieldWeights, WeightedTerm};
use crate::schema::{self, listing_of};
use crate::{IndexError, SearchIndex};
use duijie_domain::{ListingKind, ListingText};
use duijie_text::{Analyzer, SUB_WORD_WEIGHT, is_han};
use std::collections::{BTreeMap, BinaryHeap};
use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, BoostQuery, EnableScoring, Occur, Query, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{BitSet, DocAddress, DocId, Score, TantivyDocument, Term};

/// Weight of a title occurrence in a term vector.
pub const TITLE_TERM_WEIGHT: f32 = 2.0;
/// Weight of a keyword (or research area) occurrence.
pub const KEYWORD_TERM_WEIGHT: f32 = 2.0;
/// Weight of a body occurrence.
pub const BODY_TERM_WEIGHT: f32 = 1.0;

/// A listing's weighted term frequencies, sorted by term.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermVector {
    /// `(term, weighted frequency)`, sorted by term, frequencies > 0.
    pub terms: Vec<(String, f32)>,
}

fn is_number(term: &str) -> bool {
    const NUMERALS: &str = "零〇一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟";
    term.chars().all(|c| {
        c.is_numeric() || matches!(c, '.' | '-' | '_' | '/' | '+' | '%') || NUMERALS.contains(c)
    })
}

/// Whether a token can be a matching term at all: it has a letter or digit, is not a number,
/// and is not a single non-Han character.
pub fn is_term_candidate(term: &str) -> bool {
    if !term.chars().any(char::is_alphanumeric) || is_number(term) {
        return false;
    }
    let mut chars = term.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => is_han(c),
        _ => true,
    }
}

impl TermVector {
    /// The term vector of a listing (see the module documentation).
    pub fn of_listing(analyzer: &Analyzer, l: &ListingText) -> TermVector {
        let mut acc = BTreeMap::new();
        let title_weight = if l.kind == ListingKind::Expert {
            0.0
        } else {
            TITLE_TERM_WEIGHT
        };
        add_text(analyzer, &l.title, title_weight, &mut acc);
        for k in &l.keywords {
            add_text(analyzer, k, KEYWORD_TERM_WEIGHT, &mut acc);
        }
        add_text(analyzer, &l.body, BODY_TERM_WEIGHT, &mut acc);
        TermVector {
            terms: acc.into_iter().collect(),
        }
    }

    /// [`TermVector::of_listing`] from index tokens already computed (indexing analyses each
    /// field once and hands the same tokens to tantivy): the title's, the keywords' joined by
    /// `；` (a separator no token crosses, so they are the tokens of each keyword) and the
    /// body's, each sorted by `(offset_from, offset_to)` as [`Analyzer::index_tokens`] returns
    /// them.
    pub(crate) fn of_tokens(
        kind: ListingKind,
        title: &[duijie_text::Token],
        keywords: &[duijie_text::Token],
        body: &[duijie_text::Token],
    ) -> TermVector {
        let mut acc = BTreeMap::new();
        let title_weight = if kind == ListingKind::Expert {
            0.0
        } else {
            TITLE_TERM_WEIGHT
        };
        add_tokens(title, title_weight, &mut acc);
        add_tokens(keywords, KEYWORD_TERM_WEIGHT, &mut acc);
        add_tokens(body, BODY_TERM_WEIGHT, &mut acc);
        TermVector {
            terms: acc.into_iter().collect(),
        }
    }

    /// The term vector of a free text (all of it weighted as a body).
    pub fn of_text(analyzer: &Analyzer, text: &str) -> TermVector {
        let mut acc = BTreeMap::new();
        add_text(analyzer, text, BODY_TERM_WEIGHT, &mut acc);
        TermVector {
            terms: acc.into_iter().collect(),
        }
    }

    /// Compact text form stored in the index: `term\tweight` lines.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(self.terms.len() * 10);
        for (t, w) in &self.terms {
            s.push_str(t);
            s.push('\t');
            s.push_str(&w.to_string());
            s.push('\n');
        }
        s
    }

    /// Parses [`TermVector::encode`]'s output; malformed lines are skipped.
    pub fn decode(s: &str) -> TermVector {
        let mut terms: Vec<(String, f32)> =
            decode_terms(s).map(|(t, w)| (t.to_string(), w)).collect();
        if !terms.is_sorted_by(|a, b| a.0 < b.0) {
            terms.sort_by(|a, b| a.0.cmp(&b.0));
            terms.dedup_by(|a, b| a.0 == b.0);
        }
        TermVector { terms }
    }
}

/// Iterates over the `(term, weight)` pairs of an encoded term vector without allocating;
/// malformed lines and non-positive weights are skipped.
pub fn decode_terms(s: &str) -> impl Iterator<Item = (&str, f32)> {
    s.lines().filter_map(|line| {
        let (t, w) = line.split_once('\t')?;
        let w: f32 = w.parse().ok()?;
        (w > 0.0 && w.is_finite() && !t.is_empty()).then_some((t, w))
    })
}

/// Adds the index tokens of `text` to `acc`: maximal tokens (the exact segmentation) at
/// `weight`, tokens nested inside another (sub-words) at `weight × SUB_WORD_WEIGHT`.
fn add_text(analyzer: &Analyzer, text: &str, weight: f32, acc: &mut BTreeMap<String, f32>) {
    if weight <= 0.0 || text.is_empty() {
        return;
    }
    add_tokens(&analyzer.index_tokens(text), weight, acc);
}

/// Adds index tokens to `acc` (see [`add_text`]).
fn add_tokens(tokens: &[duijie_text::Token], weight: f32, acc: &mut BTreeMap<String, f32>) {
    if weight <= 0.0 || tokens.is_empty() {
        return;
    }
    // start ascending, end descending: a token is nested iff an earlier one reaches as far
    let mut order: Vec<&duijie_text::Token> = tokens.iter().collect();
    order.sort_by(|a, b| {
        a.offset_from
            .cmp(&b.offset_from)
            .then(b.offset_to.cmp(&a.offset_to))
    });
    let mut reach = 0usize;
    for t in order {
        let nested = t.offset_to <= reach;
        reach = reach.max(t.offset_to);
        if !is_term_candidate(&t.text) {
            continue;
        }
        let w = if nested {
            weight * SUB_WORD_WEIGHT
        } else {
            weight
        };
        match acc.get_mut(t.text.as_str()) {
            Some(v) => *v += w,
            None => {
                acc.insert(t.text.clone(), w);
            }
        }
    }
}

/// Which documents may be candidates.
#[derive(Debug, Clone, Default)]
pub struct CandidateFilter {
    /// Kind wanted.
    pub kind: Option<ListingKind>,
    /// Status required (`published` when `None`).
    pub status: Option<String>,
    /// Industry code.
    pub industry: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Zone code.
    pub zone: Option<String>,
    /// Maturity code.
    pub maturity: Option<String>,
    /// Listings never returned.
    pub exclude: Vec<(ListingKind, i64)>,
}

impl CandidateFilter {
    /// Whether a listing passes, exactly as [`SearchIndex::candidates`] lets its stored
    /// document through (kind, status, industry, city, zone, maturity, exclusions): for
    /// candidates that come from elsewhere than the index's query.
    pub fn accepts(&self, l: &ListingText) -> bool {
        let org = l.organization.as_ref();
        self.kind.is_none_or(|k| k == l.kind)
            && l.status == self.status.as_deref().unwrap_or("published")
            && self
                .industry
                .as_ref()
                .is_none_or(|v| l.industry.as_ref() == Some(v))
            && self
                .city
                .as_ref()
                .is_none_or(|v| org.and_then(|o| o.city.as_ref()) == Some(v))
            && self
                .zone
                .as_ref()
                .is_none_or(|v| org.is_some_and(|o| o.zones.iter().any(|z| z == v)))
            && self
                .maturity
                .as_ref()
                .is_none_or(|v| l.maturity.as_ref() == Some(v))
            && !self.exclude.contains(&(l.kind, l.id))
    }
}

/// Filter bitsets per segment and filter, so repeated requests with the same filters (the
/// usual case: a kind and `published`) do not rebuild them. Segments are immutable, so an
/// entry stays valid while its segment lives (deletions are checked separately); the cache
/// is emptied when it grows past [`FilterCache::CAPACITY`] entries.
#[derive(Default)]
pub(crate) struct FilterCache {
    entries: std::sync::Mutex<
        std::collections::HashMap<(tantivy::index::SegmentId, String), std::sync::Arc<BitSet>>,
    >,
}

impl FilterCache {
    /// Entries kept at most.
    pub const CAPACITY: usize = 64;

    fn get_or_build(
        &self,
        segment: tantivy::index::SegmentId,
        key: &str,
        build: impl FnOnce() -> Result<BitSet, tantivy::TantivyError>,
    ) -> Result<std::sync::Arc<BitSet>, IndexError> {
        let k = (segment, key.to_string());
        if let Some(b) = self
            .entries
            .lock()
            .map_err(|_| IndexError::Poisoned)?
            .get(&k)
        {
            return Ok(b.clone());
        }
        let built = std::sync::Arc::new(build()?);
        let mut entries = self.entries.lock().map_err(|_| IndexError::Poisoned)?;
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(k, built.clone());
        Ok(built)
    }
}

/// The index-wide BM25 statistics of one searcher generation (document frequencies of terms,
/// token counts of fields), so that the terms a match request asks for are not looked up in
/// every segment's term dictionary again by the next request: a generation's statistics
/// never change. Emptied when a newer generation asks, or past
/// [`Bm25StatsCache::CAPACITY`] terms.
#[derive(Default)]
pub(crate) struct Bm25StatsCache {
    inner: std::sync::RwLock<Bm25Stats>,
}

#[derive(Default)]
struct Bm25Stats {
    generation: u64,
    docs: Option<u64>,
    tokens: std::collections::HashMap<tantivy::schema::Field, u64>,
    doc_freq: std::collections::HashMap<Term, u64>,
}

impl Bm25StatsCache {
    /// Terms whose document frequency is kept at most.
    pub const CAPACITY: usize = 100_000;

    /// A statistics provider for `searcher` that reads through this cache.
    fn provider<'a>(&'a self, searcher: &'a tantivy::Searcher) -> CachedStats<'a> {
        CachedStats {
            cache: self,
            searcher,
            generation: searcher.generation().generation_id(),
        }
    }

    fn get<T: Copy>(&self, generation: u64, read: impl Fn(&Bm25Stats) -> Option<T>) -> Option<T> {
        let s = self.inner.read().ok()?;
        (s.generation == generation).then(|| read(&s)).flatten()
    }

    fn put(&self, generation: u64, write: impl FnOnce(&mut Bm25Stats)) {
        let Ok(mut s) = self.inner.write() else {
            return;
        };
        if s.generation != generation {
            if s.generation > generation {
                return; // an older searcher: its figures are not kept
            }
            *s = Bm25Stats {
                generation,
                ..Bm25Stats::default()
            };
        }
        if s.doc_freq.len() >= Self::CAPACITY {
            s.doc_freq.clear();
        }
        write(&mut s);
    }
}

/// [`Bm25StatisticsProvider`] of one searcher through [`Bm25StatsCache`]:
/// the same figures as the searcher's own.
struct CachedStats<'a> {
    cache: &'a Bm25StatsCache,
    searcher: &'a tantivy::Searcher,
    generation: u64,
}

impl Bm25StatisticsProvider for CachedStats<'_> {
    fn total_num_tokens(&self, field: tantivy::schema::Field) -> tantivy::Result<u64> {
        if let Some(n) = self
            .cache
            .get(self.generation, |s| s.tokens.get(&field).copied())
        {
            return Ok(n);
        }
        let n = self.searcher.total_num_tokens(field)?;
        self.cache.put(self.generation, |s| {
            s.tokens.insert(field, n);
        });
        Ok(n)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        if let Some(n) = self.cache.get(self.generation, |s| s.docs) {
            return Ok(n);
        }
        let n = self.searcher.total_num_docs()?;
        self.cache.put(self.generation, |s| s.docs = Some(n));
        Ok(n)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        if let Some(n) = self
            .cache
            .get(self.generation, |s| s.doc_freq.get(term).copied())
        {
            return Ok(n);
        }
        let n = self.searcher.doc_freq(term)?;
        self.cache.put(self.generation, |s| {
            s.doc_freq.insert(term.clone(), n);
        });
        Ok(n)
    }
}

/// A candidate: BM25 score of the weighted disjunction and its address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// BM25 score (comparable within one call).
    pub score: f32,
    /// Document address in the searcher used.
    pub addr: DocAddress,
}

#[derive(PartialEq)]
struct HeapItem(f32, DocAddress);
impl Eq for HeapItem {}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapItem {
    // min-heap on score; on ties the later address is "smaller" so earlier docs are kept
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| self.1.cmp(&other.1))
    }
}

/// A stored listing read back from the index.
#[derive(Debug, Clone)]
pub struct StoredListing {
    /// The listing's indexable view.
    pub listing: ListingText,
    /// Its term vector, encoded ([`TermVector::encode`]).
    pub encoded_terms: String,
}

impl StoredListing {
    /// The term vector's `(term, weight)` pairs.
    pub fn terms(&self) -> impl Iterator<Item = (&str, f32)> {
        decode_terms(&self.encoded_terms)
    }

    /// The term vector.
    pub fn term_vector(&self) -> TermVector {
        TermVector::decode(&self.encoded_terms)
    }
}

impl SearchIndex {
    /// The generation of the current searcher: changes whenever a commit becomes visible.
    pub fn generation(&self) -> u64 {
        self.reader.searcher().generation().generation_id()
    }

    /// Top `limit` documents for a weighted term disjunction under `filter`, best first (ties:
    /// earlier document first). Each term is searched in title, keywords and body with
    /// `weights`. Blocking.
    pub fn candidates(
        &self,
        searcher: &tantivy::Searcher,
        terms: &[WeightedTerm],
        weights: &FieldWeights,
        filter: &CandidateFilter,
        limit: usize,
    ) -> Result<Vec<Candidate>, IndexError> {
        let f = &self.fields;
        let stats = self.bm25_stats.provider(searcher);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // the first clause left out, kept in case a single clause remains (below)
        let mut left_out: Option<(Occur, Box<dyn Query>)> = None;
        for t in terms {
            if !(t.weight > 0.0 && t.weight.is_finite()) {
                continue;
            }
            for (field, fw) in [
                (f.title, weights.title),
                (f.keywords, weights.keywords),
                (f.body, weights.body),
            ] {
                if fw > 0.0 {
                    let term = Term::from_field_text(field, &t.term);
                    let absent = stats.doc_freq(&term)? == 0;
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                    let clause: (Occur, Box<dyn Query>) =
                        (Occur::Should, Box::new(BoostQuery::new(q, fw * t.weight)));
                    // a term no listing has in this field adds nothing to any score: its
                    // clause is left out rather than looked up in every segment
                    if absent {
                        left_out.get_or_insert(clause);
                    } else {
                        clauses.push(clause);
                    }
                }
            }
        }
        if clauses.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // tantivy runs a lone optional clause as a required one, which collects the top
        // documents otherwise than a union of several (block-max pruning): one absent
        // clause goes back in so that the query is run as it was with all of them
        if clauses.len() == 1
            && let Some(c) = left_out
        {
            clauses.push(c);
        }
        let query = BooleanQuery::new(clauses);
        let weight = query.weight(EnableScoring::enabled_from_statistics_provider(
            &stats, searcher,
        ))?;

        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let term = |field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let status = filter.status.as_deref().unwrap_or("published");
        let mut cache_key = format!("status={status}");
        if let Some(k) = filter.kind {
            must.push((Occur::Must, term(f.kind, k.code())));
            cache_key.push_str(&format!("\u{1}kind={}", k.code()));
        }
        must.push((Occur::Must, term(f.status, status)));
        for (name, field, v) in [
            ("industry", f.industry, &filter.industry),
            ("city", f.city, &filter.city),
            ("zone", f.zone, &filter.zone),
            ("maturity", f.maturity, &filter.maturity),
        ] {
            if let Some(v) = v {
                must.push((Occur::Must, term(field, v)));
                cache_key.push_str(&format!("\u{1}{name}={v}"));
            }
        }
        let filter_weight =
            BooleanQuery::new(must).weight(EnableScoring::disabled_from_searcher(searcher))?;
        let exclude_keys: Vec<Term> = filter
            .exclude
            .iter()
            .map(|(k, id)| Term::from_field_text(f.key, &schema::key(*k, *id)))
            .collect();

        let mut heap: BinaryHeap<HeapItem> = BinaryHeap::with_capacity(limit + 1);
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let allowed =
                self.filter_cache
                    .get_or_build(reader.segment_id(), &cache_key, || {
                        let mut bits = BitSet::with_max_value(reader.max_doc().max(1));
                        filter_weight.for_each_no_score(reader, &mut |docs: &[DocId]| {
                            for &d in docs {
                                bits.insert(d);
                            }
                        })?;
                        Ok(bits)
                    })?;
            let mut excluded: Vec<DocId> = Vec::new();
            if !exclude_keys.is_empty() {
                let inverted = reader.inverted_index(f.key)?;
                for t in &exclude_keys {
                    if let Some(mut postings) = inverted
                        .read_postings(t, IndexRecordOption::Basic)
                        .map_err(|e| IndexError::Io(e.to_string()))?
                    {
                        use tantivy::DocSet;
                        let mut d = postings.doc();
                        while d != tantivy::TERMINATED {
                            excluded.push(d);
                            d = postings.advance();
                        }
                    }
                }
            }
            let alive = reader.alive_bitset();
            let seg = ord as u32;
            let mut threshold = match heap.peek() {
                Some(HeapItem(s, _)) if heap.len() >= limit => *s,
                _ => Score::MIN,
            };
            weight.for_each_pruning(threshold, reader, &mut |doc, score| {
                if !allowed.contains(doc)
                    || alive.is_some_and(|a| a.is_deleted(doc))
                    || excluded.contains(&doc)
                {
                    return threshold;
                }
                heap.push(HeapItem(score, DocAddress::new(seg, doc)));
                if heap.len() > limit {
                    heap.pop();
                }
                if heap.len() >= limit
                    && let Some(HeapItem(s, _)) = heap.peek()
                {
                    threshold = *s;
                }
                threshold
            })?;
        }
        let mut out: Vec<Candidate> = heap
            .into_iter()
            .map(|HeapItem(score, addr)| Candidate { score, addr })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.addr.cmp(&b.addr))
        });
        Ok(out)
    }

    /// Reads a document back as a listing with its term vector.
    pub fn stored_listing(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
    ) -> Result<StoredListing, IndexError> {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let listing = listing_of(&self.fields, &doc)
            .ok_or_else(|| IndexError::Query("stored document without kind or id".into()))?;
        let encoded_terms = schema::stored_str(&doc, self.fields.terms).unwrap_or_default();
        Ok(StoredListing {
            listing,
            encoded_terms,
        })
    }

    /// Finds a listing by kind and id in the current searcher.
    pub fn get_listing(
        &self,
        kind: ListingKind,
        id: i64,
    ) -> Result<Option<StoredListing>, IndexError> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(
            Term::from_field_text(self.fields.key, &schema::key(kind, id)),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(
            &q,
            &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
        )?;
        match top.first() {
            Some((_, addr)) => Ok(Some(self.stored_listing(&searcher, *addr)?)),
            None => Ok(None),
        }
    }

    /// Calls `f` with every live document of `searcher`: where it is ([`StoredAt`]), the
    /// listing as [`SearchIndex::stored_listing`] reads it, and its encoded term vector
    /// ([`decode_terms`]), in segment and document order (deterministic for a given index
    /// state). Blocking; reads the whole document store once, block by block.
    pub fn for_each_stored(
        &self,
        searcher: &tantivy::Searcher,
        mut f: impl FnMut(StoredAt, ListingText, &str),
    ) -> Result<(), IndexError> {
        let fields = &self.fields;
        for reader in searcher.segment_readers() {
            let store = reader
                .get_store_reader(8)
                .map_err(|e| IndexError::Io(e.to_string()))?;
            let alive = reader.alive_bitset();
            let segment = reader.segment_id();
            // without a bitset the store yields every document in id order
            for (doc_id, doc) in (0..reader.max_doc()).zip(store.iter::<TantivyDocument>(None)) {
                if alive.is_some_and(|a| a.is_deleted(doc_id)) {
                    continue;
                }
                let doc = doc?;
                if let Some(listing) = listing_of(fields, &doc) {
                    let terms = doc
                        .get_first(fields.terms)
                        .and_then(|v| v.as_str())
                        .unwrap_or("");
                    f(StoredAt { segment, doc_id }, listing, terms);
                }
            }
        }
        Ok(())
    }

    /// Where a candidate's document is, in the terms of [`SearchIndex::for_each_stored`]
    /// (a segment's documents never change, so this names one stored version of a listing).
    pub fn stored_at(&self, searcher: &tantivy::Searcher, addr: DocAddress) -> StoredAt {
        StoredAt {
            segment: searcher.segment_reader(addr.segment_ord).segment_id(),
            doc_id: addr.doc_id,
        }
    }
}

/// A stored document's place: its segment (stable across commits until the segment is
/// merged away) and its id in the segment. What is stored there never changes, so data
/// derived from it can be kept under this key for as long as the segment lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoredAt {
    /// Segment.
    pub segment: tantivy::index::SegmentId,
    /// Document id within the segment.
    pub doc_id: DocId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_candidates_and_encoding_round_trip() {
        assert!(is_term_candidate("稀土"));
        assert!(is_term_candidate("氘"));
        assert!(is_term_candidate("5g"));
        assert!(!is_term_candidate("2023"));
        assert!(!is_term_candidate("三十"));
        assert!(!is_term_candidate("a"));
        assert!(!is_term_candidate("，"));
        let tv = TermVector {
            terms: vec![("催化".into(), 1.5), ("稀土".into(), 3.0)],
        };
        assert_eq!(TermVector::decode(&tv.encode()), tv);
        assert_eq!(
            TermVector::decode("x\tnan\ny\t-1\nz\t2\nbad"),
            TermVector {
                terms: vec![("z".into(), 2.0)]
            }
        );
    }
}
