package dev.libgraphdb.graphdb;

/** The isolation level of a transaction (graphdb_isolation). */
public enum Isolation {
    /** The database's {@code isolation} option (serializable unless set otherwise). */
    DEFAULT(0, null),
    SERIALIZABLE(1, "serializable"),
    SNAPSHOT(2, "snapshot");

    final int code;
    final String optionValue;

    Isolation(int code, String optionValue) {
        this.code = code;
        this.optionValue = optionValue;
    }
}
