//! Search: text query plus filters, facet counts, highlighted snippets, pagination.

use crate::facets::{CountFacets, Matches};
use crate::query::{FieldWeights, TITLE_PHRASE_WEIGHT, TextQuery, text_query_parts};
use crate::schema::{stored_all, stored_i64, stored_str};
use crate::{IndexError, SearchIndex};
use duijie_domain::ListingKind;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, AllScorer, BooleanQuery, BooleanWeight, BoostQuery, ConstScoreQuery, ConstScorer,
    EmptyScorer, EnableScoring, Explanation, Occur, PhraseQuery, Query, Scorer, SumCombiner,
    Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyDocument, Term};

/// A search as the API receives it, already validated.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// Free text; empty lists everything that passes the filters.
    pub q: String,
    /// Restrict to a kind.
    pub kind: Option<ListingKind>,
    /// Industry code.
    pub industry: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Zone code.
    pub zone: Option<String>,
    /// Maturity code.
    pub maturity: Option<String>,
    /// Status code; `None` means published listings only.
    pub status: Option<String>,
    /// Page size (≥ 1).
    pub limit: usize,
    /// Hits skipped.
    pub offset: usize,
}

/// Highlighted fragments: HTML with matches in `<mark>`, everything else escaped.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = SearchHighlights))]
pub struct Highlights {
    /// The title with matches marked.
    pub title: String,
    /// The best fragment of the summary / description.
    pub summary: String,
    /// The keywords (`；`-separated) with matches marked; empty when none matched.
    pub keywords: String,
}

/// One hit.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hit {
    /// Store id.
    pub id: i64,
    /// Organiser's id.
    pub external_id: Option<String>,
    /// Kind.
    pub kind: ListingKind,
    /// Plain title.
    pub title: String,
    /// Relevance (BM25-based; comparable within one search only).
    pub score: f32,
    /// Highlighted title and summary.
    pub highlights: Highlights,
    /// Industry code.
    pub industry: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Organisation name.
    pub organization: Option<String>,
}

/// Facet counts: dimension → value → count.
pub type Facets = BTreeMap<String, BTreeMap<String, u64>>;

/// The answer to a search.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    /// Matching documents in all.
    pub total: usize,
    /// This page.
    pub hits: Vec<Hit>,
    /// Counts per industry, zone, city, maturity and kind over all matches.
    pub facets: Facets,
}

pub(crate) const FACET_DIMS: [&str; 5] = ["industry", "zone", "city", "maturity", "kind"];

/// Searches whose counts are kept per searcher generation (a bound on memory: one entry is
/// a few kilobytes with its facet counts).
const MAX_CACHED_COUNTS: usize = 1024;

/// What the total and the facet counts of a search depend on: everything but the page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CountKey {
    q: String,
    kind: Option<ListingKind>,
    filters: [Option<String>; 5],
}

impl CountKey {
    fn of(req: &SearchRequest) -> CountKey {
        CountKey {
            q: req.q.clone(),
            kind: req.kind,
            filters: [
                req.industry.clone(),
                req.city.clone(),
                req.zone.clone(),
                req.maturity.clone(),
                req.status.clone(),
            ],
        }
    }
}

/// A search's total and facet counts, by what they depend on.
type CountMap = HashMap<CountKey, (usize, Facets)>;

/// Totals and facet counts of recent searches, valid for one searcher generation: a commit
/// makes a new generation and empties the cache, so counts are never older than the hits.
#[derive(Debug, Default)]
pub(crate) struct CountCache {
    /// The generation the entries belong to, and the entries.
    inner: Mutex<(u64, CountMap)>,
}

impl CountCache {
    fn get(&self, generation: u64, key: &CountKey) -> Option<(usize, Facets)> {
        let inner = self.inner.lock().ok()?;
        if inner.0 != generation {
            return None;
        }
        inner.1.get(key).cloned()
    }

    fn put(&self, generation: u64, key: CountKey, counts: (usize, Facets)) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.0 != generation {
            // a search of an older generation must not fill the new one's cache
            if inner.0 > generation {
                return;
            }
            *inner = (generation, HashMap::new());
        }
        if inner.1.len() >= MAX_CACHED_COUNTS {
            inner.1.clear();
        }
        inner.1.insert(key, counts);
    }
}

/// A filter on one exact term, scoring 0. In a segment where every document holds the
/// term (the usual case for `status:published`), it matches every document without
/// reading the term's postings, and the boolean query drops it from the intersection.
#[derive(Debug, Clone)]
struct TermFilter(Term);

impl Query for TermFilter {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(TermFilterWeight {
            term: self.0.clone(),
        }))
    }
}

struct TermFilterWeight {
    term: Term,
}

impl Weight for TermFilterWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        // the term is looked up once, for its count and its postings
        let inverted = reader.inverted_index(self.term.field())?;
        let Some(info) = inverted.get_term_info(&self.term)? else {
            return Ok(Box::new(EmptyScorer));
        };
        let max_doc = reader.max_doc();
        if max_doc > 0 && info.doc_freq == max_doc {
            return Ok(Box::new(AllScorer::new(max_doc)));
        }
        let postings = inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
        Ok(Box::new(ConstScorer::new(postings, 0.0)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut held = self.scorer(reader, 1.0)?;
        if held.doc() > doc || held.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not hold {:?}",
                self.term
            )));
        }
        Ok(Explanation::new("filter (scores nothing)", 0.0))
    }
}

/// Whether every document of the segment holds the term.
pub(crate) fn held_by_all(reader: &SegmentReader, term: &Term) -> tantivy::Result<bool> {
    let max_doc = reader.max_doc();
    Ok(max_doc > 0 && reader.inverted_index(term.field())?.doc_freq(term)? == max_doc)
}

/// The ranking of a text search, for a top-k collector.
///
/// Scoring every match of a union of term postings is most of a search's cost. When the
/// text's term clauses alone decide what matches (no multi-word synonym) and, in a
/// segment, every filter holds for every document, the segment is ranked by tantivy's
/// block-max WAND over the term clauses, which skips blocks of postings that cannot reach
/// the top. The title phrase only adds to a score, and only in the documents whose title
/// holds it (usually a few): those are found first, scored in full and handed to the
/// collector in document order among the others. Elsewhere (filters that exclude some
/// documents, phrases that decide matches, a search without scores) the whole query
/// scores every match. Both ways give the same hits with the same scores, up to the order
/// of a float sum.
#[derive(Debug)]
pub(crate) struct Ranking {
    /// The text's clauses that decide what matches (should-clauses).
    pub(crate) matching: Vec<Box<dyn Query>>,
    /// Whether they are term clauses only, and WAND may rank with them.
    pub(crate) prunable: bool,
    /// The title phrase, weighed [`TITLE_PHRASE_WEIGHT`].
    pub(crate) phrase: Option<PhraseQuery>,
    /// The filters' terms (each must be held).
    pub(crate) filters: Vec<Term>,
}

impl Ranking {
    /// The ranking of a text's query, with filters; pruned where it can be unless
    /// `prune` is false.
    pub(crate) fn of(text: &TextQuery, filters: Vec<Term>, prune: bool) -> Ranking {
        Ranking {
            matching: text.matching_clauses(),
            prunable: prune && text.is_terms_only(),
            phrase: text.title_phrase().cloned(),
            filters,
        }
    }
}

impl Clone for Ranking {
    fn clone(&self) -> Self {
        Ranking {
            matching: self.matching.iter().map(|q| q.box_clone()).collect(),
            prunable: self.prunable,
            phrase: self.phrase.clone(),
            filters: self.filters.clone(),
        }
    }
}

/// A weight shared by several boolean weights (its statistics are looked up once).
struct Shared(Arc<dyn Weight>);

impl Weight for Shared {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.0.scorer(reader, boost)
    }

    fn scorer_danger(
        &self,
        reader: &SegmentReader,
        target: DocId,
        boost: Score,
    ) -> tantivy::Result<(tantivy::SeekDangerResult, Box<dyn Scorer>)> {
        self.0.scorer_danger(reader, target, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }
}

/// Should-clauses of which at least one must match, scores summed (what
/// `BooleanQuery::new` of should-clauses builds).
fn any_of(weights: Vec<Box<dyn Weight>>, scoring: bool) -> Box<dyn Weight> {
    Box::new(BooleanWeight::with_minimum_number_should_match(
        weights.into_iter().map(|w| (Occur::Should, w)).collect(),
        1,
        scoring,
        Box::new(SumCombiner::default),
    ))
}

impl Query for Ranking {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let enabled = scoring.is_scoring_enabled();
        let matching: Vec<Arc<dyn Weight>> = self
            .matching
            .iter()
            .map(|q| Ok(Arc::from(q.weight(scoring)?)))
            .collect::<tantivy::Result<_>>()?;
        let phrase: Option<Arc<dyn Weight>> = match &self.phrase {
            Some(p) => Some(Arc::from(
                BoostQuery::new(Box::new(p.clone()), TITLE_PHRASE_WEIGHT).weight(scoring)?,
            )),
            None => None,
        };
        let shared = |ws: &[Arc<dyn Weight>]| -> Vec<Box<dyn Weight>> {
            ws.iter()
                .map(|w| Box::new(Shared(w.clone())) as Box<dyn Weight>)
                .collect()
        };
        // the whole query, as `BooleanQuery`s of the text (its clauses and the phrase) and
        // of the text and the filters would build it
        let mut text = shared(&matching);
        text.extend(
            phrase
                .iter()
                .map(|w| Box::new(Shared(w.clone())) as Box<dyn Weight>),
        );
        let mut whole: Vec<(Occur, Box<dyn Weight>)> = vec![(Occur::Must, any_of(text, enabled))];
        for t in &self.filters {
            whole.push((Occur::Must, TermFilter(t.clone()).weight(scoring)?));
        }
        let whole = Box::new(BooleanWeight::with_minimum_number_should_match(
            whole,
            0,
            enabled,
            Box::new(SumCombiner::default),
        ));
        let pruned = (self.prunable && enabled && !matching.is_empty()).then(|| PrunedRanking {
            wand: any_of(shared(&matching), enabled),
            terms: matching,
            phrase,
            filters: self.filters.clone(),
        });
        Ok(Box::new(RankingWeight { whole, pruned }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in &self.matching {
            q.query_terms(visitor);
        }
        if let Some(p) = &self.phrase {
            p.query_terms(visitor);
        }
    }
}

struct PrunedRanking {
    /// The term clauses as one union, for WAND.
    wand: Box<dyn Weight>,
    /// The term clauses one by one.
    terms: Vec<Arc<dyn Weight>>,
    /// The title phrase.
    phrase: Option<Arc<dyn Weight>>,
    filters: Vec<Term>,
}

struct RankingWeight {
    whole: Box<dyn Weight>,
    pruned: Option<PrunedRanking>,
}

impl Weight for RankingWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.whole.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.whole.explain(reader, doc)
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let Some(pruned) = &self.pruned else {
            return self.whole.for_each_pruning(threshold, reader, callback);
        };
        for term in &pruned.filters {
            if !held_by_all(reader, term)? {
                return self.whole.for_each_pruning(threshold, reader, callback);
            }
        }
        let Some(phrase) = &pruned.phrase else {
            return pruned.wand.for_each_pruning(threshold, reader, callback);
        };
        // the documents whose title holds the phrase, with what it adds (usually a few)
        let mut phrased = Vec::new();
        let mut scorer = phrase.scorer(reader, 1.0)?;
        while scorer.doc() != TERMINATED {
            phrased.push((scorer.doc(), scorer.score()));
            scorer.advance();
        }
        if phrased.is_empty() {
            return pruned.wand.for_each_pruning(threshold, reader, callback);
        }
        let mut phrased = Phrased {
            docs: phrased,
            next: 0,
            terms: pruned
                .terms
                .iter()
                .map(|w| w.scorer(reader, 1.0))
                .collect::<tantivy::Result<_>>()?,
        };
        // WAND ranks the others by their terms, against the true threshold; the phrase's
        // documents are handed over in document order among them (the top-k collector
        // breaks ties by document order)
        let mut threshold = threshold;
        pruned
            .wand
            .for_each_pruning(threshold, reader, &mut |doc, terms_score| {
                phrased.hand_over_before(doc, &mut threshold, callback);
                if phrased
                    .docs
                    .get(phrased.next)
                    .is_some_and(|(d, _)| *d == doc)
                {
                    let score = terms_score + phrased.docs[phrased.next].1;
                    phrased.next += 1;
                    if score > threshold {
                        threshold = callback(doc, score);
                    }
                } else if terms_score > threshold {
                    threshold = callback(doc, terms_score);
                }
                threshold
            })?;
        phrased.hand_over_before(TERMINATED, &mut threshold, callback);
        Ok(())
    }
}

/// A segment's documents whose title holds the phrase, each scored in full (its terms and
/// the phrase) when its turn comes, whether or not WAND would have looked at it.
struct Phrased {
    /// Documents in increasing order, with the phrase's score.
    docs: Vec<(DocId, Score)>,
    /// The first not handed over.
    next: usize,
    /// The term clauses, each moved on to each document in turn for its terms' score.
    terms: Vec<Box<dyn Scorer>>,
}

impl Phrased {
    /// Hands the documents before `until` to the top-k callback with their full scores.
    fn hand_over_before(
        &mut self,
        until: DocId,
        threshold: &mut Score,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) {
        while let Some(&(doc, phrase_score)) = self.docs.get(self.next) {
            if doc >= until {
                break;
            }
            self.next += 1;
            // a title holding the phrase holds its terms, so some clauses are on `doc`
            let mut terms_score = 0.0;
            for t in &mut self.terms {
                if t.doc() < doc {
                    t.seek(doc);
                }
                if t.doc() == doc {
                    terms_score += t.score();
                }
            }
            let score = terms_score + phrase_score;
            if score > *threshold {
                *threshold = callback(doc, score);
            }
        }
    }
}

impl SearchIndex {
    /// The query's terms with a weight each (rarer terms weigh more), for highlighting.
    pub fn highlight_terms(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
    ) -> BTreeMap<String, f32> {
        let f = &self.fields;
        let mut terms = std::collections::BTreeSet::new();
        // terms searched on their own (not only as a piece of a phrase)
        let mut alone = std::collections::BTreeSet::new();
        query.query_terms(&mut |term, in_phrase| {
            if [f.title, f.body, f.keywords].contains(&term.field()) {
                terms.insert(term.clone());
                if !in_phrase {
                    alone.insert(term.clone());
                }
            }
        });
        // A single Han character that the query holds only as a piece of a phrase (a
        // synonym such as 氢能源 → 氢 能源) is not what the reader asked for: highlighted
        // alone it would mark 氢 in 临氢, so it is left out of the highlights.
        let phrase_piece = |t: &tantivy::Term| {
            !alone.contains(t)
                && t.value()
                    .as_str()
                    .is_some_and(|s| s.chars().count() == 1 && s.chars().all(is_han))
        };
        let terms: Vec<tantivy::Term> = terms.into_iter().filter(|t| !phrase_piece(t)).collect();
        let mut weights = BTreeMap::new();
        for term in terms {
            if let Some(text) = term.value().as_str() {
                let df = searcher.doc_freq(&term).unwrap_or(0);
                let w = 1.0 / (1.0 + df as f32);
                let e = weights.entry(text.to_string()).or_insert(0.0f32);
                *e = e.max(w);
            }
        }
        weights
    }

    /// `text` with the matched terms in `<mark>`, escaped, cut to `max_chars` around the
    /// best-matching window. Han terms are found by substring search and only the runs of
    /// Han characters around a hit are segmented (to keep exactly the hits the index has),
    /// so a hit list costs a few short segmentations rather than analysing every body.
    pub fn highlight(&self, text: &str, terms: &BTreeMap<String, f32>, max_chars: usize) -> String {
        let terms: Vec<(&str, f32)> = terms.iter().map(|(t, w)| (t.as_str(), *w)).collect();
        self.analyzer
            .snippet_of_terms(text, &terms, max_chars)
            .to_html(text)
    }

    /// The ranking alone of a text: its top `limit` documents by score, with no filter,
    /// count, facet, stored field or highlight (the way a search ranks its hits). For
    /// measurements. Blocking.
    pub fn rank(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<(Score, tantivy::DocAddress)>, IndexError> {
        let Some(text) = text_query_parts(
            &self.analyzer,
            &self.synonyms,
            &self.fields,
            &FieldWeights::default(),
            text,
        ) else {
            return Ok(Vec::new());
        };
        let ranking = Ranking::of(&text, Vec::new(), true);
        Ok(self.reader.searcher().search(
            &ranking,
            &TopDocs::with_limit(limit.max(1)).order_by_score(),
        )?)
    }

    /// Runs a search. Blocking: call from a blocking thread.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, IndexError> {
        self.search_ranked(req, true)
    }

    /// [`SearchIndex::search`], with the pruned ranking or (`pruned: false`) every match
    /// scored, for tests that hold the two to the same answers.
    pub(crate) fn search_ranked(
        &self,
        req: &SearchRequest,
        pruned: bool,
    ) -> Result<SearchResponse, IndexError> {
        let f = &self.fields;
        let text = text_query_parts(
            &self.analyzer,
            &self.synonyms,
            f,
            &FieldWeights::default(),
            &req.q,
        );
        if text.is_none() && !req.q.trim().is_empty() {
            // only punctuation: nothing can match
            return Ok(SearchResponse {
                total: 0,
                hits: Vec::new(),
                facets: Facets::new(),
            });
        }
        let mut filters: Vec<Term> = Vec::new();
        if let Some(k) = req.kind {
            filters.push(Term::from_field_text(f.kind, k.code()));
        }
        for (field, v) in [
            (f.industry, &req.industry),
            (f.city, &req.city),
            (f.zone, &req.zone),
            (f.maturity, &req.maturity),
        ] {
            if let Some(v) = v {
                filters.push(Term::from_field_text(field, v));
            }
        }
        filters.push(Term::from_field_text(
            f.status,
            req.status.as_deref().unwrap_or("published"),
        ));
        let with_filters = |text: Box<dyn Query>| -> BooleanQuery {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text)];
            clauses.extend(filters.iter().map(|t| {
                (
                    Occur::Must,
                    Box::new(TermFilter(t.clone())) as Box<dyn Query>,
                )
            }));
            BooleanQuery::new(clauses)
        };

        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(req.limit.max(1))
            .and_offset(req.offset)
            .order_by_score();
        // the total and the facet counts visit every match; the next page of the same
        // search, or the same search again, reads them from the cache until the next commit
        let generation = searcher.generation().generation_id();
        let key = CountKey::of(req);
        let cached = self.count_cache.get(generation, &key);
        let counts = || -> Result<CountFacets, IndexError> {
            Ok(CountFacets {
                tables: self.facet_tables.for_searcher(
                    &searcher,
                    || self.reader.searcher(),
                    crate::schema::FACETS_FIELD,
                )?,
            })
        };
        let (query, docs, total, facet_map): (Box<dyn Query>, _, _, _) = match text {
            // a listing without a text query scores 0 (its filters score nothing), also in
            // a segment where every filter stands aside and only "all documents" is left
            None => {
                let query = ConstScoreQuery::new(Box::new(with_filters(Box::new(AllQuery))), 0.0);
                let (docs, total, facet_map) = match cached {
                    Some((total, facets)) => (searcher.search(&query, &top)?, total, facets),
                    None => {
                        let (docs, (total, facet_map)) =
                            searcher.search(&query, &(top, counts()?))?;
                        self.count_cache
                            .put(generation, key, (total, facet_map.clone()));
                        (docs, total, facet_map)
                    }
                };
                (Box::new(query), docs, total, facet_map)
            }
            // with a text, the counts are a pass without scores (no term frequencies, no
            // phrase positions beyond what decides a match) and the ranking a top-k pass
            Some(text) => {
                let ranking = Ranking::of(&text, filters.clone(), pruned);
                let (total, facet_map) = match cached {
                    Some(counts) => counts,
                    None => {
                        // a term clause is counted from its postings, anything else (a
                        // phrase) from its scorer
                        let clauses = text.matching_clauses();
                        let mut terms = Vec::new();
                        let mut others: Vec<&dyn Query> = Vec::new();
                        for q in &clauses {
                            let mut visited: Vec<(&Term, bool)> = Vec::new();
                            q.query_terms(&mut |t, in_phrase| visited.push((t, in_phrase)));
                            match visited.as_slice() {
                                [(t, false)] => terms.push((*t).clone()),
                                _ => others.push(q.as_ref()),
                            }
                        }
                        let (total, facet_map) = self.facet_tables.count(
                            &searcher,
                            || self.reader.searcher(),
                            crate::schema::FACETS_FIELD,
                            &Matches {
                                terms,
                                others,
                                filters: filters.clone(),
                            },
                        )?;
                        self.count_cache
                            .put(generation, key, (total, facet_map.clone()));
                        (total, facet_map)
                    }
                };
                let docs = searcher.search(&ranking, &top)?;
                (Box::new(ranking), docs, total, facet_map)
            }
        };
        let has_text = !req.q.trim().is_empty();

        let terms = if has_text {
            self.highlight_terms(&searcher, &query)
        } else {
            BTreeMap::new()
        };
        let mut hits = Vec::with_capacity(docs.len());
        for (score, addr) in docs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let title = stored_str(&doc, f.title).unwrap_or_default();
            let body = stored_str(&doc, f.body).unwrap_or_default();
            let keywords = stored_str(&doc, f.keywords).unwrap_or_default();
            let kw = self.highlight(&keywords, &terms, 200);
            let highlights = Highlights {
                keywords: if kw.contains("<mark>") {
                    kw
                } else {
                    String::new()
                },
                title: self.highlight(&title, &terms, title.chars().count().max(1)),
                summary: self.highlight(&body, &terms, 160),
            };
            let kind = stored_str(&doc, f.kind)
                .and_then(|k| ListingKind::parse(&k))
                .ok_or_else(|| IndexError::Query("document without kind".into()))?;
            hits.push(Hit {
                id: stored_i64(&doc, f.id).unwrap_or(0),
                external_id: stored_str(&doc, f.external_id),
                kind,
                title,
                score,
                highlights,
                industry: stored_str(&doc, f.industry),
                city: stored_all(&doc, f.city).into_iter().next(),
                organization: stored_str(&doc, f.org),
            });
        }
        Ok(SearchResponse {
            total,
            hits,
            facets: facet_map,
        })
    }
}

/// A CJK unified ideograph (the characters of Chinese words).
fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}
