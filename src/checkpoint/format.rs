//! The base image file format (`base-NNNNNN.gdb`): the committed graph at one timestamp.
//!
//! All integers are little-endian. Layout:
//!
//! ```text
//! 0   magic "GDBBASE\0"           8 bytes
//! 8   format version              u32
//! 12  section count               u32
//! 16  checkpoint timestamp C      u64   every commit <= C is in the image, none after it
//! 24  node slots                  u64   = the next node id (ids are never reused)
//! 32  relationship slots          u64   = the next relationship id
//! 40  live nodes                  u64
//! 48  live relationships          u64
//! 56  header checksum             u32   CRC32C of bytes 0..56 and the section table
//! 60  reserved (0)                u32
//! 64  section table: count entries of 32 bytes
//!       kind u32 | reserved u32 | offset u64 | length u64 | CRC32C of the section u32 | 0 u32
//! ... sections, each starting at a multiple of 8
//! ```
//!
//! Sections (every one present once; columns are indexed by entity id, so a reader finds
//! entity `i` without a search, and `storage::base` reads them in place):
//! - `CATALOG`: labels, relationship types, property keys (and whatever schema definitions
//!   exist) as a list of `Change`s in the WAL codec (`wal::codec::encode` with timestamp C).
//! - `NODE_FLAGS`: one byte per node slot, 1 = live at C, 0 = never committed or deleted.
//! - `NODE_LABEL_OFFSETS` (u64 × slots+1) into `NODE_LABELS` (u32 label ids, sorted per node).
//! - `NODE_PROP_OFFSETS` (u64 × slots+1) into `NODE_PROPS`, the node property heap: each
//!   node's property list in the WAL codec's encoding (strings inline).
//! - `REL_FLAGS` (u8), `REL_START` (u64), `REL_END` (u64), `REL_TYPE` (u32): per slot.
//! - `REL_PROP_OFFSETS` (u64 × slots+1) into `REL_PROPS`, the relationship property heap.
//! - `OUT_OFFSETS` (u64 × node slots+1) into `OUT_RELS` (relationship ids: u64 before
//!   format 3, from format 3 `W` bytes each, see below), and
//!   `IN_OFFSETS` / `IN_RELS`: CSR adjacency in both directions, each node's relationships
//!   grouped by type (sorted by type, then id).
//! - `PROP_INDEXES` (optional, kind 20): the contents at C of every property index the
//!   catalog defines, read in place (layout in `storage::base_index`). Older readers skip a
//!   kind they do not know; an image without it has its indexes built in memory at open.
//! - `PROP_COLUMN_DIR` and `PROP_COLUMNS` (optional, kinds 25 and 26, both or neither):
//!   dense columns over node slots of the node property keys whose values at C are all
//!   integers and present on at least an eighth of the live nodes: per column a presence
//!   bitmap and the values, frame-of-reference encoded in 1, 2, 4 or 8 bytes (layout in
//!   `storage::base_columns`). The directory is checked whole at open (its section
//!   checksum, then its shape); the columns are read in place. An image without them opens
//!   and answers the same: readers then gather from the property lists.
//!
//! Format 2 adds (format 1 images lack them and open as before, checked whole):
//! - `LABEL_OFFSETS` (u64 × label count+1, in ids) into `LABEL_NODES` (u64 node ids): per
//!   label id, the ascending ids of the nodes live at C that have it. The label count is one
//!   past the largest label id any node has (0 when none has a label).
//! - `BLOCK_CRCS`: a CRC32C per block of `BLOCK` bytes (the last block of a section may be
//!   shorter) of every other section, section after section in section-table order (every
//!   entry, whatever its kind, so sections added later are covered by the same list). A
//!   reader verifies a block the first time it reads from it (`storage::blocks`), so open
//!   time does not grow with the image; this section itself is checked whole at open, with
//!   its section checksum.
//!
//! Format 3 adds (format 1 and 2 images lack them: their readers take the other end and the
//! type of each listed relationship from `REL_END` / `REL_START` / `REL_TYPE`):
//! - `OUT_NBRS` / `IN_NBRS`: per node slot, a *type word* followed by the other end of each
//!   relationship in the node's `OUT_RELS` (`IN_RELS`) list, in the same order: node `n`'s
//!   range `[a, b)` in `OUT_RELS` is `[a + n, b + n + 1)` here, its type word at `a + n`.
//!   Every value is `W` bytes, `W` = 4 when node ids fit in u32 and relationship slots in 31
//!   bits, else 8 (`nbr_width`, from the header's slot counts alone: no per-entry tag). The
//!   relationship ids of `OUT_RELS` / `IN_RELS` are `W` bytes too in format 3.
//! - `OUT_RUNS` / `IN_RUNS`: the type runs of the nodes with more than one type in a
//!   direction, each run two `W`-byte values `(type, end)`, `end` counted from the start of
//!   the node's list; a node's runs end with the one whose `end` is its degree.
//! - The type word (`TypeWord`): top bit clear, the type every entry of the list has (any
//!   value when the list is empty); top bit set, the index of the node's first run in the
//!   runs section. So a node with one type costs no read beyond its offsets and its
//!   neighbours, and expanding for types T reads only the runs and the entries of T.
//!
//! Every adjacency entry of the image is a relationship live at C (the writer lists only
//! those), so a reader needs no flag to accept an entry no one has written since open.
//!
//! Reading in place: format 1 is read where it lies, unchanged, so images
//! written before the zero-copy reader open as they are. Every section starts at a multiple
//! of 8 and the reader copies each integer out of its bytes (`from_le_bytes`), so it needs
//! no alignment; columns indexed by id give a node's flag, label range, property range and
//! adjacency range in O(1); a property list is the WAL codec's encoding, decoded one value at
//! a time when a single property is asked for (`codec::decode_prop`). Format 2 keeps the
//! label lists in the image (format 1's are gathered at open while the labels are checked);
//! adjacency grouped by type is read as a list and filtered before format 3, and from format
//! 3 through the type word and runs, with the other end from the neighbour column
//! (`BaseView::adj_list`), so an expansion reads no relationship column, and one that needs
//! no relationship id not even the list of ids.

/// Identifies a base image.
pub const MAGIC: &[u8; 8] = b"GDBBASE\0";
/// The base format this build writes and reads.
pub const FORMAT_VERSION: u32 = 3;
/// The first format with per-label node lists and per-block checksums.
pub const BLOCKS_SINCE: u32 = 2;
/// The first format with neighbour columns and type runs beside the adjacency lists.
pub const NBRS_SINCE: u32 = 3;
/// Bytes per checksummed block (a power of two).
pub const BLOCK_SHIFT: u32 = 16;
pub const BLOCK: u64 = 1 << BLOCK_SHIFT;
pub const HEADER_LEN: usize = 64;
pub const ENTRY_LEN: usize = 32;
/// Offset of the header checksum.
pub const CRC_AT: usize = 56;

/// Section kinds. Readers find sections through the table, so the order in the file is free
/// (the writer emits each heap before its offsets).
pub mod kind {
    pub const CATALOG: u32 = 1;
    pub const NODE_FLAGS: u32 = 2;
    pub const NODE_LABEL_OFFSETS: u32 = 3;
    pub const NODE_LABELS: u32 = 4;
    pub const NODE_PROP_OFFSETS: u32 = 5;
    pub const NODE_PROPS: u32 = 6;
    pub const REL_FLAGS: u32 = 7;
    pub const REL_START: u32 = 8;
    pub const REL_END: u32 = 9;
    pub const REL_TYPE: u32 = 10;
    pub const REL_PROP_OFFSETS: u32 = 11;
    pub const REL_PROPS: u32 = 12;
    pub const OUT_OFFSETS: u32 = 13;
    pub const OUT_RELS: u32 = 14;
    pub const IN_OFFSETS: u32 = 15;
    pub const IN_RELS: u32 = 16;
    /// One past the last kind of format 1.
    pub const END_V1: u32 = 17;
    pub const LABEL_OFFSETS: u32 = 17;
    pub const LABEL_NODES: u32 = 18;
    pub const BLOCK_CRCS: u32 = 19;
    /// Property-index contents at C (optional in every format: see `storage::base_index`).
    /// An image without it opens, its indexes built in memory from the nodes.
    pub const PROP_INDEXES: u32 = 20;
    /// Format 3: neighbours and type runs (see the module comment).
    pub const OUT_NBRS: u32 = 21;
    pub const IN_NBRS: u32 = 22;
    pub const OUT_RUNS: u32 = 23;
    pub const IN_RUNS: u32 = 24;
    /// Integer node-property columns (optional in every format: see `storage::base_columns`):
    /// the directory, checked whole at open, and the columns, read in place.
    pub const PROP_COLUMN_DIR: u32 = 25;
    pub const PROP_COLUMNS: u32 = 26;
    /// One past the last kind this build reads (the table may hold others: ignored).
    pub const END: u32 = 27;
}

/// A section's name, for error messages.
pub fn kind_name(k: u32) -> &'static str {
    match k {
        kind::CATALOG => "catalog",
        kind::NODE_FLAGS => "node flags",
        kind::NODE_LABEL_OFFSETS => "node label offsets",
        kind::NODE_LABELS => "node labels",
        kind::NODE_PROP_OFFSETS => "node property offsets",
        kind::NODE_PROPS => "node properties",
        kind::REL_FLAGS => "relationship flags",
        kind::REL_START => "relationship start nodes",
        kind::REL_END => "relationship end nodes",
        kind::REL_TYPE => "relationship types",
        kind::REL_PROP_OFFSETS => "relationship property offsets",
        kind::REL_PROPS => "relationship properties",
        kind::OUT_OFFSETS => "outgoing adjacency offsets",
        kind::OUT_RELS => "outgoing adjacency",
        kind::IN_OFFSETS => "incoming adjacency offsets",
        kind::IN_RELS => "incoming adjacency",
        kind::LABEL_OFFSETS => "label list offsets",
        kind::LABEL_NODES => "label lists",
        kind::BLOCK_CRCS => "block checksums",
        kind::PROP_INDEXES => "property indexes",
        kind::OUT_NBRS => "outgoing neighbours",
        kind::IN_NBRS => "incoming neighbours",
        kind::OUT_RUNS => "outgoing type runs",
        kind::IN_RUNS => "incoming type runs",
        kind::PROP_COLUMN_DIR => "property column directory",
        kind::PROP_COLUMNS => "property columns",
        _ => "unknown",
    }
}

/// The fixed header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub ts: u64,
    pub node_slots: u64,
    pub rel_slots: u64,
    pub live_nodes: u64,
    pub live_rels: u64,
}

/// One section table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub kind: u32,
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
}

/// The section kinds a format-`version` image must hold.
/// (Kinds from `PROP_INDEXES` on are optional unless in the range.)
pub fn required_kinds(version: u32) -> Vec<u32> {
    let base = if version >= BLOCKS_SINCE {
        kind::CATALOG..kind::PROP_INDEXES
    } else {
        kind::CATALOG..kind::END_V1
    };
    let nbrs = if version >= NBRS_SINCE {
        kind::OUT_NBRS..kind::IN_RUNS + 1
    } else {
        0..0
    };
    base.chain(nbrs).collect()
}

/// The four sections of one direction's adjacency: (offsets, relationship ids, neighbours,
/// type runs); the last two exist from format 3.
pub fn adjacency_kinds(outgoing: bool) -> (u32, u32, u32, u32) {
    if outgoing {
        (
            kind::OUT_OFFSETS,
            kind::OUT_RELS,
            kind::OUT_NBRS,
            kind::OUT_RUNS,
        )
    } else {
        (
            kind::IN_OFFSETS,
            kind::IN_RELS,
            kind::IN_NBRS,
            kind::IN_RUNS,
        )
    }
}

/// Bytes per value of the neighbour and run sections of an image with these slot counts: 4
/// when every node id fits in u32 and every run index and list length in 31 bits (a list
/// holds at most `rel_slots` entries, so do the runs), else 8.
pub fn nbr_width(node_slots: u64, rel_slots: u64) -> usize {
    if node_slots <= 1 << 32 && rel_slots < 1 << 31 {
        4
    } else {
        8
    }
}

/// What a node's type word says about its list in one direction (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeWord {
    /// Every entry has this type.
    One(u32),
    /// The node's runs start at this index of the runs section.
    Runs(u64),
}

impl TypeWord {
    /// The word in `w` bytes; `None` when a run index does not fit (the writer then cannot
    /// use width `w`: `nbr_width` rules that out). A type that does not fit below the top
    /// bit must be written as a run.
    pub fn encode(self, w: usize) -> Option<u64> {
        let top = 1u64 << (w * 8 - 1);
        match self {
            TypeWord::One(t) if u64::from(t) < top => Some(u64::from(t)),
            TypeWord::One(_) => None,
            TypeWord::Runs(i) if i < top => Some(top | i),
            TypeWord::Runs(_) => None,
        }
    }

    pub fn decode(word: u64, w: usize) -> TypeWord {
        let top = 1u64 << (w * 8 - 1);
        if word & top != 0 {
            TypeWord::Runs(word & !top)
        } else {
            // Below the top bit of a `w`-byte value: fits in u32 for w = 4, and for w = 8 the
            // writer only stores u32 types.
            TypeWord::One(u32::try_from(word).unwrap_or(u32::MAX))
        }
    }
}

/// Appends `v` as a `w`-byte little-endian value (`w` = 4 or 8; the caller picked `w` so
/// that `v` fits).
pub fn put_uint(out: &mut Vec<u8>, w: usize, v: u64) {
    out.extend_from_slice(&v.to_le_bytes()[..w]);
}

/// Value `i` of a column of `w`-byte little-endian values (`None` past its end).
#[inline]
pub fn uint_at(col: &[u8], w: usize, i: usize) -> Option<u64> {
    let at = i.checked_mul(w)?;
    let b = col.get(at..at.checked_add(w)?)?;
    Some(if w == 4 {
        u64::from(u32::from_le_bytes(b.try_into().ok()?))
    } else {
        u64::from_le_bytes(b.try_into().ok()?)
    })
}

/// How many blocks a section of `len` bytes has.
pub fn blocks_in(len: u64) -> u64 {
    len.div_ceil(BLOCK)
}

/// Per-block checksums of a byte stream fed in pieces of any size (the writer's, for every
/// section it emits).
#[derive(Debug, Default, Clone)]
pub struct BlockSums {
    pub done: Vec<u32>,
    crc: u32,
    filled: u64,
}

impl BlockSums {
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = (BLOCK - self.filled) as usize;
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.crc = crc32c::crc32c_append(self.crc, now);
            self.filled += now.len() as u64;
            if self.filled == BLOCK {
                self.done.push(self.crc);
                self.crc = 0;
                self.filled = 0;
            }
            bytes = rest;
        }
    }

    /// The checksums, the last (partial) block included.
    pub fn finish(mut self) -> Vec<u32> {
        if self.filled > 0 {
            self.done.push(self.crc);
        }
        self.done
    }
}

/// The header and section table as bytes (checksum included), for format `version`.
pub fn encode_header(h: &Header, sections: &[Section], version: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER_LEN + sections.len() * ENTRY_LEN);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for v in [h.ts, h.node_slots, h.rel_slots, h.live_nodes, h.live_rels] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&[0u8; 8]);
    for s in sections {
        b.extend_from_slice(&s.kind.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&s.offset.to_le_bytes());
        b.extend_from_slice(&s.len.to_le_bytes());
        b.extend_from_slice(&s.crc.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
    }
    let crc = header_crc(&b);
    b[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
    b
}

/// The checksum over the header (minus its checksum field) and the section table.
pub fn header_crc(header_and_table: &[u8]) -> u32 {
    let c = crc32c::crc32c(&header_and_table[..CRC_AT]);
    crc32c::crc32c_append(
        c,
        &header_and_table[HEADER_LEN.min(header_and_table.len())..],
    )
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

pub fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_follows_the_slot_counts() {
        assert_eq!(nbr_width(0, 0), 4);
        assert_eq!(
            nbr_width(1 << 32, (1 << 31) - 1),
            4,
            "node ids up to u32::MAX"
        );
        assert_eq!(nbr_width((1 << 32) + 1, 10), 8, "a node id past u32");
        assert_eq!(
            nbr_width(10, 1 << 31),
            8,
            "a run index or length past 31 bits"
        );
    }

    #[test]
    fn values_and_type_words_round_trip_at_both_widths() {
        for (w, big) in [(4usize, u64::from(u32::MAX)), (8, u64::MAX - 3)] {
            let mut col = Vec::new();
            for v in [0, 1, big, 7] {
                put_uint(&mut col, w, v);
            }
            assert_eq!(col.len(), 4 * w);
            let got: Vec<_> = (0..5).map(|i| uint_at(&col, w, i)).collect();
            assert_eq!(got, [Some(0), Some(1), Some(big), Some(7), None], "w {w}");
            for tw in [TypeWord::One(0), TypeWord::One(12345), TypeWord::Runs(0)] {
                let word = tw.encode(w).unwrap();
                assert_eq!(TypeWord::decode(word, w), tw, "w {w}");
            }
        }
        // Past 31 bits a run index needs 8 bytes; a u32 type past 31 bits is a run at 4.
        let far = TypeWord::Runs(1 << 40);
        assert_eq!(far.encode(4), None);
        assert_eq!(TypeWord::decode(far.encode(8).unwrap(), 8), far);
        assert_eq!(TypeWord::One(1 << 31).encode(4), None);
        let t = TypeWord::One(u32::MAX);
        assert_eq!(TypeWord::decode(t.encode(8).unwrap(), 8), t);
        assert_eq!(TypeWord::decode(u64::MAX, 8), TypeWord::Runs(u64::MAX >> 1));
    }
}
