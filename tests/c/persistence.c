/* Committed data survives closing and reopening a directory; rolled-back data does not.
 * Usage: persistence DIR */
#include <stdint.h>

#include "check.h"

static graphdb_database *open_dir(const char *dir) {
    graphdb_database *db = NULL;
    char *error = NULL;
    if (graphdb_open(dir, NULL, &db, &error) != GRAPHDB_OK) FAIL("open %s: %s", dir, error);
    return db;
}

static void run(graphdb_connection *conn, const char *cypher) {
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, cypher, NULL, &r));
    graphdb_result_free(r);
}

static void names(graphdb_connection *conn, char *out, size_t size) {
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, "MATCH (p:P) RETURN p.name AS name ORDER BY name", NULL, &r));
    out[0] = '\0';
    bool has_row = false;
    for (;;) {
        OK(conn, graphdb_result_next(r, &has_row));
        if (!has_row) break;
        const char *s = NULL;
        OK(conn, graphdb_result_get_string(r, 0, &s, NULL));
        strncat(out, s, size - strlen(out) - 2);
        strcat(out, ",");
    }
    graphdb_result_free(r);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    graphdb_database *db = open_dir(argv[1]);
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    run(conn, "CREATE (:P {name: 'kept'})");
    graphdb_transaction *txn = NULL;
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    run(conn, "CREATE (:P {name: 'rolled back'})");
    OK(conn, graphdb_rollback(txn));
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    run(conn, "CREATE (:P {name: 'also kept'})");
    OK(conn, graphdb_commit(txn));
    /* Left open at disconnect: rolled back. */
    run(conn, "BEGIN");
    run(conn, "CREATE (:P {name: 'never committed'})");
    char before[256];
    names(conn, before, sizeof before);
    graphdb_close(db); /* the connection keeps the database alive */
    graphdb_disconnect(conn);

    db = open_dir(argv[1]);
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    char after[256];
    names(conn, after, sizeof after);
    if (strcmp(after, "also kept,kept,") != 0) FAIL("after reopen: %s", after);
    CHECK_CONTAINS(before, "never committed");
    graphdb_disconnect(conn);
    graphdb_close(db);
    printf("persistence: ok\n");
    return 0;
}
