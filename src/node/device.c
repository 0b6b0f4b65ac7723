/*
 * The retrieval role for devices (draft-lee-suit-distarch, "retrieval
 * node"): the device service over CoAP/DTLS on the port genesis gives this
 * validator, with pre-shared keys from the node's keystore (keystore.h) and
 * raw public keys of devices registered on the ledger (register-device).
 * Node side. docs/protocols.md has the resources:
 *
 *   GET  /fw/{vendor-id}/{class-id}/latest   the latest certified envelope
 *                                            (ETag: sequence; Observe)
 *   GET  /fw/proof/{manifest digest}         LedgerProof
 *   GET  /fw/img/{image digest}              the verified image (Block2)
 *   POST /fw/report                          the device's status report
 *
 * A device reads only firmware of its own vendor and class (4.03 for any
 * other); a request on plain CoAP (only if the operator enabled it) reads
 * anything published but cannot report.
 *
 * "Latest" is the newest manifest whose block is certified, not merely
 * applied: a device must be able to fetch its proof at once. The table of
 * what is served per vendor and class is refreshed by the loop thread each
 * time the certified height moves (node_devices_certified); a change
 * notifies the observers of that path.
 *
 * Reports are kept per device in DATA/devices/<hex of the device name>,
 * replaced whole (temp file, fsync, rename), and listed by GET /v1/devices.
 *
 * Threads: handlers run on the CoAP server thread; node_devices_certified
 * on the loop; GET /v1/devices on HTTP threads. Shared state is under
 * dv->mu.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/ledger.h"
#include "dsuit/store.h"
#include "net/coap/server.h"
#include "node/device_token.h"
#include "node/keystore.h"
#include "node/node_int.h"

#define MODULE            "device"
#define KEYSTORE_CHECK_MS 200          /* keystore file stat, at most every */
#define LATEST_MAX        4096         /* vendor/class pairs served */
#define REPORTS_LISTED    10000        /* GET /v1/devices, at most */
#define COAP_KEY_FILE     "coap-rpk.key"
#define REPORTS_DIR       "devices"

typedef struct {
    uint8_t vendor[16], klass[16];
    uint64_t seq;
    uint8_t digest[32];
} latest_t;

/* Nonces of accepted HTTP tokens, kept until their token goes stale. */
#define NONCE_SLOTS_MIN 65536u
#define NONCE_SLOTS_MAX (1u << 22) /* 4 Mi slots, 96 MiB: ~35k tokens/s */
#define NONCE_PROBE     64

typedef struct {
    uint8_t nonce[16];
    uint64_t expires_ms; /* 0: never used */
} nonce_slot_t;

struct node_devices {
    dsuit_coap_server_t *coap;
    pthread_mutex_t mu;
    char ks_path[PATH_MAX + 32];
    node_psk_t *psk; /* [mu] sorted keystore */
    size_t n_psk;    /* [mu] */
    struct stat ks_st; /* [mu] of the file loaded */
    int ks_have;       /* [mu] */
    uint64_t ks_checked_ms; /* [mu] */
    latest_t *latest;       /* [mu] */
    size_t n_latest;        /* [mu] */
    nonce_slot_t *nonces;   /* seen token nonces (HTTP), [nonce_mu] */
    size_t n_slots;         /* [nonce_mu] a power of two */
    uint64_t refreshed;     /* loop: certified height last seen */
};

/* A device, as a request's credentials name it. */
typedef struct {
    dsuit_coap_peer_kind_t kind;
    char name[80]; /* "psk:<identity>" or "rpk:<device uuid>" */
    uint8_t vendor[16], klass[16];
} device_t;

/* ---- the keystore (PSK) ------------------------------------------------- */

/* Re-read the keystore if the file changed. Caller holds mu. */
static void keystore_refresh(dsuit_node_t *n, node_devices_t *dv)
{
    struct stat st;
    uint64_t now = node_now_ms();
    node_psk_t *v = NULL;
    size_t cnt = 0, bad = 0;
    int rc;
    if (dv->ks_have && now - dv->ks_checked_ms < KEYSTORE_CHECK_MS)
        return;
    dv->ks_checked_ms = now;
    if (stat(dv->ks_path, &st) != 0)
        memset(&st, 0, sizeof st);
    if (dv->ks_have && st.st_ino == dv->ks_st.st_ino &&
        st.st_size == dv->ks_st.st_size &&
        st.st_mtim.tv_sec == dv->ks_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == dv->ks_st.st_mtim.tv_nsec)
        return;
    rc = node_keystore_load(dv->ks_path, &v, &cnt, &bad);
    if (rc != DSUIT_OK) {
        /* Keep serving the keys we had. */
        node_log(n, "error", MODULE,
                 "cannot read the device keystore path=%s line=%zu "
                 "reason=\"%s\"",
                 dv->ks_path, bad, dsuit_strerror(rc));
        dv->ks_st = st;
        dv->ks_have = 1;
        return;
    }
    node_keystore_free(dv->psk, dv->n_psk);
    dv->psk = v;
    dv->n_psk = cnt;
    dv->ks_st = st;
    dv->ks_have = 1;
    node_log(n, "info", MODULE, "device keystore loaded devices=%zu", cnt);
}

/* A PSK identity in the keystore (re-read if the file changed): 1 if
 * found, with d (if not NULL) naming the device and its scope and the key
 * copied into key (if not NULL; key_cap bytes at most); else 0. */
static int psk_lookup(dsuit_node_t *n, const uint8_t *id, size_t id_len,
                      device_t *d, uint8_t *key, size_t key_cap,
                      size_t *key_len)
{
    node_devices_t *dv = n->dev;
    const node_psk_t *e;
    int found = 0;
    pthread_mutex_lock(&dv->mu);
    keystore_refresh(n, dv);
    e = node_keystore_find(dv->psk, dv->n_psk, id, id_len);
    if (e != NULL && (key == NULL || e->key_len <= key_cap)) {
        if (d != NULL) {
            d->kind = DSUIT_COAP_PEER_PSK;
            snprintf(d->name, sizeof d->name, "psk:%.*s", (int)e->id_len,
                     e->id);
            memcpy(d->vendor, e->vendor, 16);
            memcpy(d->klass, e->klass, 16);
        }
        if (key != NULL) {
            memcpy(key, e->key, e->key_len);
            *key_len = e->key_len;
        }
        found = 1;
    }
    pthread_mutex_unlock(&dv->mu);
    return found;
}

static int on_psk_key(void *arg, const uint8_t *id, size_t id_len,
                      uint8_t *key, size_t key_cap, size_t *key_len)
{
    return psk_lookup(arg, id, id_len, NULL, key, key_cap, key_len) ? 0 : -1;
}

/* ---- registered devices (RPK) ------------------------------------------ */

/* DER prefix of a P-256 SubjectPublicKeyInfo (RFC 5480); the point
 * follows, uncompressed. */
static const uint8_t p256_spki_prefix[26] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

typedef struct {
    const uint8_t *point; /* 64 bytes: x || y */
    int found;
    uint8_t id[16], vendor[16], klass[16];
} find_device_t;

static int visit_device(void *arg, const uint8_t *k, size_t kl,
                        const uint8_t *v, size_t vl)
{
    find_device_t *f = arg;
    dsuit_device_rec_t rec;
    dsuit_key_t key;
    if (kl != 16 || dsuit_device_rec_decode(v, vl, &rec) != DSUIT_OK ||
        dsuit_cose_key_decode(rec.key, rec.key_len, &key) != DSUIT_OK)
        return 0;
    if (key.type != DSUIT_KEY_P256 || key.pub_len != 64 ||
        memcmp(key.pub, f->point, 64) != 0)
        return 0;
    memcpy(f->id, k, 16);
    memcpy(f->vendor, rec.vendor, 16);
    memcpy(f->klass, rec.class_id, 16);
    f->found = 1;
    return 1;
}

/* The registered device holding this raw public key. 1 found, 0 not. */
static int device_by_spki(dsuit_node_t *n, const uint8_t *spki, size_t len,
                          find_device_t *f)
{
    dsuit_store_txn_t *t;
    memset(f, 0, sizeof *f);
    /* prefix, 0x04 (uncompressed), x, y */
    if (len != sizeof p256_spki_prefix + 65 ||
        memcmp(spki, p256_spki_prefix, sizeof p256_spki_prefix) != 0 ||
        spki[sizeof p256_spki_prefix] != 0x04)
        return 0;
    f->point = spki + sizeof p256_spki_prefix + 1;
    if (dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t) != DSUIT_OK)
        return 0;
    (void)dsuit_store_foreach(t, DSUIT_TBL_DEVICES, visit_device, f);
    dsuit_store_abort(t);
    return f->found;
}

static int on_rpk_allowed(void *arg, const uint8_t *spki, size_t len)
{
    find_device_t f;
    return device_by_spki(arg, spki, len, &f);
}

/* Who is asking. Returns 1 for a known device (or plain CoAP), 0 if the
 * credentials no longer name one (removed from the keystore since the
 * handshake). */
static int resolve(dsuit_node_t *n, const dsuit_coap_peer_t *p, device_t *d)
{
    memset(d, 0, sizeof *d);
    d->kind = p->kind;
    if (p->kind == DSUIT_COAP_PEER_PSK)
        return psk_lookup(n, p->id, p->id_len, d, NULL, 0, NULL);
    if (p->kind == DSUIT_COAP_PEER_RPK) {
        find_device_t f;
        char u[37];
        if (!device_by_spki(n, p->spki, p->spki_len, &f))
            return 0;
        node_uuid_text(f.id, u);
        snprintf(d->name, sizeof d->name, "rpk:%s", u);
        memcpy(d->vendor, f.vendor, 16);
        memcpy(d->klass, f.klass, 16);
        return 1;
    }
    snprintf(d->name, sizeof d->name, "anonymous");
    return 1;
}

/* May d read firmware of this vendor and class? */
static int in_scope(const device_t *d, const uint8_t *vendor,
                    const uint8_t *klass)
{
    return d->kind == DSUIT_COAP_PEER_NONE ||
           (memcmp(d->vendor, vendor, 16) == 0 &&
            memcmp(d->klass, klass, 16) == 0);
}

/* ---- latest certified manifest per vendor and class ---------------------- */

static latest_t *latest_find(node_devices_t *dv, const uint8_t *vendor,
                             const uint8_t *klass)
{
    for (size_t i = 0; i < dv->n_latest; i++)
        if (memcmp(dv->latest[i].vendor, vendor, 16) == 0 &&
            memcmp(dv->latest[i].klass, klass, 16) == 0)
            return &dv->latest[i];
    return NULL;
}

static void latest_path(const uint8_t *vendor, const uint8_t *klass,
                        char out[128])
{
    char v[37], c[37];
    node_uuid_text(vendor, v);
    node_uuid_text(klass, c);
    snprintf(out, 128, "/fw/%s/%s/latest", v, c);
}

typedef struct {
    dsuit_node_t *n;
    dsuit_store_txn_t *t;
    uint64_t certified;
} refresh_t;

static int visit_vc(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                    size_t vl)
{
    refresh_t *r = arg;
    node_devices_t *dv = r->n->dev;
    dsuit_cbor_dec_t d;
    dsuit_manifest_rec_t m;
    const uint8_t *digest, *rec;
    size_t items, dl, rl;
    uint64_t seq;
    latest_t *l;
    char path[128];
    int changed = 0;

    dsuit_cbor_dec_init(&d, v, vl, DSUIT_CBOR_STRICT);
    if (kl != 32 || dsuit_cbor_get_array(&d, &items) != DSUIT_OK ||
        items != 2 || dsuit_cbor_get_uint(&d, &seq) != DSUIT_OK ||
        dsuit_cbor_get_bstr(&d, &digest, &dl) != DSUIT_OK || dl != 32)
        return 0;
    if (dsuit_store_get(r->t, DSUIT_TBL_MANIFESTS, digest, 32, &rec, &rl) !=
            DSUIT_OK ||
        dsuit_manifest_rec_decode(rec, rl, &m) != DSUIT_OK ||
        m.height > r->certified)
        return 0; /* not certified yet: keep serving the one before */
    pthread_mutex_lock(&dv->mu);
    l = latest_find(dv, k, k + 16);
    if (l == NULL && dv->n_latest < LATEST_MAX) {
        l = &dv->latest[dv->n_latest++];
        memcpy(l->vendor, k, 16);
        memcpy(l->klass, k + 16, 16);
        l->seq = 0;
        memset(l->digest, 0, 32);
    }
    if (l != NULL && (l->seq != seq || memcmp(l->digest, digest, 32) != 0)) {
        l->seq = seq;
        memcpy(l->digest, digest, 32);
        changed = 1;
    }
    pthread_mutex_unlock(&dv->mu);
    if (changed && dv->coap != NULL) {
        latest_path(k, k + 16, path);
        (void)dsuit_coap_server_changed(dv->coap, path);
    }
    return 0;
}

void node_devices_certified(dsuit_node_t *n)
{
    node_devices_t *dv = n->dev;
    refresh_t r;
    if (dv == NULL || n->certified_height == dv->refreshed)
        return;
    r.n = n;
    r.certified = n->certified_height;
    if (dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &r.t) != DSUIT_OK)
        return;
    (void)dsuit_store_foreach(r.t, DSUIT_TBL_VC, visit_vc, &r);
    dsuit_store_abort(r.t);
    dv->refreshed = r.certified;
}

/* ---- resources ----------------------------------------------------------- */

static void error_reply(dsuit_http_response_t *r, int status, const char *err,
                        const char *msg)
{
    dsuit_http_json_error(r, status, err, msg);
}

static void get_latest(dsuit_node_t *n, const device_t *d, const char *v,
                       const char *c, dsuit_http_response_t *r,
                       uint64_t *etag)
{
    uint8_t vendor[16], klass[16], digest[32];
    const uint8_t *rec;
    size_t rl;
    dsuit_manifest_rec_t m;
    dsuit_store_txn_t *t;
    latest_t *l;
    uint64_t seq = 0;
    int have = 0, rc;

    if (strlen(v) != 36 || strlen(c) != 36 || !node_uuid_parse(v, vendor) ||
        !node_uuid_parse(c, klass)) {
        error_reply(r, 400, "bad-request", "vendor and class are UUIDs");
        return;
    }
    if (!in_scope(d, vendor, klass)) {
        error_reply(r, 403, "forbidden",
                    "this device is of another vendor or class");
        return;
    }
    pthread_mutex_lock(&n->dev->mu);
    l = latest_find(n->dev, vendor, klass);
    if (l != NULL) {
        memcpy(digest, l->digest, 32);
        seq = l->seq;
        have = 1;
    }
    pthread_mutex_unlock(&n->dev->mu);
    if (!have) {
        error_reply(r, 404, "not-found",
                    "no certified manifest for that vendor and class");
        return;
    }
    rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc == DSUIT_OK) {
        rc = dsuit_store_get(t, DSUIT_TBL_MANIFESTS, digest, 32, &rec, &rl);
        if (rc == DSUIT_OK && dsuit_manifest_rec_decode(rec, rl, &m) != DSUIT_OK)
            rc = DSUIT_E_STORE;
        if (rc == DSUIT_OK) {
            r->body = malloc(m.envelope_len ? m.envelope_len : 1);
            if (r->body == NULL) {
                rc = DSUIT_E_NOMEM;
            } else {
                memcpy(r->body, m.envelope, m.envelope_len);
                r->len = m.envelope_len;
                r->status = 200;
                r->content_type = "application/cbor";
                *etag = seq;
            }
        }
        dsuit_store_abort(t);
    }
    if (rc != DSUIT_OK)
        error_reply(r, 500, "storage", dsuit_strerror(rc));
}

static void get_proof(dsuit_node_t *n, const device_t *d, const char *hex,
                      dsuit_http_response_t *r)
{
    uint8_t digest[32];
    const uint8_t *rec;
    size_t rl;
    dsuit_manifest_rec_t m;
    dsuit_store_txn_t *t;
    int rc, ok = 0;

    if (strlen(hex) != 64 || !node_unhex(hex, digest, 32)) {
        error_reply(r, 400, "bad-request", "a manifest digest is 64 hex digits");
        return;
    }
    rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
    if (rc == DSUIT_OK) {
        rc = dsuit_store_get(t, DSUIT_TBL_MANIFESTS, digest, 32, &rec, &rl);
        if (rc == DSUIT_OK && dsuit_manifest_rec_decode(rec, rl, &m) != DSUIT_OK)
            rc = DSUIT_E_STORE;
        if (rc == DSUIT_OK)
            ok = in_scope(d, m.vendor, m.class_id);
        dsuit_store_abort(t);
    }
    if (rc == DSUIT_E_NOTFOUND)
        error_reply(r, 404, "not-found", "no such manifest");
    else if (rc != DSUIT_OK)
        error_reply(r, 500, "storage", dsuit_strerror(rc));
    else if (!ok)
        error_reply(r, 403, "forbidden",
                    "that manifest is for another vendor or class");
    else
        node_proof_get(n, hex, r);
}

int node_report_decode(const uint8_t *p, size_t len, node_report_t *res)
{
    node_report_t rep, *out = &rep;
    dsuit_cbor_dec_t d;
    size_t n, l;
    uint64_t key, last = 0;
    int rc, have_seq = 0, have_result = 0;
    memset(out, 0, sizeof *out);
    dsuit_cbor_dec_init(&d, p, len, DSUIT_CBOR_STRICT);
    rc = dsuit_cbor_get_map(&d, &n);
    if (rc != DSUIT_OK)
        return rc;
    if (n < 2 || n > 4)
        return DSUIT_E_INVAL;
    for (size_t i = 0; i < n; i++) {
        rc = dsuit_cbor_get_uint(&d, &key);
        if (rc != DSUIT_OK)
            return rc;
        if (key <= last || key > 4)
            return DSUIT_E_INVAL; /* unknown, repeated or unsorted */
        last = key;
        if (key == 1) {
            rc = dsuit_cbor_get_uint(&d, &out->seq);
            have_seq = 1;
        } else if (key == 2) {
            rc = dsuit_cbor_get_bstr(&d, &out->digest, &l);
            if (rc == DSUIT_OK && l != 32)
                rc = DSUIT_E_INVAL;
        } else if (key == 3) {
            rc = dsuit_cbor_get_tstr(&d, &out->result, &out->result_len);
            if (rc == DSUIT_OK &&
                (out->result_len == 0 ||
                 out->result_len > NODE_REPORT_RESULT_MAX ||
                 !dsuit_cbor_utf8_valid((const uint8_t *)out->result,
                                        out->result_len)))
                rc = DSUIT_E_INVAL;
            have_result = 1;
        } else {
            rc = dsuit_cbor_get_bstr(&d, &out->report, &out->report_len);
            if (rc == DSUIT_OK && out->report_len > NODE_REPORT_SUIT_MAX)
                rc = DSUIT_E_LIMIT;
        }
        if (rc != DSUIT_OK)
            return rc;
    }
    if (!have_seq || !have_result || dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_INVAL;
    *res = rep;
    return DSUIT_OK;
}

static void reports_dir(const dsuit_node_t *n, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", n->dir, REPORTS_DIR);
}

static void post_report(dsuit_node_t *n, const device_t *d, const uint8_t *body,
                        size_t len, dsuit_http_response_t *r)
{
    node_report_t rep;
    char dir[PATH_MAX + 16], path[PATH_MAX + 200], name[161];
    char digest[65] = "", *text = NULL, *hex = NULL, vendor[37], klass[37];
    json_t *j;
    int rc;

    if (d->kind == DSUIT_COAP_PEER_NONE) {
        error_reply(r, 401, "unauthorized",
                    "reports need an authenticated device");
        return;
    }
    rc = node_report_decode(body, len, &rep);
    if (rc != DSUIT_OK) {
        error_reply(r, 400, "bad-request", "a report is {1: seq, 3: result}");
        return;
    }
    if (rep.digest != NULL)
        node_hex(rep.digest, 32, digest);
    hex = malloc(2 * rep.report_len + 1);
    if (hex == NULL) {
        error_reply(r, 500, "internal", "out of memory");
        return;
    }
    node_hex(rep.report, rep.report_len, hex);
    node_uuid_text(d->vendor, vendor);
    node_uuid_text(d->klass, klass);
    j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s%, s:s}", "device",
                  d->name, "vendor_id", vendor, "class_id", klass,
                  "last_seen_ms", (json_int_t)node_now_ms(), "installed_sequence",
                  (json_int_t)rep.seq, "manifest", digest, "last_result",
                  rep.result, rep.result_len, "report", hex);
    free(hex);
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL) {
        error_reply(r, 400, "bad-request", "the result is not valid UTF-8");
        return;
    }
    reports_dir(n, dir, sizeof dir);
    node_hex((const uint8_t *)d->name, strlen(d->name), name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    rc = DSUIT_E_IO;
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        rc = node_replace_file(path, text, strlen(text));
    free(text);
    if (rc != DSUIT_OK) {
        node_log(n, "error", MODULE, "cannot store a report device=%s",
                 d->name);
        error_reply(r, 500, "storage", "cannot store the report");
        return;
    }
    {
        /* The device's text, printable ASCII only: no forged log lines. */
        char safe[NODE_REPORT_RESULT_MAX + 1];
        size_t k = 0;
        for (size_t i = 0; i < rep.result_len; i++) {
            unsigned char ch = (unsigned char)rep.result[i];
            safe[k++] = ch >= 0x20 && ch < 0x7f && ch != '"' ? (char)ch : '?';
        }
        safe[k] = '\0';
        node_log(n, "info", MODULE,
                 "report device=%s seq=%" PRIu64 " result=\"%s\"", d->name,
                 rep.seq, safe);
    }
    r->status = 204;
}

/* The image, as one mapping of its verified cache file. */
static void unmap(uint8_t *body, size_t len, void *arg)
{
    (void)arg;
    munmap(body, len);
}

/* Open the image a device may read: -1 with r filled, or the descriptor. */
static int open_image(dsuit_node_t *n, const device_t *d, const char *hex,
                      uint64_t *size, dsuit_http_response_t *r)
{
    uint8_t want[32];
    int any = d->kind == DSUIT_COAP_PEER_NONE;
    if (strlen(hex) != 64 || !node_unhex(hex, want, 32)) {
        error_reply(r, 400, "bad-request", "an image digest is 64 hex digits");
        return -1;
    }
    return node_image_open(n, want, any ? NULL : d->vendor,
                           any ? NULL : d->klass, size, r);
}

/* CoAP: the whole image as one read-only mapping, sent block-wise. */
static void get_image_coap(dsuit_node_t *n, const device_t *d, const char *hex,
                           dsuit_http_response_t *r, dsuit_coap_response_t *cr)
{
    uint64_t size = 0;
    void *p;
    int fd = open_image(n, d, hex, &size, r);
    if (fd < 0)
        return;
    if (size == 0) {
        close(fd);
        r->status = 200;
        r->content_type = "application/octet-stream";
        return;
    }
    p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        error_reply(r, 500, "storage", "cannot map the image");
        return;
    }
    cr->code = 205;
    cr->content_format = DSUIT_COAP_OCTET;
    cr->body = p;
    cr->len = (size_t)size;
    cr->release = unmap;
    r->status = -1; /* answered in cr */
}

/* A single "bytes=" range of a body of size bytes (RFC 9110 §14.1.2).
 * Returns 1 with [*first, *last] set, 0 when the header is to be ignored
 * (absent, several ranges, not bytes), -1 when unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *first,
                       uint64_t *last)
{
    char *end;
    unsigned long long a, b;
    if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
        return 0;
    h += 6;
    if (*h == '-') { /* the last b bytes */
        if (h[1] < '0' || h[1] > '9')
            return 0;
        errno = 0;
        b = strtoull(h + 1, &end, 10);
        if (*end != '\0' || errno != 0)
            return 0;
        if (b == 0 || size == 0)
            return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (*h < '0' || *h > '9')
        return 0;
    errno = 0;
    a = strtoull(h, &end, 10);
    if (*end != '-' || errno != 0)
        return 0;
    h = end + 1;
    if (*h == '\0') {
        b = size ? size - 1 : 0;
    } else {
        if (*h < '0' || *h > '9')
            return 0;
        b = strtoull(h, &end, 10);
        if (*end != '\0' || errno != 0 || b < a)
            return 0;
        if (b >= size)
            b = size ? size - 1 : 0;
    }
    if (a >= size)
        return -1;
    *first = a;
    *last = b;
    return 1;
}

/* HTTP: the image from the verified cache file, whole or one range. */
static void get_image_http(dsuit_node_t *n, const device_t *d, const char *hex,
                           const dsuit_http_request_t *req,
                           dsuit_http_response_t *r)
{
    uint64_t size = 0, first = 0, last = 0;
    int fd = open_image(n, d, hex, &size, r), range;
    if (fd < 0)
        return;
    range = parse_range(dsuit_http_header(req, "Range"), size, &first, &last);
    r->accept_ranges = 1;
    snprintf(r->etag, sizeof r->etag, "\"%.16s\"", hex);
    if (range < 0) {
        close(fd);
        error_reply(r, 416, "range-not-satisfiable",
                    "the range lies outside the image");
        snprintf(r->content_range, sizeof r->content_range, "bytes */%" PRIu64,
                 size);
        return;
    }
    r->content_type = "application/octet-stream";
    r->from_file = 1;
    r->fd = fd;
    if (range > 0) {
        r->status = 206;
        r->offset = first;
        r->len = (size_t)(last - first + 1);
        snprintf(r->content_range, sizeof r->content_range,
                 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
    } else {
        r->status = 200;
        r->len = (size_t)size;
    }
}

static int coap_code(int http)
{
    switch (http) {
    case 200:
        return 205;
    case 201:
    case 204:
        return 204;
    case 409: /* not certified yet */
        return 503;
    default:
        return http >= 400 && http <= 599 ? http : 500;
    }
}

static int content_format(const char *type)
{
    if (type == NULL)
        return -1;
    if (strcmp(type, "application/cbor") == 0)
        return DSUIT_COAP_CBOR;
    if (strcmp(type, "application/json") == 0)
        return DSUIT_COAP_JSON;
    if (strcmp(type, "application/octet-stream") == 0)
        return DSUIT_COAP_OCTET;
    return DSUIT_COAP_TEXT;
}

/* Is p "/fw/{36}/{36}/latest"? Copies the two ids out. */
static int latest_path_parse(const char *p, char v[37], char c[37])
{
    if (strncmp(p, "/fw/", 4) != 0 || strlen(p) != 4 + 36 + 1 + 36 + 7 ||
        p[40] != '/' || strcmp(p + 77, "/latest") != 0)
        return 0;
    memcpy(v, p + 4, 36);
    v[36] = '\0';
    memcpy(c, p + 41, 36);
    c[36] = '\0';
    return 1;
}

/* The resources, for both transports: CoAP passes cr (images then go out
 * of a mapping), HTTP passes hreq (images from the file, with Range). */
static void serve(dsuit_node_t *n, const device_t *d, const char *method,
                  const char *p, const uint8_t *body, size_t len,
                  dsuit_http_response_t *r, dsuit_coap_response_t *cr,
                  const dsuit_http_request_t *hreq, uint64_t *etag)
{
    int get = strcmp(method, "GET") == 0;
    char v[37], c[37];
    if (strncmp(p, "/fw/img/", 8) == 0) {
        if (!get)
            error_reply(r, 405, "method-not-allowed", "GET an image");
        else if (cr != NULL)
            get_image_coap(n, d, p + 8, r, cr);
        else
            get_image_http(n, d, p + 8, hreq, r);
    } else if (strncmp(p, "/fw/proof/", 10) == 0) {
        if (!get)
            error_reply(r, 405, "method-not-allowed", "GET a proof");
        else
            get_proof(n, d, p + 10, r);
    } else if (strcmp(p, "/fw/report") == 0) {
        if (strcmp(method, "POST") == 0)
            post_report(n, d, body, len, r);
        else
            error_reply(r, 405, "method-not-allowed", "POST a report");
    } else if (latest_path_parse(p, v, c)) {
        if (!get)
            error_reply(r, 405, "method-not-allowed", "GET the latest");
        else
            get_latest(n, d, v, c, r, etag);
    } else {
        error_reply(r, 404, "not-found", "no such resource");
    }
}

static void on_coap(void *arg, const dsuit_coap_request_t *req,
                    dsuit_coap_response_t *cr)
{
    dsuit_node_t *n = arg;
    dsuit_http_response_t r;
    device_t d;
    uint64_t etag = 0;

    memset(&r, 0, sizeof r);
    if (!resolve(n, req->peer, &d))
        error_reply(&r, 401, "unauthorized", "unknown device");
    else
        serve(n, &d, req->method, req->path, req->body, req->len, &r, cr,
              NULL, &etag);
    if (r.status == -1)
        return; /* cr filled */
    cr->code = coap_code(r.status);
    cr->content_format = r.len ? content_format(r.content_type) : -1;
    cr->etag = etag;
    cr->body = r.body;
    cr->len = r.len;
    if (r.from_file)
        close(r.fd);
}

/* ---- HTTP: /v1/device/... with request tokens (device_token.h) ----------- */

static pthread_mutex_t nonce_mu = PTHREAD_MUTEX_INITIALIZER;

/* Find nonce in table v of n slots (probing from its hash): 1 if a live
 * entry holds it; else *slot is where to put it (the first free or expired
 * slot of the probe), or SIZE_MAX when the probe has no room. */
static int nonce_probe(const nonce_slot_t *v, size_t n, const uint8_t *nonce,
                       uint64_t now, size_t *slot)
{
    uint64_t h;
    memcpy(&h, nonce, sizeof h); /* random bytes: a fine hash */
    *slot = SIZE_MAX;
    for (size_t i = 0; i < NONCE_PROBE; i++) {
        size_t k = (size_t)(h + i) & (n - 1);
        if (v[k].expires_ms == 0) {
            if (*slot == SIZE_MAX)
                *slot = k;
            return 0; /* the end of the chain */
        }
        if (v[k].expires_ms <= now) {
            if (*slot == SIZE_MAX)
                *slot = k;
            continue;
        }
        if (memcmp(v[k].nonce, nonce, 16) == 0)
            return 1;
    }
    return 0;
}

/* Double the table, keeping the live entries. Caller holds nonce_mu. */
static int nonce_grow(node_devices_t *dv, uint64_t now)
{
    size_t n = dv->n_slots * 2, slot;
    nonce_slot_t *v;
    if (n > NONCE_SLOTS_MAX || (v = calloc(n, sizeof *v)) == NULL)
        return 0;
    for (size_t i = 0; i < dv->n_slots; i++) {
        const nonce_slot_t *e = &dv->nonces[i];
        if (e->expires_ms <= now)
            continue;
        if (nonce_probe(v, n, e->nonce, now, &slot) == 0 && slot != SIZE_MAX)
            v[slot] = *e; /* a live entry that finds no room is dropped:
                           * never happens below half load */
    }
    free(dv->nonces);
    dv->nonces = v;
    dv->n_slots = n;
    return 1;
}

/* Remember the nonce of a token that is good until expires: 1 new,
 * 0 a replay, -1 no room (too many live tokens at once). */
static int nonce_fresh(node_devices_t *dv, const uint8_t nonce[16],
                       uint64_t expires, uint64_t now)
{
    size_t slot;
    int rc = -1;
    pthread_mutex_lock(&nonce_mu);
    for (int round = 0; round < 3; round++) {
        if (nonce_probe(dv->nonces, dv->n_slots, nonce, now, &slot)) {
            rc = 0;
            break;
        }
        if (slot != SIZE_MAX) {
            memcpy(dv->nonces[slot].nonce, nonce, 16);
            dv->nonces[slot].expires_ms = expires;
            rc = 1;
            break;
        }
        if (!nonce_grow(dv, now))
            break;
    }
    pthread_mutex_unlock(&nonce_mu);
    return rc;
}

/* Check the Authorization header of req for path; fills d or r. */
static int authenticate(dsuit_node_t *n, const dsuit_http_request_t *req,
                        const char *path, device_t *d,
                        dsuit_http_response_t *r)
{
    const char *h = dsuit_http_header(req, "Authorization");
    const char *self = n->g->validators[n->index].name;
    uint8_t buf[DSUIT_TOKEN_TEXT_MAX];
    char want[DSUIT_TOKEN_REQ_MAX];
    size_t len = 0;
    dsuit_token_claims_t c;
    uint64_t now = node_now_ms();
    int rc;

    memset(d, 0, sizeof *d);
    if (h == NULL || strncmp(h, "DSUIT ", 6) != 0) {
        error_reply(r, 401, "unauthorized",
                    "send 'Authorization: DSUIT <token>' (dsuit device "
                    "token)");
        return 0;
    }
    rc = dsuit_token_parse(h + 6, buf, sizeof buf, &len, &c);
    if (rc != DSUIT_OK) {
        error_reply(r, 401, "unauthorized", "the token does not parse");
        return 0;
    }
    snprintf(want, sizeof want, "%s %s", req->method, path);
    if (c.node_len != strlen(self) || memcmp(c.node, self, c.node_len) != 0 ||
        c.request_len != strlen(want) ||
        memcmp(c.request, want, c.request_len) != 0) {
        error_reply(r, 401, "unauthorized",
                    "the token is for another node or request");
        return 0;
    }
    if (c.time_ms + DSUIT_TOKEN_SKEW_MS < now ||
        c.time_ms > now + DSUIT_TOKEN_SKEW_MS) {
        error_reply(r, 401, "unauthorized",
                    "the token is too old or from the future");
        return 0;
    }
    if (c.is_psk) {
        uint8_t key[NODE_PSK_KEY_MAX];
        size_t kl = 0;
        rc = psk_lookup(n, (const uint8_t *)c.psk_id, c.psk_id_len, d, key,
                        sizeof key, &kl)
                 ? dsuit_token_verify(buf, len, key, kl, NULL)
                 : DSUIT_E_KEY;
        dsuit_wipe(key, sizeof key);
        d->kind = DSUIT_COAP_PEER_PSK;
    } else {
        dsuit_store_txn_t *t;
        const uint8_t *v;
        size_t vl;
        dsuit_device_rec_t rec;
        dsuit_key_t key;
        char u[37];
        rc = dsuit_store_begin(dsuit_ledger_store(n->ledger), 0, &t);
        if (rc == DSUIT_OK) {
            rc = dsuit_store_get(t, DSUIT_TBL_DEVICES, c.device_id, 16, &v, &vl);
            if (rc == DSUIT_OK && (dsuit_device_rec_decode(v, vl, &rec) !=
                                       DSUIT_OK ||
                                   dsuit_cose_key_decode(rec.key, rec.key_len,
                                                         &key) != DSUIT_OK))
                rc = DSUIT_E_STORE;
            if (rc == DSUIT_OK) {
                memcpy(d->vendor, rec.vendor, 16);
                memcpy(d->klass, rec.class_id, 16);
                rc = dsuit_token_verify(buf, len, NULL, 0, &key);
            }
            dsuit_store_abort(t);
        }
        node_uuid_text(c.device_id, u);
        snprintf(d->name, sizeof d->name, "rpk:%s", u);
        d->kind = DSUIT_COAP_PEER_RPK;
    }
    if (rc != DSUIT_OK) {
        error_reply(r, 401, "unauthorized",
                    "unknown device, or the token does not verify");
        return 0;
    }
    /* Only a token that verified may take a nonce slot; it stays until
     * the token is stale anyway. */
    rc = nonce_fresh(n->dev, c.nonce, c.time_ms + DSUIT_TOKEN_SKEW_MS, now);
    if (rc == 0) {
        error_reply(r, 401, "unauthorized", "the token was used already");
        return 0;
    }
    if (rc < 0) {
        error_reply(r, 503, "busy",
                    "too many live tokens at once; try again in a second");
        return 0;
    }
    return 1;
}

void node_device_http(dsuit_node_t *n, const char *path,
                      const dsuit_http_request_t *req,
                      dsuit_http_response_t *r)
{
    device_t d;
    uint64_t etag = 0;
    if (!authenticate(n, req, req->path, &d, r))
        return;
    serve(n, &d, req->method, path, req->body, req->body_len, r, NULL, req,
          &etag);
    if (etag != 0 && r->status == 200) {
        const char *inm = dsuit_http_header(req, "If-None-Match");
        snprintf(r->etag, sizeof r->etag, "\"%" PRIu64 "\"", etag);
        if (inm != NULL && strcmp(inm, r->etag) == 0) {
            free(r->body);
            r->body = NULL;
            r->len = 0;
            r->status = 304;
        }
    }
}

/* ---- GET /v1/devices --------------------------------------------------- */

void node_devices_list(dsuit_node_t *n, dsuit_http_response_t *r)
{
    char dir[PATH_MAX + 16], path[PATH_MAX + 300];
    json_t *list = json_array(), *root;
    DIR *dp;
    struct dirent *e;
    size_t count = 0;
    char *s;

    reports_dir(n, dir, sizeof dir);
    dp = opendir(dir);
    while (dp != NULL && (e = readdir(dp)) != NULL && count < REPORTS_LISTED) {
        json_t *j;
        json_error_t err;
        size_t nl = strlen(e->d_name);
        /* Report files are named in hex; a name with a dot is a temporary
         * file of node_replace_file(), in progress or left by a crash. */
        if (nl < 4 || strchr(e->d_name, '.') != NULL)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        j = json_load_file(path, 0, &err);
        if (j == NULL)
            continue;
        json_object_del(j, "report"); /* the SUIT report: on the node only */
        json_array_append_new(list, j);
        count++;
    }
    if (dp != NULL)
        closedir(dp);
    root = json_pack("{s:s, s:o}", "node", n->g->validators[n->index].name,
                     "devices", list);
    s = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    if (s == NULL) {
        error_reply(r, 500, "internal", "out of memory");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    r->body = (uint8_t *)s;
    r->len = strlen(s);
}

/* ---- start and stop ------------------------------------------------------ */

/* The node's own P-256 key for RPK handshakes: DATA/coap-rpk.key, made on
 * first start, as PKCS#8 PEM (pem) and its public key PEM (pub). Devices
 * authenticate what they receive end to end (SUIT signature, ledger
 * proof), so they need not pin it. */
static int server_key(dsuit_node_t *n, char *pem, size_t cap, size_t *len,
                      char *pub, size_t pub_cap, size_t *pub_len)
{
    char path[PATH_MAX + 32];
    dsuit_key_t k;
    size_t pl = 0;
    int rc = DSUIT_E_KEY;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", n->dir, COAP_KEY_FILE);
    f = fopen(path, "r");
    if (f != NULL) {
        pl = fread(pem, 1, cap - 1, f);
        fclose(f);
        pem[pl] = '\0';
        rc = dsuit_key_from_pem(pem, pl, &k);
        if (rc == DSUIT_OK && (k.type != DSUIT_KEY_P256 || !k.has_private)) {
            dsuit_key_wipe(&k);
            rc = DSUIT_E_KEY;
        }
        if (rc != DSUIT_OK)
            node_log(n, "warn", MODULE, "replacing an unusable key path=%s",
                     path);
    }
    if (rc != DSUIT_OK) {
        rc = dsuit_key_generate(DSUIT_KEY_P256, &k);
        if (rc == DSUIT_OK)
            rc = dsuit_key_to_pem(&k, 1, pem, cap, &pl);
        if (rc != DSUIT_OK) {
            dsuit_key_wipe(&k);
            return rc;
        }
        rc = node_replace_file(path, pem, pl);
        if (rc != DSUIT_OK) {
            dsuit_key_wipe(&k);
            return rc;
        }
    }
    rc = dsuit_key_to_pem(&k, 0, pub, pub_cap, pub_len);
    dsuit_key_wipe(&k);
    if (rc == DSUIT_OK)
        *len = pl;
    return rc;
}

int node_devices_start(dsuit_node_t *n)
{
    node_devices_t *dv = calloc(1, sizeof *dv);
    dsuit_coap_server_opts_t o;
    char pem[1024], pub[512];
    size_t pem_len = 0, pub_len = 0;
    int rc;
    if (dv == NULL)
        return DSUIT_E_NOMEM;
    dv->latest = calloc(LATEST_MAX, sizeof *dv->latest);
    dv->nonces = calloc(NONCE_SLOTS_MIN, sizeof *dv->nonces);
    dv->n_slots = NONCE_SLOTS_MIN;
    if (dv->latest == NULL || dv->nonces == NULL) {
        free(dv->latest);
        free(dv->nonces);
        free(dv);
        return DSUIT_E_NOMEM;
    }
    pthread_mutex_init(&dv->mu, NULL);
    snprintf(dv->ks_path, sizeof dv->ks_path, "%s/%s", n->dir,
             NODE_KEYSTORE_FILE);
    n->dev = dv;
    /* What is certified now, before any device asks. */
    node_devices_certified(n);
    rc = server_key(n, pem, sizeof pem, &pem_len, pub, sizeof pub, &pub_len);
    if (rc != DSUIT_OK) {
        node_log(n, "error", MODULE, "cannot make the CoAP server key reason=\"%s\"",
                 dsuit_strerror(rc));
        return rc;
    }
    memset(&o, 0, sizeof o);
    o.host = n->g->validators[n->index].host;
    o.port = n->g->validators[n->index].coap_port;
    o.plain_port = n->opts.coap_plain_port;
    o.rpk_key_pem = (const uint8_t *)pem;
    o.rpk_key_pem_len = pem_len;
    o.rpk_pub_pem = (const uint8_t *)pub;
    o.rpk_pub_pem_len = pub_len;
    o.psk_key = on_psk_key;
    o.rpk_allowed = on_rpk_allowed;
    o.handle = on_coap;
    o.arg = n;
    rc = dsuit_coap_server_start(&o, &dv->coap);
    dsuit_wipe(pem, sizeof pem);
    if (rc != DSUIT_OK) {
        node_log(n, "error", MODULE,
                 "cannot listen for CoAP on %s:%u (is the port in use?) "
                 "reason=\"%s\"",
                 o.host, (unsigned)o.port, dsuit_strerror(rc));
        return rc;
    }
    /* Every path served so far becomes observable. */
    pthread_mutex_lock(&dv->mu);
    for (size_t i = 0; i < dv->n_latest; i++) {
        char path[128];
        latest_path(dv->latest[i].vendor, dv->latest[i].klass, path);
        (void)dsuit_coap_server_changed(dv->coap, path);
    }
    pthread_mutex_unlock(&dv->mu);
    node_log(n, "info", MODULE, "listening coaps=%s:%u plain=%u", o.host,
             (unsigned)o.port, (unsigned)o.plain_port);
    return DSUIT_OK;
}

void node_devices_stop(dsuit_node_t *n)
{
    node_devices_t *dv = n->dev;
    if (dv == NULL)
        return;
    dsuit_coap_server_stop(dv->coap);
    node_keystore_free(dv->psk, dv->n_psk);
    free(dv->latest);
    free(dv->nonces);
    pthread_mutex_destroy(&dv->mu);
    free(dv);
    n->dev = NULL;
}
