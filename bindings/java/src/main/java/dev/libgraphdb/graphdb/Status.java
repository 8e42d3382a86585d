package dev.libgraphdb.graphdb;

/** The C API's graphdb_status, one constant per code in the same order. */
public enum Status {
    OK,
    ERROR,
    SYNTAX_ERROR,
    SEMANTIC_ERROR,
    TYPE_ERROR,
    CONSTRAINT_VIOLATION,
    CONFLICT,
    LOCKED,
    BUSY,
    READ_ONLY,
    TRANSACTION_STATE,
    INVALID_ARGUMENT,
    MISUSE,
    INTERRUPTED,
    IO_ERROR,
    CORRUPT,
    INTERNAL;

    private static final Status[] BY_CODE = values();

    /** The C code (GRAPHDB_OK = 0 ...). */
    public int code() {
        return ordinal();
    }

    /** The constant for a C code; an unknown code (a newer library) is ERROR. */
    public static Status fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : ERROR;
    }
}
