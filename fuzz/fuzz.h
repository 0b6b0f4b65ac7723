/*
 * What the libFuzzer harnesses share: the entry point's prototype, CHECK()
 * (a broken invariant aborts, which libFuzzer reports as a crash), and the
 * public key of the SUIT specification's P-256 examples
 * (draft-ietf-suit-manifest, appendix "Example keys"), whose private key no
 * input can use: a signature that verifies against it in a fuzzed input
 * is a forgery.
 */
#ifndef DSUIT_FUZZ_H
#define DSUIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

/* x || y of the specification's P-256 public key. */
static const uint8_t SPEC_XY[64] = {
    0x84, 0x96, 0x81, 0x1a, 0xae, 0x0b, 0xaa, 0xab, 0xd2, 0x61, 0x57,
    0x18, 0x9e, 0xec, 0xda, 0x26, 0xbe, 0xaa, 0x8b, 0xf1, 0x1b, 0x6f,
    0x3f, 0xe6, 0xe2, 0xb5, 0x65, 0x9c, 0x85, 0xdb, 0xc0, 0xad, 0x3b,
    0x1f, 0x2a, 0x4b, 0x6c, 0x09, 0x81, 0x31, 0xc0, 0xa3, 0x6d, 0xac,
    0xd1, 0xd7, 0x8b, 0xd3, 0x81, 0xdc, 0xdf, 0xb0, 0x9c, 0x05, 0x2d,
    0xb3, 0x39, 0x91, 0xdb, 0x73, 0x38, 0xb4, 0xa8, 0x96};

#endif /* DSUIT_FUZZ_H */
