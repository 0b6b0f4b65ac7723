/*
 * libFuzzer harness for commit certificates: decode the input and verify
 * it against a fixed trust set (the SUIT spec P-256 public key as all four
 * validators, quorum 3). No input can carry valid votes by that key for
 * the fixed chain, so any DSUIT_OK from verify is a forgery and aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/cert.h"

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
    dsuit_cert_t c;
    dsuit_trust_t t = {chain, keys, 4, 3};
    size_t valid = 0;

    if (!ready) {
        for (int i = 0; i < 4; i++) {
            if (dsuit_key_set_public(&keys[i], DSUIT_KEY_P256, SPEC_XY, 64) !=
                DSUIT_OK)
                abort();
        }
        ready = 1;
    }
    if (dsuit_cert_decode(data, size, &c) != DSUIT_OK)
        return 0;
    if (c.block_hash < data || c.block_hash + 32 > data + size ||
        c.sigs < data || c.sigs + c.sigs_len > data + size ||
        c.n_sigs == 0 || c.n_sigs > DSUIT_CERT_MAX_SIGS)
        abort();
    if (dsuit_cert_verify(&c, &t, &valid) == DSUIT_OK || valid != 0)
        abort(); /* a forged vote */
    return 0;
}
