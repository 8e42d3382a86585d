package dev.libgraphdb.graphdb;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per test: a fresh database (sync OFF) in a temporary directory, and one connection to it.
 * A subclass's own @BeforeEach runs after {@link #openDatabase()}, its @AfterEach before
 * {@link #closeDatabase()}; a test may replace {@code db} and {@code conn} (closing the old
 * ones itself), and the new ones are closed.
 */
abstract class DatabaseFixture {
    @TempDir java.nio.file.Path dir; // qualified: this package has its own Path
    Database db;
    Connection conn;

    @BeforeEach
    void openDatabase() {
        db = Database.open(dir.resolve("db"), Options.builder().sync(Options.Sync.OFF).build());
        conn = db.connect();
    }

    @AfterEach
    void closeDatabase() {
        conn.close();
        db.close();
    }
}
