//! SQLite through rusqlite (bundled C library): WAL, synchronous=FULL, one connection per
//! worker.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection};

use crate::engine::{Engine, Worker};
use crate::gen::{Follow, User};
use crate::measure::Res;

/// Page cache per connection (KiB, as `PRAGMA cache_size` takes negative values): large
/// enough to hold the whole 1M-node database, since libgraphdb holds everything in memory.
const CACHE_KIB: i64 = 1 << 20;

pub const TWO_HOP: &str = "SELECT count(*) FROM follows f1 JOIN follows f2 ON f2.src = f1.dst \
                           WHERE f1.src = ?1";
pub const SCAN_JOIN: &str = "SELECT count(*) FROM follows f JOIN user a ON a.id = f.src \
                             JOIN user b ON b.id = f.dst WHERE a.age < b.age";

pub struct Sqlite {
    busy_ms: u64,
    path: Option<PathBuf>,
    /// Held while the database is "open" so that open/close mean the same as for the others.
    main: Option<Mutex<Connection>>,
}

impl Sqlite {
    pub fn new() -> Sqlite {
        Sqlite {
            busy_ms: crate::engine::BUSY_TIMEOUT_MS,
            path: None,
            main: None,
        }
    }

    fn connect(path: &Path, busy_ms: u64) -> Res<Connection> {
        let c = Connection::open(path).map_err(e)?;
        c.pragma_update(None, "journal_mode", "WAL").map_err(e)?;
        c.pragma_update(None, "synchronous", "FULL").map_err(e)?;
        c.pragma_update(None, "cache_size", -CACHE_KIB).map_err(e)?;
        c.busy_timeout(std::time::Duration::from_millis(busy_ms))
            .map_err(e)?;
        Ok(c)
    }

    fn main(&mut self) -> Res<&mut Connection> {
        match self.main.as_mut() {
            Some(m) => Ok(m.get_mut().unwrap_or_else(|p| p.into_inner())),
            None => Err("sqlite: no database is open".to_string()),
        }
    }
}

fn e(err: rusqlite::Error) -> String {
    format!("sqlite: {err}")
}

impl Engine for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn version(&self) -> String {
        format!("SQLite {}", rusqlite::version())
    }

    fn set_busy_timeout_ms(&mut self, ms: u64) {
        self.busy_ms = ms;
    }

    fn create(&mut self, dir: &Path) -> Res<()> {
        self.close();
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|err| format!("sqlite: {err}"))?;
        let path = dir.join("db.sqlite");
        let c = Self::connect(&path, self.busy_ms)?;
        c.execute_batch(
            "CREATE TABLE user(id INTEGER PRIMARY KEY, name TEXT, age INTEGER);
             CREATE TABLE follows(src INTEGER, dst INTEGER, since INTEGER);
             CREATE TABLE counter(id INTEGER PRIMARY KEY, v INTEGER);",
        )
        .map_err(e)?;
        self.path = Some(path);
        self.main = Some(Mutex::new(c));
        Ok(())
    }

    fn open(&mut self, dir: &Path) -> Res<()> {
        self.close();
        let path = dir.join("db.sqlite");
        if !path.exists() {
            return Err(format!("sqlite: {} does not exist", path.display()));
        }
        self.main = Some(Mutex::new(Self::connect(&path, self.busy_ms)?));
        self.path = Some(path);
        Ok(())
    }

    fn close(&mut self) {
        self.main = None;
    }

    fn load_nodes(&mut self, users: &[User], batch: usize) -> Res<()> {
        let c = self.main()?;
        for chunk in users.chunks(batch.max(1)) {
            let tx = c.transaction().map_err(e)?;
            {
                let mut st = tx
                    .prepare_cached("INSERT INTO user(id, name, age) VALUES (?1, ?2, ?3)")
                    .map_err(e)?;
                for u in chunk {
                    st.execute(params![u.id, u.name, u.age]).map_err(e)?;
                }
            }
            tx.commit().map_err(e)?;
        }
        Ok(())
    }

    fn load_rels(&mut self, follows: &[Follow], batch: usize) -> Res<Vec<String>> {
        let c = self.main()?;
        for chunk in follows.chunks(batch.max(1)) {
            let tx = c.transaction().map_err(e)?;
            {
                let mut st = tx
                    .prepare_cached("INSERT INTO follows(src, dst, since) VALUES (?1, ?2, ?3)")
                    .map_err(e)?;
                for f in chunk {
                    st.execute(params![f.src, f.dst, f.since]).map_err(e)?;
                }
            }
            tx.commit().map_err(e)?;
        }
        c.execute_batch(
            "CREATE INDEX follows_src ON follows(src);
             CREATE INDEX follows_dst ON follows(dst);
             ANALYZE;",
        )
        .map_err(e)?;
        Ok(vec![format!(
            "sqlite relationship load: prepared INSERTs in transactions of {batch}, then the two \
             indexes are built (included in the time)"
        )])
    }

    fn worker(&self) -> Res<Box<dyn Worker>> {
        let path = self.path.as_ref().ok_or("sqlite: no database is open")?;
        Ok(Box::new(SWorker {
            c: Self::connect(path, self.busy_ms)?,
        }))
    }

    fn notes(&self) -> Vec<String> {
        vec![format!(
            "sqlite: WAL, synchronous=FULL, cache_size={} MiB per connection, one connection per \
             thread, busy_timeout {} ms (writers queue for the single write lock); user.id is the \
             INTEGER PRIMARY KEY (rowid)",
            CACHE_KIB >> 10,
            self.busy_ms
        )]
    }
}

struct SWorker {
    c: Connection,
}

impl Worker for SWorker {
    fn ping(&mut self) -> Res<()> {
        self.c
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(e)?;
        Ok(())
    }

    fn lookup(&mut self, id: i64) -> Res<i64> {
        let mut st = self
            .c
            .prepare_cached("SELECT age FROM user WHERE id = ?1")
            .map_err(e)?;
        st.query_row([id], |r| r.get(0)).map_err(e)
    }

    fn two_hop(&mut self, id: i64) -> Res<i64> {
        let mut st = self.c.prepare_cached(TWO_HOP).map_err(e)?;
        st.query_row([id], |r| r.get(0)).map_err(e)
    }

    fn scan_join(&mut self) -> Res<i64> {
        let mut st = self.c.prepare_cached(SCAN_JOIN).map_err(e)?;
        st.query_row([], |r| r.get(0)).map_err(e)
    }

    fn create_node(&mut self, id: i64) -> Res<()> {
        let mut st = self
            .c
            .prepare_cached("INSERT INTO user(id, name, age) VALUES (?1, ?2, ?3)")
            .map_err(e)?;
        st.execute(params![id, format!("new{id}"), 30]).map_err(e)?;
        Ok(())
    }

    fn create_rel(&mut self, src: i64, dst: i64, since: i64) -> Res<()> {
        let mut st = self
            .c
            .prepare_cached(
                "INSERT INTO follows(src, dst, since) SELECT a.id, b.id, ?3 \
                 FROM user a, user b WHERE a.id = ?1 AND b.id = ?2",
            )
            .map_err(e)?;
        match st.execute(params![src, dst, since]).map_err(e)? {
            1 => Ok(()),
            n => Err(format!(
                "sqlite: create_rel({src}, {dst}) inserted {n} rows"
            )),
        }
    }

    fn counter_init(&mut self) -> Res<()> {
        self.c
            .execute("INSERT INTO counter(id, v) VALUES (1, 0)", [])
            .map_err(e)?;
        Ok(())
    }

    fn counter_incr(&mut self) -> Res<()> {
        let mut st = self
            .c
            .prepare_cached("UPDATE counter SET v = v + 1 WHERE id = 1")
            .map_err(e)?;
        st.execute([]).map_err(e)?;
        Ok(())
    }

    fn counter_value(&mut self) -> Res<i64> {
        self.c
            .query_row("SELECT v FROM counter WHERE id = 1", [], |r| r.get(0))
            .map_err(e)
    }
}
