/*
 * fuzz_store.c - libFuzzer target for core/src/store.c, the power-fail-safe
 * A/B record store, on a fake NOR flash that fails where the input says.
 *
 *   byte 0   the geometry: erase block 16, 24, 64, 256 or 512 bytes (b % 5)
 *            and the region 2..5 blocks plus 0..15 bytes of tail (b / 5)
 *   then     operations, one byte each plus arguments:
 *     0 save   len (2 bytes, may be over the capacity), a pattern byte
 *     1 load   a capacity choice (exact, one less, none with NULL, ample)
 *     2 wipe
 *     3 fault  the k-th next port call of a kind fails: read, write,
 *              erase; a read returns one flipped bit (the flash keeps the
 *              good byte); a write leaves one bit set (worn cell)
 *     4 cut    power cut after k more bytes programmed or erased: the
 *              operation stops half done and every later call fails
 *     5 reboot power back (the cut and pending faults cleared)
 *     6 forge  copy the newest record to the other slot with a chosen
 *              generation (equal, next, previous, wrap points), with a
 *              header of valid CRC written here (another writer)
 *     7 flip   one bit of the flash at a chosen offset (decay)
 *     8 args   the argument checks (NULL port, callbacks, tiny regions,
 *              NULL buffers, a region too large for 32-bit lengths)
 *
 * The model: the set of payloads a load may return (each made from a
 * pattern byte and a length). A save that returns OK makes its payload the
 * only candidate, with the next generation; a failed save or wipe adds its
 * outcome as a candidate; a load that returns a record settles the set to
 * it. Invariants (abort on a broken one): a load returns NOT_FOUND, or a
 * candidate's exact bytes with its generation when known, or (only while a
 * fault, cut or flip is active) STORAGE; a save or wipe on healthy flash
 * succeeds; after a bit flip anything valid may be found, but never bytes
 * that fail their own CRC (checked here with an independent CRC-32).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_store.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define FLASH_MAX (5U * 512U + 16U)
#define NCAND     8

/* ---- the fake flash ---------------------------------------------------------- */
typedef struct flash {
    uint8_t mem[FLASH_MAX];
    size_t size;
    unsigned fail_kind; /* 0 none, 1 read, 2 write, 3 erase, 4 read flip, 5 worn write */
    unsigned fail_in;   /* calls of that kind left before it strikes */
    size_t cut_in;      /* bytes left before the power cut; SIZE_MAX none */
    bool dead;          /* after a cut: everything fails until reboot */
} flash_t;

static flash_t g_fl;
static unsigned g_flips; /* reads that flipped a bit so far */
static int g_trace = -1; /* FUZZ_STORE_TRACE=1: the operations and results on stderr */

static bool strikes(unsigned kind)
{
    if (g_fl.fail_kind != kind) {
        return false;
    }
    if (g_fl.fail_in > 0U) {
        g_fl.fail_in--;
        return false;
    }
    g_fl.fail_kind = 0;
    return true;
}

static picoacme_err_t f_read(void *u, size_t off, uint8_t *buf, size_t len)
{
    (void)u;
    CHECK(off <= g_fl.size && len <= g_fl.size - off);
    if (g_fl.dead || strikes(1)) {
        return PICOACME_ERR_STORAGE;
    }
    memcpy(buf, g_fl.mem + off, len);
    if (len > 0U && strikes(4)) {
        buf[len / 2U] ^= 0x10U;
        g_flips++;
    }
    return PICOACME_OK;
}

/* Spends the power budget on n bytes: how many get done before the cut. */
static size_t budget(size_t n)
{
    if (g_fl.cut_in == SIZE_MAX) {
        return n;
    }
    if (g_fl.cut_in >= n) {
        g_fl.cut_in -= n;
        return n;
    }
    n = g_fl.cut_in;
    g_fl.cut_in = 0;
    g_fl.dead = true;
    return n;
}

static picoacme_err_t f_write(void *u, size_t off, const uint8_t *buf, size_t len)
{
    (void)u;
    CHECK(off <= g_fl.size && len <= g_fl.size - off);
    if (g_fl.dead || strikes(2)) {
        return PICOACME_ERR_STORAGE;
    }
    size_t n = budget(len);
    for (size_t i = 0; i < n; i++) {
        g_fl.mem[off + i] &= buf[i]; /* NOR: programming only clears bits */
    }
    if (n > 0U && strikes(5)) {
        g_fl.mem[off + n / 2U] |= 0x01U;
    }
    return n == len ? PICOACME_OK : PICOACME_ERR_STORAGE;
}

static picoacme_err_t f_erase(void *u, size_t off, size_t len);

static picoacme_storage_t g_st = {NULL, 0, 0, f_read, f_write, f_erase};

static picoacme_err_t f_erase(void *u, size_t off, size_t len)
{
    (void)u;
    CHECK(off % g_st.erase_size == 0U && len % g_st.erase_size == 0U);
    CHECK(off <= g_fl.size && len <= g_fl.size - off);
    if (g_fl.dead || strikes(3)) {
        return PICOACME_ERR_STORAGE;
    }
    size_t n = budget(len);
    memset(g_fl.mem + off, 0xFF, n);
    return n == len ? PICOACME_OK : PICOACME_ERR_STORAGE;
}

static bool healthy(void)
{
    return !g_fl.dead && g_fl.fail_kind == 0U && g_fl.cut_in == SIZE_MAX;
}

/* ---- the model ------------------------------------------------------------------ */
typedef struct cand {
    bool none; /* nothing stored */
    uint8_t pat;
    size_t len;
    bool gen_known;
    uint32_t gen;
} cand_t;

static cand_t g_cand[NCAND];
static int g_ncand;
static bool g_decayed; /* a bit was flipped: anything valid may be found */
static uint8_t g_data[FLASH_MAX];
static uint8_t g_buf[FLASH_MAX + 8U];

static void payload(uint8_t pat, size_t len, uint8_t *out)
{
    for (size_t i = 0; i < len; i++) {
        out[i] = (uint8_t)(pat * 31U + i * 7U + (i >> 8));
    }
}

/* An independent CRC-32 (bitwise, reflected 0xEDB88320). */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFU;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320U & (0U - (c & 1U)));
        }
    }
    return ~c;
}

static void add_cand(cand_t c)
{
    if (g_ncand < NCAND) {
        g_cand[g_ncand++] = c;
    } else {
        g_decayed = true; /* too many outcomes to follow: stop being exact */
    }
}

static void settle(cand_t c)
{
    g_cand[0] = c;
    g_ncand = 1;
}

static size_t slot_size(void)
{
    size_t half = g_st.size / 2U;
    return half - half % g_st.erase_size;
}

/* ---- operations ---------------------------------------------------------------- */
/* Whether what a load returned is a valid record on the flash, as this
 * side reads it: exactly its payload bytes and its generation. */
static bool hdr_read(size_t i, uint32_t *gen, uint32_t *len, uint32_t *crc);

static bool on_flash(size_t len, uint32_t gen, bool gen_asked)
{
    for (size_t i = 0; i < 2U; i++) {
        uint32_t g, l, c;
        if (hdr_read(i, &g, &l, &c) && l == len && (!gen_asked || g == gen) &&
            memcmp(g_fl.mem + slot_size() * i + PICOACME_STORE_HDR_LEN, g_buf, len) == 0) {
            return true;
        }
    }
    return false;
}

static void op_save(const uint8_t *a)
{
    size_t cap = picoacme_store_capacity(&g_st);
    size_t len = ((size_t)a[0] << 8 | a[1]) % (cap + 3U);
    cand_t c = {false, a[2], len, false, 0};
    bool was_healthy = healthy();
    bool flip_pending = g_fl.fail_kind == 4U;

    /* the generation follows only from a settled, known state */
    if (was_healthy && g_ncand == 1 && !g_decayed && (g_cand[0].none || g_cand[0].gen_known)) {
        c.gen_known = true;
        c.gen = g_cand[0].none ? 1U : g_cand[0].gen + 1U;
    }
    payload(c.pat, len, g_data);
    picoacme_err_t e = picoacme_store_save(&g_st, g_data, len);
    if (g_trace > 0) {
        fprintf(stderr, "  save len %zu pat %u -> %d\n", len, c.pat, (int)e);
    }
    if (len > cap) {
        CHECK(e == PICOACME_ERR_NOSPACE);
        return;
    }
    if (e == PICOACME_OK && flip_pending) {
        /* A read that flipped a bit during the scan can hide the newest
         * record: the save then takes generation 1 (or the older one's
         * next) and the record it wrote, although read back, loses to the
         * hidden one. The store does not claim to survive silent read
         * corruption; a later save on a sound read puts it right. */
        add_cand(c);
        g_decayed = true;
        return;
    }
    if (e == PICOACME_OK) {
        /* written and read back: it is the newest, whatever was before */
        settle(c);
        g_decayed = g_fl.fail_kind == 4U; /* a flipped read still to come */
        return;
    }
    CHECK(e == PICOACME_ERR_STORAGE && !was_healthy);
    add_cand(c);
}

static void check_found(size_t len, uint32_t gen, bool gen_asked, bool flipped)
{
    /* a flipped read can also undo a decayed bit: the record found is then
     * the one first written, which the flash no longer holds intact */
    CHECK(on_flash(len, gen, gen_asked) || (flipped && g_decayed));
    for (int i = 0; i < g_ncand; i++) {
        cand_t *c = &g_cand[i];
        if (c->none || c->len != len) {
            continue;
        }
        payload(c->pat, len, g_data);
        if (memcmp(g_data, g_buf, len) == 0 && (!gen_asked || !c->gen_known || c->gen == gen)) {
            cand_t s = *c;
            s.gen_known = gen_asked;
            s.gen = gen;
            settle(s);
            return;
        }
    }
    /* bytes no save of this run wrote: only after a flip or a forgery */
    CHECK(g_decayed);
    settle((cand_t){false, 0, len, false, 0});
    g_ncand = 0;
}

static void op_load(unsigned how)
{
    size_t len = 99;
    uint32_t gen = 0;
    bool was_healthy = healthy();
    bool gen_asked = (how & 4U) == 0U;
    size_t cap = picoacme_store_capacity(&g_st);
    size_t want = how % 4U == 0U ? cap : how % 4U == 1U ? 0U : cap + 8U;
    picoacme_err_t e;
    unsigned flips = g_flips;

    if (how % 4U == 3U && g_ncand == 1 && !g_cand[0].none && g_cand[0].len > 0U) {
        want = g_cand[0].len - 1U; /* one byte short */
    }
    e = picoacme_store_load(&g_st, want == 0U ? NULL : g_buf, want, &len, gen_asked ? &gen : NULL);
    if (g_trace > 0) {
        fprintf(stderr, "  load -> %d len %zu gen %u\n", (int)e, len, gen);
    }
    if (e == PICOACME_OK) {
        CHECK(len <= want);
        check_found(len, gen, gen_asked, g_flips != flips);
        return;
    }
    CHECK(len == 0U);
    if (e == PICOACME_ERR_NOT_FOUND) {
        bool may = g_decayed;
        for (int i = 0; i < g_ncand; i++) {
            may = may || g_cand[i].none;
        }
        CHECK(may);
        settle((cand_t){true, 0, 0, true, 0});
        return;
    }
    if (e == PICOACME_ERR_NOSPACE) {
        CHECK(want < cap);
        return;
    }
    CHECK(e == PICOACME_ERR_STORAGE && (!was_healthy || g_decayed));
}

static void op_wipe(void)
{
    bool was_healthy = healthy();
    picoacme_err_t e = picoacme_store_wipe(&g_st);
    if (e == PICOACME_OK) {
        settle((cand_t){true, 0, 0, true, 0});
        g_decayed = g_fl.fail_kind == 4U;
        return;
    }
    CHECK(e == PICOACME_ERR_STORAGE && !was_healthy);
    /* slot A may be gone and slot B, with an older record, left: no longer
     * exact about what is found */
    add_cand((cand_t){true, 0, 0, true, 0});
    g_decayed = true;
}

/* The header of slot i as this side reads it; false when not valid. */
static bool hdr_read(size_t i, uint32_t *gen, uint32_t *len, uint32_t *crc)
{
    const uint8_t *h = g_fl.mem + slot_size() * i;
    uint32_t v[6];
    for (int k = 0; k < 6; k++) {
        v[k] = (uint32_t)h[4 * k] | (uint32_t)h[4 * k + 1] << 8 | (uint32_t)h[4 * k + 2] << 16 |
               (uint32_t)h[4 * k + 3] << 24;
    }
    if (memcmp(h, "PACM", 4) != 0 || v[1] != 1U || v[5] != crc32_ref(h, 20)) {
        return false;
    }
    *gen = v[2];
    *len = v[3];
    *crc = v[4];
    return *len <= slot_size() - PICOACME_STORE_HDR_LEN &&
           crc32_ref(h + PICOACME_STORE_HDR_LEN, *len) == *crc;
}

/* Copy the newest record into the other slot with generation g0 + delta. */
static void op_forge(unsigned how)
{
    static const uint32_t deltas[] = {0U, 1U, 0xFFFFFFFFU, 0x7FFFFFFFU, 0x80000000U};
    uint32_t g[2], l[2], c[2];
    bool v0 = hdr_read(0, &g[0], &l[0], &c[0]), v1 = hdr_read(1, &g[1], &l[1], &c[1]);
    size_t from;

    if (!v0 && !v1) {
        return;
    }
    from = !v0 ? 1U : !v1 ? 0U : ((int32_t)(g[1] - g[0]) > 0 ? 1U : 0U);
    if (how & 8U) {
        from ^= 1U; /* the older one, when both are valid */
        if ((from == 0U && !v0) || (from == 1U && !v1)) {
            return;
        }
    }
    size_t slot = slot_size(), to = from ^ 1U;
    uint8_t *src = g_fl.mem + slot * from, *dst = g_fl.mem + slot * to;
    uint32_t ng = g[from] + deltas[how % 5U];
    memmove(dst, src, PICOACME_STORE_HDR_LEN + l[from]);
    dst[8] = (uint8_t)ng;
    dst[9] = (uint8_t)(ng >> 8);
    dst[10] = (uint8_t)(ng >> 16);
    dst[11] = (uint8_t)(ng >> 24);
    uint32_t hc = crc32_ref(dst, 20);
    for (int k = 0; k < 4; k++) {
        dst[20 + k] = (uint8_t)(hc >> (8 * k));
    }
    /* both slots now hold valid records: which one wins follows the
     * generations, and what is found may be either payload */
    for (int i = 0; i < g_ncand; i++) {
        g_cand[i].gen_known = false;
    }
    g_decayed = true;
}

static void op_args(void)
{
    picoacme_storage_t bad = g_st;
    size_t len = 5;
    uint8_t b[4];

    CHECK(picoacme_store_capacity(NULL) == 0U);
    CHECK(picoacme_store_load(NULL, b, 4, &len, NULL) == PICOACME_ERR_PARAM);
    CHECK(picoacme_store_load(&g_st, b, 4, NULL, NULL) == PICOACME_ERR_PARAM);
    CHECK(picoacme_store_load(&g_st, NULL, 4, &len, NULL) == PICOACME_ERR_PARAM);
    CHECK(picoacme_store_save(NULL, b, 1) == PICOACME_ERR_PARAM);
    CHECK(picoacme_store_save(&g_st, NULL, 1) == PICOACME_ERR_PARAM);
    CHECK(picoacme_store_wipe(NULL) == PICOACME_ERR_PARAM);
    bad.read = NULL;
    CHECK(picoacme_store_capacity(&bad) == 0U);
    bad = g_st;
    bad.write = NULL;
    CHECK(picoacme_store_save(&bad, b, 1) == PICOACME_ERR_PARAM);
    bad = g_st;
    bad.erase = NULL;
    CHECK(picoacme_store_wipe(&bad) == PICOACME_ERR_PARAM);
    bad = g_st;
    bad.erase_size = 0;
    CHECK(picoacme_store_capacity(&bad) == 0U);
    bad = g_st;
    bad.size = bad.erase_size; /* one block: no room for two slots */
    CHECK(picoacme_store_capacity(&bad) == 0U);
    bad.erase_size = 8;
    bad.size = 32; /* slots of 16 bytes: not more than a header */
    CHECK(picoacme_store_capacity(&bad) == 0U);
    bad.size = (size_t)1 << 34; /* 8 GiB halves: the 32-bit length bounds */
    bad.erase_size = 4096;
    CHECK(picoacme_store_capacity(&bad) == (size_t)UINT32_MAX || SIZE_MAX == UINT32_MAX);
    CHECK(picoacme_crc32(7U, NULL, 3) == 7U);
    CHECK(picoacme_crc32(0U, (const uint8_t *)"123456789", 9) == 0xCBF43926U);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t erase[] = {16, 24, 64, 256, 512};
    if (size < 1U) {
        return 0;
    }
    g_st.erase_size = erase[data[0] % 5U];
    g_st.size = g_st.erase_size * (2U + (data[0] / 5U) % 4U) + (data[0] / 20U) % 16U;
    g_fl.size = g_st.size;
    memset(g_fl.mem, 0xFF, g_fl.size);
    g_fl.fail_kind = 0;
    g_fl.cut_in = SIZE_MAX;
    g_fl.dead = false;
    g_ncand = 0;
    g_decayed = false;
    settle((cand_t){true, 0, 0, true, 0});

    if (picoacme_store_capacity(&g_st) == 0U) {
        /* slots no larger than a header (two blocks of 16 or 24 bytes):
         * the region is refused whole */
        size_t len = 1;
        CHECK(picoacme_store_save(&g_st, g_buf, 1) == PICOACME_ERR_PARAM);
        CHECK(picoacme_store_load(&g_st, g_buf, 1, &len, NULL) == PICOACME_ERR_PARAM);
        CHECK(picoacme_store_wipe(&g_st) == PICOACME_ERR_PARAM);
        return 0;
    }
    size_t i = 1;
    if (g_trace < 0) {
        g_trace = getenv("FUZZ_STORE_TRACE") != NULL;
    }
    while (i + 4U <= size) {
        const uint8_t *a = data + i + 1U;
        if (g_trace > 0) {
            fprintf(stderr, "op %u (%u %u %u) cand %d decayed %d healthy %d\n", data[i] % 9U, a[0],
                    a[1], a[2], g_ncand, g_decayed, healthy());
        }
        switch (data[i] % 9U) {
        case 0: op_save(a); break;
        case 1: op_load(a[0]); break;
        case 2: op_wipe(); break;
        case 3:
            g_fl.fail_kind = 1U + a[0] % 5U;
            g_fl.fail_in = a[1] % 16U;
            /* a flipped read can hide the newest record from a scan: what
             * is found is then an older one */
            g_decayed = g_decayed || g_fl.fail_kind == 4U;
            break;
        case 4: g_fl.cut_in = (size_t)a[0] << 4 | (a[1] & 0x0FU); break;
        case 5:
            g_fl.dead = false;
            g_fl.fail_kind = 0;
            g_fl.cut_in = SIZE_MAX;
            break;
        case 6: op_forge(a[0]); break;
        case 7:
            g_fl.mem[((size_t)a[0] << 8 | a[1]) % g_fl.size] ^= (uint8_t)(1U << (a[2] % 8U));
            g_decayed = true;
            break;
        default: op_args(); break;
        }
        i += 4U;
    }
    return 0;
}
