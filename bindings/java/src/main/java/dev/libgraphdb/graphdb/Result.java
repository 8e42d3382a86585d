package dev.libgraphdb.graphdb;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The result of one statement: its columns, its rows (advance with {@link #next()} and read
 * the current row with the getters, or iterate {@link Record}s), and its change counters.
 *
 * <p>Getters take the column index (0-based) or name. They do not convert: a getter of the
 * wrong type, also on a null value, throws {@link GraphDbException} with status TYPE_ERROR.
 * Reading goes through the connection's lock, like every call made from a connection; the
 * result stays readable after its connection is closed.
 */
public final class Result implements AutoCloseable, Iterable<Record> {
    private static final int NODES_CREATED = 0, NODES_DELETED = 1, RELATIONSHIPS_CREATED = 2,
            RELATIONSHIPS_DELETED = 3, PROPERTIES_SET = 4, LABELS_ADDED = 5, LABELS_REMOVED = 6;

    private final Connection conn;
    private final NativeHandle handle;
    private final List<String> columns;
    private final Map<String, Integer> index;
    private final long[] stats;

    /** Called with the connection's lock held. */
    Result(Connection conn, long address) {
        this.conn = conn;
        this.handle = new NativeHandle(this, "Result", address, Native::resultFree);
        List<String> cols = new ArrayList<>();
        Map<String, Integer> idx = new HashMap<>();
        long[] counters;
        try {
            int n = (int) Native.resultColumnCount(address);
            for (int i = 0; i < n; i++) {
                String name = Utf8.decode(Native.resultColumnName(address, i));
                cols.add(name);
                idx.putIfAbsent(name, i);
            }
            counters = Native.resultStats(address);
        } catch (RuntimeException | Error e) {
            handle.close(); // nobody will get this result to close it
            throw e;
        }
        this.columns = Collections.unmodifiableList(cols);
        this.index = idx;
        this.stats = counters;
    }

    public List<String> columns() {
        return columns;
    }

    /** Moves to the next row; false once there is none (and stays false). */
    public boolean next() {
        conn.lock();
        try {
            return Native.resultNext(handle.get(), conn.addressOrZero());
        } finally {
            conn.unlock();
        }
    }

    /** The type of a column in the current row; INVALID when there is no current row. */
    public ValueType type(int col) {
        conn.lock();
        try {
            return ValueType.fromCode(Native.resultType(handle.get(), col));
        } finally {
            conn.unlock();
        }
    }

    public boolean isNull(int col) {
        return type(col) == ValueType.NULL;
    }

    public boolean isNull(String column) {
        return isNull(indexOf(column));
    }

    public long getLong(int col) {
        checkIndex(col);
        conn.lock();
        try {
            return Native.resultGetInt64(handle.get(), conn.addressOrZero(), col);
        } finally {
            conn.unlock();
        }
    }

    public long getLong(String column) {
        return getLong(indexOf(column));
    }

    public double getDouble(int col) {
        checkIndex(col);
        conn.lock();
        try {
            return Native.resultGetDouble(handle.get(), conn.addressOrZero(), col);
        } finally {
            conn.unlock();
        }
    }

    public double getDouble(String column) {
        return getDouble(indexOf(column));
    }

    public boolean getBoolean(int col) {
        checkIndex(col);
        conn.lock();
        try {
            return Native.resultGetBool(handle.get(), conn.addressOrZero(), col);
        } finally {
            conn.unlock();
        }
    }

    public boolean getBoolean(String column) {
        return getBoolean(indexOf(column));
    }

    /** A string; for a temporal value its Cypher string form. */
    public String getString(int col) {
        checkIndex(col);
        conn.lock();
        try {
            return Utf8.decode(Native.resultGetString(handle.get(), conn.addressOrZero(), col));
        } finally {
            conn.unlock();
        }
    }

    public String getString(String column) {
        return getString(indexOf(column));
    }

    /** The value in the JSON form of API.md (works for every type). */
    public String getJson(int col) {
        checkIndex(col);
        conn.lock();
        try {
            return Utf8.decode(Native.resultGetJson(handle.get(), conn.addressOrZero(), col));
        } finally {
            conn.unlock();
        }
    }

    public String getJson(String column) {
        return getJson(indexOf(column));
    }

    /**
     * Any value as a Java object: null, Boolean, Long, Double, String, List, Map, Node,
     * Relationship, Path or Temporal.
     */
    public Object get(int col) {
        checkIndex(col);
        conn.lock();
        try {
            return Values.read(Native.resultGetValue(handle.get(), conn.addressOrZero(), col));
        } finally {
            conn.unlock();
        }
    }

    public Object get(String column) {
        return get(indexOf(column));
    }

    /** The current row, read whole. */
    public Record record() {
        conn.lock();
        try {
            Object[] values = new Object[columns.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = get(i);
            }
            return new Record(columns, index, values);
        } finally {
            conn.unlock();
        }
    }

    /** The remaining rows. */
    public List<Record> list() {
        List<Record> out = new ArrayList<>();
        for (Record r : this) {
            out.add(r);
        }
        return out;
    }

    /** The only remaining row; INVALID_ARGUMENT if there is none or more than one. */
    public Record single() {
        if (!next()) {
            throw new GraphDbException(Status.INVALID_ARGUMENT, "the result has no row");
        }
        Record r = record();
        if (next()) {
            throw new GraphDbException(Status.INVALID_ARGUMENT, "the result has more than one row");
        }
        return r;
    }

    /** Iterates the remaining rows, each advancing this result. */
    @Override
    public Iterator<Record> iterator() {
        return new Iterator<>() {
            private Boolean ready;

            @Override
            public boolean hasNext() {
                if (ready == null) {
                    ready = Result.this.next();
                }
                return ready;
            }

            @Override
            public Record next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                ready = null;
                return record();
            }
        };
    }

    public long nodesCreated() {
        return stats[NODES_CREATED];
    }

    public long nodesDeleted() {
        return stats[NODES_DELETED];
    }

    public long relationshipsCreated() {
        return stats[RELATIONSHIPS_CREATED];
    }

    public long relationshipsDeleted() {
        return stats[RELATIONSHIPS_DELETED];
    }

    public long propertiesSet() {
        return stats[PROPERTIES_SET];
    }

    public long labelsAdded() {
        return stats[LABELS_ADDED];
    }

    public long labelsRemoved() {
        return stats[LABELS_REMOVED];
    }

    public boolean isOpen() {
        return handle.isOpen();
    }

    /** Idempotent. */
    @Override
    public void close() {
        conn.closeUnderLock(handle);
    }

    private int indexOf(String column) {
        return indexOf(index, columns, column);
    }

    static int indexOf(Map<String, Integer> index, List<String> columns, String column) {
        Integer i = index.get(column);
        if (i == null) {
            throw new GraphDbException(Status.INVALID_ARGUMENT,
                    "no column named '" + column + "'; the columns are " + columns);
        }
        return i;
    }

    /** A negative index would wrap to a huge size_t; the library refuses that too, but say it plainly. */
    private void checkIndex(int col) {
        if (col < 0) {
            throw new GraphDbException(Status.INVALID_ARGUMENT, "column index " + col + " is negative");
        }
    }
}
