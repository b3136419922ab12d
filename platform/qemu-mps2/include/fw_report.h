/*
 * fw_report.h - sizing aids for the firmware: stack painting (high-water
 * mark) and the wolfSSL static pool's peak use per bucket.
 */
#ifndef PICOACME_FW_REPORT_H
#define PICOACME_FW_REPORT_H

#include <stddef.h>
#include <stdint.h>

#define FW_PAINT 0xA5u

/* Paint the whole stack reservation below the caller's frame (call first
 * thing in main). */
void fw_stack_paint(void);
/* Bytes of the stack ever used, from its top (crt0's frames included). */
size_t fw_stack_used(void);
/* Paint the pool and remember it with its heap hint (after loading it). */
void fw_pool_paint(uint8_t *pool, size_t len);
void fw_pool_set_heap(void *heap);
/* Bytes of the pool ever written. */
size_t fw_pool_touched(void);
/* Print the peak number of blocks used per bucket. */
void fw_pool_report(void);

#endif
