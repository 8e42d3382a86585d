//! Merges the per-system result files into one table (Markdown) and one JSON document.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::measure::{median, Res};

/// Rows of the table, in order: metric key and its description.
const ROWS: &[(&str, &str)] = &[
    ("load_nodes", "bulk load nodes"),
    ("load_rels", "bulk load relationships"),
    ("point_lookup", "point lookup by id (prepared)"),
    ("two_hop_count", "2-hop count from a random node"),
    ("scan_join_filter", "scan-join-filter count (a.age < b.age)"),
    ("create_node_1t", "auto-commit create node, 1 thread"),
    ("create_node_8t", "auto-commit create node, 8 threads"),
    (
        "create_rel_1t",
        "auto-commit create rel between looked-up nodes",
    ),
    ("mixed_read_alone", "mixed: 8 readers alone (2-hop)"),
    ("mixed_read_alone_p99", "mixed: read p99, no writers"),
    ("mixed_read", "mixed: 8 readers + 2 writers, reads"),
    ("mixed_read_p50", "mixed: read p50"),
    ("mixed_read_p95", "mixed: read p95"),
    ("mixed_read_p99", "mixed: read p99"),
    (
        "mixed_read_p99_vs_alone",
        "mixed: read p99 with writers / without",
    ),
    ("mixed_write", "mixed: writes (create rel)"),
    ("mixed_write_p50", "mixed: write p50"),
    ("mixed_write_p95", "mixed: write p95"),
    ("mixed_write_p99", "mixed: write p99"),
    ("counter_nowait", "contended counter, 8 threads, no waiting"),
    ("counter_nowait_failed", "  failed increments, no waiting"),
    ("counter_wait", "contended counter, 8 threads, waiting"),
    ("counter_wait_failed", "  failed increments, waiting"),
    ("cold_open", "cold open of the loaded database"),
    ("rss_opened", "RSS after open (+1 query)"),
    (
        "rss_peak_queries",
        "peak RSS after lookup, 2-hop, scan-join",
    ),
];

const OURS: &str = "graphdb";

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{:.0}", v)
    } else if v.abs() >= 1.0 {
        format!("{:.2}", v)
    } else {
        format!("{:.3}", v)
    }
}

fn fmt_ratio(r: f64) -> String {
    if !r.is_finite() {
        "–".into()
    } else if !(0.01..100.0).contains(&r) {
        format!("{r:.2e}×")
    } else {
        format!("{r:.2}×")
    }
}

struct Sys {
    name: String,
    doc: Value,
}

impl Sys {
    fn median(&self, key: &str) -> f64 {
        self.doc
            .pointer(&format!("/metrics/{key}/values"))
            .and_then(Value::as_array)
            .map(|v| median(&v.iter().filter_map(Value::as_f64).collect::<Vec<_>>()))
            .unwrap_or(f64::NAN)
    }

    fn meta(&self, key: &str) -> Option<(String, bool)> {
        let m = self.doc.pointer(&format!("/metrics/{key}"))?;
        Some((
            m.get("unit")?.as_str()?.to_owned(),
            m.get("higher_is_better")?.as_bool()?,
        ))
    }
}

pub fn report(in_dir: &Path, out_dir: &Path, header: &str) -> Res<String> {
    let mut systems = Vec::new();
    let mut skipped = Vec::new();
    for name in ["graphdb", "sqlite", "kuzu"] {
        let p = in_dir.join(format!("{name}.json"));
        let doc: Value = match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", p.display()))?,
            Err(_) => {
                skipped.push(format!("{name}: no result file ({})", p.display()));
                continue;
            }
        };
        if let Some(why) = doc.get("skipped").and_then(Value::as_str) {
            skipped.push(format!("{name}: skipped: {why}"));
            continue;
        }
        systems.push(Sys {
            name: name.into(),
            doc,
        });
    }
    let ours = systems.iter().position(|s| s.name == OURS);
    let peers: Vec<&Sys> = systems.iter().filter(|s| s.name != OURS).collect();

    let mut md = String::new();
    md.push_str(header);
    md.push_str("\n\n| workload | unit | better | ");
    for s in &systems {
        md.push_str(&format!("{} | ", s.name));
    }
    for p in &peers {
        md.push_str(&format!("ours / {} | ", p.name));
    }
    md.push_str("\n|---|---|---|");
    for _ in 0..systems.len() + peers.len() {
        md.push_str("---:|");
    }
    md.push('\n');
    let mut rows_json = Vec::new();
    for (key, label) in ROWS {
        let Some((unit, higher)) = systems.iter().find_map(|s| s.meta(key)) else {
            continue;
        };
        md.push_str(&format!(
            "| {label} | {unit} | {} | ",
            if higher { "higher" } else { "lower" }
        ));
        let mut figures = Map::new();
        for s in &systems {
            let m = s.median(key);
            md.push_str(&format!("{} | ", fmt(m)));
            figures.insert(s.name.clone(), json!(m.is_finite().then_some(m)));
        }
        let mut ratios = Map::new();
        for p in &peers {
            let r = ours.map_or(f64::NAN, |o| systems[o].median(key) / p.median(key));
            md.push_str(&format!("{} | ", fmt_ratio(r)));
            ratios.insert(p.name.clone(), json!(r.is_finite().then_some(r)));
        }
        md.push('\n');
        rows_json.push(json!({
            "key": key, "workload": label, "unit": unit, "higher_is_better": higher,
            "median": figures, "ours_over_peer": ratios,
        }));
    }
    md.push_str(
        "\nRatios are ours / peer of the medians: above 1 is better for rates (\"higher\"), \
         below 1 is better for times and sizes (\"lower\").\n",
    );

    // The same inputs must give the same answers everywhere.
    let mut checks = Map::new();
    md.push_str("\n**Result checks** (same inputs on every system):\n\n");
    for key in ["lookup_ages", "two_hop_counts", "scan_join_count"] {
        let vals: Vec<(String, Value)> = systems
            .iter()
            .filter_map(|s| {
                s.doc
                    .pointer(&format!("/checks/{key}"))
                    .map(|v| (s.name.clone(), v.clone()))
            })
            .collect();
        let agree = vals.windows(2).all(|w| w[0].1 == w[1].1);
        let shown: Vec<String> = vals.iter().map(|(n, v)| format!("{n} {v}")).collect();
        md.push_str(&format!(
            "- {key}: {} ({})\n",
            if agree { "agree" } else { "DISAGREE" },
            shown.join("; ")
        ));
        checks.insert(
            key.into(),
            json!({"agree": agree, "values": Map::from_iter(vals)}),
        );
    }

    let interleaved = commits_section(in_dir, &mut md)?;

    md.push_str("\n**Systems and notes**\n\n");
    for s in &systems {
        let version = s.doc.get("version").and_then(Value::as_str).unwrap_or("?");
        md.push_str(&format!("- {}: {version}\n", s.name));
        if let Some(notes) = s.doc.get("notes").and_then(Value::as_array) {
            for n in notes.iter().filter_map(Value::as_str) {
                md.push_str(&format!("  - {n}\n"));
            }
        }
    }
    for s in &skipped {
        md.push_str(&format!("- {s}\n"));
    }

    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let doc = json!({
        "header": header,
        "rows": rows_json,
        "checks": checks,
        "skipped": skipped,
        "durable_commits_interleaved": interleaved,
        "systems": Map::from_iter(systems.iter().map(|s| (s.name.clone(), s.doc.clone()))),
    });
    let write = |name: &str, text: String| {
        let p = out_dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    write("results.md", md.clone())?;
    write(
        "results.json",
        serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?,
    )?;
    Ok(md)
}

/// The interleaved durable-commit phases (`commits.json`, from the `commits` subcommand), when
/// present: a table of medians and the two ratios issue 4 asks for.
fn commits_section(in_dir: &Path, md: &mut String) -> Res<Value> {
    let p = in_dir.join("commits.json");
    let Ok(bytes) = std::fs::read(&p) else {
        return Ok(Value::Null);
    };
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))?;
    let med = |sys: &str, key: &str| {
        doc.pointer(&format!("/{sys}/{key}_median"))
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let reps = |sys: &str, key: &str| -> String {
        doc.pointer(&format!("/{sys}/{key}"))
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_f64)
                    .map(fmt)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    md.push_str(&format!(
        "\n**Durable commits, interleaved** (`graphdb-bench commits`: the same create-node \
         commits on fresh databases of {} users, both systems timed in turn in each of {} \
         repetitions, so that both meet the same disk; commits/s, median and each \
         repetition):\n\n| system | 1 thread | 8 threads | 8 threads / 1 thread |\n|---|---:|---:|---:|\n",
        doc.get("nodes").and_then(Value::as_u64).unwrap_or(0),
        doc.get("reps").and_then(Value::as_u64).unwrap_or(0),
    ));
    for sys in [OURS, "sqlite"] {
        let (one, eight) = (med(sys, "create_node_1t"), med(sys, "create_node_8t"));
        md.push_str(&format!(
            "| {sys} | {} ({}) | {} ({}) | {} |\n",
            fmt(one),
            reps(sys, "create_node_1t"),
            fmt(eight),
            reps(sys, "create_node_8t"),
            fmt_ratio(eight / one)
        ));
    }
    let one_vs_sqlite = med(OURS, "create_node_1t") / med("sqlite", "create_node_1t");
    let eight_vs_one = med(OURS, "create_node_8t") / med(OURS, "create_node_1t");
    md.push_str(&format!(
        "\nOurs / SQLite at 1 thread: {}; our 8 threads / our 1 thread: {}.\n",
        fmt_ratio(one_vs_sqlite),
        fmt_ratio(eight_vs_one)
    ));
    let by_cpu = one_thread_by_cpu(&doc);
    if !by_cpu.is_empty() {
        md.push_str(
            "\nThe 1-thread phases also ran pinned, both systems in turn on each CPU in each \
             repetition: where the scheduler puts a lone durable writer moves its rate by about \
             30 % on a VM whose disk interrupts go to one vCPU (bench/README.md), so the \
             unpinned ratio above is partly the luck of placement. Medians by CPU, \
             ours / SQLite:",
        );
        let parts: Vec<String> = by_cpu
            .iter()
            .map(|(cpu, ours, theirs)| {
                format!(
                    "CPU {cpu}: {} / {} = {}",
                    fmt(*ours),
                    fmt(*theirs),
                    fmt_ratio(ours / theirs)
                )
            })
            .collect();
        md.push_str(&format!(" {}.\n", parts.join("; ")));
    }
    Ok(json!({
        "runs": doc,
        "ours_over_sqlite_1t": one_vs_sqlite.is_finite().then_some(one_vs_sqlite),
        "ours_over_sqlite_1t_by_cpu": by_cpu
            .iter()
            .map(|(cpu, o, t)| (cpu.clone(), json!(o / t)))
            .collect::<Map<_, _>>(),
        "ours_8t_over_ours_1t": eight_vs_one.is_finite().then_some(eight_vs_one),
    }))
}

/// (CPU, our median, SQLite's median) for each CPU both systems' pinned 1-thread phases ran on.
fn one_thread_by_cpu(doc: &Value) -> Vec<(String, f64, f64)> {
    let by = |sys: &str| {
        doc.pointer(&format!("/{sys}/create_node_1t_by_cpu"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (ours, theirs) = (by(OURS), by("sqlite"));
    let rates = |v: &Value| -> Vec<f64> {
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    ours.iter()
        .filter_map(|(cpu, o)| {
            let t = theirs.get(cpu)?;
            Some((cpu.clone(), median(&rates(o)), median(&rates(t))))
        })
        .collect()
}
