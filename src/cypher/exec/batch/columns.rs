//! Per-query dense columns: one property of every node (indexed by node id), and "visible
//! with these labels" bitsets, gathered once at the snapshot of the running transaction when
//! a query touches a large share of the nodes. Random reads into a column replace a walk of
//! each node's encoded property list (two dependent misses and a decode per row).
//!
//! Memory: an integer column is 8 bytes plus one bit per node slot; a column that holds any
//! other type is kept as values (the general case, correct for any mix of types).

use std::collections::HashMap;

use crate::cypher::ExecControl;
use crate::error::Result;
use crate::storage::{KeyId, LabelId, NodeId};
use crate::txn::Transaction;
use crate::value::Value;

/// Nodes read per latch acquisition while a column is gathered.
const CHUNK: u64 = 1 << 16;

/// Integers with a presence bit (absent or null: no bit).
pub(crate) struct IntColumn {
    vals: Vec<i64>,
    present: Bits,
}

impl IntColumn {
    #[inline]
    pub fn get(&self, id: NodeId) -> Option<i64> {
        if self.present.get(id) {
            self.vals.get(usize::try_from(id).ok()?).copied()
        } else {
            None
        }
    }
}

pub(crate) enum Column {
    Int(IntColumn),
    Any(Vec<Value>),
}

impl Column {
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

    pub fn ints(&self) -> Option<&IntColumn> {
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
pub(crate) struct Columns(HashMap<KeyId, Column>);

impl Columns {
    pub fn get(&self, key: KeyId) -> Option<&Column> {
        self.0.get(&key)
    }

    /// Gathers `key` of every node visible to `tx` (absent for the rest), on `threads`
    /// threads when more than one.
    pub fn gather(
        &mut self,
        tx: &Transaction,
        key: KeyId,
        control: &ExecControl,
        threads: usize,
    ) -> Result<()> {
        if self.0.contains_key(&key) {
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
        let n = usize::try_from(slots).unwrap_or(0);
        let mut col = Column::Int(IntColumn {
            vals: vec![0; n],
            present: Bits::with_len(slots),
        });
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
                    (Column::Int(c), Value::Int(i)) => {
                        c.vals[at] = *i;
                        c.present.set(id);
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
fn gather_ints(
    tx: &Transaction,
    key: KeyId,
    control: &ExecControl,
    threads: usize,
) -> Result<Option<IntColumn>> {
    let Some(src) = tx.view_source() else {
        return Ok(None);
    };
    let slots = src.view().node_slots();
    let n = usize::try_from(slots).unwrap_or(0);
    let mut col = IntColumn {
        vals: vec![0; n],
        present: Bits::with_len(slots),
    };
    // A few pieces per thread (balance), each a multiple of 64 slots: a piece owns whole
    // words of the presence bits.
    let chunk = n
        .div_ceil(threads * 4)
        .next_multiple_of(64)
        .clamp(4096, CHUNK as usize);
    let pieces: Vec<(u64, &mut [i64], &mut [u64])> = col
        .vals
        .chunks_mut(chunk)
        .zip(col.present.0.chunks_mut(chunk / 64))
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
    Ok(all_ints.then_some(col))
}

fn c_value(c: &IntColumn, id: u64) -> Value {
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
