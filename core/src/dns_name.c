/*
 * dns_name.c - domain names for the DNS codec (see dns.h): presentation
 * text to lowercase uncompressed wire form (RFC 1035 §3.1), the bounded
 * reader of a possibly compressed name in a message (RFC 1035 §4.1.4), and
 * wire form back to dotted text. Escapes are not taken in either direction.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

#define LABEL_MAX    63U
#define PTR_HOPS_MAX 64U

/* ---- text to wire --------------------------------------------------------- */

/* A byte a label may hold as text: printable ASCII without the escape. */
static bool text_byte_ok(uint8_t c)
{
    return c > 0x20U && c < 0x7FU && c != (uint8_t)'\\';
}

/* Length of the label at s (up to '.' or the end), or 0 when it is empty,
 * longer than 63 bytes or holds a byte that cannot be written. */
static size_t label_len(const char *s)
{
    size_t n = 0;

    while (n <= LABEL_MAX && s[n] != '.' && s[n] != '\0') {
        if (!text_byte_ok((uint8_t)s[n])) {
            return 0;
        }
        n++;
    }
    return n > LABEL_MAX ? 0U : n;
}

picoacme_err_t picoacme_dns_name_to_wire(const char *name, uint8_t out[DNS_NAME_MAX],
                                         size_t *out_len)
{
    size_t o = 0;

    if (name == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (name[0] == '.' && name[1] == '\0') {
        name++; /* "." is the root, like "" */
    }
    while (*name != '\0') {
        size_t n = label_len(name);
        if (n == 0U || o + 1U + n >= DNS_NAME_MAX) {
            return PICOACME_ERR_PARAM; /* bad label, or no room left for the root */
        }
        out[o] = (uint8_t)n;
        for (size_t i = 0; i < n; i++) {
            out[o + 1U + i] = (uint8_t)util_lower((uint8_t)name[i]);
        }
        o += 1U + n;
        name += n;
        if (*name == '.') {
            name++; /* a trailing dot ends the name like the NUL */
        }
    }
    out[o] = 0; /* root label */
    *out_len = o + 1U;
    return PICOACME_OK;
}

/* ---- reading a name from a message ---------------------------------------- */

typedef struct walk {
    size_t pos;    /* the byte being read */
    size_t seg;    /* start of the segment being read */
    unsigned hops; /* pointers followed */
    bool jumped;
} walk_t;

/* Follow the pointer at w->pos: it must point before the segment it ends
 * (so forward, self and looping pointers are refused), and at most
 * PTR_HOPS_MAX are followed. */
static picoacme_err_t jump(const uint8_t *msg, size_t len, walk_t *w, dns_name_t *n)
{
    size_t target;

    if (len - w->pos < 2U) {
        return PICOACME_ERR_PARSE;
    }
    target = ((size_t)(msg[w->pos] & 0x3FU) << 8) | msg[w->pos + 1U];
    if (target >= w->seg || ++w->hops > PTR_HOPS_MAX) {
        return PICOACME_ERR_PARSE;
    }
    if (!w->jumped) {
        n->end = w->pos + 2U;
        w->jumped = true;
    }
    w->seg = target;
    w->pos = target;
    return PICOACME_OK;
}

/* Does the label at lab (length byte first) match cmp at n->len? */
static bool label_matches(const uint8_t *lab, const dns_name_t *n)
{
    size_t c = lab[0];

    if (n->len + 1U + c > n->cmp_len || n->cmp[n->len] != c) {
        return false;
    }
    for (size_t k = 1; k <= c; k++) {
        if (util_lower(lab[k]) != util_lower(n->cmp[n->len + k])) {
            return false;
        }
    }
    return true;
}

/* Take the label at w->pos: it fits the message and the 255-byte limit
 * (with room for a root label after a non-root one). */
static picoacme_err_t take_label(const uint8_t *msg, size_t len, walk_t *w, dns_name_t *n)
{
    size_t c = msg[w->pos];

    if ((c & 0xC0U) != 0U) {
        return PICOACME_ERR_PARSE; /* extended label types (RFC 6891 §5) */
    }
    if (c + 1U > len - w->pos || n->len + 1U + c + (c != 0U ? 1U : 0U) > DNS_NAME_MAX) {
        return PICOACME_ERR_PARSE;
    }
    if (n->eq && !label_matches(msg + w->pos, n)) {
        n->eq = false;
    }
    if (n->copy != NULL) {
        memcpy(n->copy + n->len, msg + w->pos, c + 1U);
    }
    n->len += c + 1U;
    w->pos += c + 1U;
    return PICOACME_OK;
}

picoacme_err_t picoacme_dns_name_read(const uint8_t *msg, size_t len, size_t off, dns_name_t *n)
{
    walk_t w = {off, off, 0U, false};
    bool root = false;

    n->len = 0;
    n->eq = n->cmp != NULL; /* until a label differs */
    while (!root) {
        picoacme_err_t e;
        if (w.pos >= len) {
            return PICOACME_ERR_PARSE;
        }
        if ((msg[w.pos] & 0xC0U) == 0xC0U) {
            e = jump(msg, len, &w, n);
        } else {
            root = msg[w.pos] == 0U;
            e = take_label(msg, len, &w, n);
        }
        if (e != PICOACME_OK) {
            return e;
        }
    }
    if (!w.jumped) {
        n->end = w.pos;
    }
    n->eq = n->eq && n->len == n->cmp_len;
    return PICOACME_OK;
}

/* ---- wire to text --------------------------------------------------------- */

picoacme_err_t picoacme_dns_name_to_text(const uint8_t *wire, size_t wire_len, char *out,
                                         size_t cap)
{
    size_t i, o = 0;

    /* Checked first, so the verdict does not depend on cap. */
    for (i = 1; i < wire_len; i++) {
        if (i == o + 1U + wire[o]) {
            o = i; /* the next length byte */
        } else if (!text_byte_ok(wire[i]) || wire[i] == (uint8_t)'.') {
            return PICOACME_ERR_PARSE;
        }
    }
    /* wire_len - 1 bytes of text for a non-root name: dots replace the
     * length bytes but the first; the root is "". */
    if ((wire_len > 1U ? wire_len - 2U : 0U) + 1U > cap) {
        return PICOACME_ERR_NOSPACE;
    }
    o = 0;
    for (i = 0; i + 1U < wire_len; i += 1U + (size_t)wire[i]) {
        if (o != 0U) {
            out[o++] = '.';
        }
        memcpy(out + o, wire + i + 1U, wire[i]);
        o += wire[i];
    }
    out[o] = '\0';
    return PICOACME_OK;
}
