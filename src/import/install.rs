//! Putting a checked batch into the graph at one commit timestamp and making it durable as a
//! new base image (not through the log).

use std::sync::MutexGuard;

use super::parse::{Batch, NEW};
use crate::checkpoint::Checkpointer;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::chain::VersionChain;
use crate::storage::graph::{GraphData, NodeEntry, RelEntry, Version};
use crate::storage::NodeId;
use crate::txn::TxnManager;

/// Where the batch went.
pub struct Placed {
    pub ts: u64,
    pub first_node: u64,
    pub first_rel: u64,
    /// Bytes of the base image written (0 in memory).
    pub image_bytes: u64,
}

/// Installs `batch` as commit `ts`, durable (when `ckpt` is given) when this returns `Ok`;
/// on `Err` the graph and the files hold what they held before.
pub fn install(
    txns: &TxnManager,
    ckpt: Option<(&Checkpointer, &MutexGuard<'_, ()>)>,
    batch: Batch,
) -> Result<Placed> {
    let graph = std::sync::Arc::clone(txns.graph());
    txns.commit_external(|ts| {
        let t = std::time::Instant::now();
        let (first_node, first_rel, nodes, rels) = {
            let mut g = graph.write();
            check(&g, &batch, ts)?;
            let (n, r) = (batch.nodes.len(), batch.rels.len());
            let (first_node, first_rel) = place(&mut g, batch, ts);
            (first_node, first_rel, n, r)
        };
        super::trace(&format!("installed in memory in {:?}", t.elapsed()));
        let image_bytes = match ckpt {
            Some((c, held)) => match c.image_at(held, ts) {
                Ok(info) => info.bytes,
                Err(e) => {
                    unplace(&mut graph.write(), first_node, nodes, first_rel, rels);
                    return Err(Error::new(
                        e.kind(),
                        format!("the import was not applied: {}", e.message()),
                    ));
                }
            },
            None => 0,
        };
        Ok(Placed {
            ts,
            first_node,
            first_rel,
            image_bytes,
        })
    })
}

/// Refusals that depend on the graph at commit time: uniqueness constraints on imported
/// labels, and stored endpoints deleted meanwhile (or being deleted).
fn check(g: &GraphData, batch: &Batch, ts: u64) -> Result<()> {
    for &l in &batch.labels {
        if let Some(def) = g.schema.unique_on(l).next() {
            return Err(Error::new(
                ErrorKind::ConstraintViolation,
                format!(
                    "import does not check uniqueness constraints, and constraint '{}' covers \
                     a label it imports; drop the constraint, import, then create it again \
                     (creating it checks the data); nothing was imported",
                    def.name
                ),
            ));
        }
    }
    let vis = crate::storage::graph::Visibility {
        snapshot: ts - 1,
        own: crate::storage::graph::UNCOMMITTED,
    };
    // Each stored endpoint once (a bit per node).
    let mut checked = vec![0u64; (g.node_slots() as usize).div_ceil(64)];
    for r in &batch.rels {
        for end in [r.start, r.end] {
            if end & NEW != 0 {
                continue;
            }
            let (word, bit) = ((end / 64) as usize, 1u64 << (end % 64));
            match checked.get_mut(word) {
                Some(w) if *w & bit != 0 => continue,
                Some(w) => *w |= bit,
                None => {}
            }
            let alive =
                g.node(end, vis).is_some() && g.node_head(end).is_some_and(|(_, deleted)| !deleted);
            if !alive {
                return Err(Error::conflict(format!(
                    "node {end}, which the import connects relationships to, was deleted (or \
                     is being deleted) by another transaction meanwhile; nothing was imported, \
                     retry"
                )));
            }
        }
    }
    Ok(())
}

fn resolve(end: u64, first_node: u64) -> NodeId {
    if end & NEW != 0 {
        first_node + (end & !NEW)
    } else {
        end
    }
}

/// Appends the batch's entities, stamped `ts`; returns the first new node and relationship
/// ids. Nothing is visible before `ts` publishes. Stored (base) endpoints get a delta entry
/// holding their new adjacency.
fn place(g: &mut GraphData, batch: Batch, ts: u64) -> (u64, u64) {
    let first_node = g.node_slots();
    let first_rel = g.rel_slots();
    g.new_nodes_mut().reserve(batch.nodes.len());
    for (i, d) in batch.nodes.into_iter().enumerate() {
        let id = first_node + i as u64;
        g.note_node(id, &d);
        g.new_nodes_mut().push(NodeEntry {
            versions: VersionChain::one(Version {
                stamp: ts,
                data: Some(d),
            }),
            out: Vec::new(),
            inc: Vec::new(),
        });
    }
    let mut rels = batch.rels;
    for r in rels.iter_mut() {
        r.start = resolve(r.start, first_node);
        r.end = resolve(r.end, first_node);
        for v in r.versions.iter_mut() {
            v.stamp = ts;
        }
    }
    attach(g, &rels, first_rel, true);
    attach(g, &rels, first_rel, false);
    let all = g.new_rels_mut();
    if all.is_empty() {
        *all = rels;
    } else {
        all.append(&mut rels);
    }
    (first_node, first_rel)
}

/// Appends the batch's relationships (ids `first_rel..`, endpoints resolved) to their
/// endpoints' adjacency in one direction. Grouped by endpoint first (a counting sort), so each
/// endpoint's entry is looked up (a stored node's materialized) once and its list grows once,
/// instead of once per relationship; within an endpoint the ids stay in creation order.
fn attach(g: &mut GraphData, rels: &[RelEntry], first_rel: u64, outgoing: bool) {
    let end = |r: &RelEntry| if outgoing { r.start } else { r.end };
    let slots = g.node_slots() as usize;
    // starts[n]..starts[n + 1] will be node n's slice of `grouped`.
    let mut starts = vec![0usize; slots + 1];
    for r in rels {
        // Every endpoint is below `node_slots` (a stored node `check` saw, or a new one).
        if let Some(c) = starts.get_mut(end(r) as usize + 1) {
            *c += 1;
        }
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    // Without the last entry, so an id past `slots` (none can be) finds no slot.
    let mut next = starts[..slots].to_vec();
    let mut grouped = vec![0u64; rels.len()];
    for (i, r) in rels.iter().enumerate() {
        if let Some(at) = next.get_mut(end(r) as usize) {
            grouped[*at] = first_rel + i as u64;
            *at += 1;
        }
    }
    drop(next);
    for (node, w) in starts.windows(2).enumerate() {
        if w[0] == w[1] {
            continue;
        }
        // `check` saw every stored endpoint alive.
        if let Some(e) = g.materialize_node(node as u64) {
            let list = if outgoing { &mut e.out } else { &mut e.inc };
            list.extend_from_slice(&grouped[w[0]..w[1]]);
        }
    }
}

/// Undoes `place`: entries without versions are invisible to everyone (as after a rolled
/// back creation), their ids are never reused, and index entries are pruned.
fn unplace(g: &mut GraphData, first_node: u64, nodes: usize, first_rel: u64, rels: usize) {
    for id in first_node..first_node + nodes as u64 {
        if let Some((e, schema)) = g.node_and_schema_mut(id) {
            let before = schema.entries(&e.versions);
            e.versions.clear();
            schema.prune(id, before, &e.versions);
        }
    }
    for id in first_rel..first_rel + rels as u64 {
        if let Some(e) = g.rel_entry_mut(id) {
            e.versions.clear();
        }
    }
}
