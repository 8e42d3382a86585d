//! Procedures registered through `Database::register_procedure`, called with CALL.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use graphdb::api::{Database, Options, Params, ProcedureSignature, Value};
use graphdb::ErrorKind;

fn db() -> Database {
    Database::open(":memory:", &Options::new()).unwrap()
}

fn sig(s: &str) -> ProcedureSignature {
    ProcedureSignature::parse(s).unwrap()
}

fn rows(db: &Database, q: &str, params: &Params) -> Vec<Vec<Value>> {
    db.connect().query(q, params).unwrap().rows
}

/// `my.range(n)` yields i and i*i for i in 0..n.
fn with_range() -> Database {
    let db = db();
    db.register_procedure(
        sig("my.range(n :: INTEGER) :: (i :: INTEGER, sq :: INTEGER)"),
        |args: &[Value]| {
            let Value::Int(n) = args[0] else {
                return Ok(vec![]);
            };
            Ok((0..n)
                .map(|i| vec![Value::Int(i), Value::Int(i * i)])
                .collect())
        },
    )
    .unwrap();
    db
}

#[test]
fn standalone_in_query_yield_rename_and_where() {
    let db = with_range();
    let r = db
        .connect()
        .query("CALL my.range(3)", &Params::new())
        .unwrap();
    assert_eq!(r.columns, vec!["i", "sq"]);
    assert_eq!(r.rows.len(), 3);
    let got = rows(
        &db,
        "UNWIND [2, 3] AS n CALL my.range(n) YIELD sq AS s WHERE s > 0 RETURN n, s",
        &Params::new(),
    );
    assert_eq!(
        got,
        vec![
            vec![Value::Int(2), Value::Int(1)],
            vec![Value::Int(3), Value::Int(1)],
            vec![Value::Int(3), Value::Int(4)],
        ]
    );
    // Implicit arguments come from parameters of the same name.
    let mut p = Params::new();
    p.insert("n".into(), Value::Int(2));
    assert_eq!(rows(&db, "CALL my.range", &p).len(), 2);
}

#[test]
fn wrong_calls_fail_before_running_with_positions() {
    let db = with_range();
    let mut conn = db.connect();
    for (q, kind) in [
        ("CALL my.range()", ErrorKind::Semantic),
        ("CALL my.range('x')", ErrorKind::Semantic),
        ("CALL my.nope()", ErrorKind::Semantic),
        (
            "CALL my.range(1) YIELD nope RETURN nope",
            ErrorKind::Semantic,
        ),
        ("CALL my.range YIELD i RETURN i", ErrorKind::Syntax),
        ("CALL my.range", ErrorKind::Semantic),
        (
            "WITH 'a' AS x CALL my.range(x) YIELD i RETURN i",
            ErrorKind::Type,
        ),
        ("CALL my.range(null)", ErrorKind::Semantic),
    ] {
        let e = conn.query(q, &Params::new()).unwrap_err();
        assert_eq!(e.kind(), kind, "{q}: {e}");
        assert!(e.position().is_some(), "{q}: no position in {e}");
    }
}

#[test]
fn void_procedures_pass_rows_through_and_names_are_unique() {
    let db = db();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    db.register_procedure(sig("my.touch() :: ()"), move |_: &[Value]| {
        c.fetch_add(1, Ordering::SeqCst);
        Ok(vec![])
    })
    .unwrap();
    let r = rows(
        &db,
        "UNWIND [1, 2, 3] AS x CALL my.touch() RETURN x",
        &Params::new(),
    );
    assert_eq!(r.len(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let r = db
        .connect()
        .query("CALL my.touch()", &Params::new())
        .unwrap();
    assert!(r.columns.is_empty() && r.rows.is_empty());
    let dup = db.register_procedure(sig("MY.TOUCH() :: ()"), |_: &[Value]| Ok(vec![]));
    assert_eq!(dup.unwrap_err().kind(), ErrorKind::InvalidArgument);
    let builtin = db.register_procedure(sig("db.labels() :: ()"), |_: &[Value]| Ok(vec![]));
    assert_eq!(builtin.unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert!(db.procedures().iter().any(|s| s.starts_with("my.touch()")));
}

#[test]
fn procedures_see_entities_and_bad_records_are_errors() {
    let db = db();
    db.register_procedure(
        sig("my.name(n :: NODE?) :: (name :: STRING?)"),
        |args: &[Value]| match &args[0] {
            Value::Node(n) => Ok(vec![vec![n
                .properties
                .get("name")
                .cloned()
                .unwrap_or(Value::Null)]]),
            _ => Ok(vec![vec![Value::Null]]),
        },
    )
    .unwrap();
    db.register_procedure(sig("my.broken() :: (x :: INTEGER)"), |_: &[Value]| {
        Ok(vec![vec![Value::String("not an int".into())]])
    })
    .unwrap();
    let mut conn = db.connect();
    conn.query("CREATE ({name: 'ann'})", &Params::new())
        .unwrap();
    let r = conn
        .query(
            "MATCH (n) CALL my.name(n) YIELD name RETURN name",
            &Params::new(),
        )
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::String("ann".into())]]);
    let e = conn.query("CALL my.broken()", &Params::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Error, "{e}");
}

#[test]
fn write_procedures_are_refused_in_read_only_transactions() {
    let db = db();
    db.register_procedure(sig("my.w() :: (x :: INTEGER)").writes(), |_: &[Value]| {
        Ok(vec![vec![Value::Int(1)]])
    })
    .unwrap();
    let mut conn = db.connect();
    assert_eq!(
        conn.query("CALL my.w()", &Params::new())
            .unwrap()
            .rows
            .len(),
        1
    );
    conn.begin(graphdb::TxnMode::ReadOnly).unwrap();
    let e = conn.query("CALL my.w()", &Params::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReadOnly);
}

/// A connection keeps the procedure set it read last (so a statement takes no lock for it):
/// a registration made after the connection opened still applies from its next statement,
/// on plain and prepared statements alike.
#[test]
fn an_open_connection_sees_later_registrations() {
    let db = db();
    let mut conn = db.connect();
    let call = "CALL my.one() YIELD x RETURN x";
    conn.query("RETURN 1", &Params::new()).unwrap();
    let err = conn.query(call, &Params::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Semantic, "{err}");
    db.register_procedure(sig("my.one() :: (x :: INTEGER)"), |_: &[Value]| {
        Ok(vec![vec![Value::Int(1)]])
    })
    .unwrap();
    assert_eq!(
        conn.query(call, &Params::new()).unwrap().rows,
        vec![vec![Value::Int(1)]]
    );
    let two = conn.prepare("CALL my.two() YIELD x RETURN x").unwrap();
    db.register_procedure(sig("my.two() :: (x :: INTEGER)"), |_: &[Value]| {
        Ok(vec![vec![Value::Int(2)]])
    })
    .unwrap();
    assert_eq!(
        conn.execute(&two, &Params::new()).unwrap().rows,
        vec![vec![Value::Int(2)]]
    );
    assert_eq!(
        conn.query(call, &Params::new()).unwrap().rows,
        vec![vec![Value::Int(1)]]
    );
}
