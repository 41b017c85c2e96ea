//! A search's total and facet counts in one cheap pass over its matches.
//!
//! tantivy's `FacetCollector` reads every matching document's facet ordinals from the
//! facet column (an optional-index rank and two bit-unpacks per value) and collapses them
//! per request. A segment never changes once written, so here each segment's ordinals are
//! laid out flat once, deduplicated per document, with the dimension and value of every
//! ordinal resolved; counting a match is then a handful of array increments. The tables
//! are built on a segment's first search and kept while the segment is in the searcher.
//!
//! A search with a text finds its matches for counting apart from its ranking (which need
//! not visit them all, see `search.rs`): the union of its terms' postings, read a block at
//! a time without frequencies or positions into a bitset per segment, is cheaper than a
//! union of scorers walked document by document.

use crate::IndexError;
use crate::search::{FACET_DIMS, Facets};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Query};
use tantivy::schema::Facet;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED, Term};

/// One segment's facets, flat: document `d` holds the ordinals
/// `ords[starts[d]..starts[d + 1]]`, each at most once.
#[derive(Debug)]
pub(crate) struct SegmentFacets {
    starts: Vec<u32>,
    ords: Vec<u32>,
    /// Per ordinal: its dimension (index in [`FACET_DIMS`]) and value, or `None` for a
    /// facet outside those dimensions.
    labels: Vec<Option<(usize, String)>>,
}

impl SegmentFacets {
    /// Reads the segment's facet column once.
    fn build(reader: &SegmentReader, field: &str) -> Result<SegmentFacets, IndexError> {
        let facets = reader.facet_reader(field)?;
        let mut labels = Vec::with_capacity(facets.num_facets());
        let mut facet = Facet::root();
        for ord in 0..facets.num_facets() as u64 {
            facets.facet_from_ord(ord, &mut facet)?;
            let path = facet.to_path();
            labels.push(match path.as_slice() {
                [dim, value] => FACET_DIMS
                    .iter()
                    .position(|d| d == dim)
                    .map(|i| (i, value.to_string())),
                _ => None,
            });
        }
        let max_doc = reader.max_doc();
        let mut starts = Vec::with_capacity(max_doc as usize + 1);
        let mut ords: Vec<u32> = Vec::with_capacity(max_doc as usize * 5);
        let mut doc_ords: Vec<u32> = Vec::new();
        starts.push(0);
        for doc in 0..max_doc {
            doc_ords.clear();
            doc_ords.extend(facets.facet_ords(doc).map(|o| o as u32));
            doc_ords.sort_unstable();
            doc_ords.dedup();
            ords.extend(
                doc_ords
                    .iter()
                    .filter(|o| labels.get(**o as usize).is_some_and(Option::is_some)),
            );
            let end = u32::try_from(ords.len())
                .map_err(|_| IndexError::Query("too many facet values in a segment".into()))?;
            starts.push(end);
        }
        ords.shrink_to_fit();
        Ok(SegmentFacets {
            starts,
            ords,
            labels,
        })
    }
}

/// One segment's table, built once: a search that needs it while another builds it
/// waits for that build instead of building it again.
type Slot = Arc<Mutex<Option<Arc<SegmentFacets>>>>;

/// The flat facet tables of the segments in use, by segment.
#[derive(Debug, Default)]
pub(crate) struct FacetTables {
    entries: Mutex<HashMap<SegmentId, Slot>>,
}

impl FacetTables {
    /// The tables of every segment of `searcher`, in segment order, building the missing
    /// ones. When one is built, tables of segments that are in neither `searcher` nor
    /// `latest` (the reader's newest searcher) are dropped.
    pub(crate) fn for_searcher(
        &self,
        searcher: &tantivy::Searcher,
        latest: impl FnOnce() -> tantivy::Searcher,
        field: &str,
    ) -> Result<Vec<Arc<SegmentFacets>>, IndexError> {
        let readers = searcher.segment_readers();
        let mut tables = Vec::with_capacity(readers.len());
        let mut built = false;
        for reader in readers {
            let slot: Slot = self
                .entries
                .lock()
                .map_err(|_| IndexError::Poisoned)?
                .entry(reader.segment_id())
                .or_default()
                .clone();
            // the map's lock is not held here: a first search of a large segment does not
            // hold up searches of the others
            let mut table = slot.lock().map_err(|_| IndexError::Poisoned)?;
            let table = match &*table {
                Some(t) => t.clone(),
                None => {
                    let t = Arc::new(SegmentFacets::build(reader, field)?);
                    *table = Some(t.clone());
                    built = true;
                    t
                }
            };
            tables.push(table);
        }
        if built {
            let latest = latest();
            let live: HashSet<SegmentId> = readers
                .iter()
                .chain(latest.segment_readers())
                .map(|r| r.segment_id())
                .collect();
            self.entries
                .lock()
                .map_err(|_| IndexError::Poisoned)?
                .retain(|id, _| live.contains(id));
        }
        Ok(tables)
    }
}

/// What a search with a text matches, for counting: documents holding any of `terms` or
/// matched by any of `others` (phrases), and holding every one of `filters`.
pub(crate) struct Matches<'q> {
    /// Terms whose documents match.
    pub(crate) terms: Vec<Term>,
    /// Other clauses whose documents match.
    pub(crate) others: Vec<&'q dyn Query>,
    /// Terms every match holds.
    pub(crate) filters: Vec<Term>,
}

/// A segment's documents as bits, 64 to a word.
struct DocBits(Vec<u64>);

impl DocBits {
    fn empty(max_doc: DocId) -> DocBits {
        DocBits(vec![0; (max_doc as usize).div_ceil(64)])
    }

    #[inline]
    fn insert(&mut self, doc: DocId) {
        self.0[doc as usize / 64] |= 1 << (doc % 64);
    }

    /// Sets the bits of a term's documents, a block of postings at a time.
    fn insert_term(&mut self, reader: &SegmentReader, term: &Term) -> tantivy::Result<()> {
        let Some(mut block) = reader
            .inverted_index(term.field())?
            .read_block_postings(term, IndexRecordOption::Basic)?
        else {
            return Ok(());
        };
        let mut left = block.doc_freq() as usize;
        while left > 0 {
            let docs = block.docs();
            if docs.is_empty() {
                break;
            }
            for &d in docs {
                self.insert(d);
            }
            left = left.saturating_sub(docs.len());
            block.advance();
        }
        Ok(())
    }
}

impl FacetTables {
    /// The total and facet counts of a text search's matches, by bitsets: each segment's
    /// matches are the union of its terms' postings (read a block at a time, without
    /// frequencies or positions) and of its other clauses' documents, intersected with
    /// the filters that do not hold for the whole segment, less deleted documents.
    pub(crate) fn count(
        &self,
        searcher: &tantivy::Searcher,
        latest: impl FnOnce() -> tantivy::Searcher,
        field: &str,
        matches: &Matches<'_>,
    ) -> Result<(usize, Facets), IndexError> {
        let tables = self.for_searcher(searcher, latest, field)?;
        let others = matches
            .others
            .iter()
            .map(|q| q.weight(EnableScoring::disabled_from_searcher(searcher)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let mut fruits = Vec::with_capacity(tables.len());
        for (reader, table) in searcher.segment_readers().iter().zip(tables) {
            let max_doc = reader.max_doc();
            let mut bits = DocBits::empty(max_doc);
            for term in &matches.terms {
                bits.insert_term(reader, term)?;
            }
            for weight in &others {
                let mut docs = weight.scorer(reader, 1.0)?;
                while docs.doc() != TERMINATED {
                    bits.insert(docs.doc());
                    docs.advance();
                }
            }
            for term in &matches.filters {
                if crate::search::held_by_all(reader, term)? {
                    continue;
                }
                let mut holding = DocBits::empty(max_doc);
                holding.insert_term(reader, term)?;
                for (w, h) in bits.0.iter_mut().zip(&holding.0) {
                    *w &= h;
                }
            }
            let alive = reader.alive_bitset();
            let mut counter = SegmentCountFacets::new(table);
            for (i, &word) in bits.0.iter().enumerate() {
                let mut word = word;
                while word != 0 {
                    let doc = (i * 64) as DocId + word.trailing_zeros();
                    word &= word - 1;
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        counter.collect(doc, 0.0);
                    }
                }
            }
            fruits.push(counter.harvest());
        }
        Ok(merge_counts(fruits))
    }
}

/// Counts the matches and their facet values. Built per search from
/// [`FacetTables::for_searcher`] of the same searcher.
pub(crate) struct CountFacets {
    pub(crate) tables: Vec<Arc<SegmentFacets>>,
}

/// One segment's part of [`CountFacets`].
pub(crate) struct SegmentCountFacets {
    table: Arc<SegmentFacets>,
    count: usize,
    counts: Vec<u64>,
}

impl Collector for CountFacets {
    type Fruit = (usize, Facets);
    type Child = SegmentCountFacets;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<SegmentCountFacets> {
        let table = self
            .tables
            .get(segment_ord as usize)
            .cloned()
            .ok_or_else(|| {
                tantivy::TantivyError::InternalError(format!(
                    "no facet table for segment {segment_ord}"
                ))
            })?;
        Ok(SegmentCountFacets::new(table))
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<(usize, Facets)>) -> tantivy::Result<(usize, Facets)> {
        Ok(merge_counts(fruits))
    }
}

/// The segments' totals and facet counts added up, every dimension listed.
fn merge_counts(fruits: Vec<(usize, Facets)>) -> (usize, Facets) {
    let mut total = 0;
    let mut facets: Facets = FACET_DIMS
        .iter()
        .map(|d| (d.to_string(), BTreeMap::new()))
        .collect();
    for (count, part) in fruits {
        total += count;
        for (dim, values) in part {
            let into = facets.entry(dim).or_default();
            for (value, n) in values {
                *into.entry(value).or_insert(0) += n;
            }
        }
    }
    (total, facets)
}

impl SegmentCountFacets {
    fn new(table: Arc<SegmentFacets>) -> SegmentCountFacets {
        let counts = vec![0; table.labels.len()];
        SegmentCountFacets {
            table,
            count: 0,
            counts,
        }
    }
}

impl SegmentCollector for SegmentCountFacets {
    type Fruit = (usize, Facets);

    #[inline]
    fn collect(&mut self, doc: DocId, _score: Score) {
        self.count += 1;
        let t = &self.table;
        let (from, to) = (t.starts[doc as usize], t.starts[doc as usize + 1]);
        for &o in &t.ords[from as usize..to as usize] {
            self.counts[o as usize] += 1;
        }
    }

    fn harvest(self) -> (usize, Facets) {
        let mut facets = Facets::new();
        for (ord, n) in self.counts.into_iter().enumerate() {
            if n == 0 {
                continue;
            }
            if let Some(Some((dim, value))) = self.table.labels.get(ord) {
                *facets
                    .entry(FACET_DIMS[*dim].to_string())
                    .or_default()
                    .entry(value.clone())
                    .or_insert(0) += n;
            }
        }
        (self.count, facets)
    }
}
