/*
 * Tests of SUIT envelope decoding, authentication and manifest decoding
 * (include/dsuit/suit.h; draft-ietf-suit-manifest-37 §6.2, §8.2-§8.4,
 * §8.4.12, Appendix B), written against the header contract and the spec
 * as an independent check of src/device/suit/envelope.c.
 *
 * - Every official envelope (manifest-37, trust-domains) decodes; every
 *   signed one authenticates with the spec key and gives the SUIT_Digest,
 *   sequence number, component count and severable-member states that the
 *   vectors' README states; the unsigned variants are refused for lack of
 *   an authentication block; the firmware-encryption envelopes
 *   authenticate with their own signer or HMAC key and no other.
 * - Every signed vector cut at every length and with every byte flipped
 *   (example0: every bit too) is refused, or accepted only when the
 *   manifest it yields is byte-identical to the original (flips outside
 *   the authenticated data, e.g. in an integrated payload).
 * - A table of envelopes built here (CBOR from diagnostic notation, signed
 *   with dsuit_cose_create() and a generated key so that only the row's
 *   defect can cause a rejection) gives the contract's error for each
 *   defect.
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
#include "dsuit/suit.h"
#include "vectors.h"

#define ENV_MAX 4096

#define SPEC_PUB "suit/keys/spec-es256-p256-public.pem"
#define DEP_PUB  "suit/keys/encryption-dependent-signer-p256-public.pem"
#define HMAC_KEY "suit/keys/encryption-hmac256-secret.bin"

/* Sentinel for "any error will do" (never a dsuit code). */
#define ANY_ERR 1

static void expect_rc(const char *what, int got, int want)
{
    if (want == ANY_ERR) {
        if (got == DSUIT_OK)
            fail_msg("%s: got DSUIT_OK, want an error", what);
        return;
    }
    if (got != want)
        fail_msg("%s: got %s (%d), want %s (%d)", what, dsuit_err_name(got),
                 got, dsuit_err_name(want), want);
}

#define EXPECT(call, want) expect_rc(#call, (call), (want))
#define EXPECT_OK(call)    expect_rc(#call, (call), DSUIT_OK)

static dsuit_key_t k_spec, k_dep, k_hmac, k_gen, k_other;

static int group_setup(void **state)
{
    (void)state;
    if (dsuit_key_generate(DSUIT_KEY_P256, &k_gen) != DSUIT_OK ||
        dsuit_key_generate(DSUIT_KEY_P256, &k_other) != DSUIT_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    dsuit_key_wipe(&k_gen);
    dsuit_key_wipe(&k_other);
    dsuit_key_wipe(&k_hmac);
    return 0;
}

/* Keys from files need a running test (tv_read fails it on a miss). */
static void load_keys(void)
{
    uint8_t s[DSUIT_KEY_SECRET_MAX];
    size_t n;
    tv_key_pem(SPEC_PUB, &k_spec);
    tv_key_pem(DEP_PUB, &k_dep);
    tv_read(HMAC_KEY, s, sizeof s, &n);
    EXPECT_OK(dsuit_key_set_symmetric(&k_hmac, s, n));
}

/* ------------------------------------------------------------------ */
/* The official vectors                                               */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *path;
    int is_signed;
    const char *digest; /* SUIT_Digest bytes (README / the .diag) */
    uint64_t seq;
    size_t n_components;
    int64_t cose_alg;
    int has_dependencies;
} vec_t;

static const vec_t VECS[] = {
    {"suit/manifest-37/example0.cbor", 1,
     "6658ea560262696dd1f13b782239a064da7c6c5cbaf52fded428a6fc83c7e5af", 0, 1,
     -7, 0},
    {"suit/manifest-37/example1.cbor", 1,
     "1f2e7acca0dc2786f2fe4eb947f50873a6a3cfaa98866c5b02e621f42074daf2", 1, 1,
     -7, 0},
    {"suit/manifest-37/example2.cbor", 1,
     "6a5197ed8f9dccf733d1c89a359441708e070b4c6dcb9a1c2c82c6165f609b90", 2, 1,
     -7, 0},
    {"suit/manifest-37/example2-severed.cbor", 1,
     "6a5197ed8f9dccf733d1c89a359441708e070b4c6dcb9a1c2c82c6165f609b90", 2, 1,
     -7, 0},
    {"suit/manifest-37/example3.cbor", 1,
     "f6d44a62ec906b392500c242e78e908e9cc5057f3f04104a06a8566200da2ee0", 3, 1,
     -7, 0},
    {"suit/manifest-37/example4.cbor", 1,
     "5b5f6586b1e6cdf19ee479a5adabf206581000bd584b0832a9bdaf4f72cdbdd6", 4, 3,
     -7, 0},
    {"suit/manifest-37/example5.cbor", 1,
     "15ce60f77657e4531dc329155f8b0ed78f94bdc6d165b2665473693dcc34f470", 5, 2,
     -7, 0},
    {"suit/trust-domains/example0_dependent.cbor", 1,
     "0f02caf6d3e61920d36bf3cea7f862a13bb8fb1f09c3f4c29b121feab78ef3d8", 0, 1,
     -9, 0},
    {"suit/trust-domains/example1_process.cbor", 1, NULL, 0, 1, -9, 1},
    {"suit/trust-domains/example2_integrated.cbor", 1, NULL, 0, 1, -9, 1},
    {"suit/manifest-37/example0-unsigned.cbor", 0,
     "6658ea560262696dd1f13b782239a064da7c6c5cbaf52fded428a6fc83c7e5af", 0},
    {"suit/manifest-37/example1-unsigned.cbor", 0,
     "1f2e7acca0dc2786f2fe4eb947f50873a6a3cfaa98866c5b02e621f42074daf2", 1},
    {"suit/manifest-37/example2-severed-unsigned.cbor", 0,
     "6a5197ed8f9dccf733d1c89a359441708e070b4c6dcb9a1c2c82c6165f609b90", 2},
    {"suit/manifest-37/example3-unsigned.cbor", 0,
     "f6d44a62ec906b392500c242e78e908e9cc5057f3f04104a06a8566200da2ee0", 3},
    {"suit/manifest-37/example4-unsigned.cbor", 0,
     "5b5f6586b1e6cdf19ee479a5adabf206581000bd584b0832a9bdaf4f72cdbdd6", 4},
    {"suit/manifest-37/example5-unsigned.cbor", 0,
     "15ce60f77657e4531dc329155f8b0ed78f94bdc6d165b2665473693dcc34f470", 5},
};
#define N_VECS (sizeof VECS / sizeof VECS[0])

/* Fail unless b lies inside buf[0..len) (or is empty and NULL). */
static void expect_inside(const char *what, const char *path, dsuit_bytes_t b,
                          const uint8_t *buf, size_t len)
{
    if (b.ptr == NULL && b.len == 0)
        return;
    if (b.ptr < buf || b.ptr > buf + len || b.len > (size_t)(buf + len - b.ptr))
        fail_msg("%s: %s points outside the envelope buffer", path, what);
}

static void expect_env_inside(const char *path, const dsuit_suit_envelope_t *e,
                              const uint8_t *buf, size_t len)
{
    expect_inside("digest_item", path, e->digest_item, buf, len);
    expect_inside("digest_bytes", path, e->digest_bytes, buf, len);
    expect_inside("manifest", path, e->manifest, buf, len);
    expect_inside("manifest_wrapped", path, e->manifest_wrapped, buf, len);
    for (size_t i = 0; i < e->n_auth; i++)
        expect_inside("auth block", path, e->auth_blocks[i], buf, len);
    for (size_t i = 0; i < DSUIT_SUIT_SEV_COUNT; i++)
        expect_inside("envelope member", path, e->envelope_members[i], buf,
                      len);
    for (size_t i = 0; i < e->n_integrated; i++) {
        expect_inside("integrated key", path, e->integrated_keys[i], buf, len);
        expect_inside("integrated payload", path, e->integrated_payloads[i],
                      buf, len);
    }
}

static void suit_envelope_decode_accepts_every_official_envelope(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    for (size_t i = 0; i < N_VECS; i++) {
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err;
        size_t len;
        int rc;
        tv_read(VECS[i].path, buf, sizeof buf, &len);
        rc = dsuit_suit_envelope_decode(buf, len, &env, &err);
        if (!VECS[i].is_signed) {
            /* The contract: no authentication block is DSUIT_E_SUIT_NOAUTH,
             * already at decode. */
            if (rc != DSUIT_E_SUIT_NOAUTH)
                fail_msg("%s: decode gave %s, want DSUIT_E_SUIT_NOAUTH",
                         VECS[i].path, dsuit_err_name(rc));
            assert_non_null(err.reason);
            /* On NOAUTH the envelope is filled all the same: its digest is
             * the signed variant's, and SHA-256 of the wrapped manifest. */
            uint8_t want[DSUIT_SHA256_LEN], d[DSUIT_SHA256_LEN];
            tv_hex(VECS[i].digest, want, sizeof want);
            assert_int_equal(env.n_auth, 0);
            assert_int_equal(env.digest_alg, DSUIT_SUIT_DIGEST_SHA256);
            assert_int_equal(env.digest_bytes.len, DSUIT_SHA256_LEN);
            assert_memory_equal(env.digest_bytes.ptr, want, sizeof want);
            assert_non_null(env.manifest_wrapped.ptr);
            EXPECT_OK(dsuit_sha256(env.manifest_wrapped.ptr,
                                   env.manifest_wrapped.len, d));
            assert_memory_equal(d, want, sizeof want);
            expect_env_inside(VECS[i].path, &env, buf, len);
            continue;
        }
        if (rc != DSUIT_OK)
            fail_msg("%s: decode gave %s (%s)", VECS[i].path,
                     dsuit_err_name(rc), err.reason ? err.reason : "");
        assert_true(env.tagged);
        assert_int_equal(env.digest_alg, DSUIT_SUIT_DIGEST_SHA256);
        assert_int_equal(env.digest_bytes.len, DSUIT_SHA256_LEN);
        assert_true(env.n_auth >= 1);
        assert_false(env.authenticated);
        /* The wrapped manifest is the bstr head followed by the content. */
        assert_true(env.manifest_wrapped.ptr < env.manifest.ptr);
        assert_ptr_equal(env.manifest_wrapped.ptr + env.manifest_wrapped.len,
                         env.manifest.ptr + env.manifest.len);
        expect_env_inside(VECS[i].path, &env, buf, len);
    }
}

static void
suit_parse_authenticates_every_signed_vector_with_spec_key(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    load_keys();
    for (size_t i = 0; i < N_VECS; i++) {
        const vec_t *v = &VECS[i];
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err;
        size_t len;
        int rc;
        if (!v->is_signed)
            continue;
        tv_read(v->path, buf, sizeof buf, &len);
        rc = dsuit_suit_parse(buf, len, &k_spec, 1, &env, &err);
        if (rc != DSUIT_OK)
            fail_msg("%s: parse gave %s (%s)", v->path, dsuit_err_name(rc),
                     err.reason ? err.reason : "");
        assert_true(env.authenticated);
        assert_int_equal(env.auth_index, 0);
        assert_int_equal(env.auth_alg, v->cose_alg);
        assert_int_equal(env.version, 1);
        if (env.seq != v->seq)
            fail_msg("%s: seq %llu, want %llu", v->path,
                     (unsigned long long)env.seq, (unsigned long long)v->seq);
        if (env.n_components != v->n_components)
            fail_msg("%s: %zu components, want %zu", v->path, env.n_components,
                     v->n_components);
        if (env.has_dependencies != v->has_dependencies)
            fail_msg("%s: has_dependencies %d, want %d", v->path,
                     env.has_dependencies, v->has_dependencies);
        /* SUIT_Digest = SHA-256(bstr-wrapped manifest), computed here. */
        uint8_t d[DSUIT_SHA256_LEN];
        EXPECT_OK(dsuit_sha256(env.manifest_wrapped.ptr,
                               env.manifest_wrapped.len, d));
        assert_memory_equal(d, env.digest_bytes.ptr, DSUIT_SHA256_LEN);
        if (v->digest != NULL) {
            uint8_t want[DSUIT_SHA256_LEN];
            tv_hex(v->digest, want, sizeof want);
            if (memcmp(want, env.digest_bytes.ptr, sizeof want) != 0)
                fail_msg("%s: SUIT_Digest is not %s", v->path, v->digest);
        }
        for (size_t c = 0; c < env.n_components; c++)
            expect_inside("component id", v->path, env.components[c], buf, len);
        expect_inside("shared", v->path, env.shared_seq, buf, len);
        expect_inside("validate", v->path, env.validate, buf, len);
        expect_inside("invoke", v->path, env.invoke, buf, len);
        expect_inside("load", v->path, env.load, buf, len);
        for (size_t m = 0; m < DSUIT_SUIT_SEV_COUNT; m++)
            expect_inside("member body", v->path, env.members[m].body, buf,
                          len);
        expect_env_inside(v->path, &env, buf, len);
    }
}

static void suit_parse_rejects_every_unsigned_variant_with_noauth(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    load_keys();
    for (size_t i = 0; i < N_VECS; i++) {
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err = {0};
        size_t len;
        if (VECS[i].is_signed)
            continue;
        tv_read(VECS[i].path, buf, sizeof buf, &len);
        int rc = dsuit_suit_parse(buf, len, &k_spec, 1, &env, &err);
        if (rc != DSUIT_E_SUIT_NOAUTH)
            fail_msg("%s: parse gave %s, want DSUIT_E_SUIT_NOAUTH",
                     VECS[i].path, dsuit_err_name(rc));
        assert_non_null(err.reason);
        assert_int_not_equal(err.stage, DSUIT_SUIT_STAGE_NONE);
    }
}

static void suit_parse_gives_component_ids_of_example4(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    static const uint8_t ids[3][3] = {
        {0x81, 0x41, 0x00}, {0x81, 0x41, 0x02}, {0x81, 0x41, 0x01}};
    dsuit_suit_envelope_t env;
    size_t len;
    load_keys();
    tv_read("suit/manifest-37/example4.cbor", buf, sizeof buf, &len);
    EXPECT_OK(dsuit_suit_parse(buf, len, &k_spec, 1, &env, NULL));
    assert_int_equal(env.n_components, 3);
    for (size_t c = 0; c < 3; c++) {
        assert_int_equal(env.components[c].len, 3);
        assert_memory_equal(env.components[c].ptr, ids[c], 3);
    }
    assert_non_null(env.load.ptr);
    assert_non_null(env.invoke.ptr);
    assert_non_null(env.validate.ptr);
    assert_int_equal(env.members[DSUIT_SUIT_SEV_PAYLOAD_FETCH].state,
                     DSUIT_SUIT_MEMBER_INLINE);
    assert_int_equal(env.members[DSUIT_SUIT_SEV_INSTALL].state,
                     DSUIT_SUIT_MEMBER_INLINE);
    assert_int_equal(env.members[DSUIT_SUIT_SEV_TEXT].state,
                     DSUIT_SUIT_MEMBER_ABSENT);
}

static int contains(dsuit_bytes_t hay, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; hay.ptr != NULL && i + n <= hay.len; i++)
        if (memcmp(hay.ptr + i, needle, n) == 0)
            return 1;
    return 0;
}

/* The digest a manifest holds for a member is [-16, bytes]. */
static void expect_member_digest(const dsuit_suit_member_t *m,
                                 const char *prefix, const char *suffix)
{
    dsuit_cbor_dec_t d;
    size_t n, blen;
    int64_t alg;
    const uint8_t *b;
    uint8_t p[4], s[2];
    tv_hex(prefix, p, sizeof p);
    tv_hex(suffix, s, sizeof s);
    assert_non_null(m->digest.ptr);
    dsuit_cbor_dec_init(&d, m->digest.ptr, m->digest.len, 0);
    EXPECT_OK(dsuit_cbor_get_array(&d, &n));
    assert_int_equal(n, 2);
    EXPECT_OK(dsuit_cbor_get_int(&d, &alg));
    assert_int_equal(alg, -16);
    EXPECT_OK(dsuit_cbor_get_bstr(&d, &b, &blen));
    assert_int_equal(blen, 32);
    assert_memory_equal(b, p, 4);
    assert_memory_equal(b + 30, s, 2);
}

static void
suit_parse_verifies_example2_members_against_their_digests(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    dsuit_suit_envelope_t env;
    size_t len;
    load_keys();
    tv_read("suit/manifest-37/example2.cbor", buf, sizeof buf, &len);
    EXPECT_OK(dsuit_suit_parse(buf, len, &k_spec, 1, &env, NULL));
    const dsuit_suit_member_t *ins = &env.members[DSUIT_SUIT_SEV_INSTALL];
    const dsuit_suit_member_t *txt = &env.members[DSUIT_SUIT_SEV_TEXT];
    assert_int_equal(ins->state, DSUIT_SUIT_MEMBER_VERIFIED);
    assert_int_equal(txt->state, DSUIT_SUIT_MEMBER_VERIFIED);
    assert_int_equal(env.members[DSUIT_SUIT_SEV_PAYLOAD_FETCH].state,
                     DSUIT_SUIT_MEMBER_ABSENT);
    expect_member_digest(ins, "cfa90c5c", "c498");
    expect_member_digest(txt, "302196d4", "0007");
    assert_true(contains(ins->body,
                         "http://example.com/very/long/path/to/file/file.bin"));
    /* The body is the member's content: a command sequence (an array). */
    assert_int_equal(ins->body.ptr[0] & 0xe0, 0x80);
    assert_int_equal(txt->body.ptr[0] & 0xe0, 0xa0);
    assert_int_equal(env.reference_uri.len, strlen("https://git.io/JJYoj"));
    assert_memory_equal(env.reference_uri.ptr, "https://git.io/JJYoj",
                        env.reference_uri.len);
}

static void suit_parse_reports_example2_severed_members_as_severed(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    dsuit_suit_envelope_t env;
    size_t len;
    load_keys();
    tv_read("suit/manifest-37/example2-severed.cbor", buf, sizeof buf, &len);
    EXPECT_OK(dsuit_suit_parse(buf, len, &k_spec, 1, &env, NULL));
    assert_int_equal(env.members[DSUIT_SUIT_SEV_INSTALL].state,
                     DSUIT_SUIT_MEMBER_SEVERED);
    assert_int_equal(env.members[DSUIT_SUIT_SEV_TEXT].state,
                     DSUIT_SUIT_MEMBER_SEVERED);
    expect_member_digest(&env.members[DSUIT_SUIT_SEV_INSTALL], "cfa90c5c",
                         "c498");
    assert_int_equal(env.members[DSUIT_SUIT_SEV_INSTALL].body.len, 0);
    assert_non_null(env.validate.ptr);
    assert_non_null(env.invoke.ptr);
}

static void
suit_parse_keeps_the_integrated_dependency_of_trust_domains(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX], dep[ENV_MAX];
    dsuit_suit_envelope_t env;
    size_t len, dep_len;
    load_keys();
    tv_read("suit/trust-domains/example2_integrated.cbor", buf, sizeof buf,
            &len);
    tv_read("suit/trust-domains/example0_dependent.cbor", dep, sizeof dep,
            &dep_len);
    EXPECT_OK(dsuit_suit_parse(buf, len, &k_spec, 1, &env, NULL));
    assert_int_equal(env.n_integrated, 1);
    assert_int_equal(env.integrated_keys[0].len, strlen("#dependent.suit"));
    assert_memory_equal(env.integrated_keys[0].ptr, "#dependent.suit",
                        env.integrated_keys[0].len);
    assert_int_equal(env.integrated_payloads[0].len, dep_len);
    assert_memory_equal(env.integrated_payloads[0].ptr, dep, dep_len);
    assert_true(env.has_dependencies);
}

/* Decode and authenticate only (these manifests use encryption
 * extensions). */
static int authenticate_file(const char *path, const dsuit_key_t *keys,
                             size_t n_keys, dsuit_suit_envelope_t *env)
{
    static uint8_t buf[ENV_MAX];
    uint8_t scratch[DSUIT_SUIT_AUTH_SCRATCH];
    size_t len;
    tv_read(path, buf, sizeof buf, &len);
    int rc = dsuit_suit_envelope_decode(buf, len, env, NULL);
    if (rc != DSUIT_OK)
        fail_msg("%s: decode gave %s", path, dsuit_err_name(rc));
    return dsuit_suit_authenticate(env, keys, n_keys, scratch, sizeof scratch,
                                   NULL);
}

static void
suit_authenticate_es_ecdh_dependency_needs_its_own_signer(void **state)
{
    (void)state;
    const char *path =
        "suit/firmware-encryption/suit-manifest-es-ecdh-dependency.cbor";
    dsuit_suit_envelope_t env;
    load_keys();
    EXPECT_OK(authenticate_file(path, &k_dep, 1, &env));
    assert_true(env.authenticated);
    assert_int_equal(env.auth_alg, DSUIT_COSE_ALG_ESP256);
    EXPECT(authenticate_file(path, &k_spec, 1, &env), DSUIT_E_SIGNATURE);
    assert_false(env.authenticated);
    /* Any one trusted key is enough, in any position. */
    dsuit_key_t both[2] = {k_spec, k_dep};
    EXPECT_OK(authenticate_file(path, both, 2, &env));
    /* The content one is signed by the spec key. */
    EXPECT_OK(authenticate_file(
        "suit/firmware-encryption/suit-manifest-es-ecdh-content.cbor", &k_spec,
        1, &env));
}

static void suit_authenticate_aes_kw_envelopes_with_the_hmac_key(void **state)
{
    (void)state;
    static const char *const files[] = {
        "suit/firmware-encryption/suit-manifest-aes-kw-content.cbor",
        "suit/firmware-encryption/suit-manifest-aes-kw.cbor",
        "suit/firmware-encryption/suit-manifest-aes-kw-slot.cbor",
    };
    dsuit_key_t wrong;
    uint8_t b[32];
    memset(b, 'b', sizeof b);
    EXPECT_OK(dsuit_key_set_symmetric(&wrong, b, sizeof b));
    load_keys();
    for (size_t i = 0; i < 3; i++) {
        dsuit_suit_envelope_t env;
        EXPECT_OK(authenticate_file(files[i], &k_hmac, 1, &env));
        assert_true(env.authenticated);
        assert_int_equal(env.auth_alg, DSUIT_COSE_ALG_HMAC256);
        EXPECT(authenticate_file(files[i], &wrong, 1, &env), DSUIT_E_MAC);
        assert_false(env.authenticated);
        EXPECT(authenticate_file(files[i], &k_spec, 1, &env), ANY_ERR);
        assert_false(env.authenticated);
    }
    dsuit_key_wipe(&wrong);
}

static void
suit_authenticate_refuses_wrong_key_no_key_and_small_scratch(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    uint8_t scratch[DSUIT_SUIT_AUTH_SCRATCH];
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    size_t len;
    load_keys();
    tv_read("suit/manifest-37/example0.cbor", buf, sizeof buf, &len);
    EXPECT_OK(dsuit_suit_envelope_decode(buf, len, &env, NULL));
    EXPECT(
        dsuit_suit_authenticate(&env, &k_gen, 1, scratch, sizeof scratch, &err),
        DSUIT_E_SIGNATURE);
    assert_false(env.authenticated);
    assert_int_equal(err.stage, DSUIT_SUIT_STAGE_AUTH);
    assert_non_null(err.reason);
    EXPECT(
        dsuit_suit_authenticate(&env, NULL, 0, scratch, sizeof scratch, NULL),
        ANY_ERR);
    assert_false(env.authenticated);
    EXPECT(dsuit_suit_authenticate(&env, &k_spec, 1, scratch, 8, NULL),
           ANY_ERR);
    assert_false(env.authenticated);
    /* The right key among wrong ones. */
    dsuit_key_t keys[3] = {k_gen, k_other, k_spec};
    EXPECT_OK(
        dsuit_suit_authenticate(&env, keys, 3, scratch, sizeof scratch, NULL));
    assert_true(env.authenticated);
}

static void
suit_manifest_decode_refuses_an_unauthenticated_envelope(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    uint8_t scratch[DSUIT_SUIT_AUTH_SCRATCH];
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    size_t len;
    load_keys();
    tv_read("suit/manifest-37/example1.cbor", buf, sizeof buf, &len);
    EXPECT_OK(dsuit_suit_envelope_decode(buf, len, &env, NULL));
    EXPECT(dsuit_suit_manifest_decode(&env, 0, &err), DSUIT_E_SIGNATURE);
    assert_non_null(err.reason);
    /* A failed authentication leaves it unauthenticated. */
    EXPECT(
        dsuit_suit_authenticate(&env, &k_gen, 1, scratch, sizeof scratch, NULL),
        DSUIT_E_SIGNATURE);
    EXPECT(dsuit_suit_manifest_decode(&env, 0, NULL), DSUIT_E_SIGNATURE);
    /* Inspection tools may look anyway. */
    EXPECT_OK(dsuit_suit_manifest_decode(&env, DSUIT_SUIT_ALLOW_UNAUTHENTICATED,
                                         NULL));
    assert_int_equal(env.seq, 1);
    /* The unsigned variant decodes for inspection too? It does not even
     * decode: it has no authentication block. */
    tv_read("suit/manifest-37/example1-unsigned.cbor", buf, sizeof buf, &len);
    EXPECT(dsuit_suit_envelope_decode(buf, len, &env, NULL),
           DSUIT_E_SUIT_NOAUTH);
}

static void suit_names_follow_the_header(void **state)
{
    (void)state;
    static const struct {
        dsuit_suit_stage_t s;
        const char *name;
    } stages[] = {{DSUIT_SUIT_STAGE_NONE, ""},
                  {DSUIT_SUIT_STAGE_DECODE, "decode"},
                  {DSUIT_SUIT_STAGE_AUTH, "auth"},
                  {DSUIT_SUIT_STAGE_SETUP, "setup"},
                  {DSUIT_SUIT_STAGE_SHARED, "shared-sequence"},
                  {DSUIT_SUIT_STAGE_SEVERABLE, "severable"},
                  {DSUIT_SUIT_STAGE_COMMAND, "command"}};
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
        assert_string_equal(dsuit_suit_stage_name(stages[i].s), stages[i].name);
    assert_string_equal(dsuit_suit_parameter_name(3), "image-digest");
    assert_string_equal(dsuit_suit_section_name(20), "install");
    assert_null(dsuit_suit_command_name(9999));
    assert_null(dsuit_suit_parameter_name(9999));
    assert_null(dsuit_suit_section_name(9999));
}

/* The header: the draft's names without their "suit-" prefix. */
static void suit_command_names_are_the_drafts_without_prefix(void **state)
{
    (void)state;
    assert_string_equal(dsuit_suit_command_name(1),
                        "condition-vendor-identifier");
    assert_string_equal(dsuit_suit_command_name(21), "directive-fetch");
    assert_string_equal(dsuit_suit_command_name(15), "directive-try-each");
    assert_string_equal(dsuit_suit_command_name(3), "condition-image-match");
}

/* ------------------------------------------------------------------ */
/* Truncation and flips                                               */
/* ------------------------------------------------------------------ */

typedef struct {
    size_t tried, accepted;
} tally_t;

/* Parse a mutated copy; if it is accepted, its manifest must be the
 * original's. */
static void parse_mutant(const char *path, const char *how, size_t where,
                         const uint8_t *mut, size_t len,
                         const dsuit_suit_envelope_t *orig, tally_t *t)
{
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    int rc = dsuit_suit_parse(mut, len, &k_spec, 1, &env, &err);
    t->tried++;
    if (rc != DSUIT_OK) {
        if (err.reason == NULL)
            fail_msg("%s %s at %zu: %s without a reason", path, how, where,
                     dsuit_err_name(rc));
        return;
    }
    t->accepted++;
    if (env.manifest.len != orig->manifest.len ||
        memcmp(env.manifest.ptr, orig->manifest.ptr, env.manifest.len) != 0)
        fail_msg("%s %s at %zu: accepted with a changed manifest", path, how,
                 where);
    if (env.seq != orig->seq || env.n_components != orig->n_components)
        fail_msg("%s %s at %zu: accepted with different content", path, how,
                 where);
}

static void
suit_parse_refuses_truncated_and_flipped_signed_vectors(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX], mut[ENV_MAX];
    tally_t trunc = {0}, bytes = {0}, bits = {0};
    load_keys();
    for (size_t i = 0; i < N_VECS; i++) {
        const char *path = VECS[i].path;
        dsuit_suit_envelope_t orig;
        size_t len;
        if (!VECS[i].is_signed)
            continue;
        tv_read(path, buf, sizeof buf, &len);
        EXPECT_OK(dsuit_suit_parse(buf, len, &k_spec, 1, &orig, NULL));

        for (size_t n = 0; n < len; n++) {
            dsuit_suit_envelope_t env;
            /* A copy of exactly n bytes, so ASan sees any read past it. */
            uint8_t *cut = malloc(n ? n : 1);
            assert_non_null(cut);
            memcpy(cut, buf, n);
            int rc = dsuit_suit_parse(cut, n, &k_spec, 1, &env, NULL);
            free(cut);
            trunc.tried++;
            if (rc == DSUIT_OK)
                fail_msg("%s truncated to %zu bytes was accepted", path, n);
        }
        for (size_t k = 0; k < len; k++) {
            memcpy(mut, buf, len);
            mut[k] ^= 0xff;
            parse_mutant(path, "byte flip", k, mut, len, &orig, &bytes);
        }
        if (strstr(path, "manifest-37/example0.cbor") != NULL) {
            for (size_t k = 0; k < len * 8; k++) {
                memcpy(mut, buf, len);
                mut[k / 8] ^= (uint8_t)(1u << (k % 8));
                parse_mutant(path, "bit flip", k, mut, len, &orig, &bits);
            }
        }
    }
    print_message("truncations: %zu tried, 0 accepted\n", trunc.tried);
    print_message("byte flips: %zu tried, %zu accepted (manifest unchanged)\n",
                  bytes.tried, bytes.accepted);
    print_message("example0 bit flips: %zu tried, %zu accepted (manifest "
                  "unchanged)\n",
                  bits.tried, bits.accepted);
    assert_true(trunc.tried > 3000);
    assert_int_equal(bits.tried, 237 * 8);
}

/* ------------------------------------------------------------------ */
/* Built envelopes: one defect each                                   */
/* ------------------------------------------------------------------ */

#define VENDOR      "h'fa6b4a53d5ad5fdfbe9de663e4d41ffe'"
#define CLASS       "h'1492af1425695e48bf429b2d51f2ab45'"
#define SHARED      "<<[20, {1: " VENDOR ", 2: " CLASS "}, 1, 15, 2, 15]>>"
#define COMMON      "<<{2: [[h'00']], 4: " SHARED "}>>"
#define MAN(extra)  "{1: 1, 2: 7, 3: " COMMON ", 9: <<[23, 2]>>" extra "}"
#define INSTALL_SEQ "<<[20, {21: \"http://example.com/x.bin\"}, 21, 2]>>"
#define OTHER_SEQ   "<<[20, {21: \"http://example.com/y.bin\"}, 21, 2]>>"

/* How the authentication wrapper ($0) of a row is made. */
enum {
    A_GOOD = 0,
    A_UNWRAPPED, /* digest over the manifest without its bstr head */
    A_ALG43,     /* digest algorithm -43 (SHA-384) */
    A_NOBLOCK,   /* digest only */
    A_OTHER_KEY, /* signed by a key the device does not trust */
    A_CORRUPT    /* digest bytes wrong (and signed as such) */
};

typedef struct {
    const char *name;
    const char *env;      /* envelope, diag; $0..$6 as below */
    const char *manifest; /* diag; "@D" = digest of $5 (hex) */
    int auth;
    int want;
    dsuit_suit_stage_t stage; /* checked when not NONE */
} env_row_t;

/*
 * $0 auth wrapper as the row says   $1 the bstr-wrapped manifest
 * $2 the digest item (bstr)         $3 a good COSE block (bstr)
 * $4 a COSE block by another key    $5 the install member (INSTALL_SEQ)
 * $6 another member (OTHER_SEQ)
 */
#define ENV_OK "107({2: $0, 3: $1})"

static const env_row_t ENV_ROWS[] = {
    {"well-formed control", ENV_OK, MAN(""), A_GOOD, DSUIT_OK},
    {"untagged envelope", "{2: $0, 3: $1}", MAN(""), A_GOOD, DSUIT_OK},
    {"severable install matching its digest", "107({2: $0, 3: $1, 20: $5})",
     MAN(", 20: [-16, h'@D']"), A_GOOD, DSUIT_OK},
    {"severed install", ENV_OK, MAN(", 20: [-16, h'@D']"), A_GOOD, DSUIT_OK},
    {"second block verifies after a bad first",
     "107({2: <<[$2, $4, $3]>>, 3: $1})", MAN(""), A_GOOD, DSUIT_OK},
    {"unknown envelope extension key", "107({2: $0, 3: $1, 99: h'00'})",
     MAN(""), A_GOOD, DSUIT_OK},

    {"manifest before the authentication wrapper", "107({3: $1, 2: $0})",
     MAN(""), A_GOOD, DSUIT_E_SUIT_MALFORMED, DSUIT_SUIT_STAGE_DECODE},
    {"digest over the unwrapped manifest", ENV_OK, MAN(""), A_UNWRAPPED,
     DSUIT_E_DIGEST, DSUIT_SUIT_STAGE_AUTH},
    {"digest bytes wrong", ENV_OK, MAN(""), A_CORRUPT, DSUIT_E_DIGEST,
     DSUIT_SUIT_STAGE_AUTH},
    {"digest algorithm -43", ENV_OK, MAN(""), A_ALG43, DSUIT_E_ALG,
     DSUIT_SUIT_STAGE_AUTH},
    {"no authentication block", ENV_OK, MAN(""), A_NOBLOCK,
     DSUIT_E_SUIT_NOAUTH},
    {"signed by an untrusted key", ENV_OK, MAN(""), A_OTHER_KEY,
     DSUIT_E_SIGNATURE, DSUIT_SUIT_STAGE_AUTH},
    {"only a block by an untrusted key", "107({2: <<[$2, $4]>>, 3: $1})",
     MAN(""), A_GOOD, DSUIT_E_SIGNATURE, DSUIT_SUIT_STAGE_AUTH},
    {"unknown COSE algorithm -35",
     "107({2: <<[$2, <<18([<<{1: -35}>>, {}, null, "
     "h'0101010101010101010101010101010101010101010101010101010101010101"
     "0101010101010101010101010101010101010101010101010101010101010101"
     "0101010101010101010101010101010101010101010101010101010101010101'])>>]"
     ">>, 3: $1})",
     MAN(""), A_GOOD, ANY_ERR, DSUIT_SUIT_STAGE_AUTH},
    {"COSE block with an attached payload",
     "107({2: <<[$2, <<18([<<{1: -7}>>, {}, h'00', h'"
     "0101010101010101010101010101010101010101010101010101010101010101"
     "0101010101010101010101010101010101010101010101010101010101010101'])"
     ">>]>>, 3: $1})",
     MAN(""), A_GOOD, ANY_ERR},
    {"more authentication blocks than DSUIT_SUIT_MAX_AUTH",
     "107({2: <<[$2, $4, $4, $4, $4, $3]>>, 3: $1})", MAN(""), A_GOOD,
     DSUIT_E_LIMIT},
    {"duplicate manifest key", "107({2: $0, 3: $1, 3: $1})", MAN(""), A_GOOD,
     DSUIT_E_CBOR_DUPKEY, DSUIT_SUIT_STAGE_DECODE},
    {"duplicate authentication wrapper key", "107({2: $0, 2: $0, 3: $1})",
     MAN(""), A_GOOD, DSUIT_E_CBOR_DUPKEY, DSUIT_SUIT_STAGE_DECODE},
    {"trailing byte after the envelope", "107({2: $0, 3: $1}), 0", MAN(""),
     A_GOOD, DSUIT_E_CBOR_TRAILING, DSUIT_SUIT_STAGE_DECODE},
    {"manifest as text", "107({2: $0, 3: \"manifest\"})", MAN(""), A_GOOD,
     DSUIT_E_SUIT_MALFORMED, DSUIT_SUIT_STAGE_DECODE},
    {"authentication wrapper as an array", "107({2: [$2, $3], 3: $1})", MAN(""),
     A_GOOD, DSUIT_E_SUIT_MALFORMED, DSUIT_SUIT_STAGE_DECODE},
    {"envelope is an array", "107([$0, $1])", MAN(""), A_GOOD,
     DSUIT_E_SUIT_MALFORMED},
    {"wrong tag", "108({2: $0, 3: $1})", MAN(""), A_GOOD, ANY_ERR},
    {"no manifest", "107({2: $0})", MAN(""), A_GOOD, DSUIT_E_SUIT_MALFORMED},
    {"no authentication wrapper", "107({3: $1})", MAN(""), A_GOOD, ANY_ERR},
    {"empty authentication wrapper", "107({2: <<[]>>, 3: $1})", MAN(""), A_GOOD,
     ANY_ERR},
    {"digest item not a bstr", "107({2: <<[[-16, h'00'], $3]>>, 3: $1})",
     MAN(""), A_GOOD, ANY_ERR},

    {"manifest version 2", ENV_OK,
     "{1: 2, 2: 7, 3: " COMMON ", 9: <<[23, 2]>>}", A_GOOD,
     DSUIT_E_SUIT_VERSION},
    {"manifest without version", ENV_OK, "{2: 7, 3: " COMMON "}", A_GOOD,
     DSUIT_E_SUIT_MALFORMED},
    {"manifest without sequence number", ENV_OK, "{1: 1, 3: " COMMON "}",
     A_GOOD, DSUIT_E_SUIT_MALFORMED},
    {"manifest without common", ENV_OK, "{1: 1, 2: 7, 9: <<[23, 2]>>}", A_GOOD,
     DSUIT_E_SUIT_MALFORMED},
    {"sequence number negative", ENV_OK, "{1: 1, 2: -1, 3: " COMMON "}", A_GOOD,
     ANY_ERR},
    {"manifest is an array", ENV_OK, "[1, 7]", A_GOOD, DSUIT_E_SUIT_MALFORMED},
    {"more components than DSUIT_MAX_COMPONENTS", ENV_OK,
     "{1: 1, 2: 7, 3: <<{2: [[h'00'], [h'01'], [h'02'], [h'03'], [h'04'], "
     "[h'05'], [h'06'], [h'07'], [h'08']], 4: " SHARED "}>>}",
     A_GOOD, DSUIT_E_LIMIT},
    /* The header's invariant after a decode: 1 <= n_components. */
    {"common without components", ENV_OK,
     "{1: 1, 2: 7, 3: <<{4: " SHARED "}>>}", A_GOOD, DSUIT_E_SUIT_MALFORMED},
    {"common with dependencies but no components", ENV_OK,
     "{1: 1, 2: 7, 3: <<{1: {0: {}}, 4: " SHARED "}>>}", A_GOOD,
     DSUIT_E_SUIT_MALFORMED},
    {"no components", ENV_OK, "{1: 1, 2: 7, 3: <<{2: [], 4: " SHARED "}>>}",
     A_GOOD, ANY_ERR},
    {"component identifier part not a bstr", ENV_OK,
     "{1: 1, 2: 7, 3: <<{2: [[0]], 4: " SHARED "}>>}", A_GOOD, ANY_ERR},
    {"unknown key in common", ENV_OK,
     "{1: 1, 2: 7, 3: <<{2: [[h'00']], 4: " SHARED ", 99: 0}>>}", A_GOOD,
     ANY_ERR},
    {"severable install not matching its digest", "107({2: $0, 3: $1, 20: $6})",
     MAN(", 20: [-16, h'@D']"), A_GOOD, DSUIT_E_DIGEST},
    {"install in the envelope, no digest in the manifest",
     "107({2: $0, 3: $1, 20: $5})", MAN(""), A_GOOD, DSUIT_E_SUIT_MALFORMED},
    {"install in the envelope and inline in the manifest",
     "107({2: $0, 3: $1, 20: $5})", MAN(", 20: " INSTALL_SEQ), A_GOOD,
     DSUIT_E_SUIT_MALFORMED},
    {"text in the envelope, no digest in the manifest",
     "107({2: $0, 3: $1, 23: $5})", MAN(""), A_GOOD, DSUIT_E_SUIT_MALFORMED},
    {"severable digest of the wrong algorithm", "107({2: $0, 3: $1, 20: $5})",
     MAN(", 20: [-43, h'@D']"), A_GOOD, ANY_ERR},
    {"unknown manifest key", ENV_OK, MAN(", 99: 0"), A_GOOD, ANY_ERR},
    {"manifest keys out of canonical order", ENV_OK,
     "{2: 7, 1: 1, 3: " COMMON ", 9: <<[23, 2]>>}", A_GOOD, DSUIT_E_CBOR_ORDER},
    {"duplicate manifest key inside the manifest", ENV_OK,
     "{1: 1, 2: 7, 2: 8, 3: " COMMON ", 9: <<[23, 2]>>}", A_GOOD,
     DSUIT_E_CBOR_DUPKEY},
    {"trailing byte inside the manifest bstr", ENV_OK, MAN("") ", 0", A_GOOD,
     DSUIT_E_CBOR_TRAILING},
    {"validate is not a bstr", ENV_OK,
     "{1: 1, 2: 7, 3: " COMMON ", 7: [3, 15]}", A_GOOD, DSUIT_E_SUIT_MALFORMED},
};

static void hexify(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* Replace every "@D" of src by hex (64 characters). */
static void subst_digest(const char *src, const char *hex, char *out,
                         size_t cap)
{
    size_t n = 0;
    for (const char *p = src; *p != '\0'; p++) {
        if (p[0] == '@' && p[1] == 'D') {
            if (n + 64 >= cap)
                fail_msg("subst_digest: too long");
            memcpy(out + n, hex, 64);
            n += 64;
            p++;
            continue;
        }
        if (n + 1 >= cap)
            fail_msg("subst_digest: too long");
        out[n++] = *p;
    }
    out[n] = '\0';
}

static void cose_block(const dsuit_key_t *key, const uint8_t *item,
                       size_t item_len, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    uint8_t blk[256], scratch[512];
    size_t blk_len;
    dsuit_cose_opts_t o = {.kind = DSUIT_COSE_SIGN1,
                           .alg = DSUIT_COSE_ALG_ES256,
                           .tagged = 1,
                           .detached = 1};
    EXPECT_OK(dsuit_cose_create(&o, key, item, item_len, NULL, 0, scratch,
                                sizeof scratch, blk, sizeof blk, &blk_len));
    tv_raw_t r = {blk, blk_len};
    *out_len = tv_diag("<<$0>>", &r, 1, out, cap);
}

/* Build the envelope of a row into out. */
static size_t build_row(const env_row_t *row, uint8_t *out, size_t cap)
{
    static uint8_t man[2048], wrapped[2100], auth[1024], item_b[128], good[320],
        bad[320], m5[256], m6[256];
    char man_diag[2048], hex[65];
    size_t man_len, wrapped_len, auth_len, item_len, good_len, bad_len, m5_len,
        m6_len;
    uint8_t d[DSUIT_SHA256_LEN], item[100];

    m5_len = tv_diag(INSTALL_SEQ, NULL, 0, m5, sizeof m5);
    m6_len = tv_diag(OTHER_SEQ, NULL, 0, m6, sizeof m6);
    EXPECT_OK(dsuit_sha256(m5, m5_len, d));
    hexify(d, sizeof d, hex);
    subst_digest(row->manifest, hex, man_diag, sizeof man_diag);
    man_len = tv_diag(man_diag, NULL, 0, man, sizeof man);
    tv_raw_t mr = {man, man_len};
    wrapped_len = tv_diag("<<$0>>", &mr, 1, wrapped, sizeof wrapped);

    tv_suit_auth_opts_t o = {.key = &k_gen};
    if (row->auth == A_UNWRAPPED)
        o.digest_unwrapped = 1;
    if (row->auth == A_ALG43)
        o.digest_alg = -43;
    if (row->auth == A_NOBLOCK)
        o.key = NULL;
    if (row->auth == A_OTHER_KEY)
        o.key = &k_other;
    if (row->auth == A_CORRUPT)
        o.corrupt_digest = 1;
    auth_len = tv_suit_auth(man, man_len, &o, auth, sizeof auth);

    /* The correct digest item, and blocks over it. */
    EXPECT_OK(dsuit_sha256(wrapped, wrapped_len, d));
    hexify(d, sizeof d, hex);
    char item_diag[100];
    snprintf(item_diag, sizeof item_diag, "[-16, h'%s']", hex);
    item_len = tv_diag(item_diag, NULL, 0, item, sizeof item);
    tv_raw_t ir = {item, item_len};
    size_t ib_len = tv_diag("<<$0>>", &ir, 1, item_b, sizeof item_b);
    cose_block(&k_gen, item, item_len, good, sizeof good, &good_len);
    cose_block(&k_other, item, item_len, bad, sizeof bad, &bad_len);

    tv_raw_t raw[7] = {{auth, auth_len}, {wrapped, wrapped_len},
                       {item_b, ib_len}, {good, good_len},
                       {bad, bad_len},   {m5, m5_len},
                       {m6, m6_len}};
    return tv_diag(row->env, raw, 7, out, cap);
}

/* Every row runs; each mismatch is printed, then the test fails once. */
static void suit_parse_gives_the_contract_error_for_each_defect(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    size_t bad = 0;
    for (size_t i = 0; i < sizeof ENV_ROWS / sizeof ENV_ROWS[0]; i++) {
        const env_row_t *row = &ENV_ROWS[i];
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err;
        size_t len = build_row(row, buf, sizeof buf);
        /* An exact-size copy, so ASan sees reads past the end. */
        uint8_t *copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, buf, len);
        memset(&err, 0, sizeof err);
        int rc = dsuit_suit_parse(copy, len, &k_gen, 1, &env, &err);
        free(copy);
        if (row->want == ANY_ERR ? rc == DSUIT_OK : rc != row->want) {
            print_error("row '%s': got %s (%s), want %s\n", row->name,
                        dsuit_err_name(rc), err.reason ? err.reason : "-",
                        row->want == ANY_ERR ? "an error"
                                             : dsuit_err_name(row->want));
            bad++;
        } else if (rc != DSUIT_OK && err.reason == NULL) {
            print_error("row '%s': %s without a reason\n", row->name,
                        dsuit_err_name(rc));
            bad++;
        } else if (rc != DSUIT_OK && row->stage != DSUIT_SUIT_STAGE_NONE &&
                   err.stage != row->stage) {
            print_error("row '%s': stage %s, want %s\n", row->name,
                        dsuit_suit_stage_name(err.stage),
                        dsuit_suit_stage_name(row->stage));
            bad++;
        }
    }
    if (bad != 0)
        fail_msg("%zu of %zu rows did not give the expected result", bad,
                 sizeof ENV_ROWS / sizeof ENV_ROWS[0]);
}

static void suit_parse_tells_member_states_of_built_envelopes(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    dsuit_suit_envelope_t env;
    size_t len;
    /* rows 2 and 3: install verified, then severed */
    len = build_row(&ENV_ROWS[2], buf, sizeof buf);
    EXPECT_OK(dsuit_suit_parse(buf, len, &k_gen, 1, &env, NULL));
    assert_int_equal(env.members[DSUIT_SUIT_SEV_INSTALL].state,
                     DSUIT_SUIT_MEMBER_VERIFIED);
    assert_true(contains(env.members[DSUIT_SUIT_SEV_INSTALL].body,
                         "http://example.com/x.bin"));
    len = build_row(&ENV_ROWS[3], buf, sizeof buf);
    EXPECT_OK(dsuit_suit_parse(buf, len, &k_gen, 1, &env, NULL));
    assert_int_equal(env.members[DSUIT_SUIT_SEV_INSTALL].state,
                     DSUIT_SUIT_MEMBER_SEVERED);
    /* row 4: the second block verified */
    len = build_row(&ENV_ROWS[4], buf, sizeof buf);
    EXPECT_OK(dsuit_suit_parse(buf, len, &k_gen, 1, &env, NULL));
    assert_int_equal(env.auth_index, 1);
    /* row 1: untagged */
    len = build_row(&ENV_ROWS[1], buf, sizeof buf);
    EXPECT_OK(dsuit_suit_parse(buf, len, &k_gen, 1, &env, NULL));
    assert_false(env.tagged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suit_envelope_decode_accepts_every_official_envelope),
        cmocka_unit_test(
            suit_parse_authenticates_every_signed_vector_with_spec_key),
        cmocka_unit_test(suit_parse_rejects_every_unsigned_variant_with_noauth),
        cmocka_unit_test(suit_parse_gives_component_ids_of_example4),
        cmocka_unit_test(
            suit_parse_verifies_example2_members_against_their_digests),
        cmocka_unit_test(
            suit_parse_reports_example2_severed_members_as_severed),
        cmocka_unit_test(
            suit_parse_keeps_the_integrated_dependency_of_trust_domains),
        cmocka_unit_test(
            suit_authenticate_es_ecdh_dependency_needs_its_own_signer),
        cmocka_unit_test(suit_authenticate_aes_kw_envelopes_with_the_hmac_key),
        cmocka_unit_test(
            suit_authenticate_refuses_wrong_key_no_key_and_small_scratch),
        cmocka_unit_test(
            suit_manifest_decode_refuses_an_unauthenticated_envelope),
        cmocka_unit_test(suit_names_follow_the_header),
        cmocka_unit_test(suit_command_names_are_the_drafts_without_prefix),
        cmocka_unit_test(
            suit_parse_refuses_truncated_and_flipped_signed_vectors),
        cmocka_unit_test(suit_parse_gives_the_contract_error_for_each_defect),
        cmocka_unit_test(suit_parse_tells_member_states_of_built_envelopes),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
