use std::sync::Arc;

use super::*;
use crate::error::ErrorKind;
use crate::storage::{Direction, Graph};
use crate::value::Value;

fn mgr() -> Arc<TxnManager> {
    Arc::new(TxnManager::new(Arc::new(Graph::new()), None, 0, false))
}

fn rw(m: &Arc<TxnManager>) -> Transaction {
    m.begin(TxnKind::ReadWrite, Isolation::Serializable)
}

#[test]
fn snapshots_see_only_commits_at_or_before_their_start() {
    let m = mgr();
    let mut t1 = rw(&m);
    let k = t1.intern_key("v");
    let n = t1.create_node(&[], vec![(k, Value::Int(1))]).unwrap();
    let before = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert!(
        !before.node_exists(n),
        "uncommitted node is invisible to others"
    );
    assert!(t1.node_exists(n), "a transaction sees its own writes");
    t1.commit().unwrap();
    assert!(!before.node_exists(n), "a snapshot never moves");
    let after = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert_eq!(after.node_property(n, k), Value::Int(1));
}

#[test]
fn second_writer_of_one_node_conflicts_and_first_wins() {
    let m = mgr();
    let mut setup = rw(&m);
    let k = setup.intern_key("v");
    let n = setup.create_node(&[], vec![(k, Value::Int(0))]).unwrap();
    setup.commit().unwrap();
    let reader = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    let mut a = rw(&m);
    let mut b = rw(&m);
    a.set_node_property(n, k, Value::Int(1)).unwrap();
    let e = b.set_node_property(n, k, Value::Int(2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(
        b.commit().unwrap_err().kind(),
        ErrorKind::Conflict,
        "doomed"
    );
    a.commit().unwrap();
    assert_eq!(reader.node_property(n, k), Value::Int(0));
    // A writer whose snapshot predates a committed change also conflicts.
    let mut c = m.begin(TxnKind::ReadWrite, Isolation::Serializable);
    let mut d = rw(&m);
    d.set_node_property(n, k, Value::Int(3)).unwrap();
    d.commit().unwrap();
    assert_eq!(
        c.set_node_property(n, k, Value::Int(4)).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    let last = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert_eq!(last.node_property(n, k), Value::Int(3));
}

#[test]
fn rollback_and_savepoints_leave_no_trace() {
    let m = mgr();
    let mut t = rw(&m);
    let l = t.intern_label("L");
    let k = t.intern_key("v");
    let n = t.create_node(&[l], vec![(k, Value::Int(1))]).unwrap();
    let sp = t.savepoint();
    t.set_node_property(n, k, Value::Int(2)).unwrap();
    let n2 = t.create_node(&[l], vec![]).unwrap();
    let ty = t.intern_rel_type("R");
    t.create_rel(n, n2, ty, vec![]).unwrap();
    t.rollback_to(sp);
    assert_eq!(t.node_property(n, k), Value::Int(1));
    assert_eq!(t.scan_nodes_by_label(l), vec![n]);
    assert!(t.expand(n, Direction::Both, &[]).is_empty());
    t.rollback();
    let r = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert!(r.scan_nodes().is_empty());
    assert!(r.scan_rels().is_empty());
}

#[test]
fn read_only_transactions_refuse_writes() {
    let m = mgr();
    let mut r = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert_eq!(
        r.create_node(&[], vec![]).unwrap_err().kind(),
        ErrorKind::ReadOnly
    );
}

#[test]
fn delete_refuses_attached_node_and_detach_deletes_relationships() {
    let m = mgr();
    let mut t = rw(&m);
    let ty = t.intern_rel_type("R");
    let a = t.create_node(&[], vec![]).unwrap();
    let b = t.create_node(&[], vec![]).unwrap();
    t.create_rel(a, b, ty, vec![]).unwrap();
    t.create_rel(a, a, ty, vec![]).unwrap();
    t.commit().unwrap();
    let mut t = rw(&m);
    assert_eq!(t.expand(a, Direction::Both, &[]).len(), 2, "self-loop once");
    assert_eq!(
        t.delete_node(a, false).unwrap_err().kind(),
        ErrorKind::ConstraintViolation
    );
    assert_eq!(t.delete_node(a, true).unwrap(), (true, 2));
    t.commit().unwrap();
    let r = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert_eq!(r.scan_nodes(), vec![b]);
    assert!(r.scan_rels().is_empty());
}

#[test]
fn concurrent_delete_and_attach_never_dangles() {
    let m = mgr();
    let mut t = rw(&m);
    let ty = t.intern_rel_type("R");
    let a = t.create_node(&[], vec![]).unwrap();
    let b = t.create_node(&[], vec![]).unwrap();
    t.commit().unwrap();
    // Attach first, then delete: the deleter conflicts.
    let mut attach = rw(&m);
    let mut del = rw(&m);
    attach.create_rel(a, b, ty, vec![]).unwrap();
    assert_eq!(
        del.delete_node(b, false).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    attach.commit().unwrap();
    drop(del);
    // Delete first, then attach: the attacher conflicts.
    let mut del = rw(&m);
    let mut attach = rw(&m);
    del.delete_node(a, true).unwrap();
    assert_eq!(
        attach.create_rel(b, a, ty, vec![]).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    del.commit().unwrap();
    let r = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    for rel in r.scan_rels() {
        let (s, e) = r.rel_endpoints(rel).unwrap();
        assert!(
            r.node_exists(s) && r.node_exists(e),
            "dangling relationship {rel}"
        );
    }
}

#[test]
fn concurrent_relationship_creation_on_one_node_does_not_conflict() {
    let m = mgr();
    let mut t = rw(&m);
    let ty = t.intern_rel_type("R");
    let hub = t.create_node(&[], vec![]).unwrap();
    t.commit().unwrap();
    let mut writers: Vec<Transaction> = (0..4).map(|_| rw(&m)).collect();
    for w in &mut writers {
        let n = w.create_node(&[], vec![]).unwrap();
        w.create_rel(n, hub, ty, vec![]).unwrap();
    }
    for w in writers {
        w.commit().unwrap();
    }
    let r = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert_eq!(r.expand(hub, Direction::Incoming, &[ty]).len(), 4);
}

/// Doctors on call: each transaction checks that two are on call, then takes itself off.
fn write_skew(
    isolation: Isolation,
) -> (
    Result<(), crate::error::Error>,
    Result<(), crate::error::Error>,
) {
    let m = mgr();
    let mut t = rw(&m);
    let doc = t.intern_label("Doctor");
    let on = t.intern_key("on_call");
    let a = t
        .create_node(&[doc], vec![(on, Value::Bool(true))])
        .unwrap();
    let b = t
        .create_node(&[doc], vec![(on, Value::Bool(true))])
        .unwrap();
    t.commit().unwrap();
    let mut t1 = m.begin(TxnKind::ReadWrite, isolation);
    let mut t2 = m.begin(TxnKind::ReadWrite, isolation);
    for (t, me) in [(&mut t1, a), (&mut t2, b)] {
        let on_call = t
            .scan_nodes_by_label(doc)
            .into_iter()
            .filter(|&d| t.node_property(d, on) == Value::Bool(true))
            .count();
        assert_eq!(on_call, 2);
        t.set_node_property(me, on, Value::Bool(false)).unwrap();
    }
    (t1.commit(), t2.commit())
}

#[test]
fn serializable_prevents_write_skew_and_snapshot_allows_it() {
    let (r1, r2) = write_skew(Isolation::Serializable);
    assert!(r1.is_ok());
    assert_eq!(r2.unwrap_err().kind(), ErrorKind::Conflict);
    let (r1, r2) = write_skew(Isolation::Snapshot);
    assert!(
        r1.is_ok() && r2.is_ok(),
        "snapshot isolation lets write skew through"
    );
}

#[test]
fn serializable_detects_phantoms_in_label_scans_and_expansions() {
    let m = mgr();
    let mut t = rw(&m);
    let seat = t.intern_label("Seat");
    let user = t.intern_label("User");
    let booked = t.intern_rel_type("BOOKED");
    let s = t.create_node(&[seat], vec![]).unwrap();
    t.commit().unwrap();
    // Two bookers each see the seat free, then book it.
    let mut b1 = rw(&m);
    let mut b2 = rw(&m);
    for b in [&mut b1, &mut b2] {
        assert!(b.expand(s, Direction::Incoming, &[booked]).is_empty());
        let u = b.create_node(&[user], vec![]).unwrap();
        b.create_rel(u, s, booked, vec![]).unwrap();
    }
    b1.commit().unwrap();
    assert_eq!(b2.commit().unwrap_err().kind(), ErrorKind::Conflict);
    // A count by label scan is invalidated by a concurrent creation with that label.
    let mut counter = rw(&m);
    let n = counter.scan_nodes_by_label(user).len() as i64;
    let k = counter.intern_key("n");
    let mut creator = rw(&m);
    creator.create_node(&[user], vec![]).unwrap();
    creator.commit().unwrap();
    counter.create_node(&[], vec![(k, Value::Int(n))]).unwrap();
    assert_eq!(counter.commit().unwrap_err().kind(), ErrorKind::Conflict);
}

#[test]
fn unrelated_concurrent_writers_do_not_conflict_and_summaries_are_pruned() {
    let m = mgr();
    let mut t = rw(&m);
    let hub_l = t.intern_label("Hub");
    let ty = t.intern_rel_type("R");
    let hub = t.create_node(&[hub_l], vec![]).unwrap();
    t.commit().unwrap();
    let mut writers: Vec<Transaction> = (0..8).map(|_| rw(&m)).collect();
    for w in &mut writers {
        let h = w.scan_nodes_by_label(hub_l)[0];
        let n = w.create_node(&[], vec![]).unwrap();
        w.create_rel(n, h, ty, vec![]).unwrap();
    }
    for w in writers {
        w.commit().expect("supernode writers must not conflict");
    }
    assert_eq!(
        m.retained_summaries(),
        0,
        "no running transaction needs old summaries"
    );
    let r = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert_eq!(r.expand(hub, Direction::Incoming, &[ty]).len(), 8);
}

#[test]
fn versions_are_collected_and_a_long_reader_pins_only_its_own() {
    let m = mgr();
    let mut t = rw(&m);
    let k = t.intern_key("v");
    let n = t.create_node(&[], vec![(k, Value::Int(0))]).unwrap();
    t.commit().unwrap();
    let reader = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    for i in 1..=500 {
        let mut w = rw(&m);
        w.set_node_property(n, k, Value::Int(i)).unwrap();
        w.commit().unwrap();
    }
    // The reader's version plus the newest: not 501.
    assert_eq!(m.graph().version_count(), 2);
    assert_eq!(reader.node_property(n, k), Value::Int(0));
    drop(reader);
    let mut w = rw(&m);
    w.delete_node(n, false).unwrap();
    w.commit().unwrap();
    assert_eq!(
        m.graph().version_count(),
        0,
        "a deletion everyone sees frees the chain"
    );
}

fn waiting_mgr(ms: u64) -> Arc<TxnManager> {
    Arc::new(
        TxnManager::new(Arc::new(Graph::new()), None, 0, false)
            .with_busy_timeout(std::time::Duration::from_millis(ms)),
    )
}

fn two_nodes(
    m: &Arc<TxnManager>,
) -> (
    crate::storage::NodeId,
    crate::storage::NodeId,
    crate::storage::KeyId,
) {
    let mut t = rw(m);
    let k = t.intern_key("v");
    let a = t.create_node(&[], vec![(k, Value::Int(0))]).unwrap();
    let b = t.create_node(&[], vec![(k, Value::Int(0))]).unwrap();
    t.commit().unwrap();
    (a, b, k)
}

#[test]
fn a_writer_waits_for_the_holder_and_proceeds_if_it_rolls_back_or_conflicts_if_it_commits() {
    let m = waiting_mgr(10_000);
    let (a, _, k) = two_nodes(&m);
    for holder_commits in [false, true] {
        let mut holder = rw(&m);
        holder.set_node_property(a, k, Value::Int(1)).unwrap();
        let m2 = Arc::clone(&m);
        let waiter = std::thread::spawn(move || {
            let mut w = rw(&m2);
            let r = w.set_node_property(a, k, Value::Int(2));
            r.and_then(|_| w.commit())
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished(), "the writer should be waiting");
        if holder_commits {
            holder.commit().unwrap();
            assert_eq!(
                waiter.join().unwrap().unwrap_err().kind(),
                ErrorKind::Conflict
            );
        } else {
            holder.rollback();
            waiter
                .join()
                .unwrap()
                .expect("proceeds after the holder rolls back");
        }
    }
    let r = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    assert_eq!(r.node_property(a, k), Value::Int(1));
}

#[test]
fn a_wait_that_runs_out_is_busy_and_leaves_the_transaction_usable() {
    let m = waiting_mgr(30);
    let (a, b, k) = two_nodes(&m);
    let mut holder = rw(&m);
    holder.set_node_property(a, k, Value::Int(1)).unwrap();
    let mut w = rw(&m);
    let e = w.set_node_property(a, k, Value::Int(2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    w.set_node_property(b, k, Value::Int(3)).unwrap();
    holder.rollback();
    w.commit().unwrap();
}

#[test]
fn a_deadlock_is_detected_at_once_with_one_victim() {
    let m = waiting_mgr(60_000);
    let (a, b, k) = two_nodes(&m);
    let mut t1 = rw(&m);
    t1.set_node_property(a, k, Value::Int(1)).unwrap();
    let m2 = Arc::clone(&m);
    let other = std::thread::spawn(move || {
        let mut t2 = rw(&m2);
        t2.set_node_property(b, k, Value::Int(2)).unwrap();
        // Waits for t1, which will wait for t2.
        let r = t2.set_node_property(a, k, Value::Int(2));
        (r, t2)
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let e = t1.set_node_property(b, k, Value::Int(1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.message().contains("deadlock"), "{e}");
    t1.rollback();
    let (r, t2) = other.join().unwrap();
    r.expect("the survivor proceeds once the victim rolls back");
    t2.commit().unwrap();
}

/// A sink whose first `wait_durable` blocks until released and then panics.
struct PanicOnFirstSync {
    first: std::sync::atomic::AtomicBool,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl CommitSink for PanicOnFirstSync {
    fn write(&self, ts: u64, _changes: &[crate::storage::Change]) -> crate::error::Result<u64> {
        Ok(ts)
    }
    fn wait_durable(&self, ticket: u64) -> crate::error::Result<u64> {
        if self.first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let _ = self.release.lock().unwrap().recv();
            panic!("injected panic inside a commit");
        }
        Ok(ticket)
    }
}

#[test]
fn a_commit_that_panics_gives_up_its_turn_instead_of_hanging_later_commits() {
    let (release, wait) = std::sync::mpsc::channel();
    let sink = PanicOnFirstSync {
        first: std::sync::atomic::AtomicBool::new(true),
        release: std::sync::Mutex::new(wait),
    };
    let m = Arc::new(TxnManager::new(
        Arc::new(Graph::new()),
        Some(Box::new(sink)),
        0,
        false,
    ));
    let mut t1 = rw(&m);
    t1.create_node(&[], vec![]).unwrap();
    let first = std::thread::spawn(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t1.commit())).is_err()
    });
    // Let the first committer take timestamp 1 and block in its durability wait.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut t2 = rw(&m);
    t2.create_node(&[], vec![]).unwrap();
    let second = std::thread::spawn(move || t2.commit());
    std::thread::sleep(std::time::Duration::from_millis(50));
    release.send(()).unwrap();
    assert!(first.join().unwrap(), "the first commit panicked");
    // Without the guard this join never returns.
    second.join().unwrap().expect("the later commit publishes");
    let mut t3 = rw(&m);
    let e = t3.create_node(&[], vec![]).unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Io,
        "a panicked commit poisons the database: {e}"
    );
}

/// A transaction that begins after a committer read the running snapshots (but before it
/// trimmed) has a snapshot at or above the committer's timestamp: every version such a
/// snapshot may see survives, not only the newest. Losing one made a concurrent
/// `MATCH (c:Counter) SET c.v = c.v + 1` find no node and silently do nothing.
#[test]
fn version_gc_keeps_what_late_snapshots_see() {
    use crate::storage::graph::{Version, VersionChain, UNCOMMITTED};
    let v = |stamp: u64, data: i32| Version {
        stamp,
        data: Some(data),
    };
    // Committer at ts 10 saw no running snapshot; commits 11 and 12 followed, and a
    // transaction that began between them holds snapshot 11.
    let mut chain = VersionChain::from(vec![v(4, 0), v(10, 1), v(11, 2), v(12, 3)]);
    transaction::trim_chain(&mut chain, &[], 10);
    let stamps: Vec<u64> = chain.iter().map(|v| v.stamp).collect();
    assert_eq!(stamps, vec![10, 11, 12]);
    // A running snapshot below the floor keeps its version too; older ones go.
    let mut chain = VersionChain::from(vec![v(2, 0), v(4, 1), v(6, 2), v(10, 3)]);
    transaction::trim_chain(&mut chain, &[5], 10);
    let stamps: Vec<u64> = chain.iter().map(|v| v.stamp).collect();
    assert_eq!(stamps, vec![4, 10]);
    // An uncommitted head always stays.
    let mut chain = VersionChain::from(vec![v(2, 0), v(3, 1), v(UNCOMMITTED | 9, 2)]);
    transaction::trim_chain(&mut chain, &[], 3);
    let stamps: Vec<u64> = chain.iter().map(|v| v.stamp).collect();
    assert_eq!(stamps, vec![3, UNCOMMITTED | 9]);
}

/// GC over the inline chain's three forms: nothing to do on an empty chain, a lone committed
/// version stays inline, a chain trimmed to one version goes back inline, and a deletion left
/// alone drops the whole chain.
#[test]
fn version_gc_over_empty_single_and_many_version_chains() {
    use crate::storage::graph::{Version, VersionChain, UNCOMMITTED};
    let v = |stamp: u64, data: Option<i32>| Version { stamp, data };
    let mut empty: VersionChain<i32> = VersionChain::Empty;
    transaction::trim_chain(&mut empty, &[1], 5);
    assert!(empty.is_empty());

    let mut one = VersionChain::one(v(3, Some(1)));
    transaction::trim_chain(&mut one, &[], 10);
    assert!(matches!(one, VersionChain::One(_)));
    assert_eq!(one[0].stamp, 3);

    let mut many = VersionChain::from(vec![v(1, Some(0)), v(2, Some(1)), v(3, Some(2))]);
    transaction::trim_chain(&mut many, &[], 10);
    assert!(matches!(many, VersionChain::One(_)), "{many:?}");
    assert_eq!(many[0].data, Some(2));
    // A later update grows it again; an uncommitted head is never trimmed.
    many.push(v(UNCOMMITTED | 4, Some(3)));
    transaction::trim_chain(&mut many, &[], 10);
    assert_eq!(many.len(), 2);

    let mut deleted = VersionChain::from(vec![v(1, Some(0)), v(2, None)]);
    transaction::trim_chain(&mut deleted, &[], 10);
    assert!(matches!(deleted, VersionChain::Empty));
    // A running snapshot that still sees the live version keeps both.
    let mut deleted = VersionChain::from(vec![v(1, Some(0)), v(2, None)]);
    transaction::trim_chain(&mut deleted, &[1], 10);
    assert_eq!(deleted.len(), 2);
}

#[test]
fn index_entries_are_pruned_by_rollback_and_version_gc() {
    let m = mgr();
    m.change_schema(&SchemaOp::Create {
        name: None,
        label: "L".into(),
        key: "k".into(),
        unique: false,
        if_not_exists: false,
    })
    .unwrap();
    let mut t = rw(&m);
    let (l, k) = (t.intern_label("L"), t.intern_key("k"));
    let n = t.create_node(&[l], vec![(k, Value::Int(0))]).unwrap();
    t.commit().unwrap();
    let keys = || {
        m.graph()
            .read()
            .schema
            .contents(l, k)
            .map_or(0, |c| c.key_count())
    };
    // A reader pins the version with value 0 while the value keeps changing.
    let reader = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
    for i in 1..50 {
        let mut t = rw(&m);
        t.set_node_property(n, k, Value::Int(i)).unwrap();
        t.set_node_property(n, k, Value::Int(i + 1000)).unwrap();
        t.commit().unwrap();
    }
    // Value 0 (pinned) and the newest value; none of the overwritten or collected ones.
    assert_eq!(keys(), 2);
    let seek = |tx: &Transaction, v: i64| {
        tx.index_seek(l, k, &crate::storage::index::KeyRange::eq(Value::Int(v)))
            .unwrap()
    };
    assert_eq!(seek(&reader, 0), vec![n]);
    drop(reader);
    let mut t = rw(&m);
    t.set_node_property(n, k, Value::Int(-1)).unwrap();
    // 0 is only collected by the next commit that touches the node.
    assert_eq!(keys(), 3);
    t.rollback();
    assert_eq!(keys(), 2);
    let mut t = rw(&m);
    t.set_node_property(n, k, Value::Int(7)).unwrap();
    t.commit().unwrap();
    // The last commit collected the version the reader pinned and the one it replaced.
    assert_eq!(keys(), 1);
    assert_eq!(
        seek(&m.begin(TxnKind::ReadOnly, Isolation::Serializable), 7),
        vec![n]
    );
    // Undoing an in-place overwrite files the restored value again.
    let mut t = rw(&m);
    t.set_node_property(n, k, Value::Int(8)).unwrap();
    let sp = t.savepoint();
    t.set_node_property(n, k, Value::Int(9)).unwrap();
    assert!(seek(&t, 8).is_empty());
    t.rollback_to(sp);
    assert_eq!(seek(&t, 8), vec![n]);
    assert!(seek(&t, 9).is_empty());
    t.commit().unwrap();
    assert_eq!(keys(), 1);
}

/// More readers than snapshot slots: the first ones register lock-free, the rest in the
/// mutex registry. Each pins the version it saw while later commits collect versions, and
/// each is listed and counted as running until it ends.
#[test]
fn snapshots_in_slots_and_in_the_overflow_registry_pin_their_versions() {
    let m = mgr();
    let mut t = rw(&m);
    let k = t.intern_key("v");
    let n = t.create_node(&[], vec![(k, Value::Int(0))]).unwrap();
    t.commit().unwrap();
    let readers_n = super::snapshots::SLOTS as i64 + 8;
    let mut readers = Vec::new();
    for i in 1..=readers_n {
        readers.push((i - 1, m.begin(TxnKind::ReadOnly, Isolation::Serializable)));
        let mut w = rw(&m);
        w.set_node_property(n, k, Value::Int(i)).unwrap();
        w.commit().unwrap();
    }
    assert!(
        transaction::lock(&m.registry).len() > 0,
        "the readers past the slots went to the registry"
    );
    assert_eq!(m.running().len(), readers.len());
    for i in 0..20 {
        let mut w = rw(&m);
        w.set_node_property(n, k, Value::Int(1000 + i)).unwrap();
        w.commit().unwrap();
    }
    for (seen, r) in &readers {
        assert_eq!(r.node_property(n, k), Value::Int(*seen), "reader of {seen}");
        assert!(m.is_running(r.id()));
    }
    // Every reader's version plus the newest.
    assert_eq!(m.graph().version_count(), readers.len() + 1);
    let ids: Vec<u64> = readers.iter().map(|(_, r)| r.id()).collect();
    drop(readers);
    assert!(ids.iter().all(|&id| !m.is_running(id)));
    assert!(m.running().is_empty());
    let mut w = rw(&m);
    w.set_node_property(n, k, Value::Int(-1)).unwrap();
    w.commit().unwrap();
    assert_eq!(
        m.graph().version_count(),
        1,
        "nobody pins the old versions now"
    );
}

/// Readers begin while writers commit and version GC runs: every snapshot holds whole
/// commits (two nodes always written together, summing to zero), stays fixed however many
/// commits publish after it, and its versions are never collected under it.
#[test]
fn begin_racing_commits_sees_whole_commits_and_keeps_its_versions() {
    let m = mgr();
    let mut t = rw(&m);
    let k = t.intern_key("v");
    let a = t.create_node(&[], vec![(k, Value::Int(0))]).unwrap();
    let b = t.create_node(&[], vec![(k, Value::Int(0))]).unwrap();
    t.commit().unwrap();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                let mut done = 0;
                for i in 1..=2000i64 {
                    let v = i * 2 + w;
                    let mut t = m.begin(TxnKind::ReadWrite, Isolation::Snapshot);
                    let ok = t.set_node_property(a, k, Value::Int(v)).is_ok()
                        && t.set_node_property(b, k, Value::Int(-v)).is_ok();
                    if ok && t.commit().is_ok() {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                let mut checked = 0;
                for _ in 0..2000 {
                    let r = m.begin(TxnKind::ReadOnly, Isolation::Serializable);
                    let first = r.node_property(a, k);
                    std::thread::yield_now();
                    for _ in 0..3 {
                        let (va, vb) = (r.node_property(a, k), r.node_property(b, k));
                        assert_eq!(va, first, "a snapshot never moves");
                        match (va, vb) {
                            (Value::Int(x), Value::Int(y)) => assert_eq!(x, -y, "half a commit"),
                            other => panic!("a version was collected under a snapshot: {other:?}"),
                        }
                    }
                    checked += 1;
                }
                checked
            })
        })
        .collect();
    let committed: i32 = writers.into_iter().map(|h| h.join().unwrap()).sum();
    let checked: i32 = readers.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(committed > 0);
    assert_eq!(checked, 6000);
    assert!(m.running().is_empty());
    // GC runs per commit over what it touched: one more commit, with no reader left.
    let mut t = rw(&m);
    t.set_node_property(a, k, Value::Int(1)).unwrap();
    t.set_node_property(b, k, Value::Int(-1)).unwrap();
    t.commit().unwrap();
    assert_eq!(
        m.graph().version_count(),
        2,
        "only the newest versions remain"
    );
}
