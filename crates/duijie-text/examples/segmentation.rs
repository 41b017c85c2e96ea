//! Segmentation and word-boundary report against a segmented gold file (words separated
//! by spaces, one text per line, such as the SIGHAN 2005 `msr_test_gold.utf8`):
//!
//! ```text
//! cargo run --release -p duijie-text --example segmentation -- GOLD [--details] [--audit]
//!     [--leave-one-out] [--user-dict=PATH]
//! ```
//!
//! For duijie's analyzer (user dictionary, HMM off) and for plain jieba (default
//! dictionary) in exact and search mode, with and without HMM, it prints:
//!
//! * **Word F1** of the exact segmentation (duijie's query tokens, jieba's `cut`) against
//!   the gold words, by character spans. Gold words and tokens without a letter, digit or
//!   Han character (punctuation) are left out on both sides, since duijie never emits
//!   them.
//! * **Recall and false hits of a search.** The gold lines are split after `。！？` into
//!   sentences; the first 4,000 non-empty ones are the documents. Query words are the
//!   gold word types of 2 to 4 Han characters that are a whole gold word in at least one
//!   sentence ("must find") and occur only across gold word boundaries in at least one
//!   other ("must not find": every occurrence of its characters straddles a boundary, as
//!   `氢能` in `产氢|能力`); sentences where it only lies inside a longer gold word count
//!   for neither. Of those, the 300 with the smallest FNV-1a hash of their UTF-8 bytes
//!   are used, so the selection is reproducible and does not favour frequent words.
//!   Recall is the share of (word, must-find sentence) pairs found, false hits the share
//!   of (word, must-not-find sentence) pairs found, both pooled over all 300 words.
//!
//!   "Found" is decided on tokens, as the index's phrase query would: a sentence is found
//!   when, at some occurrence of the word's characters, every query token of the word
//!   (duijie: `query_tokens`; jieba: `cut`) is an index token of the sentence (duijie:
//!   `index_tokens`; jieba exact: `cut`; jieba search: `cut_for_search`) at the same
//!   character offset from the occurrence as in the query. Positions are character
//!   indexes, as in the index, so this is exactly what a single-term or phrase query on
//!   the indexed sentences matches.
//!
//! With `--details`, it lists duijie's misses and false hits. With `--audit`, it also
//! lists the user dictionary entries that duijie's exact segmentation produces in the gold
//! sentences, with how often the token is a whole gold word and how often it straddles a
//! gold boundary (a false join). With `--leave-one-out`, it measures duijie again without
//! each user dictionary entry that occurs among the index tokens, one at a time, and lists
//! the entries whose removal changes the figures. `--user-dict=PATH` measures another user
//! dictionary than `config/dict/user.dict` (to try a change before making it).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use duijie_text::{Analyzer, AnalyzerConfig, is_han};
use jieba_rs::Jieba;

const SENTENCES: usize = 4000;
const QUERY_WORDS: usize = 300;

/// A gold sentence: its text and the character span of every word.
struct Sentence {
    text: String,
    words: Vec<(usize, usize)>,
}

/// Query word → (must-find sentences, must-not-find sentences), with the char positions
/// of the word's occurrences in each.
type Cases = HashMap<String, (Vec<(usize, Vec<usize>)>, Vec<(usize, Vec<usize>)>)>;

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn is_word_like(s: &str) -> bool {
    s.chars().any(|c| c.is_alphanumeric())
}

fn read_gold(path: &str) -> Vec<Sentence> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let mut out = Vec::new();
    for line in text.lines() {
        let mut cur = Sentence {
            text: String::new(),
            words: Vec::new(),
        };
        let mut at = 0;
        for w in line.split_whitespace() {
            let n = w.chars().count();
            cur.text.push_str(w);
            cur.words.push((at, at + n));
            at += n;
            if matches!(w, "。" | "！" | "？") {
                out.push(std::mem::replace(
                    &mut cur,
                    Sentence {
                        text: String::new(),
                        words: Vec::new(),
                    },
                ));
                at = 0;
            }
        }
        if !cur.words.is_empty() {
            out.push(cur);
        }
        if out.len() >= SENTENCES {
            break;
        }
    }
    out.truncate(SENTENCES);
    out
}

fn cases(sentences: &[Sentence]) -> Cases {
    let mut all: Cases = HashMap::new();
    for (si, s) in sentences.iter().enumerate() {
        let chars: Vec<char> = s.text.chars().collect();
        let mut boundary = vec![false; chars.len() + 1];
        for &(a, b) in &s.words {
            boundary[a] = true;
            boundary[b] = true;
        }
        let gold: HashSet<(usize, usize)> = s.words.iter().copied().collect();
        // word → (occurrences, any whole, all crossing)
        let mut seen: HashMap<String, (Vec<usize>, bool, bool)> = HashMap::new();
        for len in 2..=4 {
            for p in 0..chars.len().saturating_sub(len - 1) {
                let w = &chars[p..p + len];
                if !w.iter().all(|&c| is_han(c)) {
                    continue;
                }
                let word: String = w.iter().collect();
                let whole = gold.contains(&(p, p + len));
                let crossing = (p + 1..p + len).any(|k| boundary[k]);
                let e = seen.entry(word).or_insert((Vec::new(), false, true));
                e.0.push(p);
                e.1 |= whole;
                e.2 &= crossing;
            }
        }
        for (word, (occ, whole, crossing)) in seen {
            let e = all.entry(word).or_default();
            if whole {
                e.0.push((si, occ));
            } else if crossing {
                e.1.push((si, occ));
            }
        }
    }
    // candidates: whole gold words somewhere, straddling elsewhere
    let mut words: Vec<String> = all
        .iter()
        .filter(|(_, (find, avoid))| !find.is_empty() && !avoid.is_empty())
        .map(|(w, _)| w.clone())
        .collect();
    words.sort_by_key(|w| (fnv1a(w), w.clone()));
    words.truncate(QUERY_WORDS);
    let keep: HashSet<String> = words.into_iter().collect();
    all.retain(|w, _| keep.contains(w));
    all
}

/// Exact tokens as (char start, char end, text).
type ExactFn<'a> = Box<dyn Fn(&str) -> Vec<(usize, usize, String)> + 'a>;
/// Index tokens as (text, char start).
type IndexFn<'a> = Box<dyn Fn(&str) -> Vec<(String, usize)> + 'a>;

/// A segmenter under test: exact tokens for F1 and queries, and index tokens.
struct Segmenter<'a> {
    name: &'a str,
    exact: ExactFn<'a>,
    index: IndexFn<'a>,
}

fn char_span(text: &str, from: usize, to: usize) -> (usize, usize) {
    let a = text[..from].chars().count();
    (a, a + text[from..to].chars().count())
}

fn duijie(a: &Analyzer) -> Segmenter<'_> {
    Segmenter {
        name: "duijie",
        exact: Box::new(move |s| {
            a.query_tokens(s)
                .into_iter()
                .map(|t| {
                    let (x, y) = char_span(s, t.offset_from, t.offset_to);
                    (x, y, t.text)
                })
                .collect()
        }),
        index: Box::new(move |s| {
            a.index_tokens(s)
                .into_iter()
                .map(|t| (t.text, t.position))
                .collect()
        }),
    }
}

/// duijie's exact segmentation alone as the index (the floor of its false hits).
fn duijie_exact(a: &Analyzer) -> Segmenter<'_> {
    Segmenter {
        name: "duijie exact only",
        exact: duijie(a).exact,
        index: Box::new(move |s| {
            a.query_tokens(s)
                .into_iter()
                .map(|t| (t.text, t.position))
                .collect()
        }),
    }
}

fn jieba<'a>(j: &'a Jieba, name: &'a str, search: bool, hmm: bool) -> Segmenter<'a> {
    Segmenter {
        name,
        exact: Box::new(move |s| {
            j.cut(s, hmm)
                .into_iter()
                .map(|t| (t.start, t.end, t.word.to_owned()))
                .collect()
        }),
        index: Box::new(move |s| {
            let toks = if search {
                j.cut_for_search(s, hmm)
            } else {
                j.cut(s, hmm)
            };
            toks.into_iter()
                .map(|t| (t.word.to_owned(), t.start))
                .collect()
        }),
    }
}

fn word_f1(seg: &Segmenter<'_>, sentences: &[Sentence]) -> (f64, f64, f64) {
    let (mut tp, mut n_pred, mut n_gold) = (0usize, 0usize, 0usize);
    for s in sentences {
        let chars: Vec<char> = s.text.chars().collect();
        let word_like = |a: usize, b: usize| chars[a..b].iter().any(|c| c.is_alphanumeric());
        let gold: HashSet<(usize, usize)> = s
            .words
            .iter()
            .copied()
            .filter(|&(a, b)| word_like(a, b))
            .collect();
        let pred: HashSet<(usize, usize)> = (seg.exact)(&s.text)
            .into_iter()
            .filter(|(_, _, t)| is_word_like(t))
            .map(|(a, b, _)| (a, b))
            .collect();
        tp += pred.intersection(&gold).count();
        n_pred += pred.len();
        n_gold += gold.len();
    }
    let p = tp as f64 / n_pred.max(1) as f64;
    let r = tp as f64 / n_gold.max(1) as f64;
    (p, r, 2.0 * p * r / (p + r).max(f64::MIN_POSITIVE))
}

fn search(
    seg: &Segmenter<'_>,
    sentences: &[Sentence],
    cases: &Cases,
    details: bool,
) -> SearchFigures {
    let index: Vec<HashSet<(String, usize)>> = sentences
        .iter()
        .map(|s| (seg.index)(&s.text).into_iter().collect())
        .collect();
    let found = |query: &[(usize, String)], si: usize, occ: &[usize]| {
        occ.iter().any(|&p| {
            query
                .iter()
                .all(|(rel, t)| index[si].contains(&(t.clone(), p + rel)))
        })
    };
    let (mut hit, mut n_find, mut false_hit, mut n_avoid) = (0, 0, 0, 0);
    for (word, (find, avoid)) in cases {
        let query: Vec<(usize, String)> = (seg.exact)(word)
            .into_iter()
            .filter(|(_, _, t)| is_word_like(t))
            .map(|(a, _, t)| (a, t))
            .collect();
        for (si, occ) in find {
            n_find += 1;
            let f = found(&query, *si, occ);
            hit += usize::from(f);
            if details && !f {
                println!("  miss\t{word}\t{}", gold_text(&sentences[*si]));
            }
        }
        for (si, occ) in avoid {
            n_avoid += 1;
            let f = found(&query, *si, occ);
            false_hit += usize::from(f);
            if details && f {
                println!("  false hit\t{word}\t{}", gold_text(&sentences[*si]));
            }
        }
    }
    SearchFigures {
        hits: hit,
        must_find: n_find,
        false_hits: false_hit,
        must_not_find: n_avoid,
    }
}

/// Pairs found of the must-find and of the must-not-find pairs.
struct SearchFigures {
    hits: usize,
    must_find: usize,
    false_hits: usize,
    must_not_find: usize,
}

impl SearchFigures {
    fn recall(&self) -> f64 {
        self.hits as f64 / self.must_find.max(1) as f64
    }

    fn false_hit_rate(&self) -> f64 {
        self.false_hits as f64 / self.must_not_find.max(1) as f64
    }
}

/// The sentence with its gold words separated by `|`.
fn gold_text(s: &Sentence) -> String {
    let chars: Vec<char> = s.text.chars().collect();
    s.words
        .iter()
        .map(|&(a, b)| chars[a..b].iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("|")
}

/// User dictionary entries that duijie's exact cut produces: whole gold words vs
/// tokens straddling a gold boundary.
fn audit(a: &Analyzer, sentences: &[Sentence], dict: &str) {
    let entries: HashSet<&str> = dict
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for s in sentences {
        let gold: HashSet<(usize, usize)> = s.words.iter().copied().collect();
        let mut boundary = HashSet::new();
        for &(x, y) in &s.words {
            boundary.insert(x);
            boundary.insert(y);
        }
        for t in a.query_tokens(&s.text) {
            if !entries.contains(t.text.as_str()) {
                continue;
            }
            let (x, y) = char_span(&s.text, t.offset_from, t.offset_to);
            let e = counts.entry(t.text).or_default();
            if gold.contains(&(x, y)) {
                e.0 += 1;
            } else if (x + 1..y).any(|k| boundary.contains(&k))
                || !boundary.contains(&x)
                || !boundary.contains(&y)
            {
                e.1 += 1;
            }
        }
    }
    let mut rows: Vec<_> = counts
        .into_iter()
        .filter(|(_, (_, bad))| *bad > 0)
        .collect();
    rows.sort_by(|x, y| (y.1.1, &x.0).cmp(&(x.1.1, &y.0)));
    println!("\nuser dictionary entries cut across gold boundaries (whole / across):");
    for (w, (good, bad)) in rows {
        println!("  {w}\t{good}\t{bad}");
    }
}

/// The effect of each user dictionary entry that appears among duijie's index tokens of
/// the gold sentences: word F1, recall and false hits with the entry left out, beside
/// the figures with the whole dictionary. Entries whose removal raises F1 or lowers false
/// hits are the ones to check.
fn leave_one_out(sentences: &[Sentence], cases: &Cases, dict: &str) {
    let full = Analyzer::with_user_dict_text(false, dict).expect("analyzer");
    let entries: HashSet<&str> = dict
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut used: Vec<String> = sentences
        .iter()
        .flat_map(|s| full.index_tokens(&s.text))
        .map(|t| t.text)
        .filter(|t| entries.contains(t.as_str()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    used.sort();
    let figures = |a: &Analyzer| {
        let seg = duijie(a);
        let (_, _, f1) = word_f1(&seg, sentences);
        let s = search(&seg, sentences, cases, false);
        (f1, s.hits, s.false_hits)
    };
    let (f1, hits, false_hits) = figures(&full);
    println!("\nuser dictionary entries left out one at a time (F1, found, false hits):");
    println!("  (all)\t{f1:.5}\t{hits}\t{false_hits}");
    for word in used {
        let without: String = dict
            .lines()
            .filter(|l| l.split_whitespace().next() != Some(word.as_str()))
            .map(|l| format!("{l}\n"))
            .collect();
        let a = Analyzer::with_user_dict_text(false, &without).expect("analyzer");
        let (f, h, x) = figures(&a);
        if (f, h, x) != (f1, hits, false_hits) {
            println!("  {word}\t{f:.5}\t{h}\t{x}");
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(gold_path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!(
            "usage: segmentation GOLD_FILE [--details] [--audit] [--leave-one-out] [--user-dict=PATH]"
        );
        std::process::exit(2);
    };
    let sentences = read_gold(gold_path);
    let cases = cases(&sentences);
    let (n_find, n_avoid) = cases
        .values()
        .fold((0, 0), |(f, v), (a, b)| (f + a.len(), v + b.len()));
    println!(
        "{} sentences, {} query words, {} must-find and {} must-not-find pairs",
        sentences.len(),
        cases.len(),
        n_find,
        n_avoid
    );

    // the project's user dictionary unless another one is given (to try a change)
    let dict_path = args
        .iter()
        .find_map(|a| a.strip_prefix("--user-dict="))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../config/dict/user.dict"
            ))
        });
    let analyzer = Analyzer::new(&AnalyzerConfig {
        hmm: false,
        user_dict: Some(dict_path.clone()),
    })
    .expect("analyzer");
    let plain = Jieba::new();
    let segmenters = [
        duijie(&analyzer),
        duijie_exact(&analyzer),
        jieba(&plain, "jieba exact", false, false),
        jieba(&plain, "jieba search", true, false),
        jieba(&plain, "jieba exact, HMM", false, true),
        jieba(&plain, "jieba search, HMM", true, true),
    ];
    println!(
        "\n{:<20} {:>7} {:>7} {:>7} {:>8} {:>10} {:>7} {:>7}",
        "segmenter", "P", "R", "F1", "recall", "false hits", "found", "false"
    );
    for seg in &segmenters {
        let (p, r, f1) = word_f1(seg, &sentences);
        let s = search(seg, &sentences, &cases, false);
        println!(
            "{:<20} {p:>7.3} {r:>7.3} {f1:>7.3} {:>8.3} {:>10.3} {:>7} {:>7}",
            seg.name,
            s.recall(),
            s.false_hit_rate(),
            s.hits,
            s.false_hits
        );
    }
    if args.iter().any(|a| a == "--details") {
        for seg in &segmenters[..2] {
            println!(
                "\n{}: misses and false hits (gold words separated by |):",
                seg.name
            );
            search(seg, &sentences, &cases, true);
        }
    }
    let dict = || std::fs::read_to_string(&dict_path).expect("user dictionary");
    if args.iter().any(|a| a == "--audit") {
        audit(&analyzer, &sentences, &dict());
    }
    if args.iter().any(|a| a == "--leave-one-out") {
        leave_one_out(&sentences, &cases, &dict());
    }
}
