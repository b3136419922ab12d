/*
 * test_jws.c - flattened JWS, ES256 / HS256 and the JWK thumbprint
 * (core/src/jws.c) with the real wolfSSL crypto port.
 *
 * Independent sources: the P-256 key of RFC 7515 Appendix A.3 (its d must
 * give its x/y through the crypto port), the HS256 example of RFC 7515
 * Appendix A.1 (exact signature), the openssl CLI for the thumbprint
 * (SHA-256 of the canonical JWK, RFC 7638 §3), for ES256 signature
 * verification and for HMAC-SHA256.
 */
#define _POSIX_C_SOURCE 200809L /* popen */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_jws.h"
#include "picoacme_wolfssl.h"

#define TMPF(name) PICOACME_TEST_TMPDIR "/jws_" name

/* RFC 7515 Appendix A.3 */
static const char A3_D[] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
static const char A3_X[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char A3_Y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

static picoacme_wolfssl_crypto_t g_wc;
static picoacme_crypto_t g_crypto;

/* ---- independent helpers ------------------------------------------------ */

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* base64url without padding, written here (not the core's). */
static size_t b64u_dec(const char *in, size_t n, uint8_t *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(in[i]);
        assert_true(v >= 0);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

static size_t b64u_enc(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = a[(acc >> bits) & 63U];
        }
    }
    if (bits > 0) {
        out[o++] = a[(acc << (6 - bits)) & 63U];
    }
    out[o] = '\0';
    return o;
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Run cmd, return its stdout (trailing newline removed). */
static void run_capture(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    size_t n;
    assert_non_null(p);
    n = fread(out, 1, cap - 1U, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
        out[--n] = '\0';
    }
}

/* base64url(SHA-256(text)) by openssl + basenc, padding stripped. */
static void openssl_b64u_sha256(const char *text, char *out, size_t cap)
{
    char cmd[512];
    write_file(TMPF("tp.txt"), text, strlen(text));
    snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -binary %s | basenc --base64url | tr -d '=\\n'",
             TMPF("tp.txt"));
    run_capture(cmd, out, cap);
}

/* DER of an ECDSA signature from raw r||s (RFC 3279 Ecdsa-Sig-Value). */
static size_t sig_der(const uint8_t rs[64], uint8_t *out)
{
    uint8_t ints[2][35];
    size_t il[2];
    size_t o = 0;
    for (int k = 0; k < 2; k++) {
        const uint8_t *v = rs + 32 * k;
        size_t s = 0;
        while (s < 31 && v[s] == 0)
            s++;
        il[k] = 0;
        ints[k][il[k]++] = 0x02;
        ints[k][il[k]++] = (uint8_t)(32 - s + ((v[s] & 0x80) ? 1 : 0));
        if (v[s] & 0x80)
            ints[k][il[k]++] = 0;
        memcpy(ints[k] + il[k], v + s, 32 - s);
        il[k] += 32 - s;
    }
    out[o++] = 0x30;
    out[o++] = (uint8_t)(il[0] + il[1]);
    memcpy(out + o, ints[0], il[0]);
    o += il[0];
    memcpy(out + o, ints[1], il[1]);
    return o + il[1];
}

/* openssl verifies ES256 signature sig (raw r||s) of input with pub X||Y. */
static int openssl_es256_verify(const uint8_t pub[64], const char *input, size_t input_len,
                                const uint8_t sig[64])
{
    /* SubjectPublicKeyInfo for id-ecPublicKey / prime256v1, RFC 5480 */
    static const uint8_t spki[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
    uint8_t der[128];
    uint8_t sd[80];
    size_t sl = sig_der(sig, sd);
    char cmd[768];
    memcpy(der, spki, sizeof spki);
    memcpy(der + sizeof spki, pub, 64);
    write_file(TMPF("pub.der"), der, sizeof spki + 64U);
    write_file(TMPF("sig.der"), sd, sl);
    write_file(TMPF("input.txt"), input, input_len);
    snprintf(cmd, sizeof cmd,
             "openssl pkey -pubin -inform DER -in %s -out %s 2>/dev/null && "
             "openssl dgst -sha256 -verify %s -signature %s %s >/dev/null 2>&1",
             TMPF("pub.der"), TMPF("pub.pem"), TMPF("pub.pem"), TMPF("sig.der"), TMPF("input.txt"));
    return system(cmd);
}

static void import_a3(void)
{
    uint8_t d[32];
    assert_int_equal(b64u_dec(A3_D, strlen(A3_D), d), 32);
    assert_int_equal(g_crypto.key_import(g_crypto.user, PICOACME_KEY_ACCOUNT, d), PICOACME_OK);
}

static int setup(void **state)
{
    (void)state;
    return picoacme_wolfssl_crypto_init(&g_wc, NULL, &g_crypto) == PICOACME_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    picoacme_wolfssl_crypto_free(&g_wc);
    return 0;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_jwk_known_key(void **state)
{
    uint8_t pub[64];
    uint8_t x[32];
    uint8_t y[32];
    char out[160];
    size_t n = 0;
    static const char expect[] = "{\"crv\":\"P-256\",\"kty\":\"EC\","
                                 "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                                 "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
    (void)state;
    import_a3();
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_ACCOUNT, pub), PICOACME_OK);
    /* the RFC's d gives the RFC's x, y through the port */
    assert_int_equal(b64u_dec(A3_X, strlen(A3_X), x), 32);
    assert_int_equal(b64u_dec(A3_Y, strlen(A3_Y), y), 32);
    assert_memory_equal(pub, x, 32);
    assert_memory_equal(pub + 32, y, 32);

    memset(out, 0x5A, sizeof out);
    assert_int_equal(picoacme_jwk_write(pub, out, sizeof out, &n), PICOACME_OK);
    assert_int_equal(n, sizeof expect - 1U);
    assert_memory_equal(out, expect, n);
    assert_int_equal((unsigned char)out[n], 0x5A); /* no NUL written */

    /* every shorter buffer: NOSPACE and nothing written past cap */
    for (size_t cap = 0; cap < sizeof expect - 1U; cap++) {
        char small[160];
        size_t m = 777;
        memset(small, 0x5A, sizeof small);
        assert_int_equal(picoacme_jwk_write(pub, small, cap, &m), PICOACME_ERR_NOSPACE);
        assert_int_equal(m, 777);
        for (size_t k = cap; k < sizeof small; k++) {
            assert_int_equal((unsigned char)small[k], 0x5A);
        }
    }
    assert_int_equal(picoacme_jwk_write(NULL, out, sizeof out, &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_jwk_write(pub, NULL, sizeof out, &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_jwk_write(pub, out, sizeof out, NULL), PICOACME_ERR_PARAM);
}

static void test_thumbprint_openssl(void **state)
{
    char tp[PICOACME_THUMBPRINT_LEN + 1U];
    char ref[128];
    char jwk[160];
    char xs[48];
    char ys[48];
    uint8_t pub[64];
    (void)state;
    /* known key: the canonical JSON is written out literally here */
    import_a3();
    memset(tp, 'Z', sizeof tp);
    assert_int_equal(picoacme_jwk_thumbprint(&g_crypto, PICOACME_KEY_ACCOUNT, tp), PICOACME_OK);
    assert_int_equal(tp[PICOACME_THUMBPRINT_LEN], '\0');
    openssl_b64u_sha256("{\"crv\":\"P-256\",\"kty\":\"EC\","
                        "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                        "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
                        ref, sizeof ref);
    assert_int_equal(strlen(ref), PICOACME_THUMBPRINT_LEN);
    assert_string_equal(tp, ref);

    /* fresh keys: JWK text built by this test's own encoder */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g_crypto.key_generate(g_crypto.user, PICOACME_KEY_CERT), PICOACME_OK);
        assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_CERT, pub), PICOACME_OK);
        b64u_enc(pub, 32, xs);
        b64u_enc(pub + 32, 32, ys);
        snprintf(jwk, sizeof jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                 xs, ys);
        openssl_b64u_sha256(jwk, ref, sizeof ref);
        assert_int_equal(picoacme_jwk_thumbprint(&g_crypto, PICOACME_KEY_CERT, tp), PICOACME_OK);
        assert_string_equal(tp, ref);
    }
}

/* Check the flattened JWS layout exactly; return the signature bytes. */
static void check_layout(const char *out, size_t n, const char *prot, const char *payload,
                         uint8_t *sig, size_t sig_len, char *input, size_t *input_len)
{
    char pb[512];
    char yb[512];
    char expect_head[1200];
    size_t pl = b64u_enc((const uint8_t *)prot, strlen(prot), pb);
    size_t yl = b64u_enc((const uint8_t *)payload, strlen(payload), yb);
    int hl = snprintf(expect_head, sizeof expect_head,
                      "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"", pb, yb);
    size_t sl = (sig_len * 4U + 2U) / 3U;
    assert_int_equal(n, (size_t)hl + sl + 2U);
    assert_memory_equal(out, expect_head, (size_t)hl);
    assert_memory_equal(out + n - 2U, "\"}", 2);
    assert_int_equal(b64u_dec(out + hl, sl, sig), sig_len);
    /* signing input: BASE64URL(protected) '.' BASE64URL(payload), RFC 7515 §5.1 */
    memcpy(input, pb, pl);
    input[pl] = '.';
    memcpy(input + pl + 1U, yb, yl);
    *input_len = pl + 1U + yl;
}

static void test_es256_openssl(void **state)
{
    static const char *const prot[] = {
        "{\"alg\":\"ES256\",\"kid\":\"https://ca.test/acct/1\",\"nonce\":\"abc\",\"url\":\"https://"
        "ca.test/order\"}",
        "{\"alg\":\"ES256\",\"nonce\":\"n\",\"url\":\"https://ca.test/authz/1\"}"};
    static const char *const pay[] = {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}]}",
                                      "" /* POST-as-GET */};
    uint8_t pub[64];
    (void)state;
    import_a3();
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_ACCOUNT, pub), PICOACME_OK);
    for (int i = 0; i < 2; i++) {
        char out[1024];
        char input[1024];
        size_t il = 0;
        size_t n = 0;
        uint8_t sig[64];
        assert_int_equal(picoacme_jws_es256(&g_crypto, PICOACME_KEY_ACCOUNT, prot[i],
                                            strlen(prot[i]), pay[i], strlen(pay[i]), out,
                                            sizeof out, &n),
                         PICOACME_OK);
        check_layout(out, n, prot[i], pay[i], sig, 64, input, &il);
        assert_int_equal(openssl_es256_verify(pub, input, il, sig), 0);
        /* the check can fail: a changed input or signature does not verify */
        input[il - 1U] ^= 1;
        assert_int_not_equal(openssl_es256_verify(pub, input, il, sig), 0);
        input[il - 1U] ^= 1;
        sig[10] ^= 0x40;
        assert_int_not_equal(openssl_es256_verify(pub, input, il, sig), 0);

        /* NOSPACE at every shorter capacity, nothing written past cap */
        for (size_t cap = 0; cap < n; cap += (cap < 40U || cap + 90U > n) ? 1U : 7U) {
            char small[1024];
            size_t m = 999;
            memset(small, 0x5A, sizeof small);
            assert_int_equal(picoacme_jws_es256(&g_crypto, PICOACME_KEY_ACCOUNT, prot[i],
                                                strlen(prot[i]), pay[i], strlen(pay[i]), small, cap,
                                                &m),
                             PICOACME_ERR_NOSPACE);
            for (size_t k = cap; k < sizeof small; k++) {
                assert_int_equal((unsigned char)small[k], 0x5A);
            }
        }
    }
    /* NULL payload with length 0 is POST-as-GET; with a length it is an error */
    {
        char out[512];
        size_t n = 0;
        assert_int_equal(picoacme_jws_es256(&g_crypto, PICOACME_KEY_ACCOUNT, "{}", 2U, NULL, 0U,
                                            out, sizeof out, &n),
                         PICOACME_OK);
        assert_memory_equal(out, "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"", 44);
        assert_int_equal(picoacme_jws_es256(&g_crypto, PICOACME_KEY_ACCOUNT, "{}", 2U, NULL, 3U,
                                            out, sizeof out, &n),
                         PICOACME_ERR_PARAM);
        assert_int_equal(
            picoacme_jws_es256(NULL, PICOACME_KEY_ACCOUNT, "{}", 2U, "", 0U, out, sizeof out, &n),
            PICOACME_ERR_PARAM);
    }
}

static void test_hs256_rfc7515_a1(void **state)
{
    /* RFC 7515 Appendix A.1, exact bytes (CR LF and spaces included) */
    static const char prot[] = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    static const char pay[] = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n "
                              "\"http://example.com/is_root\":true}";
    static const char k_b64[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0"
                                "iPS4hcgUuTwjAzZr1Z9CAow";
    static const char expect[] =
        "{\"protected\":\"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\","
        "\"payload\":\"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9p"
        "c19yb290Ijp0cnVlfQ\",\"signature\":\"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\"}";
    uint8_t key[64];
    char out[512];
    size_t n = 0;
    (void)state;
    assert_int_equal(b64u_dec(k_b64, strlen(k_b64), key), 64);
    assert_int_equal(picoacme_jws_hs256(&g_crypto, key, 64, prot, strlen(prot), pay, strlen(pay),
                                        out, sizeof out, &n),
                     PICOACME_OK);
    assert_int_equal(n, strlen(expect));
    assert_memory_equal(out, expect, n);
    for (size_t cap = 0; cap < n; cap++) {
        char small[512];
        size_t m = 0;
        memset(small, 0x5A, sizeof small);
        assert_int_equal(picoacme_jws_hs256(&g_crypto, key, 64, prot, strlen(prot), pay,
                                            strlen(pay), small, cap, &m),
                         PICOACME_ERR_NOSPACE);
        for (size_t k = cap; k < sizeof small; k++) {
            assert_int_equal((unsigned char)small[k], 0x5A);
        }
    }
    assert_int_equal(picoacme_jws_hs256(&g_crypto, NULL, 0, prot, strlen(prot), pay, strlen(pay),
                                        out, sizeof out, &n),
                     PICOACME_ERR_PARAM);
}

static void test_hs256_openssl(void **state)
{
    /* an EAB-shaped request (RFC 8555 §7.3.4) with a 32-byte MAC key */
    static const char prot[] =
        "{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"https://ca.test/acct\"}";
    static const char pay[] = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"AAAA\",\"y\":\"BBBB\"}";
    uint8_t key[32];
    char hex[65];
    char out[512];
    char input[512];
    char ref[128];
    char cmd[768];
    uint8_t mac[32];
    size_t il = 0;
    size_t n = 0;
    (void)state;
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(0xC3 ^ (i * 37));
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    }
    assert_int_equal(picoacme_jws_hs256(&g_crypto, key, sizeof key, prot, strlen(prot), pay,
                                        strlen(pay), out, sizeof out, &n),
                     PICOACME_OK);
    check_layout(out, n, prot, pay, mac, 32, input, &il);
    write_file(TMPF("hin.txt"), input, il);
    snprintf(cmd, sizeof cmd,
             "openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -binary %s | basenc --base64url | "
             "tr -d '=\\n'",
             hex, TMPF("hin.txt"));
    run_capture(cmd, ref, sizeof ref);
    assert_int_equal(strlen(ref), 43);
    assert_memory_equal(out + n - 2U - 43U, ref, 43);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwk_known_key), cmocka_unit_test(test_thumbprint_openssl),
        cmocka_unit_test(test_es256_openssl), cmocka_unit_test(test_hs256_rfc7515_a1),
        cmocka_unit_test(test_hs256_openssl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
