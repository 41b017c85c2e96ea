//! The index schema and how a listing becomes a document.

use crate::ZH_TOKENIZER;
use duijie_domain::{ListingKind, ListingText, OrgSummary, Zone};
use duijie_text::Analyzer;
use tantivy::schema::{
    FacetOptions, Field, IndexRecordOption, NumericOptions, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::PreTokenizedString;
use tantivy::{TantivyDocument, schema::Facet};

/// The name of the facet field (`/industry/..`, `/zone/..`, `/city/..`, `/maturity/..`,
/// `/kind/..`), which facet readers are opened by.
pub(crate) const FACETS_FIELD: &str = "facets";

/// The fields of the schema, resolved once.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// `kind:id`, the delete key.
    pub key: Field,
    /// Store id (stored).
    pub id: Field,
    /// `result` / `need` / `expert` (filter).
    pub kind: Field,
    /// Organiser's id (stored).
    pub external_id: Field,
    /// Title, Chinese analysis, positions, stored.
    pub title: Field,
    /// Summary / description / profile.
    pub body: Field,
    /// Keywords (and research areas).
    pub keywords: Field,
    /// Organisation name.
    pub org: Field,
    /// Industry code (filter, stored).
    pub industry: Field,
    /// City (filter, stored).
    pub city: Field,
    /// Zone codes (filter, multi-valued).
    pub zone: Field,
    /// Maturity code (filter).
    pub maturity: Field,
    /// Status code (filter).
    pub status: Field,
    /// Facet paths `/industry/..`, `/zone/..`, `/city/..`, `/maturity/..`, `/kind/..`.
    pub facets: Field,
    /// Organisation store id (stored).
    pub org_id: Field,
    /// Organisation kind code (stored).
    pub org_kind: Field,
    /// Transfer modes (results) or wanted cooperation modes (needs): codes, filter, stored.
    pub modes: Field,
    /// Price (results) or budget (needs), lower end in yuan (stored).
    pub money_min: Field,
    /// Price (results) or budget (needs), upper end in yuan (stored).
    pub money_max: Field,
    /// Need deadline `YYYY-MM-DD` (stored).
    pub deadline: Field,
    /// Last change, RFC 3339 (stored).
    pub updated_at: Field,
    /// The listing's weighted term vector ([`crate::similar::TermVector::encode`], stored):
    /// re-scoring reads it instead of analysing the text again.
    pub terms: Field,
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let zh = |stored: bool| {
        let idx = TextFieldIndexing::default()
            .set_tokenizer(ZH_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let o = TextOptions::default().set_indexing_options(idx);
        if stored { o.set_stored() } else { o }
    };
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        id: b.add_i64_field("id", NumericOptions::default().set_stored()),
        kind: b.add_text_field("kind", STRING | STORED),
        external_id: b.add_text_field("external_id", STORED),
        title: b.add_text_field("title", zh(true)),
        body: b.add_text_field("body", zh(true)),
        keywords: b.add_text_field("keywords", zh(true)),
        org: b.add_text_field("org", zh(true)),
        industry: b.add_text_field("industry", STRING | STORED),
        city: b.add_text_field("city", STRING | STORED),
        zone: b.add_text_field("zone", STRING | STORED),
        maturity: b.add_text_field("maturity", STRING | STORED),
        status: b.add_text_field("status", STRING | STORED),
        facets: b.add_facet_field(FACETS_FIELD, FacetOptions::default()),
        org_id: b.add_i64_field("org_id", NumericOptions::default().set_stored()),
        org_kind: b.add_text_field("org_kind", STORED),
        modes: b.add_text_field("modes", STRING | STORED),
        money_min: b.add_i64_field("money_min", NumericOptions::default().set_stored()),
        money_max: b.add_i64_field("money_max", NumericOptions::default().set_stored()),
        deadline: b.add_text_field("deadline", STORED),
        updated_at: b.add_text_field("updated_at", STORED),
        terms: b.add_text_field("terms", STORED),
    };
    (b.build(), fields)
}

pub(crate) fn key(kind: ListingKind, id: i64) -> String {
    format!("{}:{id}", kind.code())
}

fn facet(dim: &str, value: &str) -> Facet {
    // '/' separates facet path segments; keep values readable but unambiguous
    Facet::from_path([dim, &value.replace('/', "／")])
}

pub(crate) fn document(f: &Fields, analyzer: &Analyzer, t: &ListingText) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_text(f.key, key(t.kind, t.id));
    d.add_i64(f.id, t.id);
    d.add_text(f.kind, t.kind.code());
    d.add_facet(f.facets, facet("kind", t.kind.code()));
    if let Some(x) = &t.external_id {
        d.add_text(f.external_id, x);
    }
    // each text is analysed once: its tokens feed both the term vector and tantivy
    let title = analyzer.index_tokens(&t.title);
    let body = analyzer.index_tokens(&t.body);
    let keywords_text = t.keywords.join("；");
    let keywords = analyzer.index_tokens(&keywords_text);
    d.add_text(
        f.terms,
        crate::similar::TermVector::of_tokens(t.kind, &title, &keywords, &body).encode(),
    );
    d.add_pre_tokenized_text(f.title, pre_tokenized(&t.title, title));
    d.add_pre_tokenized_text(f.body, pre_tokenized(&t.body, body));
    if !t.keywords.is_empty() {
        d.add_pre_tokenized_text(f.keywords, pre_tokenized(&keywords_text, keywords));
    }
    if let Some(o) = &t.organization {
        let name = analyzer.index_tokens(&o.name);
        d.add_pre_tokenized_text(f.org, pre_tokenized(&o.name, name));
        d.add_i64(f.org_id, o.id);
        d.add_text(f.org_kind, &o.kind);
        if let Some(c) = &o.city {
            d.add_text(f.city, c);
            d.add_facet(f.facets, facet("city", c));
        }
        for z in &o.zones {
            d.add_text(f.zone, z);
            d.add_facet(f.facets, facet("zone", z));
        }
    }
    if let Some(i) = &t.industry {
        d.add_text(f.industry, i);
        d.add_facet(f.facets, facet("industry", i));
    }
    if let Some(m) = &t.maturity {
        d.add_text(f.maturity, m);
        d.add_facet(f.facets, facet("maturity", m));
    }
    d.add_text(f.status, &t.status);
    for m in &t.modes {
        d.add_text(f.modes, m);
    }
    if let Some(v) = t.money_min {
        d.add_i64(f.money_min, v);
    }
    if let Some(v) = t.money_max {
        d.add_i64(f.money_max, v);
    }
    if let Some(v) = &t.deadline {
        d.add_text(f.deadline, v);
    }
    d.add_text(f.updated_at, &t.updated_at);
    d
}

/// A text with its tokens, as tantivy indexes it without running the field's tokenizer
/// (the same tokens the registered [`ZH_TOKENIZER`] would produce; the store keeps `text`).
fn pre_tokenized(text: &str, tokens: Vec<duijie_text::Token>) -> PreTokenizedString {
    PreTokenizedString {
        text: text.to_string(),
        tokens: tokens.into_iter().map(Into::into).collect(),
    }
}

/// Builds the documents of `texts`, analysing them on up to `threads` threads (analysis is
/// most of the cost of indexing a listing); the order of `texts` is kept.
pub(crate) fn documents(
    f: &Fields,
    analyzer: &Analyzer,
    texts: &[ListingText],
    threads: usize,
) -> Vec<TantivyDocument> {
    let threads = threads.clamp(1, texts.len().div_ceil(32).max(1));
    if threads == 1 {
        return texts.iter().map(|t| document(f, analyzer, t)).collect();
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|t| document(f, analyzer, t))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Rebuilds the indexable view of a listing from its stored fields (the inverse of
/// [`document`] for everything matching needs).
pub(crate) fn listing_of(f: &Fields, doc: &TantivyDocument) -> Option<ListingText> {
    let kind = stored_str(doc, f.kind).and_then(|k| ListingKind::parse(&k))?;
    let organization = stored_str(doc, f.org).map(|name| OrgSummary {
        id: stored_i64(doc, f.org_id).unwrap_or(0),
        name,
        kind: stored_str(doc, f.org_kind).unwrap_or_default(),
        city: stored_str(doc, f.city),
        zones: stored_all(doc, f.zone)
            .iter()
            .filter_map(|z| Zone::parse(z))
            .map(Zone::code)
            .collect(),
    });
    let keywords = stored_str(doc, f.keywords)
        .map(|k| {
            k.split('；')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some(ListingText {
        kind,
        id: stored_i64(doc, f.id)?,
        external_id: stored_str(doc, f.external_id),
        title: stored_str(doc, f.title).unwrap_or_default(),
        body: stored_str(doc, f.body).unwrap_or_default(),
        keywords,
        organization,
        industry: stored_str(doc, f.industry),
        maturity: stored_str(doc, f.maturity),
        status: stored_str(doc, f.status).unwrap_or_default(),
        modes: stored_all(doc, f.modes),
        money_min: stored_i64(doc, f.money_min),
        money_max: stored_i64(doc, f.money_max),
        deadline: stored_str(doc, f.deadline),
        updated_at: stored_str(doc, f.updated_at).unwrap_or_default(),
    })
}

pub(crate) fn stored_i64(doc: &TantivyDocument, field: Field) -> Option<i64> {
    doc.get_first(field).and_then(|v| v.as_i64())
}

pub(crate) fn stored_str(doc: &TantivyDocument, field: Field) -> Option<String> {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

pub(crate) fn stored_all(doc: &TantivyDocument, field: Field) -> Vec<String> {
    doc.get_all(field)
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}
