/*
 * The device's ledger-proof check (include/dsuit/ledger_proof.h) against
 * proofs built from a real ledger: a chain of 4 validators (quorum 3) that
 * accepted three publishes, a certificate of real votes on its last block,
 * the manifest-log leaf as stored, and the inclusion proof the ledger
 * gives. Every part of the proof is then broken in turn; each break must
 * be refused with the error that names it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/block.h"
#include "dsuit/cbor.h"
#include "dsuit/ledger.h"
#include "dsuit/ledger_proof.h"
#include "dsuit/proof.h"
#include "dsuit/store.h"
#include "ledger_fixture.h"

#define PROOF_CAP 8192

typedef struct {
    lfx_t f;
    dsuit_key_t pub[LFX_N_VAL];
    dsuit_trust_t trust;
    uint8_t header[512];
    size_t header_len;
    dsuit_block_header_t h;
    uint8_t leaf[256];
    size_t leaf_len;
    uint8_t digest[32]; /* the manifest digest of leaf 1 */
    uint8_t path[32 * 8];
    size_t path_len;
} ctx_t;

static void copy_leaf(ctx_t *c, uint64_t index)
{
    dsuit_store_txn_t *t;
    const uint8_t *v;
    size_t n;
    uint8_t key[8];
    dsuit_store_u64_key(index, key);
    assert_int_equal(dsuit_store_begin(dsuit_ledger_store(c->f.l), 0, &t),
                     DSUIT_OK);
    assert_int_equal(dsuit_store_get(t, DSUIT_TBL_MLOG, key, 8, &v, &n),
                     DSUIT_OK);
    assert_true(n <= sizeof c->leaf);
    memcpy(c->leaf, v, n);
    c->leaf_len = n;
    /* The leaf's digest names a manifest the ledger holds. */
    assert_int_equal(dsuit_store_get(t, DSUIT_TBL_MANIFESTS, v + 3, 32, &v, &n),
                     DSUIT_OK);
    dsuit_store_abort(t);
    memcpy(c->digest, c->leaf + 3, 32); /* 0x85 0x58 0x20 digest ... */
}

static int setup(void **state)
{
    ctx_t *c = calloc(1, sizeof *c);
    dsuit_key_t author;
    uint8_t tx[4096], *blk;
    size_t len, bl;
    dsuit_block_t b;

    assert_non_null(c);
    snprintf(c->f.dir, sizeof c->f.dir, "/tmp/dsuit-test-lproof-XXXXXX");
    assert_non_null(mkdtemp(c->f.dir));
    lfx_create(&c->f, 0);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = lfx_tx_register_author(&c->f, &author, c->f.reg, 2, NULL, 0, tx,
                                 sizeof tx);
    assert_int_equal(lfx_commit1(&c->f, tx, len), DSUIT_TXR_OK);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        len = lfx_tx_publish(&c->f, &author, seq, 1000 * seq, tx, sizeof tx);
        assert_int_equal(lfx_commit1(&c->f, tx, len), DSUIT_TXR_OK);
    }
    lfx_commit(&c->f, NULL, NULL, 0, NULL); /* an idle block after */
    assert_int_equal(dsuit_ledger_mlog_size(c->f.l), 3);

    assert_int_equal(
        dsuit_ledger_block(c->f.l, dsuit_ledger_height(c->f.l), &blk, &bl),
        DSUIT_OK);
    assert_int_equal(dsuit_block_decode(blk, bl, &b), DSUIT_OK);
    assert_true(b.header_len <= sizeof c->header);
    memcpy(c->header, b.header_bytes, b.header_len);
    c->header_len = b.header_len;
    c->h = b.header;
    free(blk);

    copy_leaf(c, 1);
    assert_int_equal(dsuit_ledger_mlog_proof(c->f.l, 1, c->h.mlog_size, c->path,
                                             sizeof c->path, &c->path_len),
                     DSUIT_OK);
    assert_int_equal(c->path_len, 64); /* leaf 1 of 3: two hashes */

    for (int i = 0; i < LFX_N_VAL; i++)
        c->pub[i] = dsuit_ledger_genesis(c->f.l)->validators[i].key;
    c->trust.chain = c->f.chain;
    c->trust.validators = c->pub;
    c->trust.n_validators = LFX_N_VAL;
    c->trust.quorum = dsuit_ledger_genesis(c->f.l)->policy.quorum;
    assert_int_equal(c->trust.quorum, 3);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx_t *c = *state;
    char cmd[600];
    dsuit_ledger_close(c->f.l);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->f.dir);
    assert_int_equal(system(cmd), 0);
    free(c);
    return 0;
}

/* What a proof is built from; tests change one part at a time. */
typedef struct {
    const uint8_t *header;
    size_t header_len;
    uint64_t cert_height;
    uint8_t cert_hash[32];
    uint64_t voters[LFX_N_VAL];
    size_t n_voters;
    const uint8_t *leaf;
    size_t leaf_len;
    uint64_t index, size;
    const uint8_t *path;
    size_t path_len;
} parts_t;

static parts_t genuine(const ctx_t *c)
{
    parts_t p = {c->header, c->header_len, c->h.height, {0}, {0, 1, 2},
                 3,         c->leaf,       c->leaf_len, 1,   c->h.mlog_size,
                 c->path,   c->path_len};
    assert_int_equal(dsuit_sha256(c->header, c->header_len, p.cert_hash),
                     DSUIT_OK);
    return p;
}

static size_t build(const ctx_t *c, const parts_t *p, uint8_t *out)
{
    uint8_t sigs[LFX_N_VAL][DSUIT_SIG_LEN], cert[1024];
    size_t cl, len;
    dsuit_cbor_enc_t e;
    for (size_t i = 0; i < p->n_voters; i++)
        assert_int_equal(dsuit_cert_vote(&c->f.val[p->voters[i]], c->f.chain,
                                         p->cert_hash, sigs[i]),
                         DSUIT_OK);
    assert_int_equal(dsuit_cert_encode(p->cert_height, p->cert_hash, p->voters,
                                       (const uint8_t(*)[DSUIT_SIG_LEN])sigs,
                                       p->n_voters, cert, sizeof cert, &cl),
                     DSUIT_OK);
    dsuit_cbor_enc_init(&e, out, PROOF_CAP);
    dsuit_cbor_put_array(&e, 4);
    dsuit_cbor_put_bstr(&e, p->header, p->header_len);
    dsuit_cbor_put_raw(&e, cert, cl);
    dsuit_cbor_put_bstr(&e, p->leaf, p->leaf_len);
    dsuit_cbor_put_array(&e, 3);
    dsuit_cbor_put_uint(&e, p->index);
    dsuit_cbor_put_uint(&e, p->size);
    dsuit_cbor_put_array(&e, p->path_len / 32);
    for (size_t i = 0; i < p->path_len / 32; i++)
        dsuit_cbor_put_bstr(&e, p->path + 32 * i, 32);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &len), DSUIT_OK);
    return len;
}

static int verify(const ctx_t *c, const uint8_t *proof, size_t len,
                  dsuit_ledger_proof_info_t *info)
{
    return dsuit_ledger_proof_verify(proof, len, &c->trust, c->digest,
                                     c->h.time_ms, 0, info);
}

/* ---- tests ---------------------------------------------------------- */

static void proof_from_the_ledger_verifies(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP];
    parts_t p = genuine(c);
    size_t len = build(c, &p, proof);
    dsuit_ledger_proof_info_t info;

    assert_int_equal(verify(c, proof, len, &info), DSUIT_OK);
    /* DSUIT_LPROOF_SEED=file: keep this proof as a fuzz seed
     * (fuzz/corpus/fuzz_ledger_proof/). */
    if (getenv("DSUIT_LPROOF_SEED") != NULL) {
        FILE *fp = fopen(getenv("DSUIT_LPROOF_SEED"), "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(proof, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
    }
    assert_int_equal(info.height, c->h.height);
    assert_int_equal(info.time_ms, c->h.time_ms);
    assert_int_equal(info.votes, 3);
    assert_int_equal(info.leaf_index, 1);
    assert_int_equal(info.seq, 2);
    assert_int_equal(info.manifest_height, 3); /* register, publish 1, 2 */
    assert_memory_equal(info.vendor, lfx_vendor, 16);
    assert_memory_equal(info.class_id, lfx_class, 16);

    /* All four validators' votes: still fine, four counted. */
    p.voters[3] = 3;
    p.n_voters = 4;
    len = build(c, &p, proof);
    assert_int_equal(verify(c, proof, len, &info), DSUIT_OK);
    assert_int_equal(info.votes, 4);
}

static void proof_without_quorum_is_refused(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP];
    parts_t p = genuine(c);
    size_t len;
    p.n_voters = 2;
    len = build(c, &p, proof);
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_E_SIGNATURE);
}

static void proof_for_another_manifest_is_refused(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP], other[32];
    parts_t p = genuine(c);
    size_t len = build(c, &p, proof);
    memcpy(other, c->digest, 32);
    other[31] ^= 1;
    assert_int_equal(dsuit_ledger_proof_verify(proof, len, &c->trust, other,
                                               c->h.time_ms, 0, NULL),
                     DSUIT_E_DIGEST);
}

static void header_not_matching_the_certificate_is_refused(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP], hdr[512];
    dsuit_block_header_t h = c->h;
    size_t hl, len;
    parts_t p = genuine(c);

    /* A header with another log root, under the genuine certificate. */
    h.mlog_root[0] ^= 1;
    assert_int_equal(dsuit_block_header_encode(&h, hdr, sizeof hdr, &hl),
                     DSUIT_OK);
    p.header = hdr;
    p.header_len = hl;
    len = build(c, &p, proof);
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_E_DIGEST);

    /* The certificate names another height. */
    p = genuine(c);
    p.cert_height = c->h.height - 1;
    len = build(c, &p, proof);
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_E_DIGEST);
}

static void votes_on_a_forged_header_do_not_count(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP], hdr[512];
    dsuit_block_header_t h = c->h;
    size_t hl, len;
    parts_t p = genuine(c);

    /* A header whose log root is the leaf itself (a one-leaf log), with a
     * certificate whose hash matches it but whose votes are on the genuine
     * block: the votes do not verify. */
    assert_int_equal(dsuit_merkle_leaf_hash(c->leaf, c->leaf_len, h.mlog_root),
                     DSUIT_OK);
    h.mlog_size = 1;
    assert_int_equal(dsuit_block_header_encode(&h, hdr, sizeof hdr, &hl),
                     DSUIT_OK);
    {
        uint8_t sigs[3][DSUIT_SIG_LEN], cert[1024], forged[32];
        uint64_t idx[3] = {0, 1, 2};
        size_t cl;
        dsuit_cbor_enc_t e;
        assert_int_equal(dsuit_sha256(hdr, hl, forged), DSUIT_OK);
        for (int i = 0; i < 3; i++)
            assert_int_equal(
                dsuit_cert_vote(&c->f.val[i], c->f.chain, p.cert_hash, sigs[i]),
                DSUIT_OK);
        assert_int_equal(
            dsuit_cert_encode(h.height, forged, idx,
                              (const uint8_t(*)[DSUIT_SIG_LEN])sigs, 3, cert,
                              sizeof cert, &cl),
            DSUIT_OK);
        dsuit_cbor_enc_init(&e, proof, sizeof proof);
        dsuit_cbor_put_array(&e, 4);
        dsuit_cbor_put_bstr(&e, hdr, hl);
        dsuit_cbor_put_raw(&e, cert, cl);
        dsuit_cbor_put_bstr(&e, c->leaf, c->leaf_len);
        dsuit_cbor_put_array(&e, 3);
        dsuit_cbor_put_uint(&e, 0);
        dsuit_cbor_put_uint(&e, 1);
        dsuit_cbor_put_array(&e, 0);
        assert_int_equal(dsuit_cbor_enc_finish(&e, &len), DSUIT_OK);
    }
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_E_SIGNATURE);
}

static void inclusion_proof_must_match_the_certified_log(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP], path[sizeof c->path];
    parts_t p = genuine(c);
    size_t len;

    /* One hash of the path changed. */
    memcpy(path, c->path, c->path_len);
    path[40] ^= 0x80;
    p.path = path;
    len = build(c, &p, proof);
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_E_DIGEST);

    /* Another index with the same path. */
    p = genuine(c);
    p.index = 0;
    len = build(c, &p, proof);
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_E_DIGEST);

    /* A size other than the certified header's (and a path it needs). */
    p = genuine(c);
    p.size = 2;
    p.path_len = 32;
    len = build(c, &p, proof);
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_E_DIGEST);
}

static void leaf_of_another_manifest_is_refused(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP], want[32];
    parts_t p;
    size_t len;

    memcpy(want, c->digest, 32);
    copy_leaf(c, 2); /* leaf 2 with leaf 1's path: the log does not agree */
    p = genuine(c);
    len = build(c, &p, proof);
    memcpy(c->digest, want, 32);
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_E_DIGEST);
    copy_leaf(c, 1);
}

static void proof_from_another_chain_is_refused(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP], chain[32];
    parts_t p = genuine(c);
    size_t len = build(c, &p, proof);
    dsuit_trust_t t = c->trust;
    memcpy(chain, c->f.chain, 32);
    chain[0] ^= 1;
    t.chain = chain;
    assert_int_equal(dsuit_ledger_proof_verify(proof, len, &t, c->digest,
                                               c->h.time_ms, 0, NULL),
                     DSUIT_E_SIGNATURE);
}

static void stale_proof_is_refused(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP];
    parts_t p = genuine(c);
    size_t len = build(c, &p, proof);
    const uint64_t t = c->h.time_ms, age = 60000;

    assert_int_equal(dsuit_ledger_proof_verify(proof, len, &c->trust, c->digest,
                                               t + age, age, NULL),
                     DSUIT_OK);
    assert_int_equal(dsuit_ledger_proof_verify(proof, len, &c->trust, c->digest,
                                               t + age + 1, age, NULL),
                     DSUIT_E_STALE);
    /* A device clock behind the chain's is not "stale". */
    assert_int_equal(dsuit_ledger_proof_verify(proof, len, &c->trust, c->digest,
                                               t - 5000, age, NULL),
                     DSUIT_OK);
    /* max_age 0: no freshness check. */
    assert_int_equal(dsuit_ledger_proof_verify(proof, len, &c->trust, c->digest,
                                               t + 10 * age, 0, NULL),
                     DSUIT_OK);
}

static void every_truncation_and_trailing_byte_is_refused(void **state)
{
    ctx_t *c = *state;
    uint8_t proof[PROOF_CAP];
    parts_t p = genuine(c);
    size_t len = build(c, &p, proof);

    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(verify(c, proof, n, NULL), DSUIT_OK);
    proof[len] = 0x00;
    assert_int_not_equal(verify(c, proof, len + 1, NULL), DSUIT_OK);
    /* Every single-byte flip: never accepted. */
    for (size_t i = 0; i < len; i++) {
        proof[i] ^= 0x01;
        assert_int_not_equal(verify(c, proof, len, NULL), DSUIT_OK);
        proof[i] ^= 0x01;
    }
    assert_int_equal(verify(c, proof, len, NULL), DSUIT_OK);
    assert_int_equal(
        dsuit_ledger_proof_verify(NULL, len, &c->trust, c->digest, 0, 0, NULL),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_ledger_proof_verify(proof, len, NULL, c->digest, 0, 0, NULL),
        DSUIT_E_INVAL);
}

static void header_codec_round_trips_and_is_strict(void **state)
{
    ctx_t *c = *state;
    dsuit_block_header_t h;
    uint8_t buf[512];
    size_t n;

    assert_int_equal(dsuit_block_header_decode(c->header, c->header_len, &h),
                     DSUIT_OK);
    assert_int_equal(dsuit_block_header_encode(&h, buf, sizeof buf, &n),
                     DSUIT_OK);
    assert_int_equal(n, c->header_len);
    assert_memory_equal(buf, c->header, n);
    assert_int_equal(dsuit_block_header_encode(&h, buf, 10, &n), DSUIT_E_LIMIT);
    /* Trailing bytes and a non-minimal height are refused. */
    memcpy(buf, c->header, c->header_len);
    buf[c->header_len] = 0;
    assert_int_not_equal(dsuit_block_header_decode(buf, c->header_len + 1, &h),
                         DSUIT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proof_from_the_ledger_verifies),
        cmocka_unit_test(proof_without_quorum_is_refused),
        cmocka_unit_test(proof_for_another_manifest_is_refused),
        cmocka_unit_test(header_not_matching_the_certificate_is_refused),
        cmocka_unit_test(votes_on_a_forged_header_do_not_count),
        cmocka_unit_test(inclusion_proof_must_match_the_certified_log),
        cmocka_unit_test(leaf_of_another_manifest_is_refused),
        cmocka_unit_test(proof_from_another_chain_is_refused),
        cmocka_unit_test(stale_proof_is_refused),
        cmocka_unit_test(every_truncation_and_trailing_byte_is_refused),
        cmocka_unit_test(header_codec_round_trips_and_is_strict),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
