//! The engine's own limit, for `duijie bench` to print beside duijie's figures: bare tantivy
//! with the same Chinese analyser, indexing the same texts into a two-field schema (title
//! and body, positions, nothing stored), with no store, no term vectors, no facets and no
//! commit payload. What duijie adds on top of this is its own cost.

use crate::{IndexError, ZH_TOKENIZER};
use duijie_text::Analyzer;
use std::path::Path;
use std::time::{Duration, Instant};
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, TantivyDocument};

/// What [`index_texts`] measured.
#[derive(Debug, Clone, Copy)]
pub struct BareFigures {
    /// Documents indexed.
    pub docs: usize,
    /// From the first document to the end of the commit.
    pub elapsed: Duration,
}

impl BareFigures {
    /// Documents per second.
    pub fn docs_per_sec(&self) -> f64 {
        self.docs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Index `(title, body)` pairs into a fresh index in `dir` (which must be empty or absent)
/// with `threads` indexing threads and `memory` bytes of writer budget, and commit once.
pub fn index_texts(
    dir: &Path,
    analyzer: &Analyzer,
    texts: &[(String, String)],
    threads: usize,
    memory: usize,
) -> Result<BareFigures, IndexError> {
    std::fs::create_dir_all(dir).map_err(|e| IndexError::Io(format!("{}: {e}", dir.display())))?;
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ZH_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let title = builder.add_text_field("title", text.clone());
    let body = builder.add_text_field("body", text);
    let index = Index::create_in_dir(dir, builder.build())?;
    index.tokenizers().register(
        ZH_TOKENIZER,
        tantivy::tokenizer::TextAnalyzer::from(analyzer.index_tokenizer()),
    );
    let threads = threads.max(1);
    let mut writer: tantivy::IndexWriter<TantivyDocument> =
        index.writer_with_num_threads(threads, memory.max(threads * (16 << 20)))?;
    let started = Instant::now();
    for (t, b) in texts {
        let mut doc = TantivyDocument::default();
        doc.add_text(title, t);
        doc.add_text(body, b);
        writer.add_document(doc)?;
    }
    writer.commit()?;
    Ok(BareFigures {
        docs: texts.len(),
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::Term;
    use tantivy::collector::Count;
    use tantivy::query::TermQuery;

    #[test]
    fn the_bare_index_holds_every_text_and_finds_its_words() {
        let analyzer = Analyzer::with_user_dict_text(false, "").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<(String, String)> = (0..50)
            .map(|i| {
                (
                    format!("高性能锂电池隔膜{i}"),
                    if i % 2 == 0 {
                        "采用静电纺丝制备纳米纤维".to_string()
                    } else {
                        "用于焊接机器人的视觉定位".to_string()
                    },
                )
            })
            .collect();
        let f = index_texts(dir.path(), &analyzer, &texts, 1, 32 << 20).unwrap();
        assert_eq!(f.docs, 50);
        assert!(f.docs_per_sec() > 0.0);
        let index = Index::open_in_dir(dir.path()).unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.num_docs(), 50);
        let body = index.schema().get_field("body").unwrap();
        let hits = searcher
            .search(
                &TermQuery::new(
                    Term::from_field_text(body, "焊接"),
                    IndexRecordOption::Basic,
                ),
                &Count,
            )
            .unwrap();
        assert_eq!(hits, 25, "every odd text mentions 焊接 once");
    }
}
