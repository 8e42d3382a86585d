//! Opening a database: in memory, or a directory recovered from its base image and logs;
//! checkpoints (manual and automatic).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::procedures::{engine_procedure, ProcedureCallback, ProcedureSignature};
use super::{AccessMode, Connection, Options, Value};
use crate::checkpoint::{self, AutoCheckpoint, Checkpointer};
use crate::cypher::exec::Procedures;
use crate::dir::{DbDir, Manifest};
use crate::error::{Error, Result};
use crate::follow::Follower;
use crate::storage::Graph;
use crate::txn::{CommitSink, Isolation, Transaction, TxnKind, TxnManager};
use crate::vfs::{Io, OpenMode, RealIo};
use crate::wal::{self, SyncMode, Wal};

/// State shared by a database handle and all its connections.
pub(crate) struct DbShared {
    pub(crate) options: Options,
    /// The manager new transactions begin on (see `Managers`).
    txns: Managers,
    /// What CALL can run; replaced whole on registration, so a running statement keeps the
    /// set it started with.
    pub(crate) procedures: RwLock<Arc<Procedures>>,
    /// Bumped (under `procedures`' write lock, after the swap) by every registration, so a
    /// connection can keep the set it read last and take the lock only when this moved.
    pub(crate) procedures_version: AtomicU64,
    /// Read-write directory databases only.
    checkpointer: Option<Arc<Checkpointer>>,
    /// Transactions committed as a base image (`commit`), for `stats_json`.
    image_commits: AtomicU64,
    /// Dropped first (fields drop in order): stops and joins the checkpoint thread.
    _auto: Option<AutoCheckpoint>,
    /// Holds the directory's writer lock (or a reader's file locks) for as long as any
    /// handle or connection lives.
    _dir: Option<Arc<DbDir>>,
}

/// Where transactions begin. A read-write or in-memory database has one manager for its
/// whole life, so beginning takes no lock; a read-only directory database swaps in a fresh
/// one when its follower reloads (running transactions keep the one they began on).
enum Managers {
    Fixed(Arc<TxnManager>),
    Following {
        current: RwLock<Arc<TxnManager>>,
        /// Catches up with the writer's log before each begin (boxed: one per database).
        follower: Box<Follower>,
    },
}

impl DbShared {
    /// The manager the next transaction begins on (no catching up: for statistics).
    pub(crate) fn txns(&self) -> Arc<TxnManager> {
        match &self.txns {
            Managers::Fixed(m) => Arc::clone(m),
            Managers::Following { current, .. } => {
                Arc::clone(&current.read().unwrap_or_else(|e| e.into_inner()))
            }
        }
    }

    /// The manager to begin a transaction on now. On a read-only database, first applies
    /// every commit the writer has added to the log since (see `follow`), so the snapshot
    /// taken next includes every commit complete on disk; `Corrupt` or `IoError` when the log
    /// cannot be followed.
    pub(crate) fn txns_for_begin(&self) -> Result<Arc<TxnManager>> {
        if let Managers::Following { current, follower } = &self.txns {
            follower.catch_up(current)?;
        }
        Ok(self.txns())
    }

    /// Begins a transaction on the manager `txns_for_begin` gives, without holding a
    /// reference of our own to it in between (the transaction keeps one).
    pub(crate) fn begin(&self, kind: TxnKind, isolation: Isolation) -> Result<Transaction> {
        match &self.txns {
            Managers::Fixed(m) => Ok(m.begin(kind, isolation)),
            Managers::Following { .. } => Ok(self.txns_for_begin()?.begin(kind, isolation)),
        }
    }

    /// Runs `f` on the graph of the manager a transaction would begin on now, when that is
    /// known without catching up (a read-write or in-memory database): for hints that
    /// change no result (`Connection::prefetch_seek`).
    pub(crate) fn with_current_graph(&self, f: impl FnOnce(&crate::storage::graph::GraphData)) {
        if let Managers::Fixed(m) = &self.txns {
            f(&m.graph().read());
        }
    }

    /// Commits `tx`: through the log, or — when its write set is large (see
    /// `image_commit_wanted`) — as a new base image at its commit timestamp, holding off
    /// checkpoints meanwhile (`Checkpointer::exclusive`, taken before the commit lock as a
    /// checkpoint takes it).
    pub(crate) fn commit(&self, tx: Transaction) -> Result<()> {
        match &self.checkpointer {
            Some(c) if self.image_commit_wanted(&tx) => {
                let held = c.exclusive();
                let committed = tx.commit_as_image(|ts| {
                    c.image_at(&held, ts).map(|_| ()).map_err(|e| {
                        Error::new(
                            e.kind(),
                            format!(
                                "the commit failed (its write set is large, so it commits as a base image \
                                 instead of a log record): {}",
                                e.message()
                            ),
                        )
                    })
                });
                if committed.is_ok() {
                    self.image_commits.fetch_add(1, Ordering::Relaxed);
                }
                committed
            }
            _ => tx.commit(),
        }
    }

    /// An image costs a rewrite of the whole graph, a log record only the changes: the image
    /// pays when the write set is large in itself (`bulk_commit_entities`: the log would be
    /// written twice, once now and once by the checkpoint it soon triggers, and replayed at
    /// every open meanwhile) and large against the graph (at least a quarter of its entities,
    /// so a repeated batch into a big graph does not rewrite it every time). Only with
    /// sync=full: under normal/off a commit does not wait for a sync, and an image cannot be
    /// switched to without one.
    fn image_commit_wanted(&self, tx: &Transaction) -> bool {
        let threshold = self.options.bulk_commit_entities;
        let written = tx.write_set_len() as u64;
        if threshold == 0 || written < threshold || self.options.sync != SyncMode::Full {
            return false;
        }
        let txns = self.txns();
        let entities = {
            let g = txns.graph().read();
            g.node_slots() + g.rel_slots()
        };
        written.saturating_mul(4) >= entities
    }

    /// The full check of the base image (see `Database::check`).
    pub(crate) fn check(&self) -> Result<()> {
        let graph = Arc::clone(self.txns().graph());
        graph.damage.check()?;
        let base = Arc::clone(graph.read().base());
        if base.path().as_os_str().is_empty() {
            return Ok(());
        }
        let checked =
            checkpoint::load::check_image(&checkpoint::load::SliceFile(base.image()), base.path());
        if let Err(e) = &checked {
            if e.kind() == crate::error::ErrorKind::Corrupt {
                // Crash over corrupt: no later statement reads or commits on top of it.
                graph.damage.record(e.message().to_owned());
            }
        }
        checked?;
        base.blocks().mark_all();
        Ok(())
    }

    /// Runs a checkpoint now (see `Database::checkpoint`).
    pub(crate) fn checkpoint(&self) -> Result<()> {
        if self.options.access_mode == AccessMode::ReadOnly {
            return Err(Error::read_only(
                "CHECKPOINT needs a database opened read-write; this one is read-only",
            ));
        }
        match &self.checkpointer {
            Some(c) => c.run().map(|_| ()),
            // In memory: nothing to fold, nothing to shorten.
            None => Ok(()),
        }
    }
}

/// An open database. Cheap to clone; shared by any threads. Connections keep it alive.
#[derive(Clone)]
pub struct Database {
    shared: Arc<DbShared>,
}

impl Database {
    /// Opens (or with `create`, creates) the database at `path`; `":memory:"` opens a private
    /// in-memory database with no files.
    pub fn open(path: &str, options: &Options) -> Result<Database> {
        Database::open_with_io(path, options, Arc::new(RealIo))
    }

    /// For testing: like `open`, with every file operation going through `io` (for example
    /// `vfs::sim::SimIo`, which injects faults and simulates power loss).
    #[doc(hidden)]
    pub fn open_with_io(path: &str, options: &Options, io: Arc<dyn Io>) -> Result<Database> {
        let read_only = options.access_mode == AccessMode::ReadOnly;
        if path == ":memory:" {
            let txns = TxnManager::new(Arc::new(Graph::new()), None, 0, read_only)
                .with_busy_timeout(Duration::from_millis(options.busy_timeout_ms));
            return Ok(Database::from_parts(options, txns, None));
        }
        if path.is_empty() {
            return Err(Error::invalid_argument(
                "the database path is empty; give a directory, or \":memory:\"",
            ));
        }
        let dir = Arc::new(DbDir::open(
            io,
            Path::new(path),
            options.access_mode,
            options.create,
            Duration::from_millis(options.busy_timeout_ms),
        )?);
        let io = Arc::clone(dir.io());
        if read_only {
            let (txns, follower) = Follower::open(Arc::clone(&dir), options.verify_on_open)?;
            return Ok(Database {
                shared: Arc::new(DbShared {
                    options: options.clone(),
                    txns: Managers::Following {
                        current: RwLock::new(txns),
                        follower: Box::new(follower),
                    },
                    procedures: RwLock::new(Arc::new(Procedures::builtin())),
                    procedures_version: AtomicU64::new(0),
                    checkpointer: None,
                    _auto: None,
                    _dir: Some(dir),
                    image_commits: AtomicU64::new(0),
                }),
            });
        }
        let graph = Arc::new(Graph::new());
        let Recovered {
            last_ts,
            last: tail,
            ..
        } = recover(&dir, &dir.manifest(), &graph, true, options.verify_on_open)?;
        // Files a crash or a reader left behind (never ones the manifest names).
        dir.remove_unneeded();
        mark_earlier_logs_final(&dir);
        let wal = Arc::new(Wal::open_at(
            &*io,
            &dir.wal_path(),
            tail.end,
            tail.version,
            last_ts,
            options.sync,
        )?);
        let sink: Box<dyn CommitSink> = Box::new(Arc::clone(&wal));
        let txns = Arc::new(
            TxnManager::new(graph, Some(sink), last_ts, false)
                .with_busy_timeout(Duration::from_millis(options.busy_timeout_ms))
                .with_commit_wait(options.commit_wait),
        );
        let ckpt = Arc::new(Checkpointer::new(Arc::clone(&dir), wal, Arc::clone(&txns)));
        let auto = match options.checkpoint_wal_bytes {
            0 => None,
            n => Some(AutoCheckpoint::start(Arc::clone(&ckpt), n)?),
        };
        Ok(Database {
            shared: Arc::new(DbShared {
                options: options.clone(),
                txns: Managers::Fixed(txns),
                procedures: RwLock::new(Arc::new(Procedures::builtin())),
                procedures_version: AtomicU64::new(0),
                checkpointer: Some(ckpt),
                _auto: auto,
                _dir: Some(dir),
                image_commits: AtomicU64::new(0),
            }),
        })
    }

    /// Writes a new base image holding every commit so far, switches the manifest to it and
    /// a fresh log, and removes the files no longer needed (unless a read-only process still
    /// holds them). Readers and writers keep running meanwhile; commits pause only for one
    /// fsync. `ReadOnly` on a read-only database; a no-op in memory.
    pub fn checkpoint(&self) -> Result<()> {
        self.shared.checkpoint()
    }

    /// Checks the base image the database reads whole, as opening did before format 2: every
    /// section and block checksum, and the structure (flags, offsets, ids, labels, property
    /// encodings, adjacency, label lists). Also reports damage a read already met. Reads
    /// only (the image as mapped, so a concurrent checkpoint does not matter); `Corrupt`
    /// naming the file and offset on damage. `Ok` when there is no base image yet (in
    /// memory, or never checkpointed). The log is checked by every open anyway.
    pub fn check(&self) -> Result<()> {
        self.shared.check()
    }

    /// Imports node and relationship CSV files (see docs/import.md) as one commit, written
    /// as a new base image (a database directory) so that it is durable when this returns,
    /// without going through the log. Any error (a bad row, a duplicate or unknown id, a
    /// missing file) changes nothing and names the file and line.
    pub fn import(&self, spec: &crate::import::ImportSpec) -> Result<crate::import::ImportStats> {
        self.import_with_progress(spec, &mut |_| std::ops::ControlFlow::Continue(()))
    }

    /// `import`, calling `progress` every 65,536 rows and at the end of each file (of the
    /// rows read by the calling thread, for a file read in parts on several threads). When
    /// `progress` returns `Break`, the import stops, changes nothing and fails with
    /// `Interrupted`; once every file is read it can no longer be cancelled.
    pub fn import_with_progress(
        &self,
        spec: &crate::import::ImportSpec,
        progress: &mut crate::import::ProgressFn<'_>,
    ) -> Result<crate::import::ImportStats> {
        if self.shared.options.access_mode == AccessMode::ReadOnly {
            return Err(Error::read_only(
                "import needs a database opened read-write; this one is read-only",
            ));
        }
        crate::import::run(
            &self.shared.txns(),
            self.shared.checkpointer.as_deref(),
            spec,
            progress,
        )
    }

    fn from_parts(options: &Options, txns: TxnManager, dir: Option<Arc<DbDir>>) -> Database {
        Database {
            shared: Arc::new(DbShared {
                options: options.clone(),
                txns: Managers::Fixed(Arc::new(txns)),
                procedures: RwLock::new(Arc::new(Procedures::builtin())),
                procedures_version: AtomicU64::new(0),
                checkpointer: None,
                _auto: None,
                _dir: dir,
                image_commits: AtomicU64::new(0),
            }),
        }
    }

    /// Registers a procedure that `CALL` can run on every connection of this database, from
    /// the next statement on. `signature` says what it takes and yields (see
    /// [`ProcedureSignature::parse`]); `callback` gets the checked arguments and returns the
    /// records, each a row of the output fields in signature order. Fails with
    /// `InvalidArgument` when the name is taken (built-ins included) or malformed.
    pub fn register_procedure(
        &self,
        signature: ProcedureSignature,
        callback: impl Fn(&[Value]) -> Result<Vec<Vec<Value>>> + Send + Sync + 'static,
    ) -> Result<()> {
        let callback: Arc<ProcedureCallback> = Arc::new(callback);
        let mut guard = self
            .shared
            .procedures
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut next = Procedures::clone(&guard);
        next.register(engine_procedure(signature, callback))?;
        *guard = Arc::new(next);
        self.shared
            .procedures_version
            .fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// The signatures of every procedure CALL can run, sorted by name.
    pub fn procedures(&self) -> Vec<String> {
        self.shared
            .procedures
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .signatures()
    }

    /// A new connection. Each connection runs one transaction at a time.
    pub fn connect(&self) -> Connection {
        Connection::new(Arc::clone(&self.shared))
    }

    pub fn options(&self) -> &Options {
        &self.shared.options
    }

    /// Transaction counters: commits, rollbacks, conflicts by cause, waits, retained versions.
    pub fn stats(&self) -> crate::txn::stats::TxnStats {
        self.shared.txns().stats()
    }

    /// How committers waited for their groups' publication so far (for tests of the
    /// `commit_wait` option).
    #[doc(hidden)]
    pub fn publish_waits(&self) -> crate::txn::PublishWaits {
        self.shared.txns().publish_waits()
    }

    /// The counters as one JSON object (`graphdb_stats_json`).
    pub fn stats_json(&self) -> String {
        let mut map: serde_json::Map<String, serde_json::Value> = self
            .stats()
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
            .collect();
        if let Some(c) = &self.shared.checkpointer {
            let (done, failed) = c.counts();
            map.insert("checkpoints".into(), done.into());
            map.insert("checkpoint_failures".into(), failed.into());
            let images = self.shared.image_commits.load(Ordering::Relaxed);
            map.insert("image_commits".into(), images.into());
        }
        serde_json::Value::Object(map).to_string()
    }
}

/// Where a log's records end after recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tail {
    pub(crate) name: String,
    /// Just past the last good record.
    pub(crate) end: u64,
    pub(crate) version: u32,
    /// The log's newest commit timestamp (0: none).
    pub(crate) last_ts: u64,
}

/// What recovery rebuilt.
pub(crate) struct Recovered {
    /// The newest commit timestamp.
    pub(crate) last_ts: u64,
    /// The last log: where appending continues.
    pub(crate) last: Tail,
    /// The newest log holding records (else the first): where a reader follows on.
    pub(crate) newest: Tail,
}

/// Rebuilds `graph` from the base image and logs `m` names in directory `dir`. With
/// `truncate`, cuts a torn tail off the last log. With `verify`, the base image is checked
/// whole (else from format 2 on, a block at a time as it is read).
pub(crate) fn recover(
    dir: &DbDir,
    m: &Manifest,
    graph: &Graph,
    truncate: bool,
    verify: bool,
) -> Result<Recovered> {
    let io = dir.io();
    let mut base_ts = 0;
    if let Some(name) = &m.base {
        let path = dir.path(name);
        let file = io
            .open(&path, OpenMode::Read)
            .map_err(|e| Error::io(format!("opening {}", path.display()), &e))?;
        let t = std::time::Instant::now();
        base_ts = checkpoint::load_base(&*file, &path, graph, verify)?.ts;
        trace(&format!("loaded {} in {:?}", path.display(), t.elapsed()));
    }
    let mut last_ts = base_ts;
    let mut tail = Tail {
        name: String::new(),
        end: 0,
        version: wal::FORMAT_VERSION,
        last_ts: 0,
    };
    let mut newest: Option<Tail> = None;
    // A torn tail is only possible in the newest log that has records: rotation syncs a log
    // before the next one receives any.
    let mut torn_in: Option<String> = None;
    let mut data = graph.write();
    for (i, name) in m.wals.iter().enumerate() {
        let path = dir.path(name);
        let is_last = i + 1 == m.wals.len();
        let t = std::time::Instant::now();
        let scanned = wal::recover_each(&**io, &path, truncate && is_last, |ts, changes| {
            if ts <= base_ts {
                // Already in the base image (committed between rotation and snapshot).
                return Ok(());
            }
            // Commit timestamps are consecutive (a timestamp is handed out only with its
            // record), so a gap means the manifest names the wrong files or one is lost.
            if ts != last_ts + 1 {
                return Err(Error::corrupt(format!(
                    "{}: commit {ts} follows commit {last_ts} ({}); commits in between are \
                     missing: {} names the wrong files or one was lost; restore the database \
                     from a backup",
                    path.display(),
                    m.base
                        .as_deref()
                        .map_or("no base image".to_owned(), |b| format!(
                            "the last in {b} or an earlier log"
                        )),
                    dir.path("graphdb.meta").display()
                )));
            }
            data.apply(&graph.catalog, ts, changes).map_err(|e| {
                Error::corrupt(format!(
                    "replaying {} (commit {ts}): {}",
                    path.display(),
                    e.message()
                ))
            })?;
            last_ts = ts;
            Ok(())
        })?;
        trace(&format!(
            "replayed {} ({} records) in {:?}",
            path.display(),
            scanned.records,
            t.elapsed()
        ));
        if scanned.records > 0 {
            if let Some(earlier) = &torn_in {
                return Err(Error::corrupt(format!(
                    "{earlier} ends in a damaged record, yet the later log {} holds commits; \
                     restore the database from a backup",
                    path.display()
                )));
            }
        }
        if scanned.torn_bytes > 0 {
            torn_in = Some(format!("{} (at offset {})", path.display(), scanned.end));
        }
        tail = Tail {
            name: name.clone(),
            end: scanned.end,
            version: scanned.version,
            last_ts: scanned.last_ts,
        };
        if scanned.records > 0 || newest.is_none() {
            newest = Some(tail.clone());
        }
    }
    drop(data);
    Ok(Recovered {
        last_ts,
        newest: newest.unwrap_or_else(|| tail.clone()),
        last: tail,
    })
}

/// Appending continues in the last log the manifest names; the earlier ones are final. A
/// writer that died during a checkpoint may not have marked them (see `wal` rotation), so
/// this does, for read-only processes following them. Best effort.
fn mark_earlier_logs_final(dir: &DbDir) {
    let m = dir.manifest();
    for name in m.wals.iter().take(m.wals.len().saturating_sub(1)) {
        if let Ok(f) = dir.io().open(&dir.path(name), OpenMode::Read) {
            let _ = f.mark_final();
        }
    }
}

/// Recovery timings on stderr when `GRAPHDB_TRACE_OPEN` is set (for the reopen benchmark).
fn trace(what: &str) {
    if std::env::var_os("GRAPHDB_TRACE_OPEN").is_some() {
        eprintln!("graphdb open: {what}");
    }
}
