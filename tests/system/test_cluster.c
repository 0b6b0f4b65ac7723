/*
 * System tests of the replicated node: real `dsuit node run` processes on
 * 127.0.0.1 (tests/helpers/cluster.h), driven over the HTTP API of
 * docs/api.md. Election, replication and certification with four nodes;
 * a leader killed mid-stream; a node catching up over 1,000+ blocks; a
 * node whose ledger was tampered with; forged internal requests.
 *
 * Every wait is bounded; each test prints its timings ("# timing ...").
 * A failing test keeps its cluster folder (node logs in nI/node.log) and
 * prints where it is. DSUIT_TEST_FILTER (a cmocka pattern, e.g.
 * "leader_*") runs only some tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cluster.h"
#include "dsuit/block.h"
#include "dsuit/cbor.h"
#include "dsuit/cert.h"
#include "dsuit/ledger.h"
#include "dsuit/store.h"
#include "net/http/peer_auth.h"

#define HEARTBEAT_MS 200 /* policy heartbeat of most tests */

/* ---- helpers ------------------------------------------------------------ */

static int unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (uint8_t)v;
    }
    return 1;
}

/* POST /v1/tx, retrying while the cluster has no leader (503) or the node
 * does not answer. Returns the last HTTP status. */
static long submit_retry(const cl_t *cl, size_t i, const uint8_t *tx,
                         size_t len, unsigned timeout_ms)
{
    uint64_t t0 = cl_now_ms();
    long st;
    for (;;) {
        st = cl_submit(cl, i, tx, len);
        if ((st != 503 && st != -1) || cl_now_ms() - t0 > timeout_ms)
            return st;
        cl_sleep_ms(20);
    }
}

/* The genesis trust for certificates. keys must hold CL_MAX_NODES. */
static void trust_of(const cl_t *cl, dsuit_key_t *keys, dsuit_trust_t *t)
{
    for (size_t i = 0; i < cl->n; i++)
        keys[i] = cl->g->validators[i].key;
    t->chain = cl->g->hash;
    t->validators = keys;
    t->n_validators = cl->n;
    t->quorum = cl->g->policy.quorum;
}

/*
 * GET /v1/blocks/{h}/cert on node i. Returns 0 on 200 with a certificate
 * that decodes, is for height h and hash hash_hex and verifies against the
 * genesis; 1 if not there yet (404); fails the test otherwise. Each
 * entry's index is written to idx[0..*n_idx) when idx is not NULL, after
 * checking that its signature verifies for hash_hex on its own.
 */
static int check_cert(const cl_t *cl, size_t i, uint64_t h,
                      const char *hash_hex, uint64_t *idx, size_t *n_idx)
{
    char path[64];
    uint8_t *c = NULL, hash[32];
    size_t cl_len = 0, valid = 0;
    dsuit_cert_t cert;
    dsuit_key_t keys[CL_MAX_NODES];
    dsuit_trust_t trust;
    long st;
    int rc;

    snprintf(path, sizeof path, "/v1/blocks/%llu/cert", (unsigned long long)h);
    st = cl_http(cl, i, "GET", path, NULL, NULL, 0, &c, &cl_len);
    if (st == 404 || st == -1) {
        free(c);
        return 1;
    }
    if (st != 200)
        fail_msg("n%zu: GET %s answered %ld", i, path, st);
    assert_true(unhex(hash_hex, hash, 32));
    rc = dsuit_cert_decode(c, cl_len, &cert);
    if (rc != DSUIT_OK)
        fail_msg("n%zu: certificate %llu does not decode: %s", i,
                 (unsigned long long)h, dsuit_err_name(rc));
    assert_int_equal(cert.height, h);
    assert_memory_equal(cert.block_hash, hash, 32);
    trust_of(cl, keys, &trust);
    rc = dsuit_cert_verify(&cert, &trust, &valid);
    if (rc != DSUIT_OK)
        fail_msg("n%zu: certificate %llu does not verify: %s (%zu valid)", i,
                 (unsigned long long)h, dsuit_err_name(rc), valid);
    assert_true(valid >= cl->g->policy.quorum);
    /* Each entry on its own: [index, sig], all for this block hash. */
    {
        dsuit_cbor_dec_t d;
        size_t m, k = 0;
        dsuit_cbor_dec_init(&d, cert.sigs, cert.sigs_len, DSUIT_CBOR_STRICT);
        for (size_t e = 0; e < cert.n_sigs; e++) {
            uint64_t ix;
            const uint8_t *sig;
            size_t sl;
            assert_int_equal(dsuit_cbor_get_array(&d, &m), DSUIT_OK);
            assert_int_equal(m, 2);
            assert_int_equal(dsuit_cbor_get_uint(&d, &ix), DSUIT_OK);
            assert_int_equal(dsuit_cbor_get_bstr(&d, &sig, &sl), DSUIT_OK);
            assert_true(ix < cl->n);
            if (dsuit_cert_vote_verify(&cl->g->validators[ix].key, cl->g->hash,
                                       hash, sig, sl) != DSUIT_OK)
                fail_msg("n%zu: certificate %llu holds a vote by n%llu that "
                         "does not verify for the block's hash",
                         i, (unsigned long long)h, (unsigned long long)ix);
            if (idx != NULL)
                idx[k++] = ix;
        }
        if (n_idx != NULL)
            *n_idx = k;
    }
    free(c);
    return 0;
}

/* Wait until every running node holds a valid certificate at h. */
static void wait_certs(const cl_t *cl, uint64_t h, const char *hash_hex,
                       uint64_t deadline)
{
    for (size_t i = 0; i < cl->n; i++) {
        if (cl->pid[i] <= 0)
            continue;
        while (check_cert(cl, i, h, hash_hex, NULL, NULL) != 0) {
            if (cl_now_ms() > deadline)
                fail_msg("n%zu has no certificate for height %llu in time", i,
                         (unsigned long long)h);
            cl_sleep_ms(20);
        }
    }
}

/*
 * Every running node has blocks 1..h with the same hashes and state roots.
 * hashes (may be NULL) receives the hashes, [1..h].
 */
static void compare_chains(const cl_t *cl, uint64_t h, char (*hashes)[65])
{
    for (uint64_t k = 1; k <= h; k++) {
        char h0[65] = "", s0[65] = "";
        int have = 0;
        for (size_t i = 0; i < cl->n; i++) {
            char hh[65], sr[65];
            if (cl->pid[i] <= 0)
                continue;
            if (cl_block(cl, i, k, hh, sr) != 0)
                fail_msg("n%zu has no block %llu", i, (unsigned long long)k);
            if (!have) {
                memcpy(h0, hh, 65);
                memcpy(s0, sr, 65);
                have = 1;
                continue;
            }
            if (strcmp(hh, h0) != 0)
                fail_msg("block %llu: n%zu has hash %s, another node %s",
                         (unsigned long long)k, i, hh, h0);
            if (strcmp(sr, s0) != 0)
                fail_msg("block %llu: n%zu has state root %s, another %s",
                         (unsigned long long)k, i, sr, s0);
        }
        if (hashes != NULL)
            memcpy(hashes[k], h0, 65);
    }
}

/* Lowest height among running nodes. */
static uint64_t min_height(const cl_t *cl)
{
    uint64_t m = UINT64_MAX;
    for (size_t i = 0; i < cl->n; i++) {
        int64_t h;
        if (cl->pid[i] <= 0)
            continue;
        h = cl_height(cl, i);
        assert_true(h >= 0);
        if ((uint64_t)h < m)
            m = (uint64_t)h;
    }
    return m;
}

/* No node this test started has died on its own. */
static void assert_all_running(cl_t *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        int st;
        if (cl_exited(cl, i, &st))
            fail_msg("node n%zu exited on its own with %d", i, st);
    }
}

static int start_cluster(cl_t *cl, size_t n, uint64_t heartbeat_ms,
                         uint64_t *term)
{
    uint64_t t0 = cl_now_ms();
    int leader;
    cl_create(cl, n, heartbeat_ms);
    cl_start_all(cl);
    leader = cl_wait_leader(cl, 0, 10000, term);
    if (leader < 0)
        fail_msg("no leader 10 s after start (cluster in %s)", cl->root);
    printf("# timing: %zu nodes up and leader n%d elected in %llu ms\n", n,
           leader, (unsigned long long)(cl_now_ms() - t0));
    return leader;
}

/* ---- status -------------------------------------------------------------- */

static void status_and_metrics_describe_the_node(void **state)
{
    cl_t *cl = *state;
    int leader = start_cluster(cl, 4, HEARTBEAT_MS, NULL);
    assert_true(cl_wait_height(cl, 3, 5000));
    for (size_t i = 0; i < cl->n; i++) {
        uint8_t *b = NULL;
        size_t bl = 0;
        long st = cl_http(cl, i, "GET", "/v1/status", NULL, NULL, 0, &b, &bl);
        json_t *j;
        const json_t *peers;
        static const char *const keys[] = {
            "node",    "index",          "leader",           "role",
            "term",    "height",         "certified_height", "peers",
            "pending", "blocks_applied", "blocks_rejected"};
        assert_int_equal(st, 200);
        j = json_loadb((const char *)b, bl, 0, NULL);
        free(b);
        assert_non_null(j);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (json_object_get(j, keys[k]) == NULL)
                fail_msg("n%zu: /v1/status has no '%s'", i, keys[k]);
        assert_string_equal(json_string_value(json_object_get(j, "node")),
                            cl->g->validators[i].name);
        assert_int_equal(json_integer_value(json_object_get(j, "index")), i);
        assert_string_equal(json_string_value(json_object_get(j, "leader")),
                            cl->g->validators[leader].name);
        assert_string_equal(json_string_value(json_object_get(j, "role")),
                            (int)i == leader ? "leader" : "follower");
        assert_true(json_integer_value(json_object_get(j, "term")) >= 1);
        assert_true(json_integer_value(json_object_get(j, "height")) >= 3);
        assert_true(json_is_integer(json_object_get(j, "certified_height")));
        peers = json_object_get(j, "peers");
        assert_true(json_is_array(peers));
        assert_int_equal(json_array_size(peers), cl->n);
        for (size_t k = 0; k < cl->n; k++) {
            const json_t *p = json_array_get(peers, k);
            assert_string_equal(json_string_value(json_object_get(p, "name")),
                                cl->g->validators[k].name);
            assert_true(json_is_integer(json_object_get(p, "height")));
        }
        json_decref(j);

        st = cl_http(cl, i, "GET", "/metrics", NULL, NULL, 0, &b, &bl);
        assert_int_equal(st, 200);
        {
            const char *m = strstr((const char *)b, "\ndsuit_height ");
            assert_non_null(m);
            assert_true(strtoull(m + 14, NULL, 10) >= 3);
            assert_non_null(strstr((const char *)b, "dsuit_certified_height"));
            assert_non_null(strstr((const char *)b, "dsuit_raft_term"));
        }
        free(b);
    }
    assert_all_running(cl);
    cl->keep = 0;
}

/* ---- 1. election, replication, certification ---------------------------- */

#define T1_TXS 50

static void four_nodes_elect_and_commit(void **state)
{
    cl_t *cl = *state;
    uint8_t ids[T1_TXS][32], tx[2048];
    uint64_t where[T1_TXS][2], top = 0, t0, H;
    char(*hashes)[65];

    start_cluster(cl, 4, HEARTBEAT_MS, NULL);

    /* 50 register-author transactions, round-robin: followers forward. */
    t0 = cl_now_ms();
    for (size_t k = 0; k < T1_TXS; k++) {
        size_t len = cl_tx_register(cl, tx, sizeof tx, ids[k]);
        long st = submit_retry(cl, k % cl->n, tx, len, 5000);
        if (st != 202)
            fail_msg("tx %zu to n%zu: HTTP %ld", k, k % cl->n, st);
    }
    printf("# timing: %d transactions submitted in %llu ms\n", T1_TXS,
           (unsigned long long)(cl_now_ms() - t0));
    for (size_t k = 0; k < T1_TXS; k++) {
        for (size_t i = 0; i < cl->n; i++) {
            uint64_t h, ix;
            if (!cl_wait_tx(cl, i, ids[k], 15000, &h, &ix)) {
                char idh[65];
                cl_hex(ids[k], 32, idh);
                fail_msg("tx %zu (%s) is not committed on n%zu", k, idh, i);
            }
            if (i == 0) {
                where[k][0] = h;
                where[k][1] = ix;
            } else if (where[k][0] != h || where[k][1] != ix) {
                fail_msg("tx %zu is at %llu/%llu on n0 but %llu/%llu on n%zu",
                         k, (unsigned long long)where[k][0],
                         (unsigned long long)where[k][1], (unsigned long long)h,
                         (unsigned long long)ix, i);
            }
        }
        if (where[k][0] > top)
            top = where[k][0];
    }
    printf("# timing: all %d committed on all %zu nodes %llu ms after the "
           "first submission (last at height %llu)\n",
           T1_TXS, cl->n, (unsigned long long)(cl_now_ms() - t0),
           (unsigned long long)top);

    /* The final common height: identical hashes and state roots. */
    assert_true(cl_wait_height(cl, top, 10000));
    H = min_height(cl);
    assert_true(H >= top);
    hashes = calloc(H + 1, sizeof *hashes);
    assert_non_null(hashes);
    compare_chains(cl, H, hashes);
    printf("# common height %llu: same block hashes and state roots on all "
           "nodes\n",
           (unsigned long long)H);

    /* Every block up to H-1 is certified on every node within seconds. */
    t0 = cl_now_ms();
    for (uint64_t h = 1; h < H; h++)
        wait_certs(cl, h, hashes[h], t0 + 10000);
    printf("# timing: certificates 1..%llu present and valid on all nodes "
           "%llu ms after the check began\n",
           (unsigned long long)(H - 1), (unsigned long long)(cl_now_ms() - t0));
    free(hashes);
    assert_all_running(cl);
    cl->keep = 0;
}

/* ---- 2. the leader dies mid-stream --------------------------------------- */

#define T2_TXS    200
#define T2_KILLAT 60

typedef struct {
    uint8_t id[32];
    uint8_t tx[512];
    size_t len;
    int accepted;  /* 202 */
    int committed; /* some node said committed or certified */
    uint64_t h, ix;
    size_t to; /* the node it was submitted to */
} t2_tx_t;

/* Ask node i about every accepted, not yet committed transaction. */
static size_t t2_poll(const cl_t *cl, size_t i, t2_tx_t *t, size_t n)
{
    size_t fresh = 0;
    for (size_t k = 0; k < n; k++) {
        cl_tx_state_t s;
        if (!t[k].accepted || t[k].committed)
            continue;
        s = cl_tx_state(cl, i, t[k].id, &t[k].h, &t[k].ix);
        if (s == CL_TX_COMMITTED || s == CL_TX_CERTIFIED) {
            t[k].committed = 1;
            fresh++;
        } else if (s == CL_TX_INVALID) {
            fail_msg("tx %zu is invalid on n%zu", k, i);
        }
    }
    return fresh;
}

static void leader_kill_during_submissions(void **state)
{
    cl_t *cl = *state;
    t2_tx_t *t = calloc(T2_TXS, sizeof *t);
    uint64_t term, t_kill = 0, t_elected = 0, t0 = cl_now_ms(), H;
    int leader, old, found = 0;
    size_t accepted = 0, committed = 0, lost = 0;

    assert_non_null(t);
    leader = start_cluster(cl, 4, HEARTBEAT_MS, &term);
    old = leader;
    for (size_t k = 0; k < T2_TXS; k++) {
        uint64_t t1 = cl_now_ms();
        size_t len = cl_tx_register(cl, t[k].tx, sizeof t[k].tx, t[k].id);
        const uint8_t *tx = t[k].tx;
        long st;
        t[k].len = len;
        if (k == T2_KILLAT) {
            cl_kill9(cl, (size_t)old);
            t_kill = cl_now_ms();
            leader = -1;
            printf("# killed leader n%d (term %llu) after %zu submissions\n",
                   old, (unsigned long long)term, k);
        }
        /* One attempt at a time, looking for the new leader between
         * attempts, so that retries never delay seeing it. */
        for (;;) {
            size_t to;
            if (t_kill != 0 && !found) {
                int l = cl_wait_leader(cl, term, 0, NULL);
                if (l >= 0) {
                    t_elected = cl_now_ms();
                    found = 1;
                    leader = l;
                    printf("# timing: new leader n%d seen %llu ms after the "
                           "kill (%zu submissions after it)\n",
                           l, (unsigned long long)(t_elected - t_kill),
                           k - T2_KILLAT);
                }
            }
            /* Even submissions to the leader when one is known, odd ones
             * to a follower; never to the dead node. */
            if (k % 2 == 0 && leader >= 0) {
                to = (size_t)leader;
            } else {
                to = (k / 2) % cl->n;
                while (cl->pid[to] <= 0 || (int)to == leader)
                    to = (to + 1) % cl->n;
            }
            t[k].to = to;
            st = cl_submit(cl, to, tx, len);
            if (st == 202) {
                t[k].accepted = 1;
                accepted++;
                break;
            }
            if ((st != 503 && st != -1) || cl_now_ms() - t1 > 10000) {
                printf("# tx %zu to n%zu not accepted: HTTP %ld\n", k, to, st);
                break;
            }
            cl_sleep_ms(10);
        }
        /* Now and then, ask which are committed; not just before the kill,
         * so that the leader dies with transactions in flight. */
        if (k % 10 == 9 && (k < T2_KILLAT - 20 || k > T2_KILLAT))
            t2_poll(cl, t[k].to, t, k + 1);
    }
    if (!found) {
        leader = cl_wait_leader(cl, term, 10000, NULL);
        assert_true(leader >= 0);
        t_elected = cl_now_ms();
        printf("# timing: new leader n%d %llu ms after the kill\n", leader,
               (unsigned long long)(t_elected - t_kill));
    }
    assert_true(leader != old);
    if (t_elected - t_kill > 5000)
        fail_msg("a new leader took %llu ms (more than 5 s)",
                 (unsigned long long)(t_elected - t_kill));

    /* The killed node comes back. */
    {
        uint64_t t1 = cl_now_ms();
        cl_start(cl, (size_t)old);
        printf("# timing: n%d restarted in %llu ms\n", old,
               (unsigned long long)(cl_now_ms() - t1));
    }

    /* Settle: every accepted tx either commits or is known nowhere (it
     * died in the old leader's mempool). */
    {
        uint64_t t1 = cl_now_ms();
        int quiet = 0;
        while (cl_now_ms() - t1 < 20000 && quiet < 2) {
            size_t open = 0;
            for (size_t i = 0; i < cl->n; i++)
                t2_poll(cl, i, t, T2_TXS);
            for (size_t k = 0; k < T2_TXS; k++) {
                int nowhere = 1;
                if (!t[k].accepted || t[k].committed)
                    continue;
                for (size_t i = 0; i < cl->n && nowhere; i++)
                    nowhere = cl_tx_state(cl, i, t[k].id, NULL, NULL) ==
                              CL_TX_UNKNOWN;
                open += !nowhere;
            }
            quiet = open == 0 ? quiet + 1 : 0;
            cl_sleep_ms(500);
        }
    }
    for (size_t k = 0; k < T2_TXS; k++) {
        committed += t[k].committed;
        lost += t[k].accepted && !t[k].committed;
    }
    printf("# %zu submitted, %zu accepted (202), %zu committed, %zu lost "
           "(accepted, never committed)\n",
           (size_t)T2_TXS, accepted, committed, lost);
    for (size_t k = 0; k < T2_TXS; k++)
        if (t[k].accepted && !t[k].committed)
            printf("#   lost tx %zu (submitted to n%zu%s)\n", k, t[k].to,
                   k < T2_KILLAT ? ", before the kill" : ", after the kill");
    /* Only transactions the dead leader held may be lost. */
    assert_true(committed >= T2_TXS - T2_KILLAT);
    for (size_t k = 0; k < T2_TXS; k++)
        if (t[k].accepted && !t[k].committed && k >= T2_KILLAT)
            fail_msg("tx %zu, accepted after the kill, never committed", k);

    /* A client that sees its transaction vanish submits the same bytes
     * again: each commits, once. */
    if (lost > 0) {
        uint64_t t1 = cl_now_ms();
        for (size_t k = 0; k < T2_TXS; k++) {
            if (!t[k].accepted || t[k].committed)
                continue;
            assert_int_equal(
                submit_retry(cl, k % cl->n, t[k].tx, t[k].len, 5000), 202);
        }
        for (size_t k = 0; k < T2_TXS; k++) {
            if (!t[k].accepted || t[k].committed)
                continue;
            if (!cl_wait_tx(cl, k % cl->n, t[k].id, 10000, &t[k].h, &t[k].ix))
                fail_msg("resubmitted tx %zu does not commit", k);
            t[k].committed = 1;
            committed++;
        }
        printf("# timing: %zu lost transactions resubmitted and committed in "
               "%llu ms\n",
               lost, (unsigned long long)(cl_now_ms() - t1));
    }
    assert_int_equal(committed, accepted);

    /* All four converge: the restarted node too. */
    {
        uint64_t t1 = cl_now_ms();
        H = cl_max_height(cl);
        if (!cl_wait_height(cl, H, 30000))
            fail_msg("n%d does not reach height %llu within 30 s", old,
                     (unsigned long long)H);
        printf("# timing: restarted n%d reached height %llu %llu ms after "
               "its restart was done\n",
               old, (unsigned long long)H,
               (unsigned long long)(cl_now_ms() - t1));
    }
    compare_chains(cl, H, NULL);
    for (size_t k = 0; k < T2_TXS; k++) {
        if (!t[k].committed)
            continue;
        for (size_t i = 0; i < cl->n; i++) {
            uint64_t h = 0, ix = 0;
            cl_tx_state_t s = cl_tx_state(cl, i, t[k].id, &h, &ix);
            if (s != CL_TX_COMMITTED && s != CL_TX_CERTIFIED)
                fail_msg("tx %zu was reported committed but n%zu says %d", k, i,
                         (int)s);
            if (h != t[k].h || ix != t[k].ix)
                fail_msg("tx %zu was committed at %llu/%llu but n%zu has it "
                         "at %llu/%llu",
                         k, (unsigned long long)t[k].h,
                         (unsigned long long)t[k].ix, i, (unsigned long long)h,
                         (unsigned long long)ix);
        }
    }
    printf("# timing: whole test %llu ms\n",
           (unsigned long long)(cl_now_ms() - t0));
    free(t);
    assert_all_running(cl);
    cl->keep = 0;
}

/* ---- 3. catching up ------------------------------------------------------ */

/*
 * 1,000+ blocks: the proposer runs once per --block-interval-ms (20 ms)
 * and proposes at most one block per run, so no way of feeding it makes
 * more than ~50 blocks/s. Submitting transactions would cost building,
 * signing and checking them on top; a genesis with a 5 ms heartbeat makes
 * the leader propose an empty block at every tick instead, ~50 blocks/s,
 * which also passes libraft's snapshot threshold (1024 entries) so the
 * returning node is caught up by a snapshot, not only by log entries.
 */
#define T3_BLOCKS 1100

static void restarted_node_catches_up(void **state)
{
    cl_t *cl = *state;
    int leader = start_cluster(cl, 4, 5, NULL);
    size_t v = ((size_t)leader + 1) % 4;
    uint64_t t0, hv, H, t1;
    char a[65], b[65];
    int st;

    assert_true(cl_wait_height(cl, 5, 5000));
    assert_true(cl_height(cl, v) >= 5);
    hv = (uint64_t)cl_height(cl, v); /* it may apply a block or two more */
    st = cl_stop(cl, v, 5000);
    assert_int_equal(st, 0);
    t0 = cl_now_ms();
    while (cl_max_height(cl) < hv + T3_BLOCKS) {
        if (cl_now_ms() - t0 > 120000)
            fail_msg("only %llu blocks in 120 s",
                     (unsigned long long)(cl_max_height(cl) - hv));
        cl_sleep_ms(200);
    }
    H = cl_max_height(cl);
    printf("# timing: %llu blocks made without n%zu in %llu ms (%.0f "
           "blocks/s)\n",
           (unsigned long long)(H - hv), v,
           (unsigned long long)(cl_now_ms() - t0),
           (double)(H - hv) * 1000.0 / (double)(cl_now_ms() - t0 + 1));

    t1 = cl_now_ms();
    cl_start(cl, v);
    for (;;) {
        int64_t h = cl_height(cl, v);
        if (h >= (int64_t)H && cl_block(cl, v, H, a, NULL) == 0 &&
            cl_block(cl, (size_t)leader, H, b, NULL) == 0 && strcmp(a, b) == 0)
            break;
        if (cl_now_ms() - t1 > 60000)
            fail_msg("n%zu is at %lld of %llu 60 s after its restart", v,
                     (long long)h, (unsigned long long)H);
        cl_sleep_ms(20);
    }
    printf("# timing: n%zu caught up %llu blocks (to height %llu, same tip "
           "hash) in %llu ms after restart\n",
           v, (unsigned long long)(H - hv), (unsigned long long)H,
           (unsigned long long)(cl_now_ms() - t1));
    {
        char cmd[700], out[256] = "";
        FILE *p;
        snprintf(cmd, sizeof cmd,
                 "grep -c 'caught up from a snapshot' '%s/node.log'",
                 cl->data[v]);
        p = popen(cmd, "r");
        if (p != NULL) {
            if (fgets(out, sizeof out, p) == NULL)
                out[0] = '\0';
            pclose(p);
        }
        printf("# n%zu log: snapshot installs: %s", v, out[0] ? out : "?\n");
    }
    /* It keeps up and everyone agrees on every block. */
    H = cl_max_height(cl);
    assert_true(cl_wait_height(cl, H, 20000));
    t1 = cl_now_ms();
    compare_chains(cl, H, NULL);
    printf("# compared %llu heights on 4 nodes in %llu ms\n",
           (unsigned long long)H, (unsigned long long)(cl_now_ms() - t1));
    assert_all_running(cl);
    cl->keep = 0;
}

/* ---- 4. a tampered ledger ------------------------------------------------ */

/* Rewrite block h in the (closed) ledger folder dir: the result of its
 * first transaction 0 (ok) -> 12 (duplicate). The header, and so the
 * block hash, stays. */
static void tamper_result(const char *dir, uint64_t h)
{
    dsuit_store_t *s;
    dsuit_store_txn_t *t;
    const uint8_t *v;
    size_t n;
    uint8_t key[8], *copy;
    dsuit_block_t b;
    size_t off;
    assert_int_equal(dsuit_store_open(dir, NULL, &s), DSUIT_OK);
    assert_int_equal(dsuit_store_begin(s, 1, &t), DSUIT_OK);
    dsuit_store_u64_key(h, key);
    assert_int_equal(dsuit_store_get(t, DSUIT_TBL_BLOCKS, key, 8, &v, &n),
                     DSUIT_OK);
    copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, v, n);
    assert_int_equal(dsuit_block_decode(copy, n, &b), DSUIT_OK);
    assert_true(b.n_txs >= 1);
    off = (size_t)(b.results - copy);
    assert_int_equal(copy[off], 0x00); /* result 0, one byte */
    copy[off] = 0x0c;
    assert_int_equal(dsuit_store_put(t, DSUIT_TBL_BLOCKS, key, 8, copy, n),
                     DSUIT_OK);
    free(copy);
    assert_int_equal(dsuit_store_commit(t), DSUIT_OK);
    dsuit_store_close(s);
}

/* A vote [height, hash, index, sig] by validator v for hash, POSTed to
 * node i signed by v. Returns the HTTP status. */
static long post_vote(const cl_t *cl, size_t i, size_t v, uint64_t height,
                      const uint8_t hash[32])
{
    uint8_t sig[DSUIT_SIG_LEN], body[160];
    size_t len;
    dsuit_cbor_enc_t e;
    char hdr[3][DSUIT_PEER_HEADER_MAX];
    const char *headers[5];
    assert_int_equal(dsuit_cert_vote(&cl->val[v], cl->g->hash, hash, sig),
                     DSUIT_OK);
    dsuit_cbor_enc_init(&e, body, sizeof body);
    dsuit_cbor_put_array(&e, 4);
    dsuit_cbor_put_uint(&e, height);
    dsuit_cbor_put_bstr(&e, hash, 32);
    dsuit_cbor_put_uint(&e, v);
    dsuit_cbor_put_bstr(&e, sig, sizeof sig);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &len), DSUIT_OK);
    assert_int_equal(dsuit_peer_sign(&cl->val[v], v, cl->g->hash, "POST",
                                     "/internal/v1/votes", body, len,
                                     cl_wall_ms(), hdr),
                     DSUIT_OK);
    headers[0] = hdr[0];
    headers[1] = hdr[1];
    headers[2] = hdr[2];
    headers[3] = "Content-Type: application/cbor";
    headers[4] = NULL;
    return cl_http(cl, i, "POST", "/internal/v1/votes", headers, body, len,
                   NULL, NULL);
}

/* Does node i's /v1/evidence name validator v at height h? */
static int has_evidence(const cl_t *cl, size_t i, size_t v, uint64_t h)
{
    uint8_t *b = NULL;
    size_t bl = 0, k;
    json_t *j, *e;
    int found = 0;
    if (cl_http(cl, i, "GET", "/v1/evidence", NULL, NULL, 0, &b, &bl) != 200) {
        free(b);
        return 0;
    }
    j = json_loadb((const char *)b, bl, 0, NULL);
    free(b);
    json_array_foreach(json_object_get(j, "evidence"), k, e)
    {
        const char *name = json_string_value(json_object_get(e, "validator"));
        if (name != NULL && strcmp(name, cl->g->validators[v].name) == 0 &&
            (uint64_t)json_integer_value(json_object_get(e, "height")) == h)
            found = 1;
    }
    json_decref(j);
    return found;
}

/* The result name of transaction `index` of block h on node i. */
static void block_tx_result(const cl_t *cl, size_t i, uint64_t h, size_t index,
                            char *out, size_t cap)
{
    char path[64];
    uint8_t *b = NULL;
    size_t bl = 0;
    json_t *j;
    const char *r;
    snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)h);
    assert_int_equal(cl_http(cl, i, "GET", path, NULL, NULL, 0, &b, &bl), 200);
    j = json_loadb((const char *)b, bl, 0, NULL);
    free(b);
    r = json_string_value(json_object_get(
        json_array_get(json_object_get(j, "txs"), index), "result"));
    snprintf(out, cap, "%s", r ? r : "?");
    json_decref(j);
}

static void tampered_node_is_detected(void **state)
{
    cl_t *cl = *state;
    int leader = start_cluster(cl, 4, HEARTBEAT_MS, NULL);
    size_t v = ((size_t)leader + 3) % 4; /* a follower */
    uint8_t tx[2048], id[32], bogus[32], honest[32];
    uint64_t T, ix, F;
    char hash_t[65], hash_v[65], out[4096], expect[64], ledger[400];
    char res_honest[32], res_v[32];
    size_t len;

    /* One transaction in its own block T, certified everywhere. */
    len = cl_tx_register(cl, tx, sizeof tx, id);
    assert_int_equal(submit_retry(cl, (size_t)leader, tx, len, 5000), 202);
    for (size_t i = 0; i < cl->n; i++)
        assert_true(cl_wait_tx(cl, i, id, 10000, &T, &ix));
    assert_int_equal(cl_block(cl, (size_t)leader, T, hash_t, NULL), 0);
    wait_certs(cl, T, hash_t, cl_now_ms() + 10000);

    /* Stop v; its ledger verifies; tamper with block T; now it does not. */
    assert_int_equal(cl_stop(cl, v, 5000), 0);
    snprintf(ledger, sizeof ledger, "%s/ledger", cl->data[v]);
    {
        const char *args[] = {"ledger", "verify", "--data", ledger, NULL};
        int rc = cl_run_cli(cl, args, out, sizeof out);
        if (rc != 0)
            fail_msg("ledger verify on the untouched ledger exited %d: %s", rc,
                     out);
        tamper_result(ledger, T);
        rc = cl_run_cli(cl, args, out, sizeof out);
        printf("# ledger verify on the tampered ledger: exit %d: %s", rc, out);
        assert_int_equal(rc, 3);
        snprintf(expect, sizeof expect, "block %llu", (unsigned long long)T);
        if (strstr(out, expect) == NULL)
            fail_msg("ledger verify does not name '%s': %s", expect, out);
    }

    /* Restart it. Its votes may only count for the honest hash. */
    cl_start(cl, v);
    assert_true(cl_wait_height(cl, cl_max_height(cl), 10000));
    assert_int_equal(cl_block(cl, v, T, hash_v, NULL), 0);
    block_tx_result(cl, (size_t)leader, T, (size_t)ix, res_honest,
                    sizeof res_honest);
    block_tx_result(cl, v, T, (size_t)ix, res_v, sizeof res_v);
    printf("# block %llu on the tampered n%zu: hash %s (honest %s), tx "
           "result '%s' (honest '%s')\n",
           (unsigned long long)T, v,
           strcmp(hash_v, hash_t) == 0 ? "same" : "DIFFERENT", hash_t, res_v,
           res_honest);
    assert_string_equal(res_honest, "ok");
    /* The honest certificates at T: every vote in them, v's included if
     * present, verifies for the honest hash (check_cert). */
    for (size_t i = 0; i < cl->n; i++) {
        uint64_t idx[CL_MAX_NODES];
        size_t n_idx = 0;
        int with_v = 0;
        if (i == v)
            continue;
        assert_int_equal(check_cert(cl, i, T, hash_t, idx, &n_idx), 0);
        for (size_t k = 0; k < n_idx; k++)
            with_v |= idx[k] == v;
        printf("# n%zu's certificate %llu: %zu votes, %s n%zu\n", i,
               (unsigned long long)T, n_idx, with_v ? "with" : "without", v);
    }

    /* v (its key) signs a different block at T and at a height not yet
     * made: honest nodes keep it as evidence, and their certificates hold
     * only votes for the hash they applied. */
    assert_int_equal(dsuit_sha256("forged block", 12, bogus), DSUIT_OK);
    assert_true(unhex(hash_t, honest, 32));
    F = cl_max_height(cl) + 15; /* ~3 s ahead at a 200 ms heartbeat */
    for (size_t i = 0; i < cl->n; i++) {
        if (i == v)
            continue;
        assert_int_equal(post_vote(cl, i, v, T, bogus), 204);
        assert_int_equal(post_vote(cl, i, v, F, bogus), 204);
    }
    assert_true(cl_wait_height(cl, F + 1, 15000));
    {
        char hash_f[65];
        uint64_t deadline = cl_now_ms() + 10000;
        assert_int_equal(cl_block(cl, (size_t)leader, F, hash_f, NULL), 0);
        for (size_t i = 0; i < cl->n; i++) {
            uint64_t idx[CL_MAX_NODES];
            size_t n_idx = 0;
            int with_v = 0;
            if (i == v)
                continue;
            while (check_cert(cl, i, F, hash_f, idx, &n_idx) != 0) {
                if (cl_now_ms() > deadline)
                    fail_msg("n%zu: no certificate at %llu", i,
                             (unsigned long long)F);
                cl_sleep_ms(20);
            }
            for (size_t k = 0; k < n_idx; k++)
                with_v |= idx[k] == v;
            printf("# n%zu's certificate %llu: %zu votes, %s n%zu\n", i,
                   (unsigned long long)F, n_idx, with_v ? "with" : "without",
                   v);
            while (!has_evidence(cl, i, v, T) || !has_evidence(cl, i, v, F)) {
                if (cl_now_ms() > deadline)
                    fail_msg("n%zu keeps no evidence of n%zu's two votes "
                             "(heights %llu, %llu)",
                             i, v, (unsigned long long)T,
                             (unsigned long long)F);
                cl_sleep_ms(20);
            }
        }
        /* And the certificate at T is unchanged by the forged vote. */
        for (size_t i = 0; i < cl->n; i++)
            if (i != v)
                assert_int_equal(check_cert(cl, i, T, hash_t, NULL, NULL), 0);
    }
    assert_all_running(cl);
    cl->keep = 0;
}

/* ---- 5. forged internal requests ----------------------------------------- */

typedef enum {
    F_NO_HEADERS,
    F_NO_SIG,
    F_SIG_NOT_HEX,
    F_SIG_ZEROS,
    F_STRANGER_KEY,    /* a key outside the genesis claims index 1 */
    F_OTHER_VALIDATOR, /* validator 2's key claims index 1 */
    F_INDEX_PAST_END,
    F_OTHER_CHAIN,
    F_STALE,  /* 60 s old */
    F_FUTURE, /* 60 s ahead */
    F_BODY_CHANGED,
    F_OTHER_PATH, /* signed for the other internal route */
    F_QUERY,
} forgery_t;

static const struct {
    forgery_t f;
    const char *name;
} forgeries[] = {
    {F_NO_HEADERS, "no headers"},
    {F_NO_SIG, "no X-Dsuit-Sig"},
    {F_SIG_NOT_HEX, "signature not hex"},
    {F_SIG_ZEROS, "signature all zeros"},
    {F_STRANGER_KEY, "signed by a key outside the genesis"},
    {F_OTHER_VALIDATOR, "signed by another validator's key"},
    {F_INDEX_PAST_END, "validator index past the end"},
    {F_OTHER_CHAIN, "signed for another chain"},
    {F_STALE, "time 60 s in the past"},
    {F_FUTURE, "time 60 s in the future"},
    {F_BODY_CHANGED, "body changed after signing"},
    {F_OTHER_PATH, "signed for the other route"},
    {F_QUERY, "query string added"},
};

static long post_forged(const cl_t *cl, size_t target, const char *path,
                        const char *other_path, const uint8_t *body, size_t len,
                        forgery_t f, const dsuit_key_t *stranger)
{
    char hdr[3][DSUIT_PEER_HEADER_MAX], url_path[128];
    const char *headers[5];
    const dsuit_key_t *key = &cl->val[1];
    uint64_t index = 1, now = cl_wall_ms();
    uint8_t chain[32], *sent = NULL;
    const char *sign_path = path;
    long st;
    size_t h = 0;

    memcpy(chain, cl->g->hash, 32);
    snprintf(url_path, sizeof url_path, "%s", path);
    switch (f) {
    case F_STRANGER_KEY:
        key = stranger;
        break;
    case F_OTHER_VALIDATOR:
        key = &cl->val[2];
        break;
    case F_INDEX_PAST_END:
        index = cl->n + 3;
        break;
    case F_OTHER_CHAIN:
        chain[0] ^= 1;
        break;
    case F_STALE:
        now -= 60000;
        break;
    case F_FUTURE:
        now += 60000;
        break;
    case F_OTHER_PATH:
        sign_path = other_path;
        break;
    case F_QUERY:
        snprintf(url_path, sizeof url_path, "%s?x=1", path);
        break;
    default:
        break;
    }
    assert_int_equal(dsuit_peer_sign(key, index, chain, "POST", sign_path, body,
                                     len, now, hdr),
                     DSUIT_OK);
    sent = malloc(len);
    assert_non_null(sent);
    memcpy(sent, body, len);
    if (f == F_BODY_CHANGED)
        sent[len - 1] ^= 1;
    if (f == F_SIG_NOT_HEX) {
        char *s = strchr(hdr[2], ':');
        assert_non_null(s);
        memset(s + 2, 'z', 8);
    }
    if (f == F_SIG_ZEROS) {
        char *s = strchr(hdr[2], ':');
        assert_non_null(s);
        memset(s + 2, '0', 2 * DSUIT_SIG_LEN);
    }
    if (f != F_NO_HEADERS) {
        headers[h++] = hdr[0];
        headers[h++] = hdr[1];
        if (f != F_NO_SIG)
            headers[h++] = hdr[2];
    }
    headers[h++] = "Content-Type: application/cbor";
    headers[h] = NULL;
    st = cl_http(cl, target, "POST", url_path, headers, sent, len, NULL, NULL);
    free(sent);
    return st;
}

static void forged_internal_request_is_refused(void **state)
{
    cl_t *cl = *state;
    int leader = start_cluster(cl, 4, HEARTBEAT_MS, NULL);
    size_t target = (size_t)leader;
    uint8_t vote[160], tx[2048], txid[32], hash1[32], sig[DSUIT_SIG_LEN];
    size_t vote_len, tx_len;
    char h1[65], hdr[3][DSUIT_PEER_HEADER_MAX];
    const char *headers[5];
    dsuit_key_t stranger;
    dsuit_cbor_enc_t e;
    cl_status_t before, after;
    long st;

    assert_true(cl_wait_height(cl, 1, 5000));
    assert_int_equal(cl_block(cl, 0, 1, h1, NULL), 0);
    assert_true(unhex(h1, hash1, 32));
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &stranger), DSUIT_OK);
    /* A real vote by validator 1 for block 1, and a real transaction. */
    assert_int_equal(dsuit_cert_vote(&cl->val[1], cl->g->hash, hash1, sig),
                     DSUIT_OK);
    dsuit_cbor_enc_init(&e, vote, sizeof vote);
    dsuit_cbor_put_array(&e, 4);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, hash1, 32);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, sig, sizeof sig);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &vote_len), DSUIT_OK);
    tx_len = cl_tx_register(cl, tx, sizeof tx, txid);
    assert_int_equal(cl_status(cl, target, &before), 0);

    for (size_t k = 0; k < sizeof forgeries / sizeof forgeries[0]; k++) {
        st = post_forged(cl, target, "/internal/v1/votes", "/internal/v1/tx",
                         vote, vote_len, forgeries[k].f, &stranger);
        if (st != 403)
            fail_msg("vote, %s: HTTP %ld, not 403", forgeries[k].name, st);
        st = post_forged(cl, target, "/internal/v1/tx", "/internal/v1/votes",
                         tx, tx_len, forgeries[k].f, &stranger);
        if (st != 403)
            fail_msg("tx, %s: HTTP %ld, not 403", forgeries[k].name, st);
    }
    printf("# %zu forgeries x 2 routes: 403 each\n",
           sizeof forgeries / sizeof forgeries[0]);
    /* Not one of them reached the mempool. */
    assert_int_equal(cl_tx_state(cl, target, txid, NULL, NULL), CL_TX_UNKNOWN);

    /* A vote signed by validator 1 but for validator 2's index. */
    {
        uint8_t body[160];
        size_t len;
        dsuit_cbor_enc_init(&e, body, sizeof body);
        dsuit_cbor_put_array(&e, 4);
        dsuit_cbor_put_uint(&e, 1);
        dsuit_cbor_put_bstr(&e, hash1, 32);
        dsuit_cbor_put_uint(&e, 2);
        dsuit_cbor_put_bstr(&e, sig, sizeof sig);
        assert_int_equal(dsuit_cbor_enc_finish(&e, &len), DSUIT_OK);
        assert_int_equal(dsuit_peer_sign(&cl->val[1], 1, cl->g->hash, "POST",
                                         "/internal/v1/votes", body, len,
                                         cl_wall_ms(), hdr),
                         DSUIT_OK);
        headers[0] = hdr[0];
        headers[1] = hdr[1];
        headers[2] = hdr[2];
        headers[3] = "Content-Type: application/cbor";
        headers[4] = NULL;
        st = cl_http(cl, target, "POST", "/internal/v1/votes", headers, body,
                     len, NULL, NULL);
        assert_int_equal(st, 403);
    }

    /* Replays: a valid signed request passes once, then 403. */
    assert_int_equal(dsuit_peer_sign(&cl->val[1], 1, cl->g->hash, "POST",
                                     "/internal/v1/votes", vote, vote_len,
                                     cl_wall_ms(), hdr),
                     DSUIT_OK);
    headers[0] = hdr[0];
    headers[1] = hdr[1];
    headers[2] = hdr[2];
    headers[3] = "Content-Type: application/cbor";
    headers[4] = NULL;
    st = cl_http(cl, target, "POST", "/internal/v1/votes", headers, vote,
                 vote_len, NULL, NULL);
    assert_int_equal(st, 204);
    for (int r = 0; r < 3; r++) {
        st = cl_http(cl, target, "POST", "/internal/v1/votes", headers, vote,
                     vote_len, NULL, NULL);
        if (st != 403)
            fail_msg("replayed vote %d: HTTP %ld, not 403", r + 1, st);
    }
    assert_int_equal(dsuit_peer_sign(&cl->val[1], 1, cl->g->hash, "POST",
                                     "/internal/v1/tx", tx, tx_len,
                                     cl_wall_ms(), hdr),
                     DSUIT_OK);
    st = cl_http(cl, target, "POST", "/internal/v1/tx", headers, tx, tx_len,
                 NULL, NULL);
    assert_int_equal(st, 202); /* target is the leader */
    for (int r = 0; r < 3; r++) {
        st = cl_http(cl, target, "POST", "/internal/v1/tx", headers, tx, tx_len,
                     NULL, NULL);
        if (st != 403)
            fail_msg("replayed tx %d: HTTP %ld, not 403", r + 1, st);
    }

    /* The node is up, still leads, and commits the one accepted tx. */
    {
        uint64_t h, ix;
        assert_true(cl_wait_tx(cl, target, txid, 10000, &h, &ix));
    }
    assert_int_equal(cl_status(cl, target, &after), 0);
    assert_string_equal(after.role, "leader");
    assert_true(after.height > before.height);
    assert_int_equal(after.rejected, before.rejected);
    {
        /* The evidence list is empty: the replayed vote is the one
         * validator 1 really cast. */
        uint8_t *b = NULL;
        size_t bl = 0;
        assert_int_equal(
            cl_http(cl, target, "GET", "/v1/evidence", NULL, NULL, 0, &b, &bl),
            200);
        assert_non_null(strstr((const char *)b, "\"evidence\":[]"));
        free(b);
    }
    dsuit_key_wipe(&stranger);
    assert_all_running(cl);
    cl->keep = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(status_and_metrics_describe_the_node,
                                        cl_setup, cl_teardown),
        cmocka_unit_test_setup_teardown(four_nodes_elect_and_commit, cl_setup,
                                        cl_teardown),
        cmocka_unit_test_setup_teardown(leader_kill_during_submissions,
                                        cl_setup, cl_teardown),
        cmocka_unit_test_setup_teardown(restarted_node_catches_up, cl_setup,
                                        cl_teardown),
        cmocka_unit_test_setup_teardown(tampered_node_is_detected, cl_setup,
                                        cl_teardown),
        cmocka_unit_test_setup_teardown(forged_internal_request_is_refused,
                                        cl_setup, cl_teardown),
    };
    /* DSUIT_TEST_FILTER=leader_* runs only the matching tests. */
    if (getenv("DSUIT_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DSUIT_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
