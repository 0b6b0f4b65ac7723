/*
 * dsuit COSE (RFC 9052, algorithms of RFC 9053 and draft-ietf-suit-mti):
 * COSE_Sign1 and COSE_Mac0, tagged or untagged, with attached or detached
 * payload; COSE_Key for EC2 P-256 and OKP Ed25519 public keys.
 *
 * Device-safe: no allocation. Parsed messages point into the caller's
 * buffer, which must outlive them. Building the to-be-signed structure
 * (Sig_structure / MAC_structure, RFC 9052 §4.4 and §6.3) needs a scratch
 * buffer from the caller; DSUIT_E_LIMIT says it was too small.
 *
 * Algorithm rules: the algorithm is taken from the protected header only
 * (an alg in the unprotected header is rejected, as is any crit header),
 * and it must fit the key's type: ES256 (-7) and ESP256 (-9) need a P-256
 * key, EdDSA (-8) and Ed25519 (-19) an Ed25519 key, HMAC 256/256 (5) a
 * symmetric key of at least 32 bytes. Anything else is DSUIT_E_ALG.
 */
#ifndef DSUIT_COSE_H
#define DSUIT_COSE_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CBOR tags (RFC 9052 §2). */
#define DSUIT_COSE_TAG_MAC0  17
#define DSUIT_COSE_TAG_SIGN1 18

/* Algorithm identifiers. */
#define DSUIT_COSE_ALG_ES256   (-7)
#define DSUIT_COSE_ALG_EDDSA   (-8)
#define DSUIT_COSE_ALG_ESP256  (-9)  /* draft-ietf-jose-fully-specified */
#define DSUIT_COSE_ALG_ED25519 (-19) /* draft-ietf-jose-fully-specified */
#define DSUIT_COSE_ALG_HMAC256 5     /* HMAC 256/256 */

/* Header labels. */
#define DSUIT_COSE_HDR_ALG  1
#define DSUIT_COSE_HDR_CRIT 2
#define DSUIT_COSE_HDR_KID  4

/* Largest protected header accepted, in bytes. */
#ifndef DSUIT_COSE_MAX_PROTECTED
#define DSUIT_COSE_MAX_PROTECTED 128
#endif

typedef enum {
    DSUIT_COSE_ANY = 0,  /* for parse: accept either */
    DSUIT_COSE_SIGN1 = 1,
    DSUIT_COSE_MAC0 = 2
} dsuit_cose_kind_t;

/*
 * A parsed COSE_Sign1 or COSE_Mac0. All pointers point into the parsed
 * buffer. Invariants after a successful parse: alg is one of the five
 * accepted identifiers and came from the protected header; payload is NULL
 * with payload_len 0 when the payload is detached (nil).
 */
typedef struct {
    dsuit_cose_kind_t kind;
    int tagged;
    int64_t alg;
    const uint8_t *protected_hdr; /* content of the protected bstr */
    size_t protected_len;
    const uint8_t *kid; /* from either header bucket, or NULL */
    size_t kid_len;
    const uint8_t *payload; /* NULL when detached */
    size_t payload_len;
    const uint8_t *sig; /* signature or tag */
    size_t sig_len;
} dsuit_cose_msg_t;

/**
 * Parse a COSE_Sign1 or COSE_Mac0: [protected bstr, unprotected map,
 * payload bstr / nil, signature-or-tag bstr], optionally tagged 18 / 17.
 * The input must be exactly one item (no trailing bytes).
 * @param[in] kind  the kind expected, or DSUIT_COSE_ANY (then an untagged
 *                  message is taken as COSE_Sign1)
 * Errors: DSUIT_E_COSE (structure, wrong tag, a header label repeated in a
 * bucket or present in both, a mistyped header),
 * DSUIT_E_ALG (no alg, alg not accepted, alg unprotected, crit present),
 * DSUIT_E_LIMIT (protected header too large), CBOR decode errors.
 */
int dsuit_cose_parse(const uint8_t *buf, size_t len, dsuit_cose_kind_t kind,
                     dsuit_cose_msg_t *out);

/**
 * Encode the to-be-signed / to-be-MACed structure:
 *   Sig_structure = ["Signature1", protected, external_aad, payload]
 *   MAC_structure = ["MAC0", protected, external_aad, payload]
 * Errors: DSUIT_E_LIMIT (*out_len = size needed), DSUIT_E_INVAL.
 */
int dsuit_cose_tbs(dsuit_cose_kind_t kind, const uint8_t *protected_hdr,
                   size_t protected_len, const uint8_t *aad, size_t aad_len,
                   const uint8_t *payload, size_t payload_len, uint8_t *out,
                   size_t out_cap, size_t *out_len);

/**
 * Verify a parsed message with a key.
 * @param[in] detached  the payload when msg's is detached; must be NULL when
 *                      msg carries its own payload
 * @param[in] aad       external AAD (usually empty)
 * @param[in] scratch   room for the to-be-signed structure
 * Errors: DSUIT_E_SIGNATURE (Sign1) or DSUIT_E_MAC (Mac0) when it does not
 * verify; DSUIT_E_ALG (alg does not fit the key); DSUIT_E_INVAL (payload
 * missing or given twice); DSUIT_E_LIMIT (scratch too small); DSUIT_E_CRYPTO.
 */
int dsuit_cose_verify(const dsuit_cose_msg_t *msg, const dsuit_key_t *key,
                      const uint8_t *detached, size_t detached_len,
                      const uint8_t *aad, size_t aad_len, uint8_t *scratch,
                      size_t scratch_cap);

/* What to build with dsuit_cose_create(). */
typedef struct {
    dsuit_cose_kind_t kind; /* SIGN1 or MAC0 */
    int64_t alg;            /* must fit the key */
    int tagged;             /* prefix tag 18 / 17 */
    int detached;           /* payload nil on the wire */
    const uint8_t *kid;     /* optional, put in the unprotected header */
    size_t kid_len;
} dsuit_cose_opts_t;

/**
 * Build and sign (or MAC) a COSE message over payload. The protected header
 * is {1: alg}. Deterministic for ECDSA (RFC 6979), EdDSA and HMAC.
 * Errors: DSUIT_E_ALG, DSUIT_E_KEY (no private part), DSUIT_E_LIMIT
 * (*out_len = size needed, when out is the part too small), DSUIT_E_CRYPTO.
 */
int dsuit_cose_create(const dsuit_cose_opts_t *opts, const dsuit_key_t *key,
                      const uint8_t *payload, size_t payload_len,
                      const uint8_t *aad, size_t aad_len, uint8_t *scratch,
                      size_t scratch_cap, uint8_t *out, size_t out_cap,
                      size_t *out_len);

/* COSE_Key (RFC 9052 §7, RFC 9053 §7). */
#define DSUIT_COSE_KTY_OKP 1
#define DSUIT_COSE_KTY_EC2 2
#define DSUIT_COSE_CRV_P256    1
#define DSUIT_COSE_CRV_ED25519 6

/* Longest COSE_Key encoding we produce (EC2 P-256: 75 bytes). */
#define DSUIT_COSE_KEY_MAX 96

/**
 * Decode a public COSE_Key: EC2 {1:2, -1:1, -2:x, -3:y} or OKP {1:1, -1:6,
 * -2:x}. Other labels (kid 2, alg 3, ...) are ignored; a private part (-4)
 * is refused, since key files shared with others must not carry one.
 * Errors: DSUIT_E_KEY (missing or wrong field, not on curve, private part),
 * DSUIT_E_CBOR_DUPKEY, CBOR decode errors.
 */
int dsuit_cose_key_decode(const uint8_t *buf, size_t len, dsuit_key_t *out);

/**
 * Encode the public half of a P-256 or Ed25519 key as a deterministic
 * COSE_Key with exactly the fields listed for dsuit_cose_key_decode().
 * Errors: DSUIT_E_KEY (symmetric or empty key), DSUIT_E_LIMIT.
 */
int dsuit_cose_key_encode(const dsuit_key_t *key, uint8_t *out,
                          size_t out_cap, size_t *out_len);

/**
 * Key id: SHA-256 of the deterministic COSE_Key encoding of the public key.
 * Errors: as dsuit_cose_key_encode(), DSUIT_E_CRYPTO.
 */
int dsuit_cose_key_id(const dsuit_key_t *key, uint8_t out[DSUIT_SHA256_LEN]);

/** The algorithm's name ("ES256", "ESP256", "EdDSA", "Ed25519",
 * "HMAC256"), or NULL if not accepted. */
const char *dsuit_cose_alg_name(int64_t alg);

/** The key type an algorithm needs, or DSUIT_KEY_NONE. */
dsuit_key_type_t dsuit_cose_alg_key_type(int64_t alg);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_COSE_H */
