//! Stopword lists for keyword extraction.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use crate::TextError;
use crate::normalize::normalize;

/// The built-in list used when no stopword file is configured: the most
/// common Chinese function words and generic scientific-writing words.
const BUILTIN: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "在", "是", "为", "对", "等", "以", "将", "被", "把", "从",
    "由", "于", "其", "中", "上", "下", "这", "那", "该", "此", "并", "而", "也", "又", "都", "就",
    "有", "无", "不", "可", "能", "会", "要", "我们", "本文", "研究", "方法", "结果", "进行",
    "采用", "基于", "分析", "提出", "通过", "一种", "及其", "以及", "利用", "具有", "可以", "能够",
    "主要", "相关", "问题", "目前", "作为", "实现", "其中", "根据", "同时", "对于", "关于", "一个",
    "这种", "这些", "各种", "an", "and", "for", "in", "of", "on", "the", "to", "with",
];

/// A set of stopwords, stored normalised (folded, lowercased).
#[derive(Debug, Clone)]
pub struct Stopwords {
    words: HashSet<String>,
}

impl Default for Stopwords {
    /// The built-in list.
    fn default() -> Self {
        Self::builtin()
    }
}

impl Stopwords {
    /// The small built-in list.
    pub fn builtin() -> Self {
        Stopwords {
            words: BUILTIN.iter().map(|w| normalize(w)).collect(),
        }
    }

    /// Reads a stopword file: one word per line, blank lines and lines
    /// starting with `#` ignored. The file replaces the built-in list.
    pub fn load(path: &Path) -> Result<Self, TextError> {
        let text = fs::read_to_string(path).map_err(|source| TextError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::parse(&text))
    }

    /// Parses stopwords from text in the file format of [`Stopwords::load`].
    pub fn parse(text: &str) -> Self {
        let words = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(normalize)
            .filter(|w| !w.is_empty())
            .collect();
        Stopwords { words }
    }

    /// Whether `word` (normalised first if needed) is a stopword.
    pub fn contains(&self, word: &str) -> bool {
        self.words.contains(word) || self.words.contains(&normalize(word))
    }

    /// Number of stopwords.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::dict_path;

    #[test]
    fn file_list_is_large_and_covers_generic_words() {
        let s = Stopwords::load(&dict_path("stopwords.txt")).unwrap();
        assert!(s.len() >= 200, "only {} stopwords", s.len());
        for w in [
            "研究", "本文", "方法", "结果", "进行", "采用", "基于", "分析", "提出", "通过", "一种",
            "及其", "以及", "利用", "我们", "的",
        ] {
            assert!(s.contains(w), "{w} missing");
        }
        for w in ["稀土", "催化剂", "氢能", "数控机床", "人工智能"] {
            assert!(!s.contains(w), "{w} must not be a stopword");
        }
    }

    #[test]
    fn builtin_parse_and_normalisation() {
        let b = Stopwords::default();
        assert!(b.contains("研究"));
        assert!(b.contains("THE"));
        assert!(!b.contains("钢铁"));
        assert!(!b.is_empty());
        let p = Stopwords::parse("# comment\n\n  Ｆｏｏ  \n研究\n");
        assert_eq!(p.len(), 2);
        assert!(p.contains("foo"));
        assert!(p.contains("FOO"));
        assert!(!p.contains("# comment"));
        assert!(Stopwords::load(Path::new("/nonexistent/stopwords.txt")).is_err());
    }
}
