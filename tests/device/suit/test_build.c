/*
 * Tests of the SUIT builder (include/dsuit/suit_build.h): manifests and
 * envelopes made from descriptions must round-trip through the device-side
 * processor (dsuit_suit_parse + dsuit_suit_check), be deterministic, match
 * the draft's Example 0 byte for byte where the template is the same, and
 * sign and sever existing envelopes without touching what the signatures
 * cover. Bad descriptions and bad envelopes are tables of (input, error).
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
#include "dsuit/suit_build.h"
#include "vectors.h"

#define ENV_MAX 4096

#define SPEC_PUB  "suit/keys/spec-es256-p256-public.pem"
#define SPEC_PRIV "suit/keys/spec-es256-p256-private.TEST-ONLY.pem"
#define EXAMPLE0  "suit/manifest-37/example0.cbor"

static void expect_rc(const char *what, int got, int want)
{
    if (got != want)
        fail_msg("%s: got %s (%d), want %s (%d)", what, dsuit_err_name(got),
                 got, dsuit_err_name(want), want);
}

#define EXPECT(call, want) expect_rc(#call, (call), (want))
#define EXPECT_OK(call)    expect_rc(#call, (call), DSUIT_OK)

static dsuit_key_t k_p256, k_p256b, k_ed;

static int group_setup(void **state)
{
    (void)state;
    if (dsuit_key_generate(DSUIT_KEY_P256, &k_p256) != DSUIT_OK ||
        dsuit_key_generate(DSUIT_KEY_P256, &k_p256b) != DSUIT_OK ||
        dsuit_key_generate(DSUIT_KEY_ED25519, &k_ed) != DSUIT_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    dsuit_key_wipe(&k_p256);
    dsuit_key_wipe(&k_p256b);
    dsuit_key_wipe(&k_ed);
    return 0;
}

/* ---- descriptions ---------------------------------------------------------
 */

static const uint8_t VENDOR[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                   0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                   0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t CLASS[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                  0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                  0x51, 0xf2, 0xab, 0x45};
static const uint8_t OTHER_CLASS[16] = {0x01};
static const uint8_t ID_BYTES[] = {0x00, 0x01, 0x02, 'x'};

/* Example 0's description: one component [h'00'], validate + invoke. */
static void desc_example0(dsuit_suit_build_desc_t *d)
{
    dsuit_suit_build_component_t *c = &d->components[0];
    dsuit_suit_build_desc_init(d);
    d->seq = 0;
    d->n_components = 1;
    c->id.n_parts = 1;
    c->id.parts[0].ptr = &ID_BYTES[0];
    c->id.parts[0].len = 1;
    memcpy(c->vendor_id, VENDOR, 16);
    memcpy(c->class_id, CLASS, 16);
    tv_hex("00112233445566778899aabbccddeeff"
           "0123456789abcdeffedcba9876543210",
           c->image_digest, sizeof c->image_digest);
    c->image_size = 34768;
    d->sequences = DSUIT_SUIT_BUILD_VALIDATE | DSUIT_SUIT_BUILD_INVOKE;
}

/*
 * n components (1 or 3), each with a uri (so install is emitted), text for
 * the manifest and every component, and the chosen members severable. With
 * three, the identifiers are given out of canonical order ([h'02'],
 * [h'00', 'x'], [h'01']) so that the text map has to sort them.
 */
static void desc_full(dsuit_suit_build_desc_t *d, size_t n, unsigned severable)
{
    static const char *uris[3] = {"http://example.com/a.bin",
                                  "http://example.com/b.bin",
                                  "coaps://example.com/c.bin"};
    desc_example0(d);
    d->seq = 7;
    d->n_components = n;
    d->sequences = DSUIT_SUIT_BUILD_VALIDATE | DSUIT_SUIT_BUILD_INSTALL |
                   DSUIT_SUIT_BUILD_INVOKE;
    d->invoke_component = n - 1;
    d->description = "test manifest";
    d->reference_uri = "https://example.com/full.suit";
    d->severable = severable;
    for (size_t i = 0; i < n; i++) {
        dsuit_suit_build_component_t *c = &d->components[i];
        if (i > 0)
            *c = d->components[0];
        c->image_digest[0] = (uint8_t)i;
        c->image_size = 1000 + i;
        c->uri = uris[i];
        c->text.vendor_name = "ACME";
        c->text.model_name = "widget";
        c->text.version = "1.0";
    }
    if (n == 3) {
        d->components[0].id.parts[0].ptr = &ID_BYTES[2];
        d->components[1].id.n_parts = 2;
        d->components[1].id.parts[1].ptr = &ID_BYTES[3];
        d->components[1].id.parts[1].len = 1;
        d->components[2].id.parts[0].ptr = &ID_BYTES[1];
    }
}

static void profile_for(dsuit_suit_profile_t *p, const uint8_t *class_id)
{
    memset(p, 0, sizeof *p);
    p->vendor_id.ptr = VENDOR;
    p->vendor_id.len = 16;
    p->class_id.ptr = class_id;
    p->class_id.len = 16;
}

static size_t build_signed(const dsuit_suit_build_desc_t *d,
                           const dsuit_key_t *key, int64_t alg, uint8_t *out)
{
    dsuit_suit_build_signer_t sg = {.key = key, .alg = alg};
    size_t len = 0;
    EXPECT_OK(dsuit_suit_build_envelope(d, &sg, 1, out, ENV_MAX, &len));
    return len;
}

/* Parse with key, then check against the right profile. */
static void expect_accepted(const uint8_t *env, size_t len,
                            const dsuit_key_t *key, dsuit_suit_envelope_t *e)
{
    dsuit_suit_error_t err;
    dsuit_suit_profile_t prof;
    int rc = dsuit_suit_parse(env, len, key, 1, e, &err);
    if (rc != DSUIT_OK)
        fail_msg("parse: %s: %s: %s", dsuit_err_name(rc),
                 dsuit_suit_stage_name(err.stage), err.reason);
    profile_for(&prof, CLASS);
    rc = dsuit_suit_check(e, &prof, &err);
    if (rc != DSUIT_OK)
        fail_msg("check: %s: %s: %s (section %lld offset %zu)",
                 dsuit_err_name(rc), dsuit_suit_stage_name(err.stage),
                 err.reason, (long long)err.section, err.offset);
}

/* ---- Example 0 --------------------------------------------------------------
 */

static void build_manifest_matches_example0_byte_for_byte(void **state)
{
    (void)state;
    static uint8_t vec[ENV_MAX], man[ENV_MAX];
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t env;
    size_t vlen, mlen;

    tv_read(EXAMPLE0, vec, sizeof vec, &vlen);
    EXPECT_OK(dsuit_suit_envelope_decode(vec, vlen, &env, NULL));
    desc_example0(&d);
    EXPECT_OK(dsuit_suit_build_manifest(&d, man, sizeof man, &mlen));
    assert_int_equal(mlen, env.manifest.len);
    assert_memory_equal(man, env.manifest.ptr, mlen);
}

static void
build_envelope_of_example0_has_the_spec_digest_and_verifies(void **state)
{
    (void)state;
    static uint8_t vec[ENV_MAX], out[ENV_MAX];
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t want, got;
    dsuit_key_t priv, pub;
    size_t vlen, len;

    tv_read(EXAMPLE0, vec, sizeof vec, &vlen);
    EXPECT_OK(dsuit_suit_envelope_decode(vec, vlen, &want, NULL));
    tv_key_pem(SPEC_PRIV, &priv);
    tv_key_pem(SPEC_PUB, &pub);
    desc_example0(&d);
    len = build_signed(&d, &priv, 0, out);
    expect_accepted(out, len, &pub, &got);
    /* Same manifest, so the same SUIT_Digest as the draft's. */
    assert_int_equal(got.digest_item.len, want.digest_item.len);
    assert_memory_equal(got.digest_item.ptr, want.digest_item.ptr,
                        want.digest_item.len);
    assert_int_equal(got.auth_alg, DSUIT_COSE_ALG_ES256);
    /* The draft's ECDSA signature was not made with RFC 6979 nonces, so
     * only the lengths agree: 237 bytes. */
    assert_int_equal(len, vlen);
    dsuit_key_wipe(&priv);
}

/* ---- round trips ------------------------------------------------------------
 */

static void round_trip(const dsuit_key_t *key, int64_t alg, size_t n,
                       unsigned severable)
{
    static uint8_t out[ENV_MAX];
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;
    size_t len;

    desc_full(&d, n, severable);
    len = build_signed(&d, key, alg, out);
    expect_accepted(out, len, key, &e);
    assert_int_equal(e.seq, 7);
    assert_int_equal(e.n_components, n);
    assert_int_equal(e.auth_alg, alg != 0 ? alg
                                 : key->type == DSUIT_KEY_ED25519
                                     ? DSUIT_COSE_ALG_EDDSA
                                     : DSUIT_COSE_ALG_ES256);
    assert_int_equal(e.reference_uri.len, strlen(d.reference_uri));
    assert_int_equal(e.members[DSUIT_SUIT_SEV_INSTALL].state,
                     (severable & DSUIT_SUIT_BUILD_MEMBER_INSTALL)
                         ? DSUIT_SUIT_MEMBER_VERIFIED
                         : DSUIT_SUIT_MEMBER_INLINE);
    assert_int_equal(e.members[DSUIT_SUIT_SEV_TEXT].state,
                     (severable & DSUIT_SUIT_BUILD_MEMBER_TEXT)
                         ? DSUIT_SUIT_MEMBER_VERIFIED
                         : DSUIT_SUIT_MEMBER_INLINE);
    assert_int_equal(e.members[DSUIT_SUIT_SEV_PAYLOAD_FETCH].state,
                     DSUIT_SUIT_MEMBER_ABSENT);
    /* The text map is canonical, whatever order the components came in. */
    EXPECT_OK(dsuit_cbor_check(e.members[DSUIT_SUIT_SEV_TEXT].body.ptr,
                               e.members[DSUIT_SUIT_SEV_TEXT].body.len,
                               DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED, 0));
}

static void build_round_trips_es256_one_component_inline(void **state)
{
    (void)state;
    round_trip(&k_p256, 0, 1, 0);
}

static void build_round_trips_es256_three_components_severable(void **state)
{
    (void)state;
    round_trip(&k_p256, 0, 3,
               DSUIT_SUIT_BUILD_MEMBER_INSTALL | DSUIT_SUIT_BUILD_MEMBER_TEXT);
}

static void
build_round_trips_esp256_three_components_text_severable(void **state)
{
    (void)state;
    round_trip(&k_p256, DSUIT_COSE_ALG_ESP256, 3, DSUIT_SUIT_BUILD_MEMBER_TEXT);
}

static void
build_round_trips_eddsa_one_component_install_severable(void **state)
{
    (void)state;
    round_trip(&k_ed, 0, 1, DSUIT_SUIT_BUILD_MEMBER_INSTALL);
}

static void build_round_trips_ed25519_three_components_inline(void **state)
{
    (void)state;
    round_trip(&k_ed, DSUIT_COSE_ALG_ED25519, 3, 0);
}

/* First command code of a command sequence. */
static int64_t first_command(dsuit_bytes_t seq)
{
    dsuit_cbor_dec_t d;
    size_t n;
    int64_t code = -1;
    dsuit_cbor_dec_init(&d, seq.ptr, seq.len, 0);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK || n < 2 ||
        dsuit_cbor_get_int(&d, &code) != DSUIT_OK)
        return -1;
    return code;
}

static void
build_starts_every_sequence_with_set_component_index_when_many(void **state)
{
    (void)state;
    static uint8_t out[ENV_MAX];
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;
    size_t len;

    desc_full(&d, 3, DSUIT_SUIT_BUILD_MEMBER_INSTALL);
    len = build_signed(&d, &k_p256, 0, out);
    expect_accepted(out, len, &k_p256, &e);
    assert_int_equal(first_command(e.shared_seq), 12);
    assert_int_equal(first_command(e.validate), 12);
    assert_int_equal(first_command(e.invoke), 12);
    assert_int_equal(first_command(e.members[DSUIT_SUIT_SEV_INSTALL].body), 12);

    /* With one component, no set-component-index at all. */
    desc_full(&d, 1, 0);
    len = build_signed(&d, &k_p256, 0, out);
    expect_accepted(out, len, &k_p256, &e);
    assert_int_equal(first_command(e.shared_seq), 20);
    assert_int_equal(first_command(e.validate), 3);
    assert_int_equal(first_command(e.invoke), 23);
}

static void build_is_deterministic(void **state)
{
    (void)state;
    static uint8_t a[ENV_MAX], b[ENV_MAX];
    const dsuit_key_t *keys[] = {&k_p256, &k_ed};
    dsuit_suit_build_desc_t d;

    for (size_t k = 0; k < 2; k++) {
        size_t la, lb;
        desc_full(&d, 3, DSUIT_SUIT_BUILD_MEMBER_TEXT);
        la = build_signed(&d, keys[k], 0, a);
        desc_full(&d, 3, DSUIT_SUIT_BUILD_MEMBER_TEXT);
        lb = build_signed(&d, keys[k], 0, b);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
    }
}

static void build_rejected_for_a_device_of_another_class(void **state)
{
    (void)state;
    static uint8_t out[ENV_MAX];
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;
    dsuit_suit_profile_t prof;
    dsuit_suit_error_t err;
    size_t len;

    desc_full(&d, 1, 0);
    len = build_signed(&d, &k_p256, 0, out);
    EXPECT_OK(dsuit_suit_parse(out, len, &k_p256, 1, &e, &err));
    profile_for(&prof, OTHER_CLASS);
    EXPECT(dsuit_suit_check(&e, &prof, &err), DSUIT_E_SUIT_CONDITION);
    assert_int_equal(err.stage, DSUIT_SUIT_STAGE_SHARED);
}

static void build_with_two_signers_verifies_under_either_key(void **state)
{
    (void)state;
    static uint8_t out[ENV_MAX];
    dsuit_suit_build_signer_t sg[2] = {{.key = &k_p256}, {.key = &k_ed}};
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;
    size_t len;

    desc_full(&d, 1, DSUIT_SUIT_BUILD_MEMBER_TEXT);
    EXPECT_OK(dsuit_suit_build_envelope(&d, sg, 2, out, sizeof out, &len));
    expect_accepted(out, len, &k_p256, &e);
    assert_int_equal(e.n_auth, 2);
    assert_int_equal(e.auth_index, 0);
    expect_accepted(out, len, &k_ed, &e);
    assert_int_equal(e.auth_index, 1);
    EXPECT(dsuit_suit_parse(out, len, &k_p256b, 1, &e, NULL),
           DSUIT_E_SIGNATURE);
}

static void build_puts_a_kid_in_the_unprotected_header(void **state)
{
    (void)state;
    static uint8_t out[ENV_MAX];
    static const uint8_t kid[] = {'k', 'e', 'y', '-', '1'};
    dsuit_suit_build_signer_t sg = {
        .key = &k_ed, .kid = kid, .kid_len = sizeof kid};
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;
    dsuit_cose_msg_t msg;
    size_t len;

    desc_example0(&d);
    EXPECT_OK(dsuit_suit_build_envelope(&d, &sg, 1, out, sizeof out, &len));
    expect_accepted(out, len, &k_ed, &e);
    EXPECT_OK(dsuit_cose_parse(e.auth_blocks[0].ptr, e.auth_blocks[0].len,
                               DSUIT_COSE_SIGN1, &msg));
    assert_true(msg.tagged);
    assert_null(msg.payload);
    assert_int_equal(msg.kid_len, sizeof kid);
    assert_memory_equal(msg.kid, kid, sizeof kid);
}

/* ---- sizes ------------------------------------------------------------------
 */

static void build_reports_the_size_needed_when_out_is_too_small(void **state)
{
    (void)state;
    static uint8_t out[ENV_MAX], small[ENV_MAX];
    dsuit_suit_build_signer_t sg = {.key = &k_p256};
    dsuit_suit_build_desc_t d;
    size_t need = 0, len = 0, got = 0;

    desc_full(&d, 3,
              DSUIT_SUIT_BUILD_MEMBER_INSTALL | DSUIT_SUIT_BUILD_MEMBER_TEXT);
    EXPECT(dsuit_suit_build_envelope(&d, &sg, 1, NULL, 0, &need),
           DSUIT_E_LIMIT);
    EXPECT_OK(dsuit_suit_build_envelope(&d, &sg, 1, out, sizeof out, &len));
    assert_int_equal(need, len);
    memset(small, 0xee, sizeof small);
    EXPECT(dsuit_suit_build_envelope(&d, &sg, 1, small, len - 1, &got),
           DSUIT_E_LIMIT);
    assert_int_equal(got, len);
    assert_int_equal(small[0], 0xee); /* nothing written */
    EXPECT_OK(dsuit_suit_build_envelope(&d, &sg, 1, small, len, &got));
    assert_memory_equal(small, out, len);

    EXPECT(dsuit_suit_build_manifest(&d, NULL, 0, &need), DSUIT_E_LIMIT);
    EXPECT_OK(dsuit_suit_build_manifest(&d, out, sizeof out, &len));
    assert_int_equal(need, len);
    EXPECT(dsuit_suit_build_unsigned(&d, NULL, 0, &need), DSUIT_E_LIMIT);
    EXPECT_OK(dsuit_suit_build_unsigned(&d, out, need, &len));
    assert_int_equal(need, len);
}

/* ---- bad descriptions -------------------------------------------------------
 */

enum {
    BAD_NO_COMPONENTS,
    BAD_TOO_MANY_COMPONENTS,
    BAD_INVOKE_INDEX,
    BAD_INSTALL_WITHOUT_URI,
    BAD_DUPLICATE_ID,
    BAD_EMPTY_ID,
    BAD_TOO_MANY_ID_PARTS,
    BAD_NULL_ID_PART,
    BAD_ID_TOO_LONG,
    BAD_UTF8_TEXT,
    BAD_UTF8_URI,
    BAD_EMPTY_LANG,
    BAD_UNKNOWN_SEQUENCE
};

static const struct {
    const char *name;
    int defect;
    int want;
} bad_descs[] = {
    {"no components", BAD_NO_COMPONENTS, DSUIT_E_INVAL},
    {"too many components", BAD_TOO_MANY_COMPONENTS, DSUIT_E_INVAL},
    {"invoke index past the components", BAD_INVOKE_INDEX, DSUIT_E_INVAL},
    {"install without any uri", BAD_INSTALL_WITHOUT_URI, DSUIT_E_INVAL},
    {"two components with one identifier", BAD_DUPLICATE_ID, DSUIT_E_INVAL},
    {"identifier without parts", BAD_EMPTY_ID, DSUIT_E_INVAL},
    {"identifier with too many parts", BAD_TOO_MANY_ID_PARTS, DSUIT_E_INVAL},
    {"identifier part NULL with a length", BAD_NULL_ID_PART, DSUIT_E_INVAL},
    {"identifier longer than the limit", BAD_ID_TOO_LONG, DSUIT_E_LIMIT},
    {"text not UTF-8", BAD_UTF8_TEXT, DSUIT_E_INVAL},
    {"uri not UTF-8", BAD_UTF8_URI, DSUIT_E_INVAL},
    {"empty language tag", BAD_EMPTY_LANG, DSUIT_E_INVAL},
    {"unknown sequence bit", BAD_UNKNOWN_SEQUENCE, DSUIT_E_INVAL},
};

static void make_bad(dsuit_suit_build_desc_t *d, int defect)
{
    static const uint8_t big[DSUIT_SUIT_BUILD_MAX_ID_LEN] = {0};
    desc_full(d, 3, 0);
    switch (defect) {
    case BAD_NO_COMPONENTS:
        d->n_components = 0;
        break;
    case BAD_TOO_MANY_COMPONENTS:
        d->n_components = DSUIT_MAX_COMPONENTS + 1;
        break;
    case BAD_INVOKE_INDEX:
        d->invoke_component = 3;
        break;
    case BAD_INSTALL_WITHOUT_URI:
        for (size_t i = 0; i < 3; i++)
            d->components[i].uri = NULL;
        break;
    case BAD_DUPLICATE_ID:
        d->components[2].id = d->components[0].id;
        break;
    case BAD_EMPTY_ID:
        d->components[1].id.n_parts = 0;
        break;
    case BAD_TOO_MANY_ID_PARTS:
        d->components[1].id.n_parts = DSUIT_SUIT_BUILD_MAX_ID_PARTS + 1;
        break;
    case BAD_NULL_ID_PART:
        d->components[1].id.parts[0].ptr = NULL;
        break;
    case BAD_ID_TOO_LONG:
        d->components[1].id.parts[0].ptr = big;
        d->components[1].id.parts[0].len = sizeof big;
        break;
    case BAD_UTF8_TEXT:
        d->components[2].text.model_name = "bad \xc3\x28";
        break;
    case BAD_UTF8_URI:
        d->components[0].uri = "http://\xff/";
        break;
    case BAD_EMPTY_LANG:
        d->text_lang = "";
        break;
    default:
        d->sequences |= 0x100;
        break;
    }
}

static void build_rejects_bad_descriptions(void **state)
{
    (void)state;
    static uint8_t out[ENV_MAX];
    dsuit_suit_build_signer_t sg = {.key = &k_p256};
    dsuit_suit_build_desc_t d;
    size_t len;

    for (size_t i = 0; i < sizeof bad_descs / sizeof bad_descs[0]; i++) {
        int got;
        len = 12345;
        make_bad(&d, bad_descs[i].defect);
        got = dsuit_suit_build_envelope(&d, &sg, 1, out, sizeof out, &len);
        if (got != bad_descs[i].want)
            fail_msg("envelope, %s: got %s, want %s", bad_descs[i].name,
                     dsuit_err_name(got), dsuit_err_name(bad_descs[i].want));
        assert_int_equal(len, 12345); /* not written on failure */
        got = dsuit_suit_build_manifest(&d, out, sizeof out, &len);
        if (got != bad_descs[i].want)
            fail_msg("manifest, %s: got %s, want %s", bad_descs[i].name,
                     dsuit_err_name(got), dsuit_err_name(bad_descs[i].want));
        got = dsuit_suit_build_unsigned(&d, out, sizeof out, &len);
        if (got != bad_descs[i].want)
            fail_msg("unsigned, %s: got %s, want %s", bad_descs[i].name,
                     dsuit_err_name(got), dsuit_err_name(bad_descs[i].want));
    }
}

static void build_rejects_bad_signers(void **state)
{
    (void)state;
    static uint8_t out[ENV_MAX];
    dsuit_suit_build_signer_t sg[DSUIT_SUIT_MAX_AUTH + 1];
    dsuit_suit_build_desc_t d;
    dsuit_key_t pub;
    size_t len;

    desc_example0(&d);
    for (size_t i = 0; i <= DSUIT_SUIT_MAX_AUTH; i++)
        sg[i] = (dsuit_suit_build_signer_t){.key = &k_p256};
    EXPECT(dsuit_suit_build_envelope(&d, sg, 0, out, sizeof out, &len),
           DSUIT_E_INVAL);
    EXPECT(dsuit_suit_build_envelope(&d, sg, DSUIT_SUIT_MAX_AUTH + 1, out,
                                     sizeof out, &len),
           DSUIT_E_INVAL);
    EXPECT(dsuit_suit_build_envelope(&d, NULL, 1, out, sizeof out, &len),
           DSUIT_E_INVAL);
    sg[0].key = NULL;
    EXPECT(dsuit_suit_build_envelope(&d, sg, 1, out, sizeof out, &len),
           DSUIT_E_INVAL);
    sg[0].key = &k_p256;
    sg[0].alg = DSUIT_COSE_ALG_EDDSA; /* does not fit a P-256 key */
    EXPECT(dsuit_suit_build_envelope(&d, sg, 1, out, sizeof out, &len),
           DSUIT_E_ALG);
    sg[0].alg = DSUIT_COSE_ALG_HMAC256;
    EXPECT(dsuit_suit_build_envelope(&d, sg, 1, out, sizeof out, &len),
           DSUIT_E_ALG);
    sg[0].alg = 0;
    EXPECT_OK(
        dsuit_key_set_public(&pub, DSUIT_KEY_P256, k_p256.pub, k_p256.pub_len));
    sg[0].key = &pub;
    EXPECT(dsuit_suit_build_envelope(&d, sg, 1, out, sizeof out, &len),
           DSUIT_E_KEY);
}

/* ---- unsigned, sign ---------------------------------------------------------
 */

static void build_unsigned_is_refused_by_the_device(void **state)
{
    (void)state;
    static uint8_t out[ENV_MAX];
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;
    dsuit_suit_error_t err;
    size_t len;

    desc_full(&d, 1, DSUIT_SUIT_BUILD_MEMBER_TEXT);
    EXPECT_OK(dsuit_suit_build_unsigned(&d, out, sizeof out, &len));
    EXPECT(dsuit_suit_parse(out, len, &k_p256, 1, &e, &err),
           DSUIT_E_SUIT_NOAUTH);
}

static void
build_sign_adds_a_verifiable_block_to_an_unsigned_envelope(void **state)
{
    (void)state;
    static uint8_t uns[ENV_MAX], one[ENV_MAX], two[ENV_MAX];
    dsuit_suit_build_signer_t a = {.key = &k_p256}, b = {.key = &k_ed};
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;
    size_t ul, l1, l2, need;

    desc_full(&d, 3, DSUIT_SUIT_BUILD_MEMBER_TEXT);
    EXPECT_OK(dsuit_suit_build_unsigned(&d, uns, sizeof uns, &ul));
    EXPECT_OK(dsuit_suit_build_sign(uns, ul, &a, one, sizeof one, &l1));
    /* Signing an unsigned envelope gives what build_envelope gives. */
    {
        static uint8_t direct[ENV_MAX];
        size_t dl;
        EXPECT_OK(
            dsuit_suit_build_envelope(&d, &a, 1, direct, sizeof direct, &dl));
        assert_int_equal(dl, l1);
        assert_memory_equal(direct, one, dl);
    }
    expect_accepted(one, l1, &k_p256, &e);
    EXPECT(dsuit_suit_build_sign(one, l1, &b, two, 10, &need), DSUIT_E_LIMIT);
    EXPECT_OK(dsuit_suit_build_sign(one, l1, &b, two, sizeof two, &l2));
    assert_int_equal(need, l2);
    expect_accepted(two, l2, &k_p256, &e);
    assert_int_equal(e.n_auth, 2);
    expect_accepted(two, l2, &k_ed, &e);
    assert_int_equal(e.auth_index, 1);
    /* The same key and algorithm again adds nothing. */
    EXPECT(dsuit_suit_build_sign(two, l2, &a, one, sizeof one, &l1),
           DSUIT_E_EXISTS);
}

static void build_sign_adds_a_second_signature_to_example0(void **state)
{
    (void)state;
    static uint8_t vec[ENV_MAX], out[ENV_MAX];
    dsuit_suit_build_signer_t sg = {.key = &k_p256b};
    dsuit_suit_envelope_t e;
    dsuit_key_t spec;
    size_t vlen, len;

    tv_read(EXAMPLE0, vec, sizeof vec, &vlen);
    tv_key_pem(SPEC_PUB, &spec);
    EXPECT_OK(dsuit_suit_build_sign(vec, vlen, &sg, out, sizeof out, &len));
    expect_accepted(out, len, &spec, &e);
    assert_int_equal(e.auth_index, 0);
    expect_accepted(out, len, &k_p256b, &e);
    assert_int_equal(e.auth_index, 1);
}

static void build_sign_refuses_when_the_digest_does_not_match(void **state)
{
    (void)state;
    static uint8_t env[ENV_MAX], out[ENV_MAX];
    dsuit_suit_build_signer_t sg = {.key = &k_p256};
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;
    size_t len, olen = 777;

    desc_example0(&d);
    EXPECT_OK(dsuit_suit_build_unsigned(&d, env, sizeof env, &len));
    /* The last byte is inside the manifest (invoke's reporting policy). */
    env[len - 1] ^= 0x01;
    EXPECT(dsuit_suit_build_sign(env, len, &sg, out, sizeof out, &olen),
           DSUIT_E_DIGEST);
    assert_int_equal(olen, 777);
    (void)e;
}

static void build_sign_refuses_a_fifth_block(void **state)
{
    (void)state;
    static uint8_t a[ENV_MAX], b[ENV_MAX];
    dsuit_suit_build_signer_t sg[DSUIT_SUIT_MAX_AUTH];
    dsuit_key_t keys[DSUIT_SUIT_MAX_AUTH + 1];
    dsuit_suit_build_signer_t extra;
    dsuit_suit_build_desc_t d;
    size_t len;

    for (size_t i = 0; i <= DSUIT_SUIT_MAX_AUTH; i++)
        EXPECT_OK(dsuit_key_generate(DSUIT_KEY_ED25519, &keys[i]));
    for (size_t i = 0; i < DSUIT_SUIT_MAX_AUTH; i++)
        sg[i] = (dsuit_suit_build_signer_t){.key = &keys[i]};
    desc_example0(&d);
    EXPECT_OK(dsuit_suit_build_envelope(&d, sg, DSUIT_SUIT_MAX_AUTH, a,
                                        sizeof a, &len));
    extra = (dsuit_suit_build_signer_t){.key = &keys[DSUIT_SUIT_MAX_AUTH]};
    EXPECT(dsuit_suit_build_sign(a, len, &extra, b, sizeof b, &len),
           DSUIT_E_LIMIT);
    for (size_t i = 0; i <= DSUIT_SUIT_MAX_AUTH; i++)
        dsuit_key_wipe(&keys[i]);
}

/* ---- sever ------------------------------------------------------------------
 */

static void
build_sever_leaves_a_valid_envelope_with_members_severed(void **state)
{
    (void)state;
    static uint8_t full[ENV_MAX], cut[ENV_MAX];
    const dsuit_key_t *keys[] = {&k_p256, &k_ed};
    dsuit_suit_build_desc_t d;
    dsuit_suit_envelope_t e;

    for (size_t k = 0; k < 2; k++) {
        size_t fl, cl;
        desc_full(&d, k == 0 ? 1 : 3,
                  DSUIT_SUIT_BUILD_MEMBER_INSTALL |
                      DSUIT_SUIT_BUILD_MEMBER_TEXT);
        fl = build_signed(&d, keys[k], 0, full);
        EXPECT_OK(dsuit_suit_build_sever(full, fl, DSUIT_SUIT_BUILD_MEMBER_TEXT,
                                         cut, sizeof cut, &cl));
        assert_true(cl < fl);
        expect_accepted(cut, cl, keys[k], &e);
        assert_int_equal(e.members[DSUIT_SUIT_SEV_TEXT].state,
                         DSUIT_SUIT_MEMBER_SEVERED);
        assert_int_equal(e.members[DSUIT_SUIT_SEV_INSTALL].state,
                         DSUIT_SUIT_MEMBER_VERIFIED);

        EXPECT_OK(dsuit_suit_build_sever(
            full, fl, DSUIT_SUIT_BUILD_ALL_SEVERABLE, cut, sizeof cut, &cl));
        expect_accepted(cut, cl, keys[k], &e);
        assert_int_equal(e.members[DSUIT_SUIT_SEV_TEXT].state,
                         DSUIT_SUIT_MEMBER_SEVERED);
        assert_int_equal(e.members[DSUIT_SUIT_SEV_INSTALL].state,
                         DSUIT_SUIT_MEMBER_SEVERED);
        /* Severing again changes nothing. */
        {
            static uint8_t again[ENV_MAX];
            size_t al;
            EXPECT_OK(dsuit_suit_build_sever(cut, cl,
                                             DSUIT_SUIT_BUILD_MEMBER_INSTALL,
                                             again, sizeof again, &al));
            assert_int_equal(al, cl);
            assert_memory_equal(again, cut, cl);
        }
    }
}

static void build_sever_refuses_inline_or_absent_members(void **state)
{
    (void)state;
    static uint8_t full[ENV_MAX], cut[ENV_MAX];
    dsuit_suit_build_desc_t d;
    size_t fl, cl = 555;

    desc_full(&d, 1, DSUIT_SUIT_BUILD_MEMBER_TEXT); /* install inline */
    fl = build_signed(&d, &k_p256, 0, full);
    EXPECT(dsuit_suit_build_sever(full, fl, DSUIT_SUIT_BUILD_MEMBER_INSTALL,
                                  cut, sizeof cut, &cl),
           DSUIT_E_NOTFOUND);
    EXPECT(dsuit_suit_build_sever(full, fl,
                                  DSUIT_SUIT_BUILD_MEMBER_PAYLOAD_FETCH, cut,
                                  sizeof cut, &cl),
           DSUIT_E_NOTFOUND);
    EXPECT(dsuit_suit_build_sever(full, fl, 0x40, cut, sizeof cut, &cl),
           DSUIT_E_INVAL);
    assert_int_equal(cl, 555);
    /* "All" with nothing severable copies the envelope unchanged. */
    desc_full(&d, 1, 0);
    fl = build_signed(&d, &k_p256, 0, full);
    EXPECT_OK(dsuit_suit_build_sever(full, fl, DSUIT_SUIT_BUILD_ALL_SEVERABLE,
                                     cut, sizeof cut, &cl));
    assert_int_equal(cl, fl);
    assert_memory_equal(cut, full, fl);
}

static void
build_sever_of_official_example2_matches_example2_severed(void **state)
{
    (void)state;
    static uint8_t full[ENV_MAX], want[ENV_MAX], cut[ENV_MAX];
    size_t fl, wl, cl;

    tv_read("suit/manifest-37/example2.cbor", full, sizeof full, &fl);
    tv_read("suit/manifest-37/example2-severed.cbor", want, sizeof want, &wl);
    EXPECT_OK(dsuit_suit_build_sever(full, fl, DSUIT_SUIT_BUILD_ALL_SEVERABLE,
                                     cut, sizeof cut, &cl));
    assert_int_equal(cl, wl);
    assert_memory_equal(cut, want, wl);
}

/* ---- malformed envelopes for sign and sever ---------------------------------
 */

static const struct {
    const char *name;
    const char *diag;
    int want;
} bad_envs[] = {
    {"empty", "", DSUIT_E_TRUNCATED},
    {"not a map", "107([1, 2])", DSUIT_E_SUIT_MALFORMED},
    {"no manifest", "107({2: <<[<<[-16, h'00']>>]>>})", DSUIT_E_SUIT_MALFORMED},
    {"no auth wrapper", "107({3: <<{1: 1}>>})", DSUIT_E_SUIT_MALFORMED},
    {"manifest before wrapper",
     "107({3: <<{1: 1}>>, 2: <<[<<[-16, h'00']>>]>>})", DSUIT_E_SUIT_MALFORMED},
    {"element not a bstr", "107({2: [1], 3: <<{1: 1}>>})",
     DSUIT_E_SUIT_MALFORMED},
    {"wrapper an empty array", "107({2: <<[]>>, 3: <<{1: 1}>>})",
     DSUIT_E_SUIT_MALFORMED},
    {"trailing bytes", "107({2: <<[<<[-16, h'00']>>]>>, 3: <<{1: 1}>>}), 0",
     DSUIT_E_CBOR_TRAILING},
    {"duplicate key",
     "107({2: <<[<<[-16, h'00']>>]>>, 2: <<[]>>, 3: <<{1: 1}>>})",
     DSUIT_E_CBOR_DUPKEY},
};

static void build_sign_and_sever_reject_malformed_envelopes(void **state)
{
    (void)state;
    static uint8_t in[ENV_MAX], out[ENV_MAX];
    dsuit_suit_build_signer_t sg = {.key = &k_p256};

    for (size_t i = 0; i < sizeof bad_envs / sizeof bad_envs[0]; i++) {
        size_t len = tv_diag(bad_envs[i].diag, NULL, 0, in, sizeof in), ol;
        int got = dsuit_suit_build_sign(in, len, &sg, out, sizeof out, &ol);
        if (got != bad_envs[i].want)
            fail_msg("sign, %s: got %s, want %s", bad_envs[i].name,
                     dsuit_err_name(got), dsuit_err_name(bad_envs[i].want));
        got = dsuit_suit_build_sever(in, len, DSUIT_SUIT_BUILD_ALL_SEVERABLE,
                                     out, sizeof out, &ol);
        if (got != bad_envs[i].want)
            fail_msg("sever, %s: got %s, want %s", bad_envs[i].name,
                     dsuit_err_name(got), dsuit_err_name(bad_envs[i].want));
    }
}

static void
build_sign_rejects_every_truncation_of_a_built_envelope(void **state)
{
    (void)state;
    static uint8_t env[ENV_MAX], out[ENV_MAX];
    dsuit_suit_build_signer_t sg = {.key = &k_ed};
    dsuit_suit_build_desc_t d;
    size_t len, ol;

    desc_full(&d, 1, DSUIT_SUIT_BUILD_MEMBER_TEXT);
    EXPECT_OK(dsuit_suit_build_unsigned(&d, env, sizeof env, &len));
    for (size_t n = 0; n < len; n++) {
        if (dsuit_suit_build_sign(env, n, &sg, out, sizeof out, &ol) ==
            DSUIT_OK)
            fail_msg("sign accepted the envelope cut to %zu of %zu bytes", n,
                     len);
        if (dsuit_suit_build_sever(env, n, DSUIT_SUIT_BUILD_ALL_SEVERABLE, out,
                                   sizeof out, &ol) == DSUIT_OK)
            fail_msg("sever accepted the envelope cut to %zu of %zu bytes", n,
                     len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build_manifest_matches_example0_byte_for_byte),
        cmocka_unit_test(
            build_envelope_of_example0_has_the_spec_digest_and_verifies),
        cmocka_unit_test(build_round_trips_es256_one_component_inline),
        cmocka_unit_test(build_round_trips_es256_three_components_severable),
        cmocka_unit_test(
            build_round_trips_esp256_three_components_text_severable),
        cmocka_unit_test(
            build_round_trips_eddsa_one_component_install_severable),
        cmocka_unit_test(build_round_trips_ed25519_three_components_inline),
        cmocka_unit_test(
            build_starts_every_sequence_with_set_component_index_when_many),
        cmocka_unit_test(build_is_deterministic),
        cmocka_unit_test(build_rejected_for_a_device_of_another_class),
        cmocka_unit_test(build_with_two_signers_verifies_under_either_key),
        cmocka_unit_test(build_puts_a_kid_in_the_unprotected_header),
        cmocka_unit_test(build_reports_the_size_needed_when_out_is_too_small),
        cmocka_unit_test(build_rejects_bad_descriptions),
        cmocka_unit_test(build_rejects_bad_signers),
        cmocka_unit_test(build_unsigned_is_refused_by_the_device),
        cmocka_unit_test(
            build_sign_adds_a_verifiable_block_to_an_unsigned_envelope),
        cmocka_unit_test(build_sign_adds_a_second_signature_to_example0),
        cmocka_unit_test(build_sign_refuses_when_the_digest_does_not_match),
        cmocka_unit_test(build_sign_refuses_a_fifth_block),
        cmocka_unit_test(
            build_sever_leaves_a_valid_envelope_with_members_severed),
        cmocka_unit_test(build_sever_refuses_inline_or_absent_members),
        cmocka_unit_test(
            build_sever_of_official_example2_matches_example2_severed),
        cmocka_unit_test(build_sign_and_sever_reject_malformed_envelopes),
        cmocka_unit_test(
            build_sign_rejects_every_truncation_of_a_built_envelope),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
