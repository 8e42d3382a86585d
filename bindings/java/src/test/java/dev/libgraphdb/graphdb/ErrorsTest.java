package dev.libgraphdb.graphdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each failure class arrives with its status, the library's message, and the right type. */
class ErrorsTest extends DatabaseFixture {
    private GraphDbException fails(String cypher) {
        return assertThrows(GraphDbException.class, () -> conn.query(cypher).close());
    }

    @Test
    void syntaxErrorHasPosition() {
        GraphDbException e = fails("MATCH (n)\nRETURN n +* 2");
        SyntaxErrorException s = assertInstanceOf(SyntaxErrorException.class, e);
        assertEquals(Status.SYNTAX_ERROR, s.status());
        assertEquals(2, s.line());
        assertTrue(s.column() >= 9 && s.column() <= 11, "column " + s.column());
        assertFalse(s.getMessage().isEmpty());
        assertFalse(s.isRetryable());
        // the connection works after the failure, and a success carries no stale position
        try (Result r = conn.query("RETURN 1 AS one")) {
            assertEquals(1L, r.single().getLong(0));
        }
    }

    @Test
    void semanticErrorNamesTheProblem() {
        GraphDbException e = fails("RETURN missing_variable");
        assertEquals(Status.SEMANTIC_ERROR, e.status());
        assertTrue(e.getMessage().contains("missing_variable"), e.getMessage());
        assertFalse(e instanceof SyntaxErrorException);
    }

    @Test
    void runtimeTypeError() {
        GraphDbException e = fails("RETURN 1 + 'a' + [1] - 'x'");
        assertEquals(Status.TYPE_ERROR, e.status());
    }

    @Test
    void constraintViolation() {
        conn.query("CREATE CONSTRAINT person_name FOR (p:Person) REQUIRE p.name IS UNIQUE").close();
        conn.query("CREATE (:Person {name: 'Ada'})").close();
        GraphDbException e = fails("CREATE (:Person {name: 'Ada'})");
        assertEquals(Status.CONSTRAINT_VIOLATION, e.status());
        assertTrue(e.getMessage().contains("Ada"), e.getMessage());
        try (Result r = conn.query("MATCH (p:Person) RETURN count(p)")) {
            assertEquals(1L, r.single().getLong(0));
        }
    }

    @Test
    void readOnlyTransactionRefusesWrites() {
        try (Transaction tx = conn.begin(TxMode.READ_ONLY)) {
            GraphDbException e = assertThrows(GraphDbException.class, () -> tx.query("CREATE (:X)").close());
            assertEquals(Status.READ_ONLY, e.status());
        }
        try (Result r = conn.query("MATCH (n) RETURN count(n)")) {
            assertEquals(0L, r.single().getLong(0));
        }
    }

    @Test
    void readOnlyDatabaseRefusesWrites() {
        conn.query("CREATE (:X)").close();
        conn.close();
        db.close();
        db = Database.open(dir.resolve("db"), Options.builder().readOnly(true).build());
        conn = db.connect();
        assertEquals(Status.READ_ONLY, fails("CREATE (:Y)").status());
        assertEquals(Status.READ_ONLY, assertThrows(GraphDbException.class, db::checkpoint).status());
        try (Result r = conn.query("MATCH (n:X) RETURN count(n)")) {
            assertEquals(1L, r.single().getLong(0));
        }
    }

    @Test
    void badOptionsAreRefusedWithTheLibrarysMessage() {
        GraphDbException e = assertThrows(GraphDbException.class, () -> Database.open(dir.resolve("other"),
                Options.builder().set("sync", "sometimes").build()));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("sometimes"), e.getMessage());
        e = assertThrows(GraphDbException.class, () -> Database.open(dir.resolve("other"),
                Options.builder().set("no_such_key", "1").build()));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("no_such_key"), e.getMessage());
        e = assertThrows(GraphDbException.class, () -> Database.open(dir.resolve("missing"),
                Options.builder().create(false).build()));
        assertTrue(e.getMessage().length() > 0);
    }

    @Test
    void badInputIsAnErrorNotACrash() {
        // a NUL in query text would silently cut the query in C
        assertEquals(Status.INVALID_ARGUMENT, fails("RETURN 1\u0000 + 1").status());
        // a lone surrogate is not Unicode: the library's own UTF-8 check refuses it
        GraphDbException e = assertThrows(GraphDbException.class,
                () -> conn.query("RETURN $p", Map.of("p", "x\ud800y")));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        e = assertThrows(GraphDbException.class,
                () -> conn.query("RETURN $p", Map.of("p", java.util.List.of("x\ud800y"))));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        // an integer beyond 64 bits, an unsupported Java type, a null name, a null query
        e = assertThrows(GraphDbException.class, () -> conn.query("RETURN $p",
                Map.of("p", java.util.List.of(java.math.BigInteger.ONE.shiftLeft(70)))));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        e = assertThrows(GraphDbException.class, () -> conn.query("RETURN $p", Map.of("p", new Object())));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("$p"), e.getMessage());
        Map<String, Object> nullName = new HashMap<>();
        nullName.put(null, 1);
        assertThrows(GraphDbException.class, () -> conn.query("RETURN 1", nullName));
        assertThrows(GraphDbException.class, () -> conn.query(null));
        // a missing parameter is the library's error
        assertThrows(GraphDbException.class, () -> conn.query("RETURN $absent").close());
        try (Result r = conn.query("RETURN 'still fine'")) {
            assertEquals("still fine", r.single().getString(0));
        }
    }

    @Test
    void transactionStateErrors() {
        try (Transaction tx = conn.begin()) {
            GraphDbException e = assertThrows(GraphDbException.class, conn::begin);
            assertEquals(Status.TRANSACTION_STATE, e.status());
            tx.commit();
            assertThrows(IllegalStateException.class, tx::commit);
        }
    }
}
