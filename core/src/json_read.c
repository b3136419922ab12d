/*
 * json_read.c - the JSON reader: a strict RFC 8259 check, jsmn tokens and
 * typed getters over them (the writer is json_write.c).
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
#include "util.h"

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

/* Four hex digits at p[0..3] (n bytes available); -1 if not. */
static long hex4(const char *p, size_t n)
{
    long v = 0;

    if (n < 4U) {
        return -1;
    }
    for (size_t i = 0; i < 4U; i++) {
        int h = util_hex_val(p[i]);
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | h;
    }
    return v;
}

/* RFC 8259 §7: the two-character escapes and what they stand for. */
static const char esc[] = "\"\\/bfnrt";
static const char esc_val[] = "\"\\/\b\f\n\r\t";

/* Position of c in esc, NULL if c (after a backslash) is not one of them. */
static const char *simple_escape(char c)
{
    return c == '\0' ? NULL : memchr(esc, c, sizeof esc - 1U);
}

/* ---- strict validation (RFC 8259) -------------------------------------- */

#if PICOACME_JSON_STRICT
static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* RFC 3629 §4: the lead bytes of multi-byte sequences, the sequence length
 * and the range of the second byte (no overlongs, no surrogates, nothing
 * above U+10FFFF); later bytes are 80..BF. */
static const struct utf8_row {
    uint8_t first, last, need, lo, hi;
} utf8_rows[] = {
    {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
    {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
    {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
};

/* Length of the well-formed UTF-8 sequence at p (n >= 1 bytes), 0 if bad. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80U) {
        return 1;
    }
    for (size_t r = 0; r < sizeof utf8_rows / sizeof utf8_rows[0]; r++) {
        const struct utf8_row *u = &utf8_rows[r];
        if (p[0] < u->first || p[0] > u->last) {
            continue;
        }
        if (n < u->need || p[1] < u->lo || p[1] > u->hi) {
            return 0;
        }
        for (size_t i = 2; i < u->need; i++) {
            if (p[i] < 0x80U || p[i] > 0xBFU) {
                return 0;
            }
        }
        return u->need;
    }
    return 0;
}

/* Length of the escape at p[0] == '\\' (n bytes left), 0 if bad. */
static size_t escape_len(const char *p, size_t n)
{
    if (n < 2U) {
        return 0;
    }
    if (p[1] == 'u') {
        return hex4(p + 2, n - 2U) < 0 ? 0U : 6U;
    }
    return simple_escape(p[1]) != NULL ? 2U : 0U;
}

/* A string starting at the opening quote js[*pos]; *pos ends past the
 * closing quote. */
static bool scan_string(const char *js, size_t len, size_t *pos)
{
    size_t i = *pos + 1;

    while (i < len) {
        unsigned char c = (unsigned char)js[i];
        size_t l;
        if (c == '"') {
            *pos = i + 1;
            return true;
        }
        if (c < 0x20U) {
            return false;
        }
        if (c == '\\') {
            l = escape_len(js + i, len - i);
        } else {
            l = utf8_len((const unsigned char *)js + i, len - i);
        }
        if (l == 0) {
            return false;
        }
        i += l;
    }
    return false;
}

/* One or more digits from *pos; *pos ends past them. */
static bool scan_digits(const char *js, size_t len, size_t *pos)
{
    size_t i = *pos;

    while (i < len && util_is_digit(js[i])) {
        i++;
    }
    if (i == *pos) {
        return false;
    }
    *pos = i;
    return true;
}

/* An optional number part at *pos: the marker m1 or m2, a sign when
 * with_sign, then one or more digits. */
static bool scan_part(const char *js, size_t len, size_t *pos, char m1, char m2, bool with_sign)
{
    size_t i = *pos;

    if (i >= len || (js[i] != m1 && js[i] != m2)) {
        return true; /* absent */
    }
    i++;
    if (with_sign && i < len && (js[i] == '+' || js[i] == '-')) {
        i++;
    }
    *pos = i;
    return scan_digits(js, len, pos);
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool scan_number(const char *js, size_t len, size_t *pos)
{
    size_t i = *pos;

    if (i < len && js[i] == '-') {
        i++;
    }
    if (i < len && js[i] == '0') {
        i++;
    } else if (!scan_digits(js, len, &i)) {
        return false;
    }
    if (!scan_part(js, len, &i, '.', '.', false) || !scan_part(js, len, &i, 'e', 'E', true)) {
        return false;
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

/* A string, literal or number at js[*pos]. */
static bool scan_scalar(const char *js, size_t len, size_t *pos)
{
    switch (js[*pos]) {
    case '"': return scan_string(js, len, pos);
    case 't': return scan_literal(js, len, pos, "true");
    case 'f': return scan_literal(js, len, pos, "false");
    case 'n': return scan_literal(js, len, pos, "null");
    default: return scan_number(js, len, pos);
    }
}

enum vstate {
    V_VALUE,        /* a value is expected */
    V_VALUE_OR_END, /* after '[': a value or ']' */
    V_KEY,          /* after ',' in an object: a key */
    V_KEY_OR_END,   /* after '{': a key or '}' */
    V_COLON,        /* after a key */
    V_NEXT          /* after a value: ',' or the closer (or end of text) */
};

/* The validator: where it is in the text and in the nesting. */
typedef struct vstate_s {
    const char *js;
    size_t len;
    size_t i;
    uint64_t is_obj; /* bit d set: level d is an object */
    unsigned depth;
    enum vstate st;
} val_t;

static bool in_object(const val_t *v)
{
    return ((v->is_obj >> (v->depth - 1U)) & 1U) != 0;
}

/* '{' or '[' at v->i: one level deeper. */
static bool v_open(val_t *v, char c)
{
    uint64_t bit = (uint64_t)1U << v->depth;

    if (v->depth >= PICOACME_JSON_MAX_DEPTH) {
        return false;
    }
    v->is_obj = c == '{' ? v->is_obj | bit : v->is_obj & ~bit;
    v->depth++;
    v->i++;
    v->st = c == '{' ? V_KEY_OR_END : V_VALUE_OR_END;
    return true;
}

/* The closer of the current level at v->i. */
static bool v_close(val_t *v)
{
    v->i++;
    v->depth--;
    v->st = V_NEXT;
    return true;
}

/* A value at v->i. */
static bool v_value(val_t *v, char c)
{
    if (c == '{' || c == '[') {
        return v_open(v, c);
    }
    if (v->depth == 0) {
        return false; /* top level must be an object or an array */
    }
    v->st = V_NEXT;
    return scan_scalar(v->js, v->len, &v->i);
}

/* After a value: ',' or the closer of the current level. */
static bool v_next(val_t *v, char c)
{
    bool obj = in_object(v);

    if (c == ',') {
        v->i++;
        v->st = obj ? V_KEY : V_VALUE;
        return true;
    }
    return c == (obj ? '}' : ']') && v_close(v);
}

/* A member name, then a colon is expected. */
static bool v_key(val_t *v, char c)
{
    v->st = V_COLON;
    return c == '"' && scan_string(v->js, v->len, &v->i);
}

/* One step of the grammar at the non-blank character c = js[v->i]. */
static bool v_step(val_t *v, char c)
{
    switch (v->st) {
    case V_COLON:
        v->i++;
        v->st = V_VALUE;
        return c == ':';
    case V_NEXT: return v_next(v, c);
    case V_KEY_OR_END: return c == '}' ? v_close(v) : v_key(v, c);
    case V_KEY: return v_key(v, c);
    case V_VALUE_OR_END: return c == ']' ? v_close(v) : v_value(v, c);
    default: return v_value(v, c);
    }
}

/* Whole text is exactly one JSON value (RFC 8259 §2), object or array at
 * the top, nesting bounded. */
static bool validate(const char *js, size_t len)
{
    val_t v = {js, len, 0, 0, 0, V_VALUE};

    for (;;) {
        while (v.i < len && is_ws(js[v.i])) {
            v.i++;
        }
        if (v.i >= len) {
            return v.st == V_NEXT && v.depth == 0;
        }
        if (v.st == V_NEXT && v.depth == 0) {
            return false; /* trailing garbage */
        }
        if (!v_step(&v, js[v.i])) {
            return false;
        }
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

static bool tok_is(const picoacme_json_t *j, int t, jsmntype_t type)
{
    return tok_ok(j, t) && toks(j)[t].type == type;
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

/* The grammar check before jsmn sees the text. */
static picoacme_err_t text_check(const char *js, size_t len)
{
    if (len > (size_t)INT_MAX) {
        return PICOACME_ERR_NOSPACE;
    }
#if PICOACME_JSON_STRICT
    bool ok = len != 0 && validate(js, len);
#else
    /* jsmn alone (JSMN_STRICT): bounded, but it would stop at a NUL byte */
    bool ok = len != 0 && memchr(js, 0, len) == NULL;
#endif
    return ok ? PICOACME_OK : PICOACME_ERR_PARSE;
}

/* jsmn over the checked text into tok[0, cap); *count gets the tokens used. */
static picoacme_err_t tokenize(const char *js, size_t len, picoacme_json_tok_t *tok, unsigned cap,
                               int *count)
{
    jsmn_parser p;
    const jsmntok_t *tk = (const jsmntok_t *)(const void *)tok;
    int r;

    jsmn_init(&p);
    r = jsmn_parse(&p, js, len, (jsmntok_t *)(void *)tok, cap);
    if (r == JSMN_ERROR_NOMEM) {
        return PICOACME_ERR_NOSPACE;
    }
    if (r < 1 || (unsigned)r > cap || (tk[0].type != JSMN_OBJECT && tk[0].type != JSMN_ARRAY) ||
        tk[0].start < 0 || tk[0].end < tk[0].start) {
        return PICOACME_ERR_PARSE;
    }
    *count = r;
    return PICOACME_OK;
}

picoacme_err_t picoacme_json_parse(picoacme_json_t *j, const char *js, size_t len,
                                   picoacme_json_tok_t *tok, unsigned cap)
{
    picoacme_err_t e;
    int r = 0;

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
    e = text_check(js, len);
    if (e != PICOACME_OK) {
        return e;
    }
    e = tokenize(js, len, tok, cap, &r);
    if (e != PICOACME_OK) {
        return e;
    }
    j->len = len;
    j->count = r;
    return PICOACME_OK;
}

int picoacme_json_member(const picoacme_json_t *j, int obj, const char *key)
{
    const jsmntok_t *tk;
    int n, k, i;

    if (key == NULL || !tok_is(j, obj, JSMN_OBJECT)) {
        return -1;
    }
    tk = toks(j);
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
    int n, k;

    if (!tok_is(j, arr, JSMN_ARRAY) || i < 0 || i >= toks(j)[arr].size) {
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
    if (!tok_is(j, t, JSMN_OBJECT) && !tok_is(j, t, JSMN_ARRAY)) {
        return -1;
    }
    return toks(j)[t].size;
}

bool picoacme_json_is_string(const picoacme_json_t *j, int t)
{
    return tok_is(j, t, JSMN_STRING);
}

bool picoacme_json_is_object(const picoacme_json_t *j, int t)
{
    return tok_is(j, t, JSMN_OBJECT);
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

    if (!tok_is(j, t, JSMN_STRING) || j->js == NULL) {
        return false;
    }
    tk = toks(j);
    if (tk[t].start < 0 || tk[t].end < tk[t].start || (size_t)tk[t].end > j->len) {
        return false;
    }
    *p = j->js + tk[t].start;
    *n = (size_t)(tk[t].end - tk[t].start);
    return true;
}

/* UTF-8 of code point cp (1..0x10FFFF) into out; the number of bytes. */
static size_t utf8_put(long cp, unsigned char out[4])
{
    size_t k = cp < 0x80 ? 1U : cp < 0x800 ? 2U : cp < 0x10000 ? 3U : 4U;

    for (size_t i = k - 1U; i > 0U; i--) {
        out[i] = (unsigned char)(0x80 | (cp & 0x3F));
        cp >>= 6;
    }
    /* lead byte: 0xxxxxxx, 110xxxxx, 1110xxxx or 11110xxx */
    out[0] = (unsigned char)(k == 1U ? cp : (0xF00 >> k) | cp);
    return k;
}

/* The code point of the \uXXXX escape at p (n bytes left), with the low
 * half that must follow a high surrogate; 0 on bad hex, \u0000 or a lone
 * surrogate. *used gets the bytes read. */
static long unicode_escape(const char *p, size_t n, size_t *used)
{
    long cp = hex4(p + 2, n - 2U);
    long lo;

    *used = 6;
    if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) {
        return 0; /* bad hex, \u0000 or a lone low surrogate */
    }
    if (cp < 0xD800 || cp > 0xDBFF) {
        return cp;
    }
    if (n < 12U || p[6] != '\\' || p[7] != 'u') {
        return 0;
    }
    lo = hex4(p + 8, n - 8U);
    if (lo < 0xDC00 || lo > 0xDFFF) {
        return 0;
    }
    *used = 12;
    return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
}

/* Decode one character of a JSON string body at p (n bytes left) into its
 * UTF-8 bytes out[0..3]. Returns the number of output bytes (1..4) and sets
 * *used, or 0 on a bad escape, lone surrogate, \u0000 or control char.
 * RFC 8259 §7. */
static size_t decode_char(const char *p, size_t n, unsigned char out[4], size_t *used)
{
    unsigned char c = (unsigned char)p[0];
    const char *e;
    long cp;

    *used = 1;
    if (c < 0x20U || (c == '\\' && n < 2U)) {
        return 0;
    }
    if (c != '\\') {
        out[0] = c;
        return 1;
    }
    if (p[1] == 'u') {
        cp = unicode_escape(p, n, used);
        return cp == 0 ? 0U : utf8_put(cp, out);
    }
    e = simple_escape(p[1]);
    if (e == NULL) {
        return 0;
    }
    out[0] = (unsigned char)esc_val[e - esc];
    *used = 2;
    return 1;
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
        if (k == 0 || cap - 1U - o < k) {
            out[0] = '\0';
            return k == 0 ? PICOACME_ERR_PARSE : PICOACME_ERR_NOSPACE;
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
