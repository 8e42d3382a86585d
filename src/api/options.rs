//! Open options, set by key and value as strings (the C API's `graphdb_options_set`).

pub use crate::dir::AccessMode;
use crate::error::{Error, Result};
pub use crate::txn::CommitWait;
pub use crate::wal::SyncMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationMode {
    Serializable,
    Snapshot,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub access_mode: AccessMode,
    /// Create the database if the directory does not exist or is empty.
    pub create: bool,
    pub sync: SyncMode,
    /// How long to wait for a lock held by another process or transaction; 0 = fail at once.
    pub busy_timeout_ms: u64,
    /// Stop a query after this long; 0 = no limit.
    pub query_timeout_ms: u64,
    pub isolation: IsolationMode,
    /// Checkpoint in the background once the current WAL file passes this many bytes
    /// (default 64 MiB); 0 disables automatic checkpoints (`CHECKPOINT` still works).
    pub checkpoint_wal_bytes: u64,
    /// A transaction that writes at least this many entities (nodes and relationships
    /// created, changed or deleted), and at least a quarter of the graph's entities, commits
    /// as a new base image instead of a log record (see docs/durability.md, "Image
    /// commits"); only with sync=full on a database directory. Default 50,000; 0: never.
    pub bulk_commit_entities: u64,
    /// Check the whole base image at open, as `CHECK` does (checksums and structure), instead
    /// of each block of it when first read. Default false.
    pub verify_on_open: bool,
    /// Worker threads of one large batch-engine query (a scan of at least 4096 start
    /// nodes; docs/performance.md, "Parallel batch runs"); 1: the calling thread only;
    /// 0 (default): `GRAPHDB_BATCH_THREADS` if set, else the available cores, at most 8.
    pub batch_threads: usize,
    /// How a committer waits for the log sync covering its commit: `auto` (default) polls
    /// for a few syncs' time when the log syncs fast, `sleep` always sleeps (no CPU spent
    /// waiting, a wake-up per commit). See docs/durability.md, "Waiting awake".
    pub commit_wait: CommitWait,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            access_mode: AccessMode::ReadWrite,
            create: true,
            sync: SyncMode::Full,
            busy_timeout_ms: 0,
            query_timeout_ms: 0,
            isolation: IsolationMode::Serializable,
            checkpoint_wal_bytes: 64 << 20,
            bulk_commit_entities: 50_000,
            verify_on_open: false,
            batch_threads: 0,
            commit_wait: CommitWait::Auto,
        }
    }
}

impl Options {
    pub fn new() -> Options {
        Options::default()
    }

    /// Sets one option from its string form. Unknown keys and bad values are
    /// `InvalidArgument`, naming the key and the accepted values.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let bad = |accepted: &str| {
            Error::invalid_argument(format!(
                "option {key} cannot be '{value}'; accepted: {accepted}"
            ))
        };
        match key {
            "access_mode" => {
                self.access_mode = match value {
                    "read_write" => AccessMode::ReadWrite,
                    "read_only" => AccessMode::ReadOnly,
                    _ => return Err(bad("read_write, read_only")),
                }
            }
            "create" => self.create = parse_bool(value).ok_or_else(|| bad("true, false"))?,
            "verify_on_open" => {
                self.verify_on_open = parse_bool(value).ok_or_else(|| bad("true, false"))?
            }
            "sync" => {
                self.sync = match value {
                    "full" => SyncMode::Full,
                    "normal" => SyncMode::Normal,
                    "off" => SyncMode::Off,
                    _ => return Err(bad("full, normal, off")),
                }
            }
            "busy_timeout_ms" => {
                self.busy_timeout_ms = value
                    .parse()
                    .map_err(|_| bad("a whole number of milliseconds"))?
            }
            "query_timeout_ms" => {
                self.query_timeout_ms = value
                    .parse()
                    .map_err(|_| bad("a whole number of milliseconds (0: no limit)"))?
            }
            "isolation" => {
                self.isolation = match value {
                    "serializable" => IsolationMode::Serializable,
                    "snapshot" => IsolationMode::Snapshot,
                    _ => return Err(bad("serializable, snapshot")),
                }
            }
            "checkpoint_wal_bytes" => {
                self.checkpoint_wal_bytes = value
                    .parse::<u64>()
                    .map_err(|_| bad("a whole number of bytes (0: no automatic checkpoints)"))?
            }
            "bulk_commit_entities" => {
                self.bulk_commit_entities = value.parse::<u64>().map_err(|_| {
                    bad("a whole number of entities (0: every commit goes through the log)")
                })?
            }
            "batch_threads" => {
                self.batch_threads = value
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n <= 64)
                    .ok_or_else(|| bad("a whole number of threads up to 64 (0: automatic)"))?
            }
            "commit_wait" => {
                self.commit_wait = match value {
                    "auto" => CommitWait::Auto,
                    "sleep" => CommitWait::Sleep,
                    _ => return Err(bad("auto, sleep")),
                }
            }
            _ => {
                return Err(Error::invalid_argument(format!(
                    "unknown option '{key}'; known: access_mode, create, sync, busy_timeout_ms, \
                     query_timeout_ms, isolation, checkpoint_wal_bytes, bulk_commit_entities, \
                     verify_on_open, batch_threads, commit_wait"
                )))
            }
        }
        Ok(())
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn known_options_parse_and_unknown_ones_are_refused() {
        let mut o = Options::new();
        o.set("access_mode", "read_only").unwrap();
        o.set("sync", "off").unwrap();
        o.set("busy_timeout_ms", "250").unwrap();
        assert_eq!(o.access_mode, AccessMode::ReadOnly);
        assert_eq!(o.sync, SyncMode::Off);
        assert_eq!(o.busy_timeout_ms, 250);
        let e = o.set("sync", "sometimes").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("full, normal, off"));
        let e = o.set("colour", "blue").unwrap_err();
        assert!(e.message().contains("unknown option 'colour'"));
        assert_eq!(o.sync, SyncMode::Off, "a refused value changes nothing");
        assert_eq!(o.commit_wait, CommitWait::Auto);
        o.set("commit_wait", "sleep").unwrap();
        assert_eq!(o.commit_wait, CommitWait::Sleep);
        let e = o.set("commit_wait", "spin").unwrap_err();
        assert!(e.message().contains("auto, sleep"), "{}", e.message());
        assert_eq!(o.commit_wait, CommitWait::Sleep);
        o.set("commit_wait", "auto").unwrap();
        assert_eq!(o.commit_wait, CommitWait::Auto);
    }
}
