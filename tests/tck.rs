//! The openCypher TCK runner (`../shared/tck` next to the repository; skipped when absent).
//!
//! Every scenario (and every Examples row of a Scenario Outline) runs on a fresh in-memory
//! database through the public Rust API. The test prints a table per feature folder and fails
//! when fewer cases pass than `tests/tck/passing.txt` records (a ratchet: it only goes up);
//! `tests/tck/passing-cases.txt` names those cases, so a regression names the cases that broke.
//!
//! Regenerate `docs/tck-report.md` (and raise the ratchet when more pass) with:
//!     GRAPHDB_TCK_REPORT=1 cargo test --test tck -- --nocapture
//! Run a subset: GRAPHDB_TCK_FILTER=clauses/match cargo test --test tck -- --nocapture
//! Use another TCK checkout: GRAPHDB_TCK_DIR=/path/to/tck (the folder holding features/).
//! Run every query as a prepared statement (compiled plans): GRAPHDB_TCK_PREPARED=1.

#[path = "tck/gherkin.rs"]
mod gherkin;
#[path = "tck/report.rs"]
mod report;
#[path = "tck/run.rs"]
mod run;
#[path = "tck/values.rs"]
mod values;

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use report::CaseResult;

/// Per-query limit inside the engine; a case that still does not finish within
/// `CASE_LIMIT` is abandoned on its thread and counted as hung.
const QUERY_TIMEOUT_MS: u64 = 5000;
const CASE_LIMIT: Duration = Duration::from_secs(20);

thread_local! {
    /// The last panic on this thread (message and location), for the report.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
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

/// Runs one case on its own thread: a panic fails the case (and is reported as one), a hang
/// fails it after `CASE_LIMIT` without stopping the suite.
fn run_isolated(
    case: gherkin::Case,
    env: std::sync::Arc<run::Env>,
) -> (Option<String>, Vec<String>, bool) {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("tck-case".into())
        // Deep recursion in debug builds must not overflow (that would abort the suite).
        .stack_size(64 << 20)
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run::run_case(&case, &env, QUERY_TIMEOUT_MS)
            }));
            let msg = match r {
                Ok(o) => (o.failure, o.notes, false),
                Err(_) => {
                    let p = LAST_PANIC
                        .with(|p| p.borrow_mut().take())
                        .unwrap_or_default();
                    (Some(format!("PANIC: {p}")), Vec::new(), true)
                }
            };
            let _ = tx.send(msg);
        });
    if let Err(e) = spawned {
        return (
            Some(format!("cannot start a thread: {e}")),
            Vec::new(),
            false,
        );
    }
    match rx.recv_timeout(CASE_LIMIT) {
        Ok(r) => r,
        Err(_) => (
            Some(format!(
                "HUNG: no answer within {}s (query_timeout_ms did not stop it)",
                CASE_LIMIT.as_secs()
            )),
            Vec::new(),
            true,
        ),
    }
}

#[test]
fn tck() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // GRAPHDB_TCK_DIR points elsewhere (e.g. a newer TCK checkout).
    let tck = match std::env::var_os("GRAPHDB_TCK_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => root
            .parent()
            .map(|p| p.join("shared/tck"))
            .unwrap_or_default(),
    };
    let features = tck.join("features");
    if !features.is_dir() {
        println!(
            "SKIPPED: the openCypher TCK was not found at {} (put it there to run the TCK)",
            tck.display()
        );
        return;
    }
    // Case panics are collected for the report; any other thread's panic prints as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("tck-case") {
            let text = format!("{info}").replace('\n', " ");
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
        } else {
            default_hook(info);
        }
    }));
    let env = std::sync::Arc::new(run::Env {
        graphs_dir: tck.join("graphs"),
    });
    let filter = std::env::var("GRAPHDB_TCK_FILTER").unwrap_or_default();
    let mut files = Vec::new();
    feature_files(&features, &mut files);
    let started = Instant::now();
    let mut results = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&features).unwrap_or(&file);
        let folder = rel
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let feature = rel
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !filter.is_empty() && !rel.to_string_lossy().contains(&filter) {
            continue;
        }
        let text = match fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => panic!("cannot read {}: {e}", file.display()),
        };
        let cases = match gherkin::parse_feature(&text) {
            Ok(c) => c,
            Err(e) => panic!("cannot parse {}: {e}", file.display()),
        };
        for case in cases {
            let (scenario, example, line) = (case.scenario.clone(), case.example, case.line);
            let (failure, notes, engine_bug) = run_isolated(case, env.clone());
            results.push(CaseResult {
                folder: folder.clone(),
                feature: feature.clone(),
                scenario,
                example,
                line,
                failure,
                notes,
                engine_bug,
            });
        }
    }
    let elapsed = started.elapsed();
    let summary = report::summarize(&results);
    print!("{}", report::folder_table(&summary));
    println!("TCK ran in {:.1}s", elapsed.as_secs_f64());
    for r in results.iter().filter(|r| r.engine_bug) {
        println!(
            "ENGINE BUG in {}/{} \"{}\"{}: {}",
            r.folder,
            r.feature,
            r.scenario,
            r.example
                .map(|e| format!(" [example {e}]"))
                .unwrap_or_default(),
            r.failure.as_deref().unwrap_or_default()
        );
    }
    if !filter.is_empty() {
        println!("(filtered by GRAPHDB_TCK_FILTER={filter}: no report, no ratchet)");
        return;
    }
    let passed = results.iter().filter(|r| r.failure.is_none()).count();
    let ratchet_file = root.join("tests/tck/passing.txt");
    let recorded: usize = fs::read_to_string(&ratchet_file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    // The names of the cases that passed when the ratchet was last raised: a regression
    // names the cases that broke.
    let cases_file = root.join("tests/tck/passing-cases.txt");
    let now_passing: Vec<String> = results
        .iter()
        .filter(|r| r.failure.is_none())
        .map(report::case_name)
        .collect();
    if passed < recorded {
        let before = fs::read_to_string(&cases_file).unwrap_or_default();
        for name in before.lines() {
            if let Some(r) = results.iter().find(|r| report::case_name(r) == name) {
                if let Some(f) = &r.failure {
                    println!("NOW FAILING: {name} — {f}");
                }
            }
        }
    }
    let write = std::env::var("GRAPHDB_TCK_REPORT").is_ok_and(|v| v == "1");
    if write {
        let md = report::markdown(&results, &summary);
        if let Err(e) = fs::write(root.join("docs/tck-report.md"), md) {
            panic!("cannot write docs/tck-report.md: {e}");
        }
        println!("wrote docs/tck-report.md");
        if passed >= recorded {
            let list = now_passing.join("\n") + "\n";
            if let Err(e) = fs::write(&cases_file, list) {
                panic!("cannot write {}: {e}", cases_file.display());
            }
        }
        if passed > recorded {
            if let Err(e) = fs::write(&ratchet_file, format!("{passed}\n")) {
                panic!("cannot write {}: {e}", ratchet_file.display());
            }
            println!("raised the ratchet in tests/tck/passing.txt from {recorded} to {passed}");
        }
    }
    assert!(
        passed >= recorded,
        "TCK regression: {passed} cases pass but tests/tck/passing.txt records {recorded}; \
         the cases that broke are listed above as NOW FAILING (GRAPHDB_TCK_REPORT=1 writes \
         docs/tck-report.md with every failing case)"
    );
    if passed > recorded && !write {
        println!(
            "{passed} cases pass, more than the {recorded} recorded: raise the ratchet with \
             GRAPHDB_TCK_REPORT=1 cargo test --test tck -- --nocapture (or write {passed} \
             into tests/tck/passing.txt) and commit it"
        );
    }
}
