//! Transaction counters and the list of running transactions (`CALL db.stats()`,
//! `SHOW TRANSACTIONS`, `graphdb_stats_json`).
//!
//! Counters are relaxed atomics bumped on the paths that decide each outcome; they are for
//! observation, never for control.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::{Isolation, TxnKind};

/// Why a transaction was refused with `Conflict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictCause {
    /// Another transaction wrote the same entity first.
    WriteWrite,
    /// Serializable validation: something it read changed before it committed.
    ReadValidation,
    /// It was the victim of a deadlock.
    Deadlock,
}

#[derive(Debug, Default)]
pub struct Counters {
    rollbacks: AtomicU64,
    write_write: AtomicU64,
    read_validation: AtomicU64,
    deadlocks: AtomicU64,
    waits: AtomicU64,
    wait_micros: AtomicU64,
    busy_timeouts: AtomicU64,
    index_seeks: AtomicU64,
    label_scans: AtomicU64,
    node_scans: AtomicU64,
}

impl Counters {
    pub fn index_seek(&self) {
        self.index_seeks.fetch_add(1, Ordering::Relaxed);
    }

    pub fn label_scan(&self) {
        self.label_scans.fetch_add(1, Ordering::Relaxed);
    }

    pub fn node_scan(&self) {
        self.node_scans.fetch_add(1, Ordering::Relaxed);
    }

    pub fn rollback(&self) {
        self.rollbacks.fetch_add(1, Ordering::Relaxed);
    }

    pub fn conflict(&self, cause: ConflictCause) {
        let c = match cause {
            ConflictCause::WriteWrite => &self.write_write,
            ConflictCause::ReadValidation => &self.read_validation,
            ConflictCause::Deadlock => &self.deadlocks,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// A write waited for another transaction from `since` until now.
    pub fn waited(&self, since: Instant, timed_out: bool) {
        self.waits.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.wait_micros.fetch_add(us, Ordering::Relaxed);
        if timed_out {
            self.busy_timeouts.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Facts about one running transaction at the time it was listed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningTxn {
    pub id: u64,
    pub kind: TxnKind,
    pub isolation: Isolation,
    pub snapshot: u64,
    pub age_ms: u64,
    /// The transaction whose uncommitted write this one is waiting for.
    pub waiting_for: Option<u64>,
}

/// Registry entry kept for listing.
#[derive(Debug, Clone, Copy)]
pub struct TxnInfo {
    pub started: Instant,
    pub kind: TxnKind,
    pub isolation: Isolation,
}

/// A consistent-enough reading of every counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnStats {
    pub commits: u64,
    pub rollbacks: u64,
    pub conflicts_write_write: u64,
    pub conflicts_read_validation: u64,
    pub conflicts_deadlock: u64,
    pub waits: u64,
    pub wait_time_us: u64,
    pub busy_timeouts: u64,
    pub active_transactions: u64,
    pub oldest_snapshot_age_ms: u64,
    pub versions_retained: u64,
    pub commit_summaries_retained: u64,
    pub last_commit_ts: u64,
    /// Size of the current write-ahead log (0 in memory and read-only).
    pub wal_bytes: u64,
    /// Index lookups, label scans and all-node scans run by queries (how the planner found
    /// its start nodes).
    pub index_seeks: u64,
    pub label_scans: u64,
    pub node_scans: u64,
    /// Distinct keys held in memory over all property indexes: an index the base image
    /// holds is read in place, so after open this counts only keys filed since.
    pub index_keys_in_memory: u64,
}

impl TxnStats {
    pub(super) fn read(c: &Counters) -> TxnStats {
        TxnStats {
            rollbacks: c.rollbacks.load(Ordering::Relaxed),
            conflicts_write_write: c.write_write.load(Ordering::Relaxed),
            conflicts_read_validation: c.read_validation.load(Ordering::Relaxed),
            conflicts_deadlock: c.deadlocks.load(Ordering::Relaxed),
            waits: c.waits.load(Ordering::Relaxed),
            wait_time_us: c.wait_micros.load(Ordering::Relaxed),
            busy_timeouts: c.busy_timeouts.load(Ordering::Relaxed),
            index_seeks: c.index_seeks.load(Ordering::Relaxed),
            label_scans: c.label_scans.load(Ordering::Relaxed),
            node_scans: c.node_scans.load(Ordering::Relaxed),
            ..TxnStats::default()
        }
    }

    /// Name/value pairs in a stable order (for `CALL db.stats()` and JSON).
    pub fn entries(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("commits", self.commits),
            ("rollbacks", self.rollbacks),
            ("conflicts_write_write", self.conflicts_write_write),
            ("conflicts_read_validation", self.conflicts_read_validation),
            ("conflicts_deadlock", self.conflicts_deadlock),
            ("waits", self.waits),
            ("wait_time_us", self.wait_time_us),
            ("busy_timeouts", self.busy_timeouts),
            ("active_transactions", self.active_transactions),
            ("oldest_snapshot_age_ms", self.oldest_snapshot_age_ms),
            ("versions_retained", self.versions_retained),
            ("commit_summaries_retained", self.commit_summaries_retained),
            ("last_commit_ts", self.last_commit_ts),
            ("wal_bytes", self.wal_bytes),
            ("index_seeks", self.index_seeks),
            ("label_scans", self.label_scans),
            ("node_scans", self.node_scans),
            ("index_keys_in_memory", self.index_keys_in_memory),
        ]
    }
}
