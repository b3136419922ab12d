/*
 * cli.h - what the files of the picoacme command share: the engine
 * context, the state file's geometry, and the helpers of files.c (--out
 * and secrets), state.c (the --state file), hooks.c, and the commands in
 * their own files (status.c).
 */
#ifndef PICOACME_CLI_H
#define PICOACME_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>

#include <syslog.h>

#include "picoacme.h"
#include "picoacme_posix.h"
#include "picoacme_wolfssl.h"

/* The --state file is a 64 KiB flash region with 4 KiB erase blocks (two
 * 32 KiB slots: long chains, issue 8); a 16 KiB file made by an earlier
 * version keeps its size and layout (state_size()). */
#define STATE_SIZE    (64U * 1024U)
#define STATE_SIZE_V1 (16U * 1024U)
#define STATE_ERASE   4096U

extern picoacme_ctx_t g_ctx; /* large: keep it off the stack */

/* ---- files.c ---- */

/* Read a whole file into a malloc'd, NUL-terminated buffer. 0 or -1. */
int read_file(const char *path, uint8_t **buf, size_t *len);

/* A secret from a file: its one line, trailing white space dropped, into
 * out (NUL-terminated). 0, or -1 (errno EINVAL: empty, several lines or
 * too long). */
int read_secret_file(const char *path, char *out, size_t cap);

/* Publish a certificate chain and its key PEM to out (created if missing)
 * as one new generation behind the atomically swapped link out/live (see
 * files.c). 0, or -1 with errno. */
int out_publish(const char *out, const char *cert, size_t cert_len, const char *key,
                size_t key_len);

/* Do out/cert.pem and out/key.pem hold exactly these bytes (and the key
 * mode 0600 or stricter)? */
bool out_matches(const char *out, const char *cert, size_t cert_len, const char *key,
                 size_t key_len);

/* Can --out be created or written? Leaves nothing behind. 0 or -1. */
int out_check_writable(const char *out);

/* ---- state.c ---- */

#define STATE_MISSING 10

/* Check the --state file before anything writes to it: an existing file
 * must be a state file (else exit status 2 after saying why, the file
 * untouched); a missing one is created when create. With lock, take an
 * exclusive flock held until the process ends (exit status 1 when another
 * process holds it). Returns 0, STATE_MISSING (missing, not create), or
 * the exit status after saying why. */
int state_claim(const char *path, bool create, bool lock);
/* The flash size of the --state file at path: STATE_SIZE_V1 for a file of
 * that size (made by an earlier version), STATE_SIZE otherwise. */
size_t state_size(const char *path);

/* The directory URL and account URL of the stored record. false when no
 * record (or none with a directory). */
bool state_record_urls(const picoacme_storage_t *st, char *dir, size_t dcap, char *acct,
                       size_t acap);
/* The profile the stored certificate was ordered with ("" none). */
bool state_record_profile(const picoacme_storage_t *st, char *out, size_t cap);

/* The revocation note next to the state file (STATE.revoked): the serial
 * (hex) of the certificate revoked last. */
int state_note_revoked(const char *state, const char *serial);
bool state_is_revoked(const char *state, const char *serial);

/* The failure note next to the state file (STATE.failed): the last
 * failure's time and problem; text NULL removes it (after a success). */
int state_note_failure(const char *state, const char *text);
/* The note's text into out; false when there is none. */
bool state_last_failure(const char *state, char *out, size_t cap);

/* ---- hooks.c ---- */

/* Run cmd with /bin/sh -c; its wait status decoded into why ("exited
 * with status 3", "killed by signal 9 (Killed)"). 0 when it exited 0,
 * else -1. */
int hook_run(const char *cmd, char *why, size_t cap);

/* ---- hwkeys.c: keys in a PKCS#11 token or a TPM 2.0 ---- */

/* getopt_long codes of the options, and the entries for a command's table */
#define HWKEYS_OPT_P11_MODULE   0x1101
#define HWKEYS_OPT_P11_TOKEN    0x1102
#define HWKEYS_OPT_P11_PIN_FILE 0x1103
#define HWKEYS_OPT_TPM2_TCTI    0x1104
/* clang-format off */
#define HWKEYS_OPTIONS                                                        \
    {"pkcs11-module", required_argument, NULL, HWKEYS_OPT_P11_MODULE},        \
    {"pkcs11-token", required_argument, NULL, HWKEYS_OPT_P11_TOKEN},          \
    {"pkcs11-pin-file", required_argument, NULL, HWKEYS_OPT_P11_PIN_FILE},    \
    {"tpm2-tcti", required_argument, NULL, HWKEYS_OPT_TPM2_TCTI}
/* clang-format on */
#define HWKEYS_USAGE                                                                               \
    "  --pkcs11-module PATH --pkcs11-token LABEL [--pkcs11-pin-file FILE]\n"                       \
    "                     keep the account and certificate keys in that PKCS#11 token\n"           \
    "                     (PIN from the file or $PICOACME_PKCS11_PIN); --out gets\n"               \
    "                     key.uri (an RFC 7512 pkcs11: URI) in place of key.pem\n"                 \
    "  --tpm2-tcti STRING keep them in a TPM 2.0 (a tpm2-tss TCTI, e.g.\n"                         \
    "                     device:/dev/tpmrm0); key.uri holds handle:0x... (tpm2-openssl)\n"

/* An option of the table above: 1 taken, 0 not one of them. */
int hwkeys_option(int c, const char *arg);
/* Set all four at once (NULL: not given), for the certificate about to be
 * opened (job.c's keys "pkcs11-module", "pkcs11-token", "pkcs11-pin-file",
 * "tpm2-tcti"); the strings must stay valid while it is in use. */
void hwkeys_set(const char *module, const char *token, const char *pin_file, const char *tcti);
/* Was any of them given? */
bool hwkeys_active(void);
/* The key's file name in --out: "key.uri" with hardware keys, else "key.pem". */
const char *hwkeys_key_name(void);
/* Open the token or TPM the options name (nothing when none was given);
 * sw is the software port it delegates random bytes, hashes and the
 * challenge slot to (it may be filled in after this call, before use).
 * 0, or the exit status after saying why (2 a usage mistake, 1 the device
 * cannot be used: no module, no token, a wrong PIN, no TPM). */
int hwkeys_open(const picoacme_crypto_t *sw);
/* false (after saying why) when no hardware option was given but the
 * record in st names keys in hardware: software keys would replace them. */
bool hwkeys_state_fits(const picoacme_storage_t *st, const char *state);
/* The crypto port to use: the hardware one when open, else sw. */
const picoacme_crypto_t *hwkeys_crypto(const picoacme_crypto_t *sw);
/* The text of --out's key.uri for the record stored in st, into out; then
 * the key objects the record no longer names are destroyed. 0 or -1. */
int hwkeys_key_uri(const picoacme_storage_t *st, char *out, size_t cap, size_t *len);
/* Destroy the key objects the stored record does not name, and close. */
void hwkeys_close(const picoacme_storage_t *st);

/* ---- main.c ---- */

/* The usage text. */
void usage(FILE *f);

/* ---- log.c ---- */

typedef struct log_opts {
    int verbosity;   /* -q: -1, default 0, -v: 1, -vv: 2 */
    bool stamp;      /* ISO-8601 UTC timestamp before each stderr line */
    bool use_syslog; /* --syslog */
} log_opts_t;
extern log_opts_t g_log;

/* Open syslog when --syslog. */
void log_start(void);
/* One line at a syslog priority (LOG_ERR .. LOG_DEBUG), no newline in fmt. */
void say(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void say_v(int prio, const char *fmt, va_list ap);
/* The engine's log port. */
void log_hook(void *user, int level, const char *fmt, ...);

/* ---- session.c ---- */

/* What a command that talks to a CA opens. */
typedef struct session {
    picoacme_transport_t tp;
    picoacme_clock_t clk;
    picoacme_posix_flash_t flash;
    picoacme_storage_t st;
    picoacme_wolfssl_crypto_t wc;
    picoacme_crypto_t crypto;
    picoacme_wolfssl_tls_t wt;
    picoacme_tls_t tls;
    uint8_t *roots;
    size_t roots_len;
    picoacme_ports_t ports;
} session_t;

/* Claim and lock the state, read the roots (https), open the ports.
 * Returns 0, or the exit status after saying why (nothing left open). */
int session_open(session_t *s, const char *state, const char *root_path);
void session_close(session_t *s);
/* Pump the engine until its run ends: 0 success, -1 failure. */
int pump(void);
/* The last failure as one line (step, error, the CA's problem, the TLS
 * reason, a hint), and the same said at LOG_ERR after "WHAT ". */
void problem_text(char *buf, size_t cap, const picoacme_problem_t *p,
                  const picoacme_wolfssl_tls_t *tls);
void report_failure(const char *what, const picoacme_wolfssl_tls_t *tls);
/* The listener ports the allowed challenges need are free now. */
bool ports_free(const picoacme_config_t *cfg);
/* The state holds nothing, or the account of dir_url or fb_url. */
bool state_fits_ca(const picoacme_storage_t *st, const char *state, const char *dir_url,
                   const char *fb_url);
/* Make --out hold what the state holds; *published: --out was written.
 * 0 (also when nothing is stored) or -1 after saying why. */
int publish_stored(picoacme_ctx_t *ctx, picoacme_wolfssl_crypto_t *wcp, const char *out,
                   bool *published);

/* ---- errors.c: errors a person can act on ---- */

/* The directory URL of the run in progress (for hints). */
extern const char *g_dir_url;
/* Append to buf (o bytes used) what the operator can do about the last
 * failure: the host:port and the system's reason for a connection that
 * failed, https for an http:// CA answering 400, an expired --ca-root. */
void hint_text(char *buf, size_t cap, size_t o, const picoacme_problem_t *p);
/* Is some certificate in the PEM roots valid now? Else "" or why (with a
 * leading "; ") in a static buffer. */
const char *roots_why(const uint8_t *pem, size_t len);
/* Note the roots in use for hint_text (the PEM stays the caller's). */
void hint_roots(const uint8_t *pem, size_t len);

/* ---- status.c ---- */

/* The serial of the stored leaf (chain PEM) as hex into out; false when
 * it cannot be read. */
bool chain_serial_hex(const char *chain, size_t len, char *out, size_t cap);

/* Are the stored leaf's SANs exactly these identifiers (in any order)? */
bool chain_names_equal(const char *chain, size_t len, const picoacme_ident_t *ids, size_t n);

/* picoacme status: exit 0 valid, 1 renewal due, 2 expired, revoked or
 * nothing stored, 3 the state cannot be read. */
int cmd_status(int argc, char **argv);

#endif
