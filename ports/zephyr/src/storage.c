/*
 * storage.c - Zephyr port: picoacme storage on a flash area (flash map).
 *
 * The core writes records at arbitrary offsets and lengths; flash devices
 * program in write blocks (flash_get_write_block_size(), often 4, 8 or 16
 * bytes) at aligned offsets. A write is therefore done per write block:
 * read the block, AND the new bytes in (NOR: a write only clears bits;
 * erased bytes are 0xFF, so the untouched bytes stay as they were) and
 * program the whole block. Erase is flash_area_erase() over whole erase
 * blocks, which the core already asks for. NOT BUILT here (no Zephyr tree).
 */
#include <string.h>
#include <zephyr/drivers/flash.h>
#include <zephyr/storage/flash_map.h>

#include "picoacme_zephyr.h"

#define WB_MAX 32U /* largest write block handled (bytes) */

static picoacme_err_t z_read(void *user, size_t off, uint8_t *buf, size_t len)
{
    picoacme_zephyr_flash_t *f = user;
    return flash_area_read(f->fa, (off_t)off, buf, len) == 0 ? PICOACME_OK : PICOACME_ERR_STORAGE;
}

/* Program the part [off, off+len) of the write block at base. */
static picoacme_err_t write_block(picoacme_zephyr_flash_t *f, size_t base, size_t off,
                                  const uint8_t *src, size_t len)
{
    uint8_t blk[WB_MAX];
    size_t i;

    if (flash_area_read(f->fa, (off_t)base, blk, f->write_block) != 0) {
        return PICOACME_ERR_STORAGE;
    }
    for (i = 0; i < len; i++) {
        blk[off - base + i] &= src[i];
    }
    return flash_area_write(f->fa, (off_t)base, blk, f->write_block) == 0 ? PICOACME_OK
                                                                          : PICOACME_ERR_STORAGE;
}

static picoacme_err_t z_write(void *user, size_t off, const uint8_t *buf, size_t len)
{
    picoacme_zephyr_flash_t *f = user;
    size_t wb = f->write_block;

    while (len > 0U) {
        size_t base = off - off % wb;
        size_t n = base + wb - off;
        picoacme_err_t e;
        if (n > len) {
            n = len;
        }
        e = write_block(f, base, off, buf, n);
        if (e != PICOACME_OK) {
            return e;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return PICOACME_OK;
}

static picoacme_err_t z_erase(void *user, size_t off, size_t len)
{
    picoacme_zephyr_flash_t *f = user;
    return flash_area_erase(f->fa, (off_t)off, len) == 0 ? PICOACME_OK : PICOACME_ERR_STORAGE;
}

/* The erase block size of the area (uniform pages), or 0. */
static size_t erase_size_of(const struct flash_area *fa)
{
    const struct device *dev = flash_area_get_device(fa);
    struct flash_pages_info first;
    struct flash_pages_info last;

    if (dev == NULL || !device_is_ready(dev) ||
        flash_get_page_info_by_offs(dev, fa->fa_off, &first) != 0 ||
        flash_get_page_info_by_offs(dev, fa->fa_off + fa->fa_size - 1U, &last) != 0 ||
        first.size != last.size || first.start_offset != (off_t)fa->fa_off) {
        return 0;
    }
    return first.size;
}

picoacme_err_t picoacme_zephyr_flash_open(picoacme_zephyr_flash_t *f, uint8_t area_id,
                                          picoacme_storage_t *out)
{
    size_t es;

    if (f == NULL || out == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(f, 0, sizeof *f);
    if (flash_area_open(area_id, &f->fa) != 0) {
        return PICOACME_ERR_STORAGE;
    }
    es = erase_size_of(f->fa);
    f->write_block = flash_get_write_block_size(flash_area_get_device(f->fa));
    if (es == 0U || f->write_block == 0U || f->write_block > WB_MAX || es % f->write_block != 0U) {
        picoacme_zephyr_flash_close(f);
        return PICOACME_ERR_STORAGE;
    }
    out->user = f;
    out->size = f->fa->fa_size - f->fa->fa_size % es;
    out->erase_size = es;
    out->read = z_read;
    out->write = z_write;
    out->erase = z_erase;
    return PICOACME_OK;
}

void picoacme_zephyr_flash_close(picoacme_zephyr_flash_t *f)
{
    if (f != NULL && f->fa != NULL) {
        flash_area_close(f->fa);
        f->fa = NULL;
    }
}
