/*
 * fuzz_dns.c - libFuzzer target for the DNS answer parsers of
 * core/src/dns_answer.c and tsig.c: picoacme_dns_update_answer(_at),
 * picoacme_dns_txt_has and picoacme_dns_soa_zone over the input as a DNS
 * message (its own ID is taken as the expected one, so the parsers get past
 * the header).
 *
 * The HMAC is a fake in this file (the fuzz build links only the core): it
 * reads every byte of every iov entry (so ASan sees a gather list that
 * points outside the message) and answers a MAC of 31 zero bytes after a
 * checksum byte, a value the fuzzer can reach. Aborts on a broken
 * invariant:
 *   - found is true only with PICOACME_OK;
 *   - a zone returned is NUL-terminated inside its buffer, the same with a
 *     small and a large buffer when it fits the small one, and is a name
 *     picoacme_dns_query accepts back;
 *   - verification is deterministic;
 *   - the time check only ever adds a refusal (PROTOCOL, NOTAUTH).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_dns.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static picoacme_err_t fake_hmac(void *user, const uint8_t *key, size_t key_len,
                                const picoacme_iov_t *iov, size_t iovcnt, uint8_t out[32])
{
    uint8_t sum = 0;
    size_t i, j;

    (void)user;
    for (j = 0; j < key_len; j++) {
        sum = (uint8_t)(sum + key[j]);
    }
    for (i = 0; i < iovcnt; i++) {
        for (j = 0; j < iov[i].len; j++) {
            sum = (uint8_t)(sum + iov[i].ptr[j]);
        }
    }
    memset(out, 0, 32);
    out[0] = sum;
    return PICOACME_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t secret[32] = {3, 10, 17, 24};
    static const uint8_t req_mac[32] = {0};
    picoacme_crypto_t crypto;
    picoacme_tsig_key_t key = {"acme-key", secret, sizeof secret};
    uint16_t id = size >= 2U ? (uint16_t)((data[0] << 8) | data[1]) : 0U;
    uint8_t rc1 = 0, rc2 = 0, *msg;
    picoacme_err_t e1, e2;
    bool found = true;
    char small[24], large[300];
    uint8_t q[300];
    size_t qlen = 0;

    /* A copy of exactly size bytes, so any over-read is caught. */
    msg = (uint8_t *)malloc(size == 0U ? 1U : size);
    if (msg == NULL) {
        return 0;
    }
    if (size != 0U) {
        memcpy(msg, data, size);
    }
    memset(&crypto, 0, sizeof crypto);
    crypto.hmac_sha256 = fake_hmac;

    e1 = picoacme_dns_update_answer(msg, size, id, &key, req_mac, &crypto, &rc1);
    e2 = picoacme_dns_update_answer(msg, size, id, &key, req_mac, &crypto, &rc2);
    CHECK(e1 == e2 && rc1 == rc2);
    CHECK(rc1 <= 15U);
    e2 = picoacme_dns_update_answer_at(msg, size, id, &key, req_mac, &crypto, 0x0001234567ABLL,
                                       &rc2);
    CHECK(e2 == e1 ||
          (e1 == PICOACME_OK && e2 == PICOACME_ERR_PROTOCOL && rc2 == PICOACME_DNS_RCODE_NOTAUTH));
    CHECK(e2 != e1 || rc2 == rc1);

    e1 = picoacme_dns_txt_has(msg, size, id, "_acme-challenge.host.example.internal",
                              "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", &found, &rc1);
    CHECK(e1 == PICOACME_OK || !found);
    e1 = picoacme_dns_txt_has(msg, size, id, "a", "", &found, &rc1);
    CHECK(e1 == PICOACME_OK || !found);

    memset(large, 'x', sizeof large);
    memset(small, 'x', sizeof small);
    e1 = picoacme_dns_soa_zone(msg, size, id, large, sizeof large);
    e2 = picoacme_dns_soa_zone(msg, size, id, small, sizeof small);
    if (e1 == PICOACME_OK) {
        size_t n = strnlen(large, sizeof large);
        CHECK(n < sizeof large);
        CHECK(picoacme_dns_query(q, sizeof q, &qlen, 1, large, 6) == PICOACME_OK);
        if (n < sizeof small) {
            CHECK(e2 == PICOACME_OK && strcmp(small, large) == 0);
        } else {
            CHECK(e2 == PICOACME_ERR_NOSPACE);
        }
    } else {
        CHECK(e2 == e1);
    }
    free(msg);
    return 0;
}
