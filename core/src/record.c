/*
 * record.c - the store record: what survives a reboot, as TLVs (tag u8,
 * length u16 little endian, value) inside one A/B store record (store.c):
 * the directory URL, the account URL and key, the certificate key and the
 * chain (always last). The record is written into the inactive slot while
 * the chain is downloaded: the fields when the first chain bytes come, then
 * the chain as rx fills (PICOACME_REC_CHAIN: its value runs to the record's
 * end, so its length need not be known up front); the leaf is read back and
 * checked, and the STORE state writes the slot's header last, so a power
 * cut leaves the old record or the new one. Records with the older
 * PICOACME_REC_CERT (a 16-bit length) are read too. A record longer than rx
 * is read as far as rx goes (the leaf comes first in the chain) and the
 * chain in pieces (picoacme_stored_chain_read()). picoacme_stored() reads
 * it without touching keys; picoacme_stored_load_keys() imports them into
 * the crypto port.
 */
#include "internal.h"

#include "picoacme_store.h"

static size_t tlv_put(uint8_t *p, uint8_t tag, const void *v, size_t len)
{
    p[0] = tag;
    p[1] = (uint8_t)(len & 0xFFU);
    p[2] = (uint8_t)(len >> 8);
    if (v != NULL) {
        memcpy(p + 3, v, len);
    }
    return 3U + len;
}

/* Is the TLV at rec[p] (tag t) the chain, and does it run to the end? */
static bool is_chain(uint8_t t, picoacme_rec_tag_t tag)
{
    return (t == (uint8_t)T_CERT || t == (uint8_t)T_CHAIN) && (tag == T_CERT || tag == T_CHAIN);
}

picoacme_err_t picoacme_record_find(const uint8_t *rec, size_t len, picoacme_rec_tag_t tag,
                                    size_t *off, size_t *vlen)
{
    size_t p = 0;
    if (rec == NULL || off == NULL || vlen == NULL) {
        return PICOACME_ERR_PARAM;
    }
    while (p + 3U <= len) {
        size_t l = (size_t)rec[p + 1U] | ((size_t)rec[p + 2U] << 8);
        if (rec[p] == (uint8_t)T_CHAIN) {
            l = len - p - 3U; /* to the end: the last TLV */
        }
        if (l > len - p - 3U) {
            return PICOACME_ERR_PARSE;
        }
        if (rec[p] == (uint8_t)tag || is_chain(rec[p], tag)) {
            *off = p + 3U;
            *vlen = l;
            return PICOACME_OK;
        }
        if (rec[p] == (uint8_t)T_CHAIN) {
            break;
        }
        p += 3U + l;
    }
    return PICOACME_ERR_NOT_FOUND;
}

bool record_cert(const picoacme_ctx_t *ctx, size_t len, size_t total, size_t *off, size_t *vlen)
{
    size_t p = 0;
    while (p + 3U <= len) {
        size_t l = (size_t)ctx->rx[p + 1U] | ((size_t)ctx->rx[p + 2U] << 8);
        if (ctx->rx[p] == (uint8_t)T_CHAIN) {
            l = total - p - 3U; /* to the record's end, maybe past len */
        }
        if (is_chain(ctx->rx[p], T_CERT)) {
            *off = p + 3U;
            *vlen = l;
            return true;
        }
        if (l > len - p - 3U) {
            return false;
        }
        p += 3U + l;
    }
    return false;
}

picoacme_err_t record_read(picoacme_ctx_t *ctx, size_t *len, size_t *total)
{
    BUF_TAKE(ctx, rx, BUF_RECORD);
    *len = 0;
    *total = 0;
    if (ctx->ports.storage == NULL) {
        return PICOACME_ERR_NOT_FOUND;
    }
    /* a record longer than rx (a long chain, streamed to the store) is
     * read as far as rx goes: the chain comes last */
    return picoacme_store_read(ctx->ports.storage, 0U, ctx->rx, sizeof ctx->rx, len, total);
}

picoacme_err_t record_load(picoacme_ctx_t *ctx, size_t *len)
{
    size_t total = 0;
    return record_read(ctx, len, &total);
}

bool record_dir_is(const picoacme_ctx_t *ctx, size_t len)
{
    size_t off = 0;
    size_t vl = 0;
    size_t dl = util_strnlen(ctx->cfg.directory_url, PICOACME_URL_MAX);
    return picoacme_record_find(ctx->rx, len, T_DIR, &off, &vl) == PICOACME_OK && vl == dl &&
           memcmp(ctx->rx + off, ctx->cfg.directory_url, dl) == 0;
}

bool record_of_directory(picoacme_ctx_t *ctx, size_t *len)
{
    if (record_load(ctx, len) != PICOACME_OK) {
        *len = 0;
        return false;
    }
    return record_dir_is(ctx, *len);
}

bool record_account_url(picoacme_ctx_t *ctx, size_t len)
{
    size_t off = 0;
    size_t vl = 0;
    if (picoacme_record_find(ctx->rx, len, T_ACCT_URL, &off, &vl) != PICOACME_OK || vl == 0U ||
        vl >= sizeof ctx->dir.account_url) {
        return false;
    }
    memcpy(ctx->dir.account_url, ctx->rx + off, vl);
    ctx->dir.account_url[vl] = '\0';
    return true;
}

/* The record rx[0, len) was ordered with cfg.profile (both none counts). */
static bool same_profile(const picoacme_ctx_t *ctx, size_t len)
{
    size_t off = 0;
    size_t vl = 0;
    const char *p = ctx->cfg.profile;
    size_t pl = p != NULL ? util_strnlen(p, PICOACME_PROFILE_MAX) : 0U;
    if (picoacme_record_find(ctx->rx, len, T_PROFILE, &off, &vl) != PICOACME_OK) {
        vl = 0;
    }
    return vl == pl && (pl == 0U || memcmp(ctx->rx + off, p, pl) == 0);
}

/* The next space-separated URL of v[*pos, vl) into out. */
static bool take_url(const uint8_t *v, size_t vl, size_t *pos, char *out)
{
    size_t s = *pos;
    size_t e = s;
    if (s > vl) {
        return false;
    }
    while (e < vl && v[e] != ' ') {
        e++;
    }
    if (e - s >= PICOACME_URL_MAX) {
        return false;
    }
    memcpy(out, v + s, e - s);
    out[e - s] = '\0';
    *pos = e + 1U;
    return true;
}

void record_dir_urls(picoacme_ctx_t *ctx, size_t len, bool profile)
{
    picoacme_dir_t *d = &ctx->dir;
    char ri[PICOACME_URL_MAX];
    size_t off = 0;
    size_t vl = 0;
    size_t pos = 0;
    if (d->loaded || (profile && !same_profile(ctx, len)) ||
        picoacme_record_find(ctx->rx, len, T_DIR_URLS, &off, &vl) != PICOACME_OK) {
        return;
    }
    if (!take_url(ctx->rx + off, vl, &pos, d->new_nonce) ||
        !take_url(ctx->rx + off, vl, &pos, d->new_account) ||
        !take_url(ctx->rx + off, vl, &pos, d->new_order) ||
        !take_url(ctx->rx + off, vl, &pos, ri) || d->new_nonce[0] == '\0' ||
        d->new_order[0] == '\0') {
        return;
    }
#if PICOACME_ARI
    memcpy(d->renewal_info, ri, sizeof ri);
#endif
    d->ari_offered = ri[0] != '\0';
    d->loaded = true;
    d->from_record = true;
    d->profile_listed = true; /* the CA issued with it */
    LOG(ctx, PICOACME_LOG_LVL_INF, "directory %s (stored)", ctx->cfg.directory_url);
}

/* The record's tag for the reference of the key stored under tag. */
static picoacme_rec_tag_t ref_tag(picoacme_rec_tag_t tag)
{
    return tag == T_ACCT_KEY ? T_ACCT_REF : T_CERT_REF;
}

/* Does rx[0, len) hold the key of tag, as a scalar or a reference? */
static bool has_key(const picoacme_ctx_t *ctx, size_t len, picoacme_rec_tag_t tag)
{
    size_t off = 0;
    size_t vl = 0;
    if (picoacme_record_find(ctx->rx, len, tag, &off, &vl) == PICOACME_OK && vl == 32U) {
        return true;
    }
    return picoacme_record_find(ctx->rx, len, ref_tag(tag), &off, &vl) == PICOACME_OK && vl > 0U &&
           vl <= PICOACME_KEY_REF_MAX;
}

bool import_key(picoacme_ctx_t *ctx, size_t len, picoacme_rec_tag_t tag, picoacme_key_slot_t slot)
{
    const picoacme_crypto_t *c = ctx->ports.crypto;
    size_t off = 0;
    size_t vl = 0;
    if (picoacme_record_find(ctx->rx, len, tag, &off, &vl) == PICOACME_OK && vl == 32U) {
        return c->key_import(c->user, slot, ctx->rx + off) == PICOACME_OK;
    }
    /* a key kept in hardware: the record names it */
    return c->key_ref_load != NULL &&
           picoacme_record_find(ctx->rx, len, ref_tag(tag), &off, &vl) == PICOACME_OK && vl > 0U &&
           vl <= PICOACME_KEY_REF_MAX &&
           c->key_ref_load(c->user, slot, ctx->rx + off, vl) == PICOACME_OK;
}

picoacme_err_t record_leaf_der(picoacme_ctx_t *ctx, size_t len, size_t *der_len)
{
    size_t off = 0;
    size_t vl = 0;
    size_t pos = 0;
    if (!record_cert(ctx, len, len, &off, &vl)) {
        return PICOACME_ERR_NOT_FOUND;
    }
    vl = vl < len - off ? vl : len - off; /* the leaf comes first */
    BUF_TAKE(ctx, tx, BUF_SCRATCH);
    return picoacme_pem_next((const char *)ctx->rx + off, vl, &pos, ctx->tx, sizeof ctx->tx,
                             der_len);
}

static const char *renewal_info(const picoacme_ctx_t *ctx)
{
#if PICOACME_ARI
    return ctx->dir.renewal_info;
#else
    (void)ctx;
    return "";
#endif
}

/* One TLV to the record: its header, then v[0, len) (v NULL: the header
 * only, the value follows). */
static picoacme_err_t put_tlv(picoacme_store_writer_t *w, picoacme_rec_tag_t tag, const void *v,
                              size_t len)
{
    uint8_t h[3];
    (void)tlv_put(h, (uint8_t)tag, NULL, len);
    picoacme_err_t e = picoacme_store_append(w, h, sizeof h);
    return e == PICOACME_OK && v != NULL ? picoacme_store_append(w, v, len) : e;
}

/* The directory's URLs TLV: newNonce, newAccount, newOrder, renewalInfo,
 * one space between them. */
static picoacme_err_t put_dir_urls(const picoacme_ctx_t *ctx, picoacme_store_writer_t *w)
{
    const char *u[4] = {ctx->dir.new_nonce, ctx->dir.new_account, ctx->dir.new_order,
                        renewal_info(ctx)};
    size_t l[4];
    size_t n = 3U;
    for (size_t i = 0; i < 4U; i++) {
        l[i] = util_strnlen(u[i], PICOACME_URL_MAX);
        n += l[i];
    }
    picoacme_err_t e = put_tlv(w, T_DIR_URLS, NULL, n);
    for (size_t i = 0; i < 4U && e == PICOACME_OK; i++) {
        e = picoacme_store_append(w, (const uint8_t *)u[i], l[i]);
        if (e == PICOACME_OK && i < 3U) {
            e = picoacme_store_append(w, (const uint8_t *)" ", 1U);
        }
    }
    return e;
}

/* The TLV of slot's key for the record into tlv (scalar tag, or ref_tag(tag)
 * for a key kept in hardware); its length, 0 when the slot has none. */
static size_t key_tlv(const picoacme_crypto_t *c, picoacme_key_slot_t slot, picoacme_rec_tag_t tag,
                      uint8_t tlv[3U + PICOACME_KEY_REF_MAX])
{
    uint8_t v[PICOACME_KEY_REF_MAX];
    size_t vl = 0;
    size_t n = 0;
    if (c->key_export(c->user, slot, v) == PICOACME_OK) {
        n = tlv_put(tlv, (uint8_t)tag, v, 32U);
    } else if (c->key_ref != NULL && c->key_ref(c->user, slot, v, &vl) == PICOACME_OK && vl > 0U &&
               vl <= PICOACME_KEY_REF_MAX) {
        n = tlv_put(tlv, (uint8_t)ref_tag(tag), v, vl);
    }
    memset(v, 0, sizeof v);
    return n;
}

/* The keys' TLVs (key_tlv()), wiped from the stack after; the certificate
 * key only with cert. */
static picoacme_err_t put_keys(const picoacme_ctx_t *ctx, picoacme_store_writer_t *w, bool cert)
{
    const picoacme_crypto_t *c = ctx->ports.crypto;
    uint8_t k[3U + PICOACME_KEY_REF_MAX];
    size_t n = key_tlv(c, PICOACME_KEY_ACCOUNT, T_ACCT_KEY, k);
    picoacme_err_t e = picoacme_store_append(w, k, n);
    if (e == PICOACME_OK && cert) {
        n = key_tlv(c, PICOACME_KEY_CERT, T_CERT_KEY, k);
        e = picoacme_store_append(w, k, n);
    }
    memset(k, 0, sizeof k);
    return e;
}

/* A new record in the inactive slot: the fields (directory, account, the
 * keys, the directory's URLs, profile); nothing is the newest record
 * before picoacme_store_commit(). */
static picoacme_err_t put_fields(const picoacme_ctx_t *ctx, picoacme_store_writer_t *w, bool cert)
{
    const char *pf = ctx->cfg.profile;
    size_t pl = pf != NULL ? util_strnlen(pf, PICOACME_PROFILE_MAX) : 0U;
    picoacme_err_t e = picoacme_store_begin(w, ctx->ports.storage);
    if (e == PICOACME_OK) {
        e = put_tlv(w, T_DIR, ctx->cfg.directory_url,
                    util_strnlen(ctx->cfg.directory_url, PICOACME_URL_MAX));
    }
    if (e == PICOACME_OK) {
        e = put_tlv(w, T_ACCT_URL, ctx->dir.account_url,
                    util_strnlen(ctx->dir.account_url, sizeof ctx->dir.account_url));
    }
    if (e == PICOACME_OK) {
        e = put_keys(ctx, w, cert);
    }
    if (e == PICOACME_OK) {
        e = put_dir_urls(ctx, w);
    }
    if (e == PICOACME_OK && pl > 0U) {
        e = put_tlv(w, T_PROFILE, pf, pl);
    }
    return e;
}

/* The fields, then the chain's TLV header; the chain follows as it
 * arrives, begin_store() commits. */
static picoacme_err_t stream_begin(picoacme_ctx_t *ctx)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    picoacme_store_writer_t *w = &is->store;
    picoacme_err_t e = put_fields(ctx, w, true);
    if (e == PICOACME_OK) {
        e = put_tlv(w, T_CHAIN, NULL, 0U); /* runs to the record's end */
    }
    is->chain_at = w->len;
    is->chain_len = 0;
    return e;
}

picoacme_err_t record_stream(picoacme_ctx_t *ctx, const uint8_t *data, size_t n)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    picoacme_err_t e = PICOACME_OK;
    if (n > PICOACME_CERT_MAX || is->chain_len > PICOACME_CERT_MAX - n) {
        is->store.open = false;
        return PICOACME_ERR_NOSPACE;
    }
    if (!is->store.open) {
        e = stream_begin(ctx);
    }
    if (e == PICOACME_OK) {
        e = picoacme_store_append(&is->store, data, n);
    }
    is->chain_len += e == PICOACME_OK ? n : 0U;
    return e;
}

picoacme_err_t record_chain_head(picoacme_ctx_t *ctx, size_t *n)
{
    const picoacme_issue_run_t *is = &ctx->run.u.issue;
    PICOACME_ASSERT(BUF_IS(ctx, rx, BUF_RECORD));
    *n = is->chain_len < sizeof ctx->rx ? is->chain_len : sizeof ctx->rx;
    return picoacme_store_peek(&is->store, is->chain_at, ctx->rx, *n);
}

void record_stream_reset(picoacme_ctx_t *ctx)
{
    ctx->run.u.issue.store.open = false;
    ctx->run.u.issue.chain_len = 0;
}

picoacme_err_t record_save_account(picoacme_ctx_t *ctx)
{
    picoacme_store_writer_t *w = &ctx->run.u.issue.store;
    picoacme_err_t e;
    PICOACME_ASSERT(!w->open); /* before the chain's record */
    e = put_fields(ctx, w, false);
    if (e == PICOACME_OK) {
        e = picoacme_store_commit(w);
    }
    w->open = false;
    return e;
}

/* State STORE: the record written while the chain was downloaded, its
 * leaf checked (on_cert()), becomes the newest one: its header is written
 * last. The chain's first part stays in rx for picoacme_result(). */
picoacme_err_t begin_store(picoacme_ctx_t *ctx)
{
    picoacme_err_t e = picoacme_store_commit(&ctx->run.u.issue.store);
    PICOACME_ASSERT(BUF_IS(ctx, rx, BUF_RECORD));
    if (e != PICOACME_OK) {
        return fail(ctx, e, "writing the certificate to flash failed");
    }
    LOG(ctx, PICOACME_LOG_LVL_INF, "stored %u bytes of chain",
        (unsigned)ctx->run.u.issue.chain_len);
    return engine_done(ctx);
}

picoacme_err_t record_save(picoacme_ctx_t *ctx, size_t len, size_t total)
{
    const picoacme_storage_t *st = ctx->ports.storage;
    picoacme_store_writer_t w;
    size_t n = 0;
    size_t t = 0;
    picoacme_err_t e = picoacme_store_begin(&w, st);
    if (e == PICOACME_OK) {
        e = picoacme_store_append(&w, ctx->rx, len);
    }
    /* the rest (a long chain) from the stored record, rx at a time: the
     * record being written is not the newest before its commit */
    for (size_t off = len; e == PICOACME_OK && off < total; off += n) {
        e = picoacme_store_read(st, off, ctx->rx, sizeof ctx->rx, &n, &t);
        if (e == PICOACME_OK && (n == 0U || t != total)) {
            e = PICOACME_ERR_STORAGE;
        }
        if (e == PICOACME_OK) {
            e = picoacme_store_append(&w, ctx->rx, n);
        }
    }
    return e == PICOACME_OK ? picoacme_store_commit(&w) : e;
}

/* ---- reading it back ----------------------------------------------------------- */

picoacme_err_t picoacme_stored(picoacme_ctx_t *ctx, picoacme_stored_info_t *info)
{
    size_t len = 0;
    size_t off = 0;
    size_t vl = 0;
    size_t der_len = 0;
    size_t total = 0;
    picoacme_x509_t c;
    picoacme_err_t e;
    if (ctx == NULL || info == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(info, 0, sizeof *info);
    e = record_read(ctx, &len, &total);
    if (e == PICOACME_OK) {
        e = record_leaf_der(ctx, len, &der_len);
        if (e != PICOACME_ERR_NOT_FOUND) {
            e = e == PICOACME_OK && picoacme_x509_parse(ctx->tx, der_len, &c) == PICOACME_OK
                    ? PICOACME_OK
                    : PICOACME_ERR_PARSE;
            BUF_GIVE(ctx, tx, BUF_SCRATCH);
        }
    }
    if (e != PICOACME_OK) {
        return e;
    }
    (void)record_cert(ctx, len, total, &off, &vl);
    /* a chain longer than rx stays in flash: picoacme_stored_chain_read() */
    info->chain_pem = vl <= len - off ? (const char *)ctx->rx + off : NULL;
    info->chain_len = vl;
    info->not_before_s = c.not_before_s;
    info->not_after_s = c.not_after_s;
    info->renew_at_s = picoacme_renew_at(c.not_before_s, c.not_after_s);
    info->has_account = has_key(ctx, len, T_ACCT_KEY) &&
                        picoacme_record_find(ctx->rx, len, T_ACCT_URL, &off, &vl) == PICOACME_OK;
    ari_stored(ctx, &c, info);
    return PICOACME_OK;
}

picoacme_err_t picoacme_stored_load_keys(picoacme_ctx_t *ctx)
{
    size_t len = 0;
    picoacme_err_t e;
    if (ctx == NULL) {
        return PICOACME_ERR_PARAM;
    }
    e = record_load(ctx, &len);
    if (e == PICOACME_OK) {
        e = has_key(ctx, len, T_CERT_KEY) ? PICOACME_OK : PICOACME_ERR_NOT_FOUND;
    }
    if (e == PICOACME_OK) {
        e = import_key(ctx, len, T_CERT_KEY, PICOACME_KEY_CERT) ? PICOACME_OK : PICOACME_ERR_CRYPTO;
        (void)import_key(ctx, len, T_ACCT_KEY, PICOACME_KEY_ACCOUNT);
    }
    memset(ctx->rx, 0, sizeof ctx->rx); /* the record holds the keys */
    BUF_GIVE(ctx, rx, BUF_RECORD);
    return e;
}

/* Where the chain's value starts in the stored record: the TLV headers are
 * walked in flash, 3 bytes at a time. */
static picoacme_err_t chain_locate(const picoacme_storage_t *st, size_t *off, size_t *vl)
{
    uint8_t h[3];
    size_t p = 0;
    size_t n = 0;
    size_t total = 0;
    for (;;) {
        picoacme_err_t e = picoacme_store_read(st, p, h, sizeof h, &n, &total);
        if (e != PICOACME_OK) {
            return e;
        }
        if (n < sizeof h) {
            return PICOACME_ERR_NOT_FOUND;
        }
        *vl = h[0] == (uint8_t)T_CHAIN ? total - p - 3U : ((size_t)h[1] | ((size_t)h[2] << 8));
        if (*vl > total - p - 3U) {
            return PICOACME_ERR_PARSE;
        }
        if (is_chain(h[0], T_CERT)) {
            *off = p + 3U;
            return PICOACME_OK;
        }
        p += 3U + *vl;
    }
}

picoacme_err_t picoacme_stored_chain_read(picoacme_ctx_t *ctx, size_t off, uint8_t *buf, size_t cap,
                                          size_t *n, size_t *chain_len)
{
    size_t at = 0;
    size_t vl = 0;
    size_t total = 0;
    picoacme_err_t e;
    if (ctx == NULL || n == NULL || chain_len == NULL || (buf == NULL && cap != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *n = 0;
    *chain_len = 0;
    if (ctx->ports.storage == NULL) {
        return PICOACME_ERR_NOT_FOUND;
    }
    e = chain_locate(ctx->ports.storage, &at, &vl);
    if (e != PICOACME_OK) {
        return e;
    }
    *chain_len = vl;
    if (off >= vl) {
        return PICOACME_OK;
    }
    cap = cap < vl - off ? cap : vl - off;
    return picoacme_store_read(ctx->ports.storage, at + off, buf, cap, n, &total);
}
