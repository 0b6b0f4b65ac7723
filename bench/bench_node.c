/*
 * Node benchmark: a network of 4 real `dsuit node run` processes on
 * 127.0.0.1, driven over their HTTP API (docs/api.md), each figure next to
 * a baseline measured in the same run (bench/README.md, "The node
 * figures"):
 *
 *   1. committed register-author transactions per second, submitted by
 *      concurrent clients to every node, with commit latency p50/p99;
 *      baseline: durable one-key LMDB commits per second on the same disk
 *      (dsuit_store, sync on), the per-block cost floor;
 *   2. GET /v1/manifests/latest under 64 connections (wrk), next to nginx
 *      serving the same bytes as a static file;
 *   3. publish latency, upload start to certificate, 1 MiB and 36 MiB,
 *      next to a plain HTTP PUT of the same bytes to nginx (WebDAV);
 *   4. GET /v1/images/{digest} of a 36 MiB image from the node holding the
 *      fewest of its chunks, next to nginx serving the same file.
 *
 * Figures 2 to 4 need nginx (and 2 needs wrk); without them they are
 * skipped with a note. A quick run (bench.smoke) uses small inputs and
 * short runs. Samples of a figure and its baseline alternate, as in
 * bench_pair(); each figure is the median of its rounds.
 *
 * Processes: the nodes and nginx are started here with fork+exec, each
 * asked to die with this process (PR_SET_PDEATHSIG), and only those pids
 * are ever signalled. Every loop and wait is bounded.
 */
/* prctl, statfs (Linux) and mkdtemp beyond the project's POSIX 2008. */
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench.h"
#include "dsuit/chunk.h"
#include "dsuit/cose.h"
#include "dsuit/genesis.h"
#include "dsuit/store.h"
#include "dsuit/suit_build.h"
#include "dsuit/tx.h"

#define N_NODES     4
#define MAX_CLIENTS 16
#define MAX_ROUNDS  9
#define MIB         (1024.0 * 1024.0)

static const uint8_t VENDOR[16] = {0xbe, 0x7c, 0x00, 0x01, 0x02, 0x03,
                                   0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                   0x0a, 0x0b, 0x0c, 0x0d};
static const uint8_t CLASS[16] = {0xc1, 0xa5, 0x50, 0x01, 0x02, 0x03,
                                  0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                  0x0a, 0x0b, 0x0c, 0x0d};

/* ---- the network -------------------------------------------------------- */

typedef struct {
    bench_t *b;
    char root[256];
    const char *bin;
    dsuit_key_t val[N_NODES], reg, author;
    dsuit_genesis_t *g;
    char data[N_NODES][300];
    char base[N_NODES][64];
    pid_t pid[N_NODES];
    uint64_t nonce;
    /* nginx, when installed */
    pid_t nginx;
    char nginx_base[64];
    char www[300];
    /* the publishing author's next manifest sequence number */
    uint64_t seq;
} net_t;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int write_file(const char *path, const void *p, size_t n, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    const uint8_t *q = p;
    if (fd < 0)
        return -1;
    while (n > 0) {
        ssize_t w = write(fd, q, n);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        q += w;
        n -= (size_t)w;
    }
    return close(fd);
}

/* Is `name` a program on PATH? The environment variable `var` overrides
 * the search: a path to use, or empty for "not installed". */
static int have_program(const char *name, const char *var, char *path,
                        size_t cap)
{
    const char *env = getenv(var);
    char dirs[4096], *save = NULL;
    if (env != NULL) {
        snprintf(path, cap, "%s", env);
        return env[0] != '\0' && access(path, X_OK) == 0;
    }
    env = getenv("PATH");
    static const char fallback[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                   "/usr/bin:/sbin:/bin";
    /* nginx lives in /usr/sbin, which a user's PATH may lack. */
    snprintf(dirs, sizeof dirs, "%s:%s", env ? env : "", fallback);
    for (char *d = strtok_r(dirs, ":", &save); d != NULL;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(path, cap, "%s/%s", d, name);
        if (access(path, X_OK) == 0)
            return 1;
    }
    return 0;
}

/* `count` distinct free TCP ports on 127.0.0.1. */
static int free_ports(size_t count, uint16_t *out)
{
    int fds[3 * N_NODES + 1];
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&a, &al) != 0)
            rc = -1;
        out[i] = ntohs(a.sin_port);
    }
    for (size_t i = 0; i < count; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

/* fork+exec argv with stdout and stderr into logfile (or a pipe read into
 * out when out != NULL: then wait for it). Returns the pid (log mode), the
 * exit code (capture mode), or -1. */
static pid_t spawn(const char *const *argv, const char *logfile, char *out,
                   size_t cap)
{
    pid_t parent = getpid(), pid;
    int p[2] = {-1, -1}, st;
    size_t n = 0;
    if (out != NULL && pipe(p) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd;
        /* Die with the benchmark: nothing started here outlives it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        fd = out != NULL ? p[1]
                         : open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (out != NULL)
            close(p[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (out == NULL)
        return pid;
    close(p[1]);
    for (;;) {
        char buf[1024];
        ssize_t r = read(p[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t j = 0; j < r && n + 1 < cap; j++)
            out[n++] = buf[j];
    }
    close(p[0]);
    out[n] = '\0';
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* SIGTERM a pid started here, wait up to wait_ms, then SIGKILL. Returns
 * its exit status (0: clean). */
static int stop_pid(pid_t *pid, unsigned wait_ms)
{
    double t0 = bench_now();
    int st;
    if (*pid <= 0)
        return 0;
    kill(*pid, SIGTERM);
    while ((bench_now() - t0) * 1000 < wait_ms) {
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        sleep_ms(10);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, &st, 0);
    *pid = 0;
    return 128 + SIGKILL;
}

/* ---- HTTP (libcurl, one handle per thread, connections kept alive) ---- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int discard; /* count only */
} sink_t;

static size_t sink_write(char *ptr, size_t sz, size_t nm, void *ud)
{
    sink_t *s = ud;
    size_t n = sz * nm;
    if (!s->discard) {
        if (s->len + n + 1 > s->cap) {
            size_t cap = s->cap ? s->cap : 4096;
            uint8_t *q;
            while (cap < s->len + n + 1)
                cap *= 2;
            if ((q = realloc(s->p, cap)) == NULL)
                return 0;
            s->p = q;
            s->cap = cap;
        }
        memcpy(s->p + s->len, ptr, n);
        s->p[s->len + n] = '\0';
    }
    s->len += n;
    return n;
}

static size_t ignore_write(char *ptr, size_t sz, size_t nm, void *ud)
{
    (void)ptr;
    (void)ud;
    return sz * nm;
}

/* One request; out may be NULL (body ignored). Returns the HTTP status or
 * -1. Expect: 100-continue is off, so big bodies go at once. */
static long http(CURL *h, const char *method, const char *url,
                 const char *ctype, const void *body, size_t len,
                 long timeout_ms, sink_t *out)
{
    struct curl_slist *hd = NULL;
    char ct[96];
    long status = -1;
    if (out != NULL)
        out->len = 0;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION,
                     out != NULL ? sink_write : ignore_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    hd = curl_slist_append(hd, "Expect:");
    if (ctype != NULL) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        hd = curl_slist_append(hd, ct);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    return status;
}

static json_t *get_json(CURL *h, const char *url, long *status)
{
    sink_t s = {0};
    json_t *j = NULL;
    *status = http(h, "GET", url, NULL, NULL, 0, 5000, &s);
    if (*status > 0 && s.p != NULL)
        j = json_loadb((const char *)s.p, s.len, 0, NULL);
    free(s.p);
    return j;
}

/* GET /v1/tx/{id} on a node: 2 certified, 1 committed, 0 pending or not
 * yet known here, -1 invalid or no answer. */
static int tx_state(CURL *h, const char *base, const char *idh)
{
    char url[160];
    long status;
    json_t *j;
    const char *s;
    int r = -1;
    snprintf(url, sizeof url, "%s/v1/tx/%s", base, idh);
    j = get_json(h, url, &status);
    if (status == 404) {
        json_decref(j);
        return 0;
    }
    s = status == 200 ? json_string_value(json_object_get(j, "status")) : NULL;
    if (s != NULL)
        r = strcmp(s, "certified") == 0   ? 2
            : strcmp(s, "committed") == 0 ? 1
            : strcmp(s, "pending") == 0   ? 0
                                          : -1;
    json_decref(j);
    return r;
}

/* A node's height from /v1/status, or -1. */
static long long node_height(CURL *h, const char *base)
{
    char url[128];
    long status;
    long long r = -1;
    json_t *j;
    snprintf(url, sizeof url, "%s/v1/status", base);
    j = get_json(h, url, &status);
    if (status == 200 && json_is_integer(json_object_get(j, "height")))
        r = json_integer_value(json_object_get(j, "height"));
    json_decref(j);
    return r;
}

/* ---- setting the network up --------------------------------------------- */

static int net_fail(net_t *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int net_fail(net_t *x, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bench_fail(x->b, "node: %s", msg);
    return -1;
}

static void show_log(const net_t *x, size_t i)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd,
             "echo '--- tail of %s/node.log:' >&2; tail -n 15 '%s/node.log' "
             "'%s/stdio.log' >&2",
             x->data[i], x->data[i], x->data[i]);
    if (system(cmd) != 0)
        fprintf(stderr, "(cannot show the log)\n");
}

/* Keys, genesis on free ports and each node's data folder (`node init`). */
static int net_create(net_t *x, uint64_t heartbeat_ms)
{
    const char *tmp = getenv("TMPDIR");
    uint16_t ports[3 * N_NODES];
    dsuit_genesis_t *g = NULL;
    uint8_t genesis[16384];
    size_t glen;
    const char *why = NULL;
    char path[400];

    snprintf(x->root, sizeof x->root, "%s/dsuit-bench-node-XXXXXX",
             tmp != NULL && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(x->root) == NULL) {
        x->root[0] = '\0';
        return net_fail(x, "mkdtemp: %s", strerror(errno));
    }
    if (free_ports(3 * N_NODES, ports) != 0)
        return net_fail(x, "no free ports on 127.0.0.1");
    if (dsuit_genesis_new(&g) != DSUIT_OK)
        return net_fail(x, "out of memory");
    snprintf(g->chain_name, sizeof g->chain_name, "bench-node");
    g->time = (uint64_t)time(NULL);
    for (size_t i = 0; i < N_NODES; i++) {
        char name[16];
        snprintf(name, sizeof name, "node-%zu", i + 1);
        if (dsuit_key_generate(DSUIT_KEY_ED25519, &x->val[i]) != DSUIT_OK ||
            dsuit_genesis_add_validator(g, name, &x->val[i], "127.0.0.1",
                                        ports[3 * i], ports[3 * i + 1],
                                        ports[3 * i + 2]) != DSUIT_OK)
            goto fail;
        snprintf(x->base[i], sizeof x->base[i], "http://127.0.0.1:%u",
                 (unsigned)ports[3 * i + 1]);
    }
    if (dsuit_key_generate(DSUIT_KEY_P256, &x->reg) != DSUIT_OK ||
        dsuit_genesis_add_registrar(g, &x->reg) != DSUIT_OK)
        goto fail;
    g->threshold = 1;
    g->policy.heartbeat_ms = heartbeat_ms;
    if (dsuit_genesis_validate(g, &why) != DSUIT_OK ||
        dsuit_genesis_encode(g, genesis, sizeof genesis, &glen) != DSUIT_OK)
        goto fail;
    dsuit_genesis_free(g);
    g = NULL;
    if (dsuit_genesis_decode(genesis, glen, &x->g, &why) != DSUIT_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/genesis.cbor", x->root);
    if (write_file(path, genesis, glen, 0644) != 0)
        return net_fail(x, "cannot write %s", path);

    for (size_t i = 0; i < N_NODES; i++) {
        char pem[1024], keyfile[400], name[16], out[2048];
        size_t pl;
        int rc;
        if (dsuit_key_to_pem(&x->val[i], 1, pem, sizeof pem, &pl) != DSUIT_OK)
            goto fail;
        snprintf(keyfile, sizeof keyfile, "%s/node-%zu.key", x->root, i + 1);
        rc = write_file(keyfile, pem, pl, 0600);
        dsuit_wipe(pem, sizeof pem);
        if (rc != 0)
            return net_fail(x, "cannot write %s", keyfile);
        snprintf(name, sizeof name, "node-%zu", i + 1);
        snprintf(x->data[i], sizeof x->data[i], "%s/node-%zu", x->root, i + 1);
        const char *argv[] = {x->bin,  "node",   "init",     "--genesis",
                              path,    "--name", name,       "--key",
                              keyfile, "--data", x->data[i], NULL};
        rc = spawn(argv, NULL, out, sizeof out);
        if (rc != 0)
            return net_fail(x, "dsuit node init %s exited %d: %s", name, rc,
                            out);
    }
    return 0;
fail:
    dsuit_genesis_free(g);
    return net_fail(x, "cannot make the chain%s%s", why ? ": " : "",
                    why ? why : "");
}

/* Start every node (default options, as `dsuit devnet` does) and wait
 * until all answer and name the same leader. */
static int net_start(net_t *x, CURL *h)
{
    double t0 = bench_now();
    for (size_t i = 0; i < N_NODES; i++) {
        char logfile[400], stdio[400];
        snprintf(logfile, sizeof logfile, "%s/node.log", x->data[i]);
        snprintf(stdio, sizeof stdio, "%s/stdio.log", x->data[i]);
        const char *argv[] = {x->bin,     "node",  "run",   "--data",
                              x->data[i], "--log", logfile, NULL};
        x->pid[i] = spawn(argv, stdio, NULL, 0);
        if (x->pid[i] < 0) {
            x->pid[i] = 0;
            return net_fail(x, "cannot start node-%zu", i + 1);
        }
    }
    /* At most 30 s. */
    while (bench_now() - t0 < 30) {
        char leader[N_NODES][64];
        int ok = 1;
        for (size_t i = 0; i < N_NODES && ok; i++) {
            char url[128];
            long status;
            json_t *j;
            const char *l;
            int st;
            if (waitpid(x->pid[i], &st, WNOHANG) == x->pid[i]) {
                x->pid[i] = 0;
                show_log(x, i);
                return net_fail(x, "node-%zu exited at start", i + 1);
            }
            snprintf(url, sizeof url, "%s/v1/status", x->base[i]);
            j = get_json(h, url, &status);
            l = status == 200 ? json_string_value(json_object_get(j, "leader"))
                              : NULL;
            if (l == NULL || (i > 0 && strcmp(l, leader[0]) != 0))
                ok = 0;
            else
                snprintf(leader[i], sizeof leader[i], "%s", l);
            json_decref(j);
        }
        if (ok)
            return 0;
        sleep_ms(50);
    }
    for (size_t i = 0; i < N_NODES; i++)
        show_log(x, i);
    return net_fail(x, "the network did not agree on a leader in 30 s");
}

/* Stop what was started, remove the folder (kept if a node failed). */
static void net_destroy(net_t *x)
{
    int keep = 0;
    if (x->nginx > 0)
        stop_pid(&x->nginx, 5000);
    for (size_t i = 0; i < N_NODES; i++) {
        int st;
        if (x->pid[i] <= 0)
            continue;
        if ((st = stop_pid(&x->pid[i], 10000)) != 0) {
            fprintf(stderr, "bench: node-%zu stopped with %d\n", i + 1, st);
            keep = 1;
        }
    }
    if (x->root[0] != '\0') {
        if (keep) {
            fprintf(stderr, "bench: node data kept in %s\n", x->root);
        } else {
            char cmd[300];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->root);
            if (system(cmd) != 0)
                fprintf(stderr, "bench: cannot remove %s\n", x->root);
        }
    }
    for (size_t i = 0; i < N_NODES; i++)
        dsuit_key_wipe(&x->val[i]);
    dsuit_key_wipe(&x->reg);
    dsuit_key_wipe(&x->author);
    dsuit_genesis_free(x->g);
    x->g = NULL;
}

/* A register-author transaction for a fresh key (or `key`), signed by
 * the registrar; malloc'd into *out. */
static int tx_register(net_t *x, const dsuit_key_t *key, uint8_t **out,
                       size_t *out_len, uint8_t id[32])
{
    dsuit_key_t fresh;
    uint8_t body[1024], tx[2048];
    size_t bl, len;
    int rc;
    if (key == NULL) {
        if (dsuit_key_generate(DSUIT_KEY_ED25519, &fresh) != DSUIT_OK)
            return -1;
        key = &fresh;
    }
    rc = dsuit_tx_body_register_author(x->g->hash, x->nonce++, key,
                                       "bench author", VENDOR, NULL, 0, body,
                                       sizeof body, &bl) != DSUIT_OK ||
         dsuit_tx_assemble(body, bl, &x->reg, 1, tx, sizeof tx, &len) !=
             DSUIT_OK ||
         dsuit_sha256(body, bl, id) != DSUIT_OK;
    if (key == &fresh)
        dsuit_key_wipe(&fresh);
    if (rc || (*out = malloc(len)) == NULL)
        return -1;
    memcpy(*out, tx, len);
    *out_len = len;
    return 0;
}

/* Submit one transaction and wait (bounded) until it is committed. */
static int submit_wait(net_t *x, CURL *h, size_t node, const uint8_t *tx,
                       size_t len, const uint8_t id[32], unsigned timeout_ms)
{
    char url[128], idh[65];
    double t0 = bench_now();
    long st;
    hex(id, 32, idh);
    snprintf(url, sizeof url, "%s/v1/tx", x->base[node]);
    st = http(h, "POST", url, "application/cbor", tx, len, 10000, NULL);
    if (st != 202)
        return net_fail(x, "POST /v1/tx answered %ld", st);
    while ((bench_now() - t0) * 1000 < timeout_ms) {
        int s = tx_state(h, x->base[node], idh);
        if (s > 0)
            return 0;
        if (s < 0)
            return net_fail(x, "transaction %s refused", idh);
        sleep_ms(20);
    }
    return net_fail(x, "transaction %s not committed in %u ms", idh,
                    timeout_ms);
}

/* ---- nginx -------------------------------------------------------------- */

/* Start nginx on a free port: static files from root/www, WebDAV PUT
 * under /put/. Two worker processes, as the node has two HTTP threads. */
static int nginx_start(net_t *x, const char *nginx, CURL *h)
{
    char dir[280], conf[400], cfg[4096], url[128], errlog[400];
    uint16_t port;
    double t0;
    snprintf(dir, sizeof dir, "%s/nginx", x->root);
    snprintf(x->www, sizeof x->www, "%s/www", dir);
    snprintf(cfg, sizeof cfg, "%s/tmp", dir);
    if (mkdir(dir, 0755) != 0 || mkdir(x->www, 0755) != 0 ||
        mkdir(cfg, 0755) != 0)
        return -1;
    snprintf(cfg, sizeof cfg, "%s/www/put", dir);
    if (mkdir(cfg, 0755) != 0 || free_ports(1, &port) != 0)
        return -1;
    /* Run as root, nginx's workers run as nobody: let them reach the
     * folder (not list it) and write where PUT and request bodies go. */
    if (geteuid() == 0) {
        char tmp[300];
        snprintf(tmp, sizeof tmp, "%s/tmp", dir);
        if (chmod(x->root, 0711) != 0 || chmod(cfg, 0777) != 0 ||
            chmod(tmp, 0777) != 0)
            return -1;
    }
    snprintf(cfg, sizeof cfg,
             "daemon off;\n"
             "worker_processes 2;\n"
             "pid %s/nginx.pid;\n"
             "error_log %s/error.log warn;\n"
             "events { worker_connections 1024; }\n"
             "http {\n"
             "  access_log off;\n"
             "  sendfile on;\n"
             "  open_file_cache max=64;\n"
             "  tcp_nopush on;\n"
             "  keepalive_requests 1000000;\n"
             "  client_body_temp_path %s/tmp;\n"
             "  proxy_temp_path %s/tmp;\n"
             "  fastcgi_temp_path %s/tmp;\n"
             "  uwsgi_temp_path %s/tmp;\n"
             "  scgi_temp_path %s/tmp;\n"
             "  default_type application/cbor;\n"
             "  server {\n"
             "    listen 127.0.0.1:%u;\n"
             "    root %s;\n"
             "    client_max_body_size 200m;\n"
             "    location /put/ { dav_methods PUT; }\n"
             "  }\n"
             "}\n",
             dir, dir, dir, dir, dir, dir, dir, (unsigned)port, x->www);
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    snprintf(errlog, sizeof errlog, "%s/stdio.log", dir);
    if (write_file(conf, cfg, strlen(cfg), 0644) != 0)
        return -1;
    const char *argv[] = {nginx, "-p", dir, "-c", conf, NULL};
    x->nginx = spawn(argv, errlog, NULL, 0);
    if (x->nginx < 0) {
        x->nginx = 0;
        return -1;
    }
    snprintf(x->nginx_base, sizeof x->nginx_base, "http://127.0.0.1:%u",
             (unsigned)port);
    snprintf(url, sizeof url, "%s/", x->nginx_base);
    for (t0 = bench_now(); bench_now() - t0 < 10;) {
        int st;
        if (http(h, "GET", url, NULL, NULL, 0, 1000, NULL) > 0)
            return 0;
        if (waitpid(x->nginx, &st, WNOHANG) == x->nginx) {
            x->nginx = 0;
            snprintf(cfg, sizeof cfg, "tail -n 5 '%s' >&2", errlog);
            if (system(cfg) != 0)
                fprintf(stderr, "(cannot show the nginx log)\n");
            return -1;
        }
        sleep_ms(20);
    }
    return -1;
}

/* "256 KiB", "36 MiB" */
static const char *size_name(size_t n, char *buf, size_t cap)
{
    if (n >= (1u << 20))
        snprintf(buf, cap, "%.0f MiB", (double)n / MIB);
    else
        snprintf(buf, cap, "%.0f KiB", (double)n / 1024);
    return buf;
}

/* ---- statistics --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return (p > q) - (p < q);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double maxof(const double *v, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

/* The q-quantile (nearest rank) of sorted v. */
static double quantile(const double *v, size_t n, double q)
{
    size_t k = (size_t)(q * (double)n + 0.999999);
    if (n == 0)
        return 0;
    return v[k == 0 ? 0 : k > n ? n - 1 : k - 1];
}

/* ---- 1. committed transactions per second ------------------------------- */

typedef struct {
    uint8_t *tx;
    size_t len;
    char idh[65];
} item_t;

typedef struct {
    net_t *x;
    size_t node;
    item_t *items;
    size_t n, window;
    double start, deadline;
    double *lat;   /* per item: submit -> committed, seconds */
    double t_last; /* when the last one was seen committed */
    char why[160];
} client_t;

/* One client: keeps `window` transactions in flight on its node, polls
 * them in submission order (a block takes them in that order, so the
 * first still pending ends a pass) every 10 ms. */
static void *client_run(void *arg)
{
    client_t *c = arg;
    CURL *h = curl_easy_init();
    double *sub = calloc(c->n ? c->n : 1, sizeof *sub);
    size_t next_sub = 0, next_poll = 0;
    char url[128];
    snprintf(url, sizeof url, "%s/v1/tx", c->x->base[c->node]);
    if (h == NULL || sub == NULL) {
        snprintf(c->why, sizeof c->why, "out of memory");
        goto out;
    }
    while (next_poll < c->n) {
        int progress = 0;
        if (bench_now() > c->deadline) {
            snprintf(c->why, sizeof c->why,
                     "%zu of %zu transactions not committed in time",
                     c->n - next_poll, c->n);
            goto out;
        }
        while (next_sub < c->n && next_sub - next_poll < c->window) {
            double t = bench_now();
            long st =
                http(h, "POST", url, "application/cbor", c->items[next_sub].tx,
                     c->items[next_sub].len, 10000, NULL);
            if (st == 503) /* busy or no leader: try again shortly */
                break;
            if (st != 202) {
                snprintf(c->why, sizeof c->why, "POST /v1/tx answered %ld", st);
                goto out;
            }
            sub[next_sub++] = t;
            progress = 1;
        }
        while (next_poll < next_sub) {
            int s = tx_state(h, c->x->base[c->node], c->items[next_poll].idh);
            if (s < 0) {
                snprintf(c->why, sizeof c->why, "transaction %s refused",
                         c->items[next_poll].idh);
                goto out;
            }
            if (s == 0)
                break;
            c->t_last = bench_now();
            c->lat[next_poll] = c->t_last - sub[next_poll];
            next_poll++;
            progress = 1;
        }
        if (!progress || next_poll < next_sub)
            sleep_ms(10);
    }
out:
    free(sub);
    if (h != NULL)
        curl_easy_cleanup(h);
    return NULL;
}

typedef struct {
    double tps;
    double *lat; /* all latencies of the round, n */
    size_t n;
    long long blocks; /* blocks node-1 applied during the round */
} tx_round_t;

/* One round: n_clients threads, per_client transactions each, client k
 * on node k mod 4. Transactions are made before the clock starts. */
static int tx_round(net_t *x, CURL *h, size_t n_clients, size_t per_client,
                    size_t window, tx_round_t *out)
{
    long long h0, h1;
    client_t cl[MAX_CLIENTS];
    pthread_t th[MAX_CLIENTS];
    size_t total = n_clients * per_client, started = 0;
    item_t *items = calloc(total, sizeof *items);
    double *lat = calloc(total, sizeof *lat), t_end = 0, t0;
    int rc = -1;

    if (items == NULL || lat == NULL)
        goto out;
    for (size_t i = 0; i < total; i++) {
        uint8_t id[32];
        if (tx_register(x, NULL, &items[i].tx, &items[i].len, id) != 0) {
            net_fail(x, "cannot make a register-author transaction");
            goto out;
        }
        hex(id, 32, items[i].idh);
    }
    h0 = node_height(h, x->base[0]);
    t0 = bench_now();
    for (size_t k = 0; k < n_clients; k++) {
        client_t *c = &cl[k];
        memset(c, 0, sizeof *c);
        c->x = x;
        c->node = k % N_NODES;
        c->items = items + k * per_client;
        c->n = per_client;
        c->window = window;
        c->start = t0;
        c->deadline = t0 + 120;
        c->lat = lat + k * per_client;
        if (pthread_create(&th[k], NULL, client_run, c) != 0)
            break;
        started++;
    }
    for (size_t k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    if (started < n_clients) {
        net_fail(x, "cannot start client threads");
        goto out;
    }
    for (size_t k = 0; k < n_clients; k++) {
        if (cl[k].why[0] != '\0') {
            net_fail(x, "client %zu: %s", k, cl[k].why);
            goto out;
        }
        if (cl[k].t_last > t_end)
            t_end = cl[k].t_last;
    }
    h1 = node_height(h, x->base[0]);
    out->blocks = h0 >= 0 && h1 >= h0 ? h1 - h0 : 0;
    out->tps = (double)total / (t_end - t0);
    out->lat = lat;
    out->n = total;
    lat = NULL;
    rc = 0;
out:
    for (size_t i = 0; items != NULL && i < total; i++)
        free(items[i].tx);
    free(items);
    free(lat);
    return rc;
}

/* Baseline: one-key write transactions with fsync on, for `secs`, in a
 * fresh store beside the nodes' data. Commits per second, or -1. */
static double lmdb_floor(net_t *x, double secs)
{
    char dir[300];
    dsuit_store_t *s = NULL;
    dsuit_store_opts_t o;
    double t0, t = 0, rate = -1;
    uint64_t n = 0;
    snprintf(dir, sizeof dir, "%s/lmdb-floor", x->root);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    memset(&o, 0, sizeof o);
    o.map_size = 64u << 20;
    if (dsuit_store_open(dir, &o, &s) != DSUIT_OK)
        return -1;
    t0 = bench_now();
    while (n < 1000000 && (t = bench_now() - t0) < secs) {
        dsuit_store_txn_t *txn;
        uint8_t v[8];
        dsuit_store_u64_key(n, v);
        if (dsuit_store_begin(s, 1, &txn) != DSUIT_OK)
            goto out;
        if (dsuit_store_put(txn, DSUIT_TBL_META, "bench", 5, v, 8) !=
            DSUIT_OK) {
            dsuit_store_abort(txn);
            goto out;
        }
        if (dsuit_store_commit(txn) != DSUIT_OK)
            goto out;
        n++;
    }
    rate = (double)n / (bench_now() - t0);
out:
    dsuit_store_close(s);
    return rate;
}

static const char *fs_name(const char *dir)
{
    struct statfs f;
    if (statfs(dir, &f) != 0)
        return "unknown";
    switch ((unsigned long)f.f_type) {
    case 0xEF53:
        return "ext4";
    case 0x01021994:
        return "tmpfs (fsync is free)";
    case 0x9123683E:
        return "btrfs";
    case 0x58465342:
        return "xfs";
    case 0x794c7630:
        return "overlayfs";
    default:
        return "other";
    }
}

typedef struct {
    int have;
    char fig[96], unit[24], baseline[96], note[128];
    double value, best, base;
} row_t;

static void add_row(bench_t *b, const row_t *r)
{
    if (r->have)
        bench_row(b, r->fig, r->value, r->best, r->unit, r->baseline, r->base,
                  r->note);
}

static void fig_tx(net_t *x, CURL *h, row_t *row)
{
    const int quick = bench_cfg(x->b)->quick;
    const int rounds = quick ? 1 : 5;
    size_t clients = quick ? 4 : 8, window = quick ? 4 : 64;
    size_t per_client = quick ? 4 : 250;
    double tps[MAX_ROUNDS], floor[MAX_ROUNDS], *all;
    size_t n_all = 0;
    long long blocks = 0;
    double secs = 0;
    const char *e;

    /* Overrides, for exploring (bench/README.md). */
    if ((e = getenv("BENCH_NODE_CLIENTS")) != NULL && atoi(e) > 0)
        clients = (size_t)atoi(e) < MAX_CLIENTS ? (size_t)atoi(e) : MAX_CLIENTS;
    if ((e = getenv("BENCH_NODE_WINDOW")) != NULL && atoi(e) > 0)
        window = (size_t)atoi(e) < 1000 ? (size_t)atoi(e) : 1000;
    if ((e = getenv("BENCH_NODE_TXS")) != NULL && atoi(e) > 0)
        per_client = (size_t)atoi(e) < 5000 ? (size_t)atoi(e) : 5000;

    all = calloc((size_t)rounds * clients * per_client, sizeof *all);
    if (all == NULL)
        return;
    for (int r = 0; r < rounds; r++) {
        tx_round_t t;
        if (tx_round(x, h, clients, per_client, window, &t) != 0)
            goto out;
        blocks += t.blocks;
        secs += (double)t.n / t.tps;
        tps[r] = t.tps;
        memcpy(all + n_all, t.lat, t.n * sizeof *all);
        n_all += t.n;
        free(t.lat);
        floor[r] = lmdb_floor(x, quick ? 0.3 : 1.0);
        if (floor[r] <= 0) {
            net_fail(x, "the LMDB baseline failed");
            goto out;
        }
        printf("  (round %d: %.0f tx/s in %lld blocks; LMDB %.0f "
               "commits/s)\n",
               r + 1, tps[r], t.blocks, floor[r]);
    }
    qsort(all, n_all, sizeof *all, cmp_double);
    row->have = 1;
    snprintf(row->fig, sizeof row->fig,
             "committed tx/s, 4 nodes, %zu clients x %zu in flight", clients,
             window);
    snprintf(row->unit, sizeof row->unit, "tx/s");
    snprintf(row->baseline, sizeof row->baseline,
             "LMDB durable 1-key commits/s, same disk");
    snprintf(row->note, sizeof row->note,
             "submit to committed p50 %.0f ms, p99 %.0f ms (%zu tx); %.1f "
             "blocks/s, %.0f tx per block",
             1000 * quantile(all, n_all, 0.5),
             1000 * quantile(all, n_all, 0.99), n_all,
             secs > 0 ? (double)blocks / secs : 0.0,
             blocks > 0 ? (double)n_all / (double)blocks : 0.0);
    row->best = maxof(tps, rounds);
    row->value = median(tps, rounds);
    row->base = median(floor, rounds);
    printf("  (data folder on %s)\n", fs_name(x->root));
out:
    free(all);
}

/* ---- 3. publish latency ------------------------------------------------- */

/* Deterministic pseudo-random bytes (xorshift64*), distinct per seed. */
static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v;
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        v = s * 0x2545F4914F6CDD1Dull;
        memcpy(p + i, &v, n - i < 8 ? n - i : 8);
    }
}

typedef struct {
    double put, committed, certified; /* seconds from the start */
} pub_t;

/* Publish one image through node `node`: POST the signed envelope, PUT
 * the image, follow the transaction to its certificate. Timed from the
 * POST (upload start); building the manifest is not. */
static int publish(net_t *x, CURL *h, size_t node, const uint8_t *img,
                   size_t size, pub_t *out)
{
    dsuit_suit_build_desc_t d;
    dsuit_suit_build_signer_t sg;
    uint8_t env[4096], kid[32];
    size_t env_len;
    sink_t s = {0};
    json_t *j = NULL;
    const char *loc, *id;
    char url[512], idh[65];
    long st;
    double t0;
    int rc = -1, seen = 0;

    dsuit_suit_build_desc_init(&d);
    d.seq = ++x->seq;
    d.n_components = 1;
    d.components[0].id.parts[0].ptr = (const uint8_t *)"\x00";
    d.components[0].id.parts[0].len = 1;
    d.components[0].id.n_parts = 1;
    memcpy(d.components[0].vendor_id, VENDOR, 16);
    memcpy(d.components[0].class_id, CLASS, 16);
    d.components[0].image_size = size;
    if (dsuit_sha256(img, size, d.components[0].image_digest) != DSUIT_OK ||
        dsuit_cose_key_id(&x->author, kid) != DSUIT_OK)
        return net_fail(x, "cannot hash the image");
    memset(&sg, 0, sizeof sg);
    sg.key = &x->author;
    sg.kid = kid;
    sg.kid_len = sizeof kid;
    if (dsuit_suit_build_envelope(&d, &sg, 1, env, sizeof env, &env_len) !=
        DSUIT_OK)
        return net_fail(x, "cannot build the envelope");

    t0 = bench_now();
    snprintf(url, sizeof url, "%s/v1/publish", x->base[node]);
    st = http(h, "POST", url, "application/cbor", env, env_len, 30000, &s);
    if (st != 201 || s.p == NULL ||
        (j = json_loadb((const char *)s.p, s.len, 0, NULL)) == NULL ||
        (loc = json_string_value(json_object_get(
             json_array_get(json_object_get(j, "images"), 0), "upload"))) ==
            NULL) {
        net_fail(x, "POST /v1/publish answered %ld: %s", st,
                 s.p ? (char *)s.p : "");
        goto out;
    }
    snprintf(url, sizeof url, "%s%s", x->base[node], loc);
    json_decref(j);
    j = NULL;
    st = http(h, "PUT", url, "application/octet-stream", img, size, 600000, &s);
    if (st != 202 || s.p == NULL ||
        (j = json_loadb((const char *)s.p, s.len, 0, NULL)) == NULL ||
        (id = json_string_value(json_object_get(j, "id"))) == NULL ||
        strlen(id) != 64) {
        net_fail(x, "PUT %s answered %ld: %s", url, st, s.p ? (char *)s.p : "");
        goto out;
    }
    out->put = bench_now() - t0;
    snprintf(idh, sizeof idh, "%s", id);
    /* Poll every 5 ms, at most 300 s. */
    while (bench_now() - t0 < 300) {
        int state = tx_state(h, x->base[node], idh);
        if (state < 0) {
            net_fail(x, "publish %s refused by the ledger", idh);
            goto out;
        }
        if (state >= 1 && seen < 1) {
            out->committed = bench_now() - t0;
            seen = 1;
        }
        if (state == 2) {
            out->certified = bench_now() - t0;
            rc = 0;
            goto out;
        }
        sleep_ms(5);
    }
    net_fail(x, "publish %s not certified in 300 s", idh);
out:
    json_decref(j);
    free(s.p);
    return rc;
}

/* Baseline: PUT the same bytes to nginx (WebDAV, written to a file). */
static int nginx_put(net_t *x, CURL *h, const uint8_t *img, size_t size,
                     double *out)
{
    char url[160];
    double t0 = bench_now();
    long st;
    snprintf(url, sizeof url, "%s/put/image.bin", x->nginx_base);
    st = http(h, "PUT", url, "application/octet-stream", img, size, 600000,
              NULL);
    if (st != 201 && st != 204)
        return net_fail(x, "nginx PUT answered %ld", st);
    *out = bench_now() - t0;
    return 0;
}

/* Publishes `size` bytes `rounds` times, alternating with the nginx PUT
 * when nginx runs. The last image stays in *last (caller frees). */
static int fig_publish(net_t *x, CURL *h, size_t size, int rounds, row_t *row,
                       uint8_t **last)
{
    double cert[MAX_ROUNDS], put[MAX_ROUNDS], com[MAX_ROUNDS], up[MAX_ROUNDS];
    double base[MAX_ROUNDS];
    uint8_t *img = malloc(size);
    double mb = (double)size / 1e6, c50, b50;
    char sz[32];
    size_name(size, sz, sizeof sz);
    if (img == NULL)
        return -1;
    for (int r = 0; r < rounds; r++) {
        pub_t p;
        fill(img, size, x->seq + 1000);
        if (publish(x, h, 0, img, size, &p) != 0) {
            free(img);
            return -1;
        }
        cert[r] = p.certified;
        com[r] = p.committed;
        up[r] = p.put;
        base[r] = 0;
        if (x->nginx > 0 && nginx_put(x, h, img, size, &base[r]) != 0) {
            free(img);
            return -1;
        }
        printf("  (publish %s: upload %.3f s, committed %.3f s, "
               "certified %.3f s",
               sz, p.put, p.committed, p.certified);
        if (x->nginx > 0)
            printf("; nginx PUT %.3f s", base[r]);
        printf(")\n");
    }
    for (int r = 0; r < rounds; r++)
        put[r] = mb / cert[r];
    /* Without nginx there is no baseline: measured, but no row. */
    row->have = x->nginx > 0;
    row->best = maxof(put, rounds);
    row->value = mb / (c50 = median(cert, rounds));
    b50 = median(base, rounds);
    row->base = b50 > 0 ? mb / b50 : 0;
    snprintf(row->fig, sizeof row->fig,
             "publish %s, upload start to certificate, 4 nodes", sz);
    snprintf(row->unit, sizeof row->unit, "MB/s");
    snprintf(row->baseline, sizeof row->baseline,
             "HTTP PUT of the same bytes to nginx (WebDAV)");
    snprintf(row->note, sizeof row->note,
             "%.3f s (upload %.3f s, committed %.3f s); nginx PUT %.3f s", c50,
             median(up, rounds), median(com, rounds), b50);
    if (last != NULL)
        *last = img;
    else
        free(img);
    return 0;
}

/* ---- 2. GET /v1/manifests/latest under load (wrk) ----------------------- */

typedef struct {
    double rps; /* good responses per second */
    double p50, p99;
    unsigned long long requests, non2xx, errors;
} wrk_t;

/* "1.23ms" -> seconds */
static double wrk_time(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (strncmp(end, "us", 2) == 0)
        return v * 1e-6;
    if (strncmp(end, "ms", 2) == 0)
        return v * 1e-3;
    if (strncmp(end, "m", 1) == 0)
        return v * 60;
    return v;
}

static int run_wrk(net_t *x, const char *wrk, const char *url, int conns,
                   int secs, wrk_t *out)
{
    char c[16], d[16], outbuf[8192];
    const char *p;
    unsigned long long a, b2, c2, d2;
    int rc;
    snprintf(c, sizeof c, "%d", conns);
    snprintf(d, sizeof d, "%ds", secs);
    const char *argv[] = {wrk,         "-t2",       "-c", c,   "-d", d,
                          "--latency", "--timeout", "2s", url, NULL};
    memset(out, 0, sizeof *out);
    rc = spawn(argv, NULL, outbuf, sizeof outbuf);
    if (rc != 0 || (p = strstr(outbuf, "Requests/sec:")) == NULL)
        return net_fail(x, "wrk exited %d: %s", rc, outbuf);
    out->rps = strtod(p + 13, NULL);
    if ((p = strstr(outbuf, " 50%")) != NULL)
        out->p50 = wrk_time(p + 4 + strspn(p + 4, " "));
    if ((p = strstr(outbuf, " 99%")) != NULL)
        out->p99 = wrk_time(p + 4 + strspn(p + 4, " "));
    if ((p = strstr(outbuf, " requests in ")) != NULL) {
        while (p > outbuf && p[-1] >= '0' && p[-1] <= '9')
            p--;
        out->requests = strtoull(p, NULL, 10);
    }
    if ((p = strstr(outbuf, "Non-2xx or 3xx responses:")) != NULL)
        out->non2xx = strtoull(p + 25, NULL, 10);
    if ((p = strstr(outbuf, "Socket errors:")) != NULL &&
        sscanf(p,
               "Socket errors: connect %llu, read %llu, write %llu, "
               "timeout %llu",
               &a, &b2, &c2, &d2) == 4)
        out->errors = a + b2 + c2 + d2;
    if (out->requests > 0)
        out->rps *=
            (double)(out->requests - out->non2xx) / (double)out->requests;
    return 0;
}

static void fig_latest(net_t *x, CURL **hp, const char *wrk, int conns,
                       row_t *row)
{
    CURL *h = *hp;
    const int quick = bench_cfg(x->b)->quick;
    const int rounds = quick ? 1 : 3, secs = quick ? 1 : 5;
    char vh[33], ch[33], url[300], nurl[200], path[400];
    double rps[MAX_ROUNDS], nrps[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS],
        np50[MAX_ROUNDS], np99[MAX_ROUNDS];
    unsigned long long non2xx = 0, errors = 0;
    char extra[64] = "";
    sink_t s = {0};
    long st;

    hex(VENDOR, 16, vh);
    hex(CLASS, 16, ch);
    snprintf(url, sizeof url, "%s/v1/manifests/latest?vendor=%s&class=%s",
             x->base[0], vh, ch);
    st = http(h, "GET", url, NULL, NULL, 0, 5000, &s);
    snprintf(path, sizeof path, "%s/latest.cbor", x->www);
    if (st != 200 || s.len == 0 || write_file(path, s.p, s.len, 0644) != 0) {
        net_fail(x, "GET /v1/manifests/latest answered %ld", st);
        free(s.p);
        return;
    }
    snprintf(nurl, sizeof nurl, "%s/latest.cbor", x->nginx_base);
    /* Close this handle's kept-alive connections: wrk gets the node's
     * whole per-address allowance. */
    curl_easy_cleanup(h);
    if ((*hp = h = curl_easy_init()) == NULL)
        goto out;
    for (int r = 0; r < rounds; r++) {
        wrk_t a, n;
        sleep_ms(200); /* let the server close the last run's connections */
        if (run_wrk(x, wrk, url, conns, secs, &a) != 0 ||
            run_wrk(x, wrk, nurl, conns, secs, &n) != 0)
            goto out;
        rps[r] = a.rps;
        p50[r] = a.p50;
        p99[r] = a.p99;
        nrps[r] = n.rps;
        np50[r] = n.p50;
        np99[r] = n.p99;
        non2xx += a.non2xx;
        errors += a.errors;
        printf("  (wrk -c%d: dsuit %.0f req/s p50 %.2f ms p99 %.2f ms, "
               "%llu non-2xx, %llu socket errors; nginx %.0f req/s p50 "
               "%.2f ms p99 %.2f ms, %llu non-2xx, %llu errors)\n",
               conns, a.rps, 1e3 * a.p50, 1e3 * a.p99, a.non2xx, a.errors,
               n.rps, 1e3 * n.p50, 1e3 * n.p99, n.non2xx, n.errors);
    }
    row->have = 1;
    row->best = maxof(rps, rounds);
    row->value = median(rps, rounds);
    row->base = median(nrps, rounds);
    snprintf(row->fig, sizeof row->fig,
             "GET /v1/manifests/latest (%zu B), wrk %d connections, 1 node",
             s.len, conns);
    snprintf(row->unit, sizeof row->unit, "req/s");
    snprintf(row->baseline, sizeof row->baseline,
             "nginx, same bytes as a static file");
    if (errors > 0 || non2xx > 0)
        snprintf(extra, sizeof extra,
                 "; dsuit: %llu socket errors, %llu non-2xx", errors, non2xx);
    snprintf(row->note, sizeof row->note,
             "p50/p99 %.2f/%.2f ms, nginx %.2f/%.2f ms%s",
             1e3 * median(p50, rounds), 1e3 * median(p99, rounds),
             1e3 * median(np50, rounds), 1e3 * median(np99, rounds), extra);
out:
    free(s.p);
}

/* ---- 4. image retrieval ------------------------------------------------- */

static int get_timed(CURL *h, const char *url, size_t size, double *out)
{
    sink_t s = {0};
    double t0;
    long st;
    s.discard = 1;
    t0 = bench_now();
    st = http(h, "GET", url, NULL, NULL, 0, 120000, &s);
    *out = bench_now() - t0;
    return st == 200 && s.len == size ? 0 : -1;
}

/* Empty node i's image cache (DATA/cache), so that the next GET assembles
 * the image from chunks again. */
static void clear_image_cache(net_t *x, size_t i)
{
    char dir[400], p[700];
    DIR *d;
    struct dirent *e;
    snprintf(dir, sizeof dir, "%s/cache", x->data[i]);
    d = opendir(dir);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

/* Two rows: rows[0] cold (the image assembled from chunks, the node's
 * image cache emptied before each GET), rows[1] warm (sent from the
 * cache). */
static void fig_retrieve(net_t *x, CURL *h, const uint8_t *img, size_t size,
                         row_t *rows)
{
    const int quick = bench_cfg(x->b)->quick;
    const int rounds = quick ? 1 : 5;
    uint64_t chunk = x->g->policy.chunk_size;
    size_t nch = (size_t)dsuit_chunk_count(size, chunk), held[N_NODES] = {0};
    size_t fewest = 0, place[N_NODES], replicas = x->g->policy.replicas;
    uint8_t ids[N_NODES][32], digest[32], (*dig)[32] = NULL;
    char url[300], nurl[200], dh[65], path[400];
    double a[MAX_ROUNDS], w[MAX_ROUNDS], n[MAX_ROUNDS], ra[MAX_ROUNDS],
        rw[MAX_ROUNDS], mb = size / 1e6;
    char sz[32];
    dsuit_chunker_t ck;
    sink_t s = {0};
    size_t got;

    size_name(size, sz, sizeof sz);
    if ((dig = calloc(nch, sizeof *dig)) == NULL)
        return;
    for (size_t i = 0; i < N_NODES; i++)
        memcpy(ids[i], x->g->validators[i].key_id, 32);
    if (dsuit_chunker_init(&ck, chunk, dig, nch) != DSUIT_OK ||
        dsuit_chunker_update(&ck, img, size) != DSUIT_OK ||
        dsuit_chunker_final(&ck, digest, &got) != DSUIT_OK || got != nch) {
        net_fail(x, "cannot cut the image into chunks");
        goto out;
    }
    for (size_t c = 0; c < nch; c++) {
        if (dsuit_chunk_place(dig[c], (const uint8_t(*)[32])ids, N_NODES,
                              replicas, place) != DSUIT_OK)
            goto out;
        for (size_t k = 0; k < replicas && k < N_NODES; k++)
            held[place[k]]++;
    }
    for (size_t i = 1; i < N_NODES; i++)
        if (held[i] < held[fewest])
            fewest = i;
    hex(digest, 32, dh);
    snprintf(url, sizeof url, "%s/v1/images/%s", x->base[fewest], dh);
    snprintf(path, sizeof path, "%s/image.bin", x->www);
    snprintf(nurl, sizeof nurl, "%s/image.bin", x->nginx_base);
    if (write_file(path, img, size, 0644) != 0)
        goto out;
    /* Warm-up, and check the bytes once. */
    if (http(h, "GET", url, NULL, NULL, 0, 120000, &s) != 200 ||
        s.len != size || memcmp(s.p, img, size) != 0) {
        net_fail(x, "GET /v1/images/%s did not give the image", dh);
        goto out;
    }
    if (get_timed(h, nurl, size, &n[0]) != 0) {
        net_fail(x, "nginx GET failed");
        goto out;
    }
    for (int r = 0; r < rounds; r++) {
        clear_image_cache(x, fewest);
        if (get_timed(h, url, size, &a[r]) != 0 ||
            get_timed(h, url, size, &w[r]) != 0 ||
            get_timed(h, nurl, size, &n[r]) != 0) {
            net_fail(x, "a timed GET of the image failed");
            goto out;
        }
        ra[r] = mb / a[r];
        rw[r] = mb / w[r];
        printf("  (GET %s: dsuit cold %.3f s, cached %.3f s, nginx %.3f s)\n",
               sz, a[r], w[r], n[r]);
    }
    for (int k = 0; k < 2; k++) {
        row_t *row = &rows[k];
        row->have = 1;
        row->best = maxof(k ? rw : ra, rounds);
        row->value = mb / median(k ? w : a, rounds);
        row->base = mb / median(n, rounds);
        snprintf(row->fig, sizeof row->fig,
                 "GET /v1/images/{digest}, %s, fewest-chunk node, %s", sz,
                 k ? "cached" : "cold");
        snprintf(row->unit, sizeof row->unit, "MB/s");
        snprintf(row->baseline, sizeof row->baseline,
                 "nginx GET of the same file");
        if (k == 0)
            snprintf(row->note, sizeof row->note,
                     "node-%zu holds %zu of %zu chunks, fetches the rest "
                     "from peers (4 in parallel), hashes, caches",
                     fewest + 1, held[fewest], nch);
        else
            snprintf(row->note, sizeof row->note,
                     "the cached file is hashed again, then sent (sendfile)");
    }
out:
    free(s.p);
    free(dig);
}

/* ---- the module --------------------------------------------------------- */

void bench_node(bench_t *b)
{
    static net_t x;
    const int quick = bench_cfg(b)->quick;
    const size_t small = quick ? 256 * 1024 : 1 << 20;
    const size_t big = quick ? 1 << 20 : 36u << 20;
    char nginx[300], wrk[300];
    int have_nginx, have_wrk;
    row_t rows[6 + 1];
    uint8_t *img = NULL, *regtx = NULL, id[32];
    size_t reglen;
    CURL *h = NULL;

    memset(&x, 0, sizeof x);
    memset(rows, 0, sizeof rows);
    x.b = b;
#ifdef DSUIT_BENCH_BIN
    x.bin = DSUIT_BENCH_BIN;
#endif
    if (x.bin == NULL || access(x.bin, X_OK) != 0) {
        printf("  skipped: the dsuit program is not built (%s)\n",
               x.bin ? x.bin : "no DSUIT_BENCH_BIN");
        return;
    }
    have_nginx = have_program("nginx", "BENCH_NGINX", nginx, sizeof nginx);
    have_wrk = have_program("wrk", "BENCH_WRK", wrk, sizeof wrk);
    if (!have_nginx)
        printf("  note: nginx not installed (scripts/install-deps): figures "
               "2 and 4 and the publish baseline are skipped\n");
    else if (!have_wrk)
        printf("  note: wrk not installed (scripts/install-deps): figure 2 "
               "is skipped\n");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((h = curl_easy_init()) == NULL)
        goto out;

    if (net_create(&x, 1000) != 0 || net_start(&x, h) != 0)
        goto out;
    if (have_nginx && nginx_start(&x, nginx, h) != 0) {
        net_fail(&x, "cannot start nginx (log in %s/nginx)", x.root);
        goto out;
    }
    /* The publishing author. */
    if (dsuit_key_generate(DSUIT_KEY_P256, &x.author) != DSUIT_OK ||
        tx_register(&x, &x.author, &regtx, &reglen, id) != 0 ||
        submit_wait(&x, h, 0, regtx, reglen, id, 30000) != 0)
        goto out;

    /* Rows in the order of bench/README.md; run in the order the
     * figures need (a manifest and an image published first). */
    fig_tx(&x, h, &rows[0]);
    if (fig_publish(&x, h, small, quick ? 1 : 3, &rows[3], NULL) != 0 ||
        fig_publish(&x, h, big, quick ? 1 : 3, &rows[4], &img) != 0)
        goto out;
    if (have_nginx && have_wrk) {
        /* 64 connections as asked; 32 is the node's per-address limit
         * (DSUIT_HTTP_DEFAULT_PER_IP_LIMIT), so also within it. */
        fig_latest(&x, &h, wrk, 64, &rows[1]);
        fig_latest(&x, &h, wrk, 32, &rows[2]);
    }
    if (have_nginx && h != NULL)
        fig_retrieve(&x, h, img, big, &rows[5]); /* and rows[6] */
out:
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        add_row(b, &rows[i]);
    free(img);
    free(regtx);
    if (h != NULL)
        curl_easy_cleanup(h);
    net_destroy(&x);
    curl_global_cleanup();
}
