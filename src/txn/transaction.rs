//! Transactions over the versioned graph.
//!
//! Protocol:
//! - Begin takes a snapshot = the newest published commit timestamp, and a transaction id.
//! - Writes check the head of the entity's version chain under the graph latch: a head
//!   written by another running transaction, or committed after our snapshot, is a
//!   write-write conflict (first updater wins) and dooms this transaction. Otherwise the write
//!   pushes a new uncommitted version (or edits our own), logging how to undo it.
//! - Commit: under the commit lock, validate, assign ts = last + 1, write the logical
//!   changes to the commit sink (the WAL, no sync yet) and queue the commit; outside it, the
//!   committer leading the group syncs (one fsync serves every record written before it),
//!   then stamps the versions of every commit the sync covered and publishes them in ts
//!   order (src/txn/group.rs). So commit order = WAL order = visibility order, and a
//!   snapshot never sees half a transaction.
//! - Rollback (and statement rollback to a savepoint) replays the undo log backwards.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use super::group::{Group, Queued};
use super::snapshots::{SlotTxn, Snapshots};
use super::stats::{ConflictCause, Counters, RunningTxn, TxnInfo, TxnStats};
use super::validation::{CommitSummary, NameKind, ReadSet};
use super::{Isolation, TxnKind};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::base::BaseView;
use crate::storage::graph::{
    prop_get, prop_set, visible, GraphData, NodeData, NodeRef, RelData, RelEntry, RelRef, Version,
    VersionChain, Visibility, UNCOMMITTED,
};
use crate::storage::index::{key_cmp, show_value, KeyRange};
use crate::storage::{
    Change, ChangeRef, Direction, Graph, KeyId, LabelId, NodeId, PropList, RelId, TypeId,
};
use crate::value::Value;

mod image_commit;

/// Bytes a commit leaves at the start of an encoded record for the log's framing (length,
/// checksum, sync marker: src/wal/mod.rs).
pub const RECORD_HEADER: usize = 16;

/// Where committed transactions go to become durable (the WAL), in commit order.
///
/// Two steps, so that concurrent commits share one fsync (group commit): `write` runs under
/// the commit lock and only hands the record to the log (a write syscall); `wait_durable` runs
/// outside it and returns once a sync covering the record has completed (as the sync mode
/// promises). An error from either means the record may or may not be on disk: the manager
/// refuses further writes.
pub trait CommitSink: Send + Sync {
    /// Appends the record of `changes`, committed at `ts`; returns a ticket for
    /// `wait_durable`. Called in commit (timestamp) order.
    fn write(&self, ts: u64, changes: &[Change]) -> Result<u64>;
    /// `write` for a record a commit encoded itself (straight from its versions, without
    /// copying them into `Change`s): `RECORD_HEADER` bytes of room for the sink's framing,
    /// then the payload in the WAL codec's format (`codec::encode_refs_into`). The log
    /// frames it in place; the default decodes it for `write` (sinks that look at changes).
    fn write_encoded(&self, ts: u64, record: Vec<u8>) -> Result<u64> {
        let payload = record.get(RECORD_HEADER..).unwrap_or_default();
        let (_, changes) = crate::wal::codec::decode(payload)?;
        self.write(ts, &changes)
    }
    /// Blocks until the record behind `ticket`, and so every record written before it, is
    /// durable; returns a ticket (at least `ticket`) up to which every record written is
    /// durable — the commits a group publishes. Tickets grow in write order. Fails if any
    /// sync that should have covered the record failed; may fail every call once one failed,
    /// even for a ticket an earlier call covered (the group remembers what successful calls
    /// covered).
    fn wait_durable(&self, ticket: u64) -> Result<u64>;
    /// Bytes in the log so far (for statistics).
    fn log_bytes(&self) -> u64 {
        0
    }
    /// Whether `wait_durable` syncs for each commit (`sync=full`): then the committer about
    /// to sync first waits briefly for the commits expected to join its group (src/txn/group.rs).
    fn gathers(&self) -> bool {
        false
    }
}

/// Hands out snapshots and commit timestamps; one per open database.
pub struct TxnManager {
    pub(super) graph: Arc<Graph>,
    /// Newest commit timestamp whose versions are all stamped: new snapshots start here.
    pub(super) published: AtomicU64,
    next_txn: AtomicU64,
    /// Serializes validation, timestamp assignment and the WAL write: timestamp order and
    /// WAL order are one order. Holds the newest timestamp handed out (published lags it
    /// while commits wait for their fsync).
    pub(super) commit_lock: Mutex<u64>,
    /// Commits publish strictly in timestamp order: a committer waits here until `published`
    /// is its timestamp minus one, on the condvar of its slot (`turn_slot`), so a publish
    /// wakes only the committer whose turn is next (and the rare one sharing its slot), not
    /// every waiting committer. The guarded counts say who waits on which slot, so a publish
    /// nobody waits for makes no wake-up call.
    publish_turn: Mutex<TurnWaiters>,
    published_cvs: [Condvar; TURN_SLOTS],
    pub(super) sink: Option<Box<dyn CommitSink>>,
    /// Commits written and waiting to publish; a leader publishes them in groups.
    pub(super) group: Mutex<Group>,
    /// Set after a failed durable write; the message explains, every write refuses.
    poisoned: Mutex<Option<String>>,
    /// Whether `poisoned` is set: every write checks, without taking the lock.
    pub(super) is_poisoned: std::sync::atomic::AtomicBool,
    pub(super) read_only: bool,
    active: AtomicU64,
    /// Running transactions' snapshots: they decide which versions and commit summaries
    /// must be kept. Registered lock-free in `slots`; in `registry` when every slot is taken.
    /// Publishers store `published` under the registry lock and then read both.
    pub(super) slots: Snapshots,
    pub(super) registry: Mutex<Registry>,
    /// Summaries of recent commits, oldest first.
    pub(super) recent: Mutex<VecDeque<CommitSummary>>,
    /// How long a write waits for another transaction's uncommitted version; zero: conflict
    /// at once.
    busy_timeout: Duration,
    /// Who waits for whom (waiter id → holder id), for deadlock detection.
    waits: Mutex<HashMap<u64, u64>>,
    /// How many entries `waits` has, read without its lock by every ending writer: a waiter
    /// counts itself before it checks whether its holder still runs, so a holder that ends
    /// after that check sees the count and wakes it.
    waiting: std::sync::atomic::AtomicUsize,
    /// Signalled whenever a transaction ends, waking writers waiting for it.
    ended: Condvar,
    pub(super) counters: Counters,
    /// Ids of transactions between their WAL write and their publication (their versions
    /// are committed but not yet stamped). Kept only while uniqueness constraints exist:
    /// the commit-time uniqueness check counts their versions as committed.
    pub(super) committing: Mutex<HashSet<u64>>,
    /// The commit timestamp when this manager was created (commits = published - this).
    opened_ts: u64,
}

impl TxnManager {
    /// `last_ts` is the newest timestamp already in `graph` (from recovery). A read-only
    /// manager refuses every write with `ReadOnly`.
    pub fn new(
        graph: Arc<Graph>,
        sink: Option<Box<dyn CommitSink>>,
        last_ts: u64,
        read_only: bool,
    ) -> TxnManager {
        TxnManager {
            graph,
            published: AtomicU64::new(last_ts),
            next_txn: AtomicU64::new(1),
            commit_lock: Mutex::new(last_ts),
            publish_turn: Mutex::new(TurnWaiters([0; TURN_SLOTS])),
            published_cvs: std::array::from_fn(|_| Condvar::new()),
            sink,
            group: Mutex::new(Group::default()),
            poisoned: Mutex::new(None),
            is_poisoned: std::sync::atomic::AtomicBool::new(false),
            read_only,
            active: AtomicU64::new(0),
            slots: Snapshots::default(),
            registry: Mutex::new(Registry::default()),
            recent: Mutex::new(VecDeque::new()),
            busy_timeout: Duration::ZERO,
            waits: Mutex::new(HashMap::new()),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            ended: Condvar::new(),
            counters: Counters::default(),
            committing: Mutex::new(HashSet::new()),
            opened_ts: last_ts,
        }
    }

    /// Reads every counter. Counting retained versions walks the whole graph.
    pub fn stats(&self) -> TxnStats {
        let mut s = TxnStats::read(&self.counters);
        s.last_commit_ts = self.last_commit_ts();
        s.commits = s.last_commit_ts - self.opened_ts;
        s.active_transactions = self.active_transactions();
        s.oldest_snapshot_age_ms = self.running().iter().map(|t| t.age_ms).max().unwrap_or(0);
        s.versions_retained = self.graph.version_count() as u64;
        s.index_keys_in_memory = self.graph.read().schema.keys_in_memory() as u64;
        s.commit_summaries_retained = self.retained_summaries() as u64;
        s.wal_bytes = self.sink.as_ref().map_or(0, |w| w.log_bytes());
        s
    }

    /// The running transactions, oldest first.
    pub fn running(&self) -> Vec<RunningTxn> {
        let waits = lock(&self.waits).clone();
        let mut all: Vec<SlotTxn> = self.slots.list();
        all.extend(lock(&self.registry).running.iter().map(|(&id, t)| SlotTxn {
            id,
            snapshot: t.snapshot,
            info: t.info,
        }));
        let mut out: Vec<RunningTxn> = all
            .into_iter()
            .map(|t| RunningTxn {
                id: t.id,
                kind: t.info.kind,
                isolation: t.info.isolation,
                snapshot: t.snapshot,
                age_ms: u64::try_from(t.info.started.elapsed().as_millis()).unwrap_or(u64::MAX),
                waiting_for: waits.get(&t.id).copied(),
            })
            .collect();
        out.sort_by_key(|t| t.id);
        out
    }

    /// Lets a write wait up to `timeout` for a running transaction that holds the entity,
    /// instead of failing with `Conflict` at once.
    pub fn with_busy_timeout(mut self, timeout: Duration) -> TxnManager {
        self.busy_timeout = timeout;
        self
    }

    /// Wakes the writers waiting for a transaction that no longer runs (its registration
    /// ended). A waiter is counted for as long as it waits: none counted, none to wake.
    pub(super) fn wake_waiters(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            // Taking the lock: a counted waiter is either about to look at the registry
            // again (and sees the holder gone) or already asleep (and woken).
            let _waits = lock(&self.waits);
            self.ended.notify_all();
        }
    }

    pub(super) fn is_running(&self, txn: u64) -> bool {
        self.slots.contains(txn) || lock(&self.registry).running.contains_key(&txn)
    }

    /// Number of commit summaries kept for serializable validation.
    pub fn retained_summaries(&self) -> usize {
        lock(&self.recent).len()
    }

    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    pub fn last_commit_ts(&self) -> u64 {
        self.published.load(Ordering::Acquire)
    }

    pub fn active_transactions(&self) -> u64 {
        self.active.load(Ordering::Relaxed)
    }

    pub(super) fn poison_message(&self) -> Option<String> {
        if !self.is_poisoned.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.poisoned).clone()
    }

    pub(super) fn poison(&self, why: &str) {
        let mut p = lock(&self.poisoned);
        if p.is_none() {
            *p = Some(why.to_owned());
        }
        self.is_poisoned.store(true, Ordering::Release);
    }

    /// Runs `f` while no commit can take a timestamp (the commit lock is held) and after
    /// every timestamp handed out so far has published; `f` gets the newest one. A hook for
    /// checkpoints: they rotate the log and fix their snapshot (data and schema) at one point.
    pub fn quiesced<R>(&self, f: impl FnOnce(u64) -> R) -> R {
        let last = lock(&self.commit_lock);
        drop(self.wait_publish_turn(*last + 1));
        f(*last)
    }

    /// A commit made outside any transaction (bulk import): runs `install(ts)` with the next
    /// timestamp while no commit can take one and every earlier one has published. `install`
    /// must put versions stamped `ts` in the graph (invisible until published) and make them
    /// durable itself; on `Ok` the timestamp is taken and published with a summary that
    /// conflicts with every serializable transaction that began before it (it may have read
    /// anything), on `Err` nothing is taken and `install` must have left the graph as it was.
    pub fn commit_external<R>(&self, install: impl FnOnce(u64) -> Result<R>) -> Result<R> {
        if self.read_only {
            return Err(Error::read_only(
                "the database was opened read-only; reopen it with access_mode=read_write to \
                 import",
            ));
        }
        let mut last = lock(&self.commit_lock);
        drop(self.wait_publish_turn(*last + 1));
        if let Some(why) = self.poison_message() {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "the database refuses writes after an I/O failure ({why}); reopen the \
                     database to recover"
                ),
            ));
        }
        let ts = *last + 1;
        let r = install(ts)?;
        *last = ts;
        lock(&self.recent).push_back(CommitSummary {
            ts,
            bulk_import: true,
            ..CommitSummary::default()
        });
        let turn = self.wait_publish_turn(ts);
        {
            let registry = lock(&self.registry);
            self.published.store(ts, Ordering::SeqCst);
            let horizon = self.oldest_validating(&registry).map_or(ts, |o| o.min(ts));
            lock(&self.recent).retain(|s| s.ts > horizon);
        }
        self.end_publish_turn(turn);
        Ok(r)
    }

    /// Blocks until every commit before `ts` has published; the caller publishes `ts` and
    /// then calls `end_publish_turn`.
    pub(super) fn wait_publish_turn(&self, ts: u64) -> std::sync::MutexGuard<'_, TurnWaiters> {
        let mut turn = lock(&self.publish_turn);
        let slot = turn_slot(ts);
        while self.published.load(Ordering::Acquire) + 1 < ts {
            turn.0[slot] += 1;
            turn = self.published_cvs[slot]
                .wait(turn)
                .unwrap_or_else(|e| e.into_inner());
            turn.0[slot] -= 1;
        }
        turn
    }

    /// After publishing `published + 1` (every publish advances it by exactly one, under the
    /// turn): wakes whoever waits for the turn after it.
    pub(super) fn end_publish_turn(&self, turn: std::sync::MutexGuard<'_, TurnWaiters>) {
        let slot = turn_slot(self.published.load(Ordering::Acquire) + 1);
        let waiting = turn.0[slot] > 0;
        drop(turn);
        if waiting {
            self.published_cvs[slot].notify_all();
        }
    }

    /// A read-only process following the writer's log: applies commit `ts`, which must be
    /// the one after the last published, and publishes it. Running transactions keep their
    /// snapshot (the new versions carry `ts`, which they cannot see); the versions the commit
    /// superseded are trimmed as a local commit trims them, so memory stays bounded however
    /// long the process follows. On error nothing is published: the versions applied so far
    /// carry an unpublished timestamp and stay invisible.
    pub fn apply_logged(&self, ts: u64, changes: Vec<Change>) -> Result<()> {
        let published = self.published.load(Ordering::Acquire);
        if !self.read_only || ts != published + 1 {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("commit {ts} applied out of order (published {published})"),
            ));
        }
        // The changes move into the store; what they touched is noted first, for the trim.
        let touched: Vec<Entity> = changes
            .iter()
            .filter_map(|c| match c {
                Change::PutNode { id, .. } | Change::DeleteNode(id) => Some(Entity::Node(*id)),
                Change::PutRel { id, .. } | Change::DeleteRel(id) => Some(Entity::Rel(*id)),
                _ => None,
            })
            .collect();
        self.graph.write().apply(&self.graph.catalog, ts, changes)?;
        *lock(&self.commit_lock) = ts;
        let running = {
            // Under the registration lock, as a commit publishes (see `begin`).
            let registry = lock(&self.registry);
            self.published.store(ts, Ordering::SeqCst);
            self.running_snapshots(&registry)
        };
        trim_entities(&mut self.graph.write(), &touched, &running, ts);
        Ok(())
    }

    /// The snapshots of the running transactions (any order). Call with the registry locked,
    /// after storing `published` (src/txn/snapshots.rs says why that keeps them all).
    pub(super) fn running_snapshots(&self, registry: &Registry) -> Vec<u64> {
        let mut out = registry.snapshots();
        self.slots.snapshots(&mut out);
        out
    }

    /// The oldest snapshot of a running serializable writer; called as `running_snapshots`.
    pub(super) fn oldest_validating(&self, registry: &Registry) -> Option<u64> {
        match (registry.oldest_validating(), self.slots.oldest_validating()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn begin(self: &Arc<Self>, kind: TxnKind, isolation: Isolation) -> Transaction {
        let id = self.next_txn.fetch_add(1, Ordering::Relaxed);
        self.active.fetch_add(1, Ordering::Relaxed);
        let validates = kind == TxnKind::ReadWrite && isolation == Isolation::Serializable;
        if let Some((slot, snapshot)) =
            self.slots
                .register(&self.published, id, kind, isolation, validates)
        {
            return self.transaction(id, snapshot, kind, isolation, Registration::Slot(slot));
        }
        let snapshot = {
            // Taking the snapshot under the lock that pruning and version GC read guarantees
            // that everything this snapshot may need is kept until the transaction ends.
            let mut r = lock(&self.registry);
            let snapshot = self.published.load(Ordering::Acquire);
            r.running.insert(
                id,
                Running {
                    snapshot,
                    info: TxnInfo {
                        started: Instant::now(),
                        kind,
                        isolation,
                    },
                },
            );
            if validates {
                r.validating.insert(id);
            }
            snapshot
        };
        self.transaction(id, snapshot, kind, isolation, Registration::Registry)
    }

    fn transaction(
        self: &Arc<Self>,
        id: u64,
        snapshot: u64,
        kind: TxnKind,
        isolation: Isolation,
        registration: Registration,
    ) -> Transaction {
        let validates = kind == TxnKind::ReadWrite && isolation == Isolation::Serializable;
        Transaction {
            mgr: Arc::clone(self),
            vis: Visibility {
                snapshot,
                own: UNCOMMITTED | id,
            },
            reads: validates.then(|| RefCell::new(ReadSet::default())),
            kind,
            isolation,
            undo: Vec::new(),
            touched: Vec::new(),
            touched_set: rustc_hash::FxHashSet::default(),
            doomed: None,
            finished: false,
            registration,
        }
    }
}

/// Condvars the publish turn is spread over (see `TxnManager::publish_turn`).
const TURN_SLOTS: usize = 16;

fn turn_slot(ts: u64) -> usize {
    (ts % TURN_SLOTS as u64) as usize
}

/// How many committers wait on each publish-turn slot.
pub(super) struct TurnWaiters([u32; TURN_SLOTS]);

/// Running transactions, for deciding what old state must be kept.
/// Fx hashing: the keys are our own sequential ids, not attacker-chosen, and every statement
/// inserts and removes here.
#[derive(Default)]
pub(super) struct Registry {
    /// Each running transaction, by id: one entry, so a statement's begin and end are one
    /// insertion and one removal.
    running: rustc_hash::FxHashMap<u64, Running>,
    /// Ids of running serializable read-write transactions (they validate against summaries).
    validating: rustc_hash::FxHashSet<u64>,
}

/// Where a transaction's snapshot is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Registration {
    /// A slot of `TxnManager::slots`.
    Slot(usize),
    /// `TxnManager::registry` (every slot was taken).
    Registry,
    /// Not (any more).
    None,
}

impl TxnManager {
    /// Ends a registration; `registry` is the locked registry when the caller holds it.
    pub(super) fn unregister_in(&self, id: u64, reg: Registration, registry: &mut Registry) {
        match reg {
            Registration::Slot(i) => self.slots.release(i),
            Registration::Registry => registry.remove(id),
            Registration::None => {}
        }
    }

    fn unregister(&self, id: u64, reg: Registration) {
        match reg {
            Registration::Slot(i) => self.slots.release(i),
            Registration::Registry => lock(&self.registry).remove(id),
            Registration::None => {}
        }
    }
}

/// A running transaction's snapshot, and what `SHOW TRANSACTIONS` lists.
struct Running {
    snapshot: u64,
    info: TxnInfo,
}

impl Registry {
    pub(super) fn remove(&mut self, id: u64) {
        self.running.remove(&id);
        if !self.validating.is_empty() {
            self.validating.remove(&id);
        }
    }

    /// How many transactions are registered here (not in slots).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.running.len()
    }

    /// The snapshots of the running transactions (any order).
    pub(super) fn snapshots(&self) -> Vec<u64> {
        self.running.values().map(|t| t.snapshot).collect()
    }

    pub(super) fn oldest_validating(&self) -> Option<u64> {
        self.validating
            .iter()
            .filter_map(|id| self.running.get(id).map(|t| t.snapshot))
            .min()
    }
}

/// Drops the versions of `chain` that nobody can see any more: kept are our uncommitted
/// head (if any), for each running snapshot in `snapshots` the version it sees, and every
/// version a snapshot at or above `floor` may see (the one visible at `floor` and all newer
/// committed ones). `floor` covers transactions that begin after `snapshots` was read: they
/// take a snapshot of at least the timestamp published then, and `floor` must be that
/// timestamp. A deletion that is the only thing left drops the whole chain.
pub(super) fn trim_chain<T>(chain: &mut VersionChain<T>, snapshots: &[u64], floor: u64) {
    let committed = |v: &Version<T>| v.stamp < UNCOMMITTED;
    let mut keep: Vec<bool> = chain
        .iter()
        .map(|v| !committed(v) || v.stamp > floor)
        .collect();
    for &s in snapshots.iter().chain(std::iter::once(&floor)) {
        if let Some(i) = chain.iter().rposition(|v| committed(v) && v.stamp <= s) {
            keep[i] = true;
        }
    }
    let mut i = 0;
    chain.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    if chain.len() == 1 && chain[0].data.is_none() && committed(&chain[0]) {
        chain.clear();
    }
}

/// Moves the stamp of each of `entities`' head versions from `from` to `to` (a commit's
/// uncommitted stamp to its timestamp when it publishes, or back after a failed image
/// commit). A head stamped otherwise is not the committer's and stays: no other writer can
/// stack a version on an uncommitted one, whose writes conflict.
pub(super) fn restamp_heads(g: &mut GraphData, entities: &[Entity], from: u64, to: u64) {
    for &e in entities {
        let head = match e {
            Entity::Node(id) => g
                .node_entry_mut(id)
                .and_then(|n| n.versions.last_mut())
                .map(|v| &mut v.stamp),
            Entity::Rel(id) => g
                .rel_entry_mut(id)
                .and_then(|r| r.versions.last_mut())
                .map(|v| &mut v.stamp),
        };
        if let Some(stamp) = head.filter(|s| **s == from) {
            *stamp = to;
        }
    }
}

/// Version GC for `entities` (see `trim_chain`), keeping node index entries in step.
/// A chain of one version with data (a node or relationship created by the commit) has
/// nothing to drop: that version is visible at `floor` or newer than it, and its index
/// entries are exactly its values (an in-place edit by its creator pruned the older ones).
pub(super) fn trim_entities(g: &mut GraphData, entities: &[Entity], running: &[u64], floor: u64) {
    for &e in entities {
        match e {
            Entity::Node(id) => {
                if let Some((n, schema)) = g.node_and_schema_mut(id) {
                    if n.versions.len() == 1 && n.versions[0].data.is_some() {
                        continue;
                    }
                    // Also drops entries of values our own version replaced in place.
                    let before = schema.entries(&n.versions);
                    trim_chain(&mut n.versions, running, floor);
                    schema.prune(id, before, &n.versions);
                }
            }
            Entity::Rel(id) => {
                if let Some(r) = g.rel_entry_mut(id) {
                    if r.versions.len() == 1 && r.versions[0].data.is_some() {
                        continue;
                    }
                    trim_chain(&mut r.versions, running, floor);
                }
            }
        }
    }
}

/// Has a queued commit published as empty if its committer unwinds (a panic) before it
/// published, and refuses further writes: a bug must not hang every later commit. On normal
/// returns (success or a handled failure) it does nothing.
struct PublishOnUnwind<'a> {
    mgr: &'a TxnManager,
    ts: u64,
}

impl Drop for PublishOnUnwind<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() || self.mgr.published.load(Ordering::Acquire) >= self.ts {
            return;
        }
        self.mgr
            .poison("an internal error interrupted a commit; reopen the database to recover");
        self.mgr.abandon(self.ts);
    }
}

/// Every mutex here guards state that each critical section leaves consistent, so a
/// poisoned lock (a panic elsewhere while holding it) is safe to keep using.
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A point the transaction can return to, undoing every write made since (statement
/// atomicity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint(usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Entity {
    Node(NodeId),
    Rel(RelId),
}

/// How to undo one write.
enum Undo {
    /// Remove the newest (our) version of the node.
    PopNode(NodeId),
    /// Put back our version's previous content.
    RestoreNode(NodeId, Option<NodeData>),
    PopRel(RelId),
    RestoreRel(RelId, Option<RelData>),
}

/// One transaction: a snapshot plus its own uncommitted writes.
///
/// Reads see exactly the commits at or below the snapshot timestamp plus this transaction's
/// own writes. Writes fail with `ReadOnly` in a read-only transaction and with `Conflict` when
/// another transaction holds or has committed (after this snapshot) a newer version of the
/// same entity; after a `Conflict` the transaction is doomed and only rollback remains.
/// Dropping an unfinished transaction rolls it back.
pub struct Transaction {
    mgr: Arc<TxnManager>,
    vis: Visibility,
    kind: TxnKind,
    isolation: Isolation,
    /// What this transaction read; `Some` only for serializable read-write transactions.
    reads: Option<RefCell<ReadSet>>,
    undo: Vec<Undo>,
    /// Entities written, first-write order (for commit).
    touched: Vec<Entity>,
    touched_set: rustc_hash::FxHashSet<Entity>,
    doomed: Option<Error>,
    finished: bool,
    /// Where its snapshot is registered (until it ends, or a group publishes its commit).
    registration: Registration,
}

/// What a write may do after looking at a chain's head.
enum HeadCheck {
    Ready(Head),
    /// Another running transaction (this id) holds the head.
    WaitFor(u64),
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entity::Node(id) => write!(f, "node {id}"),
            Entity::Rel(id) => write!(f, "relationship {id}"),
        }
    }
}

/// What a write finds at the head of an entity's chain.
enum Head {
    /// Our own uncommitted version: edit in place.
    Own,
    /// A committed version we can see and may supersede.
    Committed,
}

fn node_missing(id: NodeId) -> Error {
    Error::new(
        ErrorKind::Error,
        format!("node {id} does not exist or has been deleted"),
    )
}

fn rel_missing(id: RelId) -> Error {
    Error::new(
        ErrorKind::Error,
        format!("relationship {id} does not exist or has been deleted"),
    )
}

impl Transaction {
    pub fn kind(&self) -> TxnKind {
        self.kind
    }

    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// The database's transaction counters (`CALL db.stats()`).
    pub fn database_stats(&self) -> TxnStats {
        self.mgr.stats()
    }

    /// The commit timestamp this transaction reads at.
    pub fn snapshot(&self) -> u64 {
        self.vis.snapshot
    }

    /// Whether this transaction has written anything (still undone writes count).
    pub fn has_writes(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Records a read for serializable validation.
    fn note(&self, f: impl FnOnce(&mut ReadSet)) {
        if let Some(r) = &self.reads {
            f(&mut r.borrow_mut());
        }
    }

    fn note_node(&self, id: NodeId) {
        self.note(|r| {
            r.nodes.insert(id);
        });
    }

    fn note_rel(&self, id: RelId) {
        self.note(|r| {
            r.rels.insert(id);
        });
    }

    // ---- catalog -------------------------------------------------------------------------
    // A name that is not interned yet makes a reader skip the scan, expansion or property
    // read it would have recorded; the absence itself is recorded instead (see validation).
    pub fn label_id(&self, name: &str) -> Option<LabelId> {
        let id = self.mgr.graph.catalog.labels.get(name);
        if id.is_none() {
            self.note_absent(NameKind::Label, name);
        }
        id
    }
    pub fn rel_type_id(&self, name: &str) -> Option<TypeId> {
        let id = self.mgr.graph.catalog.rel_types.get(name);
        if id.is_none() {
            self.note_absent(NameKind::RelType, name);
        }
        id
    }
    /// The uid of the catalog names resolve in (see `Catalog::uid`).
    pub fn catalog_uid(&self) -> u32 {
        self.mgr.graph.catalog.uid()
    }

    pub fn key_id(&self, name: &str) -> Option<KeyId> {
        let id = self.mgr.graph.catalog.keys.get(name);
        if id.is_none() {
            self.note_absent(NameKind::Key, name);
        }
        id
    }

    fn note_absent(&self, kind: NameKind, name: &str) {
        self.note(|r| {
            r.absent_names.insert((kind, name.to_owned()));
        });
    }
    pub fn label_name(&self, id: LabelId) -> Arc<str> {
        self.mgr.graph.catalog.labels.name(id)
    }
    pub fn rel_type_name(&self, id: TypeId) -> Arc<str> {
        self.mgr.graph.catalog.rel_types.name(id)
    }
    pub fn key_name(&self, id: KeyId) -> Arc<str> {
        self.mgr.graph.catalog.keys.name(id)
    }
    /// Interns a name for writing (ids are never reused, even if the write rolls back).
    pub fn intern_label(&mut self, name: &str) -> LabelId {
        self.mgr.graph.catalog.labels.intern(name)
    }
    pub fn intern_rel_type(&mut self, name: &str) -> TypeId {
        self.mgr.graph.catalog.rel_types.intern(name)
    }
    pub fn intern_key(&mut self, name: &str) -> KeyId {
        self.mgr.graph.catalog.keys.intern(name)
    }
    /// Every label name ever used (for `db.labels()`-style listings).
    pub fn all_labels(&self) -> Vec<Arc<str>> {
        self.mgr.graph.catalog.labels.names()
    }
    pub fn all_rel_types(&self) -> Vec<Arc<str>> {
        self.mgr.graph.catalog.rel_types.names()
    }
    pub fn all_keys(&self) -> Vec<Arc<str>> {
        self.mgr.graph.catalog.keys.names()
    }

    // ---- reads at this transaction's snapshot ---------------------------------------------
    pub fn node_exists(&self, id: NodeId) -> bool {
        self.note_node(id);
        self.mgr.graph.read().node(id, self.vis).is_some()
    }

    pub fn rel_exists(&self, id: RelId) -> bool {
        self.note_rel(id);
        self.mgr.graph.read().rel(id, self.vis).is_some()
    }

    /// Every visible node, ascending id.
    pub fn scan_nodes(&self) -> Vec<NodeId> {
        self.mgr.counters.node_scan();
        self.note(|r| r.all_nodes = true);
        let g = self.mgr.graph.read();
        (0..g.node_slots())
            .filter(|&id| g.node(id, self.vis).is_some())
            .collect()
    }

    /// Every visible node that has `label`, ascending id.
    pub fn scan_nodes_by_label(&self, label: LabelId) -> Vec<NodeId> {
        self.mgr.counters.label_scan();
        self.note(|r| {
            r.labels.insert(label);
        });
        self.mgr.graph.read().nodes_with_label(label, self.vis)
    }

    /// Nodes with `label` whose `key` value lies in `range`, ascending id, through an index;
    /// `None` (and nothing recorded) when no index on `(label, key)` is usable by this
    /// transaction (none exists, or it was created after this transaction's snapshot).
    /// Under SERIALIZABLE the lookup is a predicate read: a concurrent commit that moves a
    /// node into or out of the range invalidates it.
    pub fn index_seek(&self, label: LabelId, key: KeyId, range: &KeyRange) -> Option<Vec<NodeId>> {
        let found = self
            .mgr
            .graph
            .read()
            .index_seek(label, key, range, self.vis)?;
        self.mgr.counters.index_seek();
        self.note(|r| r.index.push((label, key, range.clone())));
        Some(found)
    }

    /// Whether an index on `(label, key)` is usable by this transaction.
    pub fn has_index(&self, label: LabelId, key: KeyId) -> bool {
        self.mgr
            .graph
            .read()
            .schema
            .usable(label, key, self.vis.snapshot)
            .is_some()
    }

    /// Calls `f` with the visible node `id` as the store holds it (one latch, one read
    /// recorded): a node of the base image is read in place, decoding only what `f` asks for
    /// (`NodeRef::has_label`, `NodeRef::prop`). `None` when the node is not visible.
    pub fn with_node_ref<R>(&self, id: NodeId, f: impl FnOnce(NodeRef<'_>) -> R) -> Option<R> {
        self.note_node(id);
        self.mgr.graph.read().node(id, self.vis).map(f)
    }

    /// Calls `f` with the visible version of node `id` (one latch, one read recorded);
    /// `None` when the node is not visible. A base node is decoded whole for `f`; prefer
    /// `with_node_ref` when only some labels or properties are needed.
    pub fn with_node<R>(&self, id: NodeId, f: impl FnOnce(&NodeData) -> R) -> Option<R> {
        self.note_node(id);
        self.mgr
            .graph
            .read()
            .node(id, self.vis)
            .map(|n| f(&n.data()))
    }

    /// Every visible relationship, ascending id.
    pub fn scan_rels(&self) -> Vec<RelId> {
        self.note(|r| r.all_rels = true);
        let g = self.mgr.graph.read();
        (0..g.rel_slots())
            .filter(|&id| g.rel_step(id, self.vis, true).is_some())
            .collect()
    }

    /// Labels of a visible node (sorted by id); empty when the node is not visible.
    pub fn node_labels(&self, id: NodeId) -> Vec<LabelId> {
        self.note_node(id);
        self.mgr
            .graph
            .read()
            .node(id, self.vis)
            .map(|n| n.labels().into_owned())
            .unwrap_or_default()
    }

    pub fn node_has_label(&self, id: NodeId, label: LabelId) -> bool {
        self.note_node(id);
        self.mgr
            .graph
            .read()
            .node(id, self.vis)
            .is_some_and(|n| n.has_label(label))
    }

    /// `Value::Null` when the node or the property does not exist.
    pub fn node_property(&self, id: NodeId, key: KeyId) -> Value {
        self.note_node(id);
        self.mgr
            .graph
            .read()
            .node(id, self.vis)
            .and_then(|n| n.prop(key).map(Cow::into_owned))
            .unwrap_or(Value::Null)
    }

    /// All properties, sorted by key id; empty when the node is not visible.
    pub fn node_properties(&self, id: NodeId) -> Vec<(KeyId, Value)> {
        self.note_node(id);
        self.mgr
            .graph
            .read()
            .node(id, self.vis)
            .map(|n| n.props().to_list().into_owned())
            .unwrap_or_default()
    }

    /// The type of a visible relationship, or of one this transaction deleted (a type never
    /// changes, and `type(r)` after `DELETE r` still answers in Cypher).
    pub fn rel_type(&self, id: RelId) -> Option<TypeId> {
        self.note_rel(id);
        let g = self.mgr.graph.read();
        match g.rel_step(id, self.vis, true) {
            Some((_, t)) => Some(t),
            None => g
                .rel_entry(id)
                .filter(|e| self.is_own_tombstone(e.versions.last()))
                .map(|e| e.rel_type),
        }
    }

    fn is_own_tombstone<T>(&self, head: Option<&Version<T>>) -> bool {
        head.is_some_and(|v| v.stamp == self.vis.own && v.data.is_none())
    }

    /// Whether this transaction deleted the node (reading it is then an error in Cypher).
    pub fn node_deleted_here(&self, id: NodeId) -> bool {
        let g = self.mgr.graph.read();
        self.is_own_tombstone(g.node_entry(id).and_then(|e| e.versions.last()))
    }

    /// Whether this transaction deleted the relationship.
    pub fn rel_deleted_here(&self, id: RelId) -> bool {
        let g = self.mgr.graph.read();
        self.is_own_tombstone(g.rel_entry(id).and_then(|e| e.versions.last()))
    }

    /// `(start, end)` of a visible relationship.
    pub fn rel_endpoints(&self, id: RelId) -> Option<(NodeId, NodeId)> {
        self.note_rel(id);
        self.mgr
            .graph
            .read()
            .rel(id, self.vis)
            .map(|r| (r.start, r.end))
    }

    pub fn rel_property(&self, id: RelId, key: KeyId) -> Value {
        self.note_rel(id);
        self.mgr
            .graph
            .read()
            .rel(id, self.vis)
            .and_then(|r| r.prop(key).map(Cow::into_owned))
            .unwrap_or(Value::Null)
    }

    pub fn rel_properties(&self, id: RelId) -> Vec<(KeyId, Value)> {
        self.note_rel(id);
        self.mgr
            .graph
            .read()
            .rel(id, self.vis)
            .map(|r| r.props.to_list().into_owned())
            .unwrap_or_default()
    }

    /// Visible relationships of `node` in `dir`, restricted to `types` unless it is empty, as
    /// `(relationship, other node)` in ascending relationship id. For `Both`, a self-loop
    /// appears once.
    pub fn expand(&self, node: NodeId, dir: Direction, types: &[TypeId]) -> Vec<(RelId, NodeId)> {
        self.note(|r| {
            r.adjacency.insert(node);
        });
        let mut out = Vec::new();
        expand_in(&self.mgr.graph.read(), self.vis, node, dir, types, &mut out);
        out
    }

    /// Many reads under one acquisition of the graph latch, at this transaction's snapshot
    /// (its own writes included): the batch executor's primitive. `None` when the
    /// transaction records its reads for serializable validation (a view records nothing;
    /// such transactions read row by row).
    ///
    /// The view holds the latch until dropped, and writers wait for it: hold one for a
    /// bounded batch of work, never across a call back into this transaction.
    pub fn read_view(&self) -> Option<ReadView<'_>> {
        self.view_source().map(|s| s.view())
    }

    /// What [`Transaction::read_view`] reads from, as a `Sync` handle: threads working for
    /// one statement of this transaction each take their own views (the transaction itself,
    /// with its read set, stays on its thread). `None` when the transaction records its
    /// reads, as for `read_view`.
    pub fn view_source(&self) -> Option<ViewSource<'_>> {
        if self.reads.is_some() {
            return None;
        }
        Some(ViewSource {
            graph: &self.mgr.graph,
            vis: self.vis,
        })
    }

    // ---- writes --------------------------------------------------------------------------

    fn check_writable(&self) -> Result<()> {
        if let Some(e) = &self.doomed {
            return Err(Error::new(
                e.kind(),
                format!(
                    "the transaction can only be rolled back after an earlier failure: {}",
                    e.message()
                ),
            ));
        }
        if self.finished {
            return Err(Error::transaction_state(
                "the transaction has already ended",
            ));
        }
        if self.kind == TxnKind::ReadOnly || self.mgr.read_only {
            return Err(Error::read_only(if self.mgr.read_only {
                "the database was opened read-only; reopen it with access_mode=read_write to write"
            } else {
                "this transaction is read-only; begin a read-write transaction to write"
            }));
        }
        if let Some(why) = self.mgr.poison_message() {
            return Err(Error::new(
                ErrorKind::Io,
                format!("the database refuses writes after an I/O failure ({why}); reopen the database to recover"),
            ));
        }
        Ok(())
    }

    /// Decides whether we may write a chain whose newest version has `stamp`: our own
    /// version, a committed one we can see, or another running transaction's (then we wait
    /// for it, if waiting is allowed). Anything else is a conflict and dooms us.
    fn classify_head(&mut self, stamp: Option<u64>, what: &str) -> Result<HeadCheck> {
        let Some(stamp) = stamp else {
            return Err(Error::new(
                ErrorKind::Error,
                format!("{what} does not exist"),
            ));
        };
        if stamp == self.vis.own {
            return Ok(HeadCheck::Ready(Head::Own));
        }
        if stamp >= UNCOMMITTED {
            if !self.mgr.busy_timeout.is_zero() {
                return Ok(HeadCheck::WaitFor(stamp & !UNCOMMITTED));
            }
            return Err(self.doom(
                ConflictCause::WriteWrite,
                Error::conflict(format!(
                    "{what} is being changed by another transaction that has not finished; \
                 this transaction was rolled back, retry it (or set busy_timeout_ms to wait)"
                )),
            ));
        }
        if stamp > self.vis.snapshot {
            return Err(self.doom(
                ConflictCause::WriteWrite,
                Error::conflict(format!(
                    "{what} was changed by a transaction that committed after this one began; \
                 this transaction was rolled back, retry it"
                )),
            ));
        }
        Ok(HeadCheck::Ready(Head::Committed))
    }

    /// Takes the graph latch with `e`'s chain writable by us. While another running
    /// transaction holds `e`, waits for it with the latch released: if it commits, we
    /// conflict; if it rolls back, we proceed.
    fn acquire<'g>(
        &mut self,
        graph: &'g Graph,
        e: Entity,
    ) -> Result<(RwLockWriteGuard<'g, GraphData>, Head)> {
        let what = e.to_string();
        let deadline = Instant::now() + self.mgr.busy_timeout;
        loop {
            let mut g = graph.write();
            let stamp = match e {
                Entity::Node(id) => g.node_head(id).map(|(stamp, _)| stamp),
                Entity::Rel(id) => g.rel_head(id).map(|(stamp, _)| stamp),
            };
            match self.classify_head(stamp, &what)? {
                HeadCheck::Ready(head) => {
                    // A base entity gets its delta entry (base version first) to write to.
                    match e {
                        Entity::Node(id) => drop(g.materialize_node(id)),
                        Entity::Rel(id) => drop(g.materialize_rel(id)),
                    }
                    return Ok((g, head));
                }
                HeadCheck::WaitFor(holder) => {
                    drop(g);
                    self.wait_for(holder, deadline, &what)?;
                }
            }
        }
    }

    /// Blocks until transaction `holder` ends or `deadline` passes. A wait that would close a
    /// cycle of waiting transactions is a deadlock: this transaction is the victim.
    fn wait_for(&mut self, holder: u64, deadline: Instant, what: &str) -> Result<()> {
        let me = self.id();
        let mgr = Arc::clone(&self.mgr);
        let mut waits = lock(&mgr.waits);
        let mut cur = holder;
        for _ in 0..=waits.len() {
            if cur == me {
                drop(waits);
                return Err(self.doom(
                    ConflictCause::Deadlock,
                    Error::conflict(format!(
                        "deadlock: this transaction waited for {what}, held by a transaction that \
                     (directly or through others) waits for this one; this transaction was \
                     chosen as the victim and rolled back, retry it"
                    )),
                ));
            }
            match waits.get(&cur) {
                Some(&next) => cur = next,
                None => break,
            }
        }
        waits.insert(me, holder);
        mgr.waiting.fetch_add(1, Ordering::SeqCst);
        let since = Instant::now();
        let outcome = loop {
            if !mgr.is_running(holder) {
                break Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                break Err(Error::new(
                    ErrorKind::Busy,
                    format!(
                        "timed out after {} ms waiting for another transaction to finish with \
                         {what}; retry, or raise busy_timeout_ms",
                        mgr.busy_timeout.as_millis()
                    ),
                ));
            }
            waits = mgr
                .ended
                .wait_timeout(waits, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        waits.remove(&me);
        mgr.waiting.fetch_sub(1, Ordering::SeqCst);
        mgr.counters.waited(since, outcome.is_err());
        outcome
    }

    fn doom(&mut self, cause: ConflictCause, e: Error) -> Error {
        self.mgr.counters.conflict(cause);
        self.doomed = Some(e.clone());
        e
    }

    fn touch(&mut self, e: Entity) {
        if self.touched_set.insert(e) {
            self.touched.push(e);
        }
    }

    /// Statement-level uniqueness: refuses a node version `next` (replacing `current`) that
    /// would give `(label, key)` under a uniqueness constraint a value another node visible
    /// to us already has. Nothing is written; the transaction goes on.
    fn check_unique_write(
        &self,
        g: &GraphData,
        id: NodeId,
        current: Option<&NodeData>,
        next: &NodeData,
    ) -> Result<()> {
        if !g.schema.has_unique() {
            return Ok(());
        }
        for &l in &next.labels {
            for def in g.schema.unique_on(l) {
                let Some(v) = prop_get(&next.props, def.key) else {
                    continue;
                };
                let unchanged = current.is_some_and(|c| {
                    c.labels.binary_search(&l).is_ok()
                        && prop_get(&c.props, def.key)
                            .is_some_and(|old| key_cmp(old, v) == std::cmp::Ordering::Equal)
                });
                if unchanged {
                    continue;
                }
                let Some(idx) = g.schema.contents(l, def.key) else {
                    continue;
                };
                for &other in idx.candidates(&KeyRange::eq(v.clone())).iter() {
                    if other == id {
                        continue;
                    }
                    let clash = g.node(other, self.vis).is_some_and(|n| {
                        n.has_label(l)
                            && n.prop(def.key)
                                .is_some_and(|o| key_cmp(&o, v) == std::cmp::Ordering::Equal)
                    });
                    if clash {
                        return Err(self.unique_violation(&def.name, l, def.key, v, other));
                    }
                }
            }
        }
        Ok(())
    }

    fn unique_violation(
        &self,
        constraint: &str,
        label: LabelId,
        key: KeyId,
        v: &Value,
        other: NodeId,
    ) -> Error {
        let cat = &self.mgr.graph.catalog;
        Error::new(
            ErrorKind::ConstraintViolation,
            format!(
                "node {other} already has label `{}` and property `{}` = {}, and the uniqueness \
                 constraint '{constraint}' allows only one such node; use another value, or \
                 MERGE to reuse the existing node",
                cat.labels.name(label),
                cat.keys.name(key),
                show_value(v)
            ),
        )
    }

    /// Commit-time uniqueness, under the commit lock: none of our node versions may share a
    /// constrained `(label, key)` value with the newest committed (or committing) state of
    /// another node, or with another of our own. Together with the same check in every
    /// earlier commit, the committed state stays free of duplicates.
    fn check_unique_commit(&self) -> Result<()> {
        let g = self.mgr.graph.read();
        if !g.schema.has_unique() {
            return Ok(());
        }
        let committing = lock(&self.mgr.committing);
        let state = |id: NodeId| -> Option<NodeRef<'_>> {
            let Some(entry) = g.node_entry(id) else {
                return g.base_node(id);
            };
            let versions = &entry.versions;
            let head = versions.last()?;
            let settled = head.stamp == self.vis.own
                || head.stamp < UNCOMMITTED
                || committing.contains(&(head.stamp & !UNCOMMITTED));
            if settled {
                head.data.as_ref().map(NodeRef::Delta)
            } else {
                versions
                    .iter()
                    .rev()
                    .find(|v| v.stamp < UNCOMMITTED)
                    .and_then(|v| v.data.as_ref())
                    .map(NodeRef::Delta)
            }
        };
        for &e in &self.touched {
            let Entity::Node(id) = e else { continue };
            let Some(d) = g
                .node_entry(id)
                .and_then(|n| n.versions.last())
                .filter(|h| h.stamp == self.vis.own)
                .and_then(|h| h.data.as_ref())
            else {
                continue;
            };
            for &l in &d.labels {
                for def in g.schema.unique_on(l) {
                    let Some(v) = prop_get(&d.props, def.key) else {
                        continue;
                    };
                    let Some(idx) = g.schema.contents(l, def.key) else {
                        continue;
                    };
                    for &other in idx.candidates(&KeyRange::eq(v.clone())).iter() {
                        if other == id {
                            continue;
                        }
                        let clash = state(other).is_some_and(|n| {
                            n.has_label(l)
                                && n.prop(def.key)
                                    .is_some_and(|o| key_cmp(&o, v) == std::cmp::Ordering::Equal)
                        });
                        if clash {
                            return Err(self.unique_violation(&def.name, l, def.key, v, other));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Applies `f` to a writable copy of the node's current data, installing it as our version.
    /// `f` returns whether it changed anything; unchanged data installs nothing.
    fn update_node(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut NodeData) -> Result<bool>,
    ) -> Result<bool> {
        self.check_writable()?;
        let graph = Arc::clone(&self.mgr.graph);
        let (mut g, state) = self.acquire(&graph, Entity::Node(id))?;
        let entry = g.node_entry(id).ok_or_else(|| node_missing(id))?;
        let current = visible(&entry.versions, self.vis)
            .and_then(|v| v.data.clone())
            .ok_or_else(|| node_missing(id))?;
        let mut next = current.clone();
        if !f(&mut next)? {
            return Ok(false);
        }
        self.check_unique_write(&g, id, Some(&current), &next)?;
        g.note_node(id, &next);
        let (entry, schema) = g.node_and_schema_mut(id).ok_or_else(|| node_missing(id))?;
        match state {
            Head::Own => {
                // Our version is replaced in place: its entries go unless another version
                // carries them (undo files them again).
                let before = schema.entries(&entry.versions);
                if let Some(v) = entry.versions.last_mut() {
                    v.data = Some(next);
                }
                schema.prune(id, before, &entry.versions);
                self.undo.push(Undo::RestoreNode(id, Some(current)));
            }
            Head::Committed => {
                entry.versions.push(Version {
                    stamp: self.vis.own,
                    data: Some(next),
                });
                self.undo.push(Undo::PopNode(id));
            }
        }
        self.touch(Entity::Node(id));
        Ok(true)
    }

    fn update_rel(&mut self, id: RelId, f: impl FnOnce(&mut RelData) -> bool) -> Result<bool> {
        self.check_writable()?;
        let graph = Arc::clone(&self.mgr.graph);
        let (mut g, state) = self.acquire(&graph, Entity::Rel(id))?;
        let entry = g.rel_entry_mut(id).ok_or_else(|| rel_missing(id))?;
        let current = visible(&entry.versions, self.vis)
            .and_then(|v| v.data.clone())
            .ok_or_else(|| rel_missing(id))?;
        let mut next = current.clone();
        if !f(&mut next) {
            return Ok(false);
        }
        match state {
            Head::Own => {
                if let Some(v) = entry.versions.last_mut() {
                    v.data = Some(next);
                }
                self.undo.push(Undo::RestoreRel(id, Some(current)));
            }
            Head::Committed => {
                entry.versions.push(Version {
                    stamp: self.vis.own,
                    data: Some(next),
                });
                self.undo.push(Undo::PopRel(id));
            }
        }
        self.touch(Entity::Rel(id));
        Ok(true)
    }

    /// `props` must be storable (`Value::is_storable`); `Null` values are skipped.
    pub fn create_node(
        &mut self,
        labels: &[LabelId],
        props: Vec<(KeyId, Value)>,
    ) -> Result<NodeId> {
        self.check_writable()?;
        let props = normalize_props(props)?;
        let mut labels = labels.to_vec();
        labels.sort_unstable();
        labels.dedup();
        let graph = Arc::clone(&self.mgr.graph);
        let mut g = graph.write();
        let id = g.node_slots();
        let data = NodeData { labels, props };
        self.check_unique_write(&g, id, None, &data)?;
        g.note_node(id, &data);
        g.push_node(crate::storage::graph::NodeEntry {
            versions: VersionChain::one(Version {
                stamp: self.vis.own,
                data: Some(data),
            }),
            out: Vec::new(),
            inc: Vec::new(),
        });
        self.undo.push(Undo::PopNode(id));
        self.touch(Entity::Node(id));
        Ok(id)
    }

    /// Checks that `node` can take a new relationship: visible to us, and not deleted by a
    /// transaction we cannot see (which would leave the relationship dangling).
    fn check_endpoint(&mut self, g: &GraphData, node: NodeId) -> Result<()> {
        if g.node(node, self.vis).is_none() {
            return Err(node_missing(node));
        }
        if let Some((stamp, deleted)) = g.node_head(node) {
            if deleted && !self.vis.sees(stamp) {
                return Err(self.doom(
                    ConflictCause::WriteWrite,
                    Error::conflict(format!(
                    "node {node} is being deleted by another transaction, so no relationship can \
                     be attached to it; this transaction was rolled back, retry it"
                )),
                ));
            }
        }
        Ok(())
    }

    /// Both endpoints must be visible and not deleted.
    pub fn create_rel(
        &mut self,
        start: NodeId,
        end: NodeId,
        rel_type: TypeId,
        props: Vec<(KeyId, Value)>,
    ) -> Result<RelId> {
        self.check_writable()?;
        let props = normalize_props(props)?;
        let graph = Arc::clone(&self.mgr.graph);
        let mut g = graph.write();
        self.check_endpoint(&g, start)?;
        self.check_endpoint(&g, end)?;
        let id = g.push_rel(RelEntry {
            start,
            end,
            rel_type,
            versions: VersionChain::one(Version {
                stamp: self.vis.own,
                data: Some(RelData { props }),
            }),
        });
        self.undo.push(Undo::PopRel(id));
        self.touch(Entity::Rel(id));
        Ok(id)
    }

    /// Sets one property; `Value::Null` removes it. Returns whether anything changed.
    pub fn set_node_property(&mut self, id: NodeId, key: KeyId, value: Value) -> Result<bool> {
        check_storable(&value)?;
        self.update_node(id, |n| Ok(prop_set(&mut n.props, key, value)))
    }

    pub fn set_rel_property(&mut self, id: RelId, key: KeyId, value: Value) -> Result<bool> {
        check_storable(&value)?;
        self.update_rel(id, |r| prop_set(&mut r.props, key, value))
    }

    /// Replaces all properties (`SET n = {...}`); `Null` values in `props` are skipped.
    pub fn replace_node_properties(
        &mut self,
        id: NodeId,
        props: Vec<(KeyId, Value)>,
    ) -> Result<()> {
        let props = normalize_props(props)?;
        self.update_node(id, |n| {
            let changed = n.props != props;
            n.props = props;
            Ok(changed)
        })
        .map(|_| ())
    }

    pub fn replace_rel_properties(&mut self, id: RelId, props: Vec<(KeyId, Value)>) -> Result<()> {
        let props = normalize_props(props)?;
        self.update_rel(id, |r| {
            let changed = r.props != props;
            r.props = props;
            changed
        })
        .map(|_| ())
    }

    /// Returns whether the label was newly added.
    pub fn add_node_label(&mut self, id: NodeId, label: LabelId) -> Result<bool> {
        self.update_node(id, |n| match n.labels.binary_search(&label) {
            Ok(_) => Ok(false),
            Err(i) => {
                n.labels.insert(i, label);
                Ok(true)
            }
        })
    }

    /// Returns whether the label was present and removed.
    pub fn remove_node_label(&mut self, id: NodeId, label: LabelId) -> Result<bool> {
        self.update_node(id, |n| match n.labels.binary_search(&label) {
            Ok(i) => {
                n.labels.remove(i);
                Ok(true)
            }
            Err(_) => Ok(false),
        })
    }

    /// Deletes a node. Without `detach`, a node that still has relationships is refused with
    /// `ConstraintViolation`; with it, they are deleted first. Returns `(node_deleted,
    /// relationships_deleted)`; deleting an already deleted node is a no-op.
    pub fn delete_node(&mut self, id: NodeId, detach: bool) -> Result<(bool, u64)> {
        self.check_writable()?;
        let (attached, hidden) = {
            let g = self.mgr.graph.read();
            if g.node(id, self.vis).is_none() {
                return Ok((false, 0));
            }
            let mut attached = Vec::new();
            let mut hidden = false;
            for r in g.adjacent(id, true).chain(g.adjacent(id, false)) {
                if g.rel_step(r, self.vis, true).is_some() {
                    attached.push(r);
                } else if g
                    .rel_head(r)
                    .is_some_and(|(stamp, deleted)| !deleted && !self.vis.sees(stamp))
                {
                    // A relationship we cannot see that is alive at its head was created by
                    // a concurrent transaction: deleting the node would dangle it.
                    hidden = true;
                }
            }
            attached.sort_unstable();
            attached.dedup();
            (attached, hidden)
        };
        if hidden {
            return Err(self.doom(
                ConflictCause::WriteWrite,
                Error::conflict(format!(
                    "node {id} gained a relationship in a concurrent transaction, so it cannot be \
                 deleted; this transaction was rolled back, retry it"
                )),
            ));
        }
        if !attached.is_empty() && !detach {
            return Err(Error::new(
                ErrorKind::ConstraintViolation,
                format!(
                    "cannot delete node {id} because it still has {} relationship(s); delete them \
                     first or use DETACH DELETE",
                    attached.len()
                ),
            ));
        }
        let mut deleted_rels = 0;
        for r in attached {
            if self.delete_rel(r)? {
                deleted_rels += 1;
            }
        }
        let graph = Arc::clone(&self.mgr.graph);
        let (mut g, state) = self.acquire(&graph, Entity::Node(id))?;
        let (entry, schema) = g.node_and_schema_mut(id).ok_or_else(|| node_missing(id))?;
        match state {
            Head::Own => {
                let before = schema.entries(&entry.versions);
                let last = entry.versions.last_mut().ok_or_else(|| node_missing(id))?;
                let prev = last.data.take();
                schema.prune(id, before, &entry.versions);
                self.undo.push(Undo::RestoreNode(id, prev));
            }
            Head::Committed => {
                entry.versions.push(Version {
                    stamp: self.vis.own,
                    data: None,
                });
                self.undo.push(Undo::PopNode(id));
            }
        }
        self.touch(Entity::Node(id));
        Ok((true, deleted_rels))
    }

    /// Returns whether the relationship existed and was deleted.
    pub fn delete_rel(&mut self, id: RelId) -> Result<bool> {
        self.check_writable()?;
        if self.mgr.graph.read().rel(id, self.vis).is_none() {
            return Ok(false);
        }
        let graph = Arc::clone(&self.mgr.graph);
        let (mut g, state) = self.acquire(&graph, Entity::Rel(id))?;
        let entry = g.rel_entry_mut(id).ok_or_else(|| rel_missing(id))?;
        match state {
            Head::Own => {
                let last = entry.versions.last_mut().ok_or_else(|| rel_missing(id))?;
                let prev = last.data.take();
                self.undo.push(Undo::RestoreRel(id, prev));
            }
            Head::Committed => {
                entry.versions.push(Version {
                    stamp: self.vis.own,
                    data: None,
                });
                self.undo.push(Undo::PopRel(id));
            }
        }
        self.touch(Entity::Rel(id));
        Ok(true)
    }

    // ---- statement atomicity ------------------------------------------------------------------
    pub fn savepoint(&self) -> Savepoint {
        Savepoint(self.undo.len())
    }

    /// Undoes every write made since `sp`.
    pub fn rollback_to(&mut self, sp: Savepoint) {
        if self.undo.len() <= sp.0 {
            return;
        }
        let graph = Arc::clone(&self.mgr.graph);
        let mut g = graph.write();
        while self.undo.len() > sp.0 {
            let Some(u) = self.undo.pop() else { break };
            match u {
                Undo::PopNode(id) => {
                    if let Some((e, schema)) = g.node_and_schema_mut(id) {
                        if e.versions.last().is_some_and(|v| v.stamp == self.vis.own) {
                            let before = schema.entries(&e.versions);
                            e.versions.pop();
                            schema.prune(id, before, &e.versions);
                        }
                    }
                }
                Undo::RestoreNode(id, data) => {
                    if let Some((e, schema)) = g.node_and_schema_mut(id) {
                        if e.versions.last().is_some_and(|v| v.stamp == self.vis.own) {
                            let before = schema.entries(&e.versions);
                            if let Some(d) = &data {
                                // Writes since may have pruned the restored value's entries.
                                schema.note(id, d);
                            }
                            if let Some(v) = e.versions.last_mut() {
                                v.data = data;
                            }
                            schema.prune(id, before, &e.versions);
                        }
                    }
                }
                Undo::PopRel(id) => {
                    if let Some(e) = g.rel_entry_mut(id) {
                        if e.versions.last().is_some_and(|v| v.stamp == self.vis.own) {
                            e.versions.pop();
                        }
                    }
                }
                Undo::RestoreRel(id, data) => {
                    if let Some(v) = g.rel_entry_mut(id).and_then(|e| e.versions.last_mut()) {
                        if v.stamp == self.vis.own {
                            v.data = data;
                        }
                    }
                }
            }
        }
    }

    /// Whether an earlier conflict has doomed this transaction.
    pub fn is_doomed(&self) -> bool {
        self.doomed.is_some()
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.mgr.active.fetch_sub(1, Ordering::Relaxed);
            self.unregister();
            // Only a writer can hold a version others wait for (see `wait_for`).
            if self.kind == TxnKind::ReadWrite {
                self.mgr.wake_waiters();
            }
        }
    }

    /// Rolls back every write; the transaction ends.
    pub fn rollback(mut self) {
        self.rollback_in_place();
    }

    fn rollback_in_place(&mut self) {
        if !self.finished {
            self.mgr.counters.rollback();
            self.rollback_to(Savepoint(0));
            self.finish();
        }
    }

    pub(super) fn id(&self) -> u64 {
        self.vis.own & !UNCOMMITTED
    }

    /// Ends the registration of our snapshot: it no longer pins versions or summaries.
    fn unregister(&mut self) {
        self.mgr.unregister(self.id(), self.registration);
        self.registration = Registration::None;
    }

    /// `unregister` for a caller holding the registry lock.
    fn unregister_locked(&mut self, registry: &mut Registry) {
        self.mgr
            .unregister_in(self.id(), self.registration, registry);
        self.registration = Registration::None;
    }

    /// Version GC for the entities this commit touched, given the snapshots still running
    /// (see `trim_chain`), for a commit that publishes itself rather than through a group
    /// (whose leader trims for every member). Done per commit, so memory under a steady
    /// update workload stays bounded without a background sweep, and a long-running reader
    /// pins one version per entity, not the history since it began.
    #[allow(dead_code)] // The image commit path (a large transaction written as a base image).
    fn collect_versions(&self, running: &[u64], floor: u64) {
        trim_entities(&mut self.mgr.graph.write(), &self.touched, running, floor);
    }

    /// Serializable validation: fails if a transaction that committed after our snapshot
    /// wrote anything we read. Runs under the commit lock.
    fn validate_reads(&self) -> Result<()> {
        let Some(reads) = &self.reads else {
            return Ok(());
        };
        let reads = reads.borrow();
        let recent = lock(&self.mgr.recent);
        // `recent` is in timestamp order (pushed under the commit lock, pruned from the
        // front), and a descheduled transaction can pin thousands of summaries older than
        // this snapshot: find the first newer one by bisection instead of walking past them.
        let newer = recent.range(recent.partition_point(|s| s.ts <= self.vis.snapshot)..);
        // A name we found absent and that exists now was interned after our lookup, by a
        // transaction that (if it committed) committed after our snapshot. Names are first
        // used rarely, so any commit since our snapshot counts as a conflict.
        let cat = &self.mgr.graph.catalog;
        let now_defined = reads.absent_names.iter().find(|(kind, name)| match kind {
            NameKind::Label => cat.labels.get(name).is_some(),
            NameKind::RelType => cat.rel_types.get(name).is_some(),
            NameKind::Key => cat.keys.get(name).is_some(),
        });
        if let (Some((kind, name)), Some(s)) = (now_defined, newer.clone().next()) {
            self.mgr.counters.conflict(ConflictCause::ReadValidation);
            return Err(Error::conflict(format!(
                "serialization failure: the {} `{name}` did not exist when this transaction \
                 looked for it, and a concurrent transaction (commit {}) may have created it; \
                 this transaction was rolled back, retry it",
                kind.noun(),
                s.ts
            )));
        }
        for s in newer {
            if let Some(what) = reads.invalidated_by(s) {
                self.mgr.counters.conflict(ConflictCause::ReadValidation);
                return Err(Error::conflict(format!(
                    "serialization failure: a concurrent transaction (commit {}) changed {what}; \
                     this transaction was rolled back, retry it",
                    s.ts
                )));
            }
        }
        Ok(())
    }

    /// What every commit path checks first: an error (after rolling back) when the
    /// transaction may not commit, `false` when it wrote nothing (it is then serializable
    /// at its snapshot, has nothing to make durable, and has ended), `true` otherwise.
    fn start_commit(&mut self) -> Result<bool> {
        if self.finished {
            return Err(Error::transaction_state(
                "the transaction has already ended",
            ));
        }
        if let Some(e) = self.doomed.clone() {
            self.rollback_in_place();
            return Err(e);
        }
        if self.undo.is_empty() {
            self.finish();
            return Ok(false);
        }
        Ok(true)
    }

    /// `Corrupt` once any read met a damaged block of the base image (`storage::blocks`):
    /// what this transaction read may be incomplete, so it must not return or commit it.
    pub fn check_base(&self) -> Result<()> {
        self.mgr.graph().damage.check()
    }

    /// The checks a commit makes under the commit lock, before taking its timestamp:
    /// base image intact, writable, serializable reads still valid, uniqueness kept. On failure the
    /// transaction is rolled back.
    fn validate_commit(&mut self) -> Result<()> {
        let checked = self
            .check_base()
            .and_then(|_| self.check_writable())
            .and_then(|_| self.validate_reads())
            .and_then(|_| self.check_unique_commit());
        if checked.is_err() {
            self.rollback_in_place();
        }
        checked
    }

    /// Commits: the changes become durable (as the sync mode promises) and visible to
    /// transactions that begin afterwards. On any error the transaction is rolled back.
    pub fn commit(mut self) -> Result<()> {
        if !self.start_commit()? {
            return Ok(());
        }
        let mgr = Arc::clone(&self.mgr);
        // 1. Under the commit lock: validate, take the timestamp, write the record (no sync),
        //    and make our summary visible to the validation of every later commit.
        let (ts, ticket) = {
            let mut last_ts = lock(&mgr.commit_lock);
            self.validate_commit()?;
            let ts = *last_ts + 1;
            let (record, summary) = self.redo(ts, mgr.sink.is_some());
            let ticket = match (&mgr.sink, record) {
                (Some(sink), Some(record)) => match sink.write_encoded(ts, record) {
                    Ok(ticket) => Some(ticket),
                    // The timestamp was not handed out: nobody waits for its turn.
                    Err(e) => return Err(self.fail_commit(e)),
                },
                _ => None,
            };
            *last_ts = ts;
            lock(&mgr.recent).push_back(summary);
            if mgr.graph.read().schema.has_unique() {
                lock(&mgr.committing).insert(self.id());
            }
            // Queued in timestamp order, as the log holds the records.
            mgr.enqueue(Queued {
                ts,
                ticket: ticket.unwrap_or(0),
                own: self.vis.own,
                id: self.id(),
                touched: std::mem::take(&mut self.touched),
                registration: self.registration,
                thread: std::thread::current(),
                abandoned: false,
            });
            (ts, ticket.unwrap_or(0))
        };
        // From here `ts` is handed out: later commits wait for it to publish. Should this
        // thread panic before it has, the guard has it published empty so they do not hang.
        let _turn_guard = PublishOnUnwind { mgr: &mgr, ts };
        // 2. Wait until a sync covers our record and our commit is published — by whichever
        //    committer leads the group our record is synced with (maybe this one): it stamps
        //    every commit of the group and publishes them in timestamp order, so commit
        //    order = WAL order = visibility order (src/txn/group.rs).
        if let Err(e) = mgr.await_publish(ts, ticket) {
            // Published empty by the leader: our versions were never stamped.
            lock(&mgr.committing).remove(&self.id());
            self.rollback_in_place();
            return Err(commit_failed(&e));
        }
        self.undo.clear();
        // The leader unregistered us when it published us (the slot may be another's now).
        self.registration = Registration::None;
        self.finish();
        Ok(())
    }

    /// A commit whose record could not be written: poison the database and roll back. No
    /// timestamp was handed out.
    fn fail_commit(&mut self, e: Error) -> Error {
        let mgr = Arc::clone(&self.mgr);
        mgr.poison(e.message());
        self.rollback_in_place();
        commit_failed(&e)
    }

    /// The logical redo of this transaction when `log` is set, as an encoded log record
    /// (`CommitSink::write_encoded`: catalog names first, then each touched entity's final
    /// state, encoded from the versions under the graph latch, with no copy of them), and its
    /// summary for serializable validation. Entities created and deleted within the
    /// transaction leave no trace.
    fn redo(&self, ts: u64, log: bool) -> (Option<Vec<u8>>, CommitSummary) {
        let mut out: Vec<ChangeRef<'_>> = Vec::new();
        if log {
            let cat = &self.mgr.graph.catalog;
            for (id, n) in cat.labels.take_undurable() {
                out.push(ChangeRef::Owned(Change::DefineLabel(id, n.to_string())));
            }
            for (id, n) in cat.rel_types.take_undurable() {
                out.push(ChangeRef::Owned(Change::DefineRelType(id, n.to_string())));
            }
            for (id, n) in cat.keys.take_undurable() {
                out.push(ChangeRef::Owned(Change::DefineKey(id, n.to_string())));
            }
        }
        let mut sum = CommitSummary {
            ts,
            ..Default::default()
        };
        let g = self.mgr.graph.read();
        for &e in &self.touched {
            match e {
                Entity::Node(id) => {
                    let Some(entry) = g.node_entry(id) else {
                        continue;
                    };
                    let Some(head) = entry.versions.last() else {
                        continue;
                    };
                    if head.stamp != self.vis.own {
                        continue;
                    }
                    let before = entry
                        .versions
                        .len()
                        .checked_sub(2)
                        .and_then(|i| entry.versions[i].data.as_ref());
                    sum.nodes.push(id);
                    let no_labels: &[LabelId] = &[];
                    let old = before.map_or(no_labels, |d| &d.labels[..]);
                    let new = head.data.as_ref().map_or(no_labels, |d| &d.labels[..]);
                    sum.labels.extend(old.iter().filter(|l| !new.contains(l)));
                    sum.labels.extend(new.iter().filter(|l| !old.contains(l)));
                    sum.nodes_created_or_deleted |= before.is_none() || head.data.is_none();
                    index_moves(&g, before, head.data.as_ref(), &mut sum.index);
                    match &head.data {
                        Some(d) if log => out.push(ChangeRef::PutNode {
                            id,
                            labels: &d.labels,
                            props: &d.props,
                        }),
                        None if log && before.is_some() => out.push(ChangeRef::DeleteNode(id)),
                        _ => {}
                    }
                }
                Entity::Rel(id) => {
                    let Some(entry) = g.rel_entry(id) else {
                        continue;
                    };
                    let Some(head) = entry.versions.last() else {
                        continue;
                    };
                    if head.stamp != self.vis.own {
                        continue;
                    }
                    let existed_before = entry.versions.len() > 1;
                    sum.rels.push(id);
                    if !existed_before || head.data.is_none() {
                        sum.rels_created_or_deleted = true;
                        sum.adjacency.push(entry.start);
                        sum.adjacency.push(entry.end);
                    }
                    match &head.data {
                        Some(d) if log => out.push(ChangeRef::PutRel {
                            id,
                            rel_type: entry.rel_type,
                            start: entry.start,
                            end: entry.end,
                            props: &d.props,
                        }),
                        None if log && existed_before => out.push(ChangeRef::DeleteRel(id)),
                        _ => {}
                    }
                }
            }
        }
        if !log {
            return (None, sum);
        }
        // Stable: the order within a rank is first-write order, as before.
        out.sort_by_key(ChangeRef::replay_rank);
        let mut record = Vec::with_capacity(RECORD_HEADER + 64);
        record.resize(RECORD_HEADER, 0);
        crate::wal::codec::encode_refs_into(&mut record, ts, &out);
        (Some(record), sum)
    }
}

fn commit_failed(e: &Error) -> Error {
    Error::new(
        e.kind(),
        format!(
            "commit failed and the database now refuses writes; reopen the database to \
             recover: {}",
            e.message()
        ),
    )
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.rollback_in_place();
    }
}

/// For validation of index reads: every `(label, key, value)` of an indexed (or once
/// indexed) pair that a node enters or leaves by going from `old` to `new`.
fn index_moves(
    g: &GraphData,
    old: Option<&NodeData>,
    new: Option<&NodeData>,
    out: &mut Vec<(LabelId, KeyId, Value)>,
) {
    let tracked = g.schema.tracked();
    if tracked.is_empty() {
        return;
    }
    fn get(d: Option<&NodeData>, l: LabelId, k: KeyId) -> Option<&Value> {
        d.filter(|d| d.labels.binary_search(&l).is_ok())
            .and_then(|d| prop_get(&d.props, k))
    }
    for &(l, k) in tracked {
        let (a, b) = (get(old, l, k), get(new, l, k));
        let same = match (a, b) {
            (Some(a), Some(b)) => key_cmp(a, b) == std::cmp::Ordering::Equal,
            (None, None) => true,
            _ => false,
        };
        if !same {
            out.extend(a.cloned().map(|v| (l, k, v)));
            out.extend(b.cloned().map(|v| (l, k, v)));
        }
    }
}

fn check_storable(v: &Value) -> Result<()> {
    if v.is_storable() {
        Ok(())
    } else {
        Err(Error::type_error(format!(
            "a {} cannot be stored as a property value; store its id or properties instead",
            v.type_name()
        )))
    }
}

/// Sorts by key, drops nulls, refuses duplicates and unstorable values.
fn normalize_props(mut props: Vec<(KeyId, Value)>) -> Result<PropList> {
    for (_, v) in &props {
        check_storable(v)?;
    }
    props.retain(|(_, v)| !v.is_null());
    props.sort_by_key(|(k, _)| *k);
    for w in props.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(Error::invalid_argument(
                "the same property key appears twice in one property map",
            ));
        }
    }
    Ok(props)
}

/// Appends the visible relationships of `node` in `dir` (restricted to `types` unless it is
/// empty) to `out` as `(relationship, other node)`, ascending relationship id; for `Both` a
/// self-loop appears once. One definition for the row and the batch executors, so both see
/// exactly the same adjacency.
fn expand_in(
    g: &GraphData,
    vis: Visibility,
    node: NodeId,
    dir: Direction,
    types: &[TypeId],
    out: &mut Vec<(RelId, NodeId)>,
) {
    let wanted = |t: TypeId| types.is_empty() || types.contains(&t);
    let first = out.len();
    // Sized for every adjacent relationship: one allocation, no regrowth.
    out.reserve(match dir {
        Direction::Outgoing => g.degree_bound(node, true),
        Direction::Incoming => g.degree_bound(node, false),
        Direction::Both => g.degree_bound(node, true) + g.degree_bound(node, false),
    });
    for outgoing in [true, false] {
        let on = match dir {
            Direction::Outgoing => outgoing,
            Direction::Incoming => !outgoing,
            Direction::Both => true,
        };
        if !on {
            continue;
        }
        // Seen from its end, a self-loop's other end is the node itself: listed once.
        let skip_loops = dir == Direction::Both && !outgoing;
        let mut push = |r: RelId, other: NodeId| {
            if !(skip_loops && other == node) {
                out.push((r, other));
            }
        };
        let rest = if g.base_steps(node, outgoing, types, vis, &mut push) {
            g.delta_adjacent(node, outgoing)
        } else {
            // An image without neighbour columns: every entry through its relationship.
            for r in g.adjacent(node, outgoing) {
                if let Some((other, t)) = g.rel_step(r, vis, outgoing) {
                    if wanted(t) {
                        push(r, other);
                    }
                }
            }
            &[]
        };
        for &r in rest {
            if let Some((other, t)) = g.rel_step(r, vis, outgoing) {
                if wanted(t) {
                    push(r, other);
                }
            }
        }
    }
    // Base lists are grouped by type, then id; callers get ascending ids.
    let added = &mut out[first..];
    if dir == Direction::Both || !added.windows(2).all(|w| w[0].0 < w[1].0) {
        added.sort_unstable_by_key(|&(r, _)| r);
    }
}

/// The other ends of `expand_in`'s relationships, in the same order, into `out`; for
/// callers that need no relationship id. A node whose relationships nobody wrote since open
/// (the common case after a checkpoint), expanded in one direction, is read from its
/// neighbour column alone when the wanted entries form one type run (ascending id, so the
/// order is `expand_in`'s) — no relationship list, flag, end or type is touched. Anything
/// else goes through `expand_in` (with `scratch`).
fn expand_nbrs_in(
    g: &GraphData,
    vis: Visibility,
    node: NodeId,
    dir: Direction,
    types: &[TypeId],
    out: &mut Vec<NodeId>,
    scratch: &mut Vec<(RelId, NodeId)>,
) {
    let outgoing = dir == Direction::Outgoing;
    if dir != Direction::Both
        && !g.base_rels_written()
        && g.delta_adjacent(node, outgoing).is_empty()
    {
        if let Some(list) = g.base_list(node, outgoing) {
            let (mut run, mut more) = (None, false);
            list.wanted(types, |i, j| {
                more |= run.is_some();
                run = Some((i, j));
            });
            if !more {
                if let Some((i, j)) = run {
                    out.extend(list.nbrs(i, j));
                }
                return;
            }
        }
    }
    scratch.clear();
    expand_in(g, vis, node, dir, types, scratch);
    out.extend(scratch.iter().map(|&(_, o)| o));
}

/// One transaction's snapshot, for views taken on several threads (see
/// [`Transaction::view_source`]). Records no reads.
#[derive(Clone, Copy)]
pub struct ViewSource<'t> {
    graph: &'t Graph,
    vis: Visibility,
}

impl<'t> ViewSource<'t> {
    /// Takes the graph latch (shared) until the view is dropped. Writers wait for it, and a
    /// writer waiting blocks new views: never wait for another thread while holding one.
    pub fn view(&self) -> ReadView<'t> {
        ReadView {
            g: self.graph.read(),
            vis: self.vis,
        }
    }

    /// The catalog names resolve in (lookups take the interner's own lock, not the graph
    /// latch).
    pub fn catalog(&self) -> &'t crate::storage::Catalog {
        &self.graph.catalog
    }
}

/// Reads at one transaction's snapshot under one latch acquisition (see
/// [`Transaction::read_view`]). Records no reads.
pub struct ReadView<'t> {
    g: RwLockReadGuard<'t, GraphData>,
    vis: Visibility,
}

impl ReadView<'_> {
    /// One past the largest node id ever handed out.
    pub fn node_slots(&self) -> u64 {
        self.g.node_slots()
    }

    /// The base image under the graph.
    pub fn base(&self) -> &Arc<BaseView> {
        self.g.base()
    }

    /// The base nodes written since open, ascending (`GraphData::written_base_nodes`).
    pub fn written_base_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.g.written_base_nodes()
    }

    /// The visible node `id` (a base node nobody wrote since open is read in place).
    pub fn node(&self, id: NodeId) -> Option<NodeRef<'_>> {
        self.g.node(id, self.vis)
    }

    /// The visible relationship `id`.
    pub fn rel(&self, id: RelId) -> Option<RelRef<'_>> {
        self.g.rel(id, self.vis)
    }

    /// [`Transaction::expand`], appending to `out`.
    pub fn expand_into(
        &self,
        node: NodeId,
        dir: Direction,
        types: &[TypeId],
        out: &mut Vec<(RelId, NodeId)>,
    ) {
        expand_in(&self.g, self.vis, node, dir, types, out);
    }

    /// The other ends of [`ReadView::expand_into`]'s relationships, in its order (for
    /// callers that need no relationship id: reads less of the image), appended to `out`.
    pub fn expand_nbrs_into(
        &self,
        node: NodeId,
        dir: Direction,
        types: &[TypeId],
        out: &mut Vec<NodeId>,
        scratch: &mut Vec<(RelId, NodeId)>,
    ) {
        expand_nbrs_in(&self.g, self.vis, node, dir, types, out, scratch);
    }
}
