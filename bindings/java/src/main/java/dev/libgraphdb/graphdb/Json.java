package dev.libgraphdb.graphdb;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of values (API.md): integers as JSON integers, floats always with a fraction
 * or exponent, NaN and infinities as {@code {"$float": "NaN"}}, and tagged objects for nodes,
 * relationships, paths and temporal values. {@link #stringify} is how lists and maps become
 * parameters; {@link #parse} reads graphdb_result_get_json and the stats object.
 */
public final class Json {
    private Json() {}

    // ---- encoding ---------------------------------------------------------------------

    /**
     * The JSON form of a Java value: null, Boolean, integral numbers (Byte .. Long,
     * BigInteger), Float/Double/BigDecimal, CharSequence/Character, Map with String keys,
     * Iterable, arrays, {@link Temporal}, java.time dates, times and durations, and Node,
     * Relationship, Path (which the library refuses as parameters, with its own message).
     */
    public static String stringify(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    private static final int MAX_DEPTH = 512;

    private static void write(StringBuilder sb, Object v, int depth) {
        if (depth > MAX_DEPTH) {
            throw new GraphDbException(Status.INVALID_ARGUMENT, "value nests deeper than " + MAX_DEPTH + " levels (a cycle?)");
        }
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean) {
            sb.append(v);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger) {
            sb.append(v);
        } else if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
            writeDouble(sb, toDouble((Number) v));
        } else if (v instanceof CharSequence || v instanceof Character) {
            writeString(sb, v.toString());
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new GraphDbException(Status.INVALID_ARGUMENT,
                            "map keys must be strings, got " + typeName(e.getKey()));
                }
                if (!first) sb.append(',');
                first = false;
                writeString(sb, key);
                sb.append(':');
                write(sb, e.getValue(), depth + 1);
            }
            sb.append('}');
        } else if (v instanceof Iterable<?> it) {
            sb.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) sb.append(',');
                first = false;
                write(sb, o, depth + 1);
            }
            sb.append(']');
        } else if (v.getClass().isArray()) {
            sb.append('[');
            int n = Array.getLength(v);
            for (int i = 0; i < n; i++) {
                if (i > 0) sb.append(',');
                write(sb, Array.get(v, i), depth + 1);
            }
            sb.append(']');
        } else if (v instanceof Temporal t) {
            tagged(sb, t.kind().jsonTag, t.text());
        } else if (v instanceof java.time.LocalDate) {
            tagged(sb, "$date", v.toString());
        } else if (v instanceof java.time.LocalTime) {
            tagged(sb, "$localtime", v.toString());
        } else if (v instanceof java.time.OffsetTime) {
            tagged(sb, "$time", v.toString());
        } else if (v instanceof java.time.LocalDateTime) {
            tagged(sb, "$localdatetime", v.toString());
        } else if (v instanceof java.time.OffsetDateTime || v instanceof java.time.ZonedDateTime
                || v instanceof java.time.Instant) {
            tagged(sb, "$datetime", v.toString());
        } else if (v instanceof java.time.Duration || v instanceof java.time.Period) {
            tagged(sb, "$duration", v.toString());
        } else if (v instanceof Node n) {
            sb.append("{\"$node\":{\"id\":").append(n.id()).append(",\"labels\":");
            write(sb, n.labels(), depth + 1);
            sb.append(",\"properties\":");
            write(sb, n.properties(), depth + 1);
            sb.append("}}");
        } else if (v instanceof Relationship r) {
            sb.append("{\"$relationship\":{\"id\":").append(r.id()).append(",\"type\":");
            writeString(sb, r.type());
            sb.append(",\"start\":").append(r.start()).append(",\"end\":").append(r.end());
            sb.append(",\"properties\":");
            write(sb, r.properties(), depth + 1);
            sb.append("}}");
        } else if (v instanceof Path p) {
            sb.append("{\"$path\":{\"nodes\":");
            write(sb, p.nodes(), depth + 1);
            sb.append(",\"relationships\":");
            write(sb, p.relationships(), depth + 1);
            sb.append("}}");
        } else {
            throw new GraphDbException(Status.INVALID_ARGUMENT,
                    "cannot pass a " + typeName(v) + " as a graphdb value");
        }
    }

    /** A Float as the decimal it prints as (0.1f is 0.1, not 0.10000000149...). */
    static double toDouble(Number n) {
        return n instanceof Float f ? Double.parseDouble(f.toString()) : n.doubleValue();
    }

    private static void writeDouble(StringBuilder sb, double d) {
        if (Double.isNaN(d)) {
            sb.append("{\"$float\":\"NaN\"}");
        } else if (Double.isInfinite(d)) {
            sb.append(d > 0 ? "{\"$float\":\"Infinity\"}" : "{\"$float\":\"-Infinity\"}");
        } else {
            // Double.toString always has a fraction or an exponent ("1.0", "1.0E10"), both
            // valid JSON, so the value stays a float.
            sb.append(Double.toString(d));
        }
    }

    private static void tagged(StringBuilder sb, String tag, String text) {
        sb.append('{');
        writeString(sb, tag);
        sb.append(':');
        writeString(sb, text);
        sb.append('}');
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private static void writeString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20) {
                        sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    static String typeName(Object o) {
        return o == null ? "null" : o.getClass().getName();
    }

    // ---- decoding ---------------------------------------------------------------------

    /**
     * Reads JSON text into Long, Double, String, Boolean, null, List, Map, and the tagged
     * objects into Double (from $float), Node, Relationship, Path and Temporal.
     */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        Object v = p.value(0);
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the value");
        }
        return v;
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        GraphDbException error(String what) {
            return new GraphDbException(Status.INVALID_ARGUMENT, "bad JSON at offset " + pos + ": " + what);
        }

        void skipSpace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
                pos++;
            }
        }

        char peek() {
            if (pos >= s.length()) throw error("unexpected end");
            return s.charAt(pos);
        }

        void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            pos++;
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) throw error("nested too deeply");
            char c = peek();
            switch (c) {
                case '{': return object(depth);
                case '[': return array(depth);
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw error("unexpected character '" + c + "'");
            }
        }

        Object literal(String word, Object v) {
            if (!s.startsWith(word, pos)) throw error("expected " + word);
            pos += word.length();
            return v;
        }

        Object number() {
            int start = pos;
            boolean isFloat = false;
            if (peekIs('-')) pos++;
            if (!digits()) throw error("expected a digit");
            if (peekIs('.')) {
                isFloat = true;
                pos++;
                if (!digits()) throw error("expected a digit after '.'");
            }
            if (peekIs('e') || peekIs('E')) {
                isFloat = true;
                pos++;
                if (peekIs('+') || peekIs('-')) pos++;
                if (!digits()) throw error("expected an exponent");
            }
            String t = s.substring(start, pos);
            if (isFloat) return Double.parseDouble(t);
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException e) {
                return new BigInteger(t);
            }
        }

        boolean peekIs(char c) {
            return pos < s.length() && s.charAt(pos) == c;
        }

        boolean digits() {
            int start = pos;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') pos++;
            return pos > start;
        }

        String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = peek();
                pos++;
                if (c == '"') return sb.toString();
                if (c < 0x20) throw error("control character in a string");
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = peek();
                pos++;
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u':
                        if (pos + 4 > s.length()) throw error("short \\u escape");
                        try {
                            sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("bad \\u escape");
                        }
                        pos += 4;
                        break;
                    default:
                        throw error("bad escape '\\" + e + "'");
                }
            }
        }

        List<Object> array(int depth) {
            expect('[');
            List<Object> out = new ArrayList<>();
            skipSpace();
            if (peekIs(']')) {
                pos++;
                return Collections.unmodifiableList(out);
            }
            while (true) {
                skipSpace();
                out.add(value(depth + 1));
                skipSpace();
                if (peekIs(',')) {
                    pos++;
                } else {
                    expect(']');
                    return Collections.unmodifiableList(out);
                }
            }
        }

        Object object(int depth) {
            expect('{');
            Map<String, Object> out = new LinkedHashMap<>();
            skipSpace();
            if (peekIs('}')) {
                pos++;
                return Collections.unmodifiableMap(out);
            }
            while (true) {
                skipSpace();
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                out.put(key, value(depth + 1));
                skipSpace();
                if (peekIs(',')) {
                    pos++;
                } else {
                    expect('}');
                    break;
                }
            }
            return out.size() == 1 ? untag(out) : Collections.unmodifiableMap(out);
        }

        /** A map whose only key is a $ tag is the tagged value. */
        Object untag(Map<String, Object> m) {
            Map.Entry<String, Object> e = m.entrySet().iterator().next();
            String tag = e.getKey();
            Object v = e.getValue();
            try {
                switch (tag) {
                    case "$float":
                        return Double.parseDouble((String) v);
                    case "$node":
                        return node(v);
                    case "$relationship":
                        return relationship(v);
                    case "$path": {
                        Map<?, ?> p = (Map<?, ?>) v;
                        List<Node> nodes = new ArrayList<>();
                        for (Object n : (List<?>) p.get("nodes")) nodes.add((Node) n);
                        List<Relationship> rels = new ArrayList<>();
                        for (Object r : (List<?>) p.get("relationships")) rels.add((Relationship) r);
                        return new Path(nodes, rels);
                    }
                    default:
                        Temporal.Kind kind = Temporal.Kind.fromTag(tag);
                        if (kind != null) return new Temporal(kind, (String) v);
                        return Collections.unmodifiableMap(m);
                }
            } catch (ClassCastException | NullPointerException | NumberFormatException ex) {
                throw error("malformed " + tag + " value");
            }
        }

        @SuppressWarnings("unchecked")
        Node node(Object v) {
            Map<String, Object> n = (Map<String, Object>) v;
            List<String> labels = new ArrayList<>();
            for (Object l : (List<?>) n.get("labels")) labels.add((String) l);
            return new Node((Long) n.get("id"), labels, (Map<String, Object>) n.get("properties"));
        }

        @SuppressWarnings("unchecked")
        Relationship relationship(Object v) {
            Map<String, Object> r = (Map<String, Object>) v;
            return new Relationship((Long) r.get("id"), (String) r.get("type"), (Long) r.get("start"),
                    (Long) r.get("end"), (Map<String, Object>) r.get("properties"));
        }
    }
}
