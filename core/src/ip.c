/*
 * ip.c - IP address text: the IPv4 dotted quad (RFC 791) and the IPv6 text
 * forms (RFC 4291 §2.2) to network-order bytes, and the reverse-DNS name a
 * tls-alpn-01 validator sends as SNI for an IP identifier (RFC 8738 §6,
 * RFC 1035 §3.5, RFC 3596 §2.5).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_alpn.h"
#include "picoacme_x509.h"
#include "util.h"

/* Exactly four decimal parts 0..255, no sign, no leading zero ("01" is
 * rejected: some parsers read it as octal). */
static bool ipv4_parse(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (size_t part = 0; part < 4U; part++) {
        if (part > 0U) {
            if (i >= len || s[i] != '.') {
                return false;
            }
            i++;
        }
        size_t start = i;
        while (i < len && util_is_digit(s[i]) && i - start < 4U) {
            i++;
        }
        size_t nd = i - start;
        if (nd == 0U || nd > 3U || (nd > 1U && s[start] == '0')) {
            return false;
        }
        unsigned v = util_dec(s + start, nd);
        if (v > 255U) {
            return false;
        }
        out[part] = (uint8_t)v;
    }
    return i == len;
}

/* An IPv6 address being read: the bytes so far and where "::" stood. */
typedef struct v6 {
    uint8_t b[16];
    size_t n;   /* bytes produced */
    size_t gap; /* byte index of "::" */
    bool has_gap;
} v6_t;

/* After a group at s[*pos] (not the end): ':' or "::" (once). */
static bool v6_sep(const char *s, size_t len, size_t *pos, v6_t *a)
{
    size_t i = *pos;
    if (s[i] != ':') {
        return false;
    }
    i++;
    if (i < len && s[i] == ':') {
        if (a->has_gap) {
            return false; /* a second "::" */
        }
        a->has_gap = true;
        a->gap = a->n;
        i++;
    } else if (i == len) {
        return false; /* trailing single ':' */
    }
    *pos = i;
    return true;
}

/* One group of 1..4 hex digits and its separator, or the trailing dotted
 * quad (the rest of the text). */
static bool v6_piece(const char *s, size_t len, size_t *pos, v6_t *a)
{
    size_t start = *pos;
    size_t i = start;
    unsigned v = 0;
    int h;

    if (a->n >= 16U) {
        return false;
    }
    while (i < len && (h = util_hex_val(s[i])) >= 0 && i - start < 5U) {
        v = (v << 4) | (unsigned)h;
        i++;
    }
    if (i < len && s[i] == '.') {
        if (a->n > 12U || !ipv4_parse(s + start, len - start, a->b + a->n)) {
            return false;
        }
        a->n += 4U;
        *pos = len;
        return true;
    }
    if (i == start || i - start > 4U) {
        return false;
    }
    a->b[a->n++] = (uint8_t)(v >> 8);
    a->b[a->n++] = (uint8_t)(v & 0xFFU);
    *pos = i;
    return i == len || v6_sep(s, len, pos, a);
}

/* Groups of 1..4 hex digits, at most one "::" standing for one or more zero
 * groups, optionally ending in a dotted quad. No zone index. */
static bool ipv6_parse(const char *s, size_t len, uint8_t out[16])
{
    v6_t a = {.n = 0, .gap = 0, .has_gap = false};
    size_t i = 0;

    if (len < 2U || (s[0] == ':' && s[1] != ':')) {
        return false;
    }
    if (s[0] == ':') {
        a.has_gap = true;
        i = 2;
    }
    while (i < len) {
        if (!v6_piece(s, len, &i, &a)) {
            return false;
        }
    }
    if (!a.has_gap) {
        if (a.n != 16U) {
            return false;
        }
        memcpy(out, a.b, 16);
        return true;
    }
    if (a.n >= 16U) {
        return false; /* "::" must stand for at least one group */
    }
    memset(out, 0, 16);
    memcpy(out, a.b, a.gap);
    memcpy(out + 16U - (a.n - a.gap), a.b + a.gap, a.n - a.gap);
    return true;
}

picoacme_err_t picoacme_ip_parse(const char *s, size_t len, uint8_t out[16], size_t *out_len)
{
    if (s == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    if (memchr(s, ':', len) != NULL) {
        if (!ipv6_parse(s, len, out)) {
            return PICOACME_ERR_PARSE;
        }
        *out_len = 16;
        return PICOACME_OK;
    }
    if (!ipv4_parse(s, len, out)) {
        return PICOACME_ERR_PARSE;
    }
    *out_len = 4;
    return PICOACME_OK;
}

/* "d.c.b.a." of a[0..4), the decimal octets last first; the length. */
static size_t rev4(const uint8_t a[4], char *t)
{
    size_t n = 0;
    for (size_t i = 4; i > 0U; i--) {
        unsigned v = a[i - 1U];
        if (v >= 100U) {
            t[n++] = (char)('0' + v / 100U);
        }
        if (v >= 10U) {
            t[n++] = (char)('0' + (v / 10U) % 10U);
        }
        t[n++] = (char)('0' + v % 10U);
        t[n++] = '.';
    }
    return n;
}

/* The 32 nibbles of a[0..16), last first, each followed by a dot. */
static size_t rev6(const uint8_t a[16], char *t)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t i = 16; i > 0U; i--) {
        t[n++] = hex[a[i - 1U] & 0x0FU];
        t[n++] = '.';
        t[n++] = hex[a[i - 1U] >> 4];
        t[n++] = '.';
    }
    return n;
}

picoacme_err_t picoacme_reverse_name(const char *ip, size_t ip_len, char *out, size_t cap,
                                     size_t *out_len)
{
    static const char v4_suffix[] = "in-addr.arpa";
    static const char v6_suffix[] = "ip6.arpa";
    /* longest: 32 nibbles and dots, "ip6.arpa", NUL */
    char tmp[64 + sizeof v6_suffix];
    uint8_t a[16];
    size_t alen;

    if (ip == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    if (picoacme_ip_parse(ip, ip_len, a, &alen) != PICOACME_OK) {
        return PICOACME_ERR_PARSE;
    }
    const char *suffix = alen == 4U ? v4_suffix : v6_suffix;
    size_t slen = alen == 4U ? sizeof v4_suffix - 1U : sizeof v6_suffix - 1U;
    size_t n = alen == 4U ? rev4(a, tmp) : rev6(a, tmp);
    memcpy(tmp + n, suffix, slen);
    n += slen;
    if (n >= cap) {
        return PICOACME_ERR_NOSPACE;
    }
    memcpy(out, tmp, n);
    out[n] = '\0';
    *out_len = n;
    return PICOACME_OK;
}
