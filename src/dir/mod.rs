//! The database directory: which files make up the database, and who may write it.
//!
//! Files:
//! - `graphdb.meta`: the manifest (JSON: format version, the current base image if any, and
//!   the log files to replay after it, oldest first), replaced atomically (write temp, fsync,
//!   rename, fsync directory). It always describes a complete state: base + logs.
//! - `base-NNNNNN.gdb`: a base image written by a checkpoint (see `checkpoint`).
//! - `wal-NNNNNN.log`: redo logs; the last one named is the one being appended to. Numbers
//!   only grow, so a name is never reused.
//! - `LOCK`: holds the read-write process's exclusive lock (flock) and its pid, so a second
//!   writer — another process, or another open in this one — is refused with `LOCKED` naming
//!   the holder. A flock belongs to the open file, which a forked child's copy of the
//!   descriptor shares until its exec closes it (the file is opened close-on-exec): a process
//!   that starts children may find its own lock held for that moment after closing the
//!   database, so reopening right after a close wants a `busy_timeout_ms`.
//!
//! Read-only openers take no `LOCK`; instead they hold a shared lock on every base and log
//! file they load, taken after reading the manifest and confirmed by reading it again (a
//! checkpoint may switch it in between: then they retry). Once loaded, only the log being
//! followed stays locked (see `follow`). The writer deletes a file the
//! manifest no longer names only if it can lock it exclusively at once; otherwise the file
//! stays for a later checkpoint or open to remove.
//!
//! Every file operation goes through the I/O seam (`vfs::Io`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::vfs::{self, FileKind, Io, IoFile, OpenMode};

const MANIFEST: &str = "graphdb.meta";
const MANIFEST_TMP: &str = "graphdb.meta.tmp";
const LOCK: &str = "LOCK";
const FIRST_WAL: &str = "wal-000001.log";
/// The directory format this build writes; it reads this and format 1 (one log, no base).
pub const FORMAT_VERSION: u64 = 2;
/// How often a read-only open retries when a checkpoint switches files under it.
const READER_RETRIES: usize = 200;
/// A manifest longer than this is damage, not read.
const MAX_MANIFEST: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    /// Exclusive: one read-write opener per directory at a time.
    ReadWrite,
    /// Shared: never writes, may run beside a read-write process.
    ReadOnly,
}

/// The files that make up the database's state: a base image (if any) plus the logs to
/// replay after it, oldest first. The last log is the one appended to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<String>,
    pub wals: Vec<String>,
}

impl Manifest {
    fn to_json(&self) -> String {
        serde_json::json!({ "format": FORMAT_VERSION, "base": self.base, "wals": self.wals })
            .to_string()
    }

    /// Every file this manifest names.
    pub fn files(&self) -> impl Iterator<Item = &String> {
        self.base.iter().chain(self.wals.iter())
    }

    /// The log being appended to.
    pub fn current_wal(&self) -> &str {
        self.wals.last().map_or(FIRST_WAL, String::as_str)
    }
}

/// The log file with number `n`.
pub fn wal_name(n: u64) -> String {
    format!("wal-{n:06}.log")
}

/// The base image file with number `n`.
pub fn base_name(n: u64) -> String {
    format!("base-{n:06}.gdb")
}

/// The number in a log or base image file name (also of their temporary files).
pub fn file_number(name: &str) -> Option<u64> {
    let rest = name
        .strip_prefix("wal-")
        .or_else(|| name.strip_prefix("base-"))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let tail = &rest[digits.len()..];
    if digits.is_empty() || ![".log", ".gdb", ".gdb.tmp"].contains(&tail) {
        return None;
    }
    digits.parse().ok()
}

/// An opened database directory; holds the writer lock (read-write) until dropped.
pub struct DbDir {
    io: Arc<dyn Io>,
    root: PathBuf,
    manifest: Mutex<Manifest>,
    /// The next free file number.
    next_number: AtomicU64,
    /// Kept open for its lock; closing the file releases the lock.
    _lock: Option<Box<dyn IoFile>>,
    /// Read-only: the files of the manifest, each holding a shared lock, until the follower
    /// has loaded them and holds the log it reads (`release_held`).
    held: Mutex<Vec<Box<dyn IoFile>>>,
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
        let (manifest, held) = match mode {
            AccessMode::ReadWrite => {
                let m = read_manifest(&*io, &manifest_path)?;
                for name in m.files() {
                    if !exists(&*io, &root.join(name))? {
                        return Err(missing(&manifest_path, name, root));
                    }
                }
                (m, Vec::new())
            }
            AccessMode::ReadOnly => hold_for_reading(&*io, root, &manifest_path)?,
        };
        let mut next = 1;
        let entries = io
            .list_dir(root)
            .map_err(|e| Error::io(format!("listing {shown}"), &e))?;
        for name in &entries {
            if let Some(n) = name.to_str().and_then(file_number) {
                next = next.max(n + 1);
            }
        }
        Ok(DbDir {
            io,
            root: root.to_owned(),
            manifest: Mutex::new(manifest),
            next_number: AtomicU64::new(next),
            _lock: lock,
            held: Mutex::new(held),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The I/O implementation every file operation of this database goes through.
    pub fn io(&self) -> &Arc<dyn Io> {
        &self.io
    }

    /// The current manifest.
    pub fn manifest(&self) -> Manifest {
        self.manifest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Read-only: lets go of the files held since open (the state they hold is in memory and
    /// the follower holds the log it reads), so that the writer can remove them.
    pub fn release_held(&self) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Read-only: reads the current manifest and share-locks every file it names (retrying
    /// while a checkpoint switches them); the files stay until the returned handles drop.
    pub fn hold(&self) -> Result<(Manifest, Vec<Box<dyn IoFile>>)> {
        hold_for_reading(&*self.io, &self.root, &self.root.join(MANIFEST))
    }

    /// The manifest as it is on disk now (read-only processes follow it).
    pub fn read_manifest(&self) -> Result<Manifest> {
        read_manifest(&*self.io, &self.root.join(MANIFEST))
    }

    /// Identifies the manifest on disk now (see `Io::stamp`); `None` when unknown.
    pub fn manifest_stamp(&self) -> Result<Option<vfs::FileStamp>> {
        let path = self.root.join(MANIFEST);
        self.io
            .stamp(&path)
            .map_err(|e| Error::io(format!("inspecting {}", path.display()), &e))
    }

    /// The path of a file of this database.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The current log file.
    pub fn wal_path(&self) -> PathBuf {
        self.root.join(self.manifest().current_wal())
    }

    /// A file number no file of this directory has used.
    pub fn take_number(&self) -> u64 {
        self.next_number.fetch_add(1, Ordering::Relaxed)
    }

    /// Replaces the manifest durably (temp, fsync, rename, fsync directory). On error the
    /// manifest on disk is the old one or the new one (both complete states); the in-memory
    /// copy stays the old one.
    pub fn install_manifest(&self, m: Manifest) -> Result<()> {
        write_atomically(&*self.io, &self.root, MANIFEST, m.to_json().as_bytes())?;
        *self.manifest.lock().unwrap_or_else(|e| e.into_inner()) = m;
        Ok(())
    }

    /// Removes the base images and logs (and leftover temporary files) the manifest does not
    /// name, each only if no reader holds it (an exclusive lock is free at once). Returns how
    /// many files were removed and how many were left for later because a reader holds them.
    /// Failures only leave files behind; they are never errors.
    pub fn remove_unneeded(&self) -> (usize, usize) {
        let m = self.manifest();
        let Ok(entries) = self.io.list_dir(&self.root) else {
            return (0, 0);
        };
        let (mut removed, mut kept) = (0, 0);
        for name in entries.iter().filter_map(|n| n.to_str()) {
            if file_number(name).is_none() || m.files().any(|f| f == name) {
                continue;
            }
            let path = self.root.join(name);
            let Ok(f) = self.io.open(&path, OpenMode::Read) else {
                continue;
            };
            match f.try_lock_exclusive() {
                Ok(true) => {
                    if self.io.remove_file(&path).is_ok() {
                        removed += 1;
                    }
                }
                _ => kept += 1,
            }
        }
        (removed, kept)
    }
}

fn missing(manifest_path: &Path, name: &str, root: &Path) -> Error {
    Error::corrupt(format!(
        "{} names {name}, which is missing from {}; restore the database from a backup",
        manifest_path.display(),
        root.display()
    ))
}

/// Read-only: takes a shared lock on every file the manifest names, confirming afterwards
/// that the manifest still names them (a checkpoint in the writer may have switched it and
/// removed them in between; then this retries).
fn hold_for_reading(
    io: &dyn Io,
    root: &Path,
    manifest_path: &Path,
) -> Result<(Manifest, Vec<Box<dyn IoFile>>)> {
    let mut last_missing = None;
    for _ in 0..READER_RETRIES {
        let m = read_manifest(io, manifest_path)?;
        let mut held = Vec::new();
        let mut complete = true;
        for name in m.files() {
            let path = root.join(name);
            match io.open(&path, OpenMode::Read) {
                Ok(f) => match f.try_lock_shared() {
                    Ok(true) => held.push(f),
                    // The writer is removing it right now.
                    Ok(false) => complete = false,
                    Err(e) => return Err(Error::io(format!("locking {}", path.display()), &e)),
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    last_missing = Some(name.clone());
                    complete = false;
                }
                Err(e) => return Err(Error::io(format!("opening {}", path.display()), &e)),
            }
            if !complete {
                break;
            }
        }
        if complete && read_manifest(io, manifest_path)? == m {
            return Ok((m, held));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    match last_missing {
        Some(name) => Err(missing(manifest_path, &name, root)),
        None => Err(Error::new(
            ErrorKind::Busy,
            format!(
                "the files of the database at {} kept changing while opening it read-only; \
                 retry",
                root.display()
            ),
        )),
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
    let manifest = Manifest {
        base: None,
        wals: vec![FIRST_WAL.to_owned()],
    };
    write_atomically(io, root, MANIFEST, manifest.to_json().as_bytes())
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

fn read_manifest(io: &dyn Io, path: &Path) -> Result<Manifest> {
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
    let valid_name =
        |w: &&str| !w.is_empty() && !w.contains(['/', '\\', '\0']) && *w != "." && *w != "..";
    if format == 1 {
        let wal = json
            .get("wal")
            .and_then(|v| v.as_str())
            .filter(valid_name)
            .ok_or_else(|| damaged("no valid log file name"))?;
        return Ok(Manifest {
            base: None,
            wals: vec![wal.to_owned()],
        });
    }
    let base = match json.get("base") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .filter(valid_name)
                .ok_or_else(|| damaged("no valid base image file name"))?
                .to_owned(),
        ),
    };
    let wals = json
        .get("wals")
        .and_then(|v| v.as_array())
        .filter(|a| !a.is_empty())
        .ok_or_else(|| damaged("no list of log files"))?
        .iter()
        .map(|w| {
            w.as_str()
                .filter(valid_name)
                .map(str::to_owned)
                .ok_or_else(|| damaged("an invalid log file name"))
        })
        .collect::<Result<Vec<String>>>()?;
    Ok(Manifest { base, wals })
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
