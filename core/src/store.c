/*
 * store.c - the power-fail-safe A/B record store (see picoacme_store.h).
 *
 * Layout. The region is cut into two slots of equal size: half the region,
 * rounded down to a whole number of erase blocks (at least one block). Slot
 * A starts at offset 0, slot B right after it; any tail is unused. Each slot
 * holds one record: a 24-byte header, then the payload.
 *
 * Header (all fields little endian):
 *   0  "PACM"         magic
 *   4  u16 version    1
 *   6  u16 flags      0 (a record with unknown flags is not valid)
 *   8  u32 generation
 *  12  u32 length     payload bytes, at most slot size - 24
 *  16  u32 crc        CRC-32 of the payload
 *  20  u32 hcrc       CRC-32 of header bytes 0..19
 *
 * Save order. The target is the slot that does NOT hold the newest valid
 * record (slot A when none is valid). It is erased whole, so no stale byte
 * of an older record can ever be read as part of the new one; its first
 * block (the one with the header) is erased first, so an interrupted erase
 * destroys the stale header before anything else. Then the payload is
 * programmed, read back and compared, and only then the header is
 * programmed and read back. The header goes last and carries its own CRC,
 * so until its final byte lands the target slot is not valid and the other
 * slot still holds the newest record: a power cut at any byte leaves either
 * the old record or the complete new one. (The one failure that can
 * return an error although the new record is in place is a port read error
 * during the final header read-back; the caller then simply saves again.)
 *
 * Generations use serial-number arithmetic (RFC 1982 style, 32 bits): the
 * record whose generation is "after" the other's wins, so 0xFFFFFFFF wraps
 * to 0 and saving never stops. By construction the two valid records differ
 * by exactly one. Equal generations (impossible unless forged) pick slot A.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_store.h"
#include "util.h"

#define STORE_VERSION 1U
#define STORE_SLOTS   2U
/* Stack buffer for streamed CRC and read-back checks. */
#define STORE_IOBUF 64U
/* Payload is programmed in pieces of at most this many bytes (a common NOR
 * page size), each aligned to the piece size within the slot. */
#define STORE_CHUNK 256U

static const uint8_t store_magic[4] = {'P', 'A', 'C', 'M'};

/* Nibble table for the reflected polynomial 0xEDB88320 (64 bytes of flash
 * instead of 1 KiB). */
static const uint32_t crc_nibble[16] = {
    0x00000000U, 0x1DB71064U, 0x3B6E20C8U, 0x26D930ACU, 0x76DC4190U, 0x6B6B51F4U,
    0x4DB26158U, 0x5005713CU, 0xEDB88320U, 0xF00F9344U, 0xD6D6A3E8U, 0xCB61B38CU,
    0x9B64C2B0U, 0x86D3D2D4U, 0xA00AE278U, 0xBDBDF21CU,
};

uint32_t picoacme_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    size_t i;

    if (data == NULL) {
        return crc;
    }
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0FU];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0FU];
    }
    return ~crc;
}

typedef struct store_hdr {
    uint32_t generation;
    uint32_t length;
    uint32_t crc;
} store_hdr_t;

static bool storage_ok(const picoacme_storage_t *st)
{
    return st != NULL && st->read != NULL && st->write != NULL && st->erase != NULL &&
           st->erase_size != 0U;
}

/* Slot size in bytes, or 0 when the region cannot hold two slots with a
 * header each. */
static size_t slot_size(const picoacme_storage_t *st)
{
    size_t half;
    size_t slot;

    if (!storage_ok(st)) {
        return 0;
    }
    half = st->size / STORE_SLOTS;
    slot = half - (half % st->erase_size);
    if (slot < st->erase_size || slot <= PICOACME_STORE_HDR_LEN) {
        return 0;
    }
    return slot;
}

size_t picoacme_store_capacity(const picoacme_storage_t *st)
{
    size_t slot = slot_size(st);
    size_t cap;

    if (slot == 0U) {
        return 0;
    }
    cap = slot - PICOACME_STORE_HDR_LEN;
    if (cap > (size_t)UINT32_MAX) {
        cap = (size_t)UINT32_MAX; /* the length field is 32 bits */
    }
    return cap;
}

static void hdr_encode(uint8_t out[PICOACME_STORE_HDR_LEN], const store_hdr_t *h)
{
    memcpy(out, store_magic, sizeof store_magic);
    util_set16le(out + 4, STORE_VERSION);
    util_set16le(out + 6, 0U);
    util_set32le(out + 8, h->generation);
    util_set32le(out + 12, h->length);
    util_set32le(out + 16, h->crc);
    util_set32le(out + 20, picoacme_crc32(0U, out, 20U));
}

/* Checks everything the header alone can tell; cap is the slot capacity. */
static bool hdr_decode(const uint8_t in[PICOACME_STORE_HDR_LEN], size_t cap, store_hdr_t *h)
{
    if (memcmp(in, store_magic, sizeof store_magic) != 0) {
        return false;
    }
    if (util_get16le(in + 4) != STORE_VERSION || util_get16le(in + 6) != 0U) {
        return false;
    }
    if (util_get32le(in + 20) != picoacme_crc32(0U, in, 20U)) {
        return false;
    }
    h->generation = util_get32le(in + 8);
    h->length = util_get32le(in + 12);
    h->crc = util_get32le(in + 16);
    return (size_t)h->length <= cap;
}

/* CRC-32 of len bytes at off, streamed through a small stack buffer. */
static picoacme_err_t crc_region(const picoacme_storage_t *st, size_t off, size_t len,
                                 uint32_t *crc)
{
    uint8_t buf[STORE_IOBUF];
    uint32_t c = 0;

    while (len > 0U) {
        size_t n = len < sizeof buf ? len : sizeof buf;
        if (st->read(st->user, off, buf, n) != PICOACME_OK) {
            return PICOACME_ERR_STORAGE;
        }
        c = picoacme_crc32(c, buf, n);
        off += n;
        len -= n;
    }
    *crc = c;
    return PICOACME_OK;
}

/* Whether slot i's payload has its header's CRC: read into buf when it
 * fits in cap (then the bytes handed out are the bytes checked, in one
 * pass), else streamed through crc_region(). */
static picoacme_err_t slot_valid(const picoacme_storage_t *st, size_t slot, unsigned i,
                                 const store_hdr_t *h, uint8_t *buf, size_t cap, bool *valid)
{
    size_t off = slot * i + PICOACME_STORE_HDR_LEN;
    size_t n = (size_t)h->length;
    uint32_t crc = 0;
    picoacme_err_t e = PICOACME_OK;

    if (n > cap) {
        e = crc_region(st, off, n, &crc);
    } else if (n > 0U) {
        e = st->read(st->user, off, buf, n) == PICOACME_OK ? PICOACME_OK : PICOACME_ERR_STORAGE;
        crc = picoacme_crc32(0U, buf, n);
    }
    *valid = e == PICOACME_OK && crc == h->crc;
    return e;
}

/* Finds the newest valid record: *which is 0 (A), 1 (B) or -1 (none). Both
 * headers first; then the payload of the newer one (B only if its
 * generation is strictly after A's, in serial-number order), and the older
 * one's only when the newer one is not valid. A payload of at most cap
 * bytes is left in buf: a read costs one pass over the record. */
static picoacme_err_t find_newest(const picoacme_storage_t *st, size_t slot, int *which,
                                  store_hdr_t *newest, uint8_t *buf, size_t cap)
{
    uint8_t raw[PICOACME_STORE_HDR_LEN];
    store_hdr_t h[STORE_SLOTS];
    bool ok[STORE_SLOTS];
    unsigned first;
    unsigned k;

    for (k = 0; k < STORE_SLOTS; k++) {
        if (st->read(st->user, slot * k, raw, sizeof raw) != PICOACME_OK) {
            return PICOACME_ERR_STORAGE; /* a port failure, never "no record" */
        }
        ok[k] = hdr_decode(raw, slot - PICOACME_STORE_HDR_LEN, &h[k]);
    }
    first = (ok[0] && ok[1] && (int32_t)(h[1].generation - h[0].generation) > 0) ? 1U : 0U;
    *which = -1;
    for (k = 0; k < STORE_SLOTS && *which < 0; k++) {
        unsigned i = first ^ k;
        bool valid = false;
        picoacme_err_t e = ok[i] ? slot_valid(st, slot, i, &h[i], buf, cap, &valid) : PICOACME_OK;
        if (e != PICOACME_OK) {
            return e;
        }
        if (valid) {
            *which = (int)i;
            *newest = h[i];
        }
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_store_load(const picoacme_storage_t *st, uint8_t *buf, size_t cap,
                                   size_t *len, uint32_t *generation)
{
    size_t slot = slot_size(st);
    store_hdr_t h;
    int which = -1;
    picoacme_err_t e;

    if (slot == 0U || len == NULL || (buf == NULL && cap != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *len = 0;
    e = find_newest(st, slot, &which, &h, buf, cap); /* a record that fits is in buf */
    if (e != PICOACME_OK) {
        return e;
    }
    if (which < 0) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if ((size_t)h.length > cap) {
        return PICOACME_ERR_NOSPACE;
    }
    *len = (size_t)h.length;
    if (generation != NULL) {
        *generation = h.generation;
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_store_read(const picoacme_storage_t *st, size_t off, uint8_t *buf,
                                   size_t cap, size_t *n, size_t *total)
{
    size_t slot = slot_size(st);
    store_hdr_t h;
    int which = -1;
    size_t want;
    picoacme_err_t e;

    if (slot == 0U || n == NULL || total == NULL || (buf == NULL && cap != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *n = 0;
    *total = 0;
    /* from the start, a record that fits is read and checked in buf; any
     * other read is checked by a scan of the whole payload first */
    e = find_newest(st, slot, &which, &h, buf, off == 0U ? cap : 0U);
    if (e != PICOACME_OK) {
        return e;
    }
    if (which < 0) {
        return PICOACME_ERR_NOT_FOUND;
    }
    *total = (size_t)h.length;
    want = off >= *total ? 0U : *total - off;
    want = want < cap ? want : cap;
    if (want > 0U && (off != 0U || want < *total) &&
        st->read(st->user, slot * (size_t)which + PICOACME_STORE_HDR_LEN + off, buf, want) !=
            PICOACME_OK) {
        return PICOACME_ERR_STORAGE;
    }
    *n = want;
    return PICOACME_OK;
}

/* Reads back len bytes at off and compares them with data. */
static picoacme_err_t verify(const picoacme_storage_t *st, size_t off, const uint8_t *data,
                             size_t len)
{
    uint8_t buf[STORE_IOBUF];

    while (len > 0U) {
        size_t n = len < sizeof buf ? len : sizeof buf;
        if (st->read(st->user, off, buf, n) != PICOACME_OK) {
            return PICOACME_ERR_STORAGE;
        }
        if (memcmp(buf, data, n) != 0) {
            return PICOACME_ERR_STORAGE;
        }
        off += n;
        data += n;
        len -= n;
    }
    return PICOACME_OK;
}

/* Erase the whole slot at base, the block holding the header first: an
 * interrupted erase destroys the stale header before anything else. */
static picoacme_err_t erase_slot(const picoacme_storage_t *st, size_t base, size_t slot)
{
    if (st->erase(st->user, base, st->erase_size) != PICOACME_OK) {
        return PICOACME_ERR_STORAGE;
    }
    if (slot > st->erase_size &&
        st->erase(st->user, base + st->erase_size, slot - st->erase_size) != PICOACME_OK) {
        return PICOACME_ERR_STORAGE;
    }
    return PICOACME_OK;
}

/* Program data at payload offset w->len in pieces of at most STORE_CHUNK
 * bytes, each aligned to the piece size within the slot, and read it back. */
static picoacme_err_t write_payload(picoacme_store_writer_t *w, const uint8_t *data, size_t len)
{
    const picoacme_storage_t *st = w->st;
    size_t done = 0;

    while (done < len) {
        size_t pos = PICOACME_STORE_HDR_LEN + w->len + done;
        size_t n = STORE_CHUNK - (pos % STORE_CHUNK);
        if (n > len - done) {
            n = len - done;
        }
        if (st->write(st->user, w->base + pos, data + done, n) != PICOACME_OK) {
            return PICOACME_ERR_STORAGE;
        }
        done += n;
    }
    return verify(st, w->base + PICOACME_STORE_HDR_LEN + w->len, data, len);
}

/* Program the header last and read it back: from its final byte on, the
 * slot holds the newest record. */
static picoacme_err_t write_header(const picoacme_storage_t *st, size_t base, const store_hdr_t *h)
{
    uint8_t raw[PICOACME_STORE_HDR_LEN];

    hdr_encode(raw, h);
    if (st->write(st->user, base, raw, sizeof raw) != PICOACME_OK) {
        return PICOACME_ERR_STORAGE;
    }
    return verify(st, base, raw, sizeof raw);
}

picoacme_err_t picoacme_store_begin(picoacme_store_writer_t *w, const picoacme_storage_t *st)
{
    size_t slot = slot_size(st);
    store_hdr_t newest;
    int which = -1;
    picoacme_err_t e;

    if (w == NULL || slot == 0U) {
        return PICOACME_ERR_PARAM;
    }
    memset(w, 0, sizeof *w);
    e = find_newest(st, slot, &which, &newest, NULL, 0U);
    if (e != PICOACME_OK) {
        return e;
    }
    w->st = st;
    w->cap = slot - PICOACME_STORE_HDR_LEN;
    w->generation = (which < 0) ? 1U : newest.generation + 1U; /* wraps by design */
    w->base = (which == 0) ? slot : 0U; /* the slot without the newest record */
    e = erase_slot(st, w->base, slot);
    w->open = e == PICOACME_OK;
    return e;
}

picoacme_err_t picoacme_store_append(picoacme_store_writer_t *w, const uint8_t *data, size_t len)
{
    picoacme_err_t e;
    if (w == NULL || !w->open || (data == NULL && len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    if (len > w->cap || w->len > w->cap - len || w->len + len > (size_t)UINT32_MAX) {
        w->open = false;
        return PICOACME_ERR_NOSPACE;
    }
    e = write_payload(w, data, len);
    if (e != PICOACME_OK) {
        w->open = false;
        return e;
    }
    w->crc = picoacme_crc32(w->crc, data, len);
    w->len += len;
    return PICOACME_OK;
}

picoacme_err_t picoacme_store_peek(const picoacme_store_writer_t *w, size_t off, uint8_t *buf,
                                   size_t n)
{
    if (w == NULL || !w->open || (buf == NULL && n != 0U) || off > w->len || n > w->len - off) {
        return PICOACME_ERR_PARAM;
    }
    if (n > 0U &&
        w->st->read(w->st->user, w->base + PICOACME_STORE_HDR_LEN + off, buf, n) != PICOACME_OK) {
        return PICOACME_ERR_STORAGE;
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_store_commit(picoacme_store_writer_t *w)
{
    store_hdr_t h;
    if (w == NULL || !w->open) {
        return PICOACME_ERR_PARAM;
    }
    w->open = false;
    h.generation = w->generation;
    h.length = (uint32_t)w->len;
    h.crc = w->crc;
    return write_header(w->st, w->base, &h);
}

picoacme_err_t picoacme_store_save(const picoacme_storage_t *st, const uint8_t *data, size_t len)
{
    picoacme_store_writer_t w;
    picoacme_err_t e;

    if (slot_size(st) == 0U || (data == NULL && len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    if (len > picoacme_store_capacity(st)) {
        return PICOACME_ERR_NOSPACE;
    }
    e = picoacme_store_begin(&w, st);
    if (e == PICOACME_OK) {
        e = picoacme_store_append(&w, data, len);
    }
    if (e == PICOACME_OK) {
        e = picoacme_store_commit(&w);
    }
    return e;
}

picoacme_err_t picoacme_store_wipe(const picoacme_storage_t *st)
{
    size_t slot = slot_size(st);
    unsigned i;

    if (slot == 0U) {
        return PICOACME_ERR_PARAM;
    }
    for (i = 0; i < STORE_SLOTS; i++) {
        if (st->erase(st->user, slot * i, slot) != PICOACME_OK) {
            return PICOACME_ERR_STORAGE;
        }
    }
    return PICOACME_OK;
}
