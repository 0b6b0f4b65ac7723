/*
 * libFuzzer harness for COSE (include/dsuit/cose.h).
 *
 * For each input: dsuit_cose_parse() as COSE_Sign1, COSE_Mac0 and ANY; for
 * every successful parse, checks that the returned pointers lie inside the
 * input and the alg is one of the five accepted, then runs
 * dsuit_cose_verify() with a fixed P-256 key (the SUIT spec key), a fixed
 * Ed25519 key and a fixed HMAC key (the detached payload, when the message
 * has none, is the first bytes of the input), with a full and a tiny
 * scratch buffer. The input is also decoded as a COSE_Key; a key that
 * decodes must re-encode and decode to the same key. Nothing may crash,
 * read out of bounds, or verify (no input here carries a valid signature
 * except by a forgery).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/cose.h"
#include "dsuit/crypto.h"

#include "fuzz.h"

/* x||y of the SUIT spec key (keys/spec-es256-p256-public.pem). */
/* RFC 8032 §7.1 TEST 1 public key. */
static const uint8_t ED_PUB[32] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
    0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
    0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};

/* The firmware-encryption draft's HMAC key: 32 bytes of 'a'. */
static const uint8_t HMAC_KEY[32] = {'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
                                     'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
                                     'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
                                     'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'};

static dsuit_key_t k_p256, k_ed, k_hmac;
static int keys_ready;

static void setup_keys(void)
{
    if (keys_ready)
        return;
    CHECK(dsuit_key_set_public(&k_p256, DSUIT_KEY_P256, SPEC_XY,
                               sizeof SPEC_XY) == DSUIT_OK);
    CHECK(dsuit_key_set_public(&k_ed, DSUIT_KEY_ED25519, ED_PUB,
                               sizeof ED_PUB) == DSUIT_OK);
    CHECK(dsuit_key_set_symmetric(&k_hmac, HMAC_KEY, sizeof HMAC_KEY) ==
          DSUIT_OK);
    keys_ready = 1;
}

static int inside(const uint8_t *data, size_t size, const uint8_t *p,
                  size_t len)
{
    if (len == 0)
        return 1;
    return p != NULL && p >= data && len <= size &&
           (size_t)(p - data) <= size - len;
}

static void try_message(const uint8_t *data, size_t size,
                        dsuit_cose_kind_t kind)
{
    static uint8_t scratch[4096];
    dsuit_cose_msg_t m;
    if (dsuit_cose_parse(data, size, kind, &m) != DSUIT_OK)
        return;
    CHECK(dsuit_cose_alg_name(m.alg) != NULL);
    CHECK(m.kind == DSUIT_COSE_SIGN1 || m.kind == DSUIT_COSE_MAC0);
    CHECK(kind == DSUIT_COSE_ANY || m.kind == kind);
    CHECK(m.protected_len <= DSUIT_COSE_MAX_PROTECTED);
    CHECK(inside(data, size, m.protected_hdr, m.protected_len));
    CHECK(inside(data, size, m.kid, m.kid_len));
    CHECK(inside(data, size, m.sig, m.sig_len));
    if (m.payload == NULL)
        CHECK(m.payload_len == 0);
    else
        CHECK(inside(data, size, m.payload, m.payload_len));

    /* Detached payload: the first bytes of the input. */
    const uint8_t *det = NULL;
    size_t det_len = 0;
    if (m.payload == NULL) {
        det = data;
        det_len = size < 64 ? size : 64;
    }
    const dsuit_key_t *keys[3] = {&k_p256, &k_ed, &k_hmac};
    for (int i = 0; i < 3; i++) {
        int rc = dsuit_cose_verify(&m, keys[i], det, det_len, NULL, 0, scratch,
                                   sizeof scratch);
        /* Verifying a fuzzer input against fixed public keys would take a
         * forgery; a success here means verification is broken. The one
         * exception is the official vectors in the corpus, whose detached
         * payload is not the input's first bytes, so they fail as well. */
        CHECK(rc != DSUIT_OK);
        (void)dsuit_cose_verify(&m, keys[i], det, det_len, data,
                                size < 16 ? size : 16, scratch, 8);
        /* Payload given twice, or not at all. */
        (void)dsuit_cose_verify(&m, keys[i], data, size, NULL, 0, scratch,
                                sizeof scratch);
        (void)dsuit_cose_verify(&m, keys[i], NULL, 0, NULL, 0, scratch,
                                sizeof scratch);
    }
}

static void try_key(const uint8_t *data, size_t size)
{
    dsuit_key_t k, k2;
    uint8_t enc[DSUIT_COSE_KEY_MAX], id[DSUIT_SHA256_LEN];
    size_t len = 0;
    if (dsuit_cose_key_decode(data, size, &k) != DSUIT_OK)
        return;
    CHECK(!k.has_private);
    CHECK((k.type == DSUIT_KEY_P256 && k.pub_len == 64) ||
          (k.type == DSUIT_KEY_ED25519 && k.pub_len == 32));
    CHECK(dsuit_cose_key_encode(&k, enc, sizeof enc, &len) == DSUIT_OK);
    CHECK(dsuit_cose_key_decode(enc, len, &k2) == DSUIT_OK);
    CHECK(k2.type == k.type && k2.pub_len == k.pub_len &&
          memcmp(k2.pub, k.pub, k.pub_len) == 0);
    CHECK(dsuit_cose_key_id(&k, id) == DSUIT_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_keys();
    try_message(data, size, DSUIT_COSE_SIGN1);
    try_message(data, size, DSUIT_COSE_MAC0);
    try_message(data, size, DSUIT_COSE_ANY);
    try_key(data, size);
    return 0;
}
