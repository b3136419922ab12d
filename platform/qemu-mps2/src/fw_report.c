/*
 * fw_report.c - stack high-water mark by painting and the wolfSSL static
 * pool's peak use (see fw_report.h).
 */
#include "fw_report.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/memory.h>

/* The stack is the top FW_STACK_SIZE bytes of RAM, below picolibc's
 * __stack (the build checks that bss ends below it). */
#ifndef FW_STACK_SIZE
#define FW_STACK_SIZE 8192u
#endif
extern uint8_t __stack[];

static uint8_t *stack_low;
static uint8_t *stack_top;

static uint8_t *pool_mem;
static size_t pool_len;
static WOLFSSL_HEAP_HINT *pool_heap;

void __attribute__((noinline)) fw_stack_paint(void)
{
    uint8_t *sp = (uint8_t *)__builtin_frame_address(0);
    /* through an integer: the linker symbol is no C object to index */
    stack_top = (uint8_t *)(uintptr_t)__stack;
    stack_low = (uint8_t *)((uintptr_t)__stack - FW_STACK_SIZE);
    for (uint8_t *p = stack_low; p < sp - 64; p++) {
        *p = FW_PAINT;
    }
}

size_t fw_stack_used(void)
{
    const uint8_t *p = stack_low;
    while (p < stack_top && *p == FW_PAINT) {
        p++;
    }
    return (size_t)(stack_top - p);
}

void fw_pool_paint(uint8_t *pool, size_t len)
{
    pool_mem = pool;
    pool_len = len;
    memset(pool, FW_PAINT, len);
}

void fw_pool_set_heap(void *heap)
{
    pool_heap = heap;
}

size_t fw_pool_touched(void)
{
    size_t n = 0;
    for (size_t i = 0; i < pool_len; i++) {
        n += pool_mem[i] != FW_PAINT;
    }
    return n;
}

/* wolfSSL's static buckets are LIFO free lists, so the number of blocks of
 * a size that were ever written equals the peak number in use at once.
 * Mirrors wolfSSL 5.5.4's private block header (memory.c). */
struct fw_wc_memory {
    uint8_t *buffer;
    struct fw_wc_memory *next;
    uint32_t sz;
};

void fw_pool_report(void)
{
    if (pool_heap == NULL || pool_heap->memory == NULL) {
        return;
    }
    printf("fw: wolfSSL buckets (size peak/total; peak = blocks ever used):");
    for (int i = 0; i < WOLFMEM_MAX_BUCKETS; i++) {
        unsigned total = 0, used = 0;
        const struct fw_wc_memory *m = (const void *)pool_heap->memory->ava[i];
        for (; m != NULL && total < 4096u; m = m->next) {
            total++;
            for (uint32_t k = 0; k < m->sz; k++) {
                if (m->buffer[k] != FW_PAINT) {
                    used++;
                    break;
                }
            }
        }
        /* blocks still allocated (the TLS/crypto contexts) are not on the
         * free list: with a one-round pool they are distList - total */
        unsigned dist = (unsigned)pool_heap->memory->distList[i];
        unsigned held = pool_len == FW_WOLF_POOL_ROUND && dist > total ? dist - total : 0u;
        printf(" %u:%u/%u", (unsigned)pool_heap->memory->sizeList[i], used + held, total + held);
    }
    printf("\n");
}
