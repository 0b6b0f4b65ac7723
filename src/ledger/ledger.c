/*
 * The ledger: open a replica, propose blocks, apply blocks, replay and
 * verify (docs/formats/ledger.md). The rule set for transactions is in
 * state.c; this file owns the block level: header checks, roots, and the
 * one LMDB write transaction per block that makes a block and all of its
 * state changes durable together, or not at all.
 *
 * META table entries:
 *   "genesis"     the genesis bytes (the chain this folder belongs to)
 *   "height"      8 bytes BE, height of the last block
 *   "tip"         hash of the last block
 *   "state_root"  state root after the last block
 *   "time"        8 bytes BE, time of the last block (ms)
 *
 * Roots of a block (all recomputed by every node):
 *   tx-root     RFC 9162 root over leaves (tx id || result, 8 bytes BE),
 *               in block order: the block hash covers every result
 *   mlog        size and root of the manifest log after the block
 *   state-root  SHA-256(previous state root || SHA-256(changes))
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsuit/block.h"
#include "dsuit/merkle.h"
#include "dsuit/proof.h"
#include "dsuit/tx.h"
#include "ledger_int.h"

#define META_GENESIS    "genesis"
#define META_HEIGHT     "height"
#define META_TIP        "tip"
#define META_STATE_ROOT "state_root"
#define META_TIME       "time"

static int meta_get_u64(dsuit_store_txn_t *t, const char *k, uint64_t *out)
{
    const uint8_t *v;
    size_t n;
    int rc = dsuit_store_get(t, DSUIT_TBL_META, k, strlen(k), &v, &n);
    if (rc != DSUIT_OK)
        return rc;
    if (n != 8)
        return DSUIT_E_STORE;
    *out = dsuit_store_u64_from(v);
    return DSUIT_OK;
}

static int meta_get_32(dsuit_store_txn_t *t, const char *k, uint8_t out[32])
{
    const uint8_t *v;
    size_t n;
    int rc = dsuit_store_get(t, DSUIT_TBL_META, k, strlen(k), &v, &n);
    if (rc != DSUIT_OK)
        return rc;
    if (n != 32)
        return DSUIT_E_STORE;
    memcpy(out, v, 32);
    return DSUIT_OK;
}

static int meta_put_u64(dsuit_store_txn_t *t, const char *k, uint64_t v)
{
    uint8_t b[8];
    dsuit_store_u64_key(v, b);
    return dsuit_store_put(t, DSUIT_TBL_META, k, strlen(k), b, 8);
}

/* state-root(0) = SHA-256("dsuit-state-v1" || chain id hash) */
static int initial_state_root(const uint8_t chain[32], uint8_t out[32])
{
    dsuit_sha256_ctx_t h;
    dsuit_sha256_init(&h);
    dsuit_sha256_update(&h, "dsuit-state-v1", 14);
    dsuit_sha256_update(&h, chain, 32);
    return dsuit_sha256_final(&h, out);
}

/* Rebuild the in-memory manifest log from the MLOG table. */
static int load_leaf(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                     size_t vl)
{
    dsuit_ledger_t *l = arg;
    uint8_t h[32];
    if (kl != 8 || dsuit_store_u64_from(k) != dsuit_merkle_tree_size(l->mlog))
        return DSUIT_E_STORE; /* leaves must be 0, 1, 2, ... */
    int rc = dsuit_merkle_leaf_hash(v, vl, h);
    if (rc == DSUIT_OK)
        rc = dsuit_merkle_tree_append(l->mlog, h);
    return rc;
}

static int fail_reason(const char **out_reason, const char *reason, int rc)
{
    if (out_reason != NULL)
        *out_reason = reason;
    return rc;
}

int dsuit_ledger_open(const char *dir, const uint8_t *genesis,
                      size_t genesis_len, const dsuit_ledger_opts_t *opts,
                      dsuit_ledger_t **out, const char **out_reason)
{
    dsuit_ledger_t *l;
    dsuit_store_txn_t *t = NULL;
    const uint8_t *stored;
    size_t stored_len;
    const char *why = NULL;
    int rc;

    if (dir == NULL || out == NULL)
        return DSUIT_E_INVAL;
    l = calloc(1, sizeof *l);
    if (l == NULL)
        return DSUIT_E_NOMEM;
    rc = dsuit_store_open(dir, opts ? &opts->store : NULL, &l->store);
    if (rc != DSUIT_OK) {
        why = "cannot open the store";
        goto fail;
    }
    rc = dsuit_merkle_tree_new(NULL, &l->mlog);
    if (rc != DSUIT_OK)
        goto fail;
    rc = dsuit_store_begin(l->store, !(opts && opts->store.read_only), &t);
    if (rc != DSUIT_OK)
        goto fail;

    rc = dsuit_store_get(t, DSUIT_TBL_META, META_GENESIS,
                         strlen(META_GENESIS), &stored, &stored_len);
    if (rc == DSUIT_OK) {
        /* An existing replica: it belongs to the chain it was made for. */
        if (genesis != NULL && (genesis_len != stored_len ||
                                memcmp(genesis, stored, stored_len) != 0)) {
            why = "the data folder belongs to another chain";
            rc = DSUIT_E_INVAL;
            goto fail;
        }
        rc = dsuit_genesis_decode(stored, stored_len, &l->genesis, &why);
        if (rc != DSUIT_OK)
            goto fail;
        if ((rc = meta_get_u64(t, META_HEIGHT, &l->height)) != DSUIT_OK ||
            (rc = meta_get_u64(t, META_TIME, &l->tip_time)) != DSUIT_OK ||
            (rc = meta_get_32(t, META_TIP, l->tip_hash)) != DSUIT_OK ||
            (rc = meta_get_32(t, META_STATE_ROOT, l->state_root)) !=
                DSUIT_OK) {
            why = "the store's metadata is damaged";
            goto fail;
        }
        rc = dsuit_store_foreach(t, DSUIT_TBL_MLOG, load_leaf, l);
        if (rc != DSUIT_OK) {
            why = "the manifest log is damaged";
            goto fail;
        }
        dsuit_store_abort(t);
        t = NULL;
    } else if (rc == DSUIT_E_NOTFOUND) {
        if (genesis == NULL) {
            why = "the data folder holds no ledger and no genesis was given";
            rc = DSUIT_E_INVAL;
            goto fail;
        }
        if (opts && opts->store.read_only) {
            why = "the data folder holds no ledger";
            rc = DSUIT_E_INVAL;
            goto fail;
        }
        rc = dsuit_genesis_decode(genesis, genesis_len, &l->genesis, &why);
        if (rc != DSUIT_OK)
            goto fail;
        rc = initial_state_root(l->genesis->hash, l->state_root);
        if (rc == DSUIT_OK)
            rc = dsuit_store_put(t, DSUIT_TBL_META, META_GENESIS,
                                 strlen(META_GENESIS), genesis, genesis_len);
        if (rc == DSUIT_OK)
            rc = meta_put_u64(t, META_HEIGHT, 0);
        if (rc == DSUIT_OK)
            rc = meta_put_u64(t, META_TIME, 0);
        if (rc == DSUIT_OK)
            rc = dsuit_store_put(t, DSUIT_TBL_META, META_TIP, strlen(META_TIP),
                                 l->tip_hash, 32);
        if (rc == DSUIT_OK)
            rc = dsuit_store_put(t, DSUIT_TBL_META, META_STATE_ROOT,
                                 strlen(META_STATE_ROOT), l->state_root, 32);
        if (rc != DSUIT_OK)
            goto fail;
        rc = dsuit_store_commit(t);
        t = NULL;
        if (rc != DSUIT_OK)
            goto fail;
    } else {
        goto fail;
    }
    *out = l;
    return DSUIT_OK;

fail:
    dsuit_store_abort(t);
    dsuit_ledger_close(l);
    return fail_reason(out_reason, why ? why : dsuit_strerror(rc), rc);
}

void dsuit_ledger_close(dsuit_ledger_t *l)
{
    if (l == NULL)
        return;
    dsuit_merkle_tree_free(l->mlog);
    dsuit_genesis_free(l->genesis);
    dsuit_store_close(l->store);
    free(l);
}

const dsuit_genesis_t *dsuit_ledger_genesis(const dsuit_ledger_t *l)
{
    return l->genesis;
}

dsuit_store_t *dsuit_ledger_store(dsuit_ledger_t *l)
{
    return l->store;
}

uint64_t dsuit_ledger_height(const dsuit_ledger_t *l)
{
    return l->height;
}

void dsuit_ledger_tip(const dsuit_ledger_t *l, uint8_t hash[32],
                      uint8_t state_root[32])
{
    if (hash != NULL)
        memcpy(hash, l->tip_hash, 32);
    if (state_root != NULL)
        memcpy(state_root, l->state_root, 32);
}

uint64_t dsuit_ledger_mlog_size(const dsuit_ledger_t *l)
{
    return dsuit_merkle_tree_size(l->mlog);
}

int dsuit_ledger_mlog_proof(dsuit_ledger_t *l, uint64_t index, uint64_t size,
                            uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (l == NULL || out_len == NULL)
        return DSUIT_E_INVAL;
    return dsuit_merkle_tree_inclusion_proof(l->mlog, index, size, out,
                                             out_cap, out_len);
}

/*
 * Run transactions in an open write transaction: results, tx root, and
 * the manifest log and state root that follow. Leaves appended to the
 * manifest log stay appended; the caller truncates them if it does not
 * commit.
 */
static int run_txs(dsuit__apply_t *a, const uint8_t *const *txs,
                   const size_t *lens, size_t n, uint64_t *results,
                   dsuit_block_header_t *h)
{
    dsuit_merkle_tree_t *txt = NULL;
    uint8_t changes[32];
    dsuit_sha256_ctx_t sr;
    int rc = dsuit_merkle_tree_new(NULL, &txt);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_sha256_init(&a->changes);
    for (size_t i = 0; i < n; i++) {
        uint8_t id[32], leaf[32];
        int r = dsuit__apply_tx(a, txs[i], lens[i], i, id);
        if (r < 0) {
            rc = r;
            goto out;
        }
        results[i] = (uint64_t)r;
        /* The leaf names the transaction and what became of it, so the
         * block hash (and every certificate) covers the results too. */
        {
            uint8_t entry[40];
            memcpy(entry, id, 32);
            dsuit_store_u64_key((uint64_t)r, entry + 32);
            rc = dsuit_merkle_leaf_hash(entry, sizeof entry, leaf);
        }
        if (rc == DSUIT_OK)
            rc = dsuit_merkle_tree_append(txt, leaf);
        if (rc != DSUIT_OK)
            goto out;
    }
    rc = dsuit_merkle_tree_root(txt, n, h->tx_root);
    if (rc != DSUIT_OK)
        goto out;
    h->mlog_size = dsuit_merkle_tree_size(a->l->mlog);
    rc = dsuit_merkle_tree_root(a->l->mlog, h->mlog_size, h->mlog_root);
    if (rc != DSUIT_OK)
        goto out;
    dsuit_sha256_final(&a->changes, changes);
    dsuit_sha256_init(&sr);
    dsuit_sha256_update(&sr, a->l->state_root, 32);
    dsuit_sha256_update(&sr, changes, 32);
    rc = dsuit_sha256_final(&sr, h->state_root);
out:
    dsuit_merkle_tree_free(txt);
    return rc;
}

static void apply_init(dsuit__apply_t *a, dsuit_ledger_t *l,
                       dsuit_store_txn_t *t)
{
    memset(a, 0, sizeof *a);
    a->l = l;
    a->txn = t;
    a->height = l->height + 1;
    a->mlog_base = dsuit_merkle_tree_size(l->mlog);
}

int dsuit_ledger_propose(dsuit_ledger_t *l, const dsuit_key_t *key,
                         uint64_t time_ms, const uint8_t *const *txs,
                         const size_t *tx_lens, size_t n, uint8_t **out,
                         size_t *out_len)
{
    dsuit_block_header_t h;
    dsuit__apply_t a;
    dsuit_store_txn_t *t;
    uint64_t *results = NULL;
    uint8_t kid[32], *buf = NULL;
    size_t need;
    int idx, rc;

    if (l == NULL || key == NULL || out == NULL || out_len == NULL ||
        (n && (txs == NULL || tx_lens == NULL)))
        return DSUIT_E_INVAL;
    if (n > DSUIT_BLOCK_MAX_TXS)
        return DSUIT_E_LIMIT;
    if (dsuit_cose_key_id(key, kid) != DSUIT_OK)
        return DSUIT_E_KEY;
    idx = dsuit_genesis_validator_index(l->genesis, kid);
    if (idx < 0)
        return DSUIT_E_KEY;
    results = calloc(n ? n : 1, sizeof *results);
    if (results == NULL)
        return DSUIT_E_NOMEM;

    memset(&h, 0, sizeof h);
    memcpy(h.chain, l->genesis->hash, 32);
    h.height = l->height + 1;
    memcpy(h.prev_hash, l->tip_hash, 32);
    h.time_ms = time_ms < l->tip_time ? l->tip_time : time_ms;
    h.proposer = (uint64_t)idx;

    rc = dsuit_store_begin(l->store, 1, &t);
    if (rc != DSUIT_OK)
        goto out;
    apply_init(&a, l, t);
    rc = run_txs(&a, txs, tx_lens, n, results, &h);
    /* A proposal writes nothing: the block is applied by consensus. */
    dsuit_store_abort(t);
    dsuit_merkle_tree_truncate(l->mlog, a.mlog_base);
    if (rc != DSUIT_OK)
        goto out;

    rc = dsuit_block_encode(&h, txs, tx_lens, results, n, key, NULL, 0, &need);
    if (rc != DSUIT_E_LIMIT && rc != DSUIT_OK)
        goto out;
    buf = malloc(need);
    if (buf == NULL) {
        rc = DSUIT_E_NOMEM;
        goto out;
    }
    rc = dsuit_block_encode(&h, txs, tx_lens, results, n, key, buf, need,
                            out_len);
    if (rc != DSUIT_OK)
        goto out;
    *out = buf;
    buf = NULL;
out:
    free(buf);
    free(results);
    return rc;
}

static int reject(dsuit_block_info_t *info, const char *reason)
{
    if (info != NULL)
        info->reason = reason;
    return DSUIT_E_REJECTED;
}

int dsuit_ledger_apply(dsuit_ledger_t *l, const uint8_t *block, size_t len,
                       dsuit_block_info_t *info)
{
    dsuit_block_t b;
    dsuit_block_header_t want;
    dsuit__apply_t a;
    dsuit_store_txn_t *t = NULL;
    const uint8_t **txs = NULL;
    size_t *lens = NULL;
    uint64_t *results = NULL, *recorded = NULL;
    const char *why = NULL;
    uint8_t key[8];
    int rc;

    if (l == NULL || block == NULL)
        return DSUIT_E_INVAL;
    if (info != NULL)
        memset(info, 0, sizeof *info);
    /* Every exit through `out` truncates the log back to here. */
    memset(&a, 0, sizeof a);
    a.mlog_base = dsuit_merkle_tree_size(l->mlog);

    /* The header first: who proposed it and whether it follows our tip. */
    if (dsuit_block_decode(block, len, &b) != DSUIT_OK)
        return reject(info, "block is malformed");
    if (memcmp(b.header.chain, l->genesis->hash, 32) != 0)
        return reject(info, "block is for another chain");
    if (b.header.height != l->height + 1)
        return reject(info, "block height does not follow the tip");
    if (memcmp(b.header.prev_hash, l->tip_hash, 32) != 0)
        return reject(info, "block does not extend the tip (prev-hash)");
    if (b.header.proposer >= l->genesis->n_validators)
        return reject(info, "block proposer is not a validator");
    if (dsuit_block_verify_sig(
            &b, &l->genesis->validators[b.header.proposer].key) != DSUIT_OK)
        return reject(info, "proposer signature does not verify");
    if (b.header.time_ms < l->tip_time)
        return reject(info, "block time goes back");

    txs = calloc(b.n_txs ? b.n_txs : 1, sizeof *txs);
    lens = calloc(b.n_txs ? b.n_txs : 1, sizeof *lens);
    results = calloc(b.n_txs ? b.n_txs : 1, sizeof *results);
    recorded = calloc(b.n_txs ? b.n_txs : 1, sizeof *recorded);
    if (!txs || !lens || !results || !recorded) {
        rc = DSUIT_E_NOMEM;
        goto out;
    }
    {
        dsuit_block_iter_t it;
        dsuit_block_iter_init(&it, &b);
        for (size_t i = 0; i < b.n_txs; i++)
            dsuit_block_next_tx(&it, &txs[i], &lens[i], &recorded[i]);
    }

    rc = dsuit_store_begin(l->store, 1, &t);
    if (rc != DSUIT_OK)
        goto out;
    apply_init(&a, l, t);
    want = b.header;
    rc = run_txs(&a, txs, lens, b.n_txs, results, &want);
    if (rc != DSUIT_OK)
        goto out;
    /* Nothing the proposer claims is taken on trust. */
    for (size_t i = 0; i < b.n_txs && why == NULL; i++) {
        if (results[i] != recorded[i])
            why = "a transaction's result differs from the proposer's";
    }
    if (why == NULL && memcmp(want.tx_root, b.header.tx_root, 32) != 0)
        why = "tx root differs";
    if (why == NULL && (want.mlog_size != b.header.mlog_size ||
                        memcmp(want.mlog_root, b.header.mlog_root, 32) != 0))
        why = "manifest log differs";
    if (why == NULL && memcmp(want.state_root, b.header.state_root, 32) != 0)
        why = "state root differs";
    if (why != NULL) {
        rc = DSUIT_E_REJECTED;
        goto out;
    }

    dsuit_store_u64_key(b.header.height, key);
    rc = dsuit_store_put(t, DSUIT_TBL_BLOCKS, key, 8, block, len);
    if (rc == DSUIT_OK)
        rc = dsuit_store_put(t, DSUIT_TBL_BLOCK_HASH, b.hash, 32, key, 8);
    if (rc == DSUIT_OK)
        rc = meta_put_u64(t, META_HEIGHT, b.header.height);
    if (rc == DSUIT_OK)
        rc = meta_put_u64(t, META_TIME, b.header.time_ms);
    if (rc == DSUIT_OK)
        rc = dsuit_store_put(t, DSUIT_TBL_META, META_TIP, strlen(META_TIP),
                             b.hash, 32);
    if (rc == DSUIT_OK)
        rc = dsuit_store_put(t, DSUIT_TBL_META, META_STATE_ROOT,
                             strlen(META_STATE_ROOT), b.header.state_root,
                             32);
    if (rc != DSUIT_OK)
        goto out;
    rc = dsuit_store_commit(t);
    t = NULL;
    if (rc != DSUIT_OK)
        goto out;

    l->height = b.header.height;
    l->tip_time = b.header.time_ms;
    memcpy(l->tip_hash, b.hash, 32);
    memcpy(l->state_root, b.header.state_root, 32);
    if (info != NULL) {
        info->height = b.header.height;
        memcpy(info->hash, b.hash, 32);
        info->n_txs = b.n_txs;
        for (size_t i = 0; i < b.n_txs; i++)
            info->n_ok += results[i] == DSUIT_TXR_OK;
    }
out:
    if (rc != DSUIT_OK) {
        /* Nothing of this block survives: the write transaction is aborted
         * and the manifest log loses the leaves it gained. */
        dsuit_store_abort(t);
        dsuit_merkle_tree_truncate(l->mlog, a.mlog_base);
        if (info != NULL && why != NULL)
            info->reason = why;
    }
    free(txs);
    free(lens);
    free(results);
    free(recorded);
    return rc;
}

int dsuit_ledger_block(dsuit_ledger_t *l, uint64_t h, uint8_t **out,
                       size_t *out_len)
{
    dsuit_store_txn_t *t;
    const uint8_t *v;
    size_t n;
    uint8_t key[8];
    int rc;
    if (l == NULL || out == NULL || out_len == NULL)
        return DSUIT_E_INVAL;
    rc = dsuit_store_begin(l->store, 0, &t);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_store_u64_key(h, key);
    rc = dsuit_store_get(t, DSUIT_TBL_BLOCKS, key, 8, &v, &n);
    if (rc == DSUIT_OK) {
        *out = malloc(n);
        if (*out == NULL) {
            rc = DSUIT_E_NOMEM;
        } else {
            memcpy(*out, v, n); /* v is valid only inside the transaction */
            *out_len = n;
        }
    }
    dsuit_store_abort(t);
    return rc;
}

/* Remove a temporary store folder (data.mdb, lock.mdb). */
static void remove_store_dir(const char *dir)
{
    char path[4096];
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (n > 0 && (size_t)n < sizeof path)
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

int dsuit_ledger_verify(const char *dir, const char *tmp_parent,
                        uint64_t *out_height, const char **out_reason)
{
    dsuit_ledger_opts_t ro = {0}, tmp_opts = {0};
    dsuit_ledger_t *src = NULL, *fresh = NULL;
    dsuit_store_txn_t *t = NULL;
    const uint8_t *g;
    size_t g_len;
    uint8_t *gcopy = NULL;
    char tmp[4096];
    const char *why = NULL;
    uint64_t h = 0;
    int rc;

    ro.store.read_only = 1;
    rc = dsuit_ledger_open(dir, NULL, 0, &ro, &src, &why);
    if (rc != DSUIT_OK)
        return fail_reason(out_reason, why, rc);

    rc = dsuit_store_begin(src->store, 0, &t);
    if (rc != DSUIT_OK)
        goto out;
    rc = dsuit_store_get(t, DSUIT_TBL_META, META_GENESIS,
                         strlen(META_GENESIS), &g, &g_len);
    if (rc == DSUIT_OK) {
        gcopy = malloc(g_len);
        if (gcopy == NULL)
            rc = DSUIT_E_NOMEM;
        else
            memcpy(gcopy, g, g_len);
    }
    dsuit_store_abort(t);
    if (rc != DSUIT_OK)
        goto out;

    snprintf(tmp, sizeof tmp, "%s/dsuit-verify-XXXXXX",
             tmp_parent ? tmp_parent : "/tmp");
    if (mkdtemp(tmp) == NULL) {
        rc = DSUIT_E_IO;
        why = "cannot make a temporary folder";
        goto out;
    }
    tmp_opts.store.no_sync = 1; /* scratch: durability is not the point */
    rc = dsuit_ledger_open(tmp, gcopy, g_len, &tmp_opts, &fresh, &why);
    if (rc != DSUIT_OK)
        goto out_tmp;

    for (h = 1; h <= src->height; h++) {
        uint8_t *blk;
        size_t blen;
        dsuit_block_info_t info;
        rc = dsuit_ledger_block(src, h, &blk, &blen);
        if (rc == DSUIT_E_NOTFOUND) {
            why = "a block is missing";
            rc = DSUIT_E_REJECTED;
            break;
        }
        if (rc != DSUIT_OK) {
            why = "cannot read a block"; /* storage or memory, not a verdict */
            break;
        }
        rc = dsuit_ledger_apply(fresh, blk, blen, &info);
        free(blk);
        if (rc != DSUIT_OK) {
            why = info.reason ? info.reason : dsuit_strerror(rc);
            rc = DSUIT_E_REJECTED;
            break;
        }
    }
    if (rc == DSUIT_OK) {
        h = src->height;
        if (memcmp(fresh->tip_hash, src->tip_hash, 32) != 0 ||
            memcmp(fresh->state_root, src->state_root, 32) != 0) {
            why = "the stored tip or state root differs from the replay";
            rc = DSUIT_E_REJECTED;
        }
    }
    dsuit_ledger_close(fresh);
out_tmp:
    remove_store_dir(tmp);
out:
    free(gcopy);
    dsuit_ledger_close(src);
    if (out_height != NULL)
        *out_height = h;
    if (rc != DSUIT_OK)
        return fail_reason(out_reason, why ? why : dsuit_strerror(rc), rc);
    return DSUIT_OK;
}
