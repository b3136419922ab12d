/*
 * picoacme_http.h - HTTP/1.1 request writer, response parser and URL
 * splitter for exactly what ACME needs. Pure functions over caller buffers:
 * no I/O, no allocation.
 */
#ifndef PICOACME_HTTP_H
#define PICOACME_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"
#include "picoacme_time.h" /* picoacme_http_date */

/* A slice of a caller buffer: offset and length (offsets survive the
 * in-place de-chunking the parser does). len == 0 means absent. */
typedef struct picoacme_span {
    uint16_t off;
    uint16_t len;
} picoacme_span_t;

/* ---- URL ------------------------------------------------------------- */
typedef struct picoacme_url {
    bool https;
    const char *host; /* points into the URL; not NUL-terminated */
    size_t host_len;  /* without the [] of an IPv6 literal */
    uint16_t port;    /* explicit, or 443/80 by scheme */
    const char *path; /* from the first '/', "/" if the URL has none */
    size_t path_len;  /* includes any query string */
} picoacme_url_t;

/* Split an absolute http:// or https:// URL. Returns PICOACME_ERR_PARSE for
 * anything else (userinfo, fragment, bad port, empty host). */
picoacme_err_t picoacme_url_parse(const char *url, size_t len, picoacme_url_t *out);

/* ---- request --------------------------------------------------------- */
/* Write a request head into buf: "METHOD path HTTP/1.1", Host (with the
 * port when it is not the scheme's default), User-Agent, Accept (when
 * accept != NULL), Content-Type and Content-Length (when content_type !=
 * NULL; body_len bytes must follow), then the blank line. *out_len gets the
 * head's length. PICOACME_ERR_NOSPACE if it does not fit in cap. */
picoacme_err_t picoacme_http_request(uint8_t *buf, size_t cap, size_t *out_len, const char *method,
                                     const picoacme_url_t *url, const char *accept,
                                     const char *content_type, size_t body_len);

/* ---- response -------------------------------------------------------- */
typedef struct picoacme_http_resp {
    /* results, valid once picoacme_http_parse() returned PICOACME_OK */
    uint16_t status;
    bool keep_alive; /* false on "Connection: close" or HTTP/1.0 */
    bool has_retry_after;
    uint32_t retry_after_s; /* delta-seconds, or HTTP-date minus Date */
    int64_t date_s;         /* Date header as Unix seconds, -1 if absent/bad */
    picoacme_span_t location;
    picoacme_span_t nonce;        /* Replay-Nonce */
    bool nonce_too_long;          /* a valid Replay-Nonce of PICOACME_NONCE_MAX
                                     bytes or more came: nonce stays empty */
    picoacme_span_t content_type; /* media type only, parameters dropped */
    picoacme_span_t link_up;      /* target of the first Link with rel="up" */
    picoacme_span_t body;         /* the decoded body (chunks joined in place) */
    size_t consumed;              /* bytes of buf that belong to this response */
    /* parser state (private) */
    uint8_t phase;
    bool chunked;
    bool head_only; /* response to HEAD: no body */
    size_t content_length;
    size_t scan; /* next unparsed byte */
    size_t out;  /* end of decoded body so far */
    size_t chunk_left;
} picoacme_http_resp_t;

/* Prepare r for a new response; head_only for HEAD requests. */
void picoacme_http_resp_init(picoacme_http_resp_t *r, bool head_only);

/* Parse the len bytes received so far in buf (cap bytes of room). Call
 * again each time more bytes were appended at buf+len. Chunked bodies are
 * decoded in place, so buf is modified; the body ends up contiguous at
 * r->body. Returns PICOACME_OK when the response is complete, PICOACME_AGAIN
 * when more bytes are needed, PICOACME_ERR_NOSPACE when len == cap and the
 * response is incomplete, PICOACME_ERR_PARSE on malformed input. closed
 * tells that the peer closed the connection after these bytes (a body
 * delimited by close is then complete; anything else truncated is
 * PICOACME_ERR_PARSE). */
picoacme_err_t picoacme_http_parse(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t cap,
                                   bool closed);

#endif
