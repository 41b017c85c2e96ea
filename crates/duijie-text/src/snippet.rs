//! Highlighted excerpts that are safe with overlapping index tokens.
//!
//! tantivy's `SnippetGenerator` assumes tokens that do not nest: it ends a
//! fragment at the last token's `offset_to`, so a highlighted word that
//! encloses a later sub-word (`中国农业发展银行` then `农业`) can reach past the
//! fragment's end, and `Snippet::to_html` panics slicing it. Search-mode
//! tokens nest by design, so this module picks fragments on character
//! positions instead.

use std::ops::Range;

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, RwLock};

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::Analyzer;
use crate::normalize::{fold_char, is_han};

/// A highlighted excerpt of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    /// Byte range of the excerpt in the text.
    pub fragment: Range<usize>,
    /// Byte ranges of matched terms in the text: sorted, merged when they
    /// overlap or touch, all inside `fragment`.
    pub highlights: Vec<Range<usize>>,
}

impl Snippet {
    /// Whether nothing is highlighted.
    pub fn is_empty(&self) -> bool {
        self.highlights.is_empty()
    }

    /// The excerpt as HTML, highlights wrapped in `<mark>…</mark>`, text escaped.
    /// `text` must be the text the snippet was made from; ranges that do not
    /// fit it are skipped rather than panicking.
    pub fn to_html(&self, text: &str) -> String {
        let mut html = String::new();
        let mut at = self.fragment.start;
        for h in &self.highlights {
            if let (Some(before), Some(hit)) = (text.get(at..h.start), text.get(h.clone())) {
                escape_into(&mut html, before);
                html.push_str("<mark>");
                escape_into(&mut html, hit);
                html.push_str("</mark>");
                at = h.end;
            }
        }
        if let Some(rest) = text.get(at..self.fragment.end) {
            escape_into(&mut html, rest);
        }
        html
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

impl Analyzer {
    /// Picks an excerpt of at most `max_chars` characters of `text` and
    /// highlights the index tokens for which `term_weight` returns a weight
    /// (pass the query's terms, e.g. `|t| terms.get(t).copied()`).
    ///
    /// The excerpt is the window with the highest total weight of distinct
    /// matched terms (then the most matches, then the earliest), widened
    /// backwards to give the first match some context. Without any match it
    /// is the start of the text, with no highlights. Because index tokens are
    /// used, sub-words are highlighted too (`制氢` inside `电解水制氢`).
    pub fn snippet(
        &self,
        text: &str,
        term_weight: &dyn Fn(&str) -> Option<f32>,
        max_chars: usize,
    ) -> Snippet {
        // Byte offset of every character, plus the end of the text.
        let starts: Vec<usize> = text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .collect();
        if max_chars == 0 {
            return Snippet::default();
        }
        // (start char, end char, weight, term)
        let tokens = self.index_tokens(text);
        let mut matches: Vec<Hit<'_>> = Vec::new();
        for t in &tokens {
            let Some(weight) = term_weight(&t.text).filter(|w| w.is_finite()) else {
                continue;
            };
            let Ok(end) = starts.binary_search(&t.offset_to) else {
                continue;
            };
            matches.push((t.position, end, weight, t.text.as_str()));
        }
        pick(text, &starts, &matches, max_chars).0
    }

    /// [`Analyzer::snippet`] for a short list of terms, with the same result: Han terms are
    /// found by substring search and only the Han runs around the hits the chosen window
    /// depends on are segmented, to keep the hits the index has (a sub-word of a compound,
    /// `制氢` in `电解水制氢`) and drop those across a word boundary (`氢能` in `产氢能力`);
    /// other terms (Latin, digits, which the analyzer folds and lowercases) are looked up
    /// among the tokens of the stretches without Han characters.
    pub fn snippet_of_terms(&self, text: &str, terms: &[(&str, f32)], max_chars: usize) -> Snippet {
        let starts: Vec<usize> = text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .collect();
        if max_chars == 0 {
            return Snippet::default();
        }
        let chars: Vec<char> = text.chars().collect();
        // Every occurrence of a term is a candidate hit; it is a real hit where the index
        // has the word (not across a word boundary: 氢能 in 产氢能力), which only the Han
        // run around it can tell. Runs are segmented lazily: the window is picked as if
        // every candidate were real (an upper bound on each window's score, since a real
        // hit only ever removes candidates), and only the candidates the pick depends on
        // are checked, until the pick rests on checked hits alone. That pick is the one
        // the checked list would give. A single-character term breaks the bound (dropping
        // a neighbour can turn a character into a lone one, or bring all the lone ones
        // back), so with one every candidate is checked first.
        let mut candidates: Vec<Candidate> = Vec::new();
        // Latin and digit terms (which the analyzer folds and lowercases) are the tokens of
        // the text's stretches without Han characters, each analysed alone: a Latin run
        // never reaches across a Han character, so its tokens are the same as in the whole
        // text. A term mixing Han and other characters is never a token.
        let other: Vec<(&str, f32)> = terms
            .iter()
            .copied()
            .filter(|(t, w)| w.is_finite() && !t.is_empty() && !t.chars().any(is_han))
            .collect();
        if !other.is_empty() {
            let mut i = 0;
            while i < chars.len() {
                if is_han(fold_char(chars[i])) {
                    i += 1;
                    continue;
                }
                let from = i;
                while i < chars.len() && !is_han(fold_char(chars[i])) {
                    i += 1;
                }
                for t in self.index_tokens(&text[starts[from]..starts[i]]) {
                    let Some(&(term, weight)) = other.iter().find(|(x, _)| *x == t.text) else {
                        continue;
                    };
                    if let Ok(to) = starts.binary_search(&(starts[from] + t.offset_to)) {
                        candidates.push(Candidate {
                            from: from + t.position,
                            to,
                            weight,
                            term,
                            real: Some(true),
                        });
                    }
                }
            }
        }
        // Han terms: every occurrence, found in one pass over the text (at each character
        // only the terms starting with it are compared), and, as `str::match_indices` finds
        // them, a term's occurrences never overlap one another
        let han: Vec<(&str, f32, char, usize)> = terms
            .iter()
            .filter(|(t, w)| w.is_finite() && !t.is_empty() && t.chars().all(is_han))
            .filter_map(|&(t, w)| Some((t, w, t.chars().next()?, t.chars().count())))
            .collect();
        if !han.is_empty() {
            // per term, the byte where its next occurrence may start
            let mut free = vec![0usize; han.len()];
            for (at, (&b, &c)) in starts.iter().zip(&chars).enumerate() {
                for (k, &(term, weight, first, n)) in han.iter().enumerate() {
                    if c == first && b >= free[k] && text[b..].starts_with(term) {
                        candidates.push(Candidate {
                            from: at,
                            to: at + n,
                            weight,
                            term,
                            real: None,
                        });
                        free[k] = b + term.len();
                    }
                }
            }
        }
        candidates.sort_by_key(|c| (c.from, c.to));
        // index tokens (text, char position in the run) of the Han runs segmented so far,
        // by run start
        let mut runs: HashMap<usize, RunTokens> = HashMap::new();
        let mut check = |c: &mut Candidate| {
            if c.real.is_some() {
                return;
            }
            let mut run_from = c.from;
            while run_from > 0 && is_han(fold_char(chars[run_from - 1])) {
                run_from -= 1;
            }
            let tokens = runs.entry(run_from).or_insert_with(|| {
                let mut run_to = c.to;
                while run_to < chars.len() && is_han(fold_char(chars[run_to])) {
                    run_to += 1;
                }
                self.run_tokens(&text[starts[run_from]..starts[run_to]])
            });
            c.real = Some(
                tokens
                    .iter()
                    .any(|(t, p)| **t == *c.term && run_from + p == c.from),
            );
        };
        if terms.iter().any(|(t, _)| t.chars().count() == 1) {
            candidates.iter_mut().for_each(&mut check);
        }
        loop {
            let matches: Vec<Hit<'_>> = candidates
                .iter()
                .filter(|c| c.real != Some(false))
                .map(|c| (c.from, c.to, c.weight, c.term))
                .collect();
            let (snippet, depends) = pick(text, &starts, &matches, max_chars);
            let mut unchecked = candidates
                .iter_mut()
                .filter(|c| c.real.is_none() && c.from < depends.end && c.to > depends.start)
                .peekable();
            if unchecked.peek().is_none() {
                return snippet;
            }
            unchecked.for_each(&mut check);
        }
    }
}

/// Han runs whose tokens are kept (a bound on memory: an entry is a few hundred bytes).
const MAX_CACHED_RUNS: usize = 8192;
/// Longest run kept, characters (longer ones are rare and analysed each time).
const MAX_CACHED_RUN_CHARS: usize = 64;
/// Independently locked parts of the run cache (searches run on several threads).
const RUN_SHARDS: usize = 16;

/// The index tokens of a Han run: `(text, character position in the run)`.
type RunTokens = Arc<[(Box<str>, usize)]>;

type RunShard = RwLock<FxHashMap<Box<str>, RunTokens>>;

/// Index tokens of the Han runs highlighting checked recently, by the run's text. The
/// analysis of a run depends on its text alone, so an entry is always right; the same
/// listings come back page after page and search after search, and checking a hit is most
/// of the cost of a highlight.
#[derive(Debug)]
pub(crate) struct RunCache {
    shards: Box<[RunShard]>,
}

impl Default for RunCache {
    fn default() -> Self {
        RunCache {
            shards: (0..RUN_SHARDS).map(|_| RunShard::default()).collect(),
        }
    }
}

impl Analyzer {
    /// The index tokens of a Han run as `(text, character position in the run)`, from the
    /// cache when the run was seen recently.
    fn run_tokens(&self, run: &str) -> RunTokens {
        let analyse = || -> RunTokens {
            self.index_tokens(run)
                .into_iter()
                .map(|t| (t.text.into_boxed_str(), t.position))
                .collect()
        };
        if run.chars().nth(MAX_CACHED_RUN_CHARS).is_some() {
            return analyse();
        }
        let cache = self.run_cache();
        let shard = &cache.shards[(FxBuildHasher.hash_one(run) >> 60) as usize % RUN_SHARDS];
        if let Some(v) = shard.read().ok().and_then(|m| m.get(run).cloned()) {
            return v;
        }
        let v = analyse();
        if let Ok(mut m) = shard.write() {
            if m.len() >= MAX_CACHED_RUNS / RUN_SHARDS {
                m.clear();
            }
            m.insert(run.into(), v.clone());
        }
        v
    }
}

/// An occurrence of a query term in a text (character range), and whether the index has
/// the word there (`None`: not checked yet).
struct Candidate<'t> {
    from: usize,
    to: usize,
    weight: f32,
    term: &'t str,
    real: Option<bool>,
}

/// A match: `(start char, end char, weight, term)`.
type Hit<'t> = (usize, usize, f32, &'t str);

/// The best window of `max_chars` characters for `matches` (`(start char, end char, weight,
/// term)`, by start) and its highlights; `starts` is the byte offset of every character of
/// `text` and of its end. Also returns the characters whose matches decided the pick: the
/// chosen window and the fragment (empty when nothing matched).
fn pick(
    text: &str,
    starts: &[usize],
    matches: &[Hit<'_>],
    max_chars: usize,
) -> (Snippet, Range<usize>) {
    let matches = &without_lone_characters(matches);
    let n = starts.len() - 1;
    let byte = |c: usize| starts.get(c).copied().unwrap_or(text.len());
    let leading = Snippet {
        fragment: 0..byte(n.min(max_chars)),
        highlights: Vec::new(),
    };
    // Best window: starts at a match, spans max_chars characters.
    let mut best: Option<(f32, usize, usize)> = None; // (score, count, first match)
    let mut seen: Vec<&str> = Vec::new();
    for (i, &(start, _, _, _)) in matches.iter().enumerate() {
        let limit = start + max_chars;
        seen.clear();
        let (mut score, mut count) = (0.0f32, 0usize);
        for &(s, e, w, term) in &matches[i..] {
            if s >= limit {
                break;
            }
            if e <= limit {
                count += 1;
                if !seen.contains(&term) {
                    seen.push(term);
                    score += w;
                }
            }
        }
        let better = match best {
            None => count > 0,
            Some((bs, bc, _)) => score > bs || (score == bs && count > bc),
        };
        if better {
            best = Some((score, count, i));
        }
    }
    let Some((_, _, i)) = best else {
        // no window holds a whole match: every match decided that
        let all =
            matches.first().map_or(0, |m| m.0)..matches.iter().map(|m| m.1).max().unwrap_or(0);
        return (leading, all);
    };
    let first = matches[i].0;
    let limit = first + max_chars;
    let last_end = matches[i..]
        .iter()
        .filter(|(s, e, _, _)| *s < limit && *e <= limit)
        .map(|(_, e, _, _)| *e)
        .max()
        .unwrap_or(first);
    let slack = max_chars.saturating_sub(last_end - first);
    let mut from = first - (slack / 2).min(first);
    let to = (from + max_chars).min(n);
    if to - from < max_chars {
        from = to.saturating_sub(max_chars).min(from);
    }
    let mut highlights: Vec<Range<usize>> = Vec::new();
    let mut inside: Vec<(usize, usize)> = matches
        .iter()
        .filter(|(s, e, _, _)| *s >= from && *e <= to)
        .map(|(s, e, _, _)| (*s, *e))
        .collect();
    inside.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in inside {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    highlights.extend(merged.into_iter().map(|(s, e)| byte(s)..byte(e)));
    (
        Snippet {
            fragment: byte(from)..byte(to),
            highlights,
        },
        first.min(from)..limit.max(to),
    )
}

/// Drops matches of a single Han character that touch no other match, unless every match
/// is a single character (the query asked for characters). Such a character comes from a
/// phrase cut into pieces (a synonym such as `氢 能源`, a word the dictionary lacks) and,
/// alone, is not what the reader searched for.
fn without_lone_characters<'t>(matches: &[Hit<'t>]) -> Vec<Hit<'t>> {
    let single = |m: &Hit<'_>| m.1 - m.0 == 1 && m.3.chars().all(is_han);
    if matches.iter().all(single) {
        return matches.to_vec();
    }
    matches
        .iter()
        .filter(|m| {
            !single(m)
                || matches
                    .iter()
                    .any(|o| !std::ptr::eq(*m, o) && o.0 <= m.1 && m.0 <= o.1)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::test_support::analyzer;

    fn weights(terms: &[&str]) -> HashMap<String, f32> {
        terms.iter().map(|t| ((*t).to_owned(), 1.0)).collect()
    }

    fn check(text: &str, s: &Snippet, max_chars: usize) {
        assert!(s.fragment.start <= s.fragment.end && s.fragment.end <= text.len());
        assert!(text.is_char_boundary(s.fragment.start) && text.is_char_boundary(s.fragment.end));
        assert!(
            text[s.fragment.clone()].chars().count() <= max_chars,
            "{s:?}"
        );
        let mut prev_end = None;
        for h in &s.highlights {
            assert!(h.start < h.end, "{s:?}");
            assert!(
                s.fragment.start <= h.start && h.end <= s.fragment.end,
                "{s:?}"
            );
            assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
            if let Some(p) = prev_end {
                assert!(p < h.start, "{s:?}");
            }
            prev_end = Some(h.end);
        }
        let _ = s.to_html(text);
    }

    #[test]
    fn highlights_sub_words_and_full_width_runs() {
        let a = analyzer();
        let text = "辽宁某企业采用电解水制氢技术，并以ＰＥＧ－４００为添加剂。";
        let w = weights(&["制氢", "peg"]);
        let s = a.snippet(text, &|t| w.get(t).copied(), 100);
        check(text, &s, 100);
        assert_eq!(s.fragment, 0..text.len());
        let hits: Vec<&str> = s.highlights.iter().map(|h| &text[h.clone()]).collect();
        assert_eq!(hits, vec!["制氢", "ＰＥＧ"]);
        assert_eq!(
            s.to_html(text),
            "辽宁某企业采用电解水<mark>制氢</mark>技术，并以<mark>ＰＥＧ</mark>－４００为添加剂。"
        );
    }

    #[test]
    fn picks_the_densest_window_and_merges_adjacent_hits() {
        let a = analyzer();
        let filler = "其他内容".repeat(20);
        let text = format!("{filler}农业发展银行支持现代农业。{filler}稀土");
        let w = weights(&["农业", "发展", "稀土"]);
        let s = a.snippet(&text, &|t| w.get(t).copied(), 12);
        check(&text, &s, 12);
        let hits: Vec<&str> = s.highlights.iter().map(|h| &text[h.clone()]).collect();
        assert_eq!(hits, vec!["农业发展", "农业"], "{}", s.to_html(&text));

        // No match: the start of the text, nothing highlighted.
        let s = a.snippet(&text, &|_| None, 5);
        assert_eq!(&text[s.fragment.clone()], "其他内容其");
        assert!(s.is_empty());
        assert_eq!(a.snippet(&text, &|_| Some(1.0), 0), Snippet::default());
    }

    #[test]
    fn term_lists_find_han_words_without_segmenting_and_fall_back_otherwise() {
        let a = analyzer();
        let filler = "其他内容".repeat(20);
        let text = format!("{filler}农业发展银行支持现代农业。{filler}稀土");
        let terms = [("农业", 1.0), ("发展", 1.0), ("稀土", 1.0)];
        let w = weights(&["农业", "发展", "稀土"]);
        for max in [1, 12, 40, 400] {
            let fast = a.snippet_of_terms(&text, &terms, max);
            check(&text, &fast, max);
            assert_eq!(fast, a.snippet(&text, &|t| w.get(t).copied(), max), "{max}");
        }
        assert_eq!(a.snippet_of_terms(&text, &terms, 0), Snippet::default());
        assert!(a.snippet_of_terms(&text, &[], 10).is_empty());
        // Latin terms are matched on folded, lowercased tokens
        let text = "辽宁某企业采用电解水制氢技术，并以ＰＥＧ－４００为添加剂。";
        let s = a.snippet_of_terms(text, &[("制氢", 1.0), ("peg", 1.0)], 100);
        let hits: Vec<&str> = s.highlights.iter().map(|h| &text[h.clone()]).collect();
        assert_eq!(hits, vec!["制氢", "ＰＥＧ"]);
    }

    #[test]
    fn no_hit_across_a_word_boundary_and_no_lone_character() {
        let a = analyzer();
        // 氢能 is not a word of 产氢能力 (产氢|能力): neither path highlights it
        let text = "单台产氢能力430标方/小时，面向氢能产业。";
        let w = weights(&["氢能"]);
        let slow = a.snippet(text, &|t| w.get(t).copied(), 100);
        let fast = a.snippet_of_terms(text, &[("氢能", 1.0)], 100);
        assert_eq!(slow, fast);
        let hits: Vec<&str> = slow.highlights.iter().map(|h| &text[h.clone()]).collect();
        assert_eq!(hits, vec!["氢能"]);
        assert!(slow.highlights[0].start > text.find('，').unwrap());
        // a phrase cut into characters (氢 能源) lights its characters where they meet,
        // not a lone 氢 elsewhere
        let text = "氢气储存与氢能源汽车";
        let w = weights(&["氢", "能源", "汽车"]);
        let s = a.snippet(text, &|t| w.get(t).copied(), 100);
        let hits: Vec<&str> = s.highlights.iter().map(|h| &text[h.clone()]).collect();
        assert_eq!(hits, vec!["氢能源汽车"], "{}", s.to_html(text));
        // a query of characters only still lights them, where they are a word of the
        // text (氢 of 氢/能源, not of 氢气)
        let w = weights(&["氢"]);
        let s = a.snippet(text, &|t| w.get(t).copied(), 100);
        assert_eq!(s.to_html(text), "氢气储存与<mark>氢</mark>能源汽车");
    }

    #[test]
    fn escapes_html() {
        let a = analyzer();
        let text = "<b>稀土</b> & \"催化\"";
        let w = weights(&["稀土"]);
        let s = a.snippet(text, &|t| w.get(t).copied(), 50);
        assert_eq!(
            s.to_html(text),
            "&lt;b&gt;<mark>稀土</mark>&lt;/b&gt; &amp; &quot;催化&quot;"
        );
    }

    #[test]
    fn fuzz_snippet_ranges_stay_valid() {
        let a = analyzer();
        let alphabet: Vec<char> =
            "中国农业发展银行电解水制氢稀土催化剂ＰＥＧ－４００peg-400 ，。<&>"
                .chars()
                .collect();
        let w = weights(&[
            "中国",
            "农业",
            "银行",
            "制氢",
            "电解水制氢",
            "peg",
            "400",
            "peg-400",
            "稀土催化剂",
            "催化",
        ]);
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n
        };
        for _ in 0..500 {
            let len = next(60);
            let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let max = 1 + next(30);
            let s = a.snippet(&text, &|t| w.get(t).copied(), max);
            check(&text, &s, max);
        }
    }

    #[test]
    fn nested_tokens_never_break_the_snippet() {
        // The case that makes tantivy's SnippetGenerator panic with nested
        // tokens: long repeated compounds and every window size.
        let a = analyzer();
        let text = "中国农业发展银行电解水制氢".repeat(8);
        let w = weights(&["中国", "农业发展银行", "农业", "电解水制氢", "制氢", "银行"]);
        for max in 1..60 {
            let s = a.snippet(&text, &|t| w.get(t).copied(), max);
            check(&text, &s, max);
        }
    }

    #[test]
    fn checking_only_the_hits_a_window_depends_on_gives_the_full_analysis_snippet() {
        let a = analyzer();
        const SENTENCES: [&str; 9] = [
            "单台产氢能力430标方/小时，面向氢能产业。",
            "中国农业发展银行支持现代农业，农业科技成果转化率提高。",
            "采用静电纺丝制备纳米纤维隔膜，孔隙率高，已在鞍钢试点。",
            "京沪高速铁路沿线的桥梁健康监测，铁路运营安全。",
            "稀土催化剂在电解水制氢中的应用研究，制氢效率提升。",
            "面向焊接机器人的视觉定位系统，机器人定位精度达0.01mm。",
            "大力气推进产学研合作，科技成果转化与技术转移。",
            "氢气储存与氢能源汽车，储氢材料和燃料电池。",
            "支持C++与Python接口，以ＰＥＧ－４００为添加剂，TCP/IP协议，iPhone15测试。",
        ];
        let mut seed = 0x2026_1207_u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n.max(1)
        };
        let mut compared = 0;
        let mut latin = 0;
        for _ in 0..400 {
            let text: String = (0..1 + next(6))
                .map(|_| SENTENCES[next(SENTENCES.len())])
                .collect();
            let han: Vec<char> = text.chars().collect();
            // terms: index tokens of the text, two-character strings that may straddle a
            // word boundary, and a word that is absent
            let tokens = a.index_tokens(&text);
            let mut terms: Vec<(String, f32)> = Vec::new();
            for _ in 0..1 + next(4) {
                let term = match next(3) {
                    0 => tokens[next(tokens.len())].text.clone(),
                    1 => {
                        let i = next(han.len() - 1);
                        han[i..i + 2].iter().collect()
                    }
                    _ => "量子".to_string(),
                };
                if !terms.iter().any(|(t, _)| *t == term) {
                    latin += usize::from(term.is_ascii());
                    terms.push((term, [0.5, 1.0, 2.0][next(3)]));
                }
            }
            let list: Vec<(&str, f32)> = terms.iter().map(|(t, w)| (t.as_str(), *w)).collect();
            let w: HashMap<String, f32> = terms.iter().cloned().collect();
            for max in [1, 5, 12, 40, 160, 1000] {
                let fast = a.snippet_of_terms(&text, &list, max);
                check(&text, &fast, max);
                assert_eq!(
                    fast,
                    a.snippet(&text, &|t| w.get(t).copied(), max),
                    "{text} {terms:?} {max}"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 2400);
        assert!(latin > 20, "{latin} Latin terms");
    }
}
