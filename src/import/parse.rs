//! Reading the CSV files into a batch of new nodes and relationships, checked and resolved,
//! without touching the graph (only the catalog interns names, which is not transactional
//! and harmless: a name nothing uses is invisible).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use super::header::{self, Column, PropType};
use super::spec::{IdType, ImportSpec};
use super::{Phase, Progress, ProgressFn};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::chain::VersionChain;
use crate::storage::graph::{NodeData, RelData, RelEntry, Version, Visibility};
use crate::storage::{Graph, KeyId, LabelId, PropList};
use crate::value::Value;

/// Tags an endpoint that is the batch's node at this index (not a node already stored).
pub const NEW: u64 = 1 << 63;

/// Everything an import creates.
#[derive(Default)]
pub struct Batch {
    pub nodes: Vec<NodeData>,
    /// Built as the graph holds them (so installing moves rather than rebuilds them), with
    /// ends that are node ids or `NEW | batch index` and one version stamped 0, both fixed
    /// when installed.
    pub rels: Vec<RelEntry>,
    /// Labels that some new node carries (for the uniqueness-constraint check).
    pub labels: Vec<LabelId>,
}

/// One id space's map from CSV id to endpoint. The compact forms (`Affine`, `Dense32`,
/// `Dense`) are built from a finished integer map (`compact`, `from_int_pairs`) and find
/// exactly what it finds; a relationship file looks endpoints up at random, 20M times for
/// 10M relationships, so the lookup's cache footprint is most of its cost.
enum Ids {
    Int(FxHashMap<i64, u64>),
    Str(FxHashMap<Box<str>, u64>),
    /// Id `from + k` is endpoint `first + k` for every `k < len`, and no other id is mapped:
    /// what a node file with consecutive ids produces (its nodes get consecutive node ids).
    /// No table at all.
    Affine {
        from: i64,
        first: u64,
        len: u64,
    },
    /// Dense integer ids whose endpoints all are `tag | slot` with a slot below
    /// `ABSENT32` (`ABSENT32` where no node has the id): half of `Dense`'s footprint.
    Dense32 {
        from: i64,
        tag: u64,
        slots: Vec<u32>,
    },
    /// Integer ids that mostly fill `from..from + slots.len()` (the common case of dense
    /// numeric ids): a direct lookup, `ABSENT` where no node has the id. Much faster than
    /// hashing when relationship files reference nodes in random order.
    Dense {
        from: i64,
        slots: Vec<u64>,
    },
}

const ABSENT: u64 = u64::MAX;
const ABSENT32: u32 = u32::MAX;

/// Whether ids spanning `span` values, `len` of them present, are worth a direct table.
fn dense_enough(span: u128, len: usize) -> bool {
    span <= (len as u128) * 2 + 1024
}

impl Ids {
    fn new(t: IdType) -> Ids {
        match t {
            IdType::Int => Ids::Int(FxHashMap::default()),
            IdType::String => Ids::Str(FxHashMap::default()),
        }
    }

    fn get(&self, raw: &[u8]) -> Option<u64> {
        match self {
            Ids::Str(m) => std::str::from_utf8(raw)
                .ok()
                .and_then(|s| m.get(s).copied()),
            _ => self.get_int(parse_int(raw)?),
        }
    }

    fn get_int(&self, i: i64) -> Option<u64> {
        match self {
            Ids::Affine { from, first, len } => {
                let k = u64::try_from(i.checked_sub(*from)?).ok()?;
                (k < *len).then(|| first + k)
            }
            Ids::Dense32 { from, tag, slots } => {
                let v = *slots.get(usize::try_from(i.checked_sub(*from)?).ok()?)?;
                (v != ABSENT32).then(|| tag | u64::from(v))
            }
            Ids::Dense { from, slots } => {
                let v = *slots.get(usize::try_from(i.checked_sub(*from)?).ok()?)?;
                (v != ABSENT).then_some(v)
            }
            Ids::Int(m) => m.get(&i).copied(),
            Ids::Str(_) => None,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Ids::Int(m) => m.is_empty(),
            Ids::Str(m) => m.is_empty(),
            Ids::Affine { len, .. } => *len == 0,
            Ids::Dense32 { slots, .. } => slots.is_empty(),
            Ids::Dense { slots, .. } => slots.is_empty(),
        }
    }

    /// Switches a map of mostly consecutive integer ids to a dense form.
    fn compact(self) -> Ids {
        let Ids::Int(m) = self else { return self };
        let (Some(&min), Some(&max)) = (m.keys().min(), m.keys().max()) else {
            return Ids::Int(m);
        };
        let span = (max as i128 - min as i128 + 1) as u128;
        if !dense_enough(span, m.len()) {
            return Ids::Int(m);
        }
        let mut slots = vec![ABSENT; span as usize];
        for (k, v) in m {
            slots[(k - min) as usize] = v;
        }
        Ids::dense(min, slots)
    }

    /// The map holding `pairs` (id, endpoint), in its compact form when the ids are dense;
    /// where an id repeats, its first pair wins. Builds no hash map for dense ids.
    fn from_int_pairs(pairs: Vec<(i64, u64)>) -> Ids {
        let (Some(min), Some(max)) = (
            pairs.iter().map(|p| p.0).min(),
            pairs.iter().map(|p| p.0).max(),
        ) else {
            return Ids::Int(FxHashMap::default());
        };
        let span = (max as i128 - min as i128 + 1) as u128;
        if dense_enough(span, pairs.len()) {
            let mut slots = vec![ABSENT; span as usize];
            for (k, v) in pairs {
                let s = &mut slots[(k - min) as usize];
                if *s == ABSENT {
                    *s = v;
                }
            }
            return Ids::dense(min, slots);
        }
        let mut m = FxHashMap::with_capacity_and_hasher(pairs.len(), Default::default());
        for (k, v) in pairs {
            m.entry(k).or_insert(v);
        }
        Ids::Int(m)
    }

    /// The smallest form of a direct table (`ABSENT` where no node has the id): no table
    /// when the endpoints run consecutively with the ids and none is missing, 32-bit slots
    /// when every endpoint is one tag plus a slot that fits, else the table itself.
    fn dense(from: i64, slots: Vec<u64>) -> Ids {
        let first = slots.first().copied().unwrap_or(ABSENT);
        let affine = first != ABSENT
            && slots
                .iter()
                .enumerate()
                .all(|(k, &v)| v != ABSENT && first.checked_add(k as u64) == Some(v));
        if affine {
            return Ids::Affine {
                from,
                first,
                len: slots.len() as u64,
            };
        }
        let tag = slots.iter().find(|&&v| v != ABSENT).map_or(0, |v| v & NEW);
        let narrow = slots
            .iter()
            .all(|&v| v == ABSENT || (v & NEW == tag && v & !NEW < u64::from(ABSENT32)));
        if narrow {
            let slots = slots
                .iter()
                .map(|&v| {
                    if v == ABSENT {
                        ABSENT32
                    } else {
                        (v & !NEW) as u32
                    }
                })
                .collect();
            return Ids::Dense32 { from, tag, slots };
        }
        Ids::Dense { from, slots }
    }
}

/// An id space: the ids this import's node files define, and (built on first need) the
/// nodes already stored with the space's label, by their `id_property`.
struct Space {
    imported: Ids,
    existing: Option<Ids>,
}

impl Space {
    /// The endpoint for a CSV id: this import's nodes first, then the stored ones. The id is
    /// parsed once, and an empty map is not consulted (the usual case has one of the two).
    fn get(&self, raw: &[u8]) -> Option<u64> {
        let existing = self.existing.as_ref().filter(|e| !e.is_empty());
        let imported = Some(&self.imported).filter(|e| !e.is_empty());
        if matches!(self.imported, Ids::Str(_)) {
            return imported
                .and_then(|m| m.get(raw))
                .or_else(|| existing.and_then(|m| m.get(raw)));
        }
        let i = parse_int(raw)?;
        imported
            .and_then(|m| m.get_int(i))
            .or_else(|| existing.and_then(|m| m.get_int(i)))
    }
}

/// A decimal integer with optional sign and surrounding ASCII blanks; None if malformed or
/// out of range.
fn parse_int(raw: &[u8]) -> Option<i64> {
    let raw = raw.trim_ascii();
    let (neg, digits) = match raw.first()? {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate negatively so that i64::MIN parses.
    let mut v: i64 = 0;
    for &d in digits {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub(i64::from(d))?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

/// A property column, in key order.
struct PropCol {
    col: usize,
    key: KeyId,
    ty: PropType,
}

/// Reads CSV files (or one part of one, for parallel parsing) with one reused record; knows
/// the file's name for messages.
struct Source<'a, 'b> {
    name: String,
    reader: csv::Reader<std::fs::File>,
    record: csv::ByteRecord,
    columns: Vec<Column>,
    /// The part that reports progress (the first); the others only count into `others`.
    progress: Option<&'a mut ProgressFn<'b>>,
    /// What the parts of this file share: the other parts' row count, and whether the
    /// progress callback asked to stop.
    others: &'a Parts,
    phase: Phase,
    rows: u64,
    /// This part: the file offset its reader starts at, where the next part starts, and the
    /// lines before it.
    offset: u64,
    stop: u64,
    line_base: u64,
}

const PROGRESS_EVERY: u64 = 1 << 16;

/// What the parts of one file, read on several threads, share.
#[derive(Default)]
pub(super) struct Parts {
    /// Rows the parts other than the reporting one have read (approximately, for progress).
    rows: AtomicU64,
    /// Set when the progress callback asked to stop: every part stops at its next report.
    cancelled: AtomicBool,
}

fn cancelled() -> Error {
    Error::new(
        ErrorKind::Interrupted,
        "the import was cancelled by its progress callback; nothing was imported",
    )
}

fn csv_reader(file: std::fs::File, spec: &ImportSpec) -> csv::Reader<std::fs::File> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(spec.delimiter)
        .from_reader(file)
}

fn open_file(path: &Path, name: &str) -> Result<std::fs::File> {
    std::fs::File::open(path)
        .map_err(|e| Error::invalid_argument(format!("cannot open the import file {name}: {e}")))
}

impl<'a, 'b> Source<'a, 'b> {
    /// The whole file from its start (reading its header unless `given`).
    fn open(
        path: &Path,
        given: Option<&[String]>,
        spec: &ImportSpec,
        phase: Phase,
        progress: &'a mut ProgressFn<'b>,
        others: &'a Parts,
    ) -> Result<Source<'a, 'b>> {
        let name = path.display().to_string();
        let mut reader = csv_reader(open_file(path, &name)?, spec);
        let mut record = csv::ByteRecord::new();
        let fields: Vec<String> = match given {
            Some(cols) => cols.to_vec(),
            None => {
                let got = reader
                    .read_byte_record(&mut record)
                    .map_err(|e| csv_error(&name, &e))?;
                if !got {
                    return Err(Error::invalid_argument(format!(
                        "{name} is empty: it needs a header row (or give \"columns\" in the spec)"
                    )));
                }
                record
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let f = if i == 0 {
                            f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
                        } else {
                            f
                        };
                        String::from_utf8(f.to_vec()).map_err(|_| {
                            Error::invalid_argument(format!("{name}:1: the header is not UTF-8"))
                        })
                    })
                    .collect::<Result<_>>()?
            }
        };
        let columns = fields
            .iter()
            .map(|f| header::column(f, &name))
            .collect::<Result<Vec<_>>>()?;
        Ok(Source {
            name,
            reader,
            record,
            columns,
            progress: Some(progress),
            others,
            phase,
            rows: 0,
            offset: 0,
            stop: u64::MAX,
            line_base: 0,
        })
    }

    /// Where the data rows start (after the header, if read).
    fn data_start(&self) -> u64 {
        self.reader.position().byte()
    }

    /// A later part of the same file: rows starting in `part.start..part.end`.
    /// `like` is the first part's `(name, columns, phase)`.
    fn part(
        path: &Path,
        spec: &ImportSpec,
        like: (&str, &[Column], Phase),
        others: &'a Parts,
        part: Part,
    ) -> Result<Source<'a, 'b>> {
        use std::io::{Seek, SeekFrom};
        let (name, columns, phase) = like;
        let mut file = open_file(path, name)?;
        file.seek(SeekFrom::Start(part.start))
            .map_err(|e| Error::io(format!("reading {name}"), &e))?;
        Ok(Source {
            name: name.to_owned(),
            reader: csv_reader(file, spec),
            record: csv::ByteRecord::new(),
            columns: columns.to_vec(),
            progress: None,
            others,
            phase,
            rows: 0,
            offset: part.start,
            stop: part.end,
            line_base: part.lines_before,
        })
    }

    /// The next data row (in `self.record`); false at the end of the part.
    fn next(&mut self) -> Result<bool> {
        loop {
            let got = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(&self.name, &e))?;
            let at = self.offset + self.record.position().map_or(0, |p| p.byte());
            if !got || at >= self.stop {
                return Ok(false);
            }
            if self.record.len() != self.columns.len() {
                // A blank line reads as one empty field: skip it, as CSV readers do.
                if self.record.len() == 1 && self.record[0].is_empty() {
                    continue;
                }
                return Err(self.row_error(&format!(
                    "{} fields where the header has {}",
                    self.record.len(),
                    self.columns.len()
                )));
            }
            self.rows += 1;
            if self.rows % PROGRESS_EVERY == 0 {
                let rows = self.rows + self.others.rows.load(Ordering::Relaxed);
                self.report(rows, false)?;
            }
            return Ok(true);
        }
    }

    /// Reports `rows` read so far (the reporting part), or counts this part's last
    /// `PROGRESS_EVERY` rows (the others); either way, stops when the callback asked to.
    fn report(&mut self, rows: u64, done: bool) -> Result<()> {
        match &mut self.progress {
            Some(report) => {
                let progress = Progress {
                    phase: self.phase,
                    file: &self.name,
                    rows,
                    done,
                };
                if report(&progress).is_break() {
                    self.others.cancelled.store(true, Ordering::Relaxed);
                }
            }
            None => {
                self.others
                    .rows
                    .fetch_add(PROGRESS_EVERY, Ordering::Relaxed);
            }
        }
        if self.others.cancelled.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        Ok(())
    }

    /// Reports the end of the file, `rows` rows in all.
    fn finish(&mut self, rows: u64) -> Result<()> {
        self.report(rows, true)
    }

    fn line(&self) -> u64 {
        self.line_base + self.record.position().map_or(0, |p| p.line())
    }

    fn row_error(&self, what: &str) -> Error {
        Error::invalid_argument(format!(
            "{}:{}: {what}; nothing was imported",
            self.name,
            self.line()
        ))
    }

    /// The property columns (the named id column included), sorted by key id.
    fn prop_cols(&self, graph: &Graph, id_type: IdType) -> Result<Vec<PropCol>> {
        let mut cols = Vec::new();
        let mut names: HashMap<&str, ()> = HashMap::new();
        for (i, c) in self.columns.iter().enumerate() {
            let (name, ty) = match c {
                Column::Prop { name, ty } => (name, *ty),
                Column::Id {
                    name: Some(name), ..
                } => (
                    name,
                    match id_type {
                        IdType::Int => PropType::Int,
                        IdType::String => PropType::String,
                    },
                ),
                _ => continue,
            };
            if names.insert(name, ()).is_some() {
                return Err(Error::invalid_argument(format!(
                    "{}: the header names property \"{name}\" twice",
                    self.name
                )));
            }
            cols.push(PropCol {
                col: i,
                key: graph.catalog.keys.intern(name),
                ty,
            });
        }
        cols.sort_by_key(|c| c.key);
        Ok(cols)
    }

    /// The current row's properties; empty fields are absent (null).
    fn props(&self, cols: &[PropCol]) -> Result<PropList> {
        let mut props = Vec::with_capacity(cols.len());
        for c in cols {
            let raw = &self.record[c.col];
            if raw.is_empty() {
                continue;
            }
            let v = match c.ty {
                PropType::String => Value::String(
                    std::str::from_utf8(raw)
                        .map_err(|_| self.row_error("a field is not valid UTF-8"))?
                        .to_owned(),
                ),
                PropType::Int => Value::Int(parse_int(raw).ok_or_else(|| {
                    self.row_error(&format!(
                        "\"{}\" is not an integer (column {})",
                        String::from_utf8_lossy(raw),
                        c.col + 1
                    ))
                })?),
                PropType::Float => Value::Float(
                    std::str::from_utf8(raw)
                        .ok()
                        .and_then(|s| s.trim().parse::<f64>().ok())
                        .ok_or_else(|| {
                            self.row_error(&format!(
                                "\"{}\" is not a number (column {})",
                                String::from_utf8_lossy(raw),
                                c.col + 1
                            ))
                        })?,
                ),
                PropType::Bool => {
                    let s = String::from_utf8_lossy(raw);
                    match s.trim().to_ascii_lowercase().as_str() {
                        "true" => Value::Bool(true),
                        "false" => Value::Bool(false),
                        _ => {
                            return Err(self.row_error(&format!(
                                "\"{s}\" is not a boolean (true or false; column {})",
                                c.col + 1
                            )))
                        }
                    }
                }
            };
            props.push((c.key, v));
        }
        Ok(props)
    }
}

fn csv_error(name: &str, e: &csv::Error) -> Error {
    let at = e
        .position()
        .map_or(String::new(), |p| format!(":{}", p.line()));
    Error::invalid_argument(format!(
        "{name}{at}: malformed CSV ({e}); nothing was imported"
    ))
}

/// Reads every file of `spec` into a batch. `vis` is the snapshot existing nodes are looked
/// up at (the installer re-checks them under the commit lock).
pub fn read(
    spec: &ImportSpec,
    graph: &Graph,
    vis: Visibility,
    progress: &mut ProgressFn<'_>,
) -> Result<Batch> {
    let mut batch = Batch::default();
    let mut spaces: HashMap<String, Space> = HashMap::new();
    for nf in &spec.nodes {
        let others = Parts::default();
        let mut src = Source::open(
            &nf.path,
            nf.columns.as_deref(),
            spec,
            Phase::Nodes,
            &mut *progress,
            &others,
        )?;
        let mut id_col = None;
        for (i, c) in src.columns.iter().enumerate() {
            match c {
                Column::Id { space, .. } if id_col.is_none() => {
                    let space = space
                        .clone()
                        .or_else(|| nf.labels.first().cloned())
                        .unwrap_or_default();
                    id_col = Some((i, space));
                }
                Column::Id { .. } => {
                    return Err(Error::invalid_argument(format!(
                        "{}: the header has two :ID columns",
                        src.name
                    )))
                }
                Column::StartId { .. } | Column::EndId { .. } => {
                    return Err(Error::invalid_argument(format!(
                        "{}: a node file cannot have :START_ID or :END_ID columns",
                        src.name
                    )))
                }
                _ => {}
            }
        }
        let mut labels: Vec<LabelId> = nf
            .labels
            .iter()
            .map(|l| graph.catalog.labels.intern(l))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        batch.labels.extend(&labels);
        let cols = src.prop_cols(graph, spec.id_type)?;
        let ids = id_col.as_ref().map(|(_, space)| {
            &mut spaces
                .entry(space.clone())
                .or_insert_with(|| Space {
                    imported: Ids::new(spec.id_type),
                    existing: None,
                })
                .imported
        });
        let mut ids = ids;
        while src.next()? {
            let index = batch.nodes.len() as u64 | NEW;
            if let (Some((col, space)), Some(ids)) = (&id_col, ids.as_deref_mut()) {
                let raw = &src.record[*col];
                let fresh = match ids {
                    // Maps are compacted only after the last node file.
                    Ids::Affine { .. } | Ids::Dense32 { .. } | Ids::Dense { .. } => {
                        return Err(Error::new(
                            crate::error::ErrorKind::Internal,
                            "import: an id map was compacted before its node files were read",
                        ))
                    }
                    Ids::Int(m) => {
                        let i = parse_int(raw).ok_or_else(|| {
                            src.row_error(&format!(
                                "the id \"{}\" is not an integer (id_type is int)",
                                String::from_utf8_lossy(raw)
                            ))
                        })?;
                        m.insert(i, index).is_none()
                    }
                    Ids::Str(m) => {
                        let s = std::str::from_utf8(raw)
                            .map_err(|_| src.row_error("the id is not valid UTF-8"))?;
                        if s.is_empty() {
                            return Err(src.row_error("the id is empty"));
                        }
                        m.insert(Box::from(s), index).is_none()
                    }
                };
                if !fresh {
                    return Err(src.row_error(&format!(
                        "duplicate node id \"{}\" in id space \"{space}\"",
                        String::from_utf8_lossy(raw)
                    )));
                }
            }
            let props = src.props(&cols)?;
            batch.nodes.push(NodeData {
                labels: labels.clone(),
                props,
            });
        }
        src.finish(src.rows)?;
    }
    for sp in spaces.values_mut() {
        let ids = std::mem::replace(&mut sp.imported, Ids::Str(FxHashMap::default()));
        sp.imported = ids.compact();
    }
    let only_space = (spaces.len() == 1)
        .then(|| spaces.keys().next().cloned())
        .flatten();
    for rf in &spec.relationships {
        let others = Parts::default();
        let mut src = Source::open(
            &rf.path,
            rf.columns.as_deref(),
            spec,
            Phase::Relationships,
            &mut *progress,
            &others,
        )?;
        let mut start = None;
        let mut end = None;
        for (i, c) in src.columns.iter().enumerate() {
            let (slot, space, what) = match c {
                Column::StartId { space } => (&mut start, space, ":START_ID"),
                Column::EndId { space } => (&mut end, space, ":END_ID"),
                Column::Id { .. } => {
                    return Err(Error::invalid_argument(format!(
                        "{}: a relationship file has :START_ID and :END_ID columns, not :ID",
                        src.name
                    )))
                }
                _ => continue,
            };
            if slot.is_some() {
                return Err(Error::invalid_argument(format!(
                    "{}: the header has two {what} columns",
                    src.name
                )));
            }
            let space = space
                .clone()
                .or_else(|| only_space.clone())
                .ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "{}: name the id space of the {what} column, e.g. {what}(User) (this \
                     import defines {} id spaces)",
                        src.name,
                        spaces.len()
                    ))
                })?;
            *slot = Some((i, space));
        }
        let (Some((start_col, start_space)), Some((end_col, end_space))) = (start, end) else {
            return Err(Error::invalid_argument(format!(
                "{}: a relationship file needs a :START_ID and an :END_ID column",
                src.name
            )));
        };
        let rel_type = graph.catalog.rel_types.intern(&rf.rel_type);
        let cols = src.prop_cols(graph, spec.id_type)?;
        for s in [&start_space, &end_space] {
            let sp = spaces.entry(s.clone()).or_insert_with(|| Space {
                imported: Ids::new(spec.id_type),
                existing: None,
            });
            if sp.existing.is_none() {
                let t = std::time::Instant::now();
                sp.existing = Some(existing_ids(graph, vis, s, &spec.id_property, spec.id_type));
                super::trace(&format!(
                    "stored ids of \"{s}\" mapped in {:?}",
                    t.elapsed()
                ));
            }
        }
        let space = |name: &str| {
            spaces.get(name).ok_or_else(|| {
                Error::new(
                    ErrorKind::Internal,
                    format!("import: id space \"{name}\" was not set up"),
                )
            })
        };
        let ctx = RelCtx {
            ends: [
                (start_col, start_space.as_str(), space(&start_space)?),
                (end_col, end_space.as_str(), space(&end_space)?),
            ],
            cols: &cols,
            rel_type,
        };
        let parts = split(&rf.path, src.data_start(), parallelism(), SPLIT_MIN_BYTES)
            .map_err(|e| Error::io(format!("reading {}", src.name), &e))?;
        let mut rows = 0;
        if parts.len() <= 1 {
            read_rels(&mut src, &ctx, &mut batch.rels)?;
            rows += src.rows;
        } else {
            src.stop = parts[0].end;
            let all: u64 = parts.iter().map(|p| p.lines).sum();
            batch.rels.reserve(hint(all));
            let name = src.name.clone();
            let columns = src.columns.clone();
            let results = std::thread::scope(|scope| {
                let handles: Vec<_> = parts[1..]
                    .iter()
                    .map(|&p| {
                        let (ctx, name, columns, others) = (&ctx, &name, &columns, &others);
                        let path = &rf.path;
                        scope.spawn(move || {
                            let like = (name.as_str(), &columns[..], Phase::Relationships);
                            let mut part = Source::part(path, spec, like, others, p)?;
                            let mut out = Vec::with_capacity(hint(p.lines));
                            read_rels(&mut part, ctx, &mut out).map(|()| (out, part.rows))
                        })
                    })
                    .collect();
                let first = read_rels(&mut src, &ctx, &mut batch.rels).map(|()| src.rows);
                let later: Vec<_> = handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(Error::new(
                                crate::error::ErrorKind::Internal,
                                "an import parser thread panicked",
                            ))
                        })
                    })
                    .collect();
                (first, later)
            });
            // The first error in file order wins.
            rows += results.0?;
            for r in results.1 {
                let (mut out, n) = r?;
                batch.rels.append(&mut out);
                rows += n;
            }
        }
        src.finish(rows)?;
    }
    batch.labels.sort_unstable();
    batch.labels.dedup();
    Ok(batch)
}

/// What parsing a relationship file needs besides its rows.
struct RelCtx<'a> {
    /// Start and end id columns with their id spaces' names and maps (resolved once per
    /// file rather than hashed by name twice per row).
    ends: [(usize, &'a str, &'a Space); 2],
    cols: &'a [PropCol],
    rel_type: crate::storage::TypeId,
}

fn read_rels(src: &mut Source, ctx: &RelCtx, out: &mut Vec<RelEntry>) -> Result<()> {
    while src.next()? {
        let mut ends = [0u64; 2];
        for (slot, (col, space, sp)) in ctx.ends.into_iter().enumerate() {
            let raw = &src.record[col];
            let found = sp.get(raw);
            ends[slot] = found.ok_or_else(|| {
                src.row_error(&format!(
                    "no node has id \"{}\" in id space \"{space}\" (the {} node)",
                    String::from_utf8_lossy(raw),
                    if slot == 0 { "start" } else { "end" }
                ))
            })?;
        }
        let props = src.props(ctx.cols)?;
        out.push(RelEntry {
            start: ends[0],
            end: ends[1],
            rel_type: ctx.rel_type,
            versions: VersionChain::one(Version {
                stamp: 0,
                data: Some(RelData { props }),
            }),
        });
    }
    Ok(())
}

/// One independently parsable byte range of a file's data rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Part {
    start: u64,
    end: u64,
    /// Lines before `start` (for line numbers in messages).
    lines_before: u64,
    /// Newlines in the part (0 when unknown): a capacity hint for its rows, so 10M-row
    /// vectors are allocated once instead of doubling (copies and page faults).
    lines: u64,
}

/// A capacity from a line count, capped so a miscount cannot ask for absurd memory up front.
fn hint(lines: u64) -> usize {
    usize::try_from(lines.min(1 << 32)).unwrap_or(0)
}

/// Files smaller than this are parsed by one thread.
const SPLIT_MIN_BYTES: u64 = 4 << 20;

fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Splits the data rows of `path` (from byte `from`) into up to `parts` ranges that start at
/// line starts, with the line count before each. Only a file without any quote character is
/// split: there every newline ends a record, while inside quotes it may not.
fn split(path: &Path, from: u64, parts: usize, min_bytes: u64) -> std::io::Result<Vec<Part>> {
    use std::io::Read;
    let len = std::fs::metadata(path)?.len();
    let whole = vec![Part {
        start: from,
        end: u64::MAX,
        lines_before: 0,
        lines: 0,
    }];
    if parts < 2 || len.saturating_sub(from) < min_bytes {
        return Ok(whole);
    }
    let step = (len - from) / parts as u64;
    let mut targets: Vec<u64> = (1..parts as u64).map(|k| from + k * step).collect();
    targets.reverse();
    let mut cuts = vec![(from, 0u64)];
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut at, mut lines) = (0u64, 0u64);
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let block = &buf[..n];
        if memchr::memchr(b'"', block).is_some() {
            return Ok(whole);
        }
        // A cut is the line start after the first newline at or past its target (and past
        // `from`); each newline makes at most one cut. `counted`: the bytes of the block
        // whose newlines are in `lines`.
        let mut counted = 0;
        while let Some(&t) = targets.last() {
            let want = t.max(from);
            if want >= at + n as u64 {
                break;
            }
            let lo = usize::try_from(want.saturating_sub(at))
                .unwrap_or(n)
                .max(counted);
            let Some(p) = memchr::memchr(b'\n', &block[lo..]) else {
                break;
            };
            let pos = lo + p;
            lines += memchr::memchr_iter(b'\n', &block[counted..=pos]).count() as u64;
            counted = pos + 1;
            targets.pop();
            let next = at + counted as u64;
            if next < len {
                cuts.push((next, lines));
            }
        }
        lines += memchr::memchr_iter(b'\n', &block[counted..]).count() as u64;
        at += n as u64;
    }
    let mut out = Vec::with_capacity(cuts.len());
    for (i, &(start, lines_before)) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).map_or(u64::MAX, |c| c.0);
        let upto = cuts.get(i + 1).map_or(lines, |c| c.1);
        out.push(Part {
            start,
            end,
            lines_before,
            lines: upto - lines_before,
        });
    }
    Ok(out)
}

/// The stored nodes with label `space` visible at `vis`, by their `key` property (the lowest
/// node id wins when stored nodes share an id value), in its compact form.
fn existing_ids(graph: &Graph, vis: Visibility, space: &str, key: &str, t: IdType) -> Ids {
    let mut ids = Ids::new(t);
    let (Some(label), Some(key)) = (graph.catalog.labels.get(space), graph.catalog.keys.get(key))
    else {
        return ids;
    };
    let g = graph.read();
    // A base node nobody wrote since the image carries its id in the image's integer column
    // of `key` when there is one (the writer makes one for a key whose values are all
    // integers): read there, without decoding the node's property list.
    let column = match t {
        IdType::Int => g.base().int_column(key),
        IdType::String => None,
    };
    // Integer ids are gathered in ascending node order, so the first pair of an id wins.
    let mut pairs = Vec::new();
    for id in g.label_members(label) {
        if let Some(c) = column.as_ref().filter(|_| g.base_only_node(id)) {
            // As the image has it: live at C (the column holds values of live nodes only)
            // and so visible to every snapshot since.
            if g.base().has_label(id, label) {
                if let Some(i) = c.get(id) {
                    pairs.push((i, id));
                }
            }
            continue;
        }
        let Some(n) = g.node(id, vis) else { continue };
        if !n.has_label(label) {
            continue;
        }
        match (&mut ids, n.prop(key).as_deref()) {
            (Ids::Int(_), Some(Value::Int(i))) => pairs.push((*i, id)),
            (Ids::Str(m), Some(Value::String(s))) => {
                m.entry(Box::from(s.as_str())).or_insert(id);
            }
            _ => {}
        }
    }
    match ids {
        Ids::Int(_) => Ids::from_int_pairs(pairs),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_strictly_and_over_the_whole_range() {
        assert_eq!(parse_int(b" 42 "), Some(42));
        assert_eq!(parse_int(b"-7"), Some(-7));
        assert_eq!(parse_int(b"+7"), Some(7));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        for bad in [
            &b""[..],
            b"-",
            b"9223372036854775808",
            b"1.5",
            b"1e3",
            b"x",
            b"1 2",
        ] {
            assert_eq!(parse_int(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn splits_start_at_line_starts_count_lines_and_skip_quoted_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let mut text = String::from("a,b\n");
        for i in 0..1000 {
            text.push_str(&format!("{i},{}\n", i * 7));
        }
        std::fs::write(&p, &text).unwrap();
        let parts = split(&p, 4, 3, 0).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].start, 4);
        assert_eq!(parts.last().unwrap().end, u64::MAX);
        for w in parts.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            let s = w[1].start as usize;
            assert_eq!(text.as_bytes()[s - 1], b'\n');
            assert_eq!(text[..s].matches('\n').count() as u64, w[1].lines_before);
        }
        // The capacity hints cover every line (the header's counts in the first part's).
        assert_eq!(parts.iter().map(|p| p.lines).sum::<u64>(), 1001);
        assert_eq!(
            split(&p, 4, 3, 1 << 20).unwrap().len(),
            1,
            "small files stay whole"
        );
        std::fs::write(&p, text.replace("5,35", "\"5\",35")).unwrap();
        assert_eq!(
            split(&p, 4, 3, 0).unwrap().len(),
            1,
            "quoted files stay whole"
        );
    }

    #[test]
    fn dense_ids_find_what_the_map_finds() {
        let mut m = FxHashMap::default();
        for i in [5i64, 6, 8, 9] {
            m.insert(i, i as u64 * 10);
        }
        let d = Ids::Int(m).compact();
        assert!(matches!(d, Ids::Dense32 { .. }));
        assert_eq!(d.get(b"5"), Some(50));
        assert_eq!(d.get(b"9"), Some(90));
        for miss in [&b"7"[..], b"4", b"10", b"-1", b"x"] {
            assert_eq!(d.get(miss), None);
        }
        let mut sparse = FxHashMap::default();
        sparse.insert(0i64, 1u64);
        sparse.insert(i64::MAX, 2);
        assert!(matches!(Ids::Int(sparse).compact(), Ids::Int(_)));
    }

    /// Which form a map takes.
    fn form(ids: &Ids) -> &'static str {
        match ids {
            Ids::Int(_) => "map",
            Ids::Str(_) => "strings",
            Ids::Affine { .. } => "affine",
            Ids::Dense32 { .. } => "dense32",
            Ids::Dense { .. } => "dense",
        }
    }

    /// Every compact form finds exactly what the general map finds, for ids in, around and
    /// far from the mapped ones, whether built from a finished map (`compact`, this
    /// import's node files) or from pairs in node order (`from_int_pairs`, stored nodes,
    /// first pair of an id winning).
    #[test]
    fn every_id_map_form_finds_exactly_what_the_general_map_finds() {
        let consecutive = |from: i64, first: u64, n: i64| -> Vec<(i64, u64)> {
            (0..n).map(|k| (from + k, first + k as u64)).collect()
        };
        /// What, the (id, endpoint) pairs in node order, and the form they take.
        type Case = (&'static str, Vec<(i64, u64)>, &'static str);
        let cases: Vec<Case> = vec![
            ("consecutive stored", consecutive(0, 0, 1000), "affine"),
            (
                "consecutive, offset",
                consecutive(-500, 7000, 1000),
                "affine",
            ),
            ("consecutive new nodes", consecutive(1, NEW, 1000), "affine"),
            ("negative ids", consecutive(-1000, 3, 1000), "affine"),
            (
                "a gap",
                (0..1000)
                    .filter(|k| k % 10 != 3)
                    .map(|k| (k, k as u64))
                    .collect(),
                "dense32",
            ),
            (
                "shuffled endpoints",
                (0..1000).map(|k| (k, (k * 7919 % 1000) as u64)).collect(),
                "dense32",
            ),
            (
                "new nodes with a gap",
                (0..1000)
                    .filter(|k| k % 2 == 0)
                    .map(|k| (k, NEW | k as u64))
                    .collect(),
                "dense32",
            ),
            (
                "stored and new mixed",
                (0..1000)
                    .map(|k| (k, if k % 2 == 0 { NEW | k as u64 } else { k as u64 }))
                    .collect(),
                "dense",
            ),
            (
                "endpoints past 32 bits",
                (0..1000)
                    .map(|k| (k, (1u64 << 40) + (k * 3) as u64))
                    .collect(),
                "dense",
            ),
            (
                "huge ids",
                vec![(i64::MIN, 1), (-1, 2), (0, 3), (i64::MAX, 4)],
                "map",
            ),
            ("one id", vec![(i64::MAX, 9)], "affine"),
            (
                "duplicates, first wins",
                vec![(5, 50), (6, 60), (5, 51), (7, 70), (6, 61)],
                "dense32",
            ),
            (
                "sparse duplicates, first wins",
                vec![(5, 50), (1 << 40, 60), (5, 51), (1 << 40, 61)],
                "map",
            ),
        ];
        for (what, pairs, want) in cases {
            let mut reference = FxHashMap::default();
            for &(k, v) in &pairs {
                reference.entry(k).or_insert(v);
            }
            let from_map = Ids::Int(reference.clone()).compact();
            let from_pairs = Ids::from_int_pairs(pairs.clone());
            assert_eq!(form(&from_pairs), want, "{what}: from pairs");
            assert_eq!(form(&from_map), want, "{what}: compacted");
            let mut probes: Vec<i64> = vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1];
            probes.push(i64::MAX);
            for &(k, _) in &pairs {
                for d in [-2, -1, 0, 1, 2] {
                    probes.extend(k.checked_add(d));
                }
            }
            for p in probes {
                let expect = reference.get(&p).copied();
                assert_eq!(from_map.get_int(p), expect, "{what}: id {p}, compacted");
                assert_eq!(from_pairs.get_int(p), expect, "{what}: id {p}, from pairs");
                assert_eq!(
                    from_pairs.get(p.to_string().as_bytes()),
                    expect,
                    "{what}: \"{p}\" as text"
                );
            }
        }
        assert!(Ids::from_int_pairs(Vec::new()).is_empty());
    }

    /// This import's nodes are found before stored ones with the same id, through every
    /// form, and string ids stay strings.
    #[test]
    fn a_space_looks_up_this_imports_nodes_first_then_the_stored_ones() {
        let imported: FxHashMap<i64, u64> = (10..20).map(|k| (k, NEW | (k - 10) as u64)).collect();
        let space = Space {
            imported: Ids::Int(imported).compact(),
            existing: Some(Ids::from_int_pairs(
                (0..15).map(|k| (k, k as u64 * 2)).collect(),
            )),
        };
        assert_eq!(form(&space.imported), "affine");
        assert_eq!(form(space.existing.as_ref().unwrap()), "dense32");
        assert_eq!(space.get(b"3"), Some(6));
        assert_eq!(space.get(b"14"), Some(NEW | 4));
        assert_eq!(space.get(b"19"), Some(NEW | 9));
        for miss in [&b"20"[..], b"-1", b"x", b""] {
            assert_eq!(space.get(miss), None);
        }
        let mut names = FxHashMap::default();
        names.insert(Box::from("a"), NEW);
        let mut stored = FxHashMap::default();
        stored.insert(Box::from("a"), 1u64);
        stored.insert(Box::from("b"), 2u64);
        let strings = Space {
            imported: Ids::Str(names).compact(),
            existing: Some(Ids::Str(stored).compact()),
        };
        assert_eq!(strings.get(b"a"), Some(NEW));
        assert_eq!(strings.get(b"b"), Some(2));
        assert_eq!(strings.get(b"c"), None);
    }

    /// The SIMD newline search cuts where the byte-by-byte scan it replaced cut, with the
    /// same line counts, across read-block boundaries and for lines of every length.
    #[test]
    fn splits_match_a_byte_by_byte_scan() {
        fn reference(text: &[u8], from: u64, parts: usize) -> Vec<(u64, u64)> {
            let len = text.len() as u64;
            let step = (len - from) / parts as u64;
            let mut targets: Vec<u64> = (1..parts as u64).map(|k| from + k * step).collect();
            targets.reverse();
            let mut cuts = vec![(from, 0u64)];
            let mut lines = 0;
            for (i, &b) in text.iter().enumerate() {
                if b != b'\n' {
                    continue;
                }
                lines += 1;
                let next = i as u64 + 1;
                if targets.last().is_some_and(|&t| next > t && next > from) {
                    targets.pop();
                    if next < len {
                        cuts.push((next, lines));
                    }
                }
            }
            cuts
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let mut text = String::from("start,end\n");
        let mut x = 12345u64;
        // Past two 1 MiB read blocks, with a few very long lines among short ones.
        while text.len() < (5 << 19) {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let width = if x % 997 == 0 {
                300_000
            } else {
                (x >> 33) as usize % 40
            };
            text.push_str(&"7".repeat(width));
            text.push('\n');
        }
        std::fs::write(&p, &text).unwrap();
        for parts in [2, 3, 4, 7, 16, 64] {
            let got = split(&p, 10, parts, 0).unwrap();
            let want = reference(text.as_bytes(), 10, parts);
            let cuts: Vec<(u64, u64)> = got.iter().map(|p| (p.start, p.lines_before)).collect();
            assert_eq!(cuts, want, "{parts} parts");
            let total = text.matches('\n').count() as u64;
            assert_eq!(
                got.iter().map(|p| p.lines).sum::<u64>(),
                total,
                "{parts} parts"
            );
        }
    }
}
