/*
 * picoacme_time.h - civil time and the three date formats ACME meets:
 * RFC 3339 (ARI windows, order expiry), IMF-fixdate (the HTTP Date header)
 * and the X.509 UTCTime/GeneralizedTime fields (through civil time). Pure
 * functions: no clock, no allocation.
 */
#ifndef PICOACME_TIME_H
#define PICOACME_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"

/* A broken-down UTC time (proleptic Gregorian). */
typedef struct picoacme_civil {
    int year; /* 0..9999 */
    int mon;  /* 1..12 */
    int day;  /* 1..31 */
    int hour; /* 0..23 */
    int min;  /* 0..59 */
    int sec;  /* 0..60 */
} picoacme_civil_t;

/* Unix seconds of a civil UTC time. mon 1..12 and day 1..31 (the caller
 * validated them); second 60 counts as the next second. Uses 32-bit
 * divisions only (no libgcc 64-bit division helper on Cortex-M). */
int64_t picoacme_civil_to_unix(int year, int mon, int day, int h, int m, int s);

/* The civil UTC time of t, for t in [0, 253402300799] (9999-12-31T23:59:59Z).
 * Returns PICOACME_ERR_PARAM outside that range or for a NULL out. */
picoacme_err_t picoacme_unix_to_civil(int64_t t, picoacme_civil_t *out);

/* Days in month mon (1..12) of year. */
unsigned picoacme_month_days(unsigned year, unsigned mon);

/* RFC 3339 §5.6 date-time ("2025-01-02T03:04:05Z", fractional seconds and a
 * "+hh:mm"/"-hh:mm" offset allowed, "T"/"Z" in either case) of exactly len
 * bytes to Unix seconds (fraction dropped, leap second 60 taken as the next
 * second).
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL pointer);
 * PICOACME_ERR_PARSE (anything else). s need not be NUL-terminated. */
picoacme_err_t picoacme_rfc3339(const char *s, size_t len, int64_t *out_s);

/* An RFC 7231 §7.1.1.1 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of
 * exactly len bytes to Unix seconds; the day name must match the date.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_PARSE. */
picoacme_err_t picoacme_http_date(const char *s, size_t len, int64_t *out_s);

#endif
