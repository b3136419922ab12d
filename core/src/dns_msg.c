/*
 * dns_msg.c - the DNS messages dns-01 sends, without I/O: a query (RFC 1035
 * §4.1) and an RFC 2136 UPDATE adding or deleting one TXT record, signed
 * with TSIG (tsig.c). Names are written uncompressed in lowercase.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

#define TXT_CHUNK 255U
#define FLAG_RD   0x0100U

/* RFC 1035 §4.1.1: ID, flags, QDCOUNT (ZOCOUNT) 1, ANCOUNT 0, NSCOUNT
 * (UPCOUNT) ns, ARCOUNT 0 (TSIG counts itself). */
static void put_header(util_wbuf_t *w, uint16_t id, unsigned flags, unsigned ns)
{
    uint8_t h[DNS_HDR_LEN] = {0};

    util_set16(h, id);
    util_set16(h + 2, flags);
    h[5] = 1U;
    h[9] = (uint8_t)ns;
    util_put(w, h, sizeof h);
}

static picoacme_err_t put_name(util_wbuf_t *w, const char *name)
{
    uint8_t wire[DNS_NAME_MAX];
    size_t wire_len = 0;
    picoacme_err_t e = picoacme_dns_name_to_wire(name, wire, &wire_len);

    if (e == PICOACME_OK) {
        util_put(w, wire, wire_len);
    }
    return e;
}

/* A question (RFC 1035 §4.1.2), or the zone section of an UPDATE, which
 * has the same shape (RFC 2136 §2.3). */
static picoacme_err_t put_question(util_wbuf_t *w, const char *name, unsigned type, unsigned cls)
{
    picoacme_err_t e = put_name(w, name);

    util_put16(w, type);
    util_put16(w, cls);
    return e;
}

picoacme_err_t picoacme_dns_query(uint8_t *out, size_t cap, size_t *out_len, uint16_t id,
                                  const char *name, uint16_t qtype)
{
    util_wbuf_t w;
    picoacme_err_t e;

    if (out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    util_wbuf_init(&w, out, cap);
    put_header(&w, id, FLAG_RD, 0U);
    e = put_question(&w, name, qtype, DNS_CLASS_IN);
    if (e != PICOACME_OK) {
        return e;
    }
    if (w.over) {
        return PICOACME_ERR_NOSPACE;
    }
    *out_len = w.len;
    return PICOACME_OK;
}

/* ---- UPDATE --------------------------------------------------------------- */

/* RDLENGTH of txt as TXT RDATA: character-strings of at most 255 bytes
 * (RFC 1035 §3.3.14), the empty text one empty string. 0 when it does not
 * fit 16 bits. */
static size_t txt_rdlen(size_t txt_len)
{
    size_t n;

    if (txt_len > 0xFFFFU) {
        return 0;
    }
    n = txt_len + (txt_len == 0U ? 1U : (txt_len + TXT_CHUNK - 1U) / TXT_CHUNK);
    return n > 0xFFFFU ? 0U : n;
}

static void put_txt_rdata(util_wbuf_t *w, const char *txt, size_t txt_len)
{
    size_t i = 0;

    do {
        size_t n = txt_len - i < TXT_CHUNK ? txt_len - i : TXT_CHUNK;
        util_put8(w, (unsigned)n);
        util_put(w, txt + i, n);
        i += n;
    } while (i < txt_len);
}

/* RFC 2136 §2.5.1 add (class IN, ttl) / §2.5.4 delete (class NONE, TTL 0)
 * one RR from an RRset. */
static picoacme_err_t put_txt_rr(util_wbuf_t *w, const char *owner, const char *txt, size_t txt_len,
                                 size_t rdlen, uint32_t ttl, bool add)
{
    picoacme_err_t e = put_name(w, owner);

    util_put16(w, PICOACME_DNS_TYPE_TXT);
    util_put16(w, add ? DNS_CLASS_IN : DNS_CLASS_NONE);
    util_put32(w, add ? ttl : 0U);
    util_put16(w, (unsigned)rdlen);
    put_txt_rdata(w, txt, txt_len);
    return e;
}

picoacme_err_t picoacme_dns_update(uint8_t *out, size_t cap, size_t *out_len, uint16_t id,
                                   const char *zone, const char *owner, const char *txt,
                                   uint32_t ttl, bool add, const picoacme_tsig_key_t *key,
                                   int64_t now_s, const picoacme_crypto_t *crypto, uint8_t mac[32])
{
    util_wbuf_t w;
    size_t txt_len, rdlen;
    picoacme_err_t e;

    if (out == NULL || out_len == NULL || txt == NULL || !dns_tsig_args_ok(key, crypto) ||
        mac == NULL || now_s < 0 || now_s > DNS_TIME48_MAX) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    txt_len = strlen(txt);
    rdlen = txt_rdlen(txt_len);
    if (rdlen == 0U) {
        return PICOACME_ERR_PARAM;
    }
    util_wbuf_init(&w, out, cap);
    /* RFC 2136 §2.2: opcode UPDATE; ZOCOUNT 1, PRCOUNT 0, UPCOUNT 1. */
    put_header(&w, id, DNS_OPCODE_UPD << 11, 1U);
    e = put_question(&w, zone, PICOACME_DNS_TYPE_SOA, DNS_CLASS_IN);
    if (e != PICOACME_OK) {
        return e;
    }
    e = put_txt_rr(&w, owner, txt, txt_len, rdlen, ttl, add);
    if (e != PICOACME_OK) {
        return e;
    }
    e = picoacme_tsig_sign(&w, id, key, now_s, crypto, mac);
    if (e != PICOACME_OK) {
        return e;
    }
    *out_len = w.len;
    return PICOACME_OK;
}
