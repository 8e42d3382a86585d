//! Opening a base image: checking all of it once, then handing the graph a view that reads
//! it in place (`storage::base`). The WAL after C is replayed on top by the caller.
//!
//! A format-1 image (or any, with the `verify_on_open` option) has every byte checked
//! before the view is built: the header and section table against their checksum, each
//! section against its own, and every flag, offset, id, label, property encoding and
//! adjacency entry against the bounds it must respect, so that in-place reads later can only
//! meet well-formed data. A format-2 or later image has its header, section table, column sizes,
//! catalog and block checksum list checked here, and every other block verified by the view
//! when first read (`storage::blocks`): data that passes its block checksum is what our
//! writer wrote. The full check stays available on demand (`check_image`: `CHECK`,
//! `graphdb_check`). Damage gives `Corrupt` naming the file and the offset; a newer format
//! gives a clear "newer libgraphdb" error; nothing panics.
//!
//! The checks read the file with positioned reads into small reusable buffers, not through
//! the mapping: the mapping's pages become resident only when queries touch them, so opening
//! does not make the whole image part of the process's memory.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::format::{self, kind, kind_name, u32_at, u64_at, Header};
use super::mmap;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::base::BaseView;
use crate::storage::base_columns::{self, ColumnDir};
use crate::storage::base_index::{self, BaseIndex, IndexDir};
use crate::storage::blocks::Blocks;
use crate::storage::index::PropIndex;
use crate::storage::{Change, Graph, KeyId, LabelId, NodeId};
use crate::value::Value;
use crate::vfs::IoFile;
use crate::wal::codec;

/// Entities checked per buffer fill.
const CHUNK: u64 = 1 << 16;

/// Opens the base image in `file` (named `path`, for messages) as the base of the empty
/// `graph`; returns its header (its timestamp C is the newest commit it holds).
///
/// A format-1 image, or any image with `verify` (the `verify_on_open` option), is checked
/// whole first (`check_all`). A format-2 or later image otherwise gets only its header, section
/// table, column sizes, catalog and block checksum list checked here: the rest is verified
/// a block at a time when first read (`storage::blocks`), so opening costs the same at any
/// size. Indexes are still built here, from the image (reading what they cover).
pub fn load_base(file: &dyn IoFile, path: &Path, graph: &Graph, verify: bool) -> Result<Header> {
    let t = std::time::Instant::now();
    let (img, crcs) = Image::parse(file, path)?;
    let h = img.header;
    let (names, schema) = img.catalog(&crcs)?;
    graph
        .write()
        .apply(&graph.catalog, h.ts, names)
        .map_err(|e| img.bad_in(kind::CATALOG, e.message()))?;
    // Indexes whose contents the image holds are read in place; the others are built.
    let (held, dir_len) = img.index_directory()?;
    let columns = img.column_directory(&crcs)?;
    let mut to_build = indexed(&schema);
    let in_image: Vec<IndexDir> = held
        .into_iter()
        .filter(|d| to_build.get(&d.label).is_some_and(|k| k.contains(&d.key)))
        .collect();
    for d in &in_image {
        if let Some(keys) = to_build.get_mut(&d.label) {
            keys.retain(|k| *k != d.key);
        }
    }
    let known = Known {
        labels: graph.catalog.labels.names().len() as u64,
        types: graph.catalog.rel_types.names().len() as u64,
        indexed: to_build,
        columns: columns.clone(),
    };
    let lazy = img.version >= format::BLOCKS_SINCE;
    let checked = if !lazy || verify {
        Some(img.check_all(&crcs, &known)?)
    } else {
        img.check_section(kind::BLOCK_CRCS, &crcs)?;
        None
    };
    let checks = t.elapsed();
    let bytes =
        mmap::map(file).map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
    if bytes.len() as u64 != img.file_len {
        return Err(Image::damaged(
            path,
            0,
            "the file changed while it was being opened",
        ));
    }
    let mut sections = [(0usize, 0usize); kind::END as usize];
    for (slot, &(o, l)) in sections.iter_mut().zip(&img.sections) {
        // Both fit: they lie inside a file that is mapped (or read) whole. A kind the
        // image's format lacks reads as empty.
        *slot = if l == u64::MAX {
            (0, 0)
        } else {
            (o as usize, l as usize)
        };
    }
    let blocks = if lazy {
        let (first, count) = img.first_blocks();
        let b = Blocks::lazy(
            first,
            img.sections[kind::BLOCK_CRCS as usize].0 as usize,
            count,
            path,
            Arc::clone(&graph.damage),
        );
        if checked.is_some() {
            b.mark_all();
        }
        b
    } else {
        Blocks::all_checked()
    };
    let view = Arc::new(
        BaseView::new(
            bytes,
            path,
            img.version,
            h.ts,
            h.node_slots,
            h.rel_slots,
            sections,
            blocks,
        )
        .with_columns(columns),
    );
    // The index directory was parsed from positioned reads: its blocks are verified here
    // (a failure is recorded and fails the open below), so the offsets it gave are ones
    // the writer wrote.
    if dir_len > 0 {
        let _ = view.index_bytes(0, dir_len);
    }
    let mut data = graph.write();
    data.set_base(Arc::clone(&view))?;
    let mut indexes = HashMap::new();
    if let Some(c) = checked {
        if !lazy {
            // Format 1 has no label lists: the ones gathered by the check serve instead.
            for (l, ids) in c.by_label {
                data.set_base_labels(l, ids);
            }
        }
        indexes = c.indexes;
    }
    for dir in in_image {
        // Read in place: nothing to build.
        let idx = PropIndex::on_base(BaseIndex::new(Arc::clone(&view), dir));
        indexes.insert((dir.label, dir.key), idx);
    }
    let mapped = t.elapsed() - checks;
    // Schema definitions last: index contents are built from the base.
    data.apply_base_schema(&graph.catalog, h.ts, schema, indexes)
        .map_err(|e| img.bad_in(kind::CATALOG, e.message()))?;
    drop(data);
    // Building the indexes read the nodes they cover: damage there fails the open.
    graph.damage.check()?;
    if std::env::var_os("GRAPHDB_TRACE_OPEN").is_some() {
        eprintln!(
            "graphdb open: {}: format {}, checks {checks:?} ({}), mapped and label lists \
             {mapped:?}, indexes {:?}",
            path.display(),
            img.version,
            if lazy && !verify {
                "header, table, catalog, block checksums"
            } else {
                "whole image"
            },
            t.elapsed() - checks - mapped
        );
    }
    Ok(h)
}

/// Checks the whole base image in `file` (named `path`): every checksum (sections and
/// blocks) and every structure check `load_base` makes of a format-1 image, plus the label
/// lists against the nodes' labels. Reads only; `Corrupt` naming the file and offset on
/// damage. This is `CHECK` / `graphdb_check` / `verify_on_open`.
pub fn check_image(file: &dyn IoFile, path: &Path) -> Result<()> {
    let (img, crcs) = Image::parse(file, path)?;
    let (names, schema) = img.catalog(&crcs)?;
    img.index_directory()?;
    let columns = img.column_directory(&crcs)?;
    // Ids are handed out densely from 0, so one past the largest is the count.
    let (mut labels, mut types) = (0u64, 0u64);
    for c in &names {
        match c {
            Change::DefineLabel(id, _) => labels = labels.max(u64::from(*id) + 1),
            Change::DefineRelType(id, _) => types = types.max(u64::from(*id) + 1),
            _ => {}
        }
    }
    let known = Known {
        labels,
        types,
        indexed: indexed(&schema),
        columns,
    };
    img.check_all(&crcs, &known).map(|_| ())
}

/// A byte slice as a read-only file (to check an image already mapped).
pub struct SliceFile<'a>(pub &'a [u8]);

impl IoFile for SliceFile<'_> {
    fn size(&self) -> std::io::Result<u64> {
        Ok(self.0.len() as u64)
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let from = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.0.len());
        let n = buf.len().min(self.0.len() - from);
        buf[..n].copy_from_slice(&self.0[from..from + n]);
        Ok(n)
    }
    fn write_at(&self, _: &[u8], _: u64) -> std::io::Result<usize> {
        Err(read_only())
    }
    fn set_len(&self, _: u64) -> std::io::Result<()> {
        Err(read_only())
    }
    fn allocate(&self, _: u64) -> std::io::Result<()> {
        Err(read_only())
    }
    fn sync_data(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn sync_all(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn try_lock_exclusive(&self) -> std::io::Result<bool> {
        Ok(false)
    }
    fn try_lock_shared(&self) -> std::io::Result<bool> {
        Ok(true)
    }
}

fn read_only() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "a mapped image is read-only",
    )
}

/// The property keys indexed per label, from the catalog's schema definitions.
fn indexed(schema: &[Change]) -> Indexed {
    let mut indexed = Indexed::new();
    for c in schema {
        if let Change::CreateIndex { label, key, .. } = c {
            let keys = indexed.entry(*label).or_default();
            if !keys.contains(key) {
                keys.push(*key);
            }
        }
    }
    indexed
}

/// What the structure checks take as known: label and type counts, indexed keys.
struct Known {
    labels: u64,
    types: u64,
    indexed: Indexed,
    /// The image's integer columns (from its checked directory).
    columns: Vec<ColumnDir>,
}

/// The timestamp C of the base image in `file` (named `path`), from its header and section
/// table alone (checked against their checksum): every commit <= C is in the image. Cheap:
/// read-only processes use it to tell whether a checkpoint folded commits they never read.
pub fn read_base_ts(file: &dyn IoFile, path: &Path) -> Result<u64> {
    let bad = |at: u64, what: &str| Image::damaged(path, at, what);
    let io_err = |e: std::io::Error| Error::io(format!("reading {}", path.display()), &e);
    let mut head = vec![0u8; format::HEADER_LEN];
    let n = crate::vfs::read_full_at(file, &mut head, 0).map_err(io_err)?;
    if n < format::HEADER_LEN || &head[..8] != format::MAGIC {
        return Err(bad(0, "not a libgraphdb base image"));
    }
    let count = u32_at(&head, 12) as usize;
    if count > 64 {
        return Err(bad(12, "the section count is impossible"));
    }
    head.resize(format::HEADER_LEN + count * format::ENTRY_LEN, 0);
    let n = crate::vfs::read_full_at(
        file,
        &mut head[format::HEADER_LEN..],
        format::HEADER_LEN as u64,
    )
    .map_err(io_err)?;
    if n < count * format::ENTRY_LEN || format::header_crc(&head) != u32_at(&head, format::CRC_AT) {
        return Err(bad(0, "the header or section table fails its checksum"));
    }
    Ok(u64_at(&head, 16))
}

/// The result of a checking thread (a panic there is an internal error, not a crash).
fn joined<T>(r: std::thread::Result<Result<T>>, what: &str) -> Result<T> {
    r.unwrap_or_else(|_| {
        Err(Error::new(
            ErrorKind::Internal,
            format!("the thread checking the base image's {what} panicked"),
        ))
    })
}

/// What checking an image produced for the graph.
struct Checked {
    /// The ids of each label's nodes, ascending.
    by_label: HashMap<LabelId, Vec<NodeId>>,
    /// The contents of the indexes `schema` defines, built from the nodes as they were
    /// checked (on the nodes' thread, beside the relationship and adjacency checks).
    indexes: HashMap<(LabelId, KeyId), PropIndex>,
}

/// The property keys indexed per label.
type Indexed = HashMap<LabelId, Vec<KeyId>>;

/// The nodes' check result: each label's nodes, ascending, and the contents of each index.
type NodesChecked = (
    HashMap<LabelId, Vec<NodeId>>,
    HashMap<(LabelId, KeyId), PropIndex>,
);

/// A hash of "relationship `r` is listed at node `n`": the adjacency lists are checked by
/// comparing the sum over their entries with the sum over the relationships' own endpoints
/// (plus "each live relationship listed exactly once"), which needs no random access.
fn pair_hash(r: u64, n: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    mix(r.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(n))
}

/// A hash of "from node `n`, a step of type `t` leads to `other`", combined with the
/// relationship by `pair_hash`: format 3's neighbour columns and type runs are checked by
/// comparing its sum over the lists' entries with its sum over the relationships.
fn step_hash(n: u64, other: u64, t: u32) -> u64 {
    pair_hash(
        other ^ (u64::from(t) << 40).rotate_left(7),
        pair_hash(n, u64::from(t)),
    )
}

/// A bit per id.
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: u64) -> Bits {
        Bits(vec![0; n.div_ceil(64) as usize])
    }
    fn get(&self, i: u64) -> bool {
        self.0
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    fn set(&mut self, i: u64) {
        if let Some(w) = self.0.get_mut((i / 64) as usize) {
            *w |= 1 << (i % 64);
        }
    }
}

/// A checked header and section table.
struct Image<'a> {
    file: &'a dyn IoFile,
    path: &'a Path,
    file_len: u64,
    version: u32,
    header: Header,
    /// Offset and length of each section, by kind (length `u64::MAX`: absent).
    sections: Vec<(u64, u64)>,
    /// Kind, offset and length of every table entry, in table order (the block list's).
    table: Vec<(u32, u64, u64)>,
}

impl<'a> Image<'a> {
    fn damaged(path: &Path, at: u64, what: &str) -> Error {
        Error::corrupt(format!(
            "{} is damaged at offset {at}: {what}; restore the database from a backup",
            path.display()
        ))
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(format!("reading {}", self.path.display()), &e)
    }

    /// The checked header and table, and each section's stored checksum (by kind).
    fn parse(file: &'a dyn IoFile, path: &'a Path) -> Result<(Image<'a>, Vec<u32>)> {
        let bad = |at: u64, what: &str| Image::damaged(path, at, what);
        let io = |e: std::io::Error| Error::io(format!("reading {}", path.display()), &e);
        let file_len = file.size().map_err(io)?;
        let mut head = vec![0u8; format::HEADER_LEN];
        let n = crate::vfs::read_full_at(file, &mut head, 0).map_err(io)?;
        if n < format::HEADER_LEN {
            return Err(bad(0, "too short to be a base image"));
        }
        if &head[..8] != format::MAGIC {
            return Err(bad(0, "not a libgraphdb base image (bad magic bytes)"));
        }
        let version = u32_at(&head, 8);
        if version > format::FORMAT_VERSION {
            return Err(Error::new(
                ErrorKind::Error,
                format!(
                    "{} was written by a newer libgraphdb (base format {version}; this build \
                     reads up to {}); open it with a newer version",
                    path.display(),
                    format::FORMAT_VERSION
                ),
            ));
        }
        if version == 0 {
            return Err(bad(8, "format version 0"));
        }
        let count = u32_at(&head, 12) as usize;
        let table_end = format::HEADER_LEN + count.saturating_mul(format::ENTRY_LEN);
        if count > 64 || table_end as u64 > file_len {
            return Err(bad(12, "the section count is impossible"));
        }
        head.resize(table_end, 0);
        let n = crate::vfs::read_full_at(
            file,
            &mut head[format::HEADER_LEN..],
            format::HEADER_LEN as u64,
        )
        .map_err(io)?;
        if n < table_end - format::HEADER_LEN {
            return Err(bad(12, "the section count is impossible"));
        }
        if format::header_crc(&head) != u32_at(&head, format::CRC_AT) {
            return Err(bad(0, "the header or section table fails its checksum"));
        }
        let header = Header {
            ts: u64_at(&head, 16),
            node_slots: u64_at(&head, 24),
            rel_slots: u64_at(&head, 32),
            live_nodes: u64_at(&head, 40),
            live_rels: u64_at(&head, 48),
        };
        let mut sections = vec![(0u64, u64::MAX); kind::END as usize];
        let mut crcs = vec![0u32; kind::END as usize];
        let mut table = Vec::with_capacity(count);
        for i in 0..count {
            let e = format::HEADER_LEN + i * format::ENTRY_LEN;
            let k = u32_at(&head, e);
            let (offset, len, crc) = (
                u64_at(&head, e + 8),
                u64_at(&head, e + 16),
                u32_at(&head, e + 24),
            );
            let inside = offset.checked_add(len).is_some_and(|end| end <= file_len);
            if !inside || usize::try_from(offset + len).is_err() {
                return Err(bad(e as u64, "a section lies outside the file"));
            }
            table.push((k, offset, len));
            if let Some(slot) = sections.get_mut(k as usize) {
                *slot = (offset, len);
                crcs[k as usize] = crc;
            }
        }
        for k in format::required_kinds(version) {
            if sections[k as usize].1 == u64::MAX {
                return Err(bad(
                    format::HEADER_LEN as u64,
                    &format!("the {} section is missing", kind_name(k)),
                ));
            }
        }
        let img = Image {
            file,
            path,
            file_len,
            version,
            header,
            sections,
            table,
        };
        img.check_sizes()?;
        Ok((img, crcs))
    }

    /// Every section against its checksum and (format 2) each of its blocks against the
    /// block's, streamed through one buffer.
    fn check_checksums(&self, crcs: &[u32]) -> Result<()> {
        let mut buf = Vec::new();
        let blocks = if self.version >= format::BLOCKS_SINCE {
            let mut b = Vec::new();
            self.read(kind::BLOCK_CRCS, 0, self.len_of(kind::BLOCK_CRCS), &mut b)?;
            Some((self.first_blocks().0, b))
        } else {
            None
        };
        for k in kind::CATALOG..kind::END {
            let (offset, len) = self.sections[k as usize];
            if len == u64::MAX {
                // Absent (optional, or not in this format: `parse` refused missing
                // required ones).
                continue;
            }
            let mut crc = 0u32;
            let mut at = 0u64;
            while at < len {
                // A whole number of blocks per fill.
                let n = (len - at).min(16 * format::BLOCK);
                self.read(k, at, n, &mut buf)?;
                crc = crc32c::crc32c_append(crc, &buf);
                if let Some((first, stored)) = blocks.as_ref().filter(|_| k != kind::BLOCK_CRCS) {
                    for (j, part) in buf.chunks(format::BLOCK as usize).enumerate() {
                        let g = first[k as usize] + at / format::BLOCK + j as u64;
                        let want = usize::try_from(g * 4)
                            .ok()
                            .and_then(|i| stored.get(i..i + 4))
                            .map(|b| u32_at(b, 0));
                        if want != Some(crc32c::crc32c(part)) {
                            return Err(Image::damaged(
                                self.path,
                                offset + at + j as u64 * format::BLOCK,
                                &format!("the {} section fails a block checksum", kind_name(k)),
                            ));
                        }
                    }
                }
                at += n;
            }
            if crc != crcs[k as usize] {
                return Err(Image::damaged(
                    self.path,
                    offset,
                    &format!("the {} section fails its checksum", kind_name(k)),
                ));
            }
        }
        Ok(())
    }

    /// Reads `len` bytes at `at` within section `k` into `buf` (replacing its contents).
    fn read(&self, k: u32, at: u64, len: u64, buf: &mut Vec<u8>) -> Result<()> {
        let (offset, sec_len) = self.sections[k as usize];
        let inside = at.checked_add(len).is_some_and(|e| e <= sec_len);
        let len = usize::try_from(len)
            .ok()
            .filter(|_| inside)
            .ok_or_else(|| self.bad_in(k, "a read past its end"))?;
        // Reused without zeroing: the read overwrites all `len` bytes or fails below, so
        // stale bytes from an earlier fill are never looked at.
        buf.truncate(len);
        buf.resize(len, 0);
        let n = crate::vfs::read_full_at(self.file, buf, offset + at).map_err(|e| self.io(e))?;
        if n < len {
            return Err(Image::damaged(
                self.path,
                offset + at,
                "the file ends early",
            ));
        }
        Ok(())
    }

    /// Entries `[i0, i1]` (inclusive) of the u64 offsets column `k`, checked ascending and
    /// at most `heap_len`.
    fn offsets(
        &self,
        k: u32,
        i0: u64,
        i1: u64,
        heap_len: u64,
        buf: &mut Vec<u8>,
    ) -> Result<Vec<u64>> {
        self.read(k, i0 * 8, (i1 - i0 + 1) * 8, buf)?;
        let offs: Vec<u64> = buf.chunks_exact(8).map(|c| u64_at(c, 0)).collect();
        for (j, w) in offs.windows(2).enumerate() {
            if w[0] > w[1] || w[1] > heap_len {
                let i = i0 + j as u64;
                return Err(self.bad_in(k, &format!("entry {i} points outside its data")));
            }
        }
        if offs.first().is_some_and(|&o| o > heap_len) {
            return Err(self.bad_in(k, &format!("entry {i0} points outside its data")));
        }
        Ok(offs)
    }

    fn bad_in(&self, k: u32, what: &str) -> Error {
        Image::damaged(
            self.path,
            self.sections[k as usize].0,
            &format!("{} section: {what}", kind_name(k)),
        )
    }

    /// Bytes per relationship id in the adjacency lists: 8 before format 3, then the
    /// neighbour width (`format::nbr_width`).
    fn rels_width(&self) -> u64 {
        if self.version >= format::NBRS_SINCE {
            format::nbr_width(self.header.node_slots, self.header.rel_slots) as u64
        } else {
            8
        }
    }

    /// Section `k`'s length (0 when the image lacks it).
    fn len_of(&self, k: u32) -> u64 {
        match self.sections[k as usize].1 {
            u64::MAX => 0,
            l => l,
        }
    }

    /// The directory of the property-index section (empty when the image has none) and its
    /// length. The one open-time check of that section: its shape, at a cost proportional
    /// to the number of indexes (block checksums cover the contents when read).
    fn index_directory(&self) -> Result<(Vec<IndexDir>, usize)> {
        let k = kind::PROP_INDEXES;
        let len = self.len_of(k);
        if len == 0 {
            return Ok((Vec::new(), 0));
        }
        let mut buf = Vec::new();
        self.read(k, 0, 8.min(len), &mut buf)?;
        let count = (buf.len() == 8).then(|| u64_at(&buf, 0));
        let dir_len = count
            .and_then(|c| base_index::directory_len(c, len))
            .ok_or_else(|| self.bad_in(k, "its directory does not fit"))?;
        self.read(k, 0, dir_len as u64, &mut buf)?;
        let dirs = base_index::parse_directory(&buf, len).map_err(|e| self.bad_in(k, &e))?;
        Ok((dirs, dir_len))
    }

    /// The directory of the integer property columns (empty when the image has none),
    /// checked whole: its section checksum, then its shape against the columns section.
    /// The two sections come together or not at all.
    fn column_directory(&self, crcs: &[u32]) -> Result<Vec<ColumnDir>> {
        let (d, c) = (kind::PROP_COLUMN_DIR, kind::PROP_COLUMNS);
        let absent = |k: u32| self.sections[k as usize].1 == u64::MAX;
        match (absent(d), absent(c)) {
            (true, true) => return Ok(Vec::new()),
            (true, false) => return Err(self.bad_in(c, "its directory section is missing")),
            (false, true) => return Err(self.bad_in(d, "its columns section is missing")),
            (false, false) => {}
        }
        let len = self.len_of(d);
        let mut buf = Vec::new();
        self.read(d, 0, len, &mut buf)?;
        if crc32c::crc32c(&buf) != crcs[d as usize] {
            return Err(self.bad_in(d, "the section fails its checksum"));
        }
        base_columns::parse_directory(&buf, self.len_of(c), self.header.node_slots)
            .map_err(|e| self.bad_in(d, &e))
    }

    /// Column lengths must match the slot counts.
    fn check_sizes(&self) -> Result<()> {
        let n = self.header.node_slots;
        let r = self.header.rel_slots;
        let expect: [(u32, Option<u64>); 13] = [
            (kind::NODE_FLAGS, Some(n)),
            (
                kind::NODE_LABEL_OFFSETS,
                n.checked_add(1).and_then(|x| x.checked_mul(8)),
            ),
            (
                kind::NODE_PROP_OFFSETS,
                n.checked_add(1).and_then(|x| x.checked_mul(8)),
            ),
            (kind::REL_FLAGS, Some(r)),
            (kind::REL_START, r.checked_mul(8)),
            (kind::REL_END, r.checked_mul(8)),
            (kind::REL_TYPE, r.checked_mul(4)),
            (
                kind::REL_PROP_OFFSETS,
                r.checked_add(1).and_then(|x| x.checked_mul(8)),
            ),
            (
                kind::OUT_OFFSETS,
                n.checked_add(1).and_then(|x| x.checked_mul(8)),
            ),
            (
                kind::IN_OFFSETS,
                n.checked_add(1).and_then(|x| x.checked_mul(8)),
            ),
            (kind::NODE_LABELS, None),
            (kind::OUT_RELS, None),
            (kind::IN_RELS, None),
        ];
        for (k, want) in expect {
            let got = self.len_of(k);
            match want {
                Some(w) if w != got => {
                    return Err(self.bad_in(k, &format!("{got} bytes where the header implies {w}")))
                }
                None if got % 4 != 0 => return Err(self.bad_in(k, "a ragged length")),
                _ => {}
            }
        }
        // Adjacency entries are relationship ids, `rels_width` bytes each.
        let rw = self.rels_width();
        for k in [kind::OUT_RELS, kind::IN_RELS] {
            if self.len_of(k) % rw != 0 {
                return Err(self.bad_in(k, "a ragged length"));
            }
        }
        if self.version >= format::NBRS_SINCE {
            let w = format::nbr_width(n, r) as u64;
            for (rels, nbrs, runs) in [
                (kind::OUT_RELS, kind::OUT_NBRS, kind::OUT_RUNS),
                (kind::IN_RELS, kind::IN_NBRS, kind::IN_RUNS),
            ] {
                let want = (self.len_of(rels) / rw)
                    .checked_add(n)
                    .and_then(|x| x.checked_mul(w));
                if want != Some(self.len_of(nbrs)) {
                    return Err(self.bad_in(nbrs, "its length does not match the adjacency's"));
                }
                if self.len_of(runs) % (2 * w) != 0 {
                    return Err(self.bad_in(runs, "a ragged length"));
                }
            }
        }
        if self.version >= format::BLOCKS_SINCE {
            let offs = self.len_of(kind::LABEL_OFFSETS);
            if offs % 8 != 0 || offs < 8 {
                return Err(self.bad_in(kind::LABEL_OFFSETS, "a ragged length"));
            }
            if self.len_of(kind::LABEL_NODES) % 8 != 0 {
                return Err(self.bad_in(kind::LABEL_NODES, "a ragged length"));
            }
            let want = self.first_blocks().1.checked_mul(4);
            if want != Some(self.len_of(kind::BLOCK_CRCS)) {
                return Err(self.bad_in(
                    kind::BLOCK_CRCS,
                    "its length does not match the sections' blocks",
                ));
            }
        }
        Ok(())
    }

    /// The catalog, checked (against its section checksum, and its timestamp against the
    /// header's): the name definitions, and the schema definitions.
    fn catalog(&self, crcs: &[u32]) -> Result<(Vec<Change>, Vec<Change>)> {
        let mut buf = Vec::new();
        self.read(kind::CATALOG, 0, self.len_of(kind::CATALOG), &mut buf)?;
        if crc32c::crc32c(&buf) != crcs[kind::CATALOG as usize] {
            return Err(self.bad_in(kind::CATALOG, "the section fails its checksum"));
        }
        let (cts, defs) =
            codec::decode(&buf).map_err(|e| self.bad_in(kind::CATALOG, e.message()))?;
        if cts != self.header.ts {
            return Err(self.bad_in(kind::CATALOG, "its timestamp differs from the header's"));
        }
        Ok(defs.into_iter().partition(|c| {
            matches!(
                c,
                Change::DefineLabel(..) | Change::DefineRelType(..) | Change::DefineKey(..)
            )
        }))
    }

    /// One (small) section whole against its checksum.
    fn check_section(&self, k: u32, crcs: &[u32]) -> Result<()> {
        let mut buf = Vec::new();
        self.read(k, 0, self.len_of(k), &mut buf)?;
        if crc32c::crc32c(&buf) != crcs[k as usize] {
            return Err(self.bad_in(k, "the section fails its checksum"));
        }
        Ok(())
    }

    /// Each known section's first block in the block list, and the list's length (every
    /// table entry but the list itself, in table order).
    fn first_blocks(&self) -> ([u64; kind::END as usize], u64) {
        let mut first = [0u64; kind::END as usize];
        let mut n = 0u64;
        for &(k, _, len) in &self.table {
            if k == kind::BLOCK_CRCS {
                continue;
            }
            if let Some(f) = first.get_mut(k as usize) {
                *f = n;
            }
            n += format::blocks_in(len);
        }
        (first, n)
    }

    /// Everything: checksums (and, from format 2, block checksums) beside the structure
    /// checks, then (format 2) the label lists against the labels the nodes carry.
    fn check_all(&self, crcs: &[u32], known: &Known) -> Result<Checked> {
        let t = std::time::Instant::now();
        // Checksums and structure on two threads (both only read the file). Damage usually
        // fails both; the checksum's message is the one reported.
        let (sums, checked) = std::thread::scope(|s| {
            let sums = s.spawn(|| {
                let t = std::time::Instant::now();
                self.check_checksums(crcs).map(|()| t.elapsed())
            });
            let checked = self.check_structure(known);
            (joined(sums.join(), "checksums"), checked)
        });
        let summed = sums?;
        let checked = checked?;
        if self.version >= format::BLOCKS_SINCE {
            self.check_label_lists(&checked.by_label)?;
        }
        self.check_columns(&known.columns)?;
        if std::env::var_os("GRAPHDB_TRACE_OPEN").is_some() {
            eprintln!(
                "graphdb check: {}: checksums {summed:?} beside structure checks, all done at \
                 {:?}",
                self.path.display(),
                t.elapsed()
            );
        }
        Ok(checked)
    }

    /// Each integer column holds exactly its key's values at C: a presence bit for every
    /// live node whose property list has the key, none for any other slot, the value equal
    /// to the list's (an integer), zero bytes where absent. Runs after the property lists
    /// are checked well-formed.
    fn check_columns(&self, columns: &[ColumnDir]) -> Result<()> {
        let slots = self.header.node_slots;
        let heap_len = self.len_of(kind::NODE_PROPS);
        let [mut flags, mut obuf, mut heap, mut present, mut values] =
            std::array::from_fn(|_| Vec::new());
        let k = kind::PROP_COLUMNS;
        let mut i0 = 0u64;
        while i0 < slots {
            // CHUNK is a multiple of 64: each chunk owns whole bytes of the bitmaps.
            let i1 = (i0 + CHUNK).min(slots);
            let n = i1 - i0;
            self.read(kind::NODE_FLAGS, i0, n, &mut flags)?;
            let offs = self.offsets(kind::NODE_PROP_OFFSETS, i0, i1, heap_len, &mut obuf)?;
            let base = offs[0];
            self.read(kind::NODE_PROPS, base, offs[n as usize] - base, &mut heap)?;
            for c in columns {
                let w = u64::from(c.width);
                self.read(k, c.present_at as u64 + i0 / 8, n.div_ceil(8), &mut present)?;
                self.read(k, c.values_at as u64 + i0 * w, n * w, &mut values)?;
                for j in 0..n as usize {
                    let i = i0 + j as u64;
                    let bad =
                        |what: &str| self.bad_in(k, &format!("node {i}, key {}: {what}", c.key));
                    let raw = &values[j * c.width as usize..(j + 1) * c.width as usize];
                    let mut word = [0u8; 8];
                    word[..raw.len()].copy_from_slice(raw);
                    let stored = u64::from_le_bytes(word);
                    let has = present[j / 8] & (1 << (j % 8)) != 0;
                    let (a, b) = ((offs[j] - base) as usize, (offs[j + 1] - base) as usize);
                    let want = match flags[j] {
                        1 => {
                            codec::decode_prop(&heap[a..b], c.key).map_err(|e| bad(e.message()))?
                        }
                        _ => None,
                    };
                    match want {
                        None if has || stored != 0 => return Err(bad("a value where none is")),
                        None => {}
                        Some(Value::Int(v)) if has && c.min.wrapping_add(stored as i64) == v => {}
                        Some(_) => return Err(bad("the value differs from the node's")),
                    }
                }
            }
            i0 = i1;
        }
        Ok(())
    }

    /// The label lists (format 2) hold exactly each label's live nodes, ascending.
    fn check_label_lists(&self, by_label: &HashMap<LabelId, Vec<NodeId>>) -> Result<()> {
        let mut buf = Vec::new();
        let ids_len = self.len_of(kind::LABEL_NODES) / 8;
        let offs_len = self.len_of(kind::LABEL_OFFSETS) / 8;
        let offs = self.offsets(kind::LABEL_OFFSETS, 0, offs_len - 1, ids_len, &mut buf)?;
        if offs.last() != Some(&ids_len) || offs.first() != Some(&0) {
            return Err(self.bad_in(kind::LABEL_OFFSETS, "the lists do not cover the ids"));
        }
        self.read(kind::LABEL_NODES, 0, ids_len * 8, &mut buf)?;
        let count = offs.len() - 1;
        if by_label.keys().any(|&l| l as usize >= count) {
            return Err(self.bad_in(kind::LABEL_OFFSETS, "a label's list is missing"));
        }
        for (l, w) in offs.windows(2).enumerate() {
            let stored = buf[w[0] as usize * 8..w[1] as usize * 8]
                .chunks_exact(8)
                .map(|c| u64_at(c, 0));
            let want = by_label.get(&(l as LabelId)).map_or(&[][..], |v| &v[..]);
            if !stored.eq(want.iter().copied()) {
                return Err(self.bad_in(
                    kind::LABEL_NODES,
                    &format!("label {l}'s list differs from its nodes' labels"),
                ));
            }
        }
        Ok(())
    }

    /// Checks every entity and adjacency list; returns the label lists and the contents of
    /// the indexes `known` names.
    fn check_structure(&self, known: &Known) -> Result<Checked> {
        let h = self.header;
        let labels_known = known.labels;
        let types_known = known.types;
        let indexed = &known.indexed;

        let mut nflags = Vec::new();
        self.read(kind::NODE_FLAGS, 0, h.node_slots, &mut nflags)?;
        if let Some(i) = nflags.iter().position(|&f| f > 1) {
            return Err(self.bad_in(kind::NODE_FLAGS, &format!("node {i}: bad flag")));
        }
        let live_nodes = nflags.iter().filter(|&&f| f == 1).count() as u64;
        // Nodes on their own thread; relationships here, then the two adjacency directions
        // (independent of each other) on two.
        let (by_label, rels) = std::thread::scope(|s| {
            let nodes = s.spawn(|| self.check_nodes(&nflags, labels_known, indexed));
            let rels = self
                .check_rels(&nflags, types_known)
                .and_then(|(live, n, want)| {
                    if live_nodes != h.live_nodes || n != h.live_rels {
                        return Err(Image::damaged(
                            self.path,
                            40,
                            "the live entity counts disagree with the flags",
                        ));
                    }
                    std::thread::scope(|t| {
                        let out = t.spawn(|| {
                            let want = (want[0], want[2]);
                            self.check_adjacency(&nflags, &live, n, true, want, types_known)
                        });
                        let want = (want[1], want[3]);
                        let inc = self.check_adjacency(&nflags, &live, n, false, want, types_known);
                        joined(out.join(), "outgoing adjacency").and(inc)
                    })
                });
            (joined(nodes.join(), "nodes"), rels)
        });
        rels?;
        let (by_label, indexes) = by_label?;
        Ok(Checked { by_label, indexes })
    }

    /// Relationship flags, endpoints, types and properties; returns which are live, how
    /// many, and the pair hashes of their starts and ends.
    fn check_rels(&self, nflags: &[u8], types_known: u64) -> Result<(Bits, u64, [u64; 4])> {
        let slots = self.header.rel_slots;
        let heap_len = self.len_of(kind::REL_PROPS);
        let mut live_bits = Bits::new(slots);
        let (mut live, mut expect) = (0u64, [0u64; 4]);
        let [mut flags, mut starts, mut ends, mut types, mut obuf, mut heap] =
            std::array::from_fn(|_| Vec::new());
        let live_node = |n: u64| usize::try_from(n).ok().and_then(|n| nflags.get(n)) == Some(&1);
        let mut i0 = 0u64;
        while i0 < slots {
            let i1 = (i0 + CHUNK).min(slots);
            let n = i1 - i0;
            self.read(kind::REL_FLAGS, i0, n, &mut flags)?;
            self.read(kind::REL_START, i0 * 8, n * 8, &mut starts)?;
            self.read(kind::REL_END, i0 * 8, n * 8, &mut ends)?;
            self.read(kind::REL_TYPE, i0 * 4, n * 4, &mut types)?;
            let offs = self.offsets(kind::REL_PROP_OFFSETS, i0, i1, heap_len, &mut obuf)?;
            let base = offs[0];
            self.read(kind::REL_PROPS, base, offs[n as usize] - base, &mut heap)?;
            for j in 0..n as usize {
                let i = i0 + j as u64;
                match flags[j] {
                    0 => continue,
                    1 => {}
                    _ => {
                        return Err(
                            self.bad_in(kind::REL_FLAGS, &format!("relationship {i}: bad flag"))
                        )
                    }
                }
                let (s, e, t) = (
                    u64_at(&starts, j * 8),
                    u64_at(&ends, j * 8),
                    u32_at(&types, j * 4),
                );
                if !live_node(s) || !live_node(e) || u64::from(t) >= types_known {
                    return Err(self.bad_in(
                        kind::REL_FLAGS,
                        &format!("relationship {i} has an impossible type or endpoint"),
                    ));
                }
                let (a, b) = ((offs[j] - base) as usize, (offs[j + 1] - base) as usize);
                codec::check_props(&heap[a..b]).map_err(|e| {
                    self.bad_in(kind::REL_PROPS, &format!("entity {i}: {}", e.message()))
                })?;
                live += 1;
                live_bits.set(i);
                expect[0] = expect[0].wrapping_add(pair_hash(i, s));
                expect[1] = expect[1].wrapping_add(pair_hash(i, e));
                expect[2] = expect[2].wrapping_add(pair_hash(i, step_hash(s, e, t)));
                expect[3] = expect[3].wrapping_add(pair_hash(i, step_hash(e, s, t)));
            }
            i0 = i1;
        }
        Ok((live_bits, live, expect))
    }

    /// Node labels (known, sorted) and properties; returns each label's nodes, ascending,
    /// and the contents of the `indexed` keys' indexes.
    fn check_nodes(
        &self,
        nflags: &[u8],
        labels_known: u64,
        indexed: &Indexed,
    ) -> Result<NodesChecked> {
        let slots = self.header.node_slots;
        let labels_len = self.len_of(kind::NODE_LABELS) / 4;
        let heap_len = self.len_of(kind::NODE_PROPS);
        let mut by_label: HashMap<LabelId, Vec<NodeId>> = HashMap::new();
        let [mut obuf, mut labels, mut heap] = std::array::from_fn(|_| Vec::new());
        // Index entries (value, node) per indexed (label, key), in ascending node order.
        // Every indexed pair has contents, even with no entries.
        let mut entries: HashMap<(LabelId, KeyId), Vec<(crate::value::Value, NodeId)>> = indexed
            .iter()
            .flat_map(|(&l, keys)| keys.iter().map(move |&k| ((l, k), Vec::new())))
            .collect();
        let (mut node_labels, mut pick, mut picked) = (Vec::new(), Vec::new(), Vec::new());
        let mut i0 = 0u64;
        while i0 < slots {
            let i1 = (i0 + CHUNK).min(slots);
            let loffs = self.offsets(kind::NODE_LABEL_OFFSETS, i0, i1, labels_len, &mut obuf)?;
            let lbase = loffs[0];
            self.read(
                kind::NODE_LABELS,
                lbase * 4,
                (loffs[loffs.len() - 1] - lbase) * 4,
                &mut labels,
            )?;
            let poffs = self.offsets(kind::NODE_PROP_OFFSETS, i0, i1, heap_len, &mut obuf)?;
            let pbase = poffs[0];
            self.read(
                kind::NODE_PROPS,
                pbase,
                poffs[poffs.len() - 1] - pbase,
                &mut heap,
            )?;
            for j in 0..(i1 - i0) as usize {
                let i = i0 + j as u64;
                if nflags[i as usize] != 1 {
                    continue;
                }
                let mut last: Option<u32> = None;
                node_labels.clear();
                pick.clear();
                for k in (loffs[j] - lbase)..(loffs[j + 1] - lbase) {
                    let l = u32_at(&labels, k as usize * 4);
                    if u64::from(l) >= labels_known || last.is_some_and(|p| p >= l) {
                        return Err(self.bad_in(
                            kind::NODE_LABELS,
                            &format!("node {i} has an unknown or unsorted label"),
                        ));
                    }
                    last = Some(l);
                    by_label.entry(l).or_default().push(i);
                    node_labels.push(l);
                    if let Some(keys) = indexed.get(&l) {
                        pick.extend_from_slice(keys);
                    }
                }
                let (a, b) = ((poffs[j] - pbase) as usize, (poffs[j + 1] - pbase) as usize);
                codec::check_props_picking(&heap[a..b], &pick, |k, v| picked.push((k, v)))
                    .map_err(|e| {
                        self.bad_in(kind::NODE_PROPS, &format!("entity {i}: {}", e.message()))
                    })?;
                for (k, v) in picked.drain(..) {
                    for &l in &node_labels {
                        if indexed.get(&l).is_some_and(|keys| keys.contains(&k)) {
                            entries.entry((l, k)).or_default().push((v.clone(), i));
                        }
                    }
                }
            }
            i0 = i1;
        }
        let indexes = entries
            .into_iter()
            .map(|(pair, es)| (pair, PropIndex::build(es)))
            .collect();
        Ok((by_label, indexes))
    }

    /// One direction's CSR lists: every entry a live relationship, listed at a live node,
    /// each live relationship exactly once, and (by the pair hashes) at its own start (end).
    /// Format 3: the neighbour column and the type runs too, each entry (by the step hashes)
    /// naming the relationship's other end and its type.
    fn check_adjacency(
        &self,
        nflags: &[u8],
        rel_live: &Bits,
        live_rels: u64,
        outgoing: bool,
        (want, want_steps): (u64, u64),
        types_known: u64,
    ) -> Result<()> {
        let (offs_kind, k, nbrs_kind, runs_kind) = format::adjacency_kinds(outgoing);
        let v3 = self.version >= format::NBRS_SINCE;
        let w = format::nbr_width(self.header.node_slots, self.header.rel_slots);
        let mut runs = Vec::new();
        let mut nbrs = Vec::new();
        if v3 {
            self.read(runs_kind, 0, self.len_of(runs_kind), &mut runs)?;
        }
        let mut steps = 0u64;
        let mut types = Vec::new();
        let slots = self.header.node_slots;
        let rw = self.rels_width();
        let list_len = self.len_of(k) / rw;
        let mut seen = Bits::new(self.header.rel_slots);
        let (mut count, mut sum) = (0u64, 0u64);
        let [mut obuf, mut list] = std::array::from_fn(|_| Vec::new());
        let mut i0 = 0u64;
        while i0 < slots {
            let i1 = (i0 + CHUNK).min(slots);
            let offs = self.offsets(offs_kind, i0, i1, list_len, &mut obuf)?;
            let base = offs[0];
            self.read(k, base * rw, (offs[offs.len() - 1] - base) * rw, &mut list)?;
            if v3 {
                // Node i's type word and neighbours: entries [offs + i, next offs + i + 1).
                let (na, nb) = (base + i0, offs[offs.len() - 1] + i1);
                self.read(nbrs_kind, na * w as u64, (nb - na) * w as u64, &mut nbrs)?;
            }
            for j in 0..(i1 - i0) as usize {
                let i = i0 + j as u64;
                let (a, b) = (offs[j] - base, offs[j + 1] - base);
                if a == b {
                    continue;
                }
                if v3 {
                    // The entry index of node i's type word in `nbrs`.
                    let at = (a + j as u64) as usize;
                    let word = format::uint_at(&nbrs, w, at).unwrap_or(0);
                    self.list_types(word, b - a, (&runs, w), types_known, &mut types)
                        .map_err(|what| {
                            self.bad_in(runs_kind, &format!("node {i}'s type runs: {what}"))
                        })?;
                    for e in a..b {
                        let r = format::uint_at(&list, rw as usize, e as usize).unwrap_or(u64::MAX);
                        let o = format::uint_at(&nbrs, w, at + 1 + (e - a) as usize).unwrap_or(0);
                        let t = types[(e - a) as usize];
                        steps = steps.wrapping_add(pair_hash(r, step_hash(i, o, t)));
                    }
                }
                let bad = || {
                    self.bad_in(
                        k,
                        &format!("node {i} lists a relationship that is not its own, or one twice"),
                    )
                };
                if nflags[i as usize] != 1 {
                    return Err(bad());
                }
                for e in a..b {
                    let r = format::uint_at(&list, rw as usize, e as usize).unwrap_or(u64::MAX);
                    if !rel_live.get(r) || seen.get(r) {
                        return Err(bad());
                    }
                    seen.set(r);
                    count += 1;
                    sum = sum.wrapping_add(pair_hash(r, i));
                }
            }
            i0 = i1;
        }
        if count != live_rels {
            return Err(self.bad_in(
                k,
                &format!("{count} entries for {live_rels} live relationships"),
            ));
        }
        if sum != want {
            return Err(self.bad_in(k, "a relationship is listed at a node that is not its own"));
        }
        if v3 && steps != want_steps {
            return Err(self.bad_in(
                nbrs_kind,
                "an entry's neighbour or type differs from its relationship's",
            ));
        }
        Ok(())
    }

    /// The type of each of a list's `len` entries from its type word (format 3), into
    /// `types`; the runs must be ascending by type and cover the list exactly.
    fn list_types(
        &self,
        word: u64,
        len: u64,
        (runs, w): (&[u8], usize),
        types_known: u64,
        types: &mut Vec<u32>,
    ) -> std::result::Result<(), String> {
        types.clear();
        match format::TypeWord::decode(word, w) {
            format::TypeWord::One(t) if u64::from(t) < types_known => {
                types.resize(len as usize, t);
                Ok(())
            }
            format::TypeWord::One(t) => Err(format!("unknown type {t}")),
            format::TypeWord::Runs(first) => {
                let mut last: Option<u64> = None;
                let mut ix = usize::try_from(first).map_err(|_| "a run past the end")?;
                while (types.len() as u64) < len {
                    let (Some(t), Some(end)) = (
                        format::uint_at(runs, w, ix.saturating_mul(2)),
                        format::uint_at(runs, w, ix.saturating_mul(2).saturating_add(1)),
                    ) else {
                        return Err("a run past the end".to_owned());
                    };
                    if t >= types_known || last.is_some_and(|l| l >= t) {
                        return Err(format!("unknown or unsorted type {t}"));
                    }
                    if end <= types.len() as u64 || end > len {
                        return Err("runs that do not cover the list".to_owned());
                    }
                    types.resize(end as usize, t as u32);
                    last = Some(t);
                    ix += 1;
                }
                Ok(())
            }
        }
    }
}
