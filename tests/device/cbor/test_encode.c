/*
 * Tests of the deterministic CBOR encoder: RFC 8949 Appendix A encodings,
 * shortest heads at every boundary, map key ordering (§4.2.1), and the
 * "too small, here is the size needed" contract.
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
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        assert_true(n < cap);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static void expect_bytes(const dsuit_cbor_enc_t *e, const char *hex)
{
    uint8_t want[128];
    size_t n = unhex(hex, want, sizeof want), got;
    assert_int_equal(dsuit_cbor_enc_finish(e, &got), DSUIT_OK);
    if (got != n || memcmp(e->buf, want, n) != 0)
        fail_msg("want %s (%zu bytes), got %zu bytes", hex, n, got);
}

static void cbor_put_int_gives_appendix_a_encodings(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"},
        {1, "01"},
        {10, "0a"},
        {23, "17"},
        {24, "1818"},
        {25, "1819"},
        {100, "1864"},
        {255, "18ff"},
        {256, "190100"},
        {1000, "1903e8"},
        {65535, "19ffff"},
        {65536, "1a00010000"},
        {1000000, "1a000f4240"},
        {4294967295LL, "1affffffff"},
        {4294967296LL, "1b0000000100000000"},
        {1000000000000LL, "1b000000e8d4a51000"},
        {-1, "20"},
        {-10, "29"},
        {-24, "37"},
        {-25, "3818"},
        {-100, "3863"},
        {-1000, "3903e7"},
        {INT64_MIN, "3b7fffffffffffffff"},
        {INT64_MAX, "1b7fffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[16];
        dsuit_cbor_enc_t e;
        dsuit_cbor_enc_init(&e, buf, sizeof buf);
        assert_int_equal(dsuit_cbor_put_int(&e, cases[i].v), DSUIT_OK);
        expect_bytes(&e, cases[i].hex);
    }
    uint8_t buf[16];
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    assert_int_equal(dsuit_cbor_put_uint(&e, UINT64_MAX), DSUIT_OK);
    expect_bytes(&e, "1bffffffffffffffff");
}

static void cbor_put_builds_appendix_a_containers_and_strings(void **state)
{
    (void)state;
    uint8_t buf[128];
    dsuit_cbor_enc_t e;

    /* [1, [2, 3], [4, 5]] */
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_array(&e, 3);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_uint(&e, 4);
    dsuit_cbor_put_uint(&e, 5);
    expect_bytes(&e, "8301820203820405");

    /* [1, 2, ..., 25] */
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_array(&e, 25);
    for (unsigned i = 1; i <= 25; i++)
        dsuit_cbor_put_uint(&e, i);
    expect_bytes(&e,
                 "98190102030405060708090a0b0c0d0e0f101112131415161718181819");

    /* ["a", {"b": "c"}] */
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_tstr_z(&e, "a");
    dsuit_cbor_put_map(&e, 1);
    dsuit_cbor_put_tstr_z(&e, "b");
    dsuit_cbor_put_tstr_z(&e, "c");
    expect_bytes(&e, "826161a161626163");

    /* h'', h'01020304', "", "IETF", "\u00fc" */
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_bstr(&e, NULL, 0);
    dsuit_cbor_put_bstr(&e, (const uint8_t *)"\x01\x02\x03\x04", 4);
    dsuit_cbor_put_tstr(&e, "", 0);
    dsuit_cbor_put_tstr_z(&e, "IETF");
    dsuit_cbor_put_tstr_z(&e, "\xc3\xbc");
    expect_bytes(&e, "40440102030460644945544662c3bc");

    /* 1(1363896240), 23(h'01020304'), 32("http://www.example.com") */
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_tag(&e, 1);
    dsuit_cbor_put_uint(&e, 1363896240);
    dsuit_cbor_put_tag(&e, 23);
    dsuit_cbor_put_bstr(&e, (const uint8_t *)"\x01\x02\x03\x04", 4);
    dsuit_cbor_put_tag(&e, 32);
    dsuit_cbor_put_tstr_z(&e, "http://www.example.com");
    expect_bytes(&e, "c11a514b67b0d74401020304"
                     "d82076687474703a2f2f7777772e6578616d706c652e636f6d");

    /* false, true, null, simple(16), simple(255) */
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_bool(&e, 0);
    dsuit_cbor_put_bool(&e, 1);
    dsuit_cbor_put_null(&e);
    dsuit_cbor_put_simple(&e, 16);
    dsuit_cbor_put_simple(&e, 255);
    expect_bytes(&e, "f4f5f6f0f8ff");
    assert_int_equal(dsuit_cbor_put_simple(&e, 24), DSUIT_E_INVAL);
    assert_int_equal(dsuit_cbor_put_simple(&e, 31), DSUIT_E_INVAL);
}

static void cbor_bstr_head_wraps_an_encoded_item(void **state)
{
    (void)state;
    uint8_t buf[32];
    dsuit_cbor_enc_t e;
    const uint8_t inner[] = {0x82, 0x01, 0x02};
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_bstr_head(&e, sizeof inner);
    dsuit_cbor_put_raw(&e, inner, sizeof inner);
    expect_bytes(&e, "43820102");
}

static void cbor_put_map_sorted_orders_keys_bytewise(void **state)
{
    (void)state;
    /* COSE_Key-like keys given out of order: -3, 1, -1, -2, 3, "a". The
     * deterministic order is 01 03 20 21 22 6161. */
    static const uint8_t k_m3[] = {0x22}, k_1[] = {0x01}, k_m1[] = {0x20},
                         k_m2[] = {0x21}, k_3[] = {0x03},
                         k_a[] = {0x61, 0x61};
    static const uint8_t v0[] = {0x00}, v1[] = {0x01}, v2[] = {0x02},
                         v3[] = {0x03}, v4[] = {0x04}, v5[] = {0x05};
    dsuit_cbor_pair_t pairs[] = {
        {k_m3, 1, v0, 1}, {k_1, 1, v1, 1}, {k_m1, 1, v2, 1},
        {k_m2, 1, v3, 1}, {k_3, 1, v4, 1}, {k_a, 2, v5, 1},
    };
    uint8_t buf[32];
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    assert_int_equal(dsuit_cbor_put_map_sorted(&e, pairs, 6), DSUIT_OK);
    expect_bytes(&e, "a6010103042002210322006161" "05");
    size_t n;
    dsuit_cbor_enc_finish(&e, &n);
    assert_int_equal(dsuit_cbor_check(buf, n, DSUIT_CBOR_STRICT |
                                      DSUIT_CBOR_SORTED, 0), DSUIT_OK);
}

static void cbor_put_map_sorted_refuses_duplicate_keys(void **state)
{
    (void)state;
    static const uint8_t k[] = {0x01}, v[] = {0x00};
    dsuit_cbor_pair_t pairs[] = {{k, 1, v, 1}, {k, 1, v, 1}};
    uint8_t buf[8];
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    assert_int_equal(dsuit_cbor_put_map_sorted(&e, pairs, 2),
                     DSUIT_E_CBOR_DUPKEY);
    assert_int_equal(e.len, 0); /* nothing written */
}

static void cbor_encoder_reports_the_size_needed_when_too_small(void **state)
{
    (void)state;
    uint8_t big[64], small[4];
    const char *text = "a string of some length";
    dsuit_cbor_enc_t e;

    /* Measure with no buffer at all. */
    dsuit_cbor_enc_init(&e, NULL, 0);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_tstr_z(&e, text);
    dsuit_cbor_put_uint(&e, 1000);
    size_t need = 0;
    assert_int_equal(dsuit_cbor_enc_finish(&e, &need), DSUIT_E_LIMIT);
    assert_int_equal(need, 1 + 1 + strlen(text) + 3);

    /* A small buffer: every write after the overflow says so, the bytes
     * that did fit are intact, and the final size is the same. */
    dsuit_cbor_enc_init(&e, small, sizeof small);
    assert_int_equal(dsuit_cbor_put_array(&e, 2), DSUIT_OK);
    assert_int_equal(dsuit_cbor_put_tstr_z(&e, text), DSUIT_E_LIMIT);
    assert_int_equal(dsuit_cbor_put_uint(&e, 1000), DSUIT_E_LIMIT);
    size_t got = 0;
    assert_int_equal(dsuit_cbor_enc_finish(&e, &got), DSUIT_E_LIMIT);
    assert_int_equal(got, need);
    assert_int_equal(small[0], 0x82);

    /* Exactly the size needed: fits. */
    dsuit_cbor_enc_init(&e, big, need);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_tstr_z(&e, text);
    assert_int_equal(dsuit_cbor_put_uint(&e, 1000), DSUIT_OK);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &got), DSUIT_OK);
    assert_int_equal(got, need);
}

static void cbor_round_trip_of_every_head_boundary(void **state)
{
    (void)state;
    static const uint64_t vals[] = {0,          23,         24,
                                    255,        256,        65535,
                                    65536,      4294967295u, 4294967296u,
                                    UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        for (uint8_t major = 0; major <= 1; major++) {
            uint8_t buf[16];
            dsuit_cbor_enc_t e;
            dsuit_cbor_enc_init(&e, buf, sizeof buf);
            if (major == 0)
                dsuit_cbor_put_uint(&e, vals[i]);
            else if (vals[i] <= (uint64_t)INT64_MAX)
                dsuit_cbor_put_int(&e, -1 - (int64_t)vals[i]);
            else
                continue;
            size_t n;
            assert_int_equal(dsuit_cbor_enc_finish(&e, &n), DSUIT_OK);
            /* What we write is what strict mode demands... */
            assert_int_equal(dsuit_cbor_check(buf, n, DSUIT_CBOR_STRICT, 0),
                             DSUIT_OK);
            /* ...and reads back as the same value. */
            dsuit_cbor_dec_t d;
            dsuit_cbor_item_t it;
            dsuit_cbor_dec_init(&d, buf, n, DSUIT_CBOR_STRICT);
            assert_int_equal(dsuit_cbor_read(&d, &it), DSUIT_OK);
            assert_int_equal(it.major, major);
            assert_true(it.val == vals[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cbor_put_int_gives_appendix_a_encodings),
        cmocka_unit_test(cbor_put_builds_appendix_a_containers_and_strings),
        cmocka_unit_test(cbor_bstr_head_wraps_an_encoded_item),
        cmocka_unit_test(cbor_put_map_sorted_orders_keys_bytewise),
        cmocka_unit_test(cbor_put_map_sorted_refuses_duplicate_keys),
        cmocka_unit_test(cbor_encoder_reports_the_size_needed_when_too_small),
        cmocka_unit_test(cbor_round_trip_of_every_head_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
