/* Two connections write the same node concurrently: the later writer gets GRAPHDB_CONFLICT
 * (at its write, first updater wins, or at its commit), its transaction ends, and the first
 * writer's commit stands. */
#include <stdint.h>

#include "check.h"

static void run(graphdb_connection *conn, const char *cypher, graphdb_status want) {
    graphdb_result *r = NULL;
    graphdb_status s = graphdb_query(conn, cypher, NULL, &r);
    if (s != want)
        FAIL("%s returned %d, want %d: %s", cypher, (int)s, (int)want,
             graphdb_connection_error_message(conn));
    graphdb_result_free(r);
}

int main(void) {
    graphdb_database *db = NULL;
    EXPECT(graphdb_open(":memory:", NULL, &db, NULL), GRAPHDB_OK);
    graphdb_connection *a = NULL, *b = NULL;
    EXPECT(graphdb_connect(db, &a), GRAPHDB_OK);
    EXPECT(graphdb_connect(db, &b), GRAPHDB_OK);
    run(a, "CREATE (:C {v: 0})", GRAPHDB_OK);

    graphdb_transaction *ta = NULL, *tb = NULL;
    OK(a, graphdb_begin(a, GRAPHDB_TXN_READ_WRITE, &ta));
    OK(b, graphdb_begin(b, GRAPHDB_TXN_READ_WRITE, &tb));
    run(a, "MATCH (n:C) SET n.v = 1", GRAPHDB_OK);

    graphdb_result *r = NULL;
    graphdb_status write = graphdb_query(b, "MATCH (n:C) SET n.v = 2", NULL, &r);
    graphdb_result_free(r);
    if (write == GRAPHDB_CONFLICT) {
        CHECK(graphdb_connection_error_code(b) == GRAPHDB_CONFLICT);
        /* The conflict rolled b's transaction back: its handle can only report that. */
        graphdb_status s = graphdb_commit(tb);
        CHECK(s == GRAPHDB_TRANSACTION_STATE || s == GRAPHDB_CONFLICT);
    } else {
        CHECK(write == GRAPHDB_OK);
        OK(a, graphdb_commit(ta));
        ta = NULL;
        FAILS(b, graphdb_commit(tb), GRAPHDB_CONFLICT);
    }
    if (ta != NULL) OK(a, graphdb_commit(ta));

    r = NULL;
    OK(a, graphdb_query(a, "MATCH (n:C) RETURN n.v AS v", NULL, &r));
    bool has_row = false;
    OK(a, graphdb_result_next(r, &has_row));
    CHECK(has_row);
    int64_t v = -1;
    OK(a, graphdb_result_get_int64(r, 0, &v));
    CHECK(v == 1);
    graphdb_result_free(r);

    /* The loser may retry and then succeeds. */
    run(b, "MATCH (n:C) SET n.v = 2", GRAPHDB_OK);
    graphdb_disconnect(a);
    graphdb_disconnect(b);
    graphdb_close(db);
    printf("conflict: ok\n");
    return 0;
}
