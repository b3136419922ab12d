/*
 * tcp.c - picoacme_transport_t over lwIP raw TCP (NO_SYS).
 *
 * connect: a literal IPv4 address, or a name through lwIP's DNS client
 * (dns_gethostbyname: its local host list and cache answer at once, else
 * PICOACME_AGAIN until the callback brought the address), then
 * tcp_connect(); send:
 * tcp_write() of what fits in tcp_sndbuf() then tcp_output(); recv: from
 * the per-connection ring the recv callback fills, tcp_recved() as the data
 * is consumed; close: tcp_close() (tcp_abort() if lwIP is out of memory).
 * lwIP errors map to PICOACME_ERR_IO, an orderly FIN to PICOACME_ERR_CLOSED
 * once the ring is empty. UDP (for dns-01): unconnected sockets with a small
 * fixed datagram queue, filled by the udp_recv callback.
 */
#include "picoacme_lwip.h"

#include <string.h>

#include "lwip/def.h"
#include "lwip/ip_addr.h"
#include "lwip/opt.h"
#if LWIP_DNS
#include "lwip/dns.h"
#endif
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#if !LWIP_TCP
#error "picoacme_lwip needs LWIP_TCP"
#endif
/* Threaded lwIP (NO_SYS 0): every transport call takes the tcpip core lock
 * around its raw-API calls; lwIP's callbacks run in tcpip_thread, which
 * holds the lock, so the connection table is only touched under it. */
#if NO_SYS
#define PA_LOCK()   ((void)0)
#define PA_UNLOCK() ((void)0)
#else
#if !LWIP_TCPIP_CORE_LOCKING
#error "picoacme_lwip with NO_SYS 0 needs LWIP_TCPIP_CORE_LOCKING"
#endif
#include "lwip/tcpip.h"
#define PA_LOCK()   LOCK_TCPIP_CORE()
#define PA_UNLOCK() UNLOCK_TCPIP_CORE()
#endif
#if PICOACME_LWIP_UDP_SOCKS > 0 && !LWIP_UDP
#error "PICOACME_LWIP_UDP_SOCKS > 0 needs LWIP_UDP"
#endif
#if PICOACME_LWIP_UDP_MAX > 0xFFFFU || PICOACME_LWIP_UDP_QUEUE > 255U
#error "PICOACME_LWIP_UDP_MAX must fit a u16_t, PICOACME_LWIP_UDP_QUEUE a u8_t"
#endif
#if PICOACME_LWIP_RX_RING < TCP_WND
#error "PICOACME_LWIP_RX_RING must be >= TCP_WND (the window is the flow control)"
#endif

/* The wake hook (picoacme_lwip_set_wake): called from lwIP's callbacks
 * whenever a connection, the listener or a UDP socket may have become
 * ready, so the task pumping the engine can sleep until then. */
static void (*g_wake)(void *user);
static void *g_wake_user;

static void wake(void)
{
    if (g_wake != NULL) {
        g_wake(g_wake_user);
    }
}

enum conn_state {
    ST_FREE = 0,
    ST_CONNECTING,  /* SYN sent */
    ST_OPEN,        /* established */
    ST_PEER_CLOSED, /* FIN received: drain the ring, then CLOSED */
    ST_FAILED       /* pcb gone (reset, abort, refused): report err */
};

static picoacme_lwip_conn_t *conn_get(picoacme_lwip_t *l, picoacme_sock_t sock)
{
    if (sock < 0 || (uint32_t)sock >= PICOACME_LWIP_CONNS) {
        return NULL;
    }
    picoacme_lwip_conn_t *c = &l->conn[sock];
    return c->state == ST_FREE ? NULL : c;
}

static int conn_alloc(picoacme_lwip_t *l)
{
    for (uint32_t i = 0; i < PICOACME_LWIP_CONNS; i++) {
        if (l->conn[i].state == ST_FREE) {
            picoacme_lwip_conn_t *c = &l->conn[i];
            c->pcb = NULL;
            c->pending_accept = false;
            c->err = PICOACME_OK;
            c->head = 0;
            c->len = 0;
            return (int)i;
        }
    }
    return -1;
}

/* ---- names ------------------------------------------------------------- */

enum lookup_state { LK_IDLE = 0, LK_PENDING, LK_FOUND, LK_FAILED };

#if LWIP_DNS
/* lwIP's answer for l->lookup_name; an answer for a name asked before
 * (replaced since: lwIP cannot cancel a query) is dropped. */
static void on_found(const char *name, const ip_addr_t *ipaddr, void *arg)
{
    picoacme_lwip_t *l = arg;
    if (l->lookup_state != LK_PENDING || lwip_stricmp(name, l->lookup_name) != 0) {
        return;
    }
    if (ipaddr != NULL && IP_IS_V4(ipaddr)) {
        l->lookup_addr = ip4_addr_get_u32(ip_2_ip4(ipaddr));
        l->lookup_state = LK_FOUND;
    } else {
        l->lookup_state = LK_FAILED; /* NXDOMAIN, no answer, or no A record */
    }
    wake();
}

/* The lookup of host, started or finished before. */
static picoacme_err_t lookup_result(picoacme_lwip_t *l, ip_addr_t *out)
{
    uint8_t st = l->lookup_state;
    if (st == LK_PENDING) {
        return PICOACME_AGAIN;
    }
    l->lookup_state = LK_IDLE;
    if (st == LK_FAILED) {
        return PICOACME_ERR_NOT_FOUND;
    }
    ip_addr_set_ip4_u32(out, l->lookup_addr);
    return PICOACME_OK;
}

/* A name through lwIP's DNS client: OK, AGAIN while it asks its server,
 * NOT_FOUND, or IO (no DNS server, a name lwIP refuses). */
static picoacme_err_t lookup(picoacme_lwip_t *l, const char *host, ip_addr_t *out)
{
    size_t n = strlen(host);
    if (l->lookup_state != LK_IDLE && lwip_stricmp(host, l->lookup_name) == 0) {
        return lookup_result(l, out);
    }
    if (n > PICOACME_LWIP_HOST_MAX) {
        return PICOACME_ERR_NOSPACE;
    }
    memcpy(l->lookup_name, host, n + 1U);
    l->lookup_state = LK_PENDING;
    err_t e = dns_gethostbyname(host, out, on_found, l);
    if (e == ERR_INPROGRESS) {
        return PICOACME_AGAIN;
    }
    l->lookup_state = LK_IDLE;
    if (e == ERR_OK) {
        /* the local host list or lwIP's cache */
        return IP_IS_V4(out) ? PICOACME_OK : PICOACME_ERR_IO;
    }
    return e == ERR_MEM ? PICOACME_AGAIN : PICOACME_ERR_IO; /* ERR_MEM: table busy */
}
#endif

/* The IPv4 address of host: a literal at once (no lookup disturbed), a
 * name through lwIP's DNS client (without LWIP_DNS: not found). */
static picoacme_err_t resolve(picoacme_lwip_t *l, const char *host, ip_addr_t *out)
{
    if (ipaddr_aton(host, out) != 0) {
        return IP_IS_V4(out) ? PICOACME_OK : PICOACME_ERR_IO;
    }
#if LWIP_DNS
    return lookup(l, host, out);
#else
    (void)l;
    return PICOACME_ERR_NOT_FOUND;
#endif
}

/* ---- lwIP callbacks (arg is the connection) ---------------------------- */

static void on_err(void *arg, err_t err)
{
    picoacme_lwip_conn_t *c = arg;
    (void)err;
    /* lwIP has already freed the pcb. */
    c->pcb = NULL;
    c->state = ST_FAILED;
    c->err = PICOACME_ERR_IO;
    wake();
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    picoacme_lwip_conn_t *c = arg;
    if (p == NULL) {
        if (c->state == ST_OPEN || c->state == ST_CONNECTING) {
            c->state = ST_PEER_CLOSED;
        }
        wake();
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    if (p->tot_len > sizeof c->ring - c->len) {
        /* Cannot happen while the ring >= TCP_WND; let lwIP keep it. */
        (void)pcb;
        return ERR_MEM;
    }
    size_t tail = (c->head + c->len) % sizeof c->ring;
    size_t first = sizeof c->ring - tail;
    if (first > p->tot_len) {
        first = p->tot_len;
    }
    (void)pbuf_copy_partial(p, &c->ring[tail], (u16_t)first, 0);
    if (first < p->tot_len) {
        (void)pbuf_copy_partial(p, c->ring, (u16_t)(p->tot_len - first), (u16_t)first);
    }
    c->len += p->tot_len;
    pbuf_free(p);
    wake();
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    picoacme_lwip_conn_t *c = arg;
    (void)pcb;
    if (err != ERR_OK) {
        c->state = ST_FAILED;
        c->err = PICOACME_ERR_IO;
        wake();
        return ERR_OK;
    }
    if (c->state == ST_CONNECTING) {
        c->state = ST_OPEN;
    }
    wake();
    return ERR_OK;
}

static void conn_attach(picoacme_lwip_conn_t *c, struct tcp_pcb *pcb)
{
    c->pcb = pcb;
    tcp_arg(pcb, c);
    tcp_err(pcb, on_err);
    tcp_recv(pcb, on_recv);
}

static void conn_detach_close(picoacme_lwip_conn_t *c)
{
    struct tcp_pcb *pcb = c->pcb;
    c->pcb = NULL;
    if (pcb == NULL) {
        return;
    }
    tcp_arg(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_recv(pcb, NULL); /* lwIP's default now acknowledges and drops */
    tcp_sent(pcb, NULL);
    /* Bytes still unread in the ring were never tcp_recved(): with a
     * window short of its maximum, tcp_close() sends RST instead of FIN,
     * and the peer may lose the answer we just sent (an http-01 validator
     * sees "connection reset"). Drop them as read. */
    while (c->len > 0) {
        u16_t chunk = (u16_t)(c->len > 0xFFFFu ? 0xFFFFu : c->len);
        tcp_recved(pcb, chunk);
        c->len -= chunk;
    }
    c->head = 0;
    if (tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
    }
}

/* ---- transport --------------------------------------------------------- */

static picoacme_err_t t_connect_locked(void *user, const char *host, uint16_t port,
                                       picoacme_sock_t *sock)
{
    picoacme_lwip_t *l = user;
    ip_addr_t addr;
    if (host == NULL || sock == NULL || port == 0) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
    picoacme_err_t r = resolve(l, host, &addr);
    if (r != PICOACME_OK) {
        return r; /* AGAIN while the name resolves */
    }
    int idx = conn_alloc(l);
    if (idx < 0) {
        return PICOACME_ERR_NOSPACE;
    }
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL) {
        return PICOACME_ERR_NOSPACE;
    }
    picoacme_lwip_conn_t *c = &l->conn[idx];
    c->state = ST_CONNECTING;
    conn_attach(c, pcb);
    if (tcp_connect(pcb, &addr, port, on_connected) != ERR_OK) {
        conn_detach_close(c);
        c->state = ST_FREE;
        return PICOACME_ERR_IO;
    }
    *sock = (picoacme_sock_t)idx;
    return PICOACME_OK;
}

static picoacme_err_t t_send_locked(void *user, picoacme_sock_t sock, const uint8_t *buf,
                                    size_t len, size_t *sent)
{
    picoacme_lwip_conn_t *c = conn_get(user, sock);
    if (c == NULL || sent == NULL || (buf == NULL && len != 0)) {
        return PICOACME_ERR_PARAM;
    }
    *sent = 0;
    switch (c->state) {
    case ST_CONNECTING: return PICOACME_WANT_WRITE;
    case ST_FAILED: return c->err;
    default: break;
    }
    if (len == 0) {
        return PICOACME_ERR_PARAM;
    }
    size_t n = tcp_sndbuf(c->pcb);
    if (n > len) {
        n = len;
    }
    if (n == 0) {
        return PICOACME_WANT_WRITE;
    }
    err_t e = tcp_write(c->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
    if (e == ERR_MEM) {
        (void)tcp_output(c->pcb);
        return PICOACME_WANT_WRITE; /* segment queue full */
    }
    if (e != ERR_OK) {
        return PICOACME_ERR_IO;
    }
    (void)tcp_output(c->pcb);
    *sent = n;
    return PICOACME_OK;
}

static picoacme_err_t t_recv_locked(void *user, picoacme_sock_t sock, uint8_t *buf, size_t len,
                                    size_t *received)
{
    picoacme_lwip_conn_t *c = conn_get(user, sock);
    if (c == NULL || received == NULL || buf == NULL || len == 0) {
        return PICOACME_ERR_PARAM;
    }
    *received = 0;
    if (c->len > 0) {
        size_t n = c->len < len ? c->len : len;
        size_t first = sizeof c->ring - c->head;
        if (first > n) {
            first = n;
        }
        memcpy(buf, &c->ring[c->head], first);
        memcpy(buf + first, c->ring, n - first);
        c->head = (c->head + n) % sizeof c->ring;
        c->len -= n;
        if (c->pcb != NULL) {
            /* n <= PICOACME_LWIP_RX_RING, a u16 on any sane config. */
            size_t left = n;
            while (left > 0) {
                u16_t chunk = (u16_t)(left > 0xFFFFu ? 0xFFFFu : left);
                tcp_recved(c->pcb, chunk);
                left -= chunk;
            }
        }
        *received = n;
        return PICOACME_OK;
    }
    switch (c->state) {
    case ST_PEER_CLOSED: return PICOACME_ERR_CLOSED;
    case ST_FAILED: return c->err;
    default: return PICOACME_WANT_READ;
    }
}

/* ---- UDP --------------------------------------------------------------- */
#if PICOACME_LWIP_UDP_SOCKS > 0

static picoacme_lwip_udp_t *udp_get(picoacme_lwip_t *l, picoacme_sock_t sock)
{
    if (sock < PICOACME_LWIP_UDP_BASE ||
        (uint32_t)(sock - PICOACME_LWIP_UDP_BASE) >= PICOACME_LWIP_UDP_SOCKS) {
        return NULL;
    }
    picoacme_lwip_udp_t *u = &l->udp[sock - PICOACME_LWIP_UDP_BASE];
    return u->pcb != NULL ? u : NULL;
}

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                        u16_t port)
{
    picoacme_lwip_udp_t *u = arg;
    (void)pcb;
    if (p == NULL) {
        return;
    }
    if (u->peer_addr == 0 || addr == NULL || !IP_IS_V4(addr) ||
        ip4_addr_get_u32(ip_2_ip4(addr)) != u->peer_addr || port != u->peer_port ||
        u->count >= PICOACME_LWIP_UDP_QUEUE) {
        pbuf_free(p); /* not from our server, or queue full: drop */
        return;
    }
    uint32_t slot = (u->head + u->count) % PICOACME_LWIP_UDP_QUEUE;
    u16_t n = p->tot_len > PICOACME_LWIP_UDP_MAX ? (u16_t)PICOACME_LWIP_UDP_MAX : p->tot_len;
    u->len[slot] = pbuf_copy_partial(p, u->data[slot], n, 0);
    u->count++;
    pbuf_free(p);
    wake();
}

static picoacme_err_t t_udp_open_locked(void *user, picoacme_sock_t *sock)
{
    picoacme_lwip_t *l = user;
    if (sock == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
    for (uint32_t i = 0; i < PICOACME_LWIP_UDP_SOCKS; i++) {
        picoacme_lwip_udp_t *u = &l->udp[i];
        if (u->pcb != NULL) {
            continue;
        }
        struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V4);
        if (pcb == NULL) {
            return PICOACME_ERR_NOSPACE;
        }
        if (udp_bind(pcb, IP4_ADDR_ANY, 0) != ERR_OK) {
            udp_remove(pcb);
            return PICOACME_ERR_IO;
        }
        u->pcb = pcb;
        u->peer_addr = 0;
        u->peer_port = 0;
        u->head = 0;
        u->count = 0;
        udp_recv(pcb, on_udp_recv, u);
        *sock = PICOACME_LWIP_UDP_BASE + (picoacme_sock_t)i;
        return PICOACME_OK;
    }
    return PICOACME_ERR_NOSPACE;
}

static picoacme_err_t t_udp_send_locked(void *user, picoacme_sock_t sock, const char *host,
                                        uint16_t port, const uint8_t *buf, size_t len)
{
    picoacme_lwip_t *l = user;
    picoacme_lwip_udp_t *u = udp_get(l, sock);
    ip_addr_t addr;
    if (u == NULL || host == NULL || port == 0 || buf == NULL || len == 0 || len > 0xFFFFU - 28U) {
        return PICOACME_ERR_PARAM;
    }
    picoacme_err_t r = resolve(l, host, &addr);
    if (r != PICOACME_OK) {
        return r; /* AGAIN while the name resolves: nothing sent */
    }
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (p == NULL) {
        return PICOACME_WANT_WRITE;
    }
    if (pbuf_take(p, buf, (u16_t)len) != ERR_OK) {
        pbuf_free(p);
        return PICOACME_ERR_IO;
    }
    u->peer_addr = ip4_addr_get_u32(ip_2_ip4(&addr));
    u->peer_port = port;
    err_t e = udp_sendto(u->pcb, p, &addr, port);
    pbuf_free(p);
    if (e == ERR_MEM) {
        return PICOACME_WANT_WRITE;
    }
    return e == ERR_OK ? PICOACME_OK : PICOACME_ERR_IO;
}

static picoacme_err_t t_udp_recv_locked(void *user, picoacme_sock_t sock, uint8_t *buf, size_t cap,
                                        size_t *received)
{
    picoacme_lwip_udp_t *u = udp_get(user, sock);
    if (u == NULL || buf == NULL || cap == 0 || received == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *received = 0;
    if (u->count == 0) {
        return PICOACME_WANT_READ;
    }
    size_t n = u->len[u->head] < cap ? u->len[u->head] : cap;
    memcpy(buf, u->data[u->head], n);
    u->head = (uint8_t)((u->head + 1U) % PICOACME_LWIP_UDP_QUEUE);
    u->count--;
    *received = n;
    return PICOACME_OK;
}

static void udp_sock_close(picoacme_lwip_udp_t *u)
{
    if (u->pcb != NULL) {
        udp_remove(u->pcb);
        u->pcb = NULL;
    }
    u->count = 0;
}
#endif /* PICOACME_LWIP_UDP_SOCKS > 0 */

static void t_close_locked(void *user, picoacme_sock_t sock)
{
    picoacme_lwip_t *l = user;
    if (sock == PICOACME_LWIP_LISTENER) {
        if (l->listener != NULL) {
            tcp_arg(l->listener, NULL);
            tcp_accept(l->listener, NULL);
            (void)tcp_close(l->listener); /* never fails for a listener */
            l->listener = NULL;
        }
        return;
    }
#if PICOACME_LWIP_UDP_SOCKS > 0
    picoacme_lwip_udp_t *u = udp_get(l, sock);
    if (u != NULL) {
        udp_sock_close(u);
        return;
    }
#endif
    picoacme_lwip_conn_t *c = conn_get(l, sock);
    if (c == NULL) {
        return;
    }
    conn_detach_close(c);
    c->state = ST_FREE;
    c->pending_accept = false;
    c->len = 0;
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
    picoacme_lwip_t *l = arg;
    if (err != ERR_OK || newpcb == NULL) {
        return ERR_VAL;
    }
    int idx = conn_alloc(l);
    if (idx < 0) {
        tcp_abort(newpcb);
        return ERR_ABRT;
    }
    picoacme_lwip_conn_t *c = &l->conn[idx];
    c->state = ST_OPEN;
    c->pending_accept = true;
    conn_attach(c, newpcb);
    wake();
    return ERR_OK;
}

static picoacme_err_t t_listen_locked(void *user, uint16_t port, picoacme_sock_t *lsock)
{
    picoacme_lwip_t *l = user;
    if (lsock == NULL || port == 0) {
        return PICOACME_ERR_PARAM;
    }
    *lsock = PICOACME_SOCK_NONE;
    if (l->listener != NULL) {
        return PICOACME_ERR_STATE;
    }
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL) {
        return PICOACME_ERR_NOSPACE;
    }
#if SO_REUSE
    /* The connections this listener accepted and we closed sit in
     * TIME_WAIT on the same local port; listening again (the next
     * renewal's http-01) must not be refused because of them. */
    ip_set_option(pcb, SOF_REUSEADDR);
#endif
    if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
        tcp_abort(pcb);
        return PICOACME_ERR_IO;
    }
    struct tcp_pcb *lpcb = tcp_listen_with_backlog(pcb, (u8_t)PICOACME_LWIP_CONNS);
    if (lpcb == NULL) {
        tcp_abort(pcb);
        return PICOACME_ERR_NOSPACE;
    }
    l->listener = lpcb;
    tcp_arg(lpcb, l);
    tcp_accept(lpcb, on_accept);
    *lsock = PICOACME_LWIP_LISTENER;
    return PICOACME_OK;
}

static picoacme_err_t t_accept_locked(void *user, picoacme_sock_t lsock, picoacme_sock_t *sock)
{
    picoacme_lwip_t *l = user;
    if (sock == NULL || lsock != PICOACME_LWIP_LISTENER || l->listener == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
    for (uint32_t i = 0; i < PICOACME_LWIP_CONNS; i++) {
        if (l->conn[i].state != ST_FREE && l->conn[i].pending_accept) {
            l->conn[i].pending_accept = false;
            *sock = (picoacme_sock_t)i;
            return PICOACME_OK;
        }
    }
    return PICOACME_WANT_READ;
}

/* ---- the transport's entry points: the core lock around each --------- */

static picoacme_err_t t_connect(void *user, const char *host, uint16_t port, picoacme_sock_t *sock)
{
    PA_LOCK();
    picoacme_err_t e = t_connect_locked(user, host, port, sock);
    PA_UNLOCK();
    return e;
}

static picoacme_err_t t_send(void *user, picoacme_sock_t sock, const uint8_t *buf, size_t len,
                             size_t *sent)
{
    PA_LOCK();
    picoacme_err_t e = t_send_locked(user, sock, buf, len, sent);
    PA_UNLOCK();
    return e;
}

static picoacme_err_t t_recv(void *user, picoacme_sock_t sock, uint8_t *buf, size_t len,
                             size_t *received)
{
    PA_LOCK();
    picoacme_err_t e = t_recv_locked(user, sock, buf, len, received);
    PA_UNLOCK();
    return e;
}

static picoacme_err_t t_listen(void *user, uint16_t port, picoacme_sock_t *lsock)
{
    PA_LOCK();
    picoacme_err_t e = t_listen_locked(user, port, lsock);
    PA_UNLOCK();
    return e;
}

static picoacme_err_t t_accept(void *user, picoacme_sock_t lsock, picoacme_sock_t *sock)
{
    PA_LOCK();
    picoacme_err_t e = t_accept_locked(user, lsock, sock);
    PA_UNLOCK();
    return e;
}

static void t_close(void *user, picoacme_sock_t sock)
{
    PA_LOCK();
    t_close_locked(user, sock);
    PA_UNLOCK();
}

#if PICOACME_LWIP_UDP_SOCKS > 0
static picoacme_err_t t_udp_open(void *user, picoacme_sock_t *sock)
{
    PA_LOCK();
    picoacme_err_t e = t_udp_open_locked(user, sock);
    PA_UNLOCK();
    return e;
}

static picoacme_err_t t_udp_send(void *user, picoacme_sock_t sock, const char *host, uint16_t port,
                                 const uint8_t *buf, size_t len)
{
    PA_LOCK();
    picoacme_err_t e = t_udp_send_locked(user, sock, host, port, buf, len);
    PA_UNLOCK();
    return e;
}

static picoacme_err_t t_udp_recv(void *user, picoacme_sock_t sock, uint8_t *buf, size_t cap,
                                 size_t *received)
{
    PA_LOCK();
    picoacme_err_t e = t_udp_recv_locked(user, sock, buf, cap, received);
    PA_UNLOCK();
    return e;
}

#endif

void picoacme_lwip_init(picoacme_lwip_t *l, picoacme_transport_t *out)
{
    memset(l, 0, sizeof *l);
    out->user = l;
    out->connect = t_connect;
    out->send = t_send;
    out->recv = t_recv;
    out->close = t_close;
    out->listen = t_listen;
    out->accept = t_accept;
#if PICOACME_LWIP_UDP_SOCKS > 0
    out->udp_open = t_udp_open;
    out->udp_send = t_udp_send;
    out->udp_recv = t_udp_recv;
#else
    out->udp_open = NULL;
    out->udp_send = NULL;
    out->udp_recv = NULL;
#endif
}

void picoacme_lwip_set_wake(void (*fn)(void *user), void *user)
{
    PA_LOCK();
    g_wake = fn;
    g_wake_user = user;
    PA_UNLOCK();
}

void picoacme_lwip_shutdown(picoacme_lwip_t *l)
{
    PA_LOCK();
    for (uint32_t i = 0; i < PICOACME_LWIP_CONNS; i++) {
        picoacme_lwip_conn_t *c = &l->conn[i];
        if (c->pcb != NULL) {
            struct tcp_pcb *pcb = c->pcb;
            c->pcb = NULL;
            tcp_arg(pcb, NULL);
            tcp_err(pcb, NULL);
            tcp_recv(pcb, NULL);
            tcp_abort(pcb);
        }
        c->state = ST_FREE;
        c->pending_accept = false;
        c->len = 0;
    }
#if PICOACME_LWIP_UDP_SOCKS > 0
    for (uint32_t i = 0; i < PICOACME_LWIP_UDP_SOCKS; i++) {
        udp_sock_close(&l->udp[i]);
    }
#endif
    t_close_locked(l, PICOACME_LWIP_LISTENER);
    PA_UNLOCK();
}
