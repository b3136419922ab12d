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

#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"
#include "picoacme_port.h"

#define PICOACME_STORE_HDR_LEN 24U

/* IEEE 802.3 CRC-32 (the zlib one), continuing from crc (start with 0). */
uint32_t picoacme_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* Largest payload the region can hold. */
size_t picoacme_store_capacity(const picoacme_storage_t *st);

/* Read the newest valid record into buf. PICOACME_ERR_NOT_FOUND when
 * neither slot holds one, PICOACME_ERR_NOSPACE if cap is too small,
 * PICOACME_ERR_STORAGE on a port failure. generation may be NULL. */
picoacme_err_t picoacme_store_load(const picoacme_storage_t *st, uint8_t *buf, size_t cap,
                                   size_t *len, uint32_t *generation);

/* Write data as the new newest record (generation + 1). On any failure the
 * previous record is still the one loaded. */
picoacme_err_t picoacme_store_save(const picoacme_storage_t *st, const uint8_t *data, size_t len);

/* Erase both slots (factory reset). */
picoacme_err_t picoacme_store_wipe(const picoacme_storage_t *st);

#endif
