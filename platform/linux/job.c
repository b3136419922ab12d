/*
 * job.c - one certificate's options, set by their long names from the
 * command line (options.c) and the config file (config.c) alike, and
 * checked before anything is opened.
 */
#include "job.h"
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "picoacme_b64.h"

typedef int (*job_setter_t)(job_t *j, const char *key, const char *v, char *err, size_t cap);

typedef struct job_key {
    const char *name;
    bool has_arg;
    job_setter_t set;
    size_t off; /* of the const char * field, for set_str */
} job_key_t;

job_t *job_new(const char *name)
{
    job_t *j = calloc(1, sizeof *j);
    if (j == NULL) {
        return NULL;
    }
    snprintf(j->name, sizeof j->name, "%s", name);
    j->dns.timeout_s = 60;
    j->failover_after = 3;
    j->failback_s = 86400;
    j->retry_s = 60;
    return j;
}

void job_free(job_t *list)
{
    while (list != NULL) {
        job_t *n = list->next;
        memset(list, 0, sizeof *list); /* the secrets */
        free(list);
        list = n;
    }
}

/* A copy of s in the job's pool; NULL when the pool is full. */
static const char *keep(job_t *j, const char *s)
{
    size_t n = strlen(s) + 1U;
    char *p;
    if (n > JOB_POOL - j->pool_used) {
        return NULL;
    }
    p = j->pool + j->pool_used;
    memcpy(p, s, n);
    j->pool_used += n;
    return p;
}

static int too_long(char *err, size_t cap, const char *key)
{
    snprintf(err, cap, "too many or too long values (at %s)", key);
    return -1;
}

static int set_str(job_t *j, const char *key, const char *v, char *err, size_t cap);

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
    long v = 0;
    if (parse_long(s, 1, 65535, &v) != 0) {
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

/* "host:port", "[v6]:port"; the host kept in the pool. */
static int parse_hostport(job_t *j, const char *s, const char **host, uint16_t *port)
{
    char buf[256];
    const char *hp = s, *colon;
    size_t n;
    if (s[0] == '[') {
        colon = strchr(s, ']');
        if (colon == NULL || colon[1] != ':') {
            return -1;
        }
        hp = s + 1;
        n = (size_t)(colon - hp);
        colon++;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || strchr(s, ':') != colon) {
            return -1;
        }
        n = (size_t)(colon - s);
    }
    if (n == 0 || n >= sizeof buf) {
        return -1;
    }
    memcpy(buf, hp, n);
    buf[n] = '\0';
    *host = keep(j, buf);
    return *host != NULL ? parse_port(colon + 1, port) : -1;
}

/* Why read_secret_file() failed. */
static const char *secret_file_error(void)
{
    return errno == EINVAL ? "it must hold the secret on one line" : strerror(errno);
}

static int chall_type(const char *tok, picoacme_chall_type_t *t)
{
    if (strcmp(tok, "http-01") == 0) {
        *t = PICOACME_CHALL_HTTP01;
    } else if (strcmp(tok, "tls-alpn-01") == 0) {
        *t = PICOACME_CHALL_TLSALPN01;
    } else if (strcmp(tok, "dns-01") == 0) {
        *t = PICOACME_CHALL_DNS01;
    } else {
        return -1;
    }
    return 0;
}

/* "http-01,tls-alpn-01,dns-01" */
static int parse_challenges(const char *s, picoacme_config_t *cfg)
{
    char buf[64];
    char *save = NULL;
    char *tok;
    if (strlen(s) >= sizeof buf) {
        return -1;
    }
    strcpy(buf, s);
    cfg->n_challenges = 0;
    for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
        picoacme_chall_type_t t;
        size_t i;
        if (chall_type(tok, &t) != 0) {
            return -1;
        }
        for (i = 0; i < cfg->n_challenges; i++) {
            if (cfg->challenges[i] == t) {
                return -1;
            }
        }
        cfg->challenges[cfg->n_challenges++] = t;
    }
    return cfg->n_challenges > 0 ? 0 : -1;
}

/* "NAME:hmac-sha256:BASE64SECRET" */
static int parse_tsig(job_t *j, const char *s)
{
    char name[256];
    const char *c1 = strchr(s, ':');
    const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    size_t n, len = 0;
    if (c1 == NULL || c2 == NULL || c1 == s || (size_t)(c1 - s) >= sizeof name) {
        return -1;
    }
    if ((size_t)(c2 - c1 - 1) != strlen("hmac-sha256") ||
        strncasecmp(c1 + 1, "hmac-sha256", (size_t)(c2 - c1 - 1)) != 0) {
        return -1;
    }
    n = (size_t)(c1 - s);
    memcpy(name, s, n);
    name[n] = '\0';
    if (picoacme_b64_decode(c2 + 1, strlen(c2 + 1), j->tsig_secret, sizeof j->tsig_secret, &len) !=
            PICOACME_OK ||
        len == 0) {
        return -1;
    }
    j->dns.tsig.name = keep(j, name);
    j->dns.tsig.secret = j->tsig_secret;
    j->dns.tsig.secret_len = len;
    return j->dns.tsig.name != NULL ? 0 : -1;
}

/* A secret given directly, or (key ending in -file) read from that file. */
static int secret_value(const char *key, const char *v, char *line, size_t lcap, char *err,
                        size_t cap)
{
    size_t kl = strlen(key);
    if (kl > 5U && strcmp(key + kl - 5U, "-file") == 0) {
        if (read_secret_file(v, line, lcap) != 0) {
            snprintf(err, cap, "cannot read --%s %s: %s", key, v, secret_file_error());
            return -1;
        }
    } else {
        snprintf(line, lcap, "%s", v);
    }
    return 0;
}

static int set_tsig(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    char line[512];
    int rc = secret_value(key, v, line, sizeof line, err, cap);
    if (rc == 0 && parse_tsig(j, line) != 0) {
        snprintf(err, cap, "--%s takes NAME:hmac-sha256:BASE64SECRET", key);
        rc = -1;
    }
    memset(line, 0, sizeof line);
    return rc;
}

static int set_eab_key(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    char line[512];
    int rc = secret_value(key, v, line, sizeof line, err, cap);
    /* the CA hands the MAC key out base64url-encoded (RFC 8555 §7.3.4) */
    if (rc == 0 && (picoacme_b64url_decode(line, strlen(line), j->eab_key, sizeof j->eab_key,
                                           &j->eab_len) != PICOACME_OK ||
                    j->eab_len == 0)) {
        snprintf(err, cap, "--%s takes the base64url MAC key", key);
        j->eab_len = 0;
        rc = -1;
    }
    memset(line, 0, sizeof line);
    return rc;
}

static int add_id(job_t *j, picoacme_id_type_t type, const char *v, char *err, size_t cap)
{
    if (j->n_ids == PICOACME_MAX_IDENTIFIERS) {
        snprintf(err, cap, "at most %u identifiers (PICOACME_MAX_IDENTIFIERS)",
                 (unsigned)PICOACME_MAX_IDENTIFIERS);
        return -1;
    }
    j->ids[j->n_ids].type = type;
    j->ids[j->n_ids].value = keep(j, v);
    if (j->ids[j->n_ids].value == NULL) {
        return too_long(err, cap, "domain");
    }
    j->n_ids++;
    return 0;
}

static bool is_ip(const char *s)
{
    uint8_t a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* --domain NAME, --ip ADDR; in the config file also "domain = a b c" and
 * "names = a, b, 127.0.0.1" (addresses told apart by their form). */
static int set_id(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    char buf[4096];
    char *save = NULL, *tok;
    if (strlen(v) >= sizeof buf) {
        return too_long(err, cap, key);
    }
    strcpy(buf, v);
    for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
        bool ip = strcmp(key, "ip") == 0 || (strcmp(key, "names") == 0 && is_ip(tok));
        if (add_id(j, ip ? PICOACME_ID_IP : PICOACME_ID_DNS, tok, err, cap) != 0) {
            return -1;
        }
    }
    return 0;
}

static int set_port(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    uint16_t *p = strcmp(key, "http01-port") == 0 ? &j->http_port : &j->alpn_port;
    if (parse_port(v, p) != 0) {
        snprintf(err, cap, "--%s must be 1..65535", key);
        return -1;
    }
    return 0;
}

static int set_challenge(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    (void)key;
    if (parse_challenges(v, &j->cfg) != 0) {
        snprintf(err, cap,
                 "--challenge takes a comma-separated list of http-01, tls-alpn-01, "
                 "dns-01");
        return -1;
    }
    j->have_challenge = true;
    return 0;
}

static int set_dns_host(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    bool server = strcmp(key, "dns01-server") == 0;
    if (parse_hostport(j, v, server ? &j->dns.server : &j->dns.resolver,
                       server ? &j->dns.server_port : &j->dns.resolver_port) != 0) {
        snprintf(err, cap, "--%s takes HOST:PORT ([v6]:PORT)", key);
        return -1;
    }
    return 0;
}

static int set_flag(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    (void)key;
    if (v != NULL && strcmp(v, "yes") != 0 && strcmp(v, "true") != 0 && strcmp(v, "1") != 0 &&
        strcmp(v, "no") != 0 && strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
        snprintf(err, cap, "dns01-tcp takes yes or no");
        return -1;
    }
    j->dns.tcp =
        v == NULL || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
    return 0;
}

static int set_number(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    long n = 0;
    bool timeout = strcmp(key, "dns01-timeout") == 0;
    bool count = strcmp(key, "max-renewals") == 0 || strcmp(key, "fleet-index") == 0;
    long lo = count ? 0 : 1;
    long hi = timeout                              ? 86400
              : count                              ? 1000000
              : strcmp(key, "failover-after") == 0 ? 255
                                                   : 31536000;
    if (parse_long(v, lo, hi, &n) != 0) {
        snprintf(err, cap, "--%s takes a number %ld..%ld%s", key, lo, hi,
                 strcmp(key, "max-renewals") == 0 ? " (0: for ever)" : "");
        return -1;
    }
    if (timeout) {
        j->dns.timeout_s = (uint32_t)n;
    } else if (strcmp(key, "fleet-index") == 0) {
        j->fleet_index = n;
    } else if (count) {
        j->max_renewals = (unsigned)n;
    } else if (strcmp(key, "failover-after") == 0) {
        j->failover_after = n;
    } else if (strcmp(key, "failback-s") == 0) {
        j->failback_s = n;
    } else {
        j->retry_s = n;
    }
    return 0;
}

#define STR(name, field)                                                                           \
    {                                                                                              \
        name, true, set_str, offsetof(job_t, field)                                                \
    }
static const job_key_t g_keys[] = {
    STR("directory", dir_url),
    STR("server", dir_url), /* lego's name */
    STR("ca-root", root_path),
    STR("state", state),
    STR("out", out),
    STR("email", email),
    STR("profile", profile),
    STR("renew-hook", hook),
    STR("failure-hook", fail_hook),
    STR("fallback-directory", fb_url),
    STR("fallback-ca-root", fb_root_path),
    STR("eab-kid", eab_kid),
    STR("dns01-zone", dns.zone),
    STR("pkcs11-module", p11_module),
    STR("pkcs11-token", p11_token),
    STR("pkcs11-pin-file", p11_pin_file),
    STR("tpm2-tcti", tpm2_tcti),
    {"domain", true, set_id, 0},
    {"ip", true, set_id, 0},
    {"names", true, set_id, 0},
    {"http01-port", true, set_port, 0},
    {"tls-alpn01-port", true, set_port, 0},
    {"challenge", true, set_challenge, 0},
    {"dns01-server", true, set_dns_host, 0},
    {"dns01-resolver", true, set_dns_host, 0},
    {"dns01-timeout", true, set_number, 0},
    {"dns01-tcp", false, set_flag, 0},
    {"tsig-key", true, set_tsig, 0},
    {"tsig-key-file", true, set_tsig, 0},
    {"eab-hmac-key", true, set_eab_key, 0},
    {"eab-hmac-key-file", true, set_eab_key, 0},
    {"failover-after", true, set_number, 0},
    {"failback-s", true, set_number, 0},
    {"retry-s", true, set_number, 0},
    {"max-renewals", true, set_number, 0},
    {"fleet-index", true, set_number, 0},
};
#define N_KEYS (sizeof g_keys / sizeof g_keys[0])

static int set_str(job_t *j, const char *key, const char *v, char *err, size_t cap)
{
    size_t i;
    for (i = 0; i < N_KEYS; i++) {
        if (strcmp(g_keys[i].name, key) == 0) {
            const char **field = (const char **)(void *)((char *)j + g_keys[i].off);
            *field = keep(j, v);
            return *field != NULL ? 0 : too_long(err, cap, key);
        }
    }
    return -1;
}

int job_set(job_t *j, const char *key, const char *value, char *err, size_t cap)
{
    size_t i;
    for (i = 0; i < N_KEYS; i++) {
        if (strcmp(g_keys[i].name, key) == 0) {
            return g_keys[i].set(j, key, value, err, cap) == 0 ? 0 : -1;
        }
    }
    return 1;
}

size_t job_keys(const char *const **names, const bool **has_arg)
{
    static const char *n[N_KEYS];
    static bool a[N_KEYS];
    size_t i;
    for (i = 0; i < N_KEYS; i++) {
        n[i] = g_keys[i].name;
        a[i] = g_keys[i].has_arg;
    }
    *names = n;
    *has_arg = a;
    return N_KEYS;
}

/* The allowed challenges have what they need. */
static int check_challenges(const job_t *j, char *err, size_t cap)
{
    size_t i;
    for (i = 0; i < j->cfg.n_challenges; i++) {
        const char *need = NULL;
        if (j->cfg.challenges[i] == PICOACME_CHALL_HTTP01 && j->http_port == 0) {
            need = "http-01 needs --http01-port";
        } else if (j->cfg.challenges[i] == PICOACME_CHALL_TLSALPN01 && j->alpn_port == 0) {
            need = "tls-alpn-01 needs --tls-alpn01-port";
        } else if (j->cfg.challenges[i] == PICOACME_CHALL_DNS01 &&
                   (j->dns.server == NULL || j->dns.tsig.name == NULL)) {
            need = "dns-01 needs --dns01-server and --tsig-key (or --tsig-key-file)";
        }
        if (need != NULL) {
            snprintf(err, cap, "%s", need);
            return -1;
        }
    }
    return 0;
}

/* The first required option that is missing, or NULL. */
static const char *missing(const job_t *j)
{
    if (j->dir_url == NULL) {
        return "--directory URL (the CA's ACME directory)";
    }
    if (strncmp(j->dir_url, "https://", 8) == 0 && j->root_path == NULL) {
        return "--ca-root PEMFILE (the roots the https:// CA is trusted by)";
    }
    if (j->state == NULL) {
        return "--state FILE (where the account and certificate are kept)";
    }
    if (j->out == NULL) {
        return "--out DIR (where cert.pem and key.pem are written)";
    }
    if (j->n_ids == 0) {
        return "--domain NAME or --ip ADDR (what the certificate is for)";
    }
    return NULL;
}

static int check_pairs(const job_t *j, bool daemon, char *err, size_t cap)
{
    if ((j->eab_kid == NULL) != (j->eab_len == 0)) {
        snprintf(err, cap, "--eab-kid and --eab-hmac-key (or --eab-hmac-key-file) go together");
        return -1;
    }
    if ((j->fb_url != NULL || j->fb_root_path != NULL) &&
        (!daemon || j->fb_url == NULL ||
         (strncmp(j->fb_url, "https://", 8) == 0 && j->fb_root_path == NULL))) {
        snprintf(err, cap,
                 "--fallback-directory (with --fallback-ca-root for https) is for "
                 "picoacme run");
        return -1;
    }
    return 0;
}

int job_finish(job_t *j, bool daemon, char *err, size_t cap)
{
    const char *m;
    if (!j->have_challenge) {
        j->cfg.challenges[0] = PICOACME_CHALL_HTTP01;
        j->cfg.n_challenges = 1;
    }
    m = missing(j);
    if (m != NULL) {
        snprintf(err, cap, "missing %s", m);
        return -1;
    }
    if (check_challenges(j, err, cap) != 0 || check_pairs(j, daemon, err, cap) != 0) {
        return -1;
    }
    if (j->tpm2_tcti != NULL &&
        (j->p11_module != NULL || j->p11_token != NULL || j->p11_pin_file != NULL)) {
        snprintf(err, cap, "--tpm2-tcti and --pkcs11-* exclude each other");
        return -1;
    }
    j->cfg.directory_url = j->dir_url;
    j->cfg.eab_kid = j->eab_kid;
    j->cfg.eab_key = j->eab_len > 0 ? j->eab_key : NULL;
    j->cfg.eab_key_len = j->eab_len;
    j->cfg.tlsalpn01_port = j->alpn_port;
    j->cfg.http01_port = j->http_port;
    j->cfg.dns01 = j->dns.server != NULL ? &j->dns : NULL;
    j->cfg.email = j->email;
    j->cfg.profile = j->profile;
    j->cfg.ids = j->ids;
    j->cfg.n_ids = j->n_ids;
    return 0;
}

bool job_hwkeys(const job_t *j)
{
    return j->p11_module != NULL || j->p11_token != NULL || j->p11_pin_file != NULL ||
           j->tpm2_tcti != NULL;
}

void job_hwkeys_use(const job_t *j)
{
    hwkeys_set(j->p11_module, j->p11_token, j->p11_pin_file, j->tpm2_tcti);
}

static bool has_id(const job_t *j, const picoacme_ident_t *id)
{
    size_t i;
    for (i = 0; i < j->n_ids; i++) {
        if (j->ids[i].type == id->type && strcasecmp(j->ids[i].value, id->value) == 0) {
            return true;
        }
    }
    return false;
}

bool job_same_names(const job_t *a, const job_t *b)
{
    size_t i;
    if (a->n_ids != b->n_ids) {
        return false;
    }
    for (i = 0; i < a->n_ids; i++) {
        if (!has_id(b, &a->ids[i])) {
            return false;
        }
    }
    return true;
}

void job_names(const job_t *j, char *out, size_t cap)
{
    size_t i, o = 0;
    out[0] = '\0';
    for (i = 0; i < j->n_ids && o < cap; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? " " : "", j->ids[i].value);
    }
}
