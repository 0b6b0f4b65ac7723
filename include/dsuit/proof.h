/*
 * dsuit Merkle proofs, device side: RFC 9162 (Certificate Transparency
 * v2.0) §2.1 hashing and proof verification, and the compact CBOR form in
 * which a device receives an inclusion proof.
 *
 * The ledger appends every accepted firmware manifest to a Merkle tree (the
 * manifest log) and puts the tree's size and root into each block header. A
 * device holding a certified header (size, root) checks that its manifest
 * is in the log with dsuit_merkle_verify_inclusion(): one leaf hash plus
 * about log2(size) node hashes. dsuit_merkle_verify_consistency() checks
 * that a newer tree head extends an older one (the log was only appended
 * to).
 *
 * Hashes (RFC 9162 §2.1.1, SHA-256):
 *   leaf hash  = SHA-256(0x00 || leaf bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty tree = SHA-256("")
 *
 * Device-safe: no allocation, no recursion; everything works on caller
 * buffers, and the decoder copies nothing. Worst-case stack use of any
 * function here is below 512 bytes (a SHA-256 context and two digests).
 * Nothing here holds memory outside itself, so there is no _free.
 *
 * Tree sizes and leaf indices are uint64_t everywhere, so a proof never has
 * more than 64 hashes; DSUIT_MERKLE_MAX_DEPTH may be lowered by a build to
 * refuse longer proofs early.
 */
#ifndef DSUIT_PROOF_H
#define DSUIT_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Length of every hash in a proof (SHA-256). */
#define DSUIT_MERKLE_HASH_LEN 32

/* Most hashes accepted in one proof. 64 covers every uint64_t tree size;
 * a longer proof gives DSUIT_E_LIMIT before anything is hashed. */
#ifndef DSUIT_MERKLE_MAX_DEPTH
#define DSUIT_MERKLE_MAX_DEPTH 64
#endif

/* Largest CBOR encoding of an inclusion proof with DSUIT_MERKLE_MAX_DEPTH
 * hashes: array head (1) + two uint64 (9 each) + array head (2) + 34 bytes
 * per hash. */
#define DSUIT_MERKLE_PROOF_CBOR_MAX                                            \
    (1 + 9 + 9 + 2 + 34 * DSUIT_MERKLE_MAX_DEPTH)

/**
 * Leaf hash of RFC 9162 §2.1.1: SHA-256(0x00 || leaf[0..len)).
 * @param[in]  leaf  leaf bytes; may be NULL when len is 0
 * @param[out] out   32-byte hash, written only on success
 * Errors: DSUIT_E_INVAL (leaf NULL with len > 0), DSUIT_E_CRYPTO.
 */
int dsuit_merkle_leaf_hash(const uint8_t *leaf, size_t len,
                           uint8_t out[DSUIT_MERKLE_HASH_LEN]);

/**
 * Interior node hash of RFC 9162 §2.1.1: SHA-256(0x01 || left || right).
 * out may alias left or right.
 * Errors: DSUIT_E_CRYPTO.
 */
int dsuit_merkle_node_hash(const uint8_t left[DSUIT_MERKLE_HASH_LEN],
                           const uint8_t right[DSUIT_MERKLE_HASH_LEN],
                           uint8_t out[DSUIT_MERKLE_HASH_LEN]);

/**
 * Number of hashes in the inclusion proof of leaf_index in a tree of
 * tree_size leaves (RFC 9162 §2.1.3.1), or 0 when leaf_index >= tree_size
 * (and for the one leaf of a tree of size 1).
 */
size_t dsuit_merkle_inclusion_path_count(uint64_t leaf_index,
                                         uint64_t tree_size);

/**
 * Number of hashes in the consistency proof from size1 to size2 (RFC 9162
 * §2.1.4.1); 0 when size1 is 0, size1 == size2 or size1 > size2.
 */
size_t dsuit_merkle_consistency_path_count(uint64_t size1, uint64_t size2);

/**
 * Verify an inclusion proof (RFC 9162 §2.1.3.2): leaf_hash is leaf number
 * leaf_index of the tree of tree_size leaves whose root is root.
 *
 * The caller must take tree_size and root together from one trusted tree
 * head (a certified block header): the proof binds the leaf to the root,
 * and the root to a size only through that head. (Where leaf_index sits at
 * the same place in two tree sizes, one path is valid for both.)
 *
 * @param[in] leaf_hash  32 bytes, from dsuit_merkle_leaf_hash()
 * @param[in] path       path_len bytes: the proof's hashes, 32 bytes each,
 *                       from the leaf upwards; may be NULL when path_len is 0
 * @param[in] root       32 bytes
 * @return DSUIT_OK only if the proof is complete and the computed root
 *         equals root (compared in constant time).
 * Errors: DSUIT_E_INVAL (leaf_index >= tree_size; path_len not a multiple
 * of 32, or not the number of hashes this index and size need; a NULL
 * pointer), DSUIT_E_LIMIT (more than DSUIT_MERKLE_MAX_DEPTH hashes),
 * DSUIT_E_DIGEST (the computed root differs), DSUIT_E_CRYPTO.
 */
int dsuit_merkle_verify_inclusion(
    const uint8_t leaf_hash[DSUIT_MERKLE_HASH_LEN], uint64_t leaf_index,
    uint64_t tree_size, const uint8_t *path, size_t path_len,
    const uint8_t root[DSUIT_MERKLE_HASH_LEN]);

/**
 * Verify a consistency proof (RFC 9162 §2.1.4.2): the tree of size2 leaves
 * with root root2 is an append-only extension of the tree of size1 leaves
 * with root root1.
 *
 * Trivial cases, with an empty path: size1 == size2 needs root1 == root2;
 * size1 == 0 needs root1 == SHA-256("") (any root2 extends the empty tree).
 *
 * @param[in] path  path_len bytes, 32 per hash; may be NULL when path_len
 *                  is 0
 * @return DSUIT_OK only if both computed roots equal root1 and root2
 *         (compared in constant time).
 * Errors: DSUIT_E_INVAL (size1 > size2; path_len not a multiple of 32 or
 * not the number of hashes the sizes need; a NULL pointer), DSUIT_E_LIMIT
 * (more than DSUIT_MERKLE_MAX_DEPTH hashes), DSUIT_E_DIGEST (a root
 * differs), DSUIT_E_CRYPTO.
 */
int dsuit_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                    const uint8_t root1[DSUIT_MERKLE_HASH_LEN],
                                    const uint8_t root2[DSUIT_MERKLE_HASH_LEN],
                                    const uint8_t *path, size_t path_len);

/*
 * A decoded inclusion proof. Wire format (deterministic CBOR):
 *
 *   inclusion-proof = [ leaf-index : uint,
 *                       tree-size  : uint,
 *                       path       : [ * bstr .size 32 ] ]
 *
 * Invariants after a successful decode: leaf_index < tree_size; n_hashes
 * is exactly dsuit_merkle_inclusion_path_count(leaf_index, tree_size) and
 * at most DSUIT_MERKLE_MAX_DEPTH; the hashes lie in the input, each 34
 * bytes after the previous (a 2-byte bstr head, then 32 bytes), the first
 * at `hashes` (NULL when n_hashes is 0). The struct points into the input,
 * which must outlive it. No _free.
 */
typedef struct {
    uint64_t leaf_index;
    uint64_t tree_size;
    const uint8_t *hashes; /* first hash, inside the decoded input */
    size_t n_hashes;
} dsuit_merkle_proof_t;

/**
 * Encode an inclusion proof as `[leaf_index, tree_size, [* bstr]]`.
 * @param[in]  path      path_len bytes, 32 per hash
 * @param[out] out       out_cap bytes; may be NULL when out_cap is 0
 * @param[out] out_len   bytes written, or on DSUIT_E_LIMIT bytes needed
 * Errors: DSUIT_E_INVAL (leaf_index >= tree_size, path_len not a multiple
 * of 32 or wrong for the index and size, NULL pointer), DSUIT_E_LIMIT (out
 * too small; also more than DSUIT_MERKLE_MAX_DEPTH hashes, then *out_len
 * is not set).
 */
int dsuit_merkle_proof_encode(uint64_t leaf_index, uint64_t tree_size,
                              const uint8_t *path, size_t path_len,
                              uint8_t *out, size_t out_cap, size_t *out_len);

/**
 * Decode an inclusion proof, copying nothing. The input must be exactly one
 * deterministically encoded item (shortest heads) with nothing after it.
 * @param[in]  buf  input; must outlive *out
 * @param[out] out  written only on success
 * Errors: DSUIT_E_TRUNCATED, DSUIT_E_CBOR_* (not well formed, non-minimal
 * heads, an item of the wrong type: DSUIT_E_CBOR_TYPE, trailing bytes:
 * DSUIT_E_CBOR_TRAILING), DSUIT_E_CBOR_MALFORMED (outer array not of 3
 * items, a hash not exactly 32 bytes), DSUIT_E_LIMIT (more than
 * DSUIT_MERKLE_MAX_DEPTH hashes), DSUIT_E_INVAL (leaf index not below tree
 * size, or a number of hashes these two do not need).
 */
int dsuit_merkle_proof_decode(const uint8_t *buf, size_t len,
                              dsuit_merkle_proof_t *out);

/**
 * Hash number i (0-based, from the leaf upwards) of a decoded proof, or
 * NULL if i >= n_hashes. Points into the decoded input.
 */
const uint8_t *dsuit_merkle_proof_hash(const dsuit_merkle_proof_t *proof,
                                       size_t i);

/**
 * Verify a decoded inclusion proof for leaf_hash against a trusted tree
 * head (tree_size, root), as dsuit_merkle_verify_inclusion() with the
 * proof's leaf index. Taking the size from the caller, not from the proof,
 * keeps an attacker from choosing it.
 * Errors: DSUIT_E_INVAL (proof->tree_size differs from tree_size), and
 * those of dsuit_merkle_verify_inclusion().
 */
int dsuit_merkle_proof_verify(const dsuit_merkle_proof_t *proof,
                              const uint8_t leaf_hash[DSUIT_MERKLE_HASH_LEN],
                              uint64_t tree_size,
                              const uint8_t root[DSUIT_MERKLE_HASH_LEN]);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_PROOF_H */
