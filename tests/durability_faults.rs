//! Faults, power loss and damaged files, on the simulated file system (`vfs::sim::SimIo`).
//!
//! Every test compares what a reopened database holds with the states of a fixed workload
//! computed on an in-memory database: after a fault the recovered state must be the state
//! after exactly the acknowledged commits, or after those plus the one that failed (its
//! record may have reached the disk before the error). Bounded by default; `GRAPHDB_SOAK=1`
//! runs more power-loss images and bit flips. Each test prints what it checked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use graphdb::api::Value;
use graphdb::vfs::sim::{Fault, FaultKind, SimIo};
use graphdb::{Database, ErrorKind, Options, Params};

const DB: &str = "/sim/db";

fn soak() -> bool {
    std::env::var_os("GRAPHDB_SOAK").is_some()
}

/// One step of the workload: a query and its parameters (one auto-committed transaction).
fn step(i: i64) -> (&'static str, Params) {
    let p = |pairs: &[(&str, i64)]| -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Int(*v)))
            .collect()
    };
    match i % 4 {
        0 => (
            "CREATE (:N {k: $k, v: 0, s: 'a fairly long string property to make records longer than a few bytes'})",
            p(&[("k", i)]),
        ),
        1 => (
            "MATCH (n:N {k: $a}) SET n.v = n.v + $i",
            p(&[("a", i - 1), ("i", i)]),
        ),
        2 => (
            "MATCH (a:N {k: $a}) CREATE (a)-[:R {w: $k}]->(:N:M {k: $k, v: 1})",
            p(&[("a", i - 2), ("k", i)]),
        ),
        _ => ("MATCH (n:N {k: $d}) DETACH DELETE n", p(&[("d", i - 3)])),
    }
}

const STEPS: i64 = 16;
/// The workload closes and reopens the database after this many steps.
const REOPEN_AFTER: i64 = 8;
/// The workload checkpoints after these steps (so faults hit every step of the protocol,
/// and the reopen and later recoveries start from a base image).
const CHECKPOINT_AFTER: [i64; 2] = [5, 11];

/// A canonical rendering of everything the workload touches.
fn dump(db: &Database) -> graphdb::Result<String> {
    let mut c = db.connect();
    let nodes = c.query(
        "MATCH (n:N) RETURN n.k AS k, n.v AS v, labels(n) AS l, n.s AS s ORDER BY k",
        &Params::new(),
    )?;
    let rels = c.query(
        "MATCH (a:N)-[r:R]->(b:N) RETURN a.k AS a, r.w AS w, b.k AS b ORDER BY w",
        &Params::new(),
    )?;
    Ok(format!("{:?} / {:?}", nodes.rows, rels.rows))
}

/// `states[j]`: the database after the first `j` steps.
fn model_states() -> Vec<String> {
    let db = Database::open(":memory:", &Options::new()).unwrap();
    let mut c = db.connect();
    let mut states = vec![dump(&db).unwrap()];
    for i in 0..STEPS {
        let (q, ps) = step(i);
        c.query(q, &ps).unwrap();
        states.push(dump(&db).unwrap());
    }
    for w in states.windows(2) {
        assert_ne!(w[0], w[1], "every workload step must change the state");
    }
    states
}

fn open(sim: &SimIo) -> graphdb::Result<Database> {
    Database::open_with_io(DB, &Options::new(), Arc::new(sim.clone()))
}

/// Runs the workload until it completes or something fails; returns the number of
/// acknowledged steps and whether a step failed after being attempted (so it may be on
/// disk). After a failure, checks that the database refuses writes with `Io` and stays
/// readable.
fn run_workload(sim: &SimIo) -> (usize, bool) {
    let mut acked = 0usize;
    let mut db = match open(sim) {
        Ok(db) => db,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Io, "open under a fault: {e}");
            return (0, false);
        }
    };
    for i in 0..STEPS {
        if i == REOPEN_AFTER {
            drop(db);
            db = match open(sim) {
                Ok(db) => db,
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Io, "reopen under a fault: {e}");
                    return (acked, false);
                }
            };
        }
        let (q, ps) = step(i);
        let mut c = db.connect();
        if CHECKPOINT_AFTER.contains(&(i - 1)) {
            if let Err(e) = c.query("CHECKPOINT", &Params::new()) {
                // A failed checkpoint changes no data. Either only the checkpoint failed, or
                // (manifest switch or log sync) the database now refuses writes: the steps
                // below find out which, and reads keep working either way.
                assert_eq!(e.kind(), ErrorKind::Io, "checkpoint under a fault: {e}");
                dump(&db).expect("readable after a failed checkpoint");
            }
        }
        match c.query(q, &ps) {
            Ok(_) => acked += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Io, "step {i} under a fault: {e}");
                // Poisoned: later writes are refused, reads still work.
                let e2 = c
                    .query("CREATE (:Probe)", &Params::new())
                    .expect_err("a write after an I/O failure");
                assert_eq!(e2.kind(), ErrorKind::Io, "{e2}");
                assert!(
                    e2.message().contains("reopen the database to recover"),
                    "{e2}"
                );
                dump(&db).expect("the database stays readable after an I/O failure");
                return (acked, true);
            }
        }
    }
    (acked, false)
}

/// Opens the database in `view` and finds which state it holds among `allowed` indexes.
fn recovered_state(view: &SimIo, states: &[String], allowed: &[usize], what: &str) -> usize {
    let db = open(view).unwrap_or_else(|e| panic!("{what}: reopening failed: {e}"));
    let got = dump(&db).unwrap();
    allowed
        .iter()
        .copied()
        .find(|&j| states[j] == got)
        .unwrap_or_else(|| {
            panic!("{what}: recovered state is none of the allowed prefixes {allowed:?}: {got}")
        })
}

/// Returns (fault points, faults hit, faults that hit a space reservation).
fn sweep(kind: FaultKind, persistent: bool, states: &[String]) -> (u64, u64, u64) {
    let mut n = 1u64;
    let mut faults = 0;
    let mut at_reservation = 0;
    loop {
        let sim = SimIo::new();
        sim.set_fault(Some(Fault {
            at: n,
            kind,
            persistent,
        }));
        let (acked, maybe_one_more) = run_workload(&sim);
        let hit = sim.faults_hit() > 0;
        if !hit {
            assert_eq!(acked, STEPS as usize, "no fault, yet the workload stopped");
            return (n - 1, faults, at_reservation);
        }
        faults += 1;
        at_reservation += sim.allocation_faults().min(1);
        let mut allowed = vec![acked];
        if maybe_one_more {
            allowed.push(acked + 1);
        }
        let what = format!("{kind:?} (persistent: {persistent}) at operation {n}");
        // A fault before the directory was complete leaves nothing to recover: the reopen
        // creates a fresh database, which is state 0, allowed since nothing was acknowledged.
        {
            recovered_state(
                &sim.after_process_crash(),
                states,
                &allowed,
                &format!("{what}, process crash"),
            );
            recovered_state(
                &sim.power_loss(n),
                states,
                &allowed,
                &format!("{what}, power loss"),
            );
        }
        n += 1;
    }
}

#[test]
fn fault_sweep_every_operation_of_a_fixed_workload() {
    let states = model_states();
    let mut report = Vec::new();
    for (kind, persistent) in [
        (FaultKind::Eio, false),
        (FaultKind::Eio, true),
        (FaultKind::NoSpace, false),
        (FaultKind::TornWrite, false),
        (FaultKind::ShortWrite, false),
    ] {
        let (points, failures, at_reservation) = sweep(kind, persistent, &states);
        report.push(format!(
            "{kind:?}{}: {points} fault points, {failures} hit ({at_reservation} at a log \
             space reservation)",
            if persistent { " (persistent)" } else { "" }
        ));
        // The log reserves space ahead of its appends: failing that call is covered too.
        if kind != FaultKind::ShortWrite {
            assert!(
                at_reservation > 0,
                "{kind:?}: no fault hit a space reservation"
            );
        }
        assert!(
            points > 2 * STEPS as u64,
            "the sweep covered too few operations"
        );
    }
    println!(
        "fault sweep over {STEPS} steps (reopen after {REOPEN_AFTER}): {}",
        report.join("; ")
    );
}

#[test]
fn short_writes_are_completed_not_failed() {
    let states = model_states();
    let mut points = 0;
    for n in 1..200 {
        let sim = SimIo::new();
        sim.set_fault(Some(Fault {
            at: n,
            kind: FaultKind::ShortWrite,
            persistent: false,
        }));
        let (acked, _) = run_workload(&sim);
        assert_eq!(
            acked, STEPS as usize,
            "a short write at operation {n} failed a commit"
        );
        let got = recovered_state(
            &sim.after_process_crash(),
            &states,
            &[STEPS as usize],
            "short",
        );
        assert_eq!(got, STEPS as usize);
        points += 1;
    }
    println!("short writes: {points} positions, every commit completed");
}

#[test]
fn power_loss_keeps_a_prefix_with_every_acknowledged_commit() {
    let states = model_states();
    let images_per_step = if soak() { 20 } else { 4 };
    let mut images = 0;
    let mut checkpoints = 0;
    for sync in ["full", "normal"] {
        let sim = SimIo::new();
        // A disk whose flush takes a while, so images catch commits in flight.
        sim.set_sync_delay(std::time::Duration::from_micros(300));
        let mut o = Options::new();
        o.set("sync", sync).unwrap();
        let db = Database::open_with_io(DB, &o, Arc::new(sim.clone())).unwrap();
        let acked = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|s| {
            let writer = {
                let acked = Arc::clone(&acked);
                let db = db.clone();
                s.spawn(move || {
                    let mut c = db.connect();
                    for i in 0..STEPS {
                        let (q, ps) = step(i);
                        c.query(q, &ps).unwrap();
                        acked.store(i as usize + 1, Ordering::SeqCst);
                    }
                })
            };
            // Checkpoints run beside the writer the whole time, so power cuts land in every
            // step of the protocol.
            let checkpointer = {
                let db = db.clone();
                s.spawn(move || {
                    let mut n = 0;
                    while !writer.is_finished() {
                        db.checkpoint().unwrap();
                        n += 1;
                    }
                    writer.join().unwrap();
                    n
                })
            };
            let mut seed = 1u64;
            loop {
                let done = checkpointer.is_finished();
                let before = acked.load(Ordering::SeqCst);
                for _ in 0..images_per_step {
                    let image = sim.power_loss(seed);
                    let after = acked.load(Ordering::SeqCst);
                    // sync=full: every acknowledged commit survives; sync=normal: any prefix.
                    let low = if sync == "full" { before } else { 0 };
                    let allowed: Vec<usize> = (low..=(after + 1).min(STEPS as usize)).collect();
                    recovered_state(
                        &image,
                        &states,
                        &allowed,
                        &format!("sync={sync}, power loss image {seed}"),
                    );
                    seed += 1;
                    images += 1;
                }
                if done {
                    break;
                }
            }
            checkpoints += checkpointer.join().unwrap();
        });
    }
    println!(
        "power loss: {images} images (taken while {checkpoints} checkpoints ran beside the \
         writer) recovered to a prefix holding every acknowledged commit"
    );
}

/// Flips one bit of `bytes` at a pseudo-random position derived from `seed`.
fn flip(bytes: &mut [u8], seed: u64) -> usize {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x >> 29;
    let pos = (x % bytes.len() as u64) as usize;
    bytes[pos] ^= 1 << ((x >> 32) % 8);
    pos
}

#[test]
fn bit_flips_give_a_valid_prefix_or_corrupt_never_wrong_data() {
    let states = model_states();
    let sim = SimIo::new();
    let db = open(&sim).unwrap();
    let mut c = db.connect();
    for i in 0..STEPS {
        if i == REOPEN_AFTER {
            // The damaged directory holds a base image (steps up to here) and a log after it.
            c.query("CHECKPOINT", &Params::new()).unwrap();
        }
        let (q, ps) = step(i);
        c.query(q, &ps).unwrap();
    }
    drop(c);
    drop(db);
    let root = std::path::Path::new(DB);
    let named = |prefix: &str| {
        use graphdb::vfs::Io;
        let mut v: Vec<_> = sim
            .list_dir(root)
            .unwrap()
            .into_iter()
            .filter(|n| n.to_string_lossy().starts_with(prefix))
            .collect();
        assert_eq!(v.len(), 1, "one {prefix} file");
        root.join(v.remove(0))
    };
    let wal = named("wal-");
    let base = named("base-");
    let manifest = root.join("graphdb.meta");
    let targets = [&manifest, &wal, &wal, &base];
    let pristine: Vec<Vec<u8>> = targets.iter().map(|t| sim.contents(t).unwrap()).collect();
    let flips = if soak() { 5000 } else { 600 };
    let (mut prefix, mut corrupt, mut newer) = (0, 0, 0);
    for seed in 0..flips {
        let view = sim.after_process_crash();
        let target = targets[seed as usize % 4];
        let mut bytes = pristine[seed as usize % 4].clone();
        let pos = flip(&mut bytes, seed);
        view.replace_contents(target, &bytes);
        let what = format!("bit flip at byte {pos} of {}", target.display());
        match open(&view) {
            Ok(db) => match dump(&db) {
                Ok(got) => {
                    // Only damage to the final record may be cut off as a torn tail; anything
                    // else must be reported.
                    assert!(
                        got == states[STEPS as usize] || got == states[STEPS as usize - 1],
                        "{what}: opened with wrong data: {got}"
                    );
                    prefix += 1;
                }
                // The base image's blocks are verified when first read: damage there fails
                // the statement reading it, naming the file.
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
                    assert!(
                        target == &base && e.message().contains(&target.display().to_string()),
                        "{what}: the error must name the file: {e}"
                    );
                    corrupt += 1;
                }
            },
            Err(e) if e.kind() == ErrorKind::Corrupt => {
                assert!(
                    e.message().contains(&target.display().to_string()),
                    "{what}: the error must name the file: {e}"
                );
                corrupt += 1;
            }
            Err(e) if e.message().contains("newer libgraphdb") => newer += 1,
            Err(e) => panic!("{what}: unexpected error {e}"),
        }
    }
    println!(
        "bit flips in the manifest, log and base image: {flips} damaged images: {prefix} \
         opened to a valid prefix, {corrupt} reported CORRUPT, {newer} read as a newer format"
    );
    assert!(corrupt > 0 && prefix > 0);
}

#[test]
fn sync_normal_background_fsync_failure_poisons_the_next_write() {
    let states = model_states();
    let sim = SimIo::new();
    let mut o = Options::new();
    o.set("sync", "normal").unwrap();
    let db = Database::open_with_io(DB, &o, Arc::new(sim.clone())).unwrap();
    let mut c = db.connect();
    let (q, ps) = step(0);
    c.query(q, &ps).unwrap();
    // Wait for the background sync, then make the disk fail everything from the next
    // operation on, and give the background thread time to meet it.
    std::thread::sleep(std::time::Duration::from_millis(120));
    let (q, ps) = step(1);
    c.query(q, &ps).unwrap();
    sim.set_fault(Some(Fault {
        at: sim.ops() + 1,
        kind: FaultKind::Eio,
        persistent: true,
    }));
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert!(sim.faults_hit() > 0, "the background sync never ran");
    let (q, ps) = step(2);
    let e = c
        .query(q, &ps)
        .expect_err("a write after a failed background sync");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("reopen the database"), "{e}");
    assert_eq!(
        dump(&db).unwrap(),
        states[2],
        "still readable, with what committed"
    );
    drop(c);
    drop(db);
    sim.set_fault(None);
    // Commit 0 was synced; commit 1 was written but its sync failed: either state.
    recovered_state(
        &sim.after_process_crash(),
        &states,
        &[1, 2],
        "process crash",
    );
    recovered_state(&sim.power_loss(7), &states, &[1, 2], "power loss");
    println!("sync=normal: a failed background fsync poisoned the database; reopen recovered");
}

#[test]
fn a_read_only_file_system_is_refused_clearly_and_the_data_stays_intact() {
    let states = model_states();
    let sim = SimIo::new();
    let db = open(&sim).unwrap();
    let mut c = db.connect();
    for i in 0..4 {
        let (q, ps) = step(i);
        c.query(q, &ps).unwrap();
    }
    drop(c);
    drop(db);
    sim.set_read_only(true);
    let e = open(&sim)
        .err()
        .expect("read-write open on a read-only mount");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("access_mode=read_only"), "{e}");
    let mut o = Options::new();
    o.set("access_mode", "read_only").unwrap();
    let ro = Database::open_with_io(DB, &o, Arc::new(sim.clone())).unwrap();
    assert_eq!(dump(&ro).unwrap(), states[4]);
    drop(ro);
    sim.set_read_only(false);
    assert_eq!(dump(&open(&sim).unwrap()).unwrap(), states[4]);
    println!(
        "read-only mount: read-write open refused with advice, read-only open served the data"
    );
}
