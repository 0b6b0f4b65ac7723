/*
 * dsuit ledger transactions (docs/formats/ledger.md, "Transactions"):
 * build, sign, decode. Node side, but allocation-free: decoding is
 * zero-copy into the caller's buffer and building writes into caller
 * buffers (DSUIT_E_LIMIT with the size needed).
 *
 * Validation against the ledger state is in ledger.h; this module only
 * knows the wire format and the signature scheme:
 *   tx id     = SHA-256(encoded TxBody)
 *   signature = sign("dsuit-tx-v1" || tx id), listed by ascending key id
 */
#ifndef DSUIT_TX_H
#define DSUIT_TX_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DSUIT_TX_REGISTER_AUTHOR = 1,
    DSUIT_TX_REVOKE_AUTHOR = 2,
    DSUIT_TX_ROTATE_AUTHOR_KEY = 3,
    DSUIT_TX_PUBLISH = 4,
    DSUIT_TX_REGISTER_DEVICE = 5
} dsuit_tx_type_t;

/* Result codes recorded per transaction in a block. X(name, code, text). */
#define DSUIT_TXR_LIST(X)                                                      \
    X(OK, 0, "ok", "applied")                                                  \
    X(BAD_ENCODING, 1, "bad-encoding", "transaction is malformed")             \
    X(WRONG_CHAIN, 2, "wrong-chain", "transaction is for another chain")       \
    X(BAD_SIGNATURE, 3, "bad-signature", "a signature does not verify")        \
    X(BELOW_THRESHOLD, 4, "below-threshold",                                   \
      "too few registrar signatures")                                          \
    X(UNKNOWN_AUTHOR, 5, "unknown-author", "author is not registered")         \
    X(REVOKED_AUTHOR, 6, "revoked-author", "author was revoked")               \
    X(OUT_OF_SCOPE, 7, "out-of-scope",                                         \
      "vendor or class is outside the author's registration")                  \
    X(SUIT_AUTH, 8, "suit-auth", "SUIT envelope does not authenticate")        \
    X(ROLLBACK, 9, "rollback",                                                 \
      "sequence number is not newer than the latest")                          \
    X(IMAGE_TOO_LARGE, 10, "image-too-large",                                  \
      "image exceeds the policy's maximum size")                               \
    X(CHUNKS_INCONSISTENT, 11, "chunks-inconsistent",                          \
      "images or chunks do not match the manifest and policy")                 \
    X(DUPLICATE, 12, "duplicate", "already applied or already registered")     \
    X(UNKNOWN_TYPE, 13, "unknown-type", "unknown transaction type")

typedef enum {
#define DSUIT__TXR(name, code, word, text) DSUIT_TXR_##name = (code),
    DSUIT_TXR_LIST(DSUIT__TXR)
#undef DSUIT__TXR
} dsuit_txr_t;

/** Short name of a result code ("rollback"), or "unknown". */
const char *dsuit_txr_name(int code);
/** One-line explanation of a result code, or "unknown result". */
const char *dsuit_txr_message(int code);

#define DSUIT_TX_MAX_SIGS    16
#define DSUIT_TX_MAX_IMAGES  8
#define DSUIT_TX_MAX_CLASSES 16
#define DSUIT_TX_NAME_MAX    128 /* author names, revoke reasons */

typedef struct {
    const uint8_t *key_id; /* 32 bytes */
    int64_t alg;
    const uint8_t *sig;
    size_t sig_len;
} dsuit_tx_sig_t;

/* An image of a publish. chunks points at the first of n_chunks digests,
 * each 32 bytes, DSUIT_TX_CHUNK_STRIDE bytes apart in the encoding. */
#define DSUIT_TX_CHUNK_STRIDE 34
typedef struct {
    const uint8_t *digest;
    uint64_t size;
    uint64_t chunk_size;
    const uint8_t *chunks;
    size_t n_chunks;
} dsuit_tx_image_t;

/** The i-th chunk digest of an image (32 bytes). */
const uint8_t *dsuit_tx_chunk(const dsuit_tx_image_t *img, size_t i);

/*
 * A decoded transaction; every pointer points into the decoded buffer.
 * Which member of u is valid depends on type; for an unknown type none is.
 */
typedef struct {
    const uint8_t *body; /* encoded TxBody */
    size_t body_len;
    uint8_t id[DSUIT_SHA256_LEN];
    uint64_t type;
    const uint8_t *chain; /* 32 bytes */
    uint64_t nonce;
    dsuit_tx_sig_t sigs[DSUIT_TX_MAX_SIGS];
    size_t n_sigs;
    union {
        struct {
            const uint8_t *key; /* COSE_Key bytes */
            size_t key_len;
            const char *name;
            size_t name_len;
            const uint8_t *vendor; /* 16 */
            const uint8_t *classes; /* n_classes UUIDs, 17 bytes apart */
            size_t n_classes;
        } author;
        struct {
            const uint8_t *key_id; /* 32 */
            const char *reason;
            size_t reason_len;
        } revoke;
        struct {
            const uint8_t *old_id; /* 32 */
            const uint8_t *key;    /* COSE_Key bytes */
            size_t key_len;
        } rotate;
        struct {
            const uint8_t *envelope;
            size_t envelope_len;
            dsuit_tx_image_t images[DSUIT_TX_MAX_IMAGES];
            size_t n_images;
        } publish;
        struct {
            const uint8_t *device_id; /* 16 */
            const uint8_t *vendor;    /* 16 */
            const uint8_t *class_id;  /* 16 */
            const uint8_t *key;       /* COSE_Key bytes */
            size_t key_len;
        } device;
    } u;
} dsuit_tx_t;

/** The i-th class id of a register-author (16 bytes). */
const uint8_t *dsuit_tx_author_class(const dsuit_tx_t *tx, size_t i);

/**
 * Decode a transaction in deterministic encoding and compute its id. A
 * known type's payload is decoded and checked for shape (lengths, types);
 * an unknown type decodes with only the common fields.
 * Errors: DSUIT_E_INVAL (shape), DSUIT_E_LIMIT (too many signatures,
 * images or classes), CBOR errors. Any error means result code
 * bad-encoding.
 */
int dsuit_tx_decode(const uint8_t *buf, size_t len, dsuit_tx_t *out);

/** The bytes a transaction signature covers: "dsuit-tx-v1" || id. */
#define DSUIT_TX_SIG_CONTEXT "dsuit-tx-v1"

/**
 * Verify one signature of a decoded transaction with a public key whose
 * key id the signature names (the caller looks the key up).
 * Errors: DSUIT_E_SIGNATURE, DSUIT_E_ALG (alg does not fit the key).
 */
int dsuit_tx_verify_sig(const dsuit_tx_t *tx, const dsuit_tx_sig_t *sig,
                        const dsuit_key_t *key);

/* ---- building ------------------------------------------------------- */

/* Bodies: each writes an encoded TxBody into out. */
int dsuit_tx_body_register_author(const uint8_t chain[32], uint64_t nonce,
                                  const dsuit_key_t *author, const char *name,
                                  const uint8_t vendor[16],
                                  const uint8_t (*classes)[16],
                                  size_t n_classes, uint8_t *out,
                                  size_t out_cap, size_t *out_len);
int dsuit_tx_body_revoke_author(const uint8_t chain[32], uint64_t nonce,
                                const uint8_t key_id[32], const char *reason,
                                uint8_t *out, size_t out_cap,
                                size_t *out_len);
int dsuit_tx_body_rotate_author_key(const uint8_t chain[32], uint64_t nonce,
                                    const uint8_t old_id[32],
                                    const dsuit_key_t *new_key, uint8_t *out,
                                    size_t out_cap, size_t *out_len);
/* An image to put in a publish: digest, size, chunk size and the chunk
 * digests as a packed array. */
typedef struct {
    const uint8_t *digest;
    uint64_t size;
    uint64_t chunk_size;
    const uint8_t (*chunks)[32];
    size_t n_chunks;
} dsuit_tx_image_in_t;
int dsuit_tx_body_publish(const uint8_t chain[32], uint64_t nonce,
                          const uint8_t *envelope, size_t envelope_len,
                          const dsuit_tx_image_in_t *images, size_t n_images,
                          uint8_t *out, size_t out_cap, size_t *out_len);
int dsuit_tx_body_register_device(const uint8_t chain[32], uint64_t nonce,
                                  const uint8_t device_id[16],
                                  const uint8_t vendor[16],
                                  const uint8_t class_id[16],
                                  const dsuit_key_t *device_key, uint8_t *out,
                                  size_t out_cap, size_t *out_len);

/**
 * Wrap a body into a transaction signed by each of `signers` (private
 * keys; P-256 signs with ES256 (-7), Ed25519 with EdDSA (-8)), signatures
 * in ascending key-id order. n_signers may be 0 (a publish).
 * Errors: DSUIT_E_KEY, DSUIT_E_LIMIT (*out_len = needed), DSUIT_E_INVAL
 * (the same key twice, too many signers), DSUIT_E_CRYPTO.
 */
int dsuit_tx_assemble(const uint8_t *body, size_t body_len,
                      const dsuit_key_t *signers, size_t n_signers,
                      uint8_t *out, size_t out_cap, size_t *out_len);

/**
 * Add one signature to an encoded transaction (offline registrars): the
 * result keeps every existing signature, in ascending key-id order.
 * Errors: DSUIT_E_EXISTS (that key already signed), DSUIT_E_LIMIT, decode
 * errors.
 */
int dsuit_tx_add_signature(const uint8_t *tx, size_t tx_len,
                           const dsuit_key_t *signer, uint8_t *out,
                           size_t out_cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_TX_H */
