/*
 * dns_answer.c - the DNS answers dns-01 reads, without I/O: the answer to
 * an UPDATE (its TSIG checked by tsig.c), whether a TXT answer holds a
 * value, and the zone named by an SOA record.
 *
 * Every section of the message is read with bounds checks (RFC 1035 §4.1),
 * names through picoacme_dns_name_read (backward pointers only, hops
 * capped). Nothing recurses, nothing allocates.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

/* ---- the record iterator (RFC 1035 §4.1) ---------------------------------- */

typedef struct iter {
    const uint8_t *msg;
    size_t len;
    size_t pos;
    unsigned sec;
    unsigned left;
    uint16_t count[4];
    size_t qname; /* offset of the first question name, 0 if none */
} iter_t;

/* Offset after the name at off, or 0 when it does not parse. */
static size_t skip_name(const uint8_t *msg, size_t len, size_t off)
{
    dns_name_t n = {NULL, 0, NULL, 0, 0, false};

    return picoacme_dns_name_read(msg, len, off, &n) == PICOACME_OK ? n.end : 0U;
}

/* Check the header (id, QR), set *rcode and skip the questions. */
static picoacme_err_t iter_init(iter_t *it, const uint8_t *msg, size_t len, uint16_t id,
                                uint8_t *rcode)
{
    if (msg == NULL || len < DNS_HDR_LEN) {
        return PICOACME_ERR_PARSE;
    }
    memset(it, 0, sizeof *it);
    it->msg = msg;
    it->len = len;
    for (unsigned i = 0; i < 4U; i++) {
        it->count[i] = util_get16(msg + 4U + 2U * i);
    }
    if (rcode != NULL) {
        *rcode = (uint8_t)(msg[3] & 0x0FU);
    }
    if (util_get16(msg) != id || (msg[2] & 0x80U) == 0U) {
        return PICOACME_ERR_PROTOCOL; /* not the answer to our message */
    }
    it->pos = DNS_HDR_LEN;
    it->qname = it->count[0] != 0U ? DNS_HDR_LEN : 0U;
    for (unsigned i = 0; i < it->count[0]; i++) {
        size_t end = skip_name(msg, len, it->pos);
        if (end == 0U || len - end < 4U) {
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
static picoacme_err_t iter_next(iter_t *it, dns_rr_t *r)
{
    size_t end;

    while (it->left == 0U) {
        if (it->sec >= 3U) {
            return PICOACME_ERR_NOT_FOUND;
        }
        it->sec++;
        it->left = it->count[it->sec];
    }
    r->start = it->pos;
    end = skip_name(it->msg, it->len, it->pos);
    if (end == 0U || it->len - end < 10U) {
        return PICOACME_ERR_PARSE;
    }
    r->name_end = end;
    r->type = util_get16(it->msg + end);
    r->cls = util_get16(it->msg + end + 2U);
    r->rdlen = util_get16(it->msg + end + 8U);
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

/* ---- answer to an UPDATE -------------------------------------------------- */

/* RFC 8945 §5.3: the TSIG RR, if any, is the last record, in the additional
 * section, and nothing follows it. tsig->type is 0 when there is none. */
static picoacme_err_t find_tsig(iter_t *it, dns_rr_t *tsig)
{
    dns_rr_t r;
    picoacme_err_t e;

    memset(tsig, 0, sizeof *tsig);
    while ((e = iter_next(it, &r)) == PICOACME_OK) {
        if (tsig->type == DNS_TYPE_TSIG) {
            return PICOACME_ERR_PARSE; /* a TSIG RR that is not last */
        }
        if (r.type == DNS_TYPE_TSIG) {
            if (r.sec != 3U) {
                return PICOACME_ERR_PARSE;
            }
            *tsig = r;
        }
    }
    if (e != PICOACME_ERR_NOT_FOUND) {
        return e;
    }
    return it->pos == it->len ? PICOACME_OK : PICOACME_ERR_PARSE; /* trailing bytes */
}

picoacme_err_t picoacme_dns_update_answer(const uint8_t *msg, size_t len, uint16_t id,
                                          const picoacme_tsig_key_t *key, const uint8_t req_mac[32],
                                          const picoacme_crypto_t *crypto, uint8_t *rcode)
{
    dns_tsig_check_t chk;
    iter_t it;
    dns_rr_t tsig;
    picoacme_err_t e;

    if (rcode == NULL || req_mac == NULL || !dns_tsig_args_ok(key, crypto)) {
        return PICOACME_ERR_PARAM;
    }
    *rcode = 0;
    chk.key = key;
    chk.req_mac = req_mac;
    chk.crypto = crypto;
    chk.id = id;
    e = picoacme_dns_name_to_wire(key->name, chk.key_wire, &chk.key_len);
    if (e != PICOACME_OK) {
        return e;
    }
    e = iter_init(&it, msg, len, id, rcode);
    if (e == PICOACME_OK) {
        e = find_tsig(&it, &tsig);
    }
    if (e != PICOACME_OK) {
        return e;
    }
    if (((msg[2] >> 3) & 0x0FU) != DNS_OPCODE_UPD || tsig.type != DNS_TYPE_TSIG) {
        return PICOACME_ERR_PROTOCOL; /* not an UPDATE answer, or unsigned */
    }
    return picoacme_tsig_verify(msg, len, &tsig, it.count[3], &chk, rcode);
}

/* The answer verified first; its TSIG RR is then found again (the message
 * parsed once already) for the time check, so picoacme_dns_update_answer
 * carries none of it. */
picoacme_err_t picoacme_dns_update_answer_at(const uint8_t *msg, size_t len, uint16_t id,
                                             const picoacme_tsig_key_t *key,
                                             const uint8_t req_mac[32],
                                             const picoacme_crypto_t *crypto, int64_t now_s,
                                             uint8_t *rcode)
{
    iter_t it;
    dns_rr_t tsig;
    picoacme_err_t e;

    if (now_s < 0 || now_s > DNS_TIME48_MAX) {
        return PICOACME_ERR_PARAM;
    }
    e = picoacme_dns_update_answer(msg, len, id, key, req_mac, crypto, rcode);
    if (e != PICOACME_OK) {
        return e;
    }
    if (iter_init(&it, msg, len, id, NULL) != PICOACME_OK || find_tsig(&it, &tsig) != PICOACME_OK ||
        !picoacme_tsig_time_ok(msg, &tsig, now_s)) {
        *rcode = PICOACME_DNS_RCODE_NOTAUTH;
        return PICOACME_ERR_PROTOCOL;
    }
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

/* Is r a TXT record (answer section, class IN) for name holding txt? */
static picoacme_err_t txt_rr_has(const iter_t *it, const dns_rr_t *r, const dns_name_t *name,
                                 const char *txt, bool *hit)
{
    dns_name_t owner = *name;
    picoacme_err_t e;

    if (r->sec != 1U || r->type != PICOACME_DNS_TYPE_TXT || r->cls != DNS_CLASS_IN) {
        return PICOACME_OK;
    }
    e = picoacme_dns_name_read(it->msg, it->len, r->start, &owner);
    if (e != PICOACME_OK || !owner.eq) {
        return e;
    }
    return txt_equal(it->msg + r->rdata, r->rdlen, txt, strlen(txt), hit);
}

/* Was the question (one, TXT) asked for name? */
static bool asked_for(const iter_t *it, const dns_name_t *name)
{
    dns_name_t q = *name;

    return it->count[0] == 1U &&
           picoacme_dns_name_read(it->msg, it->len, it->qname, &q) == PICOACME_OK && q.eq &&
           util_get16(it->msg + q.end) == PICOACME_DNS_TYPE_TXT;
}

picoacme_err_t picoacme_dns_txt_has(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                                    const char *txt, bool *found, uint8_t *rcode)
{
    uint8_t wire[DNS_NAME_MAX];
    dns_name_t want = {wire, 0, NULL, 0, 0, false};
    iter_t it;
    dns_rr_t r;
    bool hit = false;
    picoacme_err_t e;

    if (txt == NULL || found == NULL || rcode == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *found = false;
    *rcode = 0;
    e = picoacme_dns_name_to_wire(name, wire, &want.cmp_len);
    if (e != PICOACME_OK) {
        return e;
    }
    e = iter_init(&it, msg, len, id, rcode);
    while (e == PICOACME_OK) {
        bool same = false;
        e = iter_next(&it, &r);
        if (e == PICOACME_OK) {
            e = txt_rr_has(&it, &r, &want, txt, &same);
        }
        hit = hit || same;
    }
    if (e != PICOACME_ERR_NOT_FOUND) {
        return e;
    }
    if (!asked_for(&it, &want)) {
        return PICOACME_ERR_PROTOCOL; /* the answer to another question */
    }
    *found = hit; /* only once the whole message parsed */
    return PICOACME_OK;
}

/* ---- SOA zone ------------------------------------------------------------- */

/* The first SOA record (class IN) of the answer or authority section, after
 * every record parsed. NOT_FOUND when there is none. */
static picoacme_err_t find_soa(iter_t *it, dns_rr_t *soa)
{
    dns_rr_t r;
    bool have = false;
    picoacme_err_t e;

    while ((e = iter_next(it, &r)) == PICOACME_OK) {
        if (!have && r.sec <= 2U && r.type == PICOACME_DNS_TYPE_SOA && r.cls == DNS_CLASS_IN) {
            *soa = r;
            have = true;
        }
    }
    if (e != PICOACME_ERR_NOT_FOUND) {
        return e;
    }
    return have ? PICOACME_OK : PICOACME_ERR_NOT_FOUND;
}

picoacme_err_t picoacme_dns_soa_zone(const uint8_t *msg, size_t len, uint16_t id, char *zone,
                                     size_t cap)
{
    uint8_t wire[DNS_NAME_MAX];
    dns_name_t owner = {NULL, 0, wire, 0, 0, false};
    iter_t it;
    dns_rr_t soa;
    picoacme_err_t e;

    if (zone == NULL || cap == 0U) {
        return PICOACME_ERR_PARAM;
    }
    zone[0] = '\0';
    e = iter_init(&it, msg, len, id, NULL);
    if (e == PICOACME_OK) {
        e = find_soa(&it, &soa);
    }
    if (e == PICOACME_OK) {
        e = picoacme_dns_name_read(msg, len, soa.start, &owner);
    }
    if (e != PICOACME_OK) {
        return e;
    }
    return picoacme_dns_name_to_text(wire, owner.len, zone, cap);
}
