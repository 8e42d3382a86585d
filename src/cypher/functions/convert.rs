//! toString / toInteger / toFloat / toBoolean and their `OrNull` forms.
//!
//! The plain forms return null for null and for strings that do not parse, and a type error
//! for types that never convert (lists, maps, entities); the `OrNull` forms return null
//! instead of any error.

use super::{bad_type, one, out_of_range};
use crate::error::Result;
use crate::value::Value;

/// Formats a float as Cypher prints it (Java's `Double.toString`): always a fraction or an
/// exponent (`3.0`, `1.0E20`, `1.0E-5`), `NaN`, `Infinity`, `-Infinity`.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = f.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{f}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // `{:e}` is the shortest round-trip form: "1e20", "1.5e-7".
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        if mantissa.contains('.') {
            format!("{mantissa}E{exp}")
        } else {
            format!("{mantissa}.0E{exp}")
        }
    }
}

pub(super) fn to_string(args: Vec<Value>) -> Result<Value> {
    Ok(match one(args) {
        Value::Null => Value::Null,
        v @ Value::String(_) => v,
        Value::Int(i) => Value::String(i.to_string()),
        Value::Float(f) => Value::String(format_float(f)),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Date(d) => Value::String(d.to_string()),
        Value::LocalTime(t) => Value::String(t.to_string()),
        Value::Time(t) => Value::String(t.to_string()),
        Value::LocalDateTime(l) => Value::String(l.to_string()),
        Value::DateTime(d) => Value::String(d.to_string()),
        Value::Duration(d) => Value::String(d.to_string()),
        other => {
            return Err(bad_type(
                "toString",
                "a String, Integer, Float or Boolean",
                &other,
            ))
        }
    })
}

pub(super) fn to_string_or_null(args: Vec<Value>) -> Result<Value> {
    Ok(to_string(args).unwrap_or(Value::Null))
}

/// Parses an integer, or a float then truncated ("2.9" → 2); `None` if it is neither or
/// does not fit.
fn parse_integer(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    t.parse::<f64>().ok().and_then(float_to_int)
}

fn float_to_int(f: f64) -> Option<i64> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let t = f.trunc();
    (t.is_finite() && (-TWO_63..TWO_63).contains(&t)).then_some(t as i64)
}

pub(super) fn to_integer(args: Vec<Value>) -> Result<Value> {
    Ok(match one(args) {
        Value::Null => Value::Null,
        v @ Value::Int(_) => v,
        Value::Float(f) => Value::Int(float_to_int(f).ok_or_else(|| {
            out_of_range(format!(
                "toInteger() cannot convert {}: it is outside the Integer range",
                format_float(f)
            ))
        })?),
        Value::Bool(b) => Value::Int(i64::from(b)),
        Value::String(s) => parse_integer(&s).map_or(Value::Null, Value::Int),
        other => {
            return Err(bad_type(
                "toInteger",
                "a String, Integer, Float or Boolean",
                &other,
            ))
        }
    })
}

pub(super) fn to_integer_or_null(args: Vec<Value>) -> Result<Value> {
    Ok(to_integer(args).unwrap_or(Value::Null))
}

pub(super) fn to_float(args: Vec<Value>) -> Result<Value> {
    Ok(match one(args) {
        Value::Null => Value::Null,
        v @ Value::Float(_) => v,
        Value::Int(i) => Value::Float(i as f64),
        Value::String(s) => s.trim().parse::<f64>().map_or(Value::Null, Value::Float),
        other => return Err(bad_type("toFloat", "a String, Integer or Float", &other)),
    })
}

pub(super) fn to_float_or_null(args: Vec<Value>) -> Result<Value> {
    Ok(to_float(args).unwrap_or(Value::Null))
}

pub(super) fn to_boolean(args: Vec<Value>) -> Result<Value> {
    Ok(match one(args) {
        Value::Null => Value::Null,
        v @ Value::Bool(_) => v,
        Value::Int(i) => Value::Bool(i != 0),
        Value::String(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if t.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else {
                Value::Null
            }
        }
        other => {
            return Err(bad_type(
                "toBoolean",
                "a String, Boolean or Integer",
                &other,
            ))
        }
    })
}

pub(super) fn to_boolean_or_null(args: Vec<Value>) -> Result<Value> {
    Ok(to_boolean(args).unwrap_or(Value::Null))
}

/// Applies an `OrNull` conversion to every element of a list (`toIntegerList` and friends).
fn convert_list(func: &str, args: Vec<Value>, f: fn(Vec<Value>) -> Result<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::List(items) => items
            .into_iter()
            .map(|v| f(vec![v]))
            .collect::<Result<Vec<_>>>()
            .map(Value::List),
        other => Err(bad_type(func, "a List", &other)),
    }
}

pub(super) fn to_string_list(args: Vec<Value>) -> Result<Value> {
    convert_list("toStringList", args, to_string_or_null)
}
pub(super) fn to_integer_list(args: Vec<Value>) -> Result<Value> {
    convert_list("toIntegerList", args, to_integer_or_null)
}
pub(super) fn to_float_list(args: Vec<Value>) -> Result<Value> {
    convert_list("toFloatList", args, to_float_or_null)
}
pub(super) fn to_boolean_list(args: Vec<Value>) -> Result<Value> {
    convert_list("toBooleanList", args, to_boolean_or_null)
}

#[cfg(test)]
mod tests {
    use super::super::call_pure;
    use super::*;
    use crate::error::ErrorKind;

    fn c(name: &str, v: Value) -> Result<Value> {
        call_pure(name, vec![v])
    }
    fn kind(r: Result<Value>) -> Option<ErrorKind> {
        r.err().map(|e| e.kind())
    }

    #[test]
    fn float_formatting_matches_cypher() {
        assert_eq!(format_float(3.0), "3.0");
        assert_eq!(format_float(2.3), "2.3");
        assert_eq!(format_float(-0.5), "-0.5");
        assert_eq!(format_float(1e20), "1.0E20");
        assert_eq!(format_float(1.5e-7), "1.5E-7");
        assert_eq!(format_float(1234567.0), "1234567.0");
        assert_eq!(format_float(f64::NAN), "NaN");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn to_string_cases() {
        assert_eq!(c("toString", Value::Int(42)), Ok("42".into()));
        assert_eq!(c("toString", Value::Bool(true)), Ok("true".into()));
        assert_eq!(c("toString", Value::Float(2.3)), Ok("2.3".into()));
        assert_eq!(c("toString", "apa".into()), Ok("apa".into()));
        assert_eq!(c("toString", Value::Null), Ok(Value::Null));
        assert_eq!(
            kind(c("toString", Value::List(vec![]))),
            Some(ErrorKind::Type)
        );
        assert_eq!(kind(c("toString", Value::Node(1))), Some(ErrorKind::Type));
        assert_eq!(c("toStringOrNull", Value::List(vec![])), Ok(Value::Null));
    }

    #[test]
    fn to_integer_cases() {
        assert_eq!(c("toInteger", Value::Float(82.9)), Ok(Value::Int(82)));
        assert_eq!(c("toInteger", Value::Float(-2.9)), Ok(Value::Int(-2)));
        assert_eq!(c("toInteger", "42".into()), Ok(Value::Int(42)));
        assert_eq!(c("toInteger", "1.7".into()), Ok(Value::Int(1)));
        assert_eq!(c("toInteger", "foo".into()), Ok(Value::Null));
        assert_eq!(c("toInteger", "".into()), Ok(Value::Null));
        assert_eq!(c("toInteger", Value::Bool(true)), Ok(Value::Int(1)));
        assert_eq!(c("toInteger", Value::Null), Ok(Value::Null));
        assert_eq!(
            kind(c("toInteger", Value::Float(1e30))),
            Some(ErrorKind::Error)
        );
        assert_eq!(
            kind(c("toInteger", Value::Map(Default::default()))),
            Some(ErrorKind::Type)
        );
        assert_eq!(c("toIntegerOrNull", Value::List(vec![])), Ok(Value::Null));
        assert_eq!(c("toIntegerOrNull", "7".into()), Ok(Value::Int(7)));
    }

    #[test]
    fn to_float_cases() {
        assert_eq!(c("toFloat", Value::Int(3)), Ok(Value::Float(3.0)));
        assert_eq!(c("toFloat", "5".into()), Ok(Value::Float(5.0)));
        assert_eq!(c("toFloat", "foo".into()), Ok(Value::Null));
        assert_eq!(kind(c("toFloat", Value::Bool(true))), Some(ErrorKind::Type));
        assert_eq!(c("toFloatOrNull", Value::Bool(true)), Ok(Value::Null));
    }

    #[test]
    fn list_conversions() {
        let l = |v: Vec<Value>| Value::List(v);
        assert_eq!(
            c(
                "toIntegerList",
                l(vec!["1".into(), Value::Float(2.5), l(vec![]), Value::Null])
            ),
            Ok(l(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Null,
                Value::Null
            ]))
        );
        assert_eq!(
            c(
                "toStringList",
                l(vec![Value::Int(1), Value::Map(Default::default())])
            ),
            Ok(l(vec!["1".into(), Value::Null]))
        );
        assert_eq!(
            c("toFloatList", l(vec!["x".into()])),
            Ok(l(vec![Value::Null]))
        );
        assert_eq!(
            c("toBooleanList", l(vec!["true".into()])),
            Ok(l(vec![Value::Bool(true)]))
        );
        assert_eq!(c("toBooleanList", Value::Null), Ok(Value::Null));
        assert_eq!(
            kind(c("toIntegerList", Value::Int(1))),
            Some(ErrorKind::Type)
        );
    }

    #[test]
    fn to_boolean_cases() {
        assert_eq!(c("toBoolean", "true".into()), Ok(Value::Bool(true)));
        assert_eq!(c("toBoolean", "FALSE".into()), Ok(Value::Bool(false)));
        for bad in ["", " tru ", "f alse"] {
            assert_eq!(c("toBoolean", bad.into()), Ok(Value::Null));
        }
        assert_eq!(c("toBoolean", Value::Int(0)), Ok(Value::Bool(false)));
        assert_eq!(
            kind(c("toBoolean", Value::Float(1.0))),
            Some(ErrorKind::Type)
        );
        assert_eq!(
            kind(c("toBoolean", Value::List(vec![]))),
            Some(ErrorKind::Type)
        );
        assert_eq!(c("toBooleanOrNull", Value::Float(1.0)), Ok(Value::Null));
    }
}
