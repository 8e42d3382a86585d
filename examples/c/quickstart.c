/* libgraphdb quickstart: build a small social graph in a database directory, query it in a
 * read-only transaction, close, reopen, and check the answer is the same.
 *
 *   cargo build --release
 *   cc -Iinclude examples/c/quickstart.c -Ltarget/release -lgraphdb -o quickstart
 *   LD_LIBRARY_PATH=target/release ./quickstart [DIR]     (DIR defaults to ./quickstart.db)
 *
 * Exits 0 when the answers before and after reopening agree. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graphdb.h"

/* Prints what failed and exits: the per-connection message says what to do about it. */
static void check(graphdb_status status, graphdb_connection *conn, const char *what) {
    if (status == GRAPHDB_OK) return;
    fprintf(stderr, "quickstart: %s failed (status %d): %s\n", what, (int)status,
            conn ? graphdb_connection_error_message(conn) : "");
    exit(1);
}

static graphdb_database *open_database(const char *dir) {
    graphdb_options *opts = NULL;
    check(graphdb_options_new(&opts), NULL, "graphdb_options_new");
    /* Durable commits (the default), serializable transactions (the default). */
    check(graphdb_options_set(opts, "sync", "full"), NULL, "graphdb_options_set");
    graphdb_database *db = NULL;
    char *error = NULL;
    if (graphdb_open(dir, opts, &db, &error) != GRAPHDB_OK) {
        fprintf(stderr, "quickstart: cannot open %s: %s\n", dir, error);
        graphdb_string_free(error);
        exit(1);
    }
    graphdb_options_free(opts);
    return db;
}

static void run(graphdb_connection *conn, const char *cypher) {
    graphdb_result *r = NULL;
    check(graphdb_query(conn, cypher, NULL, &r), conn, cypher);
    graphdb_result_free(r);
}

static void create_graph(graphdb_connection *conn) {
    /* One transaction for the whole load; a prepared statement with parameters per person. */
    graphdb_transaction *txn = NULL;
    check(graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn), conn, "graphdb_begin");
    graphdb_statement *add = NULL;
    check(graphdb_prepare(conn, "CREATE (:User {name: $name, age: $age})", &add), conn,
          "graphdb_prepare");
    const char *names[] = {"alice", "bob", "carol", "dave"};
    const int64_t ages[] = {34, 27, 45, 19};
    graphdb_params *p = NULL;
    check(graphdb_params_new(&p), NULL, "graphdb_params_new");
    for (int i = 0; i < 4; i++) {
        check(graphdb_params_set_string(p, "name", names[i]), NULL, "graphdb_params_set_string");
        check(graphdb_params_set_int64(p, "age", ages[i]), NULL, "graphdb_params_set_int64");
        graphdb_result *r = NULL;
        check(graphdb_execute(add, p, &r), conn, "graphdb_execute");
        graphdb_result_free(r);
    }
    graphdb_params_free(p);
    graphdb_statement_free(add);
    run(conn,
        "MATCH (a:User {name: 'alice'}), (b:User {name: 'bob'}), (c:User {name: 'carol'}), "
        "(d:User {name: 'dave'}) "
        "CREATE (a)-[:FOLLOWS]->(b), (b)-[:FOLLOWS]->(c), (a)-[:FOLLOWS]->(c), "
        "(c)-[:FOLLOWS]->(d), (d)-[:FOLLOWS]->(a)");
    check(graphdb_commit(txn), conn, "graphdb_commit");
}

/* Who is followed by whom, and how many followers each user has: one line per user. */
static char *answer(graphdb_connection *conn) {
    graphdb_transaction *txn = NULL;
    check(graphdb_begin(conn, GRAPHDB_TXN_READ_ONLY, &txn), conn, "graphdb_begin");
    graphdb_result *r = NULL;
    check(graphdb_query(conn,
                        "MATCH (u:User) OPTIONAL MATCH (f:User)-[:FOLLOWS]->(u) "
                        "WITH u, f ORDER BY f.name "
                        "RETURN u.name AS user, count(f) AS followers, "
                        "collect(f.name) AS followed_by "
                        "ORDER BY user",
                        NULL, &r),
          conn, "the follower query");
    size_t cap = 4096, used = 0;
    char *text = malloc(cap);
    if (text == NULL) exit(1);
    text[0] = '\0';
    bool has_row = false;
    for (;;) {
        check(graphdb_result_next(r, &has_row), conn, "graphdb_result_next");
        if (!has_row) break;
        const char *user = NULL;
        int64_t followers = 0;
        char *by = NULL; /* JSON list of names */
        check(graphdb_result_get_string(r, 0, &user, NULL), conn, "get user");
        check(graphdb_result_get_int64(r, 1, &followers), conn, "get followers");
        check(graphdb_result_get_json(r, 2, &by), conn, "get by");
        int n = snprintf(text + used, cap - used, "%-6s %lld follower(s): %s\n", user,
                         (long long)followers, by);
        graphdb_string_free(by);
        if (n < 0 || (size_t)n >= cap - used) {
            fprintf(stderr, "quickstart: answer too long\n");
            exit(1);
        }
        used += (size_t)n;
    }
    graphdb_result_free(r);
    check(graphdb_commit(txn), conn, "graphdb_commit");
    return text;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes DIR if it is a libgraphdb database from an earlier run; refuses anything else. */
static void remove_old_database(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) return; /* nothing there yet */
    char manifest[4096];
    snprintf(manifest, sizeof manifest, "%s/graphdb.meta", dir);
    if (stat(manifest, &st) != 0) {
        fprintf(stderr, "quickstart: %s exists and is not a libgraphdb database; "
                        "pass another directory\n", dir);
        exit(1);
    }
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        fprintf(stderr, "quickstart: cannot remove %s: %s\n", dir, strerror(errno));
        exit(1);
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "./quickstart.db";
    printf("libgraphdb %s, database in %s\n", graphdb_version(), dir);
    remove_old_database(dir);

    graphdb_database *db = open_database(dir);
    graphdb_connection *conn = NULL;
    check(graphdb_connect(db, &conn), NULL, "graphdb_connect");
    create_graph(conn);
    char *first = answer(conn);
    printf("%s", first);
    graphdb_disconnect(conn);
    graphdb_close(db);

    db = open_database(dir);
    check(graphdb_connect(db, &conn), NULL, "graphdb_connect");
    char *second = answer(conn);
    graphdb_disconnect(conn);
    graphdb_close(db);

    int same = strcmp(first, second) == 0;
    if (same) {
        printf("after reopening: the same answer\n");
    } else {
        printf("after reopening, a DIFFERENT answer:\n%s", second);
    }
    free(first);
    free(second);
    return same ? 0 : 1;
}
