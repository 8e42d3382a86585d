package dev.libgraphdb.graphdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Every value type through parameters and back, read three ways (views, JSON, Record). */
class ValuesTest extends DatabaseFixture {
    /** RETURN $p: the value as the view reader, the JSON reader and the Record see it. */
    private Object roundTrip(Object param) {
        Map<String, Object> params = new HashMap<>();
        params.put("p", param);
        try (Result r = conn.query("RETURN $p AS v", params)) {
            assertTrue(r.next());
            Object viaView = r.get(0);
            Object viaJson = Json.parse(r.getJson("v"));
            assertEquals(viaView, viaJson, "view and JSON readers disagree");
            assertEquals(viaView, r.record().get("v"));
            assertFalse(r.next());
            return viaView;
        }
    }

    @Test
    void scalarsRoundTrip() {
        assertEquals(null, roundTrip(null));
        assertEquals(true, roundTrip(true));
        assertEquals(false, roundTrip(false));
        assertEquals(Long.MAX_VALUE, roundTrip(Long.MAX_VALUE));
        assertEquals(Long.MIN_VALUE, roundTrip(Long.MIN_VALUE));
        assertEquals(42L, roundTrip(42)); // Integer widens to Long
        assertEquals(7L, roundTrip((short) 7));
        assertEquals(1.5, roundTrip(1.5));
        assertEquals(0.1, roundTrip(0.1f)); // Float as the decimal it prints as
        assertTrue(Double.isNaN((Double) roundTrip(Double.NaN)));
        assertEquals(Double.POSITIVE_INFINITY, roundTrip(Double.POSITIVE_INFINITY));
        assertEquals(Double.NEGATIVE_INFINITY, roundTrip(Double.NEGATIVE_INFINITY));
        assertEquals(-0.0, roundTrip(-0.0));
    }

    @Test
    void stringsKeepEveryCharacter() {
        String s = "a\u0000b \"q\" \\ \n\t é 中 😀 \u007f";
        assertEquals(s, roundTrip(s));
        assertEquals("", roundTrip(""));
        // and inside a list, which goes through the JSON form
        assertEquals(List.of(s, ""), roundTrip(List.of(s, "")));
        try (Result r = conn.query("RETURN $p AS v, size($p) AS n", Map.of("p", s))) {
            assertTrue(r.next());
            assertEquals(s, r.getString(0));
            assertEquals(s.codePointCount(0, s.length()), r.getLong("n"));
        }
    }

    @Test
    void listsAndMapsRoundTripNested() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("nothing", null);
        inner.put("nan", Double.NaN);
        inner.put("list", List.of(1L, 2.5, "x", List.of()));
        Map<String, Object> outer = new TreeMap<>();
        outer.put("b", inner);
        outer.put("a", Arrays.asList(true, null, -3L));
        outer.put("c", Map.of());
        assertEquals(outer, roundTrip(outer));
        // arrays and collections become lists
        assertEquals(List.of(1L, 2L, 3L), roundTrip(new int[] {1, 2, 3}));
        assertEquals(List.of("x", "y"), roundTrip(new String[] {"x", "y"}));
        assertEquals(List.of(List.of(1.0)), roundTrip(List.of(new double[] {1.0})));
        // Map keys come back in ascending order, whatever order they went in
        Map<String, Object> unordered = new LinkedHashMap<>();
        unordered.put("z", 1L);
        unordered.put("a", 2L);
        @SuppressWarnings("unchecked")
        Map<String, Object> back = (Map<String, Object>) roundTrip(unordered);
        assertEquals(List.of("a", "z"), List.copyOf(back.keySet()));
    }

    @Test
    void temporalValuesRoundTrip() {
        assertEquals(Temporal.date("2015-07-21"), roundTrip(Temporal.date("2015-07-21")));
        assertEquals(Temporal.date("2015-07-21"), roundTrip(LocalDate.of(2015, 7, 21)));
        assertEquals(Temporal.duration("P1Y2M3D"), roundTrip(Temporal.duration("P1Y2M3D")));
        try (Result r = conn.query("RETURN localtime('12:31:14') AS lt, time('12:31:14+01:00') AS t, "
                + "localdatetime('2015-07-21T12:31:14') AS ldt, datetime('2015-07-21T12:31:14Z') AS dt")) {
            assertTrue(r.next());
            assertEquals(new Temporal(Temporal.Kind.LOCAL_TIME, "12:31:14"), r.get("lt"));
            assertEquals(new Temporal(Temporal.Kind.TIME, "12:31:14+01:00"), r.get("t"));
            assertEquals(new Temporal(Temporal.Kind.LOCAL_DATETIME, "2015-07-21T12:31:14"), r.get("ldt"));
            assertEquals(new Temporal(Temporal.Kind.DATETIME, "2015-07-21T12:31:14Z"), r.get("dt"));
            assertEquals(ValueType.DATETIME, r.type(3));
            assertEquals("2015-07-21T12:31:14Z", r.getString("dt")); // string getter: Cypher form
            assertEquals(r.get("dt"), Json.parse(r.getJson("dt")));
        }
        // a temporal string that does not parse is the library's INVALID_ARGUMENT
        GraphDbException e = assertThrows(GraphDbException.class,
                () -> conn.query("RETURN $p", Map.of("p", Temporal.date("not a date"))));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
    }

    @Test
    void nodesRelationshipsAndPaths() {
        try (Result r = conn.query("CREATE p = (a:Person:Admin {name: 'Ada', age: 36})"
                + "-[k:KNOWS {since: 1843}]->(b:Person {name: 'Charles'}) RETURN a, k, b, p")) {
            assertEquals(List.of("a", "k", "b", "p"), r.columns());
            assertTrue(r.next());
            Node a = (Node) r.get("a");
            Node b = (Node) r.get("b");
            Relationship k = (Relationship) r.get("k");
            Path p = (Path) r.get("p");
            assertEquals(List.of("Admin", "Person"), a.labels().stream().sorted().toList());
            assertEquals(Map.of("name", "Ada", "age", 36L), a.properties());
            assertEquals("KNOWS", k.type());
            assertEquals(a.id(), k.start());
            assertEquals(b.id(), k.end());
            assertEquals(Map.of("since", 1843L), k.properties());
            assertEquals(List.of(a, b), p.nodes());
            assertEquals(List.of(k), p.relationships());
            assertEquals(1, p.length());
            for (String col : r.columns()) {
                assertEquals(r.get(col), Json.parse(r.getJson(col)), col);
            }
            assertEquals(ValueType.PATH, r.type(3));
            assertEquals(2, r.nodesCreated());
            assertEquals(1, r.relationshipsCreated());
            assertEquals(3, r.labelsAdded());
            assertEquals(4, r.propertiesSet());
        }
    }

    @Test
    void graphValuesAreRefusedAsParameters() {
        Node n;
        try (Result r = conn.query("CREATE (n:X) RETURN n")) {
            n = (Node) r.single().get(0);
        }
        GraphDbException e = assertThrows(GraphDbException.class,
                () -> conn.query("RETURN $p", Map.of("p", n)));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().toLowerCase().contains("node"), e.getMessage());
    }

    @Test
    void typedGettersDoNotConvert() {
        try (Result r = conn.query("RETURN 1 AS i, 2.5 AS d, 'x' AS s, true AS b, null AS n")) {
            assertTrue(r.next());
            assertEquals(1L, r.getLong("i"));
            assertEquals(2.5, r.getDouble("d"));
            assertEquals("x", r.getString("s"));
            assertTrue(r.getBoolean("b"));
            assertTrue(r.isNull("n"));
            assertEquals(ValueType.INT64, r.type(0));
            GraphDbException e = assertThrows(GraphDbException.class, () -> r.getDouble("i"));
            assertEquals(Status.TYPE_ERROR, e.status());
            assertEquals(Status.TYPE_ERROR, assertThrows(GraphDbException.class, () -> r.getLong("n")).status());
            assertEquals(Status.TYPE_ERROR, assertThrows(GraphDbException.class, () -> r.getString("b")).status());
            assertEquals(Status.INVALID_ARGUMENT, assertThrows(GraphDbException.class, () -> r.getLong(9)).status());
            assertEquals(Status.INVALID_ARGUMENT, assertThrows(GraphDbException.class, () -> r.get("nope")).status());
            Record rec = r.record();
            assertEquals(1L, rec.getLong("i"));
            assertEquals(Status.TYPE_ERROR, assertThrows(GraphDbException.class, () -> rec.getLong("s")).status());
            assertFalse(r.next());
            // no current row: MISUSE from the library, INVALID from the type query
            assertEquals(Status.MISUSE, assertThrows(GraphDbException.class, () -> r.getLong(0)).status());
            assertEquals(ValueType.INVALID, r.type(0));
        }
    }

    @Test
    void preparedStatementRunsManyTimes() {
        try (PreparedStatement st = conn.prepare("CREATE (n:Item {k: $k}) RETURN n.k * 2 AS twice")) {
            for (long k = 0; k < 5; k++) {
                try (Result r = st.execute(Map.of("k", k))) {
                    assertEquals(2 * k, r.single().getLong("twice"));
                    assertEquals(1, r.nodesCreated());
                }
            }
        }
        try (Result r = conn.query("MATCH (n:Item) RETURN count(n) AS c, sum(n.k) AS s")) {
            Record rec = r.single();
            assertEquals(5L, rec.getLong("c"));
            assertEquals(10L, rec.getLong("s"));
        }
        try (Result r = conn.query("MATCH (n:Item) WHERE n.k < 2 DETACH DELETE n")) {
            assertEquals(2, r.nodesDeleted());
        }
    }

    @Test
    void iterationReadsEveryRow() {
        try (Result r = conn.query("UNWIND range(1, 100) AS x RETURN x")) {
            long sum = 0;
            int rows = 0;
            for (Record rec : r) {
                sum += rec.getLong(0);
                rows++;
            }
            assertEquals(100, rows);
            assertEquals(5050, sum);
            assertFalse(r.next());
        }
    }

    @Test
    void jsonEncoderWritesTheDocumentedForm() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("f", 1.0);
        m.put("i", 1);
        m.put("nan", Float.NaN);
        m.put("s", "\u0001\"");
        assertEquals("{\"f\":1.0,\"i\":1,\"nan\":{\"$float\":\"NaN\"},\"s\":\"\\u0001\\\"\"}", Json.stringify(m));
        assertEquals(m.keySet(), ((Map<?, ?>) Json.parse(Json.stringify(m))).keySet());
        assertThrows(GraphDbException.class, () -> Json.parse("[1,"));
        assertThrows(GraphDbException.class, () -> Json.stringify(new Object()));
    }
}
