//! Cypher value semantics: equality and comparison (three-valued), the global sort order used
//! by ORDER BY, and the equivalence used by DISTINCT, grouping and UNION.
//!
//! Three relations, deliberately different (openCypher "Comparability and equality"):
//! - [`equals`] / [`compare`] answer `=` and `<`: `None` means the answer is `null`.
//! - [`order`] is total, so sorting never fails: `MAP < NODE < RELATIONSHIP < LIST < PATH <
//!   DATETIME < LOCALDATETIME < DATE < TIME < LOCALTIME < DURATION < STRING < BOOLEAN <
//!   NUMBER < NaN < NULL`.
//! - [`GroupKey`] is equivalence: `null ≡ null`, `NaN ≡ NaN`, `1 ≡ 1.0`.
//!
//! Integers and floats are compared exactly (no lossy `i64 as f64` for large integers), so
//! all three agree with each other wherever more than one gives an answer.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use super::ast::BinaryOp;
use crate::temporal::compare as temporal;
use crate::value::Value;

/// Exact comparison of an integer with a non-NaN float.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    // 2^63 is exactly representable; every f64 at or above it exceeds every i64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    // Here `f.trunc()` fits in i64 exactly.
    let t = f.trunc();
    match i.cmp(&(t as i64)) {
        Ordering::Equal => {
            let frac = f - t;
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    }
}

/// Numeric comparison; `None` when a NaN is involved.
fn cmp_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) if !y.is_nan() => Some(cmp_int_float(*x, *y)),
        (Value::Float(x), Value::Int(y)) if !x.is_nan() => Some(cmp_int_float(*y, *x).reverse()),
        _ => None,
    }
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// Combines element results for `=` on lists and maps: any `false` wins, then any `null`.
fn all_equal<'a>(pairs: impl Iterator<Item = (&'a Value, &'a Value)>) -> Option<bool> {
    let mut saw_null = false;
    for (x, y) in pairs {
        match equals(x, y) {
            Some(false) => return Some(false),
            None => saw_null = true,
            Some(true) => {}
        }
    }
    if saw_null {
        None
    } else {
        Some(true)
    }
}

/// Cypher `=`: `None` is `null`. Values of different types are unequal (numbers excepted).
pub fn equals(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        _ if is_number(a) && is_number(b) => Some(cmp_numbers(a, b) == Some(Ordering::Equal)),
        _ if temporal::is_temporal(a) || temporal::is_temporal(b) => Some(temporal::equals(a, b)),
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        (Value::String(x), Value::String(y)) => Some(x == y),
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            all_equal(x.iter().zip(y.iter()))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.len() != y.len() || x.keys().zip(y.keys()).any(|(k1, k2)| k1 != k2) {
                return Some(false);
            }
            all_equal(x.values().zip(y.values()))
        }
        (Value::Node(x), Value::Node(y)) => Some(x == y),
        (Value::Relationship(x), Value::Relationship(y)) => Some(x == y),
        (Value::Path(x), Value::Path(y)) => Some(x == y),
        _ => Some(false),
    }
}

/// Cypher `<`-family comparison: numbers with numbers, strings with strings, booleans with
/// booleans, lists lexicographically. `None` (null) for null, NaN, or incomparable types.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        _ if is_number(a) && is_number(b) => cmp_numbers(a, b),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ if temporal::is_temporal(a) => temporal::compare(a, b),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match compare(p, q)? {
                    Ordering::Equal => {}
                    o => return Some(o),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => None,
    }
}

/// Evaluates a comparison operator (`=`, `<>`, `<`, `<=`, `>`, `>=`) with Cypher's rules,
/// including the one [`compare`] cannot express: a NaN compared with a number is `false`
/// (not `null`) for every ordering operator. Returns `None` for `null`; any other `op` is
/// answered `None`.
pub fn comparison(op: BinaryOp, a: &Value, b: &Value) -> Option<bool> {
    match op {
        BinaryOp::Eq => equals(a, b),
        BinaryOp::Ne => equals(a, b).map(|e| !e),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let nan = |v: &Value| matches!(v, Value::Float(f) if f.is_nan());
            if is_number(a) && is_number(b) && (nan(a) || nan(b)) {
                return Some(false);
            }
            let o = compare(a, b)?;
            Some(match op {
                BinaryOp::Lt => o == Ordering::Less,
                BinaryOp::Le => o != Ordering::Greater,
                BinaryOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        }
        _ => None,
    }
}

/// Rank of a value's type in the global sort order (openCypher orderability: maps, nodes,
/// relationships, lists, paths, date-times, local date-times, dates, times, local times,
/// durations, strings, booleans, numbers, NaN, null).
fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Map(_) => 0,
        Value::Node(_) => 1,
        Value::Relationship(_) => 2,
        Value::List(_) => 3,
        Value::Path(_) => 4,
        Value::DateTime(_) => 5,
        Value::LocalDateTime(_) => 6,
        Value::Date(_) => 7,
        Value::Time(_) => 8,
        Value::LocalTime(_) => 9,
        Value::Duration(_) => 10,
        Value::String(_) => 11,
        Value::Bool(_) => 12,
        Value::Float(f) if f.is_nan() => 14,
        Value::Int(_) | Value::Float(_) => 13,
        Value::Null => 15,
    }
}

fn order_slices(x: &[Value], y: &[Value]) -> Ordering {
    for (p, q) in x.iter().zip(y.iter()) {
        match order(p, q) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    x.len().cmp(&y.len())
}

fn order_maps(x: &BTreeMap<String, Value>, y: &BTreeMap<String, Value>) -> Ordering {
    for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
        match k1.cmp(k2).then_with(|| order(v1, v2)) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    x.len().cmp(&y.len())
}

/// The total order ORDER BY sorts by (ascending). Equal exactly when [`GroupKey`]s are equal.
pub fn order(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (type_rank(a), type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => order_maps(x, y),
        (Value::Node(x), Value::Node(y)) => x.cmp(y),
        (Value::Relationship(x), Value::Relationship(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => order_slices(x, y),
        (Value::Path(x), Value::Path(y)) => {
            // Interleave as the path is walked: n0, r0, n1, r1, ...
            let walk = |p: &crate::value::PathIds| {
                let mut v = Vec::with_capacity(p.nodes.len() + p.rels.len());
                for (i, n) in p.nodes.iter().enumerate() {
                    v.push((0u8, *n));
                    if let Some(r) = p.rels.get(i) {
                        v.push((1u8, *r));
                    }
                }
                v
            };
            walk(x).cmp(&walk(y))
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        // Same rank 13: non-NaN numbers; rank 14 (NaN) and 15 (null) are all alike.
        _ if ra == 13 => cmp_numbers(a, b).unwrap_or(Ordering::Equal),
        _ if temporal::is_temporal(a) => temporal::order(a, b),
        _ => Ordering::Equal,
    }
}

/// A value normalized for equivalence (DISTINCT, grouping, UNION): two values get equal keys
/// exactly when openCypher calls them equivalent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKey(Key);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Null,
    Bool(bool),
    /// Integers, and floats with an exact integer value in i64 range (so `1 ≡ 1.0`).
    Int(i64),
    /// Other floats by bit pattern, with `-0.0` folded into `0` above and every NaN
    /// represented by `NaN`.
    FloatBits(u64),
    NaN,
    String(String),
    List(Vec<Key>),
    Map(Vec<(String, Key)>),
    Node(u64),
    Relationship(u64),
    Path(Vec<u64>, Vec<u64>),
    /// Temporal values by their normalized key (see `temporal::compare::key`).
    Temporal((u8, i128, i128, i128)),
}

impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

fn float_key(f: f64) -> Key {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        Key::NaN
    } else if f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f) {
        Key::Int(f as i64)
    } else {
        Key::FloatBits(f.to_bits())
    }
}

fn key_of(v: &Value) -> Key {
    match v {
        Value::Null => Key::Null,
        Value::Bool(b) => Key::Bool(*b),
        Value::Int(i) => Key::Int(*i),
        Value::Float(f) => float_key(*f),
        Value::String(s) => Key::String(s.clone()),
        Value::List(items) => Key::List(items.iter().map(key_of).collect()),
        Value::Map(m) => Key::Map(m.iter().map(|(k, v)| (k.clone(), key_of(v))).collect()),
        Value::Node(id) => Key::Node(*id),
        Value::Relationship(id) => Key::Relationship(*id),
        Value::Path(p) => Key::Path(p.nodes.clone(), p.rels.clone()),
        Value::Date(_)
        | Value::LocalTime(_)
        | Value::Time(_)
        | Value::LocalDateTime(_)
        | Value::DateTime(_)
        | Value::Duration(_) => temporal::key(v).map_or(Key::Null, Key::Temporal),
    }
}

impl GroupKey {
    pub fn new(v: &Value) -> GroupKey {
        GroupKey(key_of(v))
    }
}

impl From<&Value> for GroupKey {
    fn from(v: &Value) -> GroupKey {
        GroupKey::new(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::PathIds;
    use std::collections::HashSet;

    fn list(v: Vec<Value>) -> Value {
        Value::List(v)
    }
    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    const N: Value = Value::Null;
    fn i(x: i64) -> Value {
        Value::Int(x)
    }
    fn f(x: f64) -> Value {
        Value::Float(x)
    }
    fn s(x: &str) -> Value {
        Value::from(x)
    }

    #[test]
    fn equality_basics() {
        assert_eq!(equals(&i(1), &f(1.0)), Some(true));
        assert_eq!(equals(&i(1), &f(1.5)), Some(false));
        assert_eq!(equals(&i(1), &s("1")), Some(false));
        assert_eq!(equals(&N, &N), None);
        assert_eq!(equals(&i(1), &N), None);
        assert_eq!(equals(&f(f64::NAN), &f(f64::NAN)), Some(false));
        assert_eq!(equals(&Value::Node(1), &Value::Node(1)), Some(true));
        assert_eq!(
            equals(&Value::Node(1), &Value::Relationship(1)),
            Some(false)
        );
        // 2^53 + 1 is not equal to the float 2^53 even though `as f64` would say so.
        assert_eq!(
            equals(&i((1 << 53) + 1), &f(9_007_199_254_740_992.0)),
            Some(false)
        );
    }

    #[test]
    fn list_equality_tck_table() {
        let cases = [
            (list(vec![i(1), i(2)]), list(vec![i(1)]), Some(false)),
            (list(vec![N]), list(vec![i(1)]), None),
            (list(vec![s("a")]), list(vec![i(1)]), Some(false)),
            (
                list(vec![list(vec![i(1)])]),
                list(vec![list(vec![i(1)]), list(vec![N])]),
                Some(false),
            ),
            (
                list(vec![list(vec![i(1)]), list(vec![i(2)])]),
                list(vec![list(vec![i(1)]), list(vec![N])]),
                None,
            ),
            (
                list(vec![list(vec![i(1)]), list(vec![i(2), i(3)])]),
                list(vec![list(vec![i(1)]), list(vec![N])]),
                Some(false),
            ),
        ];
        for (a, b, want) in cases {
            assert_eq!(equals(&a, &b), want, "{a:?} = {b:?}");
        }
    }

    #[test]
    fn map_equality_tck_table() {
        let cases = [
            (map(&[]), map(&[]), Some(true)),
            (map(&[("k", f(1.0))]), map(&[("k", f(1.0))]), Some(true)),
            (map(&[]), map(&[("k", N)]), Some(false)),
            (
                map(&[("k", i(1))]),
                map(&[("k", i(1)), ("l", N)]),
                Some(false),
            ),
            (map(&[("k", N)]), map(&[("k", N), ("l", N)]), Some(false)),
            (map(&[("k", N)]), map(&[("k", N)]), None),
            (
                map(&[("k", i(1)), ("l", N)]),
                map(&[("k", N), ("l", i(1))]),
                None,
            ),
            (
                map(&[("k", i(1)), ("l", N)]),
                map(&[("k", i(1)), ("l", i(1))]),
                None,
            ),
        ];
        for (a, b, want) in cases {
            assert_eq!(equals(&a, &b), want, "{a:?} = {b:?}");
        }
    }

    #[test]
    fn comparisons() {
        assert_eq!(compare(&i(1), &f(2.5)), Some(Ordering::Less));
        assert_eq!(compare(&s("a"), &s("b")), Some(Ordering::Less));
        assert_eq!(compare(&s("1"), &i(1)), None);
        assert_eq!(
            compare(&Value::Bool(false), &Value::Bool(true)),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&Value::Node(1), &Value::Node(2)), None);
        assert_eq!(compare(&map(&[]), &map(&[])), None);
        // TCK Comparison3 [4]: `>=` on lists.
        let ge = |a: Value, b: Value| comparison(BinaryOp::Ge, &a, &b);
        assert_eq!(ge(list(vec![i(1), i(0)]), list(vec![i(1)])), Some(true));
        assert_eq!(ge(list(vec![i(1), N]), list(vec![i(1)])), Some(true));
        assert_eq!(ge(list(vec![i(1), i(2)]), list(vec![i(1), N])), None);
        assert_eq!(ge(list(vec![i(1), s("a")]), list(vec![i(1), N])), None);
        assert_eq!(ge(list(vec![i(1), i(2)]), list(vec![i(3), N])), Some(false));
    }

    #[test]
    fn nan_comparisons_are_false_not_null() {
        let nan = f(f64::NAN);
        for op in [BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge] {
            assert_eq!(comparison(op, &nan, &i(1)), Some(false));
            assert_eq!(comparison(op, &nan, &f(1.0)), Some(false));
            assert_eq!(comparison(op, &nan, &nan), Some(false));
            assert_eq!(comparison(op, &nan, &s("a")), None);
        }
        assert_eq!(comparison(BinaryOp::Ne, &nan, &nan), Some(true));
    }

    #[test]
    fn global_order_across_types() {
        let sorted = vec![
            map(&[("a", i(1))]),
            Value::Node(5),
            Value::Relationship(1),
            list(vec![i(1)]),
            Value::Path(PathIds {
                nodes: vec![1],
                rels: vec![],
            }),
            s("a"),
            Value::Bool(false),
            Value::Bool(true),
            f(f64::NEG_INFINITY),
            i(-3),
            f(1.5),
            i(2),
            f(f64::INFINITY),
            f(f64::NAN),
            N,
        ];
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        shuffled.swap(3, 9);
        shuffled.sort_by(order);
        assert_eq!(format!("{shuffled:?}"), format!("{sorted:?}"));
    }

    #[test]
    fn temporal_values_order_by_type_then_instant_and_group_by_instant() {
        use crate::temporal::parse;
        let dt = |s: &str| Value::DateTime(parse::date_time(s).unwrap());
        let date = Value::Date(parse::date("2015-01-01").unwrap());
        let dur = Value::Duration(parse::duration("P1D").unwrap());
        let lt = Value::LocalTime(parse::local_time("12:00").unwrap());
        // DATETIME < DATE < LOCAL TIME < DURATION < STRING < NUMBER.
        let mut v = [
            i(1),
            s("a"),
            dur.clone(),
            lt.clone(),
            date.clone(),
            dt("2015-01-01T00:00Z"),
        ];
        v.sort_by(order);
        assert_eq!(v[0], dt("2015-01-01T00:00Z"));
        assert_eq!(v[1], date);
        assert_eq!(v[2], lt);
        assert_eq!(v[3], dur);
        let (a, b) = (dt("2015-01-01T01:00+01:00"), dt("2015-01-01T00:00Z"));
        assert_eq!(equals(&a, &b), Some(true));
        assert_eq!(GroupKey::new(&a), GroupKey::new(&b));
        assert_eq!(order(&a, &b), Ordering::Equal);
        assert_eq!(compare(&date, &lt), None);
        assert_eq!(equals(&date, &s("2015-01-01")), Some(false));
        assert_eq!(comparison(BinaryOp::Lt, &dur, &dur), None);
        assert_eq!(
            comparison(BinaryOp::Lt, &dt("2015-01-01T00:00+01:00"), &b),
            Some(true)
        );
    }

    #[test]
    fn order_is_consistent_with_compare() {
        let vals = vec![
            i(1),
            f(1.0),
            f(0.5),
            i(i64::MAX),
            f(9.3e18),
            s("x"),
            s(""),
            list(vec![]),
            list(vec![i(1), i(2)]),
            list(vec![f(1.0)]),
            Value::Bool(true),
        ];
        for a in &vals {
            for b in &vals {
                if let Some(o) = compare(a, b) {
                    assert_eq!(order(a, b), o, "{a:?} vs {b:?}");
                }
                assert_eq!(order(a, b), order(b, a).reverse());
            }
        }
    }

    #[test]
    fn group_key_equivalence() {
        let k = GroupKey::new;
        assert_eq!(k(&i(1)), k(&f(1.0)));
        assert_eq!(k(&N), k(&N));
        assert_eq!(k(&f(f64::NAN)), k(&f(-f64::NAN)));
        assert_eq!(k(&f(0.0)), k(&f(-0.0)));
        assert_ne!(k(&i(1)), k(&s("1")));
        assert_ne!(k(&f(1.5)), k(&i(1)));
        assert_eq!(k(&list(vec![i(1), N])), k(&list(vec![f(1.0), N])));
        assert_eq!(
            k(&map(&[("a", i(2))])),
            GroupKey::from(&map(&[("a", f(2.0))]))
        );
        let set: HashSet<GroupKey> = [i(1), f(1.0), N, N, f(2.5)].iter().map(k).collect();
        assert_eq!(set.len(), 3);
        // Equivalent exactly when `order` says Equal.
        for (a, b) in [(i(3), f(3.0)), (f(f64::NAN), f(f64::NAN)), (i(1), i(2))] {
            assert_eq!(k(&a) == k(&b), order(&a, &b) == Ordering::Equal);
        }
    }
}
