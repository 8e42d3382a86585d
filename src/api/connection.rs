//! Connections: statements, explicit and auto-commit transactions, prepared statements.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::database::DbShared;
use super::result::{Node, Path, QueryResult, Relationship, Value};
use super::{IsolationMode, Params, TxnMode};
use crate::cypher::ast::{Clause, IsolationLevel, Query, Statement, StatementKind};
use crate::cypher::exec::RunMode;
use crate::cypher::{self, ExecControl, ParamMap, QueryOutput};
use crate::error::{Error, ErrorKind, Result};
use crate::txn::{Isolation, Transaction};
use crate::value::{self, NodeId, RelId};

/// Identifies one transaction begun on a connection, so that a stale handle (the C API's
/// `graphdb_transaction`) cannot commit a later transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnToken(pub u64);

/// Interrupts the query running on a connection; `Send + Sync`, usable from any thread.
#[derive(Clone)]
pub struct InterruptHandle {
    flag: Arc<AtomicBool>,
}

impl InterruptHandle {
    /// Stops the statement running now on the connection (it fails with `Interrupted` and its
    /// changes are undone); does nothing when none is running.
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }
}

/// A parsed statement ready to run many times with different parameters.
pub struct PreparedStatement {
    text: String,
    statement: Statement,
    /// The outcome of the static semantic check of a query statement, done once when
    /// prepared (it depends only on the text); an error is reported by every execution,
    /// exactly as an unprepared query reports it. `None` for other statements.
    checked: Option<Result<()>>,
    /// The query's plan, compiled at its first run against a database (see
    /// `cypher::exec::prepared`).
    plan: cypher::exec::PlanCache,
    /// Whether running it may read the statement clock (else the clock is not read when it
    /// starts: see `cypher::exec::may_read_clock`).
    reads_clock: bool,
    /// Whether it has a clause that can write (`may_write`): else it runs read-only.
    writes: bool,
}

impl PreparedStatement {
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A session on a database: runs statements, each in the open explicit transaction if there
/// is one, else in its own auto-commit transaction. Dropping it rolls back an open
/// transaction.
pub struct Connection {
    db: Arc<DbShared>,
    open: Option<(Transaction, TxnToken)>,
    /// When the open transaction began (ns since the epoch): `date.transaction()` reads it.
    open_time: i128,
    last_token: u64,
    /// The control every statement runs under: the interrupt flag (shared with the
    /// connection's `InterruptHandle`s) stays; each statement sets its deadline, clock and
    /// transaction time. Kept, not built per statement, so that a statement takes no
    /// reference count on the flag.
    control: ExecControl,
    /// The procedures as of `DbShared::procedures_version` = `.0`: a statement borrows
    /// them, and re-reads the shared set only when a registration moved the version.
    procs: (u64, Arc<cypher::exec::Procedures>),
}

impl Connection {
    pub(crate) fn new(db: Arc<DbShared>) -> Connection {
        Connection {
            open: None,
            open_time: 0,
            last_token: 0,
            control: ExecControl {
                interrupt: Arc::new(AtomicBool::new(false)),
                deadline: None,
                clock: Default::default(),
                transaction_time: None,
                batch_threads: db.options.batch_threads,
            },
            procs: current_procedures(&db),
            db,
        }
    }

    /// Runs one statement (a query, or BEGIN / COMMIT / ROLLBACK).
    pub fn query(&mut self, cypher: &str, params: &Params) -> Result<QueryResult> {
        let statement = cypher::parse(cypher)?;
        self.run(&statement, params)
    }

    pub fn prepare(&mut self, cypher: &str) -> Result<PreparedStatement> {
        let statement = cypher::parse(cypher)?;
        let checked = match &statement.kind {
            StatementKind::Query(q) => Some(cypher::plan::check_query(q)),
            _ => None,
        };
        let reads_clock = match &statement.kind {
            StatementKind::Query(q) => cypher::exec::may_read_clock(q),
            _ => true,
        };
        let writes = match &statement.kind {
            StatementKind::Query(q) => may_write(q),
            _ => true,
        };
        Ok(PreparedStatement {
            text: cypher.to_owned(),
            statement,
            checked,
            plan: cypher::exec::PlanCache::default(),
            reads_clock,
            writes,
        })
    }

    pub fn execute(&mut self, stmt: &PreparedStatement, params: &Params) -> Result<QueryResult> {
        match (&stmt.statement.kind, &stmt.checked) {
            (StatementKind::Query(q), Some(checked)) => {
                checked.clone()?;
                let checked = Checked::Yes {
                    plan: &stmt.plan,
                    reads_clock: stmt.reads_clock,
                    writes: stmt.writes,
                };
                self.run_query(q, params, RunMode::Run, checked)
            }
            _ => self.run(&stmt.statement, params),
        }
    }

    /// Begins an explicit transaction; `TransactionState` if one is open.
    pub fn begin(&mut self, mode: TxnMode) -> Result<TxnToken> {
        let isolation = match self.db.options.isolation {
            IsolationMode::Serializable => Isolation::Serializable,
            IsolationMode::Snapshot => Isolation::Snapshot,
        };
        self.begin_with(mode, isolation)
    }

    /// Begins an explicit transaction with its own isolation level (overriding the
    /// database's `isolation` option); `TransactionState` if one is open.
    pub fn begin_with_isolation(
        &mut self,
        mode: TxnMode,
        isolation: IsolationMode,
    ) -> Result<TxnToken> {
        self.begin_with(
            mode,
            match isolation {
                IsolationMode::Serializable => Isolation::Serializable,
                IsolationMode::Snapshot => Isolation::Snapshot,
            },
        )
    }

    fn begin_with(&mut self, mode: TxnMode, isolation: Isolation) -> Result<TxnToken> {
        if self.open.is_some() {
            return Err(Error::transaction_state(
                "a transaction is already open on this connection; commit or roll it back first",
            ));
        }
        let tx = self.db.begin(mode, isolation)?;
        self.last_token += 1;
        let token = TxnToken(self.last_token);
        self.open = Some((tx, token));
        self.open_time = crate::temporal::clock::realtime();
        Ok(token)
    }

    /// Commits the open transaction; `TransactionState` if none is open. Whatever happens,
    /// the transaction has ended when this returns.
    pub fn commit(&mut self) -> Result<()> {
        match self.open.take() {
            Some((tx, _)) => self.db.commit(tx),
            None => Err(no_transaction("commit")),
        }
    }

    /// Rolls back the open transaction; `TransactionState` if none is open.
    pub fn rollback(&mut self) -> Result<()> {
        match self.open.take() {
            Some((tx, _)) => {
                tx.rollback();
                Ok(())
            }
            None => Err(no_transaction("roll back")),
        }
    }

    /// Runs `work` in a transaction of `mode` and commits it, retrying the whole transaction
    /// on `Conflict` (up to `max_attempts` attempts in all) with jittered exponential backoff.
    /// Any other error rolls back and is returned at once; so is the last conflict. `work`
    /// must not begin, commit or roll back itself.
    pub fn transact<T>(
        &mut self,
        mode: TxnMode,
        max_attempts: u32,
        mut work: impl FnMut(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        if self.open.is_some() {
            return Err(Error::transaction_state(
                "transact needs a connection with no open transaction; commit or roll back first",
            ));
        }
        let max_attempts = max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.begin(mode)?;
            let outcome = work(self).and_then(|value| {
                if self.open.is_none() {
                    return Err(Error::new(
                        ErrorKind::Misuse,
                        "the transaction was ended inside transact's callback; let transact commit it",
                    ));
                }
                self.commit().map(|_| value)
            });
            match outcome {
                Ok(value) => return Ok(value),
                Err(e) => {
                    if let Some((tx, _)) = self.open.take() {
                        tx.rollback();
                    }
                    if !e.is_retryable() || attempt >= max_attempts {
                        return Err(e);
                    }
                    std::thread::sleep(backoff(attempt));
                }
            }
        }
    }

    /// The open explicit transaction, if any.
    pub fn current_transaction(&self) -> Option<TxnToken> {
        self.open.as_ref().map(|(_, t)| *t)
    }

    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            flag: Arc::clone(&self.control.interrupt),
        }
    }

    fn run(&mut self, statement: &Statement, params: &Params) -> Result<QueryResult> {
        match &statement.kind {
            StatementKind::Query(q) => self.run_query(q, params, RunMode::Run, Checked::No),
            StatementKind::Begin {
                read_only,
                isolation,
            } => {
                let mode = if *read_only {
                    TxnMode::ReadOnly
                } else {
                    TxnMode::ReadWrite
                };
                match isolation {
                    Some(IsolationLevel::Serializable) => {
                        self.begin_with(mode, Isolation::Serializable)?
                    }
                    Some(IsolationLevel::Snapshot) => self.begin_with(mode, Isolation::Snapshot)?,
                    None => self.begin(mode)?,
                };
                Ok(QueryResult::default())
            }
            StatementKind::Commit => self.commit().map(|_| QueryResult::default()),
            StatementKind::Rollback => self.rollback().map(|_| QueryResult::default()),
            StatementKind::Explain(q) => self.run_query(q, params, RunMode::Explain, Checked::No),
            StatementKind::Profile(q) => self.run_query(q, params, RunMode::Profile, Checked::No),
            StatementKind::Checkpoint => {
                if self.open.is_some() {
                    return Err(Error::transaction_state(
                        "CHECKPOINT cannot run inside a transaction; commit or roll back first",
                    ));
                }
                self.db.checkpoint().map(|_| QueryResult::default())
            }
            StatementKind::Check => self.db.check().map(|_| QueryResult::default()),
            StatementKind::CreateIndex { .. }
            | StatementKind::DropIndex { .. }
            | StatementKind::CreateUniqueConstraint { .. }
            | StatementKind::DropConstraint { .. }
            | StatementKind::ShowIndexes
            | StatementKind::ShowConstraints => self.run_schema(&statement.kind),
            StatementKind::ShowTransactions => Ok(self.show_transactions()),
        }
    }

    /// Schema statements. A change is its own transaction (as in Neo4j), so it is refused
    /// while an explicit transaction is open.
    fn run_schema(&mut self, kind: &StatementKind) -> Result<QueryResult> {
        if self.open.is_some() && cypher::exec::schema::is_schema_change(kind) {
            return Err(Error::transaction_state(
                "index and constraint changes run in a transaction of their own; commit or roll \
                 back the open transaction first, then run this statement on its own",
            ));
        }
        let txns = self.db.txns_for_begin()?;
        let out = cypher::exec::schema::run_schema(kind, &txns)?;
        // Schema rows hold no graph entities; the conversion needs a transaction regardless.
        let tx = txns.begin(TxnMode::ReadOnly, Isolation::Snapshot);
        let result = materialize(Output::Engine(out), &tx);
        tx.rollback();
        result
    }

    /// One row per running transaction on this database, oldest first.
    fn show_transactions(&self) -> QueryResult {
        let columns = [
            "id",
            "mode",
            "isolation",
            "state",
            "age_ms",
            "snapshot",
            "waiting_for",
        ];
        let rows = self
            .db
            .txns()
            .running()
            .into_iter()
            .map(|t| {
                let int = |v: u64| Value::Int(i64::try_from(v).unwrap_or(i64::MAX));
                vec![
                    int(t.id),
                    Value::String(
                        match t.kind {
                            TxnMode::ReadWrite => "READ WRITE",
                            TxnMode::ReadOnly => "READ ONLY",
                        }
                        .into(),
                    ),
                    Value::String(
                        match t.isolation {
                            Isolation::Serializable => "SERIALIZABLE",
                            Isolation::Snapshot => "SNAPSHOT",
                        }
                        .into(),
                    ),
                    Value::String(
                        if t.waiting_for.is_some() {
                            "waiting"
                        } else {
                            "running"
                        }
                        .into(),
                    ),
                    int(t.age_ms),
                    int(t.snapshot),
                    t.waiting_for.map_or(Value::Null, int),
                ]
            })
            .collect();
        QueryResult {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            stats: Default::default(),
        }
    }

    fn run_query(
        &mut self,
        query: &Query,
        params: &Params,
        mode: RunMode,
        checked: Checked<'_>,
    ) -> Result<QueryResult> {
        check_params(params)?;
        if let Checked::Yes { plan, .. } = checked {
            if mode == RunMode::Run && self.open.is_none() {
                prefetch_seek(&self.db, plan, params);
            }
        }
        let params = LazyParams {
            caller: params,
            engine: OnceCell::new(),
        };
        self.refresh_procedures();
        let procs = &*self.procs.1;
        // An interrupt raised before this statement started is not for it. Ordered only
        // against this thread's own later loads of the flag.
        self.control.interrupt.store(false, Ordering::Relaxed);
        self.control.deadline = match self.db.options.query_timeout_ms {
            0 => None,
            ms => Some(Instant::now() + Duration::from_millis(ms)),
        };
        self.control.clock = match checked {
            // Read on first use (never, for such a statement): the time read is the same
            // for the whole statement either way.
            Checked::Yes {
                reads_clock: false, ..
            } => Default::default(),
            _ => crate::temporal::clock::StatementClock::started_now(),
        };
        self.control.transaction_time = self.open.as_ref().map(|_| self.open_time);
        let control = &self.control;
        if let Some((tx, _)) = self.open.as_mut() {
            let savepoint = tx.savepoint();
            let outcome = execute_query(query, checked, tx, &params, control, procs, mode)
                .and_then(|out| materialize(out, tx));
            if let Err(e) = &outcome {
                if e.kind() == ErrorKind::Conflict || tx.is_doomed() {
                    // A conflict ends the transaction: its snapshot can no longer commit.
                    if let Some((tx, _)) = self.open.take() {
                        tx.rollback();
                    }
                } else {
                    tx.rollback_to(savepoint);
                }
            }
            return outcome;
        }
        let isolation = match self.db.options.isolation {
            IsolationMode::Serializable => Isolation::Serializable,
            IsolationMode::Snapshot => Isolation::Snapshot,
        };
        // A statement without updating clauses runs read-only: the same snapshot semantics,
        // but no read tracking and no validation (it cannot fail for conflicts).
        let writes = match checked {
            Checked::Yes { writes, .. } => writes,
            Checked::No => may_write(query),
        };
        let txn_mode = if writes && mode != RunMode::Explain {
            TxnMode::ReadWrite
        } else {
            TxnMode::ReadOnly
        };
        // Dropping `tx` on any error path rolls it back.
        let mut tx = self.db.begin(txn_mode, isolation)?;
        let out = execute_query(query, checked, &mut tx, &params, control, procs, mode)?;
        let result = materialize(out, &tx)?;
        self.db.commit(tx)?;
        Ok(result)
    }
}

impl Connection {
    /// Makes `self.procs` the procedures registered when the statement starts (a
    /// registration mid-statement applies from the next one).
    fn refresh_procedures(&mut self) {
        if self.db.procedures_version.load(Ordering::Acquire) != self.procs.0 {
            self.procs = current_procedures(&self.db);
        }
    }
}

/// The registered procedures and the version they are current for. The version is read
/// first: a registration in between gives a newer set under an older version, which the
/// next statement reads again (never an older set under a newer version).
fn current_procedures(db: &DbShared) -> (u64, Arc<cypher::exec::Procedures>) {
    let version = db.procedures_version.load(Ordering::Acquire);
    let set = Arc::clone(
        &db.procedures
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    (version, set)
}

/// Whether a query already passed the static semantic check (when it was prepared, and
/// then it has a plan cache).
#[derive(Clone, Copy)]
enum Checked<'p> {
    Yes {
        plan: &'p cypher::exec::PlanCache,
        reads_clock: bool,
        writes: bool,
    },
    No,
}

/// For a point lookup by an integer (`cypher::exec::seek`) about to begin its own
/// transaction: starts loading the index slot its seek will read, so that the memory access
/// overlaps the transaction's begin. A hint: it reads the plan cached first and the graph as
/// it is now, and a wrong guess changes no result.
fn prefetch_seek(db: &DbShared, plan: &cypher::exec::PlanCache, params: &Params) {
    let Some(p) = plan.first() else { return };
    let Some(seek) = p.seek() else { return };
    if let Some(Value::Int(arg)) = params.get(seek.param()) {
        db.with_current_graph(|g| cypher::exec::prefetch_seek(seek, p.uid(), g, *arg));
    }
}

/// The caller's parameters, converted to engine values only when the statement needs them
/// (the direct seek of a point lookup reads its one parameter from the caller's map). Every
/// value was checked convertible before the statement started (`check_params`).
struct LazyParams<'a> {
    caller: &'a Params,
    engine: OnceCell<ParamMap>,
}

impl LazyParams<'_> {
    fn engine(&self) -> Result<&ParamMap> {
        if let Some(m) = self.engine.get() {
            return Ok(m);
        }
        let m = engine_params(self.caller)?;
        Ok(self.engine.get_or_init(|| m))
    }
}

/// A statement's result: engine rows still to be materialized, or rows the direct seek
/// built in the caller's values.
enum Output {
    Engine(QueryOutput),
    Caller(QueryResult),
}

fn execute_query(
    query: &Query,
    checked: Checked<'_>,
    tx: &mut Transaction,
    params: &LazyParams<'_>,
    control: &ExecControl,
    procs: &cypher::exec::Procedures,
    mode: RunMode,
) -> Result<Output> {
    let out = match checked {
        Checked::Yes { plan, .. } if mode == RunMode::Run => match plan.plan(query, tx) {
            Some(plan) => {
                if let Some(seek) = plan.seek() {
                    let arg = match params.caller.get(seek.param()) {
                        Some(v) => Some(engine_value(v, seek.param())?),
                        None => None,
                    };
                    let view: &Transaction = tx;
                    let rows = cypher::exec::run_seek(seek, view, control, arg, |v| {
                        caller_value(v, view)
                    })?;
                    if let Some(rows) = rows {
                        return Ok(Output::Caller(QueryResult {
                            columns: seek.columns().to_vec(),
                            rows,
                            stats: Default::default(),
                        }));
                    }
                }
                cypher::exec::run_compiled(&plan, query, tx, params.engine()?, control, procs)
            }
            None => cypher::exec::run_checked_statement(
                query,
                tx,
                params.engine()?,
                control,
                procs,
                mode,
            ),
        },
        Checked::Yes { .. } => {
            cypher::exec::run_checked_statement(query, tx, params.engine()?, control, procs, mode)
        }
        Checked::No => {
            cypher::exec::run_statement(query, tx, params.engine()?, control, procs, mode)
        }
    };
    out.map(Output::Engine)
}

/// Exponential backoff from 1 ms, capped at 100 ms, with full jitter so that transactions
/// that conflicted with each other do not collide again in lockstep.
pub(crate) fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let cap_us = (1000u64 << attempt.min(7)).min(100_000);
    // RandomState is seeded randomly per instance: enough entropy for jitter.
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_micros(r % cap_us + 1)
}

/// Whether a query has a clause that can write: an updating clause, or a procedure call (a
/// future procedure may write). Expressions cannot write: their subqueries are read-only.
fn may_write(query: &Query) -> bool {
    query.parts.iter().any(|part| {
        part.clauses
            .iter()
            .any(|c| c.is_updating() || matches!(c, Clause::Call(_)))
    })
}

fn no_transaction(what: &str) -> Error {
    Error::transaction_state(format!(
        "there is no open transaction to {what} on this connection"
    ))
}

/// Fails as `engine_params` would (the same error for the same first offending parameter),
/// without converting anything.
fn check_params(params: &Params) -> Result<()> {
    fn check(v: &Value, name: &str) -> Result<()> {
        match v {
            Value::List(items) => items.iter().try_for_each(|i| check(i, name)),
            Value::Map(m) => m.values().try_for_each(|v| check(v, name)),
            Value::Node(_) | Value::Relationship(_) | Value::Path(_) => Err(entity_param(name)),
            _ => Ok(()),
        }
    }
    params.iter().try_for_each(|(k, v)| check(v, k))
}

fn entity_param(name: &str) -> Error {
    Error::invalid_argument(format!(
        "parameter ${name} holds a graph entity, which cannot be passed in; pass its id and \
         MATCH it instead"
    ))
}

/// Converts caller parameters to engine values; entities cannot be parameters.
fn engine_params(params: &Params) -> Result<ParamMap> {
    // Inserted one by one: `params` is already in key order, and collecting into a
    // BTreeMap buffers and sorts first, which dominates for the usual one or two parameters.
    let mut out = ParamMap::new();
    for (k, v) in params {
        out.insert(k.clone(), engine_value(v, k)?);
    }
    Ok(out)
}

pub(crate) fn engine_value(v: &Value, name: &str) -> Result<value::Value> {
    Ok(match v {
        Value::Null => value::Value::Null,
        Value::Bool(b) => value::Value::Bool(*b),
        Value::Int(i) => value::Value::Int(*i),
        Value::Float(f) => value::Value::Float(*f),
        Value::String(s) => value::Value::String(s.clone()),
        Value::List(items) => value::Value::List(
            items
                .iter()
                .map(|i| engine_value(i, name))
                .collect::<Result<_>>()?,
        ),
        Value::Map(m) => value::Value::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), engine_value(v, name)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Date(d) => value::Value::Date(*d),
        Value::LocalTime(t) => value::Value::LocalTime(*t),
        Value::Time(t) => value::Value::Time(*t),
        Value::LocalDateTime(l) => value::Value::LocalDateTime(*l),
        Value::DateTime(d) => value::Value::DateTime(*d),
        Value::Duration(d) => value::Value::Duration(*d),
        Value::Node(_) | Value::Relationship(_) | Value::Path(_) => return Err(entity_param(name)),
    })
}

/// Turns engine rows into caller values, reading entities in `tx`'s view as of now. Every
/// query's result passes through here, so this is where damage the statement met in the
/// base image (a block that failed its checksum read as empty) fails it rather than
/// returning incomplete rows.
fn materialize(out: Output, tx: &Transaction) -> Result<QueryResult> {
    let out = match out {
        Output::Engine(out) => out,
        Output::Caller(result) => {
            tx.check_base()?;
            return Ok(result);
        }
    };
    let rows = out
        .rows
        .into_iter()
        .map(|row| row.into_iter().map(|v| caller_value(v, tx)).collect())
        .collect();
    tx.check_base()?;
    Ok(QueryResult {
        columns: out.columns,
        rows,
        stats: out.stats,
    })
}

pub(crate) fn caller_value(v: value::Value, tx: &Transaction) -> Value {
    match v {
        value::Value::Null => Value::Null,
        value::Value::Bool(b) => Value::Bool(b),
        value::Value::Int(i) => Value::Int(i),
        value::Value::Float(f) => Value::Float(f),
        value::Value::String(s) => Value::String(s),
        value::Value::List(items) => {
            Value::List(items.into_iter().map(|i| caller_value(i, tx)).collect())
        }
        value::Value::Map(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| (k, caller_value(v, tx)))
                .collect(),
        ),
        value::Value::Node(id) => Value::Node(node(id, tx)),
        value::Value::Relationship(id) => Value::Relationship(relationship(id, tx)),
        value::Value::Path(p) => Value::Path(Path {
            nodes: p.nodes.into_iter().map(|n| node(n, tx)).collect(),
            relationships: p.rels.into_iter().map(|r| relationship(r, tx)).collect(),
        }),
        value::Value::Date(d) => Value::Date(d),
        value::Value::LocalTime(t) => Value::LocalTime(t),
        value::Value::Time(t) => Value::Time(t),
        value::Value::LocalDateTime(l) => Value::LocalDateTime(l),
        value::Value::DateTime(d) => Value::DateTime(d),
        value::Value::Duration(d) => Value::Duration(d),
    }
}

fn properties(
    props: Vec<(u32, value::Value)>,
    tx: &Transaction,
    key: impl Fn(u32) -> Arc<str>,
) -> BTreeMap<String, Value> {
    props
        .into_iter()
        .map(|(k, v)| (key(k).to_string(), caller_value(v, tx)))
        .collect()
}

fn node(id: NodeId, tx: &Transaction) -> Node {
    Node {
        id,
        labels: tx
            .node_labels(id)
            .into_iter()
            .map(|l| tx.label_name(l).to_string())
            .collect(),
        properties: properties(tx.node_properties(id), tx, |k| tx.key_name(k)),
    }
}

fn relationship(id: RelId, tx: &Transaction) -> Relationship {
    let (start, end) = tx.rel_endpoints(id).unwrap_or((0, 0));
    Relationship {
        id,
        rel_type: tx
            .rel_type(id)
            .map(|t| tx.rel_type_name(t).to_string())
            .unwrap_or_default(),
        start,
        end,
        properties: properties(tx.rel_properties(id), tx, |k| tx.key_name(k)),
    }
}

#[cfg(test)]
mod tests {
    use super::may_write;
    use crate::api::{Database, Options, Params, Value};
    use crate::cypher::ast::StatementKind;
    use crate::ErrorKind;

    fn memory_db() -> Database {
        let mut o = Options::new();
        o.set("create", "true").unwrap();
        Database::open(":memory:", &o).unwrap()
    }

    fn int_param(k: &str, v: i64) -> Params {
        [(k.to_string(), Value::Int(v))].into_iter().collect()
    }

    /// A small graph: a chain 0->1->2->3 plus 0->2, 1->1 (self-loop), ages by id.
    fn social(c: &mut super::Connection) {
        c.query(
            "UNWIND range(0, 3) AS i CREATE (:User {id: i, age: 20 + i})",
            &Params::new(),
        )
        .unwrap();
        c.query(
            "UNWIND [[0, 1], [1, 2], [2, 3], [0, 2], [1, 1]] AS e \
             MATCH (a:User {id: e[0]}), (b:User {id: e[1]}) CREATE (a)-[:FOLLOWS]->(b)",
            &Params::new(),
        )
        .unwrap();
    }

    #[test]
    fn a_prepared_statement_checked_once_fails_like_the_unprepared_query() {
        let db = memory_db();
        let mut c = db.connect();
        let bad = "MATCH (n) RETURN m";
        let direct = c.query(bad, &Params::new()).unwrap_err();
        let stmt = c.prepare(bad).unwrap();
        for _ in 0..2 {
            let e = c.execute(&stmt, &Params::new()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Semantic);
            assert_eq!(e, direct);
        }
        // A good statement still runs, with new parameters each time.
        social(&mut c);
        let stmt = c.prepare("MATCH (u:User {id: $id}) RETURN u.age").unwrap();
        for id in 0..4 {
            let r = c.execute(&stmt, &int_param("id", id)).unwrap();
            assert_eq!(r.rows, vec![vec![Value::Int(20 + id)]]);
        }
    }

    #[test]
    fn counting_matches_directly_gives_what_projecting_them_gives() {
        let db = memory_db();
        let mut c = db.connect();
        social(&mut c);
        // Each pair: the fused `MATCH ... RETURN count(*)` and the same count through WITH.
        for (m, params) in [
            (
                "MATCH (a:User {id: $id})-[:FOLLOWS]->()-[:FOLLOWS]->()",
                int_param("id", 0),
            ),
            (
                "MATCH (a:User {id: $id})-[:FOLLOWS]->()-[:FOLLOWS]->()",
                int_param("id", 1),
            ),
            (
                "MATCH (a:User {id: $id})-[:FOLLOWS]->()-[:FOLLOWS]->()",
                int_param("id", 9),
            ),
            ("MATCH (a)-[r]-(b)", Params::new()),
            (
                "MATCH (a)-[:FOLLOWS*1..3]->(b) WHERE b.age > $id",
                int_param("id", 21),
            ),
            (
                "UNWIND [0, 1, 1] AS x MATCH (a:User {id: x})-->(b)",
                Params::new(),
            ),
            ("MATCH (a:Nobody)", Params::new()),
        ] {
            let fused = c
                .query(&format!("{m} RETURN count(*) AS n"), &params)
                .unwrap();
            let projected = c
                .query(&format!("{m} WITH * RETURN count(*) AS n"), &params)
                .unwrap();
            assert_eq!(fused.columns, vec!["n".to_string()], "{m}");
            assert_eq!(fused.rows, projected.rows, "{m}");
        }
        let r = c
            .query(
                "MATCH (a:User {id: 0})-[:FOLLOWS]->()-[:FOLLOWS]->() RETURN count(*)",
                &Params::new(),
            )
            .unwrap();
        // 0->1->2, 0->1->1, 0->2->3.
        assert_eq!(r.columns, vec!["count(*)".to_string()]);
        assert_eq!(r.rows, vec![vec![Value::Int(3)]]);
    }

    #[test]
    fn literal_property_maps_match_every_key() {
        let db = memory_db();
        let mut c = db.connect();
        social(&mut c);
        let e = c
            .query("MATCH (u:User {id: 1, id: 2}) RETURN u.age", &Params::new())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Semantic);
        let r = c
            .query(
                "MATCH (u:User {age: 21, id: 1}) RETURN u.id",
                &Params::new(),
            )
            .unwrap();
        assert_eq!(r.rows, vec![vec![Value::Int(1)]]);
        let r = c
            .query(
                "MATCH (u:User {age: 22, id: 1}) RETURN u.id",
                &Params::new(),
            )
            .unwrap();
        assert!(r.rows.is_empty());
    }

    fn writes(q: &str) -> bool {
        match crate::cypher::parse(q).unwrap().kind {
            StatementKind::Query(q) => may_write(&q),
            other => panic!("not a query: {other:?}"),
        }
    }

    #[test]
    fn only_queries_with_updating_clauses_run_read_write() {
        for q in [
            "MATCH (n) RETURN n",
            "MATCH (n) WHERE EXISTS { MATCH (n)-->() } RETURN count(*)",
            "UNWIND [1, 2] AS x WITH x RETURN x UNION RETURN 3 AS x",
        ] {
            assert!(!writes(q), "{q}");
        }
        for q in [
            "CREATE ()",
            "MATCH (n) SET n.x = 1",
            "MATCH (n) REMOVE n:L",
            "MATCH (n) DETACH DELETE n",
            "MERGE (n:L)",
            "UNWIND [1] AS x FOREACH (y IN [x] | CREATE ())",
            "RETURN 1 AS x UNION CREATE (n) RETURN 2 AS x",
            "CALL db.labels()",
        ] {
            assert!(writes(q), "{q}");
        }
    }
}
