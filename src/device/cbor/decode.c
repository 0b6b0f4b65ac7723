/*
 * CBOR pull decoder (RFC 8949 §3), device-safe: no allocation, no recursion.
 *
 * Every item starts with a head: one initial byte (major type in the top 3
 * bits, additional information "ai" in the low 5) and 0, 1, 2, 4 or 8
 * argument bytes, big-endian:
 *
 *   ai 0..23   argument is ai itself            head is 1 byte
 *   ai 24      1 argument byte                  head is 2 bytes
 *   ai 25      2 argument bytes (half float)    head is 3 bytes
 *   ai 26      4 argument bytes (single float)  head is 5 bytes
 *   ai 27      8 argument bytes (double float)  head is 9 bytes
 *   ai 28..30  reserved: not well-formed        DSUIT_E_CBOR_RESERVED
 *   ai 31      indefinite length / break        DSUIT_E_CBOR_INDEFINITE
 *
 * Every length is checked against what remains of the input before anything
 * is read: a string must fit; an array of n items needs at least n bytes and
 * a map of n pairs at least 2n, so huge declared counts are refused at the
 * head (DSUIT_E_CBOR_LENGTH) instead of being discovered item by item.
 *
 * Skipping nested items keeps an explicit stack of "items left" counters,
 * one per open container or tag, bounded by DSUIT_CBOR_MAX_DEPTH: worst-case
 * stack use of dsuit_cbor_skip() is about 8 * DSUIT_CBOR_MAX_DEPTH bytes plus
 * a few locals, and dsuit_cbor_map_keys_unique() adds
 * 2 * sizeof(size_t) * DSUIT_CBOR_MAX_MAP_CHECK.
 */
#include <string.h>

#include "dsuit/cbor.h"

/* Decode the head at pos. On success fill *it and set *out_next to the
 * offset after the head (after the content, for strings). */
static int read_head(const dsuit_cbor_dec_t *d, size_t pos,
                     dsuit_cbor_item_t *it, size_t *out_next)
{
    if (pos >= d->len)
        return DSUIT_E_TRUNCATED;
    const uint8_t ib = d->buf[pos];
    const uint8_t major = (uint8_t)(ib >> 5);
    const uint8_t ai = (uint8_t)(ib & 0x1f);
    size_t p = pos + 1;
    uint64_t v;

    if (ai < 24) {
        v = ai;
    } else if (ai <= 27) {
        const size_t n = (size_t)1 << (ai - 24);
        if (d->len - p < n)
            return DSUIT_E_TRUNCATED;
        v = 0;
        for (size_t i = 0; i < n; i++)
            v = (v << 8) | d->buf[p + i];
        p += n;
        if (major == DSUIT_CBOR_SIMPLE) {
            /* RFC 8949 §3.3: simple values 0..31 never take the two-byte
             * form; that encoding is not well-formed in any mode. */
            if (ai == 24 && v < 32)
                return DSUIT_E_CBOR_MALFORMED;
        } else if (d->flags & DSUIT_CBOR_STRICT) {
            /* Deterministic encoding (§4.2.1): the shortest head. */
            if ((ai == 24 && v < 24) || (ai == 25 && v <= 0xff) ||
                (ai == 26 && v <= 0xffff) || (ai == 27 && v <= 0xffffffffu))
                return DSUIT_E_CBOR_NONMINIMAL;
        }
    } else if (ai <= 30) {
        return DSUIT_E_CBOR_RESERVED;
    } else {
        /* ai 31: indefinite length for strings and containers, "break"
         * for major 7; for integers and tags it has no meaning at all. */
        if (major == DSUIT_CBOR_UINT || major == DSUIT_CBOR_NINT ||
            major == DSUIT_CBOR_TAG)
            return DSUIT_E_CBOR_MALFORMED;
        return DSUIT_E_CBOR_INDEFINITE;
    }

    const uint64_t left = (uint64_t)(d->len - p);
    const uint8_t *data = NULL;
    switch (major) {
    case DSUIT_CBOR_BSTR:
    case DSUIT_CBOR_TSTR:
        if (v > left)
            return DSUIT_E_CBOR_LENGTH;
        data = d->buf + p;
        p += (size_t)v;
        break;
    case DSUIT_CBOR_ARRAY:
        if (v > left)
            return DSUIT_E_CBOR_LENGTH;
        break;
    case DSUIT_CBOR_MAP:
        if (v > left / 2)
            return DSUIT_E_CBOR_LENGTH;
        break;
    default:
        break;
    }

    it->major = major;
    it->ai = ai;
    it->val = v;
    it->data = data;
    it->offset = pos;
    *out_next = p;
    return DSUIT_OK;
}

void dsuit_cbor_dec_init(dsuit_cbor_dec_t *d, const uint8_t *buf, size_t len,
                         unsigned flags)
{
    d->buf = buf;
    d->len = buf ? len : 0;
    d->pos = 0;
    d->flags = flags;
    d->max_depth = DSUIT_CBOR_MAX_DEPTH;
}

size_t dsuit_cbor_remaining(const dsuit_cbor_dec_t *d)
{
    return d->len - d->pos;
}

int dsuit_cbor_peek(const dsuit_cbor_dec_t *d, dsuit_cbor_item_t *out)
{
    size_t next;
    return read_head(d, d->pos, out, &next);
}

int dsuit_cbor_read(dsuit_cbor_dec_t *d, dsuit_cbor_item_t *out)
{
    dsuit_cbor_item_t it;
    size_t next;
    int rc = read_head(d, d->pos, &it, &next);
    if (rc != DSUIT_OK)
        return rc;
    d->pos = next;
    *out = it;
    return DSUIT_OK;
}

static int keys_unique_at(const dsuit_cbor_dec_t *d, size_t pos, size_t count);

#define MAP_CHECK_FLAGS (DSUIT_CBOR_NODUPS | DSUIT_CBOR_SORTED)

/*
 * Skip one whole item starting at *pos. With check_dups, every map met on
 * the way has its keys checked (repeats, and order if d->flags asks).
 * Leaves *pos after the item.
 */
static int skip_at(const dsuit_cbor_dec_t *d, size_t *pos, int check_dups)
{
    uint64_t stack[DSUIT_CBOR_MAX_DEPTH];
    unsigned depth = 0;
    unsigned max_depth = d->max_depth;
    uint64_t left = 1;
    size_t p = *pos;

    if (max_depth > DSUIT_CBOR_MAX_DEPTH)
        max_depth = DSUIT_CBOR_MAX_DEPTH;

    /* Each pass consumes at least one input byte or closes a level, so the
     * loop runs at most 2 * len times. */
    for (;;) {
        if (left == 0) {
            if (depth == 0)
                break;
            left = stack[--depth];
            continue;
        }
        dsuit_cbor_item_t it;
        size_t next;
        int rc = read_head(d, p, &it, &next);
        if (rc != DSUIT_OK)
            return rc;
        left--;
        uint64_t children = 0;
        if (it.major == DSUIT_CBOR_ARRAY) {
            children = it.val;
        } else if (it.major == DSUIT_CBOR_MAP) {
            children = 2 * it.val; /* no overflow: val <= len / 2 */
            if (check_dups && it.val > 1) {
                rc = keys_unique_at(d, next, (size_t)it.val);
                if (rc != DSUIT_OK)
                    return rc;
            }
        } else if (it.major == DSUIT_CBOR_TAG) {
            children = 1;
        }
        p = next;
        /* Every container or tag opens a level, even an empty one: an
         * empty array at depth 17 is still nested too deeply. */
        if (it.major == DSUIT_CBOR_ARRAY || it.major == DSUIT_CBOR_MAP ||
            it.major == DSUIT_CBOR_TAG) {
            if (depth >= max_depth)
                return DSUIT_E_NESTING;
            stack[depth++] = left;
            left = children;
        }
    }
    *pos = p;
    return DSUIT_OK;
}

int dsuit_cbor_skip(dsuit_cbor_dec_t *d, const uint8_t **out_start,
                    size_t *out_len)
{
    size_t p = d->pos;
    int rc = skip_at(d, &p, (d->flags & MAP_CHECK_FLAGS) != 0);
    if (rc != DSUIT_OK)
        return rc;
    if (out_start)
        *out_start = d->buf + d->pos;
    if (out_len)
        *out_len = p - d->pos;
    d->pos = p;
    return DSUIT_OK;
}

/* Keys of a map of `count` pairs whose first key starts at pos: no repeats,
 * and ascending if DSUIT_CBOR_SORTED. Nested maps are not checked here
 * (skip_at with check_dups visits them). */
static int keys_unique_at(const dsuit_cbor_dec_t *d, size_t pos, size_t count)
{
    size_t off[DSUIT_CBOR_MAX_MAP_CHECK];
    size_t len[DSUIT_CBOR_MAX_MAP_CHECK];

    if (count > DSUIT_CBOR_MAX_MAP_CHECK)
        return DSUIT_E_LIMIT;
    size_t p = pos;
    for (size_t i = 0; i < count; i++) {
        size_t start = p;
        int rc = skip_at(d, &p, 0);
        if (rc != DSUIT_OK)
            return rc;
        off[i] = start;
        len[i] = p - start;
        if ((d->flags & DSUIT_CBOR_SORTED) && i > 0) {
            /* Bytewise order of the encodings; a repeat is reported as a
             * repeat, not as disorder. */
            size_t n = len[i - 1] < len[i] ? len[i - 1] : len[i];
            int c = memcmp(d->buf + off[i - 1], d->buf + off[i], n);
            if (c > 0 || (c == 0 && len[i - 1] > len[i]))
                return DSUIT_E_CBOR_ORDER;
        }
        for (size_t j = 0; j < i; j++) {
            if (len[j] == len[i] &&
                memcmp(d->buf + off[j], d->buf + off[i], len[i]) == 0)
                return DSUIT_E_CBOR_DUPKEY;
        }
        rc = skip_at(d, &p, 0);
        if (rc != DSUIT_OK)
            return rc;
    }
    return DSUIT_OK;
}

int dsuit_cbor_map_keys_unique(const dsuit_cbor_dec_t *d, size_t count)
{
    return keys_unique_at(d, d->pos, count);
}

int dsuit_cbor_check(const uint8_t *buf, size_t len, unsigned flags,
                     unsigned max_depth)
{
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, buf, len, flags);
    if (max_depth != 0 && max_depth < d.max_depth)
        d.max_depth = max_depth;
    int rc = dsuit_cbor_skip(&d, NULL, NULL);
    if (rc != DSUIT_OK)
        return rc;
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_CBOR_TRAILING;
    return DSUIT_OK;
}

/* Peek, require a major type, consume. */
static int take(dsuit_cbor_dec_t *d, uint8_t major, dsuit_cbor_item_t *it)
{
    size_t next;
    int rc = read_head(d, d->pos, it, &next);
    if (rc != DSUIT_OK)
        return rc;
    if (it->major != major)
        return DSUIT_E_CBOR_TYPE;
    d->pos = next;
    return DSUIT_OK;
}

int dsuit_cbor_get_uint(dsuit_cbor_dec_t *d, uint64_t *out)
{
    dsuit_cbor_item_t it;
    int rc = take(d, DSUIT_CBOR_UINT, &it);
    if (rc == DSUIT_OK)
        *out = it.val;
    return rc;
}

int dsuit_cbor_expect_uint(dsuit_cbor_dec_t *d, uint64_t want)
{
    dsuit_cbor_item_t it;
    size_t next;
    int rc = read_head(d, d->pos, &it, &next);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major != DSUIT_CBOR_UINT)
        return DSUIT_E_CBOR_TYPE;
    if (it.val != want)
        return DSUIT_E_INVAL;
    d->pos = next;
    return DSUIT_OK;
}

int dsuit_cbor_get_int(dsuit_cbor_dec_t *d, int64_t *out)
{
    dsuit_cbor_item_t it;
    size_t next;
    int rc = read_head(d, d->pos, &it, &next);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major != DSUIT_CBOR_UINT && it.major != DSUIT_CBOR_NINT)
        return DSUIT_E_CBOR_TYPE;
    if (it.val > (uint64_t)INT64_MAX)
        return DSUIT_E_RANGE;
    d->pos = next;
    /* nint encodes -1 - val; val <= INT64_MAX keeps it within int64_t. */
    *out = it.major == DSUIT_CBOR_UINT ? (int64_t)it.val : -1 - (int64_t)it.val;
    return DSUIT_OK;
}

int dsuit_cbor_get_bstr(dsuit_cbor_dec_t *d, const uint8_t **out,
                        size_t *out_len)
{
    dsuit_cbor_item_t it;
    int rc = take(d, DSUIT_CBOR_BSTR, &it);
    if (rc == DSUIT_OK) {
        *out = it.data;
        *out_len = (size_t)it.val;
    }
    return rc;
}

int dsuit_cbor_get_tstr(dsuit_cbor_dec_t *d, const char **out, size_t *out_len)
{
    dsuit_cbor_item_t it;
    int rc = take(d, DSUIT_CBOR_TSTR, &it);
    if (rc == DSUIT_OK) {
        *out = (const char *)it.data;
        *out_len = (size_t)it.val;
    }
    return rc;
}

int dsuit_cbor_get_array(dsuit_cbor_dec_t *d, size_t *out_count)
{
    dsuit_cbor_item_t it;
    int rc = take(d, DSUIT_CBOR_ARRAY, &it);
    if (rc == DSUIT_OK)
        *out_count = (size_t)it.val;
    return rc;
}

int dsuit_cbor_get_map(dsuit_cbor_dec_t *d, size_t *out_count)
{
    dsuit_cbor_item_t it;
    size_t next;
    int rc = read_head(d, d->pos, &it, &next);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major != DSUIT_CBOR_MAP)
        return DSUIT_E_CBOR_TYPE;
    if ((d->flags & MAP_CHECK_FLAGS) && it.val > 1) {
        rc = keys_unique_at(d, next, (size_t)it.val);
        if (rc != DSUIT_OK)
            return rc;
    }
    d->pos = next;
    *out_count = (size_t)it.val;
    return DSUIT_OK;
}

int dsuit_cbor_get_tag(dsuit_cbor_dec_t *d, uint64_t *out_tag)
{
    dsuit_cbor_item_t it;
    int rc = take(d, DSUIT_CBOR_TAG, &it);
    if (rc == DSUIT_OK)
        *out_tag = it.val;
    return rc;
}

int dsuit_cbor_get_bool(dsuit_cbor_dec_t *d, int *out)
{
    dsuit_cbor_item_t it;
    size_t next;
    int rc = read_head(d, d->pos, &it, &next);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major != DSUIT_CBOR_SIMPLE ||
        (it.ai != DSUIT_CBOR_FALSE && it.ai != DSUIT_CBOR_TRUE))
        return DSUIT_E_CBOR_TYPE;
    d->pos = next;
    *out = it.ai == DSUIT_CBOR_TRUE;
    return DSUIT_OK;
}

int dsuit_cbor_get_null(dsuit_cbor_dec_t *d)
{
    dsuit_cbor_item_t it;
    size_t next;
    int rc = read_head(d, d->pos, &it, &next);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major != DSUIT_CBOR_SIMPLE || it.ai != DSUIT_CBOR_NULL)
        return DSUIT_E_CBOR_TYPE;
    d->pos = next;
    return DSUIT_OK;
}

int dsuit_cbor_accept_tag(dsuit_cbor_dec_t *d, uint64_t tag, int *out_found)
{
    dsuit_cbor_item_t it;
    size_t next;
    int rc = read_head(d, d->pos, &it, &next);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major == DSUIT_CBOR_TAG && it.val == tag) {
        d->pos = next;
        *out_found = 1;
    } else {
        *out_found = 0;
    }
    return DSUIT_OK;
}

int dsuit_cbor_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const uint8_t c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i - 1 < n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF
         * are not valid UTF-8 (RFC 3629 §3). */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
            (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}
