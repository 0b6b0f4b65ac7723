/*
 * dsuit CoAP client: a small synchronous CoAP client (RFC 7252) over
 * DTLS 1.2 (RFC 6347) on libcoap 3, for the reference device
 * of `dsuit device run|once` (src/cli/device_client.c) talking to a node's
 * device service (src/net/coap/server.c). Node side: it allocates.
 *
 * One client is one DTLS session to one node, authenticated with a
 * pre-shared key or a raw public key (RFC 7250, P-256 only). Every call
 * sends a request and waits for its answer, bounded by the client's
 * timeout per exchange: a DTLS handshake that fails shows up in libcoap
 * only as silence, so silence past the deadline is DSUIT_E_IO.
 *
 * Block-wise transfer (RFC 7959) is driven here, one request per block,
 * with libcoap's own block handling off (COAP_BLOCK_USE_LIBCOAP not set):
 * that is what lets a GET start at a byte offset (a resumed download asks
 * for Block2 number offset/1024 first) and hands each block to the caller
 * as it arrives, so nothing here holds a whole body. Requests ask for
 * 1024-byte blocks (SZX 6); a server choosing smaller blocks is followed.
 * Long POST bodies go out as Block1.
 *
 * Observe (RFC 7641) is used only as a trigger: the client keeps one
 * observation and counts notifications; the caller then GETs the resource
 * afresh. libcoap is set up once per process (pthread_once).
 */
#ifndef DSUIT_NET_COAP_CLIENT_H
#define DSUIT_NET_COAP_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "dsuit/error.h"

/* Block size asked for; a GET's start offset must be a multiple of it. */
#define DSUIT_COAP_BLOCK_SIZE 1024u
/* Bytes of an error response's diagnostic payload kept (with the NUL). */
#define DSUIT_COAP_DIAG_MAX 128
/* CoAP Content-Formats the device service uses. */
#define DSUIT_COAP_CF_OCTET_STREAM 42
#define DSUIT_COAP_CF_CBOR         60

typedef struct dsuit_coap_client dsuit_coap_client_t;

/* How to reach and authenticate to the node. Exactly one of PSK
 * (psk_identity set) or RPK (rpk_pem set) must be given. The strings and
 * buffers are copied by dsuit_coap_client_open(). */
typedef struct {
    const char *psk_identity; /* PSK: identity, 1..128 bytes */
    const uint8_t *psk_key;   /* PSK: the key, 1..64 bytes */
    size_t psk_key_len;
    const uint8_t *rpk_pem; /* RPK: a P-256 private key in PEM (PKCS#8 or
                               SEC1) */
    size_t rpk_pem_len;
    /* RPK: its public key in PEM ("PUBLIC KEY"), which is what the node
     * sees. GnuTLS reads the public half out of a private key only in SEC1
     * form ("EC PRIVATE KEY"); NULL uses rpk_pem for it, which then must
     * be SEC1. */
    const uint8_t *rpk_pub_pem;
    size_t rpk_pub_pem_len;
    unsigned timeout_ms; /* each exchange (handshake included); 0 = 5000 */
    /* If not NULL, every wait ends early with DSUIT_E_AGAIN once *stop is
     * non-zero (a signal handler sets it). */
    volatile sig_atomic_t *stop;
} dsuit_coap_client_opts_t;

/* What a response said. code is class * 100 + detail (205, 404, 503). */
typedef struct {
    int code;
    int has_content_format;
    uint16_t content_format;
    uint8_t etag[8];
    size_t etag_len;
    uint64_t body_len;              /* body bytes handed to the callback */
    char diag[DSUIT_COAP_DIAG_MAX]; /* an error response's payload, NUL-
                                       terminated, control bytes as '?' */
} dsuit_coap_result_t;

/*
 * Called for each piece of a 2.05 body in order: `offset` is where data
 * starts in the whole body, `last` is 1 on the final piece. The first call
 * may have an offset below the one asked for (a server that ignores the
 * requested block starts over at 0); the callback must then start over
 * too. A return other than DSUIT_OK stops the transfer and is returned by
 * the GET. Never called for other response codes.
 */
typedef int (*dsuit_coap_body_fn)(void *arg, uint64_t offset,
                                  const uint8_t *data, size_t len, int last);

/**
 * Set up a DTLS session to uri. The handshake itself happens with the
 * first request.
 * @param[in] uri  "coaps://HOST:PORT" (HOST a name, an IPv4 address or an
 *                 IPv6 address in brackets); no path
 * @param[out] out  the client (dsuit_coap_client_close), written only on
 *                  success
 * Errors: DSUIT_E_INVAL (not such a URI, no or both of PSK and RPK, a key
 * or identity of the wrong size), DSUIT_E_IO (the name does not resolve,
 * libcoap refuses the session or the key), DSUIT_E_NOMEM.
 */
int dsuit_coap_client_open(const char *uri,
                           const dsuit_coap_client_opts_t *opts,
                           dsuit_coap_client_t **out);

/** Cancel any observation, end the session and free the client; NULL does
 * nothing. Wipes the copied key material. */
void dsuit_coap_client_close(dsuit_coap_client_t *c);

/**
 * GET path, block by block from byte offset `offset`, handing each 2.05
 * block to body(arg, ...) as it arrives. Stops at the last block, at the
 * first response that is not 2.05 (its code and diagnostic in *out), or
 * when body returns an error.
 * @param[in] path    "/a/b/c" (segments become Uri-Path options)
 * @param[in] offset  a multiple of DSUIT_COAP_BLOCK_SIZE
 * @param[out] out    the response's code, Content-Format and ETag (those of
 *                    the first block), body length; written when the
 *                    exchange ended with a response (DSUIT_OK)
 * Errors: DSUIT_E_IO (no answer within the timeout, DTLS failure, session
 * closed, a malformed or inconsistent block sequence, the ETag changing
 * between blocks), DSUIT_E_AGAIN (*opts.stop was set), DSUIT_E_INVAL (bad
 * path or offset), DSUIT_E_NOMEM, or what body returned.
 */
int dsuit_coap_client_get(dsuit_coap_client_t *c, const char *path,
                          uint64_t offset, dsuit_coap_body_fn body, void *arg,
                          dsuit_coap_result_t *out);

/**
 * POST data to path with the given Content-Format (Block1 if longer than
 * one block) and wait for the final response.
 * @param[out] out  code and diagnostic of the final response
 * Errors: as dsuit_coap_client_get().
 */
int dsuit_coap_client_post(dsuit_coap_client_t *c, const char *path,
                           uint16_t content_format, const uint8_t *data,
                           size_t len, dsuit_coap_result_t *out);

/**
 * Register an observation of path (GET with Observe 0) and wait for the
 * first response. Any previous observation is forgotten.
 * @param[out] out  the first response's code (its body is discarded)
 * Errors: as dsuit_coap_client_get(); DSUIT_E_UNSUPPORTED if the answer is
 * 2.05 without an Observe option (the server does not keep observers).
 * An answer other than 2.05 is DSUIT_OK with that code, and no
 * observation.
 */
int dsuit_coap_client_observe(dsuit_coap_client_t *c, const char *path,
                              dsuit_coap_result_t *out);

/**
 * Run the client's I/O for up to timeout_ms, returning early once a
 * notification for the observation arrived.
 * @param[out] out_notified  notifications since the last call (0 if none)
 * Errors: DSUIT_E_IO (no observation, or it ended: the session closed,
 * the server sent an error code or reset), DSUIT_E_AGAIN (*opts.stop).
 */
int dsuit_coap_client_wait(dsuit_coap_client_t *c, unsigned timeout_ms,
                           unsigned *out_notified);

/** The URI the client was opened with (for messages). */
const char *dsuit_coap_client_uri(const dsuit_coap_client_t *c);

#endif /* DSUIT_NET_COAP_CLIENT_H */
