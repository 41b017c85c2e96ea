//! Matching endpoints: matches of a stored need or result, and of an unsaved text.

use crate::auth::Who;
use crate::error::ApiError;
use crate::extract::{Id, JsonObject, Params};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::Code;
use duijie_app::matching;
use duijie_app::matching::MatchOptions;
use duijie_domain::ListingKind;
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/needs/{id}/matches",
            get(|s: State<App>, c: Who, id: Id, p: Params| {
                listing_matches(s, c, id, p, ListingKind::Need)
            }),
        )
        .route(
            "/results/{id}/matches",
            get(|s: State<App>, c: Who, id: Id, p: Params| {
                listing_matches(s, c, id, p, ListingKind::Result)
            }),
        )
        .route(
            "/experts/{id}/matches",
            get(|s: State<App>, c: Who, id: Id, p: Params| {
                listing_matches(s, c, id, p, ListingKind::Expert)
            }),
        )
        .route("/match", post(text_matches))
}

/// Query-string options: `kind`, `limit`, filters, and `weight_<component>` overrides.
fn options(ctx: &App, p: &mut Params) -> Result<MatchOptions, ApiError> {
    let limit = matching::limit(p.str("limit").map(Value::String).as_ref())?;
    let mut f = serde_json::Map::new();
    for k in ["industry", "city", "zone", "maturity"] {
        if let Some(v) = p.str(k) {
            f.insert(k.into(), Value::String(v));
        }
    }
    let filters = matching::filters(ctx, Some(&Value::Object(f)))?;
    let mut w = serde_json::Map::new();
    for c in duijie_app::matching::ComponentKind::ALL {
        let name = format!("weight_{}", c.code());
        if let Some(v) = p.str(&name) {
            let n = v
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or(Value::String(v));
            w.insert(c.code().into(), n);
        }
    }
    let weights = matching::weights(Some(&Value::Object(w)))?;
    Ok(MatchOptions {
        limit,
        filters,
        weights,
        ..Default::default()
    })
}

async fn listing_matches(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    mut p: Params,
    kind: ListingKind,
) -> Result<Json<ListingMatches>, ApiError> {
    let target = matching::target_kind(p.str("kind").as_deref(), Some(kind))?;
    let opts = options(&ctx, &mut p)?;
    p.finish()?;
    let items = matching::for_listing(&ctx, &caller, kind, id, target, opts).await?;
    Ok(Json(ListingMatches {
        source: Source { kind, id },
        kind: target,
        items,
    }))
}

/// The answer of `GET /{kind}/{id}/matches`, serialised straight from the matches.
#[derive(serde::Serialize)]
struct ListingMatches {
    /// The listing matched from.
    source: Source,
    /// The kind of the matches.
    kind: ListingKind,
    items: Vec<matching::Match>,
}

#[derive(serde::Serialize)]
struct Source {
    kind: ListingKind,
    id: i64,
}

async fn text_matches(
    State(ctx): State<App>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    for k in body.keys() {
        if !["text", "kind", "limit", "filters", "weights"].contains(&k.as_str()) {
            return Err(ApiError::bad_request(
                Code::UNKNOWN_FIELD,
                format!("未知字段“{k}”"),
                format!("unknown field '{k}'"),
            ));
        }
    }
    let text = match body.get("text") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(
                Code::INVALID_TEXT,
                "text 应为文本",
                "text must be a string",
            ));
        }
        None => {
            return Err(ApiError::bad_request(
                Code::EMPTY_TEXT,
                "缺少 text",
                "text is required",
            ));
        }
    };
    let kind = match body.get("kind") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(ApiError::bad_request(
                Code::INVALID_PARAMETER,
                "kind 应为文本",
                "kind must be a string",
            ));
        }
    };
    let target = matching::target_kind(kind, None)?;
    let opts = MatchOptions {
        limit: matching::limit(body.get("limit"))?,
        filters: matching::filters(&ctx, body.get("filters"))?,
        weights: matching::weights(body.get("weights"))?,
        ..Default::default()
    };
    let items = matching::for_text(&ctx, text, target, opts).await?;
    Ok(Json(json!({"kind": target, "items": items})))
}
