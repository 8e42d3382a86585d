//! Image commits (docs/durability.md, "Image commits"): a transaction whose write set passes
//! `bulk_commit_entities` (and a quarter of the graph) commits as a new base image instead of
//! a log record. Checked here: LOAD CSV, UNWIND and explicit transactions land as an image
//! (the log does not grow, the manifest names a new base) and survive reopen and a SIGKILL
//! right after the commit returns; small ones, sync=normal and in-memory databases stay
//! logged; an I/O fault at any step leaves the state before (or, after a failed manifest
//! switch, before or after); serializable conflicts and snapshots behave as for logged
//! commits; a read-only follower process sees the commit. Each test prints what it checked.

use std::io::Write;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

#[path = "support/child.rs"]
mod child;

use graphdb::api::Value;
use graphdb::vfs::sim::{Fault, FaultKind, SimIo};
use graphdb::{Database, ErrorKind, IsolationMode, Options, Params, TxnMode};

/// Rows in the test CSV files: above the threshold below.
const ROWS: i64 = 1500;
const THRESHOLD: &str = "1000";

fn opts(extra: &[(&str, &str)]) -> Options {
    let mut o = Options::new();
    o.set("checkpoint_wal_bytes", "0").unwrap();
    o.set("bulk_commit_entities", THRESHOLD).unwrap();
    // Tests here spawn child processes: between its fork and its exec a child holds a copy of
    // every descriptor, the writer lock's included (a flock belongs to the open file, which
    // the copy shares), so a reopen right after a drop may find the lock held for a moment.
    o.set("busy_timeout_ms", "10000").unwrap();
    for (k, v) in extra {
        o.set(k, v).unwrap();
    }
    o
}

fn run(db: &Database, q: &str) -> Vec<Vec<Value>> {
    db.connect()
        .query(q, &Params::new())
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .rows
}

fn int(db: &Database, q: &str) -> i64 {
    match run(db, q).first().and_then(|r| r.first()) {
        Some(Value::Int(n)) => *n,
        other => panic!("{q}: {other:?}"),
    }
}

/// Everything in the graph, canonically ordered.
fn dump(db: &Database) -> String {
    let nodes = run(
        db,
        "MATCH (n) RETURN id(n) AS i, labels(n) AS l, properties(n) AS p ORDER BY i",
    );
    let rels = run(
        db,
        "MATCH (a)-[r]->(b) RETURN id(r) AS i, id(a) AS a, type(r) AS t, id(b) AS b, \
         properties(r) AS p ORDER BY i",
    );
    format!("{nodes:?}\n{rels:?}")
}

/// A users CSV of `n` rows (id, name, age) in `dir`; returns its file URL.
fn users_csv(dir: &Path, n: i64) -> String {
    let path = dir.join(format!("users-{n}.csv"));
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "id,name,age").unwrap();
    for i in 0..n {
        writeln!(f, "{i},user{i},{}", 18 + i % 60).unwrap();
    }
    format!("file://{}", path.display())
}

/// A follows CSV of `n` rows (src, dst) over `users` users.
fn follows_csv(dir: &Path, n: i64, users: i64) -> String {
    let path = dir.join(format!("follows-{n}.csv"));
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "src,dst,since").unwrap();
    for i in 0..n {
        writeln!(f, "{},{},{}", i % users, (i * 7 + 1) % users, 2000 + i % 20).unwrap();
    }
    format!("file://{}", path.display())
}

fn load_users(url: &str) -> String {
    format!(
        "LOAD CSV WITH HEADERS FROM '{url}' AS row \
         CREATE (:User {{id: toInteger(row.id), name: row.name, age: toInteger(row.age)}})"
    )
}

fn load_follows(url: &str) -> String {
    format!(
        "LOAD CSV WITH HEADERS FROM '{url}' AS row \
         MATCH (a:User {{id: toInteger(row.src)}}), (b:User {{id: toInteger(row.dst)}}) \
         CREATE (a)-[:FOLLOWS {{since: toInteger(row.since)}}]->(b)"
    )
}

/// The manifest's base image and logs, and the logs' total size.
struct Files {
    base: Option<String>,
    wals: Vec<String>,
    wal_bytes: u64,
}

fn files(dir: &Path) -> Files {
    let text = std::fs::read_to_string(dir.join("graphdb.meta")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let wals: Vec<String> = m["wals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    // Written bytes only: the log reserves space ahead of its appends (zeros).
    let wal_bytes = wals
        .iter()
        .map(|w| {
            let bytes = std::fs::read(dir.join(w)).unwrap();
            bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1) as u64
        })
        .sum();
    Files {
        base: m["base"].as_str().map(str::to_owned),
        wals,
        wal_bytes,
    }
}

#[test]
fn a_large_load_csv_commits_as_an_image_and_small_ones_are_logged() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    run(&db, "CREATE (:Before {v: 1})");
    let before = files(&dir);
    assert!(before.wal_bytes > 16, "the small commit is logged");

    // 1. LOAD CSV of users: an image.
    db.connect()
        .query(&load_users(&users_csv(t.path(), ROWS)), &Params::new())
        .unwrap();
    let after = files(&dir);
    assert!(
        after.base.is_some() && after.base != before.base,
        "a new base"
    );
    assert_eq!(after.wals.len(), 1);
    assert!(
        after.wal_bytes <= 16,
        "the log holds no record of the load: {} bytes",
        after.wal_bytes
    );
    assert_eq!(int(&db, "MATCH (u:User) RETURN count(u)"), ROWS);

    // 2. A small commit right after (reusing the labels and keys the image defined) is
    //    logged.
    run(&db, "CREATE (:User {id: -1, name: 'small'})");
    let small = files(&dir);
    assert_eq!(small.base, after.base);
    assert!(small.wal_bytes > 16);

    // 3. Relationships between the loaded users, in an explicit transaction: an image.
    run(&db, "CREATE INDEX FOR (u:User) ON (u.id)");
    let mut c = db.connect();
    c.begin(TxnMode::ReadWrite).unwrap();
    c.query(
        &load_follows(&follows_csv(t.path(), ROWS, ROWS)),
        &Params::new(),
    )
    .unwrap();
    c.commit().unwrap();
    let rels = files(&dir);
    assert_ne!(rels.base, small.base);
    assert!(rels.wal_bytes <= 16);
    assert_eq!(int(&db, "MATCH ()-[f:FOLLOWS]->() RETURN count(f)"), ROWS);

    // 4. UNWIND ... CREATE over the threshold in an auto-commit statement: an image.
    run(&db, "UNWIND range(1, 4000) AS i CREATE (:Bulk {i: i})");
    let unwound = files(&dir);
    assert_ne!(unwound.base, rels.base);
    assert!(unwound.wal_bytes <= 16);

    // 5. 1,200 updates in a graph of 7,002 entities: over the threshold but under a
    //    quarter of the graph, so logged.
    run(
        &db,
        "MATCH (u:User) WHERE u.id >= 0 AND u.id < 1200 SET u.seen = true",
    );
    let updated = files(&dir);
    assert_eq!(updated.base, unwound.base);
    assert!(updated.wal_bytes > 1200, "{} bytes", updated.wal_bytes);

    let stats: serde_json::Value = serde_json::from_str(&db.stats_json()).unwrap();
    assert_eq!(stats["image_commits"], 3, "{stats}");
    let expected = dump(&db);
    drop(c);
    drop(db);
    let db = Database::open(path, &opts(&[])).unwrap();
    assert_eq!(dump(&db), expected, "reopen finds every commit");
    assert_eq!(
        int(&db, "MATCH (u:User {id: 7}) RETURN count(u)"),
        1,
        "the index covers imaged nodes"
    );
    println!(
        "image commits: LOAD CSV of {ROWS} users, {ROWS} relationships in an explicit \
         transaction and a 4,000-row UNWIND each wrote a new base and no log record; a small \
         commit and 1,200 updates in a graph of 7,002 entities were logged; all survive reopen"
    );
}

#[test]
fn sync_normal_in_memory_and_a_zero_threshold_stay_logged() {
    let t = tempfile::tempdir().unwrap();
    let url = users_csv(t.path(), ROWS);
    for (name, extra) in [
        ("sync=normal", vec![("sync", "normal")]),
        ("sync=off", vec![("sync", "off")]),
        (
            "bulk_commit_entities=0",
            vec![("bulk_commit_entities", "0")],
        ),
    ] {
        let dir = t.path().join(name);
        let db = Database::open(dir.to_str().unwrap(), &opts(&extra)).unwrap();
        db.connect()
            .query(&load_users(&url), &Params::new())
            .unwrap();
        let f = files(&dir);
        assert_eq!(f.base, None, "{name}: no image");
        assert!(f.wal_bytes > 1000 * 10, "{name}: logged");
        drop(db);
        let db = Database::open(dir.to_str().unwrap(), &opts(&extra)).unwrap();
        assert_eq!(int(&db, "MATCH (u:User) RETURN count(u)"), ROWS, "{name}");
    }
    let db = Database::open(":memory:", &opts(&[])).unwrap();
    db.connect()
        .query(&load_users(&url), &Params::new())
        .unwrap();
    assert_eq!(int(&db, "MATCH (u:User) RETURN count(u)"), ROWS);
    let e = Options::new()
        .set("bulk_commit_entities", "many")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    println!("image commits: sync=normal, sync=off, a zero threshold and in-memory databases commit large loads through the log");
}

#[test]
fn serializable_conflicts_and_snapshots_are_as_for_a_logged_commit() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let db = Database::open(dir.to_str().unwrap(), &opts(&[])).unwrap();
    run(&db, "CREATE (:Other {v: 1})");
    let url = users_csv(t.path(), ROWS);

    // A reader snapshot from before, a serializable writer that read users (conflicts), one
    // that read only other nodes (does not), and a writer that holds a version the load
    // will not touch.
    let mut reader = db.connect();
    reader.begin(TxnMode::ReadOnly).unwrap();
    assert_eq!(
        reader
            .query("MATCH (n) RETURN count(n)", &Params::new())
            .unwrap()
            .rows,
        vec![vec![Value::Int(1)]]
    );
    let mut skewed = db.connect();
    skewed
        .begin_with_isolation(TxnMode::ReadWrite, IsolationMode::Serializable)
        .unwrap();
    skewed
        .query("MATCH (u:User) RETURN count(u)", &Params::new())
        .unwrap();
    skewed
        .query("CREATE (:Count {n: 0})", &Params::new())
        .unwrap();
    let mut unrelated = db.connect();
    unrelated
        .begin_with_isolation(TxnMode::ReadWrite, IsolationMode::Serializable)
        .unwrap();
    unrelated
        .query("MATCH (o:Other) SET o.v = 2", &Params::new())
        .unwrap();

    let before = files(&dir);
    db.connect()
        .query(&load_users(&url), &Params::new())
        .unwrap();
    assert_ne!(files(&dir).base, before.base, "the load was an image");

    assert_eq!(
        reader
            .query("MATCH (n) RETURN count(n)", &Params::new())
            .unwrap()
            .rows,
        vec![vec![Value::Int(1)]],
        "a snapshot from before keeps the old state"
    );
    reader.commit().unwrap();
    let e = skewed.commit().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    unrelated.commit().unwrap();
    assert_eq!(int(&db, "MATCH (o:Other) RETURN o.v"), 2);
    assert_eq!(int(&db, "MATCH (c:Count) RETURN count(c)"), 0);

    // The other way round: a large explicit transaction whose reads a logged commit
    // invalidated fails with Conflict, and neither memory nor the files have any of it.
    let mut big = db.connect();
    big.begin_with_isolation(TxnMode::ReadWrite, IsolationMode::Serializable)
        .unwrap();
    big.query("MATCH (o:Other) RETURN o.v", &Params::new())
        .unwrap();
    big.query(
        "UNWIND range(1, 3000) AS i CREATE (:Big {i: i})",
        &Params::new(),
    )
    .unwrap();
    run(&db, "MATCH (o:Other) SET o.v = 3");
    let files_before = files(&dir);
    let e = big.commit().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(int(&db, "MATCH (b:Big) RETURN count(b)"), 0);
    assert_eq!(files(&dir).base, files_before.base);
    drop(big);

    // A write-write conflict: the large transaction touches a node another transaction
    // updated after its snapshot.
    let mut big = db.connect();
    big.begin(TxnMode::ReadWrite).unwrap();
    run(&db, "MATCH (o:Other) SET o.v = 4");
    let e = big
        .query(
            "UNWIND range(1, 3000) AS i CREATE (:Big {i: i}) WITH count(*) AS c \
             MATCH (o:Other) SET o.v = 5",
            &Params::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    drop(big);
    assert_eq!(int(&db, "MATCH (b:Big) RETURN count(b)"), 0);
    let expected = dump(&db);
    drop((reader, skewed, unrelated));
    drop(db);
    let db = Database::open(dir.to_str().unwrap(), &opts(&[])).unwrap();
    assert_eq!(dump(&db), expected);
    println!("image commits: an older snapshot kept the old state; a serializable writer that read users conflicted, one that did not committed; a large transaction with invalidated reads or a write-write conflict failed and left nothing");
}

#[test]
fn a_uniqueness_constraint_holds_for_image_commits() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let url = users_csv(t.path(), ROWS);
    let db = Database::open(path, &opts(&[])).unwrap();
    run(
        &db,
        "CREATE CONSTRAINT user_id FOR (u:User) REQUIRE u.id IS UNIQUE",
    );
    run(&db, "CREATE (:User {id: 5, name: 'first'})");
    let before = files(&dir);
    let e = db
        .connect()
        .query(&load_users(&url), &Params::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConstraintViolation, "{e}");
    assert_eq!(int(&db, "MATCH (u:User) RETURN count(u)"), 1);
    assert_eq!(files(&dir).base, before.base, "nothing written");

    // A large explicit transaction and a small commit racing for the same id: exactly one
    // of them commits.
    run(&db, "MATCH (u:User) DELETE u");
    let mut big = db.connect();
    big.begin(TxnMode::ReadWrite).unwrap();
    big.query(&load_users(&url), &Params::new()).unwrap();
    let small = db
        .connect()
        .query("CREATE (:User {id: 7, name: 'small'})", &Params::new());
    let large = big.commit();
    assert!(
        small.is_ok() != large.is_ok(),
        "exactly one commits: small {small:?}, large {large:?}"
    );
    let users = if large.is_ok() { ROWS } else { 1 };
    assert_eq!(int(&db, "MATCH (u:User) RETURN count(u)"), users);
    assert_eq!(int(&db, "MATCH (u:User {id: 7}) RETURN count(u)"), 1);
    let expected = dump(&db);
    drop((big, db));
    let db = Database::open(path, &opts(&[])).unwrap();
    assert_eq!(dump(&db), expected);
    println!(
        "image commits: a load violating a uniqueness constraint was refused and wrote nothing; \
         racing a small commit for one id, exactly one committed (small: {}, large: {})",
        small.is_ok(),
        large.is_ok()
    );
}

#[test]
fn logged_commits_on_other_threads_interleave_with_image_commits() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap().to_owned();
    let url = users_csv(t.path(), ROWS);
    let db = Database::open(&path, &opts(&[])).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    const WRITERS: i64 = 3;
    const EACH: i64 = 60;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut c = db.connect();
                for i in 0..EACH {
                    let mut p = Params::new();
                    p.insert("w".into(), Value::Int(w));
                    p.insert("i".into(), Value::Int(i));
                    c.query("CREATE (:T {w: $w, i: $i})", &p).unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let db = db.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let (mut last, mut reads) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let n = int(&db, "MATCH (u:User) RETURN count(u)");
                assert_eq!(n % ROWS, 0, "part of a load was visible: {n}");
                assert!(n >= last, "went back from {last} to {n}");
                last = n;
                reads += 1;
            }
            reads
        })
    };
    let mut bases = vec![files(&dir).base];
    for _ in 0..3 {
        db.connect()
            .query(&load_users(&url), &Params::new())
            .unwrap();
        bases.push(files(&dir).base);
    }
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    for w in bases.windows(2) {
        assert_ne!(w[0], w[1], "each load wrote a new base");
    }
    assert_eq!(int(&db, "MATCH (u:User) RETURN count(u)"), 3 * ROWS);
    assert_eq!(int(&db, "MATCH (t:T) RETURN count(t)"), WRITERS * EACH);
    let expected = dump(&db);
    drop(db);
    let db = Database::open(&path, &opts(&[])).unwrap();
    assert_eq!(
        dump(&db),
        expected,
        "reopen finds every acknowledged commit"
    );
    println!(
        "image commits: 3 loads as images while {WRITERS} threads made {} logged commits and a \
         reader made {reads} reads, never seeing part of a load; all there after reopen",
        WRITERS * EACH
    );
}

#[test]
fn an_io_fault_at_any_step_of_an_image_commit_leaves_the_state_before() {
    let t = tempfile::tempdir().unwrap();
    let url = users_csv(t.path(), ROWS);
    let load = load_users(&url);
    const DB: &str = "/sim/db";
    let full = opts(&[]);
    let base = {
        let s = SimIo::new();
        let db = Database::open_with_io(DB, &full, Arc::new(s.clone())).unwrap();
        run(&db, "CREATE (:Before {v: 1})-[:R]->(:Before {v: 2})");
        drop(db);
        s
    };
    let (before, after) = {
        let s = base.after_process_crash();
        let db = Database::open_with_io(DB, &full, Arc::new(s.clone())).unwrap();
        let before = dump(&db);
        let ops = s.ops();
        db.connect().query(&load, &Params::new()).unwrap();
        assert!(s.ops() > ops + 5, "the load did file operations");
        (before, dump(&db))
    };
    let mut points = 0;
    let mut poisoned = 0;
    for kind in [FaultKind::Eio, FaultKind::NoSpace, FaultKind::TornWrite] {
        let mut n = 1;
        loop {
            let s = base.after_process_crash();
            let db = Database::open_with_io(DB, &full, Arc::new(s.clone())).unwrap();
            s.set_fault(Some(Fault {
                at: s.ops() + n,
                kind,
                persistent: true,
            }));
            let outcome = db.connect().query(&load, &Params::new());
            let hit = s.faults_hit() > 0;
            s.set_fault(None);
            if !hit {
                assert!(outcome.is_ok(), "{outcome:?}");
                break;
            }
            let mut allowed = vec![after.clone()];
            if let Err(e) = &outcome {
                assert_eq!(e.kind(), ErrorKind::Io, "op {n}: {e}");
                assert_eq!(dump(&db), before, "op {n}: memory after the failure");
                if db.connect().query("CREATE (:X)", &Params::new()).is_err() {
                    // A failed manifest switch: either manifest may be the durable one.
                    poisoned += 1;
                    allowed.push(before.clone());
                } else {
                    // The database stays writable, and that write is logged on top.
                    run(&db, "MATCH (x:X) DELETE x");
                    assert_eq!(dump(&db), before, "op {n}: a later commit shows none of it");
                    allowed = vec![before.clone()];
                }
            } else {
                // Ok when the fault hit only the removal of old files (retried later).
                assert_eq!(dump(&db), after, "op {n}: memory after success");
            }
            drop(db);
            for view in [s.after_process_crash(), s.power_loss(n)] {
                let db = Database::open_with_io(DB, &full, Arc::new(view)).unwrap();
                let got = dump(&db);
                assert!(
                    allowed.contains(&got),
                    "op {n} ({kind:?}): recovered the wrong state"
                );
            }
            points += 1;
            n += 1;
        }
    }
    assert!(points > 10, "too few fault points: {points}");
    println!("image commit faults: {points} fault points, {poisoned} left the database refusing writes; every reopen (process crash and power loss) found the state before, or before or after a failed manifest switch");
}

const CHILD_ENV: &str = "GRAPHDB_BULK_CHILD_DIR";

/// This test binary as a child running the ignored test `name` on `dir` with `arg`.
fn spawn_child(name: &str, dir: &str, arg: &str) -> (std::process::Child, mpsc::Receiver<String>) {
    child::spawn(
        name,
        &[(CHILD_ENV, dir), ("GRAPHDB_BULK_CHILD_ARG", arg)],
        true,
    )
}

#[test]
fn an_image_commit_survives_a_sigkill_right_after_it_returns() {
    let t = tempfile::tempdir().unwrap();
    let url = users_csv(t.path(), ROWS);
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    for round in 1..=3 {
        let (mut child, rx) = spawn_child("bulk_writer_child", path, &url);
        child::wait_for(&rx, "LOADED");
        child.kill().expect("SIGKILL the writer");
        child.wait().unwrap();
        let db = Database::open(path, &opts(&[])).unwrap();
        assert_eq!(
            int(&db, "MATCH (u:User) RETURN count(u)"),
            ROWS * round,
            "round {round}"
        );
        assert!(
            files(&dir).wal_bytes <= 16,
            "round {round}: loaded as an image"
        );
    }
    println!("image commits: 3 writers SIGKILLed right after their LOAD CSV returned; every load was there after reopen");
}

/// The child side of the test above: loads the CSV, says so, and waits to be killed.
#[test]
#[ignore = "child process of an_image_commit_survives_a_sigkill_right_after_it_returns"]
fn bulk_writer_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let url = std::env::var("GRAPHDB_BULK_CHILD_ARG").expect("url");
    let db = Database::open(&dir, &opts(&[])).expect("child open");
    db.connect()
        .query(&load_users(&url), &Params::new())
        .expect("child load");
    println!("LOADED");
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_reader_process_sees_an_image_commit() {
    let t = tempfile::tempdir().unwrap();
    let url = users_csv(t.path(), ROWS);
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    run(&db, "CREATE (:Before)");
    let (mut child, rx) = spawn_child("bulk_reader_child", path, &ROWS.to_string());
    child::wait_for(&rx, "READER OPEN");
    db.connect()
        .query(&load_users(&url), &Params::new())
        .unwrap();
    assert!(files(&dir).wal_bytes <= 16, "loaded as an image");
    let line = child::wait_for(&rx, "READER SAW");
    assert_eq!(line, format!("READER SAW {ROWS} 1"));
    // And a logged commit after it.
    run(&db, "CREATE (:Marker)");
    child::wait_for(&rx, "READER SAW MARKER");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    println!("image commits: a read-only process open before the load saw all {ROWS} users, then a logged commit after it");
}

/// The child side of the test above.
#[test]
#[ignore = "child process of a_reader_process_sees_an_image_commit"]
fn bulk_reader_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rows: i64 = std::env::var("GRAPHDB_BULK_CHILD_ARG")
        .expect("rows")
        .parse()
        .expect("rows");
    let mut ro = Options::new();
    ro.set("access_mode", "read_only").unwrap();
    let ro = Database::open(&dir, &ro).expect("child read-only open");
    assert_eq!(int(&ro, "MATCH (u:User) RETURN count(u)"), 0);
    println!("READER OPEN");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = int(&ro, "MATCH (u:User) RETURN count(u)");
        // Never part of the load.
        assert!(n == 0 || n == rows, "saw {n} users");
        if n == rows {
            println!(
                "READER SAW {n} {}",
                int(&ro, "MATCH (b) WHERE NOT b:User RETURN count(b)")
            );
            break;
        }
        assert!(Instant::now() < deadline, "the load never appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    while int(&ro, "MATCH (m:Marker) RETURN count(m)") == 0 {
        assert!(Instant::now() < deadline, "the marker never appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    println!("READER SAW MARKER");
}
