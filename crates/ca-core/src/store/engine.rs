//! The byte-level engine interface.
//!
//! Deliberately small and byte-oriented so that an engine backed by a server
//! (PostgreSQL, for several gateway replicas) can be added later without
//! touching the typed layer or the crates above it. Tables are named by
//! `&'static str` because every table is declared as a constant in the code
//! that owns it; there are no dynamic table names.

use super::{BatchRejected, KeyRange, StoreError, WriteBatch};

/// Key-value pairs as returned by a scan, in scan order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// When a commit counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// On stable storage (fsync'd) before `commit` returns. The only level
    /// for production: the CA tells clients "issued" only after this.
    #[default]
    Immediate,
    /// Visible to later reads but possibly lost on a crash. For benchmarks
    /// and tests only.
    None,
}

/// A transactional, ordered key-value engine with named tables.
///
/// Keys and values are opaque bytes; keys are ordered as unsigned bytes.
/// Reads see the latest committed state. A table that was never written to
/// reads as empty.
pub trait KvEngine: Send + Sync + 'static {
    /// The value stored under `key`, if any.
    fn get(&self, table: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` entries in `range`, in ascending key order.
    fn scan(
        &self,
        table: &'static str,
        range: KeyRange,
        limit: usize,
    ) -> Result<Entries, StoreError>;

    /// Up to `limit` entries in `range`, in descending key order (the newest
    /// first, for keys that grow with time).
    fn scan_rev(
        &self,
        table: &'static str,
        range: KeyRange,
        limit: usize,
    ) -> Result<Entries, StoreError>;

    /// The greatest key of `table`, to resume an id sequence at startup.
    fn last_key(&self, table: &'static str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Apply `batches` in one engine transaction, each batch atomically.
    ///
    /// Batches are processed in order. A batch's preconditions are checked
    /// against the state that includes the batches applied before it in this
    /// transaction; if one fails the batch is skipped entirely and its slot
    /// in the result is `Err(BatchRejected)`, while the other batches are
    /// still applied. The result has one entry per batch, in order.
    ///
    /// An `Err(StoreError)` means the whole transaction failed and nothing
    /// was applied. With [`Durability::Immediate`] the transaction is on
    /// stable storage before this returns.
    fn commit(
        &self,
        batches: &[WriteBatch],
        durability: Durability,
    ) -> Result<Vec<Result<(), BatchRejected>>, StoreError>;
}
