/*
 * test_failover.c - the CA failover policy: fail over after max_failures
 * failures in a row, wrap round the list, fail back to the primary at the
 * fail-back time, a success clears the count, degenerate inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "picoacme_failover.h"

static void test_fail_over_and_back(void **state)
{
    picoacme_failover_t f;
    (void)state;
    picoacme_failover_init(&f, 3, 2, 3600);
    assert_int_equal(picoacme_failover_ca(&f, 1000), 0);
    assert_false(picoacme_failover_result(&f, 1000, false)); /* 1st failure: stay */
    assert_int_equal(picoacme_failover_ca(&f, 1060), 0);
    assert_true(picoacme_failover_result(&f, 1060, false)); /* 2nd: move to CA 1 */
    assert_int_equal(picoacme_failover_ca(&f, 1100), 1);
    assert_int_equal(f.failback_at_s, 1060 + 3600);
    assert_false(picoacme_failover_result(&f, 1100, true)); /* works there */
    assert_int_equal(picoacme_failover_ca(&f, 1060 + 3599), 1);
    /* fail-back time: the primary again, with a clean count */
    assert_int_equal(picoacme_failover_ca(&f, 1060 + 3600), 0);
    assert_int_equal(f.failures, 0);
}

static void test_success_clears_count(void **state)
{
    picoacme_failover_t f;
    (void)state;
    picoacme_failover_init(&f, 2, 3, 60);
    assert_false(picoacme_failover_result(&f, 0, false));
    assert_false(picoacme_failover_result(&f, 0, false));
    assert_false(picoacme_failover_result(&f, 0, true));
    assert_false(picoacme_failover_result(&f, 0, false));
    assert_false(picoacme_failover_result(&f, 0, false));
    assert_int_equal(picoacme_failover_ca(&f, 0), 0);
    assert_true(picoacme_failover_result(&f, 0, false));
    assert_int_equal(picoacme_failover_ca(&f, 1), 1);
}

static void test_wraps_round(void **state)
{
    picoacme_failover_t f;
    (void)state;
    picoacme_failover_init(&f, 3, 1, 100000);
    assert_true(picoacme_failover_result(&f, 10, false));
    assert_int_equal(picoacme_failover_ca(&f, 11), 1);
    assert_true(picoacme_failover_result(&f, 11, false));
    assert_int_equal(picoacme_failover_ca(&f, 12), 2);
    assert_true(picoacme_failover_result(&f, 12, false));
    /* back to the primary when every fallback failed too */
    assert_int_equal(picoacme_failover_ca(&f, 13), 0);
}

static void test_degenerate(void **state)
{
    picoacme_failover_t f;
    (void)state;
    picoacme_failover_init(&f, 1, 0, 0); /* one CA, max_failures 0 taken as 1 */
    assert_int_equal(f.max_failures, 1);
    assert_false(picoacme_failover_result(&f, 0, false)); /* nowhere to go */
    assert_int_equal(picoacme_failover_ca(&f, 0), 0);
    picoacme_failover_init(&f, 0, 1, 0);
    assert_int_equal(f.n_cas, 1);
    picoacme_failover_init(NULL, 2, 1, 0);
    assert_int_equal(picoacme_failover_ca(NULL, 0), 0);
    assert_false(picoacme_failover_result(NULL, 0, false));
    /* the failure count saturates instead of wrapping */
    picoacme_failover_init(&f, 2, 255, 0);
    for (int i = 0; i < 254; i++) {
        assert_false(picoacme_failover_result(&f, 0, false));
    }
    assert_true(picoacme_failover_result(&f, 0, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_over_and_back),
        cmocka_unit_test(test_success_clears_count),
        cmocka_unit_test(test_wraps_round),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
