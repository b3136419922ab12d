/*
 * resolve.h - private to the POSIX port: host names resolved without
 * blocking (ports/posix/src/resolve.c), for connect() and udp_send().
 */
#ifndef PICOACME_POSIX_RESOLVE_H
#define PICOACME_POSIX_RESOLVE_H

#include <netdb.h>
#include <stdint.h>

#include "picoacme_port.h"

/* The addresses of host:port for socktype (SOCK_STREAM or SOCK_DGRAM).
 * A literal IPv4/IPv6 address answers PICOACME_OK at once. A name answers
 * PICOACME_AGAIN while it is being resolved (call again with the same
 * arguments), then PICOACME_OK, PICOACME_ERR_NOT_FOUND when it does not
 * resolve, or PICOACME_ERR_IO (resolver failure, or host is not a host
 * name). On PICOACME_OK the caller owns *res and frees it with
 * freeaddrinfo(); otherwise *res is NULL. */
picoacme_err_t picoacme_posix_resolve(const char *host, uint16_t port, int socktype,
                                      struct addrinfo **res);

#endif
