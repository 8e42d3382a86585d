//! STUB (engine owner): interface fixed.
#![allow(unused_variables, dead_code)]
use super::{Params, QueryResult, TxnMode};
use crate::error::Result;

/// Identifies one transaction begun on a connection, so that a stale handle (the C API's
/// `graphdb_transaction`) cannot commit a later transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnToken(pub u64);

/// Interrupts the query running on a connection; `Send + Sync`, usable from any thread.
#[derive(Clone)]
pub struct InterruptHandle {}

impl InterruptHandle {
    pub fn interrupt(&self) {
        todo!()
    }
}

/// A parsed query ready to run many times with different parameters.
pub struct PreparedStatement {}

impl PreparedStatement {
    pub fn text(&self) -> &str {
        todo!()
    }
}

/// A session on a database: runs queries, each in the open explicit transaction if there is
/// one, else in its own auto-commit transaction.
pub struct Connection {}

impl Connection {
    /// Runs one statement (a query, or BEGIN / COMMIT / ROLLBACK / schema commands).
    pub fn query(&mut self, cypher: &str, params: &Params) -> Result<QueryResult> {
        todo!()
    }
    pub fn prepare(&mut self, cypher: &str) -> Result<PreparedStatement> {
        todo!()
    }
    pub fn execute(&mut self, stmt: &PreparedStatement, params: &Params) -> Result<QueryResult> {
        todo!()
    }
    /// Begins an explicit transaction; `TransactionState` if one is open.
    pub fn begin(&mut self, mode: TxnMode) -> Result<TxnToken> {
        todo!()
    }
    /// Commits the open transaction; `TransactionState` if none is open.
    pub fn commit(&mut self) -> Result<()> {
        todo!()
    }
    /// Rolls back the open transaction; `TransactionState` if none is open.
    pub fn rollback(&mut self) -> Result<()> {
        todo!()
    }
    /// The open explicit transaction, if any.
    pub fn current_transaction(&self) -> Option<TxnToken> {
        todo!()
    }
    pub fn interrupt_handle(&self) -> InterruptHandle {
        todo!()
    }
}
