/* A second thread entering a connection while a long query runs on it gets GRAPHDB_MISUSE
 * (on the connection and on a result from it), and graphdb_interrupt from that thread stops
 * the query with GRAPHDB_INTERRUPTED. Deterministic: the main thread waits until it has seen
 * MISUSE before interrupting, and interrupts until the worker has stopped. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

/* About 1e10 steps, but never more than a million small rows alive whatever the executor
   materializes (a cross product of two UNWINDs could need 1e10 rows). */
static const char *LONG_QUERY = "UNWIND range(1, 1000000) AS a "
                                "RETURN sum(reduce(s = 0, x IN range(1, 10000) | s + x % 7)) AS c";

static graphdb_connection *conn;
static atomic_int stop;
static atomic_int interrupted;
static atomic_int finished;

static void *worker(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        graphdb_result *r = NULL;
        graphdb_status s = graphdb_query(conn, LONG_QUERY, NULL, &r);
        if (s == GRAPHDB_INTERRUPTED) {
            CHECK(r == NULL);
            atomic_store(&interrupted, 1);
        } else if (s == GRAPHDB_MISUSE) {
            /* The main thread was inside the connection at that moment: the rule works both
               ways. Try again. */
            CHECK(r == NULL);
        } else if (s != GRAPHDB_OK) {
            FAIL("the long query failed with %d", (int)s);
        }
        graphdb_result_free(r);
    }
    atomic_store(&finished, 1);
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

int main(void) {
    graphdb_database *db = NULL;
    EXPECT(graphdb_open(":memory:", NULL, &db, NULL), GRAPHDB_OK);
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    graphdb_result *earlier = NULL;
    OK(conn, graphdb_query(conn, "RETURN 1 AS one", NULL, &earlier));

    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, NULL) == 0);

    /* Call in until the worker is seen inside the connection (bounded: 60 s). */
    int misuse_seen = 0;
    for (int i = 0; i < 60000 && !misuse_seen; i++) {
        graphdb_result *r = NULL;
        graphdb_status s = graphdb_query(conn, "RETURN 2 AS two", NULL, &r);
        graphdb_result_free(r);
        if (s == GRAPHDB_MISUSE) {
            misuse_seen = 1;
            CHECK(r == NULL);
        } else {
            sleep_ms(1);
        }
    }
    CHECK(misuse_seen);
    CHECK(graphdb_connection_error_code(conn) == GRAPHDB_MISUSE ||
          graphdb_connection_error_code(conn) == GRAPHDB_OK);

    /* Results from the connection are part of it. */
    bool has_row = true;
    for (int i = 0; i < 1000; i++) {
        graphdb_status s = graphdb_result_next(earlier, &has_row);
        if (s == GRAPHDB_MISUSE) break;
        CHECK(i < 999);
    }

    atomic_store(&stop, 1);
    for (int i = 0; i < 60000 && !atomic_load(&finished); i++) {
        graphdb_interrupt(conn);
        sleep_ms(1);
    }
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(atomic_load(&interrupted));

    /* Afterwards the connection works normally. */
    graphdb_result_free(earlier);
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, "RETURN 3 AS three", NULL, &r));
    graphdb_result_free(r);
    graphdb_disconnect(conn);
    graphdb_close(db);
    printf("threads: ok\n");
    return 0;
}
