/*
 * run.c - `picoacme issue` (one issuance) and `picoacme run` (keep every
 * job's certificate valid): the jobs come from the command line or the
 * config file (SIGHUP reads it again); each pass over a job opens its
 * state, restores --out from it, and issues when the certificate is due,
 * missing, revoked, or for other names than the job's.
 */
#include "cli.h"
#include "run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static volatile sig_atomic_t g_stop, g_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        g_reload = 1;
    } else {
        g_stop = 1;
    }
}

static void iso_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Sleep up to s seconds, waking early on SIGTERM/SIGINT/SIGHUP. */
static void nap(int64_t s)
{
    while (s > 0 && !g_stop && !g_reload) {
        int ms = s > 60 ? 60000 : (int)s * 1000;
        (void)poll(NULL, 0, ms);
        s -= ms / 1000;
    }
}

/* ---- hooks: PICOACME_EVENT and the rest in the environment ---- */

static void hook_env(const job_t *j, const char *event, const char *problem)
{
    char buf[4096];
    picoacme_stored_info_t info;
    setenv("PICOACME_EVENT", event, 1);
    setenv("PICOACME_CERT", j->out, 1); /* the --out directory, as before */
    snprintf(buf, sizeof buf, "%s/cert.pem", j->out);
    setenv("PICOACME_CERT_PATH", buf, 1);
    snprintf(buf, sizeof buf, "%s/key.pem", j->out);
    setenv("PICOACME_KEY_PATH", buf, 1);
    job_names(j, buf, sizeof buf);
    setenv("PICOACME_NAMES", buf, 1);
    setenv("PICOACME_CERTIFICATE", j->name, 1);
    setenv("PICOACME_DIRECTORY", j->dir_url, 1);
    unsetenv("PICOACME_SERIAL");
    unsetenv("PICOACME_NOT_AFTER");
    if (picoacme_stored(&g_ctx, &info) == PICOACME_OK) {
        if (chain_serial_hex(info.chain_pem, info.chain_len, buf, sizeof buf)) {
            setenv("PICOACME_SERIAL", buf, 1);
        }
        iso_time(info.not_after_s, buf, sizeof buf);
        setenv("PICOACME_NOT_AFTER", buf, 1);
    }
    if (problem != NULL) {
        setenv("PICOACME_PROBLEM", problem, 1);
    } else {
        unsetenv("PICOACME_PROBLEM");
    }
}

static void run_hook(const job_t *j, const char *event, const char *problem)
{
    const char *cmd = problem != NULL ? j->fail_hook : j->hook;
    char why[128];
    if (cmd == NULL) {
        return;
    }
    hook_env(j, event, problem);
    say(LOG_DEBUG, "running the %s hook (PICOACME_EVENT=%s): %s",
        problem != NULL ? "failure" : "renew", event, cmd);
    if (hook_run(cmd, why, sizeof why) != 0) {
        say(LOG_ERR, "--%s %s", problem != NULL ? "failure-hook" : "renew-hook", why);
    }
}

/* ---- one issuance ---- */

/* Issue with cfg and ports; --out written, the hooks run. 0 or 1. */
static int issue_once(const job_t *j, const picoacme_config_t *cfg, session_t *s,
                      const picoacme_ports_t *ports, const picoacme_wolfssl_tls_t *wt)
{
    static char problem[2048];
    const picoacme_wolfssl_tls_t *tlsp = ports->tls != NULL ? wt : NULL;
    unsigned hs0 = tlsp != NULL ? tlsp->handshakes : 0U;
    bool published = false, had;
    picoacme_stored_info_t info;
    picoacme_err_t e = picoacme_init(&g_ctx, cfg, ports);
    g_dir_url = cfg->directory_url;
    if (e != PICOACME_OK) {
        say(LOG_ERR, "invalid configuration (%s): check --directory and the identifiers",
            picoacme_err_str(e));
        return 1;
    }
    had = picoacme_stored(&g_ctx, &info) == PICOACME_OK;
    e = picoacme_issue_start(&g_ctx);
    if (e != PICOACME_OK || pump() != 0) {
        problem_text(problem, sizeof problem, tlsp);
        say(LOG_ERR, "issue %s", problem);
        (void)state_note_failure(j->state, problem);
        run_hook(j, "failed", problem);
        return 1;
    }
    if (publish_stored(&s->wc, j->out, &published) != 0) {
        return 1;
    }
    (void)state_note_failure(j->state, NULL);
    say(LOG_NOTICE,
        "issued %s/cert.pem and %s/key.pem (%u requests, %u connections, %u TLS handshakes, "
        "%u badNonce retries)",
        j->out, j->out, (unsigned)picoacme_stats(&g_ctx)->requests,
        (unsigned)picoacme_stats(&g_ctx)->connections, tlsp != NULL ? tlsp->handshakes - hs0 : 0U,
        (unsigned)picoacme_stats(&g_ctx)->bad_nonces);
    run_hook(j, had ? "renewed" : "issued", NULL);
    return 0;
}

/* -vv: what the command is about to do with j. */
static void say_job(const job_t *j, const char *what)
{
    char names[1024];
    job_names(j, names, sizeof names);
    say(LOG_DEBUG, "%s%s%s: names %s, CA %s, state %s, out %s, hooks %s / %s", what,
        j->name[0] != '\0' ? " " : "", j->name, names, j->dir_url, j->state, j->out,
        j->hook != NULL ? j->hook : "-", j->fail_hook != NULL ? j->fail_hook : "-");
}

/* Local mistakes found before the CA is asked for anything. */
static int local_checks(const job_t *j)
{
    struct stat sb;
    say_job(j, "checking");
    if (stat(j->out, &sb) == 0 ? !S_ISDIR(sb.st_mode) : errno != ENOENT) {
        say(LOG_ERR, "--out %s is not a usable directory", j->out);
        return 2;
    }
    if (out_check_writable(j->out) != 0) {
        say(LOG_ERR, "--out %s cannot be written: %s", j->out, strerror(errno));
        return 2;
    }
    return ports_free(&j->cfg) ? 0 : 2;
}

/* Is the stored certificate due: none, revoked, other names, or its
 * renewal time (ARI when the CA offers it) has come? *at: when it is. */
static bool due(const job_t *j, session_t *s, int64_t *at)
{
    picoacme_stored_info_t info;
    char serial[80];
    bool published = false;
    *at = 0;
    if (picoacme_stored(&g_ctx, &info) != PICOACME_OK) {
        return true;
    }
    if (publish_stored(&s->wc, j->out, &published) == 0 && published) {
        say(LOG_NOTICE, "--out %s restored from the state", j->out);
    }
    (void)picoacme_stored(&g_ctx, &info);
    if (chain_serial_hex(info.chain_pem, info.chain_len, serial, sizeof serial) &&
        state_is_revoked(j->state, serial)) {
        say(LOG_NOTICE, "the stored certificate %s was revoked: renewing now", serial);
        return true;
    }
    if (!chain_names_equal(info.chain_pem, info.chain_len, j->ids, j->n_ids)) {
        say(LOG_NOTICE, "the stored certificate is for other names than %s: issuing again",
            j->name[0] != '\0' ? j->name : "asked");
        return true;
    }
    *at = info.renew_at_s;
    return (int64_t)time(NULL) >= info.renew_at_s;
}

static int job_issue(job_t *j, bool if_due)
{
    session_t s;
    int64_t at = 0;
    int rc = local_checks(j);
    if (rc == 0) {
        rc = session_open(&s, j->state, j->root_path);
    }
    if (rc != 0) {
        return rc;
    }
    rc = 2;
    if (state_fits_ca(&s.st, j->state, j->dir_url, NULL)) {
        rc = 1;
        if (picoacme_init(&g_ctx, &j->cfg, &s.ports) == PICOACME_OK && if_due && !due(j, &s, &at)) {
            char t[32];
            iso_time(at, t, sizeof t);
            say(LOG_NOTICE, "not due: the certificate in %s is renewed from %s", j->state, t);
        } else {
            rc = issue_once(j, &j->cfg, &s, &s.ports, &s.wt);
            rc = rc != 0 && if_due ? 2 : rc; /* uacme's codes: 1 is "not due" */
        }
    }
    session_close(&s);
    return rc;
}

/* ---- the daemon ---- */

/* RFC 9773: ask the CA when to renew (the lifetime fraction stays on any
 * failure); *at moves to the CA's window, or its retry time if sooner. */
static void ari_refresh(int64_t *at)
{
    picoacme_stored_info_t info;
    picoacme_err_t e = picoacme_ari_start(&g_ctx);
    if (e == PICOACME_OK && pump() != 0) {
        e = picoacme_last_problem(&g_ctx)->err;
    }
    if (e != PICOACME_OK) {
        say(LOG_WARNING, "ARI renewal info unavailable (%s), renewing at the lifetime fraction",
            picoacme_err_str(e));
    }
    picoacme_abort(&g_ctx);
    if (picoacme_stored(&g_ctx, &info) == PICOACME_OK) {
        *at = info.renew_at_s;
        if (info.ari && info.ari_retry_at_s > 0 && info.ari_retry_at_s < *at) {
            *at = info.ari_retry_at_s;
        }
    }
}

/* Up to 1% of the lifetime, at most 60 s, so a fleet does not renew in
 * the same second. */
static int64_t jitter(const session_t *s)
{
    picoacme_stored_info_t info;
    uint8_t r[2] = {0, 0};
    int64_t life, max;
    if (picoacme_stored(&g_ctx, &info) != PICOACME_OK) {
        return 0;
    }
    life = info.not_after_s - info.not_before_s;
    max = life / 100 < 60 ? life / 100 : 60;
    if (max <= 0 || s->crypto.random(s->crypto.user, r, sizeof r) != PICOACME_OK) {
        return 0;
    }
    return (int64_t)((r[0] << 8) | r[1]) % (max + 1);
}

/* The fallback CA's TLS (its own roots) for one pass. */
typedef struct fallback {
    picoacme_wolfssl_tls_t wt;
    picoacme_tls_t tls;
    uint8_t *roots;
    size_t roots_len;
    picoacme_config_t cfg;
    picoacme_ports_t ports;
} fallback_t;

static int fallback_open(const job_t *j, const session_t *s, fallback_t *f)
{
    memset(f, 0, sizeof *f);
    f->cfg = j->cfg;
    f->cfg.directory_url = j->fb_url;
    f->cfg.eab_kid = NULL; /* EAB is per CA: the primary's binding is not the fallback's */
    f->cfg.eab_key = NULL;
    f->cfg.eab_key_len = 0;
    f->ports = s->ports;
    f->ports.tls = NULL;
    if (j->fb_root_path == NULL) {
        return 0;
    }
    if (read_file(j->fb_root_path, &f->roots, &f->roots_len) != 0 ||
        picoacme_wolfssl_tls_init(&f->wt, (picoacme_transport_t *)&s->tp, NULL, f->roots,
                                  f->roots_len, PICOACME_WOLFSSL_PEM, &f->tls) != PICOACME_OK) {
        say(LOG_ERR, "--fallback-ca-root %s holds no usable certificate", j->fb_root_path);
        free(f->roots);
        f->roots = NULL;
        return -1;
    }
    f->ports.tls = &f->tls;
    return 0;
}

static void fallback_close(fallback_t *f)
{
    if (f->roots != NULL) {
        picoacme_wolfssl_tls_free(&f->wt);
        free(f->roots);
    }
}

/* After an issuance attempt: the next pass, the back-off, the failover. */
static void after_issue(job_t *j, bool ok, int64_t now)
{
    bool switched = picoacme_failover_result(&j->fo, now, ok);
    if (switched) {
        say(LOG_WARNING, "CA %s failed %u times in a row: switching to %s",
            j->fo.current == 0 ? j->fb_url : j->dir_url, (unsigned)j->fo.max_failures,
            j->fo.current == 0 ? j->dir_url : j->fb_url);
    }
    j->next_at = now;
    if (ok) {
        j->done_n++;
        j->backoff = j->retry_s;
        j->finished = j->max_renewals != 0U && j->done_n >= j->max_renewals;
    } else if (switched) {
        j->backoff = j->retry_s; /* the next CA is tried at once */
    } else {
        say(LOG_NOTICE, "retrying in %lld s", (long long)j->backoff);
        j->next_at = now + j->backoff;
        j->backoff = j->backoff >= 1800 ? 3600 : j->backoff * 2;
    }
}

/* One pass over a job with its state open: repair --out, then wait or
 * issue. */
static void job_pass_open(job_t *j, session_t *s)
{
    fallback_t fb;
    uint8_t ci = picoacme_failover_ca(&j->fo, (int64_t)time(NULL));
    bool use_fb = ci == 1U && j->fb_url != NULL;
    int64_t at = 0;
    if (fallback_open(j, s, &fb) != 0) {
        j->fatal = 1;
        return;
    }
    if (picoacme_init(&g_ctx, use_fb ? &fb.cfg : &j->cfg, use_fb ? &fb.ports : &s->ports) ==
            PICOACME_OK &&
        !due(j, s, &at)) {
        ari_refresh(&at);
    }
    if (at != 0 && (int64_t)time(NULL) < at) {
        int64_t wait = at - (int64_t)time(NULL) + jitter(s);
        say(LOG_NOTICE, "next renewal in %lld s", (long long)wait);
        j->next_at = (int64_t)time(NULL) + wait;
    } else {
        bool ok = issue_once(j, use_fb ? &fb.cfg : &j->cfg, s, use_fb ? &fb.ports : &s->ports,
                             use_fb ? &fb.wt : &s->wt) == 0;
        after_issue(j, ok, (int64_t)time(NULL));
    }
    fallback_close(&fb);
}

static void job_pass(job_t *j)
{
    session_t s;
    int rc = session_open(&s, j->state, j->root_path);
    if (rc != 0) {
        j->fatal = rc;
        return;
    }
    if (!state_fits_ca(&s.st, j->state, j->dir_url, j->fb_url)) {
        j->fatal = 2;
    } else {
        job_pass_open(j, &s);
    }
    session_close(&s);
}

/* SIGHUP: the config file again. A certificate kept keeps its schedule,
 * unless its names changed (then it is issued again at once). */
static job_t *reload(job_t *old, const char *path)
{
    char err[700];
    job_t *list = config_load(path, err, sizeof err), *j, *o;
    if (list == NULL) {
        say(LOG_ERR, "SIGHUP: %s; keeping the configuration in use", err);
        return old;
    }
    for (j = list; j != NULL; j = j->next) {
        for (o = old; o != NULL && strcmp(o->name, j->name) != 0; o = o->next) {
        }
        if (o != NULL && job_same_names(o, j) && o->fatal == 0) {
            j->next_at = o->next_at;
            j->backoff = o->backoff;
            j->done_n = o->done_n;
            j->fo = o->fo;
            j->finished = o->finished;
        }
        picoacme_failover_init(&j->fo, j->fb_url != NULL ? 2U : 1U, (uint8_t)j->failover_after,
                               (uint32_t)j->failback_s);
    }
    say(LOG_NOTICE, "SIGHUP: %s read again", path);
    job_free(old);
    return list;
}

/* One round over the jobs: those due get a pass. Returns the time of the
 * next round, or 0 when every job is finished or out of service. */
static int64_t round_jobs(job_t *list, int *worst)
{
    int64_t next = 0;
    job_t *j;
    for (j = list; j != NULL && !g_stop; j = j->next) {
        if (j->finished || j->fatal != 0) {
            continue;
        }
        if (j->next_at <= (int64_t)time(NULL)) {
            job_pass(j);
        }
        if (j->fatal != 0) {
            if (j->name[0] != '\0') { /* the command line's one job: its error said it */
                say(LOG_ERR, "[certificate %s] taken out of service", j->name);
            }
            *worst = j->fatal > *worst ? j->fatal : *worst;
        } else if (!j->finished && (next == 0 || j->next_at < next)) {
            next = j->next_at;
        }
    }
    return next;
}

static int run_jobs(job_t *list, const char *config)
{
    struct sigaction sa;
    int worst = 0;
    job_t *j;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGHUP, &sa, NULL);
    for (j = list; j != NULL; j = j->next) {
        picoacme_failover_init(&j->fo, j->fb_url != NULL ? 2U : 1U, (uint8_t)j->failover_after,
                               (uint32_t)j->failback_s);
    }
    while (!g_stop) {
        int64_t next;
        if (g_reload) {
            g_reload = 0;
            if (config != NULL) {
                list = reload(list, config);
            }
        }
        next = round_jobs(list, &worst);
        if (next == 0) {
            break;
        }
        nap(next - (int64_t)time(NULL));
    }
    job_free(list);
    return worst;
}

/* The jobs of the command: the config file's, or the command line's one. */
static job_t *jobs_of(const cli_opts_t *o, job_t *cli, int *rc)
{
    char err[700];
    job_t *list;
    *rc = 2;
    if (o->config == NULL) {
        if (job_finish(cli, o->daemon, err, sizeof err) != 0) {
            fprintf(stderr, "picoacme: %s (see 'picoacme %s --help')\n", err,
                    o->daemon ? "run" : "issue");
            return NULL;
        }
        return cli;
    }
    if (!o->daemon || o->job_opts != 0U) {
        fprintf(stderr, "picoacme: --config is for picoacme run, without certificate options "
                        "(they are in the file)\n");
        return NULL;
    }
    list = config_load(o->config, err, sizeof err);
    if (list == NULL) {
        fprintf(stderr, "picoacme: %s\n", err);
    }
    return list;
}

int cmd_issue(int argc, char **argv, bool daemon)
{
    cli_opts_t o;
    job_t *cli = job_new(""), *list, *j;
    int rc;
    memset(&o, 0, sizeof o);
    o.daemon = daemon;
    if (cli == NULL) {
        return 1;
    }
    rc = options_parse(argc, argv, &o, cli);
    list = rc < 0 ? jobs_of(&o, cli, &rc) : NULL;
    if (list != cli) {
        job_free(cli);
    }
    if (list == NULL) {
        return rc;
    }
    g_log.stamp = daemon || g_log.verbosity > 0;
    log_start();
    if (!daemon) {
        rc = job_issue(list, o.if_due);
        job_free(list);
        return rc;
    }
    for (j = list; j != NULL; j = j->next) {
        rc = local_checks(j);
        if (rc != 0) {
            job_free(list);
            return rc;
        }
    }
    return run_jobs(list, o.config);
}
