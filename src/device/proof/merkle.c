/*
 * Merkle proof verification for devices: RFC 9162 §2.1 leaf and node
 * hashes, inclusion proof verification (§2.1.3.2), consistency proof
 * verification (§2.1.4.2), and the CBOR form of an inclusion proof that a
 * retrieval node hands to a device (see include/dsuit/proof.h).
 *
 * Wire format of an inclusion proof (deterministic CBOR, RFC 8949 §4.2.1):
 *
 *   offset  size  field
 *   0       1     0x83                 array of 3
 *   1       1-9   uint                 leaf index
 *   ..      1-9   uint                 tree size
 *   ..      1-2   0x80..0x97, 0x98 nn  array of n hashes (n <= 64)
 *   ..      34*n  0x58 0x20 + 32 bytes each hash, leaf upwards
 *
 * Because every hash is exactly 32 bytes and heads are minimal, the hashes
 * sit at a fixed stride of 34 bytes, so a decoded proof is a pointer to the
 * first hash and a count, and is verified in place (zero copy).
 *
 * Both verifiers first check the number of hashes against the number the
 * sizes need (computed from the index and size bits, as RFC 9162 §2.1.3.1
 * and §2.1.4.1 define the paths), so a proof of the wrong length is refused
 * before any hashing and the loops run at most DSUIT_MERKLE_MAX_DEPTH
 * times. Then they run the RFC algorithm as written and compare the final
 * roots in constant time. They fail closed: rc starts as a failure and only
 * the last line of the fully checked path sets DSUIT_OK.
 *
 * Device-safe: no allocation, no recursion. Stack: a 65-byte message and
 * a hash in dsuit_merkle_node_hash() (plus the backend's one-shot SHA-256,
 * a 128-byte context), two or three 32-byte hashes in the callers; under
 * 512 bytes in all besides the backend's own.
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/crypto.h"
#include "dsuit/proof.h"

#define HLEN DSUIT_MERKLE_HASH_LEN

/* Encoded size of one hash in the proof: bstr head 0x58 0x20, 32 bytes. */
#define PROOF_STRIDE (2 + HLEN)

static unsigned bit_length(uint64_t v)
{
    unsigned n = 0;
    while (v != 0) {
        n++;
        v >>= 1;
    }
    return n;
}

static unsigned popcount(uint64_t v)
{
    unsigned n = 0;
    while (v != 0) {
        n += (unsigned)(v & 1);
        v >>= 1;
    }
    return n;
}

static unsigned trailing_zeros(uint64_t v)
{
    unsigned n = 0;
    if (v == 0)
        return 64;
    while ((v & 1) == 0) {
        n++;
        v >>= 1;
    }
    return n;
}

int dsuit_merkle_leaf_hash(const uint8_t *leaf, size_t len,
                           uint8_t out[DSUIT_MERKLE_HASH_LEN])
{
    static const uint8_t prefix = 0x00;
    dsuit_sha256_ctx_t ctx;
    uint8_t h[HLEN];
    int rc;

    if (out == NULL || (leaf == NULL && len > 0))
        return DSUIT_E_INVAL;
    if ((rc = dsuit_sha256_init(&ctx)) != DSUIT_OK ||
        (rc = dsuit_sha256_update(&ctx, &prefix, 1)) != DSUIT_OK ||
        (rc = dsuit_sha256_update(&ctx, leaf, len)) != DSUIT_OK ||
        (rc = dsuit_sha256_final(&ctx, h)) != DSUIT_OK)
        return rc;
    memcpy(out, h, HLEN);
    return DSUIT_OK;
}

int dsuit_merkle_node_hash(const uint8_t left[DSUIT_MERKLE_HASH_LEN],
                           const uint8_t right[DSUIT_MERKLE_HASH_LEN],
                           uint8_t out[DSUIT_MERKLE_HASH_LEN])
{
    uint8_t msg[1 + 2 * HLEN];
    uint8_t h[HLEN];
    int rc;

    if (left == NULL || right == NULL || out == NULL)
        return DSUIT_E_INVAL;
    /* One one-shot hash over a 65-byte copy: a proof is mostly node
     * hashes, and the backend's per-call cost is larger than the copy.
     * Hash into a local first: out may alias left or right. */
    msg[0] = 0x01;
    memcpy(msg + 1, left, HLEN);
    memcpy(msg + 1 + HLEN, right, HLEN);
    if ((rc = dsuit_sha256(msg, sizeof msg, h)) != DSUIT_OK)
        return rc;
    memcpy(out, h, HLEN);
    return DSUIT_OK;
}

/*
 * The inclusion path of leaf m in a tree of n leaves has one hash per level
 * below the point where the paths to m and to the last leaf n-1 part
 * ("inner": the bit length of m ^ (n-1)), plus one for each left subtree
 * that m's path passes above that point ("border": the set bits of m above
 * the inner levels).
 */
size_t dsuit_merkle_inclusion_path_count(uint64_t leaf_index,
                                         uint64_t tree_size)
{
    unsigned inner;
    if (leaf_index >= tree_size)
        return 0;
    inner = bit_length(leaf_index ^ (tree_size - 1));
    return inner + popcount(inner >= 64 ? 0 : leaf_index >> inner);
}

/*
 * A consistency proof from m to n is the inclusion path of leaf m-1 in the
 * tree of n, minus the levels inside the largest complete subtree ending at
 * m (2^trailing_zeros(m) leaves, whose root stands for them), plus that
 * subtree's root unless it is the whole old tree (m a power of two, where
 * the verifier starts from root1 instead).
 */
size_t dsuit_merkle_consistency_path_count(uint64_t size1, uint64_t size2)
{
    size_t incl;
    unsigned shift;
    if (size1 == 0 || size1 >= size2)
        return 0;
    incl = dsuit_merkle_inclusion_path_count(size1 - 1, size2);
    shift = trailing_zeros(size1);
    /* incl > shift: m-1 and n-1 first differ above bit `shift`, since the
     * low `shift` bits of m-1 are all ones and n-1 > m-1. */
    return incl - shift + ((size1 & (size1 - 1)) == 0 ? 0 : 1);
}

/* RFC 9162 §2.1.3.2 over n hashes at path, path + stride, ... The caller
 * has checked the index, the size and that n is the expected count. */
static int verify_inclusion(const uint8_t leaf_hash[HLEN], uint64_t index,
                            uint64_t size, const uint8_t *path, size_t n,
                            size_t stride, const uint8_t root[HLEN])
{
    int rc = DSUIT_E_DIGEST;
    uint8_t r[HLEN];
    uint64_t fn = index;
    uint64_t sn = size - 1;

    memcpy(r, leaf_hash, HLEN);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = path + i * stride;
        int err;
        /* A path longer than the tree is high; the count check makes this
         * unreachable, kept so the loop is safe on its own. */
        if (sn == 0)
            goto out;
        if ((fn & 1) != 0 || fn == sn) {
            err = dsuit_merkle_node_hash(p, r, r);
            /* Skip the levels where leaf m is on the tree's right edge and
             * has no sibling. */
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            err = dsuit_merkle_node_hash(r, p, r);
        }
        if (err != DSUIT_OK) {
            rc = err;
            goto out;
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        goto out;
    if (!dsuit_ct_equal(r, root, HLEN))
        goto out;
    rc = DSUIT_OK;
out:
    return rc;
}

/* Argument checks shared by both inclusion verifiers: n is the number of
 * hashes the proof holds. */
static int check_inclusion_args(const uint8_t *leaf_hash, uint64_t index,
                                uint64_t size, size_t n, const uint8_t *root)
{
    if (leaf_hash == NULL || root == NULL)
        return DSUIT_E_INVAL;
    if (index >= size)
        return DSUIT_E_INVAL;
    if (n > DSUIT_MERKLE_MAX_DEPTH)
        return DSUIT_E_LIMIT;
    if (n != dsuit_merkle_inclusion_path_count(index, size))
        return DSUIT_E_INVAL;
    return DSUIT_OK;
}

int dsuit_merkle_verify_inclusion(
    const uint8_t leaf_hash[DSUIT_MERKLE_HASH_LEN], uint64_t leaf_index,
    uint64_t tree_size, const uint8_t *path, size_t path_len,
    const uint8_t root[DSUIT_MERKLE_HASH_LEN])
{
    int rc;
    if (path_len % HLEN != 0 || (path == NULL && path_len > 0))
        return DSUIT_E_INVAL;
    rc = check_inclusion_args(leaf_hash, leaf_index, tree_size, path_len / HLEN,
                              root);
    if (rc != DSUIT_OK)
        return rc;
    return verify_inclusion(leaf_hash, leaf_index, tree_size, path,
                            path_len / HLEN, HLEN, root);
}

int dsuit_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                    const uint8_t root1[DSUIT_MERKLE_HASH_LEN],
                                    const uint8_t root2[DSUIT_MERKLE_HASH_LEN],
                                    const uint8_t *path, size_t path_len)
{
    int rc = DSUIT_E_DIGEST;
    uint8_t fr[HLEN], sr[HLEN];
    uint64_t fn, sn;
    size_t n, start;
    int ok;

    if (root1 == NULL || root2 == NULL || size1 > size2)
        return DSUIT_E_INVAL;
    if (path_len % HLEN != 0 || (path == NULL && path_len > 0))
        return DSUIT_E_INVAL;
    n = path_len / HLEN;
    if (n > DSUIT_MERKLE_MAX_DEPTH)
        return DSUIT_E_LIMIT;

    if (size1 == 0 || size1 == size2) {
        /* Nothing to prove: the empty tree is a prefix of every tree, and
         * a tree is consistent with itself. The path must be empty, and
         * the roots given must be the ones these sizes have. */
        if (n != 0)
            return DSUIT_E_INVAL;
        if (size1 == 0) {
            rc = dsuit_sha256(NULL, 0, fr);
            if (rc != DSUIT_OK)
                return rc;
            rc = DSUIT_E_DIGEST;
            ok = dsuit_ct_equal(fr, root1, HLEN);
        } else {
            ok = dsuit_ct_equal(root1, root2, HLEN);
        }
        if (!ok)
            goto out;
        rc = DSUIT_OK;
        goto out;
    }
    if (n != dsuit_merkle_consistency_path_count(size1, size2))
        return DSUIT_E_INVAL;

    /* RFC 9162 §2.1.4.2. When size1 is a power of two the old tree is one
     * complete subtree of the new one, and the RFC prepends root1 to the
     * path; we start from root1 instead of copying the path. */
    if ((size1 & (size1 - 1)) == 0) {
        memcpy(fr, root1, HLEN);
        start = 0;
    } else {
        memcpy(fr, path, HLEN);
        start = 1;
    }
    memcpy(sr, fr, HLEN);
    fn = size1 - 1;
    sn = size2 - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    for (size_t i = start; i < n; i++) {
        const uint8_t *c = path + i * HLEN;
        int err;
        if (sn == 0)
            goto out; /* unreachable after the count check; see above */
        if ((fn & 1) != 0 || fn == sn) {
            err = dsuit_merkle_node_hash(c, fr, fr);
            if (err == DSUIT_OK)
                err = dsuit_merkle_node_hash(c, sr, sr);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            err = dsuit_merkle_node_hash(sr, c, sr);
        }
        if (err != DSUIT_OK) {
            rc = err;
            goto out;
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* Both comparisons always run: no early exit on the first mismatch. */
    ok = dsuit_ct_equal(fr, root1, HLEN) & dsuit_ct_equal(sr, root2, HLEN);
    if (!ok || sn != 0)
        goto out;
    rc = DSUIT_OK;
out:
    return rc;
}

int dsuit_merkle_proof_encode(uint64_t leaf_index, uint64_t tree_size,
                              const uint8_t *path, size_t path_len,
                              uint8_t *out, size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    size_t n, len = 0;
    int rc;

    if (out_len == NULL || (out == NULL && out_cap > 0) ||
        (path == NULL && path_len > 0) || path_len % HLEN != 0 ||
        leaf_index >= tree_size)
        return DSUIT_E_INVAL;
    n = path_len / HLEN;
    if (n > DSUIT_MERKLE_MAX_DEPTH)
        return DSUIT_E_LIMIT;
    if (n != dsuit_merkle_inclusion_path_count(leaf_index, tree_size))
        return DSUIT_E_INVAL;

    dsuit_cbor_enc_init(&e, out, out_cap);
    /* The writers go on counting past the end of out, so their results
     * are not needed: finish tells whether everything fitted. */
    (void)dsuit_cbor_put_array(&e, 3);
    (void)dsuit_cbor_put_uint(&e, leaf_index);
    (void)dsuit_cbor_put_uint(&e, tree_size);
    (void)dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++)
        (void)dsuit_cbor_put_bstr(&e, path + i * HLEN, HLEN);
    rc = dsuit_cbor_enc_finish(&e, &len);
    *out_len = len;
    return rc;
}

int dsuit_merkle_proof_decode(const uint8_t *buf, size_t len,
                              dsuit_merkle_proof_t *out)
{
    dsuit_cbor_dec_t d;
    uint64_t index, size;
    size_t count, n;
    const uint8_t *first = NULL;
    int rc;

    if (out == NULL || (buf == NULL && len > 0))
        return DSUIT_E_INVAL;
    /* Strict: only shortest heads, so every hash is 0x58 0x20 + 32 bytes
     * and a proof has exactly one encoding. */
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT);
    if ((rc = dsuit_cbor_get_array(&d, &count)) != DSUIT_OK)
        return rc;
    if (count != 3)
        return DSUIT_E_CBOR_MALFORMED;
    if ((rc = dsuit_cbor_get_uint(&d, &index)) != DSUIT_OK ||
        (rc = dsuit_cbor_get_uint(&d, &size)) != DSUIT_OK ||
        (rc = dsuit_cbor_get_array(&d, &n)) != DSUIT_OK)
        return rc;
    if (n > DSUIT_MERKLE_MAX_DEPTH)
        return DSUIT_E_LIMIT;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *h;
        size_t hlen;
        if ((rc = dsuit_cbor_get_bstr(&d, &h, &hlen)) != DSUIT_OK)
            return rc;
        if (hlen != HLEN)
            return DSUIT_E_CBOR_MALFORMED;
        if (i == 0)
            first = h;
        /* Strict decoding guarantees the stride; check it anyway, since
         * dsuit_merkle_proof_hash() relies on it. */
        if (h != first + i * PROOF_STRIDE)
            return DSUIT_E_CBOR_MALFORMED;
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_CBOR_TRAILING;
    if (index >= size || n != dsuit_merkle_inclusion_path_count(index, size))
        return DSUIT_E_INVAL;

    out->leaf_index = index;
    out->tree_size = size;
    out->hashes = first;
    out->n_hashes = n;
    return DSUIT_OK;
}

const uint8_t *dsuit_merkle_proof_hash(const dsuit_merkle_proof_t *proof,
                                       size_t i)
{
    if (proof == NULL || i >= proof->n_hashes)
        return NULL;
    return proof->hashes + i * PROOF_STRIDE;
}

int dsuit_merkle_proof_verify(const dsuit_merkle_proof_t *proof,
                              const uint8_t leaf_hash[DSUIT_MERKLE_HASH_LEN],
                              uint64_t tree_size,
                              const uint8_t root[DSUIT_MERKLE_HASH_LEN])
{
    int rc;
    if (proof == NULL || (proof->hashes == NULL && proof->n_hashes > 0))
        return DSUIT_E_INVAL;
    /* The size must come from the trusted tree head, not the proof. */
    if (proof->tree_size != tree_size)
        return DSUIT_E_INVAL;
    rc = check_inclusion_args(leaf_hash, proof->leaf_index, tree_size,
                              proof->n_hashes, root);
    if (rc != DSUIT_OK)
        return rc;
    return verify_inclusion(leaf_hash, proof->leaf_index, tree_size,
                            proof->hashes, proof->n_hashes, PROOF_STRIDE, root);
}
