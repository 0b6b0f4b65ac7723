/*
 * The node's LMDB environment: one file pair (data.mdb, lock.mdb) in the
 * node's data folder, one named database per dsuit_table_t. A thin layer:
 * it maps LMDB's return codes to dsuit errors (a full map is
 * DSUIT_E_FULL, so an operator learns to raise the map size rather than
 * reading an LMDB code) and keeps table handles.
 *
 * LMDB facts this relies on: one write transaction at a time per
 * environment; readers see a snapshot and never block the writer; a
 * committed write transaction is durable unless MDB_NOSYNC was asked for;
 * the map size is a cap on the database's size (address space, not disk).
 * Keys are at most 511 bytes (mdb_env_get_maxkeysize with the default
 * build).
 */
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dsuit/store.h"

#define DEFAULT_MAP_SIZE ((size_t)4 << 30)
#define MAX_KEY          511

struct dsuit_store {
    MDB_env *env;
    MDB_dbi dbi[DSUIT_TBL_COUNT];
};

struct dsuit_store_txn {
    dsuit_store_t *s;
    MDB_txn *txn;
    int write;
};

static const char *const table_names[DSUIT_TBL_COUNT] = {
    "meta",     "blocks", "block_hash", "txs",    "authors", "devices",
    "latest",   "manifests", "mlog",    "certs",  "chunks",  "vc",
};

const char *dsuit_table_name(dsuit_table_t t)
{
    return (unsigned)t < DSUIT_TBL_COUNT ? table_names[t] : "unknown";
}

static int map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return DSUIT_OK;
    case MDB_NOTFOUND:
        return DSUIT_E_NOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return DSUIT_E_FULL;
    case ENOMEM:
        return DSUIT_E_NOMEM;
    case ENOENT:
    case EACCES:
    case ENOTDIR:
        return DSUIT_E_IO;
    default:
        return DSUIT_E_STORE;
    }
}

void dsuit_store_u64_key(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint64_t dsuit_store_u64_from(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

int dsuit_store_open(const char *dir, const dsuit_store_opts_t *opts,
                     dsuit_store_t **out)
{
    dsuit_store_opts_t o = {0};
    dsuit_store_t *s;
    MDB_txn *txn = NULL;
    struct stat st;
    unsigned flags = MDB_NOTLS;
    int rc;

    if (dir == NULL || out == NULL)
        return DSUIT_E_INVAL;
    if (opts != NULL)
        o = *opts;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return DSUIT_E_IO;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return DSUIT_E_NOMEM;
    if (o.no_sync)
        flags |= MDB_NOSYNC;
    if (o.read_only)
        flags |= MDB_RDONLY;

    rc = mdb_env_create(&s->env);
    if (rc != MDB_SUCCESS)
        goto fail;
    rc = mdb_env_set_maxdbs(s->env, DSUIT_TBL_COUNT);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(s->env,
                                 o.map_size ? o.map_size : DEFAULT_MAP_SIZE);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_open(s->env, dir, flags, 0600);
    if (rc != MDB_SUCCESS)
        goto fail_env;

    /* Open (and on first use create) every table in one transaction. */
    rc = mdb_txn_begin(s->env, NULL, o.read_only ? MDB_RDONLY : 0, &txn);
    if (rc != MDB_SUCCESS)
        goto fail_env;
    for (int i = 0; i < DSUIT_TBL_COUNT; i++) {
        rc = mdb_dbi_open(txn, table_names[i], o.read_only ? 0 : MDB_CREATE,
                          &s->dbi[i]);
        if (rc != MDB_SUCCESS)
            goto fail_txn;
    }
    rc = mdb_txn_commit(txn);
    if (rc != MDB_SUCCESS)
        goto fail_env;
    *out = s;
    return DSUIT_OK;

fail_txn:
    mdb_txn_abort(txn);
fail_env:
    mdb_env_close(s->env);
fail:
    free(s);
    return map_err(rc);
}

void dsuit_store_close(dsuit_store_t *s)
{
    if (s == NULL)
        return;
    mdb_env_close(s->env);
    free(s);
}

int dsuit_store_begin(dsuit_store_t *s, int write, dsuit_store_txn_t **out)
{
    dsuit_store_txn_t *t;
    int rc;
    if (s == NULL || out == NULL)
        return DSUIT_E_INVAL;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return DSUIT_E_NOMEM;
    rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc != MDB_SUCCESS) {
        free(t);
        return map_err(rc);
    }
    t->s = s;
    t->write = write;
    *out = t;
    return DSUIT_OK;
}

int dsuit_store_commit(dsuit_store_txn_t *t)
{
    int rc;
    if (t == NULL)
        return DSUIT_E_INVAL;
    rc = mdb_txn_commit(t->txn); /* ends the transaction even on failure */
    free(t);
    return map_err(rc);
}

void dsuit_store_abort(dsuit_store_txn_t *t)
{
    if (t == NULL)
        return;
    mdb_txn_abort(t->txn);
    free(t);
}

static int key_ok(const dsuit_store_txn_t *t, dsuit_table_t table,
                  size_t key_len)
{
    return t != NULL && (unsigned)table < DSUIT_TBL_COUNT && key_len > 0 &&
           key_len <= MAX_KEY;
}

int dsuit_store_get(dsuit_store_txn_t *t, dsuit_table_t table, const void *key,
                    size_t key_len, const uint8_t **out, size_t *out_len)
{
    MDB_val k, v;
    int rc;
    if (!key_ok(t, table, key_len) || out == NULL || out_len == NULL)
        return DSUIT_E_INVAL;
    k.mv_data = (void *)key;
    k.mv_size = key_len;
    rc = mdb_get(t->txn, t->s->dbi[table], &k, &v);
    if (rc != MDB_SUCCESS)
        return map_err(rc);
    *out = v.mv_data;
    *out_len = v.mv_size;
    return DSUIT_OK;
}

int dsuit_store_put(dsuit_store_txn_t *t, dsuit_table_t table, const void *key,
                    size_t key_len, const void *val, size_t val_len)
{
    MDB_val k, v;
    if (!key_ok(t, table, key_len) || !t->write ||
        (val == NULL && val_len > 0))
        return DSUIT_E_INVAL;
    k.mv_data = (void *)key;
    k.mv_size = key_len;
    v.mv_data = (void *)val;
    v.mv_size = val_len;
    return map_err(mdb_put(t->txn, t->s->dbi[table], &k, &v, 0));
}

int dsuit_store_del(dsuit_store_txn_t *t, dsuit_table_t table, const void *key,
                    size_t key_len)
{
    MDB_val k;
    if (!key_ok(t, table, key_len) || !t->write)
        return DSUIT_E_INVAL;
    k.mv_data = (void *)key;
    k.mv_size = key_len;
    return map_err(mdb_del(t->txn, t->s->dbi[table], &k, NULL));
}

int dsuit_store_foreach(dsuit_store_txn_t *t, dsuit_table_t table,
                        dsuit_store_visit_fn visit, void *arg)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc, ret = DSUIT_OK;
    if (t == NULL || (unsigned)table >= DSUIT_TBL_COUNT || visit == NULL)
        return DSUIT_E_INVAL;
    rc = mdb_cursor_open(t->txn, t->s->dbi[table], &c);
    if (rc != MDB_SUCCESS)
        return map_err(rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        ret = visit(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
        if (ret != 0)
            break;
    }
    mdb_cursor_close(c);
    if (ret != 0)
        return ret;
    return rc == MDB_NOTFOUND ? DSUIT_OK : map_err(rc);
}

int dsuit_store_count(dsuit_store_txn_t *t, dsuit_table_t table,
                      uint64_t *out_count)
{
    MDB_stat st;
    int rc;
    if (t == NULL || (unsigned)table >= DSUIT_TBL_COUNT || out_count == NULL)
        return DSUIT_E_INVAL;
    rc = mdb_stat(t->txn, t->s->dbi[table], &st);
    if (rc != MDB_SUCCESS)
        return map_err(rc);
    *out_count = st.ms_entries;
    return DSUIT_OK;
}
