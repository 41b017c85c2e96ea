/// Everything the index can fail with.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Another process (a running server) holds the index writer.
    #[error(
        "the index in {0} is locked by another process (is a server running on this data directory?)"
    )]
    Locked(String),
    /// The index was opened read-only and a write was attempted.
    #[error("the index is open read-only")]
    ReadOnly,
    /// The on-disk schema differs from this version's: rebuild with `duijie reindex`.
    #[error(
        "the index on disk has an incompatible schema ({0}); delete the index directory or run `duijie reindex`"
    )]
    Incompatible(String),
    /// The query could not be built (e.g. unknown filter value).
    #[error("invalid query: {0}")]
    Query(String),
    /// A filesystem problem.
    #[error("io: {0}")]
    Io(String),
    /// A thread panicked while holding the writer.
    #[error("index writer lock poisoned")]
    Poisoned,
    /// Any other tantivy error.
    #[error("tantivy: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}
