//! Query results as the caller receives them: entities materialized with their labels,
//! type and properties as of the statement's end.

use std::collections::BTreeMap;

use super::QueryStats;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: u64,
    pub labels: Vec<String>,
    pub properties: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub id: u64,
    pub rel_type: String,
    pub start: u64,
    pub end: u64,
    pub properties: BTreeMap<String, Value>,
}

/// `nodes.len() == relationships.len() + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub nodes: Vec<Node>,
    pub relationships: Vec<Relationship>,
}

/// A value in a query result or a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Node(Node),
    Relationship(Relationship),
    Path(Path),
    /// Temporal values; their `Display` is the Cypher string form (`2015-07-21`,
    /// `12:31:14.645+01:00`, `P1Y2M`, ...).
    Date(crate::temporal::Date),
    LocalTime(crate::temporal::LocalTime),
    Time(crate::temporal::Time),
    LocalDateTime(crate::temporal::LocalDateTime),
    DateTime(crate::temporal::DateTime),
    Duration(crate::temporal::Duration),
}

/// The complete result of one statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub stats: QueryStats,
}

impl Value {
    /// The Cypher string form of a temporal value; `None` for every other value.
    pub fn temporal_string(&self) -> Option<String> {
        Some(match self {
            Value::Date(v) => v.to_string(),
            Value::LocalTime(v) => v.to_string(),
            Value::Time(v) => v.to_string(),
            Value::LocalDateTime(v) => v.to_string(),
            Value::DateTime(v) => v.to_string(),
            Value::Duration(v) => v.to_string(),
            _ => return None,
        })
    }
}
