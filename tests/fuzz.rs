//! A bounded fuzz run of the parser and executor through the public API.
//!
//! A seeded generator produces random token streams, mutations of valid queries, and deeply
//! nested expressions, patterns, lists, maps and subqueries. For every query it checks: no
//! panic, no hang (each statement finishes within the query timeout plus a margin), syntax and
//! semantic errors carry a line and column, and a failed statement changes nothing in the graph.
//!
//! Runs for 3 seconds by default; `GRAPHDB_FUZZ_SECS=600` runs longer, `GRAPHDB_FUZZ_SEED=n`
//! picks the seed (the seed is printed, so a failure can be replayed).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use graphdb::api::{Connection, Database, Options, Params, Value};
use graphdb::ErrorKind;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const TOKENS: &[&str] = &[
    "MATCH",
    "OPTIONAL",
    "WHERE",
    "RETURN",
    "WITH",
    "UNWIND",
    "AS",
    "CREATE",
    "MERGE",
    "ON",
    "SET",
    "REMOVE",
    "DELETE",
    "DETACH",
    "CALL",
    "YIELD",
    "UNION",
    "ALL",
    "ORDER",
    "BY",
    "SKIP",
    "LIMIT",
    "DISTINCT",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "true",
    "false",
    "STARTS",
    "ENDS",
    "CONTAINS",
    "EXISTS",
    "COUNT",
    "FOREACH",
    "LOAD",
    "CSV",
    "FROM",
    "HEADERS",
    "EXPLAIN",
    "PROFILE",
    "n",
    "m",
    "r",
    "p",
    "x",
    ":L",
    ":T",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    ";",
    "|",
    "..",
    "*",
    "+",
    "-",
    "/",
    "%",
    "^",
    "=",
    "<>",
    "<",
    ">",
    "<=",
    ">=",
    "=~",
    "-->",
    "<--",
    "--",
    "-[",
    "]->",
    "<-[",
    "]-",
    "$p",
    "$0",
    "0",
    "1",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "1.5",
    "1e308",
    "0x1F",
    "'s'",
    "\"d\"",
    "'\\u0041'",
    "'",
    "\"",
    "`",
    "`a b`",
    "//",
    "/*",
    "*/",
    "é",
    "\u{0}",
    "\u{FEFF}",
    "count(*)",
    "size(",
    "range(",
    "toInteger(",
    "db.labels()",
    "collect(",
    "reduce(",
    "all(",
    "shortestPath(",
];

/// Valid queries whose mutations reach deep into the executor.
const SEEDS: &[&str] = &[
    "MATCH (n:L) WHERE n.v > 1 RETURN n.v AS v ORDER BY v DESC LIMIT 3",
    "MATCH (a)-[r:T]->(b) RETURN a, type(r), b",
    "UNWIND range(1, 5) AS x WITH x WHERE x % 2 = 0 RETURN collect(x)",
    "MATCH p = (a)-[*1..3]->(b) RETURN length(p), nodes(p)",
    "MERGE (n:L {v: 1}) ON CREATE SET n.c = 1 ON MATCH SET n.c = n.c + 1 RETURN n",
    "MATCH (n) OPTIONAL MATCH (n)-[r]->(m) RETURN n, count(m)",
    "CREATE (a:L {v: 7})-[:T {w: 1}]->(b:L {v: 8}) RETURN a, b",
    "MATCH (n:L) SET n.v = n.v + 1 REMOVE n.c RETURN n",
    "RETURN [x IN range(1, 10) WHERE x > 3 | x * 2] AS l, {a: 1, b: [1, 2]} AS m",
    "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) } RETURN count(*)",
    "RETURN CASE WHEN 1 < 2 THEN 'a' ELSE 'b' END, reduce(s = 0, x IN [1, 2] | s + x)",
    "MATCH (n:L) WITH n ORDER BY n.v SKIP 1 LIMIT 2 RETURN n.v",
    "CALL db.labels() YIELD label RETURN label",
    "MATCH (a:L), (b:L) WHERE a.v < b.v CREATE (a)-[:T]->(b)",
    "MATCH (n:L) WITH n.v AS v, count(*) AS c RETURN v, c UNION RETURN 1 AS v, 2 AS c",
    "FOREACH (x IN [1, 2] | CREATE (:L {v: x}))",
    "MATCH (n) DETACH DELETE n",
    "EXPLAIN MATCH (n:L)-[:T]->(m) RETURN m",
    "PROFILE MATCH (n:L) RETURN count(n)",
];

fn random_tokens(rng: &mut Rng) -> String {
    let n = 1 + rng.index(25);
    (0..n)
        .map(|_| *rng.pick(TOKENS))
        .collect::<Vec<_>>()
        .join(" ")
}

fn mutate(rng: &mut Rng) -> String {
    let mut toks: Vec<String> = rng.pick(SEEDS).split(' ').map(str::to_owned).collect();
    for _ in 0..1 + rng.index(3) {
        let i = rng.index(toks.len() + 1);
        match rng.index(4) {
            0 if i < toks.len() => {
                toks.remove(i);
            }
            1 if i < toks.len() => toks[i] = rng.pick(TOKENS).to_string(),
            2 if i < toks.len() => {
                // Cut inside a token: unbalanced quotes and brackets.
                let t = &toks[i];
                let cut = t
                    .char_indices()
                    .nth(rng.index(t.chars().count()))
                    .map_or(0, |c| c.0);
                toks[i] = t[..cut].to_owned();
            }
            _ => toks.insert(i.min(toks.len()), rng.pick(TOKENS).to_string()),
        }
    }
    toks.join(" ")
}

/// Deep nesting of one construct, sometimes beyond the parser's cap.
fn nested(rng: &mut Rng) -> String {
    let depth = [5, 50, 150, 199, 201, 400, 5000][rng.index(7)];
    let rep = |s: &str| s.repeat(depth);
    match rng.index(12) {
        0 => format!("RETURN {}1{}", rep("("), rep(")")),
        1 => format!("RETURN {}1{}", rep("["), rep("]")),
        2 => format!("RETURN {}1{}", rep("{a: "), rep("}")),
        3 => format!("RETURN {}true", rep("NOT ")),
        4 => format!("RETURN {}1", rep("-")),
        5 => format!("RETURN 1{}", rep(" + 1")),
        6 => format!("RETURN {}1{}", rep("CASE WHEN true THEN "), rep(" END")),
        7 => format!("RETURN {}1{}", rep("[x IN [1] | "), rep("]")),
        8 => format!("MATCH (a){} RETURN count(*)", rep("-->()")),
        9 => format!(
            "MATCH (n) WHERE {}true{} RETURN n",
            rep("EXISTS { MATCH (n) WHERE "),
            rep(" }")
        ),
        10 => format!("RETURN {}", rep("1 < ")) + "1",
        _ => format!("RETURN {}", rep("size(")) + "[]" + &rep(")"),
    }
}

/// What a failed statement must not change: entity counts and every property.
fn fingerprint(conn: &mut Connection) -> String {
    let q = "MATCH (n) OPTIONAL MATCH (n)-[r]->() \
             RETURN count(DISTINCT n), count(r), collect(DISTINCT [labels(n), properties(n)]), \
             collect([type(r), properties(r)])";
    match conn.query(q, &Params::new()) {
        Ok(r) => format!("{:?}", r.rows),
        Err(e) => panic!("fingerprint query failed: {e}"),
    }
}

fn reset(conn: &mut Connection) {
    for q in [
        "MATCH (n) DETACH DELETE n",
        "CREATE (a:L {v: 1})-[:T {w: 1}]->(b:L {v: 2})-[:T {w: 2}]->(c:L {v: 3}), (a)-[:T]->(c), (:M {v: 'x'})",
    ] {
        if let Err(e) = conn.query(q, &Params::new()) {
            panic!("resetting the fuzz graph failed: {e}");
        }
    }
}

#[test]
fn parser_and_executor_survive_random_input() {
    let secs: u64 = std::env::var("GRAPHDB_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("GRAPHDB_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("fuzz: seed {seed} (GRAPHDB_FUZZ_SEED={seed} replays it), {secs}s");
    let timeout_ms = 1000;
    let mut opts = Options::new();
    opts.query_timeout_ms = timeout_ms;
    let db = Database::open(":memory:", &opts).unwrap();
    let mut conn = db.connect();
    reset(&mut conn);
    let mut params = Params::new();
    params.insert("p".into(), Value::Int(1));
    params.insert("0".into(), Value::List(vec![Value::Int(1)]));
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (mut runs, mut ok, mut failed) = (0u64, 0u64, 0u64);
    while Instant::now() < deadline {
        let query = match rng.index(3) {
            0 => random_tokens(&mut rng),
            1 => mutate(&mut rng),
            _ => nested(&mut rng),
        };
        let before = fingerprint(&mut conn);
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| conn.query(&query, &params)));
        let took = started.elapsed();
        let res = match outcome {
            Ok(r) => r,
            Err(_) => panic!("the query panicked (seed {seed}): {query:?}"),
        };
        assert!(
            took < Duration::from_millis(timeout_ms + 4000),
            "the query ran {took:?}, past its timeout (seed {seed}): {query:?}"
        );
        runs += 1;
        match res {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                if matches!(e.kind(), ErrorKind::Syntax | ErrorKind::Semantic) {
                    assert!(
                        e.position().is_some(),
                        "{:?} error without a position (seed {seed}): {e} for {query:?}",
                        e.kind()
                    );
                }
                assert_ne!(
                    e.kind(),
                    ErrorKind::Internal,
                    "internal error for {query:?}: {e}"
                );
                let after = fingerprint(&mut conn);
                assert_eq!(
                    before, after,
                    "a failed statement changed the graph (seed {seed}): {query:?} failed with {e}"
                );
            }
        }
        // Keep the graph small whatever the successful writes did.
        if runs % 50 == 0 {
            reset(&mut conn);
        }
    }
    eprintln!("fuzz: {runs} queries, {ok} ran, {failed} failed cleanly");
    assert!(runs > 0);
}
