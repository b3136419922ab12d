/*
 * run.c - `picoacme issue`: the jobs come from the command line (one) or
 * the config file; an issuance publishes --out from the state and runs
 * the hooks. What issue and the daemon (daemon.c, `picoacme run`) share:
 * the hooks and their environment, the checks before any order, and what
 * a start finds in the state (--out restored, a revoked certificate or
 * other names issued again at once).
 */
#include "cli.h"
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void iso_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- hooks: PICOACME_EVENT and the rest in the environment ---- */

static void hook_env(const job_t *j, picoacme_ctx_t *ctx, const char *event, const char *problem)
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
    if (picoacme_stored(ctx, &info) == PICOACME_OK) {
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

void job_hook(const job_t *j, picoacme_ctx_t *ctx, const char *event, const char *problem)
{
    const char *cmd = problem != NULL ? j->fail_hook : j->hook;
    char why[128];
    if (cmd == NULL) {
        return;
    }
    hook_env(j, ctx, event, problem);
    say(LOG_DEBUG, "running the %s hook (PICOACME_EVENT=%s): %s",
        problem != NULL ? "failure" : "renew", event, cmd);
    if (hook_run(cmd, why, sizeof why) != 0) {
        say(LOG_ERR, "--%s %s", problem != NULL ? "failure-hook" : "renew-hook", why);
    }
}

void job_failed(const job_t *j, picoacme_ctx_t *ctx, const picoacme_problem_t *p,
                const picoacme_wolfssl_tls_t *tls)
{
    static char problem[2048];
    problem_text(problem, sizeof problem, p, tls);
    say(LOG_ERR, "issue %s", problem);
    (void)state_note_failure(j->state, problem);
    job_hook(j, ctx, "failed", problem);
}

int job_issued(const job_t *j, picoacme_ctx_t *ctx, session_t *s, unsigned handshakes, bool had)
{
    bool published = false;
    if (publish_stored(ctx, &s->wc, j->out, &published) != 0) {
        return 1;
    }
    (void)state_note_failure(j->state, NULL);
    say(LOG_NOTICE,
        "issued %s/cert.pem and %s/key.pem (%u requests, %u connections, %u TLS handshakes, "
        "%u badNonce retries)",
        j->out, j->out, (unsigned)picoacme_stats(ctx)->requests,
        (unsigned)picoacme_stats(ctx)->connections, handshakes,
        (unsigned)picoacme_stats(ctx)->bad_nonces);
    job_hook(j, ctx, had ? "renewed" : "issued", NULL);
    return 0;
}

/* ---- checks ---- */

/* -vv: what the command is about to do with j. */
static void say_job(const job_t *j, const char *what)
{
    char names[1024];
    job_names(j, names, sizeof names);
    say(LOG_DEBUG, "%s%s%s: names %s, CA %s, state %s, out %s, hooks %s / %s", what,
        j->name[0] != '\0' ? " " : "", j->name, names, j->dir_url, j->state, j->out,
        j->hook != NULL ? j->hook : "-", j->fail_hook != NULL ? j->fail_hook : "-");
}

int job_local_checks(const job_t *j)
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

bool job_start_checks(const job_t *j, picoacme_ctx_t *ctx, session_t *s, int64_t *renew_at)
{
    picoacme_stored_info_t info;
    char serial[80];
    bool published = false;
    *renew_at = 0;
    if (picoacme_stored(ctx, &info) != PICOACME_OK) {
        return true;
    }
    if (publish_stored(ctx, &s->wc, j->out, &published) == 0 && published) {
        say(LOG_NOTICE, "--out %s restored from the state", j->out);
    }
    (void)picoacme_stored(ctx, &info);
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
    *renew_at = info.renew_at_s;
    return (int64_t)time(NULL) >= info.renew_at_s;
}

/* ---- picoacme issue ---- */

/* One issuance with the session's ports. 0 or 1. */
static int issue_once(const job_t *j, session_t *s)
{
    const picoacme_wolfssl_tls_t *tlsp = s->ports.tls != NULL ? &s->wt : NULL;
    unsigned hs0 = tlsp != NULL ? tlsp->handshakes : 0U;
    picoacme_stored_info_t info;
    bool had = picoacme_stored(&g_ctx, &info) == PICOACME_OK;
    picoacme_err_t e = picoacme_issue_start(&g_ctx);
    if (e != PICOACME_OK || pump() != 0) {
        job_failed(j, &g_ctx, picoacme_last_problem(&g_ctx), tlsp);
        return 1;
    }
    return job_issued(j, &g_ctx, s, tlsp != NULL ? tlsp->handshakes - hs0 : 0U, had);
}

/* picoacme issue [--if-due] for j. */
static int job_issue(job_t *j, bool if_due)
{
    session_t s;
    int64_t at = 0;
    int rc = job_local_checks(j);
    if (rc == 0) {
        job_hwkeys_use(j);
        rc = session_open(&s, j->state, j->root_path);
    }
    if (rc != 0) {
        return rc;
    }
    rc = 2;
    g_dir_url = j->dir_url;
    if (!state_fits_ca(&s.st, j->state, j->dir_url, NULL)) {
        /* refused, said why */
    } else if (picoacme_init(&g_ctx, &j->cfg, &s.ports) != PICOACME_OK) {
        say(LOG_ERR, "invalid configuration: check --directory and the identifiers");
        rc = 1;
    } else if (if_due && !job_start_checks(j, &g_ctx, &s, &at)) {
        char t[32];
        iso_time(at, t, sizeof t);
        say(LOG_NOTICE, "not due: the certificate in %s is renewed from %s", j->state, t);
        rc = 1;
    } else {
        rc = issue_once(j, &s);
        rc = rc != 0 && if_due ? 2 : rc; /* uacme's codes: 1 is "not due" */
    }
    session_close(&s);
    return rc;
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
        rc = job_local_checks(j);
        if (rc != 0) {
            job_free(list);
            return rc;
        }
    }
    return daemon_run(list, o.config);
}
