/*
 * Merkle benchmarks (RFC 9162 tree of include/dsuit/merkle.h and the
 * device-side proof check of proof.h) on a 1,000,000-leaf tree: building
 * it, inclusion proofs generated per second, proofs verified per second.
 * Baseline: SHA-256 of a 64-byte message per second with OpenSSL's
 * low-level SHA256_Init/Update/Final (what dsuit_sha256 runs on; the
 * one-shot SHA256() of OpenSSL 3 goes through an algorithm fetch that
 * costs more than the hash), the cost of one node hash (65 bytes in, also
 * two SHA-256 blocks): a verification is about 20 of them, a leaf
 * appended about 2.
 */
#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 0x10101000L /* SHA256_Init and friends */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bench.h"
#include "dsuit/merkle.h"
#include "dsuit/proof.h"

#define SHA64          "SHA-256 of 64 bytes (OpenSSL SHA256_*)"
#define N_PROOFS       1024 /* proofs verified in rotation */
#define PATH_MAX_BYTES (DSUIT_MERKLE_MAX_DEPTH * DSUIT_MERKLE_HASH_LEN)

typedef struct {
    uint64_t size;
    dsuit_merkle_tree_t *tree;
    uint8_t root[32];
    uint64_t next; /* LCG state choosing leaf indices */
    /* proofs to verify */
    uint64_t idx[N_PROOFS];
    uint8_t leaf[N_PROOFS][32];
    uint8_t path[N_PROOFS][PATH_MAX_BYTES];
    size_t path_len[N_PROOFS];
    size_t k;
    uint8_t msg[64], out[32];
} mk_t;

/* The entry of leaf i: 64 bytes, different for every i. */
static void entry(uint64_t i, uint8_t out[64])
{
    for (int k = 0; k < 8; k++) {
        memcpy(out + 8 * k, &i, sizeof i);
        out[8 * k] ^= (uint8_t)k;
    }
}

static uint64_t next_index(mk_t *m)
{
    m->next = m->next * 6364136223846793005ull + 1442695040888963407ull;
    return (m->next >> 11) % m->size;
}

/* Build a tree of m->size leaves: leaf hash of each entry, append. */
static int build(mk_t *m, dsuit_merkle_tree_t **out)
{
    dsuit_merkle_tree_t *t;
    uint8_t e[64], h[32];
    if (dsuit_merkle_tree_new(NULL, &t) != DSUIT_OK)
        return -1;
    for (uint64_t i = 0; i < m->size; i++) {
        entry(i, e);
        if (dsuit_merkle_leaf_hash(e, sizeof e, h) != DSUIT_OK ||
            dsuit_merkle_tree_append(t, h) != DSUIT_OK) {
            dsuit_merkle_tree_free(t);
            return -1;
        }
    }
    *out = t;
    return 0;
}

static int build_n(void *arg, uint64_t n)
{
    mk_t *m = arg;
    for (uint64_t i = 0; i < n; i++) {
        dsuit_merkle_tree_t *t;
        if (build(m, &t) != 0)
            return -1;
        dsuit_merkle_tree_free(t);
    }
    return 0;
}

static int prove_n(void *arg, uint64_t n)
{
    mk_t *m = arg;
    uint8_t path[PATH_MAX_BYTES];
    size_t len;
    for (uint64_t i = 0; i < n; i++)
        if (dsuit_merkle_tree_inclusion_proof(m->tree, next_index(m), m->size,
                                              path, sizeof path,
                                              &len) != DSUIT_OK)
            return -1;
    return 0;
}

static int verify_n(void *arg, uint64_t n)
{
    mk_t *m = arg;
    for (uint64_t i = 0; i < n; i++) {
        size_t k = m->k++ % N_PROOFS;
        if (dsuit_merkle_verify_inclusion(m->leaf[k], m->idx[k], m->size,
                                          m->path[k], m->path_len[k],
                                          m->root) != DSUIT_OK)
            return -1;
    }
    return 0;
}

static int sha64_n(void *arg, uint64_t n)
{
    mk_t *m = arg;
    for (uint64_t i = 0; i < n; i++) {
        SHA256_CTX c;
        m->msg[0] = (uint8_t)i;
        if (SHA256_Init(&c) != 1 || SHA256_Update(&c, m->msg, 64) != 1 ||
            SHA256_Final(m->out, &c) != 1)
            return -1;
    }
    return 0;
}

void bench_merkle(bench_t *b)
{
    static mk_t m; /* 2 MiB of proofs */
    bench_stat_t s, base;
    char fig[128], note[128];
    size_t hashes = 0;

    memset(&m, 0, sizeof m);
    m.size = bench_cfg(b)->quick ? 65536 : 1000000;
    m.next = 42;
    for (size_t i = 0; i < sizeof m.msg; i++)
        m.msg[i] = (uint8_t)i;

    snprintf(fig, sizeof fig, "Merkle tree build, %llu leaves",
             (unsigned long long)m.size);
    if (bench_pair(b, fig, build_n, &m, &s, sha64_n, &m, &base) == 0) {
        snprintf(note, sizeof note,
                 "leaf hash + append; 2 hashes per leaf: ideal 0.50; "
                 "one build %.2f s",
                 s.median);
        bench_row(b, fig, bench_rate(&s, (double)m.size),
                  bench_rate_best(&s, (double)m.size), "leaves/s", SHA64,
                  bench_rate(&base, 1), note);
    }

    if (build(&m, &m.tree) != 0 ||
        dsuit_merkle_tree_root(m.tree, m.size, m.root) != DSUIT_OK) {
        bench_fail(b, "merkle: cannot build the tree");
        return;
    }
    for (size_t k = 0; k < N_PROOFS; k++) {
        uint8_t e[64];
        m.idx[k] = next_index(&m);
        entry(m.idx[k], e);
        if (dsuit_merkle_leaf_hash(e, sizeof e, m.leaf[k]) != DSUIT_OK ||
            dsuit_merkle_tree_inclusion_proof(m.tree, m.idx[k], m.size,
                                              m.path[k], PATH_MAX_BYTES,
                                              &m.path_len[k]) != DSUIT_OK) {
            bench_fail(b, "merkle: cannot make a proof");
            goto out;
        }
        hashes += m.path_len[k] / 32;
    }
    if (verify_n(&m, N_PROOFS) != 0) {
        bench_fail(b, "merkle: a proof does not verify");
        goto out;
    }

    snprintf(fig, sizeof fig, "Merkle inclusion proof generation, %llu leaves",
             (unsigned long long)m.size);
    if (bench_pair(b, fig, prove_n, &m, &s, sha64_n, &m, &base) == 0)
        bench_row(b, fig, bench_rate(&s, 1), bench_rate_best(&s, 1), "proof/s",
                  SHA64, bench_rate(&base, 1),
                  "complete subtree roots are stored: few hashes per proof");

    snprintf(fig, sizeof fig,
             "Merkle inclusion proof verification, %llu leaves",
             (unsigned long long)m.size);
    if (bench_pair(b, fig, verify_n, &m, &s, sha64_n, &m, &base) == 0) {
        double avg = (double)hashes / N_PROOFS;
        snprintf(note, sizeof note,
                 "%.1f node hashes per proof: ideal ratio %.3f", avg,
                 1.0 / avg);
        bench_row(b, fig, bench_rate(&s, 1), bench_rate_best(&s, 1), "verify/s",
                  SHA64, bench_rate(&base, 1), note);
    }
out:
    dsuit_merkle_tree_free(m.tree);
    m.tree = NULL;
}
