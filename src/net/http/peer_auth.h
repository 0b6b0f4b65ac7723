/*
 * dsuit peer authentication: how one validator signs an internal HTTP
 * request (chunk transfer, signature gossip) and how the receiver checks
 * it against the genesis validator keys. Node side.
 *
 * Wire format, three request headers:
 *
 *     X-Dsuit-Node: <validator index>      decimal, no leading zeros
 *     X-Dsuit-Time: <unix time in ms>      decimal, no leading zeros
 *     X-Dsuit-Sig:  <signature>            128 lower-case hex digits
 *
 * The signature (dsuit_sig_sign: ECDSA P-256 raw r||s or Ed25519, by the
 * validator's key type) covers the byte string
 *
 *     field          bytes
 *     "dsuit-peer-v1"   13   domain separation from every other signature
 *     chain id hash     32   the genesis hash: no replay across chains
 *     method            var  "GET", "POST", ... ("HEAD" for HEAD)
 *     "\n"               1
 *     path              var  as the receiver sees it (decoded, no query)
 *     "\n"               1
 *     time              var  the X-Dsuit-Time value, as sent
 *     "\n"               1
 *     SHA-256(body)     32   the whole request body (empty: SHA-256(""))
 *
 * Paths are restricted so that signer and receiver see the same bytes:
 * they start with '/', hold at most DSUIT_PEER_PATH_MAX characters, and
 * only RFC 3986 path characters other than '%' (unreserved, sub-delims,
 * ':', '@', '/'). A request with a query string is refused: the signature
 * would not cover it, so internal endpoints take parameters in the path or
 * the body.
 *
 * Freshness and replays: the time must be within max_skew_ms of the
 * receiver's clock either way. Within that window the same signed request
 * could be sent again; dsuit_peer_verify() remembers, per validator,
 * each request it accepted until its time is older than the window, and
 * refuses a repeat. It keys on SHA-256 of the signed bytes, not on the
 * signature: an ECDSA signature (r, s) has a twin (r, n - s) that verifies
 * too, so keying on signature bytes would let a replay through. A sender
 * must therefore never send two requests with the same method, path, time
 * and body (a retry takes a new time).
 */
#ifndef DSUIT_NET_HTTP_PEER_AUTH_H
#define DSUIT_NET_HTTP_PEER_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "net/http/server.h"

#define DSUIT_PEER_HEADER_MAX     200  /* bytes per header line, NUL included */
#define DSUIT_PEER_PATH_MAX       1024 /* characters of a signed path */
#define DSUIT_PEER_DEFAULT_WINDOW 4096 /* remembered requests per validator */

/**
 * Sign an internal request. Writes three NUL-terminated header lines
 * "X-Dsuit-Node: ...", "X-Dsuit-Time: ...", "X-Dsuit-Sig: ..." ready for
 * dsuit_http_request()'s header list.
 * @param[in] key    this validator's private key (P-256 or Ed25519)
 * @param[in] index  this validator's index in the genesis
 * @param[in] chain  the genesis hash (chain id hash)
 * @param[in] path   the request path, no query (see above)
 * @param[in] body   the request body, len bytes (NULL if len is 0)
 * @param[in] now_ms the sender's clock, unix time in milliseconds
 * @param[out] out_headers  written only on success
 * Errors: DSUIT_E_INVAL (method not a token, path not allowed, NULL
 * arguments), DSUIT_E_KEY (not a P-256 or Ed25519 private key),
 * DSUIT_E_CRYPTO.
 */
int dsuit_peer_sign(const dsuit_key_t *key, uint64_t index,
                    const uint8_t chain[DSUIT_SHA256_LEN], const char *method,
                    const char *path, const uint8_t *body, size_t len,
                    uint64_t now_ms,
                    char out_headers[3][DSUIT_PEER_HEADER_MAX]);

/*
 * Replay guard: per validator, a table of `window` slots, each remembering
 * one accepted request (16 bytes of the SHA-256 of its signed bytes and the
 * time it leaves the skew window). Memory is fixed at creation:
 * n_validators * window * 32 bytes (4 validators with the default window:
 * 512 KiB; the maximum 64: 8 MiB). A slot is reused once its request is
 * older than the skew window, so a validator can send about
 * window / max_skew requests per second before it is refused with
 * DSUIT_E_LIMIT (never by forgetting a live entry, which would let a replay
 * in). One mutex guards the tables; the signature check runs outside it.
 */
typedef struct dsuit_peer_guard dsuit_peer_guard_t;

/**
 * @param[in] n_validators  validators in the genesis (1..64)
 * @param[in] window        slots per validator; 0: DSUIT_PEER_DEFAULT_WINDOW
 * @param[out] out          free with dsuit_peer_guard_free()
 * Errors: DSUIT_E_INVAL, DSUIT_E_NOMEM.
 */
int dsuit_peer_guard_new(size_t n_validators, size_t window,
                         dsuit_peer_guard_t **out);

/** Free a guard; NULL does nothing. */
void dsuit_peer_guard_free(dsuit_peer_guard_t *guard);

/**
 * Check a received request's peer signature against g's validator keys and
 * chain id hash, then refuse it if the guard has already accepted it within
 * the skew window, else remember it. Thread-safe. This is the check for
 * every internal route.
 * @param[in] guard  made for at least g->n_validators validators
 * @param[out] out_index  the sending validator's index, only on success
 * Errors: DSUIT_E_SIGNATURE (a header missing or malformed, unknown index,
 * time more than max_skew_ms from now_ms either way, a query string, a path
 * not allowed, signature does not verify, a replay), DSUIT_E_LIMIT (the
 * validator's slots are all live: it sends too fast; answer 503 and let it
 * retry), DSUIT_E_INVAL (NULL arguments, g has more validators than the
 * guard was made for), DSUIT_E_CRYPTO.
 */
int dsuit_peer_verify(dsuit_peer_guard_t *guard, const dsuit_genesis_t *g,
                      const dsuit_http_request_t *req, uint64_t now_ms,
                      uint64_t max_skew_ms, uint64_t *out_index);

/**
 * dsuit_peer_verify() without the replay guard: checks the signature and
 * the time only, so the same request passes again within the skew window.
 * For tests and for read-only inspection; never for a route that acts.
 * Errors: as dsuit_peer_verify(), but never a replay or DSUIT_E_LIMIT.
 */
int dsuit_peer_check(const dsuit_genesis_t *g, const dsuit_http_request_t *req,
                     uint64_t now_ms, uint64_t max_skew_ms,
                     uint64_t *out_index);

#endif /* DSUIT_NET_HTTP_PEER_AUTH_H */
