/*
 * fuzz_clienthello.c - libFuzzer target over picoacme_tls_clienthello_alpn()
 * of core/src/clienthello.c: the input is the first bytes of a TLS connection.
 * Checks beyond "no crash": a returned SNI is NUL-terminated inside its
 * buffer and made of printable ASCII; is_acme is only set with PICOACME_OK;
 * the answer for the whole input agrees with the answer given with a
 * buffer for the name and without one; every proper prefix of an accepted
 * hello asks for more bytes (PICOACME_AGAIN) or is refused, never accepted
 * with a different verdict.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_alpn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the NUL-terminated string in s[0..cap), or cap without a NUL. */
static size_t cstr_len(const char *s, size_t cap)
{
    const char *z = memchr(s, '\0', cap);
    return z == NULL ? cap : (size_t)(z - s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool acme = true;
    char sni[300];
    memset(sni, 'Z', sizeof sni);
    picoacme_err_t e = picoacme_tls_clienthello_alpn(data, size, &acme, sni, sizeof sni);
    if (e != PICOACME_OK && e != PICOACME_AGAIN && e != PICOACME_ERR_PARSE &&
        e != PICOACME_ERR_NOSPACE && e != PICOACME_ERR_PARAM) {
        __builtin_trap(); /* NOSPACE: a host name of 300 bytes or more */
    }
    if (e != PICOACME_OK && acme) {
        __builtin_trap();
    }
    size_t n = cstr_len(sni, sizeof sni);
    if (n == sizeof sni) {
        __builtin_trap();
    }
    for (size_t i = 0; i < n; i++) {
        if (sni[i] < 0x21 || sni[i] > 0x7E) {
            __builtin_trap();
        }
    }

    bool acme2 = !acme;
    picoacme_err_t e2 = picoacme_tls_clienthello_alpn(data, size, &acme2, NULL, 0);
    if (e == PICOACME_ERR_NOSPACE ? e2 != PICOACME_OK
                                  : (e2 != e || (e == PICOACME_OK && acme2 != acme))) {
        __builtin_trap();
    }

    /* a tiny name buffer: the name is never cut, NOSPACE instead */
    char tiny[4];
    bool acme3 = false;
    picoacme_err_t e3 = picoacme_tls_clienthello_alpn(data, size, &acme3, tiny, sizeof tiny);
    if (e3 == PICOACME_OK && (cstr_len(tiny, sizeof tiny) >= sizeof tiny ||
                              cstr_len(tiny, sizeof tiny) != n || memcmp(tiny, sni, n) != 0)) {
        __builtin_trap();
    }
    if (e3 != e && e3 != PICOACME_ERR_NOSPACE) {
        __builtin_trap();
    }

    if (e2 == PICOACME_OK && size > 0) {
        /* the record that was read is complete; any shorter prefix of it is
         * AGAIN (the prefix checks are the same) */
        size_t rec = 5U + (((size_t)data[3] << 8) | data[4]);
        for (size_t cut = rec > 64U ? rec - 64U : 0U; cut < rec; cut++) {
            bool a = false;
            if (picoacme_tls_clienthello_alpn(data, cut, &a, NULL, 0) != PICOACME_AGAIN) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
