//! Explicit transactions begun with `graphdb_begin`.

use std::sync::Arc;

use super::connection::graphdb_connection;
use super::shared::{ConnShared, ConnState};
use super::status::{graphdb_status, guard, guard_value};
use super::util::{handle, need, out};
use crate::api::{TxnMode, TxnToken};
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

/// Begins an explicit transaction; GRAPHDB_TRANSACTION_STATE if one is already open on the
/// connection. `mode` is GRAPHDB_TXN_READ_WRITE or GRAPHDB_TXN_READ_ONLY.
#[no_mangle]
pub unsafe extern "C" fn graphdb_begin(
    conn: *mut graphdb_connection,
    mode: u32,
    out_txn: *mut *mut graphdb_transaction,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    let o = unsafe { out(out_txn, std::ptr::null_mut()) };
    guard("graphdb_begin", || {
        // SAFETY: NULL or a live connection handle.
        let c = unsafe { handle(conn.cast_const(), "conn") }?;
        c.shared.call("graphdb_begin", |state| {
            let o = need(o, "out")?;
            let mode = match mode {
                0 => TxnMode::ReadWrite,
                1 => TxnMode::ReadOnly,
                other => {
                    return Err(Error::invalid_argument(format!(
                        "transaction mode {other} is unknown; pass GRAPHDB_TXN_READ_WRITE or \
                         GRAPHDB_TXN_READ_ONLY"
                    )))
                }
            };
            state.require_open()?;
            let token = state.conn.begin(mode)?;
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
