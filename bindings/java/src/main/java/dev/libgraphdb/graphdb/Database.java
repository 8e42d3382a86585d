package dev.libgraphdb.graphdb;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An open database. Share it between any threads; each thread gets its own {@link Connection}
 * from {@link #connect()}. Connections keep the database alive after close() until they
 * are closed themselves.
 */
public final class Database implements AutoCloseable {
    // Calls hold the read lock, close() the write lock: close never frees the handle while
    // another thread is inside a call with it.
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final NativeHandle handle;

    private Database(long address) {
        this.handle = new NativeHandle(this, "Database", address, Native::close);
    }

    /** Opens (or creates) the database directory at {@code path} with default options. */
    public static Database open(Path path) {
        return open(path, Options.defaults());
    }

    public static Database open(Path path, Options options) {
        return open(path.toString(), options);
    }

    /** A private database in memory, gone when closed. */
    public static Database openInMemory(Options options) {
        return open(":memory:", options);
    }

    private static Database open(String path, Options options) {
        Native.ensureLoaded();
        long opts = Native.optionsNew();
        try {
            // A refused option is reported by graphdb_open, with the library's message.
            for (Map.Entry<String, String> e : options.asMap().entrySet()) {
                Native.optionsSet(opts, Utf8.encode(e.getKey()), Utf8.encode(e.getValue()));
            }
            return new Database(Native.open(Utf8.encode(path), opts));
        } finally {
            Native.optionsFree(opts);
        }
    }

    /** The library version, "MAJOR.MINOR.PATCH". */
    public static String libraryVersion() {
        return Utf8.decode(Native.version());
    }

    /** The ABI version the library was built with. */
    public static int abiVersion() {
        return Native.abiVersion();
    }

    /** A new connection; use it from one thread at a time (its calls are serialized). */
    public Connection connect() {
        lock.readLock().lock();
        try {
            return new Connection(Native.connect(handle.get()));
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Writes a new base image holding every commit so far (nothing in memory). */
    public void checkpoint() {
        lock.readLock().lock();
        try {
            Native.checkpoint(handle.get());
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Checks the whole base image; throws with status CORRUPT on damage. */
    public void check() {
        lock.readLock().lock();
        try {
            Native.check(handle.get());
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Transaction statistics as the library's JSON object text. */
    public String statsJson() {
        lock.readLock().lock();
        try {
            return Utf8.decode(Native.statsJson(handle.get()));
        } finally {
            lock.readLock().unlock();
        }
    }

    /** {@link #statsJson()} decoded. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> stats() {
        return (Map<String, Object>) Json.parse(statsJson());
    }

    public boolean isOpen() {
        return handle.isOpen();
    }

    /** Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            handle.close();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
