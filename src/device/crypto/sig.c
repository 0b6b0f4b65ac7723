/*
 * One entry point for signing and verifying with either signature key type
 * (P-256 or Ed25519), for formats that let the signer choose (ledger
 * transactions, blocks, certificates). Backend-independent: dispatches to
 * the backend's per-algorithm functions.
 */
#include "dsuit/crypto.h"

int dsuit_sig_sign(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                   uint8_t sig[DSUIT_SIG_LEN])
{
    if (key == NULL || !key->has_private)
        return DSUIT_E_KEY;
    switch (key->type) {
    case DSUIT_KEY_P256:
        return dsuit_p256_sign(key, msg, len, sig);
    case DSUIT_KEY_ED25519:
        return dsuit_ed25519_sign(key, msg, len, sig);
    default:
        return DSUIT_E_KEY;
    }
}

int dsuit_sig_verify(const dsuit_key_t *key, const uint8_t *msg, size_t len,
                     const uint8_t *sig, size_t sig_len)
{
    if (key == NULL)
        return DSUIT_E_KEY;
    switch (key->type) {
    case DSUIT_KEY_P256:
        return dsuit_p256_verify(key, msg, len, sig, sig_len);
    case DSUIT_KEY_ED25519:
        return dsuit_ed25519_verify(key, msg, len, sig, sig_len);
    default:
        return DSUIT_E_KEY;
    }
}
