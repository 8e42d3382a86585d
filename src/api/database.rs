//! STUB (engine owner): interface fixed.
#![allow(unused_variables, dead_code)]
use super::{Connection, Options};
use crate::error::Result;

/// An open database. Cheap to clone; shared by any threads. Connections keep it alive.
#[derive(Clone)]
pub struct Database {}

impl Database {
    /// Opens (or with `create`, creates) the database at `path`; `":memory:"` opens a private
    /// in-memory database with no files.
    pub fn open(path: &str, options: &Options) -> Result<Database> {
        todo!()
    }

    /// A new connection. Each connection runs one transaction at a time.
    pub fn connect(&self) -> Connection {
        todo!()
    }
}
