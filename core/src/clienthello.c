/*
 * clienthello.c - a bounded look at the first bytes of a TLS connection
 * (RFC 8446 §4.1.2, §5.1; RFC 5246 §7.4.1.2; RFC 7301 §3.1; RFC 6066 §3):
 * does the ClientHello offer ALPN "acme-tls/1" (a tls-alpn-01 validator,
 * RFC 8737 §3) and which server_name does it ask for.
 *
 * No allocation, no recursion: the reader only walks the caller's bytes
 * with explicit lengths.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_alpn.h"
#include "util.h"

#define TLS_CT_HANDSHAKE    22U
#define TLS_HS_CLIENT_HELLO 1U
#define TLS_RECORD_MAX      16384U /* 2^14, RFC 8446 §5.1 */
#define TLS_EXT_SNI         0U
#define TLS_EXT_ALPN        16U
#define SNI_HOST_NAME       0U

static const uint8_t acme_alpn[] = {'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};

typedef struct cur {
    const uint8_t *p;
    size_t len;
    size_t off; /* always <= len */
} cur_t;

static size_t cur_left(const cur_t *c)
{
    return c->len - c->off;
}

/* Read a big-endian integer of n (1..3) octets. */
static bool get_uint(cur_t *c, size_t n, size_t *v)
{
    if (cur_left(c) < n) {
        return false;
    }
    size_t x = 0;
    for (size_t i = 0; i < n; i++) {
        x = (x << 8) | c->p[c->off + i];
    }
    c->off += n;
    *v = x;
    return true;
}

/* A vector with an n-octet length prefix whose length is within
 * [min, max]; *inner reads its contents. */
static bool get_vec(cur_t *c, size_t n, size_t min, size_t max, cur_t *inner)
{
    size_t vlen;
    if (!get_uint(c, n, &vlen) || vlen < min || vlen > max || vlen > cur_left(c)) {
        return false;
    }
    inner->p = c->p + c->off;
    inner->len = vlen;
    inner->off = 0;
    c->off += vlen;
    return true;
}

/* ProtocolNameList (RFC 7301 §3.1): true in *found when "acme-tls/1" is
 * one of the names. */
static bool alpn_parse(cur_t *ext, bool *found)
{
    cur_t list;
    if (!get_vec(ext, 2, 2, 0xFFFFU, &list) || cur_left(ext) != 0U) {
        return false;
    }
    while (cur_left(&list) > 0U) {
        cur_t name;
        if (!get_vec(&list, 1, 1, 0xFFU, &name)) {
            return false;
        }
        if (name.len == sizeof acme_alpn && memcmp(name.p, acme_alpn, sizeof acme_alpn) == 0) {
            *found = true;
        }
    }
    return true;
}

/* ServerNameList (RFC 6066 §3): at most one host_name, printable ASCII.
 * The host name is returned through host and host_len (NULL if none). */
static bool sni_parse(cur_t *ext, const uint8_t **host, size_t *host_len)
{
    cur_t list;
    if (!get_vec(ext, 2, 1, 0xFFFFU, &list) || cur_left(ext) != 0U) {
        return false;
    }
    while (cur_left(&list) > 0U) {
        size_t type;
        cur_t name;
        if (!get_uint(&list, 1, &type) || !get_vec(&list, 2, 1, 0xFFFFU, &name)) {
            return false;
        }
        if (type != SNI_HOST_NAME) {
            continue;
        }
        if (*host != NULL) {
            return false; /* "MUST NOT contain more than one name of the same name_type" */
        }
        for (size_t i = 0; i < name.len; i++) {
            if (name.p[i] < 0x21U || name.p[i] > 0x7EU) {
                return false;
            }
        }
        *host = name.p;
        *host_len = name.len;
    }
    return true;
}

/* ClientHello fields up to the extensions (RFC 8446 §4.1.2): version,
 * random, legacy_session_id, cipher_suites (pairs),
 * legacy_compression_methods. */
static bool hello_fixed_parse(cur_t *h)
{
    size_t v;
    cur_t skip;
    if (!get_uint(h, 2, &v) || (v >> 8) != 3U) {
        return false; /* legacy_version: SSL 3.0 .. TLS 1.2 */
    }
    if (cur_left(h) < 32U) {
        return false;
    }
    h->off += 32U; /* random */
    return get_vec(h, 1, 0, 32, &skip) && get_vec(h, 2, 2, 0xFFFEU, &skip) &&
           (skip.len & 1U) == 0U && get_vec(h, 1, 1, 0xFFU, &skip);
}

/* What the extensions said. */
typedef struct hello {
    bool is_acme;
    bool seen_alpn;
    const uint8_t *host; /* server_name host_name, or NULL */
    size_t host_len;
} hello_t;

/* One extension; RFC 8446 §4.2: no extension type twice. */
static bool ext_parse(size_t type, cur_t *ext, hello_t *o)
{
    if (type == TLS_EXT_ALPN) {
        if (o->seen_alpn || !alpn_parse(ext, &o->is_acme)) {
            return false;
        }
        o->seen_alpn = true;
    } else if (type == TLS_EXT_SNI) {
        if (o->host != NULL || !sni_parse(ext, &o->host, &o->host_len) || o->host == NULL) {
            return false;
        }
    }
    return true;
}

/* ClientHello body (RFC 8446 §4.1.2; the TLS 1.2 form of RFC 5246
 * §7.4.1.2 is the same up to the optional extensions block). */
static bool hello_parse(cur_t *h, hello_t *o)
{
    cur_t exts;
    if (!hello_fixed_parse(h)) {
        return false;
    }
    if (cur_left(h) == 0U) {
        return true; /* no extensions (TLS 1.2 only) */
    }
    if (!get_vec(h, 2, 0, 0xFFFFU, &exts) || cur_left(h) != 0U) {
        return false;
    }
    while (cur_left(&exts) > 0U) {
        size_t type;
        cur_t ext;
        if (!get_uint(&exts, 2, &type) || !get_vec(&exts, 2, 0, 0xFFFFU, &ext) ||
            !ext_parse(type, &ext, o)) {
            return false;
        }
    }
    return true;
}

/* The record header (RFC 8446 §5.1) of what has arrived: PICOACME_OK with
 * the length of a complete first record, PICOACME_AGAIN while it is
 * incomplete; fails fast on plain HTTP, SSLv2 hellos and alerts. */
static picoacme_err_t record_check(const uint8_t *buf, size_t len, size_t *rec_len)
{
    if ((len > 0U && buf[0] != TLS_CT_HANDSHAKE) || (len > 1U && buf[1] != 3U) ||
        (len > 2U && buf[2] > 4U) || (len > 5U && buf[5] != TLS_HS_CLIENT_HELLO)) {
        return PICOACME_ERR_PARSE;
    }
    if (len < 5U) {
        return PICOACME_AGAIN;
    }
    *rec_len = util_get16(buf + 3);
    if (*rec_len < 4U || *rec_len > TLS_RECORD_MAX) {
        return PICOACME_ERR_PARSE;
    }
    return len - 5U < *rec_len ? PICOACME_AGAIN : PICOACME_OK;
}

/* Only a ClientHello that fits in the first record is read (every
 * ClientHello seen in practice, post-quantum key shares included, does).
 * One fragmented over several records is PICOACME_ERR_PARSE, as is one
 * followed by anything else in the same record. Bytes after the first
 * record are not looked at. */
picoacme_err_t picoacme_tls_clienthello_alpn(const uint8_t *buf, size_t len, bool *is_acme,
                                             char *sni, size_t sni_cap)
{
    hello_t o = {false, false, NULL, 0};
    size_t rec_len = 0;
    cur_t hello;

    if ((buf == NULL && len != 0U) || is_acme == NULL || (sni != NULL && sni_cap == 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *is_acme = false;
    if (sni != NULL) {
        sni[0] = '\0';
    }
    picoacme_err_t err = record_check(buf, len, &rec_len);
    if (err != PICOACME_OK) {
        return err;
    }
    cur_t rec = {buf + 5, rec_len, 1}; /* past the handshake type */
    if (!get_vec(&rec, 3, 0, rec_len - 4U, &hello) || cur_left(&rec) != 0U ||
        !hello_parse(&hello, &o)) {
        return PICOACME_ERR_PARSE;
    }
    if (sni != NULL && o.host != NULL) {
        if (o.host_len >= sni_cap) {
            return PICOACME_ERR_NOSPACE;
        }
        memcpy(sni, o.host, o.host_len);
        sni[o.host_len] = '\0';
    }
    *is_acme = o.is_acme;
    return PICOACME_OK;
}
