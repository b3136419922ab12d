/*
 * http_phase.h - the HTTP response parser's phases (picoacme_http_resp_t
 * phase), shared by the parser (http_parse.c) and the body streaming of a
 * long answer (http_stream.c). Internal to the core.
 */
#ifndef PICOACME_HTTP_PHASE_H
#define PICOACME_HTTP_PHASE_H

enum {
    PH_STATUS = 0, /* expecting a status line at scan */
    PH_HEADERS,    /* header lines until the blank line */
    PH_BODY_LEN,   /* body of content_length bytes */
    PH_BODY_CLOSE, /* body delimited by the peer closing */
    PH_CHUNK_SIZE, /* chunk-size line */
    PH_CHUNK_DATA, /* chunk_left bytes of chunk data */
    PH_CHUNK_CRLF, /* CRLF after chunk data */
    PH_TRAILER,    /* trailer lines until the blank line */
    PH_DONE
};

#endif /* PICOACME_HTTP_PHASE_H */
