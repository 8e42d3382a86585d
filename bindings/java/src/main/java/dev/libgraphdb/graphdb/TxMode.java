package dev.libgraphdb.graphdb;

/** The access mode of an explicit transaction (graphdb_txn_mode). */
public enum TxMode {
    READ_WRITE(0),
    READ_ONLY(1);

    final int code;

    TxMode(int code) {
        this.code = code;
    }
}
