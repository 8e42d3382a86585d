//! Transactions and MVCC: timestamps, snapshots, write sets, conflict detection.
//!
//! A [`Transaction`] is the only way to read or write the graph. Reads see the snapshot taken
//! at begin plus the transaction's own writes; writes install uncommitted versions that no
//! other transaction can see until commit stamps them.

mod group;
mod schema;
mod snapshots;
pub mod stats;
mod transaction;
mod validation;

pub use group::CommitWait;
#[doc(hidden)]
pub use group::PublishWaits;
pub use schema::{SchemaInfo, SchemaOp};
pub use transaction::{
    CommitSink, ReadView, Savepoint, Transaction, TxnManager, ViewSource, RECORD_HEADER,
};

/// What a transaction may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    ReadWrite,
    ReadOnly,
}

/// Isolation level of a read-write transaction (read-only ones are always serializable at
/// their snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    Serializable,
    Snapshot,
}

#[cfg(test)]
mod tests;
