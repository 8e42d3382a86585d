//! Status codes, the panic guard, and the conversions every export shares.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind, Result};

/// The outcome of every fallible call. `GRAPHDB_OK` is 0; every other value is one
/// Rust `ErrorKind`, in the same order (see the status table of API.md).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum graphdb_status {
    GRAPHDB_OK = 0,
    GRAPHDB_ERROR = 1,
    GRAPHDB_SYNTAX_ERROR = 2,
    GRAPHDB_SEMANTIC_ERROR = 3,
    GRAPHDB_TYPE_ERROR = 4,
    GRAPHDB_CONSTRAINT_VIOLATION = 5,
    GRAPHDB_CONFLICT = 6,
    GRAPHDB_LOCKED = 7,
    GRAPHDB_BUSY = 8,
    GRAPHDB_READ_ONLY = 9,
    GRAPHDB_TRANSACTION_STATE = 10,
    GRAPHDB_INVALID_ARGUMENT = 11,
    GRAPHDB_MISUSE = 12,
    GRAPHDB_INTERRUPTED = 13,
    GRAPHDB_IO_ERROR = 14,
    GRAPHDB_CORRUPT = 15,
    GRAPHDB_INTERNAL = 16,
}

impl From<ErrorKind> for graphdb_status {
    fn from(kind: ErrorKind) -> graphdb_status {
        use graphdb_status::*;
        match kind {
            ErrorKind::Error => GRAPHDB_ERROR,
            ErrorKind::Syntax => GRAPHDB_SYNTAX_ERROR,
            ErrorKind::Semantic => GRAPHDB_SEMANTIC_ERROR,
            ErrorKind::Type => GRAPHDB_TYPE_ERROR,
            ErrorKind::ConstraintViolation => GRAPHDB_CONSTRAINT_VIOLATION,
            ErrorKind::Conflict => GRAPHDB_CONFLICT,
            ErrorKind::Locked => GRAPHDB_LOCKED,
            ErrorKind::Busy => GRAPHDB_BUSY,
            ErrorKind::ReadOnly => GRAPHDB_READ_ONLY,
            ErrorKind::TransactionState => GRAPHDB_TRANSACTION_STATE,
            ErrorKind::InvalidArgument => GRAPHDB_INVALID_ARGUMENT,
            ErrorKind::Misuse => GRAPHDB_MISUSE,
            ErrorKind::Interrupted => GRAPHDB_INTERRUPTED,
            ErrorKind::Io => GRAPHDB_IO_ERROR,
            ErrorKind::Corrupt => GRAPHDB_CORRUPT,
            ErrorKind::Internal => GRAPHDB_INTERNAL,
        }
    }
}

/// The error kind a (non-OK) status stands for; OK maps to the generic `Error`.
pub(crate) fn kind_of(status: graphdb_status) -> ErrorKind {
    use graphdb_status::*;
    match status {
        GRAPHDB_OK | GRAPHDB_ERROR => ErrorKind::Error,
        GRAPHDB_SYNTAX_ERROR => ErrorKind::Syntax,
        GRAPHDB_SEMANTIC_ERROR => ErrorKind::Semantic,
        GRAPHDB_TYPE_ERROR => ErrorKind::Type,
        GRAPHDB_CONSTRAINT_VIOLATION => ErrorKind::ConstraintViolation,
        GRAPHDB_CONFLICT => ErrorKind::Conflict,
        GRAPHDB_LOCKED => ErrorKind::Locked,
        GRAPHDB_BUSY => ErrorKind::Busy,
        GRAPHDB_READ_ONLY => ErrorKind::ReadOnly,
        GRAPHDB_TRANSACTION_STATE => ErrorKind::TransactionState,
        GRAPHDB_INVALID_ARGUMENT => ErrorKind::InvalidArgument,
        GRAPHDB_MISUSE => ErrorKind::Misuse,
        GRAPHDB_INTERRUPTED => ErrorKind::Interrupted,
        GRAPHDB_IO_ERROR => ErrorKind::Io,
        GRAPHDB_CORRUPT => ErrorKind::Corrupt,
        GRAPHDB_INTERNAL => ErrorKind::Internal,
    }
}

pub(crate) fn status_of<T>(outcome: &Result<T>) -> graphdb_status {
    match outcome {
        Ok(_) => graphdb_status::GRAPHDB_OK,
        Err(e) => e.kind().into(),
    }
}

/// Runs `body`, turning a panic into an `Internal` error that names the export, so that no
/// panic ever unwinds into C.
pub(crate) fn catch<T>(function: &str, body: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(panic_error(function, payload)))
}

/// `catch` for exports that return a status and record nothing.
pub(crate) fn guard(function: &str, body: impl FnOnce() -> Result<()>) -> graphdb_status {
    status_of(&catch(function, body))
}

/// For exports that return a plain value (or nothing): `fallback` if `body` panics.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

pub(crate) fn panic_error(function: &str, payload: Box<dyn Any + Send>) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    Error::internal(format!(
        "internal error in {function}: {what}; this is a bug in libgraphdb, please report it"
    ))
}

pub(crate) fn null_argument(name: &str) -> Error {
    Error::invalid_argument(format!("{name} is NULL; pass a valid pointer"))
}

pub(crate) fn misuse(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Misuse, message)
}
