/*
 * resolve.c - Zephyr port: the BSD-sockets resolver hook over Zephyr's
 * asynchronous DNS resolver (dns_get_addr_info(), CONFIG_DNS_RESOLVER);
 * zsock_getaddrinfo() would block the engine's thread. The callback runs in
 * the resolver's work queue and fills a static; the hook answers
 * PICOACME_AGAIN until DNS_EAI_ALLDONE (or a failure) arrived. One lookup
 * at a time. NOT BUILT here.
 */
#include <string.h>
#include <zephyr/kernel.h>
#include <zephyr/net/dns_resolve.h>

#include "picoacme_zephyr.h"

#define NAME_MAX_Z 254U

enum { LK_IDLE = 0, LK_PENDING, LK_DONE, LK_FAILED, LK_NONAME };

static struct {
    struct k_spinlock lock;
    uint8_t state;
    int socktype;
    char name[NAME_MAX_Z];
    unsigned count;
    picoacme_bsdsock_addr_t addr[PICOACME_BSDSOCK_ADDRS];
} g_lk;

static void on_result(enum dns_resolve_status status, struct dns_addrinfo *info, void *user)
{
    k_spinlock_key_t key = k_spin_lock(&g_lk.lock);
    (void)user;
    if (g_lk.state == LK_PENDING) {
        if (status == DNS_EAI_INPROGRESS && info != NULL && g_lk.count < PICOACME_BSDSOCK_ADDRS &&
            info->ai_addrlen <= sizeof g_lk.addr[0].ss) {
            picoacme_bsdsock_addr_t *a = &g_lk.addr[g_lk.count++];
            memset(a, 0, sizeof *a);
            memcpy(&a->ss, &info->ai_addr, info->ai_addrlen);
            a->len = (socklen_t)info->ai_addrlen;
        } else if (status == DNS_EAI_ALLDONE) {
            g_lk.state = g_lk.count > 0U ? LK_DONE : LK_NONAME;
        } else if (status == DNS_EAI_NONAME || status == DNS_EAI_NODATA) {
            g_lk.state = LK_NONAME;
        } else if (status != DNS_EAI_INPROGRESS) {
            g_lk.state = LK_FAILED; /* timeout, cancel, system error */
        }
    }
    k_spin_unlock(&g_lk.lock, key);
}

static picoacme_err_t take(uint16_t port, picoacme_bsdsock_addr_t *addr, unsigned cap,
                           unsigned *count)
{
    uint8_t st = g_lk.state;
    unsigned i;

    g_lk.state = LK_IDLE;
    if (st == LK_NONAME) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (st != LK_DONE) {
        return PICOACME_ERR_IO;
    }
    for (i = 0; i < g_lk.count && i < cap; i++) {
        addr[i] = g_lk.addr[i];
        /* the port of sockaddr_in and sockaddr_in6 is at the same place */
        ((struct sockaddr_in *)&addr[i].ss)->sin_port = htons(port);
    }
    *count = i;
    return PICOACME_OK;
}

static picoacme_err_t z_resolve(void *user, const char *host, uint16_t port, int socktype,
                                picoacme_bsdsock_addr_t *addr, unsigned cap, unsigned *count)
{
    k_spinlock_key_t key;
    picoacme_err_t e = PICOACME_AGAIN;
    size_t n = strlen(host);
    int rc;

    (void)user;
    *count = 0;
    key = k_spin_lock(&g_lk.lock);
    if (g_lk.state != LK_IDLE && strcmp(g_lk.name, host) == 0) {
        if (g_lk.state != LK_PENDING) {
            e = take(port, addr, cap, count);
        }
        k_spin_unlock(&g_lk.lock, key);
        return e;
    }
    if (n >= sizeof g_lk.name) {
        k_spin_unlock(&g_lk.lock, key);
        return PICOACME_ERR_IO;
    }
    memcpy(g_lk.name, host, n + 1U);
    g_lk.socktype = socktype;
    g_lk.count = 0;
    g_lk.state = LK_PENDING;
    k_spin_unlock(&g_lk.lock, key);
    /* an answer to a replaced name may still come: it is kept only while
     * the name matches, so a stale one at worst fails this lookup early */
    rc = dns_get_addr_info(host, DNS_QUERY_TYPE_A, NULL, on_result, NULL,
                           CONFIG_PICOACME_ZEPHYR_DNS_TIMEOUT_MS);
    if (rc != 0) {
        key = k_spin_lock(&g_lk.lock);
        g_lk.state = LK_IDLE;
        k_spin_unlock(&g_lk.lock, key);
        return PICOACME_ERR_IO;
    }
    return PICOACME_AGAIN;
}

void picoacme_zephyr_resolver(picoacme_bsdsock_resolver_t *out)
{
    out->user = NULL;
    out->resolve = z_resolve;
}
