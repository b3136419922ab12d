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

/* Build a query (RD set) for name/qtype with message id. */
picoacme_err_t picoacme_dns_query(uint8_t *out, size_t cap, size_t *out_len, uint16_t id,
                                  const char *name, uint16_t qtype);

/* Build an UPDATE (RFC 2136 §2) for zone: add (add=true: class IN, ttl) or
 * delete (add=false: class NONE, ttl 0, RFC 2136 §2.5.4) the TXT record
 * owner/txt, signed with TSIG (RFC 8945 §4) at time now_s with fudge 300.
 * mac gets the request MAC, needed to verify the answer. */
picoacme_err_t picoacme_dns_update(uint8_t *out, size_t cap, size_t *out_len, uint16_t id,
                                   const char *zone, const char *owner, const char *txt,
                                   uint32_t ttl, bool add, const picoacme_tsig_key_t *key,
                                   int64_t now_s, const picoacme_crypto_t *crypto, uint8_t mac[32]);

/* Check the answer to an UPDATE: id and QR match, the TSIG record is last
 * and verifies against key and the request mac (RFC 8945 §5.3), and return
 * its RCODE (a TSIG error, e.g. BADKEY/BADSIG, makes the result
 * PICOACME_ERR_PROTOCOL with *rcode = NOTAUTH). PICOACME_ERR_PARSE on a
 * malformed message. */
picoacme_err_t picoacme_dns_update_answer(const uint8_t *msg, size_t len, uint16_t id,
                                          const picoacme_tsig_key_t *key, const uint8_t req_mac[32],
                                          const picoacme_crypto_t *crypto, uint8_t *rcode);

/* Does the answer to a TXT query for name (matching id) hold a TXT record
 * for name whose character-strings joined equal txt? *rcode gets the RCODE. */
picoacme_err_t picoacme_dns_txt_has(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                                    const char *txt, bool *found, uint8_t *rcode);

/* The zone of an answer to an SOA query: the owner name of the SOA record
 * in the answer or authority section, as dotted text without trailing dot
 * (NUL-terminated). PICOACME_ERR_NOT_FOUND when there is none. */
picoacme_err_t picoacme_dns_soa_zone(const uint8_t *msg, size_t len, uint16_t id, char *zone,
                                     size_t cap);

#endif
