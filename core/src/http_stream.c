/*
 * http_stream.c - a response body longer than the receive buffer, taken
 * out of it while the parser (http_parse.c) goes on: what of the body is
 * decoded so far, and dropping it from the buffer (picoacme_http.h).
 */
#include <stddef.h>
#include <string.h>

#include "http_phase.h"
#include "picoacme_http.h"

size_t picoacme_http_body_avail(const picoacme_http_resp_t *r, size_t len)
{
    size_t n = 0;
    if (r == NULL || r->phase < PH_BODY_LEN || r->phase == PH_DONE) {
        return 0;
    }
    if (r->phase == PH_BODY_LEN || r->phase == PH_BODY_CLOSE) {
        n = len > r->scan ? len - r->scan : 0U;
        if (r->phase == PH_BODY_LEN && n > r->content_length) {
            n = r->content_length;
        }
    } else {
        n = r->out - r->body.off; /* chunked: decoded so far */
    }
    return n;
}

void picoacme_http_body_drop(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t n)
{
    size_t at;
    if (r == NULL || buf == NULL || len == NULL) {
        return;
    }
    size_t avail = picoacme_http_body_avail(r, *len);
    n = n < avail ? n : avail;
    if (n == 0U) {
        return;
    }
    at = r->body.off;
    memmove(buf + at, buf + at + n, *len - at - n);
    *len -= n;
    if (r->phase == PH_BODY_LEN) {
        r->content_length -= n;
    } else if (r->phase != PH_BODY_CLOSE) {
        r->out -= n;
        r->scan -= n;
    }
}
