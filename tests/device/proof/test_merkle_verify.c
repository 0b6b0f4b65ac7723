/*
 * Tests of the device-side Merkle proof code (src/device/proof/merkle.c):
 * RFC 9162 §2.1 hashes, inclusion and consistency verification, and the
 * CBOR form of an inclusion proof.
 *
 * Known answers: the Certificate Transparency reference data (the 8 leaves
 * "", 00, 10, 2021, 3031, 40414243, 5051525354555657,
 * 606162636465666768696a6b6c6d6e6f, the tree heads of sizes 0..8, and the
 * inclusion and consistency paths), as published with the CT Go
 * implementations (transparency-dev/merkle proof/verify_test.go, the same
 * values as google/certificate-transparency's C++ merkle_tree_test.cc).
 *
 * Beyond them, an independent reference written straight from the RFC's
 * recursive definitions (MTH, PATH, SUBPROOF), in tests/helpers/merkle_ref.c
 * (shared with tests/ledger/test_merkle.c), produces
 * the proof of every leaf of every tree up to REF_MAX leaves and of every
 * pair of sizes; each must verify, and each one changed in any way
 * (truncated, extended, one bit flipped, another index or size, another
 * root) must not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/crypto.h"
#include "dsuit/proof.h"
#include "merkle_ref.h"
#include "vectors.h"

#define H            32
#define REF_MAX      40 /* every size 1..REF_MAX, every index / pair */
#define FLIP_ALL_MAX 12 /* sizes whose proofs get every bit flipped */

/* ---- test data ---- */

static uint8_t big_leaves[REF_MAX + 1][H];
static uint8_t big_roots[REF_MAX + 1][H];

static int setup_big(void **state)
{
    (void)state;
    for (size_t i = 0; i <= REF_MAX; i++) {
        uint8_t d[3] = {(uint8_t)(i >> 8), (uint8_t)i, 0x5a};
        if (dsuit_merkle_leaf_hash(d, sizeof d, big_leaves[i]) != DSUIT_OK)
            return -1;
    }
    for (size_t n = 0; n <= REF_MAX; n++)
        mref_mth((const uint8_t(*)[H])big_leaves, n, big_roots[n]);
    return 0;
}

static uint8_t ct_leaf_hash[8][H];
static uint8_t ct_root[9][H];

/* Called from inside tests (tv_hex fails the test on bad hex). */
static void load_ct(void)
{
    uint8_t leaf[16];
    for (size_t i = 0; i < 8; i++) {
        size_t n = tv_hex(mref_ct_leaves_hex[i], leaf, sizeof leaf);
        assert_int_equal(
            dsuit_merkle_leaf_hash(n ? leaf : NULL, n, ct_leaf_hash[i]),
            DSUIT_OK);
    }
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(tv_hex(mref_ct_roots_hex[i], ct_root[i], H), H);
}

/* ---- hashes and roots ---- */

static void merkle_leaf_hash_of_empty_leaf_is_ct_root_of_size_1(void **state)
{
    (void)state;
    load_ct();
    assert_memory_equal(ct_leaf_hash[0], ct_root[1], H);
}

static void
merkle_node_hash_of_first_two_ct_leaves_is_root_of_size_2(void **state)
{
    (void)state;
    uint8_t out[H], copy[H];
    load_ct();
    assert_int_equal(
        dsuit_merkle_node_hash(ct_leaf_hash[0], ct_leaf_hash[1], out),
        DSUIT_OK);
    assert_memory_equal(out, ct_root[2], H);
    /* out may alias an input */
    memcpy(copy, ct_leaf_hash[0], H);
    assert_int_equal(dsuit_merkle_node_hash(copy, ct_leaf_hash[1], copy),
                     DSUIT_OK);
    assert_memory_equal(copy, ct_root[2], H);
}

static void merkle_reference_mth_gives_every_ct_root(void **state)
{
    (void)state;
    uint8_t out[H];
    load_ct();
    for (size_t n = 0; n <= 8; n++) {
        mref_mth((const uint8_t(*)[H])ct_leaf_hash, n, out);
        if (memcmp(out, ct_root[n], H) != 0)
            fail_msg("size %zu: reference MTH differs from the CT root", n);
    }
}

static void merkle_leaf_hash_rejects_null_arguments(void **state)
{
    (void)state;
    uint8_t out[H];
    memset(out, 0xaa, H);
    assert_int_equal(dsuit_merkle_leaf_hash(NULL, 1, out), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_leaf_hash((const uint8_t *)"x", 1, NULL),
                     DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_node_hash(NULL, out, out), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_node_hash(out, NULL, out), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_node_hash(out, out, NULL), DSUIT_E_INVAL);
}

/* ---- tampering helpers: a proof must verify and nothing near it may ---- */

static void expect_incl_fails(const uint8_t *leaf, uint64_t i, uint64_t n,
                              const uint8_t *path, size_t len,
                              const uint8_t *root, const char *what)
{
    int rc = dsuit_merkle_verify_inclusion(leaf, i, n, path, len, root);
    if (rc == DSUIT_OK)
        fail_msg("inclusion index %llu size %llu: verified with %s",
                 (unsigned long long)i, (unsigned long long)n, what);
}

/* Every change to a good inclusion proof of leaf i in a tree of n. */
static void tamper_inclusion(const uint8_t (*lh)[H], const uint8_t (*roots)[H],
                             size_t max_n, size_t i, size_t n,
                             const uint8_t *path, size_t count, int all_bits)
{
    uint8_t buf[(DSUIT_MERKLE_MAX_DEPTH + 2) * H];
    uint8_t leaf[H], root[H];
    size_t len = count * H;

    /* Truncated: drop the last hash, the first hash, or bytes. */
    if (count > 0) {
        expect_incl_fails(lh[i], i, n, path, len - H, roots[n], "last dropped");
        expect_incl_fails(lh[i], i, n, path + H, len - H, roots[n],
                          "first dropped");
        expect_incl_fails(lh[i], i, n, path, len - 1, roots[n], "1 byte short");
    }
    /* Extended: a hash appended or prepended (the root, a leaf, zeros). */
    memcpy(buf, path, len);
    memcpy(buf + len, roots[n], H);
    expect_incl_fails(lh[i], i, n, buf, len + H, roots[n], "root appended");
    memset(buf + len, 0, H);
    expect_incl_fails(lh[i], i, n, buf, len + H, roots[n], "zeros appended");
    memcpy(buf, lh[i], H);
    memcpy(buf + H, path, len);
    expect_incl_fails(lh[i], i, n, buf, len + H, roots[n], "leaf prepended");
    buf[0] = 0;
    expect_incl_fails(lh[i], i, n, buf, len + 1, roots[n], "1 byte extra");

    /* One bit flipped: in the path, the leaf hash, the root. */
    for (size_t byte = 0; byte < len; byte++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            if (!all_bits && bit != (byte % 8))
                continue;
            memcpy(buf, path, len);
            buf[byte] ^= (uint8_t)(1u << bit);
            expect_incl_fails(lh[i], i, n, buf, len, roots[n], "path bit");
        }
    }
    for (size_t byte = 0; byte < H; byte++) {
        unsigned bit = all_bits ? 0 : (unsigned)(byte % 8);
        for (; bit < 8; bit++) {
            memcpy(leaf, lh[i], H);
            leaf[byte] ^= (uint8_t)(1u << bit);
            expect_incl_fails(leaf, i, n, path, len, roots[n], "leaf bit");
            memcpy(root, roots[n], H);
            root[byte] ^= (uint8_t)(1u << bit);
            expect_incl_fails(lh[i], i, n, path, len, root, "root bit");
            if (!all_bits)
                break;
        }
    }

    /* Another index: always rejected. */
    for (size_t j = 0; j < n + 2; j++) {
        if (j != i)
            expect_incl_fails(lh[i], j, n, path, len, roots[n],
                              "another index");
    }
    expect_incl_fails(lh[i], (uint64_t)i ^ ((uint64_t)1 << 63), n, path, len,
                      roots[n], "index with top bit");

    /* Another size: with that size's own root, always rejected; with the
     * true root, accepted exactly when leaf i has the same route in both
     * trees (the path then means the same thing: see proof.h). */
    for (size_t m = 1; m <= max_n && m <= 2 * n + 1; m++) {
        uint64_t b1, b2;
        size_t l1, l2;
        int rc;
        if (m == n)
            continue;
        if (i < m)
            expect_incl_fails(lh[i], i, m, path, len, roots[m],
                              "another size and its root");
        rc = dsuit_merkle_verify_inclusion(lh[i], i, m, path, len, roots[n]);
        mref_route(i, n, &b1, &l1);
        if (i < m)
            mref_route(i, m, &b2, &l2);
        else {
            l2 = SIZE_MAX;
            b2 = 0;
        }
        if ((rc == DSUIT_OK) != (l1 == l2 && b1 == b2))
            fail_msg("index %zu size %zu claimed as size %zu: %s", i, n, m,
                     dsuit_err_name(rc));
    }
    expect_incl_fails(lh[i], i, (uint64_t)n | ((uint64_t)1 << 63), path, len,
                      roots[n], "size with top bit");
    /* Another leaf in the right place. */
    if (n > 1)
        expect_incl_fails(lh[(i + 1) % n], i, n, path, len, roots[n],
                          "a neighbouring leaf");
}

/* ---- inclusion ---- */

static void merkle_verify_inclusion_accepts_ct_reference_paths(void **state)
{
    (void)state;
    uint8_t path[8 * H];
    load_ct();
    for (size_t t = 0; t < MREF_CT_N_INCLUSION; t++) {
        const mref_ct_incl_t *v = &mref_ct_inclusion[t];
        size_t len = tv_hex(v->path_hex, path, sizeof path);
        int rc = dsuit_merkle_verify_inclusion(ct_leaf_hash[v->index], v->index,
                                               v->size, len ? path : NULL, len,
                                               ct_root[v->size]);
        if (rc != DSUIT_OK)
            fail_msg("CT path index %llu size %llu: %s",
                     (unsigned long long)v->index, (unsigned long long)v->size,
                     dsuit_err_name(rc));
        /* and the reference PATH gives exactly these hashes */
        uint8_t ref[8 * H];
        size_t c = mref_path(v->index, (const uint8_t(*)[H])ct_leaf_hash,
                             v->size, ref);
        assert_int_equal(c * H, len);
        assert_memory_equal(ref, path, len);
        assert_int_equal(dsuit_merkle_inclusion_path_count(v->index, v->size),
                         c);
    }
}

static void
merkle_verify_inclusion_rejects_every_change_to_ct_paths(void **state)
{
    (void)state;
    uint8_t path[8 * H];
    load_ct();
    for (size_t t = 0; t < MREF_CT_N_INCLUSION; t++) {
        const mref_ct_incl_t *v = &mref_ct_inclusion[t];
        size_t len = tv_hex(v->path_hex, path, sizeof path);
        tamper_inclusion((const uint8_t(*)[H])ct_leaf_hash,
                         (const uint8_t(*)[H])ct_root, 8, v->index, v->size,
                         path, len / H, 1);
    }
}

static void
merkle_every_reference_inclusion_path_verifies_and_no_change_does(void **state)
{
    (void)state;
    uint8_t path[DSUIT_MERKLE_MAX_DEPTH * H];
    for (size_t n = 1; n <= REF_MAX; n++) {
        for (size_t i = 0; i < n; i++) {
            size_t c = mref_path(i, (const uint8_t(*)[H])big_leaves, n, path);
            int rc;
            assert_int_equal(dsuit_merkle_inclusion_path_count(i, n), c);
            rc = dsuit_merkle_verify_inclusion(
                big_leaves[i], i, n, c ? path : NULL, c * H, big_roots[n]);
            if (rc != DSUIT_OK)
                fail_msg("index %zu size %zu: %s", i, n, dsuit_err_name(rc));
            tamper_inclusion((const uint8_t(*)[H])big_leaves,
                             (const uint8_t(*)[H])big_roots, REF_MAX, i, n,
                             path, c, n <= FLIP_ALL_MAX);
        }
    }
}

struct incl_case {
    const char *name;
    uint64_t index, size;
    size_t path_len; /* bytes taken from a zero buffer */
    int null_path, null_leaf, null_root;
    int want;
};

static void merkle_verify_inclusion_argument_table(void **state)
{
    (void)state;
    static const uint8_t zeros[(DSUIT_MERKLE_MAX_DEPTH + 2) * H];
    static const struct incl_case cases[] = {
        {"index equal to size", 8, 8, 3 * H, .want = DSUIT_E_INVAL},
        {"index past size", 9, 8, 3 * H, .want = DSUIT_E_INVAL},
        {"empty tree", 0, 0, 0, .want = DSUIT_E_INVAL},
        {"path not a multiple of 32", 0, 8, 3 * H - 1, .want = DSUIT_E_INVAL},
        {"path one byte", 0, 2, 1, .want = DSUIT_E_INVAL},
        {"path too short", 0, 8, 2 * H, .want = DSUIT_E_INVAL},
        {"path too long", 0, 8, 4 * H, .want = DSUIT_E_INVAL},
        {"path for size 1 not empty", 0, 1, H, .want = DSUIT_E_INVAL},
        {"path empty for size 2", 0, 2, 0, .want = DSUIT_E_INVAL},
        {"path longer than the maximum depth", 0, UINT64_MAX,
         (DSUIT_MERKLE_MAX_DEPTH + 1) * H, .want = DSUIT_E_LIMIT},
        {"NULL path with a length", 0, 8, 3 * H, .null_path = 1,
         .want = DSUIT_E_INVAL},
        {"NULL leaf", 0, 8, 3 * H, .null_leaf = 1, .want = DSUIT_E_INVAL},
        {"NULL root", 0, 8, 3 * H, .null_root = 1, .want = DSUIT_E_INVAL},
        {"right length, wrong hashes", 0, 8, 3 * H, .want = DSUIT_E_DIGEST},
        {"64 hashes of a 2^64-1 tree, wrong", 0, UINT64_MAX, 64 * H,
         .want = DSUIT_E_DIGEST},
        {"index 2^64-2 of 2^64-1, wrong", UINT64_MAX - 1, UINT64_MAX, 63 * H,
         .want = DSUIT_E_DIGEST},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const struct incl_case *c = &cases[t];
        int rc = dsuit_merkle_verify_inclusion(
            c->null_leaf ? NULL : zeros + 1, c->index, c->size,
            c->null_path ? NULL : zeros, c->path_len,
            c->null_root ? NULL : zeros + 2);
        if (rc != c->want)
            fail_msg("%s: got %s, want %s", c->name, dsuit_err_name(rc),
                     dsuit_err_name(c->want));
    }
}

static void merkle_path_counts_match_the_rfc_at_the_extremes(void **state)
{
    (void)state;
    assert_int_equal(dsuit_merkle_inclusion_path_count(0, 0), 0);
    assert_int_equal(dsuit_merkle_inclusion_path_count(5, 5), 0);
    assert_int_equal(dsuit_merkle_inclusion_path_count(0, 1), 0);
    assert_int_equal(dsuit_merkle_inclusion_path_count(0, UINT64_MAX), 64);
    assert_int_equal(
        dsuit_merkle_inclusion_path_count(UINT64_MAX - 1, UINT64_MAX), 63);
    assert_int_equal(dsuit_merkle_inclusion_path_count(0, (uint64_t)1 << 63),
                     63);
    assert_int_equal(dsuit_merkle_consistency_path_count(0, 8), 0);
    assert_int_equal(dsuit_merkle_consistency_path_count(8, 8), 0);
    assert_int_equal(dsuit_merkle_consistency_path_count(9, 8), 0);
    assert_int_equal(dsuit_merkle_consistency_path_count(1, UINT64_MAX), 64);
    assert_int_equal(
        dsuit_merkle_consistency_path_count(UINT64_MAX - 1, UINT64_MAX), 64);
}

/* ---- consistency ---- */

static void expect_cons_fails(uint64_t m, uint64_t n, const uint8_t *r1,
                              const uint8_t *r2, const uint8_t *path,
                              size_t len, const char *what)
{
    int rc = dsuit_merkle_verify_consistency(m, n, r1, r2, path, len);
    if (rc == DSUIT_OK)
        fail_msg("consistency %llu -> %llu: verified with %s",
                 (unsigned long long)m, (unsigned long long)n, what);
}

static void tamper_consistency(const uint8_t (*roots)[H], size_t max_n,
                               size_t m, size_t n, const uint8_t *path,
                               size_t count, int all_bits)
{
    uint8_t buf[(DSUIT_MERKLE_MAX_DEPTH + 2) * H];
    uint8_t r[H];
    size_t len = count * H;

    if (count > 0) {
        expect_cons_fails(m, n, roots[m], roots[n], path, len - H,
                          "last dropped");
        expect_cons_fails(m, n, roots[m], roots[n], path + H, len - H,
                          "first dropped");
        expect_cons_fails(m, n, roots[m], roots[n], path, 0, "empty path");
    }
    memcpy(buf, path, len);
    memcpy(buf + len, roots[n], H);
    expect_cons_fails(m, n, roots[m], roots[n], buf, len + H, "root2 appended");
    memcpy(buf, roots[m], H);
    memcpy(buf + H, path, len);
    expect_cons_fails(m, n, roots[m], roots[n], buf, len + H,
                      "root1 prepended");
    if (count > 0) {
        memcpy(buf, path, H);
        memcpy(buf + H, path, len);
        expect_cons_fails(m, n, roots[m], roots[n], buf, len + H,
                          "first hash repeated");
    }
    for (size_t byte = 0; byte < len; byte++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            if (!all_bits && bit != (byte % 8))
                continue;
            memcpy(buf, path, len);
            buf[byte] ^= (uint8_t)(1u << bit);
            expect_cons_fails(m, n, roots[m], roots[n], buf, len, "path bit");
        }
    }
    for (size_t byte = 0; byte < H; byte += all_bits ? 1 : 7) {
        memcpy(r, roots[m], H);
        r[byte] ^= (uint8_t)(1u << (byte % 8));
        expect_cons_fails(m, n, r, roots[n], path, len, "root1 bit");
        if (m == 0)
            continue; /* any root2 extends the empty tree */
        memcpy(r, roots[n], H);
        r[byte] ^= (uint8_t)(1u << (byte % 8));
        expect_cons_fails(m, n, roots[m], r, path, len, "root2 bit");
    }
    if (m != n)
        expect_cons_fails(m, n, roots[n], roots[m], path, len, "swapped roots");
    /* Other sizes, each with its own root: always rejected, except where
     * the empty path is right for them too (from the empty tree, or from
     * a tree to itself). */
    if (count == 0)
        return;
    for (size_t m2 = 0; m2 <= max_n; m2++) {
        if (m2 != m && m2 <= n)
            expect_cons_fails(m2, n, roots[m2], roots[n], path, len,
                              "another size1 and its root");
    }
    for (size_t n2 = m; n2 <= max_n; n2++) {
        if (n2 != n)
            expect_cons_fails(m, n2, roots[m], roots[n2], path, len,
                              "another size2 and its root");
    }
    expect_cons_fails(n + 1, n, roots[m], roots[n], path, len,
                      "size1 past size2");
}

static void merkle_verify_consistency_accepts_ct_reference_paths(void **state)
{
    (void)state;
    uint8_t path[8 * H], ref[8 * H];
    load_ct();
    for (size_t t = 0; t < MREF_CT_N_CONSISTENCY; t++) {
        const mref_ct_cons_t *v = &mref_ct_consistency[t];
        size_t len = tv_hex(v->path_hex, path, sizeof path);
        int rc = dsuit_merkle_verify_consistency(
            v->size1, v->size2, ct_root[v->size1], ct_root[v->size2],
            len ? path : NULL, len);
        if (rc != DSUIT_OK)
            fail_msg("CT consistency %llu -> %llu: %s",
                     (unsigned long long)v->size1, (unsigned long long)v->size2,
                     dsuit_err_name(rc));
        size_t c = mref_proof(v->size1, (const uint8_t(*)[H])ct_leaf_hash,
                              v->size2, ref);
        assert_int_equal(c * H, len);
        assert_memory_equal(ref, path, len);
        tamper_consistency((const uint8_t(*)[H])ct_root, 8, v->size1, v->size2,
                           path, len / H, 1);
    }
}

static void
merkle_every_reference_consistency_proof_verifies_and_no_change_does(
    void **state)
{
    (void)state;
    uint8_t path[DSUIT_MERKLE_MAX_DEPTH * H];
    for (size_t n = 0; n <= REF_MAX; n++) {
        for (size_t m = 0; m <= n; m++) {
            size_t c = mref_proof(m, (const uint8_t(*)[H])big_leaves, n, path);
            int rc;
            assert_int_equal(dsuit_merkle_consistency_path_count(m, n), c);
            rc = dsuit_merkle_verify_consistency(
                m, n, big_roots[m], big_roots[n], c ? path : NULL, c * H);
            if (rc != DSUIT_OK)
                fail_msg("%zu -> %zu: %s", m, n, dsuit_err_name(rc));
            tamper_consistency((const uint8_t(*)[H])big_roots, REF_MAX, m, n,
                               path, c, n <= FLIP_ALL_MAX);
        }
    }
}

struct cons_case {
    const char *name;
    uint64_t size1, size2;
    int root1, root2; /* index into roots[]: 0 empty, 1 some, 2 other */
    size_t path_len;
    int null_path, null_root;
    int want;
};

static void merkle_verify_consistency_argument_table(void **state)
{
    (void)state;
    static const uint8_t zeros[(DSUIT_MERKLE_MAX_DEPTH + 2) * H];
    uint8_t roots[3][H];
    static const struct cons_case cases[] = {
        {"size1 past size2", 2, 1, 1, 1, 0, .want = DSUIT_E_INVAL},
        {"size1 past size2 with a path", 9, 8, 1, 2, H, .want = DSUIT_E_INVAL},
        {"empty to empty", 0, 0, 0, 0, 0, .want = DSUIT_OK},
        {"empty to any", 0, 5, 0, 2, 0, .want = DSUIT_OK},
        {"empty, root1 not the empty hash", 0, 5, 1, 2, 0,
         .want = DSUIT_E_DIGEST},
        {"empty, with a path", 0, 5, 0, 2, H, .want = DSUIT_E_INVAL},
        {"same size, same root", 3, 3, 1, 1, 0, .want = DSUIT_OK},
        {"same size, other root", 3, 3, 1, 2, 0, .want = DSUIT_E_DIGEST},
        {"same size, with a path", 3, 3, 1, 1, H, .want = DSUIT_E_INVAL},
        {"empty path for 1 -> 2", 1, 2, 1, 2, 0, .want = DSUIT_E_INVAL},
        {"path not a multiple of 32", 1, 2, 1, 2, H + 1, .want = DSUIT_E_INVAL},
        {"path too long", 1, 2, 1, 2, 2 * H, .want = DSUIT_E_INVAL},
        {"path too short", 6, 8, 1, 2, 2 * H, .want = DSUIT_E_INVAL},
        {"past the maximum depth", 1, UINT64_MAX, 1, 2,
         (DSUIT_MERKLE_MAX_DEPTH + 1) * H, .want = DSUIT_E_LIMIT},
        {"NULL path with a length", 6, 8, 1, 2, 3 * H, .null_path = 1,
         .want = DSUIT_E_INVAL},
        {"NULL root", 6, 8, 1, 2, 3 * H, .null_root = 1, .want = DSUIT_E_INVAL},
        {"right length, wrong hashes", 6, 8, 1, 2, 3 * H,
         .want = DSUIT_E_DIGEST},
        {"64 wrong hashes, 2^64-2 -> 2^64-1", UINT64_MAX - 1, UINT64_MAX, 1, 2,
         64 * H, .want = DSUIT_E_DIGEST},
    };
    assert_int_equal(dsuit_sha256(NULL, 0, roots[0]), DSUIT_OK);
    memset(roots[1], 0x11, H);
    memset(roots[2], 0x22, H);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const struct cons_case *c = &cases[t];
        int rc = dsuit_merkle_verify_consistency(
            c->size1, c->size2, c->null_root ? NULL : roots[c->root1],
            roots[c->root2], c->null_path ? NULL : zeros, c->path_len);
        if (rc != c->want)
            fail_msg("%s: got %s, want %s", c->name, dsuit_err_name(rc),
                     dsuit_err_name(c->want));
    }
}

/* ---- CBOR encoding of an inclusion proof ---- */

static void merkle_proof_encodes_ct_path_to_known_bytes(void **state)
{
    (void)state;
    uint8_t path[3 * H], out[256], want[256];
    size_t len = 0;
    size_t plen = tv_hex(mref_ct_inclusion[2].path_hex, path, sizeof path);
    size_t wlen = tv_hex(
        "83 05 08 83"
        "5820 bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
        "5820 ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
        "5820 d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        want, sizeof want);
    assert_int_equal(
        dsuit_merkle_proof_encode(5, 8, path, plen, out, sizeof out, &len),
        DSUIT_OK);
    assert_int_equal(len, wlen);
    assert_memory_equal(out, want, wlen);

    /* Too small, or NULL to measure: DSUIT_E_LIMIT with the size needed. */
    len = 0;
    assert_int_equal(dsuit_merkle_proof_encode(5, 8, path, plen, out, 10, &len),
                     DSUIT_E_LIMIT);
    assert_int_equal(len, wlen);
    len = 0;
    assert_int_equal(dsuit_merkle_proof_encode(5, 8, path, plen, NULL, 0, &len),
                     DSUIT_E_LIMIT);
    assert_int_equal(len, wlen);
    assert_int_equal(
        dsuit_merkle_proof_encode(5, 8, path, plen, out, wlen - 1, &len),
        DSUIT_E_LIMIT);
    assert_int_equal(
        dsuit_merkle_proof_encode(5, 8, path, plen, out, wlen, &len), DSUIT_OK);
}

static void merkle_proof_encode_rejects_bad_arguments(void **state)
{
    (void)state;
    static const uint8_t zeros[(DSUIT_MERKLE_MAX_DEPTH + 1) * H];
    uint8_t out[64];
    size_t len = 7;
    assert_int_equal(
        dsuit_merkle_proof_encode(8, 8, zeros, 3 * H, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_proof_encode(0, 8, zeros, 3 * H - 1, out,
                                               sizeof out, &len),
                     DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_proof_encode(0, 8, zeros, 2 * H, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_proof_encode(0, 8, NULL, 3 * H, out, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_proof_encode(0, 8, zeros, 3 * H, NULL, sizeof out, &len),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_merkle_proof_encode(0, 8, zeros, 3 * H, out, sizeof out, NULL),
        DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_proof_encode(0, UINT64_MAX, zeros,
                                               (DSUIT_MERKLE_MAX_DEPTH + 1) * H,
                                               out, sizeof out, &len),
                     DSUIT_E_LIMIT);
    assert_int_equal(len, 7); /* not written on these errors */
}

static void
merkle_proof_round_trips_and_verifies_for_every_reference_path(void **state)
{
    (void)state;
    uint8_t path[DSUIT_MERKLE_MAX_DEPTH * H];
    uint8_t enc[DSUIT_MERKLE_PROOF_CBOR_MAX];
    for (size_t n = 1; n <= REF_MAX; n++) {
        for (size_t i = 0; i < n; i++) {
            dsuit_merkle_proof_t p;
            size_t c = mref_path(i, (const uint8_t(*)[H])big_leaves, n, path);
            size_t len = 0;
            assert_int_equal(dsuit_merkle_proof_encode(i, n, path, c * H, enc,
                                                       sizeof enc, &len),
                             DSUIT_OK);
            assert_int_equal(dsuit_merkle_proof_decode(enc, len, &p), DSUIT_OK);
            assert_int_equal(p.leaf_index, i);
            assert_int_equal(p.tree_size, n);
            assert_int_equal(p.n_hashes, c);
            for (size_t k = 0; k < c; k++) {
                const uint8_t *h = dsuit_merkle_proof_hash(&p, k);
                assert_non_null(h);
                assert_true(h > enc && h + H <= enc + len);
                assert_memory_equal(h, path + k * H, H);
            }
            assert_null(dsuit_merkle_proof_hash(&p, c));
            assert_int_equal(
                dsuit_merkle_proof_verify(&p, big_leaves[i], n, big_roots[n]),
                DSUIT_OK);
            /* The size must be the trusted head's. */
            assert_int_equal(dsuit_merkle_proof_verify(&p, big_leaves[i], n + 1,
                                                       big_roots[n]),
                             DSUIT_E_INVAL);
            if (n > 1)
                assert_int_equal(
                    dsuit_merkle_proof_verify(&p, big_leaves[(i + 1) % n], n,
                                              big_roots[n]),
                    DSUIT_E_DIGEST);
        }
    }
}

/* Every single-byte change to an encoded proof: either it no longer
 * decodes, or it no longer verifies against the true (size, root). */
static void merkle_proof_with_any_byte_changed_never_verifies(void **state)
{
    (void)state;
    static const size_t sizes[][2] = {{0, 1},   {0, 8},   {5, 8},  {2, 3},
                                      {12, 13}, {31, 40}, {39, 40}};
    uint8_t path[DSUIT_MERKLE_MAX_DEPTH * H];
    uint8_t enc[DSUIT_MERKLE_PROOF_CBOR_MAX], bad[sizeof enc];
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t i = sizes[t][0], n = sizes[t][1], len = 0;
        size_t c = mref_path(i, (const uint8_t(*)[H])big_leaves, n, path);
        assert_int_equal(
            dsuit_merkle_proof_encode(i, n, path, c * H, enc, sizeof enc, &len),
            DSUIT_OK);
        for (size_t b = 0; b < len; b++) {
            static const uint8_t deltas[] = {0x01, 0x10, 0x80, 0xff};
            for (size_t d = 0; d < sizeof deltas; d++) {
                dsuit_merkle_proof_t p;
                memcpy(bad, enc, len);
                bad[b] ^= deltas[d];
                if (dsuit_merkle_proof_decode(bad, len, &p) != DSUIT_OK)
                    continue;
                if (dsuit_merkle_proof_verify(&p, big_leaves[i], n,
                                              big_roots[n]) == DSUIT_OK)
                    fail_msg("index %zu size %zu: byte %zu ^ %02x verifies", i,
                             n, b, deltas[d]);
            }
        }
        /* Truncated at every length: never decodes. */
        for (size_t cut = 0; cut < len; cut++) {
            dsuit_merkle_proof_t p;
            if (dsuit_merkle_proof_decode(enc, cut, &p) == DSUIT_OK)
                fail_msg("index %zu size %zu: decodes cut to %zu bytes", i, n,
                         cut);
        }
    }
}

struct dec_case {
    const char *name;
    const char *diag; /* CBOR diagnostic notation (tv_diag) or NULL */
    const char *hex;  /* raw hex when diag is NULL */
    int want;
};

#define HASH32                                                                 \
    "h'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'"

static void merkle_proof_decode_bad_input_table(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        {"empty input", NULL, "", DSUIT_E_TRUNCATED},
        {"not an array", "{0: 1}", NULL, DSUIT_E_CBOR_TYPE},
        {"a bare uint", "5", NULL, DSUIT_E_CBOR_TYPE},
        {"tagged array", "24([0, 1, []])", NULL, DSUIT_E_CBOR_TYPE},
        {"array of 2", "[0, 1]", NULL, DSUIT_E_CBOR_MALFORMED},
        {"array of 4", "[0, 1, [], 0]", NULL, DSUIT_E_CBOR_MALFORMED},
        {"empty array", "[]", NULL, DSUIT_E_CBOR_MALFORMED},
        {"negative index", "[-1, 1, []]", NULL, DSUIT_E_CBOR_TYPE},
        {"index as bstr", "[h'00', 1, []]", NULL, DSUIT_E_CBOR_TYPE},
        {"size as text", "[0, \"1\", []]", NULL, DSUIT_E_CBOR_TYPE},
        {"path not an array", "[0, 1, h'']", NULL, DSUIT_E_CBOR_TYPE},
        {"path a map", "[0, 2, {}]", NULL, DSUIT_E_CBOR_TYPE},
        {"hash of 31 bytes",
         "[0, 2, [h'"
         "000102030405060708090a0b0c0d0e0f"
         "101112131415161718191a1b1c1d1e']]",
         NULL, DSUIT_E_CBOR_MALFORMED},
        {"hash of 33 bytes",
         "[0, 2, [h'"
         "000102030405060708090a0b0c0d0e0f"
         "101112131415161718191a1b1c1d1e1f20']]",
         NULL, DSUIT_E_CBOR_MALFORMED},
        {"empty hash", "[0, 2, [h'']]", NULL, DSUIT_E_CBOR_MALFORMED},
        {"hash as text", "[0, 2, [\"0123456789abcdef0123456789abcdef\"]]", NULL,
         DSUIT_E_CBOR_TYPE},
        {"hash nested in an array", "[0, 2, [[" HASH32 "]]]", NULL,
         DSUIT_E_CBOR_TYPE},
        {"trailing byte", "[0, 2, [" HASH32 "]], 0", NULL,
         DSUIT_E_CBOR_TRAILING},
        {"two proofs", "[0, 1, []], [0, 1, []]", NULL, DSUIT_E_CBOR_TRAILING},
        {"index equal to size", "[1, 1, []]", NULL, DSUIT_E_INVAL},
        {"index past size", "[9, 8, [" HASH32 "," HASH32 "," HASH32 "]]", NULL,
         DSUIT_E_INVAL},
        {"size 0", "[0, 0, []]", NULL, DSUIT_E_INVAL},
        {"too few hashes", "[0, 8, [" HASH32 "," HASH32 "]]", NULL,
         DSUIT_E_INVAL},
        {"too many hashes", "[0, 2, [" HASH32 "," HASH32 "]]", NULL,
         DSUIT_E_INVAL},
        {"hash for a tree of 1", "[0, 1, [" HASH32 "]]", NULL, DSUIT_E_INVAL},
        /* raw bytes the diagnostic encoder would not write */
        {"non-minimal index", NULL, "83 1800 01 80", DSUIT_E_CBOR_NONMINIMAL},
        {"non-minimal size", NULL, "83 00 190001 80", DSUIT_E_CBOR_NONMINIMAL},
        {"non-minimal array head", NULL, "98 03 00 01 80",
         DSUIT_E_CBOR_NONMINIMAL},
        {"non-minimal bstr head", NULL,
         "83 00 02 81 590020"
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         DSUIT_E_CBOR_NONMINIMAL},
        {"indefinite outer array", NULL, "9f 00 01 80 ff",
         DSUIT_E_CBOR_INDEFINITE},
        {"indefinite path", NULL, "83 00 01 9f ff", DSUIT_E_CBOR_INDEFINITE},
        {"indefinite hash", NULL, "83 00 02 81 5f 4100 ff",
         DSUIT_E_CBOR_INDEFINITE},
        {"reserved additional info", NULL, "83 1c 01 80",
         DSUIT_E_CBOR_RESERVED},
        {"path count past the input", NULL, "83 00 02 81", DSUIT_E_CBOR_LENGTH},
        {"hash cut short", NULL, "83 00 02 81 5820 0001", DSUIT_E_CBOR_LENGTH},
        {"65 hashes claimed", NULL,
         "83 00 1bffffffffffffffff 9841"
         /* 65 * 34 bytes are not needed: the count is refused first */
         "00000000000000000000000000000000000000000000000000000000000000000000"
         "00000000000000000000000000000000000000000000000000000000000000000000"
         "00000000000000000000000000000000000000000000000000000000000000000000",
         DSUIT_E_LIMIT},
    };
    uint8_t buf[4096];
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const struct dec_case *c = &cases[t];
        dsuit_merkle_proof_t p;
        size_t len;
        int rc;
        memset(&p, 0xa5, sizeof p);
        len = c->diag ? tv_diag(c->diag, NULL, 0, buf, sizeof buf)
                      : tv_hex(c->hex, buf, sizeof buf);
        rc = dsuit_merkle_proof_decode(buf, len, &p);
        if (rc != c->want)
            fail_msg("%s: got %s, want %s", c->name, dsuit_err_name(rc),
                     dsuit_err_name(c->want));
        assert_int_equal(p.leaf_index, 0xa5a5a5a5a5a5a5a5ull); /* untouched */
    }
}

static void merkle_proof_decode_accepts_the_largest_proof(void **state)
{
    (void)state;
    /* Leaf 0 of a tree of 2^64-1 leaves: 64 hashes. */
    static uint8_t zeros[64 * H];
    uint8_t enc[DSUIT_MERKLE_PROOF_CBOR_MAX];
    size_t len = 0;
    dsuit_merkle_proof_t p;
    assert_int_equal(dsuit_merkle_proof_encode(0, UINT64_MAX, zeros,
                                               sizeof zeros, enc, sizeof enc,
                                               &len),
                     DSUIT_OK);
    assert_true(len <= sizeof enc);
    assert_int_equal(dsuit_merkle_proof_decode(enc, len, &p), DSUIT_OK);
    assert_int_equal(p.n_hashes, 64);
    assert_int_equal(dsuit_merkle_proof_verify(&p, zeros, UINT64_MAX, zeros),
                     DSUIT_E_DIGEST);
    assert_int_equal(dsuit_merkle_proof_decode(NULL, 3, &p), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_proof_decode(enc, len, NULL), DSUIT_E_INVAL);
    assert_int_equal(dsuit_merkle_proof_verify(NULL, zeros, 1, zeros),
                     DSUIT_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merkle_leaf_hash_of_empty_leaf_is_ct_root_of_size_1),
        cmocka_unit_test(
            merkle_node_hash_of_first_two_ct_leaves_is_root_of_size_2),
        cmocka_unit_test(merkle_reference_mth_gives_every_ct_root),
        cmocka_unit_test(merkle_leaf_hash_rejects_null_arguments),
        cmocka_unit_test(merkle_verify_inclusion_accepts_ct_reference_paths),
        cmocka_unit_test(
            merkle_verify_inclusion_rejects_every_change_to_ct_paths),
        cmocka_unit_test(
            merkle_every_reference_inclusion_path_verifies_and_no_change_does),
        cmocka_unit_test(merkle_verify_inclusion_argument_table),
        cmocka_unit_test(merkle_path_counts_match_the_rfc_at_the_extremes),
        cmocka_unit_test(merkle_verify_consistency_accepts_ct_reference_paths),
        cmocka_unit_test(
            merkle_every_reference_consistency_proof_verifies_and_no_change_does),
        cmocka_unit_test(merkle_verify_consistency_argument_table),
        cmocka_unit_test(merkle_proof_encodes_ct_path_to_known_bytes),
        cmocka_unit_test(merkle_proof_encode_rejects_bad_arguments),
        cmocka_unit_test(
            merkle_proof_round_trips_and_verifies_for_every_reference_path),
        cmocka_unit_test(merkle_proof_with_any_byte_changed_never_verifies),
        cmocka_unit_test(merkle_proof_decode_bad_input_table),
        cmocka_unit_test(merkle_proof_decode_accepts_the_largest_proof),
    };
    return cmocka_run_group_tests(tests, setup_big, NULL);
}
