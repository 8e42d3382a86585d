//! Executor integration tests: each query is parsed, checked and run in its own transaction
//! (committed on success, rolled back on error) against an in-memory graph, and the actual
//! rows, columns and change counters are compared.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use graphdb::cypher::ast::StatementKind;
use graphdb::cypher::exec::run_query;
use graphdb::cypher::{parse, ExecControl, ParamMap, QueryOutput};
use graphdb::storage::Graph;
use graphdb::txn::{Isolation, TxnKind, TxnManager};
use graphdb::value::Value;
use graphdb::{ErrorKind, Result};

struct Db {
    mgr: Arc<TxnManager>,
}

impl Db {
    fn new() -> Db {
        Db {
            mgr: Arc::new(TxnManager::new(Arc::new(Graph::new()), None, 0, false)),
        }
    }

    fn run_with(&self, q: &str, params: &ParamMap, control: &ExecControl) -> Result<QueryOutput> {
        let stmt = parse(q)?;
        let StatementKind::Query(query) = stmt.kind else {
            panic!("not a query: {q}");
        };
        let mut tx = self.mgr.begin(TxnKind::ReadWrite, Isolation::Serializable);
        match run_query(&query, &mut tx, params, control) {
            Ok(out) => {
                tx.commit()?;
                Ok(out)
            }
            Err(e) => {
                tx.rollback();
                Err(e)
            }
        }
    }

    fn run(&self, q: &str) -> Result<QueryOutput> {
        self.run_with(q, &ParamMap::new(), &ExecControl::default())
    }

    fn ok(&self, q: &str) -> QueryOutput {
        match self.run(q) {
            Ok(o) => o,
            Err(e) => panic!("query failed: {q}\n{e}"),
        }
    }

    fn rows(&self, q: &str) -> Vec<Vec<Value>> {
        self.ok(q).rows
    }

    /// A compile-time error: the parser or the checker may report it (Syntax or Semantic).
    fn compile_err(&self, q: &str) {
        let k = self.err(q);
        assert!(
            matches!(k, ErrorKind::Syntax | ErrorKind::Semantic),
            "{q}: {k:?}"
        );
    }

    fn err(&self, q: &str) -> ErrorKind {
        match self.run(q) {
            Ok(o) => panic!("query should fail: {q}\ngot {:?}", o.rows),
            Err(e) => e.kind(),
        }
    }
}

fn int(i: i64) -> Value {
    Value::Int(i)
}
fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}
fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}
fn col(rows: Vec<Vec<Value>>) -> Vec<Value> {
    rows.into_iter().map(|mut r| r.remove(0)).collect()
}

/// a -KNOWS-> b -LIKES-> c -KNOWS-> d, all :N with `n` set to their letter.
fn chain() -> Db {
    let db = Db::new();
    db.ok(
        "CREATE (a:N {n: 'a'})-[:KNOWS]->(b:N {n: 'b'})-[:LIKES]->(c:N {n: 'c'})-[:KNOWS]->(d:N {n: 'd'})",
    );
    db
}

#[test]
fn create_counts_and_label_scan_with_property_map() {
    let db = Db::new();
    let out = db.ok(
        "CREATE (:Person {name: 'A', age: 30}), (:Person {name: 'B', age: 20}), (:Dog {name: 'C'})",
    );
    assert!(out.columns.is_empty() && out.rows.is_empty());
    assert_eq!(out.stats.nodes_created, 3);
    assert_eq!(out.stats.labels_added, 3);
    assert_eq!(out.stats.properties_set, 5);
    assert_eq!(
        col(db.rows("MATCH (p:Person) RETURN p.name ORDER BY p.name")),
        vec![s("A"), s("B")]
    );
    assert_eq!(
        col(db.rows("MATCH (p:Person {name: 'B'}) RETURN p.age")),
        vec![int(20)]
    );
    assert!(db.rows("MATCH (x:Unknown) RETURN x").is_empty());
    assert!(db.rows("MATCH (x {nokey: 1}) RETURN x").is_empty());
    assert_eq!(col(db.rows("MATCH (n) RETURN count(n)")), vec![int(3)]);
}

#[test]
fn expand_in_each_direction_with_type_alternatives() {
    let db = chain();
    assert_eq!(
        db.rows("MATCH (x)-[:KNOWS]->(y) RETURN x.n, y.n ORDER BY x.n"),
        vec![vec![s("a"), s("b")], vec![s("c"), s("d")]]
    );
    assert_eq!(
        db.rows("MATCH (x {n: 'b'})<-[:KNOWS]-(y) RETURN y.n"),
        vec![vec![s("a")]]
    );
    assert_eq!(
        db.rows("MATCH (x {n: 'b'})-[r]-(y) RETURN type(r), y.n ORDER BY y.n"),
        vec![vec![s("KNOWS"), s("a")], vec![s("LIKES"), s("c")]]
    );
    assert_eq!(
        col(db.rows("MATCH ()-[r:KNOWS|LIKES]->() RETURN count(r)")),
        vec![int(3)]
    );
    assert_eq!(
        col(db.rows("MATCH ()-[r:NOPE]->() RETURN count(r)")),
        vec![int(0)]
    );
}

#[test]
fn a_relationship_is_matched_once_per_pattern() {
    let db = Db::new();
    db.ok("CREATE (:A)-[:R]->(:B)");
    assert_eq!(
        col(db.rows("MATCH (x)-[r1]-(y)-[r2]-(z) RETURN count(*)")),
        vec![int(0)]
    );
    assert_eq!(
        col(db.rows("MATCH (x)-[r1]-(y), (z)-[r2]-(w) RETURN count(*)")),
        vec![int(0)]
    );
    // Across clauses the same relationship may be matched again.
    assert_eq!(
        col(db.rows("MATCH (x)-[r1]->(y) MATCH (z)-[r2]->(w) RETURN count(*)")),
        vec![int(1)]
    );
}

#[test]
fn variable_length_paths() {
    let db = chain();
    assert_eq!(
        col(db.rows("MATCH (a {n: 'a'})-[*1..2]->(x) RETURN x.n ORDER BY x.n")),
        vec![s("b"), s("c")]
    );
    assert_eq!(
        col(db.rows("MATCH p = (a {n: 'a'})-[*]->(d {n: 'd'}) RETURN length(p)")),
        vec![int(3)]
    );
    assert_eq!(
        db.rows("MATCH (a {n: 'a'})-[rs*2]->(x) RETURN size(rs), x.n"),
        vec![vec![int(2), s("c")]]
    );
    assert_eq!(
        col(db.rows("MATCH (a {n: 'a'})-[*0..1]->(x) RETURN x.n ORDER BY x.n")),
        vec![s("a"), s("b")]
    );
    assert_eq!(
        col(db.rows("MATCH (d {n: 'd'})<-[*2]-(x) RETURN x.n")),
        vec![s("b")]
    );
    let paths = db.rows("MATCH p = (d {n: 'd'})<-[*3]-(a) RETURN p");
    match &paths[0][0] {
        Value::Path(p) => {
            assert_eq!(p.nodes.len(), 4);
            assert_eq!(p.rels.len(), 3);
        }
        other => panic!("expected a path, got {other:?}"),
    }
}

#[test]
fn cartesian_products_and_shared_variables() {
    let db = Db::new();
    db.ok("CREATE (:A {v: 1}), (:A {v: 2}), (:B {v: 10}), (:B {v: 20}), (:B {v: 30})");
    assert_eq!(
        col(db.rows("MATCH (a:A), (b:B) RETURN count(*)")),
        vec![int(6)]
    );
    db.ok("MATCH (a:A), (b:B {v: 10}) CREATE (a)-[:T]->(b)");
    // The second part joins on `b`, and may not reuse the first part's relationship.
    assert_eq!(
        db.rows("MATCH (a:A)-[:T]->(b), (b)<-[:T]-(c) RETURN a.v, b.v, c.v ORDER BY a.v"),
        vec![vec![int(1), int(10), int(2)], vec![int(2), int(10), int(1)]]
    );
}

#[test]
fn optional_match_gives_nulls() {
    let db = chain();
    assert_eq!(
        db.rows("MATCH (a:N {n: 'd'}) OPTIONAL MATCH (a)-[:KNOWS]->(x) RETURN a.n, x"),
        vec![vec![s("d"), Value::Null]]
    );
    assert_eq!(
        db.rows("MATCH (a:N {n: 'a'}) OPTIONAL MATCH (a)-[:KNOWS]->(x) RETURN x.n"),
        vec![vec![s("b")]]
    );
    assert_eq!(
        db.rows("OPTIONAL MATCH (x:Missing) RETURN x"),
        vec![vec![Value::Null]]
    );
}

#[test]
fn named_paths_hold_ids_in_pattern_order() {
    let db = chain();
    let ids = db.rows("MATCH (a {n: 'a'})-[r]->(b) RETURN id(a), id(r), id(b)");
    let rows = db.rows("MATCH p = (b {n: 'b'})<-[:KNOWS]-(a) RETURN p");
    match &rows[0][0] {
        Value::Path(p) => {
            assert_eq!(Value::Int(p.nodes[0] as i64), ids[0][2]);
            assert_eq!(Value::Int(p.nodes[1] as i64), ids[0][0]);
            assert_eq!(Value::Int(p.rels[0] as i64), ids[0][1]);
        }
        other => panic!("expected a path, got {other:?}"),
    }
}

#[test]
fn undirected_self_loop_is_matched_once() {
    let db = Db::new();
    db.ok("CREATE (a:S)-[:R]->(a)");
    assert_eq!(
        col(db.rows("MATCH (x:S)-[r]-(y) RETURN count(*)")),
        vec![int(1)]
    );
    assert_eq!(
        col(db.rows("MATCH (x:S)-[r]->(x) RETURN count(*)")),
        vec![int(1)]
    );
}

#[test]
fn with_projects_scope_and_filters() {
    let db = chain();
    assert_eq!(
        col(db.rows("MATCH (n:N) WITH n.n AS name WHERE name > 'b' RETURN name ORDER BY name DESC")),
        vec![s("d"), s("c")]
    );
    assert_eq!(
        db.err("MATCH (n:N) WITH n.n AS name RETURN n"),
        ErrorKind::Semantic
    );
    db.compile_err("MATCH (n:N) WITH n.n RETURN 1");
    // ORDER BY may use a variable that was not projected when not aggregating.
    assert_eq!(
        col(db.rows("MATCH (n:N) RETURN n.n AS x ORDER BY n.n DESC LIMIT 2")),
        vec![s("d"), s("c")]
    );
}

#[test]
fn aggregation_with_implicit_grouping() {
    let db = Db::new();
    assert_eq!(
        db.rows("UNWIND [1, 2, 3, 4] AS x RETURN x % 2 AS k, count(*) AS c, collect(x) AS xs ORDER BY k"),
        vec![
            vec![int(0), int(2), list(vec![int(2), int(4)])],
            vec![int(1), int(2), list(vec![int(1), int(3)])],
        ]
    );
    assert_eq!(
        col(db.rows("UNWIND [1, 2, 3] AS x RETURN count(*) + 1")),
        vec![int(4)]
    );
    let mut m = BTreeMap::new();
    m.insert("k".to_owned(), list(vec![int(1), int(2)]));
    assert_eq!(
        col(db.rows("UNWIND [1, 2] AS x RETURN {k: collect(x)}")),
        vec![Value::Map(m)]
    );
    assert_eq!(col(db.rows("MATCH (n:Nope) RETURN count(n)")), vec![int(0)]);
    assert!(db.rows("MATCH (n:Nope) RETURN n, count(n)").is_empty());
    assert_eq!(
        col(db.rows("UNWIND [1, 1, 2] AS x RETURN count(DISTINCT x)")),
        vec![int(2)]
    );
    assert_eq!(
        col(db
            .rows("UNWIND ['a', 'b', 'b'] AS x RETURN x, count(*) AS c ORDER BY c DESC LIMIT 1")
            .into_iter()
            .map(|mut r| vec![r.remove(0)])
            .collect()),
        vec![s("b")]
    );
    assert_eq!(
        db.err("UNWIND [1] AS x RETURN count(count(x))"),
        ErrorKind::Semantic
    );
    assert_eq!(
        db.err("UNWIND [1] AS x WITH x WHERE count(x) > 0 RETURN x"),
        ErrorKind::Semantic
    );
}

#[test]
fn distinct_skip_limit() {
    let db = Db::new();
    assert_eq!(
        col(db.rows("UNWIND [3, 1, 3, 2] AS x RETURN DISTINCT x ORDER BY x SKIP 1 LIMIT 1")),
        vec![int(2)]
    );
    assert_eq!(
        col(db.rows("UNWIND [3, 1, 3, 2] AS x RETURN DISTINCT x")).len(),
        3
    );
    assert_eq!(
        db.err("UNWIND [1] AS x RETURN x LIMIT -1"),
        ErrorKind::Semantic
    );
    assert_eq!(
        db.err("UNWIND [1] AS x RETURN x SKIP x"),
        ErrorKind::Semantic
    );
    let mut p = ParamMap::new();
    p.insert("n".to_owned(), int(-2));
    assert!(db
        .run_with(
            "UNWIND [1] AS x RETURN x LIMIT $n",
            &p,
            &ExecControl::default()
        )
        .is_err());
    p.insert("n".to_owned(), int(2));
    let out = db
        .run_with(
            "UNWIND [1, 2, 3] AS x RETURN x LIMIT $n",
            &p,
            &ExecControl::default(),
        )
        .unwrap();
    assert_eq!(out.rows.len(), 2);
}

#[test]
fn return_star_sorts_columns() {
    let db = Db::new();
    let out = db.ok("UNWIND [1] AS b WITH b, 2 AS a RETURN *");
    assert_eq!(out.columns, vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(out.rows, vec![vec![int(2), int(1)]]);
    let out = db.ok("UNWIND [5] AS x RETURN x + 1, x AS y");
    assert_eq!(out.columns, vec!["x + 1".to_owned(), "y".to_owned()]);
}

#[test]
fn unwind_null_and_scalars() {
    let db = Db::new();
    assert!(db.rows("UNWIND null AS x RETURN x").is_empty());
    assert_eq!(col(db.rows("UNWIND 5 AS x RETURN x")), vec![int(5)]);
    assert!(db.rows("UNWIND [] AS x RETURN x").is_empty());
}

#[test]
fn union_and_union_all() {
    let db = Db::new();
    assert_eq!(
        db.rows("RETURN 1 AS x UNION RETURN 1 AS x"),
        vec![vec![int(1)]]
    );
    assert_eq!(db.rows("RETURN 1 AS x UNION ALL RETURN 1 AS x").len(), 2);
    db.compile_err("RETURN 1 AS x UNION RETURN 1 AS y");
}

#[test]
fn foreach_runs_updates_per_element() {
    let db = Db::new();
    let out = db.ok("FOREACH (x IN [1, 2, 3] | CREATE (:F {v: x}))");
    assert_eq!(out.stats.nodes_created, 3);
    assert_eq!(col(db.rows("MATCH (f:F) RETURN sum(f.v)")), vec![int(6)]);
}

#[test]
fn merge_matches_or_creates() {
    let db = Db::new();
    let q =
        "MERGE (n:M {k: 1}) ON CREATE SET n.c = 'created' ON MATCH SET n.c = 'matched' RETURN n.c";
    let first = db.ok(q);
    assert_eq!(col(first.rows), vec![s("created")]);
    assert_eq!(first.stats.nodes_created, 1);
    let second = db.ok(q);
    assert_eq!(col(second.rows), vec![s("matched")]);
    assert_eq!(second.stats.nodes_created, 0);
    let out = db.ok("UNWIND [1, 1, 2] AS k MERGE (:U {k: k})");
    assert_eq!(out.stats.nodes_created, 2);
    db.ok("MATCH (a:M), (b:U {k: 2}) MERGE (a)-[:R]->(b)");
    let out = db.ok("MATCH (a:M), (b:U {k: 2}) MERGE (a)-[r:R]->(b) RETURN count(r)");
    assert_eq!(out.stats.relationships_created, 0);
    assert_eq!(col(out.rows), vec![int(1)]);
    assert_eq!(db.err("MATCH (a:M) MERGE (a)"), ErrorKind::Semantic);
}

#[test]
fn set_in_all_forms() {
    let db = Db::new();
    db.ok("CREATE (:P {a: 0, z: 9})");
    let out = db.ok("MATCH (n:P) SET n.a = 1, n += {b: 2}, n:Q RETURN n.a, n.b, n.z");
    assert_eq!(out.rows, vec![vec![int(1), int(2), int(9)]]);
    assert_eq!(out.stats.properties_set, 2);
    assert_eq!(out.stats.labels_added, 1);
    assert_eq!(col(db.rows("MATCH (n:Q) RETURN n.a")), vec![int(1)]);
    db.ok("MATCH (n:P) SET n = {c: 3}");
    assert_eq!(
        db.rows("MATCH (n:P) RETURN n.a, n.b, n.c, n.z"),
        vec![vec![Value::Null, Value::Null, int(3), Value::Null]]
    );
    db.ok("MATCH (n:P) SET n.c = null");
    assert_eq!(
        col(db.rows("MATCH (n:P) RETURN keys(n)")),
        vec![list(vec![])]
    );
    assert_eq!(db.err("MATCH (n:P) SET n.x = n"), ErrorKind::Type);
    db.ok("MATCH (n:P) SET n.l = [1, 2]");
    assert_eq!(
        col(db.rows("MATCH (n:P) RETURN n.l")),
        vec![list(vec![int(1), int(2)])]
    );
}

#[test]
fn remove_properties_and_labels() {
    let db = Db::new();
    db.ok("CREATE (:R:S {a: 1, b: 2})");
    let out = db.ok("MATCH (n:R) REMOVE n.a, n:S RETURN n.a, n.b");
    assert_eq!(out.rows, vec![vec![Value::Null, int(2)]]);
    assert_eq!(out.stats.labels_removed, 1);
    assert!(db.rows("MATCH (n:S) RETURN n").is_empty());
}

#[test]
fn delete_and_detach_delete() {
    let db = Db::new();
    db.ok("CREATE (:D {v: 1})-[:R]->(:D {v: 2})");
    assert_eq!(
        db.err("MATCH (n:D {v: 1}) DELETE n"),
        ErrorKind::ConstraintViolation
    );
    assert_eq!(
        col(db.rows("MATCH (n:D) RETURN count(n)")),
        vec![int(2)],
        "nothing changed"
    );
    let out = db.ok("MATCH (n:D {v: 1}) DETACH DELETE n");
    assert_eq!(out.stats.nodes_deleted, 1);
    assert_eq!(out.stats.relationships_deleted, 1);
    let out = db.ok("OPTIONAL MATCH (n:Missing) DELETE n");
    assert_eq!(out.stats.nodes_deleted, 0);
    assert_eq!(db.err("MATCH (n:D) DELETE 1"), ErrorKind::Semantic);
    assert_eq!(
        db.err("MATCH (n:D) UNWIND [1] AS x DELETE x"),
        ErrorKind::Type
    );
    db.ok("CREATE (:E)-[:R]->(:E)");
    let out = db.ok("MATCH (a:E)-[r]->(b) DELETE a, r, b");
    assert_eq!(
        (out.stats.nodes_deleted, out.stats.relationships_deleted),
        (2, 1)
    );
}

#[test]
fn semantic_errors_change_nothing() {
    let db = Db::new();
    assert_eq!(
        db.err("CREATE (:X) WITH 1 AS a RETURN b"),
        ErrorKind::Semantic
    );
    assert_eq!(col(db.rows("MATCH (n) RETURN count(n)")), vec![int(0)]);
    assert_eq!(db.err("RETURN x"), ErrorKind::Semantic);
    assert_eq!(db.err("CREATE (a) CREATE (a)"), ErrorKind::Semantic);
    db.compile_err("CREATE ()-[]->()");
    db.compile_err("CREATE ()-[:R|S]->()");
    db.compile_err("CREATE ()-[:R]-()");
    db.compile_err("CREATE ()-[:R*2]->()");
    assert_eq!(
        db.err("MATCH (a)-[r]->(b) CREATE (a)-[r:T]->(b)"),
        ErrorKind::Semantic
    );
    db.compile_err("MATCH (n) RETURN n MATCH (m) RETURN m");
    db.compile_err("MATCH (n)");
    assert_eq!(db.err("MATCH (a)-[a]->() RETURN a"), ErrorKind::Semantic);
    let e = db.run("MATCH (n)\nRETURN m").unwrap_err();
    assert_eq!(e.position().map(|p| (p.line, p.column)), Some((2, 8)));
    assert!(e.message().contains('m'));
    let out = db.ok("CREATE (a:L)-[:R]->(a) RETURN a");
    assert_eq!(out.stats.nodes_created, 1);
    assert_eq!(out.stats.relationships_created, 1);
}

#[test]
fn subqueries_in_expressions() {
    let db = chain();
    assert_eq!(
        col(db.rows("MATCH (a:N) WHERE (a)-[:KNOWS]->() RETURN a.n ORDER BY a.n")),
        vec![s("a"), s("c")]
    );
    assert_eq!(
        col(db.rows("MATCH (a:N) WHERE EXISTS { MATCH (a)-[:LIKES]->(x) } RETURN a.n")),
        vec![s("b")]
    );
    assert_eq!(
        col(db.rows("MATCH (a:N {n: 'b'}) RETURN [(a)-->(x) | x.n]")),
        vec![list(vec![s("c")])]
    );
    assert_eq!(
        col(db.rows("MATCH (a:N {n: 'b'}) RETURN COUNT { MATCH (a)--(x) }")),
        vec![int(2)]
    );
}

#[test]
fn shortest_path_picks_fewest_hops() {
    let db = chain();
    db.ok("MATCH (a {n: 'a'}), (d {n: 'd'}) CREATE (a)-[:SHORT]->(d)");
    assert_eq!(
        col(db.rows("MATCH p = shortestPath((a {n: 'a'})-[*]->(d {n: 'd'})) RETURN length(p)")),
        vec![int(1)]
    );
}

#[test]
fn procedures_and_unsupported_clauses() {
    let db = chain();
    let out = db.ok("CALL db.labels()");
    assert_eq!(out.columns, vec!["label".to_owned()]);
    assert_eq!(col(out.rows), vec![s("N")]);
    assert_eq!(
        col(db.rows("CALL db.relationshipTypes() YIELD relationshipType AS t RETURN t")),
        vec![s("KNOWS"), s("LIKES")]
    );
    assert_eq!(db.err("CALL db.nope()"), ErrorKind::Semantic);
    assert_eq!(
        db.err("LOAD CSV FROM 'file:///x.csv' AS row RETURN row"),
        ErrorKind::Error
    );
}

#[test]
fn an_interrupted_query_stops() {
    let db = Db::new();
    let control = ExecControl::default();
    control.interrupt.store(true, Ordering::Relaxed);
    let e = db
        .run_with(
            "UNWIND range(1, 10) AS x RETURN x",
            &ParamMap::new(),
            &control,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interrupted);
}

// ---- through the public Rust API ---------------------------------------------------------

mod api {
    use graphdb::api::Value as V;
    use graphdb::{Database, ErrorKind, Options, Params};

    fn conn() -> graphdb::Connection {
        Database::open(":memory:", &Options::new())
            .expect("open")
            .connect()
    }

    #[test]
    fn nodes_come_back_materialized_with_labels_and_properties() {
        let mut c = conn();
        let out = c
            .query("CREATE (n:User {name: 'ann'}) RETURN n", &Params::new())
            .expect("create");
        assert_eq!(out.columns, vec!["n".to_owned()]);
        assert_eq!(out.stats.nodes_created, 1);
        match &out.rows[0][0] {
            V::Node(n) => {
                assert_eq!(n.labels, vec!["User".to_owned()]);
                assert_eq!(n.properties.get("name"), Some(&V::String("ann".into())));
            }
            other => panic!("expected a node, got {other:?}"),
        }
    }

    #[test]
    fn parameters_feed_patterns_and_unwind() {
        let mut c = conn();
        let mut p = Params::new();
        p.insert(
            "names".into(),
            V::List(vec![V::String("a".into()), V::String("b".into())]),
        );
        let out = c
            .query("UNWIND $names AS name CREATE (:P {name: name})", &p)
            .expect("unwind");
        assert_eq!(out.stats.nodes_created, 2);
        let mut p = Params::new();
        p.insert("name".into(), V::String("b".into()));
        let out = c
            .query("MATCH (x:P {name: $name}) RETURN x.name AS n", &p)
            .expect("match");
        assert_eq!(out.rows, vec![vec![V::String("b".into())]]);
    }

    #[test]
    fn a_runtime_error_undoes_the_whole_statement() {
        let mut c = conn();
        let e = c
            .query(
                "UNWIND [1, 0] AS x CREATE (:T {v: x}) WITH x MATCH (t:T) DELETE 1 / x",
                &Params::new(),
            )
            .unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::Semantic | ErrorKind::Type | ErrorKind::Error
        ));
        let e = c
            .query(
                "UNWIND [1, 2] AS x CREATE (n:T {v: x}) WITH n, x UNWIND [x] AS y DELETE y",
                &Params::new(),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Type);
        let out = c
            .query("MATCH (t:T) RETURN count(t)", &Params::new())
            .expect("count");
        assert_eq!(out.rows, vec![vec![V::Int(0)]]);
    }
}
