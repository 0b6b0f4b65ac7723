/*
 * System tests of publishing and the distributed chunk store: real
 * `dsuit node run` processes on 127.0.0.1 (tests/helpers/cluster.h), with
 * the author's side done by the dsuit program itself (`dsuit keygen`,
 * `dsuit author`, `dsuit manifest create --kid`, `dsuit publish`).
 *
 *   - 1, 10 and 100 MiB images published, certified, placed on exactly the
 *     R validators rendezvous placement names, and served whole by every
 *     node;
 *   - every refusal of the registration check (and of an upload) leaves
 *     the ledger and every chunk store as they were;
 *   - a holder killed with SIGKILL: the image stays available and repair
 *     restores R copies on the live validators;
 *   - a lying validator that serves corrupted chunks, and a node whose
 *     chunk files were damaged on disk: no client ever gets a wrong byte;
 *   - the author's key and the node the publish went through both gone:
 *     manifest, image and proof stay available from the other nodes.
 *
 * Every wait is bounded; timings are printed ("# timing ..."). A failing
 * test keeps its cluster folder (node logs in nI/node.log).
 * DSUIT_TEST_FILTER (a cmocka pattern, e.g. "refusals_*") runs only some
 * tests.
 */
/* strncasecmp, MSG_NOSIGNAL and struct timeval beyond POSIX 2008 C11. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <jansson.h>

#include "cluster.h"
#include "dsuit/chunk.h"
#include "dsuit/ledger_proof.h"
#include "dsuit/suit.h"
#include "net/http/peer_auth.h"

#define HEARTBEAT_MS 500 /* empty blocks, hence votes, twice a second */
#define MIB          (1024u * 1024u)
#define CHUNK        ((uint64_t)DSUIT_POLICY_CHUNK_SIZE)
#define R            3u
#define OUT_CAP      8192

/* ---- fixture --------------------------------------------------------------
 */

/* A JSON object's string member, or "" (never NULL). */
static const char *jstr(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL ? v : "";
}

static double secs_since(uint64_t t0)
{
    return (double)(cl_now_ms() - t0) / 1000.0;
}

static int start_cluster(cl_t *cl, size_t n, const cl_opts_t *opts)
{
    uint64_t t0 = cl_now_ms();
    int leader;
    cl_create_opts(cl, n, HEARTBEAT_MS, opts);
    cl_start_all(cl);
    leader = cl_wait_leader(cl, 0, 15000, NULL);
    if (leader < 0)
        fail_msg("no leader 15 s after start (cluster in %s)", cl->root);
    printf("# timing: %zu nodes up, leader n%d, in %.2f s\n", n, leader,
           secs_since(t0));
    return leader;
}

/* No node this test started has died on its own. */
static void assert_all_running(cl_t *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        int st;
        if (cl_exited(cl, i, &st))
            fail_msg("node n%zu exited on its own with %d", i, st);
    }
}

/* ---- images ----------------------------------------------------------------
 */

typedef struct {
    char path[400];
    uint64_t size;
    uint8_t digest[32];
    char hex[65];
    uint8_t (*chunks)[32]; /* the policy's chunks, in order */
    size_t n_chunks;
} image_t;

static void image_free(image_t *img)
{
    free(img->chunks);
    img->chunks = NULL;
}

/* size random bytes in ROOT/name (xorshift64* from a random seed: fast
 * enough for 100 MiB), with their SHA-256 and chunk digests. */
static void make_image(const cl_t *cl, const char *name, uint64_t size,
                       image_t *img)
{
    static uint8_t buf[1u << 20];
    dsuit_chunker_t ch;
    uint64_t x, left = size;
    size_t n;
    FILE *f;

    memset(img, 0, sizeof *img);
    snprintf(img->path, sizeof img->path, "%s/%s", cl->root, name);
    img->size = size;
    img->n_chunks = (size_t)dsuit_chunk_count(size, CHUNK);
    img->chunks = malloc((img->n_chunks ? img->n_chunks : 1) * 32);
    assert_non_null(img->chunks);
    assert_int_equal(dsuit_chunker_init(&ch, CHUNK, img->chunks, img->n_chunks),
                     DSUIT_OK);
    assert_int_equal(dsuit_random((uint8_t *)&x, sizeof x), DSUIT_OK);
    x |= 1;
    f = fopen(img->path, "wb");
    if (f == NULL)
        fail_msg("cannot create %s: %s", img->path, strerror(errno));
    while (left > 0) {
        size_t m = left < sizeof buf ? (size_t)left : sizeof buf;
        for (size_t k = 0; k < m; k += 8) {
            uint64_t v;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            v = x * 0x2545F4914F6CDD1Dull;
            memcpy(buf + k, &v, m - k < 8 ? m - k : 8);
        }
        assert_int_equal(dsuit_chunker_update(&ch, buf, m), DSUIT_OK);
        if (fwrite(buf, 1, m, f) != m)
            fail_msg("cannot write %s", img->path);
        left -= m;
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(dsuit_chunker_final(&ch, img->digest, &n), DSUIT_OK);
    assert_int_equal(n, img->n_chunks);
    cl_hex(img->digest, 32, img->hex);
}

/* ---- placement ---------------------------------------------------------- */

static void key_ids(const cl_t *cl, uint8_t (*ids)[32])
{
    for (size_t i = 0; i < cl->n; i++)
        memcpy(ids[i], cl->g->validators[i].key_id, 32);
}

/* Is validator i one of the R that rendezvous placement names? */
static int placed_on(const cl_t *cl, const uint8_t d[32], size_t i)
{
    uint8_t ids[CL_MAX_NODES][32];
    size_t place[CL_MAX_NODES];
    key_ids(cl, ids);
    assert_int_equal(
        dsuit_chunk_place(d, (const uint8_t(*)[32])ids, cl->n, R, place),
        DSUIT_OK);
    for (size_t k = 0; k < R && k < cl->n; k++)
        if (place[k] == i)
            return 1;
    return 0;
}

/* The first validator other than `except` in the chunk's rendezvous
 * order: where node `except` looks first when it lacks the chunk. */
static size_t first_other(const cl_t *cl, const uint8_t d[32], size_t except)
{
    uint8_t ids[CL_MAX_NODES][32];
    size_t rank[CL_MAX_NODES];
    key_ids(cl, ids);
    assert_int_equal(
        dsuit_chunk_rank(d, (const uint8_t(*)[32])ids, cl->n, rank), DSUIT_OK);
    for (size_t k = 0; k < cl->n; k++)
        if (rank[k] != except)
            return rank[k];
    return except;
}

/* ---- the dsuit program ----------------------------------------------------
 */

typedef struct {
    char key[400], pub[400];
} author_t;

static int run(const cl_t *cl, const char *const *args, char *out, size_t cap)
{
    return cl_run_cli(cl, args, out, cap);
}

static void make_author(const cl_t *cl, const char *name, author_t *a)
{
    char base[380], out[OUT_CAP];
    int rc;
    snprintf(base, sizeof base, "%s/%s", cl->root, name);
    snprintf(a->key, sizeof a->key, "%s.key", base);
    snprintf(a->pub, sizeof a->pub, "%s.pub", base);
    const char *args[] = {"keygen", "--alg", "es256", "--out", base, NULL};
    rc = run(cl, args, out, sizeof out);
    if (rc != 0)
        fail_msg("dsuit keygen exited %d: %s", rc, out);
}

/* `dsuit author register --node` with the first n_keys registrars.
 * Returns the exit code; output in out. */
static int register_author(const cl_t *cl, size_t node, const author_t *a,
                           const char *domain, const char *klass, size_t n_keys,
                           char *out, size_t cap)
{
    char g[400], rk[CL_MAX_REGISTRARS][400];
    const char *args[32];
    size_t k = 0;
    cl_genesis_file(cl, g, sizeof g);
    args[k++] = "author";
    args[k++] = "register";
    args[k++] = "--node";
    args[k++] = cl->base[node];
    args[k++] = "--genesis";
    args[k++] = g;
    for (size_t r = 0; r < n_keys; r++) {
        cl_registrar_key_file(cl, r, rk[r], sizeof rk[r]);
        args[k++] = "--registrar-key";
        args[k++] = rk[r];
    }
    args[k++] = "--author-pub";
    args[k++] = a->pub;
    args[k++] = "--name";
    args[k++] = domain;
    args[k++] = "--vendor-domain";
    args[k++] = domain;
    args[k++] = "--class";
    args[k++] = klass;
    args[k++] = "--timeout";
    args[k++] = "30";
    args[k] = NULL;
    return run(cl, args, out, cap);
}

static void register_ok(const cl_t *cl, size_t node, const author_t *a,
                        const char *domain, const char *klass)
{
    char out[OUT_CAP];
    uint64_t t0 = cl_now_ms();
    int rc = register_author(cl, node, a, domain, klass, cl->g->threshold, out,
                             sizeof out);
    if (rc != 0 || strstr(out, "status: certified") == NULL)
        fail_msg("dsuit author register (%s) exited %d:\n%s", domain, rc, out);
    printf("# timing: author %s registered and certified in %.2f s\n", domain,
           secs_since(t0));
}

/* `dsuit manifest create ... --key A.key --kid -o ROOT/name`. */
static void make_manifest(const cl_t *cl, const author_t *a, const char *domain,
                          const char *klass, uint64_t seq, const image_t *img,
                          const char *name, char *suit, size_t cap)
{
    char seqs[24], out[OUT_CAP];
    int rc;
    snprintf(seqs, sizeof seqs, "%llu", (unsigned long long)seq);
    snprintf(suit, cap, "%s/%s", cl->root, name);
    const char *args[] = {"manifest", "create",  "--vendor-domain",
                          domain,     "--class", klass,
                          "--seq",    seqs,      "--image",
                          img->path,  "--key",   a->key,
                          "--kid",    "-o",      suit,
                          NULL};
    rc = run(cl, args, out, sizeof out);
    if (rc != 0)
        fail_msg("dsuit manifest create %s exited %d: %s", name, rc, out);
}

/* `dsuit publish --node ... --manifest ... --image ...`. */
static int publish(const cl_t *cl, size_t node, const char *suit,
                   const char *image, char *out, size_t cap)
{
    const char *args[] = {"publish", "--node",  cl->base[node], "--manifest",
                          suit,      "--image", image,          "--timeout",
                          "300",     NULL};
    return run(cl, args, out, cap);
}

/* Publish that must be certified; the manifest digest (hex) goes to
 * digest when not NULL. Returns the seconds it took. */
static double publish_ok(const cl_t *cl, size_t node, const char *suit,
                         const image_t *img, char digest[65])
{
    char out[OUT_CAP];
    const char *m;
    uint64_t t0 = cl_now_ms();
    int rc;
    double s;
    /* A node that has no leader for a moment (an election under load)
     * answers the last upload with 503 no-leader, "upload again to retry";
     * `dsuit publish` then exits 1 and, as docs/api.md says, the author
     * runs it again: the chunks already stored are not stored twice. */
    for (int attempt = 1;; attempt++) {
        rc = publish(cl, node, suit, img->path, out, sizeof out);
        if (rc != 1 || strstr(out, "no-leader") == NULL || attempt == 3)
            break;
        printf("# retry: dsuit publish exited 1 after %.2f s, no leader "
               "for a moment; publishing again\n",
               secs_since(t0));
    }
    s = secs_since(t0);
    if (rc != 0 || strstr(out, "certified at height") == NULL)
        fail_msg("dsuit publish of %s exited %d:\n%s", img->path, rc, out);
    /* Its progress lines: upload, commit, certificate, with times. */
    for (const char *p = out, *e; *p != '\0'; p = e + (*e != '\0')) {
        e = strchr(p, '\n');
        if (e == NULL)
            e = p + strlen(p);
        if (strncmp(p, "publish: ", 9) == 0)
            printf("#   %.*s\n", (int)(e - p), p);
    }
    m = strstr(out, "manifest ");
    while (m != NULL && (strlen(m) < 9 + 64 || m[9 + 64] != '\n'))
        m = strstr(m + 1, "manifest ");
    assert_non_null(m);
    if (digest != NULL) {
        memcpy(digest, m + 9, 64);
        digest[64] = '\0';
    }
    return s;
}

/* ---- the nodes' answers ----------------------------------------------------
 */

/* GET /v1/manifests: how many manifests the node's ledger holds. */
static long manifest_count(const cl_t *cl, size_t i)
{
    uint8_t *b = NULL;
    size_t bl = 0;
    long st = cl_http(cl, i, "GET", "/v1/manifests", NULL, NULL, 0, &b, &bl);
    json_t *j = st == 200 ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
    long n = -1;
    free(b);
    if (j != NULL && json_is_array(json_object_get(j, "manifests")))
        n = (long)json_array_size(json_object_get(j, "manifests"));
    json_decref(j);
    return n;
}

/* GET /v1/images/{digest} on node i: 200 with exactly the image. */
static void assert_image_served(const cl_t *cl, size_t i, const image_t *img)
{
    char path[100];
    uint8_t *b = NULL, got[32];
    size_t bl = 0;
    uint64_t t0 = cl_now_ms();
    long st;
    snprintf(path, sizeof path, "/v1/images/%s", img->hex);
    st = cl_http_ex(cl, i, "GET", path, NULL, NULL, 0, 120000,
                    (size_t)img->size + 1, &b, &bl);
    if (st != 200) {
        fail_msg("n%zu: GET %s answered %ld: %.200s", i, path, st,
                 b ? (const char *)b : "");
    }
    assert_int_equal(bl, img->size);
    assert_int_equal(dsuit_sha256(b, bl, got), DSUIT_OK);
    if (memcmp(got, img->digest, 32) != 0)
        fail_msg("n%zu served %s with the wrong bytes", i, img->path);
    free(b);
    if (img->size >= 10 * MIB)
        printf("# timing: n%zu served %llu MiB in %.2f s\n", i,
               (unsigned long long)(img->size / MIB), secs_since(t0));
}

static void store_of(const cl_t *cl, size_t i, cl_store_t *s)
{
    if (cl_store(cl, i, s) != 0)
        fail_msg("n%zu: GET /v1/store has no valid answer", i);
}

/* The whole text of a file (NUL-terminated); caller frees. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = malloc((size_t)n + 1);
    if (s != NULL && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s != NULL)
        s[n] = '\0';
    fclose(f);
    return s;
}

static int log_has(const cl_t *cl, size_t i, const char *what)
{
    char path[400];
    char *s;
    int yes;
    snprintf(path, sizeof path, "%s/node.log", cl->data[i]);
    s = slurp(path);
    yes = s != NULL && strstr(s, what) != NULL;
    free(s);
    return yes;
}

/* ---- 1. publishing 1, 10 and 100 MiB --------------------------------------
 */

static void
publish_1_10_100_mib_places_every_chunk_on_its_r_holders(void **state)
{
    cl_t *cl = *state;
    static const uint64_t sizes[3] = {1 * MIB, 10 * MIB, 100 * MIB};
    image_t img[3];
    author_t a;
    size_t expect[CL_MAX_NODES] = {0}, total = 0;
    uint64_t t0;

    start_cluster(cl, 4, NULL);
    assert_int_equal(cl->g->policy.chunk_size, CHUNK);
    assert_int_equal(cl->g->policy.replicas, R);
    make_author(cl, "author", &a);
    register_ok(cl, 0, &a, "acme.example", "sensor");

    for (size_t k = 0; k < 3; k++) {
        char name[32], suit[400];
        double s;
        snprintf(name, sizeof name, "fw-%llu.bin",
                 (unsigned long long)(sizes[k] / MIB));
        make_image(cl, name, sizes[k], &img[k]);
        snprintf(name, sizeof name, "fw-%llu.suit",
                 (unsigned long long)(sizes[k] / MIB));
        make_manifest(cl, &a, "acme.example", "sensor", k + 1, &img[k], name,
                      suit, sizeof suit);
        s = publish_ok(cl, 0, suit, &img[k], NULL);
        printf("# timing: publish of %llu MiB (%zu chunks) certified in "
               "%.2f s\n",
               (unsigned long long)(sizes[k] / MIB), img[k].n_chunks, s);
    }
    assert_all_running(cl);

    /* Exactly the R validators placement names hold each chunk, on disk. */
    for (size_t k = 0; k < 3; k++) {
        for (size_t c = 0; c < img[k].n_chunks; c++) {
            size_t holders = 0;
            for (size_t i = 0; i < cl->n; i++) {
                char path[500];
                int want = placed_on(cl, img[k].chunks[c], i);
                int have =
                    cl_chunk_file(cl, i, img[k].chunks[c], path, sizeof path);
                if (want != have)
                    fail_msg("chunk %zu of the %llu MiB image: n%zu %s it "
                             "but placement says it %s (%s)",
                             c, (unsigned long long)(sizes[k] / MIB), i,
                             have ? "holds" : "lacks",
                             want ? "should" : "should not", path);
                holders += have;
                expect[i] += want;
            }
            assert_int_equal(holders, R);
            total++;
        }
    }
    assert_int_equal(total, 4 + 40 + 400);

    /* The nodes' own accounts agree, once a repair pass has counted. */
    t0 = cl_now_ms();
    for (size_t i = 0; i < cl->n; i++) {
        cl_store_t s;
        for (;;) {
            store_of(cl, i, &s);
            if (s.published == total || cl_now_ms() - t0 > 10000)
                break;
            cl_sleep_ms(100);
        }
        printf("# n%zu: chunks %llu (placement: %zu), published %llu, "
               "under-replicated %llu, repaired %llu\n",
               i, (unsigned long long)s.chunks, expect[i],
               (unsigned long long)s.published, (unsigned long long)s.under,
               (unsigned long long)s.repaired);
        assert_int_equal(s.chunks, expect[i]);
        assert_int_equal(cl_chunk_files(cl, i), expect[i]);
        assert_int_equal(s.replicas, R);
        assert_int_equal(s.published, total);
        assert_int_equal(s.under, 0);
        assert_int_equal(s.repaired, 0);
    }

    /* Every node serves every image whole. */
    t0 = cl_now_ms();
    for (size_t i = 0; i < cl->n; i++)
        for (size_t k = 0; k < 3; k++)
            assert_image_served(cl, i, &img[k]);
    printf("# timing: 3 images from 4 nodes in %.2f s\n", secs_since(t0));
    assert_int_equal(manifest_count(cl, 3), 3);
    assert_all_running(cl);
    for (size_t k = 0; k < 3; k++) {
        unlink(img[k].path); /* 111 MiB less to keep if a later check fails */
        image_free(&img[k]);
    }
    cl->keep = 0;
}

/* ---- 2. refusals
 * -------------------------------------------------------------- */

typedef struct {
    long manifests;
    size_t files[CL_MAX_NODES];
    uint64_t chunks[CL_MAX_NODES];
} snapshot_t;

static void snapshot(const cl_t *cl, snapshot_t *s)
{
    memset(s, 0, sizeof *s);
    s->manifests = manifest_count(cl, 0);
    assert_true(s->manifests >= 0);
    for (size_t i = 0; i < cl->n; i++) {
        cl_store_t st;
        store_of(cl, i, &st);
        s->chunks[i] = st.chunks;
        s->files[i] = cl_chunk_files(cl, i);
    }
}

/* Nothing committed on any node, no chunk stored anywhere. Waits a moment
 * so that a wrongly submitted transaction would have had time to land. */
static void assert_unchanged(const cl_t *cl, const snapshot_t *before,
                             const char *label)
{
    snapshot_t now;
    uint64_t h = cl_max_height(cl);
    /* Two more blocks: anything pending would be in by then. */
    if (!cl_wait_height(cl, h + 2, 15000))
        fail_msg("%s: the chain stopped growing", label);
    for (size_t i = 0; i < cl->n; i++) {
        long m = manifest_count(cl, i);
        if (m != before->manifests)
            fail_msg("%s: n%zu now holds %ld manifests, before %ld", label, i,
                     m, before->manifests);
    }
    snapshot(cl, &now);
    for (size_t i = 0; i < cl->n; i++) {
        if (now.files[i] != before->files[i] ||
            now.chunks[i] != before->chunks[i])
            fail_msg("%s: n%zu stored chunks: %zu files (before %zu), "
                     "/v1/store %llu (before %llu)",
                     label, i, now.files[i], before->files[i],
                     (unsigned long long)now.chunks[i],
                     (unsigned long long)before->chunks[i]);
    }
}

/* POST /v1/publish: status and error code. */
static long post_publish(const cl_t *cl, size_t node, const char *suit,
                         char *error, size_t cap, char *upload, size_t ucap)
{
    static const char *const h[] = {"Content-Type: application/cbor", NULL};
    FILE *f = fopen(suit, "rb");
    uint8_t env[1 << 16], *b = NULL;
    size_t len, bl = 0;
    long st;
    json_t *j;
    assert_non_null(f);
    len = fread(env, 1, sizeof env, f);
    fclose(f);
    assert_true(len > 0 && len < sizeof env);
    st = cl_http(cl, node, "POST", "/v1/publish", h, env, len, &b, &bl);
    j = b != NULL ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
    if (error != NULL)
        snprintf(error, cap, "%s", jstr(j, "error"));
    if (upload != NULL) {
        json_t *im = json_array_get(json_object_get(j, "images"), 0);
        const char *u = json_string_value(json_object_get(im, "upload"));
        snprintf(upload, ucap, "%s", u ? u : "");
    }
    json_decref(j);
    free(b);
    return st;
}

/* PUT a file to an upload location: status and error code. */
static long put_upload(const cl_t *cl, size_t node, const char *loc,
                       const char *file, char *error, size_t cap)
{
    static const char *const h[] = {"Content-Type: application/octet-stream",
                                    NULL};
    FILE *f = fopen(file, "rb");
    uint8_t *data, *b = NULL;
    size_t len, bl = 0;
    long st;
    json_t *j;
    struct stat sb;
    assert_non_null(f);
    assert_int_equal(fstat(fileno(f), &sb), 0);
    data = malloc((size_t)sb.st_size + 1);
    assert_non_null(data);
    len = fread(data, 1, (size_t)sb.st_size, f);
    fclose(f);
    assert_int_equal(len, (size_t)sb.st_size);
    st =
        cl_http_ex(cl, node, "PUT", loc, h, data, len, 30000, 1 << 20, &b, &bl);
    j = b != NULL ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
    snprintf(error, cap, "%s", jstr(j, "error"));
    json_decref(j);
    free(b);
    free(data);
    return st;
}

/* Copy an envelope, flipping one bit: of its first signature's last byte
 * (sig != 0) or of the middle of the manifest (sig == 0). */
static void tamper(const char *in, const char *out, int sig)
{
    static uint8_t buf[1 << 16];
    dsuit_suit_envelope_t env;
    FILE *f = fopen(in, "rb");
    size_t len, off;
    assert_non_null(f);
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(dsuit_suit_envelope_decode(buf, len, &env, NULL),
                     DSUIT_OK);
    assert_true(env.n_auth >= 1);
    if (sig) {
        /* A COSE_Sign1 ends with its signature, a 64-byte bstr. */
        off =
            (size_t)(env.auth_blocks[0].ptr - buf) + env.auth_blocks[0].len - 1;
    } else {
        off = (size_t)(env.manifest_wrapped.ptr - buf) +
              env.manifest_wrapped.len / 2;
    }
    assert_true(off < len);
    buf[off] ^= 0x01;
    f = fopen(out, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

typedef struct {
    const char *label;
    const char *suit;  /* envelope */
    const char *image; /* image given to dsuit publish */
    long http;         /* POST /v1/publish answers this */
    const char *error; /* with this error code */
} refusal_t;

static void refusals_store_and_commit_nothing(void **state)
{
    cl_t *cl = *state;
    cl_opts_t o = {.registrars = 2, .threshold = 2, .max_image_size = 2 * MIB};
    author_t acme, stranger, revoked, below;
    image_t base, other, same_size, bigger, too_large;
    char s_base[400], s_stranger[400], s_revoked[400], s_below[400],
        s_class[400], s_vendor[400], s_sig[400], s_manifest[400],
        s_rollback_eq[400], s_rollback_lt[400], s_digest[400], s_large[400],
        s_good[400], g[400], rk0[400], txfile[400], out[OUT_CAP];
    snapshot_t before;
    uint64_t t0;
    int rc;

    start_cluster(cl, 4, &o);
    assert_int_equal(cl->g->threshold, 2);
    assert_int_equal(cl->g->policy.max_image_size, 2 * MIB);
    cl_genesis_file(cl, g, sizeof g);
    cl_registrar_key_file(cl, 0, rk0, sizeof rk0);

    make_image(cl, "base.bin", 1 * MIB, &base);
    make_image(cl, "other.bin", 1 * MIB, &other);
    make_image(cl, "same-size.bin", 1 * MIB, &same_size);
    make_image(cl, "bigger.bin", 1 * MIB + 1, &bigger);
    make_image(cl, "too-large.bin", 2 * MIB + CHUNK, &too_large);

    /* acme: registered by both registrars, publishes seq 5. */
    make_author(cl, "acme", &acme);
    register_ok(cl, 1, &acme, "acme.example", "sensor");
    make_manifest(cl, &acme, "acme.example", "sensor", 5, &base, "base.suit",
                  s_base, sizeof s_base);
    publish_ok(cl, 1, s_base, &base, NULL);

    /* stranger: never registered. */
    make_author(cl, "stranger", &stranger);
    make_manifest(cl, &stranger, "acme.example", "sensor", 9, &other,
                  "stranger.suit", s_stranger, sizeof s_stranger);

    /* revoked: registered, then revoked by both registrars. */
    make_author(cl, "revoked", &revoked);
    register_ok(cl, 1, &revoked, "revoked.example", "sensor");
    {
        char rk1[400];
        cl_registrar_key_file(cl, 1, rk1, sizeof rk1);
        const char *args[] = {"author",
                              "revoke",
                              "--node",
                              cl->base[2],
                              "--genesis",
                              g,
                              "--registrar-key",
                              rk0,
                              "--registrar-key",
                              rk1,
                              "--author-pub",
                              revoked.pub,
                              "--reason",
                              "key leaked",
                              "--timeout",
                              "30",
                              NULL};
        rc = run(cl, args, out, sizeof out);
        if (rc != 0 || strstr(out, "status: certified") == NULL)
            fail_msg("dsuit author revoke exited %d:\n%s", rc, out);
    }
    make_manifest(cl, &revoked, "revoked.example", "sensor", 1, &other,
                  "revoked.suit", s_revoked, sizeof s_revoked);

    /* below: one of the two registrar signatures. `dsuit author register
     * --node` refuses that itself (usage, 2); written with -o and submitted
     * as is, the ledger marks it below-threshold. */
    make_author(cl, "below", &below);
    rc = register_author(cl, 1, &below, "below.example", "sensor", 1, out,
                         sizeof out);
    if (rc != 2)
        fail_msg("author register with 1 of 2 registrar keys exited %d, "
                 "expected 2:\n%s",
                 rc, out);
    snprintf(txfile, sizeof txfile, "%s/below.tx", cl->root);
    {
        const char *args[] = {"author",
                              "register",
                              "-o",
                              txfile,
                              "--genesis",
                              g,
                              "--registrar-key",
                              rk0,
                              "--author-pub",
                              below.pub,
                              "--name",
                              "below",
                              "--vendor-domain",
                              "below.example",
                              "--class",
                              "sensor",
                              NULL};
        rc = run(cl, args, out, sizeof out);
        if (rc != 0 || strstr(out, "signatures: 1 of 2 needed") == NULL)
            fail_msg("author register -o exited %d:\n%s", rc, out);
    }
    {
        const char *args[] = {"tx",   "submit",    "--node",    cl->base[0],
                              txfile, "--wait",    "certified", "--genesis",
                              g,      "--timeout", "30",        NULL};
        rc = run(cl, args, out, sizeof out);
        if (rc != 3 || strstr(out, "below-threshold") == NULL)
            fail_msg("tx submit of a 1-of-2 registration exited %d, expected "
                     "3 with below-threshold:\n%s",
                     rc, out);
    }
    make_manifest(cl, &below, "below.example", "sensor", 1, &other,
                  "below.suit", s_below, sizeof s_below);

    /* acme outside its registration: another class, another vendor. */
    make_manifest(cl, &acme, "acme.example", "gateway", 9, &other, "class.suit",
                  s_class, sizeof s_class);
    make_manifest(cl, &acme, "other.example", "sensor", 9, &other,
                  "vendor.suit", s_vendor, sizeof s_vendor);

    /* acme, tampered: a signature bit, a manifest bit. */
    make_manifest(cl, &acme, "acme.example", "sensor", 9, &other, "good-9.suit",
                  s_good, sizeof s_good);
    snprintf(s_sig, sizeof s_sig, "%s/bad-signature.suit", cl->root);
    tamper(s_good, s_sig, 1);
    snprintf(s_manifest, sizeof s_manifest, "%s/bad-manifest.suit", cl->root);
    tamper(s_good, s_manifest, 0);

    /* acme, rollback: the same sequence number, and a lower one. */
    make_manifest(cl, &acme, "acme.example", "sensor", 5, &other,
                  "rollback-5.suit", s_rollback_eq, sizeof s_rollback_eq);
    make_manifest(cl, &acme, "acme.example", "sensor", 4, &other,
                  "rollback-4.suit", s_rollback_lt, sizeof s_rollback_lt);

    /* acme, an image over the policy's 2 MiB. */
    make_manifest(cl, &acme, "acme.example", "sensor", 9, &too_large,
                  "too-large.suit", s_large, sizeof s_large);

    /* acme, a good manifest for `other`, to upload the wrong file to. */
    make_manifest(cl, &acme, "acme.example", "sensor", 6, &other, "digest.suit",
                  s_digest, sizeof s_digest);

    snapshot(cl, &before);
    assert_int_equal(before.manifests, 1);

    {
        const refusal_t rows[] = {
            {"unregistered author", s_stranger, other.path, 403,
             "unknown-author"},
            {"revoked author", s_revoked, other.path, 403, "revoked-author"},
            {"author registered below threshold", s_below, other.path, 403,
             "unknown-author"},
            {"class outside the registration", s_class, other.path, 403,
             "out-of-scope"},
            {"vendor outside the registration", s_vendor, other.path, 403,
             "out-of-scope"},
            /* The kid names the registered author, whose key does not
             * verify the signature: bad-signature, not unknown-author. */
            {"signature bit flipped", s_sig, other.path, 403, "bad-signature"},
            {"manifest bit flipped", s_manifest, other.path, 400, "suit-auth"},
            {"rollback to the same sequence number", s_rollback_eq, other.path,
             409, "rollback"},
            {"rollback to a lower sequence number", s_rollback_lt, other.path,
             409, "rollback"},
            {"image over the policy's maximum size", s_large, too_large.path,
             413, "image-too-large"},
        };
        for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
            char err[64];
            long st;
            t0 = cl_now_ms();
            rc = publish(cl, (size_t)k % cl->n, rows[k].suit, rows[k].image,
                         out, sizeof out);
            if (rc != 3 || strstr(out, rows[k].error) == NULL)
                fail_msg("%s: dsuit publish exited %d, expected 3 naming "
                         "%s:\n%s",
                         rows[k].label, rc, rows[k].error, out);
            st = post_publish(cl, (size_t)(k + 1) % cl->n, rows[k].suit, err,
                              sizeof err, NULL, 0);
            if (st != rows[k].http || strcmp(err, rows[k].error) != 0)
                fail_msg("%s: POST /v1/publish answered %ld %s, expected "
                         "%ld %s",
                         rows[k].label, st, err, rows[k].http, rows[k].error);
            assert_unchanged(cl, &before, rows[k].label);
            printf("# refused: %-40s exit 3, HTTP %ld %s (%.2f s)\n",
                   rows[k].label, st, err, secs_since(t0));
        }
    }

    /* The wrong image for a good manifest: `dsuit publish` finds no image
     * the manifest names (usage, 2); uploaded anyway, the node checks
     * size and digest before storing anything. */
    {
        char err[64], loc[200];
        long st;
        rc = publish(cl, 2, s_digest, same_size.path, out, sizeof out);
        if (rc != 2 || strstr(out, "no --image matches") == NULL)
            fail_msg("publish with another image of the same size exited "
                     "%d, expected 2:\n%s",
                     rc, out);
        assert_unchanged(cl, &before, "dsuit publish with the wrong image");

        st = post_publish(cl, 2, s_digest, err, sizeof err, loc, sizeof loc);
        assert_int_equal(st, 201);
        assert_true(strncmp(loc, "/v1/uploads/", 12) == 0);
        st = put_upload(cl, 2, loc, same_size.path, err, sizeof err);
        if (st != 400 || strcmp(err, "image-digest") != 0)
            fail_msg("PUT of another image of the same size answered %ld "
                     "%s, expected 400 image-digest",
                     st, err);
        assert_unchanged(cl, &before, "image digest mismatch");
        printf("# refused: %-40s HTTP %ld %s\n", "image digest mismatch", st,
               err);
        st = put_upload(cl, 2, loc, bigger.path, err, sizeof err);
        if (st != 400 || strcmp(err, "image-size") != 0)
            fail_msg("PUT of an image one byte longer answered %ld %s, "
                     "expected 400 image-size",
                     st, err);
        assert_unchanged(cl, &before, "image size mismatch");
        printf("# refused: %-40s HTTP %ld %s\n", "image size mismatch", st,
               err);
    }

    /* Not a broken cluster: the right image for that manifest goes in. */
    publish_ok(cl, 3, s_digest, &other, NULL);
    assert_int_equal(manifest_count(cl, 0), 2);
    assert_all_running(cl);
    image_free(&base);
    image_free(&other);
    image_free(&same_size);
    image_free(&bigger);
    image_free(&too_large);
    cl->keep = 0;
}

/* ---- 3. a holder killed, repair
 * ---------------------------------------------- */

static void kill_holder_then_repair_restores_r_copies(void **state)
{
    cl_t *cl = *state;
    image_t img;
    author_t a;
    char suit[400];
    size_t victim = SIZE_MAX, best = 0, on_victim = 0, repaired = 0;
    uint64_t t0, t_kill;
    int leader, ok = 0;

    leader = start_cluster(cl, 4, NULL);
    make_author(cl, "author", &a);
    register_ok(cl, 0, &a, "acme.example", "sensor");
    make_image(cl, "fw.bin", 4 * MIB, &img);
    make_manifest(cl, &a, "acme.example", "sensor", 1, &img, "fw.suit", suit,
                  sizeof suit);
    printf("# timing: publish of 4 MiB certified in %.2f s\n",
           publish_ok(cl, 0, suit, &img, NULL));

    /* The victim: a holder that is neither the node published through
     * nor the leader (so that the chain keeps its pace), with most chunks. */
    for (size_t i = 1; i < cl->n; i++) {
        size_t held = 0;
        for (size_t c = 0; c < img.n_chunks; c++)
            held += placed_on(cl, img.chunks[c], i);
        if ((int)i != leader && held > best) {
            best = held;
            victim = i;
        }
    }
    assert_true(victim != SIZE_MAX && best > 0);
    on_victim = best;
    printf("# killing n%zu, holder of %zu of %zu chunks\n", victim, on_victim,
           img.n_chunks);
    t_kill = cl_now_ms();
    cl_kill9(cl, victim);

    /* Available at once from the others. */
    t0 = cl_now_ms();
    for (size_t i = 0; i < cl->n; i++)
        if (i != victim)
            assert_image_served(cl, i, &img);
    printf("# timing: image from 3 live nodes right after the kill in %.2f "
           "s\n",
           secs_since(t0));

    /* Within ~30 s: the dead holder's chunks are under-replicated, and the
     * next validator in rendezvous order has copied them. */
    for (;;) {
        int all = 1;
        repaired = 0;
        for (size_t i = 0; i < cl->n; i++) {
            cl_store_t s;
            if (i == victim)
                continue;
            store_of(cl, i, &s);
            repaired += (size_t)s.repaired;
            all &= s.under == on_victim;
        }
        for (size_t c = 0; c < img.n_chunks && all; c++) {
            size_t copies = 0;
            for (size_t i = 0; i < cl->n; i++) {
                char p[500];
                if (i != victim)
                    copies += (size_t)cl_chunk_file(cl, i, img.chunks[c], p,
                                                    sizeof p);
            }
            all &= copies >= R;
        }
        if (all && repaired >= on_victim) {
            ok = 1;
            break;
        }
        if (cl_now_ms() - t_kill > 40000)
            break;
        cl_sleep_ms(250);
    }
    for (size_t i = 0; i < cl->n; i++) {
        cl_store_t s;
        if (i == victim)
            continue;
        store_of(cl, i, &s);
        printf("# n%zu: chunks %llu, under-replicated %llu, repaired %llu, "
               "files %zu\n",
               i, (unsigned long long)s.chunks, (unsigned long long)s.under,
               (unsigned long long)s.repaired, cl_chunk_files(cl, i));
    }
    if (!ok)
        fail_msg("40 s after n%zu died: repaired %zu copies of %zu chunks "
                 "it held, or a chunk has fewer than %u copies on live "
                 "nodes, or under_replicated is not %zu",
                 victim, repaired, on_victim, R, on_victim);
    assert_int_equal(repaired, on_victim); /* and nothing else moved */
    printf("# timing: repair complete %.2f s after the kill\n",
           secs_since(t_kill));
    for (size_t i = 0; i < cl->n; i++)
        if (i != victim)
            assert_image_served(cl, i, &img);
    assert_all_running(cl);
    image_free(&img);
    cl->keep = 0;
}

/* ---- 4. a lying validator and damaged chunk files
 * ----------------------------- */

/*
 * A validator that lies: an HTTP server on a validator's genesis HTTP
 * port, in place of its node. It takes the chunks placed on it (PUT
 * /internal/v1/chunks/...) and answers every GET of one with corrupted
 * bytes: one bit flipped, or the last byte dropped, in turn. Votes and
 * other requests get 204. It never checks peer signatures: it is the
 * adversary, not a validator.
 */
#define LIAR_MAX_CHUNKS 64

typedef struct {
    int fd;
    pthread_t th;
    pthread_mutex_t mu;
    int stop;
    struct {
        uint8_t d[32];
        uint8_t *data;
        size_t len;
    } chunk[LIAR_MAX_CHUNKS];
    size_t n;
    unsigned puts, lies, unknown, other;
} liar_t;

static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static void reply(int fd, int status, const char *reason, const uint8_t *body,
                  size_t len)
{
    char h[256];
    int n = snprintf(h, sizeof h,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n"
                     "Content-Type: application/octet-stream\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, len);
    if (send_all(fd, h, (size_t)n) == 0 && len > 0)
        send_all(fd, body, len);
}

/* A header's value (case-insensitive name) in the head, or NULL. */
static const char *header(const char *head, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL;
         p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':')
            return p + 3 + nl;
    }
    return NULL;
}

static void liar_serve(liar_t *l, int fd)
{
    static char head[8192];
    size_t hl = 0, body_len = 0, have;
    char method[8], path[200];
    const char *v, *end;
    uint8_t *body = NULL;
    struct timeval tv = {2, 0};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
        ssize_t r = recv(fd, head + hl, sizeof head - 1 - hl, 0);
        if (r <= 0)
            return;
        hl += (size_t)r;
        head[hl] = '\0';
        if (strstr(head, "\r\n\r\n") != NULL)
            break;
        if (hl == sizeof head - 1)
            return;
    }
    end = strstr(head, "\r\n\r\n");
    if (sscanf(head, "%7s %199s", method, path) != 2)
        return;
    v = header(head, "Content-Length");
    if (v != NULL)
        body_len = strtoul(v, NULL, 10);
    if (body_len > 4 * CHUNK) {
        reply(fd, 413, "Too Large", NULL, 0);
        return;
    }
    v = header(head, "Expect");
    if (v != NULL && strstr(v, "100") != NULL)
        send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    body = malloc(body_len + 1);
    if (body == NULL)
        return;
    have = hl - (size_t)(end + 4 - head);
    if (have > body_len)
        have = body_len;
    memcpy(body, end + 4, have);
    while (have < body_len) {
        ssize_t r = recv(fd, body + have, body_len - have, 0);
        if (r <= 0) {
            free(body);
            return;
        }
        have += (size_t)r;
    }

    if (strncmp(path, "/internal/v1/chunks/", 20) == 0 &&
        strlen(path) == 20 + 64) {
        uint8_t d[32];
        for (size_t k = 0; k < 32; k++) {
            unsigned x;
            sscanf(path + 20 + 2 * k, "%2x", &x);
            d[k] = (uint8_t)x;
        }
        pthread_mutex_lock(&l->mu);
        if (strcmp(method, "PUT") == 0) {
            if (l->n < LIAR_MAX_CHUNKS) {
                memcpy(l->chunk[l->n].d, d, 32);
                l->chunk[l->n].data = body;
                l->chunk[l->n].len = body_len;
                l->n++;
                body = NULL;
            }
            l->puts++;
            pthread_mutex_unlock(&l->mu);
            reply(fd, 204, "No Content", NULL, 0);
        } else {
            size_t k = 0;
            while (k < l->n && memcmp(l->chunk[k].d, d, 32) != 0)
                k++;
            if (k == l->n) {
                l->unknown++;
                pthread_mutex_unlock(&l->mu);
                reply(fd, 404, "Not Found", NULL, 0);
            } else {
                size_t len = l->chunk[k].len;
                uint8_t *lie = malloc(len ? len : 1);
                int drop = l->lies % 2;
                if (lie != NULL) {
                    memcpy(lie, l->chunk[k].data, len);
                    if (drop)
                        len--;
                    else
                        lie[len / 2] ^= 0x20;
                }
                l->lies++;
                pthread_mutex_unlock(&l->mu);
                reply(fd, lie ? 200 : 500, "OK", lie, lie ? len : 0);
                free(lie);
            }
        }
    } else {
        pthread_mutex_lock(&l->mu);
        l->other++;
        pthread_mutex_unlock(&l->mu);
        reply(fd, 204, "No Content", NULL, 0);
    }
    free(body);
}

static void *liar_main(void *arg)
{
    liar_t *l = arg;
    for (;;) {
        struct pollfd p = {l->fd, POLLIN, 0};
        int stop, c;
        pthread_mutex_lock(&l->mu);
        stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            return NULL;
        if (poll(&p, 1, 100) <= 0)
            continue;
        c = accept(l->fd, NULL, NULL);
        if (c < 0)
            continue;
        liar_serve(l, c);
        close(c);
    }
}

static void liar_start(liar_t *l, uint16_t port)
{
    struct sockaddr_in a;
    int one = 1;
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    l->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l->fd >= 0);
    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(l->fd, 64) != 0)
        fail_msg("the lying validator cannot listen on port %u: %s",
                 (unsigned)port, strerror(errno));
    assert_int_equal(pthread_create(&l->th, NULL, liar_main, l), 0);
}

static void liar_stop(liar_t *l)
{
    if (l->fd <= 0)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    close(l->fd);
    l->fd = 0;
    for (size_t k = 0; k < l->n; k++)
        free(l->chunk[k].data);
    pthread_mutex_destroy(&l->mu);
}

static liar_t *g_liar; /* stopped by the teardown if the test fails */

static int teardown_liar(void **state)
{
    if (g_liar != NULL) {
        liar_stop(g_liar);
        free(g_liar);
        g_liar = NULL;
    }
    return cl_teardown(state);
}

/* Flip a bit in the middle of a file. */
static void damage_file(const char *path)
{
    int fd = open(path, O_RDWR);
    struct stat sb;
    uint8_t b;
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &sb), 0);
    assert_true(sb.st_size > 0);
    assert_int_equal(pread(fd, &b, 1, sb.st_size / 2), 1);
    b ^= 0x10;
    assert_int_equal(pwrite(fd, &b, 1, sb.st_size / 2), 1);
    close(fd);
}

/* GET /internal/v1/chunks/{d} on node i, signed as validator `as`. */
static long internal_get_chunk(const cl_t *cl, size_t i, size_t as,
                               const uint8_t d[32])
{
    char path[100], hex[65], hdr[3][DSUIT_PEER_HEADER_MAX];
    const char *headers[4];
    cl_hex(d, 32, hex);
    snprintf(path, sizeof path, "/internal/v1/chunks/%s", hex);
    assert_int_equal(dsuit_peer_sign(&cl->val[as], as, cl->g->hash, "GET", path,
                                     NULL, 0, cl_wall_ms(), hdr),
                     DSUIT_OK);
    headers[0] = hdr[0];
    headers[1] = hdr[1];
    headers[2] = hdr[2];
    headers[3] = NULL;
    return cl_http(cl, i, "GET", path, headers, NULL, 0, NULL, NULL);
}

static void corrupted_chunk_server_never_reaches_a_client(void **state)
{
    cl_t *cl = *state;
    const size_t liar_i = 2, damaged = 1;
    const size_t real[3] = {0, 1, 3};
    image_t img;
    author_t a;
    char suit[400];
    size_t asked_first[CL_MAX_NODES] = {0}, n_damaged = 0, lies;
    uint64_t t0;
    liar_t *l;

    cl_create(cl, 4, HEARTBEAT_MS);
    l = calloc(1, sizeof *l);
    assert_non_null(l);
    g_liar = l;
    liar_start(l, cl->g->validators[liar_i].http_port);
    for (size_t k = 0; k < 3; k++)
        cl_start(cl, real[k]);
    if (cl_wait_leader(cl, 0, 15000, NULL) < 0)
        fail_msg("no leader among n0, n1, n3 in 15 s");

    /* An image with a chunk that some real validator lacks and asks the
     * liar for first (rendezvous order), so that the lie is certainly
     * told to a validator during the image checks. */
    for (int attempt = 0;; attempt++) {
        memset(asked_first, 0, sizeof asked_first);
        make_image(cl, "fw.bin", 4 * MIB, &img);
        for (size_t c = 0; c < img.n_chunks; c++) {
            if (!placed_on(cl, img.chunks[c], liar_i))
                continue;
            for (size_t k = 0; k < 3; k++) {
                size_t z = real[k];
                if (!placed_on(cl, img.chunks[c], z) &&
                    first_other(cl, img.chunks[c], z) == liar_i)
                    asked_first[z]++;
            }
        }
        if (asked_first[0] + asked_first[1] + asked_first[3] > 0)
            break;
        assert_true(attempt < 20);
        image_free(&img);
    }

    make_author(cl, "author", &a);
    register_ok(cl, 0, &a, "acme.example", "sensor");
    make_manifest(cl, &a, "acme.example", "sensor", 1, &img, "fw.suit", suit,
                  sizeof suit);
    printf("# timing: publish of 4 MiB with a lying validator certified in "
           "%.2f s\n",
           publish_ok(cl, 0, suit, &img, NULL));

    pthread_mutex_lock(&l->mu);
    printf("# liar: %u chunks taken, %u corrupted answers, %u unknown, %u "
           "other requests\n",
           l->puts, l->lies, l->unknown, l->other);
    assert_true(l->puts > 0);
    assert_true(l->lies > 0);
    pthread_mutex_unlock(&l->mu);
    for (size_t k = 0; k < 3; k++) {
        size_t z = real[k];
        if (asked_first[z] > 0 &&
            !log_has(cl, z, "a peer served a corrupted chunk peer=n2"))
            fail_msg("n%zu asked the liar first for %zu chunks but its log "
                     "does not say it was served a corrupted chunk",
                     z, asked_first[z]);
    }
    for (size_t k = 0; k < 3; k++)
        assert_image_served(cl, real[k], &img);

    /* Now damage every chunk file node 1 holds, on disk. */
    for (size_t c = 0; c < img.n_chunks; c++) {
        char p[500];
        if (cl_chunk_file(cl, damaged, img.chunks[c], p, sizeof p)) {
            damage_file(p);
            n_damaged++;
        }
    }
    assert_true(n_damaged > 0);
    printf("# damaged %zu chunk files of n%zu\n", n_damaged, damaged);
    /* And the image node 1 assembled for its client above, in its image
     * cache: it must not be served as it is. */
    {
        char p[600], hex[65];
        cl_hex(img.digest, 32, hex);
        snprintf(p, sizeof p, "%s/cache/%s", cl->data[damaged], hex);
        if (access(p, F_OK) != 0)
            fail_msg("n%zu served the image but did not cache it at %s",
                     damaged, p);
        damage_file(p);
    }
    /* Its internal chunk route refuses a damaged copy, and removes it. */
    for (size_t c = 0; c < img.n_chunks; c++) {
        char p[500];
        if (!cl_chunk_file(cl, damaged, img.chunks[c], p, sizeof p))
            continue;
        assert_int_equal(internal_get_chunk(cl, damaged, 0, img.chunks[c]),
                         404);
        assert_int_equal(cl_chunk_file(cl, damaged, img.chunks[c], p, sizeof p),
                         0);
        n_damaged--;
        break;
    }
    /* A client of node 1: its damaged copies are found and replaced, the
     * liar's answers are thrown away, and the image comes out exact. */
    pthread_mutex_lock(&l->mu);
    lies = l->lies;
    pthread_mutex_unlock(&l->mu);
    t0 = cl_now_ms();
    assert_image_served(cl, damaged, &img); /* first: it reads its damage */
    if (!log_has(cl, damaged, "removed a damaged cached image"))
        fail_msg("n%zu's log does not say it removed its damaged cached "
                 "image",
                 damaged);
    if (n_damaged > 0 && !log_has(cl, damaged, "removed a damaged chunk"))
        fail_msg("n%zu read %zu damaged chunk files but its log does not "
                 "say it removed them",
                 damaged, n_damaged);
    assert_image_served(cl, 0, &img);
    assert_image_served(cl, 3, &img);
    printf("# timing: image from n1, n0, n3 after the damage in %.2f s\n",
           secs_since(t0));
    pthread_mutex_lock(&l->mu);
    printf("# liar: %u corrupted answers in all (%zu after the damage)\n",
           l->lies, (size_t)l->lies - lies);
    pthread_mutex_unlock(&l->mu);
    /* Node 1 holds good copies again where placement puts them. */
    for (size_t c = 0; c < img.n_chunks; c++) {
        char p[500];
        if (placed_on(cl, img.chunks[c], damaged))
            assert_true(cl_chunk_file(cl, damaged, img.chunks[c], p, sizeof p));
    }
    assert_image_served(cl, damaged, &img);
    assert_all_running(cl);
    image_free(&img);
    cl->keep = 0;
}

/* ---- 5. the author and its node gone --------------------------------------
 */

static void author_disappears_and_everything_stays_available(void **state)
{
    cl_t *cl = *state;
    const size_t via = 1;
    image_t img;
    author_t a;
    char suit[400], digest[65], path[300];
    uint8_t *env = NULL;
    size_t env_len = 0;
    uint64_t t0;
    FILE *f;

    start_cluster(cl, 4, NULL);
    make_author(cl, "author", &a);
    register_ok(cl, via, &a, "acme.example", "sensor");
    make_image(cl, "fw.bin", 2 * MIB, &img);
    make_manifest(cl, &a, "acme.example", "sensor", 7, &img, "fw.suit", suit,
                  sizeof suit);
    publish_ok(cl, via, suit, &img, digest);

    /* The author's key is gone, and so is the node it published through. */
    assert_int_equal(unlink(a.key), 0);
    assert_int_equal(access(a.key, F_OK), -1);
    cl_kill9(cl, via);
    t0 = cl_now_ms();

    f = fopen(suit, "rb");
    assert_non_null(f);
    env = malloc(1 << 16);
    assert_non_null(env);
    env_len = fread(env, 1, 1 << 16, f);
    fclose(f);
    assert_true(env_len > 0);

    for (size_t i = 0; i < cl->n; i++) {
        uint8_t *b = NULL;
        size_t bl = 0;
        long st;
        json_t *j, *list;
        const char *vendor = NULL, *klass = NULL;
        if (i == via)
            continue;
        /* The manifest, by listing, then as the newest of its class. */
        st = cl_http(cl, i, "GET", "/v1/manifests", NULL, NULL, 0, &b, &bl);
        assert_int_equal(st, 200);
        j = json_loadb((const char *)b, bl, 0, NULL);
        free(b);
        b = NULL;
        list = json_object_get(j, "manifests");
        for (size_t k = 0; k < json_array_size(list); k++) {
            json_t *m = json_array_get(list, k);
            if (strcmp(jstr(m, "digest"), digest) == 0) {
                vendor = json_string_value(json_object_get(m, "vendor_id"));
                klass = json_string_value(json_object_get(m, "class_id"));
            }
        }
        if (vendor == NULL || klass == NULL)
            fail_msg("n%zu does not list manifest %s", i, digest);
        snprintf(path, sizeof path, "/v1/manifests/latest?vendor=%s&class=%s",
                 vendor, klass);
        json_decref(j);
        st = cl_http(cl, i, "GET", path, NULL, NULL, 0, &b, &bl);
        if (st != 200)
            fail_msg("n%zu: GET %s answered %ld", i, path, st);
        assert_int_equal(bl, env_len);
        assert_memory_equal(b, env, env_len);
        free(b);
        b = NULL;

        /* The image. */
        assert_image_served(cl, i, &img);

        /* The proof: certified, so 200 (409 only until then). */
        snprintf(path, sizeof path, "/v1/proof/%s", digest);
        {
            uint64_t tp = cl_now_ms();
            for (;;) {
                st = cl_http(cl, i, "GET", path, NULL, NULL, 0, &b, &bl);
                if (st == 200 || cl_now_ms() - tp > 10000)
                    break;
                free(b);
                b = NULL;
                cl_sleep_ms(100);
            }
        }
        if (st != 200)
            fail_msg("n%zu: GET %s answered %ld", i, path, st);
        assert_true(bl > 0 && b[0] == 0x84); /* [header, cert, leaf, path] */
        /* ... and it convinces a device that trusts only the genesis. */
        {
            dsuit_key_t keys[CL_MAX_NODES];
            dsuit_trust_t t = {cl->g->hash, keys, cl->g->n_validators,
                               cl->g->policy.quorum};
            dsuit_ledger_proof_info_t info;
            uint8_t want[32];
            int rc;
            for (size_t k = 0; k < cl->g->n_validators; k++)
                keys[k] = cl->g->validators[k].key;
            for (size_t k = 0; k < 32; k++)
                assert_int_equal(sscanf(digest + 2 * k, "%2hhx", &want[k]), 1);
            rc = dsuit_ledger_proof_verify(b, bl, &t, want, 0, 0, &info);
            if (rc != DSUIT_OK)
                fail_msg("n%zu: the proof does not verify: %s", i,
                         dsuit_strerror(rc));
            assert_true(info.votes >= cl->g->policy.quorum);
            want[0] ^= 1; /* not a proof for another manifest */
            assert_int_equal(
                dsuit_ledger_proof_verify(b, bl, &t, want, 0, 0, NULL),
                DSUIT_E_DIGEST);
        }
        free(b);
    }
    printf("# timing: manifest, image and proof from the 3 other nodes in "
           "%.2f s\n",
           secs_since(t0));
    free(env);
    assert_all_running(cl);
    image_free(&img);
    cl->keep = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            publish_1_10_100_mib_places_every_chunk_on_its_r_holders, cl_setup,
            cl_teardown),
        cmocka_unit_test_setup_teardown(refusals_store_and_commit_nothing,
                                        cl_setup, cl_teardown),
        cmocka_unit_test_setup_teardown(
            kill_holder_then_repair_restores_r_copies, cl_setup, cl_teardown),
        cmocka_unit_test_setup_teardown(
            corrupted_chunk_server_never_reaches_a_client, cl_setup,
            teardown_liar),
        cmocka_unit_test_setup_teardown(
            author_disappears_and_everything_stays_available, cl_setup,
            cl_teardown),
    };
    const char *filter = getenv("DSUIT_TEST_FILTER");
    if (filter != NULL)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name("system.publish", tests, NULL, NULL);
}
