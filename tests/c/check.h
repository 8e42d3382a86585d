/* Assertion helpers shared by the C API tests (tests/c_api.rs compiles and runs them). */
#ifndef GRAPHDB_TEST_CHECK_H
#define GRAPHDB_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphdb.h"

#define FAIL(...)                                                    \
    do {                                                             \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);              \
        fprintf(stderr, __VA_ARGS__);                                \
        fprintf(stderr, "\n");                                       \
        exit(1);                                                     \
    } while (0)

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) FAIL("CHECK failed: %s", #cond);                \
    } while (0)

/* `expr` must return `want`. */
#define EXPECT(expr, want)                                           \
    do {                                                             \
        graphdb_status s_ = (expr);                                  \
        if (s_ != (want))                                            \
            FAIL("%s returned %d, want %d (%s)", #expr, (int)s_,     \
                 (int)(want), #want);                                \
    } while (0)

/* `expr`, a call on `conn` (or on something made from it), must succeed. */
#define OK(conn, expr)                                               \
    do {                                                             \
        graphdb_status s_ = (expr);                                  \
        if (s_ != GRAPHDB_OK)                                        \
            FAIL("%s failed with %d: %s", #expr, (int)s_,            \
                 graphdb_connection_error_message(conn));            \
    } while (0)

/* `expr` must fail with `want`, and the connection must say so too. */
#define FAILS(conn, expr, want)                                      \
    do {                                                             \
        EXPECT(expr, want);                                          \
        CHECK(graphdb_connection_error_code(conn) == (want));        \
        CHECK(strcmp(graphdb_connection_error_message(conn),         \
                     "not an error") != 0);                          \
    } while (0)

/* `*(char **)p` contains `needle`. */
static inline void check_contains(const char *haystack, const char *needle, const char *file,
                                  int line) {
    if (haystack == NULL || strstr(haystack, needle) == NULL) {
        fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", file, line,
                haystack ? haystack : "(null)", needle);
        exit(1);
    }
}
#define CHECK_CONTAINS(h, n) check_contains((h), (n), __FILE__, __LINE__)

#endif
