/*
 * ari.c - ACME Renewal Information (RFC 9773), PICOACME_ARI: the CertID of
 * the stored certificate (§4.1), the run that asks the CA's renewalInfo
 * resource for the suggested window and picks a random point in it (§4.2,
 * Retry-After §4.3), and "replaces" in the newOrder of a renewal (§5).
 * Compiled to the "unsupported" stubs without PICOACME_ARI.
 */
#include "internal.h"

#if PICOACME_ARI
#include "picoacme_b64.h"

/* RFC 9773 §4.3: Retry-After when the CA sends none, and the bounds kept */
#define ARI_RETRY_DEFAULT_S 21600U
#define ARI_RETRY_MIN_S     60U
#define ARI_RETRY_MAX_S     86400U

/* §4.1 */
picoacme_err_t picoacme_ari_certid(const picoacme_x509_t *c, char *out, size_t cap, size_t *out_len)
{
    size_t a = 0;
    size_t n = 0;
    picoacme_err_t e;
    if (c == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (c->aki == NULL || c->aki_len == 0U || c->serial == NULL || c->serial_len == 0U) {
        return PICOACME_ERR_NOT_FOUND;
    }
    e = picoacme_b64url_encode(c->aki, c->aki_len, out, cap, &a);
    if (e == PICOACME_OK && cap - a < 2U) {
        e = PICOACME_ERR_NOSPACE;
    }
    if (e == PICOACME_OK) {
        out[a] = '.';
        /* the serial's INTEGER contents as they are in the DER */
        e = picoacme_b64url_encode(c->serial, c->serial_len, out + a + 1, cap - a - 2U, &n);
    }
    if (e != PICOACME_OK) {
        return e == PICOACME_ERR_NOSPACE ? e : PICOACME_ERR_PARSE;
    }
    out[a + 1U + n] = '\0';
    *out_len = a + 1U + n;
    return PICOACME_OK;
}

/* The CertID of the leaf in the store record rx[0, len) into ari.certid. */
static picoacme_err_t record_certid(picoacme_ctx_t *ctx, size_t len)
{
    picoacme_x509_t c;
    size_t der_len = 0;
    size_t n = 0;
    picoacme_err_t e = record_leaf_der(ctx, len, &der_len);
    if (e == PICOACME_OK) {
        e = picoacme_x509_parse(ctx->tx, der_len, &c);
    }
    if (e == PICOACME_OK) {
        e = picoacme_ari_certid(&c, ctx->ari.certid, sizeof ctx->ari.certid, &n);
        if (e == PICOACME_ERR_NOT_FOUND) {
            e = PICOACME_ERR_UNSUPPORTED; /* no authorityKeyIdentifier */
        }
    }
    if (BUF_IS(ctx, tx, BUF_SCRATCH)) {
        BUF_GIVE(ctx, tx, BUF_SCRATCH);
    }
    if (e != PICOACME_OK) {
        ctx->ari.certid[0] = '\0';
    }
    return e;
}

bool ari_replaces_prepare(picoacme_ctx_t *ctx, size_t record_len)
{
    return record_certid(ctx, record_len) == PICOACME_OK;
}

void ari_order_member(picoacme_ctx_t *ctx, picoacme_jw_t *w)
{
    if (ctx->run.u.issue.ari_replaces && ctx->dir.ari_offered) {
        picoacme_jw_key(w, "replaces");
        picoacme_jw_str(w, ctx->ari.certid, util_strnlen(ctx->ari.certid, sizeof ctx->ari.certid));
    }
}

bool ari_order_refused(picoacme_ctx_t *ctx)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    const picoacme_problem_t *p = &ctx->run.problem;
    /* "replaces" is a hint (RFC 9773 §5): a CA that refuses the order over
     * it gets the order once more without it, whatever it says (409
     * alreadyReplaced; Pebble 2.10.1's 500 for a serial whose DER starts
     * with a zero byte; a check of its own). Not a busy or rate-limiting
     * CA: that is asked again later, as before. */
    if (!is->ari_replaces || !ctx->dir.ari_offered || p->http_status == 503U ||
        p->http_status == 429U || strcmp(p->type, "rateLimited") == 0) {
        return false;
    }
    LOG(ctx, PICOACME_LOG_LVL_WRN, "newOrder without \"replaces\" after %s", p->type);
    is->ari_replaces = false;
    return true;
}

void ari_stored(const picoacme_ctx_t *ctx, const picoacme_x509_t *c, picoacme_stored_info_t *info)
{
    /* the CA's window, when it was asked about this very certificate; a
     * window beyond the expiry is not followed */
    char id[PICOACME_ARI_CERTID_MAX];
    size_t n = 0;
    if (ctx->ari.valid && ctx->ari.renew_at_s <= c->not_after_s &&
        picoacme_ari_certid(c, id, sizeof id, &n) == PICOACME_OK &&
        memcmp(id, ctx->ari.certid, n + 1U) == 0) {
        info->renew_at_s = ctx->ari.renew_at_s;
        info->ari = true;
        info->ari_retry_at_s = ctx->ari.retry_at_s;
    }
}

/* ---- the run -------------------------------------------------------------------- */

picoacme_err_t picoacme_ari_start(picoacme_ctx_t *ctx)
{
    size_t len = 0;
    picoacme_err_t e;
    if (ctx == NULL || ctx->cfg.directory_url == NULL) {
        return PICOACME_ERR_PARAM;
    }
    run_reset(ctx, PICOACME_OP_ARI);
    ctx->ari.valid = false;
    e = record_load(ctx, &len);
    if (e == PICOACME_OK) {
        e = record_certid(ctx, len);
    }
    if (e == PICOACME_OK && record_dir_is(ctx, len)) {
        record_dir_urls(ctx, len, false); /* the GET of the directory is saved */
    }
    memset(ctx->rx, 0, len); /* the record holds the keys */
    BUF_GIVE(ctx, rx, BUF_RECORD);
    return e == PICOACME_OK ? goto_state(ctx, PICOACME_ST_DIRECTORY) : e;
}

/* The directory's renewalInfo URL (kept in dir for later runs). */
picoacme_err_t ari_on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    size_t n = 0;
    picoacme_err_t e;
    ctx->dir.renewal_info[0] = '\0';
    ctx->dir.ari_offered = picoacme_json_member(j, 0, "renewalInfo") >= 0;
    if (!ctx->dir.ari_offered) {
        return PICOACME_OK;
    }
    e = picoacme_json_get_string(j, 0, "renewalInfo", ctx->dir.renewal_info, PICOACME_URL_MAX, &n);
    if (e != PICOACME_OK && ctx->run.op == PICOACME_OP_ARI) {
        return fail(ctx, e == PICOACME_ERR_NOSPACE ? e : PICOACME_ERR_PROTOCOL,
                    "renewalInfo URL unusable or longer than PICOACME_URL_MAX");
    }
    if (e != PICOACME_OK) {
        /* an issuance goes on without "replaces" */
        ctx->dir.ari_offered = false;
        ctx->dir.renewal_info[0] = '\0';
    }
    return PICOACME_OK;
}

/* The renewalInfo URL "/" CertID (§4.1) goes to work, for the GET. */
picoacme_err_t ari_after_directory(picoacme_ctx_t *ctx)
{
    size_t c = util_strnlen(ctx->ari.certid, sizeof ctx->ari.certid);
    size_t n = util_strnlen(ctx->dir.renewal_info, sizeof ctx->dir.renewal_info);
    if (!ctx->dir.ari_offered || n == 0U) {
        LOG(ctx, PICOACME_LOG_LVL_INF, "the CA offers no renewalInfo: the lifetime fraction stays");
        return engine_done(ctx);
    }
    if (n + 1U + c >= PICOACME_URL_MAX) {
        return fail(ctx, PICOACME_ERR_NOSPACE,
                    "renewalInfo URL with the CertID is longer than PICOACME_URL_MAX");
    }
    BUF_TAKE(ctx, work, BUF_ARI);
    memcpy(ctx->work, ctx->dir.renewal_info, n);
    ctx->work[n] = '/';
    memcpy(ctx->work + n + 1U, ctx->ari.certid, c + 1U);
    return goto_state(ctx, PICOACME_ST_RENEWAL_INFO);
}

/* unauthenticated GET (§4.1); the URL is in work */
picoacme_err_t ari_begin(picoacme_ctx_t *ctx)
{
    picoacme_err_t e = request_get(ctx, ctx->work, false, "application/json");
    /* the URL stays in work for a retry of the GET */
    return e;
}

/* §4.2: start and end of the suggestedWindow; end after start */
static bool window(const picoacme_json_t *j, int64_t *start, int64_t *end)
{
    char ts[48];
    size_t n = 0;
    int w = picoacme_json_member(j, 0, "suggestedWindow");
    return w >= 0 && picoacme_json_is_object(j, w) &&
           picoacme_json_get_string(j, w, "start", ts, sizeof ts, &n) == PICOACME_OK &&
           picoacme_rfc3339(ts, n, start) == PICOACME_OK &&
           picoacme_json_get_string(j, w, "end", ts, sizeof ts, &n) == PICOACME_OK &&
           picoacme_rfc3339(ts, n, end) == PICOACME_OK && *end > *start;
}

/* The RenewalInfo object (§4.2): pick a uniformly random point in the
 * suggested window; a point already passed means renew now. */
picoacme_err_t ari_on_renewal_info(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    int64_t start = 0;
    int64_t end = 0;
    int64_t now = picoacme_now(ctx);
    uint8_t r[4];
    const picoacme_http_resp_t *resp = &ctx->conn.resp;
    if (!window(j, &start, &end)) {
        return fail(ctx, PICOACME_ERR_PROTOCOL,
                    "the CA's suggestedWindow is missing or invalid (RFC 9773 4.2)");
    }
    if (ctx->ports.crypto->random(ctx->ports.crypto->user, r, sizeof r) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "random");
    }
    /* start + rnd * (span + 1) / 2^32: no 64-bit division; windows beyond
     * 136 years are taken as 136 years */
    uint32_t span = end - start >= (int64_t)UINT32_MAX ? UINT32_MAX - 1U : (uint32_t)(end - start);
    ctx->ari.renew_at_s =
        start + (int64_t)(((uint64_t)util_get32(r) * ((uint64_t)span + 1U)) >> 32);
    if (now != PICOACME_TIME_UNKNOWN && ctx->ari.renew_at_s < now) {
        ctx->ari.renew_at_s = now;
    }
    /* §4.3: ask again after Retry-After, within sane bounds */
    uint32_t ra = resp->has_retry_after ? resp->retry_after_s : ARI_RETRY_DEFAULT_S;
    ra = ra < ARI_RETRY_MIN_S ? ARI_RETRY_MIN_S : ra > ARI_RETRY_MAX_S ? ARI_RETRY_MAX_S : ra;
    ctx->ari.retry_at_s = now == PICOACME_TIME_UNKNOWN ? PICOACME_TIME_UNKNOWN : now + (int64_t)ra;
    ctx->ari.start_s = start;
    ctx->ari.end_s = end;
    ctx->ari.valid = true;
    LOG(ctx, PICOACME_LOG_LVL_INF, "ARI: renew at %lld (window %lld..%lld), ask again in %u s",
        (long long)ctx->ari.renew_at_s, (long long)start, (long long)end, (unsigned)ra);
    BUF_GIVE(ctx, work, BUF_ARI);
    return engine_done(ctx);
}
#else
picoacme_err_t picoacme_ari_start(picoacme_ctx_t *ctx)
{
    (void)ctx;
    return PICOACME_ERR_UNSUPPORTED;
}

picoacme_err_t picoacme_ari_certid(const picoacme_x509_t *c, char *out, size_t cap, size_t *out_len)
{
    (void)c;
    (void)out;
    (void)cap;
    (void)out_len;
    return PICOACME_ERR_UNSUPPORTED;
}
#endif
