/*
 * dsuit SUIT builder: the author's side of draft-ietf-suit-manifest-37.
 * Builds a manifest and its envelope from a description, following the
 * templates of §7 ("Creating Manifests"), adds signatures to an existing
 * envelope (§8.3) and severs severable members from one (§8.4.12).
 *
 * Device-safe: no allocation, no recursion. Every function writes into a
 * caller buffer (out, out_cap, out_len); when it is too small the function
 * returns DSUIT_E_LIMIT with *out_len set to the size needed, and a call
 * with out_cap 0 (out may then be NULL) measures. Output never aliases
 * input: out must not overlap any input buffer.
 *
 * What a description becomes (one component: no set-component-index; more
 * than one: every top-level sequence, and each component's part of it,
 * starts with set-component-index i):
 *
 *   common.components       [ id_0, ..., id_n-1 ]
 *   common.shared-sequence  per component: override-parameters {vendor-id,
 *                           class-id, image-digest, image-size},
 *                           condition-vendor-identifier 15,
 *                           condition-class-identifier 15
 *   validate (optional)     per component: condition-image-match 15
 *   install (optional)      per component with a uri: override-parameters
 *                           {uri}, directive-fetch 2, condition-image-match 15
 *   invoke (optional)       directive-invoke 2 on one component
 *   reference-uri, text     optional; text is SUIT_Text_Map
 *                           {lang: {1: description, id: {1: vendor name,
 *                           ...}}}
 *
 * Reporting policies are those of the draft's examples: 15 on conditions,
 * 2 (record failure) on fetch and invoke. The output is deterministic:
 * canonical CBOR (RFC 8949 §4.2.1) in the manifest, the envelope as
 * {2: auth, 3: manifest, members in ascending key order}, deterministic
 * ECDSA and EdDSA; the same description and keys give the same bytes.
 *
 * Worst-case stack use: about 1 KiB (component identifiers encoded for
 * sorting the text map, one Sig_structure scratch).
 */
#ifndef DSUIT_SUIT_BUILD_H
#define DSUIT_SUIT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/suit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- capacities (a build may override each) ---------------------------- */

/* Byte strings in one component identifier. */
#ifndef DSUIT_SUIT_BUILD_MAX_ID_PARTS
#define DSUIT_SUIT_BUILD_MAX_ID_PARTS 4
#endif
/* Largest encoded component identifier, in bytes. */
#ifndef DSUIT_SUIT_BUILD_MAX_ID_LEN
#define DSUIT_SUIT_BUILD_MAX_ID_LEN 64
#endif
/* Entries of an envelope map that sign and sever can copy. */
#ifndef DSUIT_SUIT_BUILD_MAX_ENTRIES
#define DSUIT_SUIT_BUILD_MAX_ENTRIES 16
#endif

#define DSUIT_SUIT_UUID_LEN 16

/* ---- description ------------------------------------------------------- */

/* Which sequences to emit (dsuit_suit_build_desc_t.sequences). */
#define DSUIT_SUIT_BUILD_VALIDATE 0x1u /* image-match on every component */
#define DSUIT_SUIT_BUILD_INSTALL  0x2u /* fetch + image-match where uri set */
#define DSUIT_SUIT_BUILD_INVOKE   0x4u /* invoke desc.invoke_component */

/* Severable members, as bits (1u << dsuit_suit_sev_t). */
#define DSUIT_SUIT_BUILD_MEMBER_PAYLOAD_FETCH                                  \
    (1u << DSUIT_SUIT_SEV_PAYLOAD_FETCH)
#define DSUIT_SUIT_BUILD_MEMBER_INSTALL (1u << DSUIT_SUIT_SEV_INSTALL)
#define DSUIT_SUIT_BUILD_MEMBER_TEXT    (1u << DSUIT_SUIT_SEV_TEXT)
/* For dsuit_suit_build_sever(): every member the manifest holds a digest
 * for, whichever are present. */
#define DSUIT_SUIT_BUILD_ALL_SEVERABLE 0x80000000u

/* SUIT_Component_Identifier: a list of 1..DSUIT_SUIT_BUILD_MAX_ID_PARTS
 * byte strings (each may be empty). */
typedef struct {
    dsuit_bytes_t parts[DSUIT_SUIT_BUILD_MAX_ID_PARTS];
    size_t n_parts;
} dsuit_suit_build_id_t;

/* Per-component text (SUIT_Text_Component_Keys, §8.4.4). Each is a
 * NUL-terminated UTF-8 string, or NULL when absent. */
typedef struct {
    const char *vendor_name;   /* 1 */
    const char *model_name;    /* 2 */
    const char *vendor_domain; /* 3: the domain vendor-id was made from */
    const char *model_info;    /* 4: the name class-id was made from */
    const char *description;   /* 5 */
    const char *version;       /* 6 */
} dsuit_suit_build_text_t;

/* One component. Strings are NUL-terminated UTF-8; NULL when absent. */
typedef struct {
    dsuit_suit_build_id_t id;
    uint8_t vendor_id[DSUIT_SUIT_UUID_LEN];
    uint8_t class_id[DSUIT_SUIT_UUID_LEN];
    uint8_t image_digest[DSUIT_SHA256_LEN]; /* SHA-256 of the image */
    uint64_t image_size;
    const char *uri; /* where install fetches the image from */
    dsuit_suit_build_text_t text;
} dsuit_suit_build_component_t;

/*
 * What to build. Caller-owned; holds pointers to the caller's strings and
 * bytes, which must stay valid during each call that reads it. No _free.
 * Invariants checked by every builder (else DSUIT_E_INVAL):
 * 1 <= n_components <= DSUIT_MAX_COMPONENTS; identifiers distinct, each of
 * 1..DSUIT_SUIT_BUILD_MAX_ID_PARTS parts; strings valid UTF-8; with
 * DSUIT_SUIT_BUILD_INSTALL at least one component has a uri; with
 * DSUIT_SUIT_BUILD_INVOKE invoke_component < n_components.
 */
typedef struct {
    uint64_t seq; /* manifest sequence number */
    dsuit_suit_build_component_t components[DSUIT_MAX_COMPONENTS];
    size_t n_components;
    unsigned sequences;      /* DSUIT_SUIT_BUILD_VALIDATE | ... */
    size_t invoke_component; /* with DSUIT_SUIT_BUILD_INVOKE */
    const char *reference_uri;
    const char *description; /* text 1: manifest description */
    const char *text_lang;   /* language tag of the text; NULL: "en" */
    /* Members to make severable (DSUIT_SUIT_BUILD_MEMBER_INSTALL, _TEXT):
     * the manifest holds their SUIT_Digest and the envelope carries them.
     * Others are inline in the manifest. A bit for a member that is not
     * emitted is ignored. */
    unsigned severable;
} dsuit_suit_build_desc_t;

/** Zero a description and set the defaults: sequences VALIDATE. */
void dsuit_suit_build_desc_init(dsuit_suit_build_desc_t *desc);

/* A signer: a private key, the COSE algorithm (0: ES256 for a P-256 key,
 * EdDSA for an Ed25519 key; or ESP256, Ed25519) and an optional key id
 * for the unprotected header. The key is borrowed for the call. */
typedef struct {
    const dsuit_key_t *key;
    int64_t alg;
    const uint8_t *kid;
    size_t kid_len;
} dsuit_suit_build_signer_t;

/* ---- builders ---------------------------------------------------------- */

/**
 * Encode the SUIT_Manifest map alone (not bstr-wrapped). Severable members
 * appear as their SUIT_Digest.
 * Errors: DSUIT_E_INVAL (description breaks an invariant),
 * DSUIT_E_LIMIT (out too small: *out_len = size needed; or an identifier
 * longer than DSUIT_SUIT_BUILD_MAX_ID_LEN), DSUIT_E_CRYPTO.
 */
int dsuit_suit_build_manifest(const dsuit_suit_build_desc_t *desc, uint8_t *out,
                              size_t out_cap, size_t *out_len);

/**
 * Build a signed envelope: 107({2: [digest, sign_0, ...], 3: manifest,
 * severable members}). Each signer adds one tagged, detached COSE_Sign1
 * over the encoded SUIT_Digest.
 * @param[in] signers    1..DSUIT_SUIT_MAX_AUTH signers
 * Errors: as dsuit_suit_build_manifest(); DSUIT_E_INVAL (no signer, or
 * more than DSUIT_SUIT_MAX_AUTH); DSUIT_E_ALG (algorithm does not fit the
 * key); DSUIT_E_KEY (not a private key).
 */
int dsuit_suit_build_envelope(const dsuit_suit_build_desc_t *desc,
                              const dsuit_suit_build_signer_t *signers,
                              size_t n_signers, uint8_t *out, size_t out_cap,
                              size_t *out_len);

/**
 * Build an envelope whose authentication wrapper holds only the
 * SUIT_Digest. Devices refuse it (DSUIT_E_SUIT_NOAUTH); it is for tests
 * and for signing later with dsuit_suit_build_sign().
 * Errors: as dsuit_suit_build_manifest().
 */
int dsuit_suit_build_unsigned(const dsuit_suit_build_desc_t *desc, uint8_t *out,
                              size_t out_cap, size_t *out_len);

/**
 * Copy an envelope, adding one signature to its authentication wrapper.
 * The manifest and every other entry are copied unchanged, in their
 * order. Before signing, the SUIT_Digest is checked against the manifest
 * (§8.3: signers verify the digest first).
 * Errors: DSUIT_E_SUIT_MALFORMED (not an envelope), DSUIT_E_DIGEST (the
 * SUIT_Digest does not match the manifest), DSUIT_E_ALG (digest not
 * SHA-256, or algorithm does not fit the key), DSUIT_E_KEY,
 * DSUIT_E_EXISTS (a block with this algorithm already verifies under this
 * key), DSUIT_E_LIMIT (out too small: *out_len = size needed; or already
 * DSUIT_SUIT_MAX_AUTH blocks, or more than DSUIT_SUIT_BUILD_MAX_ENTRIES
 * entries), DSUIT_E_INVAL, CBOR decode errors.
 */
int dsuit_suit_build_sign(const uint8_t *env, size_t env_len,
                          const dsuit_suit_build_signer_t *signer, uint8_t *out,
                          size_t out_cap, size_t *out_len);

/**
 * Copy an envelope without the chosen severable members. Only a member
 * whose SUIT_Digest is in the manifest can be severed; the signatures stay
 * valid, since they cover the manifest only. A chosen member that the
 * manifest holds a digest for but the envelope already lacks is fine.
 * @param[in] members  DSUIT_SUIT_BUILD_MEMBER_* bits, or
 *                     DSUIT_SUIT_BUILD_ALL_SEVERABLE
 * Errors: DSUIT_E_NOTFOUND (a chosen member is inline in the manifest or
 * not in it), DSUIT_E_SUIT_MALFORMED, DSUIT_E_LIMIT (as for sign),
 * DSUIT_E_INVAL, CBOR decode errors.
 */
int dsuit_suit_build_sever(const uint8_t *env, size_t env_len, unsigned members,
                           uint8_t *out, size_t out_cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_SUIT_BUILD_H */
