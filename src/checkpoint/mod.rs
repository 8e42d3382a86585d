//! Checkpoints: folding the committed graph into a new immutable base image, so that the WAL
//! stops growing and reopening replays only what came after.
//!
//! Protocol (one checkpoint at a time; readers and writers keep running):
//! 1. Create the next log `wal-N.log` (header synced, directory synced) and install a
//!    manifest naming the current base plus every current log plus the new one. A crash from
//!    here on finds the new log.
//! 2. Rotate: the log syncs the current file and moves appending to the new one, holding the
//!    commit path for that one fsync. Every commit up to C (returned) is in the earlier files,
//!    every later commit goes to the new one.
//! 3. Wait until C is published, then take a read snapshot S >= C (a registered read-only
//!    transaction, so version GC keeps what S sees however long the write takes).
//! 4. Write the base image of snapshot S to `base-N.gdb.tmp`, fsync, rename to `base-N.gdb`,
//!    fsync the directory (`write`). Commits in (C, S] are both in the image and in the new
//!    log; replay skips records at or below the image's timestamp.
//! 5. Install the manifest {base-N.gdb, [wal-N.log]}.
//! 6. Remove base images and logs the manifest no longer names, each only if no reader
//!    process holds it (`DbDir::remove_unneeded`); the rest wait for a later checkpoint/open.
//!
//! Failures: before step 5 the durable manifest is the one from step 1 (or the previous
//! one), complete either way. A failure creating, writing or syncing the new base image (or
//! the new log in step 1) only fails the checkpoint: nothing refers to those files yet. A
//! failed manifest installation or directory sync leaves it uncertain which manifest a power
//! cut would keep, so — like a failed WAL write — the database then refuses writes until it
//! is reopened (it stays readable); recovery then picks whichever manifest is durable, both
//! complete. A failed rotation sync is a WAL failure and poisons the same way.

pub mod format;
pub mod load;
pub(crate) mod mmap;
pub mod write;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use load::load_base;

use crate::dir::{self, DbDir, Manifest};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{Change, Graph};
use crate::txn::{Isolation, TxnKind, TxnManager};
use crate::wal::{self, Wal};

/// The catalog as a list of definitions: labels, relationship types, property keys (in id
/// order), then index and constraint definitions. Base images store it this way (WAL codec),
/// and loading replays it like the log's definitions (names first, schema once the entities
/// are in place, so index contents are built from them).
pub fn definition_changes(graph: &Graph) -> Vec<Change> {
    let c = &graph.catalog;
    let mut out = Vec::new();
    for (id, n) in c.labels.names().iter().enumerate() {
        out.push(Change::DefineLabel(id as u32, n.to_string()));
    }
    for (id, n) in c.rel_types.names().iter().enumerate() {
        out.push(Change::DefineRelType(id as u32, n.to_string()));
    }
    for (id, n) in c.keys.names().iter().enumerate() {
        out.push(Change::DefineKey(id as u32, n.to_string()));
    }
    out.extend(graph.read().schema.definition_changes());
    out
}

/// What one checkpoint did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// The image's timestamp: every commit at or below it is in the image.
    pub ts: u64,
    pub base: String,
    pub bytes: u64,
    pub nodes: u64,
    pub relationships: u64,
    /// Old files removed, and old files left because a reader holds them.
    pub removed: usize,
    pub kept: usize,
    pub took: Duration,
}

/// Runs checkpoints for one read-write database.
pub struct Checkpointer {
    dir: Arc<DbDir>,
    wal: Arc<Wal>,
    txns: Arc<TxnManager>,
    /// One checkpoint at a time.
    busy: Mutex<()>,
    /// Set when the database closes: a running checkpoint stops early.
    cancel: AtomicBool,
    done: AtomicU64,
    failed: AtomicU64,
}

impl Checkpointer {
    pub fn new(dir: Arc<DbDir>, wal: Arc<Wal>, txns: Arc<TxnManager>) -> Checkpointer {
        Checkpointer {
            dir,
            wal,
            txns,
            busy: Mutex::new(()),
            cancel: AtomicBool::new(false),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    pub fn wal(&self) -> &Arc<Wal> {
        &self.wal
    }

    /// Makes a running checkpoint stop (the database is closing).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Checkpoints completed and failed since open.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }

    /// Runs one checkpoint (waiting for a running one to finish first).
    pub fn run(&self) -> Result<CheckpointInfo> {
        let _one = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = self.run_locked();
        let counter = if outcome.is_ok() {
            &self.done
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    /// Holds off checkpoints (for `image_at`). Take it before the commit lock, as `run` does.
    pub fn exclusive(&self) -> std::sync::MutexGuard<'_, ()> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the graph as of `ts` the database's durable state without logging it (bulk
    /// import): steps 1, 2, 4, 5 and 6 of a checkpoint at snapshot `ts`. The caller holds
    /// `exclusive` and the commit lock, every commit up to `ts - 1` has published, and the
    /// graph holds the versions of commit `ts` (stamped `ts`, not yet published). On `Err`
    /// the commit is not durable (after a failed manifest switch, the database refuses writes
    /// until reopened, and reopening finds the state before or after `ts`, both complete).
    pub fn image_at(
        &self,
        _exclusive: &std::sync::MutexGuard<'_, ()>,
        ts: u64,
    ) -> Result<CheckpointInfo> {
        let started = Instant::now();
        let io = Arc::clone(self.dir.io());
        let (n, wal_name, wal_path) = self.announce_log(&*io)?;
        // Commits after `ts` go to the new log; every earlier one is in the earlier logs.
        self.wal.rotate(&*io, &wal_path)?;
        let graph = Arc::clone(self.txns.graph());
        let defs = definition_changes(&graph);
        let base_name = dir::base_name(n);
        let t = Instant::now();
        let written = write::write_base(
            &*io,
            &self.dir.path(&base_name),
            &graph,
            ts,
            &defs,
            &self.cancel,
        )?;
        if std::env::var_os("GRAPHDB_TRACE_IMPORT").is_some() {
            eprintln!(
                "graphdb import: base image of {} bytes written and synced in {:?}",
                written.bytes,
                t.elapsed()
            );
        }
        self.switch_to(base_name, wal_name, ts, written, started)
    }

    /// Step 1 of a checkpoint: creates the next log (header and directory synced) and
    /// installs a manifest naming it beside the current files, so a crash from here on finds
    /// it. Returns its file number, name and path.
    fn announce_log(&self, io: &dyn crate::vfs::Io) -> Result<(u64, String, std::path::PathBuf)> {
        let n = self.dir.take_number();
        let wal_name = dir::wal_name(n);
        let wal_path = self.dir.path(&wal_name);
        wal::create(io, &wal_path)?;
        dir::sync_dir(io, self.dir.root())?;
        let mut with_new = self.dir.manifest();
        with_new.wals.push(wal_name.clone());
        self.poison_on_error(self.dir.install_manifest(with_new))?;
        Ok((n, wal_name, wal_path))
    }

    /// Steps 5 and 6: switches the manifest to the written image `base_name` (holding every
    /// commit up to `ts`) and the log `wal_name`, then removes what no reader holds.
    fn switch_to(
        &self,
        base_name: String,
        wal_name: String,
        ts: u64,
        written: write::Written,
        started: Instant,
    ) -> Result<CheckpointInfo> {
        self.poison_on_error(self.dir.install_manifest(Manifest {
            base: Some(base_name.clone()),
            wals: vec![wal_name],
        }))?;
        let (removed, kept) = self.dir.remove_unneeded();
        Ok(CheckpointInfo {
            ts,
            base: base_name,
            bytes: written.bytes,
            nodes: written.header.live_nodes,
            relationships: written.header.live_rels,
            removed,
            kept,
            took: started.elapsed(),
        })
    }

    /// A step whose failure leaves the durable manifest uncertain: refuse writes.
    fn poison_on_error<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| {
            let why = format!(
                "a checkpoint failed to switch the database's files ({}); the database refuses \
                 writes until it is reopened (reopen the database to recover)",
                e.message()
            );
            self.wal.fail(&why);
            Error::new(e.kind(), why)
        })
    }

    fn run_locked(&self) -> Result<CheckpointInfo> {
        let started = Instant::now();
        let io = Arc::clone(self.dir.io());
        // 1. The next log, named by the manifest before anything is written to it.
        let (n, wal_name, wal_path) = self.announce_log(&*io)?;
        // 2 and 3. Rotate and take the snapshot at one point: with no commit taking a
        //    timestamp and every earlier one published, the snapshot is exactly the commits
        //    of the earlier logs, and the schema definitions read now are the ones it sees.
        let graph = Arc::clone(self.txns.graph());
        let (tx, defs) = self.txns.quiesced(|last| -> Result<_> {
            let rotated_at = self.wal.rotate(&*io, &wal_path)?;
            let tx = self.txns.begin(TxnKind::ReadOnly, Isolation::Snapshot);
            if rotated_at != last || tx.snapshot() != last {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!(
                        "checkpoint snapshot mismatch (log {rotated_at}, commits {last}, \
                         snapshot {})",
                        tx.snapshot()
                    ),
                ));
            }
            Ok((tx, definition_changes(&graph)))
        })?;
        let snapshot = tx.snapshot();
        // 4. The image.
        let base_name = dir::base_name(n);
        let written = write::write_base(
            &*io,
            &self.dir.path(&base_name),
            &graph,
            snapshot,
            &defs,
            &self.cancel,
        );
        drop(tx);
        let written = written?;
        // 5 and 6. Switch, and clean up what no reader holds.
        self.switch_to(base_name, wal_name, snapshot, written, started)
    }
}

/// The background thread of automatic checkpoints: woken by the log once the current file
/// passes the threshold, it checkpoints off every committing thread's path.
pub struct AutoCheckpoint {
    stop: Option<crossbeam_channel::Sender<()>>,
    handle: Option<std::thread::JoinHandle<()>>,
    ckpt: Arc<Checkpointer>,
}

/// After a failed automatic checkpoint, wait this long before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl AutoCheckpoint {
    /// Starts the thread; checkpoints once the log passes `threshold` bytes.
    pub fn start(ckpt: Arc<Checkpointer>, threshold: u64) -> Result<AutoCheckpoint> {
        let (trigger_tx, trigger_rx) = crossbeam_channel::bounded::<()>(1);
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
        ckpt.wal().set_auto_checkpoint(threshold, trigger_tx);
        let worker = Arc::clone(&ckpt);
        let handle = std::thread::Builder::new()
            .name("graphdb-checkpoint".into())
            .spawn(move || {
                let mut not_before = Instant::now();
                loop {
                    crossbeam_channel::select! {
                        recv(stop_rx) -> _ => break,
                        recv(trigger_rx) -> msg => {
                            if msg.is_err() {
                                break;
                            }
                            if Instant::now() < not_before
                                || worker.wal().current_bytes() < threshold
                            {
                                continue;
                            }
                            if worker.run().is_err() {
                                not_before = Instant::now() + RETRY_AFTER;
                            }
                        }
                    }
                }
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("cannot start the checkpoint thread: {e}"),
                )
            })?;
        Ok(AutoCheckpoint {
            stop: Some(stop_tx),
            handle: Some(handle),
            ckpt,
        })
    }
}

impl Drop for AutoCheckpoint {
    fn drop(&mut self) {
        self.ckpt.cancel();
        drop(self.stop.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
