/*
 * picoacme_err.h - the one status type of the library.
 *
 * Every function returns a picoacme_err_t. PICOACME_OK means done;
 * PICOACME_AGAIN / PICOACME_WANT_READ / PICOACME_WANT_WRITE mean "not yet,
 * call again when the thing waited for happens"; everything from
 * PICOACME_ERR_PARAM on is a failure.
 */
#ifndef PICOACME_ERR_H
#define PICOACME_ERR_H

typedef enum picoacme_err {
    PICOACME_OK = 0,
    PICOACME_AGAIN,            /* nothing to do until a deadline passes */
    PICOACME_WANT_READ,        /* would block until the connection is readable */
    PICOACME_WANT_WRITE,       /* would block until the connection is writable */
    PICOACME_ERR_PARAM,        /* bad argument from the caller */
    PICOACME_ERR_NOSPACE,      /* a fixed buffer is too small (raise the option) */
    PICOACME_ERR_PARSE,        /* malformed input (HTTP, JSON, DER, base64...) */
    PICOACME_ERR_IO,           /* transport error (connect refused, reset...) */
    PICOACME_ERR_CLOSED,       /* peer closed the connection */
    PICOACME_ERR_TIMEOUT,      /* a deadline passed */
    PICOACME_ERR_TLS,          /* TLS handshake or record failure */
    PICOACME_ERR_TLS_VERIFY,   /* server certificate not trusted / name mismatch */
    PICOACME_ERR_CRYPTO,       /* key generation, signature or hash failed */
    PICOACME_ERR_STORAGE,      /* flash read/write/erase failed */
    PICOACME_ERR_NOT_FOUND,    /* nothing stored / field missing */
    PICOACME_ERR_HTTP,         /* unexpected HTTP status without a problem document */
    PICOACME_ERR_PROBLEM,      /* the CA answered with an ACME problem document */
    PICOACME_ERR_PROTOCOL,     /* the CA's answer violates RFC 8555 */
    PICOACME_ERR_INVALID,      /* an authorization or order became invalid */
    PICOACME_ERR_RATE_LIMITED, /* rateLimited and the retry budget is spent */
    PICOACME_ERR_UNSUPPORTED,  /* the port or the server lacks a needed feature */
    PICOACME_ERR_STATE,        /* call not allowed in the current state */
    PICOACME_ERR_DNS           /* dns-01: the DNS server refused or never answered */
} picoacme_err_t;

/* Returns a static, human-readable name for e (never NULL). */
const char *picoacme_err_str(picoacme_err_t e);

/* true when e is a failure (PICOACME_ERR_*): stop pumping and read
 * picoacme_last_problem(). Callers use this instead of comparing enum order. */
static inline int picoacme_err_is_error(picoacme_err_t e)
{
    return e != PICOACME_OK && e != PICOACME_AGAIN && e != PICOACME_WANT_READ &&
           e != PICOACME_WANT_WRITE;
}

/* true when e means "keep going": PICOACME_AGAIN, PICOACME_WANT_READ or
 * PICOACME_WANT_WRITE. Wait as the picoacme_wait_t says, then call again. */
static inline int picoacme_err_is_pending(picoacme_err_t e)
{
    return e == PICOACME_AGAIN || e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE;
}

#endif
