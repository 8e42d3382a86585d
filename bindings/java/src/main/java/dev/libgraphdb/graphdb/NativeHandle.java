package dev.libgraphdb.graphdb;

import java.lang.ref.Cleaner;
import java.util.function.LongConsumer;

/**
 * One native handle and the C function that frees it, freed exactly once: by close(), by
 * release() when a C call already freed it (commit, rollback), or by the Cleaner when its
 * owner became unreachable without being closed.
 *
 * <p>Invariant: this object (the Cleaner's action) holds no reference to its owner, or the
 * owner would never become unreachable. {@code free} must therefore be a static method
 * reference or a lambda capturing only non-owner objects.
 */
final class NativeHandle implements Runnable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final String what;
    private final LongConsumer free;
    private final Cleaner.Cleanable cleanable;
    // Written under the owner's lock (or by the Cleaner once nothing else can read it);
    // volatile so isOpen() from another thread sees a close.
    private volatile long address;

    NativeHandle(Object owner, String what, long address, LongConsumer free) {
        if (address == 0) {
            throw new IllegalStateException(what + ": the library returned no handle");
        }
        this.what = what;
        this.free = free;
        this.address = address;
        this.cleanable = CLEANER.register(owner, this);
    }

    /** The live address; IllegalStateException once closed, so 0 never reaches C. */
    long get() {
        long a = address;
        if (a == 0) {
            throw new IllegalStateException(what + " is closed");
        }
        return a;
    }

    /** The address, or 0 once closed. */
    long getOrZero() {
        return address;
    }

    boolean isOpen() {
        return address != 0;
    }

    /** Frees the handle now; later calls do nothing. */
    void close() {
        cleanable.clean();
    }

    /** Forgets the handle because C already freed it. */
    void release() {
        address = 0;
        cleanable.clean();
    }

    @Override
    public void run() {
        long a = address;
        address = 0;
        if (a != 0) {
            free.accept(a);
        }
    }
}
