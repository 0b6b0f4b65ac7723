/*
 * Tests of the CBOR pull decoder: RFC 8949 Appendix A examples (the subset
 * we support, floats decoded only to be skipped), and a table of bad inputs,
 * each with the error it must give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/cbor.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (hex[0] && hex[1]) {
        unsigned v;
        if (hex[0] == ' ') {
            hex++;
            continue;
        }
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        assert_true(n < cap);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* ---- RFC 8949 Appendix A: well-formed, deterministic in strict mode ---- */

struct good {
    const char *hex;
    int strict_ok; /* also valid with DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED */
};

static const struct good appendix_a[] = {
    {"00", 1}, {"01", 1}, {"0a", 1}, {"17", 1}, {"1818", 1}, {"1819", 1},
    {"1864", 1}, {"1903e8", 1}, {"1a000f4240", 1}, {"1b000000e8d4a51000", 1},
    {"1bffffffffffffffff", 1}, {"c249010000000000000000", 1},
    {"3bffffffffffffffff", 1}, {"c349010000000000000000", 1}, {"20", 1},
    {"29", 1}, {"3863", 1}, {"3903e7", 1},
    /* floats: skipped, not interpreted */
    {"f90000", 1}, {"f98000", 1}, {"f93c00", 1}, {"fb3ff199999999999a", 1},
    {"f93e00", 1}, {"f97bff", 1}, {"fa47c35000", 1}, {"fa7f7fffff", 1},
    {"fb7e37e43c8800759c", 1}, {"f90001", 1}, {"f90400", 1}, {"f9c400", 1},
    {"fbc010666666666666", 1}, {"f97c00", 1}, {"f97e00", 1}, {"f9fc00", 1},
    {"fa7f800000", 1}, {"fa7fc00000", 1}, {"faff800000", 1},
    {"fb7ff0000000000000", 1}, {"fb7ff8000000000000", 1},
    {"fbfff0000000000000", 1},
    /* simple values */
    {"f4", 1}, {"f5", 1}, {"f6", 1}, {"f7", 1}, {"f0", 1}, {"f8ff", 1},
    /* tags */
    {"c074323031332d30332d32315432303a30343a30305a", 1}, {"c11a514b67b0", 1},
    {"c1fb41d452d9ec200000", 1}, {"d74401020304", 1},
    {"d818456449455446", 1},
    {"d82076687474703a2f2f7777772e6578616d706c652e636f6d", 1},
    /* strings */
    {"40", 1}, {"4401020304", 1}, {"60", 1}, {"6161", 1}, {"6449455446", 1},
    {"62225c", 1}, {"62c3bc", 1}, {"63e6b0b4", 1}, {"64f0908591", 1},
    /* arrays and maps */
    {"80", 1}, {"83010203", 1}, {"8301820203820405", 1},
    {"98190102030405060708090a0b0c0d0e0f101112131415161718181819", 1},
    {"a0", 1}, {"a201020304", 1}, {"a26161016162820203", 1},
    {"826161a161626163", 1}, {"a56161614161626142616361436164614461656145", 1},
};

static void cbor_check_accepts_every_appendix_a_example(void **state)
{
    (void)state;
    uint8_t buf[128];
    for (size_t i = 0; i < sizeof appendix_a / sizeof appendix_a[0]; i++) {
        size_t n = unhex(appendix_a[i].hex, buf, sizeof buf);
        int rc = dsuit_cbor_check(buf, n, 0, 0);
        if (rc != DSUIT_OK)
            fail_msg("%s: %s", appendix_a[i].hex, dsuit_err_name(rc));
        if (appendix_a[i].strict_ok) {
            rc = dsuit_cbor_check(buf, n,
                                  DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED, 0);
            if (rc != DSUIT_OK)
                fail_msg("strict %s: %s", appendix_a[i].hex,
                         dsuit_err_name(rc));
        }
    }
}

struct intcase {
    const char *hex;
    int64_t v;
};

static void cbor_get_int_decodes_appendix_a_integers(void **state)
{
    (void)state;
    static const struct intcase cases[] = {
        {"00", 0},           {"01", 1},
        {"0a", 10},          {"17", 23},
        {"1818", 24},        {"1819", 25},
        {"1864", 100},       {"1903e8", 1000},
        {"1a000f4240", 1000000},
        {"1b000000e8d4a51000", 1000000000000LL},
        {"20", -1},          {"29", -10},
        {"3863", -100},      {"3903e7", -1000},
        {"1b7fffffffffffffff", INT64_MAX},
        {"3b7fffffffffffffff", INT64_MIN},
    };
    uint8_t buf[16];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = unhex(cases[i].hex, buf, sizeof buf);
        dsuit_cbor_dec_t d;
        dsuit_cbor_dec_init(&d, buf, n, DSUIT_CBOR_STRICT);
        int64_t v = 12345;
        assert_int_equal(dsuit_cbor_get_int(&d, &v), DSUIT_OK);
        assert_true(v == cases[i].v);
        assert_int_equal(dsuit_cbor_remaining(&d), 0);
    }
}

static void cbor_get_uint_reads_the_largest_uint64(void **state)
{
    (void)state;
    uint8_t buf[16];
    size_t n = unhex("1bffffffffffffffff", buf, sizeof buf);
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, n, DSUIT_CBOR_STRICT);
    uint64_t v = 0;
    assert_int_equal(dsuit_cbor_get_uint(&d, &v), DSUIT_OK);
    assert_true(v == UINT64_MAX);
}

static void cbor_get_int_rejects_values_outside_int64(void **state)
{
    (void)state;
    const char *cases[] = {"1bffffffffffffffff", "3bffffffffffffffff",
                           "1b8000000000000000", "3b8000000000000000"};
    uint8_t buf[16];
    for (size_t i = 0; i < 4; i++) {
        size_t n = unhex(cases[i], buf, sizeof buf);
        dsuit_cbor_dec_t d;
        dsuit_cbor_dec_init(&d, buf, n, 0);
        int64_t v = 7;
        assert_int_equal(dsuit_cbor_get_int(&d, &v), DSUIT_E_RANGE);
        assert_true(v == 7);         /* out-param untouched on error */
        assert_int_equal(d.pos, 0); /* nothing consumed */
    }
}

static void cbor_getters_walk_a_nested_structure_zero_copy(void **state)
{
    (void)state;
    /* {"a": 1, "b": [2, 3]} then a tagged bstr 24(h'6449455446') */
    uint8_t buf[64];
    size_t n = unhex("a26161016162820203", buf, sizeof buf);
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, n, DSUIT_CBOR_STRICT | DSUIT_CBOR_NODUPS);
    size_t count, len;
    const char *s;
    int64_t v;
    assert_int_equal(dsuit_cbor_get_map(&d, &count), DSUIT_OK);
    assert_int_equal(count, 2);
    assert_int_equal(dsuit_cbor_get_tstr(&d, &s, &len), DSUIT_OK);
    assert_int_equal(len, 1);
    assert_ptr_equal(s, (const char *)buf + 2); /* points into the input */
    assert_int_equal(dsuit_cbor_get_int(&d, &v), DSUIT_OK);
    assert_int_equal(v, 1);
    assert_int_equal(dsuit_cbor_get_tstr(&d, &s, &len), DSUIT_OK);
    assert_memory_equal(s, "b", 1);
    assert_int_equal(dsuit_cbor_get_array(&d, &count), DSUIT_OK);
    assert_int_equal(count, 2);
    assert_int_equal(dsuit_cbor_get_int(&d, &v), DSUIT_OK);
    assert_int_equal(v, 2);
    assert_int_equal(dsuit_cbor_get_int(&d, &v), DSUIT_OK);
    assert_int_equal(v, 3);
    assert_int_equal(dsuit_cbor_remaining(&d), 0);

    n = unhex("d818456449455446", buf, sizeof buf);
    dsuit_cbor_dec_init(&d, buf, n, DSUIT_CBOR_STRICT);
    uint64_t tag;
    const uint8_t *b;
    assert_int_equal(dsuit_cbor_get_tag(&d, &tag), DSUIT_OK);
    assert_int_equal(tag, 24);
    assert_int_equal(dsuit_cbor_get_bstr(&d, &b, &len), DSUIT_OK);
    assert_int_equal(len, 5);
    assert_ptr_equal(b, buf + 3);
}

static void cbor_simple_getters_read_bool_and_null(void **state)
{
    (void)state;
    const uint8_t buf[] = {0xf5, 0xf4, 0xf6, 0xf7};
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, sizeof buf, DSUIT_CBOR_STRICT);
    int b = -1;
    assert_int_equal(dsuit_cbor_get_bool(&d, &b), DSUIT_OK);
    assert_int_equal(b, 1);
    assert_int_equal(dsuit_cbor_get_bool(&d, &b), DSUIT_OK);
    assert_int_equal(b, 0);
    assert_int_equal(dsuit_cbor_get_bool(&d, &b), DSUIT_E_CBOR_TYPE);
    assert_int_equal(dsuit_cbor_get_null(&d), DSUIT_OK);
    assert_int_equal(dsuit_cbor_get_null(&d), DSUIT_E_CBOR_TYPE);
}

static void cbor_getter_type_mismatch_consumes_nothing(void **state)
{
    (void)state;
    const uint8_t buf[] = {0x20, 0x41, 0x00};
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, sizeof buf, 0);
    uint64_t u = 99;
    size_t count;
    const uint8_t *b;
    size_t len;
    assert_int_equal(dsuit_cbor_get_uint(&d, &u), DSUIT_E_CBOR_TYPE);
    assert_int_equal(u, 99);
    assert_int_equal(dsuit_cbor_get_array(&d, &count), DSUIT_E_CBOR_TYPE);
    assert_int_equal(dsuit_cbor_get_map(&d, &count), DSUIT_E_CBOR_TYPE);
    assert_int_equal(dsuit_cbor_get_bstr(&d, &b, &len), DSUIT_E_CBOR_TYPE);
    assert_int_equal(d.pos, 0);
}

static void cbor_expect_uint_consumes_only_the_wanted_value(void **state)
{
    (void)state;
    /* 5, "a", 24 (one-byte head), then 1000 cut short. */
    const uint8_t buf[] = {0x05, 0x61, 0x61, 0x18, 0x18, 0x19, 0x03};
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, sizeof buf, DSUIT_CBOR_STRICT);
    assert_int_equal(dsuit_cbor_expect_uint(&d, 6), DSUIT_E_INVAL);
    assert_int_equal(d.pos, 0);
    assert_int_equal(dsuit_cbor_expect_uint(&d, 5), DSUIT_OK);
    assert_int_equal(d.pos, 1);
    assert_int_equal(dsuit_cbor_expect_uint(&d, 5), DSUIT_E_CBOR_TYPE);
    assert_int_equal(d.pos, 1);
    d.pos = 3;
    assert_int_equal(dsuit_cbor_expect_uint(&d, 24), DSUIT_OK);
    assert_int_equal(d.pos, 5);
    assert_int_equal(dsuit_cbor_expect_uint(&d, 1000), DSUIT_E_TRUNCATED);
    assert_int_equal(d.pos, 5);
}

static void cbor_skip_returns_the_span_of_a_whole_item(void **state)
{
    (void)state;
    uint8_t buf[32];
    size_t n = unhex("8301820203820405" "07", buf, sizeof buf);
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, n, DSUIT_CBOR_STRICT);
    const uint8_t *start;
    size_t len;
    assert_int_equal(dsuit_cbor_skip(&d, &start, &len), DSUIT_OK);
    assert_ptr_equal(start, buf);
    assert_int_equal(len, 8);
    assert_int_equal(dsuit_cbor_remaining(&d), 1);
}

static void cbor_accept_tag_consumes_only_the_named_tag(void **state)
{
    (void)state;
    const uint8_t buf[] = {0xd2, 0x80};
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, sizeof buf, DSUIT_CBOR_STRICT);
    int found = -1;
    assert_int_equal(dsuit_cbor_accept_tag(&d, 17, &found), DSUIT_OK);
    assert_int_equal(found, 0);
    assert_int_equal(d.pos, 0);
    assert_int_equal(dsuit_cbor_accept_tag(&d, 18, &found), DSUIT_OK);
    assert_int_equal(found, 1);
    assert_int_equal(d.pos, 1);
}

/* ---- bad inputs: each with its own error ---- */

struct bad {
    const char *hex;
    unsigned flags;
    int err;
    const char *why;
};

static const struct bad bad_inputs[] = {
    {"", 0, DSUIT_E_TRUNCATED, "empty input"},
    {"18", 0, DSUIT_E_TRUNCATED, "1-byte argument missing"},
    {"1901", 0, DSUIT_E_TRUNCATED, "2-byte argument cut"},
    {"1a000000", 0, DSUIT_E_TRUNCATED, "4-byte argument cut"},
    {"1b00000000000000", 0, DSUIT_E_TRUNCATED, "8-byte argument cut"},
    {"c0", 0, DSUIT_E_TRUNCATED, "tag with no item"},
    {"821901", 0, DSUIT_E_TRUNCATED, "array element head cut"},
    {"a10102a1", 0, DSUIT_E_CBOR_TRAILING, "second map after the first"},
    {"1c", 0, DSUIT_E_CBOR_RESERVED, "uint ai 28"},
    {"3d", 0, DSUIT_E_CBOR_RESERVED, "nint ai 29"},
    {"5e", 0, DSUIT_E_CBOR_RESERVED, "bstr ai 30"},
    {"7c", 0, DSUIT_E_CBOR_RESERVED, "tstr ai 28"},
    {"9d", 0, DSUIT_E_CBOR_RESERVED, "array ai 29"},
    {"be", 0, DSUIT_E_CBOR_RESERVED, "map ai 30"},
    {"dc", 0, DSUIT_E_CBOR_RESERVED, "tag ai 28"},
    {"fd", 0, DSUIT_E_CBOR_RESERVED, "simple ai 29"},
    {"5f42010243030405ff", 0, DSUIT_E_CBOR_INDEFINITE, "indefinite bstr"},
    {"7f657374726561646d696e67ff", 0, DSUIT_E_CBOR_INDEFINITE,
     "indefinite tstr"},
    {"9fff", 0, DSUIT_E_CBOR_INDEFINITE, "indefinite array"},
    {"bf61610161629f0203ffff", 0, DSUIT_E_CBOR_INDEFINITE, "indefinite map"},
    {"ff", 0, DSUIT_E_CBOR_INDEFINITE, "lone break"},
    {"8201ff", 0, DSUIT_E_CBOR_INDEFINITE, "break inside definite array"},
    {"1f", 0, DSUIT_E_CBOR_MALFORMED, "uint ai 31"},
    {"3f", 0, DSUIT_E_CBOR_MALFORMED, "nint ai 31"},
    {"df00", 0, DSUIT_E_CBOR_MALFORMED, "tag ai 31"},
    {"f800", 0, DSUIT_E_CBOR_MALFORMED, "simple 0 in two bytes"},
    {"f814", 0, DSUIT_E_CBOR_MALFORMED, "false in two bytes"},
    {"f81f", 0, DSUIT_E_CBOR_MALFORMED, "simple 31 in two bytes"},
    {"1817", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL, "23 in two bytes"},
    {"190017", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL, "23 in 3 bytes"},
    {"1900ff", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL, "255 in 3 bytes"},
    {"1a0000ffff", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL,
     "65535 in 5 bytes"},
    {"1b00000000ffffffff", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL,
     "2^32-1 in 9 bytes"},
    {"380a", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL, "-11 in two bytes"},
    {"580161", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL,
     "bstr length non-minimal"},
    {"980100", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL,
     "array count non-minimal"},
    {"d8020100", DSUIT_CBOR_STRICT, DSUIT_E_CBOR_NONMINIMAL,
     "tag non-minimal"},
    {"4201", 0, DSUIT_E_CBOR_LENGTH, "bstr longer than input"},
    {"6301", 0, DSUIT_E_CBOR_LENGTH, "tstr longer than input"},
    {"5affffffff00", 0, DSUIT_E_CBOR_LENGTH, "4 GiB bstr declared"},
    {"5bffffffffffffffff00", 0, DSUIT_E_CBOR_LENGTH, "2^64-1 bstr declared"},
    {"9b7fffffffffffffff00", 0, DSUIT_E_CBOR_LENGTH, "huge array declared"},
    {"bbffffffffffffffff00", 0, DSUIT_E_CBOR_LENGTH, "huge map declared"},
    {"830102", 0, DSUIT_E_CBOR_LENGTH, "array count past input"},
    {"a101", 0, DSUIT_E_CBOR_LENGTH, "map pairs past input"},
    {"0102", 0, DSUIT_E_CBOR_TRAILING, "two top-level items"},
    {"a201020103", DSUIT_CBOR_NODUPS, DSUIT_E_CBOR_DUPKEY, "repeated key 1"},
    {"a2616101616102", DSUIT_CBOR_NODUPS, DSUIT_E_CBOR_DUPKEY,
     "repeated text key"},
    {"81a201000100", DSUIT_CBOR_NODUPS, DSUIT_E_CBOR_DUPKEY,
     "repeated key in nested map"},
    {"a203000100", DSUIT_CBOR_SORTED, DSUIT_E_CBOR_ORDER, "3 before 1"},
    {"a220000100", DSUIT_CBOR_SORTED, DSUIT_E_CBOR_ORDER, "-1 before 1"},
    {"a261620161610f", DSUIT_CBOR_SORTED, DSUIT_E_CBOR_ORDER,
     "\"b\" before \"a\""},
    {"a2616101616102", DSUIT_CBOR_SORTED, DSUIT_E_CBOR_DUPKEY,
     "sorted mode still reports repeats as repeats"},
};

static void cbor_check_rejects_each_bad_input_with_its_own_error(void **state)
{
    (void)state;
    uint8_t buf[64];
    for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++) {
        const struct bad *b = &bad_inputs[i];
        size_t n = unhex(b->hex, buf, sizeof buf);
        int rc = dsuit_cbor_check(buf, n, b->flags, 0);
        if (rc != b->err)
            fail_msg("%s (%s): want %s, got %s", b->hex, b->why,
                     dsuit_err_name(b->err), dsuit_err_name(rc));
    }
}

static void cbor_duplicate_keys_pass_when_the_caller_does_not_ask(void **state)
{
    (void)state;
    const uint8_t buf[] = {0xa2, 0x01, 0x02, 0x01, 0x03};
    assert_int_equal(dsuit_cbor_check(buf, sizeof buf, 0, 0), DSUIT_OK);
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, sizeof buf, DSUIT_CBOR_NODUPS);
    size_t count = 0;
    assert_int_equal(dsuit_cbor_get_map(&d, &count), DSUIT_E_CBOR_DUPKEY);
    assert_int_equal(d.pos, 0);
    assert_int_equal(count, 0);
}

static void cbor_map_keys_unique_refuses_maps_past_the_limit(void **state)
{
    (void)state;
    uint8_t buf[2 + 2 * (DSUIT_CBOR_MAX_MAP_CHECK + 1) * 2];
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_map(&e, DSUIT_CBOR_MAX_MAP_CHECK + 1);
    for (unsigned i = 0; i < DSUIT_CBOR_MAX_MAP_CHECK + 1; i++) {
        dsuit_cbor_put_uint(&e, 100 + i);
        dsuit_cbor_put_uint(&e, 0);
    }
    size_t n;
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n), DSUIT_OK);
    assert_int_equal(dsuit_cbor_check(buf, n, 0, 0), DSUIT_OK);
    assert_int_equal(dsuit_cbor_check(buf, n, DSUIT_CBOR_NODUPS, 0),
                     DSUIT_E_LIMIT);
}

static void cbor_nesting_is_bounded(void **state)
{
    (void)state;
    uint8_t buf[DSUIT_CBOR_MAX_DEPTH + 2];
    /* DSUIT_CBOR_MAX_DEPTH nested arrays around a 0: accepted. */
    memset(buf, 0x81, DSUIT_CBOR_MAX_DEPTH);
    buf[DSUIT_CBOR_MAX_DEPTH] = 0x00;
    assert_int_equal(dsuit_cbor_check(buf, DSUIT_CBOR_MAX_DEPTH + 1, 0, 0),
                     DSUIT_OK);
    /* One more level: refused. */
    memset(buf, 0x81, DSUIT_CBOR_MAX_DEPTH + 1);
    buf[DSUIT_CBOR_MAX_DEPTH + 1] = 0x00;
    assert_int_equal(dsuit_cbor_check(buf, DSUIT_CBOR_MAX_DEPTH + 2, 0, 0),
                     DSUIT_E_NESTING);
    /* Tags count as levels; a caller can lower the limit. */
    const uint8_t tags[] = {0xc1, 0xc1, 0xc1, 0x00};
    assert_int_equal(dsuit_cbor_check(tags, sizeof tags, 0, 3), DSUIT_OK);
    assert_int_equal(dsuit_cbor_check(tags, sizeof tags, 0, 2),
                     DSUIT_E_NESTING);
    /* An empty container also opens a level. */
    const uint8_t empties[] = {0x81, 0x81, 0x80};
    assert_int_equal(dsuit_cbor_check(empties, sizeof empties, 0, 2),
                     DSUIT_E_NESTING);
}

static void cbor_skip_leaves_the_cursor_alone_on_error(void **state)
{
    (void)state;
    const uint8_t buf[] = {0x82, 0x01, 0x19, 0x01};
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, sizeof buf, 0);
    const uint8_t *start = NULL;
    size_t len = 77;
    assert_int_equal(dsuit_cbor_skip(&d, &start, &len), DSUIT_E_TRUNCATED);
    assert_int_equal(d.pos, 0);
    assert_null(start);
    assert_int_equal(len, 77);
}

static void cbor_every_truncation_of_a_valid_item_is_rejected(void **state)
{
    (void)state;
    uint8_t buf[128];
    for (size_t i = 0; i < sizeof appendix_a / sizeof appendix_a[0]; i++) {
        size_t n = unhex(appendix_a[i].hex, buf, sizeof buf);
        for (size_t cut = 0; cut < n; cut++) {
            int rc = dsuit_cbor_check(buf, cut, 0, 0);
            if (rc == DSUIT_OK)
                fail_msg("%s cut at %zu accepted", appendix_a[i].hex, cut);
        }
    }
}

static void cbor_utf8_validation_follows_rfc3629(void **state)
{
    (void)state;
    struct {
        const char *hex;
        int ok;
    } cases[] = {
        {"", 1},          {"61", 1},       {"c3bc", 1},     {"e6b0b4", 1},
        {"f0908591", 1},  {"f48fbfbf", 1}, {"c0af", 0},     {"e080af", 0},
        {"eda080", 0},    {"f4908080", 0}, {"c3", 0},       {"80", 0},
        {"f8888080", 0},  {"e6b0", 0},     {"c328", 0},     {"ff", 0},
    };
    uint8_t buf[16];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = unhex(cases[i].hex, buf, sizeof buf);
        if (dsuit_cbor_utf8_valid(buf, n) != cases[i].ok)
            fail_msg("utf8 %s: want %d", cases[i].hex, cases[i].ok);
    }
}

static void cbor_error_names_and_messages_cover_every_code(void **state)
{
    (void)state;
#define CHECK_ERR(name, code, msg)                                             \
    assert_string_equal(dsuit_err_name(code), "DSUIT_" #name);                 \
    assert_string_equal(dsuit_strerror(code), msg);
    DSUIT_ERRORS(CHECK_ERR)
#undef CHECK_ERR
    assert_string_equal(dsuit_err_name(-9999), "DSUIT_E_UNKNOWN");
    assert_string_equal(dsuit_strerror(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cbor_check_accepts_every_appendix_a_example),
        cmocka_unit_test(cbor_get_int_decodes_appendix_a_integers),
        cmocka_unit_test(cbor_get_uint_reads_the_largest_uint64),
        cmocka_unit_test(cbor_expect_uint_consumes_only_the_wanted_value),
        cmocka_unit_test(cbor_get_int_rejects_values_outside_int64),
        cmocka_unit_test(cbor_getters_walk_a_nested_structure_zero_copy),
        cmocka_unit_test(cbor_simple_getters_read_bool_and_null),
        cmocka_unit_test(cbor_getter_type_mismatch_consumes_nothing),
        cmocka_unit_test(cbor_skip_returns_the_span_of_a_whole_item),
        cmocka_unit_test(cbor_accept_tag_consumes_only_the_named_tag),
        cmocka_unit_test(cbor_check_rejects_each_bad_input_with_its_own_error),
        cmocka_unit_test(cbor_duplicate_keys_pass_when_the_caller_does_not_ask),
        cmocka_unit_test(cbor_map_keys_unique_refuses_maps_past_the_limit),
        cmocka_unit_test(cbor_nesting_is_bounded),
        cmocka_unit_test(cbor_skip_leaves_the_cursor_alone_on_error),
        cmocka_unit_test(cbor_every_truncation_of_a_valid_item_is_rejected),
        cmocka_unit_test(cbor_utf8_validation_follows_rfc3629),
        cmocka_unit_test(cbor_error_names_and_messages_cover_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
