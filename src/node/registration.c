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
                    rc == DSUIT_TXR_OUT_OF_SCOPE
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
    int rc, tries = 0, quit;

    for (;;) {
        node_status_t st;
        tries++;
        status = 0;
        node_status(n, &st);
        if (st.role != NULL && strcmp(st.role, "leader") == 0) {
            rc = node_submit(n, tx, tl, id);
            if (rc == DSUIT_E_EXISTS)
                rc = DSUIT_OK;
        } else {
            char url[512];
            uint8_t *resp = NULL;
            size_t rl;
            const char *headers[] = {"Content-Type: application/cbor", NULL};
            node_peer_url(n, n->index, url, sizeof url);
            strncat(url, "/v1/tx", sizeof url - strlen(url) - 1);
            rc = dsuit_http_request("POST", url, headers, tx, tl, 10000,
                                    &status, &resp, &rl, 64 * 1024);
            free(resp);
            if (rc == DSUIT_OK && status != 202)
                rc = DSUIT_E_IO;
        }
        /* A refusal (4xx) will not change; no leader or no answer may. */
        if (rc == DSUIT_OK || (status >= 400 && status < 500) ||
            node_now_ms() >= until)
            break;
        pthread_mutex_lock(&n->mu);
        quit = n->quitting;
        pthread_mutex_unlock(&n->mu);
        if (quit)
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

static int put_image(dsuit_node_t *n, node_upload_t *u, unsigned long idx,
                     const dsuit_http_request_t *req, dsuit_http_response_t *r);

void node_publish_upload(dsuit_node_t *n, const char *rest,
                         const dsuit_http_request_t *req,
                         dsuit_http_response_t *r)
{
    char id[33];
    const char *slash = strchr(rest, '/');
    unsigned long idx;
    char *end;
    node_upload_t *u = NULL;
    int busy;

    if (strcmp(req->method, "PUT") != 0) {
        dsuit_http_json_error(r, 405, "method-not-allowed", "PUT the image");
        return;
    }
    if (slash == NULL || slash - rest != 32) {
        dsuit_http_json_error(r, 404, "not-found", "no such upload");
        return;
    }
    memcpy(id, rest, 32);
    id[32] = '\0';
    idx = strtoul(slash + 1, &end, 10);
    if (*end != '\0' || slash[1] == '\0') {
        dsuit_http_json_error(r, 404, "not-found", "no such upload");
        return;
    }
    /* The PUT owns the upload until it answers: expiry and other PUTs
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
        return;
    }
    if (u == NULL) {
        dsuit_http_json_error(r, 404, "not-found",
                              "no such upload (or it expired)");
        return;
    }
    if (!put_image(n, u, idx, req, r)) {
        pthread_mutex_lock(&n->mu);
        u->busy = 0;
        pthread_mutex_unlock(&n->mu);
    }
}

/* Store image idx of upload u (owned by the caller: u->busy) and, when it
 * was the last one, submit the publish and free the upload (the slot may be
 * reused at once). Returns 1 if u was freed. */
static int put_image(dsuit_node_t *n, node_upload_t *u, unsigned long idx,
                     const dsuit_http_request_t *req, dsuit_http_response_t *r)
{
    uint64_t chunk = n->g->policy.chunk_size;
    uint8_t digest[32], (*chunks)[32] = NULL;
    size_t n_chunks, min_copies = SIZE_MAX;
    int complete = 1, rc;

    if (idx >= u->check.n_images) {
        dsuit_http_json_error(r, 404, "not-found", "no such image in upload");
        return 0;
    }
    /* Size and digest, as the manifest says, before anything is stored. */
    if (req->body_len != u->check.images[idx].size) {
        dsuit_http_json_error(r, 400, "image-size",
                              "the image's size is not the manifest's");
        return 0;
    }
    dsuit_sha256(req->body, req->body_len, digest);
    if (!dsuit_ct_equal(digest, u->check.images[idx].digest, 32)) {
        dsuit_http_json_error(r, 400, "image-digest",
                              "the image does not match the manifest's "
                              "digest");
        return 0;
    }
    n_chunks = (size_t)dsuit_chunk_count(req->body_len, chunk);
    chunks = malloc(n_chunks * 32);
    if (chunks == NULL) {
        dsuit_http_json_error(r, 500, "internal", "out of memory");
        return 0;
    }
    for (size_t c = 0; c < n_chunks; c++) {
        size_t off = c * chunk;
        size_t len =
            req->body_len - off < chunk ? req->body_len - off : (size_t)chunk;
        size_t copies;
        dsuit_sha256(req->body + off, len, chunks[c]);
        copies = place_chunk(n, chunks[c], req->body + off, len);
        if (copies < min_copies)
            min_copies = copies;
        if (copies < n->g->policy.replicas) {
            free(chunks);
            dsuit_http_json_error(r, 503, "replicas",
                                  "not enough validators took a chunk; "
                                  "upload again later");
            return 0;
        }
    }
    pthread_mutex_lock(&n->mu);
    free(u->chunks[idx]);
    u->chunks[idx] = chunks;
    u->n_chunks[idx] = n_chunks;
    u->have[idx] = 1;
    for (size_t i = 0; i < u->check.n_images; i++)
        complete &= u->have[i];
    pthread_mutex_unlock(&n->mu);
    node_log(n, "info", "publish",
             "image stored bytes=%zu chunks=%zu replicas=%zu", req->body_len,
             n_chunks, min_copies);
    if (!complete) {
        json_out(r, 202,
                 json_pack("{s:s, s:I, s:I}", "status", "image stored",
                           "chunks", (json_int_t)n_chunks, "replicas",
                           (json_int_t)min_copies),
                 NULL);
        return 0;
    }
    {
        uint8_t txid[32];
        char hex[65];
        rc = submit_publish(n, u, txid);
        if (rc != DSUIT_OK) {
            dsuit_http_json_error(r, 503, "no-leader",
                                  "stored, but the publish could not be "
                                  "submitted; upload again to retry");
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
