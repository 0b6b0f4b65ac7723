/*
 * OpenSSL 3.0 backend of the dsuit crypto interface (include/dsuit/crypto.h)
 * for host builds: SHA-256, the CSPRNG, P-256 and Ed25519 keys (raw, PEM),
 * deterministic ECDSA P-256/SHA-256 and Ed25519 signatures.
 *
 * The interface keeps keys as raw bytes in a caller-owned dsuit_key_t, so
 * each operation builds the OpenSSL objects it needs, uses them and frees
 * them again on every path (one cleanup ladder per function). OpenSSL
 * allocates inside itself; this file never calls the malloc family, which
 * tools/check-no-malloc.sh checks. Errors OpenSSL pushes on its thread error
 * queue while parsing or verifying untrusted input are popped again
 * (ERR_set_mark / ERR_pop_to_mark), so a rejected input leaves no trace.
 *
 * - SHA-256 keeps OpenSSL's low-level SHA256_CTX inside the 128 bytes of
 *   dsuit_sha256_ctx_t; the state is copied in and out with memcpy (no
 *   type-punned access) and holds no pointers, so it needs no _free.
 * - ECDSA P-256 signatures are deterministic (RFC 6979 §3.2). OpenSSL 3.0
 *   cannot do that, so the nonce k comes from an HMAC-DRBG written on
 *   dsuit_hmac_sha256, and the signature is computed with BIGNUM/EC_POINT:
 *   r = (kG).x mod n, s = k^-1 (z + r d) mod n. k^-1 is k^(n-2) mod n with
 *   BN_mod_exp_mont_consttime, products use Montgomery multiplication, and
 *   all secret BIGNUMs carry BN_FLG_CONSTTIME and are cleared when freed.
 *   Signing is a host-side operation (keygen, manifest signing); devices
 *   only verify.
 * - Verification converts raw r||s (RFC 9053 §2.1) to a DER ECDSA-Sig-Value
 *   and uses EVP_DigestVerify. It fails closed: the result starts as
 *   DSUIT_E_SIGNATURE and only a verify result of exactly 1 turns it into
 *   success.
 * - Public keys are checked when they enter a dsuit_key_t: a P-256 x||y must
 *   decode to a point on the curve (P-256 has cofactor 1, so that point is
 *   in the prime-order group and is never the point at infinity).
 * - PEM: PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY" and SPKI "PUBLIC KEY",
 *   P-256 (named curve only) or Ed25519. Encrypted keys are refused without
 *   ever prompting for a passphrase. A P-256 private key's public half is
 *   recomputed from d rather than trusted from the file.
 */
#if !defined(DSUIT_CRYPTO_OPENSSL)
#error "openssl.c is a crypto backend: build it with DSUIT_CRYPTO_OPENSSL"
#endif
#if defined(DSUIT_CRYPTO_MBEDTLS)
#error "two crypto backends selected: define only one DSUIT_CRYPTO_*"
#endif

/* The low-level SHA256_* functions are deprecated in 3.0 but are the only
 * way to keep the hash state in caller-owned memory; ask for the 1.1.1 API
 * so they compile without deprecation warnings. */
#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 0x10101000L
#endif

#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "dsuit/crypto.h"

#define P256_SCALAR_LEN   32
#define P256_POINT_LEN    65 /* 0x04 || x || y (SEC 1 §2.3.3) */
#define ECDSA_DER_MAX     72 /* SEQUENCE of two INTEGERs of up to 33 bytes */
#define RFC6979_MAX_TRIES 64

/* An empty message: OpenSSL prefers a real pointer even for 0 bytes. */
static const uint8_t empty_msg[1] = {0};

/* ---- SHA-256 ------------------------------------------------------------ */

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((dsuit_sha256_ctx_t *)0)->u),
               "OpenSSL SHA256_CTX does not fit in dsuit_sha256_ctx_t");

static void sha_load(SHA256_CTX *s, const dsuit_sha256_ctx_t *ctx)
{
    memcpy(s, ctx->u.bytes, sizeof *s);
}

/* Store the state back and clear the stack copy: in HMAC it is key-derived. */
static void sha_store(dsuit_sha256_ctx_t *ctx, SHA256_CTX *s)
{
    memcpy(ctx->u.bytes, s, sizeof *s);
    dsuit_wipe(s, sizeof *s);
}

int dsuit_sha256_init(dsuit_sha256_ctx_t *ctx)
{
    SHA256_CTX s;

    if (ctx == NULL)
        return DSUIT_E_INVAL;
    memset(ctx, 0, sizeof *ctx);
    if (SHA256_Init(&s) != 1)
        return DSUIT_E_CRYPTO;
    sha_store(ctx, &s);
    return DSUIT_OK;
}

int dsuit_sha256_update(dsuit_sha256_ctx_t *ctx, const void *p, size_t len)
{
    SHA256_CTX s;
    int ok;

    if (ctx == NULL || (p == NULL && len != 0))
        return DSUIT_E_INVAL;
    if (len == 0)
        return DSUIT_OK;
    sha_load(&s, ctx);
    ok = SHA256_Update(&s, p, len);
    sha_store(ctx, &s);
    return ok == 1 ? DSUIT_OK : DSUIT_E_CRYPTO;
}

int dsuit_sha256_final(dsuit_sha256_ctx_t *ctx, uint8_t out[DSUIT_SHA256_LEN])
{
    SHA256_CTX s;
    uint8_t md[DSUIT_SHA256_LEN];
    int ok;

    if (ctx == NULL || out == NULL)
        return DSUIT_E_INVAL;
    sha_load(&s, ctx);
    ok = SHA256_Final(md, &s);
    dsuit_wipe(&s, sizeof s);
    dsuit_wipe(ctx, sizeof *ctx);
    if (ok == 1)
        memcpy(out, md, sizeof md);
    dsuit_wipe(md, sizeof md);
    return ok == 1 ? DSUIT_OK : DSUIT_E_CRYPTO;
}

int dsuit_sha256(const void *p, size_t len, uint8_t out[DSUIT_SHA256_LEN])
{
    SHA256_CTX s;
    int ok;

    if (out == NULL || (p == NULL && len != 0))
        return DSUIT_E_INVAL;
    /* One shot on a local state: no copies in and out of a dsuit context
     * (the Merkle tree hashes 64-byte nodes by the million). OpenSSL 3.0's
     * SHA256() would be slower still: it fetches the algorithm each call. */
    ok = SHA256_Init(&s) == 1 && (len == 0 || SHA256_Update(&s, p, len) == 1) &&
         SHA256_Final(out, &s) == 1;
    dsuit_wipe(&s, sizeof s);
    return ok ? DSUIT_OK : DSUIT_E_CRYPTO;
}

/* ---- random ------------------------------------------------------------- */

int dsuit_random(uint8_t *out, size_t len)
{
    size_t done = 0;

    if (out == NULL && len != 0)
        return DSUIT_E_INVAL;
    while (done < len) {
        size_t n = len - done;
        if (n > INT_MAX)
            n = INT_MAX;
        if (RAND_bytes(out + done, (int)n) != 1) {
            dsuit_wipe(out, len);
            return DSUIT_E_CRYPTO;
        }
        done += n;
    }
    return DSUIT_OK;
}

/* ---- keys: raw ---------------------------------------------------------- */

const char *dsuit_key_type_name(dsuit_key_type_t type)
{
    switch (type) {
    case DSUIT_KEY_P256:
        return "es256";
    case DSUIT_KEY_ED25519:
        return "ed25519";
    case DSUIT_KEY_SYMMETRIC:
        return "symmetric";
    case DSUIT_KEY_NONE:
        return "none";
    }
    return "unknown";
}

void dsuit_key_wipe(dsuit_key_t *key)
{
    if (key == NULL)
        return;
    dsuit_wipe(key, sizeof *key);
    key->type = DSUIT_KEY_NONE;
}

/* The order n of the P-256 base point, big-endian (SEC 2 §2.4.2). */
static const uint8_t p256_order[P256_SCALAR_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
    0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

/* 1 if the big-endian a is in [1, n-1], else 0. Runs in constant time, as a
 * may be a private scalar or a nonce candidate. */
static int p256_scalar_in_range(const uint8_t a[P256_SCALAR_LEN])
{
    unsigned borrow = 0;
    unsigned nonzero = 0;

    for (int i = P256_SCALAR_LEN - 1; i >= 0; i--) {
        unsigned diff = (unsigned)a[i] - p256_order[i] - borrow;
        borrow = (diff >> 8) & 1u; /* a - n borrows out iff a < n */
        nonzero |= a[i];
    }
    return (int)(borrow & ((nonzero + 0xffu) >> 8));
}

/* Check that x||y is an affine point on P-256. DSUIT_E_KEY if not. */
static int p256_point_check(const uint8_t pub[DSUIT_P256_PUB_LEN])
{
    EC_GROUP *grp = NULL;
    EC_POINT *pt = NULL;
    BN_CTX *bnc = NULL;
    uint8_t enc[P256_POINT_LEN];
    int rc = DSUIT_E_KEY;

    enc[0] = POINT_CONVERSION_UNCOMPRESSED;
    memcpy(enc + 1, pub, DSUIT_P256_PUB_LEN);

    grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (grp == NULL || (pt = EC_POINT_new(grp)) == NULL ||
        (bnc = BN_CTX_new()) == NULL) {
        rc = DSUIT_E_CRYPTO;
        goto out;
    }
    /* oct2point rejects coordinates >= p and points off the curve; the
     * explicit checks below keep that true whatever the OpenSSL version. */
    if (EC_POINT_oct2point(grp, pt, enc, sizeof enc, bnc) != 1)
        goto out;
    if (EC_POINT_is_at_infinity(grp, pt) ||
        EC_POINT_is_on_curve(grp, pt, bnc) != 1)
        goto out;
    rc = DSUIT_OK;
out:
    BN_CTX_free(bnc);
    EC_POINT_free(pt);
    EC_GROUP_free(grp);
    return rc;
}

/* pub = d*G for a private scalar d already known to be in [1, n-1]. */
static int p256_public_from_scalar(const uint8_t d[P256_SCALAR_LEN],
                                   uint8_t pub[DSUIT_P256_PUB_LEN])
{
    EC_GROUP *grp = NULL;
    EC_POINT *pt = NULL;
    BN_CTX *bnc = NULL;
    BIGNUM *bd = NULL;
    BIGNUM *x = NULL;
    BIGNUM *y = NULL;
    int rc = DSUIT_E_CRYPTO;

    grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (grp == NULL || (pt = EC_POINT_new(grp)) == NULL ||
        (bnc = BN_CTX_secure_new()) == NULL || (bd = BN_secure_new()) == NULL ||
        (x = BN_new()) == NULL || (y = BN_new()) == NULL)
        goto out;
    BN_set_flags(bd, BN_FLG_CONSTTIME);
    if (BN_bin2bn(d, P256_SCALAR_LEN, bd) == NULL ||
        EC_POINT_mul(grp, pt, bd, NULL, NULL, bnc) != 1 ||
        EC_POINT_get_affine_coordinates(grp, pt, x, y, bnc) != 1 ||
        BN_bn2binpad(x, pub, 32) != 32 || BN_bn2binpad(y, pub + 32, 32) != 32)
        goto out;
    rc = DSUIT_OK;
out:
    BN_free(y);
    BN_free(x);
    BN_clear_free(bd);
    BN_CTX_free(bnc);
    EC_POINT_free(pt);
    EC_GROUP_free(grp);
    return rc;
}

int dsuit_key_set_public(dsuit_key_t *key, dsuit_key_type_t type,
                         const uint8_t *pub, size_t pub_len)
{
    int rc;

    if (key == NULL || pub == NULL)
        return DSUIT_E_INVAL;
    switch (type) {
    case DSUIT_KEY_P256:
        if (pub_len != DSUIT_P256_PUB_LEN)
            return DSUIT_E_KEY;
        ERR_set_mark();
        rc = p256_point_check(pub);
        ERR_pop_to_mark();
        if (rc != DSUIT_OK)
            return rc;
        break;
    case DSUIT_KEY_ED25519:
        if (pub_len != DSUIT_ED25519_PUB_LEN)
            return DSUIT_E_KEY;
        break;
    default:
        return DSUIT_E_INVAL;
    }
    dsuit_key_wipe(key);
    key->type = type;
    key->has_private = 0;
    memcpy(key->pub, pub, pub_len);
    key->pub_len = pub_len;
    return DSUIT_OK;
}

int dsuit_key_set_symmetric(dsuit_key_t *key, const uint8_t *k, size_t len)
{
    if (key == NULL)
        return DSUIT_E_INVAL;
    if (k == NULL || len == 0 || len > DSUIT_KEY_SECRET_MAX)
        return DSUIT_E_KEY;
    dsuit_key_wipe(key);
    key->type = DSUIT_KEY_SYMMETRIC;
    key->has_private = 1;
    memcpy(key->secret, k, len);
    key->secret_len = len;
    return DSUIT_OK;
}

/* ---- keys: to and from OpenSSL ------------------------------------------ */

/*
 * Build an EVP_PKEY from a well-formed P-256 or Ed25519 dsuit_key_t, with its
 * private half if with_private (the key must then hold one). The caller frees
 * *out with EVP_PKEY_free.
 */
static int pkey_from_key(const dsuit_key_t *key, int with_private,
                         EVP_PKEY **out)
{
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pk = NULL;
    BIGNUM *d = NULL;
    uint8_t enc[P256_POINT_LEN];
    int rc = DSUIT_E_KEY;

    if (with_private && (!key->has_private || key->secret_len != 32))
        goto out;

    if (key->type == DSUIT_KEY_ED25519) {
        if (key->pub_len != DSUIT_ED25519_PUB_LEN)
            goto out;
        if (with_private)
            pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
                                              key->secret, 32);
        else
            pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key->pub,
                                             key->pub_len);
        if (pk == NULL) {
            rc = DSUIT_E_CRYPTO;
            goto out;
        }
        *out = pk;
        pk = NULL;
        rc = DSUIT_OK;
        goto out;
    }
    if (key->type != DSUIT_KEY_P256 || key->pub_len != DSUIT_P256_PUB_LEN)
        goto out;

    enc[0] = POINT_CONVERSION_UNCOMPRESSED;
    memcpy(enc + 1, key->pub, DSUIT_P256_PUB_LEN);
    rc = DSUIT_E_CRYPTO;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        SN_X9_62_prime256v1, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, enc,
                                         sizeof enc) != 1)
        goto out;
    if (with_private) {
        /* A secure BIGNUM makes the parameter builder put d in the secure
         * block that OSSL_PARAM_free clears. */
        if ((d = BN_secure_new()) == NULL ||
            BN_bin2bn(key->secret, 32, d) == NULL ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)
            goto out;
    }
    if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(pctx) != 1)
        goto out;
    if (EVP_PKEY_fromdata(pctx, &pk,
                          with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params) != 1) {
        rc = DSUIT_E_KEY;
        goto out;
    }
    *out = pk;
    pk = NULL;
    rc = DSUIT_OK;
out:
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    return rc;
}

/* 1 if pk is an EC key on the named curve P-256 (not explicit parameters,
 * which would let a file describe a curve of its own). */
static int pkey_is_named_p256(const EVP_PKEY *pk)
{
    char name[80];
    size_t name_len = 0;

    if (!EVP_PKEY_is_a(pk, "EC"))
        return 0;
    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, name,
                                       sizeof name, &name_len) != 1)
        return 0;
    if (OBJ_sn2nid(name) != NID_X9_62_prime256v1 &&
        EC_curve_nist2nid(name) != NID_X9_62_prime256v1)
        return 0;
    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_EC_ENCODING, name,
                                       sizeof name, &name_len) == 1 &&
        strcmp(name, OSSL_PKEY_EC_ENCODING_GROUP) != 0)
        return 0;
    return 1;
}

/*
 * Fill *out from an EVP_PKEY (P-256 or Ed25519 only), taking the private half
 * if want_private. Writes *out only on success.
 */
static int key_from_pkey(const EVP_PKEY *pk, int want_private, dsuit_key_t *out)
{
    dsuit_key_t k;
    BIGNUM *d = NULL;
    BIGNUM *x = NULL;
    BIGNUM *y = NULL;
    size_t n;
    int rc = DSUIT_E_KEY;

    memset(&k, 0, sizeof k);
    if (EVP_PKEY_is_a(pk, "ED25519")) {
        n = DSUIT_ED25519_PUB_LEN;
        if (EVP_PKEY_get_raw_public_key(pk, k.pub, &n) != 1 ||
            n != DSUIT_ED25519_PUB_LEN)
            goto out;
        k.pub_len = DSUIT_ED25519_PUB_LEN;
        if (want_private) {
            n = 32;
            if (EVP_PKEY_get_raw_private_key(pk, k.secret, &n) != 1 || n != 32)
                goto out;
            k.secret_len = 32;
            k.has_private = 1;
        }
        k.type = DSUIT_KEY_ED25519;
    } else if (pkey_is_named_p256(pk)) {
        if (want_private) {
            if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
                BN_bn2binpad(d, k.secret, 32) != 32 ||
                !p256_scalar_in_range(k.secret))
                goto out;
            k.secret_len = 32;
            k.has_private = 1;
            /* Derive the public half rather than trust the one in the file,
             * which may be absent or, in a crafted file, unrelated to d. */
            rc = p256_public_from_scalar(k.secret, k.pub);
            if (rc != DSUIT_OK)
                goto out;
            rc = DSUIT_E_KEY;
        } else {
            if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
                EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
                BN_bn2binpad(x, k.pub, 32) != 32 ||
                BN_bn2binpad(y, k.pub + 32, 32) != 32)
                goto out;
            rc = p256_point_check(k.pub);
            if (rc != DSUIT_OK)
                goto out;
            rc = DSUIT_E_KEY;
        }
        k.pub_len = DSUIT_P256_PUB_LEN;
        k.type = DSUIT_KEY_P256;
    } else {
        goto out; /* RSA, another curve, X25519, ... */
    }
    memcpy(out, &k, sizeof k);
    rc = DSUIT_OK;
out:
    BN_free(y);
    BN_free(x);
    BN_clear_free(d);
    dsuit_wipe(&k, sizeof k);
    return rc;
}

int dsuit_key_generate(dsuit_key_type_t type, dsuit_key_t *out)
{
    EVP_PKEY *pk = NULL;
    int rc;

    if (out == NULL)
        return DSUIT_E_INVAL;
    if (type == DSUIT_KEY_P256)
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (type == DSUIT_KEY_ED25519)
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        return DSUIT_E_INVAL;
    if (pk == NULL)
        return DSUIT_E_CRYPTO;
    rc = key_from_pkey(pk, 1, out);
    EVP_PKEY_free(pk);
    /* A key OpenSSL just generated that we cannot read back is a backend
     * failure, not a bad key from the caller. */
    return rc == DSUIT_OK ? DSUIT_OK : DSUIT_E_CRYPTO;
}

/* Passphrase callback that refuses, so an encrypted PEM fails instead of
 * OpenSSL prompting on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

int dsuit_key_from_pem(const char *pem, size_t len, dsuit_key_t *out)
{
    BIO *bio = NULL;
    EVP_PKEY *pk = NULL;
    int is_private = 1;
    int rc = DSUIT_E_KEY;

    if (pem == NULL || out == NULL)
        return DSUIT_E_INVAL;
    if (len == 0 || len > INT_MAX)
        return DSUIT_E_KEY;

    ERR_set_mark();
    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
        rc = DSUIT_E_CRYPTO;
        goto out;
    }
    /* PEM_read_bio_PrivateKey takes "PRIVATE KEY" and "EC PRIVATE KEY" (and
     * other algorithms, refused below); failing that, try "PUBLIC KEY" on a
     * fresh BIO from the start of the text. */
    pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    if (pk == NULL) {
        is_private = 0;
        BIO_free(bio);
        if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
            rc = DSUIT_E_CRYPTO;
            goto out;
        }
        pk = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
        if (pk == NULL)
            goto out;
    }
    rc = key_from_pkey(pk, is_private, out);
out:
    EVP_PKEY_free(pk);
    BIO_free(bio);
    ERR_pop_to_mark();
    return rc;
}

int dsuit_key_to_pem(const dsuit_key_t *key, int private, char *out,
                     size_t out_cap, size_t *out_len)
{
    EVP_PKEY *pk = NULL;
    BIO *bio = NULL;
    char *text = NULL;
    long text_len;
    int rc;

    if (key == NULL || out_len == NULL || (out == NULL && out_cap != 0))
        return DSUIT_E_INVAL;
    if (key->type != DSUIT_KEY_P256 && key->type != DSUIT_KEY_ED25519)
        return DSUIT_E_KEY;
    if (private && !key->has_private)
        return DSUIT_E_KEY;

    ERR_set_mark();
    rc = pkey_from_key(key, private != 0, &pk);
    if (rc != DSUIT_OK)
        goto out;
    rc = DSUIT_E_CRYPTO;
    /* A private key goes through secure memory, which is cleared on free. */
    if ((bio = BIO_new(private ? BIO_s_secmem() : BIO_s_mem())) == NULL)
        goto out;
    if (private) {
        /* OpenSSL 3 writes PKCS#8 PrivateKeyInfo ("PRIVATE KEY") here. */
        if (PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1)
            goto out;
    } else if (PEM_write_bio_PUBKEY(bio, pk) != 1) {
        goto out;
    }
    text_len = BIO_get_mem_data(bio, &text);
    if (text_len <= 0 || text == NULL)
        goto out;
    if ((size_t)text_len >= out_cap) {
        *out_len = (size_t)text_len + 1;
        rc = DSUIT_E_LIMIT;
        goto out;
    }
    memcpy(out, text, (size_t)text_len);
    out[text_len] = '\0';
    *out_len = (size_t)text_len;
    rc = DSUIT_OK;
out:
    BIO_free(bio);
    EVP_PKEY_free(pk);
    ERR_pop_to_mark();
    return rc;
}

/* ---- ECDSA P-256 -------------------------------------------------------- */

/* RFC 6979 §3.2 steps d-g (and h.3): K = HMAC_K(V || sep [|| x || h1]),
 * V = HMAC_K(V). x and h1 are NULL for the retry step of h.3. */
static int drbg_rekey(uint8_t K[32], uint8_t V[32], uint8_t sep,
                      const uint8_t *x, const uint8_t *h1)
{
    dsuit_hmac_sha256_ctx_t h;
    int rc;

    rc = dsuit_hmac_sha256_init(&h, K, 32);
    if (rc != DSUIT_OK)
        return rc;
    rc = dsuit_hmac_sha256_update(&h, V, 32);
    if (rc == DSUIT_OK)
        rc = dsuit_hmac_sha256_update(&h, &sep, 1);
    if (rc == DSUIT_OK && x != NULL)
        rc = dsuit_hmac_sha256_update(&h, x, 32);
    if (rc == DSUIT_OK && h1 != NULL)
        rc = dsuit_hmac_sha256_update(&h, h1, 32);
    if (rc != DSUIT_OK) {
        dsuit_wipe(&h, sizeof h);
        return rc;
    }
    rc = dsuit_hmac_sha256_final(&h, K);
    if (rc == DSUIT_OK)
        rc = dsuit_hmac_sha256(K, 32, V, 32, V);
    return rc;
}

/* The BIGNUM state for one signature. */
typedef struct {
    EC_GROUP *grp;
    BN_CTX *bnc;
    BN_MONT_CTX *mont; /* Montgomery context modulo n */
    const BIGNUM *n;
    BIGNUM *n_minus_2;
    BIGNUM *d, *z, *k, *kinv, *r, *s, *t, *u;
    EC_POINT *R;
} p256_sign_state_t;

/*
 * r = (kG).x mod n, s = k^-1 (z + r d) mod n for the candidate nonce kbytes
 * (already known to be in [1, n-1]). Returns 1 with st->r, st->s set, 0 if r
 * or s came out zero (RFC 6979 §3.4: try the next k), negative on error.
 */
static int p256_sign_with_k(p256_sign_state_t *st,
                            const uint8_t kbytes[P256_SCALAR_LEN])
{
    if (BN_bin2bn(kbytes, P256_SCALAR_LEN, st->k) == NULL)
        return DSUIT_E_CRYPTO;
    BN_set_flags(st->k, BN_FLG_CONSTTIME);

    /* For a scalar times the generator OpenSSL 3 uses a constant-time
     * ladder (or the constant-time nistz256 code). */
    if (EC_POINT_mul(st->grp, st->R, st->k, NULL, NULL, st->bnc) != 1 ||
        !EC_POINT_get_affine_coordinates(st->grp, st->R, st->r, NULL,
                                         st->bnc) ||
        BN_nnmod(st->r, st->r, st->n, st->bnc) != 1)
        return DSUIT_E_CRYPTO;
    if (BN_is_zero(st->r))
        return 0;

    /* k^-1 = k^(n-2) mod n (Fermat; n is prime), in constant time. */
    if (BN_mod_exp_mont_consttime(st->kinv, st->k, st->n_minus_2, st->n,
                                  st->bnc, st->mont) != 1)
        return DSUIT_E_CRYPTO;
    BN_set_flags(st->kinv, BN_FLG_CONSTTIME);

    /* t = r d mod n: Montgomery form of r (public) times d gives r d. */
    if (BN_to_montgomery(st->t, st->r, st->mont, st->bnc) != 1 ||
        BN_mod_mul_montgomery(st->t, st->t, st->d, st->mont, st->bnc) != 1 ||
        /* t = z + r d mod n; both are already reduced. */
        BN_mod_add_quick(st->t, st->t, st->z, st->n) != 1 ||
        /* s = k^-1 t mod n */
        BN_to_montgomery(st->u, st->kinv, st->mont, st->bnc) != 1 ||
        BN_mod_mul_montgomery(st->s, st->u, st->t, st->mont, st->bnc) != 1)
        return DSUIT_E_CRYPTO;
    if (BN_is_zero(st->s))
        return 0;
    return 1;
}

int dsuit_p256_sign(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                    uint8_t sig[DSUIT_SIG_LEN])
{
    p256_sign_state_t st;
    uint8_t h1[DSUIT_SHA256_LEN];
    uint8_t hz[P256_SCALAR_LEN]; /* bits2octets(h1) */
    uint8_t K[32];
    uint8_t V[32];
    uint8_t out[DSUIT_SIG_LEN];
    int rc;

    if (key == NULL || sig == NULL || (msg == NULL && len != 0))
        return DSUIT_E_INVAL;
    if (key->type != DSUIT_KEY_P256 || !key->has_private ||
        key->secret_len != P256_SCALAR_LEN ||
        key->pub_len != DSUIT_P256_PUB_LEN ||
        !p256_scalar_in_range(key->secret))
        return DSUIT_E_KEY;

    memset(&st, 0, sizeof st);
    rc = dsuit_sha256(msg == NULL ? empty_msg : msg, len, h1);
    if (rc != DSUIT_OK)
        return rc;

    ERR_set_mark();
    rc = DSUIT_E_CRYPTO;
    st.grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (st.grp == NULL || (st.bnc = BN_CTX_secure_new()) == NULL ||
        (st.mont = BN_MONT_CTX_new()) == NULL ||
        (st.n = EC_GROUP_get0_order(st.grp)) == NULL ||
        (st.n_minus_2 = BN_dup(st.n)) == NULL ||
        (st.d = BN_secure_new()) == NULL || (st.z = BN_new()) == NULL ||
        (st.k = BN_secure_new()) == NULL ||
        (st.kinv = BN_secure_new()) == NULL || (st.r = BN_new()) == NULL ||
        (st.s = BN_new()) == NULL || (st.t = BN_secure_new()) == NULL ||
        (st.u = BN_secure_new()) == NULL ||
        (st.R = EC_POINT_new(st.grp)) == NULL)
        goto out;
    BN_set_flags(st.d, BN_FLG_CONSTTIME);
    if (BN_MONT_CTX_set(st.mont, st.n, st.bnc) != 1 ||
        BN_sub_word(st.n_minus_2, 2) != 1 ||
        BN_bin2bn(key->secret, P256_SCALAR_LEN, st.d) == NULL ||
        /* z = bits2int(h1) mod n; the hash is exactly qlen = 256 bits. */
        BN_bin2bn(h1, sizeof h1, st.z) == NULL ||
        BN_nnmod(st.z, st.z, st.n, st.bnc) != 1 ||
        BN_bn2binpad(st.z, hz, sizeof hz) != (int)sizeof hz)
        goto out;

    /* RFC 6979 §3.2 b-g, with x = int2octets(d) = the stored scalar. */
    memset(V, 0x01, sizeof V);
    memset(K, 0x00, sizeof K);
    if (drbg_rekey(K, V, 0x00, key->secret, hz) != DSUIT_OK ||
        drbg_rekey(K, V, 0x01, key->secret, hz) != DSUIT_OK)
        goto out;

    /* Step h: tlen = qlen = 256, so one HMAC output is one candidate. A
     * candidate outside [1, n-1] (probability about 2^-32), or one giving
     * r = 0 or s = 0, moves the DRBG on; the bound only stops a broken
     * backend from looping for ever. */
    for (int tries = 0; tries < RFC6979_MAX_TRIES; tries++) {
        if (dsuit_hmac_sha256(K, sizeof K, V, sizeof V, V) != DSUIT_OK)
            goto out;
        if (p256_scalar_in_range(V)) {
            int got = p256_sign_with_k(&st, V);
            if (got < 0)
                goto out;
            if (got == 1) {
                if (BN_bn2binpad(st.r, out, 32) != 32 ||
                    BN_bn2binpad(st.s, out + 32, 32) != 32)
                    goto out;
                memcpy(sig, out, sizeof out);
                rc = DSUIT_OK;
                goto out;
            }
        }
        if (drbg_rekey(K, V, 0x00, NULL, NULL) != DSUIT_OK)
            goto out;
    }
out:
    EC_POINT_clear_free(st.R);
    BN_clear_free(st.u);
    BN_clear_free(st.t);
    BN_free(st.s);
    BN_free(st.r);
    BN_clear_free(st.kinv);
    BN_clear_free(st.k);
    BN_free(st.z);
    BN_clear_free(st.d);
    BN_free(st.n_minus_2);
    BN_MONT_CTX_free(st.mont);
    BN_CTX_free(st.bnc);
    EC_GROUP_free(st.grp);
    ERR_pop_to_mark();
    dsuit_wipe(K, sizeof K);
    dsuit_wipe(V, sizeof V);
    dsuit_wipe(out, sizeof out);
    return rc;
}

/* One EVP_DigestVerify with md (NULL for Ed25519). DSUIT_OK only if OpenSSL
 * says exactly 1. */
static int evp_verify(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *sig,
                      size_t sig_len, const uint8_t *msg, size_t len)
{
    EVP_MD_CTX *mctx = NULL;
    int rc = DSUIT_E_SIGNATURE;

    if ((mctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestVerifyInit(mctx, NULL, md, NULL, pk) != 1) {
        rc = DSUIT_E_CRYPTO;
        goto out;
    }
    if (EVP_DigestVerify(mctx, sig, sig_len, msg == NULL ? empty_msg : msg,
                         len) == 1)
        rc = DSUIT_OK;
out:
    EVP_MD_CTX_free(mctx);
    return rc;
}

int dsuit_p256_verify(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                      const uint8_t *sig, size_t sig_len)
{
    EVP_PKEY *pk = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL;
    BIGNUM *s = NULL;
    uint8_t der[ECDSA_DER_MAX];
    unsigned char *p;
    int der_len;
    int rc = DSUIT_E_SIGNATURE;

    if (key == NULL || (msg == NULL && len != 0) ||
        (sig == NULL && sig_len != 0))
        return DSUIT_E_INVAL;
    if (key->type != DSUIT_KEY_P256 || key->pub_len != DSUIT_P256_PUB_LEN)
        return DSUIT_E_KEY;
    /* RFC 9053 §2.1: exactly 32 + 32 bytes; r and s must be in [1, n-1]. */
    if (sig_len != DSUIT_SIG_LEN || !p256_scalar_in_range(sig) ||
        !p256_scalar_in_range(sig + 32))
        return DSUIT_E_SIGNATURE;

    ERR_set_mark();
    rc = pkey_from_key(key, 0, &pk);
    if (rc != DSUIT_OK)
        goto out;
    rc = DSUIT_E_CRYPTO;
    if ((es = ECDSA_SIG_new()) == NULL ||
        (r = BN_bin2bn(sig, 32, NULL)) == NULL ||
        (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL ||
        ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* now owned by es */
    der_len = i2d_ECDSA_SIG(es, NULL);
    if (der_len <= 0 || der_len > (int)sizeof der)
        goto out;
    p = der;
    if (i2d_ECDSA_SIG(es, &p) != der_len)
        goto out;
    rc = evp_verify(pk, EVP_sha256(), der, (size_t)der_len, msg, len);
out:
    BN_free(s);
    BN_free(r);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(pk);
    ERR_pop_to_mark();
    return rc;
}

/* ---- Ed25519 ------------------------------------------------------------ */

int dsuit_ed25519_sign(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                       uint8_t sig[DSUIT_SIG_LEN])
{
    EVP_PKEY *pk = NULL;
    EVP_MD_CTX *mctx = NULL;
    uint8_t out[DSUIT_SIG_LEN];
    size_t out_len = sizeof out;
    int rc;

    if (key == NULL || sig == NULL || (msg == NULL && len != 0))
        return DSUIT_E_INVAL;
    if (key->type != DSUIT_KEY_ED25519 || !key->has_private)
        return DSUIT_E_KEY;

    ERR_set_mark();
    rc = pkey_from_key(key, 1, &pk);
    if (rc != DSUIT_OK)
        goto out;
    rc = DSUIT_E_CRYPTO;
    /* Pure Ed25519 is one-shot: no digest, the whole message at once. */
    if ((mctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestSignInit(mctx, NULL, NULL, NULL, pk) != 1 ||
        EVP_DigestSign(mctx, out, &out_len, msg == NULL ? empty_msg : msg,
                       len) != 1 ||
        out_len != sizeof out)
        goto out;
    memcpy(sig, out, sizeof out);
    rc = DSUIT_OK;
out:
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(pk);
    ERR_pop_to_mark();
    dsuit_wipe(out, sizeof out);
    return rc;
}

int dsuit_ed25519_verify(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                         const uint8_t *sig, size_t sig_len)
{
    EVP_PKEY *pk = NULL;
    int rc;

    if (key == NULL || (msg == NULL && len != 0) ||
        (sig == NULL && sig_len != 0))
        return DSUIT_E_INVAL;
    if (key->type != DSUIT_KEY_ED25519 || key->pub_len != DSUIT_ED25519_PUB_LEN)
        return DSUIT_E_KEY;
    if (sig_len != DSUIT_SIG_LEN)
        return DSUIT_E_SIGNATURE;

    ERR_set_mark();
    rc = pkey_from_key(key, 0, &pk);
    if (rc == DSUIT_OK)
        rc = evp_verify(pk, NULL, sig, sig_len, msg, len);
    EVP_PKEY_free(pk);
    ERR_pop_to_mark();
    return rc;
}
