/*
 * SUIT and CBOR benchmarks: the full device path (dsuit_suit_parse, then
 * dsuit_suit_check) over the official example 3 envelope per second, next
 * to bare ES256 verifications per second; and dsuit_cbor_check throughput
 * over a large generated document, next to one SHA-256 pass over the same
 * bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "dsuit/cbor.h"
#include "dsuit/crypto.h"
#include "dsuit/suit.h"

#define EXAMPLE  "suit/manifest-37/example3.cbor"
#define SPEC_PUB "suit/keys/spec-es256-p256-public.pem"

static const uint8_t VENDOR_ID[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                      0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                      0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t CLASS_ID[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                     0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                     0x51, 0xf2, 0xab, 0x45};

/* Read $vectors/rel into buf; returns its length, or 0 (reported). */
static size_t read_vector(bench_t *b, const char *rel, uint8_t *buf, size_t cap)
{
    char path[1024];
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", bench_cfg(b)->vectors, rel);
    if ((f = fopen(path, "rb")) == NULL) {
        bench_fail(b, "suit: cannot open %s (set DSUIT_VECTORS)", path);
        return 0;
    }
    n = fread(buf, 1, cap, f);
    if (ferror(f) || n == 0 || n == cap) {
        bench_fail(b, "suit: cannot read %s, or larger than %zu bytes", path,
                   cap - 1);
        n = 0;
    }
    fclose(f);
    return n;
}

typedef struct {
    uint8_t env[2048];
    size_t env_len;
    dsuit_key_t key;
    dsuit_suit_profile_t profile;
} device_t;

/* What a device does with an envelope before it acts on it. */
static int device_path(void *arg, uint64_t n)
{
    device_t *d = arg;
    for (uint64_t i = 0; i < n; i++) {
        dsuit_suit_envelope_t env;
        if (dsuit_suit_parse(d->env, d->env_len, &d->key, 1, &env, NULL) !=
                DSUIT_OK ||
            dsuit_suit_check(&env, &d->profile, NULL) != DSUIT_OK)
            return -1;
    }
    return 0;
}

/* ---- CBOR check ------------------------------------------------------- */

#define CBOR_FLAGS (DSUIT_CBOR_STRICT | DSUIT_CBOR_NODUPS | DSUIT_CBOR_SORTED)

typedef struct {
    uint8_t *buf;
    size_t len;
    unsigned flags;
    uint8_t out[32];
} doc_t;

/*
 * A deterministic document of n records, each like a ledger or manifest
 * entry: {1: uint, 2: nint, 3: bstr(32), 4: tstr(~30), 5: [8 small ints],
 * 6: tag 37(bstr(16)), 7: {1: true, 2: null}}. About 160 bytes a record.
 */
static size_t make_doc(uint8_t *out, size_t cap, size_t n)
{
    dsuit_cbor_enc_t e;
    uint8_t digest[32], uuid[16];
    char text[48];
    size_t len;
    int rc;
    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++) {
        memset(digest, (int)(i & 0xff), sizeof digest);
        memset(uuid, (int)(i * 3 & 0xff), sizeof uuid);
        snprintf(text, sizeof text, "firmware image %zu \xc3\xa9t\xc3\xa9", i);
        dsuit_cbor_put_map(&e, 7);
        dsuit_cbor_put_uint(&e, 1);
        dsuit_cbor_put_uint(&e, (uint64_t)i * 2654435761u);
        dsuit_cbor_put_uint(&e, 2);
        dsuit_cbor_put_int(&e, -(int64_t)(i % 1000) - 1);
        dsuit_cbor_put_uint(&e, 3);
        dsuit_cbor_put_bstr(&e, digest, sizeof digest);
        dsuit_cbor_put_uint(&e, 4);
        dsuit_cbor_put_tstr_z(&e, text);
        dsuit_cbor_put_uint(&e, 5);
        dsuit_cbor_put_array(&e, 8);
        for (int k = 0; k < 8; k++)
            dsuit_cbor_put_uint(&e, (uint64_t)(k * 37 + i) % 300);
        dsuit_cbor_put_uint(&e, 6);
        dsuit_cbor_put_tag(&e, 37);
        dsuit_cbor_put_bstr(&e, uuid, sizeof uuid);
        dsuit_cbor_put_uint(&e, 7);
        dsuit_cbor_put_map(&e, 2);
        dsuit_cbor_put_uint(&e, 1);
        dsuit_cbor_put_bool(&e, 1);
        dsuit_cbor_put_uint(&e, 2);
        dsuit_cbor_put_null(&e);
    }
    /* With no buffer this measures: DSUIT_E_LIMIT with the size needed. */
    rc = dsuit_cbor_enc_finish(&e, &len);
    return rc == DSUIT_OK || (rc == DSUIT_E_LIMIT && cap == 0) ? len : 0;
}

static int cbor_check(void *arg, uint64_t n)
{
    doc_t *d = arg;
    for (uint64_t i = 0; i < n; i++)
        if (dsuit_cbor_check(d->buf, d->len, d->flags, 0) != DSUIT_OK)
            return -1;
    return 0;
}

static int doc_sha(void *arg, uint64_t n)
{
    doc_t *d = arg;
    for (uint64_t i = 0; i < n; i++)
        if (dsuit_sha256(d->buf, d->len, d->out) != DSUIT_OK)
            return -1;
    return 0;
}

void bench_suit(bench_t *b)
{
    static device_t dev;
    bench_es256_t es;
    doc_t doc = {0};
    bench_stat_t s, base;
    char pem[1024], fig[128];
    size_t pem_len, n_rec = bench_cfg(b)->quick ? 2000 : 50000;

    memset(&dev, 0, sizeof dev);
    dev.env_len = read_vector(b, EXAMPLE, dev.env, sizeof dev.env);
    pem_len = read_vector(b, SPEC_PUB, (uint8_t *)pem, sizeof pem - 1);
    if (dev.env_len == 0 || pem_len == 0)
        goto cbor;
    pem[pem_len] = '\0';
    dev.profile.vendor_id.ptr = VENDOR_ID;
    dev.profile.vendor_id.len = sizeof VENDOR_ID;
    dev.profile.class_id.ptr = CLASS_ID;
    dev.profile.class_id.len = sizeof CLASS_ID;
    if (dsuit_key_from_pem(pem, pem_len, &dev.key) != DSUIT_OK ||
        bench_es256_init(&es) != 0 || device_path(&dev, 1) != 0) {
        bench_fail(b, "suit: %s does not parse and check", EXAMPLE);
        goto cbor;
    }
    if (bench_pair(b, "suit", device_path, &dev, &s, bench_es256_verify, &es,
                   &base) == 0)
        bench_row(b, "SUIT parse + check, example3.cbor (396 B)",
                  bench_rate(&s, 1), bench_rate_best(&s, 1), "envelope/s",
                  BENCH_ES256_NAME, bench_rate(&base, 1),
                  "one ES256 verify inside; 1 - ratio = parsing share");

cbor:
    doc.len = make_doc(NULL, 0, n_rec);
    if (doc.len == 0 || (doc.buf = malloc(doc.len)) == NULL ||
        make_doc(doc.buf, doc.len, n_rec) != doc.len ||
        (doc.flags = CBOR_FLAGS, cbor_check(&doc, 1)) != 0) {
        bench_fail(b, "cbor: cannot build or check the document");
        free(doc.buf);
        return;
    }
    /* The deterministic check the ledger makes of every transaction, then
     * well-formedness alone, to show what the map key checks cost. */
    for (int strict_only = 0; strict_only <= 1; strict_only++) {
        doc.flags = strict_only ? DSUIT_CBOR_STRICT : CBOR_FLAGS;
        snprintf(fig, sizeof fig, "dsuit_cbor_check, %s (%.1f MB document)",
                 strict_only ? "strict only" : "strict+nodups+sorted",
                 (double)doc.len / 1e6);
        if (bench_pair(b, fig, cbor_check, &doc, &s, doc_sha, &doc, &base) != 0)
            continue;
        bench_row(b, fig, bench_rate(&s, (double)doc.len / 1e6),
                  bench_rate_best(&s, (double)doc.len / 1e6), "MB/s",
                  "SHA-256 pass over the same bytes (dsuit_sha256)",
                  bench_rate(&base, (double)doc.len / 1e6),
                  strict_only ? "well-formedness, minimal heads, UTF-8"
                              : "also map keys unique and sorted");
    }
    free(doc.buf);
}
