/*
 * json_write.c - the bounded JSON writer (picoacme_jw_*): the caller writes
 * the structure, the writer adds the commas, escapes strings (RFC 8259 §7)
 * and stops at the first overflow. The reader is json_read.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_json.h"

/* Writer nesting: one need_comma bit per level 0..31. */
#define JW_MAX_DEPTH 31U

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
