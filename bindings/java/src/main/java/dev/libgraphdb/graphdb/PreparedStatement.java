package dev.libgraphdb.graphdb;

import java.util.Map;

/**
 * A statement parsed once to run many times on its connection. It refuses to run once the
 * connection is closed (IllegalStateException).
 */
public final class PreparedStatement implements AutoCloseable {
    private final Connection conn;
    private final NativeHandle handle;

    /** Called with the connection's lock held. */
    PreparedStatement(Connection conn, long address) {
        this.conn = conn;
        this.handle = new NativeHandle(this, "PreparedStatement", address, Native::statementFree);
    }

    public Result execute() {
        return execute(null);
    }

    public Result execute(Map<String, ?> params) {
        long p = Params.build(params);
        try {
            conn.lock();
            try {
                long c = conn.address();
                return new Result(conn, Native.execute(handle.get(), c, p));
            } finally {
                conn.unlock();
            }
        } finally {
            Native.paramsFree(p);
        }
    }

    public boolean isOpen() {
        return handle.isOpen();
    }

    /** Idempotent. */
    @Override
    public void close() {
        conn.closeUnderLock(handle);
    }
}
