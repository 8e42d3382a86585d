//! Checkpoints: base images, log rotation, the manifest switch, file removal under readers,
//! automatic triggering, and damaged or foreign base images. Each test prints what it
//! checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use graphdb::api::Value;
use graphdb::vfs::sim::SimIo;
use graphdb::{Database, ErrorKind, Options, Params};

#[path = "support/base_image.rs"]
mod base_image;
use base_image::{reseal, section};

fn opts(pairs: &[(&str, &str)]) -> Options {
    let mut o = Options::new();
    o.set("sync", "off").unwrap();
    for (k, v) in pairs {
        o.set(k, v).unwrap();
    }
    o
}

fn run(db: &Database, q: &str) {
    db.connect()
        .query(q, &Params::new())
        .unwrap_or_else(|e| panic!("{q}: {e}"));
}

fn int(k: &str, v: i64) -> Params {
    [(k.to_string(), Value::Int(v))].into_iter().collect()
}

/// `dump`, with the error of a statement.
fn try_dump(db: &Database) -> graphdb::Result<String> {
    let mut c = db.connect();
    let q = |c: &mut graphdb::Connection, s: &str| c.query(s, &Params::new()).map(|r| r.rows);
    let nodes = q(
        &mut c,
        "MATCH (n) RETURN id(n) AS i, labels(n) AS l, properties(n) AS p ORDER BY i",
    )?;
    let rels = q(
        &mut c,
        "MATCH (a)-[r]->(b) RETURN id(r) AS i, id(a) AS a, type(r) AS t, id(b) AS b, \
         properties(r) AS p ORDER BY i",
    )?;
    // Scans of the batch engine: label lists and the image's integer columns.
    let scans = q(
        &mut c,
        "MATCH (a:A)-[r]->(b) WHERE a.i <= b.i RETURN count(*), sum(a.i), max(b.i)",
    )?;
    Ok(format!("{nodes:?}\n{rels:?}\n{scans:?}"))
}

/// Everything in the graph, canonically ordered.
fn dump(db: &Database) -> String {
    try_dump(db).unwrap()
}

/// Files of the database directory by kind.
fn files(dir: &Path, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// A mixed workload: labels, every property type, relationships, updates and deletions.
/// A simulated database at `root` holding `populate(0, 12)` in its base image alone: the
/// file system, the dump of its contents, the image's path and bytes.
fn checkpointed_image(root: &str, o: &Options) -> (SimIo, String, std::path::PathBuf, Vec<u8>) {
    let sim = SimIo::new();
    let db = Database::open_with_io(root, o, Arc::new(sim.clone())).unwrap();
    populate(&db, 0, 12);
    db.checkpoint().unwrap();
    let expected = dump(&db);
    drop(db);
    let base_path = sim_files(&sim, root, "base-").remove(0);
    let pristine = sim.contents(&base_path).unwrap();
    (sim, expected, base_path, pristine)
}

fn populate(db: &Database, from: i64, to: i64) {
    let mut c = db.connect();
    for i in from..to {
        c.query(
            "CREATE (a:A:B {i: $i, f: 1.5, s: 'text ' + toString($i), b: true, \
             l: [1, 2, 3], ls: ['two', 'three'], fl: [3.0], n: null})-[:R {w: $i}]->(:C {i: $i})",
            &int("i", i),
        )
        .unwrap();
        if i % 3 == 0 {
            c.query(
                "MATCH (a:A {i: $i}) SET a.s = 'changed', a:D REMOVE a:B",
                &int("i", i),
            )
            .unwrap();
        }
        if i % 4 == 1 {
            c.query("MATCH (c:C {i: $i}) DETACH DELETE c", &int("i", i - 1))
                .unwrap();
        }
        if i % 5 == 2 {
            c.query(
                "MATCH (a:A {i: $i}), (b:A {i: $j}) CREATE (a)-[:S]->(b), (b)-[:S {x: 1}]->(b)",
                &[
                    ("i".to_string(), Value::Int(i)),
                    ("j".to_string(), Value::Int(i - 1)),
                ]
                .into_iter()
                .collect(),
            )
            .unwrap();
        }
    }
}

#[test]
fn checkpoint_then_reopen_holds_exactly_the_committed_graph() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let o = opts(&[("checkpoint_wal_bytes", "0")]);
    let db = Database::open(path, &o).unwrap();
    populate(&db, 0, 60);
    let before = dump(&db);
    run(&db, "CHECKPOINT");
    assert_eq!(dump(&db), before, "a checkpoint changes nothing visible");
    assert_eq!(files(&dir, "base-").len(), 1, "{:?}", files(&dir, ""));
    assert_eq!(files(&dir, "wal-").len(), 1, "the old log was removed");
    populate(&db, 60, 90);
    let expected = dump(&db);
    drop(db);
    let db = Database::open(path, &o).unwrap();
    assert_eq!(dump(&db), expected, "base + log after it");
    // Ids are never reused after a reopen from a base image.
    let mut c = db.connect();
    let r = c
        .query("CREATE (n:New) RETURN id(n) AS i", &Params::new())
        .unwrap();
    let Value::Int(new_id) = r.rows[0][0] else {
        panic!()
    };
    let max = c
        .query(
            "MATCH (n) WHERE NOT n:New RETURN max(id(n)) AS m",
            &Params::new(),
        )
        .unwrap();
    let Value::Int(max) = max.rows[0][0] else {
        panic!()
    };
    assert!(new_id > max);
    // A second checkpoint on the reopened database, then a reopen from it alone.
    drop(c);
    db.checkpoint().unwrap();
    let expected = dump(&db);
    drop(db);
    let db = Database::open(path, &o).unwrap();
    assert_eq!(dump(&db), expected);
    assert_eq!(files(&dir, "base-").len(), 1);
    println!(
        "checkpoint/reopen: {} bytes of graph dump identical across 2 checkpoints and 3 opens",
        expected.len()
    );
}

#[test]
fn checkpoint_is_refused_inside_a_transaction_and_on_a_read_only_database() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let db = Database::open(path, &opts(&[])).unwrap();
    populate(&db, 0, 3);
    let mut c = db.connect();
    c.query("BEGIN", &Params::new()).unwrap();
    let e = c.query("CHECKPOINT", &Params::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionState, "{e}");
    c.query("ROLLBACK", &Params::new()).unwrap();
    c.query("CHECKPOINT", &Params::new()).unwrap();
    let ro = Database::open(path, &opts(&[("access_mode", "read_only")])).unwrap();
    let e = ro
        .connect()
        .query("CHECKPOINT", &Params::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReadOnly, "{e}");
    assert_eq!(dump(&ro), dump(&db));
    let mem = Database::open(":memory:", &Options::new()).unwrap();
    mem.checkpoint().unwrap();
    println!("CHECKPOINT: refused in a transaction and read-only, a no-op in memory");
}

/// Total bytes of the logs in `dir`.
/// Bytes the logs hold: each up to its last non-zero byte (the writer reserves zeroed space
/// ahead of its records, which holds nothing).
fn wal_bytes(dir: &Path) -> u64 {
    files(dir, "wal-")
        .iter()
        .map(|n| {
            std::fs::read(dir.join(n)).map_or(0, |b| {
                b.iter().rposition(|&x| x != 0).map_or(0, |i| i as u64 + 1)
            })
        })
        .sum()
}

#[test]
fn the_log_stops_growing_under_steady_writes_with_a_long_lived_reader() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let threshold = 64 * 1024;
    let db = Database::open(
        path,
        &opts(&[("checkpoint_wal_bytes", &threshold.to_string())]),
    )
    .unwrap();
    run(&db, "CREATE (:Counter {n: 0})");
    // A reader that stays open through everything.
    let mut reader = db.connect();
    reader.query("BEGIN READ ONLY", &Params::new()).unwrap();
    let seen = reader
        .query("MATCH (c:Counter) RETURN c.n AS n", &Params::new())
        .unwrap()
        .rows;
    let mut c = db.connect();
    let mut peak = 0;
    let mut written = 0u64;
    let pad = "p".repeat(200);
    for i in 0..6000 {
        c.query(
            "MATCH (c:Counter) SET c.n = $i, c.pad = $pad",
            &[
                ("i".to_string(), Value::Int(i)),
                ("pad".to_string(), Value::String(pad.clone())),
            ]
            .into_iter()
            .collect(),
        )
        .unwrap();
        written += 250;
        // A steady load (about a megabyte of log a second), not a burst.
        std::thread::sleep(std::time::Duration::from_micros(200));
        if i % 100 == 0 {
            peak = peak.max(wal_bytes(&dir));
        }
    }
    // Let a checkpoint in progress finish (and the one the last commits may trigger).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let stats: serde_json::Value = serde_json::from_str(&db.stats_json()).unwrap();
    let done = stats["checkpoints"].as_u64().unwrap();
    assert!(done >= 3, "automatic checkpoints ran: {stats}");
    // Bounded by the threshold plus what commits write while one checkpoint runs (its
    // fsyncs, slower when the machine is busy), not by what was written in all; and once
    // writes stop, the logs are back under the threshold.
    assert!(
        peak < written / 2,
        "the logs stayed bounded: peak {peak} bytes for ~{written} bytes written"
    );
    let settled = wal_bytes(&dir);
    assert!(
        settled < 2 * threshold,
        "{settled} log bytes left after the writes"
    );
    assert!(files(&dir, "wal-").len() <= 3, "{:?}", files(&dir, ""));
    // The long reader still sees its snapshot.
    let again = reader
        .query("MATCH (c:Counter) RETURN c.n AS n", &Params::new())
        .unwrap()
        .rows;
    assert_eq!(seen, again);
    reader.query("COMMIT", &Params::new()).unwrap();
    let expected = dump(&db);
    drop((reader, c, db));
    let db = Database::open(path, &opts(&[])).unwrap();
    assert_eq!(dump(&db), expected);
    println!(
        "steady writes with a long reader: ~{written} log bytes written, {done} automatic \
         checkpoints, peak log size {peak} bytes (threshold {threshold})"
    );
}

#[test]
fn a_reader_holds_the_log_it_reads_until_it_moves_past_it() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap();
    let o = opts(&[("checkpoint_wal_bytes", "0")]);
    let db = Database::open(path, &o).unwrap();
    populate(&db, 0, 10);
    db.checkpoint().unwrap();
    populate(&db, 10, 20);
    // A read-only open: its own file descriptions, so its shared locks conflict with the
    // writer's exclusive attempts as another process's would (flock).
    let ro = Database::open(path, &opts(&[("access_mode", "read_only")])).unwrap();
    assert_eq!(dump(&ro), dump(&db));
    let old_base = files(&dir, "base-");
    let old_log = files(&dir, "wal-");
    populate(&db, 20, 30);
    db.checkpoint().unwrap();
    // The reader has not looked since: it still reads the old log, which stays. The base
    // image is in its memory, not read again: released at open, so removed.
    for f in &old_log {
        assert!(dir.join(f).exists(), "{f} removed while a reader reads it");
    }
    for f in &old_base {
        assert!(
            !dir.join(f).exists(),
            "{f} kept although no reader needs it"
        );
    }
    // The reader follows onto the new log and lets go of the old one.
    assert_eq!(dump(&ro), dump(&db));
    populate(&db, 30, 32);
    db.checkpoint().unwrap();
    for f in &old_log {
        assert!(
            !dir.join(f).exists(),
            "{f} left behind after the reader moved on"
        );
    }
    assert_eq!(dump(&ro), dump(&db));
    drop(ro);
    println!("reader locks: the log being read is kept; bases and finished logs are removed");
}

#[test]
fn read_only_opens_during_checkpoints_always_see_a_complete_state() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    let path = dir.to_str().unwrap().to_owned();
    let db = Database::open(&path, &opts(&[("checkpoint_wal_bytes", "0")])).unwrap();
    populate(&db, 0, 5);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut opens = 0;
    std::thread::scope(|s| {
        let writer = {
            let db = db.clone();
            let stop = Arc::clone(&stop);
            s.spawn(move || {
                let mut i = 5;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    populate(&db, i, i + 1);
                    if i % 2 == 0 {
                        db.checkpoint().unwrap();
                    }
                    i += 1;
                }
            })
        };
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(3) {
            let ro = Database::open(&path, &opts(&[("access_mode", "read_only")]))
                .unwrap_or_else(|e| panic!("read-only open during checkpoints: {e}"));
            // Every node created by the workload has its partner (one transaction each).
            let r = ro
                .connect()
                .query(
                    "MATCH (a:A) OPTIONAL MATCH (a)-[:R]->(c:C) RETURN count(a) AS a, \
                     count(c) AS c",
                    &Params::new(),
                )
                .unwrap();
            assert!(!r.rows.is_empty());
            opens += 1;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.join().unwrap();
    });
    println!("read-only opens racing checkpoints: {opens} opens, all complete");
}

fn write_manifest(dir: &Path, json: &str) {
    std::fs::write(dir.join("graphdb.meta"), json).unwrap();
}

#[test]
fn bad_base_images_and_manifests_are_refused_clearly() {
    let t = tempfile::tempdir().unwrap();
    let dir: PathBuf = t.path().join("db");
    let path = dir.to_str().unwrap();
    let o = opts(&[("checkpoint_wal_bytes", "0")]);
    let db = Database::open(path, &o).unwrap();
    populate(&db, 0, 10);
    db.checkpoint().unwrap();
    drop(db);
    let base = files(&dir, "base-").remove(0);
    let wal = files(&dir, "wal-").remove(0);
    let pristine_base = std::fs::read(dir.join(&base)).unwrap();
    let manifest = std::fs::read_to_string(dir.join("graphdb.meta")).unwrap();
    // A manifest naming a missing base.
    write_manifest(
        &dir,
        &format!(r#"{{"format": 2, "base": "base-000099.gdb", "wals": ["{wal}"]}}"#),
    );
    let e = Database::open(path, &o).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.message().contains("base-000099.gdb"), "{e}");
    write_manifest(&dir, &manifest);
    // A base of a newer format version.
    let mut newer = pristine_base.clone();
    newer[8..12].copy_from_slice(&9u32.to_le_bytes());
    std::fs::write(dir.join(&base), &newer).unwrap();
    let e = Database::open(path, &o).err().unwrap();
    assert!(e.message().contains("newer libgraphdb"), "{e}");
    assert!(e.message().contains(&base), "{e}");
    // Garbage in place of the base.
    std::fs::write(
        dir.join(&base),
        b"this is not a base image at all, just words",
    )
    .unwrap();
    let e = Database::open(path, &o).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(
        e.message().contains(&base) && e.message().contains("offset"),
        "{e}"
    );
    std::fs::write(dir.join(&base), b"").unwrap();
    let e = Database::open(path, &o).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    // Restored, it opens again: refusals changed nothing.
    std::fs::write(dir.join(&base), &pristine_base).unwrap();
    Database::open(path, &o).unwrap();
    println!("bad input: missing base, newer base format, garbage and empty base all refused");
}

/// Adjacency comes from the image's CSR sections, which group a node's relationships by
/// type: reopened, expansions still list them in creation order, and adjacency that does
/// not match the relationship columns (with valid checksums) is CORRUPT, never wrong data.
#[test]
fn adjacency_from_the_base_image_keeps_creation_order_and_is_checked() {
    const OUT_RELS: u32 = 14;
    const IN_RELS: u32 = 16;
    let t = tempfile::tempdir().unwrap();
    let dir: PathBuf = t.path().join("db");
    let path = dir.to_str().unwrap();
    let o = opts(&[("checkpoint_wal_bytes", "0")]);
    let order = |db: &Database| -> Vec<Value> {
        let r = db
            .connect()
            .query("MATCH (a:Hub)-[r]->() RETURN id(r) AS r", &Params::new())
            .unwrap();
        r.rows.into_iter().map(|mut row| row.remove(0)).collect()
    };
    let db = Database::open(path, &o).unwrap();
    // Types interned X (0) then W (1): on disk the hub's list is X 0, X 3, W 2, W 4.
    run(&db, "CREATE (h:Hub)-[:X]->(:T), (h)<-[:X]-(:T)");
    run(&db, "MATCH (h:Hub) CREATE (h)-[:W]->(:T)");
    run(&db, "MATCH (h:Hub) CREATE (h)-[:X]->(:T)");
    run(&db, "MATCH (h:Hub) CREATE (h)-[:W]->(:T)");
    let before = order(&db);
    assert_eq!(before.len(), 4);
    db.checkpoint().unwrap();
    let expected = dump(&db);
    drop(db);
    let db = Database::open(path, &o).unwrap();
    assert_eq!(order(&db), before, "creation order after the reopen");
    assert_eq!(dump(&db), expected);
    drop(db);

    let base = dir.join(files(&dir, "base-").remove(0));
    let pristine = std::fs::read(&base).unwrap();
    let (off, len, _) = section(&pristine, OUT_RELS);
    // The hub (node 0) lists its four first, then the node of relationship 1 its one; a
    // small format-3 image holds relationship ids in 4 bytes.
    assert_eq!(len, 5 * 4, "five relationships");
    let entry = |img: &mut Vec<u8>, kind: u32, i: usize, v: u32| {
        let (off, _, _) = section(img, kind);
        img[off + i * 4..off + i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        reseal(img, kind);
    };
    let first = u32::from_le_bytes(pristine[off..off + 4].try_into().unwrap());
    let second = u32::from_le_bytes(pristine[off + 4..off + 8].try_into().unwrap());
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut img = pristine.clone();
    entry(&mut img, OUT_RELS, 1, first);
    cases.push(("a relationship listed twice", img));
    let mut img = pristine.clone();
    entry(&mut img, OUT_RELS, 0, 1_000_000);
    cases.push(("a relationship id out of range", img));
    let mut img = pristine.clone();
    // The hub's incoming relationship (id 1) listed as outgoing in place of another.
    entry(&mut img, OUT_RELS, 1, 1);
    cases.push(("another node's relationship", img));
    let mut img = pristine.clone();
    entry(&mut img, IN_RELS, 0, second);
    cases.push(("an incoming entry that is not the node's", img));
    let verify = opts(&[("checkpoint_wal_bytes", "0"), ("verify_on_open", "true")]);
    for (what, img) in cases {
        std::fs::write(&base, &img).unwrap();
        let e = Database::open(path, &verify)
            .err()
            .unwrap_or_else(|| panic!("{what}: opened"));
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(
            e.message().contains("adjacency") && e.message().contains("offset"),
            "{what}: {e}"
        );
        // Behind valid block checksums only the full check finds it.
        let e = Database::open(path, &o).unwrap().check().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(e.message().contains("adjacency"), "{what}: {e}");
    }
    // Format 3's neighbour column and type runs (4-byte values here): the hub's list is
    // two type runs, its type word the index of the first, its neighbours after it.
    const OUT_NBRS: u32 = 21;
    const OUT_RUNS: u32 = 23;
    let value = |img: &mut Vec<u8>, kind: u32, i: usize, v: u32| {
        let (off, _, _) = section(img, kind);
        img[off + i * 4..off + i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        reseal(img, kind);
    };
    let (roff, rlen, _) = section(&pristine, OUT_RUNS);
    assert_eq!(rlen, 2 * 8, "the hub's two runs");
    let run =
        |i: usize| u32::from_le_bytes(pristine[roff + i * 4..roff + i * 4 + 4].try_into().unwrap());
    assert_eq!(
        (run(0), run(1), run(2), run(3)),
        (0, 2, 1, 4),
        "X up to 2, W up to 4"
    );
    let (noff, nlen, _) = section(&pristine, OUT_NBRS);
    assert_eq!(nlen, (5 + 6) * 4, "five entries and a type word per node");
    assert_eq!(
        u32::from_le_bytes(pristine[noff..noff + 4].try_into().unwrap()),
        1 << 31,
        "the hub's type word: runs from 0"
    );
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    let mut img = pristine.clone();
    value(&mut img, OUT_NBRS, 1, 0);
    cases.push(("a wrong neighbour", img, "neighbours"));
    let mut img = pristine.clone();
    value(&mut img, OUT_RUNS, 1, 1);
    cases.push(("a run ending early", img, "neighbours"));
    let mut img = pristine.clone();
    value(&mut img, OUT_RUNS, 0, 1);
    cases.push(("runs out of type order", img, "type runs"));
    let mut img = pristine.clone();
    value(&mut img, OUT_NBRS, 0, 0);
    cases.push(("a type word naming one type", img, "neighbours"));
    for (what, img, names) in &cases {
        std::fs::write(&base, img).unwrap();
        let e = Database::open(path, &verify)
            .err()
            .unwrap_or_else(|| panic!("{what}: opened"));
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(
            e.message().contains(names) && e.message().contains("offset"),
            "{what}: {e}"
        );
        let e = Database::open(path, &o).unwrap().check().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(e.message().contains(names), "{what}: {e}");
    }
    std::fs::write(&base, &pristine).unwrap();
    let db = Database::open(path, &o).unwrap();
    assert_eq!(dump(&db), expected);
    println!(
        "adjacency: creation order kept; 4 inconsistent adjacency images and {} inconsistent \
         neighbour or type-run images refused",
        cases.len()
    );
}

#[test]
fn bit_flips_in_a_base_image_give_corrupt_or_the_right_data() {
    // A format-2 image opens having checked its header, table, catalog and block list; the
    // rest is verified a block at a time as statements read it. So damage surfaces at open
    // or from the first statement reading the block (which then returns no rows), and after
    // it no write commits; `check` finds whatever no statement read.
    let named = |what: &str, e: &graphdb::Error, base: &Path| {
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(
            e.message().contains(&base.display().to_string()) && e.message().contains("offset"),
            "{what}: {e}"
        );
    };
    let root = "/sim/db";
    let o = opts(&[("checkpoint_wal_bytes", "0")]);
    let (sim, expected, base_path, pristine) = checkpointed_image(root, &o);
    let flips = if std::env::var_os("GRAPHDB_SOAK").is_some() {
        20_000
    } else {
        1500
    };
    let (mut ok, mut corrupt, mut newer, mut at_read, mut by_check) = (0, 0, 0, 0, 0);
    // Format 3's neighbour and type-run sections (kinds 21 to 24) get their share of flips.
    let v3: Vec<(usize, usize)> = (21..=24u32)
        .map(|k| {
            let (off, len, _) = section(&pristine, k);
            (off, off + len)
        })
        .collect();
    let mut in_v3 = 0;
    // Flips that land in the integer column sections (directory or columns).
    let in_columns = |pos: usize| {
        [PROP_COLUMN_DIR, PROP_COLUMNS].iter().any(|&k| {
            let (off, len, _) = section(&pristine, k);
            (off..off + len).contains(&pos)
        })
    };
    let mut column_flips = 0;
    let mut x = 0x1234_5678_9ABC_DEF1u64;
    for i in 0..flips {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let view = sim.after_process_crash();
        let mut bytes = pristine.clone();
        // Half the flips in the header and section table, where damage is subtlest.
        let pos = if i % 2 == 0 {
            (x % 600.min(bytes.len() as u64)) as usize
        } else {
            (x % bytes.len() as u64) as usize
        };
        bytes[pos] ^= 1 << ((x >> 40) % 8);
        in_v3 += usize::from(v3.iter().any(|&(a, b)| (a..b).contains(&pos)));
        column_flips += usize::from(in_columns(pos));
        view.replace_contents(&base_path, &bytes);
        let what = format!("flip at byte {pos} of {}", base_path.display());
        match Database::open_with_io(root, &o, Arc::new(view.clone())) {
            Ok(db) => {
                match try_dump(&db) {
                    Ok(got) => assert_eq!(got, expected, "{what}: opened with wrong data"),
                    Err(e) => {
                        named(&what, &e, &base_path);
                        let w = db.connect().query("CREATE (:After)", &Params::new());
                        let e = w.expect_err("a write on top of damage must not commit");
                        named(&what, &e, &base_path);
                        // Nor a checkpoint: an image written from it would lose the block.
                        let e = db.checkpoint().expect_err("a checkpoint of damage");
                        named(&what, &e, &base_path);
                        at_read += 1;
                    }
                }
                match db.check() {
                    Ok(()) => {
                        assert_eq!(try_dump(&db).ok().as_ref(), Some(&expected), "{what}");
                        ok += 1;
                    }
                    Err(e) => {
                        named(&what, &e, &base_path);
                        let e = db
                            .checkpoint()
                            .expect_err("a checkpoint after check failed");
                        named(&what, &e, &base_path);
                        by_check += 1;
                    }
                }
                drop(db);
                // Nothing was committed on top: with the image repaired, the same data.
                view.replace_contents(&base_path, &pristine);
                let db = Database::open_with_io(root, &o, Arc::new(view)).unwrap();
                assert_eq!(dump(&db), expected, "{what}: after repairing the image");
            }
            Err(e) if e.kind() == ErrorKind::Corrupt => {
                assert!(
                    e.message().contains(&base_path.display().to_string())
                        && e.message().contains("offset"),
                    "{what}: {e}"
                );
                corrupt += 1;
            }
            Err(e) if e.message().contains("newer libgraphdb") => newer += 1,
            Err(e) => panic!("{what}: unexpected error {e}"),
        }
    }
    assert!(
        corrupt > 0 && at_read > 0,
        "flips caught at open and at first read"
    );
    assert!(in_v3 > 0, "no flip in the neighbour and type-run sections");
    assert!(
        corrupt + by_check > flips / 2,
        "most flips must be caught ({corrupt} + {by_check})"
    );
    assert!(
        column_flips > 0,
        "no flip reached the integer column sections"
    );
    println!(
        "base image bit flips: {flips} images: {corrupt} CORRUPT at open naming file and \
         offset; {at_read} CORRUPT from the first statement reading the block (and no write \
         committed after); {by_check} found by check (all damage read or not); {ok} right \
         data and a clean check (unchecked padding), {newer} newer format; {in_v3} flips in \
         the neighbour and type-run sections; {column_flips} in the integer column sections"
    );
}

/// Kinds of the integer column sections (src/checkpoint/format.rs).
const PROP_COLUMN_DIR: u32 = 25;
const PROP_COLUMNS: u32 = 26;

/// Every bit flip in the integer column sections is caught: in the directory at open (its
/// section checksum), in the columns by the first statement that reads the column (its
/// block checksum), never wrong data. A directory with a valid checksum but an impossible
/// shape is refused at open.
#[test]
fn bit_flips_in_the_column_sections_are_caught_at_open_or_first_read() {
    let root = "/sim/db";
    let o = opts(&[("checkpoint_wal_bytes", "0")]);
    let (sim, expected, base_path, pristine) = checkpointed_image(root, &o);
    let (dir_off, dir_len, _) = section(&pristine, PROP_COLUMN_DIR);
    let (col_off, col_len, _) = section(&pristine, PROP_COLUMNS);
    assert!(dir_len > 8 && col_len > 0, "the graph's `i` has a column");
    let open = |bytes: &[u8]| {
        let view = sim.after_process_crash();
        view.replace_contents(&base_path, bytes);
        Database::open_with_io(root, &o, Arc::new(view))
    };
    let (mut at_open, mut at_read) = (0, 0);
    for (i, pos) in (dir_off..dir_off + dir_len)
        .chain(col_off..col_off + col_len)
        .enumerate()
    {
        let mut bytes = pristine.clone();
        bytes[pos] ^= 1 << (i % 8);
        let what = format!("flip at byte {pos}");
        if pos < dir_off + dir_len {
            let e = open(&bytes)
                .err()
                .unwrap_or_else(|| panic!("{what}: opened"));
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
            assert!(
                e.message().contains("property column directory"),
                "{what}: {e}"
            );
            at_open += 1;
        } else {
            let db = open(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
            let e = try_dump(&db).expect_err("a damaged column read");
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
            assert!(e.message().contains("property columns"), "{what}: {e}");
            at_read += 1;
        }
    }
    // Valid checksums, impossible shapes.
    let mut cases = Vec::new();
    let mut img = pristine.clone();
    img[dir_off + 12] = 3; // width 3
    cases.push(("a width of 3", img));
    let mut img = pristine.clone();
    img[dir_off + 8 + 16..dir_off + 8 + 24].copy_from_slice(&(col_len as u64).to_le_bytes());
    cases.push(("a presence bitmap past the section", img));
    let mut img = pristine.clone();
    img[dir_off] += 1; // one more column than entries
    cases.push(("a count that does not match", img));
    for (what, mut img) in cases {
        reseal(&mut img, PROP_COLUMN_DIR);
        let e = open(&img).err().unwrap_or_else(|| panic!("{what}: opened"));
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(
            e.message().contains("property column directory"),
            "{what}: {e}"
        );
    }
    // A column that disagrees with the nodes behind valid checksums: the full check
    // refuses it (presence of node 0 cleared; a value changed).
    let present_at = u64::from_le_bytes(pristine[dir_off + 24..dir_off + 32].try_into().unwrap());
    let values_at = u64::from_le_bytes(pristine[dir_off + 32..dir_off + 40].try_into().unwrap());
    for (what, at) in [("presence", present_at), ("value", values_at + 1)] {
        let mut img = pristine.clone();
        img[col_off + at as usize] ^= 1;
        reseal(&mut img, PROP_COLUMNS);
        let e = open(&img).unwrap().check().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(e.message().contains("property columns"), "{what}: {e}");
    }
    let db = open(&pristine).unwrap();
    assert_eq!(dump(&db), expected);
    db.check().unwrap();
    println!(
        "column sections: {at_open} flips in the directory refused at open, {at_read} in the \
         columns CORRUPT from the first statement reading them; 3 bad directories refused at \
         open, 2 wrong columns by the full check"
    );
}

fn sim_files(sim: &SimIo, root: &str, prefix: &str) -> Vec<PathBuf> {
    use graphdb::vfs::Io;
    let mut v: Vec<PathBuf> = sim
        .list_dir(Path::new(root))
        .unwrap()
        .into_iter()
        .filter(|n| n.to_string_lossy().starts_with(prefix))
        .map(|n| Path::new(root).join(n))
        .collect();
    v.sort();
    v
}

#[test]
fn indexes_and_constraints_survive_a_checkpoint_and_reopen() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let path = path.to_str().unwrap();
    let o = opts(&[("checkpoint_wal_bytes", "0")]);
    let db = Database::open(path, &o).unwrap();
    run(&db, "CREATE INDEX a_i FOR (a:A) ON (a.i)");
    run(&db, "CREATE CONSTRAINT c_i FOR (c:C) REQUIRE c.i IS UNIQUE");
    populate(&db, 0, 20);
    run(&db, "CREATE INDEX gone FOR (a:A) ON (a.f)");
    db.checkpoint().unwrap();
    run(&db, "DROP INDEX gone");
    populate(&db, 20, 25);
    let show = |db: &Database| {
        let mut c = db.connect();
        let i = c.query("SHOW INDEXES", &Params::new()).unwrap().rows;
        let k = c.query("SHOW CONSTRAINTS", &Params::new()).unwrap().rows;
        let seek = c
            .query("MATCH (a:A {i: 7}) RETURN a.s AS s", &Params::new())
            .unwrap()
            .rows;
        format!("{i:?} {k:?} {seek:?}")
    };
    let expected = (show(&db), dump(&db));
    drop(db);
    let db = Database::open(path, &o).unwrap();
    assert_eq!((show(&db), dump(&db)), expected);
    // The constraint is enforced after the reopen.
    let e = db
        .connect()
        .query("CREATE (:C {i: 21})", &Params::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConstraintViolation, "{e}");
    db.checkpoint().unwrap();
    drop(db);
    let db = Database::open(path, &o).unwrap();
    assert_eq!(show(&db), expected.0);
    println!("schema: 2 indexes, 1 constraint and a dropped index survive checkpoints and reopens");
}

/// A graph spanning several chunks of the image writer (8192 entities a chunk) and buckets of
/// its incoming scan (4096 end nodes a bucket): `n` nodes (every third also `:A`), three
/// relationship types with several per node in each direction (so incoming lists mix types
/// and ids), self-loops, properties, and some deletions.
fn big_graph(db: &Database, n: i64) {
    run(
        db,
        &format!("UNWIND range(0, {}) AS i CREATE (:N {{i: i}})", n - 1),
    );
    run(db, "MATCH (x:N) WHERE x.i % 3 = 0 SET x:A");
    let mut rels = Vec::new();
    for k in 0..n + n / 4 {
        rels.push(("R", k % n, (k * 7919) % n, k));
    }
    for k in 0..n / 2 {
        rels.push(("S", (k * 31) % n, (k * 2) % n, k));
    }
    for k in 0..n / 5 {
        rels.push(("T", k * 5, k * 5, k));
    }
    link(db, &rels);
    run(db, "MATCH ()-[r:R]->() WHERE r.w % 11 = 0 DELETE r");
}

/// Creates `(type, start i, end i, w)` relationships in one transaction (`i` = the node id
/// until `big_graph_later` changes some).
fn link(db: &Database, rels: &[(&str, i64, i64, i64)]) {
    let mut c = db.connect();
    c.begin(graphdb::TxnMode::ReadWrite).unwrap();
    for &(t, a, b, w) in rels {
        let params = [("a", a), ("b", b), ("w", w)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::Int(v)))
            .collect();
        c.query(
            &format!("MATCH (a:N {{i: $a}}), (b:N {{i: $b}}) CREATE (a)-[:{t} {{w: $w}}]->(b)"),
            &params,
        )
        .unwrap();
    }
    c.commit().unwrap();
}

/// Later writes over the image: base relationships deleted, new ones on base nodes, a
/// property changed, a node deleted with its relationships.
fn big_graph_later(db: &Database, n: i64) {
    run(db, "MATCH ()-[r:S]->() WHERE r.w % 7 = 3 DELETE r");
    let rels: Vec<_> = (0..1000)
        .map(|k| ("U", (k * 17) % n, (k * 13) % n, k))
        .collect();
    link(db, &rels);
    run(db, "MATCH (x:A) WHERE x.i % 9 = 0 SET x.i = -x.i");
    run(db, "MATCH (x) WHERE id(x) = 4100 DETACH DELETE x");
}

/// Incoming lists, which the writer gathers by a scan of the relationships, not per node.
fn incoming(db: &Database) -> String {
    let mut c = db.connect();
    let mut q = |s: &str| format!("{:?}", c.query(s, &Params::new()).unwrap().rows);
    [
        q("MATCH (b)<-[r]-(a) RETURN id(b), id(r), type(r), id(a) ORDER BY id(b), id(r)"),
        q("MATCH (b)<-[r:S|U]-(a) RETURN id(b), id(r), id(a) ORDER BY id(b), id(r)"),
        q("MATCH (b) OPTIONAL MATCH (b)<-[r:R]-() RETURN id(b), count(r) ORDER BY id(b)"),
    ]
    .join("\n")
}

/// The image writer's parts run on several threads into regions laid out up front: the
/// image written on one thread (every part in turn) and on several must be the same bytes,
/// and what it holds must read back as an in-memory model of the same history, through a
/// base image and delta (deleted and new relationships, changed properties) and with an
/// uncommitted transaction open while the image is written.
#[test]
fn images_written_on_one_thread_and_on_several_are_identical_and_read_as_the_model() {
    use graphdb::checkpoint::write::{set_base_write_scan_entries, set_base_write_threads};
    let n = 9000;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut images = Vec::new();
    // The third gathers its incoming lists in ranges of at most 3000 entries (several scans).
    for (d, (threads, scan)) in dirs
        .iter()
        .zip([(1usize, None), (4, None), (4, Some(3000))])
    {
        let path = d.path().join("db");
        let path = path.to_str().unwrap();
        let db = Database::open(path, &opts(&[])).unwrap();
        big_graph(&db, n);
        set_base_write_threads(Some(threads));
        set_base_write_scan_entries(scan);
        db.checkpoint().unwrap();
        drop(db);
        let db = Database::open(path, &opts(&[])).unwrap();
        big_graph_later(&db, n);
        // Not in any image: uncommitted while it is written.
        let mut open_txn = db.connect();
        open_txn.begin(graphdb::TxnMode::ReadWrite).unwrap();
        open_txn
            .query(
                "MATCH (a:N {i: 5}), (b:N {i: 6}) CREATE (a)-[:R]->(b)",
                &Params::new(),
            )
            .unwrap();
        open_txn
            .query("MATCH ()-[r:T]->() WHERE r.w = 10 DELETE r", &Params::new())
            .unwrap();
        db.checkpoint().unwrap();
        set_base_write_threads(None);
        set_base_write_scan_entries(None);
        open_txn.rollback().unwrap();
        drop(open_txn);
        drop(db);
        let base = files(Path::new(path), "base-");
        assert_eq!(base.len(), 1, "{base:?}");
        images.push(std::fs::read(Path::new(path).join(&base[0])).unwrap());
    }
    assert!(images[0].len() > 1 << 20, "{} bytes", images[0].len());
    assert!(
        images[0] == images[1],
        "the images written on one thread and on four differ"
    );
    assert!(
        images[0] == images[2],
        "the image with its incoming lists gathered in several ranges differs"
    );
    let model = Database::open(":memory:", &opts(&[])).unwrap();
    big_graph(&model, n);
    big_graph_later(&model, n);
    let (want, want_in) = (dump(&model), incoming(&model));
    for d in &dirs {
        let db = Database::open(d.path().join("db").to_str().unwrap(), &opts(&[])).unwrap();
        db.check().unwrap();
        assert!(dump(&db) == want, "the image does not read as the model");
        assert!(
            incoming(&db) == want_in,
            "incoming lists differ from the model"
        );
    }
    println!(
        "{} nodes: images of {} bytes identical on 1 and 4 threads and with incoming lists in \
         several ranges, equal to the model",
        n,
        images[0].len()
    );
}

/// A failure at any I/O operation of a checkpoint, whichever part of the image write (on
/// whichever thread) it hits, fails the checkpoint with `Io`, stops the other parts, leaves
/// no temporary file, and leaves the previous image in use with the data intact.
#[test]
fn a_failure_anywhere_in_a_parallel_image_write_leaves_the_previous_image() {
    use graphdb::vfs::sim::{Fault, FaultKind};
    let root = "/sim/db";
    let n = 9000;
    let sim = SimIo::new();
    let open = |sim: &SimIo| Database::open_with_io(root, &opts(&[]), Arc::new(sim.clone()));
    let mut db = open(&sim).unwrap();
    big_graph(&db, n);
    db.checkpoint().unwrap();
    big_graph_later(&db, n);
    let expected = dump(&db);
    // The operations of one checkpoint of this graph.
    let before = sim.ops();
    db.checkpoint().unwrap();
    let span = sim.ops() - before;
    let (mut failed, mut in_write) = (0, 0);
    for k in 1..=span {
        let bases = sim_files(&sim, root, "base-");
        let kind = if k % 2 == 0 {
            FaultKind::Eio
        } else {
            FaultKind::TornWrite
        };
        sim.set_fault(Some(Fault {
            at: sim.ops() + k,
            kind,
            persistent: false,
        }));
        let r = db.checkpoint();
        sim.set_fault(None);
        let now = sim_files(&sim, root, "base-");
        assert!(
            now.iter()
                .all(|p| p.extension().is_some_and(|x| x == "gdb")),
            "operation {k}: a temporary file is left: {now:?}"
        );
        if let Err(e) = r {
            assert_eq!(e.kind(), ErrorKind::Io, "operation {k}: {e}");
            failed += 1;
            if e.message().contains(".gdb.tmp") {
                // The image itself failed: nothing replaced the previous one.
                in_write += 1;
                assert_eq!(now, bases, "operation {k}: {e}");
            }
            assert_eq!(try_dump(&db).unwrap(), expected, "operation {k}: {e}");
            drop(db);
            db = open(&sim).unwrap();
        }
        assert_eq!(dump(&db), expected, "operation {k}");
    }
    db.check().unwrap();
    assert!(in_write > 20, "{in_write} failures in the image write");
    println!(
        "{span} operations of a checkpoint failed in turn: {failed} checkpoints failed, \
         {in_write} in the image write; the previous image stayed in use each time"
    );
}
