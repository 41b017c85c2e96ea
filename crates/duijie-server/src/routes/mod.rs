//! The HTTP API: one router per resource, all under `/api/v1`, sharing [`App`].

mod accounts;
mod admin;
mod alerts;
mod connections;
mod events;
mod import;
pub(crate) mod ledger;
mod listings;
mod matching;
mod participation;
pub(crate) mod search;
mod signup;

use crate::error::ApiError;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::authz::Action;

/// The metrics-only router of `[metrics] listen` (no credentials: bind it to an internal
/// address).
pub fn metrics_router(ctx: App) -> Router {
    Router::new()
        .route("/metrics", get(crate::metrics::scrape))
        .with_state(ctx)
}

/// The whole application router.
pub fn router(ctx: App) -> Router {
    let max_json = ctx.settings.server.max_json_bytes;
    let guard = |action, entity| {
        axum::middleware::from_fn_with_state(
            (ctx.clone(), action, entity),
            crate::guard::guard_writes,
        )
    };
    let api = Router::new()
        .merge(listings::router())
        .merge(search::router())
        .merge(import::router().route_layer(guard(Action::Import, "import")))
        .merge(admin::router().route_layer(guard(Action::Administer, "index")))
        .merge(events::router().route_layer(guard(Action::ManageEvents, "event")))
        .merge(matching::router())
        .merge(ledger::router())
        .merge(accounts::router())
        .merge(alerts::router())
        .merge(signup::router())
        .merge(connections::router())
        .merge(participation::router())
        .fallback(|| async {
            ApiError(AppError::NotFound("接口不存在 / no such endpoint".into()))
        });
    Router::new()
        .route("/healthz", get(admin::healthz))
        .route("/metrics", get(crate::metrics::scrape_guarded))
        .route("/api/openapi.json", get(openapi_json))
        .nest("/api/v1", api)
        .merge(crate::web::router(&ctx))
        .fallback(crate::web::not_found)
        .layer(DefaultBodyLimit::max(max_json))
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            crate::auth::resolve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            crate::metrics::track,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(ctx)
}

/// The OpenAPI 3.1 document of the JSON API.
async fn openapi_json(
    axum::extract::State(ctx): axum::extract::State<App>,
) -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(crate::openapi::document(&ctx.vocab))
}
