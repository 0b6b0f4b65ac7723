/*
 * Block ordering behind one small interface, so that another consensus
 * engine could replace libraft (Debian's 0.15 is frozen) without touching
 * the node. Node side, private to the node (not an installed header).
 *
 * Contract: every node's fsm.apply sees the same committed entries in the
 * same order; apply must be deterministic (it is the ledger's block
 * application). Every call here, and every callback, happens on the loop
 * thread; other threads hand work to the loop (uv_async_send).
 *
 * Entries on the wire and on disk are framed as [8-byte LE length][bytes]
 * [zero padding to 8], so libraft's 8-byte alignment of entry buffers never
 * changes what the FSM sees.
 */
#ifndef DSUIT_CONSENSUS_H
#define DSUIT_CONSENSUS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "dsuit/error.h"

typedef struct dsuit_consensus dsuit_consensus_t;

typedef struct {
    uint64_t id;          /* >= 1, unique among peers */
    char address[300];    /* "host:port" the peer's consensus listens on */
} dsuit_consensus_peer_t;

/* The replicated state machine. */
typedef struct {
    void *arg;
    /* One committed entry, in log order, on every node, also while the log
     * is replayed at start. A non-zero return is reported to the proposer
     * (on the proposing node) but the log goes on. */
    int (*apply)(void *arg, const uint8_t *entry, size_t len);
    /* The whole state as one malloc'd buffer (ownership passes), for
     * compacting the log and for catching up nodes far behind. */
    int (*snapshot)(void *arg, uint8_t **out, size_t *out_len);
    /* Bring the state up to a snapshot. buf is borrowed. */
    int (*restore)(void *arg, const uint8_t *buf, size_t len);
} dsuit_consensus_fsm_t;

typedef struct {
    uv_loop_t *loop;
    const char *dir;               /* consensus log folder; must exist */
    uint64_t self_id;
    const dsuit_consensus_peer_t *peers; /* every voter, self included */
    size_t n_peers;
    unsigned election_timeout_ms;  /* 0: 1000 */
    unsigned heartbeat_ms;         /* 0: 100 */
    size_t segment_size;           /* 0: libraft's default (8 MiB) */
    unsigned snapshot_threshold;   /* entries between snapshots; 0: 1024 */
    dsuit_consensus_fsm_t fsm;
} dsuit_consensus_opts_t;

/**
 * Create, bootstrap (first start only) and start the engine on o->loop.
 * Errors: DSUIT_E_INVAL, DSUIT_E_NOMEM, DSUIT_E_IO (log folder, address in
 * use), DSUIT_E_STORE (the log is damaged).
 */
int dsuit_consensus_start(const dsuit_consensus_opts_t *o,
                          dsuit_consensus_t **out);

/* Called once the entry was applied on this node (status DSUIT_OK or the
 * apply callback's error), or when it cannot be (leadership lost:
 * DSUIT_E_NOTLEADER; shutting down: DSUIT_E_IO). */
typedef void (*dsuit_consensus_done_fn)(void *arg, int status);

/**
 * Propose an entry (copied). Only the leader may.
 * @param[in] done  may be NULL
 * Errors: DSUIT_E_NOTLEADER, DSUIT_E_NOMEM, DSUIT_E_IO. On error done is
 * never called.
 */
int dsuit_consensus_propose(dsuit_consensus_t *c, const uint8_t *entry,
                            size_t len, dsuit_consensus_done_fn done,
                            void *arg);

int dsuit_consensus_is_leader(const dsuit_consensus_t *c);
/** The leader's id (0 if none known) and, if address is not NULL, its
 * address (borrowed until the next loop iteration). */
uint64_t dsuit_consensus_leader(dsuit_consensus_t *c, const char **address);
uint64_t dsuit_consensus_term(const dsuit_consensus_t *c);
/** "leader", "follower", "candidate" or "unavailable". */
const char *dsuit_consensus_role(const dsuit_consensus_t *c);
/** Index of the last entry applied on this node. */
uint64_t dsuit_consensus_applied(dsuit_consensus_t *c);

/**
 * Stop: closes the engine and its transport; `cb` runs on the loop once
 * everything is closed, after which the object is freed. Pending proposals
 * complete with DSUIT_E_IO. NULL does nothing.
 */
void dsuit_consensus_stop(dsuit_consensus_t *c, void (*cb)(void *arg),
                          void *arg);

#endif /* DSUIT_CONSENSUS_H */
