//! The versioned in-memory delta: every node and relationship as a chain of versions.
//!
//! Invariants (kept by `txn`, which is the only writer):
//! - A chain lists versions oldest first. Committed versions carry their commit timestamp
//!   (< `UNCOMMITTED`); at most one uncommitted version exists per chain, and it is the last.
//! - A version whose `data` is `None` is a deletion (tombstone).
//! - Node and relationship ids are their index in `nodes` / `rels`; an entry with no versions
//!   was never committed (its creator rolled back) and is invisible to everyone.
//! - Adjacency lists and the label index only grow; readers filter them by visibility, so
//!   concurrent creators of relationships on one node never contend on a version.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::catalog::Catalog;
pub use super::chain::VersionChain;
use super::change::{Change, PropList};
use super::id_set::IdSet;
use super::index::{IndexDef, KeyRange, Schema};
use super::{KeyId, LabelId, NodeId, RelId, TypeId};
use crate::error::{Error, Result};
use crate::value::Value;

/// Marks a stamp as "uncommitted, written by transaction `stamp & !UNCOMMITTED`".
pub const UNCOMMITTED: u64 = 1 << 63;

/// What one reader sees: commits up to `snapshot`, plus its own writes (stamp == `own`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visibility {
    pub snapshot: u64,
    /// `UNCOMMITTED | txn_id` of the reading transaction.
    pub own: u64,
}

impl Visibility {
    pub fn sees(&self, stamp: u64) -> bool {
        stamp == self.own || (stamp < UNCOMMITTED && stamp <= self.snapshot)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeData {
    /// Sorted, unique.
    pub labels: Vec<LabelId>,
    pub props: PropList,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelData {
    pub props: PropList,
}

#[derive(Debug, Clone)]
pub struct Version<T> {
    pub stamp: u64,
    pub data: Option<T>,
}

#[derive(Debug, Default)]
pub struct NodeEntry {
    pub versions: VersionChain<NodeData>,
    /// Relationships starting here, in creation order.
    pub out: Vec<RelId>,
    /// Relationships ending here, in creation order.
    pub inc: Vec<RelId>,
}

#[derive(Debug)]
pub struct RelEntry {
    pub start: NodeId,
    pub end: NodeId,
    pub rel_type: TypeId,
    pub versions: VersionChain<RelData>,
}

/// The version that `vis` sees in `chain`, if any (it may be a tombstone).
pub fn visible<T>(chain: &[Version<T>], vis: Visibility) -> Option<&Version<T>> {
    chain.iter().rev().find(|v| vis.sees(v.stamp))
}

fn visible_data<T>(chain: &[Version<T>], vis: Visibility) -> Option<&T> {
    visible(chain, vis).and_then(|v| v.data.as_ref())
}

#[derive(Debug, Default)]
pub struct GraphData {
    pub nodes: Vec<NodeEntry>,
    pub rels: Vec<RelEntry>,
    /// Every node that has ever had the label in some version.
    pub by_label: HashMap<LabelId, IdSet>,
    /// Index and constraint definitions and index contents (see `index`).
    pub schema: Schema,
}

impl GraphData {
    pub fn node(&self, id: NodeId, vis: Visibility) -> Option<&NodeData> {
        let e = self.nodes.get(usize::try_from(id).ok()?)?;
        visible_data(&e.versions, vis)
    }

    pub fn rel(&self, id: RelId, vis: Visibility) -> Option<(&RelEntry, &RelData)> {
        let e = self.rels.get(usize::try_from(id).ok()?)?;
        visible_data(&e.versions, vis).map(|d| (e, d))
    }

    pub fn node_entry(&self, id: NodeId) -> Option<&NodeEntry> {
        self.nodes.get(usize::try_from(id).ok()?)
    }

    pub fn node_entry_mut(&mut self, id: NodeId) -> Option<&mut NodeEntry> {
        self.nodes.get_mut(usize::try_from(id).ok()?)
    }

    pub fn rel_entry(&self, id: RelId) -> Option<&RelEntry> {
        self.rels.get(usize::try_from(id).ok()?)
    }

    pub fn rel_entry_mut(&mut self, id: RelId) -> Option<&mut RelEntry> {
        self.rels.get_mut(usize::try_from(id).ok()?)
    }

    pub fn note_labels(&mut self, id: NodeId, labels: &[LabelId]) {
        for &l in labels {
            self.by_label.entry(l).or_default().insert(id);
        }
    }

    /// Files a newly installed node version in the label set and the indexes.
    pub fn note_node(&mut self, id: NodeId, d: &NodeData) {
        self.note_labels(id, &d.labels);
        self.schema.note(id, d);
    }

    /// Adds an index definition, building its contents from every version in memory.
    pub fn add_index(&mut self, def: IndexDef) {
        let nodes = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, e)| (i as NodeId, &e.versions[..]));
        self.schema.add(def, nodes);
    }

    /// Nodes visible at `vis` with `label` whose `key` value lies in `range`, ascending id;
    /// `None` when no index on `(label, key)` is usable at `vis`'s snapshot.
    pub fn index_seek(
        &self,
        label: LabelId,
        key: KeyId,
        range: &KeyRange,
        vis: Visibility,
    ) -> Option<Vec<NodeId>> {
        let idx = self.schema.usable(label, key, vis.snapshot)?;
        let mut out = idx.candidates(range);
        out.retain(|&id| {
            self.node(id, vis).is_some_and(|n| {
                n.labels.binary_search(&label).is_ok()
                    && prop_get(&n.props, key).is_some_and(|v| range.contains(v))
            })
        });
        Some(out)
    }

    fn ensure_node_slot(&mut self, id: NodeId) -> Result<&mut NodeEntry> {
        let idx = usize::try_from(id)
            .map_err(|_| Error::corrupt(format!("node id {id} is out of range")))?;
        if idx >= self.nodes.len() {
            self.nodes.resize_with(idx + 1, NodeEntry::default);
        }
        Ok(&mut self.nodes[idx])
    }

    /// Recovery: applies one committed transaction's changes at timestamp `ts`. Takes the
    /// changes by value: their labels and properties move into the new versions uncopied.
    pub fn apply(&mut self, catalog: &Catalog, ts: u64, changes: Vec<Change>) -> Result<()> {
        for change in changes {
            match change {
                Change::DefineLabel(id, name) => catalog.labels.define(id, &name)?,
                Change::DefineRelType(id, name) => catalog.rel_types.define(id, &name)?,
                Change::DefineKey(id, name) => catalog.keys.define(id, &name)?,
                Change::PutNode { id, labels, props } => {
                    let data = NodeData { labels, props };
                    self.note_node(id, &data);
                    let e = self.ensure_node_slot(id)?;
                    e.versions.push(Version {
                        stamp: ts,
                        data: Some(data),
                    });
                }
                Change::DeleteNode(id) => {
                    let e = self.ensure_node_slot(id)?;
                    e.versions.push(Version {
                        stamp: ts,
                        data: None,
                    });
                }
                Change::PutRel {
                    id,
                    rel_type,
                    start,
                    end,
                    props,
                } => {
                    let idx = usize::try_from(id).map_err(|_| {
                        Error::corrupt(format!("relationship id {id} is out of range"))
                    })?;
                    let version = Version {
                        stamp: ts,
                        data: Some(RelData { props }),
                    };
                    if idx < self.rels.len() && !self.rels[idx].versions.is_empty() {
                        self.rels[idx].versions.push(version);
                        continue;
                    }
                    if idx >= self.rels.len() {
                        self.rels.resize_with(idx + 1, || RelEntry {
                            start: 0,
                            end: 0,
                            rel_type: 0,
                            versions: VersionChain::Empty,
                        });
                    }
                    self.rels[idx] = RelEntry {
                        start,
                        end,
                        rel_type,
                        versions: VersionChain::one(version),
                    };
                    self.ensure_node_slot(start)?.out.push(id);
                    self.ensure_node_slot(end)?.inc.push(id);
                }
                Change::CreateIndex {
                    name,
                    label,
                    key,
                    unique,
                } => {
                    // Replay is idempotent: the same definition again is a no-op.
                    if let Some(d) = self.schema.def(&name) {
                        if (d.label, d.key, d.unique) == (label, key, unique) {
                            continue;
                        }
                        return Err(Error::corrupt(format!(
                            "the log defines index or constraint '{name}' twice, differently"
                        )));
                    }
                    self.add_index(IndexDef {
                        name,
                        label,
                        key,
                        unique,
                        created_ts: ts,
                    });
                }
                Change::DropIndex { name } => {
                    // Idempotent: dropping what is already gone is a no-op.
                    self.schema.remove(&name);
                }
                Change::DeleteRel(id) => {
                    let e = self.rel_entry_mut(id).ok_or_else(|| {
                        Error::corrupt(format!(
                            "the log deletes relationship {id}, which it never created"
                        ))
                    })?;
                    e.versions.push(Version {
                        stamp: ts,
                        data: None,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Reads one property from a sorted property list.
pub fn prop_get(props: &PropList, key: KeyId) -> Option<&Value> {
    props
        .binary_search_by_key(&key, |(k, _)| *k)
        .ok()
        .map(|i| &props[i].1)
}

/// Sets (or with `Null`, removes) one property in a sorted list; returns whether it changed.
pub fn prop_set(props: &mut PropList, key: KeyId, value: Value) -> bool {
    match props.binary_search_by_key(&key, |(k, _)| *k) {
        Ok(i) if value.is_null() => {
            props.remove(i);
            true
        }
        Ok(i) => {
            if props[i].1 == value {
                false
            } else {
                props[i].1 = value;
                true
            }
        }
        Err(_) if value.is_null() => false,
        Err(i) => {
            props.insert(i, (key, value));
            true
        }
    }
}

/// The graph: catalog plus versioned data behind one short-held latch. Latches are held only
/// for the duration of a single primitive read or write, never across a query.
#[derive(Default)]
pub struct Graph {
    pub catalog: Catalog,
    data: RwLock<GraphData>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    pub fn read(&self) -> RwLockReadGuard<'_, GraphData> {
        // Writers complete each primitive change before releasing the latch and never panic
        // midway on valid states; a poisoned latch is therefore still consistent.
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, GraphData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Total versions held in memory (for GC tests and statistics); walks everything.
    pub fn version_count(&self) -> usize {
        let g = self.read();
        g.nodes.iter().map(|n| n.versions.len()).sum::<usize>()
            + g.rels.iter().map(|r| r.versions.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_follows_snapshot_and_own_writes() {
        let own = UNCOMMITTED | 7;
        let vis = Visibility { snapshot: 5, own };
        assert!(vis.sees(5));
        assert!(!vis.sees(6));
        assert!(vis.sees(own));
        assert!(!vis.sees(UNCOMMITTED | 8));
        let chain = vec![
            Version {
                stamp: 3,
                data: Some(1),
            },
            Version {
                stamp: 6,
                data: Some(2),
            },
            Version {
                stamp: own,
                data: None,
            },
        ];
        assert!(visible(&chain, vis).unwrap().data.is_none());
        let other = Visibility {
            snapshot: 5,
            own: UNCOMMITTED | 9,
        };
        assert_eq!(visible(&chain, other).unwrap().data, Some(1));
        let later = Visibility {
            snapshot: 10,
            own: UNCOMMITTED | 9,
        };
        assert_eq!(visible(&chain, later).unwrap().data, Some(2));
    }

    #[test]
    fn prop_set_keeps_the_list_sorted_and_reports_changes() {
        let mut p: PropList = vec![];
        assert!(prop_set(&mut p, 5, Value::Int(1)));
        assert!(prop_set(&mut p, 2, Value::Int(2)));
        assert!(!prop_set(&mut p, 2, Value::Int(2)));
        assert_eq!(p.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![2, 5]);
        assert!(prop_set(&mut p, 5, Value::Null));
        assert!(!prop_set(&mut p, 9, Value::Null));
        assert_eq!(prop_get(&p, 2), Some(&Value::Int(2)));
        assert_eq!(prop_get(&p, 5), None);
    }
}
