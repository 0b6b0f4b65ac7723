/*
 * Tests of the crypto interface (include/dsuit/crypto.h) as built: the
 * OpenSSL backend (src/device/crypto/openssl.c), HMAC-SHA256
 * (src/device/crypto/hmac.c) and the constant-time helpers
 * (src/common/buf.c).
 *
 * Known answers come from the specifications: FIPS 180-4 examples for
 * SHA-256, RFC 4231 for HMAC-SHA256, RFC 6979 Appendix A.2.5 for
 * deterministic ECDSA P-256/SHA-256, RFC 8032 §7.1 for Ed25519. Keys in PEM
 * come from the SUIT vectors ($DSUIT_VECTORS/suit/keys/); a missing vector
 * file fails the test. Keys of other algorithms are embedded as literals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/crypto.h"

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    assert_true(n % 2 == 0);
    assert_true(n / 2 <= cap);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n / 2;
}

static void assert_hex_equal(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t want[256];
    size_t n = unhex(hex, want, sizeof want);
    assert_int_equal(n, len);
    assert_memory_equal(got, want, n);
}

/* Read $DSUIT_VECTORS/<rel> into buf (NUL-terminated); fail if missing. */
static size_t read_vector(const char *rel, char *buf, size_t cap)
{
    const char *dir = getenv("DSUIT_VECTORS");
    char path[1024];
    FILE *f;
    size_t n;

    if (dir == NULL)
        fail_msg("DSUIT_VECTORS is not set; run the tests through ctest");
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("missing test vector '%s'", path);
    n = fread(buf, 1, cap - 1, f);
    assert_true(feof(f)); /* the whole file fitted */
    fclose(f);
    buf[n] = '\0';
    assert_true(n > 0);
    return n;
}

static int from_pem_str(const char *pem, dsuit_key_t *out)
{
    return dsuit_key_from_pem(pem, strlen(pem), out);
}

/* ---- SHA-256 ------------------------------------------------------------ */

static void sha256_matches_fips_180_examples(void **state)
{
    static const struct {
        const char *msg;
        const char *digest;
    } rows[] = {
        {"",
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc",
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t md[DSUIT_SHA256_LEN];
        dsuit_sha256_ctx_t ctx;

        assert_int_equal(dsuit_sha256(rows[i].msg, strlen(rows[i].msg), md),
                         DSUIT_OK);
        assert_hex_equal(md, sizeof md, rows[i].digest);

        /* Byte by byte through the streaming interface. */
        assert_int_equal(dsuit_sha256_init(&ctx), DSUIT_OK);
        for (size_t j = 0; j < strlen(rows[i].msg); j++)
            assert_int_equal(dsuit_sha256_update(&ctx, rows[i].msg + j, 1),
                             DSUIT_OK);
        assert_int_equal(dsuit_sha256_final(&ctx, md), DSUIT_OK);
        assert_hex_equal(md, sizeof md, rows[i].digest);
    }
}

static void sha256_of_one_million_a_streamed_in_odd_pieces(void **state)
{
    static const size_t pieces[] = {1, 3, 7, 63, 64, 65, 127, 1000, 4093};
    uint8_t buf[4096];
    uint8_t md[DSUIT_SHA256_LEN];
    dsuit_sha256_ctx_t ctx;
    size_t done = 0;
    size_t i = 0;

    (void)state;
    memset(buf, 'a', sizeof buf);
    assert_int_equal(dsuit_sha256_init(&ctx), DSUIT_OK);
    while (done < 1000000) {
        size_t n = pieces[i++ % (sizeof pieces / sizeof pieces[0])];
        if (n > 1000000 - done)
            n = 1000000 - done;
        assert_int_equal(dsuit_sha256_update(&ctx, buf, n), DSUIT_OK);
        done += n;
    }
    assert_int_equal(dsuit_sha256_final(&ctx, md), DSUIT_OK);
    assert_hex_equal(
        md, sizeof md,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void sha256_accepts_null_data_of_zero_length(void **state)
{
    uint8_t md[DSUIT_SHA256_LEN];
    dsuit_sha256_ctx_t ctx;

    (void)state;
    assert_int_equal(dsuit_sha256(NULL, 0, md), DSUIT_OK);
    assert_hex_equal(
        md, sizeof md,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(dsuit_sha256_init(&ctx), DSUIT_OK);
    assert_int_equal(dsuit_sha256_update(&ctx, NULL, 0), DSUIT_OK);
    assert_int_equal(dsuit_sha256_final(&ctx, md), DSUIT_OK);
    assert_hex_equal(
        md, sizeof md,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void sha256_rejects_null_arguments(void **state)
{
    uint8_t md[DSUIT_SHA256_LEN];
    dsuit_sha256_ctx_t ctx;

    (void)state;
    assert_int_equal(dsuit_sha256(NULL, 1, md), DSUIT_E_INVAL);
    assert_int_equal(dsuit_sha256("a", 1, NULL), DSUIT_E_INVAL);
    assert_int_equal(dsuit_sha256_init(NULL), DSUIT_E_INVAL);
    assert_int_equal(dsuit_sha256_init(&ctx), DSUIT_OK);
    assert_int_equal(dsuit_sha256_update(&ctx, NULL, 1), DSUIT_E_INVAL);
    assert_int_equal(dsuit_sha256_update(NULL, "a", 1), DSUIT_E_INVAL);
    assert_int_equal(dsuit_sha256_final(NULL, md), DSUIT_E_INVAL);
}

/* ---- HMAC-SHA256 --------------------------------------------------------- */

static const char tc7_data[] =
    "This is a test using a larger than block-size key and a larger than "
    "block-size data. The key needs to be hashed before being used by the "
    "HMAC algorithm.";

static void hmac_sha256_matches_rfc4231_cases(void **state)
{
    uint8_t key_aa131[131];
    uint8_t key_0b20[20], key_aa20[20], key_0125[25];
    uint8_t data_dd50[50], data_cd50[50];
    const struct {
        const char *name;
        const uint8_t *key;
        size_t key_len;
        const void *data;
        size_t data_len;
        const char *tag;
    } rows[] = {
        {"1", key_0b20, 20, "Hi There", 8,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"2", (const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"3", key_aa20, 20, data_dd50, 50,
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"4", key_0125, 25, data_cd50, 50,
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"6", key_aa131, 131,
         "Test Using Larger Than Block-Size Key - Hash Key First", 54,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"7", key_aa131, 131, tc7_data, sizeof tc7_data - 1,
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };

    (void)state;
    memset(key_0b20, 0x0b, sizeof key_0b20);
    memset(key_aa20, 0xaa, sizeof key_aa20);
    memset(key_aa131, 0xaa, sizeof key_aa131);
    for (size_t i = 0; i < sizeof key_0125; i++)
        key_0125[i] = (uint8_t)(i + 1);
    memset(data_dd50, 0xdd, sizeof data_dd50);
    memset(data_cd50, 0xcd, sizeof data_cd50);

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t tag[DSUIT_SHA256_LEN];
        print_message("RFC 4231 test case %s\n", rows[i].name);
        assert_int_equal(dsuit_hmac_sha256(rows[i].key, rows[i].key_len,
                                           rows[i].data, rows[i].data_len, tag),
                         DSUIT_OK);
        assert_hex_equal(tag, sizeof tag, rows[i].tag);
    }
}

static void hmac_sha256_streaming_matches_one_shot_at_every_split(void **state)
{
    uint8_t key[131];
    uint8_t want[DSUIT_SHA256_LEN];
    size_t len = sizeof tc7_data - 1;

    (void)state;
    memset(key, 0xaa, sizeof key);
    assert_int_equal(dsuit_hmac_sha256(key, sizeof key, tc7_data, len, want),
                     DSUIT_OK);
    for (size_t cut = 0; cut <= len; cut++) {
        dsuit_hmac_sha256_ctx_t ctx;
        uint8_t tag[DSUIT_SHA256_LEN];
        assert_int_equal(dsuit_hmac_sha256_init(&ctx, key, sizeof key),
                         DSUIT_OK);
        assert_int_equal(dsuit_hmac_sha256_update(&ctx, tc7_data, cut),
                         DSUIT_OK);
        assert_int_equal(
            dsuit_hmac_sha256_update(&ctx, tc7_data + cut, len - cut),
            DSUIT_OK);
        assert_int_equal(dsuit_hmac_sha256_final(&ctx, tag), DSUIT_OK);
        assert_memory_equal(tag, want, sizeof want);
    }
}

static void hmac_sha256_final_wipes_the_context(void **state)
{
    static const uint8_t zero[sizeof(dsuit_hmac_sha256_ctx_t)];
    dsuit_hmac_sha256_ctx_t ctx;
    uint8_t tag[DSUIT_SHA256_LEN];

    (void)state;
    assert_int_equal(dsuit_hmac_sha256_init(&ctx, (const uint8_t *)"Jefe", 4),
                     DSUIT_OK);
    assert_int_equal(dsuit_hmac_sha256_update(&ctx, "x", 1), DSUIT_OK);
    assert_int_equal(dsuit_hmac_sha256_final(&ctx, tag), DSUIT_OK);
    assert_memory_equal(&ctx, zero, sizeof ctx);
}

static void hmac_sha256_rejects_null_arguments(void **state)
{
    dsuit_hmac_sha256_ctx_t ctx;
    uint8_t tag[DSUIT_SHA256_LEN] = {0};

    (void)state;
    assert_int_equal(dsuit_hmac_sha256_init(NULL, tag, 1), DSUIT_E_INVAL);
    assert_int_equal(dsuit_hmac_sha256_init(&ctx, NULL, 1), DSUIT_E_INVAL);
    assert_int_equal(dsuit_hmac_sha256(tag, 1, NULL, 1, tag), DSUIT_E_INVAL);
    assert_int_equal(dsuit_hmac_sha256(tag, 1, "a", 1, NULL), DSUIT_E_INVAL);
    /* An empty key is legal HMAC (RFC 2104 pads it with zeros). */
    assert_int_equal(dsuit_hmac_sha256(NULL, 0, "a", 1, tag), DSUIT_OK);
}

/* ---- keys --------------------------------------------------------------- */

/* RFC 6979 A.2.5: the P-256 key pair. */
#define RFC6979_D                                                              \
    "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
#define RFC6979_UX                                                             \
    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
#define RFC6979_UY                                                             \
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"

/* The P-256 group order n. */
#define P256_N                                                                 \
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
/* The P-256 field prime p. */
#define P256_P                                                                 \
    "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"

/* A P-256 private key filled in directly, as dsuit_key_t is a public struct
 * (the interface has no raw private import). */
static void rfc6979_key(dsuit_key_t *k)
{
    memset(k, 0, sizeof *k);
    k->type = DSUIT_KEY_P256;
    k->has_private = 1;
    k->secret_len = unhex(RFC6979_D, k->secret, sizeof k->secret);
    k->pub_len = unhex(RFC6979_UX RFC6979_UY, k->pub, sizeof k->pub);
}

static void rfc6979_public_key(dsuit_key_t *k)
{
    uint8_t pub[64];
    unhex(RFC6979_UX RFC6979_UY, pub, sizeof pub);
    assert_int_equal(dsuit_key_set_public(k, DSUIT_KEY_P256, pub, 64),
                     DSUIT_OK);
}

/* RFC 8032 §7.1 TEST 1 and TEST 2. */
static const struct {
    const char *seed, *pub, *msg, *sig;
} rfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb88215"
     "90a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e4"
     "3e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

static void ed25519_key(dsuit_key_t *k, size_t i)
{
    memset(k, 0, sizeof *k);
    k->type = DSUIT_KEY_ED25519;
    k->has_private = 1;
    k->secret_len = unhex(rfc8032[i].seed, k->secret, sizeof k->secret);
    k->pub_len = unhex(rfc8032[i].pub, k->pub, sizeof k->pub);
}

static void key_type_names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(dsuit_key_type_name(DSUIT_KEY_P256), "es256");
    assert_string_equal(dsuit_key_type_name(DSUIT_KEY_ED25519), "ed25519");
    assert_string_equal(dsuit_key_type_name(DSUIT_KEY_SYMMETRIC), "symmetric");
    assert_string_equal(dsuit_key_type_name(DSUIT_KEY_NONE), "none");
    assert_string_equal(dsuit_key_type_name((dsuit_key_type_t)42), "unknown");
}

static void key_set_public_accepts_a_point_on_p256(void **state)
{
    dsuit_key_t k;
    uint8_t pub[64];

    (void)state;
    unhex(RFC6979_UX RFC6979_UY, pub, sizeof pub);
    memset(&k, 0x5a, sizeof k);
    assert_int_equal(dsuit_key_set_public(&k, DSUIT_KEY_P256, pub, 64),
                     DSUIT_OK);
    assert_int_equal(k.type, DSUIT_KEY_P256);
    assert_int_equal(k.has_private, 0);
    assert_int_equal(k.pub_len, 64);
    assert_int_equal(k.secret_len, 0);
    assert_memory_equal(k.pub, pub, 64);
}

static void key_set_public_rejects_bad_p256_points(void **state)
{
    static const struct {
        const char *name;
        const char *hex;
    } rows[] = {
        {"y off by one", RFC6979_UX
         "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462298"},
        {"x off by one", "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce6696"
                         "22e60f29fb7" RFC6979_UY},
        {"point at infinity as (0,0)",
         "0000000000000000000000000000000000000000000000000000000000000000"
         "0000000000000000000000000000000000000000000000000000000000000000"},
        {"x equal to p", P256_P RFC6979_UY},
        {"x and y equal to p", P256_P P256_P},
        {"all ones",
         "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
         "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        dsuit_key_t k, before;
        uint8_t pub[64];
        print_message("%s\n", rows[i].name);
        unhex(rows[i].hex, pub, sizeof pub);
        memset(&k, 0x5a, sizeof k);
        before = k;
        assert_int_equal(dsuit_key_set_public(&k, DSUIT_KEY_P256, pub, 64),
                         DSUIT_E_KEY);
        /* Out-params are written only on success. */
        assert_memory_equal(&k, &before, sizeof k);
    }
}

static void key_set_public_rejects_wrong_lengths(void **state)
{
    static const struct {
        dsuit_key_type_t type;
        size_t len;
    } rows[] = {
        {DSUIT_KEY_P256, 0},     {DSUIT_KEY_P256, 32},
        {DSUIT_KEY_P256, 33},    {DSUIT_KEY_P256, 63},
        {DSUIT_KEY_P256, 65},    {DSUIT_KEY_ED25519, 0},
        {DSUIT_KEY_ED25519, 31}, {DSUIT_KEY_ED25519, 33},
        {DSUIT_KEY_ED25519, 64},
    };
    uint8_t buf[65];
    dsuit_key_t k;

    (void)state;
    /* 65 bytes: the SEC 1 uncompressed form 04||x||y is not accepted. */
    buf[0] = 0x04;
    unhex(RFC6979_UX RFC6979_UY, buf + 1, 64);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(
            dsuit_key_set_public(&k, rows[i].type, buf, rows[i].len),
            DSUIT_E_KEY);
    /* A compressed point (02/03||x) is not accepted either. */
    buf[0] = 0x03;
    assert_int_equal(dsuit_key_set_public(&k, DSUIT_KEY_P256, buf, 33),
                     DSUIT_E_KEY);
}

static void key_set_public_rejects_types_without_public_keys(void **state)
{
    uint8_t pub[64] = {0};
    dsuit_key_t k;

    (void)state;
    assert_int_equal(dsuit_key_set_public(&k, DSUIT_KEY_NONE, pub, 32),
                     DSUIT_E_INVAL);
    assert_int_equal(dsuit_key_set_public(&k, DSUIT_KEY_SYMMETRIC, pub, 32),
                     DSUIT_E_INVAL);
    assert_int_equal(dsuit_key_set_public(&k, (dsuit_key_type_t)99, pub, 32),
                     DSUIT_E_INVAL);
    assert_int_equal(dsuit_key_set_public(NULL, DSUIT_KEY_ED25519, pub, 32),
                     DSUIT_E_INVAL);
}

static void key_set_public_accepts_32_byte_ed25519(void **state)
{
    uint8_t pub[32];
    dsuit_key_t k;

    (void)state;
    unhex(rfc8032[0].pub, pub, sizeof pub);
    assert_int_equal(dsuit_key_set_public(&k, DSUIT_KEY_ED25519, pub, 32),
                     DSUIT_OK);
    assert_int_equal(k.type, DSUIT_KEY_ED25519);
    assert_int_equal(k.pub_len, 32);
    assert_int_equal(k.has_private, 0);
    assert_memory_equal(k.pub, pub, 32);
}

static void key_set_symmetric_checks_length(void **state)
{
    uint8_t secret[DSUIT_KEY_SECRET_MAX + 1];
    dsuit_key_t k;

    (void)state;
    memset(secret, 0x42, sizeof secret);
    assert_int_equal(dsuit_key_set_symmetric(&k, secret, 0), DSUIT_E_KEY);
    assert_int_equal(
        dsuit_key_set_symmetric(&k, secret, DSUIT_KEY_SECRET_MAX + 1),
        DSUIT_E_KEY);
    assert_int_equal(dsuit_key_set_symmetric(&k, NULL, 16), DSUIT_E_KEY);
    assert_int_equal(dsuit_key_set_symmetric(&k, secret, 1), DSUIT_OK);
    assert_int_equal(dsuit_key_set_symmetric(&k, secret, DSUIT_KEY_SECRET_MAX),
                     DSUIT_OK);
    assert_int_equal(k.type, DSUIT_KEY_SYMMETRIC);
    assert_int_equal(k.has_private, 1);
    assert_int_equal(k.pub_len, 0);
    assert_int_equal(k.secret_len, DSUIT_KEY_SECRET_MAX);
    assert_memory_equal(k.secret, secret, DSUIT_KEY_SECRET_MAX);
}

static void key_wipe_clears_all_material(void **state)
{
    static const uint8_t zero[sizeof(dsuit_key_t)];
    dsuit_key_t k;

    (void)state;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &k), DSUIT_OK);
    assert_true(k.has_private);
    dsuit_key_wipe(&k);
    assert_int_equal(k.type, DSUIT_KEY_NONE);
    assert_memory_equal(&k, zero, sizeof k);
    dsuit_key_wipe(NULL); /* does nothing */
}

static void key_generate_gives_distinct_well_formed_keys(void **state)
{
    static const dsuit_key_type_t types[] = {DSUIT_KEY_P256, DSUIT_KEY_ED25519};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        dsuit_key_t a, b, pub_only;
        assert_int_equal(dsuit_key_generate(types[i], &a), DSUIT_OK);
        assert_int_equal(dsuit_key_generate(types[i], &b), DSUIT_OK);
        assert_int_equal(a.type, types[i]);
        assert_true(a.has_private);
        assert_int_equal(a.secret_len, 32);
        assert_int_equal(a.pub_len, types[i] == DSUIT_KEY_P256 ? 64 : 32);
        assert_memory_not_equal(a.secret, b.secret, 32);
        /* The public half passes the same checks as any public key. */
        assert_int_equal(
            dsuit_key_set_public(&pub_only, types[i], a.pub, a.pub_len),
            DSUIT_OK);
    }
}

static void key_generate_rejects_other_types(void **state)
{
    dsuit_key_t k;

    (void)state;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_NONE, &k), DSUIT_E_INVAL);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_SYMMETRIC, &k),
                     DSUIT_E_INVAL);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, NULL), DSUIT_E_INVAL);
}

/* ---- ECDSA P-256 --------------------------------------------------------- */

static void p256_sign_matches_rfc6979_a25_vectors(void **state)
{
    static const struct {
        const char *msg, *r, *s;
    } rows[] = {
        {"sample",
         "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
         "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"},
        {"test",
         "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
         "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"},
    };
    dsuit_key_t k, pub;

    (void)state;
    rfc6979_key(&k);
    rfc6979_public_key(&pub);
    for (size_t i = 0; i < 2; i++) {
        uint8_t sig[DSUIT_SIG_LEN];
        const uint8_t *m = (const uint8_t *)rows[i].msg;
        size_t mlen = strlen(rows[i].msg);
        assert_int_equal(dsuit_p256_sign(&k, m, mlen, sig), DSUIT_OK);
        assert_hex_equal(sig, 32, rows[i].r);
        assert_hex_equal(sig + 32, 32, rows[i].s);
        assert_int_equal(dsuit_p256_verify(&pub, m, mlen, sig, sizeof sig),
                         DSUIT_OK);
    }
}

static void p256_sign_is_deterministic(void **state)
{
    uint8_t a[DSUIT_SIG_LEN], b[DSUIT_SIG_LEN];
    dsuit_key_t k;

    (void)state;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &k), DSUIT_OK);
    assert_int_equal(dsuit_p256_sign(&k, (const uint8_t *)"m", 1, a), DSUIT_OK);
    assert_int_equal(dsuit_p256_sign(&k, (const uint8_t *)"m", 1, b), DSUIT_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(dsuit_p256_sign(&k, (const uint8_t *)"n", 1, b), DSUIT_OK);
    assert_memory_not_equal(a, b, sizeof a);
}

static void p256_sign_then_verify_round_trips(void **state)
{
    uint8_t msg[300];
    dsuit_key_t k, other;

    (void)state;
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &k), DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &other), DSUIT_OK);
    for (size_t len = 0; len <= sizeof msg; len += 37) {
        uint8_t sig[DSUIT_SIG_LEN];
        assert_int_equal(dsuit_p256_sign(&k, msg, len, sig), DSUIT_OK);
        assert_int_equal(dsuit_p256_verify(&k, msg, len, sig, sizeof sig),
                         DSUIT_OK);
        assert_int_equal(dsuit_p256_verify(&other, msg, len, sig, sizeof sig),
                         DSUIT_E_SIGNATURE);
    }
    /* An empty message may come as NULL. */
    {
        uint8_t sig[DSUIT_SIG_LEN];
        assert_int_equal(dsuit_p256_sign(&k, NULL, 0, sig), DSUIT_OK);
        assert_int_equal(dsuit_p256_verify(&k, NULL, 0, sig, sizeof sig),
                         DSUIT_OK);
    }
}

static void
p256_verify_fails_for_every_single_bit_flip_of_signature(void **state)
{
    static const uint8_t msg[] = "sample";
    uint8_t sig[DSUIT_SIG_LEN];
    dsuit_key_t k, pub;

    (void)state;
    rfc6979_key(&k);
    rfc6979_public_key(&pub);
    assert_int_equal(dsuit_p256_sign(&k, msg, 6, sig), DSUIT_OK);
    for (size_t bit = 0; bit < 8 * DSUIT_SIG_LEN; bit++) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(dsuit_p256_verify(&pub, msg, 6, sig, sizeof sig),
                         DSUIT_E_SIGNATURE);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(dsuit_p256_verify(&pub, msg, 6, sig, sizeof sig),
                     DSUIT_OK);
}

static void p256_verify_fails_when_a_message_bit_is_flipped(void **state)
{
    uint8_t msg[] = "sample";
    uint8_t sig[DSUIT_SIG_LEN];
    dsuit_key_t k;

    (void)state;
    rfc6979_key(&k);
    assert_int_equal(dsuit_p256_sign(&k, msg, 6, sig), DSUIT_OK);
    for (size_t bit = 0; bit < 8 * 6; bit++) {
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(dsuit_p256_verify(&k, msg, 6, sig, sizeof sig),
                         DSUIT_E_SIGNATURE);
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Dropping or adding a byte fails too. */
    assert_int_equal(dsuit_p256_verify(&k, msg, 5, sig, sizeof sig),
                     DSUIT_E_SIGNATURE);
    assert_int_equal(dsuit_p256_verify(&k, msg, 7, sig, sizeof sig),
                     DSUIT_E_SIGNATURE);
}

static void p256_verify_rejects_wrong_signature_lengths(void **state)
{
    static const size_t lens[] = {0, 1, 32, 63, 65, 70, 72, 128};
    uint8_t sig[128];
    dsuit_key_t k;

    (void)state;
    rfc6979_key(&k);
    assert_int_equal(dsuit_p256_sign(&k, (const uint8_t *)"sample", 6, sig),
                     DSUIT_OK);
    memset(sig + 64, 0, 64);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        assert_int_equal(
            dsuit_p256_verify(&k, (const uint8_t *)"sample", 6, sig, lens[i]),
            DSUIT_E_SIGNATURE);
    assert_int_equal(
        dsuit_p256_verify(&k, (const uint8_t *)"sample", 6, NULL, 0),
        DSUIT_E_SIGNATURE);
}

static void p256_verify_rejects_r_or_s_out_of_range(void **state)
{
    static const char *const zero =
        "0000000000000000000000000000000000000000000000000000000000000000";
    static const char *const ones =
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    static const char *const n_plus_1 =
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632552";
    const char *bad[] = {zero, P256_N, n_plus_1, ones};
    uint8_t good[DSUIT_SIG_LEN];
    dsuit_key_t k;

    (void)state;
    rfc6979_key(&k);
    assert_int_equal(dsuit_p256_sign(&k, (const uint8_t *)"sample", 6, good),
                     DSUIT_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t half = 0; half < 2; half++) {
            uint8_t sig[DSUIT_SIG_LEN];
            memcpy(sig, good, sizeof sig);
            unhex(bad[i], sig + 32 * half, 32);
            assert_int_equal(dsuit_p256_verify(&k, (const uint8_t *)"sample", 6,
                                               sig, sizeof sig),
                             DSUIT_E_SIGNATURE);
        }
    }
    /* r = s = 0 together. */
    {
        uint8_t sig[DSUIT_SIG_LEN] = {0};
        assert_int_equal(dsuit_p256_verify(&k, (const uint8_t *)"sample", 6,
                                           sig, sizeof sig),
                         DSUIT_E_SIGNATURE);
    }
}

static void p256_sign_and_verify_reject_wrong_key_types(void **state)
{
    uint8_t sig[DSUIT_SIG_LEN];
    const uint8_t *m = (const uint8_t *)"sample";
    dsuit_key_t ed, pub, sym, none, p256;

    (void)state;
    ed25519_key(&ed, 0);
    rfc6979_public_key(&pub);
    rfc6979_key(&p256);
    assert_int_equal(dsuit_key_set_symmetric(&sym, m, 6), DSUIT_OK);
    memset(&none, 0, sizeof none);
    assert_int_equal(dsuit_p256_sign(&p256, m, 6, sig), DSUIT_OK);

    assert_int_equal(dsuit_p256_sign(&ed, m, 6, sig), DSUIT_E_KEY);
    assert_int_equal(dsuit_p256_sign(&pub, m, 6, sig), DSUIT_E_KEY);
    assert_int_equal(dsuit_p256_sign(&sym, m, 6, sig), DSUIT_E_KEY);
    assert_int_equal(dsuit_p256_sign(&none, m, 6, sig), DSUIT_E_KEY);
    assert_int_equal(dsuit_p256_verify(&ed, m, 6, sig, 64), DSUIT_E_KEY);
    assert_int_equal(dsuit_p256_verify(&sym, m, 6, sig, 64), DSUIT_E_KEY);
    assert_int_equal(dsuit_p256_verify(&none, m, 6, sig, 64), DSUIT_E_KEY);
    assert_int_equal(dsuit_ed25519_sign(&p256, m, 6, sig), DSUIT_E_KEY);
    assert_int_equal(dsuit_ed25519_sign(&sym, m, 6, sig), DSUIT_E_KEY);
    assert_int_equal(dsuit_ed25519_verify(&p256, m, 6, sig, 64), DSUIT_E_KEY);
    assert_int_equal(dsuit_ed25519_verify(&sym, m, 6, sig, 64), DSUIT_E_KEY);
    assert_int_equal(dsuit_ed25519_verify(&none, m, 6, sig, 64), DSUIT_E_KEY);
}

static void p256_sign_rejects_private_scalar_out_of_range(void **state)
{
    const char *bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        P256_N,
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    };
    uint8_t sig[DSUIT_SIG_LEN];
    dsuit_key_t k;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rfc6979_key(&k);
        unhex(bad[i], k.secret, 32);
        memset(sig, 0x77, sizeof sig);
        assert_int_equal(dsuit_p256_sign(&k, (const uint8_t *)"sample", 6, sig),
                         DSUIT_E_KEY);
        assert_int_equal(sig[0], 0x77); /* not written */
    }
    rfc6979_key(&k);
    k.secret_len = 31;
    assert_int_equal(dsuit_p256_sign(&k, (const uint8_t *)"sample", 6, sig),
                     DSUIT_E_KEY);
}

/* ---- Ed25519 ------------------------------------------------------------- */

static void ed25519_sign_matches_rfc8032_tests_1_and_2(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        uint8_t msg[8], sig[DSUIT_SIG_LEN], pubb[32];
        size_t mlen = unhex(rfc8032[i].msg, msg, sizeof msg);
        dsuit_key_t k, pub;

        ed25519_key(&k, i);
        assert_int_equal(dsuit_ed25519_sign(&k, mlen ? msg : NULL, mlen, sig),
                         DSUIT_OK);
        assert_hex_equal(sig, sizeof sig, rfc8032[i].sig);
        unhex(rfc8032[i].pub, pubb, sizeof pubb);
        assert_int_equal(
            dsuit_key_set_public(&pub, DSUIT_KEY_ED25519, pubb, sizeof pubb),
            DSUIT_OK);
        assert_int_equal(dsuit_ed25519_verify(&pub, msg, mlen, sig, 64),
                         DSUIT_OK);
    }
}

static void ed25519_sign_then_verify_round_trips(void **state)
{
    uint8_t msg[500], sig[DSUIT_SIG_LEN];
    dsuit_key_t k, other;

    (void)state;
    memset(msg, 0xa5, sizeof msg);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &k), DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &other), DSUIT_OK);
    for (size_t len = 0; len <= sizeof msg; len += 125) {
        assert_int_equal(dsuit_ed25519_sign(&k, msg, len, sig), DSUIT_OK);
        assert_int_equal(dsuit_ed25519_verify(&k, msg, len, sig, 64), DSUIT_OK);
        assert_int_equal(dsuit_ed25519_verify(&other, msg, len, sig, 64),
                         DSUIT_E_SIGNATURE);
    }
}

static void
ed25519_verify_fails_for_every_single_bit_flip_of_signature(void **state)
{
    uint8_t msg[1] = {0x72};
    uint8_t sig[DSUIT_SIG_LEN];
    dsuit_key_t k;

    (void)state;
    ed25519_key(&k, 1);
    unhex(rfc8032[1].sig, sig, sizeof sig);
    assert_int_equal(dsuit_ed25519_verify(&k, msg, 1, sig, 64), DSUIT_OK);
    for (size_t bit = 0; bit < 8 * DSUIT_SIG_LEN; bit++) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(dsuit_ed25519_verify(&k, msg, 1, sig, 64),
                         DSUIT_E_SIGNATURE);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 8; bit++) {
        msg[0] ^= (uint8_t)(1u << bit);
        assert_int_equal(dsuit_ed25519_verify(&k, msg, 1, sig, 64),
                         DSUIT_E_SIGNATURE);
        msg[0] ^= (uint8_t)(1u << bit);
    }
}

static void ed25519_verify_rejects_wrong_signature_lengths(void **state)
{
    static const size_t lens[] = {0, 1, 32, 63, 65, 128};
    uint8_t sig[128] = {0};
    dsuit_key_t k;

    (void)state;
    ed25519_key(&k, 0);
    unhex(rfc8032[0].sig, sig, 64);
    assert_int_equal(dsuit_ed25519_verify(&k, NULL, 0, sig, 64), DSUIT_OK);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        assert_int_equal(dsuit_ed25519_verify(&k, NULL, 0, sig, lens[i]),
                         DSUIT_E_SIGNATURE);
}

/* ---- PEM ----------------------------------------------------------------- */

#define SPEC_PRIV "suit/keys/spec-es256-p256-private.TEST-ONLY.pem"
#define SPEC_PUB  "suit/keys/spec-es256-p256-public.pem"

/* The spec private key above, re-encoded as SEC 1 "EC PRIVATE KEY". */
static const char spec_sec1_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIAKWWI2QlBizOdFQQgo2ErV/tPYxpp8iT66Qy08/4YlzoAoGCCqGSM49\n"
    "AwEHoUQDQgAEhJaBGq4LqqvSYVcYnuzaJr6qi/Ebbz/m4rVlnIXbwK07HypLbAmB\n"
    "McCjbazR14vTgdzfsJwFLbM5kdtzOLSolg==\n"
    "-----END EC PRIVATE KEY-----\n";

/* RFC 8032 TEST 1 key as PKCS#8 and SPKI. */
static const char ed25519_test1_priv_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
static const char ed25519_test1_pub_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "-----END PUBLIC KEY-----\n";

static void key_from_pem_loads_spec_p256_private_and_public(void **state)
{
    char priv_pem[4096], pub_pem[4096];
    size_t priv_len = read_vector(SPEC_PRIV, priv_pem, sizeof priv_pem);
    size_t pub_len = read_vector(SPEC_PUB, pub_pem, sizeof pub_pem);
    dsuit_key_t priv, pub, sec1;
    uint8_t sig[DSUIT_SIG_LEN];

    (void)state;
    assert_int_equal(dsuit_key_from_pem(priv_pem, priv_len, &priv), DSUIT_OK);
    assert_int_equal(priv.type, DSUIT_KEY_P256);
    assert_true(priv.has_private);
    assert_int_equal(priv.secret_len, 32);
    assert_int_equal(priv.pub_len, 64);
    assert_hex_equal(
        priv.secret, 32,
        "0296588d909418b339d150420a3612b57fb4f631a69f224fae90cb4f3fe18973");

    assert_int_equal(dsuit_key_from_pem(pub_pem, pub_len, &pub), DSUIT_OK);
    assert_int_equal(pub.type, DSUIT_KEY_P256);
    assert_false(pub.has_private);
    assert_int_equal(pub.secret_len, 0);
    assert_int_equal(pub.pub_len, 64);
    assert_memory_equal(priv.pub, pub.pub, 64);

    /* The same key in SEC 1 form. */
    assert_int_equal(from_pem_str(spec_sec1_pem, &sec1), DSUIT_OK);
    assert_memory_equal(&sec1, &priv, sizeof sec1);

    /* And the pair works. */
    assert_int_equal(dsuit_p256_sign(&priv, (const uint8_t *)"x", 1, sig),
                     DSUIT_OK);
    assert_int_equal(dsuit_p256_verify(&pub, (const uint8_t *)"x", 1, sig, 64),
                     DSUIT_OK);
}

static void key_from_pem_loads_rfc8032_ed25519_key(void **state)
{
    dsuit_key_t priv, pub;

    (void)state;
    assert_int_equal(from_pem_str(ed25519_test1_priv_pem, &priv), DSUIT_OK);
    assert_int_equal(priv.type, DSUIT_KEY_ED25519);
    assert_true(priv.has_private);
    assert_hex_equal(priv.secret, priv.secret_len, rfc8032[0].seed);
    assert_hex_equal(priv.pub, priv.pub_len, rfc8032[0].pub);

    assert_int_equal(from_pem_str(ed25519_test1_pub_pem, &pub), DSUIT_OK);
    assert_int_equal(pub.type, DSUIT_KEY_ED25519);
    assert_false(pub.has_private);
    assert_hex_equal(pub.pub, pub.pub_len, rfc8032[0].pub);
}

static void key_pem_round_trips_generated_keys(void **state)
{
    static const dsuit_key_type_t types[] = {DSUIT_KEY_P256, DSUIT_KEY_ED25519};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        char pem[1024];
        size_t len = 0;
        dsuit_key_t k, back;

        assert_int_equal(dsuit_key_generate(types[i], &k), DSUIT_OK);

        assert_int_equal(dsuit_key_to_pem(&k, 1, pem, sizeof pem, &len),
                         DSUIT_OK);
        assert_int_equal(len, strlen(pem));
        assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
        assert_int_equal(dsuit_key_from_pem(pem, len, &back), DSUIT_OK);
        assert_memory_equal(&back, &k, sizeof k);

        assert_int_equal(dsuit_key_to_pem(&k, 0, pem, sizeof pem, &len),
                         DSUIT_OK);
        assert_int_equal(len, strlen(pem));
        assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----\n"));
        assert_null(strstr(pem, "PRIVATE"));
        assert_int_equal(dsuit_key_from_pem(pem, len, &back), DSUIT_OK);
        assert_int_equal(back.type, k.type);
        assert_false(back.has_private);
        assert_int_equal(back.secret_len, 0);
        assert_int_equal(back.pub_len, k.pub_len);
        assert_memory_equal(back.pub, k.pub, k.pub_len);

        /* A public-only key writes the same public PEM, and no private. */
        {
            char pem2[1024];
            size_t len2 = 0;
            assert_int_equal(
                dsuit_key_to_pem(&back, 0, pem2, sizeof pem2, &len2), DSUIT_OK);
            assert_string_equal(pem2, pem);
            assert_int_equal(
                dsuit_key_to_pem(&back, 1, pem2, sizeof pem2, &len2),
                DSUIT_E_KEY);
        }
    }
}

static void key_to_pem_reports_size_needed_when_buffer_is_small(void **state)
{
    char pem[1024];
    size_t need = 0, len = 0;
    dsuit_key_t k;

    (void)state;
    ed25519_key(&k, 0);
    assert_int_equal(dsuit_key_to_pem(&k, 1, NULL, 0, &need), DSUIT_E_LIMIT);
    assert_int_equal(need, strlen(ed25519_test1_priv_pem) + 1);

    memset(pem, 'Z', sizeof pem);
    assert_int_equal(dsuit_key_to_pem(&k, 1, pem, need - 1, &len),
                     DSUIT_E_LIMIT);
    assert_int_equal(len, need);
    assert_int_equal(dsuit_key_to_pem(&k, 1, pem, need, &len), DSUIT_OK);
    assert_int_equal(len, need - 1);
    assert_string_equal(pem, ed25519_test1_priv_pem);

    assert_int_equal(dsuit_key_to_pem(&k, 0, pem, 10, &len), DSUIT_E_LIMIT);
    assert_int_equal(len, strlen(ed25519_test1_pub_pem) + 1);
    assert_int_equal(dsuit_key_to_pem(&k, 0, pem, len, &len), DSUIT_OK);
    assert_string_equal(pem, ed25519_test1_pub_pem);
}

static void key_to_pem_rejects_symmetric_and_empty_keys(void **state)
{
    char pem[1024];
    size_t len;
    dsuit_key_t k;

    (void)state;
    assert_int_equal(dsuit_key_set_symmetric(&k, (const uint8_t *)"k", 1),
                     DSUIT_OK);
    assert_int_equal(dsuit_key_to_pem(&k, 1, pem, sizeof pem, &len),
                     DSUIT_E_KEY);
    assert_int_equal(dsuit_key_to_pem(&k, 0, pem, sizeof pem, &len),
                     DSUIT_E_KEY);
    dsuit_key_wipe(&k);
    assert_int_equal(dsuit_key_to_pem(&k, 0, pem, sizeof pem, &len),
                     DSUIT_E_KEY);
}

/* Keys the backend must refuse (all generated once with the openssl CLI). */
static const struct {
    const char *name;
    const char *pem;
} rejected_pems[] = {
    {"P-384 public key",
     "-----BEGIN PUBLIC KEY-----\n"
     "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE6cf8BP59zoUEk17Il5S7405wVB88Tw1F\n"
     "OM9/gyKBzL5VQrB2xEZHYxjjkI4Cg06HWnx/0LwxdQ/8yVFLMKNpa7+8AHYU0k7B\n"
     "xE/Ka3gYPdXQP1atpAa1zl6NULCmunqx\n"
     "-----END PUBLIC KEY-----\n"},
    {"secp256k1 public key (same size, other curve)",
     "-----BEGIN PUBLIC KEY-----\n"
     "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEkX2ce0OnJ/4vYXrbMIB6ktQd0f/dKO4k\n"
     "Rj1N/ITpzuyH5B9urAGZSdy8sf7IjVu/O4qlRyhCTiwJ7CMWGqCVag==\n"
     "-----END PUBLIC KEY-----\n"},
    {"X25519 public key",
     "-----BEGIN PUBLIC KEY-----\n"
     "MCowBQYDK2VuAyEALYeyMeCyUB6xlNccvYPLR2LK9g2QQ2AujaWXOHPdJnU=\n"
     "-----END PUBLIC KEY-----\n"},
    {"RSA-1024 public key",
     "-----BEGIN PUBLIC KEY-----\n"
     "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDb7c9KMz5VtVZck+P6Okw7YSYo\n"
     "2vCXr8Jx6/YwFb2Cd6TmRZZ4W6W7ON1wK8DdGbMVugthzxa4kL1twB6DA5H2cF4A\n"
     "NkKQ74k3xC8VlQ1WGAEnt6dJhMkxSBOJc6q85DnjTfczBbgUDtkMe5v4OByhpJKY\n"
     "HAkKo920rRYFcs7gTQIDAQAB\n"
     "-----END PUBLIC KEY-----\n"},
    {"P-256 public key with explicit curve parameters",
     "-----BEGIN PUBLIC KEY-----\n"
     "MIIBSzCCAQMGByqGSM49AgEwgfcCAQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAA\n"
     "AAAAAAAAAAAA////////////////MFsEIP////8AAAABAAAAAAAAAAAAAAAA////\n"
     "///////////8BCBaxjXYqjqT57PrvVV2mIa8ZR0GsMxTsPY7zjw+J9JgSwMVAMSd\n"
     "NgiG5wSTamZ44ROdJreBn36QBEEEaxfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5\n"
     "RdiYwpZP40Li/hp/m47n60p8D54WK84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA\n"
     "//////////+85vqtpxeehPO5ysL8YyVRAgEBA0IABISWgRquC6qr0mFXGJ7s2ia+\n"
     "qovxG28/5uK1ZZyF28CtOx8qS2wJgTHAo22s0deL04Hc37CcBS2zOZHbczi0qJY=\n"
     "-----END PUBLIC KEY-----\n"},
    {"encrypted PKCS#8 key (no passphrase is ever asked for)",
     "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
     "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAi6vaYuq0MtSAICCAAw\n"
     "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEPqjeX/vwJeLpTEoedXzwFIEgZDb\n"
     "ECIN8S/v0sf1QBrv1LOaG/h3WWKCs9dC2AUjsf+JGTetXsNohs9L3SJnUlbSeOve\n"
     "OOGIgK3PDXJjOoQyZCsVjrvAXZQ61pTvMux6+pJtjgU7RRU1CdNa+FOi0wtxzWEo\n"
     "Dfy8VnmX/KoyDQpZ/YKRoBKzmCSfnReBVuhHKwOECwvnYCOeBBV/p3CZPrAN49U=\n"
     "-----END ENCRYPTED PRIVATE KEY-----\n"},
    {"not PEM at all", "hello, world\n"},
    {"header only", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"},
    {"unterminated",
     "-----BEGIN PUBLIC KEY-----\n"
     "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"},
    {"bad base64",
     "-----BEGIN PUBLIC KEY-----\n"
     "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrw!!aPcHURo=\n"
     "-----END PUBLIC KEY-----\n"},
    {"Ed25519 key truncated inside the DER",
     "-----BEGIN PUBLIC KEY-----\n"
     "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMl\n"
     "-----END PUBLIC KEY-----\n"},
    {"P-256 point off the curve (last byte of y changed)",
     "-----BEGIN PUBLIC KEY-----\n"
     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhJaBGq4LqqvSYVcYnuzaJr6qi/Eb\n"
     "bz/m4rVlnIXbwK07HypLbAmBMcCjbazR14vTgdzfsJwFLbM5kdtzOLSolw==\n"
     "-----END PUBLIC KEY-----\n"},
    {"certificate label", "-----BEGIN CERTIFICATE-----\n"
                          "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMl\n"
                          "-----END CERTIFICATE-----\n"},
};

static void key_from_pem_rejects_other_algorithms_and_garbage(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rejected_pems / sizeof rejected_pems[0];
         i++) {
        dsuit_key_t k, before;
        print_message("%s\n", rejected_pems[i].name);
        memset(&k, 0x5a, sizeof k);
        before = k;
        assert_int_equal(from_pem_str(rejected_pems[i].pem, &k), DSUIT_E_KEY);
        assert_memory_equal(&k, &before, sizeof k);
    }
}

static void key_from_pem_rejects_every_truncation_of_spec_key(void **state)
{
    char pem[4096];
    size_t len = read_vector(SPEC_PUB, pem, sizeof pem);
    dsuit_key_t k;
    /* The END line is what makes a PEM block; any cut before its last dash
     * must be refused. */
    size_t end = (size_t)(strstr(pem, "-----END PUBLIC KEY-----") - pem) +
                 strlen("-----END PUBLIC KEY----");

    (void)state;
    assert_int_equal(dsuit_key_from_pem(pem, len, &k), DSUIT_OK);
    for (size_t cut = 0; cut < end; cut++)
        assert_int_equal(dsuit_key_from_pem(pem, cut, &k), DSUIT_E_KEY);
}

static void key_from_pem_rejects_null_arguments(void **state)
{
    dsuit_key_t k;

    (void)state;
    assert_int_equal(dsuit_key_from_pem(NULL, 10, &k), DSUIT_E_INVAL);
    assert_int_equal(dsuit_key_from_pem("x", 1, NULL), DSUIT_E_INVAL);
}

/* ---- helpers from buf.c, random ------------------------------------------ */

static void ct_equal_compares_whole_buffers(void **state)
{
    uint8_t a[33], b[33];

    (void)state;
    memset(a, 0x11, sizeof a);
    memcpy(b, a, sizeof b);
    assert_int_equal(dsuit_ct_equal(a, b, sizeof a), 1);
    assert_int_equal(dsuit_ct_equal(a, b, 0), 1);
    for (size_t i = 0; i < sizeof a; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(dsuit_ct_equal(a, b, sizeof a), 0);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    b[32] = 0xff;
    assert_int_equal(dsuit_ct_equal(a, b, 32), 1); /* only len bytes count */
}

static void wipe_zeroes_the_buffer(void **state)
{
    static const uint8_t zero[40];
    uint8_t buf[40];

    (void)state;
    memset(buf, 0xee, sizeof buf);
    dsuit_wipe(buf, sizeof buf);
    assert_memory_equal(buf, zero, sizeof buf);
}

static void random_fills_buffers_with_distinct_bytes(void **state)
{
    uint8_t a[64], b[64];

    (void)state;
    assert_int_equal(dsuit_random(a, sizeof a), DSUIT_OK);
    assert_int_equal(dsuit_random(b, sizeof b), DSUIT_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(dsuit_random(NULL, 0), DSUIT_OK);
    assert_int_equal(dsuit_random(NULL, 1), DSUIT_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_matches_fips_180_examples),
        cmocka_unit_test(sha256_of_one_million_a_streamed_in_odd_pieces),
        cmocka_unit_test(sha256_accepts_null_data_of_zero_length),
        cmocka_unit_test(sha256_rejects_null_arguments),
        cmocka_unit_test(hmac_sha256_matches_rfc4231_cases),
        cmocka_unit_test(hmac_sha256_streaming_matches_one_shot_at_every_split),
        cmocka_unit_test(hmac_sha256_final_wipes_the_context),
        cmocka_unit_test(hmac_sha256_rejects_null_arguments),
        cmocka_unit_test(key_type_names_are_stable),
        cmocka_unit_test(key_set_public_accepts_a_point_on_p256),
        cmocka_unit_test(key_set_public_rejects_bad_p256_points),
        cmocka_unit_test(key_set_public_rejects_wrong_lengths),
        cmocka_unit_test(key_set_public_rejects_types_without_public_keys),
        cmocka_unit_test(key_set_public_accepts_32_byte_ed25519),
        cmocka_unit_test(key_set_symmetric_checks_length),
        cmocka_unit_test(key_wipe_clears_all_material),
        cmocka_unit_test(key_generate_gives_distinct_well_formed_keys),
        cmocka_unit_test(key_generate_rejects_other_types),
        cmocka_unit_test(p256_sign_matches_rfc6979_a25_vectors),
        cmocka_unit_test(p256_sign_is_deterministic),
        cmocka_unit_test(p256_sign_then_verify_round_trips),
        cmocka_unit_test(
            p256_verify_fails_for_every_single_bit_flip_of_signature),
        cmocka_unit_test(p256_verify_fails_when_a_message_bit_is_flipped),
        cmocka_unit_test(p256_verify_rejects_wrong_signature_lengths),
        cmocka_unit_test(p256_verify_rejects_r_or_s_out_of_range),
        cmocka_unit_test(p256_sign_and_verify_reject_wrong_key_types),
        cmocka_unit_test(p256_sign_rejects_private_scalar_out_of_range),
        cmocka_unit_test(ed25519_sign_matches_rfc8032_tests_1_and_2),
        cmocka_unit_test(ed25519_sign_then_verify_round_trips),
        cmocka_unit_test(
            ed25519_verify_fails_for_every_single_bit_flip_of_signature),
        cmocka_unit_test(ed25519_verify_rejects_wrong_signature_lengths),
        cmocka_unit_test(key_from_pem_loads_spec_p256_private_and_public),
        cmocka_unit_test(key_from_pem_loads_rfc8032_ed25519_key),
        cmocka_unit_test(key_pem_round_trips_generated_keys),
        cmocka_unit_test(key_to_pem_reports_size_needed_when_buffer_is_small),
        cmocka_unit_test(key_to_pem_rejects_symmetric_and_empty_keys),
        cmocka_unit_test(key_from_pem_rejects_other_algorithms_and_garbage),
        cmocka_unit_test(key_from_pem_rejects_every_truncation_of_spec_key),
        cmocka_unit_test(key_from_pem_rejects_null_arguments),
        cmocka_unit_test(ct_equal_compares_whole_buffers),
        cmocka_unit_test(wipe_zeroes_the_buffer),
        cmocka_unit_test(random_fills_buffers_with_distinct_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
