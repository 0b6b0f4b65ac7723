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
#include "dsuit/chunk.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "net/http/peer_auth.h"
#include "net/http/server.h"
#include "node/node.h"

#define NODE_MAX_VALIDATORS DSUIT_GENESIS_MAX_VALIDATORS
#define NODE_VOTE_WINDOW    256   /* heights whose votes are kept */
#define NODE_POOL_MAX_TXS   20000 /* mempool bound, transactions */
#define NODE_POOL_MAX_BYTES (256u << 20)
#define NODE_MAX_TX_BYTES   (16u << 20)

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
    uint64_t height;  /* 0: empty slot */
    int applied;      /* this node applied a block at height */
    uint8_t hash[32]; /* ... whose hash is this */
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

/* An upload in progress (registration.c): the checked envelope and the
 * images still to come. */
#define NODE_MAX_UPLOADS 16
typedef struct {
    int used;
    int busy;    /* a PUT owns it: not expired, not shared [mu] */
    char id[33]; /* 16 random bytes in hex */
    uint64_t expires_ms;
    uint8_t *envelope;
    size_t envelope_len;
    dsuit_publish_check_t check;
    int have[DSUIT_TX_MAX_IMAGES];
    uint8_t (*chunks[DSUIT_TX_MAX_IMAGES])[32]; /* chunk digests per image */
    size_t n_chunks[DSUIT_TX_MAX_IMAGES];
} node_upload_t;

/* An image a block's publish names, for checking before the vote. */
typedef struct {
    uint8_t digest[32];
    uint64_t size, chunk_size;
    uint8_t (*chunks)[32];
    size_t n_chunks;
} node_image_t;

/* A block waiting for its images to be checked before this node votes
 * (validation.c). */
typedef struct node_check {
    struct node_check *next;
    uint64_t height;
    uint8_t hash[32];
    node_image_t *images;
    size_t n_images;
    int ok; /* result, set by the checker */
} node_check_t;

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
    uint64_t tx_results[16];  /* by result code */
    uint64_t chunks_known;    /* chunks of published images (repair.c) */
    uint64_t chunks_under;    /* ... placed on a validator now unreachable */
    uint64_t chunks_repaired; /* copies made by repair */
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
    int proposing; /* a block of ours is in flight */
    uint64_t last_block_ms;
    unsigned ticks;

    /* The ledger's manifest log tree is appended to by the loop (apply,
     * propose) and read by HTTP threads (proofs): writers hold this for
     * writing, proof generation for reading. */
    pthread_rwlock_t mlog_lock;

    node_slot_t slots[NODE_VOTE_WINDOW];
    uint64_t certified_height;

    pthread_mutex_t mu;
    node_tx_t *pool;                     /* [mu] */
    size_t n_pool, cap_pool, pool_bytes; /* [mu] */
    node_vote_in_t *votes_in;            /* [mu] */
    size_t n_votes_in, cap_votes_in;     /* [mu] */
    node_evidence_t *evidence;           /* [mu] */
    size_t n_evidence, cap_evidence;     /* [mu] */
    node_status_t st;                    /* [mu] */

    pthread_t gossip;
    pthread_cond_t gossip_cv;
    node_msg_t *outbox; /* [mu] */
    int gossip_stop;    /* [mu] */

    dsuit_http_server_t *http;
    dsuit_peer_guard_t *guard;

    dsuit_chunks_t *chunks;
    struct node_devices *dev; /* device service (device.c) */
    uint8_t (*key_ids)[32]; /* validators' key ids, genesis order */
    node_upload_t uploads[NODE_MAX_UPLOADS]; /* [mu] */

    /* Image checks before voting (validation.c): the loop queues blocks,
     * the checker thread answers in `checked`, the loop votes. */
    uint64_t peer_seen_ms[NODE_MAX_VALIDATORS]; /* [mu] last vote received */
    pthread_t repairer, certfiller;
    int certfill_started;
    int repair_stop; /* [mu] */
    node_msg_t *certs_in; /* [mu] fetched certificates for the loop: path
                           * holds the height, body the certificate */
    int quitting;    /* [mu] set before the HTTP server stops: handlers
                      * that wait or retry give up */

    pthread_t checker;
    pthread_cond_t check_cv;
    node_check_t *to_check; /* [mu] */
    node_check_t *checked;  /* [mu] */
    int checker_stop;       /* [mu] */
} dsuit_node_t;

/** Log one event: time, level, module, message, key=value details. */
void node_log(dsuit_node_t *n, const char *level, const char *module,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** From any thread: queue a transaction (copied) for the next block.
 * Errors: DSUIT_E_LIMIT (mempool full), DSUIT_E_EXISTS (already pending),
 * DSUIT_E_NOMEM. */
int node_submit(dsuit_node_t *n, const uint8_t *tx, size_t len,
                const uint8_t id[32]);

/**
 * From any thread but the loop: queue tx here if this node leads, else
 * forward it to the leader (POST /internal/v1/tx, signed). Never through
 * this node's own HTTP server, whose threads may all be busy with the
 * requests waiting for this.
 * @param[out] status  the leader's HTTP status, or 0 (queued here, or not
 *                     reached); body/blen its answer (caller frees)
 * Errors: DSUIT_E_AGAIN (no leader known, or it did not answer or said
 * 5xx: may succeed later), DSUIT_E_INVAL (the leader refused it: 4xx),
 * DSUIT_E_LIMIT (this node's mempool is full), DSUIT_E_CRYPTO.
 */
int node_tx_to_leader(dsuit_node_t *n, const uint8_t *tx, size_t len,
                      const uint8_t id[32], long *status, uint8_t **body,
                      size_t *blen);

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
/* The server's stream callback: routes whose bodies are not buffered
 * (PUT /v1/uploads/...). */
dsuit_http_sink_t *node_api_stream(void *arg, const dsuit_http_request_t *req,
                                   dsuit_http_response_t *resp);

/* ---- registration.c: the publish flow ----------------------------------- */

/** POST /v1/publish: check the envelope, open an upload. */
void node_publish_begin(dsuit_node_t *n, const dsuit_http_request_t *req,
                        dsuit_http_response_t *r);
/** PUT /v1/uploads/{id}/{image}: take an image, place its chunks, and
 * submit the publish once every image is in. */
/* PUT /v1/uploads/{rest}: the HTTP server's stream callback for it
 * (registration.c); a sink, or NULL with r filled. */
dsuit_http_sink_t *node_publish_stream(dsuit_node_t *n, const char *rest,
                                       const dsuit_http_request_t *req,
                                       dsuit_http_response_t *r);
/** Drop uploads older than their deadline. */
void node_uploads_expire(dsuit_node_t *n, uint64_t now_ms);

/* ---- retrieval.c: chunks between nodes, whole images -------------------- */

/** Read a chunk, locally or from the validators that hold it (rendezvous
 * order), checking its hash; a good copy fetched from a peer is kept if
 * this node is one of its holders. out is malloc'd.
 * Errors: DSUIT_E_NOTFOUND (no holder has a good copy), DSUIT_E_NOMEM. */
int node_chunk_fetch(dsuit_node_t *n, const uint8_t digest[32],
                     uint64_t max_len, uint8_t **out, size_t *out_len);

/** Send a chunk to validator i (PUT /internal/v1/chunks/{digest}, signed).
 * Errors: DSUIT_E_IO (no answer or refused). */
int node_chunk_push(dsuit_node_t *n, size_t i, const uint8_t digest[32],
                    const uint8_t *data, size_t len);

/** Is validator i among the holders of this chunk? */
int node_holds(const dsuit_node_t *n, const uint8_t digest[32], size_t i);

/** GET/PUT /internal/v1/chunks/{digest} (already authenticated). */
void node_chunk_route(dsuit_node_t *n, const char *hexdigest,
                      const dsuit_http_request_t *req,
                      dsuit_http_response_t *r);

/** GET /v1/images/{digest}: the whole image, assembled and verified. */
void node_image_get(dsuit_node_t *n, const char *hexdigest,
                    const dsuit_http_request_t *req, dsuit_http_response_t *r);

/** Open the verified image (cached, or assembled from the chunk store and
 * checked against its digest before this returns). With vendor and klass
 * set, only an image of a manifest of that vendor and class is served:
 * another one gets 403. Returns an open descriptor of a file whose first
 * *size bytes are the image, or -1 with r filled (400/403/404/500/503). */
int node_image_open(dsuit_node_t *n, const uint8_t want[32],
                    const uint8_t *vendor, const uint8_t *klass,
                    uint64_t *size, dsuit_http_response_t *r);

/** GET /v1/store: chunks held, bytes. */
void node_store_status(dsuit_node_t *n, dsuit_http_response_t *r);

/** GET /v1/proof/{manifest digest} (api.c): the LedgerProof (CBOR), or an
 * error: 400, 404, 409 (not certified yet), 500. */
void node_proof_get(dsuit_node_t *n, const char *hexdigest,
                    dsuit_http_response_t *r);

/* ---- validation.c: checking images before voting ------------------------ */

/** Start and stop the checker thread. */
int node_checker_start(dsuit_node_t *n);
void node_checker_stop(dsuit_node_t *n);

/** Having applied a block: if it holds applied publishes, queue their
 * images for checking and return 1 (the vote waits); else return 0. */
int node_check_block(dsuit_node_t *n, const dsuit_block_t *b);

/** Loop thread: collect finished checks; `vote` is called for each block
 * whose images all check out. */
void node_checks_drain(dsuit_node_t *n,
                       void (*vote)(dsuit_node_t *n, uint64_t height,
                                    const uint8_t hash[32]));

/* ---- device.c: the device service (CoAP/DTLS) -------------------------- */

typedef struct node_devices node_devices_t;
/** Start the CoAP server on this validator's coap_port. Errors: DSUIT_E_IO
 * (cannot bind), DSUIT_E_NOMEM, key errors. */
int node_devices_start(dsuit_node_t *n);
void node_devices_stop(dsuit_node_t *n);
/** Loop thread, after the certified height moved: serve the newly
 * certified manifests and notify their observers. */
void node_devices_certified(dsuit_node_t *n);
/** /v1/device/{path}: the device resources over HTTP, authenticated by a
 * request token (device_token.h); path is the CoAP path ("/fw/..."). */
void node_device_http(dsuit_node_t *n, const char *path,
                      const dsuit_http_request_t *req,
                      dsuit_http_response_t *r);
/* A device's report (POST /fw/report, docs/protocols.md):
 * {1: installed seq, ? 2: manifest digest, 3: result, ? 4: SUIT_Report},
 * deterministic CBOR, keys in order. Pointers into the buffer. */
#define NODE_REPORT_RESULT_MAX 256  /* result text, bytes */
#define NODE_REPORT_SUIT_MAX   4096 /* SUIT_Report bytes kept */
typedef struct {
    uint64_t seq;
    const uint8_t *digest; /* 32 bytes, or NULL */
    const char *result;
    size_t result_len;
    const uint8_t *report; /* or NULL */
    size_t report_len;
} node_report_t;
/** Errors: DSUIT_E_INVAL (shape), DSUIT_E_LIMIT, CBOR errors. */
int node_report_decode(const uint8_t *p, size_t len, node_report_t *out);

/** GET /v1/devices: the devices that reported to this node (JSON). */
void node_devices_list(dsuit_node_t *n, dsuit_http_response_t *r);

/* ---- repair.c: keeping R copies of every chunk ------------------------- */

int node_repair_start(dsuit_node_t *n);
void node_repair_stop(dsuit_node_t *n);
/** Loop thread: store the certificates the repair thread fetched. */
void node_certs_drain(dsuit_node_t *n);
/** Has validator i been heard from lately (always true for this node)? */
int node_peer_reachable(dsuit_node_t *n, size_t i, uint64_t now);

/* ---- helpers shared by the route files ---------------------------------- */
uint64_t node_now_ms(void);

/* Read or write exactly len bytes of fd at off (pread/pwrite, EINTR
 * retried). Errors: DSUIT_E_IO (errno set; a short file reads as EIO). */
int node_read_at(int fd, void *buf, size_t len, uint64_t off);
int node_write_at(int fd, const void *buf, size_t len, uint64_t off);

/* Replace the file at path with len bytes, never leaving half of it: a new
 * temporary file beside it (mkstemp: mode 0600, our own), written, fsync'd
 * and renamed over path. Errors: DSUIT_E_IO (errno set). */
int node_replace_file(const char *path, const void *p, size_t len);

/* 1 once the node has begun to stop: handlers that wait or retry give up
 * (any thread). */
int node_quitting(dsuit_node_t *n);
void node_hex(const uint8_t *p, size_t n, char *out);
/* UUIDs as text: 32 hex digits, hyphens anywhere ignored (parse) and the
 * 8-4-4-4-12 form (text). */
int node_uuid_parse(const char *s, uint8_t out[16]);
void node_uuid_text(const uint8_t u[16], char out[37]);
int node_unhex(const char *s, uint8_t *out, size_t n);

#endif /* DSUIT_NODE_INT_H */
