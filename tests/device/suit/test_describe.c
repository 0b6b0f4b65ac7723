/*
 * Tests of dsuit_suit_describe(): what a manifest claims about each
 * component, read from its shared sequence without a device profile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/suit.h"
#include "vectors.h"

static const uint8_t vendor[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                   0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                   0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t klass[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                  0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                  0x51, 0xf2, 0xab, 0x45};

static void parse(const char *name, uint8_t *buf, size_t cap,
                  dsuit_suit_envelope_t *env)
{
    char path[128], pem[1024];
    size_t n, pem_len;
    dsuit_key_t key;
    snprintf(path, sizeof path, "suit/manifest-37/%s", name);
    tv_read(path, buf, cap, &n);
    tv_read("suit/keys/spec-es256-p256-public.pem", (uint8_t *)pem,
            sizeof pem, &pem_len);
    assert_int_equal(dsuit_key_from_pem(pem, pem_len, &key), DSUIT_OK);
    assert_int_equal(dsuit_suit_parse(buf, n, &key, 1, env, NULL), DSUIT_OK);
}

/* The digest bytes inside an encoded SUIT_Digest start 4 bytes in
 * (82 2f 58 20 for [-16, bstr(32)]). */
static void expect_digest(const dsuit_suit_params_t *p, uint8_t first,
                          uint64_t size)
{
    assert_true(p->set & (1u << DSUIT_SUIT_PARAM_IMAGE_DIGEST));
    assert_int_equal(p->image_digest.len, 36);
    assert_int_equal(p->image_digest.ptr[0], 0x82);
    assert_int_equal(p->image_digest.ptr[4], first);
    assert_true(p->set & (1u << DSUIT_SUIT_PARAM_IMAGE_SIZE));
    assert_int_equal(p->image_size, size);
}

static void describe_reads_vendor_class_digest_and_size(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    dsuit_suit_envelope_t env;
    dsuit_suit_params_t p[DSUIT_MAX_COMPONENTS];
    parse("example0.cbor", buf, sizeof buf, &env);
    assert_int_equal(dsuit_suit_describe(&env, p, NULL), DSUIT_OK);
    assert_int_equal(p[0].vendor_id.len, 16);
    assert_memory_equal(p[0].vendor_id.ptr, vendor, 16);
    assert_memory_equal(p[0].class_id.ptr, klass, 16);
    expect_digest(&p[0], 0x00, 34768);
    assert_int_equal(p[1].set, 0);
}

static void describe_gives_each_component_its_own_image(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    dsuit_suit_envelope_t env;
    dsuit_suit_params_t p[DSUIT_MAX_COMPONENTS];
    parse("example5.cbor", buf, sizeof buf, &env);
    assert_int_equal(env.n_components, 2);
    assert_int_equal(dsuit_suit_describe(&env, p, NULL), DSUIT_OK);
    expect_digest(&p[0], 0x00, 34768);
    expect_digest(&p[1], 0x01, 76834);
    /* example5 sets vendor and class for component 0 only. */
    assert_memory_equal(p[0].vendor_id.ptr, vendor, 16);
    assert_false(p[1].set & (1u << DSUIT_SUIT_PARAM_VENDOR_ID));
}

static void describe_refuses_a_manifest_without_shared_sequence(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    dsuit_suit_envelope_t env;
    dsuit_suit_params_t p[DSUIT_MAX_COMPONENTS];
    dsuit_suit_error_t err;
    parse("example0.cbor", buf, sizeof buf, &env);
    env.shared_seq.ptr = NULL;
    env.shared_seq.len = 0;
    assert_int_equal(dsuit_suit_describe(&env, p, &err), DSUIT_E_SUIT_RULE);
    assert_int_equal(err.stage, DSUIT_SUIT_STAGE_SHARED);
    assert_int_equal(dsuit_suit_describe(NULL, p, &err), DSUIT_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(describe_reads_vendor_class_digest_and_size),
        cmocka_unit_test(describe_gives_each_component_its_own_image),
        cmocka_unit_test(describe_refuses_a_manifest_without_shared_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
