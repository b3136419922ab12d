/*
 * bsdsock.c - picoacme_transport_t over BSD sockets (POSIX, lwIP sockets,
 * Zephyr zsock_*). Only the PA_* names of picoacme_bsdsock_compat.h are
 * used, so this file compiles unchanged on the three.
 *
 * connect: the addresses (a literal at once, else the resolver hook, which
 * answers PICOACME_AGAIN until it has them), a non-blocking socket and a
 * connect() that answers EINPROGRESS; the attempt is kept in the pending
 * table until poll() shows the socket writable and SO_ERROR says how it
 * went. A refused attempt moves on to the next address on the same
 * descriptor number with dup2() where there is one (POSIX); elsewhere the
 * first address is the only one. send/recv: non-blocking, EAGAIN ->
 * WANT_WRITE/WANT_READ. listen: a dual-stack IPv6 socket where the stack
 * has one, else IPv4. UDP (dns-01): one unconnected socket, sendto the
 * first address it can reach (IPv4 as v4-mapped on a dual-stack socket).
 */
#include "picoacme_bsdsock.h"

#include <string.h>

#ifndef PA_F_GETFL
#define PA_F_GETFL    F_GETFL
#define PA_F_SETFL    F_SETFL
#define PA_O_NONBLOCK O_NONBLOCK
#endif

#define HOST_MAX 253U

/* ---- small helpers --------------------------------------------------- */

static int set_nonblock(int fd)
{
    int fl = PA_FCNTL(fd, PA_F_GETFL, 0);
    if (fl < 0) {
        fl = 0;
    }
    return PA_FCNTL(fd, PA_F_SETFL, fl | PA_O_NONBLOCK) < 0 ? -1 : 0;
}

static void set_nodelay(int fd)
{
#ifdef TCP_NODELAY
    int one = 1;
    (void)PA_SETSOCKOPT(fd, IPPROTO_TCP, TCP_NODELAY, &one, (socklen_t)sizeof one);
#else
    (void)fd;
#endif
}

static int would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

/* A literal IPv4 or IPv6 address with port into *a; 0 when host is none. */
static int literal(const char *host, uint16_t port, picoacme_bsdsock_addr_t *a)
{
    memset(a, 0, sizeof *a);
    {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
        if (PA_INET_PTON(AF_INET, host, &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            s4->sin_port = htons(port);
            a->len = (socklen_t)sizeof *s4;
            return 1;
        }
    }
#if PA_HAVE_IPV6
    {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        if (PA_INET_PTON(AF_INET6, host, &s6->sin6_addr) == 1) {
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(port);
            a->len = (socklen_t)sizeof *s6;
            return 1;
        }
    }
#endif
    return 0;
}

/* The addresses of host: a literal at once, a name from the resolver. */
static picoacme_err_t addrs_of(picoacme_bsdsock_t *b, const char *host, uint16_t port, int socktype,
                               picoacme_bsdsock_addr_t *addr, unsigned *count)
{
    picoacme_err_t e;

    *count = 0;
    if (literal(host, port, &addr[0])) {
        *count = 1;
        return PICOACME_OK;
    }
    if (b->resolver.resolve == NULL || strlen(host) > HOST_MAX) {
        return PICOACME_ERR_NOT_FOUND;
    }
    e = b->resolver.resolve(b->resolver.user, host, port, socktype, addr, PICOACME_BSDSOCK_ADDRS,
                            count);
    if (e == PICOACME_OK && (*count == 0U || *count > PICOACME_BSDSOCK_ADDRS)) {
        return PICOACME_ERR_NOT_FOUND;
    }
    return e;
}

/* ---- pending connects -------------------------------------------------- */

static picoacme_bsdsock_pending_t *pending_find(picoacme_bsdsock_t *b, int fd)
{
    unsigned i;

    for (i = 0; i < PICOACME_BSDSOCK_PENDING; i++) {
        if (b->pending[i].fd == fd) {
            return &b->pending[i];
        }
    }
    return NULL;
}

/* Start a non-blocking connect; the fd, or -1. */
static int start_connect(const picoacme_bsdsock_addr_t *a)
{
    const struct sockaddr *sa = (const struct sockaddr *)&a->ss;
    int fd = PA_SOCKET(sa->sa_family, SOCK_STREAM, IPPROTO_TCP);

    if (fd < 0) {
        return -1;
    }
    if (set_nonblock(fd) == 0) {
        set_nodelay(fd);
        if (PA_CONNECT(fd, sa, a->len) == 0 || errno == EINPROGRESS) {
            return fd;
        }
    }
    (void)PA_CLOSE(fd);
    return -1;
}

/* The next address of p on p->fd's number: WANT_WRITE while it runs,
 * ERR_IO when none is left (p is freed then). */
static picoacme_err_t pending_advance(picoacme_bsdsock_pending_t *p)
{
#ifdef PA_DUP2
    while (p->next < p->count) {
        int nfd = start_connect(&p->addr[p->next++]);
        if (nfd < 0) {
            continue;
        }
        if (PA_DUP2(nfd, p->fd) < 0) {
            (void)PA_CLOSE(nfd);
            break;
        }
        (void)PA_CLOSE(nfd);
        return PICOACME_WANT_WRITE;
    }
#endif
    p->fd = -1;
    return PICOACME_ERR_IO;
}

/* OK once fd is connected (or was never pending), WANT_WRITE while the
 * connect runs, ERR_IO when every address failed. */
static picoacme_err_t pending_check(picoacme_bsdsock_t *b, int fd)
{
    picoacme_bsdsock_pending_t *p = pending_find(b, fd);
    picoacme_pollfd_t pfd;
    int err = 0;
    socklen_t err_len = (socklen_t)sizeof err;
    int n;

    if (p == NULL) {
        return PICOACME_OK;
    }
    memset(&pfd, 0, sizeof pfd);
    pfd.fd = fd;
    pfd.events = PA_POLLOUT;
    n = PA_POLL(&pfd, 1, 0);
    if (n < 0) {
        return errno == EINTR ? PICOACME_WANT_WRITE : PICOACME_ERR_IO;
    }
    if (n == 0) {
        return PICOACME_WANT_WRITE;
    }
    if (PA_GETSOCKOPT(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) {
        err = errno;
    }
    if (err == 0) {
        p->fd = -1; /* connected */
        return PICOACME_OK;
    }
    if (err == EINPROGRESS || err == EALREADY) {
        return PICOACME_WANT_WRITE;
    }
    return pending_advance(p);
}

/* ---- transport: TCP ---------------------------------------------------- */

static picoacme_err_t bs_connect(void *user, const char *host, uint16_t port, picoacme_sock_t *sock)
{
    picoacme_bsdsock_t *b = user;
    picoacme_bsdsock_pending_t tmp;
    picoacme_bsdsock_pending_t *slot;
    unsigned count = 0;
    unsigned i;
    picoacme_err_t e;
    int fd = -1;

    if (host == NULL || sock == NULL || host[0] == '\0' || port == 0U) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
    memset(&tmp, 0, sizeof tmp);
    e = addrs_of(b, host, port, SOCK_STREAM, tmp.addr, &count);
    if (e != PICOACME_OK) {
        return e; /* AGAIN while the name resolves */
    }
    for (i = 0; i < count && fd < 0; i++) {
        fd = start_connect(&tmp.addr[i]);
    }
    if (fd < 0) {
        return PICOACME_ERR_IO;
    }
    tmp.fd = fd;
    tmp.next = (uint8_t)i;
    tmp.count = (uint8_t)count;
    slot = pending_find(b, fd); /* a stale entry of a reused number */
    if (slot == NULL) {
        slot = pending_find(b, -1);
    }
    if (slot != NULL) {
        *slot = tmp; /* without a slot: no fallback, send() still works */
    }
    *sock = (picoacme_sock_t)fd;
    return PICOACME_OK;
}

static picoacme_err_t bs_send(void *user, picoacme_sock_t sock, const uint8_t *buf, size_t len,
                              size_t *sent)
{
    picoacme_err_t e;
    long n;

    if (sock < 0 || sent == NULL || (buf == NULL && len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *sent = 0;
    e = pending_check(user, (int)sock);
    if (e != PICOACME_OK || len == 0U) {
        return e;
    }
    do {
        n = (long)PA_SEND((int)sock, buf, len, PA_MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        /* ENOTCONN: the connect is still running */
        return would_block(errno) || errno == ENOTCONN ? PICOACME_WANT_WRITE : PICOACME_ERR_IO;
    }
    if (n == 0) {
        return PICOACME_WANT_WRITE;
    }
    *sent = (size_t)n;
    return PICOACME_OK;
}

static picoacme_err_t bs_recv(void *user, picoacme_sock_t sock, uint8_t *buf, size_t len,
                              size_t *received)
{
    picoacme_err_t e;
    long n;

    if (sock < 0 || received == NULL || buf == NULL || len == 0U) {
        return PICOACME_ERR_PARAM;
    }
    *received = 0;
    e = pending_check(user, (int)sock);
    if (e != PICOACME_OK) {
        return e; /* WANT_WRITE: the connect first */
    }
    do {
        n = (long)PA_RECV((int)sock, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (would_block(errno)) {
            return PICOACME_WANT_READ;
        }
        return errno == ENOTCONN ? PICOACME_WANT_WRITE : PICOACME_ERR_IO;
    }
    if (n == 0) {
        return PICOACME_ERR_CLOSED;
    }
    *received = (size_t)n;
    return PICOACME_OK;
}

static void bs_close(void *user, picoacme_sock_t sock)
{
    picoacme_bsdsock_pending_t *p;

    if (sock < 0) {
        return;
    }
    p = pending_find(user, (int)sock);
    if (p != NULL) {
        p->fd = -1;
    }
    (void)PA_CLOSE((int)sock);
}

/* ---- transport: listener ----------------------------------------------- */

/* A socket of family on every local address; dual stack for IPv6. */
static int listen_on(int family, uint16_t port)
{
    picoacme_bsdsock_addr_t a;
    int fd = PA_SOCKET(family, SOCK_STREAM, IPPROTO_TCP);
    int one = 1;

    if (fd < 0) {
        return -1;
    }
    memset(&a, 0, sizeof a);
    (void)PA_SETSOCKOPT(fd, SOL_SOCKET, SO_REUSEADDR, &one, (socklen_t)sizeof one);
#if PA_HAVE_IPV6
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.ss;
        int zero = 0;
        (void)PA_SETSOCKOPT(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, (socklen_t)sizeof zero);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port); /* in6addr_any: all zero */
        a.len = (socklen_t)sizeof *s6;
    }
#endif
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a.ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port); /* INADDR_ANY: all zero */
        a.len = (socklen_t)sizeof *s4;
    }
    if (set_nonblock(fd) != 0 || PA_BIND(fd, (struct sockaddr *)&a.ss, a.len) != 0 ||
        PA_LISTEN(fd, PICOACME_BSDSOCK_BACKLOG) != 0) {
        int saved = errno;
        (void)PA_CLOSE(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static picoacme_err_t bs_listen(void *user, uint16_t port, picoacme_sock_t *lsock)
{
    int fd = -1;

    (void)user;
    if (lsock == NULL) { /* port 0: an ephemeral port (tests) */
        return PICOACME_ERR_PARAM;
    }
    *lsock = PICOACME_SOCK_NONE;
#if PA_HAVE_IPV6
    fd = listen_on(AF_INET6, port);
    if (fd < 0 && errno != EADDRINUSE) {
        fd = listen_on(AF_INET, port); /* a host without IPv6 */
    }
#else
    fd = listen_on(AF_INET, port);
#endif
    if (fd < 0) {
        return PICOACME_ERR_IO;
    }
    *lsock = (picoacme_sock_t)fd;
    return PICOACME_OK;
}

static picoacme_err_t bs_accept(void *user, picoacme_sock_t lsock, picoacme_sock_t *sock)
{
    picoacme_bsdsock_pending_t *p;
    int fd;

    if (lsock < 0 || sock == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
    fd = PA_ACCEPT((int)lsock, NULL, NULL);
    if (fd < 0) {
        int e = errno;
        return would_block(e) || e == EINTR || e == ECONNABORTED ? PICOACME_WANT_READ
                                                                 : PICOACME_ERR_IO;
    }
    if (set_nonblock(fd) != 0) {
        (void)PA_CLOSE(fd);
        return PICOACME_ERR_IO;
    }
    set_nodelay(fd);
    p = pending_find(user, fd); /* an accepted socket is never pending */
    if (p != NULL) {
        p->fd = -1;
    }
    *sock = (picoacme_sock_t)fd;
    return PICOACME_OK;
}

/* ---- transport: UDP (dns-01) ------------------------------------------- */

static picoacme_err_t bs_udp_open(void *user, picoacme_sock_t *sock)
{
    int fd = -1;

    (void)user;
    if (sock == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
#if PA_HAVE_IPV6
    fd = PA_SOCKET(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
    if (fd >= 0) {
        int zero = 0;
        if (PA_SETSOCKOPT(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, (socklen_t)sizeof zero) != 0) {
            (void)PA_CLOSE(fd);
            fd = -1;
        }
    }
#endif
    if (fd < 0) {
        fd = PA_SOCKET(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    }
    if (fd < 0) {
        return PICOACME_ERR_IO;
    }
    if (set_nonblock(fd) != 0) {
        (void)PA_CLOSE(fd);
        return PICOACME_ERR_IO;
    }
    *sock = (picoacme_sock_t)fd;
    return PICOACME_OK;
}

/* The address family of a socket, or -1. */
static int sock_family(int fd)
{
    picoacme_bsdsock_addr_t a;

    memset(&a, 0, sizeof a);
    a.len = (socklen_t)sizeof a.ss;
    if (PA_GETSOCKNAME(fd, (struct sockaddr *)&a.ss, &a.len) != 0) {
        return -1;
    }
    return a.ss.ss_family;
}

/* The first of addr[0..count) a socket of family fam reaches, into *dst
 * (IPv4 as v4-mapped for an IPv6 socket); 0 when none. */
static int pick_udp(int fam, const picoacme_bsdsock_addr_t *addr, unsigned count,
                    picoacme_bsdsock_addr_t *dst)
{
    unsigned i;

    for (i = 0; i < count; i++) {
        if (addr[i].ss.ss_family == fam) {
            *dst = addr[i];
            return 1;
        }
    }
#if PA_HAVE_IPV6
    for (i = 0; i < count && fam == AF_INET6; i++) {
        if (addr[i].ss.ss_family == AF_INET) {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)&addr[i].ss;
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst->ss;
            uint8_t *b6 = (uint8_t *)&s6->sin6_addr;
            memset(dst, 0, sizeof *dst);
            s6->sin6_family = AF_INET6;
            s6->sin6_port = s4->sin_port;
            b6[10] = 0xFF;
            b6[11] = 0xFF;
            memcpy(&b6[12], &s4->sin_addr, 4);
            dst->len = (socklen_t)sizeof *s6;
            return 1;
        }
    }
#endif
    return 0;
}

static picoacme_err_t bs_udp_send(void *user, picoacme_sock_t sock, const char *host, uint16_t port,
                                  const uint8_t *buf, size_t len)
{
    picoacme_bsdsock_addr_t addr[PICOACME_BSDSOCK_ADDRS];
    picoacme_bsdsock_addr_t dst;
    unsigned count = 0;
    picoacme_err_t e;
    long n;
    int fam;

    if (sock < 0 || host == NULL || host[0] == '\0' || port == 0U || (buf == NULL && len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    fam = sock_family((int)sock);
    if (fam != AF_INET && fam != AF_INET6) {
        return PICOACME_ERR_IO;
    }
    e = addrs_of(user, host, port, SOCK_DGRAM, addr, &count);
    if (e != PICOACME_OK) {
        return e; /* AGAIN while the name resolves: nothing sent */
    }
    if (!pick_udp(fam, addr, count, &dst)) {
        return PICOACME_ERR_IO;
    }
    do {
        n = (long)PA_SENDTO((int)sock, buf, len, PA_MSG_DONTWAIT | PA_MSG_NOSIGNAL,
                            (const struct sockaddr *)&dst.ss, dst.len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return would_block(errno) || errno == ENOBUFS ? PICOACME_WANT_WRITE : PICOACME_ERR_IO;
    }
    return (size_t)n == len ? PICOACME_OK : PICOACME_ERR_IO;
}

static picoacme_err_t bs_udp_recv(void *user, picoacme_sock_t sock, uint8_t *buf, size_t cap,
                                  size_t *received)
{
    long n;

    (void)user;
    if (sock < 0 || buf == NULL || cap == 0U || received == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *received = 0;
    do {
        n = (long)PA_RECV((int)sock, buf, cap, PA_MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        /* else: ICMP port unreachable from an earlier send */
        return would_block(errno) ? PICOACME_WANT_READ : PICOACME_ERR_IO;
    }
    *received = (size_t)n;
    return PICOACME_OK;
}

/* ---- public ------------------------------------------------------------ */

void picoacme_bsdsock_init(picoacme_bsdsock_t *b, const picoacme_bsdsock_resolver_t *resolver,
                           picoacme_transport_t *out)
{
    unsigned i;

    memset(b, 0, sizeof *b);
    if (resolver != NULL) {
        b->resolver = *resolver;
    }
    for (i = 0; i < PICOACME_BSDSOCK_PENDING; i++) {
        b->pending[i].fd = -1;
    }
    memset(out, 0, sizeof *out);
    out->user = b;
    out->connect = bs_connect;
    out->send = bs_send;
    out->recv = bs_recv;
    out->close = bs_close;
    out->listen = bs_listen;
    out->accept = bs_accept;
    out->udp_open = bs_udp_open;
    out->udp_send = bs_udp_send;
    out->udp_recv = bs_udp_recv;
}

size_t picoacme_wait_pollfds(const picoacme_wait_t *wait, picoacme_pollfd_t *pfd, size_t cap,
                             int max_ms, int *timeout_ms)
{
    size_t n = 0;
    size_t i;

    if (timeout_ms != NULL) {
        uint32_t t = wait != NULL ? wait->timeout_ms : UINT32_MAX;
        if (t == UINT32_MAX) {
            *timeout_ms = max_ms;
        } else {
            *timeout_ms = max_ms >= 0 && t > (uint32_t)max_ms ? max_ms
                          : t > 0x7FFFFFFFU                   ? 0x7FFFFFFF
                                                              : (int)t;
        }
    }
    if (wait == NULL || pfd == NULL) {
        return 0;
    }
    for (i = 0; i < wait->count && i < PICOACME_WAIT_SOCKS && n < cap; i++) {
        memset(&pfd[n], 0, sizeof pfd[n]);
        pfd[n].fd = (int)wait->sock[i];
        pfd[n].events = (short)(((wait->events[i] & PICOACME_EV_READ) != 0U ? PA_POLLIN : 0) |
                                ((wait->events[i] & PICOACME_EV_WRITE) != 0U ? PA_POLLOUT : 0));
        n++;
    }
    return n;
}
