//! Property-index contents in the base image (`PROP_INDEXES` section), read in place.
//!
//! One section holds every index the image's catalog defines, as of C. All integers are
//! little-endian u64 unless stated:
//!
//! ```text
//! 0   count
//! 8   count directory entries of 32 bytes:
//!       label u32 | key u32 | entries n | slots s | body offset (from the section start, 8-aligned)
//! ... bodies: n sorted entries of 16 bytes, then s hash slots of 16 bytes
//! ```
//!
//! An entry or slot is two words `(k, t)`. `t` tags the node: 0 marks an empty slot, else
//! `node + 1`, with [`INT_KEY`] set when the key is an integer key (an Int, or a float equal
//! to one: `index::int_key`), in which case `k` is that integer; otherwise `k` is
//! [`stable_hash`] of the value and the value itself is the node's property in the image.
//!
//! - Sorted entries are in index order (`index::key_cmp`), then by node: a range seek
//!   binary-searches them, reading a non-integer entry's value from its node.
//! - Slots are an open-addressing table (linear probing, a power of two, at most half full,
//!   so a probe meets an empty slot soon) holding every entry once, placed by
//!   [`slot_hash`]: an equality seek by an integer key touches one or two cache lines and
//!   no property; by another key it checks the hash, then the node's value.
//!
//! The hash is part of the format: [`stable_hash`] is defined here over the value's canonical
//! bytes, never through `std::hash` (whose output may change between Rust releases).
//!
//! Trust: every entry is one node live at C with the index's label and that value; seeks
//! return base-only nodes without re-reading them (see `GraphData::index_seek`). Open
//! checks only the directory's shape ([`parse_directory`], cheap); the section's checksum
//! covers its bytes.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use super::base::BaseView;
use super::index::{class, int_key, key_cmp, KeyRange};
use super::{KeyId, LabelId, NodeId};
use crate::temporal;
use crate::value::Value;

/// Tag bit: the entry's key is the integer in its first word.
pub const INT_KEY: u64 = 1 << 63;
const DIR_ENTRY: usize = 32;
const WORDS: usize = 16;

/// Where one index's body lies in the section (byte offsets from the section start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDir {
    pub label: LabelId,
    pub key: KeyId,
    entries_at: usize,
    n_entries: usize,
    slots_at: usize,
    n_slots: usize,
}

fn word(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// The directory's length in bytes for a section whose first word is `count`, or `None`
/// when that cannot fit `section_len` (the loader reads this much before parsing).
pub fn directory_len(count: u64, section_len: u64) -> Option<usize> {
    let len = count.checked_mul(DIR_ENTRY as u64)?.checked_add(8)?;
    (len <= section_len).then(|| usize::try_from(len).ok())?
}

/// The directory of a section of `section_len` bytes, from its first
/// `directory_len(count, section_len)` bytes `dir`. Checks only its shape (bounds,
/// alignment, a table with room to spare, no pair twice): cost proportional to the number of
/// indexes, not their size. `Err` says what is wrong.
pub fn parse_directory(dir: &[u8], section_len: u64) -> Result<Vec<IndexDir>, String> {
    let count = word(dir, 0).ok_or("it is shorter than its count")?;
    if directory_len(count, section_len) != Some(dir.len()) {
        return Err(format!("{count} indexes cannot fit in {section_len} bytes"));
    }
    let mut out: Vec<IndexDir> = Vec::new();
    for i in 0..count as usize {
        let e = 8 + i * DIR_ENTRY;
        let (lk, n, s, at) = (
            word(dir, e).unwrap_or(0),
            word(dir, e + 8).unwrap_or(0),
            word(dir, e + 16).unwrap_or(0),
            word(dir, e + 24).unwrap_or(0),
        );
        let bad = |what: &str| format!("index {i}: {what}");
        let body_end = n
            .checked_add(s)
            .and_then(|w| w.checked_mul(WORDS as u64))
            .and_then(|b| b.checked_add(at));
        if !body_end.is_some_and(|end| end <= section_len) || at % 8 != 0 {
            return Err(bad("its contents lie outside the section"));
        }
        if !s.is_power_of_two() || s <= n {
            return Err(bad("its hash table has an impossible size"));
        }
        let d = IndexDir {
            label: lk as u32,
            key: (lk >> 32) as u32,
            // All fit: they lie inside the section, which lies inside a mapped file.
            entries_at: at as usize,
            n_entries: n as usize,
            slots_at: (at + n * WORDS as u64) as usize,
            n_slots: s as usize,
        };
        if out.iter().any(|o| (o.label, o.key) == (d.label, d.key)) {
            return Err(bad("its label and key are listed twice"));
        }
        out.push(d);
    }
    Ok(out)
}

/// FNV-1a over the canonical bytes, then a final mix.
struct Fnv(u64);

impl Fnv {
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    fn u64(&mut self, x: u64) {
        self.bytes(&x.to_le_bytes());
    }
}

/// A 64-bit finalizer (splitmix64's): spreads keys that differ in few bits over the table.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of a non-integer key, equal for keys `key_cmp` calls equal (lists and maps hash
/// their integer-valued elements as integers, as `1` and `1.0` are one key; temporal values
/// by their normalized key). Part of the file format: do not change it.
pub fn stable_hash(v: &Value) -> u64 {
    let mut h = Fnv(0xCBF2_9CE4_8422_2325);
    feed(v, &mut h);
    mix(h.0)
}

fn feed(v: &Value, h: &mut Fnv) {
    if let Some(i) = int_key(v) {
        h.bytes(&[class(v)]);
        h.u64(i as u64);
        return;
    }
    h.bytes(&[class(v)]);
    match v {
        // NaN is one key; null has one value.
        Value::Float(f) if f.is_nan() => {}
        Value::Null => {}
        Value::Float(f) => h.u64(f.to_bits()),
        Value::String(s) => {
            h.u64(s.len() as u64);
            h.bytes(s.as_bytes());
        }
        Value::Bool(b) => h.bytes(&[u8::from(*b)]),
        Value::List(items) => {
            h.u64(items.len() as u64);
            for item in items {
                feed(item, h);
            }
        }
        Value::Map(m) => {
            h.u64(m.len() as u64);
            for (k, item) in m {
                h.u64(k.len() as u64);
                h.bytes(k.as_bytes());
                feed(item, h);
            }
        }
        other => match temporal::compare::key(other) {
            Some((t, a, b, c)) => {
                h.bytes(&[t]);
                for x in [a, b, c] {
                    h.bytes(&x.to_le_bytes());
                }
            }
            // Other types are equal only within their type: the name is enough for a hash
            // (equality decides).
            None => h.bytes(other.type_name().as_bytes()),
        },
    }
}

/// Where probing for an entry with first word `k` (and the integer flag) starts.
fn slot_hash(k: u64, int: bool) -> u64 {
    if int {
        mix(k)
    } else {
        k
    }
}

/// One index's contents as the writer gathers them.
#[derive(Debug, Clone, PartialEq)]
pub struct Contents {
    pub label: LabelId,
    pub key: KeyId,
    /// `(value, node)` in any order, one per node: the value its version at C carries.
    pub entries: Vec<(Value, NodeId)>,
}

/// The section's bytes for `indexes`.
pub fn encode(indexes: Vec<Contents>) -> Vec<u8> {
    let dir_len = 8 + indexes.len() * DIR_ENTRY;
    let mut out = Vec::with_capacity(dir_len);
    out.extend_from_slice(&(indexes.len() as u64).to_le_bytes());
    out.resize(dir_len, 0);
    for (i, c) in indexes.into_iter().enumerate() {
        let (label, key, mut entries) = (c.label, c.key, c.entries);
        entries.sort_unstable_by(|a, b| key_cmp(&a.0, &b.0).then(a.1.cmp(&b.1)));
        entries.dedup_by(|a, b| a.1 == b.1 && key_cmp(&a.0, &b.0) == Ordering::Equal);
        let n = entries.len();
        let slots = (n * 2).next_power_of_two().max(8);
        let body_at = out.len();
        let e = 8 + i * DIR_ENTRY;
        let lk = u64::from(label) | (u64::from(key) << 32);
        for (j, w) in [lk, n as u64, slots as u64, body_at as u64]
            .iter()
            .enumerate()
        {
            out[e + 8 * j..e + 8 * j + 8].copy_from_slice(&w.to_le_bytes());
        }
        let mask = slots as u64 - 1;
        let table_at = body_at + n * WORDS;
        // The table is filled in place in the output (no second copy of it), sized once.
        out.reserve_exact(table_at + slots * WORDS - out.len());
        out.resize(table_at + slots * WORDS, 0);
        for (j, (v, node)) in entries.into_iter().enumerate() {
            let pair = match int_key(&v) {
                Some(i) => [i as u64, (node + 1) | INT_KEY],
                None => [stable_hash(&v), node + 1],
            };
            put_pair(&mut out, body_at + j * WORDS, pair);
            // At most half full: an empty slot is always found.
            let mut s = slot_hash(pair[0], pair[1] & INT_KEY != 0) & mask;
            while word(&out, table_at + s as usize * WORDS + 8).unwrap_or(0) != 0 {
                s = (s + 1) & mask;
            }
            put_pair(&mut out, table_at + s as usize * WORDS, pair);
        }
    }
    out
}

fn put_pair(out: &mut [u8], at: usize, pair: [u64; 2]) {
    out[at..at + 8].copy_from_slice(&pair[0].to_le_bytes());
    out[at + 8..at + 16].copy_from_slice(&pair[1].to_le_bytes());
}

/// One index's contents at C, read in place from the mapped image.
pub struct BaseIndex {
    base: Arc<BaseView>,
    dir: IndexDir,
}

impl std::fmt::Debug for BaseIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaseIndex")
            .field("label", &self.dir.label)
            .field("key", &self.dir.key)
            .field("entries", &self.dir.n_entries)
            .finish()
    }
}

impl BaseIndex {
    /// The index `dir` (from [`parse_directory`] on `base`'s section) of `base`.
    pub fn new(base: Arc<BaseView>, dir: IndexDir) -> BaseIndex {
        BaseIndex { base, dir }
    }

    /// Number of `(key, node)` entries.
    pub fn len(&self) -> usize {
        self.dir.n_entries
    }

    pub fn is_empty(&self) -> bool {
        self.dir.n_entries == 0
    }

    /// Words `(k, t)` of record `i` of the array at `at` (zeros when out of bounds, which
    /// the directory's checks exclude).
    fn pair(&self, at: usize, i: usize) -> (u64, u64) {
        let o = i.checked_mul(WORDS).and_then(|x| x.checked_add(at));
        o.and_then(|o| {
            let rec = self.base.index_bytes(o, o.checked_add(16)?);
            Some((word(rec, 0)?, word(rec, 8)?))
        })
        .unwrap_or((0, 0))
    }

    /// The value of the node tagged `t` (for a non-integer entry).
    fn node_value(&self, t: u64) -> Option<Cow<'_, Value>> {
        let node = (t & !INT_KEY).checked_sub(1)?;
        self.base.node_props(node).get(self.dir.key)
    }

    /// Nodes filed under the key equal to `v`, ascending.
    pub fn eq(&self, v: &Value) -> Vec<NodeId> {
        let (k, int) = match int_key(v) {
            Some(i) => (i as u64, true),
            None => (stable_hash(v), false),
        };
        let mask = self.dir.n_slots as u64 - 1;
        let mut s = slot_hash(k, int) & mask;
        let mut out = Vec::new();
        // Bounded by the table size: a probe ends at an empty slot, and a table the
        // checksum let through with none still ends.
        for _ in 0..self.dir.n_slots {
            let (k2, t) = self.pair(self.dir.slots_at, s as usize);
            if t == 0 {
                break;
            }
            if k2 == k && (t & INT_KEY != 0) == int {
                let equal = int
                    || self
                        .node_value(t)
                        .is_some_and(|x| key_cmp(&x, v) == Ordering::Equal);
                if equal {
                    out.push((t & !INT_KEY) - 1);
                }
            }
            s = (s + 1) & mask;
        }
        out.sort_unstable();
        out
    }

    /// Starts loading the table slot where a probe for `v` begins (see
    /// `checkpoint::mmap::prefetch`); `eq(v)` soon after then usually finds it cached.
    pub fn prefetch_eq(&self, v: &Value) {
        let (k, int) = match int_key(v) {
            Some(i) => (i as u64, true),
            None => (stable_hash(v), false),
        };
        let Some(mask) = (self.dir.n_slots as u64).checked_sub(1) else {
            return;
        };
        let s = slot_hash(k, int) & mask;
        let at = (s as usize)
            .checked_mul(WORDS)
            .and_then(|x| x.checked_add(self.dir.slots_at));
        if let Some(at) = at {
            if let Some(end) = at.checked_add(WORDS) {
                crate::checkpoint::mmap::prefetch(self.base.index_bytes(at, end));
            }
        }
    }

    /// Entry `i` against `v` in index order (an entry whose value is somehow missing
    /// orders last).
    fn cmp_entry(&self, i: usize, v: &Value) -> Ordering {
        let (k, t) = self.pair(self.dir.entries_at, i);
        if t & INT_KEY != 0 {
            return key_cmp(&Value::Int(k as i64), v);
        }
        self.node_value(t)
            .map_or(Ordering::Greater, |x| key_cmp(&x, v))
    }

    /// The first entry for which `after(entry)` holds (entries for which it holds form a
    /// suffix).
    fn partition(&self, after: impl Fn(usize) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.dir.n_entries);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if after(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// Nodes filed under a key in `range`, ascending, no duplicates.
    pub fn range(&self, range: &KeyRange) -> Vec<NodeId> {
        if range.is_empty() {
            return Vec::new();
        }
        let start = match &range.lower {
            Bound::Included(b) => self.partition(|i| self.cmp_entry(i, b) != Ordering::Less),
            Bound::Excluded(b) => self.partition(|i| self.cmp_entry(i, b) == Ordering::Greater),
            Bound::Unbounded => 0,
        };
        let end = match &range.upper {
            Bound::Included(b) => self.partition(|i| self.cmp_entry(i, b) == Ordering::Greater),
            Bound::Excluded(b) => self.partition(|i| self.cmp_entry(i, b) != Ordering::Less),
            Bound::Unbounded => self.dir.n_entries,
        };
        let mut out: Vec<NodeId> = (start..end.max(start))
            .filter_map(|i| (self.pair(self.dir.entries_at, i).1 & !INT_KEY).checked_sub(1))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_alike() {
        let pairs = [
            (
                Value::List(vec![Value::Int(1), Value::Float(2.0)]),
                Value::List(vec![Value::Float(1.0), Value::Int(2)]),
            ),
            (Value::Float(f64::NAN), Value::Float(-f64::NAN)),
            (Value::String("é".into()), Value::String("é".into())),
        ];
        for (a, b) in pairs {
            assert_eq!(stable_hash(&a), stable_hash(&b), "{a:?} vs {b:?}");
        }
        assert_ne!(
            stable_hash(&Value::String("a".into())),
            stable_hash(&Value::String("b".into()))
        );
        // The format fixes the hash: a change here breaks images already written.
        assert_eq!(
            stable_hash(&Value::String("abc".into())),
            0x9eaf_8f64_93b9_c70a
        );
        assert_eq!(
            stable_hash(&Value::List(vec![Value::Float(1.0), Value::Bool(true)])),
            0xfa68_b555_5b1d_c482
        );
    }

    /// A view whose nodes `0..` carry `values` under key 2, with the index section `sec`.
    fn view(values: &[Value], sec: Vec<u8>) -> Arc<BaseView> {
        use crate::checkpoint::format::kind;
        let mut bytes = Vec::new();
        let mut offsets = vec![0u64];
        for v in values {
            crate::wal::codec::encode_props(&mut bytes, &vec![(2, v.clone())]);
            offsets.push(bytes.len() as u64);
        }
        let mut sections = [(0usize, 0usize); kind::END as usize];
        sections[kind::NODE_PROPS as usize] = (0, bytes.len());
        bytes.resize(bytes.len().div_ceil(8) * 8, 0);
        sections[kind::NODE_PROP_OFFSETS as usize] = (bytes.len(), offsets.len() * 8);
        for o in offsets {
            bytes.extend_from_slice(&o.to_le_bytes());
        }
        sections[kind::PROP_INDEXES as usize] = (bytes.len(), sec.len());
        bytes.extend_from_slice(&sec);
        Arc::new(BaseView::new(
            crate::checkpoint::mmap::BaseBytes::Read(bytes),
            std::path::Path::new("test"),
            2,
            1,
            values.len() as u64,
            0,
            sections,
            crate::storage::blocks::Blocks::all_checked(),
        ))
    }

    fn index(values: &[Value], filed: Vec<(Value, NodeId)>) -> BaseIndex {
        let sec = encode(vec![Contents {
            label: 1,
            key: 2,
            entries: filed,
        }]);
        let len = sec.len() as u64;
        let dir = parse_directory(&sec[..directory_len(1, len).unwrap()], len).unwrap();
        BaseIndex::new(view(values, sec), dir[0])
    }

    #[test]
    fn seeks_read_integer_keys_inline_and_confirm_others_against_the_node() {
        let s = |x: &str| Value::String(x.into());
        let values = [s("a"), s("c"), Value::Int(4), s("c"), Value::Float(4.0)];
        let filed = values.iter().cloned().zip(0..).collect::<Vec<_>>();
        let idx = index(&values, filed);
        assert_eq!(idx.len(), 5);
        assert_eq!(idx.eq(&s("c")), vec![1, 3]);
        assert_eq!(idx.eq(&Value::Float(4.0)), vec![2, 4]);
        assert!(idx.eq(&s("b")).is_empty());
        let r = |lo: Value, hi: Value| KeyRange {
            lower: Bound::Included(lo),
            upper: Bound::Excluded(hi),
        };
        assert_eq!(idx.range(&r(s("a"), s("c"))), vec![0]);
        assert_eq!(idx.range(&r(s("b"), s("d"))), vec![1, 3]);
        assert_eq!(idx.range(&r(Value::Int(0), Value::Int(9))), vec![2, 4]);
        // A hash match is only a candidate: node 0 was filed under "a" but now reads "z"
        // (as a colliding key would), so "a" finds nothing; an integer key needs no read.
        let idx = index(
            &[s("z"), Value::Int(1)],
            vec![(s("a"), 0), (Value::Int(7), 1)],
        );
        assert!(idx.eq(&s("a")).is_empty());
        assert!(idx.eq(&s("z")).is_empty(), "filed under the hash of 'a'");
        assert_eq!(idx.eq(&Value::Int(7)), vec![1]);
    }

    /// A prefetch is a hint: for any key, present or not, of any type, it reads nothing
    /// out of bounds and the seek after it answers as before.
    #[test]
    fn prefetching_a_probe_changes_no_answer() {
        let s = |x: &str| Value::String(x.into());
        let values = [
            s("a"),
            Value::Int(-3),
            Value::Int(i64::MAX),
            Value::Float(0.5),
        ];
        let filed = values.iter().cloned().zip(0..).collect::<Vec<_>>();
        let idx = index(&values, filed);
        for v in values.iter().chain(&[s("zz"), Value::Int(7), Value::Null]) {
            let before = idx.eq(v);
            idx.prefetch_eq(v);
            assert_eq!(idx.eq(v), before, "{v:?}");
        }
    }

    #[test]
    fn directories_that_do_not_fit_are_refused() {
        let contents = |entries| Contents {
            label: 1,
            key: 2,
            entries,
        };
        let sec = encode(vec![contents(vec![(Value::Int(5), 0), (Value::Int(6), 1)])]);
        let len = sec.len() as u64;
        let dl = directory_len(1, len).unwrap();
        let dir = parse_directory(&sec[..dl], len).unwrap();
        assert_eq!((dir[0].label, dir[0].key, dir[0].n_entries), (1, 2, 2));
        assert!(parse_directory(&sec[..dl], len - 8).is_err());
        assert!(directory_len(u64::MAX / 4, len).is_none());
        let mut bad = sec.clone();
        // Slots: 7 is not a power of two.
        bad[8 + 16..8 + 24].copy_from_slice(&7u64.to_le_bytes());
        assert!(parse_directory(&bad[..dl], len).is_err());
        let mut twice = encode(vec![contents(vec![]), contents(vec![])]);
        let tl = twice.len() as u64;
        let dl2 = directory_len(2, tl).unwrap();
        assert!(parse_directory(&twice[..dl2], tl).is_err());
        twice[8] = 3;
        assert!(parse_directory(&twice[..dl2], tl).is_ok());
    }
}
