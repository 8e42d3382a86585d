//! Group commit: concurrent durable commits share fsyncs, every acknowledged commit is
//! durable, and visibility follows commit order (a reader never sees commit N+1 without N),
//! even when the log reports durability out of order.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Condvar;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use graphdb::api::Value;
use graphdb::error::Result;
use graphdb::storage::{Change, Graph};
use graphdb::txn::{CommitSink, CommitWait, Isolation, PublishWaits, TxnKind, TxnManager};
use graphdb::vfs::sim::SimIo;
use graphdb::{Database, Options, Params};

const THREADS: i64 = 8;

fn per_thread() -> i64 {
    if std::env::var_os("GRAPHDB_SOAK").is_some() {
        400
    } else {
        40
    }
}

fn params(pairs: &[(&str, i64)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::Int(*v)))
        .collect()
}

/// Every (thread, i) pair the database at `dir` holds.
fn pairs(db: &Database) -> BTreeSet<(i64, i64)> {
    let r = db
        .connect()
        .query("MATCH (n:T) RETURN n.t AS t, n.i AS i", &Params::new())
        .unwrap();
    r.rows
        .iter()
        .map(|row| match (&row[0], &row[1]) {
            (Value::Int(t), Value::Int(i)) => (*t, *i),
            other => panic!("unexpected row {other:?}"),
        })
        .collect()
}

#[test]
fn concurrent_durable_commits_share_fsyncs_and_all_survive_power_loss() {
    let sim = SimIo::new();
    // A disk whose flush takes a millisecond: commits arriving meanwhile share the next one.
    sim.set_sync_delay(Duration::from_millis(1));
    let db = Database::open_with_io("/sim/db", &Options::new(), Arc::new(sim.clone())).unwrap();
    let (syncs_before, ops_before, allocations_before) =
        (sim.syncs(), sim.ops(), sim.allocations());
    let n = per_thread();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let db = db.clone();
            s.spawn(move || {
                let mut c = db.connect();
                for i in 0..n {
                    c.query("CREATE (:T {t: $t, i: $i})", &params(&[("t", t), ("i", i)]))
                        .unwrap();
                }
            });
        }
    });
    let commits = (THREADS * n) as u64;
    let syncs = sim.syncs() - syncs_before;
    // Nothing but log writes, syncs and space reservations happened meanwhile.
    let writes = sim.ops() - ops_before - syncs - (sim.allocations() - allocations_before);
    // Every commit returned after an fsync covering it: a power cut now loses none of them.
    let expected: BTreeSet<(i64, i64)> = (0..THREADS)
        .flat_map(|t| (0..n).map(move |i| (t, i)))
        .collect();
    let mut images = 0;
    for seed in 1..=5 {
        let after = sim.power_loss(seed);
        let db2 = Database::open_with_io("/sim/db", &Options::new(), Arc::new(after)).unwrap();
        assert_eq!(pairs(&db2), expected, "power-loss image {seed}");
        images += 1;
    }
    assert_eq!(pairs(&db), expected);
    println!(
        "group commit: {commits} durable commits from {THREADS} threads took {syncs} fsyncs \
         and {writes} log writes; {images} power-loss images hold all of them"
    );
    assert!(
        writes <= syncs,
        "{writes} log writes for {syncs} syncs: a group's records are not written at once"
    );
    assert!(
        syncs * 2 <= commits,
        "commits did not share fsyncs: {syncs} fsyncs for {commits} commits"
    );
}

/// A log whose syncs take a random time, so commits wait for durability in any order, and
/// which remembers which nodes each timestamp created. A sync covers every record written
/// when it starts (tickets are timestamps), as a real fsync does: `durable` is the newest
/// timestamp a completed sync covered.
struct ShuffledSink {
    created: Mutex<BTreeMap<u64, Vec<u64>>>,
    rng: Mutex<u64>,
    written: AtomicU64,
    durable: AtomicU64,
    syncs: AtomicU64,
}

/// A sink the test keeps a handle on while the manager owns this one.
struct Shared<S>(Arc<S>);

/// A transaction manager over a fresh graph, logging to `sink` (shared with the test).
fn manager_on<S>(sink: &Arc<S>) -> TxnManager
where
    Shared<S>: CommitSink + 'static,
{
    TxnManager::new(
        Arc::new(Graph::new()),
        Some(Box::new(Shared(Arc::clone(sink)))),
        0,
        false,
    )
}

/// Commits one node creation on each of `n` threads at once; returns the created ids, each
/// checked visible to a transaction begun after its commit returned.
fn create_nodes_at_once(mgr: &Arc<TxnManager>, n: u64) -> Vec<u64> {
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
                    let id = tx.create_node(&[], vec![]).unwrap();
                    tx.commit().unwrap();
                    let r = mgr.begin(TxnKind::ReadOnly, Isolation::Serializable);
                    assert!(r.node_exists(id), "node {id} invisible after its commit");
                    id
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    })
}

/// The manager a simulated log belongs to (set once it exists: the manager owns the log), so
/// the log can wait for a written record's commit to join the publish queue.
#[derive(Default)]
struct Manager(std::sync::OnceLock<std::sync::Weak<TxnManager>>);

impl Manager {
    fn set(&self, mgr: &Arc<TxnManager>) {
        let _ = self.0.set(Arc::downgrade(mgr));
    }

    /// Waits (bounded: a regression fails the test's assertions instead of hanging) until `n`
    /// commits are queued for publication.
    fn wait_queued(&self, n: usize) {
        self.wait_until(|mgr| mgr.queued_commits() >= n);
    }

    /// Waits (bounded, as `wait_queued`) until commit `ts` is published.
    fn wait_published(&self, ts: u64) {
        self.wait_until(|mgr| mgr.last_commit_ts() >= ts);
    }

    fn wait_until(&self, done: impl Fn(&TxnManager) -> bool) {
        let Some(mgr) = self.0.get().and_then(std::sync::Weak::upgrade) else {
            return;
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !done(&mgr) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

impl<S: CommitSink> CommitSink for Shared<S> {
    fn write(&self, ts: u64, changes: &[Change]) -> Result<u64> {
        self.0.write(ts, changes)
    }
    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        self.0.wait_durable(ticket)
    }
}

impl CommitSink for ShuffledSink {
    fn write(&self, ts: u64, changes: &[Change]) -> Result<u64> {
        let nodes = changes
            .iter()
            .filter_map(|c| match c {
                Change::PutNode { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        self.created.lock().unwrap().insert(ts, nodes);
        self.written.fetch_max(ts, Ordering::SeqCst);
        Ok(ts)
    }

    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        let covered = self.written.load(Ordering::SeqCst).max(ticket);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        let r = {
            let mut g = self.rng.lock().unwrap();
            *g ^= *g << 13;
            *g ^= *g >> 7;
            *g ^= *g << 17;
            *g
        };
        std::thread::sleep(Duration::from_micros(r % 400));
        self.durable.fetch_max(covered, Ordering::SeqCst);
        Ok(covered)
    }
}

/// Many committers at once, published in groups by whichever of them synced: a reader
/// never sees a commit without every earlier one (no gap), and never one no completed sync
/// covered (nothing visible before it is durable).
#[test]
fn readers_see_commits_in_timestamp_order_only() {
    let sink = Arc::new(ShuffledSink {
        created: Mutex::new(BTreeMap::new()),
        rng: Mutex::new(0x9E37_79B9_7F4A_7C15),
        written: AtomicU64::new(0),
        durable: AtomicU64::new(0),
        syncs: AtomicU64::new(0),
    });
    let mgr = Arc::new(manager_on(&sink));
    let done = AtomicBool::new(false);
    let n = per_thread();
    let mut checks = 0u64;
    let mut max_gap_seen = 0u64;
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..THREADS)
            .map(|t| {
                let mgr = Arc::clone(&mgr);
                s.spawn(move || {
                    for i in 0..n {
                        let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
                        for _ in 0..1 + (i + t) % 3 {
                            tx.create_node(&[], vec![]).unwrap();
                        }
                        tx.commit().unwrap();
                    }
                })
            })
            .collect();
        let reader = s.spawn(|| {
            while !done.load(Ordering::Acquire) {
                let tx = mgr.begin(TxnKind::ReadOnly, Isolation::Serializable);
                let snap = tx.snapshot();
                let durable = sink.durable.load(Ordering::SeqCst);
                assert!(
                    snap <= durable,
                    "commit {snap} is visible but syncs covered only up to {durable}"
                );
                let seen: BTreeSet<u64> = tx.scan_nodes().into_iter().collect();
                drop(tx);
                let created = sink.created.lock().unwrap();
                let expected: BTreeSet<u64> = created
                    .range(..=snap)
                    .flat_map(|(_, ids)| ids.iter().copied())
                    .collect();
                assert_eq!(
                    seen, expected,
                    "snapshot {snap} must show exactly the commits up to {snap}"
                );
                let written = created.keys().next_back().copied().unwrap_or(0);
                max_gap_seen = max_gap_seen.max(written.saturating_sub(snap));
                checks += 1;
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Release);
        reader.join().unwrap();
    });
    let total = THREADS as u64 * n as u64;
    assert_eq!(mgr.last_commit_ts(), total);
    let syncs = sink.syncs.load(Ordering::Relaxed);
    println!(
        "commit order: {total} commits from {THREADS} threads in {syncs} syncs with shuffled \
         durability; {checks} snapshots checked against the commits at or below them and the \
         syncs completed (up to {max_gap_seen} written commits were not yet visible)"
    );
}

#[test]
fn a_failed_fsync_fails_every_commit_it_covered_and_poisons_the_database() {
    let mut cases = 0;
    let mut failed_commits = 0;
    for offset in [5u64, 13, 21, 40] {
        let sim = SimIo::new();
        sim.set_sync_delay(Duration::from_micros(300));
        let db = Database::open_with_io("/sim/db", &Options::new(), Arc::new(sim.clone())).unwrap();
        let at = sim.ops() + offset;
        sim.set_fault(Some(graphdb::vfs::sim::Fault {
            at,
            kind: graphdb::vfs::sim::FaultKind::Eio,
            persistent: false,
        }));
        let n = per_thread();
        // Each thread commits 0, 1, 2, ... until its first failure; returns how many it got
        // acknowledged, and checks the database then refuses its writes.
        let acked: Vec<i64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let db = db.clone();
                    s.spawn(move || {
                        let mut c = db.connect();
                        for i in 0..n {
                            if let Err(e) = c
                                .query("CREATE (:T {t: $t, i: $i})", &params(&[("t", t), ("i", i)]))
                            {
                                assert_eq!(e.kind(), graphdb::ErrorKind::Io, "{e}");
                                let e = c
                                    .query("CREATE (:Probe)", &Params::new())
                                    .expect_err("writes after a failed fsync");
                                assert!(e.message().contains("reopen the database"), "{e}");
                                return i;
                            }
                        }
                        n
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            sim.faults_hit() > 0,
            "the fault at operation {at} was never reached"
        );
        failed_commits += acked.iter().filter(|&&a| a < n).count();
        // Still readable.
        let seen_live = pairs(&db);
        drop(db);
        for (view, what) in [
            (sim.after_process_crash(), "process crash"),
            (sim.power_loss(offset), "power loss"),
        ] {
            let db2 = Database::open_with_io("/sim/db", &Options::new(), Arc::new(view)).unwrap();
            let got = pairs(&db2);
            for (t, &a) in acked.iter().enumerate() {
                let mine: Vec<i64> = got
                    .iter()
                    .filter(|(tt, _)| *tt == t as i64)
                    .map(|(_, i)| *i)
                    .collect();
                // Every acknowledged commit survived; at most the one that failed joined it.
                assert!(
                    mine.len() as i64 == a || mine.len() as i64 == a + 1,
                    "{what}, fault at {at}: thread {t} had {a} acknowledged, recovered {mine:?}"
                );
                assert_eq!(mine, (0..mine.len() as i64).collect::<Vec<_>>());
            }
            // What readers saw was published, so durable.
            assert!(
                seen_live.is_subset(&got),
                "{what}: a visible commit was lost"
            );
        }
        cases += 1;
    }
    println!(
        "failed fsync: {cases} fault positions under {THREADS} concurrent writers, {failed_commits} \
         commits failed with IO_ERROR, all acknowledged ones recovered"
    );
    assert!(failed_commits >= cases);
}

/// What a simulated log has written (a count of records, or the newest timestamp: each log
/// says which), and a condvar to wait for it. Waits are bounded, so a regression fails a
/// test's assertions instead of hanging it.
#[derive(Default)]
struct Written {
    n: Mutex<u64>,
    changed: Condvar,
}

impl Written {
    fn update(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.n.lock().unwrap());
        self.changed.notify_all();
    }

    fn get(&self) -> u64 {
        *self.n.lock().unwrap()
    }

    /// Wakes the waiters to look again (at a condition of their own).
    fn notify(&self) {
        self.changed.notify_all();
    }

    /// Waits (10 s at most) until `done` holds for what was written; returns with it locked.
    fn wait_until(&self, mut done: impl FnMut(u64) -> bool) -> std::sync::MutexGuard<'_, u64> {
        let n = self.n.lock().unwrap();
        let (n, _) = self
            .changed
            .wait_timeout_while(n, Duration::from_secs(10), |n| !done(*n))
            .unwrap();
        n
    }
}

/// A log whose syncs fail once armed. The first failing sync waits until `group` records
/// have been written, so they all wait on that one sync: one group.
struct FailingGroupSink {
    /// Records written.
    written: Written,
    group: u64,
    armed: AtomicBool,
}

impl CommitSink for FailingGroupSink {
    fn write(&self, ts: u64, _changes: &[Change]) -> Result<u64> {
        self.written.update(|n| *n += 1);
        Ok(ts)
    }

    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        if !self.armed.load(Ordering::SeqCst) {
            return Ok(ticket);
        }
        drop(self.written.wait_until(|n| n >= self.group));
        Err(graphdb::Error::new(
            graphdb::ErrorKind::Io,
            "fsync of the log failed: injected",
        ))
    }
}

/// One sync serving a group of concurrent commits fails: every commit of the group fails
/// with an I/O error, none of them is ever visible (a reader checks throughout), their
/// timestamps do not hang later work, and the database refuses writes afterwards.
#[test]
fn a_failed_group_sync_fails_every_commit_of_the_group_and_shows_none() {
    const GROUP: u64 = 6;
    let sink = Arc::new(FailingGroupSink {
        written: Written::default(),
        group: GROUP + 1,
        armed: AtomicBool::new(false),
    });
    let mgr = Arc::new(manager_on(&sink));
    let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
    let first = tx.create_node(&[], vec![]).unwrap();
    tx.commit().unwrap();
    sink.armed.store(true, Ordering::SeqCst);
    let done = AtomicBool::new(false);
    let mut snapshots = 0u64;
    let errors: Vec<graphdb::Error> = std::thread::scope(|s| {
        let reader = s.spawn(|| loop {
            // Checks once more after the writers are done, so at least once.
            let last = done.load(Ordering::Acquire);
            let tx = mgr.begin(TxnKind::ReadOnly, Isolation::Serializable);
            assert_eq!(
                tx.scan_nodes(),
                vec![first],
                "a failed commit became visible"
            );
            snapshots += 1;
            if last {
                break;
            }
        });
        let writers: Vec<_> = (0..GROUP)
            .map(|_| {
                let mgr = Arc::clone(&mgr);
                s.spawn(move || {
                    let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
                    tx.create_node(&[], vec![]).unwrap();
                    tx.commit().expect_err("a commit whose sync failed")
                })
            })
            .collect();
        let errors = writers.into_iter().map(|w| w.join().unwrap()).collect();
        done.store(true, Ordering::Release);
        reader.join().unwrap();
        errors
    });
    for e in &errors {
        assert_eq!(e.kind(), graphdb::ErrorKind::Io, "{e}");
        assert!(e.message().contains("reopen the database"), "{e}");
    }
    // Every failed timestamp was given up: nothing waits for them.
    assert_eq!(mgr.last_commit_ts(), 1 + GROUP);
    let tx = mgr.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert_eq!(tx.scan_nodes(), vec![first]);
    drop(tx);
    let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
    let e = tx.create_node(&[], vec![]).unwrap_err();
    assert_eq!(e.kind(), graphdb::ErrorKind::Io, "poisoned: {e}");
    println!(
        "failed group sync: {GROUP} commits of one group failed with IO_ERROR, none visible \
         in {snapshots} snapshots, the database refuses writes"
    );
}

/// A log whose first sync waits until `group` records are written, then reports all of
/// them durable; counts the syncs asked for and the syncs run. Like the WAL, it runs none
/// for a record an earlier sync already covered: the last commit can be queued just after
/// the leader's sync returned (its record is written before it is queued, under the commit
/// lock, so only the last one can be that late), and then leads a group of its own whose
/// record is already durable.
struct GatheringSink {
    /// Records written, and the point the last sync made durable.
    state: Mutex<(u64, u64)>,
    all_written: Condvar,
    group: u64,
    asked: AtomicU64,
    syncs: AtomicU64,
}

impl CommitSink for GatheringSink {
    fn write(&self, ts: u64, _changes: &[Change]) -> Result<u64> {
        self.state.lock().unwrap().0 += 1;
        self.all_written.notify_all();
        Ok(ts)
    }

    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let state = self.state.lock().unwrap();
        if ticket <= state.1 {
            return Ok(state.1);
        }
        self.syncs.fetch_add(1, Ordering::SeqCst);
        // Bounded, so a regression fails the assertions below instead of hanging.
        let (mut state, _) = self
            .all_written
            .wait_timeout_while(state, Duration::from_secs(10), |s| s.0 < self.group)
            .unwrap();
        // Tickets are timestamps: every record written so far is durable.
        state.1 = state.0.max(ticket);
        Ok(state.1)
    }
}

/// The committer whose sync covered a whole group publishes all of it: the other members
/// never ask for a sync of their own, and all of them return with their commit visible.
#[test]
fn the_committer_that_syncs_a_group_publishes_all_of_it() {
    const GROUP: u64 = 6;
    let sink = Arc::new(GatheringSink {
        state: Mutex::new((0, 0)),
        all_written: Condvar::new(),
        group: GROUP,
        asked: AtomicU64::new(0),
        syncs: AtomicU64::new(0),
    });
    let mgr = Arc::new(manager_on(&sink));
    let created = create_nodes_at_once(&mgr, GROUP);
    assert_eq!(mgr.last_commit_ts(), GROUP);
    assert_eq!(created.len() as u64, GROUP);
    assert_eq!(
        sink.syncs.load(Ordering::SeqCst),
        1,
        "every commit of the group was published by the one sync that covered it"
    );
    let asked = sink.asked.load(Ordering::SeqCst);
    assert!(
        asked <= 2,
        "{asked} committers asked for a sync: the one that synced did not publish the others"
    );
    println!(
        "group publish: {GROUP} concurrent commits published by the one committer that synced"
    );
}

/// A log for the leader's hand-off: the first sync starts once `first` records are written
/// and covers exactly those, but returns only once `total` are written (the rest arrive
/// during the flush); later syncs cover everything written. Records which thread asked for
/// each sync.
struct TwoGroupSink {
    /// Records written.
    written: Written,
    first: u64,
    total: u64,
    syncs: Mutex<Vec<(std::thread::ThreadId, u64)>>,
    mgr: Manager,
}

impl CommitSink for TwoGroupSink {
    fn write(&self, ts: u64, _changes: &[Change]) -> Result<u64> {
        self.written.update(|n| *n += 1);
        Ok(ts)
    }

    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        let mut syncs = self.syncs.lock().unwrap();
        syncs.push((std::thread::current().id(), ticket));
        let first_sync = syncs.len() == 1;
        drop(syncs);
        if !first_sync {
            // Tickets are timestamps: everything written so far.
            return Ok(self.written.get().max(ticket));
        }
        drop(self.written.wait_until(|n| n >= self.first));
        let covered = self.first.max(ticket);
        drop(self.written.wait_until(|n| n >= self.total));
        // A record joins the publish queue just after its write: every commit is queued
        // (none published yet) before this sync returns, or the leader might look at the
        // queue before the last one arrives and the test would depend on scheduling.
        self.mgr.wait_queued(self.total as usize);
        Ok(covered)
    }
}

/// A leader whose group woke another committer takes the group queued during its flush
/// itself: the same thread asks for both syncs, the second group's committers never ask
/// for one, and every commit returns visible, in timestamp order.
#[test]
fn a_leader_syncs_and_publishes_the_group_queued_during_its_flush() {
    const FIRST: u64 = 3;
    const TOTAL: u64 = 6;
    let sink = Arc::new(TwoGroupSink {
        written: Written::default(),
        first: FIRST,
        total: TOTAL,
        syncs: Mutex::new(Vec::new()),
        mgr: Manager::default(),
    });
    let mgr = Arc::new(manager_on(&sink));
    sink.mgr.set(&mgr);
    let created = create_nodes_at_once(&mgr, TOTAL);
    assert_eq!(created.len() as u64, TOTAL);
    assert_eq!(mgr.last_commit_ts(), TOTAL);
    let syncs = sink.syncs.lock().unwrap().clone();
    assert_eq!(
        syncs.len(),
        2,
        "one sync per group, both asked by the leader: {syncs:?}"
    );
    assert_eq!(
        syncs[0].0, syncs[1].0,
        "the second group was synced by a committer woken to lead it, not by the leader"
    );
    assert!(
        syncs[1].1 > FIRST,
        "the second sync is for a commit of the second group: {syncs:?}"
    );
    println!(
        "leader hand-off: {TOTAL} commits in 2 groups, both synced and published by one leader"
    );
}

/// Syncs that take a random time and, once `fail_at` syncs have run, fail for good (as the
/// WAL's sticky failure: every later write and sync fails). Remembers which nodes each
/// timestamp created and the newest timestamp a successful sync covered.
struct FlakySink {
    created: Mutex<BTreeMap<u64, Vec<u64>>>,
    rng: Mutex<u64>,
    written: AtomicU64,
    durable: AtomicU64,
    syncs: AtomicU64,
    fail_at: u64,
    failed: AtomicBool,
}

impl FlakySink {
    fn new(fail_at: u64, seed: u64) -> FlakySink {
        FlakySink {
            created: Mutex::new(BTreeMap::new()),
            rng: Mutex::new(seed | 1),
            written: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            fail_at,
            failed: AtomicBool::new(false),
        }
    }

    fn io_error() -> graphdb::Error {
        graphdb::Error::new(
            graphdb::ErrorKind::Io,
            "fsync of the log failed: injected; reopen the database to recover",
        )
    }
}

impl CommitSink for FlakySink {
    fn write(&self, ts: u64, changes: &[Change]) -> Result<u64> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(FlakySink::io_error());
        }
        let nodes = changes
            .iter()
            .filter_map(|c| match c {
                Change::PutNode { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        self.created.lock().unwrap().insert(ts, nodes);
        self.written.fetch_max(ts, Ordering::SeqCst);
        Ok(ts)
    }

    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        let covered = self.written.load(Ordering::SeqCst).max(ticket);
        let n = self.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        let r = {
            let mut g = self.rng.lock().unwrap();
            *g ^= *g << 13;
            *g ^= *g >> 7;
            *g ^= *g << 17;
            *g
        };
        std::thread::sleep(Duration::from_micros(r % 300));
        if n >= self.fail_at || self.failed.load(Ordering::SeqCst) {
            self.failed.store(true, Ordering::SeqCst);
            return Err(FlakySink::io_error());
        }
        self.durable.fetch_max(covered, Ordering::SeqCst);
        Ok(covered)
    }
}

/// Many committers through the group hand-offs (leaders taking further groups, the lead
/// passed on) while syncs take random times and one fails: every acknowledged commit was
/// covered by a successful sync, no failed commit is ever visible, a reader only ever sees
/// a gapless prefix of the commits that syncs covered, and the commits visible at the end
/// are exactly the acknowledged ones.
#[test]
fn acknowledged_commits_are_durable_and_ordered_when_a_sync_fails_midway() {
    let mut cases = 0;
    let mut acked_total = 0;
    let mut failed_total = 0;
    for (fail_at, seed) in [(3u64, 11u64), (9, 23), (17, 37), (40, 41)] {
        let sink = Arc::new(FlakySink::new(fail_at, seed));
        let mgr = Arc::new(manager_on(&sink));
        let done = AtomicBool::new(false);
        let n = per_thread();
        let outcomes: Vec<(Vec<u64>, Vec<u64>)> = std::thread::scope(|s| {
            let reader = s.spawn(|| loop {
                let last = done.load(Ordering::Acquire);
                let tx = mgr.begin(TxnKind::ReadOnly, Isolation::Serializable);
                let snap = tx.snapshot();
                // Read after the snapshot: every commit published as a success had its
                // sync complete before, so it is at or below `durable`; the timestamps
                // above it were published empty by the failed sync.
                let durable = sink.durable.load(Ordering::SeqCst);
                assert!(
                    snap <= durable || sink.failed.load(Ordering::SeqCst),
                    "commit {snap} is visible but syncs covered only up to {durable}"
                );
                let seen: BTreeSet<u64> = tx.scan_nodes().into_iter().collect();
                drop(tx);
                let expected: BTreeSet<u64> = sink
                    .created
                    .lock()
                    .unwrap()
                    .range(..=snap.min(durable))
                    .flat_map(|(_, ids)| ids.iter().copied())
                    .collect();
                assert_eq!(seen, expected, "snapshot {snap}: not the commits up to it");
                if last {
                    break;
                }
            });
            let writers: Vec<_> = (0..THREADS)
                .map(|_| {
                    let mgr = Arc::clone(&mgr);
                    s.spawn(move || {
                        let (mut acked, mut failed) = (Vec::new(), Vec::new());
                        for _ in 0..n {
                            let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
                            let Ok(id) = tx.create_node(&[], vec![]) else {
                                break; // poisoned: writes are refused
                            };
                            match tx.commit() {
                                Ok(()) => acked.push(id),
                                Err(e) => {
                                    assert_eq!(e.kind(), graphdb::ErrorKind::Io, "{e}");
                                    failed.push(id);
                                }
                            }
                        }
                        (acked, failed)
                    })
                })
                .collect();
            let outcomes = writers.into_iter().map(|w| w.join().unwrap()).collect();
            done.store(true, Ordering::Release);
            reader.join().unwrap();
            outcomes
        });
        let durable = sink.durable.load(Ordering::SeqCst);
        let ts_of: BTreeMap<u64, u64> = sink
            .created
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(ts, ids)| ids.iter().map(move |id| (*id, *ts)))
            .collect();
        let acked: BTreeSet<u64> = outcomes.iter().flat_map(|o| o.0.clone()).collect();
        let failed: BTreeSet<u64> = outcomes.iter().flat_map(|o| o.1.clone()).collect();
        for id in &acked {
            assert!(
                ts_of[id] <= durable,
                "node {id} was acknowledged but no successful sync covered commit {}",
                ts_of[id]
            );
        }
        assert!(
            !failed.is_empty(),
            "fail_at {fail_at}: no commit met the failed sync"
        );
        let tx = mgr.begin(TxnKind::ReadOnly, Isolation::Serializable);
        let visible: BTreeSet<u64> = tx.scan_nodes().into_iter().collect();
        assert_eq!(
            visible, acked,
            "fail_at {fail_at}: visible at the end must be exactly the acknowledged commits"
        );
        acked_total += acked.len();
        failed_total += failed.len();
        cases += 1;
    }
    println!(
        "flaky syncs: {cases} runs of {THREADS} writers with random sync delays and a failed \
         sync; {acked_total} acknowledged commits all durable and visible, {failed_total} \
         failed ones never visible"
    );
}

/// A log whose first sync, asked for commit 1, returns once commit 2's record is written and
/// covers it, while commit 2 joins the queue only after commit 1 published (its write returns
/// then); every later sync fails, as a log that failed may fail every call.
struct LateQueueSink {
    /// Newest timestamp written.
    written: Written,
    syncs: AtomicU64,
    mgr: Manager,
}

impl CommitSink for LateQueueSink {
    fn write(&self, ts: u64, _changes: &[Change]) -> Result<u64> {
        self.written.update(|n| *n = ts);
        if ts == 2 {
            self.mgr.wait_published(1);
        }
        Ok(ts)
    }

    fn wait_durable(&self, _ticket: u64) -> Result<u64> {
        if self.syncs.fetch_add(1, Ordering::SeqCst) > 0 {
            return Err(FlakySink::io_error());
        }
        Ok(*self.written.wait_until(|n| n >= 2))
    }
}

/// A commit whose record a successful sync covered is durable, so it succeeds even when it
/// joined the queue after that sync's group was taken and the next sync fails; the failure
/// fails only the commits after it.
#[test]
fn a_commit_an_earlier_sync_covered_succeeds_when_the_next_sync_fails() {
    let sink = Arc::new(LateQueueSink {
        written: Written::default(),
        syncs: AtomicU64::new(0),
        mgr: Manager::default(),
    });
    let mgr = Arc::new(manager_on(&sink));
    sink.mgr.set(&mgr);
    let commit = |mgr: &Arc<TxnManager>| -> Result<u64> {
        let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
        let id = tx.create_node(&[], vec![])?;
        tx.commit().map(|()| id)
    };
    let (first, second) = std::thread::scope(|s| {
        let first = s.spawn(|| commit(&mgr));
        let second = s.spawn(|| {
            drop(sink.written.wait_until(|n| n >= 1));
            commit(&mgr)
        });
        (first.join().unwrap(), second.join().unwrap())
    });
    let first = first.expect("commit 1: its own sync succeeded");
    let second = second.expect("commit 2: the first sync covered its record");
    assert_eq!(
        sink.syncs.load(Ordering::SeqCst),
        2,
        "commit 2 met the failed sync"
    );
    let third = commit(&mgr).expect_err("commit 3: the log failed");
    assert_eq!(third.kind(), graphdb::ErrorKind::Io, "{third}");
    let tx = mgr.begin(TxnKind::ReadOnly, Isolation::Serializable);
    let visible: BTreeSet<u64> = tx.scan_nodes().into_iter().collect();
    assert_eq!(visible, BTreeSet::from([first, second]));
    println!(
        "late-queued commit: covered by a successful sync, acknowledged despite the failed one"
    );
}

/// A log for a writer waiting on a leader: once armed, the first sync covers records up to
/// timestamp `first` but returns only when `total` are written; the second waits (bounded)
/// until the waiting writer is done, and notes whether it was.
struct WaiterSink {
    /// Newest timestamp written.
    written: Written,
    armed: AtomicBool,
    syncs: Mutex<Vec<std::thread::ThreadId>>,
    first: u64,
    total: u64,
    writer_done: AtomicBool,
    done_during_second_sync: AtomicBool,
    mgr: Manager,
}

impl CommitSink for WaiterSink {
    fn write(&self, ts: u64, _changes: &[Change]) -> Result<u64> {
        self.written.update(|n| *n = ts);
        Ok(ts)
    }

    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        if !self.armed.load(Ordering::SeqCst) {
            return Ok(ticket);
        }
        let n = {
            let mut syncs = self.syncs.lock().unwrap();
            syncs.push(std::thread::current().id());
            syncs.len()
        };
        self.written.notify();
        if n == 1 {
            drop(self.written.wait_until(|n| n >= self.total));
            // Every armed commit (timestamps 2 to `total`) queued before this sync returns,
            // so the leader finds the last one when it looks for a next group.
            self.mgr.wait_queued(self.total as usize - 1);
            return Ok(self.first.max(ticket));
        }
        let written = self
            .written
            .wait_until(|_| self.writer_done.load(Ordering::SeqCst));
        self.done_during_second_sync
            .store(self.writer_done.load(Ordering::SeqCst), Ordering::SeqCst);
        Ok((*written).max(ticket))
    }
}

/// A writer waiting for a version of a committing transaction goes on once that commit is
/// published, even when its committer then leads the next group (its transaction ends only
/// when it returns, a flush later).
#[test]
fn a_writer_waiting_for_a_leader_goes_on_when_the_leaders_commit_publishes() {
    use graphdb::value::Value as V;
    let sink = Arc::new(WaiterSink {
        written: Written::default(),
        armed: AtomicBool::new(false),
        syncs: Mutex::new(Vec::new()),
        first: 3,
        total: 4,
        writer_done: AtomicBool::new(false),
        done_during_second_sync: AtomicBool::new(false),
        mgr: Manager::default(),
    });
    let mgr = Arc::new(manager_on(&sink).with_busy_timeout(Duration::from_secs(30)));
    sink.mgr.set(&mgr);
    let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
    let node = tx.create_node(&[], vec![]).unwrap();
    tx.commit().unwrap(); // ts 1
    sink.armed.store(true, Ordering::SeqCst);
    let commit_one = |f: &(dyn Fn(&mut graphdb::txn::Transaction) + Sync)| {
        let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
        f(&mut tx);
        tx.commit().unwrap();
    };
    std::thread::scope(|s| {
        // The leader: updates the node (ts 2) and syncs first.
        s.spawn(|| {
            commit_one(&|tx| {
                tx.set_node_property(node, 0, V::Int(1)).unwrap();
            })
        });
        let syncing = |n: usize| {
            drop(
                sink.written
                    .wait_until(|_| sink.syncs.lock().unwrap().len() >= n),
            );
        };
        syncing(1);
        // A member of the leader's group (ts 3).
        s.spawn(|| {
            commit_one(&|tx| {
                tx.create_node(&[], vec![]).unwrap();
            })
        });
        // The waiter: the node's newest version is the leader's, uncommitted.
        s.spawn(|| {
            let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
            // After the leader's commit this write conflicts (or succeeds): either way it
            // returns, which is what is checked.
            let _ = tx.set_node_property(node, 0, V::Int(2));
            sink.writer_done.store(true, Ordering::SeqCst);
            sink.written.notify();
            tx.rollback();
        });
        // Lets the waiter reach its wait before the group of ts 4 is written and the first
        // sync returns (were it later, it would not wait at all: the test would pass
        // without showing anything, never fail wrongly).
        std::thread::sleep(Duration::from_millis(50));
        s.spawn(|| {
            commit_one(&|tx| {
                tx.create_node(&[], vec![]).unwrap();
            })
        });
    });
    let syncs = sink.syncs.lock().unwrap().clone();
    assert_eq!(syncs.len(), 2, "two groups, two syncs: {syncs:?}");
    assert_eq!(syncs[0], syncs[1], "the leader led the second group itself");
    assert!(
        sink.done_during_second_sync.load(Ordering::SeqCst),
        "the waiting writer slept until the leader returned, not until its commit published"
    );
    assert_eq!(mgr.last_commit_ts(), 4);
    println!("waiter: a writer waiting for the leader went on while it synced the next group");
}

/// A flush well within what counts as a fast log (200 µs, src/txn/group.rs) even with a
/// sleep's timer slack, and long enough that concurrent committers queue behind it and wait
/// for its group: with a flush of zero some runs had no committer waiting at all.
const FAST_FLUSH: Duration = Duration::from_micros(20);

/// A log whose every sync takes `flush` and covers each record written when it starts (as an
/// fsync does), and which asks the manager to gather groups (as the WAL does with
/// sync=full). Counts syncs and the records they covered.
struct PacedSink {
    flush: Duration,
    written: AtomicU64,
    durable: Mutex<u64>,
    syncs: AtomicU64,
}

impl PacedSink {
    fn new(flush: Duration) -> Arc<PacedSink> {
        Arc::new(PacedSink {
            flush,
            written: AtomicU64::new(0),
            durable: Mutex::new(0),
            syncs: AtomicU64::new(0),
        })
    }
}

impl CommitSink for Shared<PacedSink> {
    fn write(&self, ts: u64, _changes: &[Change]) -> Result<u64> {
        self.0.written.fetch_max(ts, Ordering::SeqCst);
        Ok(ts)
    }
    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        // One sync at a time, as on one file.
        let mut durable = self.0.durable.lock().unwrap();
        if *durable >= ticket {
            return Ok(*durable);
        }
        let covered = self.0.written.load(Ordering::SeqCst).max(ticket);
        self.0.syncs.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.0.flush);
        *durable = covered;
        Ok(covered)
    }
    fn gathers(&self) -> bool {
        true
    }
}

fn paced_manager(sink: &Arc<PacedSink>, gather: Duration) -> Arc<TxnManager> {
    let mgr = Arc::new(manager_on(sink));
    mgr.set_gather_limit(Some(gather));
    mgr
}

/// `n` node creations, one commit each, on each of `threads` threads at once.
fn commit_in_turn(mgr: &Arc<TxnManager>, threads: usize, n: usize) {
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..n {
                    let mut tx = mgr.begin(TxnKind::ReadWrite, Isolation::Snapshot);
                    tx.create_node(&[], vec![]).unwrap();
                    tx.commit().unwrap();
                }
            });
        }
    });
}

/// Two writers committing in a loop share each sync once the manager has seen them both:
/// the committer about to sync waits for the other's commit. Without that the first back
/// from a sync synced alone and the other waited a whole sync for the next one, so each sync
/// covered one commit and two writers were no faster than one.
#[test]
fn two_writers_committing_in_a_loop_share_each_sync() {
    const N: usize = 60;
    let sink = PacedSink::new(Duration::from_millis(2));
    // Generous, so that the groups do not depend on how fast this machine schedules; a
    // gather that waits for a writer that has finished ends there (at most once per writer).
    let mgr = paced_manager(&sink, Duration::from_millis(300));
    commit_in_turn(&mgr, 2, N);
    assert_eq!(mgr.last_commit_ts(), 2 * N as u64);
    let syncs = sink.syncs.load(Ordering::SeqCst);
    assert!(
        syncs <= (N + N / 6) as u64,
        "{syncs} syncs for {} commits of two writers: they did not share syncs",
        2 * N
    );
    println!(
        "gathering: {} commits of 2 writers in {syncs} syncs ({} gather waits)",
        2 * N,
        mgr.gather_waits()
    );
}

/// A lone committer never waits to gather (its expected group is itself), also after a
/// second writer stopped: the expectation shrinks after one wait.
#[test]
fn a_lone_committer_never_waits_for_a_group() {
    const N: usize = 20;
    let sink = PacedSink::new(Duration::from_micros(500));
    let mgr = paced_manager(&sink, Duration::from_millis(200));
    commit_in_turn(&mgr, 1, N);
    assert_eq!(mgr.gather_waits(), 0, "a lone committer waited for a group");
    commit_in_turn(&mgr, 2, N);
    let after_two = mgr.gather_waits();
    assert!(after_two > 0, "two writers never gathered");
    commit_in_turn(&mgr, 1, N);
    let alone = mgr.gather_waits() - after_two;
    assert!(
        alone <= 1,
        "a lone committer waited {alone} times after the second writer stopped"
    );
    assert_eq!(mgr.last_commit_ts(), 4 * N as u64);
    println!("gathering: {after_two} gather waits with two writers, {alone} once alone again");
}

/// Committers waiting for their group's sync keep polling when the log syncs fast, and go on
/// when it publishes without being woken; when a sync takes milliseconds they sleep at once
/// (only the first group polls, before any sync was timed). Each half fails without its rule:
/// never polling leaves no wait awake, always polling leaves none asleep at once.
#[test]
fn committers_wait_awake_for_a_fast_log_and_asleep_for_a_slow_one() {
    let fast = PacedSink::new(FAST_FLUSH);
    let mgr = paced_manager(&fast, Duration::from_millis(1));
    commit_in_turn(&mgr, 4, 100);
    assert_eq!(mgr.last_commit_ts(), 400);
    let w = mgr.publish_waits();
    assert!(
        w.awake > 0,
        "no committer waited awake for a fast log: {w:?}"
    );
    // Not zero: a sync stretched by a descheduled leader (tests run in parallel) may raise
    // the moving average past the fast bound for a few syncs.
    assert!(
        w.slept * 10 <= w.awake,
        "committers slept at once with a fast log: {w:?}"
    );

    let slow = PacedSink::new(Duration::from_millis(2));
    let mgr = paced_manager(&slow, Duration::from_millis(300));
    commit_in_turn(&mgr, 4, 8);
    assert_eq!(mgr.last_commit_ts(), 32);
    let s = mgr.publish_waits();
    assert!(
        s.awake + s.polled_then_slept <= 3,
        "committers polled for a log that syncs in 2 ms: {s:?}"
    );
    assert!(s.slept > 0, "no committer slept for a slow log: {s:?}");
    println!("waiting awake: fast log {w:?}; slow log {s:?}");
}

#[test]
fn commit_wait_sleep_never_polls_even_for_a_fast_log() {
    // The manager alone, on a log that syncs fast (where `auto` polls: the test above).
    let fast = PacedSink::new(FAST_FLUSH);
    let mgr = Arc::new(manager_on(&fast).with_commit_wait(CommitWait::Sleep));
    mgr.set_gather_limit(Some(Duration::from_millis(1)));
    commit_in_turn(&mgr, 4, 100);
    assert_eq!(mgr.last_commit_ts(), 400);
    let w = mgr.publish_waits();
    assert_slept_only(w, "a manager with commit_wait=sleep");

    // The option reaches a real database's committers.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut o = Options::new();
    o.set("commit_wait", "sleep").unwrap();
    let db = Database::open(path.to_str().unwrap(), &o).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let db = &db;
            s.spawn(move || {
                let mut c = db.connect();
                for i in 0..50 {
                    c.query("CREATE (:N {t: $t, i: $i})", &params(&[("t", t), ("i", i)]))
                        .unwrap();
                }
            });
        }
    });
    let d = db.publish_waits();
    assert_slept_only(d, "a database opened with commit_wait=sleep");
    println!("commit_wait=sleep: paced log {w:?}; database {d:?}");
}

/// Committers waited for other committers' groups, and every one of them slept at once.
fn assert_slept_only(w: PublishWaits, whose: &str) {
    assert_eq!(
        (w.awake, w.polled_then_slept),
        (0, 0),
        "a committer of {whose} polled: {w:?}"
    );
    assert!(
        w.slept > 0,
        "no committer of {whose} waited for another's group: {w:?}"
    );
}
