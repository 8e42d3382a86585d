//! The executor: runs a checked query as a pipeline of clauses over tables of rows.
//!
//! A [`Table`] is a column schema (variable names) plus rows of values in schema order. Each
//! clause consumes the whole table its predecessor produced and returns a new one: openCypher
//! requires a clause to see every change of the clause before it (`MATCH ... CREATE ...
//! MATCH ...`), and materializing between clauses gives that for free. Long loops call
//! [`ExecControl::check`] so interrupts and timeouts stop a query promptly.
//!
//! Submodules, one job each: `pattern` (graph pattern matching, also for subqueries),
//! `project` (WITH/RETURN: grouping, aggregation, ordering, paging), `write` (CREATE, MERGE,
//! SET, REMOVE, DELETE), `procs` (CALL), `compat` (value semantics and accumulators),
//! `prepared` (plans compiled once per prepared statement, which stream their matches),
//! `batch` (scan / expand / filter / aggregate queries run a batch of rows at a time).

mod batch;
mod compat;
mod explain;
mod load_csv;
mod pattern;
mod prepared;
mod procs;
mod project;
pub mod schema;
mod seek;
mod write;

use super::ast::{Clause, Expr, ExprKind, Query, SingleQuery};
use super::eval::{self, Bindings, EvalContext, SubqueryRunner};
use super::{ExecControl, ParamMap, QueryOutput, QueryStats};
use crate::error::{Error, Result};
use crate::txn::Transaction;
use crate::value::Value;

#[doc(hidden)]
pub use batch::{
    batch_image_columns, batch_parallel_runs, batch_runs, set_batch_mode, set_batch_threads,
    BatchMode,
};
pub(crate) use compat::is_aggregate as compat_is_aggregate;
pub(crate) use compat::{equals, GroupKey};
pub use prepared::{compile, may_read_clock, run_compiled, CompiledQuery, PlanCache, PlanRef};
pub use procs::{ProcBody, ProcField, ProcType, Procedure, Procedures};
#[doc(hidden)]
pub use seek::direct_seeks;
pub(crate) use seek::{prefetch as prefetch_seek, run as run_seek};

/// Runs a query (not BEGIN/COMMIT/schema statements, which the API layer handles) inside `tx`,
/// with the built-in procedures only. On error the caller rolls `tx` back to the savepoint it
/// took before the statement.
pub fn run_query(
    query: &Query,
    tx: &mut Transaction,
    params: &ParamMap,
    control: &ExecControl,
) -> Result<QueryOutput> {
    run_query_with(query, tx, params, control, &Procedures::builtin())
}

/// [`run_query`] with the procedures CALL may use (built-ins plus registered ones).
pub fn run_query_with(
    query: &Query,
    tx: &mut Transaction,
    params: &ParamMap,
    control: &ExecControl,
    procs: &Procedures,
) -> Result<QueryOutput> {
    run_statement(query, tx, params, control, procs, RunMode::Run)
}

/// How to run a query: for its result, or for its plan (EXPLAIN: nothing runs; PROFILE: it
/// runs, its changes apply, and the plan comes back with rows and time per operator instead
/// of the query's own rows). See `explain.rs` for the plan's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Run,
    Explain,
    Profile,
}

/// Runs (or explains, or profiles) a query; see [`RunMode`].
pub fn run_statement(
    query: &Query,
    tx: &mut Transaction,
    params: &ParamMap,
    control: &ExecControl,
    procs: &Procedures,
    mode: RunMode,
) -> Result<QueryOutput> {
    // Every semantic error is found before anything runs, so a bad query changes nothing.
    super::plan::check_query(query)?;
    run_checked_statement(query, tx, params, control, procs, mode)
}

/// [`run_statement`] for a query that already passed `plan::check_query` (a prepared
/// statement checks once, when prepared): the per-call checks only.
pub fn run_checked_statement(
    query: &Query,
    tx: &mut Transaction,
    params: &ParamMap,
    control: &ExecControl,
    procs: &Procedures,
    mode: RunMode,
) -> Result<QueryOutput> {
    procs::check_calls(query, procs, params)?;
    PEAK_ROWS.with(|p| p.set(0));
    let mut ex = Exec {
        tx: Tx::Write(tx),
        params,
        control,
        procs,
        profile: (mode == RunMode::Profile).then(explain::ProfileStats::new),
        pattern_rows: (mode == RunMode::Profile).then(explain::PatternRows::default),
        stats: QueryStats::default(),
    };
    if mode == RunMode::Explain {
        return Ok(ex.plan_table(query, None));
    }
    let out = ex.run_parts(query)?;
    if let Some(stats) = ex.profile.take() {
        return Ok(ex.plan_table(query, Some(&stats)));
    }
    Ok(out)
}

impl Exec<'_> {
    /// Runs every UNION part and combines their rows.
    fn run_parts(&mut self, query: &Query) -> Result<QueryOutput> {
        let mut columns: Vec<String> = Vec::new();
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let mut seen: std::collections::HashSet<GroupKey> = std::collections::HashSet::new();
        let dedupe = query.union_all.iter().any(|all| !all);
        for part in &query.parts {
            self.control.check()?;
            let out = self.run_single(part, Table::unit(), true)?;
            if !out.returns {
                continue;
            }
            columns = out.table.cols;
            for row in out.table.rows {
                if dedupe && !seen.insert(GroupKey::new(&Value::List(row.clone()))) {
                    continue;
                }
                rows.push(row);
            }
        }
        Ok(QueryOutput {
            columns,
            rows,
            stats: self.stats,
        })
    }
}

thread_local! {
    /// The most rows any table between two clauses held in the last query run on this thread.
    static PEAK_ROWS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The most rows the executor held in one table (between two clauses, or in one LOAD CSV
/// batch) during the last query run on this thread: the measure that shows LOAD CSV streams.
#[doc(hidden)]
pub fn last_query_peak_rows() -> usize {
    PEAK_ROWS.with(|p| p.get())
}

/// Column names plus rows in column order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub cols: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// One row, no columns: the input of a query's first clause.
    pub fn unit() -> Table {
        Table {
            cols: Vec::new(),
            rows: vec![Vec::new()],
        }
    }
}

/// What running one single query (no UNION) gave: the final table and whether it came from a
/// RETURN (or a standalone CALL) and so is the query's result.
pub(crate) struct SingleOutput {
    pub table: Table,
    pub returns: bool,
}

/// A row seen as variable bindings, falling back to an outer scope (subqueries).
pub(crate) struct RowBindings<'a> {
    pub cols: &'a [String],
    pub vals: &'a [Value],
    pub outer: Option<&'a dyn Bindings>,
}

impl Bindings for RowBindings<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        match self.cols.iter().position(|c| c == name) {
            Some(i) => self.vals.get(i),
            None => self.outer.and_then(|o| o.get(name)),
        }
    }
}

/// Partially bound slots (pattern matching in progress), falling back to an outer scope.
pub(crate) struct SlotBindings<'a> {
    pub cols: &'a [String],
    pub slots: &'a [Option<Value>],
    pub outer: Option<&'a dyn Bindings>,
}

impl Bindings for SlotBindings<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        match self.cols.iter().position(|c| c == name) {
            Some(i) => match self.slots.get(i) {
                Some(Some(v)) => Some(v),
                _ => self.outer.and_then(|o| o.get(name)),
            },
            None => self.outer.and_then(|o| o.get(name)),
        }
    }
}

/// `first` shadows `second`.
pub(crate) struct Overlay<'a> {
    pub first: &'a dyn Bindings,
    pub second: &'a dyn Bindings,
}

impl Bindings for Overlay<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.first.get(name).or_else(|| self.second.get(name))
    }
}

/// No variables at all (SKIP/LIMIT expressions).
pub(crate) struct NoBindings;

impl Bindings for NoBindings {
    fn get(&self, _name: &str) -> Option<&Value> {
        None
    }
}

/// The transaction as the executor may use it: subqueries inside expressions only get a
/// shared reference, and an updating clause there is refused.
pub(crate) enum Tx<'a> {
    Write(&'a mut Transaction),
    Read(&'a Transaction),
}

impl Tx<'_> {
    pub fn r(&self) -> &Transaction {
        match self {
            Tx::Write(t) => t,
            Tx::Read(t) => t,
        }
    }

    pub fn w(&mut self) -> Result<&mut Transaction> {
        match self {
            Tx::Write(t) => Ok(t),
            Tx::Read(_) => Err(Error::semantic(
                "a subquery inside an expression cannot change the graph; move the update to its own clause",
            )),
        }
    }
}

/// The running state of one statement: its transaction, parameters, control and counters.
pub(crate) struct Exec<'a> {
    pub tx: Tx<'a>,
    pub params: &'a ParamMap,
    pub control: &'a ExecControl,
    /// What CALL can call.
    pub procs: &'a Procedures,
    /// PROFILE: rows and time per clause.
    pub profile: Option<explain::ProfileStats>,
    /// PROFILE: rows each pattern operator (start, expansions) produced.
    pub pattern_rows: Option<explain::PatternRows>,
    pub stats: QueryStats,
}

/// The executor's [`SubqueryRunner`]: pattern predicates, EXISTS/COUNT subqueries and pattern
/// comprehensions run the same matcher as MATCH, read-only.
pub(crate) struct Runner;

static RUNNER: Runner = Runner;

/// Subqueries inside expressions cannot contain CALL (the parser only allows reading
/// clauses there), so they run with the built-ins.
static NO_PROCEDURES: once_cell::sync::Lazy<Procedures> =
    once_cell::sync::Lazy::new(Procedures::builtin);

impl Exec<'_> {
    pub fn ctx(&self) -> EvalContext<'_> {
        EvalContext {
            tx: self.tx.r(),
            params: self.params,
            control: self.control,
            subqueries: &RUNNER,
        }
    }

    pub fn eval(&self, e: &Expr, b: &dyn Bindings) -> Result<Value> {
        eval::eval(e, b, &self.ctx())
    }

    /// Evaluates a predicate: only `true` passes (null and false do not).
    pub fn holds(&self, e: &Expr, b: &dyn Bindings) -> Result<bool> {
        match self.eval(e, b)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            other => Err(Error::type_error(format!(
                "a predicate must be a boolean, but this one is a {}",
                other.type_name()
            ))
            .at(e.span.line, e.span.column)),
        }
    }

    /// Runs the clauses of one single query on `input`.
    pub fn run_single(
        &mut self,
        q: &SingleQuery,
        input: Table,
        top_level: bool,
    ) -> Result<SingleOutput> {
        let (table, returns) = self.run_clauses(&q.clauses, input, top_level)?;
        Ok(SingleOutput { table, returns })
    }

    /// Runs `clauses` in order on `input`; returns the last table and whether it is a result
    /// (from RETURN or a standalone CALL). `top_level`: these are all of a query part's
    /// clauses (a lone CALL there is standalone).
    pub(crate) fn run_clauses(
        &mut self,
        clauses: &[Clause],
        input: Table,
        top_level: bool,
    ) -> Result<(Table, bool)> {
        // A whole query part of the batch class (batch/shape.rs) runs batch at a time unless
        // PROFILE wants its operators one by one.
        if top_level && self.profile.is_none() && input.cols.is_empty() && input.rows.len() == 1 {
            if let Some(plan) = batch::compile_clauses(clauses) {
                if let Some(out) = batch::run(&plan, self.tx.r(), self.params, self.control)? {
                    self.note_rows(out.rows.len());
                    let table = Table {
                        cols: out.columns,
                        rows: out.rows,
                    };
                    return Ok((table, true));
                }
            }
        }
        let mut table = input;
        let mut returns = false;
        let n = clauses.len();
        self.note_rows(table.rows.len());
        let mut i = 0;
        while i < n {
            self.control.check()?;
            let clause = &clauses[i];
            i += 1;
            let started = self.profile.as_ref().map(|_| std::time::Instant::now());
            let mut produced: Option<u64> = None;
            table = match clause {
                // PROFILE reports each clause: no fusing there.
                Clause::Match(m) => match pattern::fused_count_star(m, clauses.get(i))
                    .filter(|_| self.profile.is_none())
                {
                    Some(column) => {
                        i += 1;
                        returns = true;
                        self.run_match_count(table, m, column)?
                    }
                    None => self.run_match(table, m)?,
                },
                Clause::Unwind(u) => {
                    // `UNWIND list AS x` would copy `list` into every output row; when no
                    // later clause reads it, it is moved out of the row instead (so a large
                    // list unwinds in linear, not quadratic, time and memory). Only when
                    // `clauses` is the whole query part, so "later" is known.
                    let consumed = match &u.expr.kind {
                        ExprKind::Variable(v)
                            if top_level
                                && *v != u.alias.name
                                && !super::plan::clauses_mention(&clauses[i..], v) =>
                        {
                            table.cols.iter().position(|c| c == v)
                        }
                        _ => None,
                    };
                    self.run_unwind(table, u, consumed)?
                }
                Clause::With(w) => self.project(table, &w.projection, w.where_.as_ref())?,
                Clause::Return(r) => {
                    returns = true;
                    self.project(table, &r.projection, None)?
                }
                Clause::Create(c) => self.run_create(table, c)?,
                Clause::Merge(m) => self.run_merge(table, m)?,
                Clause::Set(s) => self.run_set(table, s)?,
                Clause::Remove(r) => self.run_remove(table, r)?,
                Clause::Delete(d) => self.run_delete(table, d)?,
                Clause::Foreach(f) => self.run_foreach(table, f)?,
                Clause::Call(c) => {
                    let standalone = top_level && n == 1;
                    let (t, is_result) = self.run_call(table, c, standalone)?;
                    returns = is_result;
                    t
                }
                Clause::LoadCsv(l) => {
                    // The clauses that can run batch by batch go with it.
                    let end = i + load_csv::stream_end(&clauses[i..]);
                    let ends_query = end == n;
                    let keep = !ends_query || matches!(clauses.last(), Some(Clause::Return(_)));
                    let (t, r, read) = self.run_load_csv(table, l, &clauses[i..end], keep)?;
                    returns = r;
                    i = end;
                    produced = Some(read);
                    t
                }
            };
            if let (Some(p), Some(t0)) = (self.profile.as_mut(), started) {
                let e = p.entry(explain::clause_key(clause)).or_default();
                e.0 += produced.unwrap_or(table.rows.len() as u64);
                e.1 += t0.elapsed();
            }
            self.note_rows(table.rows.len());
        }
        Ok((table, returns))
    }

    /// Records how many rows one table held, for [`last_query_peak_rows`].
    pub(crate) fn note_rows(&self, rows: usize) {
        PEAK_ROWS.with(|p| p.set(p.get().max(rows)));
    }

    /// UNWIND. `consumed`: the column holding the list, when no later clause reads it: the
    /// list is then moved out of each input row (leaving null) rather than copied per element.
    fn run_unwind(
        &mut self,
        table: Table,
        u: &super::ast::Unwind,
        consumed: Option<usize>,
    ) -> Result<Table> {
        let mut cols = table.cols.clone();
        let replace = cols.iter().position(|c| *c == u.alias.name);
        if replace.is_none() {
            cols.push(u.alias.name.clone());
        }
        let mut rows = Vec::new();
        for (i, mut row) in table.rows.into_iter().enumerate() {
            if i % 1024 == 0 {
                self.control.check()?;
            }
            let value = match consumed {
                Some(c) if c < row.len() => std::mem::replace(&mut row[c], Value::Null),
                _ => {
                    let b = RowBindings {
                        cols: &table.cols,
                        vals: &row,
                        outer: None,
                    };
                    self.eval(&u.expr, &b)?
                }
            };
            let items = match value {
                Value::Null => Vec::new(),
                Value::List(items) => items,
                other => vec![other],
            };
            let n = items.len();
            for (j, item) in items.into_iter().enumerate() {
                // One input row can expand into millions: stay interruptible inside it.
                if j % 4096 == 4095 {
                    self.control.check()?;
                }
                // The last element takes the row itself.
                let mut r = if j + 1 == n {
                    std::mem::take(&mut row)
                } else {
                    row.clone()
                };
                match replace {
                    Some(i) => r[i] = item,
                    None => r.push(item),
                }
                rows.push(r);
            }
        }
        Ok(Table { cols, rows })
    }

    fn run_foreach(&mut self, table: Table, f: &super::ast::Foreach) -> Result<Table> {
        let inner = SingleQuery {
            clauses: f.clauses.clone(),
            span: f.span,
        };
        for row in &table.rows {
            self.control.check()?;
            let b = RowBindings {
                cols: &table.cols,
                vals: row,
                outer: None,
            };
            let items = match self.eval(&f.list, &b)? {
                Value::Null => Vec::new(),
                Value::List(items) => items,
                other => {
                    return Err(Error::type_error(format!(
                        "FOREACH needs a list, but got a {}",
                        other.type_name()
                    ))
                    .at(f.list.span.line, f.list.span.column))
                }
            };
            for item in items {
                let mut cols = table.cols.clone();
                let mut r = row.clone();
                match cols.iter().position(|c| *c == f.variable.name) {
                    Some(i) => r[i] = item,
                    None => {
                        cols.push(f.variable.name.clone());
                        r.push(item);
                    }
                }
                self.run_single(
                    &inner,
                    Table {
                        cols,
                        rows: vec![r],
                    },
                    false,
                )?;
            }
        }
        Ok(table)
    }
}

/// Every variable name an AST fragment mentions (used to carry outer bindings into a
/// subquery, whose scope the `Bindings` trait cannot enumerate).
pub(crate) fn mentioned_names(q: &SingleQuery) -> Vec<String> {
    let mut names = Vec::new();
    super::plan::visit_names_in_query(q, &mut |n: &str| {
        if !names.iter().any(|x: &String| x == n) {
            names.push(n.to_owned());
        }
    });
    names
}

impl SubqueryRunner for Runner {
    fn match_pattern(
        &self,
        pattern: &super::ast::PatternElement,
        path_variable: Option<&str>,
        outer: &dyn Bindings,
        ctx: &EvalContext,
    ) -> Result<Vec<Vec<(String, Value)>>> {
        let ex = Exec {
            tx: Tx::Read(ctx.tx),
            params: ctx.params,
            control: ctx.control,
            procs: &NO_PROCEDURES,
            profile: None,
            pattern_rows: None,
            stats: QueryStats::default(),
        };
        ex.match_element_outer(pattern, path_variable, outer)
    }

    fn run_subquery(
        &self,
        query: &SingleQuery,
        outer: &dyn Bindings,
        ctx: &EvalContext,
    ) -> Result<usize> {
        let mut ex = Exec {
            tx: Tx::Read(ctx.tx),
            params: ctx.params,
            control: ctx.control,
            procs: &NO_PROCEDURES,
            profile: None,
            pattern_rows: None,
            stats: QueryStats::default(),
        };
        let mut cols = Vec::new();
        let mut row = Vec::new();
        for name in mentioned_names(query) {
            if let Some(v) = outer.get(&name) {
                cols.push(name);
                row.push(v.clone());
            }
        }
        let out = ex.run_single(
            query,
            Table {
                cols,
                rows: vec![row],
            },
            false,
        )?;
        Ok(out.table.rows.len())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cypher::ast::StatementKind;
    use crate::storage::Graph;
    use crate::txn::{Isolation, TxnKind, TxnManager};

    /// Runs the first `upto` clauses of `text` as a whole query part and returns the table.
    fn table_after(text: &str, upto: usize) -> Table {
        let st = crate::cypher::parse(text).unwrap();
        let StatementKind::Query(q) = st.kind else {
            panic!("not a query: {text}")
        };
        let txns = Arc::new(TxnManager::new(Arc::new(Graph::new()), None, 0, false));
        let mut tx = txns.begin(TxnKind::ReadWrite, Isolation::Serializable);
        let (params, control, procs) = (
            ParamMap::new(),
            ExecControl::default(),
            Procedures::builtin(),
        );
        let mut ex = Exec {
            tx: Tx::Write(&mut tx),
            params: &params,
            control: &control,
            procs: &procs,
            profile: None,
            pattern_rows: None,
            stats: QueryStats::default(),
        };
        let clauses = &q.parts[0].clauses[..upto];
        ex.run_clauses(clauses, Table::unit(), true).unwrap().0
    }

    fn column<'t>(t: &'t Table, name: &str) -> Vec<&'t Value> {
        let i = t.cols.iter().position(|c| c == name).unwrap();
        t.rows.iter().map(|r| &r[i]).collect()
    }

    #[test]
    fn unwind_moves_a_list_no_later_clause_reads() {
        let t = table_after("WITH [1, 2, 3] AS l UNWIND l AS x RETURN x", 2);
        assert_eq!(
            column(&t, "x"),
            vec![&Value::Int(1), &Value::Int(2), &Value::Int(3)]
        );
        // Not copied into every row: `l` was moved out.
        assert!(column(&t, "l").iter().all(|v| v.is_null()));
    }

    fn run_full(text: &str) -> QueryOutput {
        let st = crate::cypher::parse(text).unwrap();
        let StatementKind::Query(q) = st.kind else {
            panic!("not a query: {text}")
        };
        let txns = Arc::new(TxnManager::new(Arc::new(Graph::new()), None, 0, false));
        let mut tx = txns.begin(TxnKind::ReadWrite, Isolation::Serializable);
        run_query(&q, &mut tx, &ParamMap::new(), &ExecControl::default()).unwrap()
    }

    #[test]
    fn unwind_keeps_a_list_a_later_clause_reads() {
        let list = Value::List(vec![Value::Int(1), Value::Int(2)]);
        let out = run_full("WITH [1, 2] AS l UNWIND l AS x RETURN x, size(l) AS s");
        assert!(out.rows.iter().all(|r| r[1] == Value::Int(2)), "{out:?}");
        let out = run_full("WITH [1, 2] AS l UNWIND l AS x RETURN *");
        assert!(out.rows.iter().all(|r| r[0] == list), "{out:?}");
        let out = run_full("WITH [1, 2] AS l UNWIND l AS x WITH x WHERE x IN l RETURN x");
        assert_eq!(out.rows.len(), 2, "{out:?}");
        let out = run_full("WITH [1, 2] AS l UNWIND l AS x CREATE (n {v: l}) RETURN n.v AS v");
        assert!(out.rows.iter().all(|r| r[0] == list), "{out:?}");
    }
}
