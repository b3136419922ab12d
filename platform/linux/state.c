/*
 * state.c - the --state file of the picoacme command: recognised before
 * anything is written to it, locked while a command uses it.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int g_lock_fd = -1;

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

static bool recognised(int fd, off_t size)
{
    uint8_t a[4], b[4];
    size_t slot = (STATE_SIZE / 2U) / STATE_ERASE * STATE_ERASE;
    if (size != (off_t)STATE_SIZE) {
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
    if (lock && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "picoacme: --state %s is in use by another picoacme (locked): %s\n", path,
                strerror(errno));
        close(fd);
        return 1;
    }
    if (g_lock_fd >= 0) {
        close(g_lock_fd);
    }
    g_lock_fd = fd; /* held until the process ends: the lock goes with it */
    return 0;
}
