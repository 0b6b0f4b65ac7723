/*
 * Tests of chunks: cutting images at every boundary with any feed size,
 * rendezvous placement (deterministic, balanced, and moving only what a
 * departed validator held), and the chunk files (atomic, hash-checked,
 * damage detected and removed, repair by storing again, leftovers of
 * interrupted writes cleaned at open).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/chunk.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void chunk_count_rounds_up(void **state)
{
    (void)state;
    assert_int_equal(dsuit_chunk_count(0, 10), 0);
    assert_int_equal(dsuit_chunk_count(1, 10), 1);
    assert_int_equal(dsuit_chunk_count(10, 10), 1);
    assert_int_equal(dsuit_chunk_count(11, 10), 2);
    assert_int_equal(dsuit_chunk_count(100u * 1024 * 1024, 262144), 400);
    assert_int_equal(dsuit_chunk_count(5, 0), 0);
}

static void chunker_matches_hashing_each_chunk_for_any_feed(void **state)
{
    (void)state;
    const size_t cs = 1000;
    const size_t sizes[] = {0, 1, cs - 1, cs, cs + 1, 10 * cs + 7, 3 * cs};
    uint8_t *img = malloc(10 * cs + 7);
    assert_non_null(img);
    for (size_t i = 0; i < 10 * cs + 7; i++)
        img[i] = (uint8_t)next();
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        for (int trial = 0; trial < 5; trial++) {
            dsuit_chunker_t c;
            uint8_t d[16][32], whole[32], want[32];
            size_t n, off = 0;
            assert_int_equal(dsuit_chunker_init(&c, cs, d, 16), DSUIT_OK);
            while (off < len) {
                /* Pieces of 1 byte to 3 chunks, crossing boundaries. */
                size_t piece = 1 + (size_t)(next() % (3 * cs));
                if (piece > len - off)
                    piece = len - off;
                assert_int_equal(dsuit_chunker_update(&c, img + off, piece),
                                 DSUIT_OK);
                off += piece;
            }
            assert_int_equal(dsuit_chunker_final(&c, whole, &n), DSUIT_OK);
            assert_int_equal(n, dsuit_chunk_count(len, cs));
            dsuit_sha256(img, len, want);
            assert_memory_equal(whole, want, 32);
            for (size_t k = 0; k < n; k++) {
                size_t cl = (k + 1) * cs <= len ? cs : len - k * cs;
                dsuit_sha256(img + k * cs, cl, want);
                assert_memory_equal(d[k], want, 32);
            }
        }
    }
    /* Too many chunks for the caller's array. */
    {
        dsuit_chunker_t c;
        uint8_t d[2][32], whole[32];
        size_t n;
        assert_int_equal(dsuit_chunker_init(&c, cs, d, 2), DSUIT_OK);
        assert_int_equal(dsuit_chunker_update(&c, img, 2 * cs), DSUIT_OK);
        assert_int_equal(dsuit_chunker_update(&c, img, 1), DSUIT_OK);
        assert_int_equal(dsuit_chunker_final(&c, whole, &n), DSUIT_E_LIMIT);
    }
    assert_int_equal(dsuit_chunker_init(NULL, cs, NULL, 0), DSUIT_E_INVAL);
    free(img);
}

static void placement_is_deterministic_distinct_and_balanced(void **state)
{
    (void)state;
    uint8_t ids[4][32];
    size_t held[4] = {0};
    const size_t n_chunks = 20000, r = 3;
    for (int v = 0; v < 4; v++)
        for (int b = 0; b < 32; b++)
            ids[v][b] = (uint8_t)next();
    for (size_t i = 0; i < n_chunks; i++) {
        uint8_t c[32];
        size_t p[3], q[3];
        for (int b = 0; b < 32; b++)
            c[b] = (uint8_t)next();
        assert_int_equal(dsuit_chunk_place(c, (const uint8_t(*)[32])ids, 4, r,
                                           p),
                         DSUIT_OK);
        assert_int_equal(dsuit_chunk_place(c, (const uint8_t(*)[32])ids, 4, r,
                                           q),
                         DSUIT_OK);
        assert_memory_equal(p, q, sizeof p);
        assert_true(p[0] != p[1] && p[1] != p[2] && p[0] != p[2]);
        for (size_t k = 0; k < r; k++)
            held[p[k]]++;
    }
    /* Each of 4 validators holds about 3/4 of the chunks. */
    for (int v = 0; v < 4; v++) {
        double share = (double)held[v] / (double)n_chunks;
        if (share < 0.70 || share > 0.80)
            fail_msg("validator %d holds %.3f of the chunks", v, share);
    }
    assert_int_equal(dsuit_chunk_place(ids[0], (const uint8_t(*)[32])ids, 0,
                                       r, held),
                     DSUIT_E_INVAL);
}

static void only_a_departed_validators_chunks_move(void **state)
{
    (void)state;
    uint8_t ids[5][32], rest[4][32];
    const size_t gone = 2;
    for (int v = 0; v < 5; v++)
        for (int b = 0; b < 32; b++)
            ids[v][b] = (uint8_t)next();
    for (size_t v = 0, k = 0; v < 5; v++)
        if (v != gone)
            memcpy(rest[k++], ids[v], 32);
    for (int i = 0; i < 5000; i++) {
        uint8_t c[32];
        size_t all[5], without[4];
        for (int b = 0; b < 32; b++)
            c[b] = (uint8_t)next();
        dsuit_chunk_rank(c, (const uint8_t(*)[32])ids, 5, all);
        dsuit_chunk_rank(c, (const uint8_t(*)[32])rest, 4, without);
        /* The order of the others is unchanged by the departure. */
        for (size_t a = 0, w = 0; a < 5; a++) {
            if (all[a] == gone)
                continue;
            size_t was = all[a] > gone ? all[a] - 1 : all[a];
            assert_int_equal(without[w], was);
            w++;
        }
    }
}

typedef struct {
    char dir[64];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/dsuit-test-chunks-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void chunk_files_are_checked_repaired_and_counted(void **state)
{
    fx_t *f = *state;
    dsuit_chunks_t *c;
    uint8_t data[5000], d[32], *got;
    size_t n;
    uint64_t count, bytes;
    char path[256], hex[65];

    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)next();
    dsuit_sha256(data, sizeof data, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);

    assert_int_equal(dsuit_chunks_open(f->dir, &c), DSUIT_OK);
    assert_false(dsuit_chunks_has(c, d));
    assert_int_equal(dsuit_chunks_get(c, d, 1 << 20, &got, &n),
                     DSUIT_E_NOTFOUND);
    /* The wrong bytes for a name are refused, nothing stored. */
    data[0] ^= 1;
    assert_int_equal(dsuit_chunks_put(c, d, data, sizeof data),
                     DSUIT_E_DIGEST);
    data[0] ^= 1;
    assert_false(dsuit_chunks_has(c, d));
    /* Store, read back, store again (no-op). */
    assert_int_equal(dsuit_chunks_put(c, d, data, sizeof data), DSUIT_OK);
    assert_int_equal(dsuit_chunks_put(c, d, data, sizeof data), DSUIT_OK);
    assert_int_equal(dsuit_chunks_get(c, d, 1 << 20, &got, &n), DSUIT_OK);
    assert_int_equal(n, sizeof data);
    assert_memory_equal(got, data, n);
    free(got);
    assert_int_equal(dsuit_chunks_get(c, d, 100, &got, &n), DSUIT_E_LIMIT);
    assert_int_equal(dsuit_chunks_stat(c, &count, &bytes), DSUIT_OK);
    assert_int_equal(count, 1);
    assert_int_equal(bytes, sizeof data);

    /* Rot on disk: one flipped byte. The read refuses and removes it. */
    snprintf(path, sizeof path, "%s/chunks/%.2s/%.2s/%s", f->dir, hex,
             hex + 2, hex);
    {
        FILE *fp = fopen(path, "r+b");
        assert_non_null(fp);
        fseek(fp, 1234, SEEK_SET);
        fputc(data[1234] ^ 0x40, fp);
        fclose(fp);
    }
    assert_int_equal(dsuit_chunks_get(c, d, 1 << 20, &got, &n),
                     DSUIT_E_DIGEST);
    assert_false(dsuit_chunks_has(c, d));
    /* Repair: store it again. */
    assert_int_equal(dsuit_chunks_put(c, d, data, sizeof data), DSUIT_OK);
    assert_int_equal(dsuit_chunks_get(c, d, 1 << 20, &got, &n), DSUIT_OK);
    free(got);
    /* A damaged file found on a put is replaced too. */
    {
        FILE *fp = fopen(path, "r+b");
        fputc(data[0] ^ 0xff, fp);
        fclose(fp);
    }
    assert_int_equal(dsuit_chunks_put(c, d, data, sizeof data), DSUIT_OK);
    assert_int_equal(dsuit_chunks_get(c, d, 1 << 20, &got, &n), DSUIT_OK);
    free(got);
    dsuit_chunks_close(c);

    /* A write a crash left behind in tmp/ is gone after open. */
    {
        char tmp[256];
        FILE *fp;
        struct stat st;
        snprintf(tmp, sizeof tmp, "%s/chunks/tmp/partial", f->dir);
        fp = fopen(tmp, "wb");
        assert_non_null(fp);
        fputs("half a chunk", fp);
        fclose(fp);
        assert_int_equal(dsuit_chunks_open(f->dir, &c), DSUIT_OK);
        assert_int_not_equal(stat(tmp, &st), 0);
    }
    assert_int_equal(dsuit_chunks_del(c, d), DSUIT_OK);
    assert_int_equal(dsuit_chunks_del(c, d), DSUIT_E_NOTFOUND);
    assert_int_equal(dsuit_chunks_stat(c, &count, &bytes), DSUIT_OK);
    assert_int_equal(count, 0);
    dsuit_chunks_close(c);
    dsuit_chunks_close(NULL);
    assert_int_equal(dsuit_chunks_open("/nonexistent/dsuit", &c), DSUIT_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chunk_count_rounds_up),
        cmocka_unit_test(chunker_matches_hashing_each_chunk_for_any_feed),
        cmocka_unit_test(placement_is_deterministic_distinct_and_balanced),
        cmocka_unit_test(only_a_departed_validators_chunks_move),
        cmocka_unit_test_setup_teardown(
            chunk_files_are_checked_repaired_and_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
