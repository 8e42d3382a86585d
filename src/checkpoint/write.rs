//! Writing a base image of the graph as a snapshot sees it (see `format`).
//!
//! The writer runs beside readers and writers: it walks the graph in chunks, holding the
//! graph latch (shared) only while copying one chunk, and writes outside it. What it reads is
//! stable because the caller holds a registered read transaction at the snapshot: version GC
//! keeps every version that snapshot sees, and later commits only add versions it does not.
//! Each section is streamed once, with its checksum and its per-block checksums computed on
//! the way (every section through the same `BlockSums`, whatever its kind); the block
//! checksums, the header and the section table go in last.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::format::{self, kind, BlockSums, Header, Section};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::graph::{GraphData, NodeRef, Visibility, UNCOMMITTED};
use crate::storage::{base_columns, base_index};
use crate::storage::{Change, Graph, NodeId, TypeId};
use crate::vfs::{self, Io, IoFile, OpenMode};
use crate::wal::codec;

/// Entities copied per latch hold.
const CHUNK: usize = 8 * 1024;
const BUF: usize = 1 << 20;
/// Room for the header and a section table of up to this many entries.
const MAX_SECTIONS: usize = 32;

/// What a written base image holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub header: Header,
    pub bytes: u64,
}

/// Writes the graph as of `snapshot` to `dest` (via a temporary file, synced, renamed, and
/// the directory synced). `catalog` is the definition list (`definition_changes`). Stops with
/// an error when `cancel` is set.
pub fn write_base(
    io: &dyn Io,
    dest: &Path,
    graph: &Graph,
    snapshot: u64,
    catalog: &[Change],
    cancel: &AtomicBool,
) -> Result<Written> {
    write_base_as(
        io,
        dest,
        graph,
        snapshot,
        catalog,
        cancel,
        format::FORMAT_VERSION,
    )
}

/// `write_base` in format `version` (1 or 2; tests write format 1 to prove it still opens).
pub(crate) fn write_base_as(
    io: &dyn Io,
    dest: &Path,
    graph: &Graph,
    snapshot: u64,
    catalog: &[Change],
    cancel: &AtomicBool,
    version: u32,
) -> Result<Written> {
    let tmp = dest.with_extension("gdb.tmp");
    let file = io
        .open(&tmp, OpenMode::CreateTruncate)
        .map_err(|e| Error::io(format!("creating {}", tmp.display()), &e))?;
    let outcome =
        write_into(&*file, &tmp, graph, snapshot, catalog, cancel, version).and_then(|w| {
            // A damaged block of the current image reads as empty: an image written from it
            // would silently lose data, so it never replaces anything (see storage::blocks).
            graph.damage.check()?;
            let t = std::time::Instant::now();
            file.sync_all()
                .map_err(|e| Error::io(format!("syncing {}", tmp.display()), &e))?;
            if std::env::var_os("GRAPHDB_TRACE_IMPORT").is_some() {
                eprintln!("graphdb import: base image fsync took {:?}", t.elapsed());
            }
            drop(file);
            io.rename(&tmp, dest)
                .map_err(|e| Error::io(format!("renaming {} into place", dest.display()), &e))?;
            if let Some(dir) = dest.parent() {
                crate::dir::sync_dir(io, dir)?;
            }
            Ok(w)
        });
    if outcome.is_err() {
        // Nothing refers to the temporary file; a failure to remove it is cleaned up later.
        let _ = io.remove_file(&tmp);
    }
    outcome
}

struct Out<'a> {
    file: &'a dyn IoFile,
    path: &'a Path,
    /// Logical end: bytes written plus buffered.
    pos: u64,
    buf: Vec<u8>,
    sections: Vec<Section>,
    /// Each section's block checksums, in the order of `sections`.
    blocks: Vec<Vec<u32>>,
    /// The open section: kind, start, running checksum, block checksums.
    open: Option<(u32, u64, u32, BlockSums)>,
}

impl Out<'_> {
    fn flush(&mut self) -> Result<()> {
        let at = self.pos - self.buf.len() as u64;
        vfs::write_all_at(self.file, &self.buf, at)
            .map_err(|e| Error::io(format!("writing {}", self.path.display()), &e))?;
        self.buf.clear();
        Ok(())
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        self.pos += bytes.len() as u64;
        if self.buf.len() >= BUF {
            self.flush()?;
        }
        Ok(())
    }

    fn begin(&mut self, k: u32) -> Result<()> {
        let pad = (8 - self.pos % 8) % 8;
        self.raw(&[0u8; 8][..pad as usize])?;
        self.open = Some((k, self.pos, 0, BlockSums::default()));
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some((_, _, crc, blocks)) = &mut self.open {
            *crc = crc32c::crc32c_append(*crc, bytes);
            blocks.feed(bytes);
        }
        self.raw(bytes)
    }

    /// Puts `vals` little-endian, a chunk at a time.
    fn put_u64s(&mut self, vals: &[u64]) -> Result<()> {
        let mut chunk = Vec::with_capacity(CHUNK.min(vals.len()) * 8);
        for part in vals.chunks(CHUNK) {
            chunk.clear();
            for v in part {
                chunk.extend_from_slice(&v.to_le_bytes());
            }
            self.put(&chunk)?;
        }
        Ok(())
    }

    fn end(&mut self) {
        if let Some((kind, start, crc, blocks)) = self.open.take() {
            self.sections.push(Section {
                kind,
                offset: start,
                len: self.pos - start,
                crc,
            });
            self.blocks.push(blocks.finish());
        }
    }
}

/// Runs `f` on every id in `0..total`, a chunk at a time under the shared graph latch; `f`
/// appends bytes to the chunk buffer, which is written to section `k` after the latch is
/// released.
fn pass(
    out: &mut Out,
    k: u32,
    graph: &Graph,
    total: u64,
    cancel: &AtomicBool,
    mut f: impl FnMut(&GraphData, u64, &mut Vec<u8>),
) -> Result<()> {
    out.begin(k)?;
    let mut chunk = Vec::new();
    let mut i = 0u64;
    while i < total {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::new(
                ErrorKind::Interrupted,
                "the checkpoint was cancelled because the database is closing",
            ));
        }
        let end = (i + CHUNK as u64).min(total);
        {
            let g = graph.read();
            for id in i..end {
                f(&g, id, &mut chunk);
            }
        }
        out.put(&chunk)?;
        chunk.clear();
        i = end;
    }
    out.end();
    Ok(())
}

/// Writes one whole section from `bytes`.
fn section(out: &mut Out, k: u32, bytes: &[u8]) -> Result<()> {
    out.begin(k)?;
    out.put(bytes)?;
    out.end();
    Ok(())
}

/// Writes `N` fixed-width sections in one visit per entity: section `i` holds `widths[i]`
/// bytes per entity, so its place in the file is known up front and each chunk of every
/// column is written straight to it (`f` appends entity `id`'s value to each column).
fn columns_pass<const N: usize>(
    out: &mut Out,
    kinds: [u32; N],
    widths: [u64; N],
    graph: &Graph,
    total: u64,
    cancel: &AtomicBool,
    mut f: impl FnMut(&GraphData, u64, &mut [Vec<u8>; N]),
) -> Result<()> {
    out.flush()?;
    let mut at = [0u64; N];
    let mut crc = [0u32; N];
    let mut sums: [BlockSums; N] = std::array::from_fn(|_| BlockSums::default());
    let mut end = out.pos;
    for i in 0..N {
        let start = end.div_ceil(8) * 8;
        if start > end {
            write_at(out, &[0u8; 8][..(start - end) as usize], end)?;
        }
        at[i] = start;
        end = start + widths[i] * total;
    }
    let starts = at;
    let mut bufs: [Vec<u8>; N] = std::array::from_fn(|_| Vec::new());
    let mut i = 0u64;
    while i < total {
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        let stop = (i + CHUNK as u64).min(total);
        {
            let g = graph.read();
            for id in i..stop {
                f(&g, id, &mut bufs);
            }
        }
        for k in 0..N {
            write_at(out, &bufs[k], at[k])?;
            crc[k] = crc32c::crc32c_append(crc[k], &bufs[k]);
            sums[k].feed(&bufs[k]);
            at[k] += bufs[k].len() as u64;
            bufs[k].clear();
        }
        i = stop;
    }
    for (k, sums) in sums.into_iter().enumerate() {
        out.sections.push(Section {
            kind: kinds[k],
            offset: starts[k],
            len: at[k] - starts[k],
            crc: crc[k],
        });
        out.blocks.push(sums.finish());
    }
    out.pos = end;
    Ok(())
}

fn write_at(out: &Out, bytes: &[u8], at: u64) -> Result<()> {
    vfs::write_all_at(out.file, bytes, at)
        .map_err(|e| Error::io(format!("writing {}", out.path.display()), &e))
}

fn cancelled() -> Error {
    Error::new(
        ErrorKind::Interrupted,
        "the checkpoint was cancelled because the database is closing",
    )
}

/// Writes a variable-length heap section `data_kind` (entity `id`'s bytes appended by `f`)
/// in one pass, then its offsets section `offsets_kind` (u64 per entity, plus the total, in
/// units of `unit` bytes: 1 for property heaps, the id width for label and adjacency lists) from
/// offsets collected on the way: each entity is visited once, not once per section. The
/// loader finds sections through the table, so their order in the file is free.
fn heap_pass(
    out: &mut Out,
    (offsets_kind, data_kind): (u32, u32),
    graph: &Graph,
    total: u64,
    unit: u64,
    cancel: &AtomicBool,
    mut f: impl FnMut(&GraphData, u64, &mut Vec<u8>),
) -> Result<()> {
    let mut offsets = Vec::with_capacity(usize::try_from(total).unwrap_or(0).saturating_add(1));
    let mut at = 0u64;
    pass(out, data_kind, graph, total, cancel, |g, id, b| {
        offsets.push(at);
        let before = b.len();
        f(g, id, b);
        at += (b.len() - before) as u64 / unit;
    })?;
    offsets.push(at);
    out.begin(offsets_kind)?;
    out.put_u64s(&offsets)?;
    out.end();
    Ok(())
}

/// The entries of each index the catalog defines, as the writer's snapshot sees them.
struct IndexEntries {
    /// One per indexed `(label, key)`, in catalog order.
    lists: Vec<base_index::Contents>,
}

impl IndexEntries {
    fn of(catalog: &[Change]) -> IndexEntries {
        let mut lists: Vec<base_index::Contents> = Vec::new();
        for c in catalog {
            if let Change::CreateIndex { label, key, .. } = c {
                // An index and a uniqueness constraint on one pair share contents.
                if !lists.iter().any(|l| (l.label, l.key) == (*label, *key)) {
                    lists.push(base_index::Contents {
                        label: *label,
                        key: *key,
                        entries: Vec::new(),
                    });
                }
            }
        }
        IndexEntries { lists }
    }

    /// Files node `id`'s visible version.
    fn gather(&mut self, id: NodeId, n: &NodeRef<'_>) {
        for l in &mut self.lists {
            if n.has_label(l.label) {
                if let Some(v) = n.prop(l.key) {
                    l.entries.push((v.into_owned(), id));
                }
            }
        }
    }
}

/// The per-label node lists (format 2): offsets by label id, then the ids.
fn label_lists(out: &mut Out, by_label: &[Vec<u64>]) -> Result<()> {
    out.begin(kind::LABEL_NODES)?;
    for ids in by_label {
        out.put_u64s(ids)?;
    }
    out.end();
    out.begin(kind::LABEL_OFFSETS)?;
    let mut at = 0u64;
    out.put(&at.to_le_bytes())?;
    for ids in by_label {
        at += ids.len() as u64;
        out.put(&at.to_le_bytes())?;
    }
    out.end();
    Ok(())
}

fn write_into(
    file: &dyn IoFile,
    path: &Path,
    graph: &Graph,
    snapshot: u64,
    catalog: &[Change],
    cancel: &AtomicBool,
    version: u32,
) -> Result<Written> {
    // Txn id 0 is never handed out, so this sees exactly the commits at or below `snapshot`.
    let vis = Visibility {
        snapshot,
        own: UNCOMMITTED,
    };
    let (node_slots, rel_slots) = {
        let g = graph.read();
        (g.node_slots(), g.rel_slots())
    };
    let mut out = Out {
        file,
        path,
        pos: (format::HEADER_LEN + MAX_SECTIONS * format::ENTRY_LEN) as u64,
        buf: Vec::with_capacity(BUF + CHUNK * 64),
        sections: Vec::new(),
        blocks: Vec::new(),
        open: None,
    };
    let mut h = Header {
        ts: snapshot,
        node_slots,
        rel_slots,
        ..Header::default()
    };
    section(&mut out, kind::CATALOG, &codec::encode(snapshot, catalog))?;

    let mut live = 0u64;
    pass(
        &mut out,
        kind::NODE_FLAGS,
        graph,
        node_slots,
        cancel,
        |g, id, b| {
            let l = g.node(id, vis).is_some();
            live += u64::from(l);
            b.push(u8::from(l));
        },
    )?;
    h.live_nodes = live;
    // Each label's nodes, ascending (ids are visited in order).
    let mut by_label: Vec<Vec<u64>> = Vec::new();
    heap_pass(
        &mut out,
        (kind::NODE_LABEL_OFFSETS, kind::NODE_LABELS),
        graph,
        node_slots,
        4,
        cancel,
        |g, id, b| {
            if let Some(n) = g.node(id, vis) {
                for l in n.labels().iter() {
                    b.extend_from_slice(&l.to_le_bytes());
                    let i = *l as usize;
                    if i >= by_label.len() {
                        by_label.resize_with(i + 1, Vec::new);
                    }
                    by_label[i].push(id);
                }
            }
        },
    )?;
    if version >= format::BLOCKS_SINCE {
        label_lists(&mut out, &by_label)?;
    }
    drop(by_label);
    // Index contents are gathered on the property pass (each node visited once) and
    // written after it.
    let mut indexes = IndexEntries::of(catalog);
    let mut columns = base_columns::Builder::default();
    heap_pass(
        &mut out,
        (kind::NODE_PROP_OFFSETS, kind::NODE_PROPS),
        graph,
        node_slots,
        1,
        cancel,
        |g, id, b| {
            if let Some(n) = g.node(id, vis) {
                // A base node's encoded list is copied as it is.
                let at = b.len();
                n.props().encode(b);
                columns.note(id, &b[at..]);
                indexes.gather(id, &n);
            }
        },
    )?;
    let t = std::time::Instant::now();
    let index_section = base_index::encode(indexes.lists);
    if std::env::var_os("GRAPHDB_TRACE_IMPORT").is_some() {
        eprintln!(
            "graphdb import: index section of {} bytes built in {:?}",
            index_section.len(),
            t.elapsed()
        );
    }
    section(&mut out, kind::PROP_INDEXES, &index_section)?;
    drop(index_section);
    let (column_dir, column_data) = columns.finish(node_slots, h.live_nodes);
    section(&mut out, kind::PROP_COLUMN_DIR, &column_dir)?;
    section(&mut out, kind::PROP_COLUMNS, &column_data)?;
    drop(column_data);

    let mut live = 0u64;
    columns_pass(
        &mut out,
        [
            kind::REL_FLAGS,
            kind::REL_START,
            kind::REL_END,
            kind::REL_TYPE,
        ],
        [1, 8, 8, 4],
        graph,
        rel_slots,
        cancel,
        |g, id, [flags, starts, ends, types]| {
            let (l, s, e, t) = g
                .rel(id, vis)
                .map_or((0u8, 0, 0, 0), |r| (1, r.start, r.end, r.rel_type));
            live += u64::from(l);
            flags.push(l);
            starts.extend_from_slice(&s.to_le_bytes());
            ends.extend_from_slice(&e.to_le_bytes());
            types.extend_from_slice(&t.to_le_bytes());
        },
    )?;
    h.live_rels = live;
    heap_pass(
        &mut out,
        (kind::REL_PROP_OFFSETS, kind::REL_PROPS),
        graph,
        rel_slots,
        1,
        cancel,
        |g, id, b| {
            if let Some(r) = g.rel(id, vis) {
                r.props.encode(b);
            }
        },
    )?;

    for (offsets_kind, rels_kind, outgoing) in [
        (kind::OUT_OFFSETS, kind::OUT_RELS, true),
        (kind::IN_OFFSETS, kind::IN_RELS, false),
    ] {
        let mut list: Vec<(TypeId, u64)> = Vec::new();
        let adjacent = |g: &GraphData, id: u64, list: &mut Vec<(TypeId, u64)>| {
            list.clear();
            list.extend(
                g.adjacent(id, outgoing)
                    .filter_map(|r| g.rel_step(r, vis, outgoing).map(|(_, t)| (t, r))),
            );
            list.sort_unstable();
        };
        heap_pass(
            &mut out,
            (offsets_kind, rels_kind),
            graph,
            node_slots,
            8,
            cancel,
            |g, id, b| {
                adjacent(g, id, &mut list);
                for (_, r) in &list {
                    b.extend_from_slice(&r.to_le_bytes());
                }
            },
        )?;
    }

    if version >= format::BLOCKS_SINCE {
        // Covers every section written so far, in table order (see `format`).
        let sums = std::mem::take(&mut out.blocks);
        out.begin(kind::BLOCK_CRCS)?;
        for c in sums.iter().flatten() {
            out.put(&c.to_le_bytes())?;
        }
        out.end();
    }
    out.flush()?;
    let header = format::encode_header(&h, &out.sections, version);
    vfs::write_all_at(file, &header, 0)
        .map_err(|e| Error::io(format!("writing {}", path.display()), &e))?;
    Ok(Written {
        header: h,
        bytes: out.pos,
    })
}
