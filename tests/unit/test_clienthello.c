/*
 * test_clienthello.c - the ClientHello peek of core/src/clienthello.c on
 * hand-made records: the smallest hellos, broken ones, and what is not TLS
 * at all. Real hellos from `openssl s_client` are in test_alpn.c. This
 * file includes only picoacme_alpn.h, so it also checks that the header
 * stands alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "picoacme_alpn.h"

/* Built by hand: the smallest ClientHellos and the broken ones. */
static void test_hello_handmade(void **state)
{
    (void)state;
    bool acme = true;
    char sni[64];
    /* TLS 1.2 hello without extensions */
    uint8_t h[128] = {22, 3, 1, 0, 0, 1, 0, 0, 0, 3, 3};
    size_t n = 11 + 32;
    h[n++] = 0; /* session id */
    h[n++] = 0; /* cipher suites */
    h[n++] = 2;
    h[n++] = 0xC0;
    h[n++] = 0x2B;
    h[n++] = 1; /* compression */
    h[n++] = 0;
    size_t body = n - 9;
    h[3] = (uint8_t)((n - 5) >> 8);
    h[4] = (uint8_t)(n - 5);
    h[8] = (uint8_t)body;
    assert_int_equal(picoacme_tls_clienthello_alpn(h, n, &acme, sni, sizeof sni), PICOACME_OK);
    assert_false(acme);
    assert_string_equal(sni, "");
    /* an odd cipher suite length */
    h[45] = 3;
    assert_int_equal(picoacme_tls_clienthello_alpn(h, n, &acme, sni, sizeof sni),
                     PICOACME_ERR_PARSE);
    h[45] = 2;

    /* with extensions: ALPN ["acme-tls/1"], SNI "a.b" */
    static const uint8_t exts[] = {0x00, 0x10, 0x00, 0x0D, 0x00, 0x0B, 0x0A, 'a',  'c',  'm',
                                   'e',  '-',  't',  'l',  's',  '/',  '1',  0x00, 0x00, 0x00,
                                   0x08, 0x00, 0x06, 0x00, 0x00, 0x03, 'a',  '.',  'b'};
    uint8_t e[256];
    memcpy(e, h, n);
    size_t m = n;
    e[m++] = 0;
    e[m++] = (uint8_t)sizeof exts;
    memcpy(e + m, exts, sizeof exts);
    m += sizeof exts;
    e[3] = (uint8_t)((m - 5) >> 8);
    e[4] = (uint8_t)(m - 5);
    e[8] = (uint8_t)(m - 9);
    assert_int_equal(picoacme_tls_clienthello_alpn(e, m, &acme, sni, sizeof sni), PICOACME_OK);
    assert_true(acme);
    assert_string_equal(sni, "a.b");

    /* the same extension twice (RFC 8446 §4.2) */
    uint8_t d[256];
    memcpy(d, e, n);
    size_t k = n;
    d[k++] = 0;
    d[k++] = (uint8_t)(2 * 17);
    memcpy(d + k, exts, 17);
    k += 17;
    memcpy(d + k, exts, 17);
    k += 17;
    d[3] = 0;
    d[4] = (uint8_t)(k - 5);
    d[8] = (uint8_t)(k - 9);
    assert_int_equal(picoacme_tls_clienthello_alpn(d, k, &acme, sni, sizeof sni),
                     PICOACME_ERR_PARSE);
    /* an empty protocol name */
    memcpy(d, e, m);
    d[n + 2 + 6] = 0;
    assert_int_equal(picoacme_tls_clienthello_alpn(d, m, &acme, sni, sizeof sni),
                     PICOACME_ERR_PARSE);
    /* a control character in the host name */
    memcpy(d, e, m);
    d[m - 2] = '\n';
    assert_int_equal(picoacme_tls_clienthello_alpn(d, m, &acme, sni, sizeof sni),
                     PICOACME_ERR_PARSE);
    /* "acme-tls/1" as a prefix of a longer name is no match */
    memcpy(d, e, m);
    d[n + 2 + 6] = 9; /* "acme-tls/" then '1' as the next name's length */
    assert_int_equal(picoacme_tls_clienthello_alpn(d, m, &acme, sni, sizeof sni),
                     PICOACME_ERR_PARSE);

    /* not TLS at all, and things that are TLS but no ClientHello */
    static const char http[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(
        picoacme_tls_clienthello_alpn((const uint8_t *)http, sizeof http - 1, &acme, NULL, 0),
        PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_tls_clienthello_alpn((const uint8_t *)http, 1, &acme, NULL, 0),
                     PICOACME_ERR_PARSE);
    static const uint8_t sslv2[] = {0x80, 0x2E, 0x01, 0x00, 0x02};
    assert_int_equal(picoacme_tls_clienthello_alpn(sslv2, sizeof sslv2, &acme, NULL, 0),
                     PICOACME_ERR_PARSE);
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    assert_int_equal(picoacme_tls_clienthello_alpn(alert, sizeof alert, &acme, NULL, 0),
                     PICOACME_ERR_PARSE);
    static const uint8_t server_hello[] = {22, 3, 3, 0, 4, 2, 0, 0, 0};
    assert_int_equal(picoacme_tls_clienthello_alpn(server_hello, 6, &acme, NULL, 0),
                     PICOACME_ERR_PARSE);
    static const uint8_t huge[] = {22, 3, 1, 0x40, 0x01, 1};
    assert_int_equal(picoacme_tls_clienthello_alpn(huge, sizeof huge, &acme, NULL, 0),
                     PICOACME_ERR_PARSE);
    static const uint8_t empty_rec[] = {22, 3, 1, 0, 0};
    assert_int_equal(picoacme_tls_clienthello_alpn(empty_rec, sizeof empty_rec, &acme, NULL, 0),
                     PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_tls_clienthello_alpn(NULL, 0, &acme, NULL, 0), PICOACME_AGAIN);
    assert_int_equal(picoacme_tls_clienthello_alpn(NULL, 5, &acme, NULL, 0), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_tls_clienthello_alpn(h, n, NULL, NULL, 0), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_tls_clienthello_alpn(h, n, &acme, sni, 0), PICOACME_ERR_PARAM);
}

/* A TLS 1.2 hello (no session id, one suite, null compression) with the
 * extensions block exts[0..len) into out; its length. */
static size_t hello_with(const uint8_t *exts, size_t len, uint8_t *out)
{
    static const uint8_t tail[] = {0, 0, 2, 0xC0, 0x2B, 1, 0};
    size_t n = 11 + 32;
    memset(out, 0, n);
    memcpy(out, (const uint8_t[]){22, 3, 1, 0, 0, 1, 0, 0, 0, 3, 3}, 11);
    memcpy(out + n, tail, sizeof tail);
    n += sizeof tail;
    out[n++] = (uint8_t)(len >> 8);
    out[n++] = (uint8_t)len;
    memcpy(out + n, exts, len);
    n += len;
    out[3] = (uint8_t)((n - 5) >> 8);
    out[4] = (uint8_t)(n - 5);
    out[7] = (uint8_t)((n - 9) >> 8);
    out[8] = (uint8_t)(n - 9);
    return n;
}

/* RFC 6066 §3: other name types are skipped; two host_names are refused,
 * in one list or in two server_name extensions. */
static void test_hello_sni_forms(void **state)
{
    (void)state;
    bool acme = true;
    char sni[64];
    uint8_t h[256];
    /* a name of type 1 first, then the host_name */
    static const uint8_t other_then_host[] = {0x00, 0x00, 0x00, 0x0C, 0x00, 0x0A, 0x01, 0x00,
                                              0x01, 'x',  0x00, 0x00, 0x03, 'a',  '.',  'b'};
    size_t n = hello_with(other_then_host, sizeof other_then_host, h);
    assert_int_equal(picoacme_tls_clienthello_alpn(h, n, &acme, sni, sizeof sni), PICOACME_OK);
    assert_false(acme);
    assert_string_equal(sni, "a.b");
    /* two host_names in one list */
    static const uint8_t two_hosts[] = {0x00, 0x00, 0x00, 0x0E, 0x00, 0x0C, 0x00, 0x00, 0x03,
                                        'a',  '.',  'b',  0x00, 0x00, 0x03, 'c',  '.',  'd'};
    n = hello_with(two_hosts, sizeof two_hosts, h);
    assert_int_equal(picoacme_tls_clienthello_alpn(h, n, &acme, sni, sizeof sni),
                     PICOACME_ERR_PARSE);
    /* two server_name extensions */
    static const uint8_t two_exts[] = {0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00,
                                       0x03, 'a',  '.',  'b',  0x00, 0x00, 0x00, 0x08,
                                       0x00, 0x06, 0x00, 0x00, 0x03, 'a',  '.',  'b'};
    n = hello_with(two_exts, sizeof two_exts, h);
    assert_int_equal(picoacme_tls_clienthello_alpn(h, n, &acme, sni, sizeof sni),
                     PICOACME_ERR_PARSE);
    /* a server_name extension with no host_name at all */
    static const uint8_t no_host[] = {0x00, 0x00, 0x00, 0x06, 0x00, 0x04, 0x01, 0x00, 0x01, 'x'};
    n = hello_with(no_host, sizeof no_host, h);
    assert_int_equal(picoacme_tls_clienthello_alpn(h, n, &acme, sni, sizeof sni),
                     PICOACME_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_handmade),
        cmocka_unit_test(test_hello_sni_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
