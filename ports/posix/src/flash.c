/*
 * flash.c - a file standing in for a NOR flash region (POSIX port).
 *
 * Erase sets whole erase blocks to 0xFF; write ANDs the new bytes into the
 * old ones (it can only clear bits, as NOR programming does). Every write
 * and erase is followed by fdatasync so a test that reopens the file sees
 * exactly what a device would find after reset.
 *
 * Power-cut injection for tests: while cut_after_bytes >= 0 every byte
 * programmed or erased spends one unit of it. A write or erase that needs
 * more than what is left applies only the bytes that fit (a torn write
 * leaves the programmed prefix, a torn erase leaves an erased 0xFF prefix
 * and the rest of the block unchanged), then the part is "dead": this and
 * every later call, reads included, fail with PICOACME_ERR_STORAGE.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "picoacme_posix.h"

#define FLASH_IOBUF 4096U

static int pread_all(int fd, uint8_t *buf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = pread(fd, buf, len, off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static int pwrite_all(int fd, const uint8_t *buf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static bool in_range(const picoacme_posix_flash_t *f, size_t off, size_t len)
{
    return off <= f->size && len <= f->size - off;
}

/* How many of len bytes may change before the injected cut; marks the part
 * dead when the budget runs out before len. */
static size_t spend(picoacme_posix_flash_t *f, size_t len)
{
    if (f->cut_after_bytes < 0) {
        return len;
    }
    if ((unsigned long long)f->cut_after_bytes >= (unsigned long long)len) {
        f->cut_after_bytes -= (long long)len;
        return len;
    }
    len = (size_t)f->cut_after_bytes;
    f->cut_after_bytes = 0;
    f->dead = true;
    return len;
}

static picoacme_err_t flash_read(void *user, size_t off, uint8_t *buf, size_t len)
{
    picoacme_posix_flash_t *f = user;

    if (f == NULL || f->fd < 0 || f->dead) {
        return PICOACME_ERR_STORAGE;
    }
    if (!in_range(f, off, len) || (buf == NULL && len != 0)) {
        return PICOACME_ERR_PARAM;
    }
    return pread_all(f->fd, buf, len, (off_t)off) == 0 ? PICOACME_OK : PICOACME_ERR_STORAGE;
}

static picoacme_err_t flash_write(void *user, size_t off, const uint8_t *buf, size_t len)
{
    picoacme_posix_flash_t *f = user;
    uint8_t tmp[FLASH_IOBUF];
    size_t allowed;
    size_t done = 0;

    if (f == NULL || f->fd < 0 || f->dead) {
        return PICOACME_ERR_STORAGE;
    }
    if (!in_range(f, off, len) || (buf == NULL && len != 0)) {
        return PICOACME_ERR_PARAM;
    }
    f->writes++;
    allowed = spend(f, len);
    while (done < allowed) {
        size_t n = allowed - done;
        size_t i;
        if (n > sizeof tmp) {
            n = sizeof tmp;
        }
        if (pread_all(f->fd, tmp, n, (off_t)(off + done)) != 0) {
            return PICOACME_ERR_STORAGE;
        }
        for (i = 0; i < n; i++) {
            tmp[i] &= buf[done + i];
        }
        if (pwrite_all(f->fd, tmp, n, (off_t)(off + done)) != 0) {
            return PICOACME_ERR_STORAGE;
        }
        done += n;
    }
    if (fdatasync(f->fd) != 0) {
        return PICOACME_ERR_STORAGE;
    }
    return f->dead ? PICOACME_ERR_STORAGE : PICOACME_OK;
}

static picoacme_err_t fill_ff(int fd, size_t off, size_t len)
{
    uint8_t ff[FLASH_IOBUF];

    memset(ff, 0xFF, sizeof ff);
    while (len > 0) {
        size_t n = len < sizeof ff ? len : sizeof ff;
        if (pwrite_all(fd, ff, n, (off_t)off) != 0) {
            return PICOACME_ERR_STORAGE;
        }
        off += n;
        len -= n;
    }
    return PICOACME_OK;
}

static picoacme_err_t flash_erase(void *user, size_t off, size_t len)
{
    picoacme_posix_flash_t *f = user;
    size_t allowed;

    if (f == NULL || f->fd < 0 || f->dead) {
        return PICOACME_ERR_STORAGE;
    }
    if (!in_range(f, off, len) || off % f->erase_size != 0 || len % f->erase_size != 0) {
        return PICOACME_ERR_PARAM;
    }
    f->writes++;
    allowed = spend(f, len);
    if (fill_ff(f->fd, off, allowed) != PICOACME_OK || fdatasync(f->fd) != 0) {
        return PICOACME_ERR_STORAGE;
    }
    return f->dead ? PICOACME_ERR_STORAGE : PICOACME_OK;
}

picoacme_err_t picoacme_posix_flash_open(picoacme_posix_flash_t *f, const char *path, size_t size,
                                         size_t erase_size, picoacme_storage_t *out)
{
    struct stat sb;
    size_t have;
    int fd;

    if (f == NULL || path == NULL || out == NULL || size == 0 || erase_size == 0 ||
        size % erase_size != 0 || size > (size_t)INT64_MAX) {
        return PICOACME_ERR_PARAM;
    }
    memset(f, 0, sizeof *f);
    f->fd = -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return PICOACME_ERR_STORAGE;
    }
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return PICOACME_ERR_STORAGE;
    }
    /* Keep what an existing file holds; fresh bytes are erased flash. */
    have = (size_t)sb.st_size;
    if (have > size) {
        if (ftruncate(fd, (off_t)size) != 0) {
            close(fd);
            return PICOACME_ERR_STORAGE;
        }
        have = size;
    }
    if (have < size && (fill_ff(fd, have, size - have) != PICOACME_OK || fdatasync(fd) != 0)) {
        close(fd);
        return PICOACME_ERR_STORAGE;
    }
    f->fd = fd;
    f->size = size;
    f->erase_size = erase_size;
    f->cut_after_bytes = -1;
    f->dead = false;
    f->writes = 0;

    out->user = f;
    out->size = size;
    out->erase_size = erase_size;
    out->read = flash_read;
    out->write = flash_write;
    out->erase = flash_erase;
    return PICOACME_OK;
}

void picoacme_posix_flash_close(picoacme_posix_flash_t *f)
{
    if (f != NULL && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}
