//! Interning of labels, relationship types and property keys to small integers.
//!
//! Ids are handed out densely from 0 and never reused. Interning is not transactional: a name
//! interned by a transaction that rolls back keeps its id (harmless: nothing refers to it).
//! Durability: each interner remembers how many of its names are already in the WAL; a commit
//! logs the rest before any change that could use them (`take_undurable`, called under the
//! commit lock so WAL order puts definitions first).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Error, Result};

#[derive(Default)]
struct Names {
    /// Fx-hashed: looked up for every label, type and key a query names, on every run.
    by_name: rustc_hash::FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
    durable: usize,
}

/// One name space (labels, or types, or keys).
#[derive(Default)]
pub struct Interner {
    what: &'static str,
    inner: RwLock<Names>,
    /// Whether some name is not logged yet (`durable < names.len()`), so that every commit
    /// can ask without a lock. Set and cleared under the write lock; a transaction that uses
    /// a name looked it up after the lock that interned it, so it sees the flag set.
    undurable: AtomicBool,
}

impl Interner {
    fn new(what: &'static str) -> Interner {
        Interner {
            what,
            inner: RwLock::default(),
            undurable: AtomicBool::new(false),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Names> {
        // A panic while holding this lock cannot leave the maps inconsistent with each other
        // (each update is one push plus one insert), so a poisoned lock is safe to reuse.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Names> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.read().by_name.get(name).copied()
    }

    pub fn intern(&self, name: &str) -> u32 {
        if let Some(id) = self.get(name) {
            return id;
        }
        let mut w = self.write();
        if let Some(&id) = w.by_name.get(name) {
            return id;
        }
        let id = w.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        w.names.push(name.clone());
        w.by_name.insert(name, id);
        self.undurable.store(true, Ordering::Release);
        id
    }

    /// The name of an id handed out by this interner; an unknown id (an engine bug) yields
    /// a visible placeholder rather than a panic.
    pub fn name(&self, id: u32) -> Arc<str> {
        self.read()
            .names
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(format!("<unknown {} {id}>", self.what)))
    }

    pub fn names(&self) -> Vec<Arc<str>> {
        self.read().names.clone()
    }

    /// Recovery: re-creates the definition `id = name` read from the log. Definitions arrive
    /// in id order; anything else means the log is damaged.
    pub fn define(&self, id: u32, name: &str) -> Result<()> {
        let mut w = self.write();
        let next = w.names.len() as u32;
        if id != next {
            if id < next && &*w.names[id as usize] == name {
                return Ok(());
            }
            return Err(Error::corrupt(format!(
                "the log defines {} {id} ('{name}') but {next} was expected next",
                self.what
            )));
        }
        let name: Arc<str> = Arc::from(name);
        w.names.push(name.clone());
        w.by_name.insert(name, id);
        w.durable = w.names.len();
        Ok(())
    }

    /// Names not yet logged, marking them logged.
    pub fn take_undurable(&self) -> Vec<(u32, Arc<str>)> {
        // Every commit asks, and new names are rare: a look at the flag first, so that
        // commits take no lock (the write lock would block the lookups of running
        // statements).
        if !self.undurable.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut w = self.write();
        let from = w.durable;
        w.durable = w.names.len();
        self.undurable.store(false, Ordering::Release);
        w.names[from..]
            .iter()
            .enumerate()
            .map(|(i, n)| ((from + i) as u32, n.clone()))
            .collect()
    }
}

/// The three name spaces of a graph.
pub struct Catalog {
    pub labels: Interner,
    pub rel_types: Interner,
    pub keys: Interner,
    /// Unique in the process: ids resolved in this catalog and cached elsewhere (in a
    /// prepared statement's syntax tree) are tagged with it, so that they are never used
    /// against another catalog. 0 once the process has made 2^32 - 1 catalogs: never cached.
    uid: u32,
}

/// The next catalog uid (never wraps: a reused uid could let a cached id be misused).
static NEXT_UID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

impl Catalog {
    pub fn uid(&self) -> u32 {
        self.uid
    }
}

impl Default for Catalog {
    fn default() -> Catalog {
        Catalog {
            uid: NEXT_UID
                .fetch_update(
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                    |n| n.checked_add(1),
                )
                .unwrap_or(0),
            labels: Interner::new("label"),
            rel_types: Interner::new("relationship type"),
            keys: Interner::new("property key"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_dense_stable_and_tracks_durability() {
        let c = Catalog::default();
        assert_eq!(c.labels.intern("User"), 0);
        assert_eq!(c.labels.intern("Post"), 1);
        assert_eq!(c.labels.intern("User"), 0);
        assert_eq!(c.labels.get("Nope"), None);
        assert_eq!(&*c.labels.name(1), "Post");
        assert_eq!(c.labels.take_undurable().len(), 2);
        assert!(c.labels.take_undurable().is_empty());
        c.labels.intern("Tag");
        let pending = c.labels.take_undurable();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].0, 2);
    }

    #[test]
    fn out_of_order_definitions_are_corruption() {
        let c = Catalog::default();
        c.keys.define(0, "a").unwrap();
        c.keys.define(0, "a").unwrap();
        let e = c.keys.define(5, "b").unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::Corrupt);
    }
}
