//! Unit tests of the C ABI that need no Cypher: results, value views, error recording,
//! concurrent entry and panics, driven through the exported functions.

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};
use std::sync::mpsc;

use super::*;
use crate::api::{Node, Path, QueryResult, QueryStats, Relationship, Value};
use crate::error::Error;
use graphdb_stat::*;
use graphdb_status::*;
use graphdb_value_type::*;

struct Fixture {
    db: *mut graphdb_database,
    conn: *mut graphdb_connection,
}

impl Fixture {
    fn new() -> Fixture {
        let mut db = null_mut();
        let mut conn = null_mut();
        // SAFETY: valid out-pointers and a NUL-terminated path.
        unsafe {
            assert_eq!(
                graphdb_open(c":memory:".as_ptr(), null(), &mut db, null_mut()),
                GRAPHDB_OK
            );
            assert_eq!(graphdb_connect(db, &mut conn), GRAPHDB_OK);
        }
        Fixture { db, conn }
    }

    fn shared(&self) -> &std::sync::Arc<shared::ConnShared> {
        // SAFETY: the connection is live until drop.
        unsafe { &(*self.conn).shared }
    }

    fn result(&self, r: QueryResult) -> *mut graphdb_result {
        graphdb_result::new_raw(self.shared(), r)
    }

    fn message(&self) -> String {
        // SAFETY: live connection; the message is NUL-terminated.
        unsafe { CStr::from_ptr(graphdb_connection_error_message(self.conn)) }
            .to_string_lossy()
            .into_owned()
    }

    fn code(&self) -> graphdb_status {
        // SAFETY: live connection.
        unsafe { graphdb_connection_error_code(self.conn) }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: handles from Fixture::new, freed once.
        unsafe {
            graphdb_disconnect(self.conn);
            graphdb_close(self.db);
        }
    }
}

fn props(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn sample() -> QueryResult {
    let a = Node {
        id: 3,
        labels: vec!["User".into()],
        properties: props(&[("name", Value::String("a".into()))]),
    };
    let b = Node {
        id: 4,
        labels: vec!["User".into(), "Admin".into()],
        properties: BTreeMap::new(),
    };
    let f = Relationship {
        id: 9,
        rel_type: "FOLLOWS".into(),
        start: 3,
        end: 4,
        properties: props(&[("since", Value::Int(2020))]),
    };
    let row = vec![
        Value::Int(-5),
        Value::Float(0.5),
        Value::String("x\0y".into()),
        Value::Bool(true),
        Value::Null,
        Value::List(vec![Value::Int(1), Value::String("two".into())]),
        Value::Map(props(&[("k", Value::Float(1.0))])),
        Value::Node(a.clone()),
        Value::Relationship(f.clone()),
        Value::Path(Path {
            nodes: vec![a, b],
            relationships: vec![f],
        }),
    ];
    QueryResult {
        columns: ["i", "d", "s", "b", "n", "l", "m", "node", "rel", "path"]
            .iter()
            .map(|c| c.to_string())
            .collect(),
        rows: vec![row],
        stats: QueryStats {
            nodes_created: 2,
            labels_removed: 1,
            ..QueryStats::default()
        },
    }
}

fn c_str<'a>(p: *const c_char, len: usize) -> &'a [u8] {
    // SAFETY: borrowed pointers from the library with their exact length.
    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
}

#[test]
fn results_getters_views_and_json() {
    let fx = Fixture::new();
    let r = fx.result(sample());
    // SAFETY: `r` is live until freed at the end; all out-pointers are valid.
    unsafe {
        assert_eq!(graphdb_result_column_count(r), 10);
        assert_eq!(CStr::from_ptr(graphdb_result_column_name(r, 7)), c"node");
        assert!(graphdb_result_column_name(r, 10).is_null());
        assert_eq!(fx.code(), GRAPHDB_INVALID_ARGUMENT);
        assert_eq!(graphdb_result_stat(r, GRAPHDB_STAT_NODES_CREATED as u32), 2);
        assert_eq!(
            graphdb_result_stat(r, GRAPHDB_STAT_LABELS_REMOVED as u32),
            1
        );
        assert_eq!(graphdb_result_stat(r, 7), -1);

        let mut i = 7i64;
        assert_eq!(graphdb_result_get_int64(r, 0, &mut i), GRAPHDB_MISUSE);
        assert_eq!(i, 0);
        assert!(fx.message().contains("no current row"));

        let mut has_row = false;
        assert_eq!(graphdb_result_next(r, &mut has_row), GRAPHDB_OK);
        assert!(has_row);
        assert_eq!(fx.code(), GRAPHDB_OK);
        assert_eq!(fx.message(), "not an error");
        let types: Vec<_> = (0..11).map(|c| graphdb_result_type(r, c)).collect();
        assert_eq!(
            types,
            [
                GRAPHDB_TYPE_INT64,
                GRAPHDB_TYPE_DOUBLE,
                GRAPHDB_TYPE_STRING,
                GRAPHDB_TYPE_BOOL,
                GRAPHDB_TYPE_NULL,
                GRAPHDB_TYPE_LIST,
                GRAPHDB_TYPE_MAP,
                GRAPHDB_TYPE_NODE,
                GRAPHDB_TYPE_RELATIONSHIP,
                GRAPHDB_TYPE_PATH,
                GRAPHDB_TYPE_INVALID
            ]
        );
        assert_eq!(graphdb_result_get_int64(r, 0, &mut i), GRAPHDB_OK);
        assert_eq!(i, -5);
        let mut d = 0.0;
        assert_eq!(graphdb_result_get_double(r, 1, &mut d), GRAPHDB_OK);
        assert_eq!(d, 0.5);
        let (mut s, mut len) = (null(), 0usize);
        assert_eq!(
            graphdb_result_get_string(r, 2, &mut s, &mut len),
            GRAPHDB_OK
        );
        assert_eq!(c_str(s, len + 1), b"x\0y\0");
        let mut b = false;
        assert_eq!(graphdb_result_get_bool(r, 3, &mut b), GRAPHDB_OK);
        assert!(b);

        // Wrong type, NULL value, range, NULL out.
        assert_eq!(graphdb_result_get_int64(r, 1, &mut i), GRAPHDB_TYPE_ERROR);
        assert!(
            fx.message().contains("DOUBLE, not INT64"),
            "{}",
            fx.message()
        );
        assert_eq!(graphdb_result_get_bool(r, 4, &mut b), GRAPHDB_TYPE_ERROR);
        assert_eq!(
            graphdb_result_get_string(r, 0, &mut s, &mut len),
            GRAPHDB_TYPE_ERROR
        );
        assert!(s.is_null() && len == 0);
        assert_eq!(
            graphdb_result_get_int64(r, 10, &mut i),
            GRAPHDB_INVALID_ARGUMENT
        );
        assert!(fx.message().contains("column 10 is out of range"));
        assert_eq!(
            graphdb_result_get_int64(r, 0, null_mut()),
            GRAPHDB_INVALID_ARGUMENT
        );

        // JSON.
        let json = |col: usize| {
            let mut out = null_mut();
            assert_eq!(graphdb_result_get_json(r, col, &mut out), GRAPHDB_OK);
            let text = CStr::from_ptr(out).to_string_lossy().into_owned();
            graphdb_string_free(out);
            text
        };
        assert_eq!(json(1), "0.5");
        assert_eq!(json(6), r#"{"k":1.0}"#);
        assert_eq!(
            json(7),
            r#"{"$node":{"id":3,"labels":["User"],"properties":{"name":"a"}}}"#
        );
        assert!(json(9).starts_with(r#"{"$path":{"nodes":[{"$node":{"id":3"#));

        // Views.
        let mut v = null();
        assert_eq!(graphdb_result_get_value(r, 5, &mut v), GRAPHDB_OK);
        let mut n = 0usize;
        assert_eq!(graphdb_value_list_size(v, &mut n), GRAPHDB_OK);
        assert_eq!(n, 2);
        let mut e = null();
        assert_eq!(graphdb_value_list_get(v, 1, &mut e), GRAPHDB_OK);
        assert_eq!(graphdb_value_get_string(e, &mut s, null_mut()), GRAPHDB_OK);
        assert_eq!(CStr::from_ptr(s), c"two");
        assert_eq!(
            graphdb_value_list_get(v, 2, &mut e),
            GRAPHDB_INVALID_ARGUMENT
        );
        assert!(e.is_null());
        assert_eq!(graphdb_value_map_size(v, &mut n), GRAPHDB_TYPE_ERROR);

        assert_eq!(graphdb_result_get_value(r, 6, &mut v), GRAPHDB_OK);
        assert_eq!(graphdb_value_map_key(v, 0, &mut s, &mut len), GRAPHDB_OK);
        assert_eq!(c_str(s, len), b"k");
        assert_eq!(graphdb_value_map_value(v, 0, &mut e), GRAPHDB_OK);
        assert_eq!(graphdb_value_get_double(e, &mut d), GRAPHDB_OK);
        assert_eq!(d, 1.0);
        assert_eq!(graphdb_value_map_find(v, c"k".as_ptr(), &mut e), GRAPHDB_OK);
        assert_eq!(
            graphdb_value_map_find(v, c"q".as_ptr(), &mut e),
            GRAPHDB_INVALID_ARGUMENT
        );

        let mut id = 0u64;
        let mut node = null();
        assert_eq!(graphdb_result_get_value(r, 7, &mut node), GRAPHDB_OK);
        assert_eq!(graphdb_value_node_id(node, &mut id), GRAPHDB_OK);
        assert_eq!(id, 3);
        assert_eq!(
            graphdb_value_node_label(node, 0, &mut s, &mut len),
            GRAPHDB_OK
        );
        assert_eq!(c_str(s, len), b"User");
        assert_eq!(graphdb_value_node_properties(node, &mut e), GRAPHDB_OK);
        assert_eq!(graphdb_value_get_type(e), GRAPHDB_TYPE_MAP);

        let mut rel = null();
        assert_eq!(graphdb_result_get_value(r, 8, &mut rel), GRAPHDB_OK);
        assert_eq!(
            graphdb_value_relationship_type(rel, &mut s, &mut len),
            GRAPHDB_OK
        );
        assert_eq!(c_str(s, len), b"FOLLOWS");
        assert_eq!(graphdb_value_relationship_end(rel, &mut id), GRAPHDB_OK);
        assert_eq!(id, 4);
        assert_eq!(graphdb_value_node_id(rel, &mut id), GRAPHDB_TYPE_ERROR);
        assert_eq!(id, 0);

        let mut path = null();
        assert_eq!(graphdb_result_get_value(r, 9, &mut path), GRAPHDB_OK);
        assert_eq!(graphdb_value_path_length(path, &mut n), GRAPHDB_OK);
        assert_eq!(n, 1);
        assert_eq!(graphdb_value_path_node(path, 1, &mut e), GRAPHDB_OK);
        assert_eq!(graphdb_value_node_label_count(e, &mut n), GRAPHDB_OK);
        assert_eq!(n, 2);
        assert_eq!(graphdb_value_path_relationship(path, 0, &mut e), GRAPHDB_OK);
        assert_eq!(graphdb_value_relationship_id(e, &mut id), GRAPHDB_OK);
        assert_eq!(id, 9);
        assert_eq!(
            graphdb_value_path_node(path, 2, &mut e),
            GRAPHDB_INVALID_ARGUMENT
        );

        assert_eq!(graphdb_result_next(r, &mut has_row), GRAPHDB_OK);
        assert!(!has_row);
        assert_eq!(graphdb_result_get_int64(r, 0, &mut i), GRAPHDB_MISUSE);
        assert_eq!(graphdb_result_next(r, &mut has_row), GRAPHDB_OK);
        assert!(!has_row);
        graphdb_result_free(r);
    }
}

#[test]
fn a_second_thread_inside_the_connection_gets_misuse_and_interrupt_still_works() {
    let fx = Fixture::new();
    let r = fx.result(sample());
    let shared = std::sync::Arc::clone(fx.shared());
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        shared.call("test_holder", |_state| {
            entered_tx.send(()).map_err(|_| Error::internal("send"))?;
            release_rx.recv().map_err(|_| Error::internal("recv"))?;
            Ok(())
        })
    });
    entered_rx.recv().expect("holder entered");
    // SAFETY: live handles and valid out-pointers.
    unsafe {
        let mut has_row = true;
        assert_eq!(graphdb_result_next(r, &mut has_row), GRAPHDB_MISUSE);
        assert!(!has_row);
        assert_eq!(fx.code(), GRAPHDB_MISUSE);
        assert!(fx.message().contains("another thread"), "{}", fx.message());
        let mut txn = null_mut();
        assert_eq!(graphdb_begin(fx.conn, 0, &mut txn), GRAPHDB_MISUSE);
        assert!(txn.is_null());
        graphdb_interrupt(fx.conn); // must not block
    }
    release_tx.send(()).expect("release");
    assert!(holder.join().expect("holder thread").is_ok());
    // SAFETY: as above.
    unsafe {
        let mut has_row = false;
        assert_eq!(graphdb_result_next(r, &mut has_row), GRAPHDB_OK);
        assert!(has_row);
        graphdb_result_free(r);
    }
}

#[test]
fn a_panic_becomes_internal_and_the_connection_refuses_further_use() {
    let fx = Fixture::new();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome: crate::error::Result<()> =
        fx.shared().call("graphdb_test_call", |_| panic!("boom"));
    std::panic::set_hook(hook);
    let e = outcome.expect_err("a panic is an error");
    assert_eq!(graphdb_status::from(e.kind()), GRAPHDB_INTERNAL);
    assert!(
        e.message().contains("graphdb_test_call: boom"),
        "{}",
        e.message()
    );
    assert_eq!(fx.code(), GRAPHDB_INTERNAL);
    let mut txn = null_mut();
    // SAFETY: live connection, valid out-pointer.
    unsafe {
        assert_eq!(graphdb_begin(fx.conn, 0, &mut txn), GRAPHDB_INTERNAL);
    }
    assert!(fx.message().contains("disconnect and connect again"));
}

#[test]
fn status_values_match_error_kinds_one_to_one() {
    use crate::error::ErrorKind::*;
    let kinds = [
        Error,
        Syntax,
        Semantic,
        Type,
        ConstraintViolation,
        Conflict,
        Locked,
        Busy,
        ReadOnly,
        TransactionState,
        InvalidArgument,
        Misuse,
        Interrupted,
        Io,
        Corrupt,
        Internal,
    ];
    for (i, kind) in kinds.into_iter().enumerate() {
        let status = graphdb_status::from(kind);
        assert_eq!(status as i32, i as i32 + 1, "{kind:?}");
        // The C name is the kind's name with the prefix.
        let name = format!("{status:?}");
        assert_eq!(name, format!("GRAPHDB_{}", kind.name()));
    }
}
