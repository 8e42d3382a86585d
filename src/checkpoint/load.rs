//! Loading a base image into the in-memory store: every entity becomes one version stamped
//! committed at the image's timestamp C, then the WAL after C is replayed on top.
//!
//! Every byte is checked before it is used: the header and section table against their
//! checksum, each section against its own, and every offset and id against the bounds it
//! must respect. Damage gives `Corrupt` naming the file and the offset; a newer format gives
//! a clear "newer libgraphdb" error; nothing panics.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::format::{self, kind, kind_name, u32_at, u64_at, Header};
use super::mmap;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::graph::{NodeData, NodeEntry, RelData, RelEntry, Version};
use crate::storage::{Change, Graph, LabelId, NodeId};
use crate::vfs::IoFile;
use crate::wal::codec;

/// Loads the base image in `file` (named `path`, for messages) into the empty `graph`;
/// returns its header (its timestamp C is the newest commit it holds).
pub fn load_base(file: &dyn IoFile, path: &Path, graph: &Graph) -> Result<Header> {
    let bytes =
        mmap::map(file).map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
    let img = Image::parse(&bytes, path)?;
    img.load(graph)?;
    Ok(img.header)
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
        data.apply(&graph.catalog, ts, &names)
            .map_err(|e| self.bad_in(kind::CATALOG, e.message()))?;
        let labels_known = graph.catalog.labels.names().len() as u64;
        let types_known = graph.catalog.rel_types.names().len() as u64;

        // Relationships first: their endpoints give each node's adjacency capacity.
        let rflags = self.sec(kind::REL_FLAGS);
        let starts = self.sec(kind::REL_START);
        let ends = self.sec(kind::REL_END);
        let types = self.sec(kind::REL_TYPE);
        let roffs = self.sec(kind::REL_PROP_OFFSETS);
        let rprops = self.sec(kind::REL_PROPS);
        let nflags = self.sec(kind::NODE_FLAGS);
        let mut out_deg = vec![0u32; node_slots];
        let mut in_deg = vec![0u32; node_slots];
        let mut rels = Vec::with_capacity(rel_slots);
        let mut live_rels = 0u64;
        for (i, &flag) in rflags.iter().enumerate() {
            if flag == 0 {
                rels.push(RelEntry {
                    start: 0,
                    end: 0,
                    rel_type: 0,
                    versions: Vec::new(),
                });
                continue;
            }
            let (start, end) = (u64_at(starts, i * 8), u64_at(ends, i * 8));
            let rel_type = u32_at(types, i * 4);
            let live_node = |n: u64| n < h.node_slots && nflags[n as usize] == 1;
            if flag != 1
                || !live_node(start)
                || !live_node(end)
                || u64::from(rel_type) >= types_known
            {
                return Err(self.bad_in(
                    kind::REL_FLAGS,
                    &format!("relationship {i} has an impossible type or endpoint"),
                ));
            }
            let (a, b) = self.range(roffs, kind::REL_PROP_OFFSETS, i, rprops.len() as u64)?;
            let props = self.props(kind::REL_PROPS, &rprops[a..b], i)?;
            out_deg[start as usize] += 1;
            in_deg[end as usize] += 1;
            live_rels += 1;
            rels.push(RelEntry {
                start,
                end,
                rel_type,
                versions: vec![Version {
                    stamp: ts,
                    data: Some(RelData { props }),
                }],
            });
        }

        let loffs = self.sec(kind::NODE_LABEL_OFFSETS);
        let labels = self.sec(kind::NODE_LABELS);
        let noffs = self.sec(kind::NODE_PROP_OFFSETS);
        let nprops = self.sec(kind::NODE_PROPS);
        let mut nodes = Vec::with_capacity(node_slots);
        let mut by_label: HashMap<LabelId, Vec<NodeId>> = HashMap::new();
        let mut live_nodes = 0u64;
        for i in 0..node_slots {
            let mut entry = NodeEntry {
                versions: Vec::new(),
                out: Vec::with_capacity(out_deg[i] as usize),
                inc: Vec::with_capacity(in_deg[i] as usize),
            };
            match nflags[i] {
                0 => {}
                1 => {
                    let (a, b) =
                        self.range(loffs, kind::NODE_LABEL_OFFSETS, i, labels.len() as u64 / 4)?;
                    let mut ls = Vec::with_capacity(b - a);
                    for j in a..b {
                        let l = u32_at(labels, j * 4);
                        if u64::from(l) >= labels_known || ls.last().is_some_and(|&p| p >= l) {
                            return Err(self.bad_in(
                                kind::NODE_LABELS,
                                &format!("node {i} has an unknown or unsorted label"),
                            ));
                        }
                        ls.push(l);
                        by_label.entry(l).or_default().push(i as NodeId);
                    }
                    let (a, b) =
                        self.range(noffs, kind::NODE_PROP_OFFSETS, i, nprops.len() as u64)?;
                    let props = self.props(kind::NODE_PROPS, &nprops[a..b], i)?;
                    entry.versions.push(Version {
                        stamp: ts,
                        data: Some(NodeData { labels: ls, props }),
                    });
                    live_nodes += 1;
                }
                _ => return Err(self.bad_in(kind::NODE_FLAGS, &format!("node {i}: bad flag"))),
            }
            nodes.push(entry);
        }
        if live_nodes != h.live_nodes || live_rels != h.live_rels {
            return Err(Image::damaged(
                self.path,
                40,
                "the live entity counts disagree with the flags",
            ));
        }
        for (id, r) in rels.iter().enumerate() {
            if !r.versions.is_empty() {
                nodes[r.start as usize].out.push(id as u64);
                nodes[r.end as usize].inc.push(id as u64);
            }
        }
        data.nodes = nodes;
        data.rels = rels;
        for (l, ids) in by_label {
            // Ids arrive ascending: the set is built in one linear pass.
            data.by_label
                .insert(l, ids.into_iter().collect::<BTreeSet<_>>());
        }
        data.apply(&graph.catalog, ts, &schema)
            .map_err(|e| self.bad_in(kind::CATALOG, e.message()))?;
        Ok(())
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
