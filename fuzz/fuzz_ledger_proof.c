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

#include "fuzz.h"

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
            CHECK(dsuit_key_set_public(&keys[i], DSUIT_KEY_P256, SPEC_XY, 64) ==
                  DSUIT_OK);
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
