/*
 * Crypto benchmarks: ES256 and Ed25519 verifications per second through
 * the dsuit interface, each next to OpenSSL's EVP_DigestVerify on the same
 * key, message and signature (what the backend wraps); SHA-256 throughput
 * over 1 MiB next to OpenSSL's one-shot EVP_Digest, and SHA-256 of a
 * 64-byte message (a Merkle node hash) next to OpenSSL's low-level
 * SHA256_Init/Update/Final that the backend calls. Also the shared "bare
 * ES256 verification" baseline of the other modules.
 */
/* The low-level SHA256_* functions are deprecated in OpenSSL 3 but are what
 * the backend runs on: the baseline of a short hash. */
#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 0x10101000L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "bench.h"
#include "dsuit/crypto.h"

int bench_es256_init(bench_es256_t *e)
{
    for (size_t i = 0; i < sizeof e->msg; i++)
        e->msg[i] = (uint8_t)(i * 7 + 1);
    if (dsuit_key_generate(DSUIT_KEY_P256, &e->key) != DSUIT_OK ||
        dsuit_p256_sign(&e->key, e->msg, sizeof e->msg, e->sig) != DSUIT_OK ||
        dsuit_p256_verify(&e->key, e->msg, sizeof e->msg, e->sig,
                          sizeof e->sig) != DSUIT_OK)
        return -1;
    return 0;
}

int bench_es256_verify(void *arg, uint64_t n)
{
    const bench_es256_t *e = arg;
    for (uint64_t i = 0; i < n; i++)
        if (dsuit_p256_verify(&e->key, e->msg, sizeof e->msg, e->sig,
                              sizeof e->sig) != DSUIT_OK)
            return -1;
    return 0;
}

/* ---- the OpenSSL baselines --------------------------------------------- */

typedef struct {
    bench_es256_t es; /* the ES256 key, message, raw signature */
    dsuit_key_t ed;
    uint8_t ed_sig[DSUIT_SIG_LEN];
    EVP_PKEY *es_pk, *ed_pk;
    uint8_t der[80]; /* the ES256 signature as an ECDSA-Sig-Value */
    size_t der_len;
} vfy_t;

/* The public half as OpenSSL's EVP_PKEY, through PEM (setup only). */
static EVP_PKEY *to_pkey(const dsuit_key_t *k)
{
    char pem[512];
    size_t len;
    BIO *bio;
    EVP_PKEY *pk;
    if (dsuit_key_to_pem(k, 0, pem, sizeof pem, &len) != DSUIT_OK ||
        (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        return NULL;
    pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return pk;
}

static int to_der(const uint8_t sig[64], uint8_t *out, size_t cap,
                  size_t *out_len)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *p = out;
    int len, rc = -1;
    if (s == NULL || r == NULL || ss == NULL || ECDSA_SIG_set0(s, r, ss) != 1)
        goto out;
    r = ss = NULL;
    len = i2d_ECDSA_SIG(s, NULL);
    if (len > 0 && (size_t)len <= cap && i2d_ECDSA_SIG(s, &p) == len) {
        *out_len = (size_t)len;
        rc = 0;
    }
out:
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return rc;
}

/* One EVP_DigestVerify as a caller holding an EVP_PKEY does it: a fresh
 * EVP_MD_CTX, init, verify, free. */
static int evp_verify(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *sig,
                      size_t sig_len, const uint8_t *msg, size_t len)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestVerifyInit(c, NULL, md, NULL, pk) == 1 &&
             EVP_DigestVerify(c, sig, sig_len, msg, len) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

static int ossl_es256(void *arg, uint64_t n)
{
    vfy_t *v = arg;
    for (uint64_t i = 0; i < n; i++)
        if (evp_verify(v->es_pk, EVP_sha256(), v->der, v->der_len, v->es.msg,
                       sizeof v->es.msg) != 0)
            return -1;
    return 0;
}

static int dsuit_ed(void *arg, uint64_t n)
{
    vfy_t *v = arg;
    for (uint64_t i = 0; i < n; i++)
        if (dsuit_ed25519_verify(&v->ed, v->es.msg, sizeof v->es.msg, v->ed_sig,
                                 sizeof v->ed_sig) != DSUIT_OK)
            return -1;
    return 0;
}

static int ossl_ed(void *arg, uint64_t n)
{
    vfy_t *v = arg;
    for (uint64_t i = 0; i < n; i++)
        if (evp_verify(v->ed_pk, NULL, v->ed_sig, sizeof v->ed_sig, v->es.msg,
                       sizeof v->es.msg) != 0)
            return -1;
    return 0;
}

/* ---- SHA-256 ------------------------------------------------------------ */

#define SHA_LEN (1u << 20)

typedef struct {
    uint8_t *buf;
    uint8_t out[32];
} sha_t;

static int dsuit_sha(void *arg, uint64_t n)
{
    sha_t *s = arg;
    for (uint64_t i = 0; i < n; i++)
        if (dsuit_sha256(s->buf, SHA_LEN, s->out) != DSUIT_OK)
            return -1;
    return 0;
}

static int ossl_sha(void *arg, uint64_t n)
{
    sha_t *s = arg;
    for (uint64_t i = 0; i < n; i++)
        if (EVP_Digest(s->buf, SHA_LEN, s->out, NULL, EVP_sha256(), NULL) != 1)
            return -1;
    return 0;
}

static int dsuit_sha64(void *arg, uint64_t n)
{
    sha_t *s = arg;
    for (uint64_t i = 0; i < n; i++) {
        s->buf[0] = (uint8_t)i;
        if (dsuit_sha256(s->buf, 64, s->out) != DSUIT_OK)
            return -1;
    }
    return 0;
}

static int ossl_sha64(void *arg, uint64_t n)
{
    sha_t *s = arg;
    for (uint64_t i = 0; i < n; i++) {
        SHA256_CTX c;
        s->buf[0] = (uint8_t)i;
        if (SHA256_Init(&c) != 1 || SHA256_Update(&c, s->buf, 64) != 1 ||
            SHA256_Final(s->out, &c) != 1)
            return -1;
    }
    return 0;
}

void bench_crypto(bench_t *b)
{
    vfy_t v;
    sha_t s = {0};
    bench_stat_t d, o;

    memset(&v, 0, sizeof v);
    if (bench_es256_init(&v.es) != 0 ||
        dsuit_key_generate(DSUIT_KEY_ED25519, &v.ed) != DSUIT_OK ||
        dsuit_ed25519_sign(&v.ed, v.es.msg, sizeof v.es.msg, v.ed_sig) !=
            DSUIT_OK ||
        (v.es_pk = to_pkey(&v.es.key)) == NULL ||
        (v.ed_pk = to_pkey(&v.ed)) == NULL ||
        to_der(v.es.sig, v.der, sizeof v.der, &v.der_len) != 0 ||
        ossl_es256(&v, 1) != 0 || ossl_ed(&v, 1) != 0) {
        bench_fail(b, "crypto: setup");
        goto out;
    }
    if (bench_pair(b, "es256", bench_es256_verify, &v.es, &d, ossl_es256, &v,
                   &o) == 0)
        bench_row(b, "ES256 verify (128-byte message)", bench_rate(&d, 1),
                  bench_rate_best(&d, 1), "verify/s",
                  "OpenSSL EVP_DigestVerify, same key", bench_rate(&o, 1),
                  "dsuit rebuilds the EVP_PKEY and DER signature per call");
    if (bench_pair(b, "ed25519", dsuit_ed, &v, &d, ossl_ed, &v, &o) == 0)
        bench_row(b, "Ed25519 verify (128-byte message)", bench_rate(&d, 1),
                  bench_rate_best(&d, 1), "verify/s",
                  "OpenSSL EVP_DigestVerify, same key", bench_rate(&o, 1),
                  "dsuit rebuilds the EVP_PKEY per call");

    if ((s.buf = malloc(SHA_LEN)) == NULL) {
        bench_fail(b, "crypto: out of memory");
        goto out;
    }
    for (size_t i = 0; i < SHA_LEN; i++)
        s.buf[i] = (uint8_t)(i * 131 + (i >> 8));
    if (bench_pair(b, "sha256", dsuit_sha, &s, &d, ossl_sha, &s, &o) == 0)
        bench_row(b, "SHA-256 over 1 MiB (dsuit_sha256)",
                  bench_rate(&d, SHA_LEN / 1e9),
                  bench_rate_best(&d, SHA_LEN / 1e9), "GB/s",
                  "OpenSSL EVP_Digest one-shot", bench_rate(&o, SHA_LEN / 1e9),
                  NULL);
    if (bench_pair(b, "sha256-64", dsuit_sha64, &s, &d, ossl_sha64, &s, &o) ==
        0)
        bench_row(b, "SHA-256 of 64 bytes (dsuit_sha256)", bench_rate(&d, 1),
                  bench_rate_best(&d, 1), "hash/s",
                  "OpenSSL SHA256_Init/Update/Final", bench_rate(&o, 1),
                  "the backend copies and wipes the state per call");
out:
    free(s.buf);
    EVP_PKEY_free(v.es_pk);
    EVP_PKEY_free(v.ed_pk);
    dsuit_key_wipe(&v.es.key);
    dsuit_key_wipe(&v.ed);
}
