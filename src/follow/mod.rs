//! Read-only processes following the writer's log live.
//!
//! A read-only database opens like recovery (base image + logs) and then, before every new
//! transaction, catches up (`Follower::catch_up`): it applies the records the writer has
//! appended since, each under the graph's write latch and published in timestamp order, so
//! the snapshot taken next includes every commit that is complete in the log. Transactions
//! already running keep their snapshot: applied versions carry their commit timestamp,
//! which is above it.
//!
//! What it holds: the log it reads (`LogTail`: file, shared lock, offset of the first unread
//! byte, format version) and, once the manifest names one, the next log (share-locked, not
//! read until the writer appends to it). The base image and the logs replayed at open are
//! released once loaded: the in-memory graph holds their state and they are never read
//! again, so the writer may remove them at its next checkpoint. A log is released as soon as
//! the follower has moved past it.
//!
//! Moving on: at rotation the writer marks the log it leaves final (`IoFile::mark_final`,
//! seen in the fstat made anyway) before appending to the next one; and it appends to a log
//! only after rotating to it, so also once the next log has any byte after its header the
//! current one is final (this covers a writer that died between rotating and marking). A
//! final log is read to its end (what remains must be a torn tail, not damage) and
//! the next becomes current. When the manifest no longer names the current log at all, a
//! checkpoint has completed: the current log is final, and the first log the manifest names
//! follows it directly unless the base image holds commits this process never read (it was
//! idle across two checkpoints and the log in between is gone). A base image that holds
//! commits beyond those applied while the manifest still names the current log is a commit
//! made as an image (a bulk import or a large transaction: its data is in no log). Then, and whenever the next
//! log is already removed or its first record does not follow the last one applied, the
//! follower reloads: it opens the current base and logs into a fresh graph and transaction
//! manager and swaps them in for new transactions (running ones keep theirs). Published
//! timestamps only grow.
//!
//! Cost when nothing changed: one fstat of the current log and one 8-byte read at the
//! offset, which finds the zeros of the space the writer reserved there (and during a
//! checkpoint one fstat of the next log); every `MANIFEST_POLL`, and at every begin while the log is marked final,
//! one stat of the manifest, read only when that stat differs from the last. Damage (a record failing its checksum where a later valid record proves it had been
//! synced, or a record whose content is invalid) is `Corrupt` naming the file and offset,
//! reported by every later begin.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::api::{recover, Recovered};
use crate::checkpoint::load::read_base_ts;
use crate::dir::{file_number, DbDir, Manifest};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{Change, Graph};
use crate::txn::TxnManager;
use crate::vfs::{FileStamp, OpenMode};
use crate::wal::LogTail;

/// Follows the writer's log for a read-only database.
pub(crate) struct Follower {
    dir: Arc<DbDir>,
    /// Check every base image loaded whole (`verify_on_open`).
    verify: bool,
    state: Mutex<State>,
}

struct State {
    /// The log being read.
    tail: LogTail,
    /// Its file name.
    tail_name: String,
    /// The log after it, once the manifest names one: held so it cannot be removed.
    next: Option<(String, LogTail)>,
    /// The manifest's stamp when it was last read, if it was then old enough for an equal
    /// stamp to prove it unchanged; `None`: read it next time.
    manifest_stamp: Option<FileStamp>,
    /// Damage found in the log: every later begin reports it.
    failed: Option<Error>,
    /// When the manifest was last looked at.
    last_look: Instant,
    /// A base image found to hold no commit beyond those applied (see `base_ahead`).
    checked_base: Option<String>,
}

/// How often the manifest is looked at while the current log is not marked final (in case
/// the writer died between rotating and marking it).
const MANIFEST_POLL: Duration = Duration::from_millis(2);

/// What catching up found.
#[derive(PartialEq, Eq)]
enum Outcome {
    /// Every complete record is applied.
    Done,
    /// The log cannot be followed from where this process is: reload.
    Reload,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update of the state completes before the lock is released, or sets `failed`.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Follower {
    /// Loads the state of the files `dir` holds since its read-only open and starts
    /// following; returns the transaction manager to begin on.
    /// With `verify`, every base image loaded is checked whole (`verify_on_open`).
    pub(crate) fn open(dir: Arc<DbDir>, verify: bool) -> Result<(Arc<TxnManager>, Follower)> {
        let (txns, tail_name, tail) = load(&dir, &dir.manifest(), verify)?;
        dir.release_held();
        let follower = Follower {
            dir,
            verify,
            state: Mutex::new(State {
                tail,
                tail_name,
                next: None,
                manifest_stamp: None,
                failed: None,
                last_look: Instant::now(),
                checked_base: None,
            }),
        };
        Ok((txns, follower))
    }

    /// Applies every commit complete in the log since the last call to the manager in
    /// `slot` (or, when that is impossible, swaps a freshly loaded one in).
    pub(crate) fn catch_up(&self, slot: &RwLock<Arc<TxnManager>>) -> Result<()> {
        let mut st = lock(&self.state);
        if let Some(e) = &st.failed {
            return Err(e.clone());
        }
        let txns = Arc::clone(&slot.read().unwrap_or_else(|e| e.into_inner()));
        let outcome = match self.follow(&mut st, &txns) {
            Ok(Outcome::Done) => Ok(()),
            Ok(Outcome::Reload) => self.reload(&mut st, slot, &txns),
            Err(e) => Err(e),
        };
        if let Err(e) = &outcome {
            if e.kind() == ErrorKind::Corrupt {
                st.failed = Some(e.clone());
            }
        }
        outcome
    }

    fn follow(&self, st: &mut State, txns: &TxnManager) -> Result<Outcome> {
        loop {
            if read_log(&mut st.tail, txns)? == Outcome::Reload {
                return Ok(Outcome::Reload);
            }
            // Has the writer moved on to a later log? It marks the log final when it does
            // (seen in the fstat just made); the manifest is also polled now and then in case
            // it died before marking it, and always when this build cannot tell.
            let final_mark = st.tail.is_final();
            let look = final_mark != Some(false) || st.last_look.elapsed() >= MANIFEST_POLL;
            if look {
                st.last_look = Instant::now();
            }
            let stamp = if look {
                self.dir.manifest_stamp()?
            } else {
                st.manifest_stamp
            };
            if look && (stamp.is_none() || stamp != st.manifest_stamp) {
                let m = self.dir.read_manifest()?;
                st.manifest_stamp = stamp.filter(settled);
                match m.wals.iter().position(|w| *w == st.tail_name) {
                    Some(i) => {
                        if self.base_ahead(st, txns, &m)? {
                            return Ok(Outcome::Reload);
                        }
                        if let Some(next) = m.wals.get(i + 1) {
                            if !matches!(&st.next, Some((n, _)) if n == next) {
                                match self.open_log(next)? {
                                    Some(t) => st.next = Some((next.clone(), t)),
                                    None => return Ok(Outcome::Reload),
                                }
                            }
                        }
                    }
                    // A checkpoint completed and left the current log behind: it is final.
                    None => {
                        if self.leave_dropped_log(st, txns, &m)? == Outcome::Reload {
                            return Ok(Outcome::Reload);
                        }
                        continue;
                    }
                }
            }
            let Some((_, next)) = &st.next else {
                return Ok(Outcome::Done);
            };
            if final_mark != Some(true) && !next.has_appends()? {
                return Ok(Outcome::Done);
            }
            // Marked final, or the writer appends to the next log: the current one is final.
            if read_log(&mut st.tail, txns)? == Outcome::Reload {
                return Ok(Outcome::Reload);
            }
            st.tail.check_final()?;
            if let Some((name, t)) = st.next.take() {
                st.tail = t;
                st.tail_name = name;
            }
        }
    }

    /// The manifest `m` no longer names the current log: finish it and move to the first
    /// log `m` names, unless commits in between were folded into a base image this process
    /// never read.
    fn leave_dropped_log(
        &self,
        st: &mut State,
        txns: &TxnManager,
        m: &Manifest,
    ) -> Result<Outcome> {
        if read_log(&mut st.tail, txns)? == Outcome::Reload {
            return Ok(Outcome::Reload);
        }
        st.tail.check_final()?;
        if let Some(base) = &m.base {
            let path = self.dir.path(base);
            let file = match self.dir.io().open(&path, OpenMode::Read) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outcome::Reload),
                Err(e) => return Err(Error::io(format!("opening {}", path.display()), &e)),
            };
            if read_base_ts(&*file, &path)? > txns.last_commit_ts() {
                return Ok(Outcome::Reload);
            }
        }
        let current = file_number(&st.tail_name).unwrap_or(0);
        let Some(next) = m
            .wals
            .iter()
            .find(|w| file_number(w).unwrap_or(0) > current)
        else {
            return Ok(Outcome::Reload);
        };
        let t = match st.next.take() {
            Some((n, t)) if n == *next => t,
            _ => match self.open_log(next)? {
                Some(t) => t,
                None => return Ok(Outcome::Reload),
            },
        };
        st.tail = t;
        st.tail_name = next.clone();
        Ok(Outcome::Done)
    }

    /// Whether the base image `m` names holds commits beyond the last one applied although
    /// `m` still names the log being read: a commit made as an image (a bulk import, a large
    /// transaction) at the rotation into this log. Its data is in no log, so only a reload
    /// brings it in. (After a checkpoint the image holds only commits of earlier logs, which
    /// this process read to their end before moving to this one.)
    fn base_ahead(&self, st: &mut State, txns: &TxnManager, m: &Manifest) -> Result<bool> {
        let Some(base) = &m.base else {
            return Ok(false);
        };
        if st.checked_base.as_ref() == Some(base) {
            return Ok(false);
        }
        let path = self.dir.path(base);
        let file = match self.dir.io().open(&path, OpenMode::Read) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(Error::io(format!("opening {}", path.display()), &e)),
        };
        let ahead = read_base_ts(&*file, &path)? > txns.last_commit_ts();
        if !ahead {
            st.checked_base = Some(base.clone());
        }
        Ok(ahead)
    }

    fn open_log(&self, name: &str) -> Result<Option<LogTail>> {
        LogTail::open(&**self.dir.io(), &self.dir.path(name), 0, 0)
    }

    /// Loads the current base and logs afresh and swaps them in for new transactions.
    fn reload(
        &self,
        st: &mut State,
        slot: &RwLock<Arc<TxnManager>>,
        old: &TxnManager,
    ) -> Result<()> {
        let (m, held) = self.dir.hold()?;
        let (txns, tail_name, tail) = load(&self.dir, &m, self.verify)?;
        drop(held);
        if txns.last_commit_ts() < old.last_commit_ts() {
            return Err(Error::corrupt(format!(
                "the database at {} went back from commit {} to {}: its files were replaced \
                 under this read-only process; reopen the database",
                self.dir.root().display(),
                old.last_commit_ts(),
                txns.last_commit_ts()
            )));
        }
        *slot.write().unwrap_or_else(|e| e.into_inner()) = txns;
        st.tail = tail;
        st.tail_name = tail_name;
        st.next = None;
        st.manifest_stamp = None;
        st.checked_base = None;
        Ok(())
    }
}

/// Whether a manifest with this stamp was last replaced long enough ago that a later
/// replacement must show a different modification time. File times are coarse (a clock
/// tick of a few milliseconds) and inode numbers are reused, so two manifests written in
/// quick succession can carry equal stamps; one read while that could still happen is read
/// again next time.
fn settled(stamp: &FileStamp) -> bool {
    let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) else {
        return false;
    };
    let mtime_ns = i128::from(stamp[2]) * 1_000_000_000 + i128::from(stamp[3]);
    i128::try_from(now.as_nanos()).unwrap_or(i128::MAX) - mtime_ns > 100_000_000
}

/// Applies the complete records `tail` has beyond what was read to `txns`. `Reload` when a
/// record does not follow the last commit applied (a log in between is gone).
fn read_log(tail: &mut LogTail, txns: &TxnManager) -> Result<Outcome> {
    let mut gap = false;
    let path = tail.path().to_owned();
    let read = tail.read_new(|ts, changes: Vec<Change>| {
        let published = txns.last_commit_ts();
        if ts <= published {
            // Already in the state loaded (a base image, or an earlier log).
            return Ok(());
        }
        if ts != published + 1 {
            gap = true;
            return Err(Error::internal("a gap in the log"));
        }
        txns.apply_logged(ts, changes).map_err(|e| {
            Error::corrupt(format!(
                "replaying {} (commit {ts}): {}",
                path.display(),
                e.message()
            ))
        })
    });
    if gap {
        return Ok(Outcome::Reload);
    }
    read.map(|_| Outcome::Done)
}

/// Rebuilds the state of the base and logs `m` names (their files must be held) into a new
/// read-only transaction manager; returns it with the log to follow on from (the newest one
/// holding records), share-locked and positioned after its last complete record.
fn load(dir: &DbDir, m: &Manifest, verify: bool) -> Result<(Arc<TxnManager>, String, LogTail)> {
    let graph = Arc::new(Graph::new());
    let Recovered {
        last_ts, newest, ..
    } = recover(dir, m, &graph, false, verify)?;
    let path = dir.path(&newest.name);
    let tail = LogTail::open(&**dir.io(), &path, newest.end, newest.last_ts)?.ok_or_else(|| {
        Error::new(
            ErrorKind::Busy,
            format!(
                "{} was removed while this read-only process loaded it; retry",
                path.display()
            ),
        )
    })?;
    let txns = Arc::new(TxnManager::new(graph, None, last_ts, true));
    Ok((txns, newest.name, tail))
}
