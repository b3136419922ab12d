/*
 * picoacme_json.h - typed getters over jsmn tokens (Debian libjsmn-dev,
 * strict mode) and a bounded JSON writer. The token array is the caller's.
 */
#ifndef PICOACME_JSON_H
#define PICOACME_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"

/* Same size and field offsets as jsmntok_t (checked at compile time in
 * json.c). Only json.c reads tokens, through jsmntok_t: with 1-byte enums
 * (arm-none-eabi) `type` here would hold garbage in its upper bytes, so use
 * the picoacme_json_is_* accessors. */
typedef struct picoacme_json_tok {
    int type;
    int start;
    int end;
    int size;
} picoacme_json_tok_t;

typedef struct picoacme_json {
    const char *js;
    size_t len;
    picoacme_json_tok_t *tok;
    int count; /* tokens used */
} picoacme_json_t;

/* Tokenize js[0..len). The top level must be an object or an array (check
 * with picoacme_json_is_object). PICOACME_ERR_NOSPACE if cap tokens are not enough,
 * PICOACME_ERR_PARSE if invalid. Token 0 is the top-level value. */
picoacme_err_t picoacme_json_parse(picoacme_json_t *j, const char *js, size_t len,
                                   picoacme_json_tok_t *tok, unsigned cap);

/* Index of the value of member key in object token obj, or -1. */
int picoacme_json_member(const picoacme_json_t *j, int obj, const char *key);

/* Index of element i of array token arr, or -1. */
int picoacme_json_element(const picoacme_json_t *j, int arr, int i);

/* Number of elements of array (or members of object) token t, -1 if t is
 * not an array/object. */
int picoacme_json_size(const picoacme_json_t *j, int t);

/* true if token t is a string / an object / the literal true. */
bool picoacme_json_is_string(const picoacme_json_t *j, int t);
bool picoacme_json_is_object(const picoacme_json_t *j, int t);
bool picoacme_json_is_true(const picoacme_json_t *j, int t);

/* Copy the string token t, unescaped (\" \\ \/ \b \f \n \r \t \uXXXX to
 * UTF-8), NUL-terminated, into out. PICOACME_ERR_PARSE if t is not a
 * string or an escape is bad, PICOACME_ERR_NOSPACE if it does not fit. */
picoacme_err_t picoacme_json_string(const picoacme_json_t *j, int t, char *out, size_t cap,
                                    size_t *out_len);

/* Same, for member key of object obj; PICOACME_ERR_NOT_FOUND if absent. */
picoacme_err_t picoacme_json_get_string(const picoacme_json_t *j, int obj, const char *key,
                                        char *out, size_t cap, size_t *out_len);

/* true if the string token t equals s exactly (escapes honoured). */
bool picoacme_json_string_eq(const picoacme_json_t *j, int t, const char *s);

/* ---- writer ------------------------------------------------------------ */
/* A bounded writer: calls append to buf; the first overflow makes err
 * PICOACME_ERR_NOSPACE and every later call a no-op. The caller writes the
 * structure; helpers handle commas inside objects and arrays. */
typedef struct picoacme_jw {
    char *buf;
    size_t cap;
    size_t len;
    picoacme_err_t err;
    uint8_t depth;
    uint32_t need_comma; /* bit per depth level */
} picoacme_jw_t;

void picoacme_jw_init(picoacme_jw_t *w, char *buf, size_t cap);
void picoacme_jw_obj_begin(picoacme_jw_t *w);
void picoacme_jw_obj_end(picoacme_jw_t *w);
void picoacme_jw_arr_begin(picoacme_jw_t *w);
void picoacme_jw_arr_end(picoacme_jw_t *w);
/* Member name (escaped); the value follows with one of the value calls. */
void picoacme_jw_key(picoacme_jw_t *w, const char *key);
/* String value, escaped ( " \ and control characters ). */
void picoacme_jw_str(picoacme_jw_t *w, const char *s, size_t len);
void picoacme_jw_bool(picoacme_jw_t *w, bool v);
void picoacme_jw_int(picoacme_jw_t *w, int64_t v);
/* Value written verbatim (already valid JSON, e.g. a nested object). */
void picoacme_jw_raw(picoacme_jw_t *w, const char *s, size_t len);
/* Result: PICOACME_OK and *len, or the first error. */
picoacme_err_t picoacme_jw_finish(picoacme_jw_t *w, size_t *len);

#endif
