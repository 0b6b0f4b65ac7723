/*
 * libFuzzer harness for the device's ledger-proof parsers
 * (include/dsuit/ledger_proof.h).
 *
 * For each input:
 *   - dsuit_block_header_decode(); a decoded header must re-encode to
 *     exactly the input (one header, one byte string, one block hash);
 *   - dsuit_ledger_proof_verify() against a fixed trust set (the SUIT spec
 *     P-256 public key as all four validators, quorum 3) and a manifest
 *     digest taken from the input's last 32 bytes. No input can carry
 *     valid votes by that key, so DSUIT_OK is a forgery and aborts; every
 *     other outcome must be one of the documented errors.
 *
 * A bug is a crash, a sanitizer report, a broken invariant or a forgery.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/ledger_proof.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

static const uint8_t SPEC_XY[64] = {
    0x84, 0x96, 0x81, 0x1a, 0xae, 0x0b, 0xaa, 0xab, 0xd2, 0x61, 0x57,
    0x18, 0x9e, 0xec, 0xda, 0x26, 0xbe, 0xaa, 0x8b, 0xf1, 0x1b, 0x6f,
    0x3f, 0xe6, 0xe2, 0xb5, 0x65, 0x9c, 0x85, 0xdb, 0xc0, 0xad, 0x3b,
    0x1f, 0x2a, 0x4b, 0x6c, 0x09, 0x81, 0x31, 0xc0, 0xa3, 0x6d, 0xac,
    0xd1, 0xd7, 0x8b, 0xd3, 0x81, 0xdc, 0xdf, 0xb0, 0x9c, 0x05, 0x2d,
    0xb3, 0x39, 0x91, 0xdb, 0x73, 0x38, 0xb4, 0xa8, 0x96};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dsuit_key_t keys[4];
    static int ready;
    static const uint8_t chain[32] = {0x5a};
    static const uint8_t zero[32];
    const dsuit_trust_t t = {chain, keys, 4, 3};
    dsuit_block_header_t h;
    dsuit_ledger_proof_info_t info;
    uint8_t again[512];
    size_t n;
    int rc;

    if (!ready) {
        for (int i = 0; i < 4; i++)
            CHECK(dsuit_key_set_public(&keys[i], DSUIT_KEY_P256, SPEC_XY,
                                       64) == DSUIT_OK);
        ready = 1;
    }

    if (dsuit_block_header_decode(data, size, &h) == DSUIT_OK) {
        CHECK(dsuit_block_header_encode(&h, again, sizeof again, &n) ==
              DSUIT_OK);
        CHECK(n == size && memcmp(again, data, n) == 0);
    }

    rc = dsuit_ledger_proof_verify(data, size, &t,
                                   size >= 32 ? data + size - 32 : zero,
                                   (uint64_t)size * 1000, 60000, &info);
    CHECK(rc != DSUIT_OK);
    CHECK(rc < 0 && dsuit_strerror(rc) != NULL);
    return 0;
}
