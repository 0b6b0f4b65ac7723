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
#include "ledger_fixture.h"

/* A fresh ledger with random keys in a new folder under /tmp. */
static int setup(void **state)
{
    lfx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/dsuit-test-ledger-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    lfx_create(f, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    lfx_t *f = *state;
    char cmd[600];
    dsuit_ledger_close(f->l);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* ---- tests ---------------------------------------------------------- */

static void ledger_starts_at_height_zero_with_the_genesis_state(void **state)
{
    lfx_t *f = *state;
    uint8_t hash[32], root[32], zero[32] = {0};
    assert_int_equal(dsuit_ledger_height(f->l), 0);
    dsuit_ledger_tip(f->l, hash, root);
    assert_memory_equal(hash, zero, 32);
    assert_memory_not_equal(root, zero, 32);
    assert_memory_equal(dsuit_ledger_genesis(f->l)->hash, f->chain, 32);
}

static void ledger_register_and_publish_then_reopen(void **state)
{
    lfx_t *f = *state;
    dsuit_key_t author;
    uint8_t tx[4096];
    size_t len;
    uint8_t hash[32], root[32], hash2[32], root2[32];

    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = lfx_tx_register_author(f, &author, f->reg, 2, NULL, 0, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);

    len = lfx_tx_publish(f, &author, 1, 300000, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(dsuit_ledger_height(f->l), 2);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 1);

    /* The same publish again: a duplicate (and its tx id a replay). */
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_DUPLICATE);
    /* Sequence 1 again in a new transaction: rollback. */
    len = lfx_tx_publish(f, &author, 1, 300000, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_ROLLBACK);
    /* Sequence 2: accepted. */
    len = lfx_tx_publish(f, &author, 2, 300000, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 2);

    dsuit_ledger_tip(f->l, hash, root);
    dsuit_ledger_close(f->l);
    f->l = NULL;
    lfx_open(f);
    dsuit_ledger_tip(f->l, hash2, root2);
    assert_int_equal(dsuit_ledger_height(f->l), 5);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 2);
    assert_memory_equal(hash, hash2, 32);
    assert_memory_equal(root, root2, 32);
}

static void ledger_refuses_author_registration_below_threshold(void **state)
{
    lfx_t *f = *state;
    dsuit_key_t author, stranger;
    uint8_t tx[4096];
    size_t len;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &author), DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &stranger), DSUIT_OK);
    len = lfx_tx_register_author(f, &author, f->reg, 1, NULL, 0, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_BELOW_THRESHOLD);
    len = lfx_tx_register_author(f, &author, &stranger, 1, NULL, 0, tx,
                                 sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_BAD_SIGNATURE);
    /* Publishing as an unregistered author. */
    len = lfx_tx_publish(f, &author, 1, 1000, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_UNKNOWN_AUTHOR);
}

static void ledger_revoked_author_cannot_publish(void **state)
{
    lfx_t *f = *state;
    dsuit_key_t author;
    uint8_t tx[4096], body[512], kid[32];
    size_t len, bl;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = lfx_tx_register_author(f, &author, f->reg, 3, NULL, 0, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(dsuit_cose_key_id(&author, kid), DSUIT_OK);
    assert_int_equal(dsuit_tx_body_revoke_author(f->chain, f->nonce++, kid,
                                                 "key leaked", body,
                                                 sizeof body, &bl),
                     DSUIT_OK);
    assert_int_equal(
        dsuit_tx_assemble(body, bl, &f->reg[1], 2, tx, sizeof tx, &len),
        DSUIT_OK);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    len = lfx_tx_publish(f, &author, 7, 1000, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_REVOKED_AUTHOR);
}

static void ledger_scope_and_rotation_are_enforced(void **state)
{
    lfx_t *f = *state;
    dsuit_key_t author, next;
    uint8_t tx[4096], body[512], kid[32];
    const uint8_t other_class[1][16] = {
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    size_t len, bl;
    /* An author for another class of the vendor: out of scope. */
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = lfx_tx_register_author(f, &author, f->reg, 2, other_class, 1, tx,
                                 sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    len = lfx_tx_publish(f, &author, 1, 1000, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OUT_OF_SCOPE);

    /* Rotation: the old key hands over; it can no longer publish. */
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &next), DSUIT_OK);
    assert_int_equal(dsuit_cose_key_id(&author, kid), DSUIT_OK);
    assert_int_equal(dsuit_tx_body_rotate_author_key(f->chain, f->nonce++, kid,
                                                     &next, body, sizeof body,
                                                     &bl),
                     DSUIT_OK);
    /* Signed by a registrar instead of the old key: refused. */
    assert_int_equal(
        dsuit_tx_assemble(body, bl, &f->reg[0], 1, tx, sizeof tx, &len),
        DSUIT_OK);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_BAD_SIGNATURE);
    assert_int_equal(
        dsuit_tx_assemble(body, bl, &author, 1, tx, sizeof tx, &len), DSUIT_OK);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    len = lfx_tx_publish(f, &author, 2, 1000, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_REVOKED_AUTHOR);
}

static void ledger_image_rules_are_enforced(void **state)
{
    lfx_t *f = *state;
    dsuit_key_t author;
    uint8_t tx[4096];
    size_t len;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = lfx_tx_register_author(f, &author, f->reg, 2, NULL, 0, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    /* Over the policy's 100 MiB. */
    {
        uint8_t env[2048], body[4096], digest[32], chunk[32] = {0};
        size_t n_env, bl;
        dsuit_tx_image_in_t img = {digest, 200u * 1024 * 1024, 262144,
                                   (const uint8_t(*)[32])chunk, 1};
        memset(digest, 9, 32);
        n_env =
            lfx_make_envelope(&author, 9, digest, img.size, env, sizeof env);
        assert_int_equal(dsuit_tx_body_publish(f->chain, f->nonce++, env, n_env,
                                               &img, 1, body, sizeof body, &bl),
                         DSUIT_OK);
        assert_int_equal(
            dsuit_tx_assemble(body, bl, NULL, 0, tx, sizeof tx, &len),
            DSUIT_OK);
        assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_IMAGE_TOO_LARGE);
        /* Wrong chunk count for the size. */
        img.size = 600000; /* needs 3 chunks, gets 1 */
        n_env =
            lfx_make_envelope(&author, 10, digest, img.size, env, sizeof env);
        assert_int_equal(dsuit_tx_body_publish(f->chain, f->nonce++, env, n_env,
                                               &img, 1, body, sizeof body, &bl),
                         DSUIT_OK);
        assert_int_equal(
            dsuit_tx_assemble(body, bl, NULL, 0, tx, sizeof tx, &len),
            DSUIT_OK);
        assert_int_equal(lfx_commit1(f, tx, len),
                         DSUIT_TXR_CHUNKS_INCONSISTENT);
    }
}

static void ledger_device_registration_by_author_or_registrars(void **state)
{
    lfx_t *f = *state;
    dsuit_key_t author, dev;
    uint8_t tx[4096], body[512];
    uint8_t dev_id[16] = {0xd0, 1};
    size_t len, bl;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &dev), DSUIT_OK);
    len = lfx_tx_register_author(f, &author, f->reg, 2, NULL, 0, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(dsuit_tx_body_register_device(f->chain, f->nonce++, dev_id,
                                                   lfx_vendor, lfx_class, &dev,
                                                   body, sizeof body, &bl),
                     DSUIT_OK);
    /* Unsigned: below threshold. */
    assert_int_equal(dsuit_tx_assemble(body, bl, NULL, 0, tx, sizeof tx, &len),
                     DSUIT_OK);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_BELOW_THRESHOLD);
    /* By the vendor's author: ok; again: duplicate. */
    assert_int_equal(
        dsuit_tx_assemble(body, bl, &author, 1, tx, sizeof tx, &len), DSUIT_OK);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_DUPLICATE);
}

static void ledger_rejects_blocks_that_lie(void **state)
{
    lfx_t *f = *state;
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
    lfx_t *f = *state;
    dsuit_key_t author;
    uint8_t tx[4096];
    size_t len;
    uint64_t h;
    const char *why = NULL;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    len = lfx_tx_register_author(f, &author, f->reg, 2, NULL, 0, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    for (uint64_t s = 1; s <= 5; s++) {
        len = lfx_tx_publish(f, &author, s, 1000 * s, tx, sizeof tx);
        assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
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
    lfx_open(f);
}

/* The registration node's pre-check gives the verdict the ledger will
 * give, without writing, and lists the images to upload. */
static void ledger_check_publish_agrees_with_the_ledger(void **state)
{
    lfx_t *f = *state;
    dsuit_key_t author, stranger;
    uint8_t env[2048], tx[4096], digest[32];
    size_t n, len;
    dsuit_publish_check_t pc;
    uint64_t height;

    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &author), DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &stranger), DSUIT_OK);
    memset(digest, 0x42, 32);
    /* Before registration: unknown author, as the ledger would say. */
    n = lfx_make_envelope(&author, 3, digest, 700000, env, sizeof env);
    assert_int_equal(dsuit_ledger_check_publish(f->l, env, n, &pc),
                     DSUIT_TXR_UNKNOWN_AUTHOR);
    len = lfx_tx_register_author(f, &author, f->reg, 2, NULL, 0, tx,
                                 sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    height = dsuit_ledger_height(f->l);
    assert_int_equal(dsuit_ledger_check_publish(f->l, env, n, &pc),
                     DSUIT_TXR_OK);
    assert_int_equal(pc.seq, 3);
    assert_int_equal(pc.n_images, 1);
    assert_int_equal(pc.images[0].size, 700000);
    assert_memory_equal(pc.images[0].digest, digest, 32);
    assert_memory_equal(pc.vendor, lfx_vendor, 16);
    /* Nothing was written. */
    assert_int_equal(dsuit_ledger_height(f->l), height);
    /* A stranger's signature; an image over the policy's maximum. */
    n = lfx_make_envelope(&stranger, 3, digest, 700000, env, sizeof env);
    assert_int_equal(dsuit_ledger_check_publish(f->l, env, n, &pc),
                     DSUIT_TXR_UNKNOWN_AUTHOR);
    n = lfx_make_envelope(&author, 4, digest, 200u * 1024 * 1024, env,
                          sizeof env);
    assert_int_equal(dsuit_ledger_check_publish(f->l, env, n, &pc),
                     DSUIT_TXR_IMAGE_TOO_LARGE);
    /* After a publish of sequence 3: rollback for 3 and below. */
    len = lfx_tx_publish(f, &author, 3, 600000, tx, sizeof tx);
    assert_int_equal(lfx_commit1(f, tx, len), DSUIT_TXR_OK);
    n = lfx_make_envelope(&author, 3, digest, 700000, env, sizeof env);
    assert_int_equal(dsuit_ledger_check_publish(f->l, env, n, &pc),
                     DSUIT_TXR_ROLLBACK);
    /* Malformed input. */
    assert_int_equal(dsuit_ledger_check_publish(f->l, env, 10, &pc),
                     DSUIT_TXR_SUIT_AUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            ledger_check_publish_agrees_with_the_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ledger_starts_at_height_zero_with_the_genesis_state, setup,
            teardown),
        cmocka_unit_test_setup_teardown(ledger_register_and_publish_then_reopen,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            ledger_refuses_author_registration_below_threshold, setup,
            teardown),
        cmocka_unit_test_setup_teardown(ledger_revoked_author_cannot_publish,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(ledger_scope_and_rotation_are_enforced,
                                        setup, teardown),
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
