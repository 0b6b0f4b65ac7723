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
 */
#define _DEFAULT_SOURCE /* usleep */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsuit/cbor.h"
#include "node/node_int.h"

#define REPAIR_INTERVAL_MS 2000
#define PEER_GRACE_MS      10000

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
    return pthread_create(&n->repairer, NULL, repair_main, n) == 0
               ? DSUIT_OK
               : DSUIT_E_NOMEM;
}

void node_repair_stop(dsuit_node_t *n)
{
    pthread_mutex_lock(&n->mu);
    n->repair_stop = 1;
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->repairer, NULL);
}
