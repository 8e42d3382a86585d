//! Graph pattern matching for MATCH, OPTIONAL MATCH, MERGE and the subqueries inside
//! expressions.
//!
//! A pattern is compiled against a column schema: every named node, relationship and path
//! gets a slot (existing columns are bound, new ones are appended). Matching is a depth-first
//! search per pattern part: it picks a start node (a bound variable, else the labelled node
//! with the fewest candidates, else a full scan), walks the chain to the right, then back to
//! the left, expanding relationships and checking labels, properties and bound variables.
//! Relationship uniqueness holds across all parts of one pattern: `used` lists the
//! relationships bound so far and an expansion never reuses one.
//!
//! Index use (the planner's part, see docs/indexes.md): when no node of a part is bound yet,
//! every node position with a label that has a usable index on some key is a candidate start
//! for an index seek, driven by the position's property map (`(n:L {k: v})`) or by top-level
//! AND-ed conjuncts of the WHERE (`n.k = v`, `n.k IN list`, `<`, `<=`, `>`, `>=`, bounds
//! combined) whose other side can be evaluated before the search. The seek only produces
//! start candidates: labels, the property map and the WHERE are still checked on every match,
//! so a seek needs only to return a superset of the matching nodes. The smallest seek result
//! wins; without one, the smallest label scan, else all nodes.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::{equals, Exec, RowBindings, SlotBindings, Table};
use crate::cypher::ast::{
    BinaryOp, Clause, Expr, ExprKind, Match, NodePattern, PathSelector, Pattern, PatternElement,
    PatternPart, RelDirection, RelPattern,
};
use crate::cypher::eval::Bindings;
use crate::error::{Error, Result};
use crate::storage::index::{key_cmp, seekable, KeyRange};
use crate::storage::{Direction, KeyId, LabelId, NodeId, RelId, TypeId};
use crate::value::{PathIds, Value};
use std::ops::Bound;

/// One node position of a compiled pattern part.
pub(crate) struct NodeSpec<'q> {
    pub slot: Option<usize>,
    /// `None` when a label was never interned: nothing can match.
    pub labels: Option<Vec<LabelId>>,
    /// Borrowed from the syntax tree when compiled per run; owned by a compiled plan.
    pub props: Option<Cow<'q, Expr>>,
}

/// One relationship position: joins node `j` and node `j + 1` of its part.
pub(crate) struct RelSpec<'q> {
    pub slot: Option<usize>,
    /// `None` when every named type is unknown: nothing can match. Empty: any type.
    pub types: Option<Vec<TypeId>>,
    /// Direction when walking from node `j` to node `j + 1`.
    pub dir: Direction,
    /// `(min, max)` hops of a variable-length relationship.
    pub var: Option<(u64, Option<u64>)>,
    pub props: Option<Cow<'q, Expr>>,
}

pub(crate) struct ElemSpec<'q> {
    /// The AST element's address: names its operators in PROFILE's counts.
    pub key: usize,
    pub nodes: Vec<NodeSpec<'q>>,
    pub rels: Vec<RelSpec<'q>>,
    pub path_slot: Option<usize>,
    pub selector: PathSelector,
}

impl ElemSpec<'_> {
    /// The same spec owning its property-map expressions (a compiled plan keeps it).
    pub fn into_owned(self) -> ElemSpec<'static> {
        ElemSpec {
            key: self.key,
            nodes: self
                .nodes
                .into_iter()
                .map(|n| NodeSpec {
                    slot: n.slot,
                    labels: n.labels,
                    props: n.props.map(|p| Cow::Owned(p.into_owned())),
                })
                .collect(),
            rels: self
                .rels
                .into_iter()
                .map(|r| RelSpec {
                    slot: r.slot,
                    types: r.types,
                    dir: r.dir,
                    var: r.var,
                    props: r.props.map(|p| Cow::Owned(p.into_owned())),
                })
                .collect(),
            path_slot: self.path_slot,
            selector: self.selector,
        }
    }
}

/// Node scans shared by every search of one clause execution. Valid only while the graph
/// does not change: one MATCH clause (which only reads), or one MERGE row.
#[derive(Default)]
pub(crate) struct ScanCache {
    /// Keyed by label; `None` is the scan of all nodes.
    scans: RefCell<rustc_hash::FxHashMap<Option<LabelId>, Rc<Vec<NodeId>>>>,
}

/// Where a search puts its complete matches.
pub(crate) enum Matches<'p> {
    Rows(Vec<Vec<Value>>),
    /// Only how many (each still passes the WHERE).
    Count(u64),
    /// Each match that passes the WHERE evaluated through these expressions (a RETURN's
    /// items) as it is found: no match row is built.
    Project(&'p [Expr], Vec<Vec<Value>>),
}

/// The column name when `next`, the clause after a plain MATCH, is exactly `RETURN count(*)`
/// (possibly aliased): then the matches only need counting. Counting rows is all that RETURN
/// does (one row even from no input), so the result is the same.
pub(crate) fn fused_count_star<'c>(m: &Match, next: Option<&'c Clause>) -> Option<&'c str> {
    let Some(Clause::Return(r)) = next else {
        return None;
    };
    let p = &r.projection;
    match p.items.as_slice() {
        [item]
            if !m.optional
                && !p.distinct
                && !p.star
                && p.order_by.is_empty()
                && p.skip.is_none()
                && p.limit.is_none()
                && item.expr.kind == ExprKind::CountStar =>
        {
            Some(item.name())
        }
        _ => None,
    }
}

/// What one relationship position matched.
#[derive(Clone, Debug)]
enum RelBind {
    One(RelId),
    /// Relationships and the nodes strictly between them, both in pattern order.
    Many(Vec<RelId>, Vec<NodeId>),
}

/// The mutable state of one search.
struct State {
    slots: Vec<Option<Value>>,
    used: Vec<RelId>,
    nodes: Vec<Vec<Option<NodeId>>>,
    rels: Vec<Vec<Option<RelBind>>>,
}

/// A walk step: traverse relationship position `rel` from node position `from` to `to`.
#[derive(Clone, Copy)]
struct Step {
    rel: usize,
    from: usize,
    to: usize,
    reversed: bool,
}

fn slot_of(cols: &mut Vec<String>, name: &str) -> usize {
    match cols.iter().position(|c| c == name) {
        Some(i) => i,
        None => {
            cols.push(name.to_owned());
            cols.len() - 1
        }
    }
}

fn reverse(d: Direction) -> Direction {
    match d {
        Direction::Outgoing => Direction::Incoming,
        Direction::Incoming => Direction::Outgoing,
        Direction::Both => Direction::Both,
    }
}

pub(crate) fn rel_direction(d: RelDirection) -> Direction {
    match d {
        RelDirection::Right => Direction::Outgoing,
        RelDirection::Left => Direction::Incoming,
        RelDirection::Both => Direction::Both,
    }
}

impl Exec<'_> {
    fn compile_node<'q>(&self, n: &'q NodePattern, cols: &mut Vec<String>) -> NodeSpec<'q> {
        let tx = self.tx.r();
        let uid = tx.catalog_uid();
        let labels: Option<Vec<LabelId>> = n
            .labels
            .iter()
            .map(|l| l.cached.get_or(uid, || tx.label_id(&l.name)))
            .collect();
        NodeSpec {
            slot: n.variable.as_ref().map(|v| slot_of(cols, &v.name)),
            labels,
            props: n.properties.as_ref().map(Cow::Borrowed),
        }
    }

    fn compile_rel<'q>(&self, r: &'q RelPattern, cols: &mut Vec<String>) -> RelSpec<'q> {
        let tx = self.tx.r();
        let uid = tx.catalog_uid();
        let known: Vec<TypeId> = r
            .types
            .iter()
            .filter_map(|t| t.cached.get_or(uid, || tx.rel_type_id(&t.name)))
            .collect();
        let types = if !r.types.is_empty() && known.is_empty() {
            None
        } else {
            Some(known)
        };
        RelSpec {
            slot: r.variable.as_ref().map(|v| slot_of(cols, &v.name)),
            types,
            dir: rel_direction(r.direction),
            var: r.length.map(|l| (l.min.unwrap_or(1), l.max)),
            props: r.properties.as_ref().map(Cow::Borrowed),
        }
    }

    /// Compiles one pattern part, appending its new variables to `cols`.
    pub(crate) fn compile_element<'q>(
        &self,
        e: &'q PatternElement,
        path_var: Option<&str>,
        selector: PathSelector,
        cols: &mut Vec<String>,
    ) -> ElemSpec<'q> {
        let mut nodes = vec![self.compile_node(&e.start, cols)];
        let mut rels = Vec::new();
        for (r, n) in &e.chain {
            rels.push(self.compile_rel(r, cols));
            nodes.push(self.compile_node(n, cols));
        }
        ElemSpec {
            key: e as *const PatternElement as usize,
            nodes,
            rels,
            path_slot: path_var.map(|p| slot_of(cols, p)),
            selector,
        }
    }

    pub(crate) fn compile_pattern<'q>(
        &self,
        p: &'q Pattern,
        cols: &mut Vec<String>,
    ) -> Vec<ElemSpec<'q>> {
        p.parts
            .iter()
            .map(|part| self.compile_part(part, cols))
            .collect()
    }

    pub(crate) fn compile_part<'q>(
        &self,
        part: &'q PatternPart,
        cols: &mut Vec<String>,
    ) -> ElemSpec<'q> {
        self.compile_element(
            &part.element,
            part.variable.as_ref().map(|v| v.name.as_str()),
            part.selector,
            cols,
        )
    }

    /// Every full binding of `elems` (rows over `cols`) extending `slots`.
    pub(crate) fn search(
        &self,
        cols: &[String],
        elems: &[ElemSpec<'_>],
        slots: Vec<Option<Value>>,
        outer: Option<&dyn Bindings>,
        scans: &ScanCache,
        filter: Option<&Expr>,
    ) -> Result<Vec<Vec<Value>>> {
        let mut out = Matches::Rows(Vec::new());
        self.search_into(cols, elems, slots, outer, scans, filter, &mut out)?;
        Ok(match out {
            Matches::Rows(rows) | Matches::Project(_, rows) => rows,
            Matches::Count(_) => Vec::new(),
        })
    }

    /// [`Self::search`] into `out`: rows, or only how many, or projected rows.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn search_into(
        &self,
        cols: &[String],
        elems: &[ElemSpec<'_>],
        slots: Vec<Option<Value>>,
        outer: Option<&dyn Bindings>,
        scans: &ScanCache,
        filter: Option<&Expr>,
        out: &mut Matches,
    ) -> Result<()> {
        // Empty when nothing is bound (a prepared statement's search starts so): no
        // allocation, and an index past the end reads as unbound.
        let initially_bound: Vec<bool> = if slots.iter().any(Option::is_some) {
            slots.iter().map(Option::is_some).collect()
        } else {
            Vec::new()
        };
        let s = Searcher {
            ex: self,
            cols,
            elems,
            outer,
            scans,
            filter,
            initially_bound,
            prop_maps: RefCell::new(Vec::new()),
            steps: Cell::new(0),
            count_leaves: matches!(out, Matches::Count(_))
                && filter.is_none()
                && self.pattern_rows.is_none()
                && elems
                    .last()
                    .is_some_and(|e| e.selector == PathSelector::All && e.path_slot.is_none()),
            leaves: Cell::new(0),
        };
        let mut st = State {
            slots,
            used: Vec::new(),
            nodes: elems.iter().map(|e| vec![None; e.nodes.len()]).collect(),
            rels: elems.iter().map(|e| vec![None; e.rels.len()]).collect(),
        };
        let r = s.elem(&mut st, 0, out);
        if let Matches::Count(n) = out {
            *n += s.leaves.get();
        }
        r
    }

    /// `MATCH ... RETURN count(*)` (see [`fused_count_star`]): counts the matches over every
    /// input row without building them, and returns the one-row table RETURN would give.
    pub(crate) fn run_match_count(
        &mut self,
        table: Table,
        m: &Match,
        column: &str,
    ) -> Result<Table> {
        let mut cols = table.cols.clone();
        let elems = self.compile_pattern(&m.pattern, &mut cols);
        let extra = cols.len() - table.cols.len();
        let scans = ScanCache::default();
        let mut out = Matches::Count(0);
        for row in table.rows {
            self.control.check()?;
            let mut slots: Vec<Option<Value>> = row.into_iter().map(Some).collect();
            slots.extend(std::iter::repeat(None).take(extra));
            self.search_into(
                &cols,
                &elems,
                slots,
                None,
                &scans,
                m.where_.as_ref(),
                &mut out,
            )?;
        }
        let n = match out {
            Matches::Count(n) => i64::try_from(n).unwrap_or(i64::MAX),
            Matches::Rows(rows) | Matches::Project(_, rows) => {
                i64::try_from(rows.len()).unwrap_or(i64::MAX)
            }
        };
        Ok(Table {
            cols: vec![column.to_owned()],
            rows: vec![vec![Value::Int(n)]],
        })
    }

    /// MATCH and OPTIONAL MATCH.
    pub(crate) fn run_match(&mut self, table: Table, m: &Match) -> Result<Table> {
        let mut cols = table.cols.clone();
        let elems = self.compile_pattern(&m.pattern, &mut cols);
        let extra = cols.len() - table.cols.len();
        let mut rows = Vec::new();
        let scans = ScanCache::default();
        for row in table.rows {
            self.control.check()?;
            let mut slots: Vec<Option<Value>> = row.iter().cloned().map(Some).collect();
            slots.extend(std::iter::repeat(None).take(extra));
            let found = self.search(&cols, &elems, slots, None, &scans, m.where_.as_ref())?;
            if found.is_empty() && m.optional {
                let mut r = row;
                r.extend(std::iter::repeat(Value::Null).take(extra));
                rows.push(r);
            } else {
                rows.extend(found);
            }
        }
        Ok(Table { cols, rows })
    }

    /// The subquery form: the pattern's variables that `outer` binds are fixed, the rest (and
    /// the path variable) are returned per match.
    pub(crate) fn match_element_outer(
        &self,
        e: &PatternElement,
        path_var: Option<&str>,
        outer: &dyn Bindings,
    ) -> Result<Vec<Vec<(String, Value)>>> {
        let mut cols = Vec::new();
        let elem = self.compile_element(e, path_var, PathSelector::All, &mut cols);
        let slots: Vec<Option<Value>> = cols
            .iter()
            .map(|c| {
                if Some(c.as_str()) == path_var {
                    None
                } else {
                    outer.get(c).cloned()
                }
            })
            .collect();
        let fresh: Vec<bool> = slots.iter().map(Option::is_none).collect();
        let found = self.search(
            &cols,
            std::slice::from_ref(&elem),
            slots,
            Some(outer),
            &ScanCache::default(),
            None,
        )?;
        Ok(found
            .into_iter()
            .map(|row| {
                cols.iter()
                    .zip(row)
                    .zip(&fresh)
                    .filter(|(_, f)| **f)
                    .map(|((c, v), _)| (c.clone(), v))
                    .collect()
            })
            .collect())
    }
}

/// A pattern's evaluated property map with its keys resolved: `None` for a `null` map (which
/// matches nothing); a key never interned (`None` id) matches nothing either.
type PropPairs = Option<Vec<(Option<KeyId>, Value)>>;

/// One top-level conjunct of a WHERE that an index could serve: `var.key <op> expr`.
struct Sarg<'e> {
    var: &'e str,
    key: &'e str,
    op: BinaryOp,
    other: &'e Expr,
}

fn mirror(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        o => o,
    }
}

/// `var.key` as written in a predicate.
fn var_property(e: &Expr) -> Option<(&str, &str)> {
    match &e.kind {
        ExprKind::Property(base, key) => match &base.kind {
            ExprKind::Variable(v) => Some((v.as_str(), key.name.as_str())),
            _ => None,
        },
        _ => None,
    }
}

/// The conjuncts of `e` (split on top-level AND) that have an index-servable shape.
fn sargs<'e>(e: &'e Expr, out: &mut Vec<Sarg<'e>>) {
    let ExprKind::Binary(op, a, b) = &e.kind else {
        return;
    };
    match op {
        BinaryOp::And => {
            sargs(a, out);
            sargs(b, out);
        }
        BinaryOp::In => {
            if let Some((var, key)) = var_property(a) {
                out.push(Sarg {
                    var,
                    key,
                    op: *op,
                    other: b,
                });
            }
        }
        BinaryOp::Eq | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            if let Some((var, key)) = var_property(a) {
                out.push(Sarg {
                    var,
                    key,
                    op: *op,
                    other: b,
                });
            } else if let Some((var, key)) = var_property(b) {
                out.push(Sarg {
                    var,
                    key,
                    op: mirror(*op),
                    other: a,
                });
            }
        }
        _ => {}
    }
}

/// Narrows `range` by one more bound of the same class; `None` when the classes differ
/// (then the caller keeps what it had: still a superset).
fn tighten(range: &KeyRange, op: BinaryOp, v: &Value) -> Option<KeyRange> {
    let (lower, upper) = match op {
        BinaryOp::Gt => (Bound::Excluded(v.clone()), Bound::Unbounded),
        BinaryOp::Ge => (Bound::Included(v.clone()), Bound::Unbounded),
        BinaryOp::Lt => (Bound::Unbounded, Bound::Excluded(v.clone())),
        BinaryOp::Le => (Bound::Unbounded, Bound::Included(v.clone())),
        _ => return None,
    };
    let fresh = KeyRange::within_class_of(v, lower, upper)?;
    let same_class = KeyRange::within_class_of(v, Bound::Unbounded, Bound::Unbounded)
        .is_some_and(|c| range_point(range).is_some_and(|p| c.contains(p)));
    if !same_class {
        return None;
    }
    // The tighter of each side.
    let lower = match (&range.lower, &fresh.lower) {
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            match key_cmp(a, b) {
                std::cmp::Ordering::Less => fresh.lower.clone(),
                std::cmp::Ordering::Greater => range.lower.clone(),
                std::cmp::Ordering::Equal => {
                    if matches!(fresh.lower, Bound::Excluded(_)) {
                        fresh.lower.clone()
                    } else {
                        range.lower.clone()
                    }
                }
            }
        }
        _ => fresh.lower.clone(),
    };
    let upper = match (&range.upper, &fresh.upper) {
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            match key_cmp(a, b) {
                std::cmp::Ordering::Greater => fresh.upper.clone(),
                std::cmp::Ordering::Less => range.upper.clone(),
                std::cmp::Ordering::Equal => {
                    if matches!(fresh.upper, Bound::Excluded(_)) {
                        fresh.upper.clone()
                    } else {
                        range.upper.clone()
                    }
                }
            }
        }
        _ => fresh.upper.clone(),
    };
    Some(KeyRange { lower, upper })
}

/// Some value a range's bounds are made of (to tell its class).
fn range_point(r: &KeyRange) -> Option<&Value> {
    match (&r.lower, &r.upper) {
        (Bound::Included(v) | Bound::Excluded(v), _)
        | (_, Bound::Included(v) | Bound::Excluded(v)) => Some(v),
        _ => None,
    }
}

/// Whether evaluating `e` could involve a subquery (whose variables `visit_expr` does not
/// show) or give a different value each time (`rand()`): such expressions are never
/// evaluated early for a seek, since the WHERE evaluates them per match.
fn has_subquery(e: &Expr) -> bool {
    let mut found = false;
    crate::cypher::plan::visit_expr(e, &mut |x| match &x.kind {
        ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_)
        | ExprKind::PatternComprehension { .. } => found = true,
        ExprKind::FunctionCall { name, .. }
            if name.eq_ignore_ascii_case("rand") || name.eq_ignore_ascii_case("randomUUID") =>
        {
            found = true
        }
        _ => {}
    });
    found
}

struct Searcher<'a, 'q> {
    ex: &'a Exec<'a>,
    cols: &'a [String],
    elems: &'a [ElemSpec<'q>],
    outer: Option<&'a dyn Bindings>,
    scans: &'a ScanCache,
    /// A WHERE applied to each complete match, so rejected matches are never collected.
    filter: Option<&'a Expr>,
    /// Which slots were bound before the search started.
    initially_bound: Vec<bool>,
    /// Property maps that depend only on bindings fixed for the whole search, evaluated
    /// once and their keys resolved (keyed by the expression's address).
    /// A pattern has a few property maps at most: a list searched linearly costs less than
    /// a hash table per search.
    prop_maps: RefCell<Vec<(usize, Rc<PropPairs>)>>,
    steps: Cell<u32>,
    /// Only counting complete matches (no WHERE, no path, not PROFILE): the last hop of the
    /// last element, when it leads to an unconstrained node, is counted without binding
    /// each relationship (see `walk`).
    count_leaves: bool,
    /// Matches counted that way.
    leaves: Cell<u64>,
}

impl Searcher<'_, '_> {
    /// PROFILE: one more row out of operator `op` of element `ei`.
    fn count_row(&self, ei: usize, op: usize) {
        if let Some(rows) = &self.ex.pattern_rows {
            *rows
                .borrow_mut()
                .entry((self.elems[ei].key, op))
                .or_default() += 1;
        }
    }

    fn tick(&self) -> Result<()> {
        let n = self.steps.get().wrapping_add(1);
        self.steps.set(n);
        if n % 4096 == 0 {
            self.ex.control.check()?;
        }
        Ok(())
    }

    fn label_scan(&self, l: Option<LabelId>) -> Rc<Vec<NodeId>> {
        if let Some(v) = self.scans.scans.borrow().get(&l) {
            return v.clone();
        }
        let tx = self.ex.tx.r();
        let v = Rc::new(match l {
            Some(l) => tx.scan_nodes_by_label(l),
            None => tx.scan_nodes(),
        });
        self.scans.scans.borrow_mut().insert(l, v.clone());
        v
    }

    /// Whether every pattern variable `e` mentions is bound in `st` (so it can be evaluated
    /// now), and whether it only uses bindings fixed before the search (so its value can be
    /// kept for the whole search).
    fn bound_now(&self, st: &State, e: &Expr) -> (bool, bool) {
        let (mut now, mut fixed) = (true, true);
        crate::cypher::plan::visit_expr(e, &mut |x| {
            if let ExprKind::Variable(v) = &x.kind {
                if let Some(i) = self.cols.iter().position(|c| c == v) {
                    if !self.initially_bound.get(i).copied().unwrap_or(false) {
                        fixed = false;
                    }
                    if st.slots[i].is_none() {
                        now = false;
                    }
                }
            }
        });
        (now, fixed)
    }

    /// Evaluates a pattern's property map and resolves its keys, once per search when it
    /// only uses bindings that were fixed before the search.
    fn prop_pairs(&self, st: &State, props: &Expr) -> Result<Rc<PropPairs>> {
        let addr = props as *const Expr as usize;
        if let Some((_, v)) = self.prop_maps.borrow().iter().find(|(a, _)| *a == addr) {
            return Ok(v.clone());
        }
        let b = SlotBindings {
            cols: self.cols,
            slots: &st.slots,
            outer: self.outer,
        };
        let tx = self.ex.tx.r();
        if let ExprKind::Map(entries) = &props.kind {
            // A literal map (the usual `{k: v}`): its values directly, without building the
            // map value. With a repeated key the map keeps the last value: the general path.
            if !entries
                .iter()
                .enumerate()
                .any(|(i, (k, _))| entries[..i].iter().any(|(j, _)| j.name == k.name))
            {
                let mut vals = Vec::with_capacity(entries.len());
                for (k, e) in entries {
                    vals.push((k, self.ex.eval(e, &b)?));
                }
                // The map's key order, as the general path sees it.
                if vals.len() > 1 {
                    vals.sort_by(|x, y| x.0.name.cmp(&y.0.name));
                }
                let uid = tx.catalog_uid();
                let pairs = Rc::new(Some(
                    vals.into_iter()
                        .map(|(k, v)| (k.cached.get_or(uid, || tx.key_id(&k.name)), v))
                        .collect(),
                ));
                if self.bound_now(st, props).1 {
                    self.prop_maps.borrow_mut().push((addr, pairs.clone()));
                }
                return Ok(pairs);
            }
        }
        let pairs = Rc::new(match self.ex.eval(props, &b)? {
            Value::Map(m) => Some(m.into_iter().map(|(k, v)| (tx.key_id(&k), v)).collect()),
            Value::Null => None,
            other => {
                return Err(Error::type_error(format!(
                    "a pattern's property constraint must be a map, but got a {}",
                    other.type_name()
                ))
                .at(props.span.line, props.span.column))
            }
        });
        if self.bound_now(st, props).1 {
            self.prop_maps.borrow_mut().push((addr, pairs.clone()));
        }
        Ok(pairs)
    }

    fn props_match(&self, st: &State, props: &Expr, get: &dyn Fn(KeyId) -> Value) -> Result<bool> {
        let pairs = self.prop_pairs(st, props)?;
        let Some(pairs) = &*pairs else {
            return Ok(false);
        };
        for (k, v) in pairs {
            let Some(k) = k else { return Ok(false) };
            if equals(&get(*k), v) != Some(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Evaluates `e` for a seek if it can be evaluated now; `None` otherwise (including when
    /// evaluating fails: the WHERE reports that error in its own time).
    fn seek_value(&self, st: &State, e: &Expr) -> Option<Value> {
        if has_subquery(e) || !self.bound_now(st, e).0 {
            return None;
        }
        let b = SlotBindings {
            cols: self.cols,
            slots: &st.slots,
            outer: self.outer,
        };
        self.ex.eval(e, &b).ok()
    }

    /// Node ids with `label` whose `key` equals one of `values`, through an index.
    fn seek_values(&self, label: LabelId, key: KeyId, values: &[Value]) -> Option<Vec<NodeId>> {
        let tx = self.ex.tx.r();
        if let [v] = values {
            return if v.is_null() {
                Some(Vec::new())
            } else {
                tx.index_seek(label, key, &KeyRange::eq(v.clone()))
            };
        }
        let mut out = Vec::new();
        for v in values {
            if v.is_null() {
                continue;
            }
            out.extend(tx.index_seek(label, key, &KeyRange::eq(v.clone()))?);
        }
        if values.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
        Some(out)
    }

    /// The best index seek for starting element `ei` (see the module comment): the node
    /// position, its candidates, and whether they are exactly the nodes that match that
    /// position (then binding them needs no check).
    fn index_start(&self, st: &State, ei: usize) -> Option<(usize, Vec<NodeId>, bool)> {
        let tx = self.ex.tx.r();
        let e = &self.elems[ei];
        let mut conj = Vec::new();
        if let Some(f) = self.filter {
            sargs(f, &mut conj);
        }
        // A transaction that records its reads for validation must record the node read
        // the check makes, so it always checks.
        let unrecorded = tx.kind() == crate::txn::TxnKind::ReadOnly
            || tx.isolation() == crate::txn::Isolation::Snapshot;
        let mut best: Option<(usize, Vec<NodeId>, bool)> = None;
        let mut consider_exact = |pos: usize, ids: Vec<NodeId>, exact: bool| {
            if best.as_ref().map_or(true, |(_, b, _)| ids.len() < b.len()) {
                best = Some((pos, ids, exact));
            }
        };
        for (pos, n) in e.nodes.iter().enumerate() {
            let Some(labels) = n.labels.as_ref().filter(|l| !l.is_empty()) else {
                continue;
            };
            // From the property map.
            if let Some(p) = n.props.as_deref() {
                if !has_subquery(p) && self.bound_now(st, p).0 {
                    if let Ok(pairs) = self.prop_pairs(st, p) {
                        if let Some(pairs) = &*pairs {
                            // `index_seek` gives exactly the visible nodes with the label
                            // whose value equals the key under index equality, which is
                            // Cypher's `=` for integers and strings: with one label and one
                            // key, the seek has done the whole check of this position.
                            let exact = unrecorded
                                && labels.len() == 1
                                && pairs.len() == 1
                                && pairs
                                    .iter()
                                    .all(|(_, v)| matches!(v, Value::Int(_) | Value::String(_)));
                            for (k, v) in pairs {
                                let Some(k) = k else { continue };
                                if !seekable(v) {
                                    continue;
                                }
                                for &l in labels {
                                    if let Some(ids) =
                                        self.seek_values(l, *k, std::slice::from_ref(v))
                                    {
                                        consider_exact(pos, ids, exact);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let mut consider = |pos: usize, ids: Vec<NodeId>| consider_exact(pos, ids, false);
            // From the WHERE.
            let Some(var) = n.slot.map(|s| self.cols[s].as_str()) else {
                continue;
            };
            let mut ranges: Vec<(KeyId, KeyRange)> = Vec::new();
            for c in conj.iter().filter(|c| c.var == var) {
                let Some(k) = tx.key_id(c.key) else { continue };
                if !labels.iter().any(|&l| tx.has_index(l, k)) {
                    continue;
                }
                let Some(v) = self.seek_value(st, c.other) else {
                    continue;
                };
                match c.op {
                    BinaryOp::Eq | BinaryOp::In => {
                        let values = match (c.op, v) {
                            (BinaryOp::Eq, v) => vec![v],
                            (_, Value::List(items)) => items,
                            _ => continue,
                        };
                        if !values.iter().all(|v| v.is_null() || seekable(v)) {
                            continue;
                        }
                        for &l in labels {
                            if let Some(ids) = self.seek_values(l, k, &values) {
                                consider(pos, ids);
                            }
                        }
                    }
                    op => {
                        if !matches!(
                            v,
                            Value::Int(_) | Value::Float(_) | Value::String(_) | Value::Bool(_)
                        ) || matches!(v, Value::Float(f) if f.is_nan())
                        {
                            // null, NaN or another type: the comparison is never true.
                            if v.is_null() || matches!(v, Value::Float(f) if f.is_nan()) {
                                consider(pos, Vec::new());
                            }
                            continue;
                        }
                        match ranges.iter_mut().find(|(rk, _)| *rk == k) {
                            Some((_, r)) => {
                                if let Some(t) = tighten(r, op, &v) {
                                    *r = t;
                                }
                            }
                            None => {
                                let full = KeyRange::within_class_of(
                                    &v,
                                    Bound::Unbounded,
                                    Bound::Unbounded,
                                );
                                if let Some(t) = full.and_then(|f| tighten(&f, op, &v)) {
                                    ranges.push((k, t));
                                }
                            }
                        }
                    }
                }
            }
            for (k, r) in ranges {
                for &l in labels {
                    if let Some(ids) = tx.index_seek(l, k, &r) {
                        consider(pos, ids);
                    }
                }
            }
        }
        best
    }

    /// Checks node `id` against position `pos` of element `ei` and binds it. Returns `None` when
    /// it does not match, else whether the variable slot was newly bound.
    fn bind_node(&self, st: &mut State, ei: usize, pos: usize, id: NodeId) -> Result<Option<bool>> {
        self.bind_node_checked(st, ei, pos, id, true)
    }

    /// [`Self::bind_node`]; `check: false` when `id` is known to have the position's labels
    /// and properties (an exact index seek found it).
    fn bind_node_checked(
        &self,
        st: &mut State,
        ei: usize,
        pos: usize,
        id: NodeId,
        check: bool,
    ) -> Result<Option<bool>> {
        let spec = &self.elems[ei].nodes[pos];
        let tx = self.ex.tx.r();
        let Some(ls) = &spec.labels else {
            return Ok(None);
        };
        let mut fresh = false;
        if let Some(s) = spec.slot {
            match &st.slots[s] {
                Some(Value::Node(b)) if *b == id => {}
                Some(_) => return Ok(None),
                None => fresh = true,
            }
        }
        let pairs = match spec.props.as_deref() {
            Some(p) if check => Some(self.prop_pairs(st, p)?),
            _ => None,
        };
        if check && (!ls.is_empty() || pairs.is_some()) {
            // One latch and one recorded read for the labels and every property.
            let ok = tx.with_node_ref(id, |n| {
                ls.iter().all(|&l| n.has_label(l))
                    && pairs.as_deref().map_or(true, |pairs| {
                        pairs.as_ref().is_some_and(|pairs| {
                            pairs.iter().all(|(k, v)| {
                                k.and_then(|k| n.prop(k))
                                    .is_some_and(|x| equals(&x, v) == Some(true))
                            })
                        })
                    })
            });
            if ok != Some(true) {
                return Ok(None);
            }
        }
        if let (Some(s), true) = (spec.slot, fresh) {
            st.slots[s] = Some(Value::Node(id));
        }
        st.nodes[ei][pos] = Some(id);
        Ok(Some(fresh))
    }

    fn unbind_node(&self, st: &mut State, ei: usize, pos: usize, fresh: bool) {
        st.nodes[ei][pos] = None;
        if fresh {
            if let Some(s) = self.elems[ei].nodes[pos].slot {
                st.slots[s] = None;
            }
        }
    }

    fn rel_props_ok(&self, st: &State, spec: &RelSpec<'_>, id: RelId) -> Result<bool> {
        match spec.props.as_deref() {
            None => Ok(true),
            Some(p) => {
                let tx = self.ex.tx.r();
                let get = |key: KeyId| tx.rel_property(id, key);
                self.props_match(st, p, &get)
            }
        }
    }

    /// Matches element `ei` and everything after it.
    fn elem(&self, st: &mut State, ei: usize, out: &mut Matches) -> Result<()> {
        if ei == self.elems.len() {
            if let (Matches::Count(n), None) = (&mut *out, self.filter) {
                *n += 1;
                return Ok(());
            }
            if let Matches::Project(items, rows) = out {
                // Every slot is bound once the whole pattern matched, so these bindings
                // see what a row built from them would show.
                let b = SlotBindings {
                    cols: self.cols,
                    slots: &st.slots,
                    outer: self.outer,
                };
                if let Some(pred) = self.filter {
                    if !self.ex.holds(pred, &b)? {
                        return Ok(());
                    }
                }
                let mut row = Vec::with_capacity(items.len());
                for e in items.iter() {
                    row.push(self.ex.eval(e, &b)?);
                }
                rows.push(row);
                return Ok(());
            }
            let row: Vec<Value> = st
                .slots
                .iter()
                .map(|s| s.clone().unwrap_or(Value::Null))
                .collect();
            if let Some(pred) = self.filter {
                let b = RowBindings {
                    cols: self.cols,
                    vals: &row,
                    outer: self.outer,
                };
                if !self.ex.holds(pred, &b)? {
                    return Ok(());
                }
            }
            match out {
                Matches::Rows(rows) | Matches::Project(_, rows) => rows.push(row),
                Matches::Count(n) => *n += 1,
            }
            return Ok(());
        }
        let e = &self.elems[ei];
        if e.selector != PathSelector::All {
            return self.shortest(st, ei, out);
        }
        self.elem_all(st, ei, &mut |s: &Searcher, st: &mut State| {
            s.elem(st, ei + 1, out)
        })
    }

    /// Enumerates the matches of element `ei`, calling `k` with the state bound for each.
    fn elem_all(
        &self,
        st: &mut State,
        ei: usize,
        k: &mut dyn FnMut(&Searcher, &mut State) -> Result<()>,
    ) -> Result<()> {
        let e = &self.elems[ei];
        let tx = self.ex.tx.r();
        // Start at a bound node when there is one, else the most selective label.
        let mut verified = false;
        let bound = e
            .nodes
            .iter()
            .position(|n| n.slot.is_some_and(|s| st.slots[s].is_some()));
        let (start, candidates): (usize, Candidates) = match bound {
            Some(pos) => {
                let s = e.nodes[pos].slot.unwrap_or_default();
                match &st.slots[s] {
                    Some(Value::Node(id)) if tx.node_exists(*id) => (pos, Candidates::One(*id)),
                    _ => return Ok(()),
                }
            }
            None if e.nodes.iter().any(|n| n.labels.is_none()) => return Ok(()),
            None => {
                if let Some((pos, ids, exact)) = self.index_start(st, ei) {
                    verified = exact;
                    (pos, Candidates::Own(ids))
                } else {
                    let mut best: Option<(usize, Rc<Vec<NodeId>>)> = None;
                    for (pos, n) in e.nodes.iter().enumerate() {
                        match &n.labels {
                            None => return Ok(()),
                            Some(ls) => {
                                for l in ls {
                                    let scan = self.label_scan(Some(*l));
                                    if best.as_ref().map_or(true, |(_, b)| scan.len() < b.len()) {
                                        best = Some((pos, scan));
                                    }
                                }
                            }
                        }
                    }
                    let (pos, scan) = best.unwrap_or_else(|| (0, self.label_scan(None)));
                    (pos, Candidates::Shared(scan))
                }
            }
        };
        let mut steps = Vec::with_capacity(e.rels.len());
        for j in start..e.rels.len() {
            steps.push(Step {
                rel: j,
                from: j,
                to: j + 1,
                reversed: false,
            });
        }
        for j in (0..start).rev() {
            steps.push(Step {
                rel: j,
                from: j + 1,
                to: j,
                reversed: true,
            });
        }
        for &id in candidates.as_slice() {
            self.tick()?;
            if let Some(fresh) = self.bind_node_checked(st, ei, start, id, !verified)? {
                self.count_row(ei, super::explain::START);
                self.walk(st, ei, &steps, 0, k)?;
                self.unbind_node(st, ei, start, fresh);
            }
        }
        Ok(())
    }

    fn finish_elem(
        &self,
        st: &mut State,
        ei: usize,
        k: &mut dyn FnMut(&Searcher, &mut State) -> Result<()>,
    ) -> Result<()> {
        let e = &self.elems[ei];
        match e.path_slot {
            None => k(self, st),
            Some(s) => {
                let path = self.build_path(st, ei);
                let prev = st.slots[s].take();
                if let Some(p) = &prev {
                    if *p != Value::Path(path.clone()) {
                        st.slots[s] = prev;
                        return Ok(());
                    }
                }
                st.slots[s] = Some(Value::Path(path));
                let r = k(self, st);
                st.slots[s] = prev;
                r
            }
        }
    }

    fn build_path(&self, st: &State, ei: usize) -> PathIds {
        let mut nodes = vec![st.nodes[ei][0].unwrap_or_default()];
        let mut rels = Vec::new();
        for (j, r) in st.rels[ei].iter().enumerate() {
            match r {
                Some(RelBind::One(id)) => rels.push(*id),
                Some(RelBind::Many(rs, inner)) => {
                    for (i, id) in rs.iter().enumerate() {
                        if i > 0 {
                            nodes.push(inner[i - 1]);
                        }
                        rels.push(*id);
                    }
                    if rs.is_empty() {
                        // A zero-length hop adds no step to the path.
                        continue;
                    }
                }
                None => {}
            }
            nodes.push(st.nodes[ei][j + 1].unwrap_or_default());
        }
        PathIds { nodes, rels }
    }

    fn walk(
        &self,
        st: &mut State,
        ei: usize,
        steps: &[Step],
        i: usize,
        k: &mut dyn FnMut(&Searcher, &mut State) -> Result<()>,
    ) -> Result<()> {
        let Some(step) = steps.get(i).copied() else {
            return self.finish_elem(st, ei, k);
        };
        let spec = &self.elems[ei].rels[step.rel];
        let Some(types) = &spec.types else {
            return Ok(());
        };
        let Some(from) = st.nodes[ei][step.from] else {
            return Ok(());
        };
        let dir = if step.reversed {
            reverse(spec.dir)
        } else {
            spec.dir
        };
        if self.count_leaves
            && ei + 1 == self.elems.len()
            && i + 1 == steps.len()
            && spec.var.is_none()
            && spec.slot.is_none()
            && spec.props.is_none()
        {
            let to = &self.elems[ei].nodes[step.to];
            if to.slot.is_none()
                && to.props.is_none()
                && to.labels.as_ref().is_some_and(|l| l.is_empty())
            {
                // Each relationship not used yet completes one match (binding its other
                // end checks nothing): count them.
                self.tick()?;
                let tx = self.ex.tx.r();
                let n = tx
                    .expand(from, dir, types)
                    .iter()
                    .filter(|(rid, _)| !st.used.contains(rid))
                    .count();
                self.leaves.set(self.leaves.get() + n as u64);
                return Ok(());
            }
        }
        if let Some((min, max)) = spec.var {
            let mut rels = Vec::new();
            let mut inner = Vec::new();
            return self.var_walk(
                st, ei, steps, i, k, step, spec, types, dir, from, min, max, &mut rels, &mut inner,
            );
        }
        let tx = self.ex.tx.r();
        for (rid, other) in tx.expand(from, dir, types) {
            self.tick()?;
            if st.used.contains(&rid) {
                continue;
            }
            let mut fresh_rel = false;
            if let Some(s) = spec.slot {
                match &st.slots[s] {
                    Some(Value::Relationship(b)) if *b == rid => {}
                    Some(_) => continue,
                    None => fresh_rel = true,
                }
            }
            if !self.rel_props_ok(st, spec, rid)? {
                continue;
            }
            let Some(fresh_node) = self.bind_node(st, ei, step.to, other)? else {
                continue;
            };
            if fresh_rel {
                if let Some(s) = spec.slot {
                    st.slots[s] = Some(Value::Relationship(rid));
                }
            }
            st.used.push(rid);
            st.rels[ei][step.rel] = Some(RelBind::One(rid));
            self.count_row(ei, step.rel);
            let r = self.walk(st, ei, steps, i + 1, k);
            st.rels[ei][step.rel] = None;
            st.used.pop();
            if fresh_rel {
                if let Some(s) = spec.slot {
                    st.slots[s] = None;
                }
            }
            self.unbind_node(st, ei, step.to, fresh_node);
            r?;
        }
        Ok(())
    }

    /// Depth-first expansion of a variable-length relationship; `rels` holds the hops taken
    /// so far in walking order and `inner[i]` the node reached by hop `i`.
    #[allow(clippy::too_many_arguments)]
    fn var_walk(
        &self,
        st: &mut State,
        ei: usize,
        steps: &[Step],
        i: usize,
        k: &mut dyn FnMut(&Searcher, &mut State) -> Result<()>,
        step: Step,
        spec: &RelSpec<'_>,
        types: &[TypeId],
        dir: Direction,
        cur: NodeId,
        min: u64,
        max: Option<u64>,
        rels: &mut Vec<RelId>,
        inner: &mut Vec<NodeId>,
    ) -> Result<()> {
        self.tick()?;
        let depth = rels.len() as u64;
        if depth >= min {
            // In pattern order: a walk against the pattern's direction is reversed.
            let between = &inner[..inner.len().saturating_sub(1)];
            let (prs, pinner) = if step.reversed {
                let mut r = rels.clone();
                r.reverse();
                let mut n = between.to_vec();
                n.reverse();
                (r, n)
            } else {
                (rels.clone(), between.to_vec())
            };
            let list = Value::List(prs.iter().map(|r| Value::Relationship(*r)).collect());
            let mut ok = true;
            let mut fresh_rel = false;
            if let Some(s) = spec.slot {
                match &st.slots[s] {
                    Some(v) => ok = *v == list,
                    None => fresh_rel = true,
                }
            }
            if ok {
                if let Some(fresh_node) = self.bind_node(st, ei, step.to, cur)? {
                    if fresh_rel {
                        if let Some(s) = spec.slot {
                            st.slots[s] = Some(list);
                        }
                    }
                    st.rels[ei][step.rel] = Some(RelBind::Many(prs, pinner));
                    self.count_row(ei, step.rel);
                    let r = self.walk(st, ei, steps, i + 1, k);
                    st.rels[ei][step.rel] = None;
                    if fresh_rel {
                        if let Some(s) = spec.slot {
                            st.slots[s] = None;
                        }
                    }
                    self.unbind_node(st, ei, step.to, fresh_node);
                    r?;
                }
            }
        }
        if max.is_some_and(|m| depth >= m) {
            return Ok(());
        }
        let tx = self.ex.tx.r();
        for (rid, other) in tx.expand(cur, dir, types) {
            if st.used.contains(&rid) || !self.rel_props_ok(st, spec, rid)? {
                continue;
            }
            st.used.push(rid);
            rels.push(rid);
            inner.push(other);
            let r = self.var_walk(
                st, ei, steps, i, k, step, spec, types, dir, other, min, max, rels, inner,
            );
            inner.pop();
            rels.pop();
            st.used.pop();
            r?;
        }
        Ok(())
    }

    /// shortestPath / allShortestPaths: the matches of element `ei` with the fewest
    /// relationships for each pair of end nodes (one of them, or all).
    fn shortest(&self, st: &mut State, ei: usize, out: &mut Matches) -> Result<()> {
        let e = &self.elems[ei];
        let single = e.selector == PathSelector::Shortest;
        // Collect every match of this element as a snapshot of the state.
        let mut found: Vec<(usize, (NodeId, NodeId), State)> = Vec::new();
        self.elem_all(st, ei, &mut |s: &Searcher, st: &mut State| {
            let p = s.build_path(st, ei);
            let ends = (
                p.nodes.first().copied().unwrap_or_default(),
                p.nodes.last().copied().unwrap_or_default(),
            );
            found.push((
                p.rels.len(),
                ends,
                State {
                    slots: st.slots.clone(),
                    used: st.used.clone(),
                    nodes: st.nodes.clone(),
                    rels: st.rels.clone(),
                },
            ));
            Ok(())
        })?;
        let mut best: HashMap<(NodeId, NodeId), usize> = HashMap::new();
        for (len, ends, _) in &found {
            let b = best.entry(*ends).or_insert(*len);
            if *len < *b {
                *b = *len;
            }
        }
        let mut taken: HashMap<(NodeId, NodeId), bool> = HashMap::new();
        for (len, ends, mut s) in found {
            if best.get(&ends) != Some(&len) {
                continue;
            }
            if single {
                if taken.contains_key(&ends) {
                    continue;
                }
                taken.insert(ends, true);
            }
            self.elem(&mut s, ei + 1, out)?;
        }
        Ok(())
    }
}

/// The nodes a pattern element may start at: one bound node, the ids an index seek found
/// for this search, or a label scan shared by the whole search (`ScanCache`). Only the
/// shared scan is reference-counted: the other two cost at most the seek's own vector.
enum Candidates {
    One(NodeId),
    Own(Vec<NodeId>),
    Shared(Rc<Vec<NodeId>>),
}

impl Candidates {
    fn as_slice(&self) -> &[NodeId] {
        match self {
            Candidates::One(id) => std::slice::from_ref(id),
            Candidates::Own(ids) => ids,
            Candidates::Shared(ids) => ids,
        }
    }
}
