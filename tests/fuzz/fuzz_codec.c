/*
 * fuzz_codec.c - libFuzzer target for the small writers and codecs the
 * engine only ever calls with well-sized buffers and checked arguments:
 * the JSON writer (json_write.c), IP address text and reverse names (ip.c),
 * the error names (err.c), the HTTP request head (http_write.c), the DNS
 * query and UPDATE (dns_msg.c) and JWS/JWK (jws.c). Here every one is
 * called with buffers of every size, arguments the engine never passes and
 * crypto that fails, and its output is checked against an independent side:
 *
 *   byte 0   the module (byte 0 % 6) and flags for it (byte 0 / 6)
 *   byte 1   the capacity of the output buffer (0..255, or 256.. with flags)
 *   rest     the module's input
 *
 * Invariants (abort on a broken one):
 *   - JSON writer: a program run into a small buffer gives the same bytes
 *     as into a large one, or NOSPACE exactly when they do not fit; a
 *     well-formed program's output parses (json_read.c) to as many tokens
 *     as were written; the buffer is always NUL-terminated;
 *   - IP text: picoacme_ip_parse agrees with glibc's inet_pton on every
 *     string (accepts the same set, same bytes), and the reverse name is
 *     the one computed here from the bytes, or NOSPACE when it is longer;
 *   - error names: every value has a non-empty name;
 *   - failover (module 2 with flag bit 0): the CA named follows a model of
 *     picoacme_failover.h's words (the max_failures-th failure in a row
 *     moves on, wrapping; a move away from the primary sets the fail-back
 *     time, which brings the primary back with a clean count);
 *   - HTTP request: a head that is written starts with the method and the
 *     path, holds the Host and ends at its only empty line (no caller
 *     string injects a header); NOSPACE exactly when it is longer than cap;
 *   - DNS query/UPDATE: the length is the header, the names' wire forms and
 *     the fixed fields; NOSPACE exactly when longer than cap; a failing
 *     HMAC is reported as such;
 *   - JWS: the output parses as {"protected","payload","signature"} whose
 *     parts decode to the bytes given and a 64/32-byte signature; NOSPACE
 *     exactly when too long; a failing hash, signature or key is reported.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_alpn.h"
#include "picoacme_b64.h"
#include "picoacme_dns.h"
#include "picoacme_err.h"
#include "picoacme_failover.h"
#include "picoacme_http.h"
#include "picoacme_json.h"
#include "picoacme_jws.h"
#include "picoacme_x509.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define BIG 8192U

static char g_small[BIG];
static char g_big[BIG];
static uint8_t g_msg[BIG];
static uint8_t g_msg2[BIG];
static picoacme_json_tok_t g_tok[600];

/* ---- a byte reader over the input -------------------------------------- */
typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd_t;

static unsigned rd_u8(rd_t *r)
{
    if (r->n == 0U) {
        return 0;
    }
    r->n--;
    return *r->p++;
}

/* A NUL-terminated string of up to max bytes (a length byte, then bytes;
 * NULs inside are replaced so the C string is whole). */
static size_t rd_str(rd_t *r, char *out, size_t max)
{
    size_t len = rd_u8(r);
    if (len > max) {
        len = max;
    }
    if (len > r->n) {
        len = r->n;
    }
    for (size_t i = 0; i < len; i++) {
        out[i] = r->p[i] == 0U ? 'x' : (char)r->p[i];
    }
    out[len] = '\0';
    r->p += len;
    r->n -= len;
    return len;
}

/* ---- fake crypto: deterministic, fails on request ----------------------- */
static unsigned g_fail; /* bit 0 sha256, 1 hmac, 2 key_public, 3 key_sign */

static void mix(const picoacme_iov_t *iov, size_t cnt, uint8_t out[32], uint8_t seed)
{
    memset(out, seed, 32);
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++) {
        for (size_t j = 0; j < iov[i].len; j++, k++) {
            out[k % 32U] = (uint8_t)(out[k % 32U] * 31U + iov[i].ptr[j]);
        }
    }
}

static picoacme_err_t f_sha256(void *u, const picoacme_iov_t *iov, size_t cnt, uint8_t out[32])
{
    (void)u;
    if (g_fail & 1U) {
        return PICOACME_ERR_CRYPTO;
    }
    mix(iov, cnt, out, 1);
    return PICOACME_OK;
}

static picoacme_err_t f_hmac(void *u, const uint8_t *key, size_t key_len, const picoacme_iov_t *iov,
                             size_t cnt, uint8_t out[32])
{
    (void)u;
    if (g_fail & 2U) {
        return PICOACME_ERR_CRYPTO;
    }
    mix(iov, cnt, out, (uint8_t)(key_len == 0U ? 0U : key[0]));
    return PICOACME_OK;
}

static picoacme_err_t f_public(void *u, picoacme_key_slot_t slot, uint8_t pub[64])
{
    (void)u;
    if (g_fail & 4U) {
        return PICOACME_ERR_CRYPTO;
    }
    memset(pub, 0x40 + (int)slot, 64);
    return PICOACME_OK;
}

static picoacme_err_t f_sign(void *u, picoacme_key_slot_t slot, const uint8_t d[32],
                             uint8_t sig[64])
{
    (void)u;
    if (g_fail & 8U) {
        return PICOACME_ERR_CRYPTO;
    }
    memcpy(sig, d, 32);
    memset(sig + 32, (int)slot, 32);
    return PICOACME_OK;
}

static const picoacme_crypto_t g_crypto = {
    .sha256 = f_sha256, .hmac_sha256 = f_hmac, .key_public = f_public, .key_sign = f_sign};

/* ---- JSON writer ---------------------------------------------------------- */
static const char *const g_raw[] = {"null", "-1.5e3", "{}", "[true,false]", "\"r\""};

typedef struct jprog {
    picoacme_jw_t w;
    int tokens;      /* tokens a parser makes of the output */
    bool wellformed; /* the calls form one JSON document */
    uint8_t stack[40];
    size_t depth;
    bool want_value; /* in an object, after a key */
    bool done;       /* the top-level value is complete */
} jprog_t;

/* Before a value: inside an object only after a key, at the top only once. */
static void jp_value(jprog_t *p)
{
    p->tokens++;
    if (p->done || (p->depth > 0U && p->stack[p->depth - 1U] == '{' && !p->want_value)) {
        p->wellformed = false;
    }
    p->want_value = false;
    if (p->depth == 0U) {
        p->done = true;
    }
}

/* A scalar value: the reader takes only an object or array as a document. */
static void jp_scalar(jprog_t *p)
{
    if (p->depth == 0U) {
        p->wellformed = false;
    }
    jp_value(p);
}

static void jp_open(jprog_t *p, char c)
{
    jp_value(p);
    p->done = false;
    if (p->depth < sizeof p->stack) {
        p->stack[p->depth++] = (uint8_t)c;
    } else {
        p->wellformed = false;
    }
}

static void jp_close(jprog_t *p, char c)
{
    if (p->depth == 0U) {
        p->wellformed = false; /* the writer stops with PARAM */
        return;
    }
    if (p->stack[p->depth - 1U] != (uint8_t)c || p->want_value) {
        p->wellformed = false; /* the writer does not check the kind */
    }
    p->depth--;
    p->want_value = false;
    if (p->depth == 0U) {
        p->done = true;
    }
}

static void jp_key(jprog_t *p)
{
    if (p->depth == 0U || p->stack[p->depth - 1U] != '{' || p->want_value) {
        p->wellformed = false;
    }
    p->tokens++;
    p->want_value = true;
}

/* A string of up to max ASCII bytes: the writer passes bytes >= 0x80 as
 * they are, and the reader rejects what is not UTF-8 (fuzz_json checks
 * strings that are). */
static size_t rd_ascii(rd_t *r, char *out, size_t max)
{
    size_t n = rd_str(r, out, max);
    for (size_t i = 0; i < n; i++) {
        out[i] = (char)((unsigned char)out[i] & 0x7FU);
        if (out[i] == '\0') {
            out[i] = 'y';
        }
    }
    return n;
}

/* One writer call from the input; model the document it makes. */
static void jw_op(jprog_t *p, rd_t *r)
{
    char s[64];
    unsigned op = rd_u8(r) % 12U;
    size_t n;
    switch (op) {
    case 0:
        jp_open(p, '{');
        picoacme_jw_obj_begin(&p->w);
        break;
    case 1:
        jp_close(p, '{');
        picoacme_jw_obj_end(&p->w);
        break;
    case 2:
        jp_open(p, '[');
        picoacme_jw_arr_begin(&p->w);
        break;
    case 3:
        jp_close(p, '[');
        picoacme_jw_arr_end(&p->w);
        break;
    case 4:
        rd_ascii(r, s, 40);
        jp_key(p);
        picoacme_jw_key(&p->w, s);
        break;
    case 5:
        n = rd_ascii(r, s, 63);
        jp_scalar(p);
        picoacme_jw_str(&p->w, s, n);
        break;
    case 6:
        jp_scalar(p);
        picoacme_jw_bool(&p->w, (rd_u8(r) & 1U) != 0U);
        break;
    case 7: {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | rd_u8(r);
        }
        jp_scalar(p);
        picoacme_jw_int(&p->w, (int64_t)v);
        break;
    }
    case 8: {
        const char *lit = g_raw[rd_u8(r) % 5U];
        if (lit[0] == '{' || lit[0] == '[') {
            jp_value(p);
        } else {
            jp_scalar(p);
        }
        /* a raw value is one token for the parser only when it is scalar */
        p->tokens += (lit[0] == '{') ? 0 : (lit[0] == '[') ? 2 : 0;
        picoacme_jw_raw(&p->w, lit, strlen(lit));
        break;
    }
    case 9:
        jp_scalar(p);
        picoacme_jw_str(&p->w, NULL, 0);
        break;
    case 10: /* argument errors: they stop the writer with PARAM */
        p->wellformed = false;
        switch (rd_u8(r) % 3U) {
        case 0: picoacme_jw_key(&p->w, NULL); break;
        case 1: picoacme_jw_str(&p->w, NULL, 1); break;
        default: picoacme_jw_raw(&p->w, NULL, 1); break;
        }
        break;
    default: /* nothing but the comma: not a document */
        jp_value(p);
        p->wellformed = false;
        picoacme_jw_raw(&p->w, NULL, 0);
        break;
    }
}

static void run_jw(jprog_t *p, char *buf, size_t cap, const uint8_t *data, size_t size)
{
    rd_t r = {data, size};
    memset(p, 0, sizeof *p);
    p->wellformed = true;
    picoacme_jw_init(&p->w, buf, cap);
    while (r.n > 0U) {
        jw_op(p, &r);
    }
}

static void fuzz_jw(size_t cap, const uint8_t *data, size_t size)
{
    static jprog_t small, big;
    size_t ls = 0, lb = 0;
    picoacme_json_t j;

    run_jw(&small, g_small, cap, data, size);
    run_jw(&big, g_big, sizeof g_big, data, size);
    picoacme_err_t es = picoacme_jw_finish(&small.w, &ls);
    picoacme_err_t eb = picoacme_jw_finish(&big.w, &lb);
    if (cap == 0U) {
        CHECK(es == PICOACME_ERR_PARAM);
        return;
    }
    CHECK(g_small[small.w.len] == '\0' && small.w.len < cap);
    if (es == PICOACME_OK) {
        CHECK(eb == PICOACME_OK && ls == lb && memcmp(g_small, g_big, ls) == 0);
    }
    if (eb == PICOACME_OK && lb < cap) {
        CHECK(es == PICOACME_OK);
    }
    if (eb == PICOACME_OK && lb >= cap) {
        CHECK(es == PICOACME_ERR_NOSPACE);
    }
    if (eb != PICOACME_OK) {
        CHECK(ls == 0 && es != PICOACME_OK);
    }
    if (big.wellformed && big.done && eb == PICOACME_OK) {
        picoacme_err_t ep = picoacme_json_parse(&j, g_big, lb, g_tok, 600);
        CHECK(ep == (big.tokens <= 600 ? PICOACME_OK : PICOACME_ERR_NOSPACE));
        CHECK(ep != PICOACME_OK || j.count == big.tokens);
    }
    if (eb == PICOACME_OK && big.depth > 0U) {
        CHECK(0); /* an open container is never finished */
    }
}

/* ---- IP text ---------------------------------------------------------------- */
static void fuzz_ip(size_t cap, const uint8_t *data, size_t size)
{
    char s[80], ref_in[80], name[128], want[128];
    uint8_t a[16], ref[16];
    size_t alen = 9, nlen = 9, len = size < 79U ? size : 79U;

    memcpy(s, data, len);
    s[len] = '\0';
    picoacme_err_t e = picoacme_ip_parse(s, len, a, &alen);
    /* glibc's inet_pton on the same text (a NUL inside ends its string) */
    memcpy(ref_in, s, len + 1U);
    bool nul = strlen(ref_in) != len;
    int v4 = inet_pton(AF_INET, ref_in, ref);
    int v6 = v4 == 1 ? 0 : inet_pton(AF_INET6, ref_in, ref);
    if (e == PICOACME_OK) {
        CHECK(!nul && (alen == 4U ? v4 == 1 : (alen == 16U && v6 == 1)));
        CHECK(memcmp(a, ref, alen) == 0);
    } else {
        CHECK(e == PICOACME_ERR_PARSE && alen == 0U);
        CHECK(nul || (v4 != 1 && v6 != 1));
    }

    picoacme_err_t er = picoacme_reverse_name(s, len, name, cap, &nlen);
    if (e != PICOACME_OK) {
        CHECK(er == PICOACME_ERR_PARSE && nlen == 0U);
        return;
    }
    size_t n = 0;
    for (size_t i = alen; i > 0U; i--) {
        if (alen == 4U) {
            n += (size_t)snprintf(want + n, sizeof want - n, "%u.", a[i - 1U]);
        } else {
            n += (size_t)snprintf(want + n, sizeof want - n, "%x.%x.", a[i - 1U] & 15U,
                                  a[i - 1U] >> 4);
        }
    }
    n +=
        (size_t)snprintf(want + n, sizeof want - n, "%s", alen == 4U ? "in-addr.arpa" : "ip6.arpa");
    if (n < cap) {
        CHECK(er == PICOACME_OK && nlen == n && strcmp(name, want) == 0);
    } else {
        CHECK(er == PICOACME_ERR_NOSPACE && nlen == 0U);
    }
}

/* ---- HTTP request head ------------------------------------------------------- */
static void fuzz_http_req(size_t cap, unsigned flags, const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "GE", "G\r\nX: y", ""};
    char urlbuf[256], accept[64], ctype[64];
    picoacme_url_t url;
    rd_t r = {data, size};
    size_t ul = rd_str(&r, urlbuf, 255), n = 7, n2 = 0;
    const char *method = methods[rd_u8(&r) % 6U];
    rd_str(&r, accept, 63);
    rd_str(&r, ctype, 63);
    size_t body = rd_u8(&r) * 1000U + rd_u8(&r);
    if (flags & 1U) {
        body = (size_t)UINT32_MAX + 1U;
    }
    if (picoacme_url_parse(urlbuf, ul, &url) != PICOACME_OK) {
        /* a URL the caller built by hand, its host and path as given */
        url.https = (flags & 2U) != 0U;
        url.host = urlbuf;
        url.host_len = ul / 2U;
        url.path = urlbuf + ul / 2U;
        url.path_len = ul - ul / 2U;
        url.port = (uint16_t)(body & 0xFFFFU);
    }
    const char *acc = (flags & 4U) ? NULL : accept;
    const char *ct = (flags & 8U) ? NULL : ctype;
    picoacme_err_t eb =
        picoacme_http_request(g_msg2, sizeof g_msg2, &n2, method, &url, acc, ct, body);
    picoacme_err_t e = picoacme_http_request(g_msg, cap, &n, method, &url, acc, ct, body);
    if (eb != PICOACME_OK) {
        CHECK(eb == PICOACME_ERR_PARAM && e == eb && n == 7U);
        return;
    }
    /* the head: the method and path, Host, and only one empty line */
    size_t ml = strlen(method);
    CHECK(n2 > ml + url.path_len && memcmp(g_msg2, method, ml) == 0 && g_msg2[ml] == ' ');
    CHECK(memcmp(g_msg2 + ml + 1U, url.path, url.path_len) == 0);
    CHECK(memcmp(g_msg2 + n2 - 4U, "\r\n\r\n", 4) == 0);
    for (size_t i = 0; i + 4U < n2; i++) {
        CHECK(memcmp(g_msg2 + i, "\r\n\r\n", 4) != 0);
        CHECK(g_msg2[i] != '\0' && (g_msg2[i] != '\n' || (i > 0U && g_msg2[i - 1U] == '\r')));
    }
    CHECK(memmem(g_msg2, n2, "\r\nHost: ", 8) != NULL);
    if (n2 <= cap) {
        CHECK(e == PICOACME_OK && n == n2 && memcmp(g_msg, g_msg2, n) == 0);
    } else {
        CHECK(e == PICOACME_ERR_NOSPACE && n == 7U);
    }
}

/* ---- DNS query and UPDATE ----------------------------------------------------- */
/* The wire length of a name as dns_msg.c writes it, 0 when it cannot. */
static size_t wire_len(const char *name)
{
    size_t n = strlen(name), total = 1, label = 0;
    if (n > 0U && name[n - 1U] == '.') {
        n--;
    }
    if (n == 0U) {
        return 1;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i == n || name[i] == '.') {
            if (label == 0U || label > 63U) {
                return 0;
            }
            total += label + 1U;
            label = 0;
        } else {
            if ((unsigned char)name[i] <= 0x20U || (unsigned char)name[i] >= 0x7FU ||
                name[i] == '\\') {
                return 0;
            }
            label++;
        }
    }
    return total > 255U ? 0U : total;
}

static void fuzz_dns_msg(size_t cap, unsigned flags, const uint8_t *data, size_t size)
{
    static char txt[1200];
    char zone[300], owner[300], keyname[300];
    uint8_t secret[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mac[32];
    rd_t r = {data, size};
    size_t n = 5, n2 = 0;

    rd_str(&r, zone, 255);
    uint16_t id = (uint16_t)(rd_u8(&r) << 8 | rd_u8(&r));
    if ((flags & 1U) == 0U) {
        uint16_t qtype = (uint16_t)rd_u8(&r);
        picoacme_err_t e = picoacme_dns_query(g_msg, cap, &n, id, zone, qtype);
        size_t w = wire_len(zone);
        if (w == 0U) {
            CHECK(e == PICOACME_ERR_PARAM && n == 0U);
        } else if (12U + w + 4U <= cap) {
            CHECK(e == PICOACME_OK && n == 12U + w + 4U && g_msg[0] == id >> 8 &&
                  g_msg[1] == (id & 0xFFU));
        } else {
            CHECK(e == PICOACME_ERR_NOSPACE && n == 0U);
        }
        return;
    }
    rd_str(&r, owner, 255);
    rd_str(&r, keyname, 80);
    size_t tl = rd_u8(&r) * 4U;
    for (size_t i = 0; i < tl; i++) {
        txt[i] = (char)('a' + i % 26U);
    }
    txt[tl] = '\0';
    g_fail = (flags >> 1) & 2U;
    picoacme_tsig_key_t key = {keyname, secret, (flags & 8U) ? 0U : sizeof secret};
    int64_t now = (flags & 16U) ? -1 : (int64_t)rd_u8(&r) << 40;
    bool add = (rd_u8(&r) & 1U) != 0U;
    picoacme_err_t eb = picoacme_dns_update(g_msg2, sizeof g_msg2, &n2, id, zone, owner, txt, 300,
                                            add, &key, now, &g_crypto, mac);
    picoacme_err_t e = picoacme_dns_update(g_msg, cap, &n, id, zone, owner, txt, 300, add, &key,
                                           now, &g_crypto, mac);
    g_fail = 0;
    size_t wz = wire_len(zone), wo = wire_len(owner), wk = wire_len(keyname);
    if (now < 0) {
        CHECK(eb == PICOACME_ERR_PARAM);
    } else if (wz == 0U || wo == 0U) {
        CHECK(eb == PICOACME_ERR_PARAM && n2 == 0U);
    } else if (eb == PICOACME_OK) {
        size_t rd = tl + (tl == 0U ? 1U : (tl + 254U) / 255U);
        /* header, zone, owner RR, TSIG: name, type..rdlen, algorithm
         * (hmac-sha256.), time, fudge, MAC, id, error, other len */
        size_t want =
            12U + wz + 4U + wo + 10U + rd + wk + 10U + 13U + 6U + 2U + 2U + 32U + 2U + 2U + 2U;
        CHECK(wk != 0U && n2 == want);
        if (want <= cap) {
            CHECK(e == PICOACME_OK && n == n2 && memcmp(g_msg, g_msg2, n) == 0);
        } else {
            CHECK(e == PICOACME_ERR_NOSPACE || e == PICOACME_ERR_PARAM);
        }
    } else {
        CHECK(e != PICOACME_OK && n == 0U);
        CHECK(eb == PICOACME_ERR_CRYPTO || eb == PICOACME_ERR_PARAM);
    }
}

/* ---- JWS and JWK ---------------------------------------------------------------- */
static void check_part(const picoacme_json_t *j, const char *key, const uint8_t *want, size_t len)
{
    static char enc[BIG];
    static uint8_t dec[BIG];
    size_t el = 0, dl = 0;
    CHECK(picoacme_json_get_string(j, 0, key, enc, sizeof enc, &el) == PICOACME_OK);
    CHECK(picoacme_b64url_decode(enc, el, dec, sizeof dec, &dl) == PICOACME_OK);
    CHECK(dl == len && (len == 0U || memcmp(dec, want, len) == 0));
}

static void fuzz_jws(size_t cap, unsigned flags, const uint8_t *data, size_t size)
{
    static char prot[300], pay[300];
    uint8_t sig[64];
    rd_t r = {data, size};
    size_t pl = rd_str(&r, prot, 255), yl = rd_str(&r, pay, 255), n = 3, n2 = 0;
    unsigned fail = rd_u8(&r) & 15U;
    bool hs = (flags & 1U) != 0U;
    const char *payload = (flags & 2U) && !hs ? NULL : pay;
    size_t ylen = payload == NULL ? 0U : yl;
    picoacme_json_t j;

    g_fail = fail;
    picoacme_err_t eb = hs ? picoacme_jws_hs256(&g_crypto, (const uint8_t *)"k", 1, prot, pl,
                                                payload, ylen, g_big, sizeof g_big, &n2)
                           : picoacme_jws_es256(&g_crypto, PICOACME_KEY_ACCOUNT, prot, pl, payload,
                                                ylen, g_big, sizeof g_big, &n2);
    picoacme_err_t e = hs ? picoacme_jws_hs256(&g_crypto, (const uint8_t *)"k", 1, prot, pl,
                                               payload, ylen, g_small, cap, &n)
                          : picoacme_jws_es256(&g_crypto, PICOACME_KEY_ACCOUNT, prot, pl, payload,
                                               ylen, g_small, cap, &n);
    bool fails = hs ? (fail & 2U) != 0U : (fail & 9U) != 0U;
    if (fails) {
        CHECK(eb == PICOACME_ERR_CRYPTO);
        CHECK(e == PICOACME_ERR_CRYPTO || e == PICOACME_ERR_NOSPACE);
    } else {
        CHECK(eb == PICOACME_OK);
        CHECK(picoacme_json_parse(&j, g_big, n2, g_tok, 600) == PICOACME_OK && j.count == 7);
        check_part(&j, "protected", (const uint8_t *)prot, pl);
        check_part(&j, "payload", (const uint8_t *)pay, ylen);
        size_t sl = 0;
        char enc[100];
        CHECK(picoacme_json_get_string(&j, 0, "signature", enc, sizeof enc, &sl) == PICOACME_OK);
        CHECK(picoacme_b64url_decode(enc, sl, sig, sizeof sig, &sl) == PICOACME_OK);
        CHECK(sl == (hs ? 32U : 64U));
        if (n2 <= cap) {
            CHECK(e == PICOACME_OK && n == n2 && memcmp(g_small, g_big, n) == 0);
        } else {
            CHECK(e == PICOACME_ERR_NOSPACE);
        }
    }

    /* the JWK alone and its thumbprint */
    uint8_t pub[64];
    char th[PICOACME_THUMBPRINT_LEN + 1U];
    memset(pub, (int)fail * 17, sizeof pub);
    size_t kl = 0;
    e = picoacme_jwk_write(pub, g_small, cap, &kl);
    CHECK(e == (cap >= 126U ? PICOACME_OK : PICOACME_ERR_NOSPACE));
    if (e == PICOACME_OK) {
        CHECK(kl == 126U && picoacme_json_parse(&j, g_small, kl, g_tok, 600) == PICOACME_OK);
        check_part(&j, "x", pub, 32);
    }
    e = picoacme_jwk_thumbprint(&g_crypto, PICOACME_KEY_CERT, th);
    if ((fail & 5U) != 0U) {
        CHECK(e == PICOACME_ERR_CRYPTO);
    } else {
        CHECK(e == PICOACME_OK && strlen(th) == PICOACME_THUMBPRINT_LEN);
    }
    g_fail = 0;
}

/* ---- CA failover ------------------------------------------------------------------ */
static void fuzz_failover(const uint8_t *data, size_t size)
{
    rd_t r = {data, size};
    picoacme_failover_t f;
    unsigned n = rd_u8(&r) % 5U, maxf = rd_u8(&r) % 4U, back = rd_u8(&r) * 10U;
    unsigned cur = 0, fails = 0;
    int64_t now = 1000, back_at = 0;

    picoacme_failover_init(&f, (uint8_t)n, (uint8_t)maxf, back);
    n = n == 0U ? 1U : n;
    maxf = maxf == 0U ? 1U : maxf;
    while (r.n > 0U) {
        unsigned b = rd_u8(&r);
        now += (int64_t)(b >> 1) * 7;
        uint8_t ca = picoacme_failover_ca(&f, now);
        if (cur != 0U && now >= back_at) {
            cur = 0;
            fails = 0;
        }
        CHECK(ca == cur && ca < n);
        bool ok = (b & 1U) != 0U;
        bool moved = picoacme_failover_result(&f, now, ok);
        bool want = false;
        if (ok) {
            fails = 0;
        } else if (++fails >= maxf && n >= 2U) {
            fails = 0;
            cur = (cur + 1U) % n;
            want = true;
            if (cur != 0U) {
                back_at = now + back;
            }
        }
        CHECK(moved == want && f.current == cur);
    }
    picoacme_failover_init(NULL, 1, 1, 1);
    CHECK(picoacme_failover_ca(NULL, 0) == 0U && !picoacme_failover_result(NULL, 0, false));
}

/* ---- the argument checks no engine path fails ------------------------------------ */
static void fuzz_args(void)
{
    uint8_t a[16], mac[32];
    size_t n;
    char s[8];
    picoacme_jw_t w;
    picoacme_url_t url = {false, "h", 1, 80, "/", 1};
    picoacme_tsig_key_t key = {"k", (const uint8_t *)"s", 1};

    CHECK(picoacme_ip_parse(NULL, 0, a, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_ip_parse("1", 1, NULL, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_ip_parse("1", 1, a, NULL) == PICOACME_ERR_PARAM);
    CHECK(picoacme_reverse_name(NULL, 0, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_reverse_name("1", 1, NULL, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_reverse_name("1", 1, s, 8, NULL) == PICOACME_ERR_PARAM);
    picoacme_jw_init(NULL, s, 8);
    picoacme_jw_init(&w, NULL, 8);
    CHECK(picoacme_jw_finish(&w, &n) == PICOACME_ERR_PARAM && n == 0U);
    CHECK(picoacme_jw_finish(NULL, &n) == PICOACME_ERR_PARAM);
    picoacme_jw_init(&w, s, 8);
    picoacme_jw_arr_begin(&w);
    picoacme_jw_arr_end(&w);
    CHECK(picoacme_jw_finish(&w, NULL) == PICOACME_OK);
    CHECK(picoacme_http_request(NULL, 8, &n, "GET", &url, NULL, NULL, 0) == PICOACME_ERR_PARAM);
    CHECK(picoacme_http_request(a, 8, NULL, "GET", &url, NULL, NULL, 0) == PICOACME_ERR_PARAM);
    CHECK(picoacme_http_request(a, 8, &n, NULL, &url, NULL, NULL, 0) == PICOACME_ERR_PARAM);
    CHECK(picoacme_http_request(a, 8, &n, "GET", NULL, NULL, NULL, 0) == PICOACME_ERR_PARAM);
    CHECK(picoacme_dns_query(NULL, 8, &n, 1, "a", 16) == PICOACME_ERR_PARAM);
    CHECK(picoacme_dns_query(a, 8, NULL, 1, "a", 16) == PICOACME_ERR_PARAM);
    CHECK(picoacme_dns_update(a, 8, &n, 1, "a", "a", NULL, 1, true, &key, 0, &g_crypto, mac) ==
          PICOACME_ERR_PARAM);
    CHECK(picoacme_dns_update(a, 8, &n, 1, "a", "a", "t", 1, true, &key, 0, &g_crypto, NULL) ==
          PICOACME_ERR_PARAM);
    CHECK(picoacme_dns_update(NULL, 8, &n, 1, "a", "a", "t", 1, true, &key, 0, &g_crypto, mac) ==
          PICOACME_ERR_PARAM);
    CHECK(picoacme_jwk_write(NULL, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jwk_write(a, NULL, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jwk_write(a, s, 8, NULL) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_es256(NULL, 0, "{}", 2, "", 0, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_es256(&g_crypto, 0, NULL, 2, "", 0, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_es256(&g_crypto, 0, "{}", 2, NULL, 1, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_es256(&g_crypto, 0, "{}", 2, "", 0, NULL, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_es256(&g_crypto, 0, "{}", 2, "", 0, s, 8, NULL) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_hs256(NULL, a, 1, "{}", 2, "", 0, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_hs256(&g_crypto, NULL, 1, "{}", 2, "", 0, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_hs256(&g_crypto, a, 1, NULL, 2, "", 0, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_hs256(&g_crypto, a, 1, "{}", 2, NULL, 0, s, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_hs256(&g_crypto, a, 1, "{}", 2, "", 0, NULL, 8, &n) == PICOACME_ERR_PARAM);
    CHECK(picoacme_jws_hs256(&g_crypto, a, 1, "{}", 2, "", 0, s, 8, NULL) == PICOACME_ERR_PARAM);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2U) {
        fuzz_args();
        return 0;
    }
    unsigned mod = data[0] % 6U, flags = data[0] / 6U;
    size_t cap = data[1];
    if (flags & 32U) {
        cap = cap * 16U + 256U; /* up to 4336 */
    }
    data += 2;
    size -= 2;
    switch (mod) {
    case 0: fuzz_jw(cap, data, size); break;
    case 1: fuzz_ip(cap, data, size); break;
    case 2: {
        if (flags & 1U) {
            fuzz_failover(data, size);
            break;
        }
        /* every value has a name; the ones past the last, "unknown error" */
        for (int e = -2; e <= (int)PICOACME_ERR_DNS + 2; e++) {
            const char *s = picoacme_err_str((picoacme_err_t)e);
            CHECK(s != NULL && s[0] != '\0');
            CHECK((strcmp(s, "unknown error") == 0) == (e < 0 || e > (int)PICOACME_ERR_DNS));
        }
        break;
    }
    case 3: fuzz_http_req(cap, flags, data, size); break;
    case 4: fuzz_dns_msg(cap, flags, data, size); break;
    default: fuzz_jws(cap, flags, data, size); break;
    }
    return 0;
}
