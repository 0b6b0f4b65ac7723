/*
 * Request tokens for the device service over HTTP (`/v1/device/...`,
 * docs/protocols.md, "HTTP: devices"): what DTLS does for CoAP, a token in
 * the Authorization header does for HTTP. Node side (the node checks
 * tokens; `dsuit device token`, tests and benchmarks make them).
 *
 *     Authorization: DSUIT <base64url of the token, no padding>
 *
 * The token is a COSE message whose payload is the claims map
 *
 *     { 1: device,   tstr (a PSK identity) or bstr .size 16 (a registered
 *                    device id)
 *       2: node,     tstr, the validator name the request goes to
 *       3: time,     uint, Unix milliseconds when it was made
 *       4: nonce,    bstr .size 16, random
 *       5: request,  tstr, "METHOD PATH" (path without the query) }
 *
 * A PSK device MACs it (tagged COSE_Mac0, HMAC 256/256) with the key
 * HMAC-SHA256(psk, "dsuit-http-token-v1"); a registered device signs it
 * (tagged COSE_Sign1, ES256 or EdDSA) with its private key. A node accepts a token
 * for itself, for this very request, at most DSUIT_TOKEN_SKEW_MS from its
 * own clock, and only once: it keeps the nonces it has seen until they
 * are too old to be accepted anyway (replay protection).
 */
#ifndef DSUIT_NODE_DEVICE_TOKEN_H
#define DSUIT_NODE_DEVICE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"

#define DSUIT_TOKEN_SKEW_MS  60000u /* accepted clock difference */
#define DSUIT_TOKEN_TEXT_MAX 1024   /* base64url text, with the NUL */
#define DSUIT_TOKEN_REQ_MAX  256    /* "METHOD PATH" */

/* What a token claims, once decoded (pointers into the token). */
typedef struct {
    int is_psk;
    const char *psk_id; /* is_psk */
    size_t psk_id_len;
    const uint8_t *device_id; /* !is_psk, 16 bytes */
    const char *node;
    size_t node_len;
    uint64_t time_ms;
    const uint8_t *nonce; /* 16 bytes */
    const char *request;
    size_t request_len;
} dsuit_token_claims_t;

/**
 * Make a token for a PSK device (psk_id) or a registered device
 * (device_id + key, a private P-256 or Ed25519 key): exactly one of the
 * two. Writes the base64url text, NUL-terminated.
 * Errors: DSUIT_E_INVAL (arguments), DSUIT_E_LIMIT (out too small, request
 * too long), DSUIT_E_CRYPTO.
 */
int dsuit_token_make(const char *psk_id, const uint8_t *psk, size_t psk_len,
                     const uint8_t *device_id, const dsuit_key_t *key,
                     const char *node, const char *method, const char *path,
                     uint64_t now_ms, char *out, size_t out_cap);

/**
 * Decode the base64url text into buf (at least DSUIT_TOKEN_TEXT_MAX bytes)
 * and parse the COSE message and its claims, without checking the MAC or
 * signature (the caller looks the key up by the claimed device first).
 * Errors: DSUIT_E_INVAL (not a token), COSE and CBOR errors.
 */
int dsuit_token_parse(const char *text, uint8_t *buf, size_t buf_cap,
                      size_t *buf_len, dsuit_token_claims_t *out);

/**
 * Check the MAC (psk) or signature (key, the device's public key) of a
 * token parsed into buf. Errors: DSUIT_E_MAC, DSUIT_E_SIGNATURE,
 * DSUIT_E_ALG (the algorithm does not fit the credential).
 */
int dsuit_token_verify(const uint8_t *buf, size_t len, const uint8_t *psk,
                       size_t psk_len, const dsuit_key_t *key);

#endif /* DSUIT_NODE_DEVICE_TOKEN_H */
