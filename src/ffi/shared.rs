//! The state one connection shares with every handle that came from it.
//!
//! A `graphdb_connection`, and each statement, transaction and result made on it, holds an
//! `Arc<ConnShared>`. The Rust `Connection` sits behind a `Mutex` that calls enter with
//! `try_lock`: a second thread entering while another is inside gets `GRAPHDB_MISUSE` instead
//! of undefined behaviour. The interrupt handle and the last error live outside that mutex, so
//! `graphdb_interrupt` works while a query runs and error details are readable after a failure
//! whichever thread the caller is now on.

use std::ffi::CString;
use std::sync::{Mutex, MutexGuard, TryLockError};

use super::status::{catch, graphdb_status, misuse, status_of};
use crate::api::{Connection, InterruptHandle};
use crate::error::{Error, Position, Result};

pub(crate) struct ConnState {
    pub(crate) conn: Connection,
    /// False once `graphdb_disconnect` ran: statements made on the connection refuse to run.
    pub(crate) open: bool,
}

impl ConnState {
    /// `Misuse` once the connection handle was closed.
    pub(crate) fn require_open(&self) -> Result<()> {
        if self.open {
            Ok(())
        } else {
            Err(misuse(
                "the connection was disconnected; connect again to run statements",
            ))
        }
    }
}

struct LastError {
    status: graphdb_status,
    message: CString,
    position: Option<Position>,
}

pub(crate) struct ConnShared {
    state: Mutex<ConnState>,
    interrupt: InterruptHandle,
    last_error: Mutex<LastError>,
}

/// What `graphdb_connection_error_message` says when the last call succeeded.
const NO_ERROR: &str = "not an error";

impl ConnShared {
    pub(crate) fn new(conn: Connection) -> ConnShared {
        let interrupt = conn.interrupt_handle();
        ConnShared {
            state: Mutex::new(ConnState { conn, open: true }),
            interrupt,
            last_error: Mutex::new(LastError {
                status: graphdb_status::GRAPHDB_OK,
                message: CString::new(NO_ERROR).unwrap_or_default(),
                position: None,
            }),
        }
    }

    pub(crate) fn interrupt(&self) {
        self.interrupt.interrupt();
    }

    /// Runs one call that needs the connection: exclusive entry (`Misuse` if another thread is
    /// inside), the panic guard, and the outcome recorded as the connection's last error.
    pub(crate) fn call<T>(
        &self,
        function: &str,
        body: impl FnOnce(&mut ConnState) -> Result<T>,
    ) -> Result<T> {
        self.record(catch(function, || {
            let mut state = self.enter(function)?;
            body(&mut state)
        }))
    }

    /// Runs one call that does not need the connection itself (a read of immutable data, or
    /// an argument check) and records its outcome.
    pub(crate) fn call_free<T>(
        &self,
        function: &str,
        body: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.record(catch(function, body))
    }

    fn enter(&self, function: &str) -> Result<MutexGuard<'_, ConnState>> {
        match self.state.try_lock() {
            Ok(state) => Ok(state),
            Err(TryLockError::WouldBlock) => Err(misuse(format!(
                "{function}: another thread is using this connection (or a statement, \
                 transaction or result from it) right now; use one connection per thread"
            ))),
            Err(TryLockError::Poisoned(_)) => Err(Error::internal(format!(
                "{function}: an earlier internal error left this connection unusable; \
                 disconnect and connect again"
            ))),
        }
    }

    /// Waits for any call in progress and runs `body` on the connection state, even after an
    /// internal error (used by disconnect, which must always release the transaction).
    pub(crate) fn with_state_blocking(&self, body: impl FnOnce(&mut ConnState)) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        body(&mut state);
    }

    /// Makes `outcome` the connection's last error (or clears it on success) and returns it.
    pub(crate) fn record<T>(&self, outcome: Result<T>) -> Result<T> {
        let mut last = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        match &outcome {
            Ok(_) => {
                if last.status != graphdb_status::GRAPHDB_OK {
                    *last = LastError {
                        status: graphdb_status::GRAPHDB_OK,
                        message: CString::new(NO_ERROR).unwrap_or_default(),
                        position: None,
                    };
                }
            }
            Err(e) => {
                *last = LastError {
                    status: status_of(&outcome),
                    message: error_c_string(e),
                    position: e.position(),
                }
            }
        }
        drop(last);
        outcome
    }

    pub(crate) fn error_code(&self) -> graphdb_status {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .status
    }

    /// Borrowed from the connection: valid until the next call on it (or on anything made
    /// from it) or its disconnect, whichever comes first.
    pub(crate) fn error_message_ptr(&self) -> *const std::ffi::c_char {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .message
            .as_ptr()
    }

    pub(crate) fn error_position(&self) -> Option<Position> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .position
    }
}

fn error_c_string(e: &Error) -> CString {
    let text = e.to_string().replace('\0', "\u{FFFD}");
    CString::new(text).unwrap_or_default()
}
