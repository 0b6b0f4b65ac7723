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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void node_image_get(dsuit_node_t *n, const char *hexdigest,
                    const dsuit_http_request_t *req, dsuit_http_response_t *r)
{
    find_image_t f;
    dsuit_store_txn_t *t;
    uint8_t want[32], got[32], *img = NULL;
    dsuit_sha256_ctx_t h;
    uint64_t off = 0;
    int rc;
    (void)req;

    memset(&f, 0, sizeof f);
    if (!node_unhex(hexdigest, want, 32)) {
        dsuit_http_json_error(r, 400, "bad-request",
                              "an image digest is 64 hex digits");
        return;
    }
    f.want = want;
    rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc == DSUIT_OK) {
        rc = dsuit_store_foreach(t, DSUIT_TBL_MANIFESTS, visit_for_image, &f);
        dsuit_store_abort(t);
    }
    if (rc < 0 && rc != DSUIT_E_NOMEM) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        goto out;
    }
    if (!f.found) {
        dsuit_http_json_error(r, 404, "not-found",
                              "no published manifest names that image");
        goto out;
    }
    img = malloc(f.img.size ? f.img.size : 1);
    if (img == NULL) {
        dsuit_http_json_error(r, 500, "internal", "out of memory");
        goto out;
    }
    dsuit_sha256_init(&h);
    for (size_t i = 0; i < f.img.n_chunks; i++) {
        uint8_t *c;
        size_t cl;
        rc = node_chunk_fetch(n, f.img.chunks[i], f.img.chunk_size, &c, &cl);
        if (rc != DSUIT_OK || off + cl > f.img.size) {
            if (rc == DSUIT_OK)
                free(c);
            dsuit_http_json_error(r, 503, "unavailable",
                                  "a chunk of the image is unavailable");
            goto out;
        }
        memcpy(img + off, c, cl);
        dsuit_sha256_update(&h, c, cl);
        off += cl;
        free(c);
    }
    dsuit_sha256_final(&h, got);
    /* The whole image is checked before its first byte is sent. */
    if (off != f.img.size || !dsuit_ct_equal(got, want, 32)) {
        dsuit_http_json_error(r, 503, "unavailable",
                              "the assembled image does not match its digest");
        goto out;
    }
    r->status = 200;
    r->content_type = "application/octet-stream";
    r->body = img;
    r->len = (size_t)off;
    img = NULL;
out:
    free(img);
    free(f.img.chunks);
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
