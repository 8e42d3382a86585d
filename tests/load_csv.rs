//! LOAD CSV through the public API: rows as lists or maps, field terminators, errors that
//! name the line, and streaming (the clauses after LOAD CSV run on bounded batches).

use std::io::Write;

use graphdb::api::{Database, Options, Params, Value};
use graphdb::ErrorKind;

fn db() -> Database {
    Database::open(":memory:", &Options::new()).unwrap()
}

fn csv_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
    f
}

fn url(f: &tempfile::NamedTempFile) -> String {
    format!("file://{}", f.path().display())
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn rows_are_lists_of_strings_or_maps_with_headers() {
    let f = csv_file("name,age\nann,31\nbob,\n");
    let mut conn = db().connect();
    let r = conn
        .query(
            &format!("LOAD CSV FROM '{}' AS row RETURN row", url(&f)),
            &Params::new(),
        )
        .unwrap();
    assert_eq!(r.columns, vec!["row"]);
    assert_eq!(
        r.rows,
        vec![
            vec![Value::List(vec![s("name"), s("age")])],
            vec![Value::List(vec![s("ann"), s("31")])],
            vec![Value::List(vec![s("bob"), Value::Null])],
        ]
    );
    let r = conn
        .query(
            &format!(
                "LOAD CSV WITH HEADERS FROM '{}' AS row RETURN row.name AS n, toInteger(row.age) AS a",
                url(&f)
            ),
            &Params::new(),
        )
        .unwrap();
    assert_eq!(
        r.rows,
        vec![vec![s("ann"), Value::Int(31)], vec![s("bob"), Value::Null]]
    );
}

#[test]
fn field_terminator_and_url_from_a_parameter() {
    let f = csv_file("a;b\n\"x;y\";2\n");
    let mut p = Params::new();
    p.insert("url".into(), s(&url(&f)));
    let r = db()
        .connect()
        .query(
            "LOAD CSV WITH HEADERS FROM $url AS row FIELDTERMINATOR ';' RETURN row.a, row.b",
            &p,
        )
        .unwrap();
    assert_eq!(r.rows, vec![vec![s("x;y"), s("2")]]);
}

#[test]
fn errors_name_the_line_the_file_or_the_url() {
    let mut conn = db().connect();
    let bad = csv_file("a,b\n1,2\n1,2,3\n");
    let e = conn
        .query(
            &format!(
                "LOAD CSV WITH HEADERS FROM '{}' AS row CREATE (:R {{a: row.a}})",
                url(&bad)
            ),
            &Params::new(),
        )
        .unwrap_err();
    assert!(e.message().contains("line 3"), "{e}");
    assert!(e.position().is_some());
    // Nothing of the failed statement stays.
    let n = conn
        .query("MATCH (r:R) RETURN count(r)", &Params::new())
        .unwrap();
    assert_eq!(n.rows, vec![vec![Value::Int(0)]]);

    let mut utf8 = tempfile::NamedTempFile::new().unwrap();
    utf8.write_all(b"ok\n\xff\xfe\n").unwrap();
    utf8.flush().unwrap();
    let e = conn
        .query(
            &format!("LOAD CSV FROM '{}' AS row RETURN row", url(&utf8)),
            &Params::new(),
        )
        .unwrap_err();
    assert!(e.message().contains("line 2"), "{e}");

    let e = conn
        .query(
            "LOAD CSV FROM 'file:///no/such/file.csv' AS row RETURN row",
            &Params::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Error);
    assert!(e.message().contains("/no/such/file.csv"), "{e}");

    let e = conn
        .query(
            "LOAD CSV FROM 'https://example.com/x.csv' AS row RETURN row",
            &Params::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = conn
        .query("LOAD CSV FROM 42 AS row RETURN row", &Params::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Type);
}

#[test]
fn rows_stream_in_batches_so_memory_does_not_grow_with_the_file() {
    let rows = 25_000;
    let mut text = String::from("id,name\n");
    for i in 0..rows {
        text.push_str(&format!("{i},n{i}\n"));
    }
    let f = csv_file(&text);
    let mut conn = db().connect();
    conn.query(
        &format!(
            "LOAD CSV WITH HEADERS FROM '{}' AS row WITH row WHERE row.id <> '7' CREATE (:P {{id: toInteger(row.id), name: row.name}})",
            url(&f)
        ),
        &Params::new(),
    )
    .unwrap();
    let peak = graphdb::cypher::exec::last_query_peak_rows();
    assert!(
        peak > 0 && peak <= 1000,
        "the executor held {peak} rows at once"
    );
    let r = conn
        .query("MATCH (p:P) RETURN count(p), sum(p.id)", &Params::new())
        .unwrap();
    let total: i64 = (0..rows as i64).sum::<i64>() - 7;
    assert_eq!(
        r.rows,
        vec![vec![Value::Int(rows as i64 - 1), Value::Int(total)]]
    );

    // An aggregate needs all rows: it gets them, correctly.
    let r = conn
        .query(
            &format!(
                "LOAD CSV WITH HEADERS FROM '{}' AS row RETURN count(*)",
                url(&f)
            ),
            &Params::new(),
        )
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Int(rows as i64)]]);
    assert!(graphdb::cypher::exec::last_query_peak_rows() >= rows);
}

#[test]
fn a_read_after_a_write_sees_every_row_written() {
    // MATCH after CREATE ends the batched part: every row's MATCH sees all created nodes,
    // including those of rows in later batches.
    let text: String = (1..=1100).map(|i| format!("{i}\n")).collect();
    let f = csv_file(&text);
    let r = db()
        .connect()
        .query(
            &format!(
                "LOAD CSV FROM '{}' AS row CREATE (:N {{v: row[0]}}) WITH row MATCH (n:N {{v: '1050'}}) RETURN count(*)",
                url(&f)
            ),
            &Params::new(),
        )
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Int(1100)]]);
}

#[test]
fn a_pattern_expression_after_a_write_sees_every_row_written() {
    let text: String = (1..=1100).map(|i| format!("{i}\n")).collect();
    let f = csv_file(&text);
    let r = db()
        .connect()
        .query(
            &format!(
                "LOAD CSV FROM '{}' AS row CREATE (:N {{v: row[0]}}) WITH row, COUNT {{ MATCH (n:N {{v: '1050'}}) }} AS c WHERE c = 0 RETURN count(*)",
                url(&f)
            ),
            &Params::new(),
        )
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Int(0)]]);
}
