//! The JSON form of values (API.md "JSON form of values"), used by `graphdb_result_get_json`
//! and `graphdb_params_set_json`.
//!
//! Output: floats always carry a fraction or an exponent (`1.0`, never `1`) so a reader can
//! tell them from integers; NaN and the infinities, which JSON cannot spell, are written as
//! `{"$float": "NaN" | "Infinity" | "-Infinity"}`; entities as `$node`, `$relationship`
//! and `$path` objects. Input is the same form, except that entities cannot be parameters and
//! integers must fit in 64 signed bits.

use std::collections::BTreeMap;

use serde_json::{Map as JsonMap, Number, Value as Json};

use super::{Node, Path, Relationship, Value};
use crate::error::{Error, Result};

/// Renders a value in the JSON form of API.md.
pub fn to_json(value: &Value) -> String {
    to_tree(value).to_string()
}

/// Parses the JSON form of API.md; `$node`/`$relationship`/`$path` are refused as parameters.
pub fn from_json(text: &str) -> Result<Value> {
    let tree: Json = serde_json::from_str(text).map_err(|e| {
        Error::invalid_argument(format!(
            "the parameter is not valid JSON: {e}; write values in the JSON form of API.md"
        ))
    })?;
    // serde_json silently reads an integer too large for 64 bits as a float; the text is the
    // only place that still tells the two apart.
    check_integer_literals(text)?;
    from_tree(&tree)
}

fn to_tree(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number(Number::from(*i)),
        Value::Float(f) => float_tree(*f),
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) => Json::Array(items.iter().map(to_tree).collect()),
        Value::Map(map) => Json::Object(map_tree(map)),
        Value::Node(n) => tagged("$node", node_tree(n)),
        Value::Relationship(r) => tagged("$relationship", relationship_tree(r)),
        Value::Path(p) => tagged("$path", path_tree(p)),
        Value::Date(_)
        | Value::LocalTime(_)
        | Value::Time(_)
        | Value::LocalDateTime(_)
        | Value::DateTime(_)
        | Value::Duration(_) => {
            let text = value.temporal_string().unwrap_or_default();
            tagged(temporal_tag(value), Json::String(text))
        }
    }
}

/// The JSON tag of a temporal value (`$date`, ...); empty for other values.
fn temporal_tag(value: &Value) -> &'static str {
    match value {
        Value::Date(_) => "$date",
        Value::LocalTime(_) => "$localtime",
        Value::Time(_) => "$time",
        Value::LocalDateTime(_) => "$localdatetime",
        Value::DateTime(_) => "$datetime",
        Value::Duration(_) => "$duration",
        _ => "",
    }
}

/// Parses `{"$date": "2015-07-21"}` and the other temporal tags.
fn temporal_value(tag: &str, inner: &Json) -> Result<Value> {
    use crate::temporal::parse;
    let text = inner.as_str().ok_or_else(|| {
        Error::invalid_argument(format!(
            "{{\"{tag}\": ...}} needs a string in the Cypher form, for example {{\"$date\": \"2015-07-21\"}}"
        ))
    })?;
    let parsed = match tag {
        "$date" => parse::date(text).map(Value::Date),
        "$localtime" => parse::local_time(text).map(Value::LocalTime),
        "$time" => parse::time(text).map(Value::Time),
        "$localdatetime" => parse::local_date_time(text).map(Value::LocalDateTime),
        "$datetime" => parse::date_time(text).map(Value::DateTime),
        _ => parse::duration(text).map(Value::Duration),
    };
    parsed.map_err(|e| Error::invalid_argument(format!("parameter {tag}: {}", e.message())))
}

fn float_tree(f: f64) -> Json {
    match Number::from_f64(f) {
        // serde_json prints finite floats with ryu, which always writes a fraction or an
        // exponent ("1.0", "1e20"), as API.md requires.
        Some(n) => Json::Number(n),
        None => {
            let name = if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            };
            tagged("$float", Json::String(name.to_string()))
        }
    }
}

fn tagged(tag: &str, inner: Json) -> Json {
    let mut m = JsonMap::new();
    m.insert(tag.to_string(), inner);
    Json::Object(m)
}

fn map_tree(map: &BTreeMap<String, Value>) -> JsonMap<String, Json> {
    map.iter().map(|(k, v)| (k.clone(), to_tree(v))).collect()
}

fn node_tree(n: &Node) -> Json {
    let mut m = JsonMap::new();
    m.insert("id".into(), Json::Number(Number::from(n.id)));
    m.insert(
        "labels".into(),
        Json::Array(n.labels.iter().map(|l| Json::String(l.clone())).collect()),
    );
    m.insert("properties".into(), Json::Object(map_tree(&n.properties)));
    Json::Object(m)
}

fn relationship_tree(r: &Relationship) -> Json {
    let mut m = JsonMap::new();
    m.insert("id".into(), Json::Number(Number::from(r.id)));
    m.insert("type".into(), Json::String(r.rel_type.clone()));
    m.insert("start".into(), Json::Number(Number::from(r.start)));
    m.insert("end".into(), Json::Number(Number::from(r.end)));
    m.insert("properties".into(), Json::Object(map_tree(&r.properties)));
    Json::Object(m)
}

fn path_tree(p: &Path) -> Json {
    let mut m = JsonMap::new();
    m.insert(
        "nodes".into(),
        Json::Array(
            p.nodes
                .iter()
                .map(|n| tagged("$node", node_tree(n)))
                .collect(),
        ),
    );
    m.insert(
        "relationships".into(),
        Json::Array(
            p.relationships
                .iter()
                .map(|r| tagged("$relationship", relationship_tree(r)))
                .collect(),
        ),
    );
    Json::Object(m)
}

fn from_tree(tree: &Json) -> Result<Value> {
    Ok(match tree {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => number_value(n)?,
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(from_tree).collect::<Result<_>>()?),
        Json::Object(map) => object_value(map)?,
    })
}

fn number_value(n: &Number) -> Result<Value> {
    if let Some(i) = n.as_i64() {
        Ok(Value::Int(i))
    } else if n.is_u64() {
        Err(too_big(&n.to_string()))
    } else {
        // Not an integer, so it was written with a fraction or an exponent.
        n.as_f64()
            .map(Value::Float)
            .ok_or_else(|| Error::invalid_argument(format!("the number {n} cannot be read")))
    }
}

fn too_big(literal: &str) -> Error {
    Error::invalid_argument(format!(
        "the integer {literal} does not fit in 64 signed bits; pass it as a float (with a \
         fraction) or as a string"
    ))
}

fn object_value(map: &JsonMap<String, Json>) -> Result<Value> {
    if map.len() == 1 {
        if let Some((tag, inner)) = map.iter().next() {
            match tag.as_str() {
                "$float" => return special_float(inner),
                "$node" | "$relationship" | "$path" => {
                    return Err(Error::invalid_argument(format!(
                        "a parameter cannot be an entity ({tag}); pass its id or its \
                         properties and MATCH it in the query"
                    )))
                }
                "$date" | "$localtime" | "$time" | "$localdatetime" | "$datetime" | "$duration" => {
                    return temporal_value(tag, inner)
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    for (k, v) in map {
        out.insert(k.clone(), from_tree(v)?);
    }
    Ok(Value::Map(out))
}

fn special_float(inner: &Json) -> Result<Value> {
    match inner.as_str() {
        Some("NaN") => Ok(Value::Float(f64::NAN)),
        Some("Infinity") => Ok(Value::Float(f64::INFINITY)),
        Some("-Infinity") => Ok(Value::Float(f64::NEG_INFINITY)),
        _ => Err(Error::invalid_argument(format!(
            "{{\"$float\": {inner}}} is not a float; accepted: \"NaN\", \"Infinity\", \
             \"-Infinity\""
        ))),
    }
}

/// Refuses integer literals (numbers without fraction or exponent) outside i64. `text` is
/// already known to be valid JSON, so this only has to tell strings from numbers.
fn check_integer_literals(text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    // An escape always takes the next byte with it (\" and \\ included).
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let literal = &text[start..i];
                let is_integer = !literal.contains(['.', 'e', 'E']);
                if is_integer && literal.parse::<i64>().is_err() {
                    return Err(too_big(literal));
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn map(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn node(id: u64, label: &str, name: &str) -> Node {
        Node {
            id,
            labels: vec![label.to_string()],
            properties: map(&[("name", Value::String(name.to_string()))]),
        }
    }

    #[test]
    fn scalars_render_in_the_documented_form() {
        assert_eq!(to_json(&Value::Null), "null");
        assert_eq!(to_json(&Value::Bool(true)), "true");
        assert_eq!(to_json(&Value::Int(-7)), "-7");
        assert_eq!(to_json(&Value::Float(1.0)), "1.0");
        assert_eq!(to_json(&Value::Float(-0.5)), "-0.5");
        assert_eq!(to_json(&Value::Float(1e300)), "1e+300");
        assert_eq!(to_json(&Value::String("a\"b".into())), r#""a\"b""#);
        assert_eq!(to_json(&Value::Float(f64::NAN)), r#"{"$float":"NaN"}"#);
        assert_eq!(
            to_json(&Value::Float(f64::NEG_INFINITY)),
            r#"{"$float":"-Infinity"}"#
        );
    }

    #[test]
    fn entities_render_with_their_tags() {
        let a = node(3, "User", "a");
        let b = node(4, "User", "b");
        let r = Relationship {
            id: 9,
            rel_type: "FOLLOWS".into(),
            start: 3,
            end: 4,
            properties: BTreeMap::new(),
        };
        assert_eq!(
            to_json(&Value::Node(a.clone())),
            r#"{"$node":{"id":3,"labels":["User"],"properties":{"name":"a"}}}"#
        );
        assert_eq!(
            to_json(&Value::Relationship(r.clone())),
            r#"{"$relationship":{"id":9,"type":"FOLLOWS","start":3,"end":4,"properties":{}}}"#
        );
        let path = to_json(&Value::Path(Path {
            nodes: vec![a, b],
            relationships: vec![r],
        }));
        assert!(path.starts_with(r#"{"$path":{"nodes":[{"$node":{"id":3,"#));
        assert!(path.contains(r#""relationships":[{"$relationship":{"id":9,"#));
    }

    #[test]
    fn parameters_round_trip() {
        let v = Value::Map(map(&[
            ("i", Value::Int(i64::MIN)),
            ("f", Value::Float(2.0)),
            ("inf", Value::Float(f64::INFINITY)),
            (
                "l",
                Value::List(vec![
                    Value::Null,
                    Value::Bool(false),
                    Value::String("x".into()),
                ]),
            ),
        ]));
        assert_eq!(from_json(&to_json(&v)).unwrap(), v);
        assert_eq!(from_json("1").unwrap(), Value::Int(1));
        assert_eq!(from_json("1.0").unwrap(), Value::Float(1.0));
        assert_eq!(from_json("1e2").unwrap(), Value::Float(100.0));
        match from_json(r#"{"$float":"NaN"}"#).unwrap() {
            Value::Float(f) => assert!(f.is_nan()),
            other => panic!("expected NaN, got {other:?}"),
        }
        // A map that merely has a `$` key among others stays a map.
        let m = from_json(r#"{"$node": 1, "x": 2}"#).unwrap();
        assert!(matches!(m, Value::Map(ref m) if m.len() == 2));
    }

    #[test]
    fn temporal_values_round_trip_with_their_tags() {
        for text in [
            r#"{"$date":"2015-07-21"}"#,
            r#"{"$localtime":"12:31:14.645"}"#,
            r#"{"$time":"12:31:14+01:00"}"#,
            r#"{"$localdatetime":"2015-07-21T12:31"}"#,
            r#"{"$datetime":"2015-07-21T12:31+02:00[Europe/Stockholm]"}"#,
            r#"{"$duration":"P1Y2M3DT4.5S"}"#,
        ] {
            let v = from_json(text).unwrap();
            assert!(v.temporal_string().is_some(), "{text}");
            assert_eq!(to_json(&v), text);
        }
    }

    #[test]
    fn bad_parameters_are_invalid_arguments() {
        for text in [
            "",
            "{",
            "9223372036854775808",
            "[1, -9223372036854775809]",
            "123456789012345678901234567890",
            r#"{"$node": {"id": 1, "labels": [], "properties": {}}}"#,
            r#"{"$relationship": {}}"#,
            r#"{"$path": {}}"#,
            r#"{"$float": "nan"}"#,
            r#"{"$float": 1.5}"#,
            r#"{"$date": "2015-13-21"}"#,
            r#"{"$date": 20150721}"#,
            r#"{"$duration": "P"}"#,
        ] {
            let e = from_json(text).expect_err(text);
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{text}: {e}");
        }
        assert_eq!(
            from_json("-9223372036854775808").unwrap(),
            Value::Int(i64::MIN)
        );
        // Digits inside strings are not numbers.
        assert_eq!(
            from_json(r#""99999999999999999999 \" 99999999999999999999""#).unwrap(),
            Value::String("99999999999999999999 \" 99999999999999999999".into())
        );
    }
}
