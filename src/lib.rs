//! libgraphdb: an embedded property-graph database queried in openCypher.
//!
//! Layers, each calling only those below it (see ARCHITECTURE.md in the steering repo):
//! `ffi` (C ABI) → `api` (Rust API) → `cypher` (parser, planner, executor) → `txn` (MVCC,
//! timestamps, conflicts) → `storage` (versioned graph store) ; `wal` (redo log) and `dir`
//! (database directory, process locks) sit beside storage and are driven by `api`/`txn`.

pub mod api;
pub mod checkpoint;
pub mod cypher;
pub mod dir;
pub mod error;
pub mod ffi;
pub mod import;
pub mod storage;
pub mod temporal;
pub mod txn;
pub mod value;
pub mod vfs;
pub mod wal;

pub use api::{
    AccessMode, Connection, Database, IsolationMode, Options, Params, PreparedStatement,
    QueryResult, QueryStats, SyncMode, TxnMode,
};
pub use error::{Error, ErrorKind, Result};
