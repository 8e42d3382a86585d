//! Temporal values through the public Rust API: stored as properties they survive closing
//! and reopening the database (WAL replay), they pass in as parameters and come back as
//! typed values, and their JSON form round-trips.

use graphdb::api::{json, Value};
use graphdb::{Database, Options, Params};

const VALUES: &str = "RETURN date('2015-07-21') AS d, localtime('21:40:32.142') AS lt, \
     time('21:40:32+01:00') AS t, localdatetime('2015-W30-2T214032.142') AS ldt, \
     datetime('2015-07-21T21:40:32.142[Europe/Stockholm]') AS dt, \
     duration('P1Y2M-3DT4.5S') AS dur";

const FORMS: [&str; 6] = [
    "2015-07-21",
    "21:40:32.142",
    "21:40:32+01:00",
    "2015-07-21T21:40:32.142",
    "2015-07-21T21:40:32.142+02:00[Europe/Stockholm]",
    "P1Y2M-3DT4.5S",
];

fn strings(row: &[Value]) -> Vec<String> {
    row.iter()
        .map(|v| {
            v.temporal_string()
                .unwrap_or_else(|| panic!("expected a temporal value, got {v:?}"))
        })
        .collect()
}

#[test]
fn temporal_properties_survive_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let dir = dir.to_str().unwrap();
    {
        let db = Database::open(dir, &Options::new()).unwrap();
        let mut c = db.connect();
        let create = format!(
            "{} CREATE (:T {{d: d, lt: lt, t: t, ldt: ldt, dt: dt, dur: dur, list: [d, d + dur]}})",
            VALUES.replacen("RETURN", "WITH", 1)
        );
        c.query(&create, &Params::new()).unwrap();
    }
    let db = Database::open(dir, &Options::new()).unwrap();
    let mut c = db.connect();
    let r = c
        .query(
            "MATCH (n:T) RETURN n.d, n.lt, n.t, n.ldt, n.dt, n.dur",
            &Params::new(),
        )
        .unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(strings(&r.rows[0]), FORMS);
    let r = c
        .query(
            "MATCH (n:T) RETURN n.list AS l, n.dt.timezone AS z",
            &Params::new(),
        )
        .unwrap();
    let Value::List(items) = &r.rows[0][0] else {
        panic!("expected a list, got {:?}", r.rows[0][0]);
    };
    assert_eq!(strings(items), ["2015-07-21", "2016-09-18"]);
    assert_eq!(r.rows[0][1], Value::String("Europe/Stockholm".into()));
}

#[test]
fn temporal_parameters_and_results_are_typed_values() {
    let db = Database::open(":memory:", &Options::new()).unwrap();
    let mut c = db.connect();
    let r = c.query(VALUES, &Params::new()).unwrap();
    let row = r.rows[0].clone();
    assert!(matches!(row[0], Value::Date(_)));
    assert!(matches!(row[5], Value::Duration(_)));
    // Pass every value back in as a parameter and compare it with itself in Cypher.
    let mut params = Params::new();
    for (i, v) in row.iter().enumerate() {
        params.insert(format!("p{i}"), v.clone());
    }
    let r = c
        .query(
            "RETURN $p0 = date('2015-07-21') AND $p4 = datetime('2015-07-21T19:40:32.142Z') \
             AND $p5 = duration('P1Y2M-3DT4.5S') AS same, $p3 + $p5 AS later",
            &params,
        )
        .unwrap();
    assert_eq!(r.rows[0][0], Value::Bool(true));
    assert_eq!(
        r.rows[0][1].temporal_string().as_deref(),
        Some("2016-09-18T21:40:36.642")
    );
    // The JSON form carries the type tag and the Cypher string form.
    for v in &row {
        let text = json::to_json(v);
        assert_eq!(&json::from_json(&text).unwrap(), v, "{text}");
    }
    assert_eq!(json::to_json(&row[0]), r#"{"$date":"2015-07-21"}"#);
}

#[test]
fn bad_temporal_input_is_an_error_not_a_panic() {
    let db = Database::open(":memory:", &Options::new()).unwrap();
    let mut c = db.connect();
    for q in [
        "RETURN date('2015-02-29')",
        "RETURN date({year: 2015, month: 13})",
        "RETURN date({year: 2015, week: 1, month: 2})",
        "RETURN localtime({minute: 3})",
        "RETURN datetime({year: 2015, timezone: 'Mars/Base'})",
        "RETURN duration('P1Q')",
        "RETURN duration({years: 'x'})",
        "RETURN date('+999999999-12-31') + duration('P1D')",
        "RETURN duration({seconds: 9223372036854775807}) * 2",
        "RETURN duration('P1D') / 0",
        "RETURN date.truncate('hour', date('2015-01-01'))",
        "RETURN date('2015-01-01').fortnight",
        "RETURN date('2015-01-01') + date('2015-01-01')",
        "RETURN date({year: 2015, week: 0})",
        "RETURN datetime.fromepoch(9223372036854775807, 0)",
        "RETURN datetime.fromepochmillis(-9223372036854775808) + duration('P-1000000000Y')",
        "RETURN localtime('')",
        "RETURN time('Z')",
        "RETURN datetime('T')",
        "RETURN date('W')",
        "RETURN duration('PT1.0000000001S')",
        "RETURN duration({days: 1e300})",
        "RETURN duration({seconds: 1.0 / 0.0})",
        "RETURN date.truncate('millennium', date('-999999999-01-01'))",
        "RETURN localdatetime('+999999999-12-31T23:59:59.999999999') + duration({nanoseconds: 1})",
        "RETURN duration('P9223372036854775807Y')",
        "RETURN duration('P99999999999999999999Y')",
        "RETURN duration({months: 1}) * 9.3e18",
        "RETURN duration({seconds: 2}) * 9223372036854775807",
        "RETURN -duration({months: -9223372036854775807 - 1})",
    ] {
        assert!(c.query(q, &Params::new()).is_err(), "{q} must fail");
    }
    for q in [
        "RETURN datetime('+999999999-12-31T23:59[Europe/Stockholm]') AS x",
        "RETURN datetime('-999999999-01-01T00:00[America/New_York]').epochSeconds AS x",
        "RETURN duration.between(date('-999999999-01-01'), datetime('+999999999-12-31T23:59:59.999999999-18:00')) AS x",
        "RETURN duration.inSeconds(time('00:00+18:00'), time('00:00-18:00')) AS x",
        "RETURN datetime.fromepochmillis(-9223372036854775808) AS x",
    ] {
        c.query(q, &Params::new())
            .unwrap_or_else(|e| panic!("{q} must succeed: {e}"));
    }
    let r = c
        .query(
            "RETURN date('2015-01-01') < localtime('12:00') AS a, duration('P1D') < duration('P2D') AS b",
            &Params::new(),
        )
        .unwrap();
    assert_eq!(r.rows[0], vec![Value::Null, Value::Null]);
}

#[test]
fn clocks_fix_the_transaction_and_statement_instants() {
    let db = Database::open(":memory:", &Options::new()).unwrap();
    let mut c = db.connect();
    let q = "RETURN datetime.transaction() AS tx, datetime.statement() AS st, \
             datetime() AS now, duration.inSeconds(localtime(), localtime()) AS zero";
    c.begin(graphdb::TxnMode::ReadOnly).unwrap();
    let a = c.query(q, &Params::new()).unwrap().rows.remove(0);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let b = c.query(q, &Params::new()).unwrap().rows.remove(0);
    c.commit().unwrap();
    assert_eq!(a[0], b[0], "one transaction, one transaction instant");
    assert_ne!(a[1], b[1], "each statement has its own instant");
    assert_eq!(a[1], a[2], "datetime() is the statement instant");
    assert_eq!(a[3].temporal_string().as_deref(), Some("PT0S"));
    let r = c
        .query(
            "RETURN datetime.realtime() >= datetime.statement() AS later, \
             datetime.transaction() = datetime.statement() AS auto",
            &Params::new(),
        )
        .unwrap();
    assert_eq!(r.rows[0], vec![Value::Bool(true), Value::Bool(true)]);
}
