/*
 * http_parse.c - incremental HTTP/1.1 response parser for ACME over one
 * caller buffer (RFC 7230 message syntax and chunked coding, RFC 7231 dates
 * and Retry-After, RFC 8288 Link, RFC 8555 §6.5.1 Replay-Nonce). No I/O, no
 * allocation; every offset is bounded by cap.
 *
 * Response buffer layout while parsing
 * ------------------------------------
 *   [0, body.off)          the head (any skipped 1xx heads, status line,
 *                          header lines, blank line), left untouched
 *   [body.off, out)        the decoded body so far (chunked only)
 *   [scan, *len)           received bytes not parsed yet
 * For a chunked body, the chunk framing (size lines, CRLFs, trailers) is
 * squeezed out in place: before returning, the unparsed tail is moved down to
 * `out` and *len is reduced by the bytes removed, so the caller always appends
 * at buf + *len and never loses room to framing.
 *
 * When picoacme_http_parse() returns PICOACME_OK, r->consumed is the number
 * of bytes at the start of buf that belong to this response AFTER that
 * decoding: head + body as delimited by Content-Length, head + decoded body
 * for chunked (framing and trailers already removed from buf), *len for a
 * body delimited by close, head only for HEAD/204/304. Any bytes in
 * [consumed, *len) were received beyond this response (pipelining); the
 * caller moves them to the front before parsing the next response.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http_chars.h"
#include "http_link.h"
#include "http_phase.h"
#include "picoacme_config_defaults.h" /* PICOACME_NONCE_MAX */
#include "picoacme_http.h"
#include "picoacme_time.h"
#include "util.h"

/* Offsets are uint16_t spans. */
#define SPAN_CAP_MAX 65535U
/* Content-Length not seen. */
#define CL_NONE SIZE_MAX
/* Content-Length larger than any buffer (saturated). */
#define CL_HUGE ((size_t)0xFFFFFFFEU)
/* Retry-After values are saturated here (one year); the engine applies its
 * own, smaller, PICOACME_RETRY_AFTER_MAX_S limit. */
#define RETRY_AFTER_CAP_S (366UL * 86400UL)

/* ---- lexical helpers ----------------------------------------------------- */

static bool is_b64url(uint8_t c)
{
    return util_is_digit(c) || util_is_alpha(c) || c == '-' || c == '_';
}

/* End of [s, e) without its trailing OWS. */
static size_t trim_ows(const uint8_t *buf, size_t s, size_t e)
{
    while (e > s && http_is_ows(buf[e - 1U])) {
        e--;
    }
    return e;
}

/* Case-insensitive compare of buf[s, e) with a lower-case literal. */
static bool ci_eq(const uint8_t *buf, size_t s, size_t e, const char *lit)
{
    return picoacme_http_ci_eq(buf + s, e - s, lit);
}

/* field-value and reason-phrase bytes: HTAB, SP, VCHAR, obs-text
 * (RFC 7230 §3.2, §3.1.2). */
static bool text_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((p[i] < 0x20U && p[i] != '\t') || p[i] == 0x7fU) {
            return false;
        }
    }
    return true;
}

static picoacme_span_t mkspan(size_t s, size_t e)
{
    picoacme_span_t sp;
    sp.off = (uint16_t)s;
    sp.len = (uint16_t)(e - s);
    return sp;
}

/* Digits only, saturating at sat. false if empty or not all digits. */
static bool parse_uint(const uint8_t *buf, size_t s, size_t e, uint64_t sat, uint64_t *out)
{
    uint64_t v = 0;
    if (s == e) {
        return false;
    }
    for (size_t i = s; i < e; i++) {
        if (!util_is_digit(buf[i])) {
            return false;
        }
        v = v * 10U + (uint64_t)(buf[i] - '0');
        if (v > sat) {
            v = sat;
        }
    }
    *out = v;
    return true;
}

/* ---- state --------------------------------------------------------------- */

/* Reset everything a response head sets (also after a skipped 1xx head). */
static void reset_fields(picoacme_http_resp_t *r)
{
    r->status = 0;
    r->keep_alive = true;
    r->has_retry_after = false;
    r->retry_after_s = 0;
    r->date_s = -1;
    memset(&r->location, 0, sizeof(r->location));
    memset(&r->nonce, 0, sizeof(r->nonce));
    r->nonce_too_long = false;
    memset(&r->content_type, 0, sizeof(r->content_type));
    memset(&r->link_up, 0, sizeof(r->link_up));
    memset(&r->body, 0, sizeof(r->body));
    r->consumed = 0;
    r->chunked = false;
    r->content_length = CL_NONE;
    r->out = 0;
    /* while the head is parsed, chunk_left holds 1 + the offset of a
     * Retry-After HTTP-date still to be resolved against Date */
    r->chunk_left = 0;
}

void picoacme_http_resp_init(picoacme_http_resp_t *r, bool head_only)
{
    if (r == NULL) {
        return;
    }
    memset(r, 0, sizeof(*r));
    reset_fields(r);
    r->phase = PH_STATUS;
    r->scan = 0;
    r->head_only = head_only;
}

/* Find the CRLF ending the line that starts at from. OK with *end at the CR
 * and *next after the LF; AGAIN when the line is incomplete; PARSE for a
 * bare CR, bare LF or NUL. */
static picoacme_err_t next_line(const uint8_t *buf, size_t from, size_t len, size_t *end,
                                size_t *next)
{
    for (size_t i = from; i < len; i++) {
        uint8_t c = buf[i];
        if (c == '\r') {
            if (i + 1U >= len) {
                return PICOACME_AGAIN;
            }
            if (buf[i + 1U] != '\n') {
                return PICOACME_ERR_PARSE;
            }
            *end = i;
            *next = i + 2U;
            return PICOACME_OK;
        }
        if (c == '\n' || c == 0U) {
            return PICOACME_ERR_PARSE;
        }
    }
    return PICOACME_AGAIN;
}

/* ---- status line --------------------------------------------------------- */

/* RFC 7230 §3.1.2: HTTP-version SP 3DIGIT SP reason-phrase. A missing
 * reason (with or without its SP) is tolerated. */
static bool status_line_ok(const uint8_t *l, size_t n)
{
    if (n < 12U || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ') {
        return false;
    }
    if (!util_is_digit(l[9]) || !util_is_digit(l[10]) || !util_is_digit(l[11])) {
        return false;
    }
    return n == 12U || (l[12] == ' ' && text_ok(l + 13, n - 13U));
}

static picoacme_err_t parse_status(picoacme_http_resp_t *r, const uint8_t *l, size_t n)
{
    if (!status_line_ok(l, n)) {
        return PICOACME_ERR_PARSE;
    }
    unsigned st = util_dec((const char *)l + 9, 3);
    if (st < 100U || st > 599U) {
        return PICOACME_ERR_PARSE;
    }
    r->status = (uint16_t)st;
    if (l[7] == '0') {
        r->keep_alive = false;
    }
    return PICOACME_OK;
}

/* ---- headers ------------------------------------------------------------ */

/* RFC 8288: the target of the first Link with rel="up" (the issuer chain
 * of RFC 8555 §7.4.2); not parsed with PICOACME_HTTP_LINK 0. */
static picoacme_err_t hdr_link(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs, size_t ve)
{
    size_t us, ue;
    if (PICOACME_HTTP_LINK && r->link_up.len == 0U && picoacme_link_up(buf, vs, ve, &us, &ue)) {
        r->link_up = mkspan(us, ue);
    }
    return PICOACME_OK;
}

static picoacme_err_t hdr_location(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs,
                                   size_t ve)
{
    (void)buf;
    if (r->location.len == 0U && ve > vs) {
        r->location = mkspan(vs, ve);
    }
    return PICOACME_OK;
}

/* RFC 8555 §6.5.1: base64url; clients MUST ignore invalid values. The first
 * valid one counts; when it is too long for the engine's nonce buffer
 * (PICOACME_NONCE_MAX with its NUL) it is flagged, not recorded. */
static picoacme_err_t hdr_nonce(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs, size_t ve)
{
    bool ok = ve > vs && r->nonce.len == 0U && !r->nonce_too_long;
    for (size_t i = vs; i < ve && ok; i++) {
        ok = is_b64url(buf[i]);
    }
    if (!ok) {
        return PICOACME_OK;
    }
    if (ve - vs >= PICOACME_NONCE_MAX) {
        r->nonce_too_long = true;
    } else {
        r->nonce = mkspan(vs, ve);
    }
    return PICOACME_OK;
}

/* RFC 7231 §7.1.3: HTTP-date / delta-seconds; unusable values ignored. An
 * HTTP-date is resolved against Date at the end of the head. */
static picoacme_err_t hdr_retry_after(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs,
                                      size_t ve)
{
    uint64_t v;
    if (r->has_retry_after || r->chunk_left != 0U || ve == vs) {
        return PICOACME_OK;
    }
    if (!util_is_digit(buf[vs])) {
        r->chunk_left = vs + 1U;
    } else if (parse_uint(buf, vs, ve, RETRY_AFTER_CAP_S, &v)) {
        r->has_retry_after = true;
        r->retry_after_s = (uint32_t)v;
    }
    return PICOACME_OK;
}

/* The media type only: parameters after ';' are dropped. */
static picoacme_err_t hdr_content_type(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs,
                                       size_t ve)
{
    if (r->content_type.len != 0U) {
        return PICOACME_OK;
    }
    size_t te = vs;
    while (te < ve && buf[te] != ';') {
        te++;
    }
    te = trim_ows(buf, vs, te);
    if (te > vs) {
        r->content_type = mkspan(vs, te);
    }
    return PICOACME_OK;
}

/* RFC 7230 §3.3.2: 1*DIGIT; duplicates must agree (§3.3.3 item 4). */
static picoacme_err_t hdr_content_length(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs,
                                         size_t ve)
{
    uint64_t v;
    if (!parse_uint(buf, vs, ve, CL_HUGE, &v)) {
        return PICOACME_ERR_PARSE;
    }
    if (r->content_length != CL_NONE && r->content_length != (size_t)v) {
        return PICOACME_ERR_PARSE;
    }
    r->content_length = (size_t)v;
    return PICOACME_OK;
}

/* Only "chunked", once: we never ask for any other coding. */
static picoacme_err_t hdr_transfer_encoding(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs,
                                            size_t ve)
{
    if (r->chunked || !ci_eq(buf, vs, ve, "chunked")) {
        return PICOACME_ERR_PARSE;
    }
    r->chunked = true;
    return PICOACME_OK;
}

/* RFC 7230 §6.1: a comma-separated list of options; "close" is the one. */
static picoacme_err_t hdr_connection(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs,
                                     size_t ve)
{
    size_t i = vs;
    while (i < ve) {
        size_t ts = http_skip_ows(buf, i, ve);
        size_t te = ts;
        while (te < ve && buf[te] != ',') {
            te++;
        }
        i = te + 1U;
        if (ci_eq(buf, ts, trim_ows(buf, ts, te), "close")) {
            r->keep_alive = false;
        }
    }
    return PICOACME_OK;
}

static picoacme_err_t hdr_date(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs, size_t ve)
{
    int64_t d;
    if (r->date_s < 0 && picoacme_http_date((const char *)buf + vs, ve - vs, &d) == PICOACME_OK) {
        r->date_s = d;
    }
    return PICOACME_OK;
}

/* A handler gets the value buf[vs, ve), OWS trimmed. */
typedef picoacme_err_t (*hdr_fn)(picoacme_http_resp_t *r, const uint8_t *buf, size_t vs, size_t ve);

/* The headers the parser acts on, names in lower case; others are skipped. */
static const struct hdr {
    const char *name;
    hdr_fn fn;
} hdrs[] = {
    {"location", hdr_location},
    {"replay-nonce", hdr_nonce},
    {"retry-after", hdr_retry_after},
    {"link", hdr_link},
    {"content-type", hdr_content_type},
    {"content-length", hdr_content_length},
    {"transfer-encoding", hdr_transfer_encoding},
    {"connection", hdr_connection},
    {"date", hdr_date},
};

/* One header line buf[s, e) (without CRLF). RFC 7230 §3.2. */
static picoacme_err_t parse_header(picoacme_http_resp_t *r, const uint8_t *buf, size_t s, size_t e)
{
    size_t p = s;
    while (p < e && picoacme_http_is_tchar(buf[p])) {
        p++;
    }
    /* no obs-fold, no whitespace before ':' (§3.2.4), non-empty name */
    if (p == s || p == e || buf[p] != ':') {
        return PICOACME_ERR_PARSE;
    }
    size_t vs = http_skip_ows(buf, p + 1U, e);
    size_t ve = trim_ows(buf, vs, e);
    if (!text_ok(buf + vs, ve - vs)) {
        return PICOACME_ERR_PARSE;
    }
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        if (ci_eq(buf, s, p, hdrs[i].name)) {
            return hdrs[i].fn(r, buf, vs, ve);
        }
    }
    return PICOACME_OK;
}

/* §4.1.2: trailer fields are checked for syntax and dropped. */
static picoacme_err_t parse_trailer(const uint8_t *buf, size_t s, size_t e)
{
    picoacme_http_resp_t scratch;
    memset(&scratch, 0, sizeof(scratch));
    reset_fields(&scratch);
    return parse_header(&scratch, buf, s, e);
}

/* ---- end of the head ------------------------------------------------------ */

/* Retry-After given as an HTTP-date: relative to the response's Date
 * (the device clock may be unknown). Without a usable Date it is ignored. */
static void resolve_retry_date(picoacme_http_resp_t *r, const uint8_t *buf, size_t head_end)
{
    if (r->chunk_left == 0U) {
        return;
    }
    size_t vs = r->chunk_left - 1U, ve = vs;
    r->chunk_left = 0;
    while (ve < head_end && buf[ve] != '\r') {
        ve++;
    }
    ve = trim_ows(buf, vs, ve);
    int64_t t;
    if (r->date_s < 0 || picoacme_http_date((const char *)buf + vs, ve - vs, &t) != PICOACME_OK) {
        return;
    }
    int64_t d = t - r->date_s;
    if (d < 0) {
        d = 0;
    }
    if (d > (int64_t)RETRY_AFTER_CAP_S) {
        d = (int64_t)RETRY_AFTER_CAP_S;
    }
    r->has_retry_after = true;
    r->retry_after_s = (uint32_t)d;
}

/* The blank line ending a head was read; scan is past it. RFC 7230 §3.3.3. */
static picoacme_err_t end_of_head(picoacme_http_resp_t *r, const uint8_t *buf, size_t cap)
{
    if (r->status < 200U) {
        if (r->status == 101U) {
            return PICOACME_ERR_PARSE; /* we never ask to switch protocols */
        }
        reset_fields(r); /* interim 1xx head: skip it */
        r->phase = PH_STATUS;
        return PICOACME_OK;
    }
    resolve_retry_date(r, buf, r->scan);
    if (r->chunked && r->content_length != CL_NONE) {
        return PICOACME_ERR_PARSE; /* §3.3.3 item 3: possible smuggling */
    }
    r->body = mkspan(r->scan, r->scan);
    if (r->head_only || r->status == 204U || r->status == 304U) {
        r->consumed = r->scan;
        r->phase = PH_DONE;
    } else if (r->chunked) {
        r->out = r->scan;
        r->phase = PH_CHUNK_SIZE;
    } else if (r->content_length != CL_NONE) {
        if (!r->stream && r->content_length > cap - r->scan) {
            return PICOACME_ERR_NOSPACE;
        }
        r->phase = PH_BODY_LEN;
    } else {
        r->keep_alive = false;
        r->phase = PH_BODY_CLOSE;
    }
    return PICOACME_OK;
}

/* ---- body ---------------------------------------------------------------- */

static picoacme_err_t body_len(picoacme_http_resp_t *r, size_t n)
{
    if (n - r->scan < r->content_length) {
        return PICOACME_AGAIN;
    }
    r->body = mkspan(r->scan, r->scan + r->content_length);
    r->consumed = r->scan + r->content_length;
    r->phase = PH_DONE;
    return PICOACME_OK;
}

static picoacme_err_t body_close(picoacme_http_resp_t *r, size_t n, bool closed)
{
    if (!closed) {
        return PICOACME_AGAIN;
    }
    r->body = mkspan(r->scan, n);
    r->consumed = n;
    r->phase = PH_DONE;
    return PICOACME_OK;
}

/* RFC 7230 §4.1: chunk-size [ chunk-ext ] CRLF, chunk-size = 1*HEXDIG. */
static picoacme_err_t parse_chunk_size(picoacme_http_resp_t *r, const uint8_t *buf, size_t s,
                                       size_t e, size_t cap)
{
    size_t v = 0, p = s;
    int d;
    while (p < e && (d = util_hex_val(buf[p])) >= 0) {
        if (v > (SIZE_MAX >> 4)) {
            return PICOACME_ERR_PARSE; /* hex overflow */
        }
        v = (v << 4) | (size_t)d;
        p++;
    }
    if (p == s) {
        return PICOACME_ERR_PARSE;
    }
    /* the rest must be chunk extensions (ignored): BWS ";" ... */
    p = http_skip_ows(buf, p, e);
    if (p != e && buf[p] != ';') {
        return PICOACME_ERR_PARSE;
    }
    if (!r->stream && v > cap - r->out) {
        return PICOACME_ERR_NOSPACE;
    }
    r->chunk_left = v;
    r->phase = v == 0U ? PH_TRAILER : PH_CHUNK_DATA;
    return PICOACME_OK;
}

/* Chunk data received so far: moved down to the decoded end. */
static picoacme_err_t chunk_data(picoacme_http_resp_t *r, uint8_t *buf, size_t n)
{
    size_t k = n - r->scan;
    if (k > r->chunk_left) {
        k = r->chunk_left;
    }
    if (k > 0U && r->out != r->scan) {
        memmove(buf + r->out, buf + r->scan, k);
    }
    r->out += k;
    r->scan += k;
    r->chunk_left -= k;
    if (r->chunk_left != 0U) {
        return PICOACME_AGAIN;
    }
    r->phase = PH_CHUNK_CRLF;
    return PICOACME_OK;
}

/* The CRLF after chunk data. */
static picoacme_err_t chunk_crlf(picoacme_http_resp_t *r, const uint8_t *buf, size_t n)
{
    if (n - r->scan >= 1U && buf[r->scan] != '\r') {
        return PICOACME_ERR_PARSE;
    }
    if (n - r->scan < 2U) {
        return PICOACME_AGAIN;
    }
    if (buf[r->scan + 1U] != '\n') {
        return PICOACME_ERR_PARSE;
    }
    r->scan += 2U;
    r->phase = PH_CHUNK_SIZE;
    return PICOACME_OK;
}

/* Chunked framing: move the unparsed tail down to the decoded end. */
static void compact(picoacme_http_resp_t *r, uint8_t *buf, size_t *len)
{
    if (r->scan > r->out) {
        size_t gap = r->scan - r->out;
        memmove(buf + r->out, buf + r->scan, *len - r->scan);
        *len -= gap;
        r->scan = r->out;
    }
}

static picoacme_err_t finish_chunked(picoacme_http_resp_t *r, uint8_t *buf, size_t *len)
{
    compact(r, buf, len);
    r->body = mkspan(r->body.off, r->out);
    r->consumed = r->out;
    r->chunk_left = 0;
    r->phase = PH_DONE;
    return PICOACME_OK;
}

/* ---- the phases ---------------------------------------------------------- */

/* One complete line [s, end) of a line-oriented phase; scan is already past
 * its CRLF. */
static picoacme_err_t on_line(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t cap,
                              size_t s, size_t end)
{
    bool blank = end == s;
    switch (r->phase) {
    case PH_STATUS: r->phase = PH_HEADERS; return parse_status(r, buf + s, end - s);
    case PH_HEADERS: return blank ? end_of_head(r, buf, cap) : parse_header(r, buf, s, end);
    case PH_CHUNK_SIZE: return parse_chunk_size(r, buf, s, end, cap);
    default: /* PH_TRAILER */
        return blank ? finish_chunked(r, buf, len) : parse_trailer(buf, s, end);
    }
}

static picoacme_err_t line(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t cap)
{
    size_t s = r->scan, end = 0, next = 0;
    picoacme_err_t e = next_line(buf, s, *len, &end, &next);
    if (e != PICOACME_OK) {
        return e;
    }
    r->scan = next;
    return on_line(r, buf, len, cap, s, end);
}

/* Advance by one phase step: OK to go on, AGAIN for more bytes, or an error. */
static picoacme_err_t step(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t cap,
                           bool closed)
{
    switch (r->phase) {
    case PH_STATUS:
    case PH_HEADERS:
    case PH_CHUNK_SIZE:
    case PH_TRAILER: return line(r, buf, len, cap);
    case PH_BODY_LEN: return body_len(r, *len);
    case PH_BODY_CLOSE: return body_close(r, *len, closed);
    case PH_CHUNK_DATA: return chunk_data(r, buf, *len);
    case PH_CHUNK_CRLF: return chunk_crlf(r, buf, *len);
    default: return PICOACME_ERR_STATE;
    }
}

static picoacme_err_t check_args(const picoacme_http_resp_t *r, const uint8_t *buf,
                                 const size_t *len, size_t cap)
{
    if (r == NULL || buf == NULL || len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (cap > SPAN_CAP_MAX) {
        return PICOACME_ERR_NOSPACE;
    }
    if (*len > cap || r->scan > *len || r->out > r->scan) {
        return PICOACME_ERR_PARAM;
    }
    return PICOACME_OK;
}

/* More bytes are needed: squeeze out chunk framing, then tell whether they
 * can still come. */
static picoacme_err_t incomplete(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t cap,
                                 bool closed)
{
    if (r->phase >= PH_CHUNK_SIZE && r->phase <= PH_TRAILER) {
        compact(r, buf, len);
    }
    if (closed) {
        return (*len == 0U) ? PICOACME_ERR_CLOSED : PICOACME_ERR_PARSE;
    }
    if (*len == cap && !(r->stream && r->phase >= PH_BODY_LEN)) {
        return PICOACME_ERR_NOSPACE;
    }
    return PICOACME_AGAIN;
}

picoacme_err_t picoacme_http_parse(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t cap,
                                   bool closed)
{
    picoacme_err_t e = check_args(r, buf, len, cap);
    while (e == PICOACME_OK && r->phase != PH_DONE) {
        e = step(r, buf, len, cap, closed);
    }
    if (e != PICOACME_AGAIN) {
        return e;
    }
    return incomplete(r, buf, len, cap, closed);
}
