/*
 * Content-addressed chunk files, the streaming chunker and rendezvous
 * placement (include/dsuit/chunk.h; ARCHITECTURE.md "Storage").
 *
 * On disk (two levels of 256 folders keep any folder small):
 *
 *   DIR/chunks/<d0>/<d1>/<64 hex digits of the SHA-256>
 *   DIR/chunks/tmp/<random>        writes in progress (removed at open)
 *
 * A write goes to tmp/, is fsynced, renamed into place and the folder is
 * fsynced, so a chunk file either is complete or does not exist, whatever
 * moment the process dies. Every read rehashes the file: storage that rots
 * or a file swapped under the node is noticed before a byte is served.
 */
#define _DEFAULT_SOURCE /* dirfd, unlinkat */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsuit/chunk.h"

struct dsuit_chunks {
    char root[4096]; /* DIR/chunks */
};

/* ---- chunker ----------------------------------------------------------- */

uint64_t dsuit_chunk_count(uint64_t size, uint64_t chunk_size)
{
    if (chunk_size == 0)
        return 0;
    return size / chunk_size + (size % chunk_size != 0);
}

int dsuit_chunker_init(dsuit_chunker_t *c, uint64_t chunk_size,
                       uint8_t (*digests)[32], size_t cap)
{
    if (c == NULL || chunk_size == 0 || (digests == NULL && cap > 0))
        return DSUIT_E_INVAL;
    memset(c, 0, sizeof *c);
    c->chunk_size = chunk_size;
    c->digests = digests;
    c->cap = cap;
    dsuit_sha256_init(&c->chunk);
    return dsuit_sha256_init(&c->image);
}

static int close_chunk(dsuit_chunker_t *c)
{
    if (c->n == c->cap)
        return DSUIT_E_LIMIT;
    dsuit_sha256_final(&c->chunk, c->digests[c->n]);
    c->n++;
    c->fill = 0;
    return dsuit_sha256_init(&c->chunk);
}

int dsuit_chunker_update(dsuit_chunker_t *c, const uint8_t *p, size_t len)
{
    dsuit_sha256_update(&c->image, p, len);
    c->total += len;
    while (len > 0) {
        uint64_t room = c->chunk_size - c->fill;
        size_t take = len < room ? len : (size_t)room;
        dsuit_sha256_update(&c->chunk, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill == c->chunk_size) {
            int rc = close_chunk(c);
            if (rc != DSUIT_OK)
                return rc;
        }
    }
    return DSUIT_OK;
}

int dsuit_chunker_final(dsuit_chunker_t *c, uint8_t image_digest[32],
                        size_t *out_n)
{
    if (c->fill > 0) {
        int rc = close_chunk(c);
        if (rc != DSUIT_OK)
            return rc;
    }
    dsuit_sha256_final(&c->image, image_digest);
    if (out_n != NULL)
        *out_n = c->n;
    return DSUIT_OK;
}

/* ---- rendezvous placement ---------------------------------------------- */

static uint64_t score(const uint8_t chunk[32], const uint8_t key_id[32])
{
    uint8_t buf[64], h[32];
    uint64_t s = 0;
    memcpy(buf, chunk, 32);
    memcpy(buf + 32, key_id, 32);
    dsuit_sha256(buf, sizeof buf, h);
    for (int i = 0; i < 8; i++)
        s = (s << 8) | h[i];
    return s;
}

int dsuit_chunk_rank(const uint8_t chunk[32], const uint8_t (*key_ids)[32],
                     size_t n, size_t *out)
{
    uint64_t s[64];
    if (chunk == NULL || key_ids == NULL || out == NULL || n == 0 || n > 64)
        return DSUIT_E_INVAL;
    for (size_t i = 0; i < n; i++) {
        s[i] = score(chunk, key_ids[i]);
        out[i] = i;
    }
    /* Insertion sort by score, highest first; ties (2^-64) by index. */
    for (size_t i = 1; i < n; i++) {
        size_t cur = out[i], j = i;
        while (j > 0 && (s[out[j - 1]] < s[cur] ||
                         (s[out[j - 1]] == s[cur] && out[j - 1] > cur))) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = cur;
    }
    return DSUIT_OK;
}

int dsuit_chunk_place(const uint8_t chunk[32], const uint8_t (*key_ids)[32],
                      size_t n, size_t replicas, size_t *out)
{
    size_t all[64];
    int rc = dsuit_chunk_rank(chunk, key_ids, n, all);
    if (rc != DSUIT_OK)
        return rc;
    for (size_t i = 0; i < replicas && i < n; i++)
        out[i] = all[i];
    return DSUIT_OK;
}

/* ---- files ---------------------------------------------------------------- */

static void hexname(const uint8_t d[32], char out[65])
{
    static const char x[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = x[d[i] >> 4];
        out[2 * i + 1] = x[d[i] & 15];
    }
    out[64] = '\0';
}

/* root/ab/cd/<hex>; with file == 0 only root/ab/cd */
static int chunk_path(const dsuit_chunks_t *c, const uint8_t d[32], int file,
                      char *out, size_t cap)
{
    char h[65];
    int n;
    hexname(d, h);
    if (file)
        n = snprintf(out, cap, "%s/%.2s/%.2s/%s", c->root, h, h + 2, h);
    else
        n = snprintf(out, cap, "%s/%.2s/%.2s", c->root, h, h + 2);
    return n > 0 && (size_t)n < cap ? DSUIT_OK : DSUIT_E_LIMIT;
}

static int mkdir_p(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len >= sizeof tmp)
        return DSUIT_E_LIMIT;
    memcpy(tmp, path, len + 1);
    for (size_t i = 1; i < len; i++) {
        if (tmp[i] == '/') {
            tmp[i] = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return DSUIT_E_IO;
            tmp[i] = '/';
        }
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return DSUIT_E_IO;
    return DSUIT_OK;
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int dsuit_chunks_open(const char *dir, dsuit_chunks_t **out)
{
    dsuit_chunks_t *c;
    char tmp[4200];
    struct stat st;
    DIR *d;
    if (dir == NULL || out == NULL)
        return DSUIT_E_INVAL;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return DSUIT_E_IO;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return DSUIT_E_NOMEM;
    if (snprintf(c->root, sizeof c->root, "%s/chunks", dir) >=
        (int)sizeof c->root) {
        free(c);
        return DSUIT_E_LIMIT;
    }
    snprintf(tmp, sizeof tmp, "%s/tmp", c->root);
    if (mkdir_p(tmp) != DSUIT_OK) {
        free(c);
        return DSUIT_E_IO;
    }
    /* Writes that a crash interrupted never became chunks: drop them. */
    d = opendir(tmp);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] != '.')
                unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    *out = c;
    return DSUIT_OK;
}

void dsuit_chunks_close(dsuit_chunks_t *c)
{
    free(c);
}

static int read_all(const char *path, size_t max, uint8_t **out,
                    size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *buf;
    size_t done = 0;
    if (fd < 0)
        return errno == ENOENT ? DSUIT_E_NOTFOUND : DSUIT_E_IO;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return DSUIT_E_IO;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return DSUIT_E_LIMIT;
    }
    buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (buf == NULL) {
        close(fd);
        return DSUIT_E_NOMEM;
    }
    while (done < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            close(fd);
            return DSUIT_E_IO;
        }
        done += (size_t)r;
    }
    close(fd);
    *out = buf;
    *out_len = done;
    return DSUIT_OK;
}

int dsuit_chunks_get(dsuit_chunks_t *c, const uint8_t digest[32], size_t max,
                     uint8_t **out, size_t *out_len)
{
    char path[4200];
    uint8_t *buf, h[32];
    size_t n;
    int rc;
    if (c == NULL || digest == NULL || out == NULL || out_len == NULL)
        return DSUIT_E_INVAL;
    rc = chunk_path(c, digest, 1, path, sizeof path);
    if (rc != DSUIT_OK)
        return rc;
    rc = read_all(path, max, &buf, &n);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_sha256(buf, n, h);
    if (!dsuit_ct_equal(h, digest, 32)) {
        /* Never serve it; drop it so repair fetches a good copy. */
        free(buf);
        unlink(path);
        return DSUIT_E_DIGEST;
    }
    *out = buf;
    *out_len = n;
    return DSUIT_OK;
}

int dsuit_chunks_has(dsuit_chunks_t *c, const uint8_t digest[32])
{
    char path[4200];
    struct stat st;
    if (c == NULL || digest == NULL ||
        chunk_path(c, digest, 1, path, sizeof path) != DSUIT_OK)
        return 0;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int dsuit_chunks_put(dsuit_chunks_t *c, const uint8_t digest[32],
                     const uint8_t *data, size_t len)
{
    char path[4200], dir[4200], tmp[4300];
    uint8_t h[32];
    int fd, rc;
    size_t done = 0;
    uint8_t nonce[8];
    char hex[65];

    if (c == NULL || digest == NULL || (data == NULL && len > 0))
        return DSUIT_E_INVAL;
    dsuit_sha256(data, len, h);
    if (!dsuit_ct_equal(h, digest, 32))
        return DSUIT_E_DIGEST;
    if (dsuit_chunks_has(c, digest)) {
        uint8_t *old;
        size_t ol;
        rc = dsuit_chunks_get(c, digest, len, &old, &ol);
        if (rc == DSUIT_OK) {
            free(old);
            return DSUIT_OK; /* already there, intact */
        }
        /* damaged (now removed) or unreadable: write it again */
    }
    if (chunk_path(c, digest, 0, dir, sizeof dir) != DSUIT_OK ||
        chunk_path(c, digest, 1, path, sizeof path) != DSUIT_OK)
        return DSUIT_E_LIMIT;
    if (mkdir_p(dir) != DSUIT_OK)
        return DSUIT_E_IO;
    /* A random name: writers in several threads never collide, and no
     * state is shared between them. */
    if (dsuit_random(nonce, sizeof nonce) != DSUIT_OK)
        return DSUIT_E_IO;
    hexname(digest, hex);
    snprintf(tmp, sizeof tmp, "%s/tmp/%.16s-%02x%02x%02x%02x%02x%02x%02x%02x",
             c->root, hex, nonce[0], nonce[1], nonce[2], nonce[3], nonce[4],
             nonce[5], nonce[6], nonce[7]);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return DSUIT_E_IO;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return DSUIT_E_IO;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return DSUIT_E_IO;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return DSUIT_E_IO;
    }
    fsync_dir(dir);
    return DSUIT_OK;
}

int dsuit_chunks_del(dsuit_chunks_t *c, const uint8_t digest[32])
{
    char path[4200];
    if (c == NULL || digest == NULL ||
        chunk_path(c, digest, 1, path, sizeof path) != DSUIT_OK)
        return DSUIT_E_INVAL;
    if (unlink(path) != 0)
        return errno == ENOENT ? DSUIT_E_NOTFOUND : DSUIT_E_IO;
    return DSUIT_OK;
}

int dsuit_chunks_stat(dsuit_chunks_t *c, uint64_t *out_count,
                      uint64_t *out_bytes)
{
    uint64_t count = 0, bytes = 0;
    char l1[4200], l2[4400], f[4700];
    DIR *d1;
    if (c == NULL || out_count == NULL || out_bytes == NULL)
        return DSUIT_E_INVAL;
    d1 = opendir(c->root);
    if (d1 == NULL)
        return DSUIT_E_IO;
    for (struct dirent *a; (a = readdir(d1)) != NULL;) {
        DIR *d2;
        if (strlen(a->d_name) != 2)
            continue; /* ".", "..", "tmp" */
        snprintf(l1, sizeof l1, "%s/%s", c->root, a->d_name);
        d2 = opendir(l1);
        if (d2 == NULL)
            continue;
        for (struct dirent *b; (b = readdir(d2)) != NULL;) {
            DIR *d3;
            if (strlen(b->d_name) != 2)
                continue;
            snprintf(l2, sizeof l2, "%s/%s", l1, b->d_name);
            d3 = opendir(l2);
            if (d3 == NULL)
                continue;
            for (struct dirent *e; (e = readdir(d3)) != NULL;) {
                struct stat st;
                if (strlen(e->d_name) != 64)
                    continue;
                snprintf(f, sizeof f, "%s/%s", l2, e->d_name);
                if (stat(f, &st) == 0 && S_ISREG(st.st_mode)) {
                    count++;
                    bytes += (uint64_t)st.st_size;
                }
            }
            closedir(d3);
        }
        closedir(d2);
    }
    closedir(d1);
    *out_count = count;
    *out_bytes = bytes;
    return DSUIT_OK;
}
