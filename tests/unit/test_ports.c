/*
 * test_ports.c - the wolfSSL port (crypto, TLS client) and the POSIX port
 * (sockets, clocks, entropy) against independent references: RFC 4231 and
 * FIPS 180-2 vectors, the openssl CLI (signature verification, keys made by
 * openssl, certificates and a real `openssl s_server` on 127.0.0.1).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "picoacme_posix.h"
#include "picoacme_wolfssl.h"

#define DIR PICOACME_TEST_TMPDIR "/ports"

/* ---- helpers ----------------------------------------------------------- */

static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = system(cmd);
    return (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    assert_non_null(f);
    n = fread(buf, 1, cap, f);
    assert_true(n < cap);
    fclose(f);
    return n;
}

static void hex2bin(const char *hex, uint8_t *out, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static uint16_t free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Wait until fd is ready for what e asks (WANT_READ/WANT_WRITE). */
static void wait_for(picoacme_sock_t fd, picoacme_err_t e)
{
    struct pollfd p = {.fd = fd, .events = (short)(e == PICOACME_WANT_READ ? POLLIN : POLLOUT)};
    (void)poll(&p, 1, 100);
}

/* ---- crypto ------------------------------------------------------------ */

typedef struct {
    picoacme_wolfssl_crypto_t wc;
    picoacme_crypto_t c;
} crypto_fx_t;

static int crypto_setup(void **state)
{
    static crypto_fx_t fx;
    if (picoacme_wolfssl_crypto_init(&fx.wc, NULL, &fx.c) != PICOACME_OK) {
        return -1;
    }
    *state = &fx;
    return 0;
}

static int crypto_teardown(void **state)
{
    crypto_fx_t *fx = *state;
    picoacme_wolfssl_crypto_free(&fx->wc);
    return 0;
}

static void test_sha256_vectors(void **state)
{
    crypto_fx_t *fx = *state;
    uint8_t out[32], exp[32], one[32];
    static uint8_t big[200000];
    picoacme_iov_t iov[3] = {
        {(const uint8_t *)"a", 1}, {(const uint8_t *)"", 0}, {(const uint8_t *)"bc", 2}};
    picoacme_iov_t bigiov[4];
    size_t i;

    /* FIPS 180-2 "abc", split */
    hex2bin("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", exp, 32);
    assert_int_equal(fx->c.sha256(fx->c.user, iov, 3, out), PICOACME_OK);
    assert_memory_equal(out, exp, 32);
    /* empty input */
    hex2bin("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", exp, 32);
    assert_int_equal(fx->c.sha256(fx->c.user, NULL, 0, out), PICOACME_OK);
    assert_memory_equal(out, exp, 32);

    /* split at odd points equals one shot, and equals openssl dgst */
    for (i = 0; i < sizeof big; i++) {
        big[i] = (uint8_t)(i * 7U + (i >> 9));
    }
    bigiov[0] = (picoacme_iov_t){big, 63};
    bigiov[1] = (picoacme_iov_t){big + 63, 1};
    bigiov[2] = (picoacme_iov_t){big + 64, 100001};
    bigiov[3] = (picoacme_iov_t){big + 100065, sizeof big - 100065};
    assert_int_equal(fx->c.sha256(fx->c.user, bigiov, 4, out), PICOACME_OK);
    bigiov[0] = (picoacme_iov_t){big, sizeof big};
    assert_int_equal(fx->c.sha256(fx->c.user, bigiov, 1, one), PICOACME_OK);
    assert_memory_equal(out, one, 32);
    write_file(DIR "/big.bin", big, sizeof big);
    assert_int_equal(run("openssl dgst -sha256 -binary -out %s/big.sha %s/big.bin", DIR, DIR), 0);
    assert_int_equal(read_file(DIR "/big.sha", exp, sizeof exp + 1), 32);
    assert_memory_equal(out, exp, 32);

    /* hostile: NULL pointer with a length */
    iov[1] = (picoacme_iov_t){NULL, 5};
    assert_int_equal(fx->c.sha256(fx->c.user, iov, 3, out), PICOACME_ERR_PARAM);
}

static void test_hmac_rfc4231(void **state)
{
    crypto_fx_t *fx = *state;
    uint8_t out[32], exp[32], key[131];
    /* RFC 4231 §4.3 test case 2, data split in three */
    picoacme_iov_t iov[3] = {{(const uint8_t *)"what do ya", 10},
                             {(const uint8_t *)" want ", 6},
                             {(const uint8_t *)"for nothing?", 12}};
    picoacme_iov_t iov6 = {(const uint8_t *)"Test Using Larger Than Block-Size Key - "
                                            "Hash Key First",
                           54};

    hex2bin("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", exp, 32);
    assert_int_equal(fx->c.hmac_sha256(fx->c.user, (const uint8_t *)"Jefe", 4, iov, 3, out),
                     PICOACME_OK);
    assert_memory_equal(out, exp, 32);

    /* RFC 4231 §4.7 test case 6: key longer than the block */
    memset(key, 0xaa, sizeof key);
    hex2bin("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", exp, 32);
    assert_int_equal(fx->c.hmac_sha256(fx->c.user, key, sizeof key, &iov6, 1, out), PICOACME_OK);
    assert_memory_equal(out, exp, 32);

    assert_int_equal(fx->c.hmac_sha256(fx->c.user, NULL, 4, iov, 3, out), PICOACME_ERR_PARAM);
}

static void test_random(void **state)
{
    crypto_fx_t *fx = *state;
    static uint8_t a[70000], b[70000]; /* more than one DRBG block */
    static const uint8_t zero[64];

    assert_int_equal(fx->c.random(fx->c.user, a, sizeof a), PICOACME_OK);
    assert_int_equal(fx->c.random(fx->c.user, b, sizeof b), PICOACME_OK);
    assert_memory_not_equal(a, b, 64);
    assert_memory_not_equal(a + sizeof a - 64, zero, 64);
    assert_int_equal(fx->c.random(fx->c.user, NULL, 1), PICOACME_ERR_PARAM);
}

/* DER ECDSA-Sig-Value from r||s (RFC 3279 §2.2.3). */
static size_t sig_to_der(const uint8_t sig[64], uint8_t *der)
{
    size_t n = 2, k;
    for (k = 0; k < 2; k++) {
        const uint8_t *v = sig + 32 * k;
        size_t len = 32;
        while (len > 1 && v[0] == 0) {
            v++;
            len--;
        }
        der[n++] = 0x02;
        der[n++] = (uint8_t)(len + (v[0] & 0x80 ? 1 : 0));
        if (v[0] & 0x80) {
            der[n++] = 0;
        }
        memcpy(der + n, v, len);
        n += len;
    }
    der[0] = 0x30;
    der[1] = (uint8_t)(n - 2);
    return n;
}

/* SubjectPublicKeyInfo for a P-256 point (RFC 5480). */
static size_t pub_to_spki(const uint8_t pub[64], uint8_t *der)
{
    static const uint8_t prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
    memcpy(der, prefix, sizeof prefix);
    memcpy(der + sizeof prefix, pub, 64);
    return sizeof prefix + 64;
}

static int openssl_verify(const uint8_t pub[64], const uint8_t sig[64], const uint8_t *msg,
                          size_t msg_len)
{
    uint8_t der[128];
    size_t n = pub_to_spki(pub, der);

    write_file(DIR "/pub.der", der, n);
    n = sig_to_der(sig, der);
    write_file(DIR "/sig.der", der, n);
    write_file(DIR "/msg.bin", msg, msg_len);
    if (run("openssl pkey -pubin -inform DER -in %s/pub.der -out %s/pub.pem", DIR, DIR) != 0) {
        return -1;
    }
    return run("openssl dgst -sha256 -verify %s/pub.pem -signature %s/sig.der %s/msg.bin "
               ">/dev/null 2>&1",
               DIR, DIR, DIR);
}

static void test_sign_verify_openssl(void **state)
{
    crypto_fx_t *fx = *state;
    const char *msg = "picoacme signs this";
    picoacme_iov_t iov = {(const uint8_t *)msg, strlen(msg)};
    uint8_t digest[32], pub[64], sig[64], sig2[64];

    assert_int_equal(fx->c.key_generate(fx->c.user, PICOACME_KEY_ACCOUNT), PICOACME_OK);
    assert_int_equal(fx->c.key_public(fx->c.user, PICOACME_KEY_ACCOUNT, pub), PICOACME_OK);
    assert_int_equal(fx->c.sha256(fx->c.user, &iov, 1, digest), PICOACME_OK);
    assert_int_equal(fx->c.key_sign(fx->c.user, PICOACME_KEY_ACCOUNT, digest, sig), PICOACME_OK);
    assert_int_equal(openssl_verify(pub, sig, (const uint8_t *)msg, strlen(msg)), 0);
    /* the check can fail: a changed message or signature is rejected */
    assert_int_not_equal(
        openssl_verify(pub, sig, (const uint8_t *)"picoacme signs that", strlen(msg)), 0);
    memcpy(sig2, sig, 64);
    sig2[40] ^= 1;
    assert_int_not_equal(openssl_verify(pub, sig2, (const uint8_t *)msg, strlen(msg)), 0);
    /* ECDSA is randomised: a second signature differs and verifies too */
    assert_int_equal(fx->c.key_sign(fx->c.user, PICOACME_KEY_ACCOUNT, digest, sig2), PICOACME_OK);
    assert_memory_not_equal(sig, sig2, 64);
    assert_int_equal(openssl_verify(pub, sig2, (const uint8_t *)msg, strlen(msg)), 0);
}

/* Many signatures, so r or s with leading zero bytes (~1/128 each) show up;
 * each is verified by wolfCrypt from the fixed-width r||s. */
static void test_sign_padding(void **state)
{
    crypto_fx_t *fx = *state;
    uint8_t digest[32], sig[64], der[80];
    word32 der_len;
    int i, ok, short_seen = 0;
    ecc_key *k = &fx->wc.key[PICOACME_KEY_CERT];

    assert_int_equal(fx->c.key_generate(fx->c.user, PICOACME_KEY_CERT), PICOACME_OK);
    for (i = 0; i < 1500; i++) {
        memset(digest, i & 0xff, sizeof digest);
        digest[0] = (uint8_t)(i >> 8);
        assert_int_equal(fx->c.key_sign(fx->c.user, PICOACME_KEY_CERT, digest, sig), PICOACME_OK);
        if (sig[0] == 0 || sig[32] == 0) {
            short_seen++;
        }
        der_len = sizeof der;
        assert_int_equal(wc_ecc_rs_raw_to_sig(sig, 32, sig + 32, 32, der, &der_len), 0);
        ok = 0;
        assert_int_equal(wc_ecc_verify_hash(der, der_len, digest, 32, &ok, k), 0);
        assert_int_equal(ok, 1);
    }
    print_message("signatures with a short r or s: %d of 1500\n", short_seen);
}

static void test_import_openssl_key(void **state)
{
    crypto_fx_t *fx = *state;
    uint8_t der[200], pub[64], sig[64], digest[32];
    size_t n;
    const char *msg = "signed with an imported key";
    picoacme_iov_t iov = {(const uint8_t *)msg, strlen(msg)};
    static const uint8_t head[] = {0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20};

    assert_int_equal(run("openssl ecparam -name prime256v1 -genkey -noout -outform DER "
                         "-out %s/ossl.der",
                         DIR),
                     0);
    n = read_file(DIR "/ossl.der", der, sizeof der);
    /* RFC 5915 ECPrivateKey, named curve: fixed offsets for P-256 */
    assert_int_equal(n, 121);
    assert_memory_equal(der, head, sizeof head);
    assert_int_equal(der[51], 0xa1);
    assert_int_equal(der[52], 0x44);
    assert_int_equal(der[55], 0x00);
    assert_int_equal(der[56], 0x04);

    assert_int_equal(fx->c.key_import(fx->c.user, PICOACME_KEY_CERT, der + 7), PICOACME_OK);
    assert_int_equal(fx->c.key_public(fx->c.user, PICOACME_KEY_CERT, pub), PICOACME_OK);
    assert_memory_equal(pub, der + 57, 64);

    assert_int_equal(fx->c.sha256(fx->c.user, &iov, 1, digest), PICOACME_OK);
    assert_int_equal(fx->c.key_sign(fx->c.user, PICOACME_KEY_CERT, digest, sig), PICOACME_OK);
    assert_int_equal(openssl_verify(der + 57, sig, (const uint8_t *)msg, strlen(msg)), 0);
}

static void test_export_import_roundtrip(void **state)
{
    crypto_fx_t *fx = *state;
    uint8_t priv[32], priv2[32], pub[64], pub2[64];

    assert_int_equal(fx->c.key_generate(fx->c.user, PICOACME_KEY_ACCOUNT), PICOACME_OK);
    assert_int_equal(fx->c.key_public(fx->c.user, PICOACME_KEY_ACCOUNT, pub), PICOACME_OK);
    assert_int_equal(fx->c.key_export(fx->c.user, PICOACME_KEY_ACCOUNT, priv), PICOACME_OK);
    assert_int_equal(fx->c.key_import(fx->c.user, PICOACME_KEY_CERT, priv), PICOACME_OK);
    assert_int_equal(fx->c.key_public(fx->c.user, PICOACME_KEY_CERT, pub2), PICOACME_OK);
    assert_memory_equal(pub, pub2, 64);
    assert_int_equal(fx->c.key_export(fx->c.user, PICOACME_KEY_CERT, priv2), PICOACME_OK);
    assert_memory_equal(priv, priv2, 32);
    /* a new key replaces the old one */
    assert_int_equal(fx->c.key_generate(fx->c.user, PICOACME_KEY_CERT), PICOACME_OK);
    assert_int_equal(fx->c.key_public(fx->c.user, PICOACME_KEY_CERT, pub2), PICOACME_OK);
    assert_memory_not_equal(pub, pub2, 64);
}

static void test_key_hostile(void **state)
{
    crypto_fx_t *fx = *state;
    uint8_t priv[32], pub[64], sig[64], digest[32] = {1};

    /* 0, the group order n and 2^256-1 are not valid P-256 scalars */
    memset(priv, 0, sizeof priv);
    assert_int_equal(fx->c.key_import(fx->c.user, PICOACME_KEY_CERT, priv), PICOACME_ERR_CRYPTO);
    hex2bin("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", priv, 32);
    assert_int_equal(fx->c.key_import(fx->c.user, PICOACME_KEY_CERT, priv), PICOACME_ERR_CRYPTO);
    memset(priv, 0xff, sizeof priv);
    assert_int_equal(fx->c.key_import(fx->c.user, PICOACME_KEY_CERT, priv), PICOACME_ERR_CRYPTO);
    /* a failed import leaves the slot empty */
    assert_int_equal(fx->c.key_public(fx->c.user, PICOACME_KEY_CERT, pub), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(fx->c.key_sign(fx->c.user, PICOACME_KEY_CERT, digest, sig),
                     PICOACME_ERR_NOT_FOUND);
    assert_int_equal(fx->c.key_export(fx->c.user, PICOACME_KEY_CERT, priv), PICOACME_ERR_NOT_FOUND);
    /* scalar 1: the public key is the generator G */
    memset(priv, 0, sizeof priv);
    priv[31] = 1;
    assert_int_equal(fx->c.key_import(fx->c.user, PICOACME_KEY_CERT, priv), PICOACME_OK);
    assert_int_equal(fx->c.key_public(fx->c.user, PICOACME_KEY_CERT, pub), PICOACME_OK);
    {
        uint8_t g[64];
        hex2bin("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
                g, 64);
        assert_memory_equal(pub, g, 64);
    }
    assert_int_equal(fx->c.key_generate(fx->c.user, PICOACME_KEY_SLOTS), PICOACME_ERR_PARAM);
    assert_int_equal(fx->c.key_public(fx->c.user, (picoacme_key_slot_t)-1, pub),
                     PICOACME_ERR_PARAM);
}

static void test_crypto_free_wipes(void **state)
{
    picoacme_wolfssl_crypto_t wc;
    picoacme_crypto_t c;
    static const uint8_t zero[sizeof(picoacme_wolfssl_crypto_t)];
    (void)state;

    assert_int_equal(picoacme_wolfssl_crypto_init(&wc, NULL, &c), PICOACME_OK);
    assert_int_equal(c.key_generate(c.user, PICOACME_KEY_ACCOUNT), PICOACME_OK);
    picoacme_wolfssl_crypto_free(&wc);
    assert_memory_equal(&wc, zero, sizeof wc);
}

/* The optional entries of a software port are NULL whatever the caller's
 * struct held: the core takes a non-NULL key_ref for keys in hardware. */
static void test_crypto_optional_null(void **state)
{
    picoacme_wolfssl_crypto_t wc;
    picoacme_crypto_t c;
    (void)state;

    memset(&c, 0xA5, sizeof c);
    assert_int_equal(picoacme_wolfssl_crypto_init(&wc, NULL, &c), PICOACME_OK);
    assert_null(c.key_ref);
    assert_null(c.key_ref_load);
    picoacme_wolfssl_crypto_free(&wc);
}

/* ---- POSIX clock and entropy ------------------------------------------ */

static void test_clock(void **state)
{
    picoacme_clock_t clk;
    uint32_t t0, t1;
    int64_t w;
    (void)state;

    picoacme_posix_clock(&clk);
    w = clk.wall_s(clk.user);
    assert_true(w > (int64_t)time(NULL) - 2 && w <= (int64_t)time(NULL));
    t0 = clk.mono_ms(clk.user);
    usleep(30000);
    t1 = clk.mono_ms(clk.user);
    assert_true((uint32_t)(t1 - t0) >= 29U && (uint32_t)(t1 - t0) < 2000U);
}

static void test_entropy(void **state)
{
    uint8_t a[64], b[64];
    static const uint8_t zero[64];
    (void)state;

    assert_int_equal(picoacme_posix_entropy(a, sizeof a), PICOACME_OK);
    assert_int_equal(picoacme_posix_entropy(b, sizeof b), PICOACME_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(picoacme_posix_entropy(NULL, 0), PICOACME_OK);
    assert_int_equal(picoacme_posix_entropy(NULL, 4), PICOACME_ERR_PARAM);
}

/* ---- POSIX transport --------------------------------------------------- */

/* A plain loopback listener made by the test (127.0.0.1 only). */
static int listen_loopback4(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Send all of buf through tp, pumping WANT_* with poll; bounded. */
static picoacme_err_t tp_send_all(const picoacme_transport_t *tp, picoacme_sock_t s,
                                  const uint8_t *buf, size_t len)
{
    uint32_t t0 = now_ms();
    size_t off = 0;

    while (off < len) {
        size_t n = 0;
        picoacme_err_t e = tp->send(tp->user, s, buf + off, len - off, &n);
        if (e == PICOACME_OK) {
            assert_true(n >= 1 && n <= len - off);
            off += n;
        } else if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
            if (now_ms() - t0 > 5000U) {
                return PICOACME_ERR_TIMEOUT;
            }
            wait_for(s, e);
        } else {
            return e;
        }
    }
    return PICOACME_OK;
}

static void connect_via(const picoacme_transport_t *tp, const char *host, uint16_t port, int lfd)
{
    picoacme_sock_t s;
    uint8_t buf[16];
    size_t n = 0;
    int peer = -1;
    uint32_t t0 = now_ms();
    picoacme_err_t e;

    /* a name answers AGAIN until it is resolved */
    while ((e = tp->connect(tp->user, host, port, &s)) == PICOACME_AGAIN && now_ms() - t0 < 5000U) {
        usleep(1000);
    }
    assert_int_equal(e, PICOACME_OK);
    assert_true(s >= 0);
    assert_int_equal(tp_send_all(tp, s, (const uint8_t *)"hello", 5), PICOACME_OK);
    while (peer < 0 && now_ms() - t0 < 5000U) {
        peer = accept(lfd, NULL, NULL);
        if (peer < 0) {
            usleep(5000);
        }
    }
    assert_true(peer >= 0);
    /* nothing to read yet */
    assert_int_equal(tp->recv(tp->user, s, buf, sizeof buf, &n), PICOACME_WANT_READ);
    assert_int_equal(write(peer, "world", 5), 5);
    do {
        e = tp->recv(tp->user, s, buf, sizeof buf, &n);
        if (e == PICOACME_WANT_READ) {
            wait_for(s, e);
        }
    } while (e == PICOACME_WANT_READ && now_ms() - t0 < 5000U);
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "world", 5);
    {
        char got[5];
        ssize_t r = read(peer, got, sizeof got);
        if (r < 0 && errno == EAGAIN) {
            usleep(10000);
            r = read(peer, got, sizeof got);
        }
        assert_int_equal(r, 5);
        assert_memory_equal(got, "hello", 5);
    }
    close(peer); /* orderly close -> CLOSED */
    do {
        e = tp->recv(tp->user, s, buf, sizeof buf, &n);
        if (e == PICOACME_WANT_READ) {
            wait_for(s, e);
        }
    } while (e == PICOACME_WANT_READ && now_ms() - t0 < 5000U);
    assert_int_equal(e, PICOACME_ERR_CLOSED);
    tp->close(tp->user, s);
}

static void test_tcp_connect(void **state)
{
    picoacme_transport_t tp;
    uint16_t port;
    int lfd;
    (void)state;

    picoacme_posix_transport(&tp);
    lfd = listen_loopback4(&port);
    connect_via(&tp, "127.0.0.1", port, lfd);
    /* "localhost" may resolve to ::1 first: the transport falls back to
     * 127.0.0.1 on the same handle */
    connect_via(&tp, "localhost", port, lfd);
    close(lfd);
}

/* Runs in a child under nss_wrapper, where dual.picoacme.test resolves to
 * ::1 and 127.0.0.1: only the address getaddrinfo returns second listens,
 * so the connect must fall over from the first (refused) to it. */
static void test_tcp_fallback_child(void **state)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    picoacme_transport_t tp;
    int lfd, one = 1;
    uint16_t port;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    (void)state;

    assert_int_equal(getaddrinfo("dual.picoacme.test", "1", &hints, &res), 0);
    assert_non_null(res->ai_next);
    assert_int_not_equal(res->ai_family, res->ai_next->ai_family);
    print_message("first address family %s\n", res->ai_family == AF_INET6 ? "IPv6" : "IPv4");
    lfd = socket(res->ai_next->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(lfd >= 0);
    (void)setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    memcpy(&ss, res->ai_next->ai_addr, res->ai_next->ai_addrlen);
    ((struct sockaddr_in *)&ss)->sin_port = 0; /* same offset in sockaddr_in6 */
    assert_int_equal(bind(lfd, (struct sockaddr *)&ss, res->ai_next->ai_addrlen), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(res);
    picoacme_posix_transport(&tp);
    connect_via(&tp, "dual.picoacme.test", port, lfd);
    close(lfd);
}

static void test_tcp_fallback(void **state)
{
    static const char wrapper[] = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so";
    char self[512];
    ssize_t n;
    (void)state;

    if (access(wrapper, R_OK) != 0) {
        print_message("libnss-wrapper not installed: address fallback not tested\n");
        skip();
    }
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    write_file(DIR "/hosts",
               (const uint8_t *)"::1 dual.picoacme.test\n"
                                "127.0.0.1 dual.picoacme.test\n",
               52);
    assert_int_equal(run("LD_PRELOAD=%s NSS_WRAPPER_HOSTS=%s/hosts "
                         "ASAN_OPTIONS=verify_asan_link_order=0 PICOACME_PORTS_CHILD=1 %s",
                         wrapper, DIR, self),
                     0);
}

static void test_tcp_refused(void **state)
{
    picoacme_transport_t tp;
    picoacme_sock_t s;
    uint16_t port = free_port(); /* nobody listens there */
    picoacme_err_t e;
    uint8_t b[4];
    size_t n;
    (void)state;

    picoacme_posix_transport(&tp);
    e = tp.connect(tp.user, "127.0.0.1", port, &s);
    if (e == PICOACME_OK) {
        e = tp_send_all(&tp, s, (const uint8_t *)"x", 1);
        assert_int_equal(e, PICOACME_ERR_IO);
        tp.close(tp.user, s);
    } else {
        assert_int_equal(e, PICOACME_ERR_IO);
    }
    assert_int_equal(tp.connect(tp.user, "", 80, &s), PICOACME_ERR_PARAM);
    assert_int_equal(tp.connect(tp.user, "127.0.0.1", 0, &s), PICOACME_ERR_PARAM);
    assert_int_equal(tp.connect(tp.user, "no such host.invalid", 80, &s), PICOACME_ERR_IO);
    assert_int_equal(tp.recv(tp.user, PICOACME_SOCK_NONE, b, sizeof b, &n), PICOACME_ERR_PARAM);
}

static void test_tcp_listen_accept(void **state)
{
    picoacme_transport_t tp;
    picoacme_sock_t ls, s, c;
    uint16_t port = free_port();
    uint8_t buf[8];
    size_t n;
    uint32_t t0 = now_ms();
    picoacme_err_t e;
    (void)state;

    picoacme_posix_transport(&tp);
    assert_int_equal(tp.listen(tp.user, port, &ls), PICOACME_OK);
    assert_int_equal(tp.accept(tp.user, ls, &s), PICOACME_WANT_READ);
    assert_int_equal(tp.connect(tp.user, "127.0.0.1", port, &c), PICOACME_OK);
    do {
        e = tp.accept(tp.user, ls, &s);
        if (e == PICOACME_WANT_READ) {
            wait_for(ls, e);
        }
    } while (e == PICOACME_WANT_READ && now_ms() - t0 < 5000U);
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(tp_send_all(&tp, c, (const uint8_t *)"GET", 3), PICOACME_OK);
    do {
        e = tp.recv(tp.user, s, buf, sizeof buf, &n);
        if (e == PICOACME_WANT_READ) {
            wait_for(s, e);
        }
    } while (e == PICOACME_WANT_READ && now_ms() - t0 < 5000U);
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "GET", 3);
    /* the accepted socket is non-blocking */
    assert_int_equal(tp.recv(tp.user, s, buf, sizeof buf, &n), PICOACME_WANT_READ);
    tp.close(tp.user, s);
    tp.close(tp.user, c);
    /* the dual-stack listener takes IPv6 loopback too, where available */
    {
        int probe = socket(AF_INET6, SOCK_STREAM, 0);
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        int v6 = probe >= 0 && bind(probe, (struct sockaddr *)&a6, sizeof a6) == 0;
        if (probe >= 0) {
            close(probe);
        }
        if (v6) {
            assert_int_equal(tp.connect(tp.user, "::1", port, &c), PICOACME_OK);
            t0 = now_ms();
            do {
                e = tp.accept(tp.user, ls, &s);
                if (e == PICOACME_WANT_READ) {
                    wait_for(ls, e);
                }
            } while (e == PICOACME_WANT_READ && now_ms() - t0 < 5000U);
            assert_int_equal(e, PICOACME_OK);
            tp.close(tp.user, s);
            tp.close(tp.user, c);
        }
    }
    tp.close(tp.user, ls);
}

/* ---- TLS against openssl s_server -------------------------------------- */

static pid_t g_server = -1, g_server12 = -1;
static uint16_t g_tls_port, g_tls12_port;

/* Start `openssl s_server -www` on 127.0.0.1:port (extra: one more flag or
 * NULL) and wait until it listens. Returns its pid or -1. */
static pid_t start_server(uint16_t port, const char *extra)
{
    uint32_t t0;
    pid_t pid = fork();

    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        char acc[32];
        char logp[256];
        int log;
        snprintf(acc, sizeof acc, "127.0.0.1:%u", (unsigned)port);
        snprintf(logp, sizeof logp, DIR "/s_server_%u.log", (unsigned)port);
        log = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log >= 0) {
            dup2(log, 1);
            dup2(log, 2);
        }
        execlp("openssl", "openssl", "s_server", "-accept", acc, "-cert", DIR "/srv.pem", "-key",
               DIR "/srv.key", "-www", "-naccept", "100", extra, (char *)NULL);
        _exit(127);
    }
    t0 = now_ms();
    for (;;) {
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok) {
            return pid;
        }
        if (now_ms() - t0 > 10000U || waitpid(pid, NULL, WNOHANG) == pid) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
            return -1;
        }
        usleep(20000);
    }
}

static void stop_server(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
        *pid = -1;
    }
}

static int tls_group_setup(void **state)
{
    (void)state;

    /* two unrelated P-256 roots; a server certificate for localhost and
     * 127.0.0.1 issued by root A */
    if (run("cd %s && "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            "-keyout rootA.key -out rootA.pem -subj /CN=picoacme-test-root-A -days 2 "
            "-addext basicConstraints=critical,CA:TRUE "
            "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null && "
            "openssl x509 -in rootA.pem -outform DER -out rootA.der && "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            "-keyout rootB.key -out rootB.pem -subj /CN=picoacme-test-root-B -days 2 "
            "-addext basicConstraints=critical,CA:TRUE 2>/dev/null && "
            "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            "-keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null && "
            "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n"
            "extendedKeyUsage=serverAuth\\nbasicConstraints=CA:FALSE\\n' > srv.ext && "
            "openssl x509 -req -in srv.csr -CA rootA.pem -CAkey rootA.key -CAcreateserial "
            "-days 2 -sha256 -extfile srv.ext -out srv.pem 2>/dev/null",
            DIR) != 0) {
        return -1;
    }
    g_tls_port = free_port();
    g_server = start_server(g_tls_port, NULL);
    g_tls12_port = free_port();
    g_server12 = start_server(g_tls12_port, "-tls1_2");
    return (g_server > 0 && g_server12 > 0) ? 0 : -1;
}

static int tls_group_teardown(void **state)
{
    (void)state;
    stop_server(&g_server);
    stop_server(&g_server12);
    return 0;
}

typedef struct {
    picoacme_transport_t tp;
    picoacme_wolfssl_tls_t wt;
    picoacme_tls_t tls;
    picoacme_sock_t sock;
} tls_fx_t;

/* Connect TCP to 127.0.0.1 and open TLS checking `host`. */
static picoacme_err_t tls_start_port(tls_fx_t *fx, uint16_t port, const char *root_path,
                                     picoacme_wolfssl_fmt_t fmt, const char *host)
{
    static uint8_t roots[8192];
    size_t n = read_file(root_path, roots, sizeof roots);
    picoacme_err_t e;

    picoacme_posix_transport(&fx->tp);
    e = picoacme_wolfssl_tls_init(&fx->wt, &fx->tp, NULL, roots, n, fmt, &fx->tls);
    if (e != PICOACME_OK) {
        return e;
    }
    assert_int_equal(fx->tp.connect(fx->tp.user, "127.0.0.1", port, &fx->sock), PICOACME_OK);
    return fx->tls.open(fx->tls.user, fx->sock, host);
}

static picoacme_err_t tls_start(tls_fx_t *fx, const char *root_path, picoacme_wolfssl_fmt_t fmt,
                                const char *host)
{
    return tls_start_port(fx, g_tls_port, root_path, fmt, host);
}

static void tls_stop(tls_fx_t *fx)
{
    fx->tls.close(fx->tls.user);
    fx->tp.close(fx->tp.user, fx->sock);
    picoacme_wolfssl_tls_free(&fx->wt);
}

/* Send a GET and read the whole answer until the server closes; returns
 * the first error other than CLOSED. Bounded to 10 s. */
static picoacme_err_t tls_get(tls_fx_t *fx, char *resp, size_t cap, size_t *resp_len)
{
    static const char req[] = "GET / HTTP/1.0\r\n\r\n";
    uint32_t t0 = now_ms();
    size_t off = 0;
    picoacme_err_t e;

    *resp_len = 0;
    while (off < sizeof req - 1) {
        size_t n = 0;
        e = fx->tls.send(fx->tls.user, (const uint8_t *)req + off, sizeof req - 1 - off, &n);
        if (e == PICOACME_OK) {
            off += n;
        } else if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
            if (now_ms() - t0 > 10000U) {
                return PICOACME_ERR_TIMEOUT;
            }
            wait_for(fx->sock, e);
        } else {
            return e;
        }
    }
    for (;;) {
        size_t n = 0;
        e = fx->tls.recv(fx->tls.user, (uint8_t *)resp + *resp_len, cap - 1 - *resp_len, &n);
        if (e == PICOACME_OK) {
            *resp_len += n;
            if (*resp_len == cap - 1) {
                break;
            }
        } else if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
            if (now_ms() - t0 > 10000U) {
                return PICOACME_ERR_TIMEOUT;
            }
            wait_for(fx->sock, e);
        } else if (e == PICOACME_ERR_CLOSED) {
            break;
        } else {
            return e;
        }
    }
    resp[*resp_len] = '\0';
    return PICOACME_OK;
}

static void tls_expect_ok_port(uint16_t port, const char *version, const char *root,
                               picoacme_wolfssl_fmt_t fmt, const char *host)
{
    static tls_fx_t fx;
    static char resp[65536];
    size_t len;

    assert_int_equal(tls_start_port(&fx, port, root, fmt, host), PICOACME_OK);
    assert_int_equal(fx.wt.handshakes, 0);
    assert_int_equal(tls_get(&fx, resp, sizeof resp, &len), PICOACME_OK);
    assert_true(len > 20);
    assert_memory_equal(resp, "HTTP/1.0 200 ok", 15);
    /* s_server -www echoes the negotiated protocol */
    assert_non_null(strstr(resp, version));
    assert_int_equal(fx.wt.handshakes, 1);
    tls_stop(&fx);
}

static void tls_expect_ok(const char *root, picoacme_wolfssl_fmt_t fmt, const char *host)
{
    tls_expect_ok_port(g_tls_port, "Protocol  : TLSv1.3", root, fmt, host);
}

static void test_tls12(void **state)
{
    (void)state;
    tls_expect_ok_port(g_tls12_port, "Protocol  : TLSv1.2", DIR "/rootA.pem", PICOACME_WOLFSSL_PEM,
                       "localhost");
    tls_expect_ok_port(g_tls12_port, "Protocol  : TLSv1.2", DIR "/rootA.pem", PICOACME_WOLFSSL_PEM,
                       "127.0.0.1");
}

static void test_tls_get_ip(void **state)
{
    (void)state;
    tls_expect_ok(DIR "/rootA.pem", PICOACME_WOLFSSL_PEM, "127.0.0.1");
}

static void test_tls_get_name_der_root(void **state)
{
    (void)state;
    tls_expect_ok(DIR "/rootA.der", PICOACME_WOLFSSL_DER, "localhost");
    tls_expect_ok(DIR "/rootA.pem", PICOACME_WOLFSSL_PEM, "localhost");
}

static void tls_expect_fail(const char *root, const char *host, picoacme_err_t want,
                            const char *reason_part)
{
    static tls_fx_t fx;
    static char resp[4096];
    size_t len;
    const char *reason;

    assert_int_equal(tls_start(&fx, root, PICOACME_WOLFSSL_PEM, host), PICOACME_OK);
    assert_int_equal(tls_get(&fx, resp, sizeof resp, &len), want);
    assert_int_equal(len, 0);
    assert_int_equal(fx.wt.handshakes, 0);
    reason = picoacme_wolfssl_tls_reason(&fx.wt);
    print_message("%s as %s: %s\n", root + strlen(DIR) + 1, host, reason);
    assert_non_null(strstr(reason, reason_part));
    tls_stop(&fx);
}

static void test_tls_wrong_root(void **state)
{
    (void)state;
    tls_expect_fail(DIR "/rootB.pem", "localhost", PICOACME_ERR_TLS_VERIFY, "CA root");
    tls_expect_fail(DIR "/rootB.pem", "127.0.0.1", PICOACME_ERR_TLS_VERIFY, "CA root");
}

static void test_tls_wrong_name(void **state)
{
    (void)state;
    /* TCP still goes to 127.0.0.1; only the name checked differs */
    tls_expect_fail(DIR "/rootA.pem", "acme.example", PICOACME_ERR_TLS_VERIFY, "host name");
    tls_expect_fail(DIR "/rootA.pem", "localhost.localdomain", PICOACME_ERR_TLS_VERIFY,
                    "host name");
    tls_expect_fail(DIR "/rootA.pem", "127.0.0.2", PICOACME_ERR_TLS_VERIFY, "IP address");
    tls_expect_fail(DIR "/rootA.pem", "::1", PICOACME_ERR_TLS_VERIFY, "IP address");
}

static void test_tls_bad_input(void **state)
{
    picoacme_transport_t tp;
    picoacme_wolfssl_tls_t wt;
    picoacme_tls_t tls;
    static const uint8_t junk[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                                  "-----END CERTIFICATE-----\n";
    uint8_t buf[4];
    size_t n;
    (void)state;

    picoacme_posix_transport(&tp);
    assert_int_equal(picoacme_wolfssl_tls_init(&wt, &tp, NULL, junk, sizeof junk - 1,
                                               PICOACME_WOLFSSL_PEM, &tls),
                     PICOACME_ERR_PARSE);
    assert_int_equal(
        picoacme_wolfssl_tls_init(&wt, &tp, NULL, junk, 10, PICOACME_WOLFSSL_DER, &tls),
        PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_wolfssl_tls_init(&wt, &tp, NULL, NULL, 0, PICOACME_WOLFSSL_PEM, &tls),
                     PICOACME_ERR_PARAM);
    /* a session that was never opened */
    {
        static uint8_t roots[8192];
        size_t len = read_file(DIR "/rootA.pem", roots, sizeof roots);
        assert_int_equal(
            picoacme_wolfssl_tls_init(&wt, &tp, NULL, roots, len, PICOACME_WOLFSSL_PEM, &tls),
            PICOACME_OK);
        assert_int_equal(tls.recv(tls.user, buf, sizeof buf, &n), PICOACME_ERR_STATE);
        assert_int_equal(tls.open(tls.user, 3, ""), PICOACME_ERR_PARAM);
        picoacme_wolfssl_tls_free(&wt);
    }
}

/* TLS over a TCP connect that is refused surfaces the transport's ERR_IO. */
static void test_tls_refused(void **state)
{
    static tls_fx_t fx;
    static uint8_t roots[8192];
    size_t n = read_file(DIR "/rootA.pem", roots, sizeof roots);
    char resp[64];
    size_t len;
    picoacme_err_t e;
    (void)state;

    picoacme_posix_transport(&fx.tp);
    assert_int_equal(
        picoacme_wolfssl_tls_init(&fx.wt, &fx.tp, NULL, roots, n, PICOACME_WOLFSSL_PEM, &fx.tls),
        PICOACME_OK);
    e = fx.tp.connect(fx.tp.user, "127.0.0.1", free_port(), &fx.sock);
    if (e != PICOACME_OK) {
        assert_int_equal(e, PICOACME_ERR_IO);
        picoacme_wolfssl_tls_free(&fx.wt);
        return;
    }
    assert_int_equal(fx.tls.open(fx.tls.user, fx.sock, "localhost"), PICOACME_OK);
    assert_int_equal(tls_get(&fx, resp, sizeof resp, &len), PICOACME_ERR_IO);
    print_message("refused: %s\n", picoacme_wolfssl_tls_reason(&fx.wt));
    tls_stop(&fx);
}

int main(void)
{
    const struct CMUnitTest crypto_tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_sign_verify_openssl),
        cmocka_unit_test(test_sign_padding),
        cmocka_unit_test(test_import_openssl_key),
        cmocka_unit_test(test_export_import_roundtrip),
        cmocka_unit_test(test_key_hostile),
        cmocka_unit_test(test_crypto_free_wipes),
        cmocka_unit_test(test_crypto_optional_null),
    };
    const struct CMUnitTest posix_tests[] = {
        cmocka_unit_test(test_clock),       cmocka_unit_test(test_entropy),
        cmocka_unit_test(test_tcp_connect), cmocka_unit_test(test_tcp_fallback),
        cmocka_unit_test(test_tcp_refused), cmocka_unit_test(test_tcp_listen_accept),
    };
    const struct CMUnitTest tls_tests[] = {
        cmocka_unit_test(test_tls_get_ip),     cmocka_unit_test(test_tls_get_name_der_root),
        cmocka_unit_test(test_tls12),          cmocka_unit_test(test_tls_wrong_root),
        cmocka_unit_test(test_tls_wrong_name), cmocka_unit_test(test_tls_bad_input),
        cmocka_unit_test(test_tls_refused),
    };
    const struct CMUnitTest child_tests[] = {
        cmocka_unit_test(test_tcp_fallback_child),
    };
    int fails = 0;

    if (getenv("PICOACME_PORTS_CHILD") != NULL) {
        return cmocka_run_group_tests_name("nss child", child_tests, NULL, NULL);
    }
    mkdir(DIR, 0755);
    fails += cmocka_run_group_tests_name("crypto", crypto_tests, crypto_setup, crypto_teardown);
    fails += cmocka_run_group_tests_name("posix", posix_tests, NULL, NULL);
    fails += cmocka_run_group_tests_name("tls", tls_tests, tls_group_setup, tls_group_teardown);
    return fails;
}
