/*
 * udp.h - private to the POSIX port: the UDP members of the transport
 * (ports/posix/src/udp.c), wired in by picoacme_posix_transport().
 */
#ifndef PICOACME_POSIX_UDP_H
#define PICOACME_POSIX_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "picoacme_port.h"

picoacme_err_t picoacme_posix_udp_open(void *user, picoacme_sock_t *sock);
picoacme_err_t picoacme_posix_udp_send(void *user, picoacme_sock_t sock, const char *host,
                                       uint16_t port, const uint8_t *buf, size_t len);
picoacme_err_t picoacme_posix_udp_recv(void *user, picoacme_sock_t sock, uint8_t *buf, size_t cap,
                                       size_t *received);

#endif
