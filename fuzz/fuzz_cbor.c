/*
 * libFuzzer harness for the CBOR decoder (include/dsuit/cbor.h).
 *
 * For each input: dsuit_cbor_check() in non-strict, strict and strict+nodups
 * mode and with a small depth limit; a walk of every head with
 * dsuit_cbor_peek()/dsuit_cbor_read() that re-encodes each head (and string)
 * and, when the input is strictly well formed, requires the bytes to round
 * trip; a walk with the typed getters; and a walk with dsuit_cbor_skip().
 * Every pointer and span the decoder returns must lie inside the input, and
 * nothing may crash or read out of bounds (ASan + UBSan are on).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/cbor.h"

#include "fuzz.h"

static void check_span(const uint8_t *data, size_t size, const uint8_t *p,
                       size_t len)
{
    if (len == 0)
        return;
    CHECK(p != NULL);
    CHECK(p >= data && len <= size && (size_t)(p - data) <= size - len);
}

/* Re-encode one head (plus string content) into out; returns its length. */
static size_t reencode(const dsuit_cbor_item_t *it, uint8_t *out, size_t cap)
{
    dsuit_cbor_enc_t e;
    size_t n = 0;
    dsuit_cbor_enc_init(&e, out, cap);
    switch (it->major) {
    case DSUIT_CBOR_UINT:
        dsuit_cbor_put_uint(&e, it->val);
        break;
    case DSUIT_CBOR_NINT:
        if (it->val > INT64_MAX)
            return 0;
        dsuit_cbor_put_int(&e, -1 - (int64_t)it->val);
        break;
    case DSUIT_CBOR_BSTR:
        dsuit_cbor_put_bstr(&e, it->data, (size_t)it->val);
        break;
    case DSUIT_CBOR_TSTR:
        dsuit_cbor_put_tstr(&e, (const char *)it->data, (size_t)it->val);
        break;
    case DSUIT_CBOR_ARRAY:
        dsuit_cbor_put_array(&e, (size_t)it->val);
        break;
    case DSUIT_CBOR_MAP:
        dsuit_cbor_put_map(&e, (size_t)it->val);
        break;
    case DSUIT_CBOR_TAG:
        dsuit_cbor_put_tag(&e, it->val);
        break;
    default:
        if (it->ai == DSUIT_CBOR_FALSE || it->ai == DSUIT_CBOR_TRUE)
            dsuit_cbor_put_bool(&e, it->ai == DSUIT_CBOR_TRUE);
        else if (it->ai == DSUIT_CBOR_NULL)
            dsuit_cbor_put_null(&e);
        else
            return 0; /* floats, undefined, other simple values: skip */
    }
    if (dsuit_cbor_enc_finish(&e, &n) != DSUIT_OK)
        return 0;
    return n;
}

/* Walk every head; in strict mode re-encoding must give the same bytes. */
static void walk_heads(const uint8_t *data, size_t size, unsigned flags,
                       int roundtrip)
{
    dsuit_cbor_dec_t d;
    dsuit_cbor_item_t a, b;
    uint8_t enc[16];
    dsuit_cbor_dec_init(&d, data, size, flags);
    while (dsuit_cbor_remaining(&d) > 0) {
        size_t before = d.pos;
        if (dsuit_cbor_peek(&d, &a) != DSUIT_OK) {
            CHECK(d.pos == before);
            break;
        }
        CHECK(d.pos == before);
        CHECK(dsuit_cbor_read(&d, &b) == DSUIT_OK);
        CHECK(a.major == b.major && a.val == b.val && a.ai == b.ai);
        CHECK(b.offset == before && d.pos > before && d.pos <= size);
        if (b.major == DSUIT_CBOR_BSTR || b.major == DSUIT_CBOR_TSTR) {
            check_span(data, size, b.data, (size_t)b.val);
            CHECK(b.data == NULL || b.data + b.val == data + d.pos);
            if (b.major == DSUIT_CBOR_TSTR)
                (void)dsuit_cbor_utf8_valid(b.data, (size_t)b.val);
            if (roundtrip) {
                /* Compare only the head for strings (content shares bytes). */
                size_t head = d.pos - before - (size_t)b.val;
                uint8_t h2[16];
                dsuit_cbor_enc_t e;
                size_t n = 0;
                dsuit_cbor_enc_init(&e, h2, sizeof h2);
                dsuit_cbor_put_bstr_head(&e, (size_t)b.val);
                /* A text head is a byte-string head with major 3. */
                if (b.major == DSUIT_CBOR_TSTR)
                    h2[0] = (uint8_t)((h2[0] & 0x1f) | 0x60);
                CHECK(dsuit_cbor_enc_finish(&e, &n) == DSUIT_OK);
                CHECK(n == head && memcmp(h2, data + before, n) == 0);
            }
        } else {
            CHECK(b.data == NULL);
            size_t n = reencode(&b, enc, sizeof enc);
            if (roundtrip && n > 0) {
                CHECK(n == d.pos - before);
                CHECK(memcmp(enc, data + before, n) == 0);
            }
        }
    }
}

/* Consume with the typed getters, falling back to skip. */
static void walk_getters(const uint8_t *data, size_t size, unsigned flags)
{
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, data, size, flags);
    for (int steps = 0; steps < 4096 && dsuit_cbor_remaining(&d) > 0; steps++) {
        size_t before = d.pos;
        uint64_t u;
        int64_t i;
        const uint8_t *p;
        const char *s;
        size_t n;
        int bv, found;
        if (dsuit_cbor_get_uint(&d, &u) == DSUIT_OK)
            continue;
        CHECK(d.pos == before);
        if (dsuit_cbor_get_int(&d, &i) == DSUIT_OK)
            continue;
        CHECK(d.pos == before);
        if (dsuit_cbor_get_bstr(&d, &p, &n) == DSUIT_OK) {
            check_span(data, size, p, n);
            continue;
        }
        CHECK(d.pos == before);
        if (dsuit_cbor_get_tstr(&d, &s, &n) == DSUIT_OK) {
            check_span(data, size, (const uint8_t *)s, n);
            (void)dsuit_cbor_utf8_valid((const uint8_t *)s, n);
            continue;
        }
        CHECK(d.pos == before);
        if (dsuit_cbor_get_array(&d, &n) == DSUIT_OK)
            continue;
        CHECK(d.pos == before);
        if (dsuit_cbor_get_map(&d, &n) == DSUIT_OK) {
            (void)dsuit_cbor_map_keys_unique(&d, n);
            continue;
        }
        CHECK(d.pos == before);
        if (dsuit_cbor_accept_tag(&d, 18, &found) == DSUIT_OK && found)
            continue;
        if (dsuit_cbor_get_tag(&d, &u) == DSUIT_OK)
            continue;
        CHECK(d.pos == before);
        if (dsuit_cbor_get_bool(&d, &bv) == DSUIT_OK)
            continue;
        if (dsuit_cbor_get_null(&d) == DSUIT_OK)
            continue;
        CHECK(d.pos == before);
        if (dsuit_cbor_skip(&d, &p, &n) != DSUIT_OK) {
            CHECK(d.pos == before);
            break;
        }
        check_span(data, size, p, n);
        CHECK(d.pos > before);
    }
}

/* Consume whole items with skip. */
static void walk_skip(const uint8_t *data, size_t size, unsigned depth)
{
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, data, size, 0);
    if (depth > 0 && depth < d.max_depth)
        d.max_depth = depth;
    while (dsuit_cbor_remaining(&d) > 0) {
        const uint8_t *p = NULL;
        size_t n = 0, before = d.pos;
        if (dsuit_cbor_skip(&d, &p, &n) != DSUIT_OK) {
            CHECK(d.pos == before);
            break;
        }
        CHECK(p == data + before && n == d.pos - before && n > 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned depth = size > 0 ? (data[0] & 7u) : 0;
    int loose = dsuit_cbor_check(data, size, 0, 0);
    int strict = dsuit_cbor_check(data, size, DSUIT_CBOR_STRICT, 0);
    (void)dsuit_cbor_check(data, size, DSUIT_CBOR_STRICT | DSUIT_CBOR_NODUPS,
                           0);
    int shallow = dsuit_cbor_check(data, size, 0, depth);
    /* Strict acceptance implies loose acceptance; a depth limit only
     * removes inputs. */
    if (strict == DSUIT_OK)
        CHECK(loose == DSUIT_OK);
    if (shallow == DSUIT_OK)
        CHECK(loose == DSUIT_OK);

    walk_heads(data, size, 0, 0);
    walk_heads(data, size, DSUIT_CBOR_STRICT, strict == DSUIT_OK);
    walk_getters(data, size, 0);
    walk_getters(data, size, DSUIT_CBOR_STRICT | DSUIT_CBOR_NODUPS);
    walk_skip(data, size, 0);
    walk_skip(data, size, depth);

    /* A well-formed item re-emitted raw into a too-small buffer still
     * counts its full size. */
    if (loose == DSUIT_OK) {
        uint8_t small[8];
        dsuit_cbor_enc_t e;
        size_t n = 0;
        dsuit_cbor_enc_init(&e, small, sizeof small);
        dsuit_cbor_put_raw(&e, data, size);
        int rc = dsuit_cbor_enc_finish(&e, &n);
        CHECK(n == size);
        CHECK((rc == DSUIT_OK) == (size <= sizeof small));
    }
    return 0;
}
