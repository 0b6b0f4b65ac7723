/*
 * dsuit benchmark harness: times a function over repeated samples and
 * collects result rows, each figure next to a baseline measured in the same
 * run, for `make bench` (bench/README.md).
 *
 * A measured function runs n iterations of what it measures and returns 0,
 * or nonzero to abort the benchmark. The harness first calibrates n so one
 * sample lasts at least the minimum time, then takes the samples and keeps
 * the median and the minimum time per iteration. Work inside the function
 * that must not count (building the next input) goes between
 * bench_pause() and bench_resume().
 *
 * bench_pair() interleaves the samples of a figure and its baseline, so a
 * noisy neighbour on the shared machine slows both alike and the ratio
 * stays meaningful.
 *
 * Not thread-safe; one bench_t per run.
 */
#ifndef DSUIT_BENCH_H
#define DSUIT_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"

typedef struct bench bench_t;

/* Run n iterations; 0 on success. */
typedef int (*bench_fn_t)(void *arg, uint64_t n);

/* Timing of one measured function. Times are seconds per iteration. */
typedef struct {
    double median;
    double min;
    uint64_t iters; /* iterations per sample */
    int samples;
} bench_stat_t;

/* Run settings, taken from the environment and command line by
 * bench_new(). */
typedef struct {
    int quick;           /* BENCH_QUICK=1 or --quick: smoke run */
    int samples;         /* samples per figure (7, quick 3) */
    double min_time;     /* seconds per sample (0.2, quick 0.01) */
    const char *out;     /* results file, or NULL for stdout only */
    const char *vectors; /* folder of the official vectors */
} bench_cfg_t;

/**
 * Start a run. Reads BENCH_QUICK, BENCH_SAMPLES, BENCH_MIN_TIME,
 * BENCH_OUT and DSUIT_VECTORS, then the options --quick, --out FILE.
 * Remaining arguments name the modules to run (none: all).
 * @return NULL on a usage error (after printing it).
 */
bench_t *bench_new(int argc, char **argv);

/** Write the results (stdout, and the results file if any), free the run.
 * @return 0, or 1 if a benchmark failed or the file could not be written. */
int bench_finish(bench_t *b);

const bench_cfg_t *bench_cfg(const bench_t *b);

/** Nonzero if module `name` was asked for (or no module was named). */
int bench_wants(const bench_t *b, const char *name);

/** Print a section heading for the module about to run. */
void bench_section(bench_t *b, const char *name);

/** Record that something failed (printed, and makes the run exit 1). */
void bench_fail(bench_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Stop and restart the clock inside a measured function. */
void bench_pause(bench_t *b);
void bench_resume(bench_t *b);

/** Monotonic time in seconds. */
double bench_now(void);

/**
 * Measure one function with the run's settings.
 * @return 0, or nonzero if fn failed (recorded with bench_fail).
 */
int bench_measure(bench_t *b, const char *what, bench_fn_t fn, void *arg,
                  bench_stat_t *out);

/** Measure fn and its baseline base with interleaved samples. */
int bench_pair(bench_t *b, const char *what, bench_fn_t fn, void *arg,
               bench_stat_t *out, bench_fn_t base, void *base_arg,
               bench_stat_t *out_base);

/** Rate from a timing: scale / median time (scale: units per iteration). */
double bench_rate(const bench_stat_t *s, double scale);
/** Best rate: scale / minimum time. */
double bench_rate_best(const bench_stat_t *s, double scale);

/**
 * Add a result row. value and base are in the same unit (higher is
 * better); ratio = value / base. best is the dsuit value of the fastest
 * sample (0: none). note may be NULL.
 */
void bench_row(bench_t *b, const char *figure, double value, double best,
               const char *unit, const char *baseline, double base,
               const char *note);

/*
 * The shared baseline "bare ES256 verification": dsuit_p256_verify() of a
 * 64-byte signature over a 128-byte message (about a COSE Sig_structure),
 * with a key made by bench_es256_init(). bench_es256_verify() is a
 * bench_fn_t taking a bench_es256_t.
 */
typedef struct {
    dsuit_key_t key;
    uint8_t msg[128];
    uint8_t sig[DSUIT_SIG_LEN];
} bench_es256_t;

int bench_es256_init(bench_es256_t *e);
int bench_es256_verify(void *arg, uint64_t n);
#define BENCH_ES256_NAME "bare ES256 verify (dsuit_p256_verify)"

/*
 * The benchmark modules, in the order they run: X(name) declares
 * void bench_<name>(bench_t *b), defined in bench/bench_<name>.c. A new
 * module is one file and one entry here.
 */
#define BENCH_MODULES(X)                                                       \
    X(crypto) X(suit) X(ledger) X(merkle) X(node) X(device)

#define BENCH__DECLARE(name) void bench_##name(bench_t *b);
BENCH_MODULES(BENCH__DECLARE)
#undef BENCH__DECLARE

#endif /* DSUIT_BENCH_H */
