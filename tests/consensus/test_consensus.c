/*
 * Tests of the consensus interface on libraft with real TCP on loopback:
 * three engines on one libuv loop elect a leader, apply every proposed
 * entry in the same order on every node, survive the leader's stop, and a
 * restarted node catches up (through the log and snapshots).
 *
 * Each node's state machine keeps a count and a hash chain over the entries
 * it applied, so equal chains mean equal order.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "consensus/consensus.h"
#include "net/ports.h"
#include "dsuit/crypto.h"

#define N 3

typedef struct {
    uint64_t count;
    uint8_t chain[32];
} sm_t;

typedef struct {
    char dir[128];
    sm_t sm;
    dsuit_consensus_t *c;
    int stopped;
} node_t;

static uv_loop_t loop;
static node_t nodes[N];
static dsuit_consensus_peer_t peers[N];
static uint64_t acked, failed;

static int sm_apply(void *arg, const uint8_t *e, size_t len)
{
    sm_t *s = arg;
    dsuit_sha256_ctx_t h;
    dsuit_sha256_init(&h);
    dsuit_sha256_update(&h, s->chain, 32);
    dsuit_sha256_update(&h, e, len);
    dsuit_sha256_final(&h, s->chain);
    s->count++;
    return DSUIT_OK;
}

static int sm_snapshot(void *arg, uint8_t **out, size_t *len)
{
    *out = malloc(sizeof(sm_t));
    if (*out == NULL)
        return DSUIT_E_NOMEM;
    memcpy(*out, arg, sizeof(sm_t));
    *len = sizeof(sm_t);
    return DSUIT_OK;
}

static int sm_restore(void *arg, const uint8_t *buf, size_t len)
{
    if (len != sizeof(sm_t))
        return DSUIT_E_INVAL;
    memcpy(arg, buf, len);
    return DSUIT_OK;
}

/* A port nobody listens on now (the kernel picks it). */
static void start(int i)
{
    dsuit_consensus_opts_t o;
    memset(&o, 0, sizeof o);
    o.loop = &loop;
    o.dir = nodes[i].dir;
    o.self_id = (uint64_t)i + 1;
    o.peers = peers;
    o.n_peers = N;
    o.election_timeout_ms = 300;
    o.heartbeat_ms = 50;
    o.segment_size = 64 * 1024;
    o.snapshot_threshold = 32; /* small: restarts go through snapshots */
    o.fsm.arg = &nodes[i].sm;
    o.fsm.apply = sm_apply;
    o.fsm.snapshot = sm_snapshot;
    o.fsm.restore = sm_restore;
    assert_int_equal(dsuit_consensus_start(&o, &nodes[i].c), DSUIT_OK);
    nodes[i].stopped = 0;
}

static void on_stopped(void *arg)
{
    ((node_t *)arg)->stopped = 1;
}

/* Run the loop until cond() holds or the deadline (ms) passes. */
static int run_until(int (*cond)(void), unsigned ms)
{
    uint64_t end = uv_now(&loop) + ms;
    while (!cond()) {
        if (uv_now(&loop) > end)
            return 0;
        uv_run(&loop, UV_RUN_ONCE);
        uv_update_time(&loop);
    }
    return 1;
}

/* uv_run(ONCE) blocks until an event; a repeating timer keeps it moving. */
static uv_timer_t tick;
static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static int leader(void)
{
    for (int i = 0; i < N; i++) {
        if (nodes[i].c && dsuit_consensus_is_leader(nodes[i].c))
            return i;
    }
    return -1;
}

static int have_leader(void)
{
    return leader() >= 0;
}

static uint64_t want;
static int all_applied(void)
{
    for (int i = 0; i < N; i++) {
        if (nodes[i].c && nodes[i].sm.count < want)
            return 0;
    }
    return 1;
}

static void on_done(void *arg, int status)
{
    (void)arg;
    if (status == DSUIT_OK)
        acked++;
    else
        failed++;
}

static void propose_n(int at, int n, int base)
{
    for (int k = 0; k < n; k++) {
        char e[32];
        int len = snprintf(e, sizeof e, "entry-%d", base + k);
        assert_int_equal(dsuit_consensus_propose(nodes[at].c,
                                                 (const uint8_t *)e,
                                                 (size_t)len, on_done, NULL),
                         DSUIT_OK);
    }
}

static void consensus_orders_entries_identically_across_failover(void **st)
{
    (void)st;
    assert_int_equal(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    /* Distinct ports below the ephemeral range: the node restarted below
     * gets its port back (src/net/ports.h). */
    uint16_t ports[N];
    assert_int_equal(dsuit_free_ports(N, NULL, ports), DSUIT_OK);
    for (int i = 0; i < N; i++) {
        snprintf(nodes[i].dir, sizeof nodes[i].dir,
                 "/tmp/dsuit-test-raft-XXXXXX");
        assert_non_null(mkdtemp(nodes[i].dir));
        peers[i].id = (uint64_t)i + 1;
        snprintf(peers[i].address, sizeof peers[i].address, "127.0.0.1:%u",
                 (unsigned)ports[i]);
    }
    for (int i = 0; i < N; i++)
        start(i);

    /* A leader within a few election timeouts. */
    assert_true(run_until(have_leader, 10000));
    int l = leader();
    /* Only the leader may propose. */
    assert_int_equal(dsuit_consensus_propose(nodes[(l + 1) % N].c,
                                             (const uint8_t *)"x", 1, NULL,
                                             NULL),
                     DSUIT_E_NOTLEADER);
    assert_string_equal(dsuit_consensus_role(nodes[l].c), "leader");
    assert_true(dsuit_consensus_term(nodes[l].c) >= 1);

    propose_n(l, 100, 0);
    want = 100;
    assert_true(run_until(all_applied, 10000));
    for (int i = 1; i < N; i++)
        assert_memory_equal(nodes[i].sm.chain, nodes[0].sm.chain, 32);
    assert_int_equal(acked, 100);

    /* Stop the leader; the other two elect a new one and go on. */
    dsuit_consensus_stop(nodes[l].c, on_stopped, &nodes[l]);
    nodes[l].c = NULL;
    while (!nodes[l].stopped)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(run_until(have_leader, 10000));
    int l2 = leader();
    assert_int_not_equal(l2, l);
    propose_n(l2, 50, 100);
    want = 150;
    assert_true(run_until(all_applied, 10000));

    /* The stopped node comes back and catches up to the same state. */
    memset(&nodes[l].sm, 0, sizeof nodes[l].sm);
    start(l);
    assert_true(run_until(all_applied, 15000));
    for (int i = 0; i < N; i++) {
        assert_int_equal(nodes[i].sm.count, 150);
        assert_memory_equal(nodes[i].sm.chain, nodes[l2].sm.chain, 32);
    }

    for (int i = 0; i < N; i++)
        dsuit_consensus_stop(nodes[i].c, on_stopped, &nodes[i]);
    for (int guard = 0; guard < 1000; guard++) {
        int done = 1;
        for (int i = 0; i < N; i++)
            done &= nodes[i].stopped;
        if (done)
            break;
        uv_run(&loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&tick);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    for (int i = 0; i < N; i++) {
        char cmd[sizeof nodes[i].dir + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%.127s'", nodes[i].dir);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consensus_orders_entries_identically_across_failover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
