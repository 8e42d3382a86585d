//! The database directory: which files make up the database, and who may write it.
//!
//! Files:
//! - `graphdb.meta`: the manifest (JSON: format version and the current log's file name),
//!   replaced atomically (write temp, fsync, rename, fsync directory).
//! - `wal-NNNNNN.log`: the redo log named by the manifest.
//! - `LOCK`: holds the read-write process's exclusive lock (flock) and its pid, so a second
//!   writer — another process, or another open in this one — is refused with `LOCKED` naming
//!   the holder. Read-only openers take no lock and never write.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

const MANIFEST: &str = "graphdb.meta";
const MANIFEST_TMP: &str = "graphdb.meta.tmp";
const LOCK: &str = "LOCK";
const FIRST_WAL: &str = "wal-000001.log";
/// The directory format this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    /// Exclusive: one read-write opener per directory at a time.
    ReadWrite,
    /// Shared: never writes, may run beside a read-write process.
    ReadOnly,
}

/// An opened database directory; holds the writer lock (read-write) until dropped.
pub struct DbDir {
    root: PathBuf,
    wal_name: String,
    /// Kept open for its flock; closing the file releases the lock.
    _lock: Option<File>,
}

impl DbDir {
    /// Opens (with `create`, creates) the database directory at `root`. A read-write open
    /// waits up to `busy_timeout` for another writer to let go, then fails with `LOCKED`.
    pub fn open(
        root: &Path,
        mode: AccessMode,
        create: bool,
        busy_timeout: Duration,
    ) -> Result<DbDir> {
        let shown = root.display();
        match fs::metadata(root) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::invalid_argument(format!(
                    "{shown} is a file, not a database directory"
                )))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if mode == AccessMode::ReadOnly || !create {
                    return Err(Error::new(
                        ErrorKind::Error,
                        format!("no database at {shown}; open it read-write with create=true to create one"),
                    ));
                }
                fs::create_dir_all(root)
                    .map_err(|e| Error::io(format!("creating directory {shown}"), &e))?;
            }
            Err(e) => return Err(Error::io(format!("inspecting {shown}"), &e)),
        }
        if !root.join(MANIFEST).exists() && !is_initializable(root)? {
            return Err(Error::invalid_argument(format!(
                "{shown} is not a libgraphdb database (it has no {MANIFEST} and is not empty); \
                 refusing to touch it"
            )));
        }
        let lock = match mode {
            AccessMode::ReadWrite => Some(take_writer_lock(root, busy_timeout)?),
            AccessMode::ReadOnly => None,
        };
        let manifest_path = root.join(MANIFEST);
        if !manifest_path.exists() {
            if mode == AccessMode::ReadOnly || !create {
                return Err(Error::new(
                    ErrorKind::Error,
                    format!("{shown} holds no database yet; open it read-write with create=true to create one"),
                ));
            }
            initialize(root)?;
        }
        let wal_name = read_manifest(&manifest_path)?;
        if !root.join(&wal_name).exists() {
            return Err(Error::corrupt(format!(
                "{} names the log {wal_name}, which is missing from {shown}",
                manifest_path.display()
            )));
        }
        Ok(DbDir {
            root: root.to_owned(),
            wal_name,
            _lock: lock,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The current log file.
    pub fn wal_path(&self) -> PathBuf {
        self.root.join(&self.wal_name)
    }
}

/// Whether `root` holds nothing but what an interrupted initialization may have left.
fn is_initializable(root: &Path) -> Result<bool> {
    let entries =
        fs::read_dir(root).map_err(|e| Error::io(format!("listing {}", root.display()), &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("listing {}", root.display()), &e))?;
        let name = entry.file_name();
        if ![LOCK, MANIFEST_TMP, FIRST_WAL].iter().any(|n| name == *n) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn initialize(root: &Path) -> Result<()> {
    for leftover in [MANIFEST_TMP, FIRST_WAL] {
        let p = root.join(leftover);
        if p.exists() {
            fs::remove_file(&p).map_err(|e| Error::io(format!("removing {}", p.display()), &e))?;
        }
    }
    crate::wal::create(&root.join(FIRST_WAL))?;
    let manifest = serde_json::json!({ "format": FORMAT_VERSION, "wal": FIRST_WAL });
    write_atomically(root, MANIFEST, manifest.to_string().as_bytes())
}

/// Replaces `root/name` with `bytes` so that a crash leaves either the old or the new file.
pub fn write_atomically(root: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = root.join(format!("{name}.tmp"));
    let dest = root.join(name);
    let io =
        |what: &str, p: &Path, e: std::io::Error| Error::io(format!("{what} {}", p.display()), &e);
    let mut f = File::create(&tmp).map_err(|e| io("creating", &tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| io("writing", &tmp, e))?;
    fs::rename(&tmp, &dest).map_err(|e| io("renaming into place", &dest, e))?;
    sync_dir(root)
}

/// Makes a rename or file creation in `root` durable.
pub fn sync_dir(root: &Path) -> Result<()> {
    File::open(root)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("syncing directory {}", root.display()), &e))
}

fn read_manifest(path: &Path) -> Result<String> {
    let text = fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?;
    let damaged = |what: &str| Error::corrupt(format!("{} is damaged: {what}", path.display()));
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| damaged(&format!("not valid JSON ({e})")))?;
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
    let wal = json
        .get("wal")
        .and_then(|v| v.as_str())
        .filter(|w| !w.is_empty() && !w.contains(['/', '\\']) && *w != "." && *w != "..")
        .ok_or_else(|| damaged("no valid log file name"))?;
    Ok(wal.to_owned())
}

fn take_writer_lock(root: &Path, busy_timeout: Duration) -> Result<File> {
    let path = root.join(LOCK);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), &e))?;
    let deadline = Instant::now() + busy_timeout;
    loop {
        match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
            Ok(true) => break,
            Ok(false) => {
                if Instant::now() >= deadline {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
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
        .and_then(|_| (&file).write_all(std::process::id().to_string().as_bytes()))
        .map_err(|e| Error::io(format!("writing {}", path.display()), &e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_reopens_and_excludes_a_second_writer() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("db");
        let d = DbDir::open(&root, AccessMode::ReadWrite, true, Duration::ZERO).unwrap();
        assert!(d.wal_path().exists());
        let e = DbDir::open(&root, AccessMode::ReadWrite, true, Duration::ZERO)
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::Locked);
        assert!(e.message().contains(&std::process::id().to_string()), "{e}");
        let ro = DbDir::open(&root, AccessMode::ReadOnly, false, Duration::ZERO);
        assert!(ro.is_ok(), "a reader may open beside the writer");
        drop(d);
        DbDir::open(&root, AccessMode::ReadWrite, false, Duration::ZERO).unwrap();
    }

    #[test]
    fn refuses_foreign_directories_files_and_newer_formats() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("notes.txt"), "mine").unwrap();
        let e = DbDir::open(t.path(), AccessMode::ReadWrite, true, Duration::ZERO)
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            !t.path().join(LOCK).exists(),
            "a foreign directory is left untouched"
        );
        let e = DbDir::open(
            &t.path().join("notes.txt"),
            AccessMode::ReadWrite,
            true,
            Duration::ZERO,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let db = t.path().join("db");
        drop(DbDir::open(&db, AccessMode::ReadWrite, true, Duration::ZERO).unwrap());
        fs::write(
            db.join(MANIFEST),
            r#"{"format": 7, "wal": "wal-000001.log"}"#,
        )
        .unwrap();
        let e = DbDir::open(&db, AccessMode::ReadWrite, true, Duration::ZERO)
            .err()
            .unwrap();
        assert!(e.message().contains("newer libgraphdb"), "{e}");
        fs::write(
            db.join(MANIFEST),
            r#"{"format": 1, "wal": "wal-000009.log"}"#,
        )
        .unwrap();
        let e = DbDir::open(&db, AccessMode::ReadWrite, true, Duration::ZERO)
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        let e = DbDir::open(
            &t.path().join("absent"),
            AccessMode::ReadOnly,
            true,
            Duration::ZERO,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::Error);
    }
}
