/*
 * Tests of the LMDB store layer: the contract of get/put/del/foreach/count,
 * read-only transactions, key limits, height keys sorting by value, and a
 * full map: DSUIT_E_FULL with nothing of the failed transaction kept and
 * everything committed before it intact after reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/store.h"

typedef struct {
    char dir[64];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/dsuit-test-store-XXXXXX");
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

static void store_put_get_del_follow_the_contract(void **state)
{
    fx_t *f = *state;
    dsuit_store_t *s;
    dsuit_store_txn_t *t;
    const uint8_t *v;
    size_t n;
    uint64_t count;

    assert_int_equal(dsuit_store_open(f->dir, NULL, &s), DSUIT_OK);
    assert_int_equal(dsuit_store_begin(s, 1, &t), DSUIT_OK);
    assert_int_equal(dsuit_store_put(t, DSUIT_TBL_AUTHORS, "k1", 2, "v1", 2),
                     DSUIT_OK);
    assert_int_equal(dsuit_store_put(t, DSUIT_TBL_AUTHORS, "k2", 2, "v2", 2),
                     DSUIT_OK);
    /* Replacing a value. */
    assert_int_equal(dsuit_store_put(t, DSUIT_TBL_AUTHORS, "k1", 2, "v1b", 3),
                     DSUIT_OK);
    assert_int_equal(dsuit_store_commit(t), DSUIT_OK);

    assert_int_equal(dsuit_store_begin(s, 0, &t), DSUIT_OK);
    assert_int_equal(dsuit_store_get(t, DSUIT_TBL_AUTHORS, "k1", 2, &v, &n),
                     DSUIT_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(v, "v1b", 3);
    /* Tables are separate. */
    assert_int_equal(dsuit_store_get(t, DSUIT_TBL_DEVICES, "k1", 2, &v, &n),
                     DSUIT_E_NOTFOUND);
    assert_int_equal(dsuit_store_count(t, DSUIT_TBL_AUTHORS, &count),
                     DSUIT_OK);
    assert_int_equal(count, 2);
    /* A read-only transaction cannot write. */
    assert_int_equal(dsuit_store_put(t, DSUIT_TBL_AUTHORS, "k3", 2, "v", 1),
                     DSUIT_E_INVAL);
    dsuit_store_abort(t);

    assert_int_equal(dsuit_store_begin(s, 1, &t), DSUIT_OK);
    assert_int_equal(dsuit_store_del(t, DSUIT_TBL_AUTHORS, "k2", 2), DSUIT_OK);
    assert_int_equal(dsuit_store_del(t, DSUIT_TBL_AUTHORS, "k2", 2),
                     DSUIT_E_NOTFOUND);
    /* Keys: not empty, at most 511 bytes. */
    {
        uint8_t big[512] = {0};
        assert_int_equal(dsuit_store_put(t, DSUIT_TBL_AUTHORS, big, 0, "v", 1),
                         DSUIT_E_INVAL);
        assert_int_equal(dsuit_store_put(t, DSUIT_TBL_AUTHORS, big, 512, "v",
                                         1),
                         DSUIT_E_INVAL);
        assert_int_equal(dsuit_store_put(t, DSUIT_TBL_AUTHORS, big, 511, "v",
                                         1),
                         DSUIT_OK);
    }
    /* An aborted write leaves nothing. */
    dsuit_store_abort(t);
    assert_int_equal(dsuit_store_begin(s, 0, &t), DSUIT_OK);
    assert_int_equal(dsuit_store_get(t, DSUIT_TBL_AUTHORS, "k2", 2, &v, &n),
                     DSUIT_OK);
    dsuit_store_abort(t);
    dsuit_store_close(s);
    dsuit_store_close(NULL);
    dsuit_store_abort(NULL);
}

static int visit(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                 size_t vl)
{
    uint64_t *last = arg;
    (void)v;
    (void)vl;
    assert_int_equal(kl, 8);
    uint64_t h = dsuit_store_u64_from(k);
    /* Keys come in order of value, not of decimal spelling. */
    assert_true(*last == UINT64_MAX || h > *last);
    *last = h;
    return h == 1000 ? 42 : 0; /* stop early at 1000 */
}

static void height_keys_sort_by_value_and_walks_can_stop(void **state)
{
    fx_t *f = *state;
    dsuit_store_t *s;
    dsuit_store_txn_t *t;
    uint64_t last = UINT64_MAX;
    const uint64_t hs[] = {10, 2, 1000, 9, 100000, 1, 256};
    assert_int_equal(dsuit_store_open(f->dir, NULL, &s), DSUIT_OK);
    assert_int_equal(dsuit_store_begin(s, 1, &t), DSUIT_OK);
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        uint8_t k[8];
        dsuit_store_u64_key(hs[i], k);
        assert_int_equal(dsuit_store_put(t, DSUIT_TBL_BLOCKS, k, 8, "b", 1),
                         DSUIT_OK);
    }
    assert_int_equal(dsuit_store_commit(t), DSUIT_OK);
    assert_int_equal(dsuit_store_begin(s, 0, &t), DSUIT_OK);
    assert_int_equal(dsuit_store_foreach(t, DSUIT_TBL_BLOCKS, visit, &last),
                     42);
    assert_int_equal(last, 1000);
    dsuit_store_abort(t);
    dsuit_store_close(s);
}

static void a_full_map_fails_cleanly_and_keeps_what_was_committed(void **st)
{
    fx_t *f = *st;
    dsuit_store_opts_t o = {0};
    dsuit_store_t *s;
    dsuit_store_txn_t *t;
    uint8_t val[4096];
    uint64_t committed = 0, count;
    int rc = DSUIT_OK;

    memset(val, 0xab, sizeof val);
    o.map_size = 256 * 1024; /* tiny: fills after a few dozen values */
    assert_int_equal(dsuit_store_open(f->dir, &o, &s), DSUIT_OK);
    /* One value per transaction until the map is full. */
    for (uint64_t i = 0; i < 1000 && rc == DSUIT_OK; i++) {
        uint8_t k[8];
        dsuit_store_u64_key(i, k);
        assert_int_equal(dsuit_store_begin(s, 1, &t), DSUIT_OK);
        rc = dsuit_store_put(t, DSUIT_TBL_CHUNKS, k, 8, val, sizeof val);
        if (rc == DSUIT_OK)
            rc = dsuit_store_commit(t);
        else
            dsuit_store_abort(t);
        if (rc == DSUIT_OK)
            committed++;
    }
    assert_int_equal(rc, DSUIT_E_FULL);
    assert_true(committed > 5);
    assert_string_equal(dsuit_strerror(DSUIT_E_FULL),
                        "storage is full (raise the map size)");
    dsuit_store_close(s);

    /* Reopened with room: everything committed is there, the failed write
     * is not, and writing goes on. */
    o.map_size = 16 * 1024 * 1024;
    assert_int_equal(dsuit_store_open(f->dir, &o, &s), DSUIT_OK);
    assert_int_equal(dsuit_store_begin(s, 1, &t), DSUIT_OK);
    assert_int_equal(dsuit_store_count(t, DSUIT_TBL_CHUNKS, &count),
                     DSUIT_OK);
    assert_int_equal(count, committed);
    for (uint64_t i = 0; i < committed; i++) {
        uint8_t k[8];
        const uint8_t *v;
        size_t n;
        dsuit_store_u64_key(i, k);
        assert_int_equal(dsuit_store_get(t, DSUIT_TBL_CHUNKS, k, 8, &v, &n),
                         DSUIT_OK);
        assert_int_equal(n, sizeof val);
        assert_memory_equal(v, val, sizeof val);
    }
    {
        uint8_t k[8];
        dsuit_store_u64_key(committed, k);
        assert_int_equal(dsuit_store_put(t, DSUIT_TBL_CHUNKS, k, 8, val,
                                         sizeof val),
                         DSUIT_OK);
    }
    assert_int_equal(dsuit_store_commit(t), DSUIT_OK);
    dsuit_store_close(s);
}

static void opening_a_missing_folder_is_an_io_error(void **state)
{
    (void)state;
    dsuit_store_t *s = NULL;
    assert_int_equal(dsuit_store_open("/nonexistent/dsuit/store", NULL, &s),
                     DSUIT_E_IO);
    assert_null(s);
    assert_int_equal(dsuit_store_open(NULL, NULL, &s), DSUIT_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            store_put_get_del_follow_the_contract, setup, teardown),
        cmocka_unit_test_setup_teardown(
            height_keys_sort_by_value_and_walks_can_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_full_map_fails_cleanly_and_keeps_what_was_committed, setup,
            teardown),
        cmocka_unit_test(opening_a_missing_folder_is_an_io_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
