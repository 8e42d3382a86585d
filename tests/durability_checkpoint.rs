//! Power loss and disk failure at every I/O operation of a checkpoint, on the simulated file
//! system: whatever the operation, the database recovers exactly the commits acknowledged
//! before it, both after a process crash and after a power cut (only synced data survives,
//! unsynced sectors torn). Prints how many operations and images it checked.

use std::sync::Arc;

use graphdb::api::Value;
use graphdb::vfs::sim::{Fault, FaultKind, SimIo};
use graphdb::{Database, ErrorKind, Options, Params};

const DB: &str = "/sim/db";

fn dump(db: &Database) -> String {
    let mut c = db.connect();
    let n = c
        .query(
            "MATCH (n) RETURN id(n) AS i, labels(n) AS l, properties(n) AS p ORDER BY i",
            &Params::new(),
        )
        .unwrap();
    let r = c
        .query(
            "MATCH (a)-[r]->(b) RETURN id(r) AS i, id(a) AS a, type(r) AS t, id(b) AS b, \
             properties(r) AS p ORDER BY i",
            &Params::new(),
        )
        .unwrap();
    format!("{:?}\n{:?}", n.rows, r.rows)
}

fn options() -> Options {
    let mut o = Options::new();
    o.set("checkpoint_wal_bytes", "0").unwrap();
    o
}

fn work(db: &Database, from: i64, to: i64) {
    let mut c = db.connect();
    for i in from..to {
        let p: Params = [("i".to_string(), Value::Int(i))].into_iter().collect();
        c.query(
            "CREATE (:N {i: $i, s: 'some text to give the records a size'})-[:R {i: $i}]->(:M)",
            &p,
        )
        .unwrap();
        if i % 3 == 0 {
            c.query("MATCH (n:N {i: $i}) SET n.s = 'updated'", &p)
                .unwrap();
        }
        if i % 4 == 2 {
            c.query("MATCH (n:N {i: $i})-[r]->() DELETE r", &p).unwrap();
        }
    }
}

#[test]
fn power_loss_or_a_dead_disk_at_any_step_of_a_checkpoint_loses_nothing() {
    // A database with a base image, a log after it, and a second log from a first rotation.
    let sim = SimIo::new();
    let db = Database::open_with_io(DB, &options(), Arc::new(sim.clone())).unwrap();
    work(&db, 0, 20);
    db.checkpoint().unwrap();
    work(&db, 20, 30);
    let expected = dump(&db);
    drop(db);
    let mut points = 0u64;
    let mut images = 0u64;
    let mut poisoned = 0u64;
    let mut n = 1u64;
    for kind in [FaultKind::Eio, FaultKind::TornWrite, FaultKind::NoSpace] {
        loop {
            let s = sim.after_process_crash();
            let db = Database::open_with_io(DB, &options(), Arc::new(s.clone())).unwrap();
            s.set_fault(Some(Fault {
                at: s.ops() + n,
                kind,
                persistent: true,
            }));
            let outcome = db.checkpoint();
            let hit = s.faults_hit() > 0;
            if let Err(e) = &outcome {
                assert_eq!(e.kind(), ErrorKind::Io, "op {n}: {e}");
                assert!(hit, "op {n}: failed without a fault: {e}");
                // Still readable, with everything.
                s.set_fault(None);
                assert_eq!(dump(&db), expected, "op {n}: readable after the failure");
                let w = db.connect().query("CREATE (:After)", &Params::new());
                if let Err(e) = w {
                    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
                    assert!(e.message().contains("reopen the database"), "{e}");
                    poisoned += 1;
                } else {
                    // Only the checkpoint failed: the write is acknowledged and must survive
                    // a process crash; remove it again so every image has the same state.
                    db.connect()
                        .query("MATCH (a:After) DELETE a", &Params::new())
                        .unwrap();
                }
            }
            drop(db);
            if !hit {
                assert!(outcome.is_ok());
                break;
            }
            s.set_fault(None);
            for (what, view) in [
                ("process crash", s.after_process_crash()),
                ("power loss", s.power_loss(n)),
                ("power loss", s.power_loss(n + 1000)),
            ] {
                let db = Database::open_with_io(DB, &options(), Arc::new(view))
                    .unwrap_or_else(|e| panic!("{kind:?} at checkpoint op {n}, {what}: {e}"));
                assert_eq!(
                    dump(&db),
                    expected,
                    "{kind:?} at checkpoint op {n}, {what}: wrong state"
                );
                images += 1;
            }
            points += 1;
            n += 1;
        }
        n = 1;
    }
    assert!(points > 30, "too few operations: {points}");
    println!(
        "checkpoint faults: {points} fault points (Eio, torn write, ENOSPC at every operation), \
         {poisoned} left the database refusing writes, {images} crash and power-loss images \
         recovered every acknowledged commit"
    );
}

#[test]
fn power_cuts_while_checkpoints_and_commits_run_keep_every_acknowledged_commit() {
    let sim = SimIo::new();
    sim.set_sync_delay(std::time::Duration::from_micros(200));
    let db = Database::open_with_io(DB, &options(), Arc::new(sim.clone())).unwrap();
    work(&db, 0, 10);
    let rounds = if std::env::var_os("GRAPHDB_SOAK").is_some() {
        40
    } else {
        8
    };
    let mut images = 0;
    for round in 0..rounds {
        let from = 10 + round * 3;
        // States a power cut may leave: before this round's commits, or after any of them.
        let before = dump(&db);
        std::thread::scope(|s| {
            let ck = {
                let db = db.clone();
                s.spawn(move || db.checkpoint().unwrap())
            };
            let mut seed = round as u64 * 100;
            while !ck.is_finished() {
                let view = sim.power_loss(seed);
                seed += 1;
                let got = dump(&Database::open_with_io(DB, &options(), Arc::new(view)).unwrap());
                assert_eq!(got, before, "power cut during checkpoint {round}");
                images += 1;
            }
            ck.join().unwrap();
        });
        work(&db, from, from + 3);
    }
    let expected = dump(&db);
    drop(db);
    let got = dump(&Database::open_with_io(DB, &options(), Arc::new(sim.power_loss(7))).unwrap());
    assert_eq!(got, expected);
    println!("power cuts during {rounds} checkpoints: {images} images, each with every commit");
}
