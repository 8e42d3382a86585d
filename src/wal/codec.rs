//! Binary encoding of one committed transaction (the WAL record payload).
//!
//! Payload: `ts: u64 LE`, `count: varint`, then `count` changes. Integers are LEB128 varints
//! (signed ones zigzag-encoded); strings are a varint byte length plus UTF-8. The decoder
//! checks every length against the bytes left and caps value nesting, so a damaged payload
//! that slipped past the checksum yields `Corrupt`, never a panic or a huge allocation.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::storage::{Change, ChangeRef, KeyId, LabelId, NodeId, PropList, RelId, TypeId};
use crate::temporal;
use crate::value::Value;

const MAX_DEPTH: usize = 128;

mod tag {
    pub const DEFINE_LABEL: u8 = 1;
    pub const DEFINE_REL_TYPE: u8 = 2;
    pub const DEFINE_KEY: u8 = 3;
    pub const PUT_NODE: u8 = 4;
    pub const DELETE_NODE: u8 = 5;
    pub const PUT_REL: u8 = 6;
    pub const DELETE_REL: u8 = 7;
    pub const CREATE_INDEX: u8 = 8;
    pub const DROP_INDEX: u8 = 9;

    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const INT: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const STRING: u8 = 5;
    pub const LIST: u8 = 6;
    pub const MAP: u8 = 7;
    // Temporal values (added later; older logs never contain these tags).
    pub const DATE: u8 = 8;
    pub const LOCAL_TIME: u8 = 9;
    pub const TIME: u8 = 10;
    pub const LOCAL_DATE_TIME: u8 = 11;
    pub const DATE_TIME: u8 = 12;
    pub const DURATION: u8 = 13;
}

pub fn encode(ts: u64, changes: &[Change]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64);
    encode_into(&mut buf, ts, changes);
    buf
}

/// Appends the payload of `changes` (borrowed from a commit's versions) to `buf`: the same
/// bytes `encode_into` writes for their owned form.
pub fn encode_refs_into(buf: &mut Vec<u8>, ts: u64, changes: &[ChangeRef<'_>]) {
    let mut e = Encoder {
        buf: std::mem::take(buf),
    };
    e.buf.extend_from_slice(&ts.to_le_bytes());
    e.uvar(changes.len() as u64);
    for c in changes {
        match c {
            ChangeRef::Owned(c) => e.change(c),
            ChangeRef::PutNode { id, labels, props } => e.put_node(*id, labels, props),
            ChangeRef::DeleteNode(id) => e.tagged(tag::DELETE_NODE, *id),
            ChangeRef::PutRel {
                id,
                rel_type,
                start,
                end,
                props,
            } => e.put_rel(*id, *rel_type, *start, *end, props),
            ChangeRef::DeleteRel(id) => e.tagged(tag::DELETE_REL, *id),
        }
    }
    *buf = e.buf;
}

/// Appends the payload `encode` returns to `buf` (so a log record can be framed in place).
pub fn encode_into(buf: &mut Vec<u8>, ts: u64, changes: &[Change]) {
    let mut e = Encoder {
        buf: std::mem::take(buf),
    };
    e.buf.extend_from_slice(&ts.to_le_bytes());
    e.uvar(changes.len() as u64);
    for c in changes {
        e.change(c);
    }
    *buf = e.buf;
}

pub fn decode(payload: &[u8]) -> Result<(u64, Vec<Change>)> {
    let mut d = Decoder {
        buf: payload,
        pos: 0,
    };
    let ts = u64::from_le_bytes(d.array::<8>()?);
    let count = d.uvar()?;
    let mut changes = Vec::with_capacity(count.min(1024) as usize);
    for _ in 0..count {
        changes.push(d.change()?);
    }
    if d.pos != payload.len() {
        return Err(d.bad("trailing bytes after the last change"));
    }
    Ok((ts, changes))
}

/// Appends `props` in the log's property-list encoding. Base images store property lists
/// this way too, so there is one value encoding on disk.
pub fn encode_props(buf: &mut Vec<u8>, props: &PropList) {
    let mut e = Encoder {
        buf: std::mem::take(buf),
    };
    e.props(props);
    *buf = e.buf;
}

/// Decodes one property list (as written by `encode_props`) from the start of `bytes`;
/// returns it and the number of bytes it took.
pub fn decode_props(bytes: &[u8]) -> Result<(PropList, usize)> {
    let mut d = Decoder { buf: bytes, pos: 0 };
    let props = d.props()?;
    Ok((props, d.pos))
}

/// The value of `key` in one encoded property list (as written by `encode_props`), decoding
/// only that value: the others are stepped over (strings without copying). The base image
/// reads single properties in place this way.
pub fn decode_prop(bytes: &[u8], key: u32) -> Result<Option<Value>> {
    let mut d = Decoder { buf: bytes, pos: 0 };
    let n = d.count()?;
    for _ in 0..n {
        let k = d.u32var()?;
        if k == key {
            return d.value(0).map(Some);
        }
        d.skip_value()?;
    }
    Ok(None)
}

/// Calls `f(key, Some(i))` for each integer property of one encoded property list (as
/// written by `encode_props`) and `f(key, None)` for each property of another type, stepping
/// over the values without building them (the image writer's column scan).
pub fn scan_int_props(bytes: &[u8], mut f: impl FnMut(u32, Option<i64>)) -> Result<()> {
    let mut d = Decoder { buf: bytes, pos: 0 };
    let n = d.count()?;
    for _ in 0..n {
        let k = d.u32var()?;
        if d.buf.get(d.pos).copied() == Some(tag::INT) {
            d.pos += 1;
            f(k, Some(d.ivar()?));
        } else {
            d.skip_value()?;
            f(k, None);
        }
    }
    Ok(())
}

/// Checks that `bytes` hold exactly one well-formed property list with ascending unique keys
/// and no nulls (what `decode_props` would accept, without building it); used to validate a
/// base image's property heaps once at open so in-place reads cannot meet a bad encoding.
pub fn check_props(bytes: &[u8]) -> Result<()> {
    check_props_picking(bytes, &[], |_, _| {})
}

/// [`check_props`], also handing `found` the decoded value of every key in `pick` (the keys
/// a caller indexes), so opening a base image checks and extracts in one pass.
///
/// The common scalar kinds are stepped over in place (no `Value` is built); they accept
/// exactly what `Decoder::value` accepts for the same tag, and every other kind goes through
/// `value` itself, so the check is as strict as a full decode.
pub fn check_props_picking(
    bytes: &[u8],
    pick: &[u32],
    mut found: impl FnMut(u32, Value),
) -> Result<()> {
    let mut d = Decoder { buf: bytes, pos: 0 };
    let n = d.count()?;
    let mut last: Option<u32> = None;
    for _ in 0..n {
        let k = d.u32var()?;
        if last.is_some_and(|l| l >= k) {
            return Err(d.bad("property keys out of order"));
        }
        last = Some(k);
        match d.buf.get(d.pos).copied() {
            Some(tag::NULL) => return Err(d.bad("a stored null property")),
            _ if pick.contains(&k) => found(k, d.value(0)?),
            Some(tag::FALSE | tag::TRUE) => d.pos += 1,
            Some(tag::INT) => {
                d.pos += 1;
                d.uvar()?;
            }
            Some(tag::FLOAT) => {
                d.pos += 1;
                d.array::<8>()?;
            }
            // Checked for UTF-8 without copying.
            Some(tag::STRING) => {
                d.pos += 1;
                d.str_slice()?;
            }
            _ => {
                d.value(0)?;
            }
        }
    }
    if d.pos != bytes.len() {
        return Err(d.bad("trailing bytes after a property list"));
    }
    Ok(())
}

struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// A one-tag change naming one entity (a deletion).
    fn tagged(&mut self, t: u8, id: u64) {
        self.buf.push(t);
        self.uvar(id);
    }

    fn uvar(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn ivar(&mut self, v: i64) {
        self.uvar(((v << 1) ^ (v >> 63)) as u64);
    }

    fn str(&mut self, s: &str) {
        self.uvar(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn props(&mut self, props: &[(KeyId, Value)]) {
        self.uvar(props.len() as u64);
        for (k, v) in props {
            self.uvar(u64::from(*k));
            self.value(v);
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.buf.push(tag::NULL),
            Value::Bool(false) => self.buf.push(tag::FALSE),
            Value::Bool(true) => self.buf.push(tag::TRUE),
            Value::Int(i) => {
                self.buf.push(tag::INT);
                self.ivar(*i);
            }
            Value::Float(f) => {
                self.buf.push(tag::FLOAT);
                self.buf.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Value::String(s) => {
                self.buf.push(tag::STRING);
                self.str(s);
            }
            Value::List(items) => {
                self.buf.push(tag::LIST);
                self.uvar(items.len() as u64);
                for i in items {
                    self.value(i);
                }
            }
            Value::Map(m) => {
                self.buf.push(tag::MAP);
                self.uvar(m.len() as u64);
                for (k, v) in m {
                    self.str(k);
                    self.value(v);
                }
            }
            Value::Date(d) => {
                self.buf.push(tag::DATE);
                self.ivar(d.epoch_day());
            }
            Value::LocalTime(t) => {
                self.buf.push(tag::LOCAL_TIME);
                self.ivar(t.nanos_of_day());
            }
            Value::Time(t) => {
                self.buf.push(tag::TIME);
                self.ivar(t.time.nanos_of_day());
                self.ivar(i64::from(t.offset));
            }
            Value::LocalDateTime(l) => {
                self.buf.push(tag::LOCAL_DATE_TIME);
                self.ivar(l.date.epoch_day());
                self.ivar(l.time.nanos_of_day());
            }
            Value::DateTime(dt) => {
                self.buf.push(tag::DATE_TIME);
                self.ivar(dt.local.date.epoch_day());
                self.ivar(dt.local.time.nanos_of_day());
                self.ivar(i64::from(dt.offset));
                // The zone name, empty for a plain offset.
                match dt.zone {
                    Some(temporal::Zone::Named(tz)) => self.str(tz.name()),
                    _ => self.str(""),
                }
            }
            Value::Duration(d) => {
                self.buf.push(tag::DURATION);
                self.ivar(d.months());
                self.ivar(d.days());
                self.ivar(d.seconds());
                self.ivar(d.nanos());
            }
            // The storage layer refuses entities as property values, so none reach the log.
            Value::Node(_) | Value::Relationship(_) | Value::Path(_) => self.buf.push(tag::NULL),
        }
    }

    fn put_node(&mut self, id: NodeId, labels: &[LabelId], props: &[(KeyId, Value)]) {
        self.buf.push(tag::PUT_NODE);
        self.uvar(id);
        self.uvar(labels.len() as u64);
        for l in labels {
            self.uvar(u64::from(*l));
        }
        self.props(props);
    }

    fn put_rel(
        &mut self,
        id: RelId,
        rel_type: TypeId,
        start: NodeId,
        end: NodeId,
        props: &[(KeyId, Value)],
    ) {
        self.buf.push(tag::PUT_REL);
        self.uvar(id);
        self.uvar(u64::from(rel_type));
        self.uvar(start);
        self.uvar(end);
        self.props(props);
    }

    fn change(&mut self, c: &Change) {
        match c {
            Change::DefineLabel(id, name) => {
                self.buf.push(tag::DEFINE_LABEL);
                self.uvar(u64::from(*id));
                self.str(name);
            }
            Change::DefineRelType(id, name) => {
                self.buf.push(tag::DEFINE_REL_TYPE);
                self.uvar(u64::from(*id));
                self.str(name);
            }
            Change::DefineKey(id, name) => {
                self.buf.push(tag::DEFINE_KEY);
                self.uvar(u64::from(*id));
                self.str(name);
            }
            Change::PutNode { id, labels, props } => self.put_node(*id, labels, props),
            Change::DeleteNode(id) => self.tagged(tag::DELETE_NODE, *id),
            Change::PutRel {
                id,
                rel_type,
                start,
                end,
                props,
            } => self.put_rel(*id, *rel_type, *start, *end, props),
            Change::DeleteRel(id) => self.tagged(tag::DELETE_REL, *id),
            Change::CreateIndex {
                name,
                label,
                key,
                unique,
            } => {
                self.buf.push(tag::CREATE_INDEX);
                self.str(name);
                self.uvar(u64::from(*label));
                self.uvar(u64::from(*key));
                self.buf.push(u8::from(*unique));
            }
            Change::DropIndex { name } => {
                self.buf.push(tag::DROP_INDEX);
                self.str(name);
            }
        }
    }
}

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn bad(&self, what: &str) -> Error {
        Error::corrupt(format!(
            "damaged log record: {what} at payload byte {}",
            self.pos
        ))
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.bad("record ends early"))?;
        self.pos += 1;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let end = self.pos.checked_add(N).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| self.bad("record ends early"))?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.pos..end]);
        self.pos = end;
        Ok(out)
    }

    fn uvar(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.bad("varint too long"))
    }

    fn u32var(&mut self) -> Result<u32> {
        let v = self.uvar()?;
        u32::try_from(v).map_err(|_| self.bad("id out of range"))
    }

    fn ivar(&mut self) -> Result<i64> {
        let u = self.uvar()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A count of items each taking at least one byte: bounded by the bytes left.
    fn count(&mut self) -> Result<usize> {
        let n = self.uvar()?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(self.bad("count larger than the record"));
        }
        Ok(n as usize)
    }

    fn str(&mut self) -> Result<String> {
        self.str_slice().map(str::to_owned)
    }

    fn str_slice(&mut self) -> Result<&'a str> {
        let n = self.count()?;
        let buf: &'a [u8] = self.buf;
        let bytes = &buf[self.pos..self.pos + n];
        let s = std::str::from_utf8(bytes).map_err(|_| self.bad("invalid UTF-8"))?;
        self.pos += n;
        Ok(s)
    }

    /// Steps over one value: scalars and strings without decoding, the rest decoded and
    /// dropped (rare in property lists).
    fn skip_value(&mut self) -> Result<()> {
        match self.buf.get(self.pos).copied() {
            Some(tag::NULL | tag::FALSE | tag::TRUE) => self.pos += 1,
            Some(tag::INT) => {
                self.pos += 1;
                self.uvar()?;
            }
            Some(tag::FLOAT) => {
                self.pos += 1;
                self.array::<8>()?;
            }
            Some(tag::STRING) => {
                self.pos += 1;
                let n = self.count()?;
                self.pos += n;
            }
            _ => {
                self.value(0)?;
            }
        }
        Ok(())
    }

    fn props(&mut self) -> Result<PropList> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.u32var()?;
            out.push((k, self.value(0)?));
        }
        Ok(out)
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(self.bad("values nested too deeply"));
        }
        let tag_byte = self.byte()?;
        Ok(match tag_byte {
            tag::NULL => Value::Null,
            tag::FALSE => Value::Bool(false),
            tag::TRUE => Value::Bool(true),
            tag::INT => Value::Int(self.ivar()?),
            tag::FLOAT => Value::Float(f64::from_bits(u64::from_le_bytes(self.array::<8>()?))),
            tag::STRING => Value::String(self.str()?),
            tag::LIST => {
                let n = self.count()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items)
            }
            tag::MAP => {
                let n = self.count()?;
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.str()?;
                    m.insert(k, self.value(depth + 1)?);
                }
                Value::Map(m)
            }
            tag::DATE..=tag::DURATION => self.temporal(tag_byte)?,
            _ => return Err(self.bad("unknown value tag")),
        })
    }

    fn temporal(&mut self, t: u8) -> Result<Value> {
        let bad = |d: &Self| d.bad("invalid temporal value");
        let date = |d: &mut Self| -> Result<temporal::Date> {
            let days = d.ivar()?;
            temporal::Date::from_epoch_day(days).map_err(|_| bad(d))
        };
        let time = |d: &mut Self| -> Result<temporal::LocalTime> {
            let n = d.ivar()?;
            temporal::LocalTime::from_nanos_of_day(n).map_err(|_| bad(d))
        };
        let offset = |d: &mut Self| -> Result<i32> {
            let o = d.ivar()?;
            i32::try_from(o).map_err(|_| bad(d))
        };
        Ok(match t {
            tag::DATE => Value::Date(date(self)?),
            tag::LOCAL_TIME => Value::LocalTime(time(self)?),
            tag::TIME => Value::Time(temporal::Time {
                time: time(self)?,
                offset: offset(self)?,
            }),
            tag::LOCAL_DATE_TIME => Value::LocalDateTime(temporal::LocalDateTime {
                date: date(self)?,
                time: time(self)?,
            }),
            tag::DATE_TIME => {
                let local = temporal::LocalDateTime {
                    date: date(self)?,
                    time: time(self)?,
                };
                let offset = offset(self)?;
                let name = self.str()?;
                let zone = if name.is_empty() {
                    None
                } else {
                    Some(temporal::Zone::parse(&name).map_err(|_| bad(self))?)
                };
                Value::DateTime(temporal::DateTime {
                    local,
                    offset,
                    zone,
                })
            }
            _ => {
                let (m, days, s, n) = (self.ivar()?, self.ivar()?, self.ivar()?, self.ivar()?);
                Value::Duration(temporal::Duration::new(m, days, s, n).map_err(|_| bad(self))?)
            }
        })
    }

    fn change(&mut self) -> Result<Change> {
        Ok(match self.byte()? {
            tag::DEFINE_LABEL => Change::DefineLabel(self.u32var()?, self.str()?),
            tag::DEFINE_REL_TYPE => Change::DefineRelType(self.u32var()?, self.str()?),
            tag::DEFINE_KEY => Change::DefineKey(self.u32var()?, self.str()?),
            tag::PUT_NODE => {
                let id = self.uvar()?;
                let n = self.count()?;
                let mut labels = Vec::with_capacity(n);
                for _ in 0..n {
                    labels.push(self.u32var()?);
                }
                Change::PutNode {
                    id,
                    labels,
                    props: self.props()?,
                }
            }
            tag::DELETE_NODE => Change::DeleteNode(self.uvar()?),
            tag::PUT_REL => Change::PutRel {
                id: self.uvar()?,
                rel_type: self.u32var()?,
                start: self.uvar()?,
                end: self.uvar()?,
                props: self.props()?,
            },
            tag::DELETE_REL => Change::DeleteRel(self.uvar()?),
            tag::CREATE_INDEX => Change::CreateIndex {
                name: self.str()?,
                label: self.u32var()?,
                key: self.u32var()?,
                unique: match self.byte()? {
                    0 => false,
                    1 => true,
                    _ => return Err(self.bad("bad uniqueness flag")),
                },
            },
            tag::DROP_INDEX => Change::DropIndex { name: self.str()? },
            _ => return Err(self.bad("unknown change tag")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporal_sample() -> Value {
        use crate::temporal::parse;
        Value::List(vec![
            Value::Date(parse::date("-0044-03-15").unwrap()),
            Value::LocalTime(parse::local_time("23:59:59.999999999").unwrap()),
            Value::Time(parse::time("12:00-02:05:07").unwrap()),
            Value::LocalDateTime(parse::local_date_time("+999999999-12-31T23:59").unwrap()),
            Value::DateTime(parse::date_time("2015-07-21T21:40:32.142[Europe/Stockholm]").unwrap()),
            Value::DateTime(parse::date_time("2015-07-21T21:40:32+01:00").unwrap()),
            Value::Duration(parse::duration("P-1Y2M-3DT-4.5S").unwrap()),
        ])
    }

    fn sample() -> Vec<Change> {
        let mut m = BTreeMap::new();
        m.insert(
            "k".to_owned(),
            Value::List(vec![Value::Int(-5), Value::Null]),
        );
        vec![
            Change::DefineLabel(0, "User".into()),
            Change::DefineKey(0, "name".into()),
            Change::PutNode {
                id: 7,
                labels: vec![0, 3],
                props: vec![
                    (0, Value::String("ä".into())),
                    (1, Value::Float(-0.5)),
                    (2, Value::Map(m)),
                    (3, Value::Int(i64::MIN)),
                    (4, Value::Bool(true)),
                    (5, temporal_sample()),
                ],
            },
            Change::PutRel {
                id: 1 << 40,
                rel_type: 2,
                start: 7,
                end: 8,
                props: vec![],
            },
            Change::DeleteRel(3),
            Change::DeleteNode(9),
            Change::CreateIndex {
                name: "user_id".into(),
                label: 0,
                key: 2,
                unique: true,
            },
            Change::DropIndex { name: "old".into() },
        ]
    }

    #[test]
    fn round_trips() {
        let bytes = encode(42, &sample());
        assert_eq!(decode(&bytes).unwrap(), (42, sample()));
    }

    /// A commit encodes its record from borrowed versions: byte for byte what the owned
    /// changes encode to, so replay reads it back as those changes.
    #[test]
    fn borrowed_changes_encode_as_their_owned_form() {
        let owned = sample();
        let refs: Vec<ChangeRef<'_>> = owned.iter().map(ChangeRef::from).collect();
        assert!(refs.iter().any(|r| !matches!(r, ChangeRef::Owned(_))));
        let mut buf = vec![0xAA; 3];
        encode_refs_into(&mut buf, 42, &refs);
        assert_eq!(&buf[..3], &[0xAA; 3], "appends after what the buffer holds");
        assert_eq!(&buf[3..], &encode(42, &owned)[..]);
        let back: Vec<Change> = refs.iter().map(ChangeRef::to_change).collect();
        assert_eq!(back, owned);
        assert_eq!(decode(&buf[3..]).unwrap(), (42, owned));
    }

    /// The check's in-place fast path for scalars must accept exactly what the check that
    /// picks (fully decodes) every value accepts, and what it picks must be the full decode.
    #[test]
    fn checking_props_in_place_agrees_with_decoding_them() {
        let Some(Change::PutNode { props, .. }) = sample().into_iter().nth(2) else {
            panic!("the sample's third change is a node");
        };
        let mut bytes = Vec::new();
        encode_props(&mut bytes, &props);
        // The sample's keys and others a flip may turn them into.
        let keys: Vec<u32> = (0..64).collect();
        let mut variants = vec![bytes.clone()];
        variants.extend((0..bytes.len()).map(|cut| bytes[..cut].to_vec()));
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                variants.push(b);
            }
        }
        let mut accepted = 0;
        for b in &variants {
            let plain = check_props(b).is_ok();
            let mut picked = Vec::new();
            let picking = check_props_picking(b, &keys, |k, v| picked.push((k, v)));
            assert_eq!(plain, picking.is_ok(), "{b:?}");
            if plain {
                accepted += 1;
                let (full, used) = decode_props(b).unwrap();
                assert_eq!(used, b.len(), "{b:?}");
                let full: PropList = full.into_iter().filter(|(k, _)| keys.contains(k)).collect();
                // Debug form: a flipped float may be NaN.
                assert_eq!(format!("{picked:?}"), format!("{full:?}"), "{b:?}");
            }
        }
        assert!(accepted > 1, "the intact list and some flips decode");
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_or_a_valid_decode() {
        let bytes = encode(42, &sample());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                // Must not panic; either kind of outcome is acceptable for the codec alone
                // (the CRC in front of it catches flips).
                let _ = decode(&b);
            }
        }
    }
}
