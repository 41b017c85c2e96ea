//! Character folding and classification shared by the analyzer, the synonym and
//! stopword lists and the keyword extractor.

/// Folds one character: full-width ASCII forms (U+FF01–U+FF5E) become their
/// ASCII counterparts (U+0021–U+007E) and the ideographic space (U+3000)
/// becomes an ASCII space. Every other character is returned unchanged.
///
/// Folding maps one character to exactly one character, so character indexes
/// are the same before and after folding.
pub fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Normalises a keyword or facet value: folds full-width forms, lowercases,
/// trims, and collapses every run of whitespace into a single ASCII space.
///
/// ```
/// assert_eq!(duijie_text::normalize("  ＣＮＣ　机床 "), "cnc 机床");
/// assert_eq!(duijie_text::normalize("PEG-400"), "peg-400");
/// ```
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars().map(fold_char) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Whether `c` is a Han (CJK unified ideograph) character, including the
/// extension blocks, the compatibility ideographs and `〇`. Maximal runs of
/// these characters are what the analyzer hands to jieba.
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{3007}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2EBEF}'
        | '\u{2F800}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}'
    )
}

/// Whether `c` (already folded) belongs to a Latin/digit run: any alphanumeric
/// character that is not Han (Latin, digits, Greek, Cyrillic, kana, ...).
pub(crate) fn is_run_char(c: char) -> bool {
    c.is_alphanumeric() && !is_han(c)
}

/// Connectors that join two alphanumeric parts into one run when an
/// alphanumeric character follows them: `peg-400`, `3.5`, `tcp/ip`, `r&d`.
pub(crate) fn is_inner_connector(c: char) -> bool {
    matches!(c, '-' | '.' | '_' | '/' | '&')
}

/// Connectors that stay attached to the end of a run: `c++`, `c#`.
pub(crate) fn is_trailing_connector(c: char) -> bool {
    matches!(c, '+' | '#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_ascii_and_ideographic_space() {
        assert_eq!(fold_char('Ａ'), 'A');
        assert_eq!(fold_char('５'), '5');
        assert_eq!(fold_char('！'), '!');
        assert_eq!(fold_char('～'), '~');
        assert_eq!(fold_char('\u{3000}'), ' ');
        assert_eq!(fold_char('中'), '中');
        assert_eq!(fold_char('。'), '。');
    }

    #[test]
    fn normalize_lowercases_folds_and_collapses_space() {
        assert_eq!(normalize("ＣＮＣ"), "cnc");
        assert_eq!(normalize("  5G \t 基站\u{3000}"), "5g 基站");
        assert_eq!(normalize("Ｐｅｇ－４００"), "peg-400");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("   "), "");
    }

    #[test]
    fn classifies_han_and_runs() {
        assert!(is_han('中'));
        assert!(is_han('〇'));
        assert!(is_han('𬭚'));
        assert!(is_han('㐀'));
        assert!(!is_han('a'));
        assert!(!is_han('。'));
        assert!(is_run_char('a'));
        assert!(is_run_char('9'));
        assert!(is_run_char('α'));
        assert!(!is_run_char('中'));
        assert!(!is_run_char('-'));
    }
}
