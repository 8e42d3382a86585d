//! Durable appends without the page cache. A write through a second handle opened with
//! `O_DIRECT | O_DSYNC` is one system call that writes the blocks and flushes the device's
//! cache, where `pwrite` + `fdatasync` copies into the page cache, writes the dirty pages back
//! and then flushes: on this project's VM 23.6k-26.3k such writes a second against 20.1k-21.2k
//! (docs/performance.md, "Log writes without the page cache").
//!
//! `O_DIRECT` needs block-aligned offsets, lengths and buffer addresses. A write rewrites the
//! block it starts in whole, the bytes before it taken from the previous write (kept here, so
//! nothing is read back in the steady state), and pads its last block with zeros: the log
//! writes at its end, and past the end its reserved space reads as zeros anyway. Rewriting a
//! block that holds durable records writes the same bytes over them, so a torn write leaves
//! every sector of theirs as it was (as the page cache's write-back of that page does).
//!
//! `O_DSYNC` makes durable what reading the written data back needs (the data, a size change,
//! extents converted from reserved to written), as `fdatasync` does, but not earlier writes
//! through the ordinary handle: while one of those is unsynced, and wherever the file system
//! refuses `O_DIRECT`, the write goes through the ordinary handle and `fdatasync` instead.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Alignment of a direct write: 4096 suits devices with 512- and 4096-byte logical blocks.
const BLOCK: u64 = 4096;

/// The direct handle of one file, opened at its first durable write.
pub(super) struct DirectWriter {
    path: PathBuf,
    /// Writes (and size changes) through the ordinary handle so far, and how many of them a
    /// completed sync covered: a direct write would not make the others durable. Counted
    /// without the lock: every write of every real file opened for writing counts one.
    writes: AtomicU64,
    synced: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// `None`: not opened yet; `Some(None)`: direct writes unavailable for this file.
    file: Option<Option<File>>,
    /// Over-allocated: the window from its first block-aligned byte is what a write sends.
    scratch: Vec<u8>,
    /// The last block written directly and `writes` then (an ordinary write since may have
    /// changed that block), with its data bytes in `tail` (the rest of it zeros).
    tail_at: Option<(u64, u64)>,
    tail: Vec<u8>,
    /// Writes that went direct (for tests).
    direct_writes: u64,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // Every update of State leaves it consistent (at worst the tail is forgotten).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DirectWriter {
    pub(super) fn new(path: &Path) -> DirectWriter {
        DirectWriter {
            path: path.to_owned(),
            writes: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            state: Mutex::default(),
        }
    }

    /// Records a write or size change through the ordinary handle: unsynced until a sync
    /// that began after it completes, and the block the last direct write ended in may have
    /// changed.
    pub(super) fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    /// Before a sync of the ordinary handle: what it will cover (for `synced`).
    pub(super) fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// After a sync of the ordinary handle that began when `writes` had returned `covered`.
    pub(super) fn synced(&self, covered: u64) {
        self.synced.fetch_max(covered, Ordering::SeqCst);
    }

    /// Writes `buf` at `offset` durably through the direct handle; `Ok(false)` when it cannot
    /// (nothing written: the caller writes and syncs through the ordinary handle).
    pub(super) fn write_durable(&self, main: &File, buf: &[u8], offset: u64) -> io::Result<bool> {
        let mut guard = lock(&self.state);
        let st = &mut *guard;
        let writes = self.writes.load(Ordering::SeqCst);
        if writes > self.synced.load(Ordering::SeqCst) || buf.is_empty() {
            return Ok(false);
        }
        let Some(direct) = st.file.get_or_insert_with(|| open(&self.path, main)) else {
            return Ok(false);
        };
        let start = offset - offset % BLOCK;
        let end = offset + buf.len() as u64;
        let stop = end.next_multiple_of(BLOCK);
        let (len, pre) = ((stop - start) as usize, (offset - start) as usize);
        let block = BLOCK as usize;
        if st.scratch.len() < len + block {
            st.scratch.resize(len + block, 0);
        }
        let skip = st.scratch.as_ptr().align_offset(block);
        if skip >= block {
            return Ok(false);
        }
        let window = &mut st.scratch[skip..skip + len];
        if st.tail_at == Some((start, writes)) && st.tail.len() >= pre {
            window[..pre].copy_from_slice(&st.tail[..pre]);
        } else {
            main.read_exact_at(&mut window[..pre], start)?;
        }
        window[pre..pre + buf.len()].copy_from_slice(buf);
        window[pre + buf.len()..].fill(0);
        st.tail_at = None;
        let mut done = 0;
        while done < len {
            match direct.write_at(&window[done..], start + done as u64) {
                Ok(n) if n > 0 && n % block == 0 => done += n,
                Ok(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "a direct write stopped short of a block boundary",
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Refused before writing anything (alignment this device does not take).
                Err(e) if done == 0 && e.raw_os_error() == Some(libc::EINVAL) => {
                    st.file = Some(None);
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
        let last = len - block;
        st.tail.clear();
        st.tail
            .extend_from_slice(&window[last..(end - start) as usize]);
        st.tail_at = Some((stop - BLOCK, writes));
        st.direct_writes += 1;
        Ok(true)
    }
}

/// The direct handle of the file `main` has open at `path`, when the file system takes
/// `O_DIRECT` and `path` still names that file.
#[cfg(target_os = "linux")]
fn open(path: &Path, main: &File) -> Option<File> {
    use std::fs::OpenOptions;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let f = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
        .open(path)
        .ok()?;
    let (a, b) = (f.metadata().ok()?, main.metadata().ok()?);
    (a.dev() == b.dev() && a.ino() == b.ino()).then_some(f)
}

#[cfg(not(target_os = "linux"))]
fn open(_path: &Path, _main: &File) -> Option<File> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    /// Appends of every size (inside a block, across blocks, several blocks) through the
    /// direct handle, a fresh writer resuming mid-block (its first write reads the block's
    /// start back), and ordinary writes between them, some over bytes a direct write kept a
    /// copy of (the next durable write then goes the ordinary way, and after a sync direct
    /// again, reading the changed block back): the file always holds exactly what was
    /// written, with zeros past the end.
    #[test]
    fn direct_appends_keep_every_byte_written_before_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let main = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let mut model: Vec<u8> = b"HEADER..".to_vec();
        main.write_all_at(&model, 0).unwrap();
        main.sync_data().unwrap();
        let check = |model: &[u8], what: &str| {
            let mut back = vec![0u8; model.len()];
            main.read_exact_at(&mut back, 0).unwrap();
            assert!(
                back == model,
                "file differs from what was written after {what}"
            );
            let size = main.metadata().unwrap().len();
            let mut rest = vec![0u8; (size - model.len() as u64) as usize];
            main.read_exact_at(&mut rest, model.len() as u64).unwrap();
            assert!(
                rest.iter().all(|&b| b == 0),
                "non-zero bytes past the end after {what}"
            );
        };
        let mut w = DirectWriter::new(&path);
        let mut seed = 7u64;
        let mut direct = 0u64;
        for i in 0..300u64 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = match i % 5 {
                0 => 1 + (seed >> 33) as usize % 40,
                1 => 4096 - model.len() % 4096,
                2 => 1 + (seed >> 33) as usize % 9000,
                _ => 100 + (seed >> 40) as usize % 300,
            };
            let bytes: Vec<u8> = (0..len).map(|k| (seed >> (k % 56)) as u8 | 1).collect();
            let at = model.len() as u64;
            if i % 37 == 36 {
                // Ordinary writes between direct ones (changing the last bytes written, which
                // the direct writer keeps a copy of, and appending), then (sometimes) a sync.
                let back = at - 3;
                w.wrote();
                main.write_all_at(&[0xEE; 3], back).unwrap();
                model[back as usize..].fill(0xEE);
                if i % 74 != 36 {
                    w.wrote();
                    main.write_all_at(&bytes, at).unwrap();
                    model.extend_from_slice(&bytes);
                }
                if i % 2 == 0 {
                    let n = w.writes();
                    main.sync_data().unwrap();
                    w.synced(n);
                }
                check(&model, "an ordinary write");
                continue;
            }
            if i == 150 {
                // A new writer resumes mid-block, knowing nothing of the tail.
                w = DirectWriter::new(&path);
            }
            let before = lock(&w.state).direct_writes;
            if !w.write_durable(&main, &bytes, at).unwrap() {
                // The ordinary way, as `RealFile::write_durable_at` falls back.
                w.wrote();
                main.write_all_at(&bytes, at).unwrap();
                let n = w.writes();
                main.sync_data().unwrap();
                w.synced(n);
            }
            direct += lock(&w.state).direct_writes - before;
            model.extend_from_slice(&bytes);
            check(&model, &format!("append {i} of {len} bytes at {at}"));
        }
        // Where the file system takes O_DIRECT, all but the writes right after an unsynced
        // ordinary one (4) went direct.
        println!(
            "direct appends: {direct} of 292 went direct ({} bytes)",
            model.len()
        );
        assert!(
            direct == 0 || direct == 288,
            "{direct} of 292 appends went direct (288 expected where O_DIRECT works)"
        );
    }
}
