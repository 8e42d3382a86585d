//! Schema changes (CREATE/DROP INDEX, CREATE/DROP CONSTRAINT) as transactions of their own.
//!
//! A schema change takes the commit lock, waits until every earlier commit has published
//! (so "committed" means stamped, and no commit is in flight), validates against the newest
//! committed state, logs its definition, and applies it before releasing the lock. Every
//! later commit therefore sees the definition: its uniqueness check runs under the same lock.
//! The definition is stamped with the change's commit timestamp; a transaction uses an index
//! only if its snapshot is at or after that (see `docs/indexes.md`).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use super::transaction::{lock, TxnManager};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::graph::{GraphData, NodeRef, UNCOMMITTED};
use crate::storage::index::{show_value, IndexKey};
use crate::storage::{Change, KeyId, LabelId, NodeId};

/// What a schema statement asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaOp {
    Create {
        /// `None`: a name is generated.
        name: Option<String>,
        label: String,
        key: String,
        unique: bool,
        if_not_exists: bool,
    },
    Drop {
        name: String,
        /// DROP CONSTRAINT (true) or DROP INDEX (false).
        unique: bool,
        if_exists: bool,
    },
}

/// One row of SHOW INDEXES / SHOW CONSTRAINTS, names resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaInfo {
    pub name: String,
    pub label: String,
    pub key: String,
    pub unique: bool,
    pub created_ts: u64,
}

/// The newest committed version of a node (the caller has waited for every commit to
/// publish, so no committed version is left unstamped).
fn committed(g: &GraphData, id: NodeId) -> Option<NodeRef<'_>> {
    let Some(entry) = g.node_entry(id) else {
        return g.base_node(id);
    };
    entry
        .versions
        .iter()
        .rev()
        .find(|v| v.stamp < UNCOMMITTED)
        .and_then(|v| v.data.as_ref())
        .map(NodeRef::Delta)
}

impl TxnManager {
    /// Every index and constraint definition, in creation order.
    pub fn schema_info(&self) -> Vec<SchemaInfo> {
        let g = self.graph.read();
        let cat = &self.graph.catalog;
        g.schema
            .defs()
            .iter()
            .map(|d| SchemaInfo {
                name: d.name.clone(),
                label: cat.labels.name(d.label).to_string(),
                key: cat.keys.name(d.key).to_string(),
                unique: d.unique,
                created_ts: d.created_ts,
            })
            .collect()
    }

    /// The schema definitions as log changes, after the catalog names they use (for a base
    /// image: append these after the label and key definitions).
    pub fn schema_definition_changes(&self) -> Vec<Change> {
        self.graph.read().schema.definition_changes()
    }

    /// Runs one schema change as its own transaction. Returns whether anything changed
    /// (`false` for an IF [NOT] EXISTS that found nothing to do).
    pub fn change_schema(&self, op: &SchemaOp) -> Result<bool> {
        if self.read_only {
            return Err(Error::read_only(
                "the database was opened read-only; reopen it with access_mode=read_write to \
                 change indexes or constraints",
            ));
        }
        if let Some(why) = self.poison_message() {
            return Err(Error::new(
                ErrorKind::Io,
                format!("the database refuses writes after an I/O failure ({why}); reopen the database to recover"),
            ));
        }
        let mut last_ts = lock(&self.commit_lock);
        let ts = *last_ts + 1;
        let turn = self.wait_publish_turn(ts);
        let change = {
            let g = self.graph.read();
            match self.plan_change(&g, op)? {
                Some(c) => c,
                None => return Ok(false),
            }
        };
        // The plan read the base image (a new constraint's duplicates): not on top of damage.
        self.graph.damage.check()?;
        let mut record = Vec::new();
        if self.sink.is_some() {
            let cat = &self.graph.catalog;
            for (id, n) in cat.labels.take_undurable() {
                record.push(Change::DefineLabel(id, n.to_string()));
            }
            for (id, n) in cat.rel_types.take_undurable() {
                record.push(Change::DefineRelType(id, n.to_string()));
            }
            for (id, n) in cat.keys.take_undurable() {
                record.push(Change::DefineKey(id, n.to_string()));
            }
        }
        record.push(change.clone());
        if let Some(sink) = &self.sink {
            // The timestamp is not handed out until the record is written.
            let ticket = sink
                .write(ts, &record)
                .inspect_err(|e| self.poison(e.message()))?;
            *last_ts = ts;
            if let Err(e) = sink.wait_durable(ticket) {
                self.poison(e.message());
                // Give up the turn as an empty commit so later commits do not wait forever.
                self.published.store(ts, Ordering::SeqCst);
                self.end_publish_turn(turn);
                return Err(e);
            }
        } else {
            *last_ts = ts;
        }
        self.graph
            .write()
            .apply(&self.graph.catalog, ts, vec![change])?;
        self.published.store(ts, Ordering::SeqCst);
        self.end_publish_turn(turn);
        drop(last_ts);
        Ok(true)
    }

    /// Validates `op` against the schema and the newest committed data; the change to log,
    /// or `None` when IF [NOT] EXISTS makes it a no-op.
    fn plan_change(&self, g: &GraphData, op: &SchemaOp) -> Result<Option<Change>> {
        let what = |unique: bool| if unique { "constraint" } else { "index" };
        match op {
            SchemaOp::Create {
                name,
                label,
                key,
                unique,
                if_not_exists,
            } => {
                let l = self.graph.catalog.labels.intern(label);
                let k = self.graph.catalog.keys.intern(key);
                if let Some(n) = name {
                    if let Some(d) = g.schema.def(n) {
                        if *if_not_exists {
                            return Ok(None);
                        }
                        return Err(Error::new(
                            ErrorKind::Error,
                            format!(
                                "an {} named '{n}' already exists; choose another name, or add \
                                 IF NOT EXISTS",
                                if d.unique { "constraint" } else { "index" }
                            ),
                        ));
                    }
                }
                // A constraint implies an index, so an index next to an equivalent
                // constraint (or a second identical definition) would add nothing.
                let equivalent = g
                    .schema
                    .defs()
                    .iter()
                    .find(|d| d.label == l && d.key == k && (d.unique || !*unique));
                if let Some(d) = equivalent {
                    if *if_not_exists {
                        return Ok(None);
                    }
                    return Err(Error::new(
                        ErrorKind::Error,
                        format!(
                            "an equivalent {} already exists on (:{label} {{{key}}}): '{}'; \
                             add IF NOT EXISTS to ignore this",
                            what(d.unique),
                            d.name
                        ),
                    ));
                }
                if *unique {
                    self.check_no_duplicates(g, l, k, label, key)?;
                }
                let name = match name {
                    Some(n) => n.clone(),
                    None => {
                        let base = format!("{}_{label}_{key}", what(*unique));
                        let mut n = base.clone();
                        let mut i = 2;
                        while g.schema.def(&n).is_some() {
                            n = format!("{base}_{i}");
                            i += 1;
                        }
                        n
                    }
                };
                Ok(Some(Change::CreateIndex {
                    name,
                    label: l,
                    key: k,
                    unique: *unique,
                }))
            }
            SchemaOp::Drop {
                name,
                unique,
                if_exists,
            } => match g.schema.def(name) {
                None if *if_exists => Ok(None),
                None => Err(Error::new(
                    ErrorKind::Error,
                    format!(
                        "there is no {} named '{name}'; SHOW {} lists them (add IF EXISTS to \
                         ignore this)",
                        what(*unique),
                        if *unique { "CONSTRAINTS" } else { "INDEXES" }
                    ),
                )),
                Some(d) if d.unique != *unique => Err(Error::new(
                    ErrorKind::Error,
                    format!(
                        "'{name}' is a {}, not an {}; use DROP {} {name}",
                        what(d.unique),
                        what(*unique),
                        if d.unique { "CONSTRAINT" } else { "INDEX" }
                    ),
                )),
                Some(_) => Ok(Some(Change::DropIndex { name: name.clone() })),
            },
        }
    }

    /// Refuses a uniqueness constraint over data that already breaks it, naming the values
    /// and nodes (up to five of each).
    fn check_no_duplicates(
        &self,
        g: &GraphData,
        l: LabelId,
        k: KeyId,
        label: &str,
        key: &str,
    ) -> Result<()> {
        let mut seen: BTreeMap<IndexKey, Vec<NodeId>> = BTreeMap::new();
        for id in g.label_members(l) {
            let Some(d) = committed(g, id) else { continue };
            if !d.has_label(l) {
                continue;
            }
            if let Some(v) = d.prop(k) {
                seen.entry(IndexKey(v.into_owned())).or_default().push(id);
            }
        }
        let dups: Vec<String> = seen
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            .take(5)
            .map(|(v, ids)| {
                let shown: Vec<String> = ids.iter().take(5).map(|i| i.to_string()).collect();
                format!(
                    "{} (nodes {}{})",
                    show_value(&v.0),
                    shown.join(", "),
                    if ids.len() > 5 { ", ..." } else { "" }
                )
            })
            .collect();
        if dups.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::ConstraintViolation,
            format!(
                "cannot create the uniqueness constraint on (:{label} {{{key}}}): existing nodes \
                 share values: {}; remove or change the duplicates first",
                dups.join("; ")
            ),
        ))
    }
}
