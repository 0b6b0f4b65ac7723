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
 * The chain, the processes (the nodes and nginx, started here and asked to
 * die with this process; only their pids are signalled) and the HTTP
 * client are bench_net.c's. Every loop and wait is bounded.
 */
/* statfs (Linux) beyond the project's POSIX 2008. */
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "bench.h"
#include "bench_net.h"
#include "dsuit/chunk.h"
#include "dsuit/store.h"

#define MAX_CLIENTS 16
#define MAX_ROUNDS  9

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
            long st = net_http(h, "POST", url, "application/cbor",
                               c->items[next_sub].tx, c->items[next_sub].len,
                               10000, NULL);
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
            int s =
                net_tx_state(h, c->x->base[c->node], c->items[next_poll].idh);
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
            net_sleep_ms(10);
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
        if (net_tx_register(x, NULL, &items[i].tx, &items[i].len, id) != 0) {
            net_fail(x, "cannot make a register-author transaction");
            goto out;
        }
        net_hex(id, 32, items[i].idh);
    }
    h0 = net_node_height(h, x->base[0]);
    t0 = bench_now();
    for (size_t k = 0; k < n_clients; k++) {
        client_t *c = &cl[k];
        memset(c, 0, sizeof *c);
        c->x = x;
        c->node = k % NET_NODES;
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
    h1 = net_node_height(h, x->base[0]);
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

static void fig_tx(net_t *x, CURL *h, net_row_t *row)
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
    qsort(all, n_all, sizeof *all, net_cmp_double);
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
             1000 * net_quantile(all, n_all, 0.5),
             1000 * net_quantile(all, n_all, 0.99), n_all,
             secs > 0 ? (double)blocks / secs : 0.0,
             blocks > 0 ? (double)n_all / (double)blocks : 0.0);
    row->best = net_maxof(tps, rounds);
    row->value = net_median(tps, rounds);
    row->base = net_median(floor, rounds);
    printf("  (data folder on %s)\n", fs_name(x->root));
out:
    free(all);
}

/* ---- 3. publish latency ------------------------------------------------- */

static int nginx_put(net_t *x, CURL *h, const uint8_t *img, size_t size,
                     double *out)
{
    char url[160];
    double t0 = bench_now();
    long st;
    snprintf(url, sizeof url, "%s/put/image.bin", x->nginx_base);
    st = net_http(h, "PUT", url, "application/octet-stream", img, size, 600000,
                  NULL);
    if (st != 201 && st != 204)
        return net_fail(x, "nginx PUT answered %ld", st);
    *out = bench_now() - t0;
    return 0;
}

/* Publishes `size` bytes `rounds` times, alternating with the nginx PUT
 * when nginx runs. The last image stays in *last (caller frees). */
static int fig_publish(net_t *x, CURL *h, size_t size, int rounds,
                       net_row_t *row, uint8_t **last)
{
    double cert[MAX_ROUNDS], put[MAX_ROUNDS], com[MAX_ROUNDS], up[MAX_ROUNDS];
    double base[MAX_ROUNDS];
    uint8_t *img = malloc(size);
    double mb = (double)size / 1e6, c50, b50;
    char sz[32];
    net_size_name(size, sz, sizeof sz);
    if (img == NULL)
        return -1;
    for (int r = 0; r < rounds; r++) {
        net_pub_t p;
        net_fill(img, size, x->seq + 1000);
        if (net_publish(x, h, 0, img, size, &p) != 0) {
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
    row->best = net_maxof(put, rounds);
    row->value = mb / (c50 = net_median(cert, rounds));
    b50 = net_median(base, rounds);
    row->base = b50 > 0 ? mb / b50 : 0;
    snprintf(row->fig, sizeof row->fig,
             "publish %s, upload start to certificate, 4 nodes", sz);
    snprintf(row->unit, sizeof row->unit, "MB/s");
    snprintf(row->baseline, sizeof row->baseline,
             "HTTP PUT of the same bytes to nginx (WebDAV)");
    snprintf(row->note, sizeof row->note,
             "%.3f s (upload %.3f s, committed %.3f s); nginx PUT %.3f s", c50,
             net_median(up, rounds), net_median(com, rounds), b50);
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
    rc = net_spawn(argv, NULL, outbuf, sizeof outbuf);
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
                       net_row_t *row)
{
    CURL *h = *hp;
    const int quick = bench_cfg(x->b)->quick;
    const int rounds = quick ? 1 : 3, secs = quick ? 1 : 5;
    char vh[33], ch[33], url[300], nurl[200], path[400];
    double rps[MAX_ROUNDS], nrps[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS],
        np50[MAX_ROUNDS], np99[MAX_ROUNDS];
    unsigned long long non2xx = 0, errors = 0;
    char extra[64] = "";
    net_sink_t s = {0};
    long st;

    net_hex(NET_VENDOR, 16, vh);
    net_hex(NET_CLASS, 16, ch);
    snprintf(url, sizeof url, "%s/v1/manifests/latest?vendor=%s&class=%s",
             x->base[0], vh, ch);
    st = net_http(h, "GET", url, NULL, NULL, 0, 5000, &s);
    snprintf(path, sizeof path, "%s/latest.cbor", x->www);
    if (st != 200 || s.len == 0 ||
        net_write_file(path, s.p, s.len, 0644) != 0) {
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
        net_sleep_ms(200); /* let the server close the last run's connections */
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
    row->best = net_maxof(rps, rounds);
    row->value = net_median(rps, rounds);
    row->base = net_median(nrps, rounds);
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
             1e3 * net_median(p50, rounds), 1e3 * net_median(p99, rounds),
             1e3 * net_median(np50, rounds), 1e3 * net_median(np99, rounds),
             extra);
out:
    free(s.p);
}

/* ---- 4. image retrieval ------------------------------------------------- */

static int get_timed(CURL *h, const char *url, size_t size, double *out)
{
    net_sink_t s = {0};
    double t0;
    long st;
    s.discard = 1;
    t0 = bench_now();
    st = net_http(h, "GET", url, NULL, NULL, 0, 120000, &s);
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
                         net_row_t *rows)
{
    const int quick = bench_cfg(x->b)->quick;
    const int rounds = quick ? 1 : 5;
    uint64_t chunk = x->g->policy.chunk_size;
    size_t nch = (size_t)dsuit_chunk_count(size, chunk), held[NET_NODES] = {0};
    size_t fewest = 0, place[NET_NODES], replicas = x->g->policy.replicas;
    uint8_t ids[NET_NODES][32], digest[32], (*dig)[32] = NULL;
    char url[300], nurl[200], dh[65], path[400];
    double a[MAX_ROUNDS], w[MAX_ROUNDS], n[MAX_ROUNDS], ra[MAX_ROUNDS],
        rw[MAX_ROUNDS], mb = size / 1e6;
    char sz[32];
    dsuit_chunker_t ck;
    net_sink_t s = {0};
    size_t got;

    net_size_name(size, sz, sizeof sz);
    if ((dig = calloc(nch, sizeof *dig)) == NULL)
        return;
    for (size_t i = 0; i < NET_NODES; i++)
        memcpy(ids[i], x->g->validators[i].key_id, 32);
    if (dsuit_chunker_init(&ck, chunk, dig, nch) != DSUIT_OK ||
        dsuit_chunker_update(&ck, img, size) != DSUIT_OK ||
        dsuit_chunker_final(&ck, digest, &got) != DSUIT_OK || got != nch) {
        net_fail(x, "cannot cut the image into chunks");
        goto out;
    }
    for (size_t c = 0; c < nch; c++) {
        if (dsuit_chunk_place(dig[c], (const uint8_t(*)[32])ids, NET_NODES,
                              replicas, place) != DSUIT_OK)
            goto out;
        for (size_t k = 0; k < replicas && k < NET_NODES; k++)
            held[place[k]]++;
    }
    for (size_t i = 1; i < NET_NODES; i++)
        if (held[i] < held[fewest])
            fewest = i;
    net_hex(digest, 32, dh);
    snprintf(url, sizeof url, "%s/v1/images/%s", x->base[fewest], dh);
    snprintf(path, sizeof path, "%s/image.bin", x->www);
    snprintf(nurl, sizeof nurl, "%s/image.bin", x->nginx_base);
    if (net_write_file(path, img, size, 0644) != 0)
        goto out;
    /* Warm-up, and check the bytes once. */
    if (net_http(h, "GET", url, NULL, NULL, 0, 120000, &s) != 200 ||
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
        net_row_t *row = &rows[k];
        row->have = 1;
        row->best = net_maxof(k ? rw : ra, rounds);
        row->value = mb / net_median(k ? w : a, rounds);
        row->base = mb / net_median(n, rounds);
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
                     "sent with sendfile; re-hashed when older than 10 s "
                     "since its last check or changed on disk");
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
    net_row_t rows[6 + 1];
    uint8_t *img = NULL, *regtx = NULL, id[32];
    size_t reglen;
    CURL *h = NULL;

    memset(rows, 0, sizeof rows);
    if (net_begin(&x, b, "node") != 0)
        return;
    have_nginx = net_have_program("nginx", "BENCH_NGINX", nginx, sizeof nginx);
    have_wrk = net_have_program("wrk", "BENCH_WRK", wrk, sizeof wrk);
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
    if (have_nginx && net_nginx_start(&x, nginx, h) != 0) {
        net_fail(&x, "cannot start nginx (log in %s/nginx)", x.root);
        goto out;
    }
    /* The publishing author. */
    if (dsuit_key_generate(DSUIT_KEY_P256, &x.author) != DSUIT_OK ||
        net_tx_register(&x, &x.author, &regtx, &reglen, id) != 0 ||
        net_submit_wait(&x, h, 0, regtx, reglen, id, 30000) != 0)
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
        net_add_row(b, &rows[i]);
    free(img);
    free(regtx);
    if (h != NULL)
        curl_easy_cleanup(h);
    net_destroy(&x);
    curl_global_cleanup();
}
