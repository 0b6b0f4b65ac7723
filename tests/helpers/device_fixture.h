/*
 * Test helpers for system tests that run programs next to a cluster
 * (tests/helpers/cluster.h): start a program in the background and stop
 * it by its pid, run a program to completion with a deadline and its
 * stdout and stderr kept apart, find a free UDP port, and read the files a
 * reference device (`dsuit device run|once`) leaves in its state folder.
 * Used by tests/system/test_device.c.
 *
 * Every child asks the kernel to kill it when the test process dies
 * (PR_SET_PDEATHSIG), so a crashed or timed-out test leaves nothing
 * behind; only pids started here are ever signalled. Every wait is bounded
 * by the deadline its caller gives.
 */
#ifndef DSUIT_TEST_DEVICE_FIXTURE_H
#define DSUIT_TEST_DEVICE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* df_run() when the program outlived its deadline (it was killed). */
#define DF_TIMEOUT (-2)

/** A UDP port on 127.0.0.1 that was free a moment ago (below the ephemeral
 * range, src/net/ports.h). Fails the running test if none can be had. */
uint16_t df_free_udp_port(void);

/** Is `name` an executable on the PATH? */
int df_have_tool(const char *name);

/**
 * fork+exec argv[0] (searched on the PATH when it has no '/') in the
 * background, stdout appended to out_path and stderr to err_path (either
 * may be NULL: /dev/null), with the NAME=VALUE strings of env (NULL-
 * terminated, may be NULL) added to its environment. Returns the pid;
 * fails the running test if it cannot fork.
 */
pid_t df_spawn(const char *const *argv, const char *const *env,
               const char *out_path, const char *err_path);

/**
 * Wait up to timeout_ms for pid to exit and reap it. Returns 1 with its
 * status (exit code, or 128+signal) in *out_status, or 0 if it still runs.
 */
int df_wait(pid_t pid, unsigned timeout_ms, int *out_status);

/**
 * Send sig to pid, wait up to wait_ms for it to exit, then SIGKILL it.
 * Returns its status (exit code, or 128+signal), -1 if pid <= 0.
 */
int df_stop(pid_t pid, int sig, unsigned wait_ms);

/**
 * Run argv to completion (argv[0] searched on the PATH when it has no
 * '/'), with env added as for df_spawn(), stdout into out and stderr into
 * err (each NUL-terminated, truncated to its capacity; either may be
 * NULL). A program still running after timeout_ms is killed (SIGKILL).
 * Returns its exit code, 128+signal, DF_TIMEOUT, or -1 if it could not be
 * started.
 */
int df_run(const char *const *argv, const char *const *env, unsigned timeout_ms,
           char *out, size_t out_cap, char *err, size_t err_cap);

/** The whole file, NUL-terminated (length in *len if not NULL); caller
 * frees. NULL if it cannot be read. */
uint8_t *df_slurp(const char *path, size_t *len);

/** Write n bytes to path (created or truncated, mode 0644). 0 or -1. */
int df_write_file(const char *path, const void *p, size_t n);

/** 1 if both files exist and hold the same bytes, else 0. */
int df_files_equal(const char *a, const char *b);

/**
 * The value of `key` in a device state folder's `state` file (the seven
 * "key value" lines of docs/cli/dsuit-device.md: active, seq, manifest,
 * image, size, stored) into out. Returns 0, or -1 if the file or the key
 * is missing.
 */
int df_state_field(const char *state_dir, const char *key, char *out,
                   size_t cap);

/** df_state_field() as a number; `dflt` when missing or not a number. */
uint64_t df_state_u64(const char *state_dir, const char *key, uint64_t dflt);

#endif /* DSUIT_TEST_DEVICE_FIXTURE_H */
