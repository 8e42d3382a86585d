//! List and path functions: size, length, head/last/tail, range, reverse, nodes, ...

use super::{bad_type, one, out_of_range};
use crate::error::{Error, Result};
use crate::value::Value;

/// The most elements `range()` produces; a bigger range is almost certainly a mistake and
/// would exhaust memory.
pub(crate) const MAX_RANGE_LEN: i128 = 20_000_000;

fn count(n: usize) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

pub(super) fn size(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::List(l) => Ok(count(l.len())),
        Value::String(s) => Ok(count(s.chars().count())),
        other => Err(bad_type("size", "a List or String", &other)),
    }
}

pub(super) fn length(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::Path(p) => Ok(count(p.rels.len())),
        Value::List(l) => Ok(count(l.len())),
        Value::String(s) => Ok(count(s.chars().count())),
        other => Err(bad_type("length", "a Path", &other)),
    }
}

pub(super) fn is_empty(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::List(l) => Ok(Value::Bool(l.is_empty())),
        Value::String(s) => Ok(Value::Bool(s.is_empty())),
        Value::Map(m) => Ok(Value::Bool(m.is_empty())),
        other => Err(bad_type("isEmpty", "a List, String or Map", &other)),
    }
}

fn list_arg(func: &str, v: Value) -> Result<Option<Vec<Value>>> {
    match v {
        Value::Null => Ok(None),
        Value::List(l) => Ok(Some(l)),
        other => Err(bad_type(func, "a List", &other)),
    }
}

pub(super) fn head(args: Vec<Value>) -> Result<Value> {
    Ok(list_arg("head", one(args))?
        .and_then(|l| l.into_iter().next())
        .unwrap_or(Value::Null))
}

pub(super) fn last(args: Vec<Value>) -> Result<Value> {
    Ok(list_arg("last", one(args))?
        .and_then(|mut l| l.pop())
        .unwrap_or(Value::Null))
}

pub(super) fn tail(args: Vec<Value>) -> Result<Value> {
    Ok(list_arg("tail", one(args))?.map_or(Value::Null, |l| {
        Value::List(l.into_iter().skip(1).collect())
    }))
}

pub(super) fn reverse(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::List(mut l) => {
            l.reverse();
            Ok(Value::List(l))
        }
        Value::String(s) => Ok(Value::String(s.chars().rev().collect())),
        other => Err(bad_type("reverse", "a List or String", &other)),
    }
}

fn int_arg(func: &str, what: &str, v: &Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(bad_type(func, &format!("an Integer {what}"), other)),
    }
}

/// `range(start, end [, step])`: inclusive of `end` when the step lands on it.
pub(super) fn range(args: Vec<Value>) -> Result<Value> {
    let start = int_arg("range", "start", args.first().unwrap_or(&Value::Null))?;
    let end = int_arg("range", "end", args.get(1).unwrap_or(&Value::Null))?;
    let step = match args.get(2) {
        Some(s) => int_arg("range", "step", s)?,
        None => 1,
    };
    if step == 0 {
        return Err(out_of_range("range() step must not be zero".to_string()));
    }
    let (s, e, st) = (i128::from(start), i128::from(end), i128::from(step));
    let n = if (st > 0 && e < s) || (st < 0 && e > s) {
        0
    } else {
        (e - s) / st + 1
    };
    if n > MAX_RANGE_LEN {
        return Err(out_of_range(format!(
            "range({start}, {end}, {step}) would produce {n} elements; the limit is {MAX_RANGE_LEN}"
        )));
    }
    // Every produced value lies between start and end, so it fits in i64.
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let mut cur = s;
    for _ in 0..n {
        out.push(Value::Int(i64::try_from(cur).map_err(|_| {
            Error::internal("range() produced a value outside its bounds")
        })?));
        cur += st;
    }
    Ok(Value::List(out))
}

fn path_arg(func: &str, v: Value) -> Result<Option<crate::value::PathIds>> {
    match v {
        Value::Null => Ok(None),
        Value::Path(p) => Ok(Some(p)),
        other => Err(bad_type(func, "a Path", &other)),
    }
}

pub(super) fn nodes(args: Vec<Value>) -> Result<Value> {
    Ok(path_arg("nodes", one(args))?.map_or(Value::Null, |p| {
        Value::List(p.nodes.into_iter().map(Value::Node).collect())
    }))
}

pub(super) fn relationships(args: Vec<Value>) -> Result<Value> {
    Ok(
        path_arg("relationships", one(args))?.map_or(Value::Null, |p| {
            Value::List(p.rels.into_iter().map(Value::Relationship).collect())
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::call_pure;
    use crate::error::ErrorKind;
    use crate::value::{PathIds, Value};

    fn ints(v: &[i64]) -> Value {
        Value::List(v.iter().map(|i| Value::Int(*i)).collect())
    }
    fn c(name: &str, args: Vec<Value>) -> Result<Value, ErrorKind> {
        call_pure(name, args).map_err(|e| e.kind())
    }

    #[test]
    fn size_length_is_empty() {
        assert_eq!(c("size", vec![ints(&[1, 2, 3])]), Ok(Value::Int(3)));
        assert_eq!(c("size", vec!["héllo".into()]), Ok(Value::Int(5)));
        assert_eq!(c("size", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(c("size", vec![Value::Int(1)]), Err(ErrorKind::Type));
        let p = Value::Path(PathIds {
            nodes: vec![1, 2, 3],
            rels: vec![10, 11],
        });
        assert_eq!(c("length", vec![p.clone()]), Ok(Value::Int(2)));
        assert_eq!(
            c("nodes", vec![p.clone()]),
            Ok(Value::List(vec![
                Value::Node(1),
                Value::Node(2),
                Value::Node(3)
            ]))
        );
        assert_eq!(
            c("relationships", vec![p]),
            Ok(Value::List(vec![
                Value::Relationship(10),
                Value::Relationship(11)
            ]))
        );
        assert_eq!(c("nodes", vec![Value::Int(1)]), Err(ErrorKind::Type));
        assert_eq!(c("isEmpty", vec![ints(&[])]), Ok(Value::Bool(true)));
        assert_eq!(c("isEmpty", vec!["a".into()]), Ok(Value::Bool(false)));
        assert_eq!(
            c("isEmpty", vec![Value::Map(Default::default())]),
            Ok(Value::Bool(true))
        );
        assert_eq!(c("isEmpty", vec![Value::Null]), Ok(Value::Null));
    }

    #[test]
    fn head_last_tail_reverse() {
        assert_eq!(c("head", vec![ints(&[1, 2])]), Ok(Value::Int(1)));
        assert_eq!(c("head", vec![ints(&[])]), Ok(Value::Null));
        assert_eq!(c("last", vec![ints(&[1, 2])]), Ok(Value::Int(2)));
        assert_eq!(c("last", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(c("tail", vec![ints(&[1, 2, 3])]), Ok(ints(&[2, 3])));
        assert_eq!(c("tail", vec![ints(&[])]), Ok(ints(&[])));
        assert_eq!(c("head", vec!["a".into()]), Err(ErrorKind::Type));
        assert_eq!(c("reverse", vec![ints(&[1, 2, 3])]), Ok(ints(&[3, 2, 1])));
        assert_eq!(c("reverse", vec!["abc".into()]), Ok("cba".into()));
    }

    #[test]
    fn ranges() {
        let i = Value::Int;
        assert_eq!(c("range", vec![i(0), i(3)]), Ok(ints(&[0, 1, 2, 3])));
        assert_eq!(c("range", vec![i(2), i(8), i(3)]), Ok(ints(&[2, 5, 8])));
        assert_eq!(c("range", vec![i(2), i(9), i(3)]), Ok(ints(&[2, 5, 8])));
        assert_eq!(c("range", vec![i(5), i(1), i(-2)]), Ok(ints(&[5, 3, 1])));
        assert_eq!(c("range", vec![i(5), i(1)]), Ok(ints(&[])));
        assert_eq!(c("range", vec![i(2), i(8), i(0)]), Err(ErrorKind::Error));
        assert_eq!(c("range", vec![i(0), i(i64::MAX)]), Err(ErrorKind::Error));
        assert_eq!(
            c("range", vec![Value::Float(0.0), i(3)]),
            Err(ErrorKind::Type)
        );
        assert_eq!(
            c("range", vec![i(i64::MAX - 1), i(i64::MAX)]),
            Ok(ints(&[i64::MAX - 1, i64::MAX]))
        );
    }
}
