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
 * json_read.c). Only json_read.c reads tokens, through jsmntok_t: with 1-byte enums
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

/* Check js[0..len) (RFC 8259, strict unless PICOACME_JSON_STRICT is 0) and
 * tokenize it into tok[0..cap). The top level must be an object or an
 * array (check with picoacme_json_is_object); token 0 is the top-level
 * value. j keeps pointers to js and tok: both are the caller's and must
 * outlive every getter call on j; nothing is copied or allocated.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL j or tok, NULL js
 * with len > 0, cap > INT_MAX); PICOACME_ERR_NOSPACE (cap tokens are not
 * enough, or len > INT_MAX); PICOACME_ERR_PARSE (not valid JSON). */
picoacme_err_t picoacme_json_parse(picoacme_json_t *j, const char *js, size_t len,
                                   picoacme_json_tok_t *tok, unsigned cap);

/* Index of the value of member key (NUL-terminated, compared after
 * unescaping the member name) in object token obj; the first match wins.
 * Returns the token index, or -1 when obj is no object or key is absent. */
int picoacme_json_member(const picoacme_json_t *j, int obj, const char *key);

/* Index of element i (0-based) of array token arr; -1 when arr is no
 * array or i is out of range. */
int picoacme_json_element(const picoacme_json_t *j, int arr, int i);

/* Number of elements of array (or members of object) token t, -1 if t is
 * not an array/object. */
int picoacme_json_size(const picoacme_json_t *j, int t);

/* true if token t is a string / an object / the literal true; false for a
 * bad index or another type. */
bool picoacme_json_is_string(const picoacme_json_t *j, int t);
bool picoacme_json_is_object(const picoacme_json_t *j, int t);
bool picoacme_json_is_true(const picoacme_json_t *j, int t);

/* Copy the string token t, unescaped (\" \\ \/ \b \f \n \r \t \uXXXX to
 * UTF-8), NUL-terminated, into the caller's out[0..cap); *out_len (may be
 * NULL) gets the length without the NUL. On failure out is "" and
 * *out_len 0.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL out or cap 0);
 * PICOACME_ERR_PARSE (t is no string, a bad escape, \u0000 or a lone
 * surrogate); PICOACME_ERR_NOSPACE (does not fit with its NUL). */
picoacme_err_t picoacme_json_string(const picoacme_json_t *j, int t, char *out, size_t cap,
                                    size_t *out_len);

/* Same, for member key of object obj.
 * Returns one of: the codes of picoacme_json_string();
 * PICOACME_ERR_NOT_FOUND (no such member; out is "" when cap > 0). */
picoacme_err_t picoacme_json_get_string(const picoacme_json_t *j, int obj, const char *key,
                                        char *out, size_t cap, size_t *out_len);

/* true if the string token t equals the NUL-terminated s exactly (escapes
 * honoured); false for a bad token, a bad escape or a NULL s. */
bool picoacme_json_string_eq(const picoacme_json_t *j, int t, const char *s);

/* ---- writer ------------------------------------------------------------ */
/* A bounded writer (json_write.c): calls append to the caller's buf, kept
 * NUL-terminated (content is at most cap - 1 bytes); the first failure is
 * kept in err (PICOACME_ERR_NOSPACE on overflow or nesting deeper than 31,
 * PICOACME_ERR_PARAM on a misuse) and makes every later call a no-op, so
 * the calls need no checks: picoacme_jw_finish() reports. The caller
 * writes the structure; the writer adds commas inside objects and arrays.
 * Nothing is allocated. */
typedef struct picoacme_jw {
    char *buf;
    size_t cap;
    size_t len;
    picoacme_err_t err;
    uint8_t depth;
    uint32_t need_comma; /* bit per depth level */
} picoacme_jw_t;

/* Start writing into buf[0..cap), which stays the caller's; a NULL buf or
 * cap 0 leaves err PICOACME_ERR_PARAM. */
void picoacme_jw_init(picoacme_jw_t *w, char *buf, size_t cap);
/* Open or close an object or an array; closing with nothing open is
 * PICOACME_ERR_PARAM. */
void picoacme_jw_obj_begin(picoacme_jw_t *w);
void picoacme_jw_obj_end(picoacme_jw_t *w);
void picoacme_jw_arr_begin(picoacme_jw_t *w);
void picoacme_jw_arr_end(picoacme_jw_t *w);
/* Member name (NUL-terminated, escaped); the value follows with one of the
 * value calls. A NULL key is PICOACME_ERR_PARAM. */
void picoacme_jw_key(picoacme_jw_t *w, const char *key);
/* String value s[0..len), escaped (" \ and control characters); NULL s
 * with len > 0 is PICOACME_ERR_PARAM. */
void picoacme_jw_str(picoacme_jw_t *w, const char *s, size_t len);
/* true/false, and a decimal integer (INT64_MIN included). */
void picoacme_jw_bool(picoacme_jw_t *w, bool v);
void picoacme_jw_int(picoacme_jw_t *w, int64_t v);
/* Value s[0..len) written verbatim (already valid JSON, e.g. a nested
 * object); NULL s with len > 0 is PICOACME_ERR_PARAM. */
void picoacme_jw_raw(picoacme_jw_t *w, const char *s, size_t len);
/* *len (may be NULL) gets the length written, without the NUL.
 * Returns one of: PICOACME_OK; the first error kept in w
 * (PICOACME_ERR_NOSPACE, PICOACME_ERR_PARAM); PICOACME_ERR_PARAM (NULL w,
 * or an object or array left open). *len is 0 on failure. */
picoacme_err_t picoacme_jw_finish(picoacme_jw_t *w, size_t *len);

#endif
