//! The durable store: a small typed-table layer over an embedded key-value
//! engine, with atomic batches, durable commits and group commit.
//!
//! Nothing here knows about certificates: each crate declares its own
//! [`Record`] types and [`Table`] / [`IndexTable`] constants on top of it.
//!
//! # Layers
//!
//! - [`KvEngine`] (`engine.rs`): the byte-level interface — get, ordered
//!   scans, last key, and `commit` of several [`WriteBatch`]es in one
//!   transaction. Small on purpose, so that a server-backed engine
//!   (PostgreSQL, for several gateway replicas) can be added later without
//!   touching anything above it.
//! - [`RedbEngine`] (`redb_engine.rs`): the default engine, one redb file.
//!   redb rather than sled, which the first sketch named: sled's flush is not
//!   durable on Linux (it uses `sync_file_range`, which flushes neither
//!   metadata nor the device cache; sled issue #1452) and sled has been
//!   unmaintained since 2021. A CA must not lose an issued certificate;
//!   redb has ACID transactions and a real fsync.
//! - [`Store`] (`group_commit.rs`): the cloneable handle. Writes join a queue;
//!   the first waiting writer that finds no commit in progress leads, and
//!   commits whatever has queued up in one durable transaction on its own
//!   thread, so concurrent requests share one fsync (group commit): a durable
//!   commit costs the same whether it carries one batch or hundreds, and
//!   "flush before answering" then does not cost throughput. A lone writer
//!   commits with no hand-off between threads.
//! - [`Table`], [`IndexTable`], [`Record`] (`codec.rs`): typed access. Values
//!   are a 2-byte schema version followed by CBOR, so a newer value is
//!   refused rather than misread and a later migration can dispatch on the
//!   version.
//! - [`keys`]: order-preserving key encodings and composite keys.
//!
//! # Atomicity and uniqueness
//!
//! A [`WriteBatch`] is applied entirely or not at all: a record and its
//! secondary-index entries go in one batch. A batch can carry preconditions
//! ("this key must be absent / present"), checked inside the engine
//! transaction against the state that includes every batch committed before
//! it. That is how uniqueness (of a serial number, an account key, a name)
//! holds under concurrency without locks: two batches claiming the same key
//! may be grouped in one transaction, and the second is rejected with
//! [`StoreError::Conflict`] while every other batch of the group still lands.

mod batch;
mod codec;
mod engine;
mod error;
mod group_commit;
pub mod keys;
mod range;
mod redb_engine;

pub use batch::{BatchRejected, Precondition, WriteBatch, WriteOp};
pub use codec::{decode, encode, schema_version, IndexTable, Record, Table};
pub use engine::{Durability, Entries, KvEngine};
pub use error::StoreError;
pub use group_commit::{PendingWrite, Store, StoreOptions, StoreStats};
pub use keys::{i64_key, u64_key, KeyBuilder, KeyReader};
pub use range::KeyRange;
pub use redb_engine::RedbEngine;
