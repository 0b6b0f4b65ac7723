/*
 * dsuit CBOR codec (RFC 8949), the subset SUIT and COSE use.
 *
 * Device-safe: no allocation, no recursion. The decoder is a pull cursor over
 * a const buffer; strings are returned as pointers into that buffer (zero
 * copy), so the buffer must outlive every pointer taken from it. The encoder
 * writes into a caller buffer and keeps counting past its end, so one pass
 * with a too-small (or NULL) buffer tells the size needed.
 *
 * Supported: major types 0-7 with definite lengths, tags, simple values,
 * floats (decoded only far enough to be skipped). Not supported, by design:
 * indefinite lengths (SUIT and COSE never use them; RFC 8949 §4.2.1 forbids
 * them in deterministic encoding).
 *
 * Encoding is deterministic per RFC 8949 §4.2.1: shortest heads, definite
 * lengths, and dsuit_cbor_put_map_sorted() orders map keys bytewise.
 */
#ifndef DSUIT_CBOR_H
#define DSUIT_CBOR_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest container nesting any decoder accepts; a build may lower or raise
 * it. Skipping an item uses a stack array of this many counters. */
#ifndef DSUIT_CBOR_MAX_DEPTH
#define DSUIT_CBOR_MAX_DEPTH 16
#endif

/* Largest map whose keys dsuit_cbor_map_keys_unique() checks. It keeps one
 * (offset, length) pair per key on the stack: 16 bytes each on 64-bit
 * hosts, 8 on 32-bit devices. */
#ifndef DSUIT_CBOR_MAX_MAP_CHECK
#define DSUIT_CBOR_MAX_MAP_CHECK 32
#endif

/* Major types (RFC 8949 §3.1). */
typedef enum {
    DSUIT_CBOR_UINT = 0,
    DSUIT_CBOR_NINT = 1,
    DSUIT_CBOR_BSTR = 2,
    DSUIT_CBOR_TSTR = 3,
    DSUIT_CBOR_ARRAY = 4,
    DSUIT_CBOR_MAP = 5,
    DSUIT_CBOR_TAG = 6,
    DSUIT_CBOR_SIMPLE = 7 /* simple values and floats */
} dsuit_cbor_major_t;

/* Simple values (RFC 8949 §3.3). */
#define DSUIT_CBOR_FALSE     20
#define DSUIT_CBOR_TRUE      21
#define DSUIT_CBOR_NULL      22
#define DSUIT_CBOR_UNDEFINED 23

/* Decoder flags. */
#define DSUIT_CBOR_STRICT 0x1u /* reject non-minimal heads */
#define DSUIT_CBOR_NODUPS 0x2u /* maps must not repeat a key */
#define DSUIT_CBOR_SORTED 0x4u /* map keys must be in deterministic order */

/*
 * One decoded head. For strings, data/val point at/measure the content; for
 * arrays and maps val is the element/pair count; for tags the tag number; for
 * uint the value; for nint the value is -1 - val; for major 7, val is the
 * simple value (ai < 24 or the following byte) or the raw float bits, and ai
 * tells which (25, 26, 27 are half, single, double floats).
 */
typedef struct {
    uint8_t major;       /* dsuit_cbor_major_t */
    uint8_t ai;          /* additional information, 0..27 */
    uint64_t val;        /* argument, see above */
    const uint8_t *data; /* string content (BSTR/TSTR), else NULL */
    size_t offset;       /* offset of the head in the buffer */
} dsuit_cbor_item_t;

/*
 * Decoder cursor. Invariant: pos <= len. Caller-owned; holds nothing outside
 * itself, so there is no _free.
 */
typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    unsigned flags;     /* DSUIT_CBOR_STRICT | DSUIT_CBOR_NODUPS */
    unsigned max_depth; /* <= DSUIT_CBOR_MAX_DEPTH */
} dsuit_cbor_dec_t;

/**
 * Set up a decoder over buf[0..len).
 * @param[in] buf    input; must outlive the decoder and every pointer it
 * returns
 * @param[in] flags  DSUIT_CBOR_STRICT and/or DSUIT_CBOR_NODUPS
 * max_depth starts at DSUIT_CBOR_MAX_DEPTH; a caller may lower it.
 */
void dsuit_cbor_dec_init(dsuit_cbor_dec_t *d, const uint8_t *buf, size_t len,
                         unsigned flags);

/** Bytes not yet consumed. */
size_t dsuit_cbor_remaining(const dsuit_cbor_dec_t *d);

/**
 * Decode the next head without consuming it.
 * Errors: DSUIT_E_TRUNCATED (no input, or head cut short),
 * DSUIT_E_CBOR_RESERVED (ai 28-30), DSUIT_E_CBOR_INDEFINITE (ai 31),
 * DSUIT_E_CBOR_NONMINIMAL (strict mode), DSUIT_E_CBOR_MALFORMED (two-byte
 * simple value below 32), DSUIT_E_CBOR_LENGTH (string longer than what
 * remains; array/map count larger than the remaining bytes could hold).
 */
int dsuit_cbor_peek(const dsuit_cbor_dec_t *d, dsuit_cbor_item_t *out);

/**
 * Decode the next head and consume it. For strings the content is consumed
 * too; for arrays, maps and tags only the head (the caller reads the
 * children). Errors as dsuit_cbor_peek().
 */
int dsuit_cbor_read(dsuit_cbor_dec_t *d, dsuit_cbor_item_t *out);

/**
 * Consume one whole item, children included, without recursion. With
 * DSUIT_CBOR_NODUPS / DSUIT_CBOR_SORTED every map inside is checked too.
 * @param[out] out_start, out_len  span of the item's encoding (may be NULL)
 * Errors: as dsuit_cbor_peek(), DSUIT_E_NESTING past d->max_depth,
 * DSUIT_E_CBOR_DUPKEY, DSUIT_E_CBOR_ORDER, DSUIT_E_LIMIT (a checked map
 * larger than DSUIT_CBOR_MAX_MAP_CHECK).
 * On error the cursor is left where it was.
 */
int dsuit_cbor_skip(dsuit_cbor_dec_t *d, const uint8_t **out_start,
                    size_t *out_len);

/*
 * Typed getters: consume one item of the named type. On a type mismatch they
 * return DSUIT_E_CBOR_TYPE and consume nothing. Out-params are written only on
 * success.
 */

/** Unsigned integer (major 0). */
int dsuit_cbor_get_uint(dsuit_cbor_dec_t *d, uint64_t *out);
/** The unsigned integer want, as a fixed map key or tag-like field is:
 * DSUIT_E_INVAL for another value (nothing consumed, as for a type
 * mismatch). */
int dsuit_cbor_expect_uint(dsuit_cbor_dec_t *d, uint64_t want);
/** Integer (major 0 or 1) that fits int64_t; else DSUIT_E_RANGE. */
int dsuit_cbor_get_int(dsuit_cbor_dec_t *d, int64_t *out);
/** Byte string; *out points into the input. */
int dsuit_cbor_get_bstr(dsuit_cbor_dec_t *d, const uint8_t **out,
                        size_t *out_len);
/** Text string; *out points into the input, not NUL-terminated. UTF-8 is
 * not validated here (dsuit_cbor_utf8_valid() does it). */
int dsuit_cbor_get_tstr(dsuit_cbor_dec_t *d, const char **out, size_t *out_len);
/** Array head; *out_count elements follow. */
int dsuit_cbor_get_array(dsuit_cbor_dec_t *d, size_t *out_count);
/** Map head; *out_count pairs follow. With DSUIT_CBOR_NODUPS (or
 * DSUIT_CBOR_SORTED) set, this map's keys are checked first and a repeat
 * gives DSUIT_E_CBOR_DUPKEY (a key out of order, DSUIT_E_CBOR_ORDER) with
 * nothing consumed. Nested maps are checked by dsuit_cbor_skip() and
 * dsuit_cbor_check(), or when they are read. */
int dsuit_cbor_get_map(dsuit_cbor_dec_t *d, size_t *out_count);
/** Tag head; the tagged item follows. */
int dsuit_cbor_get_tag(dsuit_cbor_dec_t *d, uint64_t *out_tag);
/** true or false. */
int dsuit_cbor_get_bool(dsuit_cbor_dec_t *d, int *out);
/** null. */
int dsuit_cbor_get_null(dsuit_cbor_dec_t *d);

/**
 * If the next item is tag `tag`, consume the tag head and set *out_found = 1;
 * otherwise consume nothing and set *out_found = 0.
 */
int dsuit_cbor_accept_tag(dsuit_cbor_dec_t *d, uint64_t tag, int *out_found);

/**
 * With the cursor just past a map head of `count` pairs, check that no key
 * repeats, consuming nothing. Keys are compared by their encoding, which is
 * exact for minimally encoded input (strict mode). If d->flags has
 * DSUIT_CBOR_SORTED, keys must also ascend bytewise (RFC 8949 §4.2.1).
 * Errors: DSUIT_E_CBOR_DUPKEY; DSUIT_E_CBOR_ORDER; DSUIT_E_LIMIT when count
 * exceeds DSUIT_CBOR_MAX_MAP_CHECK; decode errors of the keys and values.
 */
int dsuit_cbor_map_keys_unique(const dsuit_cbor_dec_t *d, size_t count);

/**
 * Check that buf[0..len) is exactly one well-formed item, with no trailing
 * bytes, nesting at most max_depth (0 means DSUIT_CBOR_MAX_DEPTH).
 * Errors: any decode error; DSUIT_E_CBOR_TRAILING.
 */
int dsuit_cbor_check(const uint8_t *buf, size_t len, unsigned flags,
                     unsigned max_depth);

/** 1 if s[0..len) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int dsuit_cbor_utf8_valid(const uint8_t *s, size_t len);

/*
 * Encoder. Invariant: len counts every byte written so far, including those
 * that did not fit (len > cap means overflow; bytes past cap are dropped).
 * Caller-owned; no _free.
 */
typedef struct {
    uint8_t *buf; /* may be NULL when cap is 0, to measure */
    size_t cap;
    size_t len;
} dsuit_cbor_enc_t;

/** Set up an encoder writing into buf[0..cap). buf may be NULL if cap is 0. */
void dsuit_cbor_enc_init(dsuit_cbor_enc_t *e, uint8_t *buf, size_t cap);

/**
 * Finish encoding.
 * @param[out] out_len  bytes written, or, on DSUIT_E_LIMIT, bytes needed
 * Errors: DSUIT_E_LIMIT when the output did not fit.
 */
int dsuit_cbor_enc_finish(const dsuit_cbor_enc_t *e, size_t *out_len);

/*
 * Writers. Each returns DSUIT_OK, or DSUIT_E_LIMIT once the buffer has
 * overflowed (encoding goes on counting, so the final size is still known).
 */
int dsuit_cbor_put_uint(dsuit_cbor_enc_t *e, uint64_t v);
int dsuit_cbor_put_int(dsuit_cbor_enc_t *e, int64_t v);
int dsuit_cbor_put_bstr(dsuit_cbor_enc_t *e, const uint8_t *p, size_t len);
int dsuit_cbor_put_tstr(dsuit_cbor_enc_t *e, const char *p, size_t len);
/** Text string from a NUL-terminated C string. */
int dsuit_cbor_put_tstr_z(dsuit_cbor_enc_t *e, const char *s);
/** Head of a byte string of `len` bytes; the caller writes the content next
 * (e.g. with dsuit_cbor_put_raw), to bstr-wrap an encoded item. */
int dsuit_cbor_put_bstr_head(dsuit_cbor_enc_t *e, size_t len);
int dsuit_cbor_put_array(dsuit_cbor_enc_t *e, size_t count);
int dsuit_cbor_put_map(dsuit_cbor_enc_t *e, size_t count);
int dsuit_cbor_put_tag(dsuit_cbor_enc_t *e, uint64_t tag);
int dsuit_cbor_put_bool(dsuit_cbor_enc_t *e, int v);
int dsuit_cbor_put_null(dsuit_cbor_enc_t *e);
/** Simple value 0..19 or 32..255 (20-23 have their own writers). */
int dsuit_cbor_put_simple(dsuit_cbor_enc_t *e, uint8_t v);
/** Raw bytes, e.g. an item encoded earlier. */
int dsuit_cbor_put_raw(dsuit_cbor_enc_t *e, const uint8_t *p, size_t len);

/* One map entry for dsuit_cbor_put_map_sorted(): key and value, each a
 * complete encoded item. */
typedef struct {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *val;
    size_t val_len;
} dsuit_cbor_pair_t;

/**
 * Write a map whose keys are in deterministic order (RFC 8949 §4.2.1:
 * bytewise lexicographic order of the encoded keys).
 * @param[in,out] pairs  sorted in place (insertion sort: keep n small)
 * Errors: DSUIT_E_CBOR_DUPKEY if two keys encode the same (nothing written);
 * DSUIT_E_LIMIT on overflow.
 */
int dsuit_cbor_put_map_sorted(dsuit_cbor_enc_t *e, dsuit_cbor_pair_t *pairs,
                              size_t n);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_CBOR_H */
