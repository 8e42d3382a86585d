//! Prepared statements run by a plan compiled once (src/cypher/exec/prepared.rs): the cached
//! plan must give what the unprepared query gives after schema changes, with any parameter
//! values, on another database, inside explicit transactions and from several threads.

use std::sync::Arc;

use graphdb::api::Value;
use graphdb::{Connection, Database, ErrorKind, Options, Params, TxnMode};

fn mem() -> Database {
    Database::open(":memory:", &Options::new()).unwrap()
}

fn params(pairs: &[(&str, Value)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn id(v: i64) -> Params {
    params(&[("id", Value::Int(v))])
}

fn run(c: &mut Connection, q: &str) {
    c.query(q, &Params::new())
        .unwrap_or_else(|e| panic!("{q}: {e}"));
}

/// Users 0..n with `age = 20 + id`; each follows the next two (mod n).
fn users(c: &mut Connection, n: i64) {
    c.query(
        "UNWIND range(0, $n - 1) AS i CREATE (:User {id: i, age: 20 + i, name: 'u' + toString(i)})",
        &params(&[("n", Value::Int(n))]),
    )
    .unwrap();
    c.query(
        "MATCH (a:User), (b:User) WHERE b.id = (a.id + 1) % $n OR b.id = (a.id + 2) % $n \
         CREATE (a)-[:FOLLOWS {since: 2000 + a.id}]->(b)",
        &params(&[("n", Value::Int(n))]),
    )
    .unwrap();
}

/// Runs `q` prepared (twice, so the second run is by the cached plan) and unprepared, and
/// checks that all three agree; returns the rows.
fn agree(c: &mut Connection, q: &str, p: &Params) -> Vec<Vec<Value>> {
    let direct = c.query(q, p).unwrap_or_else(|e| panic!("{q}: {e}"));
    let stmt = c.prepare(q).unwrap();
    for _ in 0..2 {
        let r = c.execute(&stmt, p).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(r.columns, direct.columns, "{q}");
        assert_eq!(r.rows, direct.rows, "{q}");
    }
    direct.rows
}

#[test]
fn compiled_plans_answer_what_the_interpreter_answers() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 8);
    run(&mut c, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
    let p3 = id(3);
    let cases: &[(&str, &Params)] = &[
        ("MATCH (u:User {id: $id}) RETURN u.age", &p3),
        ("MATCH (u:User {id: $id}) RETURN u", &p3),
        (
            "MATCH (u:User {id: $id}) RETURN u.age AS a, u.name, u.id + 1 AS next",
            &p3,
        ),
        ("MATCH (u:User) WHERE u.id = $id RETURN u.name", &p3),
        (
            "MATCH (u:User) WHERE u.id > $id AND u.age < 27 RETURN u.id",
            &p3,
        ),
        ("MATCH (u:User) WHERE u.id IN [1, $id, 99] RETURN u.id", &p3),
        (
            "MATCH (a:User {id: $id})-[:FOLLOWS]->()-[:FOLLOWS]->() RETURN count(*)",
            &p3,
        ),
        (
            "MATCH (a:User {id: $id})-[:FOLLOWS]->()-[:FOLLOWS]->() RETURN count(*) AS n",
            &p3,
        ),
        (
            "MATCH (a:User {id: $id})-[r:FOLLOWS]->(b) RETURN r.since, b.id",
            &p3,
        ),
        (
            "MATCH (a:User {id: $id})<-[r]-(b) RETURN type(r), b.id",
            &p3,
        ),
        ("MATCH (a:User {id: $id})-[*1..2]->(b) RETURN b.id", &p3),
        (
            "MATCH p = (a:User {id: $id})-[:FOLLOWS]->(b) RETURN p, length(p)",
            &p3,
        ),
        (
            "MATCH (a:User {id: $id}), (b:User {id: $id + 1}) RETURN a.id, b.id",
            &p3,
        ),
        (
            "MATCH (a:User {id: $id})-->(b)-->(a2) WHERE a2 <> a RETURN b.id, a2.id",
            &p3,
        ),
        (
            "MATCH (a:User)-[:FOLLOWS]->(b:User) WHERE a.age < b.age RETURN count(*)",
            &p3,
        ),
        ("MATCH (n) RETURN count(*)", &p3),
        // Counted last hops must still never reuse a relationship of the match.
        (
            "MATCH (a:User {id: $id})-[:FOLLOWS]-()-[:FOLLOWS]-() RETURN count(*)",
            &p3,
        ),
        (
            "MATCH (a:User {id: $id})-[*1..2]-()-[]-() RETURN count(*)",
            &p3,
        ),
        (
            "MATCH (a:User {id: $id})-[r]->(), (a)-->() RETURN count(*)",
            &p3,
        ),
        (
            "MATCH (a:User {id: $id})-->(b), (b)-->() RETURN count(*)",
            &p3,
        ),
        (
            "MATCH (u:User {id: $id}) WHERE EXISTS { MATCH (u)-->() } RETURN u.id",
            &p3,
        ),
        (
            "MATCH (u:User {id: $id}) RETURN [(u)-->(x) | x.id] AS out",
            &p3,
        ),
        // Not compiled shapes: the interpreter runs them, through the same cache.
        ("MATCH (u:User {id: $id}) RETURN count(u.age)", &p3),
        ("MATCH (u:User) RETURN u.id ORDER BY u.id DESC LIMIT 2", &p3),
        ("OPTIONAL MATCH (u:User {id: $id}) RETURN u.age", &p3),
        ("MATCH (u:User {id: $id}) RETURN *", &p3),
        ("MATCH (u:User {id: $id}) RETURN DISTINCT u.age", &p3),
    ];
    for (q, p) in cases {
        let rows = agree(&mut c, q, p);
        // A count is what counting the rows of the matches gives.
        if let Some(m) = q.strip_suffix(" RETURN count(*)") {
            let unfused = format!("{m} WITH * RETURN count(*)");
            assert_eq!(rows, agree(&mut c, &unfused, p), "{q}");
        }
    }
    assert_eq!(agree(&mut c, cases[0].0, &p3), vec![vec![Value::Int(23)]]);
    // 3 -> 4 -> {5, 6}, 3 -> 5 -> {6, 7}.
    assert_eq!(agree(&mut c, cases[6].0, &p3), vec![vec![Value::Int(4)]]);
}

#[test]
fn a_plan_stays_right_when_an_index_is_created_or_dropped_between_runs() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 50);
    let lookup = c.prepare("MATCH (u:User {id: $id}) RETURN u.age").unwrap();
    let two_hop = c
        .prepare("MATCH (a:User {id: $id})-[:FOLLOWS]->()-[:FOLLOWS]->() RETURN count(*)")
        .unwrap();
    let check = |c: &mut Connection| {
        for i in [0, 17, 49] {
            let r = c.execute(&lookup, &id(i)).unwrap();
            assert_eq!(r.rows, vec![vec![Value::Int(20 + i)]]);
            let r = c.execute(&two_hop, &id(i)).unwrap();
            assert_eq!(r.rows, vec![vec![Value::Int(4)]]);
        }
        assert!(c.execute(&lookup, &id(50)).unwrap().rows.is_empty());
    };

    check(&mut c);
    let before = db.stats();
    assert!(before.label_scans > 0);
    assert_eq!(before.index_seeks, 0);

    run(&mut c, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
    check(&mut c);
    let indexed = db.stats();
    assert_eq!(
        indexed.index_seeks - before.index_seeks,
        7,
        "the new index is used"
    );
    assert_eq!(
        indexed.label_scans, before.label_scans,
        "no label scan any more"
    );

    run(&mut c, "DROP INDEX user_id");
    check(&mut c);
    let dropped = db.stats();
    assert_eq!(
        dropped.index_seeks, indexed.index_seeks,
        "the dropped index is not used"
    );
    assert!(dropped.label_scans > indexed.label_scans);

    // A uniqueness constraint's index serves the same plan.
    run(
        &mut c,
        "CREATE CONSTRAINT user_unique FOR (u:User) REQUIRE u.id IS UNIQUE",
    );
    check(&mut c);
    assert!(db.stats().index_seeks > dropped.index_seeks);
}

#[test]
fn parameter_values_of_any_type_give_what_the_unprepared_query_gives() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 5);
    run(
        &mut c,
        "CREATE (:User {id: 'x', age: 1}), (:User {id: 2.5, age: 2})",
    );
    run(&mut c, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
    let q = "MATCH (u:User {id: $id}) RETURN u.age";
    let values = [
        Value::Null,
        Value::Int(2),
        Value::Float(2.0),
        Value::Float(2.5),
        Value::String("x".into()),
        Value::String("2".into()),
        Value::Bool(true),
        Value::List(vec![Value::Int(2)]),
        Value::Map(Default::default()),
        Value::Int(i64::MAX),
        Value::Float(f64::NAN),
    ];
    for v in values {
        let p = id_value(v.clone());
        agree(&mut c, q, &p);
        agree(&mut c, "MATCH (u:User) WHERE u.id = $id RETURN u.age", &p);
        agree(&mut c, "MATCH (u:User) WHERE u.id >= $id RETURN u.age", &p);
    }
    let rows = |v: Value, c: &mut Connection| {
        let stmt = c.prepare(q).unwrap();
        c.execute(&stmt, &id_value(v)).unwrap().rows
    };
    assert_eq!(rows(Value::Float(2.0), &mut c), vec![vec![Value::Int(22)]]);
    assert_eq!(
        rows(Value::String("x".into()), &mut c),
        vec![vec![Value::Int(1)]]
    );
    assert!(rows(Value::Null, &mut c).is_empty());
    assert!(rows(Value::String("2".into()), &mut c).is_empty());

    // Missing parameter, and a property map that is not a map: the same errors as before,
    // at every run of the cached plan.
    for (q, p) in [
        (q, Params::new()),
        ("MATCH (u:User {id: $id}) RETURN u.age + $other", id(1)),
        (
            "MATCH (u:User) WHERE u.age > $nope RETURN u.id",
            Params::new(),
        ),
        (
            "MATCH (u:User {id: 1}) RETURN u.age + $id",
            id_value(Value::String("s".into())),
        ),
    ] {
        let direct = c.query(q, &p).unwrap_err();
        let stmt = c.prepare(q).unwrap();
        for _ in 0..2 {
            let e = c.execute(&stmt, &p).unwrap_err();
            assert_eq!(e, direct, "{q}");
        }
    }
    let stmt = c.prepare(q).unwrap();
    let e = c.execute(&stmt, &Params::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Semantic, "{e}");
    // A good run after failures still answers.
    assert_eq!(
        c.execute(&stmt, &id(4)).unwrap().rows,
        vec![vec![Value::Int(24)]]
    );
}

fn id_value(v: Value) -> Params {
    params(&[("id", v)])
}

#[test]
fn one_statement_runs_against_several_databases() {
    let a = mem();
    let b = mem();
    let mut ca = a.connect();
    let mut cb = b.connect();
    users(&mut ca, 4);
    // In `b` the label, type and key ids differ from `a`'s: other names come first.
    run(
        &mut cb,
        "CREATE (:Other {zz: 1})-[:LIKES]->(:Other {age: 3})",
    );
    users(&mut cb, 6);
    run(&mut cb, "MATCH (u:User) SET u.age = u.age * 10");
    run(&mut cb, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
    let stmt = ca
        .prepare("MATCH (u:User {id: $id})-[:FOLLOWS]->(v) RETURN u.age, v.id")
        .unwrap();
    let count = ca
        .prepare("MATCH (a:User {id: $id})-[:FOLLOWS]->()-[:FOLLOWS]->() RETURN count(*)")
        .unwrap();
    for _ in 0..2 {
        let r = ca.execute(&stmt, &id(3)).unwrap();
        assert_eq!(
            r.rows,
            vec![
                vec![Value::Int(23), Value::Int(0)],
                vec![Value::Int(23), Value::Int(1)]
            ]
        );
        let r = cb.execute(&stmt, &id(3)).unwrap();
        assert_eq!(
            r.rows,
            vec![
                vec![Value::Int(230), Value::Int(4)],
                vec![Value::Int(230), Value::Int(5)]
            ]
        );
        assert_eq!(
            ca.execute(&count, &id(0)).unwrap().rows,
            vec![vec![Value::Int(4)]]
        );
        assert_eq!(
            cb.execute(&count, &id(5)).unwrap().rows,
            vec![vec![Value::Int(4)]]
        );
    }
    // A database without the names at all: nothing matches, and nothing is created.
    let empty = mem();
    let mut ce = empty.connect();
    assert!(ce.execute(&stmt, &id(3)).unwrap().rows.is_empty());
    assert_eq!(
        ce.execute(&count, &id(3)).unwrap().rows,
        vec![vec![Value::Int(0)]]
    );
    // Once the names exist there, the same statement finds the new data.
    users(&mut ce, 5);
    assert_eq!(
        ce.execute(&stmt, &id(3)).unwrap().rows,
        vec![
            vec![Value::Int(23), Value::Int(0)],
            vec![Value::Int(23), Value::Int(4)]
        ]
    );
}

#[test]
fn names_created_after_the_first_run_are_found() {
    let db = mem();
    let mut c = db.connect();
    let stmt = c
        .prepare("MATCH (p:Post)-[:TAGGED]->(t:Tag) RETURN p.title, t.name")
        .unwrap();
    assert!(c.execute(&stmt, &Params::new()).unwrap().rows.is_empty());
    run(&mut c, "CREATE (:Post {title: 'a'})");
    assert!(c.execute(&stmt, &Params::new()).unwrap().rows.is_empty());
    run(
        &mut c,
        "MATCH (p:Post) CREATE (p)-[:TAGGED]->(:Tag {name: 't'})",
    );
    for _ in 0..2 {
        assert_eq!(
            c.execute(&stmt, &Params::new()).unwrap().rows,
            vec![vec![Value::String("a".into()), Value::String("t".into())]]
        );
    }
}

#[test]
fn a_plan_sees_the_open_transaction_and_its_own_writes() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 3);
    let stmt = c.prepare("MATCH (u:User {id: $id}) RETURN u.age").unwrap();
    assert_eq!(
        c.execute(&stmt, &id(1)).unwrap().rows,
        vec![vec![Value::Int(21)]]
    );
    c.begin(TxnMode::ReadWrite).unwrap();
    run(&mut c, "MATCH (u:User {id: 1}) SET u.age = 99");
    run(&mut c, "CREATE (:User {id: 7, age: 70})");
    assert_eq!(
        c.execute(&stmt, &id(1)).unwrap().rows,
        vec![vec![Value::Int(99)]]
    );
    assert_eq!(
        c.execute(&stmt, &id(7)).unwrap().rows,
        vec![vec![Value::Int(70)]]
    );
    let mut other = db.connect();
    assert_eq!(
        other.execute(&stmt, &id(1)).unwrap().rows,
        vec![vec![Value::Int(21)]]
    );
    assert!(other.execute(&stmt, &id(7)).unwrap().rows.is_empty());
    c.rollback().unwrap();
    assert_eq!(
        c.execute(&stmt, &id(1)).unwrap().rows,
        vec![vec![Value::Int(21)]]
    );
    assert!(c.execute(&stmt, &id(7)).unwrap().rows.is_empty());
}

#[test]
fn one_statement_shared_by_threads_answers_each_its_own_parameters() {
    let db = Arc::new(mem());
    {
        let mut c = db.connect();
        users(&mut c, 200);
        run(&mut c, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
    }
    let stmt = Arc::new(
        db.connect()
            .prepare("MATCH (u:User {id: $id})-[:FOLLOWS]->(v) RETURN u.age, v.id")
            .unwrap(),
    );
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = Arc::clone(&db);
            let stmt = Arc::clone(&stmt);
            std::thread::spawn(move || {
                let mut c = db.connect();
                for k in 0..300 {
                    let i = (k * 7 + t * 13) % 200;
                    let mut rows = c.execute(&stmt, &id(i)).unwrap().rows;
                    // In relationship id order, which wraps around at the last user.
                    rows.sort_by_key(|r| match r[1] {
                        Value::Int(v) => (v - i).rem_euclid(200),
                        _ => -1,
                    });
                    assert_eq!(
                        rows,
                        vec![
                            vec![Value::Int(20 + i), Value::Int((i + 1) % 200)],
                            vec![Value::Int(20 + i), Value::Int((i + 2) % 200)]
                        ],
                        "thread {t}, id {i}"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// The compiled start relies on `index_seek` returning exactly the visible nodes whose key
/// equals the value (not a superset): a changed or deleted node must not be found by its
/// old value, in this transaction or after commit.
#[test]
fn a_plan_never_returns_a_node_by_a_stale_index_entry() {
    let db = mem();
    let mut c = db.connect();
    users(&mut c, 4);
    run(&mut c, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
    let stmt = c.prepare("MATCH (u:User {id: $id}) RETURN u.age").unwrap();
    assert_eq!(
        c.execute(&stmt, &id(2)).unwrap().rows,
        vec![vec![Value::Int(22)]]
    );
    c.begin(TxnMode::ReadWrite).unwrap();
    run(&mut c, "MATCH (u:User {id: 2}) SET u.id = 20");
    run(&mut c, "MATCH (u:User {id: 3}) REMOVE u:User");
    run(&mut c, "MATCH (u:User {id: 1}) DETACH DELETE u");
    // Inside the writing transaction, then after its commit.
    for when in ["inside", "committed"] {
        for gone in [1, 2, 3] {
            assert!(
                c.execute(&stmt, &id(gone)).unwrap().rows.is_empty(),
                "{when}: {gone}"
            );
        }
        assert_eq!(
            c.execute(&stmt, &id(20)).unwrap().rows,
            vec![vec![Value::Int(22)]],
            "{when}"
        );
        if when == "inside" {
            c.commit().unwrap();
        }
    }
}
