/* Bad input that never reaches the engine: NULL handles and out-parameters, invalid UTF-8,
 * unknown options, bad JSON parameters, freeing NULL. Every call must fail cleanly with the
 * documented status and leave out-parameters NULL/0. */
#include <math.h>
#include <stdint.h>

#include "check.h"

static void version_and_abi(void) {
    CHECK(strcmp(graphdb_version(), GRAPHDB_VERSION_STRING) == 0);
    CHECK(graphdb_abi_version() == GRAPHDB_ABI_VERSION);
    CHECK(GRAPHDB_OK == 0);
}

static void options(void) {
    EXPECT(graphdb_options_new(NULL), GRAPHDB_INVALID_ARGUMENT);
    graphdb_options *opts = NULL;
    EXPECT(graphdb_options_new(&opts), GRAPHDB_OK);
    CHECK(opts != NULL);
    EXPECT(graphdb_options_set(opts, "sync", "off"), GRAPHDB_OK);
    EXPECT(graphdb_options_set(opts, "busy_timeout_ms", "100"), GRAPHDB_OK);
    EXPECT(graphdb_options_set(NULL, "sync", "off"), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_options_set(opts, NULL, "off"), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_options_set(opts, "sync", NULL), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_options_set(opts, "sync", "\xff\xfe"), GRAPHDB_INVALID_ARGUMENT);
    graphdb_options_free(opts);

    /* A refused setting fails at once and makes open fail with the reason (the first
       refusal wins), so a caller that ignores the status cannot open with wrong options. */
    EXPECT(graphdb_options_new(&opts), GRAPHDB_OK);
    EXPECT(graphdb_options_set(opts, "sync", "off"), GRAPHDB_OK);

    EXPECT(graphdb_options_set(opts, "sync", "sometimes"), GRAPHDB_INVALID_ARGUMENT);
    graphdb_database *db = (graphdb_database *)&db; /* must be overwritten with NULL */
    char *error = (char *)&error;
    EXPECT(graphdb_open(":memory:", opts, &db, &error), GRAPHDB_INVALID_ARGUMENT);
    CHECK(db == NULL);
    CHECK_CONTAINS(error, "full, normal, off");
    graphdb_string_free(error);
    graphdb_options_free(opts);

    /* An unknown key likewise; error_out may be NULL. */
    EXPECT(graphdb_options_new(&opts), GRAPHDB_OK);
    EXPECT(graphdb_options_set(opts, "colour", "blue"), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_open(":memory:", opts, &db, NULL), GRAPHDB_INVALID_ARGUMENT);
    CHECK(db == NULL);
    EXPECT(graphdb_open(":memory:", opts, &db, &error), GRAPHDB_INVALID_ARGUMENT);
    CHECK_CONTAINS(error, "unknown option 'colour'");
    graphdb_string_free(error);
    graphdb_options_free(opts);

    /* NULL path, NULL out. */
    EXPECT(graphdb_open(NULL, NULL, &db, &error), GRAPHDB_INVALID_ARGUMENT);
    CHECK(db == NULL);
    CHECK_CONTAINS(error, "path is NULL");
    graphdb_string_free(error);
    EXPECT(graphdb_open("\xc3\x28", NULL, &db, &error), GRAPHDB_INVALID_ARGUMENT);
    CHECK_CONTAINS(error, "UTF-8");
    graphdb_string_free(error);
    EXPECT(graphdb_open(":memory:", NULL, NULL, NULL), GRAPHDB_INVALID_ARGUMENT);
}

static void params(void) {
    EXPECT(graphdb_params_new(NULL), GRAPHDB_INVALID_ARGUMENT);
    graphdb_params *p = NULL;
    EXPECT(graphdb_params_new(&p), GRAPHDB_OK);
    EXPECT(graphdb_params_set_null(p, "a"), GRAPHDB_OK);
    EXPECT(graphdb_params_set_bool(p, "b", true), GRAPHDB_OK);
    EXPECT(graphdb_params_set_int64(p, "i", INT64_MIN), GRAPHDB_OK);
    EXPECT(graphdb_params_set_double(p, "d", NAN), GRAPHDB_OK);
    EXPECT(graphdb_params_set_string(p, "s", "h\xc3\xa9llo"), GRAPHDB_OK);
    EXPECT(graphdb_params_set_string_n(p, "n", "a\0b", 3), GRAPHDB_OK);
    EXPECT(graphdb_params_set_string_n(p, "e", NULL, 0), GRAPHDB_OK);
    EXPECT(graphdb_params_set_json(p, "j", "{\"l\": [1, 2.5, null, {\"$float\": \"NaN\"}]}"),
           GRAPHDB_OK);

    /* NULL handle, NULL or bad names, bad strings. */
    EXPECT(graphdb_params_set_int64(NULL, "i", 1), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_int64(p, NULL, 1), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_int64(p, "", 1), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_int64(p, "bad\xff", 1), GRAPHDB_INVALID_ARGUMENT);
    CHECK_CONTAINS(graphdb_params_error_message(p), "parameter name is not valid UTF-8");
    EXPECT(graphdb_params_set_string(p, "s", NULL), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_string(p, "s", "\xed\xa0\x80"), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_string_n(p, "s", NULL, 4), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_string_n(p, "s", "ab\xc3", 3), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_string_n(p, "s", "ab", SIZE_MAX), GRAPHDB_INVALID_ARGUMENT);

    /* JSON: malformed, entities, integers beyond 64 bits, bad $float. */
    EXPECT(graphdb_params_set_json(p, "j", NULL), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_json(p, "j", "{"), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_json(p, "j", "[1,]"), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_json(p, "j", "18446744073709551616"), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_json(p, "j", "9223372036854775808"), GRAPHDB_INVALID_ARGUMENT);
    CHECK_CONTAINS(graphdb_params_error_message(p), "does not fit in 64 signed bits");
    EXPECT(graphdb_params_set_int64(p, "ok", 1), GRAPHDB_OK);
    CHECK(graphdb_params_error_message(p) == NULL);
    CHECK(graphdb_params_error_message(NULL) == NULL);
    EXPECT(graphdb_params_set_json(
               p, "j", "{\"$node\": {\"id\": 1, \"labels\": [], \"properties\": {}}}"),
           GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_json(p, "j", "[{\"$relationship\": {}}]"),
           GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_set_json(p, "j", "{\"$float\": \"nan\"}"), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_params_clear(p), GRAPHDB_OK);
    EXPECT(graphdb_params_clear(NULL), GRAPHDB_INVALID_ARGUMENT);
    graphdb_params_free(p);
}

static void null_handles(void) {
    graphdb_connection *conn = (graphdb_connection *)&conn;
    EXPECT(graphdb_connect(NULL, &conn), GRAPHDB_INVALID_ARGUMENT);
    CHECK(conn == NULL);
    EXPECT(graphdb_connect(NULL, NULL), GRAPHDB_INVALID_ARGUMENT);

    graphdb_result *r = (graphdb_result *)&r;
    EXPECT(graphdb_query(NULL, "RETURN 1", NULL, &r), GRAPHDB_INVALID_ARGUMENT);
    CHECK(r == NULL);
    graphdb_statement *st = (graphdb_statement *)&st;
    EXPECT(graphdb_prepare(NULL, "RETURN 1", &st), GRAPHDB_INVALID_ARGUMENT);
    CHECK(st == NULL);
    r = (graphdb_result *)&r;
    EXPECT(graphdb_execute(NULL, NULL, &r), GRAPHDB_INVALID_ARGUMENT);
    CHECK(r == NULL);
    graphdb_transaction *txn = (graphdb_transaction *)&txn;
    EXPECT(graphdb_begin(NULL, GRAPHDB_TXN_READ_WRITE, &txn), GRAPHDB_INVALID_ARGUMENT);
    CHECK(txn == NULL);
    EXPECT(graphdb_commit(NULL), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_rollback(NULL), GRAPHDB_INVALID_ARGUMENT);
    graphdb_interrupt(NULL);

    EXPECT(graphdb_connection_error_code(NULL), GRAPHDB_INVALID_ARGUMENT);
    CHECK_CONTAINS(graphdb_connection_error_message(NULL), "NULL");
    size_t line = 7, column = 7;
    EXPECT(graphdb_connection_error_position(NULL, &line, &column), GRAPHDB_INVALID_ARGUMENT);
    CHECK(line == 0 && column == 0);

    /* Results. */
    bool has_row = true;
    EXPECT(graphdb_result_next(NULL, &has_row), GRAPHDB_INVALID_ARGUMENT);
    CHECK(!has_row);
    CHECK(graphdb_result_column_count(NULL) == 0);
    CHECK(graphdb_result_column_name(NULL, 0) == NULL);
    CHECK(graphdb_result_type(NULL, 0) == GRAPHDB_TYPE_INVALID);
    int64_t i = 5;
    EXPECT(graphdb_result_get_int64(NULL, 0, &i), GRAPHDB_INVALID_ARGUMENT);
    CHECK(i == 0);
    bool b = true;
    EXPECT(graphdb_result_get_bool(NULL, 0, &b), GRAPHDB_INVALID_ARGUMENT);
    CHECK(!b);
    double d = 5;
    EXPECT(graphdb_result_get_double(NULL, 0, &d), GRAPHDB_INVALID_ARGUMENT);
    CHECK(d == 0);
    const char *s = "x";
    size_t len = 5;
    EXPECT(graphdb_result_get_string(NULL, 0, &s, &len), GRAPHDB_INVALID_ARGUMENT);
    CHECK(s == NULL && len == 0);
    char *json = (char *)&json;
    EXPECT(graphdb_result_get_json(NULL, 0, &json), GRAPHDB_INVALID_ARGUMENT);
    CHECK(json == NULL);
    const graphdb_value *v = (const graphdb_value *)&v;
    EXPECT(graphdb_result_get_value(NULL, 0, &v), GRAPHDB_INVALID_ARGUMENT);
    CHECK(v == NULL);
    CHECK(graphdb_result_stat(NULL, GRAPHDB_STAT_NODES_CREATED) == -1);

    /* Value views. */
    CHECK(graphdb_value_get_type(NULL) == GRAPHDB_TYPE_INVALID);
    EXPECT(graphdb_value_get_int64(NULL, &i), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_value_get_string(NULL, &s, &len), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_value_list_size(NULL, &len), GRAPHDB_INVALID_ARGUMENT);
    EXPECT(graphdb_value_map_key(NULL, 0, &s, NULL), GRAPHDB_INVALID_ARGUMENT);
    uint64_t id = 9;
    EXPECT(graphdb_value_node_id(NULL, &id), GRAPHDB_INVALID_ARGUMENT);
    CHECK(id == 0);
    EXPECT(graphdb_value_path_node(NULL, 0, &v), GRAPHDB_INVALID_ARGUMENT);

    /* Every free accepts NULL. */
    graphdb_options_free(NULL);
    graphdb_close(NULL);
    graphdb_disconnect(NULL);
    graphdb_statement_free(NULL);
    graphdb_params_free(NULL);
    graphdb_result_free(NULL);
    graphdb_transaction_free(NULL);
    graphdb_string_free(NULL);
}

int main(void) {
    version_and_abi();
    options();
    params();
    null_handles();
    printf("bad_input: ok\n");
    return 0;
}
