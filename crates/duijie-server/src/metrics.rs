//! Prometheus metrics over HTTP: a middleware that counts every request under its route
//! template, and `GET /metrics`, which renders the application's counters and gauges.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use duijie_app::App;
use std::time::Instant;

/// Middleware: times every request and counts it under its route template (`/api/v1/needs/{id}`,
/// never the raw path, so the number of series stays bounded).
pub async fn track(State(ctx): State<App>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    ctx.metrics
        .request(&method, &route, resp.status().as_u16(), started.elapsed());
    resp
}

/// A request that showed the scraper's token (set by the resolving middleware).
#[derive(Debug, Clone, Copy)]
pub struct ScraperToken;

/// Whether `header` (an `Authorization` value) carries the scraper's token.
pub fn is_scraper(ctx: &App, header: &str) -> bool {
    let want = &ctx.settings.metrics.token;
    !want.is_empty()
        && header
            .strip_prefix("Bearer ")
            .is_some_and(|t| duijie_app::auth::same_secret(t.trim(), want))
}

/// `GET /metrics` on the public listener: administrators and the scraper's token only.
pub async fn scrape_guarded(
    State(ctx): State<App>,
    caller: crate::auth::Who,
    req: Request,
) -> Response {
    let scraper = req.extensions().get::<ScraperToken>().is_some();
    if !scraper {
        let refused = match caller.role() {
            None => Some(duijie_app::AppError::unauthenticated()),
            Some(duijie_domain::Role::Admin) => None,
            Some(_) => Some(duijie_app::AppError::forbidden(
                "指标只对管理员和配置的采集令牌开放",
                "metrics are for administrators and the configured scraper token",
            )),
        };
        if let Some(e) = refused {
            return crate::error::ApiError::from(e).into_response();
        }
    }
    scrape(State(ctx)).await
}

/// `GET /metrics` without credentials: the metrics-only listener.
pub async fn scrape(State(ctx): State<App>) -> Response {
    let mut resp = duijie_app::metrics::render(&ctx).await.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
