//! The redo log: one record per committed transaction, in commit order.
//!
//! File layout: a 16-byte header (`GDBWAL\0\x01`, format version u32 LE, reserved u32), then
//! records `len: u32 LE | crc32c(body): u32 LE | body`. In format 2 the body is
//! `synced_before: u64 LE` (how far the log was durable when the record was written) followed
//! by the payload (see `codec`); in format 1 it is the payload alone.
//!
//! Recovery reads records until the first one that is short or fails its checksum. That is
//! the torn tail of writes a crash interrupted — unless a valid record further on says the log
//! was already durable past that point, which proves the bad bytes had been synced: then the
//! damage is corruption, reported as `Corrupt` with the file and offset, never truncated away.
//! A torn tail is cut off (when opened for writing), so the next append starts cleanly.
//!
//! Durability by sync mode: `Full` — `wait_durable` returns once an fsync (fdatasync) covering
//! the record has completed; one fsync covers every record written before it starts, so
//! concurrent committers share it (the first waiter syncs, the others wait for it or the next
//! one). `Normal` — a background thread syncs every `NORMAL_SYNC_INTERVAL`. `Off` — never.
//! After any failed write or sync the log refuses further writes and fails every record the
//! failed sync should have covered: the file may hold a torn record, which only a reopen
//! (recovery) can cut away.
//!
//! Rotation (for checkpoints): the log moves on to a new, already created file; every record
//! with a timestamp above the rotation point goes there. Rotation syncs the old file first, so
//! a later file never holds records while an earlier one may still lose some, and marks it
//! final (`IoFile::mark_final`: its write permission is removed) before any record goes to
//! the new one, which read-only processes following it notice in the fstat they make anyway. Offsets handed
//! out as tickets are logical (they keep growing across files).

pub mod codec;
mod tail;

pub use tail::LogTail;

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Sender};
use std::sync::OnceLock;

use crate::error::{Error, ErrorKind, Result};
use crate::storage::Change;
use crate::txn::{CommitSink, RECORD_HEADER};
use crate::vfs::{self, FileReader, Io, IoFile, OpenMode};

const MAGIC: &[u8; 8] = b"GDBWAL\0\x01";
/// The log format this build writes; it reads this and every earlier one.
pub const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: u64 = 16;
/// A record longer than this is treated as damage, not allocated.
const MAX_RECORD: u32 = 1 << 30;
const NORMAL_SYNC_INTERVAL: Duration = Duration::from_millis(50);
/// How often a committer about to sync yields the CPU first (see `wait_durable`).
const GATHER_YIELDS: u32 = 2;

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
    /// Bytes of torn tail cut off (or, read-only, ignored): the written bytes after the last
    /// good record; zeros of space reserved ahead do not count.
    pub torn_bytes: u64,
    /// The log's format version: appends must use it.
    pub version: u32,
    /// The newest commit timestamp in the log (0 when empty).
    pub last_ts: u64,
}

/// What recovery found in one log when records are handed to a callback (`recover_each`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    pub records: u64,
    pub end: u64,
    pub torn_bytes: u64,
    pub version: u32,
    pub last_ts: u64,
}

/// Creates an empty log (header only), durably. The caller syncs the directory.
pub fn create(io: &dyn Io, path: &Path) -> Result<()> {
    let f = io
        .open(path, OpenMode::CreateNew)
        .map_err(|e| Error::io(format!("creating {}", path.display()), &e))?;
    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    vfs::write_all_at(&*f, &header, 0)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(format!("writing {}", path.display()), &e))
}

/// One record as read from the log.
struct Parsed {
    ts: u64,
    synced_before: u64,
}

/// A record whose frame and checksum are intact, its payload not yet decoded.
struct Framed<'a> {
    payload: &'a [u8],
    synced_before: u64,
    len: u64,
}

/// Checks the frame of the record at the start of `bytes`: `None` when it is short or fails
/// its checksum (a torn write, or damage); `Some(Err)` when its checksum matched but its
/// header is invalid.
fn frame_record(bytes: &[u8], version: u32) -> Option<std::result::Result<Framed<'_>, String>> {
    let frame = bytes.get(..8)?;
    let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
    let crc = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
    // Every real record has a timestamp (and in format 2 a marker): a shorter one is zeros
    // or garbage a crash left (a zero frame even passes the checksum of an empty body).
    let min_len = if version >= 2 { 16 } else { 8 };
    if len > MAX_RECORD || len < min_len {
        return None;
    }
    let body = bytes.get(8..8 + len as usize)?;
    if crc32c::crc32c(body) != crc {
        return None;
    }
    let (synced_before, payload) = if version >= 2 {
        let Some(marker) = body.get(..8) else {
            return Some(Err("record too short for its header".to_owned()));
        };
        let mut m = [0u8; 8];
        m.copy_from_slice(marker);
        (u64::from_le_bytes(m), &body[8..])
    } else {
        (0, body)
    };
    Some(Ok(Framed {
        payload,
        synced_before,
        len: 8 + u64::from(len),
    }))
}

/// Parses the record at the start of `bytes` (its timestamp and durability marker): `None`
/// when it is short or fails its checksum (a torn write, or damage); `Some(Err)` when its
/// checksum matched but its content is invalid.
fn parse_record(bytes: &[u8], version: u32) -> Option<std::result::Result<Parsed, String>> {
    Some(frame_record(bytes, version)?.and_then(|f| {
        codec::decode(f.payload)
            .map(|(ts, _)| Parsed {
                ts,
                synced_before: f.synced_before,
            })
            .map_err(|e| e.message().to_owned())
    }))
}

/// A record on its way from the reading thread to the applier: decoded, or (one in
/// `DEFER_EVERY`) left for the applier to decode, so both threads share the decoding.
enum Pending {
    Decoded(Vec<Change>),
    /// The whole record (payload from `payload_at`), read at log offset `at`.
    Raw {
        record: Vec<u8>,
        payload_at: usize,
        at: u64,
    },
}

/// Decoding a record costs the reader about twice what applying it costs the applier; the
/// applier decoding every third record itself evens out the two threads.
const DEFER_EVERY: u64 = 3;

/// Checks a log's header (`bytes`: as much of the first `HEADER_LEN` bytes as the file has);
/// returns its format version.
fn check_header(bytes: &[u8], path: &Path) -> Result<u32> {
    if bytes.len() < HEADER_LEN as usize {
        return Err(Error::corrupt(format!(
            "{} is too short to be a libgraphdb log (no header)",
            path.display()
        )));
    }
    if &bytes[..8] != MAGIC {
        return Err(Error::corrupt(format!(
            "{} is not a libgraphdb log (bad magic bytes at offset 0)",
            path.display()
        )));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version == 0 {
        return Err(Error::corrupt(format!(
            "{} is damaged: format version 0 in its header at offset 8",
            path.display()
        )));
    }
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
    Ok(version)
}

/// A record whose checksum matched but whose content is invalid: damage, not a torn write.
fn bad_content(path: &Path, at: u64, why: &str) -> Error {
    Error::corrupt(format!(
        "{} at offset {at}: {why} (the checksum matched, so this is not a torn write)",
        path.display()
    ))
}

/// Reads the record at offset `at` from `r` (positioned there), in a file of `file_len`
/// bytes. `None` when it is incomplete, has an impossible length or fails its checksum (a
/// torn or in-flight write, or damage: the caller decides which); `Corrupt` when its
/// checksum matched but its content is invalid. Shared by recovery and by read-only
/// processes following a log (`tail`).
fn read_record(
    r: &mut impl Read,
    at: u64,
    file_len: u64,
    version: u32,
    path: &Path,
) -> Result<Option<Record>> {
    let read_err = |e: std::io::Error| Error::io(format!("reading {}", path.display()), &e);
    let mut frame = [0u8; 8];
    if read_up_to(r, &mut frame).map_err(read_err)? < 8 {
        return Ok(None);
    }
    let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
    if len > MAX_RECORD || u64::from(len) > file_len.saturating_sub(at + 8) {
        return Ok(None);
    }
    let mut record = vec![0u8; 8 + len as usize];
    record[..8].copy_from_slice(&frame);
    if read_up_to(r, &mut record[8..]).map_err(read_err)? < len as usize {
        return Ok(None);
    }
    let Some(framed) = frame_record(&record, version) else {
        return Ok(None);
    };
    let f = framed.map_err(|why| bad_content(path, at, &why))?;
    let (ts, changes) = codec::decode(f.payload).map_err(|e| bad_content(path, at, e.message()))?;
    Ok(Some(Record {
        ts,
        changes,
        len: f.len,
    }))
}

/// A whole record, decoded (what `read_record` returns).
struct Record {
    ts: u64,
    changes: Vec<Change>,
    len: u64,
}

/// Reads every intact record of the log at `path`; with `truncate`, cuts a torn tail off.
pub fn recover(io: &dyn Io, path: &Path, truncate: bool) -> Result<Recovered> {
    let mut transactions = Vec::new();
    let s = recover_each(io, path, truncate, |ts, changes| {
        transactions.push((ts, changes));
        Ok(())
    })?;
    Ok(Recovered {
        transactions,
        end: s.end,
        torn_bytes: s.torn_bytes,
        version: s.version,
        last_ts: s.last_ts,
    })
}

/// Like `recover`, handing each intact record to `apply` as it is read (so a long log is
/// never held in memory whole). An error from `apply` stops recovery and is returned.
pub fn recover_each(
    io: &dyn Io,
    path: &Path,
    truncate: bool,
    mut apply: impl FnMut(u64, Vec<Change>) -> Result<()>,
) -> Result<Scanned> {
    let mode = if truncate {
        OpenMode::ReadWrite
    } else {
        OpenMode::Read
    };
    let file = io
        .open(path, mode)
        .map_err(|e| Error::io(format!("opening {}", path.display()), &e))?;
    let file_len = file
        .size()
        .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
    let read_err = |e: std::io::Error| Error::io(format!("reading {}", path.display()), &e);
    // A writer may be appending (read-only opens): read only what existed at the start.
    let mut r = BufReader::with_capacity(1 << 20, FileReader::new(&*file, 0).take(file_len));
    let mut header = [0u8; HEADER_LEN as usize];
    let n = read_up_to(&mut r, &mut header).map_err(read_err)?;
    let version = check_header(&header[..n], path)?;
    // Reading and decoding run on their own thread, one record ahead of `apply` (which
    // builds the in-memory store): recovery of a long log uses two cores.
    let (tx, rx) = bounded::<(u64, Pending)>(64);
    let (records, end, last_ts) = std::thread::scope(|s| -> Result<(u64, u64, u64)> {
        let reader = s.spawn(move || -> Result<(u64, u64)> {
            let mut end = HEADER_LEN;
            let mut last_ts = 0u64;
            let mut n = 0u64;
            loop {
                let mut frame = [0u8; 8];
                if read_up_to(&mut r, &mut frame).map_err(read_err)? < 8 {
                    break;
                }
                let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
                if len > MAX_RECORD || u64::from(len) > file_len.saturating_sub(end + 8) {
                    break;
                }
                let mut record = vec![0u8; 8 + len as usize];
                record[..8].copy_from_slice(&frame);
                if read_up_to(&mut r, &mut record[8..]).map_err(read_err)? < len as usize {
                    break;
                }
                let Some(framed) = frame_record(&record, version) else {
                    break;
                };
                let f = framed.map_err(|why| bad_content(path, end, &why))?;
                let rec_len = f.len;
                n += 1;
                // The timestamp leads the payload; a payload too short to hold one is decoded
                // here, which reports it.
                let (ts, pending) = match f.payload.get(..8) {
                    Some(lead) if n % DEFER_EVERY == 0 => {
                        let mut t = [0u8; 8];
                        t.copy_from_slice(lead);
                        let payload_at = record.len() - f.payload.len();
                        let raw = Pending::Raw {
                            record,
                            payload_at,
                            at: end,
                        };
                        (u64::from_le_bytes(t), raw)
                    }
                    _ => {
                        let (ts, changes) = codec::decode(f.payload)
                            .map_err(|e| bad_content(path, end, e.message()))?;
                        (ts, Pending::Decoded(changes))
                    }
                };
                if ts <= last_ts {
                    return Err(bad_content(
                        path,
                        end,
                        &format!("commit timestamp {ts} does not follow {last_ts}"),
                    ));
                }
                last_ts = ts;
                if tx.send((ts, pending)).is_err() {
                    // The applier stopped with an error; it reports it.
                    break;
                }
                end += rec_len;
            }
            Ok((end, last_ts))
        });
        let mut records = 0u64;
        let mut applied = Ok(());
        for (ts, pending) in rx.iter() {
            let changes = match pending {
                Pending::Decoded(changes) => changes,
                Pending::Raw {
                    record,
                    payload_at,
                    at,
                } => match codec::decode(&record[payload_at..]) {
                    Ok((_, changes)) => changes,
                    Err(e) => {
                        applied = Err(bad_content(path, at, e.message()));
                        break;
                    }
                },
            };
            if let Err(e) = apply(ts, changes) {
                applied = Err(e);
                break;
            }
            records += 1;
        }
        drop(rx);
        let read = reader.join().unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::Internal,
                format!("the thread reading {} panicked", path.display()),
            ))
        });
        applied?;
        let (end, last_ts) = read?;
        Ok((records, end, last_ts))
    })?;
    // Reserved space past the records reads as zeros: a tail only of zeros is not torn.
    let torn_bytes = if file_len > end {
        check_tail_is_torn(&*file, path, end, file_len, version, last_ts)? - end
    } else {
        0
    };
    if torn_bytes > 0 {
        // The reserved space goes too; the writer reserves afresh.
        if truncate {
            file.set_len(end)
                .and_then(|_| file.sync_all())
                .map_err(|e| {
                    Error::io(
                        format!("truncating the torn tail of {}", path.display()),
                        &e,
                    )
                })?;
        }
    }
    Ok(Scanned {
        records,
        end,
        torn_bytes,
        version,
        last_ts,
    })
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Just past the last non-zero byte in `from .. to` of `file` (`from` when there is none).
/// The writer reserves space ahead of its appends (`IoFile::allocate`), so a log normally
/// ends in a run of zeros no record was written to yet; this finds where the written bytes
/// end by reading backwards from `to` in blocks (memory speed, never a byte-wise scan of the
/// reserved space).
fn nonzero_end(file: &dyn IoFile, path: &Path, from: u64, to: u64) -> Result<u64> {
    const BLOCK: u64 = 64 << 10;
    let mut buf = vec![0u8; BLOCK.min(to.saturating_sub(from)) as usize];
    let mut hi = to;
    while hi > from {
        let lo = hi.saturating_sub(BLOCK).max(from);
        let chunk = &mut buf[..(hi - lo) as usize];
        let n = vfs::read_full_at(file, chunk, lo)
            .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
        // A file that shrank meanwhile reads short: the missing bytes count as zeros.
        let chunk = &chunk[..n];
        // OR-folding 4 KiB at a time vectorizes; only the last non-zero block is searched.
        if let Some(block) = chunk
            .chunks(4096)
            .rposition(|b| b.iter().fold(0u8, |a, &x| a | x) != 0)
        {
            let block_start = block * 4096;
            let within = chunk[block_start..]
                .iter()
                .rposition(|&x| x != 0)
                .unwrap_or(0);
            return Ok(lo + (block_start + within) as u64 + 1);
        }
        hi = lo;
    }
    Ok(from)
}

/// The bytes from `bad` (the first record that failed) to the end are a torn tail (or the
/// zeros of space reserved ahead) unless a valid record among them was written when the log
/// was already durable past `bad`: then the bad bytes had been synced, and they are damage.
/// Returns where the written (non-zero) bytes end.
fn check_tail_is_torn(
    file: &dyn IoFile,
    path: &Path,
    bad: u64,
    file_len: u64,
    version: u32,
    last_ts: u64,
) -> Result<u64> {
    let data_end = nonzero_end(file, path, bad, file_len)?;
    if version < 2 || data_end == bad {
        return Ok(data_end);
    }
    let len = usize::try_from(data_end - bad)
        .map_err(|_| Error::corrupt(format!("{} is too large to check", path.display())))?;
    let mut tail = vec![0u8; len];
    let n = vfs::read_full_at(file, &mut tail, bad)
        .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
    tail.truncate(n);
    // Bytes from `data_end` to `file_len` are zeros: a record may end in them (its last
    // bytes zero), so a candidate reaching past the bytes read is checked zero-padded.
    let readable = file_len - bad;
    for start in 1..tail.len() {
        // Only a record claiming the log was synced past `bad` matters, and its claim cannot
        // exceed its own offset: checking that first keeps the scan linear (no checksum over
        // candidate lengths at every offset).
        let Some(marker) = tail.get(start + 8..start + 16) else {
            break;
        };
        let mut m = [0u8; 8];
        m.copy_from_slice(marker);
        let claimed = u64::from_le_bytes(m);
        if claimed <= bad || claimed > bad + start as u64 {
            continue;
        }
        let rec_len = 8 + u64::from(u32::from_le_bytes([
            tail[start],
            tail[start + 1],
            tail[start + 2],
            tail[start + 3],
        ]));
        let padded;
        let bytes = if start as u64 + rec_len <= tail.len() as u64 {
            &tail[start..]
        } else if start as u64 + rec_len <= readable && rec_len <= 8 + u64::from(MAX_RECORD) {
            let mut p = tail[start..].to_vec();
            p.resize(rec_len as usize, 0);
            padded = p;
            &padded[..]
        } else {
            continue;
        };
        if let Some(Ok(p)) = parse_record(bytes, version) {
            if p.ts > last_ts && p.synced_before > bad {
                if intact_now(file, path, bad, version)? {
                    // A writer appended into reserved space while this (read-only) process
                    // read it: the record at `bad` was not written yet when first read.
                    return Ok(data_end);
                }
                return Err(Error::corrupt(format!(
                    "{} is damaged at offset {bad}: the record there fails its checksum, but \
                     the valid record at offset {} (commit {}) was written after that part of \
                     the log had been synced; restore the database from a backup",
                    path.display(),
                    bad + start as u64,
                    p.ts
                )));
            }
        }
    }
    Ok(data_end)
}

/// Whether the record at `at` reads intact now. The proof of damage (a later record written
/// after `at` was synced) is final once seen, since the writer appends in order: so a record
/// at `at` that reads intact afterwards was being written when it was first read (a writer
/// filling reserved space under a read-only process), not damaged.
fn intact_now(file: &dyn IoFile, path: &Path, at: u64, version: u32) -> Result<bool> {
    let read = |buf: &mut [u8], off: u64| {
        vfs::read_full_at(file, buf, off)
            .map_err(|e| Error::io(format!("reading {}", path.display()), &e))
    };
    let mut frame = [0u8; 8];
    if read(&mut frame, at)? < 8 {
        return Ok(false);
    }
    let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
    if len > MAX_RECORD {
        return Ok(false);
    }
    let mut record = vec![0u8; 8 + len as usize];
    if read(&mut record, at)? < record.len() {
        return Ok(false);
    }
    Ok(matches!(frame_record(&record, version), Some(Ok(_))))
}

/// Progress of writes and syncs; guarded by one mutex. Offsets are logical: the current
/// file's byte `x` is at logical offset `base + x`.
struct State {
    /// Offset where the next record goes.
    end: u64,
    /// Everything before this offset is durable.
    synced: u64,
    /// A sync is running (its issuer updates `synced` when done).
    syncing: bool,
    /// Records written, and how many of them the last successful sync covered in all and
    /// newly (`last_group`): see `wait_durable`.
    records: u64,
    synced_records: u64,
    last_group: u64,
    /// Threads waiting on `synced_cv`: a sync wakes nobody (no futex call) when it is 0, as
    /// with a lone committer, which syncs for itself.
    waiters: u32,
    /// Set by a failed write or sync; every later write and unsynced wait fails with it.
    failed: Option<String>,
    /// The file being appended to.
    file: Arc<dyn IoFile>,
    path: PathBuf,
    /// Format of that file (1: no synced-before marker).
    version: u32,
    /// Logical offset of the file's first byte.
    base: u64,
    /// Newest commit timestamp written to any file.
    last_ts: u64,
    /// File offset up to which space is reserved (`IoFile::allocate`): a write reaching past
    /// it first reserves more. After a failed reservation it is the point to try again at.
    reserved: u64,
    /// With sync=full: framed records not yet written to the file, ending at `end` (the next
    /// sync writes them with one `pwrite` before its fdatasync). A commit waits for that sync
    /// anyway, so writing its record at commit time bought nothing but one write call per
    /// commit (and a longer hold of the commit lock); a group of commits now costs one.
    pending: Vec<u8>,
}

struct Shared {
    state: Mutex<State>,
    synced_cv: Condvar,
}

/// An open log, appending after recovery.
pub struct Wal {
    sync: SyncMode,
    shared: Arc<Shared>,
    syncer: Option<(Sender<()>, JoinHandle<()>)>,
    /// Automatic checkpoints: once the current file passes this many bytes, a write signals
    /// the checkpoint thread (never waiting for it).
    auto_checkpoint: OnceLock<(u64, Sender<()>)>,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // Every update of State completes or records `failed`; a poisoned lock is consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Waits on `synced_cv` (for `syncing` to clear or `failed` to be set), counted so that
    /// `wake` can skip the call when nobody waits.
    fn wait<'a>(
        &'a self,
        mut g: std::sync::MutexGuard<'a, State>,
    ) -> std::sync::MutexGuard<'a, State> {
        g.waiters += 1;
        let mut g = self.synced_cv.wait(g).unwrap_or_else(|e| e.into_inner());
        g.waiters -= 1;
        g
    }

    /// Wakes the waiters after a change of `syncing`, `synced` or `failed` (made under the
    /// same lock, so a waiter counted later sees the change before it waits).
    fn wake(&self, g: &State) {
        if g.waiters > 0 {
            self.synced_cv.notify_all();
        }
    }

    /// Syncs everything written so far unless another thread is already syncing; returns
    /// with the lock held again.
    fn sync_once<'a>(
        &'a self,
        mut g: std::sync::MutexGuard<'a, State>,
    ) -> std::sync::MutexGuard<'a, State> {
        if g.syncing || g.failed.is_some() || g.synced >= g.end {
            return g;
        }
        g.syncing = true;
        let target = g.end;
        let target_records = g.records;
        // Rotation waits for `syncing` to clear, so this stays the current file.
        let file = Arc::clone(&g.file);
        let (pending, at) = g.take_pending();
        drop(g);
        let result = write_and_sync(&*file, &pending, at);
        let mut g = lock(&self.state);
        g.syncing = false;
        match result {
            Ok(()) => {
                g.synced = g.synced.max(target);
                g.last_group = target_records.saturating_sub(g.synced_records);
                g.synced_records = g.synced_records.max(target_records);
            }
            Err(e) => {
                if g.failed.is_none() {
                    g.failed = Some(format!(
                        "writing or syncing the log {} failed: {e}",
                        g.path.display()
                    ));
                }
            }
        }
        self.wake(&g);
        g
    }
}

impl State {
    /// Takes the records not yet written and the file offset they go to, reserving space
    /// for them first when they reach past the reservation.
    fn take_pending(&mut self) -> (Vec<u8>, u64) {
        let pending = std::mem::take(&mut self.pending);
        let at = self.end - self.base - pending.len() as u64;
        if !pending.is_empty() && self.end - self.base > self.reserved {
            self.reserved = reserve(&*self.file, at, self.end - self.base);
        }
        (pending, at)
    }
}

/// Writes the deferred records at `at` and makes everything written durable: one durable
/// write (`IoFile::write_durable_at`: one direct write on a real file), or, with nothing
/// deferred, a sync of what was written before.
fn write_and_sync(file: &dyn IoFile, pending: &[u8], at: u64) -> std::io::Result<()> {
    if pending.is_empty() {
        file.sync_data()
    } else {
        file.write_durable_at(pending, at)
    }
}

impl Wal {
    /// Opens the log for appending at `recovered.end` (from `recover`, so everything before
    /// it is durable). `recovered.last_ts` must be the newest timestamp of every log.
    pub fn open(io: &dyn Io, path: &Path, recovered: &Recovered, sync: SyncMode) -> Result<Wal> {
        Wal::open_at(
            io,
            path,
            recovered.end,
            recovered.version,
            recovered.last_ts,
            sync,
        )
    }

    /// Opens the log at `path` for appending at `end`, in format `version`, after commit
    /// `last_ts`.
    pub fn open_at(
        io: &dyn Io,
        path: &Path,
        end: u64,
        version: u32,
        last_ts: u64,
        sync: SyncMode,
    ) -> Result<Wal> {
        let file = io
            .open(path, OpenMode::ReadWrite)
            .map_err(|e| Error::io(format!("opening {}", path.display()), &e))?;
        let reserved = file
            .size()
            .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                end,
                synced: end,
                syncing: false,
                records: 0,
                synced_records: 0,
                last_group: 0,
                waiters: 0,
                failed: None,
                file: Arc::from(file),
                path: path.to_owned(),
                version,
                base: 0,
                last_ts,
                reserved,
                pending: Vec::new(),
            }),
            synced_cv: Condvar::new(),
        });
        let syncer = (sync == SyncMode::Normal).then(|| {
            let (stop, stopped) = bounded::<()>(1);
            let shared = Arc::clone(&shared);
            let handle = std::thread::spawn(move || loop {
                let quit = !matches!(
                    stopped.recv_timeout(NORMAL_SYNC_INTERVAL),
                    Err(crossbeam_channel::RecvTimeoutError::Timeout)
                );
                drop(shared.sync_once(lock(&shared.state)));
                if quit {
                    break;
                }
            });
            (stop, handle)
        });
        Ok(Wal {
            sync,
            shared,
            syncer,
            auto_checkpoint: OnceLock::new(),
        })
    }

    /// Signals `trigger` (without blocking) after any write that leaves the current file at
    /// `threshold` bytes or more. Set once.
    pub fn set_auto_checkpoint(&self, threshold: u64, trigger: Sender<()>) {
        let _ = self.auto_checkpoint.set((threshold, trigger));
    }

    /// Bytes in the file being appended to.
    pub fn current_bytes(&self) -> u64 {
        let g = lock(&self.shared.state);
        g.end - g.base
    }

    /// Refuses every later write with `why` (a checkpoint step whose failure leaves the
    /// durable state uncertain).
    pub fn fail(&self, why: &str) {
        let mut g = lock(&self.shared.state);
        if g.failed.is_none() {
            g.failed = Some(why.to_owned());
        }
        self.shared.wake(&g);
    }

    /// Moves appending to the log at `path`, which must exist with its header durable
    /// (`create`) and be named by the manifest. Syncs the current file first, holding the
    /// log (so commits wait) for that one sync. Returns the newest commit timestamp in the
    /// earlier files: every later commit goes to the new file.
    pub fn rotate(&self, io: &dyn Io, path: &Path) -> Result<u64> {
        let file = io
            .open(path, OpenMode::ReadWrite)
            .map_err(|e| Error::io(format!("opening {}", path.display()), &e))?;
        let len = file
            .size()
            .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
        if len != HEADER_LEN {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("{} is not a fresh log ({len} bytes)", path.display()),
            ));
        }
        let sh = &self.shared;
        let mut g = lock(&sh.state);
        while g.syncing {
            g = sh.wait(g);
        }
        if let Some(why) = &g.failed {
            return Err(Error::new(ErrorKind::Io, why.clone()));
        }
        if g.synced < g.end {
            let (pending, at) = g.take_pending();
            let file = Arc::clone(&g.file);
            if let Err(e) = write_and_sync(&*file, &pending, at) {
                let err = Error::io(format!("writing and syncing {}", g.path.display()), &e);
                g.failed = Some(err.message().to_owned());
                sh.wake(&g);
                return Err(err);
            }
            g.synced = g.end;
            g.synced_records = g.records;
        }
        let old = std::mem::replace(&mut g.file, Arc::from(file));
        // Before any record goes to the new file: readers following the old one see at
        // their next fstat that it is complete. Best effort (they also poll the manifest).
        let _ = old.mark_final();
        g.path = path.to_owned();
        g.version = FORMAT_VERSION;
        g.base = g.end - HEADER_LEN;
        g.reserved = HEADER_LEN;
        sh.wake(&g);
        Ok(g.last_ts)
    }
}

/// Space is reserved ahead of the appends in steps of the log's size so far, between these
/// bounds (a small database's log stays small; a long one reserves rarely).
const RESERVE_MIN: u64 = 64 << 10;
const RESERVE_MAX: u64 = 4 << 20;

/// Reserves space in `file` (whose written bytes end at `at`) for a write ending at `needed`
/// plus room ahead; returns the offset up to which the next writes need no reservation.
/// Appends inside reserved space leave the file's size alone, so their fdatasync journals no
/// size change (measured on ext4: see docs/durability.md). A failed reservation is not an
/// error: the write appends as before (growing the file), and it retries one step later — a
/// full disk or a dying one fails the write or the sync itself, which poisons the log.
fn reserve(file: &dyn IoFile, at: u64, needed: u64) -> u64 {
    let step = at.clamp(RESERVE_MIN, RESERVE_MAX);
    let target = (needed + step).next_multiple_of(RESERVE_MIN);
    let _ = file.allocate(target);
    target
}

impl CommitSink for Wal {
    fn log_bytes(&self) -> u64 {
        self.current_bytes()
    }

    fn gathers(&self) -> bool {
        self.sync == SyncMode::Full
    }

    fn write(&self, ts: u64, changes: &[Change]) -> Result<u64> {
        let mut record = Vec::with_capacity(128);
        record.resize(RECORD_HEADER, 0);
        codec::encode_into(&mut record, ts, changes);
        self.write_encoded(ts, record)
    }

    fn write_encoded(&self, ts: u64, mut record: Vec<u8>) -> Result<u64> {
        // Framed outside the lock as a format-2 record (`len | crc | synced_before |
        // payload`); under it only the marker and the checksum are filled in.
        let payload_len = record.len().saturating_sub(RECORD_HEADER);
        u32::try_from(payload_len + 8)
            .ok()
            .filter(|&l| l <= MAX_RECORD)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "the transaction is too large to log ({payload_len} bytes; the limit is \
                     {MAX_RECORD}); split it into smaller transactions"
                ))
            })?;
        let sh = &self.shared;
        let mut g = lock(&sh.state);
        if let Some(why) = &g.failed {
            return Err(Error::new(ErrorKind::Io, why.clone()));
        }
        if g.version >= 2 {
            // Physical offset within this file (rotation syncs the previous one).
            let marker = g.synced.saturating_sub(g.base);
            record[8..16].copy_from_slice(&marker.to_le_bytes());
        } else {
            // Format 1: no marker.
            record.drain(8..16);
        }
        let body_len = (record.len() - 8) as u32;
        let crc = crc32c::crc32c(&record[8..]);
        record[..4].copy_from_slice(&body_len.to_le_bytes());
        record[4..8].copy_from_slice(&crc.to_le_bytes());
        let at = g.end - g.base;
        let len = record.len() as u64;
        let needed = at + len;
        let written = if self.sync == SyncMode::Full {
            // Written by the sync this commit waits for (see `State::pending`); a first
            // record is moved in, not copied (a large transaction's can be megabytes).
            if g.pending.is_empty() {
                g.pending = record;
            } else {
                g.pending.extend_from_slice(&record);
            }
            Ok(())
        } else {
            if needed > g.reserved {
                g.reserved = reserve(&*g.file, at, needed);
            }
            vfs::write_all_at(&*g.file, &record, at)
        };
        match written {
            Ok(()) => {
                g.end += len;
                g.records += 1;
                g.last_ts = ts;
                let ticket = g.end;
                let size = g.end - g.base;
                drop(g);
                if let Some((threshold, trigger)) = self.auto_checkpoint.get() {
                    if size >= *threshold {
                        let _ = trigger.try_send(());
                    }
                }
                Ok(ticket)
            }
            Err(e) => {
                let err = Error::io(format!("writing the log {}", g.path.display()), &e);
                g.failed = Some(err.message().to_owned());
                sh.wake(&g);
                Err(err)
            }
        }
    }

    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        if self.sync != SyncMode::Full {
            // Durable as the mode promises once written: every record written so far.
            return Ok(u64::MAX);
        }
        let sh = &self.shared;
        let mut g = lock(&sh.state);
        let mut yields = 0;
        loop {
            if g.synced >= ticket {
                return Ok(g.synced);
            }
            if let Some(why) = &g.failed {
                return Err(Error::new(ErrorKind::Io, why.clone()));
            }
            if g.syncing {
                g = sh.wait(g);
            } else if yields < GATHER_YIELDS && g.records - g.synced_records < g.last_group {
                // The commits the last sync released are likely about to write their next
                // records: fewer are pending than it covered. Without this the first of them
                // to come back syncs alone, and the rest wait a whole sync for the next one
                // (groups alternate small and large). Yielding the CPU lets them write
                // first; with nobody runnable it returns at once, and a lone committer
                // (last group 1) never yields.
                yields += 1;
                drop(g);
                std::thread::yield_now();
                g = lock(&sh.state);
            } else {
                g = sh.sync_once(g);
            }
        }
    }
}

/// The transaction manager owns its sink; the checkpointer shares the log to rotate it.
impl CommitSink for Arc<Wal> {
    fn write(&self, ts: u64, changes: &[Change]) -> Result<u64> {
        (**self).write(ts, changes)
    }
    fn write_encoded(&self, ts: u64, record: Vec<u8>) -> Result<u64> {
        (**self).write_encoded(ts, record)
    }
    fn wait_durable(&self, ticket: u64) -> Result<u64> {
        (**self).wait_durable(ticket)
    }
    fn log_bytes(&self) -> u64 {
        (**self).log_bytes()
    }
    fn gathers(&self) -> bool {
        (**self).gathers()
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
    use crate::vfs::RealIo;
    use std::os::unix::fs::FileExt;

    fn append(w: &Wal, ts: u64, changes: &[Change]) {
        let ticket = w.write(ts, changes).unwrap();
        w.wait_durable(ticket).unwrap();
    }

    /// Creates an empty log at `p` and opens it for appending.
    fn fresh(p: &Path, sync: SyncMode) -> Wal {
        create(&RealIo, p).unwrap();
        Wal::open(&RealIo, p, &recover(&RealIo, p, true).unwrap(), sync).unwrap()
    }

    fn put(id: u64) -> Vec<Change> {
        vec![Change::PutNode {
            id,
            labels: vec![],
            props: vec![(0, Value::Int(id as i64))],
        }]
    }

    /// Committers that find a sync running wait for it (counted, so a sync wakes only when
    /// someone waits): with many of them at once, against a slow disk, every wait returns
    /// with its record durable and nobody is left asleep.
    #[test]
    fn concurrent_waits_for_a_running_sync_all_return_durable() {
        let sim = crate::vfs::sim::SimIo::new();
        sim.set_sync_delay(std::time::Duration::from_micros(300));
        let p = Path::new("/sim/wal.log");
        sim.create_dir_all(Path::new("/sim")).unwrap();
        create(&sim, p).unwrap();
        let wal = Wal::open(&sim, p, &recover(&sim, p, true).unwrap(), SyncMode::Full).unwrap();
        let next = std::sync::atomic::AtomicU64::new(1);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..30 {
                        let ts = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let ticket = wal.write(ts, &put(ts)).unwrap();
                        let durable = wal.wait_durable(ticket).unwrap();
                        assert!(durable >= ticket, "returned before its record was synced");
                    }
                });
            }
        });
        let g = lock(&wal.shared.state);
        assert_eq!(g.synced, g.end);
        assert_eq!(g.waiters, 0);
        assert!(sim.syncs() < 180, "no wait shared a sync: {}", sim.syncs());
    }

    #[test]
    fn appended_records_recover_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let wal = fresh(&p, SyncMode::Full);
        for ts in 1..=3 {
            append(&wal, ts, &put(ts));
        }
        let good_len = wal.current_bytes();
        drop(wal);
        assert!(
            std::fs::metadata(&p).unwrap().len() > good_len,
            "space reserved"
        );
        // A torn fourth record in the reserved space: frame plus half a payload.
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.write_all_at(&[50, 0, 0, 0, 1, 2, 3, 4, 9, 9], good_len)
            .unwrap();
        drop(f);
        let r = recover(&RealIo, &p, true).unwrap();
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
        let wal = Wal::open(&RealIo, &p, &r, SyncMode::Off).unwrap();
        append(&wal, 4, &put(4));
        drop(wal);
        assert_eq!(recover(&RealIo, &p, false).unwrap().transactions.len(), 4);
    }

    /// The zeros of space reserved past the records are neither a torn tail nor damage: a
    /// read-write recovery keeps them (nothing to cut), and appends continue inside them.
    #[test]
    fn reserved_zeros_after_the_records_are_not_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let wal = fresh(&p, SyncMode::Full);
        for ts in 1..=3 {
            append(&wal, ts, &put(ts));
        }
        let end = wal.current_bytes();
        drop(wal);
        let file_len = std::fs::metadata(&p).unwrap().len();
        assert!(
            file_len >= end + RESERVE_MIN,
            "{file_len} for {end} written"
        );
        assert!(std::fs::read(&p).unwrap()[end as usize..]
            .iter()
            .all(|&b| b == 0));
        let r = recover(&RealIo, &p, true).unwrap();
        assert_eq!((r.transactions.len(), r.end, r.torn_bytes), (3, end, 0));
        assert_eq!(std::fs::metadata(&p).unwrap().len(), file_len, "kept");
        let wal = Wal::open(&RealIo, &p, &r, SyncMode::Full).unwrap();
        append(&wal, 4, &put(4));
        drop(wal);
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            file_len,
            "written inside"
        );
        let r = recover(&RealIo, &p, false).unwrap();
        assert_eq!(r.transactions.len(), 4);
        assert_eq!(r.transactions[3], (4, put(4)));
    }

    /// A long log reserves in growing steps, so appends stay inside reserved space: the file
    /// grows a bounded number of times.
    #[test]
    fn space_is_reserved_ahead_in_growing_steps() {
        let io = crate::vfs::sim::SimIo::new();
        let p = Path::new("/db/wal.log");
        io.create_dir_all(Path::new("/db")).unwrap();
        create(&io, p).unwrap();
        let wal = Wal::open(&io, p, &recover(&io, p, true).unwrap(), SyncMode::Off).unwrap();
        let big = vec![Change::PutNode {
            id: 1,
            labels: vec![],
            props: vec![(0, Value::String("x".repeat(1000)))],
        }];
        for ts in 1..=10_000 {
            wal.write(ts, &big).unwrap();
        }
        let written = wal.current_bytes();
        drop(wal);
        let len = io.contents(p).unwrap().len() as u64;
        assert!(written > 10_000_000 && len >= written, "{written} in {len}");
        assert!(
            len - written <= RESERVE_MAX + RESERVE_MIN,
            "{len} for {written}"
        );
        // 64 KiB doubling to 4 MiB, then 4 MiB steps: 6 + about 10 / 4 steps.
        let n = io.allocations();
        assert!(
            (2..=12).contains(&n),
            "{n} reservations for {written} bytes"
        );
        assert_eq!(recover(&io, p, false).unwrap().transactions.len(), 10_000);
    }

    /// A failed reservation (EIO, or ENOSPC after growing the file part of the way) is not a
    /// failed commit: the write appends as before, and recovery finds every record.
    #[test]
    fn a_failed_reservation_leaves_appends_working() {
        use crate::vfs::sim::{Fault, FaultKind, SimIo};
        for kind in [FaultKind::Eio, FaultKind::NoSpace] {
            let io = SimIo::new();
            let p = Path::new("/db/wal.log");
            io.create_dir_all(Path::new("/db")).unwrap();
            create(&io, p).unwrap();
            io.sync_dir(Path::new("/db")).unwrap();
            let wal = Wal::open(&io, p, &recover(&io, p, true).unwrap(), SyncMode::Full).unwrap();
            // The first write reserves before writing: the next operation is the reservation.
            io.set_fault(Some(Fault {
                at: io.ops() + 1,
                kind,
                persistent: false,
            }));
            append(&wal, 1, &put(1));
            assert_eq!((io.faults_hit(), io.allocations()), (1, 1), "{kind:?}");
            for ts in 2..=5 {
                append(&wal, ts, &put(ts));
            }
            drop(wal);
            let crashed = io.power_loss(7);
            let r = recover(&crashed, p, true).unwrap();
            assert_eq!(r.transactions.len(), 5, "{kind:?}");
            assert_eq!(r.torn_bytes, 0, "{kind:?}");
        }
    }

    /// Damage before a synced record is found although that record ends in zero bytes and
    /// reserved zeros follow it (the tail check pads what it reads with the known zeros).
    #[test]
    fn damage_before_a_synced_record_ending_in_zeros_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let wal = fresh(&p, SyncMode::Full);
        let zeros = |id| {
            vec![Change::PutNode {
                id,
                labels: vec![],
                props: vec![(0, Value::String("\0".repeat(300)))],
            }]
        };
        let mut ends = vec![HEADER_LEN];
        for ts in 1..=3 {
            append(&wal, ts, &zeros(ts));
            ends.push(wal.current_bytes());
        }
        drop(wal);
        let mut bytes = std::fs::read(&p).unwrap();
        assert!(bytes.len() as u64 > ends[3]);
        assert_eq!(
            bytes[ends[3] as usize - 1],
            0,
            "the last record ends in zeros"
        );
        bytes[ends[1] as usize + 12] ^= 0x01;
        std::fs::write(&p, &bytes).unwrap();
        let e = recover(&RealIo, &p, true).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
        assert!(e.message().contains(&format!("offset {}", ends[1])), "{e}");
    }

    /// A read-only process may find zeros where the writer is appending (reserved space),
    /// and by the time it checks the rest, that record and a later one that proves it synced
    /// are there: not damage, since the record now reads intact. Real damage still is.
    #[test]
    fn a_record_written_while_the_tail_is_checked_is_not_damage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let wal = fresh(&p, SyncMode::Full);
        append(&wal, 1, &put(1));
        let first_end = wal.current_bytes();
        append(&wal, 2, &put(2));
        append(&wal, 3, &put(3));
        drop(wal);
        let file = RealIo.open(&p, OpenMode::Read).unwrap();
        let len = file.size().unwrap();
        // As if the reader had found zeros at the record of commit 2 and then read on.
        assert_eq!(
            check_tail_is_torn(&*file, &p, first_end, len, FORMAT_VERSION, 1).unwrap(),
            records_end(&std::fs::read(&p).unwrap())
        );
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[first_end as usize + 12] ^= 0x01;
        std::fs::write(&p, &bytes).unwrap();
        let file = RealIo.open(&p, OpenMode::Read).unwrap();
        let e = check_tail_is_torn(&*file, &p, first_end, len, FORMAT_VERSION, 1)
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    }

    /// Where the records of the log bytes `b` end (frames walked from the header).
    fn records_end(b: &[u8]) -> u64 {
        let mut at = HEADER_LEN as usize;
        while let Some(f) = b.get(at..at + 4) {
            let len = u32::from_le_bytes(f.try_into().unwrap()) as usize;
            if len == 0 || at + 8 + len > b.len() {
                break;
            }
            at += 8 + len;
        }
        at as u64
    }

    #[test]
    fn a_flipped_byte_in_the_last_record_drops_only_that_record() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let wal = fresh(&p, SyncMode::Normal);
        append(&wal, 1, &put(1));
        append(&wal, 2, &put(2));
        let last = wal.current_bytes() as usize - 1;
        drop(wal);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[last] ^= 0x40;
        std::fs::write(&p, &bytes).unwrap();
        let r = recover(&RealIo, &p, false).unwrap();
        assert_eq!(r.transactions.len(), 1);
    }

    #[test]
    fn foreign_and_newer_files_are_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        std::fs::write(&p, b"hello, this is not a log file").unwrap();
        let e = recover(&RealIo, &p, false).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        let mut newer = MAGIC.to_vec();
        newer.extend_from_slice(&99u32.to_le_bytes());
        newer.extend_from_slice(&0u32.to_le_bytes());
        std::fs::write(&p, &newer).unwrap();
        let e = recover(&RealIo, &p, false).err().unwrap();
        assert!(e.message().contains("newer libgraphdb"), "{e}");
    }

    #[test]
    fn damage_before_synced_records_is_corrupt_with_file_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let wal = fresh(&p, SyncMode::Full);
        let mut ends = vec![HEADER_LEN];
        for ts in 1..=3 {
            append(&wal, ts, &put(ts));
            ends.push(wal.current_bytes());
        }
        drop(wal);
        let pristine = std::fs::read(&p).unwrap();
        // A flipped byte inside record 2 (synced before record 3 was written): corruption.
        let mut bytes = pristine.clone();
        bytes[ends[1] as usize + 12] ^= 0x01;
        std::fs::write(&p, &bytes).unwrap();
        let e = recover(&RealIo, &p, true).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert!(e.message().contains(&p.display().to_string()), "{e}");
        assert!(e.message().contains(&format!("offset {}", ends[1])), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "nothing truncated");
        // The same damage in the last record is a torn tail: cut off.
        let mut bytes = pristine.clone();
        bytes[ends[2] as usize + 12] ^= 0x01;
        std::fs::write(&p, &bytes).unwrap();
        let r = recover(&RealIo, &p, true).unwrap();
        assert_eq!(r.transactions.len(), 2);
        assert_eq!(r.end, ends[2]);
    }

    /// Whichever thread decodes a record (the reader, or the applier for every
    /// `DEFER_EVERY`-th), a record whose checksum matches but whose content is invalid is
    /// CORRUPT at its offset, and exactly the records before it are applied.
    #[test]
    fn invalid_content_is_corrupt_at_its_offset_whichever_thread_decodes_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let wal = fresh(&p, SyncMode::Full);
        let mut ends = vec![HEADER_LEN];
        for ts in 1..=7 {
            append(&wal, ts, &put(ts));
            ends.push(wal.current_bytes());
        }
        drop(wal);
        let pristine = std::fs::read(&p).unwrap();
        let mut seen = Vec::new();
        recover_each(&RealIo, &p, false, |ts, changes| {
            seen.push((ts, changes));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (1..=7).map(|ts| (ts, put(ts))).collect::<Vec<_>>());
        for (k, &at) in ends[..7].iter().enumerate() {
            let mut bytes = pristine.clone();
            let at = at as usize;
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            // frame 8 | marker 8 | ts 8 | change count 1 | change tag: an unknown tag.
            bytes[at + 25] = 0xEE;
            let crc = crc32c::crc32c(&bytes[at + 8..at + 8 + len]);
            bytes[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
            std::fs::write(&p, &bytes).unwrap();
            let mut applied = 0;
            let e = recover_each(&RealIo, &p, true, |_, _| {
                applied += 1;
                Ok(())
            })
            .err()
            .unwrap_or_else(|| panic!("record {k}: recovered"));
            assert_eq!(e.kind(), ErrorKind::Corrupt, "record {k}: {e}");
            assert!(
                e.message().contains(&format!("offset {at}")),
                "record {k}: {e}"
            );
            assert_eq!(applied, k, "record {k}: only the records before it");
            assert_eq!(std::fs::read(&p).unwrap(), bytes, "nothing truncated");
        }
    }

    #[test]
    fn a_format_1_log_keeps_format_1_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let mut v1 = MAGIC.to_vec();
        v1.extend_from_slice(&1u32.to_le_bytes());
        v1.extend_from_slice(&0u32.to_le_bytes());
        std::fs::write(&p, &v1).unwrap();
        let r = recover(&RealIo, &p, true).unwrap();
        assert_eq!(r.version, 1);
        let wal = Wal::open(&RealIo, &p, &r, SyncMode::Full).unwrap();
        append(&wal, 1, &put(1));
        append(&wal, 2, &put(2));
        drop(wal);
        let r = recover(&RealIo, &p, false).unwrap();
        assert_eq!(r.transactions, vec![(1, put(1)), (2, put(2))]);
    }

    #[test]
    fn early_damage_in_a_long_log_is_found_in_linear_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wal.log");
        let wal = fresh(&p, SyncMode::Off);
        let n = 50_000;
        for ts in 1..=n {
            wal.write(ts, &put(ts)).unwrap();
        }
        drop(wal);
        // sync=off never synced, so every marker says "synced up to the header": damage is
        // indistinguishable from a torn tail and is cut off.
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[HEADER_LEN as usize + 40] ^= 0x10;
        std::fs::write(&p, &bytes).unwrap();
        let started = std::time::Instant::now();
        let r = recover(&RealIo, &p, false).unwrap();
        assert_eq!(r.transactions.len(), 1);
        // Synced logs: damage early on is reported.
        let wal = Wal::open(
            &RealIo,
            &p,
            &recover(&RealIo, &p, true).unwrap(),
            SyncMode::Full,
        )
        .unwrap();
        for ts in 2..=2000 {
            let t = wal.write(ts, &put(ts)).unwrap();
            if ts % 100 == 0 {
                wal.wait_durable(t).unwrap();
            }
        }
        drop(wal);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[HEADER_LEN as usize + 50] ^= 0x10;
        std::fs::write(&p, &bytes).unwrap();
        let e = recover(&RealIo, &p, false).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
        println!(
            "damage checks over {} bytes took {:?}",
            bytes.len(),
            started.elapsed()
        );
    }
}
