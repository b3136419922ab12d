/*
 * dns.h - private to core/src: what the DNS codec files share.
 *
 *   dns_name.c    names: presentation text to wire form, reading a
 *                 (compressed) name from a message, wire form to text
 *   dns_msg.c     the messages we send: a query, an RFC 2136 UPDATE
 *   dns_answer.c  the answers we read: the record iterator, the UPDATE
 *                 answer, the TXT lookup, the SOA zone
 *   tsig.c        RFC 8945 TSIG HMAC-SHA256: sign a request, verify an answer
 *
 * Nothing here allocates, recurses or touches the OS.
 */
#ifndef PICOACME_DNS_PRIV_H
#define PICOACME_DNS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_dns.h"
#include "util.h"

#define DNS_HDR_LEN    12U
#define DNS_NAME_MAX   255U /* wire form, root byte included (RFC 1035 §3.1) */
#define DNS_TYPE_TSIG  250U
#define DNS_CLASS_IN   1U
#define DNS_CLASS_NONE 254U
#define DNS_CLASS_ANY  255U
#define DNS_OPCODE_UPD 5U
#define DNS_TIME48_MAX 0xFFFFFFFFFFFFLL /* TSIG time signed is 48 bits */
#define DNS_MAC_LEN    32U

/* ---- names (dns_name.c) ------------------------------------------------- */

/* Presentation text ("a.b.c", a trailing dot optional, "" or "." the root,
 * no escapes) to lowercase uncompressed wire form (RFC 1035 §3.1): labels of
 * 1..63 printable bytes, 255 bytes in all. PICOACME_ERR_PARAM otherwise. */
picoacme_err_t picoacme_dns_name_to_wire(const char *name, uint8_t out[DNS_NAME_MAX],
                                         size_t *out_len);

/* One name read from a message. The caller sets cmp/cmp_len and copy (each
 * may be NULL); the reader fills in the rest. */
typedef struct dns_name {
    const uint8_t *cmp; /* wire form to compare with, ignoring ASCII case */
    size_t cmp_len;
    uint8_t *copy; /* DNS_NAME_MAX bytes for the uncompressed wire form */
    size_t end;    /* offset after the name as it sits at off */
    size_t len;    /* length of the uncompressed wire form */
    bool eq;       /* equal to cmp (false without cmp) */
} dns_name_t;

/* Read the possibly compressed name at off in msg[0, len) (RFC 1035
 * §4.1.4): every pointer must point before the start of the segment it
 * ends, so every jump goes strictly backward, and jumps are capped.
 * PICOACME_ERR_PARSE on anything else. */
picoacme_err_t picoacme_dns_name_read(const uint8_t *msg, size_t len, size_t off, dns_name_t *n);

/* Uncompressed wire form to dotted text without trailing dot ("" for the
 * root), NUL-terminated in out[0, cap). PICOACME_ERR_PARSE when a label
 * holds '.', '\\' or a byte outside printable ASCII (whatever cap is),
 * PICOACME_ERR_NOSPACE when cap is too small. */
picoacme_err_t picoacme_dns_name_to_text(const uint8_t *wire, size_t wire_len, char *out,
                                         size_t cap);

/* ---- records (dns_answer.c reads them, tsig.c checks one) --------------- */

typedef struct dns_rr {
    size_t start;    /* owner name */
    size_t name_end; /* type, class, ttl, rdlength follow */
    uint16_t type;
    uint16_t cls;
    size_t rdata;
    size_t rdlen;
    size_t end;
    unsigned sec; /* 1 answer/prerequisite, 2 authority/update, 3 additional */
} dns_rr_t;

/* ---- TSIG (tsig.c) -------------------------------------------------------- */

/* What the TSIG RR of an answer is checked against. */
typedef struct dns_tsig_check {
    const picoacme_tsig_key_t *key;
    const uint8_t *req_mac; /* DNS_MAC_LEN bytes */
    const picoacme_crypto_t *crypto;
    uint16_t id;
    uint8_t key_wire[DNS_NAME_MAX]; /* the key name in wire form */
    size_t key_len;
} dns_tsig_check_t;

/* A key and a crypto port TSIG can work with. */
static inline bool dns_tsig_args_ok(const picoacme_tsig_key_t *key, const picoacme_crypto_t *crypto)
{
    return key != NULL && key->name != NULL && (key->secret != NULL || key->secret_len == 0U) &&
           crypto != NULL && crypto->hmac_sha256 != NULL;
}

/* RFC 8945 §4: append the TSIG RR (time now_s, fudge 300) for the message
 * in w, sign it, set ARCOUNT to 1 and copy the MAC to mac. PARAM for a bad
 * key name, NOSPACE when w ran out of room (also before this call), or the
 * crypto port's error. */
picoacme_err_t picoacme_tsig_sign(util_wbuf_t *w, uint16_t id, const picoacme_tsig_key_t *key,
                                  int64_t now_s, const picoacme_crypto_t *crypto,
                                  uint8_t mac[DNS_MAC_LEN]);

/* RFC 8945 §5.3: verify tsig, the last record of msg (whose ARCOUNT is
 * arcount), against chk (key_wire filled in). PARSE for a malformed TSIG
 * RR; PROTOCOL with *rcode = NOTAUTH for a TSIG error, a wrong key,
 * algorithm or original ID or a wrong MAC; or the crypto port's error. */
picoacme_err_t picoacme_tsig_verify(const uint8_t *msg, size_t len, const dns_rr_t *tsig,
                                    unsigned arcount, const dns_tsig_check_t *chk, uint8_t *rcode);

/* RFC 8945 §5.2.3: is now_s (0 .. 2^48 - 1) within the fudge of the time
 * signed of tsig, a TSIG RR picoacme_tsig_verify() accepted? */
bool picoacme_tsig_time_ok(const uint8_t *msg, const dns_rr_t *tsig, int64_t now_s);

#endif
