//! Which statements the batch executor runs: `MATCH chain [WHERE w] RETURN items` compiled
//! from the syntax tree into a [`BatchPlan`], or `None` (the row engine runs it).
//!
//! The class, and why each limit is there:
//! - one pattern part, no path variable, no shortest path: a node followed by single-hop
//!   relationships (any types, any direction; at most [`MAX_HOPS`]), every variable named at
//!   most once (a repeated
//!   variable is a join the row engine does), no property maps (the row engine's map
//!   matching, with its index use, stays the one implementation of it);
//! - WHERE: comparisons (`= <> < <= > >=`), `AND OR XOR NOT`, `IS [NOT] NULL`, `n:Label`,
//!   literals; over operands that are literals, parameters, `v.key`, `id(v)` and `v`.
//!   Nothing in this class can raise an error (comparisons answer null for incomparable
//!   values; every boolean operator gets a boolean or null), so evaluating a whole batch
//!   without the row engine's short-circuits gives the same answers;
//! - RETURN: at least one aggregate (`count(*)`, `count/sum/avg/min/max/collect/stdev/
//!   stdevp([DISTINCT] operand)`); other items are grouping keys, each an operand. No
//!   DISTINCT, ORDER BY, SKIP or LIMIT.
//!
//! Names (labels, types, keys) stay names here: they are resolved at each run, so a plan
//! cached by a prepared statement never holds an id for a name created after it.

use std::collections::HashMap;

use crate::cypher::aggregate::contains_aggregate;
use crate::cypher::ast::{
    BinaryOp, Clause, Expr, ExprKind, Ident, Literal, Match, PathSelector, Return, UnaryOp,
};
use crate::storage::Direction;
use crate::value::Value;

/// A compiled batch statement (see the module comment).
#[derive(Debug)]
pub(crate) struct BatchPlan {
    /// Labels of each node position, in walk order (the scan starts at position 0).
    pub nodes: Vec<Vec<Ident>>,
    /// `hops[i]` leads from node position `i` to `i + 1`.
    pub hops: Vec<Hop>,
    pub filter: Option<Pred>,
    pub items: Vec<Item>,
    pub columns: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Hop {
    /// Seen from node position `i`.
    pub dir: Direction,
    pub types: Vec<Ident>,
}

/// A pattern variable: a node position or a hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Var {
    Node(usize),
    Rel(usize),
}

/// A value per row.
#[derive(Debug)]
pub(crate) enum Operand {
    Const(Value),
    Param(String),
    Prop(Var, Ident),
    Id(Var),
    Entity(Var),
}

/// A three-valued predicate per row.
#[derive(Debug)]
pub(crate) enum Pred {
    Const(Option<bool>),
    Cmp(BinaryOp, Operand, Operand),
    /// `operand IS NULL` (`true`: `IS NOT NULL`).
    IsNull(Operand, bool),
    /// Node position has every label.
    Labels(usize, Vec<Ident>),
    Not(Box<Pred>),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Xor(Box<Pred>, Box<Pred>),
}

/// One RETURN item.
#[derive(Debug)]
pub(crate) enum Item {
    CountStar,
    /// An aggregate function (lowercase name) over an operand.
    Agg {
        name: String,
        distinct: bool,
        arg: Operand,
    },
    /// A grouping key.
    Key(Operand),
}

/// The longest chain run batch at a time.
pub(crate) const MAX_HOPS: usize = 8;

const AGGREGATES: &[&str] = &[
    "count", "sum", "avg", "min", "max", "collect", "stdev", "stdevp",
];

/// The batch plan of a query part made of exactly `clauses`, if it is in the class.
pub(crate) fn compile_clauses(clauses: &[Clause]) -> Option<BatchPlan> {
    match clauses {
        [Clause::Match(m), Clause::Return(r)] => compile(m, r),
        _ => None,
    }
}

/// The batch plan of `m` followed by `r`, if they are in the class.
pub(crate) fn compile(m: &Match, r: &Return) -> Option<BatchPlan> {
    let p = &r.projection;
    if m.optional || !p.is_plain() {
        return None;
    }
    let [part] = m.pattern.parts.as_slice() else {
        return None;
    };
    if part.variable.is_some() || part.selector != PathSelector::All {
        return None;
    }
    let e = &part.element;
    // A row carries every position's id, so a long chain costs its length per row and per
    // level; long chains are the row engine's.
    if e.chain.len() > MAX_HOPS {
        return None;
    }
    let mut nodes = vec![&e.start];
    let mut rels = Vec::new();
    for (r, n) in &e.chain {
        if r.length.is_some() || r.properties.is_some() {
            return None;
        }
        rels.push(r);
        nodes.push(n);
    }
    if nodes.iter().any(|n| n.properties.is_some()) {
        return None;
    }
    // Start at the labelled end when only the right one has labels: a label scan, not all
    // nodes. The matches are the same either way.
    let reversed = e.start.labels.is_empty()
        && nodes.last().is_some_and(|n| !n.labels.is_empty())
        && !rels.is_empty();
    let mut hops: Vec<Hop> = rels
        .iter()
        .map(|r| Hop {
            dir: match (r.direction, reversed) {
                (crate::cypher::ast::RelDirection::Both, _) => Direction::Both,
                (crate::cypher::ast::RelDirection::Right, false)
                | (crate::cypher::ast::RelDirection::Left, true) => Direction::Outgoing,
                _ => Direction::Incoming,
            },
            types: r.types.clone(),
        })
        .collect();
    if reversed {
        nodes.reverse();
        rels.reverse();
        hops.reverse();
    }
    let mut vars: HashMap<&str, Var> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(v) = &n.variable {
            if vars.insert(&v.name, Var::Node(i)).is_some() {
                return None;
            }
        }
    }
    for (i, r) in rels.iter().enumerate() {
        if let Some(v) = &r.variable {
            if vars.insert(&v.name, Var::Rel(i)).is_some() {
                return None;
            }
        }
    }
    let filter = match &m.where_ {
        Some(w) => Some(pred(w, &vars)?),
        None => None,
    };
    let mut items = Vec::new();
    for it in &p.items {
        items.push(item(&it.expr, &vars)?);
    }
    if !items.iter().any(|i| !matches!(i, Item::Key(_))) {
        return None;
    }
    Some(BatchPlan {
        nodes: nodes.iter().map(|n| n.labels.clone()).collect(),
        hops,
        filter,
        items,
        columns: p.items.iter().map(|i| i.name().to_owned()).collect(),
    })
}

fn item(e: &Expr, vars: &HashMap<&str, Var>) -> Option<Item> {
    match &e.kind {
        ExprKind::CountStar => Some(Item::CountStar),
        ExprKind::FunctionCall {
            name,
            distinct,
            args,
        } if AGGREGATES.iter().any(|a| a.eq_ignore_ascii_case(name)) => match args.as_slice() {
            [a] if !contains_aggregate(a) => Some(Item::Agg {
                name: name.to_ascii_lowercase(),
                distinct: *distinct,
                arg: operand(a, vars)?,
            }),
            _ => None,
        },
        _ if contains_aggregate(e) => None,
        _ => Some(Item::Key(operand(e, vars)?)),
    }
}

fn operand(e: &Expr, vars: &HashMap<&str, Var>) -> Option<Operand> {
    Some(match &e.kind {
        ExprKind::Literal(l) => Operand::Const(match l {
            Literal::Null => Value::Null,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => Value::Int(*i),
            Literal::Float(f) => Value::Float(*f),
            Literal::String(s) => Value::String(s.clone()),
        }),
        ExprKind::Unary(UnaryOp::Neg, x) => match &x.kind {
            ExprKind::Literal(Literal::Int(i)) => Operand::Const(Value::Int(i.checked_neg()?)),
            ExprKind::Literal(Literal::Float(f)) => Operand::Const(Value::Float(-f)),
            _ => return None,
        },
        ExprKind::Parameter(name) => Operand::Param(name.clone()),
        ExprKind::Variable(v) => Operand::Entity(*vars.get(v.as_str())?),
        ExprKind::Property(target, key) => match &target.kind {
            ExprKind::Variable(v) => Operand::Prop(*vars.get(v.as_str())?, key.clone()),
            _ => return None,
        },
        ExprKind::FunctionCall {
            name,
            distinct: false,
            args,
        } if name.eq_ignore_ascii_case("id") => match args.as_slice() {
            [Expr {
                kind: ExprKind::Variable(v),
                ..
            }] => Operand::Id(*vars.get(v.as_str())?),
            _ => return None,
        },
        _ => return None,
    })
}

fn pred(e: &Expr, vars: &HashMap<&str, Var>) -> Option<Pred> {
    Some(match &e.kind {
        ExprKind::Literal(Literal::Bool(b)) => Pred::Const(Some(*b)),
        ExprKind::Literal(Literal::Null) => Pred::Const(None),
        ExprKind::Unary(UnaryOp::Not, x) => Pred::Not(Box::new(pred(x, vars)?)),
        ExprKind::Binary(op, l, r) => match op {
            BinaryOp::And => Pred::And(Box::new(pred(l, vars)?), Box::new(pred(r, vars)?)),
            BinaryOp::Or => Pred::Or(Box::new(pred(l, vars)?), Box::new(pred(r, vars)?)),
            BinaryOp::Xor => Pred::Xor(Box::new(pred(l, vars)?), Box::new(pred(r, vars)?)),
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => Pred::Cmp(*op, operand(l, vars)?, operand(r, vars)?),
            _ => return None,
        },
        ExprKind::IsNull { expr, negated } => Pred::IsNull(operand(expr, vars)?, *negated),
        ExprKind::HasLabels(x, labels) => match &x.kind {
            ExprKind::Variable(v) => match vars.get(v.as_str())? {
                Var::Node(i) => Pred::Labels(*i, labels.clone()),
                Var::Rel(_) => return None,
            },
            _ => return None,
        },
        _ => return None,
    })
}

/// What a plan reads besides ids: a parameter, or a property of a variable.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read<'a> {
    Param(&'a str),
    Prop(Var, &'a Ident),
}

impl Operand {
    /// Calls `f` on every parameter and property the operand reads.
    pub fn visit(&self, f: &mut dyn FnMut(Read<'_>)) {
        match self {
            Operand::Param(p) => f(Read::Param(p)),
            Operand::Prop(v, k) => f(Read::Prop(*v, k)),
            _ => {}
        }
    }
}

impl Operand {
    /// The pattern variable the operand reads (its property, id or itself), if any.
    fn var(&self) -> Option<Var> {
        match self {
            Operand::Prop(v, _) | Operand::Id(v) | Operand::Entity(v) => Some(*v),
            Operand::Const(_) | Operand::Param(_) => None,
        }
    }
}

impl Pred {
    /// Calls `f` on every operand.
    fn operands(&self, f: &mut dyn FnMut(&Operand)) {
        match self {
            Pred::Const(_) | Pred::Labels(..) => {}
            Pred::Cmp(_, a, b) => {
                f(a);
                f(b);
            }
            Pred::IsNull(a, _) => f(a),
            Pred::Not(p) => p.operands(f),
            Pred::And(a, b) | Pred::Or(a, b) | Pred::Xor(a, b) => {
                a.operands(f);
                b.operands(f);
            }
        }
    }

    pub fn visit(&self, f: &mut dyn FnMut(Read<'_>)) {
        match self {
            Pred::Const(_) | Pred::Labels(..) => {}
            Pred::Cmp(_, a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Pred::IsNull(a, _) => a.visit(f),
            Pred::Not(p) => p.visit(f),
            Pred::And(a, b) | Pred::Or(a, b) | Pred::Xor(a, b) => {
                a.visit(f);
                b.visit(f);
            }
        }
    }
}

impl BatchPlan {
    /// Whether the filter or an item reads variable `v` (a property, its id, or itself).
    pub fn mentions(&self, v: Var) -> bool {
        let mut found = false;
        let mut see = |o: &Operand| found |= o.var() == Some(v);
        if let Some(p) = &self.filter {
            p.operands(&mut see);
        }
        for it in &self.items {
            match it {
                Item::CountStar => {}
                Item::Agg { arg, .. } | Item::Key(arg) => see(arg),
            }
        }
        found
    }

    /// Whether hop `k`'s matches need their relationship ids: when something reads the
    /// relationship, or when another hop does (relationship uniqueness compares them).
    pub fn needs_rel_ids(&self, k: usize) -> bool {
        self.hops.len() > 1 || self.mentions(Var::Rel(k))
    }

    /// Calls `f` on every parameter and property read, in the filter and the items.
    pub fn visit(&self, f: &mut dyn FnMut(Read<'_>)) {
        if let Some(p) = &self.filter {
            p.visit(f);
        }
        for it in &self.items {
            match it {
                Item::CountStar => {}
                Item::Agg { arg, .. } | Item::Key(arg) => arg.visit(f),
            }
        }
    }
}
