/*
 * fw_test_entropy.c - NOT RANDOM: TEST ONLY.
 *
 * The seed source wolfSSL's DRBG calls (CUSTOM_RAND_GENERATE_SEED). QEMU's
 * mps2-an385 has no TRNG, so this mixes the LAN9118 free-running counter
 * and SysTick into a counter hash. An observer can predict it: keys made
 * from it are not secret. A real board MUST replace this file with its TRNG
 * (or a secure element) before generating any key that matters.
 */
#include <stdint.h>

#include "board.h"

#define LAN9118_FREE_RUN (*(volatile uint32_t *)0x4020009Cu)
#define SYST_CVR         (*(volatile uint32_t *)0xE000E018u)

static uint32_t counter;

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

int fw_rng_seed(uint8_t *out, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        counter++;
        uint32_t v = mix32(counter ^ LAN9118_FREE_RUN ^ (SYST_CVR << 8) ^ (board_ms() << 20));
        out[i] = (uint8_t)v;
    }
    return 0;
}
