//! The component schemas of the document: records, pages and views.

use super::*;

/// The named schemas of the document.
pub(super) fn schemas(v: &Vocabulary) -> Vec<(&'static str, Value)> {
    let industries = string_enum(v.industries().map(|(c, _)| c.to_string()));
    let nullable_text = json!({"type": ["string", "null"]});
    let listing = |extra: Value| {
        let mut props = json!({
            "id": {"type": "integer"},
            "external_id": nullable_text,
            "status": {"type": "string"},
        });
        if let (Some(p), Value::Object(e)) = (props.as_object_mut(), extra) {
            p.extend(e);
        }
        json!({"type": "object", "required": ["id"], "properties": props})
    };
    let text_field = |max: u64| json!({"type": "string", "maxLength": max});
    vec![
        (
            "Error",
            json!({
                "type": "object",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string", "description": "中文 / English"},
                        "fields": {"type": "array", "items": {"type": "object", "required": ["field", "code", "message"]}},
                    },
                }},
            }),
        ),
        ("Object", json!({"type": "object"})),
        (
            "Organization",
            json!({"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}, "city": nullable_text}}),
        ),
        (
            "Result",
            listing(
                json!({"title": {"type": "string"}, "summary": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}}}),
            ),
        ),
        (
            "Need",
            listing(
                json!({"title": {"type": "string"}, "description": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}}}),
            ),
        ),
        ("Expert", listing(json!({"name": {"type": "string"}}))),
        (
            "OrganizationInput",
            json!({"type": "object", "required": ["name"], "properties": {
                "external_id": text_field(100), "name": text_field(200),
                "kind": codes(vocab::ORG_KINDS), "city": {"type": "string"}, "website": {"type": "string"}, "description": text_field(5000),
            }}),
        ),
        (
            "ResultInput",
            json!({"type": "object", "required": ["title", "summary"], "properties": {
                "external_id": text_field(100), "title": text_field(200), "summary": text_field(20000),
                "keywords": {"type": "array", "items": {"type": "string"}}, "industry": industries.clone(),
                "trl": {"type": "integer", "minimum": 1, "maximum": 9}, "maturity": codes(vocab::MATURITIES),
                "transfer_modes": {"type": "array", "items": codes(vocab::TRANSFER_MODES)},
                "price_min": {"type": "integer", "minimum": 0}, "price_max": {"type": "integer", "minimum": 0},
                "organization": {"type": "string"}, "team": {"type": "string"},
            }}),
        ),
        (
            "NeedInput",
            json!({"type": "object", "required": ["title", "description"], "properties": {
                "external_id": text_field(100), "title": text_field(200), "description": text_field(20000),
                "keywords": {"type": "array", "items": {"type": "string"}}, "industry": industries.clone(),
                "cooperation_modes": {"type": "array", "items": codes(vocab::TRANSFER_MODES)},
                "budget_min": {"type": "integer", "minimum": 0}, "budget_max": {"type": "integer", "minimum": 0},
                "deadline": {"type": "string", "format": "date"}, "required_maturity": codes(vocab::MATURITIES),
                "organization": {"type": "string"},
            }}),
        ),
        (
            "ExpertInput",
            json!({"type": "object", "required": ["name"], "properties": {
                "external_id": text_field(100), "name": text_field(100), "title": text_field(100),
                "research_areas": {"type": "array", "items": {"type": "string"}}, "keywords": {"type": "array", "items": {"type": "string"}},
                "industry": industries, "summary": text_field(5000), "organization": {"type": "string"},
            }}),
        ),
        (
            "ImportSummary",
            json!({"type": "object", "required": ["imported", "updated", "failed", "errors"], "properties": {
                "imported": {"type": "integer"}, "updated": {"type": "integer"}, "failed": {"type": "integer"},
                "errors": {"type": "array", "items": {"type": "object"}},
            }}),
        ),
        (
            "SearchResponse",
            json!({"type": "object", "required": ["total", "hits", "facets"], "properties": {
                "total": {"type": "integer", "minimum": 0},
                "hits": {"type": "array", "items": {"type": "object", "required": ["id", "kind", "title", "score"], "properties": {
                    "id": {"type": "integer"}, "external_id": nullable_text, "kind": {"type": "string"}, "title": {"type": "string"},
                    "score": {"type": "number"}, "highlights": {"type": "object"},
                }}},
                "facets": {"type": "object"},
            }}),
        ),
        (
            "Match",
            json!({"type": "object", "required": ["id", "kind", "title", "score", "breakdown", "matched_terms"], "properties": {
                "id": {"type": "integer"}, "external_id": nullable_text, "kind": {"type": "string"}, "title": {"type": "string"},
                "score": {"type": "number", "minimum": 0},
                "breakdown": {"type": "array", "items": {"type": "object", "required": ["component", "score", "weight", "reason"], "properties": {
                    "component": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "weight": {"type": "number", "minimum": 0}, "reason": {"type": "string"},
                }}},
                "matched_terms": {"type": "array"},
                "highlights": {"type": "object"},
            }}),
        ),
        (
            "MatchList",
            json!({"type": "object", "required": ["kind", "items"], "properties": {"kind": {"type": "string"}, "items": {"type": "array", "items": r("Match")}}}),
        ),
        (
            "EventInput",
            json!({"type": "object", "required": ["name", "date"], "properties": {
                "name": text_field(200), "date": {"type": "string", "format": "date"}, "start_time": {"type": "string"},
                "venue": {"type": "string"}, "description": {"type": "string"},
                "format": codes(duijie_app::events::FORMATS),
                "slot_count": {"type": "integer", "minimum": 1}, "slot_minutes": {"type": "integer", "minimum": 1},
                "table_count": {"type": "integer", "minimum": 1},
            }}),
        ),
        (
            "Event",
            json!({"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}),
        ),
        (
            "LedgerEntry",
            json!({"type": "object", "required": ["id", "status"], "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}}),
        ),
        (
            "User",
            json!({"type": "object", "required": ["id", "email", "role"], "properties": {"id": {"type": "integer"}, "email": {"type": "string"}, "role": {"type": "string"}}}),
        ),
    ]
}
