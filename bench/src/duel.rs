//! Durable auto-commit throughput of libgraphdb and SQLite in alternating repetitions, in one
//! process. `run` measures each system in its own process, one after the other, and the
//! disk of a virtual machine changes speed from minute to minute: two runs ten minutes apart
//! gave our 1-thread rate 0.96x and 1.21x SQLite's. Both systems wait on the same two device
//! requests per commit (a write and a cache flush), so the ratio is only meaningful when
//! both are timed in the same minutes: here each repetition times both, in turn, the order
//! swapped every repetition.
//!
//! Each repetition also runs the 1-thread phases pinned, both systems in turn on each CPU
//! the process may use (besides the unpinned phase, which the 8-thread rate is compared
//! with). The disk's completion interrupts go to one vCPU (`/proc/interrupts`), and a lone
//! durable writer placed there commits about 30 % faster than one on the other vCPU, for
//! either system (a sleeping writer elsewhere is woken by an IPI to a halted vCPU). Left to
//! the scheduler, the placement of each phase's thread is luck and outweighs the difference
//! between the systems; pinned in turn, both meet the same placements.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

use crate::engine::Engine;
use crate::gen;
use crate::measure::{median, run_threads, timed_loop, Res};

const WRITERS: usize = 8;

pub struct Config {
    /// Users loaded first (the main run's schema and index, on a graph of this size).
    pub nodes: usize,
    pub seed: u64,
    pub reps: usize,
    pub budget: Duration,
    pub phase: Duration,
}

/// Runs the phases on `engines` (each gets a fresh database under `work`) and returns the
/// per-repetition rates: `{name: {create_node_1t: [..], create_node_8t: [..]}}`.
pub fn run(engines: &mut [Box<dyn Engine>], work: &Path, cfg: &Config) -> Res<Value> {
    let users = gen::users(cfg.nodes, cfg.seed);
    for e in engines.iter_mut() {
        let dir = work.join(format!("{}-commits-db", e.name()));
        e.prepare_files(
            &work.join(format!("{}-commits-csv", e.name())),
            cfg.nodes,
            cfg.seed,
        )?;
        e.create(&dir)?;
        e.load_nodes(&users, 100_000)?;
    }
    let next_id = AtomicI64::new(cfg.nodes as i64 + 1_000_000_000);
    let n = engines.len();
    let mut one = vec![Vec::new(); n];
    let mut one_by_cpu: Vec<BTreeMap<usize, Vec<f64>>> = vec![BTreeMap::new(); n];
    // None: unpinned, where the scheduler puts it (as a user's thread runs); then pinned to
    // each CPU the process may use, when the platform says which.
    let cpus: Vec<Option<core_affinity::CoreId>> = std::iter::once(None)
        .chain(
            core_affinity::get_core_ids()
                .unwrap_or_default()
                .into_iter()
                .map(Some),
        )
        .collect();
    let mut eight = vec![Vec::new(); n];
    let order = |r: usize| -> Vec<usize> {
        let mut o: Vec<usize> = (0..n).collect();
        if r % 2 == 1 {
            o.reverse();
        }
        o
    };
    for r in 0..cfg.reps {
        for &cpu in &cpus {
            for i in order(r) {
                let rate = one_thread(&*engines[i], cpu, cfg.budget, &next_id)?;
                let at = match cpu {
                    Some(c) => {
                        one_by_cpu[i].entry(c.id).or_default().push(rate);
                        format!(" on CPU {}", c.id)
                    }
                    None => {
                        one[i].push(rate);
                        String::new()
                    }
                };
                eprintln!("[commits] {} 1 thread{at}: {rate:.0}/s", engines[i].name());
            }
        }
    }
    for r in 0..cfg.reps {
        for i in order(r) {
            let eng = &*engines[i];
            let ph = run_threads(&[0; WRITERS], cfg.phase, |_| {
                let mut w = eng.worker()?;
                let next_id = &next_id;
                Ok(move |_| w.create_node(next_id.fetch_add(1, Ordering::Relaxed)))
            })?;
            let p = &ph[0];
            if p.errors > 0 {
                return Err(format!(
                    "{}: {} failed commits at {WRITERS} threads, first: {}",
                    eng.name(),
                    p.errors,
                    p.first_error.as_deref().unwrap_or("?")
                ));
            }
            let rate = p.ops as f64 / cfg.phase.as_secs_f64();
            eight[i].push(rate);
            eprintln!("[commits] {} {WRITERS} threads: {rate:.0}/s", eng.name());
        }
    }
    let mut doc = serde_json::Map::new();
    for (i, e) in engines.iter_mut().enumerate() {
        e.close();
        doc.insert(
            e.name().into(),
            json!({
                "version": e.version(),
                "create_node_1t": one[i],
                "create_node_1t_by_cpu": one_by_cpu[i],
                "create_node_8t": eight[i],
                "create_node_1t_median": median(&one[i]),
                "create_node_8t_median": median(&eight[i]),
            }),
        );
        let _ = std::fs::remove_dir_all(work.join(format!("{}-commits-db", e.name())));
        let _ = std::fs::remove_dir_all(work.join(format!("{}-commits-csv", e.name())));
    }
    Ok(Value::Object(doc))
}

/// One durable 1-thread phase on its own thread, pinned to `cpu` when given (the calling
/// thread keeps its affinity, which the 8-thread phases' threads inherit); commits/s.
fn one_thread(
    eng: &dyn Engine,
    cpu: Option<core_affinity::CoreId>,
    budget: Duration,
    next_id: &AtomicI64,
) -> Res<f64> {
    std::thread::scope(|s| {
        s.spawn(|| {
            if let Some(c) = cpu {
                if !core_affinity::set_for_current(c) {
                    return Err(format!("could not pin the writer to CPU {}", c.id));
                }
            }
            let mut w = eng.worker()?;
            let (secs, _) = timed_loop(budget, 3, usize::MAX, |_| {
                w.create_node(next_id.fetch_add(1, Ordering::Relaxed))
            })?;
            Ok(1.0 / secs)
        })
        .join()
        .map_err(|_| format!("{}: the 1-thread writer panicked", eng.name()))?
    })
}
