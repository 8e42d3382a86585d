package dev.libgraphdb.graphdb;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One row of a result, read whole into Java values: independent of the result, usable after
 * it is closed. Typed getters do not convert (an integer column is not a double), as in C.
 */
public final class Record {
    private final List<String> columns;
    private final Map<String, Integer> index;
    private final Object[] values;

    Record(List<String> columns, Map<String, Integer> index, Object[] values) {
        this.columns = columns;
        this.index = index;
        this.values = values;
    }

    public List<String> columns() {
        return columns;
    }

    public int size() {
        return values.length;
    }

    public Object get(int col) {
        if (col < 0 || col >= values.length) {
            throw new GraphDbException(Status.INVALID_ARGUMENT,
                    "column " + col + " is out of range (the row has " + values.length + ")");
        }
        return values[col];
    }

    public Object get(String column) {
        return values[Result.indexOf(index, columns, column)];
    }

    public boolean isNull(int col) {
        return get(col) == null;
    }

    public boolean isNull(String column) {
        return get(column) == null;
    }

    public long getLong(int col) {
        return typed(col, Long.class, "an integer");
    }

    public long getLong(String column) {
        return getLong(Result.indexOf(index, columns, column));
    }

    public double getDouble(int col) {
        return typed(col, Double.class, "a float");
    }

    public double getDouble(String column) {
        return getDouble(Result.indexOf(index, columns, column));
    }

    public boolean getBoolean(int col) {
        return typed(col, Boolean.class, "a boolean");
    }

    public boolean getBoolean(String column) {
        return getBoolean(Result.indexOf(index, columns, column));
    }

    /** A string; for a temporal value its Cypher string form, as graphdb_result_get_string. */
    public String getString(int col) {
        Object v = get(col);
        if (v instanceof Temporal t) {
            return t.text();
        }
        return typed(col, String.class, "a string");
    }

    public String getString(String column) {
        return getString(Result.indexOf(index, columns, column));
    }

    private <T> T typed(int col, Class<T> type, String what) {
        Object v = get(col);
        if (!type.isInstance(v)) {
            throw new GraphDbException(Status.TYPE_ERROR, "column '" + columns.get(col) + "' holds "
                    + (v == null ? "null" : v.getClass().getSimpleName()) + ", not " + what);
        }
        return type.cast(v);
    }

    /** Column name to value, in column order. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            m.put(columns.get(i), values[i]);
        }
        return Collections.unmodifiableMap(m);
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
