//! Scalar functions: `name(args)` with evaluated arguments.
//!
//! Names are case-insensitive. Each function is one entry of [`TABLE`] with its arity; most
//! are pure (no graph access) and live in the submodules by topic, so they are tested without
//! a transaction; the few that read the graph (labels, type, properties, ...) are here.
//! Conventions (openCypher): a null argument gives null unless the function says otherwise;
//! a wrong argument type is `ErrorKind::Type`; a value out of range (negative length, zero
//! step) is `ErrorKind::Error`; a wrong number of arguments is `ErrorKind::Semantic`.

mod convert;
mod lists;
mod math;
mod strings;
mod temporal;

use std::collections::BTreeMap;

use super::eval::{all_properties, EvalContext};
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

type PureFn = fn(Vec<Value>) -> Result<Value>;
type GraphFn = fn(Vec<Value>, &EvalContext) -> Result<Value>;

enum Imp {
    Pure(PureFn),
    Graph(GraphFn),
}

/// `(lower-case name, display name, min args, max args (None: unbounded), implementation)`.
type Entry = (&'static str, &'static str, usize, Option<usize>, Imp);

const TABLE: &[Entry] = &[
    // graph entities
    ("id", "id", 1, Some(1), Imp::Pure(id)),
    ("elementid", "elementId", 1, Some(1), Imp::Pure(element_id)),
    ("labels", "labels", 1, Some(1), Imp::Graph(labels)),
    ("type", "type", 1, Some(1), Imp::Graph(rel_type)),
    (
        "properties",
        "properties",
        1,
        Some(1),
        Imp::Graph(properties),
    ),
    ("keys", "keys", 1, Some(1), Imp::Graph(keys)),
    ("startnode", "startNode", 1, Some(1), Imp::Graph(start_node)),
    ("endnode", "endNode", 1, Some(1), Imp::Graph(end_node)),
    ("nodes", "nodes", 1, Some(1), Imp::Pure(lists::nodes)),
    (
        "relationships",
        "relationships",
        1,
        Some(1),
        Imp::Pure(lists::relationships),
    ),
    ("length", "length", 1, Some(1), Imp::Pure(lists::length)),
    // general
    ("coalesce", "coalesce", 1, None, Imp::Pure(coalesce)),
    ("exists", "exists", 1, Some(1), Imp::Pure(exists_fn)),
    ("timestamp", "timestamp", 0, Some(0), Imp::Pure(timestamp)),
    ("nullif", "nullIf", 2, Some(2), Imp::Pure(null_if)),
    // conversion
    (
        "tostring",
        "toString",
        1,
        Some(1),
        Imp::Pure(convert::to_string),
    ),
    (
        "tostringornull",
        "toStringOrNull",
        1,
        Some(1),
        Imp::Pure(convert::to_string_or_null),
    ),
    (
        "tointeger",
        "toInteger",
        1,
        Some(1),
        Imp::Pure(convert::to_integer),
    ),
    (
        "tointegerornull",
        "toIntegerOrNull",
        1,
        Some(1),
        Imp::Pure(convert::to_integer_or_null),
    ),
    (
        "tofloat",
        "toFloat",
        1,
        Some(1),
        Imp::Pure(convert::to_float),
    ),
    (
        "tofloatornull",
        "toFloatOrNull",
        1,
        Some(1),
        Imp::Pure(convert::to_float_or_null),
    ),
    (
        "toboolean",
        "toBoolean",
        1,
        Some(1),
        Imp::Pure(convert::to_boolean),
    ),
    (
        "tobooleanornull",
        "toBooleanOrNull",
        1,
        Some(1),
        Imp::Pure(convert::to_boolean_or_null),
    ),
    (
        "tostringlist",
        "toStringList",
        1,
        Some(1),
        Imp::Pure(convert::to_string_list),
    ),
    (
        "tointegerlist",
        "toIntegerList",
        1,
        Some(1),
        Imp::Pure(convert::to_integer_list),
    ),
    (
        "tofloatlist",
        "toFloatList",
        1,
        Some(1),
        Imp::Pure(convert::to_float_list),
    ),
    (
        "tobooleanlist",
        "toBooleanList",
        1,
        Some(1),
        Imp::Pure(convert::to_boolean_list),
    ),
    // lists
    ("size", "size", 1, Some(1), Imp::Pure(lists::size)),
    ("isempty", "isEmpty", 1, Some(1), Imp::Pure(lists::is_empty)),
    ("head", "head", 1, Some(1), Imp::Pure(lists::head)),
    ("last", "last", 1, Some(1), Imp::Pure(lists::last)),
    ("tail", "tail", 1, Some(1), Imp::Pure(lists::tail)),
    ("range", "range", 2, Some(3), Imp::Pure(lists::range)),
    ("reverse", "reverse", 1, Some(1), Imp::Pure(lists::reverse)),
    // strings
    (
        "toupper",
        "toUpper",
        1,
        Some(1),
        Imp::Pure(strings::to_upper),
    ),
    ("upper", "upper", 1, Some(1), Imp::Pure(strings::to_upper)),
    (
        "tolower",
        "toLower",
        1,
        Some(1),
        Imp::Pure(strings::to_lower),
    ),
    ("lower", "lower", 1, Some(1), Imp::Pure(strings::to_lower)),
    ("trim", "trim", 1, Some(1), Imp::Pure(strings::trim)),
    ("ltrim", "ltrim", 1, Some(1), Imp::Pure(strings::ltrim)),
    ("rtrim", "rtrim", 1, Some(1), Imp::Pure(strings::rtrim)),
    (
        "replace",
        "replace",
        3,
        Some(3),
        Imp::Pure(strings::replace),
    ),
    (
        "substring",
        "substring",
        2,
        Some(3),
        Imp::Pure(strings::substring),
    ),
    ("left", "left", 2, Some(2), Imp::Pure(strings::left)),
    ("right", "right", 2, Some(2), Imp::Pure(strings::right)),
    ("split", "split", 2, Some(2), Imp::Pure(strings::split)),
    (
        "char_length",
        "char_length",
        1,
        Some(1),
        Imp::Pure(strings::char_length),
    ),
    (
        "character_length",
        "character_length",
        1,
        Some(1),
        Imp::Pure(strings::char_length),
    ),
    // math
    ("abs", "abs", 1, Some(1), Imp::Pure(math::abs)),
    ("ceil", "ceil", 1, Some(1), Imp::Pure(math::ceil)),
    ("floor", "floor", 1, Some(1), Imp::Pure(math::floor)),
    ("round", "round", 1, Some(3), Imp::Pure(math::round)),
    ("sign", "sign", 1, Some(1), Imp::Pure(math::sign)),
    ("sqrt", "sqrt", 1, Some(1), Imp::Pure(math::sqrt)),
    ("exp", "exp", 1, Some(1), Imp::Pure(math::exp)),
    ("log", "log", 1, Some(1), Imp::Pure(math::log)),
    ("log10", "log10", 1, Some(1), Imp::Pure(math::log10)),
    ("sin", "sin", 1, Some(1), Imp::Pure(math::sin)),
    ("cos", "cos", 1, Some(1), Imp::Pure(math::cos)),
    ("tan", "tan", 1, Some(1), Imp::Pure(math::tan)),
    ("cot", "cot", 1, Some(1), Imp::Pure(math::cot)),
    ("asin", "asin", 1, Some(1), Imp::Pure(math::asin)),
    ("acos", "acos", 1, Some(1), Imp::Pure(math::acos)),
    ("atan", "atan", 1, Some(1), Imp::Pure(math::atan)),
    ("atan2", "atan2", 2, Some(2), Imp::Pure(math::atan2)),
    ("degrees", "degrees", 1, Some(1), Imp::Pure(math::degrees)),
    ("radians", "radians", 1, Some(1), Imp::Pure(math::radians)),
    ("pi", "pi", 0, Some(0), Imp::Pure(math::pi)),
    ("e", "e", 0, Some(0), Imp::Pure(math::e)),
    ("rand", "rand", 0, Some(0), Imp::Pure(math::rand)),
    // temporal
    ("date", "date", 0, Some(1), Imp::Graph(temporal::date)),
    (
        "date.transaction",
        "date.transaction",
        0,
        Some(1),
        Imp::Graph(temporal::date_tx),
    ),
    (
        "date.statement",
        "date.statement",
        0,
        Some(1),
        Imp::Graph(temporal::date_stmt),
    ),
    (
        "date.realtime",
        "date.realtime",
        0,
        Some(1),
        Imp::Pure(temporal::date_real),
    ),
    (
        "date.truncate",
        "date.truncate",
        2,
        Some(3),
        Imp::Pure(temporal::date_trunc),
    ),
    (
        "localtime",
        "localtime",
        0,
        Some(1),
        Imp::Graph(temporal::localtime),
    ),
    (
        "localtime.transaction",
        "localtime.transaction",
        0,
        Some(1),
        Imp::Graph(temporal::localtime_tx),
    ),
    (
        "localtime.statement",
        "localtime.statement",
        0,
        Some(1),
        Imp::Graph(temporal::localtime_stmt),
    ),
    (
        "localtime.realtime",
        "localtime.realtime",
        0,
        Some(1),
        Imp::Pure(temporal::localtime_real),
    ),
    (
        "localtime.truncate",
        "localtime.truncate",
        2,
        Some(3),
        Imp::Pure(temporal::localtime_trunc),
    ),
    ("time", "time", 0, Some(1), Imp::Graph(temporal::time)),
    (
        "time.transaction",
        "time.transaction",
        0,
        Some(1),
        Imp::Graph(temporal::time_tx),
    ),
    (
        "time.statement",
        "time.statement",
        0,
        Some(1),
        Imp::Graph(temporal::time_stmt),
    ),
    (
        "time.realtime",
        "time.realtime",
        0,
        Some(1),
        Imp::Pure(temporal::time_real),
    ),
    (
        "time.truncate",
        "time.truncate",
        2,
        Some(3),
        Imp::Pure(temporal::time_trunc),
    ),
    (
        "localdatetime",
        "localdatetime",
        0,
        Some(1),
        Imp::Graph(temporal::localdatetime),
    ),
    (
        "localdatetime.transaction",
        "localdatetime.transaction",
        0,
        Some(1),
        Imp::Graph(temporal::localdatetime_tx),
    ),
    (
        "localdatetime.statement",
        "localdatetime.statement",
        0,
        Some(1),
        Imp::Graph(temporal::localdatetime_stmt),
    ),
    (
        "localdatetime.realtime",
        "localdatetime.realtime",
        0,
        Some(1),
        Imp::Pure(temporal::localdatetime_real),
    ),
    (
        "localdatetime.truncate",
        "localdatetime.truncate",
        2,
        Some(3),
        Imp::Pure(temporal::localdatetime_trunc),
    ),
    (
        "datetime",
        "datetime",
        0,
        Some(1),
        Imp::Graph(temporal::datetime),
    ),
    (
        "datetime.transaction",
        "datetime.transaction",
        0,
        Some(1),
        Imp::Graph(temporal::datetime_tx),
    ),
    (
        "datetime.statement",
        "datetime.statement",
        0,
        Some(1),
        Imp::Graph(temporal::datetime_stmt),
    ),
    (
        "datetime.realtime",
        "datetime.realtime",
        0,
        Some(1),
        Imp::Pure(temporal::datetime_real),
    ),
    (
        "datetime.truncate",
        "datetime.truncate",
        2,
        Some(3),
        Imp::Pure(temporal::datetime_trunc),
    ),
    (
        "datetime.fromepoch",
        "datetime.fromepoch",
        2,
        Some(2),
        Imp::Pure(temporal::from_epoch),
    ),
    (
        "datetime.fromepochmillis",
        "datetime.fromepochmillis",
        1,
        Some(1),
        Imp::Pure(temporal::from_epoch_millis),
    ),
    (
        "duration",
        "duration",
        1,
        Some(1),
        Imp::Pure(temporal::duration),
    ),
    (
        "duration.between",
        "duration.between",
        2,
        Some(2),
        Imp::Pure(temporal::duration_between),
    ),
    (
        "duration.inmonths",
        "duration.inMonths",
        2,
        Some(2),
        Imp::Pure(temporal::duration_in_months),
    ),
    (
        "duration.indays",
        "duration.inDays",
        2,
        Some(2),
        Imp::Pure(temporal::duration_in_days),
    ),
    (
        "duration.inseconds",
        "duration.inSeconds",
        2,
        Some(2),
        Imp::Pure(temporal::duration_in_seconds),
    ),
];

fn lookup(name: &str) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.0.eq_ignore_ascii_case(name))
}

/// Whether `name` is a known scalar function (case-insensitive).
pub fn exists(name: &str) -> bool {
    lookup(name).is_some()
}

/// Calls scalar function `name` with evaluated `args`.
pub fn call(name: &str, args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
    let entry = checked_entry(name, args.len())?;
    match entry.4 {
        Imp::Pure(f) => f(args),
        Imp::Graph(f) => f(args, ctx),
    }
}

/// Checks that `name` exists and accepts `n` arguments (semantic error otherwise).
pub(crate) fn check_call(name: &str, n: usize) -> Result<()> {
    checked_entry(name, n).map(|_| ())
}

/// Looks `name` up and checks the argument count.
fn checked_entry(name: &str, n: usize) -> Result<&'static Entry> {
    let entry =
        lookup(name).ok_or_else(|| Error::semantic(format!("Unknown function '{name}'")))?;
    let (_, display, min, max, _) = entry;
    if n < *min || max.is_some_and(|m| n > m) {
        let expected = match max {
            Some(m) if m == min => format!("{min}"),
            Some(m) => format!("{min} to {m}"),
            None => format!("at least {min}"),
        };
        return Err(Error::semantic(format!(
            "{display}() takes {expected} argument(s), got {n}"
        )));
    }
    Ok(entry)
}

/// Calls a function that needs no graph access (tests; constant folding).
#[cfg(test)]
fn call_pure(name: &str, args: Vec<Value>) -> Result<Value> {
    match checked_entry(name, args.len())?.4 {
        Imp::Pure(f) => f(args),
        Imp::Graph(_) => Err(Error::internal(format!("{name}() needs a transaction"))),
    }
}

// ---- shared argument helpers -------------------------------------------------------------

/// The single argument (arity was checked by [`call`]).
pub(super) fn one(args: Vec<Value>) -> Value {
    args.into_iter().next().unwrap_or(Value::Null)
}

pub(super) fn two(args: Vec<Value>) -> (Value, Value) {
    let mut it = args.into_iter();
    (
        it.next().unwrap_or(Value::Null),
        it.next().unwrap_or(Value::Null),
    )
}

pub(super) fn bad_type(func: &str, expected: &str, got: &Value) -> Error {
    Error::type_error(format!(
        "{func}() expects {expected}, got {}",
        got.type_name()
    ))
}

pub(super) fn out_of_range(msg: String) -> Error {
    Error::new(ErrorKind::Error, msg)
}

fn id_value(id: u64) -> Result<Value> {
    i64::try_from(id)
        .map(Value::Int)
        .map_err(|_| Error::internal(format!("entity id {id} exceeds the Integer range")))
}

// ---- general and graph functions ---------------------------------------------------------

fn coalesce(args: Vec<Value>) -> Result<Value> {
    Ok(args
        .into_iter()
        .find(|v| !v.is_null())
        .unwrap_or(Value::Null))
}

/// `nullIf(v, w)`: null when `v = w`, else `v`.
fn null_if(args: Vec<Value>) -> Result<Value> {
    let (v, w) = two(args);
    Ok(if super::semantics::equals(&v, &w) == Some(true) {
        Value::Null
    } else {
        v
    })
}

fn exists_fn(args: Vec<Value>) -> Result<Value> {
    Ok(Value::Bool(!one(args).is_null()))
}

fn timestamp(_: Vec<Value>) -> Result<Value> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    Ok(Value::Int(i64::try_from(ms).unwrap_or(i64::MAX)))
}

fn id(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::Node(id) | Value::Relationship(id) => id_value(id),
        other => Err(bad_type("id", "a Node or Relationship", &other)),
    }
}

fn element_id(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::Node(id) | Value::Relationship(id) => Ok(Value::String(id.to_string())),
        other => Err(bad_type("elementId", "a Node or Relationship", &other)),
    }
}

fn labels(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::Node(id) => {
            let labels = ctx.tx.node_labels(id);
            if labels.is_empty() && ctx.tx.node_deleted_here(id) {
                return Err(crate::cypher::eval::deleted_entity("node", id, "labels"));
            }
            Ok(Value::List(
                labels
                    .into_iter()
                    .map(|l| Value::String(ctx.tx.label_name(l).to_string()))
                    .collect(),
            ))
        }
        other => Err(bad_type("labels", "a Node", &other)),
    }
}

fn rel_type(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::Relationship(id) => Ok(ctx.tx.rel_type(id).map_or(Value::Null, |t| {
            Value::String(ctx.tx.rel_type_name(t).to_string())
        })),
        other => Err(bad_type("type", "a Relationship", &other)),
    }
}

fn property_map(func: &str, v: &Value, ctx: &EvalContext) -> Result<BTreeMap<String, Value>> {
    all_properties(ctx, v).ok_or_else(|| bad_type(func, "a Node, Relationship or Map", v))
}

fn properties(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        v @ Value::Map(_) => Ok(v),
        v => property_map("properties", &v, ctx).map(Value::Map),
    }
}

fn keys(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::List(
            property_map("keys", &v, ctx)?
                .into_keys()
                .map(Value::String)
                .collect(),
        )),
    }
}

fn endpoint(func: &str, args: Vec<Value>, ctx: &EvalContext, start: bool) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::Relationship(id) => Ok(ctx
            .tx
            .rel_endpoints(id)
            .map_or(Value::Null, |(s, e)| Value::Node(if start { s } else { e }))),
        other => Err(bad_type(func, "a Relationship", &other)),
    }
}

fn start_node(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
    endpoint("startNode", args, ctx, true)
}

fn end_node(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
    endpoint("endNode", args, ctx, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_unknown_is_semantic() {
        assert!(exists("toUpper"));
        assert!(exists("TOUPPER"));
        assert!(exists("char_length"));
        assert!(!exists("foo"));
        let e = call_pure("foo", vec![]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Semantic);
        assert_eq!(e.message(), "Unknown function 'foo'");
    }

    #[test]
    fn arity_is_checked() {
        let e = call_pure("toUpper", vec![]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Semantic);
        assert!(e.message().contains("toUpper() takes 1"), "{}", e.message());
        assert!(call_pure("substring", vec!["a".into()]).is_err());
        assert!(call_pure("coalesce", vec![]).is_err());
    }

    #[test]
    fn general_functions() {
        assert_eq!(
            call_pure("coalesce", vec![Value::Null, Value::Int(2), Value::Int(3)]),
            Ok(Value::Int(2))
        );
        assert_eq!(call_pure("coalesce", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            call_pure("exists", vec![Value::Null]),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            call_pure("exists", vec![Value::Int(0)]),
            Ok(Value::Bool(true))
        );
        let Ok(Value::Int(t)) = call_pure("timestamp", vec![]) else {
            panic!("timestamp() must return an Integer");
        };
        // After 2020-01-01 in milliseconds.
        assert!(t > 1_577_836_800_000);
        assert_eq!(call_pure("id", vec![Value::Node(7)]), Ok(Value::Int(7)));
        assert_eq!(
            call_pure("id", vec![Value::Relationship(3)]),
            Ok(Value::Int(3))
        );
        assert_eq!(call_pure("id", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            call_pure("id", vec![Value::Int(1)]).map_err(|e| e.kind()),
            Err(ErrorKind::Type)
        );
        assert_eq!(
            call_pure("elementId", vec![Value::Node(7)]),
            Ok(Value::from("7"))
        );
    }
}
