//! The graph store: an immutable base image read in place (`base`) plus a versioned in-memory
//! delta (`graph`).
//!
//! Entities are kept as MVCC version chains (see `version`); what a given transaction sees is
//! decided by `txn`, which owns timestamps and visibility. Labels, relationship types and
//! property keys are interned to small integers by the `catalog`.

pub mod base;
pub mod base_columns;
pub mod base_index;
pub mod blocks;
pub mod catalog;
pub mod chain;
pub mod change;
pub mod graph;
pub mod id_set;
pub mod index;

pub use catalog::Catalog;
pub use change::{Change, ChangeRef, PropList};
pub use graph::Graph;

pub use crate::value::{NodeId, RelId};

/// Interned label.
pub type LabelId = u32;
/// Interned relationship type.
pub type TypeId = u32;
/// Interned property key.
pub type KeyId = u32;

/// Which relationships of a node an expansion follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Relationships whose start node is the node.
    Outgoing,
    /// Relationships whose end node is the node.
    Incoming,
    /// Either; a self-loop is reported once.
    Both,
}
