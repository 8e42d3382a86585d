//! Stopping running queries: `interrupt` from another thread and `query_timeout_ms` end a long
//! read or write promptly with INTERRUPTED / BUSY, and undo the statement's changes.

use std::time::Duration;

use graphdb::api::Value;
use graphdb::{Database, ErrorKind, Options, Params};

/// Long enough to be running when the interrupt arrives on any machine we run on.
const LONG_READ: &str = "UNWIND range(1, 3000000) AS x WITH x WHERE x % 7 = 3 RETURN count(*) AS n";
const LONG_WRITE: &str = "UNWIND range(1, 3000000) AS x CREATE (:T {x: x})";

fn count_t(db: &Database) -> i64 {
    let r = db
        .connect()
        .query("MATCH (t:T) RETURN count(t)", &Params::new())
        .unwrap();
    match r.rows[0][0] {
        Value::Int(n) => n,
        ref other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn interrupt_from_another_thread_stops_reads_and_undoes_writes() {
    let db = Database::open(":memory:", &Options::new()).unwrap();
    let mut c = db.connect();
    for (query, explicit) in [(LONG_READ, false), (LONG_WRITE, false), (LONG_WRITE, true)] {
        let handle = c.interrupt_handle();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            handle.interrupt();
        });
        if explicit {
            c.query("BEGIN", &Params::new()).unwrap();
            c.query("CREATE (:T {x: 0})", &Params::new()).unwrap();
        }
        let e = c.query(query, &Params::new()).unwrap_err();
        stopper.join().unwrap();
        assert_eq!(e.kind(), ErrorKind::Interrupted, "{query}: {e}");
        if explicit {
            // Only the interrupted statement is undone; the transaction goes on.
            c.query("COMMIT", &Params::new()).unwrap();
            assert_eq!(count_t(&db), 1);
        } else {
            assert_eq!(
                count_t(&db),
                0,
                "an interrupted auto-commit statement leaves nothing"
            );
        }
    }
    // The connection is fine afterwards, and a stale interrupt does not hit the next query.
    let r = c.query("RETURN 1 AS one", &Params::new()).unwrap();
    assert_eq!(r.rows, vec![vec![Value::Int(1)]]);
}

#[test]
fn query_timeout_stops_long_queries_with_busy() {
    let mut o = Options::new();
    o.set("query_timeout_ms", "50").unwrap();
    let db = Database::open(":memory:", &o).unwrap();
    let mut c = db.connect();
    for query in [LONG_READ, LONG_WRITE] {
        let e = c.query(query, &Params::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Busy, "{query}: {e}");
        assert!(e.message().contains("query_timeout_ms"), "{e}");
    }
    assert_eq!(count_t(&db), 0);
    c.query("CREATE (:T)", &Params::new()).unwrap();
    assert_eq!(count_t(&db), 1, "short queries still run");
}
