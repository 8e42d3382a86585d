//! The batch engine (src/cypher/exec/batch) against the row engine: generated queries of the
//! batch class (scan, single-hop expansions, WHERE over properties / ids / labels with
//! literals and parameters, aggregates with optional grouping keys) on random graphs with
//! nulls and mixed types, a base image plus delta changes, deletions, uncommitted writes in
//! the running transaction and an older concurrent snapshot. Each query runs with the batch
//! engine (dense columns, direct reads, and the automatic choice) and with the row engine
//! forced (`set_batch_mode(Off)`), plain and prepared; answers must be equal. The test also
//! checks that the batch engine really ran (its per-thread run counter). Each batch setting
//! also runs with 1, 2 and 4 worker threads; a larger graph (several thousand start nodes,
//! so several chunks) checks the parallel runs the same way.

use graphdb::api::Value;
use graphdb::cypher::exec::{
    batch_image_columns, batch_parallel_runs, batch_runs, set_batch_mode, set_batch_threads,
    BatchMode,
};
use graphdb::{Connection, Database, IsolationMode, Options, Params, TxnMode};

#[path = "support/base_image.rs"]
mod base_image;
#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

fn opts() -> Options {
    let mut o = Options::new();
    o.set("sync", "off").unwrap();
    o.set("checkpoint_wal_bytes", "0").unwrap();
    o
}

fn run(c: &mut Connection, q: &str) {
    c.query(q, &Params::new())
        .unwrap_or_else(|e| panic!("{q}: {e}"));
}

/// A property value: mostly small integers, some floats (exact quarters, so sums do not
/// depend on their order), strings, booleans, and absent.
fn prop(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=4 => format!("{}", rng.below(20) as i64 - 5),
        5 => format!(
            "{}.{}",
            rng.below(10),
            [0, 25, 5, 75][rng.below(4) as usize]
        ),
        6 => format!("'s{}'", rng.below(5)),
        7 => (if rng.chance(50) { "true" } else { "false" }).to_string(),
        _ => "null".to_string(),
    }
}

fn labels(rng: &mut Rng) -> String {
    let mut s = String::new();
    for l in ["A", "B", "C"] {
        if rng.chance(45) {
            s.push(':');
            s.push_str(l);
        }
    }
    s
}

/// Nodes with random labels and properties `x`, `y` (`y` integers or absent), relationships
/// of types R and S (self loops included) with property `w`.
fn populate(c: &mut Connection, rng: &mut Rng, nodes: u64, rels: u64, first: u64) {
    for i in first..first + nodes {
        let y = if rng.chance(80) {
            format!(", y: {}", rng.below(7))
        } else {
            String::new()
        };
        run(
            c,
            &format!("CREATE (n{} {{k: {i}, x: {}{y}}})", labels(rng), prop(rng)),
        );
    }
    for _ in 0..rels {
        let a = first + rng.below(nodes);
        let b = if rng.chance(8) {
            a
        } else {
            first + rng.below(nodes)
        };
        let t = rng.pick(&["R", "S"]);
        run(
            c,
            &format!(
                "MATCH (a {{k: {a}}}), (b {{k: {b}}}) CREATE (a)-[:{t} {{w: {}}}]->(b)",
                prop(rng)
            ),
        );
    }
}

/// Deletions, property and label changes, new nodes and relationships.
fn churn(c: &mut Connection, rng: &mut Rng, max_k: u64, steps: usize) {
    for _ in 0..steps {
        let k = rng.below(max_k);
        let q = match rng.below(7) {
            0 => format!("MATCH (n {{k: {k}}}) DETACH DELETE n"),
            1 => format!("MATCH (n {{k: {k}}}) SET n.x = {}", prop(rng)),
            2 => format!("MATCH (n {{k: {k}}}) REMOVE n.y"),
            3 => format!("MATCH (n {{k: {k}}}) SET n:{}", rng.pick(&["A", "B", "C"])),
            4 => format!(
                "MATCH (n {{k: {k}}}) REMOVE n:{}",
                rng.pick(&["A", "B", "C"])
            ),
            5 => format!("MATCH (n {{k: {k}}})-[r]->() WITH r LIMIT 1 DELETE r"),
            _ => format!(
                "MATCH (a {{k: {k}}}), (b {{k: {}}}) CREATE (a)-[:{} {{w: {}}}]->(b)",
                rng.below(max_k),
                rng.pick(&["R", "S"]),
                prop(rng)
            ),
        };
        run(c, &q);
    }
}

fn operand(rng: &mut Rng, vars: &[(&str, bool)]) -> String {
    let (v, is_node) = *rng.pick(vars);
    match rng.below(9) {
        0..=3 => format!("{v}.{}", rng.pick(&["x", "y"])),
        4 if !is_node => format!("{v}.w"),
        4 => format!("{v}.x"),
        5 => format!("id({v})"),
        6 => format!("${}", rng.pick(&["p", "q", "s", "n"])),
        7 => format!("{}", rng.below(8) as i64 - 2),
        _ => rng.pick(&["2.5", "'s2'", "true", "null", "-1"]).to_string(),
    }
}

fn predicate(rng: &mut Rng, vars: &[(&str, bool)], depth: u32) -> String {
    let nodes: Vec<&str> = vars.iter().filter(|v| v.1).map(|v| v.0).collect();
    match rng.below(if depth == 0 { 4 } else { 8 }) {
        0 | 1 => format!(
            "{} {} {}",
            operand(rng, vars),
            rng.pick(&["=", "<>", "<", "<=", ">", ">="]),
            operand(rng, vars)
        ),
        2 => format!(
            "{} IS {}NULL",
            operand(rng, vars),
            if rng.chance(50) { "NOT " } else { "" }
        ),
        3 => format!(
            "{}:{}",
            rng.pick(&nodes),
            rng.pick(&["A", "B", "C", "Nope"])
        ),
        4 => format!("NOT ({})", predicate(rng, vars, depth - 1)),
        5 => format!(
            "({}) AND ({})",
            predicate(rng, vars, depth - 1),
            predicate(rng, vars, depth - 1)
        ),
        6 => format!(
            "({}) OR ({})",
            predicate(rng, vars, depth - 1),
            predicate(rng, vars, depth - 1)
        ),
        _ => format!(
            "({}) XOR ({})",
            predicate(rng, vars, depth - 1),
            predicate(rng, vars, depth - 1)
        ),
    }
}

/// A query of the batch class.
fn query(rng: &mut Rng) -> String {
    let hops = rng.below(3) as usize + usize::from(rng.chance(70));
    let hops = hops.min(3);
    let mut pattern = String::new();
    let mut vars: Vec<(String, bool)> = Vec::new();
    for i in 0..=hops {
        let name = format!("n{i}");
        let mut node = String::from("(");
        if rng.chance(85) {
            node.push_str(&name);
            vars.push((name.clone(), true));
        }
        if rng.chance(60) {
            node.push(':');
            let l = *rng.pick(&["A", "B", "C"]);
            node.push_str(l);
        }
        node.push(')');
        pattern.push_str(&node);
        if i < hops {
            let rname = format!("r{i}");
            let mut body = String::new();
            if rng.chance(60) {
                body.push_str(&rname);
                vars.push((rname.clone(), false));
            }
            match rng.below(4) {
                0 => {}
                1 => body.push_str(":R"),
                2 => body.push_str(":S"),
                _ => body.push_str(":R|S"),
            }
            pattern.push_str(match rng.below(3) {
                0 => "-[",
                1 => "<-[",
                _ => "-[",
            });
            let left = pattern.ends_with("<-[");
            pattern.push_str(&body);
            pattern.push_str(if left || rng.chance(40) { "]-" } else { "]->" });
        }
    }
    if !vars.iter().any(|v| v.1) {
        // Some variable to talk about.
        pattern = pattern.replacen("(", "(n0", 1);
        vars.push(("n0".into(), true));
    }
    let vr: Vec<(&str, bool)> = vars.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let mut q = format!("MATCH {pattern}");
    if rng.chance(75) {
        q.push_str(&format!(" WHERE {}", predicate(rng, &vr, 3)));
    }
    let mut items = Vec::new();
    if rng.chance(35) {
        let (v, _) = *rng.pick(&vr);
        items.push(match rng.below(3) {
            0 => format!("{v}.y AS key"),
            1 => format!("{v} AS key"),
            _ => format!("id({v}) AS key"),
        });
    }
    let aggs = 1 + rng.below(3);
    for i in 0..aggs {
        let (v, is_node) = *rng.pick(&vr);
        let key = if is_node { "y" } else { "w" };
        items.push(match rng.below(8) {
            0 => format!("count(*) AS a{i}"),
            1 => format!("count({v}) AS a{i}"),
            2 => format!("count(DISTINCT {v}.{key}) AS a{i}"),
            3 => format!("sum({v}.y) AS a{i}"),
            4 => format!("min({v}.x) AS a{i}"),
            5 => format!("max({v}.{key}) AS a{i}"),
            6 => format!("avg({v}.y) AS a{i}"),
            _ => format!("collect(DISTINCT {v}.y) AS a{i}"),
        });
    }
    q.push_str(" RETURN ");
    q.push_str(&items.join(", "));
    q
}

fn params(rng: &mut Rng) -> Params {
    let mut p = Params::new();
    p.insert("p".into(), Value::Int(rng.below(6) as i64));
    p.insert("q".into(), Value::Float(1.5));
    p.insert("s".into(), Value::String("s1".into()));
    p.insert("n".into(), Value::Null);
    p
}

/// Sorted rows, with collections sorted too (collect's order follows the match order,
/// which the two engines need not share) and floats rounded (stdev-like accumulators).
fn canon(rows: Vec<Vec<Value>>) -> Vec<String> {
    fn norm(v: &Value) -> String {
        match v {
            Value::List(xs) => {
                let mut s: Vec<String> = xs.iter().map(norm).collect();
                s.sort();
                format!("[{}]", s.join(","))
            }
            Value::Float(f) => format!("F{:.9}", f),
            other => format!("{other:?}"),
        }
    }
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| r.iter().map(norm).collect::<Vec<_>>().join(" | "))
        .collect();
    out.sort();
    out
}

/// Runs `q` in `c` with the given engine, plain or prepared, on one thread.
fn answer(
    c: &mut Connection,
    q: &str,
    p: &Params,
    mode: BatchMode,
    prepared: bool,
) -> Result<Vec<String>, graphdb::ErrorKind> {
    answer_on(c, q, p, mode, prepared, 1)
}

/// [`answer`] with `threads` batch workers.
fn answer_on(
    c: &mut Connection,
    q: &str,
    p: &Params,
    mode: BatchMode,
    prepared: bool,
    threads: usize,
) -> Result<Vec<String>, graphdb::ErrorKind> {
    set_batch_mode(mode);
    set_batch_threads(threads);
    let r = if prepared {
        let stmt = c.prepare(q).map_err(|e| e.kind())?;
        c.execute(&stmt, p)
    } else {
        c.query(q, p)
    };
    set_batch_mode(BatchMode::Auto);
    set_batch_threads(0);
    r.map(|r| canon(r.rows)).map_err(|e| e.kind())
}

/// Checks `n` generated queries in `c`; returns (queries, batch runs).
fn check(c: &mut Connection, rng: &mut Rng, n: usize, what: &str) -> (u64, u64) {
    let mut ran = 0;
    for _ in 0..n {
        let q = query(rng);
        let p = params(rng);
        let expected = answer(c, &q, &p, BatchMode::Off, false);
        for (mode, prepared, threads) in SETTINGS {
            let before = batch_runs();
            let got = answer_on(c, &q, &p, mode, prepared, threads);
            ran += batch_runs() - before;
            assert_eq!(
                got, expected,
                "{what}: {q} ({mode:?}, prepared: {prepared}, threads: {threads})"
            );
        }
    }
    (SETTINGS.len() as u64 * n as u64, ran)
}

/// Batch engine settings every generated query runs with: mode, prepared, worker threads.
const SETTINGS: [(BatchMode, bool, usize); 6] = [
    (BatchMode::Dense, false, 1),
    (BatchMode::Direct, false, 1),
    (BatchMode::Auto, true, 1),
    (BatchMode::Dense, false, 2),
    (BatchMode::Direct, false, 4),
    (BatchMode::Auto, true, 2),
];

#[test]
fn batch_and_row_engines_agree_on_generated_queries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let path = path.to_str().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let nodes = 60;
    {
        let db = Database::open(path, &opts()).unwrap();
        let mut c = db.connect();
        populate(&mut c, &mut rng, nodes, 150, 0);
        db.checkpoint().unwrap();
    }
    // Reopened: everything so far is read from the base image.
    let db = Database::open(path, &opts()).unwrap();
    let mut c = db.connect();
    let mut totals = (0, 0);
    let add = |t: &mut (u64, u64), x: (u64, u64)| {
        t.0 += x.0;
        t.1 += x.1;
    };
    add(&mut totals, check(&mut c, &mut rng, 60, "base image only"));

    // An older snapshot, taken before the delta changes.
    let mut old = db.connect();
    old.begin(TxnMode::ReadOnly).unwrap();
    let before_churn = answer(
        &mut old,
        "MATCH (a)-[r]->(b) RETURN count(*), sum(a.y), count(b.x)",
        &Params::new(),
        BatchMode::Off,
        false,
    );

    // Delta changes over the base: deletions, edits, new nodes and relationships.
    populate(&mut c, &mut rng, 20, 50, nodes);
    churn(&mut c, &mut rng, nodes + 20, 80);
    add(&mut totals, check(&mut c, &mut rng, 60, "base plus delta"));

    // The old snapshot still sees the graph before the changes, with either engine.
    assert_eq!(
        answer(
            &mut old,
            "MATCH (a)-[r]->(b) RETURN count(*), sum(a.y), count(b.x)",
            &Params::new(),
            BatchMode::Dense,
            false,
        ),
        before_churn
    );
    add(&mut totals, check(&mut old, &mut rng, 40, "older snapshot"));
    old.rollback().unwrap();

    // Uncommitted writes of the running transaction (snapshot isolation: the batch engine
    // runs; serializable read-write transactions record reads and use the row engine).
    c.begin_with_isolation(TxnMode::ReadWrite, IsolationMode::Snapshot)
        .unwrap();
    churn(&mut c, &mut rng, nodes + 20, 40);
    add(
        &mut totals,
        check(&mut c, &mut rng, 60, "own uncommitted writes"),
    );
    c.rollback().unwrap();

    c.begin_with_isolation(TxnMode::ReadWrite, IsolationMode::Serializable)
        .unwrap();
    let before = batch_runs();
    let (n, _) = check(&mut c, &mut rng, 10, "serializable");
    assert!(n > 0);
    assert_eq!(
        batch_runs(),
        before,
        "a serializable read-write transaction records its reads: row engine only"
    );
    c.rollback().unwrap();

    println!(
        "batch engine ran {} of {} query runs (the rest declined: unknown names)",
        totals.1, totals.0
    );
    assert!(
        totals.1 * 10 >= totals.0 * 8,
        "the batch engine ran too rarely to be tested: {totals:?}"
    );
}

#[test]
fn declines_what_it_cannot_do_the_same_way() {
    let db = Database::open(":memory:", &opts()).unwrap();
    let mut c = db.connect();
    run(
        &mut c,
        "UNWIND range(1, 50) AS i CREATE (:U {id: i, age: i % 7})-[:F]->(:U {id: 100 + i})",
    );
    let p = Params::new();
    let ran = |c: &mut Connection, q: &str, p: &Params| {
        let before = batch_runs();
        let r = c.query(q, p).map(|r| r.rows);
        (batch_runs() - before, r)
    };
    let (n, r) = ran(
        &mut c,
        "MATCH (a:U)-[:F]->(b:U) WHERE a.age < 3 RETURN count(*)",
        &p,
    );
    assert_eq!((n, r.unwrap()), (1, vec![vec![Value::Int(22)]]));
    // A missing parameter: the row engine reports it.
    let (n, r) = ran(&mut c, "MATCH (a:U) WHERE a.age < $x RETURN count(*)", &p);
    assert_eq!(n, 0);
    assert!(r.is_err());
    // An unknown label: no batch run, the row engine answers (no match).
    let (n, r) = ran(&mut c, "MATCH (a:Nope) RETURN count(*)", &p);
    assert_eq!((n, r.unwrap()), (0, vec![vec![Value::Int(0)]]));
    // A usable index on a key the WHERE reads: the row engine may seek.
    run(&mut c, "CREATE INDEX u_id FOR (u:U) ON (u.id)");
    let (n, r) = ran(&mut c, "MATCH (a:U) WHERE a.id = 7 RETURN count(*)", &p);
    assert_eq!((n, r.unwrap()), (0, vec![vec![Value::Int(1)]]));
    // A long chain is the row engine's (a row carries every position).
    let long = format!("MATCH (a:U){} RETURN count(*)", "-->()".repeat(20));
    let (n, r) = ran(&mut c, &long, &p);
    assert_eq!((n, r.unwrap()), (0, vec![vec![Value::Int(0)]]));
    // Not in the class: no aggregate.
    let (n, _) = ran(&mut c, "MATCH (a:U)-[:F]->(b) RETURN b.id", &p);
    assert_eq!(n, 0);
    // Sum over strings is the same type error in both engines.
    run(&mut c, "CREATE (:U {age: 'old'})");
    let q = "MATCH (a:U) RETURN sum(a.age)";
    set_batch_mode(BatchMode::Off);
    let row = c.query(q, &p).map(|r| r.rows).map_err(|e| e.kind());
    set_batch_mode(BatchMode::Auto);
    let (n, batch) = ran(&mut c, q, &p);
    assert_eq!(n, 0, "an error is no completed run");
    assert!(row.is_err());
    assert_eq!(batch.map_err(|e| e.kind()), row);
}

#[test]
fn explain_shows_the_batch_engine_and_interrupts_stop_it() {
    let db = Database::open(":memory:", &opts()).unwrap();
    let mut c = db.connect();
    run(&mut c, "UNWIND range(1, 3000) AS i CREATE (:U {age: i})");
    let plan = c
        .query(
            "EXPLAIN MATCH (a:U) WHERE a.age > 3 RETURN count(*)",
            &Params::new(),
        )
        .unwrap();
    let ops: Vec<String> = plan
        .rows
        .iter()
        .map(|r| match &r[0] {
            Value::String(s) => s.trim().to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert!(ops.iter().any(|o| o == "BatchAggregation"), "{ops:?}");
    set_batch_mode(BatchMode::Off);
    let plan = c
        .query(
            "EXPLAIN MATCH (a:U) WHERE a.age > 3 RETURN count(*)",
            &Params::new(),
        )
        .unwrap();
    set_batch_mode(BatchMode::Auto);
    assert!(!plan
        .rows
        .iter()
        .any(|r| r[0] == Value::String("BatchAggregation".into())));
    // An interrupt raised while the statement runs stops it at a batch boundary (the flag
    // is cleared when a statement starts, so another thread keeps raising it).
    let handle = c.interrupt_handle();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopper = std::sync::Arc::clone(&stop);
    let t = std::thread::spawn(move || {
        while !stopper.load(std::sync::atomic::Ordering::Relaxed) {
            handle.interrupt();
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    });
    let mut interrupted = false;
    for _ in 0..10_000 {
        let before = batch_runs();
        match c.query("MATCH (a:U)--(b) RETURN count(*)", &Params::new()) {
            Err(e) if e.kind() == graphdb::ErrorKind::Interrupted => {
                assert_eq!(batch_runs(), before, "an interrupted run completes nothing");
                interrupted = true;
                break;
            }
            Err(e) => panic!("{e}"),
            Ok(_) => {}
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    t.join().unwrap();
    assert!(interrupted, "the interrupt never stopped a batch run");
}

/// [`populate`] in bulk, for graphs of thousands of nodes: the nodes (all also labelled
/// `N`), then `rels` relationships between random nodes (self loops included).
fn populate_bulk(c: &mut Connection, rng: &mut Rng, nodes: u64, rels: u64) {
    let mut by_labels: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for k in 0..nodes {
        let y = if rng.chance(80) {
            rng.below(7).to_string()
        } else {
            "null".to_string()
        };
        let row = format!("[{k}, {}, {y}]", prop(rng));
        by_labels.entry(labels(rng)).or_default().push(row);
    }
    for (labels, rows) in by_labels {
        run(
            c,
            &format!(
                "UNWIND [{}] AS r CREATE (n{labels}:N {{k: r[0], x: r[1], y: r[2]}})",
                rows.join(", ")
            ),
        );
    }
    run(c, "CREATE INDEX bulk_k FOR (n:N) ON (n.k)");
    let mut by_type: [Vec<String>; 2] = Default::default();
    for _ in 0..rels {
        let a = rng.below(nodes);
        let b = if rng.chance(8) { a } else { rng.below(nodes) };
        let t = rng.below(2) as usize;
        by_type[t].push(format!("[{a}, {b}, {}]", prop(rng)));
    }
    for (t, rows) in ["R", "S"].iter().zip(by_type) {
        run(
            c,
            &format!(
                "UNWIND [{}] AS r MATCH (a:N {{k: r[0]}}), (b:N {{k: r[1]}}) \
                 CREATE (a)-[:{t} {{w: r[2]}}]->(b)",
                rows.join(", ")
            ),
        );
    }
    run(c, "DROP INDEX bulk_k");
}

#[test]
fn parallel_runs_agree_with_the_row_engine_on_larger_graphs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let path = path.to_str().unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    // Enough start nodes for several chunks of 1024 even behind one label (~45 %).
    let nodes = 12_000;
    {
        let db = Database::open(path, &opts()).unwrap();
        let mut c = db.connect();
        populate_bulk(&mut c, &mut rng, nodes, nodes);
        db.checkpoint().unwrap();
    }
    let db = Database::open(path, &opts()).unwrap();
    let mut c = db.connect();
    let par_before = batch_parallel_runs();
    let (mut total, mut ran) = check(&mut c, &mut rng, 12, "large, base image");
    churn(&mut c, &mut rng, nodes, 40);
    let (n, r) = check(&mut c, &mut rng, 12, "large, base plus delta");
    total += n;
    ran += r;
    c.begin_with_isolation(TxnMode::ReadWrite, IsolationMode::Snapshot)
        .unwrap();
    churn(&mut c, &mut rng, nodes, 20);
    let (n, r) = check(&mut c, &mut rng, 8, "large, own uncommitted writes");
    total += n;
    ran += r;
    c.rollback().unwrap();
    let parallel = batch_parallel_runs() - par_before;
    println!("batch engine ran {ran} of {total} runs, {parallel} with worker threads");
    assert!(
        ran * 10 >= total * 8,
        "the batch engine ran too rarely: {ran}/{total}"
    );
    // Half the settings ask for workers; most scans are large enough to use them.
    assert!(
        parallel * 4 >= total,
        "too few parallel runs to test them: {parallel}/{total}"
    );
}

/// The error of a parallel run is the single-threaded one: the first failing row in scan
/// order (a type error in chunk 3 before an overflow in chunk 7, whichever worker gets
/// there first), and an interrupt stops every worker.
#[test]
fn parallel_runs_report_the_first_error_in_scan_order() {
    let db = Database::open(":memory:", &opts()).unwrap();
    let mut c = db.connect();
    run(
        &mut c,
        "UNWIND range(0, 9999) AS i CREATE (:U {k: i, v: 1})",
    );
    run(&mut c, "MATCH (u:U {k: 3000}) SET u.v = 'three thousand'");
    run(
        &mut c,
        "MATCH (u:U {k: 7000}) SET u.v = 9223372036854775807",
    );
    let q = "MATCH (u:U) RETURN sum(u.v)";
    let p = Params::new();
    set_batch_mode(BatchMode::Off);
    let row = c
        .query(q, &p)
        .map(|r| r.rows)
        .map_err(|e| (e.kind(), e.to_string()));
    set_batch_mode(BatchMode::Auto);
    assert!(row.is_err(), "{row:?}");
    for threads in [1, 2, 4] {
        set_batch_threads(threads);
        let (runs, par) = (batch_runs(), batch_parallel_runs());
        let got = c
            .query(q, &p)
            .map(|r| r.rows)
            .map_err(|e| (e.kind(), e.to_string()));
        set_batch_threads(0);
        assert_eq!(got, row, "threads: {threads}");
        assert_eq!(batch_runs(), runs, "an error is no completed run");
        assert_eq!(batch_parallel_runs(), par);
    }
    // Without the type error the overflow is the error.
    run(&mut c, "MATCH (u:U {k: 3000}) SET u.v = 1");
    set_batch_mode(BatchMode::Off);
    let row = c.query(q, &p).map(|r| r.rows).map_err(|e| e.kind());
    set_batch_mode(BatchMode::Auto);
    assert!(row.is_err(), "{row:?}");
    set_batch_threads(4);
    assert_eq!(c.query(q, &p).map(|r| r.rows).map_err(|e| e.kind()), row);
    set_batch_threads(0);

    // An interrupt raised while a parallel run goes on ends it with Interrupted.
    run(&mut c, "MATCH (u:U {k: 7000}) SET u.v = 1");
    let handle = c.interrupt_handle();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopper = std::sync::Arc::clone(&stop);
    let t = std::thread::spawn(move || {
        while !stopper.load(std::sync::atomic::Ordering::Relaxed) {
            handle.interrupt();
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    });
    set_batch_threads(2);
    let mut interrupted = false;
    for _ in 0..10_000 {
        let before = batch_runs();
        match c.query("MATCH (a:U) WHERE a.v = 1 RETURN count(*)", &p) {
            Err(e) if e.kind() == graphdb::ErrorKind::Interrupted => {
                assert_eq!(batch_runs(), before, "an interrupted run completes nothing");
                interrupted = true;
                break;
            }
            Err(e) => panic!("{e}"),
            Ok(r) => assert_eq!(r.rows, vec![vec![Value::Int(10_000)]]),
        }
    }
    set_batch_threads(0);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    t.join().unwrap();
    assert!(interrupted, "the interrupt never stopped a parallel run");
}

/// Workers take the graph latch per chunk and never wait for each other holding it, so a
/// writer queued on the latch (which then holds back new readers) does not deadlock a
/// parallel scan. Bounded: a deadlock fails the test after a minute instead of hanging it.
#[test]
fn writers_do_not_deadlock_parallel_scans() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;
    let db = Database::open(":memory:", &opts()).unwrap();
    run(
        &mut db.connect(),
        "UNWIND range(1, 30000) AS i CREATE (:U {age: i % 50})-[:F]->(:U {age: i % 7})",
    );
    let done = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<&'static str>();
    let reader = {
        let (db, done, tx) = (db.clone(), Arc::clone(&done), tx.clone());
        std::thread::spawn(move || {
            /// Stops the writer however the reader ends.
            struct Done(Arc<AtomicBool>);
            impl Drop for Done {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::SeqCst);
                }
            }
            let _done = Done(Arc::clone(&done));
            let mut c = db.connect();
            set_batch_threads(4);
            let mut last = 0;
            for _ in 0..30 {
                let r = c
                    .query(
                        "MATCH (a:U)-[:F]->(b:U) WHERE a.age < b.age RETURN count(*)",
                        &Params::new(),
                    )
                    .unwrap();
                let Value::Int(n) = r.rows[0][0] else {
                    panic!("{:?}", r.rows)
                };
                // Writers only add relationships between nodes of ages 0 < 1.
                assert!(n >= last, "{n} < {last}");
                last = n;
            }
            assert!(batch_parallel_runs() >= 30);
            let _ = tx.send("reader");
        })
    };
    let writer = {
        let (db, done, tx) = (db.clone(), Arc::clone(&done), tx.clone());
        std::thread::spawn(move || {
            let mut c = db.connect();
            while !done.load(Ordering::SeqCst) {
                c.query("CREATE (:U {age: 0})-[:F]->(:U {age: 1})", &Params::new())
                    .unwrap();
            }
            let _ = tx.send("writer");
        })
    };
    drop(tx);
    for _ in 0..2 {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(_) => {}
            Err(e) => panic!("a parallel scan and a writer did not both finish: {e}"),
        }
    }
    reader.join().unwrap();
    writer.join().unwrap();
}

/// The `batch_threads` option: 1 keeps large runs on the calling thread, 2 uses workers;
/// the answers agree; a bad value is refused.
#[test]
fn the_batch_threads_option_chooses_the_workers() {
    let q = "MATCH (a:U)-[:F]->(b:U) WHERE a.age < b.age RETURN count(*)";
    let mut answers = Vec::new();
    for (threads, parallel) in [("1", false), ("2", true)] {
        let mut o = opts();
        o.set("batch_threads", threads).unwrap();
        let db = Database::open(":memory:", &o).unwrap();
        let mut c = db.connect();
        run(
            &mut c,
            "UNWIND range(1, 5000) AS i CREATE (:U {age: i % 13})-[:F]->(:U {age: i % 7})",
        );
        let before = batch_parallel_runs();
        answers.push(c.query(q, &Params::new()).unwrap().rows);
        assert_eq!(
            batch_parallel_runs() > before,
            parallel,
            "batch_threads={threads}"
        );
    }
    assert_eq!(answers[0], answers[1]);
    let e = opts().set("batch_threads", "many").unwrap_err();
    assert_eq!(e.kind(), graphdb::ErrorKind::InvalidArgument);
}

/// Kinds of the integer column sections (src/checkpoint/format.rs), and kinds no reader
/// knows: renamed to them, the sections are skipped, as by a reader predating them.
const PROP_COLUMN_DIR: u32 = 25;
const PROP_COLUMNS: u32 = 26;
const UNKNOWN_KINDS: [u32; 2] = [62, 63];

/// Makes the image in database directory `dir` one written without the integer columns.
fn strip_columns(dir: &std::path::Path) {
    let base = base_image::base_file(dir);
    let mut img = std::fs::read(&base).unwrap();
    base_image::retype(&mut img, PROP_COLUMN_DIR, UNKNOWN_KINDS[0]);
    base_image::retype(&mut img, PROP_COLUMNS, UNKNOWN_KINDS[1]);
    std::fs::write(&base, &img).unwrap();
}

/// Integer keys of every shape the image's columns take (and two that get none), on top of
/// [`populate`]'s `k`, `x` (mixed types) and `y` (small integers or absent).
fn populate_columns(c: &mut Connection, rng: &mut Rng, nodes: u64, rels: u64) {
    populate(c, rng, nodes, rels, 0);
    for k in 0..nodes {
        let mut set = Vec::new();
        if rng.chance(90) {
            set.push(format!("n.age = {}", 18 + rng.below(63)));
        }
        if rng.chance(50) {
            // Both ends of the range: a column 8 bytes wide.
            let v = rng.below(1000) as i64;
            set.push(format!(
                "n.big = {}",
                if rng.chance(50) {
                    i64::MIN + v
                } else {
                    i64::MAX - v
                }
            ));
        }
        set.push(format!("n.mid = {}", rng.below(60_000) as i64 - 30_000));
        if rng.chance(5) {
            // Too sparse for a column.
            set.push("n.sparse = 1".to_string());
        }
        // An integer on every node but one: no column.
        set.push(if k == nodes / 2 {
            "n.late = 'not an integer'".to_string()
        } else {
            format!("n.late = {}", rng.below(5))
        });
        run(c, &format!("MATCH (n {{k: {k}}}) SET {}", set.join(", ")));
    }
}

/// Statements over every integer key: joins comparing two nodes' values, grouping by a
/// value, filters against constants and parameters, min / max / count / collect.
fn column_queries() -> Vec<String> {
    let mut qs = Vec::new();
    for key in ["k", "y", "x", "age", "big", "mid", "sparse", "late"] {
        qs.push(format!(
            "MATCH (a)-[:R]->(b) WHERE a.{key} < b.{key} RETURN count(*), min(a.{key}), \
             max(b.{key}), count(DISTINCT a.{key})"
        ));
        qs.push(format!(
            "MATCH (a:A)-[r]-(b) WHERE a.{key} >= $p OR b.{key} IS NULL \
             RETURN b.{key} AS key, count(*), collect(DISTINCT a.{key})"
        ));
        qs.push(format!(
            "MATCH (n:B) WHERE n.{key} <> 3 RETURN count(n), max(n.{key}), min(n.{key})"
        ));
        qs.push(format!(
            "MATCH (a:A)-->(b:A) WHERE a.{key} = b.{key} RETURN count(*), sum(a.y)"
        ));
    }
    qs
}

/// Every column query (and some generated ones) gives the same answer on `with` (an
/// image with integer columns) with the batch engine in each setting as on `without` (the
/// same image without them) with the row engine; `with`'s batch runs took columns from
/// the image when `expect_image` (else none), `without`'s never did.
fn same_with_and_without(
    with: &mut Connection,
    without: &mut Connection,
    rng: &mut Rng,
    expect_image: bool,
    what: &str,
) -> usize {
    let mut p = Params::new();
    p.insert("p".into(), Value::Int(20));
    let mut queries = column_queries();
    queries.extend((0..15).map(|_| query(rng)));
    let mut ran = 0;
    let taken = batch_image_columns();
    for q in &queries {
        let expected = answer(without, q, &p, BatchMode::Off, false);
        assert_eq!(
            answer(with, q, &p, BatchMode::Off, false),
            expected,
            "{what}: {q} (row engine on both)"
        );
        for (mode, threads) in [
            (BatchMode::Dense, 1),
            (BatchMode::Auto, 1),
            (BatchMode::Dense, 2),
        ] {
            for c in [&mut *with, &mut *without] {
                let before = batch_runs();
                let got = answer_on(c, q, &p, mode, false, threads);
                ran += (batch_runs() - before) as usize;
                assert_eq!(got, expected, "{what}: {q} ({mode:?}, threads: {threads})");
            }
        }
    }
    let from_with = batch_image_columns() - taken;
    let before = batch_image_columns();
    for q in column_queries().iter().take(4) {
        answer(without, q, &p, BatchMode::Dense, false).ok();
    }
    assert_eq!(
        batch_image_columns(),
        before,
        "{what}: an image without the sections has no columns to take"
    );
    if expect_image {
        assert!(from_with > 0, "{what}: no column was taken from the image");
    } else {
        assert_eq!(from_with, 0, "{what}: a column was taken from the image");
    }
    ran
}

/// Updates of base nodes (to another integer, one outside the column's range, a string;
/// removed; node deleted; label removed), new nodes and relationships.
const UPDATES: &[&str] = &[
    "MATCH (n {k: 3}) SET n.age = 44, n.mid = -7",
    "MATCH (n {k: 4}) SET n.age = 100000, n.big = 0",
    "MATCH (n {k: 5}) SET n.mid = 'now a string'",
    "MATCH (n {k: 6}) REMOVE n.age, n.big",
    "MATCH (n {k: 7}) DETACH DELETE n",
    "MATCH (n {k: 8}) REMOVE n:A SET n:B",
    "MATCH (n:A) WITH n ORDER BY n.k LIMIT 2 REMOVE n:A",
    "MATCH (n:B) WITH n ORDER BY n.k DESC LIMIT 2 DETACH DELETE n",
    "MATCH (n {k: 9}) SET n.sparse = 2, n.y = 6",
    "MATCH (n {k: 10}) SET n.late = 4",
    "CREATE (:A:B {k: 1000, age: 5, mid: 7, big: 1, y: 3})",
    "CREATE (:A {k: 1001, age: 'old', y: 2})",
    "MATCH (a {k: 1000}), (b {k: 11}) CREATE (a)-[:R {w: 1}]->(b), (b)-[:R {w: 2}]->(a)",
    "MATCH (a {k: 1001}), (b {k: 12}) CREATE (a)-[:R {w: 1}]->(b), (b)-[:R {w: 2}]->(a)",
];

/// Queries read the image's integer columns and answer as without them: on the base
/// image alone, through updates of base nodes and new nodes, with rolled-back writes, own
/// uncommitted writes and an older snapshot, and after a second checkpoint.
#[test]
fn image_columns_answer_as_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let (with_path, without_path) = (dir.path().join("with"), dir.path().join("without"));
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let nodes = 300;
    {
        let db = Database::open(with_path.to_str().unwrap(), &opts()).unwrap();
        let mut c = db.connect();
        populate_columns(&mut c, &mut rng, nodes, 900);
        db.checkpoint().unwrap();
    }
    std::fs::create_dir_all(&without_path).unwrap();
    for e in std::fs::read_dir(&with_path).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), without_path.join(e.file_name())).unwrap();
    }
    strip_columns(&without_path);
    let with = Database::open(with_path.to_str().unwrap(), &opts()).unwrap();
    let without = Database::open(without_path.to_str().unwrap(), &opts()).unwrap();
    let (mut w, mut wo) = (with.connect(), without.connect());
    let mut ran = same_with_and_without(&mut w, &mut wo, &mut rng, true, "base image only");

    let (mut old_w, mut old_wo) = (with.connect(), without.connect());
    old_w.begin(TxnMode::ReadOnly).unwrap();
    old_wo.begin(TxnMode::ReadOnly).unwrap();
    let seed = rng.0;

    // Rolled back: nothing of it is seen.
    for c in [&mut w, &mut wo] {
        c.begin(TxnMode::ReadWrite).unwrap();
        run(c, "MATCH (n {k: 13}) SET n.age = -1, n.big = 'x'");
        run(c, "MATCH (n {k: 14}) DETACH DELETE n");
        run(c, "CREATE (:A {k: 2000, age: 1})");
        c.rollback().unwrap();
    }
    ran += same_with_and_without(&mut w, &mut wo, &mut rng, true, "after a rollback");

    for q in UPDATES {
        run(&mut w, q);
        run(&mut wo, q);
    }
    ran += same_with_and_without(&mut w, &mut wo, &mut rng, true, "base plus delta");

    // The older snapshot sees the image as it was, on both.
    rng.0 = seed;
    ran += same_with_and_without(&mut old_w, &mut old_wo, &mut rng, true, "older snapshot");
    old_w.rollback().unwrap();
    old_wo.rollback().unwrap();

    // Own uncommitted writes, a string among them.
    for c in [&mut w, &mut wo] {
        c.begin_with_isolation(TxnMode::ReadWrite, IsolationMode::Snapshot)
            .unwrap();
        run(c, "MATCH (n {k: 15}) SET n.age = 99, n.late = 'x'");
        run(c, "MATCH (n {k: 16}) REMOVE n.mid");
        run(c, "CREATE (:B {k: 3000, age: 70, mid: 70000})");
    }
    ran += same_with_and_without(&mut w, &mut wo, &mut rng, true, "own uncommitted writes");
    w.rollback().unwrap();
    wo.rollback().unwrap();

    // Most base nodes written: the columns are gathered node by node instead (an overlay
    // that large costs more than a dense column).
    for c in [&mut w, &mut wo] {
        run(c, "MATCH (n) WHERE n.k < 200 SET n.age = n.age + 1");
    }
    ran += same_with_and_without(&mut w, &mut wo, &mut rng, false, "most nodes written");

    // Folded into new images (the writer now gives both their columns).
    drop((w, wo, old_w, old_wo));
    for db in [&with, &without] {
        db.checkpoint().unwrap();
    }
    drop((with, without));
    let with = Database::open(with_path.to_str().unwrap(), &opts()).unwrap();
    strip_columns(&without_path);
    let without = Database::open(without_path.to_str().unwrap(), &opts()).unwrap();
    let (mut w, mut wo) = (with.connect(), without.connect());
    ran += same_with_and_without(&mut w, &mut wo, &mut rng, true, "second image");
    with.check().unwrap();
    without.check().unwrap();
    assert!(ran > 500, "the batch engine ran too rarely: {ran}");
    println!("image columns: {ran} batch runs answered as without the column sections");
}
