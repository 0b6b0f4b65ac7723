/*
 * dsuit crypto interface: the only way dsuit code reaches cryptography.
 *
 * One backend implements it per build (DSUIT_CRYPTO_OPENSSL on hosts:
 * src/device/crypto/openssl.c); building with none or two is an #error.
 * HMAC-SHA256 and the constant-time helpers are backend-independent
 * (src/device/crypto/hmac.c, src/common/buf.c).
 *
 * Keys live in a caller-owned dsuit_key_t holding raw key material, so a
 * device can keep one on the stack or in static memory. A key holds secrets:
 * call dsuit_key_wipe() before the memory is released or reused.
 *
 * Signatures use the COSE forms (RFC 9053): ECDSA P-256 as raw r||s (64
 * bytes, each big-endian, left-padded), Ed25519 as its 64-byte signature.
 * ECDSA signing is deterministic (RFC 6979 nonces) so that the same manifest
 * always signs to the same bytes.
 */
#ifndef DSUIT_CRYPTO_H
#define DSUIT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DSUIT_SHA256_LEN      32
#define DSUIT_SHA256_BLOCK    64
#define DSUIT_SIG_LEN         64 /* P-256 r||s and Ed25519 */
#define DSUIT_P256_PUB_LEN    64 /* x || y, 32 bytes each */
#define DSUIT_ED25519_PUB_LEN 32
#define DSUIT_KEY_SECRET_MAX  64 /* longest symmetric key held */

/* SHA-256 context. Opaque storage sized for any backend's state; the backend
 * checks at compile time that its state fits. No _free. */
typedef struct {
    union {
        uint64_t align;
        uint8_t bytes[128];
    } u;
} dsuit_sha256_ctx_t;

/** Start a SHA-256 computation. Errors: DSUIT_E_CRYPTO. */
int dsuit_sha256_init(dsuit_sha256_ctx_t *ctx);
/** Add len bytes (len may be 0, p may then be NULL). Errors: DSUIT_E_CRYPTO. */
int dsuit_sha256_update(dsuit_sha256_ctx_t *ctx, const void *p, size_t len);
/** Write the 32-byte digest; the context must be initialised again before
 * reuse. Errors: DSUIT_E_CRYPTO. */
int dsuit_sha256_final(dsuit_sha256_ctx_t *ctx, uint8_t out[DSUIT_SHA256_LEN]);
/** One-shot SHA-256. Errors: DSUIT_E_CRYPTO. */
int dsuit_sha256(const void *p, size_t len, uint8_t out[DSUIT_SHA256_LEN]);

/* HMAC-SHA256 context (RFC 2104). Holds a key-derived state: wipe with
 * dsuit_hmac_sha256_final(), which clears it. */
typedef struct {
    dsuit_sha256_ctx_t inner;
    uint8_t opad_key[DSUIT_SHA256_BLOCK];
} dsuit_hmac_sha256_ctx_t;

/** Start HMAC-SHA256 with a key of any length. Errors: DSUIT_E_CRYPTO. */
int dsuit_hmac_sha256_init(dsuit_hmac_sha256_ctx_t *ctx, const uint8_t *key,
                           size_t key_len);
int dsuit_hmac_sha256_update(dsuit_hmac_sha256_ctx_t *ctx, const void *p,
                             size_t len);
/** Write the 32-byte tag and wipe the context. */
int dsuit_hmac_sha256_final(dsuit_hmac_sha256_ctx_t *ctx,
                            uint8_t out[DSUIT_SHA256_LEN]);
/** One-shot HMAC-SHA256. */
int dsuit_hmac_sha256(const uint8_t *key, size_t key_len, const void *p,
                      size_t len, uint8_t out[DSUIT_SHA256_LEN]);

/**
 * Compare a[0..len) and b[0..len) in time that depends only on len.
 * @return 1 if equal, 0 if not.
 */
int dsuit_ct_equal(const void *a, const void *b, size_t len);

/** Overwrite p[0..len) with zeros in a way the compiler cannot drop. */
void dsuit_wipe(void *p, size_t len);

/** Fill out[0..len) from the backend's CSPRNG. Errors: DSUIT_E_CRYPTO. */
int dsuit_random(uint8_t *out, size_t len);

typedef enum {
    DSUIT_KEY_NONE = 0,
    DSUIT_KEY_P256 = 1,      /* ECDSA over NIST P-256 */
    DSUIT_KEY_ED25519 = 2,   /* EdDSA over Curve25519 */
    DSUIT_KEY_SYMMETRIC = 3  /* HMAC key */
} dsuit_key_type_t;

/*
 * A key. Invariants: type P256 -> pub_len == 64 (x||y) and, if has_private,
 * secret_len == 32 (the scalar d); type ED25519 -> pub_len == 32 and, if
 * has_private, secret_len == 32 (the seed); type SYMMETRIC -> has_private,
 * pub_len == 0, 1 <= secret_len <= DSUIT_KEY_SECRET_MAX. Public keys set
 * through dsuit_key_set_public() have been checked (the point is on the
 * curve), so the rest of dsuit may assume a dsuit_key_t is well formed.
 */
typedef struct {
    dsuit_key_type_t type;
    int has_private;
    uint8_t pub[DSUIT_P256_PUB_LEN];
    size_t pub_len;
    uint8_t secret[DSUIT_KEY_SECRET_MAX];
    size_t secret_len;
} dsuit_key_t;

/** Human name of a key type: "es256" (P-256), "ed25519", "symmetric". */
const char *dsuit_key_type_name(dsuit_key_type_t type);

/**
 * Set a public key from raw bytes after checking it: for P-256, x||y (64
 * bytes) must be a point on the curve; for Ed25519, 32 bytes.
 * Errors: DSUIT_E_KEY (bad length, not on curve), DSUIT_E_INVAL (type).
 */
int dsuit_key_set_public(dsuit_key_t *key, dsuit_key_type_t type,
                         const uint8_t *pub, size_t pub_len);

/** Set a symmetric (HMAC) key. Errors: DSUIT_E_KEY (length 0 or too long). */
int dsuit_key_set_symmetric(dsuit_key_t *key, const uint8_t *k, size_t len);

/**
 * Generate a fresh P-256 or Ed25519 key pair from the backend's CSPRNG.
 * Errors: DSUIT_E_INVAL (type), DSUIT_E_CRYPTO.
 */
int dsuit_key_generate(dsuit_key_type_t type, dsuit_key_t *out);

/**
 * Load a key from PEM text: a PKCS#8 private key ("PRIVATE KEY", or SEC1
 * "EC PRIVATE KEY") or an X.509 SubjectPublicKeyInfo ("PUBLIC KEY"), P-256
 * or Ed25519. A private key also yields its public half.
 * Errors: DSUIT_E_KEY (not PEM, or another algorithm or curve),
 * DSUIT_E_UNSUPPORTED (backend cannot parse PEM).
 */
int dsuit_key_from_pem(const char *pem, size_t len, dsuit_key_t *out);

/**
 * Write a key as PEM text: PKCS#8 "PRIVATE KEY" if private is nonzero (the
 * key must hold its private half), else "PUBLIC KEY". The output is NUL-
 * terminated; *out_len excludes the NUL.
 * Errors: DSUIT_E_LIMIT (out too small; *out_len = bytes needed including
 * the NUL), DSUIT_E_KEY, DSUIT_E_UNSUPPORTED.
 */
int dsuit_key_to_pem(const dsuit_key_t *key, int private, char *out,
                     size_t out_cap, size_t *out_len);

/** Erase all key material; the key's type becomes DSUIT_KEY_NONE. */
void dsuit_key_wipe(dsuit_key_t *key);

/**
 * ECDSA P-256 with SHA-256 over msg, deterministic nonce (RFC 6979 §3.2).
 * @param[out] sig  r||s, 64 bytes
 * Errors: DSUIT_E_KEY (not a P-256 private key), DSUIT_E_CRYPTO.
 */
int dsuit_p256_sign(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                    uint8_t sig[DSUIT_SIG_LEN]);

/**
 * Verify an ECDSA P-256/SHA-256 signature (raw r||s) over msg.
 * Errors: DSUIT_E_SIGNATURE (does not verify, including r or s out of
 * range), DSUIT_E_KEY (not a P-256 key), DSUIT_E_CRYPTO.
 */
int dsuit_p256_verify(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                      const uint8_t *sig, size_t sig_len);

/** Ed25519 signature over msg (RFC 8032, pure). Errors: DSUIT_E_KEY,
 * DSUIT_E_CRYPTO. */
int dsuit_ed25519_sign(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                       uint8_t sig[DSUIT_SIG_LEN]);

/** Verify an Ed25519 signature. Errors: DSUIT_E_SIGNATURE, DSUIT_E_KEY,
 * DSUIT_E_CRYPTO. */
int dsuit_ed25519_verify(const dsuit_key_t *key, const uint8_t *msg,
                         size_t len, const uint8_t *sig, size_t sig_len);

/**
 * Sign msg with a P-256 (ECDSA/SHA-256, raw r||s) or Ed25519 private key,
 * whichever the key is: for code that accepts either (ledger signatures).
 * Errors: DSUIT_E_KEY (symmetric, empty or public-only key), DSUIT_E_CRYPTO.
 */
int dsuit_sig_sign(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                   uint8_t sig[DSUIT_SIG_LEN]);

/**
 * Verify a signature made by dsuit_sig_sign().
 * Errors: DSUIT_E_SIGNATURE, DSUIT_E_KEY, DSUIT_E_CRYPTO.
 */
int dsuit_sig_verify(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                     const uint8_t *sig, size_t sig_len);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_CRYPTO_H */
