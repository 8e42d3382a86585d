//! Loading a base image into the in-memory store: every entity becomes one version stamped
//! committed at the image's timestamp C, then the WAL after C is replayed on top.
//!
//! Every byte is checked before it is used: the header and section table against their
//! checksum, each section against its own, and every offset and id against the bounds it
//! must respect. Damage gives `Corrupt` naming the file and the offset; a newer format gives
//! a clear "newer libgraphdb" error; nothing panics.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::format::{self, kind, kind_name, u32_at, u64_at, Header};
use super::mmap;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::graph::{NodeData, NodeEntry, RelData, RelEntry, Version, VersionChain};
use crate::storage::id_set::IdSet;
use crate::storage::{Change, Graph, LabelId, NodeId};
use crate::vfs::IoFile;
use crate::wal::codec;

/// Loads the base image in `file` (named `path`, for messages) into the empty `graph`;
/// returns its header (its timestamp C is the newest commit it holds).
pub fn load_base(file: &dyn IoFile, path: &Path, graph: &Graph) -> Result<Header> {
    let bytes =
        mmap::map(file).map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
    let t = std::time::Instant::now();
    let img = Image::parse(&bytes, path)?;
    let parsed = t.elapsed();
    img.load(graph)?;
    if std::env::var_os("GRAPHDB_TRACE_OPEN").is_some() {
        eprintln!(
            "graphdb open: {} mapped and checksummed in {parsed:?}, decoded in {:?}",
            path.display(),
            t.elapsed() - parsed
        );
    }
    Ok(img.header)
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

/// The sections entity decoding reads.
struct Columns<'a> {
    rflags: &'a [u8],
    starts: &'a [u8],
    ends: &'a [u8],
    types: &'a [u8],
    roffs: &'a [u8],
    rprops: &'a [u8],
    nflags: &'a [u8],
    loffs: &'a [u8],
    labels: &'a [u8],
    noffs: &'a [u8],
    nprops: &'a [u8],
    out_offs: &'a [u8],
    out_rels: &'a [u8],
    in_offs: &'a [u8],
    in_rels: &'a [u8],
    labels_known: u64,
    types_known: u64,
}

/// What one chunk of node decoding found.
#[derive(Default)]
struct NodePart {
    live: u64,
    /// Outgoing and incoming adjacency entries.
    out: u64,
    inc: u64,
    by_label: HashMap<LabelId, Vec<NodeId>>,
}

/// A checked view of an image's bytes.
struct Image<'a> {
    bytes: &'a [u8],
    path: &'a Path,
    header: Header,
    /// Offset and length of each section, by kind.
    sections: Vec<(u64, u64)>,
}

impl<'a> Image<'a> {
    fn damaged(path: &Path, at: u64, what: &str) -> Error {
        Error::corrupt(format!(
            "{} is damaged at offset {at}: {what}; restore the database from a backup",
            path.display()
        ))
    }

    fn parse(bytes: &'a [u8], path: &'a Path) -> Result<Image<'a>> {
        let bad = |at: u64, what: &str| Image::damaged(path, at, what);
        if bytes.len() < format::HEADER_LEN {
            return Err(bad(0, "too short to be a base image"));
        }
        if &bytes[..8] != format::MAGIC {
            return Err(bad(0, "not a libgraphdb base image (bad magic bytes)"));
        }
        let version = u32_at(bytes, 8);
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
        let count = u32_at(bytes, 12) as usize;
        let table_end = format::HEADER_LEN + count.saturating_mul(format::ENTRY_LEN);
        if count > 64 || table_end > bytes.len() {
            return Err(bad(12, "the section count is impossible"));
        }
        let stored = u32_at(bytes, format::CRC_AT);
        if format::header_crc(&bytes[..table_end]) != stored {
            return Err(bad(0, "the header or section table fails its checksum"));
        }
        let header = Header {
            ts: u64_at(bytes, 16),
            node_slots: u64_at(bytes, 24),
            rel_slots: u64_at(bytes, 32),
            live_nodes: u64_at(bytes, 40),
            live_rels: u64_at(bytes, 48),
        };
        let mut sections = vec![(0u64, u64::MAX); kind::END as usize];
        for i in 0..count {
            let e = format::HEADER_LEN + i * format::ENTRY_LEN;
            let k = u32_at(bytes, e);
            let (offset, len, crc) = (u64_at(bytes, e + 8), u64_at(bytes, e + 16), {
                u32_at(bytes, e + 24)
            });
            let inside = offset
                .checked_add(len)
                .is_some_and(|end| end <= bytes.len() as u64);
            if !inside {
                return Err(bad(e as u64, "a section lies outside the file"));
            }
            let body = &bytes[offset as usize..(offset + len) as usize];
            if crc32c::crc32c(body) != crc {
                return Err(bad(
                    offset,
                    &format!("the {} section fails its checksum", kind_name(k)),
                ));
            }
            if let Some(slot) = sections.get_mut(k as usize) {
                *slot = (offset, len);
            }
        }
        for k in kind::CATALOG..kind::END {
            if sections[k as usize].1 == u64::MAX {
                return Err(bad(
                    format::HEADER_LEN as u64,
                    &format!("the {} section is missing", kind_name(k)),
                ));
            }
        }
        let img = Image {
            bytes,
            path,
            header,
            sections,
        };
        img.check_sizes()?;
        Ok(img)
    }

    fn sec(&self, k: u32) -> &'a [u8] {
        let (o, l) = self.sections[k as usize];
        &self.bytes[o as usize..(o + l) as usize]
    }

    fn bad_in(&self, k: u32, what: &str) -> Error {
        Image::damaged(
            self.path,
            self.sections[k as usize].0,
            &format!("{} section: {what}", kind_name(k)),
        )
    }

    /// Column lengths must match the slot counts.
    fn check_sizes(&self) -> Result<()> {
        let n = self.header.node_slots;
        let r = self.header.rel_slots;
        let expect: [(u32, Option<u64>); 13] = [
            (kind::NODE_FLAGS, Some(n)),
            (kind::NODE_LABEL_OFFSETS, n.checked_add(1).map(|x| x * 8)),
            (kind::NODE_PROP_OFFSETS, n.checked_add(1).map(|x| x * 8)),
            (kind::REL_FLAGS, Some(r)),
            (kind::REL_START, r.checked_mul(8)),
            (kind::REL_END, r.checked_mul(8)),
            (kind::REL_TYPE, r.checked_mul(4)),
            (kind::REL_PROP_OFFSETS, r.checked_add(1).map(|x| x * 8)),
            (kind::OUT_OFFSETS, n.checked_add(1).map(|x| x * 8)),
            (kind::IN_OFFSETS, n.checked_add(1).map(|x| x * 8)),
            (kind::NODE_LABELS, None),
            (kind::OUT_RELS, None),
            (kind::IN_RELS, None),
        ];
        for (k, want) in expect {
            let got = self.sections[k as usize].1;
            match want {
                Some(w) if w != got => {
                    return Err(self.bad_in(k, &format!("{got} bytes where the header implies {w}")))
                }
                None if got % 4 != 0 => return Err(self.bad_in(k, "a ragged length")),
                _ => {}
            }
        }
        // Adjacency entries are u64 relationship ids.
        for k in [kind::OUT_RELS, kind::IN_RELS] {
            if self.sections[k as usize].1 % 8 != 0 {
                return Err(self.bad_in(k, "a ragged length"));
            }
        }
        Ok(())
    }

    /// The `[start, end)` range of entity `i` in an offsets column, checked against the heap
    /// length and monotonicity.
    fn range(&self, offsets: &[u8], k: u32, i: usize, heap_len: u64) -> Result<(usize, usize)> {
        let a = u64_at(offsets, i * 8);
        let b = u64_at(offsets, i * 8 + 8);
        if a > b || b > heap_len {
            return Err(self.bad_in(k, &format!("entry {i} points outside its data")));
        }
        Ok((a as usize, b as usize))
    }

    fn load(&self, graph: &Graph) -> Result<()> {
        let h = self.header;
        let ts = h.ts;
        let node_slots = usize::try_from(h.node_slots)
            .map_err(|_| self.bad_in(kind::NODE_FLAGS, "too many nodes"))?;
        let rel_slots = usize::try_from(h.rel_slots)
            .map_err(|_| self.bad_in(kind::REL_FLAGS, "too many relationships"))?;
        let mut data = graph.write();
        if !data.nodes.is_empty() || !data.rels.is_empty() {
            return Err(Error::new(
                ErrorKind::Internal,
                "a base image can only be loaded into an empty graph",
            ));
        }
        // Catalog (and schema) definitions, through the same path as the log's.
        let (cts, defs) = codec::decode(self.sec(kind::CATALOG))
            .map_err(|e| self.bad_in(kind::CATALOG, e.message()))?;
        if cts != ts {
            return Err(self.bad_in(kind::CATALOG, "its timestamp differs from the header's"));
        }
        // Names now; schema definitions once the entities are in place (index contents are
        // built from them).
        let (names, schema): (Vec<Change>, Vec<Change>) = defs.into_iter().partition(|c| {
            matches!(
                c,
                Change::DefineLabel(..) | Change::DefineRelType(..) | Change::DefineKey(..)
            )
        });
        data.apply(&graph.catalog, ts, names)
            .map_err(|e| self.bad_in(kind::CATALOG, e.message()))?;
        let labels_known = graph.catalog.labels.names().len() as u64;
        let types_known = graph.catalog.rel_types.names().len() as u64;

        let cols = Columns {
            rflags: self.sec(kind::REL_FLAGS),
            starts: self.sec(kind::REL_START),
            ends: self.sec(kind::REL_END),
            types: self.sec(kind::REL_TYPE),
            roffs: self.sec(kind::REL_PROP_OFFSETS),
            rprops: self.sec(kind::REL_PROPS),
            nflags: self.sec(kind::NODE_FLAGS),
            loffs: self.sec(kind::NODE_LABEL_OFFSETS),
            labels: self.sec(kind::NODE_LABELS),
            noffs: self.sec(kind::NODE_PROP_OFFSETS),
            nprops: self.sec(kind::NODE_PROPS),
            out_offs: self.sec(kind::OUT_OFFSETS),
            out_rels: self.sec(kind::OUT_RELS),
            in_offs: self.sec(kind::IN_OFFSETS),
            in_rels: self.sec(kind::IN_RELS),
            labels_known,
            types_known,
        };
        // Relationships first (node decoding checks the adjacency sections against their
        // columns' flags). Both entity kinds decode in parallel chunks, each thread filling
        // its own slice; each node's adjacency comes from the CSR sections, sized exactly.
        let mut rels = Vec::new();
        rels.resize_with(rel_slots, || RelEntry {
            start: 0,
            end: 0,
            rel_type: 0,
            versions: VersionChain::Empty,
        });
        let live_rels: u64 = self
            .in_parallel(&mut rels, |first, part| {
                self.decode_rels(&cols, first, part)
            })?
            .into_iter()
            .sum();
        let mut nodes = Vec::new();
        nodes.resize_with(node_slots, NodeEntry::default);
        let parts = self.in_parallel(&mut nodes, |first, part| {
            self.decode_nodes(&cols, &rels, first, part)
        })?;
        let mut live_nodes = 0u64;
        let mut adjacent = [0u64; 2];
        let mut by_label: HashMap<LabelId, Vec<NodeId>> = HashMap::new();
        // Chunks come in id order, so each label's ids stay ascending.
        for part in parts {
            live_nodes += part.live;
            adjacent[0] += part.out;
            adjacent[1] += part.inc;
            for (l, ids) in part.by_label {
                by_label.entry(l).or_default().extend(ids);
            }
        }
        if live_nodes != h.live_nodes || live_rels != h.live_rels {
            return Err(Image::damaged(
                self.path,
                40,
                "the live entity counts disagree with the flags",
            ));
        }
        // Each adjacency entry names a live relationship of its own node, at most once per
        // node (`adjacency` checks both); so as many entries as live relationships means
        // every relationship is listed exactly once in each direction.
        for (k, n) in [(kind::OUT_RELS, adjacent[0]), (kind::IN_RELS, adjacent[1])] {
            if n != live_rels {
                return Err(self.bad_in(
                    k,
                    &format!("{n} entries for {live_rels} live relationships"),
                ));
            }
        }
        data.nodes = nodes;
        data.rels = rels;
        for (l, ids) in by_label {
            // Ids arrive ascending: the set takes the list as it is.
            data.by_label.insert(l, IdSet::from_ascending(ids));
        }
        data.apply(&graph.catalog, ts, schema)
            .map_err(|e| self.bad_in(kind::CATALOG, e.message()))?;
        Ok(())
    }

    /// Runs `f` on consecutive chunks of `items` (one per core), each on its own thread;
    /// `f` gets the index of its chunk's first item. Results come back in chunk order.
    fn in_parallel<T: Send, R: Send>(
        &self,
        items: &mut [T],
        f: impl Fn(usize, &mut [T]) -> Result<R> + Sync,
    ) -> Result<Vec<R>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let chunk = items.len().div_ceil(threads).max(1 << 14);
        let f = &f;
        std::thread::scope(|s| {
            let handles: Vec<_> = items
                .chunks_mut(chunk)
                .enumerate()
                .map(|(c, part)| s.spawn(move || f(c * chunk, part)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::new(
                            ErrorKind::Internal,
                            "a thread decoding the base image panicked",
                        ))
                    })
                })
                .collect()
        })
    }

    /// Fills `part` (relationship slots from `first` on); returns how many are live.
    fn decode_rels(&self, c: &Columns, first: usize, part: &mut [RelEntry]) -> Result<u64> {
        let ts = self.header.ts;
        let mut live = 0;
        for (j, slot) in part.iter_mut().enumerate() {
            let i = first + j;
            let flag = c.rflags[i];
            if flag == 0 {
                continue;
            }
            let (start, end) = (u64_at(c.starts, i * 8), u64_at(c.ends, i * 8));
            let rel_type = u32_at(c.types, i * 4);
            let live_node = |n: u64| n < self.header.node_slots && c.nflags[n as usize] == 1;
            if flag != 1
                || !live_node(start)
                || !live_node(end)
                || u64::from(rel_type) >= c.types_known
            {
                return Err(self.bad_in(
                    kind::REL_FLAGS,
                    &format!("relationship {i} has an impossible type or endpoint"),
                ));
            }
            let (a, b) = self.range(c.roffs, kind::REL_PROP_OFFSETS, i, c.rprops.len() as u64)?;
            let props = self.props(kind::REL_PROPS, &c.rprops[a..b], i)?;
            live += 1;
            *slot = RelEntry {
                start,
                end,
                rel_type,
                versions: VersionChain::one(Version {
                    stamp: ts,
                    data: Some(RelData { props }),
                }),
            };
        }
        Ok(live)
    }

    /// Fills `part` (node slots from `first` on, with their adjacency); returns how many are
    /// live, how many adjacency entries they have, and the ids of each label, ascending.
    fn decode_nodes(
        &self,
        c: &Columns,
        rels: &[RelEntry],
        first: usize,
        part: &mut [NodeEntry],
    ) -> Result<NodePart> {
        let ts = self.header.ts;
        let mut p = NodePart::default();
        for (j, entry) in part.iter_mut().enumerate() {
            let i = first + j;
            let live = match c.nflags[i] {
                0 => false,
                1 => true,
                _ => return Err(self.bad_in(kind::NODE_FLAGS, &format!("node {i}: bad flag"))),
            };
            let out = self.adjacency(c, rels, i, true, live)?;
            let inc = self.adjacency(c, rels, i, false, live)?;
            p.out += out.len() as u64;
            p.inc += inc.len() as u64;
            if !live {
                continue;
            }
            let (a, b) = self.range(
                c.loffs,
                kind::NODE_LABEL_OFFSETS,
                i,
                c.labels.len() as u64 / 4,
            )?;
            let mut ls = Vec::with_capacity(b - a);
            for k in a..b {
                let l = u32_at(c.labels, k * 4);
                if u64::from(l) >= c.labels_known || ls.last().is_some_and(|&p| p >= l) {
                    return Err(self.bad_in(
                        kind::NODE_LABELS,
                        &format!("node {i} has an unknown or unsorted label"),
                    ));
                }
                ls.push(l);
                p.by_label.entry(l).or_default().push(i as NodeId);
            }
            let (a, b) = self.range(c.noffs, kind::NODE_PROP_OFFSETS, i, c.nprops.len() as u64)?;
            let props = self.props(kind::NODE_PROPS, &c.nprops[a..b], i)?;
            entry.versions = VersionChain::one(Version {
                stamp: ts,
                data: Some(NodeData { labels: ls, props }),
            });
            entry.out = out;
            entry.inc = inc;
            p.live += 1;
        }
        Ok(p)
    }

    /// Node `i`'s outgoing (or incoming) relationship ids from the CSR sections, ascending
    /// (the order the store keeps: creation order). Every entry must be a live relationship
    /// whose start (end) is `i`, none twice; a node that is not live has none.
    /// `rels` are the decoded relationships (one memory access checks both liveness and the
    /// endpoint).
    fn adjacency(
        &self,
        c: &Columns,
        rels: &[RelEntry],
        i: usize,
        outgoing: bool,
        live: bool,
    ) -> Result<Vec<u64>> {
        let (offs, list, k) = if outgoing {
            (c.out_offs, c.out_rels, kind::OUT_RELS)
        } else {
            (c.in_offs, c.in_rels, kind::IN_RELS)
        };
        let offs_kind = if outgoing {
            kind::OUT_OFFSETS
        } else {
            kind::IN_OFFSETS
        };
        let Range { start: a, end: b } = {
            let (a, b) = self.range(offs, offs_kind, i, list.len() as u64 / 8)?;
            a..b
        };
        if a == b {
            return Ok(Vec::new());
        }
        let bad = || {
            self.bad_in(
                k,
                &format!("node {i} lists a relationship that is not its own, or one twice"),
            )
        };
        if !live {
            return Err(bad());
        }
        let mut ids = Vec::with_capacity(b - a);
        for e in a..b {
            let r = u64_at(list, e * 8);
            let own = usize::try_from(r)
                .ok()
                .and_then(|r| rels.get(r))
                .is_some_and(|re| {
                    !re.versions.is_empty()
                        && (if outgoing { re.start } else { re.end }) == i as u64
                });
            if !own {
                return Err(bad());
            }
            ids.push(r);
        }
        // Grouped by type on disk; the store keeps id order. Strictly ascending after the
        // sort means no relationship is listed twice.
        if !ids.windows(2).all(|w| w[0] < w[1]) {
            ids.sort_unstable();
            if !ids.windows(2).all(|w| w[0] < w[1]) {
                return Err(bad());
            }
        }
        Ok(ids)
    }

    fn props(&self, k: u32, bytes: &[u8], i: usize) -> Result<crate::storage::PropList> {
        if bytes == [0] {
            return Ok(Vec::new());
        }
        let (props, used) = codec::decode_props(bytes)
            .map_err(|e| self.bad_in(k, &format!("entity {i}: {}", e.message())))?;
        if used != bytes.len() {
            return Err(self.bad_in(k, &format!("entity {i}: trailing bytes")));
        }
        Ok(props)
    }
}
