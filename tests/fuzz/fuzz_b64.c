/*
 * fuzz_b64.c - libFuzzer target for core/src/b64.c.
 *
 * Byte 0 of the input selects what the rest is: 0 a base64url string,
 * 1 a standard base64 (PEM body) string, 2/3 raw bytes to encode. Decoding
 * is strict, so an accepted string must be the canonical encoding of what
 * it decodes to (after dropping whitespace for standard base64); encoding
 * then decoding must give the input back, also when decoding in place.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok) {
        abort();
    }
}

#define MAXN 4096U
static uint8_t bin[MAXN], bin2[MAXN];
static char txt[2U * MAXN], txt2[2U * MAXN];

static void fuzz_url_decode(const char *in, size_t n)
{
    size_t m, k;
    picoacme_err_t e = picoacme_b64url_decode(in, n, bin, sizeof(bin), &m);
    /* a too-small buffer is refused before anything is written */
    if (e == PICOACME_OK && m > 0U) {
        check(picoacme_b64url_decode(in, n, bin2, m - 1U, &k) == PICOACME_ERR_NOSPACE);
    }
    if (e != PICOACME_OK) {
        check(e == PICOACME_ERR_PARSE);
        return;
    }
    check(m <= n);
    check(picoacme_b64url_encode(bin, m, txt, sizeof(txt), &k) == PICOACME_OK);
    check(k == n && memcmp(txt, in, n) == 0);
    /* in place */
    memcpy(txt2, in, n);
    check(picoacme_b64url_decode(txt2, n, (uint8_t *)txt2, n, &k) == PICOACME_OK);
    check(k == m && memcmp(txt2, bin, m) == 0);
}

static void fuzz_std_decode(const char *in, size_t n)
{
    size_t m, k, c = 0;
    picoacme_err_t e = picoacme_b64_decode(in, n, bin, sizeof(bin), &m);
    if (e != PICOACME_OK) {
        check(e == PICOACME_ERR_PARSE || e == PICOACME_ERR_NOSPACE);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '\r' && in[i] != '\n' && in[i] != ' ' && in[i] != '\t') {
            txt2[c++] = in[i];
        }
    }
    check(picoacme_b64_encode(bin, m, txt, sizeof(txt), &k) == PICOACME_OK);
    check(k == c && memcmp(txt, txt2, c) == 0);
    if (m > 0U) {
        check(picoacme_b64_decode(in, n, bin2, m - 1U, &k) == PICOACME_ERR_NOSPACE);
    }
}

static void fuzz_encode(const uint8_t *in, size_t n)
{
    size_t m, k;
    check(picoacme_b64url_encode(in, n, txt, sizeof(txt), &m) == PICOACME_OK);
    check(m == PICOACME_B64URL_LEN(n));
    if (m > 0U) {
        check(picoacme_b64url_encode(in, n, txt2, m - 1U, &k) == PICOACME_ERR_NOSPACE);
    }
    check(picoacme_b64url_decode(txt, m, (uint8_t *)txt, m, &k) == PICOACME_OK);
    check(k == n && memcmp(txt, in, n) == 0);

    check(picoacme_b64_encode(in, n, txt, sizeof(txt), &m) == PICOACME_OK);
    check(m == PICOACME_B64_LEN(n));
    check(picoacme_b64_decode(txt, m, bin, sizeof(bin), &k) == PICOACME_OK);
    check(k == n && memcmp(bin, in, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1U || size > MAXN) {
        return 0;
    }
    const char *s = (const char *)data + 1;
    size_t n = size - 1U;
    switch (data[0] & 3U) {
    case 0: fuzz_url_decode(s, n); break;
    case 1: fuzz_std_decode(s, n); break;
    default: fuzz_encode(data + 1, n); break;
    }
    return 0;
}
