/* graphdb_transact retries conflicting work until it commits; graphdb_begin_with picks an
 * isolation level per transaction; graphdb_stats_json reports what happened. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"

#define THREADS 4
#define INCREMENTS 50

static graphdb_database *db;

static graphdb_status increment(graphdb_connection *conn, void *user_data) {
    int *calls = user_data;
    (*calls)++;
    graphdb_result *r = NULL;
    graphdb_status s = graphdb_query(conn, "MATCH (c:Counter) SET c.v = c.v + 1", NULL, &r);
    graphdb_result_free(r);
    return s;
}

static void *worker(void *arg) {
    (void)arg;
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    for (int i = 0; i < INCREMENTS; i++) {
        int calls = 0;
        OK(conn, graphdb_transact(conn, GRAPHDB_TXN_READ_WRITE, increment, &calls, 100000));
        CHECK(calls >= 1);
    }
    graphdb_disconnect(conn);
    return NULL;
}

static int64_t query_int(graphdb_connection *conn, const char *cypher) {
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, cypher, NULL, &r));
    bool has_row = false;
    OK(conn, graphdb_result_next(r, &has_row));
    CHECK(has_row);
    int64_t v = 0;
    OK(conn, graphdb_result_get_int64(r, 0, &v));
    graphdb_result_free(r);
    return v;
}

static graphdb_status always_conflicts(graphdb_connection *conn, void *user_data) {
    (void)conn;
    (*(int *)user_data)++;
    return GRAPHDB_CONFLICT;
}

static graphdb_status bad_query(graphdb_connection *conn, void *user_data) {
    (void)user_data;
    graphdb_result *r = NULL;
    graphdb_query(conn, "CREATE (:Never)", NULL, &r);
    graphdb_result_free(r);
    return graphdb_query(conn, "RETRUN 1", NULL, &r);
}

/* Both doctors check that two are on call, then each takes itself off. */
static graphdb_status doctors(uint32_t isolation) {
    graphdb_connection *a = NULL, *b = NULL;
    EXPECT(graphdb_connect(db, &a), GRAPHDB_OK);
    EXPECT(graphdb_connect(db, &b), GRAPHDB_OK);
    graphdb_result *r = NULL;
    OK(a, graphdb_query(a, "MATCH (d:Doctor) DETACH DELETE d", NULL, &r));
    graphdb_result_free(r);
    OK(a, graphdb_query(a, "CREATE (:Doctor {id: 1, on: true}), (:Doctor {id: 2, on: true})",
                        NULL, &r));
    graphdb_result_free(r);
    graphdb_transaction *ta = NULL, *tb = NULL;
    OK(a, graphdb_begin_with(a, GRAPHDB_TXN_READ_WRITE, isolation, &ta));
    OK(b, graphdb_begin_with(b, GRAPHDB_TXN_READ_WRITE, isolation, &tb));
    CHECK(query_int(a, "MATCH (d:Doctor) WHERE d.on RETURN count(d)") == 2);
    CHECK(query_int(b, "MATCH (d:Doctor) WHERE d.on RETURN count(d)") == 2);
    OK(a, graphdb_query(a, "MATCH (d:Doctor {id: 1}) SET d.on = false", NULL, &r));
    graphdb_result_free(r);
    OK(b, graphdb_query(b, "MATCH (d:Doctor {id: 2}) SET d.on = false", NULL, &r));
    graphdb_result_free(r);
    OK(a, graphdb_commit(ta));
    graphdb_status second = graphdb_commit(tb);
    graphdb_disconnect(a);
    graphdb_disconnect(b);
    return second;
}

int main(void) {
    EXPECT(graphdb_open(":memory:", NULL, &db, NULL), GRAPHDB_OK);
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, "CREATE (:Counter {v: 0})", NULL, &r));
    graphdb_result_free(r);

    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(query_int(conn, "MATCH (c:Counter) RETURN c.v") == THREADS * INCREMENTS);

    /* A conflict on every attempt: exactly max_attempts tries, then CONFLICT. */
    int calls = 0;
    FAILS(conn, graphdb_transact(conn, GRAPHDB_TXN_READ_WRITE, always_conflicts, &calls, 3),
          GRAPHDB_CONFLICT);
    CHECK(calls == 3);

    /* Any other failure: returned at once, its message kept, the work rolled back. */
    FAILS(conn, graphdb_transact(conn, GRAPHDB_TXN_READ_WRITE, bad_query, NULL, 5),
          GRAPHDB_SYNTAX_ERROR);
    CHECK_CONTAINS(graphdb_connection_error_message(conn), "RETRUN");
    CHECK(query_int(conn, "MATCH (n:Never) RETURN count(n)") == 0);
    graphdb_transaction *t = NULL;
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_ONLY, &t)); /* nothing left open */
    OK(conn, graphdb_rollback(t));

    FAILS(conn, graphdb_transact(conn, GRAPHDB_TXN_READ_WRITE, NULL, NULL, 1),
          GRAPHDB_INVALID_ARGUMENT);
    FAILS(conn, graphdb_transact(conn, 9, increment, &calls, 1), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_transact(NULL, GRAPHDB_TXN_READ_WRITE, increment, &calls, 1),
           GRAPHDB_INVALID_ARGUMENT);

    /* Isolation per transaction. */
    CHECK(doctors(GRAPHDB_ISOLATION_SERIALIZABLE) == GRAPHDB_CONFLICT);
    CHECK(doctors(GRAPHDB_ISOLATION_DEFAULT) == GRAPHDB_CONFLICT);
    CHECK(doctors(GRAPHDB_ISOLATION_SNAPSHOT) == GRAPHDB_OK);
    FAILS(conn, graphdb_begin_with(conn, GRAPHDB_TXN_READ_WRITE, 7, &t), GRAPHDB_INVALID_ARGUMENT);
    CHECK(t == NULL);

    char *json = NULL;
    EXPECT(graphdb_stats_json(db, &json), GRAPHDB_OK);
    CHECK_CONTAINS(json, "\"commits\":");
    CHECK_CONTAINS(json, "\"conflicts_read_validation\":");
    graphdb_string_free(json);
    EXPECT(graphdb_stats_json(NULL, &json), GRAPHDB_INVALID_ARGUMENT);
    CHECK(json == NULL);

    graphdb_disconnect(conn);
    graphdb_close(db);
    printf("transact: ok\n");
    return 0;
}
