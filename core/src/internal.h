/*
 * internal.h - private to core/src: what the engine's files share.
 *
 * The engine is cut by job (issue 7; the map is shared/notes/engine-layout.md):
 *
 *   engine.c        the machine: per-state table, the one legal-move check,
 *                   picoacme_step(), starts and resets, failure unwinding
 *   exchange.c      one HTTP(S) exchange with the CA: connect (resolve),
 *                   send, receive + parse, retries of idempotent requests
 *   request.c       requests: JWS GET/POST into tx, the payloads of §7.3-§7.4
 *   response.c      what every answer gets (nonce, Date, problems, retries)
 *                   and the directory, account, order and certificate answers
 *   authz.c         authorizations and challenges (§7.5, §8): which type,
 *                   fallback to the next type, polling
 *   chall_http01.c  the http-01 responder and picoacme_http01_lookup()
 *   chall_alpn.c    the tls-alpn-01 responder and picoacme_tlsalpn_adopt()
 *   chall_dns01.c   dns-01: publish, propagate, clean up (RFC 2136 or a hook)
 *   record.c        the store record (TLV over store.c), picoacme_stored()
 *   ari.c           ACME Renewal Information (RFC 9773)
 *   lifecycle.c     revocation, key rollover, deactivation
 *
 * Features are chosen per file: a file whose feature is off compiles to its
 * public "unsupported" stubs, and the prototypes below turn into NULL table
 * entries or inline no-ops, so the engine itself carries no feature #if.
 */
#ifndef PICOACME_INTERNAL_H
#define PICOACME_INTERNAL_H

#include <string.h>

#include "picoacme.h"
#include "picoacme_record.h"
#include "util.h"

/* ---- contracts ---------------------------------------------------------- */

/* PICOACME_ASSERT(x): internal invariants (buffer ownership, legal state
 * moves, arguments between the engine's files). Off unless
 * PICOACME_ASSERT_ENABLE is 1 (the tests turn it on); an integrator may map
 * it to configASSERT/__ASSERT by defining PICOACME_ASSERT in the config
 * file. */
#ifndef PICOACME_ASSERT
#if PICOACME_ASSERT_ENABLE
#define PICOACME_ASSERT(x)                                                                         \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)
#else
#define PICOACME_ASSERT(x) ((void)0)
#endif
#endif

/* Buffer ownership. rx, tx and work change owner by state; the owner is
 * tracked (and checked) when PICOACME_ASSERT_ENABLE is 1.
 *
 *   buffer  owner         from .. until
 *   ------  ------------  ------------------------------------------------------
 *   tx      BUF_REQUEST   a request is written (request.c) .. its exchange ended
 *           BUF_DNS       a DNS message is written .. its answer was handled
 *           BUF_SCRATCH   DER of a certificate being read (chain check, CertID,
 *                         revocation), the store record's fields (STORE),
 *                         between exchanges only
 *   rx      BUF_EXCHANGE  exchange_begin() .. the answer's handler returned
 *           BUF_CSR       finalize: the CSR DER, until it is base64url in work
 *           BUF_RECORD    a store record is read or written; after a finished
 *                         issuance the chain stays for picoacme_result()
 *           BUF_DNS       a DNS answer
 *   work    BUF_PAYLOAD   a payload + protected header are built .. signed into tx
 *           BUF_ARI       the renewalInfo URL, directory answer .. its GET is written
 *
 * A start, a finished or failed run and picoacme_abort() free all three.
 */
enum {
    BUF_FREE = 0,
    BUF_EXCHANGE,
    BUF_REQUEST,
    BUF_PAYLOAD,
    BUF_CSR,
    BUF_RECORD,
    BUF_DNS,
    BUF_SCRATCH,
    BUF_ARI
};

#if PICOACME_ASSERT_ENABLE
/* take: the buffer is free or already this owner's */
#define BUF_TAKE(ctx, buf, owner)                                                                  \
    do {                                                                                           \
        PICOACME_ASSERT((ctx)->own.buf == BUF_FREE || (ctx)->own.buf == (owner));                  \
        (ctx)->own.buf = (owner);                                                                  \
    } while (0)
/* give: the owner hands it back */
#define BUF_GIVE(ctx, buf, owner)                                                                  \
    do {                                                                                           \
        PICOACME_ASSERT((ctx)->own.buf == (owner));                                                \
        (ctx)->own.buf = BUF_FREE;                                                                 \
    } while (0)
/* pass: from one owner straight to the next */
#define BUF_PASS(ctx, buf, from, to)                                                               \
    do {                                                                                           \
        PICOACME_ASSERT((ctx)->own.buf == (from));                                                 \
        (ctx)->own.buf = (to);                                                                     \
    } while (0)
#define BUF_IS(ctx, buf, owner) ((ctx)->own.buf == (owner))
#define BUF_FREE_ALL(ctx)       memset(&(ctx)->own, 0, sizeof(ctx)->own)
#else
#define BUF_TAKE(ctx, buf, owner)    ((void)0)
#define BUF_GIVE(ctx, buf, owner)    ((void)0)
#define BUF_PASS(ctx, buf, from, to) ((void)0)
#define BUF_IS(ctx, buf, owner)      true
#define BUF_FREE_ALL(ctx)            ((void)0)
#endif

/* Compile-time checks of option combinations that would otherwise only
 * fail at run time (lwIP's sanity #errors). */

/* Room kept in front of a POST body for the request head (request line,
 * Host, User-Agent, Accept, Content-Type, Content-Length). */
#define HEAD_ROOM 448U
/* Longest request head: method + URL path + fixed header lines. */
#define HEAD_MAX (PICOACME_URL_MAX + PICOACME_NAME_MAX + 180U)
_Static_assert(HEAD_MAX <= HEAD_ROOM, "PICOACME_URL_MAX + PICOACME_NAME_MAX leave no room for "
                                      "the request head in HEAD_ROOM");
_Static_assert(HEAD_ROOM + 1024U <= PICOACME_TX_BUF_SIZE,
               "PICOACME_TX_BUF_SIZE leaves less than 1 KiB of JWS body behind the request head");

/* Largest CSR DER (x509 csr writer): fixed part + per identifier a SAN
 * GeneralName of up to PICOACME_NAME_MAX bytes with its 4-byte header. */
#define CSR_DER_MAX (260U + PICOACME_MAX_IDENTIFIERS * (PICOACME_NAME_MAX + 4U))
_Static_assert(CSR_DER_MAX <= PICOACME_RX_BUF_SIZE, "the CSR is built in rx");
_Static_assert((CSR_DER_MAX * 4U + 2U) / 3U + 12U <= PICOACME_WORK_BUF_SIZE / 2U,
               "PICOACME_WORK_BUF_SIZE is too small for the finalize payload (CSR) of "
               "PICOACME_MAX_IDENTIFIERS names of PICOACME_NAME_MAX bytes");

/* The newAccount payload and the EAB JWS each take one half of work: the
 * EAB JWS is protected {alg, kid <= 128, url} + the account JWK + an HS256
 * MAC, all base64url. */
#define EAB_JWS_MAX ((PICOACME_URL_MAX + 160U) * 4U / 3U + 180U + 43U + 40U)
_Static_assert(!PICOACME_EAB || EAB_JWS_MAX <= PICOACME_WORK_BUF_SIZE / 2U,
               "PICOACME_WORK_BUF_SIZE is too small for an External Account Binding JWS");
/* keyChange: the inner JWS (payload {"account": URL, "oldKey": JWK},
 * protected {alg, jwk: the new JWK, url}, ES256) is signed into tx, then
 * it is the payload of the outer JWS, built in work behind which the outer
 * protected header goes; the outer JWS goes to tx behind the head room. */
#define JWK_MAX           126U
#define KEYCHANGE_JWS_MAX ((2U * PICOACME_URL_MAX + 2U * JWK_MAX + 65U) * 4U / 3U + 2U + 131U)
_Static_assert(!PICOACME_LIFECYCLE ||
                   KEYCHANGE_JWS_MAX + PICOACME_URL_MAX + PICOACME_NONCE_MAX + 80U <=
                       PICOACME_WORK_BUF_SIZE,
               "PICOACME_WORK_BUF_SIZE is too small for the key change request");
_Static_assert(!PICOACME_LIFECYCLE ||
                   HEAD_ROOM +
                           (KEYCHANGE_JWS_MAX + 2U * PICOACME_URL_MAX + PICOACME_NONCE_MAX + 160U) *
                               4U / 3U +
                           140U <=
                       PICOACME_TX_BUF_SIZE,
               "PICOACME_TX_BUF_SIZE is too small for the key change request");

/* ---- logging and failures ------------------------------------------------ */

#define LOG(ctx, lvl, ...)                                                                         \
    do {                                                                                           \
        if (PICOACME_LOG_LEVEL >= (lvl) && (ctx)->ports.log != NULL) {                             \
            (ctx)->ports.log((ctx)->ports.log_user, (lvl), __VA_ARGS__);                           \
        }                                                                                          \
    } while (0)

/* Record a failure (picoacme_last_problem()) and return err. Records only:
 * unwinding (the dns-01 clean-up, releasing sockets) is the engine's, in
 * one place. With PICOACME_ERROR_TEXT 0 the detail sentences are left out
 * of the image (the CA's own problem detail is still kept). */
#if PICOACME_ERROR_TEXT
#define fail(ctx, err, detail) engine_fail_text((ctx), (err), (detail))
#else
#define fail(ctx, err, detail) engine_fail((ctx), (err))
#endif
picoacme_err_t engine_fail(picoacme_ctx_t *ctx, picoacme_err_t err);
picoacme_err_t engine_fail_text(picoacme_ctx_t *ctx, picoacme_err_t err, const char *detail);

/* ---- the machine (engine.c) ------------------------------------------------ */

/* What the current state waits for (ctx->run.phase). */
enum { PH_IDLE = 0, PH_TIMER, PH_EXCHANGE, PH_DNS };

/* Move to st: checks the move against the state table (an illegal move is
 * a PICOACME_ERR_STATE failure) and gives the new state fresh per-request
 * retry budgets. Returns PICOACME_OK or the failure. */
picoacme_err_t goto_state(picoacme_ctx_t *ctx, picoacme_state_t st);

/* Send the current state's request again after ms (rate limit, retries):
 * the state stays, its retry budgets too. */
void retry_in(picoacme_ctx_t *ctx, uint32_t ms);
/* Wait ms (clipped to the run's time budget) before the state's next begin. */
void set_timer(picoacme_ctx_t *ctx, uint32_t ms);
/* Hand the CA's answer to the state's handler (JSON parsed for ST_JSON
 * states); on_response() calls it once the common policy let it through. */
picoacme_err_t engine_on_answer(picoacme_ctx_t *ctx);
/* The run finished: release sockets, state DONE. Returns PICOACME_OK. */
picoacme_err_t engine_done(picoacme_ctx_t *ctx);

uint32_t mono(const picoacme_ctx_t *ctx);
/* true when deadline has passed (wrap-safe) */
static inline bool expired(uint32_t now, uint32_t deadline)
{
    return (int32_t)(now - deadline) >= 0;
}
static inline uint32_t remaining(uint32_t now, uint32_t deadline)
{
    return expired(now, deadline) ? 0U : deadline - now;
}

void wait_add(picoacme_wait_t *w, picoacme_sock_t s, uint8_t ev);
void wait_timer(picoacme_wait_t *w, uint32_t ms);
void sock_close(picoacme_ctx_t *ctx, picoacme_sock_t *s);
/* Close every socket of the context (connection, listeners, DNS). */
void release(picoacme_ctx_t *ctx);

/* Copy len bytes of src to dst (cap bytes), truncated, NUL-terminated. */
void cpy(char *dst, size_t cap, const char *src, size_t len);
/* a[0, alen) equals the NUL-terminated b, ASCII case-insensitively */
bool ieq(const char *a, size_t alen, const char *b);

/* ---- exchange.c ------------------------------------------------------------ */

/* Begin the exchange of tx[tx_off, tx_end) with the host of url. */
picoacme_err_t exchange_begin(picoacme_ctx_t *ctx, const picoacme_url_t *url, bool head);
/* Drive the exchange in flight; returns PICOACME_OK (answer in conn.resp),
 * a pending code with wait filled, or a failure (recorded). A transport
 * failure of a request that may be sent again schedules a retry instead. */
picoacme_err_t exchange_pump(picoacme_ctx_t *ctx, picoacme_wait_t *wait);
void conn_close(picoacme_ctx_t *ctx);

/* ---- request.c ------------------------------------------------------------- */

picoacme_err_t request_get(picoacme_ctx_t *ctx, const char *url, bool head, const char *accept);
/* POST the JWS of the payload in work[0, payload_len), with the account's
 * JWK (newAccount) or its kid. Without a nonce, a HEAD newNonce comes first
 * (state NONCE, then back). */
picoacme_err_t request_post(picoacme_ctx_t *ctx, const char *url, size_t payload_len, bool jwk,
                            const char *accept);
picoacme_err_t begin_directory(picoacme_ctx_t *ctx);
picoacme_err_t begin_nonce(picoacme_ctx_t *ctx);
picoacme_err_t begin_account(picoacme_ctx_t *ctx);
picoacme_err_t begin_order(picoacme_ctx_t *ctx);
picoacme_err_t begin_finalize(picoacme_ctx_t *ctx);
picoacme_err_t begin_poll_order(picoacme_ctx_t *ctx);
picoacme_err_t begin_cert(picoacme_ctx_t *ctx);

/* ---- response.c ------------------------------------------------------------ */

/* What every answer gets, then the state's handler. */
picoacme_err_t on_response(picoacme_ctx_t *ctx);
const char *span(const picoacme_ctx_t *ctx, picoacme_span_t s);
picoacme_err_t get_url(picoacme_ctx_t *ctx, const picoacme_json_t *j, int obj, const char *key,
                       char *out, bool required);
bool status_is(const picoacme_json_t *j, int obj, const char *s);
/* Keep the problem document at object obj (RFC 7807, §6.7), control
 * characters escaped. */
void take_problem(picoacme_ctx_t *ctx, const picoacme_json_t *j, int obj);
/* Poll the state's resource again after the back-off (or Retry-After). */
picoacme_err_t poll_again(picoacme_ctx_t *ctx);
picoacme_err_t start_polls(picoacme_ctx_t *ctx, picoacme_state_t st);
picoacme_err_t on_nonce(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j);
/* The directory's URLs are known (read or cached): the run's next state. */
picoacme_err_t directory_next(picoacme_ctx_t *ctx);
picoacme_err_t on_account(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t on_order(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t on_finalize(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t on_poll_order(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t on_cert(picoacme_ctx_t *ctx, const picoacme_json_t *j);

/* ---- authz.c --------------------------------------------------------------- */

picoacme_err_t begin_authz(picoacme_ctx_t *ctx);
picoacme_err_t begin_challenge(picoacme_ctx_t *ctx);
picoacme_err_t on_authz(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t on_challenge(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t on_poll_authz(picoacme_ctx_t *ctx, const picoacme_json_t *j);
/* The current authorization is valid: next one, or finalize (after the
 * dns-01 clean-up when a record is out). */
picoacme_err_t authz_done(picoacme_ctx_t *ctx);
/* Refuse up front what no allowed challenge can validate. */
picoacme_err_t check_challenges(picoacme_ctx_t *ctx);
extern const char *const chall_names[PICOACME_CHALL_TYPES];

/* ---- record.c -------------------------------------------------------------- */

/* store record tags: picoacme_record.h (never renumbered) */
#define T_DIR      PICOACME_REC_DIR
#define T_ACCT_KEY PICOACME_REC_ACCT_KEY
#define T_ACCT_URL PICOACME_REC_ACCT_URL
#define T_CERT_KEY PICOACME_REC_CERT_KEY
#define T_CERT     PICOACME_REC_CERT
#define T_DIR_URLS PICOACME_REC_DIR_URLS
#define T_PROFILE  PICOACME_REC_PROFILE
#define T_ACCT_REF PICOACME_REC_ACCT_KEY_REF
#define T_CERT_REF PICOACME_REC_CERT_KEY_REF
#define T_CHAIN    PICOACME_REC_CHAIN

/* Read the stored record into rx (BUF_RECORD): *len bytes, fewer than the
 * record when it is longer than rx (the chain, last, is then cut). */
picoacme_err_t record_load(picoacme_ctx_t *ctx, size_t *len);
/* record_load(), and *total the whole record's length. */
picoacme_err_t record_read(picoacme_ctx_t *ctx, size_t *len, size_t *total);
/* The chain TLV of rx[0, len) (a record of total bytes): its value at
 * *off, *vlen bytes long (it may run past len when the record was cut). */
bool record_cert(const picoacme_ctx_t *ctx, size_t len, size_t total, size_t *off, size_t *vlen);
/* Append data[0, n) of the chain being downloaded to the new record in the
 * inactive slot (begun, with the fields, at the first call). Returns
 * PICOACME_ERR_NOSPACE beyond PICOACME_CERT_MAX or the slot, or the store's
 * error. Nothing is committed. */
picoacme_err_t record_stream(picoacme_ctx_t *ctx, const uint8_t *data, size_t n);
/* The written chain's first *n bytes (as many as rx holds) read back from
 * the slot into rx (BUF_RECORD). */
picoacme_err_t record_chain_head(picoacme_ctx_t *ctx, size_t *n);
/* Save rx[0, len) (a changed copy of the stored record's first len bytes)
 * followed by the stored record's bytes [len, total) as the new record. */
picoacme_err_t record_save(picoacme_ctx_t *ctx, size_t len, size_t total);
/* Save a record of the new account alone (directory, account URL and key,
 * the directory's URLs, profile; no certificate) as the newest record:
 * when nothing was stored, so that a failed enrolment is retried with the
 * same account instead of a new one each time. */
picoacme_err_t record_save_account(picoacme_ctx_t *ctx);
/* Forget a record being written (a new download starts). */
void record_stream_reset(picoacme_ctx_t *ctx);
/* Load the record when it belongs to cfg.directory_url; *len 0 otherwise. */
bool record_of_directory(picoacme_ctx_t *ctx, size_t *len);
bool import_key(picoacme_ctx_t *ctx, size_t len, picoacme_rec_tag_t tag, picoacme_key_slot_t slot);
/* The directory's URLs from the record rx[0, len) (when the context has
 * none yet and, with profile, the record was ordered with cfg.profile):
 * runs skip the directory GET; a 404 to one of them reads it anew. */
void record_dir_urls(picoacme_ctx_t *ctx, size_t len, bool profile);
/* The record rx[0, len) belongs to cfg.directory_url. */
bool record_dir_is(const picoacme_ctx_t *ctx, size_t len);
/* The record's account URL (rx[0, len)) into dir.account_url; false when
 * there is none that fits. */
bool record_account_url(picoacme_ctx_t *ctx, size_t len);
/* The stored leaf of the record rx[0, len) as DER in tx (BUF_SCRATCH). */
picoacme_err_t record_leaf_der(picoacme_ctx_t *ctx, size_t len, size_t *der_len);
/* State STORE: commit the record written during the download. */
/* During the certificate download, rx full: the chain's bytes decoded so
 * far go to the new record (record_stream()), rx keeps the rest. Returns
 * the failure (its text in problem.detail) or PICOACME_OK. */
picoacme_err_t cert_flush(picoacme_ctx_t *ctx);
picoacme_err_t begin_store(picoacme_ctx_t *ctx);

/* ---- feature files ---------------------------------------------------------- */

#if PICOACME_HTTP01
picoacme_err_t h01_open(picoacme_ctx_t *ctx);
void h01_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait);
#else
static inline picoacme_err_t h01_open(picoacme_ctx_t *ctx)
{
    return ctx->cfg.http01_port == 0U
               ? PICOACME_OK
               : fail(ctx, PICOACME_ERR_UNSUPPORTED,
                      "built without the http-01 responder (PICOACME_HTTP01)");
}
static inline void h01_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    (void)ctx;
    (void)wait;
}
#endif

#if PICOACME_TLSALPN01
picoacme_err_t alpn_open(picoacme_ctx_t *ctx);
void alpn_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait);
/* Build the acmeIdentifier certificate for the current authorization. */
picoacme_err_t alpn_prepare(picoacme_ctx_t *ctx, const uint8_t digest[32]);
/* End the validation connection being served (the certificate stays). */
void alpn_close(picoacme_ctx_t *ctx);
#else
static inline picoacme_err_t alpn_open(picoacme_ctx_t *ctx)
{
    return ctx->cfg.tlsalpn01_port == 0U
               ? PICOACME_OK
               : fail(ctx, PICOACME_ERR_UNSUPPORTED,
                      "built without the tls-alpn-01 responder (PICOACME_TLSALPN01)");
}
static inline void alpn_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    (void)ctx;
    (void)wait;
}
static inline picoacme_err_t alpn_prepare(picoacme_ctx_t *ctx, const uint8_t digest[32])
{
    (void)digest;
    return fail(ctx, PICOACME_ERR_UNSUPPORTED, "built without tls-alpn-01 (PICOACME_TLSALPN01)");
}
static inline void alpn_close(picoacme_ctx_t *ctx)
{
    (void)ctx;
}
#endif

#if PICOACME_DNS01
/* A TXT record of this issuance may be out there. */
static inline bool dns01_published(const picoacme_ctx_t *ctx)
{
    return ctx->run.op == PICOACME_OP_ISSUE && ctx->run.u.issue.dns.published;
}
/* The next state is the clean-up of the TXT record (its first try). */
static inline void dns01_cleanup_next(picoacme_ctx_t *ctx)
{
    ctx->dns.tries = 0;
}
static inline picoacme_sock_t *dns01_sock(picoacme_ctx_t *ctx)
{
    return &ctx->dns.sock;
}
/* dns-01 for the current authorization: TXT name and value, then publish. */
picoacme_err_t dns01_prepare(picoacme_ctx_t *ctx, const uint8_t digest[32]);
picoacme_err_t dns01_begin(picoacme_ctx_t *ctx);
picoacme_err_t dns01_pump(picoacme_ctx_t *ctx, picoacme_wait_t *wait);
#define DNS01_BEGIN dns01_begin
#else
static inline bool dns01_published(const picoacme_ctx_t *ctx)
{
    (void)ctx;
    return false;
}
static inline void dns01_cleanup_next(picoacme_ctx_t *ctx)
{
    (void)ctx;
}
static inline picoacme_sock_t *dns01_sock(picoacme_ctx_t *ctx)
{
    (void)ctx;
    return NULL;
}
static inline picoacme_err_t dns01_prepare(picoacme_ctx_t *ctx, const uint8_t digest[32])
{
    (void)digest;
    return fail(ctx, PICOACME_ERR_UNSUPPORTED, "built without dns-01 (PICOACME_DNS01)");
}
static inline picoacme_err_t dns01_pump(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    (void)wait;
    return fail(ctx, PICOACME_ERR_STATE, "built without dns-01 (PICOACME_DNS01)");
}
#define DNS01_BEGIN NULL
#endif

#if PICOACME_ARI
/* The directory's renewalInfo URL into dir (a failure for an ARI run only). */
picoacme_err_t ari_on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j);
/* An ARI run with the directory known: renewalInfo URL "/" CertID into
 * work, then the GET (or done when the CA offers no ARI). */
picoacme_err_t ari_after_directory(picoacme_ctx_t *ctx);
picoacme_err_t ari_begin(picoacme_ctx_t *ctx);
picoacme_err_t ari_on_renewal_info(picoacme_ctx_t *ctx, const picoacme_json_t *j);
/* A renewal at the same CA names the stored certificate (§5). */
bool ari_replaces_prepare(picoacme_ctx_t *ctx, size_t record_len);
/* "replaces": <CertID> in the newOrder, when the run carries one. */
void ari_order_member(picoacme_ctx_t *ctx, picoacme_jw_t *w);
/* §5: alreadyReplaced or 409 to a newOrder with "replaces": order without. */
bool ari_order_refused(picoacme_ctx_t *ctx);
/* The window of the stored certificate c, when it was asked about. */
void ari_stored(const picoacme_ctx_t *ctx, const picoacme_x509_t *c, picoacme_stored_info_t *info);
#define ARI_BEGIN     ari_begin
#define ARI_ON_ANSWER ari_on_renewal_info
#else
static inline picoacme_err_t ari_on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    ctx->dir.ari_offered = picoacme_json_member(j, 0, "renewalInfo") >= 0;
    return PICOACME_OK;
}
static inline picoacme_err_t ari_after_directory(picoacme_ctx_t *ctx)
{
    return fail(ctx, PICOACME_ERR_STATE, "built without ARI (PICOACME_ARI)");
}
static inline bool ari_replaces_prepare(picoacme_ctx_t *ctx, size_t record_len)
{
    (void)ctx;
    (void)record_len;
    return false;
}
static inline void ari_order_member(picoacme_ctx_t *ctx, picoacme_jw_t *w)
{
    (void)ctx;
    (void)w;
}
static inline bool ari_order_refused(picoacme_ctx_t *ctx)
{
    (void)ctx;
    return false;
}
static inline void ari_stored(const picoacme_ctx_t *ctx, const picoacme_x509_t *c,
                              picoacme_stored_info_t *info)
{
    (void)ctx;
    (void)c;
    (void)info;
}
#define ARI_BEGIN     NULL
#define ARI_ON_ANSWER NULL
#endif

#if PICOACME_LIFECYCLE
/* The directory of a lifecycle run: the revokeCert / keyChange URL. */
picoacme_err_t lc_on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t lc_begin_revoke(picoacme_ctx_t *ctx);
picoacme_err_t lc_begin_key_change(picoacme_ctx_t *ctx);
picoacme_err_t lc_begin_deactivate(picoacme_ctx_t *ctx);
picoacme_err_t lc_on_revoked(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t lc_on_key_changed(picoacme_ctx_t *ctx, const picoacme_json_t *j);
picoacme_err_t lc_on_deactivated(picoacme_ctx_t *ctx, const picoacme_json_t *j);
#define LC_BEGIN_REVOKE     lc_begin_revoke
#define LC_BEGIN_KEY_CHANGE lc_begin_key_change
#define LC_BEGIN_DEACTIVATE lc_begin_deactivate
#define LC_ON_REVOKED       lc_on_revoked
#define LC_ON_KEY_CHANGED   lc_on_key_changed
#define LC_ON_DEACTIVATED   lc_on_deactivated
#else
static inline picoacme_err_t lc_on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    (void)j;
    return fail(ctx, PICOACME_ERR_STATE, "built without lifecycle calls (PICOACME_LIFECYCLE)");
}
#define LC_BEGIN_REVOKE     NULL
#define LC_BEGIN_KEY_CHANGE NULL
#define LC_BEGIN_DEACTIVATE NULL
#define LC_ON_REVOKED       NULL
#define LC_ON_KEY_CHANGED   NULL
#define LC_ON_DEACTIVATED   NULL
#endif

#if PICOACME_EAB
/* The externalAccountBinding member's JWS (§7.3.4) into out. */
picoacme_err_t eab_jws(picoacme_ctx_t *ctx, char *out, size_t cap, size_t *out_len);
#endif

/* Reset for a new run of op: release sockets, clear the run (one memset),
 * start the time budget. Used by every start function. */
void run_reset(picoacme_ctx_t *ctx, picoacme_op_t op);

#endif
