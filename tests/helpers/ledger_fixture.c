/*
 * Test helpers for the ledger (see ledger_fixture.h): a four-validator,
 * three-registrar chain and builders for register-author and publish
 * transactions, the latter with a real signed SUIT envelope so the
 * ledger's suit-auth rule runs on it. Shared by the ledger's own tests and
 * the end-to-end tests of `dsuit ledger`. lfx_build_envelope() asserts
 * nothing, so it also serves where cmocka cannot (a forked child).
 */
#include "ledger_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/genesis.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"

const uint8_t lfx_vendor[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf,
                                0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe};
const uint8_t lfx_class[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48,
                               0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45};

void lfx_key_from_seed(uint8_t seed, dsuit_key_t *out)
{
    /* PKCS#8 (RFC 8410) of an Ed25519 private key: a fixed prefix, then
     * the 32-byte seed. */
    static const uint8_t prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30,
                                       0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
                                       0x04, 0x22, 0x04, 0x20};
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t der[48];
    char pem[160];
    size_t n;

    memcpy(der, prefix, sizeof prefix);
    memset(der + sizeof prefix, seed, 32);
    n = (size_t)snprintf(pem, sizeof pem, "-----BEGIN PRIVATE KEY-----\n");
    for (size_t i = 0; i < sizeof der; i += 3) { /* 48 = 16 groups of 3 */
        uint32_t v =
            (uint32_t)der[i] << 16 | (uint32_t)der[i + 1] << 8 | der[i + 2];
        pem[n++] = b64[v >> 18 & 63];
        pem[n++] = b64[v >> 12 & 63];
        pem[n++] = b64[v >> 6 & 63];
        pem[n++] = b64[v & 63];
    }
    n += (size_t)snprintf(pem + n, sizeof pem - n,
                          "\n-----END PRIVATE KEY-----\n");
    assert_int_equal(dsuit_key_from_pem(pem, n, out), DSUIT_OK);
    assert_int_equal(out->type, DSUIT_KEY_ED25519);
}

void lfx_create(lfx_t *f, int deterministic)
{
    dsuit_genesis_t *g;
    const char *why = NULL;

    assert_int_equal(dsuit_genesis_new(&g), DSUIT_OK);
    strcpy(g->chain_name, "test-chain");
    g->time = 1700000000;
    for (int i = 0; i < LFX_N_VAL; i++) {
        char name[16];
        if (deterministic)
            lfx_key_from_seed((uint8_t)(0x10 + i), &f->val[i]);
        else
            assert_int_equal(
                dsuit_key_generate(i % 2 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                                   &f->val[i]),
                DSUIT_OK);
        snprintf(name, sizeof name, "node-%c", 'a' + i);
        assert_int_equal(dsuit_genesis_add_validator(
                             g, name, &f->val[i], "127.0.0.1",
                             (uint16_t)(7000 + i), (uint16_t)(8000 + i),
                             (uint16_t)(5683 + i)),
                         DSUIT_OK);
    }
    for (int i = 0; i < LFX_N_REG; i++) {
        if (deterministic)
            lfx_key_from_seed((uint8_t)(0x20 + i), &f->reg[i]);
        else
            assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &f->reg[i]),
                             DSUIT_OK);
        assert_int_equal(dsuit_genesis_add_registrar(g, &f->reg[i]), DSUIT_OK);
    }
    g->threshold = 2;
    if (dsuit_genesis_validate(g, &why) != DSUIT_OK)
        fail_msg("genesis: %s", why ? why : "");
    assert_int_equal(g->policy.quorum, 3);
    assert_int_equal(
        dsuit_genesis_encode(g, f->genesis, sizeof f->genesis, &f->genesis_len),
        DSUIT_OK);
    memcpy(f->chain, g->hash, 32);
    dsuit_genesis_free(g);
    f->l = NULL;
    f->nonce = 0;
    f->now = 1700000000000ull;
    lfx_open(f);
}

void lfx_open(lfx_t *f)
{
    dsuit_ledger_opts_t o = {0};
    const char *why = NULL;
    o.store.no_sync = 1;
    int rc =
        dsuit_ledger_open(f->dir, f->genesis, f->genesis_len, &o, &f->l, &why);
    if (rc != DSUIT_OK)
        fail_msg("open: %s (%s)", dsuit_err_name(rc), why ? why : "");
}

/* Propose with validator 0 and apply; returns the results. */
void lfx_commit(lfx_t *f, const uint8_t *const *txs, const size_t *lens,
                size_t n, uint64_t *results)
{
    uint8_t *blk;
    size_t blen;
    dsuit_block_info_t info;
    dsuit_block_t b;
    f->now += 1000;
    assert_int_equal(dsuit_ledger_propose(f->l, &f->val[0], f->now, txs, lens,
                                          n, &blk, &blen),
                     DSUIT_OK);
    int rc = dsuit_ledger_apply(f->l, blk, blen, &info);
    if (rc != DSUIT_OK)
        fail_msg("apply: %s: %s", dsuit_err_name(rc),
                 info.reason ? info.reason : "");
    assert_int_equal(dsuit_block_decode(blk, blen, &b), DSUIT_OK);
    dsuit_block_iter_t it;
    dsuit_block_iter_init(&it, &b);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *t;
        size_t tl;
        assert_int_equal(dsuit_block_next_tx(&it, &t, &tl, &results[i]),
                         DSUIT_OK);
    }
    free(blk);
}

uint64_t lfx_commit1(lfx_t *f, const uint8_t *tx, size_t len)
{
    uint64_t r;
    lfx_commit(f, &tx, &len, 1, &r);
    return r;
}

size_t lfx_tx_register_author(lfx_t *f, const dsuit_key_t *author,
                              const dsuit_key_t *signers, size_t n_signers,
                              const uint8_t (*classes)[16], size_t n_classes,
                              uint8_t *out, size_t cap)
{
    uint8_t body[1024];
    size_t bl, len;
    assert_int_equal(
        dsuit_tx_body_register_author(f->chain, f->nonce++, author,
                                      "acme firmware team", lfx_vendor, classes,
                                      n_classes, body, sizeof body, &bl),
        DSUIT_OK);
    assert_int_equal(
        dsuit_tx_assemble(body, bl, signers, n_signers, out, cap, &len),
        DSUIT_OK);
    return len;
}

int lfx_build_envelope(const dsuit_key_t *signer, uint64_t seq,
                       uint8_t component, const uint8_t vendor[16],
                       const uint8_t class_id[16], const uint8_t digest[32],
                       uint64_t size, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t shared[256], common[320], manifest[512], dig[48], auth[256],
        cose[256], scratch[256], digwrap[64];
    size_t n_shared, n_common, n_manifest, n_dig, n_auth, n_cose, n_digwrap;
    dsuit_cbor_enc_t e;
    int rc;

    /* image-digest = << [-16, digest] >> */
    dsuit_cbor_enc_init(&e, dig, sizeof dig);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_int(&e, DSUIT_SUIT_DIGEST_SHA256);
    dsuit_cbor_put_bstr(&e, digest, 32);
    if ((rc = dsuit_cbor_enc_finish(&e, &n_dig)) != DSUIT_OK)
        return rc;

    dsuit_cbor_enc_init(&e, shared, sizeof shared);
    dsuit_cbor_put_array(&e, 6);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
    dsuit_cbor_put_map(&e, 4);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_VENDOR_ID);
    dsuit_cbor_put_bstr(&e, vendor, 16);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_CLASS_ID);
    dsuit_cbor_put_bstr(&e, class_id, 16);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_IMAGE_DIGEST);
    dsuit_cbor_put_bstr(&e, dig, n_dig);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_IMAGE_SIZE);
    dsuit_cbor_put_uint(&e, size);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COND_VENDOR_ID);
    dsuit_cbor_put_uint(&e, 15);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COND_CLASS_ID);
    dsuit_cbor_put_uint(&e, 15);
    if ((rc = dsuit_cbor_enc_finish(&e, &n_shared)) != DSUIT_OK)
        return rc;

    dsuit_cbor_enc_init(&e, common, sizeof common);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COMPONENTS);
    dsuit_cbor_put_array(&e, 1);
    dsuit_cbor_put_array(&e, 1);
    dsuit_cbor_put_bstr(&e, &component, 1);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_SHARED_SEQUENCE);
    dsuit_cbor_put_bstr(&e, shared, n_shared);
    if ((rc = dsuit_cbor_enc_finish(&e, &n_common)) != DSUIT_OK)
        return rc;

    dsuit_cbor_enc_init(&e, manifest, sizeof manifest);
    dsuit_cbor_put_map(&e, 3);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_VERSION);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_SEQ_NUMBER);
    dsuit_cbor_put_uint(&e, seq);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COMMON);
    dsuit_cbor_put_bstr(&e, common, n_common);
    if ((rc = dsuit_cbor_enc_finish(&e, &n_manifest)) != DSUIT_OK)
        return rc;

    /* SUIT_Digest over the bstr-wrapped manifest. */
    {
        uint8_t wrapped[600], h[32];
        size_t nw;
        dsuit_cbor_enc_init(&e, wrapped, sizeof wrapped);
        dsuit_cbor_put_bstr(&e, manifest, n_manifest);
        dsuit_cbor_enc_finish(&e, &nw);
        dsuit_sha256(wrapped, nw, h);
        dsuit_cbor_enc_init(&e, digwrap, sizeof digwrap);
        dsuit_cbor_put_array(&e, 2);
        dsuit_cbor_put_int(&e, DSUIT_SUIT_DIGEST_SHA256);
        dsuit_cbor_put_bstr(&e, h, 32);
        dsuit_cbor_enc_finish(&e, &n_digwrap);
    }
    dsuit_cose_opts_t co = {DSUIT_COSE_SIGN1,
                            signer->type == DSUIT_KEY_P256 ? -7 : -8,
                            1,
                            1,
                            NULL,
                            0};
    rc = dsuit_cose_create(&co, signer, digwrap, n_digwrap, NULL, 0, scratch,
                           sizeof scratch, cose, sizeof cose, &n_cose);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_enc_init(&e, auth, sizeof auth);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_bstr(&e, digwrap, n_digwrap);
    dsuit_cbor_put_bstr(&e, cose, n_cose);
    dsuit_cbor_enc_finish(&e, &n_auth);

    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_tag(&e, DSUIT_SUIT_TAG_ENVELOPE);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_AUTH_WRAPPER);
    dsuit_cbor_put_bstr(&e, auth, n_auth);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_MANIFEST);
    dsuit_cbor_put_bstr(&e, manifest, n_manifest);
    return dsuit_cbor_enc_finish(&e, out_len);
}

/* A signed envelope for lfx_vendor and lfx_class with one image. */
size_t lfx_make_envelope(const dsuit_key_t *author, uint64_t seq,
                         const uint8_t digest[32], uint64_t size, uint8_t *out,
                         size_t cap)
{
    size_t n = 0;
    assert_int_equal(lfx_build_envelope(author, seq, 0x00, lfx_vendor,
                                        lfx_class, digest, size, out, cap, &n),
                     DSUIT_OK);
    return n;
}

size_t lfx_tx_publish(lfx_t *f, const dsuit_key_t *author, uint64_t seq,
                      uint64_t size, uint8_t *out, size_t cap)
{
    uint8_t env[2048], body[4096], digest[32];
    uint8_t chunks[8][32];
    size_t n_env, bl, len;
    const uint64_t chunk = 262144;
    dsuit_tx_image_in_t img;
    memset(digest, (int)(seq & 0xff), 32);
    n_env = lfx_make_envelope(author, seq, digest, size, env, sizeof env);
    img.digest = digest;
    img.size = size;
    img.chunk_size = chunk;
    img.n_chunks = (size_t)((size + chunk - 1) / chunk);
    assert_true(img.n_chunks <= 8);
    for (size_t i = 0; i < img.n_chunks; i++)
        memset(chunks[i], (int)i, 32);
    img.chunks = (const uint8_t(*)[32])chunks;
    assert_int_equal(dsuit_tx_body_publish(f->chain, f->nonce++, env, n_env,
                                           &img, 1, body, sizeof body, &bl),
                     DSUIT_OK);
    assert_int_equal(dsuit_tx_assemble(body, bl, NULL, 0, out, cap, &len),
                     DSUIT_OK);
    return len;
}
