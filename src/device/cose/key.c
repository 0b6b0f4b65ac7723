/*
 * COSE_Key (RFC 9052 §7, RFC 9053 §7.1 and §7.2) for the two public key
 * types dsuit uses for authors, validators and devices, and the key id that
 * names them throughout the system.
 *
 * Deterministic encodings we write (keys ascend bytewise: 01 < 20 < 21 < 22):
 *
 *   EC2 P-256     {1: 2, -1: 1, -2: x (32 B), -3: y (32 B)}   75 bytes
 *                 a4 01 02 20 01 21 58 20 <x> 22 58 20 <y>
 *   OKP Ed25519   {1: 1, -1: 6, -2: x (32 B)}                 40 bytes
 *                 a3 01 01 20 06 21 58 20 <x>
 *
 * Key id = SHA-256 of exactly these bytes. Because the encoding is fixed,
 * the id cannot be changed by re-encoding the same key, and two files that
 * hold the same key always give the same id.
 *
 * Decoding accepts other labels (kid, alg, key_ops, text labels) and
 * ignores them, but refuses a private part (-4): files carrying public keys
 * are shared, and a private scalar in one would leak it.
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"

#define LBL_KTY 1
#define LBL_CRV (-1)
#define LBL_X   (-2)
#define LBL_Y   (-3)
#define LBL_D   (-4)

int dsuit_cose_key_decode(const uint8_t *buf, size_t len, dsuit_key_t *out)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int64_t kty = 0, crv = 0;
    const uint8_t *x = NULL, *y = NULL;
    size_t x_len = 0, y_len = 0;
    uint8_t pub[DSUIT_P256_PUB_LEN];
    int rc;

    if (buf == NULL || out == NULL)
        return DSUIT_E_INVAL;
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_NODUPS);
    rc = dsuit_cbor_get_map(&d, &count);
    if (rc == DSUIT_E_CBOR_TYPE)
        return DSUIT_E_KEY;
    if (rc != DSUIT_OK)
        return rc;

    for (size_t i = 0; i < count; i++) {
        dsuit_cbor_item_t it;
        int64_t label;
        rc = dsuit_cbor_peek(&d, &it);
        if (rc != DSUIT_OK)
            return rc;
        if (it.major != DSUIT_CBOR_UINT && it.major != DSUIT_CBOR_NINT) {
            /* Text labels carry nothing we use: skip label and value. */
            rc = dsuit_cbor_skip(&d, NULL, NULL);
            if (rc == DSUIT_OK)
                rc = dsuit_cbor_skip(&d, NULL, NULL);
            if (rc != DSUIT_OK)
                return rc;
            continue;
        }
        rc = dsuit_cbor_get_int(&d, &label);
        if (rc == DSUIT_E_RANGE) {
            rc = dsuit_cbor_skip(&d, NULL, NULL);
            if (rc == DSUIT_OK)
                rc = dsuit_cbor_skip(&d, NULL, NULL);
            if (rc != DSUIT_OK)
                return rc;
            continue;
        }
        if (rc != DSUIT_OK)
            return rc;
        switch (label) {
        case LBL_KTY:
            rc = dsuit_cbor_get_int(&d, &kty);
            break;
        case LBL_CRV:
            rc = dsuit_cbor_get_int(&d, &crv);
            break;
        case LBL_X:
            rc = dsuit_cbor_get_bstr(&d, &x, &x_len);
            break;
        case LBL_Y:
            /* A bool here is a compressed point, which we do not accept. */
            rc = dsuit_cbor_get_bstr(&d, &y, &y_len);
            break;
        case LBL_D:
            return DSUIT_E_KEY;
        default:
            rc = dsuit_cbor_skip(&d, NULL, NULL);
            break;
        }
        if (rc == DSUIT_E_CBOR_TYPE || rc == DSUIT_E_RANGE)
            return DSUIT_E_KEY;
        if (rc != DSUIT_OK)
            return rc;
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_CBOR_TRAILING;

    if (kty == DSUIT_COSE_KTY_EC2) {
        if (crv != DSUIT_COSE_CRV_P256 || x == NULL || y == NULL ||
            x_len != 32 || y_len != 32)
            return DSUIT_E_KEY;
        memcpy(pub, x, 32);
        memcpy(pub + 32, y, 32);
        return dsuit_key_set_public(out, DSUIT_KEY_P256, pub, sizeof pub);
    }
    if (kty == DSUIT_COSE_KTY_OKP) {
        if (crv != DSUIT_COSE_CRV_ED25519 || x == NULL || y != NULL ||
            x_len != DSUIT_ED25519_PUB_LEN)
            return DSUIT_E_KEY;
        return dsuit_key_set_public(out, DSUIT_KEY_ED25519, x, x_len);
    }
    return DSUIT_E_KEY;
}

int dsuit_cose_key_encode(const dsuit_key_t *key, uint8_t *out,
                          size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;

    if (key == NULL || out_len == NULL)
        return DSUIT_E_INVAL;
    dsuit_cbor_enc_init(&e, out, out_cap);
    if (key->type == DSUIT_KEY_P256 && key->pub_len == DSUIT_P256_PUB_LEN) {
        dsuit_cbor_put_map(&e, 4);
        dsuit_cbor_put_int(&e, LBL_KTY);
        dsuit_cbor_put_int(&e, DSUIT_COSE_KTY_EC2);
        dsuit_cbor_put_int(&e, LBL_CRV);
        dsuit_cbor_put_int(&e, DSUIT_COSE_CRV_P256);
        dsuit_cbor_put_int(&e, LBL_X);
        dsuit_cbor_put_bstr(&e, key->pub, 32);
        dsuit_cbor_put_int(&e, LBL_Y);
        dsuit_cbor_put_bstr(&e, key->pub + 32, 32);
    } else if (key->type == DSUIT_KEY_ED25519 &&
               key->pub_len == DSUIT_ED25519_PUB_LEN) {
        dsuit_cbor_put_map(&e, 3);
        dsuit_cbor_put_int(&e, LBL_KTY);
        dsuit_cbor_put_int(&e, DSUIT_COSE_KTY_OKP);
        dsuit_cbor_put_int(&e, LBL_CRV);
        dsuit_cbor_put_int(&e, DSUIT_COSE_CRV_ED25519);
        dsuit_cbor_put_int(&e, LBL_X);
        dsuit_cbor_put_bstr(&e, key->pub, DSUIT_ED25519_PUB_LEN);
    } else {
        return DSUIT_E_KEY;
    }
    return dsuit_cbor_enc_finish(&e, out_len);
}

int dsuit_cose_key_id(const dsuit_key_t *key, uint8_t out[DSUIT_SHA256_LEN])
{
    uint8_t enc[DSUIT_COSE_KEY_MAX];
    size_t len;
    int rc = dsuit_cose_key_encode(key, enc, sizeof enc, &len);
    if (rc != DSUIT_OK)
        return rc;
    return dsuit_sha256(enc, len, out);
}
