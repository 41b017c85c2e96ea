//! The segmentation lattice of a Han run, and which of its words are worth indexing.
//!
//! jieba picks the most probable path through the run's word graph (a unigram model:
//! a path's probability is the product of `freq(word) / total` over its words). Indexing
//! only that path misses words hidden inside compounds (`农业` in `中国农业发展银行`) and
//! words where the path is a close call; indexing every dictionary sub-word (what
//! duijie did before, and, limited to 2 and 3 characters, what jieba's search mode
//! does) finds words that straddle a real boundary (`氢能` in `产氢|能力`, `国人` in
//! `中国|人民`). The lattice keeps the words a reader would accept:
//!
//! * **Alternatives by probability.** The marginal probability of each word of the run
//!   (forward–backward over all paths of the same model jieba uses) says how likely the
//!   word is to be a real word *here*; words at least as likely as not
//!   ([`ALTERNATIVE_MIN_PROB`]) are kept besides jieba's best path.
//! * **Compounds by their own segmentation.** A kept word of three or more characters is
//!   segmented again without its whole-word edge (`中国农业发展银行` → `中国/农业/发展/银行`),
//!   keeping the inner words that are near certain ([`INNER_MIN_PROB`]) and the domain
//!   terms of the user dictionary ([`DOMAIN_INNER_MIN_PROB`]), recursively. A word's
//!   probability counts the paths where it is a word at any level of nesting (`铁路` in
//!   `京沪|高速铁路` as well as in `京沪|高速|铁路`). A sub-word
//!   that straddles the compound's own inner boundaries (`国农`, `业发`) is not kept, nor
//!   is either half of a close call (`大力` or `力气` in `大力气`).
//!
//! The thresholds were chosen with the `segmentation` example on the SIGHAN 2005 MSR test
//! gold: lower ones add recall of a few thousandths at the price of several hundredths
//! of false hits (words found across a gold word boundary).
//!
//! jieba-rs does not expose word frequencies; [`Frequencies`] recovers them from
//! `suggest_freq`, which returns a dictionary word's frequency when jieba keeps the word
//! whole, and caches them. A word that jieba splits even on its own (its split is more
//! probable than the word) can never be on a best path, so it is left out of the lattice.

use std::hash::BuildHasher;
use std::sync::RwLock;

use rustc_hash::{FxBuildHasher, FxHashMap};

use jieba_rs::Jieba;

/// A word of the run is indexed when its marginal probability is at least this.
pub const ALTERNATIVE_MIN_PROB: f64 = 0.5;

/// A sub-word of a compound is indexed when its marginal probability in the compound's
/// own lattice (without the whole-word edge) is at least this: near certain, since a
/// compound whose inner cut is a close call (`大力|气` or `大|力气`) gives no evidence
/// for either half.
pub const INNER_MIN_PROB: f64 = 0.9;

/// A sub-word of a compound that the user dictionary lists (a domain term such as
/// `成果转化` in `科技成果转化`) is indexed when its marginal probability in the compound's
/// own lattice is at least this, that is always: domain terms are what readers search
/// for, and a compound of two overlapping ones (`科技成果` + `成果转化`) has no single
/// clear inner cut.
pub const DOMAIN_INNER_MIN_PROB: f64 = 0.0;

/// Shortest word (in characters) segmented again as a compound.
const MIN_COMPOUND_CHARS: usize = 3;

/// Longest word (in characters) whose inner segmentation is looked at: dictionary words
/// are much shorter; the cap bounds the work on pathological input.
const MAX_COMPOUND_CHARS: usize = 16;

/// Cached entries before the cache is cleared (a bound on memory, far above the number
/// of distinct words in any realistic corpus window).
const MAX_CACHED: usize = 1 << 20;

/// Independently locked parts of the cache: analysis runs on several threads at once and
/// looks a word up for every character of a text, so one lock would be contended.
const CACHE_SHARDS: usize = 64;

type Shard = RwLock<FxHashMap<Box<str>, Option<f64>>>;

/// Natural-log frequencies of dictionary words, recovered from jieba and cached.
#[derive(Debug)]
pub(crate) struct Frequencies {
    /// ln(total frequency of the dictionary).
    log_total: f64,
    /// word → ln(freq), or `None` when jieba splits the word even on its own; a word
    /// lives in the shard its hash picks.
    cache: Box<[Shard]>,
}

impl Frequencies {
    /// Estimates the dictionary's total frequency from two frequent characters:
    /// `suggest_freq("的的") - 1 = ⌊freq(的)² / total⌋` when `的的` is not a word.
    pub(crate) fn new(jieba: &Jieba) -> Self {
        // the default dictionary's total, should the estimate fail (an odd dictionary)
        const FALLBACK_TOTAL: f64 = 60_101_967.0;
        let f = jieba.suggest_freq("的") as f64;
        let pair = jieba.suggest_freq("的的") as f64 - 1.0;
        let total = if !jieba.has_word("的的") && pair >= 100.0 {
            f * f / pair
        } else {
            FALLBACK_TOTAL
        };
        Frequencies {
            log_total: total.ln(),
            cache: (0..CACHE_SHARDS).map(|_| Shard::default()).collect(),
        }
    }

    /// ln(freq / total) of a word for the lattice: a dictionary word jieba keeps whole,
    /// or a single character (frequency 1 when the dictionary lacks it, as in jieba).
    fn log_prob(&self, jieba: &Jieba, word: &str) -> Option<f64> {
        let single = word.chars().nth(1).is_none();
        // the high bits pick the shard (the map itself uses the low ones)
        let shard = &self.cache[(FxBuildHasher.hash_one(word) >> 58) as usize % CACHE_SHARDS];
        if let Some(v) = shard.read().ok().and_then(|c| c.get(word).copied()) {
            return v.map(|lf| lf - self.log_total);
        }
        let lf = if jieba.has_word(word) && (single || jieba.cut(word, false).len() == 1) {
            // the cut is the word itself, so suggest_freq is its frequency (± 1)
            Some((jieba.suggest_freq(word).max(1) as f64).ln())
        } else if single {
            Some(0.0)
        } else {
            None
        };
        if let Ok(mut c) = shard.write() {
            if c.len() >= MAX_CACHED / CACHE_SHARDS {
                c.clear();
            }
            c.insert(word.into(), lf);
        }
        lf.map(|lf| lf - self.log_total)
    }
}

/// A word of a run, by character indexes into the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// An edge of the word graph.
#[derive(Debug, Clone, Copy)]
struct Edge {
    start: usize,
    end: usize,
    log_prob: f64,
}

/// The word graph of `chars[from..to]`, sorted by start, then end.
fn edges(
    jieba: &Jieba,
    freqs: &Frequencies,
    text: &str,
    starts: &[usize],
    from: usize,
    to: usize,
) -> Vec<Edge> {
    let mut out = Vec::new();
    let sub = &text[starts[from]..starts[to]];
    for w in jieba.cut_all(sub) {
        let (start, end) = (from + w.start, from + w.end);
        if end - start < 2 {
            continue;
        }
        if let Some(log_prob) = freqs.log_prob(jieba, w.word) {
            out.push(Edge {
                start,
                end,
                log_prob,
            });
        }
    }
    for i in from..to {
        let c = &text[starts[i]..starts[i + 1]];
        let log_prob = freqs.log_prob(jieba, c).unwrap_or(-freqs.log_total);
        out.push(Edge {
            start: i,
            end: i + 1,
            log_prob,
        });
    }
    out.sort_by_key(|e| (e.start, e.end));
    out
}

fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// Marginal probability of every edge (same order): the total probability of the paths
/// through it over that of all paths, by forward–backward in log space.
fn marginals(edges: &[Edge], from: usize, to: usize) -> Vec<f64> {
    let n = to - from;
    let mut alpha = vec![f64::NEG_INFINITY; n + 1];
    alpha[0] = 0.0;
    // edges sorted by start: alpha[start] is final when its edges are reached
    for e in edges {
        let (s, t) = (e.start - from, e.end - from);
        alpha[t] = log_add(alpha[t], alpha[s] + e.log_prob);
    }
    let mut beta = vec![f64::NEG_INFINITY; n + 1];
    beta[n] = 0.0;
    for e in edges.iter().rev() {
        let (s, t) = (e.start - from, e.end - from);
        beta[s] = log_add(beta[s], e.log_prob + beta[t]);
    }
    let z = alpha[n];
    edges
        .iter()
        .map(|e| {
            let (s, t) = (e.start - from, e.end - from);
            let p = (alpha[s] + e.log_prob + beta[t] - z).exp();
            if p.is_finite() { p } else { 0.0 }
        })
        .collect()
}

/// The words of the run `chars` (byte offsets `starts`, one more than characters, into
/// `text`) worth indexing besides jieba's own cut: alternatives with a fair probability
/// and, recursively, the inner words of compounds. Spans are character indexes.
pub(crate) fn likely_words(
    jieba: &Jieba,
    freqs: &Frequencies,
    text: &str,
    starts: &[usize],
    best_path: &[Span],
    is_domain: &dyn Fn(&str) -> bool,
) -> Vec<Span> {
    let n = starts.len() - 1;
    let mut out: Vec<Span> = Vec::new();
    let all = edges(jieba, freqs, text, starts, 0, n);
    let probs = marginals(&all, 0, n);
    let mut compounds: Vec<Span> = best_path
        .iter()
        .copied()
        .filter(|s| s.end - s.start >= MIN_COMPOUND_CHARS)
        .collect();
    for (e, p) in all.iter().zip(&probs) {
        if *p >= ALTERNATIVE_MIN_PROB {
            let span = Span {
                start: e.start,
                end: e.end,
            };
            out.push(span);
            if e.end - e.start >= MIN_COMPOUND_CHARS {
                compounds.push(span);
            }
        }
    }
    let mut done: Vec<Span> = Vec::new();
    let mut memo = FxHashMap::default();
    while let Some(c) = compounds.pop() {
        if done.contains(&c) || c.end - c.start > MAX_COMPOUND_CHARS {
            continue;
        }
        done.push(c);
        for (e, p) in nested_marginals(&all, c, &mut memo) {
            let word = &text[starts[e.start]..starts[e.end]];
            let min = if is_domain(word) {
                DOMAIN_INNER_MIN_PROB
            } else {
                INNER_MIN_PROB
            };
            if p >= min {
                out.push(e);
                if e.end - e.start >= MIN_COMPOUND_CHARS {
                    compounds.push(e);
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// For every word inside the compound `c` (the run's graph cut to `c`, without `c`'s own
/// edge): the probability that it is a word at some level of the compound's
/// segmentation, either directly (its marginal in `c`'s lattice) or inside a longer inner
/// word that is segmented again (the longer word's marginal times the word's nested
/// probability inside it). `铁路` in `京沪高速铁路` is a close call between
/// `京沪/高速铁路` and `京沪/高速/铁路` at the first level, but a word either way.
fn nested_marginals(
    all: &[Edge],
    c: Span,
    memo: &mut FxHashMap<Span, Vec<(Span, f64)>>,
) -> Vec<(Span, f64)> {
    if let Some(v) = memo.get(&c) {
        return v.clone();
    }
    // the run's graph already holds every word inside the compound
    let inner: Vec<Edge> = all
        .iter()
        .filter(|e| e.start >= c.start && e.end <= c.end && e.end - e.start < c.end - c.start)
        .copied()
        .collect();
    let probs = marginals(&inner, c.start, c.end);
    let mut out: FxHashMap<Span, f64> = inner
        .iter()
        .zip(&probs)
        .map(|(e, p)| {
            let span = Span {
                start: e.start,
                end: e.end,
            };
            (span, *p)
        })
        .collect();
    for (e, p) in inner.iter().zip(&probs) {
        let len = e.end - e.start;
        if *p <= 0.0 || !(MIN_COMPOUND_CHARS..=MAX_COMPOUND_CHARS).contains(&len) {
            continue;
        }
        let span = Span {
            start: e.start,
            end: e.end,
        };
        for (x, q) in nested_marginals(all, span, memo) {
            *out.entry(x).or_insert(0.0) += p * q;
        }
    }
    let mut v: Vec<(Span, f64)> = out.into_iter().map(|(x, p)| (x, p.min(1.0))).collect();
    v.sort_by_key(|(x, _)| *x);
    memo.insert(c, v.clone());
    v
}
