/*
 * Request tokens for the device service over HTTP (device_token.h).
 */
#include "node/device_token.h"

#include <stdio.h>
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/error.h"

#define TOKEN_MAX   (3 * DSUIT_TOKEN_TEXT_MAX / 4) /* decoded bytes */
#define CLAIMS_MAX  400
#define SCRATCH_MAX 600
static const char mac_label[] = "dsuit-http-token-v1";
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The MAC key of a PSK: HMAC-SHA256(psk, label), 32 bytes as HMAC 256/256
 * wants whatever the PSK's length. */
static int mac_key(const uint8_t *psk, size_t psk_len, dsuit_key_t *out)
{
    uint8_t k[DSUIT_SHA256_LEN];
    int rc = dsuit_hmac_sha256(psk, psk_len, mac_label, sizeof mac_label - 1,
                               k);
    memset(out, 0, sizeof *out);
    if (rc == DSUIT_OK)
        rc = dsuit_key_set_symmetric(out, k, sizeof k);
    dsuit_wipe(k, sizeof k);
    return rc;
}

static int b64_encode(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    if ((n * 4 + 2) / 3 + 1 > cap)
        return DSUIT_E_LIMIT;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        out[k++] = b64[(v >> 18) & 63];
        out[k++] = b64[(v >> 12) & 63];
        if (left > 1)
            out[k++] = b64[(v >> 6) & 63];
        if (left > 2)
            out[k++] = b64[v & 63];
    }
    out[k] = '\0';
    return DSUIT_OK;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

static int b64_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s), k = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (n % 4 == 1)
        return DSUIT_E_INVAL;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(s[i]);
        if (v < 0)
            return DSUIT_E_INVAL;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k == cap)
                return DSUIT_E_LIMIT;
            out[k++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits */
        return DSUIT_E_INVAL;
    *len = k;
    return DSUIT_OK;
}

int dsuit_token_make(const char *psk_id, const uint8_t *psk, size_t psk_len,
                     const uint8_t *device_id, const dsuit_key_t *key,
                     const char *node, const char *method, const char *path,
                     uint64_t now_ms, char *out, size_t out_cap)
{
    uint8_t claims[CLAIMS_MAX], nonce[16], scratch[SCRATCH_MAX],
        msg[TOKEN_MAX];
    char req[DSUIT_TOKEN_REQ_MAX];
    dsuit_cbor_enc_t e;
    dsuit_cose_opts_t o;
    dsuit_key_t k;
    size_t cl, ml;
    int rc;

    if ((psk_id == NULL) == (device_id == NULL) || node == NULL ||
        method == NULL || path == NULL || (psk_id && (psk == NULL || !psk_len)) ||
        (device_id && key == NULL))
        return DSUIT_E_INVAL;
    if ((size_t)snprintf(req, sizeof req, "%s %s", method, path) >= sizeof req)
        return DSUIT_E_LIMIT;
    rc = dsuit_random(nonce, sizeof nonce);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_enc_init(&e, claims, sizeof claims);
    dsuit_cbor_put_map(&e, 5);
    dsuit_cbor_put_uint(&e, 1);
    if (psk_id != NULL)
        dsuit_cbor_put_tstr(&e, psk_id, strlen(psk_id));
    else
        dsuit_cbor_put_bstr(&e, device_id, 16);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_tstr(&e, node, strlen(node));
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_uint(&e, now_ms);
    dsuit_cbor_put_uint(&e, 4);
    dsuit_cbor_put_bstr(&e, nonce, sizeof nonce);
    dsuit_cbor_put_uint(&e, 5);
    dsuit_cbor_put_tstr(&e, req, strlen(req));
    rc = dsuit_cbor_enc_finish(&e, &cl);
    if (rc != DSUIT_OK)
        return rc;
    memset(&o, 0, sizeof o);
    o.tagged = 1; /* 17 or 18: what kind it is, before any key is known */
    if (psk_id != NULL) {
        rc = mac_key(psk, psk_len, &k);
        o.kind = DSUIT_COSE_MAC0;
        o.alg = DSUIT_COSE_ALG_HMAC256;
    } else {
        k = *key;
        o.kind = DSUIT_COSE_SIGN1;
        o.alg = key->type == DSUIT_KEY_P256 ? DSUIT_COSE_ALG_ES256
                                            : DSUIT_COSE_ALG_EDDSA;
    }
    if (rc == DSUIT_OK)
        rc = dsuit_cose_create(&o, &k, claims, cl, NULL, 0, scratch,
                               sizeof scratch, msg, sizeof msg, &ml);
    dsuit_key_wipe(&k);
    if (rc == DSUIT_OK)
        rc = b64_encode(msg, ml, out, out_cap);
    return rc;
}

static int claims_decode(const uint8_t *p, size_t len, dsuit_token_claims_t *c)
{
    dsuit_cbor_dec_t d;
    dsuit_cbor_item_t it;
    size_t n, l;
    const uint8_t *b;
    int rc;
    memset(c, 0, sizeof *c);
    dsuit_cbor_dec_init(&d, p, len, DSUIT_CBOR_STRICT);
    rc = dsuit_cbor_get_map(&d, &n);
    if (rc == DSUIT_OK && n != 5)
        rc = DSUIT_E_INVAL;
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_expect_uint(&d, 1);
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_peek(&d, &it);
    if (rc == DSUIT_OK) {
        if (it.major == 3) {
            c->is_psk = 1;
            rc = dsuit_cbor_get_tstr(&d, &c->psk_id, &c->psk_id_len);
        } else {
            rc = dsuit_cbor_get_bstr(&d, &b, &l);
            if (rc == DSUIT_OK && l != 16)
                rc = DSUIT_E_INVAL;
            c->device_id = b;
        }
    }
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_expect_uint(&d, 2);
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_get_tstr(&d, &c->node, &c->node_len);
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_expect_uint(&d, 3);
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_get_uint(&d, &c->time_ms);
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_expect_uint(&d, 4);
    if (rc == DSUIT_OK) {
        rc = dsuit_cbor_get_bstr(&d, &c->nonce, &l);
        if (rc == DSUIT_OK && l != 16)
            rc = DSUIT_E_INVAL;
    }
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_expect_uint(&d, 5);
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_get_tstr(&d, &c->request, &c->request_len);
    if (rc == DSUIT_OK && dsuit_cbor_remaining(&d) != 0)
        rc = DSUIT_E_INVAL;
    return rc;
}

int dsuit_token_parse(const char *text, uint8_t *buf, size_t buf_cap,
                      size_t *buf_len, dsuit_token_claims_t *out)
{
    dsuit_cose_msg_t m;
    size_t n = 0;
    int rc;
    if (text == NULL || strlen(text) >= DSUIT_TOKEN_TEXT_MAX)
        return DSUIT_E_INVAL;
    dsuit_token_claims_t c;
    rc = b64_decode(text, buf, buf_cap, &n);
    if (rc == DSUIT_OK)
        rc = dsuit_cose_parse(buf, n, DSUIT_COSE_ANY, &m);
    /* Tokens are tagged: the tag, not a guess, says Mac0 or Sign1. */
    if (rc == DSUIT_OK && (m.payload == NULL || !m.tagged))
        rc = DSUIT_E_INVAL;
    if (rc == DSUIT_OK)
        rc = claims_decode(m.payload, m.payload_len, &c);
    if (rc == DSUIT_OK) {
        *out = c;
        *buf_len = n;
    }
    return rc;
}

int dsuit_token_verify(const uint8_t *buf, size_t len, const uint8_t *psk,
                       size_t psk_len, const dsuit_key_t *key)
{
    dsuit_cose_msg_t m;
    dsuit_key_t k;
    uint8_t scratch[SCRATCH_MAX];
    int rc = dsuit_cose_parse(buf, len, DSUIT_COSE_ANY, &m);
    if (rc != DSUIT_OK)
        return rc;
    if (!m.tagged)
        return DSUIT_E_INVAL;
    if (psk != NULL) {
        if (m.kind != DSUIT_COSE_MAC0)
            return DSUIT_E_ALG;
        rc = mac_key(psk, psk_len, &k);
    } else if (key != NULL) {
        if (m.kind != DSUIT_COSE_SIGN1)
            return DSUIT_E_ALG;
        k = *key;
    } else {
        return DSUIT_E_INVAL;
    }
    if (rc == DSUIT_OK)
        rc = dsuit_cose_verify(&m, &k, NULL, 0, NULL, 0, scratch,
                               sizeof scratch);
    dsuit_key_wipe(&k);
    return rc;
}
