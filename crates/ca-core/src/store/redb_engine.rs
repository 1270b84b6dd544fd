//! [`KvEngine`] on redb, the default engine: one file, ACID transactions,
//! a real fsync on commit.
//!
//! Every table is a `redb::TableDefinition<&[u8], &[u8]>`; typing happens a
//! layer up (see `codec.rs`), so redb never sees a Rust type that could
//! change shape between releases.
//!
//! Locking: redb's default concurrency mode (`ExclusiveWriter`) takes an
//! open-file-description lock on the whole file, so a second open — from
//! another process or from this one — fails with `DatabaseAlreadyOpen`,
//! which is reported as [`StoreError::Locked`]. The test
//! `second_process_gets_locked` checks this across processes, which is why
//! no sidecar lock file is needed.

use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

use redb::{
    Database, DatabaseError, ReadableDatabase, ReadableTable, StorageError, TableDefinition,
    TableError, WriteTransaction,
};

use super::{
    BatchRejected, Durability, Entries, KeyRange, KvEngine, StoreError, WriteBatch, WriteOp,
};

/// Byte-keyed, byte-valued table: the only kind the store creates.
type RawTableDef = TableDefinition<'static, &'static [u8], &'static [u8]>;
type RawTable<'txn> = redb::Table<'txn, &'static [u8], &'static [u8]>;

fn table_def(name: &'static str) -> RawTableDef {
    TableDefinition::new(name)
}

/// A redb database file (or an in-memory redb database, for tests).
pub struct RedbEngine {
    db: Database,
    /// `None` for an in-memory database.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for RedbEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbEngine")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RedbEngine {
    /// Open the database at `path`, creating the file if it does not exist
    /// (its directory must exist).
    ///
    /// Fails with [`StoreError::Locked`] if the database is already open,
    /// in this process or another.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let db = Database::create(path).map_err(|err| open_error(path, err))?;
        tracing::debug!(path = %path.display(), "opened redb store");
        Ok(RedbEngine {
            db,
            path: Some(path.to_path_buf()),
        })
    }

    /// A fresh database held in memory only: for tests of the crates above,
    /// which then need no temporary files.
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|err| StoreError::engine("create in-memory database", err))?;
        Ok(RedbEngine { db, path: None })
    }

    /// The database file, or `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Run `f` on the table `name` as of the latest commit, or return `empty`
    /// if the table was never created.
    fn read_table<T>(
        &self,
        name: &'static str,
        empty: T,
        f: impl FnOnce(redb::ReadOnlyTable<&'static [u8], &'static [u8]>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self
            .db
            .begin_read()
            .map_err(|err| StoreError::engine("begin read transaction", err))?;
        match txn.open_table(table_def(name)) {
            Ok(table) => f(table),
            Err(TableError::TableDoesNotExist(_)) => Ok(empty),
            Err(err) => Err(StoreError::engine(format_args!("open table {name}"), err)),
        }
    }

    fn scan_dir(
        &self,
        name: &'static str,
        range: KeyRange,
        limit: usize,
        reverse: bool,
    ) -> Result<Entries, StoreError> {
        // redb takes no inverted range; an empty answer is the right one.
        if limit == 0 || range.is_empty() {
            return Ok(Vec::new());
        }
        self.read_table(name, Vec::new(), |table| {
            let ctx = || format!("scan table {name}");
            let iter = table
                .range::<&[u8]>(range.as_slices())
                .map_err(|err| StoreError::engine(ctx(), err))?;
            let iter: Box<dyn Iterator<Item = _>> = if reverse {
                Box::new(iter.rev())
            } else {
                Box::new(iter)
            };
            iter.take(limit)
                .map(|item| {
                    let (k, v) = item.map_err(|err| StoreError::engine(ctx(), err))?;
                    Ok((k.value().to_vec(), v.value().to_vec()))
                })
                .collect()
        })
    }
}

fn open_error(path: &Path, err: DatabaseError) -> StoreError {
    match err {
        // A lock-protocol mismatch also means another process holds the
        // file (with another redb release); to the operator it is the same.
        DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
            StoreError::Locked {
                path: path.to_path_buf(),
            }
        }
        DatabaseError::Storage(StorageError::Io(io)) => {
            StoreError::io(format!("open database {}", path.display()), io)
        }
        other => StoreError::engine(format_args!("open database {}", path.display()), other),
    }
}

/// The table `name` opened in `txn`, reusing an already opened handle:
/// redb refuses to open one table twice in a transaction.
fn open_table<'m, 'txn>(
    txn: &'txn WriteTransaction,
    tables: &'m mut HashMap<&'static str, RawTable<'txn>>,
    name: &'static str,
) -> Result<&'m mut RawTable<'txn>, StoreError> {
    match tables.entry(name) {
        Entry::Occupied(entry) => Ok(entry.into_mut()),
        Entry::Vacant(entry) => {
            let table = txn
                .open_table(table_def(name))
                .map_err(|err| StoreError::engine(format_args!("open table {name}"), err))?;
            Ok(entry.insert(table))
        }
    }
}

/// Check `batch`'s preconditions and, if they hold, apply its writes.
fn apply_batch<'txn>(
    txn: &'txn WriteTransaction,
    tables: &mut HashMap<&'static str, RawTable<'txn>>,
    batch: &WriteBatch,
) -> Result<Result<(), BatchRejected>, StoreError> {
    for pre in batch.preconditions() {
        let table = open_table(txn, tables, pre.table())?;
        let exists = table
            .get(pre.key())
            .map_err(|err| StoreError::engine(format_args!("read table {}", pre.table()), err))?
            .is_some();
        if !pre.holds(exists) {
            return Ok(Err(BatchRejected::Conflict {
                table: pre.table(),
                key: pre.key().to_vec(),
            }));
        }
    }
    for op in batch.ops() {
        match op {
            WriteOp::Put { table, key, value } => {
                open_table(txn, tables, table)?
                    .insert(key.as_slice(), value.as_slice())
                    .map_err(|err| StoreError::engine(format_args!("write table {table}"), err))?;
            }
            WriteOp::Delete { table, key } => {
                open_table(txn, tables, table)?
                    .remove(key.as_slice())
                    .map_err(|err| {
                        StoreError::engine(format_args!("delete from table {table}"), err)
                    })?;
            }
        }
    }
    Ok(Ok(()))
}

impl KvEngine for RedbEngine {
    fn get(&self, table: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_table(table, None, |t| {
            Ok(t.get(key)
                .map_err(|err| StoreError::engine(format_args!("read table {table}"), err))?
                .map(|v| v.value().to_vec()))
        })
    }

    fn scan(
        &self,
        table: &'static str,
        range: KeyRange,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.scan_dir(table, range, limit, false)
    }

    fn scan_rev(
        &self,
        table: &'static str,
        range: KeyRange,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.scan_dir(table, range, limit, true)
    }

    fn last_key(&self, table: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_table(table, None, |t| {
            Ok(t.last()
                .map_err(|err| StoreError::engine(format_args!("read table {table}"), err))?
                .map(|(k, _)| k.value().to_vec()))
        })
    }

    fn commit(
        &self,
        batches: &[WriteBatch],
        durability: Durability,
    ) -> Result<Vec<Result<(), BatchRejected>>, StoreError> {
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        let mut txn = self
            .db
            .begin_write()
            .map_err(|err| StoreError::engine("begin write transaction", err))?;
        txn.set_durability(match durability {
            Durability::Immediate => redb::Durability::Immediate,
            Durability::None => redb::Durability::None,
        })
        .map_err(|err| StoreError::engine("set durability", err))?;

        let applied = {
            // The table handles borrow the transaction: they must be gone
            // before it is committed or aborted.
            let mut tables = HashMap::new();
            batches
                .iter()
                .map(|batch| apply_batch(&txn, &mut tables, batch))
                .collect::<Result<Vec<_>, _>>()
        };
        match applied {
            Ok(results) => {
                txn.commit()
                    .map_err(|err| StoreError::engine("commit", err))?;
                Ok(results)
            }
            Err(err) => {
                if let Err(abort_err) = txn.abort() {
                    tracing::warn!(error = %abort_err, "aborting a failed write transaction");
                }
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "t";
    const U: &str = "u";

    fn temp_engine() -> (tempfile::TempDir, RedbEngine) {
        let dir = tempfile::tempdir().unwrap();
        let engine = RedbEngine::open(dir.path().join("store.redb")).unwrap();
        (dir, engine)
    }

    fn put(table: &'static str, key: &[u8], value: &[u8]) -> WriteBatch {
        let mut b = WriteBatch::new();
        b.put(table, key.to_vec(), value.to_vec());
        b
    }

    #[test]
    fn missing_table_reads_empty() {
        let (_dir, engine) = temp_engine();
        assert_eq!(engine.get("never", b"k").unwrap(), None);
        assert!(engine
            .scan("never", KeyRange::all(), 10)
            .unwrap()
            .is_empty());
        assert!(engine
            .scan_rev("never", KeyRange::all(), 10)
            .unwrap()
            .is_empty());
        assert_eq!(engine.last_key("never").unwrap(), None);
    }

    #[test]
    fn failed_precondition_skips_only_its_batch() {
        let (_dir, engine) = temp_engine();
        engine
            .commit(&[put(T, b"taken", b"0")], Durability::Immediate)
            .unwrap();

        let ok1 = put(T, b"a", b"1");
        let mut rejected = WriteBatch::new();
        rejected
            .put(U, b"idx".to_vec(), Vec::new())
            .put(T, b"b".to_vec(), b"2".to_vec())
            .require_absent(T, b"taken".to_vec());
        let mut ok2 = put(T, b"c", b"3");
        ok2.require_present(T, b"taken".to_vec());

        let results = engine
            .commit(&[ok1, rejected, ok2], Durability::Immediate)
            .unwrap();
        assert_eq!(results[0], Ok(()));
        assert_eq!(
            results[1],
            Err(BatchRejected::Conflict {
                table: T,
                key: b"taken".to_vec()
            })
        );
        assert_eq!(results[2], Ok(()));

        assert_eq!(engine.get(T, b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(engine.get(T, b"b").unwrap(), None);
        assert_eq!(engine.get(U, b"idx").unwrap(), None);
        assert_eq!(engine.get(T, b"c").unwrap(), Some(b"3".to_vec()));
    }

    #[test]
    fn preconditions_see_earlier_batches_of_the_same_commit() {
        let (_dir, engine) = temp_engine();
        // Two requests that drew the same unique key: the first one wins.
        let claim = |value: &[u8]| {
            let mut b = put(T, b"serial", value);
            b.require_absent(T, b"serial".to_vec());
            b
        };
        let mut needs_first = put(U, b"x", b"y");
        needs_first.require_present(T, b"serial".to_vec());
        let results = engine
            .commit(
                &[claim(b"first"), claim(b"second"), needs_first],
                Durability::None,
            )
            .unwrap();
        assert_eq!(results[0], Ok(()));
        assert!(results[1].is_err());
        assert_eq!(results[2], Ok(()));
        assert_eq!(engine.get(T, b"serial").unwrap(), Some(b"first".to_vec()));
        assert_eq!(engine.get(U, b"x").unwrap(), Some(b"y".to_vec()));
    }

    #[test]
    fn scans_delete_and_last_key() {
        let engine = RedbEngine::in_memory().unwrap();
        let mut b = WriteBatch::new();
        for k in [[1u8, 1], [1, 2], [1, 0xFF], [2, 0], [0, 9]] {
            b.put(T, k.to_vec(), vec![k[1]]);
        }
        engine.commit(&[b], Durability::Immediate).unwrap();

        let keys = |v: Entries| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            keys(
                engine
                    .scan(T, KeyRange::prefix(vec![1]), usize::MAX)
                    .unwrap()
            ),
            vec![vec![1, 1], vec![1, 2], vec![1, 0xFF]]
        );
        assert_eq!(
            keys(engine.scan_rev(T, KeyRange::prefix(vec![1]), 2).unwrap()),
            vec![vec![1, 0xFF], vec![1, 2]]
        );
        assert_eq!(
            keys(engine.scan(T, KeyRange::all(), 2).unwrap()),
            vec![vec![0, 9], vec![1, 1]]
        );
        assert!(engine
            .scan(T, KeyRange::between(vec![3], vec![1]), 9)
            .unwrap()
            .is_empty());
        assert!(engine.scan(T, KeyRange::all(), 0).unwrap().is_empty());
        assert_eq!(engine.last_key(T).unwrap(), Some(vec![2, 0]));

        let mut d = WriteBatch::new();
        d.delete(T, vec![2, 0]).delete(T, vec![7, 7]);
        engine.commit(&[d], Durability::Immediate).unwrap();
        assert_eq!(engine.last_key(T).unwrap(), Some(vec![1, 0xFF]));
    }

    #[test]
    fn second_open_in_process_is_locked() {
        let (dir, _engine) = temp_engine();
        let path = dir.path().join("store.redb");
        match RedbEngine::open(&path) {
            Err(StoreError::Locked { path: p }) => assert_eq!(p, path),
            other => panic!("expected Locked, got {other:?}"),
        }
    }

    const PROBE_ENV: &str = "CERTWRIGHT_STORE_LOCK_PROBE";
    const PROBE_TEST: &str = "store::redb_engine::tests::lock_probe_child";

    /// Run in a child process by `second_process_gets_locked`: tries to open
    /// the database named by the environment and reports what happened.
    /// Without the environment variable (a normal test run) it does nothing.
    #[test]
    fn lock_probe_child() {
        let Some(path) = std::env::var_os(PROBE_ENV) else {
            return;
        };
        match RedbEngine::open(PathBuf::from(path)) {
            Ok(_) => println!("LOCK-PROBE: opened"),
            Err(StoreError::Locked { .. }) => println!("LOCK-PROBE: locked"),
            Err(other) => println!("LOCK-PROBE: error {other}"),
        }
    }

    /// Re-runs this test binary, filtered to `lock_probe_child`, against `path`.
    fn probe_from_another_process(path: &Path) -> String {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([PROBE_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(PROBE_ENV, path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "probe failed: {stdout}");
        stdout
            .lines()
            // libtest prints the test name on the same line, before the output.
            .find_map(|l| l.split_once("LOCK-PROBE: ").map(|(_, result)| result))
            .unwrap_or_else(|| panic!("probe printed no result: {stdout}"))
            .to_string()
    }

    #[test]
    fn second_process_gets_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let engine = RedbEngine::open(&path).unwrap();
        assert_eq!(probe_from_another_process(&path), "locked");
        // And the lock goes with the handle: then the other process may open it.
        drop(engine);
        assert_eq!(probe_from_another_process(&path), "opened");
    }
}
