/*
 * Crash test of the ledger: a forked child opens a ledger with sync on (the
 * default) and appends blocks of a few transactions in a loop, writing each
 * height to a pipe once dsuit_ledger_apply() has returned. The parent kills
 * it with SIGKILL after a random 1..50 ms, at least 20 times; after each
 * kill it reopens the ledger and checks that nothing committed was lost
 * (height >= the last height the child reported, and at most one more),
 * that dsuit_ledger_verify() passes, and that the next child starts from
 * that height. Only the child this test forked is ever killed, and it is
 * always reaped; everything lives in one mkdtemp() folder under /tmp,
 * removed at the end.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"

#include "ledger_fixture.h"

#define N_VAL       4
#define N_REG       3
#define K           2
#define KILLS       24 /* at least 20 */
#define MIN_KILLS   20
#define DEADLINE_S  50.0 /* the whole test, kills and checks */
#define CHILD_MAX_S 5.0  /* a child never runs longer than this */
#define TXCAP       4096

static const uint8_t vendor[16] = {0xc4, 0xa5, 0x11, 0x7e, 1, 2,  3,  4,
                                   5,    6,    7,    8,    9, 10, 11, 12};
static const uint8_t klass[16] = {0xc1, 0xa5, 0x55, 0x00, 1, 2,  3,  4,
                                  5,    6,    7,    8,    9, 10, 11, 12};

typedef struct {
    char root[256], dir[300];
    dsuit_key_t val[N_VAL], reg[N_REG], author, dev;
    uint8_t genesis[8192];
    size_t genesis_len;
    uint8_t chain[32];
} world_t;

/* Messages from child to parent: a tag and a 64-bit value (9 bytes, so
 * every write is atomic on a pipe). */
enum { MSG_START = 'S', MSG_COMMITTED = 'C', MSG_ERROR = 'E' };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the child (no cmocka in here: it only reports and _exits) ---------- */

static void send_msg(int fd, char tag, uint64_t v)
{
    uint8_t m[9];
    m[0] = (uint8_t)tag;
    memcpy(m + 1, &v, 8);
    ssize_t n;
    do {
        n = write(fd, m, sizeof m);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof m)
        _exit(4);
}

static void child_fail(int fd, uint64_t where)
{
    send_msg(fd, MSG_ERROR, where);
    _exit(3);
}

/* A one-component envelope signed by the author, sequence number seq. */
static int envelope(const dsuit_key_t *signer, uint64_t seq, uint8_t *out,
                    size_t cap, size_t *out_len)
{
    uint8_t digest[32];

    memset(digest, (int)(seq & 0xff), 32);
    memcpy(digest, &seq, sizeof seq);
    return lfx_build_envelope(signer, seq, 0x00, vendor, klass, digest, 1000,
                              out, cap, out_len);
}

/*
 * The transactions of block h+1, all of which must apply: at height 0 the
 * author's registration; after that two device registrations and a publish
 * with sequence number h+1. Everything is derived from h, so a child that
 * restarts after a kill never repeats a transaction.
 */
static int block_txs(const world_t *w, uint64_t h, uint8_t txs[3][TXCAP],
                     size_t lens[3], size_t *n)
{
    uint8_t body[TXCAP];
    size_t bl;
    int rc;
    if (h == 0) {
        rc = dsuit_tx_body_register_author(w->chain, 1, &w->author, "crash",
                                           vendor, NULL, 0, body, sizeof body,
                                           &bl);
        if (rc == DSUIT_OK)
            rc =
                dsuit_tx_assemble(body, bl, w->reg, K, txs[0], TXCAP, &lens[0]);
        *n = 1;
        return rc;
    }
    for (int i = 0; i < 2; i++) {
        uint8_t id[16] = {0xcd};
        memcpy(id + 4, &h, 8);
        id[15] = (uint8_t)i;
        rc = dsuit_tx_body_register_device(w->chain, h * 16 + (uint64_t)i, id,
                                           vendor, klass, &w->dev, body,
                                           sizeof body, &bl);
        if (rc == DSUIT_OK)
            rc = dsuit_tx_assemble(body, bl, i ? &w->author : &w->reg[1],
                                   i ? 1 : K, txs[i], TXCAP, &lens[i]);
        if (rc != DSUIT_OK)
            return rc;
    }
    {
        uint8_t env[2048], chunk[1][32];
        size_t n_env;
        dsuit_tx_image_in_t img;
        uint8_t digest[32];
        rc = envelope(&w->author, h + 1, env, sizeof env, &n_env);
        if (rc != DSUIT_OK)
            return rc;
        memset(digest, (int)((h + 1) & 0xff), 32);
        memcpy(digest, &(uint64_t){h + 1}, 8);
        memset(chunk[0], 0x5a, 32);
        img.digest = digest;
        img.size = 1000;
        img.chunk_size = DSUIT_POLICY_CHUNK_SIZE;
        img.chunks = (const uint8_t(*)[32])chunk;
        img.n_chunks = 1;
        rc = dsuit_tx_body_publish(w->chain, h * 16 + 2, env, n_env, &img, 1,
                                   body, sizeof body, &bl);
        if (rc == DSUIT_OK)
            rc = dsuit_tx_assemble(body, bl, NULL, 0, txs[2], TXCAP, &lens[2]);
    }
    *n = 3;
    return rc;
}

static void child_run(const world_t *w, int fd)
{
    dsuit_ledger_t *l = NULL;
    const char *why = NULL;
    static uint8_t txs[3][TXCAP];
    size_t lens[3], n;
    uint64_t now = 1700000000000ull;
    double t0 = now_s();
    /* The parent kills us; should the parent die instead, so do we. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(5);
    /* Sync on: the defaults. */
    if (dsuit_ledger_open(w->dir, w->genesis, w->genesis_len, NULL, &l, &why) !=
        DSUIT_OK)
        child_fail(fd, 1);
    send_msg(fd, MSG_START, dsuit_ledger_height(l));
    while (now_s() - t0 < CHILD_MAX_S) {
        uint64_t h = dsuit_ledger_height(l);
        const uint8_t *tp[3];
        uint8_t *blk;
        size_t blen;
        dsuit_block_info_t info;
        if (block_txs(w, h, txs, lens, &n) != DSUIT_OK)
            child_fail(fd, 2);
        for (size_t i = 0; i < n; i++)
            tp[i] = txs[i];
        now += 1000;
        if (dsuit_ledger_propose(l, &w->val[h % N_VAL], now, tp, lens, n, &blk,
                                 &blen) != DSUIT_OK)
            child_fail(fd, 3);
        if (dsuit_ledger_apply(l, blk, blen, &info) != DSUIT_OK)
            child_fail(fd, 4);
        free(blk);
        if (info.n_ok != n || info.height != h + 1)
            child_fail(fd, 5);
        send_msg(fd, MSG_COMMITTED, info.height);
    }
    dsuit_ledger_close(l);
    _exit(0);
}

/* ---- the parent --------------------------------------------------------- */

static void world_init(world_t *w)
{
    dsuit_genesis_t *g;
    const char *why = NULL;
    snprintf(w->dir, sizeof w->dir, "%s/ledger", w->root);
    assert_int_equal(mkdir(w->dir, 0700), 0);
    assert_int_equal(dsuit_genesis_new(&g), DSUIT_OK);
    strcpy(g->chain_name, "crash-chain");
    g->time = 1700000000;
    for (int i = 0; i < N_VAL; i++) {
        char name[8];
        snprintf(name, sizeof name, "v%d", i);
        assert_int_equal(
            dsuit_key_generate(i % 2 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                               &w->val[i]),
            DSUIT_OK);
        assert_int_equal(dsuit_genesis_add_validator(g, name, &w->val[i],
                                                     "127.0.0.1", 7000 + i,
                                                     8000 + i, 5683 + i),
                         DSUIT_OK);
    }
    for (int i = 0; i < N_REG; i++) {
        assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &w->reg[i]),
                         DSUIT_OK);
        assert_int_equal(dsuit_genesis_add_registrar(g, &w->reg[i]), DSUIT_OK);
    }
    g->threshold = K;
    if (dsuit_genesis_validate(g, &why) != DSUIT_OK)
        fail_msg("genesis: %s", why ? why : "");
    assert_int_equal(
        dsuit_genesis_encode(g, w->genesis, sizeof w->genesis, &w->genesis_len),
        DSUIT_OK);
    memcpy(w->chain, g->hash, 32);
    dsuit_genesis_free(g);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &w->author),
                     DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, &w->dev), DSUIT_OK);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Read every message the (dead) child wrote. */
static void drain(int fd, int *started, uint64_t *start_h, int *committed,
                  uint64_t *last_h, int *error, uint64_t *error_where)
{
    uint8_t buf[9 * 4096];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        size_t i = 0;
        for (; i + 9 <= have; i += 9) {
            uint64_t v;
            memcpy(&v, buf + i + 1, 8);
            switch (buf[i]) {
            case MSG_START:
                *started = 1;
                *start_h = v;
                break;
            case MSG_COMMITTED:
                if (*committed && v != *last_h + 1)
                    fail_msg("child reported height %llu after %llu",
                             (unsigned long long)v,
                             (unsigned long long)*last_h);
                *committed = 1;
                *last_h = v;
                break;
            case MSG_ERROR:
                *error = 1;
                *error_where = v;
                break;
            default:
                fail_msg("garbled message from the child");
            }
        }
        memmove(buf, buf + i, have - i);
        have -= i;
    }
    /* A partial message means the child died inside write(): pipes write
     * 9 bytes atomically, so this cannot happen. */
    assert_int_equal(have, 0);
}

/* The folder lives in the state, so teardown removes it even when the
 * test fails (every failure comes after the child was reaped). */
static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    snprintf(w->root, sizeof w->root, "/tmp/dsuit-test-crash-XXXXXX");
    if (mkdtemp(w->root) == NULL) {
        free(w);
        return -1;
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->root);
    int rc = system(cmd);
    free(w);
    return rc == 0 ? 0 : -1;
}

static void ledger_survives_sigkill_at_random_moments(void **state)
{
    world_t *w = *state;
    uint64_t height = 0; /* what the parent last found on disk */
    unsigned kills = 0, progressed = 0;
    double t0 = now_s();
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    const char *env_seed = getenv("DSUIT_SEED");
    if (env_seed != NULL && *env_seed)
        seed = strtoull(env_seed, NULL, 0);
    srand((unsigned)seed);
    print_message("crash: seed %llu (DSUIT_SEED overrides)\n",
                  (unsigned long long)seed);
    world_init(w);

    while (kills < KILLS && now_s() - t0 < DEADLINE_S) {
        int fds[2], status = 0, started = 0, committed = 0, error = 0;
        uint64_t start_h = 0, last_h = 0, where = 0;
        unsigned delay = 1 + (unsigned)(rand() % 50);
        pid_t pid;
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_run(w, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        /* The first child gets longer, so that there is a ledger to
         * crash; every kill after that comes at a random moment. */
        sleep_ms(kills == 0 ? 200 : delay);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        drain(fds[0], &started, &start_h, &committed, &last_h, &error, &where);
        close(fds[0]);
        if (error)
            fail_msg("child failed at step %llu", (unsigned long long)where);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
            /* It must still have been running: it runs up to CHILD_MAX_S. */
            fail_msg("child ended by itself (status 0x%x)", status);
        }
        kills++;

        /* The child restarted from the height found on disk. */
        if (started && start_h != height)
            fail_msg("kill %u: child started at %llu, ledger was at %llu",
                     kills, (unsigned long long)start_h,
                     (unsigned long long)height);
        /* Reopen: nothing reported committed is lost, and at most the one
         * block being committed when the kill came is there beyond it. */
        {
            dsuit_ledger_t *l = NULL;
            const char *why = NULL;
            uint64_t floor = committed ? last_h : height, vh = 0;
            int rc = dsuit_ledger_open(w->dir, w->genesis, w->genesis_len, NULL,
                                       &l, &why);
            if (rc != DSUIT_OK)
                fail_msg("kill %u: reopen: %s (%s)", kills, dsuit_err_name(rc),
                         why ? why : "");
            uint64_t h = dsuit_ledger_height(l);
            if (h < floor)
                fail_msg("kill %u: height %llu after reopen, but %llu was "
                         "reported committed",
                         kills, (unsigned long long)h,
                         (unsigned long long)floor);
            if (h > floor + 1)
                fail_msg("kill %u: height %llu, more than one block past "
                         "the last reported %llu",
                         kills, (unsigned long long)h,
                         (unsigned long long)floor);
            /* The manifest log was rebuilt from the store: one leaf per
             * block after the first. */
            assert_int_equal(dsuit_ledger_mlog_size(l), h ? h - 1 : 0);
            dsuit_ledger_close(l);
            rc = dsuit_ledger_verify(w->dir, w->root, &vh, &why);
            if (rc != DSUIT_OK)
                fail_msg("kill %u: verify: %s at %llu: %s", kills,
                         dsuit_err_name(rc), (unsigned long long)vh,
                         why ? why : "");
            assert_int_equal(vh, h);
            if (h > height)
                progressed++;
            height = h;
        }
    }
    print_message("crash: %u kills in %.1f s, final height %llu, %u kills "
                  "after progress\n",
                  kills, now_s() - t0, (unsigned long long)height, progressed);
    if (kills < MIN_KILLS)
        fail_msg("only %u kills before the deadline", kills);
    assert_true(height > 0);
    assert_true(progressed > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            ledger_survives_sigkill_at_random_moments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
