/*
 * b64.c - base64url without padding (RFC 4648 §5, as JWS uses it, RFC 7515
 * §2) and padded standard base64 (RFC 4648 §4, PEM bodies). Decoding is
 * strict: characters outside the alphabet, wrong padding and non-zero
 * trailing bits (RFC 4648 §3.5) are PICOACME_ERR_PARSE. On any error the
 * contents of out are unspecified.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_b64.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define BAD 0xFFU

/* Value of c in the alphabet (62/63 given by c62/c63), or BAD. */
static uint8_t sextet(char ch, char c62, char c63)
{
    uint8_t c = (uint8_t)ch;
    if (c >= 'A' && c <= 'Z') {
        return (uint8_t)(c - 'A');
    }
    if (c >= 'a' && c <= 'z') {
        return (uint8_t)(c - 'a' + 26);
    }
    if (c >= '0' && c <= '9') {
        return (uint8_t)(c - '0' + 52);
    }
    if (ch == c62) {
        return 62U;
    }
    if (ch == c63) {
        return 63U;
    }
    return BAD;
}

/* Encode; pad selects '=' padding. Lengths were checked by the caller. */
static void encode(const uint8_t *in, size_t in_len, char *out, const char *alpha, bool pad,
                   size_t *out_len)
{
    size_t i = 0, o = 0;
    for (; in_len - i >= 3U; i += 3U) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1U] << 8) | in[i + 2U];
        out[o++] = alpha[(v >> 18) & 63U];
        out[o++] = alpha[(v >> 12) & 63U];
        out[o++] = alpha[(v >> 6) & 63U];
        out[o++] = alpha[v & 63U];
    }
    size_t rem = in_len - i;
    if (rem != 0U) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (rem == 2U) {
            v |= (uint32_t)in[i + 1U] << 8;
        }
        out[o++] = alpha[(v >> 18) & 63U];
        out[o++] = alpha[(v >> 12) & 63U];
        if (rem == 2U) {
            out[o++] = alpha[(v >> 6) & 63U];
        } else if (pad) {
            out[o++] = '=';
        }
        if (pad) {
            out[o++] = '=';
        }
    }
    *out_len = o;
}

/* The arguments every entry point takes: in may be NULL only when empty,
 * out only when cap is 0. */
static bool args_ok(const void *in, size_t in_len, const void *out, size_t cap,
                    const size_t *out_len)
{
    return (in != NULL || in_len == 0U) && out_len != NULL && (out != NULL || cap == 0U);
}

/* RFC 4648 §3.5: the bits of the 24-bit group v below its first n bytes
 * (the pad bits) are zero. */
static bool pad_bits_zero(uint32_t v, size_t n)
{
    return (v & ((1UL << (24U - 8U * n)) - 1U)) == 0U;
}

/* Store the first n (1 to 3) bytes of the 24-bit group v. */
static void put_group(uint8_t *out, uint32_t v, size_t n)
{
    out[0] = (uint8_t)(v >> 16);
    if (n > 1U) {
        out[1] = (uint8_t)(v >> 8);
    }
    if (n > 2U) {
        out[2] = (uint8_t)v;
    }
}

picoacme_err_t picoacme_b64url_encode(const uint8_t *in, size_t in_len, char *out, size_t cap,
                                      size_t *out_len)
{
    if (!args_ok(in, in_len, out, cap, out_len)) {
        return PICOACME_ERR_PARAM;
    }
    if (in_len > (SIZE_MAX - 2U) / 4U || cap < PICOACME_B64URL_LEN(in_len)) {
        return PICOACME_ERR_NOSPACE;
    }
    encode(in, in_len, out, url_alpha, false, out_len);
    return PICOACME_OK;
}

picoacme_err_t picoacme_b64_encode(const uint8_t *in, size_t in_len, char *out, size_t cap,
                                   size_t *out_len)
{
    if (!args_ok(in, in_len, out, cap, out_len)) {
        return PICOACME_ERR_PARAM;
    }
    if (in_len > SIZE_MAX / 4U - 2U || cap < PICOACME_B64_LEN(in_len)) {
        return PICOACME_ERR_NOSPACE;
    }
    encode(in, in_len, out, std_alpha, true, out_len);
    return PICOACME_OK;
}

/* One base64url group of g (2 to 4) characters into g - 1 bytes at out;
 * false for a character outside the alphabet or non-zero trailing bits.
 * The whole group is read before anything is written. */
static bool url_group(const char *in, size_t g, uint8_t *out)
{
    uint32_t v = 0;
    for (size_t k = 0; k < g; k++) {
        uint8_t s = sextet(in[k], '-', '_');
        if (s == BAD) {
            return false;
        }
        v = (v << 6) | s;
    }
    v <<= 6U * (4U - g);
    if (!pad_bits_zero(v, g - 1U)) {
        return false;
    }
    put_group(out, v, g - 1U);
    return true;
}

picoacme_err_t picoacme_b64url_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
                                      size_t *out_len)
{
    if (!args_ok(in, in_len, out, cap, out_len)) {
        return PICOACME_ERR_PARAM;
    }
    size_t rem = in_len % 4U;
    if (rem == 1U) {
        return PICOACME_ERR_PARSE;
    }
    size_t need = (in_len / 4U) * 3U + (rem == 0U ? 0U : rem - 1U);
    if (cap < need) {
        return PICOACME_ERR_NOSPACE;
    }
    /* Each group of 4 characters is read before its 3 bytes are written, and
     * output index 3k+2 < input index 4k+4, so out may alias in. */
    size_t i = 0, o = 0;
    while (i < in_len) {
        size_t g = in_len - i >= 4U ? 4U : in_len - i;
        if (!url_group(in + i, g, out + o)) {
            return PICOACME_ERR_PARSE;
        }
        i += g;
        o += g - 1U;
    }
    *out_len = o;
    return PICOACME_OK;
}

static bool is_space(char c)
{
    return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

/* Shift one character into the group *v that has g characters so far:
 * '=' only in its third or fourth place, and nothing but '=' after one. */
static bool add_char(char c, size_t g, uint32_t *v, size_t *pads)
{
    if (c == '=') {
        if (g < 2U) {
            return false;
        }
        (*pads)++;
        *v <<= 6;
        return true;
    }
    uint8_t s = sextet(c, '+', '/');
    if (s == BAD || *pads != 0U) {
        return false;
    }
    *v = (*v << 6) | s;
    return true;
}

picoacme_err_t picoacme_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
                                   size_t *out_len)
{
    if (!args_ok(in, in_len, out, cap, out_len)) {
        return PICOACME_ERR_PARAM;
    }
    size_t o = 0, g = 0, pads = 0;
    uint32_t v = 0;
    bool ended = false; /* a padded group was complete: only whitespace may follow */
    for (size_t i = 0; i < in_len; i++) {
        if (is_space(in[i])) {
            continue;
        }
        if (ended || !add_char(in[i], g, &v, &pads)) {
            return PICOACME_ERR_PARSE;
        }
        if (++g < 4U) {
            continue;
        }
        size_t n = 3U - pads;
        if (!pad_bits_zero(v, n)) {
            return PICOACME_ERR_PARSE;
        }
        if (cap - o < n) {
            return PICOACME_ERR_NOSPACE;
        }
        put_group(out + o, v, n);
        o += n;
        ended = pads != 0U;
        g = 0;
        v = 0;
    }
    if (g != 0U) {
        return PICOACME_ERR_PARSE; /* unpadded or truncated final group */
    }
    *out_len = o;
    return PICOACME_OK;
}
