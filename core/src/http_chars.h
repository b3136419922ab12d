/*
 * http_chars.h - private to core/src: the character classes and the
 * case-insensitive compare shared by the HTTP response parser
 * (http_parse.c), the Link reader (http_link.c), the request writer
 * (http_write.c) and the URL splitter (url.c). The small ones are static
 * inline; the two larger ones are defined once, in http_chars.c.
 */
#ifndef PICOACME_HTTP_CHARS_H
#define PICOACME_HTTP_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

/* RFC 7230 §3.2.6 tchar: visible ASCII except DQUOTE and "(),/:;<=>?@[\]{}"
 * (http_chars.c). */
bool picoacme_http_is_tchar(uint8_t c);

/* Case-insensitive compare of p[0, n) with the lower-case literal lit
 * (http_chars.c). */
bool picoacme_http_ci_eq(const uint8_t *p, size_t n, const char *lit);

/* RFC 7230 §3.2.3 OWS: SP / HTAB */
static inline bool http_is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* First index at or after p in buf[p, e) that is not OWS. */
static inline size_t http_skip_ows(const uint8_t *buf, size_t p, size_t e)
{
    while (p < e && http_is_ows(buf[p])) {
        p++;
    }
    return p;
}

/* Host name bytes (RFC 3986 §3.2.2 reg-name, the subset ACME servers use). */
static inline bool url_is_host_char(uint8_t c)
{
    return util_is_digit(c) || util_is_alpha(c) || c == '-' || c == '.' || c == '_';
}

/* Bytes allowed in path and query: visible ASCII except '#'. */
static inline bool url_is_path_char(uint8_t c)
{
    return c > 0x20U && c < 0x7fU && c != '#';
}

#endif
