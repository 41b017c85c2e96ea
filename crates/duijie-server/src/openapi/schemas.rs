//! The component schemas of the document: records, pages and views.

use super::*;

/// Every named schema of the document as JSON: those written here, then the response types
/// derived from the services' own types (`duijie_app::schema`).
pub(super) fn schemas(v: &Vocabulary) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = written(v)
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect();
    for (name, schema) in duijie_app::schema::views() {
        out.push((name, serde_json::to_value(&schema).unwrap_or(Value::Null)));
    }
    out
}

/// The schemas written by hand: inputs, the import summary, search and matching answers.
pub(super) fn written(v: &Vocabulary) -> Vec<(&'static str, Value)> {
    let industries = string_enum(v.industries().map(|(c, _)| c.to_string()));
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
        (
            "OrganizationInput",
            json!({"type": "object", "required": ["name"], "properties": {
                "external_id": text_field(100), "name": text_field(200),
                "kind": codes(vocab::ORG_KINDS), "city": {"type": "string"}, "website": {"type": "string"}, "description": text_field(5000),
            }}),
        ),
        (
            "ResearchResultInput",
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
    ]
}
