//! `graphdb-import`: bulk-loads node and relationship CSV files into a database directory
//! (see docs/import.md). Build with `cargo build --release --features cli`.
//!
//! ```text
//! graphdb-import DB --nodes User=users.csv --relationships FOLLOWS=follows.csv --id-type int
//! graphdb-import DB --spec import.json
//! ```

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use graphdb::import::{IdType, ImportSpec, NodeFile, Phase, RelFile};
use graphdb::{Database, Options};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    version,
    about = "Bulk-load CSV files into a libgraphdb database (docs/import.md)"
)]
struct Cli {
    /// The database directory (created if missing).
    db: String,
    /// A node file as LABEL[:LABEL...]=FILE (its first line is the header).
    #[arg(long = "nodes", value_name = "LABELS=FILE")]
    nodes: Vec<String>,
    /// A relationship file as TYPE=FILE (its first line is the header).
    #[arg(long = "relationships", value_name = "TYPE=FILE")]
    relationships: Vec<String>,
    /// How ids compare: string (default) or int.
    #[arg(long, default_value = "string")]
    id_type: String,
    /// The field delimiter.
    #[arg(long, default_value = ",")]
    delimiter: char,
    /// The property identifying nodes already stored (for ids no node file defines).
    #[arg(long, default_value = "id")]
    id_property: String,
    /// A JSON import spec (as graphdb_import takes) instead of --nodes/--relationships.
    #[arg(long, conflicts_with_all = ["nodes", "relationships"])]
    spec: Option<PathBuf>,
}

fn split(arg: &str, what: &str) -> Result<(String, PathBuf), String> {
    match arg.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(file)))
        }
        _ => Err(format!("--{what} takes NAME=FILE, got \"{arg}\"")),
    }
}

fn spec(cli: &Cli) -> Result<ImportSpec, String> {
    if let Some(path) = &cli.spec {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return ImportSpec::from_json(&text).map_err(|e| e.to_string());
    }
    let mut spec = ImportSpec {
        id_property: cli.id_property.clone(),
        ..ImportSpec::default()
    };
    spec.id_type = match cli.id_type.as_str() {
        "string" => IdType::String,
        "int" => IdType::Int,
        other => return Err(format!("--id-type is string or int, not \"{other}\"")),
    };
    spec.delimiter = u8::try_from(cli.delimiter)
        .ok()
        .filter(u8::is_ascii)
        .ok_or("--delimiter must be one ASCII character")?;
    for n in &cli.nodes {
        let (labels, path) = split(n, "nodes")?;
        spec.nodes.push(NodeFile {
            path,
            labels: labels.split(':').map(str::to_owned).collect(),
            columns: None,
        });
    }
    for r in &cli.relationships {
        let (rel_type, path) = split(r, "relationships")?;
        spec.relationships.push(RelFile {
            path,
            rel_type,
            columns: None,
        });
    }
    if spec.nodes.is_empty() && spec.relationships.is_empty() {
        return Err("nothing to import: give --nodes, --relationships or --spec".into());
    }
    Ok(spec)
}

fn run(cli: &Cli) -> Result<(), String> {
    let spec = spec(cli)?;
    let db = Database::open(&cli.db, &Options::new()).map_err(|e| e.to_string())?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .map_err(|e| e.to_string())?,
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let stats = db
        .import_with_progress(&spec, &mut |p| {
            let what = match p.phase {
                Phase::Nodes => "nodes",
                Phase::Relationships => "relationships",
            };
            let state = if p.done { "read" } else { "reading" };
            bar.set_message(format!("{state} {} {what} from {}", p.rows, p.file));
            if p.done {
                bar.println(format!("{} {what} read from {}", p.rows, p.file));
            }
            ControlFlow::Continue(())
        })
        .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    println!(
        "imported {} nodes and {} relationships into {} (commit {}, base image {} bytes; \
         parse {:.2}s, install and write {:.2}s)",
        stats.nodes,
        stats.relationships,
        cli.db,
        stats.commit_ts,
        stats.image_bytes,
        stats.parse_time.as_secs_f64(),
        stats.install_time.as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graphdb-import: {e}");
            ExitCode::FAILURE
        }
    }
}
