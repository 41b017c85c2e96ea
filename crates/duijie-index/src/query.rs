//! Turning a text into a tantivy query.
//!
//! A query text is segmented in exact mode (its tokens are a subset of the index
//! tokens of the same text). Each distinct term is looked up in four fields with weights
//! (title 3, keywords 2, body 1, organisation 0.5), all in one flat disjunction (one
//! union of postings rather than a union of per-term unions: the same sum, about a third
//! less work), so BM25 rewards documents that contain more of the terms and rarer ones.
//! Synonyms add the other members of a group at weight 0.6. With two or more terms, a
//! phrase on the title (character positions, so overlapping index tokens line up)
//! rewards a document whose title contains the query as written.

use crate::Fields;
use duijie_text::{Analyzer, Synonyms};
use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

/// Field weights for text matching.
#[derive(Debug, Clone, Copy)]
pub struct FieldWeights {
    /// Title.
    pub title: f32,
    /// Keywords.
    pub keywords: f32,
    /// Body.
    pub body: f32,
    /// Organisation name.
    pub org: f32,
}

impl Default for FieldWeights {
    fn default() -> Self {
        FieldWeights {
            title: 3.0,
            keywords: 2.0,
            body: 1.0,
            org: 0.5,
        }
    }
}

/// Weight of a synonym relative to the term as typed.
pub const SYNONYM_WEIGHT: f32 = 0.6;
/// Weight of the title phrase clause.
pub const TITLE_PHRASE_WEIGHT: f32 = 2.0;

/// A term searched in every weighted field, as should-clauses of the caller's query.
fn term_clauses(
    f: &Fields,
    w: &FieldWeights,
    term: &str,
    weight: f32,
    into: &mut Vec<(Occur, Box<dyn Query>)>,
) {
    for (field, fw) in [
        (f.title, w.title),
        (f.keywords, w.keywords),
        (f.body, w.body),
        (f.org, w.org),
    ] {
        if fw <= 0.0 {
            continue;
        }
        let q: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(field, term),
            IndexRecordOption::WithFreqs,
        ));
        into.push((Occur::Should, Box::new(BoostQuery::new(q, fw * weight))));
    }
}

/// A term searched in every weighted field, as one disjunction.
fn term_in_fields(f: &Fields, w: &FieldWeights, term: &str, weight: f32) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(4);
    term_clauses(f, w, term, weight, &mut clauses);
    Box::new(BooleanQuery::new(clauses))
}

fn phrase(field: Field, tokens: &[(usize, String)], slop: u32) -> Option<Box<dyn Query>> {
    phrase_query(field, tokens, slop).map(|p| Box::new(p) as Box<dyn Query>)
}

fn phrase_query(field: Field, tokens: &[(usize, String)], slop: u32) -> Option<PhraseQuery> {
    if tokens.len() < 2 {
        return None;
    }
    let base = tokens[0].0;
    let terms = tokens
        .iter()
        .map(|(p, t)| (p - base, Term::from_field_text(field, t)))
        .collect();
    Some(PhraseQuery::new_with_offset_and_slop(terms, slop))
}

/// A weighted term of a query, as the caller chose it (e.g. salient terms of a long text).
#[derive(Debug, Clone)]
pub struct WeightedTerm {
    /// The term, already analysed (lowercase, folded).
    pub term: String,
    /// Its weight (1.0 for a term typed by a person).
    pub weight: f32,
}

/// The text part of a search, in its pieces.
pub struct TextQuery {
    /// Every term (and one-word synonym) in every weighted field, and the multi-word
    /// synonyms as phrases: together they decide which documents match.
    matching: Vec<(Occur, Box<dyn Query>)>,
    /// Whether `matching` holds phrases (it is otherwise term queries only).
    has_phrases: bool,
    /// The title phrase (two or more words), weighed [`TITLE_PHRASE_WEIGHT`]. It only adds
    /// to the score: a title holding the phrase holds each of its terms.
    title_phrase: Option<PhraseQuery>,
}

impl TextQuery {
    /// The whole query: what matches, scored with the title phrase.
    pub fn query(&self) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = self
            .matching
            .iter()
            .map(|(o, q)| (*o, q.box_clone()))
            .collect();
        if let Some(p) = &self.title_phrase {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(p.clone()), TITLE_PHRASE_WEIGHT)),
            ));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// The clauses that decide what matches, one by one (should-clauses).
    pub fn matching_clauses(&self) -> Vec<Box<dyn Query>> {
        self.matching.iter().map(|(_, q)| q.box_clone()).collect()
    }

    /// Whether the clauses that decide what matches are term queries only (the text has
    /// no multi-word synonym).
    pub fn is_terms_only(&self) -> bool {
        !self.has_phrases
    }

    /// The title phrase (weighed [`TITLE_PHRASE_WEIGHT`] in the whole query), when the
    /// text has two or more words and the title is searched.
    pub fn title_phrase(&self) -> Option<&PhraseQuery> {
        self.title_phrase.as_ref()
    }
}

/// The text part of a search: `None` when the text has no searchable token.
pub fn text_query(
    analyzer: &Analyzer,
    synonyms: &Synonyms,
    f: &Fields,
    w: &FieldWeights,
    text: &str,
) -> Option<Box<dyn Query>> {
    text_query_parts(analyzer, synonyms, f, w, text).map(|t| t.query())
}

/// The text part of a search in its pieces: `None` when the text has no searchable token.
pub fn text_query_parts(
    analyzer: &Analyzer,
    synonyms: &Synonyms,
    f: &Fields,
    w: &FieldWeights,
    text: &str,
) -> Option<TextQuery> {
    let tokens = analyzer.query_tokens(text);
    if tokens.is_empty() {
        return None;
    }
    let mut seen = std::collections::HashSet::new();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut has_phrases = false;
    for t in &tokens {
        if seen.insert(t.text.clone()) {
            term_clauses(f, w, &t.text, 1.0, &mut clauses);
        }
    }
    let texts: Vec<String> = tokens.iter().map(|t| t.text.clone()).collect();
    for exp in synonyms.expand(&texts) {
        for alt in &exp.alternatives {
            if alt.len() == 1 {
                // a lone Han character would match anywhere: synonyms are words or phrases
                let mut chars = alt[0].chars();
                let lone = chars.next().is_some_and(duijie_text::is_han) && chars.next().is_none();
                if !lone && seen.insert(alt[0].clone()) {
                    term_clauses(f, w, &alt[0], SYNONYM_WEIGHT, &mut clauses);
                }
            } else {
                // a multi-word synonym is a phrase; positions are character offsets, so
                // lay its words end to end and allow a little slop for spaces
                let mut pos = 0;
                let mut toks = Vec::new();
                for a in alt {
                    toks.push((pos, a.clone()));
                    pos += a.chars().count();
                }
                for field in [f.title, f.body, f.keywords] {
                    if let Some(p) = phrase(field, &toks, 2) {
                        has_phrases = true;
                        clauses.push((Occur::Should, Box::new(BoostQuery::new(p, SYNONYM_WEIGHT))));
                    }
                }
            }
        }
    }
    let positioned: Vec<(usize, String)> = tokens
        .iter()
        .map(|t| (t.position, t.text.clone()))
        .collect();
    let mut title_phrase = phrase_query(f.title, &positioned, 0);
    if w.title <= 0.0 {
        // without the title's terms the phrase is not implied by them: it then decides
        // matches like any other phrase
        if let Some(p) = title_phrase.take() {
            has_phrases = true;
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(p), TITLE_PHRASE_WEIGHT)),
            ));
        }
    }
    Some(TextQuery {
        matching: clauses,
        has_phrases,
        title_phrase,
    })
}

/// A query from pre-weighted terms (long texts: the caller selected the salient terms).
pub fn weighted_terms_query(
    f: &Fields,
    w: &FieldWeights,
    terms: &[WeightedTerm],
) -> Option<Box<dyn Query>> {
    if terms.is_empty() {
        return None;
    }
    let clauses = terms
        .iter()
        .map(|t| (Occur::Should, term_in_fields(f, w, &t.term, t.weight)))
        .collect();
    Some(Box::new(BooleanQuery::new(clauses)))
}
