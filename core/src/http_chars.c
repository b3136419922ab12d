/*
 * http_chars.c - the two helpers of http_chars.h that are worth one copy
 * rather than one per file: the RFC 7230 token character test and the
 * case-insensitive compare with a lower-case literal.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http_chars.h"
#include "util.h"

bool picoacme_http_is_tchar(uint8_t c)
{
    return c > 0x20U && c < 0x7fU && memchr("\"(),/:;<=>?@[\\]{}", c, 17) == NULL;
}

bool picoacme_http_ci_eq(const uint8_t *p, size_t n, const char *lit)
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
