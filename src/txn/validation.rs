//! SERIALIZABLE by backward validation of reads, including predicate reads.
//!
//! Why this design (over SSI): with first-updater-wins already preventing write-write races,
//! a transaction is serializable at its commit timestamp exactly when nothing it read changed
//! between its snapshot and its commit. So each serializable read-write transaction records
//! what it read — entities, and the predicates behind scans and expansions — and commit checks
//! that record against summaries of the transactions that committed after its snapshot
//! (precision locking in the sense of Neumann et al., SIGMOD 2015, at entity/label
//! granularity). The check runs under the commit lock, so no commit can slip in between.
//! Read-only transactions never validate: they are serializable at their snapshot.
//!
//! Granularity (coarse where precise would cost more than the rare false conflict):
//! - reading anything of a node or relationship registers the entity; any later committed
//!   write to it conflicts;
//! - a label scan registers the label; a node gaining or losing it (including creation and
//!   deletion) conflicts;
//! - a scan of all nodes / all relationships conflicts with any creation or deletion of one;
//! - an expansion from a node registers the node's adjacency; a relationship created or
//!   deleted at that node conflicts (so two `MERGE (a)-[:R]->(b)` cannot both create, and
//!   `NOT EXISTS { (seat)<-[:BOOKED]-() }` cannot be invalidated unseen). Creating
//!   relationships at a node does not write the node itself, so a supernode takes many
//!   concurrent writers without conflicts;
//! - looking up a label, relationship type or property key that is not interned yet (so the
//!   reader skips the scan, expansion or property read it would have registered) registers
//!   the name; if the name exists at commit, any commit after the snapshot conflicts. Without
//!   this, two concurrent `MERGE (a)-[:NEW_TYPE]->(b)` would both create;
//! - an index lookup registers `(label, key, range)`; a committed node that enters or leaves
//!   the range (value set, changed or removed; label added or removed; node created or
//!   deleted) conflicts. Commit summaries list those moves for every `(label, key)` indexed
//!   since open, so a lookup through an index dropped meanwhile still validates.
//!
//! The sets use FxHash: read sets are hashed on every read and hold engine-assigned ids, not
//! attacker-chosen keys, so SipHash's flooding resistance buys nothing here.

use rustc_hash::FxHashSet as HashSet;

use crate::storage::index::KeyRange;
use crate::storage::{KeyId, LabelId, NodeId, RelId};
use crate::value::Value;

/// The catalog a name was looked up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    Label,
    RelType,
    Key,
}

impl NameKind {
    pub fn noun(self) -> &'static str {
        match self {
            NameKind::Label => "label",
            NameKind::RelType => "relationship type",
            NameKind::Key => "property key",
        }
    }
}

/// What one serializable transaction has read.
#[derive(Debug, Default)]
pub struct ReadSet {
    /// Names looked up while not interned.
    pub absent_names: HashSet<(NameKind, String)>,
    pub nodes: HashSet<NodeId>,
    pub rels: HashSet<RelId>,
    pub labels: HashSet<LabelId>,
    pub adjacency: HashSet<NodeId>,
    pub all_nodes: bool,
    pub all_rels: bool,
    /// Index lookups: `(label, key, range)`.
    pub index: Vec<(LabelId, KeyId, KeyRange)>,
}

/// What one committed transaction changed, as validation needs it.
#[derive(Debug, Default)]
pub struct CommitSummary {
    pub ts: u64,
    /// Nodes whose version changed (created, updated, deleted).
    pub nodes: Vec<NodeId>,
    /// Labels some node gained or lost (creation and deletion count).
    pub labels: Vec<LabelId>,
    /// Relationships whose version changed.
    pub rels: Vec<RelId>,
    /// End nodes of relationships created or deleted.
    pub adjacency: Vec<NodeId>,
    pub nodes_created_or_deleted: bool,
    pub rels_created_or_deleted: bool,
    /// `(label, key, value)` a node entered or left, for indexed pairs.
    pub index: Vec<(LabelId, KeyId, Value)>,
    /// A bulk import: it may change anything read before it.
    pub bulk_import: bool,
}

impl ReadSet {
    /// Why `summary` invalidates these reads, if it does.
    pub fn invalidated_by(&self, s: &CommitSummary) -> Option<String> {
        if s.bulk_import {
            return Some("the graph, which a bulk import changed".to_owned());
        }
        if let Some(n) = s.nodes.iter().find(|n| self.nodes.contains(n)) {
            return Some(format!("node {n}, which it read"));
        }
        if let Some(r) = s.rels.iter().find(|r| self.rels.contains(r)) {
            return Some(format!("relationship {r}, which it read"));
        }
        if s.labels.iter().any(|l| self.labels.contains(l)) {
            return Some("the set of nodes with a label it scanned".to_owned());
        }
        if let Some(n) = s.adjacency.iter().find(|n| self.adjacency.contains(n)) {
            return Some(format!("the relationships of node {n}, which it expanded"));
        }
        for (l, k, v) in &s.index {
            if self
                .index
                .iter()
                .any(|(rl, rk, range)| rl == l && rk == k && range.contains(v))
            {
                return Some(format!(
                    "the set of nodes it found through an index (a node entered or left the \
                     values it looked up, e.g. {})",
                    crate::storage::index::show_value(v)
                ));
            }
        }
        if self.all_nodes && s.nodes_created_or_deleted {
            return Some("the set of all nodes, which it scanned".to_owned());
        }
        if self.all_rels && s.rels_created_or_deleted {
            return Some("the set of all relationships, which it scanned".to_owned());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_read_is_invalidated_only_by_matching_writes() {
        let mut r = ReadSet::default();
        r.nodes.insert(1);
        r.labels.insert(7);
        r.adjacency.insert(3);
        let unrelated = CommitSummary {
            ts: 9,
            nodes: vec![2],
            labels: vec![8],
            rels: vec![5],
            adjacency: vec![4],
            nodes_created_or_deleted: true,
            rels_created_or_deleted: true,
            index: vec![(7, 1, Value::Int(3))],
            bulk_import: false,
        };
        r.index.push((7, 1, KeyRange::eq(Value::Int(5))));
        assert_eq!(r.invalidated_by(&unrelated), None);
        for s in [
            CommitSummary {
                nodes: vec![1],
                ..Default::default()
            },
            CommitSummary {
                labels: vec![7],
                ..Default::default()
            },
            CommitSummary {
                adjacency: vec![3],
                ..Default::default()
            },
            CommitSummary {
                index: vec![(7, 1, Value::Float(5.0))],
                ..Default::default()
            },
            CommitSummary {
                bulk_import: true,
                ..Default::default()
            },
        ] {
            assert!(r.invalidated_by(&s).is_some(), "{s:?}");
        }
        r.all_nodes = true;
        assert!(r.invalidated_by(&unrelated).is_some());
    }
}
