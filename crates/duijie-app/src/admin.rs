//! Operations: health, the index against the store, rebuilding the index.

use crate::app::App;
use crate::codes::Code;
use crate::error::AppError;
use duijie_domain::ListingKind;
use serde::Serialize;
use std::collections::BTreeMap;

/// The store's backend when it answers (`sqlite`, `postgres`).
pub async fn health(ctx: &App) -> Result<String, AppError> {
    ctx.store.ping().await?;
    Ok(format!("{:?}", ctx.store.backend()).to_lowercase())
}

/// What the store holds against what the index holds.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexStatus {
    /// Listings in the store by kind (plural).
    pub store: BTreeMap<String, i64>,
    /// Documents in the index by kind (plural).
    pub index: BTreeMap<String, u64>,
    /// The store's latest change.
    pub store_seq: i64,
    /// The latest change the index holds.
    pub index_seq: i64,
    /// Changes the index has not applied yet.
    pub behind: i64,
    /// Size of the index directory.
    pub index_bytes: u64,
    /// Whether this process maintains the index.
    pub writer: bool,
}

/// Compares the store and the index.
pub async fn index_status(ctx: &App) -> Result<IndexStatus, AppError> {
    let mut store = BTreeMap::new();
    let mut index = BTreeMap::new();
    for kind in ListingKind::ALL {
        store.insert(kind.plural().to_string(), ctx.store.count(kind).await?);
        let ix = ctx.index.clone();
        let n = tokio::task::spawn_blocking(move || ix.count(Some(kind))).await??;
        index.insert(kind.plural().to_string(), n);
    }
    let store_seq = ctx.store.max_seq().await?;
    let index_seq = ctx.index.applied_seq()?;
    Ok(IndexStatus {
        store,
        index,
        store_seq,
        index_seq,
        behind: store_seq - index_seq,
        index_bytes: ctx.index.size_bytes(),
        writer: ctx.indexer.is_some(),
    })
}

/// The outcome of a rebuild.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reindexed {
    /// The latest change the rebuilt index holds.
    pub index_seq: i64,
    /// Documents in the rebuilt index.
    pub documents: u64,
    /// How long it took.
    pub seconds: f64,
}

/// Rebuilds the index from the store through this process's indexer (the server).
pub async fn reindex(ctx: &App) -> Result<Reindexed, AppError> {
    let ix = ctx.indexer.as_ref().ok_or_else(|| AppError::Conflict {
        code: Code::INDEX_READ_ONLY,
        message: "本进程没有索引写权限 / this process does not own the index writer".into(),
    })?;
    let started = std::time::Instant::now();
    let index_seq = ix
        .rebuild()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Reindexed {
        index_seq,
        documents: ctx.index.count(None)?,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Rebuilds the index from the store directly (the command line, with no server running),
/// reporting progress with the number of listings indexed so far.
pub async fn rebuild_index(
    ctx: &App,
    progress: impl FnMut(u64) + Send,
) -> Result<Reindexed, AppError> {
    let started = std::time::Instant::now();
    let index_seq = crate::indexer::rebuild(&ctx.store, &ctx.index, progress)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Reindexed {
        index_seq,
        documents: ctx.index.count(None)?,
        seconds: started.elapsed().as_secs_f64(),
    })
}
