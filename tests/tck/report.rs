//! The TCK report: a table per feature folder, the biggest failure categories, and every
//! failing case with its reason (docs/tck-report.md).

use std::collections::BTreeMap;
use std::fmt::Write;

pub struct CaseResult {
    pub folder: String,
    pub feature: String,
    pub scenario: String,
    pub example: Option<usize>,
    pub line: usize,
    /// None when the case passed.
    pub failure: Option<String>,
    /// Mismatches that do not fail the case (error phase, QueryStats vs the graph).
    pub notes: Vec<String>,
    /// A panic or hang: always an engine bug.
    pub engine_bug: bool,
}

/// (passed, total) per folder.
pub type Summary = BTreeMap<String, (usize, usize)>;

pub fn summarize(results: &[CaseResult]) -> Summary {
    let mut s = Summary::new();
    for r in results {
        let e = s.entry(r.folder.clone()).or_default();
        e.1 += 1;
        if r.failure.is_none() {
            e.0 += 1;
        }
    }
    s
}

fn pct(p: usize, t: usize) -> f64 {
    if t == 0 {
        0.0
    } else {
        100.0 * p as f64 / t as f64
    }
}

pub fn folder_table(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| folder | passed | failed | total | % |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    let (mut p, mut t) = (0, 0);
    for (folder, (fp, ft)) in s {
        let _ = writeln!(
            out,
            "| {folder} | {fp} | {} | {ft} | {:.1} |",
            ft - fp,
            pct(*fp, *ft)
        );
        p += fp;
        t += ft;
    }
    let _ = writeln!(
        out,
        "| **total** | **{p}** | **{}** | **{t}** | **{:.1}** |",
        t - p,
        pct(p, t)
    );
    out
}

/// A failure reason with the case-specific parts (quoted text, numbers) blanked, so that
/// failures with one cause group together.
pub fn category(reason: &str) -> String {
    // Missing functions are worth counting by name.
    if let Some(i) = reason.find("Unknown function '") {
        let name = reason[i..].split('\'').nth(1).unwrap_or_default();
        return format!("function {name}() not implemented (Unknown function)");
    }
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in reason.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => {}
            None if c == '\'' || c == '`' || c == '"' => {
                quote = Some(c);
                out.push(c);
                out.push('…');
            }
            None if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            None => out.push(c),
        }
    }
    // Result mismatches differ in their values only: group them by kind.
    for prefix in [
        "rows differ",
        "expected # row(s), got #",
        "columns",
        "side effects",
    ] {
        if out.starts_with(prefix) {
            return prefix.to_string();
        }
    }
    if let Some(i) = out.find(" [") {
        out.truncate(i);
    }
    out.chars().take(110).collect()
}

/// A coarse cause for the summary: the areas of work that would make cases pass.
fn cause_group(reason: &str) -> &'static str {
    const TEMPORAL: [&str; 6] = [
        "date",
        "time",
        "localtime",
        "localdatetime",
        "datetime",
        "duration",
    ];
    if let Some(i) = reason.find("Unknown function '") {
        let name = reason[i..]
            .split('\'')
            .nth(1)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let base = name.split('.').next().unwrap_or_default();
        return if TEMPORAL.contains(&base) {
            "temporal types and functions not implemented"
        } else {
            "other function not implemented"
        };
    }
    if reason.starts_with("unsupported: test procedures") {
        return "no procedure registration API for the TCK's test procedures";
    }
    if reason.starts_with("PANIC") || reason.starts_with("HUNG") {
        return "engine panic or hang";
    }
    if reason.contains("but the query succeeded") {
        return "expected error not raised";
    }
    if reason.starts_with("expected ") {
        return "wrong error kind";
    }
    if reason.starts_with("query failed") || reason.starts_with("setup") {
        return "query failed unexpectedly";
    }
    "wrong result or side effects"
}

pub fn case_name(r: &CaseResult) -> String {
    let ex = r
        .example
        .map(|e| format!(" (example {e})"))
        .unwrap_or_default();
    format!("{}/{}:{} {}{}", r.folder, r.feature, r.line, r.scenario, ex)
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(results: &[CaseResult], s: &Summary) -> String {
    let mut out = String::new();
    let passed = results.iter().filter(|r| r.failure.is_none()).count();
    let _ = writeln!(out, "# openCypher TCK report\n");
    let _ = writeln!(
        out,
        "Generated by `GRAPHDB_TCK_REPORT=1 cargo test --test tck -- --nocapture` (tests/tck.rs). \
         **{passed} of {} cases pass ({:.1}%).** A case is one Scenario or one Examples row of a \
         Scenario Outline, run on a fresh in-memory database.\n",
        results.len(),
        pct(passed, results.len())
    );
    let _ = writeln!(out, "## How cases are judged\n");
    let _ = writeln!(
        out,
        "- Result tables: column names must match exactly; rows in order only for `in order`; \
         nodes and relationships compare by labels/type and properties (never ids); paths also \
         by direction; lists in order unless `ignoring element order for lists`; floats equal \
         up to a relative 1e-12 (NaN equals NaN).\n\
         - Side effects are the TCK's own definition: the difference between the graph before and \
         after the query (node and relationship ids, label names present in the graph, and \
         (entity, key, value) property triples), read with `MATCH (n) RETURN n` and \
         `MATCH ()-[r]->() RETURN r`. So changing a property's value counts +1 and -1 property, \
         and +labels counts label names new to the graph. Where `QueryStats` disagrees with the \
         graph on nodes/relationships created/deleted, the case is listed under notes below.\n\
         - Expected errors map onto our ErrorKind: SyntaxError → Syntax or Semantic; \
         SemanticError → Semantic or Syntax; TypeError → Type; ArgumentError → InvalidArgument, \
         Type or Error; ConstraintValidationFailed/ConstraintVerificationFailed → \
         ConstraintViolation; EntityNotFound → Error or Semantic; ProcedureError → Semantic or \
         Error; ParameterMissing → Semantic. A SyntaxError with detail InvalidArgumentType (the \
         TCK's static type check) is also accepted as a runtime Type error, with a note. The detail code (e.g. UndefinedVariable) is not \
         checked. The phase is not enforced: an error expected at runtime but raised at compile \
         time is listed under notes.\n\
         - Each query has `query_timeout_ms` = 5000; a case that does not finish in 20s, or \
         panics, fails and is listed as an engine bug.\n"
    );
    let _ = writeln!(out, "## Per folder\n");
    out += &folder_table(s);
    let bugs: Vec<&CaseResult> = results.iter().filter(|r| r.engine_bug).collect();
    let _ = writeln!(out, "\n## Engine bugs (panics, hangs): {}\n", bugs.len());
    for r in &bugs {
        let _ = writeln!(
            out,
            "- {} — {}",
            md_escape(&case_name(r)),
            md_escape(r.failure.as_deref().unwrap_or_default())
        );
    }
    let mut cats: BTreeMap<String, usize> = BTreeMap::new();
    for r in results {
        if let Some(f) = &r.failure {
            *cats.entry(category(f)).or_default() += 1;
        }
    }
    let mut cats: Vec<(String, usize)> = cats.into_iter().collect();
    cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        if let Some(f) = &r.failure {
            *groups.entry(cause_group(f)).or_default() += 1;
        }
    }
    let mut groups: Vec<(&str, usize)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let _ = writeln!(out, "\n## Failures by cause\n");
    let _ = writeln!(out, "| cases | cause |\n|---:|---|");
    for (g, n) in &groups {
        let _ = writeln!(out, "| {n} | {g} |");
    }
    let _ = writeln!(out, "\n## Biggest failure categories\n");
    let _ = writeln!(out, "| cases | reason (values blanked) |\n|---:|---|");
    for (c, n) in cats.iter().take(60) {
        let _ = writeln!(out, "| {n} | {} |", md_escape(c));
    }
    let _ = writeln!(out, "\n## Every failing case\n");
    let mut last_folder = "";
    for r in results {
        let Some(f) = &r.failure else { continue };
        if r.folder != last_folder {
            let _ = writeln!(out, "\n### {}\n", r.folder);
            last_folder = &r.folder;
        }
        let _ = writeln!(out, "- {} — {}", md_escape(&case_name(r)), md_escape(f));
    }
    let noted: Vec<&CaseResult> = results.iter().filter(|r| !r.notes.is_empty()).collect();
    let _ = writeln!(out, "\n## Notes ({} cases)\n", noted.len());
    for r in noted {
        let _ = writeln!(
            out,
            "- {} — {}",
            md_escape(&case_name(r)),
            md_escape(&r.notes.join("; "))
        );
    }
    out
}
