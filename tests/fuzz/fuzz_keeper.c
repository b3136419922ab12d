/*
 * fuzz_keeper.c - libFuzzer target for the certificate keeper
 * (core/src/keeper*.c) against the fake CA of tests/fleet/fake_ca.c on a
 * simulated clock: the input is a program of what happens to a device and
 * its CAs over months.
 *
 *   byte 0   the device: bit 0 two CAs (failover), bit 1 an RTC, bit 2 no
 *            ARI asked, bit 3 no state store (RAM only), bits 4-6 the ARI
 *            answer (off, spread, a fixed window, malformed, HTTP 500), bit
 *            7 a fleet number instead of a random phase (the lifetime byte;
 *            an odd one also spreads the boot over 900 s)
 *   byte 1   certificate lifetime: 1 h .. 90 days
 *   then     3 bytes each {op, a, b}:
 *     0 run     pump until a*b+1 simulated minutes passed or an event
 *     1 jump    the clock moves a hours forward (both clocks: the device
 *               was off, or suspended); b & 1: the wall clock alone is set
 *               back or forward by b/2 - 64 days (an RTC corrected)
 *     2 reboot  the device restarts: the keeper and its engine context are
 *               dropped and made again from the stores
 *     3 CA      the CAs go down (a & 1: all; a & 2: only the first) or up
 *     4 limit   the next a % 4 newOrders answer rateLimited, Retry-After b
 *               minutes
 *     5 ARI     the ARI answer becomes a % 5, a fixed window b hours from
 *               now, Retry-After a * 60 s
 *     6 ask     renew now (a & 1) or stop the run in flight (a & 2)
 *     7 cut     the next a*4+b/64 bytes programmed into the keeper's or
 *               (b & 1) the engine's flash are the last before a power
 *               cut; the next reboot restores power
 *
 * Invariants (abort on a broken one): the keeper always names a wait, never
 * UINT32_MAX and never above PICOACME_KEEPER_MAX_SLEEP_S; it settles (does
 * not spin without waiting); an EV_ISSUED leaves a stored certificate;
 * the status is coherent (the renewal point inside the ARI window when
 * ari, or already passed; failures counted and the problem named on a
 * failure event; a phase and reason from the enumerations, names for
 * them, a CA of the list).
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_ca.h"
#include "picoacme_keeper.h"

#define EPOCH 1893456000 /* 2030-01-01T00:00:00Z */

static fca_clock_t g_clk;
static fca_ca_t g_ca, g_ca0;
static fca_dev_t g_dev;
static picoacme_keeper_t g_k;
static picoacme_ident_t g_id = {PICOACME_ID_DNS, "dev.test"};
static picoacme_keeper_ca_t g_cas[2];
static picoacme_keeper_config_t g_kcfg;
static bool g_set_back; /* the wall clock was set back during the run */

static void boot(void)
{
    if (picoacme_keeper_init(&g_k, &g_kcfg, &g_dev.ports) != PICOACME_OK) {
        __builtin_trap(); /* a valid configuration must be accepted */
    }
}

static void check_status(void)
{
    picoacme_keeper_status_t s;
    picoacme_keeper_status(&g_k, &s);
    if (s.phase > PICOACME_KEEPER_PH_PROBE || s.why > PICOACME_KEEPER_WHY_RECOVERY ||
        picoacme_keeper_phase_str(s.phase) == NULL || picoacme_keeper_why_str(s.why) == NULL ||
        s.ca >= g_kcfg.n_cas || picoacme_keeper_problem(&g_k) == NULL) {
        __builtin_trap();
    }
    if (s.ari && s.renew_at_s > s.ari_end_s && s.now_s != PICOACME_TIME_UNKNOWN &&
        s.renew_at_s > s.now_s && !g_set_back) {
        /* a point picked in the CA's window stays in it; a window already
         * passed means the time it was picked at, not later (unless the
         * RTC was set back since: then that time is in the future; or the
         * time is unknown now, after a reboot without RTC: then there is
         * no now to compare with) */
        __builtin_trap();
    }
}

/* Pump for `minutes` simulated minutes or until an event. */
static void run(unsigned minutes)
{
    uint64_t end_ms = g_clk.ms + (uint64_t)minutes * 60000U;
    unsigned busy = 0;
    for (int guard = 0; guard < 20000; guard++) {
        picoacme_wait_t w;
        picoacme_keeper_event_t ev = picoacme_keeper_step(&g_k, &w);
        if (w.timeout_ms == UINT32_MAX || w.timeout_ms > PICOACME_KEEPER_MAX_SLEEP_S * 1000U) {
            __builtin_trap();
        }
        check_status();
        if (ev == PICOACME_KEEPER_EV_ISSUED) {
            picoacme_stored_info_t info;
            if (picoacme_stored(picoacme_keeper_ctx(&g_k), &info) != PICOACME_OK) {
                __builtin_trap(); /* issued, but nothing stored */
            }
        }
        if (ev == PICOACME_KEEPER_EV_RENEWAL_FAILING) {
            picoacme_keeper_status_t s;
            picoacme_keeper_status(&g_k, &s);
            if (s.failures == 0 || s.problem.err == PICOACME_OK) {
                __builtin_trap(); /* a failure counted and named */
            }
        }
        if (ev != PICOACME_KEEPER_EV_NONE) {
            return;
        }
        if (w.timeout_ms == 0U || (w.count > 0 && w.timeout_ms > 0)) {
            /* a socket of the fake CA is ready at once, or a second step */
            if (++busy > 5000U) {
                __builtin_trap(); /* spinning without ever waiting */
            }
            continue;
        }
        busy = 0;
        if (g_clk.ms >= end_ms) {
            return;
        }
        g_clk.ms += w.timeout_ms < end_ms - g_clk.ms ? w.timeout_ms : end_ms - g_clk.ms;
    }
}

static void setup(uint8_t dev, uint8_t life)
{
    static const uint32_t lives[] = {3600U, 86400U, 7U * 86400U, 30U * 86400U, 90U * 86400U};
    static bool made;
    if (!made) {
        char dir[] = "/tmp/fuzz_keeper.XXXXXX";
        memset(&g_clk, 0, sizeof g_clk);
        if (mkdtemp(dir) == NULL || fca_init(&g_ca0, &g_clk, dir) != 0) {
            fprintf(stderr, "fuzz_keeper: fca_init failed (openssl missing?)\n");
            abort();
        }
        made = true;
    }
    memset(&g_clk, 0, sizeof g_clk);
    g_clk.epoch_s = EPOCH;
    g_set_back = false;
    g_ca = g_ca0;
    g_ca.clk = &g_clk;
    g_ca.life_s = lives[life % 5U];
    g_ca.ari = (fca_ari_mode_t)((dev >> 4) % 5U);
    g_ca.ari_start_s = EPOCH + g_ca.life_s / 2;
    g_ca.ari_end_s = g_ca.ari_start_s + 3600;
    fca_dev_init(&g_dev, &g_ca, 7U + life, (dev & 2U) != 0U);
    memset(g_cas, 0, sizeof g_cas);
    g_cas[0].cfg.directory_url = FCA_BASE "/dir";
    g_cas[0].cfg.ids = &g_id;
    g_cas[0].cfg.n_ids = 1;
    g_cas[1] = g_cas[0];
    g_cas[1].cfg.directory_url = "http://ca2.test/dir";
    memset(&g_kcfg, 0, sizeof g_kcfg);
    g_kcfg.cas = g_cas;
    g_kcfg.n_cas = (dev & 1U) ? 2U : 1U;
    g_kcfg.no_ari = (dev & 4U) != 0U;
    g_kcfg.state_store = (dev & 8U) ? NULL : &g_dev.state_storage;
    g_kcfg.fleet_index = (dev & 0x80U) ? life : 0U;
    /* a numbered device with an odd lifetime byte spreads its boot (the
     * time question and an overdue renewal, keeper.c overdue_spread) */
    g_kcfg.boot_spread_s = (dev & 0x80U) != 0U && (life & 1U) != 0U ? 900U : 0U;
    boot();
}

static void op(uint8_t o, uint8_t a, uint8_t b)
{
    switch (o % 8U) {
    case 0: run((unsigned)a * b + 1U); break;
    case 1:
        if (b & 1U) {
            g_clk.epoch_s += ((int64_t)(b / 2U) - 64) * 86400; /* the RTC set anew */
            g_set_back = g_set_back || b / 2U < 64U;
        } else {
            g_clk.ms += (uint64_t)a * 3600000U; /* off or suspended */
        }
        break;
    case 2:
        fca_dev_reboot(&g_dev);
        boot();
        break;
    case 3:
        g_ca.down = (a & 1U) != 0U;
        g_ca.down_host = (a & 2U) ? "ca.test" : NULL;
        g_ca.down = g_ca.down || g_ca.down_host != NULL;
        break;
    case 4:
        g_ca.rl_orders = a % 4U;
        g_ca.rl_retry_s = (uint32_t)b * 60U;
        break;
    case 5:
        g_ca.ari = (fca_ari_mode_t)(a % 5U);
        g_ca.ari_start_s = fca_wall(&g_clk) + (int64_t)b * 3600;
        g_ca.ari_end_s = g_ca.ari_start_s + 3600 + (int64_t)a * 60;
        g_ca.ari_retry_s = (uint32_t)a * 60U;
        break;
    case 6:
        if (a & 1U) {
            (void)picoacme_keeper_renew_now(&g_k);
        }
        if (a & 2U) {
            picoacme_keeper_stop(&g_k);
        }
        break;
    default: {
        fca_flash_t *f = (b & 1U) ? &g_dev.flash : &g_dev.sflash;
        f->cut_after_bytes = (long long)a * 4 + b / 64;
        break;
    }
    }
}

/* The pure parts on the input's bytes, against their documented bounds:
 * the renewal point, the ARI window point, the backoff, and the state
 * codec (decode any bytes; what decodes encodes back to the same). */
static int64_t get64(const uint8_t *d, size_t n, size_t at)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8U; i++) {
        v = v << 8 | (at + i < n ? d[at + i] : 0U);
    }
    return (int64_t)(v >> 16) - ((int64_t)1 << 46); /* +-2^46: Unix seconds and beyond */
}

static void pure(const uint8_t *d, size_t n)
{
    int64_t a = get64(d, n, 0), b = get64(d, n, 8), c = get64(d, n, 16), now = get64(d, n, 24);
    uint32_t r = (uint32_t)get64(d, n, 32);
    uint16_t pm = (uint16_t)(n > 40U ? d[40] * 5U : 0U), jm = (uint16_t)(n > 41U ? d[41] * 5U : 0U);
    int64_t t = picoacme_keeper_fraction_point(a, b, r, pm, jm);
    if (b <= a ? t != a : (t < a || t > b)) {
        __builtin_trap(); /* within the lifetime, nb for an empty one */
    }
    if (n > 42U && d[42] & 1U) {
        now = PICOACME_TIME_UNKNOWN;
    }
    int64_t lo = a < b ? a : b, hi = a < b ? b : a; /* a window [lo, hi] */
    if (n > 42U && d[42] & 2U) {
        lo = a; /* or one that ends before it starts */
        hi = b;
    }
    t = picoacme_keeper_window_point(lo, hi, c, now, r);
    int64_t e = c > 0 && hi >= c ? c - 1 : hi;
    bool started = now != PICOACME_TIME_UNKNOWN && now > lo;
    int64_t s0 = started ? now : lo;
    if (c > 0 && hi >= c && lo >= c) {
        if (t != PICOACME_TIME_UNKNOWN) {
            __builtin_trap(); /* a window after notAfter: no point */
        }
    } else if (started && now >= e ? t != now : (t < s0 || t > (e > s0 ? e : s0))) {
        __builtin_trap();
    }
    uint32_t mn = (uint32_t)(a & 0xFFFF), mx = (uint32_t)(b & 0x3FFFF);
    uint32_t bo = picoacme_keeper_backoff_s((uint16_t)(r & 0x3F), mn, mx, r, now, c);
    uint32_t top = mx > mn ? mx : mn;
    if (bo > (top > 1U ? top : 1U)) {
        __builtin_trap(); /* never above the larger bound */
    }
    static picoacme_keeper_state_t st, st2;
    static uint8_t buf[PICOACME_KEEPER_STATE_MAX];
    size_t len = 0, len2 = 0;
    if (picoacme_keeper_state_decode(&st, d, n) == PICOACME_OK) {
        if (picoacme_keeper_state_encode(&st, buf, sizeof buf, &len) != PICOACME_OK ||
            picoacme_keeper_state_decode(&st2, buf, len) != PICOACME_OK ||
            memcmp(&st, &st2, sizeof st) != 0 ||
            picoacme_keeper_state_encode(&st, buf, len - 1U, &len2) != PICOACME_ERR_NOSPACE) {
            __builtin_trap();
        }
    }
    /* a state made of the input's numbers travels unchanged */
    memset(&st, 0, sizeof st);
    st.phase_rnd = r;
    st.plan_not_after_s = c;
    st.renew_at_s = a;
    st.backoff_until_s = b;
    st.rate_limited_until_s = now;
    st.failback_at_s = a ^ b;
    st.ari_start_s = lo;
    st.ari_end_s = hi;
    st.ari_retry_at_s = c - a;
    st.failures = (uint16_t)r;
    st.ca = (uint8_t)pm;
    st.ca_failures = (uint8_t)jm;
    st.ari = (r & 1U) != 0U;
    st.ca_answered = (r & 2U) != 0U;
    st.problem.http_status = (uint16_t)(r >> 16);
    if (picoacme_keeper_state_encode(&st, buf, sizeof buf, &len) != PICOACME_OK ||
        picoacme_keeper_state_decode(&st2, buf, len) != PICOACME_OK ||
        memcmp(&st, &st2, sizeof st) != 0 ||
        picoacme_keeper_state_decode(&st2, buf, len - 1U) != PICOACME_ERR_PARSE) {
        __builtin_trap();
    }
    if (picoacme_keeper_state_decode(NULL, d, n) != PICOACME_ERR_PARAM ||
        picoacme_keeper_state_encode(NULL, buf, sizeof buf, &len) != PICOACME_ERR_PARAM) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pure(data, size);
    if (size < 2U) {
        return 0;
    }
    setup(data[0], data[1]);
    run(60); /* the first hour: enrolment */
    for (size_t i = 2; i + 3U <= size && i < 2U + 3U * 64U; i += 3U) {
        op(data[i], data[i + 1U], data[i + 2U]);
    }
    run(24U * 60U);
    picoacme_keeper_stop(&g_k);
    return 0;
}
