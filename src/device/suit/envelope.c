/*
 * SUIT envelope: decode, authenticate, then decode the manifest
 * (draft-ietf-suit-manifest-37 §8.2, §8.3, §8.4, §8.4.12).
 *
 * The order is the security property: nothing inside the manifest is read
 * until its digest matches and a trusted key has verified the digest
 * (§6.2: "verify the signature of the manifest prior to parsing/executing
 * any section of the manifest"). Severable members are accepted only when
 * they match the digest the authenticated manifest holds for them.
 *
 * Envelope layout (a map; key 2 must come before key 3 whatever the
 * canonical order says, §8.3):
 *
 *   107({                         tag optional
 *     2:  bstr .cbor [ bstr .cbor SUIT_Digest, * bstr .cbor COSE block ]
 *     3:  bstr .cbor SUIT_Manifest
 *     16 / 20 / 23: bstr          severable members (payload-fetch,
 *                                 install, text), present if not severed
 *     "name": bstr                integrated payloads
 *   })
 *
 * Manifest (a map in canonical order):
 *   1 version (= 1)  2 sequence number  3 common (bstr)  4 reference-uri
 *   7 validate  8 load  9 invoke (bstr each)
 *   16 payload-fetch  20 install  23 text: bstr (inline) or SUIT_Digest
 *   5 manifest-component-id, 15 dependency-resolution, 18
 *   candidate-verification: trust-domains extensions, decoded and kept
 *   aside (the check pass refuses dependencies: we do not process them)
 * Common: 2 components [+ [* bstr]]  4 shared-sequence (bstr)
 *   1 dependencies (trust domains)
 *
 * Device-safe: no allocation; every field points into the caller's buffer.
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/suit.h"
#include "suit_int.h"

/* Manifest and envelope keys of the trust-domains draft that we decode
 * but do not process. */
#define TD_MANIFEST_COMPONENT_ID     5
#define TD_DEPENDENCY_RESOLUTION     15
#define TD_CANDIDATE_VERIFICATION    18
#define TD_COMMON_DEPENDENCIES       1

static int sev_index(int64_t key)
{
    switch (key) {
    case DSUIT_SUIT_PAYLOAD_FETCH:
        return DSUIT_SUIT_SEV_PAYLOAD_FETCH;
    case DSUIT_SUIT_INSTALL:
        return DSUIT_SUIT_SEV_INSTALL;
    case DSUIT_SUIT_TEXT:
        return DSUIT_SUIT_SEV_TEXT;
    default:
        return -1;
    }
}

/* Decode a SUIT_Digest: [alg, bytes, * extensions]. */
int dsuit__suit_digest_decode(const uint8_t *buf, size_t len, int64_t *out_alg,
                              dsuit_bytes_t *out_bytes)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int64_t alg;
    dsuit_bytes_t bytes;
    int rc;

    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT);
    rc = dsuit_cbor_get_array(&d, &count);
    if (rc != DSUIT_OK || count < 2)
        return DSUIT_E_SUIT_MALFORMED;
    if (dsuit_cbor_get_int(&d, &alg) != DSUIT_OK ||
        dsuit_cbor_get_bstr(&d, &bytes.ptr, &bytes.len) != DSUIT_OK)
        return DSUIT_E_SUIT_MALFORMED;
    for (size_t i = 2; i < count; i++) {
        rc = dsuit_cbor_skip(&d, NULL, NULL);
        if (rc != DSUIT_OK)
            return rc;
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_CBOR_TRAILING;
    *out_alg = alg;
    *out_bytes = bytes;
    return DSUIT_OK;
}

int dsuit_suit_digest_decode(const uint8_t *buf, size_t len, int64_t *out_alg,
                             dsuit_bytes_t *out_bytes)
{
    if (buf == NULL || out_alg == NULL || out_bytes == NULL)
        return DSUIT_E_INVAL;
    return dsuit__suit_digest_decode(buf, len, out_alg, out_bytes);
}

/* Check that data hashes to a SUIT_Digest (SHA-256 only), in constant
 * time. */
int dsuit__suit_digest_match(int64_t alg, dsuit_bytes_t want,
                             const uint8_t *data, size_t len)
{
    uint8_t got[DSUIT_SHA256_LEN];
    int rc;

    if (alg != DSUIT_SUIT_DIGEST_SHA256)
        return DSUIT_E_ALG;
    if (want.len != DSUIT_SHA256_LEN)
        return DSUIT_E_DIGEST;
    rc = dsuit_sha256(data, len, got);
    if (rc != DSUIT_OK)
        return rc;
    return dsuit_ct_equal(got, want.ptr, DSUIT_SHA256_LEN) ? DSUIT_OK
                                                           : DSUIT_E_DIGEST;
}

int dsuit__suit_fail(dsuit_suit_error_t *err, int rc, dsuit_suit_stage_t stage,
                     const char *reason)
{
    if (err != NULL) {
        err->stage = stage;
        err->reason = reason;
    }
    return rc;
}

/* Decode the authentication wrapper's content. */
static int decode_auth(dsuit_suit_envelope_t *env, const uint8_t *buf,
                       size_t len, dsuit_suit_error_t *err)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int rc;

    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT);
    rc = dsuit_cbor_get_array(&d, &count);
    if (rc != DSUIT_OK || count < 1)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                DSUIT_SUIT_STAGE_DECODE,
                                "authentication wrapper is not a non-empty array");
    rc = dsuit_cbor_get_bstr(&d, &env->digest_item.ptr, &env->digest_item.len);
    if (rc != DSUIT_OK)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                DSUIT_SUIT_STAGE_DECODE,
                                "manifest digest is not a byte string");
    rc = dsuit__suit_digest_decode(env->digest_item.ptr, env->digest_item.len,
                                   &env->digest_alg, &env->digest_bytes);
    if (rc != DSUIT_OK)
        return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_DECODE,
                                "manifest digest is malformed");
    if (count - 1 > DSUIT_SUIT_MAX_AUTH)
        return dsuit__suit_fail(err, DSUIT_E_LIMIT, DSUIT_SUIT_STAGE_DECODE,
                                "too many authentication blocks");
    for (size_t i = 1; i < count; i++) {
        dsuit_bytes_t *b = &env->auth_blocks[env->n_auth];
        rc = dsuit_cbor_get_bstr(&d, &b->ptr, &b->len);
        if (rc != DSUIT_OK)
            return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                    DSUIT_SUIT_STAGE_DECODE,
                                    "authentication block is not a byte string");
        env->n_auth++;
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return dsuit__suit_fail(err, DSUIT_E_CBOR_TRAILING,
                                DSUIT_SUIT_STAGE_DECODE,
                                "trailing bytes in the authentication wrapper");
    if (env->n_auth == 0)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_NOAUTH, DSUIT_SUIT_STAGE_AUTH,
                                "the envelope carries no authentication block");
    return DSUIT_OK;
}

int dsuit_suit_envelope_decode(const uint8_t *buf, size_t len,
                               dsuit_suit_envelope_t *env,
                               dsuit_suit_error_t *err)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int found, rc;
    const uint8_t *auth = NULL;
    size_t auth_len = 0;

    if (buf == NULL || env == NULL)
        return DSUIT_E_INVAL;
    memset(env, 0, sizeof *env);
    if (err != NULL)
        memset(err, 0, sizeof *err);

    /* The envelope map is not canonical (key 2 must precede key 3 and the
     * members may come between), so only repeats are checked here. */
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT | DSUIT_CBOR_NODUPS);
    rc = dsuit_cbor_accept_tag(&d, DSUIT_SUIT_TAG_ENVELOPE, &found);
    if (rc != DSUIT_OK)
        return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_DECODE,
                                "envelope is not well-formed CBOR");
    env->tagged = found;
    rc = dsuit_cbor_get_map(&d, &count);
    if (rc != DSUIT_OK)
        return dsuit__suit_fail(err,
                                rc == DSUIT_E_CBOR_TYPE ? DSUIT_E_SUIT_MALFORMED
                                                        : rc,
                                DSUIT_SUIT_STAGE_DECODE,
                                "envelope is not a map with unique keys");

    for (size_t i = 0; i < count; i++) {
        dsuit_cbor_item_t key;
        const uint8_t *start;
        dsuit_bytes_t val;
        int64_t k = 0;

        rc = dsuit_cbor_peek(&d, &key);
        if (rc != DSUIT_OK)
            return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_DECODE,
                                    "envelope is not well-formed CBOR");
        if (key.major == DSUIT_CBOR_TSTR) {
            /* Integrated payload: text key => bstr. */
            dsuit_bytes_t name;
            rc = dsuit_cbor_get_tstr(&d, (const char **)&name.ptr, &name.len);
            if (rc == DSUIT_OK)
                rc = dsuit_cbor_get_bstr(&d, &val.ptr, &val.len);
            if (rc != DSUIT_OK)
                return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                        DSUIT_SUIT_STAGE_DECODE,
                                        "integrated payload is not a byte string");
            if (env->n_integrated == DSUIT_SUIT_MAX_INTEGRATED)
                return dsuit__suit_fail(err, DSUIT_E_LIMIT,
                                        DSUIT_SUIT_STAGE_DECODE,
                                        "too many integrated payloads");
            env->integrated_keys[env->n_integrated] = name;
            env->integrated_payloads[env->n_integrated] = val;
            env->n_integrated++;
            continue;
        }
        rc = dsuit_cbor_get_int(&d, &k);
        if (rc != DSUIT_OK)
            return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                    DSUIT_SUIT_STAGE_DECODE,
                                    "envelope key is neither integer nor text");
        /* Every envelope element is a byte string (§8.2). */
        start = d.buf + d.pos;
        rc = dsuit_cbor_get_bstr(&d, &val.ptr, &val.len);
        if (rc != DSUIT_OK)
            return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                    DSUIT_SUIT_STAGE_DECODE,
                                    "envelope element is not a byte string");
        if (k == DSUIT_SUIT_AUTH_WRAPPER) {
            auth = val.ptr;
            auth_len = val.len;
        } else if (k == DSUIT_SUIT_MANIFEST) {
            /* §8.3: the wrapper must come first, so a streaming processor
             * can authenticate before it reads the manifest. */
            if (auth == NULL)
                return dsuit__suit_fail(
                    err, DSUIT_E_SUIT_MALFORMED, DSUIT_SUIT_STAGE_DECODE,
                    "the manifest comes before the authentication wrapper");
            env->manifest = val;
            env->manifest_wrapped.ptr = start;
            env->manifest_wrapped.len = (size_t)(val.ptr + val.len - start);
        } else if (sev_index(k) >= 0) {
            dsuit_bytes_t *m = &env->envelope_members[sev_index(k)];
            m->ptr = start;
            m->len = (size_t)(val.ptr + val.len - start);
        }
        /* Other integer keys are envelope extensions (e.g. the trust
         * domains' severable members): unauthenticated unless a digest in
         * the manifest covers them, and never used by this processor. */
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return dsuit__suit_fail(err, DSUIT_E_CBOR_TRAILING,
                                DSUIT_SUIT_STAGE_DECODE,
                                "trailing bytes after the envelope");
    if (auth == NULL)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                DSUIT_SUIT_STAGE_DECODE,
                                "the envelope has no authentication wrapper");
    if (env->manifest.ptr == NULL)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                DSUIT_SUIT_STAGE_DECODE,
                                "the envelope has no manifest");
    return decode_auth(env, auth, auth_len, err);
}

/* Rank failures so the most telling one is reported: a block that was
 * checked with a fitting key and failed says more than one whose
 * algorithm fit no key. */
static int worse(int a, int b)
{
    int ra = a == DSUIT_E_SIGNATURE || a == DSUIT_E_MAC ? 3
             : a == DSUIT_E_ALG || a == DSUIT_E_KEY     ? 2
                                                        : 1;
    int rb = b == DSUIT_E_SIGNATURE || b == DSUIT_E_MAC ? 3
             : b == DSUIT_E_ALG || b == DSUIT_E_KEY     ? 2
                                                        : 1;
    return ra >= rb ? a : b;
}

int dsuit_suit_authenticate(dsuit_suit_envelope_t *env,
                            const dsuit_key_t *keys, size_t n_keys,
                            uint8_t *scratch, size_t scratch_cap,
                            dsuit_suit_error_t *err)
{
    int result = DSUIT_E_SUIT_NOAUTH;
    int rc;

    if (env == NULL || (keys == NULL && n_keys > 0) || scratch == NULL)
        return DSUIT_E_INVAL;
    env->authenticated = 0;
    if (env->manifest_wrapped.ptr == NULL || env->n_auth == 0)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_NOAUTH, DSUIT_SUIT_STAGE_AUTH,
                                "the envelope carries no authentication block");

    /* The digest covers the manifest bstr, head included (§8.3). */
    rc = dsuit__suit_digest_match(env->digest_alg, env->digest_bytes,
                                  env->manifest_wrapped.ptr,
                                  env->manifest_wrapped.len);
    if (rc == DSUIT_E_ALG)
        return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_AUTH,
                                "manifest digest algorithm is not SHA-256");
    if (rc != DSUIT_OK)
        return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_AUTH,
                                "manifest digest does not match the manifest");
    if (n_keys == 0)
        return dsuit__suit_fail(err, DSUIT_E_SIGNATURE, DSUIT_SUIT_STAGE_AUTH,
                                "no trusted key to verify with");

    for (size_t i = 0; i < env->n_auth; i++) {
        dsuit_cose_msg_t msg;
        rc = dsuit_cose_parse(env->auth_blocks[i].ptr, env->auth_blocks[i].len,
                              DSUIT_COSE_ANY, &msg);
        if (rc != DSUIT_OK) {
            result = worse(result, rc);
            continue;
        }
        /* SUIT authentication blocks are always detached (§8.3). */
        if (msg.payload != NULL) {
            result = worse(result, DSUIT_E_COSE);
            continue;
        }
        for (size_t k = 0; k < n_keys; k++) {
            rc = dsuit_cose_verify(&msg, &keys[k], env->digest_item.ptr,
                                   env->digest_item.len, NULL, 0, scratch,
                                   scratch_cap);
            if (rc == DSUIT_OK) {
                env->authenticated = 1;
                env->auth_index = (int)i;
                env->auth_alg = msg.alg;
                return DSUIT_OK;
            }
            result = worse(result, rc);
        }
    }
    switch (result) {
    case DSUIT_E_SIGNATURE:
        return dsuit__suit_fail(err, result, DSUIT_SUIT_STAGE_AUTH,
                                "no signature verifies with a trusted key");
    case DSUIT_E_MAC:
        return dsuit__suit_fail(err, result, DSUIT_SUIT_STAGE_AUTH,
                                "no MAC verifies with a trusted key");
    case DSUIT_E_ALG:
    case DSUIT_E_KEY:
        return dsuit__suit_fail(err, result, DSUIT_SUIT_STAGE_AUTH,
                                "no authentication block fits a trusted key");
    default:
        return dsuit__suit_fail(err, result, DSUIT_SUIT_STAGE_AUTH,
                                "no authentication block could be parsed");
    }
}

/* common: {? 1 dependencies, ? 2 components, ? 4 shared-sequence} */
static int decode_common(dsuit_suit_envelope_t *env, const uint8_t *buf,
                         size_t len, int *has_dependencies,
                         dsuit_suit_error_t *err)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int rc;

    dsuit_cbor_dec_init(&d, buf, len,
                        DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED);
    rc = dsuit_cbor_get_map(&d, &count);
    if (rc != DSUIT_OK)
        return dsuit__suit_fail(err, rc == DSUIT_E_CBOR_TYPE
                                         ? DSUIT_E_SUIT_MALFORMED
                                         : rc,
                                DSUIT_SUIT_STAGE_DECODE,
                                "common is not a canonical map");
    for (size_t i = 0; i < count; i++) {
        int64_t k;
        if (dsuit_cbor_get_int(&d, &k) != DSUIT_OK)
            return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                    DSUIT_SUIT_STAGE_DECODE,
                                    "common key is not an integer");
        if (k == DSUIT_SUIT_COMPONENTS) {
            size_t n;
            rc = dsuit_cbor_get_array(&d, &n);
            if (rc != DSUIT_OK || n == 0)
                return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                        DSUIT_SUIT_STAGE_DECODE,
                                        "components is not a non-empty array");
            if (n > DSUIT_MAX_COMPONENTS)
                return dsuit__suit_fail(err, DSUIT_E_LIMIT,
                                        DSUIT_SUIT_STAGE_SETUP,
                                        "more components than this build "
                                        "supports");
            for (size_t c = 0; c < n; c++) {
                dsuit_bytes_t *id = &env->components[c];
                size_t parts;
                id->ptr = d.buf + d.pos;
                rc = dsuit_cbor_get_array(&d, &parts);
                if (rc != DSUIT_OK)
                    return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                            DSUIT_SUIT_STAGE_DECODE,
                                            "component identifier is not an "
                                            "array");
                for (size_t p = 0; p < parts; p++) {
                    dsuit_bytes_t part;
                    if (dsuit_cbor_get_bstr(&d, &part.ptr, &part.len) !=
                        DSUIT_OK)
                        return dsuit__suit_fail(
                            err, DSUIT_E_SUIT_MALFORMED,
                            DSUIT_SUIT_STAGE_DECODE,
                            "component identifier part is not a byte string");
                }
                id->len = (size_t)(d.buf + d.pos - id->ptr);
            }
            env->n_components = n;
        } else if (k == DSUIT_SUIT_SHARED_SEQUENCE) {
            rc = dsuit_cbor_get_bstr(&d, &env->shared_seq.ptr,
                                     &env->shared_seq.len);
            if (rc != DSUIT_OK)
                return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                        DSUIT_SUIT_STAGE_DECODE,
                                        "shared sequence is not a byte string");
        } else if (k == TD_COMMON_DEPENDENCIES) {
            *has_dependencies = 1;
            rc = dsuit_cbor_skip(&d, NULL, NULL);
            if (rc != DSUIT_OK)
                return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_DECODE,
                                        "dependencies are malformed");
        } else {
            return dsuit__suit_fail(err, DSUIT_E_SUIT_UNSUPPORTED,
                                    DSUIT_SUIT_STAGE_DECODE,
                                    "unknown element in common");
        }
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return dsuit__suit_fail(err, DSUIT_E_CBOR_TRAILING,
                                DSUIT_SUIT_STAGE_DECODE,
                                "trailing bytes after common");
    /* The CDDL makes components optional, but a manifest that names no
     * component has nothing to act on, and everything after decoding may
     * rely on at least one. */
    if (env->n_components == 0)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                DSUIT_SUIT_STAGE_DECODE,
                                "common declares no components");
    return DSUIT_OK;
}

/* A severable member in the manifest: inline bstr, or SUIT_Digest of the
 * envelope's copy. */
static int decode_member(dsuit_suit_envelope_t *env, dsuit_cbor_dec_t *d,
                         int idx, dsuit_suit_error_t *err)
{
    dsuit_suit_member_t *m = &env->members[idx];
    dsuit_bytes_t env_item = env->envelope_members[idx];
    dsuit_cbor_item_t it;
    int rc = dsuit_cbor_peek(d, &it);
    if (rc != DSUIT_OK)
        return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_DECODE,
                                "manifest is not well-formed CBOR");
    if (it.major == DSUIT_CBOR_BSTR) {
        if (env_item.ptr != NULL)
            return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                    DSUIT_SUIT_STAGE_SEVERABLE,
                                    "member is both inline and in the "
                                    "envelope");
        rc = dsuit_cbor_get_bstr(d, &m->body.ptr, &m->body.len);
        m->state = DSUIT_SUIT_MEMBER_INLINE;
        return rc;
    }
    if (it.major != DSUIT_CBOR_ARRAY)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                DSUIT_SUIT_STAGE_DECODE,
                                "severable member is neither a byte string "
                                "nor a digest");
    {
        int64_t alg;
        dsuit_bytes_t want;
        rc = dsuit_cbor_skip(d, &m->digest.ptr, &m->digest.len);
        if (rc != DSUIT_OK)
            return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_DECODE,
                                    "manifest is not well-formed CBOR");
        rc = dsuit__suit_digest_decode(m->digest.ptr, m->digest.len, &alg,
                                       &want);
        if (rc != DSUIT_OK)
            return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_DECODE,
                                    "severable member digest is malformed");
        if (env_item.ptr == NULL) {
            m->state = DSUIT_SUIT_MEMBER_SEVERED;
            return DSUIT_OK;
        }
        /* §8.4.12: the digest covers the whole bstr in the envelope. */
        rc = dsuit__suit_digest_match(alg, want, env_item.ptr, env_item.len);
        if (rc != DSUIT_OK)
            return dsuit__suit_fail(err, rc, DSUIT_SUIT_STAGE_SEVERABLE,
                                    rc == DSUIT_E_ALG
                                        ? "severable member digest algorithm "
                                          "is not SHA-256"
                                        : "severable member does not match "
                                          "its digest");
        /* The content follows the bstr head. */
        dsuit_cbor_dec_t md;
        dsuit_cbor_dec_init(&md, env_item.ptr, env_item.len, 0);
        rc = dsuit_cbor_get_bstr(&md, &m->body.ptr, &m->body.len);
        if (rc != DSUIT_OK)
            return rc;
        m->state = DSUIT_SUIT_MEMBER_VERIFIED;
        return DSUIT_OK;
    }
}

int dsuit_suit_manifest_decode(dsuit_suit_envelope_t *env, unsigned flags,
                               dsuit_suit_error_t *err)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int have_version = 0, have_seq = 0, have_common = 0, has_deps = 0;
    const uint8_t *common = NULL;
    size_t common_len = 0;
    int rc;

    if (env == NULL || env->manifest.ptr == NULL)
        return DSUIT_E_INVAL;
    if (!env->authenticated && !(flags & DSUIT_SUIT_ALLOW_UNAUTHENTICATED))
        return dsuit__suit_fail(err, DSUIT_E_SIGNATURE, DSUIT_SUIT_STAGE_AUTH,
                                "the manifest is not authenticated");

    /* §8.1: maps in the manifest are in canonical order. */
    dsuit_cbor_dec_init(&d, env->manifest.ptr, env->manifest.len,
                        DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED);
    rc = dsuit_cbor_get_map(&d, &count);
    if (rc != DSUIT_OK)
        return dsuit__suit_fail(err, rc == DSUIT_E_CBOR_TYPE
                                         ? DSUIT_E_SUIT_MALFORMED
                                         : rc,
                                DSUIT_SUIT_STAGE_DECODE,
                                "manifest is not a canonical map");
    for (size_t i = 0; i < count; i++) {
        int64_t k;
        dsuit_bytes_t *seq = NULL;
        if (dsuit_cbor_get_int(&d, &k) != DSUIT_OK)
            return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                    DSUIT_SUIT_STAGE_DECODE,
                                    "manifest key is not an integer");
        switch (k) {
        case DSUIT_SUIT_VERSION:
            rc = dsuit_cbor_get_uint(&d, &env->version);
            have_version = 1;
            break;
        case DSUIT_SUIT_SEQ_NUMBER:
            rc = dsuit_cbor_get_uint(&d, &env->seq);
            have_seq = 1;
            break;
        case DSUIT_SUIT_COMMON:
            rc = dsuit_cbor_get_bstr(&d, &common, &common_len);
            have_common = 1;
            break;
        case DSUIT_SUIT_REFERENCE_URI:
            rc = dsuit_cbor_get_tstr(&d, (const char **)&env->reference_uri.ptr,
                                     &env->reference_uri.len);
            break;
        case DSUIT_SUIT_VALIDATE:
            seq = &env->validate;
            break;
        case DSUIT_SUIT_LOAD:
            seq = &env->load;
            break;
        case DSUIT_SUIT_INVOKE:
            seq = &env->invoke;
            break;
        case DSUIT_SUIT_PAYLOAD_FETCH:
        case DSUIT_SUIT_INSTALL:
        case DSUIT_SUIT_TEXT:
            rc = decode_member(env, &d, sev_index(k), err);
            if (rc != DSUIT_OK)
                return rc;
            break;
        case TD_MANIFEST_COMPONENT_ID:
        case TD_DEPENDENCY_RESOLUTION:
        case TD_CANDIDATE_VERIFICATION:
            /* Trust-domains elements: authenticated with the manifest, kept
             * as bytes; the check pass refuses what needs dependencies. */
            has_deps |= k != TD_MANIFEST_COMPONENT_ID;
            rc = dsuit_cbor_skip(&d, NULL, NULL);
            break;
        default:
            return dsuit__suit_fail(err, DSUIT_E_SUIT_UNSUPPORTED,
                                    DSUIT_SUIT_STAGE_DECODE,
                                    "unknown manifest element");
        }
        if (seq != NULL)
            rc = dsuit_cbor_get_bstr(&d, &seq->ptr, &seq->len);
        if (rc != DSUIT_OK)
            return dsuit__suit_fail(err,
                                    rc == DSUIT_E_CBOR_TYPE
                                        ? DSUIT_E_SUIT_MALFORMED
                                        : rc,
                                    DSUIT_SUIT_STAGE_DECODE,
                                    "manifest element has the wrong type");
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return dsuit__suit_fail(err, DSUIT_E_CBOR_TRAILING,
                                DSUIT_SUIT_STAGE_DECODE,
                                "trailing bytes after the manifest");
    /* A member in the envelope whose digest the manifest does not hold
     * is unauthenticated data: refuse it rather than ignore it. */
    for (int m = 0; m < DSUIT_SUIT_SEV_COUNT; m++) {
        if (env->envelope_members[m].ptr != NULL &&
            env->members[m].state != DSUIT_SUIT_MEMBER_VERIFIED)
            return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                    DSUIT_SUIT_STAGE_SEVERABLE,
                                    "envelope carries a member the manifest "
                                    "has no digest for");
    }
    if (!have_version || !have_seq || !have_common)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_MALFORMED,
                                DSUIT_SUIT_STAGE_DECODE,
                                "manifest lacks version, sequence number or "
                                "common");
    if (env->version != 1)
        return dsuit__suit_fail(err, DSUIT_E_SUIT_VERSION,
                                DSUIT_SUIT_STAGE_SETUP,
                                "manifest version is not 1");
    rc = decode_common(env, common, common_len, &has_deps, err);
    if (rc != DSUIT_OK)
        return rc;
    env->has_dependencies = has_deps;
    return DSUIT_OK;
}

int dsuit_suit_parse(const uint8_t *buf, size_t len, const dsuit_key_t *keys,
                     size_t n_keys, dsuit_suit_envelope_t *env,
                     dsuit_suit_error_t *err)
{
    uint8_t scratch[DSUIT_SUIT_AUTH_SCRATCH];
    int rc = dsuit_suit_envelope_decode(buf, len, env, err);
    if (rc != DSUIT_OK)
        return rc;
    rc = dsuit_suit_authenticate(env, keys, n_keys, scratch, sizeof scratch,
                                 err);
    if (rc != DSUIT_OK)
        return rc;
    return dsuit_suit_manifest_decode(env, 0, err);
}
