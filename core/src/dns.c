/*
 * dns.c - the DNS messages dns-01 needs, without I/O: a query (RFC 1035
 * §4.1), an RFC 2136 UPDATE adding or deleting one TXT record, signed with
 * TSIG HMAC-SHA256 (RFC 8945 §4), the check of the signed answer (RFC 8945
 * §5.3), a TXT lookup in an answer and the zone named by an SOA record.
 *
 * Names are taken as presentation text without escapes ("a.b.c", a
 * trailing dot optional, "" or "." is the root) and written uncompressed in
 * lowercase. Parsers read every section of the message with bounds checks;
 * a compression pointer (RFC 1035 §4.1.4) must point before the start of
 * the name segment it ends, so every jump goes strictly backward, and the
 * number of jumps is capped as well. Nothing recurses, nothing allocates.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_dns.h"

#define HDR_LEN      12U
#define NAME_MAX_LEN 255U /* wire form, root byte included (RFC 1035 §3.1) */
#define LABEL_MAX    63U
#define PTR_HOPS_MAX 64U
#define TXT_CHUNK    255U

#define TYPE_TSIG  250U
#define CLASS_IN   1U
#define CLASS_NONE 254U
#define CLASS_ANY  255U
#define OPCODE_UPD 5U
#define TSIG_FUDGE 300U
#define MAC_LEN    32U
#define TIME48_MAX 0xFFFFFFFFFFFFLL

/* "hmac-sha256." in wire form (RFC 8945 §6). */
static const uint8_t alg_hmac_sha256[] = {11,  'h', 'm', 'a', 'c', '-', 's',
                                          'h', 'a', '2', '5', '6', 0};

/* ---- byte helpers --------------------------------------------------------- */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint8_t lower(uint8_t c)
{
    return (c >= (uint8_t)'A' && c <= (uint8_t)'Z') ? (uint8_t)(c + 32U) : c;
}

/* A bounded writer; the first overflow sticks as NOSPACE. */
typedef struct wbuf {
    uint8_t *p;
    size_t cap;
    size_t len;
    bool full;
} wbuf_t;

static void put(wbuf_t *w, const uint8_t *src, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = true;
        return;
    }
    if (n != 0U) {
        memcpy(w->p + w->len, src, n);
    }
    w->len += n;
}

static void put8(wbuf_t *w, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(w, &b, 1U);
}

static void put16(wbuf_t *w, unsigned v)
{
    uint8_t b[2];
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
    put(w, b, 2U);
}

static void put32(wbuf_t *w, uint32_t v)
{
    put16(w, (unsigned)(v >> 16));
    put16(w, (unsigned)(v & 0xFFFFU));
}

/* ---- names ---------------------------------------------------------------- */

/* Presentation text to lowercase uncompressed wire form (RFC 1035 §3.1):
 * labels of 1..63 bytes, 255 bytes in all, no escapes, no empty label
 * except the root. */
static picoacme_err_t name_to_wire(const char *name, uint8_t out[NAME_MAX_LEN], size_t *out_len)
{
    size_t o = 0; /* position of the current label's length byte */
    size_t i;

    if (name == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (name[0] == '\0' || (name[0] == '.' && name[1] == '\0')) {
        out[0] = 0;
        *out_len = 1U;
        return PICOACME_OK;
    }
    out[0] = 0;
    for (i = 0;; i++) {
        uint8_t c = (uint8_t)name[i];
        size_t q;
        if (c == (uint8_t)'.' || c == 0U) {
            if (out[o] == 0U) {
                return PICOACME_ERR_PARAM; /* empty label */
            }
            o += 1U + out[o]; /* <= 254: see the check below */
            if (c == 0U || name[i + 1U] == '\0') {
                break; /* end, or a trailing dot */
            }
            out[o] = 0;
            continue;
        }
        if (c == (uint8_t)'\\' || c <= 0x20U || c >= 0x7FU) {
            return PICOACME_ERR_PARAM; /* escapes and non-printables are not taken */
        }
        q = o + 1U + out[o];
        if (out[o] >= LABEL_MAX || q >= NAME_MAX_LEN - 1U) {
            return PICOACME_ERR_PARAM; /* the root byte must still fit */
        }
        out[q] = lower(c);
        out[o] = (uint8_t)(out[o] + 1U);
    }
    out[o] = 0; /* root label */
    *out_len = o + 1U;
    return PICOACME_OK;
}

/* Walk the possibly compressed name at off (RFC 1035 §4.1.4). *end gets
 * the offset after the name as it sits at off. When cmp is given (wire
 * form, lowercase), *eq tells whether the name equals it ignoring ASCII
 * case. When copy is given (NAME_MAX_LEN bytes) it gets the uncompressed
 * wire form and *copy_len its length. */
static picoacme_err_t name_walk(const uint8_t *msg, size_t len, size_t off, size_t *end,
                                const uint8_t *cmp, size_t cmp_len, bool *eq, uint8_t *copy,
                                size_t *copy_len)
{
    size_t pos = off;
    size_t seg = off; /* start of the segment being read */
    size_t total = 0;
    unsigned hops = 0;
    bool jumped = false;
    bool same = true;

    for (;;) {
        uint8_t c;
        if (pos >= len) {
            return PICOACME_ERR_PARSE;
        }
        c = msg[pos];
        if ((c & 0xC0U) == 0xC0U) {
            size_t target;
            if (len - pos < 2U) {
                return PICOACME_ERR_PARSE;
            }
            target = ((size_t)(c & 0x3FU) << 8) | msg[pos + 1U];
            if (target >= seg || ++hops > PTR_HOPS_MAX) {
                return PICOACME_ERR_PARSE; /* forward, self or looping pointer */
            }
            if (!jumped) {
                *end = pos + 2U;
                jumped = true;
            }
            seg = target;
            pos = target;
            continue;
        }
        if ((c & 0xC0U) != 0U) {
            return PICOACME_ERR_PARSE; /* extended label types (RFC 6891 §5) */
        }
        if ((size_t)c + 1U > len - pos || total + 1U + c + (c != 0U ? 1U : 0U) > NAME_MAX_LEN) {
            return PICOACME_ERR_PARSE;
        }
        if (cmp != NULL && same) {
            size_t k;
            if (total + 1U + c > cmp_len || cmp[total] != c) {
                same = false;
            } else {
                for (k = 0; k < c; k++) {
                    if (lower(msg[pos + 1U + k]) != lower(cmp[total + 1U + k])) {
                        same = false;
                        break;
                    }
                }
            }
        }
        if (copy != NULL) {
            memcpy(copy + total, msg + pos, (size_t)c + 1U);
        }
        total += (size_t)c + 1U;
        if (c == 0U) {
            if (!jumped) {
                *end = pos + 1U;
            }
            break;
        }
        pos += (size_t)c + 1U;
    }
    if (eq != NULL) {
        *eq = same && total == cmp_len;
    }
    if (copy_len != NULL) {
        *copy_len = total;
    }
    return PICOACME_OK;
}

/* ---- message walking (RFC 1035 §4.1) -------------------------------------- */

typedef struct rr {
    size_t start;    /* owner name */
    size_t name_end; /* type, class, ttl, rdlength follow */
    uint16_t type;
    uint16_t cls;
    size_t rdata;
    size_t rdlen;
    size_t end;
    unsigned sec; /* 1 answer/prerequisite, 2 authority/update, 3 additional */
} rr_t;

typedef struct iter {
    const uint8_t *msg;
    size_t len;
    size_t pos;
    unsigned sec;
    unsigned left;
    uint16_t count[4];
    size_t qname; /* offset of the first question name, 0 if none */
} iter_t;

/* Check the header (id, QR), set *rcode and skip the questions. */
static picoacme_err_t iter_init(iter_t *it, const uint8_t *msg, size_t len, uint16_t id,
                                uint8_t *rcode)
{
    unsigned i;
    size_t end = 0;

    if (msg == NULL || len < HDR_LEN) {
        return PICOACME_ERR_PARSE;
    }
    memset(it, 0, sizeof *it);
    it->msg = msg;
    it->len = len;
    for (i = 0; i < 4U; i++) {
        it->count[i] = rd16(msg + 4U + 2U * i);
    }
    if (rcode != NULL) {
        *rcode = (uint8_t)(msg[3] & 0x0FU);
    }
    if (rd16(msg) != id || (msg[2] & 0x80U) == 0U) {
        return PICOACME_ERR_PROTOCOL; /* not the answer to our message */
    }
    it->pos = HDR_LEN;
    for (i = 0; i < it->count[0]; i++) {
        picoacme_err_t e;
        if (i == 0U) {
            it->qname = it->pos;
        }
        e = name_walk(msg, len, it->pos, &end, NULL, 0, NULL, NULL, NULL);
        if (e != PICOACME_OK) {
            return e;
        }
        if (len - end < 4U) {
            return PICOACME_ERR_PARSE;
        }
        it->pos = end + 4U;
    }
    it->sec = 1U;
    it->left = it->count[1];
    return PICOACME_OK;
}

/* Next resource record: OK with *r filled, NOT_FOUND after the last one,
 * PARSE when a record does not fit. */
static picoacme_err_t iter_next(iter_t *it, rr_t *r)
{
    picoacme_err_t e;
    size_t end = 0;

    while (it->left == 0U) {
        if (it->sec >= 3U) {
            return PICOACME_ERR_NOT_FOUND;
        }
        it->sec++;
        it->left = it->count[it->sec];
    }
    r->start = it->pos;
    e = name_walk(it->msg, it->len, it->pos, &end, NULL, 0, NULL, NULL, NULL);
    if (e != PICOACME_OK) {
        return e;
    }
    if (it->len - end < 10U) {
        return PICOACME_ERR_PARSE;
    }
    r->name_end = end;
    r->type = rd16(it->msg + end);
    r->cls = rd16(it->msg + end + 2U);
    r->rdlen = rd16(it->msg + end + 8U);
    r->rdata = end + 10U;
    if (it->len - r->rdata < r->rdlen) {
        return PICOACME_ERR_PARSE;
    }
    r->end = r->rdata + r->rdlen;
    r->sec = it->sec;
    it->pos = r->end;
    it->left--;
    return PICOACME_OK;
}

/* ---- query ---------------------------------------------------------------- */

static void put_header(wbuf_t *w, uint16_t id, unsigned flags, unsigned qd, unsigned an,
                       unsigned ns, unsigned ar)
{
    put16(w, id);
    put16(w, flags);
    put16(w, qd);
    put16(w, an);
    put16(w, ns);
    put16(w, ar);
}

/* RFC 1035 §4.1.1 / §4.1.2: one question, RD set, class IN. */
picoacme_err_t picoacme_dns_query(uint8_t *out, size_t cap, size_t *out_len, uint16_t id,
                                  const char *name, uint16_t qtype)
{
    uint8_t wire[NAME_MAX_LEN];
    size_t wire_len = 0;
    wbuf_t w;
    picoacme_err_t e;

    if (out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    e = name_to_wire(name, wire, &wire_len);
    if (e != PICOACME_OK) {
        return e;
    }
    w.p = out;
    w.cap = cap;
    w.len = 0;
    w.full = false;
    put_header(&w, id, 0x0100U, 1U, 0U, 0U, 0U);
    put(&w, wire, wire_len);
    put16(&w, qtype);
    put16(&w, CLASS_IN);
    if (w.full) {
        return PICOACME_ERR_NOSPACE;
    }
    *out_len = w.len;
    return PICOACME_OK;
}

/* ---- UPDATE with TSIG ----------------------------------------------------- */

/* TXT RDATA: txt split into character-strings of at most 255 bytes
 * (RFC 1035 §3.3.14); the empty text is one empty string. */
static void put_txt_rdata(wbuf_t *w, const char *txt, size_t txt_len)
{
    size_t i = 0;

    do {
        size_t n = txt_len - i < TXT_CHUNK ? txt_len - i : TXT_CHUNK;
        put8(w, (unsigned)n);
        put(w, (const uint8_t *)txt + i, n);
        i += n;
    } while (i < txt_len);
}

picoacme_err_t picoacme_dns_update(uint8_t *out, size_t cap, size_t *out_len, uint16_t id,
                                   const char *zone, const char *owner, const char *txt,
                                   uint32_t ttl, bool add, const picoacme_tsig_key_t *key,
                                   int64_t now_s, const picoacme_crypto_t *crypto, uint8_t mac[32])
{
    uint8_t wire[NAME_MAX_LEN];
    size_t wire_len = 0;
    size_t txt_len;
    size_t rdlen;
    size_t msg_len, key_off, key_len, cls_off, alg_off, err_off, mac_off;
    picoacme_iov_t iov[5];
    uint64_t t;
    wbuf_t w;
    picoacme_err_t e;

    if (out == NULL || out_len == NULL || txt == NULL || key == NULL || key->name == NULL ||
        (key->secret == NULL && key->secret_len != 0U) || crypto == NULL ||
        crypto->hmac_sha256 == NULL || mac == NULL || now_s < 0 || now_s > TIME48_MAX) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    txt_len = strlen(txt);
    if (txt_len > 0xFFFFU) {
        return PICOACME_ERR_PARAM;
    }
    rdlen = txt_len + (txt_len == 0U ? 1U : (txt_len + TXT_CHUNK - 1U) / TXT_CHUNK);
    if (rdlen > 0xFFFFU) {
        return PICOACME_ERR_PARAM;
    }
    w.p = out;
    w.cap = cap;
    w.len = 0;
    w.full = false;

    /* RFC 2136 §2.2: opcode UPDATE; ZOCOUNT 1, PRCOUNT 0, UPCOUNT 1,
     * ADCOUNT 0 (the TSIG record is counted after signing). */
    put_header(&w, id, OPCODE_UPD << 11, 1U, 0U, 1U, 0U);
    /* RFC 2136 §2.3: the zone section. */
    e = name_to_wire(zone, wire, &wire_len);
    if (e != PICOACME_OK) {
        return e;
    }
    put(&w, wire, wire_len);
    put16(&w, PICOACME_DNS_TYPE_SOA);
    put16(&w, CLASS_IN);
    /* RFC 2136 §2.5.1 add / §2.5.4 delete an RR from an RRset. */
    e = name_to_wire(owner, wire, &wire_len);
    if (e != PICOACME_OK) {
        return e;
    }
    put(&w, wire, wire_len);
    put16(&w, PICOACME_DNS_TYPE_TXT);
    put16(&w, add ? CLASS_IN : CLASS_NONE);
    put32(&w, add ? ttl : 0U);
    put16(&w, (unsigned)rdlen);
    put_txt_rdata(&w, txt, txt_len);
    msg_len = w.len;

    /* RFC 8945 §4.2: the TSIG RR, its MAC filled in once computed. */
    e = name_to_wire(key->name, wire, &wire_len);
    if (e != PICOACME_OK) {
        return e;
    }
    key_off = w.len;
    key_len = wire_len;
    put(&w, wire, wire_len);
    put16(&w, TYPE_TSIG);
    cls_off = w.len;
    put16(&w, CLASS_ANY);
    put32(&w, 0U);
    put16(&w, (unsigned)(sizeof alg_hmac_sha256 + 6U + 2U + 2U + MAC_LEN + 2U + 2U + 2U));
    alg_off = w.len;
    put(&w, alg_hmac_sha256, sizeof alg_hmac_sha256);
    t = (uint64_t)now_s;
    put16(&w, (unsigned)((t >> 32) & 0xFFFFU));
    put32(&w, (uint32_t)(t & 0xFFFFFFFFU));
    put16(&w, TSIG_FUDGE);
    put16(&w, MAC_LEN);
    mac_off = w.len;
    {
        static const uint8_t zero[MAC_LEN] = {0};
        put(&w, zero, MAC_LEN);
    }
    put16(&w, id); /* original ID */
    err_off = w.len;
    put16(&w, 0U); /* error */
    put16(&w, 0U); /* other len */
    if (w.full) {
        return PICOACME_ERR_NOSPACE;
    }

    /* RFC 8945 §4.3.3: the message as it was before the TSIG RR, then the
     * TSIG variables: name, class, TTL, algorithm name, time signed, fudge,
     * error, other len, other data. Every piece already sits in out. */
    iov[0].ptr = out;
    iov[0].len = msg_len;
    iov[1].ptr = out + key_off;
    iov[1].len = key_len;
    iov[2].ptr = out + cls_off;
    iov[2].len = 6U;
    iov[3].ptr = out + alg_off;
    iov[3].len = sizeof alg_hmac_sha256 + 6U + 2U;
    iov[4].ptr = out + err_off;
    iov[4].len = 4U;
    e = crypto->hmac_sha256(crypto->user, key->secret, key->secret_len, iov, 5U, mac);
    if (e != PICOACME_OK) {
        return e;
    }
    memcpy(out + mac_off, mac, MAC_LEN);
    out[11] = 1U; /* ARCOUNT = 1 */
    *out_len = w.len;
    return PICOACME_OK;
}

/* ---- answer to an UPDATE -------------------------------------------------- */

static bool ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        d = (uint8_t)(d | (a[i] ^ b[i]));
    }
    return d == 0U;
}

picoacme_err_t picoacme_dns_update_answer(const uint8_t *msg, size_t len, uint16_t id,
                                          const picoacme_tsig_key_t *key, const uint8_t req_mac[32],
                                          const picoacme_crypto_t *crypto, uint8_t *rcode)
{
    static const uint8_t req_mac_len[2] = {0, MAC_LEN};
    uint8_t key_wire[NAME_MAX_LEN];
    size_t key_len = 0;
    uint8_t hdr[HDR_LEN];
    uint8_t calc[MAC_LEN];
    picoacme_iov_t iov[9];
    iter_t it;
    rr_t r, tsig;
    bool have = false, eq = false;
    size_t p, end = 0, mac_size, other_len, time_off, err_off;
    uint16_t err;
    uint8_t rc = 0;
    picoacme_err_t e;

    if (rcode == NULL || key == NULL || key->name == NULL || req_mac == NULL || crypto == NULL ||
        crypto->hmac_sha256 == NULL || (key->secret == NULL && key->secret_len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *rcode = 0;
    e = name_to_wire(key->name, key_wire, &key_len);
    if (e != PICOACME_OK) {
        return e;
    }
    e = iter_init(&it, msg, len, id, &rc);
    *rcode = rc;
    if (e != PICOACME_OK) {
        return e;
    }
    /* RFC 8945 §5.3: the TSIG RR is the last record of the message. */
    memset(&tsig, 0, sizeof tsig);
    for (;;) {
        e = iter_next(&it, &r);
        if (e == PICOACME_ERR_NOT_FOUND) {
            break;
        }
        if (e != PICOACME_OK) {
            return e;
        }
        if (have) {
            return PICOACME_ERR_PARSE; /* a TSIG RR that is not last */
        }
        if (r.type == TYPE_TSIG) {
            if (r.sec != 3U) {
                return PICOACME_ERR_PARSE;
            }
            have = true;
            tsig = r;
        }
    }
    if (it.pos != len) {
        return PICOACME_ERR_PARSE; /* trailing bytes */
    }
    if (((msg[2] >> 3) & 0x0FU) != OPCODE_UPD || !have) {
        return PICOACME_ERR_PROTOCOL; /* not an UPDATE answer, or unsigned */
    }
    if (tsig.cls != CLASS_ANY || rd32(msg + tsig.name_end + 4U) != 0U) {
        return PICOACME_ERR_PARSE; /* RFC 8945 §4.2: class ANY, TTL 0 */
    }
    /* TSIG RDATA (RFC 8945 §4.2), every field inside rdlength. */
    e = name_walk(msg, tsig.end, tsig.rdata, &end, alg_hmac_sha256, sizeof alg_hmac_sha256, &eq,
                  NULL, NULL);
    if (e != PICOACME_OK) {
        return e;
    }
    p = end;
    if (tsig.end - p < 10U) {
        return PICOACME_ERR_PARSE;
    }
    time_off = p;
    mac_size = rd16(msg + p + 8U);
    p += 10U;
    if (tsig.end - p < mac_size || tsig.end - p - mac_size < 6U) {
        return PICOACME_ERR_PARSE;
    }
    p += mac_size;
    err_off = p + 2U;
    err = rd16(msg + err_off);
    other_len = rd16(msg + err_off + 2U);
    if (tsig.end - err_off - 4U != other_len) {
        return PICOACME_ERR_PARSE;
    }
    if (err != 0U) {
        /* RFC 8945 §5.3.2: BADSIG, BADKEY, BADTIME... the server did not
         * accept our signature. */
        *rcode = PICOACME_DNS_RCODE_NOTAUTH;
        return PICOACME_ERR_PROTOCOL;
    }
    {
        bool key_eq = false;
        e = name_walk(msg, len, tsig.start, &end, key_wire, key_len, &key_eq, NULL, NULL);
        if (e != PICOACME_OK) {
            return e;
        }
        if (!key_eq || !eq || mac_size != MAC_LEN || rd16(msg + err_off - 2U) != id) {
            *rcode = PICOACME_DNS_RCODE_NOTAUTH;
            return PICOACME_ERR_PROTOCOL;
        }
    }

    /* RFC 8945 §4.3.1 / §4.3.3: request MAC, the message without the TSIG
     * RR (ARCOUNT less one, the original ID), the TSIG variables. */
    memcpy(hdr, msg, HDR_LEN);
    hdr[0] = (uint8_t)(id >> 8);
    hdr[1] = (uint8_t)id;
    {
        unsigned ar = (unsigned)it.count[3] - 1U;
        hdr[10] = (uint8_t)(ar >> 8);
        hdr[11] = (uint8_t)ar;
    }
    iov[0].ptr = req_mac_len;
    iov[0].len = 2U;
    iov[1].ptr = req_mac;
    iov[1].len = MAC_LEN;
    iov[2].ptr = hdr;
    iov[2].len = HDR_LEN;
    iov[3].ptr = msg + HDR_LEN;
    iov[3].len = tsig.start - HDR_LEN;
    iov[4].ptr = key_wire;
    iov[4].len = key_len;
    iov[5].ptr = msg + tsig.name_end + 2U; /* class, TTL */
    iov[5].len = 6U;
    iov[6].ptr = alg_hmac_sha256;
    iov[6].len = sizeof alg_hmac_sha256;
    iov[7].ptr = msg + time_off; /* time signed, fudge */
    iov[7].len = 8U;
    iov[8].ptr = msg + err_off; /* error, other len, other data */
    iov[8].len = 4U + other_len;
    e = crypto->hmac_sha256(crypto->user, key->secret, key->secret_len, iov, 9U, calc);
    if (e != PICOACME_OK) {
        return e;
    }
    if (!ct_equal(calc, msg + time_off + 10U, MAC_LEN)) {
        memset(calc, 0, sizeof calc);
        *rcode = PICOACME_DNS_RCODE_NOTAUTH;
        return PICOACME_ERR_PROTOCOL;
    }
    memset(calc, 0, sizeof calc);
    *rcode = rc;
    return PICOACME_OK;
}

/* ---- TXT lookup ----------------------------------------------------------- */

/* Do the character-strings of rdata (RFC 1035 §3.3.14), joined, equal txt?
 * PARSE when a string overruns the rdata. */
static picoacme_err_t txt_equal(const uint8_t *rd, size_t rdlen, const char *txt, size_t txt_len,
                                bool *eq)
{
    size_t p = 0, t = 0;
    bool same = true;

    while (p < rdlen) {
        size_t n = rd[p];
        if (n > rdlen - p - 1U) {
            return PICOACME_ERR_PARSE;
        }
        if (same && (n > txt_len - t || memcmp(rd + p + 1U, txt + t, n) != 0)) {
            same = false;
        }
        if (same) {
            t += n;
        }
        p += 1U + n;
    }
    *eq = same && t == txt_len;
    return PICOACME_OK;
}

picoacme_err_t picoacme_dns_txt_has(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                                    const char *txt, bool *found, uint8_t *rcode)
{
    uint8_t wire[NAME_MAX_LEN];
    size_t wire_len = 0, end = 0, txt_len;
    iter_t it;
    rr_t r;
    bool eq = false, hit = false;
    uint8_t rc = 0;
    picoacme_err_t e;

    if (txt == NULL || found == NULL || rcode == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *found = false;
    *rcode = 0;
    e = name_to_wire(name, wire, &wire_len);
    if (e != PICOACME_OK) {
        return e;
    }
    txt_len = strlen(txt);
    e = iter_init(&it, msg, len, id, &rc);
    *rcode = rc;
    if (e != PICOACME_OK) {
        return e;
    }
    for (;;) {
        e = iter_next(&it, &r);
        if (e == PICOACME_ERR_NOT_FOUND) {
            break;
        }
        if (e != PICOACME_OK) {
            return e;
        }
        if (r.sec != 1U || r.type != PICOACME_DNS_TYPE_TXT || r.cls != CLASS_IN) {
            continue;
        }
        e = name_walk(msg, len, r.start, &end, wire, wire_len, &eq, NULL, NULL);
        if (e != PICOACME_OK) {
            return e;
        }
        if (eq) {
            bool same = false;
            e = txt_equal(msg + r.rdata, r.rdlen, txt, txt_len, &same);
            if (e != PICOACME_OK) {
                return e;
            }
            hit = hit || same;
        }
    }
    if (it.count[0] != 1U) {
        return PICOACME_ERR_PROTOCOL;
    }
    e = name_walk(msg, len, it.qname, &end, wire, wire_len, &eq, NULL, NULL);
    if (e != PICOACME_OK || !eq || rd16(msg + end) != PICOACME_DNS_TYPE_TXT) {
        return PICOACME_ERR_PROTOCOL; /* the answer to another question */
    }
    *found = hit; /* only once the whole message parsed */
    return PICOACME_OK;
}

/* ---- SOA zone ------------------------------------------------------------- */

picoacme_err_t picoacme_dns_soa_zone(const uint8_t *msg, size_t len, uint16_t id, char *zone,
                                     size_t cap)
{
    uint8_t wire[NAME_MAX_LEN];
    size_t wire_len = 0, end = 0, i, o = 0;
    iter_t it;
    rr_t r, soa;
    bool have = false;
    picoacme_err_t e;

    if (zone == NULL || cap == 0U) {
        return PICOACME_ERR_PARAM;
    }
    zone[0] = '\0';
    e = iter_init(&it, msg, len, id, NULL);
    if (e != PICOACME_OK) {
        return e;
    }
    memset(&soa, 0, sizeof soa);
    for (;;) {
        e = iter_next(&it, &r);
        if (e == PICOACME_ERR_NOT_FOUND) {
            break;
        }
        if (e != PICOACME_OK) {
            return e;
        }
        if (!have && r.sec <= 2U && r.type == PICOACME_DNS_TYPE_SOA && r.cls == CLASS_IN) {
            soa = r;
            have = true;
        }
    }
    if (!have) {
        return PICOACME_ERR_NOT_FOUND;
    }
    e = name_walk(msg, len, soa.start, &end, NULL, 0, NULL, wire, &wire_len);
    if (e != PICOACME_OK) {
        return e;
    }
    /* Dotted text; without escapes, a label holding '.' or a byte outside
     * printable ASCII cannot be written and is refused. Checked first, so
     * the verdict does not depend on cap. */
    for (i = 1; i < wire_len; i++) {
        uint8_t c = wire[i];
        if (i == o + 1U + wire[o]) {
            o = i; /* the next length byte */
            continue;
        }
        if (c <= 0x20U || c >= 0x7FU || c == (uint8_t)'.' || c == (uint8_t)'\\') {
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
            zone[o++] = '.';
        }
        memcpy(zone + o, wire + i + 1U, wire[i]);
        o += wire[i];
    }
    zone[o] = '\0';
    return PICOACME_OK;
}
