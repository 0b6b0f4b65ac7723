/*
 * The node: wires the ledger (validation), consensus (ordering), the HTTP
 * API and certification into one daemon (ARCHITECTURE.md, "Process model";
 * docs/formats/ledger.md).
 *
 * Block life cycle, on every node:
 *   1. the leader's proposer tick batches pending transactions (or, when
 *      idle for the policy's heartbeat, none) into a block with
 *      dsuit_ledger_propose and hands it to consensus;
 *   2. consensus commits it; every node's FSM apply runs
 *      dsuit_ledger_apply, which re-validates everything (no node trusts
 *      the leader) and refuses a block that lies;
 *   3. having applied block h, the node signs its hash (a vote), keeps it,
 *      and the gossip thread sends it to the peers;
 *   4. when a quorum of validators' votes for the hash this node applied
 *      is in, the node stores the commit certificate. Two votes by one
 *      validator for different hashes at one height are kept as evidence.
 *
 * Raft replays its log after a restart; blocks the ledger already holds
 * (height <= tip) are skipped after checking they are the same block.
 */
/* realpath (XSI) and flock (BSD) beyond the project's POSIX 2008. */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dsuit/block.h"
#include "dsuit/cbor.h"
#include "dsuit/tx.h"
#include "net/http/client.h"
#include "node/node_int.h"

#define MODULE_NODE "node"

/* Exit codes (docs/EXIT-CODES.md); the library does not include the CLI. */
#define NODE_EXIT_OK   0
#define NODE_EXIT_FAIL 1

void node_log(dsuit_node_t *n, const char *level, const char *module,
              const char *fmt, ...)
{
    FILE *f = n->opts.log ? n->opts.log : stderr;
    char when[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    va_start(ap, fmt);
    flockfile(f);
    fprintf(f, "%s.%03ldZ %-5s %-9s ", when, ts.tv_nsec / 1000000, level,
            module);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    funlockfile(f);
    fflush(f);
    va_end(ap);
}

/* ---- mempool --------------------------------------------------------- */

int node_submit(dsuit_node_t *n, const uint8_t *tx, size_t len,
                const uint8_t id[32])
{
    int rc = DSUIT_OK;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->n_pool; i++) {
        if (memcmp(n->pool[i].id, id, 32) == 0) {
            rc = DSUIT_E_EXISTS;
            goto out;
        }
    }
    if (n->n_pool >= NODE_POOL_MAX_TXS ||
        n->pool_bytes + len > NODE_POOL_MAX_BYTES) {
        rc = DSUIT_E_LIMIT;
        goto out;
    }
    if (n->n_pool == n->cap_pool) {
        size_t cap = n->cap_pool ? 2 * n->cap_pool : 64;
        node_tx_t *p = realloc(n->pool, cap * sizeof *p);
        if (p == NULL) {
            rc = DSUIT_E_NOMEM;
            goto out;
        }
        n->pool = p;
        n->cap_pool = cap;
    }
    node_tx_t *t = &n->pool[n->n_pool];
    t->tx = malloc(len);
    if (t->tx == NULL) {
        rc = DSUIT_E_NOMEM;
        goto out;
    }
    memcpy(t->tx, tx, len);
    t->len = len;
    memcpy(t->id, id, 32);
    n->n_pool++;
    n->pool_bytes += len;
out:
    pthread_mutex_unlock(&n->mu);
    if (rc == DSUIT_OK)
        uv_async_send(&n->wake);
    return rc;
}

int node_pending(dsuit_node_t *n, const uint8_t id[32])
{
    int found = 0;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->n_pool && !found; i++)
        found = memcmp(n->pool[i].id, id, 32) == 0;
    pthread_mutex_unlock(&n->mu);
    return found;
}

/* Drop the transactions a block carried from the mempool. */
static void pool_remove_block(dsuit_node_t *n, const dsuit_block_t *b)
{
    dsuit_block_iter_t it;
    const uint8_t *tx;
    size_t len;
    uint64_t result;
    dsuit_block_iter_init(&it, b);
    pthread_mutex_lock(&n->mu);
    while (dsuit_block_next_tx(&it, &tx, &len, &result) == DSUIT_OK) {
        dsuit_tx_t t;
        if (result < 16)
            n->st.tx_results[result]++;
        if (dsuit_tx_decode(tx, len, &t) != DSUIT_OK)
            continue;
        for (size_t i = 0; i < n->n_pool; i++) {
            if (memcmp(n->pool[i].id, t.id, 32) == 0) {
                n->pool_bytes -= n->pool[i].len;
                free(n->pool[i].tx);
                n->pool[i] = n->pool[--n->n_pool];
                break;
            }
        }
    }
    pthread_mutex_unlock(&n->mu);
}

/* ---- votes and certificates ------------------------------------------ */

int node_vote_in(dsuit_node_t *n, const node_vote_in_t *v)
{
    int rc = DSUIT_OK;
    pthread_mutex_lock(&n->mu);
    if (n->n_votes_in >= 4 * NODE_VOTE_WINDOW * NODE_MAX_VALIDATORS) {
        rc = DSUIT_E_LIMIT; /* the loop is far behind: shed load */
    } else {
        if (n->n_votes_in == n->cap_votes_in) {
            size_t cap = n->cap_votes_in ? 2 * n->cap_votes_in : 64;
            node_vote_in_t *p = realloc(n->votes_in, cap * sizeof *p);
            if (p == NULL)
                rc = DSUIT_E_NOMEM;
            else {
                n->votes_in = p;
                n->cap_votes_in = cap;
            }
        }
        if (rc == DSUIT_OK)
            n->votes_in[n->n_votes_in++] = *v;
    }
    pthread_mutex_unlock(&n->mu);
    if (rc == DSUIT_OK)
        uv_async_send(&n->wake);
    return rc;
}

static node_slot_t *slot_for(dsuit_node_t *n, uint64_t h, int create)
{
    node_slot_t *s = &n->slots[h % NODE_VOTE_WINDOW];
    if (s->height == h)
        return s;
    if (!create || h < s->height)
        return NULL; /* older than the window: ignore */
    memset(s, 0, sizeof *s);
    s->height = h;
    return s;
}

static void store_cert(dsuit_node_t *n, node_slot_t *s)
{
    uint64_t idx[NODE_MAX_VALIDATORS];
    uint8_t sigs[NODE_MAX_VALIDATORS][DSUIT_SIG_LEN];
    uint8_t buf[64 + NODE_MAX_VALIDATORS * 80], key[8];
    size_t k = 0, len;
    dsuit_store_txn_t *t;
    const size_t nv = n->g->n_validators;

    for (size_t i = 0; i < nv; i++) {
        node_vote_t *v = &s->votes[i];
        if (v->have && memcmp(v->hash, s->hash, 32) == 0 &&
            v->sig_len == DSUIT_SIG_LEN) {
            idx[k] = i;
            memcpy(sigs[k], v->sig, DSUIT_SIG_LEN);
            k++;
        }
    }
    if (k < n->g->policy.quorum)
        return;
    if (dsuit_cert_encode(s->height, s->hash, idx,
                          (const uint8_t(*)[DSUIT_SIG_LEN])sigs, k, buf,
                          sizeof buf, &len) != DSUIT_OK)
        return;
    dsuit_store_u64_key(s->height, key);
    if (dsuit_store_begin(dsuit_ledger_store(n->ledger), 1, &t) != DSUIT_OK)
        return;
    if (dsuit_store_put(t, DSUIT_TBL_CERTS, key, 8, buf, len) != DSUIT_OK ||
        dsuit_store_commit(t) != DSUIT_OK) {
        node_log(n, "error", "cert", "cannot store certificate height=%llu",
                 (unsigned long long)s->height);
        return;
    }
    s->certified = 1;
    if (s->height > n->certified_height)
        n->certified_height = s->height;
    pthread_mutex_lock(&n->mu);
    n->st.certified = n->certified_height;
    pthread_mutex_unlock(&n->mu);
    node_devices_certified(n);
}

/* Record a verified vote; keep evidence of equivocation. */
static void take_vote(dsuit_node_t *n, const node_vote_in_t *v)
{
    node_slot_t *s;
    node_vote_t *mine;
    if (v->index >= n->g->n_validators)
        return;
    if (dsuit_cert_vote_verify(&n->g->validators[v->index].key, n->g->hash,
                               v->hash, v->sig, v->sig_len) != DSUIT_OK) {
        node_log(n, "warn", "cert",
                 "vote does not verify peer=%llu height=%llu",
                 (unsigned long long)v->index, (unsigned long long)v->height);
        return;
    }
    pthread_mutex_lock(&n->mu);
    if (v->height > n->st.peer_height[v->index])
        n->st.peer_height[v->index] = v->height;
    n->peer_seen_ms[v->index] = node_now_ms();
    pthread_mutex_unlock(&n->mu);
    s = slot_for(n, v->height, 1);
    if (s == NULL)
        return;
    mine = &s->votes[v->index];
    if (mine->have) {
        if (memcmp(mine->hash, v->hash, 32) != 0) {
            node_evidence_t e;
            e.height = v->height;
            e.index = v->index;
            memcpy(e.hash_a, mine->hash, 32);
            memcpy(e.hash_b, v->hash, 32);
            memcpy(e.sig_a, mine->sig, DSUIT_SIG_LEN);
            memcpy(e.sig_b, v->sig, DSUIT_SIG_LEN);
            pthread_mutex_lock(&n->mu);
            if (n->n_evidence == n->cap_evidence) {
                size_t cap = n->cap_evidence ? 2 * n->cap_evidence : 8;
                node_evidence_t *p = realloc(n->evidence, cap * sizeof *p);
                if (p != NULL) {
                    n->evidence = p;
                    n->cap_evidence = cap;
                }
            }
            if (n->n_evidence < n->cap_evidence)
                n->evidence[n->n_evidence++] = e;
            pthread_mutex_unlock(&n->mu);
            node_log(n, "warn", "cert",
                     "validator signed two blocks at one height peer=%llu "
                     "height=%llu",
                     (unsigned long long)v->index,
                     (unsigned long long)v->height);
        }
        return;
    }
    mine->have = 1;
    memcpy(mine->hash, v->hash, 32);
    memcpy(mine->sig, v->sig, v->sig_len);
    mine->sig_len = v->sig_len;
    if (s->applied && !s->certified)
        store_cert(n, s);
}

/* Queue a message for every peer. */
static void gossip_send(dsuit_node_t *n, const char *path, const uint8_t *body,
                        size_t len)
{
    node_msg_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return;
    m->body = malloc(len);
    if (m->body == NULL) {
        free(m);
        return;
    }
    memcpy(m->body, body, len);
    m->len = len;
    snprintf(m->path, sizeof m->path, "%s", path);
    pthread_mutex_lock(&n->mu);
    m->next = n->outbox;
    n->outbox = m;
    pthread_cond_signal(&n->gossip_cv);
    pthread_mutex_unlock(&n->mu);
}

/* A vote on the wire: [height, hash bstr(32), index, sig bstr]. */
static void send_vote(dsuit_node_t *n, const node_slot_t *s)
{
    uint8_t buf[160];
    size_t len;
    dsuit_cbor_enc_t e;
    const node_vote_t *v = &s->votes[n->index];
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    dsuit_cbor_put_array(&e, 4);
    dsuit_cbor_put_uint(&e, s->height);
    dsuit_cbor_put_bstr(&e, v->hash, 32);
    dsuit_cbor_put_uint(&e, n->index);
    dsuit_cbor_put_bstr(&e, v->sig, v->sig_len);
    if (dsuit_cbor_enc_finish(&e, &len) == DSUIT_OK)
        gossip_send(n, "/internal/v1/votes", buf, len);
}

/* Having applied block h: vote for it. */
static void vote_for(dsuit_node_t *n, uint64_t h, const uint8_t hash[32])
{
    node_slot_t *s = slot_for(n, h, 1);
    node_vote_t *mine;
    if (s == NULL)
        return;
    s->applied = 1;
    memcpy(s->hash, hash, 32);
    mine = &s->votes[n->index];
    if (dsuit_cert_vote(&n->key, n->g->hash, hash, mine->sig) != DSUIT_OK) {
        node_log(n, "error", "cert", "cannot sign a vote height=%llu",
                 (unsigned long long)h);
        return;
    }
    mine->have = 1;
    mine->sig_len = DSUIT_SIG_LEN;
    memcpy(mine->hash, hash, 32);
    send_vote(n, s);
    store_cert(n, s); /* votes may have arrived before the block */
}

static void drain_votes(dsuit_node_t *n)
{
    node_vote_in_t *q;
    size_t k;
    pthread_mutex_lock(&n->mu);
    q = n->votes_in;
    k = n->n_votes_in;
    n->votes_in = NULL;
    n->n_votes_in = n->cap_votes_in = 0;
    pthread_mutex_unlock(&n->mu);
    for (size_t i = 0; i < k; i++)
        take_vote(n, &q[i]);
    free(q);
}

/* Votes a restarted or slow peer missed: resend ours for recent heights
 * that have no certificate yet. */
static void resend_votes(dsuit_node_t *n)
{
    uint64_t h = dsuit_ledger_height(n->ledger);
    unsigned sent = 0;
    for (uint64_t k = 0; k < 16 && k < h && sent < 16; k++) {
        node_slot_t *s = slot_for(n, h - k, 0);
        if (s != NULL && s->applied && !s->certified &&
            s->votes[n->index].have) {
            send_vote(n, s);
            sent++;
        }
    }
}

/* ---- the replicated state machine ------------------------------------ */

static int fsm_apply(void *arg, const uint8_t *block, size_t len)
{
    dsuit_node_t *n = arg;
    dsuit_block_t b;
    dsuit_block_info_t info;
    char h8[17];
    int rc;

    if (dsuit_block_decode(block, len, &b) != DSUIT_OK) {
        node_log(n, "warn", "ledger", "refused a malformed block");
        pthread_mutex_lock(&n->mu);
        n->st.blocks_rejected++;
        pthread_mutex_unlock(&n->mu);
        return DSUIT_E_REJECTED;
    }
    if (b.header.height <= dsuit_ledger_height(n->ledger)) {
        /* Raft replays its log after a restart: the ledger has it. */
        uint8_t *mine;
        size_t ml;
        dsuit_block_t m;
        if (dsuit_ledger_block(n->ledger, b.header.height, &mine, &ml) ==
            DSUIT_OK) {
            int same = dsuit_block_decode(mine, ml, &m) == DSUIT_OK &&
                       memcmp(m.hash, b.hash, 32) == 0;
            free(mine);
            if (same)
                return DSUIT_OK;
        }
        /* A different block for a height we already have: an old
         * proposal that lost the race, refused like any stale block. */
        pthread_mutex_lock(&n->mu);
        n->st.blocks_rejected++;
        pthread_mutex_unlock(&n->mu);
        return DSUIT_E_REJECTED;
    }
    pthread_rwlock_wrlock(&n->mlog_lock);
    rc = dsuit_ledger_apply(n->ledger, block, len, &info);
    pthread_rwlock_unlock(&n->mlog_lock);
    node_hex(b.hash, 8, h8);
    if (rc != DSUIT_OK) {
        node_log(
            n, "warn", "ledger",
            "refused block height=%llu hash=%s proposer=%llu reason=\"%s\"",
            (unsigned long long)b.header.height, h8,
            (unsigned long long)b.header.proposer,
            info.reason ? info.reason : dsuit_strerror(rc));
        pthread_mutex_lock(&n->mu);
        n->st.blocks_rejected++;
        pthread_mutex_unlock(&n->mu);
        return rc;
    }
    if (info.n_txs > 0)
        node_log(n, "info", "ledger",
                 "applied block height=%llu hash=%s txs=%zu ok=%zu",
                 (unsigned long long)info.height, h8, info.n_txs, info.n_ok);
    pool_remove_block(n, &b);
    n->last_block_ms = node_now_ms();
    pthread_mutex_lock(&n->mu);
    n->st.height = info.height;
    n->st.blocks_applied++;
    pthread_mutex_unlock(&n->mu);
    /* A block that publishes firmware gets this node's vote only once its
     * images have been checked (validation.c). */
    if (!node_check_block(n, &b))
        vote_for(n, info.height, info.hash);
    return DSUIT_OK;
}

/* Snapshot: every block, [* bstr]. A node far behind applies those above
 * its tip; the ledger's own store stays the source of truth. */
typedef struct {
    dsuit_cbor_enc_t e;
    uint64_t count;
} snap_t;

static int snap_visit(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                      size_t vl)
{
    snap_t *s = arg;
    (void)k;
    (void)kl;
    dsuit_cbor_put_bstr(&s->e, v, vl);
    s->count++;
    return 0;
}

static int fsm_snapshot(void *arg, uint8_t **out, size_t *out_len)
{
    dsuit_node_t *n = arg;
    dsuit_store_txn_t *t;
    snap_t s;
    uint8_t *buf = NULL;
    size_t need = 0, head;
    int rc;

    rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc != DSUIT_OK)
        return rc;
    /* Measure, then write. */
    for (int pass = 0; pass < 2; pass++) {
        uint8_t hb[9];
        dsuit_cbor_enc_t he;
        memset(&s, 0, sizeof s);
        dsuit_cbor_enc_init(&s.e, pass ? buf : NULL, pass ? need : 0);
        rc = dsuit_store_foreach(t, DSUIT_TBL_BLOCKS, snap_visit, &s);
        if (rc != DSUIT_OK)
            break;
        dsuit_cbor_enc_init(&he, hb, sizeof hb);
        dsuit_cbor_put_array(&he, s.count);
        dsuit_cbor_enc_finish(&he, &head);
        if (pass == 0) {
            need = s.e.len;
            buf = malloc(head + need + 1);
            if (buf == NULL) {
                rc = DSUIT_E_NOMEM;
                break;
            }
            memcpy(buf, hb, head);
            /* second pass writes after the head */
            buf += head;
        } else {
            buf -= head;
            *out = buf;
            *out_len = head + need;
            buf = NULL;
        }
    }
    dsuit_store_abort(t);
    if (rc != DSUIT_OK && buf != NULL)
        free(buf - head);
    return rc;
}

static int fsm_restore(void *arg, const uint8_t *buf, size_t len)
{
    dsuit_node_t *n = arg;
    dsuit_cbor_dec_t d;
    size_t count;
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_array(&d, &count) != DSUIT_OK)
        return DSUIT_E_INVAL;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *blk;
        size_t bl;
        if (dsuit_cbor_get_bstr(&d, &blk, &bl) != DSUIT_OK)
            return DSUIT_E_INVAL;
        int rc = fsm_apply(n, blk, bl);
        if (rc != DSUIT_OK && rc != DSUIT_E_REJECTED)
            return rc;
    }
    node_log(n, "info", "ledger", "caught up from a snapshot height=%llu",
             (unsigned long long)dsuit_ledger_height(n->ledger));
    return DSUIT_OK;
}

/* ---- proposing -------------------------------------------------------- */

static void proposed(void *arg, int status)
{
    dsuit_node_t *n = arg;
    n->proposing = 0;
    /* Losing leadership while a block is in flight (also on the way out)
     * is normal; its transactions stay pending for the next leader. */
    if (status != DSUIT_OK && status != DSUIT_E_REJECTED &&
        status != DSUIT_E_NOTLEADER && !n->stopping)
        node_log(n, "warn", "consensus", "proposal not applied reason=\"%s\"",
                 dsuit_strerror(status));
}

static void propose(dsuit_node_t *n)
{
    const uint8_t **txs = NULL;
    size_t *lens = NULL, k;
    uint8_t *block = NULL;
    size_t blen;
    uint64_t now = node_now_ms();
    int rc;

    if (n->proposing || !dsuit_consensus_is_leader(n->cons))
        return;
    /* The leader applies before it proposes again: a block always builds
     * on the tip every node will have. */
    if (dsuit_consensus_applied(n->cons) < 1)
        return;
    pthread_mutex_lock(&n->mu);
    k = n->n_pool < n->opts.block_max_txs ? n->n_pool : n->opts.block_max_txs;
    if (k == 0 && now - n->last_block_ms < n->g->policy.heartbeat_ms) {
        pthread_mutex_unlock(&n->mu);
        return;
    }
    txs = calloc(k ? k : 1, sizeof *txs);
    lens = calloc(k ? k : 1, sizeof *lens);
    if (txs == NULL || lens == NULL) {
        pthread_mutex_unlock(&n->mu);
        goto out;
    }
    /* The pool keeps its transactions until a block carrying them is
     * applied; the loop is the only remover, so pointers stay valid for
     * this call. */
    for (size_t i = 0; i < k; i++) {
        txs[i] = n->pool[i].tx;
        lens[i] = n->pool[i].len;
    }
    pthread_mutex_unlock(&n->mu);
    pthread_rwlock_wrlock(&n->mlog_lock);
    rc = dsuit_ledger_propose(n->ledger, &n->key, now, txs, lens, k, &block,
                              &blen);
    pthread_rwlock_unlock(&n->mlog_lock);
    if (rc != DSUIT_OK) {
        node_log(n, "error", "node", "cannot build a block reason=\"%s\"",
                 dsuit_strerror(rc));
        goto out;
    }
    rc = dsuit_consensus_propose(n->cons, block, blen, proposed, n);
    if (rc == DSUIT_OK) {
        n->proposing = 1;
        n->last_block_ms = now;
    }
out:
    free(block);
    free(txs);
    free(lens);
}

static void refresh_status(dsuit_node_t *n)
{
    uint64_t leader = dsuit_consensus_leader(n->cons, NULL);
    pthread_mutex_lock(&n->mu);
    n->st.role = dsuit_consensus_role(n->cons);
    n->st.leader = leader;
    n->st.term = dsuit_consensus_term(n->cons);
    n->st.height = dsuit_ledger_height(n->ledger);
    n->st.certified = n->certified_height;
    n->st.peer_height[n->index] = n->st.height;
    pthread_mutex_unlock(&n->mu);
}

static void on_tick(uv_timer_t *t)
{
    dsuit_node_t *n = t->data;
    drain_votes(n);
    node_checks_drain(n, vote_for);
    refresh_status(n);
    if (!n->stopping)
        propose(n);
    if (++n->ticks % 10 == 0)
        resend_votes(n);
    if (n->ticks % 100 == 0)
        node_uploads_expire(n, node_now_ms());
}

static void on_wake(uv_async_t *a)
{
    dsuit_node_t *n = a->data;
    drain_votes(n);
    node_checks_drain(n, vote_for);
    node_certs_drain(n);
}

/* ---- gossip thread ---------------------------------------------------- */

static void *gossip_main(void *arg)
{
    dsuit_node_t *n = arg;
    for (;;) {
        node_msg_t *m;
        pthread_mutex_lock(&n->mu);
        while (n->outbox == NULL && !n->gossip_stop)
            pthread_cond_wait(&n->gossip_cv, &n->mu);
        if (n->gossip_stop) {
            pthread_mutex_unlock(&n->mu);
            break;
        }
        m = n->outbox;
        n->outbox = m->next;
        pthread_mutex_unlock(&n->mu);

        for (size_t i = 0; i < n->g->n_validators; i++) {
            char url[512], hdr[3][DSUIT_PEER_HEADER_MAX];
            const char *headers[5];
            long status;
            uint8_t *resp = NULL;
            size_t rlen;
            if (i == n->index)
                continue;
            node_peer_url(n, i, url, sizeof url);
            strncat(url, m->path, sizeof url - strlen(url) - 1);
            if (dsuit_peer_sign(&n->key, n->index, n->g->hash, "POST", m->path,
                                m->body, m->len, node_now_ms(),
                                hdr) != DSUIT_OK)
                continue;
            headers[0] = hdr[0];
            headers[1] = hdr[1];
            headers[2] = hdr[2];
            headers[3] = "Content-Type: application/cbor";
            headers[4] = NULL;
            /* A peer that is down costs one short timeout; the vote is
             * sent again later (resend_votes). */
            dsuit_http_request("POST", url, headers, m->body, m->len, 500,
                               &status, &resp, &rlen, 4096);
            free(resp);
        }
        free(m->body);
        free(m);
    }
    return NULL;
}

/* ---- start and stop ---------------------------------------------------- */

void node_status(dsuit_node_t *n, node_status_t *out)
{
    pthread_mutex_lock(&n->mu);
    *out = n->st;
    pthread_mutex_unlock(&n->mu);
}

void node_peer_url(const dsuit_node_t *n, size_t i, char *out, size_t cap)
{
    const dsuit_validator_t *v = &n->g->validators[i];
    snprintf(out, cap, "http://%s:%u", v->host, (unsigned)v->http_port);
}

static void on_consensus_stopped(void *arg)
{
    dsuit_node_t *n = arg;
    n->cons = NULL;
    uv_close((uv_handle_t *)&n->tick, NULL);
    uv_close((uv_handle_t *)&n->wake, NULL);
    uv_close((uv_handle_t *)&n->sigterm, NULL);
    uv_close((uv_handle_t *)&n->sigint, NULL);
}

int node_quitting(dsuit_node_t *n)
{
    int q;
    pthread_mutex_lock(&n->mu);
    q = n->quitting;
    pthread_mutex_unlock(&n->mu);
    return q;
}

static void on_signal(uv_signal_t *s, int signum)
{
    dsuit_node_t *n = s->data;
    if (n->stopping)
        return;
    n->stopping = 1;
    node_log(n, "info", MODULE_NODE, "stopping signal=%d", signum);
    /* Stop taking requests first; handlers still running see `quitting`
     * and stop retrying, so the server's stop waits only for them. */
    pthread_mutex_lock(&n->mu);
    n->quitting = 1;
    pthread_mutex_unlock(&n->mu);
    dsuit_http_server_stop(n->http);
    n->http = NULL;
    node_devices_stop(n);
    uv_timer_stop(&n->tick);
    dsuit_consensus_stop(n->cons, on_consensus_stopped, n);
}

static int read_file(const char *path, uint8_t **out, size_t *out_len,
                     size_t max)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;
    if (f == NULL)
        return DSUIT_E_IO;
    buf = malloc(max);
    if (buf == NULL) {
        fclose(f);
        return DSUIT_E_NOMEM;
    }
    n = fread(buf, 1, max, f);
    if (ferror(f) || n == max) {
        fclose(f);
        free(buf);
        return n == max ? DSUIT_E_LIMIT : DSUIT_E_IO;
    }
    fclose(f);
    *out = buf;
    *out_len = n;
    return DSUIT_OK;
}

static int node_open(dsuit_node_t *n, const dsuit_node_opts_t *o)
{
    char path[PATH_MAX + 32];
    uint8_t *gbytes = NULL, *pem = NULL, kid[32];
    size_t glen, pemlen;
    const char *why = NULL;
    dsuit_ledger_opts_t lo = {0};
    int rc, idx;

    n->opts = *o;
    if (n->opts.block_interval_ms == 0)
        n->opts.block_interval_ms = 100;
    if (n->opts.block_max_txs == 0)
        n->opts.block_max_txs = 1000;
    if (realpath(o->data_dir, n->dir) == NULL) {
        node_log(n, "error", MODULE_NODE, "cannot open '%s': %s", o->data_dir,
                 strerror(errno));
        return NODE_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/lock", n->dir);
    n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (n->lock_fd < 0 || flock(n->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        node_log(n, "error", MODULE_NODE,
                 "cannot lock '%s': another node is running on this folder",
                 n->dir);
        return NODE_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/node.key", n->dir);
    rc = read_file(path, &pem, &pemlen, 64 * 1024);
    if (rc == DSUIT_OK)
        rc = dsuit_key_from_pem((const char *)pem, pemlen, &n->key);
    if (pem != NULL) {
        dsuit_wipe(pem, pemlen);
        free(pem);
    }
    if (rc != DSUIT_OK || !n->key.has_private) {
        node_log(n, "error", MODULE_NODE, "cannot load '%s': %s", path,
                 rc != DSUIT_OK ? dsuit_strerror(rc) : "not a private key");
        return NODE_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/genesis.cbor", n->dir);
    rc = read_file(path, &gbytes, &glen, 1 << 20);
    if (rc != DSUIT_OK) {
        node_log(n, "error", MODULE_NODE, "cannot read '%s': %s", path,
                 dsuit_strerror(rc));
        return NODE_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/ledger", n->dir);
    mkdir(path, 0700);
    lo.store.no_sync = o->no_sync;
    rc = dsuit_ledger_open(path, gbytes, glen, &lo, &n->ledger, &why);
    free(gbytes);
    if (rc != DSUIT_OK) {
        node_log(n, "error", MODULE_NODE, "cannot open the ledger '%s': %s",
                 path, why ? why : dsuit_strerror(rc));
        return NODE_EXIT_FAIL;
    }
    n->g = dsuit_ledger_genesis(n->ledger);
    if (dsuit_cose_key_id(&n->key, kid) != DSUIT_OK ||
        (idx = dsuit_genesis_validator_index(n->g, kid)) < 0) {
        node_log(n, "error", MODULE_NODE,
                 "node.key is not the key of a validator in genesis");
        return NODE_EXIT_FAIL;
    }
    n->index = (uint64_t)idx;
    rc = dsuit_chunks_open(n->dir, &n->chunks);
    if (rc != DSUIT_OK) {
        node_log(n, "error", MODULE_NODE, "cannot open the chunk store in '%s'",
                 n->dir);
        return NODE_EXIT_FAIL;
    }
    n->key_ids = malloc(n->g->n_validators * sizeof *n->key_ids);
    if (n->key_ids == NULL)
        return NODE_EXIT_FAIL;
    for (size_t i = 0; i < n->g->n_validators; i++)
        memcpy(n->key_ids[i], n->g->validators[i].key_id, 32);
    {
        /* Votes of the recent past are gone with the process; the
         * certificates are not. Resume the certified height from them. */
        dsuit_store_txn_t *t;
        uint64_t h = dsuit_ledger_height(n->ledger);
        if (dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t) ==
            DSUIT_OK) {
            for (uint64_t k = h; k >= 1; k--) {
                uint8_t key[8];
                const uint8_t *v;
                size_t vl;
                dsuit_store_u64_key(k, key);
                if (dsuit_store_get(t, DSUIT_TBL_CERTS, key, 8, &v, &vl) ==
                    DSUIT_OK) {
                    n->certified_height = k;
                    break;
                }
                if (h - k > 4096)
                    break;
            }
            dsuit_store_abort(t);
        }
    }
    return NODE_EXIT_OK;
}

int dsuit_node_run(const dsuit_node_opts_t *o)
{
    dsuit_node_t *n = calloc(1, sizeof *n);
    dsuit_consensus_peer_t peers[NODE_MAX_VALIDATORS];
    dsuit_consensus_opts_t co;
    dsuit_http_opts_t ho;
    char raft_dir[PATH_MAX + 8];
    int exit_code = NODE_EXIT_FAIL, rc;

    if (n == NULL)
        return NODE_EXIT_FAIL;
    n->lock_fd = -1;
    n->opts.log = o->log;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->gossip_cv, NULL);
    pthread_cond_init(&n->check_cv, NULL);
    pthread_rwlock_init(&n->mlog_lock, NULL);
    n->st.role = "unavailable";
    exit_code = node_open(n, o);
    if (exit_code != NODE_EXIT_OK)
        goto out;
    exit_code = NODE_EXIT_FAIL;

    if (uv_loop_init(&n->loop) != 0)
        goto out;
    uv_signal_init(&n->loop, &n->sigterm);
    uv_signal_init(&n->loop, &n->sigint);
    n->sigterm.data = n->sigint.data = n;
    uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    uv_signal_start(&n->sigint, on_signal, SIGINT);
    uv_timer_init(&n->loop, &n->tick);
    n->tick.data = n;
    uv_async_init(&n->loop, &n->wake, on_wake);
    n->wake.data = n;

    snprintf(raft_dir, sizeof raft_dir, "%s/raft", n->dir);
    mkdir(raft_dir, 0700);
    for (size_t i = 0; i < n->g->n_validators; i++) {
        peers[i].id = i + 1;
        snprintf(peers[i].address, sizeof peers[i].address, "%s:%u",
                 n->g->validators[i].host,
                 (unsigned)n->g->validators[i].raft_port);
    }
    memset(&co, 0, sizeof co);
    co.loop = &n->loop;
    co.dir = raft_dir;
    co.self_id = n->index + 1;
    co.peers = peers;
    co.n_peers = n->g->n_validators;
    co.election_timeout_ms = o->election_timeout_ms;
    co.heartbeat_ms = o->raft_heartbeat_ms;
    co.segment_size = o->raft_segment_size;
    co.fsm.arg = n;
    co.fsm.apply = fsm_apply;
    co.fsm.snapshot = fsm_snapshot;
    co.fsm.restore = fsm_restore;
    rc = dsuit_consensus_start(&co, &n->cons);
    if (rc != DSUIT_OK) {
        node_log(n, "error", "consensus", "cannot start reason=\"%s\"",
                 dsuit_strerror(rc));
        goto out_loop;
    }

    rc = dsuit_peer_guard_new(n->g->n_validators, 0, &n->guard);
    memset(&ho, 0, sizeof ho);
    ho.host = n->g->validators[n->index].host;
    ho.port = n->g->validators[n->index].http_port;
    /* Images arrive whole (PUT /v1/uploads): room for the largest the
     * policy allows. */
    /* Images are streamed (node_api_stream); the largest buffered body is
     * a transaction or a chunk pushed by a peer. */
    ho.max_body = NODE_MAX_TX_BYTES;
    if (n->g->policy.chunk_size + 65536 > ho.max_body)
        ho.max_body = (size_t)n->g->policy.chunk_size + 65536;
    ho.stream = node_api_stream;
    ho.timeout_s = 10;
    ho.per_ip_limit = o->http_per_ip; /* 0: the server's default */
    if (rc == DSUIT_OK)
        rc = dsuit_http_server_start(&ho, node_api_handle, n, &n->http);
    if (rc != DSUIT_OK) {
        node_log(n, "error", "http",
                 "cannot listen on %s:%u (is the port in use?) reason=\"%s\"",
                 ho.host, (unsigned)ho.port, dsuit_strerror(rc));
        n->stopping = 1;
        dsuit_consensus_stop(n->cons, on_consensus_stopped, n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        goto out_loop;
    }
    rc = node_devices_start(n);
    if (rc != DSUIT_OK) {
        n->stopping = 1;
        dsuit_consensus_stop(n->cons, on_consensus_stopped, n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        goto out_loop;
    }
    pthread_create(&n->gossip, NULL, gossip_main, n);
    node_checker_start(n);
    node_repair_start(n);
    uv_timer_start(&n->tick, on_tick, n->opts.block_interval_ms,
                   n->opts.block_interval_ms);
    node_log(n, "info", MODULE_NODE,
             "started validator=%s index=%llu height=%llu http=%s:%u raft=%s",
             n->g->validators[n->index].name, (unsigned long long)n->index,
             (unsigned long long)dsuit_ledger_height(n->ledger), ho.host,
             (unsigned)ho.port, peers[n->index].address);

    uv_run(&n->loop, UV_RUN_DEFAULT);
    exit_code = NODE_EXIT_OK;

    pthread_mutex_lock(&n->mu);
    n->gossip_stop = 1;
    pthread_cond_signal(&n->gossip_cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->gossip, NULL);
    node_checker_stop(n);
    node_repair_stop(n);
    node_log(n, "info", MODULE_NODE, "stopped height=%llu",
             (unsigned long long)dsuit_ledger_height(n->ledger));
out_loop:
    uv_loop_close(&n->loop);
out:
    dsuit_http_server_stop(n->http);
    node_devices_stop(n);
    dsuit_peer_guard_free(n->guard);
    dsuit_ledger_close(n->ledger);
    dsuit_chunks_close(n->chunks);
    free(n->key_ids);
    for (size_t i = 0; i < NODE_MAX_UPLOADS; i++) {
        free(n->uploads[i].envelope);
        for (size_t k = 0; k < DSUIT_TX_MAX_IMAGES; k++)
            free(n->uploads[i].chunks[k]);
    }
    dsuit_key_wipe(&n->key);
    for (size_t i = 0; i < n->n_pool; i++)
        free(n->pool[i].tx);
    free(n->pool);
    free(n->votes_in);
    free(n->evidence);
    while (n->outbox) {
        node_msg_t *m = n->outbox;
        n->outbox = m->next;
        free(m->body);
        free(m);
    }
    while (n->certs_in) {
        node_msg_t *m = n->certs_in;
        n->certs_in = m->next;
        free(m->body);
        free(m);
    }
    if (n->lock_fd >= 0)
        close(n->lock_fd);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->gossip_cv);
    pthread_cond_destroy(&n->check_cv);
    pthread_rwlock_destroy(&n->mlog_lock);
    free(n);
    return exit_code;
}
