/* Connections and transactions through the C API, without running Cypher: explicit
 * transactions and their state errors, error details per connection, disconnect and close
 * semantics, and a second read-write process locked out of the directory.
 * Usage: connection DIR            (the test)
 *        connection probe DIR PID  (child: must get GRAPHDB_LOCKED naming PID) */
#define _POSIX_C_SOURCE 200809L
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static graphdb_database *open_dir(const char *dir) {
    graphdb_options *opts = NULL;
    EXPECT(graphdb_options_new(&opts), GRAPHDB_OK);
    EXPECT(graphdb_options_set(opts, "sync", "off"), GRAPHDB_OK);
    graphdb_database *db = NULL;
    char *error = NULL;
    graphdb_status s = graphdb_open(dir, opts, &db, &error);
    if (s != GRAPHDB_OK) FAIL("open %s: %d %s", dir, (int)s, error);
    CHECK(db != NULL && error == NULL);
    graphdb_options_free(opts);
    return db;
}

static void transactions(graphdb_connection *conn) {
    graphdb_transaction *txn = (graphdb_transaction *)&txn;
    FAILS(conn, graphdb_begin(conn, 7, &txn), GRAPHDB_INVALID_ARGUMENT);
    CHECK(txn == NULL);
    CHECK_CONTAINS(graphdb_connection_error_message(conn), "mode 7");
    FAILS(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, NULL), GRAPHDB_INVALID_ARGUMENT);

    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    CHECK(txn != NULL);
    /* A success clears the last error. */
    EXPECT(graphdb_connection_error_code(conn), GRAPHDB_OK);
    CHECK(strcmp(graphdb_connection_error_message(conn), "not an error") == 0);

    graphdb_transaction *second = (graphdb_transaction *)&second;
    FAILS(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_ONLY, &second), GRAPHDB_TRANSACTION_STATE);
    CHECK(second == NULL);
    OK(conn, graphdb_commit(txn));

    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_ONLY, &txn));
    OK(conn, graphdb_rollback(txn));

    /* Freeing an open transaction rolls it back, so a new one can begin. */
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    graphdb_transaction_free(txn);
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    OK(conn, graphdb_commit(txn));
}

static void bad_statements(graphdb_connection *conn) {
    graphdb_result *r = (graphdb_result *)&r;
    FAILS(conn, graphdb_query(conn, "RETURN '\xff'", NULL, &r), GRAPHDB_INVALID_ARGUMENT);
    CHECK(r == NULL);
    CHECK_CONTAINS(graphdb_connection_error_message(conn), "UTF-8");
    size_t line = 9, column = 9;
    OK(conn, graphdb_connection_error_position(conn, &line, &column));
    CHECK(line == 0 && column == 0); /* not a syntax error: no position */
    FAILS(conn, graphdb_query(conn, NULL, NULL, &r), GRAPHDB_INVALID_ARGUMENT);
    CHECK_CONTAINS(graphdb_connection_error_message(conn), "query text is NULL");
    FAILS(conn, graphdb_query(conn, "RETURN 1", NULL, NULL), GRAPHDB_INVALID_ARGUMENT);
    graphdb_statement *st = (graphdb_statement *)&st;
    FAILS(conn, graphdb_prepare(conn, "RETURN '\xc3'", &st), GRAPHDB_INVALID_ARGUMENT);
    CHECK(st == NULL);
    FAILS(conn, graphdb_prepare(conn, "RETURN 1", NULL), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_connection_error_position(conn, NULL, &column), GRAPHDB_INVALID_ARGUMENT);
}

static void disconnect_ends_transactions(graphdb_database *db) {
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    graphdb_transaction *txn = NULL;
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    graphdb_disconnect(conn);
    /* The handle stays valid; its transaction was rolled back by the disconnect. */
    EXPECT(graphdb_commit(txn), GRAPHDB_TRANSACTION_STATE);
}

static int probe(const char *dir, const char *pid) {
    graphdb_database *db = (graphdb_database *)&db;
    char *error = NULL;
    graphdb_status s = graphdb_open(dir, NULL, &db, &error);
    if (s != GRAPHDB_LOCKED) FAIL("second writer got %d (%s), want GRAPHDB_LOCKED", (int)s, error);
    CHECK(db == NULL);
    CHECK_CONTAINS(error, pid);
    graphdb_string_free(error);
    return 0;
}

static void second_writer_is_locked_out(const char *self, const char *dir) {
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        execl(self, self, "probe", dir, pid, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) FAIL("the probe process failed");
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "probe") == 0) return probe(argv[2], argv[3]);
    CHECK(argc == 2);
    graphdb_database *db = open_dir(argv[1]);
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);

    transactions(conn);
    bad_statements(conn);
    disconnect_ends_transactions(db);
    second_writer_is_locked_out(argv[0], argv[1]);

    /* Closing the database while a connection is open: the connection keeps it alive. */
    graphdb_close(db);
    graphdb_transaction *txn = NULL;
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    OK(conn, graphdb_commit(txn));
    graphdb_disconnect(conn);

    /* With every handle gone the directory is free again. */
    db = open_dir(argv[1]);
    graphdb_close(db);
    printf("connection: ok\n");
    return 0;
}
