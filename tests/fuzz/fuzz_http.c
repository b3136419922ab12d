/*
 * fuzz_http.c - libFuzzer target for the HTTP code in core/src: http_parse.c
 * (with http_link.c), http_write.c, url.c and the IMF-fixdate parser in
 * time.c.
 *
 * Input layout: byte 0 selects the function (low 2 bits: 0,1 response
 * parser, 2 URL splitter, 3 IMF-fixdate); for the parser byte 1 seeds the
 * split points, byte 2 holds flags (bit 0 HEAD, bit 1 peer closes at the
 * end, bits 2-3 buffer size) and the rest is the response stream.
 *
 * Besides the sanitizers, it checks properties: every span lies inside the
 * bytes reported, a response parsed in random pieces gives exactly the
 * result of parsing it in one piece, and so does one whose body is taken
 * out in random amounts as it comes (r.stream, picoacme_http_body_avail()
 * and picoacme_http_body_drop(), as the certificate download does; also
 * before the next bytes are parsed), a URL accepted by the splitter is
 * accepted by the request writer, and an accepted date prints back to
 * itself.
 */
#define _DEFAULT_SOURCE /* gmtime_r */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "picoacme_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t caps[4] = {64, 300, 1024, 4096};

static void check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void check_span(picoacme_span_t sp, size_t limit)
{
    check((size_t)sp.off + sp.len <= limit);
}

static void check_resp(const picoacme_http_resp_t *r, size_t len)
{
    check(r->consumed <= len);
    check(r->status >= 200U && r->status <= 599U);
    check_span(r->body, r->consumed);
    check_span(r->location, r->body.off);
    check_span(r->nonce, r->body.off);
    check(!r->nonce_too_long || r->nonce.len == 0U);
    check_span(r->content_type, r->body.off);
    check_span(r->link_up, r->body.off);
    check((size_t)r->body.off + r->body.len == r->consumed);
}

static bool span_eq(picoacme_span_t a, picoacme_span_t b)
{
    return a.off == b.off && a.len == b.len;
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The body taken out as it comes: msg in random pieces into a buffer of
 * cap bytes, a random part of what is available dropped into out (before
 * and after each parse; all of it when the buffer is full). Returns the
 * parser's result; *got the bytes taken out, *r its state. */
static picoacme_err_t parse_streamed(const uint8_t *msg, size_t n, size_t cap, uint32_t seed,
                                     bool head_only, bool closed, picoacme_http_resp_t *r,
                                     uint8_t *buf, size_t *len, uint8_t *out, size_t *got)
{
    picoacme_err_t e = PICOACME_AGAIN;
    size_t src = 0;
    *len = 0;
    *got = 0;
    picoacme_http_resp_init(r, head_only);
    r->stream = true;
    while (e == PICOACME_AGAIN && (src < n || closed)) {
        size_t k = n - src < 64U ? n - src : 1U + rng_next(&seed) % 64U;
        k = k < cap - *len ? k : cap - *len;
        memcpy(buf + *len, msg + src, k);
        *len += k;
        src += k;
        for (int pass = 0; pass < 2; pass++) {
            size_t avail = picoacme_http_body_avail(r, *len);
            size_t take = *len == cap ? avail : rng_next(&seed) % (avail + 1U);
            check(r->body.off + avail <= *len);
            memcpy(out + *got, buf + r->body.off, take);
            *got += take;
            picoacme_http_body_drop(r, buf, len, take);
            check(picoacme_http_body_avail(r, *len) == avail - take);
            if (pass == 0) {
                e = picoacme_http_parse(r, buf, len, cap, src == n && closed);
            }
        }
        if (e == PICOACME_AGAIN && *len == cap) {
            return PICOACME_ERR_NOSPACE; /* full, nothing to take out: a head longer than buf */
        }
        closed = closed && src < n; /* the close is parsed once */
    }
    check(e != PICOACME_OK || picoacme_http_body_avail(r, *len) == 0U);
    picoacme_http_body_drop(r, buf, len, 1U); /* complete: nothing to drop */
    picoacme_http_body_drop(NULL, buf, len, 1U);
    picoacme_http_body_drop(r, NULL, len, 1U);
    picoacme_http_body_drop(r, buf, NULL, 1U);
    check(picoacme_http_body_avail(NULL, *len) == 0U);
    return e;
}

/* A response parsed whole (e1, r1 over one[]) and streamed give the same
 * status and body bytes. */
static void fuzz_stream(const uint8_t *msg, size_t n, size_t cap, uint32_t seed, bool head_only,
                        bool closed, picoacme_err_t e1, const picoacme_http_resp_t *r1,
                        const uint8_t *one)
{
    static uint8_t buf[4096], out[4096];
    picoacme_http_resp_t r;
    size_t len = 0, got = 0;
    picoacme_err_t e =
        parse_streamed(msg, n, cap, seed, head_only, closed, &r, buf, &len, out, &got);
    check(len <= cap && got <= n);
    if (e1 != PICOACME_OK) {
        return;
    }
    check(e == PICOACME_OK);
    check(r.status == r1->status && got + r.body.len == r1->body.len);
    check(memcmp(out, one + r1->body.off, got) == 0);
    check(memcmp(buf + r.body.off, one + r1->body.off + got, r.body.len) == 0);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
    static uint8_t one[4096], inc[4096];
    if (size < 3U) {
        return;
    }
    uint32_t seed = 0x9e3779b9U ^ data[1];
    bool head_only = (data[2] & 1U) != 0U, closed = (data[2] & 2U) != 0U;
    size_t cap = caps[(data[2] >> 2) & 3U];
    const uint8_t *msg = data + 3;
    size_t n = size - 3U;

    /* one piece (only when it fits) */
    picoacme_http_resp_t r1;
    picoacme_err_t e1 = PICOACME_ERR_NOSPACE;
    size_t len1 = 0;
    bool whole = n <= cap;
    picoacme_http_resp_init(&r1, head_only);
    if (whole) {
        memcpy(one, msg, n);
        len1 = n;
        e1 = picoacme_http_parse(&r1, one, &len1, cap, false);
        if (e1 == PICOACME_AGAIN && closed) {
            e1 = picoacme_http_parse(&r1, one, &len1, cap, true);
        }
        check(len1 <= n);
        if (e1 == PICOACME_OK) {
            check_resp(&r1, len1);
        }
    }

    /* random pieces */
    picoacme_http_resp_t r2;
    picoacme_err_t e2 = PICOACME_AGAIN;
    size_t len2 = 0, src = 0;
    picoacme_http_resp_init(&r2, head_only);
    while (src < n) {
        size_t k = 1U + rng_next(&seed) % 64U;
        if (k > n - src) {
            k = n - src;
        }
        if (k > cap - len2) {
            k = cap - len2;
        }
        memcpy(inc + len2, msg + src, k);
        len2 += k;
        src += k;
        e2 = picoacme_http_parse(&r2, inc, &len2, cap, false);
        check(len2 <= cap);
        if (e2 != PICOACME_AGAIN) {
            break;
        }
        check(k > 0U);
    }
    if (e2 == PICOACME_AGAIN && closed) {
        e2 = picoacme_http_parse(&r2, inc, &len2, cap, true);
    }
    if (e2 == PICOACME_OK) {
        check_resp(&r2, len2);
        /* done is sticky */
        size_t l = len2;
        check(picoacme_http_parse(&r2, inc, &l, cap, false) == PICOACME_OK && l == len2);
    }

    if (!whole) {
        fuzz_stream(msg, n, cap, seed, head_only, closed, PICOACME_ERR_NOSPACE, NULL, NULL);
        return;
    }
    fuzz_stream(msg, n, cap, seed, head_only, closed, e1, &r1, one);
    check(e1 == e2);
    if (e1 != PICOACME_OK) {
        return;
    }
    check(r1.status == r2.status && r1.keep_alive == r2.keep_alive);
    check(r1.has_retry_after == r2.has_retry_after && r1.retry_after_s == r2.retry_after_s);
    check(r1.date_s == r2.date_s && r1.consumed == r2.consumed);
    check(span_eq(r1.body, r2.body) && span_eq(r1.location, r2.location));
    check(span_eq(r1.nonce, r2.nonce) && span_eq(r1.link_up, r2.link_up));
    check(r1.nonce_too_long == r2.nonce_too_long);
    check(span_eq(r1.content_type, r2.content_type));
    check(memcmp(one, inc, r1.consumed) == 0);
    /* bytes after the response, as far as they were received, are intact */
    check(len2 <= len1 && memcmp(one + r1.consumed, inc + r2.consumed, len2 - r2.consumed) == 0);
}

static void fuzz_url(const uint8_t *data, size_t size)
{
    picoacme_url_t u;
    const char *s = (const char *)data;
    if (picoacme_url_parse(s, size, &u) != PICOACME_OK) {
        return;
    }
    check(u.host >= s && u.host_len > 0U && u.host + u.host_len <= s + size);
    check(u.port != 0U && u.path_len > 0U && u.path[0] == '/');
    check((u.path >= s && u.path + u.path_len == s + size) ||
          (u.path_len == 1U && u.path[0] == '/'));
    static uint8_t out[8192];
    size_t n;
    check(picoacme_http_request(out, sizeof(out), &n, "POST", &u, "application/json",
                                "application/jose+json", size) == PICOACME_OK);
    check(n < sizeof(out) && memchr(out, 0, n) == NULL);
}

static void fuzz_date(const uint8_t *data, size_t size)
{
    int64_t t;
    if (picoacme_http_date((const char *)data, size, &t) != PICOACME_OK) {
        return;
    }
    check(size == 29U && t >= 0 && t < 253402300800LL);
    if (data[23] == '6' && data[24] == '0') {
        return; /* leap second: normalised */
    }
    time_t tt = (time_t)t;
    struct tm tm;
    char back[64];
    check(gmtime_r(&tt, &tm) != NULL);
    check(strftime(back, sizeof(back), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 29U);
    check(memcmp(back, data, 29) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1U) {
        return 0;
    }
    switch (data[0] & 3U) {
    case 0:
    case 1: fuzz_parse(data, size); break;
    case 2: fuzz_url(data + 1, size - 1U); break;
    default: fuzz_date(data + 1, size - 1U); break;
    }
    return 0;
}
