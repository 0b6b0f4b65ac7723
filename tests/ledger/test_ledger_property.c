/*
 * Property test of the ledger: a seeded generator makes at least 10,000
 * transactions of every type, valid and invalid (mutations of valid ones:
 * flipped bytes, truncation, wrong chain, dropped, repeated or reordered
 * signatures, replays, rollbacks, unknown types), packs them into blocks of
 * 1..64 proposed by a random validator and applied. Then:
 *   (a) dsuit_ledger_verify on the folder passes;
 *   (b) a fresh ledger in another folder, fed the same blocks read back with
 *       dsuit_ledger_block, has the same block hash at every height and the
 *       same final state root;
 *   (c) closing and reopening the original gives the same tip.
 * Along the way, mutations whose result code the document fixes whatever
 * the state (wrong chain, unknown type, truncated, replay of an applied
 * transaction) are checked, and at the end the mix of result codes must
 * cover every code the generator aims at, so the test cannot pass with a
 * generator that only makes garbage.
 *
 * Environment: DSUIT_SEED (decimal or 0x-hex) replaces the fixed seed, which
 * every failure message prints; DSUIT_PROPERTY_TXS sets the transaction
 * count (default 10000; smaller values are raised to 10000 unless
 * DSUIT_PROPERTY_ALLOW_FEWER=1, meant only for quick local runs).
 * Keys are derived from the seed (PKCS#8 / SEC1 PEM), so a seed reproduces
 * the same transactions and result codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/block.h"
#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"

#include "ledger_fixture.h"

#define N_VAL        4
#define N_REG        3
#define K            2
#define N_POOL       16 /* author keys; bounds the AUTHORS table */
#define N_DEVKEYS    3
#define N_VENDORS    2
#define N_CLASSES    3
#define CHUNK        4096u
#define MAX_IMG      (16u * CHUNK)
#define TXCAP        4096
#define MIN_TXS      10000
#define DEFAULT_SEED 0x5eedd5e1c0ffee01ull

static uint64_t g_seed;

#define pfail(...)                                                             \
    do {                                                                       \
        print_error("seed 0x%016llx: ", (unsigned long long)g_seed);           \
        fail_msg(__VA_ARGS__);                                                 \
    } while (0)

/* ---- PRNG (splitmix64) ------------------------------------------------ */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rnd(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(rng_t *r, uint64_t n)
{
    return n ? rnd(r) % n : 0;
}

static void rnd_bytes(rng_t *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(r);
}

/* ---- keys from the seed ------------------------------------------------ */

static void b64(const uint8_t *in, size_t n, char *out)
{
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 |
                     (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = 0;
}

/* A P-256 (SEC1) or Ed25519 (PKCS#8) private key from 32 PRNG bytes. */
static void key_from_rng(rng_t *r, dsuit_key_type_t type, dsuit_key_t *k)
{
    static const uint8_t ed[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30,
                                 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
                                 0x04, 0x22, 0x04, 0x20};
    static const uint8_t ec[] = {0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20};
    static const uint8_t ec_oid[] = {0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                     0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    uint8_t der[64];
    char b[128], pem[256];
    size_t n;
    const char *label;
    if (type == DSUIT_KEY_ED25519) {
        memcpy(der, ed, sizeof ed);
        rnd_bytes(r, der + sizeof ed, 32);
        n = sizeof ed + 32;
        label = "PRIVATE KEY";
    } else {
        memcpy(der, ec, sizeof ec);
        rnd_bytes(r, der + sizeof ec, 32);
        der[sizeof ec] &= 0x7f; /* a scalar below the group order */
        der[sizeof ec] |= 0x01;
        memcpy(der + sizeof ec + 32, ec_oid, sizeof ec_oid);
        n = sizeof ec + 32 + sizeof ec_oid;
        label = "EC PRIVATE KEY";
    }
    b64(der, n, b);
    snprintf(pem, sizeof pem, "-----BEGIN %s-----\n%s\n-----END %s-----\n",
             label, b, label);
    memset(k, 0, sizeof *k);
    int rc = dsuit_key_from_pem(pem, strlen(pem), k);
    if (rc != DSUIT_OK || !k->has_private)
        pfail("key from seed: %s", dsuit_err_name(rc));
}

/* ---- the world ----------------------------------------------------------- */

/* What a generated transaction is about (steers the generator only). */
typedef struct {
    int kind; /* 0 author, 1 revoke, 2 rotate, 3 publish, 4 device, -1 */
    int a, b; /* pool indices: the key, and the new key of a rotation */
    int v, c; /* vendor and class index (c -1: every class) */
} meta_t;

typedef struct {
    uint8_t *tx;
    size_t len;
    int expect; /* result code fixed by the document, or -1 */
    int committed;
    uint64_t result;
    meta_t m;
} hist_t;

/* The generator's belief about each pool key, from committed results. */
enum { K_FRESH = 0, K_ACTIVE = 1, K_DEAD = 2 };

typedef struct {
    rng_t r;
    char root[256], dir_a[300], dir_b[300];
    dsuit_key_t val[N_VAL], reg[N_REG], pool[N_POOL], dev[N_DEVKEYS];
    dsuit_key_t stranger;
    uint8_t vendors[N_VENDORS][16], classes[N_CLASSES][16];
    uint8_t genesis[8192];
    size_t genesis_len;
    uint8_t chain[32];
    uint64_t nonce, now;
    uint64_t seq[N_VENDORS][N_CLASSES][2];
    hist_t *hist;
    size_t n_hist, cap_hist, n_committed;
    int kstate[N_POOL], kvendor[N_POOL], kclass[N_POOL];
    meta_t cur; /* meta of the transaction being generated */

    uint64_t hist_codes[16];
} world_t;

static void open_ledger(const char *dir, const uint8_t *g, size_t gl,
                        dsuit_ledger_t **out)
{
    dsuit_ledger_opts_t o = {0};
    const char *why = NULL;
    o.store.no_sync = 1;
    int rc = dsuit_ledger_open(dir, g, gl, &o, out, &why);
    if (rc != DSUIT_OK)
        pfail("open %s: %s (%s)", dir, dsuit_err_name(rc), why ? why : "");
}

static void world_init(world_t *w)
{
    dsuit_genesis_t *g;
    const char *why = NULL;
    w->r.s = g_seed;
    for (int i = 0; i < N_VAL; i++)
        key_from_rng(&w->r, i % 2 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                     &w->val[i]);
    for (int i = 0; i < N_REG; i++)
        key_from_rng(&w->r, i == 1 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                     &w->reg[i]);
    for (int i = 0; i < N_POOL; i++)
        key_from_rng(&w->r, i % 3 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                     &w->pool[i]);
    for (int i = 0; i < N_DEVKEYS; i++)
        key_from_rng(&w->r, i % 2 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                     &w->dev[i]);
    key_from_rng(&w->r, DSUIT_KEY_P256, &w->stranger);
    rnd_bytes(&w->r, &w->vendors[0][0], sizeof w->vendors);
    rnd_bytes(&w->r, &w->classes[0][0], sizeof w->classes);

    assert_int_equal(dsuit_genesis_new(&g), DSUIT_OK);
    strcpy(g->chain_name, "property-chain");
    g->time = 1700000000;
    for (int i = 0; i < N_VAL; i++) {
        char name[16];
        snprintf(name, sizeof name, "v%d", i);
        assert_int_equal(dsuit_genesis_add_validator(g, name, &w->val[i],
                                                     "127.0.0.1", 7000 + i,
                                                     8000 + i, 5683 + i),
                         DSUIT_OK);
    }
    for (int i = 0; i < N_REG; i++)
        assert_int_equal(dsuit_genesis_add_registrar(g, &w->reg[i]), DSUIT_OK);
    g->threshold = K;
    g->policy.chunk_size = CHUNK;
    g->policy.max_image_size = MAX_IMG;
    if (dsuit_genesis_validate(g, &why) != DSUIT_OK)
        pfail("genesis: %s", why ? why : "");
    assert_int_equal(
        dsuit_genesis_encode(g, w->genesis, sizeof w->genesis, &w->genesis_len),
        DSUIT_OK);
    memcpy(w->chain, g->hash, 32);
    dsuit_genesis_free(g);
    w->nonce = 1;
    w->now = 1700000000000ull;
}

/* ---- transaction builders ------------------------------------------------ */

static size_t assemble(const uint8_t *body, size_t bl,
                       const dsuit_key_t *signers, size_t n, uint8_t *out)
{
    size_t len;
    int rc = dsuit_tx_assemble(body, bl, signers, n, out, TXCAP, &len);
    if (rc != DSUIT_OK)
        pfail("assemble: %s", dsuit_err_name(rc));
    return len;
}

/* k distinct registrars in random order. */
static size_t pick_registrars(world_t *w, size_t k, dsuit_key_t *out)
{
    int idx[N_REG] = {0, 1, 2};
    for (int i = N_REG - 1; i > 0; i--) {
        int j = (int)below(&w->r, (uint64_t)i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (size_t i = 0; i < k; i++)
        out[i] = w->reg[idx[i]];
    return k;
}

static const uint8_t *chain_for(world_t *w, int wrong, uint8_t buf[32])
{
    memcpy(buf, w->chain, 32);
    if (wrong) {
        size_t at = below(&w->r, 32);
        unsigned bit = (unsigned)below(&w->r, 8);
        buf[at] ^= (uint8_t)(1u << bit);
    }
    return buf;
}

/* A pool key in state st with probability p/100 if one exists, else any. */
static int pick_key(world_t *w, int st, unsigned p)
{
    int cand[N_POOL], n = 0;
    for (int i = 0; i < N_POOL; i++) {
        if (w->kstate[i] == st)
            cand[n++] = i;
    }
    if (n > 0 && below(&w->r, 100) < p)
        return cand[below(&w->r, (uint64_t)n)];
    return (int)below(&w->r, N_POOL);
}

static int n_active(const world_t *w)
{
    int n = 0;
    for (int i = 0; i < N_POOL; i++)
        n += w->kstate[i] == K_ACTIVE;
    return n;
}

/* The key to revoke or rotate away: an active one only while more than 8
 * are believed active (the chain must not run out of authors: a key is
 * never registered twice), else one that is not active (refused). */
static int pick_victim(world_t *w)
{
    int cand[N_POOL], n = 0;
    if (n_active(w) > 8)
        return pick_key(w, K_ACTIVE, 80);
    for (int i = 0; i < N_POOL; i++) {
        if (w->kstate[i] != K_ACTIVE)
            cand[n++] = i;
    }
    return n ? cand[below(&w->r, (uint64_t)n)] : (int)below(&w->r, N_POOL);
}

static size_t gen_author(world_t *w, int wrong, uint8_t *out)
{
    uint8_t body[1024], ch[32];
    uint8_t cls[1][16];
    dsuit_key_t signers[N_REG];
    size_t bl, n_cls = below(&w->r, 3) == 0;
    /* mostly K or more registrars, sometimes fewer */
    static const size_t nsig[] = {0, 1, 2, 2, 2, 3, 3};
    size_t ns = nsig[below(&w->r, sizeof nsig / sizeof nsig[0])];
    int ia = pick_key(w, K_FRESH, 90);
    const dsuit_key_t *a = &w->pool[ia];
    int v = (int)below(&w->r, N_VENDORS), c = (int)below(&w->r, N_CLASSES);
    const uint8_t *vend = w->vendors[v];
    const uint8_t *chain = chain_for(w, wrong, ch);
    memcpy(cls[0], w->classes[c], 16);
    w->cur = (meta_t){0, ia, -1, v, n_cls ? c : -1};
    assert_int_equal(
        dsuit_tx_body_register_author(chain, w->nonce++, a, "author", vend,
                                      (const uint8_t(*)[16])cls, n_cls, body,
                                      sizeof body, &bl),
        DSUIT_OK);
    pick_registrars(w, ns, signers);
    return assemble(body, bl, signers, ns, out);
}

static size_t gen_revoke(world_t *w, int wrong, uint8_t *out)
{
    uint8_t body[512], ch[32], kid[32];
    dsuit_key_t signers[N_REG];
    size_t bl, ns = below(&w->r, 5) ? K : K - 1;
    int ia = pick_victim(w);
    w->cur = (meta_t){1, ia, -1, 0, 0};
    assert_int_equal(dsuit_cose_key_id(&w->pool[ia], kid), DSUIT_OK);
    assert_int_equal(dsuit_tx_body_revoke_author(chain_for(w, wrong, ch),
                                                 w->nonce++, kid, "r", body,
                                                 sizeof body, &bl),
                     DSUIT_OK);
    pick_registrars(w, ns, signers);
    return assemble(body, bl, signers, ns, out);
}

static size_t gen_rotate(world_t *w, int wrong, uint8_t *out)
{
    uint8_t body[512], ch[32], kid[32];
    size_t bl;
    int o = pick_victim(w), n = pick_key(w, K_FRESH, 80);
    const dsuit_key_t *signer =
        below(&w->r, 5) ? &w->pool[o] : &w->pool[below(&w->r, N_POOL)];
    w->cur = (meta_t){2, o, n, 0, 0};
    assert_int_equal(dsuit_cose_key_id(&w->pool[o], kid), DSUIT_OK);
    assert_int_equal(dsuit_tx_body_rotate_author_key(
                         chain_for(w, wrong, ch), w->nonce++, kid, &w->pool[n],
                         body, sizeof body, &bl),
                     DSUIT_OK);
    return assemble(body, bl, signer, 1, out);
}

static size_t gen_device(world_t *w, int wrong, uint8_t *out)
{
    uint8_t body[512], ch[32], id[16] = {0xde, 0xad};
    dsuit_key_t signers[N_REG];
    size_t bl, ns;
    uint64_t d = below(&w->r, 4000);
    int ia = pick_key(w, K_ACTIVE, 90);
    int v = (int)below(&w->r, N_VENDORS), c = (int)below(&w->r, N_CLASSES);
    if (w->kstate[ia] == K_ACTIVE && below(&w->r, 4)) {
        v = w->kvendor[ia]; /* mostly within the author's scope */
        if (w->kclass[ia] >= 0)
            c = w->kclass[ia];
    }
    const uint8_t *vend = w->vendors[v];
    const uint8_t *cls = w->classes[c];
    w->cur = (meta_t){4, ia, -1, v, c};
    const dsuit_key_t *dk = &w->dev[below(&w->r, N_DEVKEYS)];
    const uint8_t *chain = chain_for(w, wrong, ch);
    id[14] = (uint8_t)(d >> 8);
    id[15] = (uint8_t)d;
    assert_int_equal(dsuit_tx_body_register_device(chain, w->nonce++, id, vend,
                                                   cls, dk, body, sizeof body,
                                                   &bl),
                     DSUIT_OK);
    switch (below(&w->r, 4)) {
    case 0:
        ns = pick_registrars(w, K, signers);
        break;
    case 1:
        ns = pick_registrars(w, K - 1, signers);
        break;
    default:
        signers[0] = w->pool[ia];
        ns = 1;
    }
    return assemble(body, bl, signers, ns, out);
}

/* A one-component envelope signed by signer. */
static size_t envelope(const dsuit_key_t *signer, uint64_t seq, uint8_t comp,
                       const uint8_t *vend, const uint8_t *cls,
                       const uint8_t digest[32], uint64_t size, uint8_t *out,
                       size_t cap)
{
    size_t n = 0;
    assert_int_equal(lfx_build_envelope(signer, seq, comp, vend, cls, digest,
                                        size, out, cap, &n),
                     DSUIT_OK);
    return n;
}

static size_t gen_publish(world_t *w, int wrong, uint8_t *out)
{
    uint8_t env[1024], body[TXCAP], ch[32], digest[32];
    uint8_t chunks[20][32];
    dsuit_tx_image_in_t img;
    size_t n_env, bl;
    int ia = pick_key(w, K_ACTIVE, 90);
    size_t v = below(&w->r, N_VENDORS), c = below(&w->r, N_CLASSES),
           comp = below(&w->r, 2);
    if (w->kstate[ia] == K_ACTIVE && below(&w->r, 5)) {
        v = (size_t)w->kvendor[ia]; /* mostly within the author's scope */
        if (w->kclass[ia] >= 0)
            c = (size_t)w->kclass[ia];
    }
    uint64_t *latest = &w->seq[v][c][comp];
    /* mostly newer than the newest generated, sometimes a rollback */
    static const int delta[] = {-1, 0, 1, 1, 1, 2, 3};
    int d = delta[below(&w->r, sizeof delta / sizeof delta[0])];
    uint64_t seq =
        (int64_t)*latest + d < 0 ? 0 : (uint64_t)((int64_t)*latest + d);
    uint64_t size = 1 + below(&w->r, 3 * CHUNK);
    const dsuit_key_t *signer = below(&w->r, 20) ? &w->pool[ia] : &w->stranger;
    w->cur = (meta_t){3, ia, -1, (int)v, (int)c};
    if (seq > *latest)
        *latest = seq;
    switch (below(&w->r, 20)) {
    case 0:
        size = MAX_IMG + 1 + below(&w->r, CHUNK); /* image-too-large */
        break;
    case 1:
        size = MAX_IMG; /* the largest allowed */
        break;
    default:
        break;
    }
    rnd_bytes(&w->r, digest, 32);
    n_env = envelope(signer, seq, (uint8_t)comp, w->vendors[v], w->classes[c],
                     digest, size, env, sizeof env);
    img.digest = digest;
    img.size = size;
    img.chunk_size = CHUNK;
    img.n_chunks = (size_t)((size + CHUNK - 1) / CHUNK);
    switch (below(&w->r, 12)) {
    case 0: /* wrong chunk count */
        img.n_chunks = img.n_chunks > 1 ? img.n_chunks - 1 : 2;
        break;
    case 1: /* size not the manifest's */
        img.size = size + 1;
        img.n_chunks = (size_t)((img.size + CHUNK - 1) / CHUNK);
        break;
    default:
        break;
    }
    assert_true(img.n_chunks <= 20);
    rnd_bytes(&w->r, &chunks[0][0], img.n_chunks * 32);
    img.chunks = (const uint8_t(*)[32])chunks;
    assert_int_equal(dsuit_tx_body_publish(chain_for(w, wrong, ch), w->nonce++,
                                           env, n_env, &img, 1, body,
                                           sizeof body, &bl),
                     DSUIT_OK);
    return assemble(body, bl, NULL, 0, out);
}

static size_t gen_unknown_type(world_t *w, uint8_t *out)
{
    uint8_t body[128];
    size_t bl;
    dsuit_cbor_enc_t e;
    uint64_t type = 6 + below(&w->r, 1000);
    if (below(&w->r, 4) == 0)
        type = 0;
    dsuit_cbor_enc_init(&e, body, sizeof body);
    dsuit_cbor_put_map(&e, 4);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, type);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_bstr(&e, w->chain, 32);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_uint(&e, w->nonce++);
    dsuit_cbor_put_uint(&e, 4);
    dsuit_cbor_put_uint(&e, rnd(&w->r));
    assert_int_equal(dsuit_cbor_enc_finish(&e, &bl), DSUIT_OK);
    return assemble(body, bl, NULL, 0, out);
}

/* Re-emit a decoded transaction with its signature list changed:
 * op 0 drops one, 1 lists one twice, 2 swaps two. Returns 0 if the
 * transaction has too few signatures for the operation. */
static size_t resign(const uint8_t *tx, size_t len, int op, rng_t *r,
                     uint8_t *out)
{
    dsuit_tx_t t;
    size_t order[DSUIT_TX_MAX_SIGS + 1], n = 0, len_out;
    dsuit_cbor_enc_t e;
    if (dsuit_tx_decode(tx, len, &t) != DSUIT_OK)
        return 0;
    if ((op == 0 || op == 1) && t.n_sigs < 1)
        return 0;
    if (op == 2 && t.n_sigs < 2)
        return 0;
    size_t pick = below(r, t.n_sigs);
    for (size_t i = 0; i < t.n_sigs; i++) {
        if (op == 0 && i == pick)
            continue;
        order[n++] = i;
        if (op == 1 && i == pick)
            order[n++] = i;
    }
    if (op == 2) {
        size_t j = pick + 1 < t.n_sigs ? pick + 1 : pick - 1;
        order[pick] = j;
        order[j] = pick;
    }
    dsuit_cbor_enc_init(&e, out, TXCAP);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_bstr(&e, t.body, t.body_len);
    dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++) {
        const dsuit_tx_sig_t *s = &t.sigs[order[i]];
        dsuit_cbor_put_array(&e, 3);
        dsuit_cbor_put_bstr(&e, s->key_id, 32);
        dsuit_cbor_put_int(&e, s->alg);
        dsuit_cbor_put_bstr(&e, s->sig, s->sig_len);
    }
    if (dsuit_cbor_enc_finish(&e, &len_out) != DSUIT_OK)
        return 0;
    return len_out;
}

static size_t gen_valid_kind(world_t *w, int kind, int wrong, uint8_t *out)
{
    switch (kind) {
    case 0:
        return gen_author(w, wrong, out);
    case 1:
        return gen_revoke(w, wrong, out);
    case 2:
        return gen_rotate(w, wrong, out);
    case 3:
        return gen_publish(w, wrong, out);
    default:
        return gen_device(w, wrong, out);
    }
}

/* A random kind, weighted: publish and devices are the bulk. Revocations
 * and rotations only while enough authors are believed active, so the
 * chain never runs out of authors (keys cannot be registered twice). */
static int random_kind(world_t *w)
{
    uint64_t x = below(&w->r, 1000);
    int active = 0, kind;
    for (int i = 0; i < N_POOL; i++)
        active += w->kstate[i] == K_ACTIVE;
    (void)active;
    kind = x < 90 ? 0 : x < 115 ? 1 : x < 140 ? 2 : x < 620 ? 3 : 4;
    return kind;
}

/* One transaction into out; *expect = the code the document fixes, or -1. */
static size_t gen_tx(world_t *w, uint8_t *out, int *expect)
{
    uint64_t x = below(&w->r, 100);
    size_t len;
    *expect = -1;
    w->cur = (meta_t){-1, 0, 0, 0, 0};
    if (x < 72)
        return gen_valid_kind(w, random_kind(w), 0, out);
    if (x < 76) {
        *expect = DSUIT_TXR_UNKNOWN_TYPE;
        return gen_unknown_type(w, out);
    }
    if (x < 81) {
        *expect = DSUIT_TXR_WRONG_CHAIN;
        return gen_valid_kind(w, random_kind(w), 1, out);
    }
    if (x < 88 && w->n_committed > 0) {
        const hist_t *h = &w->hist[below(&w->r, w->n_committed)];
        memcpy(out, h->tx, h->len);
        w->cur = h->m;
        if (h->result == DSUIT_TXR_OK)
            *expect = DSUIT_TXR_DUPLICATE;
        return h->len;
    }
    /* Mutations of a fresh transaction. */
    {
        uint8_t base[TXCAP];
        size_t bl = gen_valid_kind(w, random_kind(w), 0, base);
        switch (below(&w->r, 5)) {
        case 0: /* flip one bit anywhere */
        {
            size_t at = below(&w->r, bl);
            unsigned bit = (unsigned)below(&w->r, 8);
            memcpy(out, base, bl);
            out[at] ^= (uint8_t)(1u << bit);
        }
            return bl;
        case 1: /* truncate */
            len = 1 + below(&w->r, bl - 1);
            memcpy(out, base, len);
            *expect = DSUIT_TXR_BAD_ENCODING;
            return len;
        default: { /* drop / repeat / swap a signature */
            int op = (int)below(&w->r, 3);
            len = resign(base, bl, op, &w->r, out);
            if (len == 0) {
                memcpy(out, base, bl);
                return bl;
            }
            if (op != 0)
                *expect = DSUIT_TXR_BAD_SIGNATURE;
            return len;
        }
        }
    }
}

static void hist_add(world_t *w, const uint8_t *tx, size_t len, int expect)
{
    if (w->n_hist == w->cap_hist) {
        w->cap_hist = w->cap_hist ? w->cap_hist * 2 : 1024;
        w->hist = realloc(w->hist, w->cap_hist * sizeof *w->hist);
        assert_non_null(w->hist);
    }
    hist_t *h = &w->hist[w->n_hist++];
    h->tx = malloc(len ? len : 1);
    assert_non_null(h->tx);
    memcpy(h->tx, tx, len);
    h->len = len;
    h->expect = expect;
    h->committed = 0;
    h->result = 0;
    h->m = w->cur;
}

/* Learn from an applied transaction. */
static void model_update(world_t *w, const meta_t *m)
{
    switch (m->kind) {
    case 0:
        w->kstate[m->a] = K_ACTIVE;
        w->kvendor[m->a] = m->v;
        w->kclass[m->a] = m->c;
        break;
    case 1:
        w->kstate[m->a] = K_DEAD;
        break;
    case 2:
        w->kstate[m->a] = K_DEAD;
        w->kstate[m->b] = K_ACTIVE;
        w->kvendor[m->b] = w->kvendor[m->a];
        w->kclass[m->b] = w->kclass[m->a];
        break;
    default:
        break;
    }
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    if (s == NULL || *s == 0)
        return dflt;
    return strtoull(s, NULL, 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", dir);
}

/* ---- the test ------------------------------------------------------------ */

/* The folders and the history live in the state, so that teardown removes
 * and frees them even when the test fails half-way. */
static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    snprintf(w->root, sizeof w->root, "/tmp/dsuit-test-property-XXXXXX");
    if (mkdtemp(w->root) == NULL) {
        free(w);
        return -1;
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    rm_rf(w->root);
    for (size_t i = 0; i < w->n_hist; i++)
        free(w->hist[i].tx);
    free(w->hist);
    free(w);
    return 0;
}

static void ledger_property_random_blocks_replay_and_verify(void **state)
{
    world_t *w = *state;
    dsuit_ledger_t *l = NULL, *fresh = NULL;
    uint8_t(*hashes)[32] = NULL;
    size_t n_blocks = 0, cap_blocks = 0;
    uint64_t target = env_u64("DSUIT_PROPERTY_TXS", MIN_TXS);
    uint8_t tip[32], root[32], tip2[32], root2[32];
    uint64_t height;
    double t0 = now_s();
    if (target < MIN_TXS && env_u64("DSUIT_PROPERTY_ALLOW_FEWER", 0) == 0)
        target = MIN_TXS;
    print_message("property: seed 0x%016llx (DSUIT_SEED overrides), %llu "
                  "transactions\n",
                  (unsigned long long)g_seed, (unsigned long long)target);

    snprintf(w->dir_a, sizeof w->dir_a, "%s/a", w->root);
    snprintf(w->dir_b, sizeof w->dir_b, "%s/b", w->root);
    assert_int_equal(mkdir(w->dir_a, 0700), 0);
    assert_int_equal(mkdir(w->dir_b, 0700), 0);
    world_init(w);
    open_ledger(w->dir_a, w->genesis, w->genesis_len, &l);

    while (w->n_hist < target) {
        size_t n = 1 + below(&w->r, 64), first = w->n_hist;
        const uint8_t **txs = calloc(n, sizeof *txs);
        size_t *lens = calloc(n, sizeof *lens);
        uint8_t *blk, buf[TXCAP];
        size_t blen;
        dsuit_block_info_t info;
        dsuit_block_t b;
        dsuit_block_iter_t it;
        int rc;
        assert_non_null(txs);
        assert_non_null(lens);
        for (size_t i = 0; i < n; i++) {
            int expect;
            size_t len = gen_tx(w, buf, &expect);
            hist_add(w, buf, len, expect);
        }
        for (size_t i = 0; i < n; i++) {
            txs[i] = w->hist[first + i].tx;
            lens[i] = w->hist[first + i].len;
        }
        w->now += 1 + below(&w->r, 3000);
        rc = dsuit_ledger_propose(l, &w->val[below(&w->r, N_VAL)], w->now, txs,
                                  lens, n, &blk, &blen);
        if (rc != DSUIT_OK)
            pfail("propose at height %llu: %s",
                  (unsigned long long)dsuit_ledger_height(l) + 1,
                  dsuit_err_name(rc));
        rc = dsuit_ledger_apply(l, blk, blen, &info);
        if (rc != DSUIT_OK)
            pfail("apply at height %llu: %s: %s",
                  (unsigned long long)dsuit_ledger_height(l) + 1,
                  dsuit_err_name(rc), info.reason ? info.reason : "");
        assert_int_equal(info.n_txs, n);
        assert_int_equal(dsuit_block_decode(blk, blen, &b), DSUIT_OK);
        dsuit_block_iter_init(&it, &b);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *t;
            size_t tl;
            hist_t *h = &w->hist[first + i];
            assert_int_equal(dsuit_block_next_tx(&it, &t, &tl, &h->result),
                             DSUIT_OK);
            h->committed = 1;
            if (h->result == DSUIT_TXR_OK)
                model_update(w, &h->m);
            if (h->result < 16)
                w->hist_codes[h->result]++;

            if (h->expect >= 0 && h->result != (uint64_t)h->expect)
                pfail("height %llu tx %zu: got %s, want %s",
                      (unsigned long long)info.height, i,
                      dsuit_txr_name((int)h->result),
                      dsuit_txr_name(h->expect));
        }
        w->n_committed = w->n_hist;
        if (n_blocks == cap_blocks) {
            cap_blocks = cap_blocks ? cap_blocks * 2 : 256;
            hashes = realloc(hashes, cap_blocks * 32);
            assert_non_null(hashes);
        }
        memcpy(hashes[n_blocks++], info.hash, 32);
        assert_int_equal(info.height, n_blocks);
        free(blk);
        free(txs);
        free(lens);
    }
    double t_gen = now_s();

    /* The mix must be real: every targeted code occurs. */
    {
        static const int need[] = {DSUIT_TXR_OK,
                                   DSUIT_TXR_BAD_ENCODING,
                                   DSUIT_TXR_WRONG_CHAIN,
                                   DSUIT_TXR_BAD_SIGNATURE,
                                   DSUIT_TXR_BELOW_THRESHOLD,
                                   DSUIT_TXR_UNKNOWN_AUTHOR,
                                   DSUIT_TXR_REVOKED_AUTHOR,
                                   DSUIT_TXR_OUT_OF_SCOPE,
                                   DSUIT_TXR_ROLLBACK,
                                   DSUIT_TXR_IMAGE_TOO_LARGE,
                                   DSUIT_TXR_CHUNKS_INCONSISTENT,
                                   DSUIT_TXR_DUPLICATE,
                                   DSUIT_TXR_UNKNOWN_TYPE};
        char line[512];
        size_t o = 0;
        for (int c = 0; c < 14; c++)
            o += (size_t)snprintf(line + o, sizeof line - o, " %s=%llu",
                                  dsuit_txr_name(c),
                                  (unsigned long long)w->hist_codes[c]);
        print_message("property: %zu blocks, %zu txs:%s\n", n_blocks, w->n_hist,
                      line);
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
            if (w->hist_codes[need[i]] == 0)
                pfail("no transaction got %s: the generator is broken",
                      dsuit_txr_name(need[i]));
        }
        if (w->hist_codes[DSUIT_TXR_OK] < w->n_hist / 10)
            pfail("only %llu of %zu transactions applied",
                  (unsigned long long)w->hist_codes[DSUIT_TXR_OK], w->n_hist);
    }

    /* (c) close and reopen: the same tip. */
    height = dsuit_ledger_height(l);
    dsuit_ledger_tip(l, tip, root);
    assert_memory_equal(tip, hashes[n_blocks - 1], 32);
    dsuit_ledger_close(l);
    l = NULL;

    /* (a) verify the folder (the ledger must be closed: one LMDB
     * environment per process). */
    {
        uint64_t vh = 0;
        const char *why = NULL;
        int rc = dsuit_ledger_verify(w->dir_a, w->root, &vh, &why);
        if (rc != DSUIT_OK)
            pfail("verify: %s at height %llu: %s", dsuit_err_name(rc),
                  (unsigned long long)vh, why ? why : "");
        assert_int_equal(vh, height);
    }
    double t_verify = now_s();

    open_ledger(w->dir_a, NULL, 0, &l);
    assert_int_equal(dsuit_ledger_height(l), height);
    dsuit_ledger_tip(l, tip2, root2);
    assert_memory_equal(tip, tip2, 32);
    assert_memory_equal(root, root2, 32);

    /* (b) a fresh replica fed the stored blocks. */
    open_ledger(w->dir_b, w->genesis, w->genesis_len, &fresh);
    for (uint64_t h = 1; h <= height; h++) {
        uint8_t *blk;
        size_t blen;
        dsuit_block_info_t info;
        int rc = dsuit_ledger_block(l, h, &blk, &blen);
        if (rc != DSUIT_OK)
            pfail("block %llu: %s", (unsigned long long)h, dsuit_err_name(rc));
        rc = dsuit_ledger_apply(fresh, blk, blen, &info);
        if (rc != DSUIT_OK)
            pfail("replay of block %llu: %s: %s", (unsigned long long)h,
                  dsuit_err_name(rc), info.reason ? info.reason : "");
        if (memcmp(info.hash, hashes[h - 1], 32) != 0)
            pfail("replayed block %llu has another hash",
                  (unsigned long long)h);
        free(blk);
    }
    assert_int_equal(dsuit_ledger_height(fresh), height);
    dsuit_ledger_tip(fresh, tip2, root2);
    assert_memory_equal(tip, tip2, 32);
    if (memcmp(root, root2, 32) != 0)
        pfail("replayed state root differs");
    assert_int_equal(dsuit_ledger_mlog_size(fresh), dsuit_ledger_mlog_size(l));
    assert_int_equal(
        dsuit_ledger_block(l, height + 1, &(uint8_t *){NULL}, &(size_t){0}),
        DSUIT_E_NOTFOUND);
    dsuit_ledger_close(fresh);
    dsuit_ledger_close(l);

    print_message("property: generate+propose+apply %.2f s, verify %.2f s, "
                  "reopen+replay %.2f s\n",
                  t_gen - t0, t_verify - t_gen, now_s() - t_verify);
    free(hashes);
}

int main(void)
{
    g_seed = env_u64("DSUIT_SEED", DEFAULT_SEED);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            ledger_property_random_blocks_replay_and_verify, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
