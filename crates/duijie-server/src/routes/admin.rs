//! Health and index administration.

use crate::error::ApiError;
use crate::extract::Params;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_domain::ListingKind;
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/index", get(index_status))
        .route("/admin/reindex", post(reindex))
}

/// Liveness and readiness: 200 when the store answers, 503 otherwise.
pub async fn healthz(State(ctx): State<App>) -> (StatusCode, Json<Value>) {
    match ctx.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(
                json!({"status": "ok", "store": format!("{:?}", ctx.store.backend()).to_lowercase()}),
            ),
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
async fn index_status(State(ctx): State<App>, p: Params) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let mut store = serde_json::Map::new();
    let mut index = serde_json::Map::new();
    for kind in ListingKind::ALL {
        store.insert(kind.plural().into(), ctx.store.count(kind).await?.into());
        let ix = ctx.index.clone();
        let n = tokio::task::spawn_blocking(move || ix.count(Some(kind))).await??;
        index.insert(kind.plural().into(), n.into());
    }
    let store_seq = ctx.store.max_seq().await?;
    let applied = ctx.index.applied_seq()?;
    Ok(Json(json!({
        "store": store,
        "index": index,
        "store_seq": store_seq,
        "index_seq": applied,
        "behind": store_seq - applied,
        "index_bytes": ctx.index.size_bytes(),
        "writer": ctx.indexer.is_some(),
    })))
}

/// Rebuilds the index from the store.
async fn reindex(State(ctx): State<App>, p: Params) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let ix = ctx.indexer.as_ref().ok_or_else(|| AppError::Conflict {
        code: Code::INDEX_READ_ONLY,
        message: "本进程没有索引写权限 / this process does not own the index writer".into(),
    })?;
    let started = std::time::Instant::now();
    let seq = ix
        .rebuild()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Json(
        json!({"index_seq": seq, "documents": ctx.index.count(None)?, "seconds": started.elapsed().as_secs_f64()}),
    ))
}
