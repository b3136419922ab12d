/*
 * resolve_gai.c - POSIX only: the BSD-sockets port's resolver hook over
 * ports/posix's name lookup (getaddrinfo in one worker thread, the engine's
 * thread never blocks: PICOACME_AGAIN until the answer is there). Link
 * picoacme_posix. Not compiled for lwIP or Zephyr.
 */
#include <netdb.h>
#include <string.h>

#include "picoacme_bsdsock.h"
#include "resolve.h" /* ports/posix/src */

static picoacme_err_t gai_resolve(void *user, const char *host, uint16_t port, int socktype,
                                  picoacme_bsdsock_addr_t *addr, unsigned cap, unsigned *count)
{
    struct addrinfo *res = NULL;
    const struct addrinfo *ai;
    picoacme_err_t e;

    (void)user;
    *count = 0;
    e = picoacme_posix_resolve(host, port, socktype, &res);
    if (e != PICOACME_OK) {
        return e;
    }
    for (ai = res; ai != NULL && *count < cap; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof addr[0].ss) {
            continue;
        }
        memset(&addr[*count], 0, sizeof addr[0]);
        memcpy(&addr[*count].ss, ai->ai_addr, ai->ai_addrlen);
        addr[*count].len = ai->ai_addrlen;
        (*count)++;
    }
    freeaddrinfo(res);
    return *count > 0U ? PICOACME_OK : PICOACME_ERR_NOT_FOUND;
}

void picoacme_bsdsock_gai_resolver(picoacme_bsdsock_resolver_t *out)
{
    out->user = NULL;
    out->resolve = gai_resolve;
}
