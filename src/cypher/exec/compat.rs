//! The value-semantics and aggregation entry points the executor uses, in one place.
//!
//! TEMPORARY: `semantics` and `aggregate` are being written in parallel; until they land these
//! are minimal local versions with the same signatures. When they land this module becomes
//! plain re-exports.
#![allow(dead_code)]

use std::cmp::Ordering;

use crate::error::{Error, Result};
use crate::value::Value;

/// Cypher equality: `None` when the answer is unknown (a null is involved).
pub fn equals(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
            Some((*x as f64) == *y)
        }
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (p, q) in x.iter().zip(y) {
                match equals(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(true)
            }
        }
        _ => Some(a == b),
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Map(_) => 0,
        Value::Node(_) => 1,
        Value::Relationship(_) => 2,
        Value::List(_) => 3,
        Value::Path(_) => 4,
        Value::String(_) => 5,
        Value::Bool(_) => 6,
        Value::Int(_) | Value::Float(_) => 7,
        Value::Null => 8,
    }
}

/// The global sort order of ORDER BY (nulls last ascending).
pub fn order(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(x), Value::Float(y)) => (*x as f64).total_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.total_cmp(&(*y as f64)),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Node(x), Value::Node(y)) => x.cmp(y),
        (Value::Relationship(x), Value::Relationship(y)) => x.cmp(y),
        (Value::Path(x), Value::Path(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = order(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Map(x), Value::Map(y)) => {
            let xs: Vec<_> = x.iter().collect();
            let ys: Vec<_> = y.iter().collect();
            for ((ka, va), (kb, vb)) in xs.iter().zip(&ys) {
                let o = ka.cmp(kb).then_with(|| order(va, vb));
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => Ordering::Equal,
    }
}

/// A hashable grouping key: equal keys for values that group together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey(String);

impl GroupKey {
    pub fn new(v: &Value) -> GroupKey {
        fn norm(v: &Value) -> Value {
            match v {
                Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Int(*f as i64),
                Value::List(l) => Value::List(l.iter().map(norm).collect()),
                Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
                other => other.clone(),
            }
        }
        GroupKey(format!("{:?}", norm(v)))
    }
}

/// Whether `name` is an aggregate function (case-insensitive).
pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "count"
            | "sum"
            | "avg"
            | "min"
            | "max"
            | "collect"
            | "stdev"
            | "stdevp"
            | "percentiledisc"
            | "percentilecont"
    )
}

pub trait Accumulator {
    fn update(&mut self, v: Value) -> Result<()>;
    fn finish(&mut self) -> Result<Value>;
}

struct Simple {
    name: String,
    distinct: bool,
    seen: Vec<GroupKey>,
    values: Vec<Value>,
}

impl Accumulator for Simple {
    fn update(&mut self, v: Value) -> Result<()> {
        if v.is_null() {
            return Ok(());
        }
        if self.distinct {
            let k = GroupKey::new(&v);
            if self.seen.contains(&k) {
                return Ok(());
            }
            self.seen.push(k);
        }
        self.values.push(v);
        Ok(())
    }
    fn finish(&mut self) -> Result<Value> {
        let vals = std::mem::take(&mut self.values);
        Ok(match self.name.as_str() {
            "count" => Value::Int(vals.len() as i64),
            "collect" => Value::List(vals),
            "min" => vals.into_iter().min_by(order).unwrap_or(Value::Null),
            "max" => vals.into_iter().max_by(order).unwrap_or(Value::Null),
            "sum" | "avg" => {
                let n = vals.len();
                let mut int_sum: i64 = 0;
                let mut f_sum = 0.0;
                let mut float = false;
                for v in vals {
                    match v {
                        Value::Int(i) => {
                            int_sum = int_sum.wrapping_add(i);
                            f_sum += i as f64;
                        }
                        Value::Float(f) => {
                            float = true;
                            f_sum += f;
                        }
                        other => {
                            return Err(Error::type_error(format!(
                                "{}() needs numbers, got {}",
                                self.name,
                                other.type_name()
                            )))
                        }
                    }
                }
                if self.name == "avg" {
                    if n == 0 {
                        Value::Null
                    } else {
                        Value::Float(f_sum / n as f64)
                    }
                } else if float {
                    Value::Float(f_sum)
                } else {
                    Value::Int(int_sum)
                }
            }
            other => {
                return Err(Error::semantic(format!(
                    "aggregate {other}() is not supported yet"
                )))
            }
        })
    }
}

pub fn new_accumulator(
    name: &str,
    distinct: bool,
    _extra_args: Vec<Value>,
) -> Result<Box<dyn Accumulator>> {
    Ok(Box::new(Simple {
        name: name.to_ascii_lowercase(),
        distinct,
        seen: Vec::new(),
        values: Vec::new(),
    }))
}
