//! The I/O seam: every file operation of the log and the database directory goes through
//! [`Io`] and [`IoFile`], so tests can inject faults and simulate power loss.
//!
//! [`RealIo`] is the operating system; [`sim::SimIo`] is an in-memory file system that fails
//! the Nth operation on request (EIO, ENOSPC, short and torn writes, EIO on fsync) and can
//! produce the image a power cut would leave: only what was synced, with torn sectors where
//! unsynced writes were in flight.
//!
//! Files are accessed by position (`read_at`/`write_at`), never through a shared cursor, so
//! one handle can be written by a committer while another thread syncs it.

mod direct;
pub mod sim;

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// How to open a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Existing file, read only.
    Read,
    /// Existing file, read and write.
    ReadWrite,
    /// A new file, read and write; fails if it exists.
    CreateNew,
    /// Read and write, created if missing, contents kept.
    CreateOrOpen,
    /// Read and write, created if missing, truncated.
    CreateTruncate,
}

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
}

/// File-system operations (the directory side).
pub trait Io: Send + Sync {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn IoFile>>;
    /// `None` when nothing exists at `path`.
    fn kind(&self, path: &Path) -> io::Result<Option<FileKind>>;
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Names of the entries of directory `path`.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<OsString>>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Makes creations, renames and removals in directory `path` durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// What identifies the file now at `path` and its content version (inode, size, change
    /// times), so that a reader can tell with one `stat` whether a file replaced by rename
    /// changed. `None`: unknown, assume it changed (the default).
    fn stamp(&self, _path: &Path) -> io::Result<Option<FileStamp>> {
        Ok(None)
    }
}

/// See [`Io::stamp`]: equal stamps mean the same, unchanged file.
pub type FileStamp = [i64; 6];

/// One open file.
pub trait IoFile: Send + Sync {
    fn size(&self) -> io::Result<u64>;
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// May write fewer bytes than given (a short write); see [`write_all_at`].
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize>;
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// Reserves disk space for the first `len` bytes (fallocate): a shorter file grows to
    /// `len`, the new bytes reading as zeros. Writes inside the reserved space leave the
    /// file's size alone, so their fdatasync has no size change to journal. On failure the
    /// file may have grown by part of the way (zeros).
    fn allocate(&self, len: u64) -> io::Result<()>;
    /// Makes the file's data durable (fdatasync).
    fn sync_data(&self) -> io::Result<()>;
    /// Writes all of `buf` at `offset` and makes the file's data durable, as
    /// [`write_all_at`] and then `sync_data` do (the default), earlier writes included. The
    /// operating system's files do it in one direct write where they can (src/vfs/direct.rs).
    fn write_durable_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        write_all_and_sync(self, buf, offset)
    }
    /// Makes the file's data and metadata durable (fsync).
    fn sync_all(&self) -> io::Result<()>;
    /// Takes an exclusive advisory lock without waiting; `false` if another holder has it.
    /// Released when the handle is dropped.
    fn try_lock_exclusive(&self) -> io::Result<bool>;
    /// Takes a shared advisory lock without waiting; `false` if an exclusive holder has it.
    /// Released when the handle is dropped. (Readers hold one on every file they use, so the
    /// writer never deletes it under them.)
    fn try_lock_shared(&self) -> io::Result<bool>;
    /// Marks a log the writer will never append to again (it rotated away from it), so that
    /// read-only processes following it learn that from the fstat they make anyway
    /// (`size_and_final`). Best effort: the default does nothing.
    fn mark_final(&self) -> io::Result<()> {
        Ok(())
    }
    /// The file's length and whether it is marked final (`mark_final`); `None` when this
    /// implementation cannot tell (the default).
    fn size_and_final(&self) -> io::Result<(u64, Option<bool>)> {
        Ok((self.size()?, None))
    }
    /// The operating-system file behind this handle, when there is one (for memory-mapping
    /// base images); `None` for simulated files, which are read instead.
    fn as_std_file(&self) -> Option<&File> {
        None
    }
}

/// `write_all_at`, then `sync_data`: the plain way to write durably.
fn write_all_and_sync<F: IoFile + ?Sized>(f: &F, buf: &[u8], offset: u64) -> io::Result<()> {
    write_all_at(f, buf, offset)?;
    f.sync_data()
}

/// Writes all of `buf` at `offset`, continuing after short writes.
pub fn write_all_at<F: IoFile + ?Sized>(f: &F, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match f.write_at(buf, offset) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "wrote no bytes")),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads up to `buf.len()` bytes at `offset`; fewer only at the end of the file.
pub fn read_full_at(f: &dyn IoFile, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The whole content of the file at `path`.
pub fn read_file(io: &dyn Io, path: &Path) -> io::Result<Vec<u8>> {
    let f = io.open(path, OpenMode::Read)?;
    let len = usize::try_from(f.size()?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))?;
    let mut buf = vec![0u8; len];
    let n = read_full_at(&*f, &mut buf, 0)?;
    buf.truncate(n);
    Ok(buf)
}

/// A sequential reader over a file (for buffering with `std::io::BufReader`).
pub struct FileReader<'a> {
    file: &'a dyn IoFile,
    pos: u64,
}

impl<'a> FileReader<'a> {
    pub fn new(file: &'a dyn IoFile, pos: u64) -> FileReader<'a> {
        FileReader { file, pos }
    }
}

impl io::Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealIo;

struct RealFile {
    file: File,
    /// For files opened for writing (used by `write_durable_at` only).
    direct: Option<direct::DirectWriter>,
}

impl Io for RealIo {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn IoFile>> {
        let mut o = OpenOptions::new();
        match mode {
            OpenMode::Read => o.read(true),
            OpenMode::ReadWrite => o.read(true).write(true),
            OpenMode::CreateNew => o.read(true).write(true).create_new(true),
            OpenMode::CreateOrOpen => o.read(true).write(true).create(true).truncate(false),
            OpenMode::CreateTruncate => o.read(true).write(true).create(true).truncate(true),
        };
        let direct = (mode != OpenMode::Read).then(|| direct::DirectWriter::new(path));
        Ok(Box::new(RealFile {
            file: o.open(path)?,
            direct,
        }))
    }

    fn kind(&self, path: &Path) -> io::Result<Option<FileKind>> {
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => Ok(Some(FileKind::Dir)),
            Ok(_) => Ok(Some(FileKind::File)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }

    fn stamp(&self, path: &Path) -> io::Result<Option<FileStamp>> {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(path)?;
        // Inode numbers can be reused by a later replacement; the times and size make an
        // exact repeat of all six practically impossible.
        Ok(Some([
            m.ino() as i64,
            m.size() as i64,
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        ]))
    }
}

impl RealFile {
    /// Before a write or size change through this handle (see `direct::DirectWriter`).
    fn wrote(&self) {
        if let Some(d) = &self.direct {
            d.wrote();
        }
    }

    /// Runs a sync of this handle, recording what it covered.
    fn synced_by(&self, sync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let covered = self.direct.as_ref().map(|d| d.writes());
        sync()?;
        if let (Some(d), Some(n)) = (&self.direct, covered) {
            d.synced(n);
        }
        Ok(())
    }
}

impl IoFile for RealFile {
    fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.file.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize> {
        self.wrote();
        self.file.write_at(buf, offset)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.wrote();
        self.file.set_len(len)
    }
    fn allocate(&self, len: u64) -> io::Result<()> {
        // A size change: a direct write's own sync would most likely cover it too, but the
        // next durable write goes the ordinary way to leave no doubt (once per reservation).
        self.wrote();
        fs4::fs_std::FileExt::allocate(&self.file, len)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.synced_by(|| self.file.sync_data())
    }
    fn sync_all(&self) -> io::Result<()> {
        self.synced_by(|| self.file.sync_all())
    }
    fn write_durable_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        if let Some(d) = &self.direct {
            if d.write_durable(&self.file, buf, offset)? {
                return Ok(());
            }
        }
        write_all_and_sync(self, buf, offset)
    }
    fn try_lock_exclusive(&self) -> io::Result<bool> {
        fs4::fs_std::FileExt::try_lock_exclusive(&self.file)
    }
    fn try_lock_shared(&self) -> io::Result<bool> {
        fs4::fs_std::FileExt::try_lock_shared(&self.file)
    }
    fn as_std_file(&self) -> Option<&File> {
        Some(&self.file)
    }
    /// Final = no write permission left (fchmod 0444): visible in every fstat.
    fn mark_final(&self) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        self.file.set_permissions(fs::Permissions::from_mode(0o444))
    }
    fn size_and_final(&self) -> io::Result<(u64, Option<bool>)> {
        use std::os::unix::fs::PermissionsExt;
        let m = self.file.metadata()?;
        Ok((m.len(), Some(m.permissions().mode() & 0o222 == 0)))
    }
}
