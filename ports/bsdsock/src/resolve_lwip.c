/*
 * resolve_lwip.c - lwIP only (PICOACME_BSDSOCK_LWIP): the BSD-sockets
 * port's resolver hook over lwIP's DNS client, for threaded lwIP
 * (NO_SYS 0). dns_gethostbyname() is called under LOCK_TCPIP_CORE(); its
 * local host list and cache answer at once, otherwise the answer comes
 * through the callback in tcpip_thread and the hook says PICOACME_AGAIN
 * until then (the engine asks again every PICOACME_RESOLVE_POLL_MS).
 * netconn_gethostbyname() would block the engine's task instead.
 *
 * One lookup at a time, kept in a static (one engine task); a lookup for
 * another name replaces it, and an answer for a replaced name is dropped.
 * IPv4 answers only.
 */
#include "picoacme_bsdsock.h"

#if defined(PICOACME_BSDSOCK_LWIP)

#include <string.h>

#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/tcpip.h"

#if !LWIP_DNS || !LWIP_TCPIP_CORE_LOCKING
#error "resolve_lwip.c needs LWIP_DNS and LWIP_TCPIP_CORE_LOCKING"
#endif

enum { LK_IDLE = 0, LK_PENDING, LK_FOUND, LK_FAILED };

static struct {
    volatile uint8_t state; /* written in tcpip_thread, read by the engine */
    uint32_t addr;          /* IPv4, network order */
    char name[DNS_MAX_NAME_LENGTH];
} g_lk;

/* In tcpip_thread (the core lock is held there). */
static void on_found(const char *name, const ip_addr_t *ipaddr, void *arg)
{
    (void)arg;
    if (g_lk.state != LK_PENDING || lwip_stricmp(name, g_lk.name) != 0) {
        return;
    }
    if (ipaddr != NULL && IP_IS_V4(ipaddr)) {
        g_lk.addr = ip4_addr_get_u32(ip_2_ip4(ipaddr));
        g_lk.state = LK_FOUND;
    } else {
        g_lk.state = LK_FAILED;
    }
}

static void fill(uint32_t a, uint16_t port, picoacme_bsdsock_addr_t *out)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
    memset(out, 0, sizeof *out);
    s4->sin_family = AF_INET;
    s4->sin_port = lwip_htons(port);
    s4->sin_addr.s_addr = a;
    out->len = (socklen_t)sizeof *s4;
}

/* Under the core lock: the state of the lookup of host. */
static picoacme_err_t step(const char *host, uint32_t *a)
{
    ip_addr_t ip;
    err_t e;
    size_t n = strlen(host);

    if (g_lk.state != LK_IDLE && lwip_stricmp(host, g_lk.name) == 0) {
        uint8_t st = g_lk.state;
        if (st == LK_PENDING) {
            return PICOACME_AGAIN;
        }
        g_lk.state = LK_IDLE;
        *a = g_lk.addr;
        return st == LK_FOUND ? PICOACME_OK : PICOACME_ERR_NOT_FOUND;
    }
    if (n >= sizeof g_lk.name) {
        return PICOACME_ERR_IO;
    }
    memcpy(g_lk.name, host, n + 1U);
    g_lk.state = LK_PENDING;
    e = dns_gethostbyname(host, &ip, on_found, NULL);
    if (e == ERR_INPROGRESS) {
        return PICOACME_AGAIN;
    }
    g_lk.state = LK_IDLE;
    if (e == ERR_OK && IP_IS_V4(&ip)) {
        *a = ip4_addr_get_u32(ip_2_ip4(&ip));
        return PICOACME_OK;
    }
    return e == ERR_MEM ? PICOACME_AGAIN : PICOACME_ERR_IO; /* ERR_MEM: table busy */
}

static picoacme_err_t lwip_resolve(void *user, const char *host, uint16_t port, int socktype,
                                   picoacme_bsdsock_addr_t *addr, unsigned cap, unsigned *count)
{
    picoacme_err_t e;
    uint32_t a = 0;

    (void)user;
    (void)socktype;
    *count = 0;
    if (cap == 0U) {
        return PICOACME_ERR_PARAM;
    }
    LOCK_TCPIP_CORE();
    e = step(host, &a);
    UNLOCK_TCPIP_CORE();
    if (e == PICOACME_OK) {
        fill(a, port, &addr[0]);
        *count = 1;
    }
    return e;
}

void picoacme_bsdsock_lwip_resolver(picoacme_bsdsock_resolver_t *out)
{
    out->user = NULL;
    out->resolve = lwip_resolve;
}

#else
/* ISO C wants a declaration in every unit. */
typedef int picoacme_bsdsock_no_lwip_resolver;
#endif
