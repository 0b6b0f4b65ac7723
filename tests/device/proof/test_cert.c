/*
 * Tests of commit certificates: quorum counting over distinct validators,
 * votes that do not count (another block, another chain, a flipped bit,
 * another key), malformed certificates, bad trust settings, and every
 * truncation and bit flip of an encoded certificate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/cbor.h"
#include "dsuit/cert.h"

#define N 4

static dsuit_key_t keys[N];
static uint8_t chain[32], hash[32];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) {
        if (dsuit_key_generate(i % 2 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                               &keys[i]) != DSUIT_OK)
            return -1;
    }
    memset(chain, 0xc4, 32);
    memset(hash, 0xb1, 32);
    return 0;
}

static dsuit_trust_t trust(uint64_t quorum)
{
    dsuit_trust_t t = {chain, keys, N, quorum};
    return t;
}

/* A certificate with votes from the listed validators on `on`. */
static size_t make_cert(const uint64_t *idx, size_t n, const uint8_t on[32],
                        uint8_t *out, size_t cap)
{
    uint8_t sigs[N][DSUIT_SIG_LEN];
    size_t len;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(dsuit_cert_vote(&keys[idx[i]], chain, on, sigs[i]),
                         DSUIT_OK);
    assert_int_equal(dsuit_cert_encode(7, hash, idx,
                                       (const uint8_t(*)[DSUIT_SIG_LEN])sigs,
                                       n, out, cap, &len),
                     DSUIT_OK);
    return len;
}

static int verify_bytes(const uint8_t *buf, size_t len, uint64_t quorum,
                        size_t *valid)
{
    dsuit_cert_t c;
    dsuit_trust_t t = trust(quorum);
    int rc = dsuit_cert_decode(buf, len, &c);
    if (rc != DSUIT_OK)
        return rc;
    return dsuit_cert_verify(&c, &t, valid);
}

static void cert_with_a_quorum_of_votes_verifies(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t len, valid = 0;
    const uint64_t three[] = {0, 1, 3}, four[] = {0, 1, 2, 3};
    dsuit_cert_t c;

    len = make_cert(three, 3, hash, buf, sizeof buf);
    assert_int_equal(verify_bytes(buf, len, 3, &valid), DSUIT_OK);
    assert_int_equal(valid, 3);
    assert_int_equal(dsuit_cert_decode(buf, len, &c), DSUIT_OK);
    assert_int_equal(c.height, 7);
    assert_int_equal(c.n_sigs, 3);
    assert_memory_equal(c.block_hash, hash, 32);

    len = make_cert(four, 4, hash, buf, sizeof buf);
    assert_int_equal(verify_bytes(buf, len, 3, &valid), DSUIT_OK);
    assert_int_equal(valid, 4);
    /* The strictest quorum, all four. */
    assert_int_equal(verify_bytes(buf, len, 4, &valid), DSUIT_OK);
}

static void cert_below_quorum_is_refused(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t len, valid = 99;
    const uint64_t two[] = {1, 2};
    len = make_cert(two, 2, hash, buf, sizeof buf);
    assert_int_equal(verify_bytes(buf, len, 3, &valid), DSUIT_E_SIGNATURE);
    assert_int_equal(valid, 2);
}

static void votes_for_another_block_or_chain_do_not_count(void **state)
{
    (void)state;
    uint8_t buf[512], sigs[3][DSUIT_SIG_LEN], other[32], other_chain[32];
    const uint64_t idx[] = {0, 1, 2};
    size_t len, valid;
    memset(other, 0x22, 32);
    memset(other_chain, 0x33, 32);
    /* Two honest votes, one vote on another block. */
    assert_int_equal(dsuit_cert_vote(&keys[0], chain, hash, sigs[0]), DSUIT_OK);
    assert_int_equal(dsuit_cert_vote(&keys[1], chain, hash, sigs[1]), DSUIT_OK);
    assert_int_equal(dsuit_cert_vote(&keys[2], chain, other, sigs[2]),
                     DSUIT_OK);
    assert_int_equal(dsuit_cert_encode(7, hash, idx,
                                       (const uint8_t(*)[DSUIT_SIG_LEN])sigs,
                                       3, buf, sizeof buf, &len),
                     DSUIT_OK);
    assert_int_equal(verify_bytes(buf, len, 3, &valid), DSUIT_E_SIGNATURE);
    assert_int_equal(valid, 2);
    /* A vote made for another chain. */
    assert_int_equal(dsuit_cert_vote(&keys[2], other_chain, hash, sigs[2]),
                     DSUIT_OK);
    assert_int_equal(dsuit_cert_encode(7, hash, idx,
                                       (const uint8_t(*)[DSUIT_SIG_LEN])sigs,
                                       3, buf, sizeof buf, &len),
                     DSUIT_OK);
    assert_int_equal(verify_bytes(buf, len, 3, &valid), DSUIT_E_SIGNATURE);
    assert_int_equal(valid, 2);
    /* Validator 3's key signing under validator 2's index. */
    assert_int_equal(dsuit_cert_vote(&keys[3], chain, hash, sigs[2]), DSUIT_OK);
    assert_int_equal(dsuit_cert_encode(7, hash, idx,
                                       (const uint8_t(*)[DSUIT_SIG_LEN])sigs,
                                       3, buf, sizeof buf, &len),
                     DSUIT_OK);
    assert_int_equal(verify_bytes(buf, len, 3, &valid), DSUIT_E_SIGNATURE);
}

static void repeated_or_unknown_validators_are_refused(void **state)
{
    (void)state;
    uint8_t buf[512], sigs[3][DSUIT_SIG_LEN];
    size_t len;
    const uint64_t dup[] = {0, 0, 1}, desc[] = {2, 1, 0};
    memset(sigs, 1, sizeof sigs);
    /* The encoder refuses them... */
    assert_int_equal(dsuit_cert_encode(7, hash, dup,
                                       (const uint8_t(*)[DSUIT_SIG_LEN])sigs,
                                       3, buf, sizeof buf, &len),
                     DSUIT_E_INVAL);
    assert_int_equal(dsuit_cert_encode(7, hash, desc,
                                       (const uint8_t(*)[DSUIT_SIG_LEN])sigs,
                                       3, buf, sizeof buf, &len),
                     DSUIT_E_INVAL);
    /* ...and so does the decoder, for a certificate built by hand with one
     * validator's vote three times (which would otherwise count thrice). */
    {
        uint8_t vote[DSUIT_SIG_LEN];
        dsuit_cbor_enc_t e;
        dsuit_cert_t c;
        assert_int_equal(dsuit_cert_vote(&keys[0], chain, hash, vote),
                         DSUIT_OK);
        dsuit_cbor_enc_init(&e, buf, sizeof buf);
        dsuit_cbor_put_map(&e, 3);
        dsuit_cbor_put_uint(&e, 1);
        dsuit_cbor_put_uint(&e, 7);
        dsuit_cbor_put_uint(&e, 2);
        dsuit_cbor_put_bstr(&e, hash, 32);
        dsuit_cbor_put_uint(&e, 3);
        dsuit_cbor_put_array(&e, 3);
        for (int i = 0; i < 3; i++) {
            dsuit_cbor_put_array(&e, 2);
            dsuit_cbor_put_uint(&e, 0);
            dsuit_cbor_put_bstr(&e, vote, sizeof vote);
        }
        assert_int_equal(dsuit_cbor_enc_finish(&e, &len), DSUIT_OK);
        assert_int_equal(dsuit_cert_decode(buf, len, &c), DSUIT_E_INVAL);
    }
    /* An index past the validator list. */
    {
        const uint64_t far[] = {0, 1, 9};
        assert_int_equal(dsuit_cert_encode(7, hash, far,
                                           (const uint8_t(*)[DSUIT_SIG_LEN])
                                               sigs,
                                           3, buf, sizeof buf, &len),
                         DSUIT_OK);
        assert_int_equal(verify_bytes(buf, len, 3, NULL), DSUIT_E_INVAL);
    }
}

static void a_quorum_that_is_not_a_majority_is_refused(void **state)
{
    (void)state;
    uint8_t buf[512];
    const uint64_t all[] = {0, 1, 2, 3};
    size_t len = make_cert(all, 4, hash, buf, sizeof buf);
    /* With n = 4, quorums 0, 1, 2 would let a minority certify; 5 can
     * never be met. */
    assert_int_equal(verify_bytes(buf, len, 0, NULL), DSUIT_E_INVAL);
    assert_int_equal(verify_bytes(buf, len, 1, NULL), DSUIT_E_INVAL);
    assert_int_equal(verify_bytes(buf, len, 2, NULL), DSUIT_E_INVAL);
    assert_int_equal(verify_bytes(buf, len, 5, NULL), DSUIT_E_INVAL);
    {
        dsuit_cert_t c;
        dsuit_trust_t t = trust(3);
        assert_int_equal(dsuit_cert_decode(buf, len, &c), DSUIT_OK);
        t.chain = NULL;
        assert_int_equal(dsuit_cert_verify(&c, &t, NULL), DSUIT_E_INVAL);
    }
}

static void every_truncation_and_bit_flip_is_harmless(void **state)
{
    (void)state;
    uint8_t buf[512], mut[512];
    const uint64_t three[] = {0, 2, 3};
    size_t len = make_cert(three, 3, hash, buf, sizeof buf), valid;
    size_t accepted = 0;
    for (size_t cut = 0; cut < len; cut++)
        assert_int_not_equal(verify_bytes(buf, cut, 3, NULL), DSUIT_OK);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            dsuit_cert_t c;
            memcpy(mut, buf, len);
            mut[i] ^= (uint8_t)(1u << bit);
            if (verify_bytes(mut, len, 3, &valid) != DSUIT_OK)
                continue;
            /* Only the unsigned height may change and still verify: the
             * votes cover the block hash alone, which the device matches
             * against the header it hashes itself. */
            assert_int_equal(dsuit_cert_decode(mut, len, &c), DSUIT_OK);
            assert_memory_equal(c.block_hash, hash, 32);
            assert_int_equal(valid, 3);
            accepted++;
        }
    }
    /* The height is 7 in one byte: flipping its low bits keeps it a
     * small uint (5 flips); nothing else may pass. */
    assert_true(accepted <= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cert_with_a_quorum_of_votes_verifies),
        cmocka_unit_test(cert_below_quorum_is_refused),
        cmocka_unit_test(votes_for_another_block_or_chain_do_not_count),
        cmocka_unit_test(repeated_or_unknown_validators_are_refused),
        cmocka_unit_test(a_quorum_that_is_not_a_majority_is_refused),
        cmocka_unit_test(every_truncation_and_bit_flip_is_harmless),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
