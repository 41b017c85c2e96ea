//! TF-IDF keyword extraction for long texts.

use std::collections::{HashMap, HashSet};

use crate::normalize::is_han;
use crate::{Analyzer, Stopwords};

/// Weight of one occurrence of a dictionary sub-word of a longer word
/// (`催化` in `催化剂`), relative to one occurrence of a whole word.
pub const SUB_WORD_WEIGHT: f32 = 0.5;

/// A single Han character is only a keyword when `idf` reports at least this
/// value for it (with `idf = ln(N / df)`, a character in fewer than about one
/// document in 400).
pub const RARE_CHAR_MIN_IDF: f32 = 6.0;

/// The idf given to terms unknown to the corpus when no term of the text is
/// known; otherwise unknown terms get the highest idf among the known ones.
pub const FALLBACK_UNKNOWN_IDF: f32 = 10.0;

/// Chinese numerals: a term made only of these (and digits) is a number.
const CHINESE_NUMERALS: &str = "零〇一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟";

/// Extracts the `k` most salient terms of `text` by TF-IDF.
///
/// Terms are the query tokens of `text` (exact segmentation) plus, at
/// [`SUB_WORD_WEIGHT`], the other Han index tokens of two or more characters
/// (sub-words of compounds and likely alternatives: the words the index holds,
/// so every such term can match). Skipped: stopwords, numbers (digits
/// or Chinese numerals), single non-Han characters, and single Han characters
/// unless `idf` reports them rare (at least [`RARE_CHAR_MIN_IDF`]).
///
/// `idf` returns `None` for terms the corpus does not know; these get a high
/// idf: the highest idf of the known candidate terms of this text, or
/// [`FALLBACK_UNKNOWN_IDF`] if none is known.
///
/// The weight is `tf / candidate token count × idf`. Results are ordered by
/// weight (descending), then term, so the output is deterministic.
pub fn salient_terms(
    analyzer: &Analyzer,
    text: &str,
    idf: &dyn Fn(&str) -> Option<f32>,
    stopwords: &Stopwords,
    k: usize,
) -> Vec<(String, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let mut tf: HashMap<String, f32> = HashMap::new();
    let mut total = 0.0f32;
    // term -> (is a candidate, idf reported by the caller)
    let mut decided: HashMap<String, (bool, Option<f32>)> = HashMap::new();
    let mut is_candidate = |term: &str| -> bool {
        if let Some(&(keep, _)) = decided.get(term) {
            return keep;
        }
        let (keep, value) = if stopwords.contains(term)
            || is_number(term)
            || !term.chars().any(char::is_alphanumeric)
        {
            (false, None)
        } else {
            let value = idf(term).filter(|v| v.is_finite());
            let keep = !is_single_char(term)
                || (term.chars().all(is_han) && value.is_some_and(|v| v >= RARE_CHAR_MIN_IDF));
            (keep, value)
        };
        decided.insert(term.to_owned(), (keep, value));
        keep
    };

    let query = analyzer.query_tokens(text);
    let whole: HashSet<(usize, &str)> = query
        .iter()
        .map(|t| (t.position, t.text.as_str()))
        .collect();
    for token in &query {
        let word = token.text.as_str();
        if is_candidate(word) {
            *tf.entry(word.to_owned()).or_default() += 1.0;
            total += 1.0;
        }
    }
    // the index's other Han words of two or more characters: sub-words of compounds and
    // likely alternatives, exactly the words a term query can find
    for token in analyzer.index_tokens(text) {
        let word = token.text.as_str();
        if whole.contains(&(token.position, word))
            || is_single_char(word)
            || !word.chars().all(is_han)
        {
            continue;
        }
        if is_candidate(word) {
            *tf.entry(word.to_owned()).or_default() += SUB_WORD_WEIGHT;
        }
    }
    if tf.is_empty() {
        return Vec::new();
    }
    let total = total.max(1.0);
    let unknown_idf = decided
        .values()
        .filter(|(keep, _)| *keep)
        .filter_map(|(_, v)| *v)
        .reduce(f32::max)
        .unwrap_or(FALLBACK_UNKNOWN_IDF);
    let mut scored: Vec<(String, f32)> = tf
        .into_iter()
        .map(|(term, count)| {
            let value = decided
                .get(&term)
                .and_then(|(_, v)| *v)
                .unwrap_or(unknown_idf);
            let weight = count / total * value;
            (term, weight)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    scored.truncate(k);
    scored
}

fn is_single_char(term: &str) -> bool {
    let mut chars = term.chars();
    chars.next().is_some() && chars.next().is_none()
}

/// Digits (with number punctuation) or Chinese numerals only.
fn is_number(term: &str) -> bool {
    term.chars().all(|c| {
        c.is_numeric()
            || matches!(c, '.' | '-' | '_' | '/' | '+' | '%')
            || CHINESE_NUMERALS.contains(c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{analyzer, dict_path};

    fn stop() -> Stopwords {
        Stopwords::load(&dict_path("stopwords.txt")).unwrap()
    }

    #[test]
    fn numbers_are_recognised() {
        assert!(is_number("2023"));
        assert!(is_number("3.5"));
        assert!(is_number("三十"));
        assert!(is_number("二〇二三"));
        assert!(!is_number("5g"));
        assert!(!is_number("稀土"));
    }

    #[test]
    fn ranks_domain_terms_above_generic_ones_and_filters() {
        let a = analyzer();
        let text = "本文研究了一种基于稀土催化剂的电解水制氢方法。我们采用稀土催化剂，\
                    在2023年进行了3次中试，结果表明稀土催化剂显著降低了电解水制氢的能耗，\
                    并分析了氢能产业的应用前景。";
        let idf = |t: &str| match t {
            "稀土催化剂" => Some(7.0),
            "电解水制氢" => Some(6.5),
            "中试" => Some(5.0),
            "能耗" => Some(4.0),
            "的" | "了" => Some(0.1),
            "氘" => Some(9.0),
            _ => None,
        };
        let terms = salient_terms(a, text, &idf, &stop(), 8);
        let names: Vec<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names.first(), Some(&"稀土催化剂"), "{terms:?}");
        assert!(names.contains(&"电解水制氢"), "{terms:?}");
        for bad in [
            "本文", "研究", "一种", "基于", "方法", "我们", "采用", "进行", "结果", "分析",
        ] {
            assert!(!names.contains(&bad), "{bad} in {terms:?}");
        }
        for bad in ["2023", "3", "的", "了", "，", "。", "年", "次"] {
            assert!(!names.contains(&bad), "{bad} in {terms:?}");
        }
        // Deterministic order: weight descending, then term.
        for w in terms.windows(2) {
            assert!(
                w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0),
                "{terms:?}"
            );
        }
        assert_eq!(terms.len(), 8);
        assert_eq!(terms, salient_terms(a, text, &idf, &stop(), 8));
        assert!(salient_terms(a, text, &idf, &stop(), 0).is_empty());
        assert!(salient_terms(a, "的了，。", &idf, &stop(), 5).is_empty());
    }

    #[test]
    fn sub_words_get_reduced_weight() {
        let a = analyzer();
        let idf = |_: &str| Some(5.0);
        let terms = salient_terms(a, "稀土催化剂", &idf, &stop(), 10);
        let weight = |t: &str| terms.iter().find(|(x, _)| x == t).map(|(_, w)| *w);
        let whole = weight("稀土催化剂").unwrap();
        let sub = weight("催化剂").unwrap_or_else(|| panic!("{terms:?}"));
        assert!((sub - whole * SUB_WORD_WEIGHT).abs() < 1e-6, "{terms:?}");
        assert!(weight("稀土").is_some(), "{terms:?}");
    }

    #[test]
    fn single_han_chars_only_when_rare_and_unknown_terms_get_high_idf() {
        let a = analyzer();
        let text = "氘 钢 稀土";
        let idf = |t: &str| match t {
            "氘" => Some(8.0),
            "钢" => Some(1.0),
            "稀土" => Some(3.0),
            _ => None,
        };
        let terms = salient_terms(a, text, &idf, &Stopwords::parse(""), 10);
        let names: Vec<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, vec!["氘", "稀土"], "{terms:?}");

        // An unknown term gets the highest known idf of the text.
        let idf = |t: &str| match t {
            "稀土" => Some(3.0),
            "钢铁" => Some(1.0),
            _ => None,
        };
        let terms = salient_terms(a, "稀土 钢铁 xyz", &idf, &Stopwords::parse(""), 10);
        let w = |t: &str| terms.iter().find(|(x, _)| x == t).map(|(_, w)| *w);
        assert_eq!(w("xyz"), w("稀土"), "{terms:?}");
        assert!(w("xyz") > w("钢铁"), "{terms:?}");
        // ... or the fallback when nothing is known.
        let terms = salient_terms(a, "xyz", &|_| None, &Stopwords::parse(""), 3);
        assert_eq!(terms, vec![("xyz".to_owned(), FALLBACK_UNKNOWN_IDF)]);
    }
}
