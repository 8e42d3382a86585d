//! graphdb-bench: runs the workloads of issue 6 on libgraphdb and SQLite (Kuzu runs from
//! kuzu_bench.py on files this program generates) and merges the results. Driven by run.sh.

mod driver;
mod duel;
mod engine;
mod gen;
mod graphdb_engine;
mod measure;
mod reopen;
mod report;
mod sqlite_engine;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use engine::Engine;

#[derive(Parser)]
#[command(about = "Side-by-side benchmark of libgraphdb, SQLite and Kuzu")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum System {
    Graphdb,
    Sqlite,
}

impl System {
    fn engine(self) -> Box<dyn Engine> {
        match self {
            System::Graphdb => Box::new(graphdb_engine::GraphDb::new()),
            System::Sqlite => Box::new(sqlite_engine::Sqlite::new()),
        }
    }
}

/// What `run` and `commits` share: repetitions, their lengths, where the databases and the
/// result file go.
#[derive(Args)]
struct Timing {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Time budget of one repetition of a per-operation workload.
    #[arg(long, default_value_t = 2000)]
    budget_ms: u64,
    /// Length of one phase of a multi-threaded workload.
    #[arg(long, default_value_t = 3000)]
    phase_ms: u64,
    /// Where the databases go.
    #[arg(long)]
    work: PathBuf,
    #[arg(long)]
    out: PathBuf,
}

impl Timing {
    fn reps(&self) -> usize {
        self.reps.max(1)
    }
    fn budget(&self) -> Duration {
        Duration::from_millis(self.budget_ms)
    }
    fn phase(&self) -> Duration {
        Duration::from_millis(self.phase_ms)
    }
    fn create_work(&self) -> Result<(), String> {
        std::fs::create_dir_all(&self.work).map_err(|e| format!("{}: {e}", self.work.display()))
    }
    fn write_out(&self, doc: &serde_json::Value) -> Result<(), String> {
        let text = serde_json::to_string_pretty(doc).map_err(|e| e.to_string())?;
        std::fs::write(&self.out, text).map_err(|e| format!("{}: {e}", self.out.display()))
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Writes users.csv, follows.csv and inputs.json (for the Kuzu script).
    Gen {
        #[arg(long, default_value_t = 1_000_000)]
        nodes: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        dir: PathBuf,
    },
    /// Runs every workload on one system and writes its result file.
    Run {
        #[arg(long, value_enum)]
        system: System,
        #[arg(long, default_value_t = 1_000_000)]
        nodes: usize,
        #[command(flatten)]
        timing: Timing,
        /// Repetitions of the bulk loads (each into a fresh database); default: --reps.
        #[arg(long)]
        load_reps: Option<usize>,
        /// Rows per bulk-load transaction.
        #[arg(long, default_value_t = 100_000)]
        batch: usize,
        /// Only the loads and the durable create-node phases (no reads, cold opens, mixed
        /// or counter workloads).
        #[arg(long, default_value_t = false)]
        commits_only: bool,
    },
    /// Durable create-node commits at 1 and 8 threads on libgraphdb and SQLite, the two timed
    /// in turn in every repetition (src/duel.rs); writes one result file.
    Commits {
        /// Users loaded first.
        #[arg(long, default_value_t = 100_000)]
        nodes: usize,
        #[command(flatten)]
        timing: Timing,
    },
    /// Cold open in this fresh process; prints a JSON line (used by `run`).
    Open {
        #[arg(long, value_enum)]
        system: System,
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        id: i64,
    },
    /// Loads N nodes (in memory, libgraphdb) and times one Cypher query (`$n` = N); for
    /// investigating a workload under a profiler.
    Probe {
        #[arg(long, default_value_t = 10_000)]
        nodes: usize,
        #[arg(long, default_value_t = false)]
        rels: bool,
        #[arg(long)]
        query: String,
        /// Run the query repeatedly on this many threads (own connection each) instead.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// A durable database directory instead of ":memory:".
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Times the query this many times (one connection, one after the other).
        #[arg(long, default_value_t = 1)]
        reps: usize,
    },
    /// Reopen after SIGKILL (libgraphdb): N users / 10N relationships, a checkpoint, then
    /// --wal-mb MB of log after it; times a fresh process's open + first query.
    Reopen {
        #[arg(long, default_value_t = 1_000_000)]
        nodes: usize,
        #[arg(long, default_value_t = 100)]
        wal_mb: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        work: PathBuf,
    },
    /// The writer child of `reopen` (fills the log until killed).
    #[command(hide = true)]
    ReopenWriter {
        #[arg(long)]
        dir: String,
        #[arg(long)]
        wal_mb: u64,
    },
    /// The timed child of `reopen`.
    #[command(hide = true)]
    ReopenOpen {
        #[arg(long)]
        dir: String,
    },
    /// Merges graphdb.json, sqlite.json, kuzu.json from --dir into results.md/.json.
    Report {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "")]
        header: String,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graphdb-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.cmd {
        Cmd::Gen { nodes, seed, dir } => gen::write_files(&dir, nodes, seed, 10_000)
            .map_err(|e| format!("writing {}: {e}", dir.display())),
        Cmd::Run {
            system,
            nodes,
            timing,
            load_reps,
            batch,
            commits_only,
        } => {
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            timing.create_work()?;
            let cfg = driver::Config {
                nodes,
                seed: timing.seed,
                reps: timing.reps(),
                load_reps: load_reps.unwrap_or(timing.reps).max(1),
                batch,
                budget: timing.budget(),
                phase: timing.phase(),
                work_dir: timing.work.clone(),
                exe,
                commits_only,
            };
            let mut eng = system.engine();
            let rep = driver::run(eng.as_mut(), &cfg)?;
            let mut doc = rep.to_json();
            doc["nodes"] = nodes.into();
            doc["seed"] = timing.seed.into();
            timing.write_out(&doc)
        }
        Cmd::Commits { nodes, timing } => {
            timing.create_work()?;
            let cfg = duel::Config {
                nodes,
                seed: timing.seed,
                reps: timing.reps(),
                budget: timing.budget(),
                phase: timing.phase(),
            };
            let mut engines = vec![System::Graphdb.engine(), System::Sqlite.engine()];
            let mut doc = duel::run(&mut engines, &timing.work, &cfg)?;
            doc["nodes"] = nodes.into();
            doc["reps"] = cfg.reps.into();
            timing.write_out(&doc)
        }
        Cmd::Open { system, dir, id } => {
            let mut eng = system.engine();
            let v = driver::open_child(eng.as_mut(), &dir, id)?;
            println!("{v}");
            Ok(())
        }
        Cmd::Probe {
            nodes,
            rels,
            query,
            threads,
            seconds,
            dir,
            reps,
        } => graphdb_engine::probe(nodes, rels, &query, threads, seconds, dir.as_deref(), reps),
        Cmd::Reopen {
            nodes,
            wal_mb,
            seed,
            work,
        } => reopen::run(nodes, wal_mb, seed, &work),
        Cmd::ReopenWriter { dir, wal_mb } => reopen::writer(&dir, wal_mb),
        Cmd::ReopenOpen { dir } => reopen::open(&dir),
        Cmd::Report { dir, header } => {
            let md = report::report(&dir, &dir, &header)?;
            println!("{md}");
            Ok(())
        }
    }
}
