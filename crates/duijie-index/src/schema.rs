//! The index schema and how a listing becomes a document.

use crate::ZH_TOKENIZER;
use duijie_domain::{ListingKind, ListingText};
use duijie_text::Analyzer;
use tantivy::schema::{
    FacetOptions, Field, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::{TantivyDocument, schema::Facet};

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
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let zh = |stored: bool| {
        let idx = TextFieldIndexing::default().set_tokenizer(ZH_TOKENIZER).set_index_option(IndexRecordOption::WithFreqsAndPositions);
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
        facets: b.add_facet_field("facets", FacetOptions::default()),
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

pub(crate) fn document(f: &Fields, _analyzer: &Analyzer, t: &ListingText) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_text(f.key, key(t.kind, t.id));
    d.add_i64(f.id, t.id);
    d.add_text(f.kind, t.kind.code());
    d.add_facet(f.facets, facet("kind", t.kind.code()));
    if let Some(x) = &t.external_id {
        d.add_text(f.external_id, x);
    }
    d.add_text(f.title, &t.title);
    d.add_text(f.body, &t.body);
    if !t.keywords.is_empty() {
        d.add_text(f.keywords, t.keywords.join("；"));
    }
    if let Some(o) = &t.organization {
        d.add_text(f.org, &o.name);
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
    d
}

pub(crate) fn stored_i64(doc: &TantivyDocument, field: Field) -> Option<i64> {
    doc.get_first(field).and_then(|v| v.as_i64())
}

pub(crate) fn stored_str(doc: &TantivyDocument, field: Field) -> Option<String> {
    doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string)
}

pub(crate) fn stored_all(doc: &TantivyDocument, field: Field) -> Vec<String> {
    doc.get_all(field).filter_map(|v| v.as_str().map(str::to_string)).collect()
}
