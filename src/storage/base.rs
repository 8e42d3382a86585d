//! The base image read in place: the committed graph at the image's timestamp C, straight
//! from the mapped file (see `checkpoint::format` for the layout).
//!
//! A `BaseView` is built only by `checkpoint::load`. A format-1 image is checked whole
//! there (checksums, column sizes, flags, endpoints, offsets, labels, property encodings and
//! the adjacency lists). A format-2 or later image is checked at open only as far as its header,
//! section table, column sizes, catalog and block checksum list; every other byte is
//! verified against its block's checksum the first time an accessor reads it
//! (`storage::blocks`), and data that passes its checksum was written by our writer, which
//! writes only well-formed data. A block that fails reads as empty and marks the graph
//! damaged, which fails the statement (see `blocks`). Accessors never index unchecked: a
//! range that is out of bounds reads as empty rather than panicking (the full structure
//! check is `checkpoint::check`: `CHECK`, `graphdb_check`, the `verify_on_open` option).
//!
//! Every entity in the view is committed at C, and every snapshot taken after open is at or
//! above C, so a base entity with no delta entry is visible to every reader (see `graph`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::base_columns::{self, ColumnDir, ImageInts};
use super::blocks::Blocks;
use super::change::PropList;
use super::{KeyId, LabelId, NodeId, RelId, TypeId};
use crate::checkpoint::format::{self, kind, TypeWord};
use crate::checkpoint::mmap::BaseBytes;
use crate::value::Value;
use crate::wal::codec;

/// A checked base image, or the empty one (no base yet).
pub struct BaseView {
    bytes: BaseBytes,
    /// The image's file (for messages and the explicit check).
    path: PathBuf,
    ts: u64,
    node_slots: u64,
    rel_slots: u64,
    /// `(offset, length)` of each section by kind.
    sections: [(usize, usize); kind::END as usize],
    blocks: Blocks,
    /// Bytes per value of the neighbour columns and type runs; 0: the image has none
    /// (format 1 or 2).
    nbr_w: usize,
    /// Bytes per relationship id in the adjacency lists (8 before format 3, then `nbr_w`).
    rel_w: usize,
    /// The integer property columns the image holds (`base_columns`), ascending key.
    columns: Vec<ColumnDir>,
}

impl Default for BaseView {
    fn default() -> BaseView {
        BaseView::empty()
    }
}

impl std::fmt::Debug for BaseView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaseView")
            .field("ts", &self.ts)
            .field("node_slots", &self.node_slots)
            .field("rel_slots", &self.rel_slots)
            .finish()
    }
}

fn u32_in(col: &[u8], i: u64) -> Option<u32> {
    let at = usize::try_from(i).ok()?.checked_mul(4)?;
    let b = col.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Little-endian u64 ids packed in a byte slice.
pub type IdIter<'a> = std::iter::Map<std::slice::ChunksExact<'a, u8>, fn(&[u8]) -> u64>;

fn ids(bytes: &[u8]) -> IdIter<'_> {
    fn id(c: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        u64::from_le_bytes(a)
    }
    bytes.chunks_exact(8).map(id as fn(&[u8]) -> u64)
}

/// Little-endian ids `w` bytes wide (4 or 8) packed in a byte slice.
fn ids_of_width(bytes: &[u8], w: usize) -> IdIter<'_> {
    fn id32(c: &[u8]) -> u64 {
        let mut a = [0u8; 4];
        a.copy_from_slice(c);
        u64::from(u32::from_le_bytes(a))
    }
    if w == 4 {
        bytes.chunks_exact(4).map(id32 as fn(&[u8]) -> u64)
    } else {
        ids(bytes)
    }
}

impl BaseView {
    /// No base image: no entities.
    pub fn empty() -> BaseView {
        BaseView {
            bytes: BaseBytes::Read(Vec::new()),
            path: PathBuf::new(),
            ts: 0,
            node_slots: 0,
            rel_slots: 0,
            sections: [(0, 0); kind::END as usize],
            blocks: Blocks::all_checked(),
            nbr_w: 0,
            rel_w: 8,
            columns: Vec::new(),
        }
    }

    /// Wraps an image. Only the loader calls this, after checking what `blocks` does not
    /// verify at first use.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        bytes: BaseBytes,
        path: &Path,
        version: u32,
        ts: u64,
        node_slots: u64,
        rel_slots: u64,
        sections: [(usize, usize); kind::END as usize],
        blocks: Blocks,
    ) -> BaseView {
        let nbr_w = if version >= format::NBRS_SINCE {
            format::nbr_width(node_slots, rel_slots)
        } else {
            0
        };
        BaseView {
            nbr_w,
            rel_w: if nbr_w == 0 { 8 } else { nbr_w },
            bytes,
            path: path.to_owned(),
            ts,
            node_slots,
            rel_slots,
            sections,
            blocks,
            columns: Vec::new(),
        }
    }

    /// The view with the integer columns `columns` (from `base_columns::parse_directory` on
    /// this image's directory).
    pub(crate) fn with_columns(mut self, columns: Vec<ColumnDir>) -> BaseView {
        self.columns = columns;
        self
    }

    /// Whether the image holds an integer column of node property `key`.
    pub fn has_int_column(&self, key: KeyId) -> bool {
        self.columns.binary_search_by_key(&key, |c| c.key).is_ok()
    }

    /// The image's integer column of node property `key`, verified whole here (so reads
    /// from it need no check); `None` when the image has none, or when a block of it is
    /// damaged (recorded, see `blocks`).
    pub fn int_column(&self, key: KeyId) -> Option<ImageInts<'_>> {
        let i = self.columns.binary_search_by_key(&key, |c| c.key).ok()?;
        let d = self.columns[i];
        let ((p, pl), (v, vl)) = base_columns::extents(&d, self.node_slots);
        let k = kind::PROP_COLUMNS;
        let present = self.get(k, p, p + pl);
        let values = self.get(k, v, v + vl);
        if present.len() != pl || values.len() != vl || pl == 0 {
            return None;
        }
        Some(ImageInts::new(&d, self.node_slots, present, values))
    }

    /// The whole image (for the explicit full check).
    pub(crate) fn image(&self) -> &[u8] {
        &self.bytes
    }

    /// The image's file (empty for no image).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn blocks(&self) -> &Blocks {
        &self.blocks
    }

    /// The image's timestamp C.
    pub fn ts(&self) -> u64 {
        self.ts
    }

    pub fn node_slots(&self) -> u64 {
        self.node_slots
    }

    pub fn rel_slots(&self) -> u64 {
        self.rel_slots
    }

    /// Bytes `[a, b)` of section `k`, verified (empty when out of range, or when they lie
    /// in a damaged block: the damage is then recorded, see `blocks`). Every read of the
    /// image's sections goes through here.
    #[inline]
    fn get(&self, k: u32, a: usize, b: usize) -> &[u8] {
        let (o, l) = self.sections[k as usize];
        if a >= b || b > l || !self.blocks.ensure(&self.bytes, k, (o, l), a, b) {
            return &[];
        }
        self.bytes.get(o + a..o + b).unwrap_or(&[])
    }

    /// Entry `i` of fixed-width column `k` (`W` bytes per entry).
    #[inline]
    fn entry<const W: usize>(&self, k: u32, i: u64) -> Option<[u8; W]> {
        let at = usize::try_from(i).ok()?.checked_mul(W)?;
        self.get(k, at, at.checked_add(W)?).try_into().ok()
    }

    fn u64_of(&self, k: u32, i: u64) -> Option<u64> {
        self.entry::<8>(k, i).map(u64::from_le_bytes)
    }

    /// Bytes `[a, b)` of the property-index section, verified as every read (empty when
    /// the image has none, or out of range); read through `base_index::BaseIndex`.
    pub(crate) fn index_bytes(&self, a: usize, b: usize) -> &[u8] {
        self.get(kind::PROP_INDEXES, a, b)
    }

    /// Entity `i`'s `[start, end)` in an offsets column (`None` when out of range).
    fn range(&self, offsets: u32, i: u64) -> Option<(usize, usize)> {
        let at = usize::try_from(i).ok()?.checked_mul(8)?;
        let pair = self.get(offsets, at, at.checked_add(16)?);
        let a = usize::try_from(u64::from_le_bytes(pair.get(..8)?.try_into().ok()?)).ok()?;
        let b = usize::try_from(u64::from_le_bytes(pair.get(8..)?.try_into().ok()?)).ok()?;
        (a <= b).then_some((a, b))
    }

    fn slice(&self, offsets: u32, heap: u32, i: u64, unit: usize) -> &[u8] {
        self.range(offsets, i)
            .and_then(|(a, b)| Some(self.get(heap, a.checked_mul(unit)?, b.checked_mul(unit)?)))
            .unwrap_or(&[])
    }

    pub fn node_live(&self, id: NodeId) -> bool {
        self.entry::<1>(kind::NODE_FLAGS, id) == Some([1])
    }

    pub fn rel_live(&self, id: RelId) -> bool {
        self.entry::<1>(kind::REL_FLAGS, id) == Some([1])
    }

    /// The image's nodes with `label`, ascending (format 2; empty for a format-1 image,
    /// whose label lists the loader gathers into the delta's).
    pub fn label_nodes(&self, label: LabelId) -> IdIter<'_> {
        ids(self.slice(kind::LABEL_OFFSETS, kind::LABEL_NODES, u64::from(label), 8))
    }

    /// Node `id`'s labels, ascending (empty for a slot that is not live).
    pub fn labels(&self, id: NodeId) -> impl Iterator<Item = LabelId> + '_ {
        let raw = self.slice(kind::NODE_LABEL_OFFSETS, kind::NODE_LABELS, id, 4);
        raw.chunks_exact(4).map(|c| {
            let mut a = [0u8; 4];
            a.copy_from_slice(c);
            u32::from_le_bytes(a)
        })
    }

    pub fn has_label(&self, id: NodeId, label: LabelId) -> bool {
        let raw = self.slice(kind::NODE_LABEL_OFFSETS, kind::NODE_LABELS, id, 4);
        let n = (raw.len() / 4) as u64;
        // Labels are sorted per node (checked at open): binary search in place.
        let (mut lo, mut hi) = (0u64, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match u32_in(raw, mid) {
                Some(l) if l == label => return true,
                Some(l) if l < label => lo = mid + 1,
                Some(_) => hi = mid,
                None => return false,
            }
        }
        false
    }

    /// Node `id`'s encoded property list (the WAL codec's encoding; empty when not live).
    pub fn node_props(&self, id: NodeId) -> Props<'_> {
        Props::Encoded(self.slice(kind::NODE_PROP_OFFSETS, kind::NODE_PROPS, id, 1))
    }

    /// `(start, end, type)` of relationship `id` (meaningful only when live).
    pub fn rel_shape(&self, id: RelId) -> (NodeId, NodeId, TypeId) {
        (self.rel_start(id), self.rel_end(id), self.rel_type(id))
    }

    pub fn rel_start(&self, id: RelId) -> NodeId {
        self.u64_of(kind::REL_START, id).unwrap_or(0)
    }

    pub fn rel_end(&self, id: RelId) -> NodeId {
        self.u64_of(kind::REL_END, id).unwrap_or(0)
    }

    pub fn rel_type(&self, id: RelId) -> TypeId {
        self.entry::<4>(kind::REL_TYPE, id)
            .map(u32::from_le_bytes)
            .unwrap_or(0)
    }

    pub fn rel_props(&self, id: RelId) -> Props<'_> {
        Props::Encoded(self.slice(kind::REL_PROP_OFFSETS, kind::REL_PROPS, id, 1))
    }

    /// Node `id`'s outgoing (or incoming) relationships in the image: grouped by type,
    /// ascending id within a type.
    pub fn adjacent(&self, id: NodeId, outgoing: bool) -> IdIter<'_> {
        let (offs, list) = if outgoing {
            (kind::OUT_OFFSETS, kind::OUT_RELS)
        } else {
            (kind::IN_OFFSETS, kind::IN_RELS)
        };
        ids_of_width(self.slice(offs, list, id, self.rel_w), self.rel_w)
    }

    /// Node `id`'s list in one direction with its neighbours and type runs (format 3; `None`
    /// for an older image or an id past the image's nodes). Reads the offsets and the type
    /// word with the neighbours (one range); relationship ids only when asked for.
    pub fn adj_list(&self, id: NodeId, outgoing: bool) -> Option<AdjList<'_>> {
        if self.nbr_w == 0 || id >= self.node_slots {
            return None;
        }
        let (offs, rels_kind, nbrs_kind, runs_kind) = format::adjacency_kinds(outgoing);
        let w = self.nbr_w;
        let (a, b) = self.range(offs, id).unwrap_or((0, 0));
        let n = usize::try_from(id).ok()?;
        // Node n's type word and neighbours: values [a + n, b + n + 1) (see `format`).
        let nbrs = a
            .checked_add(n)
            .and_then(|x| x.checked_mul(w))
            .zip(b.checked_add(n + 1).and_then(|x| x.checked_mul(w)))
            .map_or(&[][..], |(x, y)| self.get(nbrs_kind, x, y));
        // A damaged range reads as empty (and is recorded): an empty list.
        let len = if nbrs.len() == (b - a + 1) * w {
            b - a
        } else {
            0
        };
        Some(AdjList {
            view: self,
            rels_kind,
            runs_kind,
            start: a,
            len,
            nbrs,
            w,
        })
    }

    pub fn degree(&self, id: NodeId, outgoing: bool) -> usize {
        let offs = if outgoing {
            kind::OUT_OFFSETS
        } else {
            kind::IN_OFFSETS
        };
        self.range(offs, id).map_or(0, |(a, b)| b - a)
    }

    /// Bytes of the image held (mapped or read).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.node_slots == 0 && self.rel_slots == 0
    }
}

/// One node's adjacency list in one direction of a format-3 image (`BaseView::adj_list`):
/// entries by index, grouped by type (ascending type, then relationship id).
pub struct AdjList<'a> {
    view: &'a BaseView,
    rels_kind: u32,
    runs_kind: u32,
    /// The list's first entry in the relationship list section.
    start: usize,
    len: usize,
    /// The type word, then `len` neighbours.
    nbrs: &'a [u8],
    w: usize,
}

impl<'a> AdjList<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The other ends of entries `[i, j)`.
    pub fn nbrs(&self, i: usize, j: usize) -> IdIter<'a> {
        let (i, j) = (i.min(self.len), j.min(self.len));
        let (x, y) = ((i + 1) * self.w, (j + 1) * self.w);
        ids_of_width(self.nbrs.get(x..y).unwrap_or(&[]), self.w)
    }

    /// The relationship ids of entries `[i, j)` (read from the image only now).
    pub fn rels(&self, i: usize, j: usize) -> IdIter<'a> {
        let (i, j) = (i.min(self.len), j.min(self.len));
        if i >= j {
            return ids(&[]);
        }
        let w = self.view.rel_w;
        let (x, y) = ((self.start + i) * w, (self.start + j) * w);
        ids_of_width(self.view.get(self.rels_kind, x, y), w)
    }

    /// Calls `f(i, j)` for each range `[i, j)` of entries whose type is in `types` (any type
    /// when empty), ascending; each range is one type run (so ascending relationship id).
    pub fn wanted(&self, types: &[TypeId], mut f: impl FnMut(usize, usize)) {
        if self.len == 0 {
            return;
        }
        let word = format::uint_at(self.nbrs, self.w, 0).unwrap_or(0);
        let first = match TypeWord::decode(word, self.w) {
            TypeWord::One(t) => {
                if types.is_empty() || types.contains(&t) {
                    f(0, self.len);
                }
                return;
            }
            TypeWord::Runs(ix) => ix,
        };
        let w = self.w;
        let mut at = 0usize;
        let first = usize::try_from(first).unwrap_or(usize::MAX);
        // Each run ends past the last (the writer's; checked by the full check): at most
        // `len` of them, whatever the bytes say.
        for ix in (first..).take(self.len) {
            let Some(from) = ix.checked_mul(2 * w) else {
                return;
            };
            let run = self.view.get(self.runs_kind, from, from + 2 * w);
            let (Some(t), Some(end)) = (format::uint_at(run, w, 0), format::uint_at(run, w, 1))
            else {
                return;
            };
            let end = usize::try_from(end).unwrap_or(usize::MAX).min(self.len);
            if end <= at {
                return;
            }
            if types.is_empty() || u32::try_from(t).is_ok_and(|t| types.contains(&t)) {
                f(at, end);
            }
            at = end;
            if at == self.len {
                return;
            }
        }
    }
}

/// A property list: decoded in memory (delta versions) or encoded in the base image.
#[derive(Debug, Clone, Copy)]
pub enum Props<'a> {
    List(&'a PropList),
    Encoded(&'a [u8]),
}

impl<'a> Props<'a> {
    /// One property; from the image only that value is decoded.
    pub fn get(&self, key: KeyId) -> Option<Cow<'a, Value>> {
        match *self {
            Props::List(p) => super::graph::prop_get(p, key).map(Cow::Borrowed),
            Props::Encoded(b) if b.len() <= 1 => None,
            // Encodings are our writer's (checked whole at open for format 1, by block
            // checksum when first read for format 2); a failure cannot happen and reads as
            // absent.
            Props::Encoded(b) => codec::decode_prop(b, key).ok().flatten().map(Cow::Owned),
        }
    }

    /// The whole list, sorted by key.
    pub fn to_list(&self) -> Cow<'a, PropList> {
        match *self {
            Props::List(p) => Cow::Borrowed(p),
            Props::Encoded(b) if b.len() <= 1 => Cow::Owned(Vec::new()),
            Props::Encoded(b) => {
                Cow::Owned(codec::decode_props(b).map(|(p, _)| p).unwrap_or_default())
            }
        }
    }

    /// Appends the list in the codec's encoding (the image's bytes are copied as they are).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Props::List(p) => codec::encode_props(out, p),
            Props::Encoded([]) => codec::encode_props(out, &Vec::new()),
            Props::Encoded(b) => out.extend_from_slice(b),
        }
    }
}
