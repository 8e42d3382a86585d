/* The full happy path of the C API with Cypher, plus the connection errors that need the
 * engine (syntax error positions, wrong-type getters, out-of-range columns, cursor misuse).
 * Usage: happy_path DIR   (DIR: a database directory to create) */
#include <math.h>
#include <stdint.h>

#include "check.h"

static graphdb_result *query(graphdb_connection *conn, const char *cypher,
                             const graphdb_params *params) {
    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn, cypher, params, &r));
    CHECK(r != NULL);
    return r;
}

static void next_row(graphdb_connection *conn, graphdb_result *r) {
    bool has_row = false;
    OK(conn, graphdb_result_next(r, &has_row));
    CHECK(has_row);
}

static void no_more_rows(graphdb_connection *conn, graphdb_result *r) {
    bool has_row = true;
    OK(conn, graphdb_result_next(r, &has_row));
    CHECK(!has_row);
}

static int64_t get_int(graphdb_connection *conn, graphdb_result *r, size_t col) {
    int64_t v = 0;
    OK(conn, graphdb_result_get_int64(r, col, &v));
    return v;
}

static const char *get_str(graphdb_connection *conn, graphdb_result *r, size_t col) {
    const char *s = NULL;
    size_t len = 0;
    OK(conn, graphdb_result_get_string(r, col, &s, &len));
    CHECK(s != NULL && strlen(s) == len);
    return s;
}

static void check_json(graphdb_connection *conn, graphdb_result *r, size_t col, const char *want) {
    char *json = NULL;
    OK(conn, graphdb_result_get_json(r, col, &json));
    if (strcmp(json, want) != 0) FAIL("column %zu is %s, want %s", col, json, want);
    graphdb_string_free(json);
}

/* One value of a single-row, single-column query, as JSON. */
static void check_scalar_json(graphdb_connection *conn, const char *cypher, const char *want) {
    graphdb_result *r = query(conn, cypher, NULL);
    next_row(conn, r);
    check_json(conn, r, 0, want);
    graphdb_result_free(r);
}

static int64_t count(graphdb_connection *conn, const char *cypher) {
    graphdb_result *r = query(conn, cypher, NULL);
    next_row(conn, r);
    int64_t n = get_int(conn, r, 0);
    no_more_rows(conn, r);
    graphdb_result_free(r);
    return n;
}

static void scalars_and_getters(graphdb_connection *conn) {
    graphdb_result *r = query(conn,
                              "RETURN 1 AS i, 2.5 AS d, 'h\xc3\xa9llo' AS s, true AS b, "
                              "null AS n, [1, 'a', [2.0]] AS l, {k: 1, j: 'x'} AS m",
                              NULL);
    CHECK(graphdb_result_column_count(r) == 7);
    CHECK(strcmp(graphdb_result_column_name(r, 0), "i") == 0);
    CHECK(strcmp(graphdb_result_column_name(r, 6), "m") == 0);
    CHECK(graphdb_result_column_name(r, 7) == NULL);
    EXPECT(graphdb_connection_error_code(conn), GRAPHDB_INVALID_ARGUMENT);

    /* No current row before the first next. */
    int64_t i = 42;
    FAILS(conn, graphdb_result_get_int64(r, 0, &i), GRAPHDB_MISUSE);
    CHECK(i == 0);
    CHECK(graphdb_result_type(r, 0) == GRAPHDB_TYPE_INVALID);

    next_row(conn, r);
    CHECK(graphdb_result_type(r, 0) == GRAPHDB_TYPE_INT64);
    CHECK(graphdb_result_type(r, 1) == GRAPHDB_TYPE_DOUBLE);
    CHECK(graphdb_result_type(r, 2) == GRAPHDB_TYPE_STRING);
    CHECK(graphdb_result_type(r, 3) == GRAPHDB_TYPE_BOOL);
    CHECK(graphdb_result_type(r, 4) == GRAPHDB_TYPE_NULL);
    CHECK(graphdb_result_type(r, 5) == GRAPHDB_TYPE_LIST);
    CHECK(graphdb_result_type(r, 6) == GRAPHDB_TYPE_MAP);
    CHECK(graphdb_result_type(r, 7) == GRAPHDB_TYPE_INVALID);

    CHECK(get_int(conn, r, 0) == 1);
    double d = 0;
    OK(conn, graphdb_result_get_double(r, 1, &d));
    CHECK(d == 2.5);
    CHECK(strcmp(get_str(conn, r, 2), "h\xc3\xa9llo") == 0);
    bool b = false;
    OK(conn, graphdb_result_get_bool(r, 3, &b));
    CHECK(b);

    /* Wrong-type getters, out-of-range columns, NULL outs. */
    FAILS(conn, graphdb_result_get_int64(r, 1, &i), GRAPHDB_TYPE_ERROR);
    CHECK_CONTAINS(graphdb_connection_error_message(conn), "DOUBLE");
    FAILS(conn, graphdb_result_get_double(r, 0, &d), GRAPHDB_TYPE_ERROR);
    FAILS(conn, graphdb_result_get_bool(r, 4, &b), GRAPHDB_TYPE_ERROR);
    const char *s = "x";
    FAILS(conn, graphdb_result_get_string(r, 0, &s, NULL), GRAPHDB_TYPE_ERROR);
    CHECK(s == NULL);
    FAILS(conn, graphdb_result_get_int64(r, 7, &i), GRAPHDB_INVALID_ARGUMENT);
    CHECK_CONTAINS(graphdb_connection_error_message(conn), "column 7 is out of range");
    FAILS(conn, graphdb_result_get_int64(r, SIZE_MAX, &i), GRAPHDB_INVALID_ARGUMENT);
    FAILS(conn, graphdb_result_get_int64(r, 0, NULL), GRAPHDB_INVALID_ARGUMENT);
    FAILS(conn, graphdb_result_get_json(r, 0, NULL), GRAPHDB_INVALID_ARGUMENT);

    /* JSON of every column. */
    check_json(conn, r, 0, "1");
    check_json(conn, r, 1, "2.5");
    check_json(conn, r, 2, "\"h\xc3\xa9llo\"");
    check_json(conn, r, 3, "true");
    check_json(conn, r, 4, "null");
    check_json(conn, r, 5, "[1,\"a\",[2.0]]");
    check_json(conn, r, 6, "{\"j\":\"x\",\"k\":1}");

    /* Value views of the nested ones. */
    const graphdb_value *l = NULL, *e = NULL;
    OK(conn, graphdb_result_get_value(r, 5, &l));
    CHECK(graphdb_value_get_type(l) == GRAPHDB_TYPE_LIST);
    size_t n = 0;
    EXPECT(graphdb_value_list_size(l, &n), GRAPHDB_OK);
    CHECK(n == 3);
    EXPECT(graphdb_value_list_get(l, 1, &e), GRAPHDB_OK);
    size_t len = 0;
    EXPECT(graphdb_value_get_string(e, &s, &len), GRAPHDB_OK);
    CHECK(strcmp(s, "a") == 0 && len == 1);
    EXPECT(graphdb_value_list_get(l, 2, &e), GRAPHDB_OK);
    EXPECT(graphdb_value_list_get(e, 0, &e), GRAPHDB_OK);
    EXPECT(graphdb_value_get_double(e, &d), GRAPHDB_OK);
    CHECK(d == 2.0);
    EXPECT(graphdb_value_list_get(l, 3, &e), GRAPHDB_INVALID_ARGUMENT);
    CHECK(e == NULL);
    EXPECT(graphdb_value_get_int64(l, &i), GRAPHDB_TYPE_ERROR);

    const graphdb_value *m = NULL, *mv = NULL;
    OK(conn, graphdb_result_get_value(r, 6, &m));
    EXPECT(graphdb_value_map_size(m, &n), GRAPHDB_OK);
    CHECK(n == 2);
    EXPECT(graphdb_value_map_key(m, 0, &s, &len), GRAPHDB_OK);
    CHECK(strcmp(s, "j") == 0 && len == 1);
    EXPECT(graphdb_value_map_value(m, 1, &mv), GRAPHDB_OK);
    EXPECT(graphdb_value_get_int64(mv, &i), GRAPHDB_OK);
    CHECK(i == 1);
    EXPECT(graphdb_value_map_find(m, "j", &mv), GRAPHDB_OK);
    EXPECT(graphdb_value_get_string(mv, &s, NULL), GRAPHDB_OK);
    CHECK(strcmp(s, "x") == 0);
    EXPECT(graphdb_value_map_find(m, "zz", &mv), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_value_map_key(m, 2, &s, &len), GRAPHDB_INVALID_ARGUMENT);

    /* After the last row: no current row again; next keeps reporting none. */
    no_more_rows(conn, r);
    no_more_rows(conn, r);
    FAILS(conn, graphdb_result_get_int64(r, 0, &i), GRAPHDB_MISUSE);
    graphdb_result_free(r);

    /* Floats always carry a fraction; NaN and infinities are tagged. */
    check_scalar_json(conn, "RETURN 1.0 AS f", "1.0");
    check_scalar_json(conn, "RETURN 0.0 / 0.0 AS f", "{\"$float\":\"NaN\"}");
    check_scalar_json(conn, "RETURN -1.0 / 0.0 AS f", "{\"$float\":\"-Infinity\"}");
}

static void syntax_error_position(graphdb_connection *conn) {
    graphdb_result *r = (graphdb_result *)&r;
    FAILS(conn, graphdb_query(conn, "RETURN 1\nMATCH (n RETURN n", NULL, &r),
          GRAPHDB_SYNTAX_ERROR);
    CHECK(r == NULL);
    size_t line = 0, column = 0;
    OK(conn, graphdb_connection_error_position(conn, &line, &column));
    if (line != 2 || column < 2) FAIL("syntax error at %zu:%zu, want line 2", line, column);
    graphdb_statement *st = (graphdb_statement *)&st;
    FAILS(conn, graphdb_prepare(conn, "RETURN (", &st), GRAPHDB_SYNTAX_ERROR);
    CHECK(st == NULL);
    OK(conn, graphdb_connection_error_position(conn, &line, &column));
    CHECK(line == 1 && column >= 8);
    FAILS(conn, graphdb_query(conn, "RETURN 1 - 'a' AS x", NULL, &r), GRAPHDB_TYPE_ERROR);
}

static void parameters(graphdb_connection *conn) {
    graphdb_params *p = NULL;
    EXPECT(graphdb_params_new(&p), GRAPHDB_OK);
    EXPECT(graphdb_params_set_null(p, "n"), GRAPHDB_OK);
    EXPECT(graphdb_params_set_bool(p, "b", true), GRAPHDB_OK);
    EXPECT(graphdb_params_set_int64(p, "i", INT64_MAX), GRAPHDB_OK);
    EXPECT(graphdb_params_set_double(p, "d", -0.25), GRAPHDB_OK);
    EXPECT(graphdb_params_set_double(p, "inf", INFINITY), GRAPHDB_OK);
    EXPECT(graphdb_params_set_string(p, "s", "\xe2\x82\xac"), GRAPHDB_OK);
    EXPECT(graphdb_params_set_string_n(p, "z", "a\0b", 3), GRAPHDB_OK);
    EXPECT(graphdb_params_set_json(p, "j", "{\"l\": [1, 2.0, null], \"f\": {\"$float\": \"NaN\"}}"),
           GRAPHDB_OK);
    graphdb_result *r = query(conn,
                              "RETURN $n AS n, $b AS b, $i AS i, $d AS d, $inf AS inf, $s AS s, "
                              "$z AS z, $j AS j",
                              p);
    next_row(conn, r);
    check_json(conn, r, 0, "null");
    check_json(conn, r, 1, "true");
    check_json(conn, r, 2, "9223372036854775807");
    check_json(conn, r, 3, "-0.25");
    check_json(conn, r, 4, "{\"$float\":\"Infinity\"}");
    CHECK(strcmp(get_str(conn, r, 5), "\xe2\x82\xac") == 0);
    const char *s = NULL;
    size_t len = 0;
    OK(conn, graphdb_result_get_string(r, 6, &s, &len));
    CHECK(len == 3 && memcmp(s, "a\0b", 4) == 0); /* embedded NUL kept, terminator added */
    check_json(conn, r, 7, "{\"f\":{\"$float\":\"NaN\"},\"l\":[1,2.0,null]}");
    graphdb_result_free(r);
    graphdb_params_free(p);
}

static void graph_values(graphdb_connection *conn) {
    graphdb_result *r = query(conn,
                              "CREATE (a:User {name: 'a'})-[:FOLLOWS {since: 2020}]->"
                              "(b:User:Admin {name: 'b'})",
                              NULL);
    CHECK(graphdb_result_column_count(r) == 0);
    no_more_rows(conn, r);
    CHECK(graphdb_result_stat(r, GRAPHDB_STAT_NODES_CREATED) == 2);
    CHECK(graphdb_result_stat(r, GRAPHDB_STAT_RELATIONSHIPS_CREATED) == 1);
    CHECK(graphdb_result_stat(r, GRAPHDB_STAT_PROPERTIES_SET) == 3);
    CHECK(graphdb_result_stat(r, GRAPHDB_STAT_LABELS_ADDED) == 3);
    CHECK(graphdb_result_stat(r, GRAPHDB_STAT_NODES_DELETED) == 0);
    CHECK(graphdb_result_stat(r, 99) == -1);
    EXPECT(graphdb_connection_error_code(conn), GRAPHDB_INVALID_ARGUMENT);
    graphdb_result_free(r);

    r = query(conn,
              "MATCH p = (a:User {name: 'a'})-[f:FOLLOWS]->(b) RETURN a, f, b, p", NULL);
    next_row(conn, r);
    CHECK(graphdb_result_type(r, 0) == GRAPHDB_TYPE_NODE);
    CHECK(graphdb_result_type(r, 1) == GRAPHDB_TYPE_RELATIONSHIP);
    CHECK(graphdb_result_type(r, 3) == GRAPHDB_TYPE_PATH);

    const graphdb_value *a = NULL, *f = NULL, *b = NULL, *p = NULL, *props = NULL, *v = NULL;
    OK(conn, graphdb_result_get_value(r, 0, &a));
    OK(conn, graphdb_result_get_value(r, 1, &f));
    OK(conn, graphdb_result_get_value(r, 2, &b));
    OK(conn, graphdb_result_get_value(r, 3, &p));
    uint64_t a_id = 0, b_id = 0, f_id = 0, id = 0;
    EXPECT(graphdb_value_node_id(a, &a_id), GRAPHDB_OK);
    EXPECT(graphdb_value_node_id(b, &b_id), GRAPHDB_OK);
    CHECK(a_id != b_id);
    size_t n = 0;
    const char *s = NULL;
    EXPECT(graphdb_value_node_label_count(b, &n), GRAPHDB_OK);
    CHECK(n == 2);
    EXPECT(graphdb_value_node_label_count(a, &n), GRAPHDB_OK);
    CHECK(n == 1);
    EXPECT(graphdb_value_node_label(a, 0, &s, NULL), GRAPHDB_OK);
    CHECK(strcmp(s, "User") == 0);
    EXPECT(graphdb_value_node_label(a, 1, &s, NULL), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_value_node_properties(a, &props), GRAPHDB_OK);
    EXPECT(graphdb_value_map_find(props, "name", &v), GRAPHDB_OK);
    EXPECT(graphdb_value_get_string(v, &s, NULL), GRAPHDB_OK);
    CHECK(strcmp(s, "a") == 0);
    EXPECT(graphdb_value_node_id(f, &id), GRAPHDB_TYPE_ERROR);

    EXPECT(graphdb_value_relationship_id(f, &f_id), GRAPHDB_OK);
    EXPECT(graphdb_value_relationship_type(f, &s, &n), GRAPHDB_OK);
    CHECK(strcmp(s, "FOLLOWS") == 0 && n == 7);
    EXPECT(graphdb_value_relationship_start(f, &id), GRAPHDB_OK);
    CHECK(id == a_id);
    EXPECT(graphdb_value_relationship_end(f, &id), GRAPHDB_OK);
    CHECK(id == b_id);
    EXPECT(graphdb_value_relationship_properties(f, &props), GRAPHDB_OK);
    EXPECT(graphdb_value_map_find(props, "since", &v), GRAPHDB_OK);
    int64_t since = 0;
    EXPECT(graphdb_value_get_int64(v, &since), GRAPHDB_OK);
    CHECK(since == 2020);

    EXPECT(graphdb_value_path_length(p, &n), GRAPHDB_OK);
    CHECK(n == 1);
    EXPECT(graphdb_value_path_node(p, 1, &v), GRAPHDB_OK);
    EXPECT(graphdb_value_node_id(v, &id), GRAPHDB_OK);
    CHECK(id == b_id);
    EXPECT(graphdb_value_path_relationship(p, 0, &v), GRAPHDB_OK);
    EXPECT(graphdb_value_relationship_id(v, &id), GRAPHDB_OK);
    CHECK(id == f_id);
    EXPECT(graphdb_value_path_node(p, 2, &v), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_value_path_relationship(p, 1, &v), GRAPHDB_INVALID_ARGUMENT);

    char *json = NULL;
    OK(conn, graphdb_result_get_json(r, 0, &json));
    char want[128];
    snprintf(want, sizeof want,
             "{\"$node\":{\"id\":%llu,\"labels\":[\"User\"],\"properties\":{\"name\":\"a\"}}}",
             (unsigned long long)a_id);
    CHECK(strcmp(json, want) == 0);
    graphdb_string_free(json);
    OK(conn, graphdb_result_get_json(r, 3, &json));
    CHECK_CONTAINS(json, "{\"$path\":{\"nodes\":[{\"$node\":");
    CHECK_CONTAINS(json, "\"relationships\":[{\"$relationship\":");
    graphdb_string_free(json);
    no_more_rows(conn, r);
    graphdb_result_free(r);

    /* Entities cannot come back in as parameters. */
    graphdb_params *params = NULL;
    EXPECT(graphdb_params_new(&params), GRAPHDB_OK);
    EXPECT(graphdb_params_set_json(params, "x", "{\"$node\": {\"id\": 1}}"),
           GRAPHDB_INVALID_ARGUMENT);
    graphdb_params_free(params);
}

static void prepared_statements(graphdb_connection *conn) {
    graphdb_statement *st = NULL;
    OK(conn, graphdb_prepare(conn, "MATCH (u:User {name: $name}) RETURN u.name AS name", &st));
    graphdb_params *p = NULL;
    EXPECT(graphdb_params_new(&p), GRAPHDB_OK);
    const char *names[] = {"a", "b"};
    for (int k = 0; k < 2; k++) {
        EXPECT(graphdb_params_set_string(p, "name", names[k]), GRAPHDB_OK);
        graphdb_result *r = NULL;
        OK(conn, graphdb_execute(st, p, &r));
        next_row(conn, r);
        CHECK(strcmp(get_str(conn, r, 0), names[k]) == 0);
        no_more_rows(conn, r);
        graphdb_result_free(r);
    }
    graphdb_result *r = (graphdb_result *)&r;
    FAILS(conn, graphdb_execute(st, p, NULL), GRAPHDB_INVALID_ARGUMENT);
    graphdb_params_free(p);
    graphdb_statement_free(st);
}

static void transactions(graphdb_connection *conn) {
    graphdb_transaction *txn = NULL;
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    graphdb_result_free(query(conn, "CREATE (:T {v: 1})", NULL));
    CHECK(count(conn, "MATCH (t:T) RETURN count(t) AS c") == 1);
    OK(conn, graphdb_rollback(txn));
    CHECK(count(conn, "MATCH (t:T) RETURN count(t) AS c") == 0);

    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    graphdb_result_free(query(conn, "CREATE (:T {v: 2})", NULL));
    OK(conn, graphdb_commit(txn));
    CHECK(count(conn, "MATCH (t:T) RETURN count(t) AS c") == 1);

    /* A write in a read-only transaction. */
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_ONLY, &txn));
    graphdb_result *r = (graphdb_result *)&r;
    FAILS(conn, graphdb_query(conn, "CREATE (:T {v: 3})", NULL, &r), GRAPHDB_READ_ONLY);
    CHECK(r == NULL);
    OK(conn, graphdb_rollback(txn));

    /* Cypher BEGIN / COMMIT / ROLLBACK on the connection. */
    graphdb_result_free(query(conn, "BEGIN", NULL));
    graphdb_result_free(query(conn, "CREATE (:T {v: 4})", NULL));
    graphdb_result_free(query(conn, "ROLLBACK", NULL));
    graphdb_result_free(query(conn, "BEGIN", NULL));
    graphdb_result_free(query(conn, "CREATE (:T {v: 5})", NULL));
    graphdb_result_free(query(conn, "COMMIT", NULL));
    CHECK(count(conn, "MATCH (t:T) RETURN count(t) AS c") == 2);

    /* A transaction handle whose transaction Cypher already ended. */
    OK(conn, graphdb_begin(conn, GRAPHDB_TXN_READ_WRITE, &txn));
    graphdb_result_free(query(conn, "COMMIT", NULL));
    FAILS(conn, graphdb_commit(txn), GRAPHDB_TRANSACTION_STATE);
    FAILS(conn, graphdb_query(conn, "COMMIT", NULL, &r), GRAPHDB_TRANSACTION_STATE);
}

static void handles_outlive_disconnect(graphdb_database *db) {
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    graphdb_statement *st = NULL;
    OK(conn, graphdb_prepare(conn, "RETURN 7 AS x", &st));
    graphdb_result *r = query(conn, "UNWIND [1, 2] AS x RETURN x", NULL);
    graphdb_disconnect(conn);
    /* The result stays readable; the statement refuses to run. */
    bool has_row = false;
    EXPECT(graphdb_result_next(r, &has_row), GRAPHDB_OK);
    CHECK(has_row);
    int64_t x = 0;
    EXPECT(graphdb_result_get_int64(r, 0, &x), GRAPHDB_OK);
    CHECK(x == 1);
    graphdb_result_free(r);
    graphdb_result *r2 = (graphdb_result *)&r2;
    EXPECT(graphdb_execute(st, NULL, &r2), GRAPHDB_MISUSE);
    CHECK(r2 == NULL);
    graphdb_statement_free(st);
}

static void on_disk(const char *dir) {
    graphdb_options *opts = NULL;
    EXPECT(graphdb_options_new(&opts), GRAPHDB_OK);
    EXPECT(graphdb_options_set(opts, "sync", "normal"), GRAPHDB_OK);
    graphdb_database *db = NULL;
    char *error = NULL;
    if (graphdb_open(dir, opts, &db, &error) != GRAPHDB_OK) FAIL("open %s: %s", dir, error);
    graphdb_options_free(opts);
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);
    graphdb_result_free(query(conn, "CREATE (:D {v: 1})", NULL));
    CHECK(count(conn, "MATCH (d:D) RETURN count(d) AS c") == 1);
    graphdb_disconnect(conn);
    graphdb_close(db);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    graphdb_database *db = NULL;
    char *error = NULL;
    if (graphdb_open(":memory:", NULL, &db, &error) != GRAPHDB_OK) FAIL("open: %s", error);
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);

    scalars_and_getters(conn);
    syntax_error_position(conn);
    parameters(conn);
    graph_values(conn);
    prepared_statements(conn);
    transactions(conn);
    handles_outlive_disconnect(db);

    graphdb_disconnect(conn);
    graphdb_close(db);
    on_disk(argv[1]);
    printf("happy_path: ok\n");
    return 0;
}
