/*
 * Registration node role: the draft's Figure 3 from the node's side
 * (draft-lee-suit-distarch §4):
 *
 *   POST /v1/publish            the signed envelope. The node runs the
 *                               ledger's own publish rules on it without
 *                               writing (dsuit_ledger_check_publish):
 *                               author registered for the manifest's
 *                               vendor and class, manifest authentic, no
 *                               rollback. It answers 201 with one upload
 *                               location per image the manifest names, or
 *                               4xx naming the failed check.
 *   PUT /v1/uploads/{id}/{i}    image i. Its size and SHA-256 must be the
 *                               manifest's. It is cut into chunks of the
 *                               policy's size; each chunk goes to its R
 *                               holders in rendezvous order (the next one
 *                               when a holder does not take it), and only
 *                               when every chunk has R acknowledged copies,
 *                               and every image is in, does the node submit
 *                               the publish transaction. 202 with its id.
 *
 * An upload that stops halfway leaves chunks that no ledger entry names:
 * invisible to clients, and the upload can simply be repeated (chunks are
 * content-addressed, storing one twice is a no-op). Uploads expire after
 * UPLOAD_TTL_MS.
 */
#define _DEFAULT_SOURCE /* usleep */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "dsuit/tx.h"
#include "net/http/client.h"
#include "node/node_int.h"

#define UPLOAD_TTL_MS (10 * 60 * 1000)

static void free_upload(node_upload_t *u)
{
    free(u->envelope);
    for (size_t i = 0; i < DSUIT_TX_MAX_IMAGES; i++)
        free(u->chunks[i]);
    memset(u, 0, sizeof *u);
}

void node_uploads_expire(dsuit_node_t *n, uint64_t now)
{
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < NODE_MAX_UPLOADS; i++) {
        if (n->uploads[i].used && !n->uploads[i].busy &&
            n->uploads[i].expires_ms < now)
            free_upload(&n->uploads[i]);
    }
    pthread_mutex_unlock(&n->mu);
}

static void json_out(dsuit_http_response_t *r, int status, json_t *j,
                     const char *location)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s == NULL) {
        dsuit_http_json_error(r, 500, "internal", "out of memory");
        return;
    }
    r->status = status;
    r->content_type = "application/json";
    r->body = (uint8_t *)s;
    r->len = strlen(s);
    r->location = location;
}

void node_publish_begin(dsuit_node_t *n, const dsuit_http_request_t *req,
                        dsuit_http_response_t *r)
{
    dsuit_publish_check_t chk;
    node_upload_t *u = NULL;
    uint8_t rnd[16];
    json_t *images;
    int rc;

    if (req->body_len == 0) {
        dsuit_http_json_error(r, 400, "bad-encoding",
                              "the body is the signed SUIT envelope");
        return;
    }
    rc = dsuit_ledger_check_publish(n->ledger, req->body, req->body_len, &chk);
    if (rc < 0) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    if (rc != DSUIT_TXR_OK) {
        int status =
            rc == DSUIT_TXR_UNKNOWN_AUTHOR || rc == DSUIT_TXR_REVOKED_AUTHOR ||
                    rc == DSUIT_TXR_OUT_OF_SCOPE ||
                    rc == DSUIT_TXR_BAD_SIGNATURE
                ? 403
            : rc == DSUIT_TXR_ROLLBACK || rc == DSUIT_TXR_DUPLICATE ? 409
            : rc == DSUIT_TXR_IMAGE_TOO_LARGE                       ? 413
                                                                    : 400;
        dsuit_http_json_error(r, status, dsuit_txr_name(rc),
                              dsuit_txr_message(rc));
        return;
    }
    node_uploads_expire(n, node_now_ms());
    dsuit_random(rnd, sizeof rnd);
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < NODE_MAX_UPLOADS && u == NULL; i++) {
        if (!n->uploads[i].used)
            u = &n->uploads[i];
    }
    if (u != NULL) {
        memset(u, 0, sizeof *u);
        u->envelope = malloc(req->body_len);
        if (u->envelope == NULL) {
            u = NULL;
        } else {
            memcpy(u->envelope, req->body, req->body_len);
            u->envelope_len = req->body_len;
            u->used = 1;
            u->check = chk;
            u->expires_ms = node_now_ms() + UPLOAD_TTL_MS;
            node_hex(rnd, sizeof rnd, u->id);
        }
    }
    pthread_mutex_unlock(&n->mu);
    if (u == NULL) {
        dsuit_http_json_error(r, 503, "busy", "too many uploads in progress");
        return;
    }
    images = json_array();
    for (size_t i = 0; i < chk.n_images; i++) {
        char loc[96], hex[65];
        node_hex(chk.images[i].digest, 32, hex);
        snprintf(loc, sizeof loc, "/v1/uploads/%s/%zu", u->id, i);
        json_array_append_new(
            images, json_pack("{s:s, s:I, s:s}", "digest", hex, "size",
                              (json_int_t)chk.images[i].size, "upload", loc));
    }
    {
        char digest[65];
        node_hex(chk.manifest_digest, 32, digest);
        node_log(n, "info", "publish",
                 "manifest checked: author registered, signature valid "
                 "manifest=%.16s seq=%llu images=%zu",
                 digest, (unsigned long long)chk.seq, chk.n_images);
        json_out(r, 201,
                 json_pack("{s:s, s:s, s:I, s:o}", "upload", u->id,
                           "manifest_digest", digest, "sequence",
                           (json_int_t)chk.seq, "images", images),
                 NULL);
    }
}

/* Put one chunk on R holders: rendezvous order, skipping holders that do
 * not take it. Returns the copies made. */
static size_t place_chunk(dsuit_node_t *n, const uint8_t digest[32],
                          const uint8_t *data, size_t len)
{
    size_t rank[64], want = n->g->policy.replicas, copies = 0;
    dsuit_chunk_rank(digest, (const uint8_t(*)[32])n->key_ids,
                     n->g->n_validators, rank);
    for (size_t k = 0; k < n->g->n_validators && copies < want; k++) {
        if (node_chunk_push(n, rank[k], digest, data, len) == DSUIT_OK)
            copies++;
        else
            node_log(n, "warn", "publish",
                     "a holder did not take a chunk peer=%s",
                     n->g->validators[rank[k]].name);
    }
    return copies;
}

/* Build and submit the publish transaction of a complete upload. */
#define SUBMIT_TRY_MS 10000 /* an election takes a few seconds at most */

/*
 * Submit where any transaction goes: the leader's mempool, or through this
 * node's own API, which forwards to the leader. While there is no leader
 * (an election) the answer is 503: try again for up to SUBMIT_TRY_MS, so
 * that an author's upload is not lost to a leader change.
 */
static int submit_retrying(dsuit_node_t *n, const uint8_t *tx, size_t tl,
                           const uint8_t id[32])
{
    const uint64_t until = node_now_ms() + SUBMIT_TRY_MS;
    long status = 0;
    int rc, tries = 0;

    for (;;) {
        uint8_t *resp = NULL;
        size_t rl = 0;
        tries++;
        status = 0;
        rc = node_tx_to_leader(n, tx, tl, id, &status, &resp, &rl);
        free(resp);
        /* A refusal (4xx) will not change; no leader or no answer may. */
        if (rc == DSUIT_OK || rc == DSUIT_E_INVAL || node_now_ms() >= until)
            break;
        if (node_quitting(n))
            break;
        usleep(200 * 1000);
    }
    if (rc != DSUIT_OK)
        node_log(n, "warn", "publish",
                 "could not submit the publish tries=%d status=%ld err=%s",
                 tries, status, dsuit_strerror(rc));
    return rc;
}

static int submit_publish(dsuit_node_t *n, node_upload_t *u, uint8_t id[32])
{
    dsuit_tx_image_in_t in[DSUIT_TX_MAX_IMAGES];
    uint8_t *body = NULL, *tx = NULL;
    size_t bl, tl;
    uint64_t nonce;
    dsuit_tx_t t;
    int rc;

    for (size_t i = 0; i < u->check.n_images; i++) {
        in[i].digest = u->check.images[i].digest;
        in[i].size = u->check.images[i].size;
        in[i].chunk_size = n->g->policy.chunk_size;
        in[i].chunks = (const uint8_t(*)[32])u->chunks[i];
        in[i].n_chunks = u->n_chunks[i];
    }
    dsuit_random((uint8_t *)&nonce, sizeof nonce);
    rc = dsuit_tx_body_publish(n->g->hash, nonce, u->envelope, u->envelope_len,
                               in, u->check.n_images, NULL, 0, &bl);
    if (rc != DSUIT_E_LIMIT)
        return rc == DSUIT_OK ? DSUIT_E_INVAL : rc;
    body = malloc(bl);
    tx = malloc(bl + 64);
    if (body == NULL || tx == NULL) {
        rc = DSUIT_E_NOMEM;
        goto out;
    }
    rc = dsuit_tx_body_publish(n->g->hash, nonce, u->envelope, u->envelope_len,
                               in, u->check.n_images, body, bl, &bl);
    if (rc == DSUIT_OK)
        rc = dsuit_tx_assemble(body, bl, NULL, 0, tx, bl + 64, &tl);
    if (rc == DSUIT_OK)
        rc = dsuit_tx_decode(tx, tl, &t);
    if (rc != DSUIT_OK)
        goto out;
    memcpy(id, t.id, 32);
    rc = submit_retrying(n, tx, tl, t.id);
out:
    free(body);
    free(tx);
    return rc;
}

/*
 * PUT /v1/uploads/{id}/{i}, streamed (src/net/http/server.h, "Streaming"):
 * the image goes to an unlinked spool file in the node's folder while the
 * chunker (dsuit_chunker_*) counts it and hashes each chunk and the whole
 * image in one pass, so memory stays bounded by one chunk whatever the
 * image size, and a crash leaves nothing behind. Only once size and digest
 * are the manifest's are the chunks read back and placed.
 */
typedef struct {
    dsuit_http_sink_t base; /* first: what the server holds */
    dsuit_node_t *n;
    node_upload_t *u; /* owned through u->busy until close */
    size_t idx;
    int fd;
    uint64_t got, want;
    dsuit_chunker_t ck;
    uint8_t (*chunks)[32]; /* ck's digests; handed to store_image */
    size_t n_chunks;
    int freed; /* finish submitted the publish and freed u */
} upload_sink_t;

static int store_image(dsuit_node_t *n, node_upload_t *u, size_t idx, int fd,
                       uint64_t size, uint8_t (*chunks)[32], size_t n_chunks,
                       dsuit_http_response_t *r);

static int sink_write(dsuit_http_sink_t *base, const uint8_t *p, size_t len)
{
    upload_sink_t *k = (upload_sink_t *)base;
    if (len > k->want - k->got)
        return -1; /* longer than the manifest says: stop reading */
    if (dsuit_chunker_update(&k->ck, p, len) != DSUIT_OK)
        return -1;
    if (node_write_at(k->fd, p, len, k->got) != DSUIT_OK) {
        node_log(k->n, "error", "publish",
                 "cannot spool an upload reason=\"%s\"", strerror(errno));
        return -1;
    }
    k->got += len;
    return 0;
}

static void sink_finish(dsuit_http_sink_t *base, dsuit_http_response_t *r)
{
    upload_sink_t *k = (upload_sink_t *)base;
    uint8_t digest[32];
    size_t n;
    if (k->got != k->want ||
        dsuit_chunker_final(&k->ck, digest, &n) != DSUIT_OK ||
        n != k->n_chunks) {
        dsuit_http_json_error(r, 400, "image-size",
                              "the image's size is not the manifest's");
        return;
    }
    if (!dsuit_ct_equal(digest, k->u->check.images[k->idx].digest, 32)) {
        dsuit_http_json_error(r, 400, "image-digest",
                              "the image does not match the manifest's "
                              "digest");
        return;
    }
    k->freed = store_image(k->n, k->u, k->idx, k->fd, k->got, k->chunks,
                           k->n_chunks, r);
    k->chunks = NULL; /* store_image's now */
}

static void release(dsuit_node_t *n, node_upload_t *u)
{
    pthread_mutex_lock(&n->mu);
    u->busy = 0;
    pthread_mutex_unlock(&n->mu);
}

static void sink_close(dsuit_http_sink_t *base)
{
    upload_sink_t *k = (upload_sink_t *)base;
    if (!k->freed)
        release(k->n, k->u);
    free(k->chunks);
    close(k->fd);
    free(k);
}

dsuit_http_sink_t *node_publish_stream(dsuit_node_t *n, const char *rest,
                                       const dsuit_http_request_t *req,
                                       dsuit_http_response_t *r)
{
    char id[33], spool[PATH_MAX + 32];
    const char *slash = strchr(rest, '/'), *cl;
    unsigned long idx;
    char *end;
    node_upload_t *u = NULL;
    upload_sink_t *k;
    int busy;

    if (strcmp(req->method, "PUT") != 0) {
        dsuit_http_json_error(r, 405, "method-not-allowed", "PUT the image");
        return NULL;
    }
    if (slash == NULL || slash - rest != 32) {
        dsuit_http_json_error(r, 404, "not-found", "no such upload");
        return NULL;
    }
    memcpy(id, rest, 32);
    id[32] = '\0';
    idx = strtoul(slash + 1, &end, 10);
    if (*end != '\0' || slash[1] == '\0') {
        dsuit_http_json_error(r, 404, "not-found", "no such upload");
        return NULL;
    }
    /* The PUT owns the upload until it is answered: expiry and other PUTs
     * leave it alone, so its fields can be read without the lock. */
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < NODE_MAX_UPLOADS && u == NULL; i++) {
        if (n->uploads[i].used && strcmp(n->uploads[i].id, id) == 0)
            u = &n->uploads[i];
    }
    busy = u != NULL && u->busy;
    if (u != NULL && !busy)
        u->busy = 1;
    pthread_mutex_unlock(&n->mu);
    if (busy) {
        dsuit_http_json_error(r, 409, "upload-busy",
                              "another request is storing an image of this "
                              "upload; try again when it has finished");
        return NULL;
    }
    if (u == NULL) {
        dsuit_http_json_error(r, 404, "not-found",
                              "no such upload (or it expired)");
        return NULL;
    }
    if (idx >= u->check.n_images) {
        release(n, u);
        dsuit_http_json_error(r, 404, "not-found", "no such image in upload");
        return NULL;
    }
    /* An announced length that is not the manifest's: refused before a
     * byte is read (a chunked body is counted as it arrives). */
    cl = dsuit_http_header(req, "Content-Length");
    if (cl != NULL &&
        (strtoull(cl, &end, 10) != u->check.images[idx].size || *end != '\0')) {
        release(n, u);
        dsuit_http_json_error(r, 400, "image-size",
                              "the image's size is not the manifest's");
        return NULL;
    }
    k = calloc(1, sizeof *k);
    if (k != NULL) {
        k->want = u->check.images[idx].size;
        k->n_chunks =
            (size_t)dsuit_chunk_count(k->want, n->g->policy.chunk_size);
        k->chunks = malloc(k->n_chunks ? k->n_chunks * 32 : 1);
    }
    snprintf(spool, sizeof spool, "%s/spool-XXXXXX", n->dir);
    if (k == NULL || k->chunks == NULL || (k->fd = mkstemp(spool)) < 0) {
        node_log(n, "error", "publish", "cannot make a spool file dir=%s",
                 n->dir);
        if (k != NULL)
            free(k->chunks);
        free(k);
        release(n, u);
        dsuit_http_json_error(r, 500, "storage",
                              "cannot take the upload now; try again");
        return NULL;
    }
    unlink(spool); /* anonymous from now on: gone with the descriptor */
    k->base.write = sink_write;
    k->base.finish = sink_finish;
    k->base.close = sink_close;
    k->n = n;
    k->u = u;
    k->idx = idx;
    dsuit_chunker_init(&k->ck, n->g->policy.chunk_size, k->chunks, k->n_chunks);
    return &k->base;
}

/* Place the chunks of image idx of upload u (owned by the caller: u->busy;
 * its size and digest checked, its bytes in fd, its chunk digests in
 * chunks, which this takes over) on R validators each and, when it was the
 * last image, submit the publish and free the upload (the slot may be
 * reused at once). Returns 1 if u was freed. */
static int store_image(dsuit_node_t *n, node_upload_t *u, size_t idx, int fd,
                       uint64_t size, uint8_t (*chunks)[32], size_t n_chunks,
                       dsuit_http_response_t *r)
{
    uint64_t chunk = n->g->policy.chunk_size;
    uint8_t *buf = malloc((size_t)chunk);
    size_t min_copies = SIZE_MAX;
    int complete = 1, rc;

    if (buf == NULL) {
        free(chunks);
        free(buf);
        dsuit_http_json_error(r, 500, "internal", "out of memory");
        return 0;
    }
    node_log(n, "info", "publish",
             "image received, size and digest match bytes=%llu chunks=%zu",
             (unsigned long long)size, n_chunks);
    for (size_t c = 0; c < n_chunks; c++) {
        uint64_t off = c * chunk;
        size_t len = size - off < chunk ? (size_t)(size - off) : (size_t)chunk;
        size_t copies;
        if (node_read_at(fd, buf, len, off) != DSUIT_OK) {
            free(chunks);
            free(buf);
            dsuit_http_json_error(r, 500, "storage",
                                  "cannot read the spooled upload");
            return 0;
        }
        copies = place_chunk(n, chunks[c], buf, len);
        if (copies < min_copies)
            min_copies = copies;
        if (copies < n->g->policy.replicas) {
            free(chunks);
            free(buf);
            dsuit_http_json_error(r, 503, "replicas",
                                  "not enough validators took a chunk; "
                                  "upload again later");
            return 0;
        }
    }
    free(buf);
    pthread_mutex_lock(&n->mu);
    free(u->chunks[idx]);
    u->chunks[idx] = chunks;
    u->n_chunks[idx] = n_chunks;
    u->have[idx] = 1;
    for (size_t i = 0; i < u->check.n_images; i++)
        complete &= u->have[i];
    pthread_mutex_unlock(&n->mu);
    node_log(n, "info", "publish",
             "image stored bytes=%llu chunks=%zu replicas=%zu",
             (unsigned long long)size, n_chunks, min_copies);
    if (!complete) {
        json_out(r, 202,
                 json_pack("{s:s, s:I, s:I}", "status", "image stored",
                           "chunks", (json_int_t)n_chunks, "replicas",
                           (json_int_t)min_copies),
                 NULL);
        return 0;
    }
    {
        uint8_t txid[32] = {0};
        char hex[65], msg[300];
        rc = submit_publish(n, u, txid);
        if (rc != DSUIT_OK) {
            node_hex(txid, 32, hex);
            snprintf(msg, sizeof msg,
                     "stored, but no leader took the publish; it may still "
                     "reach the ledger (GET /v1/tx/%s); else upload again",
                     hex);
            dsuit_http_json_error(r, 503, "no-leader", msg);
            return 0;
        }
        node_hex(txid, 32, hex);
        pthread_mutex_lock(&n->mu);
        free_upload(u);
        pthread_mutex_unlock(&n->mu);
        json_out(r, 202,
                 json_pack("{s:s, s:s, s:I, s:I}", "id", hex, "status",
                           "pending", "chunks", (json_int_t)n_chunks,
                           "replicas", (json_int_t)min_copies),
                 NULL);
        return 1;
    }
}
