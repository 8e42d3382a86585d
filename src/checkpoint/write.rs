//! Writing a base image of the graph as a snapshot sees it (see `format`).
//!
//! The writer runs beside readers and writers: it walks the graph in chunks, holding the
//! graph latch (shared) only while copying one chunk, and writes outside it. What it reads is
//! stable because the caller holds a registered read transaction at the snapshot: version GC
//! keeps every version that snapshot sees, and later commits only add versions it does not.
//! Each section is streamed once, with its checksum and its per-block checksums computed on
//! the way (every section through the same `BlockSums`, whatever its kind); the block
//! checksums, the header and the section table go in last.
//!
//! Format 3 is written in independent parts on up to `MAX_THREADS` threads (`parts`): the
//! live relationship count is taken first, which fixes the size of every adjacency section
//! but the type runs, so the file is laid out as
//!
//! ```text
//! header + table | out: rels, nbrs, offsets | in: rels, nbrs, offsets | entities ... | runs, block checksums
//! ```
//!
//! where each direction's adjacency is one part written straight to its fixed region, and
//! the entities (catalog, node and relationship sections, whose heaps have sizes known only
//! once written) are one part streamed from the end of the adjacency regions. The type runs,
//! kept in memory, and the block checksums follow once every part is done. The section
//! table lists the entities' sections, then the adjacency parts' in a fixed order, whatever
//! thread finished first, so the same graph always gives the same bytes. A failure in any
//! part stops the others at their next chunk and fails the whole write (no image).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

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
/// Threads an image write uses at most: there are three parts (the entities and one
/// adjacency direction each).
const MAX_THREADS: usize = 3;

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
    let version = WRITE_FORMAT
        .with(|v| v.get())
        .unwrap_or(format::FORMAT_VERSION);
    write_base_as(io, dest, graph, snapshot, catalog, cancel, version)
}

thread_local! {
    static WRITE_FORMAT: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
    static WRITE_THREADS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Makes the images written on this thread (checkpoints run by this thread, imports) use
/// base format `version` (2 or 3; `None` restores the current format). Hidden: tests write
/// format-2 images with it to prove they still read as before.
#[doc(hidden)]
pub fn set_base_write_format(version: Option<u32>) {
    let v = version.map(|v| v.clamp(format::BLOCKS_SINCE, format::FORMAT_VERSION));
    WRITE_FORMAT.with(|w| w.set(v));
}

/// Makes the images written on this thread use at most `threads` threads (1: every part in
/// turn on the calling thread, same layout; `None` restores the default, one per core up
/// to `MAX_THREADS`). Hidden: tests compare the images written both ways.
#[doc(hidden)]
pub fn set_base_write_threads(threads: Option<usize>) {
    WRITE_THREADS.with(|w| w.set(threads.map(|t| t.clamp(1, MAX_THREADS))));
}

fn write_threads() -> usize {
    WRITE_THREADS.with(|w| w.get()).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    })
}

/// `write_base` in format `version` (1 to 3; tests write older formats to prove they still
/// open).
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
    let to = Dest {
        file: &*file,
        path: &tmp,
    };
    let outcome = write_into(to, graph, snapshot, catalog, cancel, version).and_then(|w| {
        // A damaged block of the current image reads as empty: an image written from it
        // would silently lose data, so it never replaces anything (see storage::blocks).
        graph.damage.check()?;
        let t = Instant::now();
        file.sync_all()
            .map_err(|e| Error::io(format!("syncing {}", tmp.display()), &e))?;
        trace(format_args!("base image fsync"), t);
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

/// Prints how long a step of the image write took, under `GRAPHDB_TRACE_IMPORT`.
fn trace(what: std::fmt::Arguments<'_>, since: Instant) {
    if std::env::var_os("GRAPHDB_TRACE_IMPORT").is_some() {
        eprintln!("graphdb import: {what} took {:?}", since.elapsed());
    }
}

/// The temporary image file, shared by every part of the write (each writes its own
/// regions).
#[derive(Clone, Copy)]
struct Dest<'a> {
    file: &'a dyn IoFile,
    path: &'a Path,
}

impl Dest<'_> {
    fn write_at(&self, bytes: &[u8], at: u64) -> Result<()> {
        vfs::write_all_at(self.file, bytes, at)
            .map_err(|e| Error::io(format!("writing {}", self.path.display()), &e))
    }

    /// Zeros from `from` up to `to` (padding outside every section).
    fn pad(&self, from: u64, to: u64) -> Result<()> {
        let n = usize::try_from(to.saturating_sub(from)).unwrap_or(0).min(8);
        if n == 0 {
            return Ok(());
        }
        self.write_at(&[0u8; 8][..n], from)
    }
}

/// Stops the parts of one image write: the caller's cancel flag, or a failure in another
/// part (the first failure is the one reported).
struct Halt<'a> {
    cancel: &'a AtomicBool,
    failed: AtomicBool,
    first: Mutex<Option<Error>>,
}

impl<'a> Halt<'a> {
    fn new(cancel: &'a AtomicBool) -> Halt<'a> {
        Halt {
            cancel,
            failed: AtomicBool::new(false),
            first: Mutex::new(None),
        }
    }

    /// Called by each part once per chunk.
    fn check(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        if self.failed.load(Ordering::Relaxed) {
            // Never reported: the part that failed first set `first`.
            return Err(Error::new(
                ErrorKind::Internal,
                "stopped because another part of the base image write failed",
            ));
        }
        Ok(())
    }

    fn fail(&self, e: Error) {
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(e);
        }
        self.failed.store(true, Ordering::Relaxed);
    }

    fn failure(&self) -> Result<()> {
        match self.first.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn cancelled() -> Error {
    Error::new(
        ErrorKind::Interrupted,
        "the checkpoint was cancelled because the database is closing",
    )
}

/// Runs `part(0..parts)` on up to `threads` threads (the caller's among them), each thread
/// taking the next part when done with one, so parts listed first start first. The first
/// failure stops the rest (see `Halt`) and is returned.
fn run_parts<T: Send>(
    threads: usize,
    parts: usize,
    halt: &Halt,
    part: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<T>>> = Mutex::new((0..parts).map(|_| None).collect());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= parts {
            break;
        }
        match halt.check().and_then(|()| part(i)) {
            Ok(v) => done.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(v),
            Err(e) => halt.fail(e),
        }
    };
    std::thread::scope(|s| {
        // A thread that cannot be started leaves its parts to the others.
        let helpers: Vec<_> = (1..threads.min(parts))
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("graphdb-image".into())
                    .spawn_scoped(s, work)
                    .ok()
            })
            .collect();
        work();
        for h in helpers {
            if h.join().is_err() {
                halt.fail(Error::new(
                    ErrorKind::Internal,
                    "a base image writer thread panicked",
                ));
            }
        }
    });
    halt.failure()?;
    done.into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|v| {
            v.ok_or_else(|| {
                Error::new(
                    ErrorKind::Internal,
                    "a part of the base image was not written",
                )
            })
        })
        .collect()
}

struct Out<'a> {
    to: Dest<'a>,
    /// Logical end: bytes written plus buffered.
    pos: u64,
    buf: Vec<u8>,
    sections: Vec<Section>,
    /// Each section's block checksums, in the order of `sections`.
    blocks: Vec<Vec<u32>>,
    /// The open section: kind, start, running checksum, block checksums.
    open: Option<(u32, u64, u32, BlockSums)>,
}

impl<'a> Out<'a> {
    /// Streams sections from `pos` on.
    fn new(to: Dest<'a>, pos: u64) -> Out<'a> {
        Out {
            to,
            pos,
            buf: Vec::with_capacity(BUF + CHUNK * 64),
            sections: Vec::new(),
            blocks: Vec::new(),
            open: None,
        }
    }

    fn flush(&mut self) -> Result<()> {
        let at = self.pos - self.buf.len() as u64;
        self.to.write_at(&self.buf, at)?;
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

    /// Lists a section some other part wrote.
    fn add(&mut self, (section, blocks): (Section, Vec<u32>)) {
        self.sections.push(section);
        self.blocks.push(blocks);
    }
}

/// A section of known place and length, written in pieces as they come (beside other parts
/// of the image being written: it never writes outside its range).
struct Fixed {
    kind: u32,
    start: u64,
    len: u64,
    at: u64,
    crc: u32,
    sums: BlockSums,
}

impl Fixed {
    fn new(kind: u32, start: u64, len: u64) -> Fixed {
        Fixed {
            kind,
            start,
            len,
            at: start,
            crc: 0,
            sums: BlockSums::default(),
        }
    }

    fn end(&self) -> u64 {
        self.start + self.len
    }

    /// Whether `n` more bytes fit.
    fn fits(&self, n: usize) -> bool {
        self.at + n as u64 <= self.end()
    }

    fn put(&mut self, to: Dest, bytes: &[u8]) -> Result<()> {
        if !self.fits(bytes.len()) {
            return Err(Error::new(
                ErrorKind::Internal,
                format!(
                    "writing the base image: the {} section outgrew its place",
                    format::kind_name(self.kind)
                ),
            ));
        }
        to.write_at(bytes, self.at)?;
        self.crc = crc32c::crc32c_append(self.crc, bytes);
        self.sums.feed(bytes);
        self.at += bytes.len() as u64;
        Ok(())
    }

    /// The table entry and block checksums, once filled (`None` when short).
    fn finish(self) -> Option<(Section, Vec<u32>)> {
        (self.at == self.end()).then(|| {
            (
                Section {
                    kind: self.kind,
                    offset: self.start,
                    len: self.len,
                    crc: self.crc,
                },
                self.sums.finish(),
            )
        })
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
    halt: &Halt,
    mut f: impl FnMut(&GraphData, u64, &mut Vec<u8>),
) -> Result<()> {
    out.begin(k)?;
    let mut chunk = Vec::new();
    let mut i = 0u64;
    while i < total {
        halt.check()?;
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
    halt: &Halt,
    mut f: impl FnMut(&GraphData, u64, &mut [Vec<u8>; N]),
) -> Result<()> {
    out.flush()?;
    let mut starts = [0u64; N];
    let mut end = out.pos;
    for i in 0..N {
        starts[i] = end.div_ceil(8) * 8;
        out.to.pad(end, starts[i])?;
        end = starts[i] + widths[i] * total;
    }
    let mut cols: [Fixed; N] =
        std::array::from_fn(|i| Fixed::new(kinds[i], starts[i], widths[i] * total));
    let mut bufs: [Vec<u8>; N] = std::array::from_fn(|_| Vec::new());
    let mut i = 0u64;
    while i < total {
        halt.check()?;
        let stop = (i + CHUNK as u64).min(total);
        {
            let g = graph.read();
            for id in i..stop {
                f(&g, id, &mut bufs);
            }
        }
        for (col, buf) in cols.iter_mut().zip(bufs.iter_mut()) {
            col.put(out.to, buf)?;
            buf.clear();
        }
        i = stop;
    }
    for col in cols {
        let placed = col.finish().ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                "writing the base image: a column came out short",
            )
        })?;
        out.add(placed);
    }
    out.pos = end;
    Ok(())
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
    halt: &Halt,
    mut f: impl FnMut(&GraphData, u64, &mut Vec<u8>),
) -> Result<()> {
    let mut offsets = Vec::with_capacity(usize::try_from(total).unwrap_or(0).saturating_add(1));
    let mut at = 0u64;
    pass(out, data_kind, graph, total, halt, |g, id, b| {
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

/// Node `id`'s relationships in one direction that `vis` sees, as `(type, id, other end)`
/// sorted by type, then id: the order of an image's adjacency list.
fn adjacent(
    g: &GraphData,
    vis: Visibility,
    id: NodeId,
    outgoing: bool,
    list: &mut Vec<(TypeId, u64, NodeId)>,
) {
    list.clear();
    list.extend(
        g.adjacent(id, outgoing)
            .filter_map(|r| g.rel_step(r, vis, outgoing).map(|(o, t)| (t, r, o))),
    );
    // Usually already in order (one type, created in id order): checking is cheaper than
    // sorting.
    if !list.is_sorted() {
        list.sort_unstable();
    }
}

/// The relationships live at the snapshot, counted in `parts` ranges of ids on up to
/// `threads` threads.
fn count_live_rels(
    graph: &Graph,
    vis: Visibility,
    rel_slots: u64,
    threads: usize,
    halt: &Halt,
) -> Result<u64> {
    let parts = threads.max(1);
    let per = rel_slots.div_ceil(parts as u64);
    let counts = run_parts(threads, parts, halt, |p| {
        let (from, to) = (per * p as u64, (per * (p as u64 + 1)).min(rel_slots));
        let mut live = 0u64;
        let mut i = from;
        while i < to {
            halt.check()?;
            let stop = (i + CHUNK as u64 * 8).min(to);
            let g = graph.read();
            live += (i..stop)
                .filter(|&r| g.rel_step(r, vis, true).is_some())
                .count() as u64;
            i = stop;
        }
        Ok(live)
    })?;
    Ok(counts.into_iter().sum())
}

/// Where one direction's adjacency sections of known size go (format 3): the relationship
/// ids (`live_rels` values of `W` bytes), the neighbour column (a type word per node slot
/// plus a value per relationship) and the offsets (u64 per node slot, plus the total), one
/// after another from `from`, each at a multiple of 8.
#[derive(Debug, Clone, Copy)]
struct AdjPlace {
    from: u64,
    rels: u64,
    nbrs: u64,
    offsets: u64,
    end: u64,
}

impl AdjPlace {
    fn new(h: &Header, from: u64) -> AdjPlace {
        let w = format::nbr_width(h.node_slots, h.rel_slots) as u64;
        let rels = from.div_ceil(8) * 8;
        let nbrs = (rels + h.live_rels * w).div_ceil(8) * 8;
        let offsets = (nbrs + (h.live_rels + h.node_slots) * w).div_ceil(8) * 8;
        let end = offsets + (h.node_slots + 1) * 8;
        AdjPlace {
            from,
            rels,
            nbrs,
            offsets,
            end,
        }
    }
}

/// One direction's adjacency in format 3, each node visited once, written to `place`: the
/// relationship lists and the neighbour column (type word, then the other ends) are written
/// a chunk at a time, the offsets after them; the (few) type runs are returned, to be
/// written once their size is known. Returns the sections written (relationship ids,
/// neighbours, offsets) and the runs.
fn adjacency_v3(
    to: Dest,
    graph: &Graph,
    vis: Visibility,
    outgoing: bool,
    h: &Header,
    place: AdjPlace,
    halt: &Halt,
) -> Result<(Vec<(Section, Vec<u32>)>, Vec<u8>)> {
    let (offsets_kind, rels_kind, nbrs_kind, _) = format::adjacency_kinds(outgoing);
    let w = format::nbr_width(h.node_slots, h.rel_slots);
    // A damaged block of the current image reads as empty, so the counts can disagree:
    // that damage is the error to report (see `write_base_as`).
    let internal = |what: &str| match graph.damage.check() {
        Err(e) => e,
        Ok(()) => Error::new(
            ErrorKind::Internal,
            format!("writing the base image's adjacency: {what}"),
        ),
    };
    // Relationship ids at the same width: `nbr_width` is 4 only when they fit in 31 bits.
    let mut rels = Fixed::new(rels_kind, place.rels, h.live_rels * w as u64);
    let mut nbrs = Fixed::new(
        nbrs_kind,
        place.nbrs,
        (h.live_rels + h.node_slots) * w as u64,
    );
    let mut offs = Fixed::new(offsets_kind, place.offsets, (h.node_slots + 1) * 8);
    to.pad(place.from, place.rels)?;
    to.pad(rels.end(), place.nbrs)?;
    to.pad(nbrs.end(), place.offsets)?;
    let mut offsets = Vec::with_capacity(usize::try_from(h.node_slots).unwrap_or(0) + 1);
    let mut runs = Vec::new();
    let (mut run_count, mut listed) = (0u64, 0u64);
    let (mut rels_buf, mut nbrs_buf) = (Vec::new(), Vec::new());
    let mut list: Vec<(TypeId, u64, NodeId)> = Vec::new();
    let mut i = 0u64;
    while i < h.node_slots {
        halt.check()?;
        let stop = (i + CHUNK as u64).min(h.node_slots);
        {
            let g = graph.read();
            for id in i..stop {
                offsets.push(listed);
                adjacent(&g, vis, id, outgoing, &mut list);
                listed += list.len() as u64;
                let one = match (list.first(), list.last()) {
                    (Some(f), Some(l)) if f.0 == l.0 => Some(f.0),
                    (None, _) => Some(0),
                    _ => None,
                };
                let word = match one.and_then(|t| format::TypeWord::One(t).encode(w)) {
                    Some(word) => word,
                    None => {
                        let word = format::TypeWord::Runs(run_count)
                            .encode(w)
                            .ok_or_else(|| internal("a run index does not fit"))?;
                        for (j, e) in list.iter().enumerate() {
                            if list.get(j + 1).map_or(true, |n| n.0 != e.0) {
                                format::put_uint(&mut runs, w, u64::from(e.0));
                                format::put_uint(&mut runs, w, j as u64 + 1);
                                run_count += 1;
                            }
                        }
                        word
                    }
                };
                format::put_uint(&mut nbrs_buf, w, word);
                for &(_, r, o) in &list {
                    format::put_uint(&mut rels_buf, w, r);
                    format::put_uint(&mut nbrs_buf, w, o);
                }
            }
        }
        if !rels.fits(rels_buf.len()) || !nbrs.fits(nbrs_buf.len()) {
            return Err(internal("more entries than live relationships"));
        }
        rels.put(to, &rels_buf)?;
        nbrs.put(to, &nbrs_buf)?;
        rels_buf.clear();
        nbrs_buf.clear();
        i = stop;
    }
    offsets.push(listed);
    let short = || internal("fewer entries than live relationships");
    if listed != h.live_rels {
        return Err(short());
    }
    let mut bytes = Vec::with_capacity(CHUNK * 8);
    for part in offsets.chunks(CHUNK) {
        bytes.clear();
        for v in part {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        offs.put(to, &bytes)?;
    }
    let placed = [rels, nbrs, offs]
        .into_iter()
        .map(|f| f.finish().ok_or_else(short))
        .collect::<Result<Vec<_>>>()?;
    Ok((placed, runs))
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

/// What the entities part found: live nodes and live relationships.
struct Live {
    nodes: u64,
    rels: u64,
}

/// The catalog and the node and relationship sections (everything but the adjacency),
/// streamed through `out`.
fn entities(
    out: &mut Out,
    graph: &Graph,
    vis: Visibility,
    catalog: &[Change],
    (node_slots, rel_slots): (u64, u64),
    version: u32,
    halt: &Halt,
) -> Result<Live> {
    let t = Instant::now();
    section(out, kind::CATALOG, &codec::encode(vis.snapshot, catalog))?;
    let mut live_nodes = 0u64;
    pass(
        out,
        kind::NODE_FLAGS,
        graph,
        node_slots,
        halt,
        |g, id, b| {
            let l = g.node(id, vis).is_some();
            live_nodes += u64::from(l);
            b.push(u8::from(l));
        },
    )?;
    // Each label's nodes, ascending (ids are visited in order).
    let mut by_label: Vec<Vec<u64>> = Vec::new();
    heap_pass(
        out,
        (kind::NODE_LABEL_OFFSETS, kind::NODE_LABELS),
        graph,
        node_slots,
        4,
        halt,
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
        label_lists(out, &by_label)?;
    }
    drop(by_label);
    trace(format_args!("image: node flags and labels"), t);
    let t = Instant::now();
    // Index contents are gathered on the property pass (each node visited once) and
    // written after it.
    let mut indexes = IndexEntries::of(catalog);
    let mut columns = base_columns::Builder::default();
    heap_pass(
        out,
        (kind::NODE_PROP_OFFSETS, kind::NODE_PROPS),
        graph,
        node_slots,
        1,
        halt,
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
    trace(format_args!("image: node properties"), t);
    let t = Instant::now();
    let index_section = base_index::encode(indexes.lists);
    trace(
        format_args!("image: index section of {} bytes", index_section.len()),
        t,
    );
    section(out, kind::PROP_INDEXES, &index_section)?;
    drop(index_section);
    let (column_dir, column_data) = columns.finish(node_slots, live_nodes);
    section(out, kind::PROP_COLUMN_DIR, &column_dir)?;
    section(out, kind::PROP_COLUMNS, &column_data)?;
    drop(column_data);
    trace(format_args!("image: indexes and property columns"), t);

    let t = Instant::now();
    let mut live_rels = 0u64;
    columns_pass(
        out,
        [
            kind::REL_FLAGS,
            kind::REL_START,
            kind::REL_END,
            kind::REL_TYPE,
        ],
        [1, 8, 8, 4],
        graph,
        rel_slots,
        halt,
        |g, id, [flags, starts, ends, types]| {
            let (l, s, e, t) = g
                .rel(id, vis)
                .map_or((0u8, 0, 0, 0), |r| (1, r.start, r.end, r.rel_type));
            live_rels += u64::from(l);
            flags.push(l);
            starts.extend_from_slice(&s.to_le_bytes());
            ends.extend_from_slice(&e.to_le_bytes());
            types.extend_from_slice(&t.to_le_bytes());
        },
    )?;
    trace(format_args!("image: relationship columns"), t);
    let t = Instant::now();
    heap_pass(
        out,
        (kind::REL_PROP_OFFSETS, kind::REL_PROPS),
        graph,
        rel_slots,
        1,
        halt,
        |g, id, b| {
            if let Some(r) = g.rel(id, vis) {
                r.props.encode(b);
            }
        },
    )?;
    trace(format_args!("image: relationship properties"), t);
    Ok(Live {
        nodes: live_nodes,
        rels: live_rels,
    })
}

/// One direction's adjacency before format 3: the relationship ids (u64), grouped by type.
fn adjacency_v1(
    out: &mut Out,
    graph: &Graph,
    vis: Visibility,
    outgoing: bool,
    node_slots: u64,
    halt: &Halt,
) -> Result<()> {
    let (offsets_kind, rels_kind, _, _) = format::adjacency_kinds(outgoing);
    let mut list: Vec<(TypeId, u64, NodeId)> = Vec::new();
    heap_pass(
        out,
        (offsets_kind, rels_kind),
        graph,
        node_slots,
        8,
        halt,
        |g, id, b| {
            adjacent(g, vis, id, outgoing, &mut list);
            for (_, r, _) in &list {
                b.extend_from_slice(&r.to_le_bytes());
            }
        },
    )
}

/// The parts of a format-3 image write (see the module comment), in the order threads take
/// them: the entities first, as the longest.
enum Part<'a> {
    Entities(Out<'a>, Live),
    Adjacency(Vec<(Section, Vec<u32>)>, Vec<u8>),
}

fn write_into(
    to: Dest,
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
    let halt = Halt::new(cancel);
    let mut h = Header {
        ts: snapshot,
        node_slots,
        rel_slots,
        ..Header::default()
    };
    let table_end = (format::HEADER_LEN + MAX_SECTIONS * format::ENTRY_LEN) as u64;
    let slots = (node_slots, rel_slots);
    let mut out = if version >= format::NBRS_SINCE {
        let threads = write_threads();
        let t = Instant::now();
        h.live_rels = count_live_rels(graph, vis, rel_slots, threads, &halt)?;
        trace(format_args!("image: live relationship count"), t);
        let outgoing = AdjPlace::new(&h, table_end);
        let incoming = AdjPlace::new(&h, outgoing.end);
        let entities_from = incoming.end.div_ceil(8) * 8;
        let t = Instant::now();
        let parts = run_parts(threads, 3, &halt, |p| {
            let t = Instant::now();
            let part = match p {
                0 => {
                    let mut out = Out::new(to, entities_from);
                    to.pad(incoming.end, entities_from)?;
                    let live = entities(&mut out, graph, vis, catalog, slots, version, &halt)?;
                    out.flush()?;
                    Part::Entities(out, live)
                }
                _ => {
                    let place = if p == 1 { outgoing } else { incoming };
                    let (placed, runs) = adjacency_v3(to, graph, vis, p == 1, &h, place, &halt)?;
                    Part::Adjacency(placed, runs)
                }
            };
            trace(format_args!("image: part {p} (0 entities, 1 out, 2 in)"), t);
            Ok(part)
        })?;
        trace(format_args!("image: all parts"), t);
        let mut out = None;
        let mut runs = Vec::new();
        for part in parts {
            match part {
                Part::Entities(o, live) => {
                    // Both counted at the same snapshot: only damage makes them differ.
                    if live.rels != h.live_rels {
                        graph.damage.check()?;
                        return Err(Error::new(
                            ErrorKind::Internal,
                            "writing the base image: the relationship counts disagree",
                        ));
                    }
                    h.live_nodes = live.nodes;
                    out = Some(o);
                }
                Part::Adjacency(placed, r) => {
                    let Some(o) = out.as_mut() else {
                        return Err(Error::new(
                            ErrorKind::Internal,
                            "writing the base image: parts out of order",
                        ));
                    };
                    for p in placed {
                        o.add(p);
                    }
                    runs.push(r);
                }
            }
        }
        let Some(mut out) = out else {
            return Err(Error::new(
                ErrorKind::Internal,
                "writing the base image: the entities part is missing",
            ));
        };
        for (r, outgoing) in runs.iter().zip([true, false]) {
            section(&mut out, format::adjacency_kinds(outgoing).3, r)?;
        }
        out
    } else {
        let mut out = Out::new(to, table_end);
        let live = entities(&mut out, graph, vis, catalog, slots, version, &halt)?;
        h.live_nodes = live.nodes;
        h.live_rels = live.rels;
        for outgoing in [true, false] {
            adjacency_v1(&mut out, graph, vis, outgoing, node_slots, &halt)?;
        }
        out
    };

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
    to.write_at(&header, 0)?;
    Ok(Written {
        header: h,
        bytes: out.pos,
    })
}
