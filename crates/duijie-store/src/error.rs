use duijie_domain::FieldErrors;

/// Everything the store can fail with. Callers map `NotFound`, `Conflict` and `Invalid` to
/// client errors; the rest are the server's problem.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("{entity} {id} not found")]
    NotFound {
        /// `result`, `need`, `expert`, `organization`.
        entity: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The write conflicts with existing data (duplicate name, organisation in use...).
    #[error("{code}: {message}")]
    Conflict {
        /// Stable machine code.
        code: &'static str,
        /// `中文 / English`.
        message: String,
    },
    /// The input refers to something that does not exist (e.g. an unknown organisation).
    #[error("invalid reference: {0}")]
    Invalid(FieldErrors),
    /// The configuration names no usable database.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be reached.
    #[error("cannot connect to database: {0}")]
    Connect(String),
    /// The data directory could not be used.
    #[error("io: {0}")]
    Io(String),
    /// A stored value could not be decoded (a bug or a hand-edited database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// True when the database is unreachable or overloaded rather than the request wrong:
    /// the server answers 503 for these.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Connect(_) => true,
            StoreError::Database(sqlx::Error::Database(db)) => {
                // PostgreSQL: connection exceptions (08xxx) and operator intervention
                // (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now)
                db.code()
                    .is_some_and(|c| c.len() == 5 && (c.starts_with("08") || c.starts_with("57P")))
            }
            StoreError::Database(e) => matches!(
                e,
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::WorkerCrashed
            ),
            _ => false,
        }
    }

    /// True when the database could not write because its storage is full, read-only or
    /// failing (SQLite `FULL`, `READONLY`, `IOERR`, `CANTOPEN`; PostgreSQL classes 53100,
    /// 25006, 58030). The write was rolled back: nothing half-written remains.
    pub fn is_storage_problem(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return false;
        };
        let Some(code) = db.code() else {
            return false;
        };
        match code.parse::<i64>() {
            // SQLite: the primary result code is the low byte of the extended code
            Ok(n) if !code.starts_with('0') && code.len() < 5 => {
                matches!(n & 0xff, 8 | 10 | 13 | 14)
            }
            _ => matches!(code.as_ref(), "53100" | "25006" | "58030"),
        }
    }

    /// True when a unique constraint was violated.
    pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
        match e {
            sqlx::Error::Database(db) => {
                db.is_unique_violation()
                    || db.message().contains("UNIQUE constraint failed")
                    || db.code().as_deref() == Some("23505")
            }
            _ => false,
        }
    }
}
