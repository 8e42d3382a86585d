//! The one error type of libgraphdb.
//!
//! Every failure anywhere in the crate is an [`Error`] whose [`ErrorKind`] maps 1:1 onto a C
//! status code (`graphdb_status`, see `src/ffi`). Messages are written for the person who has
//! to act on them: what went wrong, and where it helps, what to do about it.

use std::fmt;

/// The kind of a failure; one variant per non-OK C status code, in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A failure with no more specific kind.
    Error,
    /// The query does not parse.
    Syntax,
    /// The query parses but is invalid (unknown variable, misplaced aggregation, ...).
    Semantic,
    /// A type error found while running (`1 + 'a'`, a getter of the wrong type).
    Type,
    /// A uniqueness or existence constraint would break.
    ConstraintViolation,
    /// Write-write conflict or serialization failure: the transaction was rolled back and may
    /// be retried.
    Conflict,
    /// Another process (or handle) holds the database in a conflicting mode.
    Locked,
    /// A wait ran out (busy timeout, query timeout).
    Busy,
    /// A write in a read-only transaction or database.
    ReadOnly,
    /// An operation not valid in the transaction's state (commit of an ended transaction, ...).
    TransactionState,
    /// A bad argument from the caller.
    InvalidArgument,
    /// The API was used against its rules (two threads on one connection).
    Misuse,
    /// The query was interrupted.
    Interrupted,
    /// The operating system failed a read, write or sync.
    Io,
    /// A file is damaged beyond what recovery repairs.
    Corrupt,
    /// A bug: a caught panic or a broken internal invariant.
    Internal,
}

impl ErrorKind {
    /// The status name as the C header spells it, without the `GRAPHDB_` prefix.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Error => "ERROR",
            ErrorKind::Syntax => "SYNTAX_ERROR",
            ErrorKind::Semantic => "SEMANTIC_ERROR",
            ErrorKind::Type => "TYPE_ERROR",
            ErrorKind::ConstraintViolation => "CONSTRAINT_VIOLATION",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::Locked => "LOCKED",
            ErrorKind::Busy => "BUSY",
            ErrorKind::ReadOnly => "READ_ONLY",
            ErrorKind::TransactionState => "TRANSACTION_STATE",
            ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
            ErrorKind::Misuse => "MISUSE",
            ErrorKind::Interrupted => "INTERRUPTED",
            ErrorKind::Io => "IO_ERROR",
            ErrorKind::Corrupt => "CORRUPT",
            ErrorKind::Internal => "INTERNAL",
        }
    }
}

/// A 1-based line and column in query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A failure: its kind, a message a user can act on, and for query errors the position of the
/// offending token.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    position: Option<Position>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            position: None,
        }
    }

    /// Attaches a query position (1-based line and column).
    pub fn at(mut self, line: usize, column: usize) -> Error {
        self.position = Some(Position { line, column });
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn position(&self) -> Option<Position> {
        self.position
    }

    /// Whether retrying the whole transaction may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Conflict
    }

    pub fn syntax(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Syntax, message)
    }
    pub fn semantic(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Semantic, message)
    }
    pub fn type_error(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Type, message)
    }
    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }
    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }
    pub fn read_only(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::ReadOnly, message)
    }
    pub fn transaction_state(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::TransactionState, message)
    }
    pub fn corrupt(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Corrupt, message)
    }
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
    pub fn interrupted() -> Error {
        Error::new(
            ErrorKind::Interrupted,
            "the query was interrupted; its changes were undone",
        )
    }

    /// An operating-system failure during `what` (for example "fsync of /db/wal-000001.log").
    pub fn io(what: impl fmt::Display, err: &std::io::Error) -> Error {
        Error::new(ErrorKind::Io, format!("{what} failed: {err}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{} (line {}, column {})", self.message, p.line, p.column),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}
