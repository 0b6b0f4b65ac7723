/*
 * Tests of node_report_decode() (src/node/node_int.h, src/node/device.c):
 * the status report a device POSTs to /fw/report (docs/protocols.md),
 *
 *     {1: installed seq, ? 2: manifest digest (bstr 32),
 *      3: result (text, 1..256 bytes), ? 4: SUIT_Report (bstr, <= 4 KiB)}
 *
 * in deterministic CBOR with its keys in order.
 *
 * - The minimal {1, 3} and full {1, 2, 3, 4} reports decode, with pointers
 *   into the input; the limits are accepted at the boundary.
 * - A table of (report, expected error): not a map, too few or too many
 *   entries, unknown keys, keys out of order or repeated, wrong types,
 *   digest lengths, empty or too long result, invalid UTF-8, a SUIT_Report
 *   over 4096 bytes, non-deterministic encodings, trailing bytes.
 * - The full report truncated at every length, and with every byte
 *   flipped, is refused or decodes to pointers inside the input.
 *
 * With DSUIT_FUZZ_SEEDS=<folder> set, the first test also writes seed
 * inputs for fuzz/fuzz_report.c into <folder>/fuzz_report/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "dsuit/cbor.h"
#include "dsuit/error.h"
#include "node/node_int.h"
#include "vectors.h"

#define REPORT_CAP 8192

#define D32                                                                    \
    "h'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'"
#define D31 "h'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e'"
#define D33                                                                    \
    "h'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20'"

static void write_seed(const char *name, const uint8_t *p, size_t len)
{
    const char *dir = getenv("DSUIT_FUZZ_SEEDS");
    char path[1024];
    FILE *f;
    if (dir == NULL || *dir == '\0')
        return;
    snprintf(path, sizeof path, "%s/fuzz_report", dir);
    (void)mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/fuzz_report/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL)
        fail_msg("cannot write seed '%s'", path);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int inside(const uint8_t *buf, size_t len, const void *p, size_t n)
{
    const uint8_t *q = p;
    return q != NULL && q >= buf && n <= len && (size_t)(q - buf) <= len - n;
}

/* ------------------------------------------------------------------ */
/* Valid reports                                                      */
/* ------------------------------------------------------------------ */

static void report_decodes_the_minimal_seq_and_result(void **state)
{
    uint8_t buf[64];
    node_report_t r;
    size_t n = tv_diag("{1: 7, 3: \"ok\"}", NULL, 0, buf, sizeof buf);
    (void)state;
    write_seed("minimal.cbor", buf, n);
    assert_int_equal(node_report_decode(buf, n, &r), DSUIT_OK);
    assert_true(r.seq == 7);
    assert_null(r.digest);
    assert_int_equal(r.result_len, 2);
    assert_memory_equal(r.result, "ok", 2);
    assert_true(inside(buf, n, r.result, r.result_len));
    assert_null(r.report);
    assert_int_equal(r.report_len, 0);
}

static void report_decodes_all_four_fields(void **state)
{
    uint8_t buf[256], digest[32];
    node_report_t r;
    size_t n = tv_diag("{1: 18446744073709551615, 2: " D32
                       ", 3: \"rejected: digest\", 4: h'a10102'}",
                       NULL, 0, buf, sizeof buf);
    (void)state;
    write_seed("full.cbor", buf, n);
    for (int i = 0; i < 32; i++)
        digest[i] = (uint8_t)i;
    assert_int_equal(node_report_decode(buf, n, &r), DSUIT_OK);
    assert_true(r.seq == UINT64_MAX);
    assert_non_null(r.digest);
    assert_true(inside(buf, n, r.digest, 32));
    assert_memory_equal(r.digest, digest, 32);
    assert_int_equal(r.result_len, strlen("rejected: digest"));
    assert_memory_equal(r.result, "rejected: digest", r.result_len);
    assert_true(inside(buf, n, r.result, r.result_len));
    assert_int_equal(r.report_len, 3);
    assert_true(inside(buf, n, r.report, r.report_len));
    assert_memory_equal(r.report, "\xa1\x01\x02", 3);

    /* Either optional field alone. */
    n = tv_diag("{1: 0, 2: " D32 ", 3: \"current\"}", NULL, 0, buf, sizeof buf);
    write_seed("digest.cbor", buf, n);
    assert_int_equal(node_report_decode(buf, n, &r), DSUIT_OK);
    assert_non_null(r.digest);
    assert_null(r.report);
    n = tv_diag("{1: 0, 3: \"ok\", 4: h''}", NULL, 0, buf, sizeof buf);
    assert_int_equal(node_report_decode(buf, n, &r), DSUIT_OK);
    assert_null(r.digest);
    assert_int_equal(r.report_len, 0);
}

static void report_accepts_each_limit_at_its_boundary(void **state)
{
    static uint8_t buf[REPORT_CAP], blob[NODE_REPORT_SUIT_MAX];
    char text[NODE_REPORT_RESULT_MAX + 1];
    tv_raw_t raw[2];
    uint8_t enc[2][NODE_REPORT_SUIT_MAX + 8];
    size_t n;
    node_report_t r;
    (void)state;
    /* A result of 256 bytes (multi-byte UTF-8 included) and a SUIT_Report
     * of 4096 bytes. */
    memset(text, 'r', NODE_REPORT_RESULT_MAX);
    memcpy(text, "\xc3\xa9", 2);
    text[NODE_REPORT_RESULT_MAX] = '\0';
    memset(blob, 0x5a, sizeof blob);
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, enc[0], sizeof enc[0]);
    dsuit_cbor_put_tstr(&e, text, NODE_REPORT_RESULT_MAX);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &raw[0].len), DSUIT_OK);
    raw[0].ptr = enc[0];
    dsuit_cbor_enc_init(&e, enc[1], sizeof enc[1]);
    dsuit_cbor_put_bstr(&e, blob, sizeof blob);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &raw[1].len), DSUIT_OK);
    raw[1].ptr = enc[1];
    n = tv_diag("{1: 1, 2: " D32 ", 3: $0, 4: $1}", raw, 2, buf, sizeof buf);
    assert_int_equal(node_report_decode(buf, n, &r), DSUIT_OK);
    assert_int_equal(r.result_len, NODE_REPORT_RESULT_MAX);
    assert_int_equal(r.report_len, NODE_REPORT_SUIT_MAX);
    assert_true(inside(buf, n, r.report, r.report_len));
}

/* ------------------------------------------------------------------ */
/* Refusals                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *diag; /* NULL: hex */
    const char *hex;
    int want;
} report_case_t;

static const report_case_t cases[] = {
    /* Shape. */
    {"not a map (array)", "[1, \"ok\"]", NULL, DSUIT_E_CBOR_TYPE},
    {"not a map (text)", "\"ok\"", NULL, DSUIT_E_CBOR_TYPE},
    {"empty map", "{}", NULL, DSUIT_E_INVAL},
    {"one entry", "{1: 1}", NULL, DSUIT_E_INVAL},
    {"one entry (result)", "{3: \"ok\"}", NULL, DSUIT_E_INVAL},
    {"five entries", "{1: 1, 2: " D32 ", 3: \"ok\", 4: h'', 5: 0}", NULL,
     DSUIT_E_INVAL},
    {"unknown key 5", "{1: 1, 3: \"ok\", 5: 0}", NULL, DSUIT_E_INVAL},
    {"unknown key 0", "{0: 0, 1: 1, 3: \"ok\"}", NULL, DSUIT_E_INVAL},
    {"seq missing", "{2: " D32 ", 3: \"ok\"}", NULL, DSUIT_E_INVAL},
    {"result missing", "{1: 1, 2: " D32 "}", NULL, DSUIT_E_INVAL},
    {"result missing (4)", "{1: 1, 4: h''}", NULL, DSUIT_E_INVAL},
    {"keys out of order", "{3: \"ok\", 1: 1}", NULL, DSUIT_E_INVAL},
    {"keys 3 and 4 swapped", "{1: 1, 4: h'', 3: \"ok\"}", NULL, DSUIT_E_INVAL},
    {"key 1 repeated", "{1: 1, 1: 2, 3: \"ok\"}", NULL, DSUIT_E_INVAL},
    {"key 3 repeated", "{1: 1, 3: \"ok\", 3: \"ok\"}", NULL, DSUIT_E_INVAL},
    {"negative key", "{1: 1, -3: \"ok\"}", NULL, DSUIT_E_CBOR_TYPE},
    {"text key", "{1: 1, \"3\": \"ok\"}", NULL, DSUIT_E_CBOR_TYPE},
    /* Types. */
    {"seq negative", "{1: -1, 3: \"ok\"}", NULL, DSUIT_E_CBOR_TYPE},
    {"seq text", "{1: \"1\", 3: \"ok\"}", NULL, DSUIT_E_CBOR_TYPE},
    {"seq bstr", "{1: h'01', 3: \"ok\"}", NULL, DSUIT_E_CBOR_TYPE},
    {"seq tagged", "{1: 2(h'01'), 3: \"ok\"}", NULL, DSUIT_E_CBOR_TYPE},
    {"digest text", "{1: 1, 2: \"00\", 3: \"ok\"}", NULL, DSUIT_E_CBOR_TYPE},
    {"digest a SUIT_Digest array", "{1: 1, 2: [-16, " D32 "], 3: \"ok\"}", NULL,
     DSUIT_E_CBOR_TYPE},
    {"result bstr", "{1: 1, 3: h'6f6b'}", NULL, DSUIT_E_CBOR_TYPE},
    {"result null", "{1: 1, 3: null}", NULL, DSUIT_E_CBOR_TYPE},
    {"SUIT_Report text", "{1: 1, 3: \"ok\", 4: \"r\"}", NULL,
     DSUIT_E_CBOR_TYPE},
    {"SUIT_Report a map, not wrapped", "{1: 1, 3: \"ok\", 4: {}}", NULL,
     DSUIT_E_CBOR_TYPE},
    /* Sizes. */
    {"digest of 31 bytes", "{1: 1, 2: " D31 ", 3: \"ok\"}", NULL,
     DSUIT_E_INVAL},
    {"digest of 33 bytes", "{1: 1, 2: " D33 ", 3: \"ok\"}", NULL,
     DSUIT_E_INVAL},
    {"digest empty", "{1: 1, 2: h'', 3: \"ok\"}", NULL, DSUIT_E_INVAL},
    {"empty result", "{1: 1, 3: \"\"}", NULL, DSUIT_E_INVAL},
    /* Encoding. */
    {"trailing byte after the map", "{1: 1, 3: \"ok\"}, 0", NULL,
     DSUIT_E_INVAL},
    {"a second report after the map", "{1: 1, 3: \"ok\"}, {1: 1, 3: \"ok\"}",
     NULL, DSUIT_E_INVAL},
    {"empty input", NULL, "", DSUIT_E_TRUNCATED},
    {"map head only", NULL, "a2", DSUIT_E_CBOR_LENGTH},
    {"non-minimal seq", NULL,
     "a2011801"
     "03626f6b",
     DSUIT_E_CBOR_NONMINIMAL},
    {"non-minimal key", NULL,
     "a21801"
     "01"
     "03626f6b",
     DSUIT_E_CBOR_NONMINIMAL},
    {"non-minimal map head", NULL,
     "b80201010362"
     "6f6b",
     DSUIT_E_CBOR_NONMINIMAL},
    {"non-minimal result length", NULL, "a201010378026f6b",
     DSUIT_E_CBOR_NONMINIMAL},
    {"indefinite map", NULL, "bf010103626f6bff", DSUIT_E_CBOR_INDEFINITE},
    {"indefinite result", NULL, "a2010103 7f626f6bff", DSUIT_E_CBOR_INDEFINITE},
    {"result longer than the input", NULL, "a20101036a6f6b",
     DSUIT_E_CBOR_LENGTH},
};

static void report_refuses_each_malformed_report(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[512];
        node_report_t r;
        size_t n;
        int rc;
        if (cases[i].diag != NULL)
            n = tv_diag(cases[i].diag, NULL, 0, buf, sizeof buf);
        else
            n = tv_hex(cases[i].hex, buf, sizeof buf);
        rc = node_report_decode(buf, n, &r);
        if (rc != cases[i].want)
            fail_msg("row '%s': got %s, want %s", cases[i].name,
                     dsuit_err_name(rc), dsuit_err_name(cases[i].want));
    }
}

static void report_refuses_a_result_of_257_bytes(void **state)
{
    static uint8_t buf[1024];
    char text[NODE_REPORT_RESULT_MAX + 2];
    uint8_t enc[NODE_REPORT_RESULT_MAX + 8];
    tv_raw_t raw;
    dsuit_cbor_enc_t e;
    node_report_t r;
    size_t n;
    (void)state;
    memset(text, 'r', sizeof text);
    dsuit_cbor_enc_init(&e, enc, sizeof enc);
    dsuit_cbor_put_tstr(&e, text, NODE_REPORT_RESULT_MAX + 1);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &raw.len), DSUIT_OK);
    raw.ptr = enc;
    n = tv_diag("{1: 1, 3: $0}", &raw, 1, buf, sizeof buf);
    assert_int_equal(node_report_decode(buf, n, &r), DSUIT_E_INVAL);
}

static void report_refuses_a_suit_report_of_4097_bytes(void **state)
{
    static uint8_t buf[REPORT_CAP], blob[NODE_REPORT_SUIT_MAX + 1],
        enc[NODE_REPORT_SUIT_MAX + 8];
    tv_raw_t raw;
    dsuit_cbor_enc_t e;
    node_report_t r;
    size_t n;
    (void)state;
    dsuit_cbor_enc_init(&e, enc, sizeof enc);
    dsuit_cbor_put_bstr(&e, blob, sizeof blob);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &raw.len), DSUIT_OK);
    raw.ptr = enc;
    n = tv_diag("{1: 1, 3: \"ok\", 4: $0}", &raw, 1, buf, sizeof buf);
    write_seed("suit-report-4097.cbor", buf, n);
    assert_int_equal(node_report_decode(buf, n, &r), DSUIT_E_LIMIT);
}

/* docs/protocols.md: the result is text; RFC 8949 §3.1: a text string is
 * UTF-8. The decoder must not hand on what is not. */
static void report_refuses_a_result_that_is_not_utf8(void **state)
{
    static const char *const diag[] = {
        "{1: 1, 3: \"\\xff\"}",                /* never valid */
        "{1: 1, 3: \"ok\\xc3\"}",              /* cut multi-byte sequence */
        "{1: 1, 3: \"\\xc0\\xaf\"}",           /* overlong '/' */
        "{1: 1, 3: \"\\xed\\xa0\\x80\"}",      /* UTF-16 surrogate */
        "{1: 1, 3: \"\\xf4\\x90\\x80\\x80\"}", /* past U+10FFFF */
    };
    (void)state;
    for (size_t i = 0; i < sizeof diag / sizeof diag[0]; i++) {
        uint8_t buf[64];
        node_report_t r;
        size_t n = tv_diag(diag[i], NULL, 0, buf, sizeof buf);
        int rc = node_report_decode(buf, n, &r);
        if (rc != DSUIT_E_INVAL)
            fail_msg("report %s: got %s, want DSUIT_E_INVAL", diag[i],
                     dsuit_err_name(rc));
    }
}

static void
report_fails_when_truncated_or_decodes_inside_when_flipped(void **state)
{
    uint8_t orig[256], buf[256];
    node_report_t r;
    size_t n = tv_diag("{1: 5, 2: " D32 ", 3: \"ok\", 4: h'a10102'}", NULL, 0,
                       orig, sizeof orig);
    (void)state;
    assert_int_equal(node_report_decode(orig, n, &r), DSUIT_OK);
    for (size_t k = 0; k < n; k++) {
        memcpy(buf, orig, k);
        if (node_report_decode(buf, k, &r) == DSUIT_OK)
            fail_msg("the report cut to %zu of %zu bytes decoded", k, n);
    }
    for (size_t i = 0; i < n; i++) {
        for (unsigned m = 1; m < 256; m <<= 1) {
            memcpy(buf, orig, n);
            buf[i] ^= (uint8_t)m;
            if (node_report_decode(buf, n, &r) != DSUIT_OK)
                continue;
            /* A flip inside a value may still decode: then every pointer
             * stays inside the input and every limit holds. */
            assert_true(inside(buf, n, r.result, r.result_len));
            assert_true(r.result_len >= 1 &&
                        r.result_len <= NODE_REPORT_RESULT_MAX);
            if (r.digest != NULL)
                assert_true(inside(buf, n, r.digest, 32));
            if (r.report != NULL)
                assert_true(r.report_len == 0 ||
                            inside(buf, n, r.report, r.report_len));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_decodes_the_minimal_seq_and_result),
        cmocka_unit_test(report_decodes_all_four_fields),
        cmocka_unit_test(report_accepts_each_limit_at_its_boundary),
        cmocka_unit_test(report_refuses_each_malformed_report),
        cmocka_unit_test(report_refuses_a_result_of_257_bytes),
        cmocka_unit_test(report_refuses_a_suit_report_of_4097_bytes),
        cmocka_unit_test(report_refuses_a_result_that_is_not_utf8),
        cmocka_unit_test(
            report_fails_when_truncated_or_decodes_inside_when_flipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
