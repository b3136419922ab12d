/*
 * fw_flash.h - the picoacme storage port of the qemu-mps2 firmware: a NOR
 * flash region emulated by a host file reached through semihosting, so it
 * survives a reboot (a new QEMU run) of the emulated device.
 *
 * NOR semantics as in ports/posix/src/flash.c: erase sets whole erase
 * blocks to 0xFF, a write can only clear bits (new = old AND data). A real
 * board replaces this file with its flash driver (same three calls).
 *
 * Fault injection (FW_FAULT_INJECTION builds only): once armed with a byte
 * budget, the write that would program more bytes than are left programs
 * only the bytes that fit and then cuts the power: QEMU exits at once with
 * FW_EXIT_POWER_CUT, nothing else runs.
 */
#ifndef PICOACME_FW_FLASH_H
#define PICOACME_FW_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_port.h"

#define FW_EXIT_POWER_CUT 42

typedef struct fw_flash {
    int handle; /* semihosting file handle */
    size_t size;
    size_t erase_size;
    long cut_left;       /* bytes still programmed before the cut; -1 = off */
    uint32_t programmed; /* bytes programmed since open (statistics) */
} fw_flash_t;

/* Open (or create, erased) the host file `path` as a region of size bytes
 * with erase blocks of erase_size; fill *out. 0 on success. */
int fw_flash_open(fw_flash_t *f, const char *path, size_t size, size_t erase_size,
                  picoacme_storage_t *out);

/* Arm the power cut after `bytes` more programmed bytes (-1 disarms).
 * Without FW_FAULT_INJECTION this does nothing. */
void fw_flash_cut_after(fw_flash_t *f, long bytes);

#endif
