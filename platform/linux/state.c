/*
 * state.c - the --state file of the picoacme command: recognised before
 * anything is written to it, locked while a command uses it, and read for
 * what the engine's accessors do not tell: the CA and account of the
 * record, through picoacme_record_find() (picoacme_record.h).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "picoacme_record.h"
#include "picoacme_store.h"

/* The state files this process holds (locked or claimed), by device and
 * inode: claiming one again is a no-op, not a lock conflict with itself. */
#define HELD_MAX 128U
static struct held {
    dev_t dev;
    ino_t ino;
    int fd;
} g_held[HELD_MAX];
static size_t g_n_held;

static bool held(const struct stat *sb)
{
    size_t i;
    for (i = 0; i < g_n_held; i++) {
        if (g_held[i].dev == sb->st_dev && g_held[i].ino == sb->st_ino) {
            return true;
        }
    }
    return false;
}

/* A slot starts with the store's magic "PACM", or with erased flash (or a
 * header whose programming was cut: each byte the magic's or 0xFF). */
static bool slot_ok(const uint8_t *h)
{
    static const uint8_t magic[4] = {'P', 'A', 'C', 'M'};
    size_t i;
    for (i = 0; i < 4U; i++) {
        if (h[i] != magic[i] && h[i] != 0xFFU) {
            return false;
        }
    }
    return true;
}

size_t state_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && sb.st_size == (off_t)STATE_SIZE_V1 ? STATE_SIZE_V1 : STATE_SIZE;
}

static bool recognised(int fd, off_t size)
{
    uint8_t a[4], b[4];
    size_t slot = ((size_t)size / 2U) / STATE_ERASE * STATE_ERASE;
    if (size != (off_t)STATE_SIZE && size != (off_t)STATE_SIZE_V1) {
        return false;
    }
    return pread(fd, a, 4, 0) == 4 && pread(fd, b, 4, (off_t)slot) == 4 && slot_ok(a) && slot_ok(b);
}

int state_claim(const char *path, bool create, bool lock)
{
    struct stat sb;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0 && errno == ENOENT) {
        return STATE_MISSING;
    }
    if (fd < 0) {
        fprintf(stderr, "picoacme: cannot open --state %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (sb.st_size != 0 && !recognised(fd, sb.st_size))) {
        fprintf(stderr,
                "picoacme: --state %s is not a picoacme state file (%lld bytes, no record "
                "header): refusing to touch it\n",
                path, (long long)sb.st_size);
        close(fd);
        return 2;
    }
    if (held(&sb)) {
        close(fd);
        return 0;
    }
    if (lock && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "picoacme: --state %s is in use by another picoacme (locked): %s\n", path,
                strerror(errno));
        close(fd);
        return 1;
    }
    if (g_n_held == HELD_MAX) {
        fprintf(stderr, "picoacme: more than %u state files in one process\n", HELD_MAX);
        close(fd);
        return 1;
    }
    g_held[g_n_held].dev = sb.st_dev;
    g_held[g_n_held].ino = sb.st_ino;
    g_held[g_n_held++].fd = fd; /* held until the process ends: the lock goes with it */
    return 0;
}

/* The record's value of tag, copied as a string (picoacme_record.h). */
static bool rec_str(const uint8_t *rec, size_t len, picoacme_rec_tag_t tag, char *out, size_t cap)
{
    size_t off = 0;
    size_t l = 0;
    if (picoacme_record_find(rec, len, tag, &off, &l) != PICOACME_OK || l >= cap) {
        return false;
    }
    memcpy(out, rec + off, l);
    out[l] = '\0';
    return true;
}

bool state_record_urls(const picoacme_storage_t *st, char *dir, size_t dcap, char *acct,
                       size_t acap)
{
    static uint8_t rec[STATE_SIZE];
    size_t len = 0;
    dir[0] = '\0';
    acct[0] = '\0';
    if (picoacme_store_load(st, rec, sizeof rec, &len, NULL) != PICOACME_OK) {
        return false;
    }
    (void)rec_str(rec, len, PICOACME_REC_ACCT_URL, acct, acap);
    return rec_str(rec, len, PICOACME_REC_DIR, dir, dcap);
}

bool state_record_profile(const picoacme_storage_t *st, char *out, size_t cap)
{
    static uint8_t rec[STATE_SIZE];
    size_t len = 0;
    out[0] = '\0';
    return picoacme_store_load(st, rec, sizeof rec, &len, NULL) == PICOACME_OK &&
           rec_str(rec, len, PICOACME_REC_PROFILE, out, cap);
}

/* ---- notes next to the state: STATE.revoked holds the revoked serial,
 * STATE.failed the last failure ---- */

static void note_path(const char *state, const char *suffix, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s.%s", state, suffix);
}

/* Replace the note atomically (exclusive no-follow 0600 temporary, fsync,
 * rename). */
static int note_write(const char *state, const char *suffix, const char *text)
{
    char path[4200], tmp[4300];
    int fd;
    size_t n = strlen(text);
    note_path(state, suffix, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    if (write(fd, text, n) != (ssize_t)n || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

int state_note_revoked(const char *state, const char *serial)
{
    return note_write(state, "revoked", serial);
}

bool state_is_revoked(const char *state, const char *serial)
{
    char path[4200];
    char buf[256];
    note_path(state, "revoked", path, sizeof path);
    if (read_secret_file(path, buf, sizeof buf) != 0) {
        return false;
    }
    return strcmp(buf, serial) == 0;
}

int state_note_failure(const char *state, const char *text)
{
    char path[4200];
    char line[2200];
    char t[32];
    time_t now = time(NULL);
    struct tm tm;
    if (text == NULL) {
        note_path(state, "failed", path, sizeof path);
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    }
    gmtime_r(&now, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(line, sizeof line, "%s %s", t, text);
    return note_write(state, "failed", line);
}

bool state_last_failure(const char *state, char *out, size_t cap)
{
    char path[4200];
    note_path(state, "failed", path, sizeof path);
    return read_secret_file(path, out, cap) == 0;
}
