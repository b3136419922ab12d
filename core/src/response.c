/*
 * response.c - what the engine does with the CA's answers. Every answer
 * first gets the common policy (RFC 8555 §6.5 nonces, the Date header,
 * problem documents §6.7: badNonce retried, rateLimited and 503 honoured
 * with Retry-After, the recoverable problems), then the state's handler:
 * the directory (§7.1.1), the account (§7.3), the order (§7.4, polled until
 * valid) and the certificate chain (§7.4.2), checked before it is stored.
 */
#include "internal.h"

#define ERR_PREFIX "urn:ietf:params:acme:error:"

const char *span(const picoacme_ctx_t *ctx, picoacme_span_t s)
{
    return (const char *)ctx->rx + s.off;
}

picoacme_err_t get_url(picoacme_ctx_t *ctx, const picoacme_json_t *j, int obj, const char *key,
                       char *out, bool required)
{
    size_t n = 0;
    picoacme_err_t e = picoacme_json_get_string(j, obj, key, out, PICOACME_URL_MAX, &n);
    if (e == PICOACME_ERR_NOT_FOUND && !required) {
        out[0] = '\0';
        return PICOACME_OK;
    }
    if (e == PICOACME_ERR_NOSPACE) {
        return fail(ctx, e, "a URL from the CA is longer than PICOACME_URL_MAX");
    }
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, key);
    }
    return PICOACME_OK;
}

bool status_is(const picoacme_json_t *j, int obj, const char *s)
{
    int t = picoacme_json_member(j, obj, "status");
    return t >= 0 && picoacme_json_string_eq(j, t, s);
}

/* ---- problem documents ------------------------------------------------------ */

/* Copy src[0, len) to dst (cap bytes, NUL-terminated) with every control
 * character escaped ("\n", "\r", "\t", "\xHH"): text from the CA must not
 * be able to forge log lines or drive a terminal. An escape that does not
 * fit whole is left out. */
static void copy_escaped(char *dst, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)src[i];
        char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15U]};
        size_t n = 4U;
        if (c >= 0x20U && c != 0x7fU) {
            esc[0] = (char)c;
            n = 1U;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            n = 2U;
        }
        if (o + n >= cap) {
            break;
        }
        memcpy(dst + o, esc, n);
        o += n;
    }
    dst[o] = '\0';
}

/* The string member key of obj, escaped into dst, without the leading
 * `drop` when it starts with it; over-long values keep their first part
 * (raw JSON text, escaped the same way). */
static void take_string(const picoacme_json_t *j, int obj, const char *key, const char *drop,
                        char *dst, size_t cap)
{
    char raw[160];
    const char *v = raw;
    size_t n = 0;
    size_t dl = drop != NULL ? strlen(drop) : 0U;
    picoacme_err_t e = picoacme_json_get_string(j, obj, key, raw, sizeof raw, &n);
    if (e == PICOACME_ERR_NOSPACE) {
        int t = picoacme_json_member(j, obj, key);
        v = j->js + j->tok[t].start;
        n = (size_t)(j->tok[t].end - j->tok[t].start);
    } else if (e != PICOACME_OK) {
        return;
    }
    if (drop != NULL && n >= dl && memcmp(v, drop, dl) == 0) {
        v += dl;
        n -= dl;
    }
    copy_escaped(dst, cap, v, n);
}

void take_problem(picoacme_ctx_t *ctx, const picoacme_json_t *j, int obj)
{
    picoacme_problem_t *p = &ctx->run.problem;
    take_string(j, obj, "type", ERR_PREFIX, p->type, sizeof p->type);
    take_string(j, obj, "detail", NULL, p->detail, sizeof p->detail);
}

static bool problem_is(const picoacme_ctx_t *ctx, const char *type)
{
    size_t n = strlen(type);
    return memcmp(ctx->run.problem.type, type, n) == 0 && ctx->run.problem.type[n] == '\0';
}

/* badNonce (§6.5) and rateLimited/503 with Retry-After: the same request
 * again, within the retry budgets. */
static bool retry_same(picoacme_ctx_t *ctx)
{
    picoacme_run_t *r = &ctx->run;
    const picoacme_http_resp_t *resp = &ctx->conn.resp;
    if (problem_is(ctx, "badNonce") && r->bad_nonce_left > 0U) {
        /* retried with the fresh nonce of this answer */
        r->bad_nonce_left--;
        r->stats.bad_nonces++;
        r->phase = PH_IDLE;
        return true;
    }
    if ((problem_is(ctx, "rateLimited") || resp->status == 503U) && resp->has_retry_after &&
        resp->retry_after_s <= PICOACME_RETRY_AFTER_MAX_S && r->rate_limit_left > 0U) {
        r->rate_limit_left--;
        set_timer(ctx, resp->retry_after_s * 1000U);
        return true;
    }
    return false;
}

/* A URL of the stored directory (newNonce, newAccount, newOrder,
 * renewalInfo) answered 404: it moved, the directory is read anew (once:
 * the URLs read then are not the stored ones). A 404 of a URL the order
 * gave (authorization, challenge, finalize, certificate) is not this. */
static bool stale_directory(picoacme_ctx_t *ctx)
{
    picoacme_state_t st = ctx->run.state;
    bool dir_url = st == PICOACME_ST_NONCE || st == PICOACME_ST_ACCOUNT ||
                   st == PICOACME_ST_ORDER || st == PICOACME_ST_RENEWAL_INFO;
    if (!dir_url || !ctx->dir.from_record || ctx->conn.resp.status != 404U) {
        return false;
    }
    LOG(ctx, PICOACME_LOG_LVL_WRN, "a stored directory URL answered 404: reading the directory");
    ctx->dir.loaded = false;
    ctx->dir.from_record = false;
    return true;
}

/* Problems that change the plan instead of ending the run: *handled set. */
static picoacme_err_t recover(picoacme_ctx_t *ctx, bool *handled)
{
    picoacme_run_t *r = &ctx->run;
    *handled = true;
    if (stale_directory(ctx)) {
        return goto_state(ctx, PICOACME_ST_DIRECTORY);
    }
    if (r->state == PICOACME_ST_ACCOUNT && r->only_existing && r->op == PICOACME_OP_ISSUE &&
        problem_is(ctx, "accountDoesNotExist")) {
        /* the stored key has no account at this CA: register it */
        r->only_existing = false;
        return goto_state(ctx, PICOACME_ST_ACCOUNT);
    }
    if (r->state == PICOACME_ST_ORDER && r->account_known &&
        (problem_is(ctx, "accountDoesNotExist") || problem_is(ctx, "unauthorized"))) {
        /* the stored account URL is not (or no longer) valid here: look the
         * key's account up, then order again */
        r->account_known = false;
        return goto_state(ctx, PICOACME_ST_ACCOUNT);
    }
    if (r->state == PICOACME_ST_ORDER && ari_order_refused(ctx)) {
        return goto_state(ctx, PICOACME_ST_ORDER);
    }
    if (r->state == PICOACME_ST_FINALIZE && problem_is(ctx, "orderNotReady")) {
        r->u.issue.finalize_again = true;
        picoacme_err_t e = start_polls(ctx, PICOACME_ST_POLL_ORDER);
        return e == PICOACME_OK ? poll_again(ctx) : e;
    }
    *handled = false;
    return PICOACME_OK;
}

/* An answer with status >= 400. */
static picoacme_err_t problem_answer(picoacme_ctx_t *ctx)
{
    const picoacme_http_resp_t *resp = &ctx->conn.resp;
    picoacme_json_t j;
    bool handled = false;
    if (resp->content_type.len > 0U &&
        ieq(span(ctx, resp->content_type), resp->content_type.len, "application/problem+json") &&
        picoacme_json_parse(&j, span(ctx, resp->body), resp->body.len, ctx->tok,
                            PICOACME_JSON_TOKENS) == PICOACME_OK) {
        take_problem(ctx, &j, 0);
    }
    LOG(ctx, PICOACME_LOG_LVL_WRN, "problem %s: %s", ctx->run.problem.type,
        ctx->run.problem.detail);
    if (retry_same(ctx)) {
        return PICOACME_OK;
    }
    picoacme_err_t e = recover(ctx, &handled);
    if (handled) {
        return e;
    }
    if (problem_is(ctx, "rateLimited")) {
        return fail(ctx, PICOACME_ERR_RATE_LIMITED, NULL);
    }
    if (problem_is(ctx, "badNonce")) {
        return fail(ctx, PICOACME_ERR_PROBLEM,
                    "the CA rejected every nonce (PICOACME_BADNONCE_RETRIES)");
    }
    return fail(ctx, ctx->run.problem.type[0] != '\0' ? PICOACME_ERR_PROBLEM : PICOACME_ERR_HTTP,
                NULL);
}

picoacme_err_t on_response(picoacme_ctx_t *ctx)
{
    const picoacme_http_resp_t *r = &ctx->conn.resp;
    picoacme_state_t st = ctx->run.state;
    LOG(ctx, PICOACME_LOG_LVL_INF, "  -> %u (%u bytes)", (unsigned)r->status,
        (unsigned)r->body.len);
    /* the parser keeps only a nonce that fits (else nonce_too_long) */
    if (r->nonce.len > 0U) {
        cpy(ctx->run.nonce, sizeof ctx->run.nonce, span(ctx, r->nonce), r->nonce.len);
    }
    if (r->date_s > 0) {
        ctx->dir.date_s = r->date_s;
        ctx->dir.date_mono_ms = mono(ctx);
    }
    if (!r->keep_alive) {
        conn_close(ctx);
    }
    /* type and detail were cleared when the exchange began */
    ctx->run.problem.http_status = r->status;
    if (r->status >= 400U) {
        return problem_answer(ctx);
    }
    if (st != PICOACME_ST_NONCE && st != PICOACME_ST_CERT && r->status != 200U &&
        r->status != 201U) {
        return fail(ctx, PICOACME_ERR_HTTP, "unexpected HTTP status");
    }
    return engine_on_answer(ctx);
}

/* ---- polling ------------------------------------------------------------------ */

picoacme_err_t start_polls(picoacme_ctx_t *ctx, picoacme_state_t st)
{
    picoacme_err_t e = goto_state(ctx, st);
    ctx->run.polls_left = PICOACME_POLL_MAX;
    ctx->run.backoff_ms = PICOACME_POLL_MIN_MS;
    return e;
}

picoacme_err_t poll_again(picoacme_ctx_t *ctx)
{
    picoacme_run_t *r = &ctx->run;
    const picoacme_http_resp_t *resp = &ctx->conn.resp;
    uint32_t ms = r->backoff_ms;
    if (r->polls_left == 0U) {
        return fail(ctx, PICOACME_ERR_TIMEOUT,
                    "the CA did not finish within PICOACME_POLL_MAX polls");
    }
    r->polls_left--;
    if (resp->has_retry_after) {
        uint32_t ra = resp->retry_after_s;
        ms = ra > PICOACME_RETRY_AFTER_MAX_S ? PICOACME_RETRY_AFTER_MAX_S * 1000U : ra * 1000U;
    }
    r->backoff_ms =
        r->backoff_ms >= PICOACME_POLL_MAX_MS / 2U ? PICOACME_POLL_MAX_MS : r->backoff_ms * 2U;
    r->stats.polls++;
    /* clipped to the run's time budget: running out ends the run */
    set_timer(ctx, ms);
    return PICOACME_OK;
}

/* ---- the states' answers -------------------------------------------------------- */

/* HEAD newNonce (§7.2) */
picoacme_err_t on_nonce(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    (void)j;
    if (ctx->conn.resp.nonce_too_long) {
        return fail(ctx, PICOACME_ERR_PROTOCOL,
                    "newNonce answered with a Replay-Nonce longer than PICOACME_NONCE_MAX");
    }
    if (ctx->run.nonce[0] == '\0') {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "newNonce answered without Replay-Nonce");
    }
    return goto_state(ctx, ctx->run.resume);
}

/* The directory's meta (§7.1.1): externalAccountRequired, and whether
 * meta.profiles (draft-ietf-acme-profiles) lists cfg.profile. */
static void directory_meta(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    int meta = picoacme_json_member(j, 0, "meta");
    int ear = meta >= 0 ? picoacme_json_member(j, meta, "externalAccountRequired") : -1;
    int prof = meta >= 0 ? picoacme_json_member(j, meta, "profiles") : -1;
    ctx->dir.eab_required = picoacme_json_is_true(j, ear);
    ctx->dir.profile_listed = ctx->cfg.profile != NULL && prof >= 0 &&
                              picoacme_json_is_object(j, prof) &&
                              picoacme_json_member(j, prof, ctx->cfg.profile) >= 0;
}

/* §7.1.1 */
picoacme_err_t on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_op_t op = ctx->run.op;
    picoacme_dir_t *d = &ctx->dir;
    picoacme_err_t e = get_url(ctx, j, 0, "newNonce", d->new_nonce, true);
    if (e == PICOACME_OK) {
        e = get_url(ctx, j, 0, "newAccount", d->new_account, true);
    }
    if (e == PICOACME_OK) {
        e = get_url(ctx, j, 0, "newOrder", d->new_order, true);
    }
    if (e == PICOACME_OK) {
        e = ari_on_directory(ctx, j);
    }
    if (e == PICOACME_OK && (op == PICOACME_OP_REVOKE || op == PICOACME_OP_KEY_CHANGE)) {
        e = lc_on_directory(ctx, j);
    }
    if (e != PICOACME_OK) {
        d->loaded = false;
        return e;
    }
    directory_meta(ctx, j);
    /* kept for the next runs of this context (and in the store record) */
    d->loaded = true;
    d->from_record = false;
    return directory_next(ctx);
}

picoacme_err_t directory_next(picoacme_ctx_t *ctx)
{
    const picoacme_config_t *cfg = &ctx->cfg;
    if (ctx->run.op == PICOACME_OP_DIRECTORY) {
        return engine_done(ctx); /* picoacme_directory_start(): the Date was the point */
    }
    if (ctx->run.op == PICOACME_OP_ARI) {
        return ari_after_directory(ctx);
    }
    if (ctx->dir.eab_required && cfg->eab_kid == NULL && !ctx->run.only_existing) {
        return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                    "the CA requires External Account Binding, which is not configured");
    }
    if (ctx->run.op == PICOACME_OP_ISSUE && cfg->profile != NULL && !ctx->dir.profile_listed) {
        return fail(ctx, PICOACME_ERR_PARAM,
                    "the CA's directory does not list the configured profile (meta.profiles)");
    }
    /* §7.3.1 lookup only when the account URL is not known already */
    return goto_state(ctx, ctx->run.account_known ? PICOACME_ST_ORDER : PICOACME_ST_ACCOUNT);
}

/* §7.3: the account; its URL (Location) is the kid from now on */
picoacme_err_t on_account(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    static const uint8_t next[] = {
        [PICOACME_OP_ISSUE] = PICOACME_ST_ORDER,
        [PICOACME_OP_REVOKE] = PICOACME_ST_REVOKE,
        [PICOACME_OP_KEY_CHANGE] = PICOACME_ST_KEY_CHANGE,
        [PICOACME_OP_DEACTIVATE] = PICOACME_ST_DEACTIVATE,
    };
    const picoacme_http_resp_t *r = &ctx->conn.resp;
    if (r->location.len == 0U || r->location.len >= PICOACME_URL_MAX) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "account without a usable Location");
    }
    if (!status_is(j, 0, "valid")) {
        return fail(ctx, PICOACME_ERR_INVALID, "the account is deactivated or revoked");
    }
    cpy(ctx->dir.account_url, sizeof ctx->dir.account_url, span(ctx, r->location), r->location.len);
    LOG(ctx, PICOACME_LOG_LVL_INF, "account %s", ctx->dir.account_url);
    if (ctx->run.account_save) {
        /* a first enrolment that fails later keeps this account for the
         * next attempt (one account per device, not one per attempt); a
         * failed write only costs that */
        ctx->run.account_save = false;
        if (record_save_account(ctx) != PICOACME_OK) {
            LOG(ctx, PICOACME_LOG_LVL_WRN, "the new account could not be saved");
        }
    }
    PICOACME_ASSERT((size_t)ctx->run.op < sizeof next && next[ctx->run.op] != 0U);
    return goto_state(ctx, (picoacme_state_t)next[ctx->run.op]);
}

/* The order's status decides the next state (§7.1.6). */
static picoacme_err_t order_status(picoacme_ctx_t *ctx, const picoacme_json_t *j, bool created)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    if (status_is(j, 0, "invalid")) {
        int err = picoacme_json_member(j, 0, "error");
        if (err >= 0) {
            take_problem(ctx, j, err);
        }
        /* the CA's own words, when it gave any (as for an authorization) */
        return fail(ctx, PICOACME_ERR_INVALID,
                    ctx->run.problem.detail[0] != '\0' ? NULL : "the order became invalid");
    }
    if (status_is(j, 0, "valid")) {
        picoacme_err_t e = get_url(ctx, j, 0, "certificate", is->cert_url, true);
        return e == PICOACME_OK ? goto_state(ctx, PICOACME_ST_CERT) : e;
    }
    if (status_is(j, 0, "ready")) {
        return goto_state(ctx, PICOACME_ST_FINALIZE);
    }
    if (created) {
        is->authz_idx = 0;
        return goto_state(ctx, PICOACME_ST_AUTHZ);
    }
    return poll_again(ctx); /* pending or processing */
}

/* The authorization URLs of a new order. */
static picoacme_err_t order_authzs(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    int az = picoacme_json_member(j, 0, "authorizations");
    int n = az >= 0 ? picoacme_json_size(j, az) : 0;
    if (n < 1) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "order without authorizations");
    }
    if (n > (int)PICOACME_MAX_IDENTIFIERS) {
        return fail(ctx, PICOACME_ERR_NOSPACE,
                    "order has more authorizations than PICOACME_MAX_IDENTIFIERS");
    }
    is->n_authz = (uint8_t)n;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        size_t room = sizeof is->authz_urls - used;
        picoacme_err_t e =
            picoacme_json_string(j, picoacme_json_element(j, az, i), is->authz_urls + used,
                                 room < PICOACME_URL_MAX ? room : PICOACME_URL_MAX, &len);
        if (e != PICOACME_OK) {
            return fail(ctx, e == PICOACME_ERR_NOSPACE ? e : PICOACME_ERR_PROTOCOL,
                        "authorization URL (longer than PICOACME_URL_MAX, or the order's "
                        "together longer than PICOACME_AUTHZ_URLS_SIZE)");
        }
        used += len + 1U;
    }
    return PICOACME_OK;
}

/* §7.4: the new order */
picoacme_err_t on_order(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    const picoacme_http_resp_t *r = &ctx->conn.resp;
    picoacme_err_t e;
    if (r->location.len == 0U || r->location.len >= PICOACME_URL_MAX) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "new order without a usable Location");
    }
    cpy(is->order_url, sizeof is->order_url, span(ctx, r->location), r->location.len);
    e = get_url(ctx, j, 0, "finalize", is->finalize_url, true);
    if (e == PICOACME_OK) {
        e = order_authzs(ctx, j);
    }
    return e == PICOACME_OK ? order_status(ctx, j, true) : e;
}

/* §7.4: the answer to finalize: poll the order almost at once (a CA signs
 * in milliseconds, or says Retry-After), then back off */
picoacme_err_t on_finalize(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    if (status_is(j, 0, "processing") || status_is(j, 0, "ready")) {
        picoacme_err_t e = start_polls(ctx, PICOACME_ST_POLL_ORDER);
        if (e != PICOACME_OK || ctx->conn.resp.has_retry_after) {
            return e == PICOACME_OK ? poll_again(ctx) : e;
        }
        set_timer(ctx, PICOACME_POLL_SETTLE_MS);
        return PICOACME_OK;
    }
    return order_status(ctx, j, false);
}

picoacme_err_t on_poll_order(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    if (status_is(j, 0, "ready") && !is->finalize_again) {
        return poll_again(ctx);
    }
    is->finalize_again = false;
    return order_status(ctx, j, false);
}

/* ---- the chain (§7.4.2) ------------------------------------------------------------ */

/* Does the certificate c name the configured identifier id? */
static bool names_id(const picoacme_x509_t *c, const picoacme_ident_t *id, const uint8_t *ip,
                     size_t ip_len)
{
    size_t sp = 0;
    picoacme_id_type_t t;
    const uint8_t *v;
    size_t vl;
    while (picoacme_x509_san_next(c, &sp, &t, &v, &vl) == PICOACME_OK) {
        bool same = t == PICOACME_ID_DNS ? ieq((const char *)v, vl, id->value)
                                         : (vl == ip_len && memcmp(v, ip, ip_len) == 0);
        if (t == id->type && same) {
            return true;
        }
    }
    return false;
}

/* The leaf (the first PEM block of rx[0, n), the chain read back from the
 * slot) carries our key and every identifier. Its DER goes to tx, free
 * between exchanges. */
static picoacme_err_t check_chain(picoacme_ctx_t *ctx, size_t n)
{
    picoacme_x509_t c;
    size_t pos = 0;
    size_t der_len = 0;
    uint8_t pub[64];
    BUF_TAKE(ctx, tx, BUF_SCRATCH);
    picoacme_err_t e =
        picoacme_pem_next((const char *)ctx->rx, n, &pos, ctx->tx, sizeof ctx->tx, &der_len);
    if (e == PICOACME_OK) {
        e = picoacme_x509_parse(ctx->tx, der_len, &c);
    }
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_PARSE, "the downloaded certificate cannot be parsed");
    }
    e = ctx->ports.crypto->key_public(ctx->ports.crypto->user, PICOACME_KEY_CERT, pub);
    if (e != PICOACME_OK || !c.ec_p256 || memcmp(pub, c.pub, sizeof pub) != 0) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "the issued certificate does not carry our key");
    }
    for (size_t i = 0; i < ctx->cfg.n_ids; i++) {
        const picoacme_ident_t *id = &ctx->cfg.ids[i];
        uint8_t ip[16];
        size_t ip_len = 0;
        if (id->type == PICOACME_ID_IP &&
            picoacme_ip_parse(id->value, util_strnlen(id->value, PICOACME_NAME_MAX), ip, &ip_len) !=
                PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_PARAM, "bad IP identifier");
        }
        if (!names_id(&c, id, ip, ip_len)) {
            return fail(ctx, PICOACME_ERR_PROTOCOL,
                        "the issued certificate lacks a requested name");
        }
    }
    BUF_GIVE(ctx, tx, BUF_SCRATCH);
    return PICOACME_OK;
}

static const char *stream_text(picoacme_err_t e)
{
    return e == PICOACME_ERR_NOSPACE
               ? "the chain is longer than PICOACME_CERT_MAX or the store's slot"
               : "writing the certificate to flash failed";
}

picoacme_err_t cert_flush(picoacme_ctx_t *ctx)
{
    picoacme_conn_t *c = &ctx->conn;
    size_t n = picoacme_http_body_avail(&c->resp, c->rx_len);
    if (c->resp.status != 200U || n == 0U) {
        return PICOACME_OK; /* a problem document must fit rx */
    }
    picoacme_err_t e = record_stream(ctx, ctx->rx + c->resp.body.off, n);
    if (e != PICOACME_OK && PICOACME_ERROR_TEXT) {
        const char *t = stream_text(e);
        cpy(ctx->run.problem.detail, sizeof ctx->run.problem.detail, t, strlen(t));
    }
    if (e != PICOACME_OK) {
        return e;
    }
    picoacme_http_body_drop(&c->resp, ctx->rx, &c->rx_len, n);
    return PICOACME_OK;
}

/* The certificate download: its last part follows what cert_flush() wrote
 * to the new record, the leaf is read back and checked, and the STORE
 * state commits the record. The chain's first part stays in rx. */
picoacme_err_t on_cert(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_http_resp_t *r = &ctx->conn.resp;
    size_t n = 0;
    (void)j;
    if (r->status != 200U) {
        return fail(ctx, PICOACME_ERR_HTTP, "certificate download failed");
    }
    picoacme_err_t e = record_stream(ctx, ctx->rx + r->body.off, r->body.len);
    BUF_PASS(ctx, rx, BUF_EXCHANGE, BUF_RECORD);
    if (e == PICOACME_OK) {
        e = record_chain_head(ctx, &n);
    }
    if (e != PICOACME_OK) {
        return fail(ctx, e, stream_text(e));
    }
    e = check_chain(ctx, n);
    if (e != PICOACME_OK) {
        return e;
    }
    r->body.off = 0;
    r->body.len = (uint16_t)n;
    return goto_state(ctx, PICOACME_ST_STORE);
}
