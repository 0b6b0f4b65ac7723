/*
 * The manifest log's Merkle tree, held in memory: an append-only RFC 9162
 * §2.1 tree over 32-byte leaf hashes, giving the tree head of every earlier
 * size (§2.1.1), inclusion proofs (§2.1.3.1, PATH) and consistency proofs
 * (§2.1.4.1, PROOF/SUBPROOF). Devices check the proofs with
 * src/device/proof/merkle.c; the ledger puts (size, root) in block headers.
 *
 * Layout: levels of complete subtree roots.
 *
 *   level[0][j]  = leaf hash j                          size >> 0 entries
 *   level[l][j]  = MTH(D[j*2^l : (j+1)*2^l])            size >> l entries
 *                = node_hash(level[l-1][2j], level[l-1][2j+1])
 *
 * Invariant: level l holds exactly size >> l valid hashes (its capacity
 * may be larger); entries never change once written, so the tree head of
 * any earlier size is still computable. MTH of a range [lo, lo+len) whose
 * start lo is a multiple of the largest power of two <= len (every range
 * the RFC's recursive definitions visit is of this kind: they always split
 * off the largest power of two first) is the right-to-left fold of at most
 * log2(len)+1 complete subtrees, one per set bit of len, so any root costs
 * O(log n) hashes and a proof O(log^2 n). Memory: 2n hashes.
 *
 * PATH and SUBPROOF are written as loops that walk down from the root,
 * collecting one hash per level; the RFC lists them leaf upwards, so the
 * loops fill the output from its end. No recursion.
 *
 * dsuit_merkle_tree_truncate() only lowers the size: by the invariant the
 * entries below the new counts are exactly those of the shorter tree.
 *
 * Allocation goes through the realloc_fn of dsuit_merkle_opts_t. An append
 * first makes room on every level it will touch and only then writes, and
 * the size moves last, so a failure (no memory, or a hash error) leaves the
 * tree as it was.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/crypto.h"
#include "dsuit/merkle.h"

#define HLEN       DSUIT_MERKLE_HASH_LEN
#define MAX_LEVELS 64

typedef uint8_t hash_t[HLEN];

/* Invariant: level[l] has room for cap[l] hashes, of which size >> l are
 * valid; levels with cap 0 are NULL. */
struct dsuit_merkle_tree {
    uint64_t size;
    hash_t *level[MAX_LEVELS];
    size_t cap[MAX_LEVELS];
    void *(*realloc_fn)(void *arg, void *ptr, size_t size);
    void *arg;
};

static void *libc_realloc(void *arg, void *ptr, size_t size)
{
    (void)arg;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

int dsuit_merkle_tree_new(const dsuit_merkle_opts_t *opts,
                          dsuit_merkle_tree_t **out)
{
    void *(*fn)(void *, void *, size_t) = libc_realloc;
    void *arg = NULL;
    dsuit_merkle_tree_t *t;

    if (out == NULL)
        return DSUIT_E_INVAL;
    if (opts != NULL && opts->realloc_fn != NULL) {
        fn = opts->realloc_fn;
        arg = opts->arg;
    }
    t = fn(arg, NULL, sizeof *t);
    if (t == NULL)
        return DSUIT_E_NOMEM;
    memset(t, 0, sizeof *t);
    t->realloc_fn = fn;
    t->arg = arg;
    *out = t;
    return DSUIT_OK;
}

void dsuit_merkle_tree_free(dsuit_merkle_tree_t *tree)
{
    if (tree == NULL)
        return;
    for (size_t l = 0; l < MAX_LEVELS; l++) {
        if (tree->level[l] != NULL)
            (void)tree->realloc_fn(tree->arg, tree->level[l], 0);
    }
    (void)tree->realloc_fn(tree->arg, tree, 0);
}

/* Make room for `need` hashes on level l, doubling so appends stay
 * amortised O(1). On failure the level is as it was. */
static int reserve(dsuit_merkle_tree_t *t, size_t l, size_t need)
{
    size_t cap = t->cap[l];
    void *p;
    if (need <= cap)
        return DSUIT_OK;
    cap = cap < 8 ? 8 : cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / HLEN)
        return DSUIT_E_LIMIT;
    p = t->realloc_fn(t->arg, t->level[l], cap * HLEN);
    if (p == NULL)
        return DSUIT_E_NOMEM;
    t->level[l] = p;
    t->cap[l] = cap;
    return DSUIT_OK;
}

int dsuit_merkle_tree_append(dsuit_merkle_tree_t *tree,
                             const uint8_t leaf_hash[DSUIT_MERKLE_HASH_LEN])
{
    uint64_t old, n;
    int rc;

    if (tree == NULL || leaf_hash == NULL)
        return DSUIT_E_INVAL;
    old = tree->size;
    if (old >= SIZE_MAX / HLEN)
        return DSUIT_E_LIMIT;
    n = old + 1;

    /* Room first, on every level that gains an entry. */
    for (size_t l = 0; l < MAX_LEVELS && (n >> l) != 0; l++) {
        if ((rc = reserve(tree, l, (size_t)(n >> l))) != DSUIT_OK)
            return rc;
    }
    memcpy(tree->level[0][old], leaf_hash, HLEN);
    /* Level l+1 gains an entry when its count changes, i.e. when the new
     * leaf completes a subtree of 2^(l+1) leaves. */
    for (size_t l = 0; l + 1 < MAX_LEVELS && (n >> (l + 1)) != (old >> (l + 1));
         l++) {
        size_t j = (size_t)(n >> (l + 1)) - 1;
        rc = dsuit_merkle_node_hash(tree->level[l][2 * j],
                                    tree->level[l][2 * j + 1],
                                    tree->level[l + 1][j]);
        if (rc != DSUIT_OK)
            return rc; /* entries past the counts are not yet valid */
    }
    tree->size = n;
    return DSUIT_OK;
}

int dsuit_merkle_tree_truncate(dsuit_merkle_tree_t *tree, uint64_t size)
{
    if (tree == NULL || size > tree->size)
        return DSUIT_E_INVAL;
    /* Level l keeps its first size >> l entries, exactly the complete
     * subtrees of the first size leaves; the rest become invalid and are
     * rewritten by later appends before they count again. */
    tree->size = size;
    return DSUIT_OK;
}

uint64_t dsuit_merkle_tree_size(const dsuit_merkle_tree_t *tree)
{
    return tree == NULL ? 0 : tree->size;
}

int dsuit_merkle_tree_leaf(const dsuit_merkle_tree_t *tree, uint64_t index,
                           uint8_t out[DSUIT_MERKLE_HASH_LEN])
{
    if (tree == NULL || out == NULL)
        return DSUIT_E_INVAL;
    if (index >= tree->size)
        return DSUIT_E_NOTFOUND;
    memcpy(out, tree->level[0][index], HLEN);
    return DSUIT_OK;
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

/*
 * MTH(D[lo : lo+len]) for len >= 1, lo + len <= size, lo a multiple of the
 * largest power of two <= len: fold the complete subtrees, one per set bit
 * of len, from the right (smallest) to the left (largest).
 */
static int subtree_root(const dsuit_merkle_tree_t *t, uint64_t lo, uint64_t len,
                        uint8_t out[HLEN])
{
    uint8_t acc[HLEN];
    int have = 0;
    int rc;

    assert(len >= 1 && lo + len <= t->size);
    for (unsigned b = 0; b < 64; b++) {
        uint64_t start;
        if (((len >> b) & 1) == 0)
            continue;
        /* The piece for bit b starts after the pieces of the higher bits. */
        start = lo + (((len >> b) >> 1) << b << 1);
        assert(start % ((uint64_t)1 << b) == 0);
        const uint8_t *piece = t->level[b][start >> b];
        if (!have) {
            memcpy(acc, piece, HLEN);
            have = 1;
        } else if ((rc = dsuit_merkle_node_hash(piece, acc, acc)) != DSUIT_OK) {
            return rc;
        }
    }
    memcpy(out, acc, HLEN);
    return DSUIT_OK;
}

int dsuit_merkle_tree_root(const dsuit_merkle_tree_t *tree, uint64_t size,
                           uint8_t out[DSUIT_MERKLE_HASH_LEN])
{
    if (tree == NULL || out == NULL || size > tree->size)
        return DSUIT_E_INVAL;
    if (size == 0)
        return dsuit_sha256(NULL, 0, out);
    return subtree_root(tree, 0, size, out);
}

/* Check out/out_cap against the bytes a proof of `count` hashes needs. */
static int check_room(size_t out_cap, size_t count, size_t *out_len)
{
    size_t need = count * HLEN;
    if (out_cap < need) {
        *out_len = need;
        return DSUIT_E_LIMIT;
    }
    return DSUIT_OK;
}

int dsuit_merkle_tree_inclusion_proof(const dsuit_merkle_tree_t *tree,
                                      uint64_t index, uint64_t size,
                                      uint8_t *out, size_t out_cap,
                                      size_t *out_len)
{
    size_t count, pos;
    uint64_t lo = 0, n = size, m = index;
    int rc;

    if (tree == NULL || out_len == NULL || (out == NULL && out_cap > 0) ||
        size > tree->size || index >= size)
        return DSUIT_E_INVAL;
    count = dsuit_merkle_inclusion_path_count(index, size);
    if ((rc = check_room(out_cap, count, out_len)) != DSUIT_OK)
        return rc;

    /* PATH(m, D[lo:lo+n]): the sibling at each level, top first, so the
     * output fills from its end. */
    pos = count;
    while (n > 1) {
        uint64_t k = split_point(n);
        assert(pos > 0);
        pos--;
        if (m < k) {
            rc = subtree_root(tree, lo + k, n - k, out + pos * HLEN);
            n = k;
        } else {
            rc = subtree_root(tree, lo, k, out + pos * HLEN);
            lo += k;
            m -= k;
            n -= k;
        }
        if (rc != DSUIT_OK)
            return rc;
    }
    assert(pos == 0);
    *out_len = count * HLEN;
    return DSUIT_OK;
}

int dsuit_merkle_tree_consistency_proof(const dsuit_merkle_tree_t *tree,
                                        uint64_t size1, uint64_t size2,
                                        uint8_t *out, size_t out_cap,
                                        size_t *out_len)
{
    size_t count, pos;
    uint64_t lo = 0, n = size2, m = size1;
    int whole_old_tree = 1; /* SUBPROOF's b */
    int rc;

    if (tree == NULL || out_len == NULL || (out == NULL && out_cap > 0) ||
        size1 > size2 || size2 > tree->size)
        return DSUIT_E_INVAL;
    count = dsuit_merkle_consistency_path_count(size1, size2);
    if ((rc = check_room(out_cap, count, out_len)) != DSUIT_OK)
        return rc;
    if (count == 0) { /* size1 is 0 or size2: nothing to prove */
        *out_len = 0;
        return DSUIT_OK;
    }

    /* SUBPROOF(m, D[lo:lo+n], b), top level first, filled from the end. */
    pos = count;
    for (;;) {
        uint64_t k;
        if (m == n) {
            /* This subtree is all old: its root is in the old tree head
             * already when it is the whole old tree (b true). */
            if (!whole_old_tree) {
                assert(pos == 1);
                pos--;
                if ((rc = subtree_root(tree, lo, n, out)) != DSUIT_OK)
                    return rc;
            }
            break;
        }
        k = split_point(n);
        assert(pos > 0);
        pos--;
        if (m <= k) {
            rc = subtree_root(tree, lo + k, n - k, out + pos * HLEN);
            n = k;
        } else {
            rc = subtree_root(tree, lo, k, out + pos * HLEN);
            lo += k;
            m -= k;
            n -= k;
            whole_old_tree = 0;
        }
        if (rc != DSUIT_OK)
            return rc;
    }
    assert(pos == 0);
    *out_len = count * HLEN;
    return DSUIT_OK;
}
