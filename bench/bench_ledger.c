/*
 * Ledger benchmark: how fast a replica applies blocks of publish
 * transactions (dsuit_ledger_apply), each publish authenticated by its own
 * ES256-signed SUIT envelope from a registered author. Applying a publish
 * is bound by signature verification, so the figure is reported next to
 * bare ES256 verifications per second measured in the same run.
 *
 * Reported with 1 and with 20 registered authors (applying a publish tries
 * the registered authors' keys in key-id order until one verifies; the
 * publishes here come from every author in turn, so with 20 authors a
 * publish costs 10.5 verifications on average), with the store's fsync
 * off (no_sync) and on.
 *
 * Only dsuit_ledger_apply() is timed: building the transactions and
 * proposing the block (which validates it once more) happen with the clock
 * paused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"

#define N_VAL       4
#define MAX_AUTHORS 20
#define MAX_BLOCK   100
#define TX_CAP      2048

static const uint8_t VENDOR[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                   0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                   0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t CLASS[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                  0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                  0x51, 0xf2, 0xab, 0x45};

typedef struct {
    bench_t *b;
    char dir[64];
    dsuit_key_t val[N_VAL], reg;
    dsuit_key_t authors[MAX_AUTHORS];
    size_t n_authors;
    size_t per_block;
    uint8_t chain[32];
    dsuit_ledger_t *l;
    uint64_t nonce, seq, now;
    uint8_t txs[MAX_BLOCK][TX_CAP];
    size_t lens[MAX_BLOCK];
    const char *why;
} led_t;

/* A signed envelope for VENDOR/CLASS with one image of `size` bytes. */
static int make_envelope(const dsuit_key_t *author, uint64_t seq,
                         const uint8_t digest[32], uint64_t size, uint8_t *out,
                         size_t cap, size_t *out_len)
{
    uint8_t shared[256], common[320], manifest[512], dig[48], auth[256],
        cose[256], scratch[256], digwrap[64], wrapped[600], h[32];
    size_t n_shared, n_common, n_manifest, n_dig, n_auth, n_cose, n_digwrap, nw;
    dsuit_cbor_enc_t e;
    dsuit_cose_opts_t co = {DSUIT_COSE_SIGN1, -7, 1, 1, NULL, 0};

    dsuit_cbor_enc_init(&e, dig, sizeof dig);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_int(&e, DSUIT_SUIT_DIGEST_SHA256);
    dsuit_cbor_put_bstr(&e, digest, 32);
    if (dsuit_cbor_enc_finish(&e, &n_dig) != DSUIT_OK)
        return -1;

    dsuit_cbor_enc_init(&e, shared, sizeof shared);
    dsuit_cbor_put_array(&e, 6);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
    dsuit_cbor_put_map(&e, 4);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_VENDOR_ID);
    dsuit_cbor_put_bstr(&e, VENDOR, 16);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_CLASS_ID);
    dsuit_cbor_put_bstr(&e, CLASS, 16);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_IMAGE_DIGEST);
    dsuit_cbor_put_bstr(&e, dig, n_dig);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_PARAM_IMAGE_SIZE);
    dsuit_cbor_put_uint(&e, size);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COND_VENDOR_ID);
    dsuit_cbor_put_uint(&e, 15);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COND_CLASS_ID);
    dsuit_cbor_put_uint(&e, 15);
    if (dsuit_cbor_enc_finish(&e, &n_shared) != DSUIT_OK)
        return -1;

    dsuit_cbor_enc_init(&e, common, sizeof common);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COMPONENTS);
    dsuit_cbor_put_array(&e, 1);
    dsuit_cbor_put_array(&e, 1);
    dsuit_cbor_put_bstr(&e, (const uint8_t *)"\x00", 1);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_SHARED_SEQUENCE);
    dsuit_cbor_put_bstr(&e, shared, n_shared);
    if (dsuit_cbor_enc_finish(&e, &n_common) != DSUIT_OK)
        return -1;

    dsuit_cbor_enc_init(&e, manifest, sizeof manifest);
    dsuit_cbor_put_map(&e, 3);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_VERSION);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_SEQ_NUMBER);
    dsuit_cbor_put_uint(&e, seq);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_COMMON);
    dsuit_cbor_put_bstr(&e, common, n_common);
    if (dsuit_cbor_enc_finish(&e, &n_manifest) != DSUIT_OK)
        return -1;

    /* SUIT_Digest over the bstr-wrapped manifest, signed detached. */
    dsuit_cbor_enc_init(&e, wrapped, sizeof wrapped);
    dsuit_cbor_put_bstr(&e, manifest, n_manifest);
    if (dsuit_cbor_enc_finish(&e, &nw) != DSUIT_OK ||
        dsuit_sha256(wrapped, nw, h) != DSUIT_OK)
        return -1;
    dsuit_cbor_enc_init(&e, digwrap, sizeof digwrap);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_int(&e, DSUIT_SUIT_DIGEST_SHA256);
    dsuit_cbor_put_bstr(&e, h, 32);
    if (dsuit_cbor_enc_finish(&e, &n_digwrap) != DSUIT_OK ||
        dsuit_cose_create(&co, author, digwrap, n_digwrap, NULL, 0, scratch,
                          sizeof scratch, cose, sizeof cose,
                          &n_cose) != DSUIT_OK)
        return -1;
    dsuit_cbor_enc_init(&e, auth, sizeof auth);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_bstr(&e, digwrap, n_digwrap);
    dsuit_cbor_put_bstr(&e, cose, n_cose);
    if (dsuit_cbor_enc_finish(&e, &n_auth) != DSUIT_OK)
        return -1;

    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_tag(&e, DSUIT_SUIT_TAG_ENVELOPE);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_AUTH_WRAPPER);
    dsuit_cbor_put_bstr(&e, auth, n_auth);
    dsuit_cbor_put_uint(&e, DSUIT_SUIT_MANIFEST);
    dsuit_cbor_put_bstr(&e, manifest, n_manifest);
    return dsuit_cbor_enc_finish(&e, out_len) == DSUIT_OK ? 0 : -1;
}

/* A publish of a fresh manifest (the next sequence number) by author. */
static int tx_publish(led_t *x, const dsuit_key_t *author, uint8_t *out,
                      size_t *out_len)
{
    uint8_t env[1024], body[TX_CAP], digest[32], chunks[2][32];
    const uint64_t size = 300000, chunk = DSUIT_POLICY_CHUNK_SIZE;
    uint64_t seq = ++x->seq;
    size_t n_env, bl;
    dsuit_tx_image_in_t img;

    if (dsuit_sha256(&seq, sizeof seq, digest) != DSUIT_OK ||
        make_envelope(author, seq, digest, size, env, sizeof env, &n_env) != 0)
        return -1;
    img.digest = digest;
    img.size = size;
    img.chunk_size = chunk;
    img.n_chunks = (size_t)((size + chunk - 1) / chunk);
    for (size_t i = 0; i < img.n_chunks; i++)
        memset(chunks[i], (int)(seq + i), 32);
    img.chunks = (const uint8_t(*)[32])chunks;
    if (dsuit_tx_body_publish(x->chain, x->nonce++, env, n_env, &img, 1, body,
                              sizeof body, &bl) != DSUIT_OK ||
        dsuit_tx_assemble(body, bl, NULL, 0, out, TX_CAP, out_len) != DSUIT_OK)
        return -1;
    return 0;
}

/* Propose a block of the n transactions in x->txs and apply it; only the
 * apply is timed when timed is set. Every transaction must apply. */
static int commit(led_t *x, size_t n, int timed)
{
    const uint8_t *p[MAX_BLOCK];
    uint8_t *blk = NULL;
    size_t blen;
    dsuit_block_info_t info;
    int rc;
    for (size_t i = 0; i < n; i++)
        p[i] = x->txs[i];
    x->now += 1000;
    if (dsuit_ledger_propose(x->l, &x->val[0], x->now, p, x->lens, n, &blk,
                             &blen) != DSUIT_OK) {
        x->why = "propose failed";
        return -1;
    }
    if (timed)
        bench_resume(x->b);
    memset(&info, 0, sizeof info);
    rc = dsuit_ledger_apply(x->l, blk, blen, &info);
    if (timed)
        bench_pause(x->b);
    free(blk);
    if (rc != DSUIT_OK || info.n_ok != n) {
        x->why = rc != DSUIT_OK ? (info.reason ? info.reason : "apply failed")
                                : "a transaction did not apply";
        return -1;
    }
    return 0;
}

/* The measured function: n blocks of per_block publishes. */
static int apply_blocks(void *arg, uint64_t n)
{
    led_t *x = arg;
    bench_pause(x->b);
    for (uint64_t k = 0; k < n; k++) {
        for (size_t i = 0; i < x->per_block; i++) {
            const dsuit_key_t *a = &x->authors[(x->seq) % x->n_authors];
            if (tx_publish(x, a, x->txs[i], &x->lens[i]) != 0) {
                x->why = "cannot build a publish";
                return -1;
            }
        }
        if (commit(x, x->per_block, 1) != 0)
            return -1;
    }
    bench_resume(x->b);
    return 0;
}

static void led_close(led_t *x)
{
    char cmd[128];
    dsuit_ledger_close(x->l);
    x->l = NULL;
    if (x->dir[0] != '\0') {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench: could not remove %s\n", x->dir);
    }
    for (size_t i = 0; i < x->n_authors; i++)
        dsuit_key_wipe(&x->authors[i]);
}

/* A fresh ledger with n_authors registered authors. */
static int led_open(led_t *x, bench_t *b, size_t n_authors, size_t per_block,
                    int sync)
{
    dsuit_genesis_t *g = NULL;
    dsuit_ledger_opts_t o;
    uint8_t genesis[8192], body[1024];
    size_t glen, bl;
    const char *why = NULL;

    memset(x, 0, sizeof *x);
    x->b = b;
    x->n_authors = n_authors;
    x->per_block = per_block;
    x->now = 1700000000000ull;
    x->why = "setup failed";
    snprintf(x->dir, sizeof x->dir, "/tmp/dsuit-bench-ledger-XXXXXX");
    if (mkdtemp(x->dir) == NULL) {
        x->dir[0] = '\0';
        return -1;
    }
    if (dsuit_genesis_new(&g) != DSUIT_OK)
        return -1;
    snprintf(g->chain_name, sizeof g->chain_name, "bench-chain");
    g->time = 1700000000;
    for (int i = 0; i < N_VAL; i++) {
        char name[16];
        snprintf(name, sizeof name, "node-%c", 'a' + i);
        if (dsuit_key_generate(DSUIT_KEY_P256, &x->val[i]) != DSUIT_OK ||
            dsuit_genesis_add_validator(
                g, name, &x->val[i], "127.0.0.1", (uint16_t)(7000 + i),
                (uint16_t)(8000 + i), (uint16_t)(5683 + i)) != DSUIT_OK)
            goto fail;
    }
    if (dsuit_key_generate(DSUIT_KEY_P256, &x->reg) != DSUIT_OK ||
        dsuit_genesis_add_registrar(g, &x->reg) != DSUIT_OK)
        goto fail;
    g->threshold = 1;
    if (dsuit_genesis_encode(g, genesis, sizeof genesis, &glen) != DSUIT_OK)
        goto fail;
    memcpy(x->chain, g->hash, 32);
    dsuit_genesis_free(g);
    g = NULL;

    memset(&o, 0, sizeof o);
    o.store.no_sync = !sync;
    if (dsuit_ledger_open(x->dir, genesis, glen, &o, &x->l, &why) != DSUIT_OK)
        return -1;
    /* Register every author in one block. */
    for (size_t i = 0; i < n_authors; i++) {
        if (dsuit_key_generate(DSUIT_KEY_P256, &x->authors[i]) != DSUIT_OK ||
            dsuit_tx_body_register_author(x->chain, x->nonce++, &x->authors[i],
                                          "bench author", VENDOR, NULL, 0, body,
                                          sizeof body, &bl) != DSUIT_OK ||
            dsuit_tx_assemble(body, bl, &x->reg, 1, x->txs[i], TX_CAP,
                              &x->lens[i]) != DSUIT_OK)
            return -1;
    }
    return commit(x, n_authors, 0);
fail:
    dsuit_genesis_free(g);
    return -1;
}

void bench_ledger(bench_t *b)
{
    static led_t x; /* about 200 KiB of transactions */
    static const struct {
        size_t authors;
        int sync;
    } runs[] = {{1, 0}, {1, 1}, {20, 0}, {20, 1}};
    size_t per_block = bench_cfg(b)->quick ? 10 : MAX_BLOCK;
    bench_es256_t es;

    if (bench_es256_init(&es) != 0) {
        bench_fail(b, "ledger: ES256 setup");
        return;
    }
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        bench_stat_t s, base;
        char fig[128], note[128];
        double verifies = (runs[r].authors + 1) / 2.0;
        if (led_open(&x, b, runs[r].authors, per_block, runs[r].sync) != 0) {
            bench_fail(b, "ledger: setup (%s)", x.why);
            led_close(&x);
            continue;
        }
        snprintf(fig, sizeof fig,
                 "ledger apply, blocks of %zu publishes, %zu author%s, "
                 "fsync %s",
                 per_block, runs[r].authors, runs[r].authors > 1 ? "s" : "",
                 runs[r].sync ? "on" : "off");
        if (bench_pair(b, fig, apply_blocks, &x, &s, bench_es256_verify, &es,
                       &base) == 0) {
            snprintf(note, sizeof note,
                     "%.1f ES256 verifies per publish: ideal ratio %.2f",
                     verifies, 1.0 / verifies);
            bench_row(b, fig, bench_rate(&s, (double)per_block),
                      bench_rate_best(&s, (double)per_block), "publish/s",
                      BENCH_ES256_NAME, bench_rate(&base, 1), note);
        } else {
            bench_fail(b, "ledger: %s", x.why);
        }
        led_close(&x);
    }
}
