/*
 * http_chars.h - private to core/src: the character classes and the
 * case-insensitive compare shared by the HTTP response parser
 * (http_parse.c), the request writer (http_write.c) and the URL splitter
 * (url.c). Everything is static inline.
 */
#ifndef PICOACME_HTTP_CHARS_H
#define PICOACME_HTTP_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

/* RFC 7230 §3.2.6 tchar: visible ASCII except DQUOTE and "(),/:;<=>?@[\]{}" */
static inline bool http_is_tchar(uint8_t c)
{
    return c > 0x20U && c < 0x7fU && memchr("\"(),/:;<=>?@[\\]{}", c, 17) == NULL;
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

/* Case-insensitive compare of p[0, n) with the lower-case literal lit. */
static inline bool http_ci_eq(const uint8_t *p, size_t n, const char *lit)
{
    if (n != strlen(lit)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (util_lower(p[i]) != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}

#endif
