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
//! The image is written in independent parts on up to `MAX_THREADS` threads (`run_parts`),
//! each into regions whose start is known before any part begins. In format 3 the live
//! relationship count is taken first (`count_live_rels`), which fixes the size of every
//! adjacency section but the type runs; the relationship columns and property offsets are
//! sized by the slot count. The file is laid out as
//!
//! ```text
//! header + table | out adjacency | in adjacency | rel columns, rel prop offsets
//!   | catalog and node sections | rel property heap | type runs | block checksums
//! ```
//!
//! The parts: each adjacency direction (written straight to its fixed region), the
//! relationships (columns and offsets to theirs, each relationship visited once), and the
//! catalog and node sections, streamed from the end of the fixed regions (their heaps'
//! sizes are known only once written). The relationship property heap goes right after the
//! node sections: the relationship part holds its bytes until the node part has ended and
//! published where that is (`Late`). The type runs, kept in memory, and the block checksums
//! follow once every part is done. The section table lists the node part's sections, then
//! the relationship part's, then the outgoing and incoming adjacency, whatever thread
//! finished first, so one graph always gives the same bytes on any number of threads. A
//! failure in any part stops the others at their next chunk and fails the whole write (the
//! caller removes the temporary file: no image). Older formats use the same parts but the
//! adjacency, which follows them on the calling thread.
//!
//! The incoming lists are gathered by a scan of the relationships in id order
//! (`incoming_by_scan`) rather than node by node: a node's incoming relationships lie far
//! apart in memory, and visiting them one by one costs a cache miss each.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
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
/// Threads an image write uses at most: there are four parts (nodes, relationships, and
/// one per adjacency direction).
const MAX_THREADS: usize = 4;

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
    static SCAN_LIMIT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
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

/// Makes the images written on this thread gather the incoming lists in ranges of at most
/// `entries` entries (`None`: `SCAN_ENTRIES`). Hidden: tests make small graphs take several
/// ranges.
#[doc(hidden)]
pub fn set_base_write_scan_entries(entries: Option<usize>) {
    SCAN_LIMIT.with(|w| w.set(entries.map(|e| e.max(1))));
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

/// Sections a part wrote to their places, with their block checksums.
type Placed = Vec<(Section, Vec<u32>)>;

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

/// A section's checksum and block checksums, fed its bytes in file order as they are written
/// (the same for every section, whichever part writes it and however).
#[derive(Default)]
struct Sums {
    crc: u32,
    blocks: BlockSums,
}

impl Sums {
    fn feed(&mut self, bytes: &[u8]) {
        self.crc = crc32c::crc32c_append(self.crc, bytes);
        self.blocks.feed(bytes);
    }

    /// The table entry of the section at `offset`, `len` bytes, and its block checksums.
    fn finish(self, kind: u32, offset: u64, len: u64) -> (Section, Vec<u32>) {
        let section = Section {
            kind,
            offset,
            len,
            crc: self.crc,
        };
        (section, self.blocks.finish())
    }
}

struct Out<'a> {
    to: Dest<'a>,
    /// Logical end: bytes written plus buffered.
    pos: u64,
    buf: Vec<u8>,
    sections: Vec<Section>,
    /// Each section's block checksums, in the order of `sections`.
    blocks: Vec<Vec<u32>>,
    /// The open section: kind, start, sums so far.
    open: Option<(u32, u64, Sums)>,
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
        self.open = Some((k, self.pos, Sums::default()));
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some((_, _, sums)) = &mut self.open {
            sums.feed(bytes);
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
        if let Some((kind, start, sums)) = self.open.take() {
            let len = self.pos - start;
            self.add(sums.finish(kind, start, len));
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
    sums: Sums,
}

impl Fixed {
    fn new(kind: u32, start: u64, len: u64) -> Fixed {
        Fixed {
            kind,
            start,
            len,
            at: start,
            sums: Sums::default(),
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
        self.sums.feed(bytes);
        self.at += bytes.len() as u64;
        Ok(())
    }

    /// The table entry and block checksums, once filled (`None` when short).
    fn finish(self) -> Option<(Section, Vec<u32>)> {
        (self.at == self.end()).then(|| self.sums.finish(self.kind, self.start, self.len))
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
    if !in_order(list) {
        list.sort_unstable();
    }
}

fn in_order<T: PartialOrd>(list: &[T]) -> bool {
    list.windows(2).all(|w| w[0] <= w[1])
}

/// The live relationships at the snapshot, counted over `threads` ranges of ids; with
/// `in_buckets`, also the incoming relationships per bucket of end nodes (for
/// `incoming_by_scan`).
fn count_live_rels(
    graph: &Graph,
    vis: Visibility,
    (node_slots, rel_slots): (u64, u64),
    in_buckets: bool,
    threads: usize,
    halt: &Halt,
) -> Result<(u64, Vec<u64>)> {
    let parts = threads.max(1);
    let per = rel_slots.div_ceil(parts as u64);
    let buckets = if in_buckets {
        usize::try_from(node_slots.div_ceil(1 << BUCKET_SHIFT)).map_err(|_| too_many())?
    } else {
        0
    };
    let counts = run_parts(threads, parts, halt, |p| {
        let (from, to) = (per * p as u64, (per * (p as u64 + 1)).min(rel_slots));
        let mut live = 0u64;
        let mut per_bucket = vec![0u64; buckets];
        let mut i = from;
        while i < to {
            halt.check()?;
            let stop = (i + CHUNK as u64 * 8).min(to);
            let g = graph.read();
            for r in i..stop {
                if let Some((_, end, _)) = g.visible_shape(r, vis) {
                    live += 1;
                    if in_buckets {
                        let c = usize::try_from(end >> BUCKET_SHIFT)
                            .ok()
                            .and_then(|b| per_bucket.get_mut(b))
                            .ok_or_else(|| mismatch(graph, "a relationship ends past the nodes"))?;
                        *c += 1;
                    }
                }
            }
            i = stop;
        }
        Ok((live, per_bucket))
    })?;
    let mut total = 0u64;
    let mut per_bucket = vec![0u64; buckets];
    for (live, c) in counts {
        total += live;
        for (a, b) in per_bucket.iter_mut().zip(c) {
            *a += b;
        }
    }
    Ok((total, per_bucket))
}

fn too_many() -> Error {
    Error::new(
        ErrorKind::Internal,
        "writing the base image: more node slots than this machine can address",
    )
}

/// The error for counts that disagree: a damaged block of the current image reads as empty,
/// so that damage is the error to report (see `write_base_as`); else an internal error.
fn mismatch(graph: &Graph, what: &str) -> Error {
    match graph.damage.check() {
        Err(e) => e,
        Ok(()) => Error::new(
            ErrorKind::Internal,
            format!("writing the base image's adjacency: {what}"),
        ),
    }
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

/// One direction's adjacency in format 3, fed one node's list at a time in id order: the
/// relationship ids and the neighbour column (type word, then the other ends) go to their
/// places a chunk at a time (`flush`), the offsets once every node is in; the (few) type
/// runs are kept, to be written once their size is known.
struct AdjWriter<'a> {
    to: Dest<'a>,
    graph: &'a Graph,
    w: usize,
    rels: Fixed,
    nbrs: Fixed,
    offs: Fixed,
    offsets: Vec<u64>,
    runs: Vec<u8>,
    run_count: u64,
    listed: u64,
    rels_buf: Vec<u8>,
    nbrs_buf: Vec<u8>,
}

impl<'a> AdjWriter<'a> {
    fn new(
        to: Dest<'a>,
        graph: &'a Graph,
        h: &Header,
        outgoing: bool,
        place: AdjPlace,
    ) -> Result<AdjWriter<'a>> {
        let (offsets_kind, rels_kind, nbrs_kind, _) = format::adjacency_kinds(outgoing);
        let w = format::nbr_width(h.node_slots, h.rel_slots);
        // Relationship ids at the same width: `nbr_width` is 4 only when they fit in 31 bits.
        let rels = Fixed::new(rels_kind, place.rels, h.live_rels * w as u64);
        let nbrs = Fixed::new(
            nbrs_kind,
            place.nbrs,
            (h.live_rels + h.node_slots) * w as u64,
        );
        let offs = Fixed::new(offsets_kind, place.offsets, (h.node_slots + 1) * 8);
        to.pad(place.from, place.rels)?;
        to.pad(rels.end(), place.nbrs)?;
        to.pad(nbrs.end(), place.offsets)?;
        Ok(AdjWriter {
            to,
            graph,
            w,
            rels,
            nbrs,
            offs,
            offsets: Vec::with_capacity(usize::try_from(h.node_slots).unwrap_or(0) + 1),
            runs: Vec::new(),
            run_count: 0,
            listed: 0,
            rels_buf: Vec::new(),
            nbrs_buf: Vec::new(),
        })
    }

    /// The next node's list, sorted by type, then id.
    fn node(&mut self, list: &[(TypeId, u64, NodeId)]) -> Result<()> {
        let w = self.w;
        self.offsets.push(self.listed);
        self.listed += list.len() as u64;
        let one = match (list.first(), list.last()) {
            (Some(f), Some(l)) if f.0 == l.0 => Some(f.0),
            (None, _) => Some(0),
            _ => None,
        };
        let word = match one.and_then(|t| format::TypeWord::One(t).encode(w)) {
            Some(word) => word,
            None => {
                let word = format::TypeWord::Runs(self.run_count)
                    .encode(w)
                    .ok_or_else(|| mismatch(self.graph, "a run index does not fit"))?;
                for (j, e) in list.iter().enumerate() {
                    if list.get(j + 1).map_or(true, |n| n.0 != e.0) {
                        format::put_uint(&mut self.runs, w, u64::from(e.0));
                        format::put_uint(&mut self.runs, w, j as u64 + 1);
                        self.run_count += 1;
                    }
                }
                word
            }
        };
        format::put_uint(&mut self.nbrs_buf, w, word);
        for &(_, r, o) in list {
            format::put_uint(&mut self.rels_buf, w, r);
            format::put_uint(&mut self.nbrs_buf, w, o);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.rels.fits(self.rels_buf.len()) || !self.nbrs.fits(self.nbrs_buf.len()) {
            return Err(mismatch(self.graph, "more entries than live relationships"));
        }
        self.rels.put(self.to, &self.rels_buf)?;
        self.nbrs.put(self.to, &self.nbrs_buf)?;
        self.rels_buf.clear();
        self.nbrs_buf.clear();
        Ok(())
    }

    /// Writes the offsets; returns the sections written (relationship ids, neighbours,
    /// offsets) and the runs.
    fn finish(mut self) -> Result<(Placed, Vec<u8>)> {
        self.flush()?;
        self.offsets.push(self.listed);
        let graph = self.graph;
        let short = || mismatch(graph, "fewer entries than live relationships");
        if self.rels.at != self.rels.end() {
            return Err(short());
        }
        let mut bytes = Vec::with_capacity(CHUNK * 8);
        for part in self.offsets.chunks(CHUNK) {
            bytes.clear();
            for v in part {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            self.offs.put(self.to, &bytes)?;
        }
        let placed = [self.rels, self.nbrs, self.offs]
            .into_iter()
            .map(|f| f.finish().ok_or_else(short))
            .collect::<Result<Vec<_>>>()?;
        Ok((placed, self.runs))
    }
}

/// One direction's adjacency in format 3, each node's list gathered from its relationships
/// (`adjacent`).
fn adjacency_v3(
    to: Dest,
    graph: &Graph,
    vis: Visibility,
    outgoing: bool,
    h: &Header,
    place: AdjPlace,
    halt: &Halt,
) -> Result<(Placed, Vec<u8>)> {
    let mut wr = AdjWriter::new(to, graph, h, outgoing, place)?;
    let mut list: Vec<(TypeId, u64, NodeId)> = Vec::new();
    let mut i = 0u64;
    while i < h.node_slots {
        halt.check()?;
        let stop = (i + CHUNK as u64).min(h.node_slots);
        {
            let g = graph.read();
            for id in i..stop {
                adjacent(&g, vis, id, outgoing, &mut list);
                wr.node(&list)?;
            }
        }
        wr.flush()?;
        i = stop;
    }
    wr.finish()
}

/// Entries an incoming scan holds at once (16 bytes each): more incoming relationships than
/// this are gathered in ranges of end nodes, one scan each.
const SCAN_ENTRIES: usize = 1 << 23;
/// Nodes per bucket of the incoming scan (its counters stay in cache).
const BUCKET_SHIFT: u32 = 12;

/// What `incoming_by_scan` needs: the incoming relationships per bucket of end nodes, and
/// the entries it may hold at once.
struct InScan {
    per_bucket: Vec<u64>,
    limit: usize,
}

/// The incoming adjacency in format 3 (width 4), gathered by scanning the relationships in
/// id order rather than by visiting each node's list: an incoming list's relationships lie
/// far apart, so reading them node by node is a cache miss per relationship. The scan reads
/// them in order and appends each to the bucket of `1 << BUCKET_SHIFT` end nodes it falls
/// in (`per_bucket`: the counts, from `count_live_rels`), then sorts each bucket by end node
/// in cache. Ids come out ascending per node; a node with several types is sorted. More
/// entries than `scan.limit` are gathered in ranges of buckets, one scan each.
fn incoming_by_scan(
    to: Dest,
    graph: &Graph,
    vis: Visibility,
    h: &Header,
    place: AdjPlace,
    scan: &InScan,
    halt: &Halt,
) -> Result<(Placed, Vec<u8>)> {
    let (per_bucket, limit) = (&scan.per_bucket[..], scan.limit);
    let mut wr = AdjWriter::new(to, graph, h, false, place)?;
    let narrow = |v: u64| {
        u32::try_from(v).map_err(|_| mismatch(graph, "an id past the incoming scan's width"))
    };
    // (end, type, id, start)
    let mut flat: Vec<(u32, TypeId, u32, u32)> = Vec::new();
    let mut sorted: Vec<(TypeId, u32, u32)> = Vec::new();
    let (mut at, mut fill) = (Vec::new(), Vec::new());
    let mut list: Vec<(TypeId, u64, NodeId)> = Vec::new();
    let mut lo = 0usize;
    while lo < per_bucket.len() {
        // Buckets lo..hi, together at most `limit` entries (or one bucket).
        let (mut hi, mut total) = (lo, 0usize);
        while hi < per_bucket.len() && (hi == lo || total + per_bucket[hi] as usize <= limit) {
            total += usize::try_from(per_bucket[hi]).map_err(|_| too_many())?;
            hi += 1;
        }
        let mut starts = Vec::with_capacity(hi - lo + 1);
        let mut n = 0usize;
        for &c in &per_bucket[lo..hi] {
            starts.push(n);
            n += c as usize;
        }
        starts.push(n);
        let mut cur = starts[..hi - lo].to_vec();
        flat.clear();
        flat.resize(total, (0, 0, 0, 0));
        let (first, past) = ((lo as u64) << BUCKET_SHIFT, (hi as u64) << BUCKET_SHIFT);
        let mut r = 0u64;
        while r < h.rel_slots {
            halt.check()?;
            let stop = (r + CHUNK as u64 * 8).min(h.rel_slots);
            let g = graph.read();
            for id in r..stop {
                let Some((start, end, t)) = g.visible_shape(id, vis) else {
                    continue;
                };
                if end < first || end >= past {
                    continue;
                }
                let b = ((end - first) >> BUCKET_SHIFT) as usize;
                let c = &mut cur[b];
                if *c >= starts[b + 1] {
                    return Err(mismatch(graph, "more incoming entries than counted"));
                }
                flat[*c] = (narrow(end)?, t, narrow(id)?, narrow(start)?);
                *c += 1;
            }
            r = stop;
        }
        if cur.iter().zip(&starts[1..]).any(|(c, s)| c != s) {
            return Err(mismatch(graph, "fewer incoming entries than counted"));
        }
        for b in 0..hi - lo {
            let entries = &flat[starts[b]..starts[b + 1]];
            let node0 = first + ((b as u64) << BUCKET_SHIFT);
            let nodes = (h.node_slots - node0).min(1 << BUCKET_SHIFT) as usize;
            // Counting sort by end node (stable: ids stay ascending).
            at.clear();
            at.resize(nodes + 1, 0usize);
            for &(e, ..) in entries {
                let k = (u64::from(e) - node0) as usize;
                if k >= nodes {
                    return Err(mismatch(graph, "a relationship ends past the nodes"));
                }
                at[k + 1] += 1;
            }
            for k in 1..=nodes {
                at[k] += at[k - 1];
            }
            fill.clone_from(&at);
            sorted.clear();
            sorted.resize(entries.len(), (0, 0, 0));
            for &(e, t, id, s) in entries {
                let k = (u64::from(e) - node0) as usize;
                sorted[fill[k]] = (t, id, s);
                fill[k] += 1;
            }
            for k in 0..nodes {
                let node = &mut sorted[at[k]..at[k + 1]];
                // In id order already: only a node with several types needs sorting.
                if !in_order(node) {
                    node.sort_unstable();
                }
                list.clear();
                list.extend(
                    node.iter()
                        .map(|&(t, id, o)| (t, u64::from(id), u64::from(o))),
                );
                wr.node(&list)?;
            }
            halt.check()?;
            wr.flush()?;
        }
        lo = hi;
    }
    wr.finish()
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

/// The catalog and the node sections, streamed through `out`; returns the live node count.
fn nodes_part(
    out: &mut Out,
    graph: &Graph,
    vis: Visibility,
    catalog: &[Change],
    node_slots: u64,
    version: u32,
    halt: &Halt,
) -> Result<u64> {
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
    out.flush()?;
    trace(format_args!("image: indexes and property columns"), t);
    Ok(live_nodes)
}

/// A section streamed before its place is known: its bytes are held until `origin` is set
/// (by the part that writes what lies before it), then written straight. What is still held
/// when the section ends is written by `place` once the origin is known.
struct Late<'a> {
    to: Dest<'a>,
    origin: &'a OnceLock<u64>,
    kind: u32,
    held: Vec<u8>,
    /// Bytes already written (from the origin on).
    written: u64,
    sums: Sums,
}

impl<'a> Late<'a> {
    fn new(to: Dest<'a>, origin: &'a OnceLock<u64>, kind: u32) -> Late<'a> {
        Late {
            to,
            origin,
            kind,
            held: Vec::new(),
            written: 0,
            sums: Sums::default(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.sums.feed(bytes);
        self.held.extend_from_slice(bytes);
        if self.held.len() >= BUF {
            if let Some(&origin) = self.origin.get() {
                self.to.write_at(&self.held, origin + self.written)?;
                self.written += self.held.len() as u64;
                self.held.clear();
            }
        }
        Ok(())
    }

    /// Writes what is held (the origin must be known by now) and lists the section.
    fn place(self, out: &mut Out) -> Result<()> {
        let Some(&origin) = self.origin.get() else {
            return Err(Error::new(
                ErrorKind::Internal,
                "writing the base image: a section has no place",
            ));
        };
        self.to.write_at(&self.held, origin + self.written)?;
        let len = self.written + self.held.len() as u64;
        out.add(self.sums.finish(self.kind, origin, len));
        out.pos = out.pos.max(origin + len);
        Ok(())
    }
}

/// Where the relationship sections of known size go: the four columns (flag, start, end,
/// type per slot) and the property offsets (u64 per slot, plus the total), one after
/// another from `from`, each at a multiple of 8.
#[derive(Debug, Clone, Copy)]
struct RelPlace {
    from: u64,
    cols: [u64; 4],
    offsets: u64,
    end: u64,
}

const REL_KINDS: [u32; 4] = [
    kind::REL_FLAGS,
    kind::REL_START,
    kind::REL_END,
    kind::REL_TYPE,
];
const REL_WIDTHS: [u64; 4] = [1, 8, 8, 4];

impl RelPlace {
    fn new(rel_slots: u64, from: u64) -> RelPlace {
        let mut cols = [0u64; 4];
        let mut at = from;
        for (c, w) in cols.iter_mut().zip(REL_WIDTHS) {
            *c = at.div_ceil(8) * 8;
            at = *c + w * rel_slots;
        }
        let offsets = at.div_ceil(8) * 8;
        RelPlace {
            from,
            cols,
            offsets,
            end: offsets + (rel_slots + 1) * 8,
        }
    }
}

/// The relationship sections, each relationship visited once: the columns and the property
/// offsets to their places (`place`), the property heap to `heap`. Returns the sections
/// written and the live relationship count.
fn rels_part(
    to: Dest,
    graph: &Graph,
    vis: Visibility,
    rel_slots: u64,
    place: RelPlace,
    heap: &mut Late,
    halt: &Halt,
) -> Result<(Placed, u64)> {
    let t = Instant::now();
    let mut cols: [Fixed; 4] =
        std::array::from_fn(|i| Fixed::new(REL_KINDS[i], place.cols[i], REL_WIDTHS[i] * rel_slots));
    let mut offs = Fixed::new(kind::REL_PROP_OFFSETS, place.offsets, (rel_slots + 1) * 8);
    to.pad(place.from, place.cols[0])?;
    for i in 1..4 {
        to.pad(cols[i - 1].end(), cols[i].start)?;
    }
    to.pad(cols[3].end(), place.offsets)?;
    let mut bufs: [Vec<u8>; 4] = std::array::from_fn(|_| Vec::new());
    let (mut offs_buf, mut heap_buf) = (Vec::new(), Vec::new());
    let (mut live, mut heap_len) = (0u64, 0u64);
    let mut i = 0u64;
    while i < rel_slots {
        halt.check()?;
        let stop = (i + CHUNK as u64).min(rel_slots);
        {
            let g = graph.read();
            let [flags, starts, ends, types] = &mut bufs;
            for id in i..stop {
                offs_buf.extend_from_slice(&(heap_len + heap_buf.len() as u64).to_le_bytes());
                let (l, s, e, t) = match g.rel(id, vis) {
                    Some(r) => {
                        r.props.encode(&mut heap_buf);
                        (1u8, r.start, r.end, r.rel_type)
                    }
                    None => (0, 0, 0, 0),
                };
                live += u64::from(l);
                flags.push(l);
                starts.extend_from_slice(&s.to_le_bytes());
                ends.extend_from_slice(&e.to_le_bytes());
                types.extend_from_slice(&t.to_le_bytes());
            }
        }
        for (col, buf) in cols.iter_mut().zip(bufs.iter_mut()) {
            col.put(to, buf)?;
            buf.clear();
        }
        offs.put(to, &offs_buf)?;
        offs_buf.clear();
        heap.put(&heap_buf)?;
        heap_len += heap_buf.len() as u64;
        heap_buf.clear();
        i = stop;
    }
    offs.put(to, &heap_len.to_le_bytes())?;
    let placed = cols
        .into_iter()
        .chain([offs])
        .map(|f| {
            f.finish().ok_or_else(|| {
                Error::new(
                    ErrorKind::Internal,
                    "writing the base image: a relationship column came out short",
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    trace(format_args!("image: relationships"), t);
    Ok((placed, live))
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

/// The parts of an image write (see the module comment).
#[derive(Debug, Clone, Copy)]
enum Job {
    Nodes,
    Rels,
    /// One direction's adjacency (format 3): outgoing or not.
    Adjacency(bool),
}

/// What a part wrote.
enum Part<'a> {
    Nodes(Out<'a>, u64),
    Rels(Placed, Late<'a>, u64),
    Adjacency(Placed, Vec<u8>),
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
    let threads = write_threads();
    let mut h = Header {
        ts: snapshot,
        node_slots,
        rel_slots,
        ..Header::default()
    };
    let v3 = version >= format::NBRS_SINCE;
    let table_end = (format::HEADER_LEN + MAX_SECTIONS * format::ENTRY_LEN) as u64;
    // The regions of known size first (see the module comment).
    let mut in_scan = None;
    let (outgoing, incoming, rels_from) = if v3 {
        let t = Instant::now();
        // The incoming lists by scan at width 4 (their ids fit the scan's entries).
        let scan = format::nbr_width(node_slots, rel_slots) == 4;
        let (live, deg) =
            count_live_rels(graph, vis, (node_slots, rel_slots), scan, threads, &halt)?;
        h.live_rels = live;
        in_scan = scan.then(|| InScan {
            per_bucket: deg,
            limit: SCAN_LIMIT.with(|l| l.get()).unwrap_or(SCAN_ENTRIES),
        });
        trace(format_args!("image: live relationship count"), t);
        let o = AdjPlace::new(&h, table_end);
        let i = AdjPlace::new(&h, o.end);
        (Some(o), Some(i), i.end)
    } else {
        (None, None, table_end)
    };
    let rel_place = RelPlace::new(rel_slots, rels_from);
    let nodes_from = rel_place.end.div_ceil(8) * 8;
    // Where the relationship property heap starts: the end of the node sections.
    let heap_origin = OnceLock::new();
    // Threads take the parts in this order: the longest first, as far as known.
    let jobs: &[Job] = if v3 {
        &[
            Job::Adjacency(false),
            Job::Nodes,
            Job::Rels,
            Job::Adjacency(true),
        ]
    } else {
        &[Job::Nodes, Job::Rels]
    };
    let t = Instant::now();
    let parts = run_parts(threads, jobs.len(), &halt, |p| {
        let t = Instant::now();
        let part = match jobs[p] {
            Job::Nodes => {
                let mut out = Out::new(to, nodes_from);
                to.pad(rel_place.end, nodes_from)?;
                let live = nodes_part(&mut out, graph, vis, catalog, node_slots, version, &halt)?;
                let end = out.pos.div_ceil(8) * 8;
                to.pad(out.pos, end)?;
                out.pos = end;
                let _ = heap_origin.set(end);
                Part::Nodes(out, live)
            }
            Job::Rels => {
                let mut heap = Late::new(to, &heap_origin, kind::REL_PROPS);
                let (placed, live) =
                    rels_part(to, graph, vis, rel_slots, rel_place, &mut heap, &halt)?;
                Part::Rels(placed, heap, live)
            }
            Job::Adjacency(out) => {
                let place = if out { outgoing } else { incoming };
                let place = place.ok_or_else(|| {
                    Error::new(
                        ErrorKind::Internal,
                        "writing the base image: no adjacency place",
                    )
                })?;
                let (placed, runs) = match (&in_scan, out) {
                    (Some(scan), false) => {
                        incoming_by_scan(to, graph, vis, &h, place, scan, &halt)?
                    }
                    _ => adjacency_v3(to, graph, vis, out, &h, place, &halt)?,
                };
                Part::Adjacency(placed, runs)
            }
        };
        trace(format_args!("image: part {:?}", jobs[p]), t);
        Ok(part)
    })?;
    trace(format_args!("image: all parts"), t);

    // The table: node sections, relationship sections, adjacency, in that order whatever
    // part finished first.
    let mut out = None;
    let mut others = Vec::new();
    for part in parts {
        match part {
            Part::Nodes(o, live) => {
                h.live_nodes = live;
                out = Some(o);
            }
            other => others.push(other),
        }
    }
    let Some(mut out) = out else {
        return Err(Error::new(
            ErrorKind::Internal,
            "writing the base image: the node part is missing",
        ));
    };
    others.sort_by_key(|p| match p {
        Part::Rels(..) => 0,
        Part::Adjacency(placed, _) => {
            1 + usize::from(placed.first().map(|(s, _)| s.kind) != Some(kind::OUT_RELS))
        }
        Part::Nodes(..) => 3,
    });
    let mut runs = Vec::new();
    for part in others {
        match part {
            Part::Rels(placed, heap, live) => {
                // Both counted at the same snapshot (format 3): only damage makes them differ.
                if v3 && live != h.live_rels {
                    graph.damage.check()?;
                    return Err(Error::new(
                        ErrorKind::Internal,
                        "writing the base image: the relationship counts disagree",
                    ));
                }
                h.live_rels = live;
                for p in placed {
                    out.add(p);
                }
                heap.place(&mut out)?;
            }
            Part::Adjacency(placed, r) => {
                for p in placed {
                    out.add(p);
                }
                runs.push(r);
            }
            Part::Nodes(..) => {}
        }
    }
    for (r, outgoing) in runs.iter().zip([true, false]) {
        section(&mut out, format::adjacency_kinds(outgoing).3, r)?;
    }
    if !v3 {
        for outgoing in [true, false] {
            adjacency_v1(&mut out, graph, vis, outgoing, node_slots, &halt)?;
        }
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
    to.write_at(&header, 0)?;
    Ok(Written {
        header: h,
        bytes: out.pos,
    })
}
