/*
 * job.h - one certificate the picoacme command keeps: what the command
 * line (options.c) or one [certificate NAME] section of the config file
 * (config.c) asked for, set through the same job_set() by the options'
 * long names, checked by job_finish(), then issued or kept by run.c.
 */
#ifndef PICOACME_JOB_H
#define PICOACME_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme.h"

#define JOB_POOL 16384U /* the job's strings */

typedef struct job {
    struct job *next;
    char name[64]; /* the config section's NAME, or "" for the command line */
    const char *dir_url, *root_path, *state, *out, *email, *profile;
    const char *hook, *fail_hook, *fb_url, *fb_root_path, *eab_kid;
    /* keys in hardware (hwkeys.c): a PKCS#11 token or a TPM 2.0 */
    const char *p11_module, *p11_token, *p11_pin_file, *tpm2_tcti;
    picoacme_ident_t ids[PICOACME_MAX_IDENTIFIERS];
    size_t n_ids;
    picoacme_config_t cfg; /* challenges here; the rest filled by job_finish() */
    bool have_challenge;
    uint16_t http_port, alpn_port;
    picoacme_dns01_config_t dns;
    uint8_t tsig_secret[128];
    uint8_t eab_key[128];
    size_t eab_len;
    long failover_after, failback_s, retry_s;
    long fleet_index; /* the keeper's fleet_index (0: a random phase) */
    unsigned max_renewals;
    /* the daemon's bookkeeping of this certificate (daemon.c) */
    struct keep *keep; /* its keeper, while it runs */
    unsigned done_n;   /* issuances so far */
    bool finished;     /* --max-renewals reached */
    int fatal;         /* an exit status that took this certificate out of service */
    size_t pool_used;
    char pool[JOB_POOL];
} job_t;

/* A new job with the defaults (http-01, retry 60 s, failover after 3,
 * failback 1 day); NULL when out of memory. Freed with job_free(). */
job_t *job_new(const char *name);

/* Free a list of jobs linked through next. */
void job_free(job_t *list);

/* Set one option by its long name ("directory", "domain", ...; the same
 * for the command line and the config file). value is copied. Returns 0,
 * 1 when key is no job option, or -1 after writing why into err. */
int job_set(job_t *j, const char *key, const char *value, char *err, size_t cap);

/* Check that the job is complete (daemon: for picoacme run) and fill its
 * engine configuration. 0, or -1 after writing into err which option is
 * missing or wrong. */
int job_finish(job_t *j, bool daemon, char *err, size_t cap);

/* Does j keep its keys in hardware (a pkcs11-* or tpm2-tcti key)? */
bool job_hwkeys(const job_t *j);

/* Point hwkeys.c at j's token or TPM (or at none), before its session is
 * opened. */
void job_hwkeys_use(const job_t *j);

/* Do a and b ask for the same identifiers, in any order? */
bool job_same_names(const job_t *a, const job_t *b);

/* The identifiers as one space-separated string into out. */
void job_names(const job_t *j, char *out, size_t cap);

/* The long option names job_set() knows, with whether each takes a value,
 * for getopt_long: returns how many; names[i] and has_arg[i]. */
size_t job_keys(const char *const **names, const bool **has_arg);

#endif
