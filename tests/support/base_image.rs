//! Editing base images in tests: finding a section and re-sealing checksums after an edit,
//! so that damage an in-place reader would only meet later gets past the checksums (format
//! in src/checkpoint/format.rs).

// Shared by several test binaries, each using part of it.
#![allow(dead_code)]

/// The section `kind` of a base image: its offset and length, and the offset of its table
/// entry.
pub fn section(img: &[u8], kind: u32) -> (usize, usize, usize) {
    let u32_at = |at: usize| u32::from_le_bytes(img[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(img[at..at + 8].try_into().unwrap()) as usize;
    let count = u32_at(12) as usize;
    (0..count)
        .map(|i| 64 + i * 32)
        .find(|&e| u32_at(e) == kind)
        .map(|e| (u64_at(e + 8), u64_at(e + 16), e))
        .unwrap()
}

/// The block checksum list (format 2 on).
pub const BLOCK_CRCS: u32 = 19;
const BLOCK: usize = 1 << 16;

/// Re-seals a base image after an edit of section `kind`: its checksum, from format 2 its
/// block checksums (and the block list's own checksum), then the header's.
pub fn reseal(img: &mut [u8], kind: u32) {
    let (off, len, entry) = section(img, kind);
    let crc = crc32c::crc32c(&img[off..off + len]);
    img[entry + 24..entry + 28].copy_from_slice(&crc.to_le_bytes());
    let count = u32::from_le_bytes(img[12..16].try_into().unwrap()) as usize;
    let version = u32::from_le_bytes(img[8..12].try_into().unwrap());
    if version >= 2 && kind != BLOCK_CRCS {
        // The block list covers every other table entry in table order.
        let mut first = 0;
        for i in 0..count {
            let e = 64 + i * 32;
            let k = u32::from_le_bytes(img[e..e + 4].try_into().unwrap());
            let l = u64::from_le_bytes(img[e + 16..e + 24].try_into().unwrap()) as usize;
            if k == BLOCK_CRCS {
                continue;
            }
            if k == kind {
                break;
            }
            first += l.div_ceil(BLOCK);
        }
        let (boff, _, _) = section(img, BLOCK_CRCS);
        for (j, at) in (0..len).step_by(BLOCK).enumerate() {
            let c = crc32c::crc32c(&img[off + at..off + (at + BLOCK).min(len)]);
            let p = boff + (first + j) * 4;
            img[p..p + 4].copy_from_slice(&c.to_le_bytes());
        }
        reseal(img, BLOCK_CRCS);
    }
    let h = crc32c::crc32c_append(crc32c::crc32c(&img[..56]), &img[64..64 + count * 32]);
    img[56..60].copy_from_slice(&h.to_le_bytes());
}

/// Renames section `from` to `to` in the table and re-seals the header: with `to` a kind
/// the reader does not know, the image reads as one written without that section.
pub fn retype(img: &mut [u8], from: u32, to: u32) {
    let (_, _, entry) = section(img, from);
    img[entry..entry + 4].copy_from_slice(&to.to_le_bytes());
    reseal(img, to);
}

/// The base image file in database directory `dir` (there is one after a checkpoint).
pub fn base_file(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "gdb"))
        .unwrap()
}
