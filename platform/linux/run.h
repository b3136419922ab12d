/*
 * run.h - `picoacme issue` and `picoacme run`: the command line or the
 * config file -> a list of jobs (job.h) -> issued once, or kept valid.
 */
#ifndef PICOACME_RUN_H
#define PICOACME_RUN_H

#include <stdbool.h>

#include "cli.h"
#include "job.h"

typedef struct cli_opts {
    bool daemon;        /* picoacme run */
    bool if_due;        /* issue --if-due */
    const char *config; /* --config FILE */
    unsigned job_opts;  /* how many certificate options the command line gave */
} cli_opts_t;

/* options.c: parse argv into o and the command-line job j. Returns -1 to
 * go on, else the exit status (after --help, or after saying why). */
int options_parse(int argc, char **argv, cli_opts_t *o, job_t *j);

/* config.c: read the INI file at path into a list of checked jobs, one per
 * [certificate NAME] section ([defaults] keys apply to the sections after
 * it). Returns the list, or NULL after writing why into err. */
job_t *config_load(const char *path, char *err, size_t cap);

/* run.c: picoacme issue (daemon false) and picoacme run. */
int cmd_issue(int argc, char **argv, bool daemon);

/* run.c, shared with daemon.c: */
/* t as "2026-01-02T03:04:05Z". */
void iso_time(int64_t t, char *buf, size_t cap);
/* Run j's renew hook (problem NULL) or failure hook with the environment
 * PICOACME_EVENT=event, paths, names, serial and notAfter from ctx. */
void job_hook(const job_t *j, picoacme_ctx_t *ctx, const char *event, const char *problem);
/* A failed issuance: said, noted next to the state, the failure hook. */
void job_failed(const job_t *j, picoacme_ctx_t *ctx, const picoacme_problem_t *p,
                const picoacme_wolfssl_tls_t *tls);
/* A certificate was issued into ctx's store: --out published, said, the
 * renew hook (renewed when had, else issued). 0, or 1 when --out failed. */
int job_issued(const job_t *j, picoacme_ctx_t *ctx, session_t *s, unsigned handshakes, bool had);
/* --out usable and the listener ports free. 0 or 2 after saying why. */
int job_local_checks(const job_t *j);
/* At a start, with ctx initialised: --out restored from the state; true
 * when an issuance is due now (nothing stored, revoked, other names, the
 * renewal time passed); *renew_at the stored certificate's renewal time. */
bool job_start_checks(const job_t *j, picoacme_ctx_t *ctx, session_t *s, int64_t *renew_at);

/* daemon.c: picoacme run: keep every job's certificate valid, each with a
 * picoacme_keeper_t, until SIGTERM (config: the file, SIGHUP reads it
 * again). Returns the exit status. list is freed. */
int daemon_run(job_t *list, const char *config);

#endif
