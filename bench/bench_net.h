/*
 * Benchmark network helpers, shared by the modules that run real
 * `dsuit node run` processes on 127.0.0.1 (bench_node.c, bench_device.c;
 * bench/README.md, "The node figures"): a chain of NET_NODES validators
 * made and started here, child processes (nodes, nginx, other servers)
 * started with fork+exec and asked to die with the benchmark, libcurl
 * requests, publishing an image, and the statistics of rounds.
 *
 * Only processes started here are ever signalled, by pid. Every wait is
 * bounded. Failures are recorded with bench_fail() under the module's
 * name (net_t.module) and returned as -1.
 */
#ifndef DSUIT_BENCH_NET_H
#define DSUIT_BENCH_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench.h"
#include "dsuit/crypto.h"
#include "dsuit/genesis.h"

#define NET_NODES 4

/* The vendor and class every benchmark manifest is for. */
extern const uint8_t NET_VENDOR[16];
extern const uint8_t NET_CLASS[16];

/* A benchmark's chain and the processes it started. The caller zeroes it
 * and sets b, bin and module; net_create() fills the rest. */
typedef struct {
    bench_t *b;
    const char *module; /* "node", "device": messages, temp folder name */
    char root[256];
    const char *bin;
    dsuit_key_t val[NET_NODES], reg, author;
    dsuit_genesis_t *g;
    char name[NET_NODES][16]; /* "node-1" ... (validator names) */
    char data[NET_NODES][300];
    char base[NET_NODES][64]; /* "http://127.0.0.1:PORT" */
    uint16_t coap_port[NET_NODES];
    pid_t pid[NET_NODES];
    uint64_t nonce;
    /* nginx, when installed */
    pid_t nginx;
    char nginx_base[64];
    char www[300]; /* nginx's document root */
    /* the publishing author's next manifest sequence number */
    uint64_t seq;
} net_t;

/* ---- processes and files ---------------------------------------------- */

void net_sleep_ms(unsigned ms);
/** Lower-case hex of p[0..n) into out (2n + 1 bytes). */
void net_hex(const uint8_t *p, size_t n, char *out);
/** Write a whole file (created or truncated) with mode. 0 or -1. */
int net_write_file(const char *path, const void *p, size_t n, int mode);
/** Is `name` a program on PATH (or /usr/sbin, ...)? The environment
 * variable `var` overrides the search: a path to use, or empty for "not
 * installed". The path found goes to path. */
int net_have_program(const char *name, const char *var, char *path, size_t cap);
/** `count` (at most 3 * NET_NODES + 1) distinct free TCP ports on
 * 127.0.0.1. 0 or -1. */
int net_free_ports(size_t count, uint16_t *out);
/** fork+exec argv with stdout and stderr into logfile (log mode, returns
 * the pid), or into out when out != NULL (capture mode: waits, returns the
 * exit code). -1 if it cannot start. The child dies with this process. */
pid_t net_spawn(const char *const *argv, const char *logfile, char *out,
                size_t cap);
/** SIGTERM a pid started here, wait up to wait_ms, then SIGKILL; *pid = 0.
 * Returns its exit status (0: clean; 128 + signal). */
int net_stop_pid(pid_t *pid, unsigned wait_ms);

/* ---- HTTP (libcurl) ---------------------------------------------------- */

/* A response body, grown with realloc (caller frees p); with discard set,
 * only counted. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
    int discard; /* count only */
} net_sink_t;

/** libcurl write callback into a net_sink_t (CURLOPT_WRITEDATA). */
size_t net_sink_write(char *ptr, size_t sz, size_t nm, void *ud);
/** One request on handle h (reset first; kept-alive connections stay).
 * out may be NULL (body ignored). Returns the HTTP status or -1. */
long net_http(CURL *h, const char *method, const char *url, const char *ctype,
              const void *body, size_t len, long timeout_ms, net_sink_t *out);
/** GET a JSON document (NULL if none); the status goes to *status. */
json_t *net_get_json(CURL *h, const char *url, long *status);
/** GET /v1/tx/{id}: 2 certified, 1 committed, 0 pending or unknown, -1
 * invalid or no answer. */
int net_tx_state(CURL *h, const char *base, const char *idh);
/** A node's height from /v1/status, or -1. */
long long net_node_height(CURL *h, const char *base);

/* ---- the chain -------------------------------------------------------- */

/** Record a failure ("<module>: ...") with bench_fail(); returns -1. */
int net_fail(net_t *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Print the tail of node i's logs on stderr. */
void net_show_log(const net_t *x, size_t i);
/** Keys, a genesis on free ports (raft, HTTP, CoAP per node), each node's
 * data folder (`dsuit node init`) in a fresh folder under $TMPDIR. */
/** Start a module's network: zero x, set its bench and module name and the
 * dsuit program (DSUIT_BENCH_BIN). Returns 0, or -1 after printing
 * "skipped" when the program is not built. */
int net_begin(net_t *x, bench_t *b, const char *module);

int net_create(net_t *x, uint64_t heartbeat_ms);
/** Start every node and wait (30 s at most) until all name one leader. */
int net_start(net_t *x, CURL *h);
/** Stop what was started, remove the folder (kept if a node failed). */
void net_destroy(net_t *x);
/** A register-author transaction for a fresh key (or `key`) of
 * NET_VENDOR, signed by the registrar; malloc'd into *out. */
int net_tx_register(net_t *x, const dsuit_key_t *key, uint8_t **out,
                    size_t *out_len, uint8_t id[32]);
/** Submit one transaction to node `node` and wait until it is committed
 * (timeout_ms at most). */
int net_submit_wait(net_t *x, CURL *h, size_t node, const uint8_t *tx,
                    size_t len, const uint8_t id[32], unsigned timeout_ms);
/** Start nginx on a free port: static files from x->www, WebDAV PUT under
 * /put/, two workers. Sets x->nginx and x->nginx_base. 0 or -1. */
int net_nginx_start(net_t *x, const char *nginx, CURL *h);

/* ---- publishing ------------------------------------------------------- */

/* Deterministic pseudo-random bytes (xorshift64*), distinct per seed. */
void net_fill(uint8_t *p, size_t n, uint64_t seed);

typedef struct {
    double put, committed, certified; /* seconds from the start */
} net_pub_t;

/** Publish one image (NET_VENDOR, NET_CLASS, sequence ++x->seq, signed by
 * x->author, registered first) through node `node`: POST the envelope,
 * PUT the image, follow the transaction to its certificate (300 s at
 * most). Timed from the POST. */
int net_publish(net_t *x, CURL *h, size_t node, const uint8_t *img, size_t size,
                net_pub_t *out);

/* ---- statistics and rows ---------------------------------------------- */

/** "256 KiB", "36 MiB" */
const char *net_size_name(size_t n, char *buf, size_t cap);
int net_cmp_double(const void *a, const void *b);
/** Median of v[0..n) (sorts v). */
double net_median(double *v, int n);
double net_maxof(const double *v, int n);
/** The q-quantile (nearest rank) of sorted v. */
double net_quantile(const double *v, size_t n, double q);

/* A result row, added with net_add_row() only if `have`. */
typedef struct {
    int have;
    char fig[96], unit[24], baseline[96], note[128];
    double value, best, base;
} net_row_t;

void net_add_row(bench_t *b, const net_row_t *r);

#endif /* DSUIT_BENCH_NET_H */
