//! EXPLAIN and PROFILE through the public API: the plan as rows (operator, details, depth;
//! PROFILE adds rows and time_ms).

use graphdb::api::{Connection, Database, Options, Params, QueryResult, Value};

fn conn() -> Connection {
    Database::open(":memory:", &Options::new())
        .unwrap()
        .connect()
}

fn q(c: &mut Connection, text: &str) -> QueryResult {
    c.query(text, &Params::new()).unwrap()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// (operator without indentation, details, depth)
fn ops(r: &QueryResult) -> Vec<(String, String, i64)> {
    r.rows
        .iter()
        .map(|row| {
            let depth = match row[2] {
                Value::Int(d) => d,
                _ => -1,
            };
            (text(&row[0]).trim().to_owned(), text(&row[1]), depth)
        })
        .collect()
}

fn count(c: &mut Connection, what: &str) -> i64 {
    match q(c, &format!("MATCH {what} RETURN count(*)")).rows[0][0] {
        Value::Int(n) => n,
        _ => -1,
    }
}

#[test]
fn explain_shows_the_start_of_a_match_without_running_anything() {
    let mut c = conn();
    q(&mut c, "CREATE (:User {id: 1}), (:User {id: 2}), (:Other)");
    let r = q(&mut c, "EXPLAIN MATCH (u:User {id: $id}) RETURN u");
    assert_eq!(r.columns, vec!["operator", "details", "depth"]);
    let plan = ops(&r);
    assert_eq!(plan[0].0, "ProduceResults");
    assert_eq!(plan[0].2, 0);
    assert!(
        plan.iter()
            .any(|(o, d, _)| o == "NodeByLabelScan" && d.starts_with("u:User")),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .any(|(o, d, _)| o == "Filter" && d.contains("$id")),
        "{plan:?}"
    );
    // The operator column reads as a tree: indentation follows depth.
    for row in &r.rows {
        let depth = match row[2] {
            Value::Int(d) => d as usize,
            _ => 0,
        };
        assert!(text(&row[0]).starts_with(&"  ".repeat(depth)));
    }

    let r = q(&mut c, "EXPLAIN MATCH (n) RETURN n");
    assert!(ops(&r).iter().any(|(o, _, _)| o == "AllNodesScan"));

    // The smaller label is the one scanned.
    let r = q(&mut c, "EXPLAIN MATCH (n:User:Other) RETURN n");
    assert!(ops(&r)
        .iter()
        .any(|(o, d, _)| o == "NodeByLabelScan" && d.starts_with("n:Other")));

    let r = q(&mut c, "EXPLAIN CREATE (:User {id: 3})");
    assert_eq!(ops(&r)[0].0, "EmptyResult");
    assert_eq!(
        count(&mut c, "(u:User)"),
        2,
        "EXPLAIN must not run the query"
    );
}

#[test]
fn explain_shows_expansions_from_bound_nodes() {
    let mut c = conn();
    q(&mut c, "CREATE (:A)-[:R]->(:B)");
    let r = q(
        &mut c,
        "EXPLAIN MATCH (a:A) WITH a MATCH (a)-[r:R]->(b), (a)-[:R]->(b) RETURN b",
    );
    let plan = ops(&r);
    assert!(
        plan.iter().any(|(o, d, _)| o == "Argument" && d == "a"),
        "{plan:?}"
    );
    assert!(plan.iter().any(|(o, _, _)| o == "Expand(All)"), "{plan:?}");
    assert!(plan.iter().any(|(o, _, _)| o == "Expand(Into)"), "{plan:?}");
    assert!(plan.iter().any(|(o, _, _)| o == "Projection"), "{plan:?}");
    let r = q(&mut c, "EXPLAIN MATCH (a)-[*1..3]->(b) RETURN count(*)");
    let plan = ops(&r);
    assert!(
        plan.iter().any(|(o, _, _)| o == "VarLengthExpand(All)"),
        "{plan:?}"
    );
    assert!(
        plan.iter().any(|(o, _, _)| o == "EagerAggregation"),
        "{plan:?}"
    );
}

#[test]
fn profile_runs_the_query_and_counts_rows_per_operator() {
    let mut c = conn();
    let r = q(
        &mut c,
        "PROFILE UNWIND range(1, 5) AS i CREATE (:N {i: i}) WITH i WHERE i > 2 RETURN i",
    );
    assert_eq!(
        r.columns,
        vec!["operator", "details", "depth", "rows", "time_ms"]
    );
    assert_eq!(
        count(&mut c, "(n:N)"),
        5,
        "PROFILE applies the query's changes"
    );
    assert_eq!(r.stats.nodes_created, 5);
    let rows_of = |name: &str| {
        r.rows
            .iter()
            .find(|row| text(&row[0]).trim() == name)
            .map(|row| row[3].clone())
    };
    assert_eq!(rows_of("Unwind"), Some(Value::Int(5)));
    assert_eq!(rows_of("Create"), Some(Value::Int(5)));
    assert_eq!(rows_of("ProduceResults"), Some(Value::Int(3)));
    for row in &r.rows {
        assert!(matches!(row[4], Value::Float(t) if t >= 0.0), "{row:?}");
    }
}

#[test]
fn explain_reports_errors_like_the_query() {
    let mut c = conn();
    let e = c
        .query("EXPLAIN MATCH (n) RETURN m", &Params::new())
        .unwrap_err();
    assert_eq!(e.kind(), graphdb::ErrorKind::Semantic);
}

#[test]
fn explain_shows_an_index_seek_when_an_index_exists_and_a_label_scan_when_none() {
    let mut c = conn();
    q(&mut c, "CREATE (:User {id: 1}), (:User {id: 2})");
    let starts = |c: &mut Connection, text: &str| -> Vec<(String, String)> {
        ops(&q(c, text))
            .into_iter()
            .filter(|(o, _, _)| o.contains("Scan") || o.contains("Seek"))
            .map(|(o, d, _)| (o, d))
            .collect()
    };
    let map_form = "EXPLAIN MATCH (u:User {id: $id}) RETURN u";
    let where_form = "EXPLAIN MATCH (u:User) WHERE u.id > 1 AND u.x = 2 RETURN u";
    for text in [map_form, where_form] {
        let s = starts(&mut c, text);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].0, "NodeByLabelScan", "{text}: {s:?}");
    }
    q(&mut c, "CREATE INDEX FOR (u:User) ON (u.id)");
    for text in [map_form, where_form] {
        let s = starts(&mut c, text);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(
            s[0],
            ("NodeIndexSeek".into(), "u:User(id)".into()),
            "{text}"
        );
    }
    // A value computed from a node of the same pattern is not known before matching.
    q(&mut c, "CREATE (:Other {id: 1})");
    let s = starts(
        &mut c,
        "EXPLAIN MATCH (u:User), (f:Other) WHERE u.id = f.id RETURN u",
    );
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s.iter().all(|(o, _)| o != "NodeIndexSeek"), "{s:?}");
    let s = starts(
        &mut c,
        "EXPLAIN MATCH (f:Other) WITH f MATCH (u:User) WHERE u.id = f.id RETURN u",
    );
    assert!(s.iter().any(|(o, _)| o == "NodeIndexSeek"), "{s:?}");
    // A key without an index still scans.
    let s = starts(&mut c, "EXPLAIN MATCH (u:User {x: 1}) RETURN u");
    assert_eq!(s[0].0, "NodeByLabelScan");
}

/// Inside a MATCH, PROFILE counts the rows of the start operator and of each expansion (their
/// time is the clause's: the matcher interleaves them depth-first).
#[test]
fn profile_counts_rows_of_the_operators_inside_a_match() {
    let mut c = conn();
    q(
        &mut c,
        "CREATE (a:U {id: 1}), (b:U {id: 2}), (x:U {id: 3}), (:Other), \
         (a)-[:F]->(b), (a)-[:F]->(x), (b)-[:F]->(x), (x)-[:G]->(a)",
    );
    let r = q(
        &mut c,
        "PROFILE MATCH (a:U)-[:F]->(b)-[:F]->(c) RETURN c.id",
    );
    let rows_of = |name: &str| -> Vec<Value> {
        r.rows
            .iter()
            .filter(|row| text(&row[0]).trim() == name)
            .map(|row| row[3].clone())
            .collect()
    };
    // 3 U nodes start; 3 F relationships leave them; 1 two-hop path.
    assert_eq!(
        rows_of("NodeByLabelScan"),
        vec![Value::Int(3)],
        "{:?}",
        r.rows
    );
    let mut expands = rows_of("Expand(All)");
    expands.sort_by_key(|v| match v {
        Value::Int(n) => *n,
        _ => -1,
    });
    assert_eq!(expands, vec![Value::Int(1), Value::Int(3)], "{:?}", r.rows);
    assert_eq!(rows_of("ProduceResults"), vec![Value::Int(1)]);
    // EXPLAIN measures nothing.
    let e = q(&mut c, "EXPLAIN MATCH (a:U)-[:F]->(b) RETURN b");
    assert_eq!(e.columns.len(), 3);
}
