//! `GET /api/v1/search`.

use crate::error::ApiError;
use crate::extract::Params;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::Code;
use duijie_app::search::{SearchRequest, SearchResponse};
use duijie_domain::{ListingKind, Zone, vocab};

pub fn router() -> Router<App> {
    Router::new().route("/search", get(search))
}

/// Longest query accepted, characters.
const MAX_QUERY_CHARS: usize = 500;

/// Validates search parameters (shared with the command line).
pub fn parse_request(ctx: &App, p: &mut Params) -> Result<SearchRequest, ApiError> {
    let q = p.str("q").unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(
            Code::QUERY_TOO_LONG,
            format!("查询过长，最多 {MAX_QUERY_CHARS} 字"),
            format!("query is too long: at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let kind = match p.str("kind") {
        None => None,
        Some(k) => Some(ListingKind::parse(&k).ok_or_else(|| {
            ApiError::bad_request(
                Code::INVALID_PARAMETER,
                format!("kind“{k}”无效，可选：results, needs, experts"),
                format!("kind '{k}' is not one of: results, needs, experts"),
            )
        })?),
    };
    let industry = match p.str("industry") {
        None => None,
        Some(i) => Some(ctx.vocab.resolve_industry(&i).ok_or_else(|| {
            ApiError::bad_request(
                Code::INVALID_PARAMETER,
                format!("行业“{i}”不在行业目录中"),
                format!("industry '{i}' is not in the vocabulary"),
            )
        })?),
    };
    let zone = match p.str("zone") {
        None => None,
        Some(z) => Some(
            Zone::parse(&z)
                .or_else(|| Zone::ALL.into_iter().find(|x| x.label_zh() == z))
                .ok_or_else(|| {
                    ApiError::bad_request(Code::INVALID_PARAMETER, format!("区域“{z}”无效，可选：shenyang_metro, coastal_belt, western_zone, eastern_zone"), format!("zone '{z}' is not one of: shenyang_metro, coastal_belt, western_zone, eastern_zone"))
                })?
                .code()
                .to_string(),
        ),
    };
    let maturity = match p.str("maturity") {
        None => None,
        Some(m) => Some(
            vocab::resolve(vocab::MATURITIES, &m)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        Code::INVALID_PARAMETER,
                        format!("成熟度“{m}”无效，可选：lab, pilot, industrialized"),
                        format!("maturity '{m}' is not one of: lab, pilot, industrialized"),
                    )
                })?
                .to_string(),
        ),
    };
    let city = p
        .str("city")
        .map(|c| duijie_domain::geo::normalize_city(&c));
    let max = ctx.settings.server.max_page_size as i64;
    let limit = p.int("limit", 10, 1, max)? as usize;
    let offset = p.int("offset", 0, 0, 10_000)? as usize;
    Ok(SearchRequest {
        q,
        kind,
        industry,
        city,
        zone,
        maturity,
        status: None,
        limit,
        offset,
    })
}

async fn search(State(ctx): State<App>, mut p: Params) -> Result<Json<SearchResponse>, ApiError> {
    let req = parse_request(&ctx, &mut p)?;
    p.finish()?;
    Ok(Json(duijie_app::search::search(&ctx, req).await?))
}
