//! The checking pass that runs before a query touches the graph, so that a semantic error
//! changes nothing.
//!
//! It walks the clauses with the set of variables in scope (and what each is bound to: node,
//! relationship, path or any value) and reports, at the offending token: undefined variables,
//! variables re-bound in CREATE/MERGE or bound to a different kind, malformed CREATE/MERGE
//! relationships, misplaced or nested aggregates, unaliased WITH expressions, RETURN that is
//! not last, queries ending in a reading clause, and UNION parts with different columns.
//! Label, type and key names are resolved later, at run time, through the transaction.

use std::collections::HashMap;

use super::ast::{
    BinaryOp, Clause, Expr, ExprKind, Literal, MapProjectionItem, NodePattern, Pattern,
    PatternElement, PatternPart, Projection, Query, RelPattern, RemoveItem, SetItem, SingleQuery,
    Span,
};
use super::exec::compat_is_aggregate;
use crate::error::{Error, Result};

/// What a variable is bound to, as far as the checker can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Node,
    Rel,
    Path,
    /// A variable-length relationship's list of relationships.
    RelList,
    /// Known not to be a graph entity (a literal, arithmetic, a property value, ...).
    Value,
    /// Unknown (a parameter, a function result, ...).
    Any,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Node => "a node",
            Kind::Rel => "a relationship",
            Kind::Path => "a path",
            Kind::RelList => "a list of relationships",
            Kind::Value => "a value that is not a node or relationship",
            Kind::Any => "a value",
        }
    }
}

type Scope = HashMap<String, Kind>;

fn err(msg: impl Into<String>, span: Span) -> Error {
    Error::semantic(msg).at(span.line, span.column)
}

/// Whether a function name is an aggregate (case-insensitive).
pub(crate) fn is_aggregate_call(name: &str) -> bool {
    compat_is_aggregate(name)
}

/// Checks a whole query (all UNION parts).
pub fn check_query(q: &Query) -> Result<()> {
    if q.union_all.windows(2).any(|w| w[0] != w[1]) {
        return Err(err(
            "UNION and UNION ALL cannot be mixed in one query; use one of them throughout",
            q.span,
        ));
    }
    let mut first: Option<Vec<String>> = None;
    for part in &q.parts {
        let cols = check_single(part, &Scope::new(), true)?;
        match &first {
            None => first = Some(cols),
            Some(f) => {
                if *f != cols {
                    return Err(err(
                        format!(
                            "all parts of a UNION must return the same columns, but one returns ({}) and another ({})",
                            f.join(", "),
                            cols.join(", ")
                        ),
                        part.span,
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks one single query starting from `outer` scope; returns its result columns.
/// `top_level`: it must end in RETURN or an updating clause (subquery bodies need not).
fn check_single(q: &SingleQuery, outer: &Scope, top_level: bool) -> Result<Vec<String>> {
    let mut scope = outer.clone();
    let mut columns = Vec::new();
    let n = q.clauses.len();
    for (i, c) in q.clauses.iter().enumerate() {
        let last = i + 1 == n;
        if let Clause::Return(r) = c {
            if !last {
                return Err(err(
                    "RETURN can only be the last clause of a query; use WITH to pass values on",
                    r.span,
                ));
            }
        }
        if last && top_level {
            let ok = matches!(c, Clause::Return(_) | Clause::Call(_)) || c.is_updating();
            if !ok {
                return Err(err(
                    format!(
                        "a query cannot end with {}; finish it with RETURN (or an updating clause)",
                        c.keyword()
                    ),
                    c.span(),
                ));
            }
        }
        columns = check_clause(c, &mut scope)?;
    }
    Ok(columns)
}

/// Checks one clause, updating `scope`; returns the columns of a RETURN.
fn check_clause(c: &Clause, scope: &mut Scope) -> Result<Vec<String>> {
    match c {
        Clause::Match(m) => {
            check_pattern_match(&m.pattern, scope)?;
            if let Some(w) = &m.where_ {
                check_expr(w, scope, Agg::Forbidden("WHERE"))?;
                check_predicate(w, scope)?;
            }
        }
        Clause::Unwind(u) => {
            check_expr(&u.expr, scope, Agg::Forbidden("UNWIND"))?;
            if scope.contains_key(&u.alias.name) {
                return Err(err(
                    format!("variable `{}` is already defined", u.alias.name),
                    u.alias.span,
                ));
            }
            scope.insert(u.alias.name.clone(), Kind::Any);
        }
        Clause::With(w) => {
            let new = check_projection(&w.projection, scope, false, w.span)?;
            if let Some(pred) = &w.where_ {
                // WHERE after WITH also sees the variables from before it.
                let mut where_scope = new.clone();
                for (k, v) in scope.iter() {
                    where_scope.entry(k.clone()).or_insert(*v);
                }
                check_expr(pred, &where_scope, Agg::Forbidden("WHERE"))?;
                check_predicate(pred, &where_scope)?;
            }
            *scope = new;
        }
        Clause::Return(r) => {
            let new = check_projection(&r.projection, scope, true, r.span)?;
            let mut cols = Vec::new();
            if r.projection.star {
                let mut names: Vec<String> = scope.keys().cloned().collect();
                names.sort();
                cols.extend(names);
            }
            cols.extend(r.projection.items.iter().map(|i| i.name().to_owned()));
            *scope = new;
            return Ok(cols);
        }
        Clause::Create(cr) => {
            for part in &cr.pattern.parts {
                check_create_part(part, scope, "CREATE")?;
            }
        }
        Clause::Merge(m) => {
            check_create_part(&m.part, scope, "MERGE")?;
            for item in m.on_create.iter().chain(&m.on_match) {
                check_set_item(item, scope)?;
            }
        }
        Clause::Set(s) => {
            for item in &s.items {
                check_set_item(item, scope)?;
            }
        }
        Clause::Remove(r) => {
            for item in &r.items {
                match item {
                    RemoveItem::Property { target, .. } => {
                        check_expr(target, scope, Agg::Forbidden("REMOVE"))?
                    }
                    RemoveItem::Labels { variable, .. } => {
                        need_var(&variable.name, variable.span, scope)?
                    }
                }
            }
        }
        Clause::Delete(d) => {
            for e in &d.exprs {
                check_expr(e, scope, Agg::Forbidden("DELETE"))?;
                let entity_like = matches!(
                    kind_of(e, scope),
                    Kind::Node | Kind::Rel | Kind::Path | Kind::Any
                ) || matches!(e.kind, ExprKind::Property(..));
                if !entity_like {
                    return Err(err(
                        "DELETE needs a node, relationship or path, not this expression",
                        e.span,
                    ));
                }
            }
        }
        Clause::Call(call) => {
            if let Some(args) = &call.args {
                for a in args {
                    check_expr(a, scope, Agg::Forbidden("CALL"))?;
                }
            }
            if let Some(items) = &call.yield_items {
                for y in items {
                    let name = &y.alias.as_ref().unwrap_or(&y.field);
                    if scope.contains_key(&name.name) {
                        return Err(err(
                            format!("variable `{}` is already defined", name.name),
                            name.span,
                        ));
                    }
                    scope.insert(name.name.clone(), Kind::Any);
                }
            }
            if let Some(w) = &call.where_ {
                check_expr(w, scope, Agg::Forbidden("WHERE"))?;
            }
        }
        Clause::LoadCsv(l) => {
            check_expr(&l.url, scope, Agg::Forbidden("LOAD CSV"))?;
            scope.insert(l.alias.name.clone(), Kind::Any);
        }
        Clause::Foreach(f) => {
            check_expr(&f.list, scope, Agg::Forbidden("FOREACH"))?;
            let mut inner = scope.clone();
            inner.insert(f.variable.name.clone(), Kind::Any);
            for c in &f.clauses {
                if !c.is_updating() {
                    return Err(err(
                        format!(
                            "FOREACH may only contain updating clauses (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH), not {}",
                            c.keyword()
                        ),
                        c.span(),
                    ));
                }
                check_clause(c, &mut inner)?;
            }
        }
    }
    Ok(Vec::new())
}

fn need_var(name: &str, span: Span, scope: &Scope) -> Result<()> {
    if scope.contains_key(name) {
        Ok(())
    } else {
        Err(err(format!("variable `{name}` is not defined"), span))
    }
}

fn check_set_item(item: &SetItem, scope: &Scope) -> Result<()> {
    match item {
        SetItem::Property { target, value, .. } => {
            check_expr(target, scope, Agg::Forbidden("SET"))?;
            check_expr(value, scope, Agg::Forbidden("SET"))
        }
        SetItem::Replace {
            variable, value, ..
        }
        | SetItem::MergeMap {
            variable, value, ..
        } => {
            need_var(&variable.name, variable.span, scope)?;
            check_expr(value, scope, Agg::Forbidden("SET"))
        }
        SetItem::Labels { variable, .. } => need_var(&variable.name, variable.span, scope),
    }
}

/// Binds a pattern variable of `kind`, refusing a clash with a different kind.
fn bind(scope: &mut Scope, name: &str, kind: Kind, span: Span) -> Result<()> {
    match scope.get(name) {
        // A list of relationships made earlier may drive a variable-length pattern.
        Some(Kind::Value) if kind == Kind::RelList => Ok(()),
        Some(k) if *k != kind && *k != Kind::Any => Err(err(
            format!(
                "variable `{name}` is already {}, it cannot also be {}",
                k.name(),
                kind.name()
            ),
            span,
        )),
        Some(Kind::Any) if kind == Kind::Path => {
            Err(err(format!("variable `{name}` is already defined"), span))
        }
        Some(_) => Ok(()),
        None => {
            scope.insert(name.to_owned(), kind);
            Ok(())
        }
    }
}

fn check_pattern_match(p: &Pattern, scope: &mut Scope) -> Result<()> {
    // One relationship cannot be matched twice in one pattern.
    let mut rel_vars: Vec<&str> = Vec::new();
    for part in &p.parts {
        for (r, _) in &part.element.chain {
            if let Some(v) = &r.variable {
                if rel_vars.contains(&v.name.as_str()) {
                    return Err(err(
                        format!(
                            "relationship variable `{}` is used twice in one pattern, which can never match (a relationship is matched at most once per pattern)",
                            v.name
                        ),
                        v.span,
                    ));
                }
                rel_vars.push(&v.name);
            }
        }
    }
    // Property maps may use variables bound earlier in the same pattern.
    for part in &p.parts {
        if let Some(v) = &part.variable {
            if scope.contains_key(&v.name) {
                return Err(err(
                    format!("variable `{}` is already defined", v.name),
                    v.span,
                ));
            }
        }
        check_element(&part.element, scope)?;
        if let Some(v) = &part.variable {
            bind(scope, &v.name, Kind::Path, v.span)?;
        }
    }
    Ok(())
}

fn check_node(n: &NodePattern, scope: &mut Scope) -> Result<()> {
    if let Some(props) = &n.properties {
        check_expr(props, scope, Agg::Forbidden("a pattern"))?;
    }
    if let Some(v) = &n.variable {
        bind(scope, &v.name, Kind::Node, v.span)?;
    }
    Ok(())
}

fn check_rel(r: &RelPattern, scope: &mut Scope) -> Result<()> {
    if let Some(props) = &r.properties {
        check_expr(props, scope, Agg::Forbidden("a pattern"))?;
    }
    if let Some(v) = &r.variable {
        let kind = if r.length.is_some() {
            Kind::RelList
        } else {
            Kind::Rel
        };
        bind(scope, &v.name, kind, v.span)?;
    }
    Ok(())
}

fn check_element(e: &PatternElement, scope: &mut Scope) -> Result<()> {
    check_node(&e.start, scope)?;
    for (r, n) in &e.chain {
        check_rel(r, scope)?;
        check_node(n, scope)?;
    }
    Ok(())
}

/// CREATE and MERGE: new relationships with one type and a direction (MERGE may leave the
/// direction open), fixed length; bound nodes only as bare endpoints of relationships.
fn check_create_part(part: &PatternPart, scope: &mut Scope, clause: &'static str) -> Result<()> {
    if let Some(v) = &part.variable {
        if scope.contains_key(&v.name) {
            return Err(err(
                format!("variable `{}` is already defined", v.name),
                v.span,
            ));
        }
    }
    let e = &part.element;
    let standalone = e.chain.is_empty();
    let nodes = std::iter::once(&e.start).chain(e.chain.iter().map(|(_, n)| n));
    for n in nodes {
        if let Some(props) = &n.properties {
            check_expr(props, scope, Agg::Forbidden(clause))?;
        }
        if let Some(v) = &n.variable {
            if let Some(k) = scope.get(&v.name) {
                if *k != Kind::Node && *k != Kind::Any {
                    return Err(err(
                        format!("variable `{}` is already {}, not a node", v.name, k.name()),
                        v.span,
                    ));
                }
                if standalone || !n.labels.is_empty() || n.properties.is_some() {
                    return Err(err(
                        format!(
                            "variable `{}` is already defined; {clause} can only reuse it as a bare endpoint like ({})",
                            v.name, v.name
                        ),
                        v.span,
                    ));
                }
            } else {
                scope.insert(v.name.clone(), Kind::Node);
            }
        }
    }
    for (r, _) in &e.chain {
        if r.types.len() != 1 {
            return Err(err(
                format!("a relationship in {clause} needs exactly one type, like [:KNOWS]"),
                r.span,
            ));
        }
        if clause == "CREATE" && r.direction == super::ast::RelDirection::Both {
            return Err(err(
                "a relationship in CREATE needs a direction, like ()-[:R]->()",
                r.span,
            ));
        }
        if r.length.is_some() {
            return Err(err(
                format!("{clause} cannot use a variable-length relationship"),
                r.span,
            ));
        }
        if let Some(props) = &r.properties {
            check_expr(props, scope, Agg::Forbidden(clause))?;
        }
        if let Some(v) = &r.variable {
            if scope.contains_key(&v.name) {
                return Err(err(
                    format!(
                        "variable `{}` is already defined; {clause} always makes a new relationship",
                        v.name
                    ),
                    v.span,
                ));
            }
            scope.insert(v.name.clone(), Kind::Rel);
        }
    }
    if let Some(v) = &part.variable {
        scope.insert(v.name.clone(), Kind::Path);
    }
    Ok(())
}

/// Checks a WITH/RETURN projection; returns the scope after it.
fn check_projection(p: &Projection, scope: &Scope, is_return: bool, span: Span) -> Result<Scope> {
    let clause = if is_return { "RETURN" } else { "WITH" };
    if is_return && p.star && scope.is_empty() && p.items.is_empty() {
        return Err(err(
            format!("{clause} * needs at least one variable in scope"),
            span,
        ));
    }
    let mut out = Scope::new();
    if p.star {
        out = scope.clone();
    }
    let mut aggregating = false;
    for item in &p.items {
        check_expr(&item.expr, scope, Agg::Allowed)?;
        if contains_aggregate(&item.expr) {
            aggregating = true;
        }
        if !is_return && item.alias.is_none() && !matches!(item.expr.kind, ExprKind::Variable(_)) {
            return Err(err(
                format!(
                    "the expression `{}` in WITH must be given a name with AS",
                    item.text
                ),
                item.expr.span,
            ));
        }
        let name = item.name().to_owned();
        if out.contains_key(&name) && !(p.star && scope.contains_key(&name) && item.alias.is_none())
        {
            return Err(err(
                format!("{clause} has more than one column named `{name}`; rename one with AS"),
                item.expr.span,
            ));
        }
        out.insert(name, kind_of(&item.expr, scope));
    }
    if aggregating {
        check_grouping(p, scope)?;
        let (keys, mut key_vars) = grouping_keys(p, scope);
        // ORDER BY may also name grouping keys by their aliases.
        for item in &p.items {
            if !contains_aggregate(&item.expr) {
                key_vars.push(item.name().to_owned());
            }
        }
        for s in &p.order_by {
            let projected = p.items.iter().any(|i| norm(&i.expr) == norm(&s.expr));
            if !projected && contains_aggregate(&s.expr) {
                grouping_ok(&s.expr, &keys, &key_vars)?;
            }
        }
    }
    // ORDER BY sees the projected names, and before aggregation/DISTINCT the old ones too;
    // after them only projected names, projected expressions and (when aggregating)
    // aggregates.
    if !aggregating && !p.distinct {
        let mut order_scope = out.clone();
        for (k, v) in scope {
            order_scope.entry(k.clone()).or_insert(*v);
        }
        for s in &p.order_by {
            check_expr(
                &s.expr,
                &order_scope,
                Agg::Forbidden("ORDER BY without aggregation in its projection"),
            )?;
        }
    } else {
        let items: Vec<String> = p.items.iter().map(|i| norm(&i.expr)).collect();
        for s in &p.order_by {
            check_sort_after(&s.expr, &items, &out, scope, aggregating)?;
        }
    }
    for e in p.skip.iter().chain(&p.limit) {
        if let Some(v) = first_variable(e) {
            return Err(err(
                format!("SKIP and LIMIT cannot use variables (found `{v}`); use a number or a parameter"),
                e.span,
            ));
        }
        check_expr(e, &Scope::new(), Agg::Forbidden("SKIP/LIMIT"))?;
        if let ExprKind::Literal(super::ast::Literal::Int(n)) = &e.kind {
            if *n < 0 {
                return Err(err(
                    format!("SKIP and LIMIT need a non-negative integer, but got {n}"),
                    e.span,
                ));
            }
        }
        if let ExprKind::Literal(super::ast::Literal::Float(_)) = &e.kind {
            return Err(err(
                "SKIP and LIMIT need a non-negative integer, but got a float",
                e.span,
            ));
        }
    }
    Ok(out)
}

/// What a projected expression is, as far as the checker can tell.
fn kind_of(e: &Expr, scope: &Scope) -> Kind {
    match &e.kind {
        ExprKind::Variable(v) => scope.get(v).copied().unwrap_or(Kind::Any),
        // null can stand where an entity is expected (OPTIONAL MATCH on a null node).
        ExprKind::Literal(super::ast::Literal::Null) => Kind::Any,
        ExprKind::Literal(_)
        | ExprKind::List(_)
        | ExprKind::Map(_)
        | ExprKind::Binary(..)
        | ExprKind::Unary(..)
        | ExprKind::IsNull { .. }
        | ExprKind::HasLabels(..)
        | ExprKind::Property(..)
        | ExprKind::CountStar
        | ExprKind::ListComprehension { .. }
        | ExprKind::PatternComprehension { .. }
        | ExprKind::Quantified { .. }
        | ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_)
        | ExprKind::MapProjection { .. } => Kind::Value,
        _ => Kind::Any,
    }
}

/// An expression's structure without source positions, for "is this the same expression".
pub(crate) fn norm(e: &Expr) -> String {
    let text = format!("{:?}", e.kind);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// In an aggregating projection, the parts of an item outside its aggregates may only use
/// grouping keys (a projected variable or a projected `v.key`), constants and parameters.
fn check_grouping(p: &Projection, scope: &Scope) -> Result<()> {
    let (keys, key_vars) = grouping_keys(p, scope);
    for item in &p.items {
        if contains_aggregate(&item.expr) {
            grouping_ok(&item.expr, &keys, &key_vars)?;
        }
    }
    Ok(())
}

/// The grouping keys of an aggregating projection: their expressions (normalized) and the
/// variables projected as keys.
fn grouping_keys(p: &Projection, scope: &Scope) -> (Vec<String>, Vec<String>) {
    let mut key_vars: Vec<String> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    if p.star {
        key_vars.extend(scope.keys().cloned());
    }
    for item in &p.items {
        if !contains_aggregate(&item.expr) {
            if let ExprKind::Variable(v) = &item.expr.kind {
                key_vars.push(v.clone());
            }
            keys.push(norm(&item.expr));
        }
    }
    (keys, key_vars)
}

fn grouping_ok(e: &Expr, keys: &[String], key_vars: &[String]) -> Result<()> {
    let ambiguous = || {
        err(
            "this expression mixes an aggregate with values that are not grouping keys; project those values as their own columns (or compute them in a WITH first)",
            e.span,
        )
    };
    match &e.kind {
        ExprKind::CountStar => Ok(()),
        ExprKind::FunctionCall { name, .. } if is_aggregate_call(name) => Ok(()),
        ExprKind::Variable(v) => {
            if key_vars.contains(v) {
                Ok(())
            } else {
                Err(ambiguous())
            }
        }
        ExprKind::Property(inner, _) if matches!(inner.kind, ExprKind::Variable(_)) => {
            let ok = keys.contains(&norm(e))
                || matches!(&inner.kind, ExprKind::Variable(v) if key_vars.contains(v));
            if ok {
                Ok(())
            } else {
                Err(ambiguous())
            }
        }
        // Local variables of these are not grouping keys; leave them to run time.
        ExprKind::ListComprehension { .. }
        | ExprKind::Quantified { .. }
        | ExprKind::Reduce { .. }
        | ExprKind::PatternComprehension { .. }
        | ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_) => Ok(()),
        _ => {
            let mut result = Ok(());
            for_each_child(e, &mut |c| {
                if result.is_ok() {
                    result = grouping_ok(c, keys, key_vars);
                }
            });
            result
        }
    }
}

/// ORDER BY after DISTINCT or aggregation: projected names, projected expressions, and
/// (when aggregating) aggregates over the input scope.
fn check_sort_after(
    e: &Expr,
    items: &[String],
    out: &Scope,
    input: &Scope,
    aggregating: bool,
) -> Result<()> {
    if items.contains(&norm(e)) {
        return Ok(());
    }
    match &e.kind {
        ExprKind::Variable(v) => need_var(v, e.span, out),
        ExprKind::CountStar => {
            if aggregating {
                Err(err(
                    "ORDER BY can only use count(*) if the projection returns it; add it to the projection",
                    e.span,
                ))
            } else {
                agg_ok(
                    Agg::Forbidden("ORDER BY after DISTINCT"),
                    "count(*)",
                    e.span,
                )
            }
        }
        ExprKind::FunctionCall { name, .. } if is_aggregate_call(name) => {
            if aggregating {
                // Only aggregates the projection computes can order its rows.
                let _ = input;
                Err(err(
                    format!("ORDER BY can only use the aggregate {name}(...) if the projection returns it; add it to the projection"),
                    e.span,
                ))
            } else {
                agg_ok(Agg::Forbidden("ORDER BY after DISTINCT"), name, e.span)
            }
        }
        ExprKind::ListComprehension { .. }
        | ExprKind::Quantified { .. }
        | ExprKind::Reduce { .. }
        | ExprKind::PatternComprehension { .. }
        | ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_)
        | ExprKind::MapProjection { .. } => check_expr(e, out, Agg::Forbidden("ORDER BY")),
        _ => {
            let mut result = Ok(());
            for_each_child(e, &mut |c| {
                if result.is_ok() {
                    result = check_sort_after(c, items, out, input, aggregating);
                }
            });
            result
        }
    }
}

fn first_variable(e: &Expr) -> Option<String> {
    let mut found = None;
    visit_expr(e, &mut |x| {
        if let ExprKind::Variable(v) = &x.kind {
            if found.is_none() {
                found = Some(v.clone());
            }
        }
    });
    found
}

/// Whether `e` contains an aggregate call outside nested subqueries.
pub(crate) fn contains_aggregate(e: &Expr) -> bool {
    let mut found = false;
    visit_expr(e, &mut |x| match &x.kind {
        ExprKind::CountStar => found = true,
        ExprKind::FunctionCall { name, .. } if is_aggregate_call(name) => found = true,
        _ => {}
    });
    found
}

#[derive(Clone, Copy)]
enum Agg {
    Allowed,
    /// Inside an aggregate's arguments: another one is nested.
    Inside,
    /// Not allowed in this clause (its name).
    Forbidden(&'static str),
}

/// Checks variables are defined and aggregates are placed legally.
fn check_expr(e: &Expr, scope: &Scope, agg: Agg) -> Result<()> {
    let sub = |x: &Expr| check_expr(x, scope, agg);
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Parameter(_) => Ok(()),
        ExprKind::Variable(v) => need_var(v, e.span, scope),
        ExprKind::CountStar => agg_ok(agg, "count(*)", e.span),
        ExprKind::FunctionCall { name, args, .. } => {
            if is_aggregate_call(name) {
                agg_ok(agg, name, e.span)?;
                for a in args {
                    check_expr(a, scope, Agg::Inside)?;
                    check_deterministic(a, name)?;
                }
                Ok(())
            } else {
                check_function_arg_kinds(name, args, scope)?;
                // Unknown functions and wrong argument counts fail before anything runs.
                super::functions::check_call(name, args.len()).map_err(|x| {
                    Error::new(x.kind(), x.message()).at(e.span.line, e.span.column)
                })?;
                args.iter().try_for_each(sub)
            }
        }
        ExprKind::List(items) => items.iter().try_for_each(sub),
        ExprKind::Map(entries) => entries.iter().try_for_each(|(_, v)| sub(v)),
        ExprKind::Property(x, key) => {
            if kind_of(x, scope) == Kind::Path {
                return Err(err(
                    format!(
                        "a path has no properties, so `.{}` cannot be read from it; read it from its nodes or relationships, e.g. nodes(p)[0].{}",
                        key.name, key.name
                    ),
                    key.span,
                ));
            }
            sub(x)
        }
        ExprKind::Index(a, b) => {
            sub(a)?;
            sub(b)
        }
        ExprKind::Slice(a, b, c) => {
            sub(a)?;
            if let Some(b) = b {
                sub(b)?;
            }
            if let Some(c) = c {
                sub(c)?;
            }
            Ok(())
        }
        ExprKind::Unary(op, x) => {
            if *op == super::ast::UnaryOp::Not {
                check_boolean_operand("NOT", x)?;
            }
            sub(x)
        }
        ExprKind::Binary(op, a, b) => {
            let logical = match op {
                BinaryOp::And => Some("AND"),
                BinaryOp::Or => Some("OR"),
                BinaryOp::Xor => Some("XOR"),
                _ => None,
            };
            if let Some(op) = logical {
                check_boolean_operand(op, a)?;
                check_boolean_operand(op, b)?;
            }
            if *op == BinaryOp::In {
                let not_list = match &b.kind {
                    ExprKind::Literal(Literal::Bool(_)) => Some("a boolean"),
                    ExprKind::Map(_) => Some("a map"),
                    _ => constant_non_boolean(b).filter(|t| *t != "a list"),
                };
                if let Some(ty) = not_list {
                    return Err(err(
                        format!("IN needs a list on its right, but this is {ty}"),
                        b.span,
                    ));
                }
            }
            sub(a)?;
            sub(b)
        }
        ExprKind::IsNull { expr, .. } => sub(expr),
        ExprKind::HasLabels(x, _) => sub(x),
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => {
            if let Some(o) = operand {
                sub(o)?;
            }
            for (w, t) in whens {
                sub(w)?;
                sub(t)?;
            }
            if let Some(x) = else_ {
                sub(x)?;
            }
            Ok(())
        }
        ExprKind::ListComprehension {
            variable,
            list,
            filter,
            map,
        } => {
            sub(list)?;
            let mut inner = scope.clone();
            inner.insert(variable.name.clone(), Kind::Any);
            let body = Agg::Forbidden("a list comprehension");
            if let Some(f) = filter {
                check_expr(f, &inner, body)?;
            }
            if let Some(m) = map {
                check_expr(m, &inner, body)?;
            }
            Ok(())
        }
        ExprKind::Quantified {
            variable,
            list,
            filter,
            ..
        } => {
            sub(list)?;
            let mut inner = scope.clone();
            inner.insert(variable.name.clone(), Kind::Any);
            if let Some(f) = filter {
                check_expr(f, &inner, Agg::Forbidden("a quantifier"))?;
                check_element_arithmetic(list, &variable.name, f)?;
            }
            Ok(())
        }
        ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => {
            sub(init)?;
            sub(list)?;
            let mut inner = scope.clone();
            inner.insert(accumulator.name.clone(), Kind::Any);
            inner.insert(variable.name.clone(), Kind::Any);
            check_expr(expr, &inner, Agg::Forbidden("reduce()"))
        }
        ExprKind::PatternComprehension {
            path_variable,
            pattern,
            filter,
            map,
        } => {
            let mut inner = scope.clone();
            check_element(pattern, &mut inner)?;
            if let Some(p) = path_variable {
                inner.insert(p.name.clone(), Kind::Path);
            }
            if let Some(f) = filter {
                check_expr(f, &inner, Agg::Forbidden("a pattern comprehension"))?;
            }
            check_expr(map, &inner, Agg::Forbidden("a pattern comprehension"))
        }
        ExprKind::PatternPredicate(pattern) => {
            // A pattern used as a predicate cannot introduce variables.
            let mut names = Vec::new();
            let mut spans = Vec::new();
            let nodes = std::iter::once(&pattern.start).chain(pattern.chain.iter().map(|(_, n)| n));
            for n in nodes {
                if let Some(v) = &n.variable {
                    names.push(v.name.clone());
                    spans.push(v.span);
                }
            }
            for (r, _) in &pattern.chain {
                if let Some(v) = &r.variable {
                    names.push(v.name.clone());
                    spans.push(v.span);
                }
            }
            for (name, span) in names.iter().zip(spans) {
                if !scope.contains_key(name) {
                    return Err(err(
                        format!("variable `{name}` is not defined; a pattern used as a predicate cannot introduce new variables (use EXISTS {{ MATCH ... }} instead)"),
                        span,
                    ));
                }
            }
            let mut inner = scope.clone();
            check_element(pattern, &mut inner)
        }
        ExprKind::ExistsSubquery(q) | ExprKind::CountSubquery(q) => {
            check_single(q, scope, false).map(|_| ())
        }
        ExprKind::MapProjection { variable, items } => {
            need_var(&variable.name, variable.span, scope)?;
            for item in items {
                match item {
                    MapProjectionItem::Literal(_, x) => sub(x)?,
                    MapProjectionItem::Variable(v) => need_var(&v.name, v.span, scope)?,
                    MapProjectionItem::Property(_) | MapProjectionItem::AllProperties => {}
                }
            }
            Ok(())
        }
    }
}

/// The value type of a constant expression that can never be a boolean or null (a
/// non-boolean literal, list or map), for the static type checks the openCypher TCK expects.
fn constant_non_boolean(e: &Expr) -> Option<&'static str> {
    match &e.kind {
        ExprKind::Literal(Literal::Int(_)) => Some("an integer"),
        ExprKind::Literal(Literal::Float(_)) => Some("a float"),
        ExprKind::Literal(Literal::String(_)) => Some("a string"),
        ExprKind::List(_) | ExprKind::ListComprehension { .. } => Some("a list"),
        ExprKind::Map(_) | ExprKind::MapProjection { .. } => Some("a map"),
        _ => None,
    }
}

/// AND, OR, XOR and NOT take booleans: a constant of another type is a mistake even where
/// short-circuiting would never evaluate it (`false AND 123`).
fn check_boolean_operand(op: &str, x: &Expr) -> Result<()> {
    match constant_non_boolean(x) {
        Some(ty) => Err(err(
            format!("{op} needs boolean operands, but this one is {ty}"),
            x.span,
        )),
        None => Ok(()),
    }
}

/// A WHERE predicate that can be seen not to be a boolean (`WHERE (n)`, `WHERE 1`).
fn check_predicate(e: &Expr, scope: &Scope) -> Result<()> {
    let kind = kind_of(e, scope);
    let what = match kind {
        Kind::Node | Kind::Rel | Kind::Path | Kind::RelList => Some(kind.name()),
        _ => constant_non_boolean(e),
    };
    match what {
        Some(ty) => Err(err(
            format!("WHERE needs a boolean predicate, but this is {ty}"),
            e.span,
        )),
        None => Ok(()),
    }
}

/// A list literal whose elements are all strings, or all booleans: the element type name.
fn literal_list_type(list: &Expr) -> Option<&'static str> {
    let ExprKind::List(items) = &list.kind else {
        return None;
    };
    let ty = |e: &Expr| match &e.kind {
        ExprKind::Literal(Literal::String(_)) => Some("a string"),
        ExprKind::Literal(Literal::Bool(_)) => Some("a boolean"),
        _ => None,
    };
    let first = ty(items.first()?)?;
    items.iter().all(|i| ty(i) == Some(first)).then_some(first)
}

/// `all(x IN ['a'] WHERE x % 2 = 0)`: arithmetic on an element of a list literal that holds
/// only strings (or only booleans) can never work (`+` on strings concatenates, so it is
/// allowed there).
fn check_element_arithmetic(list: &Expr, var: &str, body: &Expr) -> Result<()> {
    let Some(ty) = literal_list_type(list) else {
        return Ok(());
    };
    let mut bad: Option<Span> = None;
    visit_expr(body, &mut |x| {
        if let ExprKind::Binary(op, a, b) = &x.kind {
            let arithmetic = match op {
                BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Pow => {
                    true
                }
                BinaryOp::Add => ty == "a boolean",
                _ => false,
            };
            let is_var = |e: &Expr| matches!(&e.kind, ExprKind::Variable(v) if v == var);
            if arithmetic && (is_var(a) || is_var(b)) && bad.is_none() {
                bad = Some(x.span);
            }
        }
    });
    match bad {
        Some(span) => Err(err(
            format!("`{var}` is {ty} here (every element of the list is), so this arithmetic cannot apply to it"),
            span,
        )),
        None => Ok(()),
    }
}

/// Functions whose argument can be seen to be the wrong kind of graph entity.
fn check_function_arg_kinds(name: &str, args: &[Expr], scope: &Scope) -> Result<()> {
    let Some(arg) = args.first() else {
        return Ok(());
    };
    let kind = kind_of(arg, scope);
    let wrong = match name.to_ascii_lowercase().as_str() {
        "type" => matches!(kind, Kind::Node | Kind::Path),
        "length" => matches!(kind, Kind::Node | Kind::Rel),
        "size" => kind == Kind::Path,
        "labels" => matches!(kind, Kind::Rel | Kind::Path),
        "properties" => {
            kind == Kind::Path
                || matches!(
                    arg.kind,
                    ExprKind::Literal(Literal::Bool(_))
                        | ExprKind::Literal(Literal::Int(_))
                        | ExprKind::Literal(Literal::Float(_))
                        | ExprKind::Literal(Literal::String(_))
                        | ExprKind::List(_)
                )
        }
        _ => false,
    };
    if wrong {
        let hint = match name.to_ascii_lowercase().as_str() {
            "type" => "type() takes a relationship",
            "length" => "length() takes a path (or a string or list)",
            "labels" => "labels() takes a node",
            "properties" => "properties() takes a node, a relationship or a map",
            _ => "size() takes a string or list; use length() for a path",
        };
        let what = match constant_non_boolean(arg) {
            Some(ty) => ty,
            None if matches!(arg.kind, ExprKind::Literal(Literal::Bool(_))) => "a boolean",
            None => kind.name(),
        };
        return Err(err(
            format!("{name}() cannot take {what}: {hint}"),
            arg.span,
        ));
    }
    Ok(())
}

/// Aggregates must see deterministic input: `count(rand())` is refused.
fn check_deterministic(arg: &Expr, aggregate: &str) -> Result<()> {
    let mut found: Option<Span> = None;
    visit_expr(arg, &mut |x| {
        if let ExprKind::FunctionCall { name, .. } = &x.kind {
            if name.eq_ignore_ascii_case("rand") && found.is_none() {
                found = Some(x.span);
            }
        }
    });
    match found {
        Some(span) => Err(err(
            format!("{aggregate}() cannot aggregate a non-constant expression like rand(); compute it in a WITH first"),
            span,
        )),
        None => Ok(()),
    }
}

fn agg_ok(agg: Agg, name: &str, span: Span) -> Result<()> {
    match agg {
        Agg::Allowed => Ok(()),
        Agg::Inside => Err(err(
            format!("aggregate {name} cannot be nested inside another aggregate"),
            span,
        )),
        Agg::Forbidden(place) => Err(err(
            format!("aggregate {name} is not allowed in {place}; compute it in WITH first"),
            span,
        )),
    }
}

/// Calls `f` on `e` and every sub-expression, not entering subquery bodies or patterns.
pub(crate) fn visit_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    for_each_child(e, &mut |c| visit_expr(c, f));
}

fn for_each_child(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar
        | ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_) => {}
        ExprKind::FunctionCall { args, .. } => args.iter().for_each(f),
        ExprKind::List(items) => items.iter().for_each(f),
        ExprKind::Map(entries) => entries.iter().for_each(|(_, v)| f(v)),
        ExprKind::Property(x, _) | ExprKind::Unary(_, x) | ExprKind::HasLabels(x, _) => f(x),
        ExprKind::IsNull { expr, .. } => f(expr),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            f(a);
            f(b);
        }
        ExprKind::Slice(a, b, c) => {
            f(a);
            if let Some(b) = b {
                f(b);
            }
            if let Some(c) = c {
                f(c);
            }
        }
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => {
            if let Some(o) = operand {
                f(o);
            }
            for (w, t) in whens {
                f(w);
                f(t);
            }
            if let Some(x) = else_ {
                f(x);
            }
        }
        ExprKind::ListComprehension {
            list, filter, map, ..
        } => {
            f(list);
            if let Some(x) = filter {
                f(x);
            }
            if let Some(x) = map {
                f(x);
            }
        }
        ExprKind::Quantified { list, filter, .. } => {
            f(list);
            if let Some(x) = filter {
                f(x);
            }
        }
        ExprKind::Reduce {
            init, list, expr, ..
        } => {
            f(init);
            f(list);
            f(expr);
        }
        ExprKind::PatternComprehension { filter, map, .. } => {
            if let Some(x) = filter {
                f(x);
            }
            f(map);
        }
        ExprKind::MapProjection { items, .. } => {
            for item in items {
                if let MapProjectionItem::Literal(_, x) = item {
                    f(x);
                }
            }
        }
    }
}

/// Rebuilds `e` with each direct child replaced by `f(child)` (same traversal as
/// [`visit_expr`]).
pub(crate) fn map_children(e: &Expr, f: &mut dyn FnMut(&Expr) -> Expr) -> Expr {
    let b = |x: &Expr, f: &mut dyn FnMut(&Expr) -> Expr| Box::new(f(x));
    let kind = match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar
        | ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_) => e.kind.clone(),
        ExprKind::FunctionCall {
            name,
            distinct,
            args,
        } => ExprKind::FunctionCall {
            name: name.clone(),
            distinct: *distinct,
            args: args.iter().map(&mut *f).collect(),
        },
        ExprKind::List(items) => ExprKind::List(items.iter().map(&mut *f).collect()),
        ExprKind::Map(entries) => {
            ExprKind::Map(entries.iter().map(|(k, v)| (k.clone(), f(v))).collect())
        }
        ExprKind::Property(x, k) => ExprKind::Property(b(x, f), k.clone()),
        ExprKind::Unary(op, x) => ExprKind::Unary(*op, b(x, f)),
        ExprKind::HasLabels(x, ls) => ExprKind::HasLabels(b(x, f), ls.clone()),
        ExprKind::IsNull { expr, negated } => ExprKind::IsNull {
            expr: b(expr, f),
            negated: *negated,
        },
        ExprKind::Index(x, y) => ExprKind::Index(b(x, f), b(y, f)),
        ExprKind::Binary(op, x, y) => ExprKind::Binary(*op, b(x, f), b(y, f)),
        ExprKind::Slice(x, y, z) => ExprKind::Slice(
            b(x, f),
            y.as_ref().map(|y| b(y, f)),
            z.as_ref().map(|z| b(z, f)),
        ),
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => ExprKind::Case {
            operand: operand.as_ref().map(|o| b(o, f)),
            whens: whens.iter().map(|(w, t)| (f(w), f(t))).collect(),
            else_: else_.as_ref().map(|x| b(x, f)),
        },
        ExprKind::ListComprehension {
            variable,
            list,
            filter,
            map,
        } => ExprKind::ListComprehension {
            variable: variable.clone(),
            list: b(list, f),
            filter: filter.as_ref().map(|x| b(x, f)),
            map: map.as_ref().map(|x| b(x, f)),
        },
        ExprKind::Quantified {
            quantifier,
            variable,
            list,
            filter,
        } => ExprKind::Quantified {
            quantifier: *quantifier,
            variable: variable.clone(),
            list: b(list, f),
            filter: filter.as_ref().map(|x| b(x, f)),
        },
        ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => ExprKind::Reduce {
            accumulator: accumulator.clone(),
            init: b(init, f),
            variable: variable.clone(),
            list: b(list, f),
            expr: b(expr, f),
        },
        ExprKind::PatternComprehension {
            path_variable,
            pattern,
            filter,
            map,
        } => ExprKind::PatternComprehension {
            path_variable: path_variable.clone(),
            pattern: pattern.clone(),
            filter: filter.as_ref().map(|x| b(x, f)),
            map: b(map, f),
        },
        ExprKind::MapProjection { variable, items } => ExprKind::MapProjection {
            variable: variable.clone(),
            items: items
                .iter()
                .map(|i| match i {
                    MapProjectionItem::Literal(k, x) => MapProjectionItem::Literal(k.clone(), f(x)),
                    other => other.clone(),
                })
                .collect(),
        },
    };
    Expr::new(kind, e.span)
}

/// Calls `f` with every variable name mentioned anywhere in `q` (expressions, patterns,
/// subqueries); used to carry outer bindings into a subquery.
pub(crate) fn visit_names_in_query(q: &SingleQuery, f: &mut dyn FnMut(&str)) {
    for c in &q.clauses {
        visit_names_in_clause(c, f);
    }
}

fn visit_names_in_element(e: &PatternElement, f: &mut dyn FnMut(&str)) {
    let node = |n: &NodePattern, f: &mut dyn FnMut(&str)| {
        if let Some(v) = &n.variable {
            f(&v.name);
        }
        if let Some(p) = &n.properties {
            visit_names_in_expr(p, f);
        }
    };
    node(&e.start, f);
    for (r, n) in &e.chain {
        if let Some(v) = &r.variable {
            f(&v.name);
        }
        if let Some(p) = &r.properties {
            visit_names_in_expr(p, f);
        }
        node(n, f);
    }
}

fn visit_names_in_expr(e: &Expr, f: &mut dyn FnMut(&str)) {
    visit_expr(e, &mut |x| match &x.kind {
        ExprKind::Variable(v) => f(v),
        ExprKind::MapProjection { variable, .. } => f(&variable.name),
        ExprKind::PatternPredicate(p) => visit_names_in_element(p, f),
        ExprKind::PatternComprehension { pattern, .. } => visit_names_in_element(pattern, f),
        ExprKind::ExistsSubquery(q) | ExprKind::CountSubquery(q) => visit_names_in_query(q, f),
        _ => {}
    });
}

fn visit_names_in_set_item(item: &SetItem, f: &mut dyn FnMut(&str)) {
    match item {
        SetItem::Property { target, value, .. } => {
            visit_names_in_expr(target, f);
            visit_names_in_expr(value, f);
        }
        SetItem::Replace {
            variable, value, ..
        }
        | SetItem::MergeMap {
            variable, value, ..
        } => {
            f(&variable.name);
            visit_names_in_expr(value, f);
        }
        SetItem::Labels { variable, .. } => f(&variable.name),
    }
}

/// Calls `f` with every top-level expression of a clause (projections, predicates,
/// property maps, SET values, ...; FOREACH bodies included), not descending into them.
pub(crate) fn visit_clause_exprs(c: &Clause, f: &mut dyn FnMut(&Expr)) {
    fn element(e: &PatternElement, f: &mut dyn FnMut(&Expr)) {
        let nodes = std::iter::once(&e.start).chain(e.chain.iter().map(|(_, n)| n));
        for n in nodes {
            if let Some(p) = &n.properties {
                f(p);
            }
        }
        for (r, _) in &e.chain {
            if let Some(p) = &r.properties {
                f(p);
            }
        }
    }
    fn set_item(item: &SetItem, f: &mut dyn FnMut(&Expr)) {
        match item {
            SetItem::Property { target, value, .. } => {
                f(target);
                f(value);
            }
            SetItem::Replace { value, .. } | SetItem::MergeMap { value, .. } => f(value),
            SetItem::Labels { .. } => {}
        }
    }
    fn projection(p: &Projection, f: &mut dyn FnMut(&Expr)) {
        for i in &p.items {
            f(&i.expr);
        }
        for o in &p.order_by {
            f(&o.expr);
        }
        for x in p.skip.iter().chain(&p.limit) {
            f(x);
        }
    }
    match c {
        Clause::Match(m) => {
            for part in &m.pattern.parts {
                element(&part.element, f);
            }
            if let Some(w) = &m.where_ {
                f(w);
            }
        }
        Clause::Unwind(u) => f(&u.expr),
        Clause::With(w) => {
            projection(&w.projection, f);
            if let Some(x) = &w.where_ {
                f(x);
            }
        }
        Clause::Return(r) => projection(&r.projection, f),
        Clause::Create(cr) => {
            for part in &cr.pattern.parts {
                element(&part.element, f);
            }
        }
        Clause::Merge(m) => {
            element(&m.part.element, f);
            for item in m.on_create.iter().chain(&m.on_match) {
                set_item(item, f);
            }
        }
        Clause::Set(set) => set.items.iter().for_each(|i| set_item(i, f)),
        Clause::Remove(r) => {
            for item in &r.items {
                if let RemoveItem::Property { target, .. } = item {
                    f(target);
                }
            }
        }
        Clause::Delete(d) => d.exprs.iter().for_each(&mut *f),
        Clause::Call(call) => {
            call.args.iter().flatten().for_each(&mut *f);
            if let Some(w) = &call.where_ {
                f(w);
            }
        }
        Clause::LoadCsv(l) => f(&l.url),
        Clause::Foreach(fe) => {
            f(&fe.list);
            for c in &fe.clauses {
                visit_clause_exprs(c, f);
            }
        }
    }
}

/// Whether an expression matches graph patterns (pattern predicates and comprehensions,
/// EXISTS and COUNT subqueries), i.e. may read rows other than its own.
pub(crate) fn reads_graph(e: &Expr) -> bool {
    let mut found = false;
    visit_expr(e, &mut |x| {
        found |= matches!(
            x.kind,
            ExprKind::PatternPredicate(_)
                | ExprKind::PatternComprehension { .. }
                | ExprKind::ExistsSubquery(_)
                | ExprKind::CountSubquery(_)
        );
    });
    found
}

/// Whether any of `clauses` may read the variable `name`: it is mentioned anywhere in them
/// (expressions, patterns, subqueries), or a `*` projection carries every variable on.
pub(crate) fn clauses_mention(clauses: &[Clause], name: &str) -> bool {
    let star = |c: &Clause| match c {
        Clause::With(w) => w.projection.star,
        Clause::Return(r) => r.projection.star,
        _ => false,
    };
    if clauses.iter().any(star) {
        return true;
    }
    let mut found = false;
    for c in clauses {
        visit_names_in_clause(c, &mut |n: &str| found |= n == name);
    }
    found
}

fn visit_names_in_clause(c: &Clause, f: &mut dyn FnMut(&str)) {
    let ex = |e: &Expr, f: &mut dyn FnMut(&str)| visit_names_in_expr(e, f);
    match c {
        Clause::Match(m) => {
            for p in &m.pattern.parts {
                visit_names_in_element(&p.element, f);
            }
            if let Some(w) = &m.where_ {
                ex(w, f);
            }
        }
        Clause::Unwind(u) => ex(&u.expr, f),
        Clause::With(w) => {
            for i in &w.projection.items {
                ex(&i.expr, f);
            }
            for s in &w.projection.order_by {
                ex(&s.expr, f);
            }
            if let Some(x) = &w.where_ {
                ex(x, f);
            }
        }
        Clause::Return(r) => {
            for i in &r.projection.items {
                ex(&i.expr, f);
            }
            for s in &r.projection.order_by {
                ex(&s.expr, f);
            }
        }
        Clause::Create(cr) => {
            for p in &cr.pattern.parts {
                visit_names_in_element(&p.element, f);
            }
        }
        Clause::Merge(m) => {
            visit_names_in_element(&m.part.element, f);
            if let Some(v) = &m.part.variable {
                f(&v.name);
            }
            for item in m.on_create.iter().chain(&m.on_match) {
                visit_names_in_set_item(item, f);
            }
        }
        Clause::Set(set) => {
            for item in &set.items {
                visit_names_in_set_item(item, f);
            }
        }
        Clause::Remove(r) => {
            for item in &r.items {
                match item {
                    RemoveItem::Property { target, .. } => ex(target, f),
                    RemoveItem::Labels { variable, .. } => f(&variable.name),
                }
            }
        }
        Clause::Delete(d) => {
            for e in &d.exprs {
                ex(e, f);
            }
        }
        Clause::LoadCsv(l) => ex(&l.url, f),
        Clause::Call(call) => {
            for a in call.args.iter().flatten() {
                ex(a, f);
            }
            if let Some(w) = &call.where_ {
                ex(w, f);
            }
        }
        Clause::Foreach(fe) => {
            ex(&fe.list, f);
            for c in &fe.clauses {
                visit_names_in_clause(c, f);
            }
        }
    }
}
