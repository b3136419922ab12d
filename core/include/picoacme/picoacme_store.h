/*
 * picoacme_store.h - the power-fail-safe A/B record store.
 *
 * The region is split in two halves (slot A and slot B), each a whole
 * number of erase blocks. A record is a 24-byte header (magic "PACM",
 * version, generation, payload length, CRC-32 of the payload, CRC-32 of
 * the header) followed by the payload. Saving writes the slot that does not
 * hold the newest valid record: erase, payload, read back and check, then
 * the header last. A power cut at any byte leaves the previous record
 * valid; loading picks the valid record with the highest generation.
 */
#ifndef PICOACME_STORE_H
#define PICOACME_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"
#include "picoacme_port.h"

#define PICOACME_STORE_HDR_LEN 24U

/*
 * st is the caller's storage port (picoacme_port.h). It is usable when
 * read, write and erase are set, erase_size is not 0 and size holds two
 * slots of at least one erase block each, larger than the header; every
 * function but picoacme_crc32 refuses one that is not. Memory: no function
 * allocates or keeps a pointer after it returns; the buffers are the
 * caller's.
 */

/* IEEE 802.3 CRC-32 (the zlib one) of data[0, len), continuing from crc
 * (start with 0). Returns the new CRC; crc itself when data is NULL. */
uint32_t picoacme_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* Largest payload the region can hold: a slot less the 24-byte header
 * (at most UINT32_MAX). Returns 0 when st is not usable. */
size_t picoacme_store_capacity(const picoacme_storage_t *st);

/* Read the newest valid record.
 *
 * st:        the storage port
 * buf, cap:  the caller's buffer for the payload (buf may be NULL if cap
 *            is 0)
 * len:       gets the payload length (0 on a failure past the
 *            parameter check)
 * generation: gets the record's generation; may be NULL
 *
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (st not usable, len NULL),
 * PICOACME_ERR_NOT_FOUND (neither slot holds a valid record),
 * PICOACME_ERR_NOSPACE (cap too small), PICOACME_ERR_STORAGE (a port
 * failure).
 *
 * The newer record's payload is read into buf and its CRC checked there:
 * the bytes handed out are the bytes checked, in one pass over the flash.
 * When it fails, the older record is read the same way. A record longer
 * than cap is checked in flash (a pass) before NOSPACE. After a failure buf
 * may hold the bytes of a record that failed its CRC. */
picoacme_err_t picoacme_store_load(const picoacme_storage_t *st, uint8_t *buf, size_t cap,
                                   size_t *len, uint32_t *generation);

/* Read part of the newest valid record: payload bytes [off, off + *n),
 * *n = min(cap, its length - off) (0 when off is at or past the end), for
 * a record larger than any RAM buffer.
 *
 * st:        the storage port
 * off:       first payload byte wanted
 * buf, cap:  the caller's buffer (buf may be NULL if cap is 0)
 * n:         gets the bytes read (0 on a failure)
 * total:     gets the payload length (0 when no record is found)
 *
 * A read of the whole payload (off 0, cap large enough) is read and
 * checked in buf, in one pass, like picoacme_store_load(); any other read
 * checks the whole payload's CRC in flash first (a pass), then reads.
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (st not usable, n or
 * total NULL), PICOACME_ERR_NOT_FOUND (neither slot holds a valid record),
 * PICOACME_ERR_STORAGE (a port failure). */
picoacme_err_t picoacme_store_read(const picoacme_storage_t *st, size_t off, uint8_t *buf,
                                   size_t cap, size_t *n, size_t *total);

/* Write data[0, len) as the new newest record (generation + 1, wrapping)
 * into the slot that does not hold the newest one. On any failure or power
 * cut the previous record is still the one loaded.
 *
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (st not usable, data NULL
 * with len > 0), PICOACME_ERR_NOSPACE (len over picoacme_store_capacity()),
 * PICOACME_ERR_STORAGE (a port failure or a read-back mismatch; saving
 * again is safe). */
picoacme_err_t picoacme_store_save(const picoacme_storage_t *st, const uint8_t *data, size_t len);

/* ---- streaming: a record written as it arrives ---------------------------
 * picoacme_store_save() in pieces, for a payload that never sits whole in
 * RAM (a certificate chain as it is downloaded): begin erases the slot that
 * does not hold the newest record, append programs and reads back each
 * piece while the CRC-32 is computed incrementally, commit programs the
 * header last. Until commit's final byte, and after any failure or an
 * abandoned writer (nothing to release), the previous record is the one
 * loaded. The writer is the caller's; no other save may run meanwhile. */
typedef struct picoacme_store_writer {
    const picoacme_storage_t *st;
    size_t base;         /* offset of the slot being written */
    size_t cap;          /* its payload capacity */
    size_t len;          /* payload bytes appended */
    uint32_t crc;        /* CRC-32 of them */
    uint32_t generation; /* of the record being written */
    bool open;           /* begun, not committed, no failure */
} picoacme_store_writer_t;

/* Start a record in w (any memory). Returns one of PICOACME_OK,
 * PICOACME_ERR_PARAM (w NULL, st not usable), PICOACME_ERR_STORAGE. */
picoacme_err_t picoacme_store_begin(picoacme_store_writer_t *w, const picoacme_storage_t *st);

/* Append data[0, len) to the record. Returns one of PICOACME_OK,
 * PICOACME_ERR_PARAM (w not begun or failed, data NULL with len > 0),
 * PICOACME_ERR_NOSPACE (over picoacme_store_capacity() in total),
 * PICOACME_ERR_STORAGE (a port failure or read-back mismatch). After a
 * failure the writer is closed: begin again. */
picoacme_err_t picoacme_store_append(picoacme_store_writer_t *w, const uint8_t *data, size_t len);

/* Read back payload bytes [off, off + n) appended to the open writer w
 * (not committed yet: a record checked before it is made the newest).
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (w not open, buf NULL
 * with n > 0, or the range past the bytes appended), PICOACME_ERR_STORAGE
 * (a port failure). */
picoacme_err_t picoacme_store_peek(const picoacme_store_writer_t *w, size_t off, uint8_t *buf,
                                   size_t n);

/* Make the appended payload the newest record (header last, read back).
 * Returns one of PICOACME_OK, PICOACME_ERR_PARAM (w not begun or failed),
 * PICOACME_ERR_STORAGE. The writer is closed either way. */
picoacme_err_t picoacme_store_commit(picoacme_store_writer_t *w);

/* Erase both slots (factory reset). Returns one of PICOACME_OK,
 * PICOACME_ERR_PARAM (st not usable), PICOACME_ERR_STORAGE. */
picoacme_err_t picoacme_store_wipe(const picoacme_storage_t *st);

#endif
