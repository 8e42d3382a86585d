//! Reopen after a crash (issue 4): build N users / 10N FOLLOWS relationships, checkpoint,
//! write about `wal_mb` MB of log after the checkpoint (automatic checkpoints off) in a child
//! process, SIGKILL it, then time a fresh process from `Database::open` to its first answered
//! query. Target: under 5 s for 1M / 10M with a 100 MB log.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use graphdb::api::Value;
use graphdb::{Database, Options, Params};

use crate::engine::Engine;
use crate::gen;
use crate::measure::Res;

fn e(err: graphdb::Error) -> String {
    format!("graphdb: {err}")
}

fn options(pairs: &[(&str, &str)]) -> Res<Options> {
    let mut o = Options::new();
    for (k, v) in pairs {
        o.set(k, v).map_err(e)?;
    }
    Ok(o)
}

/// Bytes of the base images and of the logs in `dir` (a log's file includes the space the
/// writer reserved past its records: up to 4 MiB of zeros).
fn sizes(dir: &Path) -> (u64, u64) {
    let mut base = 0;
    let mut wal = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for f in rd.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let len = f.metadata().map_or(0, |m| m.len());
            if name.starts_with("base-") {
                base += len;
            } else if name.starts_with("wal-") {
                wal += len;
            }
        }
    }
    (base, wal)
}

/// The parent: builds, checkpoints, runs and kills the writer, times the reopen.
pub fn run(nodes: usize, wal_mb: u64, seed: u64, work: &Path) -> Res<()> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    let dir = work.join("reopen-db");
    let path = dir.to_str().ok_or("database path is not UTF-8")?.to_owned();

    let started = Instant::now();
    let mut eng = crate::graphdb_engine::GraphDb::new();
    eng.create(&dir)?;
    let users = gen::users(nodes, seed);
    eng.load_nodes(&users, 100_000)?;
    drop(users);
    let follows = gen::follows(nodes, seed);
    eng.load_rels(&follows, 100_000)?;
    let rels = follows.len();
    drop(follows);
    eng.close();
    let load = started.elapsed();

    let t = Instant::now();
    let db = Database::open(&path, &options(&[("checkpoint_wal_bytes", "0")])?).map_err(e)?;
    db.checkpoint().map_err(e)?;
    drop(db);
    let checkpoint = t.elapsed();
    let (base_bytes, _) = sizes(&dir);

    // The writer child: fills the log, then is killed mid-write.
    let t = Instant::now();
    let mut child = Command::new(&exe)
        .args([
            "reopen-writer",
            "--dir",
            &path,
            "--wal-mb",
            &wal_mb.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawning the writer: {e}"))?;
    let out = child.stdout.take().ok_or("no writer stdout")?;
    let mut ready = false;
    for line in BufReader::new(out).lines().map_while(Result::ok) {
        if line.starts_with("READY") {
            ready = true;
            break;
        }
    }
    // Keep it writing a moment, so the kill lands mid-transaction.
    std::thread::sleep(Duration::from_millis(50));
    child.kill().map_err(|e| format!("SIGKILL: {e}"))?;
    let _ = child.wait();
    if !ready {
        return Err("the writer exited before filling the log".into());
    }
    let write = t.elapsed();
    let (_, wal_bytes) = sizes(&dir);

    // The reopen, in a fresh process.
    let t = Instant::now();
    let o = Command::new(&exe)
        .args(["reopen-open", "--dir", &path])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("spawning the reopen: {e}"))?;
    let wall = t.elapsed();
    if !o.status.success() {
        return Err(format!(
            "the reopen failed: {}",
            String::from_utf8_lossy(&o.stdout)
        ));
    }
    let child_json: serde_json::Value = serde_json::from_slice(&o.stdout).map_err(|err| {
        format!(
            "reopen output: {err}: {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })?;
    let doc = serde_json::json!({
        "workload": "reopen after SIGKILL",
        "nodes": nodes,
        "relationships": rels,
        "base_bytes": base_bytes,
        "wal_bytes": wal_bytes,
        "load_s": load.as_secs_f64(),
        "checkpoint_s": checkpoint.as_secs_f64(),
        "write_wal_s": write.as_secs_f64(),
        "reopen": child_json,
        "reopen_process_wall_ms": wall.as_secs_f64() * 1000.0,
        "target_ms": 5000,
    });
    println!("{doc}");
    eprintln!(
        "reopen: {nodes} nodes / {rels} relationships, base {:.0} MB + log {:.0} MB after the \
         checkpoint: open {:.0} ms + first query {:.0} ms = {:.0} ms to the first answer \
         (process wall {:.0} ms; target 5000 ms)",
        base_bytes as f64 / 1e6,
        wal_bytes as f64 / 1e6,
        child_json["open_ms"].as_f64().unwrap_or(f64::NAN),
        child_json["first_query_ms"].as_f64().unwrap_or(f64::NAN),
        child_json["total_ms"].as_f64().unwrap_or(f64::NAN),
        wall.as_secs_f64() * 1000.0,
    );
    if std::env::var_os("GRAPHDB_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The writer child: commits batches of new nodes and relationships (automatic checkpoints
/// off) until the log holds `wal_mb` MB, prints READY, and keeps writing until killed.
pub fn writer(dir: &str, wal_mb: u64) -> Res<()> {
    let db = Database::open(
        dir,
        &options(&[("checkpoint_wal_bytes", "0"), ("sync", "normal")])?,
    )
    .map_err(e)?;
    let mut c = db.connect();
    let stmt = c
        .prepare(
            "UNWIND range(1, 500) AS i \
             CREATE (:Extra {batch: $b, i: i, note: 'written after the checkpoint'})\
             -[:NEXT {w: i}]->(:Extra {batch: $b, i: -i})",
        )
        .map_err(e)?;
    let target = wal_mb * 1_000_000;
    let mut announced = false;
    for b in 0i64.. {
        let p: Params = [("b".to_string(), Value::Int(b))].into_iter().collect();
        c.execute(&stmt, &p).map_err(e)?;
        if !announced && db.stats().wal_bytes >= target {
            announced = true;
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "READY {}", db.stats().wal_bytes);
            let _ = o.flush();
        }
    }
    Ok(())
}

/// The reopen child: open, then one query; prints the times as JSON.
pub fn open(dir: &str) -> Res<()> {
    let t = Instant::now();
    let db = Database::open(dir, &Options::new()).map_err(e)?;
    let opened = t.elapsed();
    let r = db
        .connect()
        .query(
            "MATCH (u:User {id: 7}) RETURN u.name AS name",
            &Params::new(),
        )
        .map_err(e)?;
    let total = t.elapsed();
    let answer = match r.rows.first().and_then(|row| row.first()) {
        Some(Value::String(s)) => s.clone(),
        other => return Err(format!("unexpected answer {other:?}")),
    };
    println!(
        "{}",
        serde_json::json!({
            "open_ms": opened.as_secs_f64() * 1000.0,
            "first_query_ms": (total - opened).as_secs_f64() * 1000.0,
            "total_ms": total.as_secs_f64() * 1000.0,
            "answer": answer,
        })
    );
    Ok(())
}
