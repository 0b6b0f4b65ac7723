/*
 * Commit certificates: encode, decode, and the verification a device runs
 * before it believes anything the ledger says (docs/formats/ledger.md,
 * "Commit certificate").
 *
 *   Cert = { 1: height uint, 2: block-hash bstr(32),
 *            3: [+ [index uint, sig bstr]] }      indices strictly ascend
 *
 * Why the rules: ascending, unique indices make "distinct validators"
 * checkable in one pass with no table; the quorum must be a strict majority
 * (normally floor(2n/3)+1) so that two certificates for different blocks at
 * one height need at least one validator to have signed both, which is
 * evidence against it; a quorum of 0 or 1 set by mistake is refused rather
 * than silently accepting a single signature.
 *
 * Device-safe: no allocation, no recursion; the vote message is built on
 * the stack (77 bytes).
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/cert.h"

#define CTX_LEN 13 /* strlen(DSUIT_CERT_CONTEXT) */
#define MSG_LEN (CTX_LEN + 32 + 32)

static void vote_message(const uint8_t chain[32], const uint8_t hash[32],
                         uint8_t out[MSG_LEN])
{
    memcpy(out, DSUIT_CERT_CONTEXT, CTX_LEN);
    memcpy(out + CTX_LEN, chain, 32);
    memcpy(out + CTX_LEN + 32, hash, 32);
}

int dsuit_cert_vote(const dsuit_key_t *key, const uint8_t chain[32],
                    const uint8_t block_hash[32], uint8_t sig[DSUIT_SIG_LEN])
{
    uint8_t msg[MSG_LEN];
    if (chain == NULL || block_hash == NULL || sig == NULL)
        return DSUIT_E_INVAL;
    vote_message(chain, block_hash, msg);
    return dsuit_sig_sign(key, msg, sizeof msg, sig);
}

int dsuit_cert_vote_verify(const dsuit_key_t *key, const uint8_t chain[32],
                           const uint8_t block_hash[32], const uint8_t *sig,
                           size_t sig_len)
{
    uint8_t msg[MSG_LEN];
    if (chain == NULL || block_hash == NULL || sig == NULL)
        return DSUIT_E_INVAL;
    vote_message(chain, block_hash, msg);
    return dsuit_sig_verify(key, msg, sizeof msg, sig, sig_len) == DSUIT_OK
               ? DSUIT_OK
               : DSUIT_E_SIGNATURE;
}

/* Read the next [index, sig] entry. */
static int next_vote(dsuit_cbor_dec_t *d, uint64_t *index, const uint8_t **sig,
                     size_t *sig_len)
{
    size_t n;
    if (dsuit_cbor_get_array(d, &n) != DSUIT_OK || n != 2 ||
        dsuit_cbor_get_uint(d, index) != DSUIT_OK ||
        dsuit_cbor_get_bstr(d, sig, sig_len) != DSUIT_OK || *sig_len == 0)
        return DSUIT_E_INVAL;
    return DSUIT_OK;
}

int dsuit_cert_decode(const uint8_t *buf, size_t len, dsuit_cert_t *out)
{
    const unsigned flags = DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED;
    dsuit_cert_t c;
    dsuit_cbor_dec_t d;
    size_t n, hlen;
    int rc;

    if (buf == NULL || out == NULL)
        return DSUIT_E_INVAL;
    rc = dsuit_cbor_check(buf, len, flags, 4);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_dec_init(&d, buf, len, flags);
    if (dsuit_cbor_get_map(&d, &n) != DSUIT_OK || n != 3 ||
        dsuit_cbor_expect_uint(&d, 1) ||
        dsuit_cbor_get_uint(&d, &c.height) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 2) ||
        dsuit_cbor_get_bstr(&d, &c.block_hash, &hlen) != DSUIT_OK ||
        hlen != 32 || dsuit_cbor_expect_uint(&d, 3) ||
        dsuit_cbor_get_array(&d, &c.n_sigs) != DSUIT_OK || c.n_sigs == 0)
        return DSUIT_E_INVAL;
    if (c.n_sigs > DSUIT_CERT_MAX_SIGS)
        return DSUIT_E_LIMIT;
    c.sigs = d.buf + d.pos;
    {
        uint64_t last = 0;
        for (size_t i = 0; i < c.n_sigs; i++) {
            uint64_t idx;
            const uint8_t *sig;
            size_t sig_len;
            rc = next_vote(&d, &idx, &sig, &sig_len);
            if (rc != DSUIT_OK)
                return rc;
            if (i > 0 && idx <= last)
                return DSUIT_E_INVAL; /* not ascending, or a repeat */
            last = idx;
        }
    }
    c.sigs_len = (size_t)(d.buf + d.pos - c.sigs);
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_INVAL;
    *out = c;
    return DSUIT_OK;
}

int dsuit_cert_verify(const dsuit_cert_t *cert, const dsuit_trust_t *trust,
                      size_t *out_valid)
{
    dsuit_cbor_dec_t d;
    size_t valid = 0;
    uint64_t last = 0;
    int result = DSUIT_E_SIGNATURE;

    if (cert == NULL || trust == NULL || trust->chain == NULL ||
        trust->validators == NULL || trust->n_validators == 0 ||
        trust->n_validators > DSUIT_CERT_MAX_SIGS)
        return DSUIT_E_INVAL;
    /* A quorum that is not a strict majority would let two disjoint
     * groups certify conflicting blocks. */
    if (trust->quorum < trust->n_validators / 2 + 1 ||
        trust->quorum > trust->n_validators)
        return DSUIT_E_INVAL;

    dsuit_cbor_dec_init(&d, cert->sigs, cert->sigs_len,
                        DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED);
    for (size_t i = 0; i < cert->n_sigs; i++) {
        uint64_t idx;
        const uint8_t *sig;
        size_t sig_len;
        if (next_vote(&d, &idx, &sig, &sig_len) != DSUIT_OK)
            return DSUIT_E_INVAL;
        /* Distinct validators: decode enforced ascending order, checked
         * again here since a caller may build the struct by hand. */
        if (i > 0 && idx <= last)
            return DSUIT_E_INVAL;
        last = idx;
        if (idx >= trust->n_validators)
            return DSUIT_E_INVAL;
        if (dsuit_cert_vote_verify(&trust->validators[idx], trust->chain,
                                   cert->block_hash, sig, sig_len) == DSUIT_OK)
            valid++;
    }
    if (valid >= trust->quorum)
        result = DSUIT_OK;
    if (out_valid != NULL)
        *out_valid = valid;
    return result;
}

int dsuit_cert_encode(uint64_t height, const uint8_t block_hash[32],
                      const uint64_t *indices,
                      const uint8_t (*sigs)[DSUIT_SIG_LEN], size_t n,
                      uint8_t *out, size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    if (block_hash == NULL || out_len == NULL || n == 0 || indices == NULL ||
        sigs == NULL)
        return DSUIT_E_INVAL;
    if (n > DSUIT_CERT_MAX_SIGS)
        return DSUIT_E_LIMIT;
    for (size_t i = 1; i < n; i++) {
        if (indices[i] <= indices[i - 1])
            return DSUIT_E_INVAL;
    }
    dsuit_cbor_enc_init(&e, out, out_cap);
    dsuit_cbor_put_map(&e, 3);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, height);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_bstr(&e, block_hash, 32);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++) {
        dsuit_cbor_put_array(&e, 2);
        dsuit_cbor_put_uint(&e, indices[i]);
        dsuit_cbor_put_bstr(&e, sigs[i], DSUIT_SIG_LEN);
    }
    return dsuit_cbor_enc_finish(&e, out_len);
}
