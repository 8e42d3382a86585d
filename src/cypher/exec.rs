//! STUB (executor owner): interface fixed.
#![allow(unused_variables)]
use super::ast::Query;
use super::{ExecControl, ParamMap, QueryOutput};
use crate::error::Result;
use crate::txn::Transaction;

/// Runs a query (not BEGIN/COMMIT/schema statements, which the API layer handles) inside `tx`.
/// On error the caller rolls `tx` back to the savepoint it took before the statement.
pub fn run_query(
    query: &Query,
    tx: &mut Transaction,
    params: &ParamMap,
    control: &ExecControl,
) -> Result<QueryOutput> {
    todo!()
}
