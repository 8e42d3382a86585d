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
