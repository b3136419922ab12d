/*
 * test_http.c - HTTP response parser (core/src/http_parse.c, Link in
 * http_link.c), request writer (http_write.c) and IMF-fixdate parser
 * (time.c), plus picoacme_err_str(). The URL splitter is in test_url.c.
 * Responses are shaped like Pebble's; they are fed whole, one byte at a
 * time, split at every byte boundary, truncated and corrupted.
 */
#define _DEFAULT_SOURCE /* timegm, gmtime_r */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "picoacme_config_defaults.h" /* PICOACME_NONCE_MAX */
#include "picoacme_err.h"
#include "picoacme_http.h"

#define CAP 4096U

static uint8_t g_buf[CAP];
static size_t g_fed; /* source bytes fed by the last feed() */

/* Feed data[0, n) into g_buf (cap bytes) step bytes per call; if closed_end,
 * one last call with closed=true. Returns the last status. */
static picoacme_err_t feed(picoacme_http_resp_t *r, const char *data, size_t n, size_t step,
                           bool closed_end, size_t cap, size_t *len, bool head_only)
{
    size_t src = 0;
    picoacme_err_t e = PICOACME_AGAIN;
    picoacme_http_resp_init(r, head_only);
    *len = 0;
    memset(g_buf, 0xA5, sizeof(g_buf));
    while (src < n) {
        size_t k = n - src < step ? n - src : step;
        if (k > cap - *len) {
            k = cap - *len;
        }
        memcpy(g_buf + *len, data + src, k);
        *len += k;
        src += k;
        e = picoacme_http_parse(r, g_buf, len, cap, false);
        if (e != PICOACME_AGAIN) {
            break;
        }
    }
    g_fed = src;
    if (e == PICOACME_AGAIN && closed_end) {
        e = picoacme_http_parse(r, g_buf, len, cap, true);
    }
    return e;
}

static picoacme_err_t feed_all(picoacme_http_resp_t *r, const char *data, bool closed_end)
{
    size_t len;
    return feed(r, data, strlen(data), CAP, closed_end, CAP, &len, false);
}

static void assert_span(picoacme_span_t sp, const char *want)
{
    size_t n = strlen(want);
    assert_int_equal(sp.len, n);
    if (n != 0U) {
        assert_memory_equal(g_buf + sp.off, want, n);
    }
}

/* ---- Pebble-like responses ---------------------------------------------- */

static const char NEW_ACCOUNT[] =
    "HTTP/1.1 201 Created\r\n"
    "Cache-Control: public, max-age=0, no-cache\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Link: <https://127.0.0.1:14000/dir>;rel=\"index\"\r\n"
    "Location: https://127.0.0.1:14000/my-account/3fa6c12a9b1d\r\n"
    "Replay-Nonce: Vbt1cZvxp0CjxY2IrnRn3g\r\n"
    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    "Content-Length: 55\r\n"
    "\r\n"
    "{\n   \"status\": \"valid\",\n   \"orders\": \"https://x/o/1\"\n}\n";

static void check_new_account(const picoacme_http_resp_t *r)
{
    assert_int_equal(r->status, 201);
    assert_true(r->keep_alive);
    assert_false(r->has_retry_after);
    assert_int_equal(r->date_s, 784111777);
    assert_span(r->location, "https://127.0.0.1:14000/my-account/3fa6c12a9b1d");
    assert_span(r->nonce, "Vbt1cZvxp0CjxY2IrnRn3g");
    assert_span(r->content_type, "application/json");
    assert_int_equal(r->link_up.len, 0); /* rel="index" only */
    assert_span(r->body, "{\n   \"status\": \"valid\",\n   \"orders\": \"https://x/o/1\"\n}\n");
    assert_int_equal(r->consumed, strlen(NEW_ACCOUNT));
}

static void test_pebble_201(void **state)
{
    (void)state;
    picoacme_http_resp_t r;
    size_t len;
    assert_int_equal(strlen(NEW_ACCOUNT) - (strstr(NEW_ACCOUNT, "\r\n\r\n") + 4 - NEW_ACCOUNT), 55);
    assert_int_equal(feed_all(&r, NEW_ACCOUNT, false), PICOACME_OK);
    check_new_account(&r);
    /* one byte per call */
    assert_int_equal(feed(&r, NEW_ACCOUNT, strlen(NEW_ACCOUNT), 1, false, CAP, &len, false),
                     PICOACME_OK);
    check_new_account(&r);
    /* a further call after completion keeps the result */
    assert_int_equal(picoacme_http_parse(&r, g_buf, &len, CAP, false), PICOACME_OK);
    check_new_account(&r);
}

static void test_pebble_challenge_link_up(void **state)
{
    (void)state;
    picoacme_http_resp_t r;
    /* Pebble sends index and up as separate Link headers */
    const char *a = "HTTP/1.1 200 OK\r\n"
                    "Content-Type: application/json; charset=utf-8\r\n"
                    "Link: <https://127.0.0.1:14000/dir>;rel=\"index\"\r\n"
                    "Link: <https://127.0.0.1:14000/authZ/Ab3>;rel=\"up\"\r\n"
                    "Link: <https://127.0.0.1:14000/authZ/second>;rel=\"up\"\r\n"
                    "Replay-Nonce: 6Tn0kW-_x\r\n"
                    "Content-Length: 2\r\n\r\n{}";
    assert_int_equal(feed_all(&r, a, false), PICOACME_OK);
    assert_span(r.link_up, "https://127.0.0.1:14000/authZ/Ab3");
    assert_span(r.nonce, "6Tn0kW-_x");
    assert_span(r.body, "{}");

    /* several link-values in one header, commas inside <> and quotes */
    const char *b = "HTTP/1.1 200 OK\r\n"
                    "link: <https://h/dir,x>; rel=\"index\"; title=\"a, <b>; rel=up\", "
                    "<https://h/a,b;c>;  REL = \"alternate UP\" ; rel=\"index\"\r\n"
                    "Content-Length: 0\r\n\r\n";
    assert_int_equal(feed_all(&r, b, false), PICOACME_OK);
    assert_span(r.link_up, "https://h/a,b;c");

    /* unquoted token, and a later rel is ignored (RFC 8288 §3.3) */
    const char *c = "HTTP/1.1 200 OK\r\n"
                    "Link: <https://h/1>;rel=index;rel=up, <https://h/2>;rel=up\r\n"
                    "Content-Length: 0\r\n\r\n";
    assert_int_equal(feed_all(&r, c, false), PICOACME_OK);
    assert_span(r.link_up, "https://h/2");

    /* "upper" is not "up"; a malformed value is ignored, not fatal */
    const char *d = "HTTP/1.1 200 OK\r\n"
                    "Link: <https://h/1>;rel=\"upper\"\r\n"
                    "Link: https://h/2;rel=up\r\n"
                    "Link: <https://h/3;rel=up\r\n"
                    "Content-Length: 0\r\n\r\n";
    assert_int_equal(feed_all(&r, d, false), PICOACME_OK);
    assert_int_equal(r.link_up.len, 0);
}

static void test_content_type_and_nonce(void **state)
{
    (void)state;
    picoacme_http_resp_t r;
    const char *a = "HTTP/1.1 400 Bad Request\r\n"
                    "CONTENT-TYPE:   application/problem+json ; charset=utf-8  \r\n"
                    "Replay-Nonce: bad+nonce/\r\n"
                    "Replay-Nonce: goodNonce\r\n"
                    "Content-Length: 0\r\n\r\n";
    assert_int_equal(feed_all(&r, a, false), PICOACME_OK);
    assert_int_equal(r.status, 400);
    assert_span(r.content_type, "application/problem+json");
    /* RFC 8555 §6.5.1: an invalid nonce is ignored */
    assert_span(r.nonce, "goodNonce");
    assert_int_equal(r.date_s, -1);
}

/* issue 7, defect 4: a Replay-Nonce too long for the engine's buffer is
 * reported as such, not as a missing one */
static void test_nonce_too_long(void **state)
{
    (void)state;
    static char msg[CAP + 1024]; /* room for the compiler's worst case */
    char nonce[4001];
    picoacme_http_resp_t r;
    memset(nonce, 'N', 4000);
    nonce[4000] = '\0';
    snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\nReplay-Nonce: %s\r\nContent-Length: 0\r\n\r\n",
             nonce);
    assert_int_equal(feed_all(&r, msg, false), PICOACME_OK);
    assert_true(r.nonce_too_long);
    assert_int_equal(r.nonce.len, 0);

    /* the longest that fits (with its NUL) is taken */
    nonce[PICOACME_NONCE_MAX - 1U] = '\0';
    snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\nReplay-Nonce: %s\r\nContent-Length: 0\r\n\r\n",
             nonce);
    assert_int_equal(feed_all(&r, msg, false), PICOACME_OK);
    assert_false(r.nonce_too_long);
    assert_span(r.nonce, nonce);

    /* one byte more does not fit; a later one does not replace it (as
     * before: the first valid Replay-Nonce is the one) */
    memset(nonce, 'N', PICOACME_NONCE_MAX);
    nonce[PICOACME_NONCE_MAX] = '\0';
    snprintf(msg, sizeof(msg),
             "HTTP/1.1 200 OK\r\nReplay-Nonce: %s\r\nReplay-Nonce: short\r\n"
             "Content-Length: 0\r\n\r\n",
             nonce);
    assert_int_equal(feed_all(&r, msg, false), PICOACME_OK);
    assert_true(r.nonce_too_long);
    assert_int_equal(r.nonce.len, 0);

    /* an invalid value is ignored (RFC 8555 §6.5.1), long or not; a 1xx
     * head's nonce does not count */
    memset(nonce, '+', 200);
    nonce[200] = '\0';
    snprintf(msg, sizeof(msg),
             "HTTP/1.1 100 Continue\r\nReplay-Nonce: %0200d\r\n\r\n"
             "HTTP/1.1 200 OK\r\nReplay-Nonce: %s\r\nContent-Length: 0\r\n\r\n",
             0, nonce);
    assert_int_equal(feed_all(&r, msg, false), PICOACME_OK);
    assert_false(r.nonce_too_long);
    assert_int_equal(r.nonce.len, 0);

    /* an ordinary nonce */
    assert_int_equal(feed_all(&r, NEW_ACCOUNT, false), PICOACME_OK);
    assert_false(r.nonce_too_long);
    assert_span(r.nonce, "Vbt1cZvxp0CjxY2IrnRn3g");
}

/* ---- chunked ------------------------------------------------------------ */

static const char CHUNKED[] = "HTTP/1.1 200 OK\r\n"
                              "Transfer-Encoding: chunked\r\n"
                              "Replay-Nonce: abc\r\n"
                              "\r\n"
                              "5;name=\"va;lue\"\r\nhello\r\n"
                              "1A \r\nabcdefghijklmnopqrstuvwxyz\r\n"
                              "001\r\n!\r\n"
                              "0\r\nX-Trailer: yes\r\nOther: 1\r\n\r\n";
static const char CHUNKED_BODY[] = "helloabcdefghijklmnopqrstuvwxyz!";
/* the next response, received in the same reads */
static const char NEXT[] = "HTTP/1.1 204 No Content\r\n\r\n";

static void check_chunked(const picoacme_http_resp_t *r, size_t len, bool with_next)
{
    size_t head = (size_t)(strstr(CHUNKED, "\r\n\r\n") + 4 - CHUNKED);
    assert_int_equal(r->status, 200);
    assert_span(r->nonce, "abc");
    assert_int_equal(r->body.off, head);
    assert_span(r->body, CHUNKED_BODY);
    assert_int_equal(r->consumed, head + strlen(CHUNKED_BODY));
    if (with_next) {
        /* whatever of NEXT came in the same reads is kept after the body */
        size_t extra = g_fed - strlen(CHUNKED);
        assert_int_equal(len, r->consumed + extra);
        assert_memory_equal(g_buf + r->consumed, NEXT, extra);
    } else {
        assert_int_equal(len, r->consumed);
    }
}

static void test_chunked_every_split(void **state)
{
    (void)state;
    char all[1024];
    picoacme_http_resp_t r;
    size_t len;
    snprintf(all, sizeof(all), "%s%s", CHUNKED, NEXT);
    size_t n = strlen(all);

    /* every step size, including one byte at a time */
    for (size_t step = 1; step <= n; step++) {
        assert_int_equal(feed(&r, all, n, step, false, CAP, &len, false), PICOACME_OK);
        check_chunked(&r, len, true);
    }
    /* two pieces, split at every byte boundary */
    for (size_t cut = 0; cut <= strlen(CHUNKED); cut++) {
        picoacme_http_resp_init(&r, false);
        memcpy(g_buf, CHUNKED, cut);
        len = cut;
        picoacme_err_t e = picoacme_http_parse(&r, g_buf, &len, CAP, false);
        if (cut < strlen(CHUNKED)) {
            assert_int_equal(e, PICOACME_AGAIN);
        }
        memcpy(g_buf + len, CHUNKED + cut, strlen(CHUNKED) - cut);
        len += strlen(CHUNKED) - cut;
        assert_int_equal(picoacme_http_parse(&r, g_buf, &len, CAP, false), PICOACME_OK);
        check_chunked(&r, len, false);
    }
}

static void test_chunked_framing_does_not_use_room(void **state)
{
    (void)state;
    /* 300 one-byte chunks (6 bytes of framing each): the raw stream is larger
     * than cap, but the decoded response fits because framing is removed as
     * it is parsed. */
    static char raw[4096];
    size_t n =
        (size_t)snprintf(raw, sizeof(raw), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t head = n;
    for (int i = 0; i < 300; i++) {
        n += (size_t)snprintf(raw + n, sizeof(raw) - n, "1\r\n%c\r\n", 'a' + i % 26);
    }
    n += (size_t)snprintf(raw + n, sizeof(raw) - n, "0\r\n\r\n");
    picoacme_http_resp_t r;
    size_t len;
    size_t cap = head + 300 + 16;
    assert_true(n > cap);
    assert_int_equal(feed(&r, raw, n, 7, false, cap, &len, false), PICOACME_OK);
    assert_int_equal(r.body.len, 300);
    assert_int_equal(r.consumed, head + 300);
    assert_int_equal(len, head + 300);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(g_buf[head + (size_t)i], 'a' + i % 26);
    }
}

static void test_chunked_bad(void **state)
{
    (void)state;
    static const struct {
        const char *chunks;
        picoacme_err_t want;
    } cases[] = {
        {"FFFFFFFFFFFFFFFFF\r\n", PICOACME_ERR_PARSE}, /* 17 hex digits: overflow */
        {"10000000000000000\r\n", PICOACME_ERR_PARSE},
        {"FFFFFFFF\r\n", PICOACME_ERR_NOSPACE}, /* fits size_t, not the buffer */
        {"-5\r\nhello\r\n0\r\n\r\n", PICOACME_ERR_PARSE},
        {"+5\r\nhello\r\n0\r\n\r\n", PICOACME_ERR_PARSE},
        {"0x5\r\nhello\r\n0\r\n\r\n", PICOACME_ERR_PARSE},
        {"\r\nhello\r\n0\r\n\r\n", PICOACME_ERR_PARSE},
        {"5 x\r\nhello\r\n0\r\n\r\n", PICOACME_ERR_PARSE},
        {"g\r\n", PICOACME_ERR_PARSE},
        {"5\r\nhelloXX0\r\n\r\n", PICOACME_ERR_PARSE}, /* missing CRLF after data */
        {"5\r\nhello\rX0\r\n\r\n", PICOACME_ERR_PARSE},
        {"5\r\nhello\n0\r\n\r\n", PICOACME_ERR_PARSE},
        {"5\nhello\r\n0\r\n\r\n", PICOACME_ERR_PARSE}, /* bare LF */
        {"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n", PICOACME_ERR_PARSE},
        {"5\r\nhello\r\n0\r\n\r\n", PICOACME_OK}, /* control */
    };
    char msg[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
                 cases[i].chunks);
        picoacme_http_resp_t r;
        size_t len;
        for (size_t step = 1; step <= strlen(msg); step += strlen(msg) - 1U) {
            picoacme_err_t e = feed(&r, msg, strlen(msg), step, false, 1024, &len, false);
            if (e != cases[i].want) {
                fail_msg("case %zu step %zu: got %d want %d", i, step, e, cases[i].want);
            }
        }
    }
}

/* ---- truncation, close, limits -------------------------------------------- */

static void test_truncated(void **state)
{
    (void)state;
    const char *msgs[] = {NEW_ACCOUNT, CHUNKED};
    for (size_t m = 0; m < 2; m++) {
        size_t n = strlen(msgs[m]);
        for (size_t cut = 0; cut < n; cut++) {
            picoacme_http_resp_t r;
            size_t len;
            picoacme_err_t e = feed(&r, msgs[m], cut, CAP, false, CAP, &len, false);
            assert_int_equal(e, PICOACME_AGAIN);
            e = picoacme_http_parse(&r, g_buf, &len, CAP, true);
            assert_int_equal(e, cut == 0 ? PICOACME_ERR_CLOSED : PICOACME_ERR_PARSE);
        }
    }
}

static void test_close_delimited(void **state)
{
    (void)state;
    picoacme_http_resp_t r;
    size_t len;
    const char *a = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall until close";
    assert_int_equal(feed(&r, a, strlen(a), 5, false, CAP, &len, false), PICOACME_AGAIN);
    assert_int_equal(picoacme_http_parse(&r, g_buf, &len, CAP, true), PICOACME_OK);
    assert_false(r.keep_alive);
    assert_span(r.body, "all until close");
    assert_int_equal(r.consumed, strlen(a));
    /* a close-delimited body that fills the buffer is too big */
    char big[200];
    snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\n\r\n%0100d", 7);
    assert_int_equal(feed(&r, big, strlen(big), 9, false, 64, &len, false), PICOACME_ERR_NOSPACE);
}

static void test_oversized(void **state)
{
    (void)state;
    picoacme_http_resp_t r;
    size_t len = 0;
    picoacme_http_resp_init(&r, false);
    /* spans are uint16_t */
    assert_int_equal(picoacme_http_parse(&r, g_buf, &len, 65536, false), PICOACME_ERR_NOSPACE);
    assert_int_equal(picoacme_http_parse(&r, g_buf, &len, 65535, false), PICOACME_AGAIN);

    /* body announced larger than the room left: known at the blank line */
    const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nxx";
    assert_int_equal(feed(&r, a, strlen(a), CAP, false, 512, &len, false), PICOACME_ERR_NOSPACE);
    const char *huge = "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n";
    assert_int_equal(feed(&r, huge, strlen(huge), CAP, false, 512, &len, false),
                     PICOACME_ERR_NOSPACE);
    /* exactly fitting is fine */
    char fit[128];
    snprintf(fit, sizeof(fit), "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
    assert_int_equal(feed(&r, fit, strlen(fit), 3, false, strlen(fit), &len, false), PICOACME_OK);
    assert_int_equal(feed(&r, fit, strlen(fit), 3, false, strlen(fit) - 1, &len, false),
                     PICOACME_ERR_NOSPACE);

    /* a header line longer than the buffer */
    char longhdr[600];
    int k = snprintf(longhdr, sizeof(longhdr), "HTTP/1.1 200 OK\r\nX-Long: ");
    memset(longhdr + k, 'a', 500);
    strcpy(longhdr + k + 500, "\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(feed(&r, longhdr, strlen(longhdr), 13, false, 256, &len, false),
                     PICOACME_ERR_NOSPACE);
    assert_int_equal(feed(&r, longhdr, strlen(longhdr), 13, false, 1024, &len, false), PICOACME_OK);
}

static void test_content_length_rules(void **state)
{
    (void)state;
    static const struct {
        const char *hdrs;
        picoacme_err_t want;
    } cases[] = {
        {"Content-Length: 2\r\nContent-Length: 2\r\n", PICOACME_OK},
        {"Content-Length: 2\r\ncontent-length:  002 \r\n", PICOACME_OK},
        {"Content-Length: 2\r\nContent-Length: 3\r\n", PICOACME_ERR_PARSE},
        {"Content-Length: 2, 2\r\n", PICOACME_ERR_PARSE},
        {"Content-Length: +2\r\n", PICOACME_ERR_PARSE},
        {"Content-Length: -2\r\n", PICOACME_ERR_PARSE},
        {"Content-Length: 2x\r\n", PICOACME_ERR_PARSE},
        {"Content-Length: 0x2\r\n", PICOACME_ERR_PARSE},
        {"Content-Length:\r\n", PICOACME_ERR_PARSE},
        {"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", PICOACME_ERR_PARSE},
        {"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", PICOACME_ERR_PARSE},
        {"Transfer-Encoding: gzip\r\nContent-Length: 2\r\n", PICOACME_ERR_PARSE},
        {"Transfer-Encoding: gzip, chunked\r\n", PICOACME_ERR_PARSE},
        {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", PICOACME_ERR_PARSE},
    };
    char msg[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\n%s\r\nok", cases[i].hdrs);
        picoacme_http_resp_t r;
        picoacme_err_t e = feed_all(&r, msg, false);
        if (e != cases[i].want) {
            fail_msg("case %zu: got %d want %d", i, e, cases[i].want);
        }
        if (e == PICOACME_OK) {
            assert_span(r.body, "ok");
        }
    }
}

static void test_malformed_heads(void **state)
{
    (void)state;
    static const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.2 200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 99 Low\r\n\r\n",
        "HTTP/1.1 600 High\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 20x OK\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
        "HTTP/1.1 200 OK\r\nName : space before colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\r\n  folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\x1b[0m\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        "\r\n",
        "garbage\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        picoacme_http_resp_t r;
        picoacme_err_t e = feed_all(&r, bad[i], true);
        if (e != PICOACME_ERR_PARSE) {
            fail_msg("case %zu: got %d", i, e);
        }
    }
    /* a NUL inside a header value */
    static const char nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\nContent-Length: 0\r\n\r\n";
    picoacme_http_resp_t r;
    size_t len;
    assert_int_equal(feed(&r, nul, sizeof(nul) - 1, 4, false, CAP, &len, false),
                     PICOACME_ERR_PARSE);
}

static void test_interim_head_connection(void **state)
{
    (void)state;
    picoacme_http_resp_t r;
    size_t len;
    const char *a = "HTTP/1.1 100 Continue\r\nReplay-Nonce: interim\r\n\r\n"
                    "HTTP/1.1 102 Processing\r\n\r\n"
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    assert_int_equal(feed(&r, a, strlen(a), 1, false, CAP, &len, false), PICOACME_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.nonce.len, 0);
    assert_span(r.body, "ok");
    assert_int_equal(r.consumed, strlen(a));
    assert_true(r.keep_alive);

    assert_int_equal(feed_all(&r,
                              "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n"
                              "Content-Length: 0\r\n\r\n",
                              false),
                     PICOACME_OK);
    assert_false(r.keep_alive);
    assert_int_equal(feed_all(&r, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
                     PICOACME_OK);
    assert_false(r.keep_alive);
    assert_int_equal(feed_all(&r,
                              "HTTP/1.1 200 OK\r\nConnection: closed\r\n"
                              "Content-Length: 0\r\n\r\n",
                              false),
                     PICOACME_OK);
    assert_true(r.keep_alive);
}

static void test_head_and_no_body(void **state)
{
    (void)state;
    picoacme_http_resp_t r;
    size_t len;
    /* RFC 8555 §7.2: HEAD newNonce; Content-Length describes a GET body */
    const char *a = "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\n"
                    "Replay-Nonce: 2-7h3kx8-mIx7v5OQYkwdA\r\nContent-Length: 100\r\n\r\n";
    assert_int_equal(feed(&r, a, strlen(a), 1, false, CAP, &len, true), PICOACME_OK);
    assert_span(r.nonce, "2-7h3kx8-mIx7v5OQYkwdA");
    assert_int_equal(r.body.len, 0);
    assert_int_equal(r.consumed, strlen(a));
    /* the same head without head_only waits for the body */
    assert_int_equal(feed(&r, a, strlen(a), 1, false, CAP, &len, false), PICOACME_AGAIN);
    /* 204 has no body even with a Content-Length */
    const char *b = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
    assert_int_equal(feed_all(&r, b, false), PICOACME_OK);
    assert_int_equal(r.consumed, strlen(b));
}

/* ---- Retry-After and Date -------------------------------------------------- */

static void test_retry_after(void **state)
{
    (void)state;
    static const struct {
        const char *hdrs;
        bool has;
        uint32_t secs;
    } cases[] = {
        {"Retry-After: 120\r\n", true, 120},
        {"Retry-After:  0 \r\n", true, 0},
        {"Retry-After: 99999999999999999999999\r\n", true, 366U * 86400U},
        {"Retry-After: 12s\r\n", false, 0},
        {"Retry-After: -5\r\n", false, 0},
        {"Retry-After: soon\r\n", false, 0},
        {"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
         "Retry-After: Sun, 06 Nov 1994 08:51:37 GMT\r\n",
         true, 120},
        /* Retry-After before Date; resolved once the head is complete */
        {"Retry-After: Mon, 07 Nov 1994 08:49:37 GMT\r\n"
         "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
         true, 86400},
        {"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
         "Retry-After: Sun, 06 Nov 1994 08:00:00 GMT\r\n",
         true, 0},
        {"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
         "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\n",
         true, 366U * 86400U},
        /* no Date to relate it to */
        {"Retry-After: Sun, 06 Nov 1994 08:51:37 GMT\r\n", false, 0},
        {"Date: garbage\r\nRetry-After: Sun, 06 Nov 1994 08:51:37 GMT\r\n", false, 0},
        {"Retry-After: 30\r\nRetry-After: 60\r\n", true, 30},
    };
    char msg[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(msg, sizeof(msg),
                 "HTTP/1.1 503 Service Unavailable\r\n%s"
                 "Content-Length: 0\r\n\r\n",
                 cases[i].hdrs);
        picoacme_http_resp_t r;
        assert_int_equal(feed_all(&r, msg, false), PICOACME_OK);
        if (r.has_retry_after != cases[i].has ||
            (cases[i].has && r.retry_after_s != cases[i].secs)) {
            fail_msg("case %zu: has %d secs %u", i, r.has_retry_after, r.retry_after_s);
        }
    }
}

static void test_http_date(void **state)
{
    (void)state;
    int64_t t = 0;
    /* RFC 7231 §7.1.1.1 example */
    const char *ex = "Sun, 06 Nov 1994 08:49:37 GMT";
    assert_int_equal(picoacme_http_date(ex, strlen(ex), &t), PICOACME_OK);
    assert_int_equal(t, 784111777);
    assert_int_equal(picoacme_http_date("Thu, 01 Jan 1970 00:00:00 GMT", 29, &t), PICOACME_OK);
    assert_int_equal(t, 0);
    assert_int_equal(picoacme_http_date("Tue, 29 Feb 2000 00:00:00 GMT", 29, &t), PICOACME_OK);
    assert_int_equal(t, 951782400);
    assert_int_equal(picoacme_http_date("Tue, 19 Jan 2038 03:14:08 GMT", 29, &t), PICOACME_OK);
    assert_int_equal(t, 2147483648LL);

    static const char *bad[] = {
        "Sunday, 06-Nov-94 08:49:37 GMT", /* RFC 850 */
        "Sun Nov  6 08:49:37 1994",       /* asctime */
        "Mon, 06 Nov 1994 08:49:37 GMT",  /* wrong weekday */
        "sun, 06 Nov 1994 08:49:37 GMT",  /* case-sensitive */
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT ",
        "Mon, 29 Feb 1900 00:00:00 GMT", /* 1900 is not a leap year */
        "Sat, 29 Feb 2003 00:00:00 GMT",
        "Thu, 31 Apr 2003 00:00:00 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Wed, 31 Dec 1969 23:59:59 GMT",
        "Sun, 06 Nov 1994 08:49:3 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMTX",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (picoacme_http_date(bad[i], strlen(bad[i]), &t) != PICOACME_ERR_PARSE) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    /* leap second */
    assert_int_equal(picoacme_http_date("Sat, 31 Dec 2016 23:59:60 GMT", 29, &t), PICOACME_OK);
    assert_int_equal(t, 1483228800);

    /* libc's gmtime/strftime as the independent source, over 1970..9999 */
    srand(12345);
    char s[64];
    for (int i = 0; i < 20000; i++) {
        time_t want =
            (time_t)(((uint64_t)(unsigned)rand() << 20 ^ (unsigned)rand()) % 253402300800ULL);
        struct tm tm;
        assert_non_null(gmtime_r(&want, &tm));
        size_t n = strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        assert_int_equal(n, 29);
        assert_int_equal(picoacme_http_date(s, n, &t), PICOACME_OK);
        if (t != (int64_t)want) {
            fail_msg("%s: %lld != %lld", s, (long long)t, (long long)want);
        }
    }
}

/* ---- request writer --------------------------------------------------------- */

static void check_request(const char *method, const char *u, const char *accept, const char *ctype,
                          size_t body_len, const char *want)
{
    picoacme_url_t url;
    uint8_t out[512];
    size_t n = 0;
    assert_int_equal(picoacme_url_parse(u, strlen(u), &url), PICOACME_OK);
    assert_int_equal(
        picoacme_http_request(out, sizeof(out), &n, method, &url, accept, ctype, body_len),
        PICOACME_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    /* every smaller buffer is refused, and nothing is claimed written */
    for (size_t cap = 0; cap < n; cap++) {
        size_t m = 12345;
        assert_int_equal(picoacme_http_request(out, cap, &m, method, &url, accept, ctype, body_len),
                         PICOACME_ERR_NOSPACE);
        assert_int_equal(m, 12345);
    }
}

static void test_request(void **state)
{
    (void)state;
    check_request("POST", "https://127.0.0.1:14000/sign-me-up", NULL, "application/jose+json", 1234,
                  "POST /sign-me-up HTTP/1.1\r\nHost: 127.0.0.1:14000\r\n"
                  "User-Agent: picoacme/0.1\r\nContent-Type: application/jose+json\r\n"
                  "Content-Length: 1234\r\n\r\n");
    check_request("GET", "https://ca.lan/dir", "application/json", NULL, 0,
                  "GET /dir HTTP/1.1\r\nHost: ca.lan\r\nUser-Agent: picoacme/0.1\r\n"
                  "Accept: application/json\r\n\r\n");
    check_request("HEAD", "https://[::1]:14000/nonce-plz", NULL, NULL, 0,
                  "HEAD /nonce-plz HTTP/1.1\r\nHost: [::1]:14000\r\n"
                  "User-Agent: picoacme/0.1\r\n\r\n");
    check_request("GET", "http://[2001:db8::1]:80", NULL, NULL, 0,
                  "GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\nUser-Agent: picoacme/0.1\r\n\r\n");
    check_request("GET", "http://h:443/x?y=1", NULL, NULL, 0,
                  "GET /x?y=1 HTTP/1.1\r\nHost: h:443\r\nUser-Agent: picoacme/0.1\r\n\r\n");
    /* POST-as-GET: empty-payload JWS still has a body */
    check_request("POST", "https://ca.lan:8443/order/1", "application/pem-certificate-chain",
                  "application/jose+json", 0,
                  "POST /order/1 HTTP/1.1\r\nHost: ca.lan:8443\r\nUser-Agent: picoacme/0.1\r\n"
                  "Accept: application/pem-certificate-chain\r\n"
                  "Content-Type: application/jose+json\r\nContent-Length: 0\r\n\r\n");
    check_request("POST", "https://ca.lan/x", NULL, NULL, 0,
                  "POST /x HTTP/1.1\r\nHost: ca.lan\r\nUser-Agent: picoacme/0.1\r\n"
                  "Content-Length: 0\r\n\r\n");

    /* header injection and bad arguments */
    picoacme_url_t url;
    uint8_t out[256];
    size_t n;
    assert_int_equal(picoacme_url_parse("https://h/", 10, &url), PICOACME_OK);
    assert_int_equal(
        picoacme_http_request(out, sizeof(out), &n, "GET", &url, "a\r\nX-Evil: 1", NULL, 0),
        PICOACME_ERR_PARAM);
    assert_int_equal(
        picoacme_http_request(out, sizeof(out), &n, "POST", &url, NULL, "text/plain\n", 0),
        PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_http_request(out, sizeof(out), &n, "G T", &url, NULL, NULL, 0),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_http_request(out, sizeof(out), &n, "", &url, NULL, NULL, 0),
                     PICOACME_ERR_PARAM);
    picoacme_url_t evil = url;
    evil.path = "/a HTTP/1.1\r\n";
    evil.path_len = strlen(evil.path);
    assert_int_equal(picoacme_http_request(out, sizeof(out), &n, "GET", &evil, NULL, NULL, 0),
                     PICOACME_ERR_PARAM);
    evil = url;
    evil.host = "h\r\n";
    evil.host_len = 3;
    assert_int_equal(picoacme_http_request(out, sizeof(out), &n, "GET", &evil, NULL, NULL, 0),
                     PICOACME_ERR_PARAM);
}

/* ---- picoacme_err_str ------------------------------------------------------- */

static void test_err_str(void **state)
{
    (void)state;
    const char *seen[PICOACME_ERR_DNS + 1];
    for (int e = PICOACME_OK; e <= PICOACME_ERR_DNS; e++) {
        const char *s = picoacme_err_str((picoacme_err_t)e);
        assert_non_null(s);
        assert_true(strlen(s) > 1);
        assert_string_not_equal(s, "unknown error");
        for (int j = 0; j < e; j++) {
            assert_string_not_equal(s, seen[j]);
        }
        seen[e] = s;
    }
    assert_string_equal(picoacme_err_str((picoacme_err_t)(PICOACME_ERR_DNS + 1)), "unknown error");
}

/* A body longer than the buffer (r.stream): fed in pieces of `piece`
 * bytes into a 256-byte buffer, the decoded bytes handed on whenever the
 * buffer is full, then the rest. Returns the body collected into out. */
static size_t stream_body(const char *wire, size_t wl, size_t piece, char *out, size_t cap)
{
    uint8_t buf[256];
    size_t len = 0, at = 0, got = 0;
    picoacme_http_resp_t r;
    picoacme_err_t e = PICOACME_AGAIN;
    picoacme_http_resp_init(&r, false);
    r.stream = true;
    while (e == PICOACME_AGAIN) {
        size_t n = wl - at < piece ? wl - at : piece;
        if (n > sizeof buf - len)
            n = sizeof buf - len;
        memcpy(buf + len, wire + at, n);
        len += n;
        at += n;
        e = picoacme_http_parse(&r, buf, &len, sizeof buf, false);
        if (e == PICOACME_AGAIN && len == sizeof buf) {
            size_t k = picoacme_http_body_avail(&r, len);
            assert_true(k > 0U);
            assert_true(got + k <= cap);
            memcpy(out + got, buf + r.body.off, k);
            got += k;
            picoacme_http_body_drop(&r, buf, &len, k);
            assert_int_equal(picoacme_http_body_avail(&r, len), 0);
        }
    }
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(picoacme_http_body_avail(&r, len), 0); /* complete: the rest is r.body */
    assert_true(got + r.body.len <= cap);
    memcpy(out + got, buf + r.body.off, r.body.len);
    return got + r.body.len;
}

/* issue 8: a chain longer than the receive buffer, streamed */
static void test_stream_long_body(void **state)
{
    static char body[3000], wire[8192], out[4096];
    size_t bl = sizeof body, wl = 0;
    (void)state;
    for (size_t i = 0; i < bl; i++)
        body[i] = (char)('A' + i % 26U);
    /* chunked, odd chunk sizes (one larger than the buffer) */
    wl = (size_t)snprintf(wire, sizeof wire,
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0, k = 0; off < bl; k++) {
        size_t cl = k == 3 ? 700U : 1U + (k * 53U) % 200U;
        if (cl > bl - off)
            cl = bl - off;
        wl += (size_t)snprintf(wire + wl, sizeof wire - wl, "%zx\r\n", cl);
        memcpy(wire + wl, body + off, cl);
        wl += cl;
        wl += (size_t)snprintf(wire + wl, sizeof wire - wl, "\r\n");
        off += cl;
    }
    wl += (size_t)snprintf(wire + wl, sizeof wire - wl, "0\r\n\r\n");
    for (size_t piece = 1; piece <= 301; piece += 100) {
        memset(out, 0, sizeof out);
        assert_int_equal(stream_body(wire, wl, piece, out, sizeof out), bl);
        assert_memory_equal(out, body, bl);
    }
    /* Content-Length */
    wl = (size_t)snprintf(wire, sizeof wire, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", bl);
    memcpy(wire + wl, body, bl);
    wl += bl;
    memset(out, 0, sizeof out);
    assert_int_equal(stream_body(wire, wl, 97, out, sizeof out), bl);
    assert_memory_equal(out, body, bl);
    /* without stream, the same answer does not fit */
    {
        uint8_t buf[256];
        size_t len = 0;
        picoacme_http_resp_t r;
        picoacme_http_resp_init(&r, false);
        memcpy(buf, wire, sizeof buf);
        len = sizeof buf;
        assert_int_equal(picoacme_http_parse(&r, buf, &len, sizeof buf, false),
                         PICOACME_ERR_NOSPACE);
    }
}

/* The edges of taking a body out: bytes received past a Content-Length
 * body (the next answer's, before the parser saw them) are not the body's;
 * nothing to drop, and NULL arguments, change nothing. */
static void test_stream_edges(void **state)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    uint8_t buf[128];
    size_t hl = sizeof head - 1U, len;
    picoacme_http_resp_t r;
    (void)state;
    picoacme_http_resp_init(&r, false);
    r.stream = true;
    memcpy(buf, head, hl);
    memcpy(buf + hl, "0123", 4);
    len = hl + 4U;
    assert_int_equal(picoacme_http_body_avail(&r, len), 0); /* not parsed yet */
    assert_int_equal(picoacme_http_parse(&r, buf, &len, sizeof buf, false), PICOACME_AGAIN);
    assert_int_equal(picoacme_http_body_avail(&r, len), 4);
    /* the rest of the body and the start of the next answer come in */
    memcpy(buf + len, "456789HTTP/1.1", 14);
    len += 14U;
    assert_int_equal(picoacme_http_body_avail(&r, len), 10);
    picoacme_http_body_drop(&r, buf, &len, 0); /* nothing */
    picoacme_http_body_drop(NULL, buf, &len, 3);
    picoacme_http_body_drop(&r, NULL, &len, 3);
    picoacme_http_body_drop(&r, buf, NULL, 3);
    assert_int_equal(len, hl + 18U);
    assert_int_equal(picoacme_http_body_avail(NULL, len), 0);
    picoacme_http_body_drop(&r, buf, &len, 100); /* clipped to the body's 10 */
    assert_int_equal(len, hl + 8U);
    assert_memory_equal(buf + r.body.off, "HTTP/1.1", 8);
    assert_int_equal(picoacme_http_body_avail(&r, len), 0);
    assert_int_equal(picoacme_http_parse(&r, buf, &len, sizeof buf, false), PICOACME_OK);
    assert_int_equal(r.body.len, 0);
    assert_int_equal(r.consumed, hl); /* the next answer's bytes stay */
    assert_int_equal(picoacme_http_body_avail(&r, len), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pebble_201),
        cmocka_unit_test(test_pebble_challenge_link_up),
        cmocka_unit_test(test_content_type_and_nonce),
        cmocka_unit_test(test_nonce_too_long),
        cmocka_unit_test(test_chunked_every_split),
        cmocka_unit_test(test_chunked_framing_does_not_use_room),
        cmocka_unit_test(test_chunked_bad),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_content_length_rules),
        cmocka_unit_test(test_malformed_heads),
        cmocka_unit_test(test_interim_head_connection),
        cmocka_unit_test(test_head_and_no_body),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_http_date),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_err_str),
        cmocka_unit_test(test_stream_long_body),
        cmocka_unit_test(test_stream_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
