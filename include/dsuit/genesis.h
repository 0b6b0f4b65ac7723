/*
 * dsuit genesis: who runs a chain and by which rules (docs/formats/ledger.md,
 * "Genesis"). Node side.
 *
 * A genesis is decoded once when a node, CLI or light client starts, into a
 * heap object it reads from then on. Its SHA-256 (the chain id hash) goes
 * into every transaction, block header and certificate signature.
 */
#ifndef DSUIT_GENESIS_H
#define DSUIT_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DSUIT_GENESIS_MAX_VALIDATORS 64
#define DSUIT_GENESIS_MAX_REGISTRARS 64
#define DSUIT_GENESIS_NAME_MAX       63  /* chain and validator names */
#define DSUIT_GENESIS_HOST_MAX       253 /* a DNS name or an address */

/* Policy defaults (docs/formats/ledger.md). quorum 0 means floor(2n/3)+1. */
#define DSUIT_POLICY_CHUNK_SIZE     262144u
#define DSUIT_POLICY_REPLICAS       3u
#define DSUIT_POLICY_MAX_IMAGE_SIZE 104857600u
#define DSUIT_POLICY_HEARTBEAT_MS   5000u

typedef struct {
    char name[DSUIT_GENESIS_NAME_MAX + 1];
    dsuit_key_t key;               /* public only */
    uint8_t key_id[DSUIT_SHA256_LEN];
    char host[DSUIT_GENESIS_HOST_MAX + 1];
    uint16_t raft_port, http_port, coap_port;
} dsuit_validator_t;

typedef struct {
    uint64_t quorum;
    uint64_t chunk_size;
    uint64_t replicas;
    uint64_t max_image_size;
    uint64_t heartbeat_ms;
} dsuit_policy_t;

/*
 * A decoded (or to-be-encoded) genesis. Invariants after
 * dsuit_genesis_decode() or dsuit_genesis_validate(): the rules of
 * docs/formats/ledger.md hold; hash is SHA-256 of the encoding.
 */
typedef struct {
    char chain_name[DSUIT_GENESIS_NAME_MAX + 1];
    uint64_t time;
    dsuit_validator_t validators[DSUIT_GENESIS_MAX_VALIDATORS];
    size_t n_validators;
    dsuit_key_t registrars[DSUIT_GENESIS_MAX_REGISTRARS];
    uint8_t registrar_ids[DSUIT_GENESIS_MAX_REGISTRARS][DSUIT_SHA256_LEN];
    size_t n_registrars;
    uint64_t threshold;
    dsuit_policy_t policy;
    uint8_t hash[DSUIT_SHA256_LEN]; /* chain id hash, set by decode/encode */
} dsuit_genesis_t;

/**
 * Allocate a genesis with default policy and nothing else set.
 * Errors: DSUIT_E_NOMEM. Free with dsuit_genesis_free().
 */
int dsuit_genesis_new(dsuit_genesis_t **out);

/** Free a genesis; NULL does nothing. */
void dsuit_genesis_free(dsuit_genesis_t *g);

/**
 * Append a validator (public key copied, key id computed).
 * Errors: DSUIT_E_LIMIT (64 already), DSUIT_E_INVAL (name or host too long
 * or empty), DSUIT_E_KEY (not a P-256 or Ed25519 key).
 */
int dsuit_genesis_add_validator(dsuit_genesis_t *g, const char *name,
                                const dsuit_key_t *key, const char *host,
                                uint16_t raft_port, uint16_t http_port,
                                uint16_t coap_port);

/**
 * Append a registrar's public key (key id computed).
 * Errors: DSUIT_E_LIMIT, DSUIT_E_KEY.
 */
int dsuit_genesis_add_registrar(dsuit_genesis_t *g, const dsuit_key_t *key);

/**
 * Check the rules: validator count, distinct names and keys, ports set,
 * threshold within the registrars, quorum and replicas within n, chunk size
 * within [4096, 16 MiB]. A quorum of 0 is first replaced by floor(2n/3)+1.
 * @param[out] out_reason  a static explanation on failure (may be NULL)
 * Errors: DSUIT_E_INVAL.
 */
int dsuit_genesis_validate(dsuit_genesis_t *g, const char **out_reason);

/**
 * Validate, then encode deterministically and set g->hash.
 * Errors: as dsuit_genesis_validate(); DSUIT_E_LIMIT (*out_len = needed).
 */
int dsuit_genesis_encode(dsuit_genesis_t *g, uint8_t *out, size_t out_cap,
                         size_t *out_len);

/**
 * Decode and validate a genesis; refuses anything not in deterministic
 * encoding, unknown keys, bad keys.
 * @param[out] out  a new genesis owned by the caller (dsuit_genesis_free)
 * @param[out] out_reason  a static explanation on failure (may be NULL)
 * Errors: DSUIT_E_INVAL (rules), DSUIT_E_KEY, DSUIT_E_NOMEM, CBOR errors.
 */
int dsuit_genesis_decode(const uint8_t *buf, size_t len,
                         dsuit_genesis_t **out, const char **out_reason);

/** Index of the validator with this key id, or -1. */
int dsuit_genesis_validator_index(const dsuit_genesis_t *g,
                                  const uint8_t key_id[DSUIT_SHA256_LEN]);

/** Index of the registrar with this key id, or -1. */
int dsuit_genesis_registrar_index(const dsuit_genesis_t *g,
                                  const uint8_t key_id[DSUIT_SHA256_LEN]);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_GENESIS_H */
