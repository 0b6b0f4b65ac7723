/*
 * Tests of the ledger's transaction rules against docs/formats/ledger.md:
 * for every transaction type a valid case and, for every rule that can
 * refuse it, a case that breaks exactly that rule and gets exactly the
 * result code the document's table names. Also: a refused transaction
 * changes nothing but its TXS record (checked against the documented
 * state-root hash chain), conflicts inside one block, and a refused publish
 * succeeding later with the same bytes.
 *
 * Every transaction goes through dsuit_ledger_propose + dsuit_ledger_apply,
 * so the proposer's result and every node's recomputed result agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/block.h"
#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "dsuit/store.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"
#include "vectors.h"

#define N_VAL   4
#define N_REG   3
#define K       2               /* registrar threshold */
#define CHUNK   65536u          /* the policy's chunk size */
#define MAX_IMG (1024u * 1024u) /* the policy's max image size: 16 chunks */
#define TXCAP   8192

static const uint8_t vendor[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                   0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                   0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t vendor2[16] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                    0x0b, 0x0b, 0x0b, 0x0b};
static const uint8_t klass[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                  0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                  0x51, 0xf2, 0xab, 0x45};
static const uint8_t klass2[16] = {0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,
                                   0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,
                                   0xc2, 0xc2, 0xc2, 0xc2};

/* ---- fixture --------------------------------------------------------- */

typedef struct {
    char dir[256];
    dsuit_key_t val[N_VAL], reg[N_REG];
    uint8_t genesis[8192];
    size_t genesis_len;
    uint8_t chain[32];
    dsuit_ledger_t *l;
    uint64_t nonce;
    uint64_t now;
    unsigned proposer;
} fx_t;

static void fx_open(fx_t *f)
{
    dsuit_ledger_opts_t o = {0};
    const char *why = NULL;
    o.store.no_sync = 1;
    int rc =
        dsuit_ledger_open(f->dir, f->genesis, f->genesis_len, &o, &f->l, &why);
    if (rc != DSUIT_OK)
        fail_msg("open: %s (%s)", dsuit_err_name(rc), why ? why : "");
}

static void gen_key(dsuit_key_type_t type, dsuit_key_t *k)
{
    assert_int_equal(dsuit_key_generate(type, k), DSUIT_OK);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    dsuit_genesis_t *g;
    const char *why = NULL;
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/dsuit-test-rules-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(dsuit_genesis_new(&g), DSUIT_OK);
    strcpy(g->chain_name, "rules-chain");
    g->time = 1700000000;
    for (int i = 0; i < N_VAL; i++) {
        char name[16];
        gen_key(i % 2 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256, &f->val[i]);
        snprintf(name, sizeof name, "node-%c", 'a' + i);
        assert_int_equal(dsuit_genesis_add_validator(g, name, &f->val[i],
                                                     "127.0.0.1", 7000 + i,
                                                     8000 + i, 5683 + i),
                         DSUIT_OK);
    }
    /* Registrars of both key types. */
    for (int i = 0; i < N_REG; i++) {
        gen_key(i == 1 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256, &f->reg[i]);
        assert_int_equal(dsuit_genesis_add_registrar(g, &f->reg[i]), DSUIT_OK);
    }
    g->threshold = K;
    g->policy.chunk_size = CHUNK;
    g->policy.max_image_size = MAX_IMG;
    if (dsuit_genesis_validate(g, &why) != DSUIT_OK)
        fail_msg("genesis: %s", why ? why : "");
    assert_int_equal(
        dsuit_genesis_encode(g, f->genesis, sizeof f->genesis, &f->genesis_len),
        DSUIT_OK);
    memcpy(f->chain, g->hash, 32);
    dsuit_genesis_free(g);
    f->now = 1700000000000ull;
    f->nonce = 1;
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[300];
    dsuit_ledger_close(f->l);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Propose (validators take turns) and apply one block; its results. */
static void commit(fx_t *f, const uint8_t *const *txs, const size_t *lens,
                   size_t n, uint64_t *results)
{
    uint8_t *blk;
    size_t blen;
    dsuit_block_info_t info;
    dsuit_block_t b;
    dsuit_block_iter_t it;
    int rc;
    f->now += 1000;
    rc = dsuit_ledger_propose(f->l, &f->val[f->proposer++ % N_VAL], f->now, txs,
                              lens, n, &blk, &blen);
    if (rc != DSUIT_OK)
        fail_msg("propose: %s", dsuit_err_name(rc));
    rc = dsuit_ledger_apply(f->l, blk, blen, &info);
    if (rc != DSUIT_OK)
        fail_msg("apply: %s: %s", dsuit_err_name(rc),
                 info.reason ? info.reason : "");
    assert_int_equal(info.n_txs, n);
    assert_int_equal(dsuit_block_decode(blk, blen, &b), DSUIT_OK);
    dsuit_block_iter_init(&it, &b);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *t;
        size_t tl;
        assert_int_equal(dsuit_block_next_tx(&it, &t, &tl, &results[i]),
                         DSUIT_OK);
    }
    free(blk);
}

static uint64_t commit1(fx_t *f, const uint8_t *tx, size_t len)
{
    uint64_t r;
    commit(f, &tx, &len, 1, &r);
    return r;
}

/* Assert a transaction's result code, naming both codes on failure. */
#define expect(f, tx, len, want)                                               \
    do {                                                                       \
        uint64_t got_ = commit1((f), (tx), (len));                             \
        if (got_ != (uint64_t)(want))                                          \
            fail_msg("%s:%d: got %s (%llu), want %s (%d)", __FILE__, __LINE__, \
                     dsuit_txr_name((int)got_), (unsigned long long)got_,      \
                     dsuit_txr_name(want), (int)(want));                       \
    } while (0)

/* ---- keys, signatures, raw transactions ------------------------------ */

static size_t key_bytes(const dsuit_key_t *k, uint8_t out[DSUIT_COSE_KEY_MAX])
{
    size_t n;
    assert_int_equal(dsuit_cose_key_encode(k, out, DSUIT_COSE_KEY_MAX, &n),
                     DSUIT_OK);
    return n;
}

static void key_id(const dsuit_key_t *k, uint8_t id[32])
{
    assert_int_equal(dsuit_cose_key_id(k, id), DSUIT_OK);
}

/* A signature as listed in a Tx, before encoding. */
typedef struct {
    uint8_t kid[32];
    int64_t alg;
    uint8_t sig[DSUIT_SIG_LEN];
    size_t sig_len;
} rsig_t;

static void rsig_make(const uint8_t *body, size_t bl, const dsuit_key_t *k,
                      rsig_t *s)
{
    uint8_t msg[11 + 32];
    memcpy(msg, DSUIT_TX_SIG_CONTEXT, 11);
    assert_int_equal(dsuit_sha256(body, bl, msg + 11), DSUIT_OK);
    key_id(k, s->kid);
    s->sig_len = DSUIT_SIG_LEN;
    if (k->type == DSUIT_KEY_P256) {
        s->alg = DSUIT_COSE_ALG_ES256;
        assert_int_equal(dsuit_p256_sign(k, msg, sizeof msg, s->sig), DSUIT_OK);
    } else {
        s->alg = DSUIT_COSE_ALG_EDDSA;
        assert_int_equal(dsuit_ed25519_sign(k, msg, sizeof msg, s->sig),
                         DSUIT_OK);
    }
}

static void rsig_sort(rsig_t *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && memcmp(s[j - 1].kid, s[j].kid, 32) > 0;
             j--) {
            rsig_t t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    }
}

/* [body, [sigs in the order given]] */
static size_t tx_raw(const uint8_t *body, size_t bl, const rsig_t *s, size_t n,
                     uint8_t *out, size_t cap)
{
    dsuit_cbor_enc_t e;
    size_t len;
    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_bstr(&e, body, bl);
    dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++) {
        dsuit_cbor_put_array(&e, 3);
        dsuit_cbor_put_bstr(&e, s[i].kid, 32);
        dsuit_cbor_put_int(&e, s[i].alg);
        dsuit_cbor_put_bstr(&e, s[i].sig, s[i].sig_len);
    }
    assert_int_equal(dsuit_cbor_enc_finish(&e, &len), DSUIT_OK);
    return len;
}

/* The body signed by each of signers, signatures sorted (the library's
 * own assembler). */
static size_t tx_sign(const uint8_t *body, size_t bl,
                      const dsuit_key_t *signers, size_t n, uint8_t *out,
                      size_t cap)
{
    size_t len;
    assert_int_equal(dsuit_tx_assemble(body, bl, signers, n, out, cap, &len),
                     DSUIT_OK);
    return len;
}

/* Two signers given separately. */
static size_t tx_sign2(const uint8_t *body, size_t bl, const dsuit_key_t *a,
                       const dsuit_key_t *b, uint8_t *out, size_t cap)
{
    dsuit_key_t ks[2];
    ks[0] = *a;
    ks[1] = *b;
    return tx_sign(body, bl, ks, 2, out, cap);
}

/* {1: type, 2: chain, 3: nonce, 4: payload} with a raw payload item. */
static size_t body_raw(const uint8_t chain[32], uint64_t type, uint64_t nonce,
                       const uint8_t *payload, size_t pl, uint8_t *out,
                       size_t cap)
{
    dsuit_cbor_enc_t e;
    size_t len;
    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_map(&e, 4);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, type);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_bstr(&e, chain, 32);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_uint(&e, nonce);
    dsuit_cbor_put_uint(&e, 4);
    dsuit_cbor_put_raw(&e, payload, pl);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &len), DSUIT_OK);
    return len;
}

/* A bstr item (head included) holding p[0..n). */
static tv_raw_t bstr_item(const uint8_t *p, size_t n, uint8_t *buf, size_t cap)
{
    dsuit_cbor_enc_t e;
    tv_raw_t r;
    dsuit_cbor_enc_init(&e, buf, cap);
    dsuit_cbor_put_bstr(&e, p, n);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &r.len), DSUIT_OK);
    r.ptr = buf;
    return r;
}

/* ---- bodies of each type --------------------------------------------- */

static size_t body_author(fx_t *f, const uint8_t chain[32],
                          const dsuit_key_t *author, const uint8_t *vend,
                          const uint8_t (*classes)[16], size_t n_classes,
                          uint8_t *out, size_t cap)
{
    size_t bl;
    assert_int_equal(dsuit_tx_body_register_author(
                         chain, f->nonce++, author, "acme firmware team", vend,
                         classes, n_classes, out, cap, &bl),
                     DSUIT_OK);
    return bl;
}

/* register-author by K registrars (reg[0], reg[1]). */
static size_t tx_author(fx_t *f, const dsuit_key_t *author, const uint8_t *vend,
                        const uint8_t (*classes)[16], size_t n_classes,
                        uint8_t *out, size_t cap)
{
    uint8_t body[1024];
    size_t bl = body_author(f, f->chain, author, vend, classes, n_classes, body,
                            sizeof body);
    return tx_sign(body, bl, f->reg, K, out, cap);
}

static void register_author(fx_t *f, const dsuit_key_t *author,
                            const uint8_t *vend, const uint8_t (*classes)[16],
                            size_t n_classes)
{
    uint8_t tx[TXCAP];
    size_t len = tx_author(f, author, vend, classes, n_classes, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static size_t body_revoke(fx_t *f, const uint8_t chain[32],
                          const dsuit_key_t *author, uint8_t *out, size_t cap)
{
    uint8_t kid[32];
    size_t bl;
    key_id(author, kid);
    assert_int_equal(dsuit_tx_body_revoke_author(chain, f->nonce++, kid,
                                                 "key leaked", out, cap, &bl),
                     DSUIT_OK);
    return bl;
}

static void revoke_author(fx_t *f, const dsuit_key_t *author)
{
    uint8_t body[512], tx[TXCAP];
    size_t bl = body_revoke(f, f->chain, author, body, sizeof body);
    size_t len = tx_sign(body, bl, &f->reg[1], K, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static size_t body_rotate(fx_t *f, const uint8_t chain[32],
                          const dsuit_key_t *old, const dsuit_key_t *next,
                          uint8_t *out, size_t cap)
{
    uint8_t kid[32];
    size_t bl;
    key_id(old, kid);
    assert_int_equal(dsuit_tx_body_rotate_author_key(chain, f->nonce++, kid,
                                                     next, out, cap, &bl),
                     DSUIT_OK);
    return bl;
}

static void rotate_author(fx_t *f, const dsuit_key_t *old,
                          const dsuit_key_t *next)
{
    uint8_t body[512], tx[TXCAP];
    size_t bl = body_rotate(f, f->chain, old, next, body, sizeof body);
    size_t len = tx_sign(body, bl, old, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static size_t body_device(fx_t *f, const uint8_t chain[32],
                          const uint8_t dev_id[16], const uint8_t *vend,
                          const uint8_t *cls, const dsuit_key_t *dev,
                          uint8_t *out, size_t cap)
{
    size_t bl;
    assert_int_equal(dsuit_tx_body_register_device(chain, f->nonce++, dev_id,
                                                   vend, cls, dev, out, cap,
                                                   &bl),
                     DSUIT_OK);
    return bl;
}

/* ---- SUIT envelopes --------------------------------------------------- */

typedef struct {
    uint8_t id;                  /* component identifier [h'id'] */
    const uint8_t *vendor, *cls; /* NULL: parameter not set */
    uint8_t digest[32];
    uint64_t size; /* 0: no image-digest / image-size parameters */
} comp_t;

typedef struct {
    const dsuit_key_t *signer; /* NULL: no authentication block */
    uint64_t seq;
    comp_t c[4];
    size_t n;
    uint64_t version;   /* 0: 1 */
    int corrupt_digest; /* SUIT_Digest is not the manifest's (then signed) */
    int flip_sig;       /* flip a bit of the COSE signature */
    int integrated;     /* add an integrated payload "#img" */
    const uint8_t *kid; /* 32 bytes put in the COSE header, or NULL */
} env_t;

static void put_params(dsuit_cbor_enc_t *e, const comp_t *c)
{
    uint8_t dig[48];
    size_t n_dig, n = 0;
    dsuit_cbor_enc_t d;
    dsuit_cbor_enc_init(&d, dig, sizeof dig);
    dsuit_cbor_put_array(&d, 2);
    dsuit_cbor_put_int(&d, DSUIT_SUIT_DIGEST_SHA256);
    dsuit_cbor_put_bstr(&d, c->digest, 32);
    assert_int_equal(dsuit_cbor_enc_finish(&d, &n_dig), DSUIT_OK);
    n += c->vendor != NULL;
    n += c->cls != NULL;
    n += c->size ? 2 : 0;
    dsuit_cbor_put_uint(e, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
    dsuit_cbor_put_map(e, n);
    if (c->vendor != NULL) {
        dsuit_cbor_put_uint(e, DSUIT_SUIT_PARAM_VENDOR_ID);
        dsuit_cbor_put_bstr(e, c->vendor, 16);
    }
    if (c->cls != NULL) {
        dsuit_cbor_put_uint(e, DSUIT_SUIT_PARAM_CLASS_ID);
        dsuit_cbor_put_bstr(e, c->cls, 16);
    }
    if (c->size) {
        dsuit_cbor_put_uint(e, DSUIT_SUIT_PARAM_IMAGE_DIGEST);
        dsuit_cbor_put_bstr(e, dig, n_dig);
        dsuit_cbor_put_uint(e, DSUIT_SUIT_PARAM_IMAGE_SIZE);
        dsuit_cbor_put_uint(e, c->size);
    }
}

static size_t env_build(const env_t *s, uint8_t *out, size_t cap)
{
    uint8_t shared[1024], common[1200], manifest[1400], digwrap[64], auth[512],
        cose[256], scratch[512];
    size_t n_shared, n_common, n_manifest, n_digwrap, n_auth, n_cose = 0, n;
    size_t items = 0;
    dsuit_cbor_enc_t e;

    /* Shared sequence: count the items first (override + conditions). */
    for (size_t i = 0; i < s->n; i++) {
        items += (s->n > 1 ? 2 : 0) + 2;
        items += s->c[i].vendor ? 2 : 0;
        items += s->c[i].cls ? 2 : 0;
    }
    dsuit_cbor_enc_init(&e, shared, sizeof shared);
    dsuit_cbor_put_array(&e, items);
    for (size_t i = 0; i < s->n; i++) {
        if (s->n > 1) {
            dsuit_cbor_put_uint(&e, DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
            dsuit_cbor_put_uint(&e, i);
        }
        put_params(&e, &s->c[i]);
        if (s->c[i].vendor) {
            dsuit_cbor_put_uint(&e, DSUIT_SUIT_COND_VENDOR_ID);
            dsuit_cbor_put_uint(&e, 15);
        }
        if (s->c[i].cls) {
            dsuit_cbor_put_uint(&e, DSUIT_SUIT_COND_CLASS_ID);
            dsuit_cbor_put_uint(&e, 15);
        }
    }
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n_shared), DSUIT_OK);

    dsuit_cbor_enc_init(&e, common, sizeof common);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COMPONENTS);
    dsuit_cbor_put_array(&e, s->n);
    for (size_t i = 0; i < s->n; i++) {
        dsuit_cbor_put_array(&e, 1);
        dsuit_cbor_put_bstr(&e, &s->c[i].id, 1);
    }
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_SHARED_SEQUENCE);
    dsuit_cbor_put_bstr(&e, shared, n_shared);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n_common), DSUIT_OK);

    dsuit_cbor_enc_init(&e, manifest, sizeof manifest);
    dsuit_cbor_put_map(&e, 3);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_VERSION);
    dsuit_cbor_put_uint(&e, s->version ? s->version : 1);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_SEQ_NUMBER);
    dsuit_cbor_put_uint(&e, s->seq);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COMMON);
    dsuit_cbor_put_bstr(&e, common, n_common);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n_manifest), DSUIT_OK);

    /* SUIT_Digest over the bstr-wrapped manifest. */
    {
        uint8_t wrapped[1500], h[32];
        size_t nw;
        dsuit_cbor_enc_init(&e, wrapped, sizeof wrapped);
        dsuit_cbor_put_bstr(&e, manifest, n_manifest);
        assert_int_equal(dsuit_cbor_enc_finish(&e, &nw), DSUIT_OK);
        assert_int_equal(dsuit_sha256(wrapped, nw, h), DSUIT_OK);
        if (s->corrupt_digest)
            h[7] ^= 0x20;
        dsuit_cbor_enc_init(&e, digwrap, sizeof digwrap);
        dsuit_cbor_put_array(&e, 2);
        dsuit_cbor_put_int(&e, DSUIT_SUIT_DIGEST_SHA256);
        dsuit_cbor_put_bstr(&e, h, 32);
        assert_int_equal(dsuit_cbor_enc_finish(&e, &n_digwrap), DSUIT_OK);
    }
    if (s->signer != NULL) {
        dsuit_cose_opts_t co = {DSUIT_COSE_SIGN1,
                                s->signer->type == DSUIT_KEY_P256 ? -7 : -8,
                                1,
                                1,
                                s->kid,
                                s->kid != NULL ? 32 : 0};
        assert_int_equal(dsuit_cose_create(&co, s->signer, digwrap, n_digwrap,
                                           NULL, 0, scratch, sizeof scratch,
                                           cose, sizeof cose, &n_cose),
                         DSUIT_OK);
        if (s->flip_sig)
            cose[n_cose - 5] ^= 0x01; /* inside the 64-byte signature */
    }
    dsuit_cbor_enc_init(&e, auth, sizeof auth);
    dsuit_cbor_put_array(&e, s->signer ? 2 : 1);
    dsuit_cbor_put_bstr(&e, digwrap, n_digwrap);
    if (s->signer != NULL)
        dsuit_cbor_put_bstr(&e, cose, n_cose);
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n_auth), DSUIT_OK);

    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_tag(&e, DSUIT_SUIT_TAG_ENVELOPE);
    dsuit_cbor_put_map(&e, s->integrated ? 3 : 2);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_AUTH_WRAPPER);
    dsuit_cbor_put_bstr(&e, auth, n_auth);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_MANIFEST);
    dsuit_cbor_put_bstr(&e, manifest, n_manifest);
    if (s->integrated) {
        static const uint8_t payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        dsuit_cbor_put_tstr_z(&e, "#img");
        dsuit_cbor_put_bstr(&e, payload, sizeof payload);
    }
    assert_int_equal(dsuit_cbor_enc_finish(&e, &n), DSUIT_OK);
    return n;
}

/* The usual one-component envelope for (vendor, klass). */
static env_t env_simple(const dsuit_key_t *signer, uint64_t seq,
                        uint8_t digest_byte, uint64_t size)
{
    env_t s;
    memset(&s, 0, sizeof s);
    s.signer = signer;
    s.seq = seq;
    s.n = 1;
    s.c[0].id = 0;
    s.c[0].vendor = vendor;
    s.c[0].cls = klass;
    memset(s.c[0].digest, digest_byte, 32);
    s.c[0].size = size;
    return s;
}

/* An image as listed in a publish. */
typedef struct {
    uint8_t digest[32];
    uint64_t size;
    uint64_t chunk_size;
    size_t n_chunks;
} img_t;

static img_t img_of(const comp_t *c)
{
    img_t i;
    memcpy(i.digest, c->digest, 32);
    i.size = c->size;
    i.chunk_size = CHUNK;
    i.n_chunks = (size_t)((c->size + CHUNK - 1) / CHUNK);
    return i;
}

static size_t body_publish(fx_t *f, const uint8_t chain[32], const uint8_t *env,
                           size_t n_env, const img_t *imgs, size_t n_imgs,
                           uint8_t *out, size_t cap)
{
    static uint8_t chunks[DSUIT_TX_MAX_IMAGES][64][32];
    dsuit_tx_image_in_t in[DSUIT_TX_MAX_IMAGES];
    size_t bl;
    assert_true(n_imgs <= DSUIT_TX_MAX_IMAGES);
    for (size_t i = 0; i < n_imgs; i++) {
        assert_true(imgs[i].n_chunks <= 64);
        for (size_t c = 0; c < imgs[i].n_chunks; c++) {
            memset(chunks[i][c], (int)(c + 1), 32);
            chunks[i][c][0] = (uint8_t)i;
        }
        in[i].digest = imgs[i].digest;
        in[i].size = imgs[i].size;
        in[i].chunk_size = imgs[i].chunk_size;
        in[i].chunks = (const uint8_t(*)[32])chunks[i];
        in[i].n_chunks = imgs[i].n_chunks;
    }
    assert_int_equal(dsuit_tx_body_publish(chain, f->nonce++, env, n_env, in,
                                           n_imgs, out, cap, &bl),
                     DSUIT_OK);
    return bl;
}

/* An unsigned publish of envelope s with the images its components set. */
static size_t tx_publish_env(fx_t *f, const env_t *s, uint8_t *out, size_t cap)
{
    uint8_t env[4096], body[TXCAP];
    img_t imgs[4];
    size_t n_img = 0, n_env = env_build(s, env, sizeof env);
    for (size_t i = 0; i < s->n; i++) {
        if (s->c[i].size)
            imgs[n_img++] = img_of(&s->c[i]);
    }
    size_t bl =
        body_publish(f, f->chain, env, n_env, imgs, n_img, body, sizeof body);
    return tx_sign(body, bl, NULL, 0, out, cap);
}

static size_t tx_publish(fx_t *f, const dsuit_key_t *author, uint64_t seq,
                         uint8_t digest_byte, uint64_t size, uint8_t *out,
                         size_t cap)
{
    env_t s = env_simple(author, seq, digest_byte, size);
    return tx_publish_env(f, &s, out, cap);
}

/* A publish whose images are given explicitly. */
static size_t tx_publish_imgs(fx_t *f, const env_t *s, const img_t *imgs,
                              size_t n_imgs, uint8_t *out, size_t cap)
{
    uint8_t env[4096], body[TXCAP];
    size_t n_env = env_build(s, env, sizeof env);
    size_t bl =
        body_publish(f, f->chain, env, n_env, imgs, n_imgs, body, sizeof body);
    return tx_sign(body, bl, NULL, 0, out, cap);
}

/* ---- store inspection -------------------------------------------------- */

typedef struct {
    uint64_t n[DSUIT_TBL_COUNT];
} counts_t;

static counts_t table_counts(fx_t *f)
{
    counts_t c;
    dsuit_store_txn_t *t;
    memset(&c, 0, sizeof c);
    assert_int_equal(dsuit_store_begin(dsuit_ledger_store(f->l), 0, &t),
                     DSUIT_OK);
    for (int i = 0; i < DSUIT_TBL_COUNT; i++)
        assert_int_equal(dsuit_store_count(t, (dsuit_table_t)i, &c.n[i]),
                         DSUIT_OK);
    dsuit_store_abort(t);
    return c;
}

/* Copy of a table's entries, to compare before and after. */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
} dump_t;

static int dump_visit(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                      size_t vl)
{
    dump_t *d = arg;
    size_t need = d->len + kl + vl + 16;
    if (need > d->cap) {
        d->cap = need * 2;
        d->buf = realloc(d->buf, d->cap);
        if (d->buf == NULL)
            return -1;
    }
    memcpy(d->buf + d->len, &kl, sizeof kl);
    d->len += sizeof kl;
    memcpy(d->buf + d->len, k, kl);
    d->len += kl;
    memcpy(d->buf + d->len, &vl, sizeof vl);
    d->len += sizeof vl;
    memcpy(d->buf + d->len, v, vl);
    d->len += vl;
    return 0;
}

static dump_t table_dump(fx_t *f, dsuit_table_t tbl)
{
    dump_t d = {NULL, 0, 0};
    dsuit_store_txn_t *t;
    assert_int_equal(dsuit_store_begin(dsuit_ledger_store(f->l), 0, &t),
                     DSUIT_OK);
    assert_int_equal(dsuit_store_foreach(t, tbl, dump_visit, &d), DSUIT_OK);
    dsuit_store_abort(t);
    return d;
}

static void author_status(fx_t *f, const dsuit_key_t *k, uint64_t want)
{
    dsuit_store_txn_t *t;
    const uint8_t *v;
    size_t n;
    uint8_t kid[32];
    dsuit_author_t a;
    key_id(k, kid);
    assert_int_equal(dsuit_store_begin(dsuit_ledger_store(f->l), 0, &t),
                     DSUIT_OK);
    assert_int_equal(dsuit_store_get(t, DSUIT_TBL_AUTHORS, kid, 32, &v, &n),
                     DSUIT_OK);
    assert_int_equal(dsuit_author_decode(v, n, &a), DSUIT_OK);
    assert_int_equal(a.status, want);
    dsuit_store_abort(t);
}

/* ====================================================================== */
/* register-author                                                        */
/* ====================================================================== */

static void register_author_by_k_registrars_is_applied(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a, b;
    const uint8_t classes[2][16] = {{1}, {2}};
    uint8_t tx[TXCAP];
    size_t len;
    counts_t c0 = table_counts(f);
    gen_key(DSUIT_KEY_P256, &a);
    gen_key(DSUIT_KEY_ED25519, &b);
    len = tx_author(f, &a, vendor, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    len = tx_author(f, &b, vendor, classes, 2, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    assert_int_equal(table_counts(f).n[DSUIT_TBL_AUTHORS],
                     c0.n[DSUIT_TBL_AUTHORS] + 2);
    author_status(f, &a, DSUIT_AUTHOR_ACTIVE);
}

static void register_author_by_all_registrars_is_applied(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t body[1024], tx[TXCAP];
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &a);
    bl = body_author(f, f->chain, &a, vendor, NULL, 0, body, sizeof body);
    len = tx_sign(body, bl, f->reg, N_REG, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

/* The document lists -7/-9 for ES256 and -8/-19 for Ed25519. */
static void register_author_accepts_fully_specified_algorithms(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t body[1024], tx[TXCAP];
    rsig_t s[2];
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &a);
    bl = body_author(f, f->chain, &a, vendor, NULL, 0, body, sizeof body);
    rsig_make(body, bl, &f->reg[0], &s[0]); /* P-256 */
    rsig_make(body, bl, &f->reg[1], &s[1]); /* Ed25519 */
    s[0].alg = DSUIT_COSE_ALG_ESP256;
    s[1].alg = DSUIT_COSE_ALG_ED25519;
    rsig_sort(s, 2);
    len = tx_raw(body, bl, s, 2, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

/* K-1 registrar signatures, after failing below threshold, then gathering
 * the missing one offline: same tx id, now applied. */
static void register_author_below_threshold_then_completed(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t body[1024], tx[TXCAP], tx2[TXCAP];
    size_t bl, len, len2;
    counts_t c0;
    gen_key(DSUIT_KEY_ED25519, &a);
    bl = body_author(f, f->chain, &a, vendor, NULL, 0, body, sizeof body);
    len = tx_sign(body, bl, &f->reg[2], K - 1, tx, sizeof tx);
    c0 = table_counts(f);
    expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
    assert_int_equal(table_counts(f).n[DSUIT_TBL_AUTHORS],
                     c0.n[DSUIT_TBL_AUTHORS]);
    assert_int_equal(
        dsuit_tx_add_signature(tx, len, &f->reg[0], tx2, sizeof tx2, &len2),
        DSUIT_OK);
    expect(f, tx2, len2, DSUIT_TXR_OK);
    /* Unsigned. */
    gen_key(DSUIT_KEY_P256, &a);
    bl = body_author(f, f->chain, &a, vendor, NULL, 0, body, sizeof body);
    len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
}

/* A registered author's valid signature is not a registrar's. */
static void register_author_non_registrar_signature_does_not_count(void **state)
{
    fx_t *f = *state;
    dsuit_key_t existing, a;
    uint8_t body[1024], tx[TXCAP];
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &existing);
    gen_key(DSUIT_KEY_P256, &a);
    register_author(f, &existing, vendor, NULL, 0);
    bl = body_author(f, f->chain, &a, vendor, NULL, 0, body, sizeof body);
    len = tx_sign2(body, bl, &f->reg[0], &existing, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
    /* A validator is not a registrar either (and not a known signer). */
    len = tx_sign2(body, bl, &f->reg[0], &f->val[0], tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
}

static void register_author_wrong_chain(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t body[1024], tx[TXCAP], other[32];
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &a);
    memcpy(other, f->chain, 32);
    other[31] ^= 0x80;
    bl = body_author(f, other, &a, vendor, NULL, 0, body, sizeof body);
    len = tx_sign(body, bl, f->reg, N_REG, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_WRONG_CHAIN);
}

/* Every way a listed signature can be wrong: bad-signature. */
static void register_author_bad_signatures(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a, stranger;
    uint8_t body[1024], tx[TXCAP];
    rsig_t s[4];
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &a);
    gen_key(DSUIT_KEY_P256, &stranger);
    bl = body_author(f, f->chain, &a, vendor, NULL, 0, body, sizeof body);
    for (int i = 0; i < N_REG; i++)
        rsig_make(body, bl, &f->reg[i], &s[i]);
    rsig_make(body, bl, &stranger, &s[3]);
    rsig_sort(s, N_REG);

    /* One of three registrar signatures flipped (two would suffice). */
    {
        rsig_t t[N_REG];
        memcpy(t, s, sizeof t);
        t[1].sig[10] ^= 0x01;
        len = tx_raw(body, bl, t, N_REG, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    /* A signature that does not fit its algorithm (EdDSA on a P-256 key
     * or ES256 on an Ed25519 key). */
    {
        rsig_t t[N_REG];
        memcpy(t, s, sizeof t);
        for (int i = 0; i < N_REG; i++)
            t[i].alg = t[i].alg == DSUIT_COSE_ALG_ES256 ? DSUIT_COSE_ALG_EDDSA
                                                        : DSUIT_COSE_ALG_ES256;
        len = tx_raw(body, bl, t, N_REG, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    /* A truncated signature. */
    {
        rsig_t t[N_REG];
        memcpy(t, s, sizeof t);
        t[0].sig_len = 63;
        len = tx_raw(body, bl, t, N_REG, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    /* A signer nobody knows next to K good registrar signatures. */
    {
        rsig_t t[N_REG + 1];
        memcpy(t, s, sizeof(rsig_t) * N_REG);
        t[N_REG] = s[3];
        rsig_sort(t, N_REG + 1);
        len = tx_raw(body, bl, t, N_REG + 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    /* Signatures out of ascending key-id order. */
    {
        rsig_t t[2] = {s[1], s[0]};
        len = tx_raw(body, bl, t, 2, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    /* The same key twice (it would not reach K by itself anyway, but
     * the listing is what is wrong). */
    {
        rsig_t t[3] = {s[0], s[0], s[1]};
        len = tx_raw(body, bl, t, 3, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
        rsig_t u[2] = {s[0], s[0]};
        len = tx_raw(body, bl, u, 2, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    /* After all that, the correct listing is still accepted. */
    len = tx_raw(body, bl, s, N_REG, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void register_author_duplicates(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a, b;
    uint8_t tx[TXCAP], tx2[TXCAP];
    size_t len, len2;
    gen_key(DSUIT_KEY_P256, &a);
    gen_key(DSUIT_KEY_ED25519, &b);
    len = tx_author(f, &a, vendor, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* Replayed tx id. */
    expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    /* The same key again in a new transaction, even for another vendor. */
    len2 = tx_author(f, &a, vendor2, NULL, 0, tx2, sizeof tx2);
    expect(f, tx2, len2, DSUIT_TXR_DUPLICATE);
    /* A revoked key cannot come back. */
    revoke_author(f, &a);
    len2 = tx_author(f, &a, vendor, NULL, 0, tx2, sizeof tx2);
    expect(f, tx2, len2, DSUIT_TXR_DUPLICATE);
    /* Nor a key rotated away. */
    {
        dsuit_key_t c;
        gen_key(DSUIT_KEY_P256, &c);
        register_author(f, &b, vendor, NULL, 0);
        rotate_author(f, &b, &c);
        len2 = tx_author(f, &b, vendor, NULL, 0, tx2, sizeof tx2);
        expect(f, tx2, len2, DSUIT_TXR_DUPLICATE);
    }
}

/* ---- bad encodings --------------------------------------------------- */

/* Splice: replace n bytes at off with rep[0..rn) (in place, cap bytes). */
static size_t splice(uint8_t *buf, size_t len, size_t off, size_t n,
                     const uint8_t *rep, size_t rn)
{
    assert_true(off + n <= len);
    memmove(buf + off + rn, buf + off + n, len - off - n);
    if (rn > 0)
        memcpy(buf + off, rep, rn);
    return len - n + rn;
}

/* Signed by K registrars: a body in whatever encoding it is. */
static size_t tx_k(fx_t *f, const uint8_t *body, size_t bl, uint8_t *out,
                   size_t cap)
{
    return tx_sign(body, bl, f->reg, K, out, cap);
}

/* A COSE_Key for k in each of several non-deterministic encodings. */
typedef struct {
    const char *what;
    uint8_t b[160];
    size_t n;
} badkey_t;

static size_t bad_cose_keys(const dsuit_key_t *k, badkey_t *out)
{
    uint8_t enc[DSUIT_COSE_KEY_MAX];
    size_t n = key_bytes(k, enc), m = 0;
    /* P-256: a4 01 02 20 01 21 58 20 x 22 58 20 y
     * Ed25519: a3 01 01 20 06 21 58 20 x */
    int p256 = k->type == DSUIT_KEY_P256;

    /* 1. Map head not minimal. */
    out[m].what = "non-minimal map head";
    out[m].b[0] = 0xb8;
    out[m].b[1] = p256 ? 4 : 3;
    memcpy(out[m].b + 2, enc + 1, n - 1);
    out[m++].n = n + 1;
    /* 2. kty value with a non-minimal head (0x18 0x02). */
    out[m].what = "non-minimal uint";
    memcpy(out[m].b, enc, n);
    out[m].n = splice(out[m].b, n, 2, 1, (const uint8_t[]){0x18, enc[2]}, 2);
    m++;
    /* 3. x with a 2-byte length head. */
    out[m].what = "non-minimal bstr head";
    memcpy(out[m].b, enc, n);
    out[m].n =
        splice(out[m].b, n, 6, 2, (const uint8_t[]){0x59, 0x00, 0x20}, 3);
    m++;
    /* 4. Labels out of order: -1 before 1. */
    out[m].what = "unsorted labels";
    out[m].b[0] = enc[0];
    memcpy(out[m].b + 1, enc + 3, 2);
    memcpy(out[m].b + 3, enc + 1, 2);
    memcpy(out[m].b + 5, enc + 5, n - 5);
    out[m++].n = n;
    /* 5. An extra label: kid (2) = h'01'. Sorted: 1, 2, -1, ... */
    out[m].what = "extra label (kid)";
    out[m].b[0] = enc[0] + 1;
    memcpy(out[m].b + 1, enc + 1, 2);
    memcpy(out[m].b + 3, (const uint8_t[]){0x02, 0x41, 0x01}, 3);
    memcpy(out[m].b + 6, enc + 3, n - 3);
    out[m++].n = n + 3;
    /* 6. Indefinite-length map. */
    out[m].what = "indefinite map";
    out[m].b[0] = 0xbf;
    memcpy(out[m].b + 1, enc + 1, n - 1);
    out[m].b[n] = 0xff;
    out[m++].n = n + 1;
    /* 7. A private part (-4) is never a public key. */
    out[m].what = "private part";
    out[m].b[0] = enc[0] + 1;
    memcpy(out[m].b + 1, enc + 1, n - 1);
    out[m].b[n] = 0x23; /* -4 */
    out[m].b[n + 1] = 0x58;
    out[m].b[n + 2] = 0x20;
    memset(out[m].b + n + 3, 0x42, 32);
    out[m++].n = n + 35;
    /* 8. Trailing byte after the map. */
    out[m].what = "trailing byte";
    memcpy(out[m].b, enc, n);
    out[m].b[n] = 0x00;
    out[m++].n = n + 1;
    return m;
}

/* The author payload {1: key, 2: name, 3: vendor} with raw key bytes. */
static size_t author_payload(const uint8_t *kb, size_t kn, uint8_t *out,
                             size_t cap)
{
    uint8_t kbuf[200], vbuf[32];
    tv_raw_t raw[2] = {bstr_item(kb, kn, kbuf, sizeof kbuf),
                       bstr_item(vendor, 16, vbuf, sizeof vbuf)};
    return tv_diag("{1: $0, 2: \"team\", 3: $1}", raw, 2, out, cap);
}

static void register_author_bad_encodings(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t kb[DSUIT_COSE_KEY_MAX], kbuf[128], vbuf[32], cbuf[32], chbuf[48];
    uint8_t payload[1024], body[2048], tx[TXCAP];
    size_t kn, pl, bl, len;
    const uint8_t c17[17] = {0};
    gen_key(DSUIT_KEY_P256, &a);
    kn = key_bytes(&a, kb);
    tv_raw_t raw[5] = {bstr_item(kb, kn, kbuf, sizeof kbuf),
                       bstr_item(vendor, 16, vbuf, sizeof vbuf),
                       bstr_item(c17, 17, cbuf, sizeof cbuf),
                       bstr_item(f->chain, 32, chbuf, sizeof chbuf),
                       {NULL, 0}};
    static const struct {
        const char *what, *diag;
    } payloads[] = {
        {"unknown payload key", "{1: $0, 2: \"team\", 3: $1, 5: 0}"},
        {"missing vendor", "{1: $0, 2: \"team\"}"},
        {"vendor of 15 bytes", "{1: $0, 2: \"team\", 3: h'0102030405060708"
                               "090a0b0c0d0e0f'}"},
        {"empty class list", "{1: $0, 2: \"team\", 3: $1, 4: []}"},
        {"class of 17 bytes", "{1: $0, 2: \"team\", 3: $1, 4: [$2]}"},
        {"classes not a list", "{1: $0, 2: \"team\", 3: $1, 4: $1}"},
        {"name as bstr", "{1: $0, 2: h'7465616d', 3: $1}"},
        {"name not UTF-8", "{1: $0, 2: \"\\xff\\xfe\", 3: $1}"},
        {"key as tstr", "{1: \"key\", 2: \"team\", 3: $1}"},
        {"keys unsorted", "{2: \"team\", 1: $0, 3: $1}"},
        {"duplicate key", "{1: $0, 1: $0, 2: \"team\", 3: $1}"},
        {"payload is a list", "[$0, \"team\", $1]"},
        {"payload is a bstr", "$0"},
        {"text key", "{1: $0, 2: \"team\", \"3\": $1}"},
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        pl = tv_diag(payloads[i].diag, raw, 4, payload, sizeof payload);
        bl = body_raw(f->chain, DSUIT_TX_REGISTER_AUTHOR, f->nonce++, payload,
                      pl, body, sizeof body);
        len = tx_k(f, body, bl, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
            fail_msg("payload \"%s\" not refused as bad-encoding",
                     payloads[i].what);
    }
    /* TxBody level. */
    pl = author_payload(kb, kn, payload, sizeof payload);
    raw[4].ptr = payload;
    raw[4].len = pl;
    static const struct {
        const char *what, *diag;
    } bodies[] = {
        {"extra body key", "{1: 1, 2: $3, 3: 77, 4: $4, 5: 0}"},
        {"missing nonce", "{1: 1, 2: $3, 4: $4}"},
        {"body keys unsorted", "{2: $3, 1: 1, 3: 77, 4: $4}"},
        {"type as tstr", "{1: \"1\", 2: $3, 3: 77, 4: $4}"},
        {"negative nonce", "{1: 1, 2: $3, 3: -77, 4: $4}"},
        {"chain as tstr", "{1: 1, 2: \"chain\", 3: 77, 4: $4}"},
        {"chain of 16 bytes", "{1: 1, 2: $1, 3: 77, 4: $4}"},
        {"body a list", "[1, $3, 77, $4]"},
        {"tagged body", "24({1: 1, 2: $3, 3: 77, 4: $4})"},
        {"trailing item in body", "{1: 1, 2: $3, 3: 77, 4: $4}, 0"},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        bl = tv_diag(bodies[i].diag, raw, 5, body, sizeof body);
        len = tx_k(f, body, bl, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
            fail_msg("body \"%s\" not refused as bad-encoding", bodies[i].what);
    }
    /* A non-deterministic COSE_Key, for each key type. */
    for (int kt = 0; kt < 2; kt++) {
        badkey_t bk[8];
        dsuit_key_t k;
        gen_key(kt ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256, &k);
        size_t nb = bad_cose_keys(&k, bk);
        for (size_t i = 0; i < nb; i++) {
            pl = author_payload(bk[i].b, bk[i].n, payload, sizeof payload);
            bl = body_raw(f->chain, DSUIT_TX_REGISTER_AUTHOR, f->nonce++,
                          payload, pl, body, sizeof body);
            len = tx_k(f, body, bl, tx, sizeof tx);
            if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
                fail_msg("COSE_Key (%s, %s) not refused as bad-encoding",
                         kt ? "Ed25519" : "P-256", bk[i].what);
        }
        /* The same payload with the deterministic key: applied. */
        {
            uint8_t good[DSUIT_COSE_KEY_MAX];
            size_t gn = key_bytes(&k, good);
            pl = author_payload(good, gn, payload, sizeof payload);
            bl = body_raw(f->chain, DSUIT_TX_REGISTER_AUTHOR, f->nonce++,
                          payload, pl, body, sizeof body);
            len = tx_k(f, body, bl, tx, sizeof tx);
            expect(f, tx, len, DSUIT_TXR_OK);
        }
    }
    /* A symmetric "key" {1: 4, -1: h'..'} is no author key. */
    {
        uint8_t sym[64];
        size_t sn = tv_diag("{1: 4, -1: h'000102030405060708090a0b0c0d0e0f"
                            "101112131415161718191a1b1c1d1e1f'}",
                            NULL, 0, sym, sizeof sym);
        pl = author_payload(sym, sn, payload, sizeof payload);
        bl = body_raw(f->chain, DSUIT_TX_REGISTER_AUTHOR, f->nonce++, payload,
                      pl, body, sizeof body);
        len = tx_k(f, body, bl, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_ENCODING);
    }
}

/* Encoding faults of the Tx envelope itself (any type). */
static void transaction_bad_encodings(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t body[1024], tx[TXCAP], m[TXCAP + 16];
    size_t bl, len, n;
    gen_key(DSUIT_KEY_P256, &a);
    bl = body_author(f, f->chain, &a, vendor, NULL, 0, body, sizeof body);
    len = tx_k(f, body, bl, tx, sizeof tx);
    /* tx = 82 59 LL LL <body> 82 83 58 20 kid 26 58 40 sig ... (body is
     * over 255 bytes? no: over 23 and under 256: 58 LL) */
    assert_true(bl >= 24 && bl < 256);
    assert_int_equal(tx[0], 0x82);
    assert_int_equal(tx[1], 0x58);

    /* Outer array head not minimal. */
    m[0] = 0x98;
    m[1] = 0x02;
    memcpy(m + 2, tx + 1, len - 1);
    expect(f, m, len + 1, DSUIT_TXR_BAD_ENCODING);
    /* Body bstr head not minimal. */
    memcpy(m, tx, len);
    n = splice(m, len, 1, 2, (const uint8_t[]){0x59, 0x00, (uint8_t)bl}, 3);
    expect(f, m, n, DSUIT_TXR_BAD_ENCODING);
    /* Signature list head not minimal. */
    memcpy(m, tx, len);
    n = splice(m, len, 3 + bl, 1, (const uint8_t[]){0x98, 0x02}, 2);
    assert_int_equal(tx[3 + bl], 0x82);
    expect(f, m, n, DSUIT_TXR_BAD_ENCODING);
    /* Indefinite-length outer array. */
    m[0] = 0x9f;
    memcpy(m + 1, tx + 1, len - 1);
    m[len] = 0xff;
    expect(f, m, len + 1, DSUIT_TXR_BAD_ENCODING);
    /* Truncated, at several places. */
    for (size_t cut = 1; cut < len; cut += len / 7 + 1)
        expect(f, tx, len - cut, DSUIT_TXR_BAD_ENCODING);
    /* Trailing byte. */
    memcpy(m, tx, len);
    m[len] = 0x00;
    expect(f, m, len + 1, DSUIT_TXR_BAD_ENCODING);
    /* Three elements; one element. */
    memcpy(m, tx, len);
    m[0] = 0x83;
    m[len] = 0x00;
    expect(f, m, len + 1, DSUIT_TXR_BAD_ENCODING);
    memcpy(m, tx, 2 + 1 + bl);
    m[0] = 0x81;
    expect(f, m, 3 + bl, DSUIT_TXR_BAD_ENCODING);
    /* Tagged. */
    m[0] = 0xd8;
    m[1] = 0x18;
    memcpy(m + 2, tx, len);
    expect(f, m, len + 2, DSUIT_TXR_BAD_ENCODING);
    /* Body as a map instead of a bstr: [{...}, [...]] */
    memcpy(m, tx, len);
    n = splice(m, len, 1, 2, NULL, 0);
    expect(f, m, n, DSUIT_TXR_BAD_ENCODING);
    /* Empty. */
    expect(f, tx, 0, DSUIT_TXR_BAD_ENCODING);
    /* A signature entry of the wrong shape. */
    {
        rsig_t s[1];
        rsig_make(body, bl, &f->reg[0], &s[0]);
        len = tx_raw(body, bl, s, 1, tx, sizeof tx);
        size_t at = 3 + bl + 1; /* the 83 of the one entry */
        assert_int_equal(tx[at], 0x83);
        /* key id of 31 bytes */
        memcpy(m, tx, len);
        n = splice(m, len, at + 1, 3, (const uint8_t[]){0x58, 0x1f}, 2);
        expect(f, m, n, DSUIT_TXR_BAD_ENCODING);
        /* alg as text */
        memcpy(m, tx, len);
        assert_int_equal(m[at + 35], 0x26);
        m[at + 35] = 0x60; /* "" */
        expect(f, m, len, DSUIT_TXR_BAD_ENCODING);
        /* four elements */
        memcpy(m, tx, len);
        m[at] = 0x84;
        /* append 0 to the entry: it is the last item, so append at end */
        m[len] = 0x00;
        expect(f, m, len + 1, DSUIT_TXR_BAD_ENCODING);
        /* empty signature */
        {
            rsig_t t = s[0];
            t.sig_len = 0;
            len = tx_raw(body, bl, &t, 1, tx, sizeof tx);
            expect(f, tx, len, DSUIT_TXR_BAD_ENCODING);
        }
    }
    /* Non-minimal nonce inside the body (re-signed, so only the encoding
     * is wrong). */
    {
        uint8_t b2[1100];
        size_t at;
        memcpy(b2, body, bl);
        /* body = a4 01 01 02 58 20 <chain> 03 <nonce> 04 ... */
        at = 6 + 32;
        assert_int_equal(b2[at], 0x03);
        assert_true(b2[at + 1] == 0x18 || b2[at + 1] < 24);
        if (b2[at + 1] < 24)
            n = splice(b2, bl, at + 1, 1, (const uint8_t[]){0x18, b2[at + 1]},
                       2);
        else
            n = splice(b2, bl, at + 1, 2,
                       (const uint8_t[]){0x19, 0x00, b2[at + 2]}, 3);
        len = tx_k(f, b2, n, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_ENCODING);
        /* Non-minimal type. */
        memcpy(b2, body, bl);
        n = splice(b2, bl, 2, 1, (const uint8_t[]){0x18, 0x01}, 2);
        len = tx_k(f, b2, n, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_ENCODING);
        /* Body map head non-minimal. */
        memcpy(b2, body, bl);
        n = splice(b2, bl, 0, 1, (const uint8_t[]){0xb8, 0x04}, 2);
        len = tx_k(f, b2, n, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_ENCODING);
    }
    /* After all that, the well-formed original is applied. */
    len = tx_k(f, body, bl, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

/* ====================================================================== */
/* revoke-author                                                          */
/* ====================================================================== */

static void revoke_author_by_k_registrars_is_applied(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t tx[TXCAP];
    size_t len;
    gen_key(DSUIT_KEY_P256, &a);
    register_author(f, &a, vendor, NULL, 0);
    len = tx_publish(f, &a, 1, 1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    revoke_author(f, &a);
    author_status(f, &a, DSUIT_AUTHOR_REVOKED);
    len = tx_publish(f, &a, 2, 2, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_REVOKED_AUTHOR);
}

static void revoke_author_refusals(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a, nobody, other;
    uint8_t body[512], tx[TXCAP], other_chain[32];
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &a);
    gen_key(DSUIT_KEY_ED25519, &nobody);
    gen_key(DSUIT_KEY_P256, &other);
    register_author(f, &a, vendor, NULL, 0);
    register_author(f, &other, vendor, NULL, 0);

    /* wrong-chain */
    memcpy(other_chain, f->chain, 32);
    other_chain[0] ^= 1;
    bl = body_revoke(f, other_chain, &a, body, sizeof body);
    len = tx_sign(body, bl, f->reg, K, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_WRONG_CHAIN);
    /* bad-signature: one registrar signature flipped. */
    bl = body_revoke(f, f->chain, &a, body, sizeof body);
    {
        rsig_t s[N_REG];
        for (int i = 0; i < N_REG; i++)
            rsig_make(body, bl, &f->reg[i], &s[i]);
        rsig_sort(s, N_REG);
        s[2].sig[0] ^= 0x80;
        len = tx_raw(body, bl, s, N_REG, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    /* below-threshold: K-1 registrars; K-1 plus the author itself; the
     * author alone. */
    len = tx_sign(body, bl, &f->reg[0], K - 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
    len = tx_sign2(body, bl, &f->reg[0], &a, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
    len = tx_sign2(body, bl, &other, &a, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
    author_status(f, &a, DSUIT_AUTHOR_ACTIVE);
    /* unknown-author */
    {
        uint8_t b2[512];
        size_t bl2 = body_revoke(f, f->chain, &nobody, b2, sizeof b2);
        len = tx_sign(b2, bl2, f->reg, K, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_UNKNOWN_AUTHOR);
    }
    /* ok, then duplicate: replay and revoking twice. */
    len = tx_sign(body, bl, f->reg, K, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    bl = body_revoke(f, f->chain, &a, body, sizeof body);
    len = tx_sign(body, bl, f->reg, K, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    author_status(f, &a, DSUIT_AUTHOR_REVOKED);
}

static void revoke_author_bad_encodings(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t kid[32], kbuf[48], payload[256], body[512], tx[TXCAP];
    size_t pl, bl, len;
    gen_key(DSUIT_KEY_P256, &a);
    register_author(f, &a, vendor, NULL, 0);
    key_id(&a, kid);
    uint8_t k31[40];
    tv_raw_t raw[2] = {bstr_item(kid, 32, kbuf, sizeof kbuf),
                       bstr_item(kid, 31, k31, sizeof k31)};
    static const struct {
        const char *what, *diag;
    } cases[] = {
        {"unknown payload key", "{1: $0, 2: \"why\", 3: 0}"},
        {"key id of 31 bytes", "{1: $1, 2: \"why\"}"},
        {"key id as tstr", "{1: \"id\", 2: \"why\"}"},
        {"reason as bstr", "{1: $0, 2: h'77'}"},
        {"reason missing", "{1: $0}"},
        {"keys unsorted", "{2: \"why\", 1: $0}"},
        {"payload a list", "[$0, \"why\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl = tv_diag(cases[i].diag, raw, 2, payload, sizeof payload);
        bl = body_raw(f->chain, DSUIT_TX_REVOKE_AUTHOR, f->nonce++, payload, pl,
                      body, sizeof body);
        len = tx_k(f, body, bl, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
            fail_msg("revoke payload \"%s\" not refused as bad-encoding",
                     cases[i].what);
    }
    author_status(f, &a, DSUIT_AUTHOR_ACTIVE);
    pl = tv_diag("{1: $0, 2: \"why\"}", raw, 2, payload, sizeof payload);
    bl = body_raw(f->chain, DSUIT_TX_REVOKE_AUTHOR, f->nonce++, payload, pl,
                  body, sizeof body);
    len = tx_k(f, body, bl, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

/* ====================================================================== */
/* rotate-author-key                                                      */
/* ====================================================================== */

static void rotate_author_key_by_the_old_key_is_applied(void **state)
{
    fx_t *f = *state;
    dsuit_key_t old, next;
    uint8_t tx[TXCAP];
    size_t len;
    gen_key(DSUIT_KEY_P256, &old);
    gen_key(DSUIT_KEY_ED25519, &next);
    register_author(f, &old, vendor, NULL, 0);
    len = tx_publish(f, &old, 1, 1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    rotate_author(f, &old, &next);
    author_status(f, &old, DSUIT_AUTHOR_ROTATED);
    author_status(f, &next, DSUIT_AUTHOR_ACTIVE);
    /* The new key publishes in the old key's scope; the old one cannot. */
    len = tx_publish(f, &next, 2, 2, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    len = tx_publish(f, &old, 3, 3, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_REVOKED_AUTHOR);
}

static void rotate_author_key_refusals(void **state)
{
    fx_t *f = *state;
    dsuit_key_t old, next, other, nobody, revoked;
    uint8_t body[512], tx[TXCAP], other_chain[32];
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &old);
    gen_key(DSUIT_KEY_P256, &next);
    gen_key(DSUIT_KEY_ED25519, &other);
    gen_key(DSUIT_KEY_P256, &nobody);
    gen_key(DSUIT_KEY_P256, &revoked);
    register_author(f, &old, vendor, NULL, 0);
    register_author(f, &other, vendor, NULL, 0);
    register_author(f, &revoked, vendor, NULL, 0);
    revoke_author(f, &revoked);

    /* wrong-chain */
    memcpy(other_chain, f->chain, 32);
    other_chain[5] ^= 1;
    bl = body_rotate(f, other_chain, &old, &next, body, sizeof body);
    len = tx_sign(body, bl, &old, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_WRONG_CHAIN);

    bl = body_rotate(f, f->chain, &old, &next, body, sizeof body);
    /* bad-signature: the old key's signature flipped; not signed at all;
     * signed by K registrars instead; by another registered author; by a
     * stranger (a signer nobody knows). */
    {
        rsig_t s;
        rsig_make(body, bl, &old, &s);
        s.sig[63] ^= 0x01;
        len = tx_raw(body, bl, &s, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    len = tx_sign(body, bl, f->reg, N_REG, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    len = tx_sign(body, bl, &other, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    len = tx_sign2(body, bl, &old, &nobody, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    author_status(f, &old, DSUIT_AUTHOR_ACTIVE);

    /* unknown-author: an old key id nobody registered. It cannot sign
     * as a known key, so the transaction is unsigned, or signed by
     * registrars (known signers whose signatures verify). */
    {
        uint8_t b2[512];
        size_t bl2 = body_rotate(f, f->chain, &nobody, &next, b2, sizeof b2);
        len = tx_sign(b2, bl2, NULL, 0, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_UNKNOWN_AUTHOR);
        len = tx_sign(b2, bl2, f->reg, K, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_UNKNOWN_AUTHOR);
    }
    /* revoked-author: the old key was revoked. */
    {
        uint8_t b2[512];
        size_t bl2 = body_rotate(f, f->chain, &revoked, &next, b2, sizeof b2);
        len = tx_sign(b2, bl2, &revoked, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_REVOKED_AUTHOR);
    }
    /* duplicate: the new key is already an author (active or revoked). */
    {
        uint8_t b2[512];
        size_t bl2 = body_rotate(f, f->chain, &old, &other, b2, sizeof b2);
        len = tx_sign(b2, bl2, &old, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_DUPLICATE);
        bl2 = body_rotate(f, f->chain, &old, &revoked, b2, sizeof b2);
        len = tx_sign(b2, bl2, &old, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_DUPLICATE);
        /* Rotating to itself. */
        bl2 = body_rotate(f, f->chain, &old, &old, b2, sizeof b2);
        len = tx_sign(b2, bl2, &old, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    }
    /* ok, replay: duplicate; the rotated-away key rotating again:
     * revoked-author. */
    len = tx_sign(body, bl, &old, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    {
        dsuit_key_t third;
        uint8_t b2[512];
        gen_key(DSUIT_KEY_P256, &third);
        size_t bl2 = body_rotate(f, f->chain, &old, &third, b2, sizeof b2);
        len = tx_sign(b2, bl2, &old, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_REVOKED_AUTHOR);
    }
}

/* The old key signs, and so does another registered author whose key id
 * sorts first: every listed signature verifies and the old key signed, so
 * the rotation is authorised (docs: "authorised by the old key"). */
static void
rotate_author_key_cosigned_by_another_author_is_applied(void **state)
{
    fx_t *f = *state;
    dsuit_key_t k1, k2, next, *old, *other;
    uint8_t id1[32], id2[32], body[512], tx[TXCAP];
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &k1);
    gen_key(DSUIT_KEY_P256, &k2);
    gen_key(DSUIT_KEY_P256, &next);
    key_id(&k1, id1);
    key_id(&k2, id2);
    /* other = the lower key id, so it is listed before the old key. */
    other = memcmp(id1, id2, 32) < 0 ? &k1 : &k2;
    old = other == &k1 ? &k2 : &k1;
    register_author(f, old, vendor, NULL, 0);
    register_author(f, other, vendor, NULL, 0);
    bl = body_rotate(f, f->chain, old, &next, body, sizeof body);
    len = tx_sign2(body, bl, old, other, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void rotate_author_key_bad_encodings(void **state)
{
    fx_t *f = *state;
    dsuit_key_t old, next;
    uint8_t kid[32], kidb[48], k31[40], nkb[DSUIT_COSE_KEY_MAX], nbuf[200];
    uint8_t payload[512], body[1024], tx[TXCAP];
    size_t pl, bl, len;
    badkey_t bk[8];
    gen_key(DSUIT_KEY_P256, &old);
    gen_key(DSUIT_KEY_ED25519, &next);
    register_author(f, &old, vendor, NULL, 0);
    key_id(&old, kid);
    tv_raw_t raw[3] = {bstr_item(kid, 32, kidb, sizeof kidb),
                       bstr_item(nkb, key_bytes(&next, nkb), nbuf, sizeof nbuf),
                       bstr_item(kid, 31, k31, sizeof k31)};
    static const struct {
        const char *what, *diag;
    } cases[] = {
        {"unknown payload key", "{1: $0, 2: $1, 3: 0}"},
        {"old id of 31 bytes", "{1: $2, 2: $1}"},
        {"new key missing", "{1: $0}"},
        {"new key as tstr", "{1: $0, 2: \"key\"}"},
        {"new key empty", "{1: $0, 2: h''}"},
        {"keys unsorted", "{2: $1, 1: $0}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl = tv_diag(cases[i].diag, raw, 3, payload, sizeof payload);
        bl = body_raw(f->chain, DSUIT_TX_ROTATE_AUTHOR_KEY, f->nonce++, payload,
                      pl, body, sizeof body);
        len = tx_sign(body, bl, &old, 1, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
            fail_msg("rotate payload \"%s\" not refused as bad-encoding",
                     cases[i].what);
    }
    /* The new key in non-deterministic encodings. */
    size_t nb = bad_cose_keys(&next, bk);
    for (size_t i = 0; i < nb; i++) {
        uint8_t kb2[200];
        raw[1] = bstr_item(bk[i].b, bk[i].n, kb2, sizeof kb2);
        pl = tv_diag("{1: $0, 2: $1}", raw, 3, payload, sizeof payload);
        bl = body_raw(f->chain, DSUIT_TX_ROTATE_AUTHOR_KEY, f->nonce++, payload,
                      pl, body, sizeof body);
        len = tx_sign(body, bl, &old, 1, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
            fail_msg("rotate to COSE_Key (%s) not refused as bad-encoding",
                     bk[i].what);
    }
    author_status(f, &old, DSUIT_AUTHOR_ACTIVE);
    raw[1] = bstr_item(nkb, key_bytes(&next, nkb), nbuf, sizeof nbuf);
    pl = tv_diag("{1: $0, 2: $1}", raw, 3, payload, sizeof payload);
    bl = body_raw(f->chain, DSUIT_TX_ROTATE_AUTHOR_KEY, f->nonce++, payload, pl,
                  body, sizeof body);
    len = tx_sign(body, bl, &old, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

/* ====================================================================== */
/* publish                                                                */
/* ====================================================================== */

static void publish_by_a_registered_author_is_applied(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p, e;
    uint8_t tx[TXCAP];
    size_t len;
    uint8_t cl[2][16];
    memcpy(cl[0], klass2, 16);
    memcpy(cl[1], klass, 16);
    gen_key(DSUIT_KEY_P256, &p);
    gen_key(DSUIT_KEY_ED25519, &e);
    register_author(f, &p, vendor, NULL, 0);
    register_author(f, &e, vendor, (const uint8_t(*)[16])cl, 2);
    len = tx_publish(f, &p, 1, 0x11, 300000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 1);
    /* An Ed25519 author scoped to the class. */
    len = tx_publish(f, &e, 2, 0x12, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* Exactly the policy's maximum image size, in 16 chunks. */
    len = tx_publish(f, &p, 3, 0x13, MAX_IMG, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* A publish listing no signatures is the normal case; one listing a
     * registrar's valid signature too is still authorised by the
     * envelope. */
    {
        uint8_t env[4096], body[TXCAP];
        env_t s = env_simple(&p, 4, 0x14, 5000);
        img_t im = img_of(&s.c[0]);
        size_t n_env = env_build(&s, env, sizeof env);
        size_t bl =
            body_publish(f, f->chain, env, n_env, &im, 1, body, sizeof body);
        len = tx_sign(body, bl, &f->reg[0], 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_OK);
    }
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 4);
}

/* Two components, each with its image; both listed. */
static void publish_of_two_components_is_applied(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP];
    size_t len;
    env_t s;
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    s = env_simple(&p, 1, 0x21, 70000);
    s.n = 2;
    s.c[1].id = 1;
    memset(s.c[1].digest, 0x22, 32);
    s.c[1].size = 140000;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* Listing only one of the two images is allowed too (the document
     * asks each listed image to be the manifest's, not every one). */
    s.seq = 2;
    {
        img_t im = img_of(&s.c[1]);
        len = tx_publish_imgs(f, &s, &im, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_OK);
    }
}

static void publish_wrong_chain_and_bad_tx_signature(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t env[4096], body[TXCAP], tx[TXCAP], other[32];
    size_t n_env, bl, len;
    env_t s;
    img_t im;
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    s = env_simple(&p, 1, 0x31, 1000);
    im = img_of(&s.c[0]);
    n_env = env_build(&s, env, sizeof env);
    memcpy(other, f->chain, 32);
    other[9] ^= 4;
    bl = body_publish(f, other, env, n_env, &im, 1, body, sizeof body);
    len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_WRONG_CHAIN);
    /* A listed transaction signature that does not verify. */
    bl = body_publish(f, f->chain, env, n_env, &im, 1, body, sizeof body);
    {
        rsig_t sg;
        rsig_make(body, bl, &f->reg[0], &sg);
        sg.sig[3] ^= 0x10;
        len = tx_raw(body, bl, &sg, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    /* A listed signer nobody knows. */
    {
        dsuit_key_t stranger;
        gen_key(DSUIT_KEY_ED25519, &stranger);
        len = tx_sign(body, bl, &stranger, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
    len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void publish_author_refusals(void **state)
{
    fx_t *f = *state;
    dsuit_key_t stranger, revoked, old, next;
    uint8_t tx[TXCAP];
    size_t len;
    gen_key(DSUIT_KEY_P256, &stranger);
    gen_key(DSUIT_KEY_P256, &revoked);
    gen_key(DSUIT_KEY_ED25519, &old);
    gen_key(DSUIT_KEY_P256, &next);
    /* unknown-author: nobody registered the envelope's signer. */
    len = tx_publish(f, &stranger, 1, 1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_UNKNOWN_AUTHOR);
    /* revoked-author: revoked; a key rotated away. */
    register_author(f, &revoked, vendor, NULL, 0);
    revoke_author(f, &revoked);
    len = tx_publish(f, &revoked, 1, 1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_REVOKED_AUTHOR);
    register_author(f, &old, vendor, NULL, 0);
    rotate_author(f, &old, &next);
    len = tx_publish(f, &old, 1, 1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_REVOKED_AUTHOR);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
    len = tx_publish(f, &next, 1, 1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void publish_out_of_scope(void **state)
{
    fx_t *f = *state;
    dsuit_key_t v2, scoped, any;
    uint8_t tx[TXCAP];
    size_t len;
    env_t s;
    uint8_t cl[1][16];
    memcpy(cl[0], klass2, 16);
    gen_key(DSUIT_KEY_P256, &v2);
    gen_key(DSUIT_KEY_ED25519, &scoped);
    gen_key(DSUIT_KEY_P256, &any);
    register_author(f, &v2, vendor2, NULL, 0);
    register_author(f, &scoped, vendor, (const uint8_t(*)[16])cl, 1);
    register_author(f, &any, vendor, NULL, 0);
    /* Vendor not the author's. */
    len = tx_publish(f, &v2, 1, 1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OUT_OF_SCOPE);
    /* Class not in the author's list. */
    len = tx_publish(f, &scoped, 1, 1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OUT_OF_SCOPE);
    /* A second component setting another vendor / another class. */
    s = env_simple(&scoped, 1, 2, 1000);
    s.c[0].cls = klass2;
    s.n = 2;
    s.c[1].id = 1;
    s.c[1].vendor = vendor;
    s.c[1].cls = klass;
    memset(s.c[1].digest, 3, 32);
    s.c[1].size = 1000;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OUT_OF_SCOPE);
    s.signer = &any;
    s.c[0].cls = klass;
    s.c[1].vendor = vendor2;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OUT_OF_SCOPE);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
    /* In scope: the scoped author's own class. */
    s = env_simple(&scoped, 1, 4, 1000);
    s.c[0].cls = klass2;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void publish_suit_auth(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP], body[TXCAP];
    size_t len, bl;
    env_t s;
    img_t im;
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    s = env_simple(&p, 1, 0x41, 1000);
    im = img_of(&s.c[0]);
    /* An envelope that does not decode. */
    {
        static const uint8_t junk[] = {0xd8, 0x6b, 0xa1, 0x02, 0x40};
        static const uint8_t junk2[] = {0x01, 0x02, 0x03};
        bl = body_publish(f, f->chain, junk, sizeof junk, &im, 1, body,
                          sizeof body);
        len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_SUIT_AUTH);
        bl = body_publish(f, f->chain, junk2, sizeof junk2, &im, 1, body,
                          sizeof body);
        len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_SUIT_AUTH);
    }
    /* A truncated envelope. */
    {
        uint8_t env[4096];
        size_t n_env = env_build(&s, env, sizeof env);
        bl = body_publish(f, f->chain, env, n_env - 3, &im, 1, body,
                          sizeof body);
        len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_SUIT_AUTH);
    }
    /* No authentication block. */
    s.signer = NULL;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_SUIT_AUTH);
    s.signer = &p;
    /* The SUIT_Digest is not the manifest's (and is validly signed). */
    s.corrupt_digest = 1;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_SUIT_AUTH);
    s.corrupt_digest = 0;
    /* Authenticated, but the manifest does not decode (version 2). */
    s.version = 2;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_SUIT_AUTH);
    s.version = 0;
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

/* A registered author's envelope signature, one bit flipped. No registered
 * key authenticates it; since a COSE_Sign1 does not say who signed, it is
 * indistinguishable from a valid signature by an unregistered key, and the
 * ledger answers unknown-author ("no such registered author") — the same
 * code that lets an unregistered author's publish succeed later. */
static void
publish_with_flipped_envelope_signature_is_unknown_author(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP];
    size_t len;
    env_t s;
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    s = env_simple(&p, 1, 0x42, 1000);
    s.flip_sig = 1;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_UNKNOWN_AUTHOR);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
}

/* The same flipped signature, but the envelope's kid names the registered
 * author: the ledger can tell that the signature is what failed, so it
 * answers bad-signature. A kid of an unregistered key still gives
 * unknown-author, and a good signature with the kid is accepted. */
static void
publish_with_kid_of_a_registered_author_and_bad_signature(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p, stranger;
    uint8_t tx[TXCAP], kid[32], other[32];
    size_t len;
    env_t s;
    gen_key(DSUIT_KEY_P256, &p);
    gen_key(DSUIT_KEY_P256, &stranger);
    register_author(f, &p, vendor, NULL, 0);
    key_id(&p, kid);
    key_id(&stranger, other);

    s = env_simple(&p, 1, 0x43, 1000);
    s.kid = kid;
    s.flip_sig = 1;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);

    s = env_simple(&stranger, 1, 0x44, 1000);
    s.kid = other;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_UNKNOWN_AUTHOR);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);

    s = env_simple(&p, 1, 0x45, 1000);
    s.kid = kid;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 1);
}

/* "A publish's envelope carries no integrated payload": the payload is
 * malformed for its type, bad-encoding (it decodes and authenticates, so
 * it is not suit-auth). */
static void publish_with_integrated_payload_is_bad_encoding(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP];
    size_t len;
    env_t s;
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    s = env_simple(&p, 1, 0x43, 1000);
    s.integrated = 1;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_ENCODING);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
}

static void publish_bad_encodings(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t env[4096], envb[4200], dig[48], d31[40], chk[48];
    uint8_t payload[TXCAP], body[TXCAP], tx[TXCAP];
    size_t n_env, pl, bl, len;
    env_t s;
    uint8_t c0[32];
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    s = env_simple(&p, 1, 0x51, 1000);
    n_env = env_build(&s, env, sizeof env);
    memset(c0, 1, 32);
    tv_raw_t raw[4] = {bstr_item(env, n_env, envb, sizeof envb),
                       bstr_item(s.c[0].digest, 32, dig, sizeof dig),
                       bstr_item(s.c[0].digest, 31, d31, sizeof d31),
                       bstr_item(c0, 32, chk, sizeof chk)};
    static const struct {
        const char *what, *diag;
    } cases[] = {
        {"unknown payload key", "{1: $0, 2: [{1: $1, 2: 1000, 3: 65536, "
                                "4: [$3]}], 3: 0}"},
        {"no images", "{1: $0, 2: []}"},
        {"images missing", "{1: $0}"},
        {"no chunks", "{1: $0, 2: [{1: $1, 2: 1000, 3: 65536, 4: []}]}"},
        {"digest of 31 bytes", "{1: $0, 2: [{1: $2, 2: 1000, 3: 65536, "
                               "4: [$3]}]}"},
        {"chunk digest of 31 bytes", "{1: $0, 2: [{1: $1, 2: 1000, "
                                     "3: 65536, 4: [$2]}]}"},
        {"unknown image key", "{1: $0, 2: [{1: $1, 2: 1000, 3: 65536, "
                              "4: [$3], 5: 0}]}"},
        {"image keys unsorted", "{1: $0, 2: [{2: 1000, 1: $1, 3: 65536, "
                                "4: [$3]}]}"},
        {"size as bstr", "{1: $0, 2: [{1: $1, 2: h'03e8', 3: 65536, "
                         "4: [$3]}]}"},
        {"negative size", "{1: $0, 2: [{1: $1, 2: -1000, 3: 65536, "
                          "4: [$3]}]}"},
        {"envelope as tstr", "{1: \"env\", 2: [{1: $1, 2: 1000, 3: 65536, "
                             "4: [$3]}]}"},
        {"image a list", "{1: $0, 2: [[$1, 1000, 65536, [$3]]]}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl = tv_diag(cases[i].diag, raw, 4, payload, sizeof payload);
        bl = body_raw(f->chain, DSUIT_TX_PUBLISH, f->nonce++, payload, pl, body,
                      sizeof body);
        len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
            fail_msg("publish payload \"%s\" not refused as bad-encoding",
                     cases[i].what);
    }
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
    pl = tv_diag("{1: $0, 2: [{1: $1, 2: 1000, 3: 65536, 4: [$3]}]}", raw, 4,
                 payload, sizeof payload);
    bl = body_raw(f->chain, DSUIT_TX_PUBLISH, f->nonce++, payload, pl, body,
                  sizeof body);
    len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void publish_rollback(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP];
    size_t len;
    env_t s;
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    len = tx_publish(f, &p, 5, 0x61, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* Equal and lower sequence numbers, other images. */
    len = tx_publish(f, &p, 5, 0x62, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_ROLLBACK);
    len = tx_publish(f, &p, 4, 0x63, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_ROLLBACK);
    len = tx_publish(f, &p, 0, 0x64, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_ROLLBACK);
    /* The very same envelope in a new transaction (new nonce): its
     * sequence number is not greater than the latest. */
    len = tx_publish(f, &p, 5, 0x61, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_ROLLBACK);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 1);
    /* Another component set is independent: seq 1 for component [h'07']. */
    s = env_simple(&p, 1, 0x65, 1000);
    s.c[0].id = 7;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* ... and so is a two-component set containing component 0. */
    s = env_simple(&p, 2, 0x66, 1000);
    s.n = 2;
    s.c[1].id = 1;
    memset(s.c[1].digest, 0x67, 32);
    s.c[1].size = 2000;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* Another class of the vendor is independent too. */
    s = env_simple(&p, 1, 0x68, 1000);
    s.c[0].cls = klass2;
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* A greater number for the first set: applied. */
    len = tx_publish(f, &p, 6, 0x69, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 5);
}

static void publish_image_too_large(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP];
    size_t len;
    env_t s;
    img_t im;
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    /* One byte over the maximum, with a consistent chunk list. */
    s = env_simple(&p, 1, 0x71, MAX_IMG + 1);
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_IMAGE_TOO_LARGE);
    /* Far over it (the chunk list cannot be complete). */
    s = env_simple(&p, 1, 0x72, 200u * 1024 * 1024);
    im = img_of(&s.c[0]);
    im.n_chunks = 1;
    len = tx_publish_imgs(f, &s, &im, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_IMAGE_TOO_LARGE);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
    s = env_simple(&p, 1, 0x73, MAX_IMG);
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void publish_chunks_inconsistent(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP];
    size_t len;
    env_t s, two;
    img_t im, ims[2];
    gen_key(DSUIT_KEY_P256, &p);
    register_author(f, &p, vendor, NULL, 0);
    s = env_simple(&p, 1, 0x81, 3 * CHUNK + 1); /* 4 chunks */

    static const struct {
        const char *what;
        int dn;             /* chunk count delta */
        uint64_t chunk;     /* chunk size (0: the policy's) */
        int digest_off;     /* flip the image digest */
        int64_t size_delta; /* size differs from the manifest's */
    } cases[] = {
        {"one chunk too few", -1, 0, 0, 0},
        {"one chunk too many", +1, 0, 0, 0},
        {"chunk size not the policy's", 0, CHUNK * 2, 0, 0},
        {"chunk size half the policy's", 0, CHUNK / 2, 0, 0},
        {"image digest not in the manifest", 0, 0, 1, 0},
        {"image size one less than the manifest's", 0, 0, 0, -1},
        {"image size one more than the manifest's", 0, 0, 0, +1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        im = img_of(&s.c[0]);
        if (cases[i].chunk) {
            /* chunk count consistent with the wrong chunk size */
            im.chunk_size = cases[i].chunk;
            im.n_chunks =
                (size_t)((im.size + im.chunk_size - 1) / im.chunk_size);
        }
        im.n_chunks = (size_t)((int64_t)im.n_chunks + cases[i].dn);
        if (cases[i].digest_off)
            im.digest[0] ^= 0xff;
        if (cases[i].size_delta) {
            im.size = (uint64_t)((int64_t)im.size + cases[i].size_delta);
            im.n_chunks = (size_t)((im.size + CHUNK - 1) / CHUNK);
        }
        len = tx_publish_imgs(f, &s, &im, 1, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_CHUNKS_INCONSISTENT)
            fail_msg("publish with %s not refused as chunks-inconsistent",
                     cases[i].what);
    }
    /* A size that changes the chunk count: 3 chunks exactly, manifest
     * says 3*CHUNK+1. */
    im = img_of(&s.c[0]);
    im.size = 3 * CHUNK;
    im.n_chunks = 3;
    len = tx_publish_imgs(f, &s, &im, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_CHUNKS_INCONSISTENT);
    /* The same image twice. */
    ims[0] = img_of(&s.c[0]);
    ims[1] = ims[0];
    len = tx_publish_imgs(f, &s, ims, 2, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_CHUNKS_INCONSISTENT);
    /* Two components with their images, but one image's size is the
     * other component's. */
    two = env_simple(&p, 1, 0x82, 1000);
    two.n = 2;
    two.c[1].id = 1;
    memset(two.c[1].digest, 0x83, 32);
    two.c[1].size = 2000;
    ims[0] = img_of(&two.c[0]);
    ims[1] = img_of(&two.c[1]);
    ims[1].size = 1000;
    len = tx_publish_imgs(f, &two, ims, 2, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_CHUNKS_INCONSISTENT);
    /* A manifest that sets no image at all: any listed image is not the
     * manifest's. */
    {
        env_t none = env_simple(&p, 1, 0x84, 0);
        im = img_of(&s.c[0]);
        len = tx_publish_imgs(f, &none, &im, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_CHUNKS_INCONSISTENT);
    }
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 0);
    /* The consistent listing is applied. */
    len = tx_publish_env(f, &s, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void publish_duplicates(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP];
    size_t len;
    gen_key(DSUIT_KEY_ED25519, &p);
    register_author(f, &p, vendor, NULL, 0);
    len = tx_publish(f, &p, 1, 0x91, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* Replayed tx id. */
    expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 1);
}

/* A publish refused because its author was not registered yet succeeds,
 * with the very same bytes, once the author is. */
static void publish_unknown_author_succeeds_after_registration(void **state)
{
    fx_t *f = *state;
    dsuit_key_t p;
    uint8_t tx[TXCAP];
    size_t len;
    gen_key(DSUIT_KEY_P256, &p);
    len = tx_publish(f, &p, 1, 0xa1, 1000, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_UNKNOWN_AUTHOR);
    expect(f, tx, len, DSUIT_TXR_UNKNOWN_AUTHOR);
    register_author(f, &p, vendor, NULL, 0);
    expect(f, tx, len, DSUIT_TXR_OK);
    expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 1);
}

/* ====================================================================== */
/* register-device                                                        */
/* ====================================================================== */

static void register_device_valid_signers(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a, scoped, dev;
    uint8_t body[512], tx[TXCAP];
    uint8_t id[16] = {0xd0};
    size_t bl, len;
    uint8_t cl[1][16];
    memcpy(cl[0], klass2, 16);
    gen_key(DSUIT_KEY_P256, &a);
    gen_key(DSUIT_KEY_ED25519, &scoped);
    gen_key(DSUIT_KEY_ED25519, &dev);
    register_author(f, &a, vendor, NULL, 0);
    register_author(f, &scoped, vendor, (const uint8_t(*)[16])cl, 1);
    /* K registrars, for any vendor. */
    id[1] = 1;
    bl = body_device(f, f->chain, id, vendor2, klass, &dev, body, sizeof body);
    len = tx_sign(body, bl, f->reg, K, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* An author of the vendor (no class list: every class). */
    id[1] = 2;
    bl = body_device(f, f->chain, id, vendor, klass, &dev, body, sizeof body);
    len = tx_sign(body, bl, &a, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* An author scoped to the class. */
    id[1] = 3;
    bl = body_device(f, f->chain, id, vendor, klass2, &dev, body, sizeof body);
    len = tx_sign(body, bl, &scoped, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    /* One registrar and an author of the vendor. */
    id[1] = 4;
    bl = body_device(f, f->chain, id, vendor, klass, &dev, body, sizeof body);
    len = tx_sign2(body, bl, &f->reg[2], &a, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    assert_int_equal(table_counts(f).n[DSUIT_TBL_DEVICES], 4);
}

/* An author of the vendor signs, next to an author of another vendor whose
 * key id sorts first: an author registered for that vendor authorised it. */
static void register_device_cosigned_by_foreign_author_is_applied(void **state)
{
    fx_t *f = *state;
    dsuit_key_t k1, k2, dev, *mine, *foreign;
    uint8_t id1[32], id2[32], body[512], tx[TXCAP];
    const uint8_t dev_id[16] = {0xd1, 0xd1};
    size_t bl, len;
    gen_key(DSUIT_KEY_P256, &k1);
    gen_key(DSUIT_KEY_P256, &k2);
    gen_key(DSUIT_KEY_P256, &dev);
    key_id(&k1, id1);
    key_id(&k2, id2);
    foreign = memcmp(id1, id2, 32) < 0 ? &k1 : &k2;
    mine = foreign == &k1 ? &k2 : &k1;
    register_author(f, mine, vendor, NULL, 0);
    register_author(f, foreign, vendor2, NULL, 0);
    bl = body_device(f, f->chain, dev_id, vendor, klass, &dev, body,
                     sizeof body);
    len = tx_sign2(body, bl, mine, foreign, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

static void register_device_refusals(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a, v2, scoped, revoked, old, next, stranger, dev;
    uint8_t body[512], tx[TXCAP], other[32];
    uint8_t id[16] = {0xd2};
    size_t bl, len;
    uint8_t cl[1][16];
    memcpy(cl[0], klass2, 16);
    gen_key(DSUIT_KEY_P256, &a);
    gen_key(DSUIT_KEY_P256, &v2);
    gen_key(DSUIT_KEY_P256, &scoped);
    gen_key(DSUIT_KEY_P256, &revoked);
    gen_key(DSUIT_KEY_P256, &old);
    gen_key(DSUIT_KEY_P256, &next);
    gen_key(DSUIT_KEY_P256, &stranger);
    gen_key(DSUIT_KEY_ED25519, &dev);
    register_author(f, &a, vendor, NULL, 0);
    register_author(f, &v2, vendor2, NULL, 0);
    register_author(f, &scoped, vendor, (const uint8_t(*)[16])cl, 1);
    register_author(f, &revoked, vendor, NULL, 0);
    revoke_author(f, &revoked);
    register_author(f, &old, vendor, NULL, 0);
    rotate_author(f, &old, &next);

    /* wrong-chain */
    memcpy(other, f->chain, 32);
    other[16] ^= 0xff;
    bl = body_device(f, other, id, vendor, klass, &dev, body, sizeof body);
    len = tx_sign(body, bl, f->reg, K, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_WRONG_CHAIN);

    bl = body_device(f, f->chain, id, vendor, klass, &dev, body, sizeof body);
    /* bad-signature: the author's signature flipped; a stranger. */
    {
        rsig_t s;
        rsig_make(body, bl, &a, &s);
        s.sig[40] ^= 0x04;
        len = tx_raw(body, bl, &s, 1, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    }
    len = tx_sign(body, bl, &stranger, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    /* The device's own key is no signer the ledger knows. */
    len = tx_sign(body, bl, &dev, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_SIGNATURE);
    /* below-threshold: unsigned; K-1 registrars. */
    len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
    len = tx_sign(body, bl, &f->reg[1], K - 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
    /* revoked-author: revoked; rotated away. */
    len = tx_sign(body, bl, &revoked, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_REVOKED_AUTHOR);
    len = tx_sign(body, bl, &old, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_REVOKED_AUTHOR);
    /* out-of-scope: an author of another vendor; a class outside the
     * author's list. */
    len = tx_sign(body, bl, &v2, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OUT_OF_SCOPE);
    len = tx_sign(body, bl, &scoped, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OUT_OF_SCOPE);
    assert_int_equal(table_counts(f).n[DSUIT_TBL_DEVICES], 0);
    /* ok (by the rotated-to key), then duplicate: replay; the same device
     * id with another key, even by K registrars. */
    len = tx_sign(body, bl, &next, 1, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
    expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    {
        dsuit_key_t dev2;
        gen_key(DSUIT_KEY_P256, &dev2);
        bl = body_device(f, f->chain, id, vendor, klass, &dev2, body,
                         sizeof body);
        len = tx_sign(body, bl, f->reg, N_REG, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_DUPLICATE);
    }
    assert_int_equal(table_counts(f).n[DSUIT_TBL_DEVICES], 1);
}

static void register_device_bad_encodings(void **state)
{
    fx_t *f = *state;
    dsuit_key_t dev;
    uint8_t kb[DSUIT_COSE_KEY_MAX], kbuf[200], ib[32], vb[32], cb[32], i15[32];
    uint8_t payload[512], body[1024], tx[TXCAP];
    const uint8_t id[16] = {0xd3};
    size_t pl, bl, len;
    badkey_t bk[8];
    gen_key(DSUIT_KEY_P256, &dev);
    tv_raw_t raw[5] = {bstr_item(id, 16, ib, sizeof ib),
                       bstr_item(vendor, 16, vb, sizeof vb),
                       bstr_item(klass, 16, cb, sizeof cb),
                       bstr_item(kb, key_bytes(&dev, kb), kbuf, sizeof kbuf),
                       bstr_item(id, 15, i15, sizeof i15)};
    static const struct {
        const char *what, *diag;
    } cases[] = {
        {"unknown payload key", "{1: $0, 2: $1, 3: $2, 4: $3, 5: 0}"},
        {"device id of 15 bytes", "{1: $4, 2: $1, 3: $2, 4: $3}"},
        {"vendor of 15 bytes", "{1: $0, 2: $4, 3: $2, 4: $3}"},
        {"class of 15 bytes", "{1: $0, 2: $1, 3: $4, 4: $3}"},
        {"key missing", "{1: $0, 2: $1, 3: $2}"},
        {"key as tstr", "{1: $0, 2: $1, 3: $2, 4: \"k\"}"},
        {"keys unsorted", "{1: $0, 3: $2, 2: $1, 4: $3}"},
        {"device id as uint", "{1: 7, 2: $1, 3: $2, 4: $3}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl = tv_diag(cases[i].diag, raw, 5, payload, sizeof payload);
        bl = body_raw(f->chain, DSUIT_TX_REGISTER_DEVICE, f->nonce++, payload,
                      pl, body, sizeof body);
        len = tx_k(f, body, bl, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
            fail_msg("device payload \"%s\" not refused as bad-encoding",
                     cases[i].what);
    }
    size_t nb = bad_cose_keys(&dev, bk);
    for (size_t i = 0; i < nb; i++) {
        uint8_t kb2[200];
        tv_raw_t r2[5];
        memcpy(r2, raw, sizeof r2);
        r2[3] = bstr_item(bk[i].b, bk[i].n, kb2, sizeof kb2);
        pl = tv_diag("{1: $0, 2: $1, 3: $2, 4: $3}", r2, 5, payload,
                     sizeof payload);
        bl = body_raw(f->chain, DSUIT_TX_REGISTER_DEVICE, f->nonce++, payload,
                      pl, body, sizeof body);
        len = tx_k(f, body, bl, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_BAD_ENCODING)
            fail_msg("device COSE_Key (%s) not refused as bad-encoding",
                     bk[i].what);
    }
    assert_int_equal(table_counts(f).n[DSUIT_TBL_DEVICES], 0);
    pl = tv_diag("{1: $0, 2: $1, 3: $2, 4: $3}", raw, 5, payload,
                 sizeof payload);
    bl = body_raw(f->chain, DSUIT_TX_REGISTER_DEVICE, f->nonce++, payload, pl,
                  body, sizeof body);
    len = tx_k(f, body, bl, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_OK);
}

/* ====================================================================== */
/* unknown types                                                          */
/* ====================================================================== */

static void unknown_types(void **state)
{
    fx_t *f = *state;
    uint8_t payload[64], body[256], tx[TXCAP];
    size_t pl, bl, len;
    const uint64_t types[] = {0, 6, 7, 13, 99, 65536, UINT64_MAX};
    counts_t c0 = table_counts(f);
    pl = tv_diag("{1: h'00', 2: \"x\"}", NULL, 0, payload, sizeof payload);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        bl = body_raw(f->chain, types[i], f->nonce++, payload, pl, body,
                      sizeof body);
        /* Signed by K registrars or not at all: still unknown. */
        len = i % 2 ? tx_k(f, body, bl, tx, sizeof tx)
                    : tx_sign(body, bl, NULL, 0, tx, sizeof tx);
        if (commit1(f, tx, len) != DSUIT_TXR_UNKNOWN_TYPE)
            fail_msg("type %llu not refused as unknown-type",
                     (unsigned long long)types[i]);
    }
    /* Any well-formed payload will do, even a bare integer. */
    pl = tv_diag("0", NULL, 0, payload, sizeof payload);
    bl = body_raw(f->chain, 6, f->nonce++, payload, pl, body, sizeof body);
    len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_UNKNOWN_TYPE);
    /* An unknown type's payload must still be deterministic CBOR. */
    pl = tv_diag("{2: 0, 1: 0}", NULL, 0, payload, sizeof payload);
    bl = body_raw(f->chain, 6, f->nonce++, payload, pl, body, sizeof body);
    len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
    expect(f, tx, len, DSUIT_TXR_BAD_ENCODING);
    /* For another chain, the chain is what is wrong. */
    {
        uint8_t other[32];
        memcpy(other, f->chain, 32);
        other[0] ^= 1;
        pl = tv_diag("0", NULL, 0, payload, sizeof payload);
        bl = body_raw(other, 6, f->nonce++, payload, pl, body, sizeof body);
        len = tx_sign(body, bl, NULL, 0, tx, sizeof tx);
        expect(f, tx, len, DSUIT_TXR_WRONG_CHAIN);
    }
    counts_t c1 = table_counts(f);
    for (int t = DSUIT_TBL_AUTHORS; t < DSUIT_TBL_COUNT; t++) {
        if (t != DSUIT_TBL_CERTS && t != DSUIT_TBL_CHUNKS)
            assert_int_equal(c1.n[t], c0.n[t]);
    }
}

/* ====================================================================== */
/* whole blocks                                                            */
/* ====================================================================== */

/* The document's state-root step for a block whose only writes are TXS
 * records [height, index, result] of the given transactions. */
static void expected_root(const uint8_t prev[32], const uint8_t (*ids)[32],
                          const uint64_t *index, const uint64_t *result,
                          size_t n, uint64_t height, int outer_head,
                          uint8_t out[32])
{
    uint8_t buf[16384], rec[48], ch[32];
    size_t len, rl;
    dsuit_cbor_enc_t e, r;
    dsuit_sha256_ctx_t h;
    dsuit_cbor_enc_init(&e, buf, sizeof buf);
    if (outer_head)
        dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++) {
        dsuit_cbor_enc_init(&r, rec, sizeof rec);
        dsuit_cbor_put_array(&r, 3);
        dsuit_cbor_put_uint(&r, height);
        dsuit_cbor_put_uint(&r, index[i]);
        dsuit_cbor_put_uint(&r, result[i]);
        assert_int_equal(dsuit_cbor_enc_finish(&r, &rl), DSUIT_OK);
        dsuit_cbor_put_array(&e, 3);
        dsuit_cbor_put_uint(&e, DSUIT_TBL_TXS);
        dsuit_cbor_put_bstr(&e, ids[i], 32);
        dsuit_cbor_put_bstr(&e, rec, rl);
    }
    assert_int_equal(dsuit_cbor_enc_finish(&e, &len), DSUIT_OK);
    assert_int_equal(dsuit_sha256(buf, len, ch), DSUIT_OK);
    dsuit_sha256_init(&h);
    dsuit_sha256_update(&h, prev, 32);
    dsuit_sha256_update(&h, ch, 32);
    assert_int_equal(dsuit_sha256_final(&h, out), DSUIT_OK);
}

/* The state root must be SHA-256(prev || SHA-256(changes)) with changes
 * the concatenated [table, key, value] items of the block's writes, in the
 * order made (docs/formats/ledger.md, "State root"). `strict` is kept for
 * the callers' readability; both ways the check is exact. */
static void state_root_check(fx_t *f, const uint8_t prev[32],
                             const uint8_t (*ids)[32], const uint64_t *index,
                             const uint64_t *result, size_t n, int strict)
{
    uint8_t root[32], want[32];
    uint64_t h = dsuit_ledger_height(f->l);
    (void)strict;
    dsuit_ledger_tip(f->l, NULL, root);
    expected_root(prev, ids, index, result, n, h, 0, want);
    if (memcmp(root, want, 32) != 0)
        fail_msg("state root at height %llu is not SHA-256(prev || "
                 "SHA-256(changes)) with changes the %zu TXS writes "
                 "concatenated",
                 (unsigned long long)h, n);
}

static void state_root_of_genesis_and_empty_block_follow_the_doc(void **state)
{
    fx_t *f = *state;
    uint8_t root0[32], want[32], hash[32];
    dsuit_sha256_ctx_t h;
    dsuit_ledger_tip(f->l, hash, root0);
    dsuit_sha256_init(&h);
    dsuit_sha256_update(&h, "dsuit-state-v1", 14);
    dsuit_sha256_update(&h, f->chain, 32);
    dsuit_sha256_final(&h, want);
    assert_memory_equal(root0, want, 32);
    /* An empty block: changes(h) is empty. */
    commit(f, NULL, NULL, 0, NULL);
    state_root_check(f, root0, NULL, NULL, NULL, 0, 1);
    /* A block of one refused transaction: changes(h) = [3, id, rec] */
    {
        dsuit_key_t a;
        uint8_t body[1024], tx[TXCAP], prev[32], id[1][32];
        uint64_t index = 0, result = DSUIT_TXR_BELOW_THRESHOLD;
        dsuit_tx_t t;
        size_t bl, len;
        gen_key(DSUIT_KEY_P256, &a);
        bl = body_author(f, f->chain, &a, vendor, NULL, 0, body, sizeof body);
        len = tx_sign(body, bl, f->reg, 1, tx, sizeof tx);
        assert_int_equal(dsuit_tx_decode(tx, len, &t), DSUIT_OK);
        memcpy(id[0], t.id, 32);
        dsuit_ledger_tip(f->l, NULL, prev);
        expect(f, tx, len, DSUIT_TXR_BELOW_THRESHOLD);
        state_root_check(f, prev, (const uint8_t(*)[32])id, &index, &result, 1,
                         1);
    }
}

/* A block of only refused transactions writes nothing but their TXS
 * records: every other table is byte for byte what it was, and the state
 * root moves by exactly those writes. */
static void block_of_invalid_transactions_changes_nothing_else(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a, b, stranger, dev;
    uint8_t txs[12][TXCAP], body[TXCAP], other[32], prev[32];
    const uint8_t *tp[12];
    size_t lens[12], n = 0, bl;
    uint64_t results[12];
    uint8_t ids[12][32];
    uint64_t idx[12], res[12];
    size_t n_ids = 0;
    dump_t before[DSUIT_TBL_COUNT];
    counts_t c0;
    const uint8_t dev_id[16] = {0xee};

    gen_key(DSUIT_KEY_P256, &a);
    gen_key(DSUIT_KEY_P256, &b);
    gen_key(DSUIT_KEY_P256, &stranger);
    gen_key(DSUIT_KEY_P256, &dev);
    register_author(f, &a, vendor, NULL, 0);
    /* One applied publish and device, so those tables are not empty. */
    lens[0] = tx_publish(f, &a, 3, 0xb0, 1000, txs[11], TXCAP);
    expect(f, txs[11], lens[0], DSUIT_TXR_OK);
    bl = body_device(f, f->chain, dev_id, vendor, klass, &dev, body,
                     sizeof body);
    lens[0] = tx_sign(body, bl, &a, 1, txs[10], TXCAP);
    expect(f, txs[10], lens[0], DSUIT_TXR_OK);
    size_t replay_len = lens[0];

    /* The refused ones, each for its own reason. */
    memcpy(other, f->chain, 32);
    other[2] ^= 1;
    bl = body_author(f, f->chain, &b, vendor, NULL, 0, body, sizeof body);
    lens[n] = tx_sign(body, bl, f->reg, 1, txs[n], TXCAP); /* below-thr. */
    n++;
    bl = body_author(f, other, &b, vendor, NULL, 0, body, sizeof body);
    lens[n] = tx_sign(body, bl, f->reg, K, txs[n], TXCAP); /* wrong-chain */
    n++;
    bl = body_author(f, f->chain, &b, vendor, NULL, 0, body, sizeof body);
    lens[n] = tx_sign(body, bl, &stranger, 1, txs[n], TXCAP); /* bad-sig */
    n++;
    lens[n] = tx_publish(f, &b, 1, 0xb1, 1000, txs[n], TXCAP); /* unknown */
    n++;
    lens[n] = tx_publish(f, &a, 2, 0xb2, 1000, txs[n], TXCAP); /* rollback */
    n++;
    lens[n] = tx_publish(f, &a, 4, 0xb3, MAX_IMG + 1, txs[n], TXCAP);
    n++; /* image-too-large */
    bl = body_device(f, f->chain, dev_id, vendor, klass, &dev, body,
                     sizeof body);
    lens[n] = tx_sign(body, bl, f->reg, K, txs[n], TXCAP); /* duplicate */
    n++;
    {
        uint8_t p[8];
        size_t pl = tv_diag("0", NULL, 0, p, sizeof p);
        bl = body_raw(f->chain, 42, f->nonce++, p, pl, body, sizeof body);
        lens[n] = tx_sign(body, bl, NULL, 0, txs[n], TXCAP); /* unknown-t */
        n++;
    }
    /* Two that write nothing at all: undecodable, and a replay of an
     * applied transaction. */
    memcpy(txs[n], txs[0], lens[0] - 1);
    lens[n] = lens[0] - 1;
    n++;
    memcpy(txs[n], txs[10], replay_len);
    lens[n] = replay_len;
    n++;

    for (size_t i = 0; i < n; i++) {
        dsuit_tx_t t;
        tp[i] = txs[i];
        if (i < n - 2) {
            assert_int_equal(dsuit_tx_decode(txs[i], lens[i], &t), DSUIT_OK);
            memcpy(ids[n_ids], t.id, 32);
            idx[n_ids] = i;
            n_ids++;
        }
    }
    c0 = table_counts(f);
    for (int t = 0; t < DSUIT_TBL_COUNT; t++)
        before[t] = table_dump(f, (dsuit_table_t)t);
    dsuit_ledger_tip(f->l, NULL, prev);
    uint64_t mlog0 = dsuit_ledger_mlog_size(f->l);

    commit(f, tp, lens, n, results);
    {
        static const uint64_t want[] = {
            DSUIT_TXR_BELOW_THRESHOLD, DSUIT_TXR_WRONG_CHAIN,
            DSUIT_TXR_BAD_SIGNATURE,   DSUIT_TXR_UNKNOWN_AUTHOR,
            DSUIT_TXR_ROLLBACK,        DSUIT_TXR_IMAGE_TOO_LARGE,
            DSUIT_TXR_DUPLICATE,       DSUIT_TXR_UNKNOWN_TYPE,
            DSUIT_TXR_BAD_ENCODING,    DSUIT_TXR_DUPLICATE};
        for (size_t i = 0; i < n; i++) {
            if (results[i] != want[i])
                fail_msg("tx %zu: got %s, want %s", i,
                         dsuit_txr_name((int)results[i]),
                         dsuit_txr_name((int)want[i]));
        }
        for (size_t i = 0; i < n_ids; i++)
            res[i] = results[idx[i]];
    }
    assert_int_equal(dsuit_ledger_mlog_size(f->l), mlog0);
    {
        counts_t c1 = table_counts(f);
        /* The device duplicate is a new tx id: it gets a record. */
        assert_int_equal(c1.n[DSUIT_TBL_TXS], c0.n[DSUIT_TBL_TXS] + n_ids);
    }
    for (int t = DSUIT_TBL_TXS + 1; t < DSUIT_TBL_COUNT; t++) {
        dump_t after = table_dump(f, (dsuit_table_t)t);
        if (after.len != before[t].len ||
            (after.len && memcmp(after.buf, before[t].buf, after.len) != 0))
            fail_msg("table %s changed", dsuit_table_name((dsuit_table_t)t));
        free(after.buf);
    }
    for (int t = 0; t < DSUIT_TBL_COUNT; t++)
        free(before[t].buf);
    state_root_check(f, prev, (const uint8_t(*)[32])ids, idx, res, n_ids, 0);
}

/* Two transactions of one block that conflict: the second is refused as if
 * the first were already in an earlier block. */
static void conflicting_transactions_in_one_block(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a, dev, dev2, next1, next2;
    uint8_t txs[12][TXCAP], body[TXCAP];
    const uint8_t *tp[12];
    size_t lens[12], n = 0, bl;
    uint64_t results[12];
    const uint8_t dev_id[16] = {0xcc, 1};
    gen_key(DSUIT_KEY_P256, &a);
    gen_key(DSUIT_KEY_P256, &dev);
    gen_key(DSUIT_KEY_ED25519, &dev2);
    gen_key(DSUIT_KEY_P256, &next1);
    gen_key(DSUIT_KEY_P256, &next2);

    /* 0,1: the same author key registered twice (different nonces). */
    lens[n] = tx_author(f, &a, vendor, NULL, 0, txs[n], TXCAP);
    n++;
    lens[n] = tx_author(f, &a, vendor, NULL, 0, txs[n], TXCAP);
    n++;
    /* 2,3: the same device id twice, different keys. */
    bl = body_device(f, f->chain, dev_id, vendor, klass, &dev, body,
                     sizeof body);
    lens[n] = tx_sign(body, bl, f->reg, K, txs[n], TXCAP);
    n++;
    bl = body_device(f, f->chain, dev_id, vendor, klass, &dev2, body,
                     sizeof body);
    lens[n] = tx_sign(body, bl, f->reg, K, txs[n], TXCAP);
    n++;
    /* 4,5: the same sequence number for the same components (the author
     * registered in this very block). */
    lens[n] = tx_publish(f, &a, 1, 0xc1, 1000, txs[n], TXCAP);
    n++;
    lens[n] = tx_publish(f, &a, 1, 0xc2, 1000, txs[n], TXCAP);
    n++;
    /* 6: the same transaction twice in the block (7). */
    lens[n] = tx_publish(f, &a, 2, 0xc3, 1000, txs[n], TXCAP);
    memcpy(txs[n + 1], txs[n], lens[n]);
    lens[n + 1] = lens[n];
    n += 2;
    /* 8,9: two rotations of the same key: the second finds it rotated. */
    bl = body_rotate(f, f->chain, &a, &next1, body, sizeof body);
    lens[n] = tx_sign(body, bl, &a, 1, txs[n], TXCAP);
    n++;
    bl = body_rotate(f, f->chain, &a, &next2, body, sizeof body);
    lens[n] = tx_sign(body, bl, &a, 1, txs[n], TXCAP);
    n++;
    /* 10,11: revoking the new key twice. */
    bl = body_revoke(f, f->chain, &next1, body, sizeof body);
    lens[n] = tx_sign(body, bl, f->reg, K, txs[n], TXCAP);
    n++;
    bl = body_revoke(f, f->chain, &next1, body, sizeof body);
    lens[n] = tx_sign(body, bl, &f->reg[1], K, txs[n], TXCAP);
    n++;
    for (size_t i = 0; i < n; i++)
        tp[i] = txs[i];
    commit(f, tp, lens, n, results);
    static const uint64_t want[] = {DSUIT_TXR_OK, DSUIT_TXR_DUPLICATE,
                                    DSUIT_TXR_OK, DSUIT_TXR_DUPLICATE,
                                    DSUIT_TXR_OK, DSUIT_TXR_ROLLBACK,
                                    DSUIT_TXR_OK, DSUIT_TXR_DUPLICATE,
                                    DSUIT_TXR_OK, DSUIT_TXR_REVOKED_AUTHOR,
                                    DSUIT_TXR_OK, DSUIT_TXR_DUPLICATE};
    for (size_t i = 0; i < n; i++) {
        if (results[i] != want[i])
            fail_msg("tx %zu: got %s, want %s", i,
                     dsuit_txr_name((int)results[i]),
                     dsuit_txr_name((int)want[i]));
    }
    assert_int_equal(dsuit_ledger_mlog_size(f->l), 2);
    /* The same block's transactions again in a later block: the applied
     * ones are replays; the refused ones are judged again and still
     * refused. */
    commit(f, tp, lens, n, results);
    for (size_t i = 0; i < n; i++) {
        uint64_t w = want[i] == DSUIT_TXR_OK ? DSUIT_TXR_DUPLICATE : want[i];
        /* The publish's author has been rotated away meanwhile: refused
         * for that too, and the document does not rank the two. */
        if (i == 5 && results[i] == DSUIT_TXR_REVOKED_AUTHOR)
            continue;
        if (results[i] != w)
            fail_msg("again, tx %zu: got %s, want %s", i,
                     dsuit_txr_name((int)results[i]), dsuit_txr_name((int)w));
    }
}

/* Header roots of a block with one publish, as the document defines them:
 * tx-root = RFC 9162 root over (tx id || result as 8 bytes big-endian); the
 * manifest log's root over SHA-256(0x00 || Leaf). */
static void header_roots_follow_the_doc(void **state)
{
    fx_t *f = *state;
    dsuit_key_t a;
    uint8_t tx[TXCAP], *blk;
    size_t len, blen;
    dsuit_tx_t t;
    dsuit_block_t b;
    dsuit_block_info_t info;
    uint8_t leaf[32], want[32], mdig[32];
    gen_key(DSUIT_KEY_P256, &a);
    register_author(f, &a, vendor, NULL, 0);
    len = tx_publish(f, &a, 9, 0xd1, 1000, tx, sizeof tx);
    assert_int_equal(dsuit_tx_decode(tx, len, &t), DSUIT_OK);
    {
        const uint8_t *tp = tx;
        f->now += 1000;
        assert_int_equal(dsuit_ledger_propose(f->l, &f->val[2], f->now, &tp,
                                              &len, 1, &blk, &blen),
                         DSUIT_OK);
    }
    assert_int_equal(dsuit_block_decode(blk, blen, &b), DSUIT_OK);
    assert_int_equal(b.header.height, dsuit_ledger_height(f->l) + 1);
    assert_int_equal(b.header.proposer, 2);
    /* tx root of one leaf: SHA-256(0x00 || id || result) with result ok */
    {
        uint8_t in[41];
        in[0] = 0;
        memcpy(in + 1, t.id, 32);
        memset(in + 33, 0, 8);
        dsuit_sha256(in, 41, want);
        assert_memory_equal(b.header.tx_root, want, 32);
    }
    /* manifest digest: SHA-256 of the bstr-wrapped manifest */
    {
        dsuit_suit_envelope_t env;
        assert_int_equal(dsuit_suit_envelope_decode(t.u.publish.envelope,
                                                    t.u.publish.envelope_len,
                                                    &env, NULL),
                         DSUIT_OK);
        dsuit_sha256(env.manifest_wrapped.ptr, env.manifest_wrapped.len, mdig);
    }
    /* mlog: one leaf [digest, height, vendor, class, seq] */
    {
        uint8_t lb[160];
        size_t ln;
        dsuit_cbor_enc_t e;
        lb[0] = 0x00;
        dsuit_cbor_enc_init(&e, lb + 1, sizeof lb - 1);
        dsuit_cbor_put_array(&e, 5);
        dsuit_cbor_put_bstr(&e, mdig, 32);
        dsuit_cbor_put_uint(&e, b.header.height);
        dsuit_cbor_put_bstr(&e, vendor, 16);
        dsuit_cbor_put_bstr(&e, klass, 16);
        dsuit_cbor_put_uint(&e, 9);
        assert_int_equal(dsuit_cbor_enc_finish(&e, &ln), DSUIT_OK);
        dsuit_sha256(lb, ln + 1, leaf);
        assert_int_equal(b.header.mlog_size, 1);
        assert_memory_equal(b.header.mlog_root, leaf, 32);
    }
    /* block hash = SHA-256(header bytes) */
    dsuit_sha256(b.header_bytes, b.header_len, want);
    assert_memory_equal(b.hash, want, 32);
    assert_int_equal(dsuit_ledger_apply(f->l, blk, blen, &info), DSUIT_OK);
    assert_memory_equal(info.hash, want, 32);
    free(blk);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        /* register-author */
        T(register_author_by_k_registrars_is_applied),
        T(register_author_by_all_registrars_is_applied),
        T(register_author_accepts_fully_specified_algorithms),
        T(register_author_below_threshold_then_completed),
        T(register_author_non_registrar_signature_does_not_count),
        T(register_author_wrong_chain),
        T(register_author_bad_signatures),
        T(register_author_duplicates),
        T(register_author_bad_encodings),
        T(transaction_bad_encodings),
        /* revoke-author */
        T(revoke_author_by_k_registrars_is_applied),
        T(revoke_author_refusals),
        T(revoke_author_bad_encodings),
        /* rotate-author-key */
        T(rotate_author_key_by_the_old_key_is_applied),
        T(rotate_author_key_refusals),
        T(rotate_author_key_cosigned_by_another_author_is_applied),
        T(rotate_author_key_bad_encodings),
        /* publish */
        T(publish_by_a_registered_author_is_applied),
        T(publish_of_two_components_is_applied),
        T(publish_wrong_chain_and_bad_tx_signature),
        T(publish_author_refusals),
        T(publish_out_of_scope),
        T(publish_suit_auth),
        T(publish_with_flipped_envelope_signature_is_unknown_author),
        T(publish_with_kid_of_a_registered_author_and_bad_signature),
        T(publish_with_integrated_payload_is_bad_encoding),
        T(publish_bad_encodings),
        T(publish_rollback),
        T(publish_image_too_large),
        T(publish_chunks_inconsistent),
        T(publish_duplicates),
        T(publish_unknown_author_succeeds_after_registration),
        /* register-device */
        T(register_device_valid_signers),
        T(register_device_cosigned_by_foreign_author_is_applied),
        T(register_device_refusals),
        T(register_device_bad_encodings),
        /* unknown types */
        T(unknown_types),
        /* blocks */
        T(state_root_of_genesis_and_empty_block_follow_the_doc),
        T(block_of_invalid_transactions_changes_nothing_else),
        T(conflicting_transactions_in_one_block),
        T(header_roots_follow_the_doc),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
