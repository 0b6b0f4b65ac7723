/*
 * Private to the node (node.c, api.c): the node object and the functions
 * the HTTP routes use to reach the loop.
 *
 * Threads (ARCHITECTURE.md, "Process model"):
 *   loop thread   owns consensus and every ledger write (blocks,
 *                 certificates), the proposer and the vote store
 *   HTTP threads  read the ledger through LMDB read transactions; hand
 *                 submitted transactions and received votes to the loop
 *                 through mu-protected queues and uv_async_send(wake)
 *   gossip thread sends this node's votes to its peers (blocking HTTP)
 * Fields marked [mu] are shared and read or written only under mu; the
 * rest belong to the loop thread.
 */
#ifndef DSUIT_NODE_INT_H
#define DSUIT_NODE_INT_H

#include <limits.h>
#include <pthread.h>
#include <uv.h>

#include "consensus/consensus.h"
#include "dsuit/cert.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "net/http/peer_auth.h"
#include "net/http/server.h"
#include "node/node.h"

#define NODE_MAX_VALIDATORS  DSUIT_GENESIS_MAX_VALIDATORS
#define NODE_VOTE_WINDOW     256       /* heights whose votes are kept */
#define NODE_POOL_MAX_TXS    20000     /* mempool bound, transactions */
#define NODE_POOL_MAX_BYTES  (256u << 20)
#define NODE_MAX_TX_BYTES    (16u << 20)

typedef struct {
    uint8_t *tx;
    size_t len;
    uint8_t id[32];
} node_tx_t;

/* One validator's vote at one height. */
typedef struct {
    int have;
    uint8_t hash[32];
    uint8_t sig[DSUIT_SIG_LEN];
    size_t sig_len;
} node_vote_t;

/* Votes for one height (slot height % NODE_VOTE_WINDOW). */
typedef struct {
    uint64_t height;      /* 0: empty slot */
    int applied;          /* this node applied a block at height */
    uint8_t hash[32];     /* ... whose hash is this */
    int certified;
    node_vote_t votes[NODE_MAX_VALIDATORS];
} node_slot_t;

/* A vote arriving over HTTP, queued for the loop. */
typedef struct {
    uint64_t height, index;
    uint8_t hash[32];
    uint8_t sig[DSUIT_SIG_LEN];
    size_t sig_len;
} node_vote_in_t;

/* Two votes by one validator for different blocks at one height. */
typedef struct {
    uint64_t height, index;
    uint8_t hash_a[32], hash_b[32];
    uint8_t sig_a[DSUIT_SIG_LEN], sig_b[DSUIT_SIG_LEN];
} node_evidence_t;

/* Outgoing message for the gossip thread. */
typedef struct node_msg {
    struct node_msg *next;
    char path[64];
    uint8_t *body;
    size_t len;
} node_msg_t;

/* What /v1/status shows, refreshed by the loop [mu]. */
typedef struct {
    const char *role;
    uint64_t leader; /* validator index + 1, 0 if none */
    uint64_t term;
    uint64_t height;
    uint64_t certified;
    uint64_t peer_height[NODE_MAX_VALIDATORS]; /* from their votes */
    uint64_t blocks_applied, blocks_rejected;
    uint64_t tx_results[16]; /* by result code */
} node_status_t;

typedef struct dsuit_node {
    dsuit_node_opts_t opts;
    char dir[PATH_MAX];
    int lock_fd;
    dsuit_key_t key;
    uint64_t index; /* this validator's index in genesis */
    dsuit_ledger_t *ledger;
    const dsuit_genesis_t *g;

    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    uv_timer_t tick;
    uv_async_t wake;
    dsuit_consensus_t *cons;
    int stopping;
    int proposing;        /* a block of ours is in flight */
    uint64_t last_block_ms;

    /* The ledger's manifest log tree is appended to by the loop (apply,
     * propose) and read by HTTP threads (proofs): writers hold this for
     * writing, proof generation for reading. */
    pthread_rwlock_t mlog_lock;

    node_slot_t slots[NODE_VOTE_WINDOW];
    uint64_t certified_height;

    pthread_mutex_t mu;
    node_tx_t *pool;      /* [mu] */
    size_t n_pool, cap_pool, pool_bytes; /* [mu] */
    node_vote_in_t *votes_in; /* [mu] */
    size_t n_votes_in, cap_votes_in; /* [mu] */
    node_evidence_t *evidence; /* [mu] */
    size_t n_evidence, cap_evidence; /* [mu] */
    node_status_t st;     /* [mu] */

    pthread_t gossip;
    pthread_cond_t gossip_cv;
    node_msg_t *outbox;   /* [mu] */
    int gossip_stop;      /* [mu] */

    dsuit_http_server_t *http;
    dsuit_peer_guard_t *guard;
} dsuit_node_t;

/** Log one event: time, level, module, message, key=value details. */
void node_log(dsuit_node_t *n, const char *level, const char *module,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** From any thread: queue a transaction (copied) for the next block.
 * Errors: DSUIT_E_LIMIT (mempool full), DSUIT_E_EXISTS (already pending),
 * DSUIT_E_NOMEM. */
int node_submit(dsuit_node_t *n, const uint8_t *tx, size_t len,
                const uint8_t id[32]);

/** From any thread: is a tx with this id waiting in the mempool? */
int node_pending(dsuit_node_t *n, const uint8_t id[32]);

/** From any thread: queue a peer's vote for the loop. */
int node_vote_in(dsuit_node_t *n, const node_vote_in_t *v);

/** From any thread: copy the status. */
void node_status(dsuit_node_t *n, node_status_t *out);

/** Base URL of validator i's HTTP API ("http://host:port"). */
void node_peer_url(const dsuit_node_t *n, size_t i, char *out, size_t cap);

/* HTTP routes (api.c). */
void node_api_handle(void *arg, const dsuit_http_request_t *req,
                     dsuit_http_response_t *resp);

#endif /* DSUIT_NODE_INT_H */
