//! Lock-free registration of running transactions' snapshots.
//!
//! Every statement begins a transaction, so `begin` must not serialize on a mutex that the
//! group publisher also holds. A transaction claims a slot of a fixed array and writes its
//! snapshot there; version GC and summary pruning read the slots. When every slot is taken,
//! `begin` falls back to the mutex-guarded registry (`Registry` in transaction.rs), which
//! readers of the slots also read.
//!
//! Why a snapshot registered here is never collected under its transaction (all accesses to
//! `published` and to the slots' `state` are SeqCst, so they fall in one total order S):
//! `begin` reads `published` (s), stores s in its slot, and reads `published` again; only
//! when that re-read still gives s is s its snapshot (otherwise it stores the newer value and
//! re-reads). A publisher stores `published` = `last` (P), then scans the slots, and trims
//! with floor `last`, keeping what every snapshot it found and every snapshot >= `last` sees.
//! - If the confirming re-read R comes before P in S, so does the slot store W before it;
//!   the scan comes after P, so it reads W or a later store to the slot: a later snapshot of
//!   the same begin (that one's own re-read came after the scan, so it reads >= `last`) or
//!   the slot's release (the transaction has ended).
//! - If R comes after P, it reads `published` >= `last` (the counter only grows): the
//!   snapshot is covered by the floor.
//!
//! The same argument covers summary pruning (serializable writers validate against the
//! summaries of commits after their snapshot; the slot carries a "validating" bit).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use super::stats::TxnInfo;
use super::{Isolation, TxnKind};

/// Slots in the array: more transactions than this at once take the mutex path.
pub(super) const SLOTS: usize = 128;

const IN_USE: u64 = 1;
const VALIDATING: u64 = 2;

/// One running transaction's registration. A cache line each: the slots of different
/// threads are written concurrently.
#[repr(align(64))]
#[derive(Default)]
struct Slot {
    /// 0: free; else `snapshot << 2 | VALIDATING? | IN_USE`.
    state: AtomicU64,
    /// The transaction id, 0 while the slot is free or being claimed. Cleared before the
    /// slot is freed, so whoever reads the id sees a transaction that was running then.
    id: AtomicU64,
    /// For listing only: kind, isolation and start (`coarse_now`'s ticks).
    kind: AtomicU64,
    started: AtomicU64,
}

/// A running transaction as the slots record it (see `Registry` for the overflow).
pub(super) struct SlotTxn {
    pub id: u64,
    pub snapshot: u64,
    pub info: TxnInfo,
}

pub(super) struct Snapshots {
    slots: Box<[Slot]>,
    /// Slots at or above this index have never been claimed: scans stop there.
    high: AtomicUsize,
}

/// The kernel's coarse monotonic clock (its last tick: a few ms of resolution), in
/// `coarsetime` ticks. Every statement begins a transaction, and the start time is only for
/// `SHOW TRANSACTIONS`' `age_ms`: the precise clock cost a lookup several percent of its
/// time. Not `coarsetime::Instant::now`, which also writes a process-wide cache line.
fn coarse_now() -> u64 {
    coarsetime::Instant::now_without_cache_update().as_ticks()
}

thread_local! {
    /// The slot this thread claimed last: usually free again, and nobody else's.
    static HINT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Default for Snapshots {
    fn default() -> Snapshots {
        Snapshots {
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
            high: AtomicUsize::new(0),
        }
    }
}

fn encode(snapshot: u64, validating: bool) -> u64 {
    (snapshot << 2) | if validating { VALIDATING } else { 0 } | IN_USE
}

impl Snapshots {
    /// Claims a slot for transaction `id` and takes its snapshot from `published` (see the
    /// module comment for why the re-read makes it safe); `None` when every slot is taken.
    pub(super) fn register(
        &self,
        published: &AtomicU64,
        id: u64,
        kind: TxnKind,
        isolation: Isolation,
        validating: bool,
    ) -> Option<(usize, u64)> {
        let mut snapshot = published.load(Ordering::SeqCst);
        let slot = self.claim(encode(snapshot, validating))?;
        let s = &self.slots[slot];
        loop {
            let now = published.load(Ordering::SeqCst);
            if now == snapshot {
                break;
            }
            snapshot = now;
            s.state
                .store(encode(snapshot, validating), Ordering::SeqCst);
        }
        let kind_bits =
            u64::from(kind == TxnKind::ReadOnly) | u64::from(isolation == Isolation::Snapshot) << 1;
        s.kind.store(kind_bits, Ordering::Relaxed);
        s.started.store(coarse_now(), Ordering::Relaxed);
        s.id.store(id, Ordering::SeqCst);
        Some((slot, snapshot))
    }

    fn claim(&self, state: u64) -> Option<usize> {
        let hint = HINT.with(|h| h.get());
        let order = (hint..SLOTS).chain(0..hint);
        for i in order {
            let s = &self.slots[i];
            if s.state.load(Ordering::Relaxed) == 0
                && s.state
                    .compare_exchange(0, state, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
            {
                HINT.with(|h| h.set(i));
                // Before the confirming re-read of `published` (see the module comment): a
                // scan that must see this slot sees `high` past it. Read first, so the usual
                // case (a slot below `high`) makes no read-modify-write of the shared line.
                if self.high.load(Ordering::SeqCst) <= i {
                    self.high.fetch_max(i + 1, Ordering::SeqCst);
                }
                return Some(i);
            }
        }
        None
    }

    /// Ends the registration in `slot`; the caller owns it (from `register`).
    pub(super) fn release(&self, slot: usize) {
        let s = &self.slots[slot];
        s.id.store(0, Ordering::SeqCst);
        s.state.store(0, Ordering::SeqCst);
    }

    fn used(&self) -> &[Slot] {
        &self.slots[..self.high.load(Ordering::SeqCst).min(SLOTS)]
    }

    /// The snapshots registered now, appended to `out`. Read after storing `published`.
    pub(super) fn snapshots(&self, out: &mut Vec<u64>) {
        for s in self.used() {
            let st = s.state.load(Ordering::SeqCst);
            if st != 0 {
                out.push(st >> 2);
            }
        }
    }

    /// The oldest snapshot of a registered serializable writer.
    pub(super) fn oldest_validating(&self) -> Option<u64> {
        self.used()
            .iter()
            .map(|s| s.state.load(Ordering::SeqCst))
            .filter(|st| st & VALIDATING != 0)
            .map(|st| st >> 2)
            .min()
    }

    /// Whether transaction `id` holds a slot now.
    pub(super) fn contains(&self, id: u64) -> bool {
        self.used()
            .iter()
            .any(|s| s.id.load(Ordering::SeqCst) == id)
    }

    /// The registered transactions, for listing (a transaction beginning or ending meanwhile
    /// may be missed or shown).
    pub(super) fn list(&self) -> Vec<SlotTxn> {
        let (now, coarse) = (Instant::now(), coarse_now());
        self.used()
            .iter()
            .filter_map(|s| {
                let id = s.id.load(Ordering::SeqCst);
                let st = s.state.load(Ordering::SeqCst);
                if id == 0 || st == 0 {
                    return None;
                }
                let kind = s.kind.load(Ordering::Relaxed);
                let started = s.started.load(Ordering::Relaxed);
                Some(SlotTxn {
                    id,
                    snapshot: st >> 2,
                    info: TxnInfo {
                        // To within a tick of the coarse clock.
                        started: now
                            .checked_sub(
                                coarsetime::Duration::from_ticks(coarse.saturating_sub(started))
                                    .into(),
                            )
                            .unwrap_or(now),
                        kind: if kind & 1 != 0 {
                            TxnKind::ReadOnly
                        } else {
                            TxnKind::ReadWrite
                        },
                        isolation: if kind & 2 != 0 {
                            Isolation::Snapshot
                        } else {
                            Isolation::Serializable
                        },
                    },
                })
            })
            .collect()
    }
}
