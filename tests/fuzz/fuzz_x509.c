/*
 * fuzz_x509.c - libFuzzer target over the certificate reader of
 * core/src/x509.c: the input as DER (parse, then walk every SAN), as PEM text
 * (every block, each decoded block parsed again) and as IP address text
 * (core/src/ip.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_ari.h"
#include "picoacme_x509.h"

/* Walk the SANs of a parsed certificate; every value lies inside the SAN. */
static void walk_san(const picoacme_x509_t *c)
{
    size_t pos = 0;
    picoacme_id_type_t type;
    const uint8_t *val;
    size_t val_len;
    for (int guard = 0; guard < 4096; guard++) {
        size_t before = pos;
        picoacme_err_t e = picoacme_x509_san_next(c, &pos, &type, &val, &val_len);
        if (e != PICOACME_OK) {
            return;
        }
        if (pos <= before || val < c->san || val + val_len > c->san + c->san_len ||
            (type == PICOACME_ID_IP && val_len != 4U && val_len != 16U)) {
            __builtin_trap();
        }
    }
    __builtin_trap(); /* the SAN cannot hold that many names */
}

/* The ARI CertID (RFC 9773 §4.1) of a parsed certificate: found exactly
 * when it has an AKI and a serial, base64url "AKI.serial", the same in
 * every buffer it fits and NOSPACE in every one it does not. */
static void certid(const picoacme_x509_t *c)
{
    static char out[2048], small[2048];
    size_t n = 0, m = 0;
    picoacme_err_t e = picoacme_ari_certid(c, out, sizeof out, &n);
    if (c->aki == NULL || c->aki_len == 0U) {
        if (e != PICOACME_ERR_NOT_FOUND) {
            __builtin_trap();
        }
        return;
    }
    if (e != PICOACME_OK || n >= sizeof out || out[n] != '\0' || strchr(out, '.') == NULL ||
        picoacme_ari_certid(NULL, out, 1, &n) != PICOACME_ERR_PARAM) {
        __builtin_trap();
    }
    n = strlen(out);
    for (size_t cap = n > 8U ? n - 8U : 0U; cap <= n + 1U; cap++) {
        e = picoacme_ari_certid(c, small, cap, &m);
        if (cap > n ? (e != PICOACME_OK || m != n || memcmp(small, out, n + 1U) != 0)
                    : e != PICOACME_ERR_NOSPACE) {
            __builtin_trap();
        }
    }
}

static void parse_der(const uint8_t *der, size_t len)
{
    picoacme_x509_t c;
    if (picoacme_x509_parse(der, len, &c) != PICOACME_OK) {
        return;
    }
    if (c.serial == NULL || c.serial < der || c.serial + c.serial_len > der + len ||
        (c.aki != NULL && (c.aki < der || c.aki + c.aki_len > der + len)) ||
        (c.san != NULL && (c.san < der || c.san + c.san_len > der + len))) {
        __builtin_trap();
    }
    walk_san(&c);
    certid(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t der[4096];

    parse_der(data, size);

    /* PEM: at most as many blocks as the text could hold */
    const char *pem = (const char *)data;
    size_t pos = 0;
    for (int i = 0; i < 256; i++) {
        size_t der_len = 0;
        size_t before = pos;
        picoacme_err_t e = picoacme_pem_next(pem, size, &pos, der, sizeof der, &der_len);
        if (e != PICOACME_OK) {
            break;
        }
        if (pos <= before || pos > size || der_len == 0U || der_len > sizeof der) {
            __builtin_trap();
        }
        parse_der(der, der_len);
    }

    uint8_t ip[16];
    size_t ip_len = 0;
    if (picoacme_ip_parse(pem, size, ip, &ip_len) == PICOACME_OK && ip_len != 4U && ip_len != 16U) {
        __builtin_trap();
    }
    return 0;
}
