package dev.libgraphdb.graphdb;

/**
 * The JNI surface: one static method per C API call (see src/main/c/graphdb_jni.c).
 *
 * <p>Contract for callers in this package: handles are never 0 where C wants a live one (the
 * wrappers throw IllegalStateException first), strings are UTF-8 byte arrays, and every call
 * on a connection or anything made from it happens under that connection's lock (except
 * {@link #interrupt}). Methods taking {@code conn} read the failure details from it; 0 means
 * the connection is closed and only the status is known.
 */
final class Native {
    private Native() {}

    static {
        String path = System.getProperty("graphdb.jni.library");
        if (path != null && !path.isEmpty()) {
            System.load(path);
        } else {
            System.loadLibrary("graphdb_jni");
        }
    }

    /** Forces the library to load (and fail loudly) at a predictable point. */
    static void ensureLoaded() {}

    static native byte[] version();
    static native int abiVersion();

    static native long optionsNew();
    static native int optionsSet(long opts, byte[] key, byte[] value);
    static native void optionsFree(long opts);
    static native long open(byte[] path, long opts);
    static native void close(long db);
    static native void checkpoint(long db);
    static native void check(long db);
    static native byte[] statsJson(long db);

    static native long connect(long db);
    static native void disconnect(long conn);
    static native void interrupt(long conn);
    static native long query(long conn, byte[] cypher, long params);
    static native long prepare(long conn, byte[] cypher);
    static native long execute(long stmt, long conn, long params);
    static native void statementFree(long stmt);

    static native long begin(long conn, int mode, int isolation);
    static native void commit(long txn, long conn);
    static native void rollback(long txn, long conn);
    static native void transactionFree(long txn);

    static native long paramsNew();
    static native void paramsFree(long params);
    static native void paramsSetNull(long params, byte[] name);
    static native void paramsSetBool(long params, byte[] name, boolean v);
    static native void paramsSetInt64(long params, byte[] name, long v);
    static native void paramsSetDouble(long params, byte[] name, double v);
    static native void paramsSetString(long params, byte[] name, byte[] utf8);
    static native void paramsSetJson(long params, byte[] name, byte[] json);

    static native void resultFree(long r);
    static native long resultColumnCount(long r);
    static native byte[] resultColumnName(long r, long col);
    static native long[] resultStats(long r);
    static native boolean resultNext(long r, long conn);
    static native int resultType(long r, long col);
    static native boolean resultGetBool(long r, long conn, long col);
    static native long resultGetInt64(long r, long conn, long col);
    static native double resultGetDouble(long r, long conn, long col);
    static native byte[] resultGetString(long r, long conn, long col);
    static native byte[] resultGetJson(long r, long conn, long col);
    static native long resultGetValue(long r, long conn, long col);

    static native int valueType(long v);
    static native boolean valueBool(long v);
    static native long valueInt64(long v);
    static native double valueDouble(long v);
    static native byte[] valueString(long v);
    static native long valueListSize(long v);
    static native long valueListGet(long v, long i);
    static native long valueMapSize(long v);
    static native byte[] valueMapKey(long v, long i);
    static native long valueMapValue(long v, long i);
    static native long valueNodeId(long v);
    static native long valueNodeLabelCount(long v);
    static native byte[] valueNodeLabel(long v, long i);
    static native long valueNodeProperties(long v);
    static native long valueRelId(long v);
    static native byte[] valueRelType(long v);
    static native long valueRelStart(long v);
    static native long valueRelEnd(long v);
    static native long valueRelProperties(long v);
    static native long valuePathLength(long v);
    static native long valuePathNode(long v, long i);
    static native long valuePathRel(long v, long i);
}
