/*
 * dsuit chunks: firmware images stored as content-addressed chunks
 * (ARCHITECTURE.md, "Storage"). Node side.
 *
 *   - an image is cut into chunks of the policy's chunk size (the last may
 *     be shorter); each chunk is named by its SHA-256;
 *   - a node keeps its chunks as files under DIR/chunks/ab/cd/<64 hex>,
 *     written atomically (temporary file, fsync, rename, fsync folder), and
 *     checks the hash on every read, so a damaged file is never served;
 *   - which validators hold a chunk is decided by rendezvous hashing over
 *     the validators' key ids: the R highest scores SHA-256(chunk digest ||
 *     key id) win. Every node computes the same placement, nothing needs
 *     storing, and when a validator is missing the next in rendezvous order
 *     takes over, moving only the chunks it held.
 */
#ifndef DSUIT_CHUNK_H
#define DSUIT_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- cutting images into chunks --------------------------------------- */

/** Number of chunks of an image: ceil(size / chunk_size); 0 if size is 0. */
uint64_t dsuit_chunk_count(uint64_t size, uint64_t chunk_size);

/*
 * Streaming chunker: feed the image in pieces of any size; it hashes each
 * chunk and the whole image as the bytes pass. Caller-owned; no _free.
 */
typedef struct {
    uint64_t chunk_size;
    uint64_t fill;  /* bytes of the current chunk so far */
    uint64_t total; /* bytes fed */
    dsuit_sha256_ctx_t chunk, image;
    uint8_t (*digests)[32]; /* caller's array */
    size_t cap, n;          /* its capacity; chunks completed */
} dsuit_chunker_t;

/**
 * Start cutting into chunks of chunk_size, writing digests into
 * digests[0..cap).
 * Errors: DSUIT_E_INVAL (chunk_size 0, digests NULL with cap > 0).
 */
int dsuit_chunker_init(dsuit_chunker_t *c, uint64_t chunk_size,
                       uint8_t (*digests)[32], size_t cap);

/** Feed bytes. Errors: DSUIT_E_LIMIT (more chunks than cap). */
int dsuit_chunker_update(dsuit_chunker_t *c, const uint8_t *p, size_t len);

/**
 * End of the image: close the last chunk, write the whole image's SHA-256.
 * @param[out] out_n  chunks written
 * Errors: DSUIT_E_LIMIT.
 */
int dsuit_chunker_final(dsuit_chunker_t *c, uint8_t image_digest[32],
                        size_t *out_n);

/* ---- placement --------------------------------------------------------- */

/**
 * Rendezvous placement: the validators (by index into key_ids) that hold a
 * chunk, best first. Writes min(replicas, n) indices.
 * @param[in] key_ids  n validators' key ids, 32 bytes each, genesis order
 * @param[out] out     at least min(replicas, n) entries
 * Errors: DSUIT_E_INVAL (n 0 or more than 64).
 */
int dsuit_chunk_place(const uint8_t chunk[32], const uint8_t (*key_ids)[32],
                      size_t n, size_t replicas, size_t *out);

/** Rendezvous order of every validator for a chunk (all n, best first). */
int dsuit_chunk_rank(const uint8_t chunk[32], const uint8_t (*key_ids)[32],
                     size_t n, size_t *out);

/* ---- the chunk files ---------------------------------------------------- */

typedef struct dsuit_chunks dsuit_chunks_t;

/**
 * Open the chunk folder DIR/chunks (created if needed; DIR must exist).
 * Leftover temporary files of interrupted writes are removed.
 * Errors: DSUIT_E_IO, DSUIT_E_NOMEM. Close with dsuit_chunks_close().
 */
int dsuit_chunks_open(const char *dir, dsuit_chunks_t **out);

/** Close; NULL does nothing. */
void dsuit_chunks_close(dsuit_chunks_t *c);

/**
 * Store a chunk after checking that data hashes to digest. Atomic and
 * durable on return; storing a chunk already present is a no-op (the
 * present file is checked and replaced if it is damaged).
 * Errors: DSUIT_E_DIGEST (data does not match), DSUIT_E_IO.
 */
int dsuit_chunks_put(dsuit_chunks_t *c, const uint8_t digest[32],
                     const uint8_t *data, size_t len);

/**
 * Read a chunk, checking its hash. A file that no longer matches its name
 * is deleted (it will be repaired from a peer) and reported.
 * @param[in]  max    largest chunk accepted
 * @param[out] out    malloc'd, caller frees
 * Errors: DSUIT_E_NOTFOUND, DSUIT_E_DIGEST (damaged: now removed),
 * DSUIT_E_LIMIT (larger than max), DSUIT_E_IO, DSUIT_E_NOMEM.
 */
int dsuit_chunks_get(dsuit_chunks_t *c, const uint8_t digest[32], size_t max,
                     uint8_t **out, size_t *out_len);

/** 1 if a file for the chunk exists (not checked), else 0. */
int dsuit_chunks_has(dsuit_chunks_t *c, const uint8_t digest[32]);

/** Remove a chunk. Errors: DSUIT_E_NOTFOUND, DSUIT_E_IO. */
int dsuit_chunks_del(dsuit_chunks_t *c, const uint8_t digest[32]);

/** Count the chunks and their bytes. Errors: DSUIT_E_IO. */
int dsuit_chunks_stat(dsuit_chunks_t *c, uint64_t *out_count,
                      uint64_t *out_bytes);

#ifdef __cplusplus
}
#endif
#endif /* DSUIT_CHUNK_H */
