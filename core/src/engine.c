/*
 * engine.c - the ACME flow of RFC 8555 as an explicit, pumped state machine.
 *
 * One table says, per state, what starts it (a request, a DNS message, a
 * store write), what handles the CA's answer, and which states may follow.
 * goto_state() is the one place a state changes, and it checks the move
 * against the table. A failure is recorded by fail() and unwound here, in
 * one place: the dns-01 clean-up is a state of its own, then FAILED.
 *
 *   directory (§7.1.1) -> [nonce (§7.2)] -> account (§7.3) -> order (§7.4)
 *   -> authorization (§7.5) -> [dns-01 publish -> propagation] -> challenge
 *   (§7.5.1) -> poll authorization -> [dns-01 clean-up] -> ... -> finalize
 *   -> poll order -> certificate (§7.4.2) -> store -> done
 *   directory -> renewal info (RFC 9773 §4.1) -> done
 *   directory -> account -> revoke (§7.6) | key change (§7.3.5) |
 *   deactivate (§7.3.6) -> done
 */
#include "internal.h"

#include "picoacme_jws.h"

/* ---- the state table ------------------------------------------------------- */

#define BIT(st) (1UL << (unsigned)(st))

/* flags, in the bits of `next` above the states */
#define ST_JSON       (1UL << 30) /* the answer is a JSON object, handed to on_answer */
#define ST_IDEMPOTENT (1UL << 31) /* GET/HEAD/POST-as-GET: may be sent again after a failure */
_Static_assert(PICOACME_ST_COUNT <= 30, "states and flags share a 32-bit word");

typedef struct state_ops {
    picoacme_err_t (*begin)(picoacme_ctx_t *ctx); /* start the state's work */
    /* the CA's 2xx answer (j: the body, for ST_JSON states; else NULL) */
    picoacme_err_t (*on_answer)(picoacme_ctx_t *ctx, const picoacme_json_t *j);
    uint32_t next; /* legal successors, and the flags */
} state_ops_t;

/* Every POST may first fetch a nonce; the dns-01 clean-up may follow any
 * state of an authorization once a TXT record is out. */
#define POSTS                                                                                      \
    (BIT(PICOACME_ST_ACCOUNT) | BIT(PICOACME_ST_ORDER) | BIT(PICOACME_ST_AUTHZ) |                  \
     BIT(PICOACME_ST_CHALLENGE) | BIT(PICOACME_ST_POLL_AUTHZ) | BIT(PICOACME_ST_FINALIZE) |        \
     BIT(PICOACME_ST_POLL_ORDER) | BIT(PICOACME_ST_CERT) | BIT(PICOACME_ST_REVOKE) |               \
     BIT(PICOACME_ST_KEY_CHANGE) | BIT(PICOACME_ST_DEACTIVATE))
#define AUTHZ_NEXT                                                                                 \
    (BIT(PICOACME_ST_AUTHZ) | BIT(PICOACME_ST_FINALIZE) | BIT(PICOACME_ST_ORDER) |                 \
     BIT(PICOACME_ST_DNS_CLEANUP))
#define ACCOUNT_NEXT                                                                               \
    (BIT(PICOACME_ST_ORDER) | BIT(PICOACME_ST_REVOKE) | BIT(PICOACME_ST_KEY_CHANGE) |              \
     BIT(PICOACME_ST_DEACTIVATE))

static const state_ops_t ops[PICOACME_ST_COUNT] = {
    [PICOACME_ST_IDLE] = {NULL, NULL, BIT(PICOACME_ST_DIRECTORY)},
    [PICOACME_ST_DIRECTORY] = {begin_directory, on_directory,
                               BIT(PICOACME_ST_ACCOUNT) | BIT(PICOACME_ST_ORDER) |
                                   BIT(PICOACME_ST_RENEWAL_INFO) | BIT(PICOACME_ST_DONE) | ST_JSON |
                                   ST_IDEMPOTENT},
    [PICOACME_ST_NONCE] = {begin_nonce, on_nonce,
                           POSTS | BIT(PICOACME_ST_DNS_CLEANUP) | BIT(PICOACME_ST_DIRECTORY) |
                               ST_IDEMPOTENT},
    [PICOACME_ST_ACCOUNT] = {begin_account, on_account,
                             ACCOUNT_NEXT | BIT(PICOACME_ST_NONCE) | BIT(PICOACME_ST_ACCOUNT) |
                                 BIT(PICOACME_ST_DIRECTORY) | ST_JSON},
    [PICOACME_ST_ORDER] = {begin_order, on_order,
                           BIT(PICOACME_ST_AUTHZ) | BIT(PICOACME_ST_FINALIZE) |
                               BIT(PICOACME_ST_CERT) | BIT(PICOACME_ST_NONCE) |
                               BIT(PICOACME_ST_ORDER) | BIT(PICOACME_ST_ACCOUNT) |
                               BIT(PICOACME_ST_DIRECTORY) | ST_JSON},
    [PICOACME_ST_AUTHZ] = {begin_authz, on_authz,
                           AUTHZ_NEXT | BIT(PICOACME_ST_CHALLENGE) | BIT(PICOACME_ST_DNS_PUBLISH) |
                               BIT(PICOACME_ST_NONCE) | ST_JSON | ST_IDEMPOTENT},
    [PICOACME_ST_DNS_PUBLISH] = {DNS01_BEGIN, NULL,
                                 BIT(PICOACME_ST_DNS_PROPAGATE) | BIT(PICOACME_ST_CHALLENGE) |
                                     BIT(PICOACME_ST_DNS_CLEANUP)},
    [PICOACME_ST_DNS_PROPAGATE] = {DNS01_BEGIN, NULL,
                                   BIT(PICOACME_ST_CHALLENGE) | BIT(PICOACME_ST_DNS_CLEANUP)},
    [PICOACME_ST_CHALLENGE] = {begin_challenge, on_challenge,
                               AUTHZ_NEXT | BIT(PICOACME_ST_POLL_AUTHZ) | BIT(PICOACME_ST_NONCE) |
                                   ST_JSON},
    [PICOACME_ST_POLL_AUTHZ] = {begin_authz, on_poll_authz,
                                AUTHZ_NEXT | BIT(PICOACME_ST_NONCE) | ST_JSON | ST_IDEMPOTENT},
    [PICOACME_ST_DNS_CLEANUP] = {DNS01_BEGIN, NULL, AUTHZ_NEXT & ~BIT(PICOACME_ST_DNS_CLEANUP)},
    [PICOACME_ST_FINALIZE] = {begin_finalize, on_finalize,
                              BIT(PICOACME_ST_POLL_ORDER) | BIT(PICOACME_ST_CERT) |
                                  BIT(PICOACME_ST_FINALIZE) | BIT(PICOACME_ST_NONCE) | ST_JSON},
    [PICOACME_ST_POLL_ORDER] = {begin_poll_order, on_poll_order,
                                BIT(PICOACME_ST_CERT) | BIT(PICOACME_ST_FINALIZE) |
                                    BIT(PICOACME_ST_NONCE) | ST_JSON | ST_IDEMPOTENT},
    [PICOACME_ST_CERT] = {begin_cert, on_cert,
                          BIT(PICOACME_ST_STORE) | BIT(PICOACME_ST_NONCE) | ST_IDEMPOTENT},
    [PICOACME_ST_STORE] = {begin_store, NULL, BIT(PICOACME_ST_DONE)},
    [PICOACME_ST_DONE] = {NULL, NULL, 0},
    [PICOACME_ST_FAILED] = {NULL, NULL, 0},
    [PICOACME_ST_RENEWAL_INFO] = {ARI_BEGIN, ARI_ON_ANSWER,
                                  BIT(PICOACME_ST_DONE) | BIT(PICOACME_ST_DIRECTORY) | ST_JSON |
                                      ST_IDEMPOTENT},
    [PICOACME_ST_REVOKE] = {LC_BEGIN_REVOKE, LC_ON_REVOKED,
                            BIT(PICOACME_ST_DONE) | BIT(PICOACME_ST_NONCE)},
    [PICOACME_ST_KEY_CHANGE] = {LC_BEGIN_KEY_CHANGE, LC_ON_KEY_CHANGED,
                                BIT(PICOACME_ST_DONE) | BIT(PICOACME_ST_NONCE)},
    [PICOACME_ST_DEACTIVATE] = {LC_BEGIN_DEACTIVATE, LC_ON_DEACTIVATED,
                                BIT(PICOACME_ST_DONE) | BIT(PICOACME_ST_NONCE) | ST_JSON},
};

/* The state names, packed in state order (no pointer table). */
static const char state_names[] =
    "start\0directory\0nonce\0account\0order\0authorization\0dns-01 publish\0"
    "dns-01 propagation\0challenge\0poll authorization\0dns-01 cleanup\0finalize\0"
    "poll order\0certificate\0store\0done\0failed\0renewal info\0revoke\0key change\0"
    "deactivate\0";

const char *picoacme_state_str(picoacme_state_t s)
{
    const char *p = state_names;
    if ((unsigned)s >= (unsigned)PICOACME_ST_COUNT) {
        return "?";
    }
    for (unsigned i = 0; i < (unsigned)s; i++) {
        p += strlen(p) + 1U;
    }
    return p;
}

/* ---- small shared helpers -------------------------------------------------- */

uint32_t mono(const picoacme_ctx_t *ctx)
{
    return ctx->ports.clock->mono_ms(ctx->ports.clock->user);
}

void cpy(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap) {
        len = cap - 1U;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

bool ieq(const char *a, size_t alen, const char *b)
{
    for (size_t i = 0; i < alen; i++) {
        if (b[i] == '\0' || util_lower(a[i]) != util_lower(b[i])) {
            return false;
        }
    }
    return b[alen] == '\0';
}

void wait_add(picoacme_wait_t *w, picoacme_sock_t s, uint8_t ev)
{
    if (w != NULL && s != PICOACME_SOCK_NONE && w->count < PICOACME_WAIT_SOCKS) {
        w->sock[w->count] = s;
        w->events[w->count] = ev;
        w->count++;
    }
}

void wait_timer(picoacme_wait_t *w, uint32_t ms)
{
    if (w != NULL && ms < w->timeout_ms) {
        w->timeout_ms = ms;
    }
}

void sock_close(picoacme_ctx_t *ctx, picoacme_sock_t *s)
{
    if (*s != PICOACME_SOCK_NONE) {
        ctx->ports.transport->close(ctx->ports.transport->user, *s);
        *s = PICOACME_SOCK_NONE;
    }
}

void release(picoacme_ctx_t *ctx)
{
    conn_close(ctx);
    sock_close(ctx, &ctx->h01.sock);
    alpn_close(ctx);
    ctx->alpn.cert_len = 0;
    sock_close(ctx, &ctx->h01.lsock);
    sock_close(ctx, &ctx->alpn.lsock);
    if (dns01_sock(ctx) != NULL) {
        sock_close(ctx, dns01_sock(ctx));
    }
}

/* ---- failures, moves, timers ------------------------------------------------ */

picoacme_err_t engine_fail(picoacme_ctx_t *ctx, picoacme_err_t err)
{
    picoacme_problem_t *p = &ctx->run.problem;
    PICOACME_ASSERT(picoacme_err_is_error(err));
    p->err = err;
    p->state = ctx->run.state;
    LOG(ctx, PICOACME_LOG_LVL_ERR, "%s failed: %s%s%s (HTTP %u): %s",
        picoacme_state_str(ctx->run.state), picoacme_err_str(err), p->type[0] != '\0' ? ", " : "",
        p->type, (unsigned)p->http_status, p->detail);
    return err;
}

picoacme_err_t engine_fail_text(picoacme_ctx_t *ctx, picoacme_err_t err, const char *detail)
{
    picoacme_problem_t *p = &ctx->run.problem;
    if (detail != NULL) {
        cpy(p->detail, sizeof p->detail, detail, util_strnlen(detail, sizeof p->detail));
    }
    return engine_fail(ctx, err);
}

picoacme_err_t goto_state(picoacme_ctx_t *ctx, picoacme_state_t st)
{
    picoacme_run_t *r = &ctx->run;
    bool legal = (ops[r->state].next & BIT(st)) != 0U;
    PICOACME_ASSERT(legal);
    if (!legal) {
        return fail(ctx, PICOACME_ERR_STATE, "illegal state change");
    }
    r->state = st;
    r->phase = PH_IDLE;
    r->bad_nonce_left = PICOACME_BADNONCE_RETRIES;
    r->rate_limit_left = PICOACME_RATELIMIT_RETRIES;
    r->io_retries_left = PICOACME_IO_RETRIES;
    return PICOACME_OK;
}

void set_timer(picoacme_ctx_t *ctx, uint32_t ms)
{
    uint32_t now = mono(ctx);
    uint32_t left = remaining(now, ctx->run.budget_end_ms);
    ctx->run.phase = PH_TIMER;
    ctx->run.deadline_ms = now + (ms < left ? ms : left);
}

void retry_in(picoacme_ctx_t *ctx, uint32_t ms)
{
    conn_close(ctx);
    set_timer(ctx, ms);
}

picoacme_err_t engine_done(picoacme_ctx_t *ctx)
{
    release(ctx);
    ctx->run.state = PICOACME_ST_DONE;
    ctx->run.phase = PH_IDLE;
    return PICOACME_OK;
}

/* After a failure: a TXT record still out is removed first (the state
 * DNS_CLEANUP ends the run with the recorded failure); otherwise the run
 * ends here. Returns what picoacme_step() reports. */
static picoacme_err_t unwind(picoacme_ctx_t *ctx)
{
    picoacme_run_t *r = &ctx->run;
    PICOACME_ASSERT(picoacme_err_is_error(r->problem.err));
    if (dns01_published(ctx) && r->state != PICOACME_ST_DNS_CLEANUP) {
        conn_close(ctx);
        r->state = PICOACME_ST_DNS_CLEANUP;
        r->phase = PH_IDLE;
        dns01_cleanup_next(ctx);
        BUF_FREE_ALL(ctx);
        return PICOACME_OK;
    }
    r->state = PICOACME_ST_FAILED;
    r->phase = PH_IDLE;
    release(ctx);
    BUF_FREE_ALL(ctx);
    /* the certificate key of a failed order, and any record, never stay */
    memset(ctx->rx, 0, sizeof ctx->rx);
    memset(ctx->work, 0, sizeof ctx->work);
    return r->problem.err;
}

/* ---- starts --------------------------------------------------------------- */

void run_reset(picoacme_ctx_t *ctx, picoacme_op_t op)
{
    uint32_t budget_s = ctx->cfg.budget_s != 0U ? ctx->cfg.budget_s : PICOACME_RUN_BUDGET_S;
    char nonce[PICOACME_NONCE_MAX];
    release(ctx);
    /* the CA's last Replay-Nonce serves the next run's first POST (a CA
     * that expired it answers badNonce with a fresh one) */
    memcpy(nonce, ctx->run.nonce, sizeof nonce);
    memset(&ctx->run, 0, sizeof ctx->run);
    memcpy(ctx->run.nonce, nonce, sizeof nonce);
    BUF_FREE_ALL(ctx);
    ctx->run.op = op;
    /* wrap-safe comparisons need the budget below 2^31 ms (24 days) */
    if (budget_s > 2000000U) {
        budget_s = 2000000U;
    }
    ctx->run.budget_end_ms = mono(ctx) + budget_s * 1000U;
}

static bool url_ok(const char *u, const picoacme_ports_t *ports)
{
    picoacme_url_t url;
    size_t n = util_strnlen(u, PICOACME_URL_MAX);
    return n < PICOACME_URL_MAX && picoacme_url_parse(u, n, &url) == PICOACME_OK &&
           (!url.https || ports->tls != NULL);
}

static bool ids_ok(const picoacme_config_t *cfg)
{
    if (cfg->n_ids > PICOACME_MAX_IDENTIFIERS || (cfg->n_ids > 0U && cfg->ids == NULL)) {
        return false;
    }
    for (size_t i = 0; i < cfg->n_ids; i++) {
        const char *v = cfg->ids[i].value;
        uint8_t ip[16];
        size_t ip_len;
        size_t n = v != NULL ? util_strnlen(v, PICOACME_NAME_MAX) : 0U;
        if (n == 0U || n >= PICOACME_NAME_MAX ||
            (cfg->ids[i].type == PICOACME_ID_IP &&
             picoacme_ip_parse(v, n, ip, &ip_len) != PICOACME_OK)) {
            return false;
        }
    }
    return true;
}

/* A profile name: printable ASCII without '"' and '\\', shorter than
 * PICOACME_PROFILE_MAX. */
static bool profile_ok(const char *p)
{
    size_t n;
    if (p == NULL) {
        return true;
    }
    n = util_strnlen(p, PICOACME_PROFILE_MAX);
    if (n == 0U || n >= PICOACME_PROFILE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= ' ' || p[i] > '~' || p[i] == '"' || p[i] == '\\') {
            return false;
        }
    }
    return true;
}

/* The configuration a run needs: URL, identifiers, e-mail, EAB, profile. */
static picoacme_err_t cfg_check(const picoacme_config_t *cfg, const picoacme_ports_t *ports)
{
    if (cfg->directory_url == NULL) {
        /* only picoacme_stored() is possible */
        return cfg->n_ids == 0U ? PICOACME_OK : PICOACME_ERR_PARAM;
    }
    if (!url_ok(cfg->directory_url, ports) || !ids_ok(cfg) || !profile_ok(cfg->profile) ||
        (cfg->email != NULL && util_strnlen(cfg->email, 128U) >= 128U)) {
        return PICOACME_ERR_PARAM;
    }
    if (cfg->eab_kid != NULL && (!PICOACME_EAB || util_strnlen(cfg->eab_kid, 128U) >= 128U ||
                                 cfg->eab_key == NULL || cfg->eab_key_len == 0U)) {
        return PICOACME_EAB ? PICOACME_ERR_PARAM : PICOACME_ERR_UNSUPPORTED;
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_init(picoacme_ctx_t *ctx, const picoacme_config_t *cfg,
                             const picoacme_ports_t *ports)
{
    if (ctx == NULL || cfg == NULL || ports == NULL || ports->transport == NULL ||
        ports->crypto == NULL || ports->clock == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = *cfg;
    ctx->ports = *ports;
    ctx->conn.sock = PICOACME_SOCK_NONE;
    ctx->h01.lsock = PICOACME_SOCK_NONE;
    ctx->h01.sock = PICOACME_SOCK_NONE;
    ctx->alpn.lsock = PICOACME_SOCK_NONE;
    ctx->alpn.sock = PICOACME_SOCK_NONE;
    if (dns01_sock(ctx) != NULL) {
        *dns01_sock(ctx) = PICOACME_SOCK_NONE;
    }
    return cfg_check(cfg, ports);
}

/* The account of this CA from the store, or a new account key. */
static picoacme_err_t account_key(picoacme_ctx_t *ctx)
{
    const picoacme_crypto_t *c = ctx->ports.crypto;
    size_t len = 0;
    bool mine = record_of_directory(ctx, &len);
    /* nothing stored at all (not another CA's record): a new account is
     * saved at once (response.c on_account()) */
    ctx->run.account_save = !mine && len == 0U && ctx->ports.storage != NULL;
    if (mine) {
        ctx->run.account_key_loaded = import_key(ctx, len, T_ACCT_KEY, PICOACME_KEY_ACCOUNT);
        /* with its URL stored, the account needs no lookup (the kid is
         * used at once; a CA that does not know it makes the engine look
         * it up after all) */
        ctx->run.account_known = ctx->run.account_key_loaded && record_account_url(ctx, len);
        if (ctx->run.account_known) {
            LOG(ctx, PICOACME_LOG_LVL_INF, "account %s (stored)", ctx->dir.account_url);
            /* and the directory's URLs, when the order names the same
             * profile the stored certificate was ordered with */
            record_dir_urls(ctx, len, true);
        }
        /* a renewal at the same CA names the certificate it replaces */
        ctx->run.u.issue.ari_replaces = ari_replaces_prepare(ctx, len);
    }
    memset(ctx->rx, 0, len); /* the record holds the keys */
    BUF_FREE_ALL(ctx);
    if (!ctx->run.account_key_loaded &&
        c->key_generate(c->user, PICOACME_KEY_ACCOUNT) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "account key generation failed");
    }
    ctx->run.only_existing = ctx->run.account_key_loaded;
    return PICOACME_OK;
}

picoacme_err_t picoacme_issue_start(picoacme_ctx_t *ctx)
{
    const picoacme_crypto_t *c;
    picoacme_err_t e;
    if (ctx == NULL || ctx->cfg.n_ids == 0U || ctx->cfg.directory_url == NULL) {
        return PICOACME_ERR_PARAM;
    }
    c = ctx->ports.crypto;
    run_reset(ctx, PICOACME_OP_ISSUE);
    e = check_challenges(ctx);
    if (e == PICOACME_OK) {
        e = account_key(ctx);
    }
    if (e != PICOACME_OK) {
        return e;
    }
    /* a fresh certificate key for every order (key rotation) */
    if (c->key_generate(c->user, PICOACME_KEY_CERT) != PICOACME_OK ||
        picoacme_jwk_thumbprint(c, PICOACME_KEY_ACCOUNT, ctx->dir.thumbprint) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "key generation failed");
    }
    e = h01_open(ctx);
    if (e == PICOACME_OK) {
        e = alpn_open(ctx);
    }
    if (e != PICOACME_OK) {
        release(ctx);
        return e;
    }
    return goto_state(ctx, PICOACME_ST_DIRECTORY);
}

picoacme_err_t picoacme_directory_start(picoacme_ctx_t *ctx)
{
    if (ctx == NULL || ctx->cfg.directory_url == NULL) {
        return PICOACME_ERR_PARAM;
    }
    run_reset(ctx, PICOACME_OP_DIRECTORY);
    return goto_state(ctx, PICOACME_ST_DIRECTORY);
}

/* ---- the pump ----------------------------------------------------------------- */

/* The state's work: its begin, or the answer of its exchange. */
static picoacme_err_t advance(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    picoacme_run_t *r = &ctx->run;
    const state_ops_t *op = &ops[r->state];
    picoacme_err_t e;
    switch (r->phase) {
    case PH_IDLE:
        PICOACME_ASSERT(op->begin != NULL);
        return op->begin != NULL ? op->begin(ctx)
                                 : fail(ctx, PICOACME_ERR_STATE, "nothing to do in this state");
    case PH_DNS: return dns01_pump(ctx, wait);
    default: break;
    }
    ctx->conn.idempotent = (op->next & ST_IDEMPOTENT) != 0U;
    e = exchange_pump(ctx, wait);
    if (e != PICOACME_OK || r->phase != PH_EXCHANGE) {
        return e; /* a wait, a failure, or a retry was scheduled */
    }
    r->phase = PH_IDLE;
    BUF_GIVE(ctx, tx, BUF_REQUEST);
    e = on_response(ctx);
    if (BUF_IS(ctx, rx, BUF_EXCHANGE)) {
        BUF_GIVE(ctx, rx, BUF_EXCHANGE);
    }
    return e;
}

picoacme_err_t engine_on_answer(picoacme_ctx_t *ctx)
{
    const state_ops_t *op = &ops[ctx->run.state];
    picoacme_json_t j;
    if (op->on_answer == NULL) {
        return fail(ctx, PICOACME_ERR_STATE, "response in an unexpected state");
    }
    if ((op->next & ST_JSON) == 0U) {
        return op->on_answer(ctx, NULL);
    }
    picoacme_err_t e = picoacme_json_parse(&j, span(ctx, ctx->conn.resp.body),
                                           ctx->conn.resp.body.len, ctx->tok, PICOACME_JSON_TOKENS);
    if (e == PICOACME_ERR_NOSPACE) {
        return fail(ctx, e, "CA answer has more JSON tokens than PICOACME_JSON_TOKENS");
    }
    if (e != PICOACME_OK || !picoacme_json_is_object(&j, 0)) {
        return fail(ctx, PICOACME_ERR_PARSE, "CA answer is not a JSON object");
    }
    return op->on_answer(ctx, &j);
}

/* A timer that has not run out: report the wait. */
static bool timer_pending(picoacme_ctx_t *ctx, picoacme_wait_t *wait, uint32_t now)
{
    picoacme_run_t *r = &ctx->run;
    if (r->state == PICOACME_ST_POLL_AUTHZ && r->served != r->served_seen) {
        /* the validator fetched the token: poll once it had time to decide */
        r->served_seen = r->served;
        if (remaining(now, r->deadline_ms) > PICOACME_POLL_SETTLE_MS) {
            r->deadline_ms = now + PICOACME_POLL_SETTLE_MS;
        }
    }
    if (!expired(now, r->deadline_ms)) {
        wait_timer(wait, remaining(now, r->deadline_ms));
        return true;
    }
    r->phase = PH_IDLE;
    return false;
}

static picoacme_err_t step_locked(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    picoacme_run_t *r = &ctx->run;
    if (r->state == PICOACME_ST_DONE) {
        return PICOACME_OK;
    }
    if (r->state == PICOACME_ST_FAILED) {
        return r->problem.err;
    }
    if (r->state == PICOACME_ST_IDLE) {
        return PICOACME_ERR_STATE;
    }
    h01_service(ctx, wait);
    alpn_service(ctx, wait);
    /* a bounded number of transitions per call keeps a superloop responsive */
    for (unsigned guard = 0; guard < 16U; guard++) {
        uint32_t now = mono(ctx);
        picoacme_err_t e;
        if (r->phase == PH_TIMER && timer_pending(ctx, wait, now)) {
            return PICOACME_AGAIN;
        }
        if (expired(now, r->budget_end_ms) && r->state != PICOACME_ST_DNS_CLEANUP) {
            e = fail(ctx, PICOACME_ERR_TIMEOUT,
                     "the run took longer than its time budget (budget_s, "
                     "PICOACME_RUN_BUDGET_S)");
        } else {
            e = advance(ctx, wait);
        }
        if (r->state == PICOACME_ST_DONE) {
            return PICOACME_OK;
        }
        if (picoacme_err_is_error(e)) {
            e = unwind(ctx); /* OK: on to the dns-01 clean-up */
        }
        if (e != PICOACME_OK) {
            return e; /* a wait (filled in) or the end of a failed run */
        }
    }
    wait_timer(wait, 0U);
    return PICOACME_AGAIN;
}

picoacme_err_t picoacme_step(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    picoacme_err_t e;
    if (ctx == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (wait != NULL) {
        wait->count = 0;
        wait->timeout_ms = UINT32_MAX;
    }
    PICOACME_LOCK(ctx);
    e = step_locked(ctx, wait);
    PICOACME_UNLOCK(ctx);
    return e;
}

void picoacme_abort(picoacme_ctx_t *ctx)
{
    /* a context that picoacme_init() never prepared (a zeroed static
     * global) has no ports and nothing to release */
    if (ctx != NULL && ctx->ports.transport != NULL) {
        release(ctx);
        if (ctx->run.state != PICOACME_ST_DONE) {
            ctx->run.state = PICOACME_ST_IDLE;
            ctx->run.phase = PH_IDLE;
            BUF_FREE_ALL(ctx);
        }
    }
}

/* ---- queries -------------------------------------------------------------------- */

const picoacme_problem_t *picoacme_last_problem(const picoacme_ctx_t *ctx)
{
    return &ctx->run.problem;
}

picoacme_state_t picoacme_state(const picoacme_ctx_t *ctx)
{
    return ctx->run.state;
}

const picoacme_stats_t *picoacme_stats(const picoacme_ctx_t *ctx)
{
    return &ctx->run.stats;
}

const char *picoacme_account_url(const picoacme_ctx_t *ctx)
{
    return ctx->dir.account_url;
}

picoacme_err_t picoacme_result(const picoacme_ctx_t *ctx, const char **pem, size_t *len)
{
    if (ctx == NULL || pem == NULL || len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (ctx->run.state != PICOACME_ST_DONE || ctx->run.op != PICOACME_OP_ISSUE) {
        return PICOACME_ERR_STATE;
    }
    *pem = (const char *)ctx->rx + ctx->conn.resp.body.off;
    *len = ctx->conn.resp.body.len;
    /* a chain longer than rx: its first part (the whole is stored) */
    return *len < ctx->run.u.issue.chain_len ? PICOACME_ERR_NOSPACE : PICOACME_OK;
}

int64_t picoacme_now(const picoacme_ctx_t *ctx)
{
    int64_t w = ctx->ports.clock->wall_s(ctx->ports.clock->user);
    if (w != PICOACME_TIME_UNKNOWN) {
        return w;
    }
    if (ctx->dir.date_s > 0) {
        return ctx->dir.date_s + (int64_t)((uint32_t)(mono(ctx) - ctx->dir.date_mono_ms) / 1000U);
    }
    return PICOACME_TIME_UNKNOWN;
}

int64_t picoacme_renew_at(int64_t not_before_s, int64_t not_after_s)
{
    int64_t life = not_after_s - not_before_s;
    uint32_t l;
    if (life <= 0) {
        return not_before_s;
    }
    /* 32-bit arithmetic only (no 64-bit division helper on Cortex-M);
     * lifetimes beyond 136 years are taken as 136 years */
    l = life > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)life;
    return not_before_s + (int64_t)(l / 1000U) * (int64_t)PICOACME_RENEW_PERMILLE +
           (int64_t)((l % 1000U) * PICOACME_RENEW_PERMILLE / 1000U);
}
