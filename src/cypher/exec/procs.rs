//! CALL: the built-in procedures `db.labels()`, `db.relationshipTypes()` and
//! `db.propertyKeys()`. Each lists the names in use in the transaction's snapshot, sorted.

use std::collections::BTreeSet;

use super::{Exec, RowBindings, Table};
use crate::cypher::ast::Call;
use crate::error::{Error, Result};
use crate::value::Value;

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
        let (field, values) = match full.to_ascii_lowercase().as_str() {
            "db.labels" => ("label", self.all_labels()),
            "db.relationshiptypes" => ("relationshipType", self.all_types()),
            "db.propertykeys" => ("propertyKey", self.all_keys()),
            _ => {
                return Err(Error::semantic(format!(
                    "unknown procedure `{full}`; the available procedures are db.labels(), db.relationshipTypes() and db.propertyKeys()"
                ))
                .at(c.span.line, c.span.column))
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
        // (column name in the output, field it takes)
        let outputs: Vec<String> = match &c.yield_items {
            None => vec![field.to_owned()],
            Some(items) => {
                let mut outs = Vec::new();
                for y in items {
                    if y.field.name != field {
                        return Err(Error::semantic(format!(
                            "procedure `{full}` yields only `{field}`, not `{}`",
                            y.field.name
                        ))
                        .at(y.field.span.line, y.field.span.column));
                    }
                    outs.push(y.alias.as_ref().unwrap_or(&y.field).name.clone());
                }
                outs
            }
        };
        if standalone {
            let rows = values.into_iter().map(|v| vec![v]).collect();
            return Ok((
                Table {
                    cols: outputs,
                    rows,
                },
                true,
            ));
        }
        let mut cols = table.cols.clone();
        cols.extend(outputs.iter().cloned());
        let mut rows = Vec::new();
        for row in &table.rows {
            for v in &values {
                let mut r = row.clone();
                r.extend(outputs.iter().map(|_| v.clone()));
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
