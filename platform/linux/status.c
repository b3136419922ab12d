/*
 * status.c - `picoacme status`: what the state file holds, for a person
 * or (--json) a monitoring system. Exit status as monitoring plugins use
 * it: 0 valid, 1 renewal due, 2 expired, revoked or nothing stored,
 * 3 the state cannot be read.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "picoacme_posix.h"
#include "picoacme_keeper.h"
#include "picoacme_store.h"
#include "picoacme_wolfssl.h"

#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>

enum { ST_VALID = 0, ST_DUE = 1, ST_CRIT = 2, ST_UNKNOWN = 3 };

typedef struct status_view {
    const char *state_path;
    picoacme_stored_info_t info;
    picoacme_x509_t leaf;
    bool have_leaf;
    char serial[80];
    char ca[PICOACME_URL_MAX];
    char account[PICOACME_URL_MAX];
    char last_failure[2200];
    char issuer[256];
    picoacme_keeper_state_t plan; /* the daemon's keeper, from STATE.keeper */
    bool have_plan;
    char profile[PICOACME_PROFILE_MAX];
    const char *verdict;
    int code;
} status_view_t;

static uint8_t g_der[4096];

bool chain_serial_hex(const char *chain, size_t len, char *out, size_t cap)
{
    size_t pos = 0, der_len = 0, i, o = 0;
    picoacme_x509_t x;
    if (picoacme_pem_next(chain, len, &pos, g_der, sizeof g_der, &der_len) != PICOACME_OK ||
        picoacme_x509_parse(g_der, der_len, &x) != PICOACME_OK || x.serial_len == 0) {
        return false;
    }
    for (i = 0; i + 1U < x.serial_len && x.serial[i] == 0U; i++) {
        /* leading zero bytes of the DER INTEGER, as openssl prints it */
    }
    for (; i < x.serial_len && o + 3U <= cap; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%02X", (unsigned)x.serial[i]);
    }
    return i == x.serial_len;
}

/* Is the SAN (type, raw value) one of ids? */
static bool san_in(picoacme_id_type_t t, const uint8_t *v, size_t vl, const picoacme_ident_t *ids,
                   size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t a[16];
        if (ids[i].type != t) {
            continue;
        }
        if (t == PICOACME_ID_DNS) {
            if (strlen(ids[i].value) == vl && strncasecmp(ids[i].value, (const char *)v, vl) == 0) {
                return true;
            }
        } else if ((vl == 4U && inet_pton(AF_INET, ids[i].value, a) == 1 && memcmp(a, v, 4) == 0) ||
                   (vl == 16U && inet_pton(AF_INET6, ids[i].value, a) == 1 &&
                    memcmp(a, v, 16) == 0)) {
            return true;
        }
    }
    return false;
}

bool chain_names_equal(const char *chain, size_t len, const picoacme_ident_t *ids, size_t n)
{
    size_t pos = 0, der_len = 0, sp = 0, count = 0;
    picoacme_x509_t x;
    picoacme_id_type_t t;
    const uint8_t *v;
    size_t vl = 0;
    if (picoacme_pem_next(chain, len, &pos, g_der, sizeof g_der, &der_len) != PICOACME_OK ||
        picoacme_x509_parse(g_der, der_len, &x) != PICOACME_OK) {
        return false;
    }
    while (picoacme_x509_san_next(&x, &sp, &t, &v, &vl) == PICOACME_OK) {
        if (!san_in(t, v, vl, ids, n)) {
            return false;
        }
        count++;
    }
    return count == n;
}

static void fmt_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The n-th SAN of the leaf as text into buf; false past the last. */
static bool san_text(const picoacme_x509_t *x, size_t *sp, char *buf, size_t cap)
{
    picoacme_id_type_t t;
    const uint8_t *v;
    size_t vl = 0, k, o = 0;
    if (picoacme_x509_san_next(x, sp, &t, &v, &vl) != PICOACME_OK) {
        return false;
    }
    if (t == PICOACME_ID_DNS) {
        snprintf(buf, cap, "%.*s", (int)vl, (const char *)v);
    } else if (vl == 4U) {
        snprintf(buf, cap, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
    } else {
        for (k = 0; k + 1U < vl && o + 6U < cap; k += 2U) {
            o += (size_t)snprintf(buf + o, cap - o, "%s%x", k ? ":" : "",
                                  (unsigned)(v[k] << 8 | v[k + 1U]));
        }
    }
    return true;
}

/* The leaf's issuer name (wolfCrypt's "/C=../CN=.." form) into out. */
static void leaf_issuer(const uint8_t *der, size_t len, char *out, size_t cap)
{
    static DecodedCert dc;
    out[0] = '\0';
    wc_InitDecodedCert(&dc, der, (word32)len, NULL);
    if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) == 0) {
        size_t n = strnlen(dc.issuer, sizeof dc.issuer);
        n = n < cap ? n : cap - 1U; /* cut to the caller's buffer */
        memcpy(out, dc.issuer, n);
        out[n] = '\0';
    }
    wc_FreeDecodedCert(&dc);
}

static void print_text(const status_view_t *s)
{
    char t[64], name[256];
    size_t sp = 0;
    if (s->have_leaf) {
        printf("names      ");
        while (san_text(&s->leaf, &sp, name, sizeof name)) {
            printf(" %s", name);
        }
        printf("\n");
    }
    printf("serial      %s\n", s->serial[0] != '\0' ? s->serial : "?");
    fmt_time(s->info.not_before_s, t, sizeof t);
    printf("notBefore   %s\n", t);
    fmt_time(s->info.not_after_s, t, sizeof t);
    printf("notAfter    %s\n", t);
    fmt_time(s->info.renew_at_s, t, sizeof t);
    printf("renewAt     %s (%s)\n", t, s->info.ari ? "the CA's ARI window" : "2/3 of the lifetime");
    if (s->have_plan && s->plan.renew_at_s != 0) {
        fmt_time(s->plan.renew_at_s, t, sizeof t);
        printf("planned     %s (picoacme run's keeper: %s)\n", t,
               s->plan.ari ? "a point in the CA's ARI window" : "this device's point before 2/3");
    }
    if (s->have_plan && s->plan.failures != 0U) {
        fmt_time(s->plan.backoff_until_s, t, sizeof t);
        printf("failures    %u in a row, next attempt not before %s\n", (unsigned)s->plan.failures,
               t);
    }
    printf("issuer      %s\n", s->issuer[0] != '\0' ? s->issuer : "?");
    printf("ca          %s\n", s->ca[0] != '\0' ? s->ca : "?");
    printf("account     %s\n", s->account[0] != '\0' ? s->account
                               : s->info.has_account ? "stored"
                                                     : "none");
    printf("profile     %s\n", s->profile[0] != '\0' ? s->profile : "(the CA's default)");
    printf("state       %s\n", s->verdict);
    if (s->last_failure[0] != '\0') {
        printf("lastFailure %s\n", s->last_failure);
    }
}

/* JSON string: the values are URLs, names and hex; escape " and \ anyway */
static void json_str(const char *k, const char *v, bool comma)
{
    printf("\"%s\":\"", k);
    for (; *v != '\0'; v++) {
        if (*v == '"' || *v == '\\') {
            putchar('\\');
        }
        if ((unsigned char)*v >= 0x20U) {
            putchar(*v);
        }
    }
    printf("\"%s", comma ? "," : "");
}

static void print_json(const status_view_t *s)
{
    char t[64], name[256];
    size_t sp = 0;
    bool first = true;
    printf("{");
    json_str("state", s->verdict, true);
    printf("\"exit\":%d,", s->code);
    if (s->info.chain_pem != NULL) {
        printf("\"names\":[");
        while (s->have_leaf && san_text(&s->leaf, &sp, name, sizeof name)) {
            printf("%s\"%s\"", first ? "" : ",", name);
            first = false;
        }
        printf("],");
        json_str("serial", s->serial, true);
        fmt_time(s->info.not_before_s, t, sizeof t);
        json_str("not_before", t, true);
        fmt_time(s->info.not_after_s, t, sizeof t);
        json_str("not_after", t, true);
        fmt_time(s->info.renew_at_s, t, sizeof t);
        json_str("renew_at", t, true);
        json_str("renew_reason", s->info.ari ? "ari" : "fraction", true);
        if (s->have_plan && s->plan.renew_at_s != 0) {
            fmt_time(s->plan.renew_at_s, t, sizeof t);
            json_str("planned_renewal", t, true);
            json_str("planned_reason", s->plan.ari ? "ari" : "fraction", true);
            printf("\"failures\":%u,", (unsigned)s->plan.failures);
        }
        json_str("issuer", s->issuer, true);
        json_str("ca", s->ca, true);
        json_str("account", s->account, true);
        json_str("profile", s->profile, true);
    }
    if (s->last_failure[0] != '\0') {
        json_str("last_failure", s->last_failure, true);
    }
    json_str("file", s->state_path, false);
    printf("}\n");
}

static void judge(status_view_t *s)
{
    int64_t now = (int64_t)time(NULL);
    size_t pos = 0, der_len = 0;
    s->have_leaf = picoacme_pem_next(s->info.chain_pem, s->info.chain_len, &pos, g_der,
                                     sizeof g_der, &der_len) == PICOACME_OK &&
                   picoacme_x509_parse(g_der, der_len, &s->leaf) == PICOACME_OK;
    if (s->have_leaf) {
        leaf_issuer(g_der, der_len, s->issuer, sizeof s->issuer);
    }
    if (s->serial[0] != '\0' && state_is_revoked(s->state_path, s->serial)) {
        s->verdict = "revoked";
        s->code = ST_CRIT;
    } else if (now >= s->info.not_after_s) {
        s->verdict = "expired";
        s->code = ST_CRIT;
    } else if (now >= s->info.renew_at_s) {
        s->verdict = "renewal due";
        s->code = ST_DUE;
    } else {
        s->verdict = "valid";
        s->code = ST_VALID;
    }
}

/* The plan `picoacme run`'s keeper keeps next to the state (STATE.keeper),
 * when there is one. */
static void load_plan(status_view_t *s)
{
    static uint8_t buf[PICOACME_KEEPER_STATE_MAX + 64U];
    char path[4200];
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    size_t len = 0;
    snprintf(path, sizeof path, "%s.keeper", s->state_path);
    if (access(path, R_OK) != 0 ||
        picoacme_posix_flash_open(&f, path, 2U * 4096U, 4096U, &st) != PICOACME_OK) {
        return;
    }
    s->have_plan = picoacme_store_load(&st, buf, sizeof buf, &len, NULL) == PICOACME_OK &&
                   picoacme_keeper_state_decode(&s->plan, buf, len) == PICOACME_OK &&
                   s->plan.plan_not_after_s == s->info.not_after_s;
    picoacme_posix_flash_close(&f);
}

/* Read the store into s; the exit status when there is nothing to judge. */
static int load(status_view_t *s)
{
    picoacme_transport_t tp;
    picoacme_clock_t clk;
    picoacme_posix_flash_t flash;
    picoacme_storage_t st;
    picoacme_wolfssl_crypto_t wc;
    picoacme_crypto_t crypto;
    picoacme_config_t cfg;
    picoacme_ports_t ports;
    picoacme_err_t e;
    int rc = -1;
    picoacme_posix_transport(&tp);
    picoacme_posix_clock(&clk);
    if (picoacme_posix_flash_open(&flash, s->state_path, state_size(s->state_path), STATE_ERASE,
                                  &st) != PICOACME_OK) {
        fprintf(stderr, "picoacme: cannot open --state %s\n", s->state_path);
        return ST_UNKNOWN;
    }
    if (picoacme_wolfssl_crypto_init(&wc, NULL, &crypto) != PICOACME_OK) {
        picoacme_posix_flash_close(&flash);
        return ST_UNKNOWN;
    }
    memset(&cfg, 0, sizeof cfg);
    memset(&ports, 0, sizeof ports);
    ports.transport = &tp;
    ports.crypto = &crypto;
    ports.storage = &st;
    ports.clock = &clk;
    e = picoacme_init(&g_ctx, &cfg, &ports);
    if (e == PICOACME_OK) {
        e = picoacme_stored(&g_ctx, &s->info);
    }
    if (e == PICOACME_ERR_NOT_FOUND) {
        s->verdict = "no certificate stored";
        s->code = rc = ST_CRIT;
    } else if (e != PICOACME_OK) {
        fprintf(stderr, "picoacme: cannot read %s: %s\n", s->state_path, picoacme_err_str(e));
        rc = ST_UNKNOWN;
    } else {
        (void)state_record_urls(&st, s->ca, sizeof s->ca, s->account, sizeof s->account);
        (void)state_record_profile(&st, s->profile, sizeof s->profile);
        (void)chain_serial_hex(s->info.chain_pem, s->info.chain_len, s->serial, sizeof s->serial);
    }
    picoacme_wolfssl_crypto_free(&wc);
    picoacme_posix_flash_close(&flash);
    return rc;
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"state", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static status_view_t s;
    bool json = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': s.state_path = optarg; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: picoacme status --state FILE [--json]\n"
                   "exit status: 0 valid, 1 renewal due, 2 expired, revoked or nothing stored,\n"
                   "3 the state cannot be read\n");
            return 0;
        default: return ST_UNKNOWN;
        }
    }
    if (s.state_path == NULL) {
        fprintf(stderr, "picoacme: status needs --state FILE\n");
        return ST_UNKNOWN;
    }
    rc = state_claim(s.state_path, false, false);
    if (rc == STATE_MISSING) {
        s.verdict = "no certificate stored";
        s.code = ST_CRIT;
        rc = ST_CRIT;
    } else if (rc != 0) {
        return ST_UNKNOWN;
    } else {
        rc = load(&s);
    }
    if (rc == ST_UNKNOWN) {
        return rc;
    }
    (void)state_last_failure(s.state_path, s.last_failure, sizeof s.last_failure);
    if (s.info.chain_pem != NULL) {
        load_plan(&s);
    }
    if (rc < 0) {
        judge(&s);
    }
    if (json) {
        print_json(&s);
    } else if (s.info.chain_pem == NULL) {
        printf("no certificate stored in %s\n", s.state_path);
    } else {
        print_text(&s);
    }
    return s.code;
}
