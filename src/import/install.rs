//! Putting a checked batch into the graph at one commit timestamp and making it durable as a
//! new base image (not through the log).

use std::sync::MutexGuard;

use super::parse::{Batch, NEW};
use crate::checkpoint::Checkpointer;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::chain::VersionChain;
use crate::storage::graph::{GraphData, NodeEntry, RelEntry, Version};
use crate::storage::{NodeId, RelId};
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
            let mut batch = batch;
            check_labels(&g, &batch)?;
            let ends = prepare(&g, &mut batch, ts)?;
            super::trace(&format!("checked the batch in {:?}", t.elapsed()));
            let (n, r) = (batch.nodes.len(), batch.rels.len());
            let (first_node, first_rel) = place(&mut g, batch, ts, ends);
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

/// Refuses a batch with new nodes under a uniqueness constraint (import does not check it).
fn check_labels(g: &GraphData, batch: &Batch) -> Result<()> {
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
    Ok(())
}

/// The batch's endpoints in one direction, outgoing (at the relationships' starts) or
/// incoming (at their ends).
struct Ends {
    /// How many relationships each node has, as running sums: node n's are
    /// `starts[n]..starts[n + 1]` in a grouping by endpoint.
    starts: Vec<usize>,
    /// Whether the endpoints ascend in batch order (a file sorted by start node, in the
    /// outgoing direction): then the batch order is already the grouping.
    sorted: bool,
}

/// Counting one direction's endpoints, into 32-bit counts: the incoming direction's are
/// random increments over a node-sized array, and half its bytes measured ~40 % less time
/// for 10M relationships onto 1M nodes.
struct Counter {
    /// Node n's count at `n + 1`.
    counts: Vec<u32>,
    /// Some count wrapped past `u32::MAX` (only a batch of over 4G relationships can): the
    /// counts are redone wide.
    wrapped: bool,
    sorted: bool,
    last: NodeId,
}

impl Counter {
    fn new(slots: usize) -> Counter {
        Counter {
            counts: vec![0u32; slots + 1],
            wrapped: false,
            sorted: true,
            last: 0,
        }
    }

    fn note(&mut self, end: NodeId) {
        self.sorted &= end >= self.last;
        self.last = end;
        // Every endpoint is below the slots (a stored node seen alive, or a new one).
        if let Some(c) = self.counts.get_mut(end as usize + 1) {
            *c = c.wrapping_add(1);
            self.wrapped |= *c == 0;
        }
    }

    /// The running sums (`end` gives the endpoint when the counts must be redone wide).
    fn finish(self, rels: &[RelEntry], end: impl Fn(&RelEntry) -> NodeId) -> Ends {
        let starts = if self.wrapped {
            let mut wide = vec![0usize; self.counts.len()];
            for r in rels {
                if let Some(c) = wide.get_mut(end(r) as usize + 1) {
                    *c += 1;
                }
            }
            let mut sum = 0;
            wide.iter()
                .map(|&c| {
                    sum += c;
                    sum
                })
                .collect()
        } else {
            let mut sum = 0usize;
            self.counts
                .iter()
                .map(|&c| {
                    sum += c as usize;
                    sum
                })
                .collect()
        };
        Ends {
            starts,
            sorted: self.sorted,
        }
    }
}

/// Refuses a batch connecting to a stored node deleted meanwhile (or being deleted), and in
/// the same pass over the relationships (which, at 10M, costs as much as what it does)
/// readies them for `place`: endpoints resolved to node ids (new nodes get ids from
/// `node_slots` on), versions stamped `ts`, and the endpoints counted. On a refusal the
/// batch is dropped unused, so these changes to it change nothing. (Two halves on two
/// threads, each counting into its own arrays, measured no faster on 2 busy cores.)
fn prepare(g: &GraphData, batch: &mut Batch, ts: u64) -> Result<[Ends; 2]> {
    let vis = crate::storage::graph::Visibility {
        snapshot: ts - 1,
        own: crate::storage::graph::UNCOMMITTED,
    };
    let first_node = g.node_slots();
    let slots = first_node as usize + batch.nodes.len();
    let (mut out, mut inc) = (Counter::new(slots), Counter::new(slots));
    // Each stored endpoint once (a bit per node).
    let mut checked = vec![0u64; (first_node as usize).div_ceil(64)];
    for r in &mut batch.rels {
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
        r.start = resolve(r.start, first_node);
        r.end = resolve(r.end, first_node);
        for v in r.versions.iter_mut() {
            v.stamp = ts;
        }
        out.note(r.start);
        inc.note(r.end);
    }
    Ok([
        out.finish(&batch.rels, |r| r.start),
        inc.finish(&batch.rels, |r| r.end),
    ])
}

fn resolve(end: u64, first_node: u64) -> NodeId {
    if end & NEW != 0 {
        first_node + (end & !NEW)
    } else {
        end
    }
}

/// Appends the batch's entities (`prepare`d), stamped `ts`; returns the first new node and
/// relationship ids. Nothing is visible before `ts` publishes. Stored (base) endpoints get a
/// delta entry holding their new adjacency.
fn place(g: &mut GraphData, batch: Batch, ts: u64, ends: [Ends; 2]) -> (u64, u64) {
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
    let t = std::time::Instant::now();
    // The two directions' groupings are independent.
    let [out_ends, inc_ends] = ends;
    let (out, inc) = std::thread::scope(|s| {
        let out = s.spawn(|| Grouped::new(&rels, out_ends, first_rel, true));
        let inc = Grouped::new(&rels, inc_ends, first_rel, false);
        match out.join() {
            Ok(out) => (out, inc),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    super::trace(&format!("grouped by endpoint in {:?}", t.elapsed()));
    attach(g, &out, &inc);
    super::trace(&format!("attached in {:?}", t.elapsed()));
    let all = g.new_rels_mut();
    if all.is_empty() {
        *all = rels;
    } else {
        all.append(&mut rels);
    }
    (first_node, first_rel)
}

/// The batch's relationship ids grouped by endpoint in one direction (a counting sort):
/// node n's are `starts[n]..starts[n + 1]` of the grouped order, in creation order.
/// Grouping first means each endpoint's entry is looked up (a stored node's materialized)
/// once and its list grows once, instead of once per relationship.
struct Grouped {
    starts: Vec<usize>,
    order: Order,
    first_rel: RelId,
}

/// The grouped order, as offsets from the batch's first relationship id.
enum Order {
    /// The batch order (the endpoints ascended): position i holds offset i.
    Batch,
    /// Offsets that fit 32 bits (any batch below 4G relationships): half the bytes to
    /// scatter into at random.
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Grouped {
    fn new(rels: &[RelEntry], ends: Ends, first_rel: RelId, outgoing: bool) -> Grouped {
        let end = |r: &RelEntry| if outgoing { r.start } else { r.end };
        let order = if ends.sorted {
            Order::Batch
        } else if u32::try_from(rels.len()).is_ok() {
            Order::Narrow(scatter::<u32>(rels, &ends.starts, end))
        } else {
            Order::Wide(scatter::<u64>(rels, &ends.starts, end))
        };
        Grouped {
            starts: ends.starts,
            order,
            first_rel,
        }
    }

    fn slots(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Node `node`'s positions in the grouped order.
    fn range(&self, node: usize) -> std::ops::Range<usize> {
        match (self.starts.get(node), self.starts.get(node + 1)) {
            (Some(&a), Some(&b)) if a <= b => a..b,
            _ => 0..0,
        }
    }

    /// Appends node `node`'s relationships to `list`.
    fn extend(&self, node: usize, list: &mut Vec<RelId>) {
        let r = self.range(node);
        let first = self.first_rel;
        match &self.order {
            Order::Batch => list.extend(r.start as u64 + first..r.end as u64 + first),
            Order::Narrow(o) => list.extend(
                o.get(r)
                    .unwrap_or(&[])
                    .iter()
                    .map(|&i| first + u64::from(i)),
            ),
            Order::Wide(o) => list.extend(o.get(r).unwrap_or(&[]).iter().map(|&i| first + i)),
        }
    }
}

/// A batch position, narrow or wide; `from_usize` is only given values that fit.
trait Offset: Copy + Default {
    fn from_usize(i: usize) -> Self;
    fn to_usize(self) -> usize;
}

impl Offset for u32 {
    fn from_usize(i: usize) -> u32 {
        i as u32
    }
    fn to_usize(self) -> usize {
        self as usize
    }
}

impl Offset for u64 {
    fn from_usize(i: usize) -> u64 {
        i as u64
    }
    fn to_usize(self) -> usize {
        self as usize
    }
}

/// The batch positions of `rels` in the order grouped by `end` (`starts`: the running sums
/// of the endpoint counts), as `T`, which holds every position (and so every running sum):
/// the next free place of each node is a `T` too, halving the randomly written bytes when
/// narrow.
fn scatter<T: Offset>(
    rels: &[RelEntry],
    starts: &[usize],
    end: impl Fn(&RelEntry) -> NodeId,
) -> Vec<T> {
    // Without the last entry, so an id past the slots (none can be) finds no slot.
    let mut next: Vec<T> = starts[..starts.len().saturating_sub(1)]
        .iter()
        .map(|&s| T::from_usize(s))
        .collect();
    let mut out = vec![T::default(); rels.len()];
    for (i, r) in rels.iter().enumerate() {
        if let Some(at) = next.get_mut(end(r) as usize) {
            let a = at.to_usize();
            if let Some(slot) = out.get_mut(a) {
                *slot = T::from_usize(i);
            }
            *at = T::from_usize(a + 1);
        }
    }
    out
}

/// Appends the batch's relationships (grouped by endpoint) to their endpoints' adjacency,
/// both directions in one visit of each endpoint.
fn attach(g: &mut GraphData, out: &Grouped, inc: &Grouped) {
    let slots = out.slots();
    let touched = |n: usize| !out.range(n).is_empty() || !inc.range(n).is_empty();
    let touched_base = (0..slots.min(g.base().node_slots() as usize))
        .filter(|&n| touched(n))
        .count();
    g.reserve_base_nodes(touched_base);
    for node in 0..slots {
        if !touched(node) {
            continue;
        }
        // `prepare` saw every stored endpoint alive.
        if let Some(e) = g.materialize_node(node as u64) {
            out.extend(node, &mut e.out);
            inc.extend(node, &mut e.inc);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::graph::{NodeData, RelData};

    fn data() -> NodeData {
        NodeData {
            labels: Vec::new(),
            props: Vec::new(),
        }
    }

    fn node(alive: bool) -> NodeEntry {
        NodeEntry {
            versions: VersionChain::one(Version {
                stamp: 1,
                data: alive.then(data),
            }),
            out: Vec::new(),
            inc: Vec::new(),
        }
    }

    fn batch(ends: &[(u64, u64)], new_nodes: usize) -> Batch {
        Batch {
            nodes: vec![data(); new_nodes],
            rels: ends
                .iter()
                .map(|&(start, end)| RelEntry {
                    start,
                    end,
                    rel_type: 0,
                    versions: VersionChain::one(Version {
                        stamp: 0,
                        data: Some(RelData { props: Vec::new() }),
                    }),
                })
                .collect(),
            labels: Vec::new(),
        }
    }

    /// The counts' running sums, whether each direction ascends, the resolved and stamped
    /// relationships, and the first refusal in batch order; and counts that wrap 32 bits
    /// (forced here) are redone wide, to the same sums.
    #[test]
    fn prepare_counts_resolves_stamps_and_refuses_dead_endpoints() {
        let mut g = GraphData::default();
        for i in 0..20 {
            g.push_node(node(i != 13));
        }
        let mut b = batch(&[(1, 2), (1, 5), (3, 0), (NEW | 2, 4)], 5);
        let ends = prepare(&g, &mut b, 9).unwrap();
        assert!(ends[0].sorted && !ends[1].sorted);
        assert_eq!(&ends[0].starts[..6], &[0, 0, 2, 2, 3, 3]);
        assert_eq!(ends[0].starts[22..], [3, 4, 4, 4]);
        assert_eq!(&ends[1].starts[..7], &[0, 1, 1, 2, 2, 3, 4]);
        assert_eq!(ends[1].starts.len(), 26);
        let got: Vec<_> = (b.rels.iter())
            .map(|r| (r.start, r.end, r.versions.last().map(|v| v.stamp)))
            .collect();
        assert_eq!(
            got,
            [(1, 2), (1, 5), (3, 0), (22, 4)].map(|(a, e)| (a, e, Some(9)))
        );
        let mut b = batch(&[(1, 2), (4, 13), (13, 2)], 0);
        let err = prepare(&g, &mut b, 9).err().unwrap();
        assert!(
            err.message().starts_with("node 13, which"),
            "{}",
            err.message()
        );

        let rels = batch(&[(1, 2), (1, 5), (3, 0), (1, 4)], 0).rels;
        let mut c = Counter::new(6);
        for r in &rels {
            c.note(r.start);
        }
        let narrow = Counter {
            counts: c.counts.clone(),
            wrapped: false,
            sorted: c.sorted,
            last: c.last,
        }
        .finish(&rels, |r| r.start);
        c.counts[2] = 0; // as if node 1's count had wrapped
        c.wrapped = true;
        let wide = c.finish(&rels, |r| r.start);
        assert_eq!(narrow.starts, wide.starts);
        assert_eq!(narrow.starts, [0, 0, 3, 3, 4, 4, 4]);
        assert!(!narrow.sorted);
    }
}
