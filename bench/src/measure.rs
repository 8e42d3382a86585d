//! Timing, latency percentiles, memory, and the per-system result file.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

pub type Res<T> = Result<T, String>;

/// The figures of one system: metric name -> one value per repetition, plus notes.
pub struct Report {
    pub system: String,
    pub version: String,
    metrics: Map<String, Value>,
    checks: Map<String, Value>,
    notes: Vec<String>,
}

impl Report {
    pub fn new(system: &str, version: &str) -> Report {
        Report {
            system: system.into(),
            version: version.into(),
            metrics: Map::new(),
            checks: Map::new(),
            notes: Vec::new(),
        }
    }

    /// Appends one repetition's value of `name` (unit as printed; `higher` when more is better).
    pub fn add(&mut self, name: &str, unit: &str, higher: bool, v: f64) {
        let e = self
            .metrics
            .entry(name.to_owned())
            .or_insert_with(|| json!({"unit": unit, "higher_is_better": higher, "values": []}));
        if let Some(Value::Array(vals)) = e.get_mut("values") {
            vals.push(json!(v));
        }
        eprintln!("  [{}] {name} = {v:.3} {unit}", self.system);
    }

    pub fn check(&mut self, name: &str, v: Value) {
        self.checks.insert(name.to_owned(), v);
    }

    pub fn note(&mut self, s: impl Into<String>) {
        let s = s.into();
        eprintln!("  [{}] note: {s}", self.system);
        self.notes.push(s);
    }

    pub fn to_json(&self) -> Value {
        json!({
            "system": self.system,
            "version": self.version,
            "metrics": self.metrics,
            "checks": self.checks,
            "notes": self.notes,
        })
    }
}

/// Runs `op(i)` for i = 0, 1, ... until `max_ops` ops ran or `budget` passed (at least
/// `min_ops`); returns the mean seconds per op and the ops done.
pub fn timed_loop(
    budget: Duration,
    min_ops: usize,
    max_ops: usize,
    mut op: impl FnMut(usize) -> Res<()>,
) -> Res<(f64, usize)> {
    let start = Instant::now();
    let mut i = 0;
    while i < max_ops && (i < min_ops || start.elapsed() < budget) {
        op(i)?;
        i += 1;
    }
    Ok((start.elapsed().as_secs_f64() / i.max(1) as f64, i))
}

/// Latencies in microseconds.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 1_000_000_000, 3)
        .expect("1 µs .. 1000 s at 3 significant digits are valid histogram bounds")
}

/// The outcome of one thread kind in a timed concurrent phase.
pub struct Phase {
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub hist: Histogram<u64>,
}

impl Phase {
    pub fn new() -> Phase {
        Phase {
            ops: 0,
            errors: 0,
            first_error: None,
            hist: histogram(),
        }
    }

    pub fn merge(&mut self, o: Phase) {
        self.ops += o.ops;
        self.errors += o.errors;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
        let _ = self.hist.add(&o.hist);
    }

    pub fn pct_us(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64
    }
}

/// Runs `threads` workers for `dur`; each gets its index and a stop flag and repeatedly
/// calls its op (built once per thread by `make`), recording latency of successes and
/// counting failures. Returns the merged phase per kind given by `kinds[t]`.
pub fn run_threads<F>(
    kinds: &[usize],
    dur: Duration,
    make: impl Fn(usize) -> Res<F> + Sync,
) -> Res<Vec<Phase>>
where
    F: FnMut(u64) -> Res<()>,
{
    let nkinds = kinds.iter().copied().max().map_or(0, |k| k + 1);
    let stop = Arc::new(AtomicBool::new(false));
    let out: Mutex<Vec<Phase>> = Mutex::new((0..nkinds).map(|_| Phase::new()).collect());
    let setup_err: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for (t, &kind) in kinds.iter().enumerate() {
            let stop = stop.clone();
            let (out, setup_err, make) = (&out, &setup_err, &make);
            s.spawn(move || {
                let mut op = match make(t) {
                    Ok(op) => op,
                    Err(e) => {
                        *setup_err.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        return;
                    }
                };
                let mut ph = Phase::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    match op(i) {
                        Ok(()) => {
                            ph.ops += 1;
                            let _ = ph.hist.record((t0.elapsed().as_micros() as u64).max(1));
                        }
                        Err(e) => {
                            ph.errors += 1;
                            if ph.first_error.is_none() {
                                ph.first_error = Some(e);
                            }
                        }
                    }
                    i += 1;
                }
                out.lock().unwrap_or_else(|p| p.into_inner())[kind].merge(ph);
            });
        }
        std::thread::sleep(dur);
        stop.store(true, Ordering::Relaxed);
    });
    if let Some(e) = setup_err.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(out.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// Peak and current resident set size of this process in KiB (Linux /proc).
pub fn rss_kib() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}
