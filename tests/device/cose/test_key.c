/*
 * Tests of COSE_Key encoding and decoding (include/dsuit/cose.h; RFC 9052
 * §7, RFC 9053 §7.1.1 EC2 and §7.2 OKP), written against the header
 * contract as an independent check of src/device/cose/.
 *
 * The encoding must be the deterministic map of exactly kty, crv, x (and y
 * for EC2) in bytewise key order (RFC 8949 §4.2.1): 01 < 20 < 21 < 22. The
 * key id is SHA-256 of that encoding. Decoding refuses anything that is not
 * a well-formed public P-256 or Ed25519 key: a table of keys built with the
 * CBOR encoder gives the error of each defect.
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
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "vectors.h"

#define SPEC_PUB  "suit/keys/spec-es256-p256-public.pem"
#define SPEC_PRIV "suit/keys/spec-es256-p256-private.TEST-ONLY.pem"

/* x||y of the spec key (draft-ietf-suit-manifest-37, Appendix B). */
static const char SPEC_XY_HEX[] =
    "8496811aae0baaabd26157189eecda26beaa8bf11b6f3fe6e2b5659c85dbc0ad"
    "3b1f2a4b6c098131c0a36dacd1d78bd381dcdfb09c052db33991db7338b4a896";

/* RFC 8032 §7.1 TEST 1 public key. */
static const char ED_PUB_HEX[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/* The P-256 field prime p: not a valid coordinate. */
static const char P256_P_HEX[] =
    "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

#define ANY_ERR 1

static void expect_rc(const char *what, int got, int want, int alt)
{
    if (want == ANY_ERR) {
        if (got == DSUIT_OK)
            fail_msg("%s: got DSUIT_OK, want an error", what);
        return;
    }
    if (got == want || (alt != 0 && got == alt))
        return;
    if (alt != 0)
        fail_msg("%s: got %s (%d), want %s or %s", what, dsuit_err_name(got),
                 got, dsuit_err_name(want), dsuit_err_name(alt));
    fail_msg("%s: got %s (%d), want %s (%d)", what, dsuit_err_name(got), got,
             dsuit_err_name(want), want);
}

#define EXPECT(call, want) expect_rc(#call, (call), (want), 0)
#define EXPECT_OK(call)    expect_rc(#call, (call), DSUIT_OK, 0)

static void load_pem_key(const char *relpath, dsuit_key_t *key)
{
    char pem[4096];
    size_t len = 0;
    tv_read_text(relpath, pem, sizeof pem, &len);
    int rc = dsuit_key_from_pem(pem, len, key);
    if (rc != DSUIT_OK)
        fail_msg("dsuit_key_from_pem('%s'): %s", relpath, dsuit_err_name(rc));
}

static void spec_key(dsuit_key_t *key)
{
    uint8_t xy[64];
    assert_int_equal(tv_hex(SPEC_XY_HEX, xy, sizeof xy), 64);
    EXPECT_OK(dsuit_key_set_public(key, DSUIT_KEY_P256, xy, sizeof xy));
}

static void ed_key(dsuit_key_t *key)
{
    uint8_t x[32];
    assert_int_equal(tv_hex(ED_PUB_HEX, x, sizeof x), 32);
    EXPECT_OK(dsuit_key_set_public(key, DSUIT_KEY_ED25519, x, sizeof x));
}

static void assert_same_public(const dsuit_key_t *a, const dsuit_key_t *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->pub_len, b->pub_len);
    assert_memory_equal(a->pub, b->pub, a->pub_len);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                           */
/* ------------------------------------------------------------------ */

static void cose_key_encode_p256_is_the_deterministic_ec2_map(void **state)
{
    (void)state;
    dsuit_key_t k;
    uint8_t out[DSUIT_COSE_KEY_MAX], want[128], xy[64];
    size_t len = 0, wlen = 0, o = 0;

    spec_key(&k);
    tv_hex(SPEC_XY_HEX, xy, sizeof xy);
    /* {1: 2, -1: 1, -2: x, -3: y} */
    o = tv_hex("a4 01 02 20 01 21 58 20", want, sizeof want);
    memcpy(want + o, xy, 32);
    o += 32;
    o += tv_hex("22 58 20", want + o, sizeof want - o);
    memcpy(want + o, xy + 32, 32);
    wlen = o + 32;
    assert_int_equal(wlen, 75);

    EXPECT_OK(dsuit_cose_key_encode(&k, out, sizeof out, &len));
    assert_int_equal(len, wlen);
    assert_memory_equal(out, want, wlen);
    /* It is a strictly well-formed item. */
    EXPECT_OK(dsuit_cbor_check(out, len, DSUIT_CBOR_STRICT, 0));
}

static void cose_key_encode_ed25519_is_the_deterministic_okp_map(void **state)
{
    (void)state;
    dsuit_key_t k;
    uint8_t out[DSUIT_COSE_KEY_MAX], want[64];
    size_t len = 0, o;

    ed_key(&k);
    /* {1: 1, -1: 6, -2: x} */
    o = tv_hex("a3 01 01 20 06 21 58 20", want, sizeof want);
    o += tv_hex(ED_PUB_HEX, want + o, sizeof want - o);
    assert_int_equal(o, 40);
    EXPECT_OK(dsuit_cose_key_encode(&k, out, sizeof out, &len));
    assert_int_equal(len, o);
    assert_memory_equal(out, want, o);
}

static void
cose_key_encode_of_private_key_has_only_the_public_half(void **state)
{
    (void)state;
    dsuit_key_t priv, pub;
    uint8_t a[DSUIT_COSE_KEY_MAX], b[DSUIT_COSE_KEY_MAX];
    size_t alen = 0, blen = 0;

    load_pem_key(SPEC_PRIV, &priv);
    load_pem_key(SPEC_PUB, &pub);
    assert_true(priv.has_private);
    EXPECT_OK(dsuit_cose_key_encode(&priv, a, sizeof a, &alen));
    EXPECT_OK(dsuit_cose_key_encode(&pub, b, sizeof b, &blen));
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);

    for (int t = DSUIT_KEY_P256; t <= DSUIT_KEY_ED25519; t++) {
        dsuit_key_t g, d;
        EXPECT_OK(dsuit_key_generate((dsuit_key_type_t)t, &g));
        EXPECT_OK(dsuit_cose_key_encode(&g, a, sizeof a, &alen));
        assert_int_equal(alen, t == DSUIT_KEY_P256 ? 75 : 40);
        /* No -4 (0x23) label anywhere a key label can be. */
        EXPECT_OK(dsuit_cose_key_decode(a, alen, &d));
        assert_int_equal(d.has_private, 0);
        assert_same_public(&g, &d);
        dsuit_key_wipe(&g);
    }
    dsuit_key_wipe(&priv);
}

static void cose_key_decode_of_encode_gives_back_the_key(void **state)
{
    (void)state;
    dsuit_key_t keys[4], d;
    uint8_t out[DSUIT_COSE_KEY_MAX];
    size_t len = 0;

    spec_key(&keys[0]);
    ed_key(&keys[1]);
    EXPECT_OK(dsuit_key_generate(DSUIT_KEY_P256, &keys[2]));
    EXPECT_OK(dsuit_key_generate(DSUIT_KEY_ED25519, &keys[3]));
    for (int i = 0; i < 4; i++) {
        memset(&d, 0xa5, sizeof d);
        EXPECT_OK(dsuit_cose_key_encode(&keys[i], out, sizeof out, &len));
        EXPECT_OK(dsuit_cose_key_decode(out, len, &d));
        assert_same_public(&keys[i], &d);
        assert_int_equal(d.has_private, 0);
        dsuit_key_wipe(&keys[i]);
    }
}

static void cose_key_id_is_sha256_of_the_encoding(void **state)
{
    (void)state;
    dsuit_key_t k[2], priv;
    uint8_t enc[DSUIT_COSE_KEY_MAX], id[32], want[32];
    size_t len = 0;

    spec_key(&k[0]);
    ed_key(&k[1]);
    for (int i = 0; i < 2; i++) {
        EXPECT_OK(dsuit_cose_key_encode(&k[i], enc, sizeof enc, &len));
        EXPECT_OK(dsuit_sha256(enc, len, want));
        EXPECT_OK(dsuit_cose_key_id(&k[i], id));
        assert_memory_equal(id, want, 32);
    }
    /* A private key has the id of its public half. */
    load_pem_key(SPEC_PRIV, &priv);
    EXPECT_OK(dsuit_cose_key_encode(&k[0], enc, sizeof enc, &len));
    EXPECT_OK(dsuit_sha256(enc, len, want));
    EXPECT_OK(dsuit_cose_key_id(&priv, id));
    assert_memory_equal(id, want, 32);
    dsuit_key_wipe(&priv);
}

static void cose_key_encode_rejects_symmetric_and_empty_keys(void **state)
{
    (void)state;
    dsuit_key_t sym, none;
    uint8_t out[DSUIT_COSE_KEY_MAX], id[32];
    size_t len = 0;
    static const uint8_t secret[32] = {1};

    memset(&none, 0, sizeof none);
    EXPECT_OK(dsuit_key_set_symmetric(&sym, secret, sizeof secret));
    EXPECT(dsuit_cose_key_encode(&sym, out, sizeof out, &len), DSUIT_E_KEY);
    EXPECT(dsuit_cose_key_encode(&none, out, sizeof out, &len), DSUIT_E_KEY);
    EXPECT(dsuit_cose_key_id(&sym, id), DSUIT_E_KEY);
    EXPECT(dsuit_cose_key_id(&none, id), DSUIT_E_KEY);
    dsuit_key_wipe(&sym);
}

static void
cose_key_encode_reports_size_needed_when_output_too_small(void **state)
{
    (void)state;
    dsuit_key_t p, e;
    uint8_t out[DSUIT_COSE_KEY_MAX];
    size_t len = 0;

    spec_key(&p);
    ed_key(&e);
    /* EC2: a4 01 02 20 01 21 5820 x 22 5820 y = 75 bytes; OKP: 40. */
    EXPECT(dsuit_cose_key_encode(&p, NULL, 0, &len), DSUIT_E_LIMIT);
    assert_int_equal(len, 75);
    len = 0;
    EXPECT(dsuit_cose_key_encode(&p, out, 74, &len), DSUIT_E_LIMIT);
    assert_int_equal(len, 75);
    EXPECT_OK(dsuit_cose_key_encode(&p, out, 75, &len));
    assert_int_equal(len, 75);
    EXPECT(dsuit_cose_key_encode(&e, out, 39, &len), DSUIT_E_LIMIT);
    assert_int_equal(len, 40);
    assert_true(75 <= DSUIT_COSE_KEY_MAX);
}

/* ------------------------------------------------------------------ */
/* Decoding: table of keys built with the encoder                    */
/* ------------------------------------------------------------------ */

enum {
    F_END = 0,
    F_INT,   /* label: ival */
    F_TSTR,  /* label: "text" */
    F_X,     /* label: x of the P-256 spec key, blen bytes (0: 32) */
    F_Y,     /* label: y of the P-256 spec key, blen bytes (0: 32) */
    F_Y_BAD, /* label: y with its last bit flipped (off the curve) */
    F_ZERO,  /* label: 32 zero bytes */
    F_P,     /* label: the field prime */
    F_EDX,   /* label: Ed25519 x, blen bytes (0: 32) */
    F_D,     /* label: 32 bytes of a private scalar */
    F_TRUE,  /* label: true (compressed-point sign bit form) */
    F_KID    /* label: h'6b6964' */
};

typedef struct {
    int64_t label;
    int kind;
    int64_t ival;
    size_t blen;
} field_t;

#define KTY(v)                                                                 \
    {                                                                          \
        1, F_INT, (v), 0                                                       \
    }
#define CRV(v)                                                                 \
    {                                                                          \
        -1, F_INT, (v), 0                                                      \
    }
#define X                                                                      \
    {                                                                          \
        -2, F_X, 0, 0                                                          \
    }
#define Y                                                                      \
    {                                                                          \
        -3, F_Y, 0, 0                                                          \
    }
#define EDX                                                                    \
    {                                                                          \
        -2, F_EDX, 0, 0                                                        \
    }

enum { OUT_MAP = 0, OUT_ARRAY, OUT_TAGGED };

typedef struct {
    const char *name;
    field_t f[8];
    int outer;
    int trailing;
    int expect, alt;
    dsuit_key_type_t type; /* for good rows */
} key_case_t;

static const key_case_t key_cases[] = {
    /* Controls. */
    {"EC2 P-256", {KTY(2), CRV(1), X, Y}, .type = DSUIT_KEY_P256},
    {"OKP Ed25519", {KTY(1), CRV(6), EDX}, .type = DSUIT_KEY_ED25519},
    {"EC2 with kid and alg (ignored)",
     {KTY(2), {2, F_KID, 0, 0}, {3, F_INT, -7, 0}, CRV(1), X, Y},
     .type = DSUIT_KEY_P256},
    {"OKP with kid (ignored)",
     {KTY(1), {2, F_KID, 0, 0}, CRV(6), EDX},
     .type = DSUIT_KEY_ED25519},
    {"EC2 with labels in another order",
     {Y, X, CRV(1), KTY(2)},
     .type = DSUIT_KEY_P256},

    /* Private part. */
    {"EC2 with d (-4)",
     {KTY(2), CRV(1), X, Y, {-4, F_D, 0, 0}},
     .expect = DSUIT_E_KEY},
    {"OKP with d (-4)",
     {KTY(1), CRV(6), EDX, {-4, F_D, 0, 0}},
     .expect = DSUIT_E_KEY},

    /* Missing fields. */
    {"EC2 without x", {KTY(2), CRV(1), Y}, .expect = DSUIT_E_KEY},
    {"EC2 without y", {KTY(2), CRV(1), X}, .expect = DSUIT_E_KEY},
    {"EC2 without crv", {KTY(2), X, Y}, .expect = DSUIT_E_KEY},
    {"EC2 without kty", {CRV(1), X, Y}, .expect = DSUIT_E_KEY},
    {"OKP without x", {KTY(1), CRV(6)}, .expect = DSUIT_E_KEY},
    {"empty map", {{0}}, .expect = DSUIT_E_KEY},

    /* Wrong kty / crv. */
    {"EC2 crv 2 (P-384)", {KTY(2), CRV(2), X, Y}, .expect = DSUIT_E_KEY},
    {"EC2 crv 6 (Ed25519)", {KTY(2), CRV(6), X, Y}, .expect = DSUIT_E_KEY},
    {"OKP crv 1 (P-256)", {KTY(1), CRV(1), EDX}, .expect = DSUIT_E_KEY},
    {"OKP crv 4 (X25519)", {KTY(1), CRV(4), EDX}, .expect = DSUIT_E_KEY},
    {"OKP crv 7 (Ed448)", {KTY(1), CRV(7), EDX}, .expect = DSUIT_E_KEY},
    {"OKP carrying EC2 fields", {KTY(1), CRV(1), X, Y}, .expect = DSUIT_E_KEY},
    {"kty 3 (RSA)", {KTY(3), CRV(1), X, Y}, .expect = DSUIT_E_KEY},
    {"kty 4 (Symmetric)", {KTY(4), {-1, F_D, 0, 0}}, .expect = DSUIT_E_KEY},
    {"kty 0", {KTY(0), CRV(1), X, Y}, .expect = DSUIT_E_KEY},
    {"kty as text", {{1, F_TSTR, 0, 0}, CRV(1), X, Y}, .expect = DSUIT_E_KEY},
    {"crv as text", {KTY(2), {-1, F_TSTR, 0, 0}, X, Y}, .expect = DSUIT_E_KEY},

    /* Wrong coordinate sizes and types. */
    {"EC2 x of 31 bytes",
     {KTY(2), CRV(1), {-2, F_X, 0, 31}, Y},
     .expect = DSUIT_E_KEY},
    {"EC2 x of 33 bytes",
     {KTY(2), CRV(1), {-2, F_X, 0, 33}, Y},
     .expect = DSUIT_E_KEY},
    {"EC2 y of 31 bytes",
     {KTY(2), CRV(1), X, {-3, F_Y, 0, 31}},
     .expect = DSUIT_E_KEY},
    {"EC2 x empty",
     {KTY(2), CRV(1), {-2, F_X, 0, SIZE_MAX}, Y},
     .expect = DSUIT_E_KEY},
    {"OKP x of 31 bytes",
     {KTY(1), CRV(6), {-2, F_EDX, 0, 31}},
     .expect = DSUIT_E_KEY},
    {"OKP x of 33 bytes",
     {KTY(1), CRV(6), {-2, F_EDX, 0, 33}},
     .expect = DSUIT_E_KEY},
    {"EC2 x as text",
     {KTY(2), CRV(1), {-2, F_TSTR, 0, 0}, Y},
     .expect = DSUIT_E_KEY},
    {"EC2 y as true (compressed point)",
     {KTY(2), CRV(1), X, {-3, F_TRUE, 0, 0}},
     .expect = DSUIT_E_KEY},

    /* Not a point. */
    {"EC2 point not on the curve",
     {KTY(2), CRV(1), X, {-3, F_Y_BAD, 0, 0}},
     .expect = DSUIT_E_KEY},
    {"EC2 point (0, 0)",
     {KTY(2), CRV(1), {-2, F_ZERO, 0, 0}, {-3, F_ZERO, 0, 0}},
     .expect = DSUIT_E_KEY},
    {"EC2 x = p", {KTY(2), CRV(1), {-2, F_P, 0, 0}, Y}, .expect = DSUIT_E_KEY},

    /* CBOR. */
    {"kty twice",
     {KTY(2), KTY(2), CRV(1), X, Y},
     .expect = DSUIT_E_CBOR_DUPKEY},
    {"x twice", {KTY(2), CRV(1), X, X, Y}, .expect = DSUIT_E_CBOR_DUPKEY},
    {"kty twice, different values",
     {KTY(1), KTY(2), CRV(1), X, Y},
     .expect = DSUIT_E_CBOR_DUPKEY},
    {"array, not a map",
     {KTY(2), CRV(1), X, Y},
     .outer = OUT_ARRAY,
     .expect = DSUIT_E_CBOR_TYPE,
     .alt = DSUIT_E_KEY},
    {"tagged map",
     {KTY(2), CRV(1), X, Y},
     .outer = OUT_TAGGED,
     .expect = DSUIT_E_CBOR_TYPE,
     .alt = DSUIT_E_KEY},
    {"trailing byte",
     {KTY(2), CRV(1), X, Y},
     .trailing = 1,
     .expect = DSUIT_E_CBOR_TRAILING},
};

static size_t build_key(const key_case_t *c, uint8_t *out, size_t cap)
{
    uint8_t xy[64], edx[32], p[32], zero[40], big[40];
    dsuit_cbor_enc_t e;
    size_t n = 0, nf = 0;

    tv_hex(SPEC_XY_HEX, xy, sizeof xy);
    tv_hex(ED_PUB_HEX, edx, sizeof edx);
    tv_hex(P256_P_HEX, p, sizeof p);
    memset(zero, 0, sizeof zero);
    while (nf < 8 && c->f[nf].kind != F_END)
        nf++;

    dsuit_cbor_enc_init(&e, out, cap);
    if (c->outer == OUT_TAGGED)
        dsuit_cbor_put_tag(&e, 101);
    if (c->outer == OUT_ARRAY)
        dsuit_cbor_put_array(&e, nf * 2);
    else
        dsuit_cbor_put_map(&e, nf);
    for (size_t i = 0; i < nf; i++) {
        const field_t *f = &c->f[i];
        size_t blen = f->blen == SIZE_MAX ? 0 : f->blen ? f->blen : 32;
        dsuit_cbor_put_int(&e, f->label);
        switch (f->kind) {
        case F_INT:
            dsuit_cbor_put_int(&e, f->ival);
            break;
        case F_TSTR:
            dsuit_cbor_put_tstr_z(&e, "P-256");
            break;
        case F_X:
        case F_Y:
        case F_EDX:
            /* Longer than 32: the coordinate then a zero byte. */
            memset(big, 0, sizeof big);
            memcpy(big,
                   f->kind == F_X   ? xy
                   : f->kind == F_Y ? xy + 32
                                    : edx,
                   32);
            dsuit_cbor_put_bstr(&e, big, blen);
            break;
        case F_Y_BAD:
            memcpy(big, xy + 32, 32);
            big[31] ^= 1;
            dsuit_cbor_put_bstr(&e, big, 32);
            break;
        case F_ZERO:
            dsuit_cbor_put_bstr(&e, zero, 32);
            break;
        case F_P:
            dsuit_cbor_put_bstr(&e, p, 32);
            break;
        case F_D:
            memset(big, 0x11, 32);
            dsuit_cbor_put_bstr(&e, big, 32);
            break;
        case F_TRUE:
            dsuit_cbor_put_bool(&e, 1);
            break;
        case F_KID:
            dsuit_cbor_put_bstr(&e, (const uint8_t *)"kid", 3);
            break;
        default:
            fail_msg("build_key: bad field kind %d", f->kind);
        }
    }
    if (c->trailing)
        dsuit_cbor_put_uint(&e, 0);
    EXPECT_OK(dsuit_cbor_enc_finish(&e, &n));
    return n;
}

static void cose_key_decode_follows_the_table(void **state)
{
    (void)state;
    uint8_t buf[256];
    char what[200];
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        const key_case_t *c = &key_cases[i];
        dsuit_key_t k, before;
        size_t len = build_key(c, buf, sizeof buf);
        uint8_t *h = malloc(len);
        assert_non_null(h);
        memcpy(h, buf, len);
        memset(&k, 0xa5, sizeof k);
        memcpy(&before, &k, sizeof k);
        int rc = dsuit_cose_key_decode(h, len, &k);
        free(h);
        snprintf(what, sizeof what, "row '%s'", c->name);
        expect_rc(what, rc, c->expect, c->alt);
        if (rc != DSUIT_OK) {
            if (memcmp(&k, &before, sizeof k) != 0)
                fail_msg("row '%s': decode failed but wrote its output",
                         c->name);
            continue;
        }
        assert_int_equal(k.type, c->type);
        assert_int_equal(k.has_private, 0);
        uint8_t want[64];
        if (c->type == DSUIT_KEY_P256) {
            tv_hex(SPEC_XY_HEX, want, sizeof want);
            assert_int_equal(k.pub_len, 64);
        } else {
            tv_hex(ED_PUB_HEX, want, sizeof want);
            assert_int_equal(k.pub_len, 32);
        }
        assert_memory_equal(k.pub, want, k.pub_len);
    }
}

static void cose_key_decode_rejects_every_truncation(void **state)
{
    (void)state;
    dsuit_key_t k[2], d;
    uint8_t enc[DSUIT_COSE_KEY_MAX];
    size_t len = 0;
    char what[64];
    spec_key(&k[0]);
    ed_key(&k[1]);
    for (int i = 0; i < 2; i++) {
        EXPECT_OK(dsuit_cose_key_encode(&k[i], enc, sizeof enc, &len));
        for (size_t n = 0; n < len; n++) {
            uint8_t *h = malloc(n ? n : 1);
            assert_non_null(h);
            memcpy(h, enc, n);
            snprintf(what, sizeof what, "key %d truncated to %zu", i, n);
            expect_rc(what, dsuit_cose_key_decode(h, n, &d), ANY_ERR, 0);
            free(h);
        }
    }
    EXPECT(dsuit_cose_key_decode(enc, 0, &d), DSUIT_E_TRUNCATED);
}

static void cose_key_decode_rejects_flipped_coordinate_bits(void **state)
{
    (void)state;
    /* Flipping any bit of y moves the point off the curve (y is fixed up to
     * sign by x; the other root differs in far more than one bit). */
    dsuit_key_t k, d;
    uint8_t enc[DSUIT_COSE_KEY_MAX];
    size_t len = 0;
    char what[64];
    spec_key(&k);
    EXPECT_OK(dsuit_cose_key_encode(&k, enc, sizeof enc, &len));
    for (size_t bit = 0; bit < 256; bit++) {
        uint8_t t[DSUIT_COSE_KEY_MAX];
        memcpy(t, enc, len);
        t[43 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        snprintf(what, sizeof what, "y bit %zu", bit);
        expect_rc(what, dsuit_cose_key_decode(t, len, &d), DSUIT_E_KEY, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cose_key_encode_p256_is_the_deterministic_ec2_map),
        cmocka_unit_test(cose_key_encode_ed25519_is_the_deterministic_okp_map),
        cmocka_unit_test(
            cose_key_encode_of_private_key_has_only_the_public_half),
        cmocka_unit_test(cose_key_decode_of_encode_gives_back_the_key),
        cmocka_unit_test(cose_key_id_is_sha256_of_the_encoding),
        cmocka_unit_test(cose_key_encode_rejects_symmetric_and_empty_keys),
        cmocka_unit_test(
            cose_key_encode_reports_size_needed_when_output_too_small),
        cmocka_unit_test(cose_key_decode_follows_the_table),
        cmocka_unit_test(cose_key_decode_rejects_every_truncation),
        cmocka_unit_test(cose_key_decode_rejects_flipped_coordinate_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
