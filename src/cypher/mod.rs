//! openCypher: lexer → parser → AST → planner → executor.
//!
//! Module ownership (one job each):
//! - `lexer`, `parser`: text → [`ast::Statement`], with line/column on every error and a
//!   nesting cap so hostile input cannot overflow the stack.
//! - `semantics`: Cypher value semantics: equality and comparison with three-valued logic,
//!   the global sort order, grouping keys.
//! - `eval`, `functions`, `aggregate`: expressions, scalar functions, aggregate accumulators.
//! - `plan`, `exec`: checks the query (variables, aggregation placement), then runs clauses
//!   as a pipeline of row batches against a [`crate::txn::Transaction`].

pub mod aggregate;
pub mod ast;
pub mod eval;
pub mod exec;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod plan;
pub mod semantics;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

/// Query parameters by name (without the `$`).
pub type ParamMap = BTreeMap<String, Value>;

/// Counters of what a statement changed (`graphdb_result_stat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    pub nodes_created: i64,
    pub nodes_deleted: i64,
    pub relationships_created: i64,
    pub relationships_deleted: i64,
    pub properties_set: i64,
    pub labels_added: i64,
    pub labels_removed: i64,
}

/// What running a query statement produced: column names, rows, and change counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOutput {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub stats: QueryStats,
}

/// Interrupt flag and deadline for one running statement. The executor calls
/// [`ExecControl::check`] often enough (every row batch, every few thousand expansion steps)
/// that an interrupt or timeout stops a long query promptly.
#[derive(Debug, Clone, Default)]
pub struct ExecControl {
    pub interrupt: Arc<AtomicBool>,
    pub deadline: Option<Instant>,
    /// The instant `date()`, `datetime()`, ... read: fixed for the whole statement.
    pub clock: crate::temporal::clock::StatementClock,
    /// When the explicit transaction the statement runs in began (ns since the epoch);
    /// `None` in auto-commit, where the transaction is the statement.
    pub transaction_time: Option<i128>,
    /// Worker threads for a large batch run (the `batch_threads` option); 0: automatic.
    pub batch_threads: usize,
}

impl ExecControl {
    /// The instant `*.transaction()` functions read.
    pub fn transaction_now(&self) -> i128 {
        self.transaction_time.unwrap_or_else(|| self.clock.now())
    }
}

impl ExecControl {
    pub fn check(&self) -> Result<()> {
        if self.interrupt.load(Ordering::Relaxed) {
            return Err(Error::interrupted());
        }
        if let Some(d) = self.deadline {
            if Instant::now() >= d {
                return Err(Error::new(
                    ErrorKind::Busy,
                    "the query ran past query_timeout_ms and was stopped; its changes were undone",
                ));
            }
        }
        Ok(())
    }
}

/// Parses one statement.
pub fn parse(text: &str) -> Result<ast::Statement> {
    parser::parse(text)
}
