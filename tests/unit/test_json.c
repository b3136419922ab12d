/*
 * test_json.c - core/src/json_read.c (the strict parser over jsmn, typed
 * getters) and core/src/json_write.c (the bounded writer).
 *
 * Inputs are real ACME objects (a Pebble directory, RFC 8555 §7.1.3 order,
 * §7.1.4 authorization, §6.7 problem document) and hostile text. Unescaped
 * strings are compared with python3's json module, and every writer output
 * is compared byte for byte and then loaded by python3 (an independent JSON
 * implementation, run from the test) to prove it is valid JSON.
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
#include <sys/wait.h>
#include <unistd.h>

#include "picoacme_json.h"

#define NTOK 256U
static picoacme_json_tok_t g_tok[NTOK];

static picoacme_err_t parse_s(picoacme_json_t *j, const char *s)
{
    return picoacme_json_parse(j, s, strlen(s), g_tok, NTOK);
}

/* Value of member key of obj as a C string in a static buffer. */
static const char *gs(const picoacme_json_t *j, int obj, const char *key)
{
    static char buf[512];
    size_t n = 99999;
    picoacme_err_t e = picoacme_json_get_string(j, obj, key, buf, sizeof buf, &n);
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, strlen(buf));
    return buf;
}

/* Raw text of token t (for primitives). */
static void tok_text(const picoacme_json_t *j, int t, char *out, size_t cap)
{
    size_t n = (size_t)(g_tok[t].end - g_tok[t].start);
    assert_true(n < cap);
    memcpy(out, j->js + g_tok[t].start, n);
    out[n] = '\0';
}

/* Runs python3 script with text on stdin; returns its stdout (static) and
 * its exit status in *status. */
static const char *py(const char *script, const char *text, size_t len, int *status)
{
    static char out[8192];
    char path[512], cmd[2048];
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "%s/json_py_%d.json", PICOACME_TEST_TMPDIR, (int)getpid());
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 -c '%s' < '%s' 2>/dev/null", script, path);
    f = popen(cmd, "r");
    assert_non_null(f);
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    *status = pclose(f);
    remove(path);
    return out;
}

/* python3 loads the text as JSON (exit 0) or not. */
static bool py_valid(const char *text, size_t len)
{
    int st;
    (void)py("import json,sys; json.load(sys.stdin)", text, len, &st);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void bytes_hex(const char *s, size_t n, char *hex)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(hex + 2 * i, "%02x", (unsigned char)s[i]);
    }
    hex[2 * n] = '\0';
}

/* ---- real ACME objects ---------------------------------------------------- */

static const char k_directory[] =
    "{\n"
    "   \"keyChange\": \"https://127.0.0.1:14000/rollover-account-key\",\n"
    "   \"meta\": {\n"
    "      \"externalAccountRequired\": false,\n"
    "      \"termsOfService\": \"data:text/plain,Do%20what%20thou%20wilt\"\n"
    "   },\n"
    "   \"newAccount\": \"https://127.0.0.1:14000/sign-me-up\",\n"
    "   \"newNonce\": \"https://127.0.0.1:14000/nonce-plz\",\n"
    "   \"newOrder\": \"https://127.0.0.1:14000/order-plz\",\n"
    "   \"renewalInfo\": \"https://127.0.0.1:14000/draft-ietf-acme-ari-03/renewalInfo\",\n"
    "   \"revokeCert\": \"https://127.0.0.1:14000/revoke-cert\"\n"
    "}";

static const char k_order[] =
    "{\n"
    "  \"status\": \"pending\",\n"
    "  \"expires\": \"2016-01-05T14:09:07.99Z\",\n"
    "  \"notBefore\": \"2016-01-01T00:00:00Z\",\n"
    "  \"notAfter\": \"2016-01-08T00:00:00Z\",\n"
    "  \"identifiers\": [\n"
    "    { \"type\": \"dns\", \"value\": \"www.example.org\" },\n"
    "    { \"type\": \"ip\", \"value\": \"192.0.2.7\" }\n"
    "  ],\n"
    "  \"authorizations\": [\n"
    "    \"https://example.com/acme/authz/PAniVnsZcis\",\n"
    "    \"https://example.com/acme/authz/r4HqLzrSrpI\"\n"
    "  ],\n"
    "  \"finalize\": \"https://example.com/acme/order/TOlocE8rfgo/finalize\",\n"
    "  \"certificate\": \"https://example.com/acme/cert/mAt3xBGaobw\"\n"
    "}";

static const char k_authz[] =
    "{\"status\":\"pending\",\"expires\":\"2015-03-01T14:09:07.99Z\","
    "\"identifier\":{\"type\":\"dns\",\"value\":\"www.example.org\"},"
    "\"challenges\":["
    "{\"url\":\"https://example.com/acme/chall/prV_B7yEyA4\",\"type\":\"http-01\","
    "\"status\":\"invalid\",\"error\":{\"type\":\"urn:ietf:params:acme:error:connection\","
    "\"subproblems\":[{\"type\":\"x\",\"identifier\":{\"type\":\"dns\",\"value\":\"y\"}}],"
    "\"status\":400},\"token\":\"DGyRejmCefe7v4NfDGDKfA\"},"
    "{\"url\":\"https://example.com/acme/chall/Rg5dV14Gh1Q\",\"type\":\"dns-01\","
    "\"status\":\"pending\",\"token\":\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\"},"
    "{\"url\":\"https://example.com/acme/chall/TZ3vP8KRPyY\",\"type\":\"tls-alpn-01\","
    "\"status\":\"pending\",\"token\":\"IlirfxKKXAsHtmzK29Pj8A\"}"
    "],\"wildcard\":false}";

static const char k_problem[] =
    "{\"type\":\"urn:ietf:params:acme:error:badNonce\","
    "\"detail\":\"JWS has an invalid anti-replay nonce: \\\"zincFoo\\\"\","
    "\"status\":400}";

static void test_directory(void **state)
{
    (void)state;
    picoacme_json_t j;
    char txt[32];

    assert_int_equal(parse_s(&j, k_directory), PICOACME_OK);
    assert_int_equal(j.count, 19);
    assert_int_equal(picoacme_json_size(&j, 0), 7);
    assert_string_equal(gs(&j, 0, "newNonce"), "https://127.0.0.1:14000/nonce-plz");
    assert_string_equal(gs(&j, 0, "newAccount"), "https://127.0.0.1:14000/sign-me-up");
    assert_string_equal(gs(&j, 0, "newOrder"), "https://127.0.0.1:14000/order-plz");
    assert_string_equal(gs(&j, 0, "revokeCert"), "https://127.0.0.1:14000/revoke-cert");
    assert_string_equal(gs(&j, 0, "keyChange"), "https://127.0.0.1:14000/rollover-account-key");
    assert_string_equal(gs(&j, 0, "renewalInfo"),
                        "https://127.0.0.1:14000/draft-ietf-acme-ari-03/renewalInfo");

    int meta = picoacme_json_member(&j, 0, "meta");
    assert_int_equal(meta, 4);
    assert_int_equal(picoacme_json_size(&j, meta), 2);
    assert_string_equal(gs(&j, meta, "termsOfService"), "data:text/plain,Do%20what%20thou%20wilt");
    int ear = picoacme_json_member(&j, meta, "externalAccountRequired");
    assert_true(ear > meta);
    assert_false(picoacme_json_is_string(&j, ear));
    tok_text(&j, ear, txt, sizeof txt);
    assert_string_equal(txt, "false");

    /* a key of the nested object is not a member of the outer one */
    assert_int_equal(picoacme_json_member(&j, 0, "termsOfService"), -1);
    /* a value that equals a key name is not a key */
    assert_int_equal(picoacme_json_member(&j, meta, "false"), -1);
    char buf[64];
    size_t n = 7;
    assert_int_equal(picoacme_json_get_string(&j, 0, "newAuthz", buf, sizeof buf, &n),
                     PICOACME_ERR_NOT_FOUND);
    assert_int_equal(n, 0);
    assert_int_equal(picoacme_json_get_string(&j, 0, "meta", buf, sizeof buf, &n),
                     PICOACME_ERR_PARSE);
    assert_int_equal(
        picoacme_json_get_string(&j, meta, "externalAccountRequired", buf, sizeof buf, &n),
        PICOACME_ERR_PARSE);
    /* prefix / extension of a key does not match */
    assert_int_equal(picoacme_json_member(&j, 0, "newNon"), -1);
    assert_int_equal(picoacme_json_member(&j, 0, "newNonces"), -1);
    assert_int_equal(picoacme_json_member(&j, 0, ""), -1);
}

static void test_order(void **state)
{
    (void)state;
    picoacme_json_t j;

    assert_int_equal(parse_s(&j, k_order), PICOACME_OK);
    assert_string_equal(gs(&j, 0, "status"), "pending");
    assert_string_equal(gs(&j, 0, "finalize"),
                        "https://example.com/acme/order/TOlocE8rfgo/finalize");
    assert_string_equal(gs(&j, 0, "certificate"), "https://example.com/acme/cert/mAt3xBGaobw");

    int ids = picoacme_json_member(&j, 0, "identifiers");
    assert_int_equal(picoacme_json_size(&j, ids), 2);
    int id0 = picoacme_json_element(&j, ids, 0);
    int id1 = picoacme_json_element(&j, ids, 1);
    assert_int_equal(id0, ids + 1);
    assert_int_equal(id1, ids + 6);
    assert_string_equal(gs(&j, id0, "type"), "dns");
    assert_string_equal(gs(&j, id0, "value"), "www.example.org");
    assert_string_equal(gs(&j, id1, "type"), "ip");
    assert_string_equal(gs(&j, id1, "value"), "192.0.2.7");
    assert_int_equal(picoacme_json_element(&j, ids, 2), -1);
    assert_int_equal(picoacme_json_element(&j, ids, -1), -1);

    int az = picoacme_json_member(&j, 0, "authorizations");
    assert_int_equal(picoacme_json_size(&j, az), 2);
    char buf[128];
    size_t n;
    assert_int_equal(
        picoacme_json_string(&j, picoacme_json_element(&j, az, 0), buf, sizeof buf, &n),
        PICOACME_OK);
    assert_string_equal(buf, "https://example.com/acme/authz/PAniVnsZcis");
    assert_int_equal(
        picoacme_json_string(&j, picoacme_json_element(&j, az, 1), buf, sizeof buf, &n),
        PICOACME_OK);
    assert_string_equal(buf, "https://example.com/acme/authz/r4HqLzrSrpI");
    assert_int_equal(n, strlen(buf));

    /* wrong kinds */
    assert_int_equal(picoacme_json_element(&j, 0, 0), -1);   /* object */
    assert_int_equal(picoacme_json_member(&j, az, "x"), -1); /* array */
    assert_int_equal(picoacme_json_size(&j, picoacme_json_element(&j, az, 0)), -1);
    assert_int_equal(picoacme_json_size(&j, -1), -1);
    assert_int_equal(picoacme_json_size(&j, j.count), -1);
    assert_int_equal(picoacme_json_member(&j, -1, "status"), -1);
    assert_int_equal(picoacme_json_member(&j, j.count, "status"), -1);
    assert_false(picoacme_json_is_string(&j, j.count));
    assert_int_equal(picoacme_json_string(&j, j.count, buf, sizeof buf, &n), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_json_string(&j, az, buf, sizeof buf, &n), PICOACME_ERR_PARSE);
    assert_true(picoacme_json_string_eq(&j, picoacme_json_member(&j, 0, "status"), "pending"));
    assert_false(picoacme_json_string_eq(&j, picoacme_json_member(&j, 0, "status"), "pendin"));
    assert_false(picoacme_json_string_eq(&j, picoacme_json_member(&j, 0, "status"), "pendingx"));
    assert_false(picoacme_json_string_eq(&j, az, "pending"));
}

/* The engine's job: find the challenge of a type, skipping a nested error
 * object with subproblems in an earlier challenge. */
static void test_authz(void **state)
{
    (void)state;
    picoacme_json_t j;
    static const char *const types[] = {"http-01", "dns-01", "tls-alpn-01"};
    static const char *const tokens[] = {"DGyRejmCefe7v4NfDGDKfA",
                                         "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0",
                                         "IlirfxKKXAsHtmzK29Pj8A"};

    assert_int_equal(parse_s(&j, k_authz), PICOACME_OK);
    int idf = picoacme_json_member(&j, 0, "identifier");
    assert_string_equal(gs(&j, idf, "value"), "www.example.org");
    int ch = picoacme_json_member(&j, 0, "challenges");
    assert_int_equal(picoacme_json_size(&j, ch), 3);
    for (int t = 0; t < 3; t++) {
        int found = -1;
        for (int i = 0; i < picoacme_json_size(&j, ch); i++) {
            int c = picoacme_json_element(&j, ch, i);
            assert_true(c > ch);
            if (picoacme_json_string_eq(&j, picoacme_json_member(&j, c, "type"), types[t])) {
                found = c;
                break;
            }
        }
        assert_true(found > 0);
        assert_string_equal(gs(&j, found, "token"), tokens[t]);
    }
    int c0 = picoacme_json_element(&j, ch, 0);
    /* "status" of the challenge, not of the nested error (first at its level) */
    assert_string_equal(gs(&j, c0, "status"), "invalid");
    int err = picoacme_json_member(&j, c0, "error");
    assert_string_equal(gs(&j, err, "type"), "urn:ietf:params:acme:error:connection");
    int sub = picoacme_json_member(&j, err, "subproblems");
    int s0 = picoacme_json_element(&j, sub, 0);
    assert_string_equal(gs(&j, picoacme_json_member(&j, s0, "identifier"), "value"), "y");
    /* members after a nested subtree */
    int wc = picoacme_json_member(&j, 0, "wildcard");
    assert_true(wc > 0);
    assert_int_equal(wc, j.count - 1);
    assert_int_equal(picoacme_json_member(&j, 0, "token"), -1);
    assert_int_equal(picoacme_json_member(&j, 0, "subproblems"), -1);
}

static void test_problem(void **state)
{
    (void)state;
    picoacme_json_t j;
    char txt[16];

    assert_int_equal(parse_s(&j, k_problem), PICOACME_OK);
    assert_int_equal(j.count, 7);
    assert_string_equal(gs(&j, 0, "type"), "urn:ietf:params:acme:error:badNonce");
    assert_string_equal(gs(&j, 0, "detail"), "JWS has an invalid anti-replay nonce: \"zincFoo\"");
    int st = picoacme_json_member(&j, 0, "status");
    tok_text(&j, st, txt, sizeof txt);
    assert_string_equal(txt, "400");

    /* token exhaustion: 7 tokens needed */
    picoacme_json_tok_t t7[7];
    for (unsigned cap = 0; cap < 7; cap++) {
        assert_int_equal(picoacme_json_parse(&j, k_problem, strlen(k_problem), t7, cap),
                         PICOACME_ERR_NOSPACE);
        assert_int_equal(j.count, 0);
        assert_int_equal(picoacme_json_member(&j, 0, "type"), -1);
    }
    assert_int_equal(picoacme_json_parse(&j, k_problem, strlen(k_problem), t7, 7), PICOACME_OK);
    assert_int_equal(j.count, 7);
    assert_true(picoacme_json_string_eq(&j, picoacme_json_member(&j, 0, "type"),
                                        "urn:ietf:params:acme:error:badNonce"));
}

static void test_nested(void **state)
{
    (void)state;
    picoacme_json_t j;
    static const char doc[] =
        "{\"a\":{\"b\":{\"c\":[1,{\"d\":\"deep\"},[[],{}],\"s\"]},\"x\":[{\"e\":\"no\"}]},"
        "\"e\":\"after\",\"a\":\"second\",\"n\\u0061me\":\"esc\",\"\":\"empty\"}";

    assert_int_equal(parse_s(&j, doc), PICOACME_OK);
    int a = picoacme_json_member(&j, 0, "a");
    int b = picoacme_json_member(&j, a, "b");
    int c = picoacme_json_member(&j, b, "c");
    assert_int_equal(picoacme_json_size(&j, c), 4);
    int d = picoacme_json_element(&j, c, 1);
    assert_string_equal(gs(&j, d, "d"), "deep");
    int e2 = picoacme_json_element(&j, c, 2);
    assert_int_equal(picoacme_json_size(&j, e2), 2);
    assert_int_equal(picoacme_json_size(&j, picoacme_json_element(&j, e2, 0)), 0);
    assert_int_equal(picoacme_json_size(&j, picoacme_json_element(&j, e2, 1)), 0);
    assert_int_equal(picoacme_json_element(&j, picoacme_json_element(&j, e2, 0), 0), -1);
    assert_true(picoacme_json_string_eq(&j, picoacme_json_element(&j, c, 3), "s"));
    assert_string_equal(gs(&j, 0, "e"), "after");
    /* duplicate key: the first one wins */
    assert_int_equal(picoacme_json_member(&j, 0, "a"), a);
    /* escaped key matches its unescaped form */
    assert_string_equal(gs(&j, 0, "name"), "esc");
    assert_int_equal(picoacme_json_member(&j, 0, "n\\u0061me"), -1);
    assert_string_equal(gs(&j, 0, ""), "empty");

    /* a long array of nested objects: element i by skipping subtrees */
    static char big[64 * 1024];
    static picoacme_json_tok_t bt[8192];
    size_t len = 0;
    len += (size_t)sprintf(big + len, "[");
    for (int i = 0; i < 1000; i++) {
        len += (size_t)sprintf(big + len, "%s{\"i\":[%d,{\"v\":\"%d\"}]}", i ? "," : "", i, i);
    }
    len += (size_t)sprintf(big + len, "]");
    assert_int_equal(picoacme_json_parse(&j, big, len, bt, 8192), PICOACME_OK);
    assert_int_equal(j.count, 1 + 1000 * 7);
    assert_int_equal(picoacme_json_size(&j, 0), 1000);
    for (int i = 0; i < 1000; i += 37) {
        int el = picoacme_json_element(&j, 0, i);
        int arr = picoacme_json_member(&j, el, "i");
        char want[16];
        sprintf(want, "%d", i);
        assert_true(picoacme_json_string_eq(
            &j, picoacme_json_member(&j, picoacme_json_element(&j, arr, 1), "v"), want));
    }
    assert_int_equal(picoacme_json_element(&j, 0, 999), j.count - 7);
    assert_int_equal(picoacme_json_element(&j, 0, 1000), -1);
}

static void test_valid_edges(void **state)
{
    (void)state;
    picoacme_json_t j;
    static const char *const ok[] = {
        "{}",
        "[]",
        " \t\r\n{ } \r\n",
        "[1]",
        "[\"\"]",
        "{\"a\" : [ ] }",
        "[0,-0,1.5,-0.25e+10,1E-2,2e3,123456789012345678901234567890]",
        "[true,false,null]",
        "{\"\\u00e9\\ud83d\\ude00\":\"\xc3\xa9\xf0\x9f\x98\x80\"}",
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
        "[[[[[]]]]]",
        "[{},{},[]]",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(parse_s(&j, ok[i]), PICOACME_OK);
        assert_true(py_valid(ok[i], strlen(ok[i])));
    }
    assert_int_equal(parse_s(&j, "[true,false,null]"), PICOACME_OK);
    assert_int_equal(j.count, 4);
    assert_int_equal(picoacme_json_size(&j, 0), 3);
    /* an array at the top is allowed; the caller checks the type */
    assert_int_equal(picoacme_json_member(&j, 0, "a"), -1);

    /* nesting: 32 levels accepted, 33 refused */
    char deep[80];
    memset(deep, '[', 32);
    memset(deep + 32, ']', 32);
    assert_int_equal(picoacme_json_parse(&j, deep, 64, g_tok, NTOK), PICOACME_OK);
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    assert_int_equal(picoacme_json_parse(&j, deep, 66, g_tok, NTOK), PICOACME_ERR_PARSE);
}

static void test_invalid(void **state)
{
    (void)state;
    picoacme_json_t j;
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "}",
        "[",
        "]",
        "{]",
        "[}",
        "{\"a\":[1,2}",
        "{\"a\":{\"b\":1}",
        "[1,2]]",
        "{}}",
        "{} x",
        "{}{}",
        "{},",
        "{} []",
        "[] 1",
        "{}\"\"",
        "\"str\"",
        "1",
        "true",
        "null",
        "-", /* top level must be a container */
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":True}",
        "{\"a\":abc}",
        "{\"a\":truex}",
        "{\"a\":nan}",
        "{\"a\":Infinity}",
        "{a:1}",
        "{'a':1}",
        "{\"a\":'b'}",
        "{\"a\":1,}",
        "[1,]",
        "[,1]",
        "[,]",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "[1 2]",
        "[\"a\" \"b\"]",
        "{\"a\"}",
        "{\"a\":}",
        "{:1}",
        "{\"a\"::1}",
        "{1:2}",
        "{[]:1}",
        "{{}:1}",
        "[\"a\":1]",
        "[01]",
        "[1.]",
        "[.5]",
        "[-]",
        "[1e]",
        "[1e+]",
        "[+1]",
        "[0x10]",
        "[1.2.3]",
        "[--1]",
        "[1-2]",
        "[- 1]",
        "[\"\\x\"]",
        "[\"\\u12G4\"]",
        "[\"\\u12\"]",
        "[\"\\\"]",
        "[\"abc]",
        "[\"\\'\"]",
        "[\"a\tb\"]",
        "[\"a\nb\"]",
        "[\"\x1f\"]",
        "[\"\xc0\x80\"]",
        "[\"\xed\xa0\x80\"]",
        "[\"\xf5\x80\x80\x80\"]",
        "[\"\x80\"]",
        "[\"\xe2\x82\"]",
        "[\"\xf0\x8f\xbf\xbf\"]",
        "[\"\xff\"]",
        "\xef\xbb\xbf{}", /* BOM */
        "[\x7f]",
        "{\"a\":1}\x0b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j.count = 99;
        picoacme_err_t e = parse_s(&j, bad[i]);
        if (e != PICOACME_ERR_PARSE) {
            fail_msg("accepted or wrong code %d for bad[%zu] = %s", e, i, bad[i]);
        }
        assert_int_equal(j.count, 0);
        assert_int_equal(picoacme_json_member(&j, 0, "a"), -1);
        assert_int_equal(picoacme_json_size(&j, 0), -1);
    }
    /* an embedded NUL ends nothing: the whole length is JSON or it fails */
    assert_int_equal(picoacme_json_parse(&j, "{}\0", 3, g_tok, NTOK), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_json_parse(&j, "{\"a\":\"x\0\"}", 10, g_tok, NTOK),
                     PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_json_parse(&j, "{\"a\":1\0}", 8, g_tok, NTOK), PICOACME_ERR_PARSE);
    /* length bounds the text: a valid prefix is parsed, the rest not read */
    assert_int_equal(picoacme_json_parse(&j, "{}garbage", 2, g_tok, NTOK), PICOACME_OK);
    assert_int_equal(picoacme_json_parse(&j, NULL, 0, g_tok, NTOK), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_json_parse(&j, "{}", 2, NULL, 4), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_json_parse(NULL, "{}", 2, g_tok, 4), PICOACME_ERR_PARAM);

    /* every truncation of real documents fails */
    static const char *const docs[] = {k_directory, k_order, k_authz, k_problem};
    for (size_t d = 0; d < 4; d++) {
        size_t n = strlen(docs[d]);
        for (size_t cut = 0; cut < n; cut++) {
            assert_int_equal(picoacme_json_parse(&j, docs[d], cut, g_tok, NTOK),
                             PICOACME_ERR_PARSE);
        }
        assert_int_equal(picoacme_json_parse(&j, docs[d], n, g_tok, NTOK), PICOACME_OK);
        /* python agrees the full documents are JSON */
        assert_true(py_valid(docs[d], n));
    }
}

/* Our verdict matches python3's on each case (python run as the oracle):
 * the cases where the two grammars agree (python also accepts top-level
 * scalars, NaN and lone surrogates, so those are not listed). */
static void test_invalid_python_agrees(void **state)
{
    (void)state;
    picoacme_json_t j;
    static const char *const cases[] = {
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "[01]",
        "[1.]",
        "[\"\\x\"]",
        "{}{}",
        "[\"a\tb\"]",
        "{\"a\":[1,2}",
        "[1,2]]",
        "{\"a\":tru}",
        "{\"a\":-0.5e-3}",
        "[\"\\ud83d\\ude00\"]",
        "[ ]",
        "{\"a\":{\"b\":[{}]}}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool ours = parse_s(&j, cases[i]) == PICOACME_OK;
        assert_int_equal(ours, py_valid(cases[i], strlen(cases[i])));
    }
}

static void test_escapes(void **state)
{
    (void)state;
    picoacme_json_t j;
    char buf[64], hex[256];
    size_t n;
    static const char *const strs[] = {
        "\\\"\\\\\\/\\b\\f\\n\\r\\t",
        "\\u0041\\u00e9\\u00E9\\u20ac\\u20AC",
        "\\ud83d\\ude00x\\uD834\\uDD1E",
        "\\u007f\\u0080\\u07ff\\u0800\\uffff",
        "\\udbff\\udfff",
        "raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "\\u0001\\u001F",
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        char doc[128], want[256];
        snprintf(doc, sizeof doc, "{\"k\":\"%s\"}", strs[i]);
        assert_int_equal(parse_s(&j, doc), PICOACME_OK);
        assert_int_equal(picoacme_json_get_string(&j, 0, "k", buf, sizeof buf, &n), PICOACME_OK);
        bytes_hex(buf, n, hex);
        /* python3's decoding, as UTF-8 bytes */
        int st;
        const char *p = py("import json,sys; "
                           "sys.stdout.write(json.load(sys.stdin)[\"k\"]"
                           ".encode(\"utf-8\").hex())",
                           doc, strlen(doc), &st);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        snprintf(want, sizeof want, "%s", p);
        assert_string_equal(hex, want);
        /* string_eq honours the escapes */
        assert_true(picoacme_json_string_eq(&j, picoacme_json_member(&j, 0, "k"), buf));
    }
    /* known bytes, independent of python */
    assert_int_equal(parse_s(&j, "[\"\\ud83d\\ude00\\u20ac\\u00e9A\"]"), PICOACME_OK);
    assert_int_equal(picoacme_json_string(&j, 1, buf, sizeof buf, &n), PICOACME_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(buf,
                        "\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9"
                        "A",
                        11);

    /* rejected at unescape time: lone surrogates, \u0000 */
    static const char *const rej[] = {
        "[\"\\ud83d\"]",        "[\"\\ud83dx\"]",       "[\"\\ud83d\\u0041\"]", "[\"\\ude00\"]",
        "[\"\\ude00\\ud83d\"]", "[\"\\ud83d\\ud83d\"]", "[\"a\\u0000b\"]",      "[\"\\ud83d\\n\"]",
    };
    for (size_t i = 0; i < sizeof rej / sizeof rej[0]; i++) {
        assert_int_equal(parse_s(&j, rej[i]), PICOACME_OK);
        strcpy(buf, "junk");
        n = 5;
        assert_int_equal(picoacme_json_string(&j, 1, buf, sizeof buf, &n), PICOACME_ERR_PARSE);
        assert_string_equal(buf, "");
        assert_int_equal(n, 0);
        assert_false(picoacme_json_string_eq(&j, 1, ""));
        assert_false(picoacme_json_string_eq(&j, 1, "a"));
    }

    /* output space: exact fit needs len + 1; a UTF-8 sequence is never split */
    assert_int_equal(parse_s(&j, "[\"abcd\",\"\\u00e9\"]"), PICOACME_OK);
    assert_int_equal(picoacme_json_string(&j, 1, buf, 4, &n), PICOACME_ERR_NOSPACE);
    assert_string_equal(buf, "");
    assert_int_equal(picoacme_json_string(&j, 1, buf, 5, &n), PICOACME_OK);
    assert_string_equal(buf, "abcd");
    assert_int_equal(picoacme_json_string(&j, 2, buf, 2, &n), PICOACME_ERR_NOSPACE);
    assert_int_equal(picoacme_json_string(&j, 2, buf, 3, &n), PICOACME_OK);
    assert_int_equal(n, 2);
    assert_int_equal(picoacme_json_string(&j, 2, buf, 0, &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_json_string(&j, 2, NULL, 8, &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_json_string(&j, 2, buf, 3, NULL), PICOACME_OK);
}

/* ---- writer ---------------------------------------------------------------- */

static void expect_written(const picoacme_jw_t *wc, const char *want)
{
    picoacme_jw_t w = *wc;
    size_t n = 12345;
    assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(w.buf, want, n + 1); /* NUL-terminated */
    assert_true(py_valid(w.buf, n));
}

static void test_writer_acme(void **state)
{
    (void)state;
    char buf[512];
    picoacme_jw_t w;
    static const char c1[] = "mailto:admin@example.org";

    /* RFC 8555 §7.3 newAccount payload */
    picoacme_jw_init(&w, buf, sizeof buf);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "termsOfServiceAgreed");
    picoacme_jw_bool(&w, true);
    picoacme_jw_key(&w, "contact");
    picoacme_jw_arr_begin(&w);
    picoacme_jw_str(&w, c1, strlen(c1));
    picoacme_jw_str(&w, "mailto:b@example.org", 20);
    picoacme_jw_arr_end(&w);
    picoacme_jw_key(&w, "onlyReturnExisting");
    picoacme_jw_bool(&w, false);
    picoacme_jw_obj_end(&w);
    expect_written(&w, "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:admin@example.org\","
                       "\"mailto:b@example.org\"],\"onlyReturnExisting\":false}");

    /* RFC 8555 §7.4 newOrder with two identifiers, then a JWS with raw members */
    picoacme_jw_init(&w, buf, sizeof buf);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "identifiers");
    picoacme_jw_arr_begin(&w);
    for (int i = 0; i < 2; i++) {
        picoacme_jw_obj_begin(&w);
        picoacme_jw_key(&w, "type");
        picoacme_jw_str(&w, i ? "ip" : "dns", i ? 2 : 3);
        picoacme_jw_key(&w, "value");
        picoacme_jw_str(&w, i ? "192.0.2.7" : "a.example", 9);
        picoacme_jw_obj_end(&w);
    }
    picoacme_jw_arr_end(&w);
    picoacme_jw_key(&w, "jwk");
    picoacme_jw_raw(&w, "{\"crv\":\"P-256\",\"kty\":\"EC\"}", 26);
    picoacme_jw_key(&w, "empty");
    picoacme_jw_obj_begin(&w);
    picoacme_jw_obj_end(&w);
    picoacme_jw_key(&w, "none");
    picoacme_jw_arr_begin(&w);
    picoacme_jw_arr_end(&w);
    picoacme_jw_key(&w, "n");
    picoacme_jw_int(&w, 0);
    picoacme_jw_obj_end(&w);
    expect_written(&w, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"},"
                       "{\"type\":\"ip\",\"value\":\"192.0.2.7\"}],"
                       "\"jwk\":{\"crv\":\"P-256\",\"kty\":\"EC\"},\"empty\":{},\"none\":[],"
                       "\"n\":0}");

    /* raw values and ints as array elements */
    picoacme_jw_init(&w, buf, sizeof buf);
    picoacme_jw_arr_begin(&w);
    picoacme_jw_raw(&w, "null", 4);
    picoacme_jw_int(&w, INT64_MIN);
    picoacme_jw_int(&w, INT64_MAX);
    picoacme_jw_int(&w, -1);
    picoacme_jw_int(&w, 10);
    picoacme_jw_raw(&w, "[1,2]", 5);
    picoacme_jw_arr_end(&w);
    expect_written(&w, "[null,-9223372036854775808,9223372036854775807,-1,10,[1,2]]");

    /* our own parser reads what we wrote */
    picoacme_json_t j;
    assert_int_equal(picoacme_json_parse(&j, buf, w.len, g_tok, NTOK), PICOACME_OK);
    assert_int_equal(picoacme_json_size(&j, 0), 6);
}

static void test_writer_escape(void **state)
{
    (void)state;
    char buf[256], hex[512];
    picoacme_jw_t w;
    static const char s[] = "q\"b\\s/\x01\x1f\n\t\r\b\f\xc3\xa9\x7f";
    size_t slen = sizeof s - 1;

    picoacme_jw_init(&w, buf, sizeof buf);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "k\"\n");
    picoacme_jw_str(&w, s, slen);
    picoacme_jw_key(&w, "z");
    picoacme_jw_str(&w, "a\0b", 3); /* explicit length: NUL is data */
    picoacme_jw_key(&w, "e");
    picoacme_jw_str(&w, NULL, 0);
    picoacme_jw_obj_end(&w);
    expect_written(&w, "{\"k\\\"\\u000a\":\"q\\\"b\\\\s/\\u0001\\u001f\\u000a\\u0009\\u000d"
                       "\\u0008\\u000c\xc3\xa9\x7f\",\"z\":\"a\\u0000b\",\"e\":\"\"}");

    /* python decodes it back to the same bytes */
    int st;
    const char *p = py("import json,sys; d=json.load(sys.stdin); "
                       "sys.stdout.write(d[\"k\\\"\\n\"].encode(\"utf-8\").hex()+\" \"+"
                       "d[\"z\"].encode(\"utf-8\").hex())",
                       buf, w.len, &st);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    bytes_hex(s, slen, hex);
    strcat(hex, " 610062");
    assert_string_equal(p, hex);

    /* and so does ours (the NUL member aside, which we refuse to unescape) */
    picoacme_json_t j;
    char out[64];
    size_t n;
    assert_int_equal(picoacme_json_parse(&j, buf, w.len, g_tok, NTOK), PICOACME_OK);
    assert_int_equal(picoacme_json_get_string(&j, 0, "k\"\n", out, sizeof out, &n), PICOACME_OK);
    assert_int_equal(n, slen);
    assert_memory_equal(out, s, slen);
    assert_int_equal(picoacme_json_get_string(&j, 0, "z", out, sizeof out, &n), PICOACME_ERR_PARSE);
}

/* Commas at every depth: at each of 31 levels two values before and one
 * after the nested container. */
static void test_writer_depth(void **state)
{
    (void)state;
    static char buf[2048], want[2048];
    picoacme_jw_t w;
    size_t wl = 0;

    picoacme_jw_init(&w, buf, sizeof buf);
    for (int d = 0; d < 31; d++) {
        if (d % 2 == 0) {
            picoacme_jw_arr_begin(&w);
            picoacme_jw_int(&w, d);
            picoacme_jw_str(&w, "s", 1);
            wl += (size_t)sprintf(want + wl, "[%d,\"s\",", d);
        } else {
            picoacme_jw_obj_begin(&w);
            picoacme_jw_key(&w, "a");
            picoacme_jw_int(&w, d);
            picoacme_jw_key(&w, "b");
            picoacme_jw_bool(&w, true);
            picoacme_jw_key(&w, "c");
            wl += (size_t)sprintf(want + wl, "{\"a\":%d,\"b\":true,\"c\":", d);
        }
    }
    assert_int_equal(w.depth, 31);
    /* a 32nd level does not fit the comma bits */
    picoacme_jw_t w2 = w;
    picoacme_jw_arr_begin(&w2);
    assert_int_equal(w2.err, PICOACME_ERR_NOSPACE);
    size_t n = 1;
    assert_int_equal(picoacme_jw_finish(&w2, &n), PICOACME_ERR_NOSPACE);
    assert_int_equal(n, 0);

    picoacme_jw_int(&w, -7);
    wl += (size_t)sprintf(want + wl, "-7");
    for (int d = 30; d >= 0; d--) {
        if (d % 2 == 0) {
            picoacme_jw_arr_end(&w);
            wl += (size_t)sprintf(want + wl, "]");
        } else {
            picoacme_jw_obj_end(&w);
            wl += (size_t)sprintf(want + wl, "}");
        }
        if (d == 0) {
            break; /* nothing after the top-level value */
        }
        /* a sibling after the closed container, in its parent */
        if ((d - 1) % 2 == 0) {
            picoacme_jw_int(&w, d);
            wl += (size_t)sprintf(want + wl, ",%d", d);
        } else {
            picoacme_jw_key(&w, "z");
            picoacme_jw_int(&w, d);
            wl += (size_t)sprintf(want + wl, ",\"z\":%d", d);
        }
    }
    (void)wl;
    expect_written(&w, want);
    picoacme_json_t j;
    assert_int_equal(picoacme_json_parse(&j, buf, w.len, g_tok, NTOK), PICOACME_OK);
}

static void test_writer_bounds(void **state)
{
    (void)state;
    char buf[64];
    picoacme_jw_t w;
    size_t n;
    static const char want[] = "{\"a\":[1,\"xy\"]}";

    /* exact fit: content + NUL */
    for (size_t cap = 1; cap <= sizeof want; cap++) {
        memset(buf, 'Z', sizeof buf);
        picoacme_jw_init(&w, buf, cap);
        picoacme_jw_obj_begin(&w);
        picoacme_jw_key(&w, "a");
        picoacme_jw_arr_begin(&w);
        picoacme_jw_int(&w, 1);
        picoacme_jw_str(&w, "xy", 2);
        picoacme_jw_arr_end(&w);
        picoacme_jw_obj_end(&w);
        n = 99;
        if (cap == sizeof want) {
            assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_OK);
            assert_int_equal(n, sizeof want - 1);
            assert_string_equal(buf, want);
        } else {
            assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_ERR_NOSPACE);
            assert_int_equal(n, 0);
            assert_true(w.len < cap);
            assert_int_equal(buf[cap], 'Z'); /* nothing past cap */
            assert_int_equal(buf[w.len], '\0');
        }
    }

    /* sticky: after the first overflow nothing more is written, even what
     * would fit */
    picoacme_jw_init(&w, buf, 8);
    picoacme_jw_arr_begin(&w);
    picoacme_jw_str(&w, "toolongvalue", 12);
    assert_int_equal(w.err, PICOACME_ERR_NOSPACE);
    size_t at = w.len;
    picoacme_jw_int(&w, 1);
    picoacme_jw_raw(&w, "2", 1);
    picoacme_jw_bool(&w, true);
    picoacme_jw_key(&w, "k");
    picoacme_jw_arr_end(&w);
    picoacme_jw_arr_begin(&w);
    assert_int_equal(w.len, at);
    assert_int_equal(w.err, PICOACME_ERR_NOSPACE);
    assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_ERR_NOSPACE);
    /* an INT64_MIN that does not fit */
    picoacme_jw_init(&w, buf, 20);
    picoacme_jw_int(&w, INT64_MIN);
    assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_ERR_NOSPACE);
    picoacme_jw_init(&w, buf, 21);
    picoacme_jw_int(&w, INT64_MIN);
    assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_OK);
    assert_string_equal(buf, "-9223372036854775808");

    /* misuse */
    picoacme_jw_init(&w, buf, sizeof buf);
    picoacme_jw_obj_begin(&w);
    assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_ERR_PARAM); /* left open */
    picoacme_jw_init(&w, buf, sizeof buf);
    picoacme_jw_arr_end(&w);
    assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_ERR_PARAM);
    picoacme_jw_init(&w, NULL, 10);
    picoacme_jw_obj_begin(&w);
    assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_ERR_PARAM);
    picoacme_jw_init(&w, buf, 0);
    assert_int_equal(picoacme_jw_finish(&w, &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_jw_finish(NULL, &n), PICOACME_ERR_PARAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory),     cmocka_unit_test(test_order),
        cmocka_unit_test(test_authz),         cmocka_unit_test(test_problem),
        cmocka_unit_test(test_nested),        cmocka_unit_test(test_valid_edges),
        cmocka_unit_test(test_invalid),       cmocka_unit_test(test_invalid_python_agrees),
        cmocka_unit_test(test_escapes),       cmocka_unit_test(test_writer_acme),
        cmocka_unit_test(test_writer_escape), cmocka_unit_test(test_writer_depth),
        cmocka_unit_test(test_writer_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
