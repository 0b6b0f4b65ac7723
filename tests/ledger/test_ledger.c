/*
 * Tests of the ledger core: genesis, blocks, transactions of every type
 * through propose and apply, roots, persistence across reopen, rejection
 * of blocks that lie, and replay verification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"
#include "vectors.h"

#define N_VAL 4
#define N_REG 3

static const uint8_t vendor[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                   0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                   0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t klass[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                  0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                  0x51, 0xf2, 0xab, 0x45};

typedef struct {
    char dir[256];
    dsuit_key_t val[N_VAL], reg[N_REG];
    uint8_t genesis[8192];
    size_t genesis_len;
    uint8_t chain[32];
    dsuit_ledger_t *l;
    uint64_t nonce;
    uint64_t now;
} fx_t;

static void fx_open(fx_t *f)
{
    dsuit_ledger_opts_t o = {0};
    const char *why = NULL;
    o.store.no_sync = 1;
    int rc = dsuit_ledger_open(f->dir, f->genesis, f->genesis_len, &o, &f->l,
                               &why);
    if (rc != DSUIT_OK)
        fail_msg("open: %s (%s)", dsuit_err_name(rc), why ? why : "");
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    dsuit_genesis_t *g;
    const char *why;
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/dsuit-test-ledger-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(dsuit_genesis_new(&g), DSUIT_OK);
    strcpy(g->chain_name, "test-chain");
    g->time = 1700000000;
    for (int i = 0; i < N_VAL; i++) {
        char name[16];
        assert_int_equal(dsuit_key_generate(i % 2 ? DSUIT_KEY_ED25519
                                                  : DSUIT_KEY_P256,
                                            &f->val[i]),
                         DSUIT_OK);
        snprintf(name, sizeof name, "node-%c", 'a' + i);
        assert_int_equal(dsuit_genesis_add_validator(g, name, &f->val[i],
                                                     "127.0.0.1", 7000 + i,
                                                     8000 + i, 5683 + i),
                         DSUIT_OK);
    }
    for (int i = 0; i < N_REG; i++) {
        assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &f->reg[i]),
                         DSUIT_OK);
        assert_int_equal(dsuit_genesis_add_registrar(g, &f->reg[i]), DSUIT_OK);
    }
    g->threshold = 2;
    assert_int_equal(dsuit_genesis_validate(g, &why), DSUIT_OK);
    assert_int_equal(g->policy.quorum, 3);
    assert_int_equal(dsuit_genesis_encode(g, f->genesis, sizeof f->genesis,
                                          &f->genesis_len),
                     DSUIT_OK);
    memcpy(f->chain, g->hash, 32);
    dsuit_genesis_free(g);
    f->now = 1700000000000ull;
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[300];
    dsuit_ledger_close(f->l);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Propose with validator 0 and apply; returns the results. */
static void commit(fx_t *f, const uint8_t *const *txs, const size_t *lens,
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

static uint64_t commit1(fx_t *f, const uint8_t *tx, size_t len)
{
    uint64_t r;
    commit(f, &tx, &len, 1, &r);
    return r;
}

static size_t tx_register_author(fx_t *f, const dsuit_key_t *author,
                                 const dsuit_key_t *signers, size_t n_signers,
                                 const uint8_t (*classes)[16],
                                 size_t n_classes, uint8_t *out, size_t cap)
{
    uint8_t body[1024];
    size_t bl, len;
    assert_int_equal(dsuit_tx_body_register_author(
                         f->chain, f->nonce++, author, "acme firmware team",
                         vendor, classes, n_classes, body, sizeof body, &bl),
                     DSUIT_OK);
    assert_int_equal(dsuit_tx_assemble(body, bl, signers, n_signers, out, cap,
                                       &len),
                     DSUIT_OK);
    return len;
}

/* A signed envelope for the example vendor and class with one image. */
static size_t make_envelope(const dsuit_key_t *author, uint64_t seq,
                            const uint8_t digest[32], uint64_t size,
                            uint8_t *out, size_t cap)
{
    uint8_t shared[256], common[320], manifest[512], dig[48], auth[256],
        cose[256], scratch[256], digwrap[64];
    size_t n_shared, n_common, n_manifest, n_dig, n_auth, n_cose, n, n_digwrap;
    dsuit_cbor_enc_t e;

    /* image-digest = << [-16, digest] >> */
    dsuit_cbor_enc_init(&e, dig, sizeof dig);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_int(&e, -16);
    dsuit_cbor_put_bstr(&e, digest, 32);
    dsuit_cbor_enc_finish(&e, &n_dig);

    dsuit_cbor_enc_init(&e, shared, sizeof shared);
    dsuit_cbor_put_array(&e, 6);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
    dsuit_cbor_put_map(&e, 4);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_VENDOR_ID);
    dsuit_cbor_put_bstr(&e, vendor, 16);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_CLASS_ID);
    dsuit_cbor_put_bstr(&e, klass, 16);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_IMAGE_DIGEST);
    dsuit_cbor_put_bstr(&e, dig, n_dig);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_IMAGE_SIZE);
    dsuit_cbor_put_uint(&e, size);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COND_VENDOR_ID);
    dsuit_cbor_put_uint(&e, 15);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COND_CLASS_ID);
    dsuit_cbor_put_uint(&e, 15);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n_shared), DSUIT_OK);

    dsuit_cbor_enc_init(&e, common, sizeof common);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COMPONENTS);
    dsuit_cbor_put_array(&e, 1);
    dsuit_cbor_put_array(&e, 1);
    dsuit_cbor_put_bstr(&e, (const uint8_t *)"\x00", 1);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_SHARED_SEQUENCE);
    dsuit_cbor_put_bstr(&e, shared, n_shared);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n_common), DSUIT_OK);

    dsuit_cbor_enc_init(&e, manifest, sizeof manifest);
    dsuit_cbor_put_map(&e, 3);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_VERSION);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_SEQ_NUMBER);
    dsuit_cbor_put_uint(&e, seq);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COMMON);
    dsuit_cbor_put_bstr(&e, common, n_common);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n_manifest), DSUIT_OK);

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
        dsuit_cbor_put_int(&e, -16);
        dsuit_cbor_put_bstr(&e, h, 32);
        dsuit_cbor_enc_finish(&e, &n_digwrap);
    }
    dsuit_cose_opts_t co = {DSUIT_COSE_SIGN1,
                            author->type == DSUIT_KEY_P256 ? -7 : -8, 1, 1,
                            NULL, 0};
    assert_int_equal(dsuit_cose_create(&co, author, digwrap, n_digwrap, NULL,
                                       0, scratch, sizeof scratch, cose,
                                       sizeof cose, &n_cose),
                     DSUIT_OK);
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
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n), DSUIT_OK);
    return n;
}

static size_t tx_publish(fx_t *f, const dsuit_key_t *author, uint64_t seq,
                         uint64_t size, uint8_t *out, size_t cap)
{
    uint8_t env[2048], body[4096], digest[32];
    uint8_t chunks[8][32];
    size_t n_env, bl, len;
    const uint64_t chunk = 262144;
    dsuit_tx_image_in_t img;
    memset(digest, (int)(seq & 0xff), 32);
    n_env = make_envelope(author, seq, digest, size, env, sizeof env);
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

/* ---- tests ---------------------------------------------------------- */

static void ledger_starts_at_height_zero_with_the_genesis_state(void **state)
{
    fx_t *f = *state;
    uint8_t hash[32], root[32], zero[32] = {0};
    assert_int_equal(dsuit_ledger_height(f->l), 0);
    dsuit_ledger_tip(f->l, hash, root);
    assert_memory_equal(hash, zero, 32);
    assert_memory_not_equal(root, zero, 32);
    assert_memory_equal(dsuit_ledger_genesis(f->l)->hash, f->chain, 32);
}

static void ledger_register_and_publish_then_reopen(void **state)
{
    fx_t *f = *state;
    dsuit_key_t author;
    uint8_t tx[4096];
    size_t len;
    uint8_t hash[32], root[32], hash2[32], root2[32];

    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = tx_register_author(f, &author, f->reg, 2, NULL, 0, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);

    len = tx_publish(f, &author, 1, 300000, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(dsuit_ledger_height(f->l), 2);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 1);

    /* The same publish again: a duplicate (and its tx id a replay). */
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_DUPLICATE);
    /* Sequence 1 again in a new transaction: rollback. */
    len = tx_publish(f, &author, 1, 300000, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_ROLLBACK);
    /* Sequence 2: accepted. */
    len = tx_publish(f, &author, 2, 300000, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 2);

    dsuit_ledger_tip(f->l, hash, root);
    dsuit_ledger_close(f->l);
    f->l = NULL;
    fx_open(f);
    dsuit_ledger_tip(f->l, hash2, root2);
    assert_int_equal(dsuit_ledger_height(f->l), 5);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 2);
    assert_memory_equal(hash, hash2, 32);
    assert_memory_equal(root, root2, 32);
}

static void ledger_refuses_author_registration_below_threshold(void **state)
{
    fx_t *f = *state;
    dsuit_key_t author, stranger;
    uint8_t tx[4096];
    size_t len;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &author), DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &stranger), DSUIT_OK);
    len = tx_register_author(f, &author, f->reg, 1, NULL, 0, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_BELOW_THRESHOLD);
    len = tx_register_author(f, &author, &stranger, 1, NULL, 0, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_BAD_SIGNATURE);
    /* Publishing as an unregistered author. */
    len = tx_publish(f, &author, 1, 1000, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_UNKNOWN_AUTHOR);
}

static void ledger_revoked_author_cannot_publish(void **state)
{
    fx_t *f = *state;
    dsuit_key_t author;
    uint8_t tx[4096], body[512], kid[32];
    size_t len, bl;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = tx_register_author(f, &author, f->reg, 3, NULL, 0, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(dsuit_cose_key_id(&author, kid), DSUIT_OK);
    assert_int_equal(dsuit_tx_body_revoke_author(f->chain, f->nonce++, kid,
                                                 "key leaked", body,
                                                 sizeof body, &bl),
                     DSUIT_OK);
    assert_int_equal(dsuit_tx_assemble(body, bl, &f->reg[1], 2, tx, sizeof tx,
                                       &len),
                     DSUIT_OK);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    len = tx_publish(f, &author, 7, 1000, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_REVOKED_AUTHOR);
}

static void ledger_scope_and_rotation_are_enforced(void **state)
{
    fx_t *f = *state;
    dsuit_key_t author, next;
    uint8_t tx[4096], body[512], kid[32];
    const uint8_t other_class[1][16] = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                         13, 14, 15, 16}};
    size_t len, bl;
    /* An author for another class of the vendor: out of scope. */
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = tx_register_author(f, &author, f->reg, 2, other_class, 1, tx,
                             sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    len = tx_publish(f, &author, 1, 1000, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OUT_OF_SCOPE);

    /* Rotation: the old key hands over; it can no longer publish. */
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &next), DSUIT_OK);
    assert_int_equal(dsuit_cose_key_id(&author, kid), DSUIT_OK);
    assert_int_equal(dsuit_tx_body_rotate_author_key(f->chain, f->nonce++, kid,
                                                     &next, body, sizeof body,
                                                     &bl),
                     DSUIT_OK);
    /* Signed by a registrar instead of the old key: refused. */
    assert_int_equal(dsuit_tx_assemble(body, bl, &f->reg[0], 1, tx, sizeof tx,
                                       &len),
                     DSUIT_OK);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_BAD_SIGNATURE);
    assert_int_equal(dsuit_tx_assemble(body, bl, &author, 1, tx, sizeof tx,
                                       &len),
                     DSUIT_OK);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    len = tx_publish(f, &author, 2, 1000, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_REVOKED_AUTHOR);
}

static void ledger_image_rules_are_enforced(void **state)
{
    fx_t *f = *state;
    dsuit_key_t author;
    uint8_t tx[4096];
    size_t len;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = tx_register_author(f, &author, f->reg, 2, NULL, 0, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    /* Over the policy's 100 MiB. */
    {
        uint8_t env[2048], body[4096], digest[32], chunk[32] = {0};
        size_t n_env, bl;
        dsuit_tx_image_in_t img = {digest, 200u * 1024 * 1024, 262144,
                                   (const uint8_t(*)[32])chunk, 1};
        memset(digest, 9, 32);
        n_env = make_envelope(&author, 9, digest, img.size, env, sizeof env);
        assert_int_equal(dsuit_tx_body_publish(f->chain, f->nonce++, env,
                                               n_env, &img, 1, body,
                                               sizeof body, &bl),
                         DSUIT_OK);
        assert_int_equal(dsuit_tx_assemble(body, bl, NULL, 0, tx, sizeof tx,
                                           &len),
                         DSUIT_OK);
        assert_int_equal(commit1(f, tx, len), DSUIT_TXR_IMAGE_TOO_LARGE);
        /* Wrong chunk count for the size. */
        img.size = 600000; /* needs 3 chunks, gets 1 */
        n_env = make_envelope(&author, 10, digest, img.size, env, sizeof env);
        assert_int_equal(dsuit_tx_body_publish(f->chain, f->nonce++, env,
                                               n_env, &img, 1, body,
                                               sizeof body, &bl),
                         DSUIT_OK);
        assert_int_equal(dsuit_tx_assemble(body, bl, NULL, 0, tx, sizeof tx,
                                           &len),
                         DSUIT_OK);
        assert_int_equal(commit1(f, tx, len), DSUIT_TXR_CHUNKS_INCONSISTENT);
    }
}

static void ledger_device_registration_by_author_or_registrars(void **state)
{
    fx_t *f = *state;
    dsuit_key_t author, dev;
    uint8_t tx[4096], body[512];
    uint8_t dev_id[16] = {0xd0, 1};
    size_t len, bl;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &dev), DSUIT_OK);
    len = tx_register_author(f, &author, f->reg, 2, NULL, 0, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(dsuit_tx_body_register_device(f->chain, f->nonce++,
                                                   dev_id, vendor, klass,
                                                   &dev, body, sizeof body,
                                                   &bl),
                     DSUIT_OK);
    /* Unsigned: below threshold. */
    assert_int_equal(dsuit_tx_assemble(body, bl, NULL, 0, tx, sizeof tx, &len),
                     DSUIT_OK);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_BELOW_THRESHOLD);
    /* By the vendor's author: ok; again: duplicate. */
    assert_int_equal(dsuit_tx_assemble(body, bl, &author, 1, tx, sizeof tx,
                                       &len),
                     DSUIT_OK);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_DUPLICATE);
}

static void ledger_rejects_blocks_that_lie(void **state)
{
    fx_t *f = *state;
    dsuit_key_t outsider;
    uint8_t *blk;
    size_t blen;
    dsuit_block_info_t info;
    uint8_t tip[32], tip2[32];

    dsuit_ledger_tip(f->l, tip, NULL);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &outsider), DSUIT_OK);
    /* A non-validator cannot even propose. */
    assert_int_equal(dsuit_ledger_propose(f->l, &outsider, f->now, NULL, NULL,
                                          0, &blk, &blen),
                     DSUIT_E_KEY);
    /* A valid empty block with one flipped byte anywhere is rejected, and
     * the ledger does not move. */
    assert_int_equal(dsuit_ledger_propose(f->l, &f->val[1], f->now + 5, NULL,
                                          NULL, 0, &blk, &blen),
                     DSUIT_OK);
    for (size_t i = 0; i < blen; i++) {
        blk[i] ^= 0x01;
        assert_int_equal(dsuit_ledger_apply(f->l, blk, blen, &info),
                         DSUIT_E_REJECTED);
        assert_non_null(info.reason);
        blk[i] ^= 0x01;
    }
    dsuit_ledger_tip(f->l, tip2, NULL);
    assert_memory_equal(tip, tip2, 32);
    assert_int_equal(dsuit_ledger_apply(f->l, blk, blen, &info), DSUIT_OK);
    /* The same block again: it no longer follows the tip. */
    assert_int_equal(dsuit_ledger_apply(f->l, blk, blen, &info),
                     DSUIT_E_REJECTED);
    free(blk);
}

static void ledger_verify_replays_and_detects_tampering(void **state)
{
    fx_t *f = *state;
    dsuit_key_t author;
    uint8_t tx[4096];
    size_t len;
    uint64_t h;
    const char *why = NULL;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = tx_register_author(f, &author, f->reg, 2, NULL, 0, tx, sizeof tx);
    assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    for (uint64_t s = 1; s <= 5; s++) {
        len = tx_publish(f, &author, s, 1000 * s, tx, sizeof tx);
        assert_int_equal(commit1(f, tx, len), DSUIT_TXR_OK);
    }
    dsuit_ledger_close(f->l);
    f->l = NULL;
    int rc = dsuit_ledger_verify(f->dir, NULL, &h, &why);
    if (rc != DSUIT_OK)
        fail_msg("verify: %s at %llu", why, (unsigned long long)h);
    assert_int_equal(h, 6);

    /* Tamper with block 4 on disk (the state it implies would differ):
     * rewrite it through the store with one transaction result changed. */
    {
        dsuit_store_t *s;
        dsuit_store_txn_t *t;
        const uint8_t *v;
        size_t n;
        uint8_t key[8], *copy;
        assert_int_equal(dsuit_store_open(f->dir, NULL, &s), DSUIT_OK);
        assert_int_equal(dsuit_store_begin(s, 1, &t), DSUIT_OK);
        dsuit_store_u64_key(4, key);
        assert_int_equal(dsuit_store_get(t, DSUIT_TBL_BLOCKS, key, 8, &v, &n),
                         DSUIT_OK);
        copy = malloc(n);
        memcpy(copy, v, n);
        /* The result list is the byte before the 64-byte signature's
         * 2-byte head: [.., [0], h'sig'] -> flip result 0 to 12. */
        assert_int_equal(copy[n - 67], 0x00);
        copy[n - 67] = 0x0c;
        assert_int_equal(dsuit_store_put(t, DSUIT_TBL_BLOCKS, key, 8, copy, n),
                         DSUIT_OK);
        free(copy);
        assert_int_equal(dsuit_store_commit(t), DSUIT_OK);
        dsuit_store_close(s);
    }
    assert_int_equal(dsuit_ledger_verify(f->dir, NULL, &h, &why),
                     DSUIT_E_REJECTED);
    assert_int_equal(h, 4);
    assert_non_null(why);
    fx_open(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            ledger_starts_at_height_zero_with_the_genesis_state, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            ledger_register_and_publish_then_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ledger_refuses_author_registration_below_threshold, setup,
            teardown),
        cmocka_unit_test_setup_teardown(ledger_revoked_author_cannot_publish,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            ledger_scope_and_rotation_are_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(ledger_image_rules_are_enforced, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            ledger_device_registration_by_author_or_registrars, setup,
            teardown),
        cmocka_unit_test_setup_teardown(ledger_rejects_blocks_that_lie, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            ledger_verify_replays_and_detects_tampering, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
