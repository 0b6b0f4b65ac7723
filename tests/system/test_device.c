/*
 * System tests of the device service (docs/protocols.md) on a 4-node
 * devnet of real `dsuit node run` processes (tests/helpers/cluster.h),
 * with real devices: `dsuit device once|run` over CoAP/DTLS, and Debian's
 * coap-client-gnutls as an independent client. One cluster serves every
 * test (group setup): an author registered for acme.example/sensor,
 * sequence 1 published (a 200 KiB image), then sequence 2 (1 MiB) by the
 * Observe test, or by whichever test needs it first.
 *
 *   1. a PSK device and an RPK device (registered by the author) update
 *      to the published firmware, the slot byte-identical to the image;
 *   2. `device run --observe --interval 600` installs a second publish on
 *      the notification, then stops on SIGTERM with exit 0;
 *   3. an unknown PSK identity, a wrong PSK, an unregistered raw public
 *      key: refused at the handshake (exit 1, nothing installed), and so
 *      for coap-client-gnutls;
 *   4. a device of vendor B asking for vendor A's firmware: 4.03;
 *   5. a lying proxy replays the sequence-1 envelope to a device at 2:
 *      rollback refused;
 *   6. a lying proxy (DTLS terminated here, with the device's PSK; the
 *      real answers fetched from a real node as that device) flips a byte
 *      in the manifest, the proof or an image block: refused, and the real
 *      node listed after it serves the update;
 *   7. kill -9 mid-download, three times: each restart resumes, the last
 *      one installs the right image;
 *   8. coap-client-gnutls fetches the image block-wise with a PSK;
 *   9. the node lists the device's report at GET /v1/devices.
 *
 * Every wait is bounded; timings are printed ("# timing ..."). A failing
 * run keeps its cluster folder (node logs in nI/node.log, device output
 * in dev-*). DSUIT_TEST_FILTER (a cmocka pattern) runs only some tests;
 * each test publishes what it needs if an earlier one did not.
 */
/* strdup and POSIX I/O beyond C11. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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
#include "device_fixture.h"
#include "dsuit/cbor.h"
#include "dsuit/crypto.h"
#include "net/coap/client.h"
#include "net/coap/server.h"

#define HEARTBEAT_MS 500
#define KIB          1024u
#define MIB          (1024u * 1024u)
#define SMALL_SIZE   (200u * KIB + 77u) /* sequence 1: not whole blocks */
#define BIG_SIZE     MIB                /* sequence 2 and later */
#define OUT_CAP      16384
#define MAX_SEQ      8
#define N_NODES      4

#define DOMAIN_A "acme.example"
#define DOMAIN_B "other.example"
#define CLASS    "sensor"

/* The devices provisioned on every node. ASCII keys, so that
 * coap-client-gnutls -k (which takes the key as text) can use them. */
#define PSK_A     "sensor-a-0001"
#define PSK_A_KEY "dsuit-system-test-psk-a-0001"
#define PSK_B     "sensor-b-0001"
#define PSK_B_KEY "dsuit-system-test-psk-b-0001"

typedef struct {
    char path[400];
    uint64_t size;
    uint8_t digest[32];
    char hex[65];
} image_t;

typedef struct {
    cl_t cl;
    char genesis[400];
    char author_key[400], author_pub[400];
    char vendor_a[37], class_a[37], vendor_b[37], class_b[37];
    char node_uri[N_NODES][64]; /* coaps://127.0.0.1:PORT */
    image_t img[MAX_SEQ + 1];   /* by sequence number */
    char suit[MAX_SEQ + 1][400];
    char mdigest[MAX_SEQ + 1][65];
    uint64_t seq; /* newest published and certified */
    unsigned started, passed;
} fx_t;

/* ---- small things ------------------------------------------------------- */

static double secs_since(uint64_t t0)
{
    return (double)(cl_now_ms() - t0) / 1000.0;
}

static void hex_text(const char *s, char *out, size_t cap)
{
    assert_true(2 * strlen(s) < cap);
    cl_hex((const uint8_t *)s, strlen(s), out);
}

/* A test's own folder ROOT/dev-<name> (the device's state goes there). */
static void dev_dir(const fx_t *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/dev-%s", f->cl.root, name);
}

/* "KEY: VALUE" from text into out (up to the end of the line). */
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

static void make_image(const char *root, const char *name, uint64_t size,
                       image_t *img)
{
    uint8_t *b = malloc((size_t)size);
    char path[sizeof img->path];
    assert_non_null(b);
    snprintf(path, sizeof path, "%s/%s", root, name);
    memset(img, 0, sizeof *img);
    memcpy(img->path, path, sizeof path);
    img->size = size;
    assert_int_equal(dsuit_random(b, (size_t)size), DSUIT_OK);
    assert_int_equal(dsuit_sha256(b, (size_t)size, img->digest), DSUIT_OK);
    cl_hex(img->digest, 32, img->hex);
    assert_int_equal(df_write_file(img->path, b, (size_t)size), 0);
    free(b);
}

/* The slot a device's state names as active. */
static void active_slot(const char *state_dir, char *out, size_t cap)
{
    char a[8];
    if (df_state_field(state_dir, "active", a, sizeof a) != 0)
        fail_msg("%s/state has no 'active' line", state_dir);
    snprintf(out, cap, "%s/slot-%s.bin", state_dir, a);
}

/* The device is at sequence seq with exactly this image in its active
 * slot and this manifest recorded. */
static void assert_installed(const fx_t *f, const char *state_dir, uint64_t seq)
{
    char slot[500], m[80];
    assert_int_equal(df_state_u64(state_dir, "seq", 0), seq);
    active_slot(state_dir, slot, sizeof slot);
    if (!df_files_equal(slot, f->img[seq].path))
        fail_msg("%s is not the image of sequence %llu (%s)", slot,
                 (unsigned long long)seq, f->img[seq].path);
    assert_int_equal(df_state_field(state_dir, "manifest", m, sizeof m), 0);
    assert_string_equal(m, f->mdigest[seq]);
}

/* Nothing installed: no sequence number, no image byte in either slot. */
static void assert_nothing_installed(const char *state_dir)
{
    char p[500];
    struct stat sb;
    assert_int_equal(df_state_u64(state_dir, "seq", 0), 0);
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/slot-%c.bin", state_dir, "ab"[k]);
        if (stat(p, &sb) == 0 && sb.st_size != 0)
            fail_msg("%s holds %lld bytes", p, (long long)sb.st_size);
    }
}

/* A CoAP body, collected (dsuit_coap_body_fn). */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} grow_t;

static int collect(void *arg, uint64_t offset, const uint8_t *data, size_t len,
                   int last)
{
    grow_t *g = arg;
    (void)last;
    if (offset > g->len || offset + len > 4 * MIB)
        return DSUIT_E_LIMIT;
    if (offset + len > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        uint8_t *t;
        while (cap < offset + len)
            cap *= 2;
        t = realloc(g->p, cap);
        if (t == NULL)
            return DSUIT_E_NOMEM;
        g->p = t;
        g->cap = cap;
    }
    memcpy(g->p + offset, data, len);
    g->len = (size_t)offset + len; /* a restart at 0 cuts the rest */
    return DSUIT_OK;
}

/* ---- the dsuit program -------------------------------------------------- */

static int run_cli(const fx_t *f, const char *const *args, char *out,
                   size_t cap)
{
    return cl_run_cli(&f->cl, args, out, cap);
}

static void keygen(const fx_t *f, const char *name, char *key, char *pub,
                   size_t cap)
{
    char base[380], out[OUT_CAP];
    int rc;
    snprintf(base, sizeof base, "%s/%s", f->cl.root, name);
    assert_true(cap > strlen(base) + 4);
    snprintf(key, cap, "%s.key", base);
    snprintf(pub, cap, "%s.pub", base);
    const char *args[] = {"keygen", "--alg", "es256", "--out", base, NULL};
    rc = run_cli(f, args, out, sizeof out);
    if (rc != 0)
        fail_msg("dsuit keygen exited %d: %s", rc, out);
}

/* The number after `key` in text (e.g. "at height "). */
static uint64_t number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    unsigned long long v = 0;
    if (p == NULL || sscanf(p + strlen(key), "%llu", &v) != 1)
        fail_msg("no number after '%s' in: %s", key, text);
    return (uint64_t)v;
}

/* Every node has a certificate for height h: a command that waited for
 * one node's certificate says nothing of the others, and a device may
 * ask any of them. */
static void wait_certified(const fx_t *f, uint64_t h)
{
    uint64_t t0 = cl_now_ms();
    for (size_t i = 0; i < f->cl.n; i++) {
        cl_status_t st;
        while (cl_status(&f->cl, i, &st) != 0 || st.certified < h) {
            if (cl_now_ms() - t0 > 30000)
                fail_msg("n%zu has no certificate for height %llu 30 s on", i,
                         (unsigned long long)h);
            cl_sleep_ms(20);
        }
    }
}

/* Every node's device service serves sequence seq as latest (its ETag).
 * The table behind it follows the certified height on the node's loop. */
static void wait_served(const fx_t *f, uint64_t seq)
{
    char path[120];
    uint64_t t0 = cl_now_ms();
    snprintf(path, sizeof path, "/fw/%s/%s/latest", f->vendor_a, f->class_a);
    for (size_t i = 0; i < f->cl.n; i++) {
        for (;;) {
            dsuit_coap_client_opts_t o;
            dsuit_coap_client_t *c = NULL;
            dsuit_coap_result_t r;
            uint64_t etag = 0;
            grow_t g = {NULL, 0, 0};
            int rc;
            memset(&r, 0, sizeof r);
            memset(&o, 0, sizeof o);
            o.psk_identity = PSK_A;
            o.psk_key = (const uint8_t *)PSK_A_KEY;
            o.psk_key_len = strlen(PSK_A_KEY);
            o.timeout_ms = 3000;
            rc = dsuit_coap_client_open(f->node_uri[i], &o, &c);
            if (rc == DSUIT_OK)
                rc = dsuit_coap_client_get(c, path, 0, collect, &g, &r);
            dsuit_coap_client_close(c);
            free(g.p);
            if (rc == DSUIT_OK && r.code == 205)
                for (size_t k = 0; k < r.etag_len; k++)
                    etag = etag << 8 | r.etag[k];
            if (etag == seq)
                break;
            if (cl_now_ms() - t0 > 30000)
                fail_msg("n%zu does not serve sequence %llu as latest 30 s "
                         "on (rc %d, code %d, ETag %llu)",
                         i, (unsigned long long)seq, rc, r.code,
                         (unsigned long long)etag);
            cl_sleep_ms(50);
        }
    }
}

static void register_author(const fx_t *f)
{
    char rk[400], out[OUT_CAP];
    uint64_t t0 = cl_now_ms();
    int rc;
    cl_registrar_key_file(&f->cl, 0, rk, sizeof rk);
    const char *args[] = {"author",
                          "register",
                          "--node",
                          f->cl.base[0],
                          "--genesis",
                          f->genesis,
                          "--registrar-key",
                          rk,
                          "--author-pub",
                          f->author_pub,
                          "--name",
                          DOMAIN_A,
                          "--vendor-domain",
                          DOMAIN_A,
                          "--class",
                          CLASS,
                          "--timeout",
                          "30",
                          NULL};
    rc = run_cli(f, args, out, sizeof out);
    if (rc != 0 || strstr(out, "status: certified") == NULL)
        fail_msg("dsuit author register exited %d:\n%s", rc, out);
    wait_certified(f, number_after(out, "height: "));
    printf("# timing: author registered and certified in %.2f s\n",
           secs_since(t0));
}

/* `dsuit device provision` of one identity on every node. */
static void provision(fx_t *f, const char *id, const char *key_text,
                      const char *domain, char vendor[37], char klass[37])
{
    char hex[200], out[OUT_CAP];
    hex_text(key_text, hex, sizeof hex);
    for (size_t i = 0; i < f->cl.n; i++) {
        const char *args[] = {
            "device",  "provision", "--data",          f->cl.data[i],
            "--id",    id,          "--vendor-domain", domain,
            "--class", CLASS,       "--key",           hex,
            NULL};
        int rc = run_cli(f, args, out, sizeof out);
        if (rc != 0 || strstr(out, "provisioned") == NULL)
            fail_msg("dsuit device provision %s on n%zu exited %d: %s", id, i,
                     rc, out);
    }
    field(out, "vendor id: ", vendor, 37);
    field(out, "class id: ", klass, 37);
}

/* Publish sequence seq (manifest by `dsuit manifest create`, through
 * `dsuit publish` on node `via`), certified, then wait until every node
 * serves it. Returns when (cl_now_ms) `dsuit publish` saw the
 * certificate. */
static uint64_t publish_seq(fx_t *f, uint64_t seq, uint64_t size, size_t via)
{
    char name[64], seqs[24], out[OUT_CAP];
    const char *m;
    uint64_t t0 = cl_now_ms(), t1;
    int rc;

    assert_true(seq >= 1 && seq <= MAX_SEQ);
    snprintf(name, sizeof name, "fw%llu.bin", (unsigned long long)seq);
    make_image(f->cl.root, name, size, &f->img[seq]);
    {
        char path[sizeof f->suit[seq]];
        snprintf(path, sizeof path, "%s/fw%llu.suit", f->cl.root,
                 (unsigned long long)seq);
        memcpy(f->suit[seq], path, sizeof path);
    }
    snprintf(seqs, sizeof seqs, "%llu", (unsigned long long)seq);
    {
        const char *args[] = {"manifest", "create", "--vendor-domain", DOMAIN_A,
                              "--class", CLASS, "--seq", seqs, "--image",
                              f->img[seq].path, "--key", f->author_key, "--kid",
                              /* an install sequence that fetches; the
                               * device ignores the host and asks its node */
                              "--uri", "coaps://firmware.acme.example/fw", "-o",
                              f->suit[seq], NULL};
        rc = run_cli(f, args, out, sizeof out);
        if (rc != 0)
            fail_msg("dsuit manifest create exited %d: %s", rc, out);
    }
    /* A node without a leader for a moment answers the last upload with
     * no-leader; the author runs publish again (docs/api.md). */
    for (int attempt = 1;; attempt++) {
        const char *args[] = {
            "publish",    "--node",  f->cl.base[via],  "--manifest",
            f->suit[seq], "--image", f->img[seq].path, "--timeout",
            "120",        NULL};
        rc = run_cli(f, args, out, sizeof out);
        if (rc != 1 || strstr(out, "no-leader") == NULL || attempt == 3)
            break;
    }
    if (rc != 0 || strstr(out, "certified at height") == NULL)
        fail_msg("dsuit publish of sequence %s exited %d:\n%s", seqs, rc, out);
    m = strstr(out, "manifest ");
    while (m != NULL && (strlen(m) < 9 + 64 || m[9 + 64] != '\n'))
        m = strstr(m + 1, "manifest ");
    assert_non_null(m);
    memcpy(f->mdigest[seq], m + 9, 64);
    f->mdigest[seq][64] = '\0';
    f->seq = seq;
    t1 = cl_now_ms();
    wait_certified(f, number_after(out, "certified at height "));
    wait_served(f, seq);
    printf("# timing: sequence %s (%llu bytes) published, certified and "
           "served by every node in %.2f s\n",
           seqs, (unsigned long long)size, secs_since(t0));
    return t1;
}

/* Sequence 2 (1 MiB) at least, for the tests that need it. */
static void ensure_big(fx_t *f)
{
    if (f->seq < 2)
        publish_seq(f, f->seq + 1, BIG_SIZE, 0);
}

/* ---- devices ------------------------------------------------------------ */

typedef struct {
    const char *state;
    const char *nodes[4];
    const char *psk_id, *psk_key; /* the key as text */
    const char *key_file;         /* RPK instead */
    const char *domain;           /* default DOMAIN_A */
    int trust_genesis;
    const char *timeout; /* default "5" */
} device_cfg_t;

/* argv of `dsuit device VERB` for d, then extra (NULL-terminated). */
static void device_argv(const fx_t *f, const char *verb, const device_cfg_t *d,
                        const char *const *extra, const char **argv, size_t cap,
                        char *hexbuf, size_t hexcap)
{
    size_t k = 0;
    argv[k++] = f->cl.bin;
    argv[k++] = "device";
    argv[k++] = verb;
    argv[k++] = "--state";
    argv[k++] = d->state;
    for (size_t i = 0; i < 4 && d->nodes[i] != NULL; i++) {
        argv[k++] = "--node";
        argv[k++] = d->nodes[i];
    }
    if (d->key_file != NULL) {
        argv[k++] = "--key";
        argv[k++] = d->key_file;
    } else {
        hex_text(d->psk_key, hexbuf, hexcap);
        argv[k++] = "--psk-id";
        argv[k++] = d->psk_id;
        argv[k++] = "--psk-key";
        argv[k++] = hexbuf;
    }
    argv[k++] = "--trust-author";
    argv[k++] = f->author_pub;
    argv[k++] = "--vendor-domain";
    argv[k++] = d->domain ? d->domain : DOMAIN_A;
    argv[k++] = "--class";
    argv[k++] = CLASS;
    if (d->trust_genesis) {
        argv[k++] = "--trust-genesis";
        argv[k++] = f->genesis;
    }
    argv[k++] = "--timeout";
    argv[k++] = d->timeout ? d->timeout : "5";
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
        argv[k++] = extra[i];
    assert_true(k < cap);
    argv[k] = NULL;
}

/* A sanitizer build reports on stderr; an expected exit code must not
 * hide it. */
static void assert_no_sanitizer_report(const char *who, const char *err)
{
    if (err != NULL && (strstr(err, "Sanitizer") != NULL ||
                        strstr(err, "runtime error:") != NULL))
        fail_msg("%s: a sanitizer report:\n%s", who, err);
}

static void assert_file_has_no_sanitizer_report(const char *who,
                                                const char *path)
{
    char *s = (char *)df_slurp(path, NULL);
    if (s != NULL &&
        (strstr(s, "Sanitizer") != NULL || strstr(s, "runtime error:") != NULL))
        fail_msg("%s: a sanitizer report in %s:\n%s", who, path, s);
    free(s);
}

/* `dsuit device once`, stdout and stderr apart. Returns the exit code. */
static int device_once(const fx_t *f, const device_cfg_t *d,
                       const char *const *env, char *out, char *err)
{
    const char *argv[40];
    char hex[200];
    int rc;
    device_argv(f, "once", d, NULL, argv, 40, hex, sizeof hex);
    rc = df_run(argv, env, 120000, out, OUT_CAP, err, OUT_CAP);
    if (rc == DF_TIMEOUT)
        fail_msg("dsuit device once ran for 120 s:\n%s%s", out, err);
    assert_no_sanitizer_report("dsuit device once", err);
    return rc;
}

/* `device once` that must update to f->seq from node uri `from`. */
static void once_updates(const fx_t *f, const device_cfg_t *d, const char *from,
                         char *err)
{
    char out[OUT_CAP], want[400];
    int rc = device_once(f, d, NULL, out, err);
    snprintf(want, sizeof want, "updated: sequence %llu, image %s, from %s\n",
             (unsigned long long)f->seq, f->img[f->seq].hex, from);
    if (rc != 0 || strstr(out, want) == NULL)
        fail_msg("device once exited %d; want '%s'\nstdout: %s\nstderr: %s", rc,
                 want, out, err);
    assert_installed(f, d->state, f->seq);
}

/* ---- the node's operator view ------------------------------------------- */

/* GET /v1/devices on node i: the entry of device `name` (a new reference,
 * or NULL). */
static json_t *device_entry(const fx_t *f, size_t i, const char *name)
{
    uint8_t *b = NULL;
    size_t bl = 0;
    long st = cl_http(&f->cl, i, "GET", "/v1/devices", NULL, NULL, 0, &b, &bl);
    json_t *j, *list, *found = NULL;
    if (st != 200)
        fail_msg("n%zu: GET /v1/devices answered %ld", i, st);
    j = json_loadb((const char *)b, bl, 0, NULL);
    free(b);
    assert_non_null(j);
    list = json_object_get(j, "devices");
    assert_true(json_is_array(list));
    for (size_t k = 0; k < json_array_size(list); k++) {
        json_t *e = json_array_get(list, k);
        const char *d = json_string_value(json_object_get(e, "device"));
        if (d != NULL && strcmp(d, name) == 0) {
            found = e;
            json_incref(found);
        }
    }
    json_decref(j);
    return found;
}

static void assert_reported(const fx_t *f, size_t i, const char *name,
                            uint64_t seq, const char *result)
{
    json_t *e = device_entry(f, i, name);
    const char *r, *m, *v;
    if (e == NULL)
        fail_msg("n%zu's GET /v1/devices does not list %s", i, name);
    r = json_string_value(json_object_get(e, "last_result"));
    m = json_string_value(json_object_get(e, "manifest"));
    v = json_string_value(json_object_get(e, "vendor_id"));
    if (json_integer_value(json_object_get(e, "installed_sequence")) !=
            (json_int_t)seq ||
        r == NULL || strcmp(r, result) != 0 || m == NULL ||
        strcmp(m, f->mdigest[seq]) != 0 || v == NULL ||
        strcmp(v, f->vendor_a) != 0) {
        char *s = json_dumps(e, JSON_COMPACT);
        fail_msg("n%zu lists %s as %s; want sequence %llu, result '%s'", i,
                 name, s ? s : "?", (unsigned long long)seq, result);
    }
    json_decref(e);
}

/* ---- coap-client-gnutls ------------------------------------------------- */

/* GET coaps://127.0.0.1:PORT/path block-wise (1024) with a PSK (key as
 * text) or an RPK file, into outfile. Returns its exit code; what it
 * printed in log. */
static int coap_client(const char *uri_path, const char *psk_id,
                       const char *psk_key, const char *rpk_file,
                       const char *outfile, unsigned secs, char *log,
                       size_t cap)
{
    char b[16], err[OUT_CAP];
    const char *argv[20];
    size_t k = 0;
    int rc;
    snprintf(b, sizeof b, "%u", secs);
    unlink(outfile);
    argv[k++] = "coap-client-gnutls";
    argv[k++] = "-m";
    argv[k++] = "get";
    argv[k++] = "-b";
    argv[k++] = "1024";
    argv[k++] = "-B";
    argv[k++] = b;
    if (rpk_file != NULL) {
        argv[k++] = "-M";
        argv[k++] = rpk_file;
    } else {
        argv[k++] = "-u";
        argv[k++] = psk_id;
        argv[k++] = "-k";
        argv[k++] = psk_key;
    }
    argv[k++] = "-o";
    argv[k++] = outfile;
    argv[k++] = uri_path;
    argv[k] = NULL;
    rc = df_run(argv, NULL, (secs + 15) * 1000u, log, cap, err, sizeof err);
    if (strlen(log) + strlen(err) + 1 < cap)
        strcat(log, err);
    return rc;
}

/* The first line of coap-client-gnutls's output that is a response code
 * ("4.03 {...}": it prints error responses so, at the start of a line;
 * its log lines start with a date), or NULL. With code, only that code. */
static const char *response_line(const char *log, const char *code)
{
    for (const char *p = log; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        if (p[0] >= '2' && p[0] <= '5' && p[1] == '.' && p[2] >= '0' &&
            p[2] <= '9' && p[3] >= '0' && p[3] <= '9' &&
            (p[4] == ' ' || p[4] == '\n' || p[4] == '\0') &&
            (code == NULL || strncmp(p, code, 4) == 0))
            return p;
        p = nl ? nl + 1 : p + strlen(p);
    }
    return NULL;
}

static void require_coap_client(void)
{
    if (!df_have_tool("coap-client-gnutls"))
        fail_msg("coap-client-gnutls is needed (apt-get install "
                 "libcoap3-bin)");
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* ---- the lying proxy ---------------------------------------------------- */

/*
 * A test-only adversary in front of one real node: a CoAP/DTLS server
 * (src/net/coap/server.h) that accepts the device's PSK, fetches the real
 * answer from the real node as that device (src/net/coap/client.h) and
 * lies in one way. It terminates DTLS: a flipped byte inside a DTLS record
 * would only look like a lost packet, where this is a lying node.
 *
 * The real answers are cached by path; the test fetches the ones it knows
 * of (latest, its proof, the image) before the server starts, so the
 * handler (on the server thread) fetches only what nobody foresaw.
 */
typedef enum {
    LIE_MANIFEST, /* flip a byte of the envelope */
    LIE_PROOF,    /* flip a byte of the ledger proof's header */
    LIE_IMAGE,    /* flip a byte of one image block */
    LIE_REPLAY    /* serve an older envelope as latest */
} lie_t;

typedef struct cached {
    struct cached *next;
    char path[200];
    int code, cf;
    uint64_t etag;
    uint8_t *body;
    size_t len;
} cached_t;

typedef struct {
    dsuit_coap_server_t *srv;
    lie_t mode;
    char upstream[64], uri[64];
    const char *psk_id, *psk_key;
    uint8_t *replay;
    size_t replay_len;
    uint64_t replay_seq;
    pthread_mutex_t mu;
    cached_t *cache;                           /* [mu] */
    unsigned requests, lies, fetched, reports; /* [mu] */
} proxy_t;

static proxy_t *g_proxy; /* stopped by the teardown if a test fails */
static pid_t g_dev_pid;  /* likewise, a device in the background */

/* The real node's answer to GET path, as the device (cached). Returns the
 * cache entry, or NULL when the node did not answer. */
static const cached_t *proxy_real(proxy_t *p, const char *path)
{
    dsuit_coap_client_opts_t o;
    dsuit_coap_client_t *c = NULL;
    dsuit_coap_result_t r;
    grow_t g = {NULL, 0, 0};
    cached_t *e;
    int rc;

    pthread_mutex_lock(&p->mu);
    for (e = p->cache; e != NULL; e = e->next)
        if (strcmp(e->path, path) == 0)
            break;
    pthread_mutex_unlock(&p->mu);
    if (e != NULL)
        return e;
    memset(&o, 0, sizeof o);
    o.psk_identity = p->psk_id;
    o.psk_key = (const uint8_t *)p->psk_key;
    o.psk_key_len = strlen(p->psk_key);
    o.timeout_ms = 10000;
    rc = dsuit_coap_client_open(p->upstream, &o, &c);
    if (rc == DSUIT_OK)
        rc = dsuit_coap_client_get(c, path, 0, collect, &g, &r);
    dsuit_coap_client_close(c);
    if (rc != DSUIT_OK || strlen(path) >= sizeof e->path) {
        free(g.p);
        return NULL;
    }
    e = calloc(1, sizeof *e);
    if (e == NULL) {
        free(g.p);
        return NULL;
    }
    snprintf(e->path, sizeof e->path, "%s", path);
    e->code = r.code;
    e->cf = r.has_content_format ? r.content_format : -1;
    for (size_t k = 0; k < r.etag_len; k++)
        e->etag = e->etag << 8 | r.etag[k];
    if (r.code == 205) {
        e->body = g.p;
        e->len = g.len;
    } else {
        free(g.p);
        e->len = strlen(r.diag);
        e->body = (uint8_t *)strdup(r.diag);
        e->cf = -1;
    }
    pthread_mutex_lock(&p->mu);
    e->next = p->cache;
    p->cache = e;
    p->fetched++;
    pthread_mutex_unlock(&p->mu);
    return e;
}

static int proxy_psk(void *arg, const uint8_t *id, size_t id_len, uint8_t *key,
                     size_t key_cap, size_t *key_len)
{
    proxy_t *p = arg;
    size_t n = strlen(p->psk_key);
    if (id_len != strlen(p->psk_id) || memcmp(id, p->psk_id, id_len) != 0 ||
        n > key_cap)
        return -1;
    memcpy(key, p->psk_key, n);
    *key_len = n;
    return 0;
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/*
 * Where the proxy lies in a LedgerProof, [header bstr, cert, leaf, path]:
 * the last byte of the certified header, which every check rests on (its
 * SHA-256 is what the votes sign). Not just any byte: a certificate may
 * carry more votes than the quorum, and a device rightly believes a quorum
 * of valid votes even when a further one is damaged. Returns len if the
 * proof does not start with a header.
 */
static size_t header_last_byte(const uint8_t *proof, size_t len)
{
    dsuit_cbor_dec_t d;
    const uint8_t *h;
    size_t n, hl;
    dsuit_cbor_dec_init(&d, proof, len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK || n != 4 ||
        dsuit_cbor_get_bstr(&d, &h, &hl) != DSUIT_OK || hl == 0)
        return len;
    return (size_t)(h - proof) + hl - 1;
}

static void proxy_handle(void *arg, const dsuit_coap_request_t *req,
                         dsuit_coap_response_t *resp)
{
    proxy_t *p = arg;
    const cached_t *e;
    int lie = 0;

    pthread_mutex_lock(&p->mu);
    p->requests++;
    pthread_mutex_unlock(&p->mu);
    if (strcmp(req->path, "/fw/report") == 0) {
        /* The lying node takes the report and keeps it to itself. */
        pthread_mutex_lock(&p->mu);
        p->reports++;
        pthread_mutex_unlock(&p->mu);
        resp->code = 204;
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        resp->code = 405;
        return;
    }
    e = proxy_real(p, req->path);
    if (e == NULL) {
        resp->code = 503;
        return;
    }
    resp->code = e->code;
    resp->content_format = e->cf;
    resp->etag = e->etag;
    if (e->code == 205 && p->mode == LIE_REPLAY &&
        ends_with(req->path, "/latest")) {
        resp->body = malloc(p->replay_len);
        if (resp->body == NULL) {
            resp->code = 500;
            return;
        }
        memcpy(resp->body, p->replay, p->replay_len);
        resp->len = p->replay_len;
        resp->etag = p->replay_seq;
        lie = 1;
    } else if (e->len > 0) {
        resp->body = malloc(e->len);
        if (resp->body == NULL) {
            resp->code = 500;
            return;
        }
        memcpy(resp->body, e->body, e->len);
        resp->len = e->len;
        /* The same byte each time: a block asked for again gets the same
         * lie. In the envelope, the last byte: inside the manifest (the
         * last member), so the CBOR stays well-formed and only the
         * authentication wrapper's digest of the manifest can tell. */
        if (e->code == 205 && p->mode == LIE_MANIFEST &&
            ends_with(req->path, "/latest")) {
            resp->body[e->len - 1] ^= 0x01;
            lie = 1;
        } else if (e->code == 205 && p->mode == LIE_PROOF &&
                   strncmp(req->path, "/fw/proof/", 10) == 0) {
            size_t at = header_last_byte(e->body, e->len);
            if (at < e->len) {
                resp->body[at] ^= 0x01;
                lie = 1;
            }
        } else if (e->code == 205 && p->mode == LIE_IMAGE &&
                   strncmp(req->path, "/fw/img/", 8) == 0) {
            resp->body[e->len / 2] ^= 0x01;
            lie = 1;
        }
    }
    if (lie) {
        pthread_mutex_lock(&p->mu);
        p->lies++;
        pthread_mutex_unlock(&p->mu);
    }
}

static void proxy_free(proxy_t *p)
{
    if (p == NULL)
        return;
    dsuit_coap_server_stop(p->srv);
    while (p->cache != NULL) {
        cached_t *e = p->cache;
        p->cache = e->next;
        free(e->body);
        free(e);
    }
    free(p->replay);
    pthread_mutex_destroy(&p->mu);
    if (g_proxy == p)
        g_proxy = NULL;
    free(p);
}

/* Prefetch what a device will ask for the newest manifest, then listen on
 * a free UDP port. */
static proxy_t *proxy_start(const fx_t *f, lie_t mode, size_t real,
                            const char *psk_id, const char *psk_key)
{
    proxy_t *p = calloc(1, sizeof *p);
    dsuit_coap_server_opts_t o;
    char path[200];
    uint64_t t0 = cl_now_ms();
    int rc = DSUIT_E_IO;

    assert_non_null(p);
    g_proxy = p;
    pthread_mutex_init(&p->mu, NULL);
    p->mode = mode;
    p->psk_id = psk_id;
    p->psk_key = psk_key;
    snprintf(p->upstream, sizeof p->upstream, "%s", f->node_uri[real]);
    snprintf(path, sizeof path, "/fw/%s/%s/latest", f->vendor_a, f->class_a);
    if (proxy_real(p, path) == NULL || proxy_real(p, path)->code != 205)
        fail_msg("the proxy cannot fetch %s from %s", path, p->upstream);
    snprintf(path, sizeof path, "/fw/proof/%s", f->mdigest[f->seq]);
    if (proxy_real(p, path) == NULL || proxy_real(p, path)->code != 205)
        fail_msg("the proxy cannot fetch %s from %s", path, p->upstream);
    snprintf(path, sizeof path, "/fw/img/%s", f->img[f->seq].hex);
    if (proxy_real(p, path) == NULL || proxy_real(p, path)->code != 205 ||
        proxy_real(p, path)->len != f->img[f->seq].size)
        fail_msg("the proxy cannot fetch %s from %s", path, p->upstream);
    p->fetched = 0; /* from here: what the handler had to fetch */

    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.psk_key = proxy_psk;
    o.handle = proxy_handle;
    o.arg = p;
    /* A port that was free a moment ago may be taken by now: try again. */
    for (int attempt = 0; attempt < 5 && rc != DSUIT_OK; attempt++) {
        o.port = df_free_udp_port();
        rc = dsuit_coap_server_start(&o, &p->srv);
    }
    if (rc != DSUIT_OK)
        fail_msg("the proxy cannot listen: %s", dsuit_strerror(rc));
    snprintf(p->uri, sizeof p->uri, "coaps://127.0.0.1:%u", (unsigned)o.port);
    printf("# proxy %s in front of %s, real answers fetched in %.2f s\n",
           p->uri, p->upstream, secs_since(t0));
    return p;
}

static unsigned proxy_lies(proxy_t *p)
{
    unsigned n;
    pthread_mutex_lock(&p->mu);
    n = p->lies;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* ---- fixture ------------------------------------------------------------ */

static int group_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    uint64_t t0 = cl_now_ms();
    int leader;
    if (f == NULL)
        return -1;
    *state = f;
    cl_create(&f->cl, N_NODES, HEARTBEAT_MS);
    cl_genesis_file(&f->cl, f->genesis, sizeof f->genesis);
    for (size_t i = 0; i < N_NODES; i++)
        snprintf(f->node_uri[i], sizeof f->node_uri[i], "coaps://127.0.0.1:%u",
                 (unsigned)f->cl.g->validators[i].coap_port);
    cl_start_all(&f->cl);
    leader = cl_wait_leader(&f->cl, 0, 15000, NULL);
    if (leader < 0)
        fail_msg("no leader 15 s after start (cluster in %s)", f->cl.root);
    printf("# timing: %d nodes up, leader n%d, in %.2f s\n", N_NODES, leader,
           secs_since(t0));
    keygen(f, "author", f->author_key, f->author_pub, sizeof f->author_key);
    register_author(f);
    provision(f, PSK_A, PSK_A_KEY, DOMAIN_A, f->vendor_a, f->class_a);
    provision(f, PSK_B, PSK_B_KEY, DOMAIN_B, f->vendor_b, f->class_b);
    publish_seq(f, 1, SMALL_SIZE, 0);
    printf("# timing: group setup in %.2f s\n", secs_since(t0));
    return 0;
}

static int group_teardown(void **state)
{
    fx_t *f = *state;
    int rc = 0;
    if (f == NULL)
        return 0;
    /* Every node stops cleanly on SIGTERM (an ASan build reports what it
     * found by exiting otherwise). */
    for (size_t i = 0; i < f->cl.n; i++) {
        int st;
        if (f->cl.pid[i] > 0 && cl_exited(&f->cl, i, &st)) {
            printf("# node n%zu had exited with %d\n", i, st);
            rc = -1;
        } else if (f->cl.pid[i] > 0 && (st = cl_stop(&f->cl, i, 10000)) != 0) {
            printf("# node n%zu stopped with %d\n", i, st);
            rc = -1;
        }
    }
    /* cl_create() keeps the folder until told the tests passed. */
    f->cl.keep = rc != 0 || f->passed != f->started;
    cl_destroy(&f->cl);
    free(f);
    return rc;
}

static fx_t *begin(void **state)
{
    fx_t *f = *state;
    f->started++;
    return f;
}

/* The end of a test that passed: no node died on the way. */
static void passed(fx_t *f)
{
    for (size_t i = 0; i < f->cl.n; i++) {
        int st;
        if (cl_exited(&f->cl, i, &st))
            fail_msg("node n%zu exited on its own with %d (log in %s)", i, st,
                     f->cl.data[i]);
    }
    f->passed++;
}

/* After each test: what a failed one left running. */
static int test_teardown(void **state)
{
    (void)state;
    proxy_free(g_proxy);
    if (g_dev_pid > 0) {
        df_stop(g_dev_pid, SIGKILL, 2000);
        g_dev_pid = 0;
    }
    return 0;
}

/* ---- 1. updates over PSK and RPK; 9. the report ------------------------- */

static void psk_device_updates_and_its_report_reaches_the_node(void **state)
{
    fx_t *f = begin(state);
    char dir[400], out[OUT_CAP], err[OUT_CAP];
    device_cfg_t d = {dir, {f->node_uri[1]}, PSK_A, PSK_A_KEY, NULL, NULL, 1,
                      NULL};
    uint64_t t0 = cl_now_ms();
    int rc;

    dev_dir(f, "psk", dir, sizeof dir);
    once_updates(f, &d, f->node_uri[1], err);
    printf("# timing: PSK device updated to sequence %llu (%llu bytes) in "
           "%.2f s\n",
           (unsigned long long)f->seq, (unsigned long long)f->img[f->seq].size,
           secs_since(t0));
    /* 9: the node it used lists it, with what it installed. */
    assert_reported(f, 1, "psk:" PSK_A, f->seq, "ok");
    /* Again: current, and the node hears that too. */
    rc = device_once(f, &d, NULL, out, err);
    if (rc != 0)
        fail_msg("second run exited %d: %s%s", rc, out, err);
    {
        char want[64];
        snprintf(want, sizeof want, "current: sequence %llu\n",
                 (unsigned long long)f->seq);
        assert_string_equal(out, want);
    }
    assert_reported(f, 1, "psk:" PSK_A, f->seq, "current");
    assert_installed(f, dir, f->seq);
    /* Reports are per node: n0 never heard of this device. */
    {
        json_t *e = device_entry(f, 0, "psk:" PSK_A);
        assert_null(e);
    }
    passed(f);
}

static void rpk_device_registered_by_the_author_updates(void **state)
{
    fx_t *f = begin(state);
    char key[400], pub[400], dir[400], out[OUT_CAP], err[OUT_CAP], id[40];
    char name[64];
    device_cfg_t d = {dir, {f->node_uri[2]}, NULL, NULL, key, NULL, 1, NULL};
    uint64_t t0 = cl_now_ms();
    int rc;

    keygen(f, "device-rpk", key, pub, sizeof key);
    {
        const char *args[] = {"device",
                              "register",
                              "--node",
                              f->cl.base[3],
                              "--genesis",
                              f->genesis,
                              "--key",
                              f->author_key,
                              "--device-pub",
                              pub,
                              "--vendor-domain",
                              DOMAIN_A,
                              "--class",
                              CLASS,
                              "--timeout",
                              "30",
                              NULL};
        rc = run_cli(f, args, out, sizeof out);
    }
    if (rc != 0 || strstr(out, "certified") == NULL)
        fail_msg("dsuit device register exited %d:\n%s", rc, out);
    field(out, "device id: ", id, sizeof id);
    wait_certified(f, number_after(out, "height: "));
    printf("# timing: device %s registered and certified in %.2f s\n", id,
           secs_since(t0));
    dev_dir(f, "rpk", dir, sizeof dir);
    t0 = cl_now_ms();
    once_updates(f, &d, f->node_uri[2], err);
    printf("# timing: RPK device updated in %.2f s\n", secs_since(t0));
    snprintf(name, sizeof name, "rpk:%s", id);
    assert_reported(f, 2, name, f->seq, "ok");
    passed(f);
}

/* ---- 3. refused at the handshake ---------------------------------------- */

static void
handshake_refuses_unknown_identity_wrong_key_and_unknown_rpk(void **state)
{
    fx_t *f = begin(state);
    char key[400], pub[400], sec1[420], base_dir[400];
    char uri[200], outfile[500], log[OUT_CAP];
    size_t env_len = 0;
    uint8_t *env;
    struct {
        const char *what, *psk_id, *psk_key;
        int rpk;
    } rows[] = {
        {"an unknown PSK identity", "nobody-0001", PSK_A_KEY, 0},
        {"a wrong PSK", PSK_A, "not-the-key-of-sensor-a-0001", 0},
        {"an unregistered raw public key", NULL, NULL, 1},
    };

    require_coap_client();
    keygen(f, "stranger", key, pub, sizeof key);
    dev_dir(f, "refused", base_dir, sizeof base_dir);
    assert_int_equal(mkdir(base_dir, 0700), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char dir[500], out[OUT_CAP], err[OUT_CAP];
        device_cfg_t d = {dir,
                          {f->node_uri[0]},
                          rows[i].psk_id,
                          rows[i].psk_key,
                          rows[i].rpk ? key : NULL,
                          NULL,
                          1,
                          "2"};
        uint64_t t0 = cl_now_ms();
        int rc;
        snprintf(dir, sizeof dir, "%s/%zu", base_dir, i);
        rc = device_once(f, &d, NULL, out, err);
        if (rc != 1 || strstr(err, f->node_uri[0]) == NULL ||
            strstr(out, "updated") != NULL)
            fail_msg("%s: device once exited %d (want 1)\nstdout: %s\n"
                     "stderr: %s",
                     rows[i].what, rc, out, err);
        if (secs_since(t0) > 15.0)
            fail_msg("%s: refused only after %.1f s", rows[i].what,
                     secs_since(t0));
        assert_nothing_installed(dir);
        printf("# %s: exit 1 in %.2f s: %s", rows[i].what, secs_since(t0), err);
    }

    /* The same with an independent client. First that it does get an
     * answer with the right key, so that "no answer" below means
     * something. */
    snprintf(uri, sizeof uri, "coaps://127.0.0.1:%u/fw/%s/%s/latest",
             (unsigned)f->cl.g->validators[0].coap_port, f->vendor_a,
             f->class_a);
    snprintf(outfile, sizeof outfile, "%s/latest.cbor", base_dir);
    assert_int_equal(
        coap_client(uri, PSK_A, PSK_A_KEY, NULL, outfile, 10, log, sizeof log),
        0);
    env = df_slurp(outfile, &env_len);
    {
        size_t want_len = 0;
        uint8_t *want = df_slurp(f->suit[f->seq], &want_len);
        assert_non_null(want);
        if (env == NULL || env_len != want_len ||
            memcmp(env, want, want_len) != 0)
            fail_msg("coap-client-gnutls with the right PSK did not get the "
                     "latest envelope (%zu bytes, want %zu): %s",
                     env_len, want_len, log);
        free(want);
    }
    free(env);
    /* coap-client-gnutls wants SEC1 to read a raw public key pair. */
    snprintf(sec1, sizeof sec1, "%s.sec1", key);
    {
        const char *argv[] = {"openssl", "ec", "-in", key, "-out", sec1, NULL};
        char o[OUT_CAP], e[OUT_CAP];
        if (df_run(argv, NULL, 10000, o, sizeof o, e, sizeof e) != 0)
            fail_msg("openssl ec cannot convert %s: %s", key, e);
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc =
            coap_client(uri, rows[i].psk_id, rows[i].psk_key,
                        rows[i].rpk ? sec1 : NULL, outfile, 4, log, sizeof log);
        /* It exits 0 even when the handshake failed: what tells is that
         * nothing came back, neither a body nor a response code. */
        if (file_size(outfile) > 0 || response_line(log, NULL) != NULL)
            fail_msg("coap-client-gnutls with %s got an answer (exit %d, "
                     "%lld bytes): %s",
                     rows[i].what, rc, (long long)file_size(outfile), log);
        printf("# coap-client-gnutls, %s: exit %d, no answer: %.*s\n",
               rows[i].what, rc, (int)strcspn(log, "\n"), log);
    }
    passed(f);
}

/* ---- 4. another vendor -------------------------------------------------- */

static void device_of_another_vendor_gets_4_03(void **state)
{
    fx_t *f = begin(state);
    char dir[400], out[OUT_CAP], err[OUT_CAP], uri[200], outfile[500];
    char log[OUT_CAP];
    /* Vendor B's credential, configured with vendor A's domain and class. */
    device_cfg_t d = {dir,  {f->node_uri[3]}, PSK_B, PSK_B_KEY,
                      NULL, DOMAIN_A,         1,     NULL};
    int rc;

    require_coap_client();
    dev_dir(f, "vendor-b", dir, sizeof dir);
    rc = device_once(f, &d, NULL, out, err);
    if (rc != 3 || strstr(err, "4.03") == NULL ||
        strstr(err, f->node_uri[3]) == NULL)
        fail_msg("device once exited %d (want 3, a 4.03)\nstdout: %s\n"
                 "stderr: %s",
                 rc, out, err);
    assert_nothing_installed(dir);

    /* Directly: A's latest with B's key is 4.03 ... */
    snprintf(outfile, sizeof outfile, "%s/answer", dir);
    snprintf(uri, sizeof uri, "coaps://127.0.0.1:%u/fw/%s/%s/latest",
             (unsigned)f->cl.g->validators[3].coap_port, f->vendor_a,
             f->class_a);
    coap_client(uri, PSK_B, PSK_B_KEY, NULL, outfile, 10, log, sizeof log);
    if (response_line(log, "4.03") == NULL)
        fail_msg("coap-client-gnutls GET of A's latest with B's PSK: %s", log);
    /* ... and so is A's image; B's own latest is 4.04 (none published). */
    snprintf(uri, sizeof uri, "coaps://127.0.0.1:%u/fw/img/%s",
             (unsigned)f->cl.g->validators[3].coap_port, f->img[f->seq].hex);
    coap_client(uri, PSK_B, PSK_B_KEY, NULL, outfile, 10, log, sizeof log);
    if (response_line(log, "4.03") == NULL)
        fail_msg("coap-client-gnutls GET of A's image with B's PSK: %s", log);
    snprintf(uri, sizeof uri, "coaps://127.0.0.1:%u/fw/%s/%s/latest",
             (unsigned)f->cl.g->validators[3].coap_port, f->vendor_b,
             f->class_b);
    coap_client(uri, PSK_B, PSK_B_KEY, NULL, outfile, 10, log, sizeof log);
    if (response_line(log, "4.04") == NULL)
        fail_msg("coap-client-gnutls GET of B's latest: %s", log);
    passed(f);
}

/* ---- 2. Observe --------------------------------------------------------- */

/* Wait until file holds `what` (at most ms). 1 found, 0 not. */
static int wait_for_text(const char *file, const char *what, unsigned ms)
{
    uint64_t t0 = cl_now_ms();
    do {
        char *s = (char *)df_slurp(file, NULL);
        int yes = s != NULL && strstr(s, what) != NULL;
        free(s);
        if (yes)
            return 1;
        cl_sleep_ms(50);
    } while (cl_now_ms() - t0 < ms);
    return 0;
}

static void
observing_device_installs_a_new_publish_without_polling(void **state)
{
    fx_t *f = begin(state);
    char dir[400], outf[500], errf[500], want[400], obs[120];
    const char *extra[] = {"--observe", "--interval", "600", NULL};
    const char *argv[40];
    char hex[200];
    device_cfg_t d = {
        dir, {f->node_uri[3], f->node_uri[0]}, PSK_A, PSK_A_KEY, NULL, NULL, 1,
        NULL};
    uint64_t first = f->seq, t0;
    char *text;
    int st;

    dev_dir(f, "observer", dir, sizeof dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(outf, sizeof outf, "%s.out", dir);
    snprintf(errf, sizeof errf, "%s.err", dir);
    device_argv(f, "run", &d, extra, argv, 40, hex, sizeof hex);
    g_dev_pid = df_spawn(argv, NULL, outf, errf);
    /* Its first cycle installs what is there, then it observes. */
    snprintf(want, sizeof want, "updated: sequence %llu, ",
             (unsigned long long)first);
    snprintf(obs, sizeof obs, "observing: %s\n", f->node_uri[3]);
    if (!wait_for_text(outf, want, 30000) || !wait_for_text(outf, obs, 10000))
        fail_msg("device run --observe: no '%s' and '%s' in 40 s:\n%s", want,
                 obs, (char *)df_slurp(outf, NULL));
    assert_installed(f, dir, first);

    t0 = publish_seq(f, first + 1, BIG_SIZE, 1);
    snprintf(want, sizeof want, "updated: sequence %llu, image %s, from %s\n",
             (unsigned long long)f->seq, f->img[f->seq].hex, f->node_uri[3]);
    /* 20 s from the certificate (waiting for every node counts too). */
    if (!wait_for_text(outf, want,
                       cl_now_ms() - t0 >= 20000
                           ? 0
                           : 20000 - (unsigned)(cl_now_ms() - t0)))
        fail_msg("the observing device did not install sequence %llu in "
                 "20 s (interval 600 s):\n%s%s",
                 (unsigned long long)f->seq, (char *)df_slurp(outf, NULL),
                 (char *)df_slurp(errf, NULL));
    printf("# timing: the observing device installed sequence %llu %.2f s "
           "after the publish was certified\n",
           (unsigned long long)f->seq, secs_since(t0));
    assert_installed(f, dir, f->seq);

    st = df_stop(g_dev_pid, SIGTERM, 10000);
    g_dev_pid = 0;
    assert_file_has_no_sanitizer_report("dsuit device run", errf);
    text = (char *)df_slurp(outf, NULL);
    printf("# device run output:\n%s", text ? text : "");
    if (st != 0)
        fail_msg("device run exited %d after SIGTERM (want 0)", st);
    /* The cycle at start and the one on the notification; with a 600 s
     * interval there is no polling cycle in between. */
    assert_non_null(text);
    {
        size_t cycles = 0, bad = 0;
        for (const char *p = text; *p != '\0';) {
            const char *nl = strchr(p, '\n');
            if (strncmp(p, "updated: ", 9) == 0 ||
                strncmp(p, "current: ", 9) == 0)
                cycles++;
            if (strncmp(p, "failed: ", 8) == 0 ||
                strncmp(p, "rejected: ", 10) == 0)
                bad++;
            p = nl ? nl + 1 : p + strlen(p);
        }
        if (cycles < 2 || bad != 0)
            fail_msg("%zu cycles, %zu failed or rejected:\n%s", cycles, bad,
                     text);
    }
    free(text);
    passed(f);
}

/* ---- 5. rollback from a lying node -------------------------------------- */

static void replayed_lower_sequence_is_refused_as_rollback(void **state)
{
    fx_t *f = begin(state);
    char dir[400], out[OUT_CAP], err[OUT_CAP], want[200];
    device_cfg_t d = {dir, {NULL}, PSK_A, PSK_A_KEY, NULL, NULL, 1, NULL};
    proxy_t *p;
    uint64_t seq;
    size_t len = 0;
    int rc;

    ensure_big(f);
    seq = f->seq;
    dev_dir(f, "rollback", dir, sizeof dir);
    d.nodes[0] = f->node_uri[1];
    once_updates(f, &d, f->node_uri[1], err);

    p = proxy_start(f, LIE_REPLAY, 1, PSK_A, PSK_A_KEY);
    p->replay = df_slurp(f->suit[1], &len);
    assert_non_null(p->replay);
    p->replay_len = len;
    p->replay_seq = 1;

    /* The proxy alone: refused, still at seq. */
    d.nodes[0] = p->uri;
    rc = device_once(f, &d, NULL, out, err);
    snprintf(want, sizeof want,
             "'%s' served sequence 1, not above the installed %llu: "
             "rollback refused",
             p->uri, (unsigned long long)seq);
    if (rc != 3 || strstr(err, want) == NULL)
        fail_msg("device once via the replaying proxy exited %d (want 3, "
                 "'%s')\nstdout: %s\nstderr: %s",
                 rc, want, out, err);
    assert_installed(f, dir, seq);
    assert_true(proxy_lies(p) >= 1);

    /* With the real node after it: current. */
    d.nodes[1] = f->node_uri[1];
    rc = device_once(f, &d, NULL, out, err);
    snprintf(want, sizeof want, "current: sequence %llu\n",
             (unsigned long long)seq);
    if (rc != 0 || strcmp(out, want) != 0 || strstr(err, "rollback") == NULL ||
        strstr(err, p->uri) == NULL)
        fail_msg("device once via the proxy, then the real node exited %d\n"
                 "stdout: %s\nstderr: %s",
                 rc, out, err);
    assert_installed(f, dir, seq);
    printf("# the proxy told %u lies in %u requests\n", proxy_lies(p),
           p->requests);
    proxy_free(p);
    passed(f);
}

/* ---- 6. a lying node: manifest, proof, image ---------------------------- */

static void lying_proxy_is_rejected(fx_t *f, lie_t mode, const char *name,
                                    const char *reason)
{
    char dir[400], out[OUT_CAP], err[OUT_CAP], want[400];
    const size_t real = 2;
    device_cfg_t d = {
        dir, {NULL, f->node_uri[real]}, PSK_A, PSK_A_KEY, NULL, NULL, 1, "20"};
    uint64_t t0;
    proxy_t *p;
    int rc;

    ensure_big(f);
    p = proxy_start(f, mode, real, PSK_A, PSK_A_KEY);
    d.nodes[0] = p->uri;
    dev_dir(f, name, dir, sizeof dir);
    t0 = cl_now_ms();
    rc = device_once(f, &d, NULL, out, err);
    /* Updated from the real node, from byte 0: nothing the proxy served
     * was kept. */
    snprintf(want, sizeof want, "updated: sequence %llu, image %s, from %s\n",
             (unsigned long long)f->seq, f->img[f->seq].hex, f->node_uri[real]);
    if (rc != 0 || strcmp(out, want) != 0)
        fail_msg("device once exited %d; want only '%s'\nstdout: %s\n"
                 "stderr: %s",
                 rc, want, out, err);
    assert_installed(f, dir, f->seq);
    if (strstr(err, p->uri) == NULL || strstr(err, reason) == NULL)
        fail_msg("stderr does not name the proxy %s and '%s':\n%s", p->uri,
                 reason, err);
    if (proxy_lies(p) == 0)
        fail_msg("the proxy told no lie (%u requests)", p->requests);
    printf("# %s: %u lies in %u requests, rejected; updated from the real "
           "node in %.2f s in all\n#   stderr: %s",
           name, proxy_lies(p), p->requests, secs_since(t0), err);
    proxy_free(p);
}

static void lying_proxy_flipped_manifest_byte_is_rejected(void **state)
{
    fx_t *f = begin(state);
    lying_proxy_is_rejected(f, LIE_MANIFEST, "lie-manifest",
                            "served a manifest that does not authenticate: "
                            "digest does not match");
    passed(f);
}

static void lying_proxy_flipped_proof_byte_is_rejected(void **state)
{
    fx_t *f = begin(state);
    lying_proxy_is_rejected(f, LIE_PROOF, "lie-proof",
                            "served a ledger proof that does not verify: "
                            "digest does not match");
    passed(f);
}

static void lying_proxy_flipped_image_byte_is_rejected(void **state)
{
    fx_t *f = begin(state);
    lying_proxy_is_rejected(f, LIE_IMAGE, "lie-image",
                            "served an image that does not match the "
                            "manifest's digest");
    passed(f);
}

/* ---- 7. kill -9 mid-download -------------------------------------------- */

static void device_killed_mid_download_resumes_every_time(void **state)
{
    fx_t *f = begin(state);
    const int kills = 3;
    const char *throttle[] = {"DSUIT_DEVICE_THROTTLE_MS=4", NULL};
    char dir[400], out[OUT_CAP], err[OUT_CAP], outf[500], errf[500], hex[200];
    const char *argv[40];
    device_cfg_t d = {dir, {f->node_uri[0]}, PSK_A, PSK_A_KEY, NULL, NULL, 1,
                      NULL};
    uint64_t killed_at = 0, t0 = cl_now_ms(), size;
    char img[80];
    int rc;

    ensure_big(f);
    size = f->img[f->seq].size;
    dev_dir(f, "resume", dir, sizeof dir);
    device_argv(f, "once", &d, NULL, argv, 40, hex, sizeof hex);
    for (int k = 0; k < kills; k++) {
        uint64_t t1 = cl_now_ms(), stored = 0;
        char *text;
        snprintf(outf, sizeof outf, "%s.run%d.out", dir, k);
        snprintf(errf, sizeof errf, "%s.run%d.err", dir, k);
        g_dev_pid = df_spawn(argv, throttle, outf, errf);
        /* Progress past where the last run was killed. */
        while (cl_now_ms() - t1 < 60000) {
            stored = df_state_u64(dir, "stored", 0);
            if (stored > killed_at &&
                df_state_field(dir, "image", img, sizeof img) == 0 &&
                strcmp(img, f->img[f->seq].hex) == 0)
                break;
            if (df_wait(g_dev_pid, 0, &rc))
                fail_msg("run %d ended (%d) before it was killed", k, rc);
            cl_sleep_ms(10);
        }
        if (stored <= killed_at)
            fail_msg("run %d recorded no progress past %llu in 60 s", k,
                     (unsigned long long)killed_at);
        rc = df_stop(g_dev_pid, SIGKILL, 5000);
        g_dev_pid = 0;
        assert_int_equal(rc, 128 + SIGKILL);
        /* What it recorded last, maybe a checkpoint after the look. */
        stored = df_state_u64(dir, "stored", 0);
        assert_file_has_no_sanitizer_report("dsuit device once", errf);
        text = (char *)df_slurp(outf, NULL);
        if (k > 0) {
            /* It resumed from the checkpoint the last run left. */
            char want[200];
            unsigned long long from = 0, of = 0;
            const char *r = text ? strstr(text, "resuming: ") : NULL;
            snprintf(want, sizeof want, " from %s\n", f->node_uri[0]);
            if (r == NULL ||
                sscanf(r, "resuming: %llu of %llu", &from, &of) != 2 ||
                of != size || from % 1024 != 0 || from == 0 ||
                from > killed_at || killed_at - from >= 64 * KIB + 1024 ||
                strstr(r, want) == NULL)
                fail_msg("run %d (killed at %llu): %s", k,
                         (unsigned long long)killed_at, text ? text : "");
        }
        printf("# run %d killed at %llu of %llu bytes stored: %s", k,
               (unsigned long long)stored, (unsigned long long)size,
               text && text[0] ? text : "(nothing on stdout)\n");
        free(text);
        assert_int_equal(df_state_u64(dir, "seq", 0), 0);
        killed_at = stored;
    }
    assert_true(killed_at < size);
    rc = device_once(f, &d, NULL, out, err);
    {
        char want[300];
        unsigned long long from = 0;
        snprintf(
            want, sizeof want, "updated: sequence %llu, image %s, from %s\n",
            (unsigned long long)f->seq, f->img[f->seq].hex, f->node_uri[0]);
        if (rc != 0 || sscanf(out, "resuming: %llu of", &from) != 1 ||
            from == 0 || from > killed_at || strstr(out, want) == NULL)
            fail_msg("last run exited %d (killed at %llu)\nstdout: %s\n"
                     "stderr: %s",
                     rc, (unsigned long long)killed_at, out, err);
    }
    assert_installed(f, dir, f->seq);
    printf("# timing: %d kills and the resumed download in %.2f s; last run: "
           "%s",
           kills, secs_since(t0), out);
    passed(f);
}

/* ---- 8. an independent client ------------------------------------------- */

static void coap_client_fetches_the_image_block_wise_with_a_psk(void **state)
{
    fx_t *f = begin(state);
    char uri[200], outfile[500], log[OUT_CAP];
    uint64_t t0;
    int rc;

    require_coap_client();
    ensure_big(f);
    snprintf(uri, sizeof uri, "coaps://127.0.0.1:%u/fw/img/%s",
             (unsigned)f->cl.g->validators[2].coap_port, f->img[f->seq].hex);
    snprintf(outfile, sizeof outfile, "%s/coap-client-image.bin", f->cl.root);
    t0 = cl_now_ms();
    rc = coap_client(uri, PSK_A, PSK_A_KEY, NULL, outfile, 60, log, sizeof log);
    if (rc != 0 || !df_files_equal(outfile, f->img[f->seq].path))
        fail_msg("coap-client-gnutls exited %d with %lld bytes (want the "
                 "%llu-byte image): %s",
                 rc, (long long)file_size(outfile),
                 (unsigned long long)f->img[f->seq].size, log);
    printf("# timing: coap-client-gnutls fetched %llu bytes block-wise in "
           "%.2f s\n",
           (unsigned long long)f->img[f->seq].size, secs_since(t0));
    passed(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            psk_device_updates_and_its_report_reaches_the_node, test_teardown),
        cmocka_unit_test_teardown(rpk_device_registered_by_the_author_updates,
                                  test_teardown),
        cmocka_unit_test_teardown(
            handshake_refuses_unknown_identity_wrong_key_and_unknown_rpk,
            test_teardown),
        cmocka_unit_test_teardown(device_of_another_vendor_gets_4_03,
                                  test_teardown),
        cmocka_unit_test_teardown(
            observing_device_installs_a_new_publish_without_polling,
            test_teardown),
        cmocka_unit_test_teardown(
            replayed_lower_sequence_is_refused_as_rollback, test_teardown),
        cmocka_unit_test_teardown(lying_proxy_flipped_manifest_byte_is_rejected,
                                  test_teardown),
        cmocka_unit_test_teardown(lying_proxy_flipped_proof_byte_is_rejected,
                                  test_teardown),
        cmocka_unit_test_teardown(lying_proxy_flipped_image_byte_is_rejected,
                                  test_teardown),
        cmocka_unit_test_teardown(device_killed_mid_download_resumes_every_time,
                                  test_teardown),
        cmocka_unit_test_teardown(
            coap_client_fetches_the_image_block_wise_with_a_psk, test_teardown),
    };
    const char *filter = getenv("DSUIT_TEST_FILTER");
    if (filter != NULL)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name("system.device", tests, group_setup,
                                       group_teardown);
}
