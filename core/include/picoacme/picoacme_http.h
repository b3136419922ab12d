/*
 * picoacme_http.h - HTTP/1.1 for exactly what ACME needs: the URL splitter
 * (url.c), the request-head writer (http_write.c) and the incremental
 * response parser (http_parse.c). Pure functions over caller buffers: no
 * I/O, no allocation; the caller owns every byte of memory they touch.
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

/* Split an absolute http:// or https:// URL (RFC 3986 §3, the subset ACME
 * servers use: reg-name or IPv6 literal host, optional port, path and query).
 *   url, len  the URL; exactly len bytes are read (no NUL needed)
 *   out       the parts; host and path point into url (path may instead
 *             point to a static "/"), so url must outlive out. Written only
 *             on success.
 * Returns one of:
 *   PICOACME_OK         out is filled
 *   PICOACME_ERR_PARAM  url or out is NULL
 *   PICOACME_ERR_PARSE  any other scheme, userinfo, fragment, empty or over
 *                       255-byte host, bad port (0, > 65535, not digits),
 *                       a byte outside visible ASCII in the path */
picoacme_err_t picoacme_url_parse(const char *url, size_t len, picoacme_url_t *out);

/* ---- request --------------------------------------------------------- */
/* Write a request head into buf: "METHOD path HTTP/1.1", Host (with the
 * port when it is not the scheme's default), User-Agent, Accept, Content-Type,
 * Content-Length, then the blank line. Nothing is NUL-terminated.
 *   buf, cap      the caller's output buffer and its size
 *   out_len       gets the head's length (written only on success)
 *   method        a token such as "GET", "HEAD", "POST" (NUL-terminated)
 *   url           from picoacme_url_parse(): host and path are checked again
 *                 so no byte of them can inject a header
 *   accept        Accept value, or NULL for none
 *   content_type  Content-Type value, or NULL for none
 *   body_len      Content-Length, sent when content_type != NULL or the
 *                 method is neither GET nor HEAD (RFC 7230 §3.3.2); the
 *                 caller sends body_len bytes after the head
 * Returns one of:
 *   PICOACME_OK            the head is in buf[0, *out_len)
 *   PICOACME_ERR_PARAM     a NULL argument, an empty or non-token method,
 *                          host or path bytes a URL may not hold, a control
 *                          byte in accept or content_type, body_len of
 *                          4 GiB or more (64-bit hosts)
 *   PICOACME_ERR_NOSPACE   the head does not fit in cap (buf is then
 *                          partly written) */
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
    /* set by the caller after picoacme_http_resp_init(): the body may be
     * longer than buf; the caller takes its decoded bytes out as they come
     * (picoacme_http_body_avail(), picoacme_http_body_drop()) */
    bool stream;
    /* parser state (private) */
    uint8_t phase;
    bool chunked;
    bool head_only; /* response to HEAD: no body */
    size_t content_length;
    size_t scan; /* next unparsed byte */
    size_t out;  /* end of decoded body so far */
    size_t chunk_left;
} picoacme_http_resp_t;

/* Prepare r (caller-owned, any storage) for a new response; head_only for
 * the answer to a HEAD request (no body follows its head). NULL is
 * ignored. */
void picoacme_http_resp_init(picoacme_http_resp_t *r, bool head_only);

/* Parse the response received so far. Call again, with the same r and buf,
 * each time more bytes were appended at buf + *len.
 *   r       initialised by picoacme_http_resp_init(); its spans are offsets
 *           into buf, valid as long as buf is not moved or overwritten
 *   buf     the caller's receive buffer. Chunked bodies are decoded in place
 *           (framing squeezed out), so buf is modified and the body ends up
 *           contiguous at r->body
 *   len     in: bytes received in buf; out: reduced by the chunk framing
 *           removed, so the next bytes go at buf + *len
 *   cap     size of buf, at most 65535 (spans are 16 bits)
 *   closed  the peer closed the connection after these bytes: a body
 *           delimited by close is then complete
 * Returns one of:
 *   PICOACME_OK            complete: the results in r are valid and
 *                          r->consumed bytes of buf belong to this response
 *                          (any bytes after them belong to the next one)
 *   PICOACME_AGAIN         more bytes are needed
 *   PICOACME_ERR_NOSPACE   *len == cap and the response is incomplete, a
 *                          Content-Length or chunk larger than the room
 *                          left, or cap over 65535
 *   PICOACME_ERR_PARSE     malformed response, 101, or truncated by close
 *   PICOACME_ERR_CLOSED    closed before any byte arrived
 *   PICOACME_ERR_PARAM     a NULL argument, or *len/r inconsistent with buf
 *   PICOACME_ERR_STATE     r was corrupted */
picoacme_err_t picoacme_http_parse(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t cap,
                                   bool closed);

/* Streaming a body longer than buf (r->stream set): with r->stream, a
 * Content-Length or chunk larger than cap is accepted, and a full buffer in
 * the body makes picoacme_http_parse() return PICOACME_AGAIN instead of
 * PICOACME_ERR_NOSPACE: the caller then hands on the decoded body bytes
 * received so far and drops them, which frees their room. (A full buffer
 * with nothing to drop, a head longer than buf, stays the caller's to
 * refuse.)
 *
 * picoacme_http_body_avail(): how many decoded body bytes are complete at
 * buf + r->body.off (0 while the head is parsed, and once the response is
 * complete: its rest is r->body then). r from picoacme_http_parse(); len
 * the caller's *len. No failure.
 *
 * picoacme_http_body_drop(): removes the first n of those bytes (n at most
 * what picoacme_http_body_avail() returned; more is clipped) from buf:
 * what follows moves down, *len is reduced by n, and parsing goes on with
 * the next bytes appended at buf + *len. A NULL argument is ignored. */
size_t picoacme_http_body_avail(const picoacme_http_resp_t *r, size_t len);
void picoacme_http_body_drop(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t n);

#endif
