//! Integer node-property columns in the base image (`PROP_COLUMN_DIR` and `PROP_COLUMNS`
//! sections), read in place.
//!
//! The writer gives a column to each node property key whose values at C are all integers
//! (where present) and present on at least an eighth of the live nodes ([`worth_a_column`]).
//! A column costs its width plus one bit per node slot whatever the number of values, and
//! pays off only when a query reads the key of a large share of the nodes (the batch engine
//! gathers columns only for scans covering a quarter of the slots or more); below an eighth
//! the property lists serve as well, and a graph with many sparse keys does not grow an
//! image-sized column per key.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! PROP_COLUMN_DIR
//! 0   count                             u64
//! 8   count entries of 32 bytes, ascending key:
//!       key u32 | width u32 (1, 2, 4 or 8) | min i64 | present at u64 | values at u64
//! PROP_COLUMNS (offsets in the directory are from this section's start, multiples of 8)
//!     per column: presence, ceil(slots / 64) u64 words, bit i % 64 of word i / 64 set when
//!     node slot i is live at C and has the key; then values, slots × width bytes: node i's
//!     value is min + the unsigned integer at i × width (0 where absent)
//! ```
//!
//! Frame-of-reference: a column of ages (18..=80) takes a byte per slot, of ids below 2^32
//! four; narrow columns are what makes a scan over them cache-resident.
//!
//! Trust: every value is the one the node's version at C carries (a base-only node's own
//! property list says the same). Open checks the directory whole (its section checksum)
//! and its shape ([`parse_directory`]); the columns' bytes are verified by block checksum
//! when a reader first asks for a column (`BaseView::int_column`, which verifies the whole
//! column at once so that per-row reads need no check).

use super::{KeyId, NodeId};
use crate::wal::codec;

const DIR_ENTRY: usize = 32;

/// Where one column lies in the columns section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDir {
    pub key: KeyId,
    /// Bytes per value: 1, 2, 4 or 8.
    pub width: u32,
    pub min: i64,
    /// Byte offsets from the columns section's start.
    pub present_at: usize,
    pub values_at: usize,
}

/// Bytes of a presence bitmap over `slots`.
fn presence_len(slots: u64) -> Option<u64> {
    slots.div_ceil(64).checked_mul(8)
}

/// Bytes of a values array of `width` over `slots`, padded to 8.
fn values_len(slots: u64, width: u32) -> Option<u64> {
    Some(slots.checked_mul(u64::from(width))?.div_ceil(8) * 8)
}

fn word(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

/// The directory's length for a section whose first word is `count`, or `None` when that
/// is not the section's length (the directory is the whole section).
pub fn directory_len(count: u64, section_len: u64) -> Option<usize> {
    let len = count.checked_mul(DIR_ENTRY as u64)?.checked_add(8)?;
    (len == section_len).then(|| usize::try_from(len).ok())?
}

/// The directory `dir` (the whole directory section) of a columns section of
/// `columns_len` bytes over `slots` node slots. Checks its shape: widths, bounds,
/// alignment, keys ascending (so none twice). `Err` says what is wrong.
pub fn parse_directory(dir: &[u8], columns_len: u64, slots: u64) -> Result<Vec<ColumnDir>, String> {
    let count = word(dir, 0).ok_or("it is shorter than its count")?;
    if directory_len(count, dir.len() as u64).is_none() {
        return Err(format!(
            "{count} columns do not match its {} bytes",
            dir.len()
        ));
    }
    let mut out: Vec<ColumnDir> = Vec::new();
    for i in 0..count as usize {
        let e = 8 + i * DIR_ENTRY;
        let bad = |what: &str| format!("column {i}: {what}");
        let (kw, min, p, v) = (
            word(dir, e).unwrap_or(0),
            word(dir, e + 8).unwrap_or(0),
            word(dir, e + 16).unwrap_or(0),
            word(dir, e + 24).unwrap_or(0),
        );
        let (key, width) = (kw as u32, (kw >> 32) as u32);
        if ![1, 2, 4, 8].contains(&width) {
            return Err(bad(&format!("width {width} is not 1, 2, 4 or 8")));
        }
        let inside = |at: u64, len: Option<u64>| {
            at % 8 == 0
                && len
                    .and_then(|l| at.checked_add(l))
                    .is_some_and(|end| end <= columns_len)
        };
        if !inside(p, presence_len(slots)) || !inside(v, values_len(slots, width)) {
            return Err(bad("it lies outside the columns section"));
        }
        if out.last().is_some_and(|o| o.key >= key) {
            return Err(bad("keys are not ascending"));
        }
        out.push(ColumnDir {
            key,
            width,
            min: min as i64,
            // Both fit: they lie inside the section, which lies inside a mapped file.
            present_at: p as usize,
            values_at: v as usize,
        });
    }
    Ok(out)
}

/// Whether a key with `present` integer values (and no other) over `live` live nodes gets
/// a column (module comment).
pub fn worth_a_column(present: u64, live: u64) -> bool {
    present > 0 && present.saturating_mul(8) >= live
}

/// The values of one key as the writer meets them.
#[derive(Debug, Default)]
struct Candidate {
    /// Another type was met: never a column.
    mixed: bool,
    ids: Vec<NodeId>,
    vals: Vec<i64>,
}

/// Gathers the integer keys of every node the writer visits (in ascending id order), then
/// lays out the sections.
#[derive(Debug, Default)]
pub struct Builder {
    /// By key id (ids are dense).
    keys: Vec<Candidate>,
}

impl Builder {
    /// Notes node `id`'s encoded property list (the image's own bytes for it).
    pub fn note(&mut self, id: NodeId, encoded: &[u8]) {
        if encoded.len() <= 1 {
            return;
        }
        // The writer encoded these bytes itself; a failure cannot happen (and would only
        // cost a column).
        let _ = codec::scan_int_props(encoded, |k, v| {
            let i = k as usize;
            if i >= self.keys.len() {
                self.keys.resize_with(i + 1, Candidate::default);
            }
            let c = &mut self.keys[i];
            match v {
                _ if c.mixed => {}
                Some(v) => {
                    c.ids.push(id);
                    c.vals.push(v);
                }
                None => {
                    // Its values are no use any more.
                    *c = Candidate {
                        mixed: true,
                        ..Candidate::default()
                    };
                }
            }
        });
    }

    /// The directory section and the columns section for `slots` node slots, `live` of
    /// them live.
    pub fn finish(self, slots: u64, live: u64) -> (Vec<u8>, Vec<u8>) {
        let chosen: Vec<(KeyId, Candidate)> = self
            .keys
            .into_iter()
            .enumerate()
            .filter(|(_, c)| !c.mixed && worth_a_column(c.ids.len() as u64, live))
            .map(|(k, c)| (k as KeyId, c))
            .collect();
        let mut dir = Vec::with_capacity(8 + chosen.len() * DIR_ENTRY);
        dir.extend_from_slice(&(chosen.len() as u64).to_le_bytes());
        let mut cols = Vec::new();
        let n = usize::try_from(slots).unwrap_or(0);
        for (key, c) in chosen {
            let min = c.vals.iter().copied().min().unwrap_or(0);
            let max = c.vals.iter().copied().max().unwrap_or(0);
            let range = max.wrapping_sub(min) as u64;
            let width: u32 = match range {
                0..=0xFF => 1,
                0x100..=0xFFFF => 2,
                0x1_0000..=0xFFFF_FFFF => 4,
                _ => 8,
            };
            let present_at = cols.len();
            let mut present = vec![0u64; n.div_ceil(64)];
            for &id in &c.ids {
                present[(id / 64) as usize] |= 1 << (id % 64);
            }
            cols.extend(present.iter().flat_map(|w| w.to_le_bytes()));
            let values_at = cols.len();
            let w = width as usize;
            cols.resize(values_at + n * w, 0);
            for (&id, &v) in c.ids.iter().zip(&c.vals) {
                let raw = v.wrapping_sub(min) as u64;
                let at = values_at + id as usize * w;
                cols[at..at + w].copy_from_slice(&raw.to_le_bytes()[..w]);
            }
            cols.resize(cols.len().div_ceil(8) * 8, 0);
            dir.extend_from_slice(&(u64::from(key) | (u64::from(width) << 32)).to_le_bytes());
            dir.extend_from_slice(&min.to_le_bytes());
            dir.extend_from_slice(&(present_at as u64).to_le_bytes());
            dir.extend_from_slice(&(values_at as u64).to_le_bytes());
        }
        (dir, cols)
    }
}

/// One column of the image, verified whole, read in place.
#[derive(Debug, Clone, Copy)]
pub struct ImageInts<'a> {
    slots: u64,
    present: &'a [u8],
    values: &'a [u8],
    width: u32,
    min: i64,
}

impl<'a> ImageInts<'a> {
    /// Column `d` over `slots` node slots, from its verified bytes (only
    /// `BaseView::int_column` makes one).
    pub(crate) fn new(d: &ColumnDir, slots: u64, present: &'a [u8], values: &'a [u8]) -> Self {
        ImageInts {
            slots,
            present,
            values,
            width: d.width,
            min: d.min,
        }
    }

    /// The slots the column covers (the image's node slots).
    pub fn slots(&self) -> u64 {
        self.slots
    }

    /// Bytes per value.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Node `id`'s value at C (`None`: no value, or not live at C, or beyond the image).
    #[inline(always)]
    pub fn get(&self, id: NodeId) -> Option<i64> {
        let i = usize::try_from(id).ok()?;
        if *self.present.get(i / 8)? & (1 << (i % 8)) == 0 {
            return None;
        }
        let v = self.values;
        let raw = match self.width {
            1 => u64::from(*v.get(i)?),
            2 => u64::from(u16::from_le_bytes(
                v.get(i * 2..i * 2 + 2)?.try_into().ok()?,
            )),
            4 => u64::from(u32::from_le_bytes(
                v.get(i * 4..i * 4 + 4)?.try_into().ok()?,
            )),
            _ => u64::from_le_bytes(v.get(i * 8..i * 8 + 8)?.try_into().ok()?),
        };
        Some(self.min.wrapping_add(raw as i64))
    }
}

/// Bytes of column `d`'s presence bitmap and values over `slots`: `(present, values)` as
/// `(offset, length)` within the columns section.
pub(crate) fn extents(d: &ColumnDir, slots: u64) -> ((usize, usize), (usize, usize)) {
    // parse_directory checked that both lie inside the section.
    let p = presence_len(slots).unwrap_or(0) as usize;
    let v = values_len(slots, d.width).unwrap_or(0) as usize;
    ((d.present_at, p), (d.values_at, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::PropList;
    use crate::value::Value;

    fn enc(p: PropList) -> Vec<u8> {
        let mut b = Vec::new();
        codec::encode_props(&mut b, &p);
        b
    }

    #[test]
    fn only_integer_keys_present_on_an_eighth_get_columns_narrowed_to_their_range() {
        let mut b = Builder::default();
        let slots = 100u64;
        for id in 0..slots {
            let mut p: PropList = vec![(0, Value::Int(18 + (id as i64 % 60)))];
            p.push((1, Value::Int(-5_000_000_000 + id as i64 * 1000)));
            // Key 2: an integer on all but one node, a string there: no column.
            p.push((
                2,
                if id == 50 {
                    Value::String("x".into())
                } else {
                    Value::Int(1)
                },
            ));
            // Key 3: on 12 of 100 nodes (fewer than an eighth); key 4: on 13.
            if id < 12 {
                p.push((3, Value::Int(7)));
            }
            if id < 13 {
                p.push((4, Value::Int(i64::MIN + id as i64)));
            }
            b.note(id, &enc(p));
        }
        let (dir, cols) = b.finish(slots, slots);
        let d = parse_directory(&dir, cols.len() as u64, slots).unwrap();
        let keys: Vec<(KeyId, u32)> = d.iter().map(|c| (c.key, c.width)).collect();
        assert_eq!(keys, vec![(0, 1), (1, 4), (4, 1)]);
        assert_eq!(d[0].min, 18);
        assert!(parse_directory(&dir, cols.len() as u64 - 8, slots).is_err());
        assert!(parse_directory(&dir[..dir.len() - 8], cols.len() as u64, slots).is_err());
        let mut bad = dir.clone();
        bad[12] = 3; // width 3
        assert!(parse_directory(&bad, cols.len() as u64, slots).is_err());
        let mut bad = dir.clone();
        bad[8 + 32] = 0; // second key 0: not ascending
        assert!(parse_directory(&bad, cols.len() as u64, slots).is_err());
        let mut bad = dir.clone();
        bad[8 + 16] = 4; // presence misaligned
        assert!(parse_directory(&bad, cols.len() as u64, slots).is_err());
    }

    #[test]
    fn columns_read_back_every_value_at_every_width() {
        let slots = 130u64;
        let vals = |id: u64| -> [Option<i64>; 4] {
            let i = id as i64;
            let some = id % 3 != 1;
            [
                some.then_some(-100 + i),
                some.then_some(400 * i - 30_000),
                some.then_some(i * 30_000_000),
                some.then_some(if id % 2 == 0 {
                    i64::MIN + i
                } else {
                    i64::MAX - i
                }),
            ]
        };
        let mut b = Builder::default();
        for id in 0..slots {
            let p: PropList = (0u32..)
                .zip(vals(id))
                .filter_map(|(k, v)| Some((k, Value::Int(v?))))
                .collect();
            b.note(id, &enc(p));
        }
        let (dir, cols) = b.finish(slots, slots);
        let d = parse_directory(&dir, cols.len() as u64, slots).unwrap();
        let widths: Vec<u32> = d.iter().map(|c| c.width).collect();
        assert_eq!(widths, vec![1, 2, 4, 8]);
        for (k, c) in d.iter().enumerate() {
            let ((p, pl), (v, vl)) = extents(c, slots);
            let col = ImageInts::new(c, slots, &cols[p..p + pl], &cols[v..v + vl]);
            for id in 0..slots + 70 {
                let want = if id < slots { vals(id)[k] } else { None };
                assert_eq!(col.get(id), want, "key {k}, node {id}");
            }
        }
    }

    #[test]
    fn worth_a_column_from_an_eighth() {
        assert!(!worth_a_column(0, 0));
        assert!(worth_a_column(1, 8));
        assert!(!worth_a_column(1, 9));
        assert!(worth_a_column(2, 9));
    }
}
