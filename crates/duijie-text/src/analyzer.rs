//! The analyzer: normalisation, run splitting, jieba segmentation and the
//! index/query token rules.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jieba_rs::Jieba;

use crate::TextError;
use crate::lattice::{Frequencies, Span, likely_words};
use crate::normalize::{
    fold_char, is_han, is_inner_connector, is_run_char, is_trailing_connector, normalize,
};

/// How the analyzer is set up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyzerConfig {
    /// Let jieba's HMM join out-of-vocabulary characters into new words.
    /// Off by default: without it segmentation depends only on the
    /// dictionary, so the same text yields the same tokens wherever it occurs.
    pub hmm: bool,
    /// A user dictionary in jieba format (`词 频率 词性`, frequency and tag
    /// optional, blank lines and `#` comment lines allowed), loaded on top of
    /// jieba's embedded default dictionary.
    pub user_dict: Option<PathBuf>,
}

/// One token of analysed text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    /// The normalised token text (full-width folded, lowercased).
    pub text: String,
    /// Byte offset of the token's first character in the original text.
    pub offset_from: usize,
    /// Byte offset just past the token's last character in the original text.
    pub offset_to: usize,
    /// Character index of the token's first character in the original text.
    pub position: usize,
}

/// The token as tantivy takes it, for the tokenizers below and for pre-tokenized fields.
impl From<Token> for tantivy_tokenizer_api::Token {
    fn from(t: Token) -> Self {
        tantivy_tokenizer_api::Token {
            offset_from: t.offset_from,
            offset_to: t.offset_to,
            position: t.position,
            text: t.text,
            position_length: 1,
        }
    }
}

#[derive(Debug)]
struct Inner {
    jieba: Jieba,
    freqs: Frequencies,
    config: AnalyzerConfig,
    user_words: usize,
    /// The words of the user dictionary (domain terms).
    domain_words: HashSet<String>,
    /// Tokens of Han runs highlighting checked recently.
    runs: crate::snippet::RunCache,
}

/// Chinese/Latin text analyzer built on jieba. Cheap to clone: all clones
/// share one dictionary.
#[derive(Debug, Clone)]
pub struct Analyzer {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Index,
    Query,
}

impl Analyzer {
    /// Loads jieba's embedded dictionary (about 150 ms, 32 MiB: do it once and
    /// clone the analyzer) and then the user dictionary, if configured.
    ///
    /// User dictionary entries that contain anything but Han characters are
    /// skipped: only Han runs are segmented by jieba, so such an entry could
    /// never match.
    pub fn new(cfg: &AnalyzerConfig) -> Result<Self, TextError> {
        let mut jieba = Jieba::new();
        let mut domain_words = HashSet::new();
        if let Some(path) = &cfg.user_dict {
            let text = fs::read_to_string(path).map_err(|source| TextError::Io {
                path: path.clone(),
                source,
            })?;
            domain_words = load_user_dict(&mut jieba, &text, path)?;
        }
        Ok(Analyzer {
            inner: Arc::new(Inner {
                freqs: Frequencies::new(&jieba),
                jieba,
                config: cfg.clone(),
                user_words: domain_words.len(),
                domain_words,
                runs: Default::default(),
            }),
        })
    }

    /// Like [`Analyzer::new`] with the user dictionary given as text (the server embeds
    /// its built-in dictionary so that the binary works from any directory).
    pub fn with_user_dict_text(hmm: bool, user_dict: &str) -> Result<Self, TextError> {
        let mut jieba = Jieba::new();
        let domain_words = load_user_dict(&mut jieba, user_dict, Path::new("<user dictionary>"))?;
        Ok(Analyzer {
            inner: Arc::new(Inner {
                freqs: Frequencies::new(&jieba),
                jieba,
                config: AnalyzerConfig {
                    hmm,
                    user_dict: None,
                },
                user_words: domain_words.len(),
                domain_words,
                runs: Default::default(),
            }),
        })
    }

    pub(crate) fn run_cache(&self) -> &crate::snippet::RunCache {
        &self.inner.runs
    }

    /// The configuration this analyzer was built with.
    pub fn config(&self) -> &AnalyzerConfig {
        &self.inner.config
    }

    /// Number of entries taken from the user dictionary.
    pub fn user_words(&self) -> usize {
        self.inner.user_words
    }

    /// The underlying jieba segmenter (default dictionary plus user words).
    pub fn jieba(&self) -> &Jieba {
        &self.inner.jieba
    }

    /// Tokens for indexing: every query-mode token plus, at their own
    /// character positions, the words the segmentation lattice makes likely
    /// (alternatives with a fair probability, and the inner words of compounds:
    /// `农业` inside `中国农业发展银行`, but not `氢能` in `产氢能力`), the single
    /// characters of words jieba's HMM made up, and the parts of Latin/digit runs
    /// (`peg` and `400` of `peg-400`). Sorted by `(offset_from, offset_to)`.
    pub fn index_tokens(&self, text: &str) -> Vec<Token> {
        self.analyze(text, Mode::Index)
    }

    /// Tokens for querying: jieba's exact segmentation of each Han run and
    /// each Latin/digit run whole. Tokens never overlap, so both offsets are
    /// non-decreasing.
    pub fn query_tokens(&self, text: &str) -> Vec<Token> {
        self.analyze(text, Mode::Query)
    }

    /// Lowercases and folds a keyword or facet value (see [`normalize`]).
    pub fn normalize_term(&self, s: &str) -> String {
        normalize(s)
    }

    /// A tantivy tokenizer producing [`Analyzer::index_tokens`].
    pub fn index_tokenizer(&self) -> IndexTokenizer {
        IndexTokenizer {
            analyzer: self.clone(),
        }
    }

    /// A tantivy tokenizer producing [`Analyzer::query_tokens`].
    pub fn query_tokenizer(&self) -> QueryTokenizer {
        QueryTokenizer {
            analyzer: self.clone(),
        }
    }

    fn analyze(&self, text: &str, mode: Mode) -> Vec<Token> {
        let chars: Vec<(usize, char)> = text
            .char_indices()
            .map(|(offset, c)| (offset, fold_char(c)))
            .collect();
        let mut out = Vec::new();
        let mut emitter = Emitter {
            text,
            chars: &chars,
            out: &mut out,
        };
        let n = chars.len();
        let mut i = 0;
        while i < n {
            let c = chars[i].1;
            if is_han(c) {
                let start = i;
                while i < n && is_han(chars[i].1) {
                    i += 1;
                }
                self.emit_han_run(&mut emitter, start, i, mode);
            } else if is_run_char(c) {
                let start = i;
                i += 1;
                while i < n {
                    let c = chars[i].1;
                    if is_run_char(c) || is_trailing_connector(c) {
                        i += 1;
                    } else if is_inner_connector(c) && i + 1 < n && is_run_char(chars[i + 1].1) {
                        i += 2;
                    } else {
                        break;
                    }
                }
                emit_latin_run(&mut emitter, start, i, mode);
            } else {
                // Punctuation, whitespace and symbols are never tokens.
                i += 1;
            }
        }
        out.sort_by(|a, b| {
            (a.offset_from, a.offset_to, &a.text).cmp(&(b.offset_from, b.offset_to, &b.text))
        });
        out.dedup();
        out
    }

    fn emit_han_run(&self, em: &mut Emitter<'_>, start: usize, end: usize, mode: Mode) {
        let jieba = &self.inner.jieba;
        let run_from = em.byte_at(start);
        let run = &em.text[run_from..em.byte_at(end)];
        let words = jieba.cut(run, self.inner.config.hmm);
        for word in &words {
            em.push(
                word.word.to_owned(),
                run_from + word.byte_start,
                run_from + word.byte_end,
                start + word.start,
            );
        }
        if mode == Mode::Query {
            return;
        }
        // Words the HMM made up are not in the dictionary: their characters are indexed
        // too, so that a query cut differently still finds them.
        for word in &words {
            if word.end - word.start >= 2 && !jieba.has_word(word.word) {
                for i in word.start..word.end {
                    em.push_chars(start + i, start + i + 1);
                }
            }
        }
        let starts: Vec<usize> = (start..=end).map(|i| em.byte_at(i)).collect();
        let best: Vec<Span> = words
            .iter()
            .map(|w| Span {
                start: w.start,
                end: w.end,
            })
            .collect();
        let domain = |w: &str| self.inner.domain_words.contains(w);
        // both lists are sorted; a word of the best path is already out (a Han word is
        // the same folded and lowercased)
        let mut on_path = best.iter().peekable();
        for s in likely_words(jieba, &self.inner.freqs, em.text, &starts, &best, &domain) {
            while on_path.next_if(|b| **b < s).is_some() {}
            if on_path.peek() == Some(&&s) {
                continue;
            }
            em.push_chars(start + s.start, start + s.end);
        }
    }
}

/// Loads user dictionary text into `jieba`, returning the words added.
fn load_user_dict(
    jieba: &mut Jieba,
    text: &str,
    path: &Path,
) -> Result<HashSet<String>, TextError> {
    let mut added = HashSet::new();
    for (line_no, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let Some(word) = fields.next() else { continue };
        let freq = match fields.next() {
            None => None,
            Some(f) => Some(f.parse::<usize>().map_err(|e| TextError::Parse {
                source_name: path.display().to_string(),
                line: line_no + 1,
                message: format!("frequency `{f}` of `{word}` is not a non-negative integer: {e}"),
            })?),
        };
        let tag = fields.next();
        if !word.chars().all(is_han) {
            continue;
        }
        jieba.add_word(word, freq, tag);
        added.insert(word.to_owned());
    }
    Ok(added)
}

/// Collects tokens with offsets into the original text.
struct Emitter<'a> {
    text: &'a str,
    /// `(original byte offset, folded char)` for every character of `text`.
    chars: &'a [(usize, char)],
    out: &'a mut Vec<Token>,
}

impl Emitter<'_> {
    /// Original byte offset of character `i` (the text length past the end).
    fn byte_at(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.text.len(), |&(b, _)| b)
    }

    fn push(&mut self, text: String, offset_from: usize, offset_to: usize, position: usize) {
        if text.is_empty() || offset_from >= offset_to {
            return;
        }
        self.out.push(Token {
            text,
            offset_from,
            offset_to,
            position,
        });
    }

    /// Pushes the folded, lowercased characters `start..end` as one token.
    fn push_chars(&mut self, start: usize, end: usize) {
        let text: String = self.chars[start..end]
            .iter()
            .flat_map(|&(_, c)| c.to_lowercase())
            .collect();
        let (from, to) = (self.byte_at(start), self.byte_at(end));
        self.push(text, from, to, start);
    }
}

/// Emits a Latin/digit run (characters `start..end`, possibly with
/// connectors) whole and, in index mode, its parts of two or more characters,
/// each at its own character position: the pieces between connectors
/// (`peg` and `400` of `peg-400`, but not the `3` and `5` of `3.5`) and, inside
/// each piece that mixes letters and digits, its letter and digit sub-runs
/// (`peg` and `400` of `peg400`, `iphone` and `15` of `iphone15`).
fn emit_latin_run(em: &mut Emitter<'_>, start: usize, end: usize, mode: Mode) {
    em.push_chars(start, end);
    if mode == Mode::Query {
        return;
    }
    let mut pieces = Vec::new();
    let mut k = start;
    while k < end {
        if is_run_char(em.chars[k].1) {
            let s = k;
            while k < end && is_run_char(em.chars[k].1) {
                k += 1;
            }
            pieces.push((s, k));
        } else {
            k += 1;
        }
    }
    let whole = pieces.len() == 1 && pieces[0] == (start, end);
    for &(ps, pe) in &pieces {
        if !whole && pe - ps >= 2 {
            em.push_chars(ps, pe);
        }
        let mut subs = Vec::new();
        let mut k = ps;
        while k < pe {
            let s = k;
            let numeric = em.chars[k].1.is_numeric();
            while k < pe && em.chars[k].1.is_numeric() == numeric {
                k += 1;
            }
            subs.push((s, k));
        }
        if subs.len() > 1 {
            for (ss, se) in subs {
                if se - ss >= 2 {
                    em.push_chars(ss, se);
                }
            }
        }
    }
}

/// Converts analyzer tokens into a tantivy token stream.
fn into_stream(tokens: Vec<Token>) -> AnalyzerTokenStream {
    AnalyzerTokenStream {
        tokens: tokens.into_iter().map(Into::into).collect(),
        next: 0,
        empty: tantivy_tokenizer_api::Token::default(),
    }
}

/// Tantivy tokenizer for indexing ([`Analyzer::index_tokens`]). Cloning only
/// bumps a reference count.
#[derive(Debug, Clone)]
pub struct IndexTokenizer {
    analyzer: Analyzer,
}

/// Tantivy tokenizer for queries ([`Analyzer::query_tokens`]). Its tokens never
/// overlap. Cloning only bumps a reference count.
#[derive(Debug, Clone)]
pub struct QueryTokenizer {
    analyzer: Analyzer,
}

impl tantivy_tokenizer_api::Tokenizer for IndexTokenizer {
    type TokenStream<'a> = AnalyzerTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        into_stream(self.analyzer.index_tokens(text))
    }
}

impl tantivy_tokenizer_api::Tokenizer for QueryTokenizer {
    type TokenStream<'a> = AnalyzerTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        into_stream(self.analyzer.query_tokens(text))
    }
}

/// Token stream over pre-computed tokens.
#[derive(Debug, Clone)]
pub struct AnalyzerTokenStream {
    tokens: Vec<tantivy_tokenizer_api::Token>,
    /// Index of the token after the current one.
    next: usize,
    /// Returned by `token()` before the first `advance()` or past the end.
    empty: tantivy_tokenizer_api::Token,
}

impl tantivy_tokenizer_api::TokenStream for AnalyzerTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            self.next = self.tokens.len() + 1;
            false
        }
    }

    fn token(&self) -> &tantivy_tokenizer_api::Token {
        self.next
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .unwrap_or(&self.empty)
    }

    fn token_mut(&mut self) -> &mut tantivy_tokenizer_api::Token {
        match self.next.checked_sub(1) {
            Some(i) if i < self.tokens.len() => &mut self.tokens[i],
            _ => &mut self.empty,
        }
    }
}

#[cfg(test)]
impl Analyzer {
    pub(crate) fn shared_count(&self) -> usize {
        Arc::strong_count(&self.inner)
    }
}
