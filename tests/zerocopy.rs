//! The base image read in place: after a checkpoint and reopen, every read comes from the
//! mapped image (or, once written, from the entity's delta entry), and must answer exactly
//! as a database that never had a base image answers after the same history. Each test runs
//! the same statements on a reopened file database and on an in-memory model and compares
//! everything a reader can observe. Each test prints what it checked.

use std::path::Path;

use graphdb::api::Value;
use graphdb::{Database, ErrorKind, Options, Params, TxnMode};

#[path = "support/base_image.rs"]
mod base_image;
#[path = "support/rng.rs"]
mod rng;
use base_image::{base_file, reseal, retype, section};
use rng::Rng;

fn opts() -> Options {
    let mut o = Options::new();
    o.set("sync", "off").unwrap();
    o.set("checkpoint_wal_bytes", "0").unwrap();
    o
}

fn p() -> Params {
    Params::new()
}

fn int(k: &str, v: i64) -> Params {
    [(k.to_string(), Value::Int(v))].into_iter().collect()
}

fn rows(db: &Database, q: &str, params: &Params) -> Vec<Vec<Value>> {
    db.connect()
        .query(q, params)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .rows
}

/// Runs `q` on both databases; both must succeed or fail with the same kind.
fn both(a: &Database, b: &Database, q: &str, params: &Params) {
    let ra = a.connect().query(q, params).map(|r| r.rows);
    let rb = b.connect().query(q, params).map(|r| r.rows);
    match (ra, rb) {
        (Ok(x), Ok(y)) => assert_eq!(x, y, "{q}: different results"),
        (Err(x), Err(y)) => assert_eq!(x.kind(), y.kind(), "{q}: {x} / {y}"),
        (x, y) => panic!("{q}: one failed: {:?} / {:?}", x.err(), y.err()),
    }
}

/// Everything a reader can observe, per node: labels, properties (whole and one by one),
/// adjacency in each direction (all types and one type), plus label scans, an index seek
/// and relationship properties.
fn observe(db: &Database) -> Vec<String> {
    let mut out = Vec::new();
    let n = rows(db, "MATCH (n) RETURN max(id(n)) AS m", &p());
    let max = match n[0][0] {
        Value::Int(m) => m,
        _ => -1,
    };
    let per_node = [
        "MATCH (n) WHERE id(n) = $i RETURN labels(n), properties(n), n.i, n.s, n.l, n.missing",
        "MATCH (n)-[r]->(m) WHERE id(n) = $i RETURN id(r), type(r), id(m), properties(r)",
        "MATCH (n)<-[r]-(m) WHERE id(n) = $i RETURN id(r), type(r), id(m), r.w",
        "MATCH (n)-[r]-(m) WHERE id(n) = $i RETURN id(r), id(m)",
        "MATCH (n)-[r:R]->(m) WHERE id(n) = $i RETURN id(r), id(m)",
        "MATCH (n)<-[r:S]-(m) WHERE id(n) = $i RETURN id(r), id(m)",
        "MATCH (n)-[:R]->()-[:S|R]->(x) WHERE id(n) = $i RETURN count(x)",
    ];
    for i in 0..=max + 1 {
        for q in per_node {
            out.push(format!("{q} @{i}: {:?}", rows(db, q, &int("i", i))));
        }
    }
    for q in [
        "MATCH (n:A) RETURN id(n) ORDER BY id(n)",
        "MATCH (n:B) RETURN id(n), n.i ORDER BY id(n)",
        "MATCH (n:C) RETURN count(n)",
        "MATCH (n:A {i: 7}) RETURN id(n)",
        "MATCH (a:A)-[r:R]->(c:C) WHERE a.i < c.i + 1 RETURN count(*)",
        "MATCH ()-[r]->() RETURN id(r), r.w ORDER BY id(r)",
        "MATCH (n) RETURN count(n)",
    ] {
        out.push(format!("{q}: {:?}", rows(db, q, &p())));
    }
    out
}

fn assert_same(disk: &Database, model: &Database, what: &str) {
    let (a, b) = (observe(disk), observe(model));
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{what}");
    }
}

/// The shared history: labels, every property kind, two relationship types, self-loops,
/// updates and deletions, a rolled-back creation (ids are consumed the same way).
fn history(db: &Database) {
    let mut c = db.connect();
    for i in 0..24 {
        c.query(
            "CREATE (a:A {i: $i, s: 'text ' + toString($i), l: [1, 2.5, 'x'], f: 0.5, b: true})\
             -[:R {w: $i}]->(c:C {i: $i})",
            &int("i", i),
        )
        .unwrap();
        if i % 3 == 0 {
            c.query("MATCH (a:A {i: $i}) SET a:B, a.s = 'changed'", &int("i", i))
                .unwrap();
        }
        if i % 4 == 1 {
            c.query(
                "MATCH (a:A {i: $i}), (c:C {i: $j}) CREATE (c)-[:S {w: 100 + $i}]->(a)",
                &[
                    ("i".to_string(), Value::Int(i)),
                    ("j".to_string(), Value::Int(i - 1)),
                ]
                .into_iter()
                .collect(),
            )
            .unwrap();
        }
        if i % 5 == 2 {
            c.query("MATCH (c:C {i: $i}) DETACH DELETE c", &int("i", i))
                .unwrap();
        }
        if i % 7 == 3 {
            c.query(
                "MATCH (a:A {i: $i}) CREATE (a)-[:S {w: -1}]->(a)",
                &int("i", i),
            )
            .unwrap();
        }
    }
    c.begin(TxnMode::ReadWrite).unwrap();
    c.query("CREATE (:A {i: 999})-[:R]->(:C)", &p()).unwrap();
    c.rollback().unwrap();
    c.query("CREATE INDEX a_i FOR (n:A) ON (n.i)", &p())
        .unwrap();
}

/// A file database with `history` in its base image (checkpointed and reopened), and an
/// in-memory model with the same history.
fn pair(dir: &Path) -> (Database, Database) {
    let path = dir.join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts()).unwrap();
    history(&db);
    db.checkpoint().unwrap();
    drop(db);
    let disk = Database::open(path, &opts()).unwrap();
    let model = Database::open(":memory:", &opts()).unwrap();
    history(&model);
    (disk, model)
}

fn reopen(db: Database, dir: &Path) -> Database {
    drop(db);
    Database::open(dir.join("db").to_str().unwrap(), &opts()).unwrap()
}

#[test]
fn base_only_reads_equal_the_in_memory_model() {
    let t = tempfile::tempdir().unwrap();
    let (disk, model) = pair(t.path());
    assert_same(&disk, &model, "reopened on the base image");
    // Nothing was read into the delta: no versions held.
    assert_eq!(
        disk.stats().versions_retained,
        0,
        "base reads materialize nothing"
    );
    println!("base-only reads: every node, relationship, property and adjacency as the model");
}

#[test]
fn writes_to_base_entities_and_their_rollback_match_the_model() {
    let t = tempfile::tempdir().unwrap();
    let (disk, model) = pair(t.path());
    let steps: &[&str] = &[
        "MATCH (a:A {i: 4}) SET a.s = 'set', a.new = [1, 2]",
        "MATCH (a:A {i: 5}) REMOVE a.s, a.l",
        "MATCH (a:A {i: 6}) SET a:Z REMOVE a:A",
        "MATCH (a:B {i: 9}) REMOVE a:B",
        "MATCH (c:C {i: 8}) DELETE c",
        "MATCH (a:A {i: 10}) DETACH DELETE a",
        "MATCH (a:A {i: 11}), (b:A {i: 12}) CREATE (a)-[:S {w: 7}]->(b)",
        "MATCH (a:A {i: 13}) CREATE (a)-[:R {w: 8}]->(:C {i: 50})",
        "MATCH (a:A {i: 14})-[r:R]->() SET r.w = 1400",
        "MATCH (a:A {i: 15})-[r:R]->() DELETE r",
        "MATCH (a:A {i: 16}) SET a = {i: 16, only: true}",
        "MATCH (a:A {i: 3}) DELETE a",
    ];
    for q in steps {
        both(&disk, &model, q, &p());
    }
    assert_same(&disk, &model, "after writes to base entities");

    // Rolled back writes to other base entities leave no trace.
    for db in [&disk, &model] {
        let mut c = db.connect();
        c.begin(TxnMode::ReadWrite).unwrap();
        for q in [
            "MATCH (a:A {i: 17}) SET a.s = 'gone', a:Y",
            "MATCH (a:A {i: 18}) DETACH DELETE a",
            "MATCH (a:A {i: 19}), (b:A {i: 20}) CREATE (a)-[:R]->(b)",
            "MATCH (a:A {i: 21})-[r]->() SET r.w = 0",
        ] {
            c.query(q, &p()).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
        c.rollback().unwrap();
    }
    assert_same(&disk, &model, "after rolled back writes");

    // A checkpoint writes base + delta as it stands; reopened, still the same.
    disk.checkpoint().unwrap();
    let disk = reopen(disk, t.path());
    assert_same(
        &disk,
        &model,
        "after a checkpoint of the modified base and a reopen",
    );
    // And the log after a base replays onto base entities.
    for q in [
        "MATCH (a:A {i: 20}) SET a.s = 'logged'",
        "MATCH (a:A {i: 22}) DETACH DELETE a",
        "MATCH (a:A {i: 23}) CREATE (a)<-[:S {w: 9}]-(:C {i: 60})",
    ] {
        both(&disk, &model, q, &p());
    }
    let disk = reopen(disk, t.path());
    assert_same(&disk, &model, "after replaying the log onto the base");
    println!(
        "{} writes to base entities, 4 rolled back, a checkpoint and two reopens: as the model",
        steps.len()
    );
}

#[test]
fn two_writers_of_one_base_node_conflict_and_old_snapshots_keep_the_base_version() {
    let t = tempfile::tempdir().unwrap();
    let (disk, _model) = pair(t.path());
    let mut before = disk.connect();
    before.begin(TxnMode::ReadOnly).unwrap();
    let mut a = disk.connect();
    let mut b = disk.connect();
    a.begin(TxnMode::ReadWrite).unwrap();
    b.begin(TxnMode::ReadWrite).unwrap();
    a.query("MATCH (n:A {i: 7}) SET n.s = 'a'", &p()).unwrap();
    let e = b
        .query("MATCH (n:A {i: 7}) SET n.s = 'b'", &p())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    // A relationship write on a base relationship conflicts the same way.
    let mut c = disk.connect();
    let mut d = disk.connect();
    c.begin(TxnMode::ReadWrite).unwrap();
    d.begin(TxnMode::ReadWrite).unwrap();
    c.query("MATCH (:A {i: 8})-[r:R]->() SET r.w = 1", &p())
        .unwrap();
    let e = d
        .query("MATCH (:A {i: 8})-[r:R]->() DELETE r", &p())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    a.commit().unwrap();
    c.commit().unwrap();
    let s = |conn: &mut graphdb::Connection| {
        conn.query("MATCH (n:A {i: 7}) RETURN n.s", &p())
            .unwrap()
            .rows
    };
    assert_eq!(s(&mut before), vec![vec![Value::String("text 7".into())]]);
    let w = |conn: &mut graphdb::Connection| {
        conn.query("MATCH (:A {i: 8})-[r:R]->() RETURN r.w", &p())
            .unwrap()
            .rows
    };
    assert_eq!(w(&mut before), vec![vec![Value::Int(8)]]);
    // Deleting the base node while the old reader still runs: it keeps seeing it.
    disk.connect()
        .query("MATCH (n:A {i: 7}) DETACH DELETE n", &p())
        .unwrap();
    assert_eq!(s(&mut before), vec![vec![Value::String("text 7".into())]]);
    before.commit().unwrap();
    let mut after = disk.connect();
    assert_eq!(s(&mut after), Vec::<Vec<Value>>::new());
    assert_eq!(w(&mut after), vec![vec![Value::Int(1)]]);
    println!(
        "base node and relationship: first writer wins; an old snapshot keeps the base version"
    );
}

#[test]
fn constraints_and_indexes_cover_base_nodes() {
    let t = tempfile::tempdir().unwrap();
    let (disk, model) = pair(t.path());
    // The index on A.i was rebuilt from the image at open.
    for db in [&disk, &model] {
        let r = rows(db, "EXPLAIN MATCH (n:A {i: 7}) RETURN n", &p());
        assert!(format!("{r:?}").contains("NodeIndexSeek"), "{r:?}");
    }
    both(&disk, &model, "MATCH (n:A {i: 7}) RETURN id(n)", &p());
    // A uniqueness constraint checks base nodes, both when created and on later writes.
    both(&disk, &model, "CREATE (:C {i: 1})", &p());
    both(
        &disk,
        &model,
        "CREATE CONSTRAINT c_i FOR (n:C) REQUIRE n.i IS UNIQUE",
        &p(),
    );
    both(
        &disk,
        &model,
        "MATCH (n:C {i: 1}) WITH n ORDER BY id(n) DESC LIMIT 1 DELETE n",
        &p(),
    );
    both(
        &disk,
        &model,
        "CREATE CONSTRAINT c_i FOR (n:C) REQUIRE n.i IS UNIQUE",
        &p(),
    );
    for (db, what) in [(&model, "model"), (&disk, "base")] {
        let e = db
            .connect()
            .query("CREATE (:C {i: 4})", &p())
            .map(|r| r.stats)
            .expect_err(what);
        assert_eq!(e.kind(), ErrorKind::ConstraintViolation, "{what}: {e}");
    }
    both(&disk, &model, "MATCH (n:C {i: 5}) SET n.i = 6", &p());
    both(&disk, &model, "MATCH (n:C {i: 5}) SET n.i = 500", &p());
    assert_same(&disk, &model, "after constraint checks against base nodes");
    println!("index rebuilt from the image; uniqueness checked against base nodes");
}

/// An index seek takes a base node with no delta entry as it is filed (no re-check); once
/// written, the node is checked again. Every seek must answer as the model does, through
/// changed, removed and restored keys, a removed label, a deletion, a rollback, and for a
/// snapshot taken before the writes.
#[test]
fn index_seeks_on_base_nodes_follow_their_writes() {
    let t = tempfile::tempdir().unwrap();
    let (disk, model) = pair(t.path());
    let seeks = |what: &str| {
        for i in [1, 2, 4, 5, 6, 8, 9, 10, 11, 500, 999] {
            for q in [
                "MATCH (n:A {i: $i}) RETURN id(n), n.s",
                "MATCH (n:A) WHERE n.i = $i RETURN id(n)",
                "MATCH (n:A) WHERE n.i >= $i AND n.i < $i + 2 RETURN id(n) ORDER BY id(n)",
            ] {
                let (a, b) = (rows(&disk, q, &int("i", i)), rows(&model, q, &int("i", i)));
                assert_eq!(a, b, "{what}: {q} @{i}");
            }
        }
        // A float equal to an integer key is the same key.
        let q = "MATCH (n:A {i: 4.0}) RETURN id(n)";
        assert_eq!(rows(&disk, q, &p()), rows(&model, q, &p()), "{what}: {q}");
    };
    seeks("base only");
    let mut old = disk.connect();
    old.begin(TxnMode::ReadOnly).unwrap();
    let seen =
        |c: &mut graphdb::Connection| c.query("MATCH (n:A {i: 4}) RETURN n.s", &p()).unwrap().rows;
    let before = seen(&mut old);
    assert_eq!(before.len(), 1, "{before:?}");
    for q in [
        "MATCH (n:A {i: 4}) SET n.i = 500",
        "MATCH (n:A {i: 5}) SET n.i = 6",
        "MATCH (n:A {i: 8}) REMOVE n:A",
        "MATCH (n:A {i: 10}) DETACH DELETE n",
        "MATCH (n:A {i: 11}) SET n.i = 12 SET n.i = 11",
    ] {
        both(&disk, &model, q, &p());
    }
    for db in [&disk, &model] {
        let mut c = db.connect();
        c.begin(TxnMode::ReadWrite).unwrap();
        c.query("MATCH (n:A {i: 9}) SET n.i = 900", &p()).unwrap();
        c.rollback().unwrap();
    }
    seeks("after writes to base nodes");
    assert_eq!(seen(&mut old), before, "the old snapshot keeps key 4");
    old.commit().unwrap();
    assert!(seen(&mut disk.connect()).is_empty());
    assert_same(&disk, &model, "after writes to indexed base nodes");
    println!("index seeks on base nodes: written ones re-checked, old snapshots keep theirs");
}

/// Index contents read in place from the image's index section: every seek must answer as
/// the model's index and as a plain scan do, for several indexes at once — two labels
/// indexed on one key (nodes with both), a string key, a list key, a key no node has, a
/// label no node has — and with log records replayed on top of the base.
#[test]
fn indexes_read_from_the_image_answer_as_the_model() {
    indexes_at_open_answer_as_the_model(true);
}

/// The same for an image without the index section (as written before it existed): the
/// contents are gathered while the image's nodes are checked at open.
#[test]
fn indexes_gathered_at_open_answer_as_the_model() {
    indexes_at_open_answer_as_the_model(false);
}

/// Kind of the property-index section (src/checkpoint/format.rs), and a kind no reader
/// knows (the section renamed to it is skipped, as by a reader predating it).
const PROP_INDEXES: u32 = 20;
const UNKNOWN_KIND: u32 = 63;

/// Makes the image in database directory `dir` one without the index section.
fn strip_index_section(dir: &Path) {
    let base = base_file(dir);
    let mut img = std::fs::read(&base).unwrap();
    retype(&mut img, PROP_INDEXES, UNKNOWN_KIND);
    std::fs::write(&base, &img).unwrap();
}

fn keys_in_memory(db: &Database) -> u64 {
    db.stats().index_keys_in_memory
}

fn indexes_at_open_answer_as_the_model(in_image: bool) {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let defs = [
        "CREATE INDEX b_i FOR (n:B) ON (n.i)",
        "CREATE INDEX a_s FOR (n:A) ON (n.s)",
        "CREATE INDEX a_l FOR (n:A) ON (n.l)",
        "CREATE INDEX a_missing FOR (n:A) ON (n.missing)",
        "CREATE INDEX z_i FOR (n:Z) ON (n.i)",
        "CREATE CONSTRAINT c_i FOR (n:C) REQUIRE n.i IS UNIQUE",
    ];
    let setup = |db: &Database| {
        history(db);
        for q in defs {
            db.connect().query(q, &p()).unwrap();
        }
    };
    let db = Database::open(path, &opts()).unwrap();
    setup(&db);
    db.checkpoint().unwrap();
    drop(db);
    if !in_image {
        strip_index_section(&t.path().join("db"));
    }
    let model = Database::open(":memory:", &opts()).unwrap();
    setup(&model);
    let after = [
        "MATCH (a:A {i: 6}) SET a.i = 60, a.s = 'moved'",
        "MATCH (a:A {i: 9}) DETACH DELETE a",
        "CREATE (:A:B {i: 7, s: 'text 7', l: [1, 2.5, 'x']})",
    ];
    let seeks = [
        "MATCH (n:A {i: 7}) RETURN id(n) ORDER BY id(n)",
        "MATCH (n:B {i: 12}) RETURN id(n) ORDER BY id(n)",
        "MATCH (n:B) WHERE n.i >= 3 AND n.i < 13 RETURN id(n) ORDER BY id(n)",
        "MATCH (n:A {s: 'changed'}) RETURN id(n) ORDER BY id(n)",
        "MATCH (n:A {s: 'text 7'}) RETURN id(n) ORDER BY id(n)",
        "MATCH (n:A) WHERE n.s >= 'text 1' AND n.s < 'text 2' RETURN id(n) ORDER BY id(n)",
        "MATCH (n:A {l: [1, 2.5, 'x']}) RETURN count(n)",
        "MATCH (n:A {missing: 1}) RETURN count(n)",
        "MATCH (n:Z {i: 1}) RETURN count(n)",
        "MATCH (n:C {i: 4}) RETURN id(n)",
        "MATCH (n:A {i: 60}) RETURN id(n), n.s",
    ];
    for round in 0..2 {
        let disk = Database::open(path, &opts()).unwrap();
        if round == 0 {
            // Read in place: nothing filed in memory; otherwise built at open.
            assert_eq!(keys_in_memory(&disk) == 0, in_image, "keys in memory");
        }
        for q in [seeks[0], seeks[1], seeks[3], seeks[9]] {
            let plan = rows(&disk, &format!("EXPLAIN {q}"), &p());
            assert!(
                format!("{plan:?}").contains("NodeIndexSeek"),
                "{q}: {plan:?}"
            );
        }
        for q in seeks {
            both(&disk, &model, q, &p());
            // The same question answered by a scan (the index is not used for `id(n) >= 0`
            // alone, so the property test filters label-scanned nodes).
            let scan = q.replacen(
                "MATCH (n:",
                "MATCH (n) WHERE id(n) >= 0 WITH n MATCH (n:",
                1,
            );
            both(&disk, &model, &scan, &p());
            assert_eq!(
                rows(&disk, q, &p()),
                rows(&disk, &scan, &p()),
                "{q}: seek vs scan"
            );
        }
        let e = disk
            .connect()
            .query("CREATE (:C {i: 4})", &p())
            .map(|r| r.stats);
        assert_eq!(
            e.expect_err("a duplicate of a base node's key").kind(),
            ErrorKind::ConstraintViolation
        );
        if round == 0 {
            // Log records on top of the base for the second open.
            for q in after {
                both(&disk, &model, q, &p());
            }
        }
    }
    println!(
        "{} seeks over 6 indexes (in the image: {in_image}) equal the model and scans",
        seeks.len()
    );
}

/// Ids handed out before a checkpoint but committed after it are slots the image holds as
/// not live; the log creates them on reopen.
#[test]
fn creations_committed_after_the_checkpoint_snapshot_replay_into_base_slots() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let model = Database::open(":memory:", &opts()).unwrap();
    let db = Database::open(path, &opts()).unwrap();
    for d in [&db, &model] {
        both(d, d, "CREATE (:A {i: 1})-[:R {w: 1}]->(:C {i: 1})", &p());
    }
    let mut w = db.connect();
    w.begin(TxnMode::ReadWrite).unwrap();
    w.query(
        "MATCH (a:A {i: 1}) CREATE (a)-[:S {w: 2}]->(:C {i: 2}), (a)-[:R {w: 3}]->(a)",
        &p(),
    )
    .unwrap();
    db.checkpoint().unwrap();
    w.commit().unwrap();
    drop(w);
    model
        .connect()
        .query(
            "MATCH (a:A {i: 1}) CREATE (a)-[:S {w: 2}]->(:C {i: 2}), (a)-[:R {w: 3}]->(a)",
            &p(),
        )
        .unwrap();
    let db = reopen(db, t.path());
    assert_same(&db, &model, "creations committed after the checkpoint");
    println!("ids taken before a checkpoint and committed after it replay into base slots");
}

/// An import into a database opened on a base image attaches relationships to base nodes
/// (found by property) as Cypher would; a refused import changes nothing.
#[test]
fn import_into_a_database_with_a_base_attaches_to_base_nodes() {
    use graphdb::import::{IdType, ImportSpec, RelFile};
    let t = tempfile::tempdir().unwrap();
    let (disk, model) = pair(t.path());
    let csv = t.path().join("f.csv");
    let pairs = [(1, 2, 7), (2, 1, 8), (3, 3, 9), (5, 23, 10)];
    let text: String = pairs
        .iter()
        .map(|(a, b, w)| format!("{a},{b},{w}\n"))
        .collect();
    std::fs::write(&csv, text).unwrap();
    let spec = |path: &Path| ImportSpec {
        relationships: vec![RelFile {
            path: path.to_owned(),
            rel_type: "F".into(),
            columns: Some(vec![
                ":START_ID(A)".into(),
                ":END_ID(A)".into(),
                "w:int".into(),
            ]),
        }],
        id_type: IdType::Int,
        id_property: "i".into(),
        ..ImportSpec::default()
    };
    // Refused (no node A {i: 777}): nothing changes.
    let bad = t.path().join("bad.csv");
    std::fs::write(&bad, "1,2,3\n1,777,4\n").unwrap();
    disk.import(&spec(&bad)).unwrap_err();
    assert_same(&disk, &model, "after a refused import");
    assert_eq!(disk.import(&spec(&csv)).unwrap().relationships, 4);
    for (a, b, w) in pairs {
        model
            .connect()
            .query(
                &format!(
                    "MATCH (a:A {{i: {a}}}), (b:A {{i: {b}}}) CREATE (a)-[:F {{w: {w}}}]->(b)"
                ),
                &p(),
            )
            .unwrap();
    }
    assert_same(&disk, &model, "after an import onto base nodes");
    let disk = reopen(disk, t.path());
    assert_same(&disk, &model, "after an import onto base nodes, reopened");
    println!("import onto base nodes: as Cypher; a refused one changes nothing; durable");
}

/// Damage an in-place reader would only meet later (in a section whose checksums are made
/// to match, as a writer bug would leave it) is found by the full check: at open with
/// `verify_on_open`, else by `CHECK` / `Database::check` (after which every statement
/// fails too): CORRUPT naming the file, the offset and the section, never a panic.
#[test]
fn damage_with_valid_checksums_is_refused_by_the_full_check() {
    const NODE_FLAGS: u32 = 2;
    const NODE_LABEL_OFFSETS: u32 = 3;
    const NODE_LABELS: u32 = 4;
    const NODE_PROPS: u32 = 6;
    const REL_FLAGS: u32 = 7;
    const REL_END: u32 = 9;
    const REL_TYPE: u32 = 10;
    const REL_PROPS: u32 = 12;
    const PROP_INDEXES: u32 = 20;
    let t = tempfile::tempdir().unwrap();
    let (disk, _model) = pair(t.path());
    let expected = observe(&disk);
    drop(disk);
    let dir = t.path().join("db");
    let base = base_file(&dir);
    let pristine = std::fs::read(&base).unwrap();
    let edit = |kind: u32, at: usize, bytes: &[u8]| {
        let mut img = pristine.clone();
        let (off, len, _) = section(&img, kind);
        assert!(at + bytes.len() <= len);
        img[off + at..off + at + bytes.len()].copy_from_slice(bytes);
        reseal(&mut img, kind);
        img
    };
    let (_, heap_len, _) = section(&pristine, NODE_PROPS);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a node flag of 2", edit(NODE_FLAGS, 0, &[2]), "node flags"),
        (
            "a label offset past the label list",
            edit(NODE_LABEL_OFFSETS, 8, &u64::MAX.to_le_bytes()),
            "node label offsets",
        ),
        (
            "an unknown label",
            edit(NODE_LABELS, 0, &1000u32.to_le_bytes()),
            "node labels",
        ),
        (
            "a property list with an unknown value tag",
            edit(NODE_PROPS, heap_len - 4, &[0xEE; 4]),
            "node properties",
        ),
        (
            "a relationship flag of 7",
            edit(REL_FLAGS, 0, &[7]),
            "relationship flags",
        ),
        (
            "a relationship ending at no node",
            edit(REL_END, 0, &1_000_000u64.to_le_bytes()),
            "relationship flags",
        ),
        (
            "an unknown relationship type",
            edit(REL_TYPE, 0, &99u32.to_le_bytes()),
            "relationship flags",
        ),
        (
            "a relationship property list cut short",
            edit(REL_PROPS, 0, &[9]),
            "relationship properties",
        ),
        (
            "an index hash table whose size is not a power of two",
            edit(PROP_INDEXES, 8 + 16, &7u64.to_le_bytes()),
            "property indexes",
        ),
        (
            "an index directory longer than its section",
            edit(PROP_INDEXES, 0, &u64::MAX.to_le_bytes()),
            "property indexes",
        ),
    ];
    let path = dir.to_str().unwrap();
    let mut verify = opts();
    verify.set("verify_on_open", "true").unwrap();
    let named = |what: &str, e: &graphdb::Error, section_name: &str| {
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        let m = e.message();
        assert!(
            m.contains(&base.display().to_string())
                && m.contains("offset")
                && m.contains(section_name),
            "{what}: {e}"
        );
    };
    for (what, img, section_name) in cases {
        std::fs::write(&base, &img).unwrap();
        let e = Database::open(path, &verify)
            .err()
            .unwrap_or_else(|| panic!("{what}: opened with verify_on_open"));
        named(what, &e, section_name);
        if section_name == "property indexes" {
            // The index directory's shape is checked at every open (its cost does not grow
            // with the index).
            let e = Database::open(path, &opts())
                .err()
                .unwrap_or_else(|| panic!("{what}: opened"));
            named(what, &e, section_name);
            continue;
        }
        // Without the option the open trusts what passes its checksums; the check finds it.
        let db = Database::open(path, &opts()).unwrap();
        let e = db.connect().query("CHECK", &p()).unwrap_err();
        named(what, &e, section_name);
        let e = db.check().unwrap_err();
        named(what, &e, section_name);
        let e = db
            .connect()
            .query("MATCH (n) RETURN count(n)", &p())
            .unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::Corrupt,
            "{what}: a statement after CHECK: {e}"
        );
        let e = db
            .connect()
            .query("CREATE CONSTRAINT u FOR (n:C) REQUIRE n.i IS UNIQUE", &p())
            .unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::Corrupt,
            "{what}: a schema change after CHECK: {e}"
        );
    }
    std::fs::write(&base, &pristine).unwrap();
    let db = Database::open(path, &opts()).unwrap();
    assert_eq!(observe(&db), expected, "the pristine image again");
    db.check().unwrap();
    db.connect().query("CHECK", &p()).unwrap();
    drop(db);
    let db = Database::open(path, &verify).unwrap();
    assert_eq!(
        observe(&db),
        expected,
        "the pristine image, verified at open"
    );
    println!(
        "10 kinds of damage behind valid checksums: CORRUPT from verify_on_open and from \
         CHECK (2 in the index directory at every open), naming the section"
    );
}

/// An index key of any seekable kind, from a small domain so that keys repeat: integers,
/// floats equal to them, other floats, strings, booleans and lists.
fn key_value(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0..=2 => Value::Int(rng.below(20) as i64 - 5),
        3 => Value::Float(rng.below(20) as f64 - 5.0),
        4 => Value::Float(rng.below(20) as f64 / 4.0),
        5 => Value::String(format!("s{}", rng.below(12))),
        6 => Value::Bool(rng.below(2) == 1),
        _ => Value::List(vec![
            Value::Int(rng.below(3) as i64),
            Value::String("x".into()),
        ]),
    }
}

fn params(pairs: &[(&str, Value)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Seeks (equality, ranges over numbers and strings, IN lists, on the index built before
/// the image and on one created after it) and the same questions answered by a scan; on
/// `c`, in whatever transaction it has open.
fn seek_and_scan(c: &mut graphdb::Connection, rng_seed: u64) -> Vec<(String, Vec<Vec<Value>>)> {
    let mut rng = Rng(rng_seed);
    let mut probes: Vec<(String, Params)> = Vec::new();
    for _ in 0..12 {
        let v = key_value(&mut rng);
        probes.push(("n.v = $a".into(), params(&[("a", v)])));
    }
    for (lo, hi) in [
        (Value::Int(-2), Value::Float(3.5)),
        (Value::Float(0.25), Value::Int(9)),
    ] {
        probes.push((
            "n.v >= $a AND n.v < $b".into(),
            params(&[("a", lo), ("b", hi)]),
        ));
    }
    probes.push((
        "n.v > $a AND n.v <= $b".into(),
        params(&[
            ("a", Value::String("s1".into())),
            ("b", Value::String("s5".into())),
        ]),
    ));
    probes.push(("n.v < $a".into(), params(&[("a", Value::Int(0))])));
    probes.push(("n.v >= $a".into(), params(&[("a", Value::Bool(true))])));
    let list = Value::List((0..5).map(|_| key_value(&mut rng)).collect());
    probes.push(("n.v IN $a".into(), params(&[("a", list)])));
    probes.push(("n.v = date({year: 2020, month: 1, day: 2})".into(), p()));
    probes.push(("n.v = datetime('2020-01-01T02:00:00+01:00')".into(), p()));
    probes.push(("n.u = $a".into(), params(&[("a", Value::Int(7))])));
    probes.push(("n.w = $a".into(), params(&[("a", Value::Int(3))])));
    probes.push(("n.w >= $a".into(), params(&[("a", Value::Int(15))])));
    let mut out = Vec::new();
    for (cond, ps) in probes {
        let seek = format!("MATCH (n:P) WHERE {cond} RETURN id(n) ORDER BY id(n)");
        let scan = format!(
            "MATCH (n) WHERE id(n) >= 0 WITH n MATCH (n:P) WHERE {cond} RETURN id(n) ORDER BY id(n)"
        );
        let a = c
            .query(&seek, &ps)
            .unwrap_or_else(|e| panic!("{seek}: {e}"))
            .rows;
        let b = c
            .query(&scan, &ps)
            .unwrap_or_else(|e| panic!("{scan}: {e}"))
            .rows;
        assert_eq!(a, b, "{seek} {ps:?}: seek vs scan");
        out.push((format!("{seek} {ps:?}"), a));
    }
    out
}

/// Differential: a random history on nodes of the image (updates, key removals, label
/// removals, deletions, new nodes, rolled-back writes, uniqueness clashes), an index created
/// after the image and one dropped and re-created; after each step every seek must equal a
/// scan, on a database whose indexes are read from the image and on one whose image lacks
/// the section (built at open) alike, and a snapshot taken before the writes keeps its
/// answers.
#[test]
fn index_seeks_equal_scans_through_random_histories_with_and_without_the_section() {
    let t = tempfile::tempdir().unwrap();
    let open = |name: &str| {
        let path = t.path().join(name);
        Database::open(path.to_str().unwrap(), &opts()).unwrap()
    };
    let mut rng = Rng(0x5EED);
    let setup: Vec<(String, Params)> = (0..200)
        .map(|i| {
            let q = match i % 7 {
                // No key at all, or the label not indexed.
                0 => "CREATE (:P {u: $i, w: $i % 20})",
                1 => "CREATE (:Q {v: $v, u: $i})",
                2 => "CREATE (:P:Q {v: $v, u: $i, w: $i % 20})",
                // Temporal keys: one instant in two zones is one key.
                3 if i % 2 == 0 => {
                    "CREATE (:P {v: date({year: 2020, month: 1, day: $i % 5 + 1}), u: $i})"
                }
                3 => {
                    "CREATE (:P {v: datetime({year: 2020, month: 1, day: 1, hour: $i % 3, \
                     timezone: CASE $i % 4 WHEN 1 THEN 'Z' ELSE '+01:00' END}), u: $i})"
                }
                _ => "CREATE (:P {v: $v, u: $i, w: $i % 20})",
            };
            (
                q.to_string(),
                params(&[("i", Value::Int(i)), ("v", key_value(&mut rng))]),
            )
        })
        .collect();
    let dbs: Vec<Database> = ["in_image", "built"]
        .iter()
        .map(|name| {
            let db = open(name);
            let mut c = db.connect();
            c.query("CREATE INDEX p_v FOR (n:P) ON (n.v)", &p())
                .unwrap();
            c.query(
                "CREATE CONSTRAINT p_u FOR (n:P) REQUIRE n.u IS UNIQUE",
                &p(),
            )
            .unwrap();
            for (q, ps) in &setup {
                c.query(q, ps).unwrap();
            }
            drop(c);
            db.checkpoint().unwrap();
            drop(db);
            if *name == "built" {
                strip_index_section(&t.path().join(name));
            }
            open(name)
        })
        .collect();
    assert_eq!(keys_in_memory(&dbs[0]), 0, "read from the image");
    assert!(keys_in_memory(&dbs[1]) > 0, "built at open");
    let explain = rows(&dbs[0], "EXPLAIN MATCH (n:P) WHERE n.v = 1 RETURN n", &p());
    assert!(
        format!("{explain:?}").contains("NodeIndexSeek"),
        "{explain:?}"
    );
    // Snapshots taken before any write.
    let mut old: Vec<graphdb::Connection> = dbs.iter().map(|d| d.connect()).collect();
    for c in &mut old {
        c.begin(TxnMode::ReadOnly).unwrap();
    }
    let before: Vec<_> = old.iter_mut().map(|c| seek_and_scan(c, 1)).collect();
    assert_eq!(before[0], before[1]);
    for probe in ["date(", "datetime("] {
        let found = before[0].iter().find(|(q, _)| q.contains(probe)).unwrap();
        assert!(found.1.len() >= 2, "{found:?}: temporal keys are exercised");
    }
    let mut clashes = 0;
    for step in 0..8 {
        let mut ops: Vec<(String, Params, bool)> = Vec::new();
        for _ in 0..25 {
            let id = Value::Int(rng.below(230) as i64);
            let v = key_value(&mut rng);
            let (q, rollback) = match rng.below(10) {
                0..=3 => ("MATCH (n) WHERE id(n) = $id SET n.v = $v", false),
                4 => ("MATCH (n) WHERE id(n) = $id REMOVE n.v", false),
                5 => ("MATCH (n) WHERE id(n) = $id REMOVE n:P", false),
                6 => ("MATCH (n) WHERE id(n) = $id DETACH DELETE n", false),
                7 => ("CREATE (:P {v: $v, w: 3})", false),
                8 => ("MATCH (n) WHERE id(n) = $id SET n.v = $v, n:P", true),
                // A uniqueness clash with another node (base or new), or a freed value.
                _ => (
                    "MATCH (n) WHERE id(n) = $id SET n.u = toInteger($id) % 40",
                    false,
                ),
            };
            ops.push((q.to_string(), params(&[("id", id), ("v", v)]), rollback));
        }
        if step == 3 {
            ops.push(("CREATE INDEX p_w FOR (n:P) ON (n.w)".into(), p(), false));
        }
        if step == 5 {
            ops.push(("DROP INDEX p_v".into(), p(), false));
        }
        if step == 6 {
            ops.push(("CREATE INDEX p_v FOR (n:P) ON (n.v)".into(), p(), false));
        }
        let mut outcomes: Vec<Vec<String>> = Vec::new();
        for db in &dbs {
            let mut c = db.connect();
            let mut got = Vec::new();
            for (q, ps, rollback) in &ops {
                if *rollback {
                    c.begin(TxnMode::ReadWrite).unwrap();
                }
                let r = c.query(q, ps);
                got.push(format!(
                    "{q}: {:?}",
                    r.as_ref().map(|_| ()).map_err(|e| e.kind())
                ));
                if *rollback {
                    c.rollback().unwrap();
                }
            }
            outcomes.push(got);
        }
        assert_eq!(
            outcomes[0], outcomes[1],
            "step {step}: the same writes succeed"
        );
        clashes += outcomes[0]
            .iter()
            .filter(|o| o.contains("ConstraintViolation"))
            .count();
        let now: Vec<_> = dbs
            .iter()
            .map(|d| seek_and_scan(&mut d.connect(), step + 2))
            .collect();
        assert_eq!(now[0], now[1], "step {step}: with and without the section");
    }
    assert!(clashes > 0, "uniqueness clashes are exercised");
    for (c, b) in old.iter_mut().zip(&before) {
        assert_eq!(
            &seek_and_scan(c, 1),
            b,
            "the old snapshot keeps its answers"
        );
        c.commit().unwrap();
    }
    drop(old);
    // After another checkpoint (the section now holds p_w and the re-created p_v) and reopen.
    let db = dbs.into_iter().next().unwrap();
    let expect = seek_and_scan(&mut db.connect(), 99);
    db.checkpoint().unwrap();
    drop(db);
    let db = open("in_image");
    assert_eq!(
        keys_in_memory(&db),
        0,
        "every index read from the new image"
    );
    assert_eq!(
        seek_and_scan(&mut db.connect(), 99),
        expect,
        "after a second image"
    );
    println!(
        "8 random steps ({clashes} uniqueness clashes): seeks equal scans, with and without \
         the index section"
    );
}

/// Label scans read the image's per-label lists (format 2) merged with the labels written
/// since: every scan (ids in scan order, counts, a scan feeding an expansion, an index seek)
/// answers as the model through added and removed labels, deletions, new nodes and a rolled
/// back label, before and after a reopen (the log replayed onto the lists) and after a
/// second checkpoint folds the changes into new lists.
#[test]
fn label_scans_equal_the_model_through_label_changes_and_reopens() {
    let t = tempfile::tempdir().unwrap();
    let (disk, model) = pair(t.path());
    let img = std::fs::read(base_file(&t.path().join("db"))).unwrap();
    assert_eq!(u32::from_le_bytes(img[8..12].try_into().unwrap()), 3);
    const LABEL_NODES: u32 = 18;
    let (_, lists, _) = section(&img, LABEL_NODES);
    assert!(lists > 0, "the image holds label lists");
    let scans = |db: &Database| -> Vec<String> {
        let mut out = Vec::new();
        for l in ["A", "B", "C", "Z", "Fresh"] {
            for q in [
                format!("MATCH (n:{l}) RETURN id(n)"),
                format!("MATCH (n:{l}) RETURN count(n)"),
                format!("MATCH (n:{l})-[r]->(m) RETURN count(*)"),
                format!("MATCH (n:{l}) WHERE n.i < 10 RETURN id(n), labels(n)"),
                format!("MATCH (n:{l}:A) RETURN id(n)"),
            ] {
                out.push(format!("{q}: {:?}", rows(db, &q, &p())));
            }
        }
        out.push(format!(
            "{:?}",
            rows(db, "MATCH (n:A {i: 3}) RETURN id(n), labels(n)", &p())
        ));
        out
    };
    let same = |disk: &Database, model: &Database, what: &str| {
        assert_eq!(scans(disk), scans(model), "{what}");
        assert_same(disk, model, what);
    };
    same(&disk, &model, "label scans on the base image");
    let steps: &[&str] = &[
        "MATCH (a:A {i: 4}) SET a:Z",
        "MATCH (a:A {i: 5}) REMOVE a:A",
        "MATCH (a:B {i: 9}) REMOVE a:B SET a:Fresh",
        "MATCH (a:A {i: 3}) DETACH DELETE a",
        "MATCH (c:C {i: 10}) DETACH DELETE c",
        "CREATE (:A:Z {i: 100}), (:C {i: 101}), (:Fresh {i: 102})",
        "MATCH (a {i: 5}) SET a:A",
        "MATCH (a:A {i: 6}) SET a.s = 'changed again'",
    ];
    for q in steps {
        both(&disk, &model, q, &p());
    }
    for db in [&disk, &model] {
        let mut c = db.connect();
        c.begin(TxnMode::ReadWrite).unwrap();
        c.query("MATCH (a:A {i: 7}) SET a:Fresh REMOVE a:A", &p())
            .unwrap();
        c.rollback().unwrap();
    }
    same(&disk, &model, "label scans with changes in the delta");
    let disk = reopen(disk, t.path());
    same(&disk, &model, "reopened: the log replayed onto the lists");
    disk.checkpoint().unwrap();
    let disk = reopen(disk, t.path());
    same(&disk, &model, "after a second checkpoint and reopen");
    disk.check().unwrap();
    println!("label scans: as the model on the image's lists, with deltas, reopened, refolded");
}

/// A format-1 image: the same image with the format-2 sections (label lists, block
/// checksums) dropped from its table, as the format-1 writer left them out.
fn as_format_1(img: &[u8]) -> Vec<u8> {
    let mut out = img.to_vec();
    let count = u32::from_le_bytes(img[12..16].try_into().unwrap()) as usize;
    let kept: Vec<&[u8]> = (0..count)
        .map(|i| &img[64 + i * 32..96 + i * 32])
        .filter(|e| u32::from_le_bytes(e[..4].try_into().unwrap()) < 17)
        .collect();
    out[8..12].copy_from_slice(&1u32.to_le_bytes());
    out[12..16].copy_from_slice(&(kept.len() as u32).to_le_bytes());
    for (i, e) in kept.iter().enumerate() {
        out[64 + i * 32..96 + i * 32].copy_from_slice(e);
    }
    let end = 64 + kept.len() * 32;
    out[end..64 + count * 32].fill(0);
    let h = crc32c::crc32c_append(crc32c::crc32c(&out[..56]), &out[64..end]);
    out[56..60].copy_from_slice(&h.to_le_bytes());
    out
}

/// Images of base format 1 (written before per-block checksums and label lists) still open,
/// checked whole as before (damage refused at open), read as the model (label scans from
/// lists gathered at open), and the next checkpoint writes format 3.
#[test]
fn format_1_images_still_open_checked_whole() {
    use graphdb::checkpoint::write::set_base_write_format;
    let t = tempfile::tempdir().unwrap();
    // Format 1 is format 2 without its sections (format 3 also narrows the lists' ids).
    set_base_write_format(Some(2));
    let (disk, model) = pair(t.path());
    set_base_write_format(None);
    drop(disk);
    let dir = t.path().join("db");
    let base = base_file(&dir);
    let v1 = as_format_1(&std::fs::read(&base).unwrap());
    let path = dir.to_str().unwrap();
    // Damage in a format-1 image is refused at open, as before.
    const NODE_PROPS: u32 = 6;
    let (off, len, _) = section(&v1, NODE_PROPS);
    let mut bad = v1.clone();
    bad[off + len / 2] ^= 0x10;
    std::fs::write(&base, &bad).unwrap();
    let e = Database::open(path, &opts()).err().expect("damage refused");
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.message().contains("node properties"), "{e}");

    std::fs::write(&base, &v1).unwrap();
    let disk = Database::open(path, &opts()).unwrap();
    assert_same(&disk, &model, "a format-1 image");
    disk.check().unwrap();
    both(&disk, &model, "MATCH (a:A {i: 4}) SET a:Z REMOVE a:A", &p());
    both(&disk, &model, "CREATE (:A {i: 200})", &p());
    assert_same(&disk, &model, "a format-1 image with changes");
    disk.checkpoint().unwrap();
    let disk = reopen(disk, t.path());
    assert_same(&disk, &model, "checkpointed from format 1");
    let next = base_file(&dir);
    let img = std::fs::read(next).unwrap();
    assert_eq!(u32::from_le_bytes(img[8..12].try_into().unwrap()), 3);
    println!("format 1: opens checked whole, reads as the model, next checkpoint writes format 3");
}

/// A random history for the format differential: nodes of two labels, relationships of
/// three types between random nodes (self-loops and parallel ones included, some nodes with
/// one type, some with several), deletions, a rolled-back transaction.
fn random_graph(db: &Database, seed: u64) {
    let mut rng = Rng(seed);
    let mut c = db.connect();
    let n = 40;
    for i in 0..n {
        let label = if i % 3 == 0 { "L:A" } else { "L" };
        c.query(
            &format!("CREATE (:{label} {{v: $v}})"),
            &int("v", rng.below(20) as i64),
        )
        .unwrap();
    }
    for _ in 0..160 {
        let a = rng.below(n) as i64;
        // Some nodes get only R out of them (one type run), others anything.
        let t = if a % 4 == 0 {
            "R"
        } else {
            *rng.pick(&["R", "S", "T"])
        };
        let b = if rng.chance(8) {
            a
        } else {
            rng.below(n) as i64
        };
        let q = format!(
            "MATCH (a), (b) WHERE id(a) = $a AND id(b) = $b CREATE (a)-[:{t} {{w: $a}}]->(b)"
        );
        let params = [
            ("a".to_string(), Value::Int(a)),
            ("b".to_string(), Value::Int(b)),
        ];
        c.query(&q, &params.into_iter().collect()).unwrap();
    }
    for _ in 0..15 {
        let r = rng.below(160) as i64;
        c.query("MATCH ()-[r]->() WHERE id(r) = $r DELETE r", &int("r", r))
            .unwrap();
    }
    c.begin(TxnMode::ReadWrite).unwrap();
    c.query("MATCH (a) WHERE id(a) = 1 CREATE (a)-[:R]->(a)", &p())
        .unwrap();
    c.query("MATCH ()-[r]->() WHERE id(r) = 3 DELETE r", &p())
        .unwrap();
    c.rollback().unwrap();
}

/// Writes after the image, the same on every database: deletions of base relationships, new
/// ones (at base nodes and at new nodes), a "retype" (deleted and created again with another
/// type between the same nodes), and rolled-back changes.
fn later_writes(db: &Database, seed: u64) {
    let mut rng = Rng(seed);
    let mut c = db.connect();
    for _ in 0..10 {
        let r = rng.below(170) as i64;
        c.query("MATCH ()-[r]->() WHERE id(r) = $r DELETE r", &int("r", r))
            .unwrap();
    }
    for _ in 0..3 {
        let r = rng.below(170) as i64;
        c.query(
            "MATCH (a)-[r]->(b) WHERE id(r) = $r DELETE r CREATE (a)-[:T {w: -2}]->(b)",
            &int("r", r),
        )
        .unwrap();
    }
    for _ in 0..12 {
        let (a, b) = (rng.below(42) as i64, rng.below(40) as i64);
        let t = rng.pick(&["R", "S", "T"]);
        let q = format!("MATCH (a), (b) WHERE id(a) = $a AND id(b) = $b CREATE (a)-[:{t}]->(b)");
        let params = [
            ("a".to_string(), Value::Int(a)),
            ("b".to_string(), Value::Int(b)),
        ];
        c.query(&q, &params.into_iter().collect()).unwrap();
    }
    c.query(
        "MATCH (a) WHERE id(a) = 5 CREATE (a)-[:R]->(:L {v: 3})",
        &p(),
    )
    .unwrap();
    c.begin(TxnMode::ReadWrite).unwrap();
    c.query("MATCH (a)-[r]->() WHERE id(a) = 0 DELETE r", &p())
        .unwrap();
    c.query("MATCH (a) WHERE id(a) = 2 CREATE (a)-[:S]->(a)", &p())
        .unwrap();
    c.rollback().unwrap();
}

/// Every expansion of every node (each direction, type filters, self-loops), through the
/// row engine and through the batch engine in each mode (neighbours-only expansion and with
/// relationship ids).
fn expansions(c: &mut graphdb::Connection) -> Vec<String> {
    use graphdb::cypher::exec::{set_batch_mode, BatchMode};
    let mut out = Vec::new();
    let q = |c: &mut graphdb::Connection, q: &str, params: &Params| {
        c.query(q, params)
            .map(|r| r.rows)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
    };
    let per_node = [
        "MATCH (n)-[r]->(m) WHERE id(n) = $i RETURN id(r), id(m)",
        "MATCH (n)<-[r]-(m) WHERE id(n) = $i RETURN id(r), id(m)",
        "MATCH (n)-[r]-(m) WHERE id(n) = $i RETURN id(r), id(m)",
        "MATCH (n)-[r:R]->(m) WHERE id(n) = $i RETURN id(r), id(m), r.w",
        "MATCH (n)<-[r:S|T]-(m) WHERE id(n) = $i RETURN id(r), id(m), type(r)",
        "MATCH (n)-[r:T|R]-(m) WHERE id(n) = $i RETURN id(r), id(m)",
        "MATCH (n)-[:R]->()-[:S|R]->(x) WHERE id(n) = $i RETURN count(x)",
    ];
    set_batch_mode(BatchMode::Off);
    for i in 0..44 {
        for pq in per_node {
            out.push(format!("{pq} @{i}: {:?}", q(c, pq, &int("i", i))));
        }
    }
    let whole = [
        "MATCH (a)-[:R]->(b) RETURN id(a), collect(id(b))",
        "MATCH (a)-[]->(b) RETURN id(a), collect(id(b)), count(*)",
        "MATCH (a)<-[:S|T]-(b) RETURN id(a), collect(id(b))",
        "MATCH (a)<-[:T]-(b) RETURN id(a), collect(id(b))",
        "MATCH (a)-[:R|S]-(b) RETURN id(a), collect(id(b))",
        "MATCH (a:L)-[:R]->(b:A) WHERE a.v < b.v RETURN count(*), sum(b.v)",
        "MATCH (a:L)-[r:S]->(b:L) WHERE a.v <= b.v RETURN count(*), collect(id(r))",
        "MATCH (a)-[:R]->(b)-[:S]->(c) RETURN count(*), collect(id(c))",
    ];
    for mode in [
        BatchMode::Off,
        BatchMode::Auto,
        BatchMode::RelIds,
        BatchMode::Direct,
    ] {
        set_batch_mode(mode);
        for wq in whole {
            out.push(format!("{wq}: {:?}", q(c, wq, &p())));
        }
    }
    set_batch_mode(BatchMode::Auto);
    out
}

fn base_version(dir: &Path) -> u32 {
    let img = std::fs::read(base_file(dir)).unwrap();
    u32::from_le_bytes(img[8..12].try_into().unwrap())
}

/// Expansions equal between a format-2 image (written as main writes it), a format-3 image
/// of the same history, and an in-memory model: read from the image alone, after writes
/// since open (deleted, created, retyped, rolled back), at a snapshot older than those
/// writes, after a reopen (the log replayed over each image), and after the next
/// checkpoint (format 3 for both).
#[test]
fn expansions_equal_between_format_2_and_3_images_and_the_model() {
    use graphdb::checkpoint::write::set_base_write_format;
    for seed in [7u64, 0x5EED_0003] {
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let mut dbs = Vec::new();
        for (d, version) in dirs.iter().zip([2u32, 3]) {
            let path = d.path().join("db");
            let db = Database::open(path.to_str().unwrap(), &opts()).unwrap();
            random_graph(&db, seed);
            set_base_write_format(Some(version));
            db.checkpoint().unwrap();
            set_base_write_format(None);
            drop(db);
            assert_eq!(base_version(&d.path().join("db")), version);
            dbs.push(Database::open(path.to_str().unwrap(), &opts()).unwrap());
        }
        let model = Database::open(":memory:", &opts()).unwrap();
        random_graph(&model, seed);
        let compare = |dbs: &[Database], model: &Database, what: &str| {
            let want = expansions(&mut model.connect());
            for (db, v) in dbs.iter().zip([2, 3]) {
                let got = expansions(&mut db.connect());
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g, w, "seed {seed}, format {v}, {what}");
                }
            }
            want.len()
        };
        let n = compare(&dbs, &model, "from the image");
        // A snapshot from before the later writes, kept open across them.
        let mut old: Vec<graphdb::Connection> = dbs.iter().map(|d| d.connect()).collect();
        let mut old_model = model.connect();
        let before = expansions(&mut old_model);
        for c in old.iter_mut().chain([&mut old_model]) {
            c.begin(TxnMode::ReadOnly).unwrap();
        }
        for db in dbs.iter().chain([&model]) {
            later_writes(db, seed ^ 0xABCD);
        }
        compare(&dbs, &model, "after writes since open");
        for (c, v) in old.iter_mut().zip([2, 3]).chain([(&mut old_model, 0)]) {
            assert_eq!(
                expansions(c),
                before,
                "seed {seed}, format {v}: an old snapshot"
            );
            c.commit().unwrap();
        }
        drop(old);
        let dbs: Vec<Database> = dbs
            .into_iter()
            .zip(&dirs)
            .map(|(db, d)| reopen(db, d.path()))
            .collect();
        compare(&dbs, &model, "after a reopen (log over the image)");
        for (db, d) in dbs.iter().zip(&dirs) {
            db.checkpoint().unwrap();
            assert_eq!(base_version(&d.path().join("db")), 3);
        }
        let dbs: Vec<Database> = dbs
            .into_iter()
            .zip(&dirs)
            .map(|(db, d)| reopen(db, d.path()))
            .collect();
        compare(&dbs, &model, "after the next checkpoint");
        for db in &dbs {
            db.check().unwrap();
        }
        println!("format 2 and 3 images: seed {seed}: {n} expansions equal to the model, 5 stages");
    }
}

/// A single hop whose relationship nothing reads is expanded from the neighbour column
/// alone: with the outgoing relationship-id list damaged (a block failing its checksum),
/// the batch engine's neighbours-only count still answers right, while the same query
/// expanded with relationship ids reads the block and fails with `Corrupt`.
#[test]
fn a_single_hop_without_its_relationship_reads_no_relationship_ids() {
    use graphdb::cypher::exec::{set_batch_mode, BatchMode};
    const OUT_RELS: u32 = 14;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let db = Database::open(path, &opts()).unwrap();
    random_graph(&db, 11);
    let q = "MATCH (a:L)-[:R]->(b) WHERE a.v <= b.v RETURN count(*), collect(id(b))";
    let want = rows(&db, q, &p());
    db.checkpoint().unwrap();
    drop(db);
    let base = base_file(&dir);
    let mut img = std::fs::read(&base).unwrap();
    let (off, len, _) = section(&img, OUT_RELS);
    assert!(len > 0);
    img[off + len / 2] ^= 0x40;
    std::fs::write(&base, &img).unwrap();
    for (mode, reads_ids) in [(BatchMode::Auto, false), (BatchMode::RelIds, true)] {
        set_batch_mode(mode);
        let db = Database::open(path, &opts()).unwrap();
        let got = db.connect().query(q, &p());
        match (got, reads_ids) {
            (Ok(r), false) => assert_eq!(r.rows, want, "neighbours only"),
            (Err(e), true) => assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}"),
            (r, _) => panic!("{mode:?}: {:?}", r.map(|r| r.rows)),
        }
        // Whatever did not read the block, the full check finds it.
        assert_eq!(db.check().unwrap_err().kind(), ErrorKind::Corrupt);
    }
    set_batch_mode(BatchMode::Auto);
    println!("a neighbours-only hop answered with the relationship-id list damaged");
}
