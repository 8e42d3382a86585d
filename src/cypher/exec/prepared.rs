//! Plans compiled once per prepared statement.
//!
//! A prepared statement runs the same syntax tree many times; what the interpreter redoes
//! on every run (resolving label and type names, laying out the pattern's slots, building
//! the match table and projecting it) is done here once, when the statement first runs
//! against a database, and kept in its [`PlanCache`].
//!
//! What a plan bakes in, and why it stays valid:
//! - label and relationship type ids: a name never changes id within a catalog, and a plan
//!   is keyed by the catalog's uid (`Catalog::uid`), so it is never used against another
//!   database (or another generation of a following database's graph, which gets a new
//!   catalog). A plan is only made when every name it needs is already in the catalog: a
//!   name that is absent now may be created later, and the absence has to be looked up (and
//!   recorded for serializable validation) on every run, which the interpreter does.
//! - the slot layout and the projection: they depend on the text only.
//! - nothing about indexes: the start of each search (index seek, label scan) is still
//!   chosen per run, from the indexes this transaction may use, so an index created or
//!   dropped between two runs is used, or not, by the next run without invalidation.
//!
//! Shapes: `MATCH chain [WHERE w] RETURN aggregates` of the batch class (`batch/shape.rs`),
//! run by the batch engine; `MATCH pattern [WHERE w] RETURN items` (not OPTIONAL, no aggregate but a lone
//! `count(*)`, no DISTINCT, ORDER BY, SKIP or LIMIT), which streams each match straight into
//! its result row (or only counts it); of those, a point lookup `MATCH (n:L {k: $p}) RETURN
//! n.a, ...` also gets the direct seek of `seek.rs`, which the API layer runs when it applies
//! (this general plan otherwise). Any other statement gets an [`Shape::Interpret`] plan: the
//! interpreter runs it as an unprepared query would.

use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

use super::pattern::{ElemSpec, Matches, ScanCache};
use super::seek::Seek;
use super::{Exec, Procedures, Tx, NO_PROCEDURES, PEAK_ROWS};
use crate::cypher::ast::{Clause, Expr, ExprKind, Pattern, Query};
use crate::cypher::{ExecControl, ParamMap, QueryOutput, QueryStats};
use crate::error::Result;
use crate::txn::Transaction;
use crate::value::Value;

/// A statement compiled against one catalog.
pub struct CompiledQuery {
    /// The catalog the plan's ids belong to.
    uid: u32,
    shape: Shape,
}

enum Shape {
    /// A `MATCH ... RETURN aggregates` the batch engine runs (it may still decline at run
    /// time: then the interpreter runs it).
    Batch(Box<super::batch::BatchPlan>),
    /// A single `MATCH ... RETURN ...` whose matches go straight into the result.
    MatchReturn(Box<MatchReturn>),
    /// A point lookup: the direct seek where it applies, else the general plan.
    Seek(Box<Seek>, Box<MatchReturn>),
    /// Run by the interpreter.
    Interpret,
}

struct MatchReturn {
    /// The pattern's variables, in slot order.
    cols: Vec<String>,
    elems: Vec<ElemSpec<'static>>,
    filter: Option<Expr>,
    ret: Return,
}

enum Return {
    /// `RETURN count(*) [AS column]`.
    CountStar(String),
    /// Scalar items, evaluated per match.
    Items {
        names: Vec<String>,
        exprs: Vec<Expr>,
    },
}

impl CompiledQuery {
    /// Whether the interpreter runs the statement (no compiled shape fits it).
    pub fn interprets(&self) -> bool {
        matches!(self.shape, Shape::Interpret)
    }

    /// The direct seek plan, when the statement is a point lookup (`seek.rs`).
    pub(crate) fn seek(&self) -> Option<&Seek> {
        match &self.shape {
            Shape::Seek(s, _) => Some(s),
            _ => None,
        }
    }

    /// The catalog the plan was compiled against.
    pub fn uid(&self) -> u32 {
        self.uid
    }
}

/// A prepared statement's plan, compiled at its first run against a catalog and replaced
/// when the statement runs against another. Shared by every thread that runs the statement.
///
/// The first plan cached stays in `first` for the statement's life, read with one atomic
/// load and no reference count: a statement is nearly always run against one database. A
/// plan for any other catalog is kept in `other` (behind its mutex, the last one only).
#[derive(Default)]
pub struct PlanCache {
    first: OnceLock<CompiledQuery>,
    other: Mutex<Option<Arc<CompiledQuery>>>,
}

/// A plan borrowed from its cache, or one shared with it (or not cached).
pub enum PlanRef<'a> {
    Borrowed(&'a CompiledQuery),
    Shared(Arc<CompiledQuery>),
}

impl Deref for PlanRef<'_> {
    type Target = CompiledQuery;

    fn deref(&self) -> &CompiledQuery {
        match self {
            PlanRef::Borrowed(p) => p,
            PlanRef::Shared(p) => p,
        }
    }
}

impl PlanCache {
    /// The plan for running `query` in `tx`: the cached one if it was compiled against
    /// `tx`'s catalog, else a new one (cached when it can be, see the module comment).
    /// `None` when no plan can be made now: run the interpreter.
    pub fn plan(&self, query: &Query, tx: &Transaction) -> Option<PlanRef<'_>> {
        let uid = tx.catalog_uid();
        if uid != 0 {
            if let Some(p) = self.first.get().filter(|p| p.uid == uid) {
                return Some(PlanRef::Borrowed(p));
            }
        }
        // A poisoned lock only means a panic elsewhere while swapping an Arc: the value is
        // whole either way.
        let cached = self
            .other
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|p| uid != 0 && p.uid == uid)
            .cloned();
        if let Some(p) = cached {
            return Some(PlanRef::Shared(p));
        }
        let plan = compile(query, tx)?;
        if uid == 0 {
            return Some(PlanRef::Shared(Arc::new(plan)));
        }
        let plan = match self.first.set(plan) {
            // Set by this call (so it is this plan).
            Ok(()) => return self.first.get().map(PlanRef::Borrowed),
            // Taken already (for another catalog, or by a thread that raced this one).
            Err(plan) => Arc::new(plan),
        };
        *self.other.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&plan));
        Some(PlanRef::Shared(plan))
    }

    /// The first plan cached, whatever catalog it was compiled against (for hints taken
    /// before a transaction has a catalog to check it against).
    pub fn first(&self) -> Option<&CompiledQuery> {
        self.first.get()
    }

    /// The catalog uid of the plan cached last, if any (tests).
    #[doc(hidden)]
    pub fn cached_uid(&self) -> Option<u32> {
        self.other
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|p| p.uid)
            .or_else(|| self.first.get().map(|p| p.uid))
    }
}

/// Compiles `query` against `tx`'s catalog; `None` when a name it needs is not in the
/// catalog yet (nothing is cached then).
pub fn compile(query: &Query, tx: &Transaction) -> Option<CompiledQuery> {
    let uid = tx.catalog_uid();
    let interpret = || {
        Some(CompiledQuery {
            uid,
            shape: Shape::Interpret,
        })
    };
    let [part] = query.parts.as_slice() else {
        return interpret();
    };
    let [Clause::Match(m), Clause::Return(r)] = part.clauses.as_slice() else {
        return interpret();
    };
    if let Some(b) = super::batch::compile(m, r) {
        return Some(CompiledQuery {
            uid,
            shape: Shape::Batch(Box::new(b)),
        });
    }
    let p = &r.projection;
    if m.optional || !p.is_plain() {
        return interpret();
    }
    let ret = match p.items.as_slice() {
        [item] if item.expr.kind == ExprKind::CountStar => {
            Return::CountStar(item.name().to_owned())
        }
        items
            if !items
                .iter()
                .any(|i| crate::cypher::plan::contains_aggregate(&i.expr)) =>
        {
            Return::Items {
                names: items.iter().map(|i| i.name().to_owned()).collect(),
                exprs: items.iter().map(|i| i.expr.clone()).collect(),
            }
        }
        _ => return interpret(),
    };
    if !names_known(&m.pattern, tx) {
        return None;
    }
    let (params, control) = (ParamMap::new(), ExecControl::default());
    let ex = Exec {
        tx: Tx::Read(tx),
        params: &params,
        control: &control,
        procs: &NO_PROCEDURES,
        profile: None,
        pattern_rows: None,
        stats: QueryStats::default(),
    };
    let mut cols = Vec::new();
    let elems = ex
        .compile_pattern(&m.pattern, &mut cols)
        .into_iter()
        .map(ElemSpec::into_owned)
        .collect();
    let general = Box::new(MatchReturn {
        cols,
        elems,
        filter: m.where_.clone(),
        ret,
    });
    let shape = match super::seek::compile(m, p, tx) {
        Some(s) => Shape::Seek(Box::new(s), general),
        None => Shape::MatchReturn(general),
    };
    Some(CompiledQuery { uid, shape })
}

/// Whether every label and relationship type `p` names is in `tx`'s catalog.
fn names_known(p: &Pattern, tx: &Transaction) -> bool {
    let uid = tx.catalog_uid();
    p.parts.iter().all(|part| {
        let e = &part.element;
        std::iter::once(&e.start)
            .chain(e.chain.iter().map(|(_, n)| n))
            .flat_map(|n| &n.labels)
            .all(|l| l.cached.get_or(uid, || tx.label_id(&l.name)).is_some())
            && e.chain
                .iter()
                .flat_map(|(r, _)| &r.types)
                .all(|t| t.cached.get_or(uid, || tx.rel_type_id(&t.name)).is_some())
    })
}

/// Runs `query` (already checked) by its plan `plan`, compiled against `tx`'s catalog.
pub fn run_compiled(
    plan: &CompiledQuery,
    query: &Query,
    tx: &mut Transaction,
    params: &ParamMap,
    control: &ExecControl,
    procs: &Procedures,
) -> Result<QueryOutput> {
    if let Shape::Batch(b) = &plan.shape {
        PEAK_ROWS.with(|p| p.set(0));
        if let Some(out) = super::batch::run(b, tx, params, control)? {
            return Ok(out);
        }
    }
    let (Shape::MatchReturn(m) | Shape::Seek(_, m)) = &plan.shape else {
        return super::run_checked_statement(
            query,
            tx,
            params,
            control,
            procs,
            super::RunMode::Run,
        );
    };
    debug_assert_eq!(plan.uid, tx.catalog_uid());
    PEAK_ROWS.with(|p| p.set(0));
    control.check()?;
    let ex = Exec {
        tx: Tx::Write(tx),
        params,
        control,
        procs,
        profile: None,
        pattern_rows: None,
        stats: QueryStats::default(),
    };
    let MatchReturn {
        cols,
        elems,
        filter,
        ret,
    } = &**m;
    let slots: Vec<Option<Value>> = vec![None; cols.len()];
    let scans = ScanCache::default();
    let (columns, rows) = match ret {
        Return::CountStar(column) => {
            let mut out = Matches::Count(0);
            ex.search_into(cols, elems, slots, None, &scans, filter.as_ref(), &mut out)?;
            let n = match out {
                Matches::Count(n) => i64::try_from(n).unwrap_or(i64::MAX),
                Matches::Rows(r) | Matches::Project(_, r) => {
                    i64::try_from(r.len()).unwrap_or(i64::MAX)
                }
            };
            (vec![column.clone()], vec![vec![Value::Int(n)]])
        }
        Return::Items { names, exprs } => {
            let mut out = Matches::Project(exprs, Vec::new());
            ex.search_into(cols, elems, slots, None, &scans, filter.as_ref(), &mut out)?;
            let rows = match out {
                Matches::Rows(r) | Matches::Project(_, r) => r,
                Matches::Count(_) => Vec::new(),
            };
            (names.clone(), rows)
        }
    };
    ex.note_rows(rows.len());
    Ok(QueryOutput {
        columns,
        rows,
        stats: ex.stats,
    })
}

/// Whether running `query` may read the statement clock (`datetime()`, `timestamp()`, ...):
/// any function call, subquery or procedure call counts, so `false` means it cannot. A
/// statement that cannot need not read the real-time clock when it starts.
pub fn may_read_clock(query: &Query) -> bool {
    let mut found = false;
    for c in query.parts.iter().flat_map(|p| &p.clauses) {
        if matches!(c, Clause::Call(_) | Clause::LoadCsv(_)) {
            return true;
        }
        crate::cypher::plan::visit_clause_exprs(c, &mut |e| {
            crate::cypher::plan::visit_expr(e, &mut |x| {
                if matches!(
                    x.kind,
                    ExprKind::FunctionCall { .. }
                        | ExprKind::PatternPredicate(_)
                        | ExprKind::ExistsSubquery(_)
                        | ExprKind::CountSubquery(_)
                        | ExprKind::PatternComprehension { .. }
                ) {
                    found = true;
                }
            })
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::may_read_clock;
    use crate::cypher::ast::StatementKind;

    fn reads_clock(q: &str) -> bool {
        match crate::cypher::parse(q).unwrap().kind {
            StatementKind::Query(q) => may_read_clock(&q),
            other => panic!("not a query: {other:?}"),
        }
    }

    #[test]
    fn only_statements_without_calls_are_known_not_to_read_the_clock() {
        for q in [
            "MATCH (u:User {id: $id}) RETURN u.age",
            "MATCH (a)-[:R*1..2]->(b) WHERE a.x < b.x + 1 RETURN count(*)",
            "UNWIND [1, 2] AS x CREATE (:N {v: x})",
        ] {
            assert!(!reads_clock(q), "{q}");
        }
        for q in [
            "RETURN datetime() AS now",
            "MATCH (n) WHERE n.t < timestamp() RETURN n",
            "MATCH (n {t: date()}) RETURN n",
            "MATCH (n) SET n.t = localtime()",
            "MATCH (n) RETURN size([x IN range(1, 2) | x])",
            "MATCH (n) WHERE EXISTS { MATCH (n)-->() } RETURN n",
            "MATCH (n) RETURN COUNT { MATCH (n)-->() } AS c",
            "MATCH (n) WHERE (n)-->() RETURN n",
            "MATCH (n) RETURN [(n)-->(m) | m.t] AS ts",
            "CALL db.labels()",
            "UNWIND [1] AS x FOREACH (y IN [x] | CREATE (:N {t: datetime()}))",
        ] {
            assert!(reads_clock(q), "{q}");
        }
    }
}
