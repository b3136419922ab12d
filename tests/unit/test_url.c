/*
 * test_url.c - the URL splitter (core/src/url.c): accepted URLs with their
 * parts, and the refused ones (userinfo, fragment, bad port, empty host...).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "picoacme_err.h"
#include "picoacme_http.h"

/* ---- URL ------------------------------------------------------------------ */

static void check_url(const char *u, bool https, const char *host, uint16_t port, const char *path)
{
    picoacme_url_t url;
    assert_int_equal(picoacme_url_parse(u, strlen(u), &url), PICOACME_OK);
    assert_int_equal(url.https, https);
    assert_int_equal(url.host_len, strlen(host));
    assert_memory_equal(url.host, host, strlen(host));
    assert_int_equal(url.port, port);
    assert_int_equal(url.path_len, strlen(path));
    assert_memory_equal(url.path, path, strlen(path));
}

static void test_url_parse(void **state)
{
    (void)state;
    check_url("https://127.0.0.1:14000/dir", true, "127.0.0.1", 14000, "/dir");
    check_url("https://[::1]:14000/my-account/1", true, "::1", 14000, "/my-account/1");
    check_url("https://[2001:db8::1]/a", true, "2001:db8::1", 443, "/a");
    check_url("https://[::ffff:192.0.2.1]", true, "::ffff:192.0.2.1", 443, "/");
    check_url("http://acme.internal", false, "acme.internal", 80, "/");
    check_url("HTTPS://CA.Example:65535/acme/new-order?x=1&y=%2F", true, "CA.Example", 65535,
              "/acme/new-order?x=1&y=%2F");
    check_url("http://ca_1.lan:080/", false, "ca_1.lan", 80, "/");

    static const char *bad[] = {
        "ftp://x/",
        "https:/x",
        "//x/",
        "https://",
        "https:///dir",
        "https://:443/",
        "https://user@host/",
        "https://u:p@host/",
        "https://h:0/",
        "https://h:65536/",
        "https://h:/",
        "https://h:123456/",
        "https://h:44a/",
        "https://h/#frag",
        "https://h?x=1",
        "https://h/a b",
        "https://h/\x7f",
        "https://h/\xc3\xa9",
        "https://[::1/",
        "https://[]/",
        "https://[1]/",
        "https://[fe80::1%25eth0]/",
        "https://[::1]x/",
        "https://h\\x/",
        "https://ho st/",
        "https://h/\r\nX: y",
    };
    picoacme_url_t url;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (picoacme_url_parse(bad[i], strlen(bad[i]), &url) != PICOACME_ERR_PARSE) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    /* the length bounds the parse: the NUL and what follows are not read */
    assert_int_equal(picoacme_url_parse("https://h/abc", 11, &url), PICOACME_OK);
    assert_int_equal(url.path_len, 2);
    assert_int_equal(picoacme_url_parse("https://h/a\0bc", 14, &url), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_url_parse(NULL, 3, &url), PICOACME_ERR_PARAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
