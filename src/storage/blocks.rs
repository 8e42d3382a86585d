//! Checksums of a base image verified at first use (format 2, see `checkpoint::format`).
//!
//! Open checks only the header, the section table, the catalog and the block checksum list;
//! the bytes of every other section are verified a block at a time, the first time a read
//! touches the block. A bitmap of verified blocks makes the later touches one relaxed load:
//! verification is idempotent and the image never changes while mapped, so two threads
//! verifying the same block at once is harmless, and a set bit needs no ordering with the
//! bytes it vouches for.
//!
//! A block that fails its checksum is never read: the accessor gets no bytes (reads as
//! empty or absent) and the damage is recorded in the graph's `BaseDamage`, which every
//! statement and every commit checks before it returns or commits (`BaseDamage::check`).
//! So wrong data never reaches a caller, and nothing commits on top of it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::checkpoint::format::{kind, kind_name, BLOCK, BLOCK_SHIFT};
use crate::error::{Error, Result};

/// Damage found in the base image after open. Sticky: once set, every later statement and
/// commit on the database fails with `Corrupt` (crash over corrupt).
#[derive(Debug, Default)]
pub struct BaseDamage {
    found: AtomicBool,
    what: Mutex<Option<String>>,
}

impl BaseDamage {
    /// Records damage (the first report is the one kept).
    pub fn record(&self, what: String) {
        let mut w = self.what.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_none() {
            *w = Some(what);
        }
        self.found.store(true, Ordering::SeqCst);
    }

    /// `Corrupt` naming the file and offset, once a read met a damaged block.
    pub fn check(&self) -> Result<()> {
        if !self.found.load(Ordering::SeqCst) {
            return Ok(());
        }
        let what = self.what.lock().unwrap_or_else(|e| e.into_inner());
        Err(Error::corrupt(
            what.clone()
                .unwrap_or_else(|| "the base image is damaged".to_owned()),
        ))
    }
}

/// Which blocks of an image are verified, and how to verify the rest.
#[derive(Debug)]
pub struct Blocks {
    /// Format 1: the whole image was checked at open.
    all: bool,
    /// Index of each known section's first block in the image's block list.
    first: [u64; kind::END as usize],
    /// Byte offset of the stored checksums (`BLOCK_CRCS`) in the image, and their count.
    crcs_at: usize,
    count: u64,
    verified: Vec<AtomicU64>,
    path: PathBuf,
    damage: Arc<BaseDamage>,
}

impl Blocks {
    /// Nothing to verify (format 1, checked whole at open; or no image).
    pub fn all_checked() -> Blocks {
        Blocks {
            all: true,
            first: [0; kind::END as usize],
            crcs_at: 0,
            count: 0,
            verified: Vec::new(),
            path: PathBuf::new(),
            damage: Arc::default(),
        }
    }

    /// Block checksums stored at `crcs_at` (`count` of them), the first of section kind `k`
    /// at index `first[k]`; damage is reported to `damage` naming `path`.
    pub fn lazy(
        first: [u64; kind::END as usize],
        crcs_at: usize,
        count: u64,
        path: &Path,
        damage: Arc<BaseDamage>,
    ) -> Blocks {
        Blocks {
            all: false,
            first,
            crcs_at,
            count,
            verified: (0..count.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            path: path.to_owned(),
            damage,
        }
    }

    /// Marks every block verified (after a full check of the image).
    pub fn mark_all(&self) {
        for w in &self.verified {
            w.store(u64::MAX, Ordering::Relaxed);
        }
    }

    /// Whether bytes `[a, b)` (non-empty) of section `k`, which lies at `(off, len)` in
    /// `image`, are verified; verifies the blocks not yet verified.
    #[inline]
    pub fn ensure(
        &self,
        image: &[u8],
        k: u32,
        (off, len): (usize, usize),
        a: usize,
        b: usize,
    ) -> bool {
        if self.all {
            return true;
        }
        let first = self.first[k as usize];
        for blk in (a >> BLOCK_SHIFT) as u64..=((b - 1) >> BLOCK_SHIFT) as u64 {
            let g = first + blk;
            let Some(word) = self.verified.get((g / 64) as usize) else {
                return false;
            };
            let bit = 1u64 << (g % 64);
            if word.load(Ordering::Relaxed) & bit != 0 {
                continue;
            }
            if !self.verify(image, k, (off, len), blk, g) {
                return false;
            }
            word.fetch_or(bit, Ordering::Relaxed);
        }
        true
    }

    /// Block `blk` of section `k` (block `g` of the image) against its stored checksum.
    #[cold]
    fn verify(&self, image: &[u8], k: u32, (off, len): (usize, usize), blk: u64, g: u64) -> bool {
        let start = blk * BLOCK;
        let end = (start + BLOCK).min(len as u64);
        let stored = (g < self.count)
            .then(|| {
                let at = self.crcs_at + g as usize * 4;
                image.get(at..at + 4)
            })
            .flatten()
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let data = image.get(off + start as usize..off + end as usize);
        let good = matches!((stored, data), (Some(s), Some(d)) if crc32c::crc32c(d) == s);
        if !good {
            self.damage.record(format!(
                "{} is damaged at offset {}: the {} section fails its checksum in block {blk}; \
                 restore the database from a backup",
                self.path.display(),
                off as u64 + start,
                kind_name(k)
            ));
        }
        good
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::format::BlockSums;

    /// An "image" of two sections (kinds 2 and 3) and their block checksums, as the writer
    /// lays them out: 2.5 blocks, then 1 block.
    fn image() -> (Vec<u8>, [u64; kind::END as usize], usize, u64) {
        let b = BLOCK as usize;
        let a: Vec<u8> = (0..b * 5 / 2).map(|i| (i * 7 % 251) as u8).collect();
        let c: Vec<u8> = (0..b).map(|i| (i % 13) as u8).collect();
        let mut sums = Vec::new();
        for s in [&a, &c] {
            // Fed in uneven pieces: the sums must not depend on how the writer cut them.
            let mut bs = BlockSums::default();
            for piece in s.chunks(b / 3 + 5) {
                bs.feed(piece);
            }
            sums.extend(bs.finish());
        }
        let mut img = a.clone();
        img.extend_from_slice(&c);
        let crcs_at = img.len();
        for s in &sums {
            img.extend_from_slice(&s.to_le_bytes());
        }
        let mut first = [0u64; kind::END as usize];
        first[3] = 3;
        (img, first, crcs_at, sums.len() as u64)
    }

    #[test]
    fn block_sums_match_whole_blocks_however_fed() {
        let (img, _, crcs_at, count) = image();
        assert_eq!(count, 4);
        let b = BLOCK as usize;
        let whole = [
            &img[..b],
            &img[b..2 * b],
            &img[2 * b..5 * b / 2],
            &img[5 * b / 2..7 * b / 2],
        ];
        for (i, w) in whole.iter().enumerate() {
            let at = crcs_at + i * 4;
            assert_eq!(
                crc32c::crc32c(w).to_le_bytes(),
                img[at..at + 4],
                "block {i}"
            );
        }
    }

    #[test]
    fn a_damaged_block_is_refused_and_recorded_others_still_read() {
        let (mut img, first, crcs_at, count) = image();
        let b = BLOCK as usize;
        let sec_a = (0, b * 5 / 2);
        let sec_c = (b * 5 / 2, b);
        img[b + 10] ^= 1; // block 1 of section a
        let damage = Arc::new(BaseDamage::default());
        let blocks = Blocks::lazy(
            first,
            crcs_at,
            count,
            Path::new("f.gdb"),
            Arc::clone(&damage),
        );
        assert!(blocks.ensure(&img, 2, sec_a, 0, 100));
        assert!(blocks.ensure(&img, 3, sec_c, 0, b));
        assert!(damage.check().is_ok(), "no damage read yet");
        assert!(blocks.ensure(&img, 2, sec_a, 2 * b, 2 * b + 1));
        // A range over blocks 0..=1 meets the damaged one.
        assert!(!blocks.ensure(&img, 2, sec_a, 100, b + 1));
        assert!(
            !blocks.ensure(&img, 2, sec_a, b + 10, b + 11),
            "still refused"
        );
        let e = damage.check().unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::Corrupt);
        assert!(
            e.message().contains("f.gdb") && e.message().contains(&format!("offset {b}")),
            "{e}"
        );
        // Verified blocks stay readable; marking all (after a full check) skips the rest.
        assert!(blocks.ensure(&img, 2, sec_a, 0, 100));
        blocks.mark_all();
        assert!(blocks.ensure(&img, 2, sec_a, b + 10, b + 11));
    }
}
