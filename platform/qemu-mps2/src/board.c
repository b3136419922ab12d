/*
 * board.c - SysTick clock, wall clock estimate, lwIP hooks, exit for the
 * QEMU mps2-an385 board (Cortex-M3 at 25 MHz).
 *
 * The wall clock (no RTC here) is in fw_time.c. A real board replaces the
 * exit with a reset.
 */
#include "board.h"

#include <stdlib.h>

#include "lwip/sys.h"

#define SYST_CSR           (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR           (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR           (*(volatile uint32_t *)0xE000E018u)
#define SYST_CSR_ENABLE    0x1u
#define SYST_CSR_TICKINT   0x2u
#define SYST_CSR_CLKSOURCE 0x4u /* the core clock */

#define CORE_HZ 25000000u

static volatile uint32_t ticks_ms;
static uint32_t rand_state;

/* picolibc's vector table calls this weak name for exception 15. */
void arm_systick_isr(void);
void arm_systick_isr(void)
{
    ticks_ms++;
}

void board_init(void)
{
    SYST_RVR = CORE_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;

    uint8_t seed[4];
    if (fw_rng_seed(seed, sizeof seed) != 0) {
        board_exit(70);
    }
    rand_state = (uint32_t)seed[0] | (uint32_t)seed[1] << 8 | (uint32_t)seed[2] << 16 |
                 (uint32_t)seed[3] << 24;
    if (rand_state == 0) {
        rand_state = 0x9e3779b9u;
    }
}

uint32_t board_ms(void)
{
    return ticks_ms;
}

void board_idle(void)
{
    __asm volatile("wfi");
}

void board_exit(int code)
{
    /* picolibc's semihosting exit issues SYS_EXIT_EXTENDED with code. */
    exit(code);
}

uint32_t sys_now(void)
{
    return ticks_ms;
}

uint32_t fw_time_ms(void)
{
    return ticks_ms;
}

/* xorshift32 for lwIP's ports, ISNs and DHCP xids (not for keys). */
uint32_t fw_lwip_rand(void)
{
    uint32_t x = rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rand_state = x;
    return x;
}
