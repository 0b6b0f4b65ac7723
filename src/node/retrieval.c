/*
 * Retrieval node role (draft-lee-suit-distarch §4): chunks between
 * validators and whole images for clients.
 *
 *   GET  /internal/v1/chunks/{digest}   a chunk this node holds (signed
 *   PUT  /internal/v1/chunks/{digest}   requests only: validators)
 *   GET  /v1/images/{digest}            the whole image, assembled from
 *                                       chunks and verified before sending
 *   GET  /v1/store                      what this node holds
 *
 * A chunk is looked for locally first, then at its holders in rendezvous
 * order; each copy is checked against its digest, so a node that serves
 * corrupted bytes only costs one more fetch, and its data never reaches a
 * client. A good copy fetched from a peer is kept when this node is one of
 * the chunk's holders (that is how a holder that lost a chunk repairs it).
 * Whole images are assembled by parallel fetches into the node's image
 * cache (below) and sent from there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dsuit/cbor.h"
#include "dsuit/ledger.h"
#include "net/http/client.h"
#include "node/node_int.h"

#define CHUNK_TIMEOUT_MS 5000

uint64_t node_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int node_read_at(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t got = pread(fd, p, len, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO;
            return DSUIT_E_IO;
        }
        p += got;
        len -= (size_t)got;
        off += (uint64_t)got;
    }
    return DSUIT_OK;
}

int node_write_at(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return DSUIT_E_IO;
        }
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return DSUIT_OK;
}

int node_replace_file(const char *path, const void *p, size_t len)
{
    char tmp[PATH_MAX + 16];
    int fd, rc, e;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return DSUIT_E_IO;
    }
    fd = mkstemp(tmp);
    if (fd < 0)
        return DSUIT_E_IO;
    rc = node_write_at(fd, p, len, 0);
    if (rc == DSUIT_OK && fsync(fd) != 0)
        rc = DSUIT_E_IO;
    e = errno;
    if (close(fd) != 0 && rc == DSUIT_OK) {
        rc = DSUIT_E_IO;
        e = errno;
    }
    if (rc == DSUIT_OK && rename(tmp, path) != 0) {
        rc = DSUIT_E_IO;
        e = errno;
    }
    if (rc != DSUIT_OK) {
        unlink(tmp);
        errno = e;
    }
    return rc;
}

void node_hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int node_unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        char a = s[2 * i], b = s[2 * i + 1];
        hi = a >= '0' && a <= '9'   ? a - '0'
             : a >= 'a' && a <= 'f' ? a - 'a' + 10
                                    : -1;
        lo = b >= '0' && b <= '9'   ? b - '0'
             : b >= 'a' && b <= 'f' ? b - 'a' + 10
                                    : -1;
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

int node_holds(const dsuit_node_t *n, const uint8_t digest[32], size_t i)
{
    size_t place[64], r = n->g->policy.replicas;
    if (dsuit_chunk_place(digest, (const uint8_t(*)[32])n->key_ids,
                          n->g->n_validators, r, place) != DSUIT_OK)
        return 0;
    for (size_t k = 0; k < r && k < n->g->n_validators; k++) {
        if (place[k] == i)
            return 1;
    }
    return 0;
}

/* A signed request to validator i. */
static int peer_call(dsuit_node_t *n, size_t i, const char *method,
                     const char *path, const uint8_t *body, size_t len,
                     long *status, uint8_t **resp, size_t *resp_len, size_t max)
{
    char url[512], hdr[3][DSUIT_PEER_HEADER_MAX];
    const char *headers[5];
    int rc;
    node_peer_url(n, i, url, sizeof url);
    strncat(url, path, sizeof url - strlen(url) - 1);
    rc = dsuit_peer_sign(&n->key, n->index, n->g->hash, method, path, body, len,
                         node_now_ms(), hdr);
    if (rc != DSUIT_OK)
        return rc;
    headers[0] = hdr[0];
    headers[1] = hdr[1];
    headers[2] = hdr[2];
    headers[3] = "Content-Type: application/octet-stream";
    headers[4] = NULL;
    return dsuit_http_request(method, url, headers, body, len, CHUNK_TIMEOUT_MS,
                              status, resp, resp_len, max);
}

int node_chunk_push(dsuit_node_t *n, size_t i, const uint8_t digest[32],
                    const uint8_t *data, size_t len)
{
    char path[96], hex[65];
    long status = 0;
    uint8_t *resp = NULL;
    size_t rl;
    int rc;
    if (i == n->index)
        return dsuit_chunks_put(n->chunks, digest, data, len);
    node_hex(digest, 32, hex);
    snprintf(path, sizeof path, "/internal/v1/chunks/%s", hex);
    rc = peer_call(n, i, "PUT", path, data, len, &status, &resp, &rl, 4096);
    free(resp);
    if (rc != DSUIT_OK)
        return DSUIT_E_IO;
    return status == 204 || status == 200 ? DSUIT_OK : DSUIT_E_IO;
}

int node_chunk_fetch(dsuit_node_t *n, const uint8_t digest[32],
                     uint64_t max_len, uint8_t **out, size_t *out_len)
{
    size_t rank[64];
    char path[96], hex[65];
    int rc;

    rc = dsuit_chunks_get(n->chunks, digest, (size_t)max_len, out, out_len);
    if (rc == DSUIT_OK)
        return DSUIT_OK;
    if (rc == DSUIT_E_NOMEM)
        return rc;
    if (rc == DSUIT_E_DIGEST)
        node_log(n, "warn", "store", "removed a damaged chunk chunk=%.16s",
                 (node_hex(digest, 32, hex), hex));
    node_hex(digest, 32, hex);
    snprintf(path, sizeof path, "/internal/v1/chunks/%s", hex);
    /* Holders first, then the others: a repaired copy may live beyond the
     * first R in rendezvous order. */
    dsuit_chunk_rank(digest, (const uint8_t(*)[32])n->key_ids,
                     n->g->n_validators, rank);
    for (size_t k = 0; k < n->g->n_validators; k++) {
        size_t i = rank[k];
        long status = 0;
        uint8_t *body = NULL, h[32];
        size_t bl = 0;
        if (i == n->index)
            continue;
        if (node_quitting(n))
            return DSUIT_E_AGAIN; /* stopping: do not start another call */
        rc = peer_call(n, i, "GET", path, NULL, 0, &status, &body, &bl,
                       (size_t)max_len);
        if (rc != DSUIT_OK || status != 200) {
            free(body);
            continue;
        }
        dsuit_sha256(body, bl, h);
        if (!dsuit_ct_equal(h, digest, 32)) {
            /* A peer served bytes that are not this chunk: never pass
             * them on; try the next holder. */
            node_log(n, "warn", "store",
                     "a peer served a corrupted chunk peer=%s chunk=%.16s",
                     n->g->validators[i].name, hex);
            free(body);
            continue;
        }
        if (node_holds(n, digest, n->index))
            dsuit_chunks_put(n->chunks, digest, body, bl);
        *out = body;
        *out_len = bl;
        return DSUIT_OK;
    }
    return DSUIT_E_NOTFOUND;
}

void node_chunk_route(dsuit_node_t *n, const char *hexdigest,
                      const dsuit_http_request_t *req, dsuit_http_response_t *r)
{
    uint8_t digest[32], *data;
    size_t len;
    int rc;
    if (!node_unhex(hexdigest, digest, 32)) {
        dsuit_http_json_error(r, 400, "bad-request",
                              "a chunk digest is 64 hex digits");
        return;
    }
    if (strcmp(req->method, "PUT") == 0) {
        if (req->body_len > n->g->policy.chunk_size) {
            dsuit_http_json_error(r, 413, "too-large",
                                  "larger than the policy's chunk size");
            return;
        }
        rc = dsuit_chunks_put(n->chunks, digest, req->body, req->body_len);
        if (rc == DSUIT_E_DIGEST)
            dsuit_http_json_error(r, 400, "digest",
                                  "the bytes do not match the digest");
        else if (rc != DSUIT_OK)
            dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        else
            r->status = 204;
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        dsuit_http_json_error(r, 405, "method-not-allowed",
                              "GET or PUT a chunk");
        return;
    }
    rc = dsuit_chunks_get(n->chunks, digest, n->g->policy.chunk_size, &data,
                          &len);
    if (rc == DSUIT_E_NOTFOUND || rc == DSUIT_E_DIGEST) {
        dsuit_http_json_error(r, 404, "not-found",
                              "this node has no good copy");
        return;
    }
    if (rc != DSUIT_OK) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    r->status = 200;
    r->content_type = "application/octet-stream";
    r->body = data;
    r->len = len;
}

/* Find an image's size and chunk list in the manifest records. */
typedef struct {
    const uint8_t *want;
    const uint8_t *vendor, *klass; /* only manifests of these, if set */
    node_image_t img;
    int found;
} find_image_t;

static int visit_for_image(void *arg, const uint8_t *k, size_t kl,
                           const uint8_t *v, size_t vl)
{
    find_image_t *f = arg;
    dsuit_manifest_rec_t m;
    dsuit_cbor_dec_t d;
    size_t n;
    (void)k;
    (void)kl;
    if (dsuit_manifest_rec_decode(v, vl, &m) != DSUIT_OK)
        return 0;
    if ((f->vendor != NULL && memcmp(m.vendor, f->vendor, 16) != 0) ||
        (f->klass != NULL && memcmp(m.class_id, f->klass, 16) != 0))
        return 0;
    dsuit_cbor_dec_init(&d, m.images, m.images_len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK)
        return 0;
    for (size_t i = 0; i < n; i++) {
        size_t fields, nc, l;
        uint64_t key, size, chunk;
        const uint8_t *digest, *c;
        if (dsuit_cbor_get_map(&d, &fields) != DSUIT_OK || fields != 4 ||
            dsuit_cbor_get_uint(&d, &key) ||
            dsuit_cbor_get_bstr(&d, &digest, &l) || l != 32 ||
            dsuit_cbor_get_uint(&d, &key) || dsuit_cbor_get_uint(&d, &size) ||
            dsuit_cbor_get_uint(&d, &key) || dsuit_cbor_get_uint(&d, &chunk) ||
            dsuit_cbor_get_uint(&d, &key) ||
            dsuit_cbor_get_array(&d, &nc) != DSUIT_OK)
            return 0;
        int match = memcmp(digest, f->want, 32) == 0;
        if (match) {
            f->img.chunks = malloc(nc * 32);
            if (f->img.chunks == NULL)
                return DSUIT_E_NOMEM;
            memcpy(f->img.digest, digest, 32);
            f->img.size = size;
            f->img.chunk_size = chunk;
            f->img.n_chunks = nc;
        }
        for (size_t j = 0; j < nc; j++) {
            if (dsuit_cbor_get_bstr(&d, &c, &l) != DSUIT_OK || l != 32)
                return 0;
            if (match)
                memcpy(f->img.chunks[j], c, 32);
        }
        if (match) {
            f->found = 1;
            return 1; /* stop */
        }
    }
    return 0;
}

/*
 * Image cache: assembled, verified images kept as files DIR/cache/<digest>,
 * NODE_CACHE_BYTES in all at most (the least recently served go first), so
 * that a popular image is assembled once and then sent from disk with no
 * copy in memory. A cached file is hashed again before each use: a damaged
 * one is removed and the image assembled anew.
 */
#define NODE_CACHE_BYTES   (1024ull << 20) /* 1 GiB, or one largest image */
#define NODE_FETCH_THREADS 4               /* chunk fetches in parallel */
#define HASH_BUF           (1u << 20)

/* SHA-256 of the first size bytes of fd; DSUIT_E_IO if shorter. */
static int file_sha256(int fd, uint64_t size, uint8_t out[32])
{
    dsuit_sha256_ctx_t h;
    uint8_t *buf = malloc(HASH_BUF);
    uint64_t off = 0;
    int rc = DSUIT_OK;
    if (buf == NULL)
        return DSUIT_E_NOMEM;
    dsuit_sha256_init(&h);
    while (off < size && rc == DSUIT_OK) {
        size_t want = size - off < HASH_BUF ? (size_t)(size - off) : HASH_BUF;
        rc = node_read_at(fd, buf, want, off);
        if (rc == DSUIT_OK)
            dsuit_sha256_update(&h, buf, want);
        off += want;
    }
    free(buf);
    if (rc == DSUIT_OK)
        dsuit_sha256_final(&h, out);
    return rc;
}

/*
 * Cached files hashed lately: a file whose inode, size, mtime and ctime are
 * those it had when it was hashed, less than NODE_CACHE_TRUST_MS ago, is
 * served without hashing it again. Any write to it (or a replacement)
 * changes mtime/ctime and so forces a new hash; only damage that bypasses
 * the file system (bit rot) can go unnoticed, for at most that long, and a
 * device still checks the image's digest itself. Without this every GET,
 * even of a 64 KiB range, paid a hash of the whole image.
 */
#define NODE_CACHE_TRUST_MS 10000
#define NODE_CACHE_SEEN     64

typedef struct {
    uint8_t digest[32];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    uint64_t at; /* 0: empty */
} cache_seen_t;

static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static cache_seen_t seen[NODE_CACHE_SEEN];

static int same_file(const cache_seen_t *c, const struct stat *st)
{
    return c->dev == st->st_dev && c->ino == st->st_ino &&
           c->size == st->st_size &&
           c->mtime.tv_sec == st->st_mtim.tv_sec &&
           c->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           c->ctime.tv_sec == st->st_ctim.tv_sec &&
           c->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Was this file, as it is now, hashed to `want` lately? */
static int seen_recently(const uint8_t want[32], const struct stat *st)
{
    uint64_t now = node_now_ms();
    int ok = 0;
    pthread_mutex_lock(&seen_mu);
    for (size_t i = 0; i < NODE_CACHE_SEEN && !ok; i++)
        ok = seen[i].at != 0 && seen[i].at + NODE_CACHE_TRUST_MS > now &&
             memcmp(seen[i].digest, want, 32) == 0 && same_file(&seen[i], st);
    pthread_mutex_unlock(&seen_mu);
    return ok;
}

static void seen_record(const uint8_t want[32], int fd)
{
    struct stat st;
    size_t slot = 0;
    if (fstat(fd, &st) != 0)
        return;
    pthread_mutex_lock(&seen_mu);
    for (size_t i = 0; i < NODE_CACHE_SEEN; i++) {
        if (memcmp(seen[i].digest, want, 32) == 0 || seen[i].at == 0) {
            slot = i;
            break;
        }
        if (seen[i].at < seen[slot].at)
            slot = i; /* the oldest */
    }
    memcpy(seen[slot].digest, want, 32);
    seen[slot].dev = st.st_dev;
    seen[slot].ino = st.st_ino;
    seen[slot].size = st.st_size;
    seen[slot].mtime = st.st_mtim;
    seen[slot].ctime = st.st_ctim;
    seen[slot].at = node_now_ms();
    pthread_mutex_unlock(&seen_mu);
}

/* An open descriptor of the cached image, verified, or -1. */
static int cache_open(dsuit_node_t *n, const char *path, uint64_t size,
                      const uint8_t want[32])
{
    struct stat st;
    uint8_t got[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size == size &&
        seen_recently(want, &st))
        return fd;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size == size &&
        file_sha256(fd, size, got) == DSUIT_OK &&
        dsuit_ct_equal(got, want, 32)) {
        futimens(fd, NULL); /* recently used (changes ctime: record after) */
        seen_record(want, fd);
        return fd;
    }
    close(fd);
    unlink(path);
    node_log(n, "warn", "store", "removed a damaged cached image path=%s",
             path);
    return -1;
}

/* Keep the cache under its limit: remove the least recently used images,
 * and spool files a crash left behind. */
static void cache_evict(dsuit_node_t *n, const char *dir)
{
    uint64_t cap = NODE_CACHE_BYTES;
    DIR *d;
    struct dirent *e;
    if (n->g->policy.max_image_size > cap)
        cap = n->g->policy.max_image_size;
    for (int round = 0; round < 64; round++) {
        uint64_t total = 0;
        time_t oldest = 0;
        char victim[PATH_MAX + 300] = "";
        d = opendir(dir);
        if (d == NULL)
            return;
        while ((e = readdir(d)) != NULL) {
            struct stat st;
            char path[PATH_MAX + 300];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            if (strncmp(e->d_name, "tmp-", 4) == 0) {
                if (st.st_mtime + 3600 < time(NULL))
                    unlink(path); /* left by a crash */
                continue;
            }
            total += (uint64_t)st.st_size;
            if (victim[0] == '\0' || st.st_mtime < oldest) {
                oldest = st.st_mtime;
                snprintf(victim, sizeof victim, "%s", path);
            }
        }
        closedir(d);
        if (total <= cap || victim[0] == '\0')
            return;
        unlink(victim);
    }
}

/* Chunks of one image fetched by NODE_FETCH_THREADS threads into a file. */
typedef struct {
    dsuit_node_t *n;
    const node_image_t *img;
    int fd;
    pthread_mutex_t mu;
    size_t next; /* [mu] next chunk to fetch */
    int failed;  /* [mu] */
} assemble_t;

static void *fetch_worker(void *arg)
{
    assemble_t *a = arg;
    for (;;) {
        size_t i;
        uint8_t *c = NULL;
        size_t cl = 0;
        uint64_t off, want;
        int ok;
        pthread_mutex_lock(&a->mu);
        i = a->next++;
        ok = !a->failed && i < a->img->n_chunks;
        pthread_mutex_unlock(&a->mu);
        if (!ok)
            return NULL;
        off = (uint64_t)i * a->img->chunk_size;
        want = a->img->size - off < a->img->chunk_size ? a->img->size - off
                                                       : a->img->chunk_size;
        ok = off < a->img->size &&
             node_chunk_fetch(a->n, a->img->chunks[i], a->img->chunk_size, &c,
                              &cl) == DSUIT_OK &&
             cl == want;
        ok = ok && node_write_at(a->fd, c, cl, off) == DSUIT_OK;
        free(c);
        if (!ok) {
            pthread_mutex_lock(&a->mu);
            a->failed = 1;
            pthread_mutex_unlock(&a->mu);
        }
    }
}

/* Assemble img into a new file in dir, verify it and move it to path.
 * Returns its open descriptor, or -1 with r filled. */
static int assemble(dsuit_node_t *n, const node_image_t *img, const char *dir,
                    const char *path, dsuit_http_response_t *r)
{
    assemble_t a;
    pthread_t th[NODE_FETCH_THREADS];
    size_t started = 0;
    char tmp[PATH_MAX + 300];
    uint8_t got[32];
    int ok;

    memset(&a, 0, sizeof a);
    a.n = n;
    a.img = img;
    snprintf(tmp, sizeof tmp, "%s/tmp-XXXXXX", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        a.fd = -1;
    else
        a.fd = mkstemp(tmp);
    if (a.fd < 0) {
        node_log(n, "error", "store", "cannot write the image cache dir=%s",
                 dir);
        dsuit_http_json_error(r, 500, "storage", "cannot assemble the image");
        return -1;
    }
    pthread_mutex_init(&a.mu, NULL);
    for (; started < NODE_FETCH_THREADS && started < img->n_chunks; started++)
        if (pthread_create(&th[started], NULL, fetch_worker, &a) != 0)
            break;
    if (started == 0 && img->n_chunks > 0)
        a.failed = 1;
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&a.mu);
    ok = !a.failed;
    if (!ok)
        dsuit_http_json_error(r, 503, "unavailable",
                              "a chunk of the image is unavailable");
    /* The whole image is checked before its first byte is sent. */
    if (ok && (file_sha256(a.fd, img->size, got) != DSUIT_OK ||
               !dsuit_ct_equal(got, img->digest, 32))) {
        ok = 0;
        dsuit_http_json_error(r, 503, "unavailable",
                              "the assembled image does not match its digest");
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        dsuit_http_json_error(r, 500, "storage", "cannot cache the image");
    }
    if (!ok) {
        unlink(tmp);
        close(a.fd);
        return -1;
    }
    seen_record(img->digest, a.fd);
    cache_evict(n, dir);
    return a.fd;
}

/* Look the image up in the manifest records (of vendor and class, if set).
 * Returns 1 found, 0 not, or a negative error. */
static int find_image(dsuit_node_t *n, find_image_t *f)
{
    dsuit_store_txn_t *t;
    int rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc == DSUIT_OK) {
        rc = dsuit_store_foreach(t, DSUIT_TBL_MANIFESTS, visit_for_image, f);
        dsuit_store_abort(t);
    }
    if (rc < 0)
        return rc;
    return f->found;
}

int node_image_open(dsuit_node_t *n, const uint8_t want[32],
                    const uint8_t *vendor, const uint8_t *klass,
                    uint64_t *size, dsuit_http_response_t *r)
{
    find_image_t f;
    char dir[PATH_MAX + 8], path[PATH_MAX + 80], hex[65];
    int rc, fd = -1;

    memset(&f, 0, sizeof f);
    f.want = want;
    f.vendor = vendor;
    f.klass = klass;
    rc = find_image(n, &f);
    if (rc == 0 && (vendor != NULL || klass != NULL)) {
        find_image_t any;
        memset(&any, 0, sizeof any);
        any.want = want;
        rc = find_image(n, &any);
        free(any.img.chunks);
        if (rc == 1) {
            dsuit_http_json_error(r, 403, "forbidden",
                                  "that image is not for this device's "
                                  "vendor and class");
            goto out;
        }
    }
    if (rc < 0) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        goto out;
    }
    if (rc == 0) {
        dsuit_http_json_error(r, 404, "not-found",
                              "no published manifest names that image");
        goto out;
    }
    node_hex(want, 32, hex);
    snprintf(dir, sizeof dir, "%s/cache", n->dir);
    snprintf(path, sizeof path, "%s/%s", dir, hex);
    fd = cache_open(n, path, f.img.size, want);
    if (fd < 0)
        fd = assemble(n, &f.img, dir, path, r);
    if (fd >= 0)
        *size = f.img.size;
out:
    free(f.img.chunks);
    return fd;
}

void node_image_get(dsuit_node_t *n, const char *hexdigest,
                    const dsuit_http_request_t *req, dsuit_http_response_t *r)
{
    uint8_t want[32];
    uint64_t size = 0;
    int fd;
    (void)req;

    if (!node_unhex(hexdigest, want, 32)) {
        dsuit_http_json_error(r, 400, "bad-request",
                              "an image digest is 64 hex digits");
        return;
    }
    fd = node_image_open(n, want, NULL, NULL, &size, r);
    if (fd < 0)
        return;
    r->status = 200;
    r->content_type = "application/octet-stream";
    r->from_file = 1;
    r->fd = fd;
    r->len = (size_t)size;
}

void node_store_status(dsuit_node_t *n, dsuit_http_response_t *r)
{
    uint64_t count = 0, bytes = 0;
    char *s;
    int rc = dsuit_chunks_stat(n->chunks, &count, &bytes);
    if (rc != DSUIT_OK) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    node_status_t st;
    node_status(n, &st);
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "node",
                          n->g->validators[n->index].name, "chunks",
                          (json_int_t)count, "bytes", (json_int_t)bytes,
                          "replicas", (json_int_t)n->g->policy.replicas,
                          "published_chunks", (json_int_t)st.chunks_known,
                          "under_replicated", (json_int_t)st.chunks_under,
                          "repaired", (json_int_t)st.chunks_repaired);
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s == NULL) {
        dsuit_http_json_error(r, 500, "internal", "out of memory");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    r->body = (uint8_t *)s;
    r->len = strlen(s);
}
