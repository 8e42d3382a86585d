//! Opening a database: in memory, or a directory recovered from its log.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{AccessMode, Connection, Options};
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
                _dir: dir,
            }),
        }
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
