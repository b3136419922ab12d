/*
 * http_write.c - writes the head of an HTTP/1.1 request for ACME (RFC 7230
 * §3.1.1 request line, §5.4 Host; RFC 7231 §5 request headers) into a
 * caller buffer. Every string from the caller is checked first, so nothing
 * it holds can inject a header. No I/O, no allocation.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http_chars.h"
#include "picoacme_http.h"
#include "util.h"

/* A method is a non-empty token (RFC 7231 §4.1). */
static bool method_ok(const char *m)
{
    if (m[0] == '\0') {
        return false;
    }
    for (; *m != '\0'; m++) {
        if (!picoacme_http_is_tchar((uint8_t)*m)) {
            return false;
        }
    }
    return true;
}

/* Host bytes, or ':' for an IPv6 literal (*v6 then tells to bracket it). */
static bool host_ok(const char *h, size_t n, bool *v6)
{
    *v6 = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)h[i];
        if (c == ':') {
            *v6 = true;
        } else if (!url_is_host_char(c)) {
            return false;
        }
    }
    return n != 0U;
}

/* An origin-form path (and query), starting with '/'. */
static bool path_ok(const char *p, size_t n)
{
    if (n == 0U || p[0] != '/') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!url_is_path_char((uint8_t)p[i])) {
            return false;
        }
    }
    return true;
}

static bool url_ok(const picoacme_url_t *url, bool *v6)
{
    return url != NULL && url->host != NULL && url->path != NULL &&
           host_ok(url->host, url->host_len, v6) && path_ok(url->path, url->path_len);
}

/* An optional header value from the caller: visible ASCII and spaces, no
 * CR/LF. NULL (header left out) is fine. */
static bool value_ok(const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        uint8_t c = (uint8_t)*s;
        if (c < 0x20U || c == 0x7fU) {
            return false;
        }
    }
    return true;
}

/* method equals m; stops at the first difference (no over-read) */
static bool method_is(const char *method, const char *m)
{
    size_t i = 0;
    while (m[i] != '\0' && method[i] == m[i]) {
        i++;
    }
    return m[i] == '\0' && method[i] == '\0';
}

/* "Name: value CRLF" when value != NULL. */
static void put_field(util_wbuf_t *w, const char *name, const char *value)
{
    if (value != NULL) {
        util_put_str(w, name);
        util_put_str(w, value);
        util_put_str(w, "\r\n");
    }
}

/* Host [ ":" port ], the port only when it is not the scheme's default. */
static void put_host(util_wbuf_t *w, const picoacme_url_t *url, bool v6)
{
    util_put_str(w, "Host: ");
    if (v6) {
        util_put_str(w, "[");
    }
    util_put(w, url->host, url->host_len);
    if (v6) {
        util_put_str(w, "]");
    }
    if (url->port != (url->https ? 443U : 80U)) {
        util_put_str(w, ":");
        util_put_dec(w, url->port);
    }
    util_put_str(w, "\r\n");
}

picoacme_err_t picoacme_http_request(uint8_t *buf, size_t cap, size_t *out_len, const char *method,
                                     const picoacme_url_t *url, const char *accept,
                                     const char *content_type, size_t body_len)
{
    bool v6 = false;
    if (buf == NULL || out_len == NULL || method == NULL || !method_ok(method) ||
        !url_ok(url, &v6) || !value_ok(accept) || !value_ok(content_type)) {
        return PICOACME_ERR_PARAM;
    }
#if SIZE_MAX > UINT32_MAX
    if (body_len > UINT32_MAX) {
        return PICOACME_ERR_PARAM; /* no buffer holds such a body */
    }
#endif
    util_wbuf_t w;
    util_wbuf_init(&w, buf, cap);
    util_put_str(&w, method);
    util_put_str(&w, " ");
    util_put(&w, url->path, url->path_len);
    util_put_str(&w, " HTTP/1.1\r\n");
    put_host(&w, url, v6);
    util_put_str(&w, "User-Agent: picoacme/0.1\r\n");
    put_field(&w, "Accept: ", accept);
    put_field(&w, "Content-Type: ", content_type);
    /* RFC 7230 §3.3.2: a body-carrying method states its length, even 0 */
    if (content_type != NULL || !(method_is(method, "GET") || method_is(method, "HEAD"))) {
        util_put_str(&w, "Content-Length: ");
        util_put_dec(&w, (uint32_t)body_len);
        util_put_str(&w, "\r\n");
    }
    util_put_str(&w, "\r\n");
    if (w.over) {
        return PICOACME_ERR_NOSPACE;
    }
    *out_len = w.len;
    return PICOACME_OK;
}
