//! What every measured system provides: a database to create and bulk-load, and workers
//! (one connection each) that run the workload operations.

use std::path::Path;

use crate::gen::{Follow, User};
use crate::measure::Res;

/// How long writers wait for each other in every workload but `counter_nowait`.
pub const BUSY_TIMEOUT_MS: u64 = 5000;

pub trait Engine: Sync {
    fn name(&self) -> &'static str;
    fn version(&self) -> String;
    /// How long a writer waits for a lock held by another writer (0: fail at once).
    fn set_busy_timeout_ms(&mut self, ms: u64);
    /// Deletes whatever is at `dir` and creates an empty database there.
    fn create(&mut self, dir: &Path) -> Res<()>;
    /// Opens the existing database at `dir`.
    fn open(&mut self, dir: &Path) -> Res<()>;
    fn close(&mut self);
    /// Called once before the loads with a directory for files the loads may read (the
    /// generated graph as CSV, untimed, as for Kuzu's COPY FROM).
    fn prepare_files(&mut self, _dir: &Path, _nodes: usize, _seed: u64) -> Res<()> {
        Ok(())
    }
    fn load_nodes(&mut self, users: &[User], batch: usize) -> Res<()>;
    /// Returns notes on how the load was done.
    fn load_rels(&mut self, follows: &[Follow], batch: usize) -> Res<Vec<String>>;
    /// A new connection to the open database.
    fn worker(&self) -> Res<Box<dyn Worker>>;
    /// Notes on how this system is configured, printed with the results.
    fn notes(&self) -> Vec<String>;
}

pub trait Worker {
    /// The cheapest query that proves the database answers.
    fn ping(&mut self) -> Res<()>;
    /// The age of user `id`.
    fn lookup(&mut self, id: i64) -> Res<i64>;
    /// The number of 2-hop FOLLOWS paths from user `id`.
    fn two_hop(&mut self, id: i64) -> Res<i64>;
    /// Relationships whose source is younger than their target.
    fn scan_join(&mut self) -> Res<i64>;
    fn create_node(&mut self, id: i64) -> Res<()>;
    fn create_rel(&mut self, src: i64, dst: i64, since: i64) -> Res<()>;
    fn counter_init(&mut self) -> Res<()>;
    fn counter_incr(&mut self) -> Res<()>;
    fn counter_value(&mut self) -> Res<i64>;
}
