//! Indexes and uniqueness constraints through the public Rust API: DDL and its persistence,
//! SHOW output, constraint enforcement (statement, transaction and concurrent), MVCC
//! visibility of index entries, index use by the planner, and results equal to a scan.

use std::sync::{Arc, Barrier};
use std::thread;

use graphdb::api::Value;
use graphdb::{Connection, Database, ErrorKind, Options, Params, TxnMode};

fn p() -> Params {
    Params::new()
}

fn mem() -> Database {
    Database::open(":memory:", &Options::new()).unwrap()
}

fn run(c: &mut Connection, q: &str) -> Vec<Vec<Value>> {
    c.query(q, &p()).unwrap_or_else(|e| panic!("{q}: {e}")).rows
}

fn ints(c: &mut Connection, q: &str) -> Vec<i64> {
    run(c, q)
        .iter()
        .map(|row| match &row[0] {
            Value::Int(i) => *i,
            other => panic!("{q}: expected an integer, got {other:?}"),
        })
        .collect()
}

fn count(c: &mut Connection, q: &str) -> i64 {
    ints(c, q)[0]
}

fn err(c: &mut Connection, q: &str) -> graphdb::Error {
    match c.query(q, &p()) {
        Ok(r) => panic!("{q}: expected an error, got {:?}", r.rows),
        Err(e) => e,
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

/// `(name, labels, properties, owner)` of each SHOW INDEXES row.
fn show_indexes(c: &mut Connection) -> Vec<(Value, Value, Value, Value)> {
    let r = c.query("SHOW INDEXES", &p()).unwrap();
    assert_eq!(
        r.columns,
        [
            "id",
            "name",
            "state",
            "type",
            "entityType",
            "labelsOrTypes",
            "properties",
            "owningConstraint"
        ]
    );
    r.rows
        .into_iter()
        .map(|row| {
            (
                row[1].clone(),
                row[5].clone(),
                row[6].clone(),
                row[7].clone(),
            )
        })
        .collect()
}

fn list(v: &str) -> Value {
    Value::List(vec![s(v)])
}

#[test]
fn ddl_round_trips_through_show_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let path = path.to_str().unwrap();
    let mut o = Options::new();
    o.set("create", "true").unwrap();
    {
        let db = Database::open(path, &o).unwrap();
        let mut c = db.connect();
        run(
            &mut c,
            "CREATE (:User {id: 1, email: 'a'}), (:User {id: 2, email: 'b'})",
        );
        run(&mut c, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
        run(
            &mut c,
            "CREATE CONSTRAINT user_email FOR (u:User) REQUIRE u.email IS UNIQUE",
        );
        run(&mut c, "CREATE INDEX FOR (p:Post) ON (p.title)");
        run(&mut c, "CREATE INDEX gone FOR (p:Post) ON (p.body)");
        run(&mut c, "DROP INDEX gone");
    }
    let db = Database::open(path, &o).unwrap();
    let mut c = db.connect();
    assert_eq!(
        show_indexes(&mut c),
        vec![
            (s("user_id"), list("User"), list("id"), Value::Null),
            (
                s("user_email"),
                list("User"),
                list("email"),
                s("user_email")
            ),
            (
                s("index_Post_title"),
                list("Post"),
                list("title"),
                Value::Null
            ),
        ]
    );
    let r = c.query("SHOW CONSTRAINTS", &p()).unwrap();
    assert_eq!(r.columns[1], "name");
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0][1], s("user_email"));
    assert_eq!(r.rows[0][2], s("UNIQUENESS"));
    assert_eq!(r.rows[0][4], list("User"));
    assert_eq!(r.rows[0][5], list("email"));
    // The reopened constraint is enforced and the reopened index answers lookups.
    assert_eq!(
        err(&mut c, "CREATE (:User {id: 3, email: 'a'})").kind(),
        ErrorKind::ConstraintViolation
    );
    let seeks = db.stats().index_seeks;
    assert_eq!(ints(&mut c, "MATCH (u:User {id: 2}) RETURN u.id"), vec![2]);
    assert!(db.stats().index_seeks > seeks);
    run(&mut c, "DROP CONSTRAINT user_email");
    drop(c);
    drop(db);
    let db = Database::open(path, &o).unwrap();
    let mut c = db.connect();
    assert_eq!(show_indexes(&mut c).len(), 2);
    run(&mut c, "CREATE (:User {id: 3, email: 'a'})");
}

#[test]
fn if_exists_clauses_names_and_refusals() {
    let db = mem();
    let mut c = db.connect();
    run(&mut c, "CREATE INDEX i FOR (n:L) ON (n.k)");
    // Same name, or an equivalent definition: an error, or nothing with IF NOT EXISTS.
    assert_eq!(
        err(&mut c, "CREATE INDEX i FOR (n:M) ON (n.k)").kind(),
        ErrorKind::Error
    );
    let e = err(&mut c, "CREATE INDEX j FOR (n:L) ON (n.k)");
    assert!(e.message().contains("'i'"), "{e}");
    run(&mut c, "CREATE INDEX i IF NOT EXISTS FOR (n:M) ON (n.k)");
    run(&mut c, "CREATE INDEX j IF NOT EXISTS FOR (n:L) ON (n.k)");
    assert_eq!(show_indexes(&mut c).len(), 1);
    // A constraint may sit on an indexed key; an index next to a constraint adds nothing.
    run(
        &mut c,
        "CREATE CONSTRAINT u FOR (n:L) REQUIRE n.k IS UNIQUE",
    );
    run(
        &mut c,
        "CREATE CONSTRAINT IF NOT EXISTS FOR (n:L) REQUIRE n.k IS UNIQUE",
    );
    assert_eq!(show_indexes(&mut c).len(), 2);
    assert_eq!(err(&mut c, "DROP INDEX u").kind(), ErrorKind::Error);
    assert_eq!(err(&mut c, "DROP CONSTRAINT i").kind(), ErrorKind::Error);
    assert_eq!(err(&mut c, "DROP INDEX nope").kind(), ErrorKind::Error);
    run(&mut c, "DROP INDEX nope IF EXISTS");
    run(&mut c, "DROP CONSTRAINT nope IF EXISTS");
    let e = err(&mut c, "CREATE INDEX FOR (n:L) ON (n.a, n.b)");
    assert!(e.message().contains("composite"), "{e}");
    // Schema changes are transactions of their own; SHOW is fine inside one.
    c.begin(TxnMode::ReadWrite).unwrap();
    run(&mut c, "CREATE (:L {k: 1})");
    let e = err(&mut c, "CREATE INDEX FOR (n:L) ON (n.z)");
    assert_eq!(e.kind(), ErrorKind::TransactionState, "{e}");
    assert_eq!(show_indexes(&mut c).len(), 2);
    c.commit().unwrap();
    assert_eq!(count(&mut c, "MATCH (n:L) RETURN count(n)"), 1);
    run(&mut c, "DROP CONSTRAINT u");
    run(&mut c, "DROP INDEX i");
    assert!(show_indexes(&mut c).is_empty());
}

#[test]
fn a_violating_write_changes_nothing_and_the_transaction_goes_on() {
    let db = mem();
    let mut c = db.connect();
    run(
        &mut c,
        "CREATE CONSTRAINT one_email FOR (u:User) REQUIRE u.email IS UNIQUE",
    );
    run(&mut c, "CREATE (:User {email: 'a', n: 1})");
    let e = err(&mut c, "CREATE (:User {email: 'b'}), (:User {email: 'a'})");
    assert_eq!(e.kind(), ErrorKind::ConstraintViolation);
    assert!(
        e.message().contains("one_email") && e.message().contains("'a'"),
        "{e}"
    );
    assert_eq!(count(&mut c, "MATCH (u:User) RETURN count(u)"), 1);
    // 1 and 1.0 are one key, as Cypher equality has it.
    run(&mut c, "CREATE (:User {email: 1})");
    assert_eq!(
        err(&mut c, "CREATE (:User {email: 1.0})").kind(),
        ErrorKind::ConstraintViolation
    );
    // SET and adding the label count too; other labels and keys do not.
    run(&mut c, "CREATE (:User {email: 'c'}), (:Other {email: 'a'})");
    assert_eq!(
        err(&mut c, "MATCH (u:User {email: 'c'}) SET u.email = 'a'").kind(),
        ErrorKind::ConstraintViolation
    );
    assert_eq!(
        err(&mut c, "MATCH (o:Other) SET o:User").kind(),
        ErrorKind::ConstraintViolation
    );
    run(
        &mut c,
        "MATCH (u:User {email: 'c'}) SET u.email = 'c', u.x = 1",
    );
    // Inside an explicit transaction only the statement fails.
    c.begin(TxnMode::ReadWrite).unwrap();
    run(&mut c, "CREATE (:User {email: 'd'})");
    assert_eq!(
        err(&mut c, "CREATE (:User {email: 'd'})").kind(),
        ErrorKind::ConstraintViolation
    );
    assert!(c.current_transaction().is_some());
    // Freeing a value and reusing it in the same transaction is fine.
    run(&mut c, "MATCH (u:User {email: 'a'}) SET u.email = 'z'");
    run(&mut c, "CREATE (:User {email: 'a'})");
    c.commit().unwrap();
    let mut emails: Vec<String> = run(&mut c, "MATCH (u:User) RETURN u.email")
        .into_iter()
        .filter_map(|r| match &r[0] {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    emails.sort();
    assert_eq!(emails, ["a", "c", "d", "z"]);
}

#[test]
fn creating_a_constraint_over_duplicates_names_them() {
    let db = mem();
    let mut c = db.connect();
    run(
        &mut c,
        "CREATE (:User {e: 'x'}), (:User {e: 'x'}), (:User {e: 'y'}), (:User {e: 2}), (:User {e: 2.0})",
    );
    let e = err(
        &mut c,
        "CREATE CONSTRAINT FOR (u:User) REQUIRE u.e IS UNIQUE",
    );
    assert_eq!(e.kind(), ErrorKind::ConstraintViolation);
    let m = e.message();
    assert!(m.contains("'x' (nodes 0, 1)"), "{m}");
    assert!(m.contains("2 (nodes 3, 4)"), "{m}");
    assert!(!m.contains("'y'"), "{m}");
    assert!(show_indexes(&mut c).is_empty());
    run(
        &mut c,
        "MATCH (u:User) WHERE u.e = 2 OR u.e = 'x' DETACH DELETE u",
    );
    run(
        &mut c,
        "CREATE CONSTRAINT FOR (u:User) REQUIRE u.e IS UNIQUE",
    );
}

#[test]
fn index_entries_follow_mvcc_visibility() {
    let db = mem();
    let mut w = db.connect();
    run(&mut w, "CREATE INDEX FOR (u:User) ON (u.id)");
    run(&mut w, "CREATE (:User {id: 1, tag: 'old'})");
    let mut old = db.connect();
    old.begin(TxnMode::ReadOnly).unwrap();
    w.begin(TxnMode::ReadWrite).unwrap();
    run(&mut w, "MATCH (u:User {id: 1}) SET u.id = 100");
    run(&mut w, "CREATE (:User {id: 7})");
    // The writer sees its own uncommitted entries; nobody else does.
    assert_eq!(count(&mut w, "MATCH (u:User {id: 100}) RETURN count(u)"), 1);
    assert_eq!(count(&mut w, "MATCH (u:User {id: 1}) RETURN count(u)"), 0);
    assert_eq!(
        count(&mut w, "MATCH (u:User) WHERE u.id = 7 RETURN count(u)"),
        1
    );
    let mut other = db.connect();
    assert_eq!(
        count(&mut other, "MATCH (u:User {id: 7}) RETURN count(u)"),
        0
    );
    assert_eq!(
        count(&mut other, "MATCH (u:User {id: 100}) RETURN count(u)"),
        0
    );
    w.commit().unwrap();
    // The old snapshot still finds the node by its old value, and not by the new one.
    assert_eq!(
        ints(&mut old, "MATCH (u:User {id: 1}) RETURN u.id"),
        vec![1]
    );
    assert_eq!(
        count(&mut old, "MATCH (u:User) WHERE u.id >= 7 RETURN count(u)"),
        0
    );
    assert_eq!(
        ints(&mut other, "MATCH (u:User {id: 100}) RETURN u.id"),
        vec![100]
    );
    assert_eq!(
        count(&mut other, "MATCH (u:User {id: 1}) RETURN count(u)"),
        0
    );
    old.commit().unwrap();
    // A rolled-back change leaves nothing findable.
    w.begin(TxnMode::ReadWrite).unwrap();
    run(&mut w, "MATCH (u:User {id: 7}) SET u.id = 8");
    w.rollback().unwrap();
    assert_eq!(
        count(&mut other, "MATCH (u:User {id: 8}) RETURN count(u)"),
        0
    );
    assert_eq!(
        count(&mut other, "MATCH (u:User {id: 7}) RETURN count(u)"),
        1
    );
    // Deleted nodes and removed labels leave the index.
    run(&mut w, "MATCH (u:User {id: 7}) DELETE u");
    run(&mut w, "MATCH (u:User {id: 100}) REMOVE u:User");
    assert_eq!(
        count(&mut other, "MATCH (u:User) WHERE u.id > 0 RETURN count(u)"),
        0
    );
}

#[test]
fn the_planner_seeks_instead_of_scanning() {
    let db = mem();
    let mut c = db.connect();
    run(
        &mut c,
        "UNWIND range(1, 200) AS i CREATE (:User {id: i, age: i % 50})",
    );
    run(&mut c, "CREATE INDEX FOR (u:User) ON (u.id)");
    let cases: &[(&str, Vec<i64>)] = &[
        ("MATCH (u:User {id: 42}) RETURN u.id", vec![42]),
        ("MATCH (u:User) WHERE u.id = 42 RETURN u.id", vec![42]),
        ("MATCH (u:User) WHERE 42.0 = u.id RETURN u.id", vec![42]),
        (
            "MATCH (u:User) WHERE u.id IN [3, 1, 3, null, 'x'] RETURN u.id",
            vec![1, 3],
        ),
        (
            "MATCH (u:User) WHERE u.id > 197 RETURN u.id",
            vec![198, 199, 200],
        ),
        (
            "MATCH (u:User) WHERE u.id >= 10 AND u.id < 12.5 RETURN u.id",
            vec![10, 11, 12],
        ),
        (
            "MATCH (u:User) WHERE 3 >= u.id AND u.age > 1 RETURN u.id",
            vec![2, 3],
        ),
        ("MATCH (u:User) WHERE u.id < 'a' RETURN u.id", vec![]),
        (
            "WITH 5 AS x MATCH (u:User {id: x + 1}) RETURN u.id",
            vec![6],
        ),
        (
            "MATCH (a:User {id: 1}), (b:User {id: a.id + 1}) RETURN b.id",
            vec![2],
        ),
        ("MATCH (u:User {id: 9})-[*0..1]-() RETURN u.id", vec![9]),
        ("MERGE (u:User {id: 77}) RETURN u.id", vec![77]),
    ];
    for (q, want) in cases {
        let before = db.stats();
        let mut got = ints(&mut c, q);
        got.sort();
        assert_eq!(&got, want, "{q}");
        let after = db.stats();
        assert!(after.index_seeks > before.index_seeks, "{q} did not seek");
        assert_eq!(after.label_scans, before.label_scans, "{q} scanned a label");
        assert_eq!(after.node_scans, before.node_scans, "{q} scanned all nodes");
    }
    assert_eq!(count(&mut c, "MATCH (u:User) RETURN count(u)"), 200);
    // Not indexed, or not evaluable before the search: a scan.
    for q in [
        "MATCH (u:User {age: 3}) RETURN count(u)",
        "MATCH (u:User) WHERE u.id = u.age RETURN count(u)",
        "MATCH (u:User) WHERE u.id = 1 OR u.id = 2 RETURN count(u)",
    ] {
        let before = db.stats().label_scans;
        run(&mut c, q);
        assert!(db.stats().label_scans > before, "{q} should scan");
    }
}

/// A tiny deterministic generator (no dependency needed for this).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn value(&mut self) -> String {
        match self.below(9) {
            0 => format!("{}", self.below(20) as i64 - 10),
            1 => format!("{}.5", self.below(20) as i64 - 10),
            2 => format!("{}.0", self.below(20) as i64 - 10),
            3 => format!("'{}'", ["a", "b", "ab", "", "z"][self.below(5) as usize]),
            4 => ["true", "false"][self.below(2) as usize].into(),
            5 => "null".into(),
            6 => "[1, 2]".into(),
            7 => "(0.0 / 0.0)".into(),
            _ => format!("{}", self.below(6)),
        }
    }
}

#[test]
fn seeks_agree_with_scans_on_random_data() {
    let db = mem();
    let mut c = db.connect();
    run(&mut c, "CREATE INDEX FOR (n:R) ON (n.k)");
    let mut g = Lcg(7);
    for i in 0..300 {
        let v = g.value();
        run(
            &mut c,
            &format!("CREATE (:R {{i: {i}, k: {v}}}), (:S {{i: {i}, k: {v}}})"),
        );
    }
    let ops = ["=", "<", "<=", ">", ">="];
    for _ in 0..150 {
        let pred = match g.below(4) {
            0 => format!("n.k {} {}", ops[g.below(5) as usize], g.value()),
            1 => format!(
                "n.k {} {} AND {} {} n.k",
                ops[1 + g.below(4) as usize],
                g.value(),
                g.value(),
                ops[1 + g.below(4) as usize]
            ),
            2 => format!("n.k IN [{}, {}, {}]", g.value(), g.value(), g.value()),
            _ => format!("n.k = {} AND n.i > {}", g.value(), g.below(300)),
        };
        let q = |l: &str| format!("MATCH (n:{l}) WHERE {pred} RETURN n.i ORDER BY n.i");
        let by_index = ints(&mut c, &q("R"));
        let by_scan = ints(&mut c, &q("S"));
        assert_eq!(by_index, by_scan, "{pred}");
        let m = g.value();
        let q = |l: &str| format!("MATCH (n:{l} {{k: {m}}}) RETURN n.i ORDER BY n.i");
        assert_eq!(ints(&mut c, &q("R")), ints(&mut c, &q("S")), "{{k: {m}}}");
    }
    assert!(db.stats().index_seeks > 100);
}

#[test]
fn concurrent_creators_of_one_key_cannot_both_commit() {
    let db = mem();
    let mut c = db.connect();
    run(
        &mut c,
        "CREATE CONSTRAINT FOR (u:User) REQUIRE u.email IS UNIQUE",
    );
    const THREADS: usize = 4;
    const ROUNDS: usize = 20;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let db = db.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let mut c = db.connect();
                let mut won = 0;
                for round in 0..ROUNDS {
                    c.begin(TxnMode::ReadWrite).unwrap();
                    c.query(
                        &format!("CREATE (:User {{email: 'e{round}'}})"),
                        &Params::new(),
                    )
                    .unwrap();
                    // Everyone has written before anyone commits.
                    barrier.wait();
                    match c.commit() {
                        Ok(()) => won += 1,
                        Err(e) => assert_eq!(e.kind(), ErrorKind::ConstraintViolation, "{e}"),
                    }
                    barrier.wait();
                }
                won
            })
        })
        .collect();
    let wins: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(wins, ROUNDS, "exactly one creator per key commits");
    assert_eq!(
        count(&mut c, "MATCH (u:User) RETURN count(DISTINCT u.email)"),
        ROUNDS as i64
    );
    assert_eq!(
        count(&mut c, "MATCH (u:User) RETURN count(u)"),
        ROUNDS as i64
    );
}

#[test]
fn an_index_lookup_is_a_predicate_read_under_serializable() {
    let db = mem();
    let mut c = db.connect();
    run(&mut c, "CREATE INDEX FOR (u:User) ON (u.age)");
    run(
        &mut c,
        "UNWIND range(1, 10) AS i CREATE (:User {age: i * 10})",
    );
    // Each round: t reads "users older than 55" through the index and writes a summary; a
    // concurrent thread commits a change in between. Changes that move a node into or out
    // of the range make t's commit fail; others do not.
    let cases = [
        ("CREATE (:User {age: 70})", true),
        ("CREATE (:User {age: 20})", false),
        ("MATCH (u:User {age: 30}) SET u.age = 99", true),
        ("MATCH (u:User {age: 90}) SET u.age = 1", true),
        ("MATCH (u:User {age: 40}) SET u.age = 41", false),
        ("MATCH (u:User {age: 60}) REMOVE u:User", true),
        ("MATCH (u:User {age: 41}) SET u.other = 1", false),
    ];
    for (change, conflicts) in cases {
        let mut t = db.connect();
        t.begin(TxnMode::ReadWrite).unwrap();
        let before = db.stats().index_seeks;
        let n = count(&mut t, "MATCH (u:User) WHERE u.age > 55 RETURN count(u)");
        assert!(db.stats().index_seeks > before);
        t.query(&format!("CREATE (:Summary {{older: {n}}})"), &Params::new())
            .unwrap();
        let db2 = db.clone();
        let owned = change.to_string();
        thread::spawn(move || {
            db2.connect().query(&owned, &Params::new()).unwrap();
        })
        .join()
        .unwrap();
        match t.commit() {
            Ok(()) => assert!(!conflicts, "{change} should have conflicted"),
            Err(e) => {
                assert!(conflicts, "{change}: unexpected {e}");
                assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
            }
        }
    }
}

#[test]
fn racing_merges_on_a_unique_key_leave_one_node() {
    let db = mem();
    let mut c = db.connect();
    run(
        &mut c,
        "CREATE CONSTRAINT FOR (u:User) REQUIRE u.email IS UNIQUE",
    );
    // Under SERIALIZABLE the loser's index lookup is invalidated first: a retryable
    // CONFLICT, after which the retry finds the winner's node.
    let mut a = db.connect();
    let mut b = db.connect();
    a.begin(TxnMode::ReadWrite).unwrap();
    b.begin(TxnMode::ReadWrite).unwrap();
    run(&mut a, "MERGE (:User {email: 'm'})");
    run(&mut b, "MERGE (:User {email: 'm'})");
    a.commit().unwrap();
    let e = b.commit().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let n = b
        .transact(TxnMode::ReadWrite, 3, |c| {
            c.query("MERGE (u:User {email: 'm'}) RETURN u.email", &Params::new())
                .map(|r| r.rows.len())
        })
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(count(&mut c, "MATCH (u:User) RETURN count(u)"), 1);
    // Under SNAPSHOT isolation nothing validates reads: the constraint still holds.
    let mut a = db.connect();
    let mut b = db.connect();
    a.begin_with_isolation(TxnMode::ReadWrite, graphdb::IsolationMode::Snapshot)
        .unwrap();
    b.begin_with_isolation(TxnMode::ReadWrite, graphdb::IsolationMode::Snapshot)
        .unwrap();
    run(&mut a, "MERGE (:User {email: 's'})");
    run(&mut b, "MERGE (:User {email: 's'})");
    a.commit().unwrap();
    assert_eq!(
        b.commit().unwrap_err().kind(),
        ErrorKind::ConstraintViolation
    );
    assert_eq!(
        count(&mut c, "MATCH (u:User {email: 's'}) RETURN count(u)"),
        1
    );
}

#[test]
fn a_constraint_created_under_an_open_duplicate_stops_its_commit() {
    let db = mem();
    let mut c = db.connect();
    run(&mut c, "CREATE (:User {email: 'a'})");
    let mut t = db.connect();
    t.begin(TxnMode::ReadWrite).unwrap();
    run(&mut t, "CREATE (:User {email: 'a'})");
    // The committed data has no duplicate, so the constraint is created...
    let db2 = db.clone();
    thread::spawn(move || {
        db2.connect()
            .query(
                "CREATE CONSTRAINT FOR (u:User) REQUIRE u.email IS UNIQUE",
                &Params::new(),
            )
            .unwrap();
    })
    .join()
    .unwrap();
    // ...and the open transaction's duplicate cannot commit.
    assert_eq!(
        t.commit().unwrap_err().kind(),
        ErrorKind::ConstraintViolation
    );
    assert_eq!(count(&mut c, "MATCH (u:User) RETURN count(u)"), 1);
}

/// Temporal keys: one instant written in two zones is one key, for seeks (which the planner
/// uses for temporal equality) and for uniqueness.
#[test]
fn temporal_values_are_index_keys_by_instant() {
    let db = mem();
    let mut c = db.connect();
    run(
        &mut c,
        "CREATE CONSTRAINT FOR (e:Event) REQUIRE e.at IS UNIQUE",
    );
    run(
        &mut c,
        "CREATE (:Event {at: datetime('2020-01-01T00:00Z'), n: 1}), \
         (:Event {at: datetime('2020-01-01T00:30Z'), n: 2}), (:Event {at: date('2020-01-01'), n: 3})",
    );
    let before = db.stats().index_seeks;
    assert_eq!(
        ints(
            &mut c,
            "MATCH (e:Event {at: datetime('2020-01-01T01:00+01:00')}) RETURN e.n"
        ),
        vec![1]
    );
    assert!(
        db.stats().index_seeks > before,
        "temporal equality did not seek"
    );
    assert_eq!(
        ints(
            &mut c,
            "MATCH (e:Event) WHERE e.at = date('2020-01-01') RETURN e.n"
        ),
        vec![3]
    );
    let e = err(
        &mut c,
        "CREATE (:Event {at: datetime('2020-01-01T02:30+02:00')})",
    );
    assert_eq!(e.kind(), ErrorKind::ConstraintViolation, "{e}");
    assert_eq!(count(&mut c, "MATCH (e:Event) RETURN count(e)"), 3);
}
