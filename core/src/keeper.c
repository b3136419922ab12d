/*
 * keeper.c - the certificate keeper (picoacme_keeper.h): reads the stores,
 * decides the next action from the time (keeper_policy.c), starts and pumps
 * the engine run for it (directory GET for the time, renewalInfo, an
 * issuance; keeper_run.c starts a run and turns its outcome into the plan,
 * backoff, rate limit and failover), kept in the keeper's state store
 * (keeper_state.c).
 */
#include "keeper_int.h"

#include "picoacme_store.h"

#if PICOACME_KEEPER

/* ---- small helpers ------------------------------------------------------ */

uint32_t keeper_mono(const picoacme_keeper_t *k)
{
    return k->ports.clock->mono_ms(k->ports.clock->user);
}

int64_t keeper_now(const picoacme_keeper_t *k)
{
    int64_t w = k->ports.clock->wall_s(k->ports.clock->user);
    if (w != PICOACME_TIME_UNKNOWN) {
        return w;
    }
    if (k->learned_s > 0) {
        return k->learned_s + (int64_t)((uint32_t)(keeper_mono(k) - k->learned_mono_ms) / 1000U);
    }
    return PICOACME_TIME_UNKNOWN;
}

uint32_t keeper_rand(picoacme_keeper_t *k)
{
    uint8_t r[4] = {0, 0, 0, 0};
    (void)k->ports.crypto->random(k->ports.crypto->user, r, sizeof r);
    return util_get32(r);
}

/* The random value of a decision that spreads a fleet booting at once (the
 * boot hold, an overdue renewal's point; salt: which): a numbered fleet
 * derives it from the phase, so those decisions are evenly spread
 * (picoacme_keeper_spread_rnd()); otherwise fresh entropy. (The backoff of
 * a numbered fleet uses the phase itself, keeper_run.c: failures at the
 * phases' renewal points come back as a shifted copy of their even spread;
 * a hashed value on top of them beat into minute-scale lumps.) */
uint32_t keeper_spread_rnd(picoacme_keeper_t *k, uint32_t salt)
{
    if (k->cfg.fleet_index != 0U) {
        return picoacme_keeper_spread_rnd(k->st.phase_rnd, salt);
    }
    return keeper_rand(k);
}

uint32_t keeper_scaled(uint32_t r, uint32_t n)
{
    return (uint32_t)(((uint64_t)r * ((uint64_t)n + 1U)) >> 32);
}

void keeper_log(picoacme_keeper_t *k, int lvl, const char *what, int64_t a, int64_t b)
{
    if (PICOACME_LOG_LEVEL >= lvl && k->ports.log != NULL) {
        k->ports.log(k->ports.log_user, lvl, "keeper: %s (%lld, %lld)", what, (long long)a,
                     (long long)b);
    }
}

uint32_t keeper_cfg_or(uint32_t v, uint32_t def)
{
    return v != 0U ? v : def;
}

void keeper_save_state(picoacme_keeper_t *k)
{
    uint8_t buf[PICOACME_KEEPER_STATE_MAX];
    size_t len = 0;
    if (k->cfg.state_store == NULL) {
        return;
    }
    if (picoacme_keeper_state_encode(&k->st, buf, sizeof buf, &len) != PICOACME_OK ||
        picoacme_store_save(k->cfg.state_store, buf, len) != PICOACME_OK) {
        keeper_log(k, PICOACME_LOG_LVL_WRN, "saving the keeper state failed", (int64_t)len, 0);
    }
}

static void load_state(picoacme_keeper_t *k)
{
    uint8_t buf[PICOACME_KEEPER_STATE_MAX];
    size_t len = 0;
    if (k->cfg.state_store == NULL ||
        picoacme_store_load(k->cfg.state_store, buf, sizeof buf, &len, NULL) != PICOACME_OK ||
        picoacme_keeper_state_decode(&k->st, buf, len) != PICOACME_OK || k->st.ca >= k->cfg.n_cas) {
        memset(&k->st, 0, sizeof k->st);
        return;
    }
    keeper_log(k, PICOACME_LOG_LVL_INF, "state loaded: failures, CA", k->st.failures, k->st.ca);
}

/* The engine context set up for CA i (again only when the CA changes: the
 * directory and the account stay cached otherwise). */
bool keeper_ctx_for(picoacme_keeper_t *k, uint8_t i)
{
    picoacme_ports_t p = k->ports;
    const picoacme_keeper_ca_t *ca = &k->cfg.cas[i];
    if (k->ctx_ca == i) {
        return true;
    }
    if (ca->tls != NULL) {
        p.tls = ca->tls;
    }
    picoacme_abort(&k->ctx);
    if (picoacme_init(&k->ctx, &ca->cfg, &p) != PICOACME_OK) {
        k->ctx_ca = NO_CA;
        return false;
    }
    k->ctx_ca = i;
    return true;
}

/* ---- the certificate and its plan --------------------------------------- */

static uint16_t renew_permille(void)
{
    return (uint16_t)PICOACME_RENEW_PERMILLE;
}

/* A fresh plan for the stored certificate: the fraction point at the
 * device's phase; renewalInfo asked at ari_at. */
static void new_plan(picoacme_keeper_t *k, int64_t ari_at)
{
    uint16_t j = (uint16_t)keeper_cfg_or(k->cfg.jitter_permille, PICOACME_KEEPER_JITTER_PERMILLE);
    picoacme_keeper_state_t *st = &k->st;
    st->plan_not_after_s = k->not_after_s;
    st->renew_at_s = picoacme_keeper_fraction_point(k->not_before_s, k->not_after_s, st->phase_rnd,
                                                    renew_permille(), j);
    st->ari = false;
    st->ari_start_s = 0;
    st->ari_end_s = 0;
    st->ari_certid[0] = '\0';
    st->ari_retry_at_s = ari_at;
    k->expired_told = false;
    keeper_log(k, PICOACME_LOG_LVL_INF, "plan: renew at, not after", st->renew_at_s,
               k->not_after_s);
}

/* Read the stored certificate (validity) into k. */
void keeper_read_cert(picoacme_keeper_t *k)
{
    picoacme_stored_info_t info;
    k->have_cert = keeper_ctx_for(k, k->st.ca) && picoacme_stored(&k->ctx, &info) == PICOACME_OK;
    k->not_before_s = k->have_cert ? info.not_before_s : 0;
    k->not_after_s = k->have_cert ? info.not_after_s : 0;
    if (k->have_cert && k->st.plan_not_after_s != k->not_after_s) {
        new_plan(k, 0); /* a certificate the state does not know: ask ARI at once */
        keeper_save_state(k);
    }
}

static void boot(picoacme_keeper_t *k)
{
    load_state(k);
    if (k->cfg.fleet_index != 0U &&
        k->st.phase_rnd != picoacme_keeper_index_phase(k->cfg.fleet_index)) {
        k->st.phase_rnd = picoacme_keeper_index_phase(k->cfg.fleet_index);
        k->st.plan_not_after_s = 0; /* plan again with this phase */
        keeper_save_state(k);
    } else if (k->st.phase_rnd == 0U) {
        k->st.phase_rnd = keeper_rand(k) | 1U;
        keeper_save_state(k);
    }
    keeper_read_cert(k);
    k->phase = PICOACME_KEEPER_PH_WAIT;
    k->spread_done = false;
    k->boot_mono_ms = keeper_mono(k);
    if (!k->have_cert) {
        return; /* enrol at once */
    }
    /* with a certificate, the first question to the CA (the time, an
     * overdue renewal) waits a random part of the boot spread, so a fleet
     * rebooting at once does not ask in the same minute; never more than a
     * quarter of what is left of the certificate */
    uint32_t spread = keeper_cfg_or(k->cfg.boot_spread_s, PICOACME_KEEPER_BOOT_SPREAD_S);
    uint32_t d = spread == 0U ? 0U : keeper_scaled(keeper_spread_rnd(k, SALT_BOOT), spread);
    int64_t now = keeper_now(k);
    if (now != PICOACME_TIME_UNKNOWN && (int64_t)d > (k->not_after_s - now) / 4) {
        d = k->not_after_s - now > 0 ? (uint32_t)((k->not_after_s - now) / 4) : 0U;
    }
    k->hold = true;
    k->hold_mono_ms = keeper_mono(k) + (d > 2000000U ? 2000000U : d) * 1000U;
}

/* ---- what next ---------------------------------------------------------- */

static bool ari_enabled(const picoacme_keeper_t *k)
{
    return PICOACME_ARI && !k->cfg.no_ari;
}

/* true when failure p says the CA did not answer (no connection, no
 * answer in time, TLS failed, a 5xx): the whole fleet of a CA outage */
static bool ca_unavailable(const picoacme_problem_t *p)
{
    switch (p->err) {
    case PICOACME_ERR_IO:
    case PICOACME_ERR_CLOSED:
    case PICOACME_ERR_TIMEOUT:
    case PICOACME_ERR_TLS: return true;
    case PICOACME_ERR_HTTP:
    case PICOACME_ERR_PROBLEM: return p->http_status >= 500U;
    default: return false;
    }
}

/* The next action of a keeper that knows the time and has a certificate. */
static act_t plan_renewal(picoacme_keeper_t *k, int64_t *at)
{
    picoacme_keeper_state_t *st = &k->st;
    int64_t issue_at = st->renew_at_s;
    k->why = st->ari ? PICOACME_KEEPER_WHY_ARI_WINDOW : PICOACME_KEEPER_WHY_FRACTION;
    if (st->failures > 0U && st->backoff_until_s > issue_at) {
        issue_at = st->backoff_until_s;
        k->why = st->ca_answered ? PICOACME_KEEPER_WHY_RECOVERY : PICOACME_KEEPER_WHY_BACKOFF;
    }
    *at = issue_at;
    /* a question about a certificate that has expired by then is not asked
     * (ari_done() puts "not again" at notAfter: an overdue point past the
     * expiry must not ask, hear "none" and ask again without end) */
    if (ari_enabled(k) && st->ari_retry_at_s < issue_at && st->ari_retry_at_s < k->not_after_s &&
        st->failures == 0U) {
        *at = st->ari_retry_at_s;
        k->why = PICOACME_KEEPER_WHY_ARI_RETRY;
        return ACT_ARI;
    }
    /* the CA did not answer the last attempt: ask whether it is back
     * before the renewal (keeper_run.c spreads the renewal after a yes) */
    if (st->failures > 0U && !st->ca_answered && ca_unavailable(&st->problem)) {
        return ACT_PROBE;
    }
    return ACT_ISSUE;
}

/* The next action and its time (Unix seconds). */
act_t keeper_plan(picoacme_keeper_t *k, int64_t now, int64_t *at)
{
    picoacme_keeper_state_t *st = &k->st;
    act_t a;
    if (now == PICOACME_TIME_UNKNOWN) {
        *at = PICOACME_TIME_UNKNOWN;
        k->why = k->have_cert ? PICOACME_KEEPER_WHY_LEARN_TIME : PICOACME_KEEPER_WHY_ENROL;
        return k->have_cert ? ACT_TIME : ACT_ISSUE;
    }
    if (k->renew_now || !k->have_cert) {
        k->why = k->renew_now ? PICOACME_KEEPER_WHY_RENEW_NOW : PICOACME_KEEPER_WHY_ENROL;
        *at = st->failures > 0U && !k->renew_now ? st->backoff_until_s : now;
        k->why = *at > now ? PICOACME_KEEPER_WHY_BACKOFF : k->why;
        a = ACT_ISSUE;
    } else {
        a = plan_renewal(k, at);
    }
    if (st->rate_limited_until_s > *at && a == ACT_ISSUE) {
        *at = st->rate_limited_until_s;
        k->why = PICOACME_KEEPER_WHY_RATE_LIMIT;
    }
    return a;
}

/* ---- starting runs ------------------------------------------------------- */

/* The CA for an attempt: back to the primary once the fail-back time came. */
static void failback(picoacme_keeper_t *k, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    if (st->ca != 0U && now != PICOACME_TIME_UNKNOWN && now >= st->failback_at_s) {
        keeper_log(k, PICOACME_LOG_LVL_INF, "failing back to the primary CA", st->ca, now);
        st->ca = 0;
        st->ca_failures = 0;
        keeper_save_state(k);
    }
}

/* ---- the pump ------------------------------------------------------------ */

static void wait_secs(picoacme_wait_t *wait, int64_t s)
{
    int64_t max = PICOACME_KEEPER_MAX_SLEEP_S;
    if (s < 0) {
        s = 0;
    }
    wait_timer(wait, (uint32_t)(s > max ? max : s) * 1000U);
}

static picoacme_keeper_event_t pump_run(picoacme_keeper_t *k, picoacme_wait_t *wait)
{
    picoacme_err_t e = picoacme_step(&k->ctx, wait);
    if (picoacme_err_is_pending(e)) {
        return PICOACME_KEEPER_EV_NONE;
    }
    if (wait != NULL) {
        wait->count = 0;
        wait->timeout_ms = 0; /* decide again at once */
    }
    return keeper_run_end(k, e);
}

/* The first decision with the time known after a boot: a renewal point
 * that passed while the device was off or did not know the time is moved
 * past the rest of the boot spread (in which a fleet rebooting together
 * asks the time) to a point in the next 2 * boot_spread_s, at most half of
 * what is left of the certificate, so a fleet coming back from a power cut
 * neither renews its overdue certificates in the minutes it learns the
 * time nor on top of its time questions. Not after failures (the backoff
 * spreads those) or renew-now, nor for a point in the CA's ARI window: a
 * window that passed means renew at once (RFC 9773 4.2), never after it. */
static void overdue_spread(picoacme_keeper_t *k, int64_t now)
{
    picoacme_keeper_state_t *st = &k->st;
    uint32_t spread = keeper_cfg_or(k->cfg.boot_spread_s, PICOACME_KEEPER_BOOT_SPREAD_S);
    uint32_t since;
    if (k->spread_done || now == PICOACME_TIME_UNKNOWN) {
        return;
    }
    k->spread_done = true;
    if (!k->have_cert || k->renew_now || st->failures > 0U || st->renew_at_s >= now || st->ari ||
        spread == 0U || spread > UINT32_MAX / 2U) {
        return;
    }
    since = (uint32_t)(keeper_mono(k) - k->boot_mono_ms) / 1000U;
    st->renew_at_s =
        picoacme_keeper_overdue_point(now, k->not_after_s, since < spread ? spread - since : 0U,
                                      spread * 2U, keeper_spread_rnd(k, SALT_OVERDUE));
    keeper_log(k, PICOACME_LOG_LVL_INF, "overdue renewal spread: renew at", st->renew_at_s, now);
    keeper_save_state(k);
}

/* Waiting: the event of an expired certificate, or the next run once due. */
static picoacme_keeper_event_t decide(picoacme_keeper_t *k, picoacme_wait_t *wait)
{
    int64_t now = keeper_now(k);
    int64_t at = 0;
    act_t a;
    picoacme_err_t e;
    if (k->hold && !expired(keeper_mono(k), k->hold_mono_ms)) {
        uint32_t ms = remaining(keeper_mono(k), k->hold_mono_ms);
        /* a backoff without the time can be hours: wake at most every
         * PICOACME_KEEPER_MAX_SLEEP_S, as promised */
        wait_timer(wait, ms < PICOACME_KEEPER_MAX_SLEEP_S * 1000U
                             ? ms
                             : (uint32_t)PICOACME_KEEPER_MAX_SLEEP_S * 1000U);
        k->why = PICOACME_KEEPER_WHY_TIME_UNKNOWN;
        return PICOACME_KEEPER_EV_NONE;
    }
    k->hold = false;
    failback(k, now);
    overdue_spread(k, now);
    if (k->have_cert && now != PICOACME_TIME_UNKNOWN && now >= k->not_after_s && !k->expired_told) {
        k->expired_told = true;
        wait_timer(wait, 0U);
        return PICOACME_KEEPER_EV_EXPIRED;
    }
    a = keeper_plan(k, now, &at);
    k->next_at_s = at;
    if (now != PICOACME_TIME_UNKNOWN && at > now) {
        wait_secs(wait, at - now);
        return PICOACME_KEEPER_EV_NONE;
    }
    e = keeper_start_run(k, a);
    if (e != PICOACME_OK) {
        return keeper_run_end(k, e);
    }
    return pump_run(k, wait);
}

static picoacme_keeper_event_t step_locked(picoacme_keeper_t *k, picoacme_wait_t *wait)
{
    if (k->phase == PICOACME_KEEPER_PH_BOOT) {
        boot(k);
    }
    if (k->phase != PICOACME_KEEPER_PH_WAIT) {
        return pump_run(k, wait);
    }
    return decide(k, wait);
}

picoacme_keeper_event_t picoacme_keeper_step(picoacme_keeper_t *k, picoacme_wait_t *wait)
{
    if (wait != NULL) {
        wait->count = 0;
        wait->timeout_ms = UINT32_MAX;
    }
    if (k == NULL || k->cfg.cas == NULL) {
        return PICOACME_KEEPER_EV_NONE;
    }
    picoacme_keeper_event_t ev = step_locked(k, wait);
    if (wait != NULL && wait->timeout_ms == UINT32_MAX) {
        wait->timeout_ms = (uint32_t)PICOACME_KEEPER_MAX_SLEEP_S * 1000U;
    }
    return ev;
}

/* ---- set-up and queries --------------------------------------------------- */

static picoacme_err_t cfg_check(const picoacme_keeper_config_t *cfg, const picoacme_ports_t *ports)
{
    uint32_t lo = keeper_cfg_or(cfg->backoff_min_s, PICOACME_KEEPER_BACKOFF_MIN_S);
    uint32_t hi = keeper_cfg_or(cfg->backoff_max_s, PICOACME_KEEPER_BACKOFF_MAX_S);
    if (cfg->cas == NULL || cfg->n_cas == 0U || ports->transport == NULL || ports->crypto == NULL ||
        ports->clock == NULL || ports->storage == NULL || lo > hi || cfg->jitter_permille > 450U) {
        return PICOACME_ERR_PARAM;
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_keeper_init(picoacme_keeper_t *k, const picoacme_keeper_config_t *cfg,
                                    const picoacme_ports_t *ports)
{
    picoacme_err_t e;
    if (k == NULL || cfg == NULL || ports == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(k, 0, sizeof *k);
    e = cfg_check(cfg, ports);
    for (uint8_t i = 0; e == PICOACME_OK && i < cfg->n_cas; i++) {
        picoacme_ports_t p = *ports;
        p.tls = cfg->cas[i].tls != NULL ? cfg->cas[i].tls : ports->tls;
        e = cfg->cas[i].cfg.directory_url == NULL ? PICOACME_ERR_PARAM
                                                  : picoacme_init(&k->ctx, &cfg->cas[i].cfg, &p);
    }
    if (e != PICOACME_OK) {
        memset(k, 0, sizeof *k);
        return e;
    }
    k->cfg = *cfg;
    k->ports = *ports;
    k->ctx_ca = NO_CA;
    k->phase = PICOACME_KEEPER_PH_BOOT;
    return PICOACME_OK;
}

picoacme_err_t picoacme_keeper_renew_now(picoacme_keeper_t *k)
{
    if (k == NULL) {
        return PICOACME_ERR_PARAM;
    }
    k->renew_now = true;
    /* the boot spread does not delay an operator's request */
    k->hold = k->hold && keeper_now(k) == PICOACME_TIME_UNKNOWN;
    if (k->phase == PICOACME_KEEPER_PH_TIME || k->phase == PICOACME_KEEPER_PH_ARI) {
        picoacme_abort(&k->ctx);
        k->phase = PICOACME_KEEPER_PH_WAIT;
    }
    return PICOACME_OK;
}

void picoacme_keeper_stop(picoacme_keeper_t *k)
{
    if (k != NULL && k->cfg.cas != NULL) {
        picoacme_abort(&k->ctx);
        if (k->phase != PICOACME_KEEPER_PH_BOOT) {
            k->phase = PICOACME_KEEPER_PH_WAIT;
        }
    }
}

void picoacme_keeper_status(const picoacme_keeper_t *k, picoacme_keeper_status_t *out)
{
    if (k == NULL || out == NULL) {
        return;
    }
    memset(out, 0, sizeof *out);
    out->phase = (picoacme_keeper_phase_t)k->phase;
    out->why = (picoacme_keeper_why_t)k->why;
    out->now_s = k->cfg.cas != NULL ? keeper_now(k) : PICOACME_TIME_UNKNOWN;
    out->next_at_s = k->next_at_s;
    out->renew_at_s = k->have_cert ? k->st.renew_at_s : 0;
    out->not_before_s = k->not_before_s;
    out->not_after_s = k->not_after_s;
    out->ari = k->st.ari;
    out->ari_start_s = k->st.ari_start_s;
    out->ari_end_s = k->st.ari_end_s;
    out->ari_retry_at_s = k->st.ari_retry_at_s;
    out->backoff_until_s = k->st.failures > 0U ? k->st.backoff_until_s : 0;
    out->rate_limited_until_s = k->st.rate_limited_until_s;
    out->ca = k->st.ca;
    out->failures = k->st.failures;
    out->issued = k->issued;
    out->problem = k->st.problem;
}

const picoacme_problem_t *picoacme_keeper_problem(const picoacme_keeper_t *k)
{
    return &k->st.problem;
}

picoacme_ctx_t *picoacme_keeper_ctx(picoacme_keeper_t *k)
{
    return &k->ctx;
}

#else /* !PICOACME_KEEPER */

picoacme_err_t picoacme_keeper_init(picoacme_keeper_t *k, const picoacme_keeper_config_t *cfg,
                                    const picoacme_ports_t *ports)
{
    (void)k;
    (void)cfg;
    (void)ports;
    return PICOACME_ERR_UNSUPPORTED;
}

picoacme_keeper_event_t picoacme_keeper_step(picoacme_keeper_t *k, picoacme_wait_t *wait)
{
    (void)k;
    if (wait != NULL) {
        wait->count = 0;
        wait->timeout_ms = UINT32_MAX;
    }
    return PICOACME_KEEPER_EV_NONE;
}

picoacme_err_t picoacme_keeper_renew_now(picoacme_keeper_t *k)
{
    (void)k;
    return PICOACME_ERR_UNSUPPORTED;
}

void picoacme_keeper_stop(picoacme_keeper_t *k)
{
    (void)k;
}

void picoacme_keeper_status(const picoacme_keeper_t *k, picoacme_keeper_status_t *out)
{
    (void)k;
    if (out != NULL) {
        memset(out, 0, sizeof *out);
    }
}

const picoacme_problem_t *picoacme_keeper_problem(const picoacme_keeper_t *k)
{
    return &k->st.problem;
}

picoacme_ctx_t *picoacme_keeper_ctx(picoacme_keeper_t *k)
{
    return &k->ctx;
}

#endif

/* ---- names ------------------------------------------------------------------ */

const char *picoacme_keeper_phase_str(picoacme_keeper_phase_t p)
{
    static const char *const n[] = {"boot",        "wait",    "learning the time",
                                    "renewalInfo", "issuing", "is the CA back"};
    return (unsigned)p < sizeof n / sizeof n[0] ? n[p] : "?";
}

const char *picoacme_keeper_why_str(picoacme_keeper_why_t w)
{
    static const char *const n[] = {
        "-",         "enrolment",    "lifetime fraction", "ARI window",
        "ARI retry", "backoff",      "rate limit",        "learning the time",
        "renew now", "time unknown", "CA back: spread"};
    return (unsigned)w < sizeof n / sizeof n[0] ? n[w] : "?";
}
