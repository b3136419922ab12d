/*
 * config.c - the config file of `picoacme run --config FILE`, INI read by
 * Debian's libinih (ini.h). Every key is a long option of the command
 * line, set through job_set(): the command line and the file build the
 * same jobs. Sections:
 *   [defaults]            keys applied to every certificate section after it
 *   [certificate NAME]    one certificate (NAME: letters, digits, . _ -)
 * A key may repeat (domain, ip); "names = a b c" lists several.
 */
#include "cli.h"
#include "run.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULTS_MAX 64U

typedef struct cfg_parse {
    job_t *head, *tail;
    char dkey[DEFAULTS_MAX][48];
    char *dval[DEFAULTS_MAX];
    size_t n_defaults;
    char err[512];
    char section[96];
} cfg_parse_t;

static bool name_ok(const char *n)
{
    return n[0] != '\0' && strlen(n) < 64U &&
           strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
               strlen(n);
}

static int set_key(cfg_parse_t *p, job_t *j, const char *key, const char *value)
{
    char why[400], name[64];
    size_t i;
    int rc;
    /* pkcs11_module is pkcs11-module: the file takes '_' for '-' */
    snprintf(name, sizeof name, "%s", key);
    for (i = 0; name[i] != '\0'; i++) {
        name[i] = name[i] == '_' ? '-' : name[i];
    }
    rc = job_set(j, name, value, why, sizeof why);
    if (rc == 1) {
        snprintf(p->err, sizeof p->err, "unknown key '%s' in [%s]", key, p->section);
    } else if (rc != 0) {
        snprintf(p->err, sizeof p->err, "%s", why);
    }
    return rc == 0 ? 1 : 0;
}

/* A new [certificate NAME] section: its job, with the defaults so far. */
static int new_job(cfg_parse_t *p, const char *name)
{
    job_t *j;
    size_t i;
    if (!name_ok(name)) {
        snprintf(p->err, sizeof p->err,
                 "[certificate NAME] needs a NAME of letters, "
                 "digits, '.', '_', '-'");
        return 0;
    }
    for (j = p->head; j != NULL; j = j->next) {
        if (strcmp(j->name, name) == 0) {
            snprintf(p->err, sizeof p->err, "[certificate %s] twice", name);
            return 0;
        }
    }
    j = job_new(name);
    if (j == NULL) {
        snprintf(p->err, sizeof p->err, "out of memory");
        return 0;
    }
    if (p->tail != NULL) {
        p->tail->next = j;
    } else {
        p->head = j;
    }
    p->tail = j;
    for (i = 0; i < p->n_defaults; i++) {
        if (!set_key(p, j, p->dkey[i], p->dval[i])) {
            return 0;
        }
    }
    return 1;
}

static int on_default(cfg_parse_t *p, const char *key, const char *value)
{
    job_t *probe;
    int ok;
    if (p->n_defaults == DEFAULTS_MAX || strlen(key) >= sizeof p->dkey[0]) {
        snprintf(p->err, sizeof p->err, "too many defaults");
        return 0;
    }
    probe = job_new("defaults"); /* the key is checked at once */
    ok = probe != NULL && set_key(p, probe, key, value);
    job_free(probe);
    if (!ok) {
        return 0;
    }
    strcpy(p->dkey[p->n_defaults], key);
    p->dval[p->n_defaults] = strdup(value);
    p->n_defaults += p->dval[p->n_defaults] != NULL ? 1U : 0U;
    return 1;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    cfg_parse_t *p = user;
    if (p->err[0] != '\0') {
        return 0; /* the first error is the one reported */
    }
    if (strcmp(section, p->section) != 0) {
        snprintf(p->section, sizeof p->section, "%s", section);
        if (strncmp(section, "certificate ", 12) == 0 && !new_job(p, section + 12)) {
            return 0;
        }
    }
    if (strcmp(section, "defaults") == 0) {
        return on_default(p, key, value);
    }
    if (strncmp(section, "certificate ", 12) != 0) {
        snprintf(p->err, sizeof p->err, "key outside a [defaults] or [certificate NAME] section");
        return 0;
    }
    return set_key(p, p->tail, key, value);
}

static job_t *finish_all(cfg_parse_t *p, const char *path)
{
    job_t *j;
    char why[400];
    if (p->head == NULL) {
        snprintf(p->err, sizeof p->err, "%s has no [certificate NAME] section", path);
        return NULL;
    }
    for (j = p->head; j != NULL; j = j->next) {
        if (job_finish(j, true, why, sizeof why) != 0) {
            snprintf(p->err, sizeof p->err, "[certificate %s]: %s", j->name, why);
            return NULL;
        }
        /* one device per daemon, and it removes the key objects its
         * certificate's state does not name: one certificate only */
        if (j != p->head && (job_hwkeys(j) || job_hwkeys(p->head))) {
            snprintf(p->err, sizeof p->err,
                     "keys in hardware (pkcs11-*, tpm2-tcti) are for a file with one "
                     "[certificate] section");
            return NULL;
        }
    }
    return p->head;
}

job_t *config_load(const char *path, char *err, size_t cap)
{
    static cfg_parse_t p;
    int rc;
    job_t *list = NULL;
    size_t i;
    memset(&p, 0, sizeof p);
    rc = ini_parse(path, on_key, &p);
    if (rc < 0) {
        snprintf(p.err, sizeof p.err, "cannot open %s", path);
    } else if (rc > 0) {
        char why[400];
        snprintf(why, sizeof why, "%.399s", p.err[0] != '\0' ? p.err : "not INI syntax");
        snprintf(p.err, sizeof p.err, "line %d: %s", rc, why);
    } else {
        list = finish_all(&p, path);
    }
    for (i = 0; i < p.n_defaults; i++) {
        free(p.dval[i]);
    }
    if (list == NULL) {
        job_free(p.head);
        snprintf(err, cap, "%s: %s", path, p.err);
    }
    return list;
}
