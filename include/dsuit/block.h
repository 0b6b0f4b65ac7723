/*
 * dsuit blocks (docs/formats/ledger.md, "Blocks"): header and block codec,
 * block hash, proposer signature. Node side, allocation-free: decoding is
 * zero-copy into the caller's buffer.
 *
 *   Block  = [ header bstr, [* tx bstr], [* result uint], proposer-sig bstr ]
 *   hash   = SHA-256(header bytes)
 *   proposer signs "dsuit-block-v1" || hash
 */
#ifndef DSUIT_BLOCK_H
#define DSUIT_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/ledger_proof.h" /* dsuit_block_header_t and its codec */

#ifdef __cplusplus
extern "C" {
#endif

#define DSUIT_BLOCK_SIG_CONTEXT "dsuit-block-v1"
#define DSUIT_BLOCK_MAX_TXS     4096

/*
 * A decoded block; pointers point into the decoded buffer. Transactions
 * and results are read in order with dsuit_block_next_tx().
 */
typedef struct {
    const uint8_t *header_bytes;
    size_t header_len;
    dsuit_block_header_t header;
    uint8_t hash[DSUIT_SHA256_LEN];
    size_t n_txs;
    const uint8_t *txs;     /* encoding of the first tx bstr */
    size_t txs_len;         /* bytes of all tx bstrs */
    const uint8_t *results; /* encoding of the first result */
    size_t results_len;
    const uint8_t *sig;
    size_t sig_len;
} dsuit_block_t;

/** Decode a block and hash its header. Errors: DSUIT_E_INVAL, DSUIT_E_LIMIT
 * (more than DSUIT_BLOCK_MAX_TXS), CBOR errors. */
int dsuit_block_decode(const uint8_t *buf, size_t len, dsuit_block_t *out);

/* Cursor over a block's transactions and results. */
typedef struct {
    const dsuit_block_t *b;
    size_t index;
    size_t tx_pos, res_pos;
} dsuit_block_iter_t;

void dsuit_block_iter_init(dsuit_block_iter_t *it, const dsuit_block_t *b);

/** Next transaction and its recorded result; DSUIT_E_NOTFOUND at the end. */
int dsuit_block_next_tx(dsuit_block_iter_t *it, const uint8_t **tx,
                        size_t *tx_len, uint64_t *result);

/**
 * Encode a block: header, transactions, results, and the proposer's
 * signature over the header's hash.
 * Errors: DSUIT_E_KEY, DSUIT_E_LIMIT (*out_len = needed).
 */
int dsuit_block_encode(const dsuit_block_header_t *h,
                       const uint8_t *const *txs, const size_t *tx_lens,
                       const uint64_t *results, size_t n,
                       const dsuit_key_t *proposer, uint8_t *out,
                       size_t out_cap, size_t *out_len);

/** Verify the proposer's signature with its validator key.
 * Errors: DSUIT_E_SIGNATURE. */
int dsuit_block_verify_sig(const dsuit_block_t *b, const dsuit_key_t *key);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_BLOCK_H */
