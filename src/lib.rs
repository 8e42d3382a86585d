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
mod follow;
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

/// The allocator of the library's own memory. In the shared and static C libraries it serves
/// only libgraphdb's Rust code: the host program's `malloc` is untouched, and no memory
/// crosses the boundary between them (results are freed through `graphdb_*_free`). Why not
/// the system allocator: the store holds millions of small, long-lived allocations, and under
/// them glibc's malloc spent 20-35% of a point lookup in `_int_malloc` and
/// `malloc_consolidate` (profiled with perf; see docs/performance.md). A Rust program that
/// brings its own `#[global_allocator]` turns this off with `default-features = false`.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
