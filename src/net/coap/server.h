/*
 * dsuit CoAP server: a small wrapper around libcoap3 (4.3.1, GnuTLS build)
 * for the node's device service (ARCHITECTURE.md, "Interfaces"). Node side.
 *
 * One DTLS 1.2 endpoint takes both kinds of device credential:
 *   pre-shared keys  the psk_key callback gives the key of an identity, or
 *                    refuses it (the handshake fails with an alert)
 *   raw public keys  (RFC 7250) the rpk_allowed callback sees the client's
 *                    SubjectPublicKeyInfo (DER) and accepts or refuses it;
 *                    the server shows its own P-256 key (rpk_key_pem)
 * and, only if plain_port is set, an unauthenticated CoAP endpoint.
 *
 * The server calls one handler per request with the method, path, payload
 * and the authenticated peer, as the HTTP server does; the handler fills a
 * response. Bodies larger than a block go out block-wise (RFC 7959 Block2)
 * from the one buffer the handler gave, which the server releases when the
 * transfer ends (libcoap keeps it for later block requests).
 *
 * Observe (RFC 7641): paths named by dsuit_coap_server_changed() become
 * observable resources; the next GET with Observe registers the client and
 * every later call for that path re-runs the handler for each observer and
 * sends the result as a notification. Other paths are answered through
 * libcoap's "unknown resource" and cannot be observed.
 *
 * Threading: libcoap 4.3.1 has no locking, so the context belongs to one
 * thread the server starts. It waits in poll() on libcoap's epoll fd and an
 * eventfd; dsuit_coap_server_changed() and _stop() (any thread) queue work
 * and write the eventfd. Handlers run on that thread, one at a time.
 */
#ifndef DSUIT_NET_COAP_SERVER_H
#define DSUIT_NET_COAP_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct dsuit_coap_server dsuit_coap_server_t;

/* Who sent a request. */
typedef enum {
    DSUIT_COAP_PEER_NONE = 0, /* plain CoAP: not authenticated */
    DSUIT_COAP_PEER_PSK = 1,  /* id = the PSK identity */
    DSUIT_COAP_PEER_RPK = 2   /* spki = the client's public key (DER) */
} dsuit_coap_peer_kind_t;

#define DSUIT_COAP_ID_MAX   64
#define DSUIT_COAP_SPKI_MAX 160

typedef struct {
    dsuit_coap_peer_kind_t kind;
    uint8_t id[DSUIT_COAP_ID_MAX];
    size_t id_len;
    uint8_t spki[DSUIT_COAP_SPKI_MAX];
    size_t spki_len;
} dsuit_coap_peer_t;

typedef struct {
    const char *method; /* "GET", "POST", "PUT", "DELETE", "FETCH", ... */
    const char *path;   /* "/fw/..." (Uri-Path options joined) */
    const uint8_t *body;
    size_t len;
    const dsuit_coap_peer_t *peer;
} dsuit_coap_request_t;

/* Content-Format numbers used by dsuit. */
#define DSUIT_COAP_TEXT  0
#define DSUIT_COAP_OCTET 42
#define DSUIT_COAP_JSON  50
#define DSUIT_COAP_CBOR  60

typedef struct {
    /* Response code as class * 100 + detail (205 Content, 204 Changed,
     * 403 Forbidden, ...). 0: 5.00. */
    int code;
    int content_format; /* -1: none */
    uint64_t etag;      /* 0: none */
    /* The body: free(body) after the transfer, or release(body, len,
     * release_arg) when release is set (an mmap'd image). */
    uint8_t *body;
    size_t len;
    void (*release)(uint8_t *body, size_t len, void *release_arg);
    void *release_arg;
} dsuit_coap_response_t;

typedef struct {
    const char *host;    /* address to bind, e.g. "127.0.0.1" */
    uint16_t port;       /* DTLS (coaps) */
    uint16_t plain_port; /* 0: no plain CoAP (the default) */
    /* The server's P-256 key for raw-public-key handshakes: the private key
     * (PKCS#8 PEM) and its public key ("PUBLIC KEY" PEM; GnuTLS reads the
     * raw public key from it). NULL: no RPK. */
    const uint8_t *rpk_key_pem;
    size_t rpk_key_pem_len;
    const uint8_t *rpk_pub_pem;
    size_t rpk_pub_pem_len;
    /* Copy the key of a PSK identity into key (at most key_cap bytes).
     * Returns 0, or -1 for an unknown identity. */
    int (*psk_key)(void *arg, const uint8_t *id, size_t id_len, uint8_t *key,
                   size_t key_cap, size_t *key_len);
    /* Is this raw public key (SubjectPublicKeyInfo DER) allowed? 1 or 0. */
    int (*rpk_allowed)(void *arg, const uint8_t *spki, size_t len);
    void (*handle)(void *arg, const dsuit_coap_request_t *req,
                   dsuit_coap_response_t *resp);
    void *arg;
    unsigned max_sessions; /* 0: 1024 */
} dsuit_coap_server_opts_t;

/**
 * Bind, set up DTLS and start the server thread.
 * Errors: DSUIT_E_IO (cannot bind, no DTLS support), DSUIT_E_INVAL
 * (options), DSUIT_E_NOMEM.
 */
int dsuit_coap_server_start(const dsuit_coap_server_opts_t *o,
                            dsuit_coap_server_t **out);

/**
 * From any thread: the content of `path` changed (or exists from now on).
 * The path becomes an observable resource and its observers are notified.
 * Errors: DSUIT_E_NOMEM, DSUIT_E_LIMIT (path too long).
 */
int dsuit_coap_server_changed(dsuit_coap_server_t *s, const char *path);

/** Stop the thread, close every session, free the server (NULL ok). */
void dsuit_coap_server_stop(dsuit_coap_server_t *s);

#endif /* DSUIT_NET_COAP_SERVER_H */
