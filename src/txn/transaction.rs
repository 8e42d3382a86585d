//! STUB: interface fixed; bodies being written (storage/txn owner).
#![allow(unused_variables, dead_code)]

use std::sync::Arc;

use super::{Isolation, TxnKind};
use crate::error::Result;
use crate::storage::{Direction, Graph, KeyId, LabelId, NodeId, RelId, TypeId};
use crate::value::Value;

/// Hands out snapshots and commit timestamps; one per open database.
pub struct TxnManager {}

/// A point the transaction can return to, undoing every write made since (statement
/// atomicity).
#[derive(Debug, Clone, Copy)]
pub struct Savepoint(usize);

/// One transaction: a snapshot plus its own uncommitted writes.
///
/// Reads see exactly the commits at or below the snapshot timestamp plus this transaction's
/// own writes. Writes fail with `ReadOnly` in a read-only transaction and with `Conflict` when
/// another transaction holds or has committed (after this snapshot) a newer version of the
/// same entity; after a `Conflict` the transaction is doomed and only rollback remains.
pub struct Transaction {
    graph: Arc<Graph>,
}

impl Transaction {
    pub fn kind(&self) -> TxnKind {
        todo!()
    }
    pub fn isolation(&self) -> Isolation {
        todo!()
    }

    // ---- catalog -------------------------------------------------------------------------
    pub fn label_id(&self, name: &str) -> Option<LabelId> {
        todo!()
    }
    pub fn rel_type_id(&self, name: &str) -> Option<TypeId> {
        todo!()
    }
    pub fn key_id(&self, name: &str) -> Option<KeyId> {
        todo!()
    }
    pub fn label_name(&self, id: LabelId) -> Arc<str> {
        todo!()
    }
    pub fn rel_type_name(&self, id: TypeId) -> Arc<str> {
        todo!()
    }
    pub fn key_name(&self, id: KeyId) -> Arc<str> {
        todo!()
    }
    /// Interns a name for writing (ids are never reused, even if the write rolls back).
    pub fn intern_label(&mut self, name: &str) -> LabelId {
        todo!()
    }
    pub fn intern_rel_type(&mut self, name: &str) -> TypeId {
        todo!()
    }
    pub fn intern_key(&mut self, name: &str) -> KeyId {
        todo!()
    }

    // ---- reads at this transaction's snapshot ---------------------------------------------
    pub fn node_exists(&self, id: NodeId) -> bool {
        todo!()
    }
    pub fn rel_exists(&self, id: RelId) -> bool {
        todo!()
    }
    /// Every visible node, ascending id.
    pub fn scan_nodes(&self) -> Vec<NodeId> {
        todo!()
    }
    /// Every visible node that has `label`, ascending id.
    pub fn scan_nodes_by_label(&self, label: LabelId) -> Vec<NodeId> {
        todo!()
    }
    /// Every visible relationship, ascending id.
    pub fn scan_rels(&self) -> Vec<RelId> {
        todo!()
    }
    /// Labels of a visible node (sorted by id); empty when the node is not visible.
    pub fn node_labels(&self, id: NodeId) -> Vec<LabelId> {
        todo!()
    }
    pub fn node_has_label(&self, id: NodeId, label: LabelId) -> bool {
        todo!()
    }
    /// `Value::Null` when the node or the property does not exist.
    pub fn node_property(&self, id: NodeId, key: KeyId) -> Value {
        todo!()
    }
    /// All properties, sorted by key id; empty when the node is not visible.
    pub fn node_properties(&self, id: NodeId) -> Vec<(KeyId, Value)> {
        todo!()
    }
    pub fn rel_type(&self, id: RelId) -> Option<TypeId> {
        todo!()
    }
    /// `(start, end)` of a visible relationship.
    pub fn rel_endpoints(&self, id: RelId) -> Option<(NodeId, NodeId)> {
        todo!()
    }
    pub fn rel_property(&self, id: RelId, key: KeyId) -> Value {
        todo!()
    }
    pub fn rel_properties(&self, id: RelId) -> Vec<(KeyId, Value)> {
        todo!()
    }
    /// Visible relationships of `node` in `dir`, restricted to `types` unless it is empty, as
    /// `(relationship, other node)` in ascending relationship id. For `Both`, a self-loop
    /// appears once.
    pub fn expand(&self, node: NodeId, dir: Direction, types: &[TypeId]) -> Vec<(RelId, NodeId)> {
        todo!()
    }

    // ---- writes --------------------------------------------------------------------------
    /// `props` must be storable (`Value::is_storable`) and must not contain `Null` values.
    pub fn create_node(&mut self, labels: &[LabelId], props: Vec<(KeyId, Value)>) -> Result<NodeId> {
        todo!()
    }
    /// Both endpoints must be visible and not deleted.
    pub fn create_rel(
        &mut self,
        start: NodeId,
        end: NodeId,
        rel_type: TypeId,
        props: Vec<(KeyId, Value)>,
    ) -> Result<RelId> {
        todo!()
    }
    /// Sets one property; `Value::Null` removes it. Returns whether anything changed.
    pub fn set_node_property(&mut self, id: NodeId, key: KeyId, value: Value) -> Result<bool> {
        todo!()
    }
    pub fn set_rel_property(&mut self, id: RelId, key: KeyId, value: Value) -> Result<bool> {
        todo!()
    }
    /// Replaces all properties (`SET n = {...}`); `Null` values in `props` are skipped.
    pub fn replace_node_properties(&mut self, id: NodeId, props: Vec<(KeyId, Value)>) -> Result<()> {
        todo!()
    }
    pub fn replace_rel_properties(&mut self, id: RelId, props: Vec<(KeyId, Value)>) -> Result<()> {
        todo!()
    }
    /// Returns whether the label was newly added.
    pub fn add_node_label(&mut self, id: NodeId, label: LabelId) -> Result<bool> {
        todo!()
    }
    /// Returns whether the label was present and removed.
    pub fn remove_node_label(&mut self, id: NodeId, label: LabelId) -> Result<bool> {
        todo!()
    }
    /// Deletes a node. Without `detach`, a node that still has relationships is refused with
    /// `ConstraintViolation`; with it, they are deleted first. Returns `(node_deleted,
    /// relationships_deleted)`; deleting an already deleted node is a no-op.
    pub fn delete_node(&mut self, id: NodeId, detach: bool) -> Result<(bool, u64)> {
        todo!()
    }
    /// Returns whether the relationship existed and was deleted.
    pub fn delete_rel(&mut self, id: RelId) -> Result<bool> {
        todo!()
    }

    // ---- statement atomicity ------------------------------------------------------------------
    pub fn savepoint(&self) -> Savepoint {
        todo!()
    }
    /// Undoes every write made since `sp`.
    pub fn rollback_to(&mut self, sp: Savepoint) {
        todo!()
    }
}
