/*
 * dsuit commit certificates (docs/formats/ledger.md, "Commit certificate"):
 * a block hash co-signed by at least a quorum of the genesis validators.
 * A device or light client accepts a ledger fact only under a certificate,
 * so fewer than n/3 lying validators cannot make it accept a forged or
 * forked history.
 *
 *   Cert = { 1: height, 2: block-hash bstr(32), 3: [+ [index, sig bstr]] }
 *   vote = sign("dsuit-cert-v1" || chain id hash || block hash)
 *
 * Device-safe: no allocation. A decoded certificate points into the
 * caller's buffer.
 */
#ifndef DSUIT_CERT_H
#define DSUIT_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DSUIT_CERT_CONTEXT  "dsuit-cert-v1"
#define DSUIT_CERT_MAX_SIGS 64 /* = DSUIT_GENESIS_MAX_VALIDATORS */

/*
 * What a verifier trusts: the chain and its validators' public keys, in
 * genesis order. Caller-owned; the keys are borrowed.
 */
typedef struct {
    const uint8_t *chain; /* chain id hash, 32 bytes */
    const dsuit_key_t *validators;
    size_t n_validators;
    uint64_t quorum; /* must be a strict majority of n_validators */
} dsuit_trust_t;

/* A decoded certificate. Signatures are read in place by
 * dsuit_cert_verify(); sigs/sigs_len is the encoded list. */
typedef struct {
    uint64_t height;
    const uint8_t *block_hash; /* 32 bytes */
    size_t n_sigs;
    const uint8_t *sigs;
    size_t sigs_len;
} dsuit_cert_t;

/**
 * Decode a certificate (deterministic encoding; entries ascend by
 * validator index with no repeats).
 * Errors: DSUIT_E_INVAL (shape, order, repeats), DSUIT_E_LIMIT (more than
 * DSUIT_CERT_MAX_SIGS entries), CBOR errors.
 */
int dsuit_cert_decode(const uint8_t *buf, size_t len, dsuit_cert_t *out);

/**
 * Count the distinct validators whose vote on the certificate's block hash
 * verifies, and require the quorum.
 * @param[out] out_valid  votes that verified (may be NULL)
 * Errors: DSUIT_E_SIGNATURE (fewer than quorum verify), DSUIT_E_INVAL
 * (quorum not a strict majority, an index past the validators, trust
 * incomplete).
 */
int dsuit_cert_verify(const dsuit_cert_t *cert, const dsuit_trust_t *trust,
                      size_t *out_valid);

/** A validator's vote on a block: the signature over
 * "dsuit-cert-v1" || chain || block hash. Errors: DSUIT_E_KEY,
 * DSUIT_E_CRYPTO. */
int dsuit_cert_vote(const dsuit_key_t *key, const uint8_t chain[32],
                    const uint8_t block_hash[32], uint8_t sig[DSUIT_SIG_LEN]);

/** Check one vote. Errors: DSUIT_E_SIGNATURE, DSUIT_E_KEY. */
int dsuit_cert_vote_verify(const dsuit_key_t *key, const uint8_t chain[32],
                           const uint8_t block_hash[32], const uint8_t *sig,
                           size_t sig_len);

/**
 * Encode a certificate from votes given in ascending validator index.
 * Errors: DSUIT_E_INVAL (indices not ascending), DSUIT_E_LIMIT (*out_len =
 * size needed, or too many votes).
 */
int dsuit_cert_encode(uint64_t height, const uint8_t block_hash[32],
                      const uint64_t *indices,
                      const uint8_t (*sigs)[DSUIT_SIG_LEN], size_t n,
                      uint8_t *out, size_t out_cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_CERT_H */
