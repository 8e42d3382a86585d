//! Borrowed views of result values: `const graphdb_value *` points into the current row of a
//! result and stays valid until `graphdb_result_next` or `graphdb_result_free` on that result.
//!
//! The row is converted once, when the result moves onto it, into a tree whose strings are
//! NUL-terminated, so every accessor hands out borrowed pointers without allocating. These
//! functions take no connection, so they report failures only through their status.

use std::ffi::c_char;

use super::status::{graphdb_status, guard, guard_value};
use super::util::{handle, need, out, CBuf};
use crate::api::{Node, Relationship, Value};
use crate::error::{Error, Result};

/// The type of a value (`graphdb_result_type`, `graphdb_value_type`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum graphdb_value_type {
    GRAPHDB_TYPE_NULL = 0,
    GRAPHDB_TYPE_BOOL = 1,
    GRAPHDB_TYPE_INT64 = 2,
    GRAPHDB_TYPE_DOUBLE = 3,
    GRAPHDB_TYPE_STRING = 4,
    GRAPHDB_TYPE_LIST = 5,
    GRAPHDB_TYPE_MAP = 6,
    GRAPHDB_TYPE_NODE = 7,
    GRAPHDB_TYPE_RELATIONSHIP = 8,
    GRAPHDB_TYPE_PATH = 9,
    /// Temporal values: the string getters return their Cypher string form
    /// (`2015-07-21`, `12:31:14.645+01:00`, `P1Y2M3D`), the JSON getter the tagged form.
    GRAPHDB_TYPE_DATE = 10,
    GRAPHDB_TYPE_LOCAL_TIME = 11,
    GRAPHDB_TYPE_TIME = 12,
    GRAPHDB_TYPE_LOCAL_DATETIME = 13,
    GRAPHDB_TYPE_DATETIME = 14,
    GRAPHDB_TYPE_DURATION = 15,
    /// Returned for a bad argument (NULL, no current row, column out of range).
    GRAPHDB_TYPE_INVALID = -1,
}

/// A borrowed, read-only view of one value.
pub struct graphdb_value {
    kind: Kind,
}

enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(CBuf),
    List(Vec<graphdb_value>),
    Map(Vec<(CBuf, graphdb_value)>),
    Node(Box<NodeView>),
    Relationship(Box<RelationshipView>),
    Path(Box<PathView>),
    /// A temporal value: its type and its Cypher string form.
    Temporal(graphdb_value_type, CBuf),
}

struct NodeView {
    id: u64,
    labels: Vec<CBuf>,
    /// Always a map.
    properties: graphdb_value,
}

struct RelationshipView {
    id: u64,
    rel_type: CBuf,
    start: u64,
    end: u64,
    /// Always a map.
    properties: graphdb_value,
}

struct PathView {
    /// Node views; one more than relationships.
    nodes: Vec<graphdb_value>,
    /// Relationship views.
    relationships: Vec<graphdb_value>,
}

impl graphdb_value {
    pub(crate) fn from_value(v: &Value) -> graphdb_value {
        let kind = match v {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(*b),
            Value::Int(i) => Kind::Int(*i),
            Value::Float(f) => Kind::Float(*f),
            Value::String(s) => Kind::Str(CBuf::new(s)),
            Value::List(items) => Kind::List(items.iter().map(graphdb_value::from_value).collect()),
            Value::Map(m) => Kind::Map(
                m.iter()
                    .map(|(k, v)| (CBuf::new(k), graphdb_value::from_value(v)))
                    .collect(),
            ),
            Value::Node(n) => Kind::Node(Box::new(node_view(n))),
            Value::Relationship(r) => Kind::Relationship(Box::new(relationship_view(r))),
            Value::Date(_)
            | Value::LocalTime(_)
            | Value::Time(_)
            | Value::LocalDateTime(_)
            | Value::DateTime(_)
            | Value::Duration(_) => {
                use graphdb_value_type::*;
                let t = match v {
                    Value::Date(_) => GRAPHDB_TYPE_DATE,
                    Value::LocalTime(_) => GRAPHDB_TYPE_LOCAL_TIME,
                    Value::Time(_) => GRAPHDB_TYPE_TIME,
                    Value::LocalDateTime(_) => GRAPHDB_TYPE_LOCAL_DATETIME,
                    Value::DateTime(_) => GRAPHDB_TYPE_DATETIME,
                    _ => GRAPHDB_TYPE_DURATION,
                };
                Kind::Temporal(t, CBuf::new(&v.temporal_string().unwrap_or_default()))
            }
            Value::Path(p) => Kind::Path(Box::new(PathView {
                nodes: p
                    .nodes
                    .iter()
                    .map(|n| graphdb_value {
                        kind: Kind::Node(Box::new(node_view(n))),
                    })
                    .collect(),
                relationships: p
                    .relationships
                    .iter()
                    .map(|r| graphdb_value {
                        kind: Kind::Relationship(Box::new(relationship_view(r))),
                    })
                    .collect(),
            })),
        };
        graphdb_value { kind }
    }

    pub(crate) fn value_type(&self) -> graphdb_value_type {
        use graphdb_value_type::*;
        match self.kind {
            Kind::Null => GRAPHDB_TYPE_NULL,
            Kind::Bool(_) => GRAPHDB_TYPE_BOOL,
            Kind::Int(_) => GRAPHDB_TYPE_INT64,
            Kind::Float(_) => GRAPHDB_TYPE_DOUBLE,
            Kind::Str(_) => GRAPHDB_TYPE_STRING,
            Kind::List(_) => GRAPHDB_TYPE_LIST,
            Kind::Map(_) => GRAPHDB_TYPE_MAP,
            Kind::Node(_) => GRAPHDB_TYPE_NODE,
            Kind::Relationship(_) => GRAPHDB_TYPE_RELATIONSHIP,
            Kind::Path(_) => GRAPHDB_TYPE_PATH,
            Kind::Temporal(t, _) => t,
        }
    }

    fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "NULL",
            Kind::Bool(_) => "BOOL",
            Kind::Int(_) => "INT64",
            Kind::Float(_) => "DOUBLE",
            Kind::Str(_) => "STRING",
            Kind::List(_) => "LIST",
            Kind::Map(_) => "MAP",
            Kind::Node(_) => "NODE",
            Kind::Relationship(_) => "RELATIONSHIP",
            Kind::Path(_) => "PATH",
            Kind::Temporal(t, _) => match t {
                graphdb_value_type::GRAPHDB_TYPE_DATE => "DATE",
                graphdb_value_type::GRAPHDB_TYPE_LOCAL_TIME => "LOCAL_TIME",
                graphdb_value_type::GRAPHDB_TYPE_TIME => "TIME",
                graphdb_value_type::GRAPHDB_TYPE_LOCAL_DATETIME => "LOCAL_DATETIME",
                graphdb_value_type::GRAPHDB_TYPE_DATETIME => "DATETIME",
                _ => "DURATION",
            },
        }
    }

    fn wrong_type(&self, wanted: &str) -> Error {
        Error::type_error(format!(
            "the value is {}, not {wanted}; check its type first",
            self.type_name()
        ))
    }

    pub(crate) fn as_bool(&self) -> Result<bool> {
        match self.kind {
            Kind::Bool(b) => Ok(b),
            _ => Err(self.wrong_type("BOOL")),
        }
    }

    pub(crate) fn as_int(&self) -> Result<i64> {
        match self.kind {
            Kind::Int(i) => Ok(i),
            _ => Err(self.wrong_type("INT64")),
        }
    }

    pub(crate) fn as_double(&self) -> Result<f64> {
        match self.kind {
            Kind::Float(f) => Ok(f),
            _ => Err(self.wrong_type("DOUBLE")),
        }
    }

    pub(crate) fn as_str(&self) -> Result<&CBuf> {
        match &self.kind {
            // Temporal values read as their Cypher string form.
            Kind::Str(s) | Kind::Temporal(_, s) => Ok(s),
            _ => Err(self.wrong_type("STRING")),
        }
    }

    fn as_list(&self) -> Result<&[graphdb_value]> {
        match &self.kind {
            Kind::List(l) => Ok(l),
            _ => Err(self.wrong_type("LIST")),
        }
    }

    fn as_map(&self) -> Result<&[(CBuf, graphdb_value)]> {
        match &self.kind {
            Kind::Map(m) => Ok(m),
            _ => Err(self.wrong_type("MAP")),
        }
    }

    fn as_node(&self) -> Result<&NodeView> {
        match &self.kind {
            Kind::Node(n) => Ok(n),
            _ => Err(self.wrong_type("NODE")),
        }
    }

    fn as_relationship(&self) -> Result<&RelationshipView> {
        match &self.kind {
            Kind::Relationship(r) => Ok(r),
            _ => Err(self.wrong_type("RELATIONSHIP")),
        }
    }

    fn as_path(&self) -> Result<&PathView> {
        match &self.kind {
            Kind::Path(p) => Ok(p),
            _ => Err(self.wrong_type("PATH")),
        }
    }
}

fn node_view(n: &Node) -> NodeView {
    NodeView {
        id: n.id,
        labels: n.labels.iter().map(|l| CBuf::new(l)).collect(),
        properties: graphdb_value::from_value(&Value::Map(n.properties.clone())),
    }
}

fn relationship_view(r: &Relationship) -> RelationshipView {
    RelationshipView {
        id: r.id,
        rel_type: CBuf::new(&r.rel_type),
        start: r.start,
        end: r.end,
        properties: graphdb_value::from_value(&Value::Map(r.properties.clone())),
    }
}

fn item<'a, T>(items: &'a [T], i: usize, what: &str) -> Result<&'a T> {
    items.get(i).ok_or_else(|| {
        Error::invalid_argument(format!(
            "{what} index {i} is out of range; there are {}",
            items.len()
        ))
    })
}

/// Shared shape of the accessors: check the view, clear and check the out-parameter, compute.
///
/// # Safety
/// `v` is NULL or a live view; `o` is NULL or writable.
unsafe fn read<T: Copy>(
    function: &str,
    v: *const graphdb_value,
    o: *mut T,
    empty: T,
    get: impl FnOnce(&graphdb_value) -> Result<T>,
) -> graphdb_status {
    guard(function, || {
        // SAFETY: per this function's contract.
        let o = need(unsafe { out(o, empty) }, "out")?;
        // SAFETY: per this function's contract.
        let v = unsafe { handle(v, "value") }?;
        *o = get(v)?;
        Ok(())
    })
}

/// Writes a borrowed string (pointer + length) into two out-parameters.
///
/// # Safety
/// `utf8` and `len` are NULL or writable.
pub(crate) unsafe fn write_str(
    s: &CBuf,
    utf8: Option<&mut *const c_char>,
    len: *mut usize,
) -> Result<()> {
    let utf8 = need(utf8, "utf8")?;
    *utf8 = s.ptr();
    // The length is optional: NUL-terminated use needs none.
    // SAFETY: per this function's contract.
    if let Some(l) = unsafe { out(len, 0) } {
        *l = s.len();
    }
    Ok(())
}

/// # Safety
/// `v` is NULL or a live view; `utf8`/`len` are NULL or writable.
unsafe fn read_str(
    function: &str,
    v: *const graphdb_value,
    utf8: *mut *const c_char,
    len: *mut usize,
    get: impl FnOnce(&graphdb_value) -> Result<&CBuf>,
) -> graphdb_status {
    guard(function, || {
        // SAFETY: per this function's contract.
        let utf8 = unsafe { out(utf8, std::ptr::null()) };
        // SAFETY: per this function's contract.
        unsafe { out(len, 0) };
        // SAFETY: per this function's contract.
        let v = unsafe { handle(v, "value") }?;
        let s = get(v)?;
        // SAFETY: per this function's contract.
        unsafe { write_str(s, utf8, len) }
    })
}

/// The type of a view; GRAPHDB_TYPE_INVALID for NULL.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_get_type(v: *const graphdb_value) -> graphdb_value_type {
    guard_value(graphdb_value_type::GRAPHDB_TYPE_INVALID, || {
        // SAFETY: NULL or a live view.
        match unsafe { v.as_ref() } {
            Some(v) => v.value_type(),
            None => graphdb_value_type::GRAPHDB_TYPE_INVALID,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_value_get_bool(
    v: *const graphdb_value,
    out: *mut bool,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { read("graphdb_value_get_bool", v, out, false, |v| v.as_bool()) }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_value_get_int64(
    v: *const graphdb_value,
    out: *mut i64,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { read("graphdb_value_get_int64", v, out, 0, |v| v.as_int()) }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_value_get_double(
    v: *const graphdb_value,
    out: *mut f64,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { read("graphdb_value_get_double", v, out, 0.0, |v| v.as_double()) }
}

/// A borrowed NUL-terminated string and its length in bytes (`len` may be NULL); the Cypher
/// string form for a temporal value.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_get_string(
    v: *const graphdb_value,
    utf8: *mut *const c_char,
    len: *mut usize,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { read_str("graphdb_value_get_string", v, utf8, len, |v| v.as_str()) }
}

/// The number of elements of a list.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_list_size(
    v: *const graphdb_value,
    out: *mut usize,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_list_size", v, out, 0, |v| {
            Ok(v.as_list()?.len())
        })
    }
}

/// Element `index` of a list.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_list_get(
    v: *const graphdb_value,
    index: usize,
    out: *mut *const graphdb_value,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_list_get", v, out, std::ptr::null(), |v| {
            Ok(item(v.as_list()?, index, "list")? as *const graphdb_value)
        })
    }
}

/// The number of entries of a map (keys in ascending order).
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_map_size(
    v: *const graphdb_value,
    out: *mut usize,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_map_size", v, out, 0, |v| {
            Ok(v.as_map()?.len())
        })
    }
}

/// The key of map entry `index` (borrowed; `len` may be NULL).
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_map_key(
    v: *const graphdb_value,
    index: usize,
    utf8: *mut *const c_char,
    len: *mut usize,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read_str("graphdb_value_map_key", v, utf8, len, |v| {
            Ok(&item(v.as_map()?, index, "map entry")?.0)
        })
    }
}

/// The value of map entry `index`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_map_value(
    v: *const graphdb_value,
    index: usize,
    out: *mut *const graphdb_value,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_map_value", v, out, std::ptr::null(), |v| {
            Ok(&item(v.as_map()?, index, "map entry")?.1 as *const graphdb_value)
        })
    }
}

/// The value stored under `key` in a map (NUL-terminated); GRAPHDB_INVALID_ARGUMENT if absent.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_map_find(
    v: *const graphdb_value,
    key: *const c_char,
    out: *mut *const graphdb_value,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract; `key` is NULL or NUL-terminated.
    unsafe {
        read("graphdb_value_map_find", v, out, std::ptr::null(), |v| {
            let key = super::util::in_str(key, "key")?;
            let map = v.as_map()?;
            let found = map
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .ok_or_else(|| Error::invalid_argument(format!("the map has no key '{key}'")))?;
            Ok(&found.1 as *const graphdb_value)
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_value_node_id(
    v: *const graphdb_value,
    out: *mut u64,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { read("graphdb_value_node_id", v, out, 0, |v| Ok(v.as_node()?.id)) }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_value_node_label_count(
    v: *const graphdb_value,
    out: *mut usize,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_node_label_count", v, out, 0, |v| {
            Ok(v.as_node()?.labels.len())
        })
    }
}

/// Label `index` of a node (borrowed; `len` may be NULL).
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_node_label(
    v: *const graphdb_value,
    index: usize,
    utf8: *mut *const c_char,
    len: *mut usize,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read_str("graphdb_value_node_label", v, utf8, len, |v| {
            item(&v.as_node()?.labels, index, "label")
        })
    }
}

/// The properties of a node, as a map view.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_node_properties(
    v: *const graphdb_value,
    out: *mut *const graphdb_value,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read(
            "graphdb_value_node_properties",
            v,
            out,
            std::ptr::null(),
            |v| Ok(&v.as_node()?.properties as *const graphdb_value),
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_value_relationship_id(
    v: *const graphdb_value,
    out: *mut u64,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_relationship_id", v, out, 0, |v| {
            Ok(v.as_relationship()?.id)
        })
    }
}

/// The type of a relationship (borrowed; `len` may be NULL).
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_relationship_type(
    v: *const graphdb_value,
    utf8: *mut *const c_char,
    len: *mut usize,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read_str("graphdb_value_relationship_type", v, utf8, len, |v| {
            Ok(&v.as_relationship()?.rel_type)
        })
    }
}

/// The id of the relationship's start node.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_relationship_start(
    v: *const graphdb_value,
    out: *mut u64,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_relationship_start", v, out, 0, |v| {
            Ok(v.as_relationship()?.start)
        })
    }
}

/// The id of the relationship's end node.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_relationship_end(
    v: *const graphdb_value,
    out: *mut u64,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_relationship_end", v, out, 0, |v| {
            Ok(v.as_relationship()?.end)
        })
    }
}

/// The properties of a relationship, as a map view.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_relationship_properties(
    v: *const graphdb_value,
    out: *mut *const graphdb_value,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read(
            "graphdb_value_relationship_properties",
            v,
            out,
            std::ptr::null(),
            |v| Ok(&v.as_relationship()?.properties as *const graphdb_value),
        )
    }
}

/// The number of relationships in a path (it has one more node).
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_path_length(
    v: *const graphdb_value,
    out: *mut usize,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_path_length", v, out, 0, |v| {
            Ok(v.as_path()?.relationships.len())
        })
    }
}

/// Node `index` (0 ..= length) of a path, as a node view.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_path_node(
    v: *const graphdb_value,
    index: usize,
    out: *mut *const graphdb_value,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read("graphdb_value_path_node", v, out, std::ptr::null(), |v| {
            Ok(item(&v.as_path()?.nodes, index, "path node")? as *const graphdb_value)
        })
    }
}

/// Relationship `index` (0 .. length) of a path, as a relationship view.
#[no_mangle]
pub unsafe extern "C" fn graphdb_value_path_relationship(
    v: *const graphdb_value,
    index: usize,
    out: *mut *const graphdb_value,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        read(
            "graphdb_value_path_relationship",
            v,
            out,
            std::ptr::null(),
            |v| {
                Ok(
                    item(&v.as_path()?.relationships, index, "path relationship")?
                        as *const graphdb_value,
                )
            },
        )
    }
}
