/*
 * Tests of the node-side Merkle tree (src/ledger/merkle.c): tree heads of
 * every size, inclusion and consistency proofs, errors, and allocation
 * failure.
 *
 * Known answers: the Certificate Transparency reference data (8 leaves,
 * tree heads of sizes 0..8, inclusion and consistency paths) as published
 * with the CT Go implementations (transparency-dev/merkle
 * proof/verify_test.go; the same values as google/certificate-
 * transparency's C++ merkle_tree_test.cc).
 *
 * Against a naive reference written from RFC 9162 §2.1's recursive
 * definitions (tests/helpers/merkle_ref.c): every tree head of sizes 0..N
 * equals MTH; every inclusion proof of every leaf in every size 1..N and every
 * consistency proof for every pair of sizes 0 <= m <= n <= N verifies with
 * the device verifier (src/device/proof/merkle.c) and, up to REF_EQUAL_MAX,
 * equals the reference PATH / PROOF byte for byte; sampled proofs changed
 * in any way do not verify (the device test changes every proof of every
 * size up to 64 exhaustively).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/crypto.h"
#include "dsuit/merkle.h"
#include "dsuit/proof.h"
#include "merkle_ref.h"
#include "vectors.h"

#define H             32
#define N             200 /* every size 1..N */
#define REF_EQUAL_MAX 32  /* proofs compared with the reference up to here */

/* ---- fixtures ---- */

static uint8_t leaves[N + 1][H];
static uint8_t roots[N + 1][H]; /* reference MTH of the first n leaves */

static int setup_leaves(void **state)
{
    (void)state;
    for (size_t i = 0; i <= N; i++) {
        uint8_t d[2] = {(uint8_t)(i >> 8), (uint8_t)i};
        if (dsuit_merkle_leaf_hash(d, sizeof d, leaves[i]) != DSUIT_OK)
            return -1;
    }
    for (size_t n = 0; n <= N; n++)
        mref_mth((const uint8_t(*)[H])leaves, n, roots[n]);
    return 0;
}

static dsuit_merkle_tree_t *tree_of(const uint8_t (*lh)[H], size_t n)
{
    dsuit_merkle_tree_t *t = NULL;
    assert_int_equal(dsuit_merkle_tree_new(NULL, &t), DSUIT_OK);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(dsuit_merkle_tree_append(t, lh[i]), DSUIT_OK);
    assert_int_equal(dsuit_merkle_tree_size(t), n);
    return t;
}

static dsuit_merkle_tree_t *ct_tree(void)
{
    uint8_t lh[8][H], leaf[16];
    for (size_t i = 0; i < 8; i++) {
        size_t n = tv_hex(mref_ct_leaves_hex[i], leaf, sizeof leaf);
        assert_int_equal(dsuit_merkle_leaf_hash(n ? leaf : NULL, n, lh[i]),
                         DSUIT_OK);
    }
    return tree_of((const uint8_t(*)[H])lh, 8);
}

/* ---- known answers ---- */

static void merkle_tree_roots_of_ct_leaves_match_the_ct_tree_heads(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t = ct_tree();
    uint8_t want[H], got[H];
    for (uint64_t n = 0; n <= 8; n++) {
        tv_hex(mref_ct_roots_hex[n], want, sizeof want);
        assert_int_equal(dsuit_merkle_tree_root(t, n, got), DSUIT_OK);
        if (memcmp(got, want, H) != 0)
            fail_msg("size %llu: root differs from the CT tree head",
                     (unsigned long long)n);
    }
    dsuit_merkle_tree_free(t);
}

static void merkle_tree_proofs_of_ct_leaves_equal_the_ct_paths(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t = ct_tree();
    uint8_t want[8 * H], got[8 * H];
    for (size_t k = 0; k < MREF_CT_N_INCLUSION; k++) {
        size_t wlen = tv_hex(mref_ct_inclusion[k].path_hex, want, sizeof want);
        size_t glen = 99;
        assert_int_equal(dsuit_merkle_tree_inclusion_proof(
                             t, mref_ct_inclusion[k].index,
                             mref_ct_inclusion[k].size, got, sizeof got, &glen),
                         DSUIT_OK);
        assert_int_equal(glen, wlen);
        assert_memory_equal(got, want, wlen);
    }
    for (size_t k = 0; k < MREF_CT_N_CONSISTENCY; k++) {
        size_t wlen =
            tv_hex(mref_ct_consistency[k].path_hex, want, sizeof want);
        size_t glen = 99;
        assert_int_equal(
            dsuit_merkle_tree_consistency_proof(t, mref_ct_consistency[k].size1,
                                                mref_ct_consistency[k].size2,
                                                got, sizeof got, &glen),
            DSUIT_OK);
        assert_int_equal(glen, wlen);
        assert_memory_equal(got, want, wlen);
    }
    dsuit_merkle_tree_free(t);
}

/* ---- against the reference ---- */

static void
merkle_tree_root_of_every_size_equals_the_reference_mth(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t;
    uint8_t got[H];
    uint8_t at_append[N + 1][H];
    assert_int_equal(dsuit_merkle_tree_new(NULL, &t), DSUIT_OK);
    assert_int_equal(dsuit_merkle_tree_root(t, 0, at_append[0]), DSUIT_OK);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(dsuit_merkle_tree_append(t, leaves[i]), DSUIT_OK);
        assert_int_equal(dsuit_merkle_tree_root(t, i + 1, at_append[i + 1]),
                         DSUIT_OK);
    }
    /* Historical heads are unchanged by later appends. */
    for (size_t n = 0; n <= N; n++) {
        assert_int_equal(dsuit_merkle_tree_root(t, n, got), DSUIT_OK);
        if (memcmp(got, roots[n], H) != 0 ||
            memcmp(at_append[n], roots[n], H) != 0)
            fail_msg("size %zu: root differs from the reference MTH", n);
    }
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(dsuit_merkle_tree_leaf(t, i, got), DSUIT_OK);
        assert_memory_equal(got, leaves[i], H);
    }
    dsuit_merkle_tree_free(t);
}

static void expect_incl_fails(const uint8_t *leaf, uint64_t i, uint64_t n,
                              const uint8_t *path, size_t len,
                              const uint8_t *root, const char *what)
{
    if (dsuit_merkle_verify_inclusion(leaf, i, n, path, len, root) == DSUIT_OK)
        fail_msg("inclusion index %llu size %llu: verified with %s",
                 (unsigned long long)i, (unsigned long long)n, what);
}

/* A sample of changes to a good proof (the device test makes them all,
 * every bit flipped included, for every proof of sizes up to 40). */
static void tamper_inclusion(size_t i, size_t n, const uint8_t *path,
                             size_t len)
{
    uint8_t buf[(DSUIT_MERKLE_MAX_DEPTH + 1) * H];
    static const size_t dsizes[] = {1, 2, 3};
    if (len > 0) {
        expect_incl_fails(leaves[i], i, n, path, len - H, roots[n],
                          "truncated");
        expect_incl_fails(leaves[i], i, n, path + H, len - H, roots[n],
                          "first dropped");
    }
    memcpy(buf, path, len);
    memcpy(buf + len, roots[n], H);
    expect_incl_fails(leaves[i], i, n, buf, len + H, roots[n], "extended");
    /* One bit in each hash, at a place that moves with i and n. */
    for (size_t k = 0; k < len / H; k++) {
        size_t byte = k * H + (i * 7 + n + k) % H;
        memcpy(buf, path, len);
        buf[byte] ^= (uint8_t)(1u << ((i + k) % 8));
        expect_incl_fails(leaves[i], i, n, buf, len, roots[n], "bit flipped");
    }
    for (size_t d = 0; d < sizeof dsizes / sizeof dsizes[0]; d++) {
        if (i >= dsizes[d])
            expect_incl_fails(leaves[i], i - dsizes[d], n, path, len, roots[n],
                              "lower index");
        expect_incl_fails(leaves[i], i + dsizes[d], n, path, len, roots[n],
                          "higher index");
    }
    /* Another size: with its own root always rejected; with this root
     * accepted exactly when leaf i has the same route in both trees. */
    const size_t others[] = {n - 1, n + 1, n + 2, n * 2, n / 2};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
        size_t m = others[k];
        uint64_t b1, b2 = 0;
        size_t l1, l2 = SIZE_MAX;
        int rc;
        if (m == n || m == 0 || m > N)
            continue;
        if (i < m) {
            expect_incl_fails(leaves[i], i, m, path, len, roots[m],
                              "another size and its root");
            mref_route(i, m, &b2, &l2);
        }
        mref_route(i, n, &b1, &l1);
        rc =
            dsuit_merkle_verify_inclusion(leaves[i], i, m, path, len, roots[n]);
        if ((rc == DSUIT_OK) != (l1 == l2 && b1 == b2))
            fail_msg("index %zu size %zu claimed as %zu: %s", i, n, m,
                     dsuit_err_name(rc));
    }
}

static void
merkle_tree_inclusion_proof_of_every_leaf_of_every_size_verifies(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t = tree_of((const uint8_t(*)[H])leaves, N);
    uint8_t path[DSUIT_MERKLE_MAX_DEPTH * H], ref[DSUIT_MERKLE_MAX_DEPTH * H];
    size_t proofs = 0;
    for (size_t n = 1; n <= N; n++) {
        for (size_t i = 0; i < n; i++) {
            size_t len = 0;
            int rc = dsuit_merkle_tree_inclusion_proof(t, i, n, path,
                                                       sizeof path, &len);
            if (rc != DSUIT_OK)
                fail_msg("proof %zu of %zu: %s", i, n, dsuit_err_name(rc));
            assert_int_equal(len, dsuit_merkle_inclusion_path_count(i, n) * H);
            rc = dsuit_merkle_verify_inclusion(leaves[i], i, n, path, len,
                                               roots[n]);
            if (rc != DSUIT_OK)
                fail_msg("proof %zu of %zu does not verify: %s", i, n,
                         dsuit_err_name(rc));
            if (n <= REF_EQUAL_MAX) {
                size_t c = mref_path(i, (const uint8_t(*)[H])leaves, n, ref);
                assert_int_equal(c * H, len);
                if (len > 0 && memcmp(ref, path, len) != 0)
                    fail_msg("proof %zu of %zu differs from PATH", i, n);
            }
            if (n <= 64 || i % 5 == 0 || i + 2 >= n)
                tamper_inclusion(i, n, path, len);
            proofs++;
        }
    }
    assert_int_equal(proofs, N * (N + 1) / 2);
    dsuit_merkle_tree_free(t);
}

static void expect_cons_fails(uint64_t m, uint64_t n, const uint8_t *r1,
                              const uint8_t *r2, const uint8_t *path,
                              size_t len, const char *what)
{
    if (dsuit_merkle_verify_consistency(m, n, r1, r2, path, len) == DSUIT_OK)
        fail_msg("consistency %llu -> %llu: verified with %s",
                 (unsigned long long)m, (unsigned long long)n, what);
}

static void tamper_consistency(size_t m, size_t n, const uint8_t *path,
                               size_t len)
{
    uint8_t buf[(DSUIT_MERKLE_MAX_DEPTH + 1) * H];
    if (len == 0)
        return; /* trivial proofs: see the device test's tables */
    expect_cons_fails(m, n, roots[m], roots[n], path, len - H, "truncated");
    expect_cons_fails(m, n, roots[m], roots[n], path, 0, "emptied");
    memcpy(buf, path, len);
    memcpy(buf + len, roots[n], H);
    expect_cons_fails(m, n, roots[m], roots[n], buf, len + H, "extended");
    for (size_t k = 0; k < len / H; k++) {
        size_t byte = k * H + (m * 7 + n + k) % H;
        memcpy(buf, path, len);
        buf[byte] ^= (uint8_t)(1u << ((m + k) % 8));
        expect_cons_fails(m, n, roots[m], roots[n], buf, len, "bit flipped");
    }
    expect_cons_fails(m, n, roots[n], roots[m], path, len, "swapped roots");
    expect_cons_fails(m - 1, n, roots[m - 1], roots[n], path, len, "size1 - 1");
    if (m + 1 <= n)
        expect_cons_fails(m + 1, n, roots[m + 1], roots[n], path, len,
                          "size1 + 1");
    expect_cons_fails(m, n - 1, roots[m], roots[n - 1], path, len, "size2 - 1");
    if (n + 1 <= N)
        expect_cons_fails(m, n + 1, roots[m], roots[n + 1], path, len,
                          "size2 + 1");
}

static void
merkle_tree_consistency_proof_of_every_pair_of_sizes_verifies(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t = tree_of((const uint8_t(*)[H])leaves, N);
    uint8_t path[DSUIT_MERKLE_MAX_DEPTH * H], ref[DSUIT_MERKLE_MAX_DEPTH * H];
    size_t proofs = 0;
    for (size_t n = 0; n <= N; n++) {
        for (size_t m = 0; m <= n; m++) {
            size_t len = 1;
            int rc = dsuit_merkle_tree_consistency_proof(t, m, n, path,
                                                         sizeof path, &len);
            if (rc != DSUIT_OK)
                fail_msg("proof %zu -> %zu: %s", m, n, dsuit_err_name(rc));
            assert_int_equal(len,
                             dsuit_merkle_consistency_path_count(m, n) * H);
            rc = dsuit_merkle_verify_consistency(m, n, roots[m], roots[n],
                                                 len ? path : NULL, len);
            if (rc != DSUIT_OK)
                fail_msg("proof %zu -> %zu does not verify: %s", m, n,
                         dsuit_err_name(rc));
            if (n <= REF_EQUAL_MAX) {
                size_t c = mref_proof(m, (const uint8_t(*)[H])leaves, n, ref);
                assert_int_equal(c * H, len);
                if (len > 0 && memcmp(ref, path, len) != 0)
                    fail_msg("proof %zu -> %zu differs from PROOF", m, n);
            }
            if (n <= 40 || m % 7 == 1 || m + 1 == n)
                tamper_consistency(m, n, path, len);
            proofs++;
        }
    }
    assert_int_equal(proofs, (N + 1) * (N + 2) / 2);
    dsuit_merkle_tree_free(t);
}

static void
merkle_tree_truncated_and_regrown_has_the_roots_of_its_leaves(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t = tree_of((const uint8_t(*)[H])leaves, 100);
    uint8_t got[H], lh[100][H];
    /* Truncate to every smaller size, regrow with other leaves. */
    for (size_t cut = 0; cut <= 100; cut += 7) {
        assert_int_equal(dsuit_merkle_tree_truncate(t, cut), DSUIT_OK);
        assert_int_equal(dsuit_merkle_tree_size(t), cut);
        assert_int_equal(dsuit_merkle_tree_root(t, cut, got), DSUIT_OK);
        assert_memory_equal(got, roots[cut], H);
        assert_int_equal(dsuit_merkle_tree_root(t, cut + 1, got),
                         DSUIT_E_INVAL);
        memcpy(lh, leaves, cut * H);
        for (size_t i = cut; i < 100; i++) {
            memcpy(lh[i], leaves[N - i], H); /* different leaves */
            assert_int_equal(dsuit_merkle_tree_append(t, lh[i]), DSUIT_OK);
        }
        for (size_t n = 0; n <= 100; n += 3) {
            uint8_t want[H], path[DSUIT_MERKLE_MAX_DEPTH * H];
            size_t len = 0, i = n / 2;
            mref_mth((const uint8_t(*)[H])lh, n, want);
            assert_int_equal(dsuit_merkle_tree_root(t, n, got), DSUIT_OK);
            if (memcmp(got, want, H) != 0)
                fail_msg("cut %zu, size %zu: root differs", cut, n);
            if (n == 0)
                continue;
            assert_int_equal(dsuit_merkle_tree_inclusion_proof(
                                 t, i, n, path, sizeof path, &len),
                             DSUIT_OK);
            assert_int_equal(
                dsuit_merkle_verify_inclusion(lh[i], i, n, path, len, want),
                DSUIT_OK);
        }
        /* back to the original leaves for the next round */
        assert_int_equal(dsuit_merkle_tree_truncate(t, 0), DSUIT_OK);
        for (size_t i = 0; i < 100; i++)
            assert_int_equal(dsuit_merkle_tree_append(t, leaves[i]), DSUIT_OK);
    }
    assert_int_equal(dsuit_merkle_tree_truncate(t, 101), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_truncate(NULL, 0), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_size(t), 100);
    dsuit_merkle_tree_free(t);
}

/* ---- errors ---- */

static void merkle_tree_rejects_sizes_and_indices_past_the_tree(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t = tree_of((const uint8_t(*)[H])leaves, 5);
    uint8_t out[8 * H];
    size_t len = 12345;

    assert_int_equal(dsuit_merkle_tree_root(t, 6, out), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_root(t, UINT64_MAX, out), DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_inclusion_proof(t, 5, 5, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_inclusion_proof(t, 0, 0, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_inclusion_proof(t, 0, 6, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_consistency_proof(t, 3, 2, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_consistency_proof(t, 3, 6, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(len, 12345); /* not written on these errors */
    assert_int_equal(dsuit_merkle_tree_leaf(t, 5, out), DSUIT_E_NOTFOUND);
    dsuit_merkle_tree_free(t);
}

static void
merkle_tree_proof_into_a_small_buffer_gives_the_size_needed(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t = tree_of((const uint8_t(*)[H])leaves, 8);
    uint8_t out[3 * H];
    size_t len = 0;
    assert_int_equal(
        dsuit_merkle_tree_inclusion_proof(t, 5, 8, out, 3 * H - 1, &len),
        DSUIT_E_LIMIT);
    assert_int_equal(len, 3 * H);
    len = 0;
    assert_int_equal(dsuit_merkle_tree_inclusion_proof(t, 5, 8, NULL, 0, &len),
                     DSUIT_E_LIMIT);
    assert_int_equal(len, 3 * H);
    len = 0;
    assert_int_equal(dsuit_merkle_tree_consistency_proof(t, 6, 8, out, H, &len),
                     DSUIT_E_LIMIT);
    assert_int_equal(len, 3 * H);
    /* An empty proof needs no buffer. */
    len = 9;
    assert_int_equal(dsuit_merkle_tree_inclusion_proof(t, 0, 1, NULL, 0, &len),
                     DSUIT_OK);
    assert_int_equal(len, 0);
    len = 9;
    assert_int_equal(
        dsuit_merkle_tree_consistency_proof(t, 0, 8, NULL, 0, &len), DSUIT_OK);
    assert_int_equal(len, 0);
    len = 9;
    assert_int_equal(
        dsuit_merkle_tree_consistency_proof(t, 8, 8, NULL, 0, &len), DSUIT_OK);
    assert_int_equal(len, 0);
    dsuit_merkle_tree_free(t);
}

static void merkle_tree_rejects_null_arguments(void **state)
{
    (void)state;
    dsuit_merkle_tree_t *t = tree_of((const uint8_t(*)[H])leaves, 2);
    uint8_t out[H];
    size_t len;
    assert_int_equal(dsuit_merkle_tree_new(NULL, NULL), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_append(NULL, leaves[0]), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_append(t, NULL), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_size(NULL), 0);
    assert_int_equal(dsuit_merkle_tree_root(NULL, 0, out), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_root(t, 0, NULL), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_leaf(NULL, 0, out), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_leaf(t, 0, NULL), DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_inclusion_proof(NULL, 0, 1, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_inclusion_proof(t, 0, 2, out, sizeof out, NULL),
        DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_inclusion_proof(t, 0, 2, NULL, H, &len),
                     DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_consistency_proof(NULL, 1, 2, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_tree_consistency_proof(t, 1, 2, out, sizeof out, NULL),
        DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_tree_size(t), 2);
    dsuit_merkle_tree_free(t);
    dsuit_merkle_tree_free(NULL);
}

/* ---- allocation failure ---- */

struct failing_alloc {
    long fail_at; /* the allocation (counted from 0) that fails */
    long calls;
    long live; /* blocks allocated and not yet freed */
};

static void *failing_realloc(void *arg, void *ptr, size_t size)
{
    struct failing_alloc *a = arg;
    void *p;
    if (size == 0) {
        if (ptr != NULL)
            a->live--;
        free(ptr);
        return NULL;
    }
    if (a->calls++ == a->fail_at)
        return NULL;
    p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        a->live++;
    return p;
}

static void
merkle_tree_survives_failure_of_each_allocation_in_turn(void **state)
{
    (void)state;
    const size_t n_leaves = N;
    long total = -1;

    for (long k = 0; total < 0 || k < total; k++) {
        struct failing_alloc a = {.fail_at = k};
        dsuit_merkle_opts_t opts = {.realloc_fn = failing_realloc, .arg = &a};
        dsuit_merkle_tree_t *t = (dsuit_merkle_tree_t *)0x1;
        uint8_t root[H];
        int failed = 0;
        int rc = dsuit_merkle_tree_new(&opts, &t);
        if (rc == DSUIT_E_NOMEM) {
            assert_ptr_equal(t, (dsuit_merkle_tree_t *)0x1); /* untouched */
            assert_int_equal(a.live, 0);
            failed = 1;
            rc = dsuit_merkle_tree_new(&opts, &t);
        }
        assert_int_equal(rc, DSUIT_OK);
        for (size_t i = 0; i < n_leaves; i++) {
            rc = dsuit_merkle_tree_append(t, leaves[i]);
            if (rc == DSUIT_E_NOMEM) {
                /* The tree is as before the call, and still works. */
                failed = 1;
                assert_int_equal(dsuit_merkle_tree_size(t), i);
                assert_int_equal(dsuit_merkle_tree_root(t, i, root), DSUIT_OK);
                assert_memory_equal(root, roots[i], H);
                rc = dsuit_merkle_tree_append(t, leaves[i]);
            }
            assert_int_equal(rc, DSUIT_OK);
        }
        assert_int_equal(dsuit_merkle_tree_size(t), n_leaves);
        assert_int_equal(dsuit_merkle_tree_root(t, n_leaves, root), DSUIT_OK);
        assert_memory_equal(root, roots[n_leaves], H);
        dsuit_merkle_tree_free(t);
        assert_int_equal(a.live, 0);
        if (!failed) {
            total = k; /* k reached past the last allocation */
            break;
        }
        if (total < 0 && k > 10000)
            fail_msg("allocation count does not converge");
    }
    /* Appending N leaves took a handful of allocations: the levels grow by
     * doubling, not one leaf at a time. */
    assert_true(total > 1 && total < 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            merkle_tree_roots_of_ct_leaves_match_the_ct_tree_heads),
        cmocka_unit_test(merkle_tree_proofs_of_ct_leaves_equal_the_ct_paths),
        cmocka_unit_test(
            merkle_tree_root_of_every_size_equals_the_reference_mth),
        cmocka_unit_test(
            merkle_tree_inclusion_proof_of_every_leaf_of_every_size_verifies),
        cmocka_unit_test(
            merkle_tree_consistency_proof_of_every_pair_of_sizes_verifies),
        cmocka_unit_test(
            merkle_tree_truncated_and_regrown_has_the_roots_of_its_leaves),
        cmocka_unit_test(merkle_tree_rejects_sizes_and_indices_past_the_tree),
        cmocka_unit_test(
            merkle_tree_proof_into_a_small_buffer_gives_the_size_needed),
        cmocka_unit_test(merkle_tree_rejects_null_arguments),
        cmocka_unit_test(
            merkle_tree_survives_failure_of_each_allocation_in_turn),
    };
    return cmocka_run_group_tests(tests, setup_leaves, NULL);
}
