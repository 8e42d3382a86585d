//! Read-only databases following the writer's log live: in one process beside a
//! read-write database, in a child process, and beside a writer killed mid-stream. Bounded;
//! `GRAPHDB_SOAK=1` runs longer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

#[path = "support/child.rs"]
mod child;

use graphdb::api::Value;
use graphdb::{Database, Options, Params};

fn opts(pairs: &[(&str, &str)]) -> Options {
    let mut o = Options::new();
    o.set("sync", "off").unwrap();
    o.set("checkpoint_wal_bytes", "0").unwrap();
    for (k, v) in pairs {
        o.set(k, v).unwrap();
    }
    o
}

fn read_only() -> Options {
    opts(&[("access_mode", "read_only")])
}

fn soak() -> bool {
    std::env::var_os("GRAPHDB_SOAK").is_some()
}

fn run(db: &Database, q: &str) {
    db.connect()
        .query(q, &Params::new())
        .unwrap_or_else(|e| panic!("{q}: {e}"));
}

fn int(db: &Database, q: &str) -> i64 {
    let r = db
        .connect()
        .query(q, &Params::new())
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    match r.rows.first().and_then(|row| row.first()) {
        Some(Value::Int(n)) => *n,
        other => panic!("{q}: {other:?}"),
    }
}

fn count(db: &Database) -> i64 {
    int(db, "MATCH (n) RETURN count(n)")
}

fn logs(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("wal-") || n.starts_with("base-"))
        .collect();
    v.sort();
    v
}

#[test]
fn new_transactions_see_new_commits_and_running_ones_keep_their_snapshot() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    run(&db, "CREATE (:A {i: 1})");
    let ro = Database::open(path, &read_only()).unwrap();
    assert_eq!(count(&ro), 1);
    run(&db, "CREATE (:A {i: 2}), (:A {i: 3})");
    assert_eq!(count(&ro), 3, "an auto-commit read sees the commit");
    let mut held = ro.connect();
    held.query("BEGIN", &Params::new()).unwrap();
    let seen = |c: &mut graphdb::Connection| match &c
        .query("MATCH (n) RETURN count(n)", &Params::new())
        .unwrap()
        .rows[0][0]
    {
        Value::Int(n) => *n,
        v => panic!("{v:?}"),
    };
    assert_eq!(seen(&mut held), 3);
    run(&db, "MATCH (n:A {i: 1}) SET n.i = 10");
    run(&db, "CREATE (:B)");
    run(&db, "MATCH (n:A {i: 2}) DELETE n");
    assert_eq!(
        seen(&mut held),
        3,
        "a running reader transaction keeps its snapshot"
    );
    assert_eq!(
        int(&ro, "MATCH (n:A) WHERE n.i = 1 RETURN count(n)"),
        0,
        "while new ones see the update"
    );
    assert_eq!(count(&ro), 3);
    assert_eq!(int(&ro, "MATCH (n:A {i: 10}) RETURN count(n)"), 1);
    assert_eq!(
        int(&ro, "MATCH (n:A) WHERE n.i = 2 RETURN count(n)"),
        0,
        "the deletion is seen"
    );
    held.query("COMMIT", &Params::new()).unwrap();
    // Writes stay refused.
    let e = ro
        .connect()
        .query("CREATE (:C)", &Params::new())
        .unwrap_err();
    assert_eq!(e.kind(), graphdb::ErrorKind::ReadOnly, "{e}");
    println!("reader: commits seen by new transactions, snapshots held by running ones");
}

#[test]
fn schema_created_after_the_reader_opened_works_there() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    run(&db, "CREATE (:Old)");
    let ro = Database::open(path, &read_only()).unwrap();
    assert_eq!(count(&ro), 1);
    run(&db, "CREATE INDEX person_name FOR (p:Person) ON (p.name)");
    run(
        &db,
        "UNWIND range(1, 50) AS i CREATE (:Person {name: 'p' + toString(i)})-[:KNOWS {since: i}]->(:City {zip: i})",
    );
    run(
        &db,
        "CREATE CONSTRAINT city_zip FOR (c:City) REQUIRE c.zip IS UNIQUE",
    );
    assert_eq!(
        int(
            &ro,
            "MATCH (p:Person {name: 'p7'})-[k:KNOWS]->(c:City) RETURN k.since + c.zip"
        ),
        14
    );
    let idx = ro.connect().query("SHOW INDEXES", &Params::new()).unwrap();
    let shown = format!("{:?}", idx.rows);
    assert!(shown.contains("person_name"), "{shown}");
    assert!(shown.contains("city_zip"), "{shown}");
    let plan = ro
        .connect()
        .query(
            "EXPLAIN MATCH (p:Person {name: 'p7'}) RETURN p",
            &Params::new(),
        )
        .unwrap();
    let plan = format!("{:?}", plan.rows);
    assert!(plan.to_lowercase().contains("index"), "{plan}");
    run(&db, "DROP INDEX person_name");
    run(&db, "MATCH (p:Person {name: 'p7'}) SET p.name = 'seven'");
    assert_eq!(
        int(&ro, "MATCH (p:Person {name: 'seven'}) RETURN count(p)"),
        1
    );
    assert_eq!(int(&ro, "MATCH (p:Person {name: 'p7'}) RETURN count(p)"), 0);
    println!("reader: index, constraint, labels, types and keys created after open all work");
}

#[test]
fn the_reader_follows_across_checkpoints_and_reloads_after_missing_two() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    run(&db, "CREATE (:N {i: 0})");
    let ro = Database::open(path, &read_only()).unwrap();
    let mut expected = 1;
    assert_eq!(count(&ro), expected);
    // Active reader: sees every step.
    for round in 0..4 {
        run(&db, "CREATE (:N), (:N)");
        db.checkpoint().unwrap();
        run(&db, "CREATE (:N)");
        expected += 3;
        assert_eq!(count(&ro), expected, "round {round}");
    }
    // The reader lets go of each log once past it (and of the base images it loaded), so a
    // checkpoint removes them; it holds only the log it reads.
    db.checkpoint().unwrap();
    assert_eq!(count(&ro), expected);
    db.checkpoint().unwrap();
    let files = logs(&dir);
    let bases = files.iter().filter(|f| f.starts_with("base-")).count();
    let wals = files.iter().filter(|f| f.starts_with("wal-")).count();
    assert_eq!(
        (bases, wals),
        (1, 2),
        "the current base and log, and the log the reader reads: {files:?}"
    );
    // Idle across two checkpoints with commits in between: the log between them is gone,
    // so the reader reloads.
    let mut held = ro.connect();
    held.query("BEGIN", &Params::new()).unwrap();
    run(&db, "CREATE (:N)");
    db.checkpoint().unwrap();
    run(&db, "CREATE (:N)");
    db.checkpoint().unwrap();
    run(&db, "CREATE (:N)");
    db.checkpoint().unwrap();
    let read = |c: &mut graphdb::Connection| match &c
        .query("MATCH (n) RETURN count(n)", &Params::new())
        .unwrap()
        .rows[0][0]
    {
        Value::Int(n) => *n,
        v => panic!("{v:?}"),
    };
    assert_eq!(
        read(&mut held),
        expected,
        "the running transaction keeps its snapshot"
    );
    expected += 3;
    assert_eq!(count(&ro), expected, "after the reload");
    assert_eq!(read(&mut held), expected - 3, "still, after the reload");
    held.query("COMMIT", &Params::new()).unwrap();
    run(&db, "CREATE (:N)");
    expected += 1;
    assert_eq!(count(&ro), expected, "and it follows on after the reload");
    let last = int(&ro, "MATCH (n:N {i: 0}) RETURN count(n)");
    assert_eq!(last, 1);
    println!("reader: followed 4 checkpoints, reloaded after missing two, {expected} nodes");
}

#[test]
fn readers_never_see_half_a_transaction() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap().to_owned();
    let db = Database::open(&path, &opts(&[])).unwrap();
    let ro = Database::open(&path, &read_only()).unwrap();
    let commits = if soak() { 5000 } else { 300 };
    let done = Arc::new(AtomicBool::new(false));
    let checks = std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let ro = ro.clone();
                let done = Arc::clone(&done);
                s.spawn(move || {
                    let mut last = 0;
                    let mut checks = 0u64;
                    let mut c = ro.connect();
                    while !done.load(Ordering::Relaxed) {
                        let r = c
                            .query(
                                "MATCH (n:T) RETURN count(n) AS n, sum(n.v) AS s",
                                &Params::new(),
                            )
                            .unwrap();
                        let (Value::Int(n), Value::Int(sum)) = (&r.rows[0][0], &r.rows[0][1])
                        else {
                            panic!("{:?}", r.rows);
                        };
                        assert_eq!(n % 3, 0, "a partial transaction was visible");
                        assert_eq!(*sum, 0, "a partial update was visible");
                        assert!(*n >= last, "the reader went back in time");
                        last = *n;
                        checks += 1;
                    }
                    checks
                })
            })
            .collect();
        let mut c = db.connect();
        for i in 0..commits {
            // Three nodes whose values sum to zero, then an update that keeps the sum.
            c.query(
                "CREATE (:T {v: 1}), (:T {v: -2}), (:T {v: 1})",
                &Params::new(),
            )
            .unwrap();
            if i % 5 == 0 {
                c.query("BEGIN", &Params::new()).unwrap();
                c.query(
                    "MATCH (n:T) WHERE n.v = 1 WITH n LIMIT 1 SET n.v = 3",
                    &Params::new(),
                )
                .unwrap();
                c.query(
                    "MATCH (n:T) WHERE n.v = -2 WITH n LIMIT 1 SET n.v = -4",
                    &Params::new(),
                )
                .unwrap();
                c.query("COMMIT", &Params::new()).unwrap();
            }
            if i % 50 == 49 {
                db.checkpoint().unwrap();
            }
        }
        done.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().unwrap()).sum::<u64>()
    });
    assert_eq!(count(&ro), 3 * commits);
    // Version GC: with no reader transaction running, every update the reader applies
    // trims what it superseded (without it, each round would add a version per node). A
    // first round materializes every node of the reader's base image (one delta version
    // each: how many were already materialized depends on when the reader last moved to a
    // new image), so the count is taken after it.
    run(&db, "MATCH (n:T) SET n.w = -1");
    assert_eq!(count(&ro), 3 * commits);
    let before = ro.stats().versions_retained;
    for round in 0..10 {
        run(&db, &format!("MATCH (n:T) SET n.w = {round}"));
        assert_eq!(count(&ro), 3 * commits);
    }
    let versions = ro.stats().versions_retained;
    assert!(
        versions <= before,
        "the reader trims old versions: {before} before 10 rounds of updates, {versions} after"
    );
    println!("reader: {checks} checks on 2 threads over {commits} commits, never a partial one; {versions} versions retained");
}

const CHILD_ENV: &str = "GRAPHDB_READER_CHILD_DIR";

/// This test binary as a child running the ignored test `name` on `dir`.
fn spawn_child(name: &str, dir: &str) -> (std::process::Child, mpsc::Receiver<String>) {
    child::spawn(name, &[(CHILD_ENV, dir)], false)
}

#[test]
fn a_reader_process_sees_a_commit_made_after_it_opened() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    run(&db, "CREATE (:Before)");
    let (mut child, rx) = spawn_child("reader_child", path);
    child::wait_for(&rx, "READER OPEN");
    db.checkpoint().unwrap();
    run(&db, "CREATE (:Marker {v: 42})");
    let line = child::wait_for(&rx, "READER SAW");
    assert!(line.contains("READER SAW 42"), "{line}");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    println!("reader process: saw the marker committed after it opened");
}

/// The child side of the test above; runs only when spawned by it.
#[test]
#[ignore = "child process of a_reader_process_sees_a_commit_made_after_it_opened"]
fn reader_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let ro = Database::open(&dir, &read_only()).expect("child read-only open");
    assert_eq!(int(&ro, "MATCH (n:Marker) RETURN count(n)"), 0);
    println!("READER OPEN");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = ro
            .connect()
            .query("MATCH (n:Marker) RETURN n.v", &Params::new())
            .expect("child read");
        if let Some(row) = r.rows.first() {
            if let Value::Int(v) = row[0] {
                println!("READER SAW {v}");
            }
            return;
        }
        assert!(Instant::now() < deadline, "the marker never appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_reader_keeps_following_when_the_writer_process_is_killed() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let rounds = if soak() { 10 } else { 2 };
    let mut expected_min = 0;
    for round in 0..rounds {
        let (mut child, rx) = spawn_child("writer_child", path);
        child::wait_for(&rx, "WRITER UP");
        let ro = Database::open(path, &read_only()).unwrap();
        let mut last = 0;
        // Follow while the child writes, then kill it mid-stream.
        let mut seen = 0;
        while seen < 100 {
            let n = int(&ro, "MATCH (n:T) RETURN count(n)");
            assert_eq!(n % 3, 0, "round {round}: a partial transaction was visible");
            assert!(n >= last && n >= expected_min, "round {round}: went back");
            if n > last {
                seen += 1;
            }
            last = n;
        }
        child.kill().expect("SIGKILL the writer");
        child.wait().unwrap();
        let after_kill = int(&ro, "MATCH (n:T) RETURN count(n)");
        assert_eq!(after_kill % 3, 0);
        assert!(after_kill >= last);
        // A new writer recovers (cutting any torn tail) and commits; the reader follows.
        let db = Database::open(path, &opts(&[])).unwrap();
        let recovered = count(&db);
        assert!(
            recovered >= after_kill,
            "the writer lost what the reader saw"
        );
        run(&db, "CREATE (:T {v: 1}), (:T {v: -2}), (:T {v: 1})");
        assert_eq!(int(&ro, "MATCH (n:T) RETURN count(n)"), recovered + 3);
        assert_eq!(int(&ro, "MATCH (n:T) RETURN sum(n.v)"), 0);
        expected_min = recovered + 3;
        drop(db);
    }
    println!("reader beside a killed writer: {rounds} kills, only whole commits seen");
}

/// The child side of the test above: commits 3-node transactions (and checkpoints) until
/// killed.
#[test]
#[ignore = "child process of a_reader_keeps_following_when_the_writer_process_is_killed"]
fn writer_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let db = Database::open(&dir, &opts(&[("create", "true")])).expect("child open");
    let mut c = db.connect();
    c.query(
        "CREATE (:T {v: 1}), (:T {v: -2}), (:T {v: 1})",
        &Params::new(),
    )
    .expect("first commit");
    println!("WRITER UP");
    for i in 0.. {
        c.query(
            "CREATE (:T {v: 1}), (:T {v: -2}), (:T {v: 1})",
            &Params::new(),
        )
        .expect("commit");
        if i % 40 == 39 {
            db.checkpoint().expect("checkpoint");
        }
    }
}

/// Where the records of a log end: its frames walked from the header (the writer reserves
/// zeroed space after them, so the file is longer).
fn records_end(bytes: &[u8]) -> usize {
    let mut at = 16;
    while let Some(frame) = bytes.get(at..at + 4) {
        let len = u32::from_le_bytes(frame.try_into().unwrap()) as usize;
        if len == 0 || at + 8 + len > bytes.len() {
            break;
        }
        at += 8 + len;
    }
    at
}

#[test]
fn damage_in_the_log_is_corrupt_on_begin_and_an_incomplete_tail_is_not_yet() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let full = || opts(&[("sync", "full")]);
    let db = Database::open(path, &full()).unwrap();
    run(&db, "CREATE (:A)");
    let ro = Database::open(path, &read_only()).unwrap();
    assert_eq!(count(&ro), 1);
    let log = dir.join("wal-000001.log");
    let pristine = std::fs::read(&log).unwrap();
    let read_to = records_end(&pristine);
    assert!(pristine.len() > read_to, "space reserved after the records");
    // An incomplete record at the end (a writer mid-append): not an error, just not yet.
    let mut bytes = pristine.clone();
    bytes[read_to..read_to + 7].copy_from_slice(&[200, 0, 0, 0, 1, 2, 3]);
    std::fs::write(&log, &bytes).unwrap();
    assert_eq!(count(&ro), 1, "an incomplete record is not applied");
    std::fs::write(&log, &pristine).unwrap();
    run(&db, "CREATE (:B)");
    run(&db, "CREATE (:C)");
    drop(db);
    // A flipped byte inside the record of (:B), which the record of (:C) proves was synced.
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[read_to + 20] ^= 0x08;
    std::fs::write(&log, &bytes).unwrap();
    for attempt in 0..2 {
        let e = ro
            .connect()
            .query("MATCH (n) RETURN count(n)", &Params::new())
            .unwrap_err();
        assert_eq!(e.kind(), graphdb::ErrorKind::Corrupt, "{e}");
        assert!(e.message().contains("wal-000001.log"), "{e}");
        assert!(
            e.message().contains(&format!("offset {read_to}")),
            "attempt {attempt}: {e}"
        );
    }
    println!("reader: damage reported as CORRUPT with file and offset; an incomplete tail waits");
}

/// The writer appends inside space it reserved (zeros): a reader takes the zeros for "not
/// written yet" at every begin, never for a torn record or damage, and reads each record as
/// it lands there. Synced records zeroed by damage, with records after them, are found once
/// the file's length changes (the writer reserves more as it goes on) or it is final.
#[test]
fn a_reader_follows_appends_into_reserved_space_and_finds_zeroed_records() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let db = Database::open(path, &opts(&[("sync", "full")])).unwrap();
    run(&db, "CREATE (:A)");
    let ro = Database::open(path, &read_only()).unwrap();
    let log = dir.join("wal-000001.log");
    let len = std::fs::metadata(&log).unwrap().len();
    for i in 0..200 {
        assert_eq!(count(&ro), i + 1);
        assert_eq!(count(&ro), i + 1, "zeros after the records are not yet");
        run(&db, "CREATE (:A)");
    }
    assert_eq!(count(&ro), 201);
    assert_eq!(
        std::fs::metadata(&log).unwrap().len(),
        len,
        "every append went into the reserved space"
    );
    let read_to = records_end(&std::fs::read(&log).unwrap());
    run(&db, "CREATE (:B)");
    run(&db, "CREATE (:C)");
    drop(db);
    // The record of (:B) zeroed, though the record of (:C) says it was synced.
    let mut bytes = std::fs::read(&log).unwrap();
    let b_len = 8 + u32::from_le_bytes(bytes[read_to..read_to + 4].try_into().unwrap()) as usize;
    assert!(
        records_end(&bytes) > read_to + b_len,
        "the record of (:C) follows"
    );
    bytes[read_to..read_to + b_len].fill(0);
    std::fs::write(&log, &bytes).unwrap();
    // Same length as when the reader last found only zeros here: not looked at again yet.
    assert_eq!(count(&ro), 201);
    // The writer would reserve more as it goes on: the new length makes the reader look.
    let f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    f.set_len(bytes.len() as u64 + 65536).unwrap();
    let e = ro
        .connect()
        .query("MATCH (n) RETURN count(n)", &Params::new())
        .unwrap_err();
    assert_eq!(e.kind(), graphdb::ErrorKind::Corrupt, "{e}");
    assert!(e.message().contains(&format!("offset {read_to}")), "{e}");
    // Reopening (recovery) finds it too.
    let e = Database::open(path, &read_only()).err().unwrap();
    assert_eq!(e.kind(), graphdb::ErrorKind::Corrupt, "{e}");
}

/// Prints the cost of following: point reads on a read-only database (which catches up
/// before each statement) against the same reads on the read-write one. Timing only, no
/// assertion: `cargo test --release --test readers -- --ignored --exact point_read_cost`.
#[test]
#[ignore = "prints timings; run by hand"]
fn point_read_cost() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    run(&db, "CREATE INDEX p_id FOR (p:P) ON (p.id)");
    run(
        &db,
        "UNWIND range(0, 9999) AS i CREATE (:P {id: i, v: i * 2})",
    );
    let ro = Database::open(path, &read_only()).unwrap();
    let n = 50_000;
    for (name, d) in [
        ("read-write", &db),
        ("read-only", &ro),
        ("read-write", &db),
        ("read-only", &ro),
    ] {
        let mut c = d.connect();
        let stmt = c.prepare("MATCH (p:P {id: $i}) RETURN p.v").unwrap();
        let started = Instant::now();
        for i in 0..n {
            let p: Params = [("i".to_string(), Value::Int(i % 10_000))]
                .into_iter()
                .collect();
            let r = c.execute(&stmt, &p).unwrap();
            assert_eq!(r.rows.len(), 1);
        }
        let per = started.elapsed() / n as u32;
        println!("{name}: {n} point reads, {per:?} each");
    }
}

#[test]
fn a_log_left_unmarked_by_a_dying_writer_is_still_followed_past() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    run(&db, "CREATE (:A)");
    let ro = Database::open(path, &read_only()).unwrap();
    assert_eq!(count(&ro), 1);
    db.checkpoint().unwrap();
    let old = dir.join("wal-000001.log");
    assert_eq!(
        std::fs::metadata(&old).unwrap().permissions().mode() & 0o222,
        0,
        "rotation marks the log it leaves final"
    );
    // As if the writer had died between rotating and marking: the reader learns of the
    // next log from the manifest, which it polls every few milliseconds.
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    run(&db, "CREATE (:B)");
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&ro) != 2 {
        assert!(
            Instant::now() < deadline,
            "the reader never moved past the unmarked log"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("reader: moved past a log the writer did not mark final");
}
