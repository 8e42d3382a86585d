//! The database directory: which files make up the database, and who may write it.
//!
//! Files:
//! - `graphdb.meta`: the manifest (JSON: format version and the current log's file name),
//!   replaced atomically (write temp, fsync, rename, fsync directory).
//! - `wal-NNNNNN.log`: the redo log named by the manifest.
//! - `LOCK`: holds the read-write process's exclusive lock (flock) and its pid, so a second
//!   writer — another process, or another open in this one — is refused with `LOCKED` naming
//!   the holder. Read-only openers take no lock and never write.
//!
//! Every file operation goes through the I/O seam (`vfs::Io`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::vfs::{self, FileKind, Io, IoFile, OpenMode};

const MANIFEST: &str = "graphdb.meta";
const MANIFEST_TMP: &str = "graphdb.meta.tmp";
const LOCK: &str = "LOCK";
const FIRST_WAL: &str = "wal-000001.log";
/// The directory format this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;
/// A manifest longer than this is damage, not read.
const MAX_MANIFEST: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    /// Exclusive: one read-write opener per directory at a time.
    ReadWrite,
    /// Shared: never writes, may run beside a read-write process.
    ReadOnly,
}

/// An opened database directory; holds the writer lock (read-write) until dropped.
pub struct DbDir {
    io: Arc<dyn Io>,
    root: PathBuf,
    wal_name: String,
    /// Kept open for its lock; closing the file releases the lock.
    _lock: Option<Box<dyn IoFile>>,
}

impl DbDir {
    /// Opens (with `create`, creates) the database directory at `root`. A read-write open
    /// waits up to `busy_timeout` for another writer to let go, then fails with `LOCKED`.
    pub fn open(
        io: Arc<dyn Io>,
        root: &Path,
        mode: AccessMode,
        create: bool,
        busy_timeout: Duration,
    ) -> Result<DbDir> {
        let shown = root.display();
        match io.kind(root) {
            Ok(Some(FileKind::File)) => {
                return Err(Error::invalid_argument(format!(
                    "{shown} is a file, not a database directory"
                )))
            }
            Ok(Some(FileKind::Dir)) => {}
            Ok(None) => {
                if mode == AccessMode::ReadOnly || !create {
                    return Err(Error::new(
                        ErrorKind::Error,
                        format!("no database at {shown}; open it read-write with create=true to create one"),
                    ));
                }
                io.create_dir_all(root)
                    .map_err(|e| Error::io(format!("creating directory {shown}"), &e))?;
            }
            Err(e) => return Err(Error::io(format!("inspecting {shown}"), &e)),
        }
        let manifest_path = root.join(MANIFEST);
        let has_manifest = exists(&*io, &manifest_path)?;
        if !has_manifest && !is_initializable(&*io, root)? {
            return Err(Error::invalid_argument(format!(
                "{shown} is not a libgraphdb database (it has no {MANIFEST} and is not empty); \
                 refusing to touch it"
            )));
        }
        let lock = match mode {
            AccessMode::ReadWrite => Some(take_writer_lock(&*io, root, busy_timeout)?),
            AccessMode::ReadOnly => None,
        };
        if !exists(&*io, &manifest_path)? {
            if mode == AccessMode::ReadOnly || !create {
                return Err(Error::new(
                    ErrorKind::Error,
                    format!("{shown} holds no database yet; open it read-write with create=true to create one"),
                ));
            }
            initialize(&*io, root)?;
        }
        let wal_name = read_manifest(&*io, &manifest_path)?;
        if !exists(&*io, &root.join(&wal_name))? {
            return Err(Error::corrupt(format!(
                "{} names the log {wal_name}, which is missing from {shown}",
                manifest_path.display()
            )));
        }
        Ok(DbDir {
            io,
            root: root.to_owned(),
            wal_name,
            _lock: lock,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The I/O implementation every file operation of this database goes through.
    pub fn io(&self) -> &Arc<dyn Io> {
        &self.io
    }

    /// The current log file.
    pub fn wal_path(&self) -> PathBuf {
        self.root.join(&self.wal_name)
    }
}

fn exists(io: &dyn Io, path: &Path) -> Result<bool> {
    io.kind(path)
        .map(|k| k.is_some())
        .map_err(|e| Error::io(format!("inspecting {}", path.display()), &e))
}

/// Whether `root` holds nothing but what an interrupted initialization may have left.
fn is_initializable(io: &dyn Io, root: &Path) -> Result<bool> {
    let entries = io
        .list_dir(root)
        .map_err(|e| Error::io(format!("listing {}", root.display()), &e))?;
    Ok(entries
        .iter()
        .all(|name| [LOCK, MANIFEST_TMP, FIRST_WAL].iter().any(|n| name == *n)))
}

fn initialize(io: &dyn Io, root: &Path) -> Result<()> {
    for leftover in [MANIFEST_TMP, FIRST_WAL] {
        let p = root.join(leftover);
        if exists(io, &p)? {
            io.remove_file(&p)
                .map_err(|e| Error::io(format!("removing {}", p.display()), &e))?;
        }
    }
    crate::wal::create(io, &root.join(FIRST_WAL))?;
    let manifest = serde_json::json!({ "format": FORMAT_VERSION, "wal": FIRST_WAL });
    write_atomically(io, root, MANIFEST, manifest.to_string().as_bytes())
}

/// Replaces `root/name` with `bytes` so that a crash leaves either the old or the new file;
/// on return the new file and its name are durable.
pub fn write_atomically(io: &dyn Io, root: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = root.join(format!("{name}.tmp"));
    let dest = root.join(name);
    let err =
        |what: &str, p: &Path, e: std::io::Error| Error::io(format!("{what} {}", p.display()), &e);
    let f = io
        .open(&tmp, OpenMode::CreateTruncate)
        .map_err(|e| err("creating", &tmp, e))?;
    vfs::write_all_at(&*f, bytes, 0)
        .and_then(|_| f.sync_all())
        .map_err(|e| err("writing", &tmp, e))?;
    drop(f);
    io.rename(&tmp, &dest)
        .map_err(|e| err("renaming into place", &dest, e))?;
    sync_dir(io, root)
}

/// Makes a rename or file creation in `root` durable.
pub fn sync_dir(io: &dyn Io, root: &Path) -> Result<()> {
    io.sync_dir(root)
        .map_err(|e| Error::io(format!("syncing directory {}", root.display()), &e))
}

fn read_manifest(io: &dyn Io, path: &Path) -> Result<String> {
    let bytes = vfs::read_file(io, path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
    let damaged = |what: &str| Error::corrupt(format!("{} is damaged: {what}", path.display()));
    if bytes.len() > MAX_MANIFEST {
        return Err(damaged(&format!("{} bytes long", bytes.len())));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        damaged(&format!(
            "invalid UTF-8 at offset {}; restore it from a backup",
            e.valid_up_to()
        ))
    })?;
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        // Byte offset of serde's line/column (lines end in '\n').
        let offset: usize = text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum::<usize>()
            + e.column().saturating_sub(1);
        damaged(&format!(
            "not valid JSON at offset {offset} ({e}); restore it from a backup"
        ))
    })?;
    let format = json
        .get("format")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| damaged("no format version"))?;
    if format > FORMAT_VERSION {
        return Err(Error::new(
            ErrorKind::Error,
            format!(
                "{} was written by a newer libgraphdb (format {format}; this build reads up to \
                 {FORMAT_VERSION}); open it with a newer version",
                path.display()
            ),
        ));
    }
    if format == 0 {
        return Err(damaged("format version 0"));
    }
    let wal = json
        .get("wal")
        .and_then(|v| v.as_str())
        .filter(|w| !w.is_empty() && !w.contains(['/', '\\', '\0']) && *w != "." && *w != "..")
        .ok_or_else(|| damaged("no valid log file name"))?;
    Ok(wal.to_owned())
}

fn take_writer_lock(io: &dyn Io, root: &Path, busy_timeout: Duration) -> Result<Box<dyn IoFile>> {
    let path = root.join(LOCK);
    let file = io.open(&path, OpenMode::CreateOrOpen).map_err(|e| {
        let not_writable = e.raw_os_error() == Some(libc::EROFS)
            || e.kind() == std::io::ErrorKind::PermissionDenied;
        if not_writable {
            Error::new(
                ErrorKind::Io,
                format!(
                    "cannot open the database at {} for writing ({e}): the file system is \
                     read-only or the directory is not writable; open it with \
                     access_mode=read_only",
                    root.display()
                ),
            )
        } else {
            Error::io(format!("opening {}", path.display()), &e)
        }
    })?;
    let deadline = Instant::now() + busy_timeout;
    loop {
        match file.try_lock_exclusive() {
            Ok(true) => break,
            Ok(false) => {
                if Instant::now() >= deadline {
                    let mut holder = vec![0u8; 32];
                    let n = vfs::read_full_at(&*file, &mut holder, 0).unwrap_or(0);
                    let holder = String::from_utf8_lossy(&holder[..n]);
                    let holder = holder.trim();
                    let who = match holder.parse::<u32>() {
                        Ok(pid) if pid == std::process::id() => {
                            format!("this process (pid {pid}) already has it open read-write")
                        }
                        Ok(pid) => format!("process {pid} has it open read-write"),
                        Err(_) => "another process has it open read-write".to_owned(),
                    };
                    return Err(Error::new(
                        ErrorKind::Locked,
                        format!(
                            "the database at {} is locked: {who}; close it there, open with \
                             access_mode=read_only, or set busy_timeout_ms to wait",
                            root.display()
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(Error::io(format!("locking {}", path.display()), &e)),
        }
    }
    file.set_len(0)
        .and_then(|_| vfs::write_all_at(&*file, std::process::id().to_string().as_bytes(), 0))
        .map_err(|e| Error::io(format!("writing {}", path.display()), &e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::RealIo;
    use std::fs;

    fn real() -> Arc<dyn Io> {
        Arc::new(RealIo)
    }

    /// Opens `db` read-write (creating it) and returns the error it must fail with.
    fn open_err(db: &Path) -> Error {
        DbDir::open(real(), db, AccessMode::ReadWrite, true, Duration::ZERO)
            .err()
            .unwrap()
    }

    #[test]
    fn creates_reopens_and_excludes_a_second_writer() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("db");
        let d = DbDir::open(real(), &root, AccessMode::ReadWrite, true, Duration::ZERO).unwrap();
        assert!(d.wal_path().exists());
        let e = DbDir::open(real(), &root, AccessMode::ReadWrite, true, Duration::ZERO)
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::Locked);
        assert!(e.message().contains(&std::process::id().to_string()), "{e}");
        let ro = DbDir::open(real(), &root, AccessMode::ReadOnly, false, Duration::ZERO);
        assert!(ro.is_ok(), "a reader may open beside the writer");
        drop(d);
        DbDir::open(real(), &root, AccessMode::ReadWrite, false, Duration::ZERO).unwrap();
    }

    #[test]
    fn refuses_foreign_directories_files_and_newer_formats() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("notes.txt"), "mine").unwrap();
        let e = DbDir::open(
            real(),
            t.path(),
            AccessMode::ReadWrite,
            true,
            Duration::ZERO,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            !t.path().join(LOCK).exists(),
            "a foreign directory is left untouched"
        );
        let e = DbDir::open(
            real(),
            &t.path().join("notes.txt"),
            AccessMode::ReadWrite,
            true,
            Duration::ZERO,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let db = t.path().join("db");
        drop(DbDir::open(real(), &db, AccessMode::ReadWrite, true, Duration::ZERO).unwrap());
        fs::write(
            db.join(MANIFEST),
            r#"{"format": 7, "wal": "wal-000001.log"}"#,
        )
        .unwrap();
        let e = open_err(&db);
        assert!(e.message().contains("newer libgraphdb"), "{e}");
        fs::write(
            db.join(MANIFEST),
            r#"{"format": 1, "wal": "wal-000009.log"}"#,
        )
        .unwrap();
        let e = open_err(&db);
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        let e = DbDir::open(
            real(),
            &t.path().join("absent"),
            AccessMode::ReadOnly,
            true,
            Duration::ZERO,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::Error);
        fs::write(
            db.join(MANIFEST),
            r#"{"format": 1, "wal" "wal-000001.log"}"#,
        )
        .unwrap();
        let e = open_err(&db);
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert!(e.message().contains("graphdb.meta"), "{e}");
        assert!(e.message().contains("at offset 20"), "{e}");
    }
}
