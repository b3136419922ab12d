/*
 * daemon.c - `picoacme run`: every job's certificate kept valid by its own
 * picoacme_keeper_t (picoacme_keeper.h: when to renew, ARI, backoff with
 * jitter, failover over the CA list, all persisted next to the state in
 * STATE.keeper), pumped from one poll() loop. The command adds what is
 * the host's: --out published from the state at the start and after each
 * issuance, the hooks, the log, SIGHUP (the config file again) and
 * SIGTERM.
 */
#include "cli.h"
#include "h01.h"
#include "run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "picoacme_keeper.h"

/* The keeper's own A/B store: two erase blocks of the file STATE.keeper. */
#define KEEP_ERASE 4096U
#define KEEP_SIZE  (2U * KEEP_ERASE)

static volatile sig_atomic_t g_stop, g_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        g_reload = 1;
    } else {
        g_stop = 1;
    }
}

/* One job's keeper and what it runs on. */
typedef struct keep {
    session_t s;
    /* the fallback CA's roots */
    picoacme_wolfssl_tls_t fb_wt;
    picoacme_tls_t fb_tls;
    uint8_t *fb_roots;
    size_t fb_roots_len;
    picoacme_keeper_ca_t cas[2];
    picoacme_posix_flash_t kflash;
    picoacme_storage_t kstore;
    bool kflash_open;
    bool had;            /* a certificate was stored: the next one renews it */
    int64_t told_next;   /* the next action last logged */
    uint8_t told_ca;     /* the CA in use last logged */
    unsigned hs0;        /* TLS handshakes before the run in flight */
    picoacme_keeper_t k; /* large: the engine context */
} keep_t;

static int fallback_open(const job_t *j, keep_t *kp)
{
    picoacme_config_t *c = &kp->cas[1].cfg;
    *c = j->cfg;
    c->directory_url = j->fb_url;
    c->eab_kid = NULL; /* EAB is per CA: the primary's binding is not the fallback's */
    c->eab_key = NULL;
    c->eab_key_len = 0;
    kp->cas[1].tls = NULL;
    if (j->fb_root_path == NULL) {
        return 0;
    }
    if (read_file(j->fb_root_path, &kp->fb_roots, &kp->fb_roots_len) != 0 ||
        picoacme_wolfssl_tls_init(&kp->fb_wt, &kp->s.tp, NULL, kp->fb_roots, kp->fb_roots_len,
                                  PICOACME_WOLFSSL_PEM, &kp->fb_tls) != PICOACME_OK) {
        say(LOG_ERR, "--fallback-ca-root %s holds no usable certificate", j->fb_root_path);
        free(kp->fb_roots);
        kp->fb_roots = NULL;
        return -1;
    }
    kp->cas[1].tls = &kp->fb_tls;
    return 0;
}

static void keep_close(job_t *j)
{
    keep_t *kp = j->keep;
    if (kp == NULL) {
        return;
    }
    picoacme_keeper_stop(&kp->k);
    if (kp->fb_roots != NULL) {
        picoacme_wolfssl_tls_free(&kp->fb_wt);
        free(kp->fb_roots);
    }
    if (kp->kflash_open) {
        picoacme_posix_flash_close(&kp->kflash);
    }
    session_close(&kp->s);
    memset(kp, 0, sizeof *kp); /* keys */
    free(kp);
    j->keep = NULL;
}

/* The keeper's configuration from the job. */
static void keeper_config(const job_t *j, keep_t *kp, picoacme_keeper_config_t *kc)
{
    memset(kc, 0, sizeof *kc);
    kp->cas[0].cfg = j->cfg;
    kp->cas[0].tls = NULL;
    /* http-01 is answered from the daemon's shared listener (h01.c) */
    kp->cas[0].cfg.http01_port = 0;
    kp->cas[1].cfg.http01_port = 0;
    kc->cas = kp->cas;
    kc->n_cas = j->fb_url != NULL ? 2U : 1U;
    kc->failover_after = (uint8_t)j->failover_after;
    kc->failback_s = (uint32_t)j->failback_s;
    kc->backoff_min_s = (uint32_t)j->retry_s;
    kc->backoff_max_s = j->retry_s > 3600 ? (uint32_t)j->retry_s : 3600U;
    kc->state_store = &kp->kstore;
    kc->fleet_index = (uint32_t)j->fleet_index;
}

/* What a start finds in the state, with a context of its own: --out
 * restored; renew at once when revoked or for other names. */
static bool keep_start_checks(const job_t *j, keep_t *kp)
{
    int64_t at = 0;
    bool now = true;
    picoacme_stored_info_t info;
    if (picoacme_init(&g_ctx, &j->cfg, &kp->s.ports) == PICOACME_OK) {
        now = job_start_checks(j, &g_ctx, &kp->s, &at);
        kp->had = picoacme_stored(&g_ctx, &info) == PICOACME_OK;
        picoacme_abort(&g_ctx);
    }
    return now && kp->had; /* nothing stored: the keeper enrols by itself */
}

/* Open j's state and start its keeper. 0, or the exit status. */
static int keep_open(job_t *j)
{
    char path[4200];
    picoacme_keeper_config_t kc;
    keep_t *kp = calloc(1, sizeof *kp);
    int rc;
    if (kp == NULL) {
        return 1;
    }
    j->keep = kp;
    job_hwkeys_use(j);
    rc = session_open(&kp->s, j->state, j->root_path);
    if (rc != 0) {
        free(kp);
        j->keep = NULL;
        return rc;
    }
    if (!state_fits_ca(&kp->s.st, j->state, j->dir_url, j->fb_url)) {
        return 2;
    }
    snprintf(path, sizeof path, "%s.keeper", j->state);
    if (fallback_open(j, kp) != 0 ||
        picoacme_posix_flash_open(&kp->kflash, path, KEEP_SIZE, KEEP_ERASE, &kp->kstore) !=
            PICOACME_OK) {
        say(LOG_ERR, "cannot open the keeper's state %s", path);
        return 1;
    }
    kp->kflash_open = true;
    keeper_config(j, kp, &kc);
    if (picoacme_keeper_init(&kp->k, &kc, &kp->s.ports) != PICOACME_OK) {
        say(LOG_ERR, "invalid configuration: check --directory and the identifiers");
        return 1;
    }
    if (keep_start_checks(j, kp)) {
        (void)picoacme_keeper_renew_now(&kp->k);
    }
    kp->told_next = -1;
    return 0;
}

/* ---- the keeper's events ---- */

static const picoacme_wolfssl_tls_t *keep_tls(const keep_t *kp, uint8_t ca)
{
    if (ca == 1U && kp->fb_roots != NULL) {
        return &kp->fb_wt;
    }
    return kp->s.roots != NULL ? &kp->s.wt : NULL;
}

static void on_issued(job_t *j, keep_t *kp)
{
    picoacme_keeper_status_t st;
    const picoacme_wolfssl_tls_t *tls;
    picoacme_keeper_status(&kp->k, &st);
    tls = keep_tls(kp, st.ca);
    (void)job_issued(j, picoacme_keeper_ctx(&kp->k), &kp->s,
                     tls != NULL ? tls->handshakes - kp->hs0 : 0U, kp->had);
    kp->had = true;
    j->done_n++;
    j->finished = j->max_renewals != 0U && j->done_n >= j->max_renewals;
}

static void on_event(job_t *j, keep_t *kp, picoacme_keeper_event_t ev)
{
    picoacme_keeper_status_t st;
    picoacme_keeper_status(&kp->k, &st);
    g_dir_url = kp->cas[st.ca < 2U ? st.ca : 0U].cfg.directory_url;
    if (ev == PICOACME_KEEPER_EV_ISSUED) {
        on_issued(j, kp);
    } else if (ev == PICOACME_KEEPER_EV_RENEWAL_FAILING) {
        job_failed(j, picoacme_keeper_ctx(&kp->k), picoacme_keeper_problem(&kp->k),
                   keep_tls(kp, kp->told_ca));
    } else if (ev == PICOACME_KEEPER_EV_EXPIRED) {
        char t[32];
        iso_time(st.not_after_s, t, sizeof t);
        say(LOG_ERR, "the certificate in %s expired at %s; still trying to renew it", j->state, t);
    }
}

/* The keeper waits: say until when, and why. */
static void tell_wait(const picoacme_keeper_status_t *st)
{
    char t[32];
    int64_t renew = st->renew_at_s != 0 ? st->renew_at_s : st->next_at_s;
    if (st->why == PICOACME_KEEPER_WHY_BACKOFF || st->why == PICOACME_KEEPER_WHY_RATE_LIMIT ||
        st->why == PICOACME_KEEPER_WHY_RECOVERY) {
        say(LOG_NOTICE, "retrying in %lld s (%s)", (long long)(st->next_at_s - st->now_s),
            picoacme_keeper_why_str(st->why));
        return;
    }
    renew = renew > st->now_s ? renew : st->now_s;
    iso_time(renew, t, sizeof t);
    if (st->why == PICOACME_KEEPER_WHY_ARI_RETRY && st->next_at_s < renew) {
        say(LOG_NOTICE, "next renewal in %lld s (%s, %s); renewalInfo asked again in %lld s",
            (long long)(renew - st->now_s), t,
            st->ari ? "the CA's ARI window" : "lifetime fraction",
            (long long)(st->next_at_s - st->now_s));
        return;
    }
    say(LOG_NOTICE, "next renewal in %lld s (%s, %s)", (long long)(renew - st->now_s), t,
        picoacme_keeper_why_str(st->why));
}

/* Say what the keeper will do next, once per decision. */
static void tell_plan(const job_t *j, keep_t *kp)
{
    picoacme_keeper_status_t st;
    picoacme_keeper_status(&kp->k, &st);
    if (st.ca != kp->told_ca) {
        say(LOG_WARNING, "CA %s failed %u times in a row: switching to %s",
            kp->cas[kp->told_ca].cfg.directory_url, (unsigned)j->failover_after,
            kp->cas[st.ca].cfg.directory_url);
        kp->told_ca = st.ca;
    }
    if (st.phase != PICOACME_KEEPER_PH_WAIT || st.next_at_s == kp->told_next ||
        st.why == PICOACME_KEEPER_WHY_ENROL || st.why == PICOACME_KEEPER_WHY_RENEW_NOW) {
        return;
    }
    kp->told_next = st.next_at_s;
    say(LOG_DEBUG, "keeper %s: %s, now %lld, next %lld, renew %lld, ari %d [%lld, %lld]", j->name,
        picoacme_keeper_why_str(st.why), (long long)st.now_s, (long long)st.next_at_s,
        (long long)st.renew_at_s, (int)st.ari, (long long)st.ari_start_s, (long long)st.ari_end_s);
    tell_wait(&st);
}

/* The shared http-01 listener has connections: answer each from the
 * engine that knows its token. */
static void serve_h01(job_t *list)
{
    int fd;
    while ((fd = cli_h01_accept()) >= 0) {
        char path[512], body[512];
        size_t len = 0;
        job_t *j;
        bool ok = cli_h01_read_path(fd, path, sizeof path);
        for (j = list; ok && j != NULL; j = j->next) {
            if (j->keep != NULL &&
                picoacme_http01_lookup(picoacme_keeper_ctx(&j->keep->k), path, strlen(path), body,
                                       sizeof body, &len) == PICOACME_OK) {
                say(LOG_INFO, "http-01: answered %s for %s", path, j->name);
                break;
            }
            len = 0;
        }
        cli_h01_answer(fd, body, len);
    }
}

/* The one http-01 port of the certificates that allow http-01 (0: none).
 * -1 when they name different ones. */
static int h01_port(const job_t *list)
{
    int port = 0;
    for (; list != NULL; list = list->next) {
        size_t i;
        for (i = 0; i < list->cfg.n_challenges; i++) {
            if (list->cfg.challenges[i] != PICOACME_CHALL_HTTP01) {
                continue;
            }
            if (port != 0 && port != list->http_port) {
                say(LOG_ERR,
                    "the certificates allowing http-01 name different --http01-port "
                    "(%d, %u): they share one listener",
                    port, (unsigned)list->http_port);
                return -1;
            }
            port = list->http_port;
        }
    }
    return port;
}

/* ---- the loop ---- */

/* Step one job's keeper; its sockets into pfd. Returns its timeout. */
static int step_job(job_t *j, struct pollfd *pfd, nfds_t *n)
{
    keep_t *kp = j->keep;
    picoacme_wait_t w;
    picoacme_keeper_event_t ev = picoacme_keeper_step(&kp->k, &w);
    unsigned i;
    if (ev != PICOACME_KEEPER_EV_NONE) {
        const picoacme_wolfssl_tls_t *tls = keep_tls(kp, kp->told_ca);
        on_event(j, kp, ev);
        kp->hs0 = tls != NULL ? tls->handshakes : 0U; /* counted from here */
    }
    tell_plan(j, kp);
    for (i = 0; i < w.count; i++) {
        pfd[*n].fd = (int)w.sock[i];
        pfd[*n].events = (short)(((w.events[i] & PICOACME_EV_READ) ? POLLIN : 0) |
                                 ((w.events[i] & PICOACME_EV_WRITE) ? POLLOUT : 0));
        pfd[*n].revents = 0;
        (*n)++;
    }
    return ev != PICOACME_KEEPER_EV_NONE ? 0 : w.timeout_ms > 60000U ? 60000 : (int)w.timeout_ms;
}

static size_t count_jobs(const job_t *list)
{
    size_t n = 0;
    for (; list != NULL; list = list->next) {
        n++;
    }
    return n;
}

/* The job whose keeper has an issuance in flight, or NULL. One at a
 * time: they share the http-01 and tls-alpn-01 ports. */
static job_t *issuing(job_t *list)
{
    for (; list != NULL; list = list->next) {
        picoacme_keeper_status_t st;
        if (list->keep != NULL) {
            picoacme_keeper_status(&list->keep->k, &st);
            if (st.phase == PICOACME_KEEPER_PH_ISSUE) {
                return list;
            }
        }
    }
    return NULL;
}

/* One round over the jobs and one poll(). false when none is left. */
static void open_job(job_t *j, int *worst)
{
    if (j->keep != NULL || j->finished || j->fatal != 0) {
        return;
    }
    j->fatal = keep_open(j);
    if (j->fatal != 0) {
        keep_close(j);
        *worst = j->fatal > *worst ? j->fatal : *worst;
        if (j->name[0] != '\0') { /* the command line's one job: its error said it */
            say(LOG_ERR, "[certificate %s] taken out of service", j->name);
        }
    }
}

/* Step j (opened); true when it now holds the listeners (an issuance). */
static bool run_job(job_t *j, struct pollfd *pfd, nfds_t *n, int *timeout)
{
    int t = step_job(j, pfd, n);
    *timeout = t < *timeout ? t : *timeout;
    if (j->finished) {
        keep_close(j);
        return false;
    }
    return issuing(j) == j;
}

/* poll() the keepers' sockets (n of pfd) and the shared http-01 listener;
 * answer the listener. false when poll() failed. */
static bool wait_all(job_t *list, struct pollfd *pfd, nfds_t n, int timeout)
{
    bool h01 = cli_h01_fd() >= 0;
    if (h01) {
        pfd[n].fd = cli_h01_fd();
        pfd[n].events = POLLIN;
        pfd[n++].revents = 0;
    }
    if (g_stop || g_reload) {
        return true;
    }
    if (poll(pfd, n, timeout) < 0) {
        return errno == EINTR;
    }
    if (h01 && (pfd[n - 1U].revents & POLLIN) != 0) {
        serve_h01(list);
    }
    return true;
}

static bool round_jobs(job_t *list, struct pollfd *pfd, int *worst)
{
    nfds_t n = 0;
    int timeout = 60000;
    bool any = false;
    job_t *busy = issuing(list);
    job_t *j;
    for (j = busy != NULL ? busy : list; j != NULL && !g_stop; j = busy != NULL ? NULL : j->next) {
        open_job(j, worst);
        if (j->keep != NULL && run_job(j, pfd, &n, &timeout)) {
            busy = j; /* it holds the listeners now: the others wait */
        }
        any = any || j->keep != NULL;
    }
    return !any || wait_all(list, pfd, n, timeout) ? any : false;
}

static void close_all(job_t *list)
{
    for (; list != NULL; list = list->next) {
        keep_close(list);
    }
}

/* SIGHUP: the config file again; every keeper starts again from its
 * persisted state (a certificate whose names changed is issued at once). */
static job_t *reload(job_t *old, const char *path, struct pollfd **pfd)
{
    char err[700];
    job_t *list = config_load(path, err, sizeof err);
    struct pollfd *p;
    if (list == NULL) {
        say(LOG_ERR, "SIGHUP: %s; keeping the configuration in use", err);
        return old;
    }
    p = calloc(count_jobs(list) * PICOACME_WAIT_SOCKS + 1U, sizeof *p);
    if (p == NULL) {
        job_free(list);
        return old;
    }
    if (h01_port(list) < 0 || cli_h01_open((uint16_t)h01_port(list)) != 0) {
        say(LOG_ERR, "SIGHUP: keeping the configuration in use");
        (void)cli_h01_open((uint16_t)h01_port(old));
        job_free(list);
        free(p);
        return old;
    }
    close_all(old);
    job_free(old);
    free(*pfd);
    *pfd = p;
    say(LOG_NOTICE, "SIGHUP: %s read again", path);
    return list;
}

int daemon_run(job_t *list, const char *config)
{
    struct sigaction sa;
    int worst = 0;
    struct pollfd *pfd = calloc(count_jobs(list) * PICOACME_WAIT_SOCKS + 1U, sizeof *pfd);
    int port = h01_port(list);
    if (port < 0 || cli_h01_open((uint16_t)port) != 0) {
        job_free(list);
        free(pfd);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGHUP, &sa, NULL);
    while (pfd != NULL && !g_stop) {
        if (g_reload) {
            g_reload = 0;
            if (config != NULL) {
                list = reload(list, config, &pfd);
            }
        }
        if (!round_jobs(list, pfd, &worst)) {
            break;
        }
    }
    close_all(list);
    job_free(list);
    cli_h01_close();
    free(pfd);
    return pfd == NULL ? 1 : worst;
}
