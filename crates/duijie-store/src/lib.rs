//! The relational store, the source of truth for organisations, listings and their change
//! history, on SQLite (embedded default) or PostgreSQL from one code base.
//!
//! Queries go through `sqlx::Any`, so they are written once with `$n` placeholders and only
//! integers, floats and text cross the boundary (timestamps are RFC 3339 text, lists JSON
//! text). Each backend has its own migrations directory because DDL differs.
//!
//! Every write appends the ids it touched to `change_log` in the same transaction; the
//! search index follows that log (see `duijie-index`), which is how it can always catch up
//! after a crash and how it can be rebuilt from the store. Writes are serialised through
//! one async mutex so that sequence numbers commit in order, and on PostgreSQL through an
//! advisory lock as well ([`CHANGE_LOG_LOCK`]), so that they do across servers sharing the
//! database: a reader that has seen sequence `n` has seen every change below it.
#![warn(missing_docs)]

mod accounts;
mod alerts;
mod connections;
mod error;
mod event_self;
mod events;
mod ledger;
mod listings;
mod mail;
mod rows;

pub use accounts::{ApiToken, AuditEntry, AuditRecord, NewUser, User};
pub use alerts::{
    Attempt, AttemptOutcome, DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_PENDING, Delivery,
    KIND_INDUSTRY_NEEDS, KIND_NEED_MATCHES, NewAlert, NewSubscription, Notification, Subscription,
};
pub use connections::{
    Connection, ConnectionChange, ConnectionFact, ConnectionScope, ConnectionStep, EntryDraft,
    Mark, NewConnection, Note, Outgoing, Quota,
};
pub use error::StoreError;
pub use event_self::{
    ListingRef, MeetingAnswerRow, MeetingPlace, PairKey, Registration, WishDraft,
};
pub use events::{
    Event, EventBreak, EventDraft, EventFilter, PairingChange, PairingDraft, PairingRow,
    PairingRun, Participant, ParticipantListing, Preference, PreferenceDraft, SelfService,
};
pub use ledger::{LedgerActor, LedgerChange, LedgerDraft, LedgerEntry, LedgerFilter};
pub use listings::{Draft, ImportOutcome, ListFilter, Page};
pub use mail::{
    Applicant, Application, CATEGORIES, Decision, DigestDue, DigestItem, MAIL_FAILED, MAIL_PENDING,
    MAIL_SENT, Mail, NewLink, NewMail, STATUS_ACTIVE, STATUS_PENDING_APPROVAL,
    STATUS_PENDING_VERIFICATION, STATUS_REJECTED, UsedLink,
};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, SqlSafeStr};
use std::path::Path;
use std::time::Duration;

/// The PostgreSQL advisory lock (single 64-bit key space) every write to listings or
/// organisations takes for the length of its transaction, so that change-log sequence
/// numbers commit in order across every server sharing the database (within one server
/// the write lock does it). `pg_advisory_xact_lock(bigint)`; the key spells "duijie" and 1.
pub const CHANGE_LOG_LOCK: i64 = 0x6475_696a_6965_0001;

/// Connections of the SQLite pool.
const SQLITE_MAX_CONNECTIONS: u32 = 8;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file in the data directory.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The store: a connection pool plus the write lock that keeps change sequence numbers in
/// commit order.
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    write_lock: tokio::sync::Mutex<()>,
    /// Bumped after every write to users, API tokens or organisations (see
    /// [`Store::accounts_generation`]).
    accounts_gen: std::sync::atomic::AtomicU64,
    /// Bumped after every write to listings or organisations (see
    /// [`Store::listings_generation`]).
    listings_gen: std::sync::atomic::AtomicU64,
}

/// Held for the whole of a write to listings or organisations, with the write lock: bumps
/// [`Store::listings_generation`] when dropped, after the commit, whichever way the write
/// ends.
pub(crate) struct ListingsWrite<'a> {
    store: &'a Store,
    _lock: tokio::sync::MutexGuard<'a, ()>,
}

impl Drop for ListingsWrite<'_> {
    fn drop(&mut self) {
        self.store
            .listings_gen
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// See [`Store::accounts_write`].
pub(crate) struct AccountsWrite<'a>(&'a Store);

impl Drop for AccountsWrite<'_> {
    fn drop(&mut self) {
        self.0
            .accounts_gen
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

static MIGRATE_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static MIGRATE_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

impl Store {
    /// Opens (creating if needed) `duijie.db` in `dir` and runs the migrations.
    pub async fn open_sqlite_dir(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Io(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join("duijie.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Store::connect(&url).await
    }

    /// Connects to `sqlite://...` or `postgres://...` and runs the migrations (under
    /// PostgreSQL's advisory lock, so several servers may start at once).
    #[tracing::instrument(skip_all, fields(backend))]
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database url scheme (use sqlite:// or postgres://): {}",
                redact_url(url)
            )));
        };
        tracing::Span::current().record("backend", format!("{backend:?}"));
        // PostgreSQL: while the server is down a request waits at most 5 s for a connection,
        // then answers 503; connections are checked before use, so the pool heals by itself
        let mut opts = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(if backend == Backend::Sqlite {
                10
            } else {
                5
            }))
            .test_before_acquire(true);
        if backend == Backend::Sqlite {
            opts = opts.max_connections(SQLITE_MAX_CONNECTIONS).after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;").await?;
                    Ok(())
                })
            });
        } else {
            opts = opts.max_connections(16);
        }
        let pool = opts
            .connect(url)
            .await
            .map_err(|e| StoreError::Connect(format!("{}: {e}", redact_url(url))))?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set once, kept across connections.
            pool.execute("PRAGMA journal_mode = WAL;").await?;
            MIGRATE_SQLITE.run(&pool).await?;
        } else {
            MIGRATE_POSTGRES.run(&pool).await?;
        }
        Ok(Store {
            pool,
            backend,
            write_lock: tokio::sync::Mutex::new(()),
            accounts_gen: std::sync::atomic::AtomicU64::new(0),
            listings_gen: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// A counter this process bumps after every committed write to users, API tokens or
    /// organisations. A cache of who a token belongs to reads it before its lookup and
    /// drops any answer read under an older value, so such a write made here is seen by
    /// the next request. (Writes by another server are not counted: a cache must also
    /// expire.)
    pub fn accounts_generation(&self) -> u64 {
        self.accounts_gen.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Held for the whole of a write to users or API tokens: bumps
    /// [`Store::accounts_generation`] when dropped, after the commit, whichever way the
    /// write ends.
    pub(crate) fn accounts_write(&self) -> AccountsWrite<'_> {
        AccountsWrite(self)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A counter this process bumps when a write to listings or organisations ends (after
    /// its commit or rollback). A cache of listing pages reads it before its query and
    /// drops any page read under an older value, so such a write made here is seen by the
    /// next request. Writes of other processes are not counted: such a cache must also
    /// follow the change log (the indexer's position does).
    pub fn listings_generation(&self) -> u64 {
        self.listings_gen.load(std::sync::atomic::Ordering::Acquire)
    }

    /// A write transaction. On SQLite it takes the database's write lock at once (`BEGIN
    /// IMMEDIATE`), so it waits for another writer (busy timeout) instead of failing when
    /// its first read's snapshot turns stale: a deferred transaction that reads and then
    /// writes is refused outright ("database is locked") if anyone wrote in between, for
    /// example a second process such as the command line.
    pub(crate) async fn begin_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        if self.backend == Backend::Postgres {
            return Ok(self.pool.begin().await?);
        }
        // An idle connection that still counts itself inside a transaction lost step with
        // SQLite: a COMMIT that met a full disk was rolled back by SQLite itself, so the
        // ROLLBACK that followed found none and the count stayed up. Such a connection can
        // never begin a write again ("begin_with at non-zero transaction depth") though it
        // reads well: a writer that draws one closes it and takes another.
        let mut closed = 0;
        loop {
            let conn = self.pool.acquire().await?;
            if sqlx::Connection::is_in_transaction(&*conn) && closed < SQLITE_MAX_CONNECTIONS {
                tracing::warn!("closing a database connection left inside a transaction");
                let _ = conn.close().await;
                closed += 1;
                continue;
            }
            return Ok(
                sqlx::Transaction::begin(conn, Some("BEGIN IMMEDIATE".into_sql_str())).await?,
            );
        }
    }

    /// The underlying pool, for crates that add their own tables in later migrations.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Hides the password of a database URL for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

tokio::task_local! {
    /// The audit entry of the change being made (see [`audited`]).
    static PENDING_AUDIT: std::cell::RefCell<Option<AuditEntry>>;
}

/// Runs `f` with `entry` pending: the first store transaction that commits inside `f`
/// writes the entry in that same transaction, so a change and its audit entry commit
/// together or not at all. A creation fills the entry's `entity_id` with the id it made.
/// Returns `f`'s output and the entry when no transaction took it (a write outside one, or
/// none at all): the caller records it on its own after a success.
pub async fn audited<F: std::future::Future>(
    entry: AuditEntry,
    f: F,
) -> (F::Output, Option<AuditEntry>) {
    let cell = std::cell::RefCell::new(Some(entry));
    PENDING_AUDIT
        .scope(cell, async move {
            let out = f.await;
            let left = PENDING_AUDIT.with(|c| c.borrow_mut().take());
            (out, left)
        })
        .await
}

/// Names the record a creation made, for the pending audit entry.
pub(crate) fn audit_created(id: i64) {
    let _ = PENDING_AUDIT.try_with(|c| {
        if let Some(e) = c.borrow_mut().as_mut()
            && e.entity_id.is_none()
        {
            e.entity_id = Some(id);
        }
    });
}

/// Commits a write transaction, writing the pending audit entry (if any) in it first.
pub(crate) async fn commit(mut tx: sqlx::Transaction<'_, sqlx::Any>) -> Result<(), StoreError> {
    let pending = PENDING_AUDIT
        .try_with(|c| c.borrow_mut().take())
        .ok()
        .flatten();
    if let Some(e) = pending {
        accounts::insert_audit(&mut tx, &e).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod events_tests;
#[cfg(test)]
mod ledger_tests;
#[cfg(test)]
mod tests;
