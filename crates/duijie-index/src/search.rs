//! Search: text query plus filters, facet counts, highlighted snippets, pagination.

use crate::facets::CountFacets;
use crate::query::{FieldWeights, text_query};
use crate::schema::{stored_all, stored_i64, stored_str};
use crate::{IndexError, SearchIndex};
use duijie_domain::ListingKind;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, AllScorer, BooleanQuery, ConstScoreQuery, EnableScoring, Explanation, Occur, Query,
    Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, Score, SegmentReader, TantivyDocument, Term};

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

fn filter(field: Field, value: &str) -> (Occur, Box<dyn Query>) {
    (
        Occur::Must,
        Box::new(TermFilter(Term::from_field_text(field, value))),
    )
}

/// A filter on one exact term, scoring 0. In a segment where every document holds the
/// term (the usual case for `status:published`), it matches every document without
/// reading the term's postings, and the boolean query drops it from the intersection.
#[derive(Debug, Clone)]
struct TermFilter(Term);

impl Query for TermFilter {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let postings = ConstScoreQuery::new(
            Box::new(TermQuery::new(self.0.clone(), IndexRecordOption::Basic)),
            0.0,
        );
        Ok(Box::new(TermFilterWeight {
            term: self.0.clone(),
            postings: postings.weight(scoring)?,
        }))
    }
}

struct TermFilterWeight {
    term: Term,
    postings: Box<dyn Weight>,
}

impl Weight for TermFilterWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let max_doc = reader.max_doc();
        let held_by = reader
            .inverted_index(self.term.field())?
            .doc_freq(&self.term)?;
        if max_doc > 0 && held_by == max_doc {
            return Ok(Box::new(AllScorer::new(max_doc)));
        }
        self.postings.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.postings.explain(reader, doc)
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

    /// Runs a search. Blocking: call from a blocking thread.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, IndexError> {
        let f = &self.fields;
        let text = text_query(
            &self.analyzer,
            &self.synonyms,
            f,
            &FieldWeights::default(),
            &req.q,
        );
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let has_text = text.is_some();
        match text {
            Some(t) => clauses.push((Occur::Must, t)),
            None if req.q.trim().is_empty() => clauses.push((Occur::Must, Box::new(AllQuery))),
            // only punctuation: nothing can match
            None => {
                return Ok(SearchResponse {
                    total: 0,
                    hits: Vec::new(),
                    facets: Facets::new(),
                });
            }
        }
        if let Some(k) = req.kind {
            clauses.push(filter(f.kind, k.code()));
        }
        for (field, v) in [
            (f.industry, &req.industry),
            (f.city, &req.city),
            (f.zone, &req.zone),
            (f.maturity, &req.maturity),
        ] {
            if let Some(v) = v {
                clauses.push(filter(field, v));
            }
        }
        clauses.push(filter(
            f.status,
            req.status.as_deref().unwrap_or("published"),
        ));
        let query: Box<dyn Query> = if has_text {
            Box::new(BooleanQuery::new(clauses))
        } else {
            // a listing without a text query scores 0 (its filters score nothing), also in
            // a segment where every filter stands aside and only "all documents" is left
            Box::new(ConstScoreQuery::new(
                Box::new(BooleanQuery::new(clauses)),
                0.0,
            ))
        };

        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(req.limit.max(1))
            .and_offset(req.offset)
            .order_by_score();
        // the total and the facet counts visit every match; the next page of the same
        // search, or the same search again, reads them from the cache until the next commit
        let generation = searcher.generation().generation_id();
        let key = CountKey::of(req);
        let (docs, total, facet_map) = match self.count_cache.get(generation, &key) {
            Some((total, facets)) => (searcher.search(&query, &top)?, total, facets),
            None => {
                let counts = CountFacets {
                    tables: self.facet_tables.for_searcher(
                        &searcher,
                        || self.reader.searcher(),
                        "facets",
                    )?,
                };
                let (docs, (total, facet_map)) = searcher.search(&query, &(top, counts))?;
                self.count_cache
                    .put(generation, key, (total, facet_map.clone()));
                (docs, total, facet_map)
            }
        };

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
