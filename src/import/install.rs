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
    /// How many relationships each node has, as running sums once `prepare` is done: node
    /// n's are `starts[n]..starts[n + 1]` in a grouping by endpoint.
    starts: Vec<usize>,
    /// Whether the endpoints ascend in batch order (a file sorted by start node, in the
    /// outgoing direction): then the batch order is already the grouping.
    sorted: bool,
    /// The first and last endpoints seen (for joining the shares of several threads).
    first: Option<NodeId>,
    last: NodeId,
}

impl Ends {
    fn new(slots: usize) -> Ends {
        Ends {
            starts: vec![0usize; slots + 1],
            sorted: true,
            first: None,
            last: 0,
        }
    }

    fn note(&mut self, end: NodeId) {
        self.sorted &= end >= self.last;
        self.first.get_or_insert(end);
        self.last = end;
        // Every endpoint is below the slots (a stored node seen alive, or a new one).
        if let Some(c) = self.starts.get_mut(end as usize + 1) {
            *c += 1;
        }
    }

    /// Adds the counts of `later`, the share of the relationships after this one's.
    fn join(&mut self, later: Ends) {
        if let (Some(first), true) = (later.first, self.first.is_some()) {
            self.sorted &= later.sorted && first >= self.last;
            self.last = later.last;
        } else if self.first.is_none() {
            self.sorted = later.sorted;
            self.first = later.first;
            self.last = later.last;
        }
        for (c, l) in self.starts.iter_mut().zip(later.starts) {
            *c += l;
        }
    }
}

/// Batches below this are prepared on one thread.
const PREPARE_SPLIT_MIN: usize = 1 << 20;

/// Refuses a batch connecting to a stored node deleted meanwhile (or being deleted), and in
/// the same pass over the relationships (which, at 10M, costs as much as what it does)
/// readies them for `place`: endpoints resolved to node ids (new nodes get ids from
/// `node_slots` on), versions stamped `ts`, and the endpoints counted. On a refusal the
/// batch is dropped unused, so these changes to it change nothing. A large batch is done in
/// two halves on two threads (each counting into its own arrays), the first refusal in
/// batch order winning.
fn prepare(g: &GraphData, batch: &mut Batch, ts: u64) -> Result<[Ends; 2]> {
    prepare_split(g, batch, ts, PREPARE_SPLIT_MIN)
}

/// `prepare`, splitting batches of `split_min` relationships or more.
fn prepare_split(g: &GraphData, batch: &mut Batch, ts: u64, split_min: usize) -> Result<[Ends; 2]> {
    let first_node = g.node_slots();
    let slots = first_node as usize + batch.nodes.len();
    let rels = &mut batch.rels[..];
    let half = if rels.len() >= split_min {
        rels.len() / 2
    } else {
        rels.len()
    };
    let (a, b) = rels.split_at_mut(half);
    let (first, second) = std::thread::scope(|s| {
        let second = (!b.is_empty()).then(|| s.spawn(|| prepare_part(g, b, ts, slots)));
        let first = prepare_part(g, a, ts, slots);
        let second = second.map(|h| match h.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        });
        (first, second)
    });
    let mut ends = first?;
    if let Some(second) = second {
        for (e, later) in ends.iter_mut().zip(second?) {
            e.join(later);
        }
    }
    for e in &mut ends {
        for i in 1..e.starts.len() {
            e.starts[i] += e.starts[i - 1];
        }
    }
    Ok(ends)
}

/// `prepare` for a run of the batch's relationships: counts, not yet running sums.
fn prepare_part(g: &GraphData, rels: &mut [RelEntry], ts: u64, slots: usize) -> Result<[Ends; 2]> {
    let vis = crate::storage::graph::Visibility {
        snapshot: ts - 1,
        own: crate::storage::graph::UNCOMMITTED,
    };
    let first_node = g.node_slots();
    let mut ends = [Ends::new(slots), Ends::new(slots)];
    // Each stored endpoint once (a bit per node).
    let mut checked = vec![0u64; (first_node as usize).div_ceil(64)];
    for r in rels {
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
        ends[0].note(r.start);
        ends[1].note(r.end);
    }
    Ok(ends)
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
            Order::Narrow(scatter(rels, &ends.starts, end, |i| i as u32))
        } else {
            Order::Wide(scatter(rels, &ends.starts, end, |i| i as u64))
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

/// The batch positions `offset(i)` of `rels` in the order grouped by `end` (`starts`: the
/// running sums of the endpoint counts).
fn scatter<T: Copy + Default>(
    rels: &[RelEntry],
    starts: &[usize],
    end: impl Fn(&RelEntry) -> NodeId,
    offset: impl Fn(usize) -> T,
) -> Vec<T> {
    // Without the last entry, so an id past the slots (none can be) finds no slot.
    let mut next = starts[..starts.len().saturating_sub(1)].to_vec();
    let mut out = vec![T::default(); rels.len()];
    for (i, r) in rels.iter().enumerate() {
        if let Some(at) = next.get_mut(end(r) as usize) {
            if let Some(slot) = out.get_mut(*at) {
                *slot = offset(i);
            }
            *at += 1;
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

    /// What `prepare` produced, comparable.
    fn outcome(r: Result<[Ends; 2]>, b: &Batch) -> String {
        match r {
            Ok(ends) => format!(
                "{:?} {:?}",
                ends.map(|e| (e.starts, e.sorted)),
                b.rels
                    .iter()
                    .map(|r| (r.start, r.end, r.versions.last().map(|v| v.stamp)))
                    .collect::<Vec<_>>()
            ),
            Err(e) => e.message().to_owned(),
        }
    }

    /// Preparing in two halves on two threads gives what one pass gives: the counts, whether
    /// each direction ascends (across the halves' seam too), the resolved and stamped
    /// relationships, and the first refusal in batch order.
    #[test]
    fn a_batch_prepared_in_halves_equals_one_prepared_whole() {
        let mut g = GraphData::default();
        for i in 0..20 {
            g.push_node(node(i != 13));
        }
        let new = |i: u64| NEW | i;
        let cases: Vec<(&str, Vec<(u64, u64)>)> = vec![
            ("empty", vec![]),
            ("one", vec![(3, 4)]),
            (
                "sorted starts",
                (0..40).map(|i| (i / 4, (i * 7) % 12)).collect(),
            ),
            (
                "sorted within halves, not across",
                (0..40).map(|i| ((i % 20) / 2, i % 3)).collect(),
            ),
            (
                "new endpoints",
                (0..30).map(|i| (new(i % 5), i % 11)).collect(),
            ),
            (
                "dead node in the second half",
                (0..30)
                    .map(|i| (i % 7, if i == 25 { 13 } else { 1 }))
                    .collect(),
            ),
            (
                "dead nodes in both halves",
                (0..30)
                    .map(|i| (if i == 4 || i == 20 { 13 } else { 2 }, 3))
                    .collect(),
            ),
            ("sorted ends", (0..30).map(|i| (7, i / 3)).collect()),
        ];
        for (what, ends) in cases {
            let (mut whole, mut halves) = (batch(&ends, 5), batch(&ends, 5));
            let want = outcome(prepare_split(&g, &mut whole, 9, usize::MAX), &whole);
            let got = outcome(prepare_split(&g, &mut halves, 9, 1), &halves);
            assert_eq!(got, want, "{what}");
        }
        // The checks can fail: a dead endpoint is refused, an ascending file is seen as such.
        let mut b = batch(&[(1, 2), (13, 2)], 0);
        assert!(outcome(prepare_split(&g, &mut b, 9, 1), &b).contains("node 13"));
        let mut b = batch(&[(1, 2), (1, 5), (3, 0), (4, 4)], 0);
        let ends = prepare_split(&g, &mut b, 9, 1).unwrap();
        assert!(ends[0].sorted && !ends[1].sorted);
        assert_eq!(&ends[0].starts[..6], &[0, 0, 2, 2, 3, 4]);
    }
}
