//! Property indexes and uniqueness constraints: their definitions (the schema) and their
//! contents.
//!
//! Contents are a simple MVCC-friendly index: per indexed `(label, key)`, an ordered map from
//! value to every node that has had that value (with that label) in *some* version still in
//! memory. Entries are added whenever a version is installed and removed only when no version
//! of the node carries them any more (rollback, version GC), so a lookup returns a superset of
//! what any snapshot can see, and the caller re-checks each node's visible version — the same
//! scheme as `GraphData::by_label`.
//!
//! Ordering: [`key_cmp`] is a total order over property values that agrees with Cypher `<`
//! within each comparable type (numbers compare exactly across Int and Float, so `1` and
//! `1.0` are one key, as Cypher equality has it) and groups types into classes, so a range
//! over numbers never includes strings. Types this module does not know (added later to
//! `Value`) are ordered after all others by type name and debug form: consistent, never a
//! panic, but not used for seeks (see [`seekable`]).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::Bound;

use super::base_index::BaseIndex;
use super::change::Change;
use super::graph::NodeData;
use super::{KeyId, LabelId, NodeId};
use crate::temporal;
use crate::value::Value;

/// Exact comparison of an integer with a non-NaN float.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    // 2^63 is exactly representable; every f64 at or above it exceeds every i64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    match i.cmp(&(t as i64)) {
        Ordering::Equal => (0.0).partial_cmp(&(f - t)).unwrap_or(Ordering::Equal),
        o => o,
    }
}

/// Class rank of a value in the index order (mirrors the ORDER BY type order).
pub(super) fn class(v: &Value) -> u8 {
    match v {
        Value::Map(_) => 0,
        Value::List(_) => 3,
        Value::String(_) => 5,
        Value::Bool(_) => 6,
        Value::Float(f) if f.is_nan() => 8,
        Value::Int(_) | Value::Float(_) => 7,
        Value::Null => 9,
        _ => 10,
    }
}

/// The index order (see the module comment). `Equal` exactly for values Cypher considers the
/// same key: equal numbers of either type, equal strings, element-wise equal lists and maps;
/// all NaNs are one key.
pub fn key_cmp(a: &Value, b: &Value) -> Ordering {
    // The common keys first: a seek compares its key at every level of the tree.
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => return x.cmp(y),
        (Value::String(x), Value::String(y)) => return x.cmp(y),
        _ => {}
    }
    let (ca, cb) = (class(a), class(b));
    if ca != cb {
        return ca.cmp(&cb);
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Int(x), Value::Float(y)) => cmp_int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => cmp_int_float(*y, *x).reverse(),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match key_cmp(p, q) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Map(x), Value::Map(y)) => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
                match k1.cmp(k2).then_with(|| key_cmp(v1, v2)) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Null, Value::Null) => Ordering::Equal,
        // Temporal values: by their normalized key (type, then instant or components), so
        // the same instant in two zones is one key, as Cypher `=` has it.
        _ if temporal::compare::key(a).is_some() && temporal::compare::key(b).is_some() => {
            temporal::compare::key(a).cmp(&temporal::compare::key(b))
        }
        _ => a
            .type_name()
            .cmp(b.type_name())
            .then_with(|| format!("{a:?}").cmp(&format!("{b:?}"))),
    }
}

/// Whether an equality seek for `v` finds every value Cypher `=` says equals it (true for the
/// types [`key_cmp`] orders exactly). The planner scans instead for other values.
pub fn seekable(v: &Value) -> bool {
    match v {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::String(_) => true,
        v if temporal::compare::key(v).is_some() => true,
        Value::List(items) => items.iter().all(|i| i.is_null() || seekable(i)),
        Value::Map(m) => m.values().all(|i| i.is_null() || seekable(i)),
        _ => false,
    }
}

/// A value as an error message shows it (`'text'`, `42`, `[1, 2]`).
pub fn show_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::String(s) => format!("'{}'", s.replace('\'', "\\'")),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(show_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}: {}", show_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

/// A value as a key of the ordered map.
#[derive(Debug, Clone)]
pub struct IndexKey(pub Value);

impl PartialEq for IndexKey {
    fn eq(&self, other: &Self) -> bool {
        key_cmp(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for IndexKey {}
impl PartialOrd for IndexKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IndexKey {
    fn cmp(&self, other: &Self) -> Ordering {
        key_cmp(&self.0, &other.0)
    }
}

/// A set of keys to look up: an interval of the index order, inside one value class.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRange {
    pub lower: Bound<Value>,
    pub upper: Bound<Value>,
}

impl KeyRange {
    /// Exactly the keys equal to `v`.
    pub fn eq(v: Value) -> KeyRange {
        KeyRange {
            lower: Bound::Included(v.clone()),
            upper: Bound::Included(v),
        }
    }

    /// The one key of an equality range.
    pub fn point(&self) -> Option<&Value> {
        match (&self.lower, &self.upper) {
            (Bound::Included(a), Bound::Included(b)) if key_cmp(a, b) == Ordering::Equal => Some(a),
            _ => None,
        }
    }

    /// Cypher range over the class of `sample` (a bound value: number, string or boolean),
    /// each side optional. `None` when that class has no range seek.
    pub fn within_class_of(
        sample: &Value,
        lower: Bound<Value>,
        upper: Bound<Value>,
    ) -> Option<KeyRange> {
        let (min, max) = match sample {
            Value::Int(_) | Value::Float(_) => (
                Bound::Included(Value::Float(f64::NEG_INFINITY)),
                Bound::Included(Value::Float(f64::INFINITY)),
            ),
            Value::String(_) => (
                Bound::Included(Value::String(String::new())),
                // The least key of the next class.
                Bound::Excluded(Value::Bool(false)),
            ),
            Value::Bool(_) => (
                Bound::Included(Value::Bool(false)),
                Bound::Included(Value::Bool(true)),
            ),
            _ => return None,
        };
        let pick = |b: Bound<Value>, dflt: Bound<Value>| match b {
            Bound::Unbounded => dflt,
            b => b,
        };
        Some(KeyRange {
            lower: pick(lower, min),
            upper: pick(upper, max),
        })
    }

    /// Whether `v` lies in the range.
    pub fn contains(&self, v: &Value) -> bool {
        let lo = match &self.lower {
            Bound::Included(b) => key_cmp(v, b) != Ordering::Less,
            Bound::Excluded(b) => key_cmp(v, b) == Ordering::Greater,
            Bound::Unbounded => true,
        };
        let hi = match &self.upper {
            Bound::Included(b) => key_cmp(v, b) != Ordering::Greater,
            Bound::Excluded(b) => key_cmp(v, b) == Ordering::Less,
            Bound::Unbounded => true,
        };
        lo && hi
    }

    /// Whether no key can lie in the range (an inverted or empty interval); `BTreeMap::range`
    /// panics on those, so seeks check first.
    pub fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Bound::Included(a), Bound::Included(b)) => key_cmp(a, b) == Ordering::Greater,
            (Bound::Included(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b))
            | (Bound::Excluded(a), Bound::Excluded(b)) => key_cmp(a, b) != Ordering::Less,
            _ => false,
        }
    }
}

/// One index or uniqueness constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    /// Index and constraint names share one namespace.
    pub name: String,
    pub label: LabelId,
    pub key: KeyId,
    /// A uniqueness constraint (which implies an index on the same label and key).
    pub unique: bool,
    /// Commit timestamp of its creation: a transaction uses it only if its snapshot is at or
    /// after this (see `docs/indexes.md`, "Serializable").
    pub created_ts: u64,
}

/// A value as a hash-map key: equal exactly when [`key_cmp`] says `Equal`, and hashed
/// consistently with that (an integral float hashes as the integer it equals; temporal
/// values by their normalized key, so one instant in two zones is one key).
#[derive(Debug, Clone)]
pub struct EqKey(pub Value);

impl PartialEq for EqKey {
    fn eq(&self, other: &Self) -> bool {
        key_cmp(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for EqKey {}
impl Hash for EqKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        hash_key(&self.0, h);
    }
}

fn hash_key<H: Hasher>(v: &Value, h: &mut H) {
    // 2^63: integral floats in [-2^63, 2^63) convert to i64 exactly.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    class(v).hash(h);
    match v {
        Value::Int(i) => i.hash(h),
        Value::Float(f) if f.fract() == 0.0 && (-TWO_63..TWO_63).contains(f) => (*f as i64).hash(h),
        Value::Float(f) if !f.is_nan() => f.to_bits().hash(h),
        Value::String(s) => s.hash(h),
        Value::Bool(b) => b.hash(h),
        Value::List(items) => {
            items.len().hash(h);
            for item in items.iter() {
                hash_key(item, h);
            }
        }
        Value::Map(m) => {
            m.len().hash(h);
            for (k, item) in m.iter() {
                k.hash(h);
                hash_key(item, h);
            }
        }
        // NaN, null: the class alone. Temporal values by their normalized key; anything else
        // by class alone (a collision, never a wrong answer: equality decides).
        _ => temporal::compare::key(v).hash(h),
    }
}

/// Value → nodes that have had it, for one `(label, key)`.
///
/// Ids are kept per key in a hash map, so an equality seek (the common case: lookups by id,
/// MERGE, uniqueness checks) costs one hash probe instead of a descent through an ordered map
/// with a generic comparison at every level (a profile of point lookups spent a quarter of
/// their time there); the keys are also kept in index order for range seeks. Integer keys
/// (and the floats equal to them) have their own map of small entries holding a lone id
/// inline: a seek by an id-like key is one cache miss into a table less than half the size,
/// not two (bucket, then the id list on the heap).
///
/// An index the base image holds is that section read in place (`base`) plus these maps as
/// the in-memory delta: the maps then hold only entries of versions installed since open
/// (new nodes, and new versions of materialized base nodes), and a seek returns the union.
/// Base entries are never removed: once a base node changes it is materialized, so seeks
/// re-check it against its versions (`GraphData::index_seek`, the uniqueness checks), and an
/// entry its base version no longer justifies only adds a candidate that fails the check.
#[derive(Debug, Default)]
pub struct PropIndex {
    /// The contents at the base image's C, when the image holds them.
    base: Option<BaseIndex>,
    /// Ids per integer key (see [`int_key`]).
    ints: rustc_hash::FxHashMap<i64, Ids>,
    /// Ids per other key.
    ids: rustc_hash::FxHashMap<EqKey, Ids>,
    /// The keys of `ints` and `ids`, in index order.
    order: BTreeSet<IndexKey>,
}

/// The integer a key equals under index equality (an Int, or a float with an integral value
/// in i64's range: `1` and `1.0` are one key); `None` for every other key.
pub(super) fn int_key(v: &Value) -> Option<i64> {
    // 2^63: integral floats in [-2^63, 2^63) convert to i64 exactly.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.fract() == 0.0 && (-TWO_63..TWO_63).contains(f) => Some(*f as i64),
        _ => None,
    }
}

/// The ids filed under one key, ascending; never empty. One id (a key that identifies its
/// node) is held inline.
#[derive(Debug, Clone)]
enum Ids {
    One(NodeId),
    /// At least two.
    Many(Vec<NodeId>),
}

impl Ids {
    fn from_sorted(mut list: Vec<NodeId>) -> Ids {
        match list.len() {
            1 => Ids::One(list.remove(0)),
            _ => Ids::Many(list),
        }
    }

    fn as_slice(&self) -> &[NodeId] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }

    fn add(&mut self, id: NodeId) {
        match self {
            Ids::One(x) if *x == id => {}
            Ids::One(x) => *self = Ids::Many(if *x < id { vec![*x, id] } else { vec![id, *x] }),
            Ids::Many(ids) => {
                if let Err(i) = ids.binary_search(&id) {
                    ids.insert(i, id);
                }
            }
        }
    }

    /// Removes `id`; true when no id is left (the caller drops the key).
    fn remove(&mut self, id: NodeId) -> bool {
        match self {
            Ids::One(x) => *x == id,
            Ids::Many(ids) => {
                if let Ok(i) = ids.binary_search(&id) {
                    ids.remove(i);
                }
                match ids.as_slice() {
                    [] => true,
                    [one] => {
                        *self = Ids::One(*one);
                        false
                    }
                    _ => false,
                }
            }
        }
    }
}

/// Adds `id` under `k`; true when the key is new.
fn add_id<K: Hash + Eq>(map: &mut rustc_hash::FxHashMap<K, Ids>, k: K, id: NodeId) -> bool {
    match map.entry(k) {
        Entry::Occupied(mut e) => {
            e.get_mut().add(id);
            false
        }
        Entry::Vacant(e) => {
            e.insert(Ids::One(id));
            true
        }
    }
}

/// Removes `id` from under `k`; true when that emptied (and dropped) the key.
fn remove_id<K: Hash + Eq>(map: &mut rustc_hash::FxHashMap<K, Ids>, k: &K, id: NodeId) -> bool {
    let emptied = map.get_mut(k).is_some_and(|ids| ids.remove(id));
    if emptied {
        map.remove(k);
    }
    emptied
}

impl PropIndex {
    /// The index of `entries` (value, node) in any order, built in one sorted pass rather
    /// than by one map insertion per entry (the bulk of opening a large indexed graph).
    /// Takes the values by value: each moves into the ordered set, and only a non-integer
    /// key's hash-map entry holds a copy.
    pub(crate) fn build(mut entries: Vec<(Value, NodeId)>) -> PropIndex {
        entries.sort_unstable_by(|a, b| key_cmp(&a.0, &b.0).then(a.1.cmp(&b.1)));
        // One pass files each run of equal keys in its hash map (a single id inline, with no
        // list allocated); the keys themselves then move, deduplicated in place, into the
        // ordered set. Nothing holds a second copy of the entries: at 1M keys the build's
        // peak is most of the open's.
        let (mut n_ints, mut n_others) = (0, 0);
        for (i, (v, _)) in entries.iter().enumerate() {
            let starts_run = i == 0 || key_cmp(&entries[i - 1].0, v) != Ordering::Equal;
            if starts_run {
                match int_key(v) {
                    Some(_) => n_ints += 1,
                    None => n_others += 1,
                }
            }
        }
        // Sized once: a growing table would briefly hold its old and new arrays.
        let mut ints = rustc_hash::FxHashMap::default();
        ints.reserve(n_ints);
        let mut ids = rustc_hash::FxHashMap::default();
        ids.reserve(n_others);
        let mut run = 0;
        while run < entries.len() {
            let key = &entries[run].0;
            let end = entries[run..]
                .iter()
                .position(|(v, _)| key_cmp(key, v) != Ordering::Equal)
                .map_or(entries.len(), |n| run + n);
            // Several versions of one node may carry the same key: ids arrive sorted, so
            // duplicates are adjacent.
            let filed = match &entries[run..end] {
                [(_, one)] => Ids::One(*one),
                many => {
                    let mut list: Vec<NodeId> = many.iter().map(|&(_, id)| id).collect();
                    list.dedup();
                    Ids::from_sorted(list)
                }
            };
            match int_key(key) {
                Some(i) => drop(ints.insert(i, filed)),
                None => drop(ids.insert(EqKey(key.clone()), filed)),
            }
            run = end;
        }
        entries.dedup_by(|a, b| key_cmp(&a.0, &b.0) == Ordering::Equal);
        // Sorted and distinct: the set is built in one linear pass.
        let order = entries.into_iter().map(|(v, _)| IndexKey(v)).collect();
        PropIndex {
            base: None,
            ints,
            ids,
            order,
        }
    }

    /// The index whose contents at C are `base`, with nothing since.
    pub(crate) fn on_base(base: BaseIndex) -> PropIndex {
        PropIndex {
            base: Some(base),
            ..PropIndex::default()
        }
    }

    /// The ids filed under the key equal to `v`.
    fn get(&self, v: &Value) -> &[NodeId] {
        let ids = match int_key(v) {
            Some(i) => self.ints.get(&i),
            None => self.ids.get(&EqKey(v.clone())),
        };
        ids.map_or(&[][..], Ids::as_slice)
    }

    fn insert(&mut self, v: &Value, id: NodeId) {
        let new_key = match int_key(v) {
            Some(i) => add_id(&mut self.ints, i, id),
            None => add_id(&mut self.ids, EqKey(v.clone()), id),
        };
        if new_key {
            self.order.insert(IndexKey(v.clone()));
        }
    }

    fn remove(&mut self, v: &Value, id: NodeId) {
        let emptied = match int_key(v) {
            Some(i) => remove_id(&mut self.ints, &i, id),
            None => remove_id(&mut self.ids, &EqKey(v.clone()), id),
        };
        if emptied {
            self.order.remove(&IndexKey(v.clone()));
        }
    }

    /// Every node filed under a key in `range` (ascending id, no duplicates). A superset of
    /// what any snapshot sees there: the caller re-checks visibility.
    /// An equality seek borrows the key's id list (no copy: the caller filters it into its
    /// own answer anyway).
    pub fn candidates(&self, range: &KeyRange) -> Cow<'_, [NodeId]> {
        if range.is_empty() {
            return Cow::Borrowed(&[]);
        }
        let delta = self.delta_candidates(range);
        let Some(base) = &self.base else {
            return delta;
        };
        let mut out = match range.point() {
            Some(v) => base.eq(v),
            None => base.range(range),
        };
        if out.is_empty() {
            return delta;
        }
        if !delta.is_empty() {
            // A base node written since open may be filed in both parts.
            out.extend_from_slice(&delta);
            out.sort_unstable();
            out.dedup();
        }
        Cow::Owned(out)
    }

    /// Starts loading what an equality seek for `v` reads first in the base image (its
    /// table slot); a hint, see `BaseIndex::prefetch_eq`.
    pub fn prefetch_eq(&self, v: &Value) {
        if let Some(base) = &self.base {
            base.prefetch_eq(v);
        }
    }

    /// [`candidates`](Self::candidates) from the in-memory part alone.
    fn delta_candidates(&self, range: &KeyRange) -> Cow<'_, [NodeId]> {
        if let Some(v) = range.point() {
            return Cow::Borrowed(self.get(v));
        }
        let conv = |b: &Bound<Value>| match b {
            Bound::Included(v) => Bound::Included(IndexKey(v.clone())),
            Bound::Excluded(v) => Bound::Excluded(IndexKey(v.clone())),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut out: Vec<NodeId> = Vec::new();
        let mut runs = 0;
        for key in self.order.range((conv(&range.lower), conv(&range.upper))) {
            let ids = self.get(&key.0);
            if !ids.is_empty() {
                out.extend_from_slice(ids);
                runs += 1;
            }
        }
        if runs > 1 {
            out.sort_unstable();
            out.dedup();
        }
        Cow::Owned(out)
    }

    /// Number of distinct keys in the in-memory part (for tests and statistics).
    pub fn key_count(&self) -> usize {
        self.ints.len() + self.ids.len()
    }
}

/// All definitions and contents of one graph. Lives inside `GraphData`, under its latch, so
/// index entries change atomically with the versions they describe.
#[derive(Debug, Default)]
pub struct Schema {
    defs: Vec<IndexDef>,
    /// Fx hashing: the keys are our own small ids, and every seek looks one up.
    contents: rustc_hash::FxHashMap<(LabelId, KeyId), PropIndex>,
    /// Indexed keys per label (maintenance looks nodes up by their labels).
    keys_by_label: HashMap<LabelId, Vec<KeyId>>,
    /// Every `(label, key)` indexed at any time since open: commit summaries describe changes
    /// to these, so that a transaction that read through an index dropped since still
    /// validates correctly.
    tracked: HashSet<(LabelId, KeyId)>,
    /// Contents of the base image's indexes (read in place from its index section, or built
    /// while it was checked at open), taken by the base's own index definitions (`GraphData::apply_base_schema`); empty at all other times, so
    /// an index defined later is always built from the graph as it then is.
    prebuilt: HashMap<(LabelId, KeyId), PropIndex>,
}

/// The `(label, key, value)` entries one node version contributes to `schema`.
fn entries_of<'d>(
    keys_by_label: &HashMap<LabelId, Vec<KeyId>>,
    d: &'d NodeData,
    out: &mut Vec<(LabelId, KeyId, &'d Value)>,
) {
    for l in &d.labels {
        if let Some(keys) = keys_by_label.get(l) {
            for k in keys {
                if let Some(v) = super::graph::prop_get(&d.props, *k) {
                    out.push((*l, *k, v));
                }
            }
        }
    }
}

impl Schema {
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn defs(&self) -> &[IndexDef] {
        &self.defs
    }

    pub fn def(&self, name: &str) -> Option<&IndexDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// Whether any uniqueness constraint exists.
    pub fn has_unique(&self) -> bool {
        self.defs.iter().any(|d| d.unique)
    }

    /// Uniqueness constraints on `label`.
    pub fn unique_on(&self, label: LabelId) -> impl Iterator<Item = &IndexDef> {
        self.defs
            .iter()
            .filter(move |d| d.unique && d.label == label)
    }

    /// The contents for `(label, key)` if an index there is usable at `snapshot`.
    pub fn usable(&self, label: LabelId, key: KeyId, snapshot: u64) -> Option<&PropIndex> {
        if !self
            .defs
            .iter()
            .any(|d| d.label == label && d.key == key && d.created_ts <= snapshot)
        {
            return None;
        }
        self.contents.get(&(label, key))
    }

    pub fn contents(&self, label: LabelId, key: KeyId) -> Option<&PropIndex> {
        self.contents.get(&(label, key))
    }

    /// Distinct keys in the in-memory parts of all contents.
    pub fn keys_in_memory(&self) -> usize {
        self.contents.values().map(PropIndex::key_count).sum()
    }

    pub fn tracked(&self) -> &HashSet<(LabelId, KeyId)> {
        &self.tracked
    }

    /// Adds a definition. A new `(label, key)` gets its contents from `entries` (every
    /// `(value, node)` pair any version in memory or the base image carries); a pair that
    /// already has contents ignores them.
    pub fn add(&mut self, def: IndexDef, entries: Vec<(Value, NodeId)>) {
        let pair = (def.label, def.key);
        self.defs.push(def);
        self.tracked.insert(pair);
        if self.contents.contains_key(&pair) {
            return;
        }
        self.keys_by_label.entry(pair.0).or_default().push(pair.1);
        let idx = match self.prebuilt.remove(&pair) {
            Some(idx) => idx,
            None => PropIndex::build(entries),
        };
        self.contents.insert(pair, idx);
    }

    /// Whether contents for `(label, key)` were built at open and await their definition.
    pub fn has_prebuilt(&self, label: LabelId, key: KeyId) -> bool {
        self.prebuilt.contains_key(&(label, key))
    }

    /// Sets (or, with an empty map, discards) the contents built at open.
    pub fn set_prebuilt(&mut self, built: HashMap<(LabelId, KeyId), PropIndex>) {
        self.prebuilt = built;
    }

    /// Removes a definition by name; contents go when no definition uses them any more.
    pub fn remove(&mut self, name: &str) -> Option<IndexDef> {
        let i = self.defs.iter().position(|d| d.name == name)?;
        let def = self.defs.remove(i);
        let pair = (def.label, def.key);
        if !self.defs.iter().any(|d| (d.label, d.key) == pair) {
            self.contents.remove(&pair);
            if let Some(keys) = self.keys_by_label.get_mut(&pair.0) {
                keys.retain(|k| *k != pair.1);
                if keys.is_empty() {
                    self.keys_by_label.remove(&pair.0);
                }
            }
        }
        Some(def)
    }

    /// Files a newly installed node version.
    pub fn note(&mut self, id: NodeId, d: &NodeData) {
        if self.keys_by_label.is_empty() {
            return;
        }
        let mut es = Vec::new();
        entries_of(&self.keys_by_label, d, &mut es);
        for (l, k, v) in es {
            if let Some(idx) = self.contents.get_mut(&(l, k)) {
                idx.insert(v, id);
            }
        }
    }

    /// The entries node `id`'s versions contribute now (call before a change that may drop
    /// versions, then pass the result to `prune`).
    pub fn entries(
        &self,
        versions: &[super::graph::Version<NodeData>],
    ) -> Vec<(LabelId, KeyId, Value)> {
        if self.keys_by_label.is_empty() {
            return Vec::new();
        }
        let mut es = Vec::new();
        for d in versions.iter().filter_map(|v| v.data.as_ref()) {
            entries_of(&self.keys_by_label, d, &mut es);
        }
        es.into_iter().map(|(l, k, v)| (l, k, v.clone())).collect()
    }

    /// Removes the entries in `before` that no remaining version of node `id` carries.
    pub fn prune(
        &mut self,
        id: NodeId,
        before: Vec<(LabelId, KeyId, Value)>,
        versions: &[super::graph::Version<NodeData>],
    ) {
        if before.is_empty() {
            return;
        }
        let after = self.entries(versions);
        for (l, k, v) in before {
            let still = after
                .iter()
                .any(|(l2, k2, v2)| *l2 == l && *k2 == k && key_cmp(v2, &v) == Ordering::Equal);
            if !still {
                if let Some(idx) = self.contents.get_mut(&(l, k)) {
                    idx.remove(&v, id);
                }
            }
        }
    }

    /// The definitions as log changes (for a base image's catalog section): replaying them on
    /// an empty schema (after the label and key definitions) re-creates every definition.
    pub fn definition_changes(&self) -> Vec<Change> {
        self.defs
            .iter()
            .map(|d| Change::CreateIndex {
                name: d.name.clone(),
                label: d.label,
                key: d.key,
                unique: d.unique,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_built_index_equals_one_built_by_insertion() {
        let vals = [
            Value::Int(3),
            Value::Float(3.0),
            Value::String("b".into()),
            Value::Float(f64::NAN),
            Value::Int(-7),
            Value::String("a".into()),
            Value::Bool(true),
            Value::List(vec![Value::Int(1)]),
            Value::Int(3),
        ];
        // Unordered, with one node carrying the same key in two versions.
        let entries: Vec<(Value, NodeId)> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), (i as NodeId * 5) % 7))
            .chain([(vals[0].clone(), 2), (vals[0].clone(), 2)])
            .collect();
        let mut by_insert = PropIndex::default();
        for (v, id) in &entries {
            by_insert.insert(v, *id);
        }
        let bulk = PropIndex::build(entries.clone());
        // Keys in index order with their ids (the ids through the hash map).
        let flat = |p: &PropIndex| -> Vec<(String, Vec<NodeId>)> {
            p.order
                .iter()
                .map(|k| {
                    let ids = p.get(&k.0).to_vec();
                    (format!("{:?}", class(&k.0)), ids)
                })
                .collect()
        };
        assert_eq!(flat(&bulk), flat(&by_insert));
        assert_eq!(bulk.key_count(), by_insert.key_count());
        assert_eq!(bulk.order.len(), bulk.key_count());
        for (a, b) in bulk.order.iter().zip(by_insert.order.iter()) {
            assert_eq!(key_cmp(&a.0, &b.0), Ordering::Equal);
        }
        let three = KeyRange {
            lower: Bound::Included(Value::Int(3)),
            upper: Bound::Included(Value::Int(3)),
        };
        assert_eq!(bulk.candidates(&three), by_insert.candidates(&three));
        assert_eq!(bulk.candidates(&three), vec![0, 2, 5]);
    }

    #[test]
    fn integer_keys_share_one_entry_and_a_lone_id_is_inline() {
        let mut idx = PropIndex::default();
        idx.insert(&Value::Int(1), 7);
        assert!(matches!(idx.ints.get(&1), Some(Ids::One(7))));
        // 1.0 is the key 1; -0.0 is 0; 1.5, NaN and 2^63 are not integer keys.
        idx.insert(&Value::Float(1.0), 3);
        idx.insert(&Value::Float(-0.0), 4);
        idx.insert(&Value::Int(0), 4);
        idx.insert(&Value::Float(1.5), 5);
        idx.insert(&Value::Float(f64::NAN), 6);
        idx.insert(&Value::Float(9_223_372_036_854_775_808.0), 8);
        assert_eq!(idx.candidates(&KeyRange::eq(Value::Int(1))), vec![3, 7]);
        assert_eq!(idx.candidates(&KeyRange::eq(Value::Float(0.0))), vec![4]);
        assert_eq!((idx.ints.len(), idx.ids.len()), (2, 3));
        assert_eq!(idx.key_count(), idx.order.len());
        // Removing down to one id goes back inline; removing the last drops the key.
        idx.remove(&Value::Int(1), 7);
        assert!(matches!(idx.ints.get(&1), Some(Ids::One(3))));
        idx.remove(&Value::Int(1), 99);
        assert_eq!(idx.candidates(&KeyRange::eq(Value::Int(1))), vec![3]);
        idx.remove(&Value::Float(1.0), 3);
        assert!(idx.candidates(&KeyRange::eq(Value::Int(1))).is_empty());
        assert_eq!(idx.key_count(), 4);
        assert_eq!(idx.key_count(), idx.order.len());
        // A range sees integer and other keys in index order.
        let r = KeyRange::within_class_of(
            &Value::Int(0),
            Bound::Included(Value::Int(0)),
            Bound::Unbounded,
        )
        .unwrap();
        assert_eq!(idx.candidates(&r), vec![4, 5, 8]);
    }

    #[test]
    fn numbers_compare_exactly_and_group_by_class() {
        assert_eq!(key_cmp(&Value::Int(1), &Value::Float(1.0)), Ordering::Equal);
        assert_eq!(key_cmp(&Value::Int(1), &Value::Float(1.5)), Ordering::Less);
        let big = 1i64 << 53;
        assert_eq!(
            key_cmp(&Value::Int(big + 1), &Value::Float(big as f64)),
            Ordering::Greater
        );
        assert_eq!(
            key_cmp(&Value::Float(f64::INFINITY), &Value::Float(f64::NAN)),
            Ordering::Less
        );
        assert_eq!(
            key_cmp(&Value::String("a".into()), &Value::Int(0)),
            Ordering::Less
        );
        assert_eq!(
            key_cmp(
                &Value::List(vec![Value::Int(1)]),
                &Value::List(vec![Value::Float(1.0)])
            ),
            Ordering::Equal
        );
    }

    #[test]
    fn ranges_stay_inside_their_class() {
        let mut idx = PropIndex::default();
        idx.insert(&Value::Int(1), 1);
        idx.insert(&Value::Float(2.5), 2);
        idx.insert(&Value::String("x".into()), 3);
        idx.insert(&Value::Float(f64::NAN), 4);
        idx.insert(&Value::Bool(true), 5);
        let r = KeyRange::within_class_of(
            &Value::Int(0),
            Bound::Excluded(Value::Int(0)),
            Bound::Unbounded,
        )
        .unwrap();
        assert_eq!(idx.candidates(&r), vec![1, 2]);
        let r = KeyRange::within_class_of(
            &Value::String(String::new()),
            Bound::Unbounded,
            Bound::Unbounded,
        )
        .unwrap();
        assert_eq!(idx.candidates(&r), vec![3]);
        assert_eq!(idx.candidates(&KeyRange::eq(Value::Float(1.0))), vec![1]);
        let inverted = KeyRange {
            lower: Bound::Included(Value::Int(5)),
            upper: Bound::Excluded(Value::Int(5)),
        };
        assert!(idx.candidates(&inverted).is_empty());
        idx.remove(&Value::Int(1), 1);
        assert_eq!(idx.key_count(), 4);
    }

    /// Equality seeks go through the hash map: every pair of values `key_cmp` calls equal
    /// must find each other there, whichever was filed.
    #[test]
    fn equal_keys_find_each_other_through_the_hash() {
        let equal_pairs = [
            (Value::Int(1), Value::Float(1.0)),
            (Value::Int(0), Value::Float(-0.0)),
            (Value::Int(-(1 << 62)), Value::Float(-(2f64.powi(62)))),
            (Value::Float(f64::NAN), Value::Float(-f64::NAN)),
            (
                Value::List(vec![Value::Int(1), Value::Float(2.0)]),
                Value::List(vec![Value::Float(1.0), Value::Int(2)]),
            ),
            (Value::String("é".into()), Value::String("é".into())),
        ];
        for (a, b) in equal_pairs {
            assert_eq!(key_cmp(&a, &b), Ordering::Equal, "{a:?} vs {b:?}");
            let mut idx = PropIndex::default();
            idx.insert(&a, 7);
            assert_eq!(
                idx.candidates(&KeyRange::eq(b.clone())),
                vec![7],
                "{a:?} vs {b:?}"
            );
            idx.insert(&b, 8);
            assert_eq!(idx.key_count(), 1, "{a:?} and {b:?} are one key");
            idx.remove(&b, 7);
            idx.remove(&a, 8);
            assert_eq!(idx.key_count(), 0);
            assert!(idx.candidates(&KeyRange::eq(a)).is_empty());
        }
        // Near misses stay apart.
        let mut idx = PropIndex::default();
        let big = 1i64 << 53;
        idx.insert(&Value::Int(big + 1), 1);
        idx.insert(&Value::Float(big as f64), 2);
        idx.insert(&Value::Float(1.5), 3);
        assert_eq!(idx.candidates(&KeyRange::eq(Value::Int(big + 1))), vec![1]);
        assert_eq!(idx.candidates(&KeyRange::eq(Value::Int(big))), vec![2]);
        assert!(idx.candidates(&KeyRange::eq(Value::Int(1))).is_empty());
    }
}
