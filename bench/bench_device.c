/*
 * Device service benchmark: what a node's retrieval role costs a fleet of
 * devices (docs/protocols.md), on a chain of 4 real `dsuit node run`
 * processes on 127.0.0.1 (bench_net.c), each figure next to a baseline
 * measured in the same run (bench/README.md, "The device figures"):
 *
 *   1. CoAP device checks per second (GET /fw/{v}/{c}/latest, the ~270-byte
 *      envelope) by C client threads, each on its own established DTLS-PSK
 *      session to one node; baseline: libcoap's coap-server-gnutls serving
 *      the same bytes with the same PSK to the same clients;
 *   2. the same with a new DTLS session (handshake) per check;
 *   3. HTTP device checks per second (GET /v1/device/fw/{v}/{c}/latest,
 *      a fresh request token per request, kept-alive libcurl handles);
 *      baseline: nginx serving the same bytes with no authentication;
 *   4. a 1 MiB image over CoAP Block2 (1024-byte blocks) from the node's
 *      image cache, MB/s; baseline: coap-server-gnutls, same bytes;
 *   5. the same image over HTTP /v1/device/fw/img/{d}; baseline: nginx;
 *   6. load spread: CoAP checks per second with 1, 2 and 4 nodes serving
 *      the same C clients; baseline: the 1-node figure (ratio: speed-up).
 *
 * Each figure takes its own rounds (the figure, then its baseline), as
 * the node module does, and reports the median round. Without
 * coap-server-gnutls (and coap-client-gnutls to load it) or nginx, the
 * figure is measured and printed, with "n/a" for the baseline, and no row.
 *
 * Processes: the nodes, nginx and coap-server-gnutls are started here
 * (bench_net.c), asked to die with this process; only their pids are
 * signalled. Every loop and wait is bounded.
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "bench.h"
#include "bench_net.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
/* Node-side headers (src/ is on the benchmark's include path). */
#include "net/coap/client.h"
#include "node/device_token.h"
#include "node/keystore.h"

#define MAX_CLIENTS 32
#define MAX_ROUNDS  9
#define ENV_MAX     65536

/* The device's credential, provisioned on every node. The key is
 * printable because coap-server-gnutls takes its PSK (-k) as text. */
#define PSK_ID  "bench-device"
#define PSK_KEY "dsuit-bench-psk-0123456789abcdef"

typedef struct {
    net_t *x;
    bench_t *b;
    int quick;
    int rounds;
    size_t clients;
    double secs;     /* per load measurement */
    double img_time; /* image fetches per round last at least this */
    char coap_uri[NET_NODES][64];
    char latest_path[128]; /* /fw/{vendor}/{class}/latest */
    char img_path[128];    /* /fw/img/{digest} */
    uint8_t *env;          /* the latest envelope, as node-1 serves it */
    size_t env_len;
    uint8_t *img;
    size_t img_len;
    /* coap-server-gnutls, when installed and loaded with the same bytes */
    pid_t cs;
    char cs_uri[64];
    int have_nginx;
} ctx_t;

static void uuid_text(const uint8_t u[16], char out[37])
{
    char h[33];
    net_hex(u, 16, h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
             h + 20);
}

static uint64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- CoAP ------------------------------------------------------------- */

/* Collects a body into buf (or only counts it when buf is NULL). */
typedef struct {
    uint8_t *buf;
    size_t cap;
    uint64_t len;
} collect_t;

static int collect(void *arg, uint64_t offset, const uint8_t *data, size_t len,
                   int last)
{
    collect_t *c = arg;
    (void)last;
    if (offset > c->len || offset + len > c->cap)
        return DSUIT_E_LIMIT;
    if (c->buf != NULL)
        memcpy(c->buf + offset, data, len);
    c->len = offset + len;
    return DSUIT_OK;
}

static int coap_open(const char *uri, dsuit_coap_client_t **out)
{
    dsuit_coap_client_opts_t o;
    memset(&o, 0, sizeof o);
    o.psk_identity = PSK_ID;
    o.psk_key = (const uint8_t *)PSK_KEY;
    o.psk_key_len = strlen(PSK_KEY);
    o.timeout_ms = 5000;
    return dsuit_coap_client_open(uri, &o, out);
}

/* GET path; 0 if the answer is 2.05 with exactly `expect` bytes (copied
 * to copy when not NULL), else -1 with the reason in why. */
static int coap_fetch(dsuit_coap_client_t *c, const char *path, size_t expect,
                      uint8_t *copy, char *why, size_t why_cap)
{
    collect_t k = {copy, copy != NULL ? expect : SIZE_MAX, 0};
    dsuit_coap_result_t r;
    int rc = dsuit_coap_client_get(c, path, 0, collect, &k, &r);
    if (rc != DSUIT_OK) {
        snprintf(why, why_cap, "GET %s from %s: %s", path,
                 dsuit_coap_client_uri(c), dsuit_strerror(rc));
        return -1;
    }
    if (r.code != 205 || k.len != expect) {
        snprintf(why, why_cap, "GET %s from %s answered %d.%02d, %llu bytes %s",
                 path, dsuit_coap_client_uri(c), r.code / 100, r.code % 100,
                 (unsigned long long)k.len, r.diag);
        return -1;
    }
    return 0;
}

/* Start line for the client threads of one measurement: the threads set
 * up (DTLS handshake, warm-up request), then wait for `go`. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t ready;
    int go;
    double stop_at;
} start_t;

static void start_init(start_t *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
}

static void start_destroy(start_t *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

/* A client thread: count itself ready, wait for go; returns stop_at. */
static double start_wait(start_t *s)
{
    double stop;
    pthread_mutex_lock(&s->mu);
    s->ready++;
    pthread_cond_broadcast(&s->cv);
    while (!s->go)
        pthread_cond_wait(&s->cv, &s->mu);
    stop = s->stop_at;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* The main thread: wait (30 s at most) for n ready, then start them for
 * secs. Returns the start time. */
static double start_go(start_t *s, size_t n, double secs)
{
    double t0 = bench_now();
    pthread_mutex_lock(&s->mu);
    while (s->ready < n && bench_now() - t0 < 30) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    t0 = bench_now();
    s->stop_at = t0 + secs;
    s->go = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return t0;
}

/* One CoAP client thread of a load measurement. */
typedef struct {
    start_t *start;
    const char *uri;
    const char *path;
    size_t expect;
    int fresh; /* a new DTLS session per check */
    uint64_t ok, errors;
    double t_end;
    char why[200];
} coap_worker_t;

static void *coap_worker(void *arg)
{
    coap_worker_t *w = arg;
    dsuit_coap_client_t *c = NULL;
    char why[200];
    double stop;

    /* An established session: the handshake and a first GET happen
     * before the clock starts. A failure here is only noted: the loop
     * opens a new session and counts what fails. */
    if (!w->fresh &&
        (coap_open(w->uri, &c) != DSUIT_OK ||
         coap_fetch(c, w->path, w->expect, NULL, w->why, sizeof w->why) != 0)) {
        if (w->why[0] == '\0')
            snprintf(w->why, sizeof w->why, "cannot open %s", w->uri);
        dsuit_coap_client_close(c);
        c = NULL;
    }
    stop = start_wait(w->start);
    /* Bounded by the stop time, each exchange by the client's 5 s
     * timeout. */
    while (bench_now() < stop) {
        int rc = -1;
        if (c == NULL && coap_open(w->uri, &c) != DSUIT_OK) {
            snprintf(why, sizeof why, "cannot open %s", w->uri);
            c = NULL;
        } else {
            rc = coap_fetch(c, w->path, w->expect, NULL, why, sizeof why);
        }
        if (rc == 0) {
            w->ok++;
        } else {
            if (w->why[0] == '\0')
                snprintf(w->why, sizeof w->why, "%s", why);
            w->errors++;
        }
        /* A new session for the next check, or after a failure (the
         * session may be dead). */
        if (w->fresh || rc != 0) {
            dsuit_coap_client_close(c);
            c = NULL;
        }
    }
    w->t_end = bench_now();
    dsuit_coap_client_close(c);
    return NULL;
}

/* Load result: good checks per second over the run, and the errors. */
typedef struct {
    double rate;
    uint64_t ok, errors;
    uint64_t refused; /* HTTP 401 among the errors */
    char why[200];
} load_t;

/* d->clients CoAP clients, client k on uris[k % n_uris], each doing
 * GET path (expect bytes) for d->secs. -1 if a client could not start
 * (recorded with bench_fail); errors during the run are counted. */
static int coap_load(ctx_t *d, char (*uris)[64], size_t n_uris,
                     const char *path, size_t expect, int fresh, load_t *out)
{
    coap_worker_t w[MAX_CLIENTS];
    pthread_t th[MAX_CLIENTS];
    start_t s;
    size_t started = 0;
    double t0, t_end = 0;
    int rc = 0;

    memset(out, 0, sizeof *out);
    memset(w, 0, sizeof w);
    start_init(&s);
    for (size_t k = 0; k < d->clients; k++) {
        w[k].start = &s;
        w[k].uri = uris[k % n_uris];
        w[k].path = path;
        w[k].expect = expect;
        w[k].fresh = fresh;
        if (pthread_create(&th[k], NULL, coap_worker, &w[k]) != 0)
            break;
        started++;
    }
    t0 = start_go(&s, started, started == d->clients ? d->secs : 0);
    for (size_t k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        out->ok += w[k].ok;
        out->errors += w[k].errors;
        if (w[k].t_end > t_end)
            t_end = w[k].t_end;
        if (w[k].why[0] != '\0' && out->why[0] == '\0')
            snprintf(out->why, sizeof out->why, "%s", w[k].why);
    }
    start_destroy(&s);
    if (started < d->clients)
        rc = net_fail(d->x, "cannot start client threads");
    out->rate = t_end > t0 ? (double)out->ok / (t_end - t0) : 0;
    return rc;
}

/* ---- coap-server-gnutls, the CoAP baseline ------------------------------ */

/* Can a socket of `type` bind 127.0.0.1:port? */
static int port_free(int type, uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, type, 0), ok;
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* PUT a file over plain CoAP with coap-client-gnutls (bounded: -B 5). */
static int coap_put(const char *client, uint16_t port, const char *path,
                    const char *file)
{
    char uri[200], out[1024];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u%s", (unsigned)port, path);
    const char *argv[] = {client, "-m", "put", "-B", "5",
                          "-f",   file, uri,   NULL};
    return net_spawn(argv, NULL, out, sizeof out) == 0 ? 0 : -1;
}

/* Start coap-server-gnutls on free ports (plain CoAP on P, DTLS on P+1,
 * both UDP and TCP), with the device's PSK and dynamic resources, and PUT
 * the envelope and the image at the node's paths. */
static int cs_start(ctx_t *d, const char *server, const char *client)
{
    net_t *x = d->x;
    char key[] = PSK_KEY, logfile[400], envf[400], imgf[400];
    uint16_t port = 0;
    double t0;
    int attempt;

    for (attempt = 0; attempt < 50; attempt++) {
        if (net_free_ports(1, &port) != 0 || port >= 65535)
            continue;
        if (port_free(SOCK_DGRAM, port) && port_free(SOCK_DGRAM, port + 1) &&
            port_free(SOCK_STREAM, port + 1))
            break;
    }
    if (attempt == 50)
        return net_fail(x, "no free port pair for coap-server-gnutls");
    snprintf(logfile, sizeof logfile, "%s/coap-server.log", x->root);
    snprintf(envf, sizeof envf, "%s/latest.cbor", x->root);
    snprintf(imgf, sizeof imgf, "%s/image.bin", x->root);
    if (net_write_file(envf, d->env, d->env_len, 0644) != 0 ||
        net_write_file(imgf, d->img, d->img_len, 0644) != 0)
        return net_fail(x, "cannot write %s", envf);
    char p[8];
    snprintf(p, sizeof p, "%u", (unsigned)port);
    const char *argv[] = {server, "-A", "127.0.0.1", "-p", p,   "-d",
                          "8",    "-k", key,         "-v", "3", NULL};
    d->cs = net_spawn(argv, logfile, NULL, 0);
    if (d->cs <= 0) {
        d->cs = 0;
        return net_fail(x, "cannot start %s", server);
    }
    snprintf(d->cs_uri, sizeof d->cs_uri, "coaps://127.0.0.1:%u",
             (unsigned)port + 1);
    /* The first PUT also waits for the server to listen (10 s at most). */
    for (t0 = bench_now(); coap_put(client, port, d->latest_path, envf) != 0;
         net_sleep_ms(50))
        if (bench_now() - t0 > 10)
            return net_fail(x, "coap-server-gnutls does not answer (log %s)",
                            logfile);
    if (coap_put(client, port, d->img_path, imgf) != 0)
        return net_fail(x, "cannot PUT the image to coap-server-gnutls");
    return 0;
}

/* ---- HTTP ------------------------------------------------------------- */

/* A libcurl handle for one client thread: connections kept alive. */
static CURL *http_handle(net_sink_t *s)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, net_sink_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    return h;
}

/* GET base+path; with a device token for node `node` when node >= 0.
 * 0 if the answer is 200 with exactly `expect` bytes; else why is set and
 * the result is the HTTP status (not 200: the status; 200 with the wrong
 * length: -2), or -1 without an answer. */
static int http_fetch(const ctx_t *d, CURL *h, net_sink_t *s, const char *base,
                      const char *path, int node, size_t expect, char *why,
                      size_t why_cap)
{
    char url[300], line[DSUIT_TOKEN_TEXT_MAX + 32];
    struct curl_slist *hd = NULL;
    long status = -1;
    CURLcode cc;
    int rc;

    snprintf(url, sizeof url, "%s%s", base, path);
    if (node >= 0) {
        char tok[DSUIT_TOKEN_TEXT_MAX];
        rc = dsuit_token_make(PSK_ID, (const uint8_t *)PSK_KEY, strlen(PSK_KEY),
                              NULL, NULL, d->x->name[node], "GET", path,
                              unix_ms(), tok, sizeof tok);
        if (rc != DSUIT_OK) {
            snprintf(why, why_cap, "dsuit_token_make: %s", dsuit_strerror(rc));
            return -1;
        }
        snprintf(line, sizeof line, "Authorization: DSUIT %s", tok);
        if ((hd = curl_slist_append(NULL, line)) == NULL) {
            snprintf(why, why_cap, "out of memory");
            return -1;
        }
    }
    s->len = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    cc = curl_easy_perform(h);
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hd);
    if (cc != CURLE_OK) {
        snprintf(why, why_cap, "GET %.120s: %s", url, curl_easy_strerror(cc));
        return -1;
    }
    if (status != 200 || s->len != expect) {
        snprintf(why, why_cap, "GET %.120s answered %ld, %zu bytes %.60s", url,
                 status, s->len,
                 s->discard || s->p == NULL ? "" : (const char *)s->p);
        return status != 200 ? (int)status : -2;
    }
    return 0;
}

typedef struct {
    const ctx_t *d;
    start_t *start;
    const char *base;
    const char *path;
    int node; /* token for this node; -1: none (nginx) */
    size_t expect;
    uint64_t ok, errors, refused;
    double t_end;
    char why[200];
} http_worker_t;

static void *http_worker(void *arg)
{
    http_worker_t *w = arg;
    net_sink_t s = {0};
    CURL *h = http_handle(&s);
    char why[200];
    double stop;

    /* Connect before the clock starts; a failed answer is only noted. */
    if (h == NULL)
        snprintf(w->why, sizeof w->why, "out of memory");
    else
        http_fetch(w->d, h, &s, w->base, w->path, w->node, w->expect, w->why,
                   sizeof w->why);
    stop = start_wait(w->start);
    /* Bounded by the stop time, each request by its 10 s timeout. */
    while (h != NULL && bench_now() < stop) {
        int rc = http_fetch(w->d, h, &s, w->base, w->path, w->node, w->expect,
                            why, sizeof why);
        if (rc == 0) {
            w->ok++;
        } else {
            if (w->why[0] == '\0')
                snprintf(w->why, sizeof w->why, "%s", why);
            w->errors++;
            w->refused += rc == 401;
        }
    }
    w->t_end = bench_now();
    if (h != NULL)
        curl_easy_cleanup(h);
    free(s.p);
    return NULL;
}

/* d->clients HTTP clients on base+path (a token each request for node
 * `node`, or none when node < 0) for d->secs. */
static int http_load(ctx_t *d, const char *base, const char *path, int node,
                     size_t expect, load_t *out)
{
    http_worker_t w[MAX_CLIENTS];
    pthread_t th[MAX_CLIENTS];
    start_t s;
    size_t started = 0;
    double t0, t_end = 0;
    int rc = 0;

    memset(out, 0, sizeof *out);
    memset(w, 0, sizeof w);
    start_init(&s);
    for (size_t k = 0; k < d->clients; k++) {
        w[k].d = d;
        w[k].start = &s;
        w[k].base = base;
        w[k].path = path;
        w[k].node = node;
        w[k].expect = expect;
        if (pthread_create(&th[k], NULL, http_worker, &w[k]) != 0)
            break;
        started++;
    }
    t0 = start_go(&s, started, started == d->clients ? d->secs : 0);
    for (size_t k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        out->ok += w[k].ok;
        out->errors += w[k].errors;
        out->refused += w[k].refused;
        if (w[k].t_end > t_end)
            t_end = w[k].t_end;
        if (w[k].why[0] != '\0' && out->why[0] == '\0')
            snprintf(out->why, sizeof out->why, "%s", w[k].why);
    }
    start_destroy(&s);
    if (started < d->clients)
        rc = net_fail(d->x, "cannot start client threads");
    out->rate = t_end > t0 ? (double)out->ok / (t_end - t0) : 0;
    return rc;
}

/* ---- the figures -------------------------------------------------------- */

static void set_row(net_row_t *row, const char *fig, const char *unit,
                    const char *baseline, double *v, double *base, int rounds)
{
    row->have = 1;
    snprintf(row->fig, sizeof row->fig, "%s", fig);
    snprintf(row->unit, sizeof row->unit, "%s", unit);
    snprintf(row->baseline, sizeof row->baseline, "%s", baseline);
    row->best = net_maxof(v, rounds);
    row->value = net_median(v, rounds);
    row->base = net_median(base, rounds);
}

/* Figures 1 and 2: CoAP checks per second on node-1, established
 * sessions or a handshake per check, next to coap-server-gnutls. */
static int fig_coap_checks(ctx_t *d, int fresh, net_row_t *row)
{
    double v[MAX_ROUNDS], base[MAX_ROUNDS];
    uint64_t err = 0, berr = 0, ok = 0;
    char fig[96], why[200] = "";
    for (int r = 0; r < d->rounds; r++) {
        load_t a, n;
        if (coap_load(d, &d->coap_uri[0], 1, d->latest_path, d->env_len, fresh,
                      &a) != 0)
            return -1;
        v[r] = a.rate;
        ok += a.ok;
        err += a.errors;
        if (a.errors > 0 && why[0] == '\0')
            snprintf(why, sizeof why, "%s", a.why);
        base[r] = 0;
        if (d->cs > 0) {
            if (coap_load(d, &d->cs_uri, 1, d->latest_path, d->env_len, fresh,
                          &n) != 0)
                return -1;
            base[r] = n.rate;
            berr += n.errors;
        }
        printf("  (CoAP checks%s, %zu clients: dsuit %.0f/s, %llu errors; "
               "coap-server-gnutls ",
               fresh ? " with handshake" : "", d->clients, a.rate,
               (unsigned long long)a.errors);
        if (d->cs > 0)
            printf("%.0f/s, %llu errors)\n", n.rate,
                   (unsigned long long)n.errors);
        else
            printf("n/a)\n");
    }
    if (err > 0)
        printf("  (dsuit errors: %llu, first: %s)\n", (unsigned long long)err,
               why);
    if (ok == 0)
        return net_fail(d->x, "no CoAP check succeeded: %s", why);
    if (d->cs <= 0)
        return 0;
    snprintf(fig, sizeof fig,
             "CoAP checks/s (GET latest, %zu B), %s, %zu "
             "clients, 1 node",
             d->env_len,
             fresh ? "new DTLS-PSK session each" : "DTLS-PSK session kept",
             d->clients);
    set_row(row, fig, "checks/s", "coap-server-gnutls, same bytes and PSK", v,
            base, d->rounds);
    if (fresh)
        snprintf(row->note, sizeof row->note,
                 "ideal ~1 (same libcoap+GnuTLS); the node also offers RPK "
                 "handshakes, the baseline PSK only; errors %llu/%llu",
                 (unsigned long long)err, (unsigned long long)berr);
    else
        snprintf(row->note, sizeof row->note,
                 "ideal ~1: same libcoap and GnuTLS, one server thread each; "
                 "errors dsuit %llu, baseline %llu",
                 (unsigned long long)err, (unsigned long long)berr);
    return 0;
}

/* Figure 3: HTTP checks per second with a fresh token each, next to nginx
 * serving the same bytes without authentication. */
static int fig_http_checks(ctx_t *d, net_row_t *row)
{
    net_t *x = d->x;
    double v[MAX_ROUNDS], base[MAX_ROUNDS];
    uint64_t err = 0, ok = 0, e401 = 0;
    char path[200], fig[96], why[200] = "";
    snprintf(path, sizeof path, "/v1/device%s", d->latest_path);
    for (int r = 0; r < d->rounds; r++) {
        load_t a, n;
        if (http_load(d, x->base[0], path, 0, d->env_len, &a) != 0)
            return -1;
        v[r] = a.rate;
        ok += a.ok;
        err += a.errors;
        e401 += a.refused;
        if (a.errors > 0 && why[0] == '\0')
            snprintf(why, sizeof why, "%s", a.why);
        base[r] = 0;
        if (d->have_nginx) {
            if (http_load(d, x->nginx_base, "/latest.cbor", -1, d->env_len,
                          &n) != 0)
                return -1;
            base[r] = n.rate;
        }
        printf("  (HTTP checks, %zu clients: dsuit %.0f/s, %llu errors; "
               "nginx ",
               d->clients, a.rate, (unsigned long long)a.errors);
        if (d->have_nginx)
            printf("%.0f/s)\n", n.rate);
        else
            printf("n/a)\n");
    }
    if (err > 0)
        printf("  (dsuit errors: %llu, %llu of them 401, first: %s)\n",
               (unsigned long long)err, (unsigned long long)e401, why);
    if (ok == 0)
        return net_fail(d->x, "no HTTP check succeeded: %s", why);
    if (!d->have_nginx)
        return 0;
    snprintf(fig, sizeof fig,
             "HTTP checks/s (GET /v1/device/.../latest), token each, %zu "
             "clients",
             d->clients);
    set_row(row, fig, "checks/s", "nginx, same bytes, no auth", v, base,
            d->rounds);
    if (err > 0)
        snprintf(row->note, sizeof row->note,
                 "%llu of %llu requests refused (%llu: 401); ideal <1: "
                 "token made and checked per request",
                 (unsigned long long)err, (unsigned long long)(err + ok),
                 (unsigned long long)e401);
    else
        snprintf(row->note, sizeof row->note,
                 "ideal <1: a token is made (client) and checked (node) per "
                 "request; no errors");
    return 0;
}

/* Image fetches of a round: repeated until min_time has passed (at least
 * once, at most 1000 times), so that a 1 MiB transfer of a few ms is not
 * a single noisy sample. MB/s into *out, or -1 with why. */
static int coap_image_rate(const ctx_t *d, dsuit_coap_client_t *c,
                           double min_time, double *out, char *why,
                           size_t why_cap)
{
    double t0 = bench_now(), t;
    int n = 0;
    do {
        if (coap_fetch(c, d->img_path, d->img_len, NULL, why, why_cap) != 0)
            return -1;
        n++;
    } while ((t = bench_now() - t0) < min_time && n < 1000);
    *out = n * (double)d->img_len / 1e6 / t;
    return 0;
}

static int http_image_rate(const ctx_t *d, CURL *h, net_sink_t *s,
                           const char *base, const char *path, int node,
                           double min_time, double *out, char *why,
                           size_t why_cap)
{
    double t0 = bench_now(), t;
    int n = 0;
    do {
        if (http_fetch(d, h, s, base, path, node, d->img_len, why, why_cap) !=
            0)
            return -1;
        n++;
    } while ((t = bench_now() - t0) < min_time && n < 1000);
    *out = n * (double)d->img_len / 1e6 / t;
    return 0;
}

/* Figure 4: the image over CoAP Block2 from node-1's cache, one client on
 * an established session, next to coap-server-gnutls. */
static int fig_coap_image(ctx_t *d, net_row_t *row)
{
    net_t *x = d->x;
    dsuit_coap_client_t *c = NULL, *bc = NULL;
    double v[MAX_ROUNDS], base[MAX_ROUNDS], mb = (double)d->img_len / 1e6;
    uint8_t *copy = malloc(d->img_len);
    char why[200], fig[96], sz[32];
    int rc = -1;

    if (copy == NULL)
        return net_fail(x, "out of memory");
    /* Warm-up: the node assembles and caches the image; both answers are
     * compared with the image once. */
    if (coap_open(d->coap_uri[0], &c) != DSUIT_OK ||
        coap_fetch(c, d->img_path, d->img_len, copy, why, sizeof why) != 0 ||
        memcmp(copy, d->img, d->img_len) != 0) {
        net_fail(x, "the node did not serve the image over CoAP: %s", why);
        goto out;
    }
    if (d->cs > 0) {
        memset(copy, 0, d->img_len);
        if (coap_open(d->cs_uri, &bc) != DSUIT_OK ||
            coap_fetch(bc, d->img_path, d->img_len, copy, why, sizeof why) !=
                0 ||
            memcmp(copy, d->img, d->img_len) != 0) {
            net_fail(x, "coap-server-gnutls did not serve the image: %s", why);
            goto out;
        }
    }
    for (int r = 0; r < d->rounds; r++) {
        base[r] = 0;
        if (coap_image_rate(d, c, d->img_time, &v[r], why, sizeof why) != 0 ||
            (bc != NULL && coap_image_rate(d, bc, d->img_time, &base[r], why,
                                           sizeof why) != 0)) {
            net_fail(x, "%s", why);
            goto out;
        }
        printf("  (CoAP GET image: dsuit %.3f s, coap-server-gnutls ",
               mb / v[r]);
        if (bc != NULL)
            printf("%.3f s)\n", mb / base[r]);
        else
            printf("n/a)\n");
    }
    rc = 0;
    if (bc == NULL)
        goto out;
    snprintf(fig, sizeof fig,
             "CoAP GET /fw/img, %s, Block2 1024 B, cached, 1 client",
             net_size_name(d->img_len, sz, sizeof sz));
    set_row(row, fig, "MB/s", "coap-server-gnutls, same bytes", v, base,
            d->rounds);
    snprintf(row->note, sizeof row->note,
             "ideal ~1: one round trip per 1 KiB block on both; %.0f blocks",
             (double)d->img_len / DSUIT_COAP_BLOCK_SIZE);
out:
    dsuit_coap_client_close(c);
    dsuit_coap_client_close(bc);
    free(copy);
    return rc;
}

/* Figure 5: the image over HTTP (a token per request), next to nginx. */
static int fig_http_image(ctx_t *d, net_row_t *row)
{
    net_t *x = d->x;
    net_sink_t s = {0};
    CURL *h = http_handle(&s);
    double v[MAX_ROUNDS], base[MAX_ROUNDS], mb = (double)d->img_len / 1e6;
    char path[200], why[200], fig[96], sz[32];
    int rc = -1;

    snprintf(path, sizeof path, "/v1/device%s", d->img_path);
    if (h == NULL)
        return net_fail(x, "out of memory");
    if (http_fetch(d, h, &s, x->base[0], path, 0, d->img_len, why,
                   sizeof why) != 0 ||
        memcmp(s.p, d->img, d->img_len) != 0) {
        net_fail(x, "the node did not serve the image over HTTP: %s", why);
        goto out;
    }
    s.discard = 1;
    for (int r = 0; r < d->rounds; r++) {
        base[r] = 0;
        if (http_image_rate(d, h, &s, x->base[0], path, 0, d->img_time, &v[r],
                            why, sizeof why) != 0 ||
            (d->have_nginx &&
             http_image_rate(d, h, &s, x->nginx_base, "/image.bin", -1,
                             d->img_time, &base[r], why, sizeof why) != 0)) {
            net_fail(x, "%s", why);
            goto out;
        }
        printf("  (HTTP GET image: dsuit %.4f s, nginx ", mb / v[r]);
        if (d->have_nginx)
            printf("%.4f s)\n", mb / base[r]);
        else
            printf("n/a)\n");
    }
    rc = 0;
    if (!d->have_nginx)
        goto out;
    snprintf(fig, sizeof fig, "HTTP GET /v1/device/fw/img, %s, token, cached",
             net_size_name(d->img_len, sz, sizeof sz));
    set_row(row, fig, "MB/s", "nginx GET of the same file", v, base, d->rounds);
    snprintf(row->note, sizeof row->note,
             "ideal ~1 less a token check; the cached file is re-hashed "
             "at most every 10 s (cache_open)");
out:
    curl_easy_cleanup(h);
    free(s.p);
    return rc;
}

/* Figure 6: the same clients spread over 1, 2 and 4 nodes. rows[0] is 2
 * nodes, rows[1] 4 nodes, each next to the 1-node figure. */
static int fig_spread(ctx_t *d, net_row_t *rows)
{
    static const size_t nodes[3] = {1, 2, 4};
    double v[3][MAX_ROUNDS];
    uint64_t err = 0;
    char why[200] = "";
    for (int r = 0; r < d->rounds; r++) {
        for (int k = 0; k < 3; k++) {
            load_t a;
            if (coap_load(d, d->coap_uri, nodes[k], d->latest_path, d->env_len,
                          0, &a) != 0)
                return -1;
            v[k][r] = a.rate;
            err += a.errors;
            if (a.errors > 0 && why[0] == '\0')
                snprintf(why, sizeof why, "%s", a.why);
        }
        printf("  (CoAP checks spread, %zu clients: 1 node %.0f/s, 2 nodes "
               "%.0f/s, 4 nodes %.0f/s)\n",
               d->clients, v[0][r], v[1][r], v[2][r]);
    }
    if (err > 0)
        printf("  (dsuit errors: %llu, first: %s)\n", (unsigned long long)err,
               why);
    for (int k = 1; k < 3; k++) {
        char fig[96];
        snprintf(fig, sizeof fig,
                 "CoAP checks/s, %zu clients spread over %zu nodes", d->clients,
                 nodes[k]);
        set_row(&rows[k - 1], fig, "checks/s", "the same clients on 1 node",
                v[k], v[0], d->rounds);
        snprintf(rows[k - 1].note, sizeof rows[k - 1].note,
                 "ratio = speed-up; ideal %zu with a core per node, ~1 on "
                 "these 2 shared cores; errors %llu",
                 nodes[k], (unsigned long long)err);
    }
    return 0;
}

/* ---- setting up --------------------------------------------------------- */

/* Provision the device's PSK on every node (before they start). */
static int provision(net_t *x)
{
    node_psk_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", PSK_ID);
    e.id_len = strlen(PSK_ID);
    memcpy(e.vendor, NET_VENDOR, 16);
    memcpy(e.klass, NET_CLASS, 16);
    memcpy(e.key, PSK_KEY, strlen(PSK_KEY));
    e.key_len = strlen(PSK_KEY);
    for (size_t i = 0; i < NET_NODES; i++) {
        int replaced, rc = node_keystore_put(x->data[i], &e, &replaced);
        if (rc != DSUIT_OK)
            return net_fail(x, "cannot provision %s: %s", x->name[i],
                            dsuit_strerror(rc));
    }
    return 0;
}

/* Publish the image and wait (30 s at most) until every node serves its
 * manifest as latest over CoAP; keep node-1's envelope. */
static int publish_and_wait(ctx_t *d, CURL *h)
{
    net_t *x = d->x;
    net_pub_t p;
    uint8_t *env = malloc(ENV_MAX), digest[32];
    char why[200] = "", dh[65];
    double t0;
    int rc = -1;

    if (env == NULL)
        return net_fail(x, "out of memory");
    net_fill(d->img, d->img_len, 4242);
    if (dsuit_sha256(d->img, d->img_len, digest) != DSUIT_OK ||
        net_publish(x, h, 0, d->img, d->img_len, &p) != 0)
        goto out;
    net_hex(digest, 32, dh);
    snprintf(d->img_path, sizeof d->img_path, "/fw/img/%s", dh);
    printf("  (published %zu bytes, certified in %.3f s)\n", d->img_len,
           p.certified);
    for (size_t i = 0; i < NET_NODES; i++) {
        t0 = bench_now();
        for (;;) {
            dsuit_coap_client_t *c = NULL;
            collect_t k = {env, ENV_MAX, 0};
            dsuit_coap_result_t r;
            int ok = 0;
            if (coap_open(d->coap_uri[i], &c) == DSUIT_OK &&
                dsuit_coap_client_get(c, d->latest_path, 0, collect, &k, &r) ==
                    DSUIT_OK) {
                snprintf(why, sizeof why, "%d.%02d %s", r.code / 100,
                         r.code % 100, r.diag);
                /* The newest manifest: its ETag is the sequence number. */
                ok = r.code == 205 && r.etag_len > 0 &&
                     r.etag[r.etag_len - 1] == (uint8_t)(x->seq & 0xff);
            }
            dsuit_coap_client_close(c);
            if (ok && i == 0) {
                d->env_len = (size_t)k.len;
                memcpy(d->env, env, d->env_len);
            }
            if (ok && (i == 0 || ((size_t)k.len == d->env_len &&
                                  memcmp(env, d->env, d->env_len) == 0)))
                break;
            if (bench_now() - t0 > 30) {
                net_fail(x, "%s does not serve the manifest over CoAP: %s",
                         x->name[i], why);
                goto out;
            }
            net_sleep_ms(50);
        }
    }
    rc = 0;
out:
    free(env);
    return rc;
}

static double env_double(const char *name, double def, double lo, double hi)
{
    const char *e = getenv(name);
    double v = e != NULL ? atof(e) : def;
    return e == NULL || v < lo ? def : v > hi ? hi : v;
}

void bench_device(bench_t *b)
{
    static net_t x;
    static ctx_t d;
    char nginx[300], server[300], client[300], vu[37], cu[37], path[400];
    int have_cs;
    net_row_t rows[7];
    uint8_t *regtx = NULL, id[32];
    size_t reglen;
    CURL *h = NULL;

    memset(&d, 0, sizeof d);
    memset(rows, 0, sizeof rows);
    if (net_begin(&x, b, "device") != 0)
        return;
    d.x = &x;
    d.b = b;
    d.quick = bench_cfg(b)->quick;
    d.rounds = d.quick ? 1 : 5;
    d.secs = env_double("BENCH_DEVICE_SECS", d.quick ? 0.2 : 2.0, 0.05, 60);
    d.img_time = d.quick ? 0 : 0.3;
    d.clients = (size_t)env_double("BENCH_DEVICE_CLIENTS", 8, 1, MAX_CLIENTS);
    d.img_len = d.quick ? 128u * 1024 : 1u << 20;
    d.have_nginx =
        net_have_program("nginx", "BENCH_NGINX", nginx, sizeof nginx);
    have_cs = net_have_program("coap-server-gnutls", "BENCH_COAP_SERVER",
                               server, sizeof server) &&
              net_have_program("coap-client-gnutls", "BENCH_COAP_CLIENT",
                               client, sizeof client);
    if (!have_cs)
        printf("  note: coap-server-gnutls or coap-client-gnutls not "
               "installed (libcoap3-bin): CoAP baselines n/a\n");
    if (!d.have_nginx)
        printf("  note: nginx not installed (scripts/install-deps): HTTP "
               "baselines n/a\n");
    d.env = malloc(ENV_MAX);
    d.img = malloc(d.img_len);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (d.env == NULL || d.img == NULL || (h = curl_easy_init()) == NULL)
        goto out;

    if (net_create(&x, 1000) != 0 || provision(&x) != 0 ||
        net_start(&x, h) != 0)
        goto out;
    for (size_t i = 0; i < NET_NODES; i++)
        snprintf(d.coap_uri[i], sizeof d.coap_uri[i], "coaps://127.0.0.1:%u",
                 (unsigned)x.coap_port[i]);
    uuid_text(NET_VENDOR, vu);
    uuid_text(NET_CLASS, cu);
    snprintf(d.latest_path, sizeof d.latest_path, "/fw/%s/%s/latest", vu, cu);
    if (d.have_nginx && net_nginx_start(&x, nginx, h) != 0) {
        net_fail(&x, "cannot start nginx (log in %s/nginx)", x.root);
        goto out;
    }
    if (dsuit_key_generate(DSUIT_KEY_P256, &x.author) != DSUIT_OK ||
        net_tx_register(&x, &x.author, &regtx, &reglen, id) != 0 ||
        net_submit_wait(&x, h, 0, regtx, reglen, id, 30000) != 0 ||
        publish_and_wait(&d, h) != 0)
        goto out;
    if (d.have_nginx) {
        snprintf(path, sizeof path, "%s/latest.cbor", x.www);
        if (net_write_file(path, d.env, d.env_len, 0644) != 0)
            goto out;
        snprintf(path, sizeof path, "%s/image.bin", x.www);
        if (net_write_file(path, d.img, d.img_len, 0644) != 0)
            goto out;
    }
    if (have_cs && cs_start(&d, server, client) != 0)
        goto out;

    /* Rows in the order of bench/README.md. The HTTP image runs before
     * the HTTP checks, which may fill the node's table of token nonces
     * (see there). */
    if (fig_coap_checks(&d, 0, &rows[0]) != 0 ||
        fig_coap_checks(&d, 1, &rows[1]) != 0 ||
        fig_coap_image(&d, &rows[3]) != 0 ||
        fig_http_image(&d, &rows[4]) != 0 || fig_http_checks(&d, &rows[2]) != 0)
        goto out;
    fig_spread(&d, &rows[5]); /* and rows[6] */
out:
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        net_add_row(b, &rows[i]);
    if (d.cs > 0)
        net_stop_pid(&d.cs, 5000);
    free(regtx);
    free(d.env);
    free(d.img);
    if (h != NULL)
        curl_easy_cleanup(h);
    net_destroy(&x);
    curl_global_cleanup();
}
