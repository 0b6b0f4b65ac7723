/*
 * Chunk repair (general node role): keep R copies of every published chunk
 * on reachable validators.
 *
 * Every REPAIR_INTERVAL_MS a repair thread walks the chunks of every
 * published image. For each, it ranks the validators in rendezvous order
 * and takes the first R that are reachable: if this node is one of them and
 * has no good copy, it fetches one from whoever has (checking the hash)
 * and stores it. A validator counts as reachable while its votes keep
 * arriving (every block it applies, at least once per heartbeat), or for
 * PEER_GRACE_MS after the last one: a holder that is down longer than that
 * has its chunks copied to the next validators in rendezvous order, and
 * nothing else moves. When it comes back there are R+1 copies for a
 * while; extra copies are harmless and not reclaimed yet.
 *
 * It also answers how the store stands (GET /v1/store): chunks whose
 * placement includes a validator that is not reachable now are counted as
 * under-replicated until repair has run.
 *
 * A second thread fills in certificates: votes are not sent again once a
 * height is certified, so a node that was down while heights were certified has no
 * certificate for them. Each pass looks for such heights (at most
 * CERT_BACKFILL per pass, from where the last pass stopped), fetches the
 * certificate from the validators that are up (GET /v1/blocks/{h}/cert),
 * checks it against the genesis validators and this node's own block at h,
 * and hands it to the loop thread, which stores it.
 */
#define _DEFAULT_SOURCE /* usleep */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsuit/block.h"
#include "dsuit/cbor.h"
#include "dsuit/cert.h"
#include "dsuit/store.h"
#include "net/http/client.h"
#include "node/node_int.h"

#define REPAIR_INTERVAL_MS 2000
#define PEER_GRACE_MS      10000
#define CERT_BACKFILL      256   /* heights looked at per pass */
#define CERT_INTERVAL_MS   1000
#define CERT_MAX_BYTES     16384

int node_peer_reachable(dsuit_node_t *n, size_t i, uint64_t now)
{
    int ok;
    if (i == n->index)
        return 1;
    pthread_mutex_lock(&n->mu);
    ok = n->peer_seen_ms[i] != 0 && now - n->peer_seen_ms[i] < PEER_GRACE_MS;
    pthread_mutex_unlock(&n->mu);
    return ok;
}

/* The R reachable validators first in rendezvous order for a chunk. */
static size_t targets(dsuit_node_t *n, const uint8_t digest[32],
                      const int *reachable, size_t *out)
{
    size_t rank[64], k = 0, r = n->g->policy.replicas;
    dsuit_chunk_rank(digest, (const uint8_t(*)[32])n->key_ids,
                     n->g->n_validators, rank);
    for (size_t i = 0; i < n->g->n_validators && k < r; i++) {
        if (reachable[rank[i]])
            out[k++] = rank[i];
    }
    return k;
}

typedef struct {
    dsuit_node_t *n;
    int reachable[64];
    uint64_t chunks, repaired, under;
    int stop;
} walk_t;

/* Call fn for every chunk of every published image. */
static int visit(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                 size_t vl)
{
    walk_t *w = arg;
    dsuit_manifest_rec_t m;
    dsuit_cbor_dec_t d;
    size_t n_img;
    (void)k;
    (void)kl;
    if (w->stop || dsuit_manifest_rec_decode(v, vl, &m) != DSUIT_OK)
        return w->stop;
    dsuit_cbor_dec_init(&d, m.images, m.images_len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_array(&d, &n_img) != DSUIT_OK)
        return 0;
    for (size_t i = 0; i < n_img; i++) {
        size_t f, nc, l;
        uint64_t key, size, chunk;
        const uint8_t *digest, *c;
        if (dsuit_cbor_get_map(&d, &f) || dsuit_cbor_get_uint(&d, &key) ||
            dsuit_cbor_get_bstr(&d, &digest, &l) ||
            dsuit_cbor_get_uint(&d, &key) || dsuit_cbor_get_uint(&d, &size) ||
            dsuit_cbor_get_uint(&d, &key) || dsuit_cbor_get_uint(&d, &chunk) ||
            dsuit_cbor_get_uint(&d, &key) || dsuit_cbor_get_array(&d, &nc))
            return 0;
        for (size_t j = 0; j < nc; j++) {
            size_t t[64], nt, placed[64];
            int mine = 0, missing_holder = 0;
            if (dsuit_cbor_get_bstr(&d, &c, &l) != DSUIT_OK || l != 32)
                return 0;
            w->chunks++;
            /* Under-replicated: a holder of the static placement is not
             * reachable now. */
            dsuit_chunk_place(c, (const uint8_t(*)[32])w->n->key_ids,
                              w->n->g->n_validators, w->n->g->policy.replicas,
                              placed);
            for (size_t p = 0; p < w->n->g->policy.replicas &&
                               p < w->n->g->n_validators;
                 p++)
                missing_holder |= !w->reachable[placed[p]];
            w->under += missing_holder;
            nt = targets(w->n, c, w->reachable, t);
            for (size_t p = 0; p < nt; p++)
                mine |= t[p] == w->n->index;
            if (mine && !dsuit_chunks_has(w->n->chunks, c)) {
                uint8_t *data;
                size_t dl;
                if (node_chunk_fetch(w->n, c, chunk, &data, &dl) == DSUIT_OK) {
                    if (dsuit_chunks_put(w->n->chunks, c, data, dl) ==
                        DSUIT_OK)
                        w->repaired++;
                    free(data);
                }
            }
        }
    }
    return w->stop;
}

/* One pass; fills counts. */
static void pass(dsuit_node_t *n, walk_t *w)
{
    dsuit_store_txn_t *t;
    uint64_t now = node_now_ms();
    memset(w, 0, sizeof *w);
    w->n = n;
    for (size_t i = 0; i < n->g->n_validators; i++)
        w->reachable[i] = node_peer_reachable(n, i, now);
    /* The walk may fetch from peers; the read transaction only pins a
     * snapshot of the manifest records, which is fine to hold. */
    if (dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t) != DSUIT_OK)
        return;
    dsuit_store_foreach(t, DSUIT_TBL_MANIFESTS, visit, w);
    dsuit_store_abort(t);
}

/* Does this node hold a certificate for height h? */
static int have_cert(dsuit_node_t *n, uint64_t h)
{
    dsuit_store_txn_t *t;
    const uint8_t *v;
    size_t vl;
    uint8_t key[8];
    int rc;
    if (dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t) != DSUIT_OK)
        return 1; /* cannot tell: do not fetch */
    dsuit_store_u64_key(h, key);
    rc = dsuit_store_get(t, DSUIT_TBL_CERTS, key, 8, &v, &vl);
    dsuit_store_abort(t);
    return rc != DSUIT_E_NOTFOUND;
}

/* A certificate from validator i for height h whose block hash is hash,
 * checked; malloc'd, or NULL. */
static uint8_t *fetch_cert(dsuit_node_t *n, size_t i, uint64_t h,
                           const uint8_t hash[32], const dsuit_trust_t *trust,
                           size_t *out_len)
{
    char url[600];
    uint8_t *body = NULL;
    size_t len = 0;
    long status = 0;
    dsuit_cert_t c;
    node_peer_url(n, i, url, sizeof url);
    snprintf(url + strlen(url), sizeof url - strlen(url), "/v1/blocks/%llu/cert",
             (unsigned long long)h);
    if (dsuit_http_request("GET", url, NULL, NULL, 0, 3000, &status, &body,
                           &len, CERT_MAX_BYTES) != DSUIT_OK ||
        status != 200 || dsuit_cert_decode(body, len, &c) != DSUIT_OK ||
        c.height != h || memcmp(c.block_hash, hash, 32) != 0 ||
        dsuit_cert_verify(&c, trust, NULL) != DSUIT_OK) {
        free(body);
        return NULL;
    }
    *out_len = len;
    return body;
}

static void backfill_certs(dsuit_node_t *n, uint64_t *next)
{
    dsuit_key_t keys[NODE_MAX_VALIDATORS];
    dsuit_trust_t trust;
    node_status_t st;
    uint64_t now = node_now_ms(), end;
    size_t looked = 0;

    node_status(n, &st);
    if (*next == 0)
        *next = 1;
    end = st.certified;
    for (size_t i = 0; i < n->g->n_validators; i++)
        keys[i] = n->g->validators[i].key;
    trust.chain = n->g->hash;
    trust.validators = keys;
    trust.n_validators = n->g->n_validators;
    trust.quorum = n->g->policy.quorum;
    for (; *next <= end && looked < CERT_BACKFILL && !node_quitting(n);
         (*next)++, looked++) {
        uint64_t h = *next;
        uint8_t *blk = NULL, hash[32], *cert = NULL;
        size_t bl = 0, cl = 0;
        dsuit_block_t b;
        if (have_cert(n, h))
            continue;
        if (dsuit_ledger_block(n->ledger, h, &blk, &bl) != DSUIT_OK ||
            dsuit_block_decode(blk, bl, &b) != DSUIT_OK ||
            dsuit_sha256(b.header_bytes, b.header_len, hash) != DSUIT_OK) {
            free(blk);
            continue;
        }
        free(blk);
        for (size_t i = 0; i < n->g->n_validators && cert == NULL; i++)
            if (i != n->index && node_peer_reachable(n, i, now))
                cert = fetch_cert(n, i, h, hash, &trust, &cl);
        if (cert != NULL) {
            node_msg_t *m = calloc(1, sizeof *m);
            if (m == NULL) {
                free(cert);
                continue;
            }
            snprintf(m->path, sizeof m->path, "%llu", (unsigned long long)h);
            m->body = cert;
            m->len = cl;
            pthread_mutex_lock(&n->mu);
            m->next = n->certs_in;
            n->certs_in = m;
            pthread_mutex_unlock(&n->mu);
            uv_async_send(&n->wake);
        }
    }
    /* Past the end: start over next time. Heights whose certificate could
     * not be had yet (no peer reachable, none had it) come round again;
     * never chase the certified height as it grows. */
    if (*next > end)
        *next = 1;
}

void node_certs_drain(dsuit_node_t *n)
{
    node_msg_t *m;
    size_t stored = 0;
    pthread_mutex_lock(&n->mu);
    m = n->certs_in;
    n->certs_in = NULL;
    pthread_mutex_unlock(&n->mu);
    while (m != NULL) {
        node_msg_t *next = m->next;
        dsuit_store_txn_t *t;
        uint8_t key[8];
        uint64_t h = strtoull(m->path, NULL, 10);
        dsuit_store_u64_key(h, key);
        if (dsuit_store_begin(dsuit_ledger_store(n->ledger), 1, &t) ==
            DSUIT_OK) {
            const uint8_t *v;
            size_t vl;
            if (dsuit_store_get(t, DSUIT_TBL_CERTS, key, 8, &v, &vl) ==
                    DSUIT_E_NOTFOUND &&
                dsuit_store_put(t, DSUIT_TBL_CERTS, key, 8, m->body, m->len) ==
                    DSUIT_OK) {
                if (dsuit_store_commit(t) == DSUIT_OK)
                    stored++;
            } else {
                dsuit_store_abort(t);
            }
        }
        free(m->body);
        free(m);
        m = next;
    }
    if (stored > 0)
        node_log(n, "info", "cert",
                 "stored certificates of missed heights count=%zu", stored);
}

/* Its own thread, so that a slow chunk pass (peers down, fetches timing
 * out) does not hold it up. */
static void *certfill_main(void *arg)
{
    dsuit_node_t *n = arg;
    uint64_t next = 1;
    for (;;) {
        int stop;
        for (int slept = 0; slept < CERT_INTERVAL_MS; slept += 100) {
            pthread_mutex_lock(&n->mu);
            stop = n->repair_stop;
            pthread_mutex_unlock(&n->mu);
            if (stop)
                return NULL;
            usleep(100 * 1000);
        }
        backfill_certs(n, &next);
    }
}

static void *repair_main(void *arg)
{
    dsuit_node_t *n = arg;
    for (;;) {
        walk_t w;
        int stop;
        for (int slept = 0; slept < REPAIR_INTERVAL_MS; slept += 100) {
            pthread_mutex_lock(&n->mu);
            stop = n->repair_stop;
            pthread_mutex_unlock(&n->mu);
            if (stop)
                return NULL;
            usleep(100 * 1000);
        }
        pass(n, &w);
        pthread_mutex_lock(&n->mu);
        n->st.chunks_known = w.chunks;
        n->st.chunks_under = w.under;
        n->st.chunks_repaired += w.repaired;
        pthread_mutex_unlock(&n->mu);
        if (w.repaired > 0)
            node_log(n, "info", "repair",
                     "copied chunks to restore replicas chunks=%llu",
                     (unsigned long long)w.repaired);
    }
}

int node_repair_start(dsuit_node_t *n)
{
    if (pthread_create(&n->repairer, NULL, repair_main, n) != 0)
        return DSUIT_E_NOMEM;
    if (pthread_create(&n->certfiller, NULL, certfill_main, n) != 0) {
        node_repair_stop(n);
        return DSUIT_E_NOMEM;
    }
    n->certfill_started = 1;
    return DSUIT_OK;
}

void node_repair_stop(dsuit_node_t *n)
{
    pthread_mutex_lock(&n->mu);
    n->repair_stop = 1;
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->repairer, NULL);
    if (n->certfill_started)
        pthread_join(n->certfiller, NULL);
    n->certfill_started = 0;
}
