//! An in-memory file system for tests: injects faults and simulates power loss.
//!
//! Every operation (of [`Io`] and of open files) is counted from 1. A [`Fault`] set with
//! [`SimIo::set_fault`] fails the operation with that number — once, or (`persistent`) that
//! one and every later one, like a disk that died. Each file keeps two contents: what reads
//! see (the page cache) and what a sync made durable; directory entries likewise become
//! durable only through `sync_dir`. [`SimIo::power_loss`] returns the file system a power cut
//! would leave: durable names and content, plus — for each 512-byte sector written since the
//! last sync — the old sector, the new one, or zeros, chosen at random (torn writes).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{FileKind, Io, IoFile, OpenMode};

const SECTOR: usize = 512;

/// What an injected fault does to the operation it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The operation fails with EIO and does nothing.
    Eio,
    /// A write stores part of its bytes, then fails with ENOSPC; other operations fail
    /// with ENOSPC.
    NoSpace,
    /// A write stores half of its bytes and reports success for that half (a short write;
    /// correct callers continue). Other operations are unaffected.
    ShortWrite,
    /// A write stores half of its bytes, then fails with EIO (a torn write). Other operations
    /// fail with EIO.
    TornWrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The operation number to fail (the first operation is 1).
    pub at: u64,
    pub kind: FaultKind,
    /// Fail every operation from `at` on, not just that one.
    pub persistent: bool,
}

#[derive(Default, Clone)]
struct Node {
    data: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Default)]
struct State {
    nodes: BTreeMap<u64, Node>,
    names: BTreeMap<PathBuf, u64>,
    durable_names: BTreeMap<PathBuf, u64>,
    dirs: BTreeSet<PathBuf>,
    next_node: u64,
    locks: HashSet<u64>,
    /// Shared lock holders per file.
    shared_locks: BTreeMap<u64, usize>,
    ops: u64,
    syncs: u64,
    allocations: u64,
    /// Faults that hit an `allocate` call.
    allocation_faults: u64,
    sync_delay: std::time::Duration,
    fault: Option<Fault>,
    faults_hit: u64,
    /// Mounted read-only: every change fails with EROFS.
    read_only: bool,
}

/// What the numbered operation must do.
enum Verdict {
    Proceed,
    Fail(FaultKind),
}

impl State {
    fn tick(&mut self) -> Verdict {
        self.ops += 1;
        match self.fault {
            Some(f) if self.ops == f.at || (f.persistent && self.ops > f.at) => {
                self.faults_hit += 1;
                Verdict::Fail(f.kind)
            }
            _ => Verdict::Proceed,
        }
    }

    fn node(&mut self, id: u64) -> io::Result<&mut Node> {
        self.nodes
            .get_mut(&id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "stale file handle"))
    }
}

fn error_for(kind: FaultKind) -> io::Error {
    match kind {
        FaultKind::NoSpace => io::Error::from_raw_os_error(libc::ENOSPC),
        _ => io::Error::from_raw_os_error(libc::EIO),
    }
}

/// Fails a change on a read-only mount.
fn writable_fs(s: &State) -> io::Result<()> {
    if s.read_only {
        Err(io::Error::from_raw_os_error(libc::EROFS))
    } else {
        Ok(())
    }
}

/// Fails the operation if a fault hits it (non-write operations).
fn check(s: &mut State) -> io::Result<()> {
    match s.tick() {
        Verdict::Proceed | Verdict::Fail(FaultKind::ShortWrite) => Ok(()),
        Verdict::Fail(k) => Err(error_for(k)),
    }
}

/// A simulated file system; clones share it.
#[derive(Clone, Default)]
pub struct SimIo {
    state: Arc<Mutex<State>>,
}

impl SimIo {
    pub fn new() -> SimIo {
        SimIo::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails the operation numbered `fault.at` (counted from the start); `None` disarms.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().fault = fault;
    }

    /// Operations performed so far.
    pub fn ops(&self) -> u64 {
        self.lock().ops
    }

    /// Mounts the file system read-only (or read-write again): changes fail with EROFS.
    pub fn set_read_only(&self, read_only: bool) {
        self.lock().read_only = read_only;
    }

    /// File syncs performed so far (successful or not).
    pub fn syncs(&self) -> u64 {
        self.lock().syncs
    }

    /// `IoFile::allocate` calls so far (successful or not).
    pub fn allocations(&self) -> u64 {
        self.lock().allocations
    }

    /// How many of the faults hit so far hit an `IoFile::allocate` call.
    pub fn allocation_faults(&self) -> u64 {
        self.lock().allocation_faults
    }

    /// Makes every file sync take at least `delay` (like a real disk), outside the lock.
    pub fn set_sync_delay(&self, delay: std::time::Duration) {
        self.lock().sync_delay = delay;
    }

    /// How many operations an armed fault has failed.
    pub fn faults_hit(&self) -> u64 {
        self.lock().faults_hit
    }

    /// The file system as a restarted process would find it after a crash that left the
    /// operating system running: everything written, no locks, no faults.
    pub fn after_process_crash(&self) -> SimIo {
        let s = self.lock();
        SimIo {
            state: Arc::new(Mutex::new(State {
                nodes: s.nodes.clone(),
                names: s.names.clone(),
                durable_names: s.durable_names.clone(),
                dirs: s.dirs.clone(),
                next_node: s.next_node,
                ..State::default()
            })),
        }
    }

    /// The file system after a power cut: durable directory entries and synced content;
    /// each sector written since its file's last sync is old, new or zeros (chosen by `seed`),
    /// and a file grown since may keep any number of its new sectors.
    pub fn power_loss(&self, seed: u64) -> SimIo {
        let s = self.lock();
        let mut rng = seed | 1;
        let mut next = move || {
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let mut nodes = BTreeMap::new();
        for (&id, n) in &s.nodes {
            let old = &n.durable;
            let new = &n.data;
            let max_len = old.len().max(new.len());
            let mut out = old.clone();
            if new.len() > old.len() {
                // Grown: keep a random number of the new tail's sectors.
                let extra = new.len() - old.len();
                let sectors = extra.div_ceil(SECTOR);
                let keep = (next() % (sectors as u64 + 1)) as usize;
                out.resize(old.len() + (keep * SECTOR).min(extra), 0);
            } else if new.len() < old.len() && next() % 2 == 0 {
                // Shrunk but the truncation never reached the disk, or did.
                out.truncate(new.len());
            }
            for start in (0..max_len.min(out.len())).step_by(SECTOR) {
                let end = (start + SECTOR).min(out.len());
                let old_s = old.get(start..end.min(old.len())).unwrap_or(&[]);
                let new_s = new.get(start..end.min(new.len())).unwrap_or(&[]);
                if old_s == new_s && old_s.len() == end - start {
                    continue;
                }
                match next() % 3 {
                    0 => {
                        for (i, b) in out[start..end].iter_mut().enumerate() {
                            *b = old.get(start + i).copied().unwrap_or(0);
                        }
                    }
                    1 => {
                        for (i, b) in out[start..end].iter_mut().enumerate() {
                            *b = new.get(start + i).copied().unwrap_or(0);
                        }
                    }
                    // Zeros only where nothing durable was: a sector is written whole,
                    // so synced bytes sharing it are never lost.
                    _ => {
                        for (i, b) in out[start..end].iter_mut().enumerate() {
                            *b = old.get(start + i).copied().unwrap_or(0);
                        }
                        let fresh = old.len().clamp(start, end);
                        out[fresh..end].fill(0);
                    }
                }
            }
            nodes.insert(
                id,
                Node {
                    data: out.clone(),
                    durable: out,
                },
            );
        }
        let names: BTreeMap<PathBuf, u64> = s
            .durable_names
            .iter()
            .filter(|(_, id)| nodes.contains_key(id))
            .map(|(p, id)| (p.clone(), *id))
            .collect();
        SimIo {
            state: Arc::new(Mutex::new(State {
                nodes,
                durable_names: names.clone(),
                names,
                dirs: s.dirs.clone(),
                next_node: s.next_node,
                ..State::default()
            })),
        }
    }

    /// The current content of the file at `path` (for tests that damage files).
    pub fn contents(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        let id = s.names.get(path)?;
        s.nodes.get(id).map(|n| n.data.clone())
    }

    /// Replaces the content of the file at `path`, durably, without counting an operation.
    pub fn replace_contents(&self, path: &Path, bytes: &[u8]) {
        let mut s = self.lock();
        if let Some(&id) = s.names.get(path) {
            if let Some(n) = s.nodes.get_mut(&id) {
                n.data = bytes.to_vec();
                n.durable = bytes.to_vec();
            }
        }
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file", path.display()),
    )
}

impl Io for SimIo {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn IoFile>> {
        let mut s = self.lock();
        check(&mut s)?;
        if mode != OpenMode::Read {
            writable_fs(&s)?;
        }
        let existing = s.names.get(path).copied();
        let parent_ok = path.parent().map_or(true, |p| s.dirs.contains(p));
        let id = match (existing, mode) {
            (Some(_), OpenMode::CreateNew) => {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "file exists"))
            }
            (Some(id), OpenMode::CreateTruncate) => {
                s.node(id)?.data.clear();
                id
            }
            (Some(id), _) => id,
            (None, OpenMode::Read | OpenMode::ReadWrite) => return Err(not_found(path)),
            (None, _) if !parent_ok => return Err(not_found(path)),
            (None, _) => {
                s.next_node += 1;
                let id = s.next_node;
                s.nodes.insert(id, Node::default());
                s.names.insert(path.to_owned(), id);
                id
            }
        };
        Ok(Box::new(SimFile {
            sim: self.clone(),
            id,
            writable: mode != OpenMode::Read,
            locked: Mutex::new(false),
            shared: Mutex::new(false),
        }))
    }

    fn kind(&self, path: &Path) -> io::Result<Option<FileKind>> {
        let mut s = self.lock();
        check(&mut s)?;
        Ok(if s.dirs.contains(path) {
            Some(FileKind::Dir)
        } else if s.names.contains_key(path) {
            Some(FileKind::File)
        } else {
            None
        })
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        check(&mut s)?;
        writable_fs(&s)?;
        for a in path.ancestors() {
            if !a.as_os_str().is_empty() {
                s.dirs.insert(a.to_owned());
            }
        }
        Ok(())
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        let mut s = self.lock();
        check(&mut s)?;
        if !s.dirs.contains(path) {
            return Err(not_found(path));
        }
        let files = s.names.keys();
        let dirs = s.dirs.iter();
        Ok(files
            .chain(dirs)
            .filter(|p| p.parent() == Some(path))
            .filter_map(|p| p.file_name().map(|n| n.to_owned()))
            .collect())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        check(&mut s)?;
        writable_fs(&s)?;
        let id = s.names.remove(from).ok_or_else(|| not_found(from))?;
        s.names.insert(to.to_owned(), id);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        check(&mut s)?;
        writable_fs(&s)?;
        s.names
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| not_found(path))
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        check(&mut s)?;
        let in_dir = |p: &PathBuf| p.parent() == Some(path);
        let current: Vec<(PathBuf, u64)> = s
            .names
            .iter()
            .filter(|(p, _)| in_dir(p))
            .map(|(p, id)| (p.clone(), *id))
            .collect();
        s.durable_names.retain(|p, _| !in_dir(p));
        s.durable_names.extend(current);
        Ok(())
    }
}

struct SimFile {
    sim: SimIo,
    id: u64,
    writable: bool,
    locked: Mutex<bool>,
    shared: Mutex<bool>,
}

impl SimFile {
    fn store(n: &mut Node, buf: &[u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset too large"))?;
        let end = start + buf.len();
        if n.data.len() < end {
            n.data.resize(end, 0);
        }
        n.data[start..end].copy_from_slice(buf);
        Ok(())
    }

    fn writable(&self) -> io::Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(libc::EBADF))
        }
    }
}

impl IoFile for SimFile {
    fn size(&self) -> io::Result<u64> {
        let mut s = self.sim.lock();
        check(&mut s)?;
        Ok(s.node(self.id)?.data.len() as u64)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut s = self.sim.lock();
        check(&mut s)?;
        let data = &s.node(self.id)?.data;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize> {
        self.writable()?;
        let mut s = self.sim.lock();
        writable_fs(&s)?;
        let verdict = s.tick();
        let n = s.node(self.id)?;
        match verdict {
            Verdict::Proceed => {
                SimFile::store(n, buf, offset)?;
                Ok(buf.len())
            }
            Verdict::Fail(FaultKind::Eio) => Err(error_for(FaultKind::Eio)),
            Verdict::Fail(FaultKind::ShortWrite) => {
                let half = buf.len().div_ceil(2);
                SimFile::store(n, &buf[..half], offset)?;
                Ok(half)
            }
            Verdict::Fail(k @ (FaultKind::NoSpace | FaultKind::TornWrite)) => {
                SimFile::store(n, &buf[..buf.len() / 2], offset)?;
                Err(error_for(k))
            }
        }
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.writable()?;
        let mut s = self.sim.lock();
        check(&mut s)?;
        writable_fs(&s)?;
        let len = usize::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "length too large"))?;
        s.node(self.id)?.data.resize(len, 0);
        Ok(())
    }

    /// Grows the file with zeros to `len` (space is not modelled). Faults: EIO does nothing;
    /// ENOSPC grows the file half way, then fails; a short-write fault does not apply.
    fn allocate(&self, len: u64) -> io::Result<()> {
        self.writable()?;
        let mut s = self.sim.lock();
        writable_fs(&s)?;
        let verdict = s.tick();
        s.allocations += 1;
        if matches!(verdict, Verdict::Fail(_)) {
            s.allocation_faults += 1;
        }
        let len = usize::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "length too large"))?;
        let n = s.node(self.id)?;
        let have = n.data.len();
        match verdict {
            Verdict::Proceed | Verdict::Fail(FaultKind::ShortWrite) => {
                n.data.resize(have.max(len), 0);
                Ok(())
            }
            Verdict::Fail(FaultKind::NoSpace) => {
                n.data
                    .resize(have.max(have + len.saturating_sub(have) / 2), 0);
                Err(error_for(FaultKind::NoSpace))
            }
            Verdict::Fail(k) => Err(error_for(k)),
        }
    }

    fn sync_data(&self) -> io::Result<()> {
        let delay = self.sim.lock().sync_delay;
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut s = self.sim.lock();
        s.syncs += 1;
        check(&mut s)?;
        let n = s.node(self.id)?;
        n.durable = n.data.clone();
        Ok(())
    }

    fn sync_all(&self) -> io::Result<()> {
        self.sync_data()
    }

    fn try_lock_exclusive(&self) -> io::Result<bool> {
        let mut s = self.sim.lock();
        check(&mut s)?;
        let mut mine = self.locked.lock().unwrap_or_else(|e| e.into_inner());
        if *mine {
            return Ok(true);
        }
        if s.shared_locks.get(&self.id).is_some_and(|&n| n > 0) || !s.locks.insert(self.id) {
            return Ok(false);
        }
        *mine = true;
        Ok(true)
    }

    fn try_lock_shared(&self) -> io::Result<bool> {
        let mut s = self.sim.lock();
        check(&mut s)?;
        let mut mine = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if *mine {
            return Ok(true);
        }
        if s.locks.contains(&self.id) {
            return Ok(false);
        }
        *s.shared_locks.entry(self.id).or_default() += 1;
        *mine = true;
        Ok(true)
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        if *self.locked.get_mut().unwrap_or_else(|e| e.into_inner()) {
            self.sim.lock().locks.remove(&self.id);
        }
        if *self.shared.get_mut().unwrap_or_else(|e| e.into_inner()) {
            let mut s = self.sim.lock();
            if let Some(n) = s.shared_locks.get_mut(&self.id) {
                *n = n.saturating_sub(1);
            }
        }
    }
}
