//! The audit log: append-only and tamper-evident.
//!
//! Each entry carries the SHA-256 of the one before, so changing, removing or
//! reordering any entry on disk breaks the chain at that point, which
//! [`AuditLog::verify`] reports. An entry is written in the same atomic batch
//! as the change it records, and entries are enqueued to the store in
//! sequence order under a short lock (the store commits in queue order), so
//! the chain on disk has no gaps even after a crash while concurrent writers
//! still share one fsync.
//!
//! A batch that the store would reject (a precondition fails) must never get
//! a sequence number, or the entries chained after it would point at an entry
//! that never reached the disk. So preconditions are checked under the same
//! lock, against the committed state plus the writes of batches still in the
//! queue; a batch that would fail is refused before it is chained.
//!
//! What a hash chain cannot show on its own is the removal of the newest
//! entries: `verify` reports the head's sequence number and hash so that an
//! operator can record them elsewhere and compare.

use std::collections::HashMap;
use std::sync::Mutex;

use ca_core::store::keys::u64_from_key;
use ca_core::store::{
    IndexTable, KeyBuilder, KeyRange, Precondition, Record, Store, StoreError, Table, WriteBatch,
    WriteOp,
};
use serde::{Deserialize, Serialize};

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused by authorization or policy.
    Denied,
    /// Failed for another reason.
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// Unix time.
    pub at: i64,
    /// Who (an administrator's username, an ACME account, "system").
    pub actor: String,
    /// What, e.g. "request.approve".
    pub action: String,
    /// On what, e.g. "request:12", "certificate:40".
    pub object: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Free text.
    pub detail: String,
    /// The previous entry's hash (hex; 64 zeros for the first).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

impl Record for AuditEntry {
    const SCHEMA_VERSION: u16 = 1;
}

/// What a caller records; the log adds sequence, time and hashes.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub object: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Free text.
    pub detail: String,
}

impl AuditEvent {
    /// A successful action.
    pub fn success(actor: &str, action: &str, object: &str, detail: impl Into<String>) -> Self {
        Self {
            actor: actor.to_string(),
            action: action.to_string(),
            object: object.to_string(),
            outcome: Outcome::Success,
            detail: detail.into(),
        }
    }

    /// A refused action.
    pub fn denied(actor: &str, action: &str, object: &str, detail: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Denied,
            ..Self::success(actor, action, object, detail)
        }
    }
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at entry {seq}: {reason}")]
pub struct ChainBroken {
    /// The first entry that does not verify.
    pub seq: u64,
    /// Why.
    pub reason: String,
}

const ENTRIES: Table<AuditEntry> = Table::new("audit");
const BY_OBJECT: IndexTable = IndexTable::new("audit_by_object");
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry: SHA-256 over its fields, length-prefixed, and the previous hash.
pub fn entry_hash(entry: &AuditEntry) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(&entry.seq.to_be_bytes());
    ctx.update(&entry.at.to_be_bytes());
    for field in [
        entry.actor.as_str(),
        entry.action.as_str(),
        entry.object.as_str(),
        entry.outcome.as_str(),
        entry.detail.as_str(),
        entry.prev_hash.as_str(),
    ] {
        ctx.update(&(field.len() as u64).to_be_bytes());
        ctx.update(field.as_bytes());
    }
    hex::encode(ctx.finish().as_ref())
}

/// The chain's head and the keys written by batches still in the store's queue.
#[derive(Debug)]
struct Head {
    seq: u64,
    hash: String,
    /// (table, key) → (sequence number of the queued batch that wrote it, present after it).
    pending: HashMap<(&'static str, Vec<u8>), (u64, bool)>,
}

/// The audit log over the store.
#[derive(Debug)]
pub struct AuditLog {
    store: Store,
    head: Mutex<Head>,
}

impl AuditLog {
    /// Opens the log and finds its head.
    pub fn open(store: Store) -> Result<Self, StoreError> {
        let (seq, hash) = match ENTRIES.last_key(&store)?.and_then(|k| u64_from_key(&k)) {
            Some(seq) => {
                let last = ENTRIES
                    .get(&store, &KeyBuilder::new().u64(seq).build())?
                    .ok_or_else(|| StoreError::Engine("audit head vanished".into()))?;
                (seq, last.hash)
            }
            None => (0, GENESIS.to_string()),
        };
        Ok(Self {
            store,
            head: Mutex::new(Head {
                seq,
                hash,
                pending: HashMap::new(),
            }),
        })
    }

    /// Appends `event` to `batch` and commits the batch durably (the change and its record together).
    pub fn commit_with(
        &self,
        mut batch: WriteBatch,
        event: AuditEvent,
    ) -> Result<AuditEntry, StoreError> {
        let (pending, entry) = {
            let mut head = self.head.lock().unwrap_or_else(|e| e.into_inner());
            for precondition in batch.preconditions() {
                let (table, key, want_present) = match precondition {
                    Precondition::Absent { table, key } => (*table, key, false),
                    Precondition::Present { table, key } => (*table, key, true),
                };
                let present = match head.pending.get(&(table, key.clone())) {
                    Some((_, present)) => *present,
                    None => self.store.get(table, key)?.is_some(),
                };
                if present != want_present {
                    return Err(StoreError::Conflict {
                        table,
                        key: hex::encode(key),
                    });
                }
            }
            let mut entry = AuditEntry {
                seq: head.seq + 1,
                at: time::OffsetDateTime::now_utc().unix_timestamp(),
                actor: event.actor,
                action: event.action,
                object: event.object,
                outcome: event.outcome,
                detail: event.detail,
                prev_hash: head.hash.clone(),
                hash: String::new(),
            };
            entry.hash = entry_hash(&entry);
            let key = KeyBuilder::new().u64(entry.seq).build();
            ENTRIES.require_absent(&mut batch, &key);
            ENTRIES.put(&mut batch, &key, &entry)?;
            BY_OBJECT.insert(
                &mut batch,
                &KeyBuilder::new().str(&entry.object).u64(entry.seq).build(),
            );
            for op in batch.ops() {
                let (table, key, present) = match op {
                    WriteOp::Put { table, key, .. } => (*table, key.clone(), true),
                    WriteOp::Delete { table, key } => (*table, key.clone(), false),
                };
                head.pending.insert((table, key), (entry.seq, present));
            }
            let pending = self.store.enqueue(batch)?;
            // The head moves only once the write is queued, in order.
            head.seq = entry.seq;
            head.hash = entry.hash.clone();
            (pending, entry)
        };
        let result = pending.wait();
        let mut head = self.head.lock().unwrap_or_else(|e| e.into_inner());
        head.pending.retain(|_, (owner, _)| *owner != entry.seq);
        match result {
            Ok(()) => Ok(entry),
            Err(e) => {
                // Only a writer outside the audit path (or a failing disk) gets here.
                if head.seq == entry.seq {
                    head.seq = entry.seq - 1;
                    head.hash = entry.prev_hash.clone();
                } else {
                    tracing::error!(seq = entry.seq, error = %e, "an audited write failed after later entries were chained to it");
                }
                Err(e)
            }
        }
    }

    /// Records an event on its own (a login, a refusal).
    pub fn record(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.commit_with(WriteBatch::new(), event)
    }

    /// Entries after `after_seq`, oldest first.
    pub fn list(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let range =
            KeyRange::starting_at(KeyBuilder::new().u64(after_seq.saturating_add(1)).build());
        Ok(ENTRIES
            .scan(&self.store, range, limit)?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    /// Entries about one object, oldest first.
    pub fn for_object(&self, object: &str, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let keys =
            BY_OBJECT.scan_keys(&self.store, KeyBuilder::new().str(object).prefix(), limit)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let seq = u64_from_key(&key[key.len() - 8..]).unwrap_or(0);
            if let Some(entry) = ENTRIES.get(&self.store, &KeyBuilder::new().u64(seq).build())? {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// One entry by sequence number.
    pub fn entry(&self, seq: u64) -> Result<Option<AuditEntry>, StoreError> {
        ENTRIES.get(&self.store, &KeyBuilder::new().u64(seq).build())
    }

    /// Walks the whole chain; returns the number of entries when intact.
    pub fn verify(&self) -> Result<Result<u64, ChainBroken>, StoreError> {
        let mut prev = GENESIS.to_string();
        let mut expected_seq = 1;
        let mut after = 0;
        loop {
            let batch = self.list(after, 1024)?;
            if batch.is_empty() {
                return Ok(Ok(expected_seq - 1));
            }
            for entry in batch {
                let broken = |reason: String| {
                    Ok(Err(ChainBroken {
                        seq: entry.seq,
                        reason,
                    }))
                };
                if entry.seq != expected_seq {
                    return broken(format!(
                        "expected entry {expected_seq}, found {}",
                        entry.seq
                    ));
                }
                if entry.prev_hash != prev {
                    return broken("it does not point at the previous entry".into());
                }
                if entry_hash(&entry) != entry.hash {
                    return broken(
                        "its content does not match its hash (changed after it was written)".into(),
                    );
                }
                prev = entry.hash.clone();
                expected_seq += 1;
                after = entry.seq;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_verifies_and_a_changed_entry_is_detected() {
        let store = Store::in_memory().unwrap();
        let log = AuditLog::open(store.clone()).unwrap();
        for i in 0..5 {
            log.record(AuditEvent::success(
                "alice",
                "org.create",
                &format!("org:{i}"),
                "",
            ))
            .unwrap();
        }
        assert_eq!(log.verify().unwrap(), Ok(5));
        assert_eq!(log.for_object("org:3", 10).unwrap().len(), 1);

        // Change entry 3 behind the log's back, keeping its stored hash.
        let key = KeyBuilder::new().u64(3).build();
        let mut entry = ENTRIES.get(&store, &key).unwrap().unwrap();
        entry.detail = "nothing to see".into();
        let mut batch = WriteBatch::new();
        ENTRIES.put(&mut batch, &key, &entry).unwrap();
        store.write(batch).unwrap();
        let broken = log.verify().unwrap().unwrap_err();
        assert_eq!(broken.seq, 3);

        // A reopened log continues the chain from its head.
        let reopened = AuditLog::open(store).unwrap();
        let next = reopened
            .record(AuditEvent::success("bob", "login", "admin:2", ""))
            .unwrap();
        assert_eq!(next.seq, 6);
    }
}
