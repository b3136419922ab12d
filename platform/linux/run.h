/*
 * run.h - `picoacme issue` and `picoacme run`: the command line or the
 * config file -> a list of jobs (job.h) -> issued once, or kept valid.
 */
#ifndef PICOACME_RUN_H
#define PICOACME_RUN_H

#include <stdbool.h>

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

#endif
