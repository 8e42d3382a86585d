package dev.libgraphdb.graphdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening, reopening, closing in every order, and use after close. */
class LifecycleTest {
    @TempDir Path dir;

    @Test
    void dataSurvivesReopen() {
        Path path = dir.resolve("db");
        try (Database db = Database.open(path); Connection c = db.connect()) {
            c.query("CREATE (:Kept {name: $n})", Map.of("n", "persisted")).close();
            db.checkpoint();
            c.query("CREATE (:Kept {name: 'after checkpoint'})").close(); // only in the log
        }
        try (Database db = Database.open(path, Options.builder().verifyOnOpen(true).build());
             Connection c = db.connect();
             Result r = c.query("MATCH (k:Kept) RETURN k.name ORDER BY k.name")) {
            db.check();
            assertEquals("after checkpoint", r.list().get(0).getString(0));
            assertTrue(r.list().isEmpty()); // list() consumed the rest
        }
        try (Database db = Database.open(path); Connection c = db.connect();
             Result r = c.query("MATCH (k:Kept) RETURN count(k)")) {
            assertEquals(2L, r.single().getLong(0));
        }
    }

    @Test
    void inMemoryDatabaseIsPrivate() {
        try (Database a = Database.openInMemory(Options.defaults()); Connection c = a.connect()) {
            c.query("CREATE (:M)").close();
            a.checkpoint(); // documented as a no-op in memory
            a.check();
            try (Database b = Database.openInMemory(Options.defaults()); Connection d = b.connect();
                 Result r = d.query("MATCH (n) RETURN count(n)")) {
                assertEquals(0L, r.single().getLong(0));
            }
        }
    }

    @Test
    void useAfterCloseIsAnIllegalStateException() {
        Database db = Database.open(dir.resolve("db"));
        Connection c = db.connect();
        PreparedStatement st = c.prepare("RETURN 1");
        Result r = c.query("RETURN 1 AS one");
        Transaction tx = c.begin();
        tx.rollback();

        r.close();
        assertThrows(IllegalStateException.class, r::next);
        assertThrows(IllegalStateException.class, () -> r.getLong(0));
        assertThrows(IllegalStateException.class, tx::commit);
        assertThrows(IllegalStateException.class, () -> tx.query("RETURN 1"));

        c.close();
        assertFalse(c.isOpen());
        assertThrows(IllegalStateException.class, () -> c.query("RETURN 1"));
        assertThrows(IllegalStateException.class, () -> c.prepare("RETURN 1"));
        assertThrows(IllegalStateException.class, c::begin);
        assertThrows(IllegalStateException.class, st::execute);
        c.interrupt(); // harmless on a closed connection

        db.close();
        assertThrows(IllegalStateException.class, db::connect);
        assertThrows(IllegalStateException.class, db::checkpoint);
        assertThrows(IllegalStateException.class, db::check);
        assertThrows(IllegalStateException.class, db::statsJson);

        // closing twice, in any order, is fine
        st.close();
        st.close();
        r.close();
        tx.close();
        c.close();
        db.close();
    }

    @Test
    void resultsOutliveTheirConnectionAndDatabase() {
        Database db = Database.open(dir.resolve("db"));
        Connection c = db.connect();
        Result r = c.query("UNWIND [1, 2, 3] AS x RETURN x");
        db.close(); // the connection keeps the database alive
        try (Result s = c.query("RETURN 'alive'")) {
            assertEquals("alive", s.single().getString(0));
        }
        c.close();
        // materialized: still readable, errors still typed (status only: the connection is gone)
        assertTrue(r.next());
        assertEquals(1L, r.getLong(0));
        GraphDbException e = assertThrows(GraphDbException.class, () -> r.getString(0));
        assertEquals(Status.TYPE_ERROR, e.status());
        assertEquals(2, r.list().size());
        r.close();
    }

    @Test
    void forgottenTransactionIsRolledBackByTheCleaner() throws InterruptedException {
        try (Database db = Database.open(dir.resolve("db")); Connection c = db.connect()) {
            beginAndForget(c);
            // Until the Cleaner frees the forgotten handle the connection is inside it.
            boolean freed = false;
            for (int i = 0; i < 500 && !freed; i++) {
                System.gc();
                Thread.sleep(10);
                try {
                    c.begin().close();
                    freed = true;
                } catch (GraphDbException e) {
                    assertEquals(Status.TRANSACTION_STATE, e.status());
                }
            }
            assertTrue(freed, "the Cleaner never freed the forgotten transaction");
            try (Result r = c.query("MATCH (n:Forgotten) RETURN count(n)")) {
                assertEquals(0L, r.single().getLong(0)); // and it rolled back
            }
        }
    }

    private static void beginAndForget(Connection c) {
        Transaction tx = c.begin();
        tx.query("CREATE (:Forgotten)").close();
    }

    @Test
    void versionAndStats() {
        assertTrue(Database.libraryVersion().matches("\\d+\\.\\d+\\.\\d+"), Database.libraryVersion());
        assertEquals(1, Database.abiVersion());
        try (Database db = Database.open(dir.resolve("db")); Connection c = db.connect()) {
            c.query("CREATE (:S)").close();
            Map<String, Object> stats = db.stats();
            assertTrue(stats.values().stream().anyMatch(v -> v instanceof Long && (Long) v >= 1), stats.toString());
        }
    }
}
