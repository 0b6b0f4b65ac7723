/*
 * Test helpers for the fault suite (tests/system/test_faults.c, issue 8):
 * the faults a cluster of real `dsuit node run` processes
 * (tests/helpers/cluster.h) is put through, and the looks at a node that
 * stay bounded while another node is frozen.
 *
 *   - freeze (SIGSTOP) and thaw (SIGCONT) a node by the pid cluster.h
 *     started it with; a teardown thaws every node still frozen, so that
 *     cl_destroy() can stop it;
 *   - kill -9 every node at once (all signals first, then the reaping);
 *   - /v1/status with a short timeout, and a leader election seen only by
 *     the nodes a mask names (a frozen node would hold a poll for the
 *     whole HTTP timeout);
 *   - run the dsuit program with a deadline, stdout and stderr apart, its
 *     pipes close-on-exec so no node started meanwhile inherits them;
 *   - damage a file on a node's disk in one of several ways;
 *   - SHA-256 of a file, and a seeded xorshift generator for test choices.
 *
 * Like cluster.h, set-up functions fail the running cmocka test; query
 * functions return a status. Only pids started by cluster.h are signalled.
 * Nothing here may be called from a thread other than the test's, except
 * ff_status() and ff_rand().
 */
#ifndef DSUIT_TEST_FAULT_FIXTURE_H
#define DSUIT_TEST_FAULT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "device_fixture.h"

/* ff_run() when the program outlived its deadline (it was killed). */
#define FF_TIMEOUT DF_TIMEOUT

/** SIGSTOP node i (it must be running). It stays frozen until ff_thaw()
 * or ff_thaw_all(). */
void ff_freeze(cl_t *cl, size_t i);

/** SIGCONT node i if ff_freeze() froze it. */
void ff_thaw(cl_t *cl, size_t i);

/** Thaw every node of cl still frozen (for teardowns). */
void ff_thaw_all(cl_t *cl);

/** Is node i frozen by ff_freeze()? */
int ff_frozen(const cl_t *cl, size_t i);

/** cmocka teardown: ff_thaw_all() then cl_teardown(). */
int ff_teardown(void **state);

/** SIGKILL every running node of cl, then reap them all: no node sees
 * another one's death before its own. */
void ff_kill9_all(cl_t *cl);

/** GET /v1/status on node i within timeout_ms. 0, or -1 (no valid
 * answer). Safe from any thread. */
int ff_status(const cl_t *cl, size_t i, unsigned timeout_ms, cl_status_t *out);

/**
 * Wait until a node in mask (bit i: node i) says it is the leader in a
 * term > min_term and a majority of all validators, among the nodes in
 * mask, name it. Returns its index (term in *out_term if not NULL), or -1
 * on timeout. Polls at least once.
 */
int ff_wait_leader_among(const cl_t *cl, unsigned mask, uint64_t min_term,
                         unsigned timeout_ms, uint64_t *out_term);

/**
 * Run $DSUIT_BIN with args (NULL-terminated, without the program) and the
 * NAME=VALUE strings of env added (may be NULL); stdout into out and
 * stderr into err (each NUL-terminated and truncated; err may be NULL).
 * Killed after timeout_ms. Returns the exit code, 128+signal, FF_TIMEOUT,
 * or -1 if it could not be started.
 */
int ff_run(const cl_t *cl, const char *const *args, const char *const *env,
           unsigned timeout_ms, char *out, size_t out_cap, char *err,
           size_t err_cap);

/* The ways ff_damage() spoils a file. */
typedef enum {
    FF_FLIP_MIDDLE, /* one bit in the middle byte */
    FF_FLIP_FIRST,  /* one bit in the first byte */
    FF_FLIP_LAST,   /* one bit in the last byte */
    FF_TRUNCATE,    /* cut to half its length */
    FF_EMPTY,       /* cut to 0 bytes */
    FF_EXTEND,      /* one byte appended */
    FF_ZEROES,      /* every byte zero, same length */
    FF_DAMAGE_KINDS
} ff_damage_t;

/** Name of a damage kind, for messages. */
const char *ff_damage_name(ff_damage_t kind);

/** Damage the file at path (it must exist and not be empty). */
void ff_damage(const char *path, ff_damage_t kind);

/** Replace the file at path with these bytes (fails the test on error). */
void ff_write_file(const char *path, const uint8_t *p, size_t n);

/** SHA-256 of a file. 0, or -1 if it cannot be read. */
int ff_sha256_file(const char *path, uint8_t out[32]);

/** Next number of a xorshift64* generator (state must not be 0). Safe
 * from any thread on its own state. */
uint64_t ff_rand(uint64_t *state);

#endif /* DSUIT_TEST_FAULT_FIXTURE_H */
