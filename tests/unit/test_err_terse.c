/*
 * test_err_terse.c - picoacme_err_str() in the firmware profile
 * (PICOACME_ERROR_TEXT=0): one distinct terse name per status, in enum
 * order, "unknown error" past the end. err.c is compiled here with that
 * option (the library itself is built with the defaults).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#define PICOACME_ERROR_TEXT 0
#include "../../core/src/err.c"

static void test_terse_names(void **state)
{
    static const char *const want[] = {
        "ok",      "again",        "want-read",   "want-write", "param",   "nospace",
        "parse",   "io",           "closed",      "timeout",    "tls",     "tls-verify",
        "crypto",  "storage",      "not-found",   "http",       "problem", "protocol",
        "invalid", "rate-limited", "unsupported", "state",      "dns"};
    (void)state;
    assert_int_equal(sizeof want / sizeof want[0], (size_t)PICOACME_ERR_DNS + 1U);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_string_equal(picoacme_err_str((picoacme_err_t)i), want[i]);
    }
    assert_string_equal(picoacme_err_str((picoacme_err_t)(PICOACME_ERR_DNS + 1)), "unknown error");
    assert_string_equal(picoacme_err_str((picoacme_err_t)1000), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_terse_names)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
