/*
 * dsuit ledger: a single-process, deterministic, durable replica of the
 * chain (docs/formats/ledger.md). Node side.
 *
 * The ledger validates every transaction itself with one pure rule set
 * (state, tx) -> result code + state writes, and appends a block with all
 * its writes in one LMDB transaction, so after kill -9 at any moment a
 * reopened ledger is exactly at its last committed block. The same blocks
 * give the same block hashes and state roots on every machine.
 *
 * Ordering (who proposes which block when) is not here: the replicated node
 * feeds blocks to dsuit_ledger_apply() in the order consensus decided.
 * One thread at a time may call a ledger's functions; readers that only
 * need the store can open read transactions on dsuit_ledger_store().
 */
#ifndef DSUIT_LEDGER_H
#define DSUIT_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/block.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "dsuit/store.h"
#include "dsuit/tx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dsuit_ledger dsuit_ledger_t;

typedef struct {
    dsuit_store_opts_t store;
} dsuit_ledger_opts_t;

/**
 * Open the ledger in folder `dir` (which must exist). The first open stores
 * the genesis; later opens may pass genesis NULL, or must pass the same
 * bytes (another chain's genesis is refused).
 * Errors: DSUIT_E_INVAL (no genesis stored or given, or a different one:
 * see *out_reason), genesis decode errors, store errors, DSUIT_E_NOMEM.
 */
int dsuit_ledger_open(const char *dir, const uint8_t *genesis,
                      size_t genesis_len, const dsuit_ledger_opts_t *opts,
                      dsuit_ledger_t **out, const char **out_reason);

/** Close the ledger; NULL does nothing. */
void dsuit_ledger_close(dsuit_ledger_t *l);

const dsuit_genesis_t *dsuit_ledger_genesis(const dsuit_ledger_t *l);
dsuit_store_t *dsuit_ledger_store(dsuit_ledger_t *l);
uint64_t dsuit_ledger_height(const dsuit_ledger_t *l);
/** Hash of the last block (32 zero bytes at height 0) and state root. */
void dsuit_ledger_tip(const dsuit_ledger_t *l, uint8_t hash[32],
                      uint8_t state_root[32]);
/** Leaves in the manifest log. */
uint64_t dsuit_ledger_mlog_size(const dsuit_ledger_t *l);

/* What applying a block did. */
typedef struct {
    uint64_t height;
    uint8_t hash[DSUIT_SHA256_LEN];
    size_t n_txs;
    size_t n_ok; /* transactions applied (result 0) */
    const char *reason; /* static; why the block was rejected */
} dsuit_block_info_t;

/**
 * Build the next block as proposer: run the transactions against a
 * scratch copy of the state to find each one's result and the roots, then
 * sign the header. Nothing is written.
 * @param[in] key      a validator's private key (its index is the proposer)
 * @param[in] time_ms  the proposer's clock; raised to the last block's time
 *                     if it is earlier, so block times never go back
 * @param[out] out     a malloc'd block the caller frees
 * Errors: DSUIT_E_KEY (not a validator key), DSUIT_E_LIMIT (too many txs),
 * store errors, DSUIT_E_NOMEM.
 */
int dsuit_ledger_propose(dsuit_ledger_t *l, const dsuit_key_t *key,
                         uint64_t time_ms, const uint8_t *const *txs,
                         const size_t *tx_lens, size_t n, uint8_t **out,
                         size_t *out_len);

/**
 * Validate and append the next block: proposer is a validator and signed
 * it, height and prev-hash follow the tip, time does not go back, and
 * every transaction's result, the tx root, the manifest log and the state
 * root recomputed here equal the header's. All or nothing, durable on
 * return.
 * Errors: DSUIT_E_REJECTED (info->reason says why; nothing changed),
 * DSUIT_E_FULL (the store's map is full; nothing changed), store errors.
 */
int dsuit_ledger_apply(dsuit_ledger_t *l, const uint8_t *block, size_t len,
                       dsuit_block_info_t *info);

/**
 * Copy out the block at height h (1 ..height).
 * @param[out] out  malloc'd, caller frees
 * Errors: DSUIT_E_NOTFOUND, DSUIT_E_NOMEM, store errors.
 */
int dsuit_ledger_block(dsuit_ledger_t *l, uint64_t h, uint8_t **out,
                       size_t *out_len);

/**
 * Replay every block of the ledger in `dir` from genesis into a fresh
 * ledger in a temporary folder, checking each block's hashes, roots and
 * results, then compare the final tip and state root with what `dir`
 * stores. Read-only on `dir`.
 * @param[out] out_height  on DSUIT_E_REJECTED, the first height that does
 *                         not verify; on success, the height verified
 * Errors: DSUIT_E_REJECTED (*out_reason says what), open errors.
 */
int dsuit_ledger_verify(const char *dir, const char *tmp_parent,
                        uint64_t *out_height, const char **out_reason);

/**
 * Inclusion proof of manifest-log leaf `index` in the log of the first
 * `size` leaves (RFC 9162 §2.1.3.1), hashes from the leaf upwards.
 * Not safe against a concurrent dsuit_ledger_apply(): the caller
 * serialises them (the node holds a lock).
 * Errors: DSUIT_E_INVAL (index >= size, size past the log), DSUIT_E_LIMIT
 * (*out_len = bytes needed).
 */
int dsuit_ledger_mlog_proof(dsuit_ledger_t *l, uint64_t index, uint64_t size,
                            uint8_t *out, size_t out_cap, size_t *out_len);

/* What a publish's envelope would be accepted as. */
typedef struct {
    uint8_t manifest_digest[32];
    uint8_t author[32]; /* key id of the author whose key authenticated it */
    uint8_t vendor[16], class_id[16];
    uint64_t seq;
    size_t n_images;
    struct {
        uint8_t digest[32];
        uint64_t size;
    } images[DSUIT_TX_MAX_IMAGES]; /* distinct images the manifest names */
} dsuit_publish_check_t;

/**
 * Check a publish's envelope against the current state without writing:
 * the same rules the ledger applies to the publish transaction (author
 * registered and not revoked, authentication, scope, rollback, duplicate),
 * and list the images the manifest describes (each within the policy's
 * maximum size). For registration nodes, before they take an upload.
 * @return a result code (>= 0; DSUIT_TXR_OK when acceptable, in which case
 *         *out is filled), or a negative dsuit error (storage, memory).
 */
int dsuit_ledger_check_publish(dsuit_ledger_t *l, const uint8_t *envelope,
                               size_t envelope_len,
                               dsuit_publish_check_t *out);

/* ---- state queries (read transactions on the store) ------------------- */

/* Status of an author key. */
typedef enum {
    DSUIT_AUTHOR_ACTIVE = 0,
    DSUIT_AUTHOR_REVOKED = 1,
    DSUIT_AUTHOR_ROTATED = 2
} dsuit_author_status_t;

/* An author record, decoded; pointers borrow from the read transaction. */
typedef struct {
    const uint8_t *key; /* COSE_Key bytes */
    size_t key_len;
    const char *name;
    size_t name_len;
    const uint8_t *vendor; /* 16 */
    const uint8_t *classes; /* n_classes UUIDs, 17 bytes apart */
    size_t n_classes;
    uint64_t status;
    uint64_t height;
} dsuit_author_t;

/** Decode an author record from the AUTHORS table. Errors: DSUIT_E_INVAL. */
int dsuit_author_decode(const uint8_t *buf, size_t len, dsuit_author_t *out);

/* A manifest record (MANIFESTS table). */
typedef struct {
    const uint8_t *envelope;
    size_t envelope_len;
    uint64_t height;
    uint64_t leaf_index;
    const uint8_t *vendor; /* 16 */
    const uint8_t *class_id; /* 16 */
    uint64_t seq;
    const uint8_t *author; /* key id, 32 */
    const uint8_t *images; /* encoded [+ Image], as in the publish */
    size_t images_len;
} dsuit_manifest_rec_t;

int dsuit_manifest_rec_decode(const uint8_t *buf, size_t len,
                              dsuit_manifest_rec_t *out);

/* A device record (DEVICES table). */
typedef struct {
    const uint8_t *vendor;   /* 16 */
    const uint8_t *class_id; /* 16 */
    const uint8_t *key;      /* COSE_Key bytes */
    size_t key_len;
    uint64_t height;
} dsuit_device_rec_t;

int dsuit_device_rec_decode(const uint8_t *buf, size_t len,
                            dsuit_device_rec_t *out);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_LEDGER_H */
