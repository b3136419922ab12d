/*
 * url.c - splits an absolute http:// or https:// URL (RFC 3986 §3, the
 * subset ACME servers use) into scheme, host, port and path. No I/O, no
 * allocation: the result points into the caller's string.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http_chars.h"
#include "picoacme_http.h"
#include "util.h"

/* Length of a "https://" or "http://" prefix (any case), 0 for neither. */
static size_t scheme_len(const uint8_t *u, size_t len, bool *https)
{
    if (len >= 8U && picoacme_http_ci_eq(u, 8, "https://")) {
        *https = true;
        return 8;
    }
    if (len >= 7U && picoacme_http_ci_eq(u, 7, "http://")) {
        *https = false;
        return 7;
    }
    return 0;
}

static bool is_ip6_char(uint8_t c)
{
    return util_hex_val(c) >= 0 || c == ':' || c == '.';
}

/* IP-literal at *p (on the '['): an IPv6 address (hex, ':' and an embedded
 * dotted IPv4); zone identifiers and IPvFuture are not accepted. [*hs, *he)
 * is the address without the brackets; *p moves past the ']'. */
static bool ip_literal(const uint8_t *u, size_t len, size_t *p, size_t *hs, size_t *he)
{
    size_t i = *p + 1U;
    *hs = i;
    while (i < len && u[i] != ']') {
        if (!is_ip6_char(u[i])) {
            return false;
        }
        i++;
    }
    if (i == len) {
        return false;
    }
    *he = i;
    *p = i + 1U;
    /* at least "::" */
    return i - *hs >= 2U && memchr(u + *hs, ':', i - *hs) != NULL;
}

/* The host at *p: [*hs, *he), 1 to 255 bytes; *p moves past it. */
static bool host(const uint8_t *u, size_t len, size_t *p, size_t *hs, size_t *he)
{
    if (*p < len && u[*p] == '[') {
        if (!ip_literal(u, len, p, hs, he)) {
            return false;
        }
    } else {
        *hs = *p;
        while (*p < len && url_is_host_char(u[*p])) {
            (*p)++;
        }
        *he = *p;
    }
    return *he != *hs && *he - *hs <= 255U;
}

/* An optional ":" port (1 to 5 digits, 1..65535) at *p; *port keeps the
 * scheme's default when there is none. */
static bool port(const uint8_t *u, size_t len, size_t *p, uint16_t *out)
{
    if (*p == len || u[*p] != ':') {
        return true;
    }
    size_t ps = ++(*p);
    while (*p < len && util_is_digit(u[*p]) && *p - ps < 5U) {
        (*p)++;
    }
    uint32_t v = 0;
    if (!util_dec_bounded((const char *)u + ps, *p - ps, 65535U, &v) || v == 0U) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

/* What follows the authority: nothing, or a path (and query) starting with
 * '/'. Refuses userinfo '@', '?' right after the host, a fragment, a space,
 * control or non-ASCII bytes, and a sixth port digit. */
static bool path(const uint8_t *u, size_t p, size_t len)
{
    if (p < len && u[p] != '/') {
        return false;
    }
    for (size_t i = p; i < len; i++) {
        if (!url_is_path_char(u[i])) {
            return false;
        }
    }
    return true;
}

picoacme_err_t picoacme_url_parse(const char *url, size_t len, picoacme_url_t *out)
{
    if (url == NULL || out == NULL) {
        return PICOACME_ERR_PARAM;
    }
    const uint8_t *u = (const uint8_t *)url;
    bool https = false;
    size_t p = scheme_len(u, len, &https);
    size_t hs = 0, he = 0;
    uint16_t pt = https ? 443U : 80U;
    if (p == 0U || !host(u, len, &p, &hs, &he) || !port(u, len, &p, &pt) || !path(u, p, len)) {
        return PICOACME_ERR_PARSE;
    }
    out->https = https;
    out->host = url + hs;
    out->host_len = he - hs;
    out->port = pt;
    if (p < len) {
        out->path = url + p;
        out->path_len = len - p;
    } else {
        out->path = "/";
        out->path_len = 1;
    }
    return PICOACME_OK;
}
