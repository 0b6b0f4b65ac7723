/*
 * Benchmark network helpers (bench_net.h): the chain of real `dsuit node
 * run` processes on 127.0.0.1 that the node and device benchmarks drive,
 * the processes they start, their HTTP requests and round statistics
 * (bench/README.md, "The node figures").
 *
 * Processes: the nodes, nginx and any other server are started here with
 * fork+exec, each asked to die with this process (PR_SET_PDEATHSIG), and
 * only those pids are ever signalled. Every loop and wait is bounded.
 */
/* prctl (Linux) and mkdtemp beyond the project's POSIX 2008. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "bench_net.h"
#include "net/ports.h"
#include "dsuit/cose.h"
#include "dsuit/suit_build.h"
#include "dsuit/tx.h"

#define MIB (1024.0 * 1024.0)

const uint8_t NET_VENDOR[16] = {0xbe, 0x7c, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
                                0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d};
const uint8_t NET_CLASS[16] = {0xc1, 0xa5, 0x50, 0x01, 0x02, 0x03, 0x04, 0x05,
                               0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d};

/* ---- the network -------------------------------------------------------- */

void net_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void net_hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int net_write_file(const char *path, const void *p, size_t n, int mode)
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
int net_have_program(const char *name, const char *var, char *path, size_t cap)
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
int net_free_ports(size_t count, uint16_t *out)
{
    return dsuit_free_ports(count, NULL, out) == DSUIT_OK ? 0 : -1;
}

/* fork+exec argv with stdout and stderr into logfile (or a pipe read into
 * out when out != NULL: then wait for it). Returns the pid (log mode), the
 * exit code (capture mode), or -1. */
pid_t net_spawn(const char *const *argv, const char *logfile, char *out,
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
int net_stop_pid(pid_t *pid, unsigned wait_ms)
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
        net_sleep_ms(10);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, &st, 0);
    *pid = 0;
    return 128 + SIGKILL;
}

/* ---- HTTP (libcurl, one handle per thread, connections kept alive) ---- */

size_t net_sink_write(char *ptr, size_t sz, size_t nm, void *ud)
{
    net_sink_t *s = ud;
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
long net_http(CURL *h, const char *method, const char *url, const char *ctype,
              const void *body, size_t len, long timeout_ms, net_sink_t *out)
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
                     out != NULL ? net_sink_write : ignore_write);
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

json_t *net_get_json(CURL *h, const char *url, long *status)
{
    net_sink_t s = {0};
    json_t *j = NULL;
    *status = net_http(h, "GET", url, NULL, NULL, 0, 5000, &s);
    if (*status > 0 && s.p != NULL)
        j = json_loadb((const char *)s.p, s.len, 0, NULL);
    free(s.p);
    return j;
}

/* GET /v1/tx/{id} on a node: 2 certified, 1 committed, 0 pending or not
 * yet known here, -1 invalid or no answer. */
int net_tx_state(CURL *h, const char *base, const char *idh)
{
    char url[160];
    long status;
    json_t *j;
    const char *s;
    int r = -1;
    snprintf(url, sizeof url, "%s/v1/tx/%s", base, idh);
    j = net_get_json(h, url, &status);
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
long long net_node_height(CURL *h, const char *base)
{
    char url[128];
    long status;
    long long r = -1;
    json_t *j;
    snprintf(url, sizeof url, "%s/v1/status", base);
    j = net_get_json(h, url, &status);
    if (status == 200 && json_is_integer(json_object_get(j, "height")))
        r = json_integer_value(json_object_get(j, "height"));
    json_decref(j);
    return r;
}

/* ---- setting the network up --------------------------------------------- */

int net_fail(net_t *x, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bench_fail(x->b, "%s: %s", x->module ? x->module : "net", msg);
    return -1;
}

void net_show_log(const net_t *x, size_t i)
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
int net_create(net_t *x, uint64_t heartbeat_ms)
{
    const char *tmp = getenv("TMPDIR");
    uint16_t ports[3 * NET_NODES];
    dsuit_genesis_t *g = NULL;
    uint8_t genesis[16384];
    size_t glen;
    const char *why = NULL;
    char path[400];

    const char *mod = x->module ? x->module : "net";
    snprintf(x->root, sizeof x->root, "%s/dsuit-bench-%s-XXXXXX",
             tmp != NULL && tmp[0] ? tmp : "/tmp", mod);
    if (mkdtemp(x->root) == NULL) {
        x->root[0] = '\0';
        return net_fail(x, "mkdtemp: %s", strerror(errno));
    }
    if (net_free_ports(3 * NET_NODES, ports) != 0)
        return net_fail(x, "no free ports on 127.0.0.1");
    if (dsuit_genesis_new(&g) != DSUIT_OK)
        return net_fail(x, "out of memory");
    snprintf(g->chain_name, sizeof g->chain_name, "bench-%s", mod);
    g->time = (uint64_t)time(NULL);
    for (size_t i = 0; i < NET_NODES; i++) {
        char name[16];
        snprintf(name, sizeof name, "node-%zu", i + 1);
        snprintf(x->name[i], sizeof x->name[i], "%s", name);
        x->coap_port[i] = ports[3 * i + 2];
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
    if (net_write_file(path, genesis, glen, 0644) != 0)
        return net_fail(x, "cannot write %s", path);

    for (size_t i = 0; i < NET_NODES; i++) {
        char pem[1024], keyfile[400], name[16], out[2048];
        size_t pl;
        int rc;
        if (dsuit_key_to_pem(&x->val[i], 1, pem, sizeof pem, &pl) != DSUIT_OK)
            goto fail;
        snprintf(keyfile, sizeof keyfile, "%s/node-%zu.key", x->root, i + 1);
        rc = net_write_file(keyfile, pem, pl, 0600);
        dsuit_wipe(pem, sizeof pem);
        if (rc != 0)
            return net_fail(x, "cannot write %s", keyfile);
        snprintf(name, sizeof name, "node-%zu", i + 1);
        snprintf(x->data[i], sizeof x->data[i], "%s/node-%zu", x->root, i + 1);
        const char *argv[] = {x->bin,  "node",   "init",     "--genesis",
                              path,    "--name", name,       "--key",
                              keyfile, "--data", x->data[i], NULL};
        rc = net_spawn(argv, NULL, out, sizeof out);
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
int net_start(net_t *x, CURL *h)
{
    double t0 = bench_now();
    for (size_t i = 0; i < NET_NODES; i++) {
        char logfile[400], stdio[400];
        snprintf(logfile, sizeof logfile, "%s/node.log", x->data[i]);
        snprintf(stdio, sizeof stdio, "%s/stdio.log", x->data[i]);
        const char *argv[] = {x->bin,     "node",  "run",   "--data",
                              x->data[i], "--log", logfile, NULL};
        x->pid[i] = net_spawn(argv, stdio, NULL, 0);
        if (x->pid[i] < 0) {
            x->pid[i] = 0;
            return net_fail(x, "cannot start node-%zu", i + 1);
        }
    }
    /* At most 30 s. */
    while (bench_now() - t0 < 30) {
        char leader[NET_NODES][64];
        int ok = 1;
        for (size_t i = 0; i < NET_NODES && ok; i++) {
            char url[128];
            long status;
            json_t *j;
            const char *l;
            int st;
            if (waitpid(x->pid[i], &st, WNOHANG) == x->pid[i]) {
                x->pid[i] = 0;
                net_show_log(x, i);
                return net_fail(x, "node-%zu exited at start", i + 1);
            }
            snprintf(url, sizeof url, "%s/v1/status", x->base[i]);
            j = net_get_json(h, url, &status);
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
        net_sleep_ms(50);
    }
    for (size_t i = 0; i < NET_NODES; i++)
        net_show_log(x, i);
    return net_fail(x, "the network did not agree on a leader in 30 s");
}

/* Stop what was started, remove the folder (kept if a node failed). */
void net_destroy(net_t *x)
{
    int keep = 0;
    if (x->nginx > 0)
        net_stop_pid(&x->nginx, 5000);
    for (size_t i = 0; i < NET_NODES; i++) {
        int st;
        if (x->pid[i] <= 0)
            continue;
        if ((st = net_stop_pid(&x->pid[i], 10000)) != 0) {
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
    for (size_t i = 0; i < NET_NODES; i++)
        dsuit_key_wipe(&x->val[i]);
    dsuit_key_wipe(&x->reg);
    dsuit_key_wipe(&x->author);
    dsuit_genesis_free(x->g);
    x->g = NULL;
}

/* A register-author transaction for a fresh key (or `key`), signed by
 * the registrar; malloc'd into *out. */
int net_tx_register(net_t *x, const dsuit_key_t *key, uint8_t **out,
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
                                       "bench author", NET_VENDOR, NULL, 0,
                                       body, sizeof body, &bl) != DSUIT_OK ||
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
int net_submit_wait(net_t *x, CURL *h, size_t node, const uint8_t *tx,
                    size_t len, const uint8_t id[32], unsigned timeout_ms)
{
    char url[128], idh[65];
    double t0 = bench_now();
    long st;
    net_hex(id, 32, idh);
    snprintf(url, sizeof url, "%s/v1/tx", x->base[node]);
    st = net_http(h, "POST", url, "application/cbor", tx, len, 10000, NULL);
    if (st != 202)
        return net_fail(x, "POST /v1/tx answered %ld", st);
    while ((bench_now() - t0) * 1000 < timeout_ms) {
        int s = net_tx_state(h, x->base[node], idh);
        if (s > 0)
            return 0;
        if (s < 0)
            return net_fail(x, "transaction %s refused", idh);
        net_sleep_ms(20);
    }
    return net_fail(x, "transaction %s not committed in %u ms", idh,
                    timeout_ms);
}

/* ---- nginx -------------------------------------------------------------- */

/* Start nginx on a free port: static files from root/www, WebDAV PUT
 * under /put/. Two worker processes, as the node has two HTTP threads. */
int net_nginx_start(net_t *x, const char *nginx, CURL *h)
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
    if (mkdir(cfg, 0755) != 0 || net_free_ports(1, &port) != 0)
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
    if (net_write_file(conf, cfg, strlen(cfg), 0644) != 0)
        return -1;
    const char *argv[] = {nginx, "-p", dir, "-c", conf, NULL};
    x->nginx = net_spawn(argv, errlog, NULL, 0);
    if (x->nginx < 0) {
        x->nginx = 0;
        return -1;
    }
    snprintf(x->nginx_base, sizeof x->nginx_base, "http://127.0.0.1:%u",
             (unsigned)port);
    snprintf(url, sizeof url, "%s/", x->nginx_base);
    for (t0 = bench_now(); bench_now() - t0 < 10;) {
        int st;
        if (net_http(h, "GET", url, NULL, NULL, 0, 1000, NULL) > 0)
            return 0;
        if (waitpid(x->nginx, &st, WNOHANG) == x->nginx) {
            x->nginx = 0;
            snprintf(cfg, sizeof cfg, "tail -n 5 '%s' >&2", errlog);
            if (system(cfg) != 0)
                fprintf(stderr, "(cannot show the nginx log)\n");
            return -1;
        }
        net_sleep_ms(20);
    }
    return -1;
}

/* "256 KiB", "36 MiB" */
const char *net_size_name(size_t n, char *buf, size_t cap)
{
    if (n >= (1u << 20))
        snprintf(buf, cap, "%.0f MiB", (double)n / MIB);
    else
        snprintf(buf, cap, "%.0f KiB", (double)n / 1024);
    return buf;
}

/* ---- statistics --------------------------------------------------------- */

int net_cmp_double(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return (p > q) - (p < q);
}

double net_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, net_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double net_maxof(const double *v, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

/* The q-quantile (nearest rank) of sorted v. */
double net_quantile(const double *v, size_t n, double q)
{
    size_t k = (size_t)(q * (double)n + 0.999999);
    if (n == 0)
        return 0;
    return v[k == 0 ? 0 : k > n ? n - 1 : k - 1];
}

void net_add_row(bench_t *b, const net_row_t *r)
{
    if (r->have)
        bench_row(b, r->fig, r->value, r->best, r->unit, r->baseline, r->base,
                  r->note);
}

/* Deterministic pseudo-random bytes (xorshift64*), distinct per seed. */
void net_fill(uint8_t *p, size_t n, uint64_t seed)
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

/* Publish one image through node `node`: POST the signed envelope, PUT
 * the image, follow the transaction to its certificate. Timed from the
 * POST (upload start); building the manifest is not. */
int net_publish(net_t *x, CURL *h, size_t node, const uint8_t *img, size_t size,
                net_pub_t *out)
{
    dsuit_suit_build_desc_t d;
    dsuit_suit_build_signer_t sg;
    uint8_t env[4096], kid[32];
    size_t env_len;
    net_sink_t s = {0};
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
    memcpy(d.components[0].vendor_id, NET_VENDOR, 16);
    memcpy(d.components[0].class_id, NET_CLASS, 16);
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
    st = net_http(h, "POST", url, "application/cbor", env, env_len, 30000, &s);
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
    st = net_http(h, "PUT", url, "application/octet-stream", img, size, 600000,
                  &s);
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
        int state = net_tx_state(h, x->base[node], idh);
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
        net_sleep_ms(5);
    }
    net_fail(x, "publish %s not certified in 300 s", idh);
out:
    json_decref(j);
    free(s.p);
    return rc;
}

/* Baseline: PUT the same bytes to nginx (WebDAV, written to a file). */

int net_begin(net_t *x, bench_t *b, const char *module)
{
    memset(x, 0, sizeof *x);
    x->b = b;
    x->module = module;
#ifdef DSUIT_BENCH_BIN
    x->bin = DSUIT_BENCH_BIN;
#endif
    if (x->bin == NULL || access(x->bin, X_OK) != 0) {
        printf("  skipped: the dsuit program is not built (%s)\n",
               x->bin ? x->bin : "no DSUIT_BENCH_BIN");
        return -1;
    }
    return 0;
}
