/*
 * hw_sign.c - scripts/bench/hwkeys.sh: the wall time of one ECDSA P-256
 * signature through a crypto port (what the engine calls for every JWS):
 *
 *   hw_sign soft N
 *   hw_sign pkcs11 MODULE TOKEN N      (PIN in $PICOACME_PKCS11_PIN)
 *   hw_sign tpm2 TCTI N
 *
 * Generates a certificate-slot key, signs N digests, prints the mean in
 * microseconds, and removes the key from the token or TPM again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "picoacme_pkcs11.h"
#include "picoacme_tpm2.h"
#include "picoacme_wolfssl.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int sign_n(const picoacme_crypto_t *c, long n)
{
    uint8_t digest[32];
    uint8_t sig[64];
    double t0;
    long i;
    if (c->key_generate(c->user, PICOACME_KEY_CERT) != PICOACME_OK) {
        fprintf(stderr, "hw_sign: key generation failed\n");
        return 1;
    }
    memset(digest, 0x5a, sizeof digest);
    t0 = now_us();
    for (i = 0; i < n; i++) {
        digest[0] = (uint8_t)i;
        if (c->key_sign(c->user, PICOACME_KEY_CERT, digest, sig) != PICOACME_OK) {
            fprintf(stderr, "hw_sign: signature %ld failed\n", i);
            return 1;
        }
    }
    printf("%.0f\n", (now_us() - t0) / (double)n);
    return 0;
}

int main(int argc, char **argv)
{
    static picoacme_wolfssl_crypto_t wc;
    static picoacme_pkcs11_t p11;
    static picoacme_tpm2_t tpm;
    picoacme_crypto_t sw, hw;
    int rc = 2;
    if (argc < 3 || picoacme_wolfssl_crypto_init(&wc, NULL, &sw) != PICOACME_OK) {
        fprintf(stderr, "usage: hw_sign soft N | pkcs11 MODULE TOKEN N | tpm2 TCTI N\n");
        return 2;
    }
    if (strcmp(argv[1], "soft") == 0) {
        rc = sign_n(&sw, atol(argv[2]));
    } else if (strcmp(argv[1], "pkcs11") == 0 && argc == 5) {
        const char *pin = getenv("PICOACME_PKCS11_PIN");
        if (picoacme_pkcs11_open(&p11, argv[2], argv[3], pin != NULL ? pin : "", "picoacme-bench",
                                 &sw, &hw) != PICOACME_OK) {
            fprintf(stderr, "hw_sign: %s\n", p11.why);
            return 1;
        }
        rc = sign_n(&hw, atol(argv[4]));
        picoacme_pkcs11_forget(&p11, PICOACME_KEY_CERT);
        (void)picoacme_pkcs11_prune(&p11, NULL, 0, NULL);
        picoacme_pkcs11_close(&p11);
    } else if (strcmp(argv[1], "tpm2") == 0 && argc == 4) {
        if (picoacme_tpm2_open(&tpm, argv[2], &sw, &hw) != PICOACME_OK) {
            fprintf(stderr, "hw_sign: %s\n", tpm.why);
            return 1;
        }
        rc = sign_n(&hw, atol(argv[3]));
        picoacme_tpm2_forget(&tpm, PICOACME_KEY_CERT);
        (void)picoacme_tpm2_prune(&tpm, NULL, 0, NULL);
        picoacme_tpm2_close(&tpm);
    }
    picoacme_wolfssl_crypto_free(&wc);
    return rc;
}
