//! Parallel runs of the batch engine: chunks of start nodes matched, filtered and reduced
//! to [`Partial`]s on worker threads, folded into the aggregation by the calling thread in
//! chunk order.
//!
//! Invariants:
//! - Results are the single-threaded engine's: every chunk is folded in scan order, row by
//!   row as one thread would have fed them, so groups keep first-seen order and sums,
//!   overflow and type errors are the same; an error is the one of the first failing chunk
//!   in chunk order (a worker's, or the fold's).
//! - No thread waits for another while holding a view: a worker takes the graph latch for
//!   one chunk and drops it before it hands the chunk over or waits for the folder (the
//!   latch prefers writers: a reader blocked behind a waiting writer, while another reader
//!   waits for it, would deadlock all three). The folder holds no view.
//! - Memory: at most [`window`] chunks are handed out and not yet folded, so partial results
//!   waiting for an earlier slow chunk stay bounded; each worker reuses its buffers.
//! - Interrupts and deadlines are checked once per chunk, by the worker that runs it.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use super::agg::{Aggregation, Partial};
use super::{Out, Runner, BATCH};
use crate::cypher::ExecControl;
use crate::error::{Error, Result};
use crate::storage::NodeId;
use crate::txn::ViewSource;

/// Scans with fewer start nodes stay on the calling thread: handing work to threads costs
/// tens of microseconds, more than a point-ish query takes.
pub(super) const MIN_START_NODES: usize = 4 * BATCH;

/// The default worker count is the available parallelism, at most this.
const MAX_DEFAULT_THREADS: usize = 8;

/// At most this many workers, whatever is asked.
const MAX_THREADS: usize = 64;

thread_local! {
    static THREADS: Cell<Option<usize>> = const { Cell::new(None) };
}

/// `GRAPHDB_BATCH_THREADS=n` (read once per process): worker threads of a large batch run;
/// 1 keeps every run on the calling thread. Default: the available parallelism, at most 8.
static ENV_THREADS: once_cell::sync::Lazy<usize> = once_cell::sync::Lazy::new(|| {
    std::env::var("GRAPHDB_BATCH_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .map_or_else(default_threads, |n| n.min(MAX_THREADS))
});

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_DEFAULT_THREADS)
}

/// Sets the worker threads of batch runs started on this thread, over the `batch_threads`
/// option and the environment; 0 restores those (hidden: tests and measurements).
#[doc(hidden)]
pub fn set_batch_threads(n: usize) {
    THREADS.with(|t| t.set((n > 0).then_some(n.min(MAX_THREADS))));
}

/// This thread's setting, else the database's `batch_threads` option, else the
/// environment's, else the default.
pub(super) fn threads(control: &ExecControl) -> usize {
    THREADS
        .with(|t| t.get())
        .unwrap_or(match control.batch_threads {
            0 => *ENV_THREADS,
            n => n.min(MAX_THREADS),
        })
}

/// Chunks handed out and not yet folded, at most.
fn window(workers: usize) -> usize {
    2 * workers + 2
}

/// What the workers and the folder share.
struct Shared {
    /// The next chunk to hand out.
    next: AtomicUsize,
    /// No chunk at or past this one is started: the first chunk known to have failed.
    limit: AtomicUsize,
    /// Set when the folder is done (or a worker panicked): workers stop.
    stop: AtomicBool,
    /// Chunks folded so far (the window's base), with its condition.
    folded: Mutex<usize>,
    moved: Condvar,
}

impl Shared {
    fn halt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _g = self.folded.lock().unwrap_or_else(|e| e.into_inner());
        self.moved.notify_all();
    }
}

/// Stops the others when its worker unwinds (its chunk would never arrive).
struct PanicGuard<'a>(&'a Shared);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
}

/// Runs the chunks of `scan` on `threads` workers (fewer when there are fewer chunks), each
/// with a runner from `runner` (collecting into a [`Partial`]), folding into `agg`.
pub(super) fn run<'a>(
    scan: &[NodeId],
    threads: usize,
    src: &ViewSource<'_>,
    control: &ExecControl,
    agg: &mut Aggregation<'_>,
    runner: impl Fn() -> Runner<'a> + Sync,
) -> Result<()> {
    let chunks = scan.len().div_ceil(BATCH);
    let workers = threads.min(chunks).max(1);
    let shared = Shared {
        next: AtomicUsize::new(0),
        limit: AtomicUsize::new(chunks),
        stop: AtomicBool::new(false),
        folded: Mutex::new(0),
        moved: Condvar::new(),
    };
    let (tx, rx) = crossbeam_channel::unbounded::<(usize, Result<Partial>)>();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let tx = tx.clone();
                let (shared, runner) = (&shared, &runner);
                s.spawn(move || {
                    let _guard = PanicGuard(shared);
                    work(scan, chunks, workers, src, control, shared, runner(), &tx);
                })
            })
            .collect();
        drop(tx);
        let mut result = fold(&rx, chunks, workers, &shared, agg);
        shared.halt();
        for h in handles {
            if h.join().is_err() {
                result = Err(Error::internal("a batch worker thread panicked"));
            }
        }
        result
    })
}

/// Calls `f` on every item on up to `threads` threads (no order): `Ok(true)` when every
/// call answered `true`; stops early at the first `false` or error (either is returned).
/// Each call takes and drops its own view; no thread waits for another while holding one.
pub(super) fn each<T: Send>(
    threads: usize,
    items: Vec<T>,
    f: impl Fn(T) -> Result<bool> + Sync,
) -> Result<bool> {
    let workers = threads.min(items.len()).max(1);
    let queue = Mutex::new(items.into_iter());
    let stop = AtomicBool::new(false);
    let outcome: Mutex<Result<bool>> = Mutex::new(Ok(true));
    let panicked = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (queue, stop, outcome, f) = (&queue, &stop, &outcome, &f);
                s.spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                        let Some(item) = next else { return };
                        let r = f(item);
                        if !matches!(r, Ok(true)) {
                            stop.store(true, Ordering::SeqCst);
                            let mut o = outcome.lock().unwrap_or_else(|e| e.into_inner());
                            if matches!(*o, Ok(true)) {
                                *o = r;
                            }
                            return;
                        }
                    }
                })
            })
            .collect();
        let mut panicked = false;
        for h in handles {
            panicked |= h.join().is_err();
        }
        panicked
    });
    if panicked {
        return Err(Error::internal("a batch worker thread panicked"));
    }
    outcome.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// One worker: takes chunks in order until none is left, the window is full (waits, holding
/// no view), or the run stops.
#[allow(clippy::too_many_arguments)]
fn work(
    scan: &[NodeId],
    chunks: usize,
    workers: usize,
    src: &ViewSource<'_>,
    control: &ExecControl,
    shared: &Shared,
    mut run: Runner<'_>,
    tx: &crossbeam_channel::Sender<(usize, Result<Partial>)>,
) {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        if i >= chunks {
            return;
        }
        {
            let mut folded = shared.folded.lock().unwrap_or_else(|e| e.into_inner());
            while i >= *folded + window(workers) && !shared.stop.load(Ordering::SeqCst) {
                folded = shared.moved.wait(folded).unwrap_or_else(|e| e.into_inner());
            }
        }
        // Every chunk before `limit` is run (the fold needs them to find the first error);
        // none after it is.
        if shared.stop.load(Ordering::SeqCst) || i >= shared.limit.load(Ordering::SeqCst) {
            return;
        }
        let ids = &scan[i * BATCH..((i + 1) * BATCH).min(scan.len())];
        let result = control.check().and_then(|()| {
            let view = src.view();
            run.chunk(&view, ids)
        });
        let result = match result {
            Ok(()) => match &mut run.out {
                Out::Partial(p) => Ok(std::mem::replace(p, Partial::new(&run.plan.items))),
                Out::Agg(_) => Err(Error::internal("a batch worker without a partial")),
            },
            Err(e) => {
                shared.limit.fetch_min(i, Ordering::SeqCst);
                Err(e)
            }
        };
        let failed = result.is_err();
        if tx.send((i, result)).is_err() || failed {
            return;
        }
    }
}

/// Folds the chunks' partials into `agg` in chunk order; the first error in that order ends
/// the run.
fn fold(
    rx: &crossbeam_channel::Receiver<(usize, Result<Partial>)>,
    chunks: usize,
    workers: usize,
    shared: &Shared,
    agg: &mut Aggregation<'_>,
) -> Result<()> {
    let mut pending: BTreeMap<usize, Result<Partial>> = BTreeMap::new();
    let mut next = 0;
    while next < chunks {
        let Ok((i, r)) = rx.recv() else {
            return Err(Error::internal(
                "the batch workers ended before every chunk was run",
            ));
        };
        pending.insert(i, r);
        debug_assert!(pending.len() <= window(workers));
        while let Some(r) = pending.remove(&next) {
            agg.add_partial(r?)?;
            next += 1;
            let mut folded = shared.folded.lock().unwrap_or_else(|e| e.into_inner());
            *folded = next;
            shared.moved.notify_all();
        }
    }
    Ok(())
}
