//! Chinese text analysis for indexing and querying research results and
//! enterprise technology needs, built on jieba-rs and tantivy's tokenizer API.
//!
//! # Why it works the way it does
//!
//! * **One dictionary, shared.** `Jieba::new()` costs about 150 ms and 32 MiB.
//!   An [`Analyzer`] loads it once behind an `Arc`; cloning the analyzer or its
//!   tantivy tokenizers ([`IndexTokenizer`], [`QueryTokenizer`]) only bumps a
//!   reference count, which matters because tantivy clones tokenizers freely.
//! * **Index the likely words, query in exact mode.** Exact segmentation hides
//!   sub-words (`农业` inside `中国农业发展银行`), while indexing every dictionary
//!   sub-word (or jieba's search mode) finds words across a boundary (`氢能` in
//!   `产氢|能力`, `架构` in `转向架|构架`). Index tokens are the exact tokens plus the words
//!   the segmentation lattice makes likely: alternatives with a fair marginal probability
//!   under jieba's own model, and the inner words of compounds from their own
//!   segmentation (`中国/农业/发展/银行`), recursively (see `lattice.rs`). The query
//!   tokens of a text are still a subset of its index tokens, a query such as `成果转化`
//!   finds `科技成果转化`, and `氢能` no longer finds `产氢能力`. The example
//!   `segmentation` measures this against a segmented gold corpus.
//! * **Positions are character indexes.** `position` is the character index of
//!   the token's start in the original text, not its ordinal. Search-mode
//!   tokens overlap, so ordinals would differ between index and query and
//!   phrase queries would fail; character indexes agree.
//! * **Offsets are byte offsets into the original text.** Tokens are sorted by
//!   `(offset_from, offset_to)`; tantivy's snippet generator panics on bad
//!   offsets. Full-width ASCII (`ＣＮＣ`, `５Ｇ`) and the ideographic space are
//!   folded before analysis, but offsets still point into the unfolded text.
//!   Because index tokens nest (`农业` inside `中国农业发展银行`), their
//!   `offset_to` cannot also be monotonic, and tantivy's `SnippetGenerator`
//!   (which ends a fragment at the last token's `offset_to`) then panics in
//!   `Snippet::to_html` when a highlighted word reaches past the fragment. Use
//!   [`Analyzer::snippet`] instead; it highlights sub-words too, and a lone character
//!   only when the query asked for characters or it touches another match. (A
//!   `SnippetGenerator` built with [`Analyzer::query_tokenizer`] does not
//!   panic, but cannot highlight sub-words such as `制氢` in `电解水制氢`.)
//! * **Latin and digits are ours, not jieba's.** Text is split into maximal
//!   Han runs (segmented by jieba), Latin/digit runs, and the rest (punctuation,
//!   whitespace and symbols, never emitted). A Latin/digit run, with inner
//!   connectors (`-._/&`) and trailing `+`/`#`, is one lowercased token
//!   (`5g`, `peg-400`, `cnc`, `c++`), so `cnc` finds `CNC`. In index mode its
//!   parts are emitted too, at their own character positions (`peg`, `400`),
//!   so a lone `400` is found; query mode emits only the whole run.
//! * **Nothing is dropped.** Every Han character and every alphanumeric run
//!   ends up in at least one token, whether or not the dictionary knows it.
//! * **HMM off by default.** Without jieba's HMM, segmentation depends only on
//!   the dictionary, so the same text segments the same way in a document and
//!   in a query. It can be turned on in [`AnalyzerConfig`]; in index mode the
//!   single characters of words the HMM invents are then indexed too.
//!
//! Besides the analyzer the crate holds [`Synonyms`] (query expansion over
//! token sequences), [`Stopwords`] and [`salient_terms`] (TF-IDF keywords for
//! "more like this" matching of long texts).
#![warn(missing_docs)]

mod analyzer;
mod lattice;
mod normalize;
mod salient;
mod snippet;
mod stopwords;
mod synonyms;

#[cfg(test)]
mod analyzer_tests;

use std::path::PathBuf;

pub use analyzer::{
    Analyzer, AnalyzerConfig, AnalyzerTokenStream, IndexTokenizer, QueryTokenizer, Token,
};
pub use normalize::{fold_char, is_han, normalize};
pub use salient::{FALLBACK_UNKNOWN_IDF, RARE_CHAR_MIN_IDF, SUB_WORD_WEIGHT, salient_terms};
pub use snippet::Snippet;
pub use stopwords::Stopwords;
pub use synonyms::{Expansion, Synonyms};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// A dictionary, synonym or stopword file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line of a dictionary or synonym file is malformed.
    #[error("{source_name} line {line}: {message}")]
    Parse {
        /// The file path, or a placeholder for text parsed from memory.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use crate::{Analyzer, AnalyzerConfig};

    /// Path of a file in `config/dict/`.
    pub fn dict_path(name: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/dict/")).join(name)
    }

    /// The analyzer with the real user dictionary, loaded once per test binary.
    pub fn analyzer() -> &'static Analyzer {
        static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
        ANALYZER.get_or_init(|| {
            Analyzer::new(&AnalyzerConfig {
                hmm: false,
                user_dict: Some(dict_path("user.dict")),
            })
            .expect("user dictionary loads")
        })
    }
}
