package dev.libgraphdb.graphdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Commit, rollback, and what another connection sees. */
class TransactionTest extends DatabaseFixture {
    Connection other;

    @BeforeEach
    void openOther() { // after the fixture's database and conn
        other = db.connect();
    }

    @AfterEach
    void closeOther() { // before the fixture closes conn and db
        other.close();
    }

    private long count(Connection c) {
        try (Result r = c.query("MATCH (n:T) RETURN count(n)")) {
            return r.single().getLong(0);
        }
    }

    @Test
    void commitIsVisibleOnlyAfterCommit() {
        try (Transaction tx = conn.begin()) {
            tx.query("CREATE (:T)").close();
            assertEquals(1, count(conn)); // own writes
            assertEquals(0, count(other)); // not yet committed
            tx.commit();
            assertFalse(tx.isOpen());
        }
        assertEquals(1, count(other));
    }

    @Test
    void rollbackDiscards() {
        Transaction tx = conn.begin(TxMode.READ_WRITE, Isolation.SNAPSHOT);
        conn.query("CREATE (:T), (:T)").close();
        assertEquals(2, count(conn));
        tx.rollback();
        assertEquals(0, count(conn));
        assertEquals(0, count(other));
        tx.close(); // after rollback: nothing to do
    }

    @Test
    void closeWithoutCommitRollsBack() {
        try (Transaction tx = conn.begin()) {
            tx.query("CREATE (:T)").close();
        }
        assertEquals(0, count(conn));
        // the connection is out of the transaction: auto-commit works again
        conn.query("CREATE (:T)").close();
        assertEquals(1, count(other));
    }

    @Test
    void closingTheConnectionRollsBackItsTransaction() {
        Transaction tx = conn.begin();
        tx.query("CREATE (:T)").close();
        conn.close();
        assertEquals(0, count(other));
        GraphDbException e = assertThrows(GraphDbException.class, tx::commit);
        assertEquals(Status.TRANSACTION_STATE, e.status());
        tx.close();
    }

    @Test
    void snapshotSeesItsStartingPoint() {
        try (Transaction tx = conn.begin(TxMode.READ_ONLY, Isolation.SNAPSHOT)) {
            assertEquals(0, count(conn));
            other.query("CREATE (:T)").close();
            assertEquals(0, count(conn));
            tx.commit();
        }
        assertEquals(1, count(conn));
    }

    @Test
    void transactCommitsAndReturnsTheValue() {
        long id = conn.transact(c -> {
            try (Result r = c.query("CREATE (n:T {v: 1}) RETURN id(n)")) {
                return r.single().getLong(0);
            }
        });
        assertEquals(1, conn.lastTransactAttempts());
        try (Result r = other.query("MATCH (n:T) RETURN id(n)")) {
            assertEquals(id, r.single().getLong(0));
        }
    }

    @Test
    void transactRollsBackAndPropagatesOtherFailures() {
        AtomicInteger runs = new AtomicInteger();
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> conn.transact(c -> {
            runs.incrementAndGet();
            c.query("CREATE (:T)").close();
            throw boom;
        }));
        assertSame(boom, thrown);
        GraphDbException e = assertThrows(GraphDbException.class, () -> conn.transact(c -> {
            runs.incrementAndGet();
            c.query("CREATE (:T)").close();
            c.query("RETURN nope").close();
            return null;
        }));
        assertEquals(Status.SEMANTIC_ERROR, e.status());
        assertEquals(2, runs.get()); // neither retried
        assertEquals(0, count(other));
        assertEquals(0, count(conn)); // and the connection is out of the transaction
        Boolean ok = conn.transact(c -> Boolean.TRUE);
        assertTrue(ok);
    }

    @Test
    void cypherTransactionControlIsTolerated() {
        // A Cypher COMMIT ends the transaction behind the handle's back: close stays quiet.
        try (Transaction tx = conn.begin()) {
            tx.query("CREATE (:T)").close();
            conn.query("COMMIT").close();
        }
        assertEquals(1, count(other));
    }
}
