/*
 * HMAC-SHA256 (RFC 2104, with the SHA-256 parameters of RFC 4231), built on
 * the dsuit_sha256_* functions of whichever crypto backend the build uses, so
 * it is the same code on hosts and devices.
 *
 * It authenticates MAC'd SUIT manifests (COSE_Mac0 with HMAC 256/256) and
 * drives the HMAC-DRBG that derives deterministic ECDSA nonces (RFC 6979
 * §3.2) in the OpenSSL backend.
 *
 * The context is caller-owned and allocation-free: the inner hash state
 * already keyed with K ^ ipad, and the block K ^ opad kept for the outer
 * hash. Both are derived from the key, so every path out of _final() (and of
 * the one-shot function) wipes them, as it wipes the padded key on the stack.
 * Stack use: under 400 bytes.
 */
#include <string.h>

#include "dsuit/crypto.h"

#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c

int dsuit_hmac_sha256_init(dsuit_hmac_sha256_ctx_t *ctx, const uint8_t *key,
                           size_t key_len)
{
    uint8_t k0[DSUIT_SHA256_BLOCK];
    uint8_t ipad_key[DSUIT_SHA256_BLOCK];
    int rc;

    if (ctx == NULL || (key == NULL && key_len != 0))
        return DSUIT_E_INVAL;

    /* RFC 2104 §2: a key longer than the block is replaced by its hash; a
     * shorter one is padded with zeros to the block size. */
    memset(k0, 0, sizeof k0);
    if (key_len > DSUIT_SHA256_BLOCK) {
        rc = dsuit_sha256(key, key_len, k0);
        if (rc != DSUIT_OK)
            goto out;
    } else if (key_len > 0) {
        memcpy(k0, key, key_len);
    }

    for (size_t i = 0; i < DSUIT_SHA256_BLOCK; i++) {
        ipad_key[i] = (uint8_t)(k0[i] ^ HMAC_IPAD);
        ctx->opad_key[i] = (uint8_t)(k0[i] ^ HMAC_OPAD);
    }
    rc = dsuit_sha256_init(&ctx->inner);
    if (rc == DSUIT_OK)
        rc = dsuit_sha256_update(&ctx->inner, ipad_key, sizeof ipad_key);

out:
    if (rc != DSUIT_OK)
        dsuit_wipe(ctx, sizeof *ctx);
    dsuit_wipe(k0, sizeof k0);
    dsuit_wipe(ipad_key, sizeof ipad_key);
    return rc;
}

int dsuit_hmac_sha256_update(dsuit_hmac_sha256_ctx_t *ctx, const void *p,
                             size_t len)
{
    if (ctx == NULL || (p == NULL && len != 0))
        return DSUIT_E_INVAL;
    return dsuit_sha256_update(&ctx->inner, p, len);
}

int dsuit_hmac_sha256_final(dsuit_hmac_sha256_ctx_t *ctx,
                            uint8_t out[DSUIT_SHA256_LEN])
{
    uint8_t inner_hash[DSUIT_SHA256_LEN];
    uint8_t tag[DSUIT_SHA256_LEN];
    dsuit_sha256_ctx_t outer;
    int rc;

    if (ctx == NULL)
        return DSUIT_E_INVAL;
    if (out == NULL) {
        rc = DSUIT_E_INVAL;
        goto out;
    }

    /* H((K ^ opad) || H((K ^ ipad) || text)) */
    rc = dsuit_sha256_final(&ctx->inner, inner_hash);
    if (rc != DSUIT_OK)
        goto out;
    rc = dsuit_sha256_init(&outer);
    if (rc == DSUIT_OK)
        rc = dsuit_sha256_update(&outer, ctx->opad_key, DSUIT_SHA256_BLOCK);
    if (rc == DSUIT_OK)
        rc = dsuit_sha256_update(&outer, inner_hash, sizeof inner_hash);
    if (rc == DSUIT_OK)
        rc = dsuit_sha256_final(&outer, tag);
    if (rc == DSUIT_OK)
        memcpy(out, tag, sizeof tag);

out:
    dsuit_wipe(ctx, sizeof *ctx);
    dsuit_wipe(&outer, sizeof outer);
    dsuit_wipe(inner_hash, sizeof inner_hash);
    dsuit_wipe(tag, sizeof tag);
    return rc;
}

int dsuit_hmac_sha256(const uint8_t *key, size_t key_len, const void *p,
                      size_t len, uint8_t out[DSUIT_SHA256_LEN])
{
    dsuit_hmac_sha256_ctx_t ctx;
    int rc;

    if (out == NULL || (p == NULL && len != 0))
        return DSUIT_E_INVAL;
    rc = dsuit_hmac_sha256_init(&ctx, key, key_len);
    if (rc != DSUIT_OK)
        return rc; /* init wiped ctx */
    rc = dsuit_hmac_sha256_update(&ctx, p, len);
    if (rc != DSUIT_OK) {
        dsuit_wipe(&ctx, sizeof ctx);
        return rc;
    }
    return dsuit_hmac_sha256_final(&ctx, out); /* wipes ctx */
}
