//! Parses every query of the openCypher TCK (at `../shared/tck` next to the repository).
//!
//! Queries in scenarios expecting "a SyntaxError should be raised at compile time" should
//! fail to parse; many of those are semantic errors the planner reports, so they are only
//! counted. Every other query (including setup queries) must parse.

use std::fs;
use std::path::{Path, PathBuf};

use graphdb::cypher;

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

/// Splits a Gherkin table row into unescaped cells.
fn table_cells(line: &str) -> Vec<String> {
    let inner = line.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('|') => cur.push('|'),
                Some('n') => cur.push('\n'),
                Some('\\') => cur.push('\\'),
                Some(o) => {
                    cur.push('\\');
                    cur.push(o);
                }
                None => cur.push('\\'),
            },
            '|' => {
                cells.push(cur.trim().to_string());
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    cells
}

struct Scenario {
    name: String,
    /// (query, is the main "When executing query")
    queries: Vec<(String, bool)>,
    syntax_error: bool,
    error_detail: String,
    /// The expected result's column names, when the scenario lists a result table.
    columns: Option<Vec<String>>,
    examples: Vec<Vec<(String, String)>>,
}

fn parse_feature(file: &Path, text: &str, out: &mut Vec<TckQuery>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut i = 0;
    let mut pending_query: Option<bool> = None;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if t.starts_with("Scenario:") || t.starts_with("Scenario Outline:") {
            scenarios.push(Scenario {
                name: t.to_string(),
                queries: Vec::new(),
                syntax_error: false,
                error_detail: String::new(),
                columns: None,
                examples: Vec::new(),
            });
        } else if t.starts_with("Examples:") {
            // The table follows; the first row is the header.
            let mut header: Option<Vec<String>> = None;
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim().starts_with('|') {
                let cells = table_cells(lines[j]);
                match &header {
                    None => header = Some(cells),
                    Some(h) => {
                        if let Some(s) = scenarios.last_mut() {
                            s.examples
                                .push(h.iter().cloned().zip(cells).collect::<Vec<_>>());
                        }
                    }
                }
                j += 1;
            }
            i = j;
            continue;
        } else if t.ends_with("executing query:") || t.ends_with("executing control query:") {
            pending_query = Some(t.contains("When executing query:"));
        } else if t.ends_with("having executed:") {
            pending_query = Some(false);
        } else if t.starts_with("Then the result should be") && !t.ends_with("empty") {
            if let (Some(s), Some(next)) = (scenarios.last_mut(), lines.get(i + 1)) {
                if next.trim().starts_with('|') {
                    s.columns = Some(table_cells(next));
                }
            }
        } else if t.contains("a SyntaxError should be raised at compile time") {
            if let Some(s) = scenarios.last_mut() {
                s.syntax_error = true;
                s.error_detail = t.rsplit(':').next().unwrap_or("").trim().to_string();
            }
        } else if t.starts_with("\"\"\"") {
            let indent = line.len() - line.trim_start().len();
            let mut body = Vec::new();
            let mut j = i + 1;
            while j < lines.len() && !lines[j].trim().starts_with("\"\"\"") {
                let l = lines[j];
                body.push(if l.len() >= indent && l[..indent].trim().is_empty() {
                    &l[indent..]
                } else {
                    l.trim_start()
                });
                j += 1;
            }
            if let (Some(main), Some(s)) = (pending_query.take(), scenarios.last_mut()) {
                s.queries.push((body.join("\n"), main));
            }
            i = j + 1;
            continue;
        }
        i += 1;
    }
    for s in scenarios {
        let rows = if s.examples.is_empty() {
            vec![Vec::new()]
        } else {
            s.examples.clone()
        };
        for row in rows {
            for (q, main) in &s.queries {
                let mut query = q.clone();
                for (k, v) in &row {
                    query = query.replace(&format!("<{k}>"), v);
                }
                out.push(TckQuery {
                    file: file.to_path_buf(),
                    scenario: s.name.clone(),
                    query,
                    expects_syntax_error: *main && s.syntax_error,
                    error_detail: s.error_detail.clone(),
                    columns: if *main {
                        s.columns.as_ref().map(|cols| {
                            cols.iter()
                                .map(|c| {
                                    let mut c = c.clone();
                                    for (k, v) in &row {
                                        c = c.replace(&format!("<{k}>"), v);
                                    }
                                    c
                                })
                                .collect()
                        })
                    } else {
                        None
                    },
                });
            }
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
