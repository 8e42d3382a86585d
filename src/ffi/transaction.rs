//! Explicit transactions begun with `graphdb_begin`.

use std::ffi::c_void;
use std::sync::Arc;

use super::connection::graphdb_connection;
use super::shared::{ConnShared, ConnState};
use super::status::{graphdb_status, guard, guard_value};
use super::util::{handle, need, out};
use crate::api::{IsolationMode, TxnMode, TxnToken};
use crate::error::{Error, Result};

/// `mode` values of `graphdb_begin` (passed as uint32_t).
#[repr(C)]
#[allow(non_camel_case_types)]
pub enum graphdb_txn_mode {
    GRAPHDB_TXN_READ_WRITE = 0,
    GRAPHDB_TXN_READ_ONLY = 1,
}

/// An explicit transaction on a connection. Queries on the connection run in it until
/// `graphdb_commit` or `graphdb_rollback`, which also free the handle.
pub struct graphdb_transaction {
    shared: Arc<ConnShared>,
    token: TxnToken,
}

/// `isolation` values of `graphdb_begin_with` (passed as uint32_t).
#[repr(C)]
#[allow(non_camel_case_types)]
pub enum graphdb_isolation {
    /// The database's `isolation` option (serializable unless set otherwise).
    GRAPHDB_ISOLATION_DEFAULT = 0,
    GRAPHDB_ISOLATION_SERIALIZABLE = 1,
    GRAPHDB_ISOLATION_SNAPSHOT = 2,
}

fn txn_mode(mode: u32) -> Result<TxnMode> {
    match mode {
        0 => Ok(TxnMode::ReadWrite),
        1 => Ok(TxnMode::ReadOnly),
        other => Err(Error::invalid_argument(format!(
            "transaction mode {other} is unknown; pass GRAPHDB_TXN_READ_WRITE or \
             GRAPHDB_TXN_READ_ONLY"
        ))),
    }
}

fn isolation(isolation: u32) -> Result<Option<IsolationMode>> {
    match isolation {
        0 => Ok(None),
        1 => Ok(Some(IsolationMode::Serializable)),
        2 => Ok(Some(IsolationMode::Snapshot)),
        other => Err(Error::invalid_argument(format!(
            "isolation level {other} is unknown; pass GRAPHDB_ISOLATION_DEFAULT, \
             GRAPHDB_ISOLATION_SERIALIZABLE or GRAPHDB_ISOLATION_SNAPSHOT"
        ))),
    }
}

/// Begins an explicit transaction; GRAPHDB_TRANSACTION_STATE if one is already open on the
/// connection. `mode` is GRAPHDB_TXN_READ_WRITE or GRAPHDB_TXN_READ_ONLY.
#[no_mangle]
pub unsafe extern "C" fn graphdb_begin(
    conn: *mut graphdb_connection,
    mode: u32,
    out_txn: *mut *mut graphdb_transaction,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { begin(conn, mode, 0, out_txn, "graphdb_begin") }
}

/// Like `graphdb_begin`, with an isolation level for this transaction only
/// (GRAPHDB_ISOLATION_DEFAULT, _SERIALIZABLE or _SNAPSHOT).
#[no_mangle]
pub unsafe extern "C" fn graphdb_begin_with(
    conn: *mut graphdb_connection,
    mode: u32,
    isolation: u32,
    out_txn: *mut *mut graphdb_transaction,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { begin(conn, mode, isolation, out_txn, "graphdb_begin_with") }
}

/// # Safety
/// `conn` is NULL or a live connection handle; `out_txn` NULL or writable.
unsafe fn begin(
    conn: *mut graphdb_connection,
    mode: u32,
    iso: u32,
    out_txn: *mut *mut graphdb_transaction,
    function: &'static str,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    let o = unsafe { out(out_txn, std::ptr::null_mut()) };
    guard(function, || {
        // SAFETY: NULL or a live connection handle.
        let c = unsafe { handle(conn.cast_const(), "conn") }?;
        c.shared.call(function, |state| {
            let o = need(o, "out")?;
            let mode = txn_mode(mode)?;
            let iso = isolation(iso)?;
            state.require_open()?;
            let token = match iso {
                Some(i) => state.conn.begin_with_isolation(mode, i)?,
                None => state.conn.begin(mode)?,
            };
            *o = Box::into_raw(Box::new(graphdb_transaction {
                shared: Arc::clone(&c.shared),
                token,
            }));
            Ok(())
        })
    })
}

/// Ends the transaction with `end` if it is still the connection's open one, and frees the
/// handle.
///
/// # Safety
/// `txn` is NULL or a live transaction handle, not used again afterwards.
unsafe fn finish(
    txn: *mut graphdb_transaction,
    function: &'static str,
    end: impl FnOnce(&mut ConnState) -> Result<()>,
) -> graphdb_status {
    guard(function, || {
        if txn.is_null() {
            return Err(super::status::null_argument("txn"));
        }
        // SAFETY: non-NULL transaction handles come from graphdb_begin and are ended once;
        // the handle is freed when `txn` drops, whatever happens below.
        let txn = unsafe { Box::from_raw(txn) };
        txn.shared.call(function, |state| {
            if !state.open || state.conn.current_transaction() != Some(txn.token) {
                return Err(Error::transaction_state(
                    "this transaction already ended (by Cypher COMMIT/ROLLBACK, a failure that \
                     rolled it back, or a disconnect); begin a new one",
                ));
            }
            end(state)
        })
    })
}

/// Commits and frees the transaction, whatever the outcome. GRAPHDB_CONFLICT means it was
/// rolled back and may be retried; GRAPHDB_TRANSACTION_STATE that it had already ended.
#[no_mangle]
pub unsafe extern "C" fn graphdb_commit(txn: *mut graphdb_transaction) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { finish(txn, "graphdb_commit", |state| state.conn.commit()) }
}

/// Rolls back and frees the transaction.
#[no_mangle]
pub unsafe extern "C" fn graphdb_rollback(txn: *mut graphdb_transaction) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { finish(txn, "graphdb_rollback", |state| state.conn.rollback()) }
}

/// Frees a transaction handle without committing: rolls the transaction back if it is still
/// the connection's open one (and no other thread is using the connection). NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn graphdb_transaction_free(txn: *mut graphdb_transaction) {
    guard_value((), || {
        if txn.is_null() {
            return;
        }
        // SAFETY: non-NULL transaction handles come from graphdb_begin and are ended once.
        let txn = unsafe { Box::from_raw(txn) };
        // A free reports nothing; a transaction that already ended is simply forgotten.
        let _ = txn.shared.call("graphdb_transaction_free", |state| {
            if state.open && state.conn.current_transaction() == Some(txn.token) {
                state.conn.rollback()?;
            }
            Ok(())
        });
    })
}

/// The work `graphdb_transact` runs inside a transaction: it runs its statements on `conn`
/// (the same connection) and returns GRAPHDB_OK, or the status of the call that failed. It
/// must not commit or roll back itself.
#[allow(non_camel_case_types)]
pub type graphdb_transact_fn = Option<
    unsafe extern "C" fn(conn: *mut graphdb_connection, user_data: *mut c_void) -> graphdb_status,
>;

/// Runs `work` in a transaction of `mode` and commits it, rerunning the whole transaction when
/// it fails with GRAPHDB_CONFLICT (from `work` or from the commit), with jittered exponential
/// backoff, up to `max_attempts` attempts in all (0 counts as 1). Returns GRAPHDB_OK once a
/// commit succeeds, else the last failure's status (its message is the connection's error).
/// Any other failure rolls back and returns at once. `work` may run more than once: keep its
/// side effects outside the database idempotent.
#[no_mangle]
pub unsafe extern "C" fn graphdb_transact(
    conn: *mut graphdb_connection,
    mode: u32,
    work: graphdb_transact_fn,
    user_data: *mut c_void,
    max_attempts: u32,
) -> graphdb_status {
    guard("graphdb_transact", || {
        // SAFETY: NULL or a live connection handle.
        let c = unsafe { handle(conn.cast_const(), "conn") }?;
        let shared = Arc::clone(&c.shared);
        let (work, mode) = shared.call_free("graphdb_transact", || {
            let work = work.ok_or_else(|| super::status::null_argument("work"))?;
            Ok((work, txn_mode(mode)?))
        })?;
        let attempts = max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            shared.call("graphdb_transact", |state| {
                state.require_open()?;
                state.conn.begin(mode).map(|_| ())
            })?;
            // The connection lock is not held while `work` runs: it calls back into this
            // connection. SAFETY: `work` is the caller's function, given the connection it
            // passed in and its own `user_data`.
            let status = unsafe { work(conn, user_data) };
            let outcome = if status == graphdb_status::GRAPHDB_OK {
                shared.call("graphdb_transact", |state| state.conn.commit())
            } else if shared.error_code() == status {
                // The failing call already left its message on the connection.
                Err(Error::new(
                    super::status::kind_of(status),
                    "see the connection's error",
                ))
            } else {
                shared.record(Err(Error::new(
                    super::status::kind_of(status),
                    format!("the work passed to graphdb_transact returned {status:?}"),
                )))
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(e) => {
                    // Roll back whatever is still open without overwriting the error.
                    shared.with_state_blocking(|state| {
                        if state.conn.current_transaction().is_some() {
                            let _ = state.conn.rollback();
                        }
                    });
                    if !e.is_retryable() || attempt >= attempts {
                        return Err(e);
                    }
                    std::thread::sleep(crate::api::backoff(attempt));
                }
            }
        }
    })
}
