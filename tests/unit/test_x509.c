/*
 * test_x509.c - the CSR writer (core/src/csr.c), the certificate reader and
 * PEM blocks (core/src/x509.c) and IP text (core/src/ip.c), checked against the openssl command
 * line: CSRs built through the real wolfSSL crypto port must verify with `openssl req` and show
 * exactly the SANs asked for; certificates made by openssl must parse to the dates, serial, key,
 * SANs and AKI that openssl and date(1) report; hostile DER (every truncation, bad lengths, BER)
 * must give ERR_PARSE.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_wolfssl.h"
#include "picoacme_x509.h"

#define TMP PICOACME_TEST_TMPDIR "/x509"

/* ---- helpers ----------------------------------------------------------- */

static void sh(const char *fmt, ...)
{
    char cmd[8192];
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
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t len = fread(out, 1, cap - 1, f);
    out[len] = '\0';
    assert_int_equal(pclose(f), 0);
    return len;
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    assert_true(n < cap);
    fclose(f);
    return n;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Parse "AB:CD:..." or "ABCD..." hex into bytes. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s != '\0'; s++) {
        int v;
        if (*s >= '0' && *s <= '9') {
            v = *s - '0';
        } else if (*s >= 'A' && *s <= 'F') {
            v = *s - 'A' + 10;
        } else if (*s >= 'a' && *s <= 'f') {
            v = *s - 'a' + 10;
        } else {
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi * 16 + v);
            hi = -1;
        }
    }
    return n;
}

/* Unix seconds of an openssl "notAfter=YYYY-MM-DD HH:MM:SSZ" line, by date(1). */
static int64_t openssl_date(const char *path, const char *which)
{
    char line[256];
    char out[64];
    capture(line, sizeof line, "openssl x509 -inform DER -in %s -noout -%s -dateopt iso_8601", path,
            which);
    char *eq = strchr(line, '=');
    assert_non_null(eq);
    char *nl = strchr(eq, '\n');
    if (nl != NULL) {
        *nl = '\0';
    }
    capture(out, sizeof out, "date -u -d '%s' +%%s", eq + 1);
    return strtoll(out, NULL, 10);
}

static void mkdir_tmp(void)
{
    sh("mkdir -p " TMP);
}

/* ---- ip_parse ------------------------------------------------------------ */

static void ip_ok(const char *s, const char *hex)
{
    uint8_t want[16];
    uint8_t got[16];
    size_t n = 99;
    size_t wn = unhex(hex, want, sizeof want);
    picoacme_err_t e = picoacme_ip_parse(s, strlen(s), got, &n);
    if (e != PICOACME_OK) {
        fprintf(stderr, "ip_parse rejected %s\n", s);
    }
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, wn);
    assert_memory_equal(got, want, wn);
}

static void ip_bad(const char *s)
{
    uint8_t got[16];
    size_t n = 99;
    picoacme_err_t e = picoacme_ip_parse(s, strlen(s), got, &n);
    if (e != PICOACME_ERR_PARSE) {
        fprintf(stderr, "ip_parse accepted %s\n", s);
    }
    assert_int_equal(e, PICOACME_ERR_PARSE);
}

static void test_ip_parse(void **state)
{
    (void)state;
    ip_ok("1.2.3.4", "01020304");
    ip_ok("0.0.0.0", "00000000");
    ip_ok("255.255.255.255", "ffffffff");
    ip_ok("192.0.2.1", "c0000201");
    ip_ok("::", "00000000000000000000000000000000");
    ip_ok("::1", "00000000000000000000000000000001");
    ip_ok("1::", "00010000000000000000000000000000");
    ip_ok("2001:db8::1", "20010db8000000000000000000000001");
    ip_ok("2001:DB8:0:0:0:0:0:1", "20010db8000000000000000000000001");
    ip_ok("1:2:3:4:5:6:7:8", "00010002000300040005000600070008");
    ip_ok("1:2:3:4:5:6:7::", "00010002000300040005000600070000");
    ip_ok("::2:3:4:5:6:7:8", "00000002000300040005000600070008");
    ip_ok("fe80::abcd:0:1", "fe800000000000000000abcd00000001");
    ip_ok("::ffff:1.2.3.4", "00000000000000000000ffff01020304");
    ip_ok("64:ff9b::192.0.2.33", "0064ff9b0000000000000000c0000221");
    ip_ok("1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304");
    ip_ok("0000:0000:0000:0000:0000:0000:0000:0001", "00000000000000000000000000000001");

    const char *bad[] = {"",
                         "1.2.3",
                         "1.2.3.4.5",
                         "256.1.1.1",
                         "1.2.3.256",
                         "01.2.3.4",
                         "1.2.3.04",
                         "1.2.3.4.",
                         ".1.2.3.4",
                         "1..2.3",
                         "1.2.3.-4",
                         "+1.2.3.4",
                         "1.2.3.4 ",
                         " 1.2.3.4",
                         "1.2.3.a",
                         "1234.1.1.1",
                         "0x1.2.3.4",
                         ":",
                         ":::",
                         "1::2::3",
                         "::1::",
                         "1:2:3:4:5:6:7:8:9",
                         "1:2:3:4:5:6:7",
                         "1:2:3:4:5:6:7:8::",
                         "::1:2:3:4:5:6:7:8",
                         "12345::1",
                         "1:",
                         ":1",
                         "1:::2",
                         "g::1",
                         "::ffff:1.2.3",
                         "::ffff:1.2.3.4:5",
                         "1:2:3:4:5:6:7:1.2.3.4",
                         "::ffff:01.2.3.4",
                         "::1%eth0",
                         "fe80::1/64",
                         "[::1]",
                         "1.2.3.4::"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ip_bad(bad[i]);
    }
    /* length is honoured: no reading past len, no NUL needed */
    uint8_t got[16];
    size_t n;
    assert_int_equal(picoacme_ip_parse("10.0.0.1junk", 8, got, &n), PICOACME_OK);
    assert_int_equal(n, 4);
    assert_int_equal(got[3], 1);
    assert_int_equal(picoacme_ip_parse("::1\0", 4, got, &n), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_ip_parse(NULL, 0, got, &n), PICOACME_ERR_PARAM);
}

/* Independent check: glibc's inet_pton agrees on every form above. */
static void test_ip_parse_vs_inet_pton(void **state)
{
    (void)state;
    const char *all[] = {"1.2.3.4",
                         "0.0.0.0",
                         "255.255.255.255",
                         "::",
                         "::1",
                         "1::",
                         "2001:db8::1",
                         "1:2:3:4:5:6:7:8",
                         "1:2:3:4:5:6:7::",
                         "::2:3:4:5:6:7:8",
                         "fe80::abcd:0:1",
                         "::ffff:1.2.3.4",
                         "64:ff9b::192.0.2.33",
                         "1:2:3:4:5:6:1.2.3.4",
                         "ABCD:EF01::",
                         "1.2.3",
                         "1.2.3.4.5",
                         "256.1.1.1",
                         "01.2.3.4",
                         "1.2.3.04",
                         "1..2.3",
                         "1.2.3.4 ",
                         "1234.1.1.1",
                         ":",
                         ":::",
                         "1::2::3",
                         "::1::",
                         "1:2:3:4:5:6:7:8:9",
                         "1:2:3:4:5:6:7",
                         "1:2:3:4:5:6:7:8::",
                         "::1:2:3:4:5:6:7:8",
                         "12345::1",
                         "1:",
                         ":1",
                         "1:::2",
                         "g::1",
                         "::ffff:1.2.3",
                         "::ffff:1.2.3.4:5",
                         "1:2:3:4:5:6:7:1.2.3.4",
                         "::ffff:01.2.3.4",
                         "::1%eth0",
                         "1.2.3.4::",
                         "::0.0.0.0",
                         "0:0:0:0:0:0:0.0.0.0",
                         "::255.255.255.255"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        uint8_t mine[16];
        uint8_t ref[16];
        size_t n = 0;
        picoacme_err_t e = picoacme_ip_parse(all[i], strlen(all[i]), mine, &n);
        int r4 = inet_pton(AF_INET, all[i], ref);
        int r6 = r4 == 1 ? 0 : inet_pton(AF_INET6, all[i], ref);
        if ((e == PICOACME_OK) != (r4 == 1 || r6 == 1)) {
            fprintf(stderr, "disagree with inet_pton on '%s'\n", all[i]);
        }
        assert_int_equal(e == PICOACME_OK, r4 == 1 || r6 == 1);
        if (e == PICOACME_OK) {
            assert_int_equal(n, r4 == 1 ? 4 : 16);
            assert_memory_equal(mine, ref, n);
        }
    }
}

/* ---- civil time ---------------------------------------------------------- */

static void test_civil_to_unix(void **state)
{
    (void)state;
    assert_int_equal(picoacme_civil_to_unix(1970, 1, 1, 0, 0, 0), 0);
    assert_int_equal(picoacme_civil_to_unix(2000, 2, 29, 0, 0, 0), 951782400);
    assert_int_equal(picoacme_civil_to_unix(2000, 3, 1, 0, 0, 0), 951868800);
    assert_int_equal(picoacme_civil_to_unix(2038, 1, 19, 3, 14, 8), 2147483648LL);
    assert_int_equal(picoacme_civil_to_unix(1950, 1, 1, 0, 0, 0), -631152000LL);
    assert_int_equal(picoacme_civil_to_unix(1969, 12, 31, 23, 59, 59), -1);
    /* against date(1) over a spread of dates, leap years included */
    static const int dates[][6] = {{2049, 12, 31, 23, 59, 59}, {2050, 1, 1, 0, 0, 0},
                                   {2100, 2, 28, 12, 0, 1},    {2400, 2, 29, 1, 2, 3},
                                   {1900, 3, 1, 0, 0, 0},      {2024, 2, 29, 23, 59, 59},
                                   {9999, 12, 31, 23, 59, 59}};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char out[64];
        const int *d = dates[i];
        capture(out, sizeof out, "date -u -d '%04d-%02d-%02d %02d:%02d:%02dZ' +%%s", d[0], d[1],
                d[2], d[3], d[4], d[5]);
        assert_int_equal(picoacme_civil_to_unix(d[0], d[1], d[2], d[3], d[4], d[5]),
                         strtoll(out, NULL, 10));
    }
}

/* ---- CSR ----------------------------------------------------------------- */

static picoacme_wolfssl_crypto_t g_wc;
static picoacme_crypto_t g_crypto;

static int setup_crypto(void **state)
{
    (void)state;
    if (picoacme_wolfssl_crypto_init(&g_wc, NULL, &g_crypto) != PICOACME_OK) {
        return -1;
    }
    return g_crypto.key_generate(g_crypto.user, PICOACME_KEY_CERT) == PICOACME_OK ? 0 : -1;
}

static int teardown_crypto(void **state)
{
    (void)state;
    picoacme_wolfssl_crypto_free(&g_wc);
    return 0;
}

/* Write der to TMP/name.der, run openssl req -verify -text on it; the text
 * goes to out. Asserts the self-signature verified. */
static void openssl_req(const char *name, const uint8_t *der, size_t len, char *out, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, TMP "/%s.der", name);
    spit(path, der, len);
    capture(out, cap, "openssl req -inform DER -in %s -verify -noout -text 2>&1", path);
    if (strstr(out, "verify OK") == NULL) {
        fprintf(stderr, "%s\n", out);
    }
    assert_non_null(strstr(out, "verify OK"));
    assert_null(strstr(out, "verify failure"));
}

/* The SAN line of `openssl req -text` output (the line after the
 * extension's name), with the critical flag checked. Edits text. */
static const char *san_text(char *text, bool critical)
{
    const char *head = critical ? "X509v3 Subject Alternative Name: critical\n"
                                : "X509v3 Subject Alternative Name: \n";
    char *p = strstr(text, head);
    assert_non_null(p);
    p += strlen(head);
    while (*p == ' ') {
        p++;
    }
    char *nl = strchr(p, '\n');
    assert_non_null(nl);
    *nl = '\0';
    return p;
}

/* The X||Y that openssl sees in the CSR equals the crypto port's key. */
static void check_csr_key(const char *name)
{
    uint8_t spki[256];
    uint8_t pub[64];
    sh("openssl req -inform DER -in " TMP "/%s.der -noout -pubkey | openssl ec -pubin "
       "-outform DER -out " TMP "/%s.pub 2>/dev/null",
       name, name);
    char path[256];
    snprintf(path, sizeof path, TMP "/%s.pub", name);
    size_t n = slurp(path, spki, sizeof spki);
    assert_int_equal(n, 91);
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_CERT, pub), PICOACME_OK);
    assert_memory_equal(spki + 27, pub, 64);
}

static void test_csr_openssl(void **state)
{
    (void)state;
    mkdir_tmp();
    const picoacme_ident_t ids[] = {
        {PICOACME_ID_DNS, "device1.example.com"},
        {PICOACME_ID_DNS, "*.wild.example"},
        {PICOACME_ID_IP, "192.0.2.1"},
        {PICOACME_ID_IP, "2001:db8::1"},
        {PICOACME_ID_IP, "::ffff:10.1.2.3"},
    };
    uint8_t der[1024];
    size_t len = 0;
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, ids, 5, der, sizeof der, &len),
        PICOACME_OK);
    char text[8192];
    openssl_req("csr1", der, len, text, sizeof text);
    assert_non_null(strstr(text, "Subject: CN = device1.example.com\n"));
    assert_non_null(strstr(text, "Version: 1 (0x0)"));
    assert_non_null(strstr(text, "Signature Algorithm: ecdsa-with-SHA256"));
    assert_non_null(strstr(text, "ASN1 OID: prime256v1"));
    assert_string_equal(san_text(text, false),
                        "DNS:device1.example.com, DNS:*.wild.example, "
                        "IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1, "
                        "IP Address:0:0:0:0:0:FFFF:A01:203");
    check_csr_key("csr1");
    /* openssl's strict DER re-encoding gives back the same bytes */
    uint8_t again[1024];
    sh("openssl req -inform DER -in " TMP "/csr1.der -outform DER -out " TMP "/csr1b.der");
    size_t n2 = slurp(TMP "/csr1b.der", again, sizeof again);
    assert_int_equal(n2, len);
    assert_memory_equal(again, der, len);

    /* first identifier an IP address: empty subject, critical SAN */
    const picoacme_ident_t ids2[] = {{PICOACME_ID_IP, "127.0.0.1"}, {PICOACME_ID_DNS, "a.b"}};
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, ids2, 2, der, sizeof der, &len),
        PICOACME_OK);
    openssl_req("csr2", der, len, text, sizeof text);
    assert_non_null(strstr(text, "Subject: \n"));
    assert_string_equal(san_text(text, true), "IP Address:127.0.0.1, DNS:a.b");

    /* first DNS name longer than 64: empty subject too */
    const picoacme_ident_t ids3[] = {
        {PICOACME_ID_DNS, "a123456789b123456789c123456789d123456789e123456789f123456789.example"}};
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, ids3, 1, der, sizeof der, &len),
        PICOACME_OK);
    openssl_req("csr3", der, len, text, sizeof text);
    assert_non_null(strstr(text, "Subject: \n"));
    assert_string_equal(san_text(text, true), "DNS:a123456789b123456789c123456789"
                                              "d123456789e123456789f123456789.example");

    /* exactly 64 characters: becomes the CN */
    const picoacme_ident_t ids4[] = {
        {PICOACME_ID_DNS, "a123456789b123456789c123456789d123456789e123456789f12345.example"}};
    assert_int_equal(strlen(ids4[0].value), 64);
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, ids4, 1, der, sizeof der, &len),
        PICOACME_OK);
    openssl_req("csr4", der, len, text, sizeof text);
    assert_non_null(strstr(text, "Subject: CN = a123456789b123456789c123456789d123456789e123456789f"
                                 "12345.example\n"));
}

/* Many signatures: r and s with a high bit set or leading zero bytes all
 * encode as minimal INTEGERs that openssl accepts. */
static void test_csr_many_signatures(void **state)
{
    (void)state;
    mkdir_tmp();
    const picoacme_ident_t ids[] = {{PICOACME_ID_DNS, "x.example"}};
    uint8_t der[512];
    size_t len;
    unsigned padded = 0;
    char cmd[8192];
    size_t off = (size_t)snprintf(cmd, sizeof cmd, "set -e; ");
    for (int i = 0; i < 24; i++) {
        assert_int_equal(g_crypto.key_generate(g_crypto.user, PICOACME_KEY_CERT), PICOACME_OK);
        assert_int_equal(
            picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, ids, 1, der, sizeof der, &len),
            PICOACME_OK);
        /* last element: 03 L+3 00 30 L+? 02 rl r 02 sl s; find the SEQUENCE */
        size_t seq = 0;
        for (size_t l = 6; l <= 70; l++) {
            if (der[len - l - 2] == 0x30 && der[len - l - 1] == l && der[len - l - 3] == 0 &&
                der[len - l - 4] == l + 3 && der[len - l - 5] == 0x03) {
                seq = len - l;
            }
        }
        assert_true(seq != 0);
        assert_int_equal(der[seq], 0x02);
        size_t rl = der[seq + 1];
        assert_int_equal(der[seq + 2 + rl], 0x02);
        size_t sl = der[seq + 3 + rl];
        assert_int_equal(seq + 4 + rl + sl, len);
        /* minimal: a leading 00 only before a high bit (a value whose top
         * byte is zero and next byte >= 0x80 is 32 bytes long, 00 first);
         * never a high bit first (that would be negative) */
        assert_true(rl >= 1 && rl <= 33 && sl >= 1 && sl <= 33);
        if (der[seq + 2] == 0) {
            assert_true(rl > 1 && (der[seq + 3] & 0x80));
            padded++;
        } else {
            assert_true(!(der[seq + 2] & 0x80));
        }
        if (der[seq + 4 + rl] == 0) {
            assert_true(sl > 1 && (der[seq + 5 + rl] & 0x80));
            padded++;
        } else {
            assert_true(!(der[seq + 4 + rl] & 0x80));
        }
        char path[128];
        snprintf(path, sizeof path, TMP "/many%d.der", i);
        spit(path, der, len);
        off += (size_t)snprintf(cmd + off, sizeof cmd - off,
                                "openssl req -inform DER -in %s -verify -noout 2>&1 | "
                                "grep -q 'verify OK'; ",
                                path);
        assert_true(off < sizeof cmd);
    }
    assert_true(padded > 0); /* P(no high bit in 48 draws) = 2^-48 */
    sh("%s", cmd);
}

/* A crypto port over g_crypto whose signature is fixed, so that the CSR
 * length does not depend on the random r and s. */
static uint8_t g_fixed_sig[64];

static picoacme_err_t fixed_sign(void *user, picoacme_key_slot_t slot, const uint8_t digest[32],
                                 uint8_t sig[64])
{
    (void)user;
    (void)slot;
    (void)digest;
    memcpy(sig, g_fixed_sig, 64);
    return PICOACME_OK;
}

static picoacme_crypto_t fixed_crypto(void)
{
    picoacme_crypto_t c = g_crypto;
    c.key_sign = fixed_sign;
    return c;
}

/* ECDSA-Sig-Value INTEGERs: leading zeros dropped, 00 before a high bit. */
static void test_csr_sig_encoding(void **state)
{
    (void)state;
    picoacme_crypto_t c = fixed_crypto();
    const picoacme_ident_t ids[] = {{PICOACME_ID_DNS, "x.example"}};
    uint8_t der[512];
    size_t len;
    memset(g_fixed_sig, 0x11, 64);
    g_fixed_sig[0] = 0x00; /* r = 00 00 80 11 ... : 30 bytes + 00 pad = 31 */
    g_fixed_sig[1] = 0x00;
    g_fixed_sig[2] = 0x80;
    g_fixed_sig[32] = 0x7F; /* s = 7F 11 ... : 32 bytes */
    assert_int_equal(picoacme_csr_build(&c, PICOACME_KEY_CERT, ids, 1, der, sizeof der, &len),
                     PICOACME_OK);
    uint8_t want[3 + 2 + 2 + 31 + 2 + 32];
    size_t k = 0;
    want[k++] = 0x03;
    want[k++] = 1 + 2 + 2 + 31 + 2 + 32;
    want[k++] = 0x00;
    want[k++] = 0x30;
    want[k++] = 2 + 31 + 2 + 32;
    want[k++] = 0x02;
    want[k++] = 31;
    want[k++] = 0x00;
    memcpy(want + k, g_fixed_sig + 2, 30);
    k += 30;
    want[k++] = 0x02;
    want[k++] = 32;
    memcpy(want + k, g_fixed_sig + 32, 32);
    k += 32;
    assert_int_equal(k, sizeof want);
    assert_true(len > sizeof want);
    assert_memory_equal(der + len - sizeof want, want, sizeof want);
    /* ecdsa-with-SHA256 AlgorithmIdentifier without parameters just before */
    static const uint8_t alg[] = {0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86,
                                  0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
    assert_memory_equal(der + len - sizeof want - sizeof alg, alg, sizeof alg);
    /* outer SEQUENCE covers everything */
    assert_int_equal(der[0], 0x30);
    if (der[1] == 0x81) {
        assert_int_equal(der[2] + 3U, len);
    } else {
        assert_int_equal(der[1], 0x82);
        assert_int_equal(((size_t)der[2] << 8 | der[3]) + 4U, len);
    }
    /* r = 0 and s = 1 */
    memset(g_fixed_sig, 0, 64);
    g_fixed_sig[63] = 1;
    assert_int_equal(picoacme_csr_build(&c, PICOACME_KEY_CERT, ids, 1, der, sizeof der, &len),
                     PICOACME_OK);
    static const uint8_t tiny[] = {0x03, 0x09, 0x00, 0x30, 0x06, 0x02,
                                   0x01, 0x00, 0x02, 0x01, 0x01};
    assert_memory_equal(der + len - sizeof tiny, tiny, sizeof tiny);
}

/* Output never written beyond cap; every too-small cap is NOSPACE. */
static void test_csr_nospace_and_params(void **state)
{
    (void)state;
    memset(g_fixed_sig, 0xC3, sizeof g_fixed_sig);
    picoacme_crypto_t fc = fixed_crypto();
    const picoacme_ident_t ids[] = {{PICOACME_ID_DNS, "n.example"},
                                    {PICOACME_ID_IP, "2001:db8::2"}};
    uint8_t der[600];
    size_t full = 0;
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, ids, 2, der, sizeof der, &full),
        PICOACME_OK);
    assert_int_equal(picoacme_csr_build(&fc, PICOACME_KEY_CERT, ids, 2, der, sizeof der, &full),
                     PICOACME_OK);
    for (size_t cap = 0; cap < full; cap++) {
        size_t len = 77;
        memset(der, 0xA5, sizeof der);
        assert_int_equal(picoacme_csr_build(&fc, PICOACME_KEY_CERT, ids, 2, der, cap, &len),
                         PICOACME_ERR_NOSPACE);
        for (size_t i = cap; i < sizeof der; i++) {
            assert_int_equal(der[i], 0xA5);
        }
    }
    size_t len;
    assert_int_equal(picoacme_csr_build(&fc, PICOACME_KEY_CERT, ids, 2, der, full, &len),
                     PICOACME_OK);
    assert_int_equal(len, full);

    const picoacme_ident_t bad_ip[] = {{PICOACME_ID_IP, "1.2.3"}};
    const picoacme_ident_t bad_dns[] = {{PICOACME_ID_DNS, "a b.example"}};
    const picoacme_ident_t empty_dns[] = {{PICOACME_ID_DNS, ""}};
    const picoacme_ident_t null_val[] = {{PICOACME_ID_DNS, NULL}};
    const picoacme_ident_t bad_type[] = {{(picoacme_id_type_t)7, "a.example"}};
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, bad_ip, 1, der, sizeof der, &len),
        PICOACME_ERR_PARAM);
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, bad_dns, 1, der, sizeof der, &len),
        PICOACME_ERR_PARAM);
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, empty_dns, 1, der, sizeof der, &len),
        PICOACME_ERR_PARAM);
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, null_val, 1, der, sizeof der, &len),
        PICOACME_ERR_PARAM);
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, bad_type, 1, der, sizeof der, &len),
        PICOACME_ERR_PARAM);
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, ids, 0, der, sizeof der, &len),
        PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_csr_build(NULL, PICOACME_KEY_CERT, ids, 1, der, sizeof der, &len),
                     PICOACME_ERR_PARAM);
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_SLOTS, ids, 1, der, sizeof der, &len),
        PICOACME_ERR_PARAM);
}

/* A crypto port that fails: its error comes back, whatever the step. */
static picoacme_err_t failing_sha256(void *user, const picoacme_iov_t *iov, size_t n,
                                     uint8_t out[32])
{
    (void)user, (void)iov, (void)n, (void)out;
    return PICOACME_ERR_CRYPTO;
}

static picoacme_err_t failing_sign(void *user, picoacme_key_slot_t slot, const uint8_t digest[32],
                                   uint8_t sig[64])
{
    (void)user, (void)slot, (void)digest, (void)sig;
    return PICOACME_ERR_UNSUPPORTED; /* a secure element without the slot */
}

static void test_csr_crypto_failures(void **state)
{
    (void)state;
    const picoacme_ident_t ids[] = {{PICOACME_ID_DNS, "f.example"}};
    uint8_t der[600];
    size_t len = 0;
    picoacme_crypto_t c = g_crypto;
    c.sha256 = failing_sha256;
    assert_int_equal(picoacme_csr_build(&c, PICOACME_KEY_CERT, ids, 1, der, sizeof der, &len),
                     PICOACME_ERR_CRYPTO);
    c = g_crypto;
    c.key_sign = failing_sign;
    assert_int_equal(picoacme_csr_build(&c, PICOACME_KEY_CERT, ids, 1, der, sizeof der, &len),
                     PICOACME_ERR_UNSUPPORTED);
    /* the same port, working again, builds it */
    assert_int_equal(
        picoacme_csr_build(&g_crypto, PICOACME_KEY_CERT, ids, 1, der, sizeof der, &len),
        PICOACME_OK);
}

/* ---- certificate parsing ------------------------------------------------- */

/* CA + leaf made by openssl, once. */
static void make_certs(void)
{
    static int done;
    if (done) {
        return;
    }
    mkdir_tmp();
    sh("cd " TMP " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout ca.key -out ca.pem -days 3650 -subj /CN=test-ca 2>/dev/null && "
       "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key "
       "-subj /CN=leaf -out leaf.csr 2>/dev/null && "
       "printf 'subjectAltName=DNS:a.example,IP:192.0.2.7,IP:2001:db8::7,email:x@y.z,"
       "DNS:b.example\\nauthorityKeyIdentifier=keyid\\n' > leaf.ext && "
       "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -days 30 -extfile leaf.ext "
       "-set_serial 0x8000000000000001 -outform DER -out leaf.der 2>/dev/null && "
       "openssl x509 -in ca.pem -outform DER -out ca.der && "
       "openssl x509 -inform DER -in leaf.der -out leaf.pem && "
       "openssl ec -in leaf.key -pubout -outform DER -out leaf.pub 2>/dev/null && "
       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout long.key "
       "-out long.der -outform DER -days 40000 -subj /CN=long 2>/dev/null && "
       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -keyout p384.key "
       "-out p384.der -outform DER -days 10 -subj /CN=p384 -addext subjectAltName=DNS:p384.example "
       "2>/dev/null && "
       "openssl req -x509 -newkey ed25519 -nodes -keyout ed.key -out ed.der -outform DER "
       "-days 10 -subj /CN=ed 2>/dev/null");
    done = 1;
}

static void test_parse_leaf(void **state)
{
    (void)state;
    make_certs();
    uint8_t der[4096];
    size_t len = slurp(TMP "/leaf.der", der, sizeof der);
    picoacme_x509_t c;
    assert_int_equal(picoacme_x509_parse(der, len, &c), PICOACME_OK);

    assert_int_equal(c.not_before_s, openssl_date(TMP "/leaf.der", "startdate"));
    assert_int_equal(c.not_after_s, openssl_date(TMP "/leaf.der", "enddate"));
    assert_int_equal(c.not_after_s - c.not_before_s, 30 * 86400);

    /* serial: DER INTEGER contents, leading 00 since the high bit is set */
    char line[256];
    uint8_t want[64];
    capture(line, sizeof line, "openssl x509 -inform DER -in " TMP "/leaf.der -noout -serial");
    size_t wn = unhex(strchr(line, '=') + 1, want, sizeof want);
    assert_int_equal(wn, 8);
    assert_int_equal(c.serial_len, 9);
    assert_int_equal(c.serial[0], 0);
    assert_memory_equal(c.serial + 1, want, 8);

    /* key */
    uint8_t spki[128];
    assert_int_equal(slurp(TMP "/leaf.pub", spki, sizeof spki), 91);
    assert_true(c.ec_p256);
    assert_memory_equal(c.pub, spki + 27, 64);

    /* AKI keyIdentifier = the CA's subjectKeyIdentifier */
    char text[1024];
    capture(text, sizeof text, "openssl x509 -in " TMP "/ca.pem -noout -ext subjectKeyIdentifier");
    wn = unhex(strchr(text, '\n') + 1, want, sizeof want);
    assert_int_equal(wn, 20);
    assert_non_null(c.aki);
    assert_int_equal(c.aki_len, 20);
    assert_memory_equal(c.aki, want, 20);

    /* SANs in order, email skipped */
    size_t pos = 0;
    picoacme_id_type_t t;
    const uint8_t *v;
    size_t n;
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &n), PICOACME_OK);
    assert_int_equal(t, PICOACME_ID_DNS);
    assert_int_equal(n, 9);
    assert_memory_equal(v, "a.example", 9);
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &n), PICOACME_OK);
    assert_int_equal(t, PICOACME_ID_IP);
    assert_int_equal(n, 4);
    assert_memory_equal(v, "\xc0\x00\x02\x07", 4);
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &n), PICOACME_OK);
    assert_int_equal(t, PICOACME_ID_IP);
    assert_int_equal(n, 16);
    assert_memory_equal(v, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &n), PICOACME_OK);
    assert_int_equal(t, PICOACME_ID_DNS);
    assert_memory_equal(v, "b.example", 9);
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &n), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &n), PICOACME_ERR_NOT_FOUND);

    /* the CA: self-signed, AKI = its own SKI, no SAN */
    len = slurp(TMP "/ca.der", der, sizeof der);
    assert_int_equal(picoacme_x509_parse(der, len, &c), PICOACME_OK);
    assert_null(c.san);
    assert_non_null(c.aki);
    assert_memory_equal(c.aki, want, 20);
    pos = 0;
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &n), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(c.not_after_s, openssl_date(TMP "/ca.der", "enddate"));
}

/* notAfter beyond 2049 is a GeneralizedTime; other key types are not P-256. */
static void test_parse_long_and_other_keys(void **state)
{
    (void)state;
    make_certs();
    uint8_t der[4096];
    size_t len = slurp(TMP "/long.der", der, sizeof der);
    picoacme_x509_t c;
    assert_int_equal(picoacme_x509_parse(der, len, &c), PICOACME_OK);
    /* the encoding really is a GeneralizedTime (tag 0x18, 15 bytes) */
    uint8_t gt[] = {0x18, 0x0F};
    assert_non_null(memmem(der, len, gt, 2));
    assert_int_equal(c.not_after_s, openssl_date(TMP "/long.der", "enddate"));
    assert_int_equal(c.not_before_s, openssl_date(TMP "/long.der", "startdate"));
    assert_true(c.not_after_s > 2524608000LL); /* after 2050-01-01 */
    assert_true(c.ec_p256);

    len = slurp(TMP "/p384.der", der, sizeof der);
    assert_int_equal(picoacme_x509_parse(der, len, &c), PICOACME_OK);
    assert_false(c.ec_p256);
    size_t pos = 0;
    picoacme_id_type_t t;
    const uint8_t *v;
    size_t n;
    assert_int_equal(picoacme_x509_san_next(&c, &pos, &t, &v, &n), PICOACME_OK);
    assert_int_equal(n, 12);
    assert_memory_equal(v, "p384.example", 12);

    len = slurp(TMP "/ed.der", der, sizeof der);
    assert_int_equal(picoacme_x509_parse(der, len, &c), PICOACME_OK);
    assert_false(c.ec_p256);
}

/* Replace the notBefore UTCTime text in place and check the 50-year rule. */
static void test_parse_utctime_window(void **state)
{
    (void)state;
    make_certs();
    uint8_t der[4096];
    size_t len = slurp(TMP "/leaf.der", der, sizeof der);
    picoacme_x509_t c;
    assert_int_equal(picoacme_x509_parse(der, len, &c), PICOACME_OK);
    /* locate notBefore: first 0x17 0x0D in the DER */
    uint8_t *p = memmem(der, len, "\x17\x0d", 2);
    assert_non_null(p);
    struct {
        const char *text;
        int64_t want;
        picoacme_err_t err;
    } cases[] = {
        {"491231235959Z", 2524607999LL, PICOACME_OK}, {"500101000000Z", -631152000LL, PICOACME_OK},
        {"000229120000Z", 951825600LL, PICOACME_OK},  {"700101000000Z", 0, PICOACME_OK},
        {"010229000000Z", 0, PICOACME_ERR_PARSE}, /* 2001 not a leap year */
        {"991301000000Z", 0, PICOACME_ERR_PARSE},     {"990100000000Z", 0, PICOACME_ERR_PARSE},
        {"990101240000Z", 0, PICOACME_ERR_PARSE},     {"990101006000Z", 0, PICOACME_ERR_PARSE},
        {"990101000060Z", 0, PICOACME_ERR_PARSE},     {"9901010000000", 0, PICOACME_ERR_PARSE},
        {"99010100000+Z", 0, PICOACME_ERR_PARSE},     {"9 0101000000Z", 0, PICOACME_ERR_PARSE},
    };
    uint8_t saved[13];
    memcpy(saved, p + 2, 13);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(p + 2, cases[i].text, 13);
        assert_int_equal(picoacme_x509_parse(der, len, &c), cases[i].err);
        if (cases[i].err == PICOACME_OK) {
            assert_int_equal(c.not_before_s, cases[i].want);
        }
    }
    memcpy(p + 2, saved, 13);
    /* a UTCTime tag with GeneralizedTime length, and vice versa */
    p[0] = 0x18;
    assert_int_equal(picoacme_x509_parse(der, len, &c), PICOACME_ERR_PARSE);
    p[0] = 0x17;
    assert_int_equal(picoacme_x509_parse(der, len, &c), PICOACME_OK);
}

/* Hostile DER: truncation at every byte, trailing garbage, bad lengths. */
static void test_parse_hostile(void **state)
{
    (void)state;
    make_certs();
    static uint8_t der[4096];
    static uint8_t buf[4200];
    size_t len = slurp(TMP "/leaf.der", der, sizeof der);
    picoacme_x509_t c;

    for (size_t n = 0; n < len; n++) {
        memcpy(buf, der, n);
        assert_int_equal(picoacme_x509_parse(buf, n, &c), PICOACME_ERR_PARSE);
    }
    /* trailing garbage */
    memcpy(buf, der, len);
    buf[len] = 0;
    assert_int_equal(picoacme_x509_parse(buf, len + 1, &c), PICOACME_ERR_PARSE);
    buf[len + 1] = 0;
    assert_int_equal(picoacme_x509_parse(buf, len + 2, &c), PICOACME_ERR_PARSE);

    /* the leaf's outer header is 30 82 hi lo */
    assert_int_equal(der[0], 0x30);
    assert_int_equal(der[1], 0x82);
    size_t body = ((size_t)der[2] << 8) | der[3];
    assert_int_equal(body + 4, len);
    /* outer length one too long / one too short */
    memcpy(buf, der, len);
    buf[3] = (uint8_t)(buf[3] + 1);
    assert_int_equal(picoacme_x509_parse(buf, len, &c), PICOACME_ERR_PARSE);
    buf[3] = (uint8_t)(der[3] - 2);
    assert_int_equal(picoacme_x509_parse(buf, len, &c), PICOACME_ERR_PARSE);
    /* long-form length overflow: 30 84 FF FF FF FF, and 30 88 + 8 bytes */
    buf[0] = 0x30;
    buf[1] = 0x84;
    memset(buf + 2, 0xFF, 4);
    memcpy(buf + 6, der + 4, body);
    assert_int_equal(picoacme_x509_parse(buf, body + 6, &c), PICOACME_ERR_PARSE);
    buf[1] = 0x88;
    memset(buf + 2, 0, 8);
    buf[8] = (uint8_t)(body >> 8);
    buf[9] = (uint8_t)body;
    memcpy(buf + 10, der + 4, body);
    assert_int_equal(picoacme_x509_parse(buf, body + 10, &c), PICOACME_ERR_PARSE);
    /* non-minimal length: 30 83 00 hi lo */
    buf[1] = 0x83;
    buf[2] = 0;
    buf[3] = der[2];
    buf[4] = der[3];
    memcpy(buf + 5, der + 4, body);
    assert_int_equal(picoacme_x509_parse(buf, body + 5, &c), PICOACME_ERR_PARSE);
    /* indefinite length (BER): 30 80 ... 00 00 */
    buf[1] = 0x80;
    memcpy(buf + 2, der + 4, body);
    buf[body + 2] = 0;
    buf[body + 3] = 0;
    assert_int_equal(picoacme_x509_parse(buf, body + 4, &c), PICOACME_ERR_PARSE);
    /* short length written in long form: 04 81 05 ... */
    const uint8_t nonmin[] = {0x30, 0x81, 0x03, 0x02, 0x01, 0x00};
    assert_int_equal(picoacme_x509_parse(nonmin, sizeof nonmin, &c), PICOACME_ERR_PARSE);
    const uint8_t empty_seq[] = {0x30, 0x00};
    assert_int_equal(picoacme_x509_parse(empty_seq, sizeof empty_seq, &c), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_x509_parse(der, 0, &c), PICOACME_ERR_PARSE);

    /* every single-byte corruption: a clear answer, never a crash, and
     * whatever parses has its pointers inside the buffer */
    for (size_t i = 0; i < len; i++) {
        static const uint8_t flips[] = {0xFF, 0x01, 0x80};
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(buf, der, len);
            buf[i] ^= flips[f];
            picoacme_err_t e = picoacme_x509_parse(buf, len, &c);
            assert_true(e == PICOACME_OK || e == PICOACME_ERR_PARSE);
            if (e == PICOACME_OK) {
                assert_true(c.serial >= buf && c.serial + c.serial_len <= buf + len);
                if (c.san != NULL) {
                    assert_true(c.san >= buf && c.san + c.san_len <= buf + len);
                    size_t pos = 0;
                    picoacme_id_type_t t;
                    const uint8_t *v;
                    size_t n;
                    int guard = 0;
                    while (picoacme_x509_san_next(&c, &pos, &t, &v, &n) == PICOACME_OK) {
                        assert_true(v >= c.san && v + n <= c.san + c.san_len);
                        assert_true(++guard < 100);
                    }
                }
            }
        }
    }
    /* a mangled SAN element length inside an otherwise valid cert: find the
     * dNSName "a.example" (82 09) and claim 0x7F bytes */
    memcpy(buf, der, len);
    uint8_t *san = memmem(buf, len,
                          "\x82\x09"
                          "a.example",
                          11);
    assert_non_null(san);
    san[1] = 0x7F;
    assert_int_equal(picoacme_x509_parse(buf, len, &c), PICOACME_ERR_PARSE);
    /* an iPAddress of 5 bytes is rejected */
    memcpy(buf, der, len);
    uint8_t *ip = memmem(buf, len, "\x87\x04\xc0\x00\x02\x07", 6);
    assert_non_null(ip);
    ip[0] = 0x82; /* becomes a dNSName with a binary byte: rejected too */
    assert_int_equal(picoacme_x509_parse(buf, len, &c), PICOACME_ERR_PARSE);

    assert_int_equal(picoacme_x509_parse(NULL, 0, &c), PICOACME_ERR_PARAM);
}

/* ---- PEM ----------------------------------------------------------------- */

static void test_pem_next(void **state)
{
    (void)state;
    make_certs();
    static char pem[16384];
    static uint8_t leaf[4096];
    static uint8_t ca[4096];
    static uint8_t der[4096];
    size_t leaf_len = slurp(TMP "/leaf.der", leaf, sizeof leaf);
    size_t ca_len = slurp(TMP "/ca.der", ca, sizeof ca);
    size_t len = capture(pem, sizeof pem,
                         "cat " TMP "/leaf.pem; echo 'junk between'; "
                         "sed 's/$/\\r/' " TMP "/ca.pem");
    size_t pos = 0;
    size_t n;
    assert_int_equal(picoacme_pem_next(pem, len, &pos, der, sizeof der, &n), PICOACME_OK);
    assert_int_equal(n, leaf_len);
    assert_memory_equal(der, leaf, n);
    assert_int_equal(picoacme_pem_next(pem, len, &pos, der, sizeof der, &n), PICOACME_OK);
    assert_int_equal(n, ca_len);
    assert_memory_equal(der, ca, n);
    assert_int_equal(pos, len);
    assert_int_equal(picoacme_pem_next(pem, len, &pos, der, sizeof der, &n),
                     PICOACME_ERR_NOT_FOUND);

    /* the decoded block parses */
    picoacme_x509_t c;
    assert_int_equal(picoacme_x509_parse(der, ca_len, &c), PICOACME_OK);

    /* too small a buffer */
    pos = 0;
    assert_int_equal(picoacme_pem_next(pem, len, &pos, der, leaf_len - 1, &n),
                     PICOACME_ERR_NOSPACE);
    /* BEGIN without END, at every cut inside the first block */
    char *end = strstr(pem, "-----END CERTIFICATE-----");
    assert_non_null(end);
    size_t cut_max = (size_t)(end - pem) + 24;
    for (size_t cut = 27; cut <= cut_max; cut++) {
        pos = 0;
        picoacme_err_t e = picoacme_pem_next(pem, cut, &pos, der, sizeof der, &n);
        assert_true(e == PICOACME_ERR_PARSE || e == PICOACME_ERR_NOT_FOUND);
    }
    /* no block at all */
    pos = 0;
    assert_int_equal(picoacme_pem_next("hello", 5, &pos, der, sizeof der, &n),
                     PICOACME_ERR_NOT_FOUND);
    /* garbage body, empty body */
    const char *garbage = "-----BEGIN CERTIFICATE-----\nMII!\n-----END CERTIFICATE-----\n";
    pos = 0;
    assert_int_equal(picoacme_pem_next(garbage, strlen(garbage), &pos, der, sizeof der, &n),
                     PICOACME_ERR_PARSE);
    const char *empty = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    pos = 0;
    assert_int_equal(picoacme_pem_next(empty, strlen(empty), &pos, der, sizeof der, &n),
                     PICOACME_ERR_PARSE);
    pos = 6;
    assert_int_equal(picoacme_pem_next("hello", 5, &pos, der, sizeof der, &n), PICOACME_ERR_PARAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_parse),
        cmocka_unit_test(test_ip_parse_vs_inet_pton),
        cmocka_unit_test(test_civil_to_unix),
        cmocka_unit_test_setup_teardown(test_csr_openssl, setup_crypto, teardown_crypto),
        cmocka_unit_test_setup_teardown(test_csr_many_signatures, setup_crypto, teardown_crypto),
        cmocka_unit_test_setup_teardown(test_csr_sig_encoding, setup_crypto, teardown_crypto),
        cmocka_unit_test_setup_teardown(test_csr_nospace_and_params, setup_crypto, teardown_crypto),
        cmocka_unit_test_setup_teardown(test_csr_crypto_failures, setup_crypto, teardown_crypto),
        cmocka_unit_test(test_parse_leaf),
        cmocka_unit_test(test_parse_long_and_other_keys),
        cmocka_unit_test(test_parse_utctime_window),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_pem_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
