//! [`Store`]: the handle the rest of the code uses, with group commit.
//!
//! A durable commit costs one fsync (about 0.14 ms on a fast SSD, 1–10 ms on
//! ordinary disks), whatever it contains. So writes are not committed by the
//! thread that makes them: every write is queued to one writer thread, which
//! takes the first waiting request, drains whatever else has queued up
//! meanwhile (up to a cap), commits all of it in one engine transaction and
//! wakes each waiter with its own result. Under load the queue fills while
//! the previous fsync runs, so concurrent requests share one fsync without
//! any added latency (the writer never waits for a batch to fill); alone, a
//! write costs exactly one commit.
//!
//! One writer thread also means one write transaction at a time, which is
//! what redb allows anyway; reads go straight to the engine and run
//! concurrently with it.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{
    BatchRejected, Durability, Entries, KeyRange, KvEngine, RedbEngine, StoreError, WriteBatch,
};

/// How a [`Store`] commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Durability of every commit; [`Durability::Immediate`] unless
    /// benchmarking.
    pub durability: Durability,
    /// At most this many batches per engine transaction (a single
    /// `write_many` larger than this is still committed whole). Bounds the
    /// latency a large group adds to the writers in it.
    pub max_group: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durability: Durability::Immediate,
            max_group: 512,
        }
    }
}

impl StoreOptions {
    /// The defaults with another durability (to compare `Immediate` with
    /// `None` in a benchmark).
    pub fn with_durability(durability: Durability) -> Self {
        StoreOptions {
            durability,
            ..Self::default()
        }
    }
}

/// Counters of the writer thread, for tests, benchmarks and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Engine transactions committed.
    pub commits: u64,
    /// Batches processed in those transactions (applied or rejected).
    pub batches: u64,
    /// Batches rejected by a failed precondition.
    pub rejected: u64,
    /// The most batches committed in one transaction.
    pub largest_group: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    batches: AtomicU64,
    rejected: AtomicU64,
    largest_group: AtomicU64,
}

impl Counters {
    fn record(&self, results: &[Result<(), BatchRejected>]) {
        let n = results.len() as u64;
        let rejected = results.iter().filter(|r| r.is_err()).count() as u64;
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.batches.fetch_add(n, Ordering::Relaxed);
        self.rejected.fetch_add(rejected, Ordering::Relaxed);
        self.largest_group.fetch_max(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> StoreStats {
        StoreStats {
            commits: self.commits.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            largest_group: self.largest_group.load(Ordering::Relaxed),
        }
    }
}

type BatchResults = Vec<Result<(), BatchRejected>>;

/// One caller's batches and where to send their results.
struct Request {
    batches: Vec<WriteBatch>,
    reply: mpsc::SyncSender<Result<BatchResults, StoreError>>,
}

/// A cloneable handle on the store. Writes are durable when they return;
/// reads see every write that has returned.
///
/// Dropping the last handle stops the writer thread after it has committed
/// everything queued, then closes the engine (for redb, releasing the file).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Arc<dyn KvEngine>,
    /// `None` only while dropping: closing the channel is what tells the
    /// writer to finish.
    queue: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
    options: StoreOptions,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The writer drains the channel before it sees it closed, so every
        // queued request is committed before the join returns.
        drop(self.queue.take());
        if let Some(writer) = self.writer.take() {
            if writer.join().is_err() {
                tracing::error!("store writer thread had panicked");
            }
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("options", &self.inner.options)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A store over `engine` with durable commits.
    pub fn new(engine: Arc<dyn KvEngine>) -> Result<Store, StoreError> {
        Store::with_options(engine, StoreOptions::default())
    }

    /// A store over `engine` with the given options.
    pub fn with_options(
        engine: Arc<dyn KvEngine>,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        let (queue, requests) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let writer = {
            let engine = Arc::clone(&engine);
            let counters = Arc::clone(&counters);
            std::thread::Builder::new()
                .name("store-writer".into())
                .spawn(move || run_writer(&*engine, &requests, options, &counters))
                .map_err(|err| StoreError::io("spawn the store writer thread", err))?
        };
        Ok(Store {
            inner: Arc::new(Inner {
                engine,
                queue: Some(queue),
                writer: Some(writer),
                counters,
                options,
            }),
        })
    }

    /// Open (or create) the redb database at `path` with durable commits.
    /// Fails with [`StoreError::Locked`] if it is already open.
    pub fn open_redb(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_redb_with(path, StoreOptions::default())
    }

    /// Open (or create) the redb database at `path` with the given options.
    pub fn open_redb_with(
        path: impl AsRef<Path>,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        Store::with_options(Arc::new(RedbEngine::open(path)?), options)
    }

    /// A store in memory only, for tests of the crates above.
    pub fn in_memory() -> Result<Store, StoreError> {
        Store::new(Arc::new(RedbEngine::in_memory()?))
    }

    /// Commit `batch` and wait until it is durable.
    ///
    /// Returns [`StoreError::Conflict`] if one of its preconditions failed
    /// (then none of its writes were applied).
    pub fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut results = self.submit(vec![batch])?;
        match results.pop() {
            Some(result) => result.map_err(StoreError::from),
            None => Err(StoreError::Engine(
                "engine returned no result for the batch".into(),
            )),
        }
    }

    /// Commit several independent batches (each atomic on its own, together
    /// in one group) and wait until they are durable. One result per batch,
    /// in order; if the engine transaction failed, every slot holds that
    /// error.
    pub fn write_many(&self, batches: Vec<WriteBatch>) -> Vec<Result<(), StoreError>> {
        let n = batches.len();
        match self.submit(batches) {
            Ok(results) => results
                .into_iter()
                .map(|r| r.map_err(StoreError::from))
                .collect(),
            Err(err) => vec![Err(err); n],
        }
    }

    /// Queue `batch` for commit and return at once; [`PendingWrite::wait`]
    /// blocks until it is durable.
    ///
    /// The single writer commits in queue order, so callers that must commit
    /// in a fixed order (an append-only hash chain) enqueue under their own
    /// lock and wait after releasing it: order is kept and concurrent writers
    /// still share one fsync.
    pub fn enqueue(&self, batch: WriteBatch) -> Result<PendingWrite, StoreError> {
        let (reply, result) = mpsc::sync_channel(1);
        let queue = self.inner.queue.as_ref().ok_or(StoreError::Closed)?;
        queue
            .send(Request {
                batches: vec![batch],
                reply,
            })
            .map_err(|_| StoreError::Closed)?;
        Ok(PendingWrite { result })
    }

    fn submit(&self, batches: Vec<WriteBatch>) -> Result<BatchResults, StoreError> {
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        let expected = batches.len();
        let (reply, result) = mpsc::sync_channel(1);
        let queue = self.inner.queue.as_ref().ok_or(StoreError::Closed)?;
        queue
            .send(Request { batches, reply })
            .map_err(|_| StoreError::Closed)?;
        // A dropped reply sender means the writer died mid-commit.
        let results = result.recv().map_err(|_| StoreError::Closed)??;
        if results.len() != expected {
            return Err(StoreError::Engine(format!(
                "engine returned {} results for {expected} batches",
                results.len()
            )));
        }
        Ok(results)
    }

    /// The value under `key` in `table`.
    pub fn get(&self, table: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.engine.get(table, key)
    }

    /// Up to `limit` entries of `table` in `range`, ascending.
    pub fn scan(
        &self,
        table: &'static str,
        range: KeyRange,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.inner.engine.scan(table, range, limit)
    }

    /// Up to `limit` entries of `table` in `range`, descending.
    pub fn scan_rev(
        &self,
        table: &'static str,
        range: KeyRange,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.inner.engine.scan_rev(table, range, limit)
    }

    /// The greatest key of `table`.
    pub fn last_key(&self, table: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.engine.last_key(table)
    }

    /// The engine underneath.
    pub fn engine(&self) -> &Arc<dyn KvEngine> {
        &self.inner.engine
    }

    /// The options the store was opened with.
    pub fn options(&self) -> StoreOptions {
        self.inner.options
    }

    /// The writer's counters so far.
    pub fn stats(&self) -> StoreStats {
        self.inner.counters.snapshot()
    }
}

/// The writer thread: group, commit, reply, until every handle is gone.
/// The longest a durable commit waits for sibling writers (see `run_writer`).
const COMMIT_DELAY: std::time::Duration = std::time::Duration::from_micros(250);

fn run_writer(
    engine: &dyn KvEngine,
    requests: &mpsc::Receiver<Request>,
    options: StoreOptions,
    counters: &Counters,
) {
    let max_group = options.max_group.max(1);
    // A request that did not fit in the previous group opens the next one.
    let mut carried: Option<Request> = None;
    // How many requests the previous group held: a sign of how many writers are active.
    let mut previous_group = 1usize;
    loop {
        let first = match carried.take() {
            Some(request) => request,
            None => match requests.recv() {
                Ok(request) => request,
                // Every handle is gone and the queue is empty.
                Err(mpsc::RecvError) => break,
            },
        };
        let mut size = first.batches.len();
        let mut group = vec![first];
        while size < max_group {
            match requests.try_recv() {
                Ok(request) if size + request.batches.len() > max_group => {
                    carried = Some(request);
                    break;
                }
                Ok(request) => {
                    size += request.batches.len();
                    group.push(request);
                }
                // Empty: see below. Disconnected: the next recv() ends the loop.
                Err(_) => break,
            }
        }
        // Commit delay: when the last group showed several writers at work and a durable
        // commit (an fsync) is about to be paid, wait a moment for them, so one fsync
        // serves more requests. A lone writer never waits.
        if options.durability == Durability::Immediate && previous_group > 1 {
            let deadline = std::time::Instant::now() + COMMIT_DELAY;
            while group.len() < previous_group && size < max_group {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                match requests.recv_timeout(left) {
                    Ok(request) if size + request.batches.len() > max_group => {
                        carried = Some(request);
                        break;
                    }
                    Ok(request) => {
                        size += request.batches.len();
                        group.push(request);
                    }
                    Err(_) => break,
                }
            }
        }
        previous_group = group.len();
        commit_group(engine, options.durability, group, counters);
    }
    tracing::debug!("store writer stopped");
}

/// Commit the batches of `group` in one transaction and answer each request.
///
/// If that transaction fails, each request is retried in a transaction of
/// its own, so that one request the engine cannot take (say, a value too
/// large) fails alone instead of failing everyone grouped with it.
fn commit_group(
    engine: &dyn KvEngine,
    durability: Durability,
    group: Vec<Request>,
    counters: &Counters,
) {
    let mut batches = Vec::with_capacity(group.iter().map(|r| r.batches.len()).sum());
    let mut replies = Vec::with_capacity(group.len());
    for request in group {
        replies.push((request.batches.len(), request.reply));
        batches.extend(request.batches);
    }

    match engine.commit(&batches, durability) {
        Ok(results) if results.len() == batches.len() => {
            counters.record(&results);
            let mut results = results.into_iter();
            for (n, reply) in replies {
                // A waiter that went away needs no answer.
                let _ = reply.send(Ok(results.by_ref().take(n).collect()));
            }
        }
        Ok(results) => {
            let err = StoreError::Engine(format!(
                "engine returned {} results for {} batches",
                results.len(),
                batches.len()
            ));
            for (_, reply) in replies {
                let _ = reply.send(Err(err.clone()));
            }
        }
        Err(err) if replies.len() == 1 => {
            let _ = replies[0].1.send(Err(err));
        }
        Err(err) => {
            tracing::warn!(
                error = %err,
                requests = replies.len(),
                "group commit failed; committing its requests one by one"
            );
            let mut start = 0;
            for (n, reply) in replies {
                let own = &batches[start..start + n];
                start += n;
                let result = engine.commit(own, durability);
                if let Ok(results) = &result {
                    counters.record(results);
                }
                let _ = reply.send(result);
            }
        }
    }
}

/// A queued write; see [`Store::enqueue`].
#[must_use = "a queued write is only known durable once `wait` returns Ok"]
pub struct PendingWrite {
    result: mpsc::Receiver<Result<BatchResults, StoreError>>,
}

impl PendingWrite {
    /// Blocks until the batch is durably committed (or rejected).
    pub fn wait(self) -> Result<(), StoreError> {
        let mut results = self.result.recv().map_err(|_| StoreError::Closed)??;
        match results.pop() {
            Some(result) => result.map_err(StoreError::from),
            None => Err(StoreError::Engine(
                "engine returned no result for the batch".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::u64_key;

    const T: &str = "t";

    fn put(key: u64) -> WriteBatch {
        let mut b = WriteBatch::new();
        b.put(T, u64_key(key), key.to_le_bytes());
        b
    }

    #[test]
    fn concurrent_writers_share_commits() {
        const THREADS: u64 = 16;
        const PER_THREAD: u64 = 200;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_redb(dir.path().join("store.redb")).unwrap();

        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..PER_THREAD {
                        store.write(put(t << 32 | i)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }

        let total = THREADS * PER_THREAD;
        let stats = store.stats();
        println!("{stats:?}");
        assert_eq!(stats.batches, total);
        assert_eq!(stats.rejected, 0);
        // Sixteen writers each wait for their own commit, so a group holds up
        // to sixteen batches; demand at least an average of four.
        assert!(
            stats.commits * 4 <= total,
            "{} commits for {total} batches",
            stats.commits
        );
        assert!(stats.largest_group > 1);
        let all = store.scan(T, KeyRange::all(), usize::MAX).unwrap();
        assert_eq!(all.len() as u64, total);
        for t in 0..THREADS {
            for i in [0, PER_THREAD - 1] {
                let key = t << 32 | i;
                assert_eq!(
                    store.get(T, &u64_key(key)).unwrap(),
                    Some(key.to_le_bytes().to_vec())
                );
            }
        }
    }

    #[test]
    fn writes_survive_close_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        {
            let store = Store::open_redb(&path).unwrap();
            let clone = store.clone();
            for k in 0..50 {
                clone.write(put(k)).unwrap();
            }
            let results = store.write_many((50..100).map(put).collect());
            assert!(results.iter().all(Result::is_ok));
            // The file is still held while any handle lives.
            drop(store);
            assert!(matches!(
                Store::open_redb(&path),
                Err(StoreError::Locked { .. })
            ));
        }
        // The last handle is gone: the writer has stopped and the file is free.
        let store = Store::open_redb(&path).unwrap();
        assert_eq!(
            store.scan(T, KeyRange::all(), usize::MAX).unwrap().len(),
            100
        );
        assert_eq!(store.last_key(T).unwrap(), Some(u64_key(99).to_vec()));
    }

    #[test]
    fn rejected_batch_is_a_conflict_error() {
        let store = Store::in_memory().unwrap();
        let claim = |value: &[u8]| {
            let mut b = WriteBatch::new();
            b.require_absent("serials", vec![0xAB])
                .put("serials", vec![0xAB], value.to_vec());
            b
        };
        store.write(claim(b"1")).unwrap();
        match store.write(claim(b"2")) {
            Err(StoreError::Conflict { table, key }) => {
                assert_eq!(table, "serials");
                assert_eq!(key, "ab");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }

        let results = store.write_many(vec![claim(b"3"), put(1)]);
        assert!(matches!(results[0], Err(StoreError::Conflict { .. })));
        assert!(results[1].is_ok());
        assert_eq!(store.get("serials", &[0xAB]).unwrap(), Some(b"1".to_vec()));
        assert!(store.write_many(Vec::new()).is_empty());
        assert_eq!(store.stats().rejected, 2);
    }

    #[test]
    fn durability_none_is_honoured() {
        let store = Store::with_options(
            Arc::new(RedbEngine::in_memory().unwrap()),
            StoreOptions::with_durability(Durability::None),
        )
        .unwrap();
        store.write(put(7)).unwrap();
        assert!(store.get(T, &u64_key(7)).unwrap().is_some());
        assert_eq!(store.options().durability, Durability::None);
    }

    /// An engine that fails any transaction containing the key `poison`,
    /// or panics on the key `panic`.
    struct Picky(RedbEngine);

    impl KvEngine for Picky {
        fn get(&self, table: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.get(table, key)
        }
        fn scan(
            &self,
            table: &'static str,
            range: KeyRange,
            limit: usize,
        ) -> Result<Entries, StoreError> {
            self.0.scan(table, range, limit)
        }
        fn scan_rev(
            &self,
            table: &'static str,
            range: KeyRange,
            limit: usize,
        ) -> Result<Entries, StoreError> {
            self.0.scan_rev(table, range, limit)
        }
        fn last_key(&self, table: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.last_key(table)
        }
        fn commit(
            &self,
            batches: &[WriteBatch],
            durability: Durability,
        ) -> Result<BatchResults, StoreError> {
            let has = |needle: &[u8]| {
                batches.iter().flat_map(|b| b.ops()).any(|op| {
                    matches!(op, crate::store::WriteOp::Put { key, .. } if key.as_slice() == needle)
                })
            };
            assert!(!has(b"panic"), "engine bug");
            if has(b"poison") {
                return Err(StoreError::Engine("poisoned".into()));
            }
            self.0.commit(batches, durability)
        }
    }

    fn request(
        batches: Vec<WriteBatch>,
    ) -> (Request, mpsc::Receiver<Result<BatchResults, StoreError>>) {
        let (reply, rx) = mpsc::sync_channel(1);
        (Request { batches, reply }, rx)
    }

    #[test]
    fn failed_group_is_retried_request_by_request() {
        let engine = Picky(RedbEngine::in_memory().unwrap());
        let counters = Counters::default();
        let mut poison = WriteBatch::new();
        poison.put(T, b"poison".to_vec(), Vec::new());
        let (a, a_rx) = request(vec![put(1), put(2)]);
        let (b, b_rx) = request(vec![poison]);
        let (c, c_rx) = request(vec![put(3)]);
        commit_group(&engine, Durability::None, vec![a, b, c], &counters);

        assert_eq!(a_rx.recv().unwrap().unwrap(), vec![Ok(()), Ok(())]);
        assert!(matches!(b_rx.recv().unwrap(), Err(StoreError::Engine(_))));
        assert_eq!(c_rx.recv().unwrap().unwrap(), vec![Ok(())]);
        assert_eq!(
            engine.get(T, &u64_key(3)).unwrap(),
            Some(3u64.to_le_bytes().to_vec())
        );
        assert_eq!(counters.snapshot().commits, 2);
    }

    #[test]
    fn dead_writer_reports_closed() {
        let store = Store::new(Arc::new(Picky(RedbEngine::in_memory().unwrap()))).unwrap();
        let mut boom = WriteBatch::new();
        boom.put(T, b"panic".to_vec(), Vec::new());
        assert!(matches!(store.write(boom), Err(StoreError::Closed)));
        assert!(matches!(store.write(put(1)), Err(StoreError::Closed)));
        // Reads still work: they do not go through the writer.
        assert_eq!(store.get(T, &u64_key(1)).unwrap(), None);
    }
}
