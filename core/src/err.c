/*
 * err.c - human-readable names for picoacme_err_t (one per enumerator of
 * picoacme_err.h), for logs and the command line.
 */
#include "picoacme_err.h"

const char *picoacme_err_str(picoacme_err_t e)
{
    switch (e) {
    case PICOACME_OK:
        return "ok";
    case PICOACME_AGAIN:
        return "again (waiting for a deadline)";
    case PICOACME_WANT_READ:
        return "want read (connection not readable yet)";
    case PICOACME_WANT_WRITE:
        return "want write (connection not writable yet)";
    case PICOACME_ERR_PARAM:
        return "bad parameter";
    case PICOACME_ERR_NOSPACE:
        return "buffer too small (raise the size option)";
    case PICOACME_ERR_PARSE:
        return "malformed input";
    case PICOACME_ERR_IO:
        return "transport error";
    case PICOACME_ERR_CLOSED:
        return "connection closed by peer";
    case PICOACME_ERR_TIMEOUT:
        return "timeout";
    case PICOACME_ERR_TLS:
        return "TLS error";
    case PICOACME_ERR_TLS_VERIFY:
        return "TLS server certificate not trusted or name mismatch";
    case PICOACME_ERR_CRYPTO:
        return "crypto operation failed";
    case PICOACME_ERR_STORAGE:
        return "storage read/write/erase failed";
    case PICOACME_ERR_NOT_FOUND:
        return "not found";
    case PICOACME_ERR_HTTP:
        return "unexpected HTTP status";
    case PICOACME_ERR_PROBLEM:
        return "ACME problem document from the CA";
    case PICOACME_ERR_PROTOCOL:
        return "CA response violates RFC 8555";
    case PICOACME_ERR_INVALID:
        return "authorization or order became invalid";
    case PICOACME_ERR_RATE_LIMITED:
        return "rate limited by the CA (retries spent)";
    case PICOACME_ERR_UNSUPPORTED:
        return "unsupported by the port or the server";
    case PICOACME_ERR_STATE:
        return "call not allowed in the current state";
    case PICOACME_ERR_DNS:
        return "DNS update or lookup failed";
    }
    return "unknown error";
}
