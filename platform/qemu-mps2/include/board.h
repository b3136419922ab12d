/*
 * board.h - the few board services the qemu-mps2 firmware needs:
 * a 1 ms monotonic clock (SysTick), a wall clock estimate, the lwIP
 * clock/random hooks and a semihosting exit.
 */
#ifndef PICOACME_FW_BOARD_H
#define PICOACME_FW_BOARD_H

#include <stdint.h>
#include <time.h>

/* Start SysTick at 1 kHz from the 25 MHz core clock of mps2-an385. */
void board_init(void);
/* Milliseconds since board_init(); wraps after 49 days. */
uint32_t board_ms(void);
/* Wait for the next interrupt (SysTick at the latest). */
void board_idle(void);
/* Stop the machine with an exit status (semihosting SYS_EXIT_EXTENDED). */
void board_exit(int code) __attribute__((noreturn));

/* Hooks used by wolfSSL (user_settings.h) and lwIP (lwipopts.h). */
int fw_rng_seed(uint8_t *out, uint32_t len);
time_t fw_time(time_t *t);
uint32_t fw_time_ms(void);
uint32_t fw_lwip_rand(void);

#endif
