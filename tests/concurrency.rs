//! Many writers at once, through Cypher: no anomalies under SERIALIZABLE, the retry helper
//! absorbs conflicts. Bounded by default; `GRAPHDB_SOAK=1` multiplies the work.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use graphdb::api::Value;
use graphdb::{Connection, Database, ErrorKind, Options, Params, TxnMode};

const THREADS: usize = 8;
const RETRIES: u32 = 10_000;

fn scale(n: usize) -> usize {
    if std::env::var_os("GRAPHDB_SOAK").is_some() {
        n * 10
    } else {
        n
    }
}

fn params(pairs: &[(&str, i64)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::Int(*v)))
        .collect()
}

fn int(c: &mut Connection, q: &str, ps: &Params) -> i64 {
    let r = c.query(q, ps).unwrap_or_else(|e| panic!("{q}: {e}"));
    match r.rows.first().and_then(|row| row.first()) {
        Some(Value::Int(i)) => *i,
        other => panic!("{q}: expected one integer, got {other:?}"),
    }
}

fn mem(isolation: &str) -> Database {
    let mut o = Options::new();
    o.set("isolation", isolation).unwrap();
    Database::open(":memory:", &o).unwrap()
}

/// Runs `f` on `n` threads released together, so short workloads really overlap.
fn run_threads(n: usize, f: impl Fn(usize) + Send + Sync + 'static) {
    let f = Arc::new(f);
    let start = Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|t| {
            let f = Arc::clone(&f);
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                f(t)
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker thread panicked");
    }
}

#[test]
fn bank_transfers_keep_the_total_and_never_overdraw() {
    const ACCOUNTS: i64 = 100;
    const START: i64 = 100;
    let db = mem("serializable");
    db.connect()
        .query(
            "UNWIND range(0, $n - 1) AS i CREATE (:Account {id: i, balance: $start})",
            &params(&[("n", ACCOUNTS), ("start", START)]),
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let audits = Arc::new(AtomicU64::new(0));
    let auditor = {
        let (db, stop, audits) = (db.clone(), Arc::clone(&stop), Arc::clone(&audits));
        std::thread::spawn(move || {
            let mut c = db.connect();
            while !stop.load(Ordering::Relaxed) {
                c.begin(TxnMode::ReadOnly).unwrap();
                let total = int(
                    &mut c,
                    "MATCH (a:Account) RETURN sum(a.balance)",
                    &Params::new(),
                );
                let negative = int(
                    &mut c,
                    "MATCH (a:Account) WHERE a.balance < 0 RETURN count(a)",
                    &Params::new(),
                );
                c.commit().unwrap();
                assert_eq!(
                    total,
                    ACCOUNTS * START,
                    "a snapshot saw a half-done transfer"
                );
                assert_eq!(negative, 0, "an account was overdrawn");
                audits.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let per_thread = scale(40);
    let db2 = db.clone();
    run_threads(THREADS, move |t| {
        let mut c = db2.connect();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (t as u64 + 1);
        for _ in 0..per_thread {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let from = (seed % ACCOUNTS as u64) as i64;
            let to = ((seed >> 20) % ACCOUNTS as u64) as i64;
            let amount = ((seed >> 40) % 150) as i64 + 1;
            if from == to {
                continue;
            }
            let ps = params(&[("from", from), ("to", to), ("amt", amount)]);
            c.transact(TxnMode::ReadWrite, RETRIES, |c| {
                let balance = int(c, "MATCH (a:Account {id: $from}) RETURN a.balance", &ps);
                if balance < amount {
                    return Ok(()); // refused: would overdraw
                }
                c.query(
                    "MATCH (a:Account {id: $from}), (b:Account {id: $to}) \
                     SET a.balance = a.balance - $amt, b.balance = b.balance + $amt",
                    &ps,
                )
                .map(|_| ())
            })
            .expect("transfer failed despite retries");
        }
    });
    stop.store(true, Ordering::Relaxed);
    auditor.join().expect("auditor failed");
    let mut c = db.connect();
    assert_eq!(
        int(
            &mut c,
            "MATCH (a:Account) RETURN sum(a.balance)",
            &Params::new()
        ),
        ACCOUNTS * START
    );
    println!(
        "bank: {} transfers attempted, {} consistent audits",
        THREADS * per_thread,
        audits.load(Ordering::Relaxed)
    );
}

/// Each doctor checks that at least two are on call, then goes off call.
fn doctors(isolation: &str) -> i64 {
    let db = mem(isolation);
    db.connect()
        .query(
            "CREATE (:Doctor {id: 1, on_call: true}), (:Doctor {id: 2, on_call: true})",
            &Params::new(),
        )
        .unwrap();
    let mut a = db.connect();
    let mut b = db.connect();
    a.begin(TxnMode::ReadWrite).unwrap();
    b.begin(TxnMode::ReadWrite).unwrap();
    let q_count = "MATCH (d:Doctor) WHERE d.on_call RETURN count(d)";
    let q_off = "MATCH (d:Doctor {id: $id}) SET d.on_call = false";
    for (c, id) in [(&mut a, 1), (&mut b, 2)] {
        assert_eq!(int(c, q_count, &Params::new()), 2);
        c.query(q_off, &params(&[("id", id)])).unwrap();
    }
    let first = a.commit();
    let second = b.commit();
    assert!(first.is_ok());
    if isolation == "serializable" {
        assert_eq!(second.unwrap_err().kind(), ErrorKind::Conflict);
    } else {
        second.unwrap();
    }
    int(&mut db.connect(), q_count, &Params::new())
}

#[test]
fn write_skew_is_prevented_under_serializable_and_shown_under_snapshot() {
    assert_eq!(doctors("serializable"), 1, "someone must stay on call");
    assert_eq!(
        doctors("snapshot"),
        0,
        "snapshot isolation admits write skew"
    );
}

#[test]
fn last_seat_is_booked_exactly_once() {
    let db = mem("serializable");
    db.connect()
        .query("CREATE (:Seat {id: 42})", &Params::new())
        .unwrap();
    let db2 = db.clone();
    run_threads(THREADS, move |t| {
        let mut c = db2.connect();
        c.transact(TxnMode::ReadWrite, RETRIES, |c| {
            c.query(
                "MATCH (seat:Seat {id: 42}) WHERE NOT EXISTS { MATCH (seat)<-[:BOOKED]-() } \
                 CREATE (:User {id: $u})-[:BOOKED]->(seat)",
                &params(&[("u", t as i64)]),
            )
            .map(|_| ())
        })
        .expect("booking failed despite retries");
    });
    let mut c = db.connect();
    assert_eq!(
        int(
            &mut c,
            "MATCH (:User)-[b:BOOKED]->(:Seat) RETURN count(b)",
            &Params::new()
        ),
        1
    );
}

#[test]
fn counter_increments_are_never_lost_with_the_retry_helper() {
    let db = mem("serializable");
    db.connect()
        .query("CREATE (:Counter {v: 0})", &Params::new())
        .unwrap();
    let per_thread = scale(500);
    let db2 = db.clone();
    run_threads(THREADS, move |_| {
        let mut c = db2.connect();
        for _ in 0..per_thread {
            c.transact(TxnMode::ReadWrite, RETRIES, |c| {
                c.query("MATCH (c:Counter) SET c.v = c.v + 1", &Params::new())
                    .map(|_| ())
            })
            .expect("increment failed despite retries");
        }
    });
    let mut c = db.connect();
    assert_eq!(
        int(&mut c, "MATCH (c:Counter) RETURN c.v", &Params::new()),
        (THREADS * per_thread) as i64
    );
}

#[test]
fn concurrent_relationship_merge_creates_one_relationship() {
    // Many short rounds: the race is between two MERGEs' reads and writes, so each round is
    // a fresh chance to lose it. Odd rounds use a type that exists before the MERGEs (their
    // adjacency reads conflict), even rounds one the MERGEs are the first to use (the read
    // of the absent type conflicts).
    for round in 0..scale(20) {
        let db = mem("serializable");
        let setup = if round % 2 == 1 {
            "CREATE (:P {id: 1})-[:R]->(:Other), (:P {id: 2})"
        } else {
            "CREATE (:P {id: 1}), (:P {id: 2})"
        };
        db.connect().query(setup, &Params::new()).unwrap();
        let db2 = db.clone();
        run_threads(THREADS, move |_| {
            let mut c = db2.connect();
            c.transact(TxnMode::ReadWrite, RETRIES, |c| {
                c.query(
                    "MATCH (a:P {id: 1}), (b:P {id: 2}) MERGE (a)-[:R]->(b)",
                    &Params::new(),
                )
                .map(|_| ())
            })
            .expect("merge failed despite retries");
        });
        let mut c = db.connect();
        assert_eq!(
            int(
                &mut c,
                "MATCH (:P)-[r:R]->(:P) RETURN count(r)",
                &Params::new()
            ),
            1,
            "round {round}"
        );
    }
}

#[test]
fn supernode_takes_concurrent_relationships_without_conflicts() {
    let db = mem("serializable");
    db.connect()
        .query("CREATE (:Hub {id: 0})", &Params::new())
        .unwrap();
    let per_thread = scale(1000);
    let db2 = db.clone();
    run_threads(THREADS, move |t| {
        let mut c = db2.connect();
        for i in 0..per_thread {
            // Plain auto-commit, no retry: any conflict fails the test.
            c.query(
                "MATCH (h:Hub) CREATE (:Spoke {t: $t, i: $i})-[:TO]->(h)",
                &params(&[("t", t as i64), ("i", i as i64)]),
            )
            .unwrap_or_else(|e| panic!("supernode write conflicted: {e}"));
        }
    });
    let mut c = db.connect();
    assert_eq!(
        int(
            &mut c,
            "MATCH (:Spoke)-[r:TO]->(:Hub) RETURN count(r)",
            &Params::new()
        ),
        (THREADS * per_thread) as i64
    );
}
