/*
 * test_alpn.c - tls-alpn-01 (RFC 8737) and RFC 8738 reverse names:
 * core/src/alpn_cert.c, core/src/clienthello.c, the reverse names of
 * core/src/ip.c and the server half of ports/wolfssl/src/tls.c.
 *
 * - the challenge certificate, built with the real wolfSSL crypto port, is
 *   read back by `openssl x509` (critical 1.3.6.1.5.5.7.1.31 holding the
 *   digest, the SAN, the dates), its self-signature checked by
 *   `openssl verify`, and parsed by picoacme_x509_parse;
 * - reverse names against Python's ipaddress.reverse_pointer;
 * - real ClientHellos from `openssl s_client` captured on a loopback socket,
 *   every truncation and hostile edits (hand-made ones are in
 *   test_clienthello.c);
 * - the server end to end: s_client against server_open/server_step sees
 *   "ALPN protocol: acme-tls/1" and the certificate; a client offering only
 *   "h2", or no ALPN at all, is refused.
 * All traffic stays on 127.0.0.1.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "picoacme_posix.h"
#include "picoacme_wolfssl.h"
#include "picoacme_x509.h"

#define TMP PICOACME_TEST_TMPDIR "/alpn"

/* ---- helpers ----------------------------------------------------------- */

static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    }
    assert_int_equal(rc, 0);
}

/* Run a command and return its stdout (NUL-terminated) in out. */
static size_t capture(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t len = fread(out, 1, cap - 1, f);
    out[len] = '\0';
    int rc = pclose(f);
    if (rc != 0) {
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    }
    assert_int_equal(rc, 0);
    return len;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void must_contain(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL) {
        fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, hay);
    }
    assert_non_null(strstr(hay, needle));
}

static void must_not_contain(const char *hay, const char *needle)
{
    if (strstr(hay, needle) != NULL) {
        fprintf(stderr, "unexpected \"%s\" in:\n%s\n", needle, hay);
    }
    assert_null(strstr(hay, needle));
}

static picoacme_wolfssl_crypto_t g_wc;
static picoacme_crypto_t g_crypto;

static int setup(void **state)
{
    (void)state;
    /* client trust anchors the TLS port wants at init; unused here */
    if (system("mkdir -p " TMP " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
               "-nodes -keyout " TMP "/root.key -subj /CN=unused -days 2 -outform DER -out " TMP
               "/root.der 2>/dev/null") != 0) {
        return -1;
    }
    if (picoacme_wolfssl_crypto_init(&g_wc, NULL, &g_crypto) != PICOACME_OK) {
        return -1;
    }
    return g_crypto.key_generate(g_crypto.user, PICOACME_KEY_CHALLENGE) == PICOACME_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    picoacme_wolfssl_crypto_free(&g_wc);
    return 0;
}

/* The SHA-256 of a key authorization, computed by openssl. */
static void keyauth_digest(uint8_t out[32])
{
    char hex[128];
    capture(hex, sizeof hex,
            "printf '%%s' "
            "'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-"
            "EBXdN7cBkH1WOu0tA3M9fm21mqTI' | openssl dgst -sha256 -r | cut -c1-64");
    for (size_t i = 0; i < 32; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static size_t build_cert(picoacme_id_type_t type, const char *value, const uint8_t digest[32],
                         int64_t now_s, uint8_t *der, size_t cap)
{
    picoacme_ident_t id = {type, value};
    size_t n = 0;
    assert_int_equal(picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_CHALLENGE, &id, digest, now_s,
                                              der, cap, &n),
                     PICOACME_OK);
    assert_true(n > 200 && n < cap);
    return n;
}

/* Everything openssl and our parser can say about one challenge cert. */
static void check_cert(picoacme_id_type_t type, const char *value, const char *openssl_san,
                       int64_t now_s)
{
    uint8_t digest[32];
    uint8_t der[1024];
    char txt[16384];
    char hexd[65];
    keyauth_digest(digest);
    size_t n = build_cert(type, value, digest, now_s, der, sizeof der);
    spit(TMP "/c.der", der, n);
    sh("openssl x509 -inform DER -in " TMP "/c.der -out " TMP "/c.pem");

    /* RFC 8737 §3 layout, byte for byte: OID, critical TRUE, extnValue
     * OCTET STRING wrapping the DER OCTET STRING (SIZE (32)) */
    uint8_t ext[8 + 2 + 3 + 4 + 32] = {0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01,
                                       0x1F, 0x01, 0x01, 0xFF, 0x04, 0x22, 0x04, 0x20};
    memcpy(ext + 17, digest, 32);
    assert_non_null(memmem(der, n, ext, 17 + 32));

    capture(txt, sizeof txt, "openssl x509 -inform DER -in " TMP "/c.der -noout -text");
    must_contain(txt, "Version: 3 (0x2)");
    must_contain(txt, "Signature Algorithm: ecdsa-with-SHA256");
    must_contain(txt, "Issuer: CN = picoacme tls-alpn-01");
    must_contain(txt, "Subject: CN = picoacme tls-alpn-01");
    must_contain(txt, "ASN1 OID: prime256v1");
    must_contain(txt, "1.3.6.1.5.5.7.1.31: critical");
    must_contain(txt, "X509v3 Subject Alternative Name: \n");
    must_contain(txt, openssl_san);
    /* exactly one name in the SAN */
    char *san = strstr(txt, "Subject Alternative Name");
    assert_non_null(san);
    char *line = strchr(strchr(san, '\n') + 1, '\n');
    *line = '\0';
    assert_null(strchr(san, ','));
    *line = '\n';
    /* the digest, as openssl dumps the extension's contents */
    capture(txt, sizeof txt,
            "openssl x509 -inform DER -in " TMP "/c.der -noout -text -certopt ext_dump "
            "| grep -A3 '1.3.6.1.5.5.7.1.31: critical' | tail -3 "
            "| sed -e 's/^ *[0-9a-f]* - //' -e 's/   .*$//' | tr -d ' \\n-'");
    for (size_t i = 0; i < 32; i++) {
        sprintf(hexd + 2 * i, "%02x", digest[i]);
    }
    assert_int_equal(strlen(txt), 4 + 64);
    assert_memory_equal(txt, "0420", 4);
    assert_memory_equal(txt + 4, hexd, 64);

    /* self-signature: openssl 3.0 checks it with -check_ss_sig; the
     * acmeIdentifier is unknown to it, hence -ignore_critical */
    sh("openssl verify -ignore_critical -check_ss_sig -partial_chain -no_check_time "
       "-trusted " TMP "/c.pem " TMP "/c.pem >/dev/null");
    /* a flipped bit in the signature must fail the same check */
    der[n - 3] ^= 0x01;
    spit(TMP "/bad.der", der, n);
    der[n - 3] ^= 0x01;
    assert_int_not_equal(
        system("openssl x509 -inform DER -in " TMP "/bad.der -out " TMP "/bad.pem 2>/dev/null && "
               "openssl verify -ignore_critical -check_ss_sig -partial_chain -no_check_time "
               "-trusted " TMP "/c.pem " TMP "/bad.pem >/dev/null 2>&1"),
        0);

    /* our own reader */
    picoacme_x509_t c;
    assert_int_equal(picoacme_x509_parse(der, n, &c), PICOACME_OK);
    assert_true(c.ec_p256);
    uint8_t pub[64];
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_CHALLENGE, pub), PICOACME_OK);
    assert_memory_equal(c.pub, pub, 64);
    assert_int_equal(c.serial_len, 16);
    assert_true(c.serial[0] != 0 && (c.serial[0] & 0x80) == 0);
    if (now_s == PICOACME_TIME_UNKNOWN) {
        assert_int_equal(c.not_before_s, 1577836800);
        assert_int_equal(c.not_after_s, 1609459200);
    } else {
        assert_int_equal(c.not_before_s, now_s - 86400);
        assert_int_equal(c.not_after_s, now_s + 7 * 86400);
    }
    size_t pos = 0;
    picoacme_id_type_t t;
    const uint8_t *v;
    size_t vl;
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &vl), PICOACME_OK);
    assert_int_equal(t, type);
    if (type == PICOACME_ID_DNS) {
        assert_int_equal(vl, strlen(value));
        assert_memory_equal(v, value, vl);
    } else {
        uint8_t ip[16];
        size_t il;
        assert_int_equal(picoacme_ip_parse(value, strlen(value), ip, &il), PICOACME_OK);
        assert_int_equal(vl, il);
        assert_memory_equal(v, ip, il);
    }
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &vl), PICOACME_ERR_NOT_FOUND);
}

/* ---- challenge certificate --------------------------------------------- */

static void test_cert_dns(void **state)
{
    (void)state;
    check_cert(PICOACME_ID_DNS, "host.example", "DNS:host.example\n", (int64_t)time(NULL));
}

static void test_cert_ipv4(void **state)
{
    (void)state;
    check_cert(PICOACME_ID_IP, "127.0.0.1", "IP Address:127.0.0.1\n", (int64_t)time(NULL));
}

static void test_cert_ipv6(void **state)
{
    (void)state;
    check_cert(PICOACME_ID_IP, "::1", "IP Address:0:0:0:0:0:0:0:1\n", (int64_t)time(NULL));
}

static void test_cert_unknown_clock(void **state)
{
    (void)state;
    char txt[256];
    check_cert(PICOACME_ID_DNS, "a.example", "DNS:a.example\n", PICOACME_TIME_UNKNOWN);
    capture(txt, sizeof txt,
            "openssl x509 -inform DER -in " TMP "/c.der -noout -dates -dateopt iso_8601");
    must_contain(txt, "notBefore=2020-01-01 00:00:00Z");
    must_contain(txt, "notAfter=2021-01-01 00:00:00Z");
}

/* UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
static void test_cert_time_encodings(void **state)
{
    (void)state;
    char txt[256];
    const int64_t jan1_2050 = 2524608000;
    check_cert(PICOACME_ID_DNS, "a.example", "DNS:a.example\n", jan1_2050);
    capture(txt, sizeof txt,
            "openssl x509 -inform DER -in " TMP "/c.der -noout -dates -dateopt iso_8601");
    must_contain(txt, "notBefore=2049-12-31 00:00:00Z");
    must_contain(txt, "notAfter=2050-01-08 00:00:00Z");
    capture(txt, sizeof txt, "openssl asn1parse -inform DER -in " TMP "/c.der | grep TIME");
    must_contain(txt, "UTCTIME           :491231000000Z");
    must_contain(txt, "GENERALIZEDTIME   :20500108000000Z");
    /* now 2000-03-01 12:34:56: one day back is the leap day */
    check_cert(PICOACME_ID_DNS, "a.example", "DNS:a.example\n", 951914096);
    capture(txt, sizeof txt,
            "openssl x509 -inform DER -in " TMP "/c.der -noout -dates -dateopt iso_8601");
    must_contain(txt, "notBefore=2000-02-29 12:34:56Z");
    must_contain(txt, "notAfter=2000-03-08 12:34:56Z");
}

static void test_cert_hostile_params(void **state)
{
    (void)state;
    uint8_t digest[32] = {0};
    uint8_t der[1024];
    size_t n = 5;
    picoacme_ident_t wild = {PICOACME_ID_DNS, "*.example"};
    picoacme_ident_t bad_ip = {PICOACME_ID_IP, "127.0.0.256"};
    picoacme_ident_t bad_dns = {PICOACME_ID_DNS, "a b.example"};
    picoacme_ident_t empty = {PICOACME_ID_DNS, ""};
    picoacme_ident_t ok = {PICOACME_ID_DNS, "a.example"};
    const int64_t now = 1700000000;
    assert_int_equal(picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_CHALLENGE, &wild, digest, now,
                                              der, sizeof der, &n),
                     PICOACME_ERR_PARAM);
    assert_int_equal(n, 0);
    assert_int_equal(picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_CHALLENGE, &bad_ip, digest,
                                              now, der, sizeof der, &n),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_CHALLENGE, &bad_dns, digest,
                                              now, der, sizeof der, &n),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_CHALLENGE, &empty, digest,
                                              now, der, sizeof der, &n),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_CHALLENGE, &ok, digest, 5,
                                              der, sizeof der, &n),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_SLOTS, &ok, digest, now, der,
                                              sizeof der, &n),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_alpn_cert_build(NULL, PICOACME_KEY_CHALLENGE, &ok, digest, now, der,
                                              sizeof der, &n),
                     PICOACME_ERR_PARAM);
    /* a 253-character name fits; every smaller buffer is NOSPACE and no
     * byte beyond cap is touched */
    char longname[254];
    memset(longname, 'a', 253);
    for (size_t i = 63; i < 253; i += 64) {
        longname[i] = '.';
    }
    longname[253] = '\0';
    picoacme_ident_t lng = {PICOACME_ID_DNS, longname};
    size_t full = 0;
    assert_int_equal(picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_CHALLENGE, &lng, digest, now,
                                              der, sizeof der, &full),
                     PICOACME_OK);
    assert_true(full > 256);
    for (size_t cap = 0; cap + 8 < full; cap++) {
        uint8_t buf[1024];
        memset(buf, 0xA5, sizeof buf);
        picoacme_err_t e = picoacme_alpn_cert_build(&g_crypto, PICOACME_KEY_CHALLENGE, &lng, digest,
                                                    now, buf, cap, &n);
        assert_int_equal(e, PICOACME_ERR_NOSPACE);
        assert_int_equal(n, 0);
        for (size_t i = cap; i < sizeof buf; i++) {
            assert_int_equal(buf[i], 0xA5);
        }
    }
    /* a slot without a key */
    picoacme_wolfssl_crypto_t wc2;
    picoacme_crypto_t c2;
    assert_int_equal(picoacme_wolfssl_crypto_init(&wc2, NULL, &c2), PICOACME_OK);
    assert_int_equal(picoacme_alpn_cert_build(&c2, PICOACME_KEY_CHALLENGE, &ok, digest, now, der,
                                              sizeof der, &n),
                     PICOACME_ERR_NOT_FOUND);
    picoacme_wolfssl_crypto_free(&wc2);
}

/* ---- reverse names (RFC 8738 §6) --------------------------------------- */

static void rev_check(const char *ip)
{
    char want[128];
    char got[80];
    size_t n = 0;
    capture(want, sizeof want,
            "python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1])"
            ".reverse_pointer, end=\"\")' '%s'",
            ip);
    assert_int_equal(picoacme_reverse_name(ip, strlen(ip), got, sizeof got, &n), PICOACME_OK);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
    /* exactly n + 1 bytes are needed */
    char small[80];
    assert_int_equal(picoacme_reverse_name(ip, strlen(ip), small, n, &n), PICOACME_ERR_NOSPACE);
    assert_int_equal(picoacme_reverse_name(ip, strlen(ip), small, strlen(want) + 1, &n),
                     PICOACME_OK);
    assert_string_equal(small, want);
}

static void test_reverse_names(void **state)
{
    (void)state;
    char got[80];
    size_t n;
    assert_int_equal(picoacme_reverse_name("127.0.0.1", 9, got, sizeof got, &n), PICOACME_OK);
    assert_string_equal(got, "1.0.0.127.in-addr.arpa");
    assert_int_equal(picoacme_reverse_name("2001:db8::1", 11, got, sizeof got, &n), PICOACME_OK);
    assert_string_equal(got,
                        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    assert_int_equal(n, 72);
    rev_check("127.0.0.1");
    rev_check("192.0.2.10");
    rev_check("255.255.255.255");
    rev_check("0.0.0.0");
    rev_check("10.200.3.45");
    rev_check("::1");
    rev_check("2001:db8::1");
    rev_check("fe80::abcd:ef01:2345:6789");
    rev_check("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    rev_check("::ffff:192.0.2.1");
    /* the length is honoured: "127.0.0.1" read as "127.0.0." fails */
    assert_int_equal(picoacme_reverse_name("127.0.0.1", 8, got, sizeof got, &n),
                     PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_reverse_name("127.0.0.1", 7, got, sizeof got, &n),
                     PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_reverse_name("host.example", 12, got, sizeof got, &n),
                     PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_reverse_name("", 0, got, sizeof got, &n), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_reverse_name(NULL, 0, got, sizeof got, &n), PICOACME_ERR_PARAM);
}

/* ---- loopback sockets --------------------------------------------------- */

/* A listening TCP socket on 127.0.0.1 and an ephemeral port. */
static int listen_loopback(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void wait_fd(int fd, short events, int ms)
{
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, ms);
    assert_true(r == 1);
}

/* ---- ClientHello ---------------------------------------------------------- */

/* Run `openssl s_client <args>` against a loopback socket and keep the
 * first TLS record it sends. */
static size_t capture_hello(const char *args, uint8_t *buf, size_t cap)
{
    uint16_t port;
    int lfd = listen_loopback(&port);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "timeout 20 openssl s_client -connect 127.0.0.1:%u %s </dev/null >/dev/null 2>&1",
             port, args);
    FILE *child = popen(cmd, "r");
    assert_non_null(child);
    wait_fd(lfd, POLLIN, 10000);
    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    size_t n = 0;
    for (;;) {
        if (n >= 5 && n >= 5 + (((size_t)buf[3] << 8) | buf[4])) {
            break;
        }
        wait_fd(fd, POLLIN, 10000);
        ssize_t r = read(fd, buf + n, cap - n);
        assert_true(r > 0);
        n += (size_t)r;
        assert_true(n < cap);
    }
    close(fd);
    close(lfd);
    (void)pclose(child); /* s_client fails: nobody answered */
    return n;
}

static void hello_case(const char *name, const char *args, bool want_acme, const char *want_sni)
{
    uint8_t hello[17000];
    size_t n = capture_hello(args, hello, sizeof hello);
    char path[256];
    snprintf(path, sizeof path, TMP "/hello-%s.bin", name);
    spit(path, hello, n); /* seeds for tests/fuzz/corpus/fuzz_clienthello */

    bool acme = !want_acme;
    char sni[256];
    memset(sni, 'x', sizeof sni);
    assert_int_equal(picoacme_tls_clienthello_alpn(hello, n, &acme, sni, sizeof sni), PICOACME_OK);
    assert_int_equal(acme, want_acme);
    assert_string_equal(sni, want_sni);
    /* without a buffer for the name */
    acme = !want_acme;
    assert_int_equal(picoacme_tls_clienthello_alpn(hello, n, &acme, NULL, 0), PICOACME_OK);
    assert_int_equal(acme, want_acme);
    /* trailing bytes after the record (a second record) are not read */
    hello[n] = 0xFF;
    assert_int_equal(picoacme_tls_clienthello_alpn(hello, n + 1, &acme, NULL, 0), PICOACME_OK);

    /* every proper prefix asks for more */
    for (size_t i = 0; i < n; i++) {
        picoacme_err_t e = picoacme_tls_clienthello_alpn(hello, i, &acme, sni, sizeof sni);
        if (e != PICOACME_AGAIN) {
            fprintf(stderr, "%s: prefix %zu gave %d\n", name, i, (int)e);
        }
        assert_int_equal(e, PICOACME_AGAIN);
    }
    /* a shorter record length: the hello no longer fits, PARSE */
    for (size_t cut = 1; cut < n - 5; cut += 7) {
        uint8_t m[17000];
        memcpy(m, hello, n);
        size_t rl = n - 5 - cut;
        m[3] = (uint8_t)(rl >> 8);
        m[4] = (uint8_t)rl;
        assert_int_equal(picoacme_tls_clienthello_alpn(m, n - cut, &acme, sni, sizeof sni),
                         PICOACME_ERR_PARSE);
    }
    /* every single byte changed: a clean answer, never a crash (ASan in
     * the fuzz build); the NUL-terminated sni stays within its buffer */
    for (size_t i = 0; i < n; i++) {
        static const uint8_t vals[] = {0x00, 0x01, 0x7F, 0x80, 0xFF};
        for (size_t k = 0; k < sizeof vals; k++) {
            uint8_t m[17000];
            memcpy(m, hello, n);
            m[i] = vals[k];
            char s2[16];
            picoacme_err_t e = picoacme_tls_clienthello_alpn(m, n, &acme, s2, sizeof s2);
            assert_true(e == PICOACME_OK || e == PICOACME_AGAIN || e == PICOACME_ERR_PARSE ||
                        e == PICOACME_ERR_NOSPACE);
            assert_true(strlen(s2) < sizeof s2);
        }
    }
    /* the name does not fit: NOSPACE, never a cut name */
    if (want_sni[0] != '\0') {
        char tiny[4];
        assert_int_equal(picoacme_tls_clienthello_alpn(hello, n, &acme, tiny, strlen(want_sni)),
                         PICOACME_ERR_NOSPACE);
        assert_int_equal(picoacme_tls_clienthello_alpn(hello, n, &acme, sni, strlen(want_sni) + 1),
                         PICOACME_OK);
        assert_string_equal(sni, want_sni);
    }
}

static void test_hello_acme(void **state)
{
    (void)state;
    hello_case("acme13", "-alpn acme-tls/1 -servername x.example", true, "x.example");
    hello_case("acme12", "-tls1_2 -alpn acme-tls/1 -servername 1.0.0.127.in-addr.arpa", true,
               "1.0.0.127.in-addr.arpa");
    hello_case("acme-among", "-alpn h2,acme-tls/1,http/1.1 -servername x.example", true,
               "x.example");
}

static void test_hello_not_acme(void **state)
{
    (void)state;
    hello_case("noalpn", "-servername x.example", false, "x.example");
    hello_case("h2", "-alpn h2,http/1.1 -servername www.example", false, "www.example");
    hello_case("nosni", "-noservername -alpn acme-tls/2", false, "");
}

/* ---- the tls-alpn-01 responder, end to end ----------------------------- */

static void tls_init(picoacme_wolfssl_tls_t *wt, const picoacme_transport_t *tp,
                     picoacme_tls_t *tls)
{
    FILE *f = fopen(TMP "/root.der", "rb");
    assert_non_null(f);
    uint8_t root[2048];
    size_t n = fread(root, 1, sizeof root, f);
    fclose(f);
    assert_true(n > 100 && n < sizeof root);
    assert_int_equal(picoacme_wolfssl_tls_init(wt, tp, NULL, root, n, PICOACME_WOLFSSL_DER, tls),
                     PICOACME_OK);
}

/* Serve one handshake on 127.0.0.1 while `openssl s_client <args>` connects;
 * return server_step's final result and s_client's output in out. */
static picoacme_err_t serve_once(const char *args, char *out, size_t cap)
{
    uint8_t digest[32];
    uint8_t der[1024];
    uint8_t priv[32];
    keyauth_digest(digest);
    size_t n =
        build_cert(PICOACME_ID_DNS, "host.example", digest, (int64_t)time(NULL), der, sizeof der);
    assert_int_equal(g_crypto.key_export(g_crypto.user, PICOACME_KEY_CHALLENGE, priv), PICOACME_OK);

    picoacme_transport_t tp;
    picoacme_posix_transport(&tp);
    static picoacme_wolfssl_tls_t wt;
    picoacme_tls_t tls;
    tls_init(&wt, &tp, &tls);
    assert_non_null(tls.server_open);
    assert_non_null(tls.server_step);
    assert_non_null(tls.server_close);

    uint16_t port;
    int lfd = listen_loopback(&port);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "timeout 20 openssl s_client -connect 127.0.0.1:%u -showcerts %s </dev/null 2>&1",
             port, args);
    FILE *child = popen(cmd, "r");
    assert_non_null(child);

    wait_fd(lfd, POLLIN, 10000);
    picoacme_sock_t sock = PICOACME_SOCK_NONE;
    assert_int_equal(tp.accept(tp.user, lfd, &sock), PICOACME_OK);
    picoacme_err_t oe = tls.server_open(tls.user, sock, der, n, priv);
    if (oe != PICOACME_OK) {
        fprintf(stderr, "server_open: %s (%d)\n", picoacme_err_str(oe), wt.srv.last_wolfssl_err);
    }
    assert_int_equal(oe, PICOACME_OK);
    picoacme_err_t e;
    int rounds = 0;
    for (;;) {
        e = tls.server_step(tls.user);
        if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
            wait_fd((int)sock, e == PICOACME_WANT_READ ? POLLIN : POLLOUT, 10000);
            assert_true(++rounds < 1000);
            continue;
        }
        break;
    }
    if (e != PICOACME_OK) {
        fprintf(stderr, "server_step: %s (%s)\n", picoacme_err_str(e),
                wolfSSL_ERR_reason_error_string((unsigned long)wt.srv.last_wolfssl_err));
    }
    /* a second step after the end says the same */
    if (e == PICOACME_OK) {
        assert_int_equal(tls.server_step(tls.user), PICOACME_OK);
    }
    tls.server_close(tls.user);
    assert_int_equal(tls.server_step(tls.user), PICOACME_ERR_STATE);
    tp.close(tp.user, sock);
    close(lfd);
    size_t len = fread(out, 1, cap - 1, child);
    out[len] = '\0';
    (void)pclose(child);
    picoacme_wolfssl_tls_free(&wt);
    memset(priv, 0, sizeof priv);
    spit(TMP "/s_client.txt", (const uint8_t *)out, len);
    return e;
}

static void test_server_acme(void **state)
{
    (void)state;
    static char out[65536];
    char txt[16384];
    const char *variants[] = {"-alpn acme-tls/1 -servername host.example",
                              "-tls1_2 -alpn acme-tls/1 -servername host.example",
                              "-alpn h2,acme-tls/1 -servername 1.0.0.127.in-addr.arpa"};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        assert_int_equal(serve_once(variants[i], out, sizeof out), PICOACME_OK);
        must_contain(out, "ALPN protocol: acme-tls/1");
        must_contain(out, "-----BEGIN CERTIFICATE-----");
        capture(txt, sizeof txt, "openssl x509 -in " TMP "/s_client.txt -noout -text");
        must_contain(txt, "1.3.6.1.5.5.7.1.31: critical");
        must_contain(txt, "DNS:host.example");
        must_contain(txt, "Subject: CN = picoacme tls-alpn-01");
    }
    /* TLS 1.2 was really used in the second run, 1.3 in the others */
    assert_int_equal(serve_once(variants[1], out, sizeof out), PICOACME_OK);
    must_contain(out, "Protocol  : TLSv1.2");
}

static void test_server_refuses(void **state)
{
    (void)state;
    static char out[65536];
    const char *variants[] = {"-alpn h2 -servername host.example",
                              "-alpn h2,http/1.1 -tls1_2 -servername host.example",
                              "-servername host.example", "-tls1_2 -servername host.example"};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        picoacme_err_t e = serve_once(variants[i], out, sizeof out);
        assert_true(e >= PICOACME_ERR_PARAM);
        must_not_contain(out, "ALPN protocol: acme-tls/1");
        must_not_contain(out, "-----BEGIN CERTIFICATE-----");
        must_contain(out, "no application protocol");
    }
}

static void test_server_params(void **state)
{
    (void)state;
    uint8_t der[1024];
    uint8_t digest[32] = {1};
    uint8_t priv[32];
    uint8_t other[32];
    size_t n = build_cert(PICOACME_ID_DNS, "a.example", digest, 1700000000, der, sizeof der);
    assert_int_equal(g_crypto.key_export(g_crypto.user, PICOACME_KEY_CHALLENGE, priv), PICOACME_OK);
    picoacme_transport_t tp;
    picoacme_posix_transport(&tp);
    static picoacme_wolfssl_tls_t wt;
    picoacme_tls_t tls;
    tls_init(&wt, &tp, &tls);
    assert_int_equal(tls.server_step(tls.user), PICOACME_ERR_STATE);
    assert_int_equal(tls.server_open(tls.user, -1, der, n, priv), PICOACME_ERR_PARAM);
    assert_int_equal(tls.server_open(tls.user, 0, NULL, n, priv), PICOACME_ERR_PARAM);
    assert_int_equal(tls.server_open(tls.user, 0, der, 0, priv), PICOACME_ERR_PARAM);
    assert_int_equal(tls.server_open(tls.user, 0, der, n, NULL), PICOACME_ERR_PARAM);
    /* garbage instead of a certificate */
    uint8_t junk[64];
    memset(junk, 0x30, sizeof junk);
    assert_true(tls.server_open(tls.user, 0, junk, sizeof junk, priv) >= PICOACME_ERR_PARAM);
    /* a valid key that is not the certificate's */
    assert_int_equal(g_crypto.key_generate(g_crypto.user, PICOACME_KEY_CERT), PICOACME_OK);
    assert_int_equal(g_crypto.key_export(g_crypto.user, PICOACME_KEY_CERT, other), PICOACME_OK);
    assert_int_equal(tls.server_open(tls.user, 0, der, n, other), PICOACME_ERR_PARAM);
    assert_int_equal(tls.server_step(tls.user), PICOACME_ERR_STATE);
    /* a scalar out of range (all ones > n) */
    memset(other, 0xFF, sizeof other);
    assert_true(tls.server_open(tls.user, 0, der, n, other) >= PICOACME_ERR_PARAM);
    tls.server_close(tls.user);
    tls.server_close(tls.user);
    picoacme_wolfssl_tls_free(&wt);
    memset(priv, 0, sizeof priv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_dns),
        cmocka_unit_test(test_cert_ipv4),
        cmocka_unit_test(test_cert_ipv6),
        cmocka_unit_test(test_cert_unknown_clock),
        cmocka_unit_test(test_cert_time_encodings),
        cmocka_unit_test(test_cert_hostile_params),
        cmocka_unit_test(test_reverse_names),
        cmocka_unit_test(test_hello_acme),
        cmocka_unit_test(test_hello_not_acme),
        cmocka_unit_test(test_server_acme),
        cmocka_unit_test(test_server_refuses),
        cmocka_unit_test(test_server_params),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
