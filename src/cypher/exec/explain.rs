//! EXPLAIN and PROFILE: the query's operator tree as a result table.
//!
//! The tree follows the executor's real structure: one operator per clause, each consuming the
//! clause before it (the root is `ProduceResults`, or `EmptyResult` for a query without
//! RETURN), and under MATCH/MERGE the pattern access the matcher performs: where each pattern
//! part starts ([`pattern_access`]: an already bound node, an index seek, the smallest label
//! scan, or all nodes) and the expansions it walks from there. PROFILE runs the query (its changes apply)
//! and fills in, per clause operator, the rows it produced and the time spent in it (summed
//! over every time it ran: LOAD CSV batches, FOREACH bodies).
//!
//! Result columns: `operator` (indented two spaces per depth, so the column reads as a tree),
//! `details`, `depth`; PROFILE adds `rows` and `time_ms` (null where not measured, e.g. the
//! operators inside a MATCH, which run interleaved).

use std::collections::HashMap;
use std::time::Duration;

use super::pattern::ElemSpec;
use super::Exec;
use crate::cypher::ast::{
    Clause, Expr, ExprKind, Literal, NodePattern, PathSelector, Pattern, PatternPart, Projection,
    Query, RelDirection, RelPattern, SingleQuery,
};
use crate::cypher::QueryOutput;
use crate::value::Value;

/// Rows produced and time spent per clause, keyed by the clause's address in the AST.
pub(crate) type ProfileStats = HashMap<usize, (u64, Duration)>;

/// PROFILE: rows produced inside pattern matching, keyed by (address of the pattern
/// element, relationship position), or [`START`] for the start operator. Counted by the
/// matcher; only allocated under PROFILE, so plain runs pay one `is_some` per binding.
pub(crate) type PatternRows = std::cell::RefCell<HashMap<(usize, usize), u64>>;

/// The key of a pattern's start operator (its scan, seek or argument) in [`PatternRows`].
pub(crate) const START: usize = usize::MAX;

pub(crate) fn clause_key(c: &Clause) -> usize {
    c as *const Clause as usize
}

/// One operator of the tree.
struct Op {
    name: String,
    details: String,
    /// Rows produced and time, when measured.
    measured: Option<(u64, Duration)>,
    /// Rows alone: operators inside pattern matching, whose time is their clause's (the
    /// matcher interleaves them depth-first, so a separate time would be meaningless).
    rows: Option<u64>,
    children: Vec<Op>,
}

impl Op {
    fn new(name: &str, details: impl Into<String>) -> Op {
        Op {
            name: name.to_owned(),
            details: details.into(),
            measured: None,
            rows: None,
            children: Vec::new(),
        }
    }
}

/// How the matcher starts one pattern part. Mirrors the choice in the matcher
/// (`Searcher::elem_all` and `index_start` in pattern.rs): a node bound before the clause;
/// else an index seek when a node position's label has an index on a key its property map
/// or a top-level WHERE conjunct (`v.k = x`, `IN`, `<`, `<=`, `>`, `>=`) constrains (the
/// matcher takes the seek with the fewest results, known only when it runs, so the first
/// candidate is shown); else the label with the fewest nodes; else every node.
pub(crate) enum Access {
    /// Starts from a node bound earlier (`pos` in the part).
    Argument {
        pos: usize,
    },
    NodeIndexSeek {
        pos: usize,
        label: String,
        key: String,
    },
    NodeByLabelScan {
        pos: usize,
        label: String,
        nodes: usize,
    },
    AllNodesScan,
    /// A label or type that does not exist yet: nothing can match.
    Empty,
}

/// The property keys a top-level WHERE conjunct constrains on variable `var` in a form an
/// index can serve: the other side may only use variables `bound` before the pattern part
/// is matched, since the seek value is computed then.
fn where_keys(e: &Expr, var: &str, bound: &[String], out: &mut Vec<String>) {
    use crate::cypher::ast::BinaryOp::*;
    let ExprKind::Binary(op, a, b) = &e.kind else {
        return;
    };
    if *op == And {
        where_keys(a, var, bound, out);
        where_keys(b, var, bound, out);
        return;
    }
    let key_of = |x: &Expr| match &x.kind {
        ExprKind::Property(t, k) if matches!(&t.kind, ExprKind::Variable(v) if v == var) => {
            Some(k.name.clone())
        }
        _ => None,
    };
    let computable = |x: &Expr| {
        let mut ok = true;
        crate::cypher::plan::visit_expr(x, &mut |y| {
            if let ExprKind::Variable(v) = &y.kind {
                ok &= bound.contains(v);
            }
            ok &= !crate::cypher::plan::reads_graph(y);
        });
        ok
    };
    let sides = match op {
        Eq | Lt | Le | Gt | Ge => [(a, b), (b, a)].into_iter().take(2),
        In => [(a, b), (a, b)].into_iter().take(1),
        _ => return,
    };
    for (this, other) in sides {
        if let Some(k) = key_of(this) {
            if computable(other) {
                out.push(k);
                return;
            }
        }
    }
}

pub(crate) fn pattern_access(
    ex: &Exec<'_>,
    spec: &ElemSpec<'_>,
    nodes: &[&NodePattern],
    where_: Option<&Expr>,
    bound_names: &[String],
    bound: &dyn Fn(usize) -> bool,
) -> Access {
    if let Some(pos) = spec.nodes.iter().position(|n| n.slot.is_some_and(bound)) {
        return Access::Argument { pos };
    }
    let tx = ex.tx.r();
    if spec.nodes.iter().any(|n| n.labels.is_none()) {
        return Access::Empty;
    }
    for (pos, (n, pat)) in spec.nodes.iter().zip(nodes).enumerate() {
        let mut keys: Vec<String> = Vec::new();
        if let Some(ExprKind::Map(entries)) = pat.properties.as_ref().map(|p| &p.kind) {
            keys.extend(entries.iter().map(|(k, _)| k.name.clone()));
        }
        if let (Some(w), Some(v)) = (where_, &pat.variable) {
            where_keys(w, &v.name, bound_names, &mut keys);
        }
        for l in n.labels.iter().flatten() {
            for k in &keys {
                if tx.key_id(k).is_some_and(|kid| tx.has_index(*l, kid)) {
                    return Access::NodeIndexSeek {
                        pos,
                        label: tx.label_name(*l).to_string(),
                        key: k.clone(),
                    };
                }
            }
        }
    }
    let mut best: Option<(usize, String, usize)> = None;
    for (pos, n) in spec.nodes.iter().enumerate() {
        for l in n.labels.iter().flatten() {
            let count = tx.scan_nodes_by_label(*l).len();
            if best.as_ref().map_or(true, |(_, _, b)| count < *b) {
                best = Some((pos, tx.label_name(*l).to_string(), count));
            }
        }
    }
    match best {
        Some((pos, label, nodes)) => Access::NodeByLabelScan { pos, label, nodes },
        None => Access::AllNodesScan,
    }
}

/// A short rendering of an expression for the details column (not a full printer: larger
/// expressions are abbreviated).
fn show_expr(e: &Expr, budget: usize) -> String {
    if budget == 0 {
        return "…".into();
    }
    let sub = |x: &Expr| show_expr(x, budget - 1);
    match &e.kind {
        ExprKind::Literal(l) => match l {
            Literal::Null => "null".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) => f.to_string(),
            Literal::String(s) => format!("'{}'", s.replace('\'', "\\'")),
        },
        ExprKind::Parameter(p) => format!("${p}"),
        ExprKind::Variable(v) => v.clone(),
        ExprKind::Property(x, k) => format!("{}.{}", sub(x), k.name),
        ExprKind::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", k.name, sub(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ExprKind::List(items) => {
            format!("[{}]", items.iter().map(sub).collect::<Vec<_>>().join(", "))
        }
        ExprKind::FunctionCall { name, args, .. } => format!(
            "{name}({})",
            args.iter().map(sub).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::CountStar => "count(*)".into(),
        ExprKind::Binary(op, a, b) => {
            use crate::cypher::ast::BinaryOp::*;
            let o = match op {
                Or => "OR",
                Xor => "XOR",
                And => "AND",
                Eq => "=",
                Ne => "<>",
                Lt => "<",
                Le => "<=",
                Gt => ">",
                Ge => ">=",
                Add => "+",
                Sub => "-",
                Mul => "*",
                Div => "/",
                Mod => "%",
                Pow => "^",
                In => "IN",
                StartsWith => "STARTS WITH",
                EndsWith => "ENDS WITH",
                Contains => "CONTAINS",
                RegexMatch => "=~",
            };
            format!("{} {o} {}", sub(a), sub(b))
        }
        ExprKind::Unary(op, x) => {
            use crate::cypher::ast::UnaryOp;
            let o = match op {
                UnaryOp::Not => "NOT ",
                UnaryOp::Neg => "-",
                UnaryOp::Pos => "+",
            };
            format!("{o}{}", sub(x))
        }
        ExprKind::IsNull { expr, negated } => format!(
            "{} IS {}NULL",
            sub(expr),
            if *negated { "NOT " } else { "" }
        ),
        ExprKind::HasLabels(x, ls) => format!(
            "{}:{}",
            sub(x),
            ls.iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>()
                .join(":")
        ),
        ExprKind::Index(a, b) => format!("{}[{}]", sub(a), sub(b)),
        _ => "…".into(),
    }
}

fn show_node(n: &NodePattern) -> String {
    let mut s = String::from("(");
    if let Some(v) = &n.variable {
        s.push_str(&v.name);
    }
    for l in &n.labels {
        s.push(':');
        s.push_str(&l.name);
    }
    if let Some(p) = &n.properties {
        s.push(' ');
        s.push_str(&show_expr(p, 3));
    }
    s.push(')');
    s
}

fn show_rel(r: &RelPattern, reversed: bool) -> String {
    let mut inner = String::new();
    if let Some(v) = &r.variable {
        inner.push_str(&v.name);
    }
    if !r.types.is_empty() {
        inner.push(':');
        inner.push_str(
            &r.types
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join("|"),
        );
    }
    if let Some(l) = r.length {
        inner.push('*');
        match (l.min, l.max) {
            (Some(a), Some(b)) if a == b => inner.push_str(&a.to_string()),
            (a, b) => {
                if let Some(a) = a {
                    inner.push_str(&a.to_string());
                }
                inner.push_str("..");
                if let Some(b) = b {
                    inner.push_str(&b.to_string());
                }
            }
        }
    }
    if let Some(p) = &r.properties {
        inner.push(' ');
        inner.push_str(&show_expr(p, 3));
    }
    let dir = match (r.direction, reversed) {
        (RelDirection::Both, _) => RelDirection::Both,
        (RelDirection::Right, false) | (RelDirection::Left, true) => RelDirection::Right,
        _ => RelDirection::Left,
    };
    match dir {
        RelDirection::Right => format!("-[{inner}]->"),
        RelDirection::Left => format!("<-[{inner}]-"),
        RelDirection::Both => format!("-[{inner}]-"),
    }
}

fn show_pattern(p: &Pattern) -> String {
    p.parts
        .iter()
        .map(|part| {
            let mut s = String::new();
            if let Some(v) = &part.variable {
                s.push_str(&v.name);
                s.push_str(" = ");
            }
            s.push_str(&show_node(&part.element.start));
            for (r, n) in &part.element.chain {
                s.push_str(&show_rel(r, false));
                s.push_str(&show_node(n));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_projection(p: &Projection) -> String {
    let mut parts: Vec<String> = Vec::new();
    if p.star {
        parts.push("*".into());
    }
    parts.extend(p.items.iter().map(|i| match &i.alias {
        Some(a) if a.name != i.text => format!("{} AS {}", i.text, a.name),
        _ => i.text.clone(),
    }));
    let mut s = parts.join(", ");
    if !p.order_by.is_empty() {
        s.push_str(" ORDER BY ");
        s.push_str(
            &p.order_by
                .iter()
                .map(|o| {
                    format!(
                        "{}{}",
                        show_expr(&o.expr, 3),
                        if o.descending { " DESC" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if let Some(x) = &p.skip {
        s.push_str(&format!(" SKIP {}", show_expr(x, 2)));
    }
    if let Some(x) = &p.limit {
        s.push_str(&format!(" LIMIT {}", show_expr(x, 2)));
    }
    s
}

/// The operator name of a WITH/RETURN: what kind of work the projection does.
fn projection_op(p: &Projection, is_return: bool) -> &'static str {
    let agg = p
        .items
        .iter()
        .any(|i| crate::cypher::plan::contains_aggregate(&i.expr));
    match (agg, p.distinct, !p.order_by.is_empty(), is_return) {
        (true, _, _, _) => "EagerAggregation",
        (_, true, _, _) => "Distinct",
        (_, _, true, _) => "Sort",
        _ => "Projection",
    }
}

impl Exec<'_> {
    /// The pattern access of one MATCH or MERGE pattern over the variables in `cols`: per
    /// part, the start operator with the expansions walked from it as its parents.
    fn pattern_ops(
        &self,
        parts: &[&PatternPart],
        where_: Option<&Expr>,
        cols: &mut Vec<String>,
    ) -> Vec<Op> {
        let mut ops = Vec::new();
        for part in parts {
            let before = cols.len();
            let spec = self.compile_part(part, cols);
            let el = &part.element;
            let counted = |op: usize| {
                self.pattern_rows
                    .as_ref()
                    .map(|r| r.borrow().get(&(spec.key, op)).copied().unwrap_or(0))
            };
            let nodes: Vec<&NodePattern> = std::iter::once(&el.start)
                .chain(el.chain.iter().map(|(_, n)| n))
                .collect();
            let var = |pos: usize| {
                nodes[pos]
                    .variable
                    .as_ref()
                    .map_or_else(|| format!("anon_{pos}"), |v| v.name.clone())
            };
            let bound_names = &cols[..before];
            let access = pattern_access(self, &spec, &nodes, where_, bound_names, &|slot| {
                slot < before
            });
            let (start, mut op) = match access {
                Access::Argument { pos } => (pos, Op::new("Argument", var(pos))),
                Access::NodeIndexSeek { pos, label, key } => (
                    pos,
                    Op::new("NodeIndexSeek", format!("{}:{label}({key})", var(pos))),
                ),
                Access::NodeByLabelScan { pos, label, nodes } => (
                    pos,
                    Op::new(
                        "NodeByLabelScan",
                        format!("{}:{label} ({nodes} nodes)", var(pos)),
                    ),
                ),
                Access::AllNodesScan => (0, Op::new("AllNodesScan", var(0))),
                Access::Empty => {
                    ops.push(Op::new(
                        "EmptyResult",
                        "a label or type in the pattern does not exist: nothing can match",
                    ));
                    continue;
                }
            };
            if nodes[start].properties.is_some() || nodes[start].labels.len() > 1 {
                let mut f = Op::new("Filter", show_node(nodes[start]));
                f.children.push(op);
                op = f;
            }
            // The start operator (with its filter) counts the start nodes that passed.
            op.rows = counted(START);
            // The matcher walks right from the start, then left.
            let steps = (start..el.chain.len())
                .map(|j| (j, j, j + 1, false))
                .chain((0..start).rev().map(|j| (j, j + 1, j, true)));
            let mut bound_nodes: Vec<bool> = spec
                .nodes
                .iter()
                .map(|n| n.slot.is_some_and(|s| s < before))
                .collect();
            bound_nodes[start] = true;
            for (rel, from, to, reversed) in steps {
                let r = &el.chain[rel].0;
                let kind = match (r.length.is_some(), bound_nodes[to]) {
                    (true, true) => "VarLengthExpand(Into)",
                    (true, false) => "VarLengthExpand(All)",
                    (false, true) => "Expand(Into)",
                    (false, false) => "Expand(All)",
                };
                bound_nodes[to] = true;
                let details = format!(
                    "({}){}{}",
                    var(from),
                    show_rel(r, reversed),
                    show_node(nodes[to])
                );
                let mut e = Op::new(kind, details);
                e.rows = counted(rel);
                e.children.push(op);
                op = e;
            }
            if spec.selector != PathSelector::All {
                let name = if spec.selector == PathSelector::Shortest {
                    "ShortestPath"
                } else {
                    "AllShortestPaths"
                };
                let mut s = Op::new(name, part.variable.as_ref().map_or("", |v| &v.name));
                s.children.push(op);
                op = s;
            }
            ops.push(op);
        }
        ops
    }

    /// The operator tree of one single query, root first.
    fn single_ops(&self, q: &SingleQuery, stats: Option<&ProfileStats>) -> Op {
        let mut cols: Vec<String> = Vec::new();
        let mut input: Option<Op> = None;
        let mut returns = false;
        for c in &q.clauses {
            let mut op = match c {
                Clause::Match(m) => {
                    let parts: Vec<&PatternPart> = m.pattern.parts.iter().collect();
                    let mut op = Op::new(
                        if m.optional { "OptionalMatch" } else { "Match" },
                        show_pattern(&m.pattern),
                    );
                    op.children = self.pattern_ops(&parts, m.where_.as_ref(), &mut cols);
                    if let Some(w) = &m.where_ {
                        op.details.push_str(&format!(" WHERE {}", show_expr(w, 4)));
                    }
                    op
                }
                Clause::Merge(m) => {
                    let mut op = Op::new(
                        "Merge",
                        show_pattern(&Pattern {
                            parts: vec![m.part.clone()],
                            span: m.span,
                        }),
                    );
                    op.children = self.pattern_ops(&[&m.part], None, &mut cols);
                    op
                }
                Clause::Unwind(u) => {
                    if !cols.contains(&u.alias.name) {
                        cols.push(u.alias.name.clone());
                    }
                    Op::new(
                        "Unwind",
                        format!("{} AS {}", show_expr(&u.expr, 3), u.alias.name),
                    )
                }
                Clause::With(w) => {
                    let mut op = Op::new(
                        projection_op(&w.projection, false),
                        show_projection(&w.projection),
                    );
                    if let Some(x) = &w.where_ {
                        op.details.push_str(&format!(" WHERE {}", show_expr(x, 4)));
                    }
                    project_cols(&mut cols, &w.projection);
                    op
                }
                Clause::Return(r) => {
                    returns = true;
                    project_cols(&mut cols, &r.projection);
                    // The batch engine runs the whole part (see batch/mod.rs).
                    match super::batch::compile_clauses(&q.clauses).filter(|b| {
                        stats.is_none() && super::batch::would_run(b, self.tx.r(), self.params)
                    }) {
                        Some(_) => Op::new(
                            "BatchAggregation",
                            format!(
                                "{} (batch engine: scan, expand, filter and aggregate {} rows \
                                 at a time)",
                                show_projection(&r.projection),
                                super::batch::BATCH
                            ),
                        ),
                        None => Op::new(
                            projection_op(&r.projection, true),
                            show_projection(&r.projection),
                        ),
                    }
                }
                Clause::Create(cr) => {
                    for part in &cr.pattern.parts {
                        self.compile_part(part, &mut cols);
                    }
                    Op::new("Create", show_pattern(&cr.pattern))
                }
                Clause::Set(s) => Op::new("SetProperties", format!("{} item(s)", s.items.len())),
                Clause::Remove(r) => Op::new("Remove", format!("{} item(s)", r.items.len())),
                Clause::Delete(d) => Op::new(
                    if d.detach { "DetachDelete" } else { "Delete" },
                    d.exprs
                        .iter()
                        .map(|e| show_expr(e, 3))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Clause::Foreach(f) => Op::new(
                    "Foreach",
                    format!("{} IN {}", f.variable.name, show_expr(&f.list, 3)),
                ),
                Clause::Call(call) => {
                    if let Some(items) = &call.yield_items {
                        for y in items {
                            cols.push(y.alias.as_ref().unwrap_or(&y.field).name.clone());
                        }
                    }
                    let args = call.args.as_ref().map_or("(implicit)".to_owned(), |a| {
                        format!(
                            "({})",
                            a.iter()
                                .map(|x| show_expr(x, 3))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    });
                    Op::new(
                        "ProcedureCall",
                        format!("{}{args}", call.procedure.join(".")),
                    )
                }
                Clause::LoadCsv(l) => {
                    if !cols.contains(&l.alias.name) {
                        cols.push(l.alias.name.clone());
                    }
                    Op::new(
                        "LoadCSV",
                        format!(
                            "{}{} AS {} (batches of {})",
                            if l.with_headers { "WITH HEADERS " } else { "" },
                            show_expr(&l.url, 2),
                            l.alias.name,
                            super::load_csv::BATCH_ROWS
                        ),
                    )
                }
            };
            op.measured = stats.map(|s| s.get(&clause_key(c)).copied().unwrap_or_default());
            if let Some(prev) = input.take() {
                op.children.push(prev);
            }
            input = Some(op);
        }
        let mut root = Op::new(
            if returns {
                "ProduceResults"
            } else {
                "EmptyResult"
            },
            if returns {
                cols.join(", ")
            } else {
                String::new()
            },
        );
        if let Some(i) = input {
            let produced = if returns {
                i.measured.map_or(0, |(rows, _)| rows)
            } else {
                0
            };
            root.measured = stats.map(|_| (produced, Duration::ZERO));
            root.children.push(i);
        }
        root
    }

    /// The whole query's tree: a UNION joins its parts.
    fn query_ops(&self, q: &Query, stats: Option<&ProfileStats>) -> Op {
        if q.parts.len() == 1 {
            return self.single_ops(&q.parts[0], stats);
        }
        let all = q.union_all.first().copied().unwrap_or(false);
        let mut op = Op::new(if all { "UnionAll" } else { "Union" }, "");
        op.children = q.parts.iter().map(|p| self.single_ops(p, stats)).collect();
        op
    }

    /// The plan as a result table (see the module comment for its columns).
    pub(crate) fn plan_table(&self, q: &Query, stats: Option<&ProfileStats>) -> QueryOutput {
        let root = self.query_ops(q, stats);
        let mut rows = Vec::new();
        flatten(&root, 0, stats.is_some(), &mut rows);
        let mut columns: Vec<String> = ["operator", "details", "depth"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if stats.is_some() {
            columns.push("rows".into());
            columns.push("time_ms".into());
        }
        QueryOutput {
            columns,
            rows,
            stats: self.stats,
        }
    }
}

fn project_cols(cols: &mut Vec<String>, p: &Projection) {
    let mut next: Vec<String> = if p.star { cols.clone() } else { Vec::new() };
    for i in &p.items {
        let n = i.name().to_owned();
        if !next.contains(&n) {
            next.push(n);
        }
    }
    *cols = next;
}

fn flatten(op: &Op, depth: usize, profile: bool, out: &mut Vec<Vec<Value>>) {
    let mut row = vec![
        Value::String(format!("{}{}", "  ".repeat(depth), op.name)),
        Value::String(op.details.clone()),
        Value::Int(i64::try_from(depth).unwrap_or(i64::MAX)),
    ];
    if profile {
        match op.measured {
            Some((rows, time)) => {
                row.push(Value::Int(i64::try_from(rows).unwrap_or(i64::MAX)));
                row.push(Value::Float(time.as_secs_f64() * 1000.0));
            }
            None => {
                row.push(op.rows.map_or(Value::Null, |n| {
                    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
                }));
                row.push(Value::Null);
            }
        }
    }
    out.push(row);
    for c in &op.children {
        flatten(c, depth + 1, profile, out);
    }
}
