/*
 * fw_time.h - wall clock of a board without RTC.
 *
 * At boot the time is unknown; all the firmware has is a lower bound: the
 * build time (FW_WALL_CLOCK_BASE), raised by facts learned later (the
 * notBefore of a stored certificate), plus the uptime. Once the ACME engine
 * has seen the CA's authenticated Date header, picoacme_now() is the time
 * and fw_time_learn() makes it wolfSSL's XTIME too.
 *
 * wolfSSL date checks (XVALIDATE_DATE -> fw_validate_date): with a lower
 * bound only, notAfter is checked against it (a certificate that expired
 * before the lower bound is surely expired), notBefore is not (a lower
 * bound cannot show that a certificate is not yet valid). Once the time is
 * known, both are checked.
 */
#ifndef PICOACME_FW_TIME_H
#define PICOACME_FW_TIME_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "picoacme_port.h"

/* The time is now_s (from an authenticated source). */
void fw_time_learn(int64_t now_s);
/* The time is at least floor_s (ignored once the time is known). */
void fw_time_floor(int64_t floor_s);
/* Current time (or its lower bound); *known tells which (may be NULL). */
int64_t fw_time_now(bool *known);

/* The clock port: wall_s is PICOACME_TIME_UNKNOWN (no RTC), mono_ms the
 * SysTick counter. */
void fw_time_clock(picoacme_clock_t *out);

/* wolfSSL hooks (user_settings.h). */
time_t fw_time(time_t *t);
int fw_validate_date(const unsigned char *date, unsigned char format, int date_type);

#endif
