/*
 * fake_ca.c - see fake_ca.h.
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */

#include "fake_ca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "picoacme_x509.h"

enum { P_DIR, P_NONCE, P_ACCT, P_ORDER, P_AUTHZ, P_CHALL, P_FIN, P_CERT, P_ARI, P_OTHER };

const char *fca_path_name(int i)
{
    static const char *const n[FCA_PATHS] = {"directory",   "newNonce",  "newAccount", "newOrder",
                                             "authz",       "challenge", "finalize",   "cert",
                                             "renewalInfo", "other"};
    return i >= 0 && i < FCA_PATHS ? n[i] : "?";
}

/* ---- the certificate template ------------------------------------------------ */

static long find(const uint8_t *h, size_t hl, const uint8_t *n, size_t nl, size_t from)
{
    for (size_t i = from; i + nl <= hl; i++) {
        if (memcmp(h + i, n, nl) == 0) {
            return (long)i;
        }
    }
    return -1;
}

int fca_init(fca_ca_t *ca, fca_clock_t *clk, const char *dir)
{
    char cmd[1024];
    FILE *f;
    static const uint8_t utc[2] = {0x17, 0x0d};
    static const uint8_t ser[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    picoacme_x509_t c;
    long nb, na, sr;
    memset(ca, 0, sizeof *ca);
    ca->clk = clk;
    ca->life_s = 86400U;
    snprintf(cmd, sizeof cmd,
             "openssl ecparam -name prime256v1 -genkey -noout -out %s/fca_key.pem && "
             "openssl req -x509 -new -key %s/fca_key.pem -subj /CN=dev.test "
             "-addext subjectAltName=DNS:dev.test -days 1 -set_serial 0x1122334455667788 "
             "-outform DER -out %s/fca_leaf.der",
             dir, dir, dir);
    if (system(cmd) != 0) {
        return -1;
    }
    snprintf(cmd, sizeof cmd, "%s/fca_leaf.der", dir);
    f = fopen(cmd, "rb");
    if (f == NULL) {
        return -1;
    }
    ca->der_len = fread(ca->der, 1, sizeof ca->der, f);
    fclose(f);
    nb = find(ca->der, ca->der_len, utc, 2, 0);
    na = nb < 0 ? -1 : find(ca->der, ca->der_len, utc, 2, (size_t)nb + 15U);
    sr = find(ca->der, ca->der_len, ser, 8, 0);
    if (nb < 0 || na < 0 || sr < 0 ||
        picoacme_x509_parse(ca->der, ca->der_len, &c) != PICOACME_OK || !c.ec_p256) {
        return -1;
    }
    ca->nb_off = (size_t)nb + 2U;
    ca->na_off = (size_t)na + 2U;
    ca->serial_off = (size_t)sr;
    memcpy(ca->pub, c.pub, 64);
    return 0;
}

static void put_utc(uint8_t *p, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char b[16];
    gmtime_r(&tt, &tm);
    strftime(b, sizeof b, "%y%m%d%H%M%SZ", &tm);
    memcpy(p, b, 13);
}

static size_t b64(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0U) |
                     (i + 2 < n ? in[i + 2] : 0U);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
        if ((i / 3 + 1) % 16 == 0) {
            out[o++] = '\n';
        }
    }
    if (o > 0 && out[o - 1] != '\n') {
        out[o++] = '\n';
    }
    return o;
}

static void issue(fca_dev_t *d)
{
    fca_ca_t *ca = d->ca;
    uint8_t der[1024];
    uint64_t s = ++ca->serial;
    int64_t now = fca_wall(ca->clk);
    memcpy(der, ca->der, ca->der_len);
    put_utc(der + ca->nb_off, now);
    put_utc(der + ca->na_off, now + (int64_t)ca->life_s);
    for (int i = 0; i < 8; i++) {
        der[ca->serial_off + (size_t)i] = (uint8_t)(s >> (56 - 8 * i));
    }
    der[ca->serial_off] &= 0x7F; /* positive */
    der[ca->serial_off] |= 0x10;
    d->chain_len = (size_t)snprintf(d->chain, sizeof d->chain, "-----BEGIN CERTIFICATE-----\n");
    d->chain_len += b64(der, ca->der_len, d->chain + d->chain_len);
    d->chain_len += (size_t)snprintf(d->chain + d->chain_len, sizeof d->chain - d->chain_len,
                                     "-----END CERTIFICATE-----\n");
    d->cert_nb = now;
    ca->issued++;
}

/* ---- counting ----------------------------------------------------------------- */

void fca_count(fca_ca_t *ca, uint32_t *per_min)
{
    uint64_t m = ca->clk->ms / 60000U;
    if (per_min != NULL && m < ca->n_min) {
        per_min[m]++;
    }
}

/* ---- answers -------------------------------------------------------------------- */

static void respond(fca_dev_t *d, fca_conn_t *c, int status, const char *ctype, const char *extra,
                    const char *body)
{
    char date[64];
    time_t tt = (time_t)fca_wall(d->ca->clk);
    struct tm tm;
    size_t bl = body != NULL ? strlen(body) : 0U;
    int n;
    gmtime_r(&tt, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (body != NULL && strcmp(c->host, "ca.test") != 0 && strstr(body, FCA_BASE) != NULL) {
        static char moved[2048];
        size_t o = 0;
        const char *p = body;
        const char *q;
        while ((q = strstr(p, FCA_BASE)) != NULL) {
            o += (size_t)snprintf(moved + o, sizeof moved - o, "%.*shttp://%s", (int)(q - p), p,
                                  c->host);
            p = q + strlen(FCA_BASE);
        }
        o += (size_t)snprintf(moved + o, sizeof moved - o, "%s", p);
        body = moved;
        bl = o;
    }
    n = snprintf((char *)c->out + c->out_len, FCA_IO - c->out_len,
                 "HTTP/1.1 %d X\r\nReplay-Nonce: n%08x%08x\r\nDate: %s\r\n%s%s%s%s"
                 "Content-Length: %zu\r\n\r\n",
                 status, (unsigned)(d->rng & 0xFFFFFFFFU), (unsigned)d->nonce++, date,
                 ctype != NULL ? "Content-Type: " : "", ctype != NULL ? ctype : "",
                 ctype != NULL ? "\r\n" : "", extra != NULL ? extra : "", bl);
    if (n < 0 || (size_t)n + bl >= FCA_IO - c->out_len) {
        abort();
    }
    c->out_len += (size_t)n;
    if (bl > 0U) {
        memcpy(c->out + c->out_len, body, bl);
    }
    c->out_len += bl;
}

static void problem(fca_dev_t *d, fca_conn_t *c, int status, const char *type, const char *extra)
{
    char b[256];
    snprintf(b, sizeof b, "{\"type\":\"urn:ietf:params:acme:error:%s\",\"detail\":\"fake\"}", type);
    respond(d, c, status, "application/problem+json", extra, b);
}

static void rfc3339(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* FCA_ARI_SPREAD: the least busy minute of [nb + 45%, nb + 62%]. */
static int64_t spread_window(fca_dev_t *d)
{
    fca_ca_t *ca = d->ca;
    int64_t lo = d->cert_nb + (int64_t)ca->life_s * 45 / 100;
    int64_t hi = d->cert_nb + (int64_t)ca->life_s * 62 / 100;
    int64_t base = ca->clk->epoch_s;
    int64_t best = lo;
    uint32_t best_n = UINT32_MAX;
    if (d->win_nb == d->cert_nb) {
        return d->win_start;
    }
    for (int64_t t = lo; t < hi; t += 60) {
        uint64_t m = (uint64_t)(t - base) / 60U;
        uint32_t n = ca->ari_load != NULL && m < ca->n_min ? ca->ari_load[m] : 0U;
        if (n < best_n) {
            best_n = n;
            best = t;
        }
    }
    if (ca->ari_load != NULL && (uint64_t)(best - base) / 60U < ca->n_min) {
        ca->ari_load[(uint64_t)(best - base) / 60U]++;
    }
    d->win_nb = d->cert_nb;
    d->win_start = best;
    return best;
}

static void answer_ari(fca_dev_t *d, fca_conn_t *c)
{
    fca_ca_t *ca = d->ca;
    char b[256], s[32], e[32], ra[48] = "";
    int64_t ws = ca->ari_start_s, we = ca->ari_end_s;
    if (ca->ari_retry_s != 0U) {
        snprintf(ra, sizeof ra, "Retry-After: %u\r\n", (unsigned)ca->ari_retry_s);
    }
    if (ca->ari == FCA_ARI_MALFORMED) {
        respond(d, c, 200, "application/json", ra, "{\"suggestedWindow\":\"soon\"}");
        return;
    }
    if (ca->ari == FCA_ARI_ERROR) {
        problem(d, c, 500, "serverInternal", ra);
        return;
    }
    if (ca->ari == FCA_ARI_SPREAD) {
        /* the CA's plan: come back when the window opens */
        int64_t back;
        ws = spread_window(d);
        we = ws + 60;
        back = ws - fca_wall(ca->clk);
        snprintf(ra, sizeof ra, "Retry-After: %lld\r\n", (long long)(back < 60 ? 60 : back));
    }
    rfc3339(ws, s, sizeof s);
    rfc3339(we, e, sizeof e);
    snprintf(b, sizeof b, "{\"suggestedWindow\":{\"start\":\"%s\",\"end\":\"%s\"}}", s, e);
    respond(d, c, 200, "application/json", ra, b);
}

static void answer_dir(fca_dev_t *d, fca_conn_t *c)
{
    respond(d, c, 200, "application/json", NULL,
            d->ca->ari != FCA_ARI_OFF
                ? "{\"newNonce\":\"" FCA_BASE "/nonce\",\"newAccount\":\"" FCA_BASE
                  "/acct\",\"newOrder\":\"" FCA_BASE "/order\",\"renewalInfo\":\"" FCA_BASE
                  "/ari\"}"
                : "{\"newNonce\":\"" FCA_BASE "/nonce\",\"newAccount\":\"" FCA_BASE
                  "/acct\",\"newOrder\":\"" FCA_BASE "/order\"}");
}

#define ORDER_BODY(st, extra)                                                                      \
    "{\"status\":\"" st "\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"dev.test\"}],"          \
    "\"authorizations\":[\"" FCA_BASE "/authz/1\"],\"finalize\":\"" FCA_BASE "/fin/1\"" extra "}"

static uint64_t xs(fca_dev_t *d);

/* Over its capacity in this minute: 503 and a Retry-After in [60, 600]. */
static bool busy(fca_dev_t *d, fca_conn_t *c)
{
    fca_ca_t *ca = d->ca;
    uint64_t m = ca->clk->ms / 60000U;
    char ra[48];
    if (ca->cap_per_min == 0U || ca->per_min == NULL || m >= ca->n_min ||
        ca->per_min[m] <= ca->cap_per_min) {
        return false;
    }
    snprintf(ra, sizeof ra, "Retry-After: %u\r\n", (unsigned)(60U + (xs(d) >> 33) % 541U));
    problem(d, c, 503, "serverInternal", ra);
    ca->busy++;
    return true;
}

static void answer_order(fca_dev_t *d, fca_conn_t *c)
{
    fca_ca_t *ca = d->ca;
    if (busy(d, c)) {
        return;
    }
    if (ca->rl_orders > 0U) {
        char ra[48] = "";
        ca->rl_orders--;
        if (ca->rl_retry_s != 0U) {
            snprintf(ra, sizeof ra, "Retry-After: %u\r\n", (unsigned)ca->rl_retry_s);
        }
        problem(d, c, 429, "rateLimited", ra);
        return;
    }
    d->authz_valid = 0;
    respond(d, c, 201, "application/json", "Location: " FCA_BASE "/order/1\r\n",
            ORDER_BODY("pending", ""));
}

static void answer_authz(fca_dev_t *d, fca_conn_t *c)
{
    respond(d, c, 200, "application/json", NULL,
            d->authz_valid
                ? "{\"status\":\"valid\",\"identifier\":{\"type\":\"dns\",\"value\":\"dev.test\"},"
                  "\"challenges\":[{\"type\":\"http-01\",\"url\":\"" FCA_BASE
                  "/chall/1\",\"token\":\"tok_abcdefghijklmnop\",\"status\":\"valid\"}]}"
                : "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":"
                  "\"dev.test\"},\"challenges\":[{\"type\":\"http-01\",\"url\":\"" FCA_BASE
                  "/chall/1\",\"token\":\"tok_abcdefghijklmnop\",\"status\":\"pending\"}]}");
}

static int route(fca_dev_t *d, fca_conn_t *c, const char *method, const char *t)
{
    if (strcmp(t, "/dir") == 0) {
        answer_dir(d, c);
        return P_DIR;
    }
    if (strcmp(t, "/nonce") == 0) {
        respond(d, c, 200, NULL, "Cache-Control: no-store\r\n", NULL);
        return P_NONCE;
    }
    if (strncmp(t, "/ari/", 5) == 0 && d->ca->ari != FCA_ARI_OFF) {
        answer_ari(d, c);
        return P_ARI;
    }
    if (strcmp(method, "POST") != 0) {
        problem(d, c, 405, "malformed", NULL);
        return P_OTHER;
    }
    if (strcmp(t, "/acct") == 0) {
        respond(d, c, 200, "application/json", "Location: " FCA_BASE "/acct/1\r\n",
                "{\"status\":\"valid\"}");
        return P_ACCT;
    }
    if (strcmp(t, "/order") == 0) {
        answer_order(d, c);
        return P_ORDER;
    }
    if (strcmp(t, "/authz/1") == 0) {
        answer_authz(d, c);
        return P_AUTHZ;
    }
    if (strcmp(t, "/chall/1") == 0) {
        d->authz_valid = 1;
        respond(d, c, 200, "application/json", NULL,
                "{\"type\":\"http-01\",\"url\":\"" FCA_BASE
                "/chall/1\",\"token\":\"tok_abcdefghijklmnop\",\"status\":\"processing\"}");
        return P_CHALL;
    }
    if (strcmp(t, "/fin/1") == 0) {
        issue(d);
        respond(d, c, 200, "application/json", "Location: " FCA_BASE "/order/1\r\n",
                ORDER_BODY("valid", ",\"certificate\":\"" FCA_BASE "/cert/1\""));
        return P_FIN;
    }
    if (strcmp(t, "/cert/1") == 0) {
        char body[1300];
        memcpy(body, d->chain, d->chain_len);
        body[d->chain_len] = '\0';
        respond(d, c, 200, "application/pem-certificate-chain", NULL, body);
        return P_CERT;
    }
    problem(d, c, 404, "malformed", NULL);
    return P_OTHER;
}

/* Answer every whole request in c->in. */
static void serve(fca_dev_t *d, fca_conn_t *c)
{
    for (;;) {
        char method[8], target[256];
        size_t head, cl = 0;
        const char *h;
        char *end;
        c->in[c->in_len < FCA_IO ? c->in_len : FCA_IO - 1U] = '\0';
        end = strstr((char *)c->in, "\r\n\r\n");
        if (end == NULL) {
            return;
        }
        head = (size_t)(end - (char *)c->in) + 4U;
        h = strstr((char *)c->in, "\r\nContent-Length: ");
        if (h != NULL && h < end) {
            cl = (size_t)strtoul(h + 18, NULL, 10);
        }
        if (c->in_len < head + cl) {
            return;
        }
        if (sscanf((char *)c->in, "%7s %255s", method, target) != 2) {
            abort();
        }
        d->ca->requests++;
        d->requests++;
        fca_count(d->ca, d->ca->per_min);
        d->ca->by_path[route(d, c, method, target)]++;
        memmove(c->in, c->in + head + cl, c->in_len - head - cl);
        c->in_len -= head + cl;
    }
}

/* ---- the transport ------------------------------------------------------------------ */

static fca_conn_t *conn_of(fca_dev_t *d, picoacme_sock_t s)
{
    if (s < 1 || s > FCA_CONNS || !d->conn[s - 1].used) {
        abort();
    }
    return &d->conn[s - 1];
}

static picoacme_err_t t_connect(void *user, const char *host, uint16_t port, picoacme_sock_t *sock)
{
    fca_dev_t *d = user;
    (void)port;
    for (int i = 0; i < FCA_CONNS; i++) {
        if (!d->conn[i].used) {
            bool down =
                d->ca->down && (d->ca->down_host == NULL || strcmp(host, d->ca->down_host) == 0);
            memset(&d->conn[i], 0, offsetof(fca_conn_t, in));
            d->conn[i].used = true;
            snprintf(d->conn[i].host, sizeof d->conn[i].host, "%s", host);
            d->conn[i].refused = down;
            if (down) {
                d->ca->refused++;
                fca_count(d->ca, d->ca->refused_per_min);
            }
            *sock = (picoacme_sock_t)(i + 1);
            return PICOACME_OK;
        }
    }
    return PICOACME_ERR_IO;
}

static picoacme_err_t t_send(void *user, picoacme_sock_t sock, const uint8_t *buf, size_t len,
                             size_t *sent)
{
    fca_dev_t *d = user;
    fca_conn_t *c = conn_of(d, sock);
    if (c->refused) {
        return PICOACME_ERR_IO;
    }
    if (len > FCA_IO - 1U - c->in_len) {
        len = FCA_IO - 1U - c->in_len;
    }
    memcpy(c->in + c->in_len, buf, len);
    c->in_len += len;
    *sent = len;
    serve(d, c);
    return PICOACME_OK;
}

static picoacme_err_t t_recv(void *user, picoacme_sock_t sock, uint8_t *buf, size_t len,
                             size_t *received)
{
    fca_dev_t *d = user;
    fca_conn_t *c = conn_of(d, sock);
    size_t n = c->out_len - c->out_off;
    if (c->refused) {
        return PICOACME_ERR_IO;
    }
    if (n == 0U) {
        return PICOACME_WANT_READ;
    }
    if (n > len) {
        n = len;
    }
    memcpy(buf, c->out + c->out_off, n);
    c->out_off += n;
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
    }
    *received = n;
    return PICOACME_OK;
}

static void t_close(void *user, picoacme_sock_t sock)
{
    fca_dev_t *d = user;
    conn_of(d, sock)->used = false;
}

/* ---- crypto (fake: fixed keys, no signatures) ------------------------------------------ */

static uint64_t xs(fca_dev_t *d)
{
    uint64_t x = d->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d->rng = x;
    return x;
}

static picoacme_err_t c_random(void *user, uint8_t *buf, size_t len)
{
    fca_dev_t *d = user;
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(xs(d) >> 32);
    }
    return PICOACME_OK;
}

static picoacme_err_t c_sha(void *user, const picoacme_iov_t *iov, size_t n, uint8_t out[32])
{
    uint64_t h = 1469598103934665603ULL;
    (void)user;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < iov[i].len; j++) {
            h = (h ^ iov[i].ptr[j]) * 1099511628211ULL;
        }
    }
    for (int i = 0; i < 32; i++) {
        out[i] = (uint8_t)(h >> (8 * (i % 8)));
    }
    return PICOACME_OK;
}

static picoacme_err_t c_hmac(void *user, const uint8_t *key, size_t kl, const picoacme_iov_t *iov,
                             size_t n, uint8_t out[32])
{
    (void)key;
    (void)kl;
    return c_sha(user, iov, n, out);
}

static picoacme_err_t c_gen(void *user, picoacme_key_slot_t slot)
{
    (void)user;
    (void)slot;
    return PICOACME_OK;
}

static picoacme_err_t c_pub(void *user, picoacme_key_slot_t slot, uint8_t pub[64])
{
    fca_dev_t *d = user;
    (void)slot;
    memcpy(pub, d->ca->pub, 64);
    return PICOACME_OK;
}

static picoacme_err_t c_sign(void *user, picoacme_key_slot_t slot, const uint8_t dg[32],
                             uint8_t sig[64])
{
    (void)user;
    (void)slot;
    memcpy(sig, dg, 32);
    memcpy(sig + 32, dg, 32);
    return PICOACME_OK;
}

static picoacme_err_t c_export(void *user, picoacme_key_slot_t slot, uint8_t priv[32])
{
    (void)user;
    memset(priv, 0x40 + (int)slot, 32);
    return PICOACME_OK;
}

static picoacme_err_t c_import(void *user, picoacme_key_slot_t slot, const uint8_t priv[32])
{
    (void)user;
    (void)slot;
    (void)priv;
    return PICOACME_OK;
}

/* ---- RAM flash ------------------------------------------------------------------------- */

static bool flash_spend(fca_flash_t *f, size_t n)
{
    if (f->dead) {
        return false;
    }
    if (f->cut_after_bytes >= 0) {
        if ((long long)n > f->cut_after_bytes) {
            f->dead = true;
            return false;
        }
        f->cut_after_bytes -= (long long)n;
    }
    return true;
}

static picoacme_err_t f_read(void *user, size_t off, uint8_t *buf, size_t len)
{
    fca_flash_t *f = user;
    if (f->dead || off + len > f->size) {
        return PICOACME_ERR_STORAGE;
    }
    memcpy(buf, f->mem + off, len);
    return PICOACME_OK;
}

static picoacme_err_t f_write(void *user, size_t off, const uint8_t *buf, size_t len)
{
    fca_flash_t *f = user;
    if (off + len > f->size) {
        return PICOACME_ERR_STORAGE;
    }
    for (size_t i = 0; i < len; i++) {
        if (!flash_spend(f, 1U)) {
            return PICOACME_ERR_STORAGE;
        }
        f->mem[off + i] &= buf[i];
    }
    return PICOACME_OK;
}

static picoacme_err_t f_erase(void *user, size_t off, size_t len)
{
    fca_flash_t *f = user;
    if (off + len > f->size || !flash_spend(f, len)) {
        return PICOACME_ERR_STORAGE;
    }
    memset(f->mem + off, 0xFF, len);
    return PICOACME_OK;
}

/* ---- the clock ---------------------------------------------------------------------------- */

static int64_t k_wall(void *user)
{
    fca_dev_t *d = user;
    return d->rtc ? fca_wall(d->ca->clk) : PICOACME_TIME_UNKNOWN;
}

static uint32_t k_mono(void *user)
{
    fca_dev_t *d = user;
    return d->mono_base + (uint32_t)d->ca->clk->ms;
}

/* ---- devices ------------------------------------------------------------------------------ */

static void flash_port(fca_flash_t *f, uint8_t *mem, size_t size, size_t erase,
                       picoacme_storage_t *st)
{
    f->mem = mem;
    f->size = size;
    f->cut_after_bytes = -1;
    f->dead = false;
    memset(mem, 0xFF, size);
    st->user = f;
    st->size = size;
    st->erase_size = erase;
    st->read = f_read;
    st->write = f_write;
    st->erase = f_erase;
}

void fca_dev_init(fca_dev_t *d, fca_ca_t *ca, uint64_t seed, bool rtc)
{
    memset(d, 0, offsetof(fca_dev_t, conn));
    for (int i = 0; i < FCA_CONNS; i++) {
        d->conn[i].used = false;
    }
    d->ca = ca;
    d->rtc = rtc;
    d->rng = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    d->mono_base = (uint32_t)xs(d);
    flash_port(&d->flash, d->flash_mem, FCA_FLASH, FCA_ERASE, &d->storage);
    flash_port(&d->sflash, d->sflash_mem, FCA_SFLASH, FCA_SERASE, &d->state_storage);
    d->tp = (picoacme_transport_t){
        .user = d, .connect = t_connect, .send = t_send, .recv = t_recv, .close = t_close};
    d->crypto = (picoacme_crypto_t){.user = d,
                                    .random = c_random,
                                    .sha256 = c_sha,
                                    .hmac_sha256 = c_hmac,
                                    .key_generate = c_gen,
                                    .key_public = c_pub,
                                    .key_sign = c_sign,
                                    .key_export = c_export,
                                    .key_import = c_import};
    d->clock = (picoacme_clock_t){.user = d, .wall_s = k_wall, .mono_ms = k_mono};
    d->ports = (picoacme_ports_t){
        .transport = &d->tp, .crypto = &d->crypto, .storage = &d->storage, .clock = &d->clock};
}

void fca_dev_reboot(fca_dev_t *d)
{
    for (int i = 0; i < FCA_CONNS; i++) {
        d->conn[i].used = false;
    }
    d->mono_base = (uint32_t)xs(d);
    d->flash.dead = false;
    d->flash.cut_after_bytes = -1;
    d->sflash.dead = false;
    d->sflash.cut_after_bytes = -1;
}
