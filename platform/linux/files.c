/*
 * files.c - the files of the picoacme command that must not be lost or
 * mixed up: --out, published from the state file, and secrets read from
 * files.
 *
 * --out layout (certbot's live/archive idea, in one directory):
 *
 *   DIR/cert.pem -> live/cert.pem     (symlinks, made once)
 *   DIR/key.pem  -> live/key.pem
 *   DIR/live     -> .gen-T-P-N         (swapped atomically by rename)
 *   DIR/.gen-T-P-N/cert.pem  0644     (one generation: written whole,
 *   DIR/.gen-T-P-N/key.pem   0600      fsynced, never changed again)
 *
 * The certificate and its key change together by one rename of the "live"
 * link: a crash at any point leaves the old pair or the new pair, never a
 * new key with an old certificate. A generation directory is new (mkdir),
 * its files are created O_EXCL|O_NOFOLLOW with their final mode, so no
 * pre-existing file or symlink can receive the key or lend it its mode.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Create name in dfd exclusively (no symlink followed) with mode, write
 * data, fsync. Returns 0 or -1 (errno set). */
static int write_new(int dfd, const char *name, const void *data, size_t len, mode_t mode)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    const char *p = data;
    int err;
    if (fd < 0) {
        return -1;
    }
    /* the mode is the one asked for, whatever the umask */
    if (fchmod(fd, mode) != 0) {
        goto fail;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            goto fail;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0) {
        goto fail;
    }
    return close(fd);
fail:
    err = errno;
    close(fd);
    (void)unlinkat(dfd, name, 0);
    errno = err;
    return -1;
}

/* Point name in dfd at target, atomically replacing what is there. */
static int link_swap(int dfd, const char *name, const char *target)
{
    char tmp[64];
    char cur[256];
    ssize_t n = readlinkat(dfd, name, cur, sizeof cur - 1U);
    if (n >= 0) {
        cur[n] = '\0';
        if (strcmp(cur, target) == 0) {
            return 0;
        }
    }
    snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
    (void)unlinkat(dfd, tmp, 0);
    if (symlinkat(target, dfd, tmp) != 0) {
        return -1;
    }
    if (renameat(dfd, tmp, dfd, name) != 0) {
        int err = errno;
        (void)unlinkat(dfd, tmp, 0);
        errno = err;
        return -1;
    }
    return 0;
}

/* Remove one generation directory (its two files, then itself). */
static void gen_remove(int dfd, const char *name)
{
    int g = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (g >= 0) {
        (void)unlinkat(g, "cert.pem", 0);
        (void)unlinkat(g, "key.pem", 0);
        (void)unlinkat(g, "key.uri", 0); /* hardware keys (hwkeys.c) */
        close(g);
    }
    (void)unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Remove every generation but keep. */
static void gens_prune(int dfd, const char *keep)
{
    int d2 = dup(dfd);
    DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
    struct dirent *e;
    if (d == NULL) {
        if (d2 >= 0) {
            close(d2);
        }
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".gen-", 5) == 0 && strcmp(e->d_name, keep) != 0) {
            gen_remove(dfd, e->d_name);
        }
    }
    closedir(d);
}

/* A new, empty generation directory in dfd; its name into name. */
static int gen_make(int dfd, char *name, size_t cap)
{
    static unsigned seq;
    int tries;
    for (tries = 0; tries < 100; tries++) {
        snprintf(name, cap, ".gen-%lld-%ld-%u", (long long)time(NULL), (long)getpid(), seq++);
        if (mkdirat(dfd, name, 0755) == 0) {
            return 0;
        }
        if (errno != EEXIST) {
            return -1;
        }
    }
    return -1;
}

int out_publish(const char *out, const char *cert, size_t cert_len, const char *key, size_t key_len)
{
    const char *kn = hwkeys_key_name(); /* key.pem, or key.uri for a key in hardware */
    char klink[32];
    char gen[96];
    int dfd, gfd, rc = -1, err = 0;
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        return -1;
    }
    dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        return -1;
    }
    snprintf(klink, sizeof klink, "live/%s", kn);
    if (gen_make(dfd, gen, sizeof gen) != 0) {
        goto done;
    }
    gfd = openat(dfd, gen, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (gfd < 0) {
        goto done;
    }
    if (write_new(gfd, kn, key, key_len, 0600) != 0 ||
        write_new(gfd, "cert.pem", cert, cert_len, 0644) != 0 || fsync(gfd) != 0) {
        err = errno;
        close(gfd);
        gen_remove(dfd, gen);
        errno = err;
        goto done;
    }
    close(gfd);
    if (fsync(dfd) != 0 || link_swap(dfd, "live", gen) != 0 || link_swap(dfd, kn, klink) != 0 ||
        link_swap(dfd, "cert.pem", "live/cert.pem") != 0 || fsync(dfd) != 0) {
        goto done;
    }
    gens_prune(dfd, gen);
    {
        /* the other kind of key's link (software <-> hardware) points nowhere now */
        const char *other = strcmp(kn, "key.pem") == 0 ? "key.uri" : "key.pem";
        struct stat ls;
        if (fstatat(dfd, other, &ls, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(ls.st_mode)) {
            (void)unlinkat(dfd, other, 0);
        }
    }
    (void)fsync(dfd);
    rc = 0;
done:
    err = errno;
    close(dfd);
    errno = err;
    return rc;
}

/* Does dir/name hold exactly data[0, len)? */
static bool same_content(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4200];
    uint8_t *buf = NULL;
    size_t n = 0;
    bool same;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (read_file(path, &buf, &n) != 0) {
        return false;
    }
    same = n == len && memcmp(buf, data, len) == 0;
    memset(buf, 0, n);
    free(buf);
    return same;
}

bool out_matches(const char *out, const char *cert, size_t cert_len, const char *key,
                 size_t key_len)
{
    struct stat sb;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", out, hwkeys_key_name());
    /* the key must be the owner's alone */
    if (stat(path, &sb) != 0 || (sb.st_mode & 077) != 0) {
        return false;
    }
    return same_content(out, "cert.pem", cert, cert_len) &&
           same_content(out, hwkeys_key_name(), key, key_len);
}

int out_check_writable(const char *out)
{
    struct stat sb;
    char probe[4200];
    int fd;
    if (stat(out, &sb) != 0) {
        /* created on success only: prove now that it can be */
        if (errno != ENOENT || mkdir(out, 0755) != 0) {
            return -1;
        }
        return rmdir(out);
    }
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    snprintf(probe, sizeof probe, "%s/.picoacme-probe-%ld", out, (long)getpid());
    fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    close(fd);
    return unlink(probe);
}

int read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (f == NULL) {
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    *buf = malloc((size_t)n + 1U);
    if (*buf == NULL || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*buf);
        *buf = NULL;
        return -1;
    }
    fclose(f);
    (*buf)[n] = 0;
    *len = (size_t)n;
    return 0;
}

int read_secret_file(const char *path, char *out, size_t cap)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    if (read_file(path, &buf, &n) != 0) {
        return -1;
    }
    /* one line; trailing white space (the newline an editor adds) dropped */
    while (n > 0 && (buf[n - 1U] == '\n' || buf[n - 1U] == '\r' || buf[n - 1U] == ' ' ||
                     buf[n - 1U] == '\t')) {
        n--;
    }
    if (n == 0 || n >= cap || memchr(buf, '\n', n) != NULL || memchr(buf, 0, n) != NULL) {
        memset(buf, 0, n);
        free(buf);
        errno = EINVAL;
        return -1;
    }
    memcpy(out, buf, n);
    out[n] = '\0';
    memset(buf, 0, n);
    free(buf);
    return 0;
}
