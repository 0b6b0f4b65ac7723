/*
 * dsuit benchmark harness (bench.h): calibration, interleaved samples,
 * median and minimum, the result table and the machine description, on
 * stdout and in a Markdown results file.
 */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#ifndef DSUIT_BENCH_VECTORS
#define DSUIT_BENCH_VECTORS "../shared/vectors"
#endif
#ifndef DSUIT_BENCH_RESULTS
#define DSUIT_BENCH_RESULTS "bench/results/latest.md"
#endif

#define MAX_ROWS    64
#define MAX_SAMPLES 101
#define MAX_MODULES 16

typedef struct {
    char figure[96];
    double value, best, base;
    char unit[24];
    char baseline[96];
    char note[128];
} row_t;

struct bench {
    bench_cfg_t cfg;
    const char *modules[MAX_MODULES];
    int n_modules;
    row_t rows[MAX_ROWS];
    int n_rows;
    int failed;
    double paused_at; /* > 0 while paused */
    double paused;    /* seconds paused during the current run */
    double started;
    char load_start[64];
};

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void read_loadavg(char *out, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    out[0] = '\0';
    if (f == NULL)
        return;
    if (fgets(out, (int)cap, f) != NULL) {
        /* Keep the three averages only. */
        char *p = out;
        for (int sp = 0; *p != '\0'; p++)
            if (*p == ' ' && ++sp == 3)
                break;
        *p = '\0';
    }
    fclose(f);
}

bench_t *bench_new(int argc, char **argv)
{
    bench_t *b = calloc(1, sizeof *b);
    const char *e;
    int explicit_out = 0;
    if (b == NULL)
        return NULL;
    e = getenv("BENCH_QUICK");
    b->cfg.quick = e != NULL && *e != '\0' && strcmp(e, "0") != 0;
    b->cfg.out = DSUIT_BENCH_RESULTS;
    if ((e = getenv("BENCH_OUT")) != NULL && *e != '\0') {
        b->cfg.out = e;
        explicit_out = 1;
    }
    b->cfg.vectors = DSUIT_BENCH_VECTORS;
    if ((e = getenv("DSUIT_VECTORS")) != NULL && *e != '\0')
        b->cfg.vectors = e;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            b->cfg.quick = 1;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            b->cfg.out = argv[++i];
            explicit_out = 1;
        } else if (strcmp(argv[i], "--help") == 0 || argv[i][0] == '-' ||
                   b->n_modules == MAX_MODULES) {
            fprintf(stderr,
                    "usage: bench_all [--quick] [--out FILE] [module...]\n"
                    "  env: BENCH_QUICK=1 BENCH_SAMPLES=k BENCH_MIN_TIME=s "
                    "BENCH_OUT=file DSUIT_VECTORS=dir\n");
            free(b);
            return NULL;
        } else {
            b->modules[b->n_modules++] = argv[i];
        }
    }
    /* A smoke run must not overwrite the real results unless asked to. */
    if (b->cfg.quick && !explicit_out)
        b->cfg.out = NULL;
    b->cfg.samples = b->cfg.quick ? 3 : 7;
    b->cfg.min_time = b->cfg.quick ? 0.01 : 0.2;
    if ((e = getenv("BENCH_SAMPLES")) != NULL && atoi(e) > 0)
        b->cfg.samples = atoi(e) < MAX_SAMPLES ? atoi(e) : MAX_SAMPLES;
    if ((e = getenv("BENCH_MIN_TIME")) != NULL && atof(e) > 0)
        b->cfg.min_time = atof(e);
    read_loadavg(b->load_start, sizeof b->load_start);
    b->started = bench_now();
    printf("dsuit benchmarks: %d samples of >= %.2f s each per figure%s\n",
           b->cfg.samples, b->cfg.min_time,
           b->cfg.quick ? " (quick smoke run)" : "");
    return b;
}

const bench_cfg_t *bench_cfg(const bench_t *b)
{
    return &b->cfg;
}

int bench_wants(const bench_t *b, const char *name)
{
    if (b->n_modules == 0)
        return 1;
    for (int i = 0; i < b->n_modules; i++)
        if (strcmp(b->modules[i], name) == 0)
            return 1;
    return 0;
}

void bench_section(bench_t *b, const char *name)
{
    (void)b;
    printf("\n== %s\n", name);
    fflush(stdout);
}

void bench_fail(bench_t *b, const char *fmt, ...)
{
    va_list ap;
    b->failed = 1;
    fprintf(stderr, "bench: FAILED: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bench_pause(bench_t *b)
{
    if (b->paused_at == 0)
        b->paused_at = bench_now();
}

void bench_resume(bench_t *b)
{
    if (b->paused_at != 0) {
        b->paused += bench_now() - b->paused_at;
        b->paused_at = 0;
    }
}

/* Time n iterations of fn, minus the paused time; negative on failure. */
static double run_once(bench_t *b, bench_fn_t fn, void *arg, uint64_t n)
{
    double t0, t;
    b->paused = 0;
    b->paused_at = 0;
    t0 = bench_now();
    if (fn(arg, n) != 0)
        return -1;
    bench_resume(b);
    t = bench_now() - t0 - b->paused;
    return t > 1e-9 ? t : 1e-9;
}

/* Find n so that one sample lasts at least min_time; the runs double as
 * warm-up. Returns 0, or -1 on failure. */
static int calibrate(bench_t *b, bench_fn_t fn, void *arg, uint64_t *out_n)
{
    uint64_t n = 1;
    for (int round = 0; round < 40; round++) {
        double t = run_once(b, fn, arg, n);
        double want;
        if (t < 0)
            return -1;
        if (t >= b->cfg.min_time) {
            *out_n = n;
            return 0;
        }
        /* Aim 20% past the target, at least doubling, at most x100. */
        want = (double)n * b->cfg.min_time * 1.2 / t;
        if (want < 2.0 * (double)n)
            want = 2.0 * (double)n;
        if (want > 100.0 * (double)n)
            want = 100.0 * (double)n;
        n = (uint64_t)want;
    }
    *out_n = n;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summarise(double *t, int k, uint64_t n, bench_stat_t *out)
{
    qsort(t, (size_t)k, sizeof *t, cmp_double);
    out->median = k % 2 ? t[k / 2] : (t[k / 2 - 1] + t[k / 2]) / 2;
    out->min = t[0];
    out->iters = n;
    out->samples = k;
}

int bench_pair(bench_t *b, const char *what, bench_fn_t fn, void *arg,
               bench_stat_t *out, bench_fn_t base, void *base_arg,
               bench_stat_t *out_base)
{
    double ta[MAX_SAMPLES], tb[MAX_SAMPLES];
    uint64_t na = 0, nb = 0;
    int k = b->cfg.samples;

    if (calibrate(b, fn, arg, &na) != 0 ||
        (base != NULL && calibrate(b, base, base_arg, &nb) != 0))
        goto fail;
    for (int i = 0; i < k; i++) {
        double t = run_once(b, fn, arg, na);
        if (t < 0)
            goto fail;
        ta[i] = t / (double)na;
        if (base != NULL) {
            t = run_once(b, base, base_arg, nb);
            if (t < 0)
                goto fail;
            tb[i] = t / (double)nb;
        }
    }
    summarise(ta, k, na, out);
    if (base != NULL)
        summarise(tb, k, nb, out_base);
    return 0;
fail:
    bench_fail(b, "%s: the measured function failed", what);
    return 1;
}

int bench_measure(bench_t *b, const char *what, bench_fn_t fn, void *arg,
                  bench_stat_t *out)
{
    return bench_pair(b, what, fn, arg, out, NULL, NULL, NULL);
}

double bench_rate(const bench_stat_t *s, double scale)
{
    return s->median > 0 ? scale / s->median : 0;
}

double bench_rate_best(const bench_stat_t *s, double scale)
{
    return s->min > 0 ? scale / s->min : 0;
}

/* A number with about three significant digits, thousands separated. */
static const char *fmt_num(double v, char *buf, size_t cap)
{
    if (v >= 1000) {
        char tmp[48];
        size_t len, o = 0;
        snprintf(tmp, sizeof tmp, "%.0f", v);
        len = strlen(tmp);
        for (size_t i = 0; i < len && o + 2 < cap; i++) {
            if (i > 0 && (len - i) % 3 == 0)
                buf[o++] = ',';
            buf[o++] = tmp[i];
        }
        buf[o] = '\0';
    } else if (v >= 100) {
        snprintf(buf, cap, "%.0f", v);
    } else if (v >= 10) {
        snprintf(buf, cap, "%.1f", v);
    } else if (v >= 1) {
        snprintf(buf, cap, "%.2f", v);
    } else {
        snprintf(buf, cap, "%.3g", v);
    }
    return buf;
}

static const char *fmt_ratio(double r, char *buf, size_t cap)
{
    snprintf(buf, cap, r >= 0.1 ? "%.2f" : "%.3f", r);
    return buf;
}

void bench_row(bench_t *b, const char *figure, double value, double best,
               const char *unit, const char *baseline, double base,
               const char *note)
{
    row_t *r;
    char v[32], bv[32], ra[32];
    if (b->n_rows == MAX_ROWS) {
        bench_fail(b, "too many result rows");
        return;
    }
    r = &b->rows[b->n_rows++];
    snprintf(r->figure, sizeof r->figure, "%s", figure);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->baseline, sizeof r->baseline, "%s", baseline);
    snprintf(r->note, sizeof r->note, "%s", note ? note : "");
    r->value = value;
    r->best = best;
    r->base = base;
    printf("  %-64s %11s %-10s | %-38s %11s | ratio %s\n", figure,
           fmt_num(value, v, sizeof v), unit, baseline,
           fmt_num(base, bv, sizeof bv),
           fmt_ratio(base > 0 ? value / base : 0, ra, sizeof ra));
    fflush(stdout);
}

/* ---- machine description ------------------------------------------------ */

/* Value of the first line "key<spaces>: value" of a /proc file. */
static void proc_field(const char *path, const char *key, char *out, size_t cap)
{
    char line[512];
    size_t kl = strlen(key);
    FILE *f = fopen(path, "r");
    snprintf(out, cap, "unknown");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        char *p;
        if (strncmp(line, key, kl) != 0 || (p = strchr(line, ':')) == NULL)
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        p[strcspn(p, "\n")] = '\0';
        snprintf(out, cap, "%s", p);
        break;
    }
    fclose(f);
}

static void os_name(char *out, size_t cap)
{
    char line[256], pretty[256] = "unknown";
    struct utsname u;
    FILE *f = fopen("/etc/os-release", "r");
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
                char *p = line + 12;
                if (*p == '"')
                    p++;
                p[strcspn(p, "\"\n")] = '\0';
                snprintf(pretty, sizeof pretty, "%s", p);
                break;
            }
        }
        fclose(f);
    }
    if (uname(&u) == 0)
        snprintf(out, cap, "%s, %s %s %s", pretty, u.sysname, u.release,
                 u.machine);
    else
        snprintf(out, cap, "%s", pretty);
}

static void machine_lines(const bench_t *b, FILE *o, const char *bullet)
{
    char cpu[160], mem[64], os[512], load_end[64];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    proc_field("/proc/cpuinfo", "model name", cpu, sizeof cpu);
    proc_field("/proc/meminfo", "MemTotal", mem, sizeof mem);
    if (atof(mem) > 0) /* "24684084 kB" */
        snprintf(mem, sizeof mem, "%.1f GiB", atof(mem) / (1024.0 * 1024.0));
    os_name(os, sizeof os);
    read_loadavg(load_end, sizeof load_end);
    fprintf(o, "%sCPU: %s, %ld cores online\n", bullet, cpu, cores);
    fprintf(o, "%smemory: %s\n", bullet, mem);
    fprintf(o, "%sOS: %s\n", bullet, os);
#if defined(__clang__)
    fprintf(o, "%scompiler: clang %s", bullet, __clang_version__);
#elif defined(__GNUC__)
    fprintf(o, "%scompiler: gcc %s", bullet, __VERSION__);
#else
    fprintf(o, "%scompiler: unknown", bullet);
#endif
#ifdef DSUIT_BENCH_BUILD_TYPE
    fprintf(o, ", build type %s", DSUIT_BENCH_BUILD_TYPE);
#endif
#ifdef DSUIT_BENCH_C_FLAGS
    fprintf(o, " (%s)", DSUIT_BENCH_C_FLAGS);
#endif
    fprintf(o, "\n%sOpenSSL: %s\n", bullet, OpenSSL_version(OPENSSL_VERSION));
    fprintf(o, "%sload average: %s at start, %s at end\n", bullet,
            b->load_start, load_end);
    fprintf(o,
            "%ssettings: %d samples per figure, >= %.2f s each, figures "
            "are medians; samples of a figure and its baseline "
            "interleaved%s\n",
            bullet, b->cfg.samples, b->cfg.min_time,
            b->cfg.quick ? "; QUICK smoke run, not for comparison" : "");
}

static int write_markdown(const bench_t *b, const char *path)
{
    char date[64], v[32], best[32], bv[32], ra[32];
    time_t now = time(NULL);
    struct tm tm;
    FILE *o = fopen(path, "w");
    if (o == NULL) {
        perror(path);
        return 1;
    }
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    fprintf(o, "# dsuit benchmark results\n\n");
    fprintf(o,
            "Written by bench_all (`make bench`) on %s, in %.0f s. "
            "What each figure and baseline mean: bench/README.md. "
            "Ratio = dsuit / baseline (higher is better for dsuit; "
            "every unit is a rate).\n\n",
            date, bench_now() - b->started);
    fprintf(o, "| figure | dsuit (median) | dsuit (best) | unit | baseline "
               "| baseline (median) | ratio | note |\n");
    fprintf(o, "| --- | ---: | ---: | --- | --- | ---: | ---: | --- |\n");
    for (int i = 0; i < b->n_rows; i++) {
        const row_t *r = &b->rows[i];
        fprintf(o, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r->figure,
                fmt_num(r->value, v, sizeof v),
                r->best > 0 ? fmt_num(r->best, best, sizeof best) : "", r->unit,
                r->baseline, fmt_num(r->base, bv, sizeof bv),
                fmt_ratio(r->base > 0 ? r->value / r->base : 0, ra, sizeof ra),
                r->note);
    }
    fprintf(o, "\n## Machine\n\n");
    machine_lines(b, o, "- ");
    if (b->failed)
        fprintf(o, "\n**A benchmark failed in this run; see its output.**\n");
    if (fclose(o) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int bench_finish(bench_t *b)
{
    int rc = b->failed;
    printf("\nmachine:\n");
    machine_lines(b, stdout, "  ");
    if (b->cfg.out != NULL) {
        if (write_markdown(b, b->cfg.out) != 0)
            rc = 1;
        else
            printf("results written to %s\n", b->cfg.out);
    }
    printf("%s in %.1f s\n", rc ? "bench: FAILED" : "bench: done",
           bench_now() - b->started);
    free(b);
    return rc ? 1 : 0;
}
