/*
 * keeper_state.c - the keeper's persisted state as bytes (version 1), for
 * its own A/B store region: a fixed head of numbers (big endian) and three
 * length-prefixed strings (ARI CertID, problem type, problem detail cut to
 * 64 bytes). Devices read it after a firmware update: a new version adds
 * at the end and keeps the head.
 */
#include "picoacme_keeper.h"
#include "util.h"

#define KS_VERSION    1U
#define KS_HEAD       80U /* version .. the eight times */
#define KS_DETAIL_MAX 64U
/* the detail as decode takes it: at most what encode writes, with the NUL */
#define DETAIL_CAP                                                                                 \
    (KS_DETAIL_MAX < PICOACME_PROBLEM_DETAIL_MAX ? KS_DETAIL_MAX + 1U : PICOACME_PROBLEM_DETAIL_MAX)

static void put64(util_wbuf_t *w, int64_t v)
{
    util_put32(w, (uint32_t)((uint64_t)v >> 32));
    util_put32(w, (uint32_t)v);
}

static int64_t get64(const uint8_t *p)
{
    return (int64_t)(((uint64_t)util_get32(p) << 32) | util_get32(p + 4));
}

static void put_str(util_wbuf_t *w, const char *s, size_t cap)
{
    size_t n = util_strnlen(s, cap);
    util_put8(w, (unsigned)n);
    util_put(w, s, n);
}

picoacme_err_t picoacme_keeper_state_encode(const picoacme_keeper_state_t *st, uint8_t *buf,
                                            size_t cap, size_t *len)
{
    util_wbuf_t w;
    if (st == NULL || buf == NULL || len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    util_wbuf_init(&w, buf, cap);
    util_put8(&w, KS_VERSION);
    util_put8(&w, (st->ari ? 1U : 0U) | (st->ca_answered ? 2U : 0U));
    util_put8(&w, st->ca);
    util_put8(&w, st->ca_failures);
    util_put16(&w, st->failures);
    util_put32(&w, st->phase_rnd);
    util_put16(&w, (unsigned)st->problem.err);
    util_put8(&w, (unsigned)st->problem.state);
    util_put16(&w, st->problem.http_status);
    util_put8(&w, 0U); /* reserved */
    put64(&w, st->plan_not_after_s);
    put64(&w, st->renew_at_s);
    put64(&w, st->backoff_until_s);
    put64(&w, st->rate_limited_until_s);
    put64(&w, st->failback_at_s);
    put64(&w, st->ari_start_s);
    put64(&w, st->ari_end_s);
    put64(&w, st->ari_retry_at_s);
    put_str(&w, st->ari_certid, sizeof st->ari_certid - 1U);
    put_str(&w, st->problem.type, sizeof st->problem.type - 1U);
    put_str(&w, st->problem.detail, KS_DETAIL_MAX);
    if (w.over) {
        return PICOACME_ERR_NOSPACE;
    }
    *len = w.len;
    return PICOACME_OK;
}

/* A length-prefixed string at buf[*p] into out (cap bytes with the NUL).
 * Only what encode writes is taken: no NUL inside the length (its bytes
 * after the NUL would stay in out, unseen, and change at the next save). */
static bool get_str(const uint8_t *buf, size_t len, size_t *p, char *out, size_t cap)
{
    size_t n;
    if (*p >= len) {
        return false;
    }
    n = buf[*p];
    if (n >= cap || n > len - *p - 1U || util_strnlen((const char *)buf + *p + 1U, n) != n) {
        return false;
    }
    memcpy(out, buf + *p + 1U, n);
    out[n] = '\0';
    *p += 1U + n;
    return true;
}

picoacme_err_t picoacme_keeper_state_decode(picoacme_keeper_state_t *st, const uint8_t *buf,
                                            size_t len)
{
    size_t p = KS_HEAD;
    if (st == NULL || buf == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(st, 0, sizeof *st);
    if (len < KS_HEAD || buf[0] != KS_VERSION) {
        return PICOACME_ERR_PARSE;
    }
    st->ari = (buf[1] & 1U) != 0U;
    st->ca_answered = (buf[1] & 2U) != 0U;
    st->ca = buf[2];
    st->ca_failures = buf[3];
    st->failures = util_get16(buf + 4);
    st->phase_rnd = util_get32(buf + 6);
    st->problem.err = (picoacme_err_t)util_get16(buf + 10);
    st->problem.state = (picoacme_state_t)buf[12];
    st->problem.http_status = util_get16(buf + 13);
    st->plan_not_after_s = get64(buf + 16);
    st->renew_at_s = get64(buf + 24);
    st->backoff_until_s = get64(buf + 32);
    st->rate_limited_until_s = get64(buf + 40);
    st->failback_at_s = get64(buf + 48);
    st->ari_start_s = get64(buf + 56);
    st->ari_end_s = get64(buf + 64);
    st->ari_retry_at_s = get64(buf + 72);
    if (!get_str(buf, len, &p, st->ari_certid, sizeof st->ari_certid) ||
        !get_str(buf, len, &p, st->problem.type, sizeof st->problem.type) ||
        !get_str(buf, len, &p, st->problem.detail, DETAIL_CAP)) {
        memset(st, 0, sizeof *st);
        return PICOACME_ERR_PARSE;
    }
    return PICOACME_OK;
}
