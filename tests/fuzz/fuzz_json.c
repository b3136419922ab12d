/*
 * fuzz_json.c - libFuzzer target for core/src/json_read.c.
 *
 * Parses the input, then walks every object member (by key, through
 * picoacme_json_member) and every array element, copies every string into
 * a small and a large buffer, and writes each string back through the
 * writer and parses it again. Aborts on any broken invariant:
 *   - the verdict does not depend on the token budget except as NOSPACE;
 *   - lookups return indices inside the parent's subtree;
 *   - a string that fits the large buffer fits the small one iff it is
 *     short enough, with the same bytes, and string_eq agrees;
 *   - writer output of a decoded string parses and decodes to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_json.h"

#define NTOK  512U
#define SMALL 16U
#define LARGE 4200U

static picoacme_json_tok_t g_tok[NTOK];
static picoacme_json_tok_t g_tok2[8];
static char g_small[SMALL];
static char g_large[LARGE];
static char g_out[2 * 6 * LARGE + 16];
static char g_back[LARGE];

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* First token after t's subtree (test-side, reads token offsets). */
static int after(const picoacme_json_t *j, int t)
{
    int n = t + 1;
    while (n < j->count && j->tok[n].start < j->tok[t].end) {
        n++;
    }
    return n;
}

static void check_string(const picoacme_json_t *j, int t)
{
    size_t n = 0, ns = 0;
    picoacme_err_t e = picoacme_json_string(j, t, g_large, sizeof g_large, &n);
    picoacme_err_t es = picoacme_json_string(j, t, g_small, sizeof g_small, &ns);

    if (e != PICOACME_OK) {
        CHECK(e == PICOACME_ERR_PARSE);
        CHECK(es == PICOACME_ERR_PARSE || es == PICOACME_ERR_NOSPACE);
        CHECK(g_large[0] == '\0' && n == 0);
        return;
    }
    CHECK(n < sizeof g_large && g_large[n] == '\0');
    if (n < sizeof g_small) {
        CHECK(es == PICOACME_OK && ns == n && memcmp(g_small, g_large, n + 1) == 0);
    } else {
        CHECK(es == PICOACME_ERR_NOSPACE && g_small[0] == '\0');
    }
    if (strlen(g_large) == n) {
        CHECK(picoacme_json_string_eq(j, t, g_large));
    }

    /* round trip through the writer */
    picoacme_jw_t w;
    picoacme_json_t j2;
    size_t wl = 0, bl = 0;
    picoacme_jw_init(&w, g_out, sizeof g_out);
    picoacme_jw_arr_begin(&w);
    picoacme_jw_str(&w, g_large, n);
    picoacme_jw_arr_end(&w);
    CHECK(picoacme_jw_finish(&w, &wl) == PICOACME_OK);
    CHECK(picoacme_json_parse(&j2, g_out, wl, g_tok2, 8) == PICOACME_OK);
    CHECK(j2.count == 2 && picoacme_json_size(&j2, 0) == 1);
    CHECK(picoacme_json_string(&j2, 1, g_back, sizeof g_back, &bl) == PICOACME_OK);
    CHECK(bl == n && memcmp(g_back, g_large, n) == 0);
}

static void walk(const picoacme_json_t *j)
{
    for (int t = 0; t < j->count; t++) {
        CHECK(j->tok[t].start >= 0 && j->tok[t].end >= j->tok[t].start);
        CHECK((size_t)j->tok[t].end <= j->len);
        if (picoacme_json_is_string(j, t)) {
            check_string(j, t);
            continue;
        }
        int sz = picoacme_json_size(j, t);
        if (sz < 0) {
            continue; /* primitive */
        }
        int end = after(j, t);
        if (picoacme_json_element(j, t, 0) >= 0 || sz == 0) {
            /* array */
            int prev = t;
            for (int i = 0; i < sz; i++) {
                int el = picoacme_json_element(j, t, i);
                CHECK(el > prev && el < end);
                prev = el;
            }
            CHECK(picoacme_json_element(j, t, sz) == -1);
            CHECK(picoacme_json_member(j, t, "") == -1);
        } else {
            /* object: keys by walking, values by lookup */
            int k = t + 1;
            for (int m = 0; m < sz; m++) {
                size_t kl = 0;
                CHECK(k + 1 < end && picoacme_json_is_string(j, k));
                if (picoacme_json_string(j, k, g_large, sizeof g_large, &kl) == PICOACME_OK &&
                    strlen(g_large) == kl) {
                    int v = picoacme_json_member(j, t, g_large);
                    /* first match wins: never later than this member */
                    CHECK(v > t && v <= k + 1);
                    CHECK(picoacme_json_string_eq(j, v - 1, g_large));
                }
                k = after(j, k + 1);
            }
            CHECK(k == end);
            CHECK(picoacme_json_element(j, t, 0) == -1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    picoacme_json_t j, js;
    const char *s = (const char *)data;
    picoacme_err_t e = picoacme_json_parse(&j, s, size, g_tok, NTOK);
    picoacme_err_t es = picoacme_json_parse(&js, s, size, g_tok2, 8);

    CHECK(e == PICOACME_OK || e == PICOACME_ERR_PARSE || e == PICOACME_ERR_NOSPACE);
    if (e == PICOACME_ERR_PARSE) {
        CHECK(es == PICOACME_ERR_PARSE);
    }
    if (e == PICOACME_OK) {
        CHECK(j.count >= 1 && (unsigned)j.count <= NTOK);
        CHECK(picoacme_json_size(&j, 0) >= 0);
        CHECK(es == (j.count <= 8 ? PICOACME_OK : PICOACME_ERR_NOSPACE));
        walk(&j);
    } else {
        CHECK(j.count == 0);
    }
    return 0;
}
