//! Schema statements: CREATE/DROP INDEX, CREATE/DROP CONSTRAINT, SHOW INDEXES/CONSTRAINTS.
//!
//! Each change runs as its own transaction through `TxnManager::change_schema` (the API layer
//! refuses them inside an explicit transaction); the SHOW statements list the definitions.
//! Only single-property indexes and constraints exist so far.

use crate::cypher::ast::{Ident, StatementKind};
use crate::cypher::QueryOutput;
use crate::error::{Error, ErrorKind, Result};
use crate::txn::{SchemaOp, TxnManager};
use crate::value::Value;

/// Whether `kind` is a schema statement that changes the schema.
pub fn is_schema_change(kind: &StatementKind) -> bool {
    matches!(
        kind,
        StatementKind::CreateIndex { .. }
            | StatementKind::DropIndex { .. }
            | StatementKind::CreateUniqueConstraint { .. }
            | StatementKind::DropConstraint { .. }
    )
}

fn single_property<'a>(properties: &'a [Ident], what: &str) -> Result<&'a Ident> {
    match properties {
        [p] => Ok(p),
        _ => {
            let at = properties.get(1).map(|p| p.span).unwrap_or_default();
            Err(Error::new(
                ErrorKind::Error,
                format!(
                    "composite {what}s (more than one property) are not supported yet; create \
                     one {what} per property"
                ),
            )
            .at(at.line, at.column))
        }
    }
}

/// The operation a schema-changing statement asks for; `None` for anything else.
pub fn schema_op(kind: &StatementKind) -> Result<Option<SchemaOp>> {
    Ok(Some(match kind {
        StatementKind::CreateIndex {
            name,
            if_not_exists,
            label,
            properties,
        } => SchemaOp::Create {
            name: name.as_ref().map(|n| n.name.clone()),
            label: label.name.clone(),
            key: single_property(properties, "index")?.name.clone(),
            unique: false,
            if_not_exists: *if_not_exists,
        },
        StatementKind::CreateUniqueConstraint {
            name,
            if_not_exists,
            label,
            properties,
        } => SchemaOp::Create {
            name: name.as_ref().map(|n| n.name.clone()),
            label: label.name.clone(),
            key: single_property(properties, "constraint")?.name.clone(),
            unique: true,
            if_not_exists: *if_not_exists,
        },
        StatementKind::DropIndex { name, if_exists } => SchemaOp::Drop {
            name: name.name.clone(),
            unique: false,
            if_exists: *if_exists,
        },
        StatementKind::DropConstraint { name, if_exists } => SchemaOp::Drop {
            name: name.name.clone(),
            unique: true,
            if_exists: *if_exists,
        },
        _ => return Ok(None),
    }))
}

/// Runs a schema change (its own transaction) or a SHOW INDEXES / SHOW CONSTRAINTS.
pub fn run_schema(kind: &StatementKind, mgr: &TxnManager) -> Result<QueryOutput> {
    if let Some(op) = schema_op(kind)? {
        mgr.change_schema(&op)?;
        return Ok(QueryOutput::default());
    }
    let constraints = match kind {
        StatementKind::ShowIndexes => false,
        StatementKind::ShowConstraints => true,
        _ => {
            return Err(Error::internal(
                "run_schema was given a statement that is not a schema statement",
            ))
        }
    };
    let s = |t: &str| Value::String(t.to_owned());
    let list = |t: &str| Value::List(vec![s(t)]);
    let mut rows = Vec::new();
    for (i, d) in mgr.schema_info().into_iter().enumerate() {
        if constraints && !d.unique {
            continue;
        }
        let id = Value::Int(i64::try_from(i + 1).unwrap_or(i64::MAX));
        rows.push(if constraints {
            vec![
                id,
                s(&d.name),
                s("UNIQUENESS"),
                s("NODE"),
                list(&d.label),
                list(&d.key),
                s(&d.name),
            ]
        } else {
            vec![
                id,
                s(&d.name),
                s("ONLINE"),
                s("RANGE"),
                s("NODE"),
                list(&d.label),
                list(&d.key),
                if d.unique { s(&d.name) } else { Value::Null },
            ]
        });
    }
    let columns: &[&str] = if constraints {
        &[
            "id",
            "name",
            "type",
            "entityType",
            "labelsOrTypes",
            "properties",
            "ownedIndex",
        ]
    } else {
        &[
            "id",
            "name",
            "state",
            "type",
            "entityType",
            "labelsOrTypes",
            "properties",
            "owningConstraint",
        ]
    };
    Ok(QueryOutput {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
        stats: Default::default(),
    })
}
