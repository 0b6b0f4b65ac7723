/*
 * dsuit ledger proofs, device side (docs/formats/ledger.md, "Blocks",
 * "Ledger proof"): block headers and the check a device runs to believe
 * that a quorum of validators recorded a manifest.
 *
 *   LedgerProof = [ header bstr, Cert, leaf bstr, [index, size, [* hash]] ]
 *
 * Device-safe: no allocation; everything decoded points into the caller's
 * buffer.
 */
#ifndef DSUIT_LEDGER_PROOF_H
#define DSUIT_LEDGER_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/cert.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A block header (docs/formats/ledger.md). */
typedef struct {
    uint8_t chain[DSUIT_SHA256_LEN];
    uint64_t height;
    uint8_t prev_hash[DSUIT_SHA256_LEN];
    uint64_t time_ms;
    uint64_t proposer;
    uint8_t tx_root[DSUIT_SHA256_LEN];
    uint64_t mlog_size;
    uint8_t mlog_root[DSUIT_SHA256_LEN];
    uint8_t state_root[DSUIT_SHA256_LEN];
} dsuit_block_header_t;

/** Encode a header deterministically. Errors: DSUIT_E_LIMIT. */
int dsuit_block_header_encode(const dsuit_block_header_t *h, uint8_t *out,
                              size_t out_cap, size_t *out_len);

/** Decode a header (deterministic encoding only). Errors: DSUIT_E_INVAL,
 * CBOR errors. */
int dsuit_block_header_decode(const uint8_t *buf, size_t len,
                              dsuit_block_header_t *out);

/* What a verified proof established. */
typedef struct {
    uint64_t height;          /* the certified block */
    uint64_t time_ms;         /* its time */
    size_t votes;             /* valid votes in its certificate */
    uint64_t leaf_index;      /* the manifest's place in the log */
    uint64_t manifest_height; /* the block that accepted the manifest */
    uint64_t seq;             /* the manifest's sequence number */
    const uint8_t *vendor;    /* 16 bytes, into the proof buffer */
    const uint8_t *class_id;  /* 16 bytes, into the proof buffer */
} dsuit_ledger_proof_info_t;

/**
 * Verify a LedgerProof for a manifest the device has authenticated:
 *   1. SHA-256(header) is the certificate's block hash, the heights agree,
 *      and a quorum of the trusted validators' votes verify;
 *   2. the header is for the trusted chain;
 *   3. the leaf names manifest_digest;
 *   4. the inclusion proof leads from the leaf to the header's manifest-log
 *      root, at the header's manifest-log size (never the proof's alone);
 *   5. if max_age_ms is not 0, the header is at most that old at now_ms.
 * @param[out] out  filled on success (may be NULL)
 * Errors: DSUIT_E_INVAL (malformed proof, trust incomplete),
 * DSUIT_E_SIGNATURE (no quorum), DSUIT_E_DIGEST (header, leaf or inclusion
 * does not match), DSUIT_E_STALE (too old), CBOR errors.
 */
int dsuit_ledger_proof_verify(const uint8_t *proof, size_t len,
                              const dsuit_trust_t *trust,
                              const uint8_t manifest_digest[32],
                              uint64_t now_ms, uint64_t max_age_ms,
                              dsuit_ledger_proof_info_t *out);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_LEDGER_PROOF_H */
