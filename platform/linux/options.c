/*
 * options.c - the command line of `picoacme issue` and `picoacme run`:
 * the certificate's options go to job_set() by their long names (the
 * config file's keys are the same names), the rest into cli_opts_t.
 */
#include "cli.h"
#include "job.h"
#include "run.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_JOB = 1000, OPT_SYSLOG = 900, OPT_CONFIG, OPT_IF_DUE };

#define MAX_OPTS 64U

/* getopt_long's table: the job's keys, then the command's own. */
static const struct option *opt_table(void)
{
    static struct option t[MAX_OPTS];
    static const struct option own[] = {{"verbose", no_argument, NULL, 'v'},
                                        {"quiet", no_argument, NULL, 'q'},
                                        {"help", no_argument, NULL, 'h'},
                                        {"syslog", no_argument, NULL, OPT_SYSLOG},
                                        {"config", required_argument, NULL, OPT_CONFIG},
                                        {"if-due", no_argument, NULL, OPT_IF_DUE},
                                        {NULL, 0, NULL, 0}};
    const char *const *names;
    const bool *has_arg;
    size_t n = job_keys(&names, &has_arg), i, k = 0;
    for (i = 0; i < n && k + 1U < MAX_OPTS; i++, k++) {
        t[k].name = names[i];
        t[k].has_arg = has_arg[i] ? required_argument : no_argument;
        t[k].flag = NULL;
        t[k].val = OPT_JOB + (int)i;
    }
    for (i = 0; k + 1U < MAX_OPTS; i++, k++) {
        t[k] = own[i];
        if (own[i].name == NULL) {
            break;
        }
    }
    return t;
}

/* One of the command's own options; -1 to go on, else the exit status. */
static int own_option(int c, const char *arg, cli_opts_t *o)
{
    switch (c) {
    case 'v': g_log.verbosity = g_log.verbosity < 0 ? 1 : g_log.verbosity + 1; return -1;
    case 'q': g_log.verbosity = -1; return -1;
    case OPT_SYSLOG: g_log.use_syslog = true; return -1;
    case OPT_CONFIG: o->config = arg; return -1;
    case OPT_IF_DUE: o->if_due = true; return -1;
    case 'h': usage(stdout); return 0;
    default:
        fprintf(stderr, "picoacme: see 'picoacme %s --help' or picoacme(1)\n",
                o->daemon ? "run" : "issue");
        return 2;
    }
}

int options_parse(int argc, char **argv, cli_opts_t *o, job_t *j)
{
    const struct option *t = opt_table();
    const char *const *names;
    const bool *has_arg;
    size_t n = job_keys(&names, &has_arg);
    int c;
    char err[512];
    optind = 1;
    while ((c = getopt_long(argc, argv, "vqhd:m:", t, NULL)) != -1) {
        const char *key = c == 'd' ? "domain" : c == 'm' ? "email" : NULL;
        int rc;
        if (c >= OPT_JOB && (size_t)(c - OPT_JOB) < n) {
            key = names[c - OPT_JOB];
        }
        if (key == NULL) {
            rc = own_option(c, optarg, o);
            if (rc >= 0) {
                return rc;
            }
            continue;
        }
        o->job_opts++;
        if (job_set(j, key, optarg, err, sizeof err) != 0) {
            fprintf(stderr, "picoacme: %s\n", err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "picoacme: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}
