//! Atomic write batches and their preconditions.
//!
//! A batch is the unit of atomicity the crates above see: a record and all
//! its secondary-index entries go in one batch, so an index never points at a
//! record that is not there. Preconditions are how uniqueness is enforced
//! without a read-modify-write race: "this serial number is not in the serial
//! index yet" is checked inside the engine transaction that writes it, after
//! every batch committed before it, so two requests that drew the same serial
//! cannot both win.

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Insert or overwrite `key` with `value`.
    Put {
        /// Table name.
        table: &'static str,
        /// Key bytes.
        key: Vec<u8>,
        /// Value bytes.
        value: Vec<u8>,
    },
    /// Remove `key` if present (removing an absent key is not an error).
    Delete {
        /// Table name.
        table: &'static str,
        /// Key bytes.
        key: Vec<u8>,
    },
}

/// A condition a batch needs to hold before any of its writes are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `key` must not exist in `table`.
    Absent {
        /// Table name.
        table: &'static str,
        /// Key bytes.
        key: Vec<u8>,
    },
    /// `key` must exist in `table`.
    Present {
        /// Table name.
        table: &'static str,
        /// Key bytes.
        key: Vec<u8>,
    },
}

impl Precondition {
    /// The table the precondition looks at.
    pub fn table(&self) -> &'static str {
        match self {
            Precondition::Absent { table, .. } | Precondition::Present { table, .. } => table,
        }
    }

    /// The key the precondition looks at.
    pub fn key(&self) -> &[u8] {
        match self {
            Precondition::Absent { key, .. } | Precondition::Present { key, .. } => key,
        }
    }

    /// Whether the precondition holds given whether the key exists.
    pub fn holds(&self, exists: bool) -> bool {
        match self {
            Precondition::Absent { .. } => !exists,
            Precondition::Present { .. } => exists,
        }
    }
}

/// Why an engine skipped a batch (the other batches of the same commit are
/// unaffected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchRejected {
    /// A precondition did not hold; this is the first one that failed.
    #[error("precondition failed in table {table} on key {}", hex::encode(key))]
    Conflict {
        /// Table of the failed precondition.
        table: &'static str,
        /// Key of the failed precondition.
        key: Vec<u8>,
    },
}

impl From<BatchRejected> for super::StoreError {
    fn from(rejected: BatchRejected) -> Self {
        match rejected {
            BatchRejected::Conflict { table, key } => super::StoreError::Conflict {
                table,
                key: hex::encode(key),
            },
        }
    }
}

/// A set of writes applied atomically, guarded by preconditions.
///
/// All preconditions are checked first, against the state that includes the
/// batches committed before this one in the same engine transaction; if one
/// fails, none of the writes is applied. Writes are applied in the order they
/// were added, so a later write to the same key wins.
///
/// ```
/// # use ca_core::store::WriteBatch;
/// let mut batch = WriteBatch::new();
/// batch
///     .require_absent("cert_by_serial", b"\x01\x02".to_vec())
///     .put("cert_by_serial", b"\x01\x02".to_vec(), Vec::new())
///     .put("certs", 7u64.to_be_bytes(), b"...".to_vec());
/// assert_eq!(batch.ops().len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<WriteOp>,
    preconditions: Vec<Precondition>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Insert or overwrite `key` in `table`.
    pub fn put(
        &mut self,
        table: &'static str,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.ops.push(WriteOp::Put {
            table,
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Remove `key` from `table` (no error if it is absent).
    pub fn delete(&mut self, table: &'static str, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(WriteOp::Delete {
            table,
            key: key.into(),
        });
        self
    }

    /// Apply the batch only if `key` does not exist in `table`.
    pub fn require_absent(&mut self, table: &'static str, key: impl Into<Vec<u8>>) -> &mut Self {
        self.preconditions.push(Precondition::Absent {
            table,
            key: key.into(),
        });
        self
    }

    /// Apply the batch only if `key` exists in `table`.
    pub fn require_present(&mut self, table: &'static str, key: impl Into<Vec<u8>>) -> &mut Self {
        self.preconditions.push(Precondition::Present {
            table,
            key: key.into(),
        });
        self
    }

    /// The writes, in the order they are applied.
    pub fn ops(&self) -> &[WriteOp] {
        &self.ops
    }

    /// The preconditions, in the order they are checked.
    pub fn preconditions(&self) -> &[Precondition] {
        &self.preconditions
    }

    /// Whether the batch has neither writes nor preconditions.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.preconditions.is_empty()
    }
}
