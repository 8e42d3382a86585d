//! Parses every query of the openCypher TCK (at `../shared/tck` next to the repository).
//!
//! Queries in scenarios expecting "a SyntaxError should be raised at compile time" should
//! fail to parse; many of those are semantic errors the planner reports, so they are only
//! counted. Every other query (including setup queries) must parse.

use std::fs;
use std::path::{Path, PathBuf};

use graphdb::cypher;

// The runner's parser; this test reads only some of what it records.
#[allow(dead_code)]
#[path = "tck/gherkin.rs"]
mod gherkin;

struct TckQuery {
    file: PathBuf,
    scenario: String,
    query: String,
    /// The scenario expects a compile-time SyntaxError and this is its main query.
    expects_syntax_error: bool,
    /// The expected error's detail code (`UndefinedVariable`, ...).
    error_detail: String,
    /// For the main query: the column names of the expected result.
    columns: Option<Vec<String>>,
}

fn feature_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            feature_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "feature") {
            out.push(p);
        }
    }
}

/// The queries of one feature file, read with the TCK runner's Gherkin parser (outlines
/// expanded there).
fn parse_feature(file: &Path, text: &str, out: &mut Vec<TckQuery>) {
    let cases = match gherkin::parse_feature(text) {
        Ok(c) => c,
        Err(e) => panic!("cannot read {}: {e}", file.display()),
    };
    for case in cases {
        let mut syntax_error = false;
        let mut error_detail = String::new();
        let mut columns = None;
        for step in &case.steps {
            let t = step.text.as_str();
            if let Some(rest) = t.strip_prefix("a SyntaxError should be raised at compile time") {
                syntax_error = true;
                error_detail = rest.trim_start_matches(':').trim().to_string();
            } else if t.starts_with("the result should be") && !t.ends_with("empty") {
                columns = step.table.first().cloned();
            }
        }
        for step in &case.steps {
            let main = match step.text.as_str() {
                "executing query" => true,
                "executing control query" | "having executed" => false,
                _ => continue,
            };
            let Some(query) = &step.docstring else {
                continue;
            };
            out.push(TckQuery {
                file: file.to_path_buf(),
                scenario: case.scenario.clone(),
                query: query.clone(),
                expects_syntax_error: main && syntax_error,
                error_detail: error_detail.clone(),
                columns: if main { columns.clone() } else { None },
            });
        }
    }
}

/// All TCK queries with their feature files, or None (after saying so) when the TCK is absent.
fn load_tck() -> Option<(Vec<PathBuf>, Vec<TckQuery>)> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let Some(root) = manifest.parent().map(|p| p.join("shared/tck/features")) else {
        println!("no parent directory of CARGO_MANIFEST_DIR: skipping the TCK parse test");
        return None;
    };
    if !root.is_dir() {
        println!(
            "TCK not found at {}: skipping the TCK parse test",
            root.display()
        );
        return None;
    }
    let mut files = Vec::new();
    feature_files(&root, &mut files);
    let mut queries = Vec::new();
    for f in &files {
        if let Ok(text) = fs::read_to_string(f) {
            parse_feature(f, &text, &mut queries);
        }
    }
    assert!(
        !queries.is_empty(),
        "found no TCK queries under {}",
        root.display()
    );
    Some((files, queries))
}

/// Every prefix of every TCK query, and every query with one character removed, parses or
/// fails with a positioned syntax error; none panics.
#[test]
fn damaged_tck_queries_fail_cleanly() {
    let Some((_, queries)) = load_tck() else {
        return;
    };
    let mut runs = 0;
    for q in &queries {
        let text = &q.query;
        let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        // At most ~100 damage points per query keeps the test linear in the TCK's size.
        let step = (cuts.len() / 100).max(1);
        for (n, &i) in cuts.iter().enumerate().step_by(step) {
            let next = cuts.get(n + 1).copied().unwrap_or(text.len());
            for damaged in [
                text[..i].to_string(),
                format!("{}{}", &text[..i], &text[next..]),
            ] {
                runs += 1;
                if let Err(e) = cypher::parse(&damaged) {
                    assert!(
                        e.position().is_some(),
                        "error without a position for {damaged:?}: {e}"
                    );
                }
            }
        }
    }
    println!("TCK: parsed {runs} damaged queries without a panic");
}

#[test]
fn tck_queries_parse() {
    let Some((files, queries)) = load_tck() else {
        return;
    };

    let mut parsed = 0;
    let mut failures = Vec::new();
    let mut expected_errors = 0;
    let mut caught = 0;
    let mut accepted_errors = Vec::new();
    let mut columns_checked = 0;
    let mut column_mismatches = Vec::new();
    for q in &queries {
        let r = cypher::parse(&q.query);
        if q.expects_syntax_error {
            expected_errors += 1;
            match r {
                Err(e) => {
                    caught += 1;
                    if std::env::var_os("TCK_SHOW_REJECTED").is_some() {
                        println!("REJECTED [{}] {}\n  -> {e}", q.error_detail, q.query);
                    }
                }
                Ok(_) => accepted_errors.push(q),
            }
        } else {
            match r {
                Ok(st) => {
                    parsed += 1;
                    if let (Some(want), Some(got)) = (&q.columns, return_columns(&st)) {
                        columns_checked += 1;
                        if &got != want {
                            column_mismatches.push((q, got));
                        }
                    }
                }
                Err(e) => failures.push((q, e)),
            }
        }
    }
    println!(
        "TCK: {} feature files, {} queries; {parsed} of {} valid queries parsed",
        files.len(),
        queries.len(),
        queries.len() - expected_errors
    );
    println!(
        "TCK: {caught} of {expected_errors} queries expecting a compile-time SyntaxError were \
         rejected by the parser (the rest are for the planner)"
    );
    if std::env::var_os("TCK_SHOW_ACCEPTED").is_some() {
        for q in &accepted_errors {
            println!(
                "ACCEPTED [{}] {} {}\n{}\n",
                q.error_detail,
                q.file.display(),
                q.scenario,
                q.query
            );
        }
    }
    for (q, e) in &failures {
        println!(
            "FAILED {} {}\n{}\n  -> {e}\n",
            q.file.display(),
            q.scenario,
            q.query
        );
    }
    println!("TCK: checked the column names of {columns_checked} results");
    for (q, got) in &column_mismatches {
        println!(
            "COLUMNS {} {}\n{}\n  expected {:?}, parsed {got:?}\n",
            q.file.display(),
            q.scenario,
            q.query,
            q.columns
        );
    }
    assert!(
        column_mismatches.is_empty(),
        "{} results' column names differ from the projection text",
        column_mismatches.len()
    );
    assert!(
        failures.is_empty(),
        "{} valid TCK queries failed to parse",
        failures.len()
    );
}

/// The column names of a query's final RETURN (None for `RETURN *` or no RETURN).
fn return_columns(st: &cypher::ast::Statement) -> Option<Vec<String>> {
    use cypher::ast::{Clause, StatementKind};
    let StatementKind::Query(q) = &st.kind else {
        return None;
    };
    let Some(Clause::Return(r)) = q.parts.first()?.clauses.last() else {
        return None;
    };
    if r.projection.star {
        return None;
    }
    Some(
        r.projection
            .items
            .iter()
            .map(|i| i.name().to_string())
            .collect(),
    )
}
