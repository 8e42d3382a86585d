//! Logical redo: the committed effect of a transaction, as the WAL records it and recovery
//! replays it. Each entity change carries the entity's complete new state, so replay is
//! idempotent and needs nothing but the change itself.

use super::{KeyId, LabelId, NodeId, RelId, TypeId};
use crate::value::Value;

/// Properties sorted by key id, unique keys, no `Null` values.
pub type PropList = Vec<(KeyId, Value)>;

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    DefineLabel(LabelId, String),
    DefineRelType(TypeId, String),
    DefineKey(KeyId, String),
    /// Creates the node or replaces its labels and properties.
    PutNode {
        id: NodeId,
        labels: Vec<LabelId>,
        props: PropList,
    },
    DeleteNode(NodeId),
    /// Creates the relationship or replaces its properties (type and ends never change).
    PutRel {
        id: RelId,
        rel_type: TypeId,
        start: NodeId,
        end: NodeId,
        props: PropList,
    },
    DeleteRel(RelId),
    /// Defines an index (or, with `unique`, a uniqueness constraint and its index) on
    /// `(label, key)`; its contents are rebuilt from the data, never logged.
    CreateIndex {
        name: String,
        label: LabelId,
        key: KeyId,
        unique: bool,
    },
    /// Drops the index or constraint called `name`.
    DropIndex {
        name: String,
    },
}
