/*
 * The consensus interface (consensus.h) on Debian's libraft 0.15 with its
 * libuv I/O backend and TCP transport. Crash-fault tolerant ordering: a
 * majority of voters must be up to commit. Safety against a lying node is
 * not Raft's job here: every node validates every block it applies
 * (ledger.c) and certifies it separately.
 *
 * libraft facts this file handles:
 *   - libuv does not ignore SIGPIPE, and a peer that dies mid-write would
 *     kill the process: start() ignores it if it is at its default;
 *   - entry buffers must come from raft_malloc and become libraft's;
 *   - the FSM's apply result reaches the proposer through a void *: the
 *     apply callback's int status is carried in it;
 *   - every raft call belongs on the loop thread;
 *   - shutdown is asynchronous: raft_close's callback comes once the I/O
 *     backend is closed, after which raft_uv_close / raft_uv_tcp_close
 *     release memory.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>
#include <raft/uv.h>

#include "consensus/consensus.h"

struct dsuit_consensus {
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    struct raft_fsm fsm;
    dsuit_consensus_fsm_t user;
    char address[300];
    void (*stop_cb)(void *arg);
    void *stop_arg;
};

static void closed(struct raft *r);

typedef struct {
    struct raft_apply req;
    dsuit_consensus_done_fn done;
    void *arg;
} propose_t;

/* [8-byte LE length][bytes][zero padding to a multiple of 8] */
static size_t framed_len(size_t len)
{
    return 8 + ((len + 7) & ~(size_t)7);
}

static int unframe(const struct raft_buffer *buf, const uint8_t **out,
                   size_t *out_len)
{
    const uint8_t *p = buf->base;
    uint64_t n = 0;
    if (buf->len < 8)
        return DSUIT_E_INVAL;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | p[i];
    if (n > buf->len - 8)
        return DSUIT_E_INVAL;
    *out = p + 8;
    *out_len = (size_t)n;
    return DSUIT_OK;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
                     void **result)
{
    dsuit_consensus_t *c = fsm->data;
    const uint8_t *entry;
    size_t len;
    int rc = unframe(buf, &entry, &len);
    if (rc == DSUIT_OK)
        rc = c->user.apply(c->user.arg, entry, len);
    /* The status travels to the proposer in the result pointer. Raft
     * itself is told all is well: the log must go on whatever one entry
     * did (the FSM is deterministic, so every node agrees). */
    *result = (void *)(intptr_t)rc;
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                        unsigned *n_bufs)
{
    dsuit_consensus_t *c = fsm->data;
    uint8_t *state = NULL;
    size_t len = 0;
    int rc = c->user.snapshot(c->user.arg, &state, &len);
    if (rc != DSUIT_OK)
        return RAFT_IOERR;
    *bufs = raft_malloc(sizeof **bufs);
    if (*bufs == NULL) {
        free(state);
        return RAFT_NOMEM;
    }
    (*bufs)[0].len = len;
    (*bufs)[0].base = raft_malloc(len ? len : 1);
    if ((*bufs)[0].base == NULL) {
        raft_free(*bufs);
        free(state);
        return RAFT_NOMEM;
    }
    if (len)
        memcpy((*bufs)[0].base, state, len);
    free(state);
    *n_bufs = 1;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    dsuit_consensus_t *c = fsm->data;
    int rc = c->user.restore(c->user.arg, buf->base, buf->len);
    raft_free(buf->base); /* restore owns the snapshot's memory */
    return rc == DSUIT_OK ? 0 : RAFT_MALFORMED;
}

static int map_raft(int rv)
{
    switch (rv) {
    case 0:
        return DSUIT_OK;
    case RAFT_NOMEM:
        return DSUIT_E_NOMEM;
    case RAFT_NOTLEADER:
    case RAFT_LEADERSHIPLOST:
        return DSUIT_E_NOTLEADER;
    case RAFT_CORRUPT:
        return DSUIT_E_STORE;
    default:
        return DSUIT_E_IO;
    }
}

int dsuit_consensus_start(const dsuit_consensus_opts_t *o,
                          dsuit_consensus_t **out)
{
    struct raft_configuration conf;
    dsuit_consensus_t *c;
    const char *self = NULL;
    int rv, stage = 0;
    struct sigaction sa;

    if (o == NULL || out == NULL || o->loop == NULL || o->dir == NULL ||
        o->peers == NULL || o->n_peers == 0 || o->fsm.apply == NULL ||
        o->fsm.snapshot == NULL || o->fsm.restore == NULL)
        return DSUIT_E_INVAL;
    for (size_t i = 0; i < o->n_peers; i++) {
        if (o->peers[i].id == o->self_id)
            self = o->peers[i].address;
    }
    if (self == NULL)
        return DSUIT_E_INVAL;

    /* A peer dying mid-write must not kill this process (libuv leaves
     * SIGPIPE at its default, which terminates). Only the default is
     * replaced: a handler the program installed stays. */
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);

    c = calloc(1, sizeof *c);
    if (c == NULL)
        return DSUIT_E_NOMEM;
    c->user = o->fsm;
    strncpy(c->address, self, sizeof c->address - 1);
    c->fsm.version = 1;
    c->fsm.data = c;
    c->fsm.apply = fsm_apply;
    c->fsm.snapshot = fsm_snapshot;
    c->fsm.restore = fsm_restore;

    rv = raft_uv_tcp_init(&c->transport, o->loop);
    if (rv != 0)
        goto fail;
    stage = 1;
    rv = raft_uv_init(&c->io, o->loop, o->dir, &c->transport);
    if (rv != 0)
        goto fail;
    stage = 2;
    if (o->segment_size)
        raft_uv_set_segment_size(&c->io, o->segment_size);
    rv = raft_init(&c->raft, &c->io, &c->fsm, o->self_id, c->address);
    if (rv != 0)
        goto fail;
    stage = 3;
    c->raft.data = c;

    raft_configuration_init(&conf);
    for (size_t i = 0; i < o->n_peers && rv == 0; i++)
        rv = raft_configuration_add(&conf, o->peers[i].id,
                                    o->peers[i].address, RAFT_VOTER);
    if (rv == 0) {
        /* Only a pristine log takes the configuration; later starts find
         * it in the log already. */
        rv = raft_bootstrap(&c->raft, &conf);
        if (rv == RAFT_CANTBOOTSTRAP)
            rv = 0;
    }
    raft_configuration_close(&conf);
    if (rv != 0)
        goto fail;

    raft_set_election_timeout(&c->raft, o->election_timeout_ms
                                            ? o->election_timeout_ms
                                            : 1000);
    raft_set_heartbeat_timeout(&c->raft,
                               o->heartbeat_ms ? o->heartbeat_ms : 100);
    raft_set_snapshot_threshold(&c->raft, o->snapshot_threshold
                                              ? o->snapshot_threshold
                                              : 1024);
    raft_set_snapshot_trailing(&c->raft, o->snapshot_threshold
                                             ? o->snapshot_threshold / 2 + 1
                                             : 512);
    raft_set_pre_vote(&c->raft, true);
    rv = raft_start(&c->raft);
    if (rv != 0)
        goto fail;
    *out = c;
    return DSUIT_OK;

fail:
    if (stage == 3) {
        /* raft_init succeeded: close through raft so the I/O backend
         * shuts down in order; the memory goes once the loop runs. */
        raft_close(&c->raft, closed);
    } else {
        if (stage == 2)
            raft_uv_close(&c->io);
        if (stage >= 1)
            raft_uv_tcp_close(&c->transport);
        free(c);
    }
    return map_raft(rv) == DSUIT_OK ? DSUIT_E_IO : map_raft(rv);
}

static void propose_done(struct raft_apply *req, int status, void *result)
{
    propose_t *p = (propose_t *)req;
    int rc = status != 0 ? map_raft(status) : (int)(intptr_t)result;
    if (p->done != NULL)
        p->done(p->arg, rc);
    free(p);
}

int dsuit_consensus_propose(dsuit_consensus_t *c, const uint8_t *entry,
                            size_t len, dsuit_consensus_done_fn done,
                            void *arg)
{
    struct raft_buffer buf;
    propose_t *p;
    uint8_t *b;
    int rv;

    if (c == NULL || (entry == NULL && len > 0))
        return DSUIT_E_INVAL;
    if (c->raft.state != RAFT_LEADER)
        return DSUIT_E_NOTLEADER;
    buf.len = framed_len(len);
    buf.base = raft_malloc(buf.len);
    if (buf.base == NULL)
        return DSUIT_E_NOMEM;
    b = buf.base;
    memset(b, 0, buf.len);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)len >> (8 * i));
    if (len)
        memcpy(b + 8, entry, len);
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        raft_free(buf.base);
        return DSUIT_E_NOMEM;
    }
    p->done = done;
    p->arg = arg;
    rv = raft_apply(&c->raft, &p->req, &buf, 1, propose_done);
    if (rv != 0) {
        raft_free(buf.base); /* not taken on failure */
        free(p);
        return map_raft(rv);
    }
    return DSUIT_OK;
}

int dsuit_consensus_is_leader(const dsuit_consensus_t *c)
{
    return c != NULL && c->raft.state == RAFT_LEADER;
}

uint64_t dsuit_consensus_leader(dsuit_consensus_t *c, const char **address)
{
    raft_id id = 0;
    const char *a = NULL;
    if (c == NULL)
        return 0;
    raft_leader(&c->raft, &id, &a);
    if (address != NULL)
        *address = a;
    return id;
}

uint64_t dsuit_consensus_term(const dsuit_consensus_t *c)
{
    return c ? c->raft.current_term : 0;
}

const char *dsuit_consensus_role(const dsuit_consensus_t *c)
{
    switch (c ? c->raft.state : RAFT_UNAVAILABLE) {
    case RAFT_LEADER:
        return "leader";
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_CANDIDATE:
        return "candidate";
    default:
        return "unavailable";
    }
}

uint64_t dsuit_consensus_applied(dsuit_consensus_t *c)
{
    return c ? raft_last_applied(&c->raft) : 0;
}

static void closed(struct raft *r)
{
    dsuit_consensus_t *c = r->data;
    void (*cb)(void *) = c->stop_cb;
    void *arg = c->stop_arg;
    raft_uv_close(&c->io);
    raft_uv_tcp_close(&c->transport);
    free(c);
    if (cb != NULL)
        cb(arg);
}

void dsuit_consensus_stop(dsuit_consensus_t *c, void (*cb)(void *arg),
                          void *arg)
{
    if (c == NULL)
        return;
    c->stop_cb = cb;
    c->stop_arg = arg;
    raft_close(&c->raft, closed);
}
