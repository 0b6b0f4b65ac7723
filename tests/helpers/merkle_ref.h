/*
 * A naive reference for Merkle tree tests, written straight from the
 * recursive definitions of RFC 9162 §2.1 (MTH, PATH, PROOF and SUBPROOF)
 * so that it shares no code with the implementations it checks: the
 * node-side tree (tests/ledger/test_merkle.c) and the device verifier
 * (tests/device/proof/test_merkle_verify.c).
 *
 * Also the Certificate Transparency known answers both tests start from.
 *
 * Leaves are given as their leaf hashes, MREF_H bytes each. Every function
 * fails the running cmocka test if a hash cannot be computed, so call them
 * only from inside a test or a setup function.
 */
#ifndef DSUIT_TEST_MERKLE_REF_H
#define DSUIT_TEST_MERKLE_REF_H

#include <stddef.h>
#include <stdint.h>

#define MREF_H 32 /* bytes of a hash */

/*
 * The Certificate Transparency reference data (transparency-dev/merkle
 * proof/verify_test.go; google/certificate-transparency's
 * merkle_tree_test.cc): the 8 leaves, as hex, and mref_ct_roots_hex[n],
 * the tree head of the first n of them, for n = 0..8.
 */
extern const char *const mref_ct_leaves_hex[8];
extern const char *const mref_ct_roots_hex[9];

/* The CT reference proofs over those leaves (there written with 1-based
 * leaf numbers), paths as hex, hashes from the leaf upwards. */
typedef struct {
    uint64_t index, size;
    const char *path_hex;
} mref_ct_incl_t;

typedef struct {
    uint64_t size1, size2;
    const char *path_hex;
} mref_ct_cons_t;

#define MREF_CT_N_INCLUSION   5
#define MREF_CT_N_CONSISTENCY 5
extern const mref_ct_incl_t mref_ct_inclusion[MREF_CT_N_INCLUSION];
extern const mref_ct_cons_t mref_ct_consistency[MREF_CT_N_CONSISTENCY];

/** MTH(D[0:n]): the tree head of the n leaf hashes lh[0..n). */
void mref_mth(const uint8_t (*lh)[MREF_H], size_t n, uint8_t out[MREF_H]);

/**
 * PATH(m, D[0:n]): the inclusion path of leaf m in the tree of n leaves.
 * @return the number of hashes written to out (MREF_H bytes each)
 */
size_t mref_path(size_t m, const uint8_t (*lh)[MREF_H], size_t n, uint8_t *out);

/**
 * PROOF(m, D[0:n]): the consistency proof from size m to size n, empty
 * for m == 0 or m == n.
 * @return the number of hashes written to out (MREF_H bytes each)
 */
size_t mref_proof(size_t m, const uint8_t (*lh)[MREF_H], size_t n,
                  uint8_t *out);

/**
 * The route from the root to leaf m of a tree of n leaves, as a bit
 * string (1 = right) in *bits and its length in *len. Two sizes give one
 * inclusion path the same meaning exactly when the leaf's route is the
 * same.
 */
void mref_route(size_t m, size_t n, uint64_t *bits, size_t *len);

#endif /* DSUIT_TEST_MERKLE_REF_H */
