//! Per-query dense columns: one property of every node (indexed by node id), and "visible
//! with these labels" bitsets, gathered once at the snapshot of the running transaction when
//! a query touches a large share of the nodes. Random reads into a column replace a walk of
//! each node's encoded property list (two dependent misses and a decode per row).
//!
//! When the base image holds an integer column of the key (`storage::base_columns`), the
//! column is that one read in place, overlaid with the nodes that may differ from it at
//! the snapshot: the base nodes written since open and the nodes created since (with a
//! per-query bit per base slot marking the former). Base-only nodes cost nothing per node.
//! When those nodes are many (an eighth of the slots), or one holds another type, the
//! column is gathered node by node as without the image's.
//! Otherwise every node's value is gathered: an integer column is 8 bytes plus one bit per
//! node slot; a column that holds any other type is kept as values (the general case,
//! correct for any mix of types).

use std::cell::Cell;
use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::cypher::ExecControl;
use crate::error::Result;
use crate::storage::base::BaseView;
use crate::storage::base_columns::ImageInts;
use crate::storage::{KeyId, LabelId, NodeId};
use crate::txn::Transaction;
use crate::value::Value;

/// Nodes read per latch acquisition while a column is gathered.
const CHUNK: u64 = 1 << 16;

/// An image column is overlaid with the nodes that may differ from it only while they are
/// at most this fraction (1 / n) of the slots; past it the column is gathered node by node
/// (a hash map entry costs several times a dense slot).
const OVERLAY_SHARE: u64 = 8;

/// Integers with a presence bit (absent or null: no bit).
pub(crate) enum IntColumn<'b> {
    /// Gathered node by node.
    Dense { vals: Vec<i64>, present: Bits },
    /// The image's column, except for the nodes in `written` (base nodes written since
    /// open) and those past the image's slots, whose values are in `over`.
    Image {
        base: ImageInts<'b>,
        written: Bits,
        over: FxHashMap<NodeId, i64>,
    },
}

impl IntColumn<'_> {
    fn dense(slots: u64) -> Self {
        IntColumn::Dense {
            vals: vec![0; usize::try_from(slots).unwrap_or(0)],
            present: Bits::with_len(slots),
        }
    }

    #[inline(always)]
    pub fn get(&self, id: NodeId) -> Option<i64> {
        match self {
            IntColumn::Dense { vals, present } => {
                if present.get(id) {
                    vals.get(usize::try_from(id).ok()?).copied()
                } else {
                    None
                }
            }
            IntColumn::Image {
                base,
                written,
                over,
            } => {
                if id < base.slots() && !written.get(id) {
                    base.get(id)
                } else {
                    overlaid(over, id)
                }
            }
        }
    }
}

/// Out of line: the few nodes written since open, kept off the per-row path.
#[cold]
#[inline(never)]
fn overlaid(over: &FxHashMap<NodeId, i64>, id: NodeId) -> Option<i64> {
    over.get(&id).copied()
}

pub(crate) enum Column<'b> {
    Int(IntColumn<'b>),
    Any(Vec<Value>),
}

impl<'b> Column<'b> {
    pub fn value(&self, id: NodeId) -> Value {
        match self {
            Column::Int(c) => c.get(id).map_or(Value::Null, Value::Int),
            Column::Any(vs) => usize::try_from(id)
                .ok()
                .and_then(|i| vs.get(i))
                .cloned()
                .unwrap_or(Value::Null),
        }
    }

    pub fn ints(&self) -> Option<&IntColumn<'b>> {
        match self {
            Column::Int(c) => Some(c),
            Column::Any(_) => None,
        }
    }
}

/// A bit per node id.
#[derive(Default)]
pub(crate) struct Bits(pub(super) Vec<u64>);

impl Bits {
    pub fn with_len(n: u64) -> Bits {
        Bits(vec![0; usize::try_from(n.div_ceil(64)).unwrap_or(0)])
    }

    #[inline]
    pub fn get(&self, id: u64) -> bool {
        usize::try_from(id / 64)
            .ok()
            .and_then(|w| self.0.get(w))
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    pub fn set(&mut self, id: u64) {
        if let Some(w) = usize::try_from(id / 64)
            .ok()
            .and_then(|w| self.0.get_mut(w))
        {
            *w |= 1 << (id % 64);
        }
    }
}

/// The dense columns of one run, by property key.
#[derive(Default)]
pub(crate) struct Columns<'b>(HashMap<KeyId, Column<'b>>);

impl<'b> Columns<'b> {
    pub fn get(&self, key: KeyId) -> Option<&Column<'b>> {
        self.0.get(&key)
    }

    /// Gathers `key` of every node visible to `tx` (absent for the rest), on `threads`
    /// threads when more than one; `base` is the image under the graph (its columns are
    /// read in place).
    pub fn gather(
        &mut self,
        tx: &Transaction,
        base: Option<&'b BaseView>,
        key: KeyId,
        control: &ExecControl,
        threads: usize,
    ) -> Result<()> {
        if self.0.contains_key(&key) {
            return Ok(());
        }
        if let Some(col) = from_image(tx, base, key, control)? {
            IMAGE_COLUMNS.with(|c| c.set(c.get() + 1));
            self.0.insert(key, Column::Int(col));
            return Ok(());
        }
        if threads > 1 {
            if let Some(col) = gather_ints(tx, key, control, threads)? {
                self.0.insert(key, Column::Int(col));
                return Ok(());
            }
        }
        let Some(slots) = tx.read_view().map(|v| v.node_slots()) else {
            return Ok(());
        };
        let mut col = Column::Int(IntColumn::dense(slots));
        let mut start = 0;
        while start < slots {
            control.check()?;
            let Some(view) = tx.read_view() else {
                return Ok(());
            };
            let end = (start + CHUNK).min(slots);
            for id in start..end {
                let Some(v) = view.node(id).and_then(|n| n.prop(key)) else {
                    continue;
                };
                let at = id as usize;
                match (&mut col, v.as_ref()) {
                    (Column::Int(IntColumn::Dense { vals, present }), Value::Int(i)) => {
                        vals[at] = *i;
                        present.set(id);
                    }
                    (Column::Int(c), _) => {
                        // Another type: keep values from here on (the general column).
                        let mut vals: Vec<Value> = (0..slots).map(|j| c_value(c, j)).collect();
                        vals[at] = v.into_owned();
                        col = Column::Any(vals);
                    }
                    (Column::Any(vals), _) => vals[at] = v.into_owned(),
                }
            }
            start = end;
        }
        self.0.insert(key, col);
        Ok(())
    }
}

/// The integer column of `key`, its slot ranges read on `threads` threads; `None` when some
/// visible value is not an integer (the caller gathers the general column instead).
fn gather_ints<'b>(
    tx: &Transaction,
    key: KeyId,
    control: &ExecControl,
    threads: usize,
) -> Result<Option<IntColumn<'b>>> {
    let Some(src) = tx.view_source() else {
        return Ok(None);
    };
    let slots = src.view().node_slots();
    let n = usize::try_from(slots).unwrap_or(0);
    let mut vals = vec![0; n];
    let mut present = Bits::with_len(slots);
    // A few pieces per thread (balance), each a multiple of 64 slots: a piece owns whole
    // words of the presence bits.
    let chunk = n
        .div_ceil(threads * 4)
        .next_multiple_of(64)
        .clamp(4096, CHUNK as usize);
    let pieces: Vec<(u64, &mut [i64], &mut [u64])> = vals
        .chunks_mut(chunk)
        .zip(present.0.chunks_mut(chunk / 64))
        .enumerate()
        .map(|(i, (v, p))| ((i * chunk) as u64, v, p))
        .collect();
    let all_ints = super::par::each(threads, pieces, |(start, vals, present)| {
        control.check()?;
        let view = src.view();
        for (j, slot) in vals.iter_mut().enumerate() {
            let id = start + j as u64;
            let Some(v) = view.node(id).and_then(|n| n.prop(key)) else {
                continue;
            };
            let Value::Int(i) = v.as_ref() else {
                return Ok(false);
            };
            *slot = *i;
            present[j / 64] |= 1 << (j % 64);
        }
        Ok(true)
    })?;
    Ok(all_ints.then_some(IntColumn::Dense { vals, present }))
}

thread_local! {
    static IMAGE_COLUMNS: Cell<u64> = const { Cell::new(0) };
}

/// How many columns this thread has taken from the base image's integer columns (hidden:
/// tests).
#[doc(hidden)]
pub fn batch_image_columns() -> u64 {
    IMAGE_COLUMNS.with(|c| c.get())
}

/// The integer column of `key` as the image's column plus the nodes that may differ from
/// it (module comment); `None` when the image has no column of `key`, or one of those
/// nodes holds another type at the snapshot (the caller gathers node by node).
fn from_image<'b>(
    tx: &Transaction,
    base: Option<&'b BaseView>,
    key: KeyId,
    control: &ExecControl,
) -> Result<Option<IntColumn<'b>>> {
    let (Some(src), Some(image)) = (tx.view_source(), base) else {
        return Ok(None);
    };
    let Some(base) = image.int_column(key) else {
        return Ok(None);
    };
    let (written, slots) = {
        let view = src.view();
        if !std::ptr::eq(&**view.base(), image) {
            // Not the graph's image (it was replaced): gather node by node.
            return Ok(None);
        }
        // Marks are only ever set, and a write the snapshot sees marked its node before
        // the snapshot was taken: a node marked after this copy reads as the image says
        // at this snapshot.
        let written: Vec<NodeId> = view.written_base_nodes().collect();
        (written, view.node_slots())
    };
    let differ = (written.len() as u64).saturating_add(slots.saturating_sub(base.slots()));
    if differ.saturating_mul(OVERLAY_SHARE) > slots {
        // The overlay (a hash map entry per node) would cost more than a dense column.
        return Ok(None);
    }
    // Empty when nothing was written: the common case reads no bitmap at all.
    let mut bits = match written.last() {
        Some(&last) => Bits::with_len(last + 1),
        None => Bits::default(),
    };
    written.iter().for_each(|&id| bits.set(id));
    let mut over = FxHashMap::default();
    let mut todo = written.into_iter().chain(base.slots()..slots).peekable();
    while todo.peek().is_some() {
        control.check()?;
        let view = src.view();
        for id in todo.by_ref().take(CHUNK as usize) {
            match view.node(id).and_then(|n| n.prop(key)).as_deref() {
                None => {}
                Some(Value::Int(i)) => {
                    over.insert(id, *i);
                }
                Some(_) => return Ok(None),
            }
        }
    }
    Ok(Some(IntColumn::Image {
        base,
        written: bits,
        over,
    }))
}

fn c_value(c: &IntColumn<'_>, id: u64) -> Value {
    c.get(id).map_or(Value::Null, Value::Int)
}

/// Nodes visible to `tx` that carry every label in `labels` (non-empty), as a bitset.
pub(crate) fn label_bits(
    tx: &Transaction,
    labels: &[LabelId],
    control: &ExecControl,
) -> Result<Option<Bits>> {
    let Some((first, rest)) = labels.split_first() else {
        return Ok(None);
    };
    let ids = tx.scan_nodes_by_label(*first);
    let Some(slots) = tx.read_view().map(|v| v.node_slots()) else {
        return Ok(None);
    };
    let mut bits = Bits::with_len(slots);
    for chunk in ids.chunks(CHUNK as usize) {
        control.check()?;
        let Some(view) = tx.read_view() else {
            return Ok(None);
        };
        for &id in chunk {
            if rest.is_empty()
                || view
                    .node(id)
                    .is_some_and(|n| rest.iter().all(|&l| n.has_label(l)))
            {
                bits.set(id);
            }
        }
    }
    Ok(Some(bits))
}
