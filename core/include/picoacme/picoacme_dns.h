/*
 * picoacme_dns.h - the DNS messages dns-01 needs, built and read without
 * I/O: RFC 2136 UPDATE signed with TSIG HMAC-SHA256 (RFC 8945), a TXT or
 * SOA query, and bounded parsers for the answers (RFC 1035 §4, name
 * compression followed with a hop limit).
 */
#ifndef PICOACME_DNS_H
#define PICOACME_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"
#include "picoacme_port.h"

#define PICOACME_DNS_TYPE_TXT 16U
#define PICOACME_DNS_TYPE_SOA 6U

/* DNS RCODEs the caller may want to name (RFC 1035, RFC 2136, RFC 8945). */
#define PICOACME_DNS_RCODE_NOERROR  0U
#define PICOACME_DNS_RCODE_SERVFAIL 2U
#define PICOACME_DNS_RCODE_NXDOMAIN 3U
#define PICOACME_DNS_RCODE_REFUSED  5U
#define PICOACME_DNS_RCODE_NOTAUTH  9U

/* A TSIG key, algorithm hmac-sha256. */
typedef struct picoacme_tsig_key {
    const char *name;      /* key name, e.g. "acme-key" (a trailing dot optional) */
    const uint8_t *secret; /* the decoded secret */
    size_t secret_len;
} picoacme_tsig_key_t;

/*
 * Names are taken as presentation text without escapes ("a.b.c", a trailing
 * dot optional, "" or "." the root; labels of 1..63 printable ASCII bytes,
 * 255 bytes in wire form) and written uncompressed in lowercase.
 *
 * Memory: no function allocates or keeps a pointer after it returns; every
 * buffer belongs to the caller. A function that fails leaves *out_len 0.
 */

/* Build a query (RFC 1035 §4.1: RD set, one question, class IN).
 *
 * out, cap:  the caller's buffer for the message
 * out_len:   gets the message length
 * id:        the message ID, to match the answer with
 * name:      the name asked about (NUL-terminated text, see above)
 * qtype:     PICOACME_DNS_TYPE_TXT, PICOACME_DNS_TYPE_SOA, ...
 *
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (a NULL pointer or a name
 * that cannot be written), PICOACME_ERR_NOSPACE (cap too small). */
picoacme_err_t picoacme_dns_query(uint8_t *out, size_t cap, size_t *out_len, uint16_t id,
                                  const char *name, uint16_t qtype);

/* Build an UPDATE (RFC 2136 §2) for zone that adds (add=true: class IN,
 * ttl) or deletes (add=false: class NONE, TTL 0, RFC 2136 §2.5.4) the TXT
 * record owner/txt, signed with TSIG HMAC-SHA256 (RFC 8945 §4) at time
 * now_s with fudge 300.
 *
 * out, cap:  the caller's buffer for the message
 * out_len:   gets the message length
 * id:        the message ID
 * zone, owner: names (text, see above); txt: the record's text, split into
 *            character-strings of 255 bytes
 * key:       the TSIG key (read only during the call)
 * now_s:     Unix seconds, 0 .. 2^48 - 1
 * crypto:    the port whose hmac_sha256 signs
 * mac:       gets the request MAC (32 bytes, the caller's): keep it to
 *            verify the answer with picoacme_dns_update_answer()
 *
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (a NULL pointer, a name
 * that cannot be written, a text over 65535 bytes of RDATA, now_s out of
 * range), PICOACME_ERR_NOSPACE (cap too small), or the error of
 * crypto->hmac_sha256. */
picoacme_err_t picoacme_dns_update(uint8_t *out, size_t cap, size_t *out_len, uint16_t id,
                                   const char *zone, const char *owner, const char *txt,
                                   uint32_t ttl, bool add, const picoacme_tsig_key_t *key,
                                   int64_t now_s, const picoacme_crypto_t *crypto, uint8_t mac[32]);

/* Check the answer to an UPDATE: ID and QR match, opcode UPDATE, the TSIG
 * record is the last one and verifies against key and the request MAC
 * (RFC 8945 §5.3). The time signed is not checked (see
 * picoacme_dns_update_answer_at()).
 *
 * msg, len:  the answer as received (read only during the call)
 * id:        the ID of the UPDATE
 * key:       the TSIG key the UPDATE was signed with
 * req_mac:   the MAC picoacme_dns_update() gave
 * crypto:    the port whose hmac_sha256 verifies
 * rcode:     gets the answer's RCODE (PICOACME_DNS_RCODE_*), NOTAUTH when
 *            the TSIG check failed
 *
 * Returns one of PICOACME_OK (then *rcode is the server's verdict on the
 * update), PICOACME_ERR_PARAM, PICOACME_ERR_PARSE (a malformed message),
 * PICOACME_ERR_PROTOCOL (another ID, not a response or not an UPDATE
 * answer, unsigned, or a TSIG error such as BADKEY/BADSIG/BADTIME, a wrong
 * key, algorithm or MAC: then *rcode = NOTAUTH), or the error of
 * crypto->hmac_sha256. */
picoacme_err_t picoacme_dns_update_answer(const uint8_t *msg, size_t len, uint16_t id,
                                          const picoacme_tsig_key_t *key, const uint8_t req_mac[32],
                                          const picoacme_crypto_t *crypto, uint8_t *rcode);

/* picoacme_dns_update_answer(), and the time signed of the answer must be
 * within its fudge of now_s (RFC 8945 §5.2.3), checked once the MAC is.
 *
 * now_s:     Unix seconds by the same clock the UPDATE was signed with,
 *            0 .. 2^48 - 1
 *
 * Returns what picoacme_dns_update_answer() returns; a time outside the
 * fudge is PICOACME_ERR_PROTOCOL with *rcode = NOTAUTH. */
picoacme_err_t picoacme_dns_update_answer_at(const uint8_t *msg, size_t len, uint16_t id,
                                             const picoacme_tsig_key_t *key,
                                             const uint8_t req_mac[32],
                                             const picoacme_crypto_t *crypto, int64_t now_s,
                                             uint8_t *rcode);

/* Does the answer to a TXT query for name hold a TXT record (answer
 * section, class IN) for name whose character-strings joined equal txt?
 *
 * msg, len:  the answer as received (read only during the call)
 * id:        the ID of the query
 * name, txt: the name asked about and the text looked for (NUL-terminated)
 * found:     gets the verdict, true only with PICOACME_OK
 * rcode:     gets the answer's RCODE
 *
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (a NULL pointer or a name
 * that cannot be written), PICOACME_ERR_PARSE (a malformed message),
 * PICOACME_ERR_PROTOCOL (another ID, not a response, or the answer to
 * another question). */
picoacme_err_t picoacme_dns_txt_has(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                                    const char *txt, bool *found, uint8_t *rcode);

/* The zone of an answer to an SOA query: the owner name of the first SOA
 * record (class IN) of the answer or authority section.
 *
 * msg, len:  the answer as received (read only during the call)
 * id:        the ID of the query
 * zone, cap: the caller's buffer; gets dotted text without trailing dot,
 *            NUL-terminated ("" for the root); "" on failure
 *
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (zone NULL or cap 0),
 * PICOACME_ERR_PARSE (a malformed message, or an owner name that cannot be
 * written as text without escapes), PICOACME_ERR_PROTOCOL (another ID or
 * not a response), PICOACME_ERR_NOT_FOUND (no SOA record),
 * PICOACME_ERR_NOSPACE (cap too small). */
picoacme_err_t picoacme_dns_soa_zone(const uint8_t *msg, size_t len, uint16_t id, char *zone,
                                     size_t cap);

#endif
