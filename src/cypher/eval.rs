//! Expression evaluation.
//!
//! [`eval`] walks an [`Expr`] recursively (the parser caps nesting depth, so recursion is
//! bounded). Operators on plain values live in `ops`; graph lookups (properties, labels) go
//! through the transaction in [`EvalContext`]; variables introduced inside an expression (list
//! comprehensions, quantifiers, `reduce`, pattern comprehensions) are layered over the outer
//! [`Bindings`] by `scope`, never copied into them.

mod graph;
pub(crate) mod ops;
mod scope;

use std::collections::BTreeMap;

use super::ast::{BinaryOp, Expr, ExprKind, Literal, MapProjectionItem, Quantifier, UnaryOp};
use super::{aggregate, functions, semantics, ExecControl, ParamMap};
use crate::error::{Error, Result};
use crate::txn::Transaction;
use crate::value::Value;

pub(crate) use graph::{all_properties, deleted_entity, property_of_ident};
use scope::{RowScope, Scope};

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

/// How often (in list elements) loops inside an expression poll the interrupt flag.
const CHECK_EVERY: usize = 1024;

fn check_every(i: usize, ctx: &EvalContext) -> Result<()> {
    if i % CHECK_EVERY == 0 {
        ctx.control.check()?;
    }
    Ok(())
}

/// Evaluates `expr`. Aggregate calls are not evaluated here (the executor computes them and
/// binds their results); meeting one is an internal error.
pub fn eval(expr: &Expr, bindings: &dyn Bindings, ctx: &EvalContext) -> Result<Value> {
    match &expr.kind {
        ExprKind::Literal(l) => Ok(literal(l)),
        ExprKind::Parameter(name) => ctx
            .params
            .get(name)
            .cloned()
            .ok_or_else(|| missing_parameter(name)),
        ExprKind::Variable(name) => variable(name, bindings),
        ExprKind::List(items) => items
            .iter()
            .map(|e| eval(e, bindings, ctx))
            .collect::<Result<Vec<_>>>()
            .map(Value::List),
        ExprKind::Map(entries) => {
            let mut m = BTreeMap::new();
            for (k, e) in entries {
                m.insert(k.name.clone(), eval(e, bindings, ctx)?);
            }
            Ok(Value::Map(m))
        }
        ExprKind::Property(target, key) => {
            with_value(target, bindings, ctx, |v| property_of_ident(ctx, v, key))
        }
        ExprKind::Index(target, index) => with_value(target, bindings, ctx, |v| {
            with_value(index, bindings, ctx, |i| graph::index(ctx, v, i))
        }),
        ExprKind::Slice(target, from, to) => {
            let v = eval(target, bindings, ctx)?;
            let bound = |b: &Option<Box<Expr>>| -> Result<Option<Value>> {
                b.as_ref().map(|e| eval(e, bindings, ctx)).transpose()
            };
            let from = bound(from)?;
            let to = bound(to)?;
            slice(v, from, to)
        }
        ExprKind::Unary(op, e) => {
            let v = eval(e, bindings, ctx)?;
            match op {
                UnaryOp::Not => ops::not(&v),
                UnaryOp::Neg => ops::neg(&v),
                UnaryOp::Pos => ops::pos(v),
            }
        }
        ExprKind::Binary(op, l, r) => binary(*op, l, r, bindings, ctx),
        ExprKind::IsNull { expr, negated } => {
            let v = eval(expr, bindings, ctx)?;
            Ok(Value::Bool(v.is_null() != *negated))
        }
        ExprKind::HasLabels(e, labels) => {
            let v = eval(e, bindings, ctx)?;
            graph::has_labels(ctx, &v, labels)
        }
        ExprKind::FunctionCall { name, args, .. } => function_call(name, args, bindings, ctx),
        ExprKind::CountStar => Err(Error::internal(
            "count(*) reached the scalar evaluator; the executor must compute aggregates",
        )),
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => case(operand.as_deref(), whens, else_.as_deref(), bindings, ctx),
        ExprKind::ListComprehension {
            variable,
            list,
            filter,
            map,
        } => {
            let Some(items) = list_operand(eval(list, bindings, ctx)?, "list comprehension")?
            else {
                return Ok(Value::Null);
            };
            let mut scope = Scope::new(bindings, &variable.name);
            let mut out = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                check_every(i, ctx)?;
                scope.set(0, item);
                if let Some(f) = filter {
                    if ops::truth(&eval(f, &scope, ctx)?, "WHERE")? != Some(true) {
                        continue;
                    }
                }
                out.push(match map {
                    Some(m) => eval(m, &scope, ctx)?,
                    None => scope.take(0),
                });
            }
            Ok(Value::List(out))
        }
        ExprKind::Quantified {
            quantifier,
            variable,
            list,
            filter,
        } => quantified(
            *quantifier,
            &variable.name,
            list,
            filter.as_deref(),
            bindings,
            ctx,
        ),
        ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => {
            let acc = eval(init, bindings, ctx)?;
            let Some(items) = list_operand(eval(list, bindings, ctx)?, "reduce")? else {
                return Ok(Value::Null);
            };
            let mut scope = Scope::new(bindings, &accumulator.name);
            scope.push(&variable.name, Value::Null);
            scope.set(0, acc);
            for (i, item) in items.into_iter().enumerate() {
                check_every(i, ctx)?;
                scope.set(1, item);
                let next = eval(expr, &scope, ctx)?;
                scope.set(0, next);
            }
            Ok(scope.take(0))
        }
        ExprKind::PatternPredicate(pattern) => {
            let rows = ctx.subqueries.match_pattern(pattern, None, bindings, ctx)?;
            Ok(Value::Bool(!rows.is_empty()))
        }
        ExprKind::ExistsSubquery(q) => {
            let n = ctx.subqueries.run_subquery(q, bindings, ctx)?;
            Ok(Value::Bool(n > 0))
        }
        ExprKind::CountSubquery(q) => {
            let n = ctx.subqueries.run_subquery(q, bindings, ctx)?;
            i64::try_from(n)
                .map(Value::Int)
                .map_err(|_| Error::internal("COUNT { } result does not fit in an Integer"))
        }
        ExprKind::PatternComprehension {
            path_variable,
            pattern,
            filter,
            map,
        } => {
            let path = path_variable.as_ref().map(|v| v.name.as_str());
            let rows = ctx.subqueries.match_pattern(pattern, path, bindings, ctx)?;
            let mut out = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                check_every(i, ctx)?;
                let scope = RowScope::new(bindings, row);
                if let Some(f) = filter {
                    if ops::truth(&eval(f, &scope, ctx)?, "WHERE")? != Some(true) {
                        continue;
                    }
                }
                out.push(eval(map, &scope, ctx)?);
            }
            Ok(Value::List(out))
        }
        ExprKind::MapProjection { variable, items } => {
            map_projection(&variable.name, items, bindings, ctx)
        }
    }
}

/// Runs `f` on the value of `expr`, borrowing it when `expr` names a variable or a
/// parameter instead of cloning it (`$ids` in `n.id IN $ids` may be a long list, evaluated
/// once per row).
fn with_value<R>(
    expr: &Expr,
    bindings: &dyn Bindings,
    ctx: &EvalContext,
    f: impl FnOnce(&Value) -> Result<R>,
) -> Result<R> {
    match &expr.kind {
        ExprKind::Variable(name) => match bindings.get(name) {
            Some(v) => f(v),
            None => Err(unknown_variable(name)),
        },
        ExprKind::Parameter(name) => match ctx.params.get(name) {
            Some(v) => f(v),
            None => Err(missing_parameter(name)),
        },
        _ => f(&eval(expr, bindings, ctx)?),
    }
}

fn unknown_variable(name: &str) -> Error {
    Error::semantic(format!("Variable `{name}` not defined"))
}

fn missing_parameter(name: &str) -> Error {
    Error::semantic(format!(
        "Expected parameter: ${name}; pass a value for it with the query"
    ))
}

fn literal(l: &Literal) -> Value {
    match l {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(i) => Value::Int(*i),
        Literal::Float(f) => Value::Float(*f),
        Literal::String(s) => Value::String(s.clone()),
    }
}

fn variable(name: &str, bindings: &dyn Bindings) -> Result<Value> {
    bindings
        .get(name)
        .cloned()
        .ok_or_else(|| unknown_variable(name))
}

fn binary(
    op: BinaryOp,
    l: &Expr,
    r: &Expr,
    bindings: &dyn Bindings,
    ctx: &EvalContext,
) -> Result<Value> {
    // AND / OR short-circuit on a decisive left operand (the right side is not evaluated,
    // exactly as if it had produced any value).
    match op {
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => {
            let name = match op {
                BinaryOp::And => "AND",
                BinaryOp::Or => "OR",
                _ => "XOR",
            };
            let a = ops::truth(&eval(l, bindings, ctx)?, name)?;
            match (op, a) {
                (BinaryOp::And, Some(false)) => return Ok(Value::Bool(false)),
                (BinaryOp::Or, Some(true)) => return Ok(Value::Bool(true)),
                _ => {}
            }
            let b = ops::truth(&eval(r, bindings, ctx)?, name)?;
            return Ok(ops::tri(match op {
                BinaryOp::And => ops::and(a, b),
                BinaryOp::Or => ops::or(a, b),
                _ => ops::xor(a, b),
            }));
        }
        _ => {}
    }
    if op == BinaryOp::In {
        let x = eval(l, bindings, ctx)?;
        return with_value(r, bindings, ctx, |list| ops::in_list(&x, list));
    }
    let a = eval(l, bindings, ctx)?;
    let b = eval(r, bindings, ctx)?;
    match op {
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            Ok(ops::tri(semantics::comparison(op, &a, &b)))
        }
        BinaryOp::Add => ops::add(a, b),
        BinaryOp::Sub => ops::sub(&a, &b),
        BinaryOp::Mul => ops::mul(&a, &b),
        BinaryOp::Div => ops::div(&a, &b),
        BinaryOp::Mod => ops::rem(&a, &b),
        BinaryOp::Pow => ops::pow(&a, &b),
        BinaryOp::StartsWith => Ok(ops::string_predicate(&a, &b, |x, y| x.starts_with(y))),
        BinaryOp::EndsWith => Ok(ops::string_predicate(&a, &b, |x, y| x.ends_with(y))),
        BinaryOp::Contains => Ok(ops::string_predicate(&a, &b, |x, y| x.contains(y))),
        BinaryOp::RegexMatch => match (&a, &b) {
            (Value::String(text), Value::String(pattern)) => {
                ops::regex_match(text, pattern).map(Value::Bool)
            }
            _ => Ok(Value::Null),
        },
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor | BinaryOp::In => Err(Error::internal(
            "an operator with its own evaluation path fell through",
        )),
    }
}

/// The list operand of a comprehension-like construct: `None` for null.
fn list_operand(v: Value, what: &str) -> Result<Option<Vec<Value>>> {
    match v {
        Value::Null => Ok(None),
        Value::List(items) => Ok(Some(items)),
        other => Err(Error::type_error(format!(
            "{what} expects a List after IN, got {}",
            other.type_name()
        ))),
    }
}

/// Resolves a slice bound against `len`: negative counts from the end; clamped to
/// `[0, len]`.
fn slice_bound(v: Value, len: usize) -> Result<usize> {
    let Value::Int(i) = v else {
        return Err(Error::type_error(format!(
            "list slice bounds must be Integers, got {}",
            v.type_name()
        )));
    };
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let resolved = if i < 0 { len_i.saturating_add(i) } else { i };
    Ok(usize::try_from(resolved.clamp(0, len_i)).unwrap_or(0))
}

fn slice(v: Value, from: Option<Value>, to: Option<Value>) -> Result<Value> {
    let items = match v {
        Value::Null => return Ok(Value::Null),
        Value::List(items) => items,
        other => {
            return Err(Error::type_error(format!(
                "cannot slice {}; only lists can be sliced",
                other.type_name()
            )))
        }
    };
    if from.as_ref().is_some_and(Value::is_null) || to.as_ref().is_some_and(Value::is_null) {
        return Ok(Value::Null);
    }
    let len = items.len();
    let start = from.map_or(Ok(0), |f| slice_bound(f, len))?;
    let end = to.map_or(Ok(len), |t| slice_bound(t, len))?;
    if start >= end {
        return Ok(Value::List(Vec::new()));
    }
    Ok(Value::List(
        items.into_iter().skip(start).take(end - start).collect(),
    ))
}

fn function_call(
    name: &str,
    args: &[Expr],
    bindings: &dyn Bindings,
    ctx: &EvalContext,
) -> Result<Value> {
    if aggregate::is_aggregate(name) {
        return Err(Error::internal(format!(
            "aggregate function {name}() reached the scalar evaluator; the executor must compute aggregates"
        )));
    }
    functions::check_call(name, args.len())?;
    // exists((a)-->(b)) is the pattern predicate itself, not "is the predicate non-null".
    if name.eq_ignore_ascii_case("exists") {
        if let [arg] = args {
            if matches!(arg.kind, ExprKind::PatternPredicate(_)) {
                return eval(arg, bindings, ctx);
            }
        }
    }
    // coalesce is lazy: arguments after the first non-null one are not evaluated.
    if name.eq_ignore_ascii_case("coalesce") {
        for a in args {
            let v = eval(a, bindings, ctx)?;
            if !v.is_null() {
                return Ok(v);
            }
        }
        return Ok(Value::Null);
    }
    let values = args
        .iter()
        .map(|a| eval(a, bindings, ctx))
        .collect::<Result<Vec<_>>>()?;
    functions::call(name, values, ctx)
}

fn case(
    operand: Option<&Expr>,
    whens: &[(Expr, Expr)],
    else_: Option<&Expr>,
    bindings: &dyn Bindings,
    ctx: &EvalContext,
) -> Result<Value> {
    let subject = operand.map(|o| eval(o, bindings, ctx)).transpose()?;
    for (when, then) in whens {
        let w = eval(when, bindings, ctx)?;
        let hit = match &subject {
            Some(s) => semantics::equals(s, &w) == Some(true),
            None => ops::truth(&w, "CASE WHEN")? == Some(true),
        };
        if hit {
            return eval(then, bindings, ctx);
        }
    }
    else_.map_or(Ok(Value::Null), |e| eval(e, bindings, ctx))
}

fn quantified(
    quantifier: Quantifier,
    var: &str,
    list: &Expr,
    filter: Option<&Expr>,
    bindings: &dyn Bindings,
    ctx: &EvalContext,
) -> Result<Value> {
    let name = match quantifier {
        Quantifier::All => "all()",
        Quantifier::Any => "any()",
        Quantifier::None => "none()",
        Quantifier::Single => "single()",
    };
    let Some(items) = list_operand(eval(list, bindings, ctx)?, name)? else {
        return Ok(Value::Null);
    };
    let mut scope = Scope::new(bindings, var);
    let (mut trues, mut falses, mut nulls) = (0usize, 0usize, 0usize);
    for (i, item) in items.into_iter().enumerate() {
        check_every(i, ctx)?;
        scope.set(0, item);
        let t = match filter {
            Some(f) => ops::truth(&eval(f, &scope, ctx)?, name)?,
            None => ops::truth(scope.value(0), name)?,
        };
        match t {
            Some(true) => trues += 1,
            Some(false) => falses += 1,
            None => nulls += 1,
        }
        // Stop as soon as the answer cannot change.
        let decided = match quantifier {
            Quantifier::All => falses > 0,
            Quantifier::Any | Quantifier::None => trues > 0,
            Quantifier::Single => trues > 1,
        };
        if decided {
            break;
        }
    }
    Ok(ops::tri(quantifier_result(
        quantifier, trues, falses, nulls,
    )))
}

fn quantifier_result(q: Quantifier, trues: usize, falses: usize, nulls: usize) -> Option<bool> {
    match q {
        Quantifier::All if falses > 0 => Some(false),
        Quantifier::All => (nulls == 0).then_some(true),
        Quantifier::Any if trues > 0 => Some(true),
        Quantifier::Any => (nulls == 0).then_some(false),
        Quantifier::None if trues > 0 => Some(false),
        Quantifier::None => (nulls == 0).then_some(true),
        Quantifier::Single if trues > 1 => Some(false),
        Quantifier::Single if nulls > 0 => None,
        Quantifier::Single => Some(trues == 1),
    }
}

fn map_projection(
    var: &str,
    items: &[MapProjectionItem],
    bindings: &dyn Bindings,
    ctx: &EvalContext,
) -> Result<Value> {
    let base = variable(var, bindings)?;
    match &base {
        Value::Null => return Ok(Value::Null),
        Value::Map(_) | Value::Node(_) | Value::Relationship(_) => {}
        other => {
            return Err(Error::type_error(format!(
                "map projection needs a node, relationship or map, but `{var}` is {}",
                other.type_name()
            )))
        }
    }
    let mut out = BTreeMap::new();
    for item in items {
        match item {
            MapProjectionItem::Property(key) => {
                out.insert(key.name.clone(), property_of_ident(ctx, &base, key)?);
            }
            MapProjectionItem::AllProperties => {
                if let Some(props) = all_properties(ctx, &base) {
                    out.extend(props);
                }
            }
            MapProjectionItem::Literal(key, e) => {
                out.insert(key.name.clone(), eval(e, bindings, ctx)?);
            }
            MapProjectionItem::Variable(v) => {
                out.insert(v.name.clone(), variable(&v.name, bindings)?);
            }
        }
    }
    Ok(Value::Map(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: Vec<Value>) -> Value {
        Value::List(v)
    }
    fn ints(v: &[i64]) -> Value {
        list(v.iter().map(|i| Value::Int(*i)).collect())
    }

    #[test]
    fn slices_follow_tck() {
        let l = || ints(&[1, 2, 3]);
        let i = |x: i64| Some(Value::Int(x));
        assert_eq!(slice(ints(&[1, 2, 3, 4, 5]), i(1), i(3)), Ok(ints(&[2, 3])));
        assert_eq!(slice(l(), i(1), None), Ok(ints(&[2, 3])));
        assert_eq!(slice(l(), None, i(2)), Ok(ints(&[1, 2])));
        assert_eq!(slice(l(), i(0), i(0)), Ok(ints(&[])));
        assert_eq!(slice(l(), i(-3), i(-1)), Ok(ints(&[1, 2])));
        assert_eq!(slice(l(), i(3), i(1)), Ok(ints(&[])));
        assert_eq!(slice(l(), i(-5), i(5)), Ok(ints(&[1, 2, 3])));
        assert_eq!(slice(l(), Some(Value::Null), i(1)), Ok(Value::Null));
        assert_eq!(slice(l(), i(1), Some(Value::Null)), Ok(Value::Null));
        assert_eq!(slice(Value::Null, i(1), i(2)), Ok(Value::Null));
        assert!(slice(l(), Some(Value::Float(1.0)), None).is_err());
        assert!(slice(Value::from("abc"), i(1), None).is_err());
    }

    #[test]
    fn quantifier_null_semantics() {
        use Quantifier::{All, Any, Single};
        let none = Quantifier::None;
        // (trues, falses, nulls)
        assert_eq!(quantifier_result(All, 2, 0, 0), Some(true));
        assert_eq!(quantifier_result(All, 2, 0, 1), None);
        assert_eq!(quantifier_result(All, 2, 1, 1), Some(false));
        assert_eq!(quantifier_result(All, 0, 0, 0), Some(true));
        assert_eq!(quantifier_result(Any, 0, 0, 0), Some(false));
        assert_eq!(quantifier_result(Any, 1, 0, 1), Some(true));
        assert_eq!(quantifier_result(Any, 0, 2, 1), None);
        assert_eq!(quantifier_result(none, 0, 2, 0), Some(true));
        assert_eq!(quantifier_result(none, 1, 0, 1), Some(false));
        assert_eq!(quantifier_result(none, 0, 1, 1), None);
        assert_eq!(quantifier_result(Single, 1, 3, 0), Some(true));
        assert_eq!(quantifier_result(Single, 2, 0, 0), Some(false));
        assert_eq!(quantifier_result(Single, 0, 2, 0), Some(false));
        assert_eq!(quantifier_result(Single, 1, 0, 1), None);
        assert_eq!(quantifier_result(Single, 0, 0, 1), None);
    }
}

#[cfg(test)]
mod eval_tests;
