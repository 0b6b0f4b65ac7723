/*
 * libFuzzer harness for the device-side Merkle proof code
 * (include/dsuit/proof.h).
 *
 * For each input: dsuit_merkle_proof_decode(); a decoded proof must satisfy
 * the header's invariants (index below size, the hash count the index and
 * size need, every hash inside the input at a 34-byte stride), must
 * re-encode to exactly the input (deterministic encoding: one proof, one
 * byte string), and is verified against a fixed trusted head: the
 * Certificate Transparency reference tree of 8 leaves (RFC 9162 test data),
 * leaf 0 = leaf hash of the empty string. Then the raw input is used as a
 * bare path for dsuit_merkle_verify_inclusion() and
 * dsuit_merkle_verify_consistency(), with index and sizes taken from its
 * first bytes.
 *
 * A bug is a crash, a sanitizer report, a broken invariant, or DSUIT_OK
 * for anything but the one genuine proof of each kind (leaf 0 in the tree
 * of 8; consistency 6 -> 8), which would be a forged proof.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/proof.h"

#include "fuzz.h"

/* CT reference data: root of 8 leaves, root of 6, MTH("") leaf hash, the
 * inclusion path of leaf 0 in 8 and the consistency path 6 -> 8. */
static const uint8_t root8[32] = {
    0x5d, 0xc9, 0xda, 0x79, 0xa7, 0x06, 0x59, 0xa9, 0xad, 0x55, 0x9c,
    0xb7, 0x01, 0xde, 0xd9, 0xa2, 0xab, 0x9d, 0x82, 0x3a, 0xad, 0x2f,
    0x49, 0x60, 0xcf, 0xe3, 0x70, 0xef, 0xf4, 0x60, 0x43, 0x28};
static const uint8_t root6[32] = {
    0x76, 0xe6, 0x7d, 0xad, 0xbc, 0xdf, 0x1e, 0x10, 0xe1, 0xb7, 0x4d,
    0xdc, 0x60, 0x8a, 0xbd, 0x2f, 0x98, 0xdf, 0xb1, 0x6f, 0xbc, 0xe7,
    0x52, 0x77, 0xb5, 0x23, 0x2a, 0x12, 0x7f, 0x20, 0x87, 0xef};
static const uint8_t leaf0[32] = {
    0x6e, 0x34, 0x0b, 0x9c, 0xff, 0xb3, 0x7a, 0x98, 0x9c, 0xa5, 0x44,
    0xe6, 0xbb, 0x78, 0x0a, 0x2c, 0x78, 0x90, 0x1d, 0x3f, 0xb3, 0x37,
    0x38, 0x76, 0x85, 0x11, 0xa3, 0x06, 0x17, 0xaf, 0xa0, 0x1d};
static const uint8_t path0of8[3][32] = {
    {0x96, 0xa2, 0x96, 0xd2, 0x24, 0xf2, 0x85, 0xc6, 0x7b, 0xee, 0x93,
     0xc3, 0x0f, 0x8a, 0x30, 0x91, 0x57, 0xf0, 0xda, 0xa3, 0x5d, 0xc5,
     0xb8, 0x7e, 0x41, 0x0b, 0x78, 0x63, 0x0a, 0x09, 0xcf, 0xc7},
    {0x5f, 0x08, 0x3f, 0x0a, 0x1a, 0x33, 0xca, 0x07, 0x6a, 0x95, 0x27,
     0x98, 0x32, 0x58, 0x0d, 0xb3, 0xe0, 0xef, 0x45, 0x84, 0xbd, 0xff,
     0x1f, 0x54, 0xc8, 0xa3, 0x60, 0xf5, 0x0d, 0xe3, 0x03, 0x1e},
    {0x6b, 0x47, 0xaa, 0xf2, 0x9e, 0xe3, 0xc2, 0xaf, 0x9a, 0xf8, 0x89,
     0xbc, 0x1f, 0xb9, 0x25, 0x4d, 0xab, 0xd3, 0x11, 0x77, 0xf1, 0x62,
     0x32, 0xdd, 0x6a, 0xab, 0x03, 0x5c, 0xa3, 0x9b, 0xf6, 0xe4}};
static const uint8_t cons6to8[3][32] = {
    {0x0e, 0xbc, 0x5d, 0x34, 0x37, 0xfb, 0xe2, 0xdb, 0x15, 0x8b, 0x9f,
     0x12, 0x6a, 0x1d, 0x11, 0x8e, 0x30, 0x81, 0x81, 0x03, 0x1d, 0x0a,
     0x94, 0x9f, 0x8d, 0xed, 0xed, 0xeb, 0xc5, 0x58, 0xef, 0x6a},
    {0xca, 0x85, 0x4e, 0xa1, 0x28, 0xed, 0x05, 0x0b, 0x41, 0xb3, 0x5f,
     0xfc, 0x1b, 0x87, 0xb8, 0xeb, 0x2b, 0xde, 0x46, 0x1e, 0x9e, 0x3b,
     0x55, 0x96, 0xec, 0xe6, 0xb9, 0xd5, 0x97, 0x5a, 0x0a, 0xe0},
    {0xd3, 0x7e, 0xe4, 0x18, 0x97, 0x6d, 0xd9, 0x57, 0x53, 0xc1, 0xc7,
     0x38, 0x62, 0xb9, 0x39, 0x8f, 0xa2, 0xa2, 0xcf, 0x9b, 0x4f, 0xf0,
     0xfd, 0xfe, 0x8b, 0x30, 0xcd, 0x95, 0x20, 0x96, 0x14, 0xb7}};

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void check_decoded(const uint8_t *data, size_t size)
{
    dsuit_merkle_proof_t p;
    uint8_t enc[DSUIT_MERKLE_PROOF_CBOR_MAX];
    uint8_t path[DSUIT_MERKLE_MAX_DEPTH * 32];
    size_t len = 0;
    int rc;

    if (dsuit_merkle_proof_decode(data, size, &p) != DSUIT_OK)
        return;
    CHECK(p.leaf_index < p.tree_size);
    CHECK(p.n_hashes <= DSUIT_MERKLE_MAX_DEPTH);
    CHECK(p.n_hashes ==
          dsuit_merkle_inclusion_path_count(p.leaf_index, p.tree_size));
    for (size_t i = 0; i < p.n_hashes; i++) {
        const uint8_t *h = dsuit_merkle_proof_hash(&p, i);
        CHECK(h != NULL && h >= data && h + 32 <= data + size);
        memcpy(path + i * 32, h, 32);
    }
    CHECK(dsuit_merkle_proof_hash(&p, p.n_hashes) == NULL);

    /* One proof, one encoding. */
    rc = dsuit_merkle_proof_encode(p.leaf_index, p.tree_size, path,
                                   p.n_hashes * 32, enc, sizeof enc, &len);
    CHECK(rc == DSUIT_OK && len == size && memcmp(enc, data, size) == 0);

    /* Against the trusted head (8, root8): only the real proof of leaf 0. */
    rc = dsuit_merkle_proof_verify(&p, leaf0, 8, root8);
    if (rc == DSUIT_OK)
        CHECK(p.leaf_index == 0 && p.n_hashes == 3 &&
              memcmp(path, path0of8, sizeof path0of8) == 0);
    /* The bare verifier with the same index and size agrees. */
    if (p.tree_size == 8)
        CHECK((dsuit_merkle_verify_inclusion(leaf0, p.leaf_index, 8, path,
                                             p.n_hashes * 32, root8) ==
               DSUIT_OK) == (rc == DSUIT_OK));
}

static void check_raw(const uint8_t *data, size_t size)
{
    uint64_t a, b;
    const uint8_t *path;
    size_t len;
    int rc;

    if (size < 16)
        return;
    a = get_u64(data);
    b = get_u64(data + 8);
    path = data + 16;
    len = size - 16;

    rc = dsuit_merkle_verify_inclusion(leaf0, a, b, path, len, root8);
    if (rc == DSUIT_OK)
        CHECK(a == 0 && len == sizeof path0of8 &&
              memcmp(path, path0of8, len) == 0 &&
              /* sizes where leaf 0 has the same route as in 8 leaves */
              b >= 5 && b <= 8);
    /* Input bytes as leaf and root too (they are 32 bytes by contract). */
    if (len >= 32)
        (void)dsuit_merkle_verify_inclusion(path, a, b, path, len, path);

    rc = dsuit_merkle_verify_consistency(a, b, root6, root8, path, len);
    if (rc == DSUIT_OK && a == 6 && b == 8)
        CHECK(len == sizeof cons6to8 && memcmp(path, cons6to8, len) == 0);
    if (len >= 32)
        (void)dsuit_merkle_verify_consistency(a, b, path, path, path, len);
    (void)dsuit_merkle_verify_consistency(a & 0xff, b & 0xff, root6, root8,
                                          path, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decoded(data, size);
    check_raw(data, size);
    return 0;
}
