//! Synonym groups applied to query token sequences.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::{Analyzer, TextError};

/// Synonym groups. Each member is stored as its query-token sequence, so a
/// member may span several tokens (`CNC 机床` is `["cnc", "机床"]`).
///
/// File format: one group per line; members separated by whitespace, `,`,
/// `，`, `、`, `;` or `；`; a member containing spaces is written in double
/// quotes (`"CNC 机床"` or `“CNC 机床”`); `#` at the start of a line or after
/// whitespace starts a comment. Groups with fewer than two distinct members
/// (after analysis) are ignored.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    /// Every group as its distinct members' token sequences.
    groups: Vec<Vec<Vec<String>>>,
    /// Member token sequence → the groups it belongs to, in file order.
    members: HashMap<Vec<String>, Vec<usize>>,
    /// Longest member, in tokens.
    max_len: usize,
}

/// Alternatives for a span of a query token sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// Index of the first token covered.
    pub start: usize,
    /// Number of tokens covered.
    pub len: usize,
    /// The other members of the matched member's groups, each as a token
    /// sequence, in file order, without duplicates.
    pub alternatives: Vec<Vec<String>>,
}

impl Synonyms {
    /// Reads and parses a synonym file (see the type documentation).
    pub fn load(path: &Path, analyzer: &Analyzer) -> Result<Self, TextError> {
        let text = fs::read_to_string(path).map_err(|source| TextError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_named(&text, analyzer, &path.display().to_string())
    }

    /// Parses synonym groups from text (see the type documentation).
    pub fn parse(text: &str, analyzer: &Analyzer) -> Result<Self, TextError> {
        Self::parse_named(text, analyzer, "<synonyms>")
    }

    fn parse_named(text: &str, analyzer: &Analyzer, source_name: &str) -> Result<Self, TextError> {
        let mut synonyms = Synonyms::default();
        for (line_no, line) in text.lines().enumerate() {
            let members = split_members(line).map_err(|message| TextError::Parse {
                source_name: source_name.to_owned(),
                line: line_no + 1,
                message,
            })?;
            let mut group: Vec<Vec<String>> = Vec::new();
            for member in members {
                let tokens: Vec<String> = analyzer
                    .query_tokens(&member)
                    .into_iter()
                    .map(|t| t.text)
                    .collect();
                if !tokens.is_empty() && !group.contains(&tokens) {
                    group.push(tokens);
                }
            }
            if group.len() < 2 {
                continue;
            }
            let id = synonyms.groups.len();
            for member in &group {
                synonyms.max_len = synonyms.max_len.max(member.len());
                synonyms.members.entry(member.clone()).or_default().push(id);
            }
            synonyms.groups.push(group);
        }
        Ok(synonyms)
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Finds synonym spans in a query token sequence (the texts of
    /// [`Analyzer::query_tokens`]). Scans left to right; at each position takes
    /// the longest member that matches there, reports its alternatives and
    /// continues after it, so expansions never overlap.
    pub fn expand(&self, tokens: &[String]) -> Vec<Expansion> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let longest = self.max_len.min(tokens.len() - i);
            let found = (1..=longest).rev().find_map(|len| {
                self.members
                    .get(&tokens[i..i + len])
                    .map(|groups| (len, groups))
            });
            let Some((len, groups)) = found else {
                i += 1;
                continue;
            };
            let matched = &tokens[i..i + len];
            let mut alternatives: Vec<Vec<String>> = Vec::new();
            for &g in groups {
                for member in &self.groups[g] {
                    if member.as_slice() != matched && !alternatives.contains(member) {
                        alternatives.push(member.clone());
                    }
                }
            }
            if !alternatives.is_empty() {
                out.push(Expansion {
                    start: i,
                    len,
                    alternatives,
                });
            }
            i += len;
        }
        out
    }
}

/// Splits one line of a synonym file into its raw members.
fn split_members(line: &str) -> Result<Vec<String>, String> {
    let mut members = Vec::new();
    let mut current = String::new();
    // The closing quote we are waiting for, if inside quotes.
    let mut closing: Option<char> = None;
    let mut prev_space = true;
    for c in line.chars() {
        if let Some(close) = closing {
            if c == close {
                closing = None;
                members.push(std::mem::take(&mut current));
            } else {
                current.push(c);
            }
            prev_space = false;
            continue;
        }
        match c {
            '#' if prev_space => break,
            '"' | '“' => {
                if !current.is_empty() {
                    members.push(std::mem::take(&mut current));
                }
                closing = Some(if c == '"' { '"' } else { '”' });
            }
            c if c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；') => {
                if !current.is_empty() {
                    members.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
        prev_space = c.is_whitespace();
    }
    if closing.is_some() {
        return Err("unterminated quoted member".to_owned());
    }
    if !current.is_empty() {
        members.push(current);
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{analyzer, dict_path};

    fn toks(a: &Analyzer, s: &str) -> Vec<String> {
        a.query_tokens(s).into_iter().map(|t| t.text).collect()
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn splits_members_with_quotes_and_comments() {
        assert_eq!(
            split_members(r#"数控机床 CNC机床, "CNC 机床" # comment"#).unwrap(),
            vec!["数控机床", "CNC机床", "CNC 机床"]
        );
        assert_eq!(
            split_members("中药，中医药、“传统 医药”").unwrap(),
            vec!["中药", "中医药", "传统 医药"]
        );
        assert_eq!(
            split_members("# only a comment").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(split_members("C# c井").unwrap(), vec!["C#", "c井"]);
        assert!(split_members("a \"b c").is_err());
    }

    #[test]
    fn ai_and_artificial_intelligence_expand_both_ways() {
        let a = analyzer();
        let syn = Synonyms::load(&dict_path("synonyms.txt"), a).unwrap();
        assert!(syn.len() >= 80, "only {} groups", syn.len());

        let q = toks(a, "AI技术");
        let exp = syn.expand(&q);
        assert_eq!(exp.len(), 1, "{exp:?}");
        assert_eq!((exp[0].start, exp[0].len), (0, 1));
        assert!(
            exp[0].alternatives.contains(&toks(a, "人工智能")),
            "{exp:?}"
        );
        assert!(!exp[0].alternatives.contains(&strs(&["ai"])));

        let q = toks(a, "人工智能");
        let exp = syn.expand(&q);
        assert_eq!(exp.len(), 1, "{exp:?}");
        assert!(exp[0].alternatives.contains(&strs(&["ai"])), "{exp:?}");
    }

    #[test]
    fn no_member_is_a_lone_character() {
        // a member that analyses to one Han character would be searched as a loose
        // character (found in any word containing it): members are words or phrases
        let a = analyzer();
        let syn = Synonyms::load(&dict_path("synonyms.txt"), a).unwrap();
        for group in &syn.groups {
            for member in group {
                let lone = member.len() == 1 && member[0].chars().count() == 1;
                assert!(!lone, "{member:?} in {group:?}");
            }
        }
    }

    #[test]
    fn multi_token_member_matches_longest() {
        let a = analyzer();
        let syn = Synonyms::load(&dict_path("synonyms.txt"), a).unwrap();
        let q = toks(a, "五轴 CNC 机床 加工");
        let cnc_at = q.iter().position(|t| t == "cnc").unwrap();
        let exp = syn.expand(&q);
        let e = exp.iter().find(|e| e.start == cnc_at).unwrap();
        assert_eq!(e.len, 2, "{exp:?}");
        assert!(e.alternatives.contains(&toks(a, "数控机床")), "{exp:?}");

        // The whole query token sequence of 数控机床 expands to the CNC forms.
        let q = toks(a, "数控机床");
        let exp = syn.expand(&q);
        assert_eq!(exp.len(), 1);
        assert_eq!((exp[0].start, exp[0].len), (0, q.len()));
        assert!(exp[0].alternatives.contains(&strs(&["cnc", "机床"])));
    }

    #[test]
    fn inline_groups_overlapping_members_and_no_match() {
        let a = analyzer();
        let syn = Synonyms::parse(
            "# header\n\n锂电池 锂离子电池\n锂电池, 锂电\nfoo\n\"x y\" z\n",
            a,
        )
        .unwrap();
        // `foo` alone is not a group.
        assert_eq!(syn.len(), 3);
        let q = toks(a, "锂电池");
        let exp = syn.expand(&q);
        assert_eq!(exp.len(), 1);
        let alts = &exp[0].alternatives;
        assert!(alts.contains(&toks(a, "锂离子电池")), "{alts:?}");
        assert!(alts.contains(&toks(a, "锂电")), "{alts:?}");
        assert!(syn.expand(&strs(&["钢铁", "冶金"])).is_empty());
        let exp = syn.expand(&strs(&["a", "x", "y", "b"]));
        assert_eq!(
            exp,
            vec![Expansion {
                start: 1,
                len: 2,
                alternatives: vec![strs(&["z"])]
            }]
        );
        assert!(Synonyms::parse("a \"b", a).is_err());
        assert!(Synonyms::parse("", a).unwrap().is_empty());
    }
}
