/*
 * Tests of the SUIT check pass, dsuit_suit_check() (include/dsuit/suit.h;
 * draft-ietf-suit-manifest-37 §6.1 setup, §6.2 required checks, §8.4.8
 * command sequences, §8.4.8.15 soft failure, §8.4.10.2 try-each), written
 * against the header contract as an independent check of
 * src/device/suit/check.c.
 *
 * - Every signed official example passes for a device with the examples'
 *   vendor and class; another vendor or class fails in the shared
 *   sequence; rollback and component-count limits fail in setup.
 * - A table of manifests built here from diagnostic notation and signed
 *   with a generated key (so they authenticate and decode, and only the
 *   row's defect can cause the refusal) gives for each defect the error,
 *   the stage, the section, and a reason.
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
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/suit.h"
#include "vectors.h"

#define ENV_MAX  8192
#define SPEC_PUB "suit/keys/spec-es256-p256-public.pem"

#define ANY_ERR 1

static const uint8_t VENDOR_ID[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                      0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                      0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t CLASS_ID[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                     0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                     0x51, 0xf2, 0xab, 0x45};
static const uint8_t DEVICE_ID[16] = {0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5,
                                      0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb,
                                      0xdc, 0xdd, 0xde, 0xdf};

static dsuit_key_t k_spec, k_gen;

static int group_setup(void **state)
{
    (void)state;
    return dsuit_key_generate(DSUIT_KEY_P256, &k_gen) == DSUIT_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    dsuit_key_wipe(&k_gen);
    return 0;
}

static dsuit_suit_profile_t profile(void)
{
    dsuit_suit_profile_t p;
    memset(&p, 0, sizeof p);
    p.vendor_id.ptr = VENDOR_ID;
    p.vendor_id.len = sizeof VENDOR_ID;
    p.class_id.ptr = CLASS_ID;
    p.class_id.len = sizeof CLASS_ID;
    return p;
}

static const char *const EXAMPLES[] = {
    "suit/manifest-37/example0.cbor", "suit/manifest-37/example1.cbor",
    "suit/manifest-37/example2.cbor", "suit/manifest-37/example2-severed.cbor",
    "suit/manifest-37/example3.cbor", "suit/manifest-37/example4.cbor",
    "suit/manifest-37/example5.cbor",
};
#define N_EXAMPLES (sizeof EXAMPLES / sizeof EXAMPLES[0])

/* Each example's buffer must outlive its envelope. */
static uint8_t bufs[N_EXAMPLES][2048];

static void load_example(size_t i, dsuit_suit_envelope_t *env)
{
    size_t len;
    tv_key_pem(SPEC_PUB, &k_spec);
    tv_read(EXAMPLES[i], bufs[i], sizeof bufs[i], &len);
    int rc = dsuit_suit_parse(bufs[i], len, &k_spec, 1, env, NULL);
    if (rc != DSUIT_OK)
        fail_msg("%s: parse gave %s", EXAMPLES[i], dsuit_err_name(rc));
}

static void expect_fail(const char *what, int rc, const dsuit_suit_error_t *e,
                        int want, dsuit_suit_stage_t stage)
{
    if (want == ANY_ERR ? rc == DSUIT_OK : rc != want)
        fail_msg("%s: got %s (%s), want %s", what, dsuit_err_name(rc),
                 e->reason ? e->reason : "-",
                 want == ANY_ERR ? "an error" : dsuit_err_name(want));
    if (rc == DSUIT_OK)
        return;
    if (e->reason == NULL)
        fail_msg("%s: %s without a reason", what, dsuit_err_name(rc));
    if (stage != DSUIT_SUIT_STAGE_NONE && e->stage != stage)
        fail_msg("%s: stage '%s', want '%s' (%s)", what,
                 dsuit_suit_stage_name(e->stage), dsuit_suit_stage_name(stage),
                 e->reason);
}

/* ------------------------------------------------------------------ */
/* The official examples                                              */
/* ------------------------------------------------------------------ */

static void
suit_check_accepts_every_signed_example_on_a_matching_device(void **state)
{
    (void)state;
    dsuit_suit_profile_t p = profile();
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err;
        load_example(i, &env);
        int rc = dsuit_suit_check(&env, &p, &err);
        if (rc != DSUIT_OK)
            fail_msg("%s: check gave %s (%s)", EXAMPLES[i], dsuit_err_name(rc),
                     err.reason ? err.reason : "-");
        /* err may be NULL */
        assert_int_equal(dsuit_suit_check(&env, &p, NULL), DSUIT_OK);
    }
}

static void
suit_check_refuses_another_vendor_or_class_in_the_shared_sequence(void **state)
{
    (void)state;
    uint8_t other[16];
    memset(other, 0x5a, sizeof other);
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err;
        dsuit_suit_profile_t p;
        load_example(i, &env);

        p = profile();
        p.vendor_id.ptr = other;
        expect_fail(EXAMPLES[i], dsuit_suit_check(&env, &p, &err), &err,
                    DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_SHARED);
        assert_int_equal(err.section, DSUIT_SUIT_SECTION_SHARED);

        p = profile();
        p.class_id.ptr = other;
        expect_fail(EXAMPLES[i], dsuit_suit_check(&env, &p, &err), &err,
                    DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_SHARED);

        /* An unknown identifier (len 0) cannot match either. */
        p = profile();
        p.vendor_id.len = 0;
        expect_fail(EXAMPLES[i], dsuit_suit_check(&env, &p, &err), &err,
                    DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_SHARED);
        p = profile();
        p.class_id.ptr = NULL;
        p.class_id.len = 0;
        expect_fail(EXAMPLES[i], dsuit_suit_check(&env, &p, &err), &err,
                    DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_SHARED);
        /* Vendor and class swapped. */
        p = profile();
        p.vendor_id.ptr = CLASS_ID;
        p.class_id.ptr = VENDOR_ID;
        expect_fail(EXAMPLES[i], dsuit_suit_check(&env, &p, &err), &err,
                    DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_SHARED);
    }
}

static void
suit_check_refuses_rollback_to_an_installed_sequence_number(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err;
        dsuit_suit_profile_t p = profile();
        load_example(i, &env);
        p.has_installed_seq = 1;
        p.installed_seq = 5;
        expect_fail(EXAMPLES[i], dsuit_suit_check(&env, &p, &err), &err,
                    DSUIT_E_ROLLBACK, DSUIT_SUIT_STAGE_SETUP);
        p.installed_seq = 4;
        int rc = dsuit_suit_check(&env, &p, &err);
        if (env.seq == 5)
            assert_int_equal(rc, DSUIT_OK);
        else
            expect_fail(EXAMPLES[i], rc, &err, DSUIT_E_ROLLBACK,
                        DSUIT_SUIT_STAGE_SETUP);
        /* Without an installed number there is no floor. */
        p.has_installed_seq = 0;
        assert_int_equal(dsuit_suit_check(&env, &p, NULL), DSUIT_OK);
    }
}

static void suit_check_refuses_more_components_than_the_device_has(void **state)
{
    (void)state;
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    dsuit_suit_profile_t p = profile();
    p.max_components = 2;
    load_example(5, &env); /* example4: 3 components */
    expect_fail("example4, 2 components", dsuit_suit_check(&env, &p, &err),
                &err, DSUIT_E_LIMIT, DSUIT_SUIT_STAGE_SETUP);
    p.max_components = 3;
    assert_int_equal(dsuit_suit_check(&env, &p, NULL), DSUIT_OK);
    p.max_components = 2;
    load_example(6, &env); /* example5: 2 components */
    assert_int_equal(dsuit_suit_check(&env, &p, NULL), DSUIT_OK);
    p.max_components = 1;
    expect_fail("example5, 1 component", dsuit_suit_check(&env, &p, &err), &err,
                DSUIT_E_LIMIT, DSUIT_SUIT_STAGE_SETUP);
}

static void suit_check_refuses_trust_domains_dependencies(void **state)
{
    (void)state;
    static uint8_t buf[2048];
    static const char *const files[] = {
        "suit/trust-domains/example1_process.cbor",
        "suit/trust-domains/example2_integrated.cbor"};
    tv_key_pem(SPEC_PUB, &k_spec);
    for (size_t i = 0; i < 2; i++) {
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err;
        dsuit_suit_profile_t p = profile();
        size_t len;
        tv_read(files[i], buf, sizeof buf, &len);
        assert_int_equal(dsuit_suit_parse(buf, len, &k_spec, 1, &env, NULL),
                         DSUIT_OK);
        assert_true(env.has_dependencies);
        expect_fail(files[i], dsuit_suit_check(&env, &p, &err), &err,
                    DSUIT_E_SUIT_UNSUPPORTED, DSUIT_SUIT_STAGE_NONE);
    }
}

static void suit_check_refuses_an_envelope_not_decoded(void **state)
{
    (void)state;
    dsuit_suit_envelope_t env;
    dsuit_suit_profile_t p = profile();
    static uint8_t buf[2048];
    size_t len;
    memset(&env, 0, sizeof env);
    assert_int_equal(dsuit_suit_check(&env, &p, NULL), DSUIT_E_INVAL);
    /* Decoded and authenticated, but the manifest itself not decoded. */
    tv_key_pem(SPEC_PUB, &k_spec);
    tv_read("suit/manifest-37/example0.cbor", buf, sizeof buf, &len);
    assert_int_equal(dsuit_suit_envelope_decode(buf, len, &env, NULL),
                     DSUIT_OK);
    assert_int_not_equal(dsuit_suit_check(&env, &p, NULL), DSUIT_OK);
}

/* ------------------------------------------------------------------ */
/* Built manifests: one defect each                                   */
/* ------------------------------------------------------------------ */

#define VENDOR "h'fa6b4a53d5ad5fdfbe9de663e4d41ffe'"
#define CLASS  "h'1492af1425695e48bf429b2d51f2ab45'"
#define DEVICE "h'd0d1d2d3d4d5d6d7d8d9dadbdcdddedf'"
#define IDS    "20, {1: " VENDOR ", 2: " CLASS "}"
#define CHECKS "1, 15, 2, 15"
#define SHARED "[" IDS ", " CHECKS "]"
#define DIGEST                                                                 \
    "<<[-16, h'00112233445566778899aabbccddeeff0123456789abcdeffedcba98765432" \
    "10']>>"

/* One component: common with the given shared sequence, then the given
 * sections (each "key: <<[...]>>", keys ascending). */
#define MAN1S(shared, sections)                                                \
    "{1: 1, 2: 1, 3: <<{2: [[h'00']], 4: <<" shared ">>}>>" sections "}"
#define MAN1(sections) MAN1S(SHARED, sections)
#define VAL(seq)       ", 7: <<" seq ">>"
#define INV(seq)       ", 9: <<" seq ">>"
#define INSTALL(seq)   ", 20: <<" seq ">>"
/* Two components. */
#define SHARED2 "[12, 0, " IDS ", " CHECKS "]"
#define MAN2S(shared, sections)                                                \
    "{1: 1, 2: 1, 3: <<{2: [[h'00'], [h'01']], 4: <<" shared ">>}>>" sections  \
    "}"
#define MAN2(sections) MAN2S(SHARED2, sections)

#define H15 "h'000102030405060708090a0b0c0d0e'"
#define SHA384_DIGEST                                                          \
    "<<[-43, h'000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0"  \
    "e0f000102030405060708090a0b0c0d0e0f']>>"

typedef struct {
    const char *name;
    const char *manifest;
    int want;
    dsuit_suit_stage_t stage;
    int64_t section; /* checked when the row fails and this is nonzero */
} check_row_t;

#define SH     DSUIT_SUIT_SECTION_SHARED
#define ST_SH  DSUIT_SUIT_STAGE_SHARED
#define ST_CMD DSUIT_SUIT_STAGE_COMMAND

static const check_row_t ROWS[] = {
    /* controls */
    {"well-formed", MAN1(VAL("[20, {3: " DIGEST "}, 3, 15]") INV("[23, 2]")),
     DSUIT_OK},
    {"soft-failure inside try-each",
     MAN1(VAL("[15, [<<[20, {13: false}, 3, 15]>>, <<[3, 15]>>]]")), DSUIT_OK},
    {"soft-failure inside run-sequence",
     MAN1(VAL("[32, <<[20, {13: true}, 3, 15]>>]")), DSUIT_OK},
    {"try-each with two sequences and nil last",
     MAN1(VAL("[15, [<<[3, 15]>>, <<[14, 15]>>, null]]")), DSUIT_OK},
    {"two components, every sequence sets the index",
     MAN2(VAL("[12, 1, 3, 15]") INV("[12, true, 23, 2]")), DSUIT_OK},
    {"component index as an array", MAN2(VAL("[12, [0, 1], 3, 15]")), DSUIT_OK},
    {"every known command and parameter",
     MAN1(VAL("[20, {3: " DIGEST ", 5: 1, 12: true, 14: 10, 18: h'00', "
              "21: \"u\", 22: 0, 23: h'01', 24: " DEVICE ", 25: h'02'}, "
              "3, 15, 5, 15, 6, 15, 24, 15, 18, 15, 21, 15, 22, 15, 31, 15, "
              "23, 15, 15, [<<[14, 15]>>, <<[3, 15]>>]]")),
     DSUIT_OK},

    /* unknown or custom codes */
    {"unknown command code", MAN1(VAL("[99, 15]")), DSUIT_E_SUIT_UNSUPPORTED,
     ST_CMD, 7},
    {"custom command in the shared sequence",
     MAN1S("[" IDS ", " CHECKS ", -257, 15]", ""), DSUIT_E_SUIT_RULE, ST_SH,
     SH},
    {"custom command in validate", MAN1(VAL("[-257, 15]")),
     DSUIT_E_SUIT_UNSUPPORTED, ST_CMD, 7},
    {"custom command in install", MAN1(INSTALL("[-300, 0]")),
     DSUIT_E_SUIT_UNSUPPORTED, ST_CMD, 20},
    {"unknown parameter", MAN1(VAL("[20, {99: 1}, 3, 15]")),
     DSUIT_E_SUIT_UNSUPPORTED, ST_CMD, 7},
    {"custom parameter in the shared sequence",
     MAN1S("[20, {1: " VENDOR ", 2: " CLASS ", -257: 1}, " CHECKS "]", ""),
     DSUIT_E_SUIT_RULE, ST_SH, SH},

    /* component indices */
    {"component index out of range", MAN1(VAL("[12, 1, 3, 15]")),
     DSUIT_E_SUIT_COMPONENT, ST_CMD, 7},
    {"component index out of range in an array",
     MAN2(VAL("[12, [0, 2], 3, 15]")), DSUIT_E_SUIT_COMPONENT, ST_CMD, 7},
    {"component index out of range in the shared sequence",
     MAN1S("[12, 3, " IDS ", " CHECKS "]", ""), DSUIT_E_SUIT_COMPONENT, ST_SH,
     SH},
    {"source-component out of range", MAN1(INSTALL("[20, {22: 1}, 22, 2]")),
     DSUIT_E_SUIT_COMPONENT, ST_CMD, 20},
    {"component index false", MAN1(VAL("[12, false, 3, 15]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"component index as text", MAN1(VAL("[12, \"0\", 3, 15]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},

    /* try-each, run-sequence, nesting */
    {"try-each with one sequence", MAN1(VAL("[15, [<<[3, 15]>>]]")),
     DSUIT_E_SUIT_RULE, ST_CMD, 7},
    {"try-each with one sequence and nil",
     MAN1(VAL("[15, [<<[3, 15]>>, null]]")), DSUIT_E_SUIT_RULE, ST_CMD, 7},
    {"try-each with nil not last",
     MAN1(VAL("[15, [null, <<[3, 15]>>, <<[14, 15]>>]]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"try-each argument not an array", MAN1(VAL("[15, <<[3, 15]>>]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"try-each holding a number", MAN1(VAL("[15, [<<[3, 15]>>, 7]]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"run-sequence argument not a bstr", MAN1(VAL("[32, [3, 15]]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"defect inside a nested sequence",
     MAN1(VAL("[32, <<[15, [<<[3, 15]>>, <<[99, 15]>>]]>>]")),
     DSUIT_E_SUIT_UNSUPPORTED, ST_CMD, 7},

    /* soft failure */
    {"soft-failure at top level", MAN1(VAL("[20, {13: true}, 3, 15]")),
     DSUIT_E_SUIT_RULE, ST_CMD, 7},
    {"soft-failure false at top level", MAN1(VAL("[20, {13: false}, 3, 15]")),
     DSUIT_E_SUIT_RULE, ST_CMD, 7},
    {"soft-failure in the shared sequence",
     MAN1S("[20, {1: " VENDOR ", 2: " CLASS ", 13: true}, " CHECKS "]", ""),
     DSUIT_E_SUIT_RULE, ST_SH, SH},
    {"soft-failure not a boolean", MAN1(VAL("[32, <<[20, {13: 1}, 3, 15]>>]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},

    /* the shared sequence */
    {"shared sequence without vendor condition", MAN1S("[" IDS ", 2, 15]", ""),
     DSUIT_E_SUIT_RULE, ST_SH, 0},
    {"shared sequence without class condition", MAN1S("[" IDS ", 1, 15]", ""),
     DSUIT_E_SUIT_RULE, ST_SH, 0},
    {"no shared sequence",
     "{1: 1, 2: 1, 3: <<{2: [[h'00']]}>>, 7: <<[3, 15]>>}", DSUIT_E_SUIT_RULE,
     DSUIT_SUIT_STAGE_NONE, 0},
    {"fetch in the shared sequence", MAN1S("[" IDS ", " CHECKS ", 21, 2]", ""),
     DSUIT_E_SUIT_RULE, ST_SH, SH},
    {"invoke in the shared sequence", MAN1S("[" IDS ", " CHECKS ", 23, 2]", ""),
     DSUIT_E_SUIT_RULE, ST_SH, SH},
    {"write in the shared sequence",
     MAN1S("[20, {1: " VENDOR ", 2: " CLASS ", 18: h'00'}, " CHECKS ", 18, 2]",
           ""),
     DSUIT_E_SUIT_RULE, ST_SH, SH},
    {"copy in the shared sequence",
     MAN1S("[20, {1: " VENDOR ", 2: " CLASS ", 22: 0}, " CHECKS ", 22, 2]", ""),
     DSUIT_E_SUIT_RULE, ST_SH, SH},
    {"vendor condition before the vendor-id is set",
     MAN1S("[" CHECKS ", " IDS "]", ""), DSUIT_E_SUIT_CONDITION, ST_SH, SH},
    {"device condition for a device with no known id",
     MAN1S("[20, {1: " VENDOR ", 2: " CLASS ", 24: " DEVICE "}, " CHECKS
           ", 24, 15]",
           ""),
     DSUIT_E_SUIT_CONDITION, ST_SH, SH},

    /* several components */
    {"two components, validate not starting with set-component-index",
     MAN2(VAL("[3, 15]")), DSUIT_E_SUIT_RULE, ST_CMD, 7},
    {"two components, shared not starting with set-component-index",
     MAN2S(SHARED, ""), DSUIT_E_SUIT_RULE, ST_SH, SH},
    {"two components, invoke starting with override-parameters",
     MAN2(INV("[20, {23: h'00'}, 12, 0, 23, 2]")), DSUIT_E_SUIT_RULE, ST_CMD,
     9},

    /* argument types */
    {"vendor-id of 15 bytes in the shared sequence",
     MAN1S("[20, {1: " H15 ", 2: " CLASS "}, " CHECKS "]", ""),
     DSUIT_E_SUIT_MALFORMED, ST_SH, SH},
    {"class-id of 15 bytes in validate", MAN1(VAL("[20, {2: " H15 "}, 2, 15]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"device-id of 15 bytes", MAN1(VAL("[20, {24: " H15 "}, 24, 15]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"image-digest with SHA-384",
     MAN1(VAL("[20, {3: " SHA384_DIGEST "}, 3, 15]")), DSUIT_E_SUIT_UNSUPPORTED,
     ST_CMD, 7},
    {"image-digest not wrapped", MAN1(VAL("[20, {3: [-16, h'00']}, 3, 15]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"image-size negative", MAN1(VAL("[20, {14: -1}, 3, 15]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"uri that is not UTF-8",
     MAN1(INSTALL("[20, {21: \"http://\\xff\\xfe/x\"}, 21, 2]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 20},
    {"uri as a byte string", MAN1(INSTALL("[20, {21: h'41'}, 21, 2]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 20},
    {"content as text", MAN1(INSTALL("[20, {18: \"x\"}, 18, 2]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 20},
    {"parameters not a map", MAN1(VAL("[20, [1, 2], 3, 15]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"parameters out of canonical order",
     MAN1(VAL("[20, {14: 1, 3: " DIGEST "}, 3, 15]")), ANY_ERR, ST_CMD, 7},
    {"parameter repeated", MAN1(VAL("[20, {14: 1, 14: 2}, 3, 15]")), ANY_ERR,
     ST_CMD, 7},
    {"reporting policy as text", MAN1(VAL("[3, \"x\"]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"reporting policy negative", MAN1(VAL("[3, -1]")), DSUIT_E_SUIT_MALFORMED,
     ST_CMD, 7},
    {"command code as text", MAN1(VAL("[\"x\", 15]")), DSUIT_E_SUIT_MALFORMED,
     ST_CMD, 7},

    /* sequence shape */
    {"odd-length command sequence", MAN1(VAL("[3, 15, 14]")),
     DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    {"empty command sequence", MAN1(VAL("[]")), DSUIT_E_SUIT_MALFORMED, ST_CMD,
     7},
    {"command sequence as a map", MAN1(VAL("{3: 15}")), DSUIT_E_SUIT_MALFORMED,
     ST_CMD, 7},
    {"odd-length shared sequence", MAN1S("[" IDS ", " CHECKS ", 1]", ""),
     DSUIT_E_SUIT_MALFORMED, ST_SH, SH},
};

/* Every row runs; each mismatch is printed, then the test fails once. */
static void run_rows(const check_row_t *rows, size_t n)
{
    static uint8_t buf[ENV_MAX];
    dsuit_suit_profile_t p = profile();
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const check_row_t *row = &rows[i];
        dsuit_suit_envelope_t env;
        dsuit_suit_error_t err;
        size_t len = tv_suit_sign_diag(row->manifest, &k_gen, buf, sizeof buf);
        int rc = dsuit_suit_parse(buf, len, &k_gen, 1, &env, &err);
        if (rc != DSUIT_OK)
            fail_msg("row '%s': parse gave %s (%s)", row->name,
                     dsuit_err_name(rc), err.reason ? err.reason : "-");
        memset(&err, 0, sizeof err);
        rc = dsuit_suit_check(&env, &p, &err);
        if (row->want == ANY_ERR ? rc == DSUIT_OK : rc != row->want) {
            print_error("row '%s': got %s (%s), want %s\n", row->name,
                        dsuit_err_name(rc), err.reason ? err.reason : "-",
                        row->want == ANY_ERR ? "an error"
                                             : dsuit_err_name(row->want));
            bad++;
        } else if (rc == DSUIT_OK) {
            continue;
        } else if (err.reason == NULL) {
            print_error("row '%s': %s without a reason\n", row->name,
                        dsuit_err_name(rc));
            bad++;
        } else if (row->stage != DSUIT_SUIT_STAGE_NONE &&
                   err.stage != row->stage) {
            print_error("row '%s': stage '%s', want '%s' (%s)\n", row->name,
                        dsuit_suit_stage_name(err.stage),
                        dsuit_suit_stage_name(row->stage), err.reason);
            bad++;
        } else if (row->section != 0 && err.section != row->section) {
            print_error("row '%s': section %lld, want %lld\n", row->name,
                        (long long)err.section, (long long)row->section);
            bad++;
        }
    }
    if (bad != 0)
        fail_msg("%zu of %zu rows did not give the expected result", bad, n);
}

static void suit_check_gives_the_contract_error_for_each_defect(void **state)
{
    (void)state;
    run_rows(ROWS, sizeof ROWS / sizeof ROWS[0]);
}

/* The header lists the errors dsuit_suit_check() returns; a well-formed
 * sequence followed by more bytes is a malformed sequence
 * (DSUIT_E_CBOR_TRAILING is not in the list). */
static void
suit_check_reports_trailing_bytes_in_a_sequence_as_malformed(void **state)
{
    (void)state;
    static const check_row_t row[] = {
        {"trailing bytes after a command sequence", MAN1(VAL("[3, 15], 0")),
         DSUIT_E_SUIT_MALFORMED, ST_CMD, 7},
    };
    run_rows(row, 1);
}

/* Build a sequence nesting `levels` run-sequences (or try-eachs) around an
 * image-match. */
static void nested_diag(char *out, size_t cap, unsigned levels, int try_each)
{
    char *a = malloc(cap), *b = malloc(cap);
    assert_non_null(a);
    assert_non_null(b);
    snprintf(a, cap, "[3, 15]");
    for (unsigned i = 0; i < levels; i++) {
        if (try_each)
            snprintf(b, cap, "[15, [<<%s>>, <<[14, 15]>>]]", a);
        else
            snprintf(b, cap, "[32, <<%s>>]", a);
        memcpy(a, b, cap);
    }
    snprintf(out, cap,
             "{1: 1, 2: 1, 3: <<{2: [[h'00']], 4: <<" SHARED ">>}>>, 7: "
             "<<%s>>}",
             a);
    free(a);
    free(b);
}

static void suit_check_bounds_nesting_at_dsuit_max_nesting(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    static char diag[8192];
    dsuit_suit_profile_t p = profile();
    for (int te = 0; te < 2; te++) {
        for (unsigned levels = DSUIT_MAX_NESTING - 1;
             levels <= DSUIT_MAX_NESTING + 3; levels++) {
            dsuit_suit_envelope_t env;
            dsuit_suit_error_t err;
            nested_diag(diag, sizeof diag, levels, te);
            size_t len = tv_suit_sign_diag(diag, &k_gen, buf, sizeof buf);
            assert_int_equal(dsuit_suit_parse(buf, len, &k_gen, 1, &env, NULL),
                             DSUIT_OK);
            memset(&err, 0, sizeof err);
            int rc = dsuit_suit_check(&env, &p, &err);
            char what[80];
            snprintf(what, sizeof what, "%u nested %s", levels,
                     te ? "try-each" : "run-sequence");
            if (levels <= DSUIT_MAX_NESTING) {
                if (rc != DSUIT_OK)
                    fail_msg("%s: got %s (%s), want DSUIT_OK", what,
                             dsuit_err_name(rc), err.reason ? err.reason : "-");
            } else {
                expect_fail(what, rc, &err, DSUIT_E_NESTING,
                            DSUIT_SUIT_STAGE_COMMAND);
            }
        }
    }
}

static void
suit_check_evaluates_device_identifier_against_the_profile(void **state)
{
    (void)state;
    static uint8_t buf[ENV_MAX];
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    dsuit_suit_profile_t p = profile();
    uint8_t other[16];
    size_t len =
        tv_suit_sign_diag(MAN1S("[20, {1: " VENDOR ", 2: " CLASS ", 24: " DEVICE
                                "}, " CHECKS ", 24, 15]",
                                ""),
                          &k_gen, buf, sizeof buf);
    assert_int_equal(dsuit_suit_parse(buf, len, &k_gen, 1, &env, NULL),
                     DSUIT_OK);
    p.device_id.ptr = DEVICE_ID;
    p.device_id.len = sizeof DEVICE_ID;
    assert_int_equal(dsuit_suit_check(&env, &p, &err), DSUIT_OK);
    memcpy(other, DEVICE_ID, sizeof other);
    other[15] ^= 1;
    p.device_id.ptr = other;
    expect_fail("other device", dsuit_suit_check(&env, &p, &err), &err,
                DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_SHARED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            suit_check_accepts_every_signed_example_on_a_matching_device),
        cmocka_unit_test(
            suit_check_refuses_another_vendor_or_class_in_the_shared_sequence),
        cmocka_unit_test(
            suit_check_refuses_rollback_to_an_installed_sequence_number),
        cmocka_unit_test(
            suit_check_refuses_more_components_than_the_device_has),
        cmocka_unit_test(suit_check_refuses_trust_domains_dependencies),
        cmocka_unit_test(suit_check_refuses_an_envelope_not_decoded),
        cmocka_unit_test(suit_check_gives_the_contract_error_for_each_defect),
        cmocka_unit_test(
            suit_check_reports_trailing_bytes_in_a_sequence_as_malformed),
        cmocka_unit_test(suit_check_bounds_nesting_at_dsuit_max_nesting),
        cmocka_unit_test(
            suit_check_evaluates_device_identifier_against_the_profile),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
