/*
 * http_link.h - private to core/src: the Link header reader (http_link.c)
 * that the response parser (http_parse.c) calls.
 */
#ifndef PICOACME_HTTP_LINK_H
#define PICOACME_HTTP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 8288 §3: Link = #link-value; link-value = "<" URI-Reference ">"
 * *( OWS ";" OWS link-param ); link-param = token BWS [ "=" BWS ( token /
 * quoted-string ) ]. In the field value buf[vs, ve) (OWS trimmed), finds
 * the first link-value whose first rel parameter lists "up" and has a
 * non-empty target: true with that target at buf[*us, *ue). false when
 * there is none, or when the value stops following the grammar before one
 * (the rest of the header is then ignored). */
bool picoacme_link_up(const uint8_t *buf, size_t vs, size_t ve, size_t *us, size_t *ue);

#endif
