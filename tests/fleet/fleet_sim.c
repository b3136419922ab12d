/*
 * fleet_sim.c - N certificate keepers (core/src/keeper*.c, unmodified) on
 * one simulated clock, in one process, against the fake CA of fake_ca.c,
 * which counts the requests it answers per simulated minute.
 *
 * Memory: every device keeps its whole picoacme_keeper_t (~20 KiB: the
 * engine context is in it) and its fake ports and flash (~22 KiB), about
 * 420 MB for 10,000 devices. The simpler alternative, one context reused
 * with only the stores per device, would reboot every device at every
 * wake-up: a different keeper (no directory cache, a boot every hour),
 * so the figures would not be those of a running fleet.
 *
 * The CA answers at once (no latency); a device runs its exchanges at the
 * simulated instant it woke, and sleeps as long as its keeper asks.
 *
 *   fleet_sim [-n DEVICES] [-d DAYS] [-s a|b|c] [-A] [-R] [-I] [-C N] [-c] [-q]
 *     -s a  every device enrolled in the same minute at the factory
 *     -s b  as a, and the CA down for 6 hours on day 3 (00:00..06:00)
 *     -s c  as a, and every device powered off on day 3 00:00..01:00,
 *           all rebooting at 01:00
 *     -A    the CA answers renewalInfo (ARI) and spreads the windows it
 *           gives over its least busy minutes
 *     -R    devices have no RTC (learn the time from the CA at each boot)
 *     -I    devices numbered 1..N (keeper fleet_index): evenly spread phases
 *           instead of random ones
 *     -C N  a busy CA: a newOrder in a minute that already had N requests
 *           answers 503 with Retry-After 60..600 s (the engine waits it and
 *           asks again); the 503 answers count as requests
 *     -c    check the goals and exit 1 when one is missed: peak-to-mean of
 *           requests/min <= PTM over the last days (-P, default 1.5), and
 *           no minute above 3x the mean in the day after an outage
 *     -X    the bound of -c for the day after an outage (default 3)
 *     -b    count in buckets of this many minutes (small fleets: a bucket
 *           then holds as many requests as a minute of a large one)
 *     -q    one line (the bench table row)
 * Keeper settings: the defaults of picoacme_config_defaults.h, 24-hour
 * certificates, boot_spread_s 7200 (a fleet setting).
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_ca.h"
#include "picoacme_keeper.h"

#define EPOCH      1893456000 /* 2030-01-01T00:00:00Z */
#define MIN_MS     60000ULL
#define DAY_MS     (1440ULL * MIN_MS)
#define BOOT_SPRD  7200U
#define OUT_START  (2ULL * DAY_MS) /* day 3, 00:00 */
#define OUT_DOWN_H 6ULL
#define OFF_H      1ULL

typedef struct dev {
    fca_dev_t d;
    picoacme_keeper_t k;
} dev_t;

static fca_clock_t clk;
static fca_ca_t ca;
static dev_t *devs;
static uint32_t n_dev = 10000;
static uint64_t *wake; /* per device */
static uint32_t *heap; /* device indices, min-heap on wake */
static uint32_t heap_n;
static picoacme_ident_t ident = {PICOACME_ID_DNS, "dev.test"};
static picoacme_keeper_ca_t kca;
static picoacme_keeper_config_t kcfg;
static uint64_t n_steps, n_issued, n_failing, n_expired;

/* ---- the wake-up queue --------------------------------------------------------- */

static void heap_swap(uint32_t a, uint32_t b)
{
    uint32_t t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
}

static void heap_down(uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_n && wake[heap[l]] < wake[heap[m]])
            m = l;
        if (r < heap_n && wake[heap[r]] < wake[heap[m]])
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static void heap_up(uint32_t i)
{
    while (i > 0 && wake[heap[(i - 1) / 2]] > wake[heap[i]]) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_push(uint32_t dev)
{
    heap[heap_n] = dev;
    heap_up(heap_n++);
}

static uint32_t heap_pop(void)
{
    uint32_t top = heap[0];
    heap[0] = heap[--heap_n];
    heap_down(0);
    return top;
}

/* ---- devices -------------------------------------------------------------------------- */

static void trace_log(void *user, int level, const char *fmt, ...)
{
    va_list ap;
    (void)user;
    if (level > PICOACME_LOG_LVL_WRN && strncmp(fmt, "keeper", 6) != 0)
        return;
    fprintf(stderr, "[%.3f h] ", (double)clk.ms / 3600000.0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

static void boot(dev_t *v)
{
    if (getenv("FLEET_LOG") != NULL && v == &devs[atoi(getenv("FLEET_LOG"))])
        v->d.ports.log = trace_log;
    kcfg.state_store = &v->d.state_storage;
    if (picoacme_keeper_init(&v->k, &kcfg, &v->d.ports) != PICOACME_OK) {
        fprintf(stderr, "fleet_sim: keeper_init failed\n");
        exit(2);
    }
}

/* A socket of the wait is ready: the fake CA answers at once, so a write
 * always is, a read when the answer is there. */
static int ready(const fca_dev_t *d, const picoacme_wait_t *w)
{
    for (unsigned n = 0; n < w->count; n++) {
        picoacme_sock_t s = w->sock[n];
        if (s < 1 || s > FCA_CONNS)
            continue;
        const fca_conn_t *c = &d->conn[s - 1];
        if ((w->events[n] & PICOACME_EV_WRITE) != 0 || c->refused || c->out_len > c->out_off)
            return 1;
    }
    return 0;
}

/* Run device i at the current instant until it sleeps; returns its wait. */
static uint32_t run_dev(uint32_t i)
{
    dev_t *v = &devs[i];
    picoacme_wait_t w;
    for (int guard = 0; guard < 1000; guard++) {
        picoacme_keeper_event_t ev = picoacme_keeper_step(&v->k, &w);
        n_steps++;
        n_issued += ev == PICOACME_KEEPER_EV_ISSUED;
        n_failing += ev == PICOACME_KEEPER_EV_RENEWAL_FAILING;
        n_expired += ev == PICOACME_KEEPER_EV_EXPIRED;
        if (w.timeout_ms != 0 && !ready(&v->d, &w))
            return w.timeout_ms;
    }
    fprintf(stderr, "fleet_sim: device %u does not settle\n", i);
    return 1000;
}

/* ---- figures --------------------------------------------------------------------------- */

typedef struct fig {
    double mean, peak_to_mean, per_dev_day;
    uint32_t peak, peak_after, peak_after_min;
    double after_ratio;
} fig_t;

static fig_t figures(const uint32_t *pm, size_t n_min, size_t from, int outage_end_min)
{
    fig_t f;
    uint64_t sum = 0;
    memset(&f, 0, sizeof f);
    for (size_t m = from; m < n_min; m++) {
        sum += pm[m];
        if (pm[m] > f.peak)
            f.peak = pm[m];
    }
    f.mean = (double)sum / (double)(n_min - from);
    f.peak_to_mean = f.mean > 0 ? (double)f.peak / f.mean : 0;
    f.per_dev_day = (double)sum / n_dev / ((double)(n_min - from) / 1440.0);
    if (outage_end_min >= 0) {
        for (size_t m = (size_t)outage_end_min; m < (size_t)outage_end_min + 60 && m < n_min; m++) {
            if (pm[m] > f.peak_after) {
                f.peak_after = pm[m];
                f.peak_after_min = (uint32_t)(m - (size_t)outage_end_min);
            }
        }
        /* the worst minute of the day after the recovery */
        uint32_t worst = 0;
        for (size_t m = (size_t)outage_end_min; m < (size_t)outage_end_min + 1440 && m < n_min; m++)
            worst = pm[m] > worst ? pm[m] : worst;
        f.after_ratio = f.mean > 0 ? (double)worst / f.mean : 0;
    }
    return f;
}

/* The expected largest of m independent Poisson(mu) counts, divided by
 * mu: what the busiest minute of m is, in means, when every device renews
 * at a time independent of the others (random phases). */
static double poisson_max_ratio(double mu, size_t m)
{
    double p = exp(-mu), cdf = 0, e = 0;
    if (mu <= 0)
        return 0;
    for (int x = 0; x < (int)(mu + 20 * sqrt(mu) + 20); x++) {
        cdf += p;
        e += 1 - pow(cdf < 1 ? cdf : 1, (double)m); /* P(max > x) */
        p *= mu / (x + 1);
    }
    return e / mu;
}

static void usage(void)
{
    fprintf(stderr, "usage: fleet_sim [-n DEVICES] [-d DAYS] [-s a|b|c] [-A] [-R] [-I] [-c] [-q] "
                    "[-P PTM] [-X AFTER] [-b MINUTES] [-C REQ_PER_MIN] [-t TMPDIR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt, days = 7, ari = 0, no_rtc = 0, check = 0, quiet = 0;
    char sc = 'a';
    double ptm_goal = 1.5;
    const char *tmp = "/tmp";
    int indexed = 0, bucket = 1;
    uint32_t cap = 0;
    double after_goal = 3.0;
    while ((opt = getopt(argc, argv, "n:d:s:ARIcqP:X:t:b:C:")) != -1) {
        switch (opt) {
        case 'n': n_dev = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'd': days = atoi(optarg); break;
        case 's': sc = optarg[0]; break;
        case 'A': ari = 1; break;
        case 'R': no_rtc = 1; break;
        case 'I': indexed = 1; break;
        case 'c': check = 1; break;
        case 'q': quiet = 1; break;
        case 'P': ptm_goal = atof(optarg); break;
        case 'X': after_goal = atof(optarg); break;
        case 'b': bucket = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        case 't': tmp = optarg; break;
        case 'C': cap = (uint32_t)strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (n_dev == 0 || days < 3 || (sc != 'a' && sc != 'b' && sc != 'c'))
        usage();
    clk.epoch_s = EPOCH;
    if (fca_init(&ca, &clk, tmp) != 0) {
        printf("skipped: openssl could not make the certificate template\n");
        return 77;
    }
    size_t n_min = (size_t)days * 1440U;
    ca.life_s = 86400;
    ca.cap_per_min = cap;
    ca.ari = ari ? FCA_ARI_SPREAD : FCA_ARI_OFF;
    ca.ari_retry_s = 6 * 3600;
    ca.n_min = n_min;
    ca.per_min = calloc(n_min, sizeof(uint32_t));
    ca.refused_per_min = calloc(n_min, sizeof(uint32_t));
    ca.ari_load = calloc(n_min + 2880, sizeof(uint32_t));
    devs = calloc(n_dev, sizeof *devs);
    wake = calloc(n_dev, sizeof *wake);
    heap = calloc(n_dev, sizeof *heap);
    if (devs == NULL || wake == NULL || heap == NULL || ca.per_min == NULL) {
        fprintf(stderr, "fleet_sim: out of memory\n");
        return 2;
    }
    kca.cfg.directory_url = FCA_BASE "/dir";
    kca.cfg.ids = &ident;
    kca.cfg.n_ids = 1;
    kcfg.cas = &kca;
    kcfg.n_cas = 1;
    kcfg.boot_spread_s = BOOT_SPRD;
    kcfg.no_ari = !ari;
    /* (a): every device enrolled in the same minute */
    for (uint32_t i = 0; i < n_dev; i++) {
        fca_dev_init(&devs[i].d, &ca, i + 1, !no_rtc);
        kcfg.fleet_index = indexed ? i + 1 : 0;
        boot(&devs[i]);
        wake[i] = (uint64_t)(i % 60U) * 1000U;
        heap_push(i);
    }
    uint64_t end_ms = (uint64_t)days * DAY_MS;
    uint64_t down_from = sc == 'b' ? OUT_START : UINT64_MAX;
    uint64_t down_to = down_from + OUT_DOWN_H * 3600000ULL;
    uint64_t off_from = sc == 'c' ? OUT_START : UINT64_MAX;
    uint64_t off_to = off_from + OFF_H * 3600000ULL;
    int powered_off = 0;
    while (heap_n > 0 && wake[heap[0]] < end_ms) {
        uint32_t i = heap_pop();
        clk.ms = wake[i];
        ca.down = clk.ms >= down_from && clk.ms < down_to;
        if (!powered_off && clk.ms >= off_from) {
            /* the power is gone: every device stops; all come back at off_to */
            powered_off = 1;
            heap_push(i);
            while (heap_n > 0)
                (void)heap_pop();
            for (uint32_t j = 0; j < n_dev; j++) {
                picoacme_keeper_stop(&devs[j].k);
                wake[j] = off_to;
                heap_push(j);
            }
            continue;
        }
        if (powered_off == 1 && clk.ms >= off_to) {
            powered_off = 2;
            for (uint32_t j = 0; j < n_dev; j++) {
                fca_dev_reboot(&devs[j].d);
                kcfg.fleet_index = indexed ? j + 1 : 0;
                boot(&devs[j]);
            }
        }
        uint32_t t = run_dev(i);
        wake[i] = clk.ms + (t == 0 ? 1 : t);
        heap_push(i);
    }
    /* the last 5 days (or all but the first 2) */
    size_t from = n_min > 5U * 1440U ? n_min - 5U * 1440U : 2U * 1440U;
    int outage_end = sc == 'b' ? (int)(down_to / MIN_MS) : sc == 'c' ? (int)(off_to / MIN_MS) : -1;
    if (bucket > 1) {
        /* a small fleet: buckets of several minutes, so that a bucket holds
         * as many requests as a minute of a large fleet */
        size_t nb = n_min / (size_t)bucket;
        for (size_t b = 0; b < nb; b++) {
            uint32_t sum = 0;
            for (int m = 0; m < bucket; m++)
                sum += ca.per_min[b * (size_t)bucket + (size_t)m];
            ca.per_min[b] = sum;
        }
        n_min = nb;
        from /= (size_t)bucket;
        outage_end = outage_end >= 0 ? (outage_end + bucket - 1) / bucket : -1;
    }
    fig_t f = figures(ca.per_min, n_min, from, outage_end);
    if (getenv("FLEET_TRACE") != NULL && outage_end >= 0) {
        int span = atoi(getenv("FLEET_TRACE")) > 0 ? atoi(getenv("FLEET_TRACE")) : 30;
        for (int m = outage_end - 3; m < outage_end + span && m < (int)n_min; m++)
            fprintf(stderr, "minute %+d: %u answered, %u refused\n", m - outage_end, ca.per_min[m],
                    ca.refused_per_min[m]);
    }
    uint64_t total = 0;
    for (size_t m = 0; m < n_min; m++)
        total += ca.per_min[m];
    double all_per_day = (double)total / n_dev / days;
    /* renewals per minute: the requests of an issuance come in the same
     * minute (the fake CA answers at once), so the requests per minute are
     * (requests per issuance) x (issuances in that minute) */
    double per_issue = ca.issued > 0 ? (double)total / (double)ca.issued : 1;
    double poisson = poisson_max_ratio(f.mean / per_issue, n_min - from);
    const char *name = sc == 'a'   ? "(a) enrolled in the same minute"
                       : sc == 'b' ? "(b) CA down 6 h on day 3"
                                   : "(c) all reboot at once on day 3";
    char label[160];
    char capl[64] = "";
    if (cap != 0U)
        snprintf(capl, sizeof capl, ", CA busy (503) over %u req/min", cap);
    snprintf(label, sizeof label, "%s%s%s%s%s", name, ari ? ", ARI spread by the CA" : "",
             indexed ? ", fleet-indexed phases" : ", random phases", no_rtc ? ", no RTC" : "",
             capl);
    if (quiet) {
        printf("| %s | %u | %.1f | %u | %.2f | ", label, n_dev, f.mean, f.peak, f.peak_to_mean);
        if (outage_end >= 0)
            printf("%u (%.2fx) | %.2fx |", f.peak_after, (double)f.peak_after / f.mean,
                   f.after_ratio);
        else
            printf("- | - |");
        printf(" %.1f | %llu | %.2f |\n", all_per_day, (unsigned long long)ca.refused, poisson);
    } else {
        printf("fleet_sim: %s, %u devices, %d days, 24-hour certificates\n", label, n_dev, days);
        printf("  requests/min over the last %zu days: mean %.1f, peak %u, peak-to-mean %.2f\n",
               (n_min - from) / 1440U, f.mean, f.peak, f.peak_to_mean);
        printf("  independent renewal times (Poisson, %.1f issuances/min, %.1f requests each) "
               "would give an expected peak-to-mean of %.2f over these %zu minutes\n",
               f.mean / per_issue, per_issue, poisson, n_min - from);
        if (outage_end >= 0)
            printf("  after the recovery: peak %u in the first hour (minute %u, %.2fx the mean), "
                   "worst minute of the next day %.2fx the mean\n",
                   f.peak_after, f.peak_after_min, (double)f.peak_after / f.mean, f.after_ratio);
        printf("  requests per device per day: %.2f (last days %.2f); issued %llu, failing %llu, "
               "expired %llu, refused connections %llu\n",
               all_per_day, f.per_dev_day, (unsigned long long)n_issued,
               (unsigned long long)n_failing, (unsigned long long)n_expired,
               (unsigned long long)ca.refused);
        printf("  503 answers of a busy CA: %llu\n", (unsigned long long)ca.busy);
        printf("  by path:");
        for (int p = 0; p < FCA_PATHS; p++)
            printf(" %s %llu", fca_path_name(p), (unsigned long long)ca.by_path[p]);
        printf("\n  keeper steps %llu; sizeof(picoacme_keeper_t) %zu\n",
               (unsigned long long)n_steps, sizeof(picoacme_keeper_t));
    }
    if (check) {
        int bad = 0;
        if (f.peak_to_mean > ptm_goal) {
            printf("FAIL: peak-to-mean %.2f > %.2f\n", f.peak_to_mean, ptm_goal);
            bad = 1;
        }
        if (outage_end >= 0 && f.after_ratio > after_goal) {
            printf("FAIL: a minute after the recovery at %.2fx the mean (> %.1fx)\n", f.after_ratio,
                   after_goal);
            bad = 1;
        }
        if (n_expired != 0 || ca.issued < n_dev) {
            printf("FAIL: %llu certificates expired, %llu issued\n", (unsigned long long)n_expired,
                   (unsigned long long)ca.issued);
            bad = 1;
        }
        if (bad)
            return 1;
        printf("PASS: goals met\n");
    }
    return 0;
}
