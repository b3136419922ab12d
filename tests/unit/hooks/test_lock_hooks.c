/*
 * test_lock_hooks.c - the threading contract: with PICOACME_LOCK and
 * PICOACME_UNLOCK defined (lock_hooks_config.h), picoacme_step(),
 * picoacme_http01_lookup() and picoacme_tlsalpn_adopt() each take the lock
 * once and give it back on every path, never nested (a plain mutex is
 * enough), and nothing else takes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "picoacme.h"

static unsigned g_locks, g_unlocks;
static int g_depth;
static const struct picoacme_ctx *g_owner;

void test_lock(const struct picoacme_ctx *ctx)
{
    assert_int_equal(g_depth, 0); /* never taken twice */
    g_depth++;
    g_locks++;
    g_owner = ctx;
}

void test_unlock(const struct picoacme_ctx *ctx)
{
    assert_int_equal(g_depth, 1);
    assert_ptr_equal(ctx, g_owner);
    g_depth--;
    g_unlocks++;
}

/* ports that are never reached on these paths */
static picoacme_err_t no_connect(void *u, const char *h, uint16_t p, picoacme_sock_t *s)
{
    (void)u, (void)h, (void)p, (void)s;
    fail_msg("no connection is made");
    return PICOACME_ERR_IO;
}
static int64_t wall(void *u)
{
    (void)u;
    return PICOACME_TIME_UNKNOWN;
}
static uint32_t mono(void *u)
{
    (void)u;
    return 0;
}

static picoacme_ctx_t g_ctx;

static void test_hooks(void **state)
{
    static const picoacme_ident_t ids[1] = {{PICOACME_ID_DNS, "a.test"}};
    picoacme_transport_t tp;
    picoacme_crypto_t crypto;
    picoacme_clock_t clk = {NULL, wall, mono};
    picoacme_ports_t ports;
    picoacme_config_t cfg;
    picoacme_wait_t w;
    char out[160];
    size_t n = 0;
    (void)state;
    memset(&tp, 0, sizeof tp);
    memset(&crypto, 0, sizeof crypto);
    memset(&ports, 0, sizeof ports);
    memset(&cfg, 0, sizeof cfg);
    tp.connect = no_connect;
    ports.transport = &tp;
    ports.crypto = &crypto;
    ports.clock = &clk;
    cfg.directory_url = "http://ca.test/dir";
    cfg.ids = ids;
    cfg.n_ids = 1;

    assert_int_equal(picoacme_init(&g_ctx, &cfg, &ports), PICOACME_OK);
    assert_int_equal(g_locks, 0); /* set-up takes no lock */

    /* before a start: PICOACME_ERR_STATE, the lock given back */
    assert_int_equal(picoacme_step(&g_ctx, &w), PICOACME_ERR_STATE);
    assert_int_equal(g_locks, 1);
    assert_int_equal(g_unlocks, 1);

    assert_int_equal(
        picoacme_http01_lookup(&g_ctx, "/.well-known/acme-challenge/abc", 31U, out, sizeof out, &n),
        PICOACME_ERR_NOT_FOUND);
    assert_int_equal(g_locks, 2);
    assert_int_equal(g_unlocks, 2);

    /* a bad argument is refused before the lock */
    assert_int_equal(picoacme_http01_lookup(&g_ctx, NULL, 0U, out, sizeof out, &n),
                     PICOACME_ERR_PARAM);
    assert_int_equal(g_locks, 2);

#if PICOACME_TLSALPN01
    assert_int_equal(picoacme_tlsalpn_adopt(&g_ctx, 7), PICOACME_ERR_STATE);
    assert_int_equal(g_locks, 3);
    assert_int_equal(g_unlocks, 3);
#endif
    picoacme_abort(&g_ctx);
    assert_int_equal(g_depth, 0);
    assert_int_equal(g_locks, g_unlocks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
