/*
 * Malformed and malicious input against a running cluster (issue 8): real
 * `dsuit node run` processes on 127.0.0.1 (tests/helpers/cluster.h), fed
 * over HTTP, CoAP (DTLS and plain) and the dsuit program with input no
 * honest client sends (tests/helpers/hostile_fixture.h talks raw HTTP,
 * UDP and CoAP).
 *
 *   1. a table of malformed and malicious inputs: truncated and lying
 *      CBOR, wrong types, oversized bodies, path traversal, invalid UTF-8,
 *      a replayed transaction, another chain, garbage DTLS records, long
 *      CoAP paths, unknown methods, bad reports, device tokens for another
 *      node or request or used twice, lying Range headers and image
 *      sizes, and command lines that aim outside their folders. Each row
 *      gives the answer expected (HTTP status, CoAP code or exit code, and
 *      a fragment of the message). After every row every node still runs
 *      and answers GET /v1/status, the row's node still serves a device
 *      over DTLS, and nothing was stored: no transaction applied (new
 *      blocks empty, save a replay marked duplicate), no chunk file, no
 *      manifest or author, no keystore line, no device report;
 *   2. the security refusals, one test each: an unregistered author, a
 *      revoked author, a registration below the registrar threshold (2 of
 *      3 in this cluster's genesis), a rollback, a device without
 *      credentials (DTLS handshake, HTTP without token), a device of
 *      another vendor.
 *
 * One cluster of 3 nodes serves every test (group setup); n2 also serves
 * plain CoAP (--coap-plain-port) for the rows that need a CoAP message
 * no DTLS client library would send. Timings are printed ("# timing").
 * A failing run keeps its cluster folder (node logs in nI/node.log).
 * DSUIT_TEST_FILTER (a cmocka pattern) runs only some tests.
 */
/* strdup, struct timeval beyond C11. */
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cluster.h"
#include "dsuit/cbor.h"
#include "dsuit/crypto.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"
#include "hostile_fixture.h"
#include "net/coap/client.h"
#include "node/device_token.h"

#define HEARTBEAT_MS 500
#define N_NODES      3
#define PLAIN_NODE   2 /* the node that also serves plain CoAP */
#define OUT_CAP      16384
#define IMG_SIZE     (64u * 1024u + 77u) /* sequence 1: not whole blocks */
#define IMG2_SIZE    4096u               /* the upload that lies */

#define DOMAIN_A "acme.example"
#define DOMAIN_B "other.example"
#define CLASS    "sensor"
#define PSK_A    "hostile-a-0001"
#define PSK_A_K  "dsuit-hostile-psk-a-0001"
#define PSK_B    "hostile-b-0001"
#define PSK_B_K  "dsuit-hostile-psk-b-0001"

typedef struct {
    char path[400];
    uint64_t size;
    uint8_t digest[32];
    char hex[65];
} image_t;

typedef struct {
    char key[400], pub[400];
} author_t;

typedef struct {
    cl_t cl;
    char genesis[400], rk[3][400];
    author_t acme;
    char vendor_a[37], class_a[37], vendor_b[37], class_b[37];
    uint16_t http[N_NODES], coap[N_NODES], plain;
    image_t img1, img2, img2_short;
    char suit1[400], suit2[400], bad_sig[400], trunc_tx[400], huge_key[400];
    char mdigest1[65];
    uint8_t acme_tx[4096]; /* the registration, for the replay row */
    size_t acme_tx_len;
    uint8_t acme_tx_id[32];
    uint64_t acme_tx_height;
    uint8_t env1[1 << 16], env_bad[1 << 16];
    size_t env1_len, env_bad_len;
    unsigned started, passed;
} fx_t;

/* ---- small things ------------------------------------------------------- */

static double secs_since(uint64_t t0)
{
    return (double)(cl_now_ms() - t0) / 1000.0;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    fclose(f);
}

static size_t read_bytes(const char *path, uint8_t *out, size_t cap)
{
    size_t n = 0;
    uint8_t *b = df_slurp(path, &n);
    if (b == NULL)
        fail_msg("cannot read %s", path);
    if (n > cap)
        fail_msg("%s is larger than %zu bytes", path, cap);
    memcpy(out, b, n);
    free(b);
    return n;
}

static void make_image(const fx_t *f, const char *name, uint64_t size,
                       image_t *img)
{
    uint8_t *b = malloc((size_t)size);
    assert_non_null(b);
    memset(img, 0, sizeof *img);
    snprintf(img->path, sizeof img->path, "%s/%s", f->cl.root, name);
    img->size = size;
    assert_int_equal(dsuit_random(b, (size_t)size), DSUIT_OK);
    assert_int_equal(dsuit_sha256(b, (size_t)size, img->digest), DSUIT_OK);
    cl_hex(img->digest, 32, img->hex);
    write_bytes(img->path, b, (size_t)size);
    free(b);
}

/* "KEY: VALUE" of a program's output, to the end of the line. */
static void field(const char *text, const char *key, char *out, size_t cap)
{
    const char *p = strstr(text, key);
    size_t n = 0;
    if (p == NULL)
        fail_msg("no '%s' in: %s", key, text);
    p += strlen(key);
    while (p[n] != '\0' && p[n] != '\n' && n + 1 < cap)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int run(const fx_t *f, const char *const *args, char *out, size_t cap)
{
    return cl_run_cli(&f->cl, args, out, cap);
}

static void run_ok(const fx_t *f, const char *what, const char *const *args,
                   char *out, size_t cap)
{
    int rc = run(f, args, out, cap);
    if (rc != 0)
        fail_msg("%s exited %d:\n%s", what, rc, out);
}

static void make_author(const fx_t *f, const char *name, author_t *a)
{
    char base[380], out[OUT_CAP];
    snprintf(base, sizeof base, "%s/%s", f->cl.root, name);
    snprintf(a->key, sizeof a->key, "%s.key", base);
    snprintf(a->pub, sizeof a->pub, "%s.pub", base);
    const char *args[] = {"keygen", "--alg", "es256", "--out", base, NULL};
    run_ok(f, "dsuit keygen", args, out, sizeof out);
}

/* `dsuit author register -o TX` signed by the first k registrars. */
static void registration_tx(const fx_t *f, const author_t *a,
                            const char *domain, size_t k, const char *txfile)
{
    char out[OUT_CAP];
    const char *args[32];
    size_t n = 0;
    args[n++] = "author";
    args[n++] = "register";
    args[n++] = "-o";
    args[n++] = txfile;
    args[n++] = "--genesis";
    args[n++] = f->genesis;
    for (size_t r = 0; r < k; r++) {
        args[n++] = "--registrar-key";
        args[n++] = f->rk[r];
    }
    args[n++] = "--author-pub";
    args[n++] = a->pub;
    args[n++] = "--name";
    args[n++] = domain;
    args[n++] = "--vendor-domain";
    args[n++] = domain;
    args[n++] = "--class";
    args[n++] = CLASS;
    args[n] = NULL;
    run_ok(f, "dsuit author register -o", args, out, sizeof out);
}

/* `dsuit tx submit --wait certified`: exit code, output in out. */
static int submit_tx(const fx_t *f, size_t node, const char *txfile, char *out,
                     size_t cap)
{
    const char *args[] = {
        "tx",       "submit",    "--node",    f->cl.base[node],
        txfile,     "--wait",    "certified", "--genesis",
        f->genesis, "--timeout", "30",        NULL};
    return run(f, args, out, cap);
}

static void register_author(const fx_t *f, const author_t *a,
                            const char *domain, const char *txfile)
{
    char out[OUT_CAP];
    uint64_t t0 = cl_now_ms();
    int rc;
    registration_tx(f, a, domain, 2, txfile);
    rc = submit_tx(f, 0, txfile, out, sizeof out);
    if (rc != 0)
        fail_msg("dsuit tx submit of the %s registration exited %d:\n%s",
                 domain, rc, out);
    printf("# timing: author %s registered and certified in %.2f s\n", domain,
           secs_since(t0));
}

static void make_manifest(const fx_t *f, const author_t *a, const char *domain,
                          uint64_t seq, const image_t *img, const char *name,
                          char *suit, size_t cap)
{
    char seqs[24], out[OUT_CAP];
    snprintf(seqs, sizeof seqs, "%llu", (unsigned long long)seq);
    snprintf(suit, cap, "%s/%s", f->cl.root, name);
    const char *args[] = {"manifest", "create",  "--vendor-domain",
                          domain,     "--class", CLASS,
                          "--seq",    seqs,      "--image",
                          img->path,  "--key",   a->key,
                          "--kid",    "-o",      suit,
                          NULL};
    run_ok(f, "dsuit manifest create", args, out, sizeof out);
}

static int publish(const fx_t *f, size_t node, const char *suit,
                   const char *image, char *out, size_t cap)
{
    const char *args[] = {
        "publish", "--node", f->cl.base[node], "--manifest", suit,
        "--image", image,    "--timeout",      "60",         NULL};
    return run(f, args, out, cap);
}

/* Copy an envelope with its first signature's last bit flipped. */
static void tamper_signature(const char *in, const char *out)
{
    static uint8_t buf[1 << 16];
    dsuit_suit_envelope_t env;
    size_t len = read_bytes(in, buf, sizeof buf), off;
    assert_int_equal(dsuit_suit_envelope_decode(buf, len, &env, NULL),
                     DSUIT_OK);
    assert_true(env.n_auth >= 1);
    off = (size_t)(env.auth_blocks[0].ptr - buf) + env.auth_blocks[0].len - 1;
    assert_true(off < len);
    buf[off] ^= 0x01;
    write_bytes(out, buf, len);
}

static void provision(const fx_t *f, const char *id, const char *key_text,
                      const char *domain, char vendor[37], char klass[37])
{
    char hex[200], out[OUT_CAP];
    cl_hex((const uint8_t *)key_text, strlen(key_text), hex);
    for (size_t i = 0; i < N_NODES; i++) {
        const char *args[] = {
            "device",  "provision", "--data",          f->cl.data[i],
            "--id",    id,          "--vendor-domain", domain,
            "--class", CLASS,       "--key",           hex,
            NULL};
        run_ok(f, "dsuit device provision", args, out, sizeof out);
    }
    field(out, "vendor id: ", vendor, 37);
    field(out, "class id: ", klass, 37);
}

/* A request token of the PSK device id (key key_text) for node `node`. */
static void token(const char *id, const char *key_text, const char *node,
                  const char *method, const char *path, int64_t skew_ms,
                  char *out, size_t cap)
{
    int rc = dsuit_token_make(
        id, (const uint8_t *)key_text, strlen(key_text), NULL, NULL, node,
        method, path, (uint64_t)((int64_t)cl_wall_ms() + skew_ms), out, cap);
    if (rc != DSUIT_OK)
        fail_msg("dsuit_token_make: %s", dsuit_strerror(rc));
}

/* ---- CoAP over DTLS with the device's own client ------------------------- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} grow_t;

static int collect(void *arg, uint64_t offset, const uint8_t *data, size_t len,
                   int last)
{
    grow_t *g = arg;
    (void)last;
    if (offset != g->len)
        g->len = (size_t)offset; /* a server that starts over */
    if (g->len + len > (1u << 22))
        return DSUIT_E_LIMIT;
    if (g->len + len > g->cap) {
        size_t cap = (g->len + len) * 2;
        uint8_t *nb = realloc(g->p, cap);
        if (nb == NULL)
            return DSUIT_E_NOMEM;
        g->p = nb;
        g->cap = cap;
    }
    memcpy(g->p + g->len, data, len);
    g->len += len;
    return DSUIT_OK;
}

/* One CoAP request over DTLS with a PSK: the response code (205, 403 ...)
 * with its diagnostic in diag, or -1 when the handshake or the exchange
 * failed (no answer). body_len: bytes of a 2.05 body. */
static int coaps(const fx_t *f, size_t node, const char *id,
                 const char *key_text, const char *method, const char *path,
                 const uint8_t *payload, size_t plen, char *diag, size_t dcap,
                 size_t *body_len)
{
    dsuit_coap_client_opts_t o;
    dsuit_coap_client_t *c = NULL;
    dsuit_coap_result_t res;
    grow_t g = {0};
    char uri[64];
    int rc;

    memset(&o, 0, sizeof o);
    o.psk_identity = id;
    o.psk_key = (const uint8_t *)key_text;
    o.psk_key_len = strlen(key_text);
    o.timeout_ms = 2000;
    snprintf(uri, sizeof uri, "coaps://127.0.0.1:%u", (unsigned)f->coap[node]);
    memset(&res, 0, sizeof res);
    rc = dsuit_coap_client_open(uri, &o, &c);
    if (rc == DSUIT_OK) {
        if (strcmp(method, "POST") == 0)
            rc = dsuit_coap_client_post(c, path, DSUIT_COAP_CF_CBOR, payload,
                                        plen, &res);
        else
            rc = dsuit_coap_client_get(c, path, 0, collect, &g, &res);
    }
    dsuit_coap_client_close(c);
    free(g.p);
    if (body_len != NULL)
        *body_len = g.len;
    if (rc != DSUIT_OK) {
        snprintf(diag, dcap, "no answer (%s)", dsuit_strerror(rc));
        return -1;
    }
    snprintf(diag, dcap, "%s", res.diag);
    return res.code;
}

/* ---- what must not change -------------------------------------------------
 */

typedef struct {
    uint64_t height[N_NODES];
    size_t files[N_NODES];
    uint8_t keys[N_NODES][32];    /* SHA-256 of the keystore file */
    uint8_t reports[N_NODES][32]; /* SHA-256 over the reports folder */
    long manifests[N_NODES], authors[N_NODES];
} snap_t;

static long json_list_len(const fx_t *f, size_t i, const char *path,
                          const char *key)
{
    uint8_t *b = NULL;
    size_t bl = 0;
    long st = cl_http(&f->cl, i, "GET", path, NULL, NULL, 0, &b, &bl);
    json_t *j = st == 200 ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
    long n = -1;
    free(b);
    if (j != NULL && json_is_array(json_object_get(j, key)))
        n = (long)json_array_size(json_object_get(j, key));
    json_decref(j);
    return n;
}

static void hash_file(const char *path, uint8_t out[32])
{
    size_t n = 0;
    uint8_t *b = df_slurp(path, &n);
    assert_int_equal(dsuit_sha256(b ? b : (const uint8_t *)"", b ? n : 0, out),
                     DSUIT_OK);
    free(b);
}

/* Names and contents of every file in DATA/devices (the reports). */
static void hash_reports(const fx_t *f, size_t i, uint8_t out[32])
{
    char dir[400], path[800];
    dsuit_sha256_ctx_t h;
    DIR *d;
    struct dirent *e;
    snprintf(dir, sizeof dir, "%s/devices", f->cl.data[i]);
    assert_int_equal(dsuit_sha256_init(&h), DSUIT_OK);
    d = opendir(dir);
    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t n = 0;
        uint8_t *b;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        b = df_slurp(path, &n);
        dsuit_sha256_update(&h, e->d_name, strlen(e->d_name) + 1);
        if (b != NULL)
            dsuit_sha256_update(&h, b, n);
        free(b);
    }
    if (d != NULL)
        closedir(d);
    assert_int_equal(dsuit_sha256_final(&h, out), DSUIT_OK);
}

static void snap(const fx_t *f, snap_t *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < N_NODES; i++) {
        char path[400];
        int64_t h = cl_height(&f->cl, i);
        if (h < 0)
            fail_msg("n%zu does not answer GET /v1/status", i);
        s->height[i] = (uint64_t)h;
        s->files[i] = cl_chunk_files(&f->cl, i);
        snprintf(path, sizeof path, "%s/device-keys", f->cl.data[i]);
        hash_file(path, s->keys[i]);
        hash_reports(f, i, s->reports[i]);
        s->manifests[i] = json_list_len(f, i, "/v1/manifests", "manifests");
        s->authors[i] = json_list_len(f, i, "/v1/authors", "authors");
    }
}

/* Every node still runs and answers GET /v1/status with 200. */
static void assert_all_up(fx_t *f, const char *label)
{
    for (size_t i = 0; i < N_NODES; i++) {
        hf_http_t h;
        int st;
        if (cl_exited(&f->cl, i, &st))
            fail_msg("%s: node n%zu exited with %d", label, i, st);
        hf_http(f->http[i], "GET", "/v1/status", NULL, NULL, 0, &h);
        hf_http_free(&h);
        if (h.status != 200)
            fail_msg("%s: n%zu answers GET /v1/status with %d", label, i,
                     h.status);
    }
}

#define DUP_OK     1 /* a block may hold a transaction marked duplicate */
#define INVALID_OK 8 /* a block may hold any transaction not applied */

/* Nothing applied or stored since `before`: the blocks since are empty
 * (or hold only duplicates, with DUP_OK), and chunk files, manifests,
 * authors, keystores and reports are as they were. Waits for one more
 * block first, so a transaction the row slipped in has landed. */
static void assert_nothing_stored(fx_t *f, const snap_t *before,
                                  const char *label, unsigned flags)
{
    snap_t now;
    uint64_t top = 0;
    for (size_t i = 0; i < N_NODES; i++)
        top = before->height[i] > top ? before->height[i] : top;
    if (!cl_wait_height(&f->cl, top + 1, 10000))
        fail_msg("%s: the chain stopped growing at %llu", label,
                 (unsigned long long)top);
    snap(f, &now);
    for (uint64_t h = before->height[0] + 1; h <= now.height[0]; h++) {
        char path[64];
        uint8_t *b = NULL;
        size_t bl = 0;
        long st;
        json_t *j, *txs;
        snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)h);
        st = cl_http(&f->cl, 0, "GET", path, NULL, NULL, 0, &b, &bl);
        j = st == 200 ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
        free(b);
        txs = json_object_get(j, "txs");
        if (!json_is_array(txs))
            fail_msg("%s: GET %s answered %ld without txs", label, path, st);
        for (size_t k = 0; k < json_array_size(txs); k++) {
            const char *r = json_string_value(
                json_object_get(json_array_get(txs, k), "result"));
            int allowed = r != NULL &&
                          (((flags & DUP_OK) && strcmp(r, "duplicate") == 0) ||
                           ((flags & INVALID_OK) && strcmp(r, "ok") != 0));
            if (!allowed)
                fail_msg("%s: block %llu holds a transaction with result %s",
                         label, (unsigned long long)h, r ? r : "?");
        }
        json_decref(j);
    }
    for (size_t i = 0; i < N_NODES; i++) {
        if (now.files[i] != before->files[i])
            fail_msg("%s: n%zu holds %zu chunk files, before %zu", label, i,
                     now.files[i], before->files[i]);
        if (memcmp(now.keys[i], before->keys[i], 32) != 0)
            fail_msg("%s: n%zu's device keystore changed", label, i);
        if (memcmp(now.reports[i], before->reports[i], 32) != 0)
            fail_msg("%s: n%zu stored a device report", label, i);
        if (now.manifests[i] != before->manifests[i] ||
            now.authors[i] != before->authors[i])
            fail_msg("%s: n%zu lists %ld manifests and %ld authors, before "
                     "%ld and %ld",
                     label, i, now.manifests[i], now.authors[i],
                     before->manifests[i], before->authors[i]);
    }
}

/* The node's device service still works: PSK A reads its latest. */
static void assert_device_service(const fx_t *f, size_t node, const char *label)
{
    char path[128], diag[DSUIT_COAP_DIAG_MAX + 32];
    int code;
    snprintf(path, sizeof path, "/fw/%s/%s/latest", f->vendor_a, f->class_a);
    code = coaps(f, node, PSK_A, PSK_A_K, "GET", path, NULL, 0, diag,
                 sizeof diag, NULL);
    if (code != 205)
        fail_msg("%s: n%zu no longer serves a device over DTLS: %d %s", label,
                 node, code, diag);
}

/* ---- group setup ---------------------------------------------------------
 */

static int group_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    cl_opts_t o = {.registrars = 3, .threshold = 2};
    char out[OUT_CAP], txfile[400], plain[16];
    uint64_t t0 = cl_now_ms();
    dsuit_tx_t t;

    if (f == NULL)
        return -1;
    *state = f;
    cl_create_opts(&f->cl, N_NODES, HEARTBEAT_MS, &o);
    assert_int_equal(f->cl.g->threshold, 2);
    assert_int_equal(f->cl.n_reg, 3);
    cl_genesis_file(&f->cl, f->genesis, sizeof f->genesis);
    for (size_t k = 0; k < 3; k++)
        cl_registrar_key_file(&f->cl, k, f->rk[k], sizeof f->rk[k]);
    for (size_t i = 0; i < N_NODES; i++) {
        f->http[i] = f->cl.g->validators[i].http_port;
        f->coap[i] = f->cl.g->validators[i].coap_port;
    }
    f->plain = df_free_udp_port();
    snprintf(plain, sizeof plain, "%u", (unsigned)f->plain);
    for (size_t i = 0; i < N_NODES; i++) {
        if (i == PLAIN_NODE) {
            const char *extra[] = {"--coap-plain-port", plain, NULL};
            hf_start_node(&f->cl, i, extra);
        } else {
            cl_start(&f->cl, i);
        }
    }
    if (cl_wait_leader(&f->cl, 0, 15000, NULL) < 0)
        fail_msg("no leader 15 s after start (cluster in %s)", f->cl.root);

    provision(f, PSK_A, PSK_A_K, DOMAIN_A, f->vendor_a, f->class_a);
    provision(f, PSK_B, PSK_B_K, DOMAIN_B, f->vendor_b, f->class_b);

    make_author(f, "acme", &f->acme);
    snprintf(txfile, sizeof txfile, "%s/acme.tx", f->cl.root);
    register_author(f, &f->acme, DOMAIN_A, txfile);
    f->acme_tx_len = read_bytes(txfile, f->acme_tx, sizeof f->acme_tx);
    assert_int_equal(dsuit_tx_decode(f->acme_tx, f->acme_tx_len, &t), DSUIT_OK);
    memcpy(f->acme_tx_id, t.id, 32);
    if (!cl_wait_tx(&f->cl, 0, f->acme_tx_id, 5000, &f->acme_tx_height, NULL))
        fail_msg("the acme registration is not committed on n0");

    make_image(f, "fw-1.bin", IMG_SIZE, &f->img1);
    make_manifest(f, &f->acme, DOMAIN_A, 1, &f->img1, "fw-1.suit", f->suit1,
                  sizeof f->suit1);
    if (publish(f, 0, f->suit1, f->img1.path, out, sizeof out) != 0 ||
        strstr(out, "certified at height") == NULL)
        fail_msg("dsuit publish of sequence 1 failed:\n%s", out);
    /* stdout's "manifest <64 hex>" line (stderr has other "manifest"s). */
    {
        const char *p = out;
        while ((p = strstr(p, "manifest ")) != NULL &&
               (strspn(p + 9, "0123456789abcdef") != 64 ||
                (p[9 + 64] != '\n' && p[9 + 64] != '\0')))
            p++;
        if (p == NULL)
            fail_msg("no manifest digest in the output of dsuit publish:\n%s",
                     out);
        snprintf(f->mdigest1, sizeof f->mdigest1, "%.64s", p + 9);
    }
    f->env1_len = read_bytes(f->suit1, f->env1, sizeof f->env1);

    /* Sequence 2, never published: its upload is the one that lies. */
    make_image(f, "fw-2.bin", IMG2_SIZE, &f->img2);
    make_image(f, "fw-2-short.bin", IMG2_SIZE - 1, &f->img2_short);
    make_manifest(f, &f->acme, DOMAIN_A, 2, &f->img2, "fw-2.suit", f->suit2,
                  sizeof f->suit2);
    snprintf(f->bad_sig, sizeof f->bad_sig, "%s/bad-sig.suit", f->cl.root);
    tamper_signature(f->suit2, f->bad_sig);
    f->env_bad_len = read_bytes(f->bad_sig, f->env_bad, sizeof f->env_bad);

    /* Files for the command-line rows. */
    snprintf(f->trunc_tx, sizeof f->trunc_tx, "%s/trunc.tx", f->cl.root);
    write_bytes(f->trunc_tx, f->acme_tx, f->acme_tx_len / 2);
    snprintf(f->huge_key, sizeof f->huge_key, "%s/huge.key", f->cl.root);
    write_bytes(f->huge_key, "\xa4\x01\x02\x20\x01\x21\x5a\xff\xff\xff\xff",
                11);

    /* Every node has the manifest certified before the rows start. */
    {
        char path[128];
        snprintf(path, sizeof path, "/fw/%s/%s/latest", f->vendor_a,
                 f->class_a);
        for (size_t i = 0; i < N_NODES; i++) {
            uint64_t t1 = cl_now_ms();
            char diag[200];
            while (coaps(f, i, PSK_A, PSK_A_K, "GET", path, NULL, 0, diag,
                         sizeof diag, NULL) != 205) {
                if (cl_now_ms() - t1 > 10000)
                    fail_msg("n%zu does not serve sequence 1: %s", i, diag);
                cl_sleep_ms(100);
            }
        }
    }
    printf("# timing: cluster up, author registered, sequence 1 published "
           "in %.2f s\n",
           secs_since(t0));
    return 0;
}

static int group_teardown(void **state)
{
    fx_t *f = *state;
    if (f == NULL)
        return 0;
    f->cl.keep = f->passed != f->started;
    cl_destroy(&f->cl);
    free(f);
    return 0;
}

static void begin(fx_t *f)
{
    f->started++;
}

static void passed(fx_t *f)
{
    f->passed++;
}

/* ---- 1. the table ---------------------------------------------------------
 */

typedef enum {
    K_HTTP,  /* a raw HTTP request to node's HTTP port */
    K_COAPS, /* CoAP over DTLS with a PSK (the device's own client) */
    K_COAP,  /* a raw CoAP message to n2's plain CoAP port */
    K_UDP,   /* raw bytes to node's DTLS port */
    K_CLI,   /* the dsuit program */
    K_FN     /* a row of several steps (row_t.fn) */
} kind_t;

/* Bodies, made fresh for each row. */
typedef enum {
    B_NONE,
    B_EMPTY,
    B_TEXT,           /* "hello, not CBOR" */
    B_TX_TRUNC,       /* the acme registration cut in half */
    B_TX_TRAILING,    /* ... with one byte more */
    B_TX_HUGE32,      /* [bstr of 2^32-1 bytes (header only), 0] */
    B_TX_HUGE64,      /* [bstr of 2^64-1 bytes (header only), 0] */
    B_TX_TYPES,       /* [1, "x"] */
    B_TX_NESTED,      /* 100,000 nested arrays */
    B_TX_REPLAY,      /* the acme registration, already applied */
    B_TX_OTHER_CHAIN, /* a registration signed for another chain */
    B_TX_BAD_UTF8,    /* a registration whose name is not UTF-8 */
    B_TX_BAD_SIG,     /* the acme registration with a signature bit flipped */
    B_ENV_TRUNC,      /* the sequence-1 envelope cut in half */
    B_ENV_HUGE32,     /* an envelope whose manifest claims 2^32-1 bytes */
    B_ENV_BAD_SIG,    /* sequence 2 with a signature bit flipped */
    B_VOTE,           /* a well-formed vote, unsigned */
    B_REPORT_BAD_UTF8,
    B_REPORT_HUGE32, /* a SUIT report bstr claiming 2^32-1 bytes */
    B_REPORT_LONG,   /* a result of 300 bytes */
    B_REPORT_BIG,    /* a SUIT report of 5000 bytes (over 4 KiB) */
    B_REPORT_TYPES,  /* {1: "one", 3: 7} */
    B_REPORT_OK      /* a good report (sent where reports are refused) */
} body_t;

/* Tokens for HTTP device rows. */
typedef enum {
    T_NONE,
    T_SELF,       /* PSK A, this node, this request */
    T_OTHER_NODE, /* PSK A, made for another node */
    T_OTHER_PATH, /* PSK A, made for another path */
    T_STALE,      /* made two minutes ago */
    T_FUTURE,     /* made for two minutes from now */
    T_UNKNOWN_ID, /* an identity no keystore has */
    T_WRONG_KEY,  /* PSK A's identity, another key */
    T_GARBAGE,    /* "DSUIT !!!not-base64!!!" */
    T_BEARER      /* "Bearer x" */
} tok_t;

struct row;
typedef int (*row_fn)(fx_t *f, const struct row *r, char *text, size_t cap);

typedef struct row {
    const char *label;
    kind_t kind;
    size_t node;
    const char *method; /* HTTP method, CoAP "GET"/"POST", or NULL */
    const char *path;   /* {V} {C} {VB} {CB} {IMG} {M} {LONG} expanded */
    const char *headers;
    body_t body;
    tok_t tok;
    int code;             /* raw CoAP code byte for K_COAP (0: from method) */
    const char *argv[20]; /* K_CLI; {D0} {R} {G} {H0} {BAD} {TRUNC} ... */
    row_fn fn;
    int want;         /* status, CoAP code (205, 400), exit code; -1: none */
    int want_alt;     /* also accepted (0: nothing else) */
    const char *frag; /* in the answer's text (NULL: anything) */
    unsigned flags;
} row_t;

#define WHOLE_IMAGE 2 /* the answer's body is the whole image */
#define PLAIN_CHECK 4 /* after the row, plain CoAP still answers too */

static void append(char *out, size_t cap, size_t *n, const char *s)
{
    size_t l = strlen(s);
    if (*n + l + 1 > cap)
        fail_msg("expanded text longer than %zu", cap);
    memcpy(out + *n, s, l + 1);
    *n += l;
}

#define LONG50 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Expand the {NAME} placeholders of s. */
static void expand(const fx_t *f, const char *s, char *out, size_t cap)
{
    size_t n = 0;
    char long_seg[301];
    memset(long_seg, 'a', 300);
    long_seg[300] = '\0';
    out[0] = '\0';
    while (*s != '\0') {
        const char *e;
        char name[16], one[2] = {0, 0};
        if (*s != '{' || (e = strchr(s, '}')) == NULL ||
            (size_t)(e - s) >= sizeof name) {
            one[0] = *s++;
            append(out, cap, &n, one);
            continue;
        }
        snprintf(name, sizeof name, "%.*s", (int)(e - s - 1), s + 1);
        s = e + 1;
        if (strcmp(name, "V") == 0)
            append(out, cap, &n, f->vendor_a);
        else if (strcmp(name, "C") == 0)
            append(out, cap, &n, f->class_a);
        else if (strcmp(name, "VB") == 0)
            append(out, cap, &n, f->vendor_b);
        else if (strcmp(name, "CB") == 0)
            append(out, cap, &n, f->class_b);
        else if (strcmp(name, "IMG") == 0)
            append(out, cap, &n, f->img1.hex);
        else if (strcmp(name, "M") == 0)
            append(out, cap, &n, f->mdigest1);
        else if (strcmp(name, "LONG") == 0)
            append(out, cap, &n, long_seg);
        else if (strcmp(name, "L247") == 0)
            append(out, cap, &n, long_seg + 300 - 247);
        else if (strcmp(name, "LONGP") == 0)
            for (int k = 0; k < 6; k++) /* 6 segments of 50: 305 bytes */
                append(out, cap, &n, k ? "/" LONG50 : LONG50);
        else if (strcmp(name, "R") == 0)
            append(out, cap, &n, f->cl.root);
        else if (strcmp(name, "D0") == 0)
            append(out, cap, &n, f->cl.data[0]);
        else if (strcmp(name, "G") == 0)
            append(out, cap, &n, f->genesis);
        else if (strcmp(name, "H0") == 0)
            append(out, cap, &n, f->cl.base[0]);
        else if (strcmp(name, "BAD") == 0)
            append(out, cap, &n, f->bad_sig);
        else if (strcmp(name, "TRUNC") == 0)
            append(out, cap, &n, f->trunc_tx);
        else if (strcmp(name, "HUGEKEY") == 0)
            append(out, cap, &n, f->huge_key);
        else if (strcmp(name, "APUB") == 0)
            append(out, cap, &n, f->acme.pub);
        else if (strcmp(name, "RK0") == 0)
            append(out, cap, &n, f->rk[0]);
        else if (strcmp(name, "RK1") == 0)
            append(out, cap, &n, f->rk[1]);
        else if (strcmp(name, "SUIT2") == 0)
            append(out, cap, &n, f->suit2);
        else if (strcmp(name, "SHORT") == 0)
            append(out, cap, &n, f->img2_short.path);
        else
            fail_msg("unknown placeholder {%s}", name);
    }
}

/* A register-author transaction signed by registrars 0 and 1, for chain,
 * named name (any bytes: the body is patched after encoding). */
static size_t registration(fx_t *f, const uint8_t chain[32],
                           const uint8_t *name, size_t name_len, uint8_t *out,
                           size_t cap)
{
    dsuit_key_t author, signers[2];
    uint8_t body[1024], vendor[16];
    char placeholder[32];
    size_t bl, len;
    uint8_t *p;
    assert_true(name_len > 0 && name_len < sizeof placeholder);
    memset(placeholder, 'Q', name_len);
    placeholder[name_len] = '\0';
    assert_int_equal(dsuit_random(vendor, sizeof vendor), DSUIT_OK);
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &author), DSUIT_OK);
    assert_int_equal(dsuit_tx_body_register_author(
                         chain, f->cl.nonce++ + 1000, &author, placeholder,
                         vendor, NULL, 0, body, sizeof body, &bl),
                     DSUIT_OK);
    p = NULL;
    for (size_t k = 0; p == NULL && k + name_len <= bl; k++)
        if (memcmp(body + k, placeholder, name_len) == 0)
            p = body + k;
    assert_non_null(p);
    memcpy(p, name, name_len);
    signers[0] = f->cl.reg;
    signers[1] = f->cl.reg_more[0];
    assert_int_equal(dsuit_tx_assemble(body, bl, signers, 2, out, cap, &len),
                     DSUIT_OK);
    dsuit_key_wipe(&author);
    return len;
}

static size_t make_report(uint64_t seq, const uint8_t *result, size_t rl,
                          const uint8_t *suit, size_t sl, uint8_t *out,
                          size_t cap)
{
    dsuit_cbor_enc_t e;
    size_t n;
    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_map(&e, suit ? 3 : 2);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, seq);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_tstr(&e, (const char *)result, rl);
    if (suit != NULL) {
        dsuit_cbor_put_uint(&e, 4);
        dsuit_cbor_put_bstr(&e, suit, sl);
    }
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n), DSUIT_OK);
    return n;
}

/* The body of a row: malloc'd into *out (NULL for B_NONE). */
static size_t make_body(fx_t *f, body_t b, uint8_t **out)
{
    size_t cap = 1u << 17, n = 0;
    uint8_t *p = malloc(cap);
    assert_non_null(p);
    switch (b) {
    case B_NONE:
        free(p);
        *out = NULL;
        return 0;
    case B_EMPTY:
        break;
    case B_TEXT:
        n = (size_t)snprintf((char *)p, cap, "hello, not CBOR");
        break;
    case B_TX_TRUNC:
        n = f->acme_tx_len / 2;
        memcpy(p, f->acme_tx, n);
        break;
    case B_TX_TRAILING:
        n = f->acme_tx_len + 1;
        memcpy(p, f->acme_tx, f->acme_tx_len);
        p[n - 1] = 0x00;
        break;
    case B_TX_HUGE32:
        n = 7;
        memcpy(p, "\x82\x5a\xff\xff\xff\xff\x00", n);
        break;
    case B_TX_HUGE64:
        n = 11;
        memcpy(p, "\x82\x5b\xff\xff\xff\xff\xff\xff\xff\xff\x00", n);
        break;
    case B_TX_TYPES:
        n = 4;
        memcpy(p, "\x82\x01\x61x", n);
        break;
    case B_TX_NESTED:
        n = 100001;
        memset(p, 0x81, n - 1);
        p[n - 1] = 0x00;
        break;
    case B_TX_REPLAY:
        n = f->acme_tx_len;
        memcpy(p, f->acme_tx, n);
        break;
    case B_TX_OTHER_CHAIN: {
        uint8_t chain[32];
        memcpy(chain, f->cl.g->hash, 32);
        chain[0] ^= 0xff;
        n = registration(f, chain, (const uint8_t *)"other chain", 11, p, cap);
        break;
    }
    case B_TX_BAD_UTF8:
        n = registration(f, f->cl.g->hash, (const uint8_t *)"bad \xff\xfe!", 7,
                         p, cap);
        break;
    case B_TX_BAD_SIG:
        n = f->acme_tx_len;
        memcpy(p, f->acme_tx, n);
        p[n - 1] ^= 0x01; /* the last signature's last byte */
        break;
    case B_ENV_TRUNC:
        n = f->env1_len / 2;
        memcpy(p, f->env1, n);
        break;
    case B_ENV_HUGE32:
        /* 107({2: bstr of 2^32-1 bytes, 3: ...}) */
        n = 11;
        memcpy(p, "\xd8\x6b\xa2\x02\x5a\xff\xff\xff\xff\x03\x00", n);
        break;
    case B_ENV_BAD_SIG:
        n = f->env_bad_len;
        memcpy(p, f->env_bad, n);
        break;
    case B_VOTE: {
        dsuit_cbor_enc_t e;
        uint8_t z[64] = {0};
        dsuit_cbor_enc_init(&e, p, cap);
        dsuit_cbor_put_array(&e, 4);
        dsuit_cbor_put_uint(&e, 1);
        dsuit_cbor_put_bstr(&e, z, 32);
        dsuit_cbor_put_uint(&e, 0);
        dsuit_cbor_put_bstr(&e, z, 64);
        assert_int_equal(dsuit_cbor_enc_finish(&e, &n), DSUIT_OK);
        break;
    }
    case B_REPORT_BAD_UTF8:
        n = make_report(1, (const uint8_t *)"ok \xc0\xaf", 5, NULL, 0, p, cap);
        break;
    case B_REPORT_HUGE32:
        n = 11;
        memcpy(p, "\xa3\x01\x01\x03\x62ok\x04\x5a\xff\xff", 11);
        memcpy(p + n, "\xff\xff\x00", 3);
        n += 3;
        break;
    case B_REPORT_LONG: {
        uint8_t text[300];
        memset(text, 'r', sizeof text);
        n = make_report(1, text, sizeof text, NULL, 0, p, cap);
        break;
    }
    case B_REPORT_BIG: {
        static uint8_t suit[5000];
        n = make_report(1, (const uint8_t *)"ok", 2, suit, sizeof suit, p, cap);
        break;
    }
    case B_REPORT_TYPES:
        n = 8;
        memcpy(p, "\xa2\x01\x63one\x03\x07", n);
        break;
    case B_REPORT_OK:
        n = make_report(1, (const uint8_t *)"ok", 2, NULL, 0, p, cap);
        break;
    }
    *out = p;
    return n;
}

/* The Authorization header line for a row (into out; "" for none). */
static void auth_header(const fx_t *f, const row_t *r, const char *path,
                        char *out, size_t cap)
{
    char t[DSUIT_TOKEN_TEXT_MAX];
    char node[8], other[8];
    snprintf(node, sizeof node, "n%zu", r->node);
    snprintf(other, sizeof other, "n%zu", (r->node + 1) % N_NODES);
    out[0] = '\0';
    switch (r->tok) {
    case T_NONE:
        return;
    case T_SELF:
        token(PSK_A, PSK_A_K, node, r->method, path, 0, t, sizeof t);
        break;
    case T_OTHER_NODE:
        token(PSK_A, PSK_A_K, other, r->method, path, 0, t, sizeof t);
        break;
    case T_OTHER_PATH: {
        char p2[200];
        snprintf(p2, sizeof p2, "/v1/device/fw/img/%s", f->img1.hex);
        token(PSK_A, PSK_A_K, node, r->method, p2, 0, t, sizeof t);
        break;
    }
    case T_STALE:
        token(PSK_A, PSK_A_K, node, r->method, path, -120000, t, sizeof t);
        break;
    case T_FUTURE:
        token(PSK_A, PSK_A_K, node, r->method, path, 120000, t, sizeof t);
        break;
    case T_UNKNOWN_ID:
        token("nobody-0001", PSK_A_K, node, r->method, path, 0, t, sizeof t);
        break;
    case T_WRONG_KEY:
        token(PSK_A, PSK_B_K, node, r->method, path, 0, t, sizeof t);
        break;
    case T_GARBAGE:
        snprintf(out, cap, "Authorization: DSUIT !!!not-base64!!!\r\n");
        return;
    case T_BEARER:
        snprintf(out, cap, "Authorization: Bearer x\r\n");
        return;
    }
    snprintf(out, cap, "Authorization: DSUIT %s\r\n", t);
}

/* Run one row: its code into *got, its answer's text into text. */
static int run_row(fx_t *f, const row_t *r, char *text, size_t cap)
{
    static char path[65536];
    uint8_t *body = NULL;
    size_t blen;
    int got = -1;

    text[0] = '\0';
    path[0] = '\0';
    if (r->path != NULL)
        expand(f, r->path, path, sizeof path);
    switch (r->kind) {
    case K_HTTP: {
        char hdr[4096], auth[2048];
        hf_http_t h;
        auth_header(f, r, path, auth, sizeof auth);
        snprintf(hdr, sizeof hdr, "%s%s", auth, r->headers ? r->headers : "");
        blen = make_body(f, r->body, &body);
        got = hf_http(f->http[r->node], r->method, path, hdr, body, blen, &h);
        snprintf(text, cap, "%s\n%s", h.head, h.body ? (char *)h.body : "");
        if ((r->flags & WHOLE_IMAGE) &&
            (h.body_len != f->img1.size || h.status != 200))
            snprintf(text, cap, "%d with %zu bytes, not the whole image",
                     h.status, h.body_len);
        hf_http_free(&h);
        break;
    }
    case K_COAPS:
        blen = make_body(f, r->body, &body);
        got = coaps(f, r->node, PSK_A, PSK_A_K, r->method, path, body, blen,
                    text, cap, NULL);
        break;
    case K_COAP: {
        uint8_t msg[4096], ans[2048];
        uint8_t code = (uint8_t)r->code;
        size_t n;
        long al;
        hf_coap_t m;
        if (code == 0)
            code = strcmp(r->method, "POST") == 0 ? 0x02 : 0x01;
        blen = make_body(f, r->body, &body);
        n = hf_coap_build(code, (uint16_t)(cl_now_ms() & 0xffff), path,
                          body ? DSUIT_COAP_CF_CBOR : -1, body, blen, msg,
                          sizeof msg);
        assert_true(n > 0);
        al = hf_udp(f->plain, msg, n, 2000, ans, sizeof ans);
        if (al < 0) {
            snprintf(text, cap, "no answer");
        } else if (hf_coap_parse(ans, (size_t)al, &m) != 0) {
            snprintf(text, cap, "%ld bytes that are not CoAP", al);
            got = 0;
        } else {
            got = m.type == 3 ? 0 : m.code; /* a reset: 0 */
            snprintf(text, cap, "%s%.*s", m.type == 3 ? "reset " : "",
                     (int)m.payload_len, (const char *)m.payload);
        }
        break;
    }
    case K_UDP: {
        uint8_t msg[2048], ans[2048];
        size_t n = r->code; /* the datagram's length */
        long al;
        assert_true(n <= sizeof msg);
        if (r->body == B_TEXT) { /* random bytes */
            assert_int_equal(dsuit_random(msg, n), DSUIT_OK);
            msg[0] = 0x17; /* application data, so it looks like a record */
        } else if (r->body == B_TX_TRUNC) {
            /* A DTLS 1.2 handshake record announcing a 200-byte
             * ClientHello, cut off after 25 bytes. */
            static const uint8_t ch[25] = {
                0x16, 0xfe, 0xfd, 0,    0, 0, 0, 0, 0, 0, 0,    0,   0xc8,
                0x01, 0,    0,    0xbc, 0, 0, 0, 0, 0, 0, 0xbc, 0xfe};
            n = sizeof ch;
            memcpy(msg, ch, n);
        } else { /* a plain CoAP GET, to the DTLS port */
            n = hf_coap_build(0x01, 0x1234, "/fw/report", -1, NULL, 0, msg,
                              sizeof msg);
        }
        al = hf_udp(f->coap[r->node], msg, n, 1000, ans, sizeof ans);
        if (al < 0) {
            snprintf(text, cap, "no answer");
        } else {
            /* A DTLS alert record (21) is an acceptable refusal too; so
             * is a stateless HelloVerifyRequest (a handshake record of at
             * most 60 bytes: RFC 6347 §4.2.1 keeps it small against
             * amplification), reported as 22. */
            got = ans[0] == 21 ? -1 : ans[0] == 22 && al <= 60 ? 22 : 0;
            snprintf(text, cap, "%ld bytes, record type %u", al,
                     (unsigned)ans[0]);
        }
        break;
    }
    case K_CLI: {
        char args[20][1024];
        const char *argv[21];
        size_t k = 0;
        for (; r->argv[k] != NULL; k++) {
            expand(f, r->argv[k], args[k], sizeof args[k]);
            argv[k] = args[k];
        }
        argv[k] = NULL;
        got = run(f, argv, text, cap);
        break;
    }
    case K_FN:
        got = r->fn(f, r, text, cap);
        break;
    }
    free(body);
    return got;
}

/* ---- rows of several steps ----------------------------------------------- */

/* A good token used twice: the first request is served, the second not. */
static int fn_token_replay(fx_t *f, const row_t *r, char *text, size_t cap)
{
    char path[200], auth[2048], t[DSUIT_TOKEN_TEXT_MAX];
    hf_http_t h;
    int st;
    snprintf(path, sizeof path, "/v1/device/fw/%s/%s/latest", f->vendor_a,
             f->class_a);
    token(PSK_A, PSK_A_K, "n0", "GET", path, 0, t, sizeof t);
    snprintf(auth, sizeof auth, "Authorization: DSUIT %s\r\n", t);
    st = hf_http(f->http[r->node], "GET", path, auth, NULL, 0, &h);
    hf_http_free(&h);
    if (st != 200) {
        snprintf(text, cap, "the first use of the token answered %d", st);
        return st;
    }
    st = hf_http(f->http[r->node], "GET", path, auth, NULL, 0, &h);
    snprintf(text, cap, "%s", h.body ? (char *)h.body : "");
    hf_http_free(&h);
    return st;
}

/* POST /v1/publish of sequence 2 (201), then PUT an upload that lies. */
static int put_lie(fx_t *f, const row_t *r, int chunked, const uint8_t *data,
                   size_t len, char *text, size_t cap)
{
    static const char *const ct[] = {"Content-Type: application/cbor", NULL};
    uint8_t env[1 << 16], *b = NULL;
    size_t el = read_bytes(f->suit2, env, sizeof env), bl = 0, n;
    long st;
    json_t *j;
    const char *loc;
    char *req;
    hf_http_t h;

    st = cl_http(&f->cl, r->node, "POST", "/v1/publish", ct, env, el, &b, &bl);
    j = b ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
    free(b);
    loc = json_string_value(json_object_get(
        json_array_get(json_object_get(j, "images"), 0), "upload"));
    if (st != 201 || loc == NULL) {
        json_decref(j);
        snprintf(text, cap, "POST /v1/publish of sequence 2 answered %ld", st);
        return -1;
    }
    req = malloc(len + 1024);
    assert_non_null(req);
    n = (size_t)snprintf(req, 1024,
                         "PUT %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                         "Connection: close\r\n"
                         "Content-Type: application/octet-stream\r\n",
                         loc, (unsigned)f->http[r->node]);
    if (chunked)
        n += (size_t)snprintf(req + n, 1024 - n,
                              "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", len);
    else
        n += (size_t)snprintf(req + n, 1024 - n, "Content-Length: %zu\r\n\r\n",
                              len);
    json_decref(j);
    memcpy(req + n, data, len);
    n += len;
    if (chunked) {
        memcpy(req + n, "\r\n0\r\n\r\n", 7);
        n += 7;
    }
    hf_http_raw(f->http[r->node], req, n, 10000, &h);
    free(req);
    snprintf(text, cap, "%s\n%s", h.head, h.body ? (char *)h.body : "");
    hf_http_free(&h);
    return h.status;
}

/* The image one byte shorter than the manifest says. */
static int fn_upload_short(fx_t *f, const row_t *r, char *text, size_t cap)
{
    uint8_t b[IMG2_SIZE];
    size_t n = read_bytes(f->img2_short.path, b, sizeof b);
    return put_lie(f, r, 0, b, n, text, cap);
}

/* The right length, other bytes. */
static int fn_upload_other(fx_t *f, const row_t *r, char *text, size_t cap)
{
    uint8_t b[IMG2_SIZE];
    assert_int_equal(dsuit_random(b, sizeof b), DSUIT_OK);
    return put_lie(f, r, 0, b, sizeof b, text, cap);
}

/* A chunked body longer than the manifest's size. */
static int fn_upload_long_chunked(fx_t *f, const row_t *r, char *text,
                                  size_t cap)
{
    static uint8_t b[IMG2_SIZE + 4096];
    size_t n = read_bytes(f->img2.path, b, sizeof b);
    memset(b + n, 0x5a, 4096);
    return put_lie(f, r, 1, b, n + 4096, text, cap);
}

/* Content-Length announcing 17 MB (over the 16 MiB limit), 1 KiB sent. */
static int fn_oversized(fx_t *f, const row_t *r, char *text, size_t cap)
{
    char req[2048];
    hf_http_t h;
    size_t n = (size_t)snprintf(req, sizeof req,
                                "POST /v1/tx HTTP/1.1\r\nHost: x\r\n"
                                "Connection: close\r\n"
                                "Content-Type: application/cbor\r\n"
                                "Content-Length: 17000000\r\n\r\n");
    memset(req + n, 0x80, 1024);
    hf_http_raw(f->http[r->node], req, n + 1024, 10000, &h);
    snprintf(text, cap, "%s\n%s", h.head, h.body ? (char *)h.body : "");
    hf_http_free(&h);
    return h.status;
}

/* A chunked body that grows past 16 MiB: cut off (connection closed). */
static int fn_oversized_chunked(fx_t *f, const row_t *r, char *text, size_t cap)
{
    size_t total = (16u << 20) + (1u << 20), n;
    char *req = malloc(total + 4096);
    hf_http_t h;
    assert_non_null(req);
    n = (size_t)snprintf(req, 4096,
                         "POST /v1/tx HTTP/1.1\r\nHost: x\r\n"
                         "Connection: close\r\n"
                         "Content-Type: application/cbor\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
                         total);
    memset(req + n, 0x80, total);
    n += total;
    memcpy(req + n, "\r\n0\r\n\r\n", 7);
    n += 7;
    hf_http_raw(f->http[r->node], req, n, 20000, &h);
    free(req);
    snprintf(text, cap, "%s\n%s", h.head, h.body ? (char *)h.body : "");
    hf_http_free(&h);
    return h.status;
}

/* A range past the end: 416 with Content-Range: bytes * / size. */
static int fn_range_past_end(fx_t *f, const row_t *r, char *text, size_t cap)
{
    char path[200], auth[2048], t[DSUIT_TOKEN_TEXT_MAX], cr[80], want[80];
    hf_http_t h;
    int st;
    snprintf(path, sizeof path, "/v1/device/fw/img/%s", f->img1.hex);
    token(PSK_A, PSK_A_K, "n0", "GET", path, 0, t, sizeof t);
    snprintf(auth, sizeof auth,
             "Authorization: DSUIT %s\r\nRange: bytes=99999999-\r\n", t);
    st = hf_http(f->http[r->node], "GET", path, auth, NULL, 0, &h);
    snprintf(want, sizeof want, "bytes */%u", IMG_SIZE);
    if (!hf_http_header(&h, "Content-Range", cr, sizeof cr))
        cr[0] = '\0';
    snprintf(text, cap, "%s (Content-Range '%s', want '%s')",
             h.body ? (char *)h.body : "", cr, want);
    if (strcmp(cr, want) != 0)
        st = -st;
    hf_http_free(&h);
    return st;
}

/* Replay the acme registration: accepted as pending, but applied once. */
static int fn_replay(fx_t *f, const row_t *r, char *text, size_t cap)
{
    uint64_t t0 = cl_now_ms(), h = 0;
    long st = cl_submit(&f->cl, r->node, f->acme_tx, f->acme_tx_len);
    cl_tx_state_t s;
    /* Until it left the pool again (its block decided it). */
    do {
        cl_sleep_ms(50);
        s = cl_tx_state(&f->cl, r->node, f->acme_tx_id, &h, NULL);
    } while (s == CL_TX_PENDING && cl_now_ms() - t0 < 5000);
    snprintf(text, cap,
             "submit %ld, then state %d at height %llu (applied "
             "at %llu)",
             st, (int)s, (unsigned long long)h,
             (unsigned long long)f->acme_tx_height);
    if (st != 202)
        return (int)st;
    if ((s != CL_TX_COMMITTED && s != CL_TX_CERTIFIED) ||
        h != f->acme_tx_height)
        return -202; /* applied again, or its record was overwritten */
    return 202;
}

/* Plain CoAP: a report is refused without credentials (4.01). */

#define TXH "Content-Type: application/cbor\r\n"

static const row_t rows[] = {
    /* ---- HTTP: transactions ---- */
    {"tx: empty body", K_HTTP, 0, "POST", "/v1/tx", TXH, B_EMPTY, .want = 400,
     .frag = "bad-encoding"},
    {"tx: not CBOR", K_HTTP, 1, "POST", "/v1/tx", TXH, B_TEXT, .want = 400,
     .frag = "bad-encoding"},
    {"tx: truncated CBOR", K_HTTP, 2, "POST", "/v1/tx", TXH, B_TX_TRUNC,
     .want = 400, .frag = "bad-encoding"},
    {"tx: one trailing byte", K_HTTP, 0, "POST", "/v1/tx", TXH, B_TX_TRAILING,
     .want = 400, .frag = "bad-encoding"},
    {"tx: bstr header claiming 2^32-1 bytes", K_HTTP, 1, "POST", "/v1/tx", TXH,
     B_TX_HUGE32, .want = 400, .frag = "bad-encoding"},
    {"tx: bstr header claiming 2^64-1 bytes", K_HTTP, 2, "POST", "/v1/tx", TXH,
     B_TX_HUGE64, .want = 400, .frag = "bad-encoding"},
    {"tx: wrong types [1, \"x\"]", K_HTTP, 0, "POST", "/v1/tx", TXH, B_TX_TYPES,
     .want = 400, .frag = "bad-encoding"},
    {"tx: 100,000 nested arrays", K_HTTP, 1, "POST", "/v1/tx", TXH, B_TX_NESTED,
     .want = 400, .frag = "bad-encoding"},
    {"tx: signed for another chain", K_HTTP, 2, "POST", "/v1/tx", TXH,
     B_TX_OTHER_CHAIN, .want = 400, .frag = "wrong-chain"},
    {"tx: author name not UTF-8", K_HTTP, 0, "POST", "/v1/tx", TXH,
     B_TX_BAD_UTF8, .want = 400, .frag = "bad-encoding"},
    {"tx: replayed (already applied)", K_FN, 1, .fn = fn_replay, .want = 202,
     .frag = "state 3", .flags = DUP_OK},
    {"tx: Content-Length 17,000,000 (limit 16 MiB)", K_FN, 2,
     .fn = fn_oversized, .want = 413, .frag = "too-large"},
    {"tx: chunked body growing past 16 MiB", K_FN, 0,
     .fn = fn_oversized_chunked, .want = -1, .want_alt = 413},
    {"tx: Content-Length: abc", K_HTTP, 1, "POST", "/v1/tx",
     TXH "Content-Length: abc\r\n", B_NONE, .want = 400},
    {"tx: Content-Length past 2^64", K_HTTP, 2, "POST", "/v1/tx",
     TXH "Content-Length: 99999999999999999999999\r\n", B_NONE, .want = 400,
     .want_alt = 413},
    {"tx: DELETE /v1/tx", K_HTTP, 0, "DELETE", "/v1/tx", NULL, B_NONE,
     .want = 405, .frag = "method-not-allowed"},

    /* ---- HTTP: names and paths ---- */
    {"GET /v1/images/../../etc/passwd", K_HTTP, 0, "GET",
     "/v1/images/../../etc/passwd", NULL, B_NONE, .want = 400,
     .frag = "64 hex"},
    {"GET /v1/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd", K_HTTP, 1, "GET",
     "/v1/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd", NULL, B_NONE, .want = 400,
     .frag = "64 hex"},
    {"GET /v1/tx/../../../../etc/passwd", K_HTTP, 2, "GET",
     "/v1/tx/../../../../etc/passwd", NULL, B_NONE, .want = 400,
     .frag = "64 hex"},
    {"GET /v1/proof/..%2f..%2fstore", K_HTTP, 0, "GET",
     "/v1/proof/..%2f..%2fstore", NULL, B_NONE, .want = 400, .frag = "64 hex"},
    {"GET /v1/blocks/2^64 (overflow)", K_HTTP, 1, "GET",
     "/v1/blocks/18446744073709551616", NULL, B_NONE, .want = 404,
     .want_alt = 400},
    {"GET /v1/manifests?vendor=%ff%fe", K_HTTP, 2, "GET",
     "/v1/manifests?vendor=%ff%fe&class=..%2f..", NULL, B_NONE, .want = 400,
     .frag = "UUID"},
    {"PUT /v1/uploads/../../../../tmp/x/0", K_HTTP, 0, "PUT",
     "/v1/uploads/../../../../tmp/x/0", NULL, B_EMPTY, .want = 404,
     .frag = "no such upload"},
    {"GET /internal/v1/chunks/../../etc/passwd (unsigned)", K_HTTP, 1, "GET",
     "/internal/v1/chunks/../../etc/passwd", NULL, B_NONE, .want = 403,
     .frag = "forbidden"},
    {"POST /internal/v1/votes, forged X-Dsuit-Node", K_HTTP, 2, "POST",
     "/internal/v1/votes",
     TXH "X-Dsuit-Node: 0\r\nX-Dsuit-Time: 1\r\nX-Dsuit-Sig: AAAA\r\n", B_VOTE,
     .want = 403, .frag = "forbidden"},
    {"GET with a 40,000-byte path", K_HTTP, 0, "GET", NULL, NULL, B_NONE,
     .want = 414, .want_alt = 431},

    /* ---- HTTP: publishing ---- */
    {"publish: empty body", K_HTTP, 1, "POST", "/v1/publish", TXH, B_EMPTY,
     .want = 400, .frag = "bad-encoding"},
    {"publish: truncated envelope", K_HTTP, 2, "POST", "/v1/publish", TXH,
     B_ENV_TRUNC, .want = 400},
    {"publish: manifest bstr claiming 2^32-1 bytes", K_HTTP, 0, "POST",
     "/v1/publish", TXH, B_ENV_HUGE32, .want = 400},
    {"publish: envelope with a bad signature", K_HTTP, 1, "POST", "/v1/publish",
     TXH, B_ENV_BAD_SIG, .want = 403, .frag = "bad-signature"},
    {"publish: a tx as the envelope", K_HTTP, 2, "POST", "/v1/publish", TXH,
     B_TX_REPLAY, .want = 400},
    {"upload: image 1 byte shorter than the manifest says", K_FN, 0,
     .fn = fn_upload_short, .want = 400, .frag = "image-size"},
    {"upload: right size, other bytes", K_FN, 1, .fn = fn_upload_other,
     .want = 400, .frag = "image-digest"},
    {"upload: chunked body longer than the manifest says", K_FN, 2,
     .fn = fn_upload_long_chunked, .want = -1, .want_alt = 400},

    /* ---- HTTP: the device routes ---- */
    {"device: no Authorization", K_HTTP, 0, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_NONE, .want = 401,
     .frag = "Authorization"},
    {"device: Authorization: Bearer", K_HTTP, 1, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_BEARER, .want = 401},
    {"device: token not base64", K_HTTP, 2, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_GARBAGE, .want = 401,
     .frag = "does not parse"},
    {"device: token for another node", K_HTTP, 0, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_OTHER_NODE, .want = 401,
     .frag = "another node"},
    {"device: token for another request", K_HTTP, 1, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_OTHER_PATH, .want = 401,
     .frag = "another node or request"},
    {"device: token made 2 minutes ago", K_HTTP, 2, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_STALE, .want = 401,
     .frag = "too old"},
    {"device: token from 2 minutes ahead", K_HTTP, 0, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_FUTURE, .want = 401,
     .frag = "future"},
    {"device: token of an unknown identity", K_HTTP, 1, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_UNKNOWN_ID, .want = 401,
     .frag = "does not verify"},
    {"device: token MACed with another key", K_HTTP, 2, "GET",
     "/v1/device/fw/{V}/{C}/latest", NULL, B_NONE, T_WRONG_KEY, .want = 401,
     .frag = "does not verify"},
    {"device: token used twice", K_FN, 0, .fn = fn_token_replay, .want = 401,
     .frag = "used already"},
    {"device: GET fw/img/../../../etc/passwd", K_HTTP, 0, "GET",
     "/v1/device/fw/img/../../../etc/passwd", NULL, B_NONE, T_SELF, .want = 400,
     .frag = "64 hex"},
    {"device: latest with ids that are not UUIDs", K_HTTP, 1, "GET",
     "/v1/device/fw/../../../../../../../../../../../.../{C}/latest", NULL,
     B_NONE, T_SELF, .want = 400, .frag = "UUIDs"},
    {"device: Range: bytes=5-1", K_HTTP, 2, "GET", "/v1/device/fw/img/{IMG}",
     "Range: bytes=5-1\r\n", B_NONE, T_SELF, .want = 200, .flags = WHOLE_IMAGE},
    {"device: Range: bytes=abc", K_HTTP, 0, "GET", "/v1/device/fw/img/{IMG}",
     "Range: bytes=abc\r\n", B_NONE, T_SELF, .want = 200, .flags = WHOLE_IMAGE},
    {"device: Range: bytes=0-2^64 (overflow)", K_HTTP, 1, "GET",
     "/v1/device/fw/img/{IMG}", "Range: bytes=0-18446744073709551616\r\n",
     B_NONE, T_SELF, .want = 200, .flags = WHOLE_IMAGE},
    {"device: Range: bytes=-0", K_HTTP, 2, "GET", "/v1/device/fw/img/{IMG}",
     "Range: bytes=-0\r\n", B_NONE, T_SELF, .want = 416,
     .frag = "range-not-satisfiable"},
    {"device: Range: bytes=99999999- (past the end)", K_FN, 0,
     .fn = fn_range_past_end, .want = 416, .frag = "want 'bytes */"},
    {"device: report not CBOR", K_HTTP, 1, "POST", "/v1/device/fw/report", TXH,
     B_TEXT, T_SELF, .want = 400},
    {"device: report result not UTF-8", K_HTTP, 2, "POST",
     "/v1/device/fw/report", TXH, B_REPORT_BAD_UTF8, T_SELF, .want = 400},
    {"device: report bstr claiming 2^32-1 bytes", K_HTTP, 0, "POST",
     "/v1/device/fw/report", TXH, B_REPORT_HUGE32, T_SELF, .want = 400},
    {"device: report result of 300 bytes", K_HTTP, 1, "POST",
     "/v1/device/fw/report", TXH, B_REPORT_LONG, T_SELF, .want = 400},
    {"device: report with wrong types", K_HTTP, 2, "POST",
     "/v1/device/fw/report", TXH, B_REPORT_TYPES, T_SELF, .want = 400},
    {"device: GET fw/report", K_HTTP, 0, "GET", "/v1/device/fw/report", NULL,
     B_NONE, T_SELF, .want = 405},

    /* ---- CoAP over DTLS (PSK device A) ---- */
    {"coaps: report not CBOR", K_COAPS, 0, "POST", "/fw/report", NULL, B_TEXT,
     .want = 400},
    {"coaps: report result not UTF-8", K_COAPS, 1, "POST", "/fw/report", NULL,
     B_REPORT_BAD_UTF8, .want = 400},
    {"coaps: report bstr claiming 2^32-1 bytes", K_COAPS, 2, "POST",
     "/fw/report", NULL, B_REPORT_HUGE32, .want = 400},
    {"coaps: report with a 5000-byte SUIT report", K_COAPS, 0, "POST",
     "/fw/report", NULL, B_REPORT_BIG, .want = 400},
    /* The device's client sends paths of up to 255 bytes (longer ones are
     * refused before sending): the longest, with a digest that is not. */
    {"coaps: a 255-byte path (the client's limit)", K_COAPS, 1, "GET",
     "/fw/img/{L247}", NULL, B_NONE, .want = 400, .frag = "64 hex"},
    {"coaps: GET fw/img/../../../etc/passwd", K_COAPS, 2, "GET",
     "/fw/img/../../../etc/passwd", NULL, B_NONE, .want = 400,
     .frag = "64 hex"},
    {"coaps: GET fw/proof/ with 63 hex digits", K_COAPS, 0, "GET",
     "/fw/proof/0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
     "bcde",
     NULL, B_NONE, .want = 400},
    {"coaps: unknown resource", K_COAPS, 1, "GET", "/fw/../../device-keys",
     NULL, B_NONE, .want = 404},

    /* ---- plain CoAP (n2's --coap-plain-port) ----
     * RFC 7252 §5.8: an unrecognized or unsupported method code gets
     * 4.05; RFC 8132 adds FETCH, which the service does not support. */
    {"coap: a path of 309 bytes in 7 segments", K_COAP, 2, "GET", "/fw/{LONGP}",
     NULL, B_NONE, .want = 400, .flags = PLAIN_CHECK},
    /* RFC 7252 §5.10: Uri-Path is 0-255 bytes; a longer one is a bad
     * critical option: 4.02, or the message is rejected (reset). */
    {"coap: one Uri-Path option of 300 bytes", K_COAP, 2, "GET", "/fw/{LONG}",
     NULL, B_NONE, .want = 0, .want_alt = 402, .flags = PLAIN_CHECK},
    /* libcoap 4.3.1 itself answers an unassigned code with 4.04 before
     * any handler sees it: accepted, though §5.8 asks for 4.05. */
    {"coap: unassigned method code 0.09", K_COAP, 2, "GET", "/fw/report", NULL,
     B_NONE, .code = 0x09, .want = 405, .want_alt = 404, .flags = PLAIN_CHECK},
    {"coap: PUT fw/report", K_COAP, 2, "PUT", "/fw/report", NULL, B_NONE,
     .code = 0x03, .want = 405, .flags = PLAIN_CHECK},
    {"coap: FETCH fw/report", K_COAP, 2, "FETCH", "/fw/report", NULL, B_NONE,
     .code = 0x05, .want = 405, .flags = PLAIN_CHECK},
    {"coap: a report without credentials", K_COAP, 2, "POST", "/fw/report",
     NULL, B_REPORT_OK, .want = 401, .flags = PLAIN_CHECK},
    {"coap: GET fw/img/../../../etc/passwd", K_COAP, 2, "GET",
     "/fw/img/../../../etc/passwd", NULL, B_NONE, .want = 400,
     .flags = PLAIN_CHECK},

    /* ---- raw datagrams to the DTLS port ---- */
    {"dtls: 300 random bytes", K_UDP, 0, .body = B_TEXT, .code = 300,
     .want = -1},
    {"dtls: a truncated ClientHello", K_UDP, 1, .body = B_TX_TRUNC, .want = -1,
     .want_alt = 22},
    {"dtls: a plain CoAP GET to the DTLS port", K_UDP, 2, .body = B_NONE,
     .want = -1},

    /* ---- the dsuit program ---- */
    {"cli: device provision --id ../x", K_CLI, 0,
     .argv = {"device", "provision", "--data", "{D0}", "--id", "../x",
              "--vendor-domain", DOMAIN_A, "--class", CLASS, NULL},
     .want = 2, .frag = "'--id' needs"},
    {"cli: device provision --id a/b", K_CLI, 0,
     .argv = {"device", "provision", "--data", "{D0}", "--id", "a/b",
              "--vendor-domain", DOMAIN_A, "--class", CLASS, NULL},
     .want = 2, .frag = "'--id' needs"},
    {"cli: device provision --id not UTF-8", K_CLI, 0,
     .argv = {"device", "provision", "--data", "{D0}", "--id", "x\xff\xfe",
              "--vendor-domain", DOMAIN_A, "--class", CLASS, NULL},
     .want = 2, .frag = "'--id' needs"},
    {"cli: device provision --id of 65 characters", K_CLI, 0,
     .argv =
         {"device", "provision", "--data", "{D0}", "--id",
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "--vendor-domain", DOMAIN_A, "--class", CLASS, NULL},
     .want = 2, .frag = "'--id' needs"},
    {"cli: device provision --key zz", K_CLI, 0,
     .argv = {"device", "provision", "--data", "{D0}", "--id", "ok-id",
              "--vendor-domain", DOMAIN_A, "--class", CLASS, "--key", "zz",
              NULL},
     .want = 2},
    {"cli: device provision --data into a missing folder", K_CLI, 0,
     .argv = {"device", "provision", "--data", "{R}/missing/dir", "--id",
              "ok-id", "--vendor-domain", DOMAIN_A, "--class", CLASS, NULL},
     .want = 1, .frag = "missing/dir"},
    {"cli: keygen --out into a missing folder", K_CLI, 0,
     .argv = {"keygen", "--alg", "es256", "--out", "{R}/missing/dir/k", NULL},
     .want = 1, .frag = "missing/dir"},
    {"cli: author register -o into a missing folder", K_CLI, 0,
     .argv = {"author", "register", "-o", "{R}/missing/dir/x.tx", "--genesis",
              "{G}", "--registrar-key", "{RK0}", "--registrar-key", "{RK1}",
              "--author-pub", "{APUB}", "--name", "x", "--vendor-domain",
              DOMAIN_A, "--class", CLASS, NULL},
     .want = 1, .frag = "missing/dir"},
    {"cli: tx show of a truncated tx", K_CLI, 0,
     .argv = {"tx", "show", "{TRUNC}", NULL}, .want = 3},
    {"cli: tx submit of a truncated tx", K_CLI, 0,
     .argv = {"tx", "submit", "--node", "{H0}", "{TRUNC}", NULL}, .want = 3},
    {"cli: key show of a COSE_Key claiming 2^32-1 bytes", K_CLI, 0,
     .argv = {"key", "show", "{HUGEKEY}", NULL}, .want = 3},
    {"cli: publish of an envelope with a bad signature", K_CLI, 0,
     .argv = {"publish", "--node", "{H0}", "--manifest", "{BAD}", "--image",
              "{SHORT}", NULL},
     .want = 3, .frag = "bad-signature"},
    {"cli: publish with an image whose size is not the manifest's", K_CLI, 0,
     .argv = {"publish", "--node", "{H0}", "--manifest", "{SUIT2}", "--image",
              "{SHORT}", NULL},
     .want = 2, .frag = "no --image matches"},
};

#define N_ROWS (sizeof rows / sizeof rows[0])

/* The 40,000-byte path row builds its path here (the table holds NULL). */
static const char *long_path(void)
{
    static char p[40001];
    if (p[0] == '\0') {
        memcpy(p, "/v1/images/", 11);
        memset(p + 11, 'a', sizeof p - 12);
        p[sizeof p - 1] = '\0';
    }
    return p;
}

static void
malformed_and_malicious_inputs_are_refused_and_store_nothing(void **state)
{
    fx_t *f = *state;
    uint64_t t_all = cl_now_ms();
    size_t bad = 0;
    begin(f);
    printf("# %-3s %-58s %-9s %s\n", "row", "input", "answer", "want");
    for (size_t k = 0; k < N_ROWS; k++) {
        row_t r = rows[k];
        static char text[OUT_CAP];
        snap_t before;
        int got, ok;
        uint64_t t0 = cl_now_ms();
        if (r.kind == K_HTTP && r.path == NULL)
            r.path = long_path();
        snap(f, &before);
        got = run_row(f, &r, text, sizeof text);
        ok = (got == r.want || (r.want_alt != 0 && got == r.want_alt)) &&
             (r.frag == NULL || strstr(text, r.frag) != NULL);
        {
            char want[24];
            if (r.want_alt != 0)
                snprintf(want, sizeof want, "%d|%d", r.want, r.want_alt);
            else
                snprintf(want, sizeof want, "%d", r.want);
            printf("# %-3zu %-58.58s %-9d %s%s%s (%.2f s)\n", k + 1, r.label,
                   got, want, r.frag ? " " : "", r.frag ? r.frag : "",
                   secs_since(t0));
        }
        if (!ok) {
            printf("#     MISMATCH, answer: %.600s\n", text);
            bad++;
        }
        assert_all_up(f, r.label);
        assert_nothing_stored(f, &before, r.label, r.flags);
        {
            /* The command-line rows aim into ROOT/missing/dir: nothing
             * may have made it. */
            char missing[400];
            snprintf(missing, sizeof missing, "%s/missing", f->cl.root);
            if (access(missing, F_OK) == 0)
                fail_msg("%s: %s was created", r.label, missing);
        }
        if (r.kind == K_COAPS || r.kind == K_UDP || r.kind == K_COAP)
            assert_device_service(f, r.kind == K_COAP ? PLAIN_NODE : r.node,
                                  r.label);
        if (r.flags & PLAIN_CHECK) {
            uint8_t msg[512], ans[512];
            char p[160];
            hf_coap_t m;
            long al;
            size_t n;
            snprintf(p, sizeof p, "/fw/%s/%s/latest", f->vendor_a, f->class_a);
            n = hf_coap_build(0x01, 0x4242, p, -1, NULL, 0, msg, sizeof msg);
            al = hf_udp(f->plain, msg, n, 2000, ans, sizeof ans);
            if (al < 0 || hf_coap_parse(ans, (size_t)al, &m) != 0 ||
                m.code != 205)
                fail_msg("%s: plain CoAP no longer serves latest", r.label);
        }
    }
    printf("# timing: %zu rows in %.2f s\n", N_ROWS, secs_since(t_all));
    if (bad != 0)
        fail_msg("%zu of %zu rows got another answer than expected (MISMATCH "
                 "above)",
                 bad, N_ROWS);
    passed(f);
}

/* ---- 2. security refusals --------------------------------------------------
 */

/* POST /v1/publish of an envelope file: status, error code into err. */
static long post_publish(fx_t *f, size_t node, const char *suit, char *err,
                         size_t cap)
{
    static const char *const ct[] = {"Content-Type: application/cbor", NULL};
    static uint8_t env[1 << 16];
    size_t el = read_bytes(suit, env, sizeof env), bl = 0;
    uint8_t *b = NULL;
    long st =
        cl_http(&f->cl, node, "POST", "/v1/publish", ct, env, el, &b, &bl);
    json_t *j = b ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
    const char *e = json_string_value(json_object_get(j, "error"));
    snprintf(err, cap, "%s", e ? e : "");
    json_decref(j);
    free(b);
    return st;
}

/* Both ways in refuse the envelope: `dsuit publish` exits 3 naming
 * error, POST /v1/publish answers status with error; nothing stored. */
static void assert_publish_refused(fx_t *f, const char *label, const char *suit,
                                   const char *image, long status,
                                   const char *error)
{
    char out[OUT_CAP], err[64];
    snap_t before;
    long st;
    int rc;
    snap(f, &before);
    rc = publish(f, 1, suit, image, out, sizeof out);
    if (rc != 3 || strstr(out, error) == NULL)
        fail_msg("%s: dsuit publish exited %d, expected 3 naming %s:\n%s",
                 label, rc, error, out);
    st = post_publish(f, 2, suit, err, sizeof err);
    if (st != status || strcmp(err, error) != 0)
        fail_msg("%s: POST /v1/publish answered %ld %s, expected %ld %s", label,
                 st, err, status, error);
    printf("# refused: %-34s exit 3, HTTP %ld %s\n", label, st, err);
    assert_all_up(f, label);
    assert_nothing_stored(f, &before, label, 0);
}

static void unregistered_author_cannot_publish(void **state)
{
    fx_t *f = *state;
    author_t stranger;
    char suit[400];
    begin(f);
    make_author(f, "stranger", &stranger);
    make_manifest(f, &stranger, DOMAIN_A, 9, &f->img2, "stranger.suit", suit,
                  sizeof suit);
    assert_publish_refused(f, "unregistered author", suit, f->img2.path, 403,
                           "unknown-author");
    passed(f);
}

static void revoked_author_cannot_publish(void **state)
{
    fx_t *f = *state;
    author_t rev;
    char suit[400], txfile[400], out[OUT_CAP];
    int rc;
    begin(f);
    make_author(f, "revoked", &rev);
    snprintf(txfile, sizeof txfile, "%s/revoked.tx", f->cl.root);
    register_author(f, &rev, "revoked.example", txfile);
    {
        const char *args[] = {"author",
                              "revoke",
                              "--node",
                              f->cl.base[1],
                              "--genesis",
                              f->genesis,
                              "--registrar-key",
                              f->rk[1],
                              "--registrar-key",
                              f->rk[2],
                              "--author-pub",
                              rev.pub,
                              "--reason",
                              "key leaked",
                              "--timeout",
                              "30",
                              NULL};
        rc = run(f, args, out, sizeof out);
        if (rc != 0 || strstr(out, "status: certified") == NULL)
            fail_msg("dsuit author revoke exited %d:\n%s", rc, out);
    }
    make_manifest(f, &rev, "revoked.example", 1, &f->img2, "revoked.suit", suit,
                  sizeof suit);
    assert_publish_refused(f, "revoked author", suit, f->img2.path, 403,
                           "revoked-author");
    passed(f);
}

static void registration_below_registrar_threshold_is_refused(void **state)
{
    fx_t *f = *state;
    author_t below;
    char suit[400], txfile[400], out[OUT_CAP], idh[65];
    uint8_t tx[4096], *b = NULL;
    size_t tl, bl = 0;
    dsuit_tx_t t;
    snap_t before;
    long st;
    int rc;
    json_t *j;

    begin(f);
    make_author(f, "below", &below);
    snprintf(txfile, sizeof txfile, "%s/below.tx", f->cl.root);
    registration_tx(f, &below, "below.example", 1, txfile); /* 1 of 2 */
    tl = read_bytes(txfile, tx, sizeof tx);
    assert_int_equal(dsuit_tx_decode(tx, tl, &t), DSUIT_OK);
    assert_int_equal(t.n_sigs, 1);
    cl_hex(t.id, 32, idh);

    snap(f, &before);
    rc = submit_tx(f, 2, txfile, out, sizeof out);
    if (rc != 3 || strstr(out, "below-threshold") == NULL)
        fail_msg("tx submit of a 1-of-2 registration exited %d, expected 3 "
                 "with below-threshold:\n%s",
                 rc, out);
    {
        char path[100];
        snprintf(path, sizeof path, "/v1/tx/%s", idh);
        st = cl_http(&f->cl, 0, "GET", path, NULL, NULL, 0, &b, &bl);
        j = b ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
        free(b);
        if (st != 200 ||
            strcmp(json_string_value(json_object_get(j, "status"))
                       ? json_string_value(json_object_get(j, "status"))
                       : "",
                   "invalid") != 0 ||
            json_string_value(json_object_get(j, "result")) == NULL ||
            strcmp(json_string_value(json_object_get(j, "result")),
                   "below-threshold") != 0)
            fail_msg("GET %s answered %ld, not invalid below-threshold", path,
                     st);
        json_decref(j);
    }
    printf("# refused: %-34s exit 3, tx invalid below-threshold\n",
           "registration with 1 of 2 registrars");
    assert_all_up(f, "below threshold");
    assert_nothing_stored(f, &before, "below threshold", INVALID_OK);

    /* The author it would have registered cannot publish. */
    make_manifest(f, &below, "below.example", 1, &f->img2, "below.suit", suit,
                  sizeof suit);
    assert_publish_refused(f, "author registered below threshold", suit,
                           f->img2.path, 403, "unknown-author");
    passed(f);
}

static void rollback_to_a_published_sequence_number_is_refused(void **state)
{
    fx_t *f = *state;
    char suit[400];
    begin(f);
    /* Sequence 1 is published: the same number with another image. */
    make_manifest(f, &f->acme, DOMAIN_A, 1, &f->img2, "rollback-1.suit", suit,
                  sizeof suit);
    assert_publish_refused(f, "rollback to the same sequence", suit,
                           f->img2.path, 409, "rollback");
    make_manifest(f, &f->acme, DOMAIN_A, 0, &f->img2, "rollback-0.suit", suit,
                  sizeof suit);
    assert_publish_refused(f, "rollback to a lower sequence", suit,
                           f->img2.path, 409, "rollback");
    passed(f);
}

static void device_without_credentials_is_refused(void **state)
{
    fx_t *f = *state;
    char path[200], diag[256], auth[2048], t[DSUIT_TOKEN_TEXT_MAX];
    uint8_t msg[512], ans[512];
    snap_t before;
    hf_http_t h;
    size_t n;
    long al;
    int code;

    begin(f);
    snap(f, &before);
    snprintf(path, sizeof path, "/fw/%s/%s/latest", f->vendor_a, f->class_a);
    /* CoAP: an identity no keystore holds; the right identity, wrong key;
     * no DTLS at all. */
    code = coaps(f, 0, "nobody-0001", PSK_A_K, "GET", path, NULL, 0, diag,
                 sizeof diag, NULL);
    if (code != -1)
        fail_msg("an unknown PSK identity was answered %d %s", code, diag);
    code = coaps(f, 1, PSK_A, PSK_B_K, "GET", path, NULL, 0, diag, sizeof diag,
                 NULL);
    if (code != -1)
        fail_msg("a wrong PSK was answered %d %s", code, diag);
    n = hf_coap_build(0x01, 0x77, path, -1, NULL, 0, msg, sizeof msg);
    al = hf_udp(f->coap[2], msg, n, 1000, ans, sizeof ans);
    if (al >= 0 && ans[0] != 21)
        fail_msg("plain CoAP to the DTLS port was answered (%ld bytes, "
                 "first %u)",
                 al, (unsigned)ans[0]);
    printf("# refused: %-34s at the DTLS handshake\n",
           "unknown identity, wrong key, no DTLS");

    /* HTTP: the device route without a token, with a token of a device
     * with another key. */
    snprintf(path, sizeof path, "/v1/device/fw/img/%s", f->img1.hex);
    hf_http(f->http[0], "GET", path, NULL, NULL, 0, &h);
    if (h.status != 401 || h.body == NULL ||
        strstr((char *)h.body, "unauthorized") == NULL)
        fail_msg("GET %s without a token answered %d %s", path, h.status,
                 h.body ? (char *)h.body : "");
    hf_http_free(&h);
    token(PSK_A, PSK_B_K, "n0", "GET", path, 0, t, sizeof t);
    snprintf(auth, sizeof auth, "Authorization: DSUIT %s\r\n", t);
    hf_http(f->http[0], "GET", path, auth, NULL, 0, &h);
    if (h.status != 401)
        fail_msg("GET %s with a token MACed with another key answered %d", path,
                 h.status);
    hf_http_free(&h);
    printf("# refused: %-34s HTTP 401\n", "no token, wrong token");

    /* Plain CoAP may read, but not report (4.01). */
    {
        uint8_t rep[64], *p = NULL;
        size_t rl = make_body(f, B_REPORT_OK, &p);
        hf_coap_t m;
        assert_true(rl < sizeof rep);
        memcpy(rep, p, rl);
        free(p);
        n = hf_coap_build(0x02, 0x78, "/fw/report", DSUIT_COAP_CF_CBOR, rep, rl,
                          msg, sizeof msg);
        al = hf_udp(f->plain, msg, n, 2000, ans, sizeof ans);
        if (al < 0 || hf_coap_parse(ans, (size_t)al, &m) != 0 || m.code != 401)
            fail_msg("a report over plain CoAP was not answered 4.01");
    }
    assert_all_up(f, "unauthenticated device");
    assert_nothing_stored(f, &before, "unauthenticated device", 0);
    for (size_t i = 0; i < N_NODES; i++)
        assert_device_service(f, i, "unauthenticated device");
    passed(f);
}

static void device_of_another_vendor_is_forbidden(void **state)
{
    fx_t *f = *state;
    char paths[3][200], diag[256];
    snap_t before;
    begin(f);
    snap(f, &before);
    snprintf(paths[0], sizeof paths[0], "/fw/%s/%s/latest", f->vendor_a,
             f->class_a);
    snprintf(paths[1], sizeof paths[1], "/fw/proof/%s", f->mdigest1);
    snprintf(paths[2], sizeof paths[2], "/fw/img/%s", f->img1.hex);
    for (size_t k = 0; k < 3; k++) {
        char hp[700], auth[2048], t[DSUIT_TOKEN_TEXT_MAX], node[8];
        hf_http_t h;
        size_t i = k % N_NODES;
        size_t got = 0;
        /* Device B (other.example) asks for acme's firmware. */
        int code = coaps(f, i, PSK_B, PSK_B_K, "GET", paths[k], NULL, 0, diag,
                         sizeof diag, &got);
        if (code != 403 || got != 0)
            fail_msg("device B: CoAP GET %s on n%zu answered %d (%zu body "
                     "bytes) %s, expected 4.03",
                     paths[k], i, code, got, diag);
        snprintf(hp, sizeof hp, "/v1/device%s", paths[k]);
        snprintf(node, sizeof node, "n%zu", i);
        token(PSK_B, PSK_B_K, node, "GET", hp, 0, t, sizeof t);
        snprintf(auth, sizeof auth, "Authorization: DSUIT %s\r\n", t);
        hf_http(f->http[i], "GET", hp, auth, NULL, 0, &h);
        if (h.status != 403 || h.body == NULL ||
            strstr((char *)h.body, "forbidden") == NULL)
            fail_msg("device B: HTTP GET %s on n%zu answered %d %s, expected "
                     "403",
                     hp, i, h.status, h.body ? (char *)h.body : "");
        hf_http_free(&h);
        printf("# refused: device B %-26.26s CoAP 4.03, HTTP 403\n", paths[k]);
        /* Device A is served the same resource. */
        code = coaps(f, i, PSK_A, PSK_A_K, "GET", paths[k], NULL, 0, diag,
                     sizeof diag, &got);
        if (code != 205 || got == 0)
            fail_msg("device A: CoAP GET %s on n%zu answered %d %s", paths[k],
                     i, code, diag);
    }
    assert_all_up(f, "cross-vendor");
    assert_nothing_stored(f, &before, "cross-vendor", 0);
    passed(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            malformed_and_malicious_inputs_are_refused_and_store_nothing),
        cmocka_unit_test(unregistered_author_cannot_publish),
        cmocka_unit_test(revoked_author_cannot_publish),
        cmocka_unit_test(registration_below_registrar_threshold_is_refused),
        cmocka_unit_test(rollback_to_a_published_sequence_number_is_refused),
        cmocka_unit_test(device_without_credentials_is_refused),
        cmocka_unit_test(device_of_another_vendor_is_forbidden),
    };
    const char *filter = getenv("DSUIT_TEST_FILTER");
    if (filter != NULL && filter[0] != '\0')
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name("system.hostile", tests, group_setup,
                                       group_teardown);
}
