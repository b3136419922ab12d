/*
 * util.c - the shared helpers of util.h that are too large to inline in
 * every file that uses them (one copy in the image instead of one per file).
 */
#include "util.h"

/* Decimal value of the n digits at s (n <= 9; the caller checked they are
 * digits). */
unsigned util_dec(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v * 10U + (unsigned)(s[i] - '0');
    }
    return v;
}

/* Decimal value of s[0, n) into *out: false when n is 0, a byte is not a
 * digit or the value exceeds max. */
bool util_dec_bounded(const char *s, size_t n, uint32_t max, uint32_t *out)
{
    uint32_t v = 0;
    if (n == 0U) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!util_is_digit(s[i])) {
            return false;
        }
        uint32_t d = (uint32_t)(s[i] - '0');
        if (v > (max - d) / 10U) {
            return false;
        }
        v = v * 10U + d;
    }
    *out = v;
    return true;
}

/* Length of s, at most max (strnlen is not C11). */
size_t util_strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != '\0') {
        n++;
    }
    return n;
}

void util_put(util_wbuf_t *w, const void *src, size_t n)
{
    if (w->over || n > w->cap - w->len) {
        w->over = true;
        return;
    }
    if (n != 0U) {
        memcpy(w->buf + w->len, src, n);
    }
    w->len += n;
}

void util_put_str(util_wbuf_t *w, const char *s)
{
    util_put(w, s, strlen(s));
}

void util_put8(util_wbuf_t *w, unsigned v)
{
    uint8_t b = (uint8_t)v;
    util_put(w, &b, 1U);
}

void util_put16(util_wbuf_t *w, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    util_put(w, b, 2U);
}

void util_put32(util_wbuf_t *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    util_put(w, b, 4U);
}

/* v in decimal, no leading zeros. */
void util_put_dec(util_wbuf_t *w, uint32_t v)
{
    char d[10];
    size_t n = 0;
    do {
        d[sizeof d - 1U - n] = (char)('0' + v % 10U);
        v /= 10U;
        n++;
    } while (v != 0U);
    util_put(w, d + sizeof d - n, n);
}
