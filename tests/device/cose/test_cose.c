/*
 * Tests of COSE_Sign1 / COSE_Mac0 (include/dsuit/cose.h, RFC 9052 §4.2,
 * §4.4, §6.2, §6.3), written against the header contract as an independent
 * check of src/device/cose/.
 *
 * - Every signed official vector (manifest-37, trust-domains,
 *   firmware-encryption) verifies: the first authentication block of the
 *   envelope's auth wrapper (key 2) is parsed and verified with the detached
 *   payload = content of the bstr-wrapped SUIT_Digest (auth[0]), as in the
 *   vectors' README "Verification procedure".
 * - Single-bit flips of signature, protected header, payload and the whole
 *   message never verify; every truncation fails to parse.
 * - A table of messages built here with the CBOR encoder (and signed here
 *   with the crypto primitives, so a rejection is due to the one defect of
 *   the row) gives the exact error of the contract at parse or verify time.
 * - dsuit_cose_create() round-trips for every algorithm, tagged/untagged,
 *   attached/detached, is deterministic, and matches the independent
 *   encoding byte for byte.
 */
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
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "vectors.h"

#define ENV_MAX     4096
#define MSG_MAX     1024
#define SCRATCH_MAX 2048

#define SPEC_PUB  "suit/keys/spec-es256-p256-public.pem"
#define SPEC_PRIV "suit/keys/spec-es256-p256-private.TEST-ONLY.pem"
#define DEP_PUB   "suit/keys/encryption-dependent-signer-p256-public.pem"
#define HMAC_KEY  "suit/keys/encryption-hmac256-secret.bin"

/* Sentinel for "any error code will do" (never a real dsuit code). */
#define ANY_ERR 1

/* ------------------------------------------------------------------ */
/* Assertion helpers                                                  */
/* ------------------------------------------------------------------ */

/* Fail unless got is want (or alt, when alt is nonzero). */
static void expect_rc(const char *what, int got, int want, int alt)
{
    if (want == ANY_ERR) {
        if (got == DSUIT_OK)
            fail_msg("%s: got DSUIT_OK, want an error", what);
        return;
    }
    if (got == want || (alt != 0 && got == alt))
        return;
    if (alt != 0)
        fail_msg("%s: got %s (%d), want %s or %s", what, dsuit_err_name(got),
                 got, dsuit_err_name(want), dsuit_err_name(alt));
    fail_msg("%s: got %s (%d), want %s (%d)", what, dsuit_err_name(got), got,
             dsuit_err_name(want), want);
}

#define EXPECT(call, want) expect_rc(#call, (call), (want), 0)
#define EXPECT_OK(call)    expect_rc(#call, (call), DSUIT_OK, 0)

/* ------------------------------------------------------------------ */
/* Keys shared by the tests (made once in the group setup)            */
/* ------------------------------------------------------------------ */

enum {
    V_NATURAL = 0, /* the key that signed the row */
    V_NONE,        /* parse only */
    V_P256,
    V_P256B,
    V_ED,
    V_EDB,
    V_HMAC,
    V_HMACB,
    V_HMAC16,
    V_HMAC31
};

static dsuit_key_t k_p256, k_p256b, k_ed, k_edb, k_hmac, k_hmacb, k_hmac16,
    k_hmac31;

static int group_setup(void **state)
{
    (void)state;
    uint8_t s[64];
    if (dsuit_key_generate(DSUIT_KEY_P256, &k_p256) != DSUIT_OK ||
        dsuit_key_generate(DSUIT_KEY_P256, &k_p256b) != DSUIT_OK ||
        dsuit_key_generate(DSUIT_KEY_ED25519, &k_ed) != DSUIT_OK ||
        dsuit_key_generate(DSUIT_KEY_ED25519, &k_edb) != DSUIT_OK)
        return -1;
    for (size_t i = 0; i < sizeof s; i++)
        s[i] = (uint8_t)(0x30 + i);
    if (dsuit_key_set_symmetric(&k_hmac, s, 32) != DSUIT_OK)
        return -1;
    s[0] ^= 1;
    if (dsuit_key_set_symmetric(&k_hmacb, s, 32) != DSUIT_OK)
        return -1;
    s[0] ^= 1;
    /* Short keys: a prefix of the right key, so only the length differs. */
    if (dsuit_key_set_symmetric(&k_hmac16, s, 16) != DSUIT_OK ||
        dsuit_key_set_symmetric(&k_hmac31, s, 31) != DSUIT_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    dsuit_key_wipe(&k_p256);
    dsuit_key_wipe(&k_p256b);
    dsuit_key_wipe(&k_ed);
    dsuit_key_wipe(&k_edb);
    dsuit_key_wipe(&k_hmac);
    dsuit_key_wipe(&k_hmacb);
    dsuit_key_wipe(&k_hmac16);
    dsuit_key_wipe(&k_hmac31);
    return 0;
}

static const dsuit_key_t *key_by_id(int id)
{
    switch (id) {
    case V_P256:
        return &k_p256;
    case V_P256B:
        return &k_p256b;
    case V_ED:
        return &k_ed;
    case V_EDB:
        return &k_edb;
    case V_HMAC:
        return &k_hmac;
    case V_HMACB:
        return &k_hmacb;
    case V_HMAC16:
        return &k_hmac16;
    case V_HMAC31:
        return &k_hmac31;
    default:
        fail_msg("key_by_id: bad id %d", id);
        return NULL;
    }
}

static void load_pem_key(const char *relpath, dsuit_key_t *key)
{
    char pem[4096];
    size_t len = 0;
    tv_read_text(relpath, pem, sizeof pem, &len);
    int rc = dsuit_key_from_pem(pem, len, key);
    if (rc != DSUIT_OK)
        fail_msg("dsuit_key_from_pem('%s'): %s", relpath, dsuit_err_name(rc));
}

static void load_secret_key(const char *relpath, dsuit_key_t *key)
{
    uint8_t k[DSUIT_KEY_SECRET_MAX];
    size_t len = 0;
    tv_read(relpath, k, sizeof k, &len);
    int rc = dsuit_key_set_symmetric(key, k, len);
    if (rc != DSUIT_OK)
        fail_msg("dsuit_key_set_symmetric('%s'): %s", relpath,
                 dsuit_err_name(rc));
}

/* ------------------------------------------------------------------ */
/* Auth block extraction from a SUIT envelope (decoder API only)      */
/* ------------------------------------------------------------------ */

typedef struct {
    uint8_t env[ENV_MAX];
    size_t env_len;
    const uint8_t *digest; /* content of auth[0]: the encoded SUIT_Digest */
    size_t digest_len;
    const uint8_t *cose; /* content of auth[1]: COSE_Sign1 / COSE_Mac0 */
    size_t cose_len;
} auth_t;

/* Read an envelope and find its first authentication block: envelope key 2
 * is bstr .cbor [ bstr .cbor SUIT_Digest, bstr .cbor COSE_x, ... ]. */
static void load_auth(const char *relpath, auth_t *a)
{
    dsuit_cbor_dec_t d;
    int found = 0;
    size_t pairs = 0;

    tv_read(relpath, a->env, sizeof a->env, &a->env_len);
    dsuit_cbor_dec_init(&d, a->env, a->env_len, 0);
    EXPECT_OK(dsuit_cbor_accept_tag(&d, 107, &found));
    if (!found)
        fail_msg("%s: not a SUIT_Envelope_Tagged (tag 107)", relpath);
    EXPECT_OK(dsuit_cbor_get_map(&d, &pairs));
    for (size_t i = 0; i < pairs; i++) {
        int64_t label = 0;
        int rc = dsuit_cbor_get_int(&d, &label);
        if (rc == DSUIT_E_CBOR_TYPE) {
            /* Integrated payloads are keyed by text ("#name"). */
            EXPECT_OK(dsuit_cbor_skip(&d, NULL, NULL));
            EXPECT_OK(dsuit_cbor_skip(&d, NULL, NULL));
            continue;
        }
        EXPECT_OK(rc);
        if (label != 2) {
            EXPECT_OK(dsuit_cbor_skip(&d, NULL, NULL));
            continue;
        }
        const uint8_t *wrap = NULL;
        size_t wrap_len = 0, n = 0;
        dsuit_cbor_dec_t w;
        EXPECT_OK(dsuit_cbor_get_bstr(&d, &wrap, &wrap_len));
        dsuit_cbor_dec_init(&w, wrap, wrap_len, 0);
        EXPECT_OK(dsuit_cbor_get_array(&w, &n));
        if (n < 2)
            fail_msg("%s: auth wrapper has %zu elements, want >= 2", relpath,
                     n);
        EXPECT_OK(dsuit_cbor_get_bstr(&w, &a->digest, &a->digest_len));
        EXPECT_OK(dsuit_cbor_get_bstr(&w, &a->cose, &a->cose_len));
        /* The SUIT_Digest is [alg, bstr]: an array of 2. */
        assert_true(a->digest_len > 0);
        assert_int_equal(a->digest[0], 0x82);
        return;
    }
    fail_msg("%s: no authentication wrapper (key 2) in the envelope", relpath);
}

/* ------------------------------------------------------------------ */
/* Official vectors                                                   */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *file;
    int64_t alg;
    dsuit_cose_kind_t kind;
    const char *key;
    int key_is_secret;
    int expect;
} vec_case_t;

static const vec_case_t vec_cases[] = {
    {"suit/manifest-37/example0.cbor", -7, DSUIT_COSE_SIGN1, SPEC_PUB, 0, 0},
    {"suit/manifest-37/example1.cbor", -7, DSUIT_COSE_SIGN1, SPEC_PUB, 0, 0},
    {"suit/manifest-37/example2.cbor", -7, DSUIT_COSE_SIGN1, SPEC_PUB, 0, 0},
    {"suit/manifest-37/example2-severed.cbor", -7, DSUIT_COSE_SIGN1, SPEC_PUB,
     0, 0},
    {"suit/manifest-37/example3.cbor", -7, DSUIT_COSE_SIGN1, SPEC_PUB, 0, 0},
    {"suit/manifest-37/example4.cbor", -7, DSUIT_COSE_SIGN1, SPEC_PUB, 0, 0},
    {"suit/manifest-37/example5.cbor", -7, DSUIT_COSE_SIGN1, SPEC_PUB, 0, 0},
    {"suit/trust-domains/example0_dependent.cbor", -9, DSUIT_COSE_SIGN1,
     SPEC_PUB, 0, 0},
    {"suit/trust-domains/example1_process.cbor", -9, DSUIT_COSE_SIGN1, SPEC_PUB,
     0, 0},
    {"suit/trust-domains/example2_integrated.cbor", -9, DSUIT_COSE_SIGN1,
     SPEC_PUB, 0, 0},
    {"suit/firmware-encryption/suit-manifest-es-ecdh-content.cbor", -9,
     DSUIT_COSE_SIGN1, SPEC_PUB, 0, 0},
    {"suit/firmware-encryption/suit-manifest-es-ecdh-dependency.cbor", -9,
     DSUIT_COSE_SIGN1, DEP_PUB, 0, 0},
    /* Signed by the dependent signer on purpose: the spec key must fail. */
    {"suit/firmware-encryption/suit-manifest-es-ecdh-dependency.cbor", -9,
     DSUIT_COSE_SIGN1, SPEC_PUB, 0, DSUIT_E_SIGNATURE},
    {"suit/manifest-37/example0.cbor", -7, DSUIT_COSE_SIGN1, DEP_PUB, 0,
     DSUIT_E_SIGNATURE},
    {"suit/firmware-encryption/suit-manifest-aes-kw-content.cbor", 5,
     DSUIT_COSE_MAC0, HMAC_KEY, 1, 0},
    {"suit/firmware-encryption/suit-manifest-aes-kw.cbor", 5, DSUIT_COSE_MAC0,
     HMAC_KEY, 1, 0},
    {"suit/firmware-encryption/suit-manifest-aes-kw-slot.cbor", 5,
     DSUIT_COSE_MAC0, HMAC_KEY, 1, 0},
};

static void load_vec_key(const vec_case_t *c, dsuit_key_t *key)
{
    if (c->key_is_secret)
        load_secret_key(c->key, key);
    else
        load_pem_key(c->key, key);
}

static void cose_verify_accepts_every_signed_official_vector(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vec_cases / sizeof vec_cases[0]; i++) {
        const vec_case_t *c = &vec_cases[i];
        static auth_t a;
        dsuit_cose_msg_t m;
        dsuit_key_t key;
        uint8_t scratch[SCRATCH_MAX];
        char what[256];

        load_auth(c->file, &a);
        load_vec_key(c, &key);
        snprintf(what, sizeof what, "%s: parse", c->file);
        expect_rc(what, dsuit_cose_parse(a.cose, a.cose_len, c->kind, &m), 0,
                  0);
        assert_int_equal(m.kind, c->kind);
        assert_int_equal(m.tagged, 1);
        assert_int_equal(m.alg, c->alg);
        assert_null(m.payload);
        assert_int_equal(m.payload_len, 0);
        assert_null(m.kid);
        assert_int_equal(m.sig_len, c->kind == DSUIT_COSE_MAC0 ? 32 : 64);
        /* Pointers lie inside the parsed buffer. */
        assert_true(m.sig >= a.cose &&
                    m.sig + m.sig_len <= a.cose + a.cose_len);
        assert_int_equal(m.protected_len, 3);
        assert_int_equal(m.protected_hdr[0], 0xa1);
        assert_int_equal(m.protected_hdr[1], 0x01);

        snprintf(what, sizeof what, "%s: verify with %s", c->file, c->key);
        expect_rc(what,
                  dsuit_cose_verify(&m, &key, a.digest, a.digest_len, NULL, 0,
                                    scratch, sizeof scratch),
                  c->expect, 0);
        if (c->expect == DSUIT_OK) {
            /* The same with a non-empty external AAD must not verify. */
            static const uint8_t aad[] = {0x01};
            snprintf(what, sizeof what, "%s: verify with aad", c->file);
            expect_rc(what,
                      dsuit_cose_verify(&m, &key, a.digest, a.digest_len, aad,
                                        sizeof aad, scratch, sizeof scratch),
                      c->kind == DSUIT_COSE_MAC0 ? DSUIT_E_MAC
                                                 : DSUIT_E_SIGNATURE,
                      0);
        }
        dsuit_key_wipe(&key);
    }
}

static void cose_parse_of_official_vectors_follows_the_kind_asked(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vec_cases / sizeof vec_cases[0]; i++) {
        const vec_case_t *c = &vec_cases[i];
        static auth_t a;
        dsuit_cose_msg_t m;
        char what[256];
        dsuit_cose_kind_t other =
            c->kind == DSUIT_COSE_SIGN1 ? DSUIT_COSE_MAC0 : DSUIT_COSE_SIGN1;

        load_auth(c->file, &a);
        snprintf(what, sizeof what, "%s: parse ANY", c->file);
        expect_rc(what,
                  dsuit_cose_parse(a.cose, a.cose_len, DSUIT_COSE_ANY, &m), 0,
                  0);
        assert_int_equal(m.kind, c->kind);
        snprintf(what, sizeof what, "%s: parse as the other kind", c->file);
        expect_rc(what, dsuit_cose_parse(a.cose, a.cose_len, other, &m),
                  DSUIT_E_COSE, 0);
    }
}

static void cose_verify_rejects_mac_vector_with_another_secret(void **state)
{
    (void)state;
    static auth_t a;
    dsuit_cose_msg_t m;
    uint8_t scratch[SCRATCH_MAX];
    load_auth("suit/firmware-encryption/suit-manifest-aes-kw.cbor", &a);
    EXPECT_OK(dsuit_cose_parse(a.cose, a.cose_len, DSUIT_COSE_MAC0, &m));
    EXPECT(dsuit_cose_verify(&m, &k_hmac, a.digest, a.digest_len, NULL, 0,
                             scratch, sizeof scratch),
           DSUIT_E_MAC);
}

/* ------------------------------------------------------------------ */
/* Bit flips and truncations of official messages                     */
/* ------------------------------------------------------------------ */

static void flip_suite(const char *file, const char *keyfile, int secret,
                       dsuit_cose_kind_t kind, int fail_code)
{
    static auth_t a;
    dsuit_key_t key;
    dsuit_cose_msg_t m, m2;
    uint8_t msg[MSG_MAX], tmp[MSG_MAX], pay[256];
    uint8_t scratch[SCRATCH_MAX];
    char what[256];

    load_auth(file, &a);
    if (secret)
        load_secret_key(keyfile, &key);
    else
        load_pem_key(keyfile, &key);
    assert_true(a.cose_len <= sizeof msg);
    assert_true(a.digest_len <= sizeof pay);
    memcpy(msg, a.cose, a.cose_len);
    EXPECT_OK(dsuit_cose_parse(msg, a.cose_len, kind, &m));
    EXPECT_OK(dsuit_cose_verify(&m, &key, a.digest, a.digest_len, NULL, 0,
                                scratch, sizeof scratch));
    size_t sig_off = (size_t)(m.sig - msg);
    size_t prot_off = (size_t)(m.protected_hdr - msg);

    /* Signature / tag bits: still parses, never verifies, exact code. */
    for (size_t bit = 0; bit < m.sig_len * 8; bit++) {
        memcpy(tmp, msg, a.cose_len);
        tmp[sig_off + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        snprintf(what, sizeof what, "%s: signature bit %zu", file, bit);
        expect_rc(what, dsuit_cose_parse(tmp, a.cose_len, kind, &m2), 0, 0);
        expect_rc(what,
                  dsuit_cose_verify(&m2, &key, a.digest, a.digest_len, NULL, 0,
                                    scratch, sizeof scratch),
                  fail_code, 0);
    }

    /* Protected header bits: parse or verify fails. */
    for (size_t bit = 0; bit < m.protected_len * 8; bit++) {
        memcpy(tmp, msg, a.cose_len);
        tmp[prot_off + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        snprintf(what, sizeof what, "%s: protected bit %zu", file, bit);
        int rc = dsuit_cose_parse(tmp, a.cose_len, kind, &m2);
        if (rc == DSUIT_OK)
            rc = dsuit_cose_verify(&m2, &key, a.digest, a.digest_len, NULL, 0,
                                   scratch, sizeof scratch);
        expect_rc(what, rc, ANY_ERR, 0);
    }

    /* Detached payload bits: the message is intact, the payload is not. */
    for (size_t bit = 0; bit < a.digest_len * 8; bit++) {
        memcpy(pay, a.digest, a.digest_len);
        pay[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        snprintf(what, sizeof what, "%s: payload bit %zu", file, bit);
        expect_rc(what,
                  dsuit_cose_verify(&m, &key, pay, a.digest_len, NULL, 0,
                                    scratch, sizeof scratch),
                  fail_code, 0);
    }

    /* Every bit of the whole encoding, in an exact-size heap copy so that
     * a sanitizer sees any read past the end. */
    for (size_t bit = 0; bit < a.cose_len * 8; bit++) {
        uint8_t *h = malloc(a.cose_len);
        assert_non_null(h);
        memcpy(h, msg, a.cose_len);
        h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        snprintf(what, sizeof what, "%s: message bit %zu", file, bit);
        int rc = dsuit_cose_parse(h, a.cose_len, DSUIT_COSE_ANY, &m2);
        if (rc == DSUIT_OK) {
            const uint8_t *det = m2.payload == NULL ? a.digest : NULL;
            rc = dsuit_cose_verify(&m2, &key, det, det ? a.digest_len : 0, NULL,
                                   0, scratch, sizeof scratch);
        }
        free(h);
        expect_rc(what, rc, ANY_ERR, 0);
    }
    dsuit_key_wipe(&key);
}

static void cose_sign1_fails_when_any_bit_is_flipped(void **state)
{
    (void)state;
    flip_suite("suit/manifest-37/example0.cbor", SPEC_PUB, 0, DSUIT_COSE_SIGN1,
               DSUIT_E_SIGNATURE);
    flip_suite("suit/trust-domains/example0_dependent.cbor", SPEC_PUB, 0,
               DSUIT_COSE_SIGN1, DSUIT_E_SIGNATURE);
}

static void cose_mac0_fails_when_any_bit_is_flipped(void **state)
{
    (void)state;
    flip_suite("suit/firmware-encryption/suit-manifest-aes-kw.cbor", HMAC_KEY,
               1, DSUIT_COSE_MAC0, DSUIT_E_MAC);
}

static void truncation_suite(const char *file, dsuit_cose_kind_t kind)
{
    static auth_t a;
    dsuit_cose_msg_t m;
    char what[256];
    load_auth(file, &a);
    EXPECT_OK(dsuit_cose_parse(a.cose, a.cose_len, kind, &m));
    for (size_t n = 0; n < a.cose_len; n++) {
        /* Exact-size heap copy (at least 1 byte so malloc returns memory). */
        uint8_t *h = malloc(n ? n : 1);
        assert_non_null(h);
        memcpy(h, a.cose, n);
        snprintf(what, sizeof what, "%s: truncated to %zu", file, n);
        expect_rc(what, dsuit_cose_parse(h, n, kind, &m), ANY_ERR, 0);
        expect_rc(what, dsuit_cose_parse(h, n, DSUIT_COSE_ANY, &m), ANY_ERR, 0);
        free(h);
    }
}

static void cose_parse_rejects_every_truncation(void **state)
{
    (void)state;
    truncation_suite("suit/manifest-37/example0.cbor", DSUIT_COSE_SIGN1);
    truncation_suite("suit/firmware-encryption/suit-manifest-aes-kw.cbor",
                     DSUIT_COSE_MAC0);
}

static void cose_parse_rejects_empty_input(void **state)
{
    (void)state;
    dsuit_cose_msg_t m;
    static const uint8_t one = 0;
    EXPECT(dsuit_cose_parse(&one, 0, DSUIT_COSE_ANY, &m), DSUIT_E_TRUNCATED);
}

/* ------------------------------------------------------------------ */
/* Sig_structure / MAC_structure                                      */
/* ------------------------------------------------------------------ */

/* Build [ctx, protected, aad, payload] independently with the encoder. */
static size_t my_tbs(const char *ctx, const uint8_t *prot, size_t prot_len,
                     const uint8_t *aad, size_t aad_len, const uint8_t *pay,
                     size_t pay_len, uint8_t *out, size_t cap)
{
    dsuit_cbor_enc_t e;
    size_t n = 0;
    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_array(&e, 4);
    dsuit_cbor_put_tstr_z(&e, ctx);
    dsuit_cbor_put_bstr(&e, prot, prot_len);
    dsuit_cbor_put_bstr(&e, aad, aad_len);
    dsuit_cbor_put_bstr(&e, pay, pay_len);
    EXPECT_OK(dsuit_cbor_enc_finish(&e, &n));
    return n;
}

static void cose_tbs_of_example0_is_the_expected_sig_structure(void **state)
{
    (void)state;
    static auth_t a;
    dsuit_cose_msg_t m;
    uint8_t tbs[256], want[256];
    size_t len = 0, wlen = 0;

    load_auth("suit/manifest-37/example0.cbor", &a);
    EXPECT_OK(dsuit_cose_parse(a.cose, a.cose_len, DSUIT_COSE_SIGN1, &m));
    EXPECT_OK(dsuit_cose_tbs(DSUIT_COSE_SIGN1, m.protected_hdr, m.protected_len,
                             NULL, 0, a.digest, a.digest_len, tbs, sizeof tbs,
                             &len));
    /* ["Signature1", h'a10126', h'', h'822f5820 6658ea56...e5af'] */
    wlen = tv_hex("846a5369676e61747572653143a1012640"
                  "5824822f58206658ea560262696dd1f13b782239a064da7c6c5cbaf52f"
                  "ded428a6fc83c7e5af",
                  want, sizeof want);
    assert_int_equal(len, wlen);
    assert_memory_equal(tbs, want, wlen);
}

static void cose_tbs_of_mac0_uses_the_mac0_context_and_aad(void **state)
{
    (void)state;
    static const uint8_t prot[] = {0xa1, 0x01, 0x05};
    static const uint8_t aad[] = {'a', 'a', 'd'};
    static const uint8_t pay[] = {'h', 'e', 'l', 'l', 'o'};
    uint8_t tbs[64], want[64];
    size_t len = 0;
    size_t wlen = tv_hex("84644d414330 43a10105 43616164 4568656c6c6f", want,
                         sizeof want);
    EXPECT_OK(dsuit_cose_tbs(DSUIT_COSE_MAC0, prot, sizeof prot, aad,
                             sizeof aad, pay, sizeof pay, tbs, sizeof tbs,
                             &len));
    assert_int_equal(len, wlen);
    assert_memory_equal(tbs, want, wlen);
}

static void
cose_tbs_matches_independent_encoding_at_head_boundaries(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 23, 24, 255, 256, 1000};
    static const uint8_t prot[] = {0xa1, 0x01, 0x26};
    static uint8_t pay[1000], tbs[1400], want[1400];
    for (size_t i = 0; i < sizeof pay; i++)
        pay[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = 0;
        size_t wlen = my_tbs("Signature1", prot, sizeof prot, pay, lens[i] / 4,
                             pay, lens[i], want, sizeof want);
        EXPECT_OK(dsuit_cose_tbs(DSUIT_COSE_SIGN1, prot, sizeof prot, pay,
                                 lens[i] / 4, pay, lens[i], tbs, sizeof tbs,
                                 &len));
        assert_int_equal(len, wlen);
        assert_memory_equal(tbs, want, wlen);
    }
}

static void cose_tbs_reports_size_needed_when_output_too_small(void **state)
{
    (void)state;
    static const uint8_t prot[] = {0xa1, 0x01, 0x26};
    static const uint8_t pay[40] = {0};
    uint8_t tbs[128];
    size_t need = 0, len = 0;
    EXPECT(dsuit_cose_tbs(DSUIT_COSE_SIGN1, prot, sizeof prot, NULL, 0, pay,
                          sizeof pay, NULL, 0, &need),
           DSUIT_E_LIMIT);
    assert_int_equal(need, 1 + 11 + 4 + 1 + 2 + 40);
    EXPECT(dsuit_cose_tbs(DSUIT_COSE_SIGN1, prot, sizeof prot, NULL, 0, pay,
                          sizeof pay, tbs, need - 1, &len),
           DSUIT_E_LIMIT);
    assert_int_equal(len, need);
    EXPECT_OK(dsuit_cose_tbs(DSUIT_COSE_SIGN1, prot, sizeof prot, NULL, 0, pay,
                             sizeof pay, tbs, need, &len));
    assert_int_equal(len, need);
}

static void cose_tbs_rejects_kind_any(void **state)
{
    (void)state;
    static const uint8_t prot[] = {0xa1, 0x01, 0x26};
    uint8_t tbs[64];
    size_t len = 0;
    EXPECT(dsuit_cose_tbs(DSUIT_COSE_ANY, prot, sizeof prot, NULL, 0, prot,
                          sizeof prot, tbs, sizeof tbs, &len),
           DSUIT_E_INVAL);
}

/* ------------------------------------------------------------------ */
/* Table of messages built with the encoder                          */
/* ------------------------------------------------------------------ */

/* Who signs a row: decides the natural alg, kind, tag and key. */
enum { SG_P256 = 0, SG_ED, SG_HMAC };

/* Header contents. H_DEFAULT is {1: signer's alg} when protected, {} when
 * unprotected. */
enum {
    H_DEFAULT = 0,
    H_EMPTY,       /* {} */
    H_ALG,         /* {1: signer's alg} */
    H_ALGV,        /* {1: algv} */
    H_ALG_BIGU,    /* {1: 0x100000005}: 5 in the low 32 bits */
    H_ALG_BIGN,    /* {1: -0x100000007}: -7 in the low 32 bits */
    H_ALG_TSTR,    /* {1: "ES256"} */
    H_ALG_BSTR,    /* {1: h'26'} */
    H_ALG_CRIT,    /* {1: alg, 2: [99]} */
    H_CRIT,        /* {2: [99]} */
    H_ALG_DUP,     /* {1: alg, 1: alg} */
    H_ALG_KID,     /* {1: alg, 4: kid} (kid of kidlen bytes, default 3) */
    H_KID,         /* {4: 'kid'} */
    H_KID_DUP,     /* {4: 'kid', 4: 'kid'} */
    H_KID_INT,     /* {4: 7} */
    H_ALG_KID_INT, /* {1: alg, 4: 7} */
    H_ALG_CTYPE,   /* {1: alg, 3: 0}: content type, ignored */
    H_ALG_UNKNOWN, /* {1: alg, -70000: "x"}: unknown label, ignored */
    H_UNKNOWN,     /* {-70000: "x"} */
    H_ARRAY        /* [1, alg] */
};

enum { PF_BSTR = 0, PF_EMPTY_BSTR, PF_RAW, PF_TSTR, PF_NULL, PF_BSTR_TRAIL };
enum { UF_MAP = 0, UF_ARRAY, UF_BSTR, UF_NULL };
enum { P_NIL = 0, P_BSTR, P_TSTR, P_INT, P_UNDEF, P_FALSE };
enum { S_GOOD = 0, S_SHORT, S_LONG, S_ZERO, S_EMPTY, S_NIL, S_TSTR, S_INT };
enum { O_ARRAY = 0, O_MAP, O_BSTR };
enum { PK_NATURAL = 0, PK_ANY, PK_SIGN1, PK_MAC0 };
enum { VD_NATURAL = 0, VD_GIVE, VD_NULL };
#define TAG_NONE   (-1)
#define COUNT_ZERO (-1)
#define SC_EXACT   (-1)
#define SC_MINUS1  (-2)

typedef struct {
    const char *name;
    int signer;
    int tag, tag2; /* 0: natural tag (18 / 17); TAG_NONE: untagged */
    int outer;
    int count; /* 0: 4; COUNT_ZERO: 0 */
    int hp, pf, hu, uf;
    int64_t algv;
    size_t kidlen;
    int payload;
    int sig;
    int trailing;
    int pkind;
    int parse_expect, parse_alt;
    int anyfail; /* parse or verify must fail, code not fixed */
    int vkey;
    int vdetached;
    int vscratch;
    int verify_expect, verify_alt;
} msg_case_t;

static const uint8_t PAYLOAD[] = "dsuit independent test payload";
#define PAYLOAD_LEN (sizeof PAYLOAD - 1)

static int64_t signer_alg(int signer)
{
    return signer == SG_HMAC ? 5 : signer == SG_ED ? -8 : -7;
}

static void put_kid(dsuit_cbor_enc_t *e, size_t kidlen)
{
    static uint8_t kid[200];
    memset(kid, 'k', sizeof kid);
    if (kidlen == 0) {
        dsuit_cbor_put_bstr(e, (const uint8_t *)"kid", 3);
        return;
    }
    assert_true(kidlen <= sizeof kid);
    dsuit_cbor_put_bstr(e, kid, kidlen);
}

static void put_hdr(dsuit_cbor_enc_t *e, int h, int is_protected,
                    const msg_case_t *c)
{
    int64_t alg = signer_alg(c->signer);
    if (h == H_DEFAULT)
        h = is_protected ? H_ALG : H_EMPTY;
    switch (h) {
    case H_EMPTY:
        dsuit_cbor_put_map(e, 0);
        break;
    case H_ALG:
    case H_ALGV:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, h == H_ALGV ? c->algv : alg);
        break;
    case H_ALG_BIGU:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_uint(e, 0x100000005ull);
        break;
    case H_ALG_BIGN:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, -(int64_t)0x100000007ll);
        break;
    case H_ALG_TSTR:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_tstr_z(e, "ES256");
        break;
    case H_ALG_BSTR:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_bstr(e, (const uint8_t *)"\x26", 1);
        break;
    case H_ALG_CRIT:
        dsuit_cbor_put_map(e, 2);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, alg);
        dsuit_cbor_put_uint(e, 2);
        dsuit_cbor_put_array(e, 1);
        dsuit_cbor_put_uint(e, 99);
        break;
    case H_CRIT:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_uint(e, 2);
        dsuit_cbor_put_array(e, 1);
        dsuit_cbor_put_uint(e, 99);
        break;
    case H_ALG_DUP:
        dsuit_cbor_put_map(e, 2);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, alg);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, alg);
        break;
    case H_ALG_KID:
        dsuit_cbor_put_map(e, 2);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, alg);
        dsuit_cbor_put_uint(e, 4);
        put_kid(e, c->kidlen);
        break;
    case H_KID:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_uint(e, 4);
        put_kid(e, 0);
        break;
    case H_KID_DUP:
        dsuit_cbor_put_map(e, 2);
        dsuit_cbor_put_uint(e, 4);
        put_kid(e, 0);
        dsuit_cbor_put_uint(e, 4);
        put_kid(e, 0);
        break;
    case H_KID_INT:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_uint(e, 4);
        dsuit_cbor_put_uint(e, 7);
        break;
    case H_ALG_KID_INT:
        dsuit_cbor_put_map(e, 2);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, alg);
        dsuit_cbor_put_uint(e, 4);
        dsuit_cbor_put_uint(e, 7);
        break;
    case H_ALG_CTYPE:
        dsuit_cbor_put_map(e, 2);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, alg);
        dsuit_cbor_put_uint(e, 3);
        dsuit_cbor_put_uint(e, 0);
        break;
    case H_ALG_UNKNOWN:
        dsuit_cbor_put_map(e, 2);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, alg);
        dsuit_cbor_put_int(e, -70000);
        dsuit_cbor_put_tstr_z(e, "x");
        break;
    case H_UNKNOWN:
        dsuit_cbor_put_map(e, 1);
        dsuit_cbor_put_int(e, -70000);
        dsuit_cbor_put_tstr_z(e, "x");
        break;
    case H_ARRAY:
        dsuit_cbor_put_array(e, 2);
        dsuit_cbor_put_uint(e, 1);
        dsuit_cbor_put_int(e, alg);
        break;
    default:
        fail_msg("put_hdr: bad header kind %d", h);
    }
}

/* Sign tbs as the row's signer; returns the signature length. */
static size_t row_sign(int signer, const uint8_t *tbs, size_t len,
                       uint8_t sig[DSUIT_SIG_LEN])
{
    switch (signer) {
    case SG_P256:
        EXPECT_OK(dsuit_p256_sign(&k_p256, tbs, len, sig));
        return 64;
    case SG_ED:
        EXPECT_OK(dsuit_ed25519_sign(&k_ed, tbs, len, sig));
        return 64;
    default:
        EXPECT_OK(
            dsuit_hmac_sha256(k_hmac.secret, k_hmac.secret_len, tbs, len, sig));
        return 32;
    }
}

/* Encode the row's message into out; returns its length. */
static size_t build_msg(const msg_case_t *c, uint8_t *out, size_t cap)
{
    uint8_t prot[256], tbs[512], sig[DSUIT_SIG_LEN + 8];
    size_t prot_len = 0, tbs_len, sig_len, n = 0;
    dsuit_cbor_enc_t e;

    dsuit_cbor_enc_init(&e, prot, sizeof prot);
    put_hdr(&e, c->hp, 1, c);
    EXPECT_OK(dsuit_cbor_enc_finish(&e, &prot_len));
    if (c->pf == PF_EMPTY_BSTR)
        prot_len = 0;
    if (c->pf == PF_BSTR_TRAIL)
        prot[prot_len++] = 0x00;

    /* A signature that is right for everything but the row's defect. The
     * context follows the tag when there is one, so that a Sign1 carrying
     * an HMAC alg holds a tag a careless verifier would accept. */
    int tag = c->tag ? c->tag : (c->signer == SG_HMAC ? 17 : 18);
    const char *ctx = tag == 18              ? "Signature1"
                      : tag == 17            ? "MAC0"
                      : c->signer == SG_HMAC ? "MAC0"
                                             : "Signature1";
    tbs_len = my_tbs(ctx, prot, prot_len, NULL, 0, PAYLOAD, PAYLOAD_LEN, tbs,
                     sizeof tbs);
    sig_len = row_sign(c->signer, tbs, tbs_len, sig);
    switch (c->sig) {
    case S_SHORT:
        sig_len--;
        break;
    case S_LONG:
        sig[sig_len++] = 0;
        break;
    case S_ZERO:
        memset(sig, 0, sig_len);
        break;
    case S_EMPTY:
        sig_len = 0;
        break;
    default:
        break;
    }

    dsuit_cbor_enc_init(&e, out, cap);
    if (tag != TAG_NONE)
        dsuit_cbor_put_tag(&e, (uint64_t)tag);
    if (c->tag2)
        dsuit_cbor_put_tag(&e, (uint64_t)c->tag2);
    int count = c->count == 0 ? 4 : c->count == COUNT_ZERO ? 0 : c->count;
    if (c->outer == O_BSTR) {
        dsuit_cbor_put_bstr(&e, sig, sig_len);
        count = 0;
    } else if (c->outer == O_MAP) {
        dsuit_cbor_put_map(&e, 2);
    } else {
        dsuit_cbor_put_array(&e, (size_t)count);
    }
    for (int i = 0; i < count; i++) {
        switch (i) {
        case 0:
            if (c->pf == PF_RAW)
                put_hdr(&e, c->hp, 1, c);
            else if (c->pf == PF_TSTR)
                dsuit_cbor_put_tstr(&e, (const char *)prot, prot_len);
            else if (c->pf == PF_NULL)
                dsuit_cbor_put_null(&e);
            else
                dsuit_cbor_put_bstr(&e, prot, prot_len);
            break;
        case 1:
            if (c->uf == UF_ARRAY) {
                dsuit_cbor_put_array(&e, 0);
            } else if (c->uf == UF_NULL) {
                dsuit_cbor_put_null(&e);
            } else if (c->uf == UF_BSTR) {
                uint8_t u[64];
                size_t ul = 0;
                dsuit_cbor_enc_t ue;
                dsuit_cbor_enc_init(&ue, u, sizeof u);
                put_hdr(&ue, c->hu, 0, c);
                EXPECT_OK(dsuit_cbor_enc_finish(&ue, &ul));
                dsuit_cbor_put_bstr(&e, u, ul);
            } else {
                put_hdr(&e, c->hu, 0, c);
            }
            break;
        case 2:
            switch (c->payload) {
            case P_BSTR:
                dsuit_cbor_put_bstr(&e, PAYLOAD, PAYLOAD_LEN);
                break;
            case P_TSTR:
                dsuit_cbor_put_tstr(&e, (const char *)PAYLOAD, PAYLOAD_LEN);
                break;
            case P_INT:
                dsuit_cbor_put_uint(&e, 0);
                break;
            case P_UNDEF: /* put_simple() refuses 20-23: write 0xf7 */
                dsuit_cbor_put_raw(&e, (const uint8_t *)"\xf7", 1);
                break;
            case P_FALSE:
                dsuit_cbor_put_bool(&e, 0);
                break;
            default:
                dsuit_cbor_put_null(&e);
            }
            break;
        case 3:
            if (c->sig == S_NIL)
                dsuit_cbor_put_null(&e);
            else if (c->sig == S_TSTR)
                dsuit_cbor_put_tstr(&e, (const char *)sig, sig_len);
            else if (c->sig == S_INT)
                dsuit_cbor_put_uint(&e, 0);
            else
                dsuit_cbor_put_bstr(&e, sig, sig_len);
            break;
        default:
            dsuit_cbor_put_bstr(&e, NULL, 0);
        }
    }
    if (c->trailing)
        dsuit_cbor_put_uint(&e, 0);
    EXPECT_OK(dsuit_cbor_enc_finish(&e, &n));
    return n;
}

static const msg_case_t msg_cases[] = {
    /* Well-formed controls: these must pass, or the table proves nothing. */
    {"ES256, tagged, detached", .signer = SG_P256},
    {"ESP256 (-9)", .hp = H_ALGV, .algv = -9},
    {"EdDSA (-8)", .signer = SG_ED},
    {"Ed25519 (-19)", .signer = SG_ED, .hp = H_ALGV, .algv = -19},
    {"HMAC256 (5)", .signer = SG_HMAC},
    {"untagged Sign1 parsed as ANY", .tag = TAG_NONE, .pkind = PK_ANY},
    {"untagged Sign1 parsed as SIGN1", .tag = TAG_NONE, .pkind = PK_SIGN1},
    {"untagged Mac0 parsed as MAC0", .signer = SG_HMAC, .tag = TAG_NONE,
     .pkind = PK_MAC0},
    {"tagged Mac0 parsed as ANY", .signer = SG_HMAC, .pkind = PK_ANY},
    {"attached payload", .payload = P_BSTR},
    {"attached payload, HMAC", .signer = SG_HMAC, .payload = P_BSTR},
    {"kid in unprotected", .hu = H_KID},
    {"kid in protected", .hp = H_ALG_KID},
    {"content type is ignored", .hp = H_ALG_CTYPE},
    {"unknown label is ignored", .hp = H_ALG_UNKNOWN},
    {"unknown label in unprotected is ignored", .hu = H_UNKNOWN},
    {"protected header of exactly 128 bytes", .hp = H_ALG_KID, .kidlen = 122},

    /* The algorithm comes from the protected header only. */
    {"alg only in unprotected", .hp = H_EMPTY, .hu = H_ALG,
     .parse_expect = DSUIT_E_ALG},
    {"alg only in unprotected, protected h''", .pf = PF_EMPTY_BSTR, .hu = H_ALG,
     .parse_expect = DSUIT_E_ALG},
    {"alg in both buckets", .hu = H_ALG, .parse_expect = DSUIT_E_ALG},
    {"no alg, protected {}", .hp = H_EMPTY, .parse_expect = DSUIT_E_ALG},
    {"no alg, protected h''", .pf = PF_EMPTY_BSTR, .parse_expect = DSUIT_E_ALG},
    {"no alg, only kid", .hp = H_KID, .parse_expect = DSUIT_E_ALG},
    {"alg -35 (ES384)", .hp = H_ALGV, .algv = -35, .parse_expect = DSUIT_E_ALG},
    {"alg -257 (RS256)", .hp = H_ALGV, .algv = -257,
     .parse_expect = DSUIT_E_ALG},
    {"alg -37 (PS256)", .hp = H_ALGV, .algv = -37, .parse_expect = DSUIT_E_ALG},
    {"alg -47 (ES256K)", .hp = H_ALGV, .algv = -47,
     .parse_expect = DSUIT_E_ALG},
    {"alg 0 (reserved)", .hp = H_ALGV, .algv = 0, .parse_expect = DSUIT_E_ALG},
    {"alg 1 (A128GCM)", .hp = H_ALGV, .algv = 1, .parse_expect = DSUIT_E_ALG},
    {"alg 4 (HMAC 256/64)", .signer = SG_HMAC, .hp = H_ALGV, .algv = 4,
     .parse_expect = DSUIT_E_ALG},
    {"alg 6 (HMAC 384/384)", .signer = SG_HMAC, .hp = H_ALGV, .algv = 6,
     .parse_expect = DSUIT_E_ALG},
    {"alg 2^32+5 (5 if truncated)", .signer = SG_HMAC, .hp = H_ALG_BIGU,
     .parse_expect = DSUIT_E_ALG},
    {"alg -2^32-7 (-7 if truncated)", .hp = H_ALG_BIGN,
     .parse_expect = DSUIT_E_ALG},
    {"alg as text string", .hp = H_ALG_TSTR, .parse_expect = DSUIT_E_ALG},
    {"alg as byte string", .hp = H_ALG_BSTR, .parse_expect = DSUIT_E_ALG},
    {"crit in protected", .hp = H_ALG_CRIT, .parse_expect = DSUIT_E_ALG},
    {"crit in unprotected", .hu = H_CRIT, .parse_expect = DSUIT_E_ALG},

    /* Structure. */
    {"tag 17 when Sign1 expected", .tag = 17, .pkind = PK_SIGN1,
     .parse_expect = DSUIT_E_COSE},
    {"tag 18 when Mac0 expected", .signer = SG_HMAC, .tag = 18,
     .pkind = PK_MAC0, .parse_expect = DSUIT_E_COSE},
    {"tag 16 (COSE_Encrypt0)", .tag = 16, .pkind = PK_ANY,
     .parse_expect = DSUIT_E_COSE},
    {"tag 98 (COSE_Sign)", .tag = 98, .pkind = PK_ANY,
     .parse_expect = DSUIT_E_COSE},
    {"tag 18 twice", .tag2 = 18, .parse_expect = DSUIT_E_COSE},
    {"tag 61 (CWT) around tag 18", .tag = 61, .tag2 = 18,
     .parse_expect = DSUIT_E_COSE},
    {"array of 3", .count = 3, .parse_expect = DSUIT_E_COSE},
    {"array of 5", .count = 5, .parse_expect = DSUIT_E_COSE},
    {"array of 2", .count = 2, .parse_expect = DSUIT_E_COSE},
    {"array of 0", .count = COUNT_ZERO, .parse_expect = DSUIT_E_COSE},
    {"map instead of array", .outer = O_MAP, .parse_expect = DSUIT_E_COSE},
    {"bstr instead of array", .outer = O_BSTR, .parse_expect = DSUIT_E_COSE},
    {"protected is a bare map", .pf = PF_RAW, .parse_expect = DSUIT_E_COSE},
    {"protected is a text string", .pf = PF_TSTR, .parse_expect = DSUIT_E_COSE},
    {"protected is null", .pf = PF_NULL, .parse_expect = DSUIT_E_COSE},
    {"protected bstr holds an array", .hp = H_ARRAY,
     .parse_expect = DSUIT_E_COSE},
    {"protected bstr has a byte after the map", .pf = PF_BSTR_TRAIL,
     .parse_expect = DSUIT_E_COSE, .parse_alt = DSUIT_E_CBOR_TRAILING},
    {"unprotected is an array", .uf = UF_ARRAY, .parse_expect = DSUIT_E_COSE},
    {"unprotected is a bstr-wrapped map", .uf = UF_BSTR,
     .parse_expect = DSUIT_E_COSE},
    {"unprotected is null", .uf = UF_NULL, .parse_expect = DSUIT_E_COSE},
    {"payload is a text string", .payload = P_TSTR,
     .parse_expect = DSUIT_E_COSE},
    {"payload is an integer", .payload = P_INT, .parse_expect = DSUIT_E_COSE},
    {"payload is undefined", .payload = P_UNDEF, .parse_expect = DSUIT_E_COSE},
    {"payload is false", .payload = P_FALSE, .parse_expect = DSUIT_E_COSE},
    {"signature is nil", .sig = S_NIL, .parse_expect = DSUIT_E_COSE},
    {"signature is a text string", .sig = S_TSTR, .parse_expect = DSUIT_E_COSE},
    {"signature is an integer", .sig = S_INT, .parse_expect = DSUIT_E_COSE},
    {"alg twice in protected", .hp = H_ALG_DUP, .parse_expect = DSUIT_E_COSE,
     .parse_alt = DSUIT_E_CBOR_DUPKEY},
    {"kid twice in unprotected", .hu = H_KID_DUP, .parse_expect = DSUIT_E_COSE,
     .parse_alt = DSUIT_E_CBOR_DUPKEY},
    {"kid in both buckets", .hp = H_ALG_KID, .hu = H_KID,
     .parse_expect = DSUIT_E_COSE},
    {"kid is an integer (unprotected)", .hu = H_KID_INT,
     .parse_expect = DSUIT_E_COSE},
    {"kid is an integer (protected)", .hp = H_ALG_KID_INT,
     .parse_expect = DSUIT_E_COSE},
    {"trailing byte after the message", .trailing = 1,
     .parse_expect = DSUIT_E_CBOR_TRAILING},
    {"protected header of 129 bytes", .hp = H_ALG_KID, .kidlen = 123,
     .parse_expect = DSUIT_E_LIMIT},
    {"protected header of 136 bytes", .hp = H_ALG_KID, .kidlen = 130,
     .parse_expect = DSUIT_E_LIMIT},

    /* Kind and algorithm that do not belong together. */
    {"Sign1 (tag 18) carrying HMAC alg", .signer = SG_HMAC, .tag = 18,
     .pkind = PK_SIGN1, .anyfail = 1},
    {"Mac0 (tag 17) carrying ES256 alg", .tag = 17, .pkind = PK_MAC0,
     .anyfail = 1},
    {"untagged Mac0 read as ANY is a Sign1", .signer = SG_HMAC, .tag = TAG_NONE,
     .pkind = PK_ANY, .anyfail = 1},

    /* Verification-time failures. */
    {"ES256 signature of 63 bytes", .sig = S_SHORT,
     .verify_expect = DSUIT_E_SIGNATURE},
    {"ES256 signature of 65 bytes", .sig = S_LONG,
     .verify_expect = DSUIT_E_SIGNATURE},
    {"ES256 signature r = s = 0", .sig = S_ZERO,
     .verify_expect = DSUIT_E_SIGNATURE},
    {"ES256 signature empty", .sig = S_EMPTY,
     .verify_expect = DSUIT_E_SIGNATURE},
    {"EdDSA signature of 63 bytes", .signer = SG_ED, .sig = S_SHORT,
     .verify_expect = DSUIT_E_SIGNATURE},
    {"EdDSA signature all zero", .signer = SG_ED, .sig = S_ZERO,
     .verify_expect = DSUIT_E_SIGNATURE},
    {"HMAC tag of 31 bytes", .signer = SG_HMAC, .sig = S_SHORT,
     .verify_expect = DSUIT_E_MAC},
    {"HMAC tag of 33 bytes", .signer = SG_HMAC, .sig = S_LONG,
     .verify_expect = DSUIT_E_MAC},
    {"HMAC tag empty", .signer = SG_HMAC, .sig = S_EMPTY,
     .verify_expect = DSUIT_E_MAC},
    {"ES256 with another P-256 key", .vkey = V_P256B,
     .verify_expect = DSUIT_E_SIGNATURE},
    {"EdDSA with another Ed25519 key", .signer = SG_ED, .vkey = V_EDB,
     .verify_expect = DSUIT_E_SIGNATURE},
    {"HMAC with another secret", .signer = SG_HMAC, .vkey = V_HMACB,
     .verify_expect = DSUIT_E_MAC},
    {"ES256 message, Ed25519 key", .vkey = V_ED, .verify_expect = DSUIT_E_ALG},
    {"ES256 message, HMAC key", .vkey = V_HMAC, .verify_expect = DSUIT_E_ALG},
    {"ESP256 message, Ed25519 key", .hp = H_ALGV, .algv = -9, .vkey = V_ED,
     .verify_expect = DSUIT_E_ALG},
    {"EdDSA message, P-256 key", .signer = SG_ED, .vkey = V_P256,
     .verify_expect = DSUIT_E_ALG},
    {"Ed25519 message, HMAC key", .signer = SG_ED, .hp = H_ALGV, .algv = -19,
     .vkey = V_HMAC, .verify_expect = DSUIT_E_ALG},
    {"HMAC message, P-256 key", .signer = SG_HMAC, .vkey = V_P256,
     .verify_expect = DSUIT_E_ALG},
    {"HMAC message, Ed25519 key", .signer = SG_HMAC, .vkey = V_ED,
     .verify_expect = DSUIT_E_ALG},
    {"HMAC message, 16-byte key", .signer = SG_HMAC, .vkey = V_HMAC16,
     .verify_expect = DSUIT_E_ALG, .verify_alt = DSUIT_E_KEY},
    {"HMAC message, 31-byte key", .signer = SG_HMAC, .vkey = V_HMAC31,
     .verify_expect = DSUIT_E_ALG, .verify_alt = DSUIT_E_KEY},
    {"attached payload given again detached", .payload = P_BSTR,
     .vdetached = VD_GIVE, .verify_expect = DSUIT_E_INVAL},
    {"attached payload given again detached, HMAC", .signer = SG_HMAC,
     .payload = P_BSTR, .vdetached = VD_GIVE, .verify_expect = DSUIT_E_INVAL},
    {"detached payload not given", .vdetached = VD_NULL,
     .verify_expect = DSUIT_E_INVAL},
    {"detached payload not given, HMAC", .signer = SG_HMAC,
     .vdetached = VD_NULL, .verify_expect = DSUIT_E_INVAL},
    {"scratch of 8 bytes", .vscratch = 8, .verify_expect = DSUIT_E_LIMIT},
    {"scratch one byte short", .vscratch = SC_MINUS1,
     .verify_expect = DSUIT_E_LIMIT},
    {"scratch one byte short, HMAC", .signer = SG_HMAC, .vscratch = SC_MINUS1,
     .verify_expect = DSUIT_E_LIMIT},
    {"scratch of exactly the Sig_structure size", .vscratch = SC_EXACT},
    {"scratch of exactly the MAC_structure size", .signer = SG_HMAC,
     .vscratch = SC_EXACT},
};

static dsuit_cose_kind_t row_kind(const msg_case_t *c)
{
    switch (c->pkind) {
    case PK_ANY:
        return DSUIT_COSE_ANY;
    case PK_SIGN1:
        return DSUIT_COSE_SIGN1;
    case PK_MAC0:
        return DSUIT_COSE_MAC0;
    default:
        return c->signer == SG_HMAC ? DSUIT_COSE_MAC0 : DSUIT_COSE_SIGN1;
    }
}

static void run_msg_case(const msg_case_t *c)
{
    static uint8_t built[MSG_MAX];
    static uint8_t scratch[SCRATCH_MAX];
    char what[256];
    dsuit_cose_msg_t m;
    size_t len = build_msg(c, built, sizeof built);
    uint8_t *h = malloc(len);
    assert_non_null(h);
    memcpy(h, built, len);

    int rc = dsuit_cose_parse(h, len, row_kind(c), &m);
    snprintf(what, sizeof what, "row '%s': parse", c->name);
    if (!c->anyfail)
        expect_rc(what, rc, c->parse_expect, c->parse_alt);
    if (rc != DSUIT_OK || c->vkey == V_NONE) {
        free(h);
        return;
    }
    if (!c->anyfail) {
        /* The parsed pointers lie inside the message. */
        assert_true(m.protected_hdr >= h &&
                    m.protected_hdr + m.protected_len <= h + len);
        assert_true(m.sig >= h && m.sig + m.sig_len <= h + len);
        if (c->payload == P_BSTR) {
            assert_int_equal(m.payload_len, PAYLOAD_LEN);
            assert_memory_equal(m.payload, PAYLOAD, PAYLOAD_LEN);
        } else {
            assert_null(m.payload);
        }
    }

    const dsuit_key_t *key;
    if (c->vkey == V_NATURAL)
        key = c->signer == SG_HMAC ? &k_hmac
              : c->signer == SG_ED ? &k_ed
                                   : &k_p256;
    else
        key = key_by_id(c->vkey);
    const uint8_t *det = m.payload == NULL ? PAYLOAD : NULL;
    if (c->vdetached == VD_GIVE)
        det = PAYLOAD;
    else if (c->vdetached == VD_NULL)
        det = NULL;
    size_t cap = SCRATCH_MAX;
    if (c->vscratch > 0) {
        cap = (size_t)c->vscratch;
    } else if (c->vscratch < 0) {
        uint8_t tmp[512];
        size_t need = 0;
        EXPECT_OK(dsuit_cose_tbs(m.kind, m.protected_hdr, m.protected_len, NULL,
                                 0, PAYLOAD, PAYLOAD_LEN, tmp, sizeof tmp,
                                 &need));
        cap = c->vscratch == SC_EXACT ? need : need - 1;
    }
    rc = dsuit_cose_verify(&m, key, det, det ? PAYLOAD_LEN : 0, NULL, 0,
                           scratch, cap);
    snprintf(what, sizeof what, "row '%s': verify", c->name);
    if (c->anyfail)
        expect_rc(what, rc, ANY_ERR, 0);
    else
        expect_rc(what, rc, c->verify_expect, c->verify_alt);
    free(h);
}

static void cose_parse_and_verify_follow_the_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof msg_cases / sizeof msg_cases[0]; i++)
        run_msg_case(&msg_cases[i]);
}

/* Out-params are written only on success (STYLE.md). */
static void cose_parse_leaves_output_untouched_on_error(void **state)
{
    (void)state;
    static uint8_t built[MSG_MAX];
    for (size_t i = 0; i < sizeof msg_cases / sizeof msg_cases[0]; i++) {
        const msg_case_t *c = &msg_cases[i];
        if (c->parse_expect == DSUIT_OK)
            continue;
        dsuit_cose_msg_t m, before;
        memset(&m, 0xa5, sizeof m);
        memcpy(&before, &m, sizeof m);
        size_t len = build_msg(c, built, sizeof built);
        int rc = dsuit_cose_parse(built, len, row_kind(c), &m);
        assert_int_not_equal(rc, DSUIT_OK);
        if (memcmp(&m, &before, sizeof m) != 0)
            fail_msg("row '%s': parse failed with %s but wrote its output",
                     c->name, dsuit_err_name(rc));
    }
}

/* ------------------------------------------------------------------ */
/* dsuit_cose_create                                                  */
/* ------------------------------------------------------------------ */

typedef struct {
    int64_t alg;
    int signer;
    dsuit_cose_kind_t kind;
    uint8_t alg_byte; /* the alg's one-byte CBOR encoding */
} alg_case_t;

static const alg_case_t alg_cases[] = {
    {-7, SG_P256, DSUIT_COSE_SIGN1, 0x26},
    {-9, SG_P256, DSUIT_COSE_SIGN1, 0x28},
    {-8, SG_ED, DSUIT_COSE_SIGN1, 0x27},
    {-19, SG_ED, DSUIT_COSE_SIGN1, 0x32},
    {5, SG_HMAC, DSUIT_COSE_MAC0, 0x05},
};

static const dsuit_key_t *signer_key(int signer)
{
    return signer == SG_HMAC ? &k_hmac : signer == SG_ED ? &k_ed : &k_p256;
}

static const dsuit_key_t *other_key(int signer)
{
    return signer == SG_HMAC ? &k_hmacb : signer == SG_ED ? &k_edb : &k_p256b;
}

static void cose_create_then_verify_for_every_alg_and_form(void **state)
{
    (void)state;
    static uint8_t out[MSG_MAX], out2[MSG_MAX], scratch[SCRATCH_MAX];
    static const uint8_t aad[] = {'x', 'y'};
    char what[256];

    for (size_t i = 0; i < sizeof alg_cases / sizeof alg_cases[0]; i++) {
        const alg_case_t *ac = &alg_cases[i];
        const dsuit_key_t *key = signer_key(ac->signer);
        int fail_code =
            ac->kind == DSUIT_COSE_MAC0 ? DSUIT_E_MAC : DSUIT_E_SIGNATURE;
        for (int form = 0; form < 8; form++) {
            dsuit_cose_opts_t o = {0};
            dsuit_cose_msg_t m;
            size_t len = 0, len2 = 0;
            int with_aad = (form & 4) != 0;
            o.kind = ac->kind;
            o.alg = ac->alg;
            o.tagged = form & 1;
            o.detached = (form & 2) != 0;
            if (form & 4) {
                o.kid = (const uint8_t *)"key-1";
                o.kid_len = 5;
            }
            snprintf(what, sizeof what, "alg %lld tagged %d detached %d aad %d",
                     (long long)ac->alg, o.tagged, o.detached, with_aad);

            expect_rc(what,
                      dsuit_cose_create(&o, key, PAYLOAD, PAYLOAD_LEN,
                                        with_aad ? aad : NULL,
                                        with_aad ? sizeof aad : 0, scratch,
                                        sizeof scratch, out, sizeof out, &len),
                      0, 0);
            /* Deterministic: the same input gives the same bytes. */
            expect_rc(what,
                      dsuit_cose_create(
                          &o, key, PAYLOAD, PAYLOAD_LEN, with_aad ? aad : NULL,
                          with_aad ? sizeof aad : 0, scratch, sizeof scratch,
                          out2, sizeof out2, &len2),
                      0, 0);
            assert_int_equal(len, len2);
            assert_memory_equal(out, out2, len);

            /* Head: optional tag, array of 4, protected << {1: alg} >>. */
            size_t p = 0;
            if (o.tagged)
                assert_int_equal(out[p++],
                                 ac->kind == DSUIT_COSE_MAC0 ? 0xd1 : 0xd2);
            assert_int_equal(out[p++], 0x84);
            assert_int_equal(out[p++], 0x43);
            assert_int_equal(out[p++], 0xa1);
            assert_int_equal(out[p++], 0x01);
            assert_int_equal(out[p++], ac->alg_byte);

            expect_rc(what, dsuit_cose_parse(out, len, ac->kind, &m), 0, 0);
            assert_int_equal(m.kind, ac->kind);
            assert_int_equal(m.tagged, o.tagged);
            assert_int_equal(m.alg, ac->alg);
            assert_int_equal(m.sig_len, ac->kind == DSUIT_COSE_MAC0 ? 32 : 64);
            if (o.kid) {
                assert_non_null(m.kid);
                assert_int_equal(m.kid_len, 5);
                assert_memory_equal(m.kid, "key-1", 5);
            } else {
                assert_null(m.kid);
            }
            const uint8_t *det = NULL;
            if (o.detached) {
                assert_null(m.payload);
                det = PAYLOAD;
            } else {
                assert_int_equal(m.payload_len, PAYLOAD_LEN);
                assert_memory_equal(m.payload, PAYLOAD, PAYLOAD_LEN);
            }
            expect_rc(what,
                      dsuit_cose_verify(&m, key, det, det ? PAYLOAD_LEN : 0,
                                        with_aad ? aad : NULL,
                                        with_aad ? sizeof aad : 0, scratch,
                                        sizeof scratch),
                      0, 0);
            /* Wrong key, wrong AAD, wrong payload: no. */
            expect_rc(what,
                      dsuit_cose_verify(
                          &m, other_key(ac->signer), det, det ? PAYLOAD_LEN : 0,
                          with_aad ? aad : NULL, with_aad ? sizeof aad : 0,
                          scratch, sizeof scratch),
                      fail_code, 0);
            expect_rc(what,
                      dsuit_cose_verify(&m, key, det, det ? PAYLOAD_LEN : 0,
                                        with_aad ? NULL : aad,
                                        with_aad ? 0 : sizeof aad, scratch,
                                        sizeof scratch),
                      fail_code, 0);
            if (o.detached)
                expect_rc(what,
                          dsuit_cose_verify(&m, key, PAYLOAD, PAYLOAD_LEN - 1,
                                            with_aad ? aad : NULL,
                                            with_aad ? sizeof aad : 0, scratch,
                                            sizeof scratch),
                          fail_code, 0);

            /* What was signed is the independent Sig_structure. */
            uint8_t tbs[512];
            size_t tbs_len =
                my_tbs(ac->kind == DSUIT_COSE_MAC0 ? "MAC0" : "Signature1",
                       m.protected_hdr, m.protected_len, with_aad ? aad : NULL,
                       with_aad ? sizeof aad : 0, PAYLOAD, PAYLOAD_LEN, tbs,
                       sizeof tbs);
            if (ac->signer == SG_P256) {
                expect_rc(
                    what,
                    dsuit_p256_verify(key, tbs, tbs_len, m.sig, m.sig_len), 0,
                    0);
            } else if (ac->signer == SG_ED) {
                expect_rc(
                    what,
                    dsuit_ed25519_verify(key, tbs, tbs_len, m.sig, m.sig_len),
                    0, 0);
            } else {
                uint8_t tag[32];
                EXPECT_OK(dsuit_hmac_sha256(key->secret, key->secret_len, tbs,
                                            tbs_len, tag));
                assert_memory_equal(tag, m.sig, 32);
            }
        }
    }
}

/* dsuit_cose_create() and the table's independent encoder agree byte for
 * byte (all three signature schemes are deterministic). */
static void cose_create_matches_independent_encoding(void **state)
{
    (void)state;
    static uint8_t out[MSG_MAX], want[MSG_MAX], scratch[SCRATCH_MAX];
    for (int signer = SG_P256; signer <= SG_HMAC; signer++) {
        for (int form = 0; form < 8; form++) {
            msg_case_t c = {.name = "create vs encoder"};
            dsuit_cose_opts_t o = {0};
            size_t len = 0, wlen;
            c.signer = signer;
            c.tag = (form & 1) ? 0 : TAG_NONE;
            c.payload = (form & 2) ? P_NIL : P_BSTR;
            c.hu = (form & 4) ? H_KID : H_DEFAULT;
            o.kind = signer == SG_HMAC ? DSUIT_COSE_MAC0 : DSUIT_COSE_SIGN1;
            o.alg = signer_alg(signer);
            o.tagged = form & 1;
            o.detached = (form & 2) != 0;
            if (form & 4) {
                o.kid = (const uint8_t *)"kid";
                o.kid_len = 3;
            }
            wlen = build_msg(&c, want, sizeof want);
            EXPECT_OK(dsuit_cose_create(&o, signer_key(signer), PAYLOAD,
                                        PAYLOAD_LEN, NULL, 0, scratch,
                                        sizeof scratch, out, sizeof out, &len));
            if (len != wlen || memcmp(out, want, len) != 0)
                fail_msg("signer %d form %d: dsuit_cose_create output differs "
                         "from the independent encoding",
                         signer, form);
        }
    }
}

static void cose_create_with_spec_key_has_the_shape_of_the_spec(void **state)
{
    (void)state;
    static auth_t a;
    static uint8_t out[MSG_MAX], scratch[SCRATCH_MAX];
    dsuit_key_t priv, pub;
    dsuit_cose_msg_t m;
    dsuit_cose_opts_t o = {DSUIT_COSE_SIGN1, -7, 1, 1, NULL, 0};
    size_t len = 0;

    load_auth("suit/manifest-37/example0.cbor", &a);
    load_pem_key(SPEC_PRIV, &priv);
    load_pem_key(SPEC_PUB, &pub);
    assert_int_equal(priv.has_private, 1);
    assert_int_equal(priv.pub_len, pub.pub_len);
    assert_memory_equal(priv.pub, pub.pub, pub.pub_len);
    EXPECT_OK(dsuit_cose_create(&o, &priv, a.digest, a.digest_len, NULL, 0,
                                scratch, sizeof scratch, out, sizeof out,
                                &len));
    /* Same length and same bytes up to the signature as the spec's. */
    assert_int_equal(len, a.cose_len);
    assert_memory_equal(out, a.cose, a.cose_len - 64);
    EXPECT_OK(dsuit_cose_parse(out, len, DSUIT_COSE_SIGN1, &m));
    EXPECT_OK(dsuit_cose_verify(&m, &pub, a.digest, a.digest_len, NULL, 0,
                                scratch, sizeof scratch));
    dsuit_key_wipe(&priv);
}

static void cose_create_reports_size_needed_when_output_too_small(void **state)
{
    (void)state;
    static uint8_t out[MSG_MAX], scratch[SCRATCH_MAX];
    for (size_t i = 0; i < sizeof alg_cases / sizeof alg_cases[0]; i++) {
        const alg_case_t *ac = &alg_cases[i];
        dsuit_cose_opts_t o = {ac->kind, ac->alg, 1, 0, NULL, 0};
        size_t need = 0, len = 0;
        EXPECT(dsuit_cose_create(&o, signer_key(ac->signer), PAYLOAD,
                                 PAYLOAD_LEN, NULL, 0, scratch, sizeof scratch,
                                 NULL, 0, &need),
               DSUIT_E_LIMIT);
        /* tag + array + << {1: alg} >> + {} + payload bstr + sig bstr */
        size_t sig = ac->kind == DSUIT_COSE_MAC0 ? 32 : 64;
        assert_int_equal(need, 1 + 1 + 4 + 1 + 2 + PAYLOAD_LEN + 2 + sig);
        EXPECT(dsuit_cose_create(&o, signer_key(ac->signer), PAYLOAD,
                                 PAYLOAD_LEN, NULL, 0, scratch, sizeof scratch,
                                 out, need - 1, &len),
               DSUIT_E_LIMIT);
        assert_int_equal(len, need);
        EXPECT_OK(dsuit_cose_create(&o, signer_key(ac->signer), PAYLOAD,
                                    PAYLOAD_LEN, NULL, 0, scratch,
                                    sizeof scratch, out, need, &len));
        assert_int_equal(len, need);
        /* A scratch too small for the Sig_structure. */
        EXPECT(dsuit_cose_create(&o, signer_key(ac->signer), PAYLOAD,
                                 PAYLOAD_LEN, NULL, 0, scratch, 8, out,
                                 sizeof out, &len),
               DSUIT_E_LIMIT);
    }
}

static void cose_create_rejects_wrong_keys_and_algs(void **state)
{
    (void)state;
    static uint8_t out[MSG_MAX], scratch[SCRATCH_MAX];
    dsuit_key_t pub, empty;
    size_t len = 0;
    memset(&empty, 0, sizeof empty);
    load_pem_key(SPEC_PUB, &pub);
    struct {
        const char *name;
        dsuit_cose_opts_t o;
        const dsuit_key_t *key;
        int expect;
    } rows[] = {
        {"ES256 with a public-only key",
         {DSUIT_COSE_SIGN1, -7, 1, 1, 0, 0},
         &pub,
         DSUIT_E_KEY},
        {"ES256 with an Ed25519 key",
         {DSUIT_COSE_SIGN1, -7, 1, 1, 0, 0},
         &k_ed,
         DSUIT_E_ALG},
        {"EdDSA with a P-256 key",
         {DSUIT_COSE_SIGN1, -8, 1, 1, 0, 0},
         &k_p256,
         DSUIT_E_ALG},
        {"HMAC with a P-256 key",
         {DSUIT_COSE_MAC0, 5, 1, 1, 0, 0},
         &k_p256,
         DSUIT_E_ALG},
        {"ES256 with an HMAC key",
         {DSUIT_COSE_SIGN1, -7, 1, 1, 0, 0},
         &k_hmac,
         DSUIT_E_ALG},
        {"alg -35", {DSUIT_COSE_SIGN1, -35, 1, 1, 0, 0}, &k_p256, DSUIT_E_ALG},
        {"alg -257",
         {DSUIT_COSE_SIGN1, -257, 1, 1, 0, 0},
         &k_p256,
         DSUIT_E_ALG},
        {"alg 0", {DSUIT_COSE_MAC0, 0, 1, 1, 0, 0}, &k_hmac, DSUIT_E_ALG},
        {"HMAC with a 16-byte key",
         {DSUIT_COSE_MAC0, 5, 1, 1, 0, 0},
         &k_hmac16,
         ANY_ERR},
        {"Sign1 with HMAC alg",
         {DSUIT_COSE_SIGN1, 5, 1, 1, 0, 0},
         &k_hmac,
         ANY_ERR},
        {"Mac0 with ES256 alg",
         {DSUIT_COSE_MAC0, -7, 1, 1, 0, 0},
         &k_p256,
         ANY_ERR},
        {"kind ANY", {DSUIT_COSE_ANY, -7, 1, 1, 0, 0}, &k_p256, ANY_ERR},
        {"empty key", {DSUIT_COSE_SIGN1, -7, 1, 1, 0, 0}, &empty, ANY_ERR},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = dsuit_cose_create(&rows[i].o, rows[i].key, PAYLOAD,
                                   PAYLOAD_LEN, NULL, 0, scratch,
                                   sizeof scratch, out, sizeof out, &len);
        expect_rc(rows[i].name, rc, rows[i].expect, 0);
    }
}

/* An attached empty payload (h'') is not a detached one (nil). */
static void cose_empty_payload_is_attached_not_detached(void **state)
{
    (void)state;
    static uint8_t out[MSG_MAX], scratch[SCRATCH_MAX];
    static const uint8_t empty[1] = {0};
    for (size_t i = 0; i < sizeof alg_cases / sizeof alg_cases[0]; i++) {
        const alg_case_t *ac = &alg_cases[i];
        const dsuit_key_t *key = signer_key(ac->signer);
        for (int detached = 0; detached <= 1; detached++) {
            dsuit_cose_opts_t o = {ac->kind, ac->alg, 1, detached, NULL, 0};
            dsuit_cose_msg_t m;
            size_t len = 0;
            EXPECT_OK(dsuit_cose_create(&o, key, empty, 0, NULL, 0, scratch,
                                        sizeof scratch, out, sizeof out, &len));
            EXPECT_OK(dsuit_cose_parse(out, len, ac->kind, &m));
            assert_int_equal(m.payload_len, 0);
            if (detached) {
                assert_null(m.payload);
                EXPECT_OK(dsuit_cose_verify(&m, key, empty, 0, NULL, 0, scratch,
                                            sizeof scratch));
                EXPECT(dsuit_cose_verify(&m, key, NULL, 0, NULL, 0, scratch,
                                         sizeof scratch),
                       DSUIT_E_INVAL);
            } else {
                assert_non_null(m.payload);
                EXPECT_OK(dsuit_cose_verify(&m, key, NULL, 0, NULL, 0, scratch,
                                            sizeof scratch));
                EXPECT(dsuit_cose_verify(&m, key, empty, 0, NULL, 0, scratch,
                                         sizeof scratch),
                       DSUIT_E_INVAL);
            }
        }
    }
}

/* A message struct that no parse filled in never verifies. */
static void cose_verify_fails_closed_on_an_unparsed_message(void **state)
{
    (void)state;
    static uint8_t scratch[SCRATCH_MAX];
    dsuit_cose_msg_t m;
    memset(&m, 0, sizeof m);
    expect_rc("zeroed msg, P-256 key",
              dsuit_cose_verify(&m, &k_p256, PAYLOAD, PAYLOAD_LEN, NULL, 0,
                                scratch, sizeof scratch),
              ANY_ERR, 0);
    expect_rc("zeroed msg, HMAC key",
              dsuit_cose_verify(&m, &k_hmac, PAYLOAD, PAYLOAD_LEN, NULL, 0,
                                scratch, sizeof scratch),
              ANY_ERR, 0);
}

static void cose_alg_names_and_key_types_are_the_five_accepted(void **state)
{
    (void)state;
    static const struct {
        int64_t alg;
        const char *name;
        dsuit_key_type_t kt;
    } rows[] = {
        {-7, "ES256", DSUIT_KEY_P256},
        {-9, "ESP256", DSUIT_KEY_P256},
        {-8, "EdDSA", DSUIT_KEY_ED25519},
        {-19, "Ed25519", DSUIT_KEY_ED25519},
        {5, "HMAC256", DSUIT_KEY_SYMMETRIC},
        {-35, NULL, DSUIT_KEY_NONE},
        {-257, NULL, DSUIT_KEY_NONE},
        {0, NULL, DSUIT_KEY_NONE},
        {4, NULL, DSUIT_KEY_NONE},
        {-4294967303LL, NULL, DSUIT_KEY_NONE},
        {4294967301LL, NULL, DSUIT_KEY_NONE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *n = dsuit_cose_alg_name(rows[i].alg);
        if (rows[i].name == NULL)
            assert_null(n);
        else
            assert_string_equal(n, rows[i].name);
        assert_int_equal(dsuit_cose_alg_key_type(rows[i].alg), rows[i].kt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cose_verify_accepts_every_signed_official_vector),
        cmocka_unit_test(cose_parse_of_official_vectors_follows_the_kind_asked),
        cmocka_unit_test(cose_verify_rejects_mac_vector_with_another_secret),
        cmocka_unit_test(cose_sign1_fails_when_any_bit_is_flipped),
        cmocka_unit_test(cose_mac0_fails_when_any_bit_is_flipped),
        cmocka_unit_test(cose_parse_rejects_every_truncation),
        cmocka_unit_test(cose_parse_rejects_empty_input),
        cmocka_unit_test(cose_tbs_of_example0_is_the_expected_sig_structure),
        cmocka_unit_test(cose_tbs_of_mac0_uses_the_mac0_context_and_aad),
        cmocka_unit_test(
            cose_tbs_matches_independent_encoding_at_head_boundaries),
        cmocka_unit_test(cose_tbs_reports_size_needed_when_output_too_small),
        cmocka_unit_test(cose_tbs_rejects_kind_any),
        cmocka_unit_test(cose_parse_and_verify_follow_the_table),
        cmocka_unit_test(cose_parse_leaves_output_untouched_on_error),
        cmocka_unit_test(cose_create_then_verify_for_every_alg_and_form),
        cmocka_unit_test(cose_create_matches_independent_encoding),
        cmocka_unit_test(cose_create_with_spec_key_has_the_shape_of_the_spec),
        cmocka_unit_test(cose_create_reports_size_needed_when_output_too_small),
        cmocka_unit_test(cose_create_rejects_wrong_keys_and_algs),
        cmocka_unit_test(cose_empty_payload_is_attached_not_detached),
        cmocka_unit_test(cose_verify_fails_closed_on_an_unparsed_message),
        cmocka_unit_test(cose_alg_names_and_key_types_are_the_five_accepted),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
