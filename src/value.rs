//! Values as the engine handles them.
//!
//! [`Value`] is what properties store and what the query engine computes with. Graph entities
//! appear in it only by id (`Node`, `Relationship`, `Path`): the engine looks their labels and
//! properties up in the transaction's snapshot when it needs them, and a query result
//! materializes them into [`crate::api::Value`] when it is returned to the caller.
//!
//! Stored properties never contain `Node`, `Relationship` or `Path` (the storage layer refuses
//! them), so a property value is always plain data.

use std::collections::BTreeMap;

/// Dense, never-reused node id.
pub type NodeId = u64;
/// Dense, never-reused relationship id.
pub type RelId = u64;

/// A path as ids: `nodes.len() == rels.len() + 1`; `rels[i]` joins `nodes[i]` and `nodes[i+1]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathIds {
    pub nodes: Vec<NodeId>,
    pub rels: Vec<RelId>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Value>),
    /// Keys sorted, unique.
    Map(BTreeMap<String, Value>),
    Node(NodeId),
    Relationship(RelId),
    Path(PathIds),
    Date(crate::temporal::Date),
    LocalTime(crate::temporal::LocalTime),
    Time(crate::temporal::Time),
    LocalDateTime(crate::temporal::LocalDateTime),
    DateTime(crate::temporal::DateTime),
    Duration(crate::temporal::Duration),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The type name used in error messages ("Integer", "String", ...), as openCypher names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Float(_) => "Float",
            Value::String(_) => "String",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Node(_) => "Node",
            Value::Relationship(_) => "Relationship",
            Value::Path(_) => "Path",
            Value::Date(_) => "Date",
            Value::LocalTime(_) => "LocalTime",
            Value::Time(_) => "Time",
            Value::LocalDateTime(_) => "LocalDateTime",
            Value::DateTime(_) => "DateTime",
            Value::Duration(_) => "Duration",
        }
    }

    /// Whether this value may be stored as a property (no graph entities anywhere inside).
    pub fn is_storable(&self) -> bool {
        match self {
            Value::Node(_) | Value::Relationship(_) | Value::Path(_) => false,
            Value::List(items) => items.iter().all(Value::is_storable),
            Value::Map(m) => m.values().all(Value::is_storable),
            _ => true,
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::String(v)
    }
}
