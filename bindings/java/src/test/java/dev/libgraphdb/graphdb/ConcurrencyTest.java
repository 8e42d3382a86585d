package dev.libgraphdb.graphdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real threads: the retry helper under contention, the connection lock, interrupt. */
class ConcurrencyTest {
    @TempDir Path dir;
    Database db;
    ExecutorService pool;

    @BeforeEach
    void open() {
        db = Database.open(dir.resolve("db"), Options.builder().sync(Options.Sync.OFF).build());
        pool = Executors.newCachedThreadPool();
    }

    @AfterEach
    void close() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        db.close();
    }

    @Test
    void retryHelperLosesNoUpdateUnderSerializable() throws Exception {
        try (Connection c = db.connect()) {
            c.query("CREATE (:Counter {v: 0})").close();
        }
        int threads = 4;
        int perThread = 50;
        AtomicInteger attempts = new AtomicInteger();
        AtomicInteger workRuns = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            futures.add(pool.submit(() -> {
                try (Connection c = db.connect()) {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        // read, then write what was read plus one: a lost update shows in the total
                        c.transact(1000, tx -> {
                            workRuns.incrementAndGet();
                            long v;
                            try (Result r = tx.query("MATCH (n:Counter) RETURN n.v")) {
                                v = r.single().getLong(0);
                            }
                            Thread.yield(); // widen the window between read and write
                            tx.query("MATCH (n:Counter) SET n.v = $v", Map.of("v", v + 1)).close();
                            return null;
                        });
                        attempts.addAndGet(c.lastTransactAttempts());
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get(45, TimeUnit.SECONDS);
        }
        try (Connection c = db.connect(); Result r = c.query("MATCH (n:Counter) RETURN n.v")) {
            assertEquals((long) threads * perThread, r.single().getLong(0));
        }
        int commits = threads * perThread;
        System.err.println("retry test: " + attempts.get() + " attempts for " + commits + " commits");
        assertEquals(workRuns.get(), attempts.get(), "lastTransactAttempts counts every run of the work");
        assertTrue(attempts.get() > commits, "no conflict was retried: " + attempts.get() + " attempts");
        Map<String, Object> stats = db.stats();
        assertTrue(db.statsJson().contains("conflict"), db.statsJson());
        assertTrue(stats.size() > 0);
    }

    @Test
    void conflictRunsOutOfAttempts() {
        try (Connection a = db.connect(); Connection b = db.connect()) {
            a.query("CREATE (:Counter {v: 0})").close();
            // Every attempt: a's snapshot is taken, b commits a newer version, a's write then
            // meets it (first updater wins) and conflicts.
            ConflictException e = org.junit.jupiter.api.Assertions.assertThrows(ConflictException.class,
                    () -> a.transact(3, tx -> {
                        b.query("MATCH (n:Counter) SET n.v = n.v + 100").close();
                        tx.query("MATCH (n:Counter) SET n.v = n.v + 1").close();
                        return null;
                    }));
            assertTrue(e.isRetryable());
            assertEquals(3, a.lastTransactAttempts());
            try (Result r = a.query("MATCH (n:Counter) RETURN n.v")) {
                assertEquals(300L, r.single().getLong(0)); // b's three commits, none of a's
            }
        }
    }

    @Test
    void oneConnectionSharedByThreadsWaitsInsteadOfMisuse() throws Exception {
        try (Connection shared = db.connect()) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Long>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    long sum = 0;
                    for (int i = 0; i < 50; i++) {
                        try (Result r = shared.query("UNWIND range(1, 20000) AS x RETURN sum(x)")) {
                            sum += r.single().getLong(0);
                        }
                    }
                    return sum;
                }));
            }
            start.countDown();
            for (Future<Long> f : futures) {
                assertEquals(50L * 200010000L, f.get(45, TimeUnit.SECONDS)); // MISUSE would throw here
            }
        }
    }

    @Test
    void interruptStopsALongQueryFromAnotherThread() throws Exception {
        try (Connection c = db.connect()) {
            AtomicBoolean started = new AtomicBoolean();
            Future<?> running = pool.submit(() -> {
                started.set(true);
                try (Result r = c.query(
                        // 10^10 rows (one range is capped at 2*10^7 elements): hours without interrupt
                        "UNWIND range(1, 100000) AS x UNWIND range(1, 100000) AS y RETURN count(y)")) {
                    return r.single().getLong(0);
                }
            });
            while (!started.get()) {
                Thread.onSpinWait();
            }
            // The query may not have entered C yet; keep asking until it has stopped.
            // Bounded, so a broken interrupt fails the test instead of hanging it.
            for (int i = 0; i < 6000 && !running.isDone(); i++) {
                c.interrupt();
                Thread.sleep(5);
            }
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> running.get(30, TimeUnit.SECONDS));
            InterruptedQueryException iq = assertInstanceOf(InterruptedQueryException.class, e.getCause(), e.getCause().toString());
            assertEquals(Status.INTERRUPTED, iq.status());
            // the connection is usable afterwards
            try (Result r = c.query("RETURN 1")) {
                assertEquals(1L, r.single().getLong(0));
            }
        }
    }
}
