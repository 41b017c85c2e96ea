//! Health and index administration.

use crate::error::ApiError;
use crate::extract::Params;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use duijie_app::{App, admin};
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/index", get(index_status))
        .route("/admin/reindex", post(reindex))
}

/// Liveness and readiness: 200 when the store answers, 503 otherwise.
pub async fn healthz(State(ctx): State<App>) -> (StatusCode, Json<Value>) {
    match admin::health(&ctx).await {
        Ok(backend) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "store": backend})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({"status": "unavailable", "error": {"code": duijie_app::Code::UNAVAILABLE.code, "message": "数据库不可用 / the database is unavailable"}}),
                ),
            )
        }
    }
}

/// What the store holds against what the index holds.
async fn index_status(
    State(ctx): State<App>,
    p: Params,
) -> Result<Json<admin::IndexStatus>, ApiError> {
    p.finish()?;
    Ok(Json(admin::index_status(&ctx).await?))
}

/// Rebuilds the index from the store.
async fn reindex(State(ctx): State<App>, p: Params) -> Result<Json<admin::Reindexed>, ApiError> {
    p.finish()?;
    Ok(Json(admin::reindex(&ctx).await?))
}
