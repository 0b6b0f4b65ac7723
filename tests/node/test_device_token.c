/*
 * Tests of the device service's HTTP request tokens (src/node/device_token.h,
 * docs/protocols.md "HTTP: devices"), written against the header contract.
 *
 * - Tokens made by dsuit_token_make() for a PSK device and for registered
 *   P-256 and Ed25519 devices parse back to exactly the claims put in, and
 *   verify; the Mac0 key is checked independently (HMAC-SHA256(psk,
 *   "dsuit-http-token-v1")).
 * - Each byte of a decoded token, flipped, makes parse or verify fail.
 * - Wrong credentials: another PSK (DSUIT_E_MAC), another device key
 *   (DSUIT_E_SIGNATURE), a Sign1 token checked as PSK and a Mac0 token
 *   checked with a key (DSUIT_E_ALG).
 * - A table of bad base64url texts (padding, '+', '/', non-canonical
 *   trailing bits, length % 4 == 1, too long) gives DSUIT_E_INVAL.
 * - A table of claims maps, each with one defect, MACed here with the right
 *   key so the defect is the only reason to refuse them.
 * - An untagged message is refused (the header says tagged 17 or 18).
 * - Two tokens made in a row differ (a fresh nonce each).
 *
 * With DSUIT_FUZZ_SEEDS=<folder> set, the round-trip test also writes seed
 * inputs for fuzz/fuzz_device_token.c into <folder>/fuzz_device_token/.
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
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "node/device_token.h"
#include "vectors.h"

#define BUF_MAX DSUIT_TOKEN_TEXT_MAX
#define MSG_MAX 1024
#define SCRATCH 1024

/* Sentinel for "any error code will do" (never a real dsuit code). */
#define ANY_ERR 1

static const uint8_t PSK[32] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
                                0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
                                0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};
static const uint8_t OTHER_PSK[32] = {
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2e};
static const uint8_t DEVICE_ID[16] = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2,  3,
                                      4,    5,    6,    7,    8, 9, 10, 11};
static const uint64_t NOW = 1700000000123ull;

/* Keys made once: private (to sign) and public-only (to verify). */
static dsuit_key_t p256, p256_pub, p256_other_pub, ed, ed_pub;

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static void expect_rc(const char *what, int got, int want)
{
    if (want == ANY_ERR) {
        if (got == DSUIT_OK)
            fail_msg("%s: got DSUIT_OK, want an error", what);
        return;
    }
    if (got != want)
        fail_msg("%s: got %s (%d), want %s (%d)", what, dsuit_err_name(got),
                 got, dsuit_err_name(want), want);
}

#define EXPECT(call, want) expect_rc(#call, (call), (want))
#define EXPECT_OK(call)    expect_rc(#call, (call), DSUIT_OK)

/* base64url without padding (RFC 4648 §5), written independently of the
 * code under test. */
static void b64url(const uint8_t *p, size_t n, char *out, size_t cap)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        assert_true(k + 5 <= cap);
        out[k++] = a[v >> 18 & 63];
        out[k++] = a[v >> 12 & 63];
        if (left > 1)
            out[k++] = a[v >> 6 & 63];
        if (left > 2)
            out[k++] = a[v & 63];
    }
    out[k] = '\0';
}

/* The Mac0 key of a PSK, computed here as the header describes it. */
static void psk_mac_key(const uint8_t *psk, size_t len, dsuit_key_t *out)
{
    static const char label[] = "dsuit-http-token-v1";
    uint8_t k[DSUIT_SHA256_LEN];
    EXPECT_OK(dsuit_hmac_sha256(psk, len, label, sizeof label - 1, k));
    EXPECT_OK(dsuit_key_set_symmetric(out, k, sizeof k));
}

/* A COSE message over payload, made with the COSE library (not the token
 * code): Mac0 with the PSK's token key, or Sign1 with key. */
static size_t cose_msg(dsuit_cose_kind_t kind, const dsuit_key_t *key,
                       int tagged, const uint8_t *payload, size_t len,
                       uint8_t *out, size_t cap)
{
    uint8_t scratch[SCRATCH];
    dsuit_cose_opts_t o;
    dsuit_key_t mk;
    size_t ml = 0;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.tagged = tagged;
    if (kind == DSUIT_COSE_MAC0) {
        psk_mac_key(PSK, sizeof PSK, &mk);
        key = &mk;
        o.alg = DSUIT_COSE_ALG_HMAC256;
    } else {
        o.alg = key->type == DSUIT_KEY_P256 ? DSUIT_COSE_ALG_ES256
                                            : DSUIT_COSE_ALG_EDDSA;
    }
    EXPECT_OK(dsuit_cose_create(&o, key, payload, len, NULL, 0, scratch,
                                sizeof scratch, out, cap, &ml));
    return ml;
}

static void make_psk_token(const char *id, char *out)
{
    EXPECT_OK(dsuit_token_make(id, PSK, sizeof PSK, NULL, NULL, "node-a", "GET",
                               "/fw/manifest", NOW, out, BUF_MAX));
}

static void make_key_token(const dsuit_key_t *key, char *out)
{
    EXPECT_OK(dsuit_token_make(NULL, NULL, 0, DEVICE_ID, key, "node-b", "POST",
                               "/fw/report", NOW + 1, out, BUF_MAX));
}

static void assert_text(const char *want, const char *got, size_t got_len)
{
    if (got_len != strlen(want) || memcmp(want, got, got_len) != 0)
        fail_msg("claim: got \"%.*s\", want \"%s\"", (int)got_len, got, want);
}

/* With DSUIT_FUZZ_SEEDS set, keep p[0..len) as a fuzzing seed. */
static void write_seed(const char *harness, const char *name, const void *p,
                       size_t len)
{
    const char *dir = getenv("DSUIT_FUZZ_SEEDS");
    char path[1024];
    FILE *f;
    if (dir == NULL || *dir == '\0')
        return;
    snprintf(path, sizeof path, "%s/%s", dir, harness);
    (void)mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, harness, name);
    f = fopen(path, "wb");
    if (f == NULL)
        fail_msg("cannot write seed '%s'", path);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */
/* ------------------------------------------------------------------ */

static int setup_keys(void **state)
{
    dsuit_key_t other;
    (void)state;
    if (dsuit_key_generate(DSUIT_KEY_P256, &p256) != DSUIT_OK ||
        dsuit_key_generate(DSUIT_KEY_P256, &other) != DSUIT_OK ||
        dsuit_key_generate(DSUIT_KEY_ED25519, &ed) != DSUIT_OK)
        return -1;
    if (dsuit_key_set_public(&p256_pub, p256.type, p256.pub, p256.pub_len) ||
        dsuit_key_set_public(&p256_other_pub, other.type, other.pub,
                             other.pub_len) ||
        dsuit_key_set_public(&ed_pub, ed.type, ed.pub, ed.pub_len))
        return -1;
    dsuit_key_wipe(&other);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Round trips                                                        */
/* ------------------------------------------------------------------ */

static void token_round_trips_for_a_psk_device(void **state)
{
    char text[BUF_MAX];
    uint8_t buf[BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    dsuit_cose_msg_t m;
    dsuit_key_t mk;
    uint8_t scratch[SCRATCH];
    (void)state;

    make_psk_token("dev-1.a@x:y_z", text);
    /* base64url, no padding: only the URL-safe alphabet. */
    assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                  "qrstuvwxyz0123456789-_"),
                     strlen(text));
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    assert_true(c.is_psk);
    assert_text("dev-1.a@x:y_z", c.psk_id, c.psk_id_len);
    assert_null(c.device_id);
    assert_text("node-a", c.node, c.node_len);
    assert_true(c.time_ms == NOW);
    assert_non_null(c.nonce);
    assert_text("GET /fw/manifest", c.request, c.request_len);
    EXPECT_OK(dsuit_token_verify(buf, len, PSK, sizeof PSK, NULL));

    /* The wire contract: tagged Mac0 (17), HMAC 256/256 under
     * HMAC-SHA256(psk, "dsuit-http-token-v1"). */
    assert_int_equal(buf[0], 0xd1);
    EXPECT_OK(dsuit_cose_parse(buf, len, DSUIT_COSE_MAC0, &m));
    assert_true(m.tagged);
    assert_true(m.alg == DSUIT_COSE_ALG_HMAC256);
    psk_mac_key(PSK, sizeof PSK, &mk);
    EXPECT_OK(
        dsuit_cose_verify(&m, &mk, NULL, 0, NULL, 0, scratch, sizeof scratch));

    write_seed("fuzz_device_token", "psk.txt", text, strlen(text));
    write_seed("fuzz_device_token", "psk.cbor", buf, len);
}

static void check_key_token(const dsuit_key_t *key, const dsuit_key_t *pub,
                            int64_t alg, const char *seed)
{
    char text[BUF_MAX], name[64];
    uint8_t buf[BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    dsuit_cose_msg_t m;

    make_key_token(key, text);
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    assert_false(c.is_psk);
    assert_null(c.psk_id);
    assert_non_null(c.device_id);
    assert_memory_equal(c.device_id, DEVICE_ID, 16);
    assert_text("node-b", c.node, c.node_len);
    assert_true(c.time_ms == NOW + 1);
    assert_non_null(c.nonce);
    assert_text("POST /fw/report", c.request, c.request_len);
    EXPECT_OK(dsuit_token_verify(buf, len, NULL, 0, pub));

    assert_int_equal(buf[0], 0xd2); /* tag 18 */
    EXPECT_OK(dsuit_cose_parse(buf, len, DSUIT_COSE_SIGN1, &m));
    assert_true(m.alg == alg);

    snprintf(name, sizeof name, "%s.txt", seed);
    write_seed("fuzz_device_token", name, text, strlen(text));
    snprintf(name, sizeof name, "%s.cbor", seed);
    write_seed("fuzz_device_token", name, buf, len);
}

static void token_round_trips_for_a_p256_device(void **state)
{
    (void)state;
    check_key_token(&p256, &p256_pub, DSUIT_COSE_ALG_ES256, "p256");
}

static void token_round_trips_for_an_ed25519_device(void **state)
{
    (void)state;
    check_key_token(&ed, &ed_pub, DSUIT_COSE_ALG_EDDSA, "ed25519");
}

static void token_round_trips_with_the_longest_request(void **state)
{
    char text[BUF_MAX], path[DSUIT_TOKEN_REQ_MAX];
    uint8_t buf[BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    (void)state;
    /* "GET " + path = 255 bytes, the most DSUIT_TOKEN_REQ_MAX holds. */
    memset(path, 'p', sizeof path);
    path[0] = '/';
    path[DSUIT_TOKEN_REQ_MAX - 1 - 4] = '\0';
    EXPECT_OK(dsuit_token_make(NULL, NULL, 0, DEVICE_ID, &ed, "n", "GET", path,
                               NOW, text, sizeof text));
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    assert_int_equal(c.request_len, DSUIT_TOKEN_REQ_MAX - 1);
    EXPECT_OK(dsuit_token_verify(buf, len, NULL, 0, &ed_pub));
}

static void two_tokens_made_in_a_row_differ_by_their_nonce(void **state)
{
    char a[BUF_MAX], b[BUF_MAX];
    uint8_t ba[BUF_MAX], bb[BUF_MAX];
    size_t la = 0, lb = 0;
    dsuit_token_claims_t ca, cb;
    (void)state;
    make_psk_token("dev", a);
    make_psk_token("dev", b);
    assert_string_not_equal(a, b);
    EXPECT_OK(dsuit_token_parse(a, ba, sizeof ba, &la, &ca));
    EXPECT_OK(dsuit_token_parse(b, bb, sizeof bb, &lb, &cb));
    assert_true(memcmp(ca.nonce, cb.nonce, 16) != 0);

    /* Ed25519 signatures are deterministic: only the nonce can differ. */
    make_key_token(&ed, a);
    make_key_token(&ed, b);
    assert_string_not_equal(a, b);
}

/* ------------------------------------------------------------------ */
/* Tampering and wrong credentials                                    */
/* ------------------------------------------------------------------ */

/* Flip each byte of the decoded token (three masks); the result, encoded
 * again, must fail to parse or fail to verify with the right credential. */
static void check_every_byte_flip(const char *text, const uint8_t *psk,
                                  size_t psk_len, const dsuit_key_t *pub)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    uint8_t buf[BUF_MAX], orig[BUF_MAX], out[BUF_MAX];
    char t2[BUF_MAX];
    size_t len = 0, ol = 0;
    dsuit_token_claims_t c;

    EXPECT_OK(dsuit_token_parse(text, orig, sizeof orig, &len, &c));
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            int rc;
            memcpy(buf, orig, len);
            buf[i] ^= masks[m];
            /* Straight to verify, as a caller holding the bytes would. */
            rc = dsuit_token_verify(buf, len, psk, psk_len, pub);
            if (rc == DSUIT_OK)
                fail_msg("byte %zu ^ 0x%02x: verify accepted it", i, masks[m]);
            b64url(buf, len, t2, sizeof t2);
            rc = dsuit_token_parse(t2, out, sizeof out, &ol, &c);
            if (rc == DSUIT_OK &&
                dsuit_token_verify(out, ol, psk, psk_len, pub) == DSUIT_OK)
                fail_msg("byte %zu ^ 0x%02x: parse and verify accepted it", i,
                         masks[m]);
        }
    }
}

static void token_fails_when_any_byte_of_a_psk_token_is_flipped(void **state)
{
    char text[BUF_MAX];
    (void)state;
    make_psk_token("dev-1", text);
    check_every_byte_flip(text, PSK, sizeof PSK, NULL);
}

static void token_fails_when_any_byte_of_a_p256_token_is_flipped(void **state)
{
    char text[BUF_MAX];
    (void)state;
    make_key_token(&p256, text);
    check_every_byte_flip(text, NULL, 0, &p256_pub);
}

static void
token_fails_when_any_byte_of_an_ed25519_token_is_flipped(void **state)
{
    char text[BUF_MAX];
    (void)state;
    make_key_token(&ed, text);
    check_every_byte_flip(text, NULL, 0, &ed_pub);
}

static void token_fails_when_truncated_at_any_length(void **state)
{
    char text[BUF_MAX];
    uint8_t buf[BUF_MAX], out[BUF_MAX];
    char t2[BUF_MAX];
    size_t len = 0, ol = 0;
    dsuit_token_claims_t c;
    (void)state;
    make_psk_token("dev-1", text);
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    for (size_t n = 0; n < len; n++) {
        b64url(buf, n, t2, sizeof t2);
        if (dsuit_token_parse(t2, out, sizeof out, &ol, &c) == DSUIT_OK)
            fail_msg("a token cut to %zu of %zu bytes parsed", n, len);
        if (dsuit_token_verify(buf, n, PSK, sizeof PSK, NULL) == DSUIT_OK)
            fail_msg("a token cut to %zu of %zu bytes verified", n, len);
    }
}

static void token_verify_fails_with_another_psk(void **state)
{
    char text[BUF_MAX];
    uint8_t buf[BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    (void)state;
    make_psk_token("dev-1", text);
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    EXPECT(dsuit_token_verify(buf, len, OTHER_PSK, sizeof OTHER_PSK, NULL),
           DSUIT_E_MAC);
    /* A prefix of the right PSK is another PSK too. */
    EXPECT(dsuit_token_verify(buf, len, PSK, sizeof PSK - 1, NULL),
           DSUIT_E_MAC);
}

static void token_verify_fails_with_another_device_key(void **state)
{
    char text[BUF_MAX];
    uint8_t buf[BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    (void)state;
    make_key_token(&p256, text);
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    EXPECT(dsuit_token_verify(buf, len, NULL, 0, &p256_other_pub),
           DSUIT_E_SIGNATURE);
    /* An Ed25519 key for an ES256 token: the algorithm does not fit. */
    EXPECT(dsuit_token_verify(buf, len, NULL, 0, &ed_pub), DSUIT_E_ALG);
}

static void token_verify_refuses_a_sign1_token_checked_as_psk(void **state)
{
    char text[BUF_MAX];
    uint8_t buf[BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    (void)state;
    make_key_token(&p256, text);
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    EXPECT(dsuit_token_verify(buf, len, PSK, sizeof PSK, NULL), DSUIT_E_ALG);
    make_key_token(&ed, text);
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    EXPECT(dsuit_token_verify(buf, len, PSK, sizeof PSK, NULL), DSUIT_E_ALG);
}

static void token_verify_refuses_a_mac0_token_checked_with_a_key(void **state)
{
    char text[BUF_MAX];
    uint8_t buf[BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    (void)state;
    make_psk_token("dev-1", text);
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    EXPECT(dsuit_token_verify(buf, len, NULL, 0, &p256_pub), DSUIT_E_ALG);
    EXPECT(dsuit_token_verify(buf, len, NULL, 0, &ed_pub), DSUIT_E_ALG);
}

static void token_verify_refuses_no_credential(void **state)
{
    char text[BUF_MAX];
    uint8_t buf[BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    (void)state;
    make_psk_token("dev-1", text);
    EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
    EXPECT(dsuit_token_verify(buf, len, NULL, 0, NULL), DSUIT_E_INVAL);
}

/* The header says tagged COSE_Mac0 (17) or COSE_Sign1 (18): "what kind it
 * is, before any key is known". An untagged message must not be taken. */
static void token_refuses_an_untagged_message(void **state)
{
    uint8_t claims[256], msg[MSG_MAX], buf[BUF_MAX];
    char text[BUF_MAX];
    size_t cl, ml, len = 0;
    dsuit_token_claims_t c;
    (void)state;
    cl = tv_diag("{1: h'deadbeef000102030405060708090a0b', 2: \"node-b\", "
                 "3: 1700000000000, 4: h'000102030405060708090a0b0c0d0e0f', "
                 "5: \"GET /fw/manifest\"}",
                 NULL, 0, claims, sizeof claims);
    const dsuit_key_t *keys[] = {&p256, &ed};
    const dsuit_key_t *pubs[] = {&p256_pub, &ed_pub};
    for (size_t i = 0; i < 2; i++) {
        ml =
            cose_msg(DSUIT_COSE_SIGN1, keys[i], 0, claims, cl, msg, sizeof msg);
        b64url(msg, ml, text, sizeof text);
        if (dsuit_token_parse(text, buf, sizeof buf, &len, &c) == DSUIT_OK &&
            dsuit_token_verify(buf, len, NULL, 0, pubs[i]) == DSUIT_OK)
            fail_msg("an untagged COSE_Sign1 (%s) was accepted as a token",
                     dsuit_key_type_name(keys[i]->type));
    }
    /* Untagged Mac0: parsed as Sign1 (cose.h), so never MAC-checked. */
    cl = tv_diag("{1: \"dev-1\", 2: \"node-a\", 3: 1700000000000, "
                 "4: h'000102030405060708090a0b0c0d0e0f', 5: \"GET /x\"}",
                 NULL, 0, claims, sizeof claims);
    ml = cose_msg(DSUIT_COSE_MAC0, NULL, 0, claims, cl, msg, sizeof msg);
    b64url(msg, ml, text, sizeof text);
    if (dsuit_token_parse(text, buf, sizeof buf, &len, &c) == DSUIT_OK &&
        dsuit_token_verify(buf, len, PSK, sizeof PSK, NULL) == DSUIT_OK)
        fail_msg("an untagged COSE_Mac0 was accepted as a token");
}

/* ------------------------------------------------------------------ */
/* base64url text                                                     */
/* ------------------------------------------------------------------ */

/* How a row changes a real token's text. */
typedef enum {
    T_LITERAL,      /* text is the whole input */
    T_APPEND,       /* append text */
    T_REPLACE_AT_5, /* put text[0] at offset 5 */
    T_SET_LOW_BITS, /* make the last character's unused bits nonzero */
} text_edit_t;

typedef struct {
    const char *name;
    text_edit_t edit;
    const char *text;
    int want;
} text_case_t;

static const text_case_t text_cases[] = {
    {"padding '=' appended", T_APPEND, "=", DSUIT_E_INVAL},
    {"padding '==' appended", T_APPEND, "==", DSUIT_E_INVAL},
    {"'+' (base64, not base64url)", T_REPLACE_AT_5, "+", DSUIT_E_INVAL},
    {"'/' (base64, not base64url)", T_REPLACE_AT_5, "/", DSUIT_E_INVAL},
    {"a space", T_REPLACE_AT_5, " ", DSUIT_E_INVAL},
    {"a '.'", T_REPLACE_AT_5, ".", DSUIT_E_INVAL},
    {"a newline", T_REPLACE_AT_5, "\n", DSUIT_E_INVAL},
    {"a non-ASCII byte", T_REPLACE_AT_5, "\xc3", DSUIT_E_INVAL},
    {"non-canonical trailing bits", T_SET_LOW_BITS, NULL, DSUIT_E_INVAL},
    {"length % 4 == 1", T_LITERAL, "A", DSUIT_E_INVAL},
    {"length % 4 == 1 (5)", T_LITERAL, "AAAAA", DSUIT_E_INVAL},
    {"non-canonical 'AB'", T_LITERAL, "AB", DSUIT_E_INVAL},
    {"non-canonical 'AAB'", T_LITERAL, "AAB", DSUIT_E_INVAL},
    {"padded 'AA=='", T_LITERAL, "AA==", DSUIT_E_INVAL},
    {"the scheme left in", T_LITERAL, "DSUIT 0QA", DSUIT_E_INVAL},
    {"empty", T_LITERAL, "", ANY_ERR},
    {"decodes to one zero byte", T_LITERAL, "AA", ANY_ERR},
};

static void apply_edit(const text_case_t *tc, char *text, size_t cap)
{
    size_t n = strlen(text);
    switch (tc->edit) {
    case T_LITERAL:
        snprintf(text, cap, "%s", tc->text);
        break;
    case T_APPEND:
        snprintf(text + n, cap - n, "%s", tc->text);
        break;
    case T_REPLACE_AT_5:
        text[5] = tc->text[0];
        break;
    case T_SET_LOW_BITS: {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                                "tuvwxyz0123456789-_";
        /* Length % 4 == 2 leaves 4 unused bits, == 3 leaves 2. */
        assert_true(n % 4 == 2 || n % 4 == 3);
        int v = (int)(strchr(a, text[n - 1]) - a);
        assert_int_equal(v & (n % 4 == 2 ? 15 : 3), 0);
        text[n - 1] = a[v | 1];
        break;
    }
    }
}

static void token_parse_refuses_bad_base64url(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
        const text_case_t *tc = &text_cases[i];
        char text[BUF_MAX + 8];
        uint8_t buf[BUF_MAX];
        size_t len = 0;
        dsuit_token_claims_t c;
        /* An id whose token's length is not a multiple of 4 (checked by
         * apply_edit for the rows that need it). */
        const char *ids[] = {"d", "dv", "dev", "devi"};
        size_t k = 0;
        do {
            make_psk_token(ids[k], text);
        } while (strlen(text) % 4 < 2 && ++k < 4);
        EXPECT_OK(dsuit_token_parse(text, buf, sizeof buf, &len, &c));
        apply_edit(tc, text, sizeof text);
        int rc = dsuit_token_parse(text, buf, sizeof buf, &len, &c);
        if (tc->want == ANY_ERR ? rc == DSUIT_OK : rc != tc->want)
            fail_msg("row '%s': got %s, want %s", tc->name, dsuit_err_name(rc),
                     tc->want == ANY_ERR ? "an error"
                                         : dsuit_err_name(tc->want));
    }
}

static void token_parse_refuses_text_that_is_too_long(void **state)
{
    char text[2 * BUF_MAX];
    uint8_t buf[2 * BUF_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    (void)state;
    /* DSUIT_TOKEN_TEXT_MAX counts the NUL: 1023 characters at most. Pad a
     * real token with valid base64url so only its length is wrong. */
    make_psk_token("dev-1", text);
    size_t n = strlen(text);
    memset(text + n, 'A', DSUIT_TOKEN_TEXT_MAX - n);
    text[DSUIT_TOKEN_TEXT_MAX] = '\0';
    EXPECT(dsuit_token_parse(text, buf, sizeof buf, &len, &c), DSUIT_E_INVAL);
    memset(text, 'A', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    EXPECT(dsuit_token_parse(text, buf, sizeof buf, &len, &c), DSUIT_E_INVAL);
    EXPECT(dsuit_token_parse(NULL, buf, sizeof buf, &len, &c), DSUIT_E_INVAL);
}

/* ------------------------------------------------------------------ */
/* Claims                                                             */
/* ------------------------------------------------------------------ */

#define ID16    "h'deadbeef000102030405060708090a0b'"
#define NONCE16 "h'000102030405060708090a0b0c0d0e0f'"

typedef struct {
    const char *name;
    const char *diag; /* claims; NULL: hex */
    const char *hex;
    int want;
} claims_case_t;

static const claims_case_t claims_cases[] = {
    /* Controls: the shape the header gives, for both kinds of device. */
    {"psk claims", "{1: \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}",
     NULL, DSUIT_OK},
    {"device-id claims",
     "{1: " ID16 ", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_OK},
    /* Missing, extra, reordered or repeated keys. */
    {"key 5 missing", "{1: \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 "}", NULL,
     DSUIT_E_INVAL},
    {"key 1 missing", "{2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_INVAL},
    {"an extra key 6",
     "{1: \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\", 6: 0}", NULL,
     DSUIT_E_INVAL},
    {"an extra key 0 first",
     "{0: 0, 1: \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_INVAL},
    {"keys 1 and 2 swapped",
     "{2: \"n\", 1: \"dev\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_INVAL},
    {"keys 4 and 5 swapped",
     "{1: \"dev\", 2: \"n\", 3: 5, 5: \"GET /\", 4: " NONCE16 "}", NULL,
     DSUIT_E_INVAL},
    {"key 1 twice instead of 2",
     "{1: \"dev\", 1: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_INVAL},
    {"text keys",
     "{\"1\": \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_CBOR_TYPE},
    /* Wrong types. */
    {"not a map", "[1, \"dev\", 2, \"n\", 3]", NULL, DSUIT_E_CBOR_TYPE},
    {"device a uint", "{1: 7, 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}",
     NULL, DSUIT_E_CBOR_TYPE},
    {"device an array",
     "{1: [\"dev\"], 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_CBOR_TYPE},
    {"node a bstr",
     "{1: \"dev\", 2: h'6e', 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_CBOR_TYPE},
    {"time negative",
     "{1: \"dev\", 2: \"n\", 3: -5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_CBOR_TYPE},
    {"time text",
     "{1: \"dev\", 2: \"n\", 3: \"5\", 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_CBOR_TYPE},
    {"time tagged (epoch tag 1)",
     "{1: \"dev\", 2: \"n\", 3: 1(5), 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_CBOR_TYPE},
    {"nonce text",
     "{1: \"dev\", 2: \"n\", 3: 5, 4: \"0123456789abcdef\", 5: \"GET /\"}",
     NULL, DSUIT_E_CBOR_TYPE},
    {"request a bstr", "{1: \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: h'00'}",
     NULL, DSUIT_E_CBOR_TYPE},
    {"request null", "{1: \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: null}",
     NULL, DSUIT_E_CBOR_TYPE},
    /* Sizes. */
    {"nonce of 15 bytes",
     "{1: \"dev\", 2: \"n\", 3: 5, 4: h'000102030405060708090a0b0c0d0e', "
     "5: \"GET /\"}",
     NULL, DSUIT_E_INVAL},
    {"nonce of 17 bytes",
     "{1: \"dev\", 2: \"n\", 3: 5, 4: h'000102030405060708090a0b0c0d0e0f10', "
     "5: \"GET /\"}",
     NULL, DSUIT_E_INVAL},
    {"nonce empty", "{1: \"dev\", 2: \"n\", 3: 5, 4: h'', 5: \"GET /\"}", NULL,
     DSUIT_E_INVAL},
    {"device id of 15 bytes",
     "{1: h'deadbeef000102030405060708090a', 2: \"n\", 3: 5, 4: " NONCE16
     ", 5: \"GET /\"}",
     NULL, DSUIT_E_INVAL},
    {"device id of 17 bytes",
     "{1: h'deadbeef000102030405060708090a0b0c', 2: \"n\", 3: 5, 4: " NONCE16
     ", 5: \"GET /\"}",
     NULL, DSUIT_E_INVAL},
    {"device id empty",
     "{1: h'', 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}", NULL,
     DSUIT_E_INVAL},
    /* Encoding. */
    {"trailing byte after the map",
     "{1: \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}, 0", NULL,
     DSUIT_E_INVAL},
    {"empty claims", NULL, "", DSUIT_E_TRUNCATED},
    {"truncated map", NULL, "a501636465", DSUIT_E_CBOR_LENGTH},
    {"non-minimal time (strict)", NULL,
     "a501636465760261"
     "6e"
     "031805"
     "0450000102030405060708090a0b0c0d0e0f"
     "0565474554202f",
     DSUIT_E_CBOR_NONMINIMAL},
    {"indefinite-length map", NULL,
     "bf01636465760261"
     "6e"
     "0305"
     "0450000102030405060708090a0b0c0d0e0f"
     "0565474554202fff",
     DSUIT_E_CBOR_INDEFINITE},
};

static void token_parse_refuses_each_malformed_claims_map(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof claims_cases / sizeof claims_cases[0]; i++) {
        const claims_case_t *cc = &claims_cases[i];
        uint8_t claims[512], msg[MSG_MAX], buf[BUF_MAX];
        char text[BUF_MAX];
        size_t cl, ml, len = 0;
        dsuit_token_claims_t c;
        int rc;
        if (cc->diag != NULL)
            cl = tv_diag(cc->diag, NULL, 0, claims, sizeof claims);
        else
            cl = tv_hex(cc->hex, claims, sizeof claims);
        /* MACed with the right key: the defect is the only fault. */
        ml = cose_msg(DSUIT_COSE_MAC0, NULL, 1, claims, cl, msg, sizeof msg);
        b64url(msg, ml, text, sizeof text);
        rc = dsuit_token_parse(text, buf, sizeof buf, &len, &c);
        if (rc != cc->want)
            fail_msg("row '%s': got %s, want %s", cc->name, dsuit_err_name(rc),
                     dsuit_err_name(cc->want));
        if (rc == DSUIT_OK)
            EXPECT_OK(dsuit_token_verify(buf, len, PSK, sizeof PSK, NULL));
    }
}

static void token_parse_refuses_a_detached_payload(void **state)
{
    uint8_t scratch[SCRATCH], msg[MSG_MAX], buf[BUF_MAX];
    uint8_t claims[256];
    char text[BUF_MAX];
    size_t cl, ml = 0, len = 0;
    dsuit_cose_opts_t o;
    dsuit_token_claims_t c;
    (void)state;
    cl = tv_diag("{1: \"dev\", 2: \"n\", 3: 5, 4: " NONCE16 ", 5: \"GET /\"}",
                 NULL, 0, claims, sizeof claims);
    memset(&o, 0, sizeof o);
    o.kind = DSUIT_COSE_SIGN1;
    o.alg = DSUIT_COSE_ALG_EDDSA;
    o.tagged = 1;
    o.detached = 1;
    EXPECT_OK(dsuit_cose_create(&o, &ed, claims, cl, NULL, 0, scratch,
                                sizeof scratch, msg, sizeof msg, &ml));
    b64url(msg, ml, text, sizeof text);
    EXPECT(dsuit_token_parse(text, buf, sizeof buf, &len, &c), DSUIT_E_INVAL);
}

static void token_parse_refuses_other_cbor_than_cose(void **state)
{
    static const char *const hex[] = {
        "a0",               /* a map */
        "d28440a0f640",     /* Sign1 with a nil payload */
        "d083404040",       /* tag 16 (Encrypt0) */
        "d2834040f6",       /* three elements */
        "d1d1844040404040", /* tag twice */
        "d2844140a04040",   /* protected not a map */
    };
    (void)state;
    for (size_t i = 0; i < sizeof hex / sizeof hex[0]; i++) {
        uint8_t raw[64], buf[BUF_MAX];
        char text[BUF_MAX];
        size_t n = tv_hex(hex[i], raw, sizeof raw), len = 0;
        dsuit_token_claims_t c;
        b64url(raw, n, text, sizeof text);
        if (dsuit_token_parse(text, buf, sizeof buf, &len, &c) == DSUIT_OK)
            fail_msg("'%s' parsed as a token", hex[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Making tokens                                                      */
/* ------------------------------------------------------------------ */

static void token_make_refuses_bad_arguments(void **state)
{
    char out[BUF_MAX], path[400];
    (void)state;
    /* Exactly one of psk_id and device_id. */
    EXPECT(dsuit_token_make("d", PSK, sizeof PSK, DEVICE_ID, &ed, "n", "GET",
                            "/", NOW, out, sizeof out),
           DSUIT_E_INVAL);
    EXPECT(dsuit_token_make(NULL, PSK, sizeof PSK, NULL, &ed, "n", "GET", "/",
                            NOW, out, sizeof out),
           DSUIT_E_INVAL);
    /* A PSK device needs its PSK, a registered one its key. */
    EXPECT(dsuit_token_make("d", NULL, 0, NULL, NULL, "n", "GET", "/", NOW, out,
                            sizeof out),
           DSUIT_E_INVAL);
    EXPECT(dsuit_token_make("d", PSK, 0, NULL, NULL, "n", "GET", "/", NOW, out,
                            sizeof out),
           DSUIT_E_INVAL);
    EXPECT(dsuit_token_make(NULL, NULL, 0, DEVICE_ID, NULL, "n", "GET", "/",
                            NOW, out, sizeof out),
           DSUIT_E_INVAL);
    EXPECT(dsuit_token_make("d", PSK, sizeof PSK, NULL, NULL, NULL, "GET", "/",
                            NOW, out, sizeof out),
           DSUIT_E_INVAL);
    EXPECT(dsuit_token_make("d", PSK, sizeof PSK, NULL, NULL, "n", NULL, "/",
                            NOW, out, sizeof out),
           DSUIT_E_INVAL);
    EXPECT(dsuit_token_make("d", PSK, sizeof PSK, NULL, NULL, "n", "GET", NULL,
                            NOW, out, sizeof out),
           DSUIT_E_INVAL);
    /* A public key cannot sign. */
    EXPECT(dsuit_token_make(NULL, NULL, 0, DEVICE_ID, &ed_pub, "n", "GET", "/",
                            NOW, out, sizeof out),
           DSUIT_E_KEY);
    /* Too small an output, too long a request. */
    EXPECT(dsuit_token_make("d", PSK, sizeof PSK, NULL, NULL, "n", "GET", "/",
                            NOW, out, 10),
           DSUIT_E_LIMIT);
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    EXPECT(dsuit_token_make("d", PSK, sizeof PSK, NULL, NULL, "n", "GET", path,
                            NOW, out, sizeof out),
           DSUIT_E_LIMIT);
    path[DSUIT_TOKEN_REQ_MAX - 4] = '\0'; /* "GET " + 252 = 256: no NUL room */
    EXPECT(dsuit_token_make("d", PSK, sizeof PSK, NULL, NULL, "n", "GET", path,
                            NOW, out, sizeof out),
           DSUIT_E_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_round_trips_for_a_psk_device),
        cmocka_unit_test(token_round_trips_for_a_p256_device),
        cmocka_unit_test(token_round_trips_for_an_ed25519_device),
        cmocka_unit_test(token_round_trips_with_the_longest_request),
        cmocka_unit_test(two_tokens_made_in_a_row_differ_by_their_nonce),
        cmocka_unit_test(token_fails_when_any_byte_of_a_psk_token_is_flipped),
        cmocka_unit_test(token_fails_when_any_byte_of_a_p256_token_is_flipped),
        cmocka_unit_test(
            token_fails_when_any_byte_of_an_ed25519_token_is_flipped),
        cmocka_unit_test(token_fails_when_truncated_at_any_length),
        cmocka_unit_test(token_verify_fails_with_another_psk),
        cmocka_unit_test(token_verify_fails_with_another_device_key),
        cmocka_unit_test(token_verify_refuses_a_sign1_token_checked_as_psk),
        cmocka_unit_test(token_verify_refuses_a_mac0_token_checked_with_a_key),
        cmocka_unit_test(token_verify_refuses_no_credential),
        cmocka_unit_test(token_refuses_an_untagged_message),
        cmocka_unit_test(token_parse_refuses_bad_base64url),
        cmocka_unit_test(token_parse_refuses_text_that_is_too_long),
        cmocka_unit_test(token_parse_refuses_each_malformed_claims_map),
        cmocka_unit_test(token_parse_refuses_a_detached_payload),
        cmocka_unit_test(token_parse_refuses_other_cbor_than_cose),
        cmocka_unit_test(token_make_refuses_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
