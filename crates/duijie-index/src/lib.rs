//! The search index: a tantivy index of results, needs and experts with Chinese analysis.
//!
//! The index is derived data. The store is the source of truth; the index records in its
//! commit payload the last store change sequence number it has applied (its *watermark*),
//! so a server that was killed mid-import can tell how far behind it is and catch up, and
//! `duijie reindex` can rebuild it from scratch. The payload also carries a fingerprint of
//! the schema and the analyzer (dictionary, HMM setting): when those change, old postings
//! no longer agree with new queries and the index asks to be rebuilt.
//!
//! Query construction lives here too ([`query`]): a query text is segmented in exact
//! mode, each term is searched in title (boosted), keywords, body and organisation name,
//! synonyms add alternatives at a lower weight, and a phrase on the title rewards exact
//! titles.
#![warn(missing_docs)]

pub mod bare;
mod directory;
mod error;
mod facets;
pub mod query;
mod schema;
mod search;
pub mod similar;

pub use error::IndexError;
pub use schema::Fields;
pub use search::{Facets, Highlights, Hit, SearchRequest, SearchResponse};

use duijie_domain::{ListingKind, ListingText};
use duijie_text::{Analyzer, Synonyms};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Name under which the Chinese index-mode tokenizer is registered.
pub const ZH_TOKENIZER: &str = "zh";

/// Doc-store block size for new indexes, bytes (tantivy's default is 16 KiB).
const DOCSTORE_BLOCK_SIZE: usize = 4096;

/// Listings analysed together before their documents go to the writer.
const ANALYSIS_SLICE: usize = 256;

/// Bumped whenever the schema or the way documents are built changes.
///
/// 2: stored org id/kind, modes, money range, deadline, updated_at and the term vector
/// used by matching.
/// 3: index tokens are the likely words of the segmentation lattice, not every dictionary
/// sub-word (duijie-text).
/// 4: a word inside a compound is indexed when it is likely at any level of the
/// compound's segmentation (`铁路` in `京沪高速铁路`), not only at the first.
const SCHEMA_VERSION: u32 = 4;

/// What the index remembers of the store in its commit payload.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Watermark {
    /// Last store change sequence applied.
    pub seq: i64,
    /// Schema and analyzer fingerprint the postings were built with.
    pub fingerprint: String,
}

/// The search index and its single writer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    analyzer: Arc<Analyzer>,
    synonyms: Arc<Synonyms>,
    dir: PathBuf,
    fingerprint: String,
    /// Per-segment bitsets of candidate filters (see [`similar`]).
    filter_cache: similar::FilterCache,
    bm25_stats: similar::Bm25StatsCache,
    /// The index on disk had an older schema and was recreated empty.
    recreated: bool,
    /// Threads that analyse documents before they reach the writer.
    threads: usize,
    /// Totals and facet counts of recent searches (see [`search`]).
    count_cache: search::CountCache,
    /// Per-segment facet ordinals, laid out for counting (see [`facets`]).
    facet_tables: facets::FacetTables,
    /// Reloads of the reader, one at a time.
    reloads: Reloads,
    /// Keeps the watch of the index's `meta.json` that picks up merges.
    _merges_watch: tantivy::directory::WatchHandle,
}

/// The reader's reloads, one at a time: after a commit (at once, so that the change is
/// searchable on return) and after the writer's background merges (from tantivy's watch
/// of `meta.json`), so searches move to the merged segments and the merged-away files are
/// let go; with reloads after commits alone they stayed open until the next commit.
/// Serialised so that a reload that read an older `meta.json` can never replace the
/// searcher of a later one.
#[derive(Clone)]
struct Reloads {
    index: Index,
    reader: IndexReader,
    lock: Arc<Mutex<()>>,
}

impl Reloads {
    /// Reloads now (after a commit).
    fn reload(&self) -> Result<(), IndexError> {
        let _one_at_a_time = self.lock.lock().map_err(|_| IndexError::Poisoned)?;
        self.reader.reload()?;
        Ok(())
    }

    /// Reloads when the committed segments are no longer the searcher's: a merge ended.
    /// A commit's own change of `meta.json` finds the searcher current (the commit
    /// reloaded it) and starts no second generation.
    fn pick_up_merges(&self) -> Result<(), IndexError> {
        let _one_at_a_time = self.lock.lock().map_err(|_| IndexError::Poisoned)?;
        let committed: std::collections::HashSet<tantivy::index::SegmentId> =
            self.index.searchable_segment_ids()?.into_iter().collect();
        let searched: std::collections::HashSet<tantivy::index::SegmentId> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        if committed != searched {
            self.reader.reload()?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// How to open the index.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Memory budget of the writer, bytes (split across its threads).
    pub writer_memory: usize,
    /// Indexing threads.
    pub writer_threads: usize,
    /// Open without taking the writer lock (for `duijie search` beside a running server).
    pub read_only: bool,
    /// Fingerprint of the analyzer configuration (dictionary contents, HMM).
    pub analyzer_fingerprint: String,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            writer_memory: 128 << 20,
            writer_threads: 2,
            read_only: false,
            analyzer_fingerprint: String::new(),
        }
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when absent. A writer lock held by another
    /// process is reported as [`IndexError::Locked`].
    pub fn open(
        dir: &Path,
        analyzer: Arc<Analyzer>,
        synonyms: Arc<Synonyms>,
        opts: &IndexOptions,
    ) -> Result<SearchIndex, IndexError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            IndexError::Io(format!(
                "cannot create index directory {}: {e}",
                dir.display()
            ))
        })?;
        let (schema, fields) = schema::build();
        let mmap = directory::IndexDirectory::open(dir)
            .map_err(|e| IndexError::Io(format!("{}: {e}", dir.display())))?;
        // small doc-store blocks: matching reads ~100 random documents per request, and each read
        // decompresses a whole block
        let settings = tantivy::IndexSettings {
            docstore_blocksize: DOCSTORE_BLOCK_SIZE,
            ..Default::default()
        };
        let open = |mmap| {
            Index::builder()
                .schema(schema.clone())
                .settings(settings.clone())
                .open_or_create(mmap)
                .map_err(|e| match e {
                    tantivy::TantivyError::SchemaError(m) => IndexError::Incompatible(m),
                    other => IndexError::Tantivy(other),
                })
        };
        let mut recreated = false;
        let index = match open(mmap) {
            Ok(i) => i,
            // The index is derived data: an index written by an older schema is deleted and
            // rebuilt from the store rather than refusing to start.
            Err(IndexError::Incompatible(m))
                if !opts.read_only && dir.join("meta.json").exists() =>
            {
                tracing::warn!(dir = %dir.display(), reason = %m, "index has an older schema; recreating it");
                std::fs::remove_dir_all(dir).map_err(|e| {
                    IndexError::Io(format!("cannot remove old index {}: {e}", dir.display()))
                })?;
                std::fs::create_dir_all(dir).map_err(|e| {
                    IndexError::Io(format!(
                        "cannot create index directory {}: {e}",
                        dir.display()
                    ))
                })?;
                recreated = true;
                open(
                    directory::IndexDirectory::open(dir)
                        .map_err(|e| IndexError::Io(format!("{}: {e}", dir.display())))?,
                )?
            }
            Err(e) => return Err(e),
        };
        index.tokenizers().register(
            ZH_TOKENIZER,
            tantivy::tokenizer::TextAnalyzer::from(analyzer.index_tokenizer()),
        );
        // a commit reloads the reader at once (`apply`, `commit`: searchable on return);
        // the watch below picks up what the writer's background merges commit
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let reloads = Reloads {
            index: index.clone(),
            reader: reader.clone(),
            lock: Arc::new(Mutex::new(())),
        };
        let watched = reloads.clone();
        let merges_watch = tantivy::directory::Directory::watch(
            index.directory(),
            tantivy::directory::WatchCallback::new(move || {
                if let Err(e) = watched.pick_up_merges() {
                    tracing::warn!(error = %e, "index reload after a merge failed");
                }
            }),
        )?;
        let writer = if opts.read_only {
            None
        } else {
            match index.writer_with_num_threads(
                opts.writer_threads.max(1),
                opts.writer_memory
                    .max(opts.writer_threads.max(1) * (16 << 20)),
            ) {
                Ok(w) => Some(w),
                Err(tantivy::TantivyError::LockFailure(..)) => {
                    return Err(IndexError::Locked(dir.display().to_string()));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let fingerprint = format!("v{SCHEMA_VERSION}:{}", opts.analyzer_fingerprint);
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer,
            synonyms,
            dir: dir.to_path_buf(),
            fingerprint,
            filter_cache: Default::default(),
            bm25_stats: Default::default(),
            recreated,
            threads: opts.writer_threads.max(1),
            count_cache: Default::default(),
            facet_tables: Default::default(),
            reloads,
            _merges_watch: merges_watch,
        })
    }

    /// The analyzer shared with matching.
    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }

    /// The synonyms applied at query time.
    pub fn synonyms(&self) -> &Arc<Synonyms> {
        &self.synonyms
    }

    /// The schema's fields.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// A searcher over the last committed state.
    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// The watermark of the last commit; `None` for a fresh index.
    pub fn watermark(&self) -> Result<Option<Watermark>, IndexError> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()))
    }

    /// True when the postings were built with another schema or analyzer and must be
    /// rebuilt from the store.
    pub fn needs_rebuild(&self) -> Result<bool, IndexError> {
        if self.recreated {
            return Ok(true);
        }
        Ok(match self.watermark()? {
            Some(w) => w.fingerprint != self.fingerprint,
            None => false,
        })
    }

    /// The seq applied so far (0 for a fresh or incompatible index).
    pub fn applied_seq(&self) -> Result<i64, IndexError> {
        Ok(match self.watermark()? {
            Some(w) if w.fingerprint == self.fingerprint => w.seq,
            _ => 0,
        })
    }

    /// Analyses `texts` (in parallel, a slice at a time so that only a slice's tokens are in
    /// memory) and hands the documents to the writer, whose threads then only build postings.
    fn add_all(&self, w: &mut IndexWriter, texts: &[ListingText]) -> Result<(), IndexError> {
        for part in texts.chunks(ANALYSIS_SLICE) {
            for doc in schema::documents(&self.fields, &self.analyzer, part, self.threads) {
                w.add_document(doc)?;
            }
        }
        Ok(())
    }

    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        let mut guard = self.writer.lock().map_err(|_| IndexError::Poisoned)?;
        let w = guard.as_mut().ok_or(IndexError::ReadOnly)?;
        f(w)
    }

    /// Applies a batch of store changes and commits with the new watermark: every id in
    /// `touched` is removed, then the current text of those still existing (`upserts`)
    /// is added. Blocking: call from a blocking thread.
    pub fn apply(
        &self,
        touched: &[(ListingKind, i64)],
        upserts: &[ListingText],
        seq: i64,
    ) -> Result<(), IndexError> {
        self.with_writer(|w| {
            let attempt = (|| {
                for (kind, id) in touched {
                    w.delete_term(Term::from_field_text(
                        self.fields.key,
                        &schema::key(*kind, *id),
                    ));
                }
                self.add_all(w, upserts)?;
                let mut prepared = w.prepare_commit()?;
                let payload = serde_json::to_string(&Watermark {
                    seq,
                    fingerprint: self.fingerprint.clone(),
                })
                .unwrap_or_default();
                prepared.set_payload(&payload);
                prepared.commit()?;
                Ok::<(), IndexError>(())
            })();
            if attempt.is_err() {
                // a failed write (disk full, read-only directory) kills tantivy's indexing
                // workers: roll back to the last commit and restart them, so the next
                // attempt (the watermark did not move) can succeed once space is back
                if let Err(e) = w.rollback() {
                    tracing::warn!(error = %e, "index rollback after a failed commit failed");
                }
            }
            attempt
        })?;
        self.reloads.reload()
    }

    /// Adds documents without committing (rebuilds commit once at the end via [`Self::commit`]).
    pub fn add_uncommitted(&self, docs: &[ListingText]) -> Result<(), IndexError> {
        self.with_writer(|w| {
            self.add_all(w, docs)?;
            Ok(())
        })
    }

    /// Deletes every document without committing (the first step of a rebuild).
    pub fn clear_uncommitted(&self) -> Result<(), IndexError> {
        self.with_writer(|w| {
            w.delete_all_documents()?;
            Ok(())
        })
    }

    /// Commits pending additions and deletions with the given watermark.
    pub fn commit(&self, seq: i64) -> Result<(), IndexError> {
        self.apply(&[], &[], seq)
    }

    /// Number of searchable documents of a kind (all kinds when `None`).
    pub fn count(&self, kind: Option<ListingKind>) -> Result<u64, IndexError> {
        let searcher = self.reader.searcher();
        Ok(match kind {
            None => searcher.num_docs(),
            Some(k) => {
                let q = TermQuery::new(
                    Term::from_field_text(self.fields.kind, k.code()),
                    IndexRecordOption::Basic,
                );
                searcher.search(&q, &Count)? as u64
            }
        })
    }

    /// All ids of a kind present in the index, sorted (consistency checks and tests).
    pub fn ids(&self, kind: ListingKind) -> Result<Vec<i64>, IndexError> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(
            Term::from_field_text(self.fields.kind, kind.code()),
            IndexRecordOption::Basic,
        );
        let n = searcher.search(&q, &Count)?.max(1);
        let docs = searcher.search(
            &q,
            &tantivy::collector::TopDocs::with_limit(n).order_by_score(),
        )?;
        let mut ids = Vec::with_capacity(docs.len());
        for (_, addr) in docs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = schema::stored_i64(&doc, self.fields.id) {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// Bytes used on disk by the index directory.
    pub fn size_bytes(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => walk(&e.path()),
                            Ok(m) => m.len(),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.dir)
    }

    /// Document frequency of a term across title, body and keywords: the largest of the
    /// three, so a term common anywhere counts as common. Used by salient-term extraction.
    pub fn doc_freq(&self, term: &str) -> u64 {
        let searcher = self.reader.searcher();
        [self.fields.title, self.fields.body, self.fields.keywords]
            .into_iter()
            .map(|f| {
                searcher
                    .doc_freq(&Term::from_field_text(f, term))
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }

    /// Number of documents (for idf).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

#[cfg(test)]
mod tests;
