//! Bulk import of CSV files (docs/import.md).

use std::ffi::{c_char, c_void, CString};
use std::ops::ControlFlow;

use super::database::graphdb_database;
use super::status::{catch, graphdb_status, status_of};
use super::util::{handle, in_str, out, owned_c_string};
use crate::error::Result;
use crate::import::{ImportSpec, Phase, Progress};

/// What an import progress report is about.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum graphdb_import_phase {
    GRAPHDB_IMPORT_NODES = 0,
    GRAPHDB_IMPORT_RELATIONSHIPS = 1,
}

/// An import progress callback: `rows` data rows of `file` read so far (`done` at the end of
/// the file). Called on the thread that called `graphdb_import_with_progress`, every 65,536
/// rows and at the end of each file; `file` is valid only during the call. Return 0 to go
/// on, anything else to cancel the import.
pub type graphdb_import_progress_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        file: *const c_char,
        phase: graphdb_import_phase,
        rows: u64,
        done: bool,
    ) -> i32,
>;

/// Imports node and relationship CSV files as one commit, durable when this returns (written
/// as a new base image, not through the log). `spec_json` is the import spec as JSON, e.g.
/// `{"nodes": [{"file": "users.csv", "labels": ["User"]}], "relationships": [{"file":
/// "follows.csv", "type": "FOLLOWS"}], "id_type": "int"}` (docs/import.md has every key and
/// the CSV header convention). On success `*stats_json_out` (if not NULL) receives an owned
/// JSON object: nodes, relationships, first_node_id, first_relationship_id, commit_ts,
/// image_bytes, parse_ms, install_ms. On failure nothing is imported, `*stats_json_out` is
/// NULL, and `*error_out` (if not NULL) receives an owned message naming the file and line
/// at fault; free both with `graphdb_string_free`. Bad spec, missing file or bad row:
/// GRAPHDB_INVALID_ARGUMENT; read-only database: GRAPHDB_READ_ONLY; uniqueness constraint
/// on an imported label: GRAPHDB_CONSTRAINT_VIOLATION; write failure: GRAPHDB_IO_ERROR.
#[no_mangle]
pub unsafe extern "C" fn graphdb_import(
    db: *const graphdb_database,
    spec_json: *const c_char,
    stats_json_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> graphdb_status {
    // SAFETY: the same contract, with no callback.
    unsafe {
        graphdb_import_with_progress(
            db,
            spec_json,
            None,
            std::ptr::null_mut(),
            stats_json_out,
            error_out,
        )
    }
}

/// `graphdb_import`, reporting progress to `progress` (NULL for none) with `user_data`.
/// When the callback returns nonzero the import stops while its files are still being read,
/// changes nothing and returns GRAPHDB_INTERRUPTED (once every file is read it runs to its
/// end). For a relationship file read in parts on several threads, the counts are those of
/// the calling thread's part plus an estimate of the others'.
#[no_mangle]
pub unsafe extern "C" fn graphdb_import_with_progress(
    db: *const graphdb_database,
    spec_json: *const c_char,
    progress: graphdb_import_progress_fn,
    user_data: *mut c_void,
    stats_json_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or writable pointers.
    let message = unsafe { out(error_out, std::ptr::null_mut()) };
    // SAFETY: as above.
    let stats_out = unsafe { out(stats_json_out, std::ptr::null_mut()) };
    let outcome: Result<()> = catch("graphdb_import", || {
        // SAFETY: NULL or a live database handle.
        let d = unsafe { handle(db, "db") }?;
        // SAFETY: NULL or a NUL-terminated string, per the contract.
        let text = unsafe { in_str(spec_json, "spec_json") }?;
        let spec = ImportSpec::from_json(text)?;
        let mut report = |p: &Progress| match progress {
            Some(f) => {
                // A file name with a NUL byte cannot reach C whole; it is cut there.
                let name =
                    CString::new(p.file.split('\0').next().unwrap_or_default()).unwrap_or_default();
                let phase = match p.phase {
                    Phase::Nodes => graphdb_import_phase::GRAPHDB_IMPORT_NODES,
                    Phase::Relationships => graphdb_import_phase::GRAPHDB_IMPORT_RELATIONSHIPS,
                };
                // SAFETY: the caller's callback with the caller's `user_data`; `name` outlives
                // the call.
                match unsafe { f(user_data, name.as_ptr(), phase, p.rows, p.done) } {
                    0 => ControlFlow::Continue(()),
                    _ => ControlFlow::Break(()),
                }
            }
            None => ControlFlow::Continue(()),
        };
        let stats = d.db.import_with_progress(&spec, &mut report)?;
        if let Some(o) = stats_out {
            *o = owned_c_string(&stats.to_json());
        }
        Ok(())
    });
    if let (Err(e), Some(m)) = (&outcome, message) {
        *m = owned_c_string(&e.to_string());
    }
    status_of(&outcome)
}
