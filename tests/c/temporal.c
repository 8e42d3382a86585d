/* Temporal values through the C API: their type codes, their Cypher string form from the
 * string getters (result and borrowed value view), their tagged JSON form, and temporal
 * parameters passed as JSON. */
#include <stdint.h>

#include "check.h"

static void expect_string(const graphdb_result *r, size_t col, const char *want) {
    const char *s = NULL;
    size_t len = 0;
    EXPECT(graphdb_result_get_string(r, col, &s, &len), GRAPHDB_OK);
    if (strcmp(s, want) != 0 || len != strlen(want)) FAIL("column %zu: got '%s', want '%s'", col, s, want);
    const graphdb_value *v = NULL;
    EXPECT(graphdb_result_get_value(r, col, &v), GRAPHDB_OK);
    EXPECT(graphdb_value_get_string(v, &s, NULL), GRAPHDB_OK);
    if (strcmp(s, want) != 0) FAIL("view of column %zu: got '%s', want '%s'", col, s, want);
    CHECK(graphdb_value_get_type(v) == graphdb_result_type(r, col));
}

static void expect_json(const graphdb_result *r, size_t col, const char *want) {
    char *json = NULL;
    EXPECT(graphdb_result_get_json(r, col, &json), GRAPHDB_OK);
    if (strcmp(json, want) != 0) FAIL("json of column %zu: got %s, want %s", col, json, want);
    graphdb_string_free(json);
}

int main(void) {
    graphdb_database *db = NULL;
    char *error = NULL;
    if (graphdb_open(":memory:", NULL, &db, &error) != GRAPHDB_OK) FAIL("open: %s", error);
    graphdb_connection *conn = NULL;
    EXPECT(graphdb_connect(db, &conn), GRAPHDB_OK);

    graphdb_params *p = NULL;
    OK(conn, graphdb_params_new(&p));
    OK(conn, graphdb_params_set_json(p, "d", "{\"$date\": \"2015-07-21\"}"));
    OK(conn, graphdb_params_set_json(p, "dur", "{\"$duration\": \"P1M\"}"));
    EXPECT(graphdb_params_set_json(p, "bad", "{\"$date\": \"2015-02-29\"}"), GRAPHDB_INVALID_ARGUMENT);

    graphdb_result *r = NULL;
    OK(conn, graphdb_query(conn,
                           "RETURN $d + $dur AS d, localtime('12:31:14.645') AS lt, "
                           "time('12:31+01:00') AS t, localdatetime('2015-202T21') AS ldt, "
                           "datetime('2015-07-21T21:40[Europe/Stockholm]') AS dt, "
                           "duration.between($d, date('2016-08-22')) AS dur",
                           p, &r));
    bool has_row = false;
    OK(conn, graphdb_result_next(r, &has_row));
    CHECK(has_row);
    CHECK(graphdb_result_type(r, 0) == GRAPHDB_TYPE_DATE);
    CHECK(graphdb_result_type(r, 1) == GRAPHDB_TYPE_LOCAL_TIME);
    CHECK(graphdb_result_type(r, 2) == GRAPHDB_TYPE_TIME);
    CHECK(graphdb_result_type(r, 3) == GRAPHDB_TYPE_LOCAL_DATETIME);
    CHECK(graphdb_result_type(r, 4) == GRAPHDB_TYPE_DATETIME);
    CHECK(graphdb_result_type(r, 5) == GRAPHDB_TYPE_DURATION);
    expect_string(r, 0, "2015-08-21");
    expect_string(r, 1, "12:31:14.645");
    expect_string(r, 2, "12:31+01:00");
    expect_string(r, 3, "2015-07-21T21:00");
    expect_string(r, 4, "2015-07-21T21:40+02:00[Europe/Stockholm]");
    expect_string(r, 5, "P1Y1M1D");
    expect_json(r, 0, "{\"$date\":\"2015-08-21\"}");
    expect_json(r, 4, "{\"$datetime\":\"2015-07-21T21:40+02:00[Europe/Stockholm]\"}");
    expect_json(r, 5, "{\"$duration\":\"P1Y1M1D\"}");
    /* A temporal value is not an integer. */
    int64_t i = 0;
    EXPECT(graphdb_result_get_int64(r, 0, &i), GRAPHDB_TYPE_ERROR);
    graphdb_result_free(r);
    graphdb_params_free(p);

    /* A bad temporal string is a query error, not a crash. */
    r = NULL;
    graphdb_status s = graphdb_query(conn, "RETURN date('2015-13-01')", NULL, &r);
    CHECK(s != GRAPHDB_OK && r == NULL);

    graphdb_disconnect(conn);
    graphdb_close(db);
    printf("temporal: ok\n");
    return 0;
}
