/*
 * http.c - HTTP/1.1 for ACME: URL splitter, request-head writer and an
 * incremental response parser over one caller buffer (RFC 7230 message
 * syntax, RFC 7231 dates and Retry-After, RFC 8288 Link, RFC 8555 §6.5.1
 * Replay-Nonce). No I/O, no allocation; every offset is bounded by cap.
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
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_http.h"
#include "picoacme_time.h"

enum {
    PH_STATUS = 0, /* expecting a status line at scan */
    PH_HEADERS,    /* header lines until the blank line */
    PH_BODY_LEN,   /* body of content_length bytes */
    PH_BODY_CLOSE, /* body delimited by the peer closing */
    PH_CHUNK_SIZE, /* chunk-size line */
    PH_CHUNK_DATA, /* chunk_left bytes of chunk data */
    PH_CHUNK_CRLF, /* CRLF after chunk data */
    PH_TRAILER,    /* trailer lines until the blank line */
    PH_DONE
};

/* Offsets are uint16_t spans. */
#define SPAN_CAP_MAX 65535U
/* Content-Length not seen. */
#define CL_NONE SIZE_MAX
/* Content-Length larger than any buffer (saturated). */
#define CL_HUGE ((size_t)0xFFFFFFFEU)
/* Retry-After values are saturated here (one year); the engine applies its
 * own, smaller, PICOACME_RETRY_AFTER_MAX_S limit. */
#define RETRY_AFTER_CAP_S (366UL * 86400UL)

/* ---- character classes ------------------------------------------------ */

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32U) : c;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 7230 §3.2.6 tchar: visible ASCII except DQUOTE and "(),/:;<=>?@[\]{}" */
static bool is_tchar(uint8_t c)
{
    return c > 0x20U && c < 0x7fU && memchr("\"(),/:;<=>?@[\\]{}", c, 17) == NULL;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bool is_b64url(uint8_t c)
{
    return is_digit(c) || is_alpha(c) || c == '-' || c == '_';
}

/* Case-insensitive compare of p[0, n) with the lower-case lit[0, n). */
static bool ci_match(const uint8_t *p, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lower(p[i]) != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}

/* Case-insensitive compare of buf[s, e) with a lower-case literal. */
static bool ci_eq(const uint8_t *buf, size_t s, size_t e, const char *lit)
{
    size_t n = strlen(lit);
    return e - s == n && ci_match(buf + s, lit, n);
}

static picoacme_span_t mkspan(size_t s, size_t e)
{
    picoacme_span_t sp;
    sp.off = (uint16_t)s;
    sp.len = (uint16_t)(e - s);
    return sp;
}

/* ---- URL (RFC 3986 §3, the subset ACME servers use) -------------------- */

static bool is_host_char(uint8_t c)
{
    return is_digit(c) || is_alpha(c) || c == '-' || c == '.' || c == '_';
}

/* Bytes allowed in path and query: visible ASCII except '#'. */
static bool is_path_char(uint8_t c)
{
    return c > 0x20U && c < 0x7fU && c != '#';
}

picoacme_err_t picoacme_url_parse(const char *url, size_t len, picoacme_url_t *out)
{
    if (url == NULL || out == NULL) {
        return PICOACME_ERR_PARAM;
    }
    const uint8_t *u = (const uint8_t *)url;
    size_t p;
    bool https;

    if (len >= 8U && ci_eq(u, 0, 8, "https://")) {
        https = true;
        p = 8;
    } else if (len >= 7U && ci_eq(u, 0, 7, "http://")) {
        https = false;
        p = 7;
    } else {
        return PICOACME_ERR_PARSE;
    }

    size_t hs, he;
    if (p < len && u[p] == '[') {
        /* IP-literal: IPv6 address (hex, ':' and an embedded dotted IPv4);
         * zone identifiers and IPvFuture are not accepted. */
        hs = ++p;
        while (p < len && u[p] != ']') {
            uint8_t c = u[p];
            if (!(is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' || c == '.')) {
                return PICOACME_ERR_PARSE;
            }
            p++;
        }
        if (p == len) {
            return PICOACME_ERR_PARSE;
        }
        he = p++;
        /* at least "::" */
        if (he - hs < 2U || memchr(u + hs, ':', he - hs) == NULL) {
            return PICOACME_ERR_PARSE;
        }
    } else {
        hs = p;
        while (p < len && is_host_char(u[p])) {
            p++;
        }
        he = p;
    }
    if (he == hs || he - hs > 255U) {
        return PICOACME_ERR_PARSE;
    }

    uint32_t port = https ? 443U : 80U;
    if (p < len && u[p] == ':') {
        size_t ps = ++p;
        port = 0;
        while (p < len && is_digit(u[p]) && p - ps < 5U) {
            port = port * 10U + (uint32_t)(u[p] - '0');
            p++;
        }
        if (p == ps || port == 0U || port > 65535U) {
            return PICOACME_ERR_PARSE;
        }
    }

    /* what follows the authority: nothing, or a path starting with '/' */
    if (p < len && u[p] != '/') {
        return PICOACME_ERR_PARSE; /* userinfo '@', '?', '#', bad char, 6-digit port */
    }
    for (size_t i = p; i < len; i++) {
        if (!is_path_char(u[i])) {
            return PICOACME_ERR_PARSE; /* fragment, space, control, non-ASCII */
        }
    }

    out->https = https;
    out->host = url + hs;
    out->host_len = he - hs;
    out->port = (uint16_t)port;
    if (p < len) {
        out->path = url + p;
        out->path_len = len - p;
    } else {
        out->path = "/";
        out->path_len = 1;
    }
    return PICOACME_OK;
}

/* ---- request head (RFC 7230 §3.1.1, §5.4; RFC 7231 §5) ----------------- */

typedef struct writer {
    uint8_t *buf;
    size_t cap;
    size_t n;
    bool over;
} writer_t;

static void put(writer_t *w, const void *s, size_t n)
{
    if (w->over || n > w->cap - w->n) {
        w->over = true;
        return;
    }
    memcpy(w->buf + w->n, s, n);
    w->n += n;
}

static void put_str(writer_t *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_dec(writer_t *w, size_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + (char)(v % 10U));
        v /= 10U;
    } while (v != 0U);
    put(w, tmp + i, sizeof(tmp) - i);
}

/* A header value from the caller: visible ASCII and spaces, no CR/LF. */
static bool value_ok(const char *s)
{
    for (; *s != '\0'; s++) {
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

picoacme_err_t picoacme_http_request(uint8_t *buf, size_t cap, size_t *out_len, const char *method,
                                     const picoacme_url_t *url, const char *accept,
                                     const char *content_type, size_t body_len)
{
    if (buf == NULL || out_len == NULL || method == NULL || url == NULL || url->host == NULL ||
        url->path == NULL || url->host_len == 0U || url->path_len == 0U || url->path[0] != '/' ||
        method[0] == '\0') {
        return PICOACME_ERR_PARAM;
    }
    for (const char *m = method; *m != '\0'; m++) {
        if (!is_tchar((uint8_t)*m)) {
            return PICOACME_ERR_PARAM;
        }
    }
    bool v6 = false;
    for (size_t i = 0; i < url->host_len; i++) {
        uint8_t c = (uint8_t)url->host[i];
        if (c == ':') {
            v6 = true;
        } else if (!is_host_char(c)) {
            return PICOACME_ERR_PARAM;
        }
    }
    for (size_t i = 0; i < url->path_len; i++) {
        if (!is_path_char((uint8_t)url->path[i])) {
            return PICOACME_ERR_PARAM;
        }
    }
    if ((accept != NULL && !value_ok(accept)) ||
        (content_type != NULL && !value_ok(content_type))) {
        return PICOACME_ERR_PARAM;
    }

    writer_t w = {buf, cap, 0, false};
    put_str(&w, method);
    put(&w, " ", 1);
    put(&w, url->path, url->path_len);
    put_str(&w, " HTTP/1.1\r\nHost: ");
    if (v6) {
        put(&w, "[", 1);
    }
    put(&w, url->host, url->host_len);
    if (v6) {
        put(&w, "]", 1);
    }
    if (url->port != (url->https ? 443U : 80U)) {
        put(&w, ":", 1);
        put_dec(&w, url->port);
    }
    put_str(&w, "\r\nUser-Agent: picoacme/0.1\r\n");
    if (accept != NULL) {
        put_str(&w, "Accept: ");
        put_str(&w, accept);
        put_str(&w, "\r\n");
    }
    if (content_type != NULL) {
        put_str(&w, "Content-Type: ");
        put_str(&w, content_type);
        put_str(&w, "\r\n");
    }
    /* RFC 7230 §3.3.2: a body-carrying method states its length, even 0 */
    if (content_type != NULL || !(method_is(method, "GET") || method_is(method, "HEAD"))) {
        put_str(&w, "Content-Length: ");
        put_dec(&w, body_len);
        put_str(&w, "\r\n");
    }
    put_str(&w, "\r\n");
    if (w.over) {
        return PICOACME_ERR_NOSPACE;
    }
    *out_len = w.n;
    return PICOACME_OK;
}

/* ---- response ---------------------------------------------------------- */

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

/* RFC 7230 §3.1.2: HTTP-version SP 3DIGIT SP reason-phrase. A missing
 * reason (with or without its SP) is tolerated. */
static picoacme_err_t parse_status(picoacme_http_resp_t *r, const uint8_t *l, size_t n)
{
    if (n < 12U || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
        !is_digit(l[9]) || !is_digit(l[10]) || !is_digit(l[11]) || (n > 12U && l[12] != ' ')) {
        return PICOACME_ERR_PARSE;
    }
    for (size_t i = 13; i < n; i++) {
        if ((l[i] < 0x20U && l[i] != '\t') || l[i] == 0x7fU) {
            return PICOACME_ERR_PARSE;
        }
    }
    unsigned st =
        (unsigned)(l[9] - '0') * 100U + (unsigned)(l[10] - '0') * 10U + (unsigned)(l[11] - '0');
    if (st < 100U || st > 599U) {
        return PICOACME_ERR_PARSE;
    }
    r->status = (uint16_t)st;
    if (l[7] == '0') {
        r->keep_alive = false;
    }
    return PICOACME_OK;
}

/* Digits only, saturating at sat. false if empty or not all digits. */
static bool parse_uint(const uint8_t *buf, size_t s, size_t e, uint64_t sat, uint64_t *out)
{
    uint64_t v = 0;
    if (s == e) {
        return false;
    }
    for (size_t i = s; i < e; i++) {
        if (!is_digit(buf[i])) {
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

/* Does buf[s, e) (a rel value) list the relation type "up"? */
static bool rel_has_up(const uint8_t *buf, size_t s, size_t e)
{
    size_t i = s;
    while (i < e) {
        while (i < e && is_ows(buf[i])) {
            i++;
        }
        size_t ts = i;
        while (i < e && !is_ows(buf[i])) {
            i++;
        }
        if (i > ts && ci_eq(buf, ts, i, "up")) {
            return true;
        }
    }
    return false;
}

static size_t skip_ows(const uint8_t *buf, size_t p, size_t e)
{
    while (p < e && is_ows(buf[p])) {
        p++;
    }
    return p;
}

/* RFC 8288 §3: Link = #link-value;
 * link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param );
 * link-param = token BWS [ "=" BWS ( token / quoted-string ) ].
 * Records the target of the first link-value whose rel lists "up". A value
 * that does not follow the grammar ends the scan of this header (ignored). */
static void parse_link(picoacme_http_resp_t *r, const uint8_t *buf, size_t p, size_t e)
{
    while (p < e && r->link_up.len == 0U) {
        while (p < e && (is_ows(buf[p]) || buf[p] == ',')) {
            p++;
        }
        if (p == e) {
            return;
        }
        if (buf[p] != '<') {
            return;
        }
        size_t us = ++p;
        while (p < e && buf[p] != '>') {
            p++;
        }
        if (p == e) {
            return;
        }
        size_t ue = p++;
        bool up = false, rel_seen = false;
        for (;;) {
            p = skip_ows(buf, p, e);
            if (p == e || buf[p] != ';') {
                break;
            }
            p = skip_ows(buf, p + 1U, e);
            size_t ns = p;
            while (p < e && is_tchar(buf[p])) {
                p++;
            }
            size_t ne = p;
            if (ne == ns) {
                return;
            }
            p = skip_ows(buf, p, e);
            size_t vs = p, ve = p;
            if (p < e && buf[p] == '=') {
                p = skip_ows(buf, p + 1U, e);
                if (p < e && buf[p] == '"') {
                    vs = ++p;
                    while (p < e && buf[p] != '"') {
                        if (buf[p] == '\\') {
                            p++;
                        }
                        if (p < e) {
                            p++;
                        }
                    }
                    if (p >= e) {
                        return;
                    }
                    ve = p++;
                } else {
                    vs = p;
                    while (p < e && is_tchar(buf[p])) {
                        p++;
                    }
                    ve = p;
                    if (ve == vs) {
                        return;
                    }
                }
            }
            /* §3.3: occurrences of rel after the first are ignored */
            if (!rel_seen && ci_eq(buf, ns, ne, "rel")) {
                rel_seen = true;
                up = rel_has_up(buf, vs, ve);
            }
        }
        if (p < e && buf[p] != ',') {
            return;
        }
        if (up && ue > us) {
            r->link_up = mkspan(us, ue);
        }
    }
}

/* The header names parse_header() acts on, lower case, each after its
 * length (octal); the index is the enum below. */
static const char hdr_names[] = "\010location"
                                "\014replay-nonce"
                                "\013retry-after"
                                "\004link"
                                "\014content-type"
                                "\016content-length"
                                "\021transfer-encoding"
                                "\012connection"
                                "\004date";
enum {
    H_LOCATION,
    H_NONCE,
    H_RETRY_AFTER,
    H_LINK,
    H_CONTENT_TYPE,
    H_CONTENT_LENGTH,
    H_TRANSFER_ENCODING,
    H_CONNECTION,
    H_DATE
};

/* One header line buf[s, e) (without CRLF). RFC 7230 §3.2. */
static picoacme_err_t parse_header(picoacme_http_resp_t *r, const uint8_t *buf, size_t s, size_t e)
{
    size_t p = s;
    while (p < e && is_tchar(buf[p])) {
        p++;
    }
    /* no obs-fold, no whitespace before ':' (§3.2.4), non-empty name */
    if (p == s || p == e || buf[p] != ':') {
        return PICOACME_ERR_PARSE;
    }
    size_t ns = s, ne = p;
    size_t vs = skip_ows(buf, p + 1U, e), ve = e;
    while (ve > vs && is_ows(buf[ve - 1U])) {
        ve--;
    }
    for (size_t i = vs; i < ve; i++) {
        if ((buf[i] < 0x20U && buf[i] != '\t') || buf[i] == 0x7fU) {
            return PICOACME_ERR_PARSE;
        }
    }

    unsigned id = 0;
    for (const char *q = hdr_names; *q != '\0'; q += 1U + (uint8_t)*q, id++) {
        if (ne - ns == (uint8_t)*q && ci_match(buf + ns, q + 1, ne - ns)) {
            break;
        }
    }
    if (id == H_LOCATION) {
        if (r->location.len == 0U && ve > vs) {
            r->location = mkspan(vs, ve);
        }
    } else if (id == H_NONCE) {
        /* RFC 8555 §6.5.1: base64url; clients MUST ignore invalid values */
        bool ok = ve > vs;
        for (size_t i = vs; i < ve && ok; i++) {
            ok = is_b64url(buf[i]);
        }
        if (ok && r->nonce.len == 0U) {
            r->nonce = mkspan(vs, ve);
        }
    } else if (id == H_RETRY_AFTER) {
        /* RFC 7231 §7.1.3: HTTP-date / delta-seconds; unusable values ignored */
        if (!r->has_retry_after && r->chunk_left == 0U) {
            uint64_t v;
            if (ve > vs && is_digit(buf[vs])) {
                if (parse_uint(buf, vs, ve, RETRY_AFTER_CAP_S, &v)) {
                    r->has_retry_after = true;
                    r->retry_after_s = (uint32_t)v;
                }
            } else if (ve > vs) {
                r->chunk_left = vs + 1U; /* resolved at the end of the head */
            }
        }
    } else if (id == H_LINK) {
        parse_link(r, buf, vs, ve);
    } else if (id == H_CONTENT_TYPE) {
        if (r->content_type.len == 0U) {
            size_t te = vs;
            while (te < ve && buf[te] != ';') {
                te++;
            }
            while (te > vs && is_ows(buf[te - 1U])) {
                te--;
            }
            if (te > vs) {
                r->content_type = mkspan(vs, te);
            }
        }
    } else if (id == H_CONTENT_LENGTH) {
        /* §3.3.2: 1*DIGIT; duplicates must agree (§3.3.3 item 4) */
        uint64_t v;
        if (!parse_uint(buf, vs, ve, CL_HUGE, &v)) {
            return PICOACME_ERR_PARSE;
        }
        if (r->content_length != CL_NONE && r->content_length != (size_t)v) {
            return PICOACME_ERR_PARSE;
        }
        r->content_length = (size_t)v;
    } else if (id == H_TRANSFER_ENCODING) {
        /* only "chunked", once: we never ask for any other coding */
        if (r->chunked || !ci_eq(buf, vs, ve, "chunked")) {
            return PICOACME_ERR_PARSE;
        }
        r->chunked = true;
    } else if (id == H_CONNECTION) {
        size_t i = vs;
        while (i < ve) {
            size_t ts = skip_ows(buf, i, ve);
            size_t te = ts;
            while (te < ve && buf[te] != ',') {
                te++;
            }
            i = te + 1U;
            while (te > ts && is_ows(buf[te - 1U])) {
                te--;
            }
            if (ci_eq(buf, ts, te, "close")) {
                r->keep_alive = false;
            }
        }
    } else if (id == H_DATE) {
        int64_t d;
        if (r->date_s < 0 &&
            picoacme_http_date((const char *)buf + vs, ve - vs, &d) == PICOACME_OK) {
            r->date_s = d;
        }
    }
    return PICOACME_OK;
}

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
    while (ve > vs && is_ows(buf[ve - 1U])) {
        ve--;
    }
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
        if (r->content_length > cap - r->scan) {
            return PICOACME_ERR_NOSPACE;
        }
        r->phase = PH_BODY_LEN;
    } else {
        r->keep_alive = false;
        r->phase = PH_BODY_CLOSE;
    }
    return PICOACME_OK;
}

/* RFC 7230 §4.1: chunk-size [ chunk-ext ] CRLF, chunk-size = 1*HEXDIG. */
static picoacme_err_t parse_chunk_size(picoacme_http_resp_t *r, const uint8_t *buf, size_t s,
                                       size_t e, size_t cap)
{
    size_t v = 0, p = s;
    while (p < e) {
        uint8_t c = lower(buf[p]);
        unsigned d;
        if (is_digit(c)) {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a') + 10U;
        } else {
            break;
        }
        if (v > (SIZE_MAX >> 4)) {
            return PICOACME_ERR_PARSE; /* hex overflow */
        }
        v = (v << 4) | d;
        p++;
    }
    if (p == s) {
        return PICOACME_ERR_PARSE;
    }
    /* the rest must be chunk extensions (ignored): BWS ";" ... */
    p = skip_ows(buf, p, e);
    if (p != e && buf[p] != ';') {
        return PICOACME_ERR_PARSE;
    }
    if (v > cap - r->out) {
        return PICOACME_ERR_NOSPACE;
    }
    r->chunk_left = v;
    r->phase = v == 0U ? PH_TRAILER : PH_CHUNK_DATA;
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

static void finish_chunked(picoacme_http_resp_t *r, uint8_t *buf, size_t *len)
{
    compact(r, buf, len);
    r->body = mkspan(r->body.off, r->out);
    r->consumed = r->out;
    r->chunk_left = 0;
    r->phase = PH_DONE;
}

picoacme_err_t picoacme_http_parse(picoacme_http_resp_t *r, uint8_t *buf, size_t *len, size_t cap,
                                   bool closed)
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

    picoacme_err_t e = PICOACME_OK;
    size_t end = 0, next = 0;
    while (r->phase != PH_DONE) {
        size_t n = *len;
        switch (r->phase) {
        case PH_STATUS:
            e = next_line(buf, r->scan, n, &end, &next);
            if (e == PICOACME_OK) {
                e = parse_status(r, buf + r->scan, end - r->scan);
                r->scan = next;
                r->phase = PH_HEADERS;
            }
            break;
        case PH_HEADERS:
            e = next_line(buf, r->scan, n, &end, &next);
            if (e == PICOACME_OK) {
                bool blank = end == r->scan;
                if (!blank) {
                    e = parse_header(r, buf, r->scan, end);
                }
                r->scan = next;
                if (blank) {
                    e = end_of_head(r, buf, cap);
                }
            }
            break;
        case PH_BODY_LEN:
            if (n - r->scan >= r->content_length) {
                r->body = mkspan(r->scan, r->scan + r->content_length);
                r->consumed = r->scan + r->content_length;
                r->phase = PH_DONE;
            } else {
                e = PICOACME_AGAIN;
            }
            break;
        case PH_BODY_CLOSE:
            if (closed) {
                r->body = mkspan(r->scan, n);
                r->consumed = n;
                r->phase = PH_DONE;
            } else {
                e = PICOACME_AGAIN;
            }
            break;
        case PH_CHUNK_SIZE:
            e = next_line(buf, r->scan, n, &end, &next);
            if (e == PICOACME_OK) {
                e = parse_chunk_size(r, buf, r->scan, end, cap);
                r->scan = next;
            }
            break;
        case PH_CHUNK_DATA: {
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
            if (r->chunk_left == 0U) {
                r->phase = PH_CHUNK_CRLF;
            } else {
                e = PICOACME_AGAIN;
            }
            break;
        }
        case PH_CHUNK_CRLF:
            if (n - r->scan >= 1U && buf[r->scan] != '\r') {
                e = PICOACME_ERR_PARSE;
            } else if (n - r->scan < 2U) {
                e = PICOACME_AGAIN;
            } else if (buf[r->scan + 1U] != '\n') {
                e = PICOACME_ERR_PARSE;
            } else {
                r->scan += 2U;
                r->phase = PH_CHUNK_SIZE;
            }
            break;
        case PH_TRAILER:
            /* §4.1.2: trailer fields are checked for syntax and dropped */
            e = next_line(buf, r->scan, n, &end, &next);
            if (e == PICOACME_OK) {
                if (end == r->scan) {
                    r->scan = next;
                    finish_chunked(r, buf, len);
                } else {
                    picoacme_http_resp_t scratch;
                    memset(&scratch, 0, sizeof(scratch));
                    reset_fields(&scratch);
                    e = parse_header(&scratch, buf, r->scan, end);
                    r->scan = next;
                }
            }
            break;
        default: return PICOACME_ERR_STATE;
        }
        if (e != PICOACME_OK) {
            break;
        }
    }
    if (e == PICOACME_OK) {
        return PICOACME_OK;
    }
    if (e != PICOACME_AGAIN) {
        return e;
    }

    /* incomplete */
    if (r->phase >= PH_CHUNK_SIZE && r->phase <= PH_TRAILER) {
        compact(r, buf, len);
    }
    if (closed) {
        return (*len == 0U) ? PICOACME_ERR_CLOSED : PICOACME_ERR_PARSE;
    }
    if (*len == cap) {
        return PICOACME_ERR_NOSPACE;
    }
    return PICOACME_AGAIN;
}
