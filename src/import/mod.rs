//! Bulk import of node and relationship CSV files (see docs/import.md).
//!
//! Two steps: `parse` reads and checks every file into a batch without touching the graph
//! (any error there changes nothing), then `install` appends the batch to the graph at one
//! commit timestamp and, for a database directory, writes a new base image holding it and
//! switches the manifest to it, so the bulk data never goes through the WAL. Other
//! connections keep reading meanwhile; commits wait while the image is written.

mod header;
mod install;
mod parse;
pub mod spec;

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

pub use spec::{IdType, ImportSpec, NodeFile, RelFile};

use crate::checkpoint::Checkpointer;
use crate::error::Result;
use crate::storage::graph::{Visibility, UNCOMMITTED};
use crate::txn::TxnManager;

/// Which part of the import a progress report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Nodes,
    Relationships,
}

/// A progress report: `rows` data rows of `file` read so far (`done` at its end). Reported
/// every 65,536 rows and at the end of each file.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub phase: Phase,
    pub file: &'a str,
    pub rows: u64,
    pub done: bool,
}

/// The progress callback: `ControlFlow::Break(())` cancels the import, which then changes
/// nothing and fails with `Interrupted`. It is called while the files are read, on the
/// importing thread; once they are read the import runs to its end.
pub type ProgressFn<'a> = dyn FnMut(&Progress) -> ControlFlow<()> + 'a;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportStats {
    pub nodes: u64,
    pub relationships: u64,
    /// The first new node and relationship ids (the new ones are consecutive from there).
    pub first_node_id: u64,
    pub first_relationship_id: u64,
    /// The commit timestamp the import took.
    pub commit_ts: u64,
    /// Size of the base image written (0 for an in-memory database).
    pub image_bytes: u64,
    /// Reading and checking the files; installing and writing the image.
    pub parse_time: Duration,
    pub install_time: Duration,
}

impl ImportStats {
    /// The stats as one JSON object (`graphdb_import`).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "nodes": self.nodes,
            "relationships": self.relationships,
            "first_node_id": self.first_node_id,
            "first_relationship_id": self.first_relationship_id,
            "commit_ts": self.commit_ts,
            "image_bytes": self.image_bytes,
            "parse_ms": self.parse_time.as_secs_f64() * 1e3,
            "install_ms": self.install_time.as_secs_f64() * 1e3,
        })
        .to_string()
    }
}

/// Runs an import (the database's access mode is checked by the caller).
pub(crate) fn run(
    txns: &TxnManager,
    ckpt: Option<&Checkpointer>,
    spec: &ImportSpec,
    progress: &mut ProgressFn<'_>,
) -> Result<ImportStats> {
    let t = Instant::now();
    let vis = Visibility {
        snapshot: txns.last_commit_ts(),
        own: UNCOMMITTED,
    };
    let batch = parse::read(spec, txns.graph(), vis, progress)?;
    let parse_time = t.elapsed();
    let (nodes, relationships) = (batch.nodes.len() as u64, batch.rels.len() as u64);
    let t = Instant::now();
    let placed = match ckpt {
        Some(c) => {
            let held = c.exclusive();
            install::install(txns, Some((c, &held)), batch)?
        }
        None => install::install(txns, None, batch)?,
    };
    Ok(ImportStats {
        nodes,
        relationships,
        first_node_id: placed.first_node,
        first_relationship_id: placed.first_rel,
        commit_ts: placed.ts,
        image_bytes: placed.image_bytes,
        parse_time,
        install_time: t.elapsed(),
    })
}

/// Import timings on stderr when `GRAPHDB_TRACE_IMPORT` is set (for profiling).
fn trace(what: &str) {
    if std::env::var_os("GRAPHDB_TRACE_IMPORT").is_some() {
        eprintln!("graphdb import: {what}");
    }
}
