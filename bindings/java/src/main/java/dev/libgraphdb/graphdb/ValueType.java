package dev.libgraphdb.graphdb;

/** The type of a value in a result row (graphdb_value_type). */
public enum ValueType {
    NULL, BOOL, INT64, DOUBLE, STRING, LIST, MAP, NODE, RELATIONSHIP, PATH,
    DATE, LOCAL_TIME, TIME, LOCAL_DATETIME, DATETIME, DURATION,
    /** A bad argument: no current row, or a column out of range. */
    INVALID;

    private static final ValueType[] BY_CODE = values();

    static ValueType fromCode(int code) {
        return code >= 0 && code < INVALID.ordinal() ? BY_CODE[code] : INVALID;
    }
}
