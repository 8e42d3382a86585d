package dev.libgraphdb.graphdb;

import java.util.Map;
import java.util.concurrent.locks.Lock;

/**
 * An explicit transaction: every statement on its connection runs in it until commit() or
 * rollback(). close() without a commit rolls back, so try-with-resources never leaves one
 * open. After a CONFLICT the library has already rolled it back: commit() then throws
 * TRANSACTION_STATE and close() is quiet.
 */
public final class Transaction implements AutoCloseable {
    private final Connection conn;
    private final NativeHandle handle;

    /** Called with the connection's lock held. */
    Transaction(Connection conn, long address) {
        this.conn = conn;
        Lock lock = conn.lockObject();
        // The Cleaner thread frees under the connection's lock, so its rollback never meets
        // another thread inside the connection (which would leave the transaction open).
        this.handle = new NativeHandle(this, "Transaction", address, a -> {
            lock.lock();
            try {
                Native.transactionFree(a);
            } finally {
                lock.unlock();
            }
        });
    }

    /** Runs a statement on the connection, inside this transaction. */
    public Result query(String cypher) {
        return query(cypher, null);
    }

    public Result query(String cypher, Map<String, ?> params) {
        conn.lock();
        try {
            handle.get();
            return conn.query(cypher, params);
        } finally {
            conn.unlock();
        }
    }

    /** Commits; the transaction is over whatever the outcome (CONFLICT: rolled back, retry). */
    public void commit() {
        end(true);
    }

    public void rollback() {
        end(false);
    }

    private void end(boolean commit) {
        conn.lock();
        try {
            long a = handle.get();
            long c = conn.addressOrZero();
            if (c == 0) {
                handle.close();
                throw new GraphDbException(Status.TRANSACTION_STATE,
                        "the connection was closed, which rolled this transaction back");
            }
            // commit and rollback free the handle whatever they return.
            handle.release();
            if (commit) {
                Native.commit(a, c);
            } else {
                Native.rollback(a, c);
            }
        } finally {
            conn.unlock();
        }
    }

    /** True until commit, rollback or close. */
    public boolean isOpen() {
        return handle.isOpen();
    }

    /**
     * Rolls back unless already committed or rolled back; idempotent. A transaction the
     * library already ended (a conflict, Cypher COMMIT) is just freed.
     */
    @Override
    public void close() {
        conn.lock();
        try {
            if (!handle.isOpen()) {
                return;
            }
            if (conn.addressOrZero() == 0) {
                handle.close();
                return;
            }
            try {
                rollback();
            } catch (GraphDbException e) {
                if (e.status() != Status.TRANSACTION_STATE) {
                    throw e;
                }
            }
        } finally {
            conn.unlock();
        }
    }
}
