package dev.libgraphdb.graphdb;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * A session on a database. The C API lets one thread at a time into a connection (and the
 * results, statements and transactions made from it); this class serializes its calls with a
 * lock, so a second thread waits instead of failing with MISUSE. For parallel work, give
 * each thread its own connection. {@link #interrupt()} is the one call that does not wait.
 */
public final class Connection implements AutoCloseable {
    /** The default attempts of {@link #transact(Function)}. */
    public static final int DEFAULT_MAX_ATTEMPTS = 10;

    private static final long BACKOFF_BASE_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long BACKOFF_CAP_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final ReentrantLock lock = new ReentrantLock();
    // interrupt() runs without the lock, so it and close() agree on the handle through this
    // monitor: close never frees it while interrupt is passing it to C.
    private final Object interruptGuard = new Object();
    private final NativeHandle handle;
    private volatile int lastTransactAttempts;

    Connection(long address) {
        this.handle = new NativeHandle(this, "Connection", address, Native::disconnect);
    }

    // ---- statements -------------------------------------------------------------------

    /** Runs one statement: in the open transaction if there is one, else auto-committed. */
    public Result query(String cypher) {
        return query(cypher, null);
    }

    /**
     * Runs one statement with named parameters ({@code $name} in the query): null, Boolean,
     * Long/Integer/Short/Byte, Double/Float, String, and through the JSON form lists,
     * collections, arrays, maps, {@link Temporal} and java.time values.
     */
    public Result query(String cypher, Map<String, ?> params) {
        byte[] text = Utf8.encode(requireText(cypher));
        long p = Params.build(params);
        try {
            lock.lock();
            try {
                return new Result(this, Native.query(handle.get(), text, p));
            } finally {
                lock.unlock();
            }
        } finally {
            Native.paramsFree(p);
        }
    }

    public PreparedStatement prepare(String cypher) {
        byte[] text = Utf8.encode(requireText(cypher));
        lock.lock();
        try {
            return new PreparedStatement(this, Native.prepare(handle.get(), text));
        } finally {
            lock.unlock();
        }
    }

    // ---- transactions -----------------------------------------------------------------

    /** A read-write transaction at the database's default isolation. */
    public Transaction begin() {
        return begin(TxMode.READ_WRITE, Isolation.DEFAULT);
    }

    public Transaction begin(TxMode mode) {
        return begin(mode, Isolation.DEFAULT);
    }

    public Transaction begin(TxMode mode, Isolation isolation) {
        lock.lock();
        try {
            return new Transaction(this, Native.begin(handle.get(), mode.code, isolation.code));
        } finally {
            lock.unlock();
        }
    }

    /** {@link #transact(TxMode, int, Function)} read-write, with DEFAULT_MAX_ATTEMPTS. */
    public <T> T transact(Function<Connection, T> work) {
        return transact(TxMode.READ_WRITE, DEFAULT_MAX_ATTEMPTS, work);
    }

    public <T> T transact(int maxAttempts, Function<Connection, T> work) {
        return transact(TxMode.READ_WRITE, maxAttempts, work);
    }

    /**
     * Runs {@code work} in a transaction and commits it. On a {@link ConflictException} (from
     * the work or the commit) the transaction is rolled back and run again after a jittered
     * exponential backoff, up to {@code maxAttempts} attempts in all (less than 1 counts as 1);
     * the last conflict is thrown when they run out. Any other exception rolls back and
     * propagates at once. {@code work} may run more than once: keep its effects outside the
     * database idempotent, and read query results inside it (they hold no transaction).
     *
     * <p>The connection's lock is held through each attempt, so no other thread's statement
     * can land inside the transaction.
     */
    public <T> T transact(TxMode mode, int maxAttempts, Function<Connection, T> work) {
        int attempts = Math.max(1, maxAttempts);
        for (int attempt = 1; ; attempt++) {
            lastTransactAttempts = attempt;
            lock.lock();
            try (Transaction tx = begin(mode, Isolation.DEFAULT)) {
                T value = work.apply(this);
                tx.commit();
                return value;
            } catch (ConflictException e) {
                if (attempt >= attempts) {
                    throw e;
                }
            } finally {
                lock.unlock();
            }
            backoff(attempt);
        }
    }

    /** How many attempts the last {@link #transact} call on this connection made (0: none yet). */
    public int lastTransactAttempts() {
        return lastTransactAttempts;
    }

    private static void backoff(int attempt) {
        long ceiling = Math.min(BACKOFF_CAP_NANOS, BACKOFF_BASE_NANOS << Math.min(attempt - 1, 20));
        // Full jitter: conflicting writers that collided once should not collide again in step.
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1));
    }

    // ---- lifecycle --------------------------------------------------------------------

    /**
     * Asks the query running on this connection (if any) to stop: it then fails with
     * {@link InterruptedQueryException}. Safe from any thread; does not wait for the lock.
     */
    public void interrupt() {
        synchronized (interruptGuard) {
            long a = handle.getOrZero();
            if (a != 0) {
                Native.interrupt(a);
            }
        }
    }

    public boolean isOpen() {
        return handle.isOpen();
    }

    /**
     * Rolls back an open transaction and disconnects; idempotent. Waits for a call another
     * thread is making on this connection (interrupt it first to stop a long query). Results
     * stay readable; statements and transactions made here refuse to run.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            synchronized (interruptGuard) {
                handle.close();
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- for the handles made from this connection ------------------------------------

    void lock() {
        lock.lock();
    }

    void unlock() {
        lock.unlock();
    }

    Lock lockObject() {
        return lock;
    }

    /**
     * Frees {@code h}, the handle of a result or statement made from this connection, under
     * the lock, so it is never freed while another thread is inside the connection. Idempotent.
     */
    void closeUnderLock(NativeHandle h) {
        lock.lock();
        try {
            h.close();
        } finally {
            lock.unlock();
        }
    }

    /** The live handle (IllegalStateException once closed). Under the lock. */
    long address() {
        return handle.get();
    }

    /** The handle, or 0 once closed. Under the lock. */
    long addressOrZero() {
        return handle.getOrZero();
    }

    private static String requireText(String cypher) {
        if (cypher == null) {
            throw new GraphDbException(Status.INVALID_ARGUMENT, "query text must not be null");
        }
        return cypher;
    }
}
