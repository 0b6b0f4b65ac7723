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

#include "fuzz.h"

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
        c.sigs < data || c.sigs + c.sigs_len > data + size || c.n_sigs == 0 ||
        c.n_sigs > DSUIT_CERT_MAX_SIGS)
        abort();
    if (dsuit_cert_verify(&c, &t, &valid) == DSUIT_OK || valid != 0)
        abort(); /* a forged vote */
    return 0;
}
