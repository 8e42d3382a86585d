/* graphdb_import: CSV files imported and queried, durable across a reopen; NULL handles,
 * invalid JSON, a missing file and a bad row refused with a message, changing nothing.
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
    if (graphdb_import(db, spec, &stats, &error) != GRAPHDB_OK) FAIL("import: %s", error);
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

    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
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
