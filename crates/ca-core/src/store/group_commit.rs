//! [`Store`]: the handle the rest of the code uses, with group commit.
//!
//! A durable commit costs one fsync (about 0.14 ms on a fast SSD, 1–10 ms on
//! ordinary disks), whatever it contains, and an engine transaction has a
//! fixed cost of its own. So writes are grouped: every write joins a queue,
//! and the first waiting writer that finds no commit in progress becomes the
//! leader — it takes the queue (up to a cap), commits all of it in one engine
//! transaction on its own thread, and wakes each follower with its own
//! result. Under load the queue fills while the previous commit runs, so
//! concurrent requests share one fsync without any added latency; alone, a
//! write costs exactly one commit and no hand-off between threads.
//!
//! Why a leader rather than a dedicated writer thread (the first design): on
//! this kind of machine handing each write to another thread and back cost
//! about 100 µs of wake-ups, more than the commit itself, while a leader
//! commits on the thread that is already running.
//!
//! One commit at a time is what redb allows anyway; reads go straight to the
//! engine and run concurrently with it.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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

/// Counters of the commits, for tests, benchmarks and metrics.
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

/// One caller's batches, waiting for a leader to commit them.
struct Queued {
    ticket: u64,
    batches: Vec<WriteBatch>,
    slot: Arc<Slot>,
    /// Its writer is waiting for it (and so can be handed the lead).
    parked: bool,
}

/// Where one request's result, or the lead, is handed to its writer: each writer is
/// woken alone, not every writer at every commit.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    wake: Condvar,
}

#[derive(Default)]
struct SlotState {
    result: Option<Result<BatchResults, StoreError>>,
    /// The previous leader has handed this writer the lead.
    lead: bool,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self, result: Result<BatchResults, StoreError>) {
        self.lock().result = Some(result);
        self.wake.notify_one();
    }

    fn hand_lead(&self) {
        self.lock().lead = true;
        self.wake.notify_one();
    }
}

/// What the writers share, under one mutex.
#[derive(Default)]
struct Queue {
    next_ticket: u64,
    /// Not yet taken by a leader, in arrival order (which is commit order).
    waiting: VecDeque<Queued>,
    /// Some writer leads: it is committing a group, or has been handed the lead.
    leading: bool,
    /// A leader is waiting a moment for more writers (see [`COMMIT_DELAY`]).
    delaying: bool,
    /// How many requests the previous group held: a sign of how many writers are active.
    previous_group: usize,
    /// The engine panicked during a commit: nothing more is written.
    broken: bool,
}

/// A cloneable handle on the store. Writes are durable when they return;
/// reads see every write that has returned.
///
/// Dropping the last handle (and every [`PendingWrite`]) commits whatever is
/// still queued, then closes the engine (for redb, releasing the file).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Arc<dyn KvEngine>,
    queue: Mutex<Queue>,
    /// Signalled when a request joins the queue while a leader is delaying.
    arrived: Condvar,
    counters: Counters,
    options: StoreOptions,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Only a forgotten PendingWrite leaves anything queued; commit it anyway.
        let queue = self.queue.get_mut().unwrap_or_else(|e| e.into_inner());
        let group: Vec<Queued> = queue.waiting.drain(..).collect();
        if !group.is_empty() && !queue.broken {
            let _ = commit_group(
                &*self.engine,
                self.options.durability,
                group,
                &self.counters,
            );
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
        Ok(Store {
            inner: Arc::new(Inner {
                engine,
                queue: Mutex::new(Queue {
                    previous_group: 1,
                    ..Queue::default()
                }),
                arrived: Condvar::new(),
                counters: Counters::default(),
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
    /// Requests are committed in queue order, so callers that must commit in
    /// a fixed order (an append-only hash chain) enqueue under their own lock
    /// and wait after releasing it: order is kept and concurrent writers
    /// still share one fsync. A pending write that is dropped unwaited is
    /// still committed (by its drop, or by whichever writer leads next).
    pub fn enqueue(&self, batch: WriteBatch) -> Result<PendingWrite, StoreError> {
        let (ticket, slot) = self.inner.join(vec![batch])?;
        Ok(PendingWrite {
            inner: Some(Arc::clone(&self.inner)),
            ticket,
            slot,
        })
    }

    fn submit(&self, batches: Vec<WriteBatch>) -> Result<BatchResults, StoreError> {
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        let expected = batches.len();
        let (ticket, slot) = self.inner.join(batches)?;
        let results = self.inner.wait_for(ticket, &slot)?;
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

/// The longest a durable commit waits for sibling writers (see [`Inner::take_group`]).
const COMMIT_DELAY: Duration = Duration::from_micros(250);

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a request to the queue; its slot receives the result.
    fn join(&self, batches: Vec<WriteBatch>) -> Result<(u64, Arc<Slot>), StoreError> {
        let mut queue = self.lock();
        if queue.broken {
            return Err(StoreError::Closed);
        }
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        let slot = Arc::new(Slot::default());
        queue.waiting.push_back(Queued {
            ticket,
            batches,
            slot: Arc::clone(&slot),
            parked: false,
        });
        if queue.delaying {
            self.arrived.notify_one();
        }
        Ok((ticket, slot))
    }

    /// Waits for `ticket`'s result in `slot`, leading commits while no one else does.
    fn wait_for(&self, ticket: u64, slot: &Slot) -> Result<BatchResults, StoreError> {
        loop {
            {
                let mut queue = self.lock();
                if let Some(result) = slot.lock().result.take() {
                    return result;
                }
                if queue.broken {
                    return Err(StoreError::Closed);
                }
                if !queue.leading {
                    queue.leading = true;
                    self.lead(queue);
                    continue;
                }
                if let Some(queued) = queue.waiting.iter_mut().find(|q| q.ticket == ticket) {
                    queued.parked = true;
                }
            }
            let mut state = slot.lock();
            while state.result.is_none() && !state.lead {
                state = slot.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            if let Some(result) = state.result.take() {
                return result;
            }
            state.lead = false;
            drop(state);
            // Handed the lead (`leading` stays set for us).
            let queue = self.lock();
            self.lead(queue);
        }
    }

    /// Commits the next group as the leader, then hands the lead to a waiting writer
    /// whose request is still queued, or gives it up.
    fn lead(&self, queue: MutexGuard<'_, Queue>) {
        let (queue, group) = self.take_group(queue);
        let size = group.len();
        drop(queue);
        let slots: Vec<(u64, Arc<Slot>)> = group
            .iter()
            .map(|q| (q.ticket, Arc::clone(&q.slot)))
            .collect();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            commit_group(
                &*self.engine,
                self.options.durability,
                group,
                &self.counters,
            )
        }));
        let mut queue = self.lock();
        match outcome {
            Ok(results) => {
                let mut results: HashMap<u64, _> = results.into_iter().collect();
                for (ticket, slot) in slots {
                    let result = results.remove(&ticket).unwrap_or_else(|| {
                        Err(StoreError::Engine("no result for a grouped request".into()))
                    });
                    slot.finish(result);
                }
            }
            Err(_) => {
                // The engine's state after a panic is unknown: write nothing more.
                tracing::error!("the store engine panicked during a commit");
                queue.broken = true;
                for (_, slot) in slots {
                    slot.finish(Err(StoreError::Closed));
                }
                for queued in queue.waiting.drain(..) {
                    queued.slot.finish(Err(StoreError::Closed));
                }
            }
        }
        queue.previous_group = size;
        match queue.waiting.iter().find(|q| q.parked) {
            Some(next) => next.slot.hand_lead(),
            None => queue.leading = false,
        }
    }

    /// The next group, from the front of the queue: up to `max_group` batches (the first
    /// request whatever its size).
    ///
    /// Commit delay: when the last group showed several writers at work, wait a moment
    /// for them, so one transaction (and, when durable, one fsync) serves more requests.
    /// Without it the writers of a busy store lead in turn with groups of one or two: the
    /// engine's fixed cost per transaction then dominates. A lone writer never waits.
    fn take_group<'q>(
        &'q self,
        mut queue: MutexGuard<'q, Queue>,
    ) -> (MutexGuard<'q, Queue>, Vec<Queued>) {
        let max_group = self.options.max_group.max(1);
        if queue.previous_group > 1 {
            let delay = match self.options.durability {
                Durability::Immediate => COMMIT_DELAY,
                Durability::None => COMMIT_DELAY / 4,
            };
            let deadline = Instant::now() + delay;
            while queue.waiting.len() < queue.previous_group
                && queue.waiting.iter().map(|r| r.batches.len()).sum::<usize>() < max_group
            {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                queue.delaying = true;
                queue = self
                    .arrived
                    .wait_timeout(queue, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                queue.delaying = false;
            }
        }
        let mut group = Vec::new();
        let mut size = 0;
        while let Some(next) = queue.waiting.front() {
            if !group.is_empty() && size + next.batches.len() > max_group {
                break;
            }
            size += next.batches.len();
            group.extend(queue.waiting.pop_front());
        }
        (queue, group)
    }
}

/// Commit the batches of `group` in one transaction; each request's result by its ticket.
///
/// If that transaction fails, each request is retried in a transaction of
/// its own, so that one request the engine cannot take (say, a value too
/// large) fails alone instead of failing everyone grouped with it.
fn commit_group(
    engine: &dyn KvEngine,
    durability: Durability,
    group: Vec<Queued>,
    counters: &Counters,
) -> Vec<(u64, Result<BatchResults, StoreError>)> {
    let mut batches = Vec::with_capacity(group.iter().map(|r| r.batches.len()).sum());
    let mut tickets = Vec::with_capacity(group.len());
    for request in group {
        tickets.push((request.ticket, request.batches.len()));
        batches.extend(request.batches);
    }

    match engine.commit(&batches, durability) {
        Ok(results) if results.len() == batches.len() => {
            counters.record(&results);
            let mut results = results.into_iter();
            tickets
                .into_iter()
                .map(|(ticket, n)| (ticket, Ok(results.by_ref().take(n).collect())))
                .collect()
        }
        Ok(results) => {
            let err = StoreError::Engine(format!(
                "engine returned {} results for {} batches",
                results.len(),
                batches.len()
            ));
            tickets
                .into_iter()
                .map(|(ticket, _)| (ticket, Err(err.clone())))
                .collect()
        }
        Err(err) if tickets.len() == 1 => vec![(tickets[0].0, Err(err))],
        Err(err) => {
            tracing::warn!(
                error = %err,
                requests = tickets.len(),
                "group commit failed; committing its requests one by one"
            );
            let mut start = 0;
            tickets
                .into_iter()
                .map(|(ticket, n)| {
                    let own = &batches[start..start + n];
                    start += n;
                    let result = engine.commit(own, durability);
                    if let Ok(results) = &result {
                        counters.record(results);
                    }
                    (ticket, result)
                })
                .collect()
        }
    }
}

/// A queued write; see [`Store::enqueue`].
#[must_use = "a queued write is only known durable once `wait` returns Ok"]
pub struct PendingWrite {
    /// `None` once waited for.
    inner: Option<Arc<Inner>>,
    ticket: u64,
    slot: Arc<Slot>,
}

impl PendingWrite {
    /// Blocks until the batch is durably committed (or rejected).
    pub fn wait(mut self) -> Result<(), StoreError> {
        let inner = self.inner.take().ok_or(StoreError::Closed)?;
        let mut results = inner.wait_for(self.ticket, &self.slot)?;
        match results.pop() {
            Some(result) => result.map_err(StoreError::from),
            None => Err(StoreError::Engine(
                "engine returned no result for the batch".into(),
            )),
        }
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        // Unwaited: commit it all the same, and collect the result so it is not kept.
        if let Some(inner) = self.inner.take() {
            let _ = inner.wait_for(self.ticket, &self.slot);
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

    fn queued(ticket: u64, batches: Vec<WriteBatch>) -> Queued {
        Queued {
            ticket,
            batches,
            slot: Arc::new(Slot::default()),
            parked: false,
        }
    }

    #[test]
    fn failed_group_is_retried_request_by_request() {
        let engine = Picky(RedbEngine::in_memory().unwrap());
        let counters = Counters::default();
        let mut poison = WriteBatch::new();
        poison.put(T, b"poison".to_vec(), Vec::new());
        let group = vec![
            queued(1, vec![put(1), put(2)]),
            queued(2, vec![poison]),
            queued(3, vec![put(3)]),
        ];
        let mut results: HashMap<_, _> = commit_group(&engine, Durability::None, group, &counters)
            .into_iter()
            .collect();

        assert_eq!(results.remove(&1).unwrap().unwrap(), vec![Ok(()), Ok(())]);
        assert!(matches!(
            results.remove(&2).unwrap(),
            Err(StoreError::Engine(_))
        ));
        assert_eq!(results.remove(&3).unwrap().unwrap(), vec![Ok(())]);
        assert!(results.is_empty());
        assert_eq!(
            engine.get(T, &u64_key(3)).unwrap(),
            Some(3u64.to_le_bytes().to_vec())
        );
        assert_eq!(counters.snapshot().commits, 2);
    }

    #[test]
    fn a_queued_write_is_committed_in_order_and_even_if_dropped_unwaited() {
        let store = Store::in_memory().unwrap();
        let first = store.enqueue(put(1)).unwrap();
        let mut second = WriteBatch::new();
        // Holds only if the first batch, queued before it, is already applied.
        second
            .require_present(T, u64_key(1))
            .put(T, u64_key(2), Vec::new());
        let second = store.enqueue(second).unwrap();
        let dropped = store.enqueue(put(3)).unwrap();
        second.wait().unwrap();
        first.wait().unwrap();
        drop(dropped);
        assert!(store.get(T, &u64_key(3)).unwrap().is_some());
        assert_eq!(store.stats().batches, 3);
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
