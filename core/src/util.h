/*
 * util.h - private to core/src: the character tests, decimal readers and the
 * bounded byte writer that the codecs and the engine share (BearSSL's
 * inner.h idea: one place for the small helpers, so there is one of each).
 * The smallest are static inline; the rest live once in util.c. Nothing
 * here allocates or touches the OS.
 */
#ifndef PICOACME_UTIL_H
#define PICOACME_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- characters --------------------------------------------------------- */

static inline bool util_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline bool util_is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Value of one hex digit (either case), -1 for anything else. */
static inline int util_hex_val(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static inline int util_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* ---- numbers ------------------------------------------------------------ */

/* Decimal value of the n digits at s (n <= 9; the caller checked they are
 * digits). */
unsigned util_dec(const char *s, size_t n);

/* Decimal value of s[0, n) into *out: false when n is 0, a byte is not a
 * digit or the value exceeds max. */
bool util_dec_bounded(const char *s, size_t n, uint32_t max, uint32_t *out);

/* Length of s, at most max (strnlen is not C11). */
size_t util_strnlen(const char *s, size_t max);

/* ---- a bounded byte writer ---------------------------------------------- */

/* A writer that runs out of room sets `over` and writes nothing more; the
 * caller checks `over` once at the end (one check instead of one per put). */
typedef struct util_wbuf {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool over;
} util_wbuf_t;

static inline void util_wbuf_init(util_wbuf_t *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->over = false;
}

void util_put(util_wbuf_t *w, const void *src, size_t n);

void util_put_str(util_wbuf_t *w, const char *s);

void util_put8(util_wbuf_t *w, unsigned v);

void util_put16(util_wbuf_t *w, unsigned v);

void util_put32(util_wbuf_t *w, uint32_t v);

/* v in decimal, no leading zeros. */
void util_put_dec(util_wbuf_t *w, uint32_t v);

/* Big-endian loads and stores. */
static inline uint16_t util_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t util_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void util_set16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void util_set32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- added by dns (store.c): little-endian loads and stores -------------- */

static inline uint16_t util_get16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t util_get32le(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void util_set16le(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void util_set32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif
