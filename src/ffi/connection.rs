//! Connections: connect, disconnect, interrupt, queries, prepared statements, error details.

use std::ffi::c_char;
use std::sync::Arc;

use super::database::graphdb_database;
use super::params::{graphdb_params, params_of};
use super::result::graphdb_result;
use super::shared::ConnShared;
use super::status::{graphdb_status, guard, guard_value, status_of};
use super::util::{handle, in_str, need, out};
use crate::api::PreparedStatement;
use crate::error::Result;

/// A session on a database. Used by one thread at a time (a concurrent second thread gets
/// GRAPHDB_MISUSE); `graphdb_interrupt` is the exception. Free with `graphdb_disconnect`.
pub struct graphdb_connection {
    pub(crate) shared: Arc<ConnShared>,
}

/// A prepared statement. It shares its connection's state, so it stays valid (but refuses
/// to run with GRAPHDB_MISUSE) after `graphdb_disconnect`. Free with `graphdb_statement_free`.
pub struct graphdb_statement {
    shared: Arc<ConnShared>,
    statement: PreparedStatement,
}

/// Opens a connection on `db`. Free it with `graphdb_disconnect`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_connect(
    db: *mut graphdb_database,
    out_conn: *mut *mut graphdb_connection,
) -> graphdb_status {
    guard("graphdb_connect", || {
        // SAFETY: the caller passes NULL or a writable pointer.
        let o = need(unsafe { out(out_conn, std::ptr::null_mut()) }, "out")?;
        // SAFETY: NULL or a live database handle.
        let db = unsafe { handle(db.cast_const(), "db") }?;
        let shared = Arc::new(ConnShared::new(db.db.connect()));
        *o = Box::into_raw(Box::new(graphdb_connection { shared }));
        Ok(())
    })
}

/// Rolls back the connection's open transaction, if any, and frees the handle; NULL is fine.
/// If another thread is inside a call on the connection, waits for that call to finish.
/// Statements, transactions and results made on the connection remain valid handles (free
/// them as usual): results stay readable, statements and transactions refuse to run.
#[no_mangle]
pub unsafe extern "C" fn graphdb_disconnect(conn: *mut graphdb_connection) {
    guard_value((), || {
        if conn.is_null() {
            return;
        }
        // SAFETY: non-NULL handles come from graphdb_connect and are disconnected once.
        let conn = unsafe { Box::from_raw(conn) };
        conn.shared.with_state_blocking(|state| {
            if state.open && state.conn.current_transaction().is_some() {
                // Nothing can report a failure here; a failed rollback still ends the
                // transaction in the engine.
                let _ = state.conn.rollback();
            }
            state.open = false;
        });
    })
}

/// Asks the query running on `conn` (if any) to stop; it then fails with
/// GRAPHDB_INTERRUPTED. Safe from any thread, while another thread is inside a call.
#[no_mangle]
pub unsafe extern "C" fn graphdb_interrupt(conn: *mut graphdb_connection) {
    guard_value((), || {
        // SAFETY: NULL or a live connection handle; only shared state is touched.
        if let Ok(c) = unsafe { handle(conn.cast_const(), "conn") } {
            c.shared.interrupt();
        }
    })
}

/// Runs one statement: in the connection's open transaction if there is one, else in its own
/// auto-commit transaction. `params` may be NULL. Cypher BEGIN / COMMIT / ROLLBACK work too.
/// On success `*out` is a result to read with graphdb_result_next and free with
/// graphdb_result_free.
#[no_mangle]
pub unsafe extern "C" fn graphdb_query(
    conn: *mut graphdb_connection,
    cypher: *const c_char,
    params: *const graphdb_params,
    out_result: *mut *mut graphdb_result,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    let o = unsafe { out(out_result, std::ptr::null_mut()) };
    guard("graphdb_query", || {
        // SAFETY: NULL or a live connection handle.
        let c = unsafe { handle(conn.cast_const(), "conn") }?;
        c.shared.call("graphdb_query", |state| {
            let o = need(o, "out")?;
            // SAFETY: NULL or a NUL-terminated string.
            let text = unsafe { in_str(cypher, "query text") }?;
            // SAFETY: NULL or a live params handle.
            let params = unsafe { params_of(params) }?;
            state.require_open()?;
            let result = state.conn.query(text, params)?;
            *o = graphdb_result::new_raw(&c.shared, result);
            Ok(())
        })
    })
}

/// Parses `cypher` once for running many times with `graphdb_execute`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_prepare(
    conn: *mut graphdb_connection,
    cypher: *const c_char,
    out_stmt: *mut *mut graphdb_statement,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    let o = unsafe { out(out_stmt, std::ptr::null_mut()) };
    guard("graphdb_prepare", || {
        // SAFETY: NULL or a live connection handle.
        let c = unsafe { handle(conn.cast_const(), "conn") }?;
        c.shared.call("graphdb_prepare", |state| {
            let o = need(o, "out")?;
            // SAFETY: NULL or a NUL-terminated string.
            let text = unsafe { in_str(cypher, "query text") }?;
            state.require_open()?;
            let statement = state.conn.prepare(text)?;
            *o = Box::into_raw(Box::new(graphdb_statement {
                shared: Arc::clone(&c.shared),
                statement,
            }));
            Ok(())
        })
    })
}

/// Runs a prepared statement with `params` (NULL: none), like `graphdb_query`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_execute(
    stmt: *mut graphdb_statement,
    params: *const graphdb_params,
    out_result: *mut *mut graphdb_result,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    let o = unsafe { out(out_result, std::ptr::null_mut()) };
    guard("graphdb_execute", || {
        // SAFETY: NULL or a live statement handle.
        let s = unsafe { handle(stmt.cast_const(), "stmt") }?;
        s.shared.call("graphdb_execute", |state| {
            let o = need(o, "out")?;
            // SAFETY: NULL or a live params handle.
            let params = unsafe { params_of(params) }?;
            state.require_open()?;
            let result = state.conn.execute(&s.statement, params)?;
            *o = graphdb_result::new_raw(&s.shared, result);
            Ok(())
        })
    })
}

/// Frees a prepared statement; NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn graphdb_statement_free(stmt: *mut graphdb_statement) {
    guard_value((), || {
        if !stmt.is_null() {
            // SAFETY: non-NULL handles come from graphdb_prepare and are freed once.
            drop(unsafe { Box::from_raw(stmt) });
        }
    })
}

fn conn_ref<'a>(conn: *const graphdb_connection) -> Result<&'a graphdb_connection> {
    // SAFETY: every caller passes its C argument: NULL or a live connection handle.
    unsafe { handle(conn, "conn") }
}

/// The status of the last call on `conn` or on anything made from it (GRAPHDB_OK if it
/// succeeded); GRAPHDB_INVALID_ARGUMENT for a NULL `conn`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_connection_error_code(
    conn: *const graphdb_connection,
) -> graphdb_status {
    guard_value(graphdb_status::GRAPHDB_INTERNAL, || match conn_ref(conn) {
        Ok(c) => c.shared.error_code(),
        Err(e) => status_of::<()>(&Err(e)),
    })
}

/// One sentence describing the last failure on `conn` ("not an error" after a success).
/// Borrowed: valid until the next call on the connection or anything made from it.
#[no_mangle]
pub unsafe extern "C" fn graphdb_connection_error_message(
    conn: *const graphdb_connection,
) -> *const c_char {
    const NULL_CONN: &std::ffi::CStr = c"conn is NULL; pass a valid connection";
    const PANIC: &std::ffi::CStr = c"internal error while reading the error message";
    guard_value(PANIC.as_ptr(), || match conn_ref(conn) {
        Ok(c) => c.shared.error_message_ptr(),
        Err(_) => NULL_CONN.as_ptr(),
    })
}

/// The 1-based line and column of the last failure on `conn` (syntax errors have one);
/// both 0 when it has none. GRAPHDB_INVALID_ARGUMENT for NULL arguments.
#[no_mangle]
pub unsafe extern "C" fn graphdb_connection_error_position(
    conn: *const graphdb_connection,
    line: *mut usize,
    column: *mut usize,
) -> graphdb_status {
    guard("graphdb_connection_error_position", || {
        // SAFETY: the caller passes NULL or writable pointers.
        let line = unsafe { out(line, 0) };
        // SAFETY: as above.
        let column = unsafe { out(column, 0) };
        let c = conn_ref(conn)?;
        let (line, column) = (need(line, "line")?, need(column, "column")?);
        if let Some(p) = c.shared.error_position() {
            *line = p.line;
            *column = p.column;
        }
        Ok(())
    })
}
