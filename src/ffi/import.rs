//! Bulk import of CSV files (docs/import.md).

use std::ffi::c_char;

use super::database::graphdb_database;
use super::status::{catch, graphdb_status, status_of};
use super::util::{handle, in_str, out, owned_c_string};
use crate::error::Result;
use crate::import::ImportSpec;

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
        let stats = d.db.import(&spec)?;
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
