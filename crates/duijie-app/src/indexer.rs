//! Keeps the search index in step with the store.
//!
//! One task owns index writes. It applies the store's change log from the index's
//! watermark onwards, in batches, each batch committed with its last sequence number. It
//! runs when a write through this process asks it to (writers then wait until their change
//! is searchable), every `poll_interval_ms` to pick up writes of other processes, and at
//! start to catch up after a crash. A rebuild clears the index and re-adds every listing.

use duijie_domain::ListingKind;
use duijie_index::SearchIndex;
use duijie_store::Store;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Errors of index maintenance.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Reading the store failed.
    #[error("store: {0}")]
    Store(#[from] duijie_store::StoreError),
    /// Writing the index failed.
    #[error("index: {0}")]
    Index(#[from] duijie_index::IndexError),
    /// The blocking index task failed.
    #[error("index task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// The indexer task has stopped.
    #[error("the indexer has stopped")]
    Stopped,
    /// The index failed to apply the changes twice in a row (a full or read-only disk).
    #[error("the index cannot apply changes (is the data directory full or read-only?)")]
    Failing,
    /// Waiting for the index took longer than allowed.
    #[error("timed out waiting for the index to reach change {0}")]
    Timeout(i64),
}

const BATCH: i64 = 5000;

/// Applies every change after the index's watermark, or rebuilds the index from the store
/// when changes it has not applied were compacted away. Returns the new watermark.
pub async fn catch_up(
    store: &Store,
    index: &Arc<SearchIndex>,
    progress: impl FnMut(i64, i64),
) -> Result<i64, SyncError> {
    let applied = index.applied_seq()?;
    let compacted = store.compacted_seq().await?;
    if applied < compacted {
        tracing::warn!(
            applied,
            compacted,
            "the index is behind the retained change log; rebuilding it from the store"
        );
        return rebuild(store, index, |_| {}).await;
    }
    follow_log(store, index, progress).await
}

/// Applies the change log after the index's watermark.
async fn follow_log(
    store: &Store,
    index: &Arc<SearchIndex>,
    mut progress: impl FnMut(i64, i64),
) -> Result<i64, SyncError> {
    let mut applied = index.applied_seq()?;
    let target = store.max_seq().await?;
    loop {
        let t = std::time::Instant::now();
        let changes = store.changes_since(applied, BATCH).await?;
        let Some(last) = changes.last().map(|c| c.0) else {
            break;
        };
        let mut touched: BTreeSet<(ListingKind, i64)> = BTreeSet::new();
        for (_, kind, id) in &changes {
            touched.insert((*kind, *id));
        }
        let mut upserts = Vec::with_capacity(touched.len());
        for kind in ListingKind::ALL {
            let ids: Vec<i64> = touched
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| *id)
                .collect();
            if !ids.is_empty() {
                upserts.extend(store.listing_texts(kind, &ids).await?);
            }
        }
        let touched: Vec<(ListingKind, i64)> = touched.into_iter().collect();
        let fetched = t.elapsed();
        let idx = index.clone();
        let n = upserts.len();
        tokio::task::spawn_blocking(move || idx.apply(&touched, &upserts, last)).await??;
        tracing::debug!(
            docs = n,
            fetch_ms = fetched.as_millis() as u64,
            total_ms = t.elapsed().as_millis() as u64,
            seq = last,
            "index batch applied"
        );
        applied = last;
        progress(applied, target.max(applied));
    }
    Ok(applied)
}

/// Clears the index and re-adds every listing of the store; returns the watermark.
pub async fn rebuild(
    store: &Store,
    index: &Arc<SearchIndex>,
    mut progress: impl FnMut(u64),
) -> Result<i64, SyncError> {
    // Changes written after this point are applied by the catch-up that follows, so
    // nothing is lost if writes continue during the rebuild.
    let seq = store.max_seq().await?;
    let idx = index.clone();
    tokio::task::spawn_blocking(move || idx.clear_uncommitted()).await??;
    let mut done = 0u64;
    for kind in ListingKind::ALL {
        let mut after = 0;
        loop {
            let texts = store.scan_texts(kind, after, 2000).await?;
            let Some(last) = texts.last().map(|t| t.id) else {
                break;
            };
            after = last;
            done += texts.len() as u64;
            let idx = index.clone();
            tokio::task::spawn_blocking(move || idx.add_uncommitted(&texts)).await??;
            progress(done);
        }
    }
    let idx = index.clone();
    tokio::task::spawn_blocking(move || idx.commit(seq)).await??;
    follow_log(store, index, |_, _| {}).await
}

/// The name this index is known by in the store's change cursors: kept in a file of the
/// index directory, so a server keeps its name across restarts and each replica has its own.
pub fn cursor_name(index_dir: &std::path::Path) -> std::io::Result<String> {
    let path = index_dir.join("cursor-name");
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => {
            let name = format!(
                "index-{}",
                crate::auth::random_hex(8).map_err(|e| std::io::Error::other(e.to_string()))?
            );
            std::fs::write(&path, &name)?;
            Ok(name)
        }
    }
}

enum Command {
    Sync,
    Rebuild(oneshot::Sender<Result<i64, String>>),
}

/// Handle to the indexer task.
#[derive(Clone)]
pub struct Indexer {
    tx: mpsc::Sender<Command>,
    applied: watch::Receiver<i64>,
    /// Failed catch-up passes so far.
    failures: watch::Receiver<u64>,
}

impl Indexer {
    /// Starts the task. The index must already have caught up (see [`catch_up`]).
    pub fn start(
        store: Arc<Store>,
        index: Arc<SearchIndex>,
        poll: Duration,
        cursor: String,
    ) -> Result<Indexer, SyncError> {
        let (tx, mut rx) = mpsc::channel::<Command>(64);
        let (applied_tx, applied) = watch::channel(index.applied_seq()?);
        let (failures_tx, failures) = watch::channel(0u64);
        tokio::spawn(async move {
            // where this index has got to, for change-log compaction: written when it moves,
            // and at least once a minute so the cursor stays live
            let mut recorded: Option<(i64, std::time::Instant)> = None;
            let mut tick = tokio::time::interval(poll.max(Duration::from_millis(50)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let cmd = tokio::select! {
                    c = rx.recv() => match c { Some(c) => c, None => break },
                    _ = tick.tick() => Command::Sync,
                };
                match cmd {
                    Command::Sync => {
                        // coalesce queued sync requests: one pass covers them all
                        let mut rebuilds = Vec::new();
                        while let Ok(c) = rx.try_recv() {
                            if let Command::Rebuild(r) = c {
                                rebuilds.push(r);
                            }
                        }
                        match catch_up(&store, &index, |_, _| {}).await {
                            Ok(seq) => {
                                let _ = applied_tx.send(seq);
                                let stale = recorded.is_none_or(|(s, at)| {
                                    s != seq || at.elapsed() > Duration::from_secs(60)
                                });
                                if stale {
                                    match store.set_cursor(&cursor, seq).await {
                                        Ok(()) => recorded = Some((seq, std::time::Instant::now())),
                                        Err(e) => {
                                            tracing::warn!(error = %e, "recording the index cursor failed")
                                        }
                                    }
                                }
                            }
                            Err(e) => {
                                failures_tx.send_modify(|n| *n += 1);
                                tracing::warn!(error = %e, "index catch-up failed; will retry")
                            }
                        }
                        for r in rebuilds {
                            let res = rebuild(&store, &index, |_| {}).await;
                            if let Ok(seq) = &res {
                                let _ = applied_tx.send(*seq);
                            }
                            let _ = r.send(res.map_err(|e| e.to_string()));
                        }
                    }
                    Command::Rebuild(reply) => {
                        let res = rebuild(&store, &index, |_| {}).await;
                        if let Ok(seq) = &res {
                            let _ = applied_tx.send(*seq);
                        }
                        let _ = reply.send(res.map_err(|e| e.to_string()));
                    }
                }
            }
        });
        Ok(Indexer {
            tx,
            applied,
            failures,
        })
    }

    /// Asks for a sync without waiting.
    pub fn nudge(&self) {
        let _ = self.tx.try_send(Command::Sync);
    }

    /// Asks for a sync and waits until the index has applied `seq`.
    pub async fn wait_for(&self, seq: i64) -> Result<(), SyncError> {
        let mut rx = self.applied.clone();
        if *rx.borrow() >= seq {
            return Ok(());
        }
        self.tx
            .send(Command::Sync)
            .await
            .map_err(|_| SyncError::Stopped)?;
        let mut failures = self.failures.clone();
        let failed_before = *failures.borrow_and_update();
        let wait = async {
            loop {
                if *rx.borrow_and_update() >= seq {
                    return Ok(());
                }
                tokio::select! {
                    r = rx.changed() => if r.is_err() {
                        return Err(SyncError::Stopped);
                    },
                    r = failures.changed() => {
                        if r.is_err() {
                            return Err(SyncError::Stopped);
                        }
                        // one failed pass may be passing trouble; two mean the index
                        // cannot write: answer now instead of holding the client
                        if *failures.borrow_and_update() >= failed_before + 2 {
                            return Err(SyncError::Failing);
                        }
                    }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .map_err(|_| SyncError::Timeout(seq))?
    }

    /// Rebuilds the index from the store and waits for it.
    pub async fn rebuild(&self) -> Result<i64, SyncError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Rebuild(tx))
            .await
            .map_err(|_| SyncError::Stopped)?;
        rx.await
            .map_err(|_| SyncError::Stopped)?
            .map_err(|e| SyncError::Index(duijie_index::IndexError::Io(e)))
    }

    /// The last sequence number the index has applied.
    pub fn applied(&self) -> i64 {
        *self.applied.borrow()
    }
}

/// Compacts the change log every `[index] compaction_interval_secs` until `stop` turns true.
pub async fn compaction_worker(ctx: crate::app::App, mut stop: watch::Receiver<bool>) {
    let s = &ctx.settings.index;
    let every = Duration::from_secs(s.compaction_interval_secs.max(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {},
            _ = stop.changed() => {},
        }
        if *stop.borrow() {
            break;
        }
        let cutoff = (chrono::Utc::now()
            - chrono::Duration::minutes(s.change_log_retention_minutes as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        match ctx.store.compact_changes(&cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "change log compacted"),
            Err(e) => tracing::warn!(error = %e, "compacting the change log failed; will retry"),
        }
    }
}
