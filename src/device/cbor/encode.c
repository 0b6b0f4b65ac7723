/*
 * CBOR encoder (RFC 8949), deterministic per §4.2.1: every head takes its
 * shortest form, lengths are definite, and dsuit_cbor_put_map_sorted()
 * orders map keys bytewise by their encoding.
 *
 * Device-safe: writes into the caller's buffer only. The encoder never
 * stops counting, so after an overflow enc.len still tells the size the
 * whole encoding needs; dsuit_cbor_enc_finish() reports it.
 */
#include <string.h>

#include "dsuit/cbor.h"

void dsuit_cbor_enc_init(dsuit_cbor_enc_t *e, uint8_t *buf, size_t cap)
{
    e->buf = buf;
    e->cap = buf ? cap : 0;
    e->len = 0;
}

int dsuit_cbor_enc_finish(const dsuit_cbor_enc_t *e, size_t *out_len)
{
    *out_len = e->len;
    return e->len > e->cap ? DSUIT_E_LIMIT : DSUIT_OK;
}

/* Append n bytes, or count them if they do not fit. Once one write has
 * overflowed, len > cap and nothing is written again. */
static int put_bytes(dsuit_cbor_enc_t *e, const uint8_t *p, size_t n)
{
    if (n > SIZE_MAX - e->len) {
        e->len = SIZE_MAX; /* cannot be represented: certainly too big */
        return DSUIT_E_LIMIT;
    }
    if (e->len <= e->cap && n <= e->cap - e->len) {
        if (n > 0)
            memcpy(e->buf + e->len, p, n);
        e->len += n;
        return DSUIT_OK;
    }
    e->len += n;
    return DSUIT_E_LIMIT;
}

static int put_head(dsuit_cbor_enc_t *e, uint8_t major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    const uint8_t mt = (uint8_t)(major << 5);

    if (v < 24) {
        h[0] = (uint8_t)(mt | v);
        n = 1;
    } else if (v <= 0xff) {
        h[0] = mt | 24;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = mt | 25;
        n = 3;
    } else if (v <= 0xffffffffu) {
        h[0] = mt | 26;
        n = 5;
    } else {
        h[0] = mt | 27;
        n = 9;
    }
    for (size_t i = n - 1; i >= 1; i--) {
        h[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    return put_bytes(e, h, n);
}

int dsuit_cbor_put_uint(dsuit_cbor_enc_t *e, uint64_t v)
{
    return put_head(e, DSUIT_CBOR_UINT, v);
}

int dsuit_cbor_put_int(dsuit_cbor_enc_t *e, int64_t v)
{
    if (v >= 0)
        return put_head(e, DSUIT_CBOR_UINT, (uint64_t)v);
    /* -1 - v, computed without overflowing for INT64_MIN. */
    return put_head(e, DSUIT_CBOR_NINT, (uint64_t)(-(v + 1)));
}

int dsuit_cbor_put_bstr(dsuit_cbor_enc_t *e, const uint8_t *p, size_t len)
{
    int rc = put_head(e, DSUIT_CBOR_BSTR, len);
    int rc2 = put_bytes(e, p, len);
    return rc != DSUIT_OK ? rc : rc2;
}

int dsuit_cbor_put_tstr(dsuit_cbor_enc_t *e, const char *p, size_t len)
{
    int rc = put_head(e, DSUIT_CBOR_TSTR, len);
    int rc2 = put_bytes(e, (const uint8_t *)p, len);
    return rc != DSUIT_OK ? rc : rc2;
}

int dsuit_cbor_put_tstr_z(dsuit_cbor_enc_t *e, const char *s)
{
    return dsuit_cbor_put_tstr(e, s, strlen(s));
}

int dsuit_cbor_put_bstr_head(dsuit_cbor_enc_t *e, size_t len)
{
    return put_head(e, DSUIT_CBOR_BSTR, len);
}

int dsuit_cbor_put_array(dsuit_cbor_enc_t *e, size_t count)
{
    return put_head(e, DSUIT_CBOR_ARRAY, count);
}

int dsuit_cbor_put_map(dsuit_cbor_enc_t *e, size_t count)
{
    return put_head(e, DSUIT_CBOR_MAP, count);
}

int dsuit_cbor_put_tag(dsuit_cbor_enc_t *e, uint64_t tag)
{
    return put_head(e, DSUIT_CBOR_TAG, tag);
}

int dsuit_cbor_put_bool(dsuit_cbor_enc_t *e, int v)
{
    return put_head(e, DSUIT_CBOR_SIMPLE, v ? DSUIT_CBOR_TRUE : DSUIT_CBOR_FALSE);
}

int dsuit_cbor_put_null(dsuit_cbor_enc_t *e)
{
    return put_head(e, DSUIT_CBOR_SIMPLE, DSUIT_CBOR_NULL);
}

int dsuit_cbor_put_simple(dsuit_cbor_enc_t *e, uint8_t v)
{
    /* 24..31 are reserved or used for floats and break (§3.3). */
    if (v >= 24 && v < 32)
        return DSUIT_E_INVAL;
    return put_head(e, DSUIT_CBOR_SIMPLE, v);
}

int dsuit_cbor_put_raw(dsuit_cbor_enc_t *e, const uint8_t *p, size_t len)
{
    return put_bytes(e, p, len);
}

/* Bytewise lexicographic order; a shorter key that is a prefix sorts first
 * (it cannot happen between two well-formed items, but order stays total). */
static int key_cmp(const dsuit_cbor_pair_t *a, const dsuit_cbor_pair_t *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    if (a->key_len == b->key_len)
        return 0;
    return a->key_len < b->key_len ? -1 : 1;
}

int dsuit_cbor_put_map_sorted(dsuit_cbor_enc_t *e, dsuit_cbor_pair_t *pairs,
                              size_t n)
{
    for (size_t i = 1; i < n; i++) {
        dsuit_cbor_pair_t cur = pairs[i];
        size_t j = i;
        while (j > 0 && key_cmp(&pairs[j - 1], &cur) > 0) {
            pairs[j] = pairs[j - 1];
            j--;
        }
        pairs[j] = cur;
    }
    for (size_t i = 1; i < n; i++) {
        if (key_cmp(&pairs[i - 1], &pairs[i]) == 0)
            return DSUIT_E_CBOR_DUPKEY;
    }
    int rc = put_head(e, DSUIT_CBOR_MAP, n);
    for (size_t i = 0; i < n; i++) {
        int r1 = put_bytes(e, pairs[i].key, pairs[i].key_len);
        int r2 = put_bytes(e, pairs[i].val, pairs[i].val_len);
        if (rc == DSUIT_OK)
            rc = r1 != DSUIT_OK ? r1 : r2;
    }
    return rc;
}
