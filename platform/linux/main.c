/*
 * main.c - the `picoacme` command: obtains a certificate from an ACME CA
 * (issue) or shows what is stored (status). The engine is pumped from a
 * poll() loop; everything it needs comes from the POSIX and wolfSSL ports.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "picoacme.h"
#include "picoacme_jws.h"
#include "run.h"

picoacme_ctx_t g_ctx; /* large: keep it off the stack */

void usage(FILE *f)
{
    fputs(
        "usage:\n"
        "  picoacme issue  --directory URL --ca-root PEMFILE --state FILE\n"
        "                  --domain NAME [--domain NAME ...] [--ip ADDR ...]\n"
        "                  --http01-port PORT --out DIR [--email ADDR] [-q|-v|-vv] [--syslog]\n"
        "                  [--challenge http-01,tls-alpn-01,dns-01] [--tls-alpn01-port PORT]\n"
        "                  [--dns01-server HOST:PORT --tsig-key NAME:hmac-sha256:BASE64SECRET\n"
        "                   [--dns01-resolver HOST:PORT] [--dns01-timeout SECONDS]\n"
        "                   [--dns01-zone ZONE] [--dns01-tcp]]\n"
        "                  [--eab-kid KID --eab-hmac-key B64URL | --eab-hmac-key-file FILE]\n"
        "                  [--renew-hook CMD] [--failure-hook CMD] [--profile NAME] [--if-due]\n"
        "  picoacme run    (the issue options) [--max-renewals N] [--retry-s S] [--fleet-index N]\n"
        "                  [--fallback-directory URL --fallback-ca-root PEM\n"
        "                   --failover-after N --failback-s S]\n"
        "  picoacme run    --config FILE [-q|-v|-vv] [--syslog]\n"
        "  picoacme status --state FILE [--json]\n"
        "  picoacme revoke     --directory URL --ca-root PEMFILE --state FILE [--reason N]\n"
        "  picoacme rollover   --directory URL --ca-root PEMFILE --state FILE\n"
        "  picoacme deactivate --directory URL --ca-root PEMFILE --state FILE\n"
        "  picoacme --version\n"
        "\n"
        "issue    obtain a certificate from the ACME CA and write DIR/cert.pem\n"
        "         (leaf first, then the chain) and DIR/key.pem (P-256). The\n"
        "         account and certificate are kept in the state file; the\n"
        "         account is reused on the next issue (renewal), the\n"
        "         certificate key is always fresh. --if-due: only when due\n"
        "         (exit 0 issued, 1 not due, 2 failed).\n"
        "run      stay running and keep the certificate valid (or those of --config\n"
        "         FILE, see picoacme.conf(5); SIGHUP reads it again): the core's keeper\n"
        "         renews before 2/3 of the lifetime or in the CA's ARI window, backs\n"
        "         off after failures (--retry-s S first, default 60), fails over to\n"
        "         --fallback-directory after --failover-after N failures (default 3)\n"
        "         for --failback-s S (default 86400); --max-renewals N stops after N\n"
        "         issuances (0: never); --fleet-index N (the device's number in its\n"
        "         fleet) spreads a fleet's renewals evenly. SIGTERM ends it.\n"
        "status   print the stored certificate's names, serial, issuer, validity,\n"
        "         renewal time, CA, account, profile and last failure (--json: one JSON\n"
        "         object). Exit status: 0 valid, 1 renewal due, 2 expired, revoked or\n"
        "         nothing stored, 3 unreadable.\n"
        "revoke   revoke the stored certificate (RFC 8555 7.6), signed with the stored\n"
        "         account's key; --reason N is an RFC 5280 CRLReason code (0..10,\n"
        "         not 7; default none). The state file keeps the certificate.\n"
        "rollover replace the stored account's key with a fresh one (RFC 8555 7.3.5);\n"
        "         the account URL stays, the state file gets the new key.\n"
        "deactivate  deactivate the stored account (RFC 8555 7.3.6): the CA refuses\n"
        "         it from then on, and an issue with this state file fails.\n"
        "         All three use the account the state file holds for --directory.\n"
        "\n"
        "  --directory URL, --server URL  ACME directory URL of the CA (https:// or http://)\n"
        "  --ca-root PEMFILE  trust anchors for the CA's TLS certificate; only these\n"
        "                     are trusted (the system store never is)\n"
        "  --state FILE       state file (emulated flash, created if missing or empty;\n"
        "                     any other file is refused; locked while in use)\n"
        "  -d, --domain NAME  DNS identifier (repeatable)\n"
        "  --ip ADDR          IP address identifier, IPv4 or IPv6 (repeatable)\n"
        "  --http01-port PORT port the built-in http-01 responder listens on\n"
        "                     (needed when http-01 is allowed)\n"
        "  --challenge LIST   allowed challenge types in order of preference, comma\n"
        "                     separated (default http-01); for each authorization the\n"
        "                     first one the CA offers is used, the next when it fails\n"
        "  --tls-alpn01-port PORT  port of the built-in tls-alpn-01 responder (RFC 8737)\n"
        "  --dns01-server HOST:PORT  DNS server taking RFC 2136 updates for the zone\n"
        "  --tsig-key NAME:hmac-sha256:BASE64SECRET  TSIG key allowed to update it\n"
        "  --tsig-key-file FILE  the same from a file (kept out of the process list)\n"
        "  --dns01-resolver HOST:PORT  resolver asked until the TXT record is visible\n"
        "  --dns01-timeout SECONDS     propagation timeout (default 60)\n"
        "  --dns01-zone ZONE  zone to update (default: found with an SOA query)\n"
        "  --dns01-tcp        talk to the DNS server and resolver over TCP (RFC 7766)\n"
        "  --eab-kid KID --eab-hmac-key B64URL  External Account Binding for CAs\n"
        "                     that require it (the key id and MAC key they issued)\n"
        "  --eab-hmac-key-file FILE  the MAC key from a file (kept out of the process list)\n"
        "  --out DIR          directory for cert.pem and key.pem (written only on success;\n"
        "                     both switch at once through DIR/live; run restores them\n"
        "                     from the state at every start)\n"
        "  -m, --email ADDR   account contact (optional)\n" HWKEYS_USAGE
        "  --renew-hook CMD   run after each issuance, --failure-hook CMD after a failed\n"
        "                     one; environment PICOACME_EVENT (issued, renewed, failed),\n"
        "                     PICOACME_CERT_PATH, PICOACME_KEY_PATH, PICOACME_NAMES,\n"
        "                     PICOACME_SERIAL, PICOACME_NOT_AFTER, PICOACME_PROBLEM\n"
        "  --profile NAME     the CA's certificate profile NAME (draft-ietf-acme-profiles);\n"
        "                     a name the directory does not list is refused before any\n"
        "                     order; status shows it\n"
        "  --config FILE      run: the certificates of an INI file (picoacme.conf(5))\n"
        "  -q, --quiet        errors only\n"
        "  -v, --verbose      log every ACME request (-vv: also the command's decisions);\n"
        "                     lines start with the UTC time (ISO 8601), as run's do\n"
        "  --syslog           log to syslog (daemon facility) instead of stderr\n"
        "  --json             status: one JSON object\n"
        "  -h, --help         this text\n"
        "  --version          print the version\n",
        f);
}

/* The options of revoke, rollover and deactivate. */
typedef struct lc_opts {
    const char *dir_url, *root_path, *state;
    int reason;
} lc_opts_t;

/* -1 to go on, else the exit status. */
static int lifecycle_options(int argc, char **argv, bool revoke, lc_opts_t *o)
{
    static const struct option opts[] = {{"directory", required_argument, NULL, 'D'},
                                         {"server", required_argument, NULL, 'D'},
                                         {"ca-root", required_argument, NULL, 'r'},
                                         {"state", required_argument, NULL, 's'},
                                         {"reason", required_argument, NULL, 'R'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         HWKEYS_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        char *end = NULL;
        long v;
        switch (c) {
        case 'D': o->dir_url = optarg; break;
        case 'r': o->root_path = optarg; break;
        case 's': o->state = optarg; break;
        case 'v': g_log.verbosity++; break;
        case 'q': g_log.verbosity = -1; break;
        case 'R':
            v = strtol(optarg, &end, 10);
            if (!revoke || end == optarg || *end != '\0' || v < 0 || v > 10 || v == 7) {
                fprintf(stderr, "picoacme: --reason (revoke only) takes an RFC 5280 CRLReason "
                                "code, 0..10 but not 7\n");
                return 2;
            }
            o->reason = (int)v;
            break;
        case 'h': usage(stdout); return 0;
        default:
            if (hwkeys_option(c, optarg) == 1) {
                break;
            }
            fprintf(stderr, "picoacme: see 'picoacme --help' or picoacme(1)\n");
            return 2;
        }
    }
    return -1;
}

/* The missing option of a lifecycle command, or NULL. */
static const char *lifecycle_missing(const lc_opts_t *o)
{
    if (o->dir_url == NULL) {
        return "--directory URL";
    }
    if (strncmp(o->dir_url, "https://", 8) == 0 && o->root_path == NULL) {
        return "--ca-root PEMFILE";
    }
    return o->state == NULL ? "--state FILE" : NULL;
}

static void note_revoked(const char *state)
{
    /* the state keeps the certificate; status and run learn it is revoked */
    picoacme_stored_info_t info;
    char serial[80];
    if (picoacme_stored(&g_ctx, &info) == PICOACME_OK &&
        chain_serial_hex(info.chain_pem, info.chain_len, serial, sizeof serial) &&
        state_note_revoked(state, serial) != 0) {
        say(LOG_ERR, "cannot note the revocation next to %s: %s", state, strerror(errno));
    }
}

/* The exchange itself, with the session open. 0 or 1. */
static int lifecycle_run(session_t *s, const lc_opts_t *o, const char *what)
{
    picoacme_config_t cfg;
    picoacme_err_t e;
    bool revoke = strcmp(what, "revoke") == 0, rollover = strcmp(what, "rollover") == 0;
    char old_tp[PICOACME_THUMBPRINT_LEN + 1U] = "";
    char new_tp[PICOACME_THUMBPRINT_LEN + 1U] = "";
    memset(&cfg, 0, sizeof cfg);
    cfg.directory_url = o->dir_url;
    g_dir_url = o->dir_url;
    e = picoacme_init(&g_ctx, &cfg, &s->ports);
    if (e != PICOACME_OK) {
        say(LOG_ERR, "invalid --directory (%s)", picoacme_err_str(e));
        return 1;
    }
    e = revoke     ? picoacme_revoke_start(&g_ctx, o->reason)
        : rollover ? picoacme_key_rollover_start(&g_ctx)
                   : picoacme_account_deactivate_start(&g_ctx);
    if (e == PICOACME_ERR_NOT_FOUND) {
        say(LOG_ERR, "%s failed: %s holds no %s for %s", what, o->state,
            revoke ? "account and certificate" : "account", o->dir_url);
        return 1;
    }
    if (rollover && e == PICOACME_OK) {
        (void)picoacme_jwk_thumbprint(&s->crypto, PICOACME_KEY_ACCOUNT, old_tp);
    }
    if (e != PICOACME_OK || pump() != 0) {
        report_failure(what, s->roots != NULL ? &s->wt : NULL);
        return 1;
    }
    if (rollover) {
        (void)picoacme_jwk_thumbprint(&s->crypto, PICOACME_KEY_ACCOUNT, new_tp);
        say(LOG_NOTICE, "account %s: key %s replaced by %s", picoacme_account_url(&g_ctx), old_tp,
            new_tp);
    } else {
        say(LOG_NOTICE, "%s: %s", revoke ? "certificate revoked" : "account deactivated",
            revoke ? o->state : picoacme_account_url(&g_ctx));
    }
    if (revoke) {
        note_revoked(o->state);
    }
    return 0;
}

/* revoke, rollover, deactivate: one lifecycle exchange with the stored
 * account (RFC 8555 §7.6, §7.3.5, §7.3.6). */
static int cmd_lifecycle(int argc, char **argv, const char *what)
{
    lc_opts_t o;
    session_t s;
    int rc;
    memset(&o, 0, sizeof o);
    o.reason = -1;
    rc = lifecycle_options(argc, argv, strcmp(what, "revoke") == 0, &o);
    if (rc >= 0) {
        return rc;
    }
    if (lifecycle_missing(&o) != NULL) {
        fprintf(stderr, "picoacme: %s: missing %s (see 'picoacme --help')\n", what,
                lifecycle_missing(&o));
        return 2;
    }
    if (access(o.state, R_OK) != 0) {
        say(LOG_ERR, "no state file %s: no account to %s", o.state, what);
        return 1;
    }
    if (strcmp(what, "rollover") == 0 && hwkeys_active()) {
        say(LOG_ERR, "rollover moves the new key into the account slot by its scalar: not with "
                     "keys in hardware");
        return 2;
    }
    g_log.stamp = g_log.verbosity > 0;
    rc = session_open(&s, o.state, o.root_path);
    if (rc != 0) {
        return rc;
    }
    rc = lifecycle_run(&s, &o, what);
    session_close(&s);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("picoacme %s\n", PICOACME_CLI_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "issue") == 0) {
        return cmd_issue(argc - 1, argv + 1, false);
    }
    if (strcmp(argv[1], "run") == 0) {
        return cmd_issue(argc - 1, argv + 1, true);
    }
    if (strcmp(argv[1], "status") == 0) {
        return cmd_status(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "revoke") == 0 || strcmp(argv[1], "rollover") == 0 ||
        strcmp(argv[1], "deactivate") == 0) {
        return cmd_lifecycle(argc - 1, argv + 1, argv[1]);
    }
    fprintf(stderr, "picoacme: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
