//! The deterministic synthetic social graph and the workload inputs drawn from it.
//!
//! Everything comes from one seed through SplitMix64, written out here rather than taken
//! from a crate because its output must never change between crate versions: the same
//! `--nodes` and `--seed` must give byte-identical data to every system and every run.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Out-relationships per node.
pub const DEGREE: usize = 10;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); the modulo bias is irrelevant at these sizes.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

pub struct User {
    pub id: i64,
    pub name: String,
    pub age: i64,
}

pub struct Follow {
    pub src: i64,
    pub dst: i64,
    pub since: i64,
}

/// User `i` has id `i`, name `user<i>`, age 18..=80.
pub fn users(n: usize, seed: u64) -> Vec<User> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| User {
            id: i as i64,
            name: format!("user{i}"),
            age: 18 + rng.below(63) as i64,
        })
        .collect()
}

/// `DEGREE` relationships from every node to distinct other nodes (no self-loops, no
/// duplicates, so relationship uniqueness in Cypher never changes a count), `since`
/// 2000..=2024, sorted by source.
pub fn follows(n: usize, seed: u64) -> Vec<Follow> {
    let mut rng = Rng::new(seed ^ 0xF011_0005);
    let degree = DEGREE.min(n.saturating_sub(1));
    let mut out = Vec::with_capacity(n * degree);
    let mut picked: Vec<i64> = Vec::with_capacity(degree);
    for src in 0..n as i64 {
        picked.clear();
        while picked.len() < degree {
            let dst = rng.below(n as u64) as i64;
            if dst != src && !picked.contains(&dst) {
                picked.push(dst);
            }
        }
        for &dst in &picked {
            out.push(Follow {
                src,
                dst,
                since: 2000 + rng.below(25) as i64,
            });
        }
    }
    out
}

/// The inputs of the query workloads, identical for every system.
pub struct Inputs {
    /// Ids for point lookups and 2-hop starts (the first few also serve as result checks).
    pub lookup_ids: Vec<i64>,
    pub two_hop_ids: Vec<i64>,
    /// Endpoint pairs for "create a relationship between two looked-up nodes".
    pub rel_pairs: Vec<(i64, i64)>,
}

pub fn inputs(n: usize, seed: u64, count: usize) -> Inputs {
    let mut rng = Rng::new(seed ^ 0x1_0000_0F0F);
    let n = n.max(1) as u64;
    let mut ids = |k: usize| -> Vec<i64> { (0..k).map(|_| rng.below(n) as i64).collect() };
    let lookup_ids = ids(count);
    let two_hop_ids = ids(count);
    let a = ids(count);
    let b = ids(count);
    Inputs {
        lookup_ids,
        two_hop_ids,
        rel_pairs: a.into_iter().zip(b).collect(),
    }
}

/// Writes the graph as headerless CSV (for Kuzu's COPY FROM) and the inputs as JSON.
pub fn write_files(dir: &Path, n: usize, seed: u64, count: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut w = BufWriter::new(File::create(dir.join("users.csv"))?);
    for u in users(n, seed) {
        writeln!(w, "{},{},{}", u.id, u.name, u.age)?;
    }
    w.flush()?;
    let mut w = BufWriter::new(File::create(dir.join("follows.csv"))?);
    for f in follows(n, seed) {
        writeln!(w, "{},{},{}", f.src, f.dst, f.since)?;
    }
    w.flush()?;
    let inp = inputs(n, seed, count);
    let json = serde_json::json!({
        "nodes": n,
        "seed": seed,
        "lookup_ids": inp.lookup_ids,
        "two_hop_ids": inp.two_hop_ids,
        "rel_pairs": inp.rel_pairs.iter().map(|(a, b)| [*a, *b]).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("inputs.json"), json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_graph_and_degree_holds() {
        let a = follows(100, 42);
        let b = follows(100, 42);
        assert_eq!(a.len(), 100 * DEGREE);
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| (x.src, x.dst, x.since) == (y.src, y.dst, y.since)));
        assert!(a
            .iter()
            .all(|f| f.src != f.dst && (0..100).contains(&f.dst)));
        let c = follows(100, 43);
        assert!(a.iter().zip(&c).any(|(x, y)| x.dst != y.dst));
    }
}
