//! Following a log that another process appends to (read-only processes).
//!
//! A `LogTail` holds the log open with a shared lock (so the writer never removes it while it
//! is read) and the offset of the first byte not yet read. Each `read_new` reads the complete,
//! checksum-valid records from there to the file's current end and stops at the first one
//! that is not: the writer may be in the middle of appending it, so nothing is truncated and
//! the next call tries again from the same offset. Bytes that fail their checksum although a
//! later valid record proves they had been synced are damage (`Corrupt`, naming the file and
//! the offset), exactly as in recovery.
//!
//! The writer reserves space ahead of its appends, so the file normally extends past the
//! last record with zeros. A zero frame at the offset is that reserved space, not yet
//! written: one 8-byte read tells, and the next call looks again. Whether written bytes
//! follow the zeros (synced records zeroed by damage, with later records after them) is
//! checked once per file length seen: the writer reserves more as it writes on, so the
//! length changes (or the log becomes final, which is checked in full) and the proof is
//! found then.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::{check_header, check_tail_is_torn, read_record, HEADER_LEN};
use crate::error::{Error, Result};
use crate::storage::Change;
use crate::vfs::{self, FileReader, Io, IoFile, OpenMode};

/// Read buffers never exceed this (a catch-up usually reads a few records, followed by
/// reserved space that need not be read).
const MAX_BUFFER: u64 = 64 << 10;

pub struct LogTail {
    /// Holds a shared lock for as long as this lives.
    file: Box<dyn IoFile>,
    path: PathBuf,
    version: u32,
    /// Just past the last complete record read.
    offset: u64,
    /// Newest commit timestamp read from this log (0: none yet).
    last_ts: u64,
    /// See `is_final`.
    final_mark: Option<bool>,
    /// The file length at which zeros at the offset were last found to be reserved space with
    /// no written bytes after them (see the module comment).
    zeros_checked: Option<u64>,
}

impl LogTail {
    /// Opens and share-locks the log at `path`, positioned after `offset` (where recovery
    /// stopped; the header's length for a log not read yet), whose newest commit read so far
    /// is `last_ts`. `None` when the file is gone or the writer holds it to remove it.
    pub fn open(io: &dyn Io, path: &Path, offset: u64, last_ts: u64) -> Result<Option<LogTail>> {
        let file = match io.open(path, OpenMode::Read) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("opening {}", path.display()), &e)),
        };
        match file.try_lock_shared() {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) => return Err(Error::io(format!("locking {}", path.display()), &e)),
        }
        let mut header = [0u8; HEADER_LEN as usize];
        let n = vfs::read_full_at(&*file, &mut header, 0)
            .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
        let version = check_header(&header[..n], path)?;
        Ok(Some(LogTail {
            file,
            path: path.to_owned(),
            version,
            offset: offset.max(HEADER_LEN),
            last_ts,
            final_mark: None,
            zeros_checked: None,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Newest commit timestamp read from this log (0: none).
    pub fn last_ts(&self) -> u64 {
        self.last_ts
    }

    /// The file's current length (one fstat).
    pub fn file_len(&self) -> Result<u64> {
        self.file
            .size()
            .map_err(|e| Error::io(format!("reading {}", self.path.display()), &e))
    }

    /// Whether the writer marked this log final (it rotated away; `None`: cannot tell), as
    /// of the last `read_new`, which read it from the same fstat as the length.
    pub fn is_final(&self) -> Option<bool> {
        self.final_mark
    }

    /// Whether anything was ever appended after the header: the writer appends to a log only
    /// once it has rotated to it, so then every earlier log is final.
    pub fn has_appends(&self) -> Result<bool> {
        Ok(self.file_len()? > HEADER_LEN)
    }

    /// Hands every complete record between the offset and the current end to `apply`, in
    /// order, advancing past each one `apply` accepts; returns how many. Stops without error
    /// at an incomplete or checksum-failing record unless that is provably damage.
    pub fn read_new(
        &mut self,
        mut apply: impl FnMut(u64, Vec<Change>) -> Result<()>,
    ) -> Result<u64> {
        // One fstat gives both: a log seen final has its final length then.
        let (len, final_mark) = self
            .file
            .size_and_final()
            .map_err(|e| Error::io(format!("reading {}", self.path.display()), &e))?;
        self.final_mark = final_mark;
        if len < self.offset {
            return Err(Error::corrupt(format!(
                "{} shrank to {len} bytes below the {} already read; the writer cut records \
                 this process had read; reopen the database",
                self.path.display(),
                self.offset
            )));
        }
        if len == self.offset {
            return Ok(0);
        }
        if self.zero_frame()? {
            self.check_zeros(len)?;
            return Ok(0);
        }
        let unread = len - self.offset;
        let mut r = BufReader::with_capacity(
            unread.min(MAX_BUFFER) as usize,
            FileReader::new(&*self.file, self.offset).take(unread),
        );
        let mut n = 0;
        while let Some(p) = read_record(&mut r, self.offset, len, self.version, &self.path)? {
            if p.ts <= self.last_ts {
                return Err(super::bad_content(
                    &self.path,
                    self.offset,
                    &format!("commit timestamp {} does not follow {}", p.ts, self.last_ts),
                ));
            }
            apply(p.ts, p.changes)?;
            self.offset += p.len;
            self.last_ts = p.ts;
            n += 1;
        }
        if self.offset < len {
            if self.zero_frame()? {
                self.check_zeros(len)?;
            } else {
                self.check_unread(len)?;
            }
        }
        Ok(n)
    }

    /// Whether the 8 bytes at the offset are zeros (a frame no record can have).
    fn zero_frame(&self) -> Result<bool> {
        let mut frame = [0u8; 8];
        let got = vfs::read_full_at(&*self.file, &mut frame, self.offset)
            .map_err(|e| Error::io(format!("reading {}", self.path.display()), &e))?;
        Ok(got == 8 && frame == [0u8; 8])
    }

    /// The frame at the offset is zeros: reserved space not written yet, unless written bytes
    /// after it prove damage — checked once per file length (see the module comment).
    fn check_zeros(&mut self, len: u64) -> Result<()> {
        if self.zeros_checked == Some(len) {
            return Ok(());
        }
        self.check_unread(len)?;
        self.zeros_checked = Some(len);
        Ok(())
    }

    /// The record at the offset could not be read. Incomplete is "not yet"; complete but
    /// failing its checksum is either a write racing this read or damage, which a later valid
    /// record proves (it was written after this one had been synced). Since the writer
    /// appends in order, once such a later record is seen this one's bytes are final: a
    /// fresh read of them decides.
    fn check_unread(&self, len: u64) -> Result<()> {
        let mut frame = [0u8; 8];
        let n = vfs::read_full_at(&*self.file, &mut frame, self.offset)
            .map_err(|e| Error::io(format!("reading {}", self.path.display()), &e))?;
        if n < 8 {
            return Ok(());
        }
        let claimed = u64::from(u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]));
        if self.offset + 8 + claimed > len && claimed <= u64::from(super::MAX_RECORD) {
            return Ok(());
        }
        let verdict = self.torn_after_offset(len);
        if verdict.is_ok() {
            return Ok(());
        }
        let mut again = FileReader::new(&*self.file, self.offset).take(len - self.offset);
        match read_record(&mut again, self.offset, len, self.version, &self.path)? {
            Some(_) => Ok(()),
            None => verdict,
        }
    }

    /// Ok when the bytes from the offset to `len` are a torn tail; `Corrupt` when a later
    /// valid record proves they had been synced (see `check_tail_is_torn`).
    fn torn_after_offset(&self, len: u64) -> Result<()> {
        check_tail_is_torn(
            &*self.file,
            &self.path,
            self.offset,
            len,
            self.version,
            self.last_ts,
        )
        .map(|_| ())
    }

    /// For a log the writer will never append to again (a later one has records): whatever
    /// follows the last complete record must be a torn tail, not damage.
    pub fn check_final(&self) -> Result<()> {
        let len = self.file_len()?;
        if len > self.offset {
            self.torn_after_offset(len)?;
        }
        Ok(())
    }
}
