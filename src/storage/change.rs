//! Logical redo: the committed effect of a transaction, as the WAL records it and recovery
//! replays it. Each entity change carries the entity's complete new state, so replay is
//! idempotent and needs nothing but the change itself.

use super::{KeyId, LabelId, NodeId, RelId, TypeId};
use crate::value::Value;

/// Properties sorted by key id, unique keys, no `Null` values.
pub type PropList = Vec<(KeyId, Value)>;

/// A change as a commit logs it: the new state borrowed from the entity's head version, so
/// the log record is encoded without copying it first.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeRef<'a> {
    /// A change that owns its data (catalog names).
    Owned(Change),
    PutNode {
        id: NodeId,
        labels: &'a [LabelId],
        props: &'a [(KeyId, Value)],
    },
    DeleteNode(NodeId),
    PutRel {
        id: RelId,
        rel_type: TypeId,
        start: NodeId,
        end: NodeId,
        props: &'a [(KeyId, Value)],
    },
    DeleteRel(RelId),
}

/// The borrowed form of an owned change (catalog changes stay owned).
impl<'a> From<&'a Change> for ChangeRef<'a> {
    fn from(c: &'a Change) -> ChangeRef<'a> {
        match c {
            Change::PutNode { id, labels, props } => ChangeRef::PutNode {
                id: *id,
                labels,
                props,
            },
            Change::PutRel {
                id,
                rel_type,
                start,
                end,
                props,
            } => ChangeRef::PutRel {
                id: *id,
                rel_type: *rel_type,
                start: *start,
                end: *end,
                props,
            },
            Change::DeleteNode(id) => ChangeRef::DeleteNode(*id),
            Change::DeleteRel(id) => ChangeRef::DeleteRel(*id),
            other => ChangeRef::Owned(other.clone()),
        }
    }
}

impl ChangeRef<'_> {
    /// Replay order within one record: relationships are created after their end nodes
    /// exist and nodes deleted after their relationships are gone, so puts of nodes, then
    /// of relationships, then deletions of relationships, then of nodes.
    pub fn replay_rank(&self) -> u8 {
        match self {
            ChangeRef::Owned(c) => c.replay_rank(),
            ChangeRef::PutNode { .. } => 1,
            ChangeRef::PutRel { .. } => 2,
            ChangeRef::DeleteRel(_) => 3,
            ChangeRef::DeleteNode(_) => 4,
        }
    }

    pub fn to_change(&self) -> Change {
        match self {
            ChangeRef::Owned(c) => c.clone(),
            ChangeRef::PutNode { id, labels, props } => Change::PutNode {
                id: *id,
                labels: labels.to_vec(),
                props: props.to_vec(),
            },
            ChangeRef::DeleteNode(id) => Change::DeleteNode(*id),
            ChangeRef::PutRel {
                id,
                rel_type,
                start,
                end,
                props,
            } => Change::PutRel {
                id: *id,
                rel_type: *rel_type,
                start: *start,
                end: *end,
                props: props.to_vec(),
            },
            ChangeRef::DeleteRel(id) => Change::DeleteRel(*id),
        }
    }
}

impl Change {
    /// See `ChangeRef::replay_rank`; catalog names come first, index definitions last.
    pub fn replay_rank(&self) -> u8 {
        match self {
            Change::DefineLabel(..) | Change::DefineRelType(..) | Change::DefineKey(..) => 0,
            Change::PutNode { .. } => 1,
            Change::PutRel { .. } => 2,
            Change::DeleteRel(_) => 3,
            Change::DeleteNode(_) => 4,
            Change::CreateIndex { .. } | Change::DropIndex { .. } => 5,
        }
    }
}

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
