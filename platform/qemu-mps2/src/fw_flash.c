/*
 * fw_flash.c - NOR flash emulated by a host file over semihosting (see
 * fw_flash.h). Reads and read-modify-writes go through a small bounce
 * buffer; every operation reaches the host file before it returns, so a
 * power cut (QEMU exiting) keeps exactly what a device would.
 */
#include "fw_flash.h"

#include <string.h>

#include "fw_semihost.h"

#define CHUNK 256U

static bool in_range(const fw_flash_t *f, size_t off, size_t len)
{
    return off <= f->size && len <= f->size - off;
}

static picoacme_err_t fl_read(void *user, size_t off, uint8_t *buf, size_t len)
{
    fw_flash_t *f = user;

    if (f == NULL || (buf == NULL && len != 0U) || !in_range(f, off, len)) {
        return PICOACME_ERR_PARAM;
    }
    if (len == 0U) {
        return PICOACME_OK;
    }
    if (sh_seek(f->handle, off) != 0 || sh_read(f->handle, buf, len) != 0) {
        return PICOACME_ERR_STORAGE;
    }
    return PICOACME_OK;
}

static picoacme_err_t fl_write(void *user, size_t off, const uint8_t *buf, size_t len)
{
    fw_flash_t *f = user;
    uint8_t tmp[CHUNK];
    size_t done = 0;
    size_t allowed = len;
    bool cut = false;

    if (f == NULL || (buf == NULL && len != 0U) || !in_range(f, off, len)) {
        return PICOACME_ERR_PARAM;
    }
#ifdef FW_FAULT_INJECTION
    if (f->cut_left >= 0 && (unsigned long)f->cut_left < len) {
        allowed = (size_t)f->cut_left;
        cut = true;
    } else if (f->cut_left >= 0) {
        f->cut_left -= (long)len;
    }
#endif
    while (done < allowed) {
        size_t n = allowed - done < CHUNK ? allowed - done : CHUNK;
        if (sh_seek(f->handle, off + done) != 0 || sh_read(f->handle, tmp, n) != 0) {
            return PICOACME_ERR_STORAGE;
        }
        for (size_t i = 0; i < n; i++) {
            tmp[i] &= buf[done + i]; /* NOR: programming only clears bits */
        }
        if (sh_seek(f->handle, off + done) != 0 || sh_write(f->handle, tmp, n) != 0) {
            return PICOACME_ERR_STORAGE;
        }
        done += n;
    }
    f->programmed += (uint32_t)done;
    if (cut) {
        /* The supply is gone: no cleanup, no flush, no further byte. */
        (void)sh_close(f->handle);
        sh_exit_now(FW_EXIT_POWER_CUT);
    }
    return PICOACME_OK;
}

static picoacme_err_t fill_ff(fw_flash_t *f, size_t off, size_t len)
{
    uint8_t ff[CHUNK];

    memset(ff, 0xFF, sizeof ff);
    if (sh_seek(f->handle, off) != 0) {
        return PICOACME_ERR_STORAGE;
    }
    while (len > 0U) {
        size_t n = len < sizeof ff ? len : sizeof ff;
        if (sh_write(f->handle, ff, n) != 0) {
            return PICOACME_ERR_STORAGE;
        }
        len -= n;
    }
    return PICOACME_OK;
}

static picoacme_err_t fl_erase(void *user, size_t off, size_t len)
{
    fw_flash_t *f = user;

    if (f == NULL || !in_range(f, off, len) || off % f->erase_size != 0U ||
        len % f->erase_size != 0U) {
        return PICOACME_ERR_PARAM;
    }
    return fill_ff(f, off, len);
}

int fw_flash_open(fw_flash_t *f, const char *path, size_t size, size_t erase_size,
                  picoacme_storage_t *out)
{
    memset(f, 0, sizeof *f);
    f->cut_left = -1;
    if (erase_size == 0U || size == 0U || size % erase_size != 0U) {
        return -1;
    }
    f->size = size;
    f->erase_size = erase_size;
    f->handle = sh_open(path, SH_MODE_RB_PLUS);
    if (f->handle < 0) {
        /* a new part comes erased */
        f->handle = sh_open(path, SH_MODE_WB_PLUS);
        if (f->handle < 0) {
            return -1;
        }
    }
    long have = sh_flen(f->handle);
    if (have < 0) {
        return -1;
    }
    if ((size_t)have < size && fill_ff(f, (size_t)have, size - (size_t)have) != PICOACME_OK) {
        return -1;
    }
    out->user = f;
    out->size = size;
    out->erase_size = erase_size;
    out->read = fl_read;
    out->write = fl_write;
    out->erase = fl_erase;
    return 0;
}

void fw_flash_cut_after(fw_flash_t *f, long bytes)
{
#ifdef FW_FAULT_INJECTION
    f->cut_left = bytes;
#else
    (void)f;
    (void)bytes;
#endif
}
