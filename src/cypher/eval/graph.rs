//! Expression access to graph entities and containers: properties, labels, subscripts.
//!
//! Names are looked up as interned ids in the transaction's catalog; a name that was never
//! interned cannot be on any entity, so it reads as null (property) or false (label).

use std::collections::BTreeMap;

use super::EvalContext;
use crate::cypher::ast::Ident;
use crate::error::{Error, Result};
use crate::value::Value;

/// `v.key`: null for null and for missing properties/keys; a type error for values that
/// have no properties.
pub(crate) fn property_of(ctx: &EvalContext, v: &Value, key: &str) -> Result<Value> {
    property_with(ctx, v, key, || ctx.tx.key_id(key))
}

/// `v.key` for a key written in the query: its id is resolved once per syntax tree.
pub(crate) fn property_of_ident(ctx: &EvalContext, v: &Value, key: &Ident) -> Result<Value> {
    property_with(ctx, v, &key.name, || {
        key.cached
            .get_or(ctx.tx.catalog_uid(), || ctx.tx.key_id(&key.name))
    })
}

fn property_with(
    ctx: &EvalContext,
    v: &Value,
    key: &str,
    key_id: impl Fn() -> Option<u32>,
) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Node(id) => {
            let v = key_id().map_or(Value::Null, |k| ctx.tx.node_property(*id, k));
            // Only a missing value can mean a deleted node: the check stays off the hot path.
            if v.is_null() && ctx.tx.node_deleted_here(*id) {
                return Err(deleted_entity("node", *id, &format!("property `{key}`")));
            }
            Ok(v)
        }
        Value::Relationship(id) => {
            let v = key_id().map_or(Value::Null, |k| ctx.tx.rel_property(*id, k));
            if v.is_null() && ctx.tx.rel_deleted_here(*id) {
                return Err(deleted_entity("relationship", *id, &format!("property `{key}`")));
            }
            Ok(v)
        }
        Value::Map(m) => Ok(m.get(key).cloned().unwrap_or(Value::Null)),
        other if crate::temporal::compare::is_temporal(other) => {
            crate::temporal::access::component(other, key).unwrap_or(Ok(Value::Null))
        }
        other => Err(Error::type_error(format!(
            "cannot read property `{key}` of {}; only nodes, relationships and maps have properties",
            other.type_name()
        ))),
    }
}

/// Reading what an entity held after this transaction deleted it (openCypher's
/// EntityNotFound: DeletedEntityAccess).
pub(crate) fn deleted_entity(what: &str, id: u64, read: &str) -> Error {
    Error::new(
        crate::error::ErrorKind::Error,
        format!(
            "{what} {id} was deleted earlier in this transaction, so its {read} can no longer be \
             read; read it before the DELETE"
        ),
    )
}

/// All properties of a node or relationship, or the entries of a map, by name; `None` for
/// any other value.
pub(crate) fn all_properties(ctx: &EvalContext, v: &Value) -> Option<BTreeMap<String, Value>> {
    let named = |props: Vec<(crate::storage::KeyId, Value)>| {
        props
            .into_iter()
            .map(|(k, v)| (ctx.tx.key_name(k).to_string(), v))
            .collect()
    };
    match v {
        Value::Node(id) => Some(named(ctx.tx.node_properties(*id))),
        Value::Relationship(id) => Some(named(ctx.tx.rel_properties(*id))),
        Value::Map(m) => Some(m.clone()),
        _ => None,
    }
}

/// `container[index]`: lists by Integer (negative counts from the end, out of range is null),
/// maps, nodes and relationships by String.
pub(crate) fn index(ctx: &EvalContext, container: &Value, index: &Value) -> Result<Value> {
    match (container, index) {
        (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
        (Value::List(items), Value::Int(i)) => {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let at = if *i < 0 { len.saturating_add(*i) } else { *i };
            Ok(usize::try_from(at)
                .ok()
                .and_then(|at| items.get(at))
                .cloned()
                .unwrap_or(Value::Null))
        }
        (Value::List(_), other) => Err(Error::type_error(format!(
            "a list index must be an Integer, got {}",
            other.type_name()
        ))),
        (c @ (Value::Map(_) | Value::Node(_) | Value::Relationship(_)), Value::String(key)) => {
            property_of(ctx, c, key)
        }
        (c @ (Value::Map(_) | Value::Node(_) | Value::Relationship(_)), other) => {
            Err(Error::type_error(format!(
                "a {} can only be subscripted with a String key, got {}",
                c.type_name(),
                other.type_name()
            )))
        }
        (other, _) => Err(Error::type_error(format!(
            "cannot subscript {}; only lists, maps, nodes and relationships support [ ]",
            other.type_name()
        ))),
    }
}

/// `v:A:B`: whether a node has every label (a relationship: whether its type is each name).
pub(crate) fn has_labels(ctx: &EvalContext, v: &Value, labels: &[Ident]) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Node(id) => Ok(Value::Bool(labels.iter().all(|l| {
            ctx.tx
                .label_id(&l.name)
                .is_some_and(|lid| ctx.tx.node_has_label(*id, lid))
        }))),
        Value::Relationship(id) => {
            let t = ctx.tx.rel_type(*id);
            Ok(Value::Bool(labels.iter().all(|l| {
                ctx.tx
                    .rel_type_id(&l.name)
                    .is_some_and(|tid| t == Some(tid))
            })))
        }
        other => Err(Error::type_error(format!(
            "cannot test labels of {}; only nodes have labels",
            other.type_name()
        ))),
    }
}
