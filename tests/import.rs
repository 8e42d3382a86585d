//! Bulk CSV import (`Database::import`): the same graph as Cypher creates, durable without
//! the log, typed and quoted fields, id spaces across imports, index maintenance, and every
//! error leaving the database (memory and files) as it was, I/O faults at every step
//! included. Each test prints what it checked.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use graphdb::api::Value;
use graphdb::import::{IdType, ImportSpec, NodeFile, RelFile};
use graphdb::vfs::sim::{Fault, FaultKind, SimIo};
use graphdb::{Database, ErrorKind, IsolationMode, Options, Params, TxnMode};

fn opts() -> Options {
    let mut o = Options::new();
    o.set("sync", "off").unwrap();
    o.set("checkpoint_wal_bytes", "0").unwrap();
    o
}

/// Durable commits: the fault test cuts power.
fn full() -> Options {
    let mut o = Options::new();
    o.set("checkpoint_wal_bytes", "0").unwrap();
    o
}

fn run(db: &Database, q: &str) -> Vec<Vec<Value>> {
    db.connect()
        .query(q, &Params::new())
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .rows
}

/// Everything in the graph, canonically ordered, adjacency in both directions included.
fn dump(db: &Database) -> String {
    let nodes = run(
        db,
        "MATCH (n) RETURN id(n) AS i, labels(n) AS l, properties(n) AS p ORDER BY i",
    );
    let out = run(
        db,
        "MATCH (a)-[r]->(b) RETURN id(r) AS i, id(a) AS a, type(r) AS t, id(b) AS b, \
         properties(r) AS p ORDER BY i",
    );
    let inc = run(
        db,
        "MATCH (b)<-[r]-(a) RETURN id(b) AS b, id(r) AS i ORDER BY b, i",
    );
    let deg = run(
        db,
        "MATCH (n) RETURN id(n) AS i, COUNT { (n)-->() } AS o, COUNT { (n)<--() } AS c \
         ORDER BY i",
    );
    format!("{nodes:?}\n{out:?}\n{inc:?}\n{deg:?}")
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

fn nodes(path: &Path, labels: &[&str]) -> NodeFile {
    NodeFile {
        path: path.to_owned(),
        labels: labels.iter().map(|s| s.to_string()).collect(),
        columns: None,
    }
}

fn rels(path: &Path, t: &str) -> RelFile {
    RelFile {
        path: path.to_owned(),
        rel_type: t.into(),
        columns: None,
    }
}

/// `start,end,since` rows whose ends are `User` ids (stored or imported alike).
fn user_rels(path: &Path, t: &str) -> RelFile {
    RelFile {
        columns: Some(vec![
            ":START_ID(User)".into(),
            ":END_ID(User)".into(),
            "since:int".into(),
        ]),
        ..rels(path, t)
    }
}

const PEOPLE: &str = "\
id:ID(Person),name,age:int,score:float,active:boolean
p1,Ann,31,1.5,true
p2,\"Smith, Bob\",,2.0,false
p3,\"two
lines\",45,,TRUE
";
const CITIES: &str = "id:ID(City),name\nc1,Oslo\nc2,Rome\n";
const KNOWS: &str =
    ":START_ID(Person),:END_ID(Person),since:int\np1,p2,2001\np2,p3,\np3,p1,1999\np1,p3,2020\n";
const LIVES: &str = ":START_ID(Person),:END_ID(City)\np1,c1\np2,c1\np3,c2\n";

/// The same graph as PEOPLE, CITIES, KNOWS and LIVES, in the same creation order.
const CYPHER: &[&str] = &[
    "CREATE (:Person {id: 'p1', name: 'Ann', age: 31, score: 1.5, active: true})",
    "CREATE (:Person {id: 'p2', name: 'Smith, Bob', score: 2.0, active: false})",
    "CREATE (:Person {id: 'p3', name: 'two\nlines', age: 45, active: true})",
    "CREATE (:City {id: 'c1', name: 'Oslo'})",
    "CREATE (:City {id: 'c2', name: 'Rome'})",
    "MATCH (a {id: 'p1'}), (b {id: 'p2'}) CREATE (a)-[:KNOWS {since: 2001}]->(b)",
    "MATCH (a {id: 'p2'}), (b {id: 'p3'}) CREATE (a)-[:KNOWS]->(b)",
    "MATCH (a {id: 'p3'}), (b {id: 'p1'}) CREATE (a)-[:KNOWS {since: 1999}]->(b)",
    "MATCH (a {id: 'p1'}), (b {id: 'p3'}) CREATE (a)-[:KNOWS {since: 2020}]->(b)",
    "MATCH (a {id: 'p1'}), (b {id: 'c1'}) CREATE (a)-[:LIVES_IN]->(b)",
    "MATCH (a {id: 'p2'}), (b {id: 'c1'}) CREATE (a)-[:LIVES_IN]->(b)",
    "MATCH (a {id: 'p3'}), (b {id: 'c2'}) CREATE (a)-[:LIVES_IN]->(b)",
];

fn social(f: &Files) -> ImportSpec {
    ImportSpec {
        nodes: vec![
            nodes(&f.write("people.csv", PEOPLE), &["Person"]),
            nodes(&f.write("cities.csv", CITIES), &["City"]),
        ],
        relationships: vec![
            rels(&f.write("knows.csv", KNOWS), "KNOWS"),
            rels(&f.write("lives.csv", LIVES), "LIVES_IN"),
        ],
        ..ImportSpec::default()
    }
}

#[test]
fn import_builds_the_same_graph_as_cypher_and_survives_reopen() {
    let f = Files::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts()).unwrap();
    let mut reports = 0;
    let stats = db
        .import_with_progress(&social(&f), &mut |p| {
            assert!(p.rows <= 4);
            reports += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!((stats.nodes, stats.relationships), (5, 7));
    assert_eq!(reports, 4, "one final report per file");
    assert!(stats.image_bytes > 0);

    let cy = Database::open(":memory:", &opts()).unwrap();
    for q in CYPHER {
        run(&cy, q);
    }
    let expected = dump(&cy);
    assert_eq!(dump(&db), expected);
    // Types as declared: int, float, boolean, string; an empty field is absent.
    assert_eq!(
        run(
            &db,
            "MATCH (p:Person {id: 'p1'}) RETURN p.age, p.score, p.active, p.name"
        ),
        vec![vec![
            Value::Int(31),
            Value::Float(1.5),
            Value::Bool(true),
            Value::String("Ann".into())
        ]]
    );
    assert_eq!(
        run(&db, "MATCH (p:Person) WHERE p.age IS NULL RETURN p.name"),
        vec![vec![Value::String("Smith, Bob".into())]]
    );

    // The bulk data is in the base image, not the log; later commits go to the log.
    let wal_bytes: u64 = std::fs::read_dir(path)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("wal-"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(
        wal_bytes < 200,
        "the log holds {wal_bytes} bytes after the import"
    );
    run(&db, "MATCH (p:Person {id: 'p1'}) SET p.age = 32");
    run(&db, "CREATE (:City {id: 'c3', name: 'Lima'})");
    let after = dump(&db);
    drop(db);
    let db = Database::open(path, &opts()).unwrap();
    assert_eq!(dump(&db), after, "reopened");
    drop(db);
    let db = Database::open(path, &opts()).unwrap();
    db.checkpoint().unwrap();
    drop(db);
    let db = Database::open(path, &opts()).unwrap();
    assert_eq!(dump(&db), after, "reopened after a checkpoint");
    println!("import: 5 nodes, 7 relationships equal the Cypher-built graph; durable across 3 reopens; log {wal_bytes} bytes");
}

#[test]
fn headerless_files_int_ids_and_a_second_import_into_a_loaded_database() {
    let f = Files::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts()).unwrap();
    run(&db, "CREATE (:Other {x: 1})");
    run(&db, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
    let users = f.write("users.csv", "0,ann,30\n1,bob,40\n2,cy,50\n");
    let follows = f.write("follows.csv", "0,1,7\n1,2,8\n2,0,9\n0,2,10\n");
    let spec = ImportSpec {
        nodes: vec![NodeFile {
            columns: Some(vec!["id:ID".into(), "name".into(), "age:int".into()]),
            ..nodes(&users, &["User"])
        }],
        id_type: IdType::Int,
        ..ImportSpec::default()
    };
    let s = db.import(&spec).unwrap();
    assert_eq!((s.nodes, s.first_node_id), (3, 1));
    // Relationships alone, their ids resolved against the stored User nodes by `id`.
    let spec = ImportSpec {
        relationships: vec![user_rels(&follows, "FOLLOWS")],
        id_type: IdType::Int,
        ..ImportSpec::default()
    };
    assert_eq!(db.import(&spec).unwrap().relationships, 4);
    let check = |db: &Database| {
        // Through the index kept up to date by the import.
        assert_eq!(
            run(db, "MATCH (u:User {id: 2}) RETURN u.name, u.age"),
            vec![vec![Value::String("cy".into()), Value::Int(50)]]
        );
        assert_eq!(
            run(
                db,
                "MATCH (a:User {id: 0})-[r:FOLLOWS]->(b) RETURN b.id, r.since ORDER BY b.id"
            ),
            vec![
                vec![Value::Int(1), Value::Int(7)],
                vec![Value::Int(2), Value::Int(10)]
            ]
        );
        assert_eq!(
            run(db, "MATCH (a:User {id: 0})<-[r:FOLLOWS]-(b) RETURN b.id"),
            vec![vec![Value::Int(2)]]
        );
        assert_eq!(
            run(db, "MATCH (o:Other) RETURN o.x"),
            vec![vec![Value::Int(1)]]
        );
    };
    check(&db);
    let plan = run(&db, "EXPLAIN MATCH (u:User {id: 2}) RETURN u");
    assert!(
        format!("{plan:?}").to_lowercase().contains("index"),
        "{plan:?}"
    );
    drop(db);
    let db = Database::open(path, &opts()).unwrap();
    check(&db);
    println!("import: headerless int-id files; relationships imported on their own into a loaded database; index seeks find imported nodes; durable");
}

#[test]
fn empty_files_and_quoted_fields() {
    let f = Files::new();
    let db = Database::open(":memory:", &opts()).unwrap();
    let spec = ImportSpec {
        nodes: vec![nodes(&f.write("n.csv", "id:ID,name\n"), &["N"])],
        relationships: vec![rels(&f.write("r.csv", ":START_ID,:END_ID\n"), "R")],
        ..ImportSpec::default()
    };
    let s = db.import(&spec).unwrap();
    assert_eq!((s.nodes, s.relationships), (0, 0));
    let spec = ImportSpec {
        nodes: vec![NodeFile {
            columns: Some(vec!["id:ID".into()]),
            ..nodes(&f.write("e.csv", ""), &["N"])
        }],
        ..ImportSpec::default()
    };
    assert_eq!(db.import(&spec).unwrap().nodes, 0);
    let e = db
        .import(&ImportSpec {
            nodes: vec![nodes(&f.write("z.csv", ""), &["N"])],
            ..ImportSpec::default()
        })
        .unwrap_err();
    assert!(e.message().contains("z.csv is empty"), "{e}");

    let text = "id:ID,text,n:int\n\"a\",\"x, y\",1\n\"b\",\"multi\nline, \"\"quoted\"\"\",2\n\nc,plain,3\n";
    let spec = ImportSpec {
        nodes: vec![nodes(&f.write("q.csv", text), &["Q"])],
        ..ImportSpec::default()
    };
    assert_eq!(db.import(&spec).unwrap().nodes, 3);
    assert_eq!(
        run(&db, "MATCH (q:Q) RETURN q.text ORDER BY q.n"),
        vec![
            vec![Value::String("x, y".into())],
            vec![Value::String("multi\nline, \"quoted\"".into())],
            vec![Value::String("plain".into())],
        ]
    );
    // Line numbers count the lines inside quoted fields.
    let bad = "id:ID,text,n:int\n\"a\",\"one\ntwo\nthree\",1\nb,x,notanumber\n";
    let e = db
        .import(&ImportSpec {
            nodes: vec![nodes(&f.write("bad.csv", bad), &["Q"])],
            ..ImportSpec::default()
        })
        .unwrap_err();
    assert!(e.message().contains("bad.csv:5:"), "{e}");
    println!("import: header-only and empty files, quoted commas, quotes and newlines, line numbers across multi-line fields");
}

#[test]
fn every_bad_input_is_refused_naming_file_and_line_and_changes_nothing() {
    let f = Files::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts()).unwrap();
    db.import(&social(&f)).unwrap();
    run(&db, "CREATE (:Extra {v: 1})");
    let before = dump(&db);
    let files = |p: &str| {
        let mut v: Vec<(String, u64)> = std::fs::read_dir(p)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let files_before = files(path);
    let good_people = f.write("good.csv", "id:ID(P2),name\nx1,a\nx2,b\n");
    let cases: Vec<(&str, ImportSpec, ErrorKind, &str)> = vec![
        (
            "duplicate id",
            ImportSpec {
                nodes: vec![nodes(
                    &f.write("dup.csv", "id:ID,name\na,1\nb,2\na,3\n"),
                    &["D"],
                )],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "dup.csv:4: duplicate node id \"a\"",
        ),
        (
            "unknown end id",
            ImportSpec {
                nodes: vec![nodes(&good_people, &["P2"])],
                relationships: vec![rels(
                    &f.write("unk.csv", ":START_ID,:END_ID\nx1,x2\nx2,nope\n"),
                    "R",
                )],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "unk.csv:3: no node has id \"nope\"",
        ),
        (
            "too few fields",
            ImportSpec {
                nodes: vec![nodes(
                    &f.write("short.csv", "id:ID,name,age:int\na,1,2\nb,2\n"),
                    &["S"],
                )],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "short.csv:3: 2 fields where the header has 3",
        ),
        (
            "bad int",
            ImportSpec {
                nodes: vec![nodes(
                    &f.write("int.csv", "id:ID,age:int\na,1\nb,x2\n"),
                    &["S"],
                )],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "int.csv:3: \"x2\" is not an integer",
        ),
        (
            "bad boolean",
            ImportSpec {
                nodes: vec![nodes(
                    &f.write("b.csv", "id:ID,ok:boolean\na,yes\n"),
                    &["S"],
                )],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "b.csv:2: \"yes\" is not a boolean",
        ),
        (
            "bad header type",
            ImportSpec {
                nodes: vec![nodes(&f.write("h.csv", "id:ID,x:uuid\na,1\n"), &["S"])],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "h.csv: header column \"x:uuid\"",
        ),
        (
            "missing file",
            ImportSpec {
                nodes: vec![nodes(&good_people, &["P2"])],
                relationships: vec![rels(Path::new("/nonexistent/rels.csv"), "R")],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "cannot open the import file /nonexistent/rels.csv",
        ),
        (
            "invalid UTF-8",
            ImportSpec {
                nodes: vec![nodes(&f.dir.path().join("utf.csv"), &["S"])],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "utf.csv:2: a field is not valid UTF-8",
        ),
        (
            "int id that is not an int",
            ImportSpec {
                nodes: vec![nodes(&f.write("ii.csv", "id:ID\n1\nx\n"), &["S"])],
                id_type: IdType::Int,
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "ii.csv:3: the id \"x\" is not an integer",
        ),
        (
            "no id space for a relationship file",
            ImportSpec {
                relationships: vec![rels(&f.write("ns.csv", ":START_ID,:END_ID\n"), "R")],
                ..ImportSpec::default()
            },
            ErrorKind::InvalidArgument,
            "name the id space",
        ),
    ];
    // The invalid-UTF-8 case needs raw bytes.
    std::fs::write(f.dir.path().join("utf.csv"), b"id:ID,name\na,\"x\xff\"\n").unwrap();
    let n = cases.len();
    for (what, spec, kind, needle) in cases {
        let e = db.import(&spec).unwrap_err();
        assert_eq!(e.kind(), kind, "{what}: {e}");
        assert!(e.message().contains(needle), "{what}: {e}");
        assert_eq!(dump(&db), before, "{what}: the graph changed");
        assert_eq!(files(path), files_before, "{what}: the files changed");
    }
    // A uniqueness constraint on an imported label is refused (import does not check it).
    run(
        &db,
        "CREATE CONSTRAINT u_id FOR (u:U) REQUIRE u.id IS UNIQUE",
    );
    let before = dump(&db);
    let e = db
        .import(&ImportSpec {
            nodes: vec![nodes(&good_people, &["U"])],
            ..ImportSpec::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConstraintViolation, "{e}");
    assert_eq!(dump(&db), before);
    drop(db);
    let db = Database::open(path, &opts()).unwrap();
    assert_eq!(dump(&db), before, "reopened after the refusals");
    // Read-only databases refuse.
    drop(db);
    let mut ro = opts();
    ro.set("access_mode", "read_only").unwrap();
    let db = Database::open(path, &ro).unwrap();
    let e = db.import(&social(&f)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReadOnly, "{e}");
    println!("import: {n} kinds of bad input and a uniqueness constraint refused with file and line; graph and files unchanged; read-only refused");
}

#[test]
fn a_serializable_writer_that_began_before_an_import_conflicts() {
    let f = Files::new();
    let db = Database::open(":memory:", &opts()).unwrap();
    let mut c = db.connect();
    c.begin_with_isolation(TxnMode::ReadWrite, IsolationMode::Serializable)
        .unwrap();
    let seen = c
        .query("MATCH (p:Person) RETURN count(p)", &Params::new())
        .unwrap();
    assert_eq!(seen.rows, vec![vec![Value::Int(0)]]);
    db.import(&social(&f)).unwrap();
    c.query("CREATE (:Count {n: 0})", &Params::new()).unwrap();
    let e = c.commit().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(
        run(&db, "MATCH (p:Person) RETURN count(p)"),
        vec![vec![Value::Int(3)]]
    );
    println!("import: a serializable writer that read before the import conflicts at commit");
}

#[test]
fn an_io_fault_at_any_step_leaves_the_state_before_or_after_never_between() {
    let f = Files::new();
    let spec = social(&f);
    let sim = SimIo::new();
    const DB: &str = "/sim/db";
    let db = Database::open_with_io(DB, &full(), Arc::new(sim.clone())).unwrap();
    run(&db, "CREATE (:Before {v: 1})-[:R]->(:Before {v: 2})");
    let before = dump(&db);
    db.import(&spec).unwrap();
    let after = dump(&db);
    drop(db);
    // Start each round from the state before the import.
    let base = {
        let s = SimIo::new();
        let db = Database::open_with_io(DB, &full(), Arc::new(s.clone())).unwrap();
        run(&db, "CREATE (:Before {v: 1})-[:R]->(:Before {v: 2})");
        drop(db);
        s
    };
    let mut points = 0;
    let mut poisoned = 0;
    for kind in [FaultKind::Eio, FaultKind::NoSpace, FaultKind::TornWrite] {
        let mut n = 1;
        loop {
            let s = base.after_process_crash();
            let db = Database::open_with_io(DB, &full(), Arc::new(s.clone())).unwrap();
            s.set_fault(Some(Fault {
                at: s.ops() + n,
                kind,
                persistent: true,
            }));
            let outcome = db.import(&spec);
            let hit = s.faults_hit() > 0;
            s.set_fault(None);
            if !hit {
                assert!(outcome.is_ok());
                break;
            }
            // Ok when the fault hit only the clean-up of old files (retried later).
            let mut allowed = vec![after.clone()];
            if let Err(e) = &outcome {
                assert_eq!(e.kind(), ErrorKind::Io, "op {n}: {e}");
                assert_eq!(dump(&db), before, "op {n}: memory after the failure");
                if db.connect().query("CREATE (:X)", &Params::new()).is_err() {
                    // The manifest switch failed: either state may be the durable one.
                    poisoned += 1;
                    allowed.push(before.clone());
                } else {
                    run(&db, "MATCH (x:X) DELETE x");
                    allowed = vec![before.clone()];
                }
            } else {
                assert_eq!(dump(&db), after, "op {n}: memory after success");
            }
            drop(db);
            for view in [s.after_process_crash(), s.power_loss(n)] {
                let db = Database::open_with_io(DB, &full(), Arc::new(view)).unwrap();
                let got = dump(&db);
                assert!(
                    allowed.contains(&got),
                    "op {n}: recovered the wrong state: {got}"
                );
            }
            points += 1;
            n += 1;
        }
    }
    assert!(points > 10, "too few fault points: {points}");
    println!("import faults: {points} fault points, {poisoned} left the database refusing writes; every recovery found the state before or after the import");
}

#[test]
fn a_large_relationship_file_parsed_in_parts_keeps_order_and_line_numbers() {
    // Over 4 MiB without quotes: parsed in parallel parts where the machine has cores.
    let f = Files::new();
    let n = 1000u64;
    let mut ns = String::from("id:ID(N)\n");
    for i in 0..n {
        ns.push_str(&format!("{i}\n"));
    }
    let rows = 400_000u64;
    let mut rs = String::from(":START_ID(N),:END_ID(N),k:int\n");
    for i in 0..rows {
        rs.push_str(&format!("{},{},{i}\n", i % n, (i * 7 + 3) % n));
    }
    let nodes_csv = f.write("n.csv", &ns);
    let spec = |rels_csv: &Path| ImportSpec {
        nodes: vec![nodes(&nodes_csv, &["N"])],
        relationships: vec![rels(rels_csv, "R")],
        id_type: IdType::Int,
        ..ImportSpec::default()
    };
    let db = Database::open(":memory:", &opts()).unwrap();
    let s = db.import(&spec(&f.write("r.csv", &rs))).unwrap();
    assert_eq!(s.relationships, rows);
    for i in [0, 1, rows / 3, rows / 2 + 1, rows - 1] {
        let got = run(
            &db,
            &format!("MATCH (a)-[r]->(b) WHERE id(r) = {i} RETURN a.id, b.id, r.k"),
        );
        let want = vec![vec![
            Value::Int((i % n) as i64),
            Value::Int(((i * 7 + 3) % n) as i64),
            Value::Int(i as i64),
        ]];
        assert_eq!(got, want, "relationship {i}");
    }
    // An error late in the file names its line (header = line 1).
    let bad_row = rows - 10;
    let lines: Vec<&str> = rs.lines().collect();
    let mut broken = lines.clone();
    broken[bad_row as usize + 1] = "1,99999,5";
    let e = db
        .import(&spec(&f.write("bad.csv", &(broken.join("\n") + "\n"))))
        .unwrap_err();
    assert!(
        e.message().contains(&format!("bad.csv:{}:", bad_row + 2)),
        "{e}"
    );
    assert_eq!(
        run(&db, "MATCH ()-[r]->() RETURN count(r)"),
        vec![vec![Value::Int(rows as i64)]]
    );
    // Cancelled from the progress callback in the middle of the relationship file (read in
    // parts on several threads): Interrupted, and nothing of it or of its node file stays.
    let count = |q: &str| run(&db, q);
    let before = (
        count("MATCH (n) RETURN count(n)"),
        count("MATCH ()-[r]->() RETURN count(r)"),
    );
    let mut reports = Vec::new();
    let e = db
        .import_with_progress(&spec(&f.write("again.csv", &rs)), &mut |p| {
            reports.push((p.phase, p.rows, p.done));
            if p.phase == graphdb::import::Phase::Relationships && !p.done {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
    assert!(e.message().contains("cancelled"), "{e}");
    assert_eq!(
        reports.last().map(|r| (r.0, r.2)),
        Some((graphdb::import::Phase::Relationships, false)),
        "the import stopped at the report that asked it to: {reports:?}"
    );
    let after = (
        count("MATCH (n) RETURN count(n)"),
        count("MATCH ()-[r]->() RETURN count(r)"),
    );
    assert_eq!(after, before, "a cancelled import changes nothing");
    println!("import: {rows} relationships from a {} byte file parsed in parts, in file order; a late error names its line; a cancel mid-file changes nothing", rs.len());
}

#[test]
fn a_read_only_database_polling_during_an_import_sees_it() {
    // The follower may move into the log announced for the import's image before the
    // manifest names the image; it must still notice the image (its data is in no log).
    let f = Files::new();
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap().to_owned();
    let db = Database::open(&path, &full()).unwrap();
    run(&db, "CREATE (:Before)");
    let mut ro = Options::new();
    ro.set("access_mode", "read_only").unwrap();
    let ro = Database::open(&path, &ro).unwrap();
    let count = |d: &Database| match run(d, "MATCH (p:Person) RETURN count(p)")[0][0] {
        Value::Int(n) => n,
        ref v => panic!("{v:?}"),
    };
    assert_eq!(count(&ro), 0);
    let poller = {
        let ro = ro.clone();
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            let mut polls = 0;
            loop {
                polls += 1;
                match count(&ro) {
                    0 => {}
                    3 => return polls,
                    n => panic!("saw {n} people: part of the import"),
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "the import never appeared to the read-only database"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        })
    };
    db.import(&social(&f)).unwrap();
    let polls = poller.join().unwrap();
    println!("import: a read-only database polling during the import ({polls} polls) saw it whole, with no commit after it");
}

/// Relationships imported onto stored nodes (base-image nodes with base adjacency, one also
/// with adjacency written since, a node created since) hang on those nodes exactly as the
/// same relationships created by Cypher would: expansions both ways, in creation order,
/// through DETACH DELETE of an endpoint and a checkpoint + reopen; a failed import leaves
/// no trace.
#[test]
fn relationships_imported_onto_stored_nodes_match_cypher_and_a_failed_import_leaves_no_trace() {
    let f = Files::new();
    const SETUP: &[&str] = &[
        "CREATE INDEX user_id FOR (u:User) ON (u.id)",
        "UNWIND range(0, 3) AS i CREATE (:User {id: i})",
        "MATCH (a:User {id: 0}), (b:User {id: 1}) CREATE (a)-[:F {since: 1}]->(b)",
        "MATCH (a:User {id: 2}), (b:User {id: 0}) CREATE (a)-[:F {since: 2}]->(b)",
        "CHECKPOINT",
        "CREATE (:User {id: 4})",
        "MATCH (a:User {id: 4}), (b:User {id: 0}) CREATE (a)-[:F {since: 3}]->(b)",
    ];
    const ORDER: &str = "MATCH (n:User) WITH n ORDER BY n.id \
        RETURN n.id, [(n)-[r]->() | r.since] AS o, [(n)<-[r]-() | r.since] AS i";
    const LINES: &[(i64, i64, i64)] = &[
        (0, 2, 10),
        (3, 0, 11),
        (4, 1, 12),
        (0, 0, 13),
        (1, 4, 14),
        (0, 3, 15),
        (3, 3, 16),
        (2, 0, 17),
    ];
    let mut csv = String::new();
    for (a, b, s) in LINES {
        csv.push_str(&format!("{a},{b},{s}\n"));
    }
    let spec = ImportSpec {
        relationships: vec![user_rels(&f.write("f.csv", &csv), "F")],
        id_type: IdType::Int,
        ..ImportSpec::default()
    };
    let setup = |db: &Database| {
        for q in SETUP {
            if *q == "CHECKPOINT" {
                db.checkpoint().unwrap();
            } else {
                run(db, q);
            }
        }
    };
    let reference = Database::open_with_io("/sim/ref", &full(), Arc::new(SimIo::new())).unwrap();
    setup(&reference);
    let before = dump(&reference);
    for (a, b, s) in LINES {
        run(
            &reference,
            &format!(
                "MATCH (a:User {{id: {a}}}), (b:User {{id: {b}}}) CREATE (a)-[:F {{since: {s}}}]->(b)"
            ),
        );
    }

    const DB: &str = "/sim/db";
    let sim = SimIo::new();
    let db = Database::open_with_io(DB, &full(), Arc::new(sim.clone())).unwrap();
    setup(&db);
    assert_eq!(dump(&db), before);
    drop(db);

    // An import failing at any I/O step of its install changes nothing in memory.
    let mut failed = 0;
    for n in 1.. {
        let s = sim.after_process_crash();
        let db = Database::open_with_io(DB, &full(), Arc::new(s.clone())).unwrap();
        s.set_fault(Some(Fault {
            at: s.ops() + n,
            kind: FaultKind::Eio,
            persistent: true,
        }));
        let outcome = db.import(&spec);
        let hit = s.faults_hit() > 0;
        s.set_fault(None);
        if !hit {
            break;
        }
        if outcome.is_err() {
            assert_eq!(dump(&db), before, "op {n}: memory after the failure");
            failed += 1;
        }
    }
    assert!(failed > 0, "no fault made the import fail");

    let s = sim.after_process_crash();
    let db = Database::open_with_io(DB, &full(), Arc::new(s.clone())).unwrap();
    assert_eq!(db.import(&spec).unwrap().relationships, LINES.len() as u64);
    assert_eq!(dump(&db), dump(&reference));
    // Unordered expansions list each node's relationships in creation order.
    assert_eq!(run(&db, ORDER), run(&reference, ORDER));
    assert_eq!(
        run(&db, "MATCH (:User {id: 0})-[r]->() RETURN r.since"),
        [1, 10, 13, 15].map(|v| vec![Value::Int(v)])
    );
    assert_eq!(
        run(&db, "MATCH (:User {id: 0})<-[r]-() RETURN r.since"),
        [2, 3, 11, 13, 17].map(|v| vec![Value::Int(v)])
    );
    for d in [&db, &reference] {
        run(d, "MATCH (u:User {id: 0}) DETACH DELETE u");
        run(
            d,
            "MATCH (a:User {id: 3}), (b:User {id: 1}) CREATE (a)-[:F {since: 18}]->(b)",
        );
    }
    let want = dump(&reference) + &format!("{:?}", run(&reference, ORDER));
    let got = |db: &Database| dump(db) + &format!("{:?}", run(db, ORDER));
    assert_eq!(got(&db), want);
    db.checkpoint().unwrap();
    assert_eq!(got(&db), want);
    drop(db);
    let db = Database::open_with_io(DB, &full(), Arc::new(s.after_process_crash())).unwrap();
    assert_eq!(got(&db), want);
    println!("import onto stored nodes: adjacency as Cypher builds it, both ways, through DETACH DELETE, checkpoint and reopen; {failed} failed installs left no trace");
}

/// One id-lookup case: `User` ids stored in the image (read from its integer column after a
/// reopen), stored in memory since, and defined by the import's node file; relationships
/// between ids; an id no node has.
struct LookupCase {
    what: &'static str,
    in_image: Vec<i64>,
    in_memory: Vec<i64>,
    imported: Vec<i64>,
    rels: Vec<(i64, i64)>,
    unknown: i64,
}

fn create_users(db: &Database, ids: &[i64]) {
    if !ids.is_empty() {
        run(db, &format!("UNWIND {ids:?} AS i CREATE (:User {{id: i}})"));
    }
}

/// The stored part of a case, the same way in the database and in its reference.
fn lookup_setup(dir: &Path, c: &LookupCase) -> Database {
    let path = dir.to_str().unwrap();
    let db = Database::open(path, &opts()).unwrap();
    run(&db, "CREATE INDEX user_id FOR (u:User) ON (u.id)");
    create_users(&db, &c.in_image);
    db.checkpoint().unwrap();
    drop(db);
    let db = Database::open(path, &opts()).unwrap();
    create_users(&db, &c.in_memory);
    db
}

/// Pseudo-random relationships among `ids`, in start order or not.
fn some_rels(ids: &[i64], n: usize, sorted: bool, seed: u64) -> Vec<(i64, i64)> {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ids[(x >> 33) as usize % ids.len()]
    };
    let mut out: Vec<(i64, i64)> = (0..n).map(|_| (next(), next())).collect();
    if sorted {
        out.sort_by_key(|r| r.0);
    }
    out
}

/// Every form the endpoint lookup takes (no table for consecutive ids, 32-bit or 64-bit
/// slots, the general map; stored ids read from the image's column or from memory)
/// connects exactly the nodes that Cypher, matching by node id, connects: an id of this
/// import's node file is its new node even where a stored node has it too, an id several
/// stored nodes share is the lowest node id's, negative and huge ids work, start files in
/// and out of start order both list each node's relationships in creation order; an id no
/// node has fails with the same message whatever the form, changing nothing.
#[test]
fn endpoint_lookups_of_every_form_connect_what_cypher_connects() {
    let range = |a: i64, b: i64| (a..b).collect::<Vec<i64>>();
    let evens: Vec<i64> = (0..200).map(|i| i * 2).collect();
    let odds: Vec<i64> = (0..60).map(|i| i * 2 + 1).collect();
    let huge = vec![i64::MIN + 1, -5, 0, i64::MAX];
    let threes: Vec<i64> = (0..150).map(|i| i * 3).collect();
    let cases = vec![
        LookupCase {
            what: "consecutive ids in the image",
            in_image: range(0, 300),
            in_memory: vec![],
            imported: vec![],
            rels: some_rels(&range(0, 300), 400, false, 1),
            unknown: 300,
        },
        LookupCase {
            what: "consecutive ids, the file in start order",
            in_image: range(0, 300),
            in_memory: vec![],
            imported: vec![],
            rels: some_rels(&range(0, 300), 400, true, 2),
            unknown: -1,
        },
        LookupCase {
            what: "negative consecutive ids in memory",
            in_image: vec![],
            in_memory: range(-150, 0),
            imported: vec![],
            rels: some_rels(&range(-150, 0), 300, false, 3),
            unknown: 0,
        },
        LookupCase {
            what: "gaps, in the image and in memory",
            in_image: evens.clone(),
            in_memory: odds.clone(),
            imported: vec![],
            rels: some_rels(&[evens.clone(), odds].concat(), 400, false, 4),
            unknown: 121,
        },
        LookupCase {
            what: "negative and huge ids",
            in_image: huge[..3].to_vec(),
            in_memory: huge[3..].to_vec(),
            imported: vec![],
            rels: some_rels(&huge, 50, false, 5),
            unknown: 1,
        },
        LookupCase {
            what: "ids both imported and stored",
            in_image: range(0, 50),
            in_memory: vec![],
            imported: range(25, 100),
            rels: some_rels(&range(0, 100), 400, false, 6),
            unknown: 100,
        },
        LookupCase {
            what: "ids several stored nodes share",
            in_image: vec![1, 2, 3, 2, 1],
            in_memory: vec![3, 4, 1],
            imported: vec![],
            rels: some_rels(&[1, 2, 3, 4], 60, false, 7),
            unknown: 0,
        },
        LookupCase {
            what: "imported ids with gaps, sorted",
            in_image: vec![],
            in_memory: vec![],
            imported: threes.clone(),
            rels: some_rels(&threes, 300, true, 8),
            unknown: 4,
        },
    ];
    const ORDER: &str = "MATCH (n:User) WITH n ORDER BY id(n) \
        RETURN id(n), [(n)-[r]->() | r.since] AS o, [(n)<-[r]-() | r.since] AS i";
    for c in &cases {
        let f = Files::new();
        let mut node_csv = String::from("id:ID(User)\n");
        for i in &c.imported {
            node_csv.push_str(&format!("{i}\n"));
        }
        let spec = |rels: &[(i64, i64)]| {
            let mut csv = String::new();
            for (k, (a, b)) in rels.iter().enumerate() {
                csv.push_str(&format!("{a},{b},{k}\n"));
            }
            ImportSpec {
                nodes: if c.imported.is_empty() {
                    vec![]
                } else {
                    vec![nodes(&f.write("users.csv", &node_csv), &["User"])]
                },
                relationships: vec![user_rels(&f.write("f.csv", &csv), "F")],
                id_type: IdType::Int,
                ..ImportSpec::default()
            }
        };

        // The reference: the same nodes, then each relationship by node id, where the id of
        // a CSV id is that of the new node with it, else of the lowest stored node with it.
        let reference = lookup_setup(&f.dir.path().join("ref"), c);
        let stored = run(
            &reference,
            "MATCH (n:User) RETURN id(n), n.id ORDER BY id(n)",
        );
        create_users(&reference, &c.imported);
        let mut node_of = std::collections::HashMap::new();
        for row in &stored {
            let (Value::Int(n), Value::Int(i)) = (&row[0], &row[1]) else {
                panic!("{row:?}")
            };
            node_of.entry(*i).or_insert(*n);
        }
        let first_new = stored.len() as i64;
        for (k, i) in c.imported.iter().enumerate() {
            node_of.insert(*i, first_new + k as i64);
        }
        let rows: Vec<[i64; 3]> = (c.rels.iter().enumerate())
            .map(|(k, (a, b))| [node_of[a], node_of[b], k as i64])
            .collect();
        run(
            &reference,
            &format!(
                "UNWIND {rows:?} AS r MATCH (a) WHERE id(a) = r[0] MATCH (b) WHERE id(b) = r[1] \
                 CREATE (a)-[:F {{since: r[2]}}]->(b)"
            ),
        );

        let path = f.dir.path().join("db");
        let db = lookup_setup(&path, c);
        let before = dump(&db);
        // An unknown end id on the third line, after two good rows.
        let mut bad = c.rels[..2].to_vec();
        bad.push((c.rels[0].0, c.unknown));
        let err = db.import(&spec(&bad)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{}", c.what);
        let want = format!(
            "f.csv:3: no node has id \"{}\" in id space \"User\" (the end node); nothing was \
             imported",
            c.unknown
        );
        assert!(
            err.message().ends_with(&want),
            "{}: {}",
            c.what,
            err.message()
        );
        assert_eq!(
            dump(&db),
            before,
            "{}: a refused import changes nothing",
            c.what
        );

        let s = db.import(&spec(&c.rels)).unwrap();
        assert_eq!(s.relationships, c.rels.len() as u64, "{}", c.what);
        let want = dump(&reference) + &format!("{:?}", run(&reference, ORDER));
        let got = |db: &Database| dump(db) + &format!("{:?}", run(db, ORDER));
        assert_eq!(got(&db), want, "{}", c.what);
        drop(db);
        let db = Database::open(path.to_str().unwrap(), &opts()).unwrap();
        assert_eq!(got(&db), want, "{}: reopened", c.what);
        println!(
            "{}: {} relationships connect what Cypher connects, reopened too; unknown id {} refused",
            c.what,
            c.rels.len(),
            c.unknown
        );
    }
}
