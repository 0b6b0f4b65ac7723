/*
 * Test helpers for reading the official vectors and writing inputs as hex.
 *
 * The vectors live in the folder named by the DSUIT_VECTORS environment
 * variable (ctest sets it; see CMakeLists.txt), e.g. relpath
 * "suit/manifest-37/example0.cbor". A test must never pass because a vector
 * is missing, so each reader fails the running cmocka test (fail_msg) with
 * the path and the reason instead of returning quietly.
 *
 * Call these only from inside a cmocka test (fail_msg needs one running).
 */
#ifndef DSUIT_TEST_VECTORS_H
#define DSUIT_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"

/**
 * Read $DSUIT_VECTORS/<relpath> into buf[0..cap).
 * @param[out] out_len  file size
 * @return 0. Fails the test if DSUIT_VECTORS is unset, the file is missing
 *         or unreadable, or it does not fit in cap bytes.
 */
int tv_read(const char *relpath, uint8_t *buf, size_t cap, size_t *out_len);

/**
 * As tv_read(), for text (PEM): buf is NUL-terminated, so the file must fit
 * in cap - 1 bytes; *out_len excludes the NUL.
 */
int tv_read_text(const char *relpath, char *buf, size_t cap, size_t *out_len);

/**
 * Decode hex into out[0..cap). Whitespace is skipped, so long constants can
 * be split over lines; either case is accepted.
 * @return the number of bytes written. Fails the test on a non-hex
 *         character, an odd digit count, or output longer than cap.
 */
size_t tv_hex(const char *hex, uint8_t *out, size_t cap);

/* ---- CBOR from diagnostic notation, SUIT envelopes (test builders) ---- */

/* Pre-encoded CBOR that tv_diag() inserts for $0..$9. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} tv_raw_t;

/**
 * Encode CBOR diagnostic notation (RFC 8949 §8) with the dsuit encoder.
 * Understood: integers (-5, 18446744073709551615), h'hex', "text" (with
 * \" \\ \xHH escapes, so invalid UTF-8 can be written), [ ], { } (pairs
 * "k: v" written in the order given, so non-canonical maps can be made),
 * << items >> (the encodings of the items concatenated and bstr-wrapped),
 * N(item) tags, true, false, null, $n (raw[n] inserted as one item) and
 * comments / ... /. At the top level several comma-separated items are
 * concatenated (a CBOR sequence, e.g. for trailing bytes).
 * @return bytes written. Fails the test on a syntax error or overflow.
 */
size_t tv_diag(const char *diag, const tv_raw_t *raw, size_t n_raw,
               uint8_t *out, size_t cap);

/* How tv_suit_auth() builds an authentication wrapper. */
typedef struct {
    const dsuit_key_t *key; /* signer (P-256 or symmetric); NULL: no block */
    int64_t cose_alg;       /* 0: ES256, or HMAC 256/256 for a symmetric key */
    int64_t digest_alg;     /* 0: -16; else written as given (bytes stay
                               SHA-256) */
    int digest_unwrapped;   /* digest over the manifest without its bstr head */
    int corrupt_digest;     /* flip a bit of the digest bytes (then signed) */
} tv_suit_auth_opts_t;

/**
 * Encode the value of envelope key 2 (bstr head included) for the manifest
 * content manifest[0..len): [<<[alg, digest]>>, <<COSE block>>], the block
 * made with dsuit_cose_create() over the encoded SUIT_Digest, detached.
 * @return bytes written; fails the test on any error.
 */
size_t tv_suit_auth(const uint8_t *manifest, size_t len,
                    const tv_suit_auth_opts_t *opts, uint8_t *out, size_t cap);

/**
 * Build 107({2: auth, 3: <<manifest>>}) from the manifest written in
 * diagnostic notation, signed ES256 with key.
 * @return envelope length; fails the test on any error.
 */
size_t tv_suit_sign_diag(const char *manifest_diag, const dsuit_key_t *key,
                         uint8_t *out, size_t cap);

/** Load a PEM key from $DSUIT_VECTORS/<relpath>; fails the test if it
 * cannot. */
void tv_key_pem(const char *relpath, dsuit_key_t *key);

#endif /* DSUIT_TEST_VECTORS_H */
