//! The direct seek of a prepared point lookup (src/cypher/exec/seek.rs) must answer exactly
//! as the interpreter answers the same text: through writes to indexed and projected
//! properties, deletions, label changes and rollbacks, on base-image nodes of a reopened
//! database, for a transaction's own uncommitted writes, for an older snapshot, and with
//! parameters of every kind. Each test also checks that the direct seek did answer (its
//! per-thread count moved), so a change that quietly routes the lookup elsewhere fails here.

use graphdb::api::Value;
use graphdb::cypher::exec::direct_seeks;
use graphdb::{Connection, Database, IsolationMode, Options, Params, TxnMode};

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const LOOKUP: &str = "MATCH (u:User {id: $id}) RETURN u.age, u.name AS name, u.missing";

fn opts() -> Options {
    let mut o = Options::new();
    o.set("sync", "off").unwrap();
    o.set("checkpoint_wal_bytes", "0").unwrap();
    o
}

fn mem() -> Database {
    Database::open(":memory:", &Options::new()).unwrap()
}

fn param(v: Value) -> Params {
    [("id".to_string(), v)].into_iter().collect()
}

fn run(c: &mut Connection, q: &str, p: &Params) {
    c.query(q, p).unwrap_or_else(|e| panic!("{q}: {e}"));
}

/// Users 0..n (ids `i % (n - 3)`, so a few ids are shared by two nodes), the `User.id` index.
fn users(c: &mut Connection, n: i64) {
    run(
        c,
        "UNWIND range(0, $n - 1) AS i \
         CREATE (:User {id: i % ($n - 3), age: 20 + i, name: 'u' + toString(i)})",
        &[("n".to_string(), Value::Int(n))].into_iter().collect(),
    );
    run(
        c,
        "CREATE INDEX user_id FOR (u:User) ON (u.id)",
        &Params::new(),
    );
}

/// Runs the prepared lookup and the unprepared query with `p` on `c` and checks that they
/// agree (rows in the same order, columns, or the same error). Returns whether the direct
/// seek answered the prepared run.
fn agree(c: &mut Connection, stmt: &graphdb::PreparedStatement, p: &Params, what: &str) -> bool {
    let before = direct_seeks();
    let prepared = c.execute(stmt, p);
    let direct = direct_seeks() > before;
    let general = c.query(stmt.text(), p);
    match (prepared, general) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.columns, b.columns, "{what}: {p:?}");
            assert_eq!(a.rows, b.rows, "{what}: {p:?}");
            assert_eq!(a.stats, b.stats, "{what}: {p:?}");
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "{what}: {p:?}"),
        (a, b) => panic!("{what}: {p:?}: prepared {a:?}, unprepared {b:?}"),
    }
    direct
}

/// One random write to the users: a changed or removed id, a changed age, a deletion, a
/// label removed or added, a new node, or writes rolled back.
fn write(c: &mut Connection, rng: &mut Rng, n: i64) -> String {
    let a = rng.below(n as u64 + 5) as i64;
    let b = rng.below(n as u64 + 5) as i64;
    let q = match rng.below(8) {
        0 => format!("MATCH (u:User {{id: {a}}}) SET u.id = {b}"),
        1 => format!("MATCH (u:User {{id: {a}}}) SET u.age = u.age + 1000"),
        2 => format!("MATCH (u:User {{id: {a}}}) DETACH DELETE u"),
        3 => format!("MATCH (u:User {{id: {a}}}) REMOVE u:User SET u:Former"),
        4 => format!("MATCH (u:Former) WHERE u.id = {a} SET u:User"),
        5 => format!("MATCH (u:User {{id: {a}}}) REMOVE u.id"),
        6 => format!("CREATE (:User {{id: {a}, age: {b}, name: 'new'}})"),
        _ => {
            c.begin(TxnMode::ReadWrite).unwrap();
            run(
                c,
                &format!("MATCH (u:User {{id: {a}}}) SET u.id = {b}, u.age = -1"),
                &Params::new(),
            );
            run(
                c,
                &format!("CREATE (:User {{id: {b}, age: -2}})"),
                &Params::new(),
            );
            c.rollback().unwrap();
            return format!("rolled back: {a} -> {b}");
        }
    };
    run(c, &q, &Params::new());
    q
}

/// Random ids (present, shared, absent) checked after each of a series of random writes.
fn differential(c: &mut Connection, n: i64, seed: u64, what: &str) -> (usize, usize) {
    let stmt = c.prepare(LOOKUP).unwrap();
    let mut rng = Rng(seed);
    let (mut checked, mut direct) = (0, 0);
    for step in 0..60 {
        let last = if step == 0 {
            "initial".to_string()
        } else {
            write(c, &mut rng, n)
        };
        for _ in 0..12 {
            let id = rng.below(n as u64 + 8) as i64 - 2;
            checked += 1;
            if agree(
                c,
                &stmt,
                &param(Value::Int(id)),
                &format!("{what}, after {last}"),
            ) {
                direct += 1;
            }
        }
    }
    (checked, direct)
}

#[test]
fn the_direct_seek_agrees_with_the_interpreter_through_writes() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 40);
    let (checked, direct) = differential(&mut c, 40, 7, "in memory");
    assert_eq!(
        direct, checked,
        "every lookup by an integer takes the direct seek"
    );
    println!("in memory: {checked} lookups agreed, all by the direct seek");
}

#[test]
fn the_direct_seek_agrees_on_base_image_nodes_of_a_reopened_database() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    {
        let mut o = opts();
        o.set("create", "true").unwrap();
        let db = Database::open(path, &o).unwrap();
        users(&mut db.connect(), 300);
        db.checkpoint().unwrap();
    }
    let db = Database::open(path, &opts()).unwrap();
    let mut c = db.connect();
    let (checked, direct) = differential(&mut c, 300, 11, "reopened");
    assert_eq!(direct, checked);
    // The writes are now delta entries over base nodes; checkpointed again and reopened,
    // every node is a base node once more.
    db.checkpoint().unwrap();
    drop(c);
    drop(db);
    let db = Database::open(path, &opts()).unwrap();
    let mut c = db.connect();
    let (again, direct) = differential(&mut c, 300, 12, "reopened twice");
    assert_eq!(direct, again);
    println!("reopened: {checked} + {again} lookups agreed, all by the direct seek");
}

/// Inside an explicit transaction the lookup sees the transaction's own writes; a snapshot
/// transaction takes the direct seek, a serializable read-write one the general plan (its
/// node reads are recorded for validation), and both agree with the interpreter.
#[test]
fn own_uncommitted_writes_are_seen_in_either_isolation() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 20);
    let stmt = c.prepare(LOOKUP).unwrap();
    for (isolation, takes_direct) in [
        (IsolationMode::Snapshot, true),
        (IsolationMode::Serializable, false),
    ] {
        c.begin_with_isolation(TxnMode::ReadWrite, isolation)
            .unwrap();
        run(
            &mut c,
            "MATCH (u:User {id: 3}) SET u.id = 100, u.age = 7",
            &Params::new(),
        );
        run(
            &mut c,
            "MATCH (u:User {id: 4}) DETACH DELETE u",
            &Params::new(),
        );
        run(
            &mut c,
            "CREATE (:User {id: 5, age: 8, name: 'mine'})",
            &Params::new(),
        );
        run(
            &mut c,
            "MATCH (u:User {id: 6}) REMOVE u:User",
            &Params::new(),
        );
        run(
            &mut c,
            "MATCH (u:User {id: 7}) SET u.age = 70",
            &Params::new(),
        );
        for id in [3, 4, 5, 6, 7, 100, 99] {
            let direct = agree(&mut c, &stmt, &param(Value::Int(id)), "own writes");
            assert_eq!(direct, takes_direct, "{isolation:?}, id {id}");
        }
        let r = c.execute(&stmt, &param(Value::Int(100))).unwrap();
        assert_eq!(
            r.rows[0][0],
            Value::Int(7),
            "the new id and age, uncommitted"
        );
        assert!(c
            .execute(&stmt, &param(Value::Int(4)))
            .unwrap()
            .rows
            .is_empty());
        assert_eq!(
            c.execute(&stmt, &param(Value::Int(5))).unwrap().rows.len(),
            2
        );
        c.rollback().unwrap();
        let r = c.execute(&stmt, &param(Value::Int(3))).unwrap();
        assert_eq!(r.rows.len(), 1, "rolled back: id 3 is back");
    }
}

/// A transaction that began before another connection's commit keeps reading its snapshot.
#[test]
fn an_older_snapshot_reads_what_it_began_with() {
    let db = mem();
    let mut w = db.connect();
    users(&mut w, 20);
    let mut r = db.connect();
    let stmt = r.prepare(LOOKUP).unwrap();
    r.begin(TxnMode::ReadOnly).unwrap();
    let before = r.execute(&stmt, &param(Value::Int(5))).unwrap();
    run(
        &mut w,
        "MATCH (u:User {id: 5}) SET u.id = 50, u.age = 0",
        &Params::new(),
    );
    run(&mut w, "CREATE (:User {id: 5, age: 1})", &Params::new());
    run(
        &mut w,
        "MATCH (u:User {id: 9}) DETACH DELETE u",
        &Params::new(),
    );
    for id in [5, 50, 9] {
        assert!(agree(
            &mut r,
            &stmt,
            &param(Value::Int(id)),
            "older snapshot"
        ));
    }
    assert_eq!(r.execute(&stmt, &param(Value::Int(5))).unwrap(), before);
    assert!(r
        .execute(&stmt, &param(Value::Int(50)))
        .unwrap()
        .rows
        .is_empty());
    r.commit().unwrap();
    assert_eq!(
        r.execute(&stmt, &param(Value::Int(5))).unwrap().rows.len(),
        1
    );
    assert_eq!(
        r.execute(&stmt, &param(Value::Int(50))).unwrap().rows.len(),
        1
    );
}

/// Parameters the direct seek does not take (absent, null, float, list, map, bool) go to the
/// general plan and give its answer or its error; strings are sought directly.
#[test]
fn parameters_of_every_kind_answer_as_the_interpreter_does() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 20);
    run(
        &mut c,
        "CREATE (:User {id: 'x', age: 1}), (:User {id: 2.5, age: 2})",
        &Params::new(),
    );
    let stmt = c.prepare(LOOKUP).unwrap();
    for (v, direct) in [
        (Value::String("x".into()), true),
        (Value::String("y".into()), true),
        (Value::Int(2), true),
        (Value::Float(2.0), false),
        (Value::Float(2.5), false),
        (Value::Null, false),
        (Value::Bool(true), false),
        (Value::List(vec![Value::Int(2)]), false),
        (Value::Map(Default::default()), false),
    ] {
        assert_eq!(
            agree(&mut c, &stmt, &param(v.clone()), "parameter"),
            direct,
            "{v:?}"
        );
    }
    // A missing parameter, or another name: the general plan's error (or answer).
    let other: Params = [("di".to_string(), Value::Int(2))].into_iter().collect();
    assert!(!agree(&mut c, &stmt, &other, "missing parameter"));
    assert!(c.execute(&stmt, &other).is_err());
    assert!(!agree(&mut c, &stmt, &Params::new(), "no parameters"));
    // A graph entity among the parameters fails before anything runs, as before.
    let node = c
        .query("MATCH (u:User {id: 1}) RETURN u", &Params::new())
        .unwrap()
        .rows[0][0]
        .clone();
    let mut bad = param(Value::Int(1));
    bad.insert("n".into(), Value::List(vec![node]));
    assert!(!agree(&mut c, &stmt, &bad, "entity parameter"));
}

/// Without a usable index the general plan answers (a label scan); once the index exists the
/// next run seeks directly, with no re-preparation; dropped, back to the scan.
#[test]
fn the_direct_seek_needs_the_index_and_follows_its_creation() {
    let db = mem();
    let mut c = db.connect();
    run(
        &mut c,
        "UNWIND range(0, 9) AS i CREATE (:User {id: i, age: i})",
        &Params::new(),
    );
    let stmt = c.prepare(LOOKUP).unwrap();
    assert!(!agree(&mut c, &stmt, &param(Value::Int(3)), "no index"));
    run(
        &mut c,
        "CREATE INDEX user_id FOR (u:User) ON (u.id)",
        &Params::new(),
    );
    assert!(agree(&mut c, &stmt, &param(Value::Int(3)), "index"));
    run(&mut c, "DROP INDEX user_id", &Params::new());
    assert!(!agree(&mut c, &stmt, &param(Value::Int(3)), "dropped"));
    // Shapes that are not a plain point lookup never take it.
    run(
        &mut c,
        "CREATE INDEX user_id FOR (u:User) ON (u.id)",
        &Params::new(),
    );
    for q in [
        "MATCH (u:User {id: $id}) WHERE u.age > 0 RETURN u.age",
        "MATCH (u:User {id: $id}) RETURN u",
        "MATCH (u:User {id: $id}) RETURN u.age + 1 AS a",
        "MATCH (u:User {id: $id}) RETURN DISTINCT u.age",
        "MATCH (u:User:Other {id: $id}) RETURN u.age",
        "MATCH (u:User {id: $id, age: 3}) RETURN u.age",
        "MATCH (u:User {id: $id})-->(v) RETURN v.age",
        "OPTIONAL MATCH (u:User {id: $id}) RETURN u.age",
    ] {
        let s = c.prepare(q).unwrap();
        assert!(!agree(&mut c, &s, &param(Value::Int(3)), q), "{q}");
    }
}

/// An interrupt raised between statements does not stop the next one (each statement clears
/// the flag when it starts); the direct seek checks the flag as the general plan does.
#[test]
fn a_lookup_after_an_interrupt_still_answers() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 10);
    let stmt = c.prepare(LOOKUP).unwrap();
    c.interrupt_handle().interrupt();
    assert!(agree(
        &mut c,
        &stmt,
        &param(Value::Int(1)),
        "after interrupt"
    ));
}
