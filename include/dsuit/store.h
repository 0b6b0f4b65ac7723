/*
 * dsuit store: the node's one LMDB environment (blocks, state, certificates,
 * manifest log, chunk index). Node side.
 *
 * LMDB gives ACID transactions over a memory map: one writer at a time,
 * readers never block, and a committed transaction survives kill -9 and
 * power loss (with sync on, the default). Everything that must change
 * together (a block and all its state) goes in one write transaction.
 *
 * Bytes read from the store are borrowed: they stay valid only until the
 * transaction that read them ends. Copy them first if they must outlive it.
 */
#ifndef DSUIT_STORE_H
#define DSUIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tables (LMDB named databases). Numbers are stable: they appear in the
 * state-change log that the state root hashes. */
typedef enum {
    DSUIT_TBL_META = 0,       /* name -> value: height, roots, genesis */
    DSUIT_TBL_BLOCKS = 1,     /* height (8 bytes BE) -> block */
    DSUIT_TBL_BLOCK_HASH = 2, /* block hash -> height (8 bytes BE) */
    DSUIT_TBL_TXS = 3,        /* tx id -> [height, index, result] */
    DSUIT_TBL_AUTHORS = 4,    /* key id -> author record */
    DSUIT_TBL_DEVICES = 5,    /* device id -> device record */
    DSUIT_TBL_LATEST = 6,     /* vendor|class|component-set -> seq|digest */
    DSUIT_TBL_MANIFESTS = 7,  /* manifest digest -> manifest record */
    DSUIT_TBL_MLOG = 8,       /* leaf index (8 bytes BE) -> leaf */
    DSUIT_TBL_CERTS = 9,      /* height (8 bytes BE) -> certificate */
    DSUIT_TBL_CHUNKS = 10,    /* chunk digest -> chunk index record */
    DSUIT_TBL_VC = 11,        /* vendor|class -> latest manifest digest */
    DSUIT_TBL_COUNT = 12
} dsuit_table_t;

/** Table name as stored in LMDB ("blocks", ...). */
const char *dsuit_table_name(dsuit_table_t t);

typedef struct dsuit_store dsuit_store_t;
typedef struct dsuit_store_txn dsuit_store_txn_t;

typedef struct {
    size_t map_size; /* bytes; 0 = 4 GiB (address space, not disk) */
    int no_sync;     /* for tests only: skip fsync at commit */
    int read_only;
} dsuit_store_opts_t;

/**
 * Open (creating if needed) the store in folder `dir`, which must exist.
 * @param[in] opts  may be NULL for defaults
 * Errors: DSUIT_E_IO (folder missing or unreadable), DSUIT_E_STORE,
 * DSUIT_E_NOMEM. Close with dsuit_store_close().
 */
int dsuit_store_open(const char *dir, const dsuit_store_opts_t *opts,
                     dsuit_store_t **out);

/** Close the store; every transaction must have ended. NULL does nothing. */
void dsuit_store_close(dsuit_store_t *s);

/**
 * Begin a transaction; a write transaction waits for the one writer slot.
 * End it with dsuit_store_commit() or dsuit_store_abort().
 * Errors: DSUIT_E_STORE, DSUIT_E_NOMEM.
 */
int dsuit_store_begin(dsuit_store_t *s, int write, dsuit_store_txn_t **out);

/**
 * Commit and end the transaction (also for read-only ones).
 * Errors: DSUIT_E_FULL (map full: nothing was committed), DSUIT_E_STORE.
 */
int dsuit_store_commit(dsuit_store_txn_t *t);

/** Abort and end the transaction. NULL does nothing. */
void dsuit_store_abort(dsuit_store_txn_t *t);

/**
 * Read a value. *out points into the map, valid until the transaction ends.
 * Errors: DSUIT_E_NOTFOUND, DSUIT_E_STORE.
 */
int dsuit_store_get(dsuit_store_txn_t *t, dsuit_table_t table, const void *key,
                    size_t key_len, const uint8_t **out, size_t *out_len);

/** Write a value (replacing any). Errors: DSUIT_E_FULL, DSUIT_E_STORE,
 * DSUIT_E_INVAL (read-only transaction, empty key or key over 511 bytes). */
int dsuit_store_put(dsuit_store_txn_t *t, dsuit_table_t table, const void *key,
                    size_t key_len, const void *val, size_t val_len);

/** Delete a key. Errors: DSUIT_E_NOTFOUND, DSUIT_E_STORE. */
int dsuit_store_del(dsuit_store_txn_t *t, dsuit_table_t table, const void *key,
                    size_t key_len);

/* Called for each entry in key order; a non-zero return stops the walk and
 * is returned by dsuit_store_foreach(). Pointers are borrowed as for get. */
typedef int (*dsuit_store_visit_fn)(void *arg, const uint8_t *key,
                                    size_t key_len, const uint8_t *val,
                                    size_t val_len);

/** Visit every entry of a table in key order. Errors: DSUIT_E_STORE, or
 * the visitor's non-zero return. */
int dsuit_store_foreach(dsuit_store_txn_t *t, dsuit_table_t table,
                        dsuit_store_visit_fn visit, void *arg);

/** Number of entries in a table. Errors: DSUIT_E_STORE. */
int dsuit_store_count(dsuit_store_txn_t *t, dsuit_table_t table,
                      uint64_t *out_count);

/** 8-byte big-endian encoding of a height or index (keys sort by value). */
void dsuit_store_u64_key(uint64_t v, uint8_t out[8]);
/** Inverse of dsuit_store_u64_key. */
uint64_t dsuit_store_u64_from(const uint8_t in[8]);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_STORE_H */
