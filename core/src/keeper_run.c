/*
 * keeper_run.c - the keeper's engine runs (picoacme_keeper.h): starting
 * one for the action keeper.c decided (directory GET for the time,
 * renewalInfo, an issuance), and turning its outcome into the plan, the
 * backoff, the rate limit, the failover and the renewalInfo window kept in
 * the keeper's state.
 */
#include "keeper_int.h"

#if PICOACME_KEEPER

picoacme_err_t keeper_start_run(picoacme_keeper_t *k, act_t a)
{
    if (!keeper_ctx_for(k, k->st.ca)) {
        return PICOACME_ERR_PARAM;
    }
    switch (a) {
    case ACT_TIME: k->phase = PICOACME_KEEPER_PH_TIME; return picoacme_directory_start(&k->ctx);
    case ACT_ARI: k->phase = PICOACME_KEEPER_PH_ARI; return picoacme_ari_start(&k->ctx);
    case ACT_PROBE: k->phase = PICOACME_KEEPER_PH_PROBE; return picoacme_directory_start(&k->ctx);
    default: break;
    }
    k->phase = PICOACME_KEEPER_PH_ISSUE;
    k->renew_now = false;
    return picoacme_issue_start(&k->ctx);
}

/* ---- the end of a run ---------------------------------------------------- */

static void learn_time(picoacme_keeper_t *k)
{
    if (k->ctx.dir.date_s > 0) {
        k->learned_s = k->ctx.dir.date_s;
        k->learned_mono_ms = k->ctx.dir.date_mono_ms;
    }
}

/* The CA's Retry-After of the last answer, in [lo, hi]; def without one. */
static int64_t retry_after(const picoacme_keeper_t *k, int64_t def, int64_t lo, int64_t hi)
{
    const picoacme_http_resp_t *r = &k->ctx.conn.resp;
    int64_t ra = r->has_retry_after ? (int64_t)r->retry_after_s : def;
    return ra < lo ? lo : ra > hi ? hi : ra;
}

/* Failover: the failover_after-th failure in a row moves to the next CA
 * (picoacme_failover.h's policy); true when the CA changed. */
static bool failover(picoacme_keeper_t *k, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    uint8_t after = (uint8_t)keeper_cfg_or(k->cfg.failover_after, PICOACME_KEEPER_FAILOVER_AFTER);
    if (st->ca_failures < UINT8_MAX) {
        st->ca_failures++;
    }
    if (st->ca_failures < after || k->cfg.n_cas < 2U) {
        return false;
    }
    st->ca_failures = 0;
    st->ca = (uint8_t)((st->ca + 1U) % k->cfg.n_cas);
    if (st->ca != 0U && now != PICOACME_TIME_UNKNOWN) {
        st->failback_at_s =
            now + (int64_t)keeper_cfg_or(k->cfg.failback_s, PICOACME_KEEPER_FAILBACK_S);
    }
    keeper_log(k, PICOACME_LOG_LVL_WRN, "failing over to CA", st->ca, now);
    return true;
}

static void backoff(picoacme_keeper_t *k, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    /* a numbered fleet's jitter is its phase itself: the failures at the
     * phases' renewal points (a CA outage) come back as a shifted copy of
     * that even spread, and failures at one instant spread evenly */
    uint32_t rnd = k->cfg.fleet_index != 0U ? st->phase_rnd : keeper_rand(k);
    uint32_t d = picoacme_keeper_backoff_s(
        st->failures, keeper_cfg_or(k->cfg.backoff_min_s, PICOACME_KEEPER_BACKOFF_MIN_S),
        keeper_cfg_or(k->cfg.backoff_max_s, PICOACME_KEEPER_BACKOFF_MAX_S), rnd, now,
        k->have_cert ? k->not_after_s : 0);
    if (now == PICOACME_TIME_UNKNOWN) {
        k->hold = true;
        k->hold_mono_ms = keeper_mono(k) + (d > 2000000U ? 2000000U : d) * 1000U;
        return;
    }
    st->backoff_until_s = now + (int64_t)d;
    keeper_log(k, PICOACME_LOG_LVL_WRN, "attempt failed: failures, retry in s", st->failures, d);
}

static picoacme_keeper_event_t issue_failed(picoacme_keeper_t *k, picoacme_err_t e, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    st->problem = k->ctx.run.problem;
    st->problem.err = e;
    st->ca_answered = false;
    if (st->failures < UINT16_MAX) {
        st->failures++;
    }
    if (failover(k, now)) {
        st->backoff_until_s = now; /* the next CA at once */
    } else {
        backoff(k, now);
    }
    if (e == PICOACME_ERR_RATE_LIMITED && k->ctx.conn.resp.has_retry_after &&
        now != PICOACME_TIME_UNKNOWN) {
        st->rate_limited_until_s = now + retry_after(k, 0, 1, 30 * 86400);
        keeper_log(k, PICOACME_LOG_LVL_WRN, "rate limited until", st->rate_limited_until_s, now);
    }
    keeper_save_state(k);
    return PICOACME_KEEPER_EV_RENEWAL_FAILING;
}

static picoacme_keeper_event_t issue_done(picoacme_keeper_t *k, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    int64_t life;
    st->failures = 0;
    st->ca_failures = 0;
    st->backoff_until_s = 0;
    st->ca_answered = false;
    memset(&st->problem, 0, sizeof st->problem);
    k->issued++;
    keeper_read_cert(k); /* a new certificate: a new plan (saved) */
    life = k->not_after_s - k->not_before_s;
    /* renewalInfo for the new certificate: after 1/16..1/8 of its
     * lifetime (random: a fleet enrolled at once does not ask at once) */
    life = life / 16 < ARI_RETRY_MIN_S   ? ARI_RETRY_MIN_S
           : life / 16 > ARI_RETRY_MAX_S ? ARI_RETRY_MAX_S
                                         : life / 16;
    life += (int64_t)(keeper_rand(k) % (uint32_t)life);
    /* ... and before the fraction point, the fallback */
    if (now != PICOACME_TIME_UNKNOWN && st->renew_at_s - now < 2 * life) {
        life = st->renew_at_s > now ? (st->renew_at_s - now) / 2 : 0;
    }
    st->ari_retry_at_s = now == PICOACME_TIME_UNKNOWN ? 0 : now + life;
    keeper_save_state(k);
    return PICOACME_KEEPER_EV_ISSUED;
}

#if PICOACME_ARI
/* The CA's window of the finished renewalInfo question: a point in it,
 * kept while the CA keeps the window. */
static void ari_window(picoacme_keeper_t *k, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    const picoacme_ari_t *a = &k->ctx.ari;
    st->ari_retry_at_s = a->retry_at_s > now ? a->retry_at_s : now + ARI_RETRY_DEF_S;
    if (!st->ari || st->ari_start_s != a->start_s || st->ari_end_s != a->end_s) {
        int64_t t =
            picoacme_keeper_window_point(a->start_s, a->end_s, k->not_after_s, now, keeper_rand(k));
        st->ari_start_s = a->start_s;
        st->ari_end_s = a->end_s;
        st->ari = t != PICOACME_TIME_UNKNOWN;
        if (st->ari) {
            st->renew_at_s = t;
        }
        memcpy(st->ari_certid, a->certid, sizeof st->ari_certid);
    }
}

static bool ari_valid(const picoacme_keeper_t *k)
{
    return k->ctx.ari.valid;
}
#else
static void ari_window(picoacme_keeper_t *k, int64_t now)
{
    (void)k;
    (void)now;
}

static bool ari_valid(const picoacme_keeper_t *k)
{
    (void)k;
    return false;
}
#endif

/* A finished renewalInfo question: the window and Retry-After. */
static void ari_done(picoacme_keeper_t *k, picoacme_err_t e, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    if (e != PICOACME_OK || !ari_valid(k)) {
        /* failed or malformed: the plan stays, asked again at Retry-After;
         * no renewalInfo at this CA: not asked again for this certificate */
        st->ari_retry_at_s = e != PICOACME_OK ? now + retry_after(k, ARI_RETRY_DEF_S,
                                                                  ARI_RETRY_MIN_S, ARI_RETRY_MAX_S)
                                              : k->not_after_s;
        keeper_log(k, PICOACME_LOG_LVL_WRN, "renewalInfo: none, ask again at", st->ari_retry_at_s,
                   e);
    } else {
        ari_window(k, now);
        keeper_log(k, PICOACME_LOG_LVL_INF, "renewalInfo: renew at, ask again at", st->renew_at_s,
                   st->ari_retry_at_s);
    }
    keeper_save_state(k);
}

/* The CA answered the probe after failures in which it did not: every
 * device that failed with it (a CA outage) is coming back now, and each
 * level of retries pending at the recovery would arrive at the fleet's
 * renewal rate, all of them at once (3x the mean after a 6-hour outage).
 * So the renewal waits a point before the retry the device would have made
 * next (the next backoff level) and in the first half of what is left of
 * the certificate: the backlog spreads over hours. The probe costs no
 * request: its directory answer brings the nonce the renewal needed. */
static void probe_done(picoacme_keeper_t *k, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    uint16_t next = st->failures < UINT16_MAX ? (uint16_t)(st->failures + 1U) : st->failures;
    uint32_t w = picoacme_keeper_backoff_s(
        next, keeper_cfg_or(k->cfg.backoff_min_s, PICOACME_KEEPER_BACKOFF_MIN_S),
        keeper_cfg_or(k->cfg.backoff_max_s, PICOACME_KEEPER_BACKOFF_MAX_S), UINT32_MAX,
        PICOACME_TIME_UNKNOWN, 0);
    int64_t half = k->have_cert ? (k->not_after_s - now) / 2 : 0;
    if ((int64_t)w > half) {
        w = half > 0 ? (uint32_t)half : 0U;
    }
    w = keeper_scaled(keeper_spread_rnd(k, SALT_RECOVERY), w);
    st->ca_answered = true;
    st->backoff_until_s = now + (int64_t)w;
    keeper_log(k, PICOACME_LOG_LVL_INF, "the CA answers again: renewal in s", w, now);
    keeper_save_state(k);
}

/* The run of phase ended with e. */
static picoacme_keeper_event_t run_ended(picoacme_keeper_t *k, uint8_t ph, picoacme_err_t e,
                                         int64_t now)
{
    bool probe = ph == PICOACME_KEEPER_PH_PROBE && now != PICOACME_TIME_UNKNOWN;
    if (ph == PICOACME_KEEPER_PH_ISSUE || (probe && e != PICOACME_OK)) {
        /* a probe the CA did not answer is a failed attempt like any */
        return e == PICOACME_OK ? issue_done(k, now) : issue_failed(k, e, now);
    }
    if (probe) {
        probe_done(k, now);
    } else if (ph == PICOACME_KEEPER_PH_ARI) {
        ari_done(k, e, now);
    } else if (e != PICOACME_OK || now == PICOACME_TIME_UNKNOWN) {
        /* the time is still unknown: the CA did not answer */
        uint16_t f = k->st.failures;
        k->st.failures = (uint16_t)(f < 16U ? f + 1U : f);
        backoff(k, PICOACME_TIME_UNKNOWN);
        k->st.failures = f;
    }
    return PICOACME_KEEPER_EV_NONE;
}

picoacme_keeper_event_t keeper_run_end(picoacme_keeper_t *k, picoacme_err_t e)
{
    uint8_t ph = k->phase;
    int64_t now;
    int64_t at = 0;
    picoacme_keeper_event_t ev;
    learn_time(k);
    now = keeper_now(k);
    k->phase = PICOACME_KEEPER_PH_WAIT;
    picoacme_abort(&k->ctx);
    ev = run_ended(k, ph, e, now);
    (void)keeper_plan(k, keeper_now(k), &at); /* the status tells what comes next */
    k->next_at_s = at;
    return ev;
}

#endif
