//! Image commits: a transaction too large for the log is made durable as a new base image at
//! its commit timestamp (see docs/durability.md, "Image commits").
//!
//! The protocol is a logged commit's with the log write and its fsync replaced by the image:
//! under the commit lock, once every earlier commit has published, validate exactly as
//! `commit` does, take `ts`, stamp our versions `ts` (invisible: nothing at or above `ts` is
//! published, and every running snapshot is below it), run `image(ts)` (which writes the
//! graph as of `ts` and switches the manifest to it), and only then publish `ts`. So commit
//! order = durable order = visibility order still holds, nothing is visible before it is
//! durable, and other writers wait for the commit lock at most as long as the image takes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{lock, restamp_heads, Transaction};
use crate::error::Result;

impl Transaction {
    /// Entities (nodes and relationships) this transaction has written so far, each once.
    pub fn write_set_len(&self) -> usize {
        self.touched.len()
    }

    /// Commits like `commit`, but makes the changes durable with `image(ts)` instead of a
    /// log record: `image` must make the graph as of `ts` (every earlier commit published,
    /// ours stamped `ts`) durable — the database's base image — and return only then. On
    /// any error the transaction is rolled back and nothing of it was ever visible; whether
    /// the database refuses further writes is `image`'s decision (a failed manifest switch
    /// poisons the log, a failed image write does not: nothing refers to that file).
    pub fn commit_as_image(mut self, image: impl FnOnce(u64) -> Result<()>) -> Result<()> {
        if !self.start_commit()? {
            return Ok(());
        }
        let mgr = Arc::clone(&self.mgr);
        let mut last_ts = lock(&mgr.commit_lock);
        // The image at `ts` must hold every earlier commit: wait until they have published
        // (they are past their log write, so this is at most one fsync).
        drop(mgr.wait_publish_turn(*last_ts + 1));
        self.validate_commit()?;
        let ts = *last_ts + 1;
        // Catalog names stay marked undurable: a later logged commit defines them again,
        // which replay accepts (a checkpoint's image leaves them the same way).
        let (_, summary) = self.redo(ts, false);
        let own = self.vis.own;
        self.restamp(own, ts);
        let mut stamped = Stamped {
            tx: &self,
            ts,
            armed: true,
        };
        let outcome = image(ts);
        stamped.armed = outcome.is_err();
        drop(stamped);
        if let Err(e) = outcome {
            self.rollback_in_place();
            return Err(e);
        }
        *last_ts = ts;
        lock(&mgr.recent).push_back(summary);
        // Every earlier timestamp has published and none later was handed out (we hold the
        // commit lock): the turn is ours at once.
        let turn = mgr.wait_publish_turn(ts);
        let running = {
            let mut registry = lock(&mgr.registry);
            self.unregister_locked(&mut registry);
            mgr.published.store(ts, Ordering::SeqCst);
            let horizon = mgr.oldest_validating(&registry).map_or(ts, |o| o.min(ts));
            lock(&mgr.recent).retain(|s| s.ts > horizon);
            mgr.running_snapshots(&registry)
        };
        mgr.end_publish_turn(turn);
        drop(last_ts);
        self.collect_versions(&running, ts);
        self.undo.clear();
        self.finish();
        Ok(())
    }

    /// Moves the stamp of our head versions from `from` to `to` (uncommitted to `ts`, or
    /// back after a failed image). Another writer cannot have stacked a version on ours:
    /// while ours is uncommitted or stamped above every snapshot, its write conflicts.
    fn restamp(&self, from: u64, to: u64) {
        restamp_heads(&mut self.mgr.graph.write(), &self.touched, from, to);
    }
}

/// Our versions while stamped with a timestamp not yet taken: dropped (an image that failed,
/// or a panic in it) they go back to uncommitted, so that rollback finds them and the next
/// commit, which takes the same timestamp, does not publish them. After a panic the image
/// may or may not have been installed, so writes are also refused.
struct Stamped<'a> {
    tx: &'a Transaction,
    ts: u64,
    /// Cleared once the image is durable: the stamps stay, to be published.
    armed: bool,
}

impl Drop for Stamped<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.tx.restamp(self.ts, self.tx.vis.own);
        if std::thread::panicking() {
            self.tx.mgr.poison(
                "an internal error interrupted a commit written as a base image; reopen the \
                 database to recover",
            );
        }
    }
}
