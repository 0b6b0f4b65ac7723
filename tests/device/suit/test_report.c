/*
 * Tests of SUIT report encoding (draft-ietf-suit-report): the records the
 * processor emits under a reporting policy, the report's exact CBOR shape,
 * the failure record, the reason mapping and the size-needed contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/cbor.h"
#include "dsuit/suit.h"
#include "vectors.h"

static const uint8_t vendor[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                   0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                   0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t klass[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                  0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                  0x51, 0xf2, 0xab, 0x45};
/* The examples' sample image digest 0011...3210. */
static const uint8_t sample[32] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
    0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
    0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

typedef struct {
    uint8_t claimed[32];
    dsuit_suit_report_t report;
} device_t;

static int claimed_digest(void *arg, const dsuit_suit_component_t *c,
                          size_t size, int has_size, uint8_t out[32])
{
    (void)c;
    (void)size;
    (void)has_size;
    memcpy(out, ((device_t *)arg)->claimed, 32);
    return DSUIT_OK;
}

static int accept_fetch(void *arg, const dsuit_suit_component_t *c)
{
    (void)arg;
    (void)c;
    return DSUIT_OK;
}

static void collect(void *arg, const dsuit_suit_record_t *rec)
{
    dsuit_suit_report_add(&((device_t *)arg)->report, rec);
}

static void load_example(const char *name, uint8_t *buf, size_t cap,
                         dsuit_suit_envelope_t *env)
{
    char path[128];
    char pem[1024];
    size_t n, pem_len;
    dsuit_key_t key;
    dsuit_suit_error_t err;

    snprintf(path, sizeof path, "suit/manifest-37/%s", name);
    tv_read(path, buf, cap, &n);
    tv_read("suit/keys/spec-es256-p256-public.pem", (uint8_t *)pem,
            sizeof pem, &pem_len);
    assert_int_equal(dsuit_key_from_pem(pem, pem_len, &key), DSUIT_OK);
    assert_int_equal(dsuit_suit_parse(buf, n, &key, 1, env, &err), DSUIT_OK);
}

static int run(const dsuit_suit_envelope_t *env, device_t *dev,
               unsigned procedures, dsuit_suit_error_t *err)
{
    static dsuit_suit_proc_t proc;
    dsuit_suit_profile_t prof = {0};
    dsuit_suit_platform_t pl = {0};
    prof.vendor_id.ptr = vendor;
    prof.vendor_id.len = 16;
    prof.class_id.ptr = klass;
    prof.class_id.len = 16;
    pl.arg = dev;
    pl.digest = claimed_digest;
    pl.fetch = accept_fetch;
    pl.report = collect;
    dsuit_suit_report_init(&dev->report);
    return dsuit_suit_process(&proc, env, &prof, &pl, procedures, err);
}

static void report_records_every_command_whose_policy_asks(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    device_t dev;

    /* example1 install: the shared sequence's vendor and class conditions
     * (policy 15), fetch (policy 2: record on failure only, so no record),
     * image-match (policy 15): three records. */
    load_example("example1.cbor", buf, sizeof buf, &env);
    memcpy(dev.claimed, sample, 32);
    assert_int_equal(run(&env, &dev, DSUIT_SUIT_RUN_INSTALL, &err), DSUIT_OK);
    assert_int_equal(dev.report.n_records, 3);
    assert_int_equal(dev.report.records[0].section, DSUIT_SUIT_SECTION_SHARED);
    assert_int_equal(dev.report.records[0].command, DSUIT_SUIT_COND_VENDOR_ID);
    assert_int_equal(dev.report.records[1].command, DSUIT_SUIT_COND_CLASS_ID);
    assert_int_equal(dev.report.records[2].section, DSUIT_SUIT_INSTALL);
    assert_int_equal(dev.report.records[2].command,
                     DSUIT_SUIT_COND_IMAGE_MATCH);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(dev.report.records[i].result, DSUIT_OK);
        assert_null(dev.report.records[i].params);
        assert_true(dev.report.records[i].offset > 0);
    }
}

static void report_encodes_success_in_canonical_form(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    uint8_t out[512];
    size_t len;
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    device_t dev;
    const uint8_t nonce[4] = {1, 2, 3, 4};

    load_example("example1.cbor", buf, sizeof buf, &env);
    memcpy(dev.claimed, sample, 32);
    assert_int_equal(run(&env, &dev, DSUIT_SUIT_RUN_INSTALL, &err), DSUIT_OK);
    assert_int_equal(dsuit_suit_report_encode(&dev.report, &env, nonce, 4,
                                              DSUIT_OK, NULL, out, sizeof out,
                                              &len),
                     DSUIT_OK);
    /* Canonical, and exactly the shape of the draft. */
    assert_int_equal(dsuit_cbor_check(out, len,
                                      DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED,
                                      0),
                     DSUIT_OK);
    dsuit_cbor_dec_t d;
    size_t n;
    uint64_t key;
    const uint8_t *b;
    size_t blen;
    int t;
    dsuit_cbor_dec_init(&d, out, len, DSUIT_CBOR_STRICT);
    assert_int_equal(dsuit_cbor_get_map(&d, &n), DSUIT_OK);
    assert_int_equal(n, 4);
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 2);
    assert_int_equal(dsuit_cbor_get_bstr(&d, &b, &blen), DSUIT_OK);
    assert_memory_equal(b, nonce, 4);
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 3);
    assert_int_equal(dsuit_cbor_get_array(&d, &n), DSUIT_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++) {
        size_t fields, ids;
        int64_t section;
        uint64_t offset, comp;
        size_t props;
        assert_int_equal(dsuit_cbor_get_array(&d, &fields), DSUIT_OK);
        assert_int_equal(fields, 5);
        assert_int_equal(dsuit_cbor_get_array(&d, &ids), DSUIT_OK);
        assert_int_equal(ids, 0);
        assert_int_equal(dsuit_cbor_get_int(&d, &section), DSUIT_OK);
        assert_int_equal(section, dev.report.records[i].section);
        assert_int_equal(dsuit_cbor_get_uint(&d, &offset), DSUIT_OK);
        assert_int_equal(offset, dev.report.records[i].offset);
        assert_int_equal(dsuit_cbor_get_uint(&d, &comp), DSUIT_OK);
        assert_int_equal(comp, 0);
        assert_int_equal(dsuit_cbor_get_map(&d, &props), DSUIT_OK);
    }
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 4);
    assert_int_equal(dsuit_cbor_get_bool(&d, &t), DSUIT_OK);
    assert_true(t);
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 99);
    assert_int_equal(dsuit_cbor_get_array(&d, &n), DSUIT_OK);
    assert_int_equal(n, 2);
    const char *uri;
    assert_int_equal(dsuit_cbor_get_tstr(&d, &uri, &blen), DSUIT_OK);
    assert_int_equal(blen, 0); /* example1 has no reference-uri */
    const uint8_t *digest;
    assert_int_equal(dsuit_cbor_skip(&d, &digest, &blen), DSUIT_OK);
    assert_int_equal(blen, env.digest_item.len);
    assert_memory_equal(digest, env.digest_item.ptr, blen);
    assert_int_equal(dsuit_cbor_remaining(&d), 0);
}

static void report_of_a_failure_names_where_and_why(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    uint8_t out[512];
    size_t len;
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    device_t dev;

    /* example2 has a reference-uri; a mismatching image fails install's
     * image-match. */
    load_example("example2.cbor", buf, sizeof buf, &env);
    memset(dev.claimed, 0xab, 32);
    assert_int_equal(run(&env, &dev, DSUIT_SUIT_UPDATE, &err),
                     DSUIT_E_SUIT_CONDITION);
    assert_int_equal(err.section, DSUIT_SUIT_INSTALL);
    /* The failed image-match was recorded too (policy 15). */
    assert_int_equal(dev.report.records[dev.report.n_records - 1].result,
                     DSUIT_E_SUIT_CONDITION);

    assert_int_equal(dsuit_suit_report_encode(&dev.report, &env, NULL, 0,
                                              DSUIT_E_SUIT_CONDITION, &err,
                                              out, sizeof out, &len),
                     DSUIT_OK);
    dsuit_cbor_dec_t d;
    size_t n;
    uint64_t key, reason, offset;
    int64_t code, section;
    dsuit_cbor_dec_init(&d, out, len, DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED);
    assert_int_equal(dsuit_cbor_get_map(&d, &n), DSUIT_OK);
    assert_int_equal(n, 3); /* no nonce */
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 3);
    assert_int_equal(dsuit_cbor_skip(&d, NULL, NULL), DSUIT_OK);
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 4);
    assert_int_equal(dsuit_cbor_get_map(&d, &n), DSUIT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 5);
    assert_int_equal(dsuit_cbor_get_int(&d, &code), DSUIT_OK);
    assert_int_equal(code, DSUIT_E_SUIT_CONDITION);
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 6);
    assert_int_equal(dsuit_cbor_get_array(&d, &n), DSUIT_OK);
    assert_int_equal(dsuit_cbor_skip(&d, NULL, NULL), DSUIT_OK);
    assert_int_equal(dsuit_cbor_get_int(&d, &section), DSUIT_OK);
    assert_int_equal(section, DSUIT_SUIT_INSTALL);
    assert_int_equal(dsuit_cbor_get_uint(&d, &offset), DSUIT_OK);
    assert_int_equal(offset, err.offset);
    assert_int_equal(dsuit_cbor_skip(&d, NULL, NULL), DSUIT_OK);
    assert_int_equal(dsuit_cbor_skip(&d, NULL, NULL), DSUIT_OK);
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 7);
    assert_int_equal(dsuit_cbor_get_uint(&d, &reason), DSUIT_OK);
    assert_int_equal(reason, DSUIT_SUIT_REASON_CONDITION_FAILED);
    assert_int_equal(dsuit_cbor_get_uint(&d, &key), DSUIT_OK);
    assert_int_equal(key, 99);
    assert_int_equal(dsuit_cbor_get_array(&d, &n), DSUIT_OK);
    const char *uri;
    size_t uri_len;
    assert_int_equal(dsuit_cbor_get_tstr(&d, &uri, &uri_len), DSUIT_OK);
    assert_int_equal(uri_len, strlen("https://git.io/JJYoj"));
    assert_memory_equal(uri, "https://git.io/JJYoj", uri_len);
}

static void report_encode_reports_the_size_needed(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    uint8_t out[512];
    size_t need, got;
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    device_t dev;

    load_example("example1.cbor", buf, sizeof buf, &env);
    memcpy(dev.claimed, sample, 32);
    assert_int_equal(run(&env, &dev, DSUIT_SUIT_UPDATE, &err), DSUIT_OK);
    assert_int_equal(dsuit_suit_report_encode(&dev.report, &env, NULL, 0,
                                              DSUIT_OK, NULL, out, 10, &need),
                     DSUIT_E_LIMIT);
    assert_true(need > 10);
    assert_int_equal(dsuit_suit_report_encode(&dev.report, &env, NULL, 0,
                                              DSUIT_OK, NULL, out, need, &got),
                     DSUIT_OK);
    assert_int_equal(got, need);
    assert_int_equal(dsuit_suit_report_encode(NULL, &env, NULL, 0, DSUIT_OK,
                                              NULL, out, sizeof out, &got),
                     DSUIT_E_INVAL);
}

static void report_collector_counts_what_it_cannot_keep(void **state)
{
    (void)state;
    dsuit_suit_report_t r;
    dsuit_suit_record_t rec = {0};
    dsuit_suit_report_init(&r);
    for (size_t i = 0; i < DSUIT_SUIT_MAX_RECORDS + 3; i++) {
        rec.offset = i;
        dsuit_suit_report_add(&r, &rec);
    }
    assert_int_equal(r.n_records, DSUIT_SUIT_MAX_RECORDS);
    assert_int_equal(r.dropped, 3);
    assert_int_equal(r.records[DSUIT_SUIT_MAX_RECORDS - 1].offset,
                     DSUIT_SUIT_MAX_RECORDS - 1);
}

static void report_reasons_follow_the_draft(void **state)
{
    (void)state;
    static const struct {
        int err;
        int reason;
    } rows[] = {
        {DSUIT_OK, DSUIT_SUIT_REASON_OK},
        {DSUIT_E_CBOR_TRAILING, DSUIT_SUIT_REASON_CBOR_PARSE},
        {DSUIT_E_SUIT_MALFORMED, DSUIT_SUIT_REASON_CBOR_PARSE},
        {DSUIT_E_COSE, DSUIT_SUIT_REASON_COSE_UNSUPPORTED},
        {DSUIT_E_ALG, DSUIT_SUIT_REASON_ALG_UNSUPPORTED},
        {DSUIT_E_SIGNATURE, DSUIT_SUIT_REASON_UNAUTHORISED},
        {DSUIT_E_SUIT_NOAUTH, DSUIT_SUIT_REASON_UNAUTHORISED},
        {DSUIT_E_SUIT_UNSUPPORTED, DSUIT_SUIT_REASON_COMMAND_UNSUPPORTED},
        {DSUIT_E_SUIT_COMPONENT, DSUIT_SUIT_REASON_COMPONENT_UNSUPPORTED},
        {DSUIT_E_SUIT_PARAM, DSUIT_SUIT_REASON_PARAMETER_UNSUPPORTED},
        {DSUIT_E_SUIT_SEVERED, DSUIT_SUIT_REASON_SEVERING_UNSUPPORTED},
        {DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_REASON_CONDITION_FAILED},
        {DSUIT_E_ROLLBACK, DSUIT_SUIT_REASON_CONDITION_FAILED},
        {DSUIT_E_AGAIN, DSUIT_SUIT_REASON_OPERATION_FAILED},
        {DSUIT_E_IO, DSUIT_SUIT_REASON_OPERATION_FAILED},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(dsuit_suit_report_reason(rows[i].err),
                         rows[i].reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_records_every_command_whose_policy_asks),
        cmocka_unit_test(report_encodes_success_in_canonical_form),
        cmocka_unit_test(report_of_a_failure_names_where_and_why),
        cmocka_unit_test(report_encode_reports_the_size_needed),
        cmocka_unit_test(report_collector_counts_what_it_cannot_keep),
        cmocka_unit_test(report_reasons_follow_the_draft),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
