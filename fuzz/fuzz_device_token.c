/*
 * libFuzzer harness for the device service's HTTP request tokens
 * (src/node/device_token.h).
 *
 * Each input is used three ways: as the token text itself (up to a little
 * past DSUIT_TOKEN_TEXT_MAX); as the decoded token (base64url-encoded here
 * first, so the fuzzer reaches the COSE and claims layers without having
 * to learn base64); and as raw bytes handed straight to
 * dsuit_token_verify(). Every token that parses must have its claims
 * inside the decoded buffer with the sizes the header promises, and is
 * then verified with a fixed PSK and with the SUIT spec P-256 public key.
 * Nothing may crash, leak, read out of bounds, or verify: no input holds a
 * MAC under the fixed PSK or a signature by the spec key short of a
 * forgery (the seeds in fuzz/corpus/fuzz_device_token/ are made with other
 * credentials, see fuzz/README.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "node/device_token.h"

#include "fuzz.h"

/* Not the PSK of the seeds (tests/node/test_device_token.c). */
static const uint8_t FUZZ_PSK[32] = {'f', 'u', 'z', 'z', '-', 'p', 's', 'k',
                                     'f', 'u', 'z', 'z', '-', 'p', 's', 'k',
                                     'f', 'u', 'z', 'z', '-', 'p', 's', 'k',
                                     'f', 'u', 'z', 'z', '-', 'p', 's', 'k'};

static dsuit_key_t k_p256;
static int keys_ready;

static void setup_keys(void)
{
    if (keys_ready)
        return;
    CHECK(dsuit_key_set_public(&k_p256, DSUIT_KEY_P256, SPEC_XY,
                               sizeof SPEC_XY) == DSUIT_OK);
    keys_ready = 1;
}

static int inside(const uint8_t *buf, size_t len, const void *p, size_t n)
{
    const uint8_t *q = p;
    return q != NULL && q >= buf && n <= len && (size_t)(q - buf) <= len - n;
}

static void b64url(const uint8_t *p, size_t n, char *out)
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
        out[k++] = a[v >> 18 & 63];
        out[k++] = a[v >> 12 & 63];
        if (left > 1)
            out[k++] = a[v >> 6 & 63];
        if (left > 2)
            out[k++] = a[v & 63];
    }
    out[k] = '\0';
}

static void verify_fails(const uint8_t *buf, size_t len)
{
    CHECK(dsuit_token_verify(buf, len, FUZZ_PSK, sizeof FUZZ_PSK, NULL) !=
          DSUIT_OK);
    CHECK(dsuit_token_verify(buf, len, NULL, 0, &k_p256) != DSUIT_OK);
}

static void try_text(const char *text)
{
    uint8_t buf[DSUIT_TOKEN_TEXT_MAX], small[16];
    size_t len = 0, sl = 0;
    dsuit_token_claims_t c;
    int rc;
    /* Too small a buffer must fail cleanly, never write past it. */
    (void)dsuit_token_parse(text, small, sizeof small, &sl, &c);
    rc = dsuit_token_parse(text, buf, sizeof buf, &len, &c);
    if (rc != DSUIT_OK)
        return;
    CHECK(len <= sizeof buf);
    if (c.is_psk) {
        CHECK(c.device_id == NULL);
        CHECK(c.psk_id_len == 0 || inside(buf, len, c.psk_id, c.psk_id_len));
    } else {
        CHECK(c.psk_id == NULL);
        CHECK(inside(buf, len, c.device_id, 16));
    }
    CHECK(c.node_len == 0 || inside(buf, len, c.node, c.node_len));
    CHECK(c.request_len == 0 || inside(buf, len, c.request, c.request_len));
    CHECK(inside(buf, len, c.nonce, 16));
    verify_fails(buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[DSUIT_TOKEN_TEXT_MAX + 64];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;

    setup_keys();
    memcpy(text, data, n);
    text[n] = '\0';
    try_text(text);
    if (size <= 3 * (DSUIT_TOKEN_TEXT_MAX / 4)) {
        b64url(data, size, text);
        try_text(text);
    }
    verify_fails(data, size);
    return 0;
}
