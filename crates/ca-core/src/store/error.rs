//! The one error type of the store.
//!
//! `StoreError` is `Clone` on purpose: one failed group commit has to be
//! reported to every writer whose batch was in it, so the same error is
//! handed to several threads. That is why the I/O source sits in an `Arc`.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong in the store.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the store was doing, e.g. `open database /var/lib/ca/ca.redb`.
        context: String,
        /// The underlying error.
        #[source]
        source: Arc<io::Error>,
    },

    /// The storage engine reported an error; the message says what the store
    /// was doing and what the engine said.
    #[error("storage engine: {0}")]
    Engine(String),

    /// Another process (or another handle in this process) already has the
    /// database open. The embedded store is held by exactly one process.
    #[error("database {} is already open in another process", path.display())]
    Locked {
        /// The database file.
        path: PathBuf,
    },

    /// A batch precondition (`require_absent` / `require_present`) did not
    /// hold, so none of the batch's writes were applied.
    #[error("write conflict in table {table} on key {key}")]
    Conflict {
        /// The table the failed precondition names.
        table: &'static str,
        /// The key, hex-encoded.
        key: String,
    },

    /// A value could not be encoded or decoded.
    #[error("codec error in table {table}: {reason}")]
    Codec {
        /// The table the value belongs to.
        table: &'static str,
        /// What went wrong.
        reason: String,
    },

    /// A stored value was written by a newer schema than this build knows;
    /// reading it would silently drop or misread fields.
    #[error(
        "value in table {table} has schema version {found}, this build supports up to {supported}"
    )]
    SchemaVersion {
        /// The table the value belongs to.
        table: &'static str,
        /// The version found in the value.
        found: u16,
        /// The newest version this build understands.
        supported: u16,
    },

    /// The store's engine panicked during a commit; no write can be
    /// committed any more.
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    /// An `Io` error with a description of what the store was doing.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        StoreError::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }

    /// An `Engine` error: `context` says what the store was doing, `err` is
    /// the engine's own error.
    pub fn engine(context: impl std::fmt::Display, err: impl std::fmt::Display) -> Self {
        StoreError::Engine(format!("{context}: {err}"))
    }
}
