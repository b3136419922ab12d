/*
 * wrap_transport.c - the picoacme command over ports/bsdsock instead of
 * ports/posix's net.c/udp.c, for the e2e cases e2e.bsdsock.*: linked with
 * -Wl,--wrap=picoacme_posix_transport, so platform/linux is compiled
 * unchanged and every transport call of the command goes to the BSD-sockets
 * port (names through its getaddrinfo resolver hook).
 */
#include "picoacme_bsdsock.h"

void __wrap_picoacme_posix_transport(picoacme_transport_t *out);

void __wrap_picoacme_posix_transport(picoacme_transport_t *out)
{
    static picoacme_bsdsock_t b;
    picoacme_bsdsock_resolver_t r;

    if (out == NULL) {
        return;
    }
    picoacme_bsdsock_gai_resolver(&r);
    picoacme_bsdsock_init(&b, &r, out);
}
