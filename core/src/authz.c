/*
 * authz.c - authorizations and challenges (RFC 8555 §7.5, §8): which
 * configured identifier an authorization stands for, the first allowed
 * challenge type the CA offers for it, getting ready to answer it (http-01
 * at once, tls-alpn-01 with its certificate, dns-01 by publishing), polling
 * until it is decided, and falling back to the next type with a new order
 * when it fails (an invalid authorization cannot be retried, §7.1.4).
 */
#include "internal.h"

#include "picoacme_b64.h"

const char *const chall_names[PICOACME_CHALL_TYPES] = {"http-01", "tls-alpn-01", "dns-01"};

/* The configured preference list ({http-01} when empty). */
static size_t prefs(const picoacme_ctx_t *ctx, const picoacme_chall_type_t **list)
{
    static const picoacme_chall_type_t dflt[1] = {PICOACME_CHALL_HTTP01};
    /* built with http-01 alone, the list is that whatever the configuration
     * says (the other types could not be answered) */
    if (!(PICOACME_TLSALPN01 || PICOACME_DNS01) || ctx->cfg.n_challenges == 0U) {
        *list = dflt;
        return 1U;
    }
    *list = ctx->cfg.challenges;
    return ctx->cfg.n_challenges < PICOACME_CHALL_TYPES ? ctx->cfg.n_challenges
                                                        : PICOACME_CHALL_TYPES;
}

/* Can challenge type t validate this identifier? (§8.4: only dns-01 for
 * wildcards; RFC 8738 §7: no dns-01 for IP addresses.) */
static bool type_fits(picoacme_chall_type_t t, bool ip, bool wildcard)
{
    if ((unsigned)t >= PICOACME_CHALL_TYPES) {
        return false;
    }
    if (wildcard) {
        return t == PICOACME_CHALL_DNS01;
    }
    return !(ip && t == PICOACME_CHALL_DNS01);
}

/* Type t is allowed for identifier idx and has not failed for it. */
static bool type_usable(const picoacme_ctx_t *ctx, picoacme_chall_type_t t, size_t idx, bool ip,
                        bool wildcard)
{
    return type_fits(t, ip, wildcard) && (ctx->run.u.issue.failed[idx] & (1U << t)) == 0U;
}

/* Some allowed, fitting type has not failed yet for identifier idx. */
static bool type_left(const picoacme_ctx_t *ctx, size_t idx, bool ip, bool wildcard)
{
    const picoacme_chall_type_t *list;
    size_t n = prefs(ctx, &list);
    for (size_t i = 0; i < n; i++) {
        if (type_usable(ctx, list[i], idx, ip, wildcard)) {
            return true;
        }
    }
    return false;
}

/* ---- refused up front ------------------------------------------------------------- */

static bool built_in(const picoacme_ctx_t *ctx, picoacme_chall_type_t t)
{
    return !((t == PICOACME_CHALL_TLSALPN01 && !PICOACME_TLSALPN01) ||
             (t == PICOACME_CHALL_DNS01 && !PICOACME_DNS01) ||
             (t == PICOACME_CHALL_HTTP01 && !PICOACME_HTTP01 && ctx->cfg.http01_port != 0U));
}

/* dns-01 has a server and TSIG key (or a hook), and a way to reach them. */
static picoacme_err_t check_dns01(picoacme_ctx_t *ctx)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    const picoacme_transport_t *tp = ctx->ports.transport;
    if (d == NULL ||
        (d->hook == NULL &&
         (d->server == NULL || d->tsig.name == NULL || d->tsig.secret == NULL)) ||
        (d->resolver != NULL && d->timeout_s == 0U)) {
        return fail(ctx, PICOACME_ERR_PARAM,
                    "dns-01 needs a DNS server and TSIG key (or a DNS hook)");
    }
    if ((d->hook == NULL || d->resolver != NULL) && !d->tcp &&
        (tp->udp_open == NULL || tp->udp_send == NULL || tp->udp_recv == NULL)) {
        return fail(ctx, PICOACME_ERR_UNSUPPORTED, "the transport has no UDP for dns-01");
    }
    return PICOACME_OK;
}

picoacme_err_t check_challenges(picoacme_ctx_t *ctx)
{
    const picoacme_chall_type_t *list;
    size_t n = prefs(ctx, &list);
    for (size_t i = 0; i < ctx->cfg.n_challenges && i < PICOACME_CHALL_TYPES; i++) {
        if (!built_in(ctx, ctx->cfg.challenges[i])) {
            return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                        "a configured challenge type is not built in");
        }
    }
    for (size_t i = 0; i < n; i++) {
        picoacme_err_t e = PICOACME_OK;
        if ((unsigned)list[i] >= PICOACME_CHALL_TYPES) {
            e = fail(ctx, PICOACME_ERR_PARAM, "unknown challenge type");
        } else if (list[i] == PICOACME_CHALL_DNS01) {
            e = check_dns01(ctx);
        }
        if (e != PICOACME_OK) {
            return e;
        }
    }
    /* dns-01 cannot prove an IP address (RFC 8738 §7); only dns-01 proves a
     * wildcard (§7.1.3) */
    for (size_t i = 0; i < ctx->cfg.n_ids; i++) {
        const picoacme_ident_t *id = &ctx->cfg.ids[i];
        bool ip = id->type == PICOACME_ID_IP;
        if (!type_left(ctx, i, ip, !ip && id->value[0] == '*')) {
            return fail(ctx, PICOACME_ERR_PARAM,
                        ip ? "dns-01 cannot validate an IP address (RFC 8738): allow http-01 "
                             "or tls-alpn-01"
                           : "a wildcard name needs dns-01");
        }
    }
    return PICOACME_OK;
}

/* ---- requests ---------------------------------------------------------------------- */

/* The URL of the current authorization in the packed list. */
static const char *authz_url(const picoacme_issue_run_t *is)
{
    const char *u = is->authz_urls;
    for (unsigned i = 0; i < is->authz_idx; i++) {
        u += util_strnlen(u, PICOACME_URL_MAX) + 1U;
    }
    return u;
}

/* POST-as-GET (§6.3) of the current authorization */
picoacme_err_t begin_authz(picoacme_ctx_t *ctx)
{
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    return request_post(ctx, authz_url(&ctx->run.u.issue), 0U, false, NULL);
}

/* §7.5.1: "the client is ready": POST {} to the challenge */
picoacme_err_t begin_challenge(picoacme_ctx_t *ctx)
{
    ctx->run.served_seen = ctx->run.served;
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    memcpy(ctx->work, "{}", 2U);
    return request_post(ctx, ctx->run.u.issue.chall_url, 2U, false, NULL);
}

/* ---- outcomes ---------------------------------------------------------------------- */

picoacme_err_t authz_done(picoacme_ctx_t *ctx)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    if (dns01_published(ctx)) {
        dns01_cleanup_next(ctx);
        return goto_state(ctx, PICOACME_ST_DNS_CLEANUP);
    }
    ctx->alpn.cert_len = 0;
    is->authz_idx++;
    return goto_state(ctx, is->authz_idx < is->n_authz ? PICOACME_ST_AUTHZ : PICOACME_ST_FINALIZE);
}

/* The challenge of the current authorization failed (the problem is
 * recorded): the next allowed type with a new order, or the end. */
static picoacme_err_t challenge_failed(picoacme_ctx_t *ctx)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    if (!(PICOACME_TLSALPN01 || PICOACME_DNS01)) {
        return fail(ctx, PICOACME_ERR_INVALID, NULL); /* http-01 alone: no other type */
    }
    is->failed[is->id_idx] = (uint8_t)(is->failed[is->id_idx] | (1U << is->chall));
    if (!type_left(ctx, is->id_idx, is->authz_ip, is->authz_wildcard) ||
        is->orders >= 1U + PICOACME_CHALL_TYPES * PICOACME_MAX_IDENTIFIERS) {
        return fail(ctx, PICOACME_ERR_INVALID, NULL);
    }
    LOG(ctx, PICOACME_LOG_LVL_WRN, "%s failed for %s (%s); next challenge type, new order",
        chall_names[is->chall], is->authz_name, ctx->run.problem.type);
    is->retry_order = true;
    if (dns01_published(ctx)) {
        dns01_cleanup_next(ctx);
        return goto_state(ctx, PICOACME_ST_DNS_CLEANUP);
    }
    return goto_state(ctx, PICOACME_ST_ORDER);
}

/* The "error" of obj, or of the first challenge of the authorization that
 * has one, is the problem. */
static void challenge_error(picoacme_ctx_t *ctx, const picoacme_json_t *j, int obj)
{
    int ch = obj < 0 ? picoacme_json_member(j, 0, "challenges") : -1;
    int err = obj >= 0 ? picoacme_json_member(j, obj, "error") : -1;
    for (int i = 0; ch >= 0 && err < 0 && i < picoacme_json_size(j, ch); i++) {
        err = picoacme_json_member(j, picoacme_json_element(j, ch, i), "error");
    }
    if (err >= 0) {
        take_problem(ctx, j, err);
    }
}

/* ---- which identifier, which challenge ------------------------------------------- */

/* Does configured identifier c stand for the authorization's identifier
 * (name[0, n), ip or wildcard as the CA says)? */
static bool ident_matches(const picoacme_ident_t *c, const char *name, size_t n, bool ip,
                          bool wildcard)
{
    const char *v = c->value;
    if (ip) {
        uint8_t a[16], b[16];
        size_t al = 0, bl = 0;
        return c->type == PICOACME_ID_IP &&
               picoacme_ip_parse(v, util_strnlen(v, PICOACME_NAME_MAX), a, &al) == PICOACME_OK &&
               picoacme_ip_parse(name, n, b, &bl) == PICOACME_OK && al == bl &&
               memcmp(a, b, al) == 0;
    }
    if (c->type != PICOACME_ID_DNS) {
        return false;
    }
    return wildcard ? (v[0] == '*' && v[1] == '.' && ieq(name, n, v + 2)) : ieq(name, n, v);
}

/* Which configured identifier does this authorization stand for? */
static picoacme_err_t authz_identifier(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    int id = picoacme_json_member(j, 0, "identifier");
    int wc = picoacme_json_member(j, 0, "wildcard");
    char type[8];
    size_t n = 0;
    size_t i;
    if (id < 0 || picoacme_json_get_string(j, id, "type", type, sizeof type, &n) != PICOACME_OK ||
        picoacme_json_get_string(j, id, "value", is->authz_name, sizeof is->authz_name, &n) !=
            PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "authorization without a usable identifier");
    }
    is->authz_ip = type[0] == 'i' && type[1] == 'p' && type[2] == '\0';
    is->authz_wildcard = wc >= 0 && picoacme_json_is_true(j, wc);
    for (i = 0; i < ctx->cfg.n_ids; i++) {
        if (ident_matches(&ctx->cfg.ids[i], is->authz_name, n, is->authz_ip, is->authz_wildcard)) {
            break;
        }
    }
    if (i == ctx->cfg.n_ids) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "authorization for an identifier not asked for");
    }
    is->id_idx = (uint8_t)i;
    return PICOACME_OK;
}

/* The challenge object of type t in the authorization, -1 if none. */
static int find_challenge(const picoacme_json_t *j, picoacme_chall_type_t t)
{
    int ch = picoacme_json_member(j, 0, "challenges");
    for (int i = 0; ch >= 0 && i < picoacme_json_size(j, ch); i++) {
        int c = picoacme_json_element(j, ch, i);
        int type = picoacme_json_member(j, c, "type");
        if (type >= 0 && picoacme_json_string_eq(j, type, chall_names[t])) {
            return c;
        }
    }
    return -1;
}

/* Take the URL and token (§8.1: base64url, at least 128 bits) of challenge c. */
static picoacme_err_t take_challenge(picoacme_ctx_t *ctx, const picoacme_json_t *j, int c)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    char *tok = is->token;
    size_t n = 0;
    picoacme_err_t e = get_url(ctx, j, c, "url", is->chall_url, true);
    if (e != PICOACME_OK) {
        return e;
    }
    e = picoacme_json_get_string(j, c, "token", tok, PICOACME_TOKEN_MAX, &n);
    if (e != PICOACME_OK || n < 16U) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "challenge token missing or too long");
    }
    for (size_t k = 0; k < n; k++) {
        /* anything else would break the http-01 path */
        if (!util_is_alpha(tok[k]) && !util_is_digit(tok[k]) && tok[k] != '-' && tok[k] != '_') {
            return fail(ctx, PICOACME_ERR_PROTOCOL, "challenge token is not base64url");
        }
    }
    return PICOACME_OK;
}

/* SHA-256 of the key authorization token "." thumbprint (§8.1). */
static picoacme_err_t keyauth_digest(picoacme_ctx_t *ctx, uint8_t out[32])
{
    const picoacme_issue_run_t *is = &ctx->run.u.issue;
    picoacme_iov_t iov[3];
    iov[0].ptr = (const uint8_t *)is->token;
    iov[0].len = util_strnlen(is->token, PICOACME_TOKEN_MAX);
    iov[1].ptr = (const uint8_t *)".";
    iov[1].len = 1U;
    iov[2].ptr = (const uint8_t *)ctx->dir.thumbprint;
    iov[2].len = util_strnlen(ctx->dir.thumbprint, sizeof ctx->dir.thumbprint);
    return ctx->ports.crypto->sha256(ctx->ports.crypto->user, iov, 3U, out);
}

/* Get ready to answer the chosen challenge. */
static picoacme_err_t prepare_challenge(picoacme_ctx_t *ctx)
{
    uint8_t digest[32];
    picoacme_chall_type_t t = (picoacme_chall_type_t)ctx->run.u.issue.chall;
    if (t == PICOACME_CHALL_HTTP01) {
        return goto_state(ctx, PICOACME_ST_CHALLENGE);
    }
    if (keyauth_digest(ctx, digest) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "hashing the key authorization failed");
    }
    picoacme_err_t e =
        t == PICOACME_CHALL_TLSALPN01 ? alpn_prepare(ctx, digest) : dns01_prepare(ctx, digest);
    memset(digest, 0, sizeof digest);
    return e;
}

/* The first allowed type, in the user's order, that the CA offers. */
static picoacme_err_t choose_challenge(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    const picoacme_chall_type_t *list;
    size_t np = prefs(ctx, &list);
    for (size_t p = 0; p < np; p++) {
        picoacme_chall_type_t t = list[p];
        int c = type_usable(ctx, t, is->id_idx, is->authz_ip, is->authz_wildcard)
                    ? find_challenge(j, t)
                    : -1;
        if (c < 0) {
            continue;
        }
        picoacme_err_t e = take_challenge(ctx, j, c);
        if (e != PICOACME_OK) {
            return e;
        }
        is->chall = (uint8_t)t;
        LOG(ctx, PICOACME_LOG_LVL_INF, "%s for %s%s", chall_names[t],
            is->authz_wildcard ? "*." : "", is->authz_name);
        return status_is(j, c, "valid") ? authz_done(ctx) : prepare_challenge(ctx);
    }
    return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                "the CA offers none of the allowed challenge types for this identifier");
}

/* ---- answers ---------------------------------------------------------------------- */

/* §7.5: the authorization */
picoacme_err_t on_authz(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    if (status_is(j, 0, "valid")) {
        return authz_done(ctx);
    }
    picoacme_err_t e = authz_identifier(ctx, j);
    if (e != PICOACME_OK) {
        return e;
    }
    if (!status_is(j, 0, "pending")) {
        challenge_error(ctx, j, -1);
        return challenge_failed(ctx);
    }
    return choose_challenge(ctx, j);
}

/* §7.5.1: the challenge object after "ready" */
picoacme_err_t on_challenge(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_run_t *r = &ctx->run;
    if (status_is(j, 0, "valid")) {
        return authz_done(ctx);
    }
    if (status_is(j, 0, "invalid")) {
        challenge_error(ctx, j, 0);
        return challenge_failed(ctx);
    }
    /* Poll as soon as the validator has fetched the key authorization (at
     * once when it already has), otherwise after PICOACME_POLL_MIN_MS; then
     * back off. This saves the poll that would only see "pending". */
    picoacme_err_t e = start_polls(ctx, PICOACME_ST_POLL_AUTHZ);
    if (e == PICOACME_OK &&
        (r->served == r->served_seen || r->u.issue.chall == PICOACME_CHALL_DNS01)) {
        e = poll_again(ctx);
    }
    return e;
}

picoacme_err_t on_poll_authz(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    if (status_is(j, 0, "valid")) {
        return authz_done(ctx);
    }
    if (status_is(j, 0, "pending")) {
        return poll_again(ctx);
    }
    challenge_error(ctx, j, -1);
    return challenge_failed(ctx);
}
