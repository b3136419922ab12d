/*
 * record.c - the store record: what survives a reboot, as TLVs (tag u8,
 * length u16 little endian, value) inside one A/B store record (store.c):
 * the directory URL, the account URL and key, the certificate key and the
 * chain (always last). The STORE state streams it to the store (the fields
 * from tx, the chain from the download in rx; the header goes last), so a
 * power cut leaves the old record or the new one. A record longer than rx
 * is read as far as rx goes (the leaf comes first in the chain) and the
 * chain in pieces (picoacme_stored_chain_read()). picoacme_stored() reads it without touching keys;
 * picoacme_stored_load_keys() imports them into the crypto port.
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

picoacme_err_t picoacme_record_find(const uint8_t *rec, size_t len, picoacme_rec_tag_t tag,
                                    size_t *off, size_t *vlen)
{
    size_t p = 0;
    if (rec == NULL || off == NULL || vlen == NULL) {
        return PICOACME_ERR_PARAM;
    }
    while (p + 3U <= len) {
        size_t l = (size_t)rec[p + 1U] | ((size_t)rec[p + 2U] << 8);
        if (l > len - p - 3U) {
            return PICOACME_ERR_PARSE;
        }
        if (rec[p] == (uint8_t)tag) {
            *off = p + 3U;
            *vlen = l;
            return PICOACME_OK;
        }
        p += 3U + l;
    }
    return PICOACME_ERR_NOT_FOUND;
}

bool record_cert(const picoacme_ctx_t *ctx, size_t len, size_t *off, size_t *vlen)
{
    size_t p = 0;
    while (p + 3U <= len) {
        size_t l = (size_t)ctx->rx[p + 1U] | ((size_t)ctx->rx[p + 2U] << 8);
        if (ctx->rx[p] == (uint8_t)T_CERT) {
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

picoacme_err_t record_load(picoacme_ctx_t *ctx, size_t *len)
{
    size_t total = 0;
    BUF_TAKE(ctx, rx, BUF_RECORD);
    *len = 0;
    if (ctx->ports.storage == NULL) {
        return PICOACME_ERR_NOT_FOUND;
    }
    /* a record longer than rx (a long chain, streamed to the store) is
     * read as far as rx goes: the chain comes last */
    return picoacme_store_read(ctx->ports.storage, 0U, ctx->rx, sizeof ctx->rx, len, &total);
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
    if (!record_cert(ctx, len, &off, &vl)) {
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

/* The directory's URLs TLV at p (or only its size, p NULL). */
static size_t put_dir_urls(const picoacme_ctx_t *ctx, uint8_t *p)
{
    const char *u[4] = {ctx->dir.new_nonce, ctx->dir.new_account, ctx->dir.new_order,
                        renewal_info(ctx)};
    size_t n = 3U;
    for (size_t i = 0; i < 4U; i++) {
        size_t l = util_strnlen(u[i], PICOACME_URL_MAX);
        if (p != NULL) {
            memcpy(p + n, u[i], l);
            p[n + l] = ' ';
        }
        n += l + (i < 3U ? 1U : 0U);
    }
    if (p != NULL) {
        (void)tlv_put(p, T_DIR_URLS, NULL, n - 3U);
    }
    return n;
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

/* The TLVs in front of the chain: directory, account, the keys' TLVs
 * (akey[0, al), ckey[0, cl) from key_tlv()), directory URLs, profile;
 * returns their size (p NULL: only the size). */
static size_t put_fields(const picoacme_ctx_t *ctx, uint8_t *p, const uint8_t *akey, size_t al,
                         const uint8_t *ckey, size_t cl)
{
    const char *pf = ctx->cfg.profile;
    size_t dir_len = util_strnlen(ctx->cfg.directory_url, PICOACME_URL_MAX);
    size_t acct_len = util_strnlen(ctx->dir.account_url, sizeof ctx->dir.account_url);
    size_t pl = pf != NULL ? util_strnlen(pf, PICOACME_PROFILE_MAX) : 0U;
    size_t n = 0;
    if (p == NULL) {
        return 3U + dir_len + 3U + acct_len + al + cl + put_dir_urls(ctx, NULL) +
               (pl > 0U ? 3U + pl : 0U);
    }
    n += tlv_put(p + n, T_DIR, ctx->cfg.directory_url, dir_len);
    n += tlv_put(p + n, T_ACCT_URL, ctx->dir.account_url, acct_len);
    memcpy(p + n, akey, al);
    n += al;
    memcpy(p + n, ckey, cl);
    n += cl;
    n += put_dir_urls(ctx, p + n);
    n += pl > 0U ? tlv_put(p + n, T_PROFILE, pf, pl) : 0U;
    return n;
}

/* The record through the streaming writer: the fields (in tx) first, then
 * the chain's TLV header and the chain from where it was downloaded. */
static picoacme_err_t write_record(picoacme_ctx_t *ctx, size_t fields, const uint8_t *chain,
                                   size_t chain_len)
{
    picoacme_store_writer_t w;
    picoacme_err_t e = picoacme_store_begin(&w, ctx->ports.storage);
    if (e == PICOACME_OK) {
        e = picoacme_store_append(&w, ctx->tx, fields);
    }
    if (e == PICOACME_OK) {
        e = picoacme_store_append(&w, chain, chain_len);
    }
    return e == PICOACME_OK ? picoacme_store_commit(&w) : e;
}

/* State STORE: the record of this issuance replaces the stored one. The
 * chain sits in rx (the download) and goes to the store from there; the
 * fields are built in tx, in front of it in the record. */
picoacme_err_t begin_store(picoacme_ctx_t *ctx)
{
    const picoacme_crypto_t *c = ctx->ports.crypto;
    const picoacme_http_resp_t *resp = &ctx->conn.resp;
    uint8_t akey[3U + PICOACME_KEY_REF_MAX];
    uint8_t ckey[3U + PICOACME_KEY_REF_MAX];
    size_t al = key_tlv(c, PICOACME_KEY_ACCOUNT, T_ACCT_KEY, akey);
    size_t cl = key_tlv(c, PICOACME_KEY_CERT, T_CERT_KEY, ckey);
    size_t chain_len = resp->body.len;
    size_t n = put_fields(ctx, NULL, akey, al, ckey, cl) + 3U; /* + the chain's TLV header */
    picoacme_err_t e = PICOACME_ERR_NOSPACE;

    PICOACME_ASSERT(BUF_IS(ctx, rx, BUF_RECORD));
    BUF_TAKE(ctx, tx, BUF_SCRATCH);
    if (n <= sizeof ctx->tx) { /* chain_len: u16, as its TLV length */
        n = put_fields(ctx, ctx->tx, akey, al, ckey, cl);
        (void)tlv_put(ctx->tx + n, T_CERT, NULL, chain_len); /* its header only */
        n += 3U;
        e = write_record(ctx, n, ctx->rx + resp->body.off, chain_len);
        /* keys do not stay in RAM longer than needed */
        memset(ctx->tx, 0, n);
    }
    BUF_GIVE(ctx, tx, BUF_SCRATCH);
    memset(akey, 0, sizeof akey);
    memset(ckey, 0, sizeof ckey);
    if (e != PICOACME_OK) {
        return fail(ctx, e,
                    e == PICOACME_ERR_NOSPACE ? "the record does not fit the store (or its fields "
                                                "PICOACME_TX_BUF_SIZE)"
                                              : "writing the certificate to flash failed");
    }
    LOG(ctx, PICOACME_LOG_LVL_INF, "stored %u bytes of chain", (unsigned)chain_len);
    /* the chain stays in rx for picoacme_result() */
    return engine_done(ctx);
}

/* ---- reading it back ----------------------------------------------------------- */

picoacme_err_t picoacme_stored(picoacme_ctx_t *ctx, picoacme_stored_info_t *info)
{
    size_t len = 0;
    size_t off = 0;
    size_t vl = 0;
    size_t der_len = 0;
    picoacme_x509_t c;
    picoacme_err_t e;
    if (ctx == NULL || info == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(info, 0, sizeof *info);
    e = record_load(ctx, &len);
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
    (void)record_cert(ctx, len, &off, &vl);
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
        *vl = (size_t)h[1] | ((size_t)h[2] << 8);
        if (*vl > total - p - 3U) {
            return PICOACME_ERR_PARSE;
        }
        if (h[0] == (uint8_t)T_CERT) {
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
