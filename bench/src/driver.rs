//! The workload sequence, the same for every system: bulk loads, result checks, reads,
//! durable writes, the mixed and contended workloads, then cold opens in fresh processes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::engine::{Engine, Worker};
use crate::gen;
use crate::measure::{run_threads, timed_loop, Phase, Report, Res};

pub struct Config {
    pub nodes: usize,
    pub seed: u64,
    pub reps: usize,
    pub load_reps: usize,
    pub batch: usize,
    /// Time budget of one repetition of a per-operation workload.
    pub budget: Duration,
    /// Length of one phase of a multi-threaded workload.
    pub phase: Duration,
    pub work_dir: PathBuf,
    /// This executable, for the cold-open child processes.
    pub exe: PathBuf,
    /// Only the loads and the durable create-node phases (1 and 8 threads).
    pub commits_only: bool,
}

/// Number of leading inputs whose results are recorded to compare systems.
pub const CHECKS: usize = 5;
const INPUTS: usize = 10_000;
const WRITERS_MIXED: usize = 2;
const READERS_MIXED: usize = 8;
const MANY_WRITERS: usize = 8;

pub fn run(eng: &mut dyn Engine, cfg: &Config) -> Res<Report> {
    let mut rep = Report::new(eng.name(), &eng.version());
    for n in eng.notes() {
        rep.note(n);
    }
    let t = Instant::now();
    let users = gen::users(cfg.nodes, cfg.seed);
    let follows = gen::follows(cfg.nodes, cfg.seed);
    let inp = gen::inputs(cfg.nodes, cfg.seed, INPUTS);
    eprintln!(
        "[{}] generated {} nodes, {} relationships in {:.1}s",
        eng.name(),
        users.len(),
        follows.len(),
        t.elapsed().as_secs_f64()
    );
    let db_dir = cfg.work_dir.join(format!("{}-db", eng.name()));
    eng.prepare_files(
        &cfg.work_dir.join(format!("{}-csv", eng.name())),
        cfg.nodes,
        cfg.seed,
    )?;

    // Bulk loads, each repetition into a fresh database; the last one stays for the rest.
    for r in 0..cfg.load_reps.max(1) {
        eng.create(&db_dir)?;
        let t = Instant::now();
        eng.load_nodes(&users, cfg.batch)?;
        rep.add(
            "load_nodes",
            "nodes/s",
            true,
            users.len() as f64 / t.elapsed().as_secs_f64(),
        );
        let t = Instant::now();
        let notes = eng.load_rels(&follows, cfg.batch)?;
        rep.add(
            "load_rels",
            "rels/s",
            true,
            follows.len() as f64 / t.elapsed().as_secs_f64(),
        );
        if r == 0 {
            for n in notes {
                rep.note(n);
            }
        }
    }

    // Cold open and RSS of the loaded database, in a fresh process, before any timed write
    // grows it: the write phases are time-boxed, so a faster system would otherwise be
    // measured on a bigger database.
    eng.close();
    if !cfg.commits_only {
        for _ in 0..cfg.reps {
            cold_open(eng.name(), &db_dir, inp.lookup_ids[0], cfg, &mut rep)?;
        }
    }
    eng.open(&db_dir)?;

    let mut w = eng.worker()?;
    if cfg.commits_only {
        create_nodes(eng, &mut *w, cfg, &mut rep)?;
        drop(w);
        eng.close();
        return Ok(rep);
    }
    // Results to compare across systems, taken before any write changes the graph.
    let ages: Res<Vec<i64>> = inp.lookup_ids[..CHECKS]
        .iter()
        .map(|&i| w.lookup(i))
        .collect();
    rep.check("lookup_ages", json!(ages?));
    let hops: Res<Vec<i64>> = inp.two_hop_ids[..CHECKS]
        .iter()
        .map(|&i| w.two_hop(i))
        .collect();
    rep.check("two_hop_counts", json!(hops?));

    for _ in 0..cfg.reps {
        let ids = &inp.lookup_ids;
        let (s, n) = timed_loop(cfg.budget, 3, ids.len(), |i| w.lookup(ids[i]).map(|_| ()))?;
        rep.add("point_lookup", "µs", false, s * 1e6);
        eprintln!("    ({n} lookups)");
    }
    for _ in 0..cfg.reps {
        let ids = &inp.two_hop_ids;
        let (s, n) = timed_loop(cfg.budget, 3, ids.len(), |i| w.two_hop(ids[i]).map(|_| ()))?;
        rep.add("two_hop_count", "µs", false, s * 1e6);
        eprintln!("    ({n} 2-hop counts)");
    }
    let mut scan_count = None;
    for _ in 0..cfg.reps {
        let t = Instant::now();
        let c = w.scan_join()?;
        rep.add(
            "scan_join_filter",
            "ms",
            false,
            t.elapsed().as_secs_f64() * 1e3,
        );
        scan_count = Some(c);
    }
    rep.check("scan_join_count", json!(scan_count));

    create_nodes(eng, &mut *w, cfg, &mut rep)?;
    let e: &dyn Engine = eng;
    for _ in 0..cfg.reps {
        let pairs = &inp.rel_pairs;
        let (s, _) = timed_loop(cfg.budget, 3, pairs.len(), |i| {
            let (a, b) = pairs[i];
            w.create_rel(a, b, 2025)
        })?;
        rep.add("create_rel_1t", "commits/s", true, 1.0 / s);
    }
    drop(w);

    for _ in 0..cfg.reps {
        mixed(e, &inp, cfg, &mut rep)?;
    }
    eng.close();

    for (wait, name) in [
        (0, "counter_nowait"),
        (crate::engine::BUSY_TIMEOUT_MS, "counter_wait"),
    ] {
        for _ in 0..cfg.reps {
            counter(eng, &cfg.work_dir, wait, name, cfg.phase, &mut rep)?;
        }
    }

    Ok(rep)
}

/// Durable auto-commit node creation, 1 thread (on `w`) then 8; new node ids never collide
/// with loaded ones.
fn create_nodes(eng: &dyn Engine, w: &mut dyn Worker, cfg: &Config, rep: &mut Report) -> Res<()> {
    let next_id = AtomicI64::new(cfg.nodes as i64 + 1_000_000_000);
    for _ in 0..cfg.reps {
        let (s, _) = timed_loop(cfg.budget, 3, usize::MAX, |_| {
            w.create_node(next_id.fetch_add(1, Ordering::Relaxed))
        })?;
        rep.add("create_node_1t", "commits/s", true, 1.0 / s);
    }
    for _ in 0..cfg.reps {
        let kinds = vec![0; MANY_WRITERS];
        let ph = run_threads(&kinds, cfg.phase, |_| {
            let mut w = eng.worker()?;
            let next_id = &next_id;
            Ok(move |_| w.create_node(next_id.fetch_add(1, Ordering::Relaxed)))
        })?;
        let p = &ph[0];
        rep.add(
            "create_node_8t",
            "commits/s",
            true,
            p.ops as f64 / cfg.phase.as_secs_f64(),
        );
        note_errors(rep, "create_node_8t", p);
    }
    Ok(())
}

fn note_errors(rep: &mut Report, what: &str, p: &Phase) {
    if p.errors > 0 {
        rep.note(format!(
            "{what}: {} failed operations, first: {}",
            p.errors,
            p.first_error.as_deref().unwrap_or("?")
        ));
    }
}

/// 8 readers doing 2-hop counts alone, then beside 2 writers creating relationships between
/// looked-up nodes.
fn mixed(e: &dyn Engine, inp: &gen::Inputs, cfg: &Config, rep: &mut Report) -> Res<()> {
    let secs = cfg.phase.as_secs_f64();
    let reader = |t: usize| -> Res<Box<dyn FnMut(u64) -> Res<()>>> {
        let mut w = e.worker()?;
        let ids = &inp.two_hop_ids;
        Ok(Box::new(move |i: u64| {
            let k = (t * 7919 + i as usize * 31) % ids.len();
            w.two_hop(ids[k]).map(|_| ())
        }))
    };
    let alone = run_threads(&[0; READERS_MIXED], cfg.phase, reader)?;
    let a = &alone[0];
    rep.add("mixed_read_alone", "reads/s", true, a.ops as f64 / secs);
    rep.add("mixed_read_alone_p99", "µs", false, a.pct_us(0.99));
    note_errors(rep, "mixed readers alone", a);

    let mut kinds = vec![0; READERS_MIXED];
    kinds.extend([1; WRITERS_MIXED]);
    let both = run_threads(&kinds, cfg.phase, |t| {
        if t < READERS_MIXED {
            return reader(t);
        }
        let mut w = e.worker()?;
        let pairs = &inp.rel_pairs;
        Ok(Box::new(move |i: u64| {
            let (a, b) = pairs[(t * 4099 + i as usize) % pairs.len()];
            w.create_rel(a, b, 2026)
        }))
    })?;
    let (r, wr) = (&both[0], &both[1]);
    rep.add("mixed_read", "reads/s", true, r.ops as f64 / secs);
    rep.add("mixed_read_p50", "µs", false, r.pct_us(0.50));
    rep.add("mixed_read_p95", "µs", false, r.pct_us(0.95));
    rep.add("mixed_read_p99", "µs", false, r.pct_us(0.99));
    rep.add("mixed_write", "commits/s", true, wr.ops as f64 / secs);
    rep.add("mixed_write_p50", "µs", false, wr.pct_us(0.50));
    rep.add("mixed_write_p95", "µs", false, wr.pct_us(0.95));
    rep.add("mixed_write_p99", "µs", false, wr.pct_us(0.99));
    let ratio = r.pct_us(0.99) / a.pct_us(0.99).max(1.0);
    rep.add("mixed_read_p99_vs_alone", "×", false, ratio);
    note_errors(rep, "mixed readers", r);
    note_errors(rep, "mixed writers", wr);
    Ok(())
}

/// 8 threads incrementing one counter in auto-commit statements for one phase, writers
/// failing at once (`wait_ms` 0) or waiting for the lock holder.
fn counter(
    eng: &mut dyn Engine,
    work: &Path,
    wait_ms: u64,
    name: &str,
    phase: Duration,
    rep: &mut Report,
) -> Res<()> {
    let dir = work.join(format!("{}-{name}", eng.name()));
    eng.set_busy_timeout_ms(wait_ms);
    eng.create(&dir)?;
    eng.worker()?.counter_init()?;
    let e: &dyn Engine = eng;
    let ph = run_threads(&[0; MANY_WRITERS], phase, |_| {
        let mut w = e.worker()?;
        Ok(move |_| w.counter_incr())
    })?;
    let p = &ph[0];
    let v = eng.worker()?.counter_value()?;
    if v != p.ops as i64 {
        rep.note(format!(
            "{name}: counter is {v} but {} increments were acknowledged: LOST UPDATES",
            p.ops
        ));
    }
    let secs = phase.as_secs_f64();
    rep.add(name, "commits/s", true, p.ops as f64 / secs);
    rep.add(
        &format!("{name}_failed"),
        "failures/s",
        false,
        p.errors as f64 / secs,
    );
    if let Some(e) = &p.first_error {
        rep.check(&format!("{name}_first_error"), json!(e));
    }
    eng.close();
    eng.set_busy_timeout_ms(crate::engine::BUSY_TIMEOUT_MS);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Opens the loaded database in a fresh process (see `open_child`).
fn cold_open(system: &str, dir: &Path, id: i64, cfg: &Config, rep: &mut Report) -> Res<()> {
    let out = std::process::Command::new(&cfg.exe)
        .args(["open", "--system", system, "--id", &id.to_string(), "--dir"])
        .arg(dir)
        .output()
        .map_err(|err| format!("cannot run {}: {err}", cfg.exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "cold open of {system} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|err| format!("cold open of {system}: bad output: {err}"))?;
    let f = |k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap_or(f64::NAN);
    rep.add("cold_open", "ms", false, f("open_ms"));
    rep.add("rss_opened", "MiB", false, f("rss_open_kib") / 1024.0);
    rep.add("rss_peak_queries", "MiB", false, f("rss_peak_kib") / 1024.0);
    Ok(())
}

/// The child side of a cold open: open, answer a trivial query (the open time), then run a
/// lookup, a 2-hop count and the scan-join-filter, and report the peak RSS.
pub fn open_child(eng: &mut dyn Engine, dir: &Path, id: i64) -> Res<serde_json::Value> {
    let t = Instant::now();
    eng.open(dir)?;
    let mut w: Box<dyn Worker> = eng.worker()?;
    w.ping()?;
    let open_ms = t.elapsed().as_secs_f64() * 1e3;
    let (rss_open, _) = crate::measure::rss_kib();
    w.lookup(id)?;
    w.two_hop(id)?;
    w.scan_join()?;
    let (rss_peak, _) = crate::measure::rss_kib();
    Ok(json!({"open_ms": open_ms, "rss_open_kib": rss_open, "rss_peak_kib": rss_peak}))
}
