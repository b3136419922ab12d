/*
 * http_link.c - reads an HTTP Link header field value (RFC 8288 §3) for the
 * response parser: finds the target of the first link-value whose rel lists
 * "up" (RFC 8555 §7.4.2: the issuer of an alternate chain). No I/O, no
 * allocation; every index stays inside the value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_chars.h"
#include "http_link.h"

/* A cursor over one header value. */
typedef struct cur {
    const uint8_t *b;
    size_t p;
    size_t e;
} cur_t;

static bool cur_at(const cur_t *c, uint8_t ch)
{
    return c->p < c->e && c->b[c->p] == ch;
}

static void cur_ows(cur_t *c)
{
    c->p = http_skip_ows(c->b, c->p, c->e);
}

/* Moves past a token; its length. */
static size_t cur_token(cur_t *c)
{
    size_t s = c->p;
    while (c->p < c->e && picoacme_http_is_tchar(c->b[c->p])) {
        c->p++;
    }
    return c->p - s;
}

/* Does buf[s, e) (a rel value) list the relation type "up"? */
static bool rel_has_up(const uint8_t *buf, size_t s, size_t e)
{
    size_t i = s;
    while (i < e) {
        i = http_skip_ows(buf, i, e);
        size_t ts = i;
        while (i < e && !http_is_ows(buf[i])) {
            i++;
        }
        if (i > ts && picoacme_http_ci_eq(buf + ts, i - ts, "up")) {
            return true;
        }
    }
    return false;
}

/* quoted-string, the cursor on its opening DQUOTE: [*vs, *ve) is the text
 * between the quotes (escapes left as they are). */
static bool quoted_string(cur_t *c, size_t *vs, size_t *ve)
{
    *vs = ++c->p;
    while (c->p < c->e && c->b[c->p] != '"') {
        if (c->b[c->p] == '\\') {
            c->p++;
        }
        if (c->p < c->e) {
            c->p++;
        }
    }
    if (c->p >= c->e) {
        return false;
    }
    *ve = c->p++;
    return true;
}

/* [ "=" BWS ( token / quoted-string ) ]: [*vs, *ve) is the value, empty
 * when there is none. */
static bool param_value(cur_t *c, size_t *vs, size_t *ve)
{
    *vs = c->p;
    *ve = c->p;
    if (!cur_at(c, '=')) {
        return true;
    }
    c->p++;
    cur_ows(c);
    if (cur_at(c, '"')) {
        return quoted_string(c, vs, ve);
    }
    *vs = c->p;
    *ve = *vs + cur_token(c);
    return *ve > *vs;
}

/* *( OWS ";" OWS link-param ), link-param = token BWS [ "=" BWS value ].
 * *up: the first rel parameter lists "up" (§3.3: later ones are ignored). */
static bool link_params(cur_t *c, bool *up)
{
    bool rel_seen = false;
    *up = false;
    for (;;) {
        cur_ows(c);
        if (!cur_at(c, ';')) {
            return true;
        }
        c->p++;
        cur_ows(c);
        size_t ns = c->p, nl = cur_token(c);
        size_t vs, ve;
        cur_ows(c);
        if (nl == 0U || !param_value(c, &vs, &ve)) {
            return false;
        }
        if (!rel_seen && picoacme_http_ci_eq(c->b + ns, nl, "rel")) {
            rel_seen = true;
            *up = rel_has_up(c->b, vs, ve);
        }
    }
}

/* "<" URI-Reference ">": [*us, *ue) is the target. */
static bool link_target(cur_t *c, size_t *us, size_t *ue)
{
    if (!cur_at(c, '<')) {
        return false;
    }
    *us = ++c->p;
    while (c->p < c->e && c->b[c->p] != '>') {
        c->p++;
    }
    if (c->p == c->e) {
        return false;
    }
    *ue = c->p++;
    return true;
}

bool picoacme_link_up(const uint8_t *buf, size_t vs, size_t ve, size_t *us, size_t *ue)
{
    cur_t c = {buf, vs, ve};
    while (c.p < c.e) {
        while (c.p < c.e && (http_is_ows(buf[c.p]) || buf[c.p] == ',')) {
            c.p++;
        }
        bool up;
        if (!link_target(&c, us, ue) || !link_params(&c, &up) || (c.p < c.e && buf[c.p] != ',')) {
            return false;
        }
        if (up && *ue > *us) {
            return true;
        }
    }
    return false;
}
