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
#include <stdio.h>

#include "picoacme.h"

/* The --state file is a 16 KiB flash region with 4 KiB erase blocks. */
#define STATE_SIZE  (16U * 1024U)
#define STATE_ERASE 4096U

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

/* ---- hooks.c ---- */

/* Run cmd with /bin/sh -c; its wait status decoded into why ("exited
 * with status 3", "killed by signal 9 (Killed)"). 0 when it exited 0,
 * else -1. */
int hook_run(const char *cmd, char *why, size_t cap);

/* ---- main.c ---- */

/* The usage text. */
void usage(FILE *f);

/* ---- status.c ---- */

/* The serial of the stored leaf (chain PEM) as hex into out; false when
 * it cannot be read. */
bool chain_serial_hex(const char *chain, size_t len, char *out, size_t cap);

/* picoacme status: exit 0 valid, 1 renewal due, 2 expired, revoked or
 * nothing stored, 3 the state cannot be read. */
int cmd_status(int argc, char **argv);

#endif
