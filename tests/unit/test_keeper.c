/*
 * test_keeper.c - the certificate keeper (core/src/keeper*.c): its pure
 * policy (renewal point, ARI window point, backoff), its persisted state,
 * and whole keepers pumped against the fake CA of tests/fleet/fake_ca.c on
 * a simulated clock that moves only by what the keeper asks to wait:
 * enrolment, renewal at the fraction, ARI windows (inside, past, malformed,
 * beyond notAfter), backoff and rateLimited across reboots, failover and
 * failback, a device without RTC off for months, EXPIRED, renew-now, and a
 * power cut during a keeper-state save (RAM flash and the POSIX file
 * flash).
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_ca.h"
#include "picoacme_keeper.h"
#include "picoacme_posix.h"
#include "picoacme_store.h"

#define EPOCH 1893456000 /* 2030-01-01T00:00:00Z */
#define DAY   86400
#define F_PM  PICOACME_RENEW_PERMILLE
#define J_PM  PICOACME_KEEPER_JITTER_PERMILLE

/* ---- the policy ------------------------------------------------------------- */

static void test_fraction_point(void **state)
{
    (void)state;
    const int64_t nb = EPOCH, na = EPOCH + DAY;
    const int64_t f = DAY * F_PM / 1000; /* 57628 */
    const int64_t q = f - f * J_PM / 1000;
    int64_t lo = INT64_MAX, hi = 0;
    assert_int_equal(picoacme_keeper_fraction_point(nb, na, 12345, F_PM, 0), nb + f);
    assert_int_equal(picoacme_keeper_fraction_point(nb, nb, 1, F_PM, J_PM), nb);
    for (uint32_t i = 0; i < 2000; i++) {
        uint32_t ph = i * 2654435761U;
        int64_t t = picoacme_keeper_fraction_point(nb, na, ph, F_PM, J_PM);
        /* never after the fraction, never before fraction - period */
        assert_true(t <= nb + f);
        assert_true(t > nb + f - q - 1);
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
        /* renewing at t: the next certificate's point is exactly one period later */
        assert_int_equal(picoacme_keeper_fraction_point(t, t + DAY, ph, F_PM, J_PM), t + q);
        /* also when the CA backdates notBefore by an hour */
        assert_int_equal(picoacme_keeper_fraction_point(t - 3600, t - 3600 + DAY, ph, F_PM, J_PM),
                         t + q);
    }
    /* the phases spread the first points over most of the period */
    assert_true(hi - lo > q * 9 / 10);
    /* fleet numbers 1..n: the points of any n of them are evenly spread
     * (no two of 100 within a tenth of the even spacing) */
    int64_t pts[100];
    for (uint32_t i = 0; i < 100; i++) {
        pts[i] =
            picoacme_keeper_fraction_point(nb, na, picoacme_keeper_index_phase(i + 1), F_PM, J_PM);
    }
    for (int i = 0; i < 100; i++) {
        for (int j = i + 1; j < 100; j++) {
            int64_t dd = pts[i] > pts[j] ? pts[i] - pts[j] : pts[j] - pts[i];
            assert_true(dd > q / 100 / 10);
        }
    }
}

static void test_window_point(void **state)
{
    (void)state;
    const int64_t s = EPOCH + 1000, e = EPOCH + 2000, na = EPOCH + DAY;
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t r = i * 4294967U + (i & 1U ? 0xFFFFFFFFU - i : 0U);
        int64_t t = picoacme_keeper_window_point(s, e, na, EPOCH, r);
        assert_true(t >= s && t <= e);
        /* a window that started: in what is left of it */
        t = picoacme_keeper_window_point(s, e, na, s + 900, r);
        assert_true(t >= s + 900 && t <= e);
        /* a window ending after notAfter: before notAfter */
        t = picoacme_keeper_window_point(s, na + 5000, na, EPOCH, r);
        assert_true(t >= s && t < na);
    }
    assert_int_equal(picoacme_keeper_window_point(s, e, na, e + 77, 5), e + 77); /* passed: now */
    assert_int_equal(picoacme_keeper_window_point(na + 1, na + 9, na, EPOCH, 5),
                     PICOACME_TIME_UNKNOWN);
    assert_int_equal(picoacme_keeper_window_point(s, e, na, EPOCH, 0), s);
    assert_int_equal(picoacme_keeper_window_point(s, e, na, EPOCH, 0xFFFFFFFFU), e);
}

static void test_backoff(void **state)
{
    (void)state;
    uint32_t prev = 0;
    for (uint16_t f = 1; f <= 12; f++) {
        uint32_t full = 300U << (f - 1U > 3U ? 9U : 3U * (f - 1U)); /* x8 per failure */
        full = full > 14400U ? 14400U : full;
        uint32_t lo = picoacme_keeper_backoff_s(f, 300, 14400, 0, PICOACME_TIME_UNKNOWN, 0);
        uint32_t hi =
            picoacme_keeper_backoff_s(f, 300, 14400, 0xFFFFFFFFU, PICOACME_TIME_UNKNOWN, 0);
        assert_int_equal(hi, full);
        assert_int_equal(lo, full - full / 4U);
        assert_true(hi >= prev);
        prev = hi;
    }
    assert_int_equal(prev, 14400U);
    /* near the expiry: two thirds of what is left, not below min; the
     * jitter applies to the level's delay before that cap, so a capped
     * delay is not jittered below it (before: [1/2, 2/3] of what is left,
     * which put a CA outage's second retries into the first hour after
     * the recovery, tests/fleet (b)) */
    assert_int_equal(picoacme_keeper_backoff_s(9, 300, 14400, 0xFFFFFFFFU, EPOCH, EPOCH + 3000),
                     2000U);
    assert_int_equal(picoacme_keeper_backoff_s(9, 300, 14400, 0, EPOCH, EPOCH + 3000), 2000U);
    /* the level (300 x 8 = 2400, jittered to [1800, 2400]) below the cap
     * (two thirds of 6000): jittered as without an expiry */
    assert_int_equal(picoacme_keeper_backoff_s(2, 300, 14400, 0, EPOCH, EPOCH + 6000), 1800U);
    assert_int_equal(picoacme_keeper_backoff_s(2, 300, 14400, 0xFFFFFFFFU, EPOCH, EPOCH + 6000),
                     2400U);
    /* the cap between the jittered bounds: [1800, 2000] */
    assert_int_equal(picoacme_keeper_backoff_s(2, 300, 14400, 0, EPOCH, EPOCH + 3000), 1800U);
    assert_int_equal(picoacme_keeper_backoff_s(2, 300, 14400, 0xFFFFFFFFU, EPOCH, EPOCH + 3000),
                     2000U);
    assert_int_equal(picoacme_keeper_backoff_s(9, 300, 14400, 0xFFFFFFFFU, EPOCH, EPOCH + 400),
                     300U);
}

/* an overdue renewal's point: after the rest of the boot spread, a point
 * in the next spread, never after half of what is left */
static void test_overdue_point(void **state)
{
    (void)state;
    int64_t na = EPOCH + 36000;
    assert_int_equal(picoacme_keeper_overdue_point(EPOCH, na, 1000, 7200, 0), EPOCH + 1000);
    assert_int_equal(picoacme_keeper_overdue_point(EPOCH, na, 1000, 7200, 0xFFFFFFFFU),
                     EPOCH + 8200);
    assert_int_equal(picoacme_keeper_overdue_point(EPOCH, na, 0, 7200, 0x80000000U), EPOCH + 3600);
    /* the hard floor: half of what is left (18000 s) */
    assert_int_equal(picoacme_keeper_overdue_point(EPOCH, na, 15000, 7200, 0xFFFFFFFFU),
                     EPOCH + 18000);
    assert_int_equal(picoacme_keeper_overdue_point(EPOCH, EPOCH + 1, 15000, 7200, 5), EPOCH);
    assert_int_equal(picoacme_keeper_overdue_point(EPOCH, EPOCH - 50, 15000, 7200, 5), EPOCH);
}

/* a numbered fleet's spreading values: as even as its phases, also for
 * the members whose phases lie in an interval (those whose renewal points
 * fell in a CA outage): every twentieth of the range within 5 % of its
 * share (independent random values: about 7 % for one standard deviation
 * of 210) */
static void test_spread_rnd(void **state)
{
    (void)state;
    static const double from[3] = {0.0, 0.3, 0.6};
    static const double width[3] = {1.0, 0.42, 0.25};
    for (uint32_t salt = 1; salt <= 3; salt++) {
        for (int w = 0; w < 3; w++) {
            uint32_t bins[20] = {0};
            uint32_t n = 0;
            for (uint32_t i = 1; i <= 10000; i++) {
                uint32_t ph = picoacme_keeper_index_phase(i);
                double x = (double)ph / 4294967296.0;
                if (x < from[w] || x >= from[w] + width[w]) {
                    continue;
                }
                bins[(uint32_t)(((uint64_t)picoacme_keeper_spread_rnd(ph, salt) * 20U) >> 32)]++;
                n++;
            }
            for (int b = 0; b < 20; b++) {
                double dev = (double)bins[b] - n / 20.0;
                assert_true(dev * 20.0 <= n * 0.05 && -dev * 20.0 <= n * 0.05);
            }
        }
        /* the salt makes another value */
        assert_int_not_equal(picoacme_keeper_spread_rnd(77, salt),
                             picoacme_keeper_spread_rnd(77, salt + 1U));
    }
}

static void test_state_codec(void **state)
{
    (void)state;
    picoacme_keeper_state_t a, b;
    uint8_t buf[PICOACME_KEEPER_STATE_MAX];
    size_t len = 0;
    memset(&a, 0, sizeof a);
    a.phase_rnd = 0xDEADBEEF;
    a.plan_not_after_s = EPOCH + 7;
    a.renew_at_s = -5;
    a.backoff_until_s = EPOCH + 99;
    a.rate_limited_until_s = (int64_t)1 << 40;
    a.failback_at_s = 3;
    a.ari_start_s = 4;
    a.ari_end_s = 5;
    a.ari_retry_at_s = 6;
    a.failures = 513;
    a.ca = 2;
    a.ca_failures = 1;
    a.ari = true;
    memset(a.ari_certid, 'c', sizeof a.ari_certid - 1U);
    a.problem.err = PICOACME_ERR_RATE_LIMITED;
    a.problem.state = PICOACME_ST_ORDER;
    a.problem.http_status = 429;
    memset(a.problem.type, 't', sizeof a.problem.type - 1U);
    strcpy(a.problem.detail, "short detail");
    assert_int_equal(picoacme_keeper_state_encode(&a, buf, sizeof buf, &len), PICOACME_OK);
    assert_true(len <= PICOACME_KEEPER_STATE_MAX);
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, len), PICOACME_OK);
    assert_memory_equal(&a, &b, sizeof a);
    /* the two flags apart */
    a.ari = false;
    a.ca_answered = true;
    assert_int_equal(picoacme_keeper_state_encode(&a, buf, sizeof buf, &len), PICOACME_OK);
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, len), PICOACME_OK);
    assert_false(b.ari);
    assert_true(b.ca_answered);
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, len - 1U), PICOACME_ERR_PARSE);
    buf[0] = 9;
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, len), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_keeper_state_encode(&a, buf, 40, &len), PICOACME_ERR_NOSPACE);
}

/* decode takes only what encode writes: a string with a NUL inside its
 * length (found by fuzz_keeper: the bytes after the NUL stayed in the state,
 * unseen, and were gone at the next save) or a detail longer than encode
 * keeps is a damaged record */
static void test_state_decode_canonical(void **state)
{
    (void)state;
    picoacme_keeper_state_t a, b;
    uint8_t buf[PICOACME_KEEPER_STATE_MAX + 1U];
    size_t len = 0;
    memset(&a, 0, sizeof a);
    strcpy(a.problem.type, "abc");
    memset(a.problem.detail, 'x', 64);
    assert_int_equal(picoacme_keeper_state_encode(&a, buf, sizeof buf, &len), PICOACME_OK);
    /* head (80), certid "" (1), type 3 "abc" (4), detail 64 */
    assert_int_equal(len, 80U + 1U + 4U + 1U + 64U);
    assert_int_equal(buf[81], 3);
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, len), PICOACME_OK);
    assert_memory_equal(&a, &b, sizeof a);
    buf[83] = 0; /* "a\0c" */
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, len), PICOACME_ERR_PARSE);
    assert_int_equal(b.problem.type[0], 0);
    buf[83] = 'b';
    buf[85] = 65; /* a 65-byte detail: encode cuts at 64 */
    buf[len] = 'x';
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, len + 1U), PICOACME_ERR_PARSE);
    buf[80] = 1; /* a certid of one NUL, type and detail "" */
    buf[81] = 0;
    buf[82] = 0;
    buf[83] = 0;
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, 84U), PICOACME_ERR_PARSE);
    buf[81] = 'c';
    assert_int_equal(picoacme_keeper_state_decode(&b, buf, 84U), PICOACME_OK);
    assert_string_equal(b.ari_certid, "c");
}

/* ---- whole keepers on the fake CA ----------------------------------------------- */

static fca_clock_t g_clk;
static fca_ca_t g_ca;
static fca_dev_t g_dev;
static picoacme_keeper_t g_k;
static picoacme_ident_t g_id = {PICOACME_ID_DNS, "dev.test"};
static picoacme_keeper_ca_t g_cas[2];
static picoacme_keeper_config_t g_kcfg;

typedef struct evlog {
    int n;
    picoacme_keeper_event_t ev[64];
    int64_t at[64];
} evlog_t;

static int setup(void **state)
{
    (void)state;
    memset(&g_clk, 0, sizeof g_clk);
    g_clk.epoch_s = EPOCH;
    assert_int_equal(fca_init(&g_ca, &g_clk, PICOACME_TEST_TMPDIR), 0);
    fca_dev_init(&g_dev, &g_ca, 7, true);
    memset(g_cas, 0, sizeof g_cas);
    g_cas[0].cfg.directory_url = FCA_BASE "/dir";
    g_cas[0].cfg.ids = &g_id;
    g_cas[0].cfg.n_ids = 1;
    g_cas[1] = g_cas[0];
    g_cas[1].cfg.directory_url = "http://ca2.test/dir";
    memset(&g_kcfg, 0, sizeof g_kcfg);
    g_kcfg.cas = g_cas;
    g_kcfg.n_cas = 1;
    g_kcfg.state_store = &g_dev.state_storage;
    return 0;
}

static void dbg_log(void *user, int level, const char *fmt, ...)
{
    va_list ap;
    (void)user;
    (void)level;
    fprintf(stderr, "[%lld] ", (long long)fca_wall(&g_clk));
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

static void keeper_boot(void)
{
    if (getenv("KEEPER_DEBUG") != NULL) {
        g_dev.ports.log = dbg_log;
    }
    assert_int_equal(picoacme_keeper_init(&g_k, &g_kcfg, &g_dev.ports), PICOACME_OK);
}

static void reboot(void)
{
    fca_dev_reboot(&g_dev);
    keeper_boot();
}

/* Pump until sim time `until` (Unix s) or `stop` events were seen; the
 * clock moves only by the waits the keeper names. */
static void run(evlog_t *log, int64_t until, int stop)
{
    picoacme_wait_t w;
    for (int guard = 0; guard < 200000; guard++) {
        picoacme_keeper_event_t ev = picoacme_keeper_step(&g_k, &w);
        if (ev != PICOACME_KEEPER_EV_NONE && log != NULL && log->n < 64) {
            log->ev[log->n] = ev;
            log->at[log->n++] = fca_wall(&g_clk);
        }
        if (log != NULL && stop > 0 && log->n >= stop) {
            return;
        }
        assert_true(w.timeout_ms != UINT32_MAX);
        assert_true(w.timeout_ms <= PICOACME_KEEPER_MAX_SLEEP_S * 1000U);
        if (w.count > 0 && w.timeout_ms > 0) {
            continue; /* the fake CA answers at once: the socket is ready */
        }
        uint64_t end_ms = (uint64_t)(until - EPOCH) * 1000U;
        if (g_clk.ms >= end_ms) {
            return;
        }
        g_clk.ms += w.timeout_ms < end_ms - g_clk.ms ? w.timeout_ms : end_ms - g_clk.ms;
    }
    fail_msg("the keeper never settled");
}

static int count_ev(const evlog_t *l, picoacme_keeper_event_t ev)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) {
        n += l->ev[i] == ev;
    }
    return n;
}

static picoacme_keeper_status_t status(void)
{
    picoacme_keeper_status_t s;
    picoacme_keeper_status(&g_k, &s);
    return s;
}

/* boot with nothing: enrol at once; the plan is the fraction with the phase */
static void test_enrol_then_renew_at_fraction(void **state)
{
    (void)state;
    evlog_t log = {0};
    g_kcfg.no_ari = true;
    keeper_boot();
    run(&log, EPOCH + 60, 1);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_ISSUED);
    uint64_t enrol_reqs = g_ca.requests;
    print_message("enrolment: %llu requests\n", (unsigned long long)enrol_reqs);
    assert_true(enrol_reqs <= 10U);
    picoacme_keeper_status_t s = status();
    int64_t f = (s.not_after_s - s.not_before_s) * F_PM / 1000;
    int64_t q = f - f * J_PM / 1000;
    assert_int_equal(s.issued, 1);
    assert_true(s.renew_at_s <= s.not_before_s + f && s.renew_at_s >= s.not_before_s + f - q);
    assert_int_equal(s.why, PICOACME_KEEPER_WHY_FRACTION);
    /* nothing happens before the renewal point */
    run(&log, s.renew_at_s - 1, 0);
    if (getenv("KEEPER_DEBUG") != NULL) {
        picoacme_keeper_status_t d = status();
        fprintf(stderr, "now %lld next %lld why %s phase %s renew %lld\n", (long long)d.now_s,
                (long long)d.next_at_s, picoacme_keeper_why_str(d.why),
                picoacme_keeper_phase_str(d.phase), (long long)d.renew_at_s);
    }
    assert_int_equal(log.n, 1);
    assert_int_equal(g_ca.requests, enrol_reqs);
    /* the renewal, at the point */
    run(&log, s.renew_at_s + 600, 2);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_ISSUED);
    assert_true(log.at[1] >= s.renew_at_s && log.at[1] <= s.renew_at_s + 5);
    print_message("renewal in a running keeper: %llu requests\n",
                  (unsigned long long)(g_ca.requests - enrol_reqs));
    assert_true(g_ca.requests - enrol_reqs <= 8U);
    /* the next one is one period later */
    picoacme_keeper_status_t s2 = status();
    assert_true(s2.renew_at_s - s.renew_at_s >= q - 5 && s2.renew_at_s - s.renew_at_s <= q + 5);
    /* after a reboot, no request until the point */
    uint64_t before = g_ca.requests;
    reboot();
    run(&log, s2.renew_at_s - 1, 0);
    assert_int_equal(g_ca.requests, before);
    assert_int_equal(status().renew_at_s, s2.renew_at_s);
    run(&log, s2.renew_at_s + 60, 3);
    assert_int_equal(log.ev[2], PICOACME_KEEPER_EV_ISSUED);
    print_message("renewal after a reboot: %llu requests\n",
                  (unsigned long long)(g_ca.requests - before));
    assert_true(g_ca.requests - before <= 9U);
}

/* a fixed ARI window inside the lifetime: renewed inside it, for many
 * devices (random points), never after its end */
static void test_ari_window_honoured(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        evlog_t log = {0};
        g_clk.ms = 0;
        g_ca.ari = FCA_ARI_OFF;
        fca_dev_init(&g_dev, &g_ca, seed, true);
        g_kcfg.state_store = &g_dev.state_storage;
        keeper_boot();
        run(&log, EPOCH + 60, 1);
        assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_ISSUED);
        /* the CA now offers ARI with a window at 30%..32% of the lifetime */
        g_ca.ari = FCA_ARI_FIXED;
        g_ca.ari_start_s = EPOCH + DAY * 30 / 100;
        g_ca.ari_end_s = EPOCH + DAY * 32 / 100;
        g_ca.ari_retry_s = 3 * 3600;
        reboot(); /* a certificate the state knows: ARI asked after 1/16 of the lifetime */
        run(&log, EPOCH + DAY / 2, 2);
        assert_int_equal(log.n, 2);
        assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_ISSUED);
        assert_true(log.at[1] >= g_ca.ari_start_s);
        assert_true(log.at[1] <= g_ca.ari_end_s);
        assert_true(g_ca.by_path[8] >= 1); /* renewalInfo asked */
    }
}

/* a window already passed: renew now; then a malformed answer keeps the
 * fraction and asks again at Retry-After */
/* a fleet index whose fraction point comes late (after 12 h) for a
 * certificate issued at EPOCH, so the ARI questions come first */
static uint32_t late_index(void)
{
    for (uint32_t i = 1; i < 100; i++) {
        if (picoacme_keeper_fraction_point(EPOCH, EPOCH + DAY, picoacme_keeper_index_phase(i), F_PM,
                                           J_PM) > EPOCH + 12 * 3600) {
            return i;
        }
    }
    fail_msg("no late phase");
    return 0;
}

static void test_ari_past_and_malformed(void **state)
{
    (void)state;
    evlog_t log = {0};
    g_kcfg.fleet_index = late_index();
    keeper_boot();
    run(&log, EPOCH + 60, 1);
    picoacme_keeper_status_t s = status();
    int64_t ari_at = s.ari_retry_at_s;
    assert_true(ari_at > EPOCH && ari_at < s.renew_at_s);
    /* window in the past when asked */
    g_ca.ari = FCA_ARI_FIXED;
    g_ca.ari_start_s = EPOCH - 7200;
    g_ca.ari_end_s = EPOCH - 3600;
    g_ca.ari_retry_s = 600;
    run(&log, ari_at + 30, 2);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_ISSUED);
    assert_true(log.at[1] >= ari_at && log.at[1] <= ari_at + 5);
    /* malformed renewalInfo: the fraction stays, asked again after Retry-After */
    g_ca.ari = FCA_ARI_MALFORMED;
    g_ca.ari_retry_s = 1800;
    s = status();
    uint64_t asked = g_ca.by_path[8];
    run(&log, s.ari_retry_at_s + 10, 0);
    assert_int_equal(g_ca.by_path[8], asked + 1);
    picoacme_keeper_status_t m = status();
    assert_false(m.ari);
    assert_int_equal(m.renew_at_s, s.renew_at_s);
    assert_true(m.ari_retry_at_s >= s.ari_retry_at_s + 1800 - 1 &&
                m.ari_retry_at_s <= s.ari_retry_at_s + 1800 + 15);
    run(&log, m.ari_retry_at_s + 5, 0);
    assert_int_equal(g_ca.by_path[8], asked + 2);
    /* a window beyond notAfter: the fraction stays, asked again at Retry-After */
    g_ca.ari = FCA_ARI_FIXED;
    g_ca.ari_start_s = m.not_after_s + 100;
    g_ca.ari_end_s = m.not_after_s + 200;
    g_ca.ari_retry_s = 900;
    m = status();
    run(&log, m.ari_retry_at_s + 5, 0);
    assert_int_equal(g_ca.by_path[8], asked + 3);
    picoacme_keeper_status_t b = status();
    assert_false(b.ari);
    assert_int_equal(b.renew_at_s, s.renew_at_s);
    assert_true(b.ari_retry_at_s <= m.ari_retry_at_s + 900 + 10);
    run(&log, b.ari_retry_at_s + 5, 0);
    assert_int_equal(g_ca.by_path[8], asked + 4);
    assert_int_equal(log.n, 2); /* no issuance meanwhile */
}

/* the CA down: backoff grows, persisted across reboots; back up: issued */
static void test_backoff_persisted(void **state)
{
    (void)state;
    evlog_t log = {0};
    int64_t prev_gap = 0;
    g_ca.down = true;
    keeper_boot();
    run(&log, EPOCH + 600, 1);
    assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_RENEWAL_FAILING);
    assert_int_equal(picoacme_keeper_problem(&g_k)->err, PICOACME_ERR_IO);
    for (int i = 2; i <= 5; i++) {
        picoacme_keeper_status_t s = status();
        assert_int_equal(s.failures, i - 1);
        assert_int_equal(s.why, PICOACME_KEEPER_WHY_BACKOFF);
        int64_t gap = s.backoff_until_s - fca_wall(&g_clk);
        assert_true(gap >= 150 && gap <= (int64_t)PICOACME_KEEPER_BACKOFF_MAX_S);
        if (i > 2) {
            /* growing, with jitter: never below 3/4 of the last delay */
            assert_true(gap * 4 >= prev_gap * 3);
        }
        prev_gap = gap;
        /* reboot: nothing is sent before the backoff ends */
        uint64_t refused = g_ca.refused;
        reboot();
        run(&log, s.backoff_until_s - 1, 0);
        assert_int_equal(g_ca.refused, refused);
        assert_int_equal(status().failures, i - 1);
        assert_int_equal(status().why, PICOACME_KEEPER_WHY_BACKOFF);
        run(&log, s.backoff_until_s + 120, i);
        assert_true(g_ca.refused > refused);
        assert_int_equal(log.ev[i - 1], PICOACME_KEEPER_EV_RENEWAL_FAILING);
    }
    g_ca.down = false;
    run(&log, status().backoff_until_s + 120, 6); /* the next attempt */
    assert_int_equal(log.ev[5], PICOACME_KEEPER_EV_ISSUED);
    assert_int_equal(status().failures, 0);
    assert_int_equal(status().problem.err, PICOACME_OK);
}

/* rateLimited with a Retry-After of 2 h: nothing before it, reboot or not */
static void test_rate_limited_across_reboot(void **state)
{
    (void)state;
    evlog_t log = {0};
    g_ca.rl_orders = 1;
    g_ca.rl_retry_s = 7200;
    keeper_boot();
    run(&log, EPOCH + 1, 1);
    assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_RENEWAL_FAILING);
    assert_int_equal(picoacme_keeper_problem(&g_k)->err, PICOACME_ERR_RATE_LIMITED);
    assert_string_equal(picoacme_keeper_problem(&g_k)->type, "rateLimited");
    picoacme_keeper_status_t s = status();
    assert_true(s.rate_limited_until_s >= EPOCH + 7200 && s.rate_limited_until_s <= EPOCH + 7205);
    uint64_t reqs = g_ca.requests;
    reboot();
    assert_int_equal(status().rate_limited_until_s, 0); /* not read yet */
    run(&log, s.rate_limited_until_s - 1, 0);
    assert_int_equal(g_ca.requests, reqs);
    assert_int_equal(status().rate_limited_until_s, s.rate_limited_until_s);
    assert_int_equal(status().why, PICOACME_KEEPER_WHY_RATE_LIMIT);
    run(&log, s.rate_limited_until_s + 60, 2);
    assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_ISSUED);
    assert_true(log.at[1] >= s.rate_limited_until_s);
}

/* the primary down: fail over after 3 failures, fail back after failback_s */
static void test_failover_failback(void **state)
{
    (void)state;
    evlog_t log = {0};
    g_kcfg.n_cas = 2;
    g_kcfg.failover_after = 3;
    g_kcfg.failback_s = 2 * DAY;
    g_ca.down = true;
    g_ca.down_host = "ca.test";
    keeper_boot();
    run(&log, EPOCH + DAY, 4);
    assert_int_equal(count_ev(&log, PICOACME_KEEPER_EV_RENEWAL_FAILING), 3);
    assert_int_equal(log.ev[3], PICOACME_KEEPER_EV_ISSUED);
    picoacme_keeper_status_t s = status();
    assert_int_equal(s.ca, 1);
    uint64_t refused = g_ca.refused; /* each attempt: a connection and its retries */
    assert_true(refused >= 3);
    /* the fallback CA's renewals go on while the primary stays down;
     * reboots keep the CA */
    reboot();
    run(&log, EPOCH + DAY + 3600, 0);
    assert_int_equal(status().ca, 1);
    /* the primary is back; after failback_s the keeper uses it again */
    g_ca.down = false;
    run(&log, EPOCH + 4 * DAY, 0);
    assert_int_equal(status().ca, 0);
    assert_int_equal(status().failures, 0);
    assert_int_equal(g_ca.refused, refused); /* the primary was not tried before failback */
}

/* no RTC: a device off for 60 days learns the time from the CA's Date
 * first, sees its certificate expired and renews at once */
static void test_no_rtc_long_off(void **state)
{
    (void)state;
    evlog_t log = {0};
    fca_dev_init(&g_dev, &g_ca, 99, false);
    g_kcfg.state_store = &g_dev.state_storage;
    g_kcfg.no_ari = true;
    keeper_boot();
    run(&log, EPOCH + 60, 1);
    assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_ISSUED);
    assert_true(status().now_s >= EPOCH); /* learned from the Date */
    uint64_t dirs = g_ca.by_path[0], reqs = g_ca.requests;
    /* off for 60 days */
    g_clk.ms += (uint64_t)60 * DAY * 1000U;
    reboot();
    picoacme_wait_t w;
    assert_int_equal(picoacme_keeper_step(&g_k, &w), PICOACME_KEEPER_EV_NONE);
    /* the first step asked the directory, nothing else */
    assert_int_equal(g_ca.requests, reqs + 1);
    assert_int_equal(g_ca.by_path[0], dirs + 1);
    assert_true(status().now_s >= EPOCH + 60 * DAY);
    run(&log, EPOCH + 60 * DAY + 120, 3);
    assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_EXPIRED);
    assert_int_equal(log.ev[2], PICOACME_KEEPER_EV_ISSUED);
    assert_true(log.at[2] <= EPOCH + 60 * DAY + 10);
    assert_true(status().not_after_s > EPOCH + 60 * DAY);
}

/* a boot spread: a fleet without RTC does not ask at once */
static void test_boot_spread(void **state)
{
    (void)state;
    evlog_t log = {0};
    fca_dev_init(&g_dev, &g_ca, 5, false);
    g_kcfg.state_store = &g_dev.state_storage;
    g_kcfg.no_ari = true;
    keeper_boot();
    run(&log, EPOCH + 60, 1);
    g_kcfg.boot_spread_s = 3600;
    int64_t first[6];
    for (int i = 0; i < 6; i++) {
        uint64_t reqs = g_ca.requests;
        int64_t t0 = fca_wall(&g_clk);
        reboot();
        while (g_ca.requests == reqs) {
            run(&log, fca_wall(&g_clk) + 60, 0);
        }
        first[i] = fca_wall(&g_clk) - t0;
        assert_true(first[i] <= 3600 + 60);
    }
    int distinct = 0;
    for (int i = 1; i < 6; i++) {
        distinct += first[i] / 60 != first[0] / 60;
    }
    assert_true(distinct >= 3);
}

/* a numbered fleet's boot hold comes from the member's phase: the same at
 * every boot of a member (before: random), different between members */
static void test_boot_spread_numbered(void **state)
{
    (void)state;
    int64_t first[2][3];
    g_kcfg.no_ari = true;
    for (uint32_t m = 0; m < 2; m++) {
        evlog_t log = {0};
        g_clk.ms = 0;
        fca_dev_init(&g_dev, &g_ca, 5, false);
        g_kcfg.state_store = &g_dev.state_storage;
        g_kcfg.fleet_index = 3 + m;
        g_kcfg.boot_spread_s = 0;
        keeper_boot();
        run(&log, fca_wall(&g_clk) + 60, 1);
        g_kcfg.boot_spread_s = 3600;
        for (int i = 0; i < 3; i++) {
            uint64_t reqs = g_ca.requests;
            int64_t t0 = fca_wall(&g_clk);
            reboot();
            while (g_ca.requests == reqs) {
                run(&log, fca_wall(&g_clk) + 60, 0);
            }
            first[m][i] = fca_wall(&g_clk) - t0;
            assert_true(first[m][i] <= 3600 + 60);
        }
        assert_true(first[m][1] / 60 == first[m][0] / 60 && first[m][2] / 60 == first[m][0] / 60);
    }
    assert_true(first[0][0] / 60 != first[1][0] / 60);
}

/* a numbered fleet's backoff jitter is its phase (before: random), so a
 * fleet failing at its phases' renewal points retries as evenly spread */
static void test_backoff_numbered(void **state)
{
    (void)state;
    evlog_t log = {0};
    g_kcfg.no_ari = true;
    g_kcfg.fleet_index = 5;
    g_ca.down = true;
    keeper_boot();
    run(&log, EPOCH + 60, 1);
    assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_RENEWAL_FAILING);
    picoacme_keeper_status_t s = status();
    uint32_t d =
        picoacme_keeper_backoff_s(1, PICOACME_KEEPER_BACKOFF_MIN_S, PICOACME_KEEPER_BACKOFF_MAX_S,
                                  picoacme_keeper_index_phase(5), log.at[0], 0);
    assert_int_equal(s.backoff_until_s - log.at[0], (int64_t)d);
    g_ca.down = false;
}

/* A renewal the CA did not answer (connections refused): the next attempt
 * is one directory GET; once the CA answers it, the renewal waits a point
 * before the next backoff level's retry and in the first half of what is
 * left (a fleet back from a CA outage spreads its backlog), kept across a
 * reboot. A failure the CA did answer (rateLimited) gets no probe. */
static void test_recovery_spread(void **state)
{
    (void)state;
    evlog_t log = {0};
    g_kcfg.no_ari = true;
    g_kcfg.fleet_index = 5; /* a deterministic hold */
    keeper_boot();
    run(&log, EPOCH + 60, 1);
    assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_ISSUED);
    g_ca.down = true;
    run(&log, status().renew_at_s + 60, 2);
    assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_RENEWAL_FAILING);
    picoacme_keeper_status_t s = status();
    assert_int_equal(s.why, PICOACME_KEEPER_WHY_BACKOFF);
    assert_int_equal(s.failures, 1);
    /* still down at the retry: the probe fails, a failure like any */
    run(&log, s.backoff_until_s + 60, 3);
    assert_int_equal(log.ev[2], PICOACME_KEEPER_EV_RENEWAL_FAILING);
    assert_int_equal(status().failures, 2);
    assert_int_equal(status().why, PICOACME_KEEPER_WHY_BACKOFF);
    s = status();
    g_ca.down = false;
    uint64_t req = g_ca.requests;
    uint64_t dir = g_ca.by_path[0];
    run(&log, s.backoff_until_s + 1, 0);
    assert_int_equal(g_ca.requests, req + 1); /* the directory, nothing else */
    assert_int_equal(g_ca.by_path[0], dir + 1);
    s = status();
    int64_t now = fca_wall(&g_clk);
    int64_t half = (s.not_after_s - now) / 2;
    assert_int_equal(s.why, PICOACME_KEEPER_WHY_RECOVERY);
    assert_int_equal(s.failures, 2);
    assert_true(s.next_at_s > now + 60);
    assert_true(s.next_at_s <=
                now +
                    (half < PICOACME_KEEPER_BACKOFF_MAX_S ? half : PICOACME_KEEPER_BACKOFF_MAX_S));
    /* a reboot in the hold: nothing sent before its end, no second probe */
    reboot();
    run(&log, s.next_at_s - 1, 0);
    assert_int_equal(g_ca.requests, req + 1);
    assert_int_equal(status().why, PICOACME_KEEPER_WHY_RECOVERY);
    run(&log, s.next_at_s + 120, 4);
    assert_int_equal(log.ev[3], PICOACME_KEEPER_EV_ISSUED);
    assert_true(log.at[3] >= s.next_at_s);
    assert_int_equal(status().failures, 0);
    assert_int_equal(g_ca.by_path[0], dir + 1); /* the directory is stored: no GET */
    /* the CA answers rateLimited: its Retry-After, then a renewal at once */
    g_ca.rl_orders = 1;
    g_ca.rl_retry_s = 7200; /* past the run budget: the attempt fails */
    run(&log, status().renew_at_s + 60, 5);
    assert_int_equal(log.ev[4], PICOACME_KEEPER_EV_RENEWAL_FAILING);
    dir = g_ca.by_path[0];
    run(&log, status().rate_limited_until_s + 60, 6);
    assert_int_equal(log.ev[5], PICOACME_KEEPER_EV_ISSUED);
    assert_int_equal(g_ca.by_path[0], dir);
}

/* an overdue renewal found at boot (the point passed while the device was
 * off) waits until the boot spread ended, then a random point in the
 * next 2 x boot_spread_s,
 * and still renews before notAfter */
static void test_overdue_spread(void **state)
{
    (void)state;
    int64_t longest = 0;
    g_kcfg.no_ari = true;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        evlog_t log = {0};
        g_clk.ms = 0;
        fca_dev_init(&g_dev, &g_ca, seed, true);
        g_kcfg.state_store = &g_dev.state_storage;
        g_kcfg.boot_spread_s = 0;
        keeper_boot();
        run(&log, EPOCH + 60, 1);
        assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_ISSUED);
        picoacme_keeper_status_t s = status();
        /* off until 10 minutes after the renewal point */
        int64_t back = s.renew_at_s + 600;
        g_clk.ms = (uint64_t)(back - EPOCH) * 1000U;
        g_kcfg.boot_spread_s = 3600;
        reboot();
        run(&log, s.not_after_s, 2);
        assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_ISSUED);
        int64_t delay = log.at[1] - back;
        /* after the whole boot spread (before: from the boot hold on) */
        assert_true(delay >= 3600);
        assert_true(delay <= 3600 + 7200 + 60);
        assert_true(log.at[1] < s.not_after_s);
        longest = delay > longest ? delay : longest;
    }
    /* the boot spread alone ends within 3600 s */
    assert_true(longest > 3600 + 60);
}

/* renew now: at once, whatever the plan */
static void test_renew_now(void **state)
{
    (void)state;
    evlog_t log = {0};
    g_kcfg.no_ari = true;
    keeper_boot();
    run(&log, EPOCH + 60, 1);
    run(&log, EPOCH + 3600, 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(picoacme_keeper_renew_now(&g_k), PICOACME_OK);
    run(&log, EPOCH + 3700, 2);
    assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_ISSUED);
    assert_true(log.at[1] <= EPOCH + 3605);
    assert_int_equal(status().issued, 2);
}

/* A power cut at every point of a keeper-state save: after the reboot the
 * state is the old or the new one, never lost; cut before the header, the
 * old one. */
static void test_power_cut_state_save(void **state)
{
    (void)state;
    int olds = 0, news = 0;
    for (long long cut = 0; cut < 700; cut += 7) {
        evlog_t log = {0};
        g_clk.ms = 0;
        g_ca.down = true;
        fca_dev_init(&g_dev, &g_ca, 3, true);
        g_kcfg.state_store = &g_dev.state_storage;
        keeper_boot();
        run(&log, EPOCH + 600, 1); /* failure 1 saved */
        picoacme_keeper_status_t s1 = status();
        assert_int_equal(s1.failures, 1);
        g_dev.sflash.cut_after_bytes = cut;
        run(&log, s1.backoff_until_s + 600, 2); /* failure 2: its save is cut */
        reboot();
        run(&log, fca_wall(&g_clk), 0);
        picoacme_keeper_status_t s = status();
        assert_true(s.failures == 1 || s.failures == 2);
        if (s.failures == 1) {
            assert_int_equal(s.backoff_until_s, s1.backoff_until_s);
            olds++;
        } else {
            news++;
        }
        g_ca.down = false;
    }
    print_message("power cuts: %d kept the old state, %d the new one\n", olds, news);
    assert_true(olds > 0 && news > 0);
}

/* the same with the POSIX file flash as the state store: backoff and the
 * rate limit survive a reboot and a cut save */
static void test_file_flash_reboot(void **state)
{
    (void)state;
    picoacme_posix_flash_t ff;
    picoacme_storage_t fst;
    evlog_t log = {0};
    const char *path = PICOACME_TEST_TMPDIR "/keeper_state.bin";
    unlink(path);
    assert_int_equal(picoacme_posix_flash_open(&ff, path, 1024, 512, &fst), PICOACME_OK);
    g_kcfg.state_store = &fst;
    g_ca.rl_orders = 1;
    g_ca.rl_retry_s = 5000;
    keeper_boot();
    run(&log, EPOCH + 1, 1);
    picoacme_keeper_status_t s = status();
    assert_true(s.rate_limited_until_s >= EPOCH + 5000);
    /* the next save is cut after 40 bytes; the reboot reads the file again */
    ff.cut_after_bytes = 40;
    assert_int_equal(picoacme_keeper_renew_now(&g_k), PICOACME_OK);
    run(&log, EPOCH + 2, 0);
    picoacme_posix_flash_close(&ff);
    assert_int_equal(picoacme_posix_flash_open(&ff, path, 1024, 512, &fst), PICOACME_OK);
    fca_dev_reboot(&g_dev);
    keeper_boot();
    uint64_t reqs = g_ca.requests;
    run(&log, s.rate_limited_until_s - 1, 0);
    assert_int_equal(g_ca.requests, reqs);
    assert_int_equal(status().rate_limited_until_s, s.rate_limited_until_s);
    assert_int_equal(status().failures, 1);
    run(&log, s.rate_limited_until_s + 60, 2);
    assert_int_equal(log.ev[1], PICOACME_KEEPER_EV_ISSUED);
    picoacme_posix_flash_close(&ff);
}

static void test_init_params(void **state)
{
    (void)state;
    picoacme_keeper_config_t c = g_kcfg;
    assert_int_equal(picoacme_keeper_init(NULL, &c, &g_dev.ports), PICOACME_ERR_PARAM);
    c.n_cas = 0;
    assert_int_equal(picoacme_keeper_init(&g_k, &c, &g_dev.ports), PICOACME_ERR_PARAM);
    c = g_kcfg;
    c.backoff_min_s = 100;
    c.backoff_max_s = 50;
    assert_int_equal(picoacme_keeper_init(&g_k, &c, &g_dev.ports), PICOACME_ERR_PARAM);
    c = g_kcfg;
    picoacme_keeper_ca_t bad = g_cas[0];
    bad.cfg.directory_url = "not a url";
    c.cas = &bad;
    assert_int_equal(picoacme_keeper_init(&g_k, &c, &g_dev.ports), PICOACME_ERR_PARAM);
    assert_string_equal(picoacme_keeper_why_str(PICOACME_KEEPER_WHY_ARI_WINDOW), "ARI window");
    assert_string_equal(picoacme_keeper_phase_str(PICOACME_KEEPER_PH_ISSUE), "issuing");
    print_message("sizeof picoacme_ctx_t %zu, picoacme_keeper_t %zu (keeper own %zu)\n",
                  sizeof(picoacme_ctx_t), sizeof(picoacme_keeper_t),
                  sizeof(picoacme_keeper_t) - sizeof(picoacme_ctx_t));
}

/* the policy's clamps: per mille above 1000, a window ending before it
 * starts, a maximum below the minimum */
static void test_policy_clamps(void **state)
{
    (void)state;
    const int64_t nb = EPOCH, na = EPOCH + DAY;
    /* renew and jitter per mille over 1000 count as 1000: the fraction is
     * the whole lifetime, and a full jitter leaves no period (notAfter) */
    assert_int_equal(picoacme_keeper_fraction_point(nb, na, 77, 1500, 0), na);
    assert_int_equal(picoacme_keeper_fraction_point(nb, na, 77, 2000, 1200), na);
    /* end before start: the start itself */
    assert_int_equal(picoacme_keeper_window_point(EPOCH + 50, EPOCH + 10, 0, EPOCH, 0xFFFFFFFFU),
                     EPOCH + 50);
    /* max below min: min, with jitter [3 min/4, min] */
    assert_int_equal(picoacme_keeper_backoff_s(3, 600, 100, 0xFFFFFFFFU, PICOACME_TIME_UNKNOWN, 0),
                     600U);
    assert_int_equal(picoacme_keeper_backoff_s(3, 600, 100, 0, PICOACME_TIME_UNKNOWN, 0), 450U);
}

/* stop in the middle of an enrolment: the run is dropped, the keeper waits
 * and enrols again at its next step; the engine context it owns holds the
 * certificate afterwards */
/* off until the certificate expired, at a CA without renewalInfo, with a
 * boot spread: the overdue point is now, after the expiry; the one ARI
 * question it asks says "none" and must not be asked again and again
 * (fuzz_keeper found the keeper asking the directory in a loop without
 * waiting: tests/fuzz/crashes/fuzz_keeper/ari-none-after-expiry-loop) */
static void test_expired_no_ari_no_loop(void **state)
{
    evlog_t log = {0};
    (void)state;
    g_ca.ari = FCA_ARI_OFF;
    g_kcfg.fleet_index = 1;
    g_kcfg.boot_spread_s = 900;
    keeper_boot();
    run(&log, EPOCH + 60, 1);
    assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_ISSUED);
    g_clk.ms += (uint64_t)2 * DAY * 1000U; /* off for two days */
    reboot();
    uint64_t before = g_ca.requests;
    run(&log, EPOCH + 2 * DAY + 4 * 3600, 3);
    assert_int_equal(count_ev(&log, PICOACME_KEEPER_EV_ISSUED), 2);
    assert_true(g_ca.requests - before <= 12U);
}

static void test_stop_mid_run(void **state)
{
    (void)state;
    picoacme_wait_t w;
    evlog_t log = {0};
    g_kcfg.no_ari = true;
    keeper_boot();
    for (int i = 0; i < 50 && status().phase != PICOACME_KEEPER_PH_ISSUE; i++) {
        (void)picoacme_keeper_step(&g_k, &w);
    }
    assert_int_equal(status().phase, PICOACME_KEEPER_PH_ISSUE);
    picoacme_keeper_stop(&g_k);
    assert_int_equal(status().phase, PICOACME_KEEPER_PH_WAIT);
    picoacme_keeper_stop(NULL); /* safe */
    run(&log, EPOCH + 600, 1);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ev[0], PICOACME_KEEPER_EV_ISSUED);
    picoacme_stored_info_t info;
    assert_non_null(picoacme_keeper_ctx(&g_k));
    assert_int_equal(picoacme_stored(picoacme_keeper_ctx(&g_k), &info), PICOACME_OK);
    assert_int_equal(info.not_after_s, status().not_after_s);
}

/* a device without RTC whose CA never answers: the backoff waits on the
 * monotonic clock, and the keeper still never names a wait above
 * PICOACME_KEEPER_MAX_SLEEP_S (run() checks every step; found by
 * fuzz_keeper, whose crash input is tests/fuzz/crashes/fuzz_keeper/) */
static void test_no_time_backoff_wait_bounded(void **state)
{
    (void)state;
    evlog_t log = {0};
    fca_dev_init(&g_dev, &g_ca, 11, false);
    g_kcfg.state_store = &g_dev.state_storage;
    g_ca.down = true;
    keeper_boot();
    run(&log, EPOCH + 3 * DAY, 0);
    assert_true(count_ev(&log, PICOACME_KEEPER_EV_RENEWAL_FAILING) >= 6);
    assert_true(status().failures >= 6);
    g_ca.down = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fraction_point),
        cmocka_unit_test(test_window_point),
        cmocka_unit_test(test_overdue_point),
        cmocka_unit_test(test_spread_rnd),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_state_codec),
        cmocka_unit_test(test_state_decode_canonical),
        cmocka_unit_test_setup(test_init_params, setup),
        cmocka_unit_test_setup(test_enrol_then_renew_at_fraction, setup),
        cmocka_unit_test_setup(test_ari_window_honoured, setup),
        cmocka_unit_test_setup(test_ari_past_and_malformed, setup),
        cmocka_unit_test_setup(test_backoff_persisted, setup),
        cmocka_unit_test_setup(test_rate_limited_across_reboot, setup),
        cmocka_unit_test_setup(test_failover_failback, setup),
        cmocka_unit_test_setup(test_no_rtc_long_off, setup),
        cmocka_unit_test_setup(test_boot_spread, setup),
        cmocka_unit_test_setup(test_overdue_spread, setup),
        cmocka_unit_test_setup(test_boot_spread_numbered, setup),
        cmocka_unit_test_setup(test_backoff_numbered, setup),
        cmocka_unit_test_setup(test_renew_now, setup),
        cmocka_unit_test_setup(test_power_cut_state_save, setup),
        cmocka_unit_test_setup(test_file_flash_reboot, setup),
        cmocka_unit_test(test_policy_clamps),
        cmocka_unit_test_setup(test_stop_mid_run, setup),
        cmocka_unit_test_setup(test_expired_no_ari_no_loop, setup),
        cmocka_unit_test_setup(test_no_time_backoff_wait_bounded, setup),
        cmocka_unit_test_setup(test_recovery_spread, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
