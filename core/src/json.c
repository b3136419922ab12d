/*
 * json.c - typed getters over jsmn tokens and a bounded JSON writer.
 *
 * Parsing is two passes over the untrusted text, both bounded and without
 * recursion:
 *   1. validate(): a strict RFC 8259 grammar check (numbers, literals,
 *      strings with their escapes, UTF-8, nesting up to
 *      PICOACME_JSON_MAX_DEPTH). jsmn, even in strict mode, accepts missing
 *      commas/colons, trailing commas, "tru" or "1.2.3" and stops at a NUL
 *      byte, so it is never trusted to reject bad input on its own.
 *   2. jsmn (Debian libjsmn-dev, JSMN_STRICT, private to this file) fills the
 *      caller's token array; it only has to run out of tokens to fail.
 *
 * Lookups walk tokens in document order and skip a nested value by its end
 * offset: the subtree of token t ends at the first later token whose start
 * is >= t's end.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_config_defaults.h"
#include "picoacme_json.h"

#define JSMN_STATIC
#define JSMN_STRICT
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#endif
#include <jsmn.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#ifdef JSMN_PARENT_LINKS
#error "picoacme_json_tok_t mirrors jsmntok_t without JSMN_PARENT_LINKS"
#endif

_Static_assert(sizeof(picoacme_json_tok_t) == sizeof(jsmntok_t),
               "picoacme_json_tok_t must match jsmntok_t");
/* With the AAPCS short enums of arm-none-eabi, jsmntype_t is one byte and
 * the rest of the int is padding; offsets and size still match. Every read
 * of a token goes through jsmntok_t in this file, so type is never read as
 * picoacme_json_tok_t.type. */
_Static_assert(sizeof(jsmntype_t) <= sizeof(int), "jsmntype_t wider than int");
_Static_assert(_Alignof(picoacme_json_tok_t) >= _Alignof(jsmntok_t),
               "picoacme_json_tok_t alignment");
_Static_assert(offsetof(picoacme_json_tok_t, type) == offsetof(jsmntok_t, type), "type offset");
_Static_assert(offsetof(picoacme_json_tok_t, start) == offsetof(jsmntok_t, start), "start offset");
_Static_assert(offsetof(picoacme_json_tok_t, end) == offsetof(jsmntok_t, end), "end offset");
_Static_assert(offsetof(picoacme_json_tok_t, size) == offsetof(jsmntok_t, size), "size offset");

/* Deepest nesting of objects/arrays accepted from the network. */
#ifndef PICOACME_JSON_MAX_DEPTH
#define PICOACME_JSON_MAX_DEPTH 32U
#endif
#if PICOACME_JSON_MAX_DEPTH < 1 || PICOACME_JSON_MAX_DEPTH > 64
#error "PICOACME_JSON_MAX_DEPTH must be 1..64"
#endif

/* Writer nesting: one need_comma bit per level 0..31. */
#define JW_MAX_DEPTH 31U

/* ---- strict validation (RFC 8259) -------------------------------------- */

#if PICOACME_JSON_STRICT
static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
#endif

#if PICOACME_JSON_STRICT
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
#endif

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Four hex digits at p[0..3] (n bytes available); -1 if not. */
static long hex4(const char *p, size_t n)
{
    long v = 0;
    size_t i;

    if (n < 4U) {
        return -1;
    }
    for (i = 0; i < 4U; i++) {
        int h = hex_val(p[i]);
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | h;
    }
    return v;
}

#if PICOACME_JSON_STRICT
/* Length of the well-formed UTF-8 sequence at p (RFC 3629 §4), 0 if bad. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    size_t i;

    if (c < 0x80U) {
        return 1;
    }
    if (c >= 0xC2U && c <= 0xDFU) {
        need = 2;
    } else if (c >= 0xE0U && c <= 0xEFU) {
        need = 3;
        if (c == 0xE0U) {
            lo = 0xA0; /* no overlong */
        } else if (c == 0xEDU) {
            hi = 0x9F; /* no surrogates */
        }
    } else if (c >= 0xF0U && c <= 0xF4U) {
        need = 4;
        if (c == 0xF0U) {
            lo = 0x90;
        } else if (c == 0xF4U) {
            hi = 0x8F; /* <= U+10FFFF */
        }
    } else {
        return 0;
    }
    if (n < need) {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (i = 2; i < need; i++) {
        if (p[i] < 0x80U || p[i] > 0xBFU) {
            return 0;
        }
    }
    return need;
}
#endif

/* RFC 8259 §7: the two-character escapes and what they stand for. */
static const char esc[] = "\"\\/bfnrt";
static const char esc_val[] = "\"\\/\b\f\n\r\t";

/* Position of c in esc, NULL if c (after a backslash) is not one of them. */
static const char *simple_escape(char c)
{
    return c == '\0' ? NULL : memchr(esc, c, sizeof esc - 1U);
}

#if PICOACME_JSON_STRICT
/* A string starting at the opening quote js[*pos]; *pos ends past the
 * closing quote. */
static bool scan_string(const char *js, size_t len, size_t *pos)
{
    size_t i = *pos + 1;

    while (i < len) {
        unsigned char c = (unsigned char)js[i];
        if (c == '"') {
            *pos = i + 1;
            return true;
        }
        if (c < 0x20U) {
            return false;
        }
        if (c == '\\') {
            if (i + 1 >= len) {
                return false;
            }
            if (js[i + 1] == 'u') {
                if (hex4(js + i + 2, len - (i + 2)) < 0) {
                    return false;
                }
                i += 6;
            } else if (simple_escape(js[i + 1]) != NULL) {
                i += 2;
            } else {
                return false;
            }
            continue;
        }
        {
            size_t l = utf8_len((const unsigned char *)js + i, len - i);
            if (l == 0) {
                return false;
            }
            i += l;
        }
    }
    return false;
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool scan_number(const char *js, size_t len, size_t *pos)
{
    size_t i = *pos;

    if (i < len && js[i] == '-') {
        i++;
    }
    if (i >= len || !is_digit(js[i])) {
        return false;
    }
    if (js[i] == '0') {
        i++;
    } else {
        while (i < len && is_digit(js[i])) {
            i++;
        }
    }
    if (i < len && js[i] == '.') {
        i++;
        if (i >= len || !is_digit(js[i])) {
            return false;
        }
        while (i < len && is_digit(js[i])) {
            i++;
        }
    }
    if (i < len && (js[i] == 'e' || js[i] == 'E')) {
        i++;
        if (i < len && (js[i] == '+' || js[i] == '-')) {
            i++;
        }
        if (i >= len || !is_digit(js[i])) {
            return false;
        }
        while (i < len && is_digit(js[i])) {
            i++;
        }
    }
    *pos = i;
    return true;
}

static bool scan_literal(const char *js, size_t len, size_t *pos, const char *lit)
{
    size_t n = strlen(lit);

    if (len - *pos < n || memcmp(js + *pos, lit, n) != 0) {
        return false;
    }
    *pos += n;
    return true;
}

enum vstate {
    V_VALUE,        /* a value is expected */
    V_VALUE_OR_END, /* after '[': a value or ']' */
    V_KEY,          /* after ',' in an object: a key */
    V_KEY_OR_END,   /* after '{': a key or '}' */
    V_COLON,        /* after a key */
    V_NEXT          /* after a value: ',' or the closer (or end of text) */
};

/* Whole text is exactly one JSON value (RFC 8259 §2), object or array at
 * the top, nesting bounded. */
static bool validate(const char *js, size_t len)
{
    uint64_t is_obj = 0; /* bit d set: level d is an object */
    unsigned depth = 0;
    enum vstate st = V_VALUE;
    size_t i = 0;

    for (;;) {
        while (i < len && is_ws(js[i])) {
            i++;
        }
        if (i >= len) {
            return st == V_NEXT && depth == 0;
        }
        if (st == V_NEXT && depth == 0) {
            return false; /* trailing garbage */
        }
        char c = js[i];
        switch (st) {
        case V_COLON:
            if (c != ':') {
                return false;
            }
            i++;
            st = V_VALUE;
            continue;
        case V_NEXT: {
            bool obj = ((is_obj >> (depth - 1U)) & 1U) != 0;
            if (c == ',') {
                i++;
                st = obj ? V_KEY : V_VALUE;
            } else if (c == (obj ? '}' : ']')) {
                i++;
                depth--;
                st = V_NEXT;
            } else {
                return false;
            }
            continue;
        }
        case V_KEY_OR_END:
        case V_KEY:
            if (st == V_KEY_OR_END && c == '}') {
                i++;
                depth--;
                st = V_NEXT;
                continue;
            }
            if (c != '"' || !scan_string(js, len, &i)) {
                return false;
            }
            st = V_COLON;
            continue;
        case V_VALUE_OR_END:
            if (c == ']') {
                i++;
                depth--;
                st = V_NEXT;
                continue;
            }
            break;
        case V_VALUE: break;
        }
        /* a value */
        if (c == '{' || c == '[') {
            if (depth >= PICOACME_JSON_MAX_DEPTH) {
                return false;
            }
            if (c == '{') {
                is_obj |= (uint64_t)1U << depth;
            } else {
                is_obj &= ~((uint64_t)1U << depth);
            }
            depth++;
            i++;
            st = c == '{' ? V_KEY_OR_END : V_VALUE_OR_END;
            continue;
        }
        if (depth == 0) {
            return false; /* top level must be an object or an array */
        }
        if (c == '"') {
            if (!scan_string(js, len, &i)) {
                return false;
            }
        } else if (c == 't') {
            if (!scan_literal(js, len, &i, "true")) {
                return false;
            }
        } else if (c == 'f') {
            if (!scan_literal(js, len, &i, "false")) {
                return false;
            }
        } else if (c == 'n') {
            if (!scan_literal(js, len, &i, "null")) {
                return false;
            }
        } else if (!scan_number(js, len, &i)) {
            return false;
        }
        st = V_NEXT;
    }
}
#endif

/* ---- tokens -------------------------------------------------------------- */

static const jsmntok_t *toks(const picoacme_json_t *j)
{
    return (const jsmntok_t *)(const void *)j->tok;
}

static bool tok_ok(const picoacme_json_t *j, int t)
{
    return j != NULL && j->tok != NULL && t >= 0 && t < j->count;
}

/* Index of the first token after t's subtree. */
static int skip(const picoacme_json_t *j, int t)
{
    const jsmntok_t *tk = toks(j);
    int end = tk[t].end;
    int n = t + 1;

    while (n < j->count && tk[n].start < end) {
        n++;
    }
    return n;
}

picoacme_err_t picoacme_json_parse(picoacme_json_t *j, const char *js, size_t len,
                                   picoacme_json_tok_t *tok, unsigned cap)
{
    jsmn_parser p;
    int r;

    if (j == NULL) {
        return PICOACME_ERR_PARAM;
    }
    j->js = js;
    j->len = 0;
    j->tok = tok;
    j->count = 0;
    if ((js == NULL && len != 0) || tok == NULL || cap > (unsigned)INT_MAX) {
        return PICOACME_ERR_PARAM;
    }
    if (len > (size_t)INT_MAX) {
        return PICOACME_ERR_NOSPACE;
    }
#if PICOACME_JSON_STRICT
    if (len == 0 || !validate(js, len)) {
        return PICOACME_ERR_PARSE;
    }
#else
    /* jsmn alone (JSMN_STRICT): bounded, but it would stop at a NUL byte */
    if (len == 0 || memchr(js, 0, len) != NULL) {
        return PICOACME_ERR_PARSE;
    }
#endif
    jsmn_init(&p);
    r = jsmn_parse(&p, js, len, (jsmntok_t *)(void *)tok, cap);
    if (r == JSMN_ERROR_NOMEM) {
        return PICOACME_ERR_NOSPACE;
    }
    if (r < 1 || (unsigned)r > cap) {
        return PICOACME_ERR_PARSE;
    }
    {
        const jsmntok_t *tk = (const jsmntok_t *)(const void *)tok;
        if ((tk[0].type != JSMN_OBJECT && tk[0].type != JSMN_ARRAY) || tk[0].start < 0 ||
            tk[0].end < tk[0].start) {
            return PICOACME_ERR_PARSE;
        }
    }
    j->len = len;
    j->count = r;
    return PICOACME_OK;
}

int picoacme_json_member(const picoacme_json_t *j, int obj, const char *key)
{
    const jsmntok_t *tk;
    int n, k, i;

    if (!tok_ok(j, obj) || key == NULL) {
        return -1;
    }
    tk = toks(j);
    if (tk[obj].type != JSMN_OBJECT) {
        return -1;
    }
    n = tk[obj].size;
    i = obj + 1;
    for (k = 0; k < n; k++) {
        if (i + 1 >= j->count || tk[i].type != JSMN_STRING) {
            return -1;
        }
        if (picoacme_json_string_eq(j, i, key)) {
            return i + 1; /* first match wins */
        }
        i = skip(j, i + 1);
    }
    return -1;
}

int picoacme_json_element(const picoacme_json_t *j, int arr, int i)
{
    const jsmntok_t *tk;
    int n, k;

    if (!tok_ok(j, arr)) {
        return -1;
    }
    tk = toks(j);
    if (tk[arr].type != JSMN_ARRAY || i < 0 || i >= tk[arr].size) {
        return -1;
    }
    n = arr + 1;
    for (k = 0; k < i && n < j->count; k++) {
        n = skip(j, n);
    }
    return n < j->count ? n : -1;
}

int picoacme_json_size(const picoacme_json_t *j, int t)
{
    const jsmntok_t *tk;

    if (!tok_ok(j, t)) {
        return -1;
    }
    tk = toks(j);
    if (tk[t].type != JSMN_OBJECT && tk[t].type != JSMN_ARRAY) {
        return -1;
    }
    return tk[t].size;
}

bool picoacme_json_is_string(const picoacme_json_t *j, int t)
{
    return tok_ok(j, t) && toks(j)[t].type == JSMN_STRING;
}

bool picoacme_json_is_object(const picoacme_json_t *j, int t)
{
    return tok_ok(j, t) && toks(j)[t].type == JSMN_OBJECT;
}

bool picoacme_json_is_true(const picoacme_json_t *j, int t)
{
    const jsmntok_t *tk;

    if (!tok_ok(j, t) || j->js == NULL) {
        return false;
    }
    tk = &toks(j)[t];
    return tk->type == JSMN_PRIMITIVE && tk->end - tk->start == 4 &&
           memcmp(j->js + tk->start, "true", 4U) == 0;
}

/* Bounds of string token t inside j->js, false if t is not a sane string. */
static bool str_span(const picoacme_json_t *j, int t, const char **p, size_t *n)
{
    const jsmntok_t *tk;

    if (!tok_ok(j, t) || j->js == NULL) {
        return false;
    }
    tk = toks(j);
    if (tk[t].type != JSMN_STRING || tk[t].start < 0 || tk[t].end < tk[t].start ||
        (size_t)tk[t].end > j->len) {
        return false;
    }
    *p = j->js + tk[t].start;
    *n = (size_t)(tk[t].end - tk[t].start);
    return true;
}

/* Decode one character of a JSON string body at p (n bytes left) into its
 * UTF-8 bytes out[0..3]. Returns the number of output bytes (1..4) and sets
 * *used, or 0 on a bad escape, lone surrogate, \u0000 or control char.
 * RFC 8259 §7. */
static size_t decode_char(const char *p, size_t n, unsigned char out[4], size_t *used)
{
    unsigned char c = (unsigned char)p[0];
    long cp, lo;

    if (c < 0x20U) {
        return 0;
    }
    if (c != '\\') {
        out[0] = c;
        *used = 1;
        return 1;
    }
    if (n < 2U) {
        return 0;
    }
    *used = 2;
    if (p[1] != 'u') {
        const char *e = simple_escape(p[1]);
        if (e == NULL) {
            return 0;
        }
        out[0] = (unsigned char)esc_val[e - esc];
        return 1;
    }
    cp = hex4(p + 2, n - 2U);
    if (cp <= 0) {
        return 0; /* bad hex or \u0000 */
    }
    *used = 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return 0; /* lone low surrogate */
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (n < 12U || p[6] != '\\' || p[7] != 'u') {
            return 0;
        }
        lo = hex4(p + 8, n - 8U);
        if (lo < 0xDC00 || lo > 0xDFFF) {
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        *used = 12;
    }
    size_t k = cp < 0x80 ? 1U : cp < 0x800 ? 2U : cp < 0x10000 ? 3U : 4U;
    for (size_t i = k - 1U; i > 0U; i--) {
        out[i] = (unsigned char)(0x80 | (cp & 0x3F));
        cp >>= 6;
    }
    /* lead byte: 0xxxxxxx, 110xxxxx, 1110xxxx or 11110xxx */
    out[0] = (unsigned char)(k == 1U ? cp : (0xF00 >> k) | cp);
    return k;
}

picoacme_err_t picoacme_json_string(const picoacme_json_t *j, int t, char *out, size_t cap,
                                    size_t *out_len)
{
    const char *p;
    size_t n, i = 0, o = 0;

    if (out_len != NULL) {
        *out_len = 0;
    }
    if (out == NULL || cap == 0) {
        return PICOACME_ERR_PARAM;
    }
    out[0] = '\0';
    if (!str_span(j, t, &p, &n)) {
        return PICOACME_ERR_PARSE;
    }
    while (i < n) {
        unsigned char b[4];
        size_t used = 0;
        size_t k = decode_char(p + i, n - i, b, &used);
        if (k == 0) {
            out[0] = '\0';
            return PICOACME_ERR_PARSE;
        }
        if (cap - 1U - o < k) {
            out[0] = '\0';
            return PICOACME_ERR_NOSPACE;
        }
        memcpy(out + o, b, k);
        o += k;
        i += used;
    }
    out[o] = '\0';
    if (out_len != NULL) {
        *out_len = o;
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_json_get_string(const picoacme_json_t *j, int obj, const char *key,
                                        char *out, size_t cap, size_t *out_len)
{
    int v = picoacme_json_member(j, obj, key);

    if (v < 0) {
        if (out_len != NULL) {
            *out_len = 0;
        }
        if (out != NULL && cap > 0) {
            out[0] = '\0';
        }
        return PICOACME_ERR_NOT_FOUND;
    }
    return picoacme_json_string(j, v, out, cap, out_len);
}

bool picoacme_json_string_eq(const picoacme_json_t *j, int t, const char *s)
{
    const char *p;
    size_t n, i = 0, si = 0, slen;

    if (s == NULL || !str_span(j, t, &p, &n)) {
        return false;
    }
    slen = strlen(s);
    while (i < n) {
        unsigned char b[4];
        size_t used = 0;
        size_t k = decode_char(p + i, n - i, b, &used);
        if (k == 0 || slen - si < k || memcmp(s + si, b, k) != 0) {
            return false;
        }
        si += k;
        i += used;
    }
    return si == slen;
}

/* ---- writer -------------------------------------------------------------- */
/* The buffer is kept NUL-terminated, so content is at most cap - 1 bytes. */

static bool jw_live(const picoacme_jw_t *w)
{
    return w != NULL && w->err == PICOACME_OK;
}

static void jw_put(picoacme_jw_t *w, const char *s, size_t n)
{
    if (!jw_live(w)) {
        return;
    }
    if (w->cap - 1U - w->len < n) {
        w->err = PICOACME_ERR_NOSPACE;
        return;
    }
    if (n != 0) {
        memcpy(w->buf + w->len, s, n);
    }
    w->len += n;
    w->buf[w->len] = '\0';
}

static void jw_putc(picoacme_jw_t *w, char c)
{
    jw_put(w, &c, 1);
}

static uint32_t jw_bit(const picoacme_jw_t *w)
{
    return (uint32_t)1U << w->depth;
}

/* Before a value at the current level: comma if a sibling came before;
 * afterwards the level has a sibling. */
static void jw_value_prefix(picoacme_jw_t *w)
{
    if (!jw_live(w)) {
        return;
    }
    if ((w->need_comma & jw_bit(w)) != 0) {
        jw_putc(w, ',');
    }
    w->need_comma |= jw_bit(w);
}

static void jw_escaped(picoacme_jw_t *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    jw_putc(w, '"');
    for (i = 0; i < len && jw_live(w); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20U && c != '"' && c != '\\') {
            continue;
        }
        jw_put(w, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            jw_put(w, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0FU]};
            jw_put(w, e, 6);
        }
    }
    jw_put(w, s + run, len - run);
    jw_putc(w, '"');
}

void picoacme_jw_init(picoacme_jw_t *w, char *buf, size_t cap)
{
    if (w == NULL) {
        return;
    }
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->depth = 0;
    w->need_comma = 0;
    if (buf == NULL || cap == 0) {
        w->err = PICOACME_ERR_PARAM;
        return;
    }
    w->err = PICOACME_OK;
    buf[0] = '\0';
}

static void jw_begin(picoacme_jw_t *w, char c)
{
    if (!jw_live(w)) {
        return;
    }
    if (w->depth >= JW_MAX_DEPTH) {
        w->err = PICOACME_ERR_NOSPACE;
        return;
    }
    jw_value_prefix(w);
    jw_putc(w, c);
    if (!jw_live(w)) {
        return;
    }
    w->depth++;
    w->need_comma &= ~jw_bit(w);
}

static void jw_end(picoacme_jw_t *w, char c)
{
    if (!jw_live(w)) {
        return;
    }
    if (w->depth == 0) {
        w->err = PICOACME_ERR_PARAM;
        return;
    }
    jw_putc(w, c);
    if (!jw_live(w)) {
        return;
    }
    w->need_comma &= ~jw_bit(w);
    w->depth--;
}

void picoacme_jw_obj_begin(picoacme_jw_t *w)
{
    jw_begin(w, '{');
}

void picoacme_jw_obj_end(picoacme_jw_t *w)
{
    jw_end(w, '}');
}

void picoacme_jw_arr_begin(picoacme_jw_t *w)
{
    jw_begin(w, '[');
}

void picoacme_jw_arr_end(picoacme_jw_t *w)
{
    jw_end(w, ']');
}

void picoacme_jw_key(picoacme_jw_t *w, const char *key)
{
    if (!jw_live(w)) {
        return;
    }
    if (key == NULL) {
        w->err = PICOACME_ERR_PARAM;
        return;
    }
    jw_value_prefix(w);
    jw_escaped(w, key, strlen(key));
    jw_putc(w, ':');
    /* the value that follows takes no comma */
    w->need_comma &= ~jw_bit(w);
}

void picoacme_jw_str(picoacme_jw_t *w, const char *s, size_t len)
{
    if (!jw_live(w)) {
        return;
    }
    if (s == NULL && len != 0) {
        w->err = PICOACME_ERR_PARAM;
        return;
    }
    jw_value_prefix(w);
    jw_escaped(w, s == NULL ? "" : s, len);
}

void picoacme_jw_bool(picoacme_jw_t *w, bool v)
{
    jw_value_prefix(w);
    if (v) {
        jw_put(w, "true", 4);
    } else {
        jw_put(w, "false", 5);
    }
}

void picoacme_jw_int(picoacme_jw_t *w, int64_t v)
{
    char d[20]; /* 18446744073709551616 has 20 digits; |INT64_MIN| 19 */
    size_t n = 0;
    uint64_t u;

    /* magnitude without overflowing on INT64_MIN */
    u = v < 0 ? (uint64_t)(-(v + 1)) + 1U : (uint64_t)v;
    do {
        d[sizeof d - 1U - n] = (char)('0' + (int)(u % 10U));
        n++;
        u /= 10U;
    } while (u != 0);
    jw_value_prefix(w);
    if (v < 0) {
        jw_putc(w, '-');
    }
    jw_put(w, d + sizeof d - n, n);
}

void picoacme_jw_raw(picoacme_jw_t *w, const char *s, size_t len)
{
    if (!jw_live(w)) {
        return;
    }
    if (s == NULL && len != 0) {
        w->err = PICOACME_ERR_PARAM;
        return;
    }
    jw_value_prefix(w);
    jw_put(w, s, len);
}

picoacme_err_t picoacme_jw_finish(picoacme_jw_t *w, size_t *len)
{
    if (len != NULL) {
        *len = 0;
    }
    if (w == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (w->err != PICOACME_OK) {
        return w->err;
    }
    if (w->depth != 0) {
        return PICOACME_ERR_PARAM; /* an object or array left open */
    }
    if (len != NULL) {
        *len = w->len;
    }
    return PICOACME_OK;
}
