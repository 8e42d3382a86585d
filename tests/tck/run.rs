//! Runs one TCK case on a fresh in-memory database through the public Rust API.

use std::collections::BTreeSet;

use graphdb::api::{Database, Options, Params, ProcedureSignature, QueryResult, Value};
use graphdb::error::{Error, ErrorKind};
use graphdb::Connection;

use crate::gherkin::{Case, Step};
use crate::values::{self, TVal};

/// Where the TCK's named graphs (`Given the binary-tree-1 graph`) live.
pub struct Env {
    pub graphs_dir: std::path::PathBuf,
}

/// A passed case may still carry notes worth reporting (phase or statistics mismatches).
#[derive(Default)]
pub struct Outcome {
    pub failure: Option<String>,
    pub notes: Vec<String>,
}

/// The graph as the TCK's side effects see it: entity ids, label names, and property
/// triples (entity, key, value).
#[derive(Default)]
struct Snapshot {
    nodes: BTreeSet<u64>,
    rels: BTreeSet<u64>,
    labels: BTreeSet<String>,
    props: BTreeSet<String>,
}

fn snapshot(conn: &mut Connection) -> Result<Snapshot, String> {
    let mut s = Snapshot::default();
    let nodes = conn
        .query("MATCH (n) RETURN n", &Params::new())
        .map_err(|e| format!("side-effect snapshot (MATCH (n) RETURN n) failed: {e}"))?;
    for row in &nodes.rows {
        if let Some(Value::Node(n)) = row.first() {
            s.nodes.insert(n.id);
            s.labels.extend(n.labels.iter().cloned());
            for (k, v) in &n.properties {
                s.props.insert(format!("n{}.{k}={}", n.id, values::show(v)));
            }
        }
    }
    let rels = conn
        .query("MATCH ()-[r]->() RETURN r", &Params::new())
        .map_err(|e| format!("side-effect snapshot (MATCH ()-[r]->() RETURN r) failed: {e}"))?;
    for row in &rels.rows {
        if let Some(Value::Relationship(r)) = row.first() {
            s.rels.insert(r.id);
            for (k, v) in &r.properties {
                s.props.insert(format!("r{}.{k}={}", r.id, values::show(v)));
            }
        }
    }
    Ok(s)
}

fn diff<T: Ord>(before: &BTreeSet<T>, after: &BTreeSet<T>) -> (i64, i64) {
    (
        after.difference(before).count() as i64,
        before.difference(after).count() as i64,
    )
}

/// The side effects in the TCK's keys, in its order.
fn side_effects(before: &Snapshot, after: &Snapshot) -> Vec<(&'static str, i64)> {
    let (pn, mn) = diff(&before.nodes, &after.nodes);
    let (pr, mr) = diff(&before.rels, &after.rels);
    let (pl, ml) = diff(&before.labels, &after.labels);
    let (pp, mp) = diff(&before.props, &after.props);
    vec![
        ("+nodes", pn),
        ("-nodes", mn),
        ("+relationships", pr),
        ("-relationships", mr),
        ("+labels", pl),
        ("-labels", ml),
        ("+properties", pp),
        ("-properties", mp),
    ]
}

struct State {
    db: Database,
    conn: Connection,
    params: Params,
    last: Option<Result<QueryResult, Error>>,
    effects: Option<Vec<(&'static str, i64)>>,
    query: String,
}

fn short(s: &str, n: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > n {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    } else {
        one_line
    }
}

fn err_text(e: &Error) -> String {
    format!("{:?}: {}", e.kind(), short(e.message(), 160))
}

/// Runs the case; `Err` is its failure reason.
pub fn run_case(case: &Case, env: &Env, timeout_ms: u64) -> Outcome {
    let mut out = Outcome::default();
    let mut opts = Options::new();
    opts.query_timeout_ms = timeout_ms;
    let db = match Database::open(":memory:", &opts) {
        Ok(db) => db,
        Err(e) => {
            out.failure = Some(format!("opening an in-memory database failed: {e}"));
            return out;
        }
    };
    let mut st = State {
        conn: db.connect(),
        db,
        params: Params::new(),
        last: None,
        effects: None,
        query: String::new(),
    };
    for step in &case.steps {
        if let Err(reason) = step_run(&mut st, step, env, &mut out.notes) {
            out.failure = Some(reason);
            break;
        }
    }
    out
}

fn expect_ok(st: &State) -> Result<&QueryResult, String> {
    match &st.last {
        None => Err("no query was executed before the check".into()),
        Some(Err(e)) => Err(format!("query failed: {}", err_text(e))),
        Some(Ok(r)) => Ok(r),
    }
}

fn step_run(st: &mut State, step: &Step, env: &Env, notes: &mut Vec<String>) -> Result<(), String> {
    let t = step.text.as_str();
    if t == "an empty graph" || t == "any graph" {
        return Ok(());
    }
    if let Some(name) = t
        .strip_prefix("the ")
        .and_then(|r| r.strip_suffix(" graph"))
    {
        let file = env.graphs_dir.join(name).join(format!("{name}.cypher"));
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("named graph {name}: cannot read {}: {e}", file.display()))?;
        return st
            .conn
            .query(&text, &Params::new())
            .map(|_| ())
            .map_err(|e| format!("setup of named graph {name} failed: {}", err_text(&e)));
    }
    if t == "having executed" {
        let q = step.docstring.as_deref().unwrap_or_default();
        return st
            .conn
            .query(q, &Params::new())
            .map(|_| ())
            .map_err(|e| format!("setup query failed: {} [{}]", err_text(&e), short(q, 80)));
    }
    if t == "parameters are" {
        for row in &step.table {
            let [name, val] = row.as_slice() else {
                return Err(format!("parameter row with {} cells", row.len()));
            };
            let v = values::parse(val).map_err(|e| format!("cannot read parameter {name}: {e}"))?;
            let v = values::to_param(&v)?;
            st.params.insert(name.clone(), v);
        }
        return Ok(());
    }
    if let Some(sig) = t.strip_prefix("there exists a procedure ") {
        return register_procedure(&st.db, sig, &step.table);
    }
    if t == "executing query" || t == "executing control query" {
        let q = step.docstring.clone().unwrap_or_default();
        let control = t == "executing control query";
        let before = if control {
            None
        } else {
            Some(snapshot(&mut st.conn)?)
        };
        // GRAPHDB_TCK_PREPARED=1: through a prepared statement (its compiled plan).
        let res = if std::env::var("GRAPHDB_TCK_PREPARED").is_ok_and(|v| v == "1") {
            st.conn
                .prepare(&q)
                .and_then(|stmt| st.conn.execute(&stmt, &st.params))
        } else {
            st.conn.query(&q, &st.params)
        };
        st.effects = None;
        if let (Some(before), Ok(r)) = (&before, &res) {
            let after = snapshot(&mut st.conn)?;
            let eff = side_effects(before, &after);
            let stat = |k: &str| eff.iter().find(|(n, _)| *n == k).map_or(0, |(_, v)| *v);
            let s = &r.stats;
            let pairs = [
                ("+nodes", s.nodes_created),
                ("-nodes", s.nodes_deleted),
                ("+relationships", s.relationships_created),
                ("-relationships", s.relationships_deleted),
            ];
            for (k, v) in pairs {
                if stat(k) != v {
                    notes.push(format!(
                        "stats: {k} is {v} in QueryStats but {} in the graph",
                        stat(k)
                    ));
                }
            }
            st.effects = Some(eff);
        }
        st.last = Some(res);
        st.query = q;
        return Ok(());
    }
    if t == "the result should be empty" {
        let r = expect_ok(st)?;
        if !r.rows.is_empty() {
            return Err(format!(
                "expected no rows, got {}: first {}",
                r.rows.len(),
                show_row(&r.rows[0])
            ));
        }
        return Ok(());
    }
    if let Some(mode) = t.strip_prefix("the result should be") {
        let ordered = mode.contains("in order");
        let unordered_lists = mode.contains("ignoring element order for lists");
        return compare_table(expect_ok(st)?, &step.table, ordered, unordered_lists);
    }
    if t == "no side effects" || t == "the side effects should be" {
        expect_ok(st)?;
        let Some(eff) = &st.effects else {
            return Err("side effects of a control query cannot be checked".into());
        };
        let mut expected: Vec<(String, i64)> = Vec::new();
        for row in &step.table {
            let [k, v] = row.as_slice() else {
                return Err(format!("side-effect row with {} cells", row.len()));
            };
            let n: i64 = v.parse().map_err(|_| format!("side-effect count '{v}'"))?;
            expected.push((k.clone(), n));
        }
        let mut wrong = Vec::new();
        for (k, got) in eff {
            let want = expected.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| *v);
            if want != *got {
                wrong.push(format!("{k} expected {want} got {got}"));
            }
        }
        if !wrong.is_empty() {
            return Err(format!("side effects: {}", wrong.join(", ")));
        }
        return Ok(());
    }
    if let Some(rest) = t.strip_prefix("a ").or_else(|| t.strip_prefix("an ")) {
        if let Some((ty, rest)) = rest.split_once(" should be raised at ") {
            let (phase, detail) = rest.split_once(':').unwrap_or((rest, ""));
            return check_error(st, ty, phase.trim(), detail.trim(), notes);
        }
    }
    Err(format!("unsupported step: {}", short(t, 80)))
}

/// Registers the TCK's table-driven test procedure: its table has a column per input, then
/// one per output; a call yields the output part of every row whose inputs equal the
/// arguments.
fn register_procedure(db: &Database, sig: &str, table: &[Vec<String>]) -> Result<(), String> {
    let sig = ProcedureSignature::parse(sig).map_err(|e| format!("procedure signature: {e}"))?;
    let n_in = sig.inputs.len();
    let width = n_in + sig.outputs.len();
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for row in table.iter().skip(1) {
        if row.len() != width {
            return Err(format!(
                "procedure table row has {} cells, the signature {width}",
                row.len()
            ));
        }
        let vals = row
            .iter()
            .map(|c| values::parse(c).and_then(|v| values::to_param(&v)))
            .collect::<Result<Vec<Value>, String>>()?;
        rows.push(vals);
    }
    let same = |a: &Value, b: &Value| match (a, b) {
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => *x as f64 == *y,
        _ => a == b,
    };
    db.register_procedure(sig, move |args: &[Value]| {
        Ok(rows
            .iter()
            .filter(|r| r.len() >= n_in && args.iter().zip(&r[..n_in]).all(|(a, b)| same(a, b)))
            .map(|r| r[n_in..].to_vec())
            .collect())
    })
    .map_err(|e| format!("registering the procedure failed: {e}"))
}

/// Our error kinds that stand for the TCK's error type. The TCK's "SyntaxError" also covers
/// many semantic checks, so Semantic is accepted for it.
pub fn accepted_kinds(tck_type: &str) -> &'static [ErrorKind] {
    use ErrorKind::*;
    match tck_type {
        "SyntaxError" => &[Syntax, Semantic],
        "SemanticError" => &[Semantic, Syntax],
        "TypeError" => &[Type],
        "ArgumentError" => &[InvalidArgument, Type, Error],
        "ConstraintValidationFailed" | "ConstraintVerificationFailed" => &[ConstraintViolation],
        "EntityNotFound" => &[Error, Semantic],
        "ProcedureError" => &[Semantic, Error],
        "ParameterMissing" => &[Semantic],
        _ => &[],
    }
}

fn check_error(
    st: &State,
    ty: &str,
    phase: &str,
    detail: &str,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    let e = match &st.last {
        None => return Err("no query was executed before the check".into()),
        Some(Ok(r)) => {
            return Err(format!(
                "expected {ty} ({detail}) at {phase}, but the query succeeded with {} row(s)",
                r.rows.len()
            ))
        }
        Some(Err(e)) => e,
    };
    // The TCK reports static type checks as "SyntaxError: InvalidArgumentType" at compile
    // time; a runtime Type error for the same mistake is the same answer in another phase.
    let static_type_check = ty == "SyntaxError" && detail == "InvalidArgumentType";
    if static_type_check && e.kind() == ErrorKind::Type {
        notes.push("phase: SyntaxError(InvalidArgumentType) expected at compile time, raised at runtime as Type".into());
        return Ok(());
    }
    if !accepted_kinds(ty).contains(&e.kind()) {
        return Err(format!("expected {ty} ({detail}), got {}", err_text(e)));
    }
    // Syntax and Semantic are raised before anything runs; Type may be either.
    let compile_kind = matches!(e.kind(), ErrorKind::Syntax | ErrorKind::Semantic);
    if phase == "runtime" && compile_kind {
        notes.push(format!(
            "phase: {ty} expected at runtime, raised at compile time as {:?}",
            e.kind()
        ));
    }
    Ok(())
}

fn show_row(row: &[Value]) -> String {
    format!(
        "| {} |",
        row.iter().map(values::show).collect::<Vec<_>>().join(" | ")
    )
}

fn compare_table(
    r: &QueryResult,
    table: &[Vec<String>],
    ordered: bool,
    unordered_lists: bool,
) -> Result<(), String> {
    let Some((header, rows)) = table.split_first() else {
        return Err("expected-result table has no header".into());
    };
    if header != &r.columns {
        return Err(format!(
            "columns: expected {:?}, got {:?}",
            header, r.columns
        ));
    }
    let mut expected = Vec::new();
    for row in rows {
        let cells = row
            .iter()
            .map(|c| values::parse(c))
            .collect::<Result<Vec<TVal>, String>>()
            .map_err(|e| format!("cannot read expected value: {e}"))?;
        expected.push(cells);
    }
    let row_eq = |e: &Vec<TVal>, g: &Vec<Value>| {
        e.len() == g.len()
            && e.iter()
                .zip(g)
                .all(|(e, g)| values::matches(e, g, unordered_lists))
    };
    if expected.len() != r.rows.len() {
        let first = r.rows.first().map(|r| show_row(r)).unwrap_or_default();
        return Err(format!(
            "expected {} row(s), got {} {}",
            expected.len(),
            r.rows.len(),
            short(&first, 120)
        ));
    }
    let ok = if ordered {
        expected.iter().zip(&r.rows).all(|(e, g)| row_eq(e, g))
    } else {
        values::multiset_match(&expected, &r.rows, row_eq)
    };
    if ok {
        return Ok(());
    }
    // Name the first row that has no partner, for the report.
    let bad = if ordered {
        expected
            .iter()
            .zip(&r.rows)
            .position(|(e, g)| !row_eq(e, g))
            .unwrap_or(0)
    } else {
        r.rows
            .iter()
            .position(|g| !expected.iter().any(|e| row_eq(e, g)))
            .unwrap_or(0)
    };
    let got = r.rows.get(bad).map(|r| show_row(r)).unwrap_or_default();
    let want = rows
        .get(bad)
        .map(|r| format!("| {} |", r.join(" | ")))
        .unwrap_or_default();
    Err(format!(
        "rows differ{}: got {} expected e.g. {}",
        if ordered { " (in order)" } else { "" },
        short(&got, 120),
        short(&want, 120)
    ))
}
