/* graphdb_import: CSV files imported (with progress reports) and queried, durable across a
 * reopen; NULL handles, invalid JSON, a missing file, a bad row and a cancel from the
 * progress callback refused with a message, changing nothing.
 * Usage: import DIR (a scratch directory; the database goes in DIR/db) */
#include <stdint.h>

#include "check.h"

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) FAIL("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static int64_t count(graphdb_connection *conn, const char *cypher) {
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, cypher, NULL, &r));
    bool has_row = false;
    OK(conn, graphdb_result_next(r, &has_row));
    CHECK(has_row);
    int64_t n = -1;
    OK(conn, graphdb_result_get_int64(r, 0, &n));
    graphdb_result_free(r);
    return n;
}

static graphdb_database *open_db(const char *path) {
    graphdb_database *db = NULL;
    char *error = NULL;
    if (graphdb_open(path, NULL, &db, &error) != GRAPHDB_OK) FAIL("open %s: %s", path, error);
    return db;
}

/* `spec` must fail with `want` and a message containing `needle`. */
static void refused(graphdb_database *db, const char *spec, graphdb_status want,
                    const char *needle) {
    char *stats = (char *)1;
    char *error = NULL;
    EXPECT(graphdb_import(db, spec, &stats, &error), want);
    CHECK(stats == NULL);
    CHECK(error != NULL);
    if (!strstr(error, needle)) FAIL("message \"%s\" lacks \"%s\"", error, needle);
    graphdb_string_free(error);
}

/* Progress reports seen, and the report (1-based) at which to cancel (0: never). */
struct progress {
    int reports;
    int cancel_at;
    uint64_t node_rows, rel_rows;
    int done_files;
};

static int32_t on_progress(void *user_data, const char *file, graphdb_import_phase phase,
                           uint64_t rows, bool done) {
    struct progress *p = user_data;
    CHECK(file != NULL && strstr(file, ".csv") != NULL);
    p->reports++;
    if (phase == GRAPHDB_IMPORT_NODES) p->node_rows = rows;
    else p->rel_rows = rows;
    if (done) p->done_files++;
    return p->cancel_at != 0 && p->reports >= p->cancel_at;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char users[1024], follows[1024], bad[1024], path[1024], spec[4096];
    snprintf(users, sizeof users, "%s/users.csv", argv[1]);
    snprintf(follows, sizeof follows, "%s/follows.csv", argv[1]);
    snprintf(bad, sizeof bad, "%s/bad.csv", argv[1]);
    snprintf(path, sizeof path, "%s/db", argv[1]);
    write_file(users, "id:ID(User),name,age:int\n1,ann,31\n2,\"Bob, Jr.\",40\n3,cy,22\n");
    write_file(follows, ":START_ID(User),:END_ID(User),since:int\n1,2,2001\n2,3,2002\n3,1,\n");
    write_file(bad, ":START_ID(User),:END_ID(User),since:int\n1,2,2001\n2,99,2002\n");

    graphdb_database *db = open_db(path);
    snprintf(spec, sizeof spec,
             "{\"nodes\": [{\"file\": \"%s\", \"labels\": [\"User\"]}], "
             "\"relationships\": [{\"file\": \"%s\", \"type\": \"FOLLOWS\"}], "
             "\"id_type\": \"int\"}",
             users, follows);
    char *stats = NULL;
    char *error = NULL;
    struct progress all = {0, 0, 0, 0, 0};
    if (graphdb_import_with_progress(db, spec, on_progress, &all, &stats, &error) != GRAPHDB_OK)
        FAIL("import: %s", error);
    /* One final report per file, with its row count. */
    CHECK(all.reports == 2 && all.done_files == 2 && all.node_rows == 3 && all.rel_rows == 3);
    CHECK(error == NULL);
    CHECK(strstr(stats, "\"nodes\":3") != NULL);
    CHECK(strstr(stats, "\"relationships\":3") != NULL);
    graphdb_string_free(stats);

    /* Bad input: NULL handles, not JSON, an unknown key, a missing file, an unknown id. */
    EXPECT(graphdb_import(NULL, spec, NULL, NULL), GRAPHDB_INVALID_ARGUMENT);
    refused(NULL, spec, GRAPHDB_INVALID_ARGUMENT, "db");
    refused(db, NULL, GRAPHDB_INVALID_ARGUMENT, "spec_json");
    refused(db, "{nodes: oops", GRAPHDB_INVALID_ARGUMENT, "not JSON");
    refused(db, "{\"nodez\": []}", GRAPHDB_INVALID_ARGUMENT, "unknown key \"nodez\"");
    refused(db, "{\"nodes\": [{\"file\": \"/nonexistent/x.csv\", \"labels\": [\"X\"]}]}",
            GRAPHDB_INVALID_ARGUMENT, "cannot open the import file /nonexistent/x.csv");
    snprintf(spec, sizeof spec,
             "{\"relationships\": [{\"file\": \"%s\", \"type\": \"FOLLOWS\"}], "
             "\"id_type\": \"int\"}",
             bad);
    refused(db, spec, GRAPHDB_INVALID_ARGUMENT, "bad.csv:3: no node has id \"99\"");

    /* Cancelled from the callback at the end of the node file: nothing is imported. */
    snprintf(spec, sizeof spec,
             "{\"nodes\": [{\"file\": \"%s\", \"labels\": [\"Extra\"]}], "
             "\"relationships\": [{\"file\": \"%s\", \"type\": \"FOLLOWS\"}], "
             "\"id_type\": \"int\"}",
             users, follows);
    struct progress seen = {0, 1, 0, 0, 0};
    stats = (char *)1;
    error = NULL;
    EXPECT(graphdb_import_with_progress(db, spec, on_progress, &seen, &stats, &error),
           GRAPHDB_INTERRUPTED);
    CHECK(stats == NULL && error != NULL && strstr(error, "cancelled") != NULL);
    graphdb_string_free(error);
    CHECK(seen.reports == 1 && seen.done_files == 1 && seen.node_rows == 3);

    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    CHECK(count(conn, "MATCH (u:Extra) RETURN count(u)") == 0);
    CHECK(count(conn, "MATCH (u:User) RETURN count(u)") == 3);
    CHECK(count(conn, "MATCH ()-[f:FOLLOWS]->() RETURN count(f)") == 3);
    CHECK(count(conn, "MATCH (a:User {id: 3})-[:FOLLOWS]->(b) RETURN b.age") == 31);
    graphdb_disconnect(conn);
    graphdb_close(db);

    db = open_db(path);
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    CHECK(count(conn, "MATCH (u:User)<-[:FOLLOWS]-(v) RETURN count(*)") == 3);
    CHECK(count(conn, "MATCH (u:User {name: 'Bob, Jr.'}) RETURN u.age") == 40);
    graphdb_disconnect(conn);
    graphdb_close(db);
    printf("import: ok\n");
    return 0;
}
