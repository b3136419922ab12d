/*
 * tsig.c - RFC 8945 TSIG with HMAC-SHA256 for the DNS codec (see dns.h):
 * sign a request (§4.2, §4.3.3), verify the signed answer (§5.3, §4.3.1)
 * and check its time signed (§5.2.3). The HMAC runs in the crypto port
 * over a gather list that points into the message, so nothing is copied.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

#define TSIG_FUDGE 300U
/* Time signed (6), fudge (2), MAC size (2): the fixed fields before the MAC. */
#define TIME_FUDGE_SIZE 10U

/* The TSIG RR after its owner name (RFC 8945 §4.2): type, class, TTL and
 * RDLENGTH, then the RDATA from the algorithm name on. */
#define ALG_OFF     10U
#define ALG_LEN     13U
#define RDLENGTH    (ALG_LEN + TIME_FUDGE_SIZE + DNS_MAC_LEN + 6U)
#define TSIG_RR_LEN (ALG_OFF + RDLENGTH)
_Static_assert(RDLENGTH < 256U, "RDLENGTH is written as one byte");

/* Its head up to the time signed: type TSIG, class ANY, TTL 0, RDLENGTH,
 * algorithm "hmac-sha256." (§6). */
static const uint8_t tsig_head[] = {0,   DNS_TYPE_TSIG, 0,   DNS_CLASS_ANY, 0,   0,   0,   0,
                                    0,   RDLENGTH,      11,  'h',           'm', 'a', 'c', '-',
                                    's', 'h',           'a', '2',           '5', '6', 0};
static const uint8_t *const alg_hmac_sha256 = tsig_head + ALG_OFF;

static void iov_set(picoacme_iov_t *v, const uint8_t *ptr, size_t len)
{
    v->ptr = ptr;
    v->len = len;
}

/* ---- signing a request ---------------------------------------------------- */

/* The TSIG RR (RFC 8945 §4.2) at rr, all but the MAC. Returns where the MAC
 * goes. */
static uint8_t *tsig_rr(uint8_t *rr, uint16_t id, uint64_t t)
{
    uint8_t *p = rr + sizeof tsig_head;

    memcpy(rr, tsig_head, sizeof tsig_head);
    util_set16(p, (unsigned)((t >> 32) & 0xFFFFU));
    util_set32(p + 2U, (uint32_t)(t & 0xFFFFFFFFU));
    util_set16(p + 6U, TSIG_FUDGE);
    util_set16(p + 8U, DNS_MAC_LEN);
    p += TIME_FUDGE_SIZE + DNS_MAC_LEN;
    util_set16(p, id);      /* original ID */
    util_set32(p + 2U, 0U); /* error, other len */
    return p - DNS_MAC_LEN;
}

picoacme_err_t picoacme_tsig_sign(util_wbuf_t *w, uint16_t id, const picoacme_tsig_key_t *key,
                                  int64_t now_s, const picoacme_crypto_t *crypto,
                                  uint8_t mac[DNS_MAC_LEN])
{
    uint8_t wire[DNS_NAME_MAX];
    size_t wire_len = 0;
    uint8_t *rr, *mac_at;
    picoacme_iov_t iov[5];
    picoacme_err_t e;

    e = picoacme_dns_name_to_wire(key->name, wire, &wire_len);
    if (e != PICOACME_OK) {
        return e;
    }
    if (w->over || w->cap - w->len < wire_len + TSIG_RR_LEN) {
        return PICOACME_ERR_NOSPACE;
    }
    rr = w->buf + w->len + wire_len; /* type, class, TTL, rdlength, rdata */
    memcpy(w->buf + w->len, wire, wire_len);
    mac_at = tsig_rr(rr, id, (uint64_t)now_s);
    /* RFC 8945 §4.3.3: the message as it was before the TSIG RR, then the
     * TSIG variables: name, class, TTL, algorithm name, time signed, fudge,
     * error, other len (no other data). Every piece already sits in w. */
    iov_set(&iov[0], w->buf, w->len);
    iov_set(&iov[1], w->buf + w->len, wire_len);
    iov_set(&iov[2], rr + 2U, 6U);
    iov_set(&iov[3], rr + ALG_OFF, ALG_LEN + 8U);
    iov_set(&iov[4], mac_at + DNS_MAC_LEN + 2U, 4U);
    e = crypto->hmac_sha256(crypto->user, key->secret, key->secret_len, iov, 5U, mac);
    if (e != PICOACME_OK) {
        return e;
    }
    memcpy(mac_at, mac, DNS_MAC_LEN);
    util_set16(w->buf + 10U, 1U); /* ARCOUNT */
    w->len += wire_len + TSIG_RR_LEN;
    return PICOACME_OK;
}

/* ---- verifying an answer -------------------------------------------------- */

/* Offsets of the TSIG RDATA fields (RFC 8945 §4.2) in the message. */
typedef struct tsig_rd {
    size_t time_off; /* time signed, fudge, MAC size, MAC */
    size_t mac_size;
    size_t err_off; /* error, other len, other data */
    size_t other_len;
    bool alg_ok;
} tsig_rd_t;

/* Class ANY, TTL 0, and every RDATA field inside rdlength. */
static picoacme_err_t tsig_rdata(const uint8_t *msg, const dns_rr_t *r, tsig_rd_t *rd)
{
    dns_name_t alg = {alg_hmac_sha256, ALG_LEN, NULL, 0, 0, false};
    size_t p, left;
    picoacme_err_t e;

    if (r->cls != DNS_CLASS_ANY || util_get32(msg + r->name_end + 4U) != 0U) {
        return PICOACME_ERR_PARSE;
    }
    e = picoacme_dns_name_read(msg, r->end, r->rdata, &alg);
    if (e != PICOACME_OK) {
        return e;
    }
    rd->alg_ok = alg.eq;
    p = alg.end;
    if (r->end - p < TIME_FUDGE_SIZE) {
        return PICOACME_ERR_PARSE;
    }
    rd->time_off = p;
    rd->mac_size = util_get16(msg + p + 8U);
    left = r->end - p - TIME_FUDGE_SIZE;
    if (left < rd->mac_size || left - rd->mac_size < 6U) {
        return PICOACME_ERR_PARSE;
    }
    rd->err_off = p + TIME_FUDGE_SIZE + rd->mac_size + 2U;
    rd->other_len = util_get16(msg + rd->err_off + 2U);
    return r->end - rd->err_off - 4U == rd->other_len ? PICOACME_OK : PICOACME_ERR_PARSE;
}

/* Is the TSIG RR from chk's key and algorithm, for our message? */
static picoacme_err_t tsig_ours(const uint8_t *msg, size_t len, const dns_rr_t *r,
                                const tsig_rd_t *rd, const dns_tsig_check_t *chk, bool *ours)
{
    dns_name_t key = {chk->key_wire, chk->key_len, NULL, 0, 0, false};
    picoacme_err_t e = picoacme_dns_name_read(msg, len, r->start, &key);

    *ours = key.eq && rd->alg_ok && rd->mac_size == DNS_MAC_LEN &&
            util_get16(msg + rd->err_off - 2U) == chk->id;
    return e;
}

/* RFC 8945 §4.3.1 / §4.3.3: the MAC of the answer over the request MAC,
 * the message without the TSIG RR (ARCOUNT less one, the original ID) and
 * the TSIG variables. */
static picoacme_err_t answer_mac(const uint8_t *msg, const dns_rr_t *r, const tsig_rd_t *rd,
                                 unsigned arcount, const dns_tsig_check_t *chk,
                                 uint8_t out[DNS_MAC_LEN])
{
    static const uint8_t req_mac_len[2] = {0, DNS_MAC_LEN};
    uint8_t hdr[DNS_HDR_LEN];
    picoacme_iov_t iov[9];

    memcpy(hdr, msg, DNS_HDR_LEN);
    util_set16(hdr, chk->id);
    util_set16(hdr + 10U, arcount - 1U);
    iov_set(&iov[0], req_mac_len, 2U);
    iov_set(&iov[1], chk->req_mac, DNS_MAC_LEN);
    iov_set(&iov[2], hdr, DNS_HDR_LEN);
    iov_set(&iov[3], msg + DNS_HDR_LEN, r->start - DNS_HDR_LEN);
    iov_set(&iov[4], chk->key_wire, chk->key_len);
    iov_set(&iov[5], msg + r->name_end + 2U, 6U); /* class, TTL */
    iov_set(&iov[6], alg_hmac_sha256, ALG_LEN);
    iov_set(&iov[7], msg + rd->time_off, 8U); /* time signed, fudge */
    iov_set(&iov[8], msg + rd->err_off, 4U + rd->other_len);
    return chk->crypto->hmac_sha256(chk->crypto->user, chk->key->secret, chk->key->secret_len, iov,
                                    9U, out);
}

static bool ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;

    for (size_t i = 0; i < n; i++) {
        d = (uint8_t)(d | (a[i] ^ b[i]));
    }
    return d == 0U;
}

picoacme_err_t picoacme_tsig_verify(const uint8_t *msg, size_t len, const dns_rr_t *tsig,
                                    unsigned arcount, const dns_tsig_check_t *chk, uint8_t *rcode)
{
    uint8_t calc[DNS_MAC_LEN];
    tsig_rd_t rd;
    bool ok = false;
    picoacme_err_t e = tsig_rdata(msg, tsig, &rd);

    if (e != PICOACME_OK) {
        return e;
    }
    if (util_get16(msg + rd.err_off) != 0U) {
        /* RFC 8945 §5.3.2: BADSIG, BADKEY, BADTIME... the server did not
         * accept our signature. */
        *rcode = PICOACME_DNS_RCODE_NOTAUTH;
        return PICOACME_ERR_PROTOCOL;
    }
    e = tsig_ours(msg, len, tsig, &rd, chk, &ok);
    if (e == PICOACME_OK && ok) {
        e = answer_mac(msg, tsig, &rd, arcount, chk, calc);
        ok = e == PICOACME_OK && ct_equal(calc, msg + rd.time_off + TIME_FUDGE_SIZE, DNS_MAC_LEN);
        memset(calc, 0, sizeof calc);
    }
    if (e != PICOACME_OK) {
        return e;
    }
    if (!ok) {
        *rcode = PICOACME_DNS_RCODE_NOTAUTH;
        return PICOACME_ERR_PROTOCOL;
    }
    return PICOACME_OK;
}

bool picoacme_tsig_time_ok(const uint8_t *msg, const dns_rr_t *tsig, int64_t now_s)
{
    tsig_rd_t rd;
    const uint8_t *t;
    uint64_t signed_s, now = (uint64_t)now_s;

    if (tsig_rdata(msg, tsig, &rd) != PICOACME_OK) {
        return false;
    }
    t = msg + rd.time_off;
    signed_s = (uint64_t)util_get16(t) << 32 | util_get32(t + 2U);
    return (now > signed_s ? now - signed_s : signed_s - now) <= util_get16(t + 6U);
}
