/* graphdb_checkpoint and the CHECKPOINT statement: data survives a checkpoint and a reopen;
 * refused inside a transaction, on a read-only database and for NULL. graphdb_check and the
 * CHECK statement pass on the image written; with "damaged" (the caller flipped a bit in the
 * base image) they report GRAPHDB_CORRUPT naming the offset, as does every statement after.
 * Usage: checkpoint DIR [damaged] */
#include <stdint.h>
#include <string.h>

#include "check.h"

static graphdb_database *open_dir(const char *dir, const char *mode) {
    graphdb_options *o = NULL;
    EXPECT(graphdb_options_new(&o), GRAPHDB_OK);
    EXPECT(graphdb_options_set(o, "access_mode", mode), GRAPHDB_OK);
    graphdb_database *db = NULL;
    char *error = NULL;
    if (graphdb_open(dir, o, &db, &error) != GRAPHDB_OK) FAIL("open %s: %s", dir, error);
    graphdb_options_free(o);
    return db;
}

static int64_t count(graphdb_connection *conn) {
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, "MATCH (p:P) RETURN count(p) AS n", NULL, &r));
    bool has_row = false;
    OK(conn, graphdb_result_next(r, &has_row));
    CHECK(has_row);
    int64_t n = -1;
    OK(conn, graphdb_result_get_int64(r, 0, &n));
    graphdb_result_free(r);
    return n;
}

static void run(graphdb_connection *conn, const char *cypher) {
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, cypher, NULL, &r));
    graphdb_result_free(r);
}

static int damaged(const char *dir) {
    graphdb_database *db = open_dir(dir, "read_write");
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    graphdb_result *r = NULL;
    EXPECT(graphdb_query(conn, "CHECK", NULL, &r), GRAPHDB_CORRUPT);
    const char *m = graphdb_connection_error_message(conn);
    if (strstr(m, "offset") == NULL || strstr(m, "base-") == NULL) FAIL("CHECK said: %s", m);
    EXPECT(graphdb_check(db), GRAPHDB_CORRUPT);
    EXPECT(graphdb_query(conn, "MATCH (p:P) RETURN count(p)", NULL, &r), GRAPHDB_CORRUPT);
    EXPECT(graphdb_query(conn, "CREATE (:P {i: -1})", NULL, &r), GRAPHDB_CORRUPT);
    graphdb_disconnect(conn);
    graphdb_close(db);
    printf("checkpoint damaged: ok\n");
    return 0;
}

int main(int argc, char **argv) {
    CHECK(argc == 2 || argc == 3);
    if (argc == 3) return damaged(argv[1]);
    graphdb_database *db = open_dir(argv[1], "read_write");
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    run(conn, "UNWIND range(1, 100) AS i CREATE (:P {i: i})");
    EXPECT(graphdb_checkpoint(db), GRAPHDB_OK);
    run(conn, "UNWIND range(1, 10) AS i CREATE (:P {i: i})");
    run(conn, "CHECKPOINT");
    run(conn, "CREATE (:P {i: 0})");
    /* Inside an explicit transaction the statement is refused. */
    run(conn, "BEGIN");
    graphdb_result *r = NULL;
    EXPECT(graphdb_query(conn, "CHECKPOINT", NULL, &r), GRAPHDB_TRANSACTION_STATE);
    run(conn, "ROLLBACK");
    EXPECT(graphdb_checkpoint(NULL), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_check(db), GRAPHDB_OK);
    run(conn, "CHECK");
    EXPECT(graphdb_check(NULL), GRAPHDB_INVALID_ARGUMENT);
    CHECK(count(conn) == 111);
    graphdb_disconnect(conn);
    graphdb_close(db);

    db = open_dir(argv[1], "read_only");
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    CHECK(count(conn) == 111);
    EXPECT(graphdb_checkpoint(db), GRAPHDB_READ_ONLY);
    EXPECT(graphdb_check(db), GRAPHDB_OK);
    graphdb_disconnect(conn);
    graphdb_close(db);
    printf("checkpoint: ok\n");
    return 0;
}
