//! Opening a database: in memory, or a directory recovered from its log.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::procedures::{engine_procedure, ProcedureCallback, ProcedureSignature};
use super::{AccessMode, Connection, Options, Value};
use crate::cypher::exec::Procedures;
use crate::dir::DbDir;
use crate::error::{Error, Result};
use crate::storage::Graph;
use crate::txn::{CommitSink, TxnManager};
use crate::vfs::{Io, RealIo};
use crate::wal::{self, Wal};

/// State shared by a database handle and all its connections.
pub(crate) struct DbShared {
    pub(crate) options: Options,
    pub(crate) txns: Arc<TxnManager>,
    /// What CALL can run; replaced whole on registration, so a running statement keeps the
    /// set it started with.
    pub(crate) procedures: RwLock<Arc<Procedures>>,
    /// Holds the directory's writer lock for as long as any handle or connection lives.
    _dir: Option<DbDir>,
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
        let dir = DbDir::open(
            io,
            Path::new(path),
            options.access_mode,
            options.create,
            Duration::from_millis(options.busy_timeout_ms),
        )?;
        let io = Arc::clone(dir.io());
        let wal_path = dir.wal_path();
        let recovered = wal::recover(&*io, &wal_path, !read_only)?;
        let graph = Arc::new(Graph::new());
        let mut last_ts = 0;
        {
            let mut data = graph.write();
            for (ts, changes) in &recovered.transactions {
                data.apply(&graph.catalog, *ts, changes).map_err(|e| {
                    Error::corrupt(format!(
                        "replaying {} (commit {ts}): {}",
                        wal_path.display(),
                        e.message()
                    ))
                })?;
                last_ts = *ts;
            }
        }
        let sink: Option<Box<dyn CommitSink>> = if read_only {
            None
        } else {
            Some(Box::new(Wal::open(
                &*io,
                &wal_path,
                &recovered,
                options.sync,
            )?))
        };
        let txns = TxnManager::new(graph, sink, last_ts, read_only)
            .with_busy_timeout(Duration::from_millis(options.busy_timeout_ms));
        Ok(Database::from_parts(options, txns, Some(dir)))
    }

    fn from_parts(options: &Options, txns: TxnManager, dir: Option<DbDir>) -> Database {
        Database {
            shared: Arc::new(DbShared {
                options: options.clone(),
                txns: Arc::new(txns),
                procedures: RwLock::new(Arc::new(Procedures::builtin())),
                _dir: dir,
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
        self.shared.txns.stats()
    }

    /// The counters as one JSON object (`graphdb_stats_json`).
    pub fn stats_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .stats()
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}
