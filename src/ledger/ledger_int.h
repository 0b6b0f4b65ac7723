/*
 * Private to the ledger module (ledger.c, state.c): the ledger object and
 * the context of one block's application.
 */
#ifndef DSUIT_LEDGER_INT_H
#define DSUIT_LEDGER_INT_H

#include "dsuit/ledger.h"
#include "dsuit/merkle.h"

struct dsuit_ledger {
    dsuit_store_t *store;
    dsuit_genesis_t *genesis;
    dsuit_merkle_tree_t *mlog; /* leaf hashes of the manifest log */
    uint64_t height;
    uint64_t tip_time;
    uint8_t tip_hash[DSUIT_SHA256_LEN];
    uint8_t state_root[DSUIT_SHA256_LEN];
};

/*
 * Applying one block. Every state write goes through dsuit__state_put(),
 * which also feeds the write into `changes` (the state-root hash chain).
 * Invariant: the mlog tree holds mlog_base + mlog_added leaves, the added
 * ones not yet committed.
 */
typedef struct {
    dsuit_ledger_t *l;
    dsuit_store_txn_t *txn;
    uint64_t height;
    dsuit_sha256_ctx_t changes;
    uint64_t mlog_base;
    uint64_t mlog_added;
} dsuit__apply_t;

/** Write a state entry and record the write. Errors: store errors. */
int dsuit__state_put(dsuit__apply_t *a, dsuit_table_t table, const void *key,
                     size_t key_len, const void *val, size_t val_len);

/**
 * Validate and apply one transaction.
 * @param[out] out_id  the tx id (SHA-256 of the body), or SHA-256 of the
 *                     raw bytes for a transaction that does not decode
 * @return a result code (>= 0, dsuit_txr_t), or a negative dsuit error for
 *         a failure that is not the transaction's fault (storage): the
 *         block must then be abandoned.
 */
int dsuit__apply_tx(dsuit__apply_t *a, const uint8_t *tx, size_t len,
                    uint64_t index, uint8_t out_id[DSUIT_SHA256_LEN]);

#endif /* DSUIT_LEDGER_INT_H */
