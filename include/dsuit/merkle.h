/*
 * dsuit Merkle tree, node side: the append-only RFC 9162 (Certificate
 * Transparency v2.0) §2.1 tree behind the ledger's manifest log and
 * transaction roots. It gives the tree head (root) of any earlier size and
 * the inclusion and consistency proofs that devices and light clients check
 * with include/dsuit/proof.h.
 *
 * The tree holds 32-byte leaf hashes (dsuit_merkle_leaf_hash() of each
 * entry), not the entries. This implementation keeps them in memory; a
 * storage-backed tree (LMDB) can offer the same functions over the same
 * handle type later.
 *
 * Complexity, n leaves: memory 2n hashes (64n bytes: the leaves plus the
 * root of every complete, aligned subtree, which never changes once the
 * subtree is full). Append: amortised O(1) hashes and copies, O(log n) at
 * worst. Root of any size: O(log n) hashes. Inclusion and consistency
 * proofs: O(log^2 n) hashes (each of the O(log n) path entries is a
 * subtree root, itself O(log n) complete subtrees folded together).
 *
 * Not thread-safe: one writer, or many readers with no writer.
 */
#ifndef DSUIT_MERKLE_H
#define DSUIT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/error.h"
#include "dsuit/proof.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An append-only Merkle tree. Opaque; dsuit_merkle_tree_new() and
 * dsuit_merkle_tree_free(). */
typedef struct dsuit_merkle_tree dsuit_merkle_tree_t;

/*
 * Options for dsuit_merkle_tree_new(). realloc_fn, if set, does all the
 * tree's allocation: realloc_fn(arg, ptr, size) behaves like realloc(ptr,
 * size) for size > 0, and frees ptr (returning NULL) for size 0. NULL opts
 * or NULL realloc_fn mean the C library's realloc and free. Tests use it to
 * fail each allocation in turn.
 */
typedef struct {
    void *(*realloc_fn)(void *arg, void *ptr, size_t size);
    void *arg;
} dsuit_merkle_opts_t;

/**
 * Create an empty tree.
 * @param[in]  opts  may be NULL; copied, need not outlive the call
 * @param[out] out   the new tree; free it with dsuit_merkle_tree_free()
 * Errors: DSUIT_E_INVAL (out NULL), DSUIT_E_NOMEM.
 */
int dsuit_merkle_tree_new(const dsuit_merkle_opts_t *opts,
                          dsuit_merkle_tree_t **out);

/** Free a tree and everything it holds. NULL does nothing. */
void dsuit_merkle_tree_free(dsuit_merkle_tree_t *tree);

/**
 * Append one leaf hash (leaf number dsuit_merkle_tree_size() before the
 * call).
 * @param[in] leaf_hash  32 bytes, normally dsuit_merkle_leaf_hash() of the
 *                       entry; copied
 * Errors: DSUIT_E_INVAL (NULL), DSUIT_E_LIMIT (the tree cannot grow: its
 * size would not fit in memory), DSUIT_E_NOMEM, DSUIT_E_CRYPTO. On any
 * error the tree is unchanged.
 */
int dsuit_merkle_tree_append(dsuit_merkle_tree_t *tree,
                             const uint8_t leaf_hash[DSUIT_MERKLE_HASH_LEN]);

/**
 * Drop the leaves from number size on, so the tree is again what it was
 * when it had size leaves. For undoing appends that were never committed
 * (a block that failed to apply or was only proposed); a committed log is
 * append-only, so nothing else should call this. Memory is kept for reuse.
 * Errors: DSUIT_E_INVAL (NULL, or size > dsuit_merkle_tree_size()).
 */
int dsuit_merkle_tree_truncate(dsuit_merkle_tree_t *tree, uint64_t size);

/** Number of leaves appended so far (0 for NULL). */
uint64_t dsuit_merkle_tree_size(const dsuit_merkle_tree_t *tree);

/**
 * Copy leaf hash number index.
 * Errors: DSUIT_E_INVAL (NULL), DSUIT_E_NOTFOUND (index >= size).
 */
int dsuit_merkle_tree_leaf(const dsuit_merkle_tree_t *tree, uint64_t index,
                           uint8_t out[DSUIT_MERKLE_HASH_LEN]);

/**
 * Tree head of the first size leaves, MTH(D[0:size]) of RFC 9162 §2.1.1;
 * size 0 gives SHA-256 of the empty string.
 * Errors: DSUIT_E_INVAL (NULL, or size > dsuit_merkle_tree_size()),
 * DSUIT_E_CRYPTO.
 */
int dsuit_merkle_tree_root(const dsuit_merkle_tree_t *tree, uint64_t size,
                           uint8_t out[DSUIT_MERKLE_HASH_LEN]);

/**
 * Inclusion proof of leaf index in the tree of the first size leaves:
 * PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, hashes from the leaf
 * upwards, 32 bytes each, as dsuit_merkle_verify_inclusion() takes them.
 * @param[out] out      out_cap bytes; may be NULL when out_cap is 0
 * @param[out] out_len  bytes written, or on DSUIT_E_LIMIT bytes needed
 *                      (32 * dsuit_merkle_inclusion_path_count())
 * Errors: DSUIT_E_INVAL (NULL, size > tree size, index >= size),
 * DSUIT_E_LIMIT (out too small), DSUIT_E_CRYPTO. On an error other than
 * DSUIT_E_LIMIT, *out_len is not set and the bytes of out are undefined.
 */
int dsuit_merkle_tree_inclusion_proof(const dsuit_merkle_tree_t *tree,
                                      uint64_t index, uint64_t size,
                                      uint8_t *out, size_t out_cap,
                                      size_t *out_len);

/**
 * Consistency proof between the trees of the first size1 and size2 leaves:
 * PROOF(size1, D[0:size2]) of RFC 9162 §2.1.4.1, as
 * dsuit_merkle_verify_consistency() takes it. Empty (length 0) when size1
 * is 0 or size1 == size2.
 * @param[out] out, out_len  as dsuit_merkle_tree_inclusion_proof()
 * Errors: DSUIT_E_INVAL (NULL, size1 > size2, size2 > tree size),
 * DSUIT_E_LIMIT (out too small), DSUIT_E_CRYPTO.
 */
int dsuit_merkle_tree_consistency_proof(const dsuit_merkle_tree_t *tree,
                                        uint64_t size1, uint64_t size2,
                                        uint8_t *out, size_t out_cap,
                                        size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_MERKLE_H */
