/*
 * resolve.c - POSIX transport port: host names resolved without blocking
 * the engine's thread.
 *
 * Literal IPv4/IPv6 addresses are converted at once (AI_NUMERICHOST: no
 * resolver, no thread). A name goes to one worker thread that calls the
 * ordinary getaddrinfo(); the caller polls and gets PICOACME_AGAIN until
 * the answer is there. One lookup at a time: a call for another name (or
 * port, or socket type) replaces a queued lookup; a running one cannot be
 * stopped, so it is finished first and its answer dropped.
 *
 * Why a worker thread around getaddrinfo, and not
 *  - glibc's getaddrinfo_a: glibc only (OpenWrt's musl has none), and its
 *    helper threads call libc's internal getaddrinfo, which an LD_PRELOAD
 *    shim such as nss_wrapper (the address fallback test) cannot replace:
 *    that test's names would go to the system's DNS server;
 *  - c-ares (libc-ares-dev, whose libcares.a would link statically): a new
 *    dependency that reads /etc/hosts and resolv.conf itself, so hosts
 *    resolved through NSS (nsswitch.conf, systemd-resolved, mDNS, LDAP)
 *    would stop resolving, and nss_wrapper is bypassed too.
 * getaddrinfo in a thread keeps exactly today's NSS behaviour, works on
 * glibc and musl, and needs only POSIX threads.
 *
 * The state is static and the functions are for the one engine thread
 * that drives the transport, as everywhere in picoacme.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* EAI_NODATA, EAI_ADDRFAMILY (glibc) */
#endif
#include "resolve.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define HOST_MAX 254U /* RFC 1035 §2.3.4: 253 + a trailing dot */

enum { R_IDLE, R_QUEUED, R_RUNNING, R_DONE };

typedef struct lookup {
    char host[HOST_MAX + 1U];
    char port[8];
    int socktype;
} lookup_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int worker; /* the thread was started */
    int state;
    lookup_t key;         /* the lookup queued, running or done */
    int gai;              /* getaddrinfo's answer once done */
    struct addrinfo *res; /* its addresses (owned here until taken) */
} g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, R_IDLE, {{0}, {0}, 0}, 0, NULL};

static int key_eq(const lookup_t *a, const lookup_t *b)
{
    return a->socktype == b->socktype && strcmp(a->host, b->host) == 0 &&
           strcmp(a->port, b->port) == 0;
}

static void hints_for(struct addrinfo *h, int socktype, int flags)
{
    memset(h, 0, sizeof *h);
    h->ai_family = AF_UNSPEC;
    h->ai_socktype = socktype;
    h->ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
    h->ai_flags = flags;
}

static void *worker(void *arg)
{
    lookup_t k;
    struct addrinfo hints;
    struct addrinfo *res;
    int gai;

    (void)arg;
    pthread_mutex_lock(&g.mu);
    for (;;) {
        while (g.state != R_QUEUED) {
            pthread_cond_wait(&g.cv, &g.mu);
        }
        k = g.key; /* the key stays as is while running */
        g.state = R_RUNNING;
        pthread_mutex_unlock(&g.mu);
        res = NULL;
        hints_for(&hints, k.socktype, AI_NUMERICSERV);
        gai = getaddrinfo(k.host, k.port, &hints, &res);
        pthread_mutex_lock(&g.mu);
        g.gai = gai;
        g.res = gai == 0 ? res : NULL;
        g.state = R_DONE;
    }
    return NULL;
}

/* Start the worker once, with every signal blocked in it (they stay with
 * the thread that runs the engine's loop). */
static int worker_start(void)
{
    pthread_attr_t attr;
    pthread_t t;
    sigset_t all;
    sigset_t old;
    int rc;

    if (g.worker) {
        return 0;
    }
    if (pthread_attr_init(&attr) != 0) {
        return -1;
    }
    (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    (void)pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&t, &attr, worker, NULL);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    (void)pthread_attr_destroy(&attr);
    g.worker = rc == 0;
    return rc == 0 ? 0 : -1;
}

static picoacme_err_t gai_err(int gai)
{
    switch (gai) {
    case 0: return PICOACME_OK;
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
        return PICOACME_ERR_NOT_FOUND;
    default: return PICOACME_ERR_IO; /* EAI_AGAIN, EAI_FAIL, EAI_MEMORY... */
    }
}

/* Hand out the finished lookup k (the caller frees *res). */
static picoacme_err_t take_done(struct addrinfo **res)
{
    picoacme_err_t e = gai_err(g.gai);
    *res = g.res;
    g.res = NULL;
    g.state = R_IDLE;
    return e;
}

/* Under the lock: the next step of the lookup k. */
static picoacme_err_t lookup_step(const lookup_t *k, struct addrinfo **res)
{
    int same = g.state != R_IDLE && key_eq(&g.key, k);

    if (g.state == R_DONE && same) {
        return take_done(res);
    }
    if (g.state == R_RUNNING) {
        return PICOACME_AGAIN; /* ours, or another one to finish first */
    }
    if (g.state == R_QUEUED && same) {
        return PICOACME_AGAIN;
    }
    if (g.state == R_DONE) {
        freeaddrinfo(g.res); /* an answer nobody asks for any more */
        g.res = NULL;
    }
    if (worker_start() != 0) {
        g.state = R_IDLE;
        return PICOACME_ERR_IO;
    }
    g.key = *k;
    g.state = R_QUEUED;
    pthread_cond_signal(&g.cv);
    return PICOACME_AGAIN;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* A host name as DNS and /etc/hosts know it: letters, digits, '-', '_'
 * and dots between non-empty labels of at most 63 octets. */
static int name_ok(const char *host, size_t len)
{
    size_t label = 0;
    size_t i;

    if (len == 0U || len > HOST_MAX || (len == HOST_MAX && host[len - 1U] != '.')) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = host[i];
        if (c == '.') {
            if (label == 0U) {
                return 0;
            }
            label = 0;
        } else if (!name_char(c) || ++label > 63U) {
            return 0;
        }
    }
    return 1;
}

picoacme_err_t picoacme_posix_resolve(const char *host, uint16_t port, int socktype,
                                      struct addrinfo **res)
{
    struct addrinfo hints;
    lookup_t k;
    size_t len;
    picoacme_err_t e;
    int gai;

    *res = NULL;
    memset(&k, 0, sizeof k);
    k.socktype = socktype;
    (void)snprintf(k.port, sizeof k.port, "%u", (unsigned)port);
    hints_for(&hints, socktype, AI_NUMERICHOST | AI_NUMERICSERV);
    gai = getaddrinfo(host, k.port, &hints, res);
    if (gai != EAI_NONAME) {
        return gai == 0 && *res != NULL ? PICOACME_OK : PICOACME_ERR_IO; /* a literal */
    }
    *res = NULL;
    len = strlen(host);
    if (!name_ok(host, len)) {
        return PICOACME_ERR_IO; /* never handed to a resolver */
    }
    memcpy(k.host, host, len + 1U);
    pthread_mutex_lock(&g.mu);
    e = lookup_step(&k, res);
    pthread_mutex_unlock(&g.mu);
    if (e == PICOACME_OK && *res == NULL) {
        e = PICOACME_ERR_NOT_FOUND;
    }
    if (e != PICOACME_OK && *res != NULL) {
        freeaddrinfo(*res);
        *res = NULL;
    }
    return e;
}
