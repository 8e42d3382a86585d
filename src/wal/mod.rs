//! The redo log: one record per committed transaction, in commit order.
//!
//! File layout: a 16-byte header (`GDBWAL\0\x01`, format version u32 LE, reserved u32), then
//! records `len: u32 LE | crc32c(payload): u32 LE | payload` (payload: see `codec`).
//! Recovery reads records until the first one that is short or fails its checksum — the torn
//! tail of a write a crash interrupted — and (when opened for writing) truncates the file
//! there, so the next append starts on a clean boundary.
//!
//! Durability by sync mode: `Full` fsyncs (fdatasync) before `append` returns; `Normal` leaves
//! the fsync to a background thread running every `NORMAL_SYNC_INTERVAL`; `Off` never syncs.
//! After any failed write or sync the log refuses further appends: the file may hold a torn
//! record, which only a reopen (recovery) can cut away.

pub mod codec;

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Sender};

use crate::error::{Error, ErrorKind, Result};
use crate::storage::Change;
use crate::txn::CommitSink;

const MAGIC: &[u8; 8] = b"GDBWAL\0\x01";
/// The log format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: u64 = 16;
/// A record longer than this is treated as damage, not allocated.
const MAX_RECORD: u32 = 1 << 30;
const NORMAL_SYNC_INTERVAL: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// A commit returns only after its WAL record is fsync'd.
    Full,
    /// The WAL is fsync'd in the background at a short interval; a crash may lose the last
    /// moments of commits but never corrupts.
    Normal,
    /// Never fsync (bulk loads, tests).
    Off,
}

/// What recovery found in a log.
pub struct Recovered {
    /// Committed transactions, in log order: `(commit timestamp, changes)`.
    pub transactions: Vec<(u64, Vec<Change>)>,
    /// Byte offset just past the last good record.
    pub end: u64,
    /// Bytes of torn tail cut off (or, read-only, ignored).
    pub torn_bytes: u64,
}

/// Creates an empty log (header only), durably.
pub fn create(path: &Path) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), &e))?;
    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    f.write_all(&header)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(format!("writing {}", path.display()), &e))
}

/// Reads every intact record of the log at `path`; with `truncate`, cuts a torn tail off.
pub fn recover(path: &Path, truncate: bool) -> Result<Recovered> {
    let file = OpenOptions::new()
        .read(true)
        .write(truncate)
        .open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), &e))?;
    let file_len = file
        .metadata()
        .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?
        .len();
    let mut r = BufReader::with_capacity(1 << 20, &file);
    let mut header = [0u8; HEADER_LEN as usize];
    r.read_exact(&mut header).map_err(|_| {
        Error::corrupt(format!(
            "{} is too short to be a libgraphdb log (no header)",
            path.display()
        ))
    })?;
    if &header[..8] != MAGIC {
        return Err(Error::corrupt(format!(
            "{} is not a libgraphdb log (bad magic bytes at offset 0)",
            path.display()
        )));
    }
    let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if version > FORMAT_VERSION {
        return Err(Error::new(
            ErrorKind::Error,
            format!(
                "{} was written by a newer libgraphdb (log format {version}; this build reads up \
                 to {FORMAT_VERSION}); open it with a newer version",
                path.display()
            ),
        ));
    }
    let mut transactions = Vec::new();
    let mut end = HEADER_LEN;
    let mut last_ts = 0u64;
    loop {
        let mut frame = [0u8; 8];
        if r.read_exact(&mut frame).is_err() {
            break;
        }
        let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
        let crc = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
        if len > MAX_RECORD || u64::from(len) > file_len - end - 8 {
            break;
        }
        let mut payload = vec![0u8; len as usize];
        if r.read_exact(&mut payload).is_err() || crc32c::crc32c(&payload) != crc {
            break;
        }
        let (ts, changes) = codec::decode(&payload).map_err(|e| {
            Error::corrupt(format!(
                "{} at offset {end}: {} (the checksum matched, so this is not a torn write)",
                path.display(),
                e.message()
            ))
        })?;
        if ts <= last_ts {
            return Err(Error::corrupt(format!(
                "{} at offset {end}: commit timestamp {ts} does not follow {last_ts}",
                path.display()
            )));
        }
        last_ts = ts;
        transactions.push((ts, changes));
        end += 8 + u64::from(len);
    }
    let torn_bytes = file_len - end;
    if truncate && torn_bytes > 0 {
        file.set_len(end)
            .and_then(|_| file.sync_all())
            .map_err(|e| {
                Error::io(
                    format!("truncating the torn tail of {}", path.display()),
                    &e,
                )
            })?;
    }
    Ok(Recovered {
        transactions,
        end,
        torn_bytes,
    })
}

struct Inner {
    file: File,
    /// Set by a failed write or sync; every later append fails with it.
    failed: Option<String>,
    /// Bytes written since the last fsync (sync=normal).
    dirty: bool,
}

/// An open log, appending after recovery.
pub struct Wal {
    path: PathBuf,
    sync: SyncMode,
    inner: Arc<Mutex<Inner>>,
    syncer: Option<(Sender<()>, JoinHandle<()>)>,
}

fn lock(inner: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    // Every update of Inner completes or records `failed`; a poisoned lock is consistent.
    inner.lock().unwrap_or_else(|e| e.into_inner())
}

impl Wal {
    /// Opens the log for appending at `end` (from `recover`).
    pub fn open(path: &Path, end: u64, sync: SyncMode) -> Result<Wal> {
        let mut file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), &e))?;
        file.seek(SeekFrom::Start(end))
            .map_err(|e| Error::io(format!("seeking in {}", path.display()), &e))?;
        let inner = Arc::new(Mutex::new(Inner {
            file,
            failed: None,
            dirty: false,
        }));
        let syncer = (sync == SyncMode::Normal).then(|| {
            let (stop, stopped) = bounded::<()>(1);
            let inner = Arc::clone(&inner);
            let shown = path.display().to_string();
            let handle = std::thread::spawn(move || loop {
                let quit = !matches!(
                    stopped.recv_timeout(NORMAL_SYNC_INTERVAL),
                    Err(crossbeam_channel::RecvTimeoutError::Timeout)
                );
                let mut g = lock(&inner);
                if g.dirty && g.failed.is_none() {
                    match g.file.sync_data() {
                        Ok(()) => g.dirty = false,
                        Err(e) => g.failed = Some(format!("fsync of {shown} failed: {e}")),
                    }
                }
                drop(g);
                if quit {
                    break;
                }
            });
            (stop, handle)
        });
        Ok(Wal {
            path: path.to_owned(),
            sync,
            inner,
            syncer,
        })
    }
}

impl CommitSink for Wal {
    fn append(&self, ts: u64, changes: &[Change]) -> Result<()> {
        let payload = codec::encode(ts, changes);
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|&l| l <= MAX_RECORD)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "the transaction is too large to log ({} bytes; the limit is {MAX_RECORD}); \
                     split it into smaller transactions",
                    payload.len()
                ))
            })?;
        let mut record = Vec::with_capacity(payload.len() + 8);
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        record.extend_from_slice(&payload);
        let mut g = lock(&self.inner);
        if let Some(why) = &g.failed {
            return Err(Error::new(ErrorKind::Io, why.clone()));
        }
        let result = g.file.write_all(&record).and_then(|_| match self.sync {
            SyncMode::Full => g.file.sync_data(),
            SyncMode::Normal | SyncMode::Off => Ok(()),
        });
        match result {
            Ok(()) => {
                g.dirty = self.sync == SyncMode::Normal;
                Ok(())
            }
            Err(e) => {
                let err = Error::io(format!("writing the log {}", self.path.display()), &e);
                g.failed = Some(err.message().to_owned());
                Err(err)
            }
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.syncer.take() {
            let _ = stop.send(());
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn put(id: u64) -> Vec<Change> {
        vec![Change::PutNode {
            id,
            labels: vec![],
            props: vec![(0, Value::Int(id as i64))],
        }]
    }

    #[test]
    fn appended_records_recover_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        create(&p).unwrap();
        let wal = Wal::open(&p, HEADER_LEN, SyncMode::Full).unwrap();
        for ts in 1..=3 {
            wal.append(ts, &put(ts)).unwrap();
        }
        drop(wal);
        let good_len = std::fs::metadata(&p).unwrap().len();
        // A torn fourth record: frame plus half a payload.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&[50, 0, 0, 0, 1, 2, 3, 4, 9, 9]).unwrap();
        drop(f);
        let r = recover(&p, true).unwrap();
        assert_eq!(r.transactions.len(), 3);
        assert_eq!(r.transactions[2], (3, put(3)));
        assert_eq!(r.end, good_len);
        assert_eq!(r.torn_bytes, 10);
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            good_len,
            "tail truncated"
        );
        // Appending after recovery continues cleanly.
        let wal = Wal::open(&p, r.end, SyncMode::Off).unwrap();
        wal.append(4, &put(4)).unwrap();
        drop(wal);
        assert_eq!(recover(&p, false).unwrap().transactions.len(), 4);
    }

    #[test]
    fn a_flipped_byte_in_the_last_record_drops_only_that_record() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        create(&p).unwrap();
        let wal = Wal::open(&p, HEADER_LEN, SyncMode::Normal).unwrap();
        wal.append(1, &put(1)).unwrap();
        wal.append(2, &put(2)).unwrap();
        drop(wal);
        let mut bytes = std::fs::read(&p).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&p, &bytes).unwrap();
        let r = recover(&p, false).unwrap();
        assert_eq!(r.transactions.len(), 1);
    }

    #[test]
    fn foreign_and_newer_files_are_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        std::fs::write(&p, b"hello, this is not a log file").unwrap();
        let e = recover(&p, false).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        let mut newer = MAGIC.to_vec();
        newer.extend_from_slice(&99u32.to_le_bytes());
        newer.extend_from_slice(&0u32.to_le_bytes());
        std::fs::write(&p, &newer).unwrap();
        let e = recover(&p, false).err().unwrap();
        assert!(e.message().contains("newer libgraphdb"), "{e}");
    }
}
