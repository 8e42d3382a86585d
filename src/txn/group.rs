//! Group publish: the committer that makes a group of commits durable also makes it visible.
//!
//! A commit joins the queue right after its log record is written (under the commit lock, so
//! the queue is in timestamp order = log order). One queued committer at a time leads: it
//! waits for a sync covering its own record (which covers every record written before the
//! sync began), then takes every queued commit that sync made durable — a prefix of the
//! queue — stamps their versions with their timestamps under one graph latch, publishes the
//! newest timestamp of the group (so a snapshot contains whole commits, in order), trims the
//! versions they superseded, and wakes each member once. The others only sleep until their
//! commit is published: one wake-up per commit, where each committer used to wake for the
//! sync and again for its publish turn. When that group woke another committer and commits
//! were queued during the flush, the leader leads their group too (a bounded number of
//! times) rather than waking one of them to lead it: one context switch less per group, and
//! the flush starts sooner, while the members it woke run.
//!
//! Gathering: with a log that syncs for every commit (`CommitSink::gathers`), the committer
//! about to lead waits, parked, until as many commits are queued as there were committers in
//! the last cycle (the last group plus the commits queued during its sync: each committer
//! has at most one commit in flight), or until about one sync time has passed. Without it the
//! members a sync releases come back one at a time, the first syncs alone and the rest wait a
//! whole sync for the next one: with two writers every sync covered one commit, so two
//! writers committed no faster than one. The commit that completes the expected group wakes
//! the gatherer; a lone committer (expected group 1) never waits.
//!
//! Waiting awake: with a fast log (a sync of at most `SPIN_FAST_SYNC`, as on an SSD or a
//! virtual disk), a committer waiting for its group's publication, and a committer gathering
//! one, poll for a bounded time, yielding the CPU to any other runnable thread between looks,
//! before they sleep. A sleeping committer is woken by a futex call, and on a virtual machine
//! waking a halted vCPU takes 10-15 µs, a third of a sync: with 8 writers on 2 vCPUs every
//! cycle paid it several times over (a sync ended, the leader woke members one by one onto
//! whichever vCPU was awake, and the other idled: 0.75 of 2 CPUs in use). Polling keeps the
//! vCPUs of the waiting committers awake, so they go on the moment their group publishes; it
//! spends CPU that would otherwise idle, and gives way to any thread that has work. With a
//! slow log (a disk that takes milliseconds to sync) the wake-up is a small part of the wait,
//! and committers sleep at once; with `commit_wait=sleep` (`CommitWait::Sleep`) they always do.
//!
//! Nothing is published before the sync covering it returns, so with sync=full no commit is
//! visible before it is durable. A failed sync fails every queued commit that no earlier sync
//! covered (the log refuses every later write, so none of them can become durable): the
//! leader poisons the manager, publishes their timestamps as empty (their versions are never
//! stamped, so never visible) and wakes them to roll back. Queued commits an earlier sync did
//! cover (their records were written during it, and queued after it took its group) are
//! durable, and publish as successes: no commit a successful sync covered reports failure.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::MutexGuard;
use std::thread::{Thread, ThreadId};
use std::time::{Duration, Instant};

use super::transaction::{lock, restamp_heads, trim_entities, Entity, Registration, TxnManager};
use crate::error::{Error, ErrorKind, Result};

/// The most groups one committer leads in a row before handing leadership on: each further
/// one delays its own return by a sync, so it is bounded.
const LEAD_GROUPS: u32 = 4;

/// Bounds of a gather wait (it lasts about one sync): long enough for the committers a sync
/// released to write their next records, short enough that a committer that does not come
/// back (it stopped writing) costs little, once: the expected size then shrinks.
const GATHER_MIN: Duration = Duration::from_micros(20);
const GATHER_MAX: Duration = Duration::from_millis(1);

/// Committers poll rather than sleep while a sync takes at most this long (moving average).
const SPIN_FAST_SYNC: Duration = Duration::from_micros(200);
/// A committer waiting for its publication polls for about this many syncs (the one in
/// flight, and the one covering its own record) before it sleeps, within the bounds below.
const SPIN_SYNCS: u32 = 4;
const SPIN_MIN: Duration = Duration::from_micros(50);
const SPIN_MAX: Duration = Duration::from_micros(800);

/// How committers wait for a group's sync and publication (the `commit_wait` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitWait {
    /// Poll briefly before sleeping when the log syncs fast (see the module comment), else
    /// sleep: the lowest latency, for CPU that would otherwise idle.
    #[default]
    Auto,
    /// Always sleep until woken: no CPU spent waiting (for energy or for a machine shared
    /// with other work), at the cost of a wake-up per commit.
    Sleep,
}

/// How long a committer waiting for publication polls before it sleeps, given the moving
/// average of a sync's duration (0: none timed yet); zero with a slow log.
fn spin_budget(sync_ns: u64) -> Duration {
    let sync = Duration::from_nanos(sync_ns);
    if sync > SPIN_FAST_SYNC {
        Duration::ZERO
    } else {
        (sync * SPIN_SYNCS).clamp(SPIN_MIN, SPIN_MAX)
    }
}

/// Commits between their log write and their publication, and who leads.
#[derive(Default)]
pub(super) struct Group {
    /// In timestamp order (= log order).
    queue: VecDeque<Queued>,
    /// A committer is syncing and publishing for the queue.
    leading: bool,
    /// Groups that failed: first and last timestamp, and why. A failed sync fails the whole
    /// queue, and the log then refuses every later write.
    failed: Vec<(u64, u64, Error)>,
    /// Committers expected in the next group (see the module comment).
    expect: usize,
    /// A leader parked until the queue holds this many commits (or its wait ends).
    gatherer: Option<(Thread, usize)>,
    /// Moving average of a sync's duration in nanoseconds (bounds a gather wait).
    sync_ns: u64,
    /// The newest ticket a successful sync covered. A commit whose record it covers is
    /// durable, and a later failed sync must not fail it: its record may have been written
    /// after that sync began and queued only after the sync's group was taken, and a sink
    /// may fail every call once it failed (`sync_and_take`).
    synced: u64,
    /// Overrides the gather wait's bound (tests: a long one makes group sizes deterministic).
    gather_limit: Option<Duration>,
    /// Gather waits so far (for tests).
    gathered: u64,
    /// Waits for publication so far (for tests).
    waits: PublishWaits,
    /// Whether committers may poll (`CommitWait::Auto`).
    wait: CommitWait,
}

impl Group {
    /// How long a waiting committer polls before it sleeps (zero: it sleeps at once).
    fn poll_budget(&self) -> Duration {
        match self.wait {
            CommitWait::Auto => spin_budget(self.sync_ns),
            CommitWait::Sleep => Duration::ZERO,
        }
    }
}

/// How committers waited for their groups' publication (`TxnManager::publish_waits`).
#[doc(hidden)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PublishWaits {
    /// Polled until published, never slept.
    pub awake: u64,
    /// Polled, then slept.
    pub polled_then_slept: u64,
    /// Slept at once (a slow log).
    pub slept: u64,
}

/// One commit waiting to be published.
pub(super) struct Queued {
    pub ts: u64,
    /// Its record's ticket from the commit sink (0 without a sink).
    pub ticket: u64,
    /// The stamp its versions carry until published (`UNCOMMITTED | id`).
    pub own: u64,
    /// Its transaction id.
    pub id: u64,
    /// The entities it wrote.
    pub touched: Vec<Entity>,
    /// Where its snapshot is registered: the leader ends that when it publishes it.
    pub registration: Registration,
    /// Its committer, to wake once published.
    pub thread: Thread,
    /// Its committer gave up (a panic): publish it empty, wake nobody.
    pub abandoned: bool,
}

impl TxnManager {
    /// Adds a written commit to the queue. Called under the commit lock, in timestamp order.
    pub(super) fn enqueue(&self, q: Queued) {
        let mut g = lock(&self.group);
        g.queue.push_back(q);
        if g.gatherer
            .as_ref()
            .is_some_and(|(_, n)| g.queue.len() >= *n)
        {
            if let Some((t, _)) = g.gatherer.take() {
                drop(g);
                t.unpark();
            }
        }
    }

    /// Makes every gather wait last up to `limit` (`None`: about one sync). Hidden: tests use
    /// a long limit so that group sizes do not depend on scheduling.
    #[doc(hidden)]
    pub fn set_gather_limit(&self, limit: Option<Duration>) {
        lock(&self.group).gather_limit = limit;
    }

    /// Sets how committers wait for their groups (the `commit_wait` option).
    pub fn with_commit_wait(self, wait: CommitWait) -> TxnManager {
        lock(&self.group).wait = wait;
        self
    }

    /// How many times a committer waited to gather a group (for tests).
    #[doc(hidden)]
    pub fn gather_waits(&self) -> u64 {
        lock(&self.group).gathered
    }

    /// How committers waited for their groups' publication so far (for tests).
    #[doc(hidden)]
    pub fn publish_waits(&self) -> PublishWaits {
        lock(&self.group).waits
    }

    /// Waits (the group lock released; polling with a fast log, else parked) until the
    /// expected group is queued or the wait's bound passes; returns with the lock held. Only
    /// for a log that syncs each commit.
    fn gather<'a>(&'a self, mut g: MutexGuard<'a, Group>) -> MutexGuard<'a, Group> {
        let target = g.expect;
        if g.queue.len() >= target || !self.sink.as_ref().is_some_and(|s| s.gathers()) {
            return g;
        }
        let limit = g
            .gather_limit
            .unwrap_or_else(|| Duration::from_nanos(g.sync_ns).clamp(GATHER_MIN, GATHER_MAX));
        let deadline = Instant::now() + limit;
        let poll = !g.poll_budget().is_zero();
        g.gathered += 1;
        loop {
            let now = Instant::now();
            if g.queue.len() >= target
                || now >= deadline
                || self.is_poisoned.load(Ordering::Acquire)
            {
                break;
            }
            if poll {
                drop(g);
                std::thread::yield_now();
            } else {
                g.gatherer = Some((std::thread::current(), target));
                drop(g);
                // Woken by the commit that completes the group; a stray token costs a look.
                std::thread::park_timeout(deadline - now);
            }
            g = lock(&self.group);
        }
        g.gatherer = None;
        g
    }

    /// Commits written to the log and not yet published (for tests: a simulated log that
    /// must not return a sync before a record's commit has joined the queue).
    #[doc(hidden)]
    pub fn queued_commits(&self) -> usize {
        lock(&self.group).queue.len()
    }

    /// Returns once commit `ts` (queued, record `ticket`) is published: `Ok` when its
    /// versions are visible, `Err` when its sync failed (nothing of it is visible; the caller
    /// rolls back). Leads a group when nobody else does.
    pub(super) fn await_publish(&self, ts: u64, ticket: u64) -> Result<()> {
        let mut g = lock(&self.group);
        // Set when this committer first waits for another's group: until when it polls, and
        // whether it polls at all.
        let mut poll: Option<(Instant, bool)> = None;
        let mut slept = false;
        loop {
            if self.published.load(Ordering::Acquire) >= ts {
                if let Some((_, polls)) = poll {
                    let w = &mut g.waits;
                    match (polls, slept) {
                        (true, false) => w.awake += 1,
                        (true, true) => w.polled_then_slept += 1,
                        (false, _) => w.slept += 1,
                    }
                }
                return match g.failed.iter().find(|(a, b, _)| (*a..=*b).contains(&ts)) {
                    Some((_, _, e)) => Err(e.clone()),
                    None => Ok(()),
                };
            }
            if !g.leading {
                g.leading = true;
                drop(g);
                self.lead(ticket);
            } else {
                let (until, _) = *poll.get_or_insert_with(|| {
                    let budget = g.poll_budget();
                    (Instant::now() + budget, !budget.is_zero())
                });
                drop(g);
                if Instant::now() < until {
                    // Looks again once every other runnable thread had its turn (see the
                    // module comment); leadership handed to this committer is seen too.
                    std::thread::yield_now();
                } else {
                    slept = true;
                    // Woken by the leader that publishes us, or told to lead next; a stray
                    // unpark token only costs one more look.
                    std::thread::park();
                }
            }
            g = lock(&self.group);
        }
    }

    /// Leads (the caller set `leading`): syncs, publishes what the sync covered, and then
    /// either leads the next group itself or hands leadership on.
    fn lead(&self, ticket: u64) {
        // Created first: should the sync panic, dropping it still frees leadership.
        let me = std::thread::current().id();
        let mut guard = Leading {
            mgr: self,
            me,
            batch: Vec::new(),
            published: false,
        };
        let mut ticket = ticket;
        let mut groups = 1;
        // Only the first group gathers: one led on below was queued during a flush, and
        // waiting for more would lose the overlap of its sync with the members' next commits.
        drop(self.gather(lock(&self.group)));
        loop {
            let failed = self.sync_and_take(ticket, &mut guard.batch);
            self.publish_batch(&guard.batch, failed);
            guard.published = true;
            if failed || groups >= LEAD_GROUPS {
                break;
            }
            // Another committer was just published: it runs (writes its next record) while
            // this thread syncs the next group. Without one (a group of this commit alone,
            // as with 2 committers) this thread is the one that would write next, so it
            // returns and the queue's first committer is woken to lead instead.
            let others = guard
                .batch
                .iter()
                .any(|q| !q.abandoned && q.thread.id() != me);
            let next = others
                .then(|| {
                    lock(&self.group)
                        .queue
                        .iter()
                        .find(|q| !q.abandoned)
                        .map(|q| q.ticket)
                })
                .flatten();
            let Some(next) = next else {
                break;
            };
            // Taking the next group here saves waking a committer to lead it (a context
            // switch, and the flush starts later); its members are woken first so that they
            // run during that flush.
            guard.wake_members();
            // This thread's transaction ends (`finish`) only when it returns, up to a few
            // flushes later: writers waiting for its versions need not wait that long (its
            // registration ended when it published). The members woken above wake them too
            // when they end; this does not depend on that.
            self.wake_waiters();
            guard.published = false;
            ticket = next;
            groups += 1;
        }
        // Dropping `guard` frees leadership, wakes the next leader and the members.
    }

    /// Waits for a sync covering `ticket` and moves the queued commits it made durable (a
    /// prefix of the queue) into `batch`; on a failed sync the whole queue, recording it as
    /// failed and poisoning the manager (returns true).
    fn sync_and_take(&self, ticket: u64, batch: &mut Vec<Queued>) -> bool {
        let started = Instant::now();
        let durable = match &self.sink {
            Some(sink) => sink.wait_durable(ticket),
            None => Ok(u64::MAX),
        };
        let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let mut g = lock(&self.group);
        g.sync_ns = if g.sync_ns == 0 {
            took
        } else {
            (g.sync_ns / 8) * 7 + took / 8
        };
        if let Ok(d) = &durable {
            g.synced = g.synced.max(*d);
        }
        let synced = g.synced;
        let covered = g
            .queue
            .iter()
            .take_while(|q| q.abandoned || q.ticket <= synced)
            .count();
        // A failed sync fails the queue but for the commits an earlier sync made durable:
        // those publish as successes first, and the next sync (which fails again: the log
        // refuses everything once a sync failed) fails the rest.
        let failed = durable.is_err() && covered == 0;
        let n = if failed { g.queue.len() } else { covered };
        batch.extend(g.queue.drain(..n));
        // Committers in this cycle: the group, and those that queued during its sync.
        g.expect = batch.iter().filter(|q| !q.abandoned).count()
            + g.queue.iter().filter(|q| !q.abandoned).count();
        let Err(e) = durable else {
            return false;
        };
        self.poison(e.message());
        match (failed, batch.first(), batch.last()) {
            (true, Some(first), Some(last)) => {
                // Recorded before the timestamps publish: a member that looks early must not
                // take its published timestamp for success.
                g.failed.push((first.ts, last.ts, e));
                true
            }
            _ => false,
        }
    }

    /// Makes `batch` (a prefix of the queue, every earlier commit published) visible: stamps
    /// its versions (unless `failed`), publishes its newest timestamp, prunes summaries no
    /// validation needs, trims what the commits superseded.
    fn publish_batch(&self, batch: &[Queued], failed: bool) {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return;
        };
        let (first, last) = (first.ts, last.ts);
        let turn = self.wait_publish_turn(first);
        let mut g = self.graph.write();
        if !failed {
            for q in batch.iter().filter(|q| !q.abandoned) {
                restamp_heads(&mut g, &q.touched, q.own, q.ts);
            }
        }
        {
            let mut committing = lock(&self.committing);
            if !committing.is_empty() {
                for q in batch {
                    committing.remove(&q.id);
                }
            }
        }
        // Publish and prune under the registration lock (see `TxnManager::begin`).
        let mut registry = lock(&self.registry);
        if !failed {
            // Validation is behind them: their own snapshots no longer pin anything (their
            // committers skip this when they finish).
            for q in batch.iter().filter(|q| !q.abandoned) {
                self.unregister_in(q.id, q.registration, &mut registry);
            }
        }
        self.published.store(last, Ordering::SeqCst);
        {
            let mut recent = lock(&self.recent);
            if failed {
                recent.retain(|s| s.ts < first || s.ts > last);
            }
            // Summaries of commits not yet published stay: a transaction beginning now
            // (snapshot = last) must still validate against them.
            let horizon = self
                .oldest_validating(&registry)
                .map_or(last, |o| o.min(last));
            while recent.front().is_some_and(|s| s.ts <= horizon) {
                recent.pop_front();
            }
        }
        let running = if failed {
            Vec::new()
        } else {
            self.running_snapshots(&registry)
        };
        drop(registry);
        self.end_publish_turn(turn);
        if !failed {
            for q in batch.iter().filter(|q| !q.abandoned) {
                trim_entities(&mut g, &q.touched, &running, last);
            }
        }
    }

    /// A committer unwinding (a panic) after queueing `ts` and before it was published:
    /// its commit is published empty, and whoever must lead next is told so. Leadership it
    /// held was freed already (`Leading`).
    pub(super) fn abandon(&self, ts: u64) {
        let mut g = lock(&self.group);
        if let Some(q) = g.queue.iter_mut().find(|q| q.ts == ts) {
            q.abandoned = true;
            q.touched.clear();
        }
        lock(&self.recent).retain(|s| s.ts != ts);
        if !g.leading {
            self.hand_on(g, None);
        }
    }

    /// With leadership free: wakes the first live queued committer (not `me`) to lead; when
    /// only abandoned commits are queued, publishes them empty itself (every earlier commit
    /// has published, so nobody else would).
    fn hand_on(&self, mut g: MutexGuard<'_, Group>, me: Option<ThreadId>) {
        match g.queue.iter().find(|q| !q.abandoned) {
            Some(next) if Some(next.thread.id()) == me => {}
            Some(next) => next.thread.unpark(),
            None if g.queue.is_empty() => {}
            None => {
                let batch: Vec<Queued> = g.queue.drain(..).collect();
                g.leading = true;
                drop(g);
                self.publish_batch(&batch, true);
                let mut g = lock(&self.group);
                g.leading = false;
                self.hand_on(g, me);
            }
        }
    }
}

/// Leadership of one group: on drop (normal or unwinding) publishes the group if that did
/// not happen (only a panic gets there: as failed), frees leadership, wakes the members and
/// the committer that must lead next.
struct Leading<'a> {
    mgr: &'a TxnManager,
    /// The leading thread.
    me: ThreadId,
    batch: Vec<Queued>,
    published: bool,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        let mgr = self.mgr;
        if !self.published {
            if let (Some(first), Some(last)) = (self.batch.first(), self.batch.last()) {
                mgr.poison(
                    "an internal error interrupted a commit; reopen the database to recover",
                );
                lock(&mgr.group).failed.push((
                    first.ts,
                    last.ts,
                    Error::new(
                        ErrorKind::Internal,
                        "an internal error interrupted a group commit; reopen the database to \
                         recover",
                    ),
                ));
                mgr.publish_batch(&self.batch, true);
            }
        }
        {
            let mut g = lock(&mgr.group);
            g.leading = false;
            mgr.hand_on(g, Some(self.me));
        }
        self.wake_members();
    }
}

impl Leading<'_> {
    /// Wakes the members of the (published) batch other than the leader, and empties it.
    fn wake_members(&mut self) {
        for q in self.batch.drain(..) {
            if !q.abandoned && q.thread.id() != self.me {
                q.thread.unpark();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committers_poll_for_a_few_fast_syncs_and_not_at_all_on_a_slow_log() {
        // Nothing timed yet: a short poll.
        assert_eq!(spin_budget(0), SPIN_MIN);
        assert_eq!(spin_budget(45_000), Duration::from_micros(180));
        assert_eq!(spin_budget(200_000), SPIN_MAX);
        assert_eq!(spin_budget(200_001), Duration::ZERO);
        assert_eq!(spin_budget(5_000_000), Duration::ZERO);
    }
}
