//! Operators on already-evaluated values: three-valued logic, arithmetic with overflow
//! detection, concatenation, string predicates and `IN`. Pure: no graph access, so every rule
//! here is unit-tested without a transaction.

use crate::error::{Error, ErrorKind, Result};
use crate::temporal::arith::{self as temporal, Op};
use crate::value::Value;

use super::super::semantics;

/// A value used as a boolean operand of `op`: `Some(b)`, `None` for null, a type error else.
pub(crate) fn truth(v: &Value, op: &str) -> Result<Option<bool>> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(Error::type_error(format!(
            "{op} expects Boolean operands, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn tri(b: Option<bool>) -> Value {
    b.map_or(Value::Null, Value::Bool)
}

pub(crate) fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

pub(crate) fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

pub(crate) fn xor(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    Some(a? != b?)
}

pub(crate) fn not(v: &Value) -> Result<Value> {
    Ok(tri(truth(v, "NOT")?.map(|b| !b)))
}

fn overflow(what: &str) -> Error {
    Error::new(
        ErrorKind::Error,
        format!("integer overflow in {what}: the result does not fit in a 64-bit integer; convert an operand with toFloat() to compute with floats"),
    )
}

fn arith_type_error(verb: &str, a: &Value, b: &Value) -> Error {
    Error::type_error(format!(
        "cannot {verb} {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

/// Applies an integer operation (checked) or a float operation, promoting Int to Float
/// when the operands are mixed. `None` when an operand is not a number.
fn numeric(
    a: &Value,
    b: &Value,
    int_op: impl Fn(i64, i64) -> Result<i64>,
    float_op: impl Fn(f64, f64) -> f64,
) -> Option<Result<Value>> {
    Some(match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_op(*x, *y).map(Value::Int),
        (Value::Int(x), Value::Float(y)) => Ok(Value::Float(float_op(*x as f64, *y))),
        (Value::Float(x), Value::Int(y)) => Ok(Value::Float(float_op(*x, *y as f64))),
        (Value::Float(x), Value::Float(y)) => Ok(Value::Float(float_op(*x, *y))),
        _ => return None,
    })
}

pub(crate) fn add(a: Value, b: Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if let Some(r) = numeric(
        &a,
        &b,
        |x, y| x.checked_add(y).ok_or_else(|| overflow("addition")),
        |x, y| x + y,
    ) {
        return r;
    }
    if let Some(r) = temporal::binary(Op::Add, &a, &b) {
        return r;
    }
    match (a, b) {
        (Value::String(mut x), Value::String(y)) => {
            x.push_str(&y);
            Ok(Value::String(x))
        }
        (Value::List(mut x), Value::List(y)) => {
            x.extend(y);
            Ok(Value::List(x))
        }
        (Value::List(mut x), y) => {
            x.push(y);
            Ok(Value::List(x))
        }
        (x, Value::List(mut y)) => {
            y.insert(0, x);
            Ok(Value::List(y))
        }
        (x, y) => Err(arith_type_error("add", &x, &y)),
    }
}

pub(crate) fn sub(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    numeric(
        a,
        b,
        |x, y| x.checked_sub(y).ok_or_else(|| overflow("subtraction")),
        |x, y| x - y,
    )
    .or_else(|| temporal::binary(Op::Sub, a, b))
    .unwrap_or_else(|| Err(arith_type_error("subtract", a, b)))
}

pub(crate) fn mul(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    numeric(
        a,
        b,
        |x, y| x.checked_mul(y).ok_or_else(|| overflow("multiplication")),
        |x, y| x * y,
    )
    .or_else(|| temporal::binary(Op::Mul, a, b))
    .unwrap_or_else(|| Err(arith_type_error("multiply", a, b)))
}

fn division_by_zero() -> Error {
    Error::new(
        ErrorKind::Error,
        "division by zero: integer division and modulo need a non-zero divisor (float division by zero gives Infinity or NaN)",
    )
}

/// Integer division truncates toward zero; float division follows IEEE 754.
pub(crate) fn div(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    numeric(
        a,
        b,
        |x, y| {
            if y == 0 {
                return Err(division_by_zero());
            }
            x.checked_div(y).ok_or_else(|| overflow("division"))
        },
        |x, y| x / y,
    )
    .or_else(|| temporal::binary(Op::Div, a, b))
    .unwrap_or_else(|| Err(arith_type_error("divide", a, b)))
}

/// The remainder has the sign of the dividend (as in Java and Rust).
pub(crate) fn rem(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    numeric(
        a,
        b,
        |x, y| {
            if y == 0 {
                return Err(division_by_zero());
            }
            // i64::MIN % -1 is mathematically 0; only the CPU instruction overflows.
            Ok(x.wrapping_rem(y))
        },
        |x, y| x % y,
    )
    .unwrap_or_else(|| Err(arith_type_error("compute the remainder of", a, b)))
}

/// `^` always yields a Float.
pub(crate) fn pow(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    match (as_f64(a), as_f64(b)) {
        (Some(x), Some(y)) => Ok(Value::Float(x.powf(y))),
        _ => Err(arith_type_error("raise to a power", a, b)),
    }
}

pub(crate) fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

pub(crate) fn neg(v: &Value) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| overflow("negation")),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Duration(d) => d.checked_neg().map(Value::Duration),
        other => Err(Error::type_error(format!(
            "cannot negate {}; unary minus needs a number",
            other.type_name()
        ))),
    }
}

pub(crate) fn pos(v: Value) -> Result<Value> {
    match v {
        Value::Null | Value::Int(_) | Value::Float(_) => Ok(v),
        other => Err(Error::type_error(format!(
            "unary plus needs a number, got {}",
            other.type_name()
        ))),
    }
}

/// `x IN list`: true if some element equals `x`; otherwise null if some comparison was null;
/// otherwise false.
pub(crate) fn in_list(x: &Value, list: &Value) -> Result<Value> {
    let items = match list {
        Value::Null => return Ok(Value::Null),
        Value::List(items) => items,
        other => {
            return Err(Error::type_error(format!(
                "IN expects a List on its right, got {}",
                other.type_name()
            )))
        }
    };
    let mut saw_null = false;
    for item in items {
        match semantics::equals(x, item) {
            Some(true) => return Ok(Value::Bool(true)),
            None => saw_null = true,
            Some(false) => {}
        }
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Bool(false)
    })
}

/// STARTS WITH / ENDS WITH / CONTAINS: null unless both sides are strings.
pub(crate) fn string_predicate(a: &Value, b: &Value, f: impl Fn(&str, &str) -> bool) -> Value {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Value::Bool(f(x, y)),
        _ => Value::Null,
    }
}

/// `text =~ pattern`: the whole string must match (openCypher semantics), so the pattern is
/// anchored. Compiled patterns are cached per thread, bounded, since the same few patterns
/// recur row after row.
pub(crate) fn regex_match(text: &str, pattern: &str) -> Result<bool> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(re) = cache.get(pattern) {
            return Ok(re.is_match(text));
        }
        let re = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Error,
                    format!("invalid regular expression '{pattern}': {e}"),
                )
            })?;
        let matched = re.is_match(text);
        if cache.len() >= 64 {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), re);
        Ok(matched)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Option<bool> = Some(true);
    const F: Option<bool> = Some(false);
    const N: Option<bool> = None;

    #[test]
    fn three_valued_truth_tables() {
        // (a, b, and, or, xor) as in TCK Boolean1-3.
        let table = [
            (T, T, T, T, F),
            (T, F, F, T, T),
            (T, N, N, T, N),
            (F, T, F, T, T),
            (F, F, F, F, F),
            (F, N, F, N, N),
            (N, T, N, T, N),
            (N, F, F, N, N),
            (N, N, N, N, N),
        ];
        for (a, b, want_and, want_or, want_xor) in table {
            assert_eq!(and(a, b), want_and, "{a:?} AND {b:?}");
            assert_eq!(or(a, b), want_or, "{a:?} OR {b:?}");
            assert_eq!(xor(a, b), want_xor, "{a:?} XOR {b:?}");
        }
        assert_eq!(not(&Value::Bool(true)), Ok(Value::Bool(false)));
        assert_eq!(not(&Value::Null), Ok(Value::Null));
        assert_eq!(
            not(&Value::Int(1)).map_err(|e| e.kind()),
            Err(ErrorKind::Type)
        );
        assert_eq!(
            truth(&Value::from("x"), "AND").map_err(|e| e.kind()),
            Err(ErrorKind::Type)
        );
    }

    fn i(x: i64) -> Value {
        Value::Int(x)
    }
    fn f(x: f64) -> Value {
        Value::Float(x)
    }
    fn kind(r: Result<Value>) -> ErrorKind {
        match r {
            Err(e) => e.kind(),
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    #[test]
    fn arithmetic() {
        assert_eq!(add(i(1), i(2)), Ok(i(3)));
        assert_eq!(add(i(1), f(0.5)), Ok(f(1.5)));
        assert_eq!(sub(&f(1.0), &i(3)), Ok(f(-2.0)));
        assert_eq!(mul(&i(6), &i(7)), Ok(i(42)));
        assert_eq!(div(&i(7), &i(2)), Ok(i(3)));
        assert_eq!(div(&i(-7), &i(2)), Ok(i(-3)));
        assert_eq!(div(&f(7.0), &i(2)), Ok(f(3.5)));
        assert_eq!(rem(&i(-7), &i(3)), Ok(i(-1)));
        assert_eq!(rem(&f(7.5), &i(2)), Ok(f(1.5)));
        assert_eq!(rem(&i(i64::MIN), &i(-1)), Ok(i(0)));
        assert_eq!(pow(&i(2), &i(10)), Ok(f(1024.0)));
        assert_eq!(neg(&i(5)), Ok(i(-5)));
        assert_eq!(add(Value::Null, i(1)), Ok(Value::Null));
        assert_eq!(mul(&i(2), &Value::Null), Ok(Value::Null));
        assert_eq!(pos(f(2.0)), Ok(f(2.0)));
    }

    #[test]
    fn float_division_is_ieee() {
        assert_eq!(div(&f(1.0), &i(0)), Ok(f(f64::INFINITY)));
        assert!(matches!(div(&f(0.0), &f(0.0)), Ok(Value::Float(x)) if x.is_nan()));
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors() {
        assert_eq!(kind(add(i(i64::MAX), i(1))), ErrorKind::Error);
        assert_eq!(kind(sub(&i(i64::MIN), &i(1))), ErrorKind::Error);
        assert_eq!(kind(mul(&i(i64::MAX), &i(2))), ErrorKind::Error);
        assert_eq!(kind(div(&i(i64::MIN), &i(-1))), ErrorKind::Error);
        assert_eq!(kind(neg(&i(i64::MIN))), ErrorKind::Error);
        assert_eq!(kind(div(&i(1), &i(0))), ErrorKind::Error);
        assert_eq!(kind(rem(&i(1), &i(0))), ErrorKind::Error);
    }

    #[test]
    fn type_errors_name_operator_and_types() {
        let e = add(i(1), Value::from("a")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Type);
        assert_eq!(e.message(), "cannot add Integer and String");
        assert_eq!(kind(sub(&Value::from("a"), &i(1))), ErrorKind::Type);
        assert_eq!(kind(pow(&Value::Bool(true), &i(1))), ErrorKind::Type);
        assert_eq!(kind(neg(&Value::from("a"))), ErrorKind::Type);
    }

    #[test]
    fn temporal_arithmetic_dispatch() {
        use crate::temporal::parse;
        let date = Value::Date(parse::date("2015-01-31").unwrap());
        let dur = |s: &str| Value::Duration(parse::duration(s).unwrap());
        assert_eq!(
            add(date.clone(), dur("P1M")),
            Ok(Value::Date(parse::date("2015-02-28").unwrap()))
        );
        assert_eq!(
            add(dur("P1M"), date.clone()),
            Ok(Value::Date(parse::date("2015-02-28").unwrap()))
        );
        assert_eq!(
            sub(&date, &dur("P1D")),
            Ok(Value::Date(parse::date("2015-01-30").unwrap()))
        );
        assert_eq!(sub(&dur("P2D"), &dur("P1D")), Ok(dur("P1D")));
        assert_eq!(mul(&i(3), &dur("PT1S")), Ok(dur("PT3S")));
        assert_eq!(div(&dur("PT3S"), &f(2.0)), Ok(dur("PT1.5S")));
        assert_eq!(neg(&dur("P1D")), Ok(dur("P-1D")));
        assert_eq!(add(Value::Null, dur("P1D")), Ok(Value::Null));
        assert_eq!(kind(div(&dur("P1D"), &i(0))), ErrorKind::Error);
        assert_eq!(kind(add(date.clone(), i(1))), ErrorKind::Type);
        assert_eq!(kind(sub(&dur("P1D"), &date)), ErrorKind::Type);
        assert_eq!(kind(mul(&date, &i(2))), ErrorKind::Type);
    }

    #[test]
    fn concatenation() {
        assert_eq!(add("ab".into(), "cd".into()), Ok(Value::from("abcd")));
        let l = |v: Vec<Value>| Value::List(v);
        assert_eq!(add(l(vec![i(1)]), l(vec![i(2)])), Ok(l(vec![i(1), i(2)])));
        assert_eq!(add(l(vec![i(1)]), i(2)), Ok(l(vec![i(1), i(2)])));
        assert_eq!(add(i(0), l(vec![i(1)])), Ok(l(vec![i(0), i(1)])));
        assert_eq!(add(l(vec![]), l(vec![l(vec![])])), Ok(l(vec![l(vec![])])));
    }

    #[test]
    fn in_with_nulls() {
        let l = |v: Vec<Value>| Value::List(v);
        assert_eq!(
            in_list(&i(1), &l(vec![i(2), f(1.0)])),
            Ok(Value::Bool(true))
        );
        assert_eq!(in_list(&i(1), &l(vec![i(2), Value::Null])), Ok(Value::Null));
        assert_eq!(in_list(&i(1), &l(vec![i(2)])), Ok(Value::Bool(false)));
        assert_eq!(in_list(&Value::Null, &l(vec![])), Ok(Value::Bool(false)));
        assert_eq!(in_list(&Value::Null, &l(vec![i(1)])), Ok(Value::Null));
        assert_eq!(in_list(&i(1), &Value::Null), Ok(Value::Null));
        assert_eq!(
            in_list(&l(vec![i(1)]), &l(vec![l(vec![i(1)])])),
            Ok(Value::Bool(true))
        );
        assert_eq!(kind(in_list(&i(1), &i(1))), ErrorKind::Type);
    }

    #[test]
    fn string_predicates() {
        let sw = |a: &Value, b: &Value| string_predicate(a, b, |x, y| x.starts_with(y));
        assert_eq!(sw(&"abc".into(), &"ab".into()), Value::Bool(true));
        assert_eq!(sw(&"abc".into(), &"b".into()), Value::Bool(false));
        assert_eq!(sw(&"abc".into(), &i(1)), Value::Null);
        assert_eq!(sw(&Value::Null, &"a".into()), Value::Null);
    }
}

#[cfg(test)]
mod regex_tests {
    use super::regex_match;

    #[test]
    fn regex_matches_whole_strings_and_reports_bad_patterns() {
        assert!(regex_match("abc", "a.c").unwrap());
        assert!(
            !regex_match("xabc", "a.c").unwrap(),
            "anchored at the start"
        );
        assert!(!regex_match("abcx", "a.c").unwrap(), "anchored at the end");
        assert!(
            regex_match("ab", "a|ab").unwrap(),
            "alternation stays inside the anchors"
        );
        let e = regex_match("a", "(").unwrap_err();
        assert!(e.message().contains("invalid regular expression"), "{e}");
    }
}
