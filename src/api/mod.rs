//! The Rust API: [`Database`], [`Connection`], transactions, prepared statements, results.
//!
//! This is the layer the C ABI (`src/ffi`) wraps one-to-one; it holds no C concerns.

mod connection;
mod database;
pub mod json;
mod options;
mod procedures;
mod result;

pub(crate) use connection::backoff;
pub use connection::{Connection, InterruptHandle, PreparedStatement, TxnToken};
pub use database::Database;
pub(crate) use database::{recover, Recovered};
pub use options::{AccessMode, IsolationMode, Options, SyncMode};
pub use procedures::{ProcedureCallback, ProcedureField, ProcedureSignature, ProcedureType};
pub use result::{Node, Path, QueryResult, Relationship, Value};

pub use crate::cypher::QueryStats;
pub use crate::txn::TxnKind as TxnMode;

/// Query parameters by name (without the `$`).
pub type Params = std::collections::BTreeMap<String, Value>;
