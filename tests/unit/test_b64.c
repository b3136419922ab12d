/*
 * test_b64.c - base64 / base64url (core/src/b64.c) against the RFC 4648 §10
 * test vectors and against `openssl base64` run on random bytes; strict
 * rejection of bad characters, bad padding and non-zero trailing bits.
 */
#define _POSIX_C_SOURCE 200809L /* popen */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_b64.h"

static const struct {
    const char *plain, *b64;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

/* The base64url form of a standard base64 string: -_ alphabet, no '='. */
static size_t to_url(const char *std, char *out)
{
    size_t n = 0;
    for (; *std != '\0'; std++) {
        if (*std == '=') {
            continue;
        }
        out[n++] = *std == '+' ? '-' : *std == '/' ? '_' : *std;
    }
    out[n] = '\0';
    return n;
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    char enc[32], url[32];
    uint8_t dec[32];
    size_t n;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        const char *p = rfc4648[i].plain;
        size_t pl = strlen(p), bl = strlen(rfc4648[i].b64);

        assert_int_equal(picoacme_b64_encode((const uint8_t *)p, pl, enc, sizeof(enc), &n),
                         PICOACME_OK);
        assert_int_equal(n, bl);
        assert_int_equal(n, PICOACME_B64_LEN(pl));
        assert_memory_equal(enc, rfc4648[i].b64, bl);
        assert_int_equal(picoacme_b64_decode(rfc4648[i].b64, bl, dec, sizeof(dec), &n),
                         PICOACME_OK);
        assert_int_equal(n, pl);
        assert_memory_equal(dec, p, pl);

        size_t ul = to_url(rfc4648[i].b64, url);
        assert_int_equal(picoacme_b64url_encode((const uint8_t *)p, pl, enc, sizeof(enc), &n),
                         PICOACME_OK);
        assert_int_equal(n, ul);
        assert_int_equal(n, PICOACME_B64URL_LEN(pl));
        assert_memory_equal(enc, url, ul);
        assert_int_equal(picoacme_b64url_decode(url, ul, dec, sizeof(dec), &n), PICOACME_OK);
        assert_int_equal(n, pl);
        assert_memory_equal(dec, p, pl);

        /* exact-size buffers work, one byte less does not */
        if (pl != 0U) {
            assert_int_equal(picoacme_b64_encode((const uint8_t *)p, pl, enc, bl - 1U, &n),
                             PICOACME_ERR_NOSPACE);
            assert_int_equal(picoacme_b64url_encode((const uint8_t *)p, pl, enc, ul - 1U, &n),
                             PICOACME_ERR_NOSPACE);
            assert_int_equal(picoacme_b64url_decode(url, ul, dec, pl - 1U, &n),
                             PICOACME_ERR_NOSPACE);
            assert_int_equal(picoacme_b64_decode(rfc4648[i].b64, bl, dec, pl - 1U, &n),
                             PICOACME_ERR_NOSPACE);
            assert_int_equal(picoacme_b64url_decode(url, ul, dec, pl, &n), PICOACME_OK);
            assert_int_equal(picoacme_b64_decode(rfc4648[i].b64, bl, dec, pl, &n), PICOACME_OK);
        }
    }
}

/* Run `openssl base64 [-A]` on data; its output in out (NUL-terminated). */
static size_t openssl_b64(const uint8_t *data, size_t n, bool one_line, char *out, size_t cap)
{
    char path[512], cmd[1024];
    snprintf(path, sizeof(path), "%s/b64_in.bin", PICOACME_TEST_TMPDIR);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    snprintf(cmd, sizeof(cmd), "openssl base64 %s -in '%s'", one_line ? "-A" : "", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, cap - 1U, p);
    out[got] = '\0';
    assert_int_equal(pclose(p), 0);
    /* -A still ends with a newline; drop it for the one-line form */
    while (one_line && got > 0U && (out[got - 1U] == '\n' || out[got - 1U] == '\r')) {
        out[--got] = '\0';
    }
    return got;
}

static void test_against_openssl(void **state)
{
    (void)state;
    static uint8_t data[1200], dec[1200];
    static char ossl[2400], mine[2400], url[2400];
    srand(4648);
    static const size_t lens[] = {0,  1,  2,  3,   4,   5,   31,  32,  33,   47,   48,
                                  49, 64, 65, 100, 255, 256, 257, 511, 1000, 1024, 1199};
    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
        size_t n = lens[li], m;
        for (size_t i = 0; i < n; i++) {
            data[i] = (uint8_t)rand();
        }
        /* standard, one line */
        size_t ol = openssl_b64(data, n, true, ossl, sizeof(ossl));
        assert_int_equal(picoacme_b64_encode(data, n, mine, sizeof(mine), &m), PICOACME_OK);
        assert_int_equal(m, ol);
        assert_memory_equal(mine, ossl, ol);
        /* base64url is the same bits in the other alphabet, unpadded */
        size_t ul = to_url(ossl, url);
        assert_int_equal(picoacme_b64url_encode(data, n, mine, sizeof(mine), &m), PICOACME_OK);
        assert_int_equal(m, ul);
        assert_memory_equal(mine, url, ul);
        assert_int_equal(picoacme_b64url_decode(url, ul, dec, sizeof(dec), &m), PICOACME_OK);
        assert_int_equal(m, n);
        assert_memory_equal(dec, data, n);
        /* in place: out aliases in */
        memcpy(mine, url, ul);
        assert_int_equal(picoacme_b64url_decode(mine, ul, (uint8_t *)mine, ul, &m), PICOACME_OK);
        assert_int_equal(m, n);
        assert_memory_equal(mine, data, n);

        /* PEM-style output wrapped at 64 columns with LF: decoded back */
        ol = openssl_b64(data, n, false, ossl, sizeof(ossl));
        if (n > 48U) {
            assert_non_null(strchr(ossl, '\n'));
        }
        assert_int_equal(picoacme_b64_decode(ossl, ol, dec, sizeof(dec), &m), PICOACME_OK);
        assert_int_equal(m, n);
        assert_memory_equal(dec, data, n);
    }
}

static void test_decode_rejects(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t n;
    static const char *url_bad[] = {
        "Z",               /* 1 char left over */
        "Zm9vY",           /* 5 chars */
        "Zg==",            /* padding */
        "Zg=",   "Zh",     /* trailing bits not zero (RFC 4648 §3.5) */
        "Zm9",             /* 'm9': last 2 bits of '9' non-zero */
        "Zm+v",            /* standard alphabet */
        "Zm/v",  "Zm9v\n", /* no whitespace in base64url */
        "Zm 9v", "Zm9v\x80", "Zm9\0",
    };
    for (size_t i = 0; i < sizeof(url_bad) / sizeof(url_bad[0]); i++) {
        size_t len = strlen(url_bad[i]);
        if (i == sizeof(url_bad) / sizeof(url_bad[0]) - 1U) {
            len = 4;
        }
        if (picoacme_b64url_decode(url_bad[i], len, out, sizeof(out), &n) != PICOACME_ERR_PARSE) {
            fail_msg("b64url accepted case %zu", i);
        }
    }
    assert_int_equal(picoacme_b64url_decode("Zm8", 3, out, sizeof(out), &n), PICOACME_OK);
    assert_int_equal(n, 2);
    assert_int_equal(picoacme_b64url_decode("-_-_", 4, out, sizeof(out), &n), PICOACME_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\xfb\xff\xbf", 3);

    static const char *std_bad[] = {
        "Zg",                              /* padding missing */
        "Zg=",                             /* padding short */
        "Z===",                            /* too much padding */
        "====",      "Zh==",               /* trailing bits */
        "Zm9=",      "Zg==Zg==",           /* data after the end */
        "Zm9vYg==x", "Zm=v",               /* '=' inside */
        "Zm-v",                            /* url alphabet */
        "Zm_v",      "Zm9v.",    "Zm9v\v", /* only CR LF SP TAB are skipped */
        "Zm9vY",
    };
    for (size_t i = 0; i < sizeof(std_bad) / sizeof(std_bad[0]); i++) {
        if (picoacme_b64_decode(std_bad[i], strlen(std_bad[i]), out, sizeof(out), &n) !=
            PICOACME_ERR_PARSE) {
            fail_msg("b64 accepted %s", std_bad[i]);
        }
    }
    /* whitespace anywhere, including inside the padding */
    const char *ws = " Zm9v\r\nYm\tE\n=\r\n";
    assert_int_equal(picoacme_b64_decode(ws, strlen(ws), out, sizeof(out), &n), PICOACME_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "fooba", 5);
    assert_int_equal(picoacme_b64_decode("\r\n", 2, out, sizeof(out), &n), PICOACME_OK);
    assert_int_equal(n, 0);

    /* NULL handling */
    assert_int_equal(picoacme_b64url_decode(NULL, 4, out, sizeof(out), &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_b64_encode((const uint8_t *)"x", 1, NULL, 4, &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_b64url_encode(NULL, 0, (char *)out, sizeof(out), &n), PICOACME_OK);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_against_openssl),
        cmocka_unit_test(test_decode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
