//! CALL: the built-in procedures `db.labels()`, `db.relationshipTypes()` and
//! `db.propertyKeys()` (each lists the names in use in the transaction's snapshot, sorted), and
//! `db.stats()` (the transaction counters as name/value rows).

use std::collections::BTreeSet;

use super::{Exec, RowBindings, Table};
use crate::cypher::ast::Call;
use crate::error::{Error, Result};
use crate::value::Value;

/// The built-in procedures: (name as written in the error message, output fields).
const PROCEDURES: &[(&str, &[&str])] = &[
    ("db.labels()", &["label"]),
    ("db.relationshipTypes()", &["relationshipType"]),
    ("db.propertyKeys()", &["propertyKey"]),
    ("db.stats()", &["name", "value"]),
];

impl Exec<'_> {
    /// Runs a CALL for every input row. Returns the table and whether it is the query's
    /// result (a standalone CALL without YIELD returns the procedure's own columns).
    pub(crate) fn run_call(
        &mut self,
        table: Table,
        c: &Call,
        standalone: bool,
    ) -> Result<(Table, bool)> {
        let full = c.procedure.join(".");
        let (fields, records): (&[&str], Vec<Vec<Value>>) = match full.to_ascii_lowercase().as_str()
        {
            "db.labels" => (PROCEDURES[0].1, single(self.all_labels())),
            "db.relationshiptypes" => (PROCEDURES[1].1, single(self.all_types())),
            "db.propertykeys" => (PROCEDURES[2].1, single(self.all_keys())),
            "db.stats" => (PROCEDURES[3].1, self.stats()),
            _ => {
                let known: Vec<&str> = PROCEDURES.iter().map(|(n, _)| *n).collect();
                return Err(Error::semantic(format!(
                    "unknown procedure `{full}`; the available procedures are {}",
                    known.join(", ")
                ))
                .at(c.span.line, c.span.column));
            }
        };
        if let Some(args) = &c.args {
            if !args.is_empty() {
                return Err(Error::semantic(format!(
                    "procedure `{full}` takes no arguments, but got {}",
                    args.len()
                ))
                .at(c.span.line, c.span.column));
            }
        }
        // (output column name, index of the field it takes)
        let outputs: Vec<(String, usize)> = match &c.yield_items {
            None => fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.to_string(), i))
                .collect(),
            Some(items) => {
                let mut outs = Vec::new();
                for y in items {
                    let Some(i) = fields.iter().position(|f| *f == y.field.name) else {
                        return Err(Error::semantic(format!(
                            "procedure `{full}` yields {}, not `{}`",
                            fields
                                .iter()
                                .map(|f| format!("`{f}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            y.field.name
                        ))
                        .at(y.field.span.line, y.field.span.column));
                    };
                    outs.push((y.alias.as_ref().unwrap_or(&y.field).name.clone(), i));
                }
                outs
            }
        };
        let project = |record: &Vec<Value>| -> Vec<Value> {
            outputs.iter().map(|(_, i)| record[*i].clone()).collect()
        };
        if standalone {
            return Ok((
                Table {
                    cols: outputs.iter().map(|(n, _)| n.clone()).collect(),
                    rows: records.iter().map(project).collect(),
                },
                true,
            ));
        }
        let mut cols = table.cols.clone();
        cols.extend(outputs.iter().map(|(n, _)| n.clone()));
        let mut rows = Vec::new();
        for row in &table.rows {
            for record in &records {
                let mut r = row.clone();
                r.extend(project(record));
                if let Some(pred) = &c.where_ {
                    let b = RowBindings {
                        cols: &cols,
                        vals: &r,
                        outer: None,
                    };
                    if !self.holds(pred, &b)? {
                        continue;
                    }
                }
                rows.push(r);
            }
        }
        Ok((Table { cols, rows }, false))
    }

    /// `db.stats()`: the database's transaction counters, one (name, value) row each.
    fn stats(&self) -> Vec<Vec<Value>> {
        self.tx
            .r()
            .database_stats()
            .entries()
            .into_iter()
            .map(|(name, v)| {
                vec![
                    Value::String(name.to_owned()),
                    Value::Int(i64::try_from(v).unwrap_or(i64::MAX)),
                ]
            })
            .collect()
    }

    fn all_labels(&self) -> Vec<Value> {
        let tx = self.tx.r();
        let mut set = BTreeSet::new();
        for n in tx.scan_nodes() {
            for l in tx.node_labels(n) {
                set.insert(tx.label_name(l).to_string());
            }
        }
        set.into_iter().map(Value::String).collect()
    }

    fn all_types(&self) -> Vec<Value> {
        let tx = self.tx.r();
        let mut set = BTreeSet::new();
        for r in tx.scan_rels() {
            if let Some(t) = tx.rel_type(r) {
                set.insert(tx.rel_type_name(t).to_string());
            }
        }
        set.into_iter().map(Value::String).collect()
    }

    fn all_keys(&self) -> Vec<Value> {
        let tx = self.tx.r();
        let mut set = BTreeSet::new();
        for n in tx.scan_nodes() {
            for (k, _) in tx.node_properties(n) {
                set.insert(tx.key_name(k).to_string());
            }
        }
        for r in tx.scan_rels() {
            for (k, _) in tx.rel_properties(r) {
                set.insert(tx.key_name(k).to_string());
            }
        }
        set.into_iter().map(Value::String).collect()
    }
}

fn single(values: Vec<Value>) -> Vec<Vec<Value>> {
    values.into_iter().map(|v| vec![v]).collect()
}
