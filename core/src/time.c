/*
 * time.c - civil time conversions and the RFC 3339 and IMF-fixdate parsers
 * (one copy of each, for the engine, the HTTP parser and the X.509 reader).
 */
#include "picoacme_time.h"

#include <stdbool.h>
#include <string.h>

#include "util.h"

#define DAY_S      86400
#define TIME_MAX_S 253402300799 /* 9999-12-31T23:59:59Z */

unsigned picoacme_month_days(unsigned year, unsigned mon)
{
    static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4U == 0U && year % 100U != 0U) || year % 400U == 0U;
    if (mon < 1U || mon > 12U) {
        return 0;
    }
    return mdays[mon - 1U] + ((mon == 2U && leap) ? 1U : 0U);
}

int64_t picoacme_civil_to_unix(int year, int mon, int day, int h, int m, int s)
{
    /* y = year - (mon <= 2) as era * 400 + yoe, 0 <= yoe < 400 */
    int era = year / 400;
    int r = year % 400 - (mon <= 2 ? 1 : 0);
    if (r < 0) {
        r += 400;
        era--;
    }
    unsigned yoe = (unsigned)r;
    unsigned mp = (unsigned)(mon > 2 ? mon - 3 : mon + 9);
    unsigned doy = (153U * mp + 2U) / 5U + (unsigned)day - 1U;
    unsigned doe = yoe * 365U + yoe / 4U - yoe / 100U + doy;
    int64_t days = (int64_t)era * 146097 + (int64_t)doe - 719468;
    return days * 86400 + (int64_t)h * 3600 + (int64_t)m * 60 + (int64_t)s;
}

picoacme_err_t picoacme_unix_to_civil(int64_t t, picoacme_civil_t *out)
{
    if (out == NULL || t < 0 || t > TIME_MAX_S) {
        return PICOACME_ERR_PARAM;
    }
    /* civil-from-days; t < 2^38, so days < 2^22 fits 32-bit arithmetic */
    uint32_t days = (uint32_t)(t / DAY_S);
    uint32_t sod = (uint32_t)(t - (int64_t)days * DAY_S);
    uint32_t z = days + 719468U;
    uint32_t era = z / 146097U;
    uint32_t doe = z - era * 146097U;
    uint32_t yoe = (doe - doe / 1460U + doe / 36524U - doe / 146096U) / 365U;
    uint32_t doy = doe - (365U * yoe + yoe / 4U - yoe / 100U);
    uint32_t mp = (5U * doy + 2U) / 153U;
    uint32_t mon = mp < 10U ? mp + 3U : mp - 9U;
    out->year = (int)(yoe + era * 400U + (mon <= 2U ? 1U : 0U));
    out->mon = (int)mon;
    out->day = (int)(doy - (153U * mp + 2U) / 5U + 1U);
    out->hour = (int)(sod / 3600U);
    out->min = (int)(sod / 60U % 60U);
    out->sec = (int)(sod % 60U);
    return PICOACME_OK;
}

/* s[0, n) matches pat, where '0' in pat is any digit. */
static bool pattern_ok(const char *s, const char *pat, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool ok = pat[i] == '0' ? util_is_digit(s[i]) : util_lower(s[i]) == util_lower(pat[i]);
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* RFC 3339 time-offset at s[p, len): "Z" or "+hh:mm"/"-hh:mm", to seconds
 * east of UTC. */
static bool rfc3339_offset(const char *s, size_t p, size_t len, int64_t *off)
{
    if (len - p == 1U && (s[p] == 'Z' || s[p] == 'z')) {
        *off = 0;
        return true;
    }
    if (len - p != 6U || (s[p] != '+' && s[p] != '-') || !pattern_ok(s + p + 1U, "00:00", 5U)) {
        return false;
    }
    unsigned oh = util_dec(s + p + 1U, 2U);
    unsigned om = util_dec(s + p + 4U, 2U);
    if (oh > 23U || om > 59U) {
        return false;
    }
    *off = (int64_t)(oh * 3600U + om * 60U);
    if (s[p] == '-') {
        *off = -*off;
    }
    return true;
}

/* Checks the ranges of a civil time and converts it. */
static bool civil_ok(unsigned year, unsigned mon, unsigned day, unsigned hh, unsigned mm,
                     unsigned ss)
{
    unsigned mlen = picoacme_month_days(year, mon);
    /* second 60 is a leap second (RFC 3339 §5.7, RFC 7231 §7.1.1.1) */
    return mlen != 0U && day >= 1U && day <= mlen && hh <= 23U && mm <= 59U && ss <= 60U;
}

/* RFC 3339 §5.6 */
picoacme_err_t picoacme_rfc3339(const char *s, size_t len, int64_t *out_s)
{
    /* full-date "T" partial-time without the fraction: '0' a digit */
    static const char pat[] = "0000-00-00T00:00:00";
    const size_t plen = sizeof pat - 1U;
    int64_t off = 0;
    if (s == NULL || out_s == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (len <= plen || !pattern_ok(s, pat, plen)) {
        return PICOACME_ERR_PARSE;
    }
    size_t p = plen;
    if (s[p] == '.') {
        /* time-secfrac = "." 1*DIGIT, dropped */
        size_t f = ++p;
        while (p < len && util_is_digit(s[p])) {
            p++;
        }
        if (p == f || p == len) {
            return PICOACME_ERR_PARSE;
        }
    }
    if (!rfc3339_offset(s, p, len, &off)) {
        return PICOACME_ERR_PARSE;
    }
    unsigned year = util_dec(s, 4U), mon = util_dec(s + 5, 2U), day = util_dec(s + 8, 2U);
    unsigned hh = util_dec(s + 11, 2U), mm = util_dec(s + 14, 2U), ss = util_dec(s + 17, 2U);
    if (!civil_ok(year, mon, day, hh, mm, ss)) {
        return PICOACME_ERR_PARSE;
    }
    *out_s = picoacme_civil_to_unix((int)year, (int)mon, (int)day, (int)hh, (int)mm, (int)ss) - off;
    return PICOACME_OK;
}

/* Index of the 3-letter name s in tab (n names), n if absent. */
static unsigned name3(const char *tab, unsigned n, const char *s)
{
    unsigned i = 0;
    while (i < n && memcmp(s, tab + 3U * i, 3) != 0) {
        i++;
    }
    return i;
}

/* RFC 7231 §7.1.1.1, IMF-fixdate only */
picoacme_err_t picoacme_http_date(const char *s, size_t len, int64_t *out_s)
{
    /* "Sun, 06 Nov 1994 08:49:37 GMT": '0' a digit, '_' a name letter */
    static const char pat[] = "___, 00 ___ 0000 00:00:00 GMT";

    if (s == NULL || out_s == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (len != sizeof pat - 1U) {
        return PICOACME_ERR_PARSE;
    }
    for (size_t i = 0; i < len; i++) {
        if (pat[i] == '0' ? !util_is_digit(s[i]) : (pat[i] != '_' && s[i] != pat[i])) {
            return PICOACME_ERR_PARSE;
        }
    }
    unsigned wday = name3("SunMonTueWedThuFriSat", 7U, s);
    unsigned mon = name3("JanFebMarAprMayJunJulAugSepOctNovDec", 12U, s + 8) + 1U;
    unsigned day = util_dec(s + 5, 2), year = util_dec(s + 12, 4);
    unsigned hh = util_dec(s + 17, 2), mm = util_dec(s + 20, 2), ss = util_dec(s + 23, 2);
    if (wday == 7U || year < 1970U || !civil_ok(year, mon, day, hh, mm, ss)) {
        return PICOACME_ERR_PARSE;
    }
    int64_t t = picoacme_civil_to_unix((int)year, (int)mon, (int)day, 0, 0, 0);
    /* days since 1970 with a 32-bit division (86400 = 2^7 * 675, and
     * t >> 7 < 2^32 up to 9999); 1970-01-01 was a Thursday (index 4):
     * reject an inconsistent day-name */
    if (((uint32_t)(t >> 7) / 675U + 4U) % 7U != wday) {
        return PICOACME_ERR_PARSE;
    }
    *out_s = t + (int64_t)(hh * 3600U + mm * 60U + ss);
    return PICOACME_OK;
}
