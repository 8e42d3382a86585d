//! Options, opening and closing a database.

use std::ffi::c_char;

use super::status::{catch, graphdb_status, guard, guard_value, status_of};
use super::util::{handle, in_str, need, out, owned_c_string};
use crate::api::{Database, Options};
use crate::error::{Error, Result};

/// Open options, set by key and value (see `graphdb_options_set`).
pub struct graphdb_options {
    options: Options,
    /// The first refused setting: `graphdb_open` fails with it, so a caller that ignores the
    /// status of `graphdb_options_set` still cannot open with options it did not get.
    refused: Option<Error>,
}

/// An open database; share it between any threads. Free with `graphdb_close`.
pub struct graphdb_database {
    pub(crate) db: Database,
}

/// Creates an option set with the defaults (read_write, create, sync=full, serializable).
/// Free with `graphdb_options_free`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_options_new(
    out_opts: *mut *mut graphdb_options,
) -> graphdb_status {
    guard("graphdb_options_new", || {
        // SAFETY: the caller passes NULL or a writable pointer.
        let o = need(unsafe { out(out_opts, std::ptr::null_mut()) }, "out")?;
        *o = Box::into_raw(Box::new(graphdb_options {
            options: Options::new(),
            refused: None,
        }));
        Ok(())
    })
}

/// Sets one option. Keys and values: access_mode = read_write | read_only; create = true |
/// false; sync = full | normal | off; busy_timeout_ms = N; query_timeout_ms = N (0: none);
/// isolation = serializable | snapshot; checkpoint_wal_bytes = N (automatic checkpoint once
/// the log passes N bytes; default 67108864 = 64 MiB; 0 disables); bulk_commit_entities = N
/// (a transaction writing at least N entities, and a quarter of the graph, commits as a base
/// image instead of a log record; default 50000; 0: never); verify_on_open = true | false
/// (check the whole base image at open, as graphdb_check does; default false: each block is
/// checked when first read); batch_threads = N (worker threads of one large
/// scan-and-aggregate query; 1: the calling thread only; 0, default: GRAPHDB_BATCH_THREADS
/// if set, else the cores, at most 8); commit_wait = auto | sleep (how a committer waits
/// for the log sync covering its commit: auto, default, polls for a few syncs' time when the
/// log syncs fast; sleep never spends CPU waiting, at the cost of a wake-up per commit).
/// An unknown key or value returns GRAPHDB_INVALID_ARGUMENT, and also makes `graphdb_open`
/// with these options fail with the same message.
#[no_mangle]
pub unsafe extern "C" fn graphdb_options_set(
    opts: *mut graphdb_options,
    key: *const c_char,
    value: *const c_char,
) -> graphdb_status {
    guard("graphdb_options_set", || {
        // SAFETY: the caller passes NULL or a live options handle, used by one thread.
        let opts = unsafe { opts.as_mut() }.ok_or_else(|| super::status::null_argument("opts"))?;
        let set = |opts: &mut graphdb_options| {
            // SAFETY: the caller passes NULL or NUL-terminated strings.
            let (k, v) = unsafe { (in_str(key, "option key")?, in_str(value, "option value")?) };
            opts.options.set(k, v)
        };
        let outcome = set(opts);
        if let Err(e) = &outcome {
            opts.refused.get_or_insert_with(|| e.clone());
        }
        outcome
    })
}

/// Frees an option set; NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn graphdb_options_free(opts: *mut graphdb_options) {
    guard_value((), || {
        if !opts.is_null() {
            // SAFETY: non-NULL handles come from graphdb_options_new and are freed once.
            drop(unsafe { Box::from_raw(opts) });
        }
    })
}

/// Opens (creating it when `create` is true, the default) the database directory at `path`;
/// ":memory:" opens a private in-memory database. `opts` may be NULL (defaults). On failure
/// `*out` is NULL and, when `error_out` is not NULL, `*error_out` receives an owned message
/// (free it with `graphdb_string_free`); on success `*error_out` is NULL.
#[no_mangle]
pub unsafe extern "C" fn graphdb_open(
    path: *const c_char,
    opts: *const graphdb_options,
    out_db: *mut *mut graphdb_database,
    error_out: *mut *mut c_char,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or writable pointers.
    let message = unsafe { out(error_out, std::ptr::null_mut()) };
    // SAFETY: as above.
    let db_out = unsafe { out(out_db, std::ptr::null_mut()) };
    let outcome: Result<()> = catch("graphdb_open", || {
        let db_out = need(db_out, "out")?;
        // SAFETY: NUL-terminated string or NULL, per the contract.
        let path = unsafe { in_str(path, "path") }?;
        let defaults = Options::new();
        let options = if opts.is_null() {
            &defaults
        } else {
            // SAFETY: non-NULL options handles are live.
            let o = unsafe { handle(opts, "opts") }?;
            if let Some(e) = &o.refused {
                return Err(e.clone());
            }
            &o.options
        };
        let db = Database::open(path, options)?;
        *db_out = Box::into_raw(Box::new(graphdb_database { db }));
        Ok(())
    });
    if let (Err(e), Some(m)) = (&outcome, message) {
        *m = owned_c_string(&e.to_string());
    }
    status_of(&outcome)
}

/// Transaction statistics as one JSON object (commits, rollbacks, conflicts by cause, waits,
/// wait time, active transactions, oldest snapshot age, retained versions, ...), owned: free
/// with `graphdb_string_free`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_stats_json(
    db: *const graphdb_database,
    out_json: *mut *mut c_char,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    let o = unsafe { out(out_json, std::ptr::null_mut()) };
    guard("graphdb_stats_json", || {
        // SAFETY: NULL or a live database handle.
        let d = unsafe { handle(db, "db") }?;
        *need(o, "out")? = owned_c_string(&d.db.stats_json());
        Ok(())
    })
}

/// Checkpoints now: writes a new base image holding every commit so far, switches to a fresh
/// log and removes files no longer needed (those a read-only process still holds stay until
/// a later checkpoint). Readers and writers keep running meanwhile. Returns
/// GRAPHDB_READ_ONLY on a read-only database, GRAPHDB_IO_ERROR when a write fails (see
/// docs/durability.md for which failures make the database refuse writes until reopened);
/// does nothing on an in-memory database.
#[no_mangle]
pub unsafe extern "C" fn graphdb_checkpoint(db: *const graphdb_database) -> graphdb_status {
    guard("graphdb_checkpoint", || {
        // SAFETY: NULL or a live database handle.
        let d = unsafe { handle(db, "db") }?;
        d.db.checkpoint()
    })
}

/// Checks the base image the database reads, whole: every section and block checksum and
/// the structure of every node, relationship, adjacency and label list (what opening checked
/// before base format 2; opening now checks each block when a statement first reads it, or
/// everything with the option verify_on_open = true). Reads only; readers and writers keep
/// running. Returns GRAPHDB_CORRUPT on damage (also when a statement already met damage),
/// GRAPHDB_OK otherwise (also with no base image yet, or in memory). This function has no
/// message channel: the Cypher statement `CHECK` on a connection runs the same check and
/// leaves the message naming the file and offset on that connection.
#[no_mangle]
pub unsafe extern "C" fn graphdb_check(db: *const graphdb_database) -> graphdb_status {
    guard("graphdb_check", || {
        // SAFETY: NULL or a live database handle.
        let d = unsafe { handle(db, "db") }?;
        d.db.check()
    })
}

/// Closes the database handle; NULL is fine. Connections still open keep the database
/// alive until they disconnect.
#[no_mangle]
pub unsafe extern "C" fn graphdb_close(db: *mut graphdb_database) {
    guard_value((), || {
        if !db.is_null() {
            // SAFETY: non-NULL handles come from graphdb_open and are closed once.
            drop(unsafe { Box::from_raw(db) });
        }
    })
}
