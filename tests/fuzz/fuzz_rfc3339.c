/*
 * fuzz_rfc3339.c - libFuzzer target for picoacme_rfc3339() (core/src/time.c),
 * the RFC 3339 date-time parser for the ACME Renewal Information window
 * (RFC 9773 §4.2), which reads text from the CA.
 *
 * The whole input is the text (its exact length is given, so any read past
 * it is an ASan error). Besides the sanitizers, it checks that an accepted
 * text is well-formed and that the result, moved back by the text's own
 * UTC offset, prints as the text's date and time (a leap second 60 as the
 * next second).
 */
#define _DEFAULT_SOURCE /* gmtime_r */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "picoacme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok) {
        abort();
    }
}

static int num(const uint8_t *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        check(p[i] >= '0' && p[i] <= '9');
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t t = 0;
    int64_t off = 0;
    char want[32];
    char got[32];
    struct tm tm;
    time_t tt;
    if (picoacme_rfc3339((const char *)data, size, &t) != PICOACME_OK) {
        return 0;
    }
    check(size >= 20U);
    check(data[10] == 'T' || data[10] == 't');
    /* the offset the text carries */
    if (data[size - 1U] == 'Z' || data[size - 1U] == 'z') {
        off = 0;
    } else {
        check(size >= 25U && (data[size - 6U] == '+' || data[size - 6U] == '-'));
        check(data[size - 3U] == ':');
        off = (int64_t)num(data + size - 5U, 2U) * 3600 + (int64_t)num(data + size - 2U, 2U) * 60;
        check(off < 86400);
        if (data[size - 6U] == '-') {
            off = -off;
        }
    }
    /* local time = UTC + offset; a leap second is the next second */
    bool leap = data[17] == '6' && data[18] == '0';
    tt = (time_t)(t + off - (leap ? 1 : 0));
    check(gmtime_r(&tt, &tm) != NULL);
    snprintf(got, sizeof got, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(want, data, 19);
    want[10] = 'T';
    want[19] = '\0';
    if (leap) {
        want[17] = '5';
        want[18] = '9';
    }
    check(strcmp(got, want) == 0);
    return 0;
}
