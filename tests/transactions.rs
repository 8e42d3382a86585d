//! Transactions through the public Rust API: isolation, conflicts, atomicity, durability,
//! process access modes.

use graphdb::api::Value;
use graphdb::{Database, ErrorKind, Options, Params, TxnMode};

fn p() -> Params {
    Params::new()
}

fn ints(c: &mut graphdb::Connection, q: &str) -> Vec<i64> {
    let r = c.query(q, &p()).unwrap_or_else(|e| panic!("{q}: {e}"));
    r.rows
        .iter()
        .map(|row| match &row[0] {
            Value::Int(i) => *i,
            other => panic!("{q}: expected an integer, got {other:?}"),
        })
        .collect()
}

fn mem() -> Database {
    Database::open(":memory:", &Options::new()).unwrap()
}

#[test]
fn second_writer_conflicts_and_snapshots_see_the_right_state() {
    let db = mem();
    let mut setup = db.connect();
    setup
        .query("CREATE (:Account {id: 1, v: 0})", &p())
        .unwrap();
    let mut before = db.connect();
    before.begin(TxnMode::ReadOnly).unwrap();
    let mut a = db.connect();
    let mut b = db.connect();
    a.begin(TxnMode::ReadWrite).unwrap();
    b.begin(TxnMode::ReadWrite).unwrap();
    a.query("MATCH (n:Account {id: 1}) SET n.v = 1", &p())
        .unwrap();
    let e = b
        .query("MATCH (n:Account {id: 1}) SET n.v = 2", &p())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.is_retryable());
    // The conflict ended b's transaction.
    assert_eq!(b.current_transaction(), None);
    assert_eq!(b.commit().unwrap_err().kind(), ErrorKind::TransactionState);
    a.commit().unwrap();
    assert_eq!(ints(&mut before, "MATCH (n:Account) RETURN n.v"), vec![0]);
    before.commit().unwrap();
    let mut after = db.connect();
    after.begin(TxnMode::ReadOnly).unwrap();
    assert_eq!(ints(&mut after, "MATCH (n:Account) RETURN n.v"), vec![1]);
}

#[test]
fn read_only_transaction_keeps_one_snapshot_and_refuses_writes() {
    let db = mem();
    let mut w = db.connect();
    let mut r = db.connect();
    r.query("BEGIN READ ONLY", &p()).unwrap();
    assert_eq!(ints(&mut r, "MATCH (n) RETURN count(*)"), vec![0]);
    w.query("CREATE (), ()", &p()).unwrap();
    assert_eq!(ints(&mut r, "MATCH (n) RETURN count(*)"), vec![0]);
    let e = r.query("CREATE ()", &p()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReadOnly);
    assert!(
        r.current_transaction().is_some(),
        "a refused write leaves the transaction open"
    );
    r.query("COMMIT", &p()).unwrap();
    assert_eq!(ints(&mut r, "MATCH (n) RETURN count(*)"), vec![2]);
}

#[test]
fn rollback_leaves_no_trace_and_failed_statements_undo_only_themselves() {
    let db = mem();
    let mut c = db.connect();
    c.query("BEGIN", &p()).unwrap();
    c.query("CREATE (:T {v: 1})", &p()).unwrap();
    // Creates two nodes, then fails on the third row: the statement's own writes are undone.
    let e = c
        .query("UNWIND [1, 2, 0] AS x CREATE (:T {v: 10 / x})", &p())
        .unwrap_err();
    assert_ne!(e.kind(), ErrorKind::Conflict);
    assert_eq!(ints(&mut c, "MATCH (t:T) RETURN t.v"), vec![1]);
    c.query("CREATE (:T {v: 2})", &p()).unwrap();
    c.query("COMMIT", &p()).unwrap();
    assert_eq!(
        ints(&mut c, "MATCH (t:T) RETURN t.v ORDER BY t.v"),
        vec![1, 2]
    );
    c.query("BEGIN", &p()).unwrap();
    c.query("MATCH (t:T) SET t.v = t.v + 100", &p()).unwrap();
    c.query("CREATE (:T {v: 7})", &p()).unwrap();
    c.query("ROLLBACK", &p()).unwrap();
    assert_eq!(
        ints(&mut c, "MATCH (t:T) RETURN t.v ORDER BY t.v"),
        vec![1, 2]
    );
}

#[test]
fn transaction_state_errors_are_clear() {
    let db = mem();
    let mut c = db.connect();
    assert_eq!(
        c.query("COMMIT", &p()).unwrap_err().kind(),
        ErrorKind::TransactionState
    );
    assert_eq!(
        c.rollback().unwrap_err().kind(),
        ErrorKind::TransactionState
    );
    c.begin(TxnMode::ReadWrite).unwrap();
    let e = c.query("BEGIN", &p()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionState);
    c.rollback().unwrap();
}

#[test]
fn committed_data_survives_reopen_and_ids_are_never_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let dir = dir.to_str().unwrap();
    let max_id;
    {
        let db = Database::open(dir, &Options::new()).unwrap();
        let mut c = db.connect();
        c.query(
            "CREATE (a:User {name: 'ann', tags: ['x', 'y'], score: 1.5})-[:FOLLOWS {since: 2020}]->(b:User {name: 'bob'})",
            &p(),
        )
        .unwrap();
        c.query("CREATE (:Temp)", &p()).unwrap();
        max_id = *ints(&mut c, "MATCH (n) RETURN id(n) ORDER BY id(n) DESC LIMIT 1")
            .first()
            .unwrap();
        c.query("MATCH (t:Temp) DELETE t", &p()).unwrap();
        c.query("BEGIN", &p()).unwrap();
        c.query("CREATE (:Never)", &p()).unwrap();
        c.query("ROLLBACK", &p()).unwrap();
    }
    let db = Database::open(dir, &Options::new()).unwrap();
    let mut c = db.connect();
    let r = c
        .query(
            "MATCH (a:User)-[f:FOLLOWS]->(b:User) RETURN a.name, a.tags, a.score, f.since, b.name",
            &p(),
        )
        .unwrap();
    assert_eq!(
        r.rows,
        vec![vec![
            Value::String("ann".into()),
            Value::List(vec![Value::String("x".into()), Value::String("y".into())]),
            Value::Float(1.5),
            Value::Int(2020),
            Value::String("bob".into()),
        ]]
    );
    assert_eq!(ints(&mut c, "MATCH (n:Temp) RETURN count(n)"), vec![0]);
    assert_eq!(ints(&mut c, "MATCH (n:Never) RETURN count(n)"), vec![0]);
    let before = db.stats().wal_bytes;
    assert!(before > 16, "the log holds the earlier commits: {before}");
    c.query("CREATE (:New)", &p()).unwrap();
    assert!(db.stats().wal_bytes > before, "a commit grows the log");
    let new_id = ints(&mut c, "MATCH (n:New) RETURN id(n)")[0];
    assert!(
        new_id > max_id,
        "id {new_id} reused (max before was {max_id})"
    );
}

#[test]
fn second_read_write_open_is_locked_and_read_only_open_refuses_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let dir = dir.to_str().unwrap();
    let db = Database::open(dir, &Options::new()).unwrap();
    db.connect().query("CREATE (:X)", &p()).unwrap();
    let e = Database::open(dir, &Options::new()).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Locked);
    assert!(e.message().contains(&std::process::id().to_string()), "{e}");
    drop(db);
    let mut ro = Options::new();
    ro.set("access_mode", "read_only").unwrap();
    let rdb = Database::open(dir, &ro).unwrap();
    let mut c = rdb.connect();
    assert_eq!(ints(&mut c, "MATCH (n:X) RETURN count(n)"), vec![1]);
    assert_eq!(
        c.query("CREATE (:Y)", &p()).unwrap_err().kind(),
        ErrorKind::ReadOnly
    );
    // A read-only open needs no writer lock: a writer can still come in.
    let w = Database::open(dir, &Options::new()).unwrap();
    drop(w);
}

#[test]
fn a_torn_log_tail_is_cut_and_earlier_commits_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    {
        let db = Database::open(dir.to_str().unwrap(), &Options::new()).unwrap();
        let mut c = db.connect();
        for i in 0..5 {
            let mut ps = Params::new();
            ps.insert("i".into(), Value::Int(i));
            c.query("CREATE (:N {i: $i})", &ps).unwrap();
        }
    }
    let wal = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap();
    let full = std::fs::read(&wal).unwrap();
    // Where the records end (the writer reserves zeroed space after them): frames from the
    // 16-byte header on.
    let mut end = 16;
    while let Some(f) = full.get(end..end + 4) {
        let len = u32::from_le_bytes(f.try_into().unwrap()) as usize;
        if len == 0 || end + 8 + len > full.len() {
            break;
        }
        end += 8 + len;
    }
    // Cut into the middle of the last record, as a crash mid-write would.
    std::fs::write(&wal, &full[..end - 3]).unwrap();
    let db = Database::open(dir.to_str().unwrap(), &Options::new()).unwrap();
    let mut c = db.connect();
    assert_eq!(
        ints(&mut c, "MATCH (n:N) RETURN n.i ORDER BY n.i"),
        vec![0, 1, 2, 3]
    );
    c.query("CREATE (:N {i: 9})", &p()).unwrap();
    drop(c);
    drop(db);
    let db = Database::open(dir.to_str().unwrap(), &Options::new()).unwrap();
    assert_eq!(
        ints(&mut db.connect(), "MATCH (n:N) RETURN n.i ORDER BY n.i"),
        vec![0, 1, 2, 3, 9]
    );
}

#[test]
fn concurrent_writers_on_distinct_nodes_all_commit() {
    let db = mem();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut c = db.connect();
                for i in 0..50 {
                    let mut ps = Params::new();
                    ps.insert("v".into(), Value::Int(t * 1000 + i));
                    c.query("CREATE (:W {v: $v})", &ps).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        ints(&mut db.connect(), "MATCH (w:W) RETURN count(w)"),
        vec![200]
    );
}

#[test]
fn show_transactions_and_stats_report_what_happened() {
    let db = mem();
    let mut a = db.connect();
    let mut b = db.connect();
    a.query("CREATE (:C {v: 0})", &p()).unwrap();
    a.query("BEGIN", &p()).unwrap();
    b.query("BEGIN READ ONLY", &p()).unwrap();
    let r = a.query("SHOW TRANSACTIONS", &p()).unwrap();
    assert_eq!(r.columns[..4], ["id", "mode", "isolation", "state"]);
    let modes: Vec<&Value> = r.rows.iter().map(|row| &row[1]).collect();
    assert_eq!(
        modes,
        [
            &Value::String("READ WRITE".into()),
            &Value::String("READ ONLY".into())
        ]
    );
    a.query("MATCH (c:C) SET c.v = 1", &p()).unwrap();
    let mut c = db.connect();
    let e = c.query("MATCH (c:C) SET c.v = 2", &p()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    a.query("COMMIT", &p()).unwrap();
    b.query("ROLLBACK", &p()).unwrap();
    let s = db.stats();
    assert_eq!(s.commits, 2, "{s:?}");
    assert_eq!(s.conflicts_write_write, 1, "{s:?}");
    assert!(
        s.rollbacks >= 2,
        "the conflicted and the rolled-back transaction: {s:?}"
    );
    assert_eq!(s.active_transactions, 0);
    let json: serde_json::Value = serde_json::from_str(&db.stats_json()).unwrap();
    assert_eq!(json["commits"], 2);
    assert!(
        a.query("SHOW TRANSACTIONS", &p()).unwrap().rows.is_empty(),
        "SHOW TRANSACTIONS runs outside any transaction; none is left running"
    );
}

#[test]
fn db_stats_procedure_lists_counters_and_yields_selected_fields() {
    let db = mem();
    let mut c = db.connect();
    c.query("CREATE (), ()", &p()).unwrap();
    c.query("CREATE ()", &p()).unwrap();
    let r = c.query("CALL db.stats()", &p()).unwrap();
    assert_eq!(r.columns, ["name", "value"]);
    assert!(r
        .rows
        .contains(&vec![Value::String("commits".into()), Value::Int(2)]));
    let r = c
        .query(
            "CALL db.stats() YIELD name, value AS v WHERE name = 'commits' RETURN v",
            &p(),
        )
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Int(2)]]);
    let e = c
        .query("CALL db.stats() YIELD nope RETURN nope", &p())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Semantic);
    assert!(e.message().contains("`name`, `value`"), "{e}");
}

/// A reader that looks for a label, type or key nobody has used yet finds nothing without
/// scanning anything; the absence is still a read. Two transactions that each check that a
/// relationship of a brand-new type (or a node of a brand-new label) is absent and then
/// create it, or that each read a brand-new key the other then sets (write skew), must not
/// both commit under SERIALIZABLE. Both read before either writes, so neither lookup finds
/// the name interned by the other's write.
#[test]
fn reads_of_names_not_yet_used_are_validated() {
    for (setup, reads, writes, check, expected) in [
        (
            "CREATE (:P {id: 1}), (:P {id: 2})",
            ["OPTIONAL MATCH (:P {id: 1})-[r:FIRST_TYPE]->(:P {id: 2}) RETURN count(r)"; 2],
            ["MATCH (a:P {id: 1}), (b:P {id: 2}) CREATE (a)-[:FIRST_TYPE]->(b)"; 2],
            "MATCH ()-[r:FIRST_TYPE]->() RETURN count(r)",
            1,
        ),
        (
            "CREATE (:P {id: 1})",
            ["MATCH (x:FirstLabel) RETURN count(x)"; 2],
            ["CREATE (:FirstLabel)"; 2],
            "MATCH (x:FirstLabel) RETURN count(x)",
            1,
        ),
        (
            "CREATE (:A), (:B)",
            ["MATCH (b:B) RETURN b.key_b", "MATCH (a:A) RETURN a.key_a"],
            ["MATCH (a:A) SET a.key_a = 1", "MATCH (b:B) SET b.key_b = 1"],
            "MATCH (a:A), (b:B) RETURN count(a.key_a) + count(b.key_b)",
            1,
        ),
    ] {
        let db = mem();
        db.connect().query(setup, &p()).unwrap();
        let mut a = db.connect();
        let mut b = db.connect();
        a.begin(TxnMode::ReadWrite).unwrap();
        b.begin(TxnMode::ReadWrite).unwrap();
        a.query(reads[0], &p()).unwrap();
        b.query(reads[1], &p()).unwrap();
        a.query(writes[0], &p()).unwrap();
        b.query(writes[1], &p()).unwrap();
        a.commit().unwrap();
        let e = b.commit().expect_err(writes[1]);
        assert_eq!(e.kind(), ErrorKind::Conflict, "{}: {e}", writes[1]);
        assert_eq!(
            ints(&mut db.connect(), check),
            vec![expected],
            "{}",
            writes[1]
        );
    }
}

/// Property keys written in a prepared statement are resolved once and cached in the
/// statement; the cache is per database, so the same statement run against two databases
/// whose catalogs number the key differently reads the right property in each, and a key
/// that does not exist yet when the statement first runs is found once it does.
#[test]
fn prepared_statements_resolve_property_keys_per_database() {
    let db1 = Database::open(":memory:", &Options::new()).unwrap();
    let db2 = Database::open(":memory:", &Options::new()).unwrap();
    let (mut c1, mut c2) = (db1.connect(), db2.connect());
    // In db1 `age` is key 1, in db2 key 0.
    c1.query("CREATE (:P {x: 'no', age: 41})", &Params::new())
        .unwrap();
    c2.query("CREATE (:P {age: 7, x: 'no'})", &Params::new())
        .unwrap();
    let st = c1
        .prepare("MATCH (p:P) RETURN p.age AS a, p {.age} AS m")
        .unwrap();
    for _ in 0..2 {
        let r1 = c1.execute(&st, &Params::new()).unwrap();
        assert_eq!(r1.rows[0][0], Value::Int(41));
        let r2 = c2.execute(&st, &Params::new()).unwrap();
        assert_eq!(r2.rows[0][0], Value::Int(7));
        assert!(
            format!("{:?}", r2.rows[0][1]).contains('7'),
            "{:?}",
            r2.rows
        );
    }
    // A key unknown at the first run.
    let late = c1.prepare("MATCH (p:P) RETURN p.late AS l").unwrap();
    assert_eq!(
        c1.execute(&late, &Params::new()).unwrap().rows[0][0],
        Value::Null
    );
    c1.query("MATCH (p:P) SET p.late = 5", &Params::new())
        .unwrap();
    assert_eq!(
        c1.execute(&late, &Params::new()).unwrap().rows[0][0],
        Value::Int(5)
    );
}
