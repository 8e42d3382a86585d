//! Clause-order rules of the openCypher grammar that are easier to check on the clause list
//! than to encode in the descent: RETURN comes last, a query ends with RETURN or an updating
//! clause, reading clauses may not follow updating ones without WITH in between, and FOREACH
//! bodies hold only updating clauses.

use super::clauses::Until;
use super::*;

fn is_reading(c: &Clause) -> bool {
    matches!(
        c,
        Clause::Match(_) | Clause::Unwind(_) | Clause::Call(_) | Clause::LoadCsv(_)
    )
}

fn err(p: &Parser<'_>, c: &Clause, msg: String) -> Error {
    p.error_at(c.span(), msg)
}

pub(super) fn clause_order(p: &Parser<'_>, q: &SingleQuery, until: Until) -> Result<()> {
    if until == Until::Paren {
        for c in &q.clauses {
            if !c.is_updating() {
                return Err(err(
                    p,
                    c,
                    format!(
                        "Invalid input '{}': FOREACH may only contain updating clauses \
                         (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH)",
                        c.keyword()
                    ),
                ));
            }
        }
        return Ok(());
    }
    if until == Until::Brace {
        if let Some(c) = q.clauses.iter().find(|c| c.is_updating()) {
            return Err(err(
                p,
                c,
                format!(
                    "Invalid input '{}': an EXISTS or COUNT subquery cannot contain updating                      clauses",
                    c.keyword()
                ),
            ));
        }
    }
    let n = q.clauses.len();
    let mut after_update: Option<&Clause> = None;
    for (i, c) in q.clauses.iter().enumerate() {
        if let Clause::Return(_) = c {
            if i + 1 < n {
                let next = &q.clauses[i + 1];
                return Err(err(
                    p,
                    next,
                    format!(
                        "Invalid input '{}': RETURN must be the last clause of a query \
                         (use WITH to pass results on)",
                        next.keyword()
                    ),
                ));
            }
        }
        if c.is_updating() {
            after_update = Some(c);
        } else if matches!(c, Clause::With(_)) {
            after_update = None;
        } else if is_reading(c) {
            if let Some(u) = after_update {
                return Err(err(
                    p,
                    c,
                    format!(
                        "Invalid input '{}': WITH is required between {} and {}",
                        c.keyword(),
                        u.keyword(),
                        c.keyword()
                    ),
                ));
            }
        }
    }
    if until == Until::Statement {
        if let Some(last) = q.clauses.last() {
            let ok = matches!(last, Clause::Return(_) | Clause::Call(_)) || last.is_updating();
            if !ok {
                return Err(err(
                    p,
                    last,
                    format!(
                        "Query cannot conclude with {}: it must end with RETURN or an \
                         updating clause",
                        last.keyword()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Rules on a whole single query that only need its own syntax tree: how CALL passes
/// arguments, which patterns CREATE and MERGE accept, aliases in WITH, DELETE targets, and
/// where a pattern may stand as a boolean.
pub(super) fn single_query_rules(p: &Parser<'_>, q: &SingleQuery, until: Until) -> Result<()> {
    let standalone = until == Until::Statement && q.clauses.len() == 1;
    for c in &q.clauses {
        match c {
            Clause::Call(call) if !standalone => {
                if call.yield_star {
                    return Err(err(
                        p,
                        c,
                        "Invalid input 'YIELD *': YIELD * is only allowed when CALL is the whole \
                         query; name the outputs instead"
                            .to_string(),
                    ));
                }
                if call.args.is_none() {
                    return Err(err(
                        p,
                        c,
                        format!(
                            "Procedure call '{}' inside a query must pass its arguments in \
                             parentheses",
                            call.procedure.join(".")
                        ),
                    ));
                }
            }
            Clause::Create(cr) => {
                for part in &cr.pattern.parts {
                    check_rels(p, &part.element, "CREATE", true)?;
                }
            }
            Clause::Merge(m) => {
                check_rels(p, &m.part.element, "MERGE", false)?;
                check_no_param_props(p, &m.part.element, "MERGE")?;
            }
            Clause::Match(m) => {
                for part in &m.pattern.parts {
                    check_no_param_props(p, &part.element, "MATCH")?;
                }
            }
            Clause::Delete(d) => {
                for e in &d.exprs {
                    if let ExprKind::HasLabels(..) = e.kind {
                        return Err(p.error_at(
                            e.span,
                            "DELETE removes nodes, relationships or paths, not labels: use \
                             REMOVE n:Label to remove a label",
                        ));
                    }
                }
            }
            Clause::Return(r) => duplicate_columns(p, &r.projection, "RETURN")?,
            Clause::With(w) => {
                duplicate_columns(p, &w.projection, "WITH")?;
                for item in &w.projection.items {
                    if item.alias.is_none() && !matches!(item.expr.kind, ExprKind::Variable(_)) {
                        return Err(p.error_at(
                            item.expr.span,
                            format!(
                                "Expression in WITH must be aliased (use AS): '{}'",
                                item.text
                            ),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_rels(p: &Parser<'_>, el: &PatternElement, clause: &str, directed: bool) -> Result<()> {
    for (r, _) in &el.chain {
        if r.types.len() != 1 {
            return Err(p.error_at(
                r.span,
                format!("A relationship in {clause} must have exactly one type, like -[:KNOWS]->"),
            ));
        }
        if directed && r.direction == RelDirection::Both {
            return Err(p.error_at(
                r.span,
                format!("A relationship in {clause} must have a direction: use -> or <-"),
            ));
        }
        if r.length.is_some() {
            return Err(p.error_at(
                r.span,
                format!("A variable-length relationship cannot be used in {clause}"),
            ));
        }
    }
    Ok(())
}

fn check_no_param_props(p: &Parser<'_>, el: &PatternElement, clause: &str) -> Result<()> {
    let nodes = std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n));
    let props = nodes
        .map(|n| &n.properties)
        .chain(el.chain.iter().map(|(r, _)| &r.properties));
    for e in props.flatten() {
        if let ExprKind::Parameter(name) = &e.kind {
            return Err(p.error_at(
                e.span,
                format!(
                    "A parameter cannot be used as a property map in {clause}: write \
                     {{key: ${name}.key, ...}} instead of ${name}"
                ),
            ));
        }
    }
    Ok(())
}

/// A pattern used as an expression (`(a)-->(b)`) is a boolean test: it may stand in WHERE
/// and under NOT / AND / OR / XOR there, or be the argument of `exists()`, but not be
/// returned, stored or passed around as a value (use a pattern comprehension for that).
pub(super) fn pattern_predicates(p: &Parser<'_>, q: &SingleQuery) -> Result<()> {
    for c in &q.clauses {
        clause_patterns(p, c)?;
    }
    Ok(())
}

fn clause_patterns(p: &Parser<'_>, c: &Clause) -> Result<()> {
    let v = |e: &Expr| expr_patterns(p, e, false);
    let b = |e: &Expr| expr_patterns(p, e, true);
    match c {
        Clause::Match(m) => {
            pattern_exprs(p, &m.pattern)?;
            m.where_.iter().try_for_each(b)
        }
        Clause::Unwind(u) => v(&u.expr),
        Clause::With(w) => {
            projection_patterns(p, &w.projection)?;
            w.where_.iter().try_for_each(b)
        }
        Clause::Return(r) => projection_patterns(p, &r.projection),
        Clause::Create(cr) => pattern_exprs(p, &cr.pattern),
        Clause::Merge(m) => {
            element_exprs(p, &m.part.element)?;
            m.on_create
                .iter()
                .chain(m.on_match.iter())
                .try_for_each(|i| set_item_patterns(p, i))
        }
        Clause::Set(s) => s.items.iter().try_for_each(|i| set_item_patterns(p, i)),
        Clause::Remove(r) => r.items.iter().try_for_each(|i| match i {
            RemoveItem::Property { target, .. } => v(target),
            RemoveItem::Labels { .. } => Ok(()),
        }),
        Clause::Delete(d) => d.exprs.iter().try_for_each(v),
        Clause::Call(call) => {
            call.args.iter().flatten().try_for_each(v)?;
            call.where_.iter().try_for_each(b)
        }
        Clause::LoadCsv(l) => v(&l.url),
        Clause::Foreach(f) => {
            v(&f.list)?;
            f.clauses.iter().try_for_each(|c| clause_patterns(p, c))
        }
    }
}

fn projection_patterns(p: &Parser<'_>, pr: &Projection) -> Result<()> {
    let v = |e: &Expr| expr_patterns(p, e, false);
    pr.items.iter().try_for_each(|i| v(&i.expr))?;
    pr.order_by.iter().try_for_each(|s| v(&s.expr))?;
    pr.skip.iter().chain(pr.limit.iter()).try_for_each(v)
}

fn set_item_patterns(p: &Parser<'_>, i: &SetItem) -> Result<()> {
    match i {
        SetItem::Property { target, value, .. } => {
            expr_patterns(p, target, false)?;
            expr_patterns(p, value, false)
        }
        SetItem::Replace { value, .. } | SetItem::MergeMap { value, .. } => {
            expr_patterns(p, value, false)
        }
        SetItem::Labels { .. } => Ok(()),
    }
}

fn pattern_exprs(p: &Parser<'_>, pat: &Pattern) -> Result<()> {
    pat.parts
        .iter()
        .try_for_each(|part| element_exprs(p, &part.element))
}

fn element_exprs(p: &Parser<'_>, el: &PatternElement) -> Result<()> {
    let nodes = std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n));
    let props = nodes
        .map(|n| &n.properties)
        .chain(el.chain.iter().map(|(r, _)| &r.properties));
    props.flatten().try_for_each(|e| expr_patterns(p, e, false))
}

fn expr_patterns(p: &Parser<'_>, e: &Expr, boolean: bool) -> Result<()> {
    let v = |e: &Expr| expr_patterns(p, e, false);
    let b = |e: &Expr| expr_patterns(p, e, true);
    match &e.kind {
        ExprKind::PatternPredicate(el) => {
            if !boolean {
                return Err(p.error_at(
                    e.span,
                    "A pattern can only be used as a predicate here (in WHERE, or in \
                     exists(...)); use a pattern comprehension [(a)-->(b) | b] to get values",
                ));
            }
            element_exprs(p, el)
        }
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar => Ok(()),
        ExprKind::List(items) => items.iter().try_for_each(v),
        ExprKind::Map(kv) => kv.iter().try_for_each(|(_, e)| v(e)),
        ExprKind::Property(a, _) | ExprKind::HasLabels(a, _) => v(a),
        ExprKind::IsNull { expr, .. } => v(expr),
        ExprKind::Index(a, i) => {
            v(a)?;
            v(i)
        }
        ExprKind::Slice(a, f, t) => {
            v(a)?;
            f.iter().chain(t.iter()).try_for_each(|e| v(e))
        }
        ExprKind::Unary(UnaryOp::Not, a) => expr_patterns(p, a, boolean),
        ExprKind::Unary(_, a) => v(a),
        ExprKind::Binary(BinaryOp::And | BinaryOp::Or | BinaryOp::Xor, l, r) => {
            expr_patterns(p, l, boolean)?;
            expr_patterns(p, r, boolean)
        }
        ExprKind::Binary(_, l, r) => {
            v(l)?;
            v(r)
        }
        ExprKind::FunctionCall { name, args, .. } => {
            // exists() tests a pattern; shortestPath() and allShortestPaths() take one.
            let is_exists = ["exists", "shortestPath", "allShortestPaths"]
                .iter()
                .any(|f| name.eq_ignore_ascii_case(f));
            args.iter().try_for_each(|a| expr_patterns(p, a, is_exists))
        }
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => {
            operand.iter().try_for_each(|e| v(e))?;
            for (w, t) in whens {
                expr_patterns(p, w, operand.is_none())?;
                v(t)?;
            }
            else_.iter().try_for_each(|e| v(e))
        }
        ExprKind::ListComprehension {
            list, filter, map, ..
        } => {
            v(list)?;
            filter.iter().try_for_each(|e| b(e))?;
            map.iter().try_for_each(|e| v(e))
        }
        ExprKind::PatternComprehension {
            pattern,
            filter,
            map,
            ..
        } => {
            element_exprs(p, pattern)?;
            filter.iter().try_for_each(|e| b(e))?;
            v(map)
        }
        ExprKind::Quantified { list, filter, .. } => {
            v(list)?;
            filter.iter().try_for_each(|e| b(e))
        }
        ExprKind::Reduce {
            init, list, expr, ..
        } => {
            v(init)?;
            v(list)?;
            v(expr)
        }
        ExprKind::ExistsSubquery(q) | ExprKind::CountSubquery(q) => pattern_predicates(p, q),
        ExprKind::MapProjection { items, .. } => items.iter().try_for_each(|i| match i {
            MapProjectionItem::Literal(_, e) => v(e),
            _ => Ok(()),
        }),
    }
}

fn duplicate_columns(p: &Parser<'_>, pr: &Projection, clause: &str) -> Result<()> {
    for (i, item) in pr.items.iter().enumerate() {
        if pr.items[..i].iter().any(|o| o.name() == item.name()) {
            let at = item.alias.as_ref().map_or(item.expr.span, |a| a.span);
            return Err(p.error_at(
                at,
                format!(
                    "Multiple result columns with the same name '{}' in {clause}: give each a \
                     different alias",
                    item.name()
                ),
            ));
        }
    }
    Ok(())
}

/// The parts of a UNION must return the same columns (checked when no part uses `*`).
pub(super) fn union_columns(p: &Parser<'_>, q: &Query) -> Result<()> {
    let columns = |sq: &SingleQuery| -> Option<Vec<String>> {
        match sq.clauses.last() {
            Some(Clause::Return(r)) if !r.projection.star => Some(
                r.projection
                    .items
                    .iter()
                    .map(|i| i.name().to_string())
                    .collect(),
            ),
            _ => None,
        }
    };
    let Some(first) = q.parts.first().and_then(columns) else {
        return Ok(());
    };
    for part in &q.parts[1..] {
        if let Some(cols) = columns(part) {
            if cols != first {
                return Err(p.error_at(
                    part.span,
                    format!(
                        "All parts of a UNION must return the same columns: ({}) differs from \
                         ({})",
                        cols.join(", "),
                        first.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}
