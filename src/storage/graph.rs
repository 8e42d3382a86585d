//! The versioned in-memory delta over the base image: every node and relationship written
//! since the base (or created since) as a chain of versions.
//!
//! Invariants (kept by `txn`, which is the only writer):
//! - A chain lists versions oldest first. Committed versions carry their commit timestamp
//!   (< `UNCOMMITTED`); at most one uncommitted version exists per chain, and it is the last.
//! - A version whose `data` is `None` is a deletion (tombstone).
//! - Ids are dense and never reused. An entry with no versions was never committed (its
//!   creator rolled back) or was collected after its deletion, and is invisible to everyone.
//!   Entities of the base image need no entry until written (see `GraphData`).
//! - Adjacency lists and the label index only grow; readers filter them by visibility, so
//!   concurrent creators of relationships on one node never contend on a version.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rustc_hash::FxHashMap;

use super::base::{AdjList, BaseView, IdIter, Props};
use super::blocks::BaseDamage;

use super::catalog::Catalog;
pub use super::chain::VersionChain;
use super::change::{Change, PropList};
use super::id_set::IdSet;
use super::index::{IndexDef, KeyRange, PropIndex, Schema};
use super::{KeyId, LabelId, NodeId, RelId, TypeId};
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

/// Marks a stamp as "uncommitted, written by transaction `stamp & !UNCOMMITTED`".
pub const UNCOMMITTED: u64 = 1 << 63;

/// What one reader sees: commits up to `snapshot`, plus its own writes (stamp == `own`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visibility {
    pub snapshot: u64,
    /// `UNCOMMITTED | txn_id` of the reading transaction.
    pub own: u64,
}

impl Visibility {
    pub fn sees(&self, stamp: u64) -> bool {
        stamp == self.own || (stamp < UNCOMMITTED && stamp <= self.snapshot)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeData {
    /// Sorted, unique.
    pub labels: Vec<LabelId>,
    pub props: PropList,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelData {
    pub props: PropList,
}

#[derive(Debug, Clone)]
pub struct Version<T> {
    pub stamp: u64,
    pub data: Option<T>,
}

#[derive(Debug, Default)]
pub struct NodeEntry {
    pub versions: VersionChain<NodeData>,
    /// Relationships starting here, in creation order.
    pub out: Vec<RelId>,
    /// Relationships ending here, in creation order.
    pub inc: Vec<RelId>,
}

#[derive(Debug)]
pub struct RelEntry {
    pub start: NodeId,
    pub end: NodeId,
    pub rel_type: TypeId,
    pub versions: VersionChain<RelData>,
}

/// The version that `vis` sees in `chain`, if any (it may be a tombstone).
pub fn visible<T>(chain: &[Version<T>], vis: Visibility) -> Option<&Version<T>> {
    chain.iter().rev().find(|v| vis.sees(v.stamp))
}

fn visible_data<T>(chain: &[Version<T>], vis: Visibility) -> Option<&T> {
    visible(chain, vis).and_then(|v| v.data.as_ref())
}

/// A node as a reader sees it: a delta version, or a base entity read in place.
#[derive(Debug, Clone, Copy)]
pub enum NodeRef<'a> {
    Delta(&'a NodeData),
    Base(&'a BaseView, NodeId),
}

impl<'a> NodeRef<'a> {
    pub fn has_label(&self, label: LabelId) -> bool {
        match *self {
            NodeRef::Delta(d) => d.labels.binary_search(&label).is_ok(),
            NodeRef::Base(b, id) => b.has_label(id, label),
        }
    }

    /// Sorted, unique.
    pub fn labels(&self) -> Cow<'a, [LabelId]> {
        match *self {
            NodeRef::Delta(d) => Cow::Borrowed(&d.labels[..]),
            NodeRef::Base(b, id) => Cow::Owned(b.labels(id).collect()),
        }
    }

    pub fn props(&self) -> Props<'a> {
        match *self {
            NodeRef::Delta(d) => Props::List(&d.props),
            NodeRef::Base(b, id) => b.node_props(id),
        }
    }

    /// One property (from the base image, only that value is decoded).
    pub fn prop(&self, key: KeyId) -> Option<Cow<'a, Value>> {
        self.props().get(key)
    }

    /// The whole node (decoded when it lives in the base image).
    pub fn data(&self) -> Cow<'a, NodeData> {
        match *self {
            NodeRef::Delta(d) => Cow::Borrowed(d),
            NodeRef::Base(..) => Cow::Owned(NodeData {
                labels: self.labels().into_owned(),
                props: self.props().to_list().into_owned(),
            }),
        }
    }
}

/// A relationship as a reader sees it.
#[derive(Debug, Clone, Copy)]
pub struct RelRef<'a> {
    pub start: NodeId,
    pub end: NodeId,
    pub rel_type: TypeId,
    pub props: Props<'a>,
}

impl<'a> RelRef<'a> {
    pub fn prop(&self, key: KeyId) -> Option<Cow<'a, Value>> {
        self.props.get(key)
    }
}

/// A bit per base slot: whether the entity has a delta entry.
#[derive(Debug, Default)]
struct Marks(Vec<u64>);

impl Marks {
    fn get(&self, id: u64) -> bool {
        self.0
            .get((id / 64) as usize)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set(&mut self, id: u64) {
        let w = (id / 64) as usize;
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << (id % 64);
    }
}

/// The graph a snapshot reads: the base image (shared, read in place) plus the delta.
///
/// Invariants:
/// - Ids below the base's slot counts are base entities. One with no delta entry (its mark
///   unset) is exactly as the base says, committed at C, visible to every reader. The first
///   write to it (or a replayed log change, or a new relationship attached to it)
///   *materializes* it: a delta entry whose chain starts with the base version, stamped C,
///   after which the ordinary MVCC rules (visibility, conflicts, rollback, GC) apply to the
///   chain alone — an emptied chain means gone, never "see the base".
/// - A materialized base node's `out` / `inc` hold only relationships created after the
///   base; its full adjacency is the base CSR list followed by those.
/// - Ids at or above the slot counts index `nodes` / `rels` from the slot count on.
#[derive(Debug, Default)]
pub struct GraphData {
    base: Arc<BaseView>,
    node_marks: Marks,
    base_nodes: FxHashMap<NodeId, NodeEntry>,
    nodes: Vec<NodeEntry>,
    rel_marks: Marks,
    base_rels: FxHashMap<RelId, RelEntry>,
    rels: Vec<RelEntry>,
    /// Every node that has had the label in some version in memory (and, for a format-1
    /// image, every base node with it); with the base image's label lists, the candidates
    /// of a label scan (`label_members`).
    by_label: HashMap<LabelId, IdSet>,
    /// Index and constraint definitions and index contents (see `index`).
    pub schema: Schema,
}

impl GraphData {
    /// Starts the graph on `base` (only while nothing else is in it).
    pub fn set_base(&mut self, base: Arc<BaseView>) -> Result<()> {
        if self.node_slots() != 0 || self.rel_slots() != 0 {
            return Err(Error::new(
                ErrorKind::Internal,
                "a base image can only be loaded into an empty graph",
            ));
        }
        self.base = base;
        Ok(())
    }

    pub fn base(&self) -> &Arc<BaseView> {
        &self.base
    }

    /// One past the largest node id ever handed out.
    pub fn node_slots(&self) -> u64 {
        self.base.node_slots() + self.nodes.len() as u64
    }

    pub fn rel_slots(&self) -> u64 {
        self.base.rel_slots() + self.rels.len() as u64
    }

    /// Whether `id` is a base node without a delta entry (read straight from the image).
    pub fn base_only_node(&self, id: NodeId) -> bool {
        id < self.base.node_slots() && !self.node_marks.get(id)
    }

    fn base_only_rel(&self, id: RelId) -> bool {
        id < self.base.rel_slots() && !self.rel_marks.get(id)
    }

    pub fn node(&self, id: NodeId, vis: Visibility) -> Option<NodeRef<'_>> {
        if self.base_only_node(id) {
            return self
                .base
                .node_live(id)
                .then_some(NodeRef::Base(&self.base, id));
        }
        visible_data(&self.node_entry(id)?.versions, vis).map(NodeRef::Delta)
    }

    pub fn rel(&self, id: RelId, vis: Visibility) -> Option<RelRef<'_>> {
        if self.base_only_rel(id) {
            if !self.base.rel_live(id) {
                return None;
            }
            let (start, end, rel_type) = self.base.rel_shape(id);
            return Some(RelRef {
                start,
                end,
                rel_type,
                props: self.base.rel_props(id),
            });
        }
        let e = self.rel_entry(id)?;
        visible_data(&e.versions, vis).map(|d| RelRef {
            start: e.start,
            end: e.end,
            rel_type: e.rel_type,
            props: Props::List(&d.props),
        })
    }

    /// For an expansion: the other end and the type of relationship `id` if `vis` sees it,
    /// seen from its start (`outgoing`) or its end. Reads no properties.
    pub fn rel_step(&self, id: RelId, vis: Visibility, outgoing: bool) -> Option<(NodeId, TypeId)> {
        if self.base_only_rel(id) {
            if !self.base.rel_live(id) {
                return None;
            }
            let other = if outgoing {
                self.base.rel_end(id)
            } else {
                self.base.rel_start(id)
            };
            return Some((other, self.base.rel_type(id)));
        }
        let e = self.rel_entry(id)?;
        visible_data(&e.versions, vis)?;
        Some((if outgoing { e.end } else { e.start }, e.rel_type))
    }

    /// A base node nobody has written since open, as the image has it (`None` for any
    /// other id).
    pub fn base_node(&self, id: NodeId) -> Option<NodeRef<'_>> {
        (self.base_only_node(id) && self.base.node_live(id))
            .then_some(NodeRef::Base(&self.base, id))
    }

    /// Node `id`'s delta entry together with the schema (to keep index entries in step with
    /// a change to its versions).
    pub fn node_and_schema_mut(&mut self, id: NodeId) -> Option<(&mut NodeEntry, &mut Schema)> {
        let b = self.base.node_slots();
        let e = if id < b {
            self.base_nodes.get_mut(&id)
        } else {
            self.nodes.get_mut(usize::try_from(id - b).ok()?)
        }?;
        Some((e, &mut self.schema))
    }

    /// `(start, end, type)` of relationship `id` if `vis` sees it. Reads no properties.
    pub fn visible_shape(&self, id: RelId, vis: Visibility) -> Option<(NodeId, NodeId, TypeId)> {
        if self.base_only_rel(id) {
            return self.base.rel_live(id).then(|| self.base.rel_shape(id));
        }
        let e = self.rel_entry(id)?;
        visible_data(&e.versions, vis)?;
        Some((e.start, e.end, e.rel_type))
    }

    /// `(start, end, type)` of a relationship whatever its visibility (they never change).
    pub fn rel_shape(&self, id: RelId) -> Option<(NodeId, NodeId, TypeId)> {
        if self.base_only_rel(id) {
            return self.base.rel_live(id).then(|| self.base.rel_shape(id));
        }
        self.rel_entry(id).map(|e| (e.start, e.end, e.rel_type))
    }

    /// The delta entry of node `id`, if it has one (base entities never written have none).
    pub fn node_entry(&self, id: NodeId) -> Option<&NodeEntry> {
        let b = self.base.node_slots();
        if id < b {
            return self.base_nodes.get(&id);
        }
        self.nodes.get(usize::try_from(id - b).ok()?)
    }

    pub fn node_entry_mut(&mut self, id: NodeId) -> Option<&mut NodeEntry> {
        let b = self.base.node_slots();
        if id < b {
            return self.base_nodes.get_mut(&id);
        }
        self.nodes.get_mut(usize::try_from(id - b).ok()?)
    }

    pub fn rel_entry(&self, id: RelId) -> Option<&RelEntry> {
        let b = self.base.rel_slots();
        if id < b {
            return self.base_rels.get(&id);
        }
        self.rels.get(usize::try_from(id - b).ok()?)
    }

    pub fn rel_entry_mut(&mut self, id: RelId) -> Option<&mut RelEntry> {
        let b = self.base.rel_slots();
        if id < b {
            return self.base_rels.get_mut(&id);
        }
        self.rels.get_mut(usize::try_from(id - b).ok()?)
    }

    /// Makes room for `additional` more materialized base nodes (a bulk import about to
    /// touch that many), so the map grows once instead of rehashing as it doubles.
    pub fn reserve_base_nodes(&mut self, additional: usize) {
        self.base_nodes.reserve(additional);
    }

    /// The delta entry of node `id`, materializing a base node's on first use (see the
    /// type's invariants); `None` for an id never handed out or a base slot that is not live.
    pub fn materialize_node(&mut self, id: NodeId) -> Option<&mut NodeEntry> {
        if self.base_only_node(id) {
            if !self.base.node_live(id) {
                return None;
            }
            let data = NodeRef::Base(&self.base, id).data().into_owned();
            self.node_marks.set(id);
            self.base_nodes.insert(
                id,
                NodeEntry {
                    versions: VersionChain::one(Version {
                        stamp: self.base.ts(),
                        data: Some(data),
                    }),
                    out: Vec::new(),
                    inc: Vec::new(),
                },
            );
        }
        self.node_entry_mut(id)
    }

    pub fn materialize_rel(&mut self, id: RelId) -> Option<&mut RelEntry> {
        if self.base_only_rel(id) {
            if !self.base.rel_live(id) {
                return None;
            }
            let (start, end, rel_type) = self.base.rel_shape(id);
            let props = self.base.rel_props(id).to_list().into_owned();
            self.rel_marks.set(id);
            self.base_rels.insert(
                id,
                RelEntry {
                    start,
                    end,
                    rel_type,
                    versions: VersionChain::one(Version {
                        stamp: self.base.ts(),
                        data: Some(RelData { props }),
                    }),
                },
            );
        }
        self.rel_entry_mut(id)
    }

    /// The newest version's stamp and whether it is a deletion, for writers: a base-only
    /// entity's head is its base version (stamp C). `None`: no such entity.
    pub fn node_head(&self, id: NodeId) -> Option<(u64, bool)> {
        if self.base_only_node(id) {
            return self.base.node_live(id).then(|| (self.base.ts(), false));
        }
        self.node_entry(id)?
            .versions
            .last()
            .map(|v| (v.stamp, v.data.is_none()))
    }

    pub fn rel_head(&self, id: RelId) -> Option<(u64, bool)> {
        if self.base_only_rel(id) {
            return self.base.rel_live(id).then(|| (self.base.ts(), false));
        }
        self.rel_entry(id)?
            .versions
            .last()
            .map(|v| (v.stamp, v.data.is_none()))
    }

    /// Every relationship ever attached to `id` in one direction (visible or not): the base
    /// CSR list (grouped by type), then those created since, in creation order.
    pub fn adjacent(&self, id: NodeId, outgoing: bool) -> impl Iterator<Item = RelId> + '_ {
        let base = (id < self.base.node_slots()).then(|| self.base.adjacent(id, outgoing));
        let delta =
            self.node_entry(id)
                .map_or(&[][..], |e| if outgoing { &e.out[..] } else { &e.inc[..] });
        base.into_iter().flatten().chain(delta.iter().copied())
    }

    /// The relationships attached to `id` in one direction since the base (visible or not),
    /// in creation order: `adjacent` without the base list.
    pub fn delta_adjacent(&self, id: NodeId, outgoing: bool) -> &[RelId] {
        self.node_entry(id)
            .map_or(&[][..], |e| if outgoing { &e.out[..] } else { &e.inc[..] })
    }

    /// Node `id`'s base list in one direction with its neighbour columns (format 3; `None`
    /// for an older image or a node past the image's).
    pub fn base_list(&self, id: NodeId, outgoing: bool) -> Option<AdjList<'_>> {
        self.base.adj_list(id, outgoing)
    }

    /// Whether some base relationship has a delta entry (written, or replayed, since open).
    /// While none has, every entry of a base list is a relationship live at C that nobody
    /// changed: visible to every snapshot, its other end and type as the image has them.
    pub fn base_rels_written(&self) -> bool {
        !self.rel_marks.0.is_empty()
    }

    /// Format 3: calls `f(rel, other)` for each relationship of node `id`'s base list in one
    /// direction with a type in `types` (any when empty) that `vis` sees, ascending type,
    /// then id. Returns false, calling nothing, when the image has no neighbour columns (the
    /// caller reads `adjacent` and `rel_step`); true with no calls for a node past the
    /// image's. An entry nobody wrote since open is live at C (the writer lists only those)
    /// and is taken from the columns; one with a delta entry from its versions.
    pub fn base_steps(
        &self,
        id: NodeId,
        outgoing: bool,
        types: &[TypeId],
        vis: Visibility,
        mut f: impl FnMut(RelId, NodeId),
    ) -> bool {
        if id >= self.base.node_slots() {
            return true;
        }
        let Some(list) = self.base.adj_list(id, outgoing) else {
            return false;
        };
        let written = self.base_rels_written();
        list.wanted(types, |i, j| {
            for (r, o) in list.rels(i, j).zip(list.nbrs(i, j)) {
                if written && self.rel_marks.get(r) {
                    // Its type never changes; its visibility is in its versions.
                    if let Some((o, _)) = self.rel_step(r, vis, outgoing) {
                        f(r, o);
                    }
                } else {
                    f(r, o);
                }
            }
        });
        true
    }

    /// An upper bound of `adjacent(id, outgoing).count()`, in O(1).
    pub fn degree_bound(&self, id: NodeId, outgoing: bool) -> usize {
        let base = if id < self.base.node_slots() {
            self.base.degree(id, outgoing)
        } else {
            0
        };
        base + self
            .node_entry(id)
            .map_or(0, |e| if outgoing { e.out.len() } else { e.inc.len() })
    }

    /// Versions held in the delta (base-only entities hold none).
    pub fn version_count(&self) -> usize {
        self.base_nodes
            .values()
            .chain(self.nodes.iter())
            .map(|n| n.versions.len())
            .sum::<usize>()
            + self
                .base_rels
                .values()
                .chain(self.rels.iter())
                .map(|r| r.versions.len())
                .sum::<usize>()
    }

    /// Every node that has had `label` in some version (the base image's or one in memory),
    /// ascending, each once: a superset of the nodes with the label at any snapshot, which
    /// callers filter by visibility and the label.
    pub fn label_members(&self, label: LabelId) -> LabelMembers<'_> {
        LabelMembers {
            base: self.base.label_nodes(label).peekable(),
            delta: self.by_label.get(&label).map(|s| s.iter().peekable()),
        }
    }

    /// The nodes visible at `vis` that have `label`, ascending. A base-only node on the
    /// image's list of the label is taken as it is (the list holds exactly the nodes live
    /// at C with the label, and nobody has written it since): no read of its flags or
    /// labels. Every other candidate is checked.
    pub fn nodes_with_label(&self, label: LabelId, vis: Visibility) -> Vec<NodeId> {
        let ok = |id: NodeId| self.node(id, vis).is_some_and(|n| n.has_label(label));
        let mut out = Vec::new();
        let mut delta = self.by_label.get(&label).map(|s| s.iter().peekable());
        for b in self.base.label_nodes(label) {
            if let Some(d) = delta.as_mut() {
                while let Some(&x) = d.peek().filter(|&&x| x < b) {
                    d.next();
                    if ok(x) {
                        out.push(x);
                    }
                }
                if d.peek() == Some(&b) {
                    d.next();
                }
            }
            if self.base_only_node(b) || ok(b) {
                out.push(b);
            }
        }
        if let Some(d) = delta {
            out.extend(d.filter(|&x| ok(x)));
        }
        out
    }

    /// The base nodes written since open (those with a delta entry), ascending: with the
    /// nodes created since, every node whose state may differ from the image's.
    pub fn written_base_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        let slots = self.base.node_slots();
        self.node_marks
            .0
            .iter()
            .enumerate()
            .flat_map(|(w, &bits)| {
                let mut bits = bits;
                std::iter::from_fn(move || {
                    (bits != 0).then(|| {
                        let b = bits.trailing_zeros() as u64;
                        bits &= bits - 1;
                        w as u64 * 64 + b
                    })
                })
            })
            .take_while(move |&id| id < slots)
    }

    /// Files a format-1 image's label lists (gathered by the loader), ascending ids.
    pub fn set_base_labels(&mut self, label: LabelId, ids: Vec<NodeId>) {
        self.by_label.insert(label, IdSet::from_ascending(ids));
    }

    pub fn note_labels(&mut self, id: NodeId, labels: &[LabelId]) {
        for &l in labels {
            self.by_label.entry(l).or_default().insert(id);
        }
    }

    /// Files a newly installed node version in the label set and the indexes.
    pub fn note_node(&mut self, id: NodeId, d: &NodeData) {
        self.note_labels(id, &d.labels);
        self.schema.note(id, d);
    }

    /// Appends a node created since the base; returns its id.
    pub fn push_node(&mut self, e: NodeEntry) -> NodeId {
        let id = self.node_slots();
        self.nodes.push(e);
        id
    }

    /// Appends a relationship created since the base and lists it at both ends; returns its
    /// id. Base endpoints are materialized (their new adjacency lives in the delta).
    pub fn push_rel(&mut self, e: RelEntry) -> RelId {
        let id = self.rel_slots();
        let (start, end) = (e.start, e.end);
        self.rels.push(e);
        if let Some(n) = self.materialize_node(start) {
            n.out.push(id);
        }
        if let Some(n) = self.materialize_node(end) {
            n.inc.push(id);
        }
        id
    }

    /// Bulk import: appends nodes and relationships created since the base (ids from
    /// `node_slots()` / `rel_slots()` on), the caller filing labels, indexes and adjacency.
    pub fn new_nodes_mut(&mut self) -> &mut Vec<NodeEntry> {
        &mut self.nodes
    }

    pub fn new_rels_mut(&mut self) -> &mut Vec<RelEntry> {
        &mut self.rels
    }

    /// Index entries `(value, node)` of `(label, key)` over every version in memory and every
    /// base-only node.
    fn index_entries(&self, label: LabelId, key: KeyId) -> Vec<(Value, NodeId)> {
        let mut out = Vec::new();
        for id in self.label_members(label) {
            if self.base_only_node(id) {
                let n = NodeRef::Base(&self.base, id);
                if self.base.node_live(id) && n.has_label(label) {
                    if let Some(v) = n.prop(key) {
                        out.push((v.into_owned(), id));
                    }
                }
                continue;
            }
            let Some(e) = self.node_entry(id) else {
                continue;
            };
            for d in e.versions.iter().filter_map(|v| v.data.as_ref()) {
                if d.labels.binary_search(&label).is_ok() {
                    if let Some(v) = prop_get(&d.props, key) {
                        out.push((v.clone(), id));
                    }
                }
            }
        }
        out
    }

    /// Adds an index definition, building its contents from every version in memory and the
    /// base image.
    pub fn add_index(&mut self, def: IndexDef) {
        let entries = if self.schema.contents(def.label, def.key).is_some()
            || self.schema.has_prebuilt(def.label, def.key)
        {
            Vec::new()
        } else {
            self.index_entries(def.label, def.key)
        };
        self.schema.add(def, entries);
    }

    /// Applies the base image's schema definitions (right after `set_base`, before any log
    /// replay) with index contents `built` from the base: read in place from its index
    /// section, or gathered while it was checked. With nothing but the base in the graph,
    /// either is exactly what `index_entries` would gather.
    /// Contents no definition took are dropped.
    pub fn apply_base_schema(
        &mut self,
        catalog: &Catalog,
        ts: u64,
        schema: Vec<Change>,
        built: HashMap<(LabelId, KeyId), PropIndex>,
    ) -> Result<()> {
        self.schema.set_prebuilt(built);
        let r = self.apply(catalog, ts, schema);
        self.schema.set_prebuilt(HashMap::new());
        r
    }

    /// Nodes visible at `vis` with `label` whose `key` value lies in `range`, ascending id;
    /// `None` when no index on `(label, key)` is usable at `vis`'s snapshot.
    pub fn index_seek(
        &self,
        label: LabelId,
        key: KeyId,
        range: &KeyRange,
        vis: Visibility,
    ) -> Option<Vec<NodeId>> {
        let idx = self.schema.usable(label, key, vis.snapshot)?;
        // A base node without a delta entry needs no check: its only version is the
        // base's, visible to every snapshot, and every entry filed for it came from that
        // version (installing any other version materializes the node first), so it is
        // live, has `label`, and its `key` value is the one filed under a key in `range`.
        let matches = |id: NodeId| {
            self.base_only_node(id)
                || self.node(id, vis).is_some_and(|n| {
                    n.has_label(label) && n.prop(key).is_some_and(|v| range.contains(&v))
                })
        };
        // Candidates from the base image are already a vector of our own: filtered in
        // place, a seek allocates once, not twice.
        Some(match idx.candidates(range) {
            Cow::Owned(mut ids) => {
                ids.retain(|&id| matches(id));
                ids
            }
            Cow::Borrowed(ids) => {
                let mut out = Vec::with_capacity(ids.len());
                out.extend(ids.iter().copied().filter(|&id| matches(id)));
                out
            }
        })
    }

    /// Starts loading what an equality seek of the `(label, key)` index for `v` reads
    /// first, whether or not the index is usable by a given snapshot: a hint that changes
    /// no result (see `PropIndex::prefetch_eq`).
    pub fn prefetch_index_eq(&self, label: LabelId, key: KeyId, v: &Value) {
        if let Some(idx) = self.schema.contents(label, key) {
            idx.prefetch_eq(v);
        }
    }

    /// The slot for node `id` during replay: a base node's materialized entry, or a new slot,
    /// grown to. A base slot that is not live gets an empty entry: its creator had the id
    /// but had not committed at C, and the log creates it.
    fn ensure_node_slot(&mut self, id: NodeId) -> Result<&mut NodeEntry> {
        let b = self.base.node_slots();
        if id < b {
            if self.materialize_node(id).is_none() {
                self.node_marks.set(id);
                self.base_nodes.entry(id).or_default();
            }
            return self
                .base_nodes
                .get_mut(&id)
                .ok_or_else(|| Error::new(ErrorKind::Internal, "a materialized node vanished"));
        }
        let idx = usize::try_from(id - b)
            .map_err(|_| Error::corrupt(format!("node id {id} is out of range")))?;
        if idx >= self.nodes.len() {
            self.nodes.resize_with(idx + 1, NodeEntry::default);
        }
        Ok(&mut self.nodes[idx])
    }

    /// Recovery: applies one committed transaction's changes at timestamp `ts`. Takes the
    /// changes by value: their labels and properties move into the new versions uncopied.
    pub fn apply(&mut self, catalog: &Catalog, ts: u64, changes: Vec<Change>) -> Result<()> {
        for change in changes {
            match change {
                Change::DefineLabel(id, name) => catalog.labels.define(id, &name)?,
                Change::DefineRelType(id, name) => catalog.rel_types.define(id, &name)?,
                Change::DefineKey(id, name) => catalog.keys.define(id, &name)?,
                Change::PutNode { id, labels, props } => {
                    let data = NodeData { labels, props };
                    self.note_node(id, &data);
                    let e = self.ensure_node_slot(id)?;
                    e.versions.push(Version {
                        stamp: ts,
                        data: Some(data),
                    });
                }
                Change::DeleteNode(id) => {
                    let e = self.ensure_node_slot(id)?;
                    e.versions.push(Version {
                        stamp: ts,
                        data: None,
                    });
                }
                Change::PutRel {
                    id,
                    rel_type,
                    start,
                    end,
                    props,
                } => {
                    let version = Version {
                        stamp: ts,
                        data: Some(RelData { props }),
                    };
                    if let Some(e) = self.materialize_rel(id) {
                        if !e.versions.is_empty() {
                            e.versions.push(version);
                            continue;
                        }
                    }
                    let entry = RelEntry {
                        start,
                        end,
                        rel_type,
                        versions: VersionChain::one(version),
                    };
                    let b = self.base.rel_slots();
                    if id < b {
                        // A slot the image holds as not live: its creator had the id but had
                        // not committed at C (or rolled back); it committed after C.
                        self.rel_marks.set(id);
                        self.base_rels.insert(id, entry);
                    } else {
                        let idx = usize::try_from(id - b).map_err(|_| {
                            Error::corrupt(format!("relationship id {id} is out of range"))
                        })?;
                        if idx >= self.rels.len() {
                            self.rels.resize_with(idx + 1, || RelEntry {
                                start: 0,
                                end: 0,
                                rel_type: 0,
                                versions: VersionChain::Empty,
                            });
                        }
                        self.rels[idx] = entry;
                    }
                    self.ensure_node_slot(start)?.out.push(id);
                    self.ensure_node_slot(end)?.inc.push(id);
                }
                Change::CreateIndex {
                    name,
                    label,
                    key,
                    unique,
                } => {
                    // Replay is idempotent: the same definition again is a no-op.
                    if let Some(d) = self.schema.def(&name) {
                        if (d.label, d.key, d.unique) == (label, key, unique) {
                            continue;
                        }
                        return Err(Error::corrupt(format!(
                            "the log defines index or constraint '{name}' twice, differently"
                        )));
                    }
                    self.add_index(IndexDef {
                        name,
                        label,
                        key,
                        unique,
                        created_ts: ts,
                    });
                }
                Change::DropIndex { name } => {
                    // Idempotent: dropping what is already gone is a no-op.
                    self.schema.remove(&name);
                }
                Change::DeleteRel(id) => {
                    let e = self.materialize_rel(id).ok_or_else(|| {
                        Error::corrupt(format!(
                            "the log deletes relationship {id}, which it never created"
                        ))
                    })?;
                    e.versions.push(Version {
                        stamp: ts,
                        data: None,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Reads one property from a sorted property list.
pub fn prop_get(props: &PropList, key: KeyId) -> Option<&Value> {
    props
        .binary_search_by_key(&key, |(k, _)| *k)
        .ok()
        .map(|i| &props[i].1)
}

/// Sets (or with `Null`, removes) one property in a sorted list; returns whether it changed.
pub fn prop_set(props: &mut PropList, key: KeyId, value: Value) -> bool {
    match props.binary_search_by_key(&key, |(k, _)| *k) {
        Ok(i) if value.is_null() => {
            props.remove(i);
            true
        }
        Ok(i) => {
            if props[i].1 == value {
                false
            } else {
                props[i].1 = value;
                true
            }
        }
        Err(_) if value.is_null() => false,
        Err(i) => {
            props.insert(i, (key, value));
            true
        }
    }
}

/// The merge of a label's base list and delta set (see `GraphData::label_members`).
pub struct LabelMembers<'a> {
    base: std::iter::Peekable<IdIter<'a>>,
    delta: Option<std::iter::Peekable<super::id_set::Iter<'a>>>,
}

impl Iterator for LabelMembers<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let Some(delta) = self.delta.as_mut() else {
            return self.base.next();
        };
        match (self.base.peek(), delta.peek()) {
            (Some(&b), Some(&d)) if b < d => self.base.next(),
            (Some(&b), Some(&d)) if b > d => delta.next(),
            (Some(_), Some(_)) => {
                self.base.next();
                delta.next()
            }
            (Some(_), None) => self.base.next(),
            (None, _) => delta.next(),
        }
    }
}

/// The graph: catalog plus versioned data behind one short-held latch. Latches are held only
/// for the duration of a single primitive read or write, never across a query.
#[derive(Default)]
pub struct Graph {
    pub catalog: Catalog,
    data: RwLock<GraphData>,
    /// Damage a read met in the base image since open (outside the latch: every statement
    /// and commit checks it, see `storage::blocks`).
    pub damage: Arc<BaseDamage>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    pub fn read(&self) -> RwLockReadGuard<'_, GraphData> {
        // Writers complete each primitive change before releasing the latch and never panic
        // midway on valid states; a poisoned latch is therefore still consistent.
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, GraphData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Total versions held in memory (for GC tests and statistics); walks the delta.
    pub fn version_count(&self) -> usize {
        self.read().version_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_follows_snapshot_and_own_writes() {
        let own = UNCOMMITTED | 7;
        let vis = Visibility { snapshot: 5, own };
        assert!(vis.sees(5));
        assert!(!vis.sees(6));
        assert!(vis.sees(own));
        assert!(!vis.sees(UNCOMMITTED | 8));
        let chain = vec![
            Version {
                stamp: 3,
                data: Some(1),
            },
            Version {
                stamp: 6,
                data: Some(2),
            },
            Version {
                stamp: own,
                data: None,
            },
        ];
        assert!(visible(&chain, vis).unwrap().data.is_none());
        let other = Visibility {
            snapshot: 5,
            own: UNCOMMITTED | 9,
        };
        assert_eq!(visible(&chain, other).unwrap().data, Some(1));
        let later = Visibility {
            snapshot: 10,
            own: UNCOMMITTED | 9,
        };
        assert_eq!(visible(&chain, later).unwrap().data, Some(2));
    }

    #[test]
    fn prop_set_keeps_the_list_sorted_and_reports_changes() {
        let mut p: PropList = vec![];
        assert!(prop_set(&mut p, 5, Value::Int(1)));
        assert!(prop_set(&mut p, 2, Value::Int(2)));
        assert!(!prop_set(&mut p, 2, Value::Int(2)));
        assert_eq!(p.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![2, 5]);
        assert!(prop_set(&mut p, 5, Value::Null));
        assert!(!prop_set(&mut p, 9, Value::Null));
        assert_eq!(prop_get(&p, 2), Some(&Value::Int(2)));
        assert_eq!(prop_get(&p, 5), None);
    }
}
