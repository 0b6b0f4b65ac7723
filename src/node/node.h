/*
 * The dsuit node daemon: one process holding a full ledger replica and the
 * roles of the draft (registration, validation, retrieval) over a libuv
 * loop. Node side, private to the program.
 *
 * Data folder (made by `dsuit node init`):
 *   genesis.cbor   the chain
 *   node.key       this validator's private key (PEM, mode 0600)
 *   ledger/        LMDB: blocks, state, certificates (store.h)
 *   raft/          the consensus log (kept apart from LMDB)
 *   lock           held (flock) while a node runs: one node per folder
 */
#ifndef DSUIT_NODE_H
#define DSUIT_NODE_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *data_dir;
    unsigned election_timeout_ms; /* 0: 1000 */
    unsigned raft_heartbeat_ms;   /* 0: 100 */
    unsigned block_interval_ms;   /* batching window; 0: 100 */
    unsigned block_max_txs;       /* 0: 1000 */
    size_t raft_segment_size;     /* 0: 8 MiB */
    unsigned http_per_ip; /* HTTP connections per client address; 0: 32 */
    uint16_t coap_plain_port; /* unauthenticated CoAP; 0: off (default) */
    int no_sync;          /* tests only: LMDB without fsync */
    FILE *log;            /* event log; NULL: stderr */
} dsuit_node_opts_t;

/**
 * Run the node until SIGTERM or SIGINT, then stop cleanly (stop accepting,
 * drain, close consensus, close the ledger). Returns 0 after a clean stop,
 * 1 when it could not start (the reason is logged first).
 */
int dsuit_node_run(const dsuit_node_opts_t *o);

#endif /* DSUIT_NODE_H */
