package dev.libgraphdb.graphdb;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a borrowed graphdb_value view into Java objects. Callers hold the connection's lock
 * and the view's row stays current for the whole read, so every view address is live.
 */
final class Values {
    private Values() {}

    static Object read(long v) {
        ValueType type = ValueType.fromCode(Native.valueType(v));
        switch (type) {
            case NULL:
                return null;
            case BOOL:
                return Native.valueBool(v);
            case INT64:
                return Native.valueInt64(v);
            case DOUBLE:
                return Native.valueDouble(v);
            case STRING:
                return Utf8.decode(Native.valueString(v));
            case LIST: {
                long n = Native.valueListSize(v);
                List<Object> out = new ArrayList<>((int) Math.min(n, 1 << 16));
                for (long i = 0; i < n; i++) {
                    out.add(read(Native.valueListGet(v, i)));
                }
                return Collections.unmodifiableList(out);
            }
            case MAP:
                return readMap(v);
            case NODE:
                return readNode(v);
            case RELATIONSHIP:
                return readRelationship(v);
            case PATH: {
                long len = Native.valuePathLength(v);
                List<Node> nodes = new ArrayList<>();
                List<Relationship> rels = new ArrayList<>();
                for (long i = 0; i <= len; i++) {
                    nodes.add(readNode(Native.valuePathNode(v, i)));
                }
                for (long i = 0; i < len; i++) {
                    rels.add(readRelationship(Native.valuePathRel(v, i)));
                }
                return new Path(nodes, rels);
            }
            case DATE:
                return new Temporal(Temporal.Kind.DATE, Utf8.decode(Native.valueString(v)));
            case LOCAL_TIME:
                return new Temporal(Temporal.Kind.LOCAL_TIME, Utf8.decode(Native.valueString(v)));
            case TIME:
                return new Temporal(Temporal.Kind.TIME, Utf8.decode(Native.valueString(v)));
            case LOCAL_DATETIME:
                return new Temporal(Temporal.Kind.LOCAL_DATETIME, Utf8.decode(Native.valueString(v)));
            case DATETIME:
                return new Temporal(Temporal.Kind.DATETIME, Utf8.decode(Native.valueString(v)));
            case DURATION:
                return new Temporal(Temporal.Kind.DURATION, Utf8.decode(Native.valueString(v)));
            default:
                throw new GraphDbException(Status.INTERNAL, "libgraphdb returned a value of unknown type");
        }
    }

    private static Map<String, Object> readMap(long v) {
        long n = Native.valueMapSize(v);
        Map<String, Object> out = new LinkedHashMap<>();
        for (long i = 0; i < n; i++) {
            out.put(Utf8.decode(Native.valueMapKey(v, i)), read(Native.valueMapValue(v, i)));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Node readNode(long v) {
        long n = Native.valueNodeLabelCount(v);
        List<String> labels = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            labels.add(Utf8.decode(Native.valueNodeLabel(v, i)));
        }
        return new Node(Native.valueNodeId(v), labels, readMap(Native.valueNodeProperties(v)));
    }

    private static Relationship readRelationship(long v) {
        return new Relationship(
                Native.valueRelId(v),
                Utf8.decode(Native.valueRelType(v)),
                Native.valueRelStart(v),
                Native.valueRelEnd(v),
                readMap(Native.valueRelProperties(v)));
    }

    static Map<String, Object> unmodifiable(Map<String, Object> m) {
        return Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }
}
