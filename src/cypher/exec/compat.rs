//! The value-semantics and aggregation entry points the executor uses, in one place.
pub use crate::cypher::aggregate::{is_aggregate, new_accumulator, Accumulator};
pub use crate::cypher::semantics::{equals, order, GroupKey};
