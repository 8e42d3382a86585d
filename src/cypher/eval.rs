//! STUB (expressions owner): interface fixed.
#![allow(unused_variables, dead_code)]
use super::ast::Expr;
use super::{ExecControl, ParamMap};
use crate::error::Result;
use crate::txn::Transaction;
use crate::value::Value;

/// Variables in scope for an expression.
pub trait Bindings {
    fn get(&self, name: &str) -> Option<&Value>;
}

/// Runs the subqueries an expression may contain (pattern predicates, EXISTS/COUNT { },
/// pattern comprehensions); implemented by the executor, which owns pattern matching.
pub trait SubqueryRunner {
    /// Every binding of `pattern`'s variables (new ones only, plus `path_variable` if given)
    /// that matches with the outer bindings `outer` fixed.
    fn match_pattern(
        &self,
        pattern: &super::ast::PatternElement,
        path_variable: Option<&str>,
        outer: &dyn Bindings,
        ctx: &EvalContext,
    ) -> Result<Vec<Vec<(String, Value)>>>;
    /// Rows produced by a subquery body with `outer` in scope.
    fn run_subquery(
        &self,
        query: &super::ast::SingleQuery,
        outer: &dyn Bindings,
        ctx: &EvalContext,
    ) -> Result<usize>;
}

/// Everything an expression may consult besides its variables.
pub struct EvalContext<'a> {
    pub tx: &'a Transaction,
    pub params: &'a ParamMap,
    pub control: &'a ExecControl,
    pub subqueries: &'a dyn SubqueryRunner,
}

/// Evaluates `expr`. Aggregate calls are not evaluated here (the executor computes them and
/// binds their results); meeting one is an internal error.
pub fn eval(expr: &Expr, bindings: &dyn Bindings, ctx: &EvalContext) -> Result<Value> {
    todo!()
}
