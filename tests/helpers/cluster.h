/*
 * Test harness for system tests of the replicated node: a cluster of real
 * `dsuit node run` processes on 127.0.0.1, driven over their HTTP API
 * (docs/api.md). Used by tests/system/test_cluster.c and test_publish.c.
 *
 * A cluster lives in a fresh folder under $TMPDIR (else /tmp): one key
 * file per validator, the genesis, and one data folder per node made by
 * `$DSUIT_BIN node init`. Nodes are started with fork+exec of $DSUIT_BIN
 * and only the pids started here are ever signalled. Each child asks the
 * kernel to kill it when the test process dies (PR_SET_PDEATHSIG), so a
 * crashed or timed-out test leaves no node behind.
 *
 * Functions that set the cluster up fail the running cmocka test on any
 * error; query functions return a status instead so tests can poll.
 * cl_destroy() is safe on a partly made cluster and from a teardown.
 */
#ifndef DSUIT_TEST_CLUSTER_H
#define DSUIT_TEST_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dsuit/crypto.h"
#include "dsuit/genesis.h"

#define CL_MAX_NODES      8
#define CL_MAX_REGISTRARS 4

typedef struct {
    char root[256];                /* the cluster's temp folder */
    const char *bin;               /* $DSUIT_BIN */
    size_t n;                      /* validators */
    dsuit_key_t val[CL_MAX_NODES]; /* validator private keys */
    dsuit_key_t reg;               /* the only registrar (threshold 1) */
    uint8_t genesis[16384];
    size_t genesis_len;
    dsuit_genesis_t *g;           /* decoded genesis */
    char data[CL_MAX_NODES][300]; /* node data folders */
    char base[CL_MAX_NODES][64];  /* "http://127.0.0.1:port" */
    pid_t pid[CL_MAX_NODES];      /* 0: not running */
    uint64_t nonce;
    int keep; /* keep root on destroy (set on failure) */
    /* Registrars beyond the first (cl_create_opts with registrars > 1). */
    dsuit_key_t reg_more[CL_MAX_REGISTRARS - 1];
    size_t n_reg; /* registrars in the genesis, reg first */
} cl_t;

/* Genesis choices for cl_create_opts(); 0 means the default. */
typedef struct {
    size_t registrars;       /* registrars (default 1) */
    uint64_t threshold;      /* registrar signatures needed (default 1) */
    uint64_t max_image_size; /* policy (default DSUIT_POLICY_MAX_IMAGE_SIZE) */
    uint64_t chunk_size;     /* policy (default DSUIT_POLICY_CHUNK_SIZE) */
    uint64_t replicas;       /* policy (default DSUIT_POLICY_REPLICAS) */
} cl_opts_t;

/* A node's GET /v1/store. */
typedef struct {
    uint64_t chunks, bytes, replicas;
    uint64_t published, under, repaired;
} cl_store_t;

/* A node's /v1/status, the fields tests use. */
typedef struct {
    char role[16];
    char leader[64];  /* "" if none */
    int leader_index; /* -1 if none */
    uint64_t term, height, certified;
    uint64_t applied, rejected;
} cl_status_t;

/* GET /v1/tx/{id} */
typedef enum {
    CL_TX_ERROR = -1,  /* no answer */
    CL_TX_UNKNOWN = 0, /* 404 */
    CL_TX_PENDING,
    CL_TX_COMMITTED,
    CL_TX_CERTIFIED,
    CL_TX_INVALID
} cl_tx_state_t;

/** Milliseconds of a monotonic clock. */
uint64_t cl_now_ms(void);
/** Unix time in milliseconds (for peer signatures). */
uint64_t cl_wall_ms(void);
void cl_sleep_ms(unsigned ms);

/**
 * Make n validator keys (P-256 and Ed25519 alternating) and a registrar,
 * a genesis on free 127.0.0.1 ports with this heartbeat, and each node's
 * data folder with `dsuit node init`. Starts nothing.
 */
void cl_create(cl_t *cl, size_t n, uint64_t heartbeat_ms);

/**
 * cl_create() with genesis choices (opts may be NULL: the defaults).
 * Every registrar's private key is also written as a PEM file (see
 * cl_registrar_key_file), for `dsuit author --registrar-key`.
 */
void cl_create_opts(cl_t *cl, size_t n, uint64_t heartbeat_ms,
                    const cl_opts_t *opts);

/** Path of the genesis file, ROOT/genesis.cbor. */
void cl_genesis_file(const cl_t *cl, char *out, size_t cap);

/** Path of registrar k's private key (PEM), ROOT/registrarK.key. */
void cl_registrar_key_file(const cl_t *cl, size_t k, char *out, size_t cap);

/** Stop every node this cluster started, then remove its folder unless
 * cl->keep (the path is printed then). NULL or a zeroed cl: nothing. */
void cl_destroy(cl_t *cl);

/** cmocka per-test setup: *state = a zeroed cl_t (calloc). */
int cl_setup(void **state);

/** cmocka per-test teardown: cl_destroy() then free. Runs after a failed
 * test too: stops exactly the nodes the test started. */
int cl_teardown(void **state);

/** fork+exec `dsuit node run` for node i (log in its data folder). */
void cl_start(cl_t *cl, size_t i);
void cl_start_all(cl_t *cl);

/** SIGTERM, wait up to wait_ms, then SIGKILL. Returns the exit code (0 for
 * a clean stop), 128+signal if it died of a signal, -1 if not running. */
int cl_stop(cl_t *cl, size_t i, unsigned wait_ms);

/** kill -9 node i and reap it. */
void cl_kill9(cl_t *cl, size_t i);

/** Has node i exited on its own? Reaps it (pid becomes 0) and returns 1. */
int cl_exited(cl_t *cl, size_t i, int *out_status);

/**
 * One HTTP request to node i. body_out (NUL-terminated, caller frees) may
 * be NULL. Returns the HTTP status, or -1 when the node does not answer.
 */
long cl_http(const cl_t *cl, size_t i, const char *method, const char *path,
             const char *const *headers, const uint8_t *body, size_t len,
             uint8_t **body_out, size_t *len_out);

/** cl_http() with its own timeout and largest accepted response body. */
long cl_http_ex(const cl_t *cl, size_t i, const char *method, const char *path,
                const char *const *headers, const uint8_t *body, size_t len,
                unsigned timeout_ms, size_t max_response, uint8_t **body_out,
                size_t *len_out);

/** GET /v1/store. Returns 0, or -1 when there is no (valid) answer. */
int cl_store(const cl_t *cl, size_t i, cl_store_t *out);

/** Path of node i's file for a chunk, DATA/chunks/ab/cd/<64 hex>.
 * Returns 1 if the file exists, else 0. */
int cl_chunk_file(const cl_t *cl, size_t i, const uint8_t digest[32], char *out,
                  size_t cap);

/** Chunk files in node i's store on disk (not the temporary ones). */
size_t cl_chunk_files(const cl_t *cl, size_t i);

/** GET /v1/status. Returns 0, or -1 when there is no (valid) answer. */
int cl_status(const cl_t *cl, size_t i, cl_status_t *out);

/**
 * Wait until a running node says it is the leader in a term > min_term and
 * a majority of all validators (running ones, itself included) name it as
 * leader. Polls at least once (timeout 0: one look). Returns its index,
 * -1 on timeout.
 */
int cl_wait_leader(const cl_t *cl, uint64_t min_term, unsigned timeout_ms,
                   uint64_t *out_term);

/** A register-author transaction for a fresh key, signed by the
 * registrar. Returns its length; its id goes to id (32 bytes). */
size_t cl_tx_register(cl_t *cl, uint8_t *out, size_t cap, uint8_t id[32]);

/** POST /v1/tx to node i. Returns the HTTP status or -1. */
long cl_submit(const cl_t *cl, size_t i, const uint8_t *tx, size_t len);

/** GET /v1/tx/{id} on node i; height and index when committed. */
cl_tx_state_t cl_tx_state(const cl_t *cl, size_t i, const uint8_t id[32],
                          uint64_t *height, uint64_t *index);

/** Wait until node i reports the tx committed or certified. Returns 1 (and
 * height, index), 0 on timeout. */
int cl_wait_tx(const cl_t *cl, size_t i, const uint8_t id[32],
               unsigned timeout_ms, uint64_t *height, uint64_t *index);

/** Node i's height from /v1/status, or -1. */
int64_t cl_height(const cl_t *cl, size_t i);

/** GET /v1/blocks/{h}: hash and state root as 64 hex digits. Returns 0, or
 * -1 if absent. */
int cl_block(const cl_t *cl, size_t i, uint64_t h, char hash[65],
             char state_root[65]);

/** Wait until every running node is at least at height h. Returns 1, or 0
 * on timeout. */
int cl_wait_height(const cl_t *cl, uint64_t h, unsigned timeout_ms);

/** Highest height any running node reports. */
uint64_t cl_max_height(const cl_t *cl);

/** Run $DSUIT_BIN with args (NULL-terminated, without the program),
 * stdout and stderr into out (NUL-terminated, truncated). Returns the
 * exit code, or -1. */
int cl_run_cli(const cl_t *cl, const char *const *args, char *out, size_t cap);

/** 64 lower-case hex digits. */
void cl_hex(const uint8_t *p, size_t n, char *out);

#endif /* DSUIT_TEST_CLUSTER_H */
