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

/// `GET /metrics`.
pub async fn scrape(State(ctx): State<App>) -> Response {
    let mut resp = duijie_app::metrics::render(&ctx).await.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
