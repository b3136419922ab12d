/*
 * err.c - human-readable names for picoacme_err_t (one per enumerator of
 * picoacme_err.h), for logs and the command line.
 */
#include "picoacme_config_defaults.h"
#include "picoacme_err.h"

#if !PICOACME_ERROR_TEXT
/* Terse names, one packed string in enum order (the firmware profile). */
static const char names[] = "ok\0again\0want-read\0want-write\0param\0nospace\0parse\0io\0"
                            "closed\0timeout\0tls\0tls-verify\0crypto\0storage\0not-found\0"
                            "http\0problem\0protocol\0invalid\0rate-limited\0unsupported\0"
                            "state\0dns\0";

const char *picoacme_err_str(picoacme_err_t e)
{
    const char *p = names;
    unsigned i;
    if ((unsigned)e > (unsigned)PICOACME_ERR_DNS) {
        return "unknown error";
    }
    for (i = 0; i < (unsigned)e; i++) {
        while (*p != '\0') {
            p++;
        }
        p++;
    }
    return p;
}
#else
const char *picoacme_err_str(picoacme_err_t e)
{
    switch (e) {
    case PICOACME_OK: return "ok";
    case PICOACME_AGAIN: return "again (waiting for a deadline)";
    case PICOACME_WANT_READ: return "want read (connection not readable yet)";
    case PICOACME_WANT_WRITE: return "want write (connection not writable yet)";
    case PICOACME_ERR_PARAM: return "bad parameter";
    case PICOACME_ERR_NOSPACE: return "buffer too small (raise the size option)";
    case PICOACME_ERR_PARSE: return "malformed input";
    case PICOACME_ERR_IO: return "transport error";
    case PICOACME_ERR_CLOSED: return "connection closed by peer";
    case PICOACME_ERR_TIMEOUT: return "timeout";
    case PICOACME_ERR_TLS: return "TLS error";
    case PICOACME_ERR_TLS_VERIFY: return "TLS server certificate not trusted or name mismatch";
    case PICOACME_ERR_CRYPTO: return "crypto operation failed";
    case PICOACME_ERR_STORAGE: return "storage read/write/erase failed";
    case PICOACME_ERR_NOT_FOUND: return "not found";
    case PICOACME_ERR_HTTP: return "unexpected HTTP status";
    case PICOACME_ERR_PROBLEM: return "ACME problem document from the CA";
    case PICOACME_ERR_PROTOCOL: return "CA response violates RFC 8555";
    case PICOACME_ERR_INVALID: return "authorization or order became invalid";
    case PICOACME_ERR_RATE_LIMITED: return "rate limited by the CA (retries spent)";
    case PICOACME_ERR_UNSUPPORTED: return "unsupported by the port or the server";
    case PICOACME_ERR_STATE: return "call not allowed in the current state";
    case PICOACME_ERR_DNS: return "DNS update or lookup failed";
    }
    return "unknown error";
}
#endif
