//! CRUD for organisations, results, needs and experts.

use crate::auth::Who;
use crate::error::ApiError;
use crate::extract::{Id, JsonObject, Params};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::Code;
use duijie_app::listings::ListFilter;
use duijie_app::listings::{self, Entity};
use duijie_domain::{ListingKind, vocab};
use serde_json::Value;

pub fn router() -> Router<App> {
    let mut r = Router::new();
    for (path, entity) in [
        ("organizations", Entity::Organization),
        ("results", Entity::Listing(ListingKind::Result)),
        ("needs", Entity::Listing(ListingKind::Need)),
        ("experts", Entity::Listing(ListingKind::Expert)),
    ] {
        r = r
            .route(
                &format!("/{path}"),
                get(move |s: State<App>, c: Who, p: Params| list(s, c, p, entity))
                    .post(move |s: State<App>, c: Who, b: JsonObject| create(s, c, b, entity)),
            )
            .route(
                &format!("/{path}/{{id}}"),
                get(move |s: State<App>, c: Who, id: Id| read(s, c, id, entity))
                    .patch(move |s: State<App>, c: Who, id: Id, b: JsonObject| {
                        patch(s, c, id, b, entity)
                    })
                    .delete(move |s: State<App>, c: Who, id: Id| delete(s, c, id, entity)),
            );
    }
    r.route("/vocabulary", get(vocabulary))
}

async fn list(
    State(ctx): State<App>,
    caller: Who,
    mut p: Params,
    entity: Entity,
) -> Result<Json<Value>, ApiError> {
    let max = ctx.settings.server.max_page_size as i64;
    let limit = p.int("limit", 20, 1, max)?;
    let offset = p.int("offset", 0, 0, 1_000_000)?;
    let statuses: Vec<&str> = match entity {
        Entity::Listing(ListingKind::Result) => {
            vocab::RESULT_STATUSES.iter().map(|(c, _)| *c).collect()
        }
        Entity::Listing(ListingKind::Need) => {
            vocab::NEED_STATUSES.iter().map(|(c, _)| *c).collect()
        }
        _ => Vec::new(),
    };
    let mut f = ListFilter::default();
    if !statuses.is_empty() {
        f.status = p.choice("status", &statuses)?;
    }
    if entity != Entity::Organization {
        if let Some(i) = p.str("industry") {
            f.industry = Some(ctx.vocab.resolve_industry(&i).ok_or_else(|| {
                ApiError::bad_request(
                    Code::INVALID_PARAMETER,
                    format!("行业“{i}”不在行业目录中"),
                    format!("industry '{i}' is not in the vocabulary"),
                )
            })?);
        }
        f.organization_id = match p.str("organization_id") {
            None => None,
            Some(_) => Some(p.int("organization_id", 0, 1, i64::MAX)?),
        };
    } else {
        let kinds: Vec<&str> = vocab::ORG_KINDS.iter().map(|(c, _)| *c).collect();
        f.kind = p.choice("kind", &kinds)?;
    }
    f.city = p
        .str("city")
        .map(|c| duijie_domain::geo::normalize_city(&c));
    f.external_id = p.str("external_id");
    p.finish()?;
    // unpublished listings are for their organisation and the organisers only
    Ok(Json(
        listings::list_for(&ctx, &caller, entity, f, limit, offset).await?,
    ))
}

async fn create(
    State(ctx): State<App>,
    caller: Who,
    JsonObject(body): JsonObject,
    entity: Entity,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(listings::create(&ctx, &caller, entity, body).await?),
    ))
}

async fn read(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    entity: Entity,
) -> Result<Json<Value>, ApiError> {
    let v = listings::get(&ctx, entity, id, &caller).await?;
    Ok(Json(v))
}

async fn patch(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    JsonObject(body): JsonObject,
    entity: Entity,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        listings::patch(&ctx, &caller, entity, id, body).await?,
    ))
}

async fn delete(
    State(ctx): State<App>,
    caller: Who,
    Id(id): Id,
    entity: Entity,
) -> Result<StatusCode, ApiError> {
    listings::delete(&ctx, &caller, entity, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The closed vocabularies with Chinese labels, for forms and clients.
async fn vocabulary(State(ctx): State<App>, p: Params) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let table = |t: &[(&str, &str)]| {
        t.iter()
            .map(|(c, l)| serde_json::json!({"code": c, "label": l}))
            .collect::<Vec<_>>()
    };
    Ok(Json(serde_json::json!({
        "industries": ctx.vocab.industries().map(|(c, l)| serde_json::json!({"code": c, "label": l})).collect::<Vec<_>>(),
        "organization_kinds": table(vocab::ORG_KINDS),
        "maturities": table(vocab::MATURITIES),
        "transfer_modes": table(vocab::TRANSFER_MODES),
        "result_statuses": table(vocab::RESULT_STATUSES),
        "need_statuses": table(vocab::NEED_STATUSES),
        "zones": duijie_domain::Zone::ALL.iter().map(|z| serde_json::json!({"code": z.code(), "label": z.label_zh()})).collect::<Vec<_>>(),
        "cities": duijie_domain::geo::LIAONING_CITIES,
    })))
}
