/*
 * The node's HTTP API (issue "Replicated ledger node", docs/api.md):
 *
 *   POST /v1/tx                     submit a transaction (CBOR); any node
 *   GET  /v1/tx/{id}                pending | committed | certified | invalid
 *   GET  /v1/status                 JSON: node, leader, term, heights, peers
 *   GET  /v1/blocks/{h}             JSON, or the CBOR block (Accept)
 *   GET  /v1/blocks/{h}/cert        the commit certificate (CBOR)
 *   GET  /v1/authors                JSON
 *   GET  /v1/manifests?vendor=&class=         JSON
 *   GET  /v1/manifests/latest?vendor=&class=  the newest certified envelope
 *   GET  /v1/proof/{manifest digest}          LedgerProof (CBOR)
 *   GET  /v1/evidence               JSON: validators that signed two blocks
 *   GET  /v1/devices                JSON: devices that reported here
 *   GET|POST /v1/device/fw/...      the device resources (device.c), with a
 *                                   request token
 *   GET  /metrics                   Prometheus text format
 *   POST /internal/v1/tx            a follower forwarding to the leader
 *   POST /internal/v1/votes         a validator's vote on a block
 *
 * Handlers run on the HTTP server's threads. They read through LMDB read
 * transactions (copying what they send before the transaction ends) and
 * hand anything that changes state to the loop (node_submit,
 * node_vote_in). Internal routes accept only requests signed by a genesis
 * validator (peer_auth.h). Errors are JSON {"error", "message"}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "dsuit/block.h"
#include "dsuit/cbor.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"
#include "net/http/client.h"
#include "node/node_int.h"

#define PEER_SKEW_MS 30000

/* UUID text (8-4-4-4-12) or 32 hex digits. */
int node_uuid_parse(const char *s, uint8_t out[16])
{
    char h[33];
    size_t k = 0;
    if (s == NULL)
        return 0;
    for (; *s && k < 32; s++) {
        if (*s == '-')
            continue;
        h[k++] = *s;
    }
    h[k] = '\0';
    return *s == '\0' && node_unhex(h, out, 16);
}

void node_uuid_text(const uint8_t u[16], char out[37])
{
    char h[33];
    node_hex(u, 16, h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
             h + 20);
}

static void json_reply(dsuit_http_response_t *r, int status, json_t *j)
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
}

static void bytes_reply(dsuit_http_response_t *r, int status, const char *type,
                        const uint8_t *p, size_t n)
{
    r->body = malloc(n ? n : 1);
    if (r->body == NULL) {
        dsuit_http_json_error(r, 500, "internal", "out of memory");
        return;
    }
    memcpy(r->body, p, n);
    r->len = n;
    r->status = status;
    r->content_type = type;
}

static int wants_cbor(const dsuit_http_request_t *req)
{
    const char *a = dsuit_http_header(req, "Accept");
    return a != NULL && strstr(a, "application/cbor") != NULL;
}

/* ---- transactions ------------------------------------------------------ */

static void tx_accepted(dsuit_http_response_t *r, const uint8_t id[32],
                        const char *status)
{
    char h[65];
    node_hex(id, 32, h);
    json_reply(r, 202, json_pack("{s:s, s:s}", "id", h, "status", status));
}

/* Decode and queue, or forward to the leader. */
static void post_tx(dsuit_node_t *n, const dsuit_http_request_t *req,
                    dsuit_http_response_t *r, int internal)
{
    dsuit_tx_t t;
    node_status_t st;
    int rc;

    if (req->body_len == 0) {
        dsuit_http_json_error(r, 400, "bad-encoding", "empty body");
        return;
    }
    rc = dsuit_tx_decode(req->body, req->body_len, &t);
    if (rc != DSUIT_OK) {
        dsuit_http_json_error(r, 400, "bad-encoding", dsuit_strerror(rc));
        return;
    }
    if (memcmp(t.chain, n->g->hash, 32) != 0) {
        dsuit_http_json_error(r, 400, "wrong-chain",
                              dsuit_txr_message(DSUIT_TXR_WRONG_CHAIN));
        return;
    }
    if (internal) {
        /* A forwarded request reaching a non-leader does not bounce on. */
        node_status(n, &st);
        if (st.role == NULL || strcmp(st.role, "leader") != 0) {
            dsuit_http_json_error(r, 503, "no-leader",
                                  "no leader is known; try again shortly");
            return;
        }
    }
    {
        long status = 0;
        uint8_t *body = NULL;
        size_t blen = 0;
        rc = node_tx_to_leader(n, req->body, req->body_len, t.id, &status,
                               &body, &blen);
        if (rc == DSUIT_OK && status == 0) {
            tx_accepted(r, t.id, "pending");
        } else if (rc == DSUIT_E_LIMIT) {
            dsuit_http_json_error(r, 503, "busy",
                                  "too many pending transactions");
        } else if (rc == DSUIT_E_AGAIN && status == 0) {
            dsuit_http_json_error(r, 503, "no-leader",
                                  "no leader is known, or it did not answer; "
                                  "try again shortly");
        } else if (status != 0) {
            /* The leader's own answer, passed on. */
            r->status = (int)status;
            r->content_type = "application/json";
            r->body = body;
            r->len = blen;
            body = NULL;
        } else {
            dsuit_http_json_error(r, 500, "internal", dsuit_strerror(rc));
        }
        free(body);
    }
}

int node_tx_to_leader(dsuit_node_t *n, const uint8_t *tx, size_t len,
                      const uint8_t id[32], long *status, uint8_t **body,
                      size_t *blen)
{
    char url[512], hdr[3][DSUIT_PEER_HEADER_MAX];
    const char *headers[5];
    const char *path = "/internal/v1/tx";
    node_status_t st;
    int rc;

    *status = 0;
    node_status(n, &st);
    if (st.role != NULL && strcmp(st.role, "leader") == 0) {
        rc = node_submit(n, tx, len, id);
        return rc == DSUIT_E_EXISTS ? DSUIT_OK : rc;
    }
    if (st.leader == 0 || st.leader - 1 >= n->g->n_validators ||
        st.leader - 1 == n->index)
        return DSUIT_E_AGAIN;
    node_peer_url(n, st.leader - 1, url, sizeof url);
    strncat(url, path, sizeof url - strlen(url) - 1);
    if (dsuit_peer_sign(&n->key, n->index, n->g->hash, "POST", path, tx, len,
                        node_now_ms(), hdr) != DSUIT_OK)
        return DSUIT_E_CRYPTO;
    headers[0] = hdr[0];
    headers[1] = hdr[1];
    headers[2] = hdr[2];
    headers[3] = "Content-Type: application/cbor";
    headers[4] = NULL;
    rc = dsuit_http_request("POST", url, headers, tx, len, 5000, status, body,
                            blen, 64 * 1024);
    if (rc != DSUIT_OK) {
        *status = 0;
        return DSUIT_E_AGAIN;
    }
    if (*status == 202)
        return DSUIT_OK;
    return *status >= 500 ? DSUIT_E_AGAIN : DSUIT_E_INVAL;
}

static void get_tx(dsuit_node_t *n, const char *idhex, dsuit_http_response_t *r)
{
    uint8_t id[32];
    dsuit_store_txn_t *t;
    const uint8_t *v;
    size_t vl;
    node_status_t st;
    char h[65];
    int rc;

    if (!node_unhex(idhex, id, 32)) {
        dsuit_http_json_error(r, 400, "bad-request",
                              "a tx id is 64 hex digits");
        return;
    }
    node_hex(id, 32, h);
    node_status(n, &st);
    /* Pending first: a transaction refused once (say, too few signatures)
     * and submitted again under the same id must not show its old
     * verdict while the new submission waits for a block. */
    if (node_pending(n, id)) {
        json_reply(r, 200,
                   json_pack("{s:s, s:s}", "id", h, "status", "pending"));
        return;
    }
    rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc != DSUIT_OK) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    rc = dsuit_store_get(t, DSUIT_TBL_TXS, id, 32, &v, &vl);
    if (rc == DSUIT_OK) {
        dsuit_cbor_dec_t d;
        size_t m;
        uint64_t height = 0, index = 0, result = 0;
        dsuit_cbor_dec_init(&d, v, vl, DSUIT_CBOR_STRICT);
        dsuit_cbor_get_array(&d, &m);
        dsuit_cbor_get_uint(&d, &height);
        dsuit_cbor_get_uint(&d, &index);
        dsuit_cbor_get_uint(&d, &result);
        dsuit_store_abort(t);
        if (result != DSUIT_TXR_OK) {
            json_reply(r, 200,
                       json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", h, "status",
                                 "invalid", "height", (json_int_t)height,
                                 "result", dsuit_txr_name((int)result),
                                 "message", dsuit_txr_message((int)result)));
            return;
        }
        json_reply(r, 200,
                   json_pack("{s:s, s:s, s:I, s:I}", "id", h, "status",
                             height <= st.certified ? "certified" : "committed",
                             "height", (json_int_t)height, "index",
                             (json_int_t)index));
        return;
    }
    dsuit_store_abort(t);
    dsuit_http_json_error(r, 404, "not-found", "no such transaction");
}

/* ---- status, blocks, certificates -------------------------------------- */

static void get_status(dsuit_node_t *n, dsuit_http_response_t *r)
{
    node_status_t st;
    json_t *peers = json_array();
    size_t pool;
    node_status(n, &st);
    pthread_mutex_lock(&n->mu);
    pool = n->n_pool;
    pthread_mutex_unlock(&n->mu);
    for (size_t i = 0; i < n->g->n_validators; i++)
        json_array_append_new(
            peers, json_pack("{s:s, s:I}", "name", n->g->validators[i].name,
                             "height", (json_int_t)st.peer_height[i]));
    json_reply(
        r, 200,
        json_pack("{s:s, s:I, s:s?, s:s, s:I, s:I, s:I, s:o, s:I, s:I, s:I}",
                  "node", n->g->validators[n->index].name, "index",
                  (json_int_t)n->index, "leader",
                  st.leader ? n->g->validators[st.leader - 1].name : NULL,
                  "role", st.role ? st.role : "unavailable", "term",
                  (json_int_t)st.term, "height", (json_int_t)st.height,
                  "certified_height", (json_int_t)st.certified, "peers", peers,
                  "pending", (json_int_t)pool, "blocks_applied",
                  (json_int_t)st.blocks_applied, "blocks_rejected",
                  (json_int_t)st.blocks_rejected));
}

static int parse_height(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0' && *end != '/')
        return 0;
    *out = v;
    return 1;
}

static void get_block(dsuit_node_t *n, uint64_t h,
                      const dsuit_http_request_t *req, dsuit_http_response_t *r)
{
    uint8_t *blk;
    size_t len;
    dsuit_block_t b;
    char hh[65], ph[65], tr[65], mr[65], sr[65];
    json_t *txs;
    dsuit_block_iter_t it;
    const uint8_t *tx;
    size_t tl;
    uint64_t result;
    int rc = dsuit_ledger_block(n->ledger, h, &blk, &len);
    if (rc == DSUIT_E_NOTFOUND) {
        dsuit_http_json_error(r, 404, "not-found", "no block at that height");
        return;
    }
    if (rc != DSUIT_OK) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    if (wants_cbor(req)) {
        r->status = 200;
        r->content_type = "application/cbor";
        r->body = blk;
        r->len = len;
        return;
    }
    if (dsuit_block_decode(blk, len, &b) != DSUIT_OK) {
        free(blk);
        dsuit_http_json_error(r, 500, "storage", "stored block is damaged");
        return;
    }
    node_hex(b.hash, 32, hh);
    node_hex(b.header.prev_hash, 32, ph);
    node_hex(b.header.tx_root, 32, tr);
    node_hex(b.header.mlog_root, 32, mr);
    node_hex(b.header.state_root, 32, sr);
    txs = json_array();
    dsuit_block_iter_init(&it, &b);
    while (dsuit_block_next_tx(&it, &tx, &tl, &result) == DSUIT_OK) {
        dsuit_tx_t t;
        char id[65] = "";
        uint8_t raw[32];
        if (dsuit_tx_decode(tx, tl, &t) == DSUIT_OK) {
            node_hex(t.id, 32, id);
        } else {
            dsuit_sha256(tx, tl, raw);
            node_hex(raw, 32, id);
        }
        json_array_append_new(txs, json_pack("{s:s, s:s}", "id", id, "result",
                                             dsuit_txr_name((int)result)));
    }
    json_reply(r, 200,
               json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:o}",
                         "height", (json_int_t)b.header.height, "hash", hh,
                         "prev_hash", ph, "time", (json_int_t)b.header.time_ms,
                         "proposer",
                         b.header.proposer < n->g->n_validators
                             ? n->g->validators[b.header.proposer].name
                             : "?",
                         "tx_root", tr, "manifest_log_size",
                         (json_int_t)b.header.mlog_size, "manifest_log_root",
                         mr, "state_root", sr, "txs", txs));
    free(blk);
}

/* Copy a value from the store under a read transaction. */
static int store_copy(dsuit_node_t *n, dsuit_table_t tbl, const void *key,
                      size_t kl, uint8_t **out, size_t *out_len)
{
    dsuit_store_txn_t *t;
    const uint8_t *v;
    size_t vl;
    int rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc != DSUIT_OK)
        return rc;
    rc = dsuit_store_get(t, tbl, key, kl, &v, &vl);
    if (rc == DSUIT_OK) {
        *out = malloc(vl ? vl : 1);
        if (*out == NULL) {
            rc = DSUIT_E_NOMEM;
        } else {
            memcpy(*out, v, vl);
            *out_len = vl;
        }
    }
    dsuit_store_abort(t);
    return rc;
}

static void get_cert(dsuit_node_t *n, uint64_t h, dsuit_http_response_t *r)
{
    uint8_t key[8], *c;
    size_t cl;
    dsuit_store_u64_key(h, key);
    int rc = store_copy(n, DSUIT_TBL_CERTS, key, 8, &c, &cl);
    if (rc == DSUIT_E_NOTFOUND) {
        dsuit_http_json_error(r, 404, "not-found",
                              "no certificate at that height yet");
        return;
    }
    if (rc != DSUIT_OK) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    r->status = 200;
    r->content_type = "application/cbor";
    r->body = c;
    r->len = cl;
}

/* ---- authors and manifests ---------------------------------------------- */

static int visit_author(void *arg, const uint8_t *k, size_t kl,
                        const uint8_t *v, size_t vl)
{
    json_t *list = arg;
    dsuit_author_t a;
    char id[65], vendor[37];
    static const char *const status[] = {"active", "revoked", "rotated"};
    json_t *classes = json_array();
    if (kl != 32 || dsuit_author_decode(v, vl, &a) != DSUIT_OK) {
        json_decref(classes);
        return 0;
    }
    node_hex(k, 32, id);
    node_uuid_text(a.vendor, vendor);
    for (size_t i = 0; i < a.n_classes; i++) {
        char c[37];
        node_uuid_text(a.classes + i * 17, c);
        json_array_append_new(classes, json_string(c));
    }
    json_array_append_new(list,
                          json_pack("{s:s, s:s%, s:s, s:o, s:s, s:I}", "key_id",
                                    id, "name", a.name, a.name_len, "vendor_id",
                                    vendor, "class_ids", classes, "status",
                                    a.status < 3 ? status[a.status] : "unknown",
                                    "registered_height", (json_int_t)a.height));
    return 0;
}

static void get_authors(dsuit_node_t *n, dsuit_http_response_t *r)
{
    dsuit_store_txn_t *t;
    json_t *list = json_array();
    int rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc == DSUIT_OK) {
        rc = dsuit_store_foreach(t, DSUIT_TBL_AUTHORS, visit_author, list);
        dsuit_store_abort(t);
    }
    if (rc != DSUIT_OK) {
        json_decref(list);
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    json_reply(r, 200, json_pack("{s:o}", "authors", list));
}

typedef struct {
    json_t *list;
    int have_vendor, have_class;
    uint8_t vendor[16], klass[16];
} manifest_filter_t;

static int visit_manifest(void *arg, const uint8_t *k, size_t kl,
                          const uint8_t *v, size_t vl)
{
    manifest_filter_t *f = arg;
    dsuit_manifest_rec_t m;
    char digest[65], vendor[37], klass[37], author[65];
    if (kl != 32 || dsuit_manifest_rec_decode(v, vl, &m) != DSUIT_OK)
        return 0;
    if ((f->have_vendor && memcmp(m.vendor, f->vendor, 16) != 0) ||
        (f->have_class && memcmp(m.class_id, f->klass, 16) != 0))
        return 0;
    node_hex(k, 32, digest);
    node_uuid_text(m.vendor, vendor);
    node_uuid_text(m.class_id, klass);
    node_hex(m.author, 32, author);
    json_array_append_new(
        f->list,
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:I}", "digest", digest,
                  "vendor_id", vendor, "class_id", klass, "sequence",
                  (json_int_t)m.seq, "height", (json_int_t)m.height,
                  "leaf_index", (json_int_t)m.leaf_index, "author", author,
                  "envelope_size", (json_int_t)m.envelope_len));
    return 0;
}

static int vendor_class(const dsuit_http_request_t *req,
                        dsuit_http_response_t *r, manifest_filter_t *f)
{
    const char *v = dsuit_http_query(req, "vendor");
    const char *c = dsuit_http_query(req, "class");
    f->have_vendor = v != NULL;
    f->have_class = c != NULL;
    if ((v && !node_uuid_parse(v, f->vendor)) || (c && !node_uuid_parse(c, f->klass))) {
        dsuit_http_json_error(r, 400, "bad-request",
                              "vendor and class are UUIDs");
        return 0;
    }
    return 1;
}

static void get_manifests(dsuit_node_t *n, const dsuit_http_request_t *req,
                          dsuit_http_response_t *r)
{
    manifest_filter_t f;
    dsuit_store_txn_t *t;
    int rc;
    memset(&f, 0, sizeof f);
    if (!vendor_class(req, r, &f))
        return;
    f.list = json_array();
    rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc == DSUIT_OK) {
        rc = dsuit_store_foreach(t, DSUIT_TBL_MANIFESTS, visit_manifest, &f);
        dsuit_store_abort(t);
    }
    if (rc != DSUIT_OK) {
        json_decref(f.list);
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    json_reply(r, 200, json_pack("{s:o}", "manifests", f.list));
}

static void get_latest(dsuit_node_t *n, const dsuit_http_request_t *req,
                       dsuit_http_response_t *r)
{
    manifest_filter_t f;
    uint8_t key[32];
    dsuit_store_txn_t *t;
    const uint8_t *v, *digest;
    size_t vl, dl;
    dsuit_cbor_dec_t d;
    size_t m;
    uint64_t seq;
    int rc;

    memset(&f, 0, sizeof f);
    if (!vendor_class(req, r, &f))
        return;
    if (!f.have_vendor || !f.have_class) {
        dsuit_http_json_error(r, 400, "bad-request",
                              "vendor and class are required");
        return;
    }
    memcpy(key, f.vendor, 16);
    memcpy(key + 16, f.klass, 16);
    rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc != DSUIT_OK) {
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
        return;
    }
    rc = dsuit_store_get(t, DSUIT_TBL_VC, key, 32, &v, &vl);
    if (rc == DSUIT_OK) {
        dsuit_cbor_dec_init(&d, v, vl, DSUIT_CBOR_STRICT);
        if (dsuit_cbor_get_array(&d, &m) != DSUIT_OK ||
            dsuit_cbor_get_uint(&d, &seq) != DSUIT_OK ||
            dsuit_cbor_get_bstr(&d, &digest, &dl) != DSUIT_OK || dl != 32)
            rc = DSUIT_E_STORE;
    }
    if (rc == DSUIT_OK)
        rc = dsuit_store_get(t, DSUIT_TBL_MANIFESTS, digest, 32, &v, &vl);
    if (rc == DSUIT_OK) {
        dsuit_manifest_rec_t rec;
        if (dsuit_manifest_rec_decode(v, vl, &rec) != DSUIT_OK) {
            rc = DSUIT_E_STORE;
        } else {
            char etag[32];
            bytes_reply(r, 200, "application/cbor", rec.envelope,
                        rec.envelope_len);
            snprintf(etag, sizeof etag, "\"%" PRIu64 "\"", seq);
            (void)etag; /* ETag support lands with the device service */
        }
    }
    dsuit_store_abort(t);
    if (rc == DSUIT_E_NOTFOUND)
        dsuit_http_json_error(r, 404, "not-found",
                              "no manifest for that vendor and class");
    else if (rc != DSUIT_OK)
        dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
}

/* LedgerProof = [header bstr, cert, leaf bstr, [index, size, [* hash]]]
 * for the newest certified block whose log holds the leaf. */
void node_proof_get(dsuit_node_t *n, const char *dhex,
                      dsuit_http_response_t *r)
{
    uint8_t digest[32], key[8], *rec = NULL, *leaf = NULL, *cert = NULL,
                                *blk = NULL, *path = NULL;
    size_t rl, ll, cl, bl, pl;
    dsuit_manifest_rec_t m;
    dsuit_block_t b;
    uint64_t h;
    int rc;

    if (!node_unhex(dhex, digest, 32)) {
        dsuit_http_json_error(r, 400, "bad-request",
                              "a manifest digest is 64 hex digits");
        return;
    }
    rc = store_copy(n, DSUIT_TBL_MANIFESTS, digest, 32, &rec, &rl);
    if (rc == DSUIT_OK && dsuit_manifest_rec_decode(rec, rl, &m) != DSUIT_OK)
        rc = DSUIT_E_STORE;
    if (rc == DSUIT_E_NOTFOUND) {
        dsuit_http_json_error(r, 404, "not-found", "no such manifest");
        goto out;
    }
    if (rc != DSUIT_OK)
        goto fail;
    {
        node_status_t st;
        node_status(n, &st);
        h = st.certified;
    }
    if (h < m.height) {
        dsuit_http_json_error(r, 409, "not-certified",
                              "the manifest is not certified yet");
        goto out;
    }
    dsuit_store_u64_key(h, key);
    rc = store_copy(n, DSUIT_TBL_CERTS, key, 8, &cert, &cl);
    if (rc == DSUIT_OK)
        rc = dsuit_ledger_block(n->ledger, h, &blk, &bl);
    if (rc == DSUIT_OK && dsuit_block_decode(blk, bl, &b) != DSUIT_OK)
        rc = DSUIT_E_STORE;
    dsuit_store_u64_key(m.leaf_index, key);
    if (rc == DSUIT_OK)
        rc = store_copy(n, DSUIT_TBL_MLOG, key, 8, &leaf, &ll);
    if (rc != DSUIT_OK)
        goto fail;
    /* The tree is appended to by the loop: read it under the lock. */
    pthread_rwlock_rdlock(&n->mlog_lock);
    rc = dsuit_ledger_mlog_proof(n->ledger, m.leaf_index, b.header.mlog_size,
                                 NULL, 0, &pl);
    if (rc == DSUIT_E_LIMIT || rc == DSUIT_OK) {
        path = malloc(pl ? pl : 1);
        rc = path ? dsuit_ledger_mlog_proof(n->ledger, m.leaf_index,
                                            b.header.mlog_size, path, pl, &pl)
                  : DSUIT_E_NOMEM;
    }
    pthread_rwlock_unlock(&n->mlog_lock);
    if (rc != DSUIT_OK)
        goto fail;
    {
        dsuit_cbor_enc_t e;
        size_t need, got;
        for (int pass = 0; pass < 2; pass++) {
            dsuit_cbor_enc_init(&e, pass ? r->body : NULL, pass ? need : 0);
            dsuit_cbor_put_array(&e, 4);
            dsuit_cbor_put_bstr(&e, b.header_bytes, b.header_len);
            dsuit_cbor_put_raw(&e, cert, cl);
            dsuit_cbor_put_bstr(&e, leaf, ll);
            dsuit_cbor_put_array(&e, 3);
            dsuit_cbor_put_uint(&e, m.leaf_index);
            dsuit_cbor_put_uint(&e, b.header.mlog_size);
            dsuit_cbor_put_array(&e, pl / 32);
            for (size_t i = 0; i < pl / 32; i++)
                dsuit_cbor_put_bstr(&e, path + 32 * i, 32);
            if (pass == 0) {
                dsuit_cbor_enc_finish(&e, &need);
                r->body = malloc(need);
                if (r->body == NULL) {
                    rc = DSUIT_E_NOMEM;
                    goto fail;
                }
            } else {
                dsuit_cbor_enc_finish(&e, &got);
                r->len = got;
            }
        }
        r->status = 200;
        r->content_type = "application/cbor";
    }
    goto out;
fail:
    dsuit_http_json_error(r, 500, "storage", dsuit_strerror(rc));
out:
    free(rec);
    free(leaf);
    free(cert);
    free(blk);
    free(path);
}

static void get_evidence(dsuit_node_t *n, dsuit_http_response_t *r)
{
    json_t *list = json_array();
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->n_evidence; i++) {
        const node_evidence_t *e = &n->evidence[i];
        char a[65], b[65], sa[2 * DSUIT_SIG_LEN + 1], sb[2 * DSUIT_SIG_LEN + 1];
        node_hex(e->hash_a, 32, a);
        node_hex(e->hash_b, 32, b);
        node_hex(e->sig_a, DSUIT_SIG_LEN, sa);
        node_hex(e->sig_b, DSUIT_SIG_LEN, sb);
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:[s,s], s:[s,s]}", "height",
                            (json_int_t)e->height, "validator",
                            n->g->validators[e->index].name, "hashes", a, b,
                            "signatures", sa, sb));
    }
    pthread_mutex_unlock(&n->mu);
    json_reply(r, 200, json_pack("{s:o}", "evidence", list));
}

static void get_metrics(dsuit_node_t *n, dsuit_http_response_t *r)
{
    node_status_t st;
    char *buf = malloc(8192);
    size_t k = 0;
    static const char *const roles[] = {"leader", "follower", "candidate",
                                        "unavailable"};
    if (buf == NULL) {
        dsuit_http_json_error(r, 500, "internal", "out of memory");
        return;
    }
    node_status(n, &st);
#define OUT(...) k += (size_t)snprintf(buf + k, 8192 - k, __VA_ARGS__)
    OUT("# HELP dsuit_height Height of the last applied block.\n"
        "# TYPE dsuit_height gauge\ndsuit_height %" PRIu64 "\n",
        st.height);
    OUT("# HELP dsuit_certified_height Height of the last certified block.\n"
        "# TYPE dsuit_certified_height gauge\n"
        "dsuit_certified_height %" PRIu64 "\n",
        st.certified);
    OUT("# HELP dsuit_raft_term Current consensus term.\n"
        "# TYPE dsuit_raft_term gauge\ndsuit_raft_term %" PRIu64 "\n",
        st.term);
    OUT("# HELP dsuit_raft_role 1 for this node's current role.\n"
        "# TYPE dsuit_raft_role gauge\n");
    for (int i = 0; i < 4; i++)
        OUT("dsuit_raft_role{role=\"%s\"} %d\n", roles[i],
            st.role != NULL && strcmp(st.role, roles[i]) == 0);
    OUT("# HELP dsuit_blocks_total Blocks applied or refused.\n"
        "# TYPE dsuit_blocks_total counter\n"
        "dsuit_blocks_total{outcome=\"applied\"} %" PRIu64 "\n"
        "dsuit_blocks_total{outcome=\"rejected\"} %" PRIu64 "\n",
        st.blocks_applied, st.blocks_rejected);
    OUT("# HELP dsuit_tx_total Transactions in applied blocks by result.\n"
        "# TYPE dsuit_tx_total counter\n");
    for (int i = 0; i <= DSUIT_TXR_UNKNOWN_TYPE; i++)
        OUT("dsuit_tx_total{result=\"%s\"} %" PRIu64 "\n", dsuit_txr_name(i),
            st.tx_results[i]);
#undef OUT
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4";
    r->body = (uint8_t *)buf;
    r->len = k < 8192 ? k : 8191;
}

/* ---- internal ------------------------------------------------------------ */

static int peer_ok(dsuit_node_t *n, const dsuit_http_request_t *req,
                   dsuit_http_response_t *r, uint64_t *index)
{
    int rc = dsuit_peer_verify(n->guard, n->g, req, node_now_ms(), PEER_SKEW_MS,
                               index);
    if (rc == DSUIT_E_LIMIT) {
        dsuit_http_json_error(r, 503, "busy",
                              "too many requests from that validator");
        return 0;
    }
    if (rc != DSUIT_OK) {
        dsuit_http_json_error(r, 403, "forbidden",
                              "internal routes take requests signed by a "
                              "validator");
        return 0;
    }
    return 1;
}

static void post_vote(dsuit_node_t *n, const dsuit_http_request_t *req,
                      dsuit_http_response_t *r, uint64_t from)
{
    dsuit_cbor_dec_t d;
    node_vote_in_t v;
    size_t m, hl;
    const uint8_t *hash, *sig;
    dsuit_cbor_dec_init(&d, req->body, req->body_len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_array(&d, &m) != DSUIT_OK || m != 4 ||
        dsuit_cbor_get_uint(&d, &v.height) != DSUIT_OK ||
        dsuit_cbor_get_bstr(&d, &hash, &hl) != DSUIT_OK || hl != 32 ||
        dsuit_cbor_get_uint(&d, &v.index) != DSUIT_OK ||
        dsuit_cbor_get_bstr(&d, &sig, &v.sig_len) != DSUIT_OK ||
        v.sig_len != DSUIT_SIG_LEN || dsuit_cbor_remaining(&d) != 0) {
        dsuit_http_json_error(r, 400, "bad-encoding", "not a vote");
        return;
    }
    /* A validator speaks for itself only. */
    if (v.index != from) {
        dsuit_http_json_error(r, 403, "forbidden",
                              "a vote must come from its validator");
        return;
    }
    memcpy(v.hash, hash, 32);
    memcpy(v.sig, sig, DSUIT_SIG_LEN);
    if (node_vote_in(n, &v) != DSUIT_OK) {
        dsuit_http_json_error(r, 503, "busy", "too many votes queued");
        return;
    }
    r->status = 204;
}

/* ---- routing ---------------------------------------------------------------
 */

dsuit_http_sink_t *node_api_stream(void *arg, const dsuit_http_request_t *req,
                                   dsuit_http_response_t *resp)
{
    dsuit_node_t *n = arg;
    if (strncmp(req->path, "/v1/uploads/", 12) == 0)
        return node_publish_stream(n, req->path + 12, req, resp);
    return NULL;
}

void node_api_handle(void *arg, const dsuit_http_request_t *req,
                     dsuit_http_response_t *r)
{
    dsuit_node_t *n = arg;
    const char *p = req->path;
    int get =
        strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    int post = strcmp(req->method, "POST") == 0;
    uint64_t h, from;

    if (strcmp(p, "/v1/tx") == 0) {
        if (!post)
            goto method;
        post_tx(n, req, r, 0);
    } else if (strncmp(p, "/v1/tx/", 7) == 0) {
        if (!get)
            goto method;
        get_tx(n, p + 7, r);
    } else if (strcmp(p, "/v1/status") == 0) {
        if (!get)
            goto method;
        get_status(n, r);
    } else if (strncmp(p, "/v1/blocks/", 11) == 0 && parse_height(p + 11, &h)) {
        const char *rest = strchr(p + 11, '/');
        if (!get)
            goto method;
        if (rest == NULL)
            get_block(n, h, req, r);
        else if (strcmp(rest, "/cert") == 0)
            get_cert(n, h, r);
        else
            goto not_found;
    } else if (strcmp(p, "/v1/authors") == 0) {
        if (!get)
            goto method;
        get_authors(n, r);
    } else if (strcmp(p, "/v1/manifests") == 0) {
        if (!get)
            goto method;
        get_manifests(n, req, r);
    } else if (strcmp(p, "/v1/manifests/latest") == 0) {
        if (!get)
            goto method;
        get_latest(n, req, r);
    } else if (strncmp(p, "/v1/proof/", 10) == 0) {
        if (!get)
            goto method;
        node_proof_get(n, p + 10, r);
    } else if (strcmp(p, "/v1/publish") == 0) {
        if (!post)
            goto method;
        node_publish_begin(n, req, r);
    } else if (strncmp(p, "/v1/images/", 11) == 0) {
        if (!get)
            goto method;
        node_image_get(n, p + 11, req, r);
    } else if (strncmp(p, "/v1/device/fw/", 14) == 0) {
        node_device_http(n, p + 10, req, r);
    } else if (strcmp(p, "/v1/devices") == 0) {
        if (!get)
            goto method;
        node_devices_list(n, r);
    } else if (strcmp(p, "/v1/store") == 0) {
        if (!get)
            goto method;
        node_store_status(n, r);
    } else if (strncmp(p, "/internal/v1/chunks/", 20) == 0) {
        if (peer_ok(n, req, r, &from))
            node_chunk_route(n, p + 20, req, r);
    } else if (strcmp(p, "/v1/evidence") == 0) {
        if (!get)
            goto method;
        get_evidence(n, r);
    } else if (strcmp(p, "/metrics") == 0) {
        if (!get)
            goto method;
        get_metrics(n, r);
    } else if (strcmp(p, "/internal/v1/tx") == 0) {
        if (!post)
            goto method;
        if (peer_ok(n, req, r, &from))
            post_tx(n, req, r, 1);
    } else if (strcmp(p, "/internal/v1/votes") == 0) {
        if (!post)
            goto method;
        if (peer_ok(n, req, r, &from))
            post_vote(n, req, r, from);
    } else {
        goto not_found;
    }
    return;
method:
    dsuit_http_json_error(r, 405, "method-not-allowed",
                          "that method is not allowed here");
    return;
not_found:
    dsuit_http_json_error(r, 404, "not-found", "no such resource");
}
