/*
 * COSE_Sign1 and COSE_Mac0 (RFC 9052 §4.2, §6.2): parse, build the
 * to-be-signed structure, verify, create. SUIT authenticates every manifest
 * with one of these (draft-ietf-suit-manifest §8.3), with the bstr-wrapped
 * SUIT_Digest as detached payload.
 *
 * Wire format (both kinds; the tag is optional):
 *
 *   18(                          / 17( for COSE_Mac0
 *     [ protected   : bstr .cbor header_map  (may be h'' = no headers)
 *       unprotected : header_map
 *       payload     : bstr / nil             (nil = detached)
 *       signature   : bstr ] )               (tag, for COSE_Mac0)
 *
 *   to be signed:  ["Signature1", protected, external_aad, payload]
 *   to be MACed:   ["MAC0",       protected, external_aad, payload]
 *
 * Security rules enforced here: the algorithm comes from the protected
 * header only (an unprotected alg could be changed by anyone in transit);
 * a crit header is refused (we understand no critical extensions); a label
 * may not appear twice in a bucket or in both buckets (alg, kid); the
 * algorithm must fit both the message kind and the key's type, so a P-256
 * key can never be used for HMAC or the other way round. Verification
 * fails closed: the result starts as failure and is set to success only on
 * the last line of the fully checked path.
 *
 * Device-safe: no allocation; the caller supplies scratch for the
 * to-be-signed bytes.
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"

const char *dsuit_cose_alg_name(int64_t alg)
{
    switch (alg) {
    case DSUIT_COSE_ALG_ES256:
        return "ES256";
    case DSUIT_COSE_ALG_ESP256:
        return "ESP256";
    case DSUIT_COSE_ALG_EDDSA:
        return "EdDSA";
    case DSUIT_COSE_ALG_ED25519:
        return "Ed25519";
    case DSUIT_COSE_ALG_HMAC256:
        return "HMAC256";
    default:
        return NULL;
    }
}

dsuit_key_type_t dsuit_cose_alg_key_type(int64_t alg)
{
    switch (alg) {
    case DSUIT_COSE_ALG_ES256:
    case DSUIT_COSE_ALG_ESP256:
        return DSUIT_KEY_P256;
    case DSUIT_COSE_ALG_EDDSA:
    case DSUIT_COSE_ALG_ED25519:
        return DSUIT_KEY_ED25519;
    case DSUIT_COSE_ALG_HMAC256:
        return DSUIT_KEY_SYMMETRIC;
    default:
        return DSUIT_KEY_NONE;
    }
}

/* The kind of message an algorithm belongs to. */
static dsuit_cose_kind_t alg_kind(int64_t alg)
{
    switch (dsuit_cose_alg_key_type(alg)) {
    case DSUIT_KEY_P256:
    case DSUIT_KEY_ED25519:
        return DSUIT_COSE_SIGN1;
    case DSUIT_KEY_SYMMETRIC:
        return DSUIT_COSE_MAC0;
    default:
        return DSUIT_COSE_ANY;
    }
}

/* A CBOR type mismatch or a repeated header label inside a COSE structure
 * is a malformed COSE structure; other decode errors keep their own code. */
static int as_cose(int rc)
{
    return rc == DSUIT_E_CBOR_TYPE || rc == DSUIT_E_CBOR_DUPKEY ? DSUIT_E_COSE
                                                                : rc;
}

/* Read a header label: an int, or a text string (returned as *is_text). */
static int read_label(dsuit_cbor_dec_t *d, int64_t *out_label, int *is_text)
{
    dsuit_cbor_item_t it;
    int rc = dsuit_cbor_peek(d, &it);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major == DSUIT_CBOR_TSTR) {
        *is_text = 1;
        *out_label = 0;
        return dsuit_cbor_skip(d, NULL, NULL);
    }
    *is_text = 0;
    rc = dsuit_cbor_get_int(d, out_label);
    if (rc == DSUIT_E_RANGE)
        return DSUIT_E_COSE;
    return as_cose(rc);
}

/* Walk one header map. `prot` tells which bucket it is. */
static int parse_headers(dsuit_cbor_dec_t *d, int prot, int *have_alg,
                         dsuit_cose_msg_t *m)
{
    size_t count;
    int rc = as_cose(dsuit_cbor_get_map(d, &count));
    if (rc != DSUIT_OK)
        return rc;
    for (size_t i = 0; i < count; i++) {
        int64_t label;
        int is_text;
        rc = read_label(d, &label, &is_text);
        if (rc != DSUIT_OK)
            return rc;
        if (is_text) {
            rc = dsuit_cbor_skip(d, NULL, NULL);
        } else if (label == DSUIT_COSE_HDR_ALG) {
            /* An unprotected alg is refused outright, so a man in the
             * middle cannot steer which algorithm we run. */
            if (!prot)
                return DSUIT_E_ALG;
            rc = dsuit_cbor_get_int(d, &m->alg);
            if (rc == DSUIT_E_CBOR_TYPE || rc == DSUIT_E_RANGE)
                return DSUIT_E_ALG; /* text-string or huge algorithm ids */
            *have_alg = 1;
        } else if (label == DSUIT_COSE_HDR_CRIT) {
            return DSUIT_E_ALG;
        } else if (label == DSUIT_COSE_HDR_KID) {
            if (m->kid != NULL)
                return DSUIT_E_COSE; /* kid in both buckets */
            rc = as_cose(dsuit_cbor_get_bstr(d, &m->kid, &m->kid_len));
        } else {
            rc = dsuit_cbor_skip(d, NULL, NULL);
        }
        if (rc != DSUIT_OK)
            return rc;
    }
    return DSUIT_OK;
}

int dsuit_cose_parse(const uint8_t *buf, size_t len, dsuit_cose_kind_t kind,
                     dsuit_cose_msg_t *out)
{
    dsuit_cose_msg_t m;
    dsuit_cbor_dec_t d;
    dsuit_cbor_item_t it;
    size_t count;
    int have_alg = 0;
    int rc;

    if (buf == NULL || out == NULL)
        return DSUIT_E_INVAL;
    memset(&m, 0, sizeof m);
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_NODUPS);

    rc = dsuit_cbor_peek(&d, &it);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major == DSUIT_CBOR_TAG) {
        uint64_t tag;
        rc = dsuit_cbor_get_tag(&d, &tag);
        if (rc != DSUIT_OK)
            return rc;
        if (tag == DSUIT_COSE_TAG_SIGN1)
            m.kind = DSUIT_COSE_SIGN1;
        else if (tag == DSUIT_COSE_TAG_MAC0)
            m.kind = DSUIT_COSE_MAC0;
        else
            return DSUIT_E_COSE;
        if (kind != DSUIT_COSE_ANY && kind != m.kind)
            return DSUIT_E_COSE;
        m.tagged = 1;
    } else {
        m.kind = kind == DSUIT_COSE_ANY ? DSUIT_COSE_SIGN1 : kind;
    }

    rc = as_cose(dsuit_cbor_get_array(&d, &count));
    if (rc != DSUIT_OK)
        return rc;
    if (count != 4)
        return DSUIT_E_COSE;

    /* protected: a bstr holding one header map, or empty. */
    rc = as_cose(dsuit_cbor_get_bstr(&d, &m.protected_hdr, &m.protected_len));
    if (rc != DSUIT_OK)
        return rc;
    if (m.protected_len > DSUIT_COSE_MAX_PROTECTED)
        return DSUIT_E_LIMIT;
    if (m.protected_len > 0) {
        dsuit_cbor_dec_t ph;
        dsuit_cbor_dec_init(&ph, m.protected_hdr, m.protected_len,
                            DSUIT_CBOR_NODUPS);
        rc = parse_headers(&ph, 1, &have_alg, &m);
        if (rc != DSUIT_OK)
            return rc;
        if (dsuit_cbor_remaining(&ph) != 0)
            return DSUIT_E_COSE;
    }

    rc = parse_headers(&d, 0, &have_alg, &m);
    if (rc != DSUIT_OK)
        return rc;

    /* payload: bstr, or nil when detached. */
    rc = dsuit_cbor_peek(&d, &it);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major == DSUIT_CBOR_SIMPLE && it.ai == DSUIT_CBOR_NULL) {
        rc = dsuit_cbor_get_null(&d);
        m.payload = NULL;
        m.payload_len = 0;
    } else {
        rc = as_cose(dsuit_cbor_get_bstr(&d, &m.payload, &m.payload_len));
    }
    if (rc != DSUIT_OK)
        return rc;

    rc = as_cose(dsuit_cbor_get_bstr(&d, &m.sig, &m.sig_len));
    if (rc != DSUIT_OK)
        return rc;
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_CBOR_TRAILING;

    if (!have_alg || alg_kind(m.alg) == DSUIT_COSE_ANY)
        return DSUIT_E_ALG;
    if (alg_kind(m.alg) != m.kind)
        return DSUIT_E_ALG; /* e.g. HMAC inside a COSE_Sign1 */

    *out = m;
    return DSUIT_OK;
}

int dsuit_cose_tbs(dsuit_cose_kind_t kind, const uint8_t *protected_hdr,
                   size_t protected_len, const uint8_t *aad, size_t aad_len,
                   const uint8_t *payload, size_t payload_len, uint8_t *out,
                   size_t out_cap, size_t *out_len)
{
    const char *context;
    dsuit_cbor_enc_t e;

    if (kind == DSUIT_COSE_SIGN1)
        context = "Signature1";
    else if (kind == DSUIT_COSE_MAC0)
        context = "MAC0";
    else
        return DSUIT_E_INVAL;
    if ((protected_hdr == NULL && protected_len != 0) ||
        (aad == NULL && aad_len != 0) ||
        (payload == NULL && payload_len != 0) || out_len == NULL)
        return DSUIT_E_INVAL;

    dsuit_cbor_enc_init(&e, out, out_cap);
    dsuit_cbor_put_array(&e, 4);
    dsuit_cbor_put_tstr_z(&e, context);
    dsuit_cbor_put_bstr(&e, protected_hdr, protected_len);
    dsuit_cbor_put_bstr(&e, aad, aad_len);
    dsuit_cbor_put_bstr(&e, payload, payload_len);
    return dsuit_cbor_enc_finish(&e, out_len);
}

/* Check that a key may be used with an algorithm. */
static int key_fits(int64_t alg, const dsuit_key_t *key)
{
    dsuit_key_type_t want = dsuit_cose_alg_key_type(alg);
    if (want == DSUIT_KEY_NONE || key->type != want)
        return DSUIT_E_ALG;
    /* HMAC 256/256 needs a key at least as long as its output (RFC 9053
     * §3.1); a shorter key would make forging tags easier. */
    if (want == DSUIT_KEY_SYMMETRIC && key->secret_len < DSUIT_SHA256_LEN)
        return DSUIT_E_KEY;
    return DSUIT_OK;
}

int dsuit_cose_verify(const dsuit_cose_msg_t *msg, const dsuit_key_t *key,
                      const uint8_t *detached, size_t detached_len,
                      const uint8_t *aad, size_t aad_len, uint8_t *scratch,
                      size_t scratch_cap)
{
    int result = DSUIT_E_SIGNATURE;
    const uint8_t *payload;
    size_t payload_len, tbs_len;
    int rc;

    if (msg == NULL || key == NULL)
        return DSUIT_E_INVAL;
    if (msg->kind == DSUIT_COSE_MAC0)
        result = DSUIT_E_MAC;
    /* Exactly one payload: the message's own, or the detached one. */
    if ((msg->payload != NULL) == (detached != NULL))
        return DSUIT_E_INVAL;
    payload = msg->payload ? msg->payload : detached;
    payload_len = msg->payload ? msg->payload_len : detached_len;

    rc = key_fits(msg->alg, key);
    if (rc != DSUIT_OK)
        return rc;
    if (alg_kind(msg->alg) != msg->kind)
        return DSUIT_E_ALG;

    rc = dsuit_cose_tbs(msg->kind, msg->protected_hdr, msg->protected_len, aad,
                        aad_len, payload, payload_len, scratch, scratch_cap,
                        &tbs_len);
    if (rc != DSUIT_OK)
        return rc;

    switch (key->type) {
    case DSUIT_KEY_P256:
        rc = dsuit_p256_verify(key, scratch, tbs_len, msg->sig, msg->sig_len);
        break;
    case DSUIT_KEY_ED25519:
        rc = dsuit_ed25519_verify(key, scratch, tbs_len, msg->sig,
                                  msg->sig_len);
        break;
    case DSUIT_KEY_SYMMETRIC: {
        uint8_t tag[DSUIT_SHA256_LEN];
        rc = DSUIT_E_MAC;
        if (msg->sig_len != sizeof tag)
            break;
        rc = dsuit_hmac_sha256(key->secret, key->secret_len, scratch, tbs_len,
                               tag);
        /* Constant time: a timing oracle on the tag would let an attacker
         * forge it one byte at a time. */
        if (rc == DSUIT_OK && !dsuit_ct_equal(tag, msg->sig, sizeof tag))
            rc = DSUIT_E_MAC;
        dsuit_wipe(tag, sizeof tag);
        break;
    }
    default:
        rc = DSUIT_E_ALG;
        break;
    }
    if (rc != DSUIT_OK)
        goto out;
    result = DSUIT_OK;
out:
    /* Pass on why it failed: signature, MAC, key or backend. */
    if (result != DSUIT_OK && rc != DSUIT_OK)
        result = rc;
    return result;
}

int dsuit_cose_create(const dsuit_cose_opts_t *opts, const dsuit_key_t *key,
                      const uint8_t *payload, size_t payload_len,
                      const uint8_t *aad, size_t aad_len, uint8_t *scratch,
                      size_t scratch_cap, uint8_t *out, size_t out_cap,
                      size_t *out_len)
{
    uint8_t prot[16];
    uint8_t sig[DSUIT_SIG_LEN];
    size_t prot_len, tbs_len, sig_len;
    dsuit_cbor_enc_t e;
    int rc;

    if (opts == NULL || key == NULL || out_len == NULL ||
        (payload == NULL && payload_len != 0) ||
        (opts->kid == NULL && opts->kid_len != 0))
        return DSUIT_E_INVAL;
    if (opts->kind != DSUIT_COSE_SIGN1 && opts->kind != DSUIT_COSE_MAC0)
        return DSUIT_E_INVAL;
    if (alg_kind(opts->alg) != opts->kind)
        return DSUIT_E_ALG;
    rc = key_fits(opts->alg, key);
    if (rc != DSUIT_OK)
        return rc;
    if (!key->has_private)
        return DSUIT_E_KEY;

    /* protected = << {1: alg} >> */
    dsuit_cbor_enc_init(&e, prot, sizeof prot);
    dsuit_cbor_put_map(&e, 1);
    dsuit_cbor_put_uint(&e, DSUIT_COSE_HDR_ALG);
    dsuit_cbor_put_int(&e, opts->alg);
    rc = dsuit_cbor_enc_finish(&e, &prot_len);
    if (rc != DSUIT_OK)
        return rc;

    rc = dsuit_cose_tbs(opts->kind, prot, prot_len, aad, aad_len,
                        payload ? payload : (const uint8_t *)"", payload_len,
                        scratch, scratch_cap, &tbs_len);
    if (rc != DSUIT_OK)
        return rc;

    switch (key->type) {
    case DSUIT_KEY_P256:
        rc = dsuit_p256_sign(key, scratch, tbs_len, sig);
        sig_len = DSUIT_SIG_LEN;
        break;
    case DSUIT_KEY_ED25519:
        rc = dsuit_ed25519_sign(key, scratch, tbs_len, sig);
        sig_len = DSUIT_SIG_LEN;
        break;
    default:
        rc = dsuit_hmac_sha256(key->secret, key->secret_len, scratch, tbs_len,
                               sig);
        sig_len = DSUIT_SHA256_LEN;
        break;
    }
    if (rc != DSUIT_OK)
        return rc;

    dsuit_cbor_enc_init(&e, out, out_cap);
    if (opts->tagged)
        dsuit_cbor_put_tag(&e, opts->kind == DSUIT_COSE_SIGN1
                                   ? DSUIT_COSE_TAG_SIGN1
                                   : DSUIT_COSE_TAG_MAC0);
    dsuit_cbor_put_array(&e, 4);
    dsuit_cbor_put_bstr(&e, prot, prot_len);
    if (opts->kid != NULL) {
        dsuit_cbor_put_map(&e, 1);
        dsuit_cbor_put_uint(&e, DSUIT_COSE_HDR_KID);
        dsuit_cbor_put_bstr(&e, opts->kid, opts->kid_len);
    } else {
        dsuit_cbor_put_map(&e, 0);
    }
    if (opts->detached)
        dsuit_cbor_put_null(&e);
    else
        dsuit_cbor_put_bstr(&e, payload, payload_len);
    dsuit_cbor_put_bstr(&e, sig, sig_len);
    return dsuit_cbor_enc_finish(&e, out_len);
}
