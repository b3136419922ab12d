/*
 * test_store.c - the A/B record store (core/src/store.c) on the POSIX file
 * flash (ports/posix/src/flash.c), including a power cut at every byte the
 * save programs or erases.
 *
 * CRC-32 is checked against the "123456789" check value and against
 * python3's zlib.crc32 (an independent implementation, run from the test).
 * Set PICOACME_STORE_FULL=1 to sweep every cut point in every geometry
 * instead of every byte of the critical zones plus a stride elsewhere.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "picoacme_posix.h"
#include "picoacme_store.h"

#define TMP(name)  PICOACME_TEST_TMPDIR "/store_" name ".bin"
#define HDR        PICOACME_STORE_HDR_LEN
#define MAX_REGION (64U * 1024U)

static uint8_t g_img[MAX_REGION];
static uint8_t g_buf[MAX_REGION];
static uint8_t g_old[MAX_REGION];
static uint8_t g_new[MAX_REGION];
static uint8_t g_x[MAX_REGION];

static void pattern(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761U + 1U;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
}

static void fresh(const char *path, picoacme_posix_flash_t *f, size_t size, size_t erase,
                  picoacme_storage_t *st)
{
    unlink(path);
    assert_int_equal(picoacme_posix_flash_open(f, path, size, erase, st), PICOACME_OK);
}

static void reopen(const char *path, picoacme_posix_flash_t *f, size_t size, size_t erase,
                   picoacme_storage_t *st)
{
    assert_int_equal(picoacme_posix_flash_open(f, path, size, erase, st), PICOACME_OK);
}

static void file_read(const char *path, uint8_t *buf, size_t len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, len, fp), len);
    fclose(fp);
}

static void file_write(const char *path, const uint8_t *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void file_patch(const char *path, size_t off, const uint8_t *buf, size_t len)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Loads and asserts the record is exactly want[0..want_len). */
static void expect_record(const picoacme_storage_t *st, const uint8_t *want, size_t want_len,
                          uint32_t want_gen)
{
    size_t len = 12345;
    uint32_t gen = 0;
    assert_int_equal(picoacme_store_load(st, g_buf, sizeof g_buf, &len, &gen), PICOACME_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(g_buf, want, want_len);
    assert_int_equal(gen, want_gen);
}

/* ---- CRC-32 ----------------------------------------------------------- */

static uint32_t zlib_crc(const uint8_t *data, size_t len)
{
    const char *path = TMP("crcin");
    char cmd[512];
    unsigned long v = 0;
    FILE *p;

    file_write(path, data, len);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import sys,zlib; print(zlib.crc32(open(sys.argv[1],\"rb\").read()))' %s",
             path);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%lu", &v), 1);
    assert_int_equal(pclose(p), 0);
    return (uint32_t)v;
}

static void test_crc32_vectors(void **state)
{
    (void)state;
    const uint8_t *check = (const uint8_t *)"123456789";
    assert_int_equal(picoacme_crc32(0, check, 9), 0xCBF43926U);
    assert_int_equal(picoacme_crc32(0, check, 0), 0);
    /* Continuation gives the same value as one pass. */
    assert_int_equal(picoacme_crc32(picoacme_crc32(0, check, 4), check + 4, 5), 0xCBF43926U);
    /* "a" and 32 zero bytes: zlib values. */
    assert_int_equal(picoacme_crc32(0, (const uint8_t *)"a", 1), 0xE8B7BE43U);
    static const uint8_t zeros[32];
    assert_int_equal(picoacme_crc32(0, zeros, 32), 0x190A55ADU);

    static const size_t lens[] = {1, 3, 64, 1000, 4097};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        pattern(g_x, lens[i], (uint32_t)(77 + i));
        assert_int_equal(picoacme_crc32(0, g_x, lens[i]), zlib_crc(g_x, lens[i]));
    }
}

/* ---- the file flash itself -------------------------------------------- */

static void test_flash_port(void **state)
{
    (void)state;
    const char *path = TMP("port");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    uint8_t b[16];

    assert_int_equal(picoacme_posix_flash_open(&f, path, 1000, 512, &st), PICOACME_ERR_PARAM);
    fresh(path, &f, 2048, 512, &st);
    assert_int_equal(st.size, 2048);
    assert_int_equal(st.erase_size, 512);
    assert_int_equal(st.read(st.user, 2040, b, 8), PICOACME_OK);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(b[i], 0xFF);
    }
    /* NOR: a write can only clear bits. */
    assert_int_equal(st.write(st.user, 10, (const uint8_t *)"\xF0\x0F", 2), PICOACME_OK);
    assert_int_equal(st.write(st.user, 10, (const uint8_t *)"\x3C\x3C", 2), PICOACME_OK);
    assert_int_equal(st.read(st.user, 10, b, 2), PICOACME_OK);
    assert_int_equal(b[0], 0x30);
    assert_int_equal(b[1], 0x0C);
    /* Out of range and misaligned requests are refused. */
    assert_int_equal(st.write(st.user, 2047, b, 2), PICOACME_ERR_PARAM);
    assert_int_equal(st.write(st.user, (size_t)-1, b, 2), PICOACME_ERR_PARAM);
    assert_int_equal(st.read(st.user, 2048, b, 1), PICOACME_ERR_PARAM);
    assert_int_equal(st.erase(st.user, 100, 512), PICOACME_ERR_PARAM);
    assert_int_equal(st.erase(st.user, 0, 100), PICOACME_ERR_PARAM);
    assert_int_equal(st.erase(st.user, 1536, 1024), PICOACME_ERR_PARAM);
    assert_int_equal(st.erase(st.user, 0, 512), PICOACME_OK);
    assert_int_equal(st.read(st.user, 10, b, 2), PICOACME_OK);
    assert_int_equal(b[0], 0xFF);
    assert_int_equal(b[1], 0xFF);

    /* Torn write: 3 of 8 bytes land, then everything fails. */
    memset(b, 0, sizeof b);
    f.cut_after_bytes = 3;
    assert_int_equal(st.write(st.user, 600, b, 8), PICOACME_ERR_STORAGE);
    assert_true(f.dead);
    assert_int_equal(st.read(st.user, 600, b, 8), PICOACME_ERR_STORAGE);
    assert_int_equal(st.erase(st.user, 0, 512), PICOACME_ERR_STORAGE);
    picoacme_posix_flash_close(&f);
    file_read(path, g_img, 2048);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(g_img[600 + i], i < 3 ? 0x00 : 0xFF);
    }

    /* Torn erase: an erased prefix, the rest of the block unchanged. */
    reopen(path, &f, 2048, 512, &st);
    memset(g_x, 0x5A, 1024);
    assert_int_equal(st.write(st.user, 0, g_x, 1024), PICOACME_OK);
    f.cut_after_bytes = 700;
    assert_int_equal(st.erase(st.user, 0, 1024), PICOACME_ERR_STORAGE);
    picoacme_posix_flash_close(&f);
    file_read(path, g_img, 2048);
    for (int i = 0; i < 1024; i++) {
        assert_int_equal(g_img[i], i < 700 ? 0xFF : 0x5A);
    }
    /* A budget spent exactly by a call lets that call succeed. */
    reopen(path, &f, 2048, 512, &st);
    f.cut_after_bytes = 512;
    assert_int_equal(st.erase(st.user, 0, 512), PICOACME_OK);
    assert_int_equal(st.write(st.user, 0, b, 1), PICOACME_ERR_STORAGE);
    picoacme_posix_flash_close(&f);
}

/* ---- basic store behaviour -------------------------------------------- */

static void test_empty_and_geometry(void **state)
{
    (void)state;
    const char *path = TMP("empty");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    size_t len = 99;

    fresh(path, &f, 4096, 1024, &st);
    assert_int_equal(picoacme_store_capacity(&st), 2048 - HDR);
    assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, NULL),
                     PICOACME_ERR_NOT_FOUND);
    /* Garbage that is not a header is not a record either. */
    pattern(g_x, 4096, 5);
    assert_int_equal(st.write(st.user, 0, g_x, 4096), PICOACME_OK);
    assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, NULL),
                     PICOACME_ERR_NOT_FOUND);
    picoacme_posix_flash_close(&f);

    /* Odd region: 5 blocks -> two 2-block slots, the tail unused. */
    fresh(path, &f, 5 * 1024, 1024, &st);
    assert_int_equal(picoacme_store_capacity(&st), 2048 - HDR);
    picoacme_posix_flash_close(&f);
    /* A region that cannot hold two slots. */
    fresh(path, &f, 4096, 4096, &st);
    assert_int_equal(picoacme_store_capacity(&st), 0);
    assert_int_equal(picoacme_store_save(&st, g_x, 1), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, NULL), PICOACME_ERR_PARAM);
    picoacme_posix_flash_close(&f);
    assert_int_equal(picoacme_store_capacity(NULL), 0);
}

static void test_roundtrip(void **state)
{
    (void)state;
    const char *path = TMP("rt");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    size_t len = 0;
    size_t cap;

    fresh(path, &f, 8192, 1024, &st);
    cap = picoacme_store_capacity(&st);
    assert_int_equal(cap, 4096 - HDR);
    pattern(g_old, cap + 1, 1);

    assert_int_equal(picoacme_store_save(&st, g_old, 1000), PICOACME_OK);
    expect_record(&st, g_old, 1000, 1);
    /* Survives a reopen (it is on "flash", not in memory). */
    picoacme_posix_flash_close(&f);
    reopen(path, &f, 8192, 1024, &st);
    expect_record(&st, g_old, 1000, 1);

    /* Buffer too small, too large a record, bad arguments. */
    assert_int_equal(picoacme_store_load(&st, g_buf, 999, &len, NULL), PICOACME_ERR_NOSPACE);
    assert_int_equal(picoacme_store_save(&st, g_old, cap + 1), PICOACME_ERR_NOSPACE);
    assert_int_equal(picoacme_store_save(&st, NULL, 5), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, NULL, NULL), PICOACME_ERR_PARAM);
    expect_record(&st, g_old, 1000, 1);

    /* Full capacity and an empty record. */
    assert_int_equal(picoacme_store_save(&st, g_old, cap), PICOACME_OK);
    expect_record(&st, g_old, cap, 2);
    assert_int_equal(picoacme_store_save(&st, NULL, 0), PICOACME_OK);
    expect_record(&st, g_old, 0, 3);
    assert_int_equal(picoacme_store_load(&st, NULL, 0, &len, NULL), PICOACME_OK);
    assert_int_equal(len, 0);

    /* Wipe is a factory reset. */
    assert_int_equal(picoacme_store_wipe(&st), PICOACME_OK);
    assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, NULL),
                     PICOACME_ERR_NOT_FOUND);
    picoacme_posix_flash_close(&f);
}

/* The header is exactly the documented 24 bytes. */
static void test_header_bytes(void **state)
{
    (void)state;
    const char *path = TMP("hdr");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    const uint8_t *check = (const uint8_t *)"123456789";

    fresh(path, &f, 4096, 1024, &st);
    assert_int_equal(picoacme_store_save(&st, check, 9), PICOACME_OK);
    picoacme_posix_flash_close(&f);
    file_read(path, g_img, 4096);
    static const uint8_t want[20] = {'P', 'A', 'C', 'M', 1, 0, 0,    0,    1,    0,
                                     0,   0,   9,   0,   0, 0, 0x26, 0x39, 0xF4, 0xCB};
    assert_memory_equal(g_img, want, 20);
    assert_int_equal(le32(g_img + 20), zlib_crc(g_img, 20));
    assert_memory_equal(g_img + HDR, check, 9);
    /* Rest of the slot and all of slot B stay erased. */
    for (size_t i = HDR + 9; i < 4096; i++) {
        assert_int_equal(g_img[i], 0xFF);
    }
}

static void test_alternation(void **state)
{
    (void)state;
    const char *path = TMP("alt");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;

    fresh(path, &f, 4096, 512, &st);
    for (uint32_t gen = 1; gen <= 6; gen++) {
        size_t len = 100 + gen * 37;
        pattern(g_new, len, gen);
        assert_int_equal(picoacme_store_save(&st, g_new, len), PICOACME_OK);
        expect_record(&st, g_new, len, gen);
        file_read(path, g_img, 4096);
        /* Odd generations in slot A, even in slot B; the other slot keeps
         * the previous generation. */
        size_t here = (gen % 2U == 1U) ? 0 : 2048;
        size_t other = 2048 - here;
        assert_memory_equal(g_img + here, "PACM", 4);
        assert_int_equal(le32(g_img + here + 8), gen);
        if (gen > 1) {
            assert_int_equal(le32(g_img + other + 8), gen - 1);
        }
    }
    picoacme_posix_flash_close(&f);
}

/* Writes a header with a correct header CRC but the given fields. */
static void forge(const char *path, size_t off, uint16_t version, uint16_t flags, uint32_t gen,
                  uint32_t len, uint32_t crc)
{
    uint8_t h[HDR];
    memcpy(h, "PACM", 4);
    h[4] = (uint8_t)version;
    h[5] = (uint8_t)(version >> 8);
    h[6] = (uint8_t)flags;
    h[7] = (uint8_t)(flags >> 8);
    put_le32(h + 8, gen);
    put_le32(h + 12, len);
    put_le32(h + 16, crc);
    put_le32(h + 20, picoacme_crc32(0, h, 20));
    file_patch(path, off, h, HDR);
}

static void test_corruption(void **state)
{
    (void)state;
    const char *path = TMP("corrupt");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    const size_t size = 8192, slot = 4096;
    size_t len;

    pattern(g_old, 1000, 11);
    pattern(g_new, 1700, 12);
    fresh(path, &f, size, 1024, &st);
    assert_int_equal(picoacme_store_save(&st, g_old, 1000), PICOACME_OK); /* A, gen 1 */
    assert_int_equal(picoacme_store_save(&st, g_new, 1700), PICOACME_OK); /* B, gen 2 */
    picoacme_posix_flash_close(&f);
    file_read(path, g_img, size);

    /* One flipped byte anywhere in the newest header or payload. */
    static const size_t where[] = {0,  1,  2,  3,  4,   5,    6,    7,         8,        9,  10,
                                   11, 12, 13, 14, 15,  16,   17,   18,        19,       20, 21,
                                   22, 23, 24, 25, 500, 1023, 1024, 1700 + 22, 1700 + 23};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        file_write(path, g_img, size);
        uint8_t b = (uint8_t)(g_img[slot + where[i]] ^ 0x01);
        file_patch(path, slot + where[i], &b, 1);
        reopen(path, &f, size, 1024, &st);
        expect_record(&st, g_old, 1000, 1);
        picoacme_posix_flash_close(&f);
    }

    /* The next save reuses the broken slot and keeps the good one. */
    reopen(path, &f, size, 1024, &st);
    pattern(g_x, 300, 13);
    assert_int_equal(picoacme_store_save(&st, g_x, 300), PICOACME_OK);
    expect_record(&st, g_x, 300, 2);
    picoacme_posix_flash_close(&f);
    file_read(path, g_buf, size);
    assert_memory_equal(g_buf, g_img, slot); /* slot A untouched */

    /* Corrupting the older record does not disturb the newer one. */
    file_write(path, g_img, size);
    uint8_t flip[2] = {(uint8_t)~g_img[600], (uint8_t)~g_img[slot + 601]};
    file_patch(path, 600, flip, 1);
    reopen(path, &f, size, 1024, &st);
    expect_record(&st, g_new, 1700, 2);
    picoacme_posix_flash_close(&f);

    /* Both broken: nothing. */
    file_patch(path, slot + 601, flip + 1, 1);
    reopen(path, &f, size, 1024, &st);
    assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, NULL),
                     PICOACME_ERR_NOT_FOUND);
    picoacme_posix_flash_close(&f);

    /* Forged headers with a valid header CRC but a bad field are ignored:
     * length beyond the slot, another version, unknown flags. */
    uint32_t pcrc = picoacme_crc32(0, g_new, 1700);
    const struct {
        uint16_t version, flags;
        uint32_t len;
    } bad[] = {{1, 0, (uint32_t)(slot - HDR + 1)},
               {1, 0, 0xFFFFFFFFU},
               {2, 0, 1700},
               {0, 0, 1700},
               {1, 1, 1700},
               {1, 0x8000, 1700}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        file_write(path, g_img, size);
        forge(path, slot, bad[i].version, bad[i].flags, 7, bad[i].len, pcrc);
        reopen(path, &f, size, 1024, &st);
        expect_record(&st, g_old, 1000, 1);
        picoacme_posix_flash_close(&f);
    }
    /* The control: the same forge with good fields is accepted. */
    file_write(path, g_img, size);
    forge(path, slot, 1, 0, 7, 1700, pcrc);
    reopen(path, &f, size, 1024, &st);
    expect_record(&st, g_new, 1700, 7);
    picoacme_posix_flash_close(&f);
}

/* Generations compare in serial-number order, so 0xFFFFFFFF wraps to 0. */
static void test_generation_wrap(void **state)
{
    (void)state;
    const char *path = TMP("wrap");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;

    pattern(g_old, 200, 21);
    pattern(g_new, 300, 22);
    fresh(path, &f, 4096, 1024, &st);
    assert_int_equal(picoacme_store_save(&st, g_old, 200), PICOACME_OK);
    picoacme_posix_flash_close(&f);
    /* Rewrite slot A's header as generation 0xFFFFFFFF (flash allows only
     * clearing bits, so patch the file directly). */
    forge(path, 0, 1, 0, 0xFFFFFFFFU, 200, picoacme_crc32(0, g_old, 200));
    reopen(path, &f, 4096, 1024, &st);
    expect_record(&st, g_old, 200, 0xFFFFFFFFU);
    assert_int_equal(picoacme_store_save(&st, g_new, 300), PICOACME_OK);
    expect_record(&st, g_new, 300, 0);
    assert_int_equal(picoacme_store_save(&st, g_old, 200), PICOACME_OK);
    expect_record(&st, g_old, 200, 1);
    picoacme_posix_flash_close(&f);

    /* Equal generations (only by forgery): slot A wins. */
    forge(path, 2048, 1, 0, 1, 200, picoacme_crc32(0, g_old, 200));
    file_patch(path, 2048 + HDR, g_old, 200);
    forge(path, 0, 1, 0, 1, 300, picoacme_crc32(0, g_new, 300));
    file_patch(path, HDR, g_new, 300);
    reopen(path, &f, 4096, 1024, &st);
    expect_record(&st, g_new, 300, 1);
    picoacme_posix_flash_close(&f);
}

/* ---- power cut at every byte ------------------------------------------ */

typedef struct cut_case {
    const char *name;
    size_t size, erase;
    size_t old_len, new_len;
} cut_case_t;

static bool full_sweep(void)
{
    const char *e = getenv("PICOACME_STORE_FULL");
    return e != NULL && e[0] == '1';
}

/* Whether cut point k is tried: all of them in a full sweep; otherwise
 * every byte near the start, the erase block edges, the 256-byte payload
 * chunk edges and the whole header write, plus a stride elsewhere. */
static bool want_k(const cut_case_t *c, size_t slot, size_t k, size_t total)
{
    if (full_sweep() || k < 48 || k + 48 > total || k % 7 == 0) {
        return true;
    }
    if (k < slot) { /* erasing */
        size_t r = k % c->erase;
        return r < 8 || r + 8 > c->erase;
    }
    size_t pos = k - slot + HDR; /* offset in the slot being programmed */
    size_t r = pos % 256;
    return r < 3 || r + 3 > 256 || (pos % c->erase) < 3 || (pos % c->erase) + 3 > c->erase;
}

static void run_cuts(const cut_case_t *c, bool recover)
{
    char path[512];
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    const long long big = 1LL << 40;
    size_t slot, total, len, tried = 0;
    uint32_t gen;

    snprintf(path, sizeof path, "%s/store_cut_%s.bin", PICOACME_TEST_TMPDIR, c->name);
    pattern(g_x, c->new_len, 30);
    pattern(g_old, c->old_len, 31);
    pattern(g_new, c->new_len, 32);
    memset(g_new, 0xFF, 40); /* bytes that program as no change */
    memset(g_new + c->new_len / 2, 0x00, 30);

    /* Slot A: a stale record X (gen 1); slot B: old (gen 2). The save of
     * new goes over X, so a torn erase must never bring X back. */
    fresh(path, &f, c->size, c->erase, &st);
    slot = (c->size / 2) - (c->size / 2) % c->erase;
    assert_int_equal(picoacme_store_save(&st, g_x, c->new_len), PICOACME_OK);
    assert_int_equal(picoacme_store_save(&st, g_old, c->old_len), PICOACME_OK);
    picoacme_posix_flash_close(&f);
    file_read(path, g_img, c->size);

    /* Uncut run: how many bytes does a save program and erase? */
    reopen(path, &f, c->size, c->erase, &st);
    f.cut_after_bytes = big;
    assert_int_equal(picoacme_store_save(&st, g_new, c->new_len), PICOACME_OK);
    total = (size_t)(big - f.cut_after_bytes);
    picoacme_posix_flash_close(&f);
    /* The whole slot is erased, then payload, then header. */
    assert_int_equal(total, slot + c->new_len + HDR);

    for (size_t k = 0; k <= total + 1; k++) {
        if (!want_k(c, slot, k, total)) {
            continue;
        }
        tried++;
        file_write(path, g_img, c->size);
        reopen(path, &f, c->size, c->erase, &st);
        f.cut_after_bytes = (long long)k;
        picoacme_err_t rc = picoacme_store_save(&st, g_new, c->new_len);
        picoacme_posix_flash_close(&f);
        if (k >= total) {
            assert_int_equal(rc, PICOACME_OK);
        } else {
            assert_int_equal(rc, PICOACME_ERR_STORAGE);
        }

        reopen(path, &f, c->size, c->erase, &st);
        len = 0;
        gen = 0;
        rc = picoacme_store_load(&st, g_buf, sizeof g_buf, &len, &gen);
        if (rc != PICOACME_OK) {
            fail_msg("%s: cut at %zu of %zu: load failed (%d)", c->name, k, total, (int)rc);
        }
        bool is_old = len == c->old_len && gen == 2 && memcmp(g_buf, g_old, len) == 0;
        bool is_new = len == c->new_len && gen == 3 && memcmp(g_buf, g_new, len) == 0;
        if (!(is_old || is_new)) {
            fail_msg("%s: cut at %zu of %zu: neither old nor new (len %zu gen %u)", c->name, k,
                     total, len, (unsigned)gen);
        }
        /* Before the header write starts only old can be valid; after it
         * ends only new. Inside it a torn header may still be complete if
         * its missing bytes happen to be 0xFF, so either is allowed. */
        if (k <= total - HDR && !is_old) {
            fail_msg("%s: cut at %zu of %zu: new record before its header", c->name, k, total);
        }
        if (k >= total && !is_new) {
            fail_msg("%s: cut at %zu of %zu: old record after a full save", c->name, k, total);
        }

        /* Recovery: the next save after the cut works and wins. */
        if (recover && (k % 7 == 0 || k + HDR >= total)) {
            pattern(g_x, 777, (uint32_t)k);
            assert_int_equal(picoacme_store_save(&st, g_x, 777), PICOACME_OK);
            expect_record(&st, g_x, 777, gen + 1);
            picoacme_posix_flash_close(&f);
            reopen(path, &f, c->size, c->erase, &st);
            expect_record(&st, g_x, 777, gen + 1);
        }
        picoacme_posix_flash_close(&f);
    }
    print_message("    %s: %zu of %zu cut points tried\n", c->name, tried, total + 2);
}

static void test_cut_one_block_slots(void **state)
{
    (void)state;
    const cut_case_t c = {"one", 4096, 2048, 1000, 1700};
    run_cuts(&c, true);
}

static void test_cut_many_block_slots(void **state)
{
    (void)state;
    const cut_case_t c = {"many", 8192, 512, 1000, 1700};
    run_cuts(&c, false);
}

static void test_cut_4k_blocks(void **state)
{
    (void)state;
    /* 16 KiB region, 4 KiB blocks: 8 KiB slots; the new record crosses
     * the block boundary inside the slot. */
    const cut_case_t c = {"4k", 16384, 4096, 3000, 6000};
    run_cuts(&c, false);
}

/* ---- streaming (issue 8) -------------------------------------------------- */

/* A record written in pieces as it arrives: the same bytes and CRC as a
 * whole save; until commit (or after a failure or an abandoned writer) the
 * previous record stays the newest. */
static void test_stream(void **state)
{
    (void)state;
    const char *path = TMP("stream");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    picoacme_store_writer_t w;
    static const size_t pieces[] = {1, 23, 256, 255, 257, 7, 1000, 3000, 4096, 5};
    size_t total = 0, cap;

    fresh(path, &f, 32768, 4096, &st);
    cap = picoacme_store_capacity(&st);
    pattern(g_old, 500, 7);
    assert_int_equal(picoacme_store_save(&st, g_old, 500), PICOACME_OK);

    pattern(g_new, cap, 8);
    assert_int_equal(picoacme_store_begin(&w, &st), PICOACME_OK);
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        assert_int_equal(picoacme_store_append(&w, g_new + total, pieces[i]), PICOACME_OK);
        total += pieces[i];
        /* a power cut here: the old record is the one loaded */
        expect_record(&st, g_old, 500, 1);
    }
    assert_int_equal(picoacme_store_commit(&w), PICOACME_OK);
    expect_record(&st, g_new, total, 2);
    /* byte for byte what a whole save writes: the same slot image */
    file_read(path, g_img, 32768);
    assert_int_equal(picoacme_store_save(&st, g_new, total), PICOACME_OK); /* gen 3, slot A */
    assert_int_equal(picoacme_store_save(&st, g_new, total), PICOACME_OK); /* gen 4, slot B */
    file_read(path, g_x, 32768);
    assert_memory_equal(g_img + 16384 + HDR, g_x + 16384 + HDR, total);
    assert_int_equal(le32(g_img + 16384 + 16), le32(g_x + 16384 + 16)); /* payload CRC */

    /* over the capacity: NOSPACE, the writer is closed, the old record stays */
    assert_int_equal(picoacme_store_begin(&w, &st), PICOACME_OK);
    assert_int_equal(picoacme_store_append(&w, g_new, cap - 10), PICOACME_OK);
    assert_int_equal(picoacme_store_append(&w, g_new, 11), PICOACME_ERR_NOSPACE);
    assert_int_equal(picoacme_store_append(&w, g_new, 1), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_store_commit(&w), PICOACME_ERR_PARAM);
    expect_record(&st, g_new, total, 4);
    /* exactly the capacity fits; an abandoned writer leaves the old record */
    assert_int_equal(picoacme_store_begin(&w, &st), PICOACME_OK);
    assert_int_equal(picoacme_store_append(&w, g_new, cap), PICOACME_OK);
    expect_record(&st, g_new, total, 4);
    assert_int_equal(picoacme_store_begin(&w, &st), PICOACME_OK);
    assert_int_equal(picoacme_store_append(&w, g_new, cap), PICOACME_OK);
    assert_int_equal(picoacme_store_commit(&w), PICOACME_OK);
    expect_record(&st, g_new, cap, 5);
    assert_int_equal(picoacme_store_begin(NULL, &st), PICOACME_ERR_PARAM);
    picoacme_posix_flash_close(&f);
}

/* ---- port failures: every read, write and erase call failing in turn ---- */

static uint8_t g_ram[4096];
static int g_fail_kind; /* 0 read, 1 write, 2 erase */
static int g_fail_at;   /* the call of that kind that fails (0-based); -1 none */
static int g_calls[3];
static size_t g_read_bytes; /* bytes the port has read */

static picoacme_err_t ram_op(int kind)
{
    return g_calls[kind]++ == g_fail_at && g_fail_kind == kind ? PICOACME_ERR_STORAGE : PICOACME_OK;
}

static picoacme_err_t ram_read(void *u, size_t off, uint8_t *buf, size_t len)
{
    (void)u;
    if (ram_op(0) != PICOACME_OK) {
        return PICOACME_ERR_STORAGE;
    }
    memcpy(buf, g_ram + off, len);
    g_read_bytes += len;
    return PICOACME_OK;
}

static picoacme_err_t ram_write(void *u, size_t off, const uint8_t *buf, size_t len)
{
    (void)u;
    if (ram_op(1) != PICOACME_OK) {
        return PICOACME_ERR_STORAGE;
    }
    for (size_t i = 0; i < len; i++) {
        g_ram[off + i] &= buf[i];
    }
    return PICOACME_OK;
}

static picoacme_err_t ram_erase(void *u, size_t off, size_t len)
{
    (void)u;
    if (ram_op(2) != PICOACME_OK) {
        return PICOACME_ERR_STORAGE;
    }
    memset(g_ram + off, 0xFF, len);
    return PICOACME_OK;
}

static void arm(int kind, int at)
{
    g_fail_kind = kind;
    g_fail_at = at;
    memset(g_calls, 0, sizeof g_calls);
}

/* The RAM port, erased, no call failing; g_old saved in it (len bytes,
 * pattern 1, generation 1). */
static picoacme_storage_t ram_with_old(size_t len)
{
    picoacme_storage_t st = {NULL, sizeof g_ram, 512, ram_read, ram_write, ram_erase};
    arm(0, -1);
    memset(g_ram, 0xFF, sizeof g_ram);
    pattern(g_old, len, 1);
    assert_int_equal(picoacme_store_save(&st, g_old, len), PICOACME_OK);
    return st;
}

/* A save or load that meets a failing port call reports STORAGE and the
 * record saved before is the one loaded afterwards; a failing wipe reports
 * STORAGE too. Every call of every kind fails once, in turn. */
static void test_port_failures(void **state)
{
    (void)state;
    picoacme_storage_t st = ram_with_old(700);
    size_t len = 0;
    uint32_t gen = 0;

    pattern(g_new, 700, 2);
    for (int kind = 0; kind < 3; kind++) {
        for (int at = 0; at < 40; at++) {
            arm(kind, at);
            picoacme_err_t e = picoacme_store_save(&st, g_new, 700);
            int reached = g_calls[kind] > at;
            arm(0, -1);
            assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, &gen),
                             PICOACME_OK);
            if (!reached) {
                assert_int_equal(e, PICOACME_OK); /* no call of that kind failed */
                assert_memory_equal(g_buf, g_new, 700);
                assert_int_equal(picoacme_store_save(&st, g_old, 700), PICOACME_OK);
                continue;
            }
            /* the one case that reports STORAGE with the new record in
             * place: the final header read-back (store.c's comment) */
            assert_int_equal(e, PICOACME_ERR_STORAGE);
            if (memcmp(g_buf, g_new, 700) == 0) {
                assert_int_equal(kind, 0);
                assert_int_equal(picoacme_store_save(&st, g_old, 700), PICOACME_OK);
            } else {
                assert_memory_equal(g_buf, g_old, 700);
            }
            /* a load that meets the failure reports it */
            arm(kind, at);
            e = picoacme_store_load(&st, g_buf, sizeof g_buf, &len, NULL);
            assert_true(e == PICOACME_OK || (kind == 0 && e == PICOACME_ERR_STORAGE));
            arm(kind, at);
            e = picoacme_store_wipe(&st);
            assert_true(e == PICOACME_OK || (kind == 2 && e == PICOACME_ERR_STORAGE));
            arm(0, -1);
            assert_int_equal(picoacme_store_wipe(&st), PICOACME_OK);
            assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, NULL),
                             PICOACME_ERR_NOT_FOUND);
            assert_int_equal(picoacme_store_save(&st, g_old, 700), PICOACME_OK);
        }
    }
}

/* What a load reads: both headers and the newest record's payload, once:
 * into the caller's buffer, checked there; the older record only when the
 * newer one is damaged. A record longer than the buffer is scanned first. */
static void test_read_cost(void **state)
{
    (void)state;
    picoacme_storage_t st = ram_with_old(700); /* A, gen 1 */
    size_t len = 0;
    uint32_t gen = 0;

    pattern(g_new, 900, 2);
    assert_int_equal(picoacme_store_save(&st, g_new, 900), PICOACME_OK); /* B, gen 2 */
    g_read_bytes = 0;
    assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, &gen), PICOACME_OK);
    assert_int_equal(gen, 2);
    assert_int_equal(g_read_bytes, 2U * HDR + 900U);
    /* the newer payload damaged: it, then the older one */
    g_ram[sizeof g_ram / 2U + HDR + 10U] ^= 0x01U;
    g_read_bytes = 0;
    assert_int_equal(picoacme_store_load(&st, g_buf, sizeof g_buf, &len, &gen), PICOACME_OK);
    assert_int_equal(gen, 1);
    assert_memory_equal(g_buf, g_old, 700);
    assert_int_equal(g_read_bytes, 2U * HDR + 900U + 700U);
    /* a buffer too short for the newer record: NOSPACE after its scan */
    g_ram[sizeof g_ram / 2U + HDR + 10U] ^= 0x01U;
    g_read_bytes = 0;
    assert_int_equal(picoacme_store_load(&st, g_buf, 800, &len, &gen), PICOACME_ERR_NOSPACE);
    assert_int_equal(g_read_bytes, 2U * HDR + 900U);
    /* the first 800 bytes of it: the scan, then the 800 */
    size_t n = 0, total = 0;
    g_read_bytes = 0;
    assert_int_equal(picoacme_store_read(&st, 0, g_buf, 800, &n, &total), PICOACME_OK);
    assert_int_equal(n, 800);
    assert_int_equal(total, 900);
    assert_memory_equal(g_buf, g_new, 800);
    assert_int_equal(g_read_bytes, 2U * HDR + 900U + 800U);
}

/* A region whose halves exceed 4 GiB: the 32-bit length field bounds the
 * capacity (no flash is touched to compute it). */
static void test_capacity_bound(void **state)
{
    (void)state;
    picoacme_storage_t st = {NULL, 0, 4096, ram_read, ram_write, ram_erase};
#if SIZE_MAX > UINT32_MAX
    st.size = (size_t)1 << 34;
    assert_int_equal(picoacme_store_capacity(&st), (size_t)UINT32_MAX);
#endif
    st.size = 3U * 4096U;
    assert_int_equal(picoacme_store_capacity(&st), 4096U - HDR);
}

/* picoacme_store_read(): a record in pieces, whatever its length; a
 * corrupted payload byte is refused even for a partial read */
static void test_read_range(void **state)
{
    (void)state;
    const char *path = TMP("range");
    picoacme_posix_flash_t f;
    picoacme_storage_t st;
    uint8_t piece[700];
    size_t n = 1, total = 1, got = 0;

    fresh(path, &f, 32768, 4096, &st);
    assert_int_equal(picoacme_store_read(&st, 0, piece, sizeof piece, &n, &total),
                     PICOACME_ERR_NOT_FOUND);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);
    pattern(g_new, 9000, 9);
    assert_int_equal(picoacme_store_save(&st, g_new, 9000), PICOACME_OK);
    while (got < 9000) {
        assert_int_equal(picoacme_store_read(&st, got, piece, sizeof piece, &n, &total),
                         PICOACME_OK);
        assert_int_equal(total, 9000);
        assert_int_equal(n, 9000 - got < sizeof piece ? 9000 - got : sizeof piece);
        assert_memory_equal(piece, g_new + got, n);
        got += n;
    }
    assert_int_equal(picoacme_store_read(&st, 9000, piece, sizeof piece, &n, &total), PICOACME_OK);
    assert_int_equal(n, 0);
    assert_int_equal(picoacme_store_read(&st, 0, NULL, 0, &n, &total), PICOACME_OK);
    assert_int_equal(total, 9000);
    assert_int_equal(picoacme_store_read(&st, 0, piece, sizeof piece, NULL, &total),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_store_read(&st, 0, NULL, 5, &n, &total), PICOACME_ERR_PARAM);
    /* one payload byte flipped in flash: no valid record is left */
    file_read(path, g_img, 32768);
    g_img[HDR + 8000] ^= 1U;
    picoacme_posix_flash_close(&f);
    {
        FILE *fp = fopen(path, "r+b");
        assert_non_null(fp);
        assert_int_equal(fwrite(g_img, 1, 32768, fp), 32768);
        fclose(fp);
    }
    assert_int_equal(picoacme_posix_flash_open(&f, path, 32768, 4096, &st), PICOACME_OK);
    assert_int_equal(picoacme_store_read(&st, 0, piece, 10, &n, &total), PICOACME_ERR_NOT_FOUND);
    picoacme_posix_flash_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_vectors),
        cmocka_unit_test(test_flash_port),
        cmocka_unit_test(test_empty_and_geometry),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_alternation),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_generation_wrap),
        cmocka_unit_test(test_read_cost),
        cmocka_unit_test(test_cut_one_block_slots),
        cmocka_unit_test(test_cut_many_block_slots),
        cmocka_unit_test(test_cut_4k_blocks),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_port_failures),
        cmocka_unit_test(test_capacity_bound),
        cmocka_unit_test(test_read_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
