//! String functions. Positions and lengths count characters (Unicode scalar values), not
//! bytes, so multi-byte text never splits inside a character.

use super::{bad_type, one, out_of_range, two};
use crate::error::Result;
use crate::value::Value;

/// Applies `f` to a string argument; null stays null.
fn map_str(func: &str, args: Vec<Value>, f: impl Fn(&str) -> String) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::String(s) => Ok(Value::String(f(&s))),
        other => Err(bad_type(func, "a String", &other)),
    }
}

pub(super) fn to_upper(args: Vec<Value>) -> Result<Value> {
    map_str("toUpper", args, str::to_uppercase)
}
pub(super) fn to_lower(args: Vec<Value>) -> Result<Value> {
    map_str("toLower", args, str::to_lowercase)
}
pub(super) fn trim(args: Vec<Value>) -> Result<Value> {
    map_str("trim", args, |s| s.trim().to_string())
}
pub(super) fn ltrim(args: Vec<Value>) -> Result<Value> {
    map_str("ltrim", args, |s| s.trim_start().to_string())
}
pub(super) fn rtrim(args: Vec<Value>) -> Result<Value> {
    map_str("rtrim", args, |s| s.trim_end().to_string())
}

pub(super) fn char_length(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::String(s) => Ok(Value::Int(
            i64::try_from(s.chars().count()).unwrap_or(i64::MAX),
        )),
        other => Err(bad_type("char_length", "a String", &other)),
    }
}

fn str_arg<'v>(func: &str, what: &str, v: &'v Value) -> Result<Option<&'v str>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(bad_type(func, &format!("a String {what}"), other)),
    }
}

pub(super) fn replace(args: Vec<Value>) -> Result<Value> {
    let null = Value::Null;
    let a = |i: usize| args.get(i).unwrap_or(&null);
    let s = str_arg("replace", "original", a(0))?;
    let search = str_arg("replace", "search", a(1))?;
    let repl = str_arg("replace", "replacement", a(2))?;
    Ok(match (s, search, repl) {
        (Some(s), Some(search), Some(repl)) => Value::String(s.replace(search, repl)),
        _ => Value::Null,
    })
}

/// A non-negative Integer count/position argument (`None` for null).
fn count_arg(func: &str, what: &str, v: &Value) -> Result<Option<usize>> {
    match v {
        Value::Null => Ok(None),
        Value::Int(i) => usize::try_from(*i)
            .map(Some)
            .map_err(|_| out_of_range(format!("{func}() {what} must not be negative, got {i}"))),
        other => Err(bad_type(func, &format!("an Integer {what}"), other)),
    }
}

/// `substring(s, start [, length])`, 0-based; past the end gives what is there.
pub(super) fn substring(args: Vec<Value>) -> Result<Value> {
    let null = Value::Null;
    let s = str_arg("substring", "original", args.first().unwrap_or(&null))?;
    let start = count_arg("substring", "start", args.get(1).unwrap_or(&null))?;
    let len = match args.get(2) {
        Some(v) => count_arg("substring", "length", v)?.map(Some),
        None => Some(None),
    };
    Ok(match (s, start, len) {
        (Some(s), Some(start), Some(len)) => {
            let it = s.chars().skip(start);
            Value::String(match len {
                Some(n) => it.take(n).collect(),
                None => it.collect(),
            })
        }
        _ => Value::Null,
    })
}

/// A required non-null length for left()/right().
fn length_arg(func: &str, v: &Value) -> Result<usize> {
    count_arg(func, "length", v)?
        .ok_or_else(|| out_of_range(format!("{func}() length must not be null")))
}

pub(super) fn left(args: Vec<Value>) -> Result<Value> {
    let (s, n) = two(args);
    let n = length_arg("left", &n)?;
    Ok(match str_arg("left", "original", &s)? {
        Some(s) => Value::String(s.chars().take(n).collect()),
        None => Value::Null,
    })
}

pub(super) fn right(args: Vec<Value>) -> Result<Value> {
    let (s, n) = two(args);
    let n = length_arg("right", &n)?;
    Ok(match str_arg("right", "original", &s)? {
        Some(s) => {
            let total = s.chars().count();
            Value::String(s.chars().skip(total.saturating_sub(n)).collect())
        }
        None => Value::Null,
    })
}

/// `split(s, delimiter)`; the delimiter may also be a list of strings (any of them splits).
/// An empty delimiter splits into characters.
pub(super) fn split(args: Vec<Value>) -> Result<Value> {
    let (s, d) = two(args);
    let Some(s) = str_arg("split", "original", &s)? else {
        return Ok(Value::Null);
    };
    let delims: Vec<String> = match d {
        Value::Null => return Ok(Value::Null),
        Value::String(d) => vec![d],
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(d) => out.push(d),
                    Value::Null => return Ok(Value::Null),
                    other => return Err(bad_type("split", "String delimiters", &other)),
                }
            }
            out
        }
        other => return Err(bad_type("split", "a String delimiter", &other)),
    };
    let strings = |v: Vec<&str>| Value::List(v.into_iter().map(Value::from).collect());
    if delims.iter().all(String::is_empty) {
        return Ok(Value::List(
            s.chars().map(|c| Value::String(c.to_string())).collect(),
        ));
    }
    if let [d] = delims.as_slice() {
        return Ok(strings(s.split(d.as_str()).collect()));
    }
    // Several delimiters: at each position, split on the first one that matches there.
    let mut parts = Vec::new();
    let mut piece_start = 0;
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if let Some(d) = delims
            .iter()
            .find(|d| !d.is_empty() && rest.starts_with(d.as_str()))
        {
            parts.push(&s[piece_start..i]);
            i += d.len();
            piece_start = i;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    parts.push(&s[piece_start..]);
    Ok(strings(parts))
}

#[cfg(test)]
mod tests {
    use super::super::call_pure;
    use crate::error::ErrorKind;
    use crate::value::Value;

    fn c(name: &str, args: Vec<Value>) -> Result<Value, ErrorKind> {
        call_pure(name, args).map_err(|e| e.kind())
    }
    fn s(x: &str) -> Value {
        Value::from(x)
    }
    fn strs(v: &[&str]) -> Value {
        Value::List(v.iter().map(|x| s(x)).collect())
    }

    #[test]
    fn case_and_trim() {
        assert_eq!(c("toUpper", vec![s("abé")]), Ok(s("ABÉ")));
        assert_eq!(c("TOLOWER", vec![s("AbC")]), Ok(s("abc")));
        assert_eq!(c("trim", vec![s("  a b  ")]), Ok(s("a b")));
        assert_eq!(c("ltrim", vec![s("  a  ")]), Ok(s("a  ")));
        assert_eq!(c("rtrim", vec![s("  a  ")]), Ok(s("  a")));
        assert_eq!(c("toUpper", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(c("toUpper", vec![Value::Int(1)]), Err(ErrorKind::Type));
        assert_eq!(c("char_length", vec![s("héllo")]), Ok(Value::Int(5)));
        assert_eq!(c("character_length", vec![s("")]), Ok(Value::Int(0)));
    }

    #[test]
    fn replace_substring_left_right() {
        assert_eq!(
            c("replace", vec![s("hello"), s("l"), s("w")]),
            Ok(s("hewwo"))
        );
        assert_eq!(
            c("replace", vec![s("hello"), Value::Null, s("w")]),
            Ok(Value::Null)
        );
        assert_eq!(
            c("substring", vec![s("hello"), Value::Int(1), Value::Int(3)]),
            Ok(s("ell"))
        );
        assert_eq!(
            c("substring", vec![s("hello"), Value::Int(2)]),
            Ok(s("llo"))
        );
        assert_eq!(
            c("substring", vec![s("héllo"), Value::Int(1), Value::Int(1)]),
            Ok(s("é"))
        );
        assert_eq!(c("substring", vec![s("hi"), Value::Int(10)]), Ok(s("")));
        assert_eq!(
            c("substring", vec![Value::Null, Value::Int(1)]),
            Ok(Value::Null)
        );
        assert_eq!(
            c("substring", vec![s("hi"), Value::Int(-1)]),
            Err(ErrorKind::Error)
        );
        assert_eq!(
            c("substring", vec![s("hi"), Value::Int(0), Value::Int(-1)]),
            Err(ErrorKind::Error)
        );
        assert_eq!(c("substring", vec![s("hi"), s("0")]), Err(ErrorKind::Type));
        assert_eq!(c("left", vec![s("hello"), Value::Int(3)]), Ok(s("hel")));
        assert_eq!(c("left", vec![s("hi"), Value::Int(5)]), Ok(s("hi")));
        assert_eq!(c("right", vec![s("hello"), Value::Int(3)]), Ok(s("llo")));
        assert_eq!(
            c("right", vec![Value::Null, Value::Int(3)]),
            Ok(Value::Null)
        );
        assert_eq!(c("left", vec![s("hi"), Value::Null]), Err(ErrorKind::Error));
        assert_eq!(
            c("right", vec![s("hi"), Value::Int(-1)]),
            Err(ErrorKind::Error)
        );
    }

    #[test]
    fn splitting() {
        assert_eq!(
            c("split", vec![s("a,b,,c"), s(",")]),
            Ok(strs(&["a", "b", "", "c"]))
        );
        assert_eq!(
            c("split", vec![s("abc"), s("")]),
            Ok(strs(&["a", "b", "c"]))
        );
        assert_eq!(
            c("split", vec![s("a-b_c"), strs(&["-", "_"])]),
            Ok(strs(&["a", "b", "c"]))
        );
        assert_eq!(c("split", vec![Value::Null, s(",")]), Ok(Value::Null));
        assert_eq!(c("split", vec![s("a"), Value::Null]), Ok(Value::Null));
        assert_eq!(
            c("split", vec![s("a"), Value::Int(1)]),
            Err(ErrorKind::Type)
        );
    }
}
