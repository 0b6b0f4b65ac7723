/*
 * Test helpers for tests/system/test_hostile.c: ways to talk to a node
 * that no well-behaved client offers. Raw HTTP/1.1 over a TCP socket (so
 * paths reach the server byte for byte: libcurl would squash "../" and
 * refuse some headers), raw UDP datagrams (garbage DTLS records, plain
 * CoAP), a CoAP message builder and parser (RFC 7252 §3) that allows any
 * code and any option length, and starting a cluster node with extra
 * `dsuit node run` options (--coap-plain-port).
 *
 * Every wait is bounded by the timeout its caller gives; nothing here
 * fails the running test except hf_start_node(), which is set-up.
 */
#ifndef DSUIT_TEST_HOSTILE_FIXTURE_H
#define DSUIT_TEST_HOSTILE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "device_fixture.h"

/* An HTTP answer read from a raw socket. status -1: no answer (refused,
 * reset or silent past the timeout); status 0: bytes that are not HTTP. */
typedef struct {
    int status;
    char head[4096]; /* status line and headers, NUL-terminated */
    uint8_t *body;   /* malloc'd, NUL-terminated; hf_http_free() */
    size_t body_len;
} hf_http_t;

/**
 * Send req (len bytes, exactly as given) to 127.0.0.1:port, then read the
 * answer until the peer closes or timeout_ms passes. The request should
 * ask for "Connection: close". Returns out->status.
 */
int hf_http_raw(uint16_t port, const void *req, size_t len, unsigned timeout_ms,
                hf_http_t *out);

/**
 * A request built here: "METHOD PATH HTTP/1.1", Host, Connection: close,
 * the CRLF-separated header lines of extra (may be NULL or ""), and
 * Content-Length: len when body is not NULL. Returns out->status.
 */
int hf_http(uint16_t port, const char *method, const char *path,
            const char *extra, const uint8_t *body, size_t len, hf_http_t *out);

/** The value of header name in an answer's head (into out), 1 if found. */
int hf_http_header(const hf_http_t *h, const char *name, char *out, size_t cap);

void hf_http_free(hf_http_t *h);

/**
 * Send one UDP datagram to 127.0.0.1:port from a fresh socket and wait up
 * to timeout_ms for one answer. Returns the answer's length (0..cap), or
 * -1 when nothing came back.
 */
long hf_udp(uint16_t port, const void *msg, size_t len, unsigned timeout_ms,
            uint8_t *ans, size_t cap);

/* A CoAP message. */
typedef struct {
    int type;               /* 0 CON, 1 NON, 2 ACK, 3 RST */
    int code;               /* class * 100 + detail: 1 GET, 205, 404 ... */
    uint16_t mid;           /* message id */
    int content_format;     /* -1: none */
    const uint8_t *payload; /* into the parsed buffer */
    size_t payload_len;
} hf_coap_t;

/**
 * Encode a confirmable request: code (the raw code byte, e.g. 0x01 GET,
 * 0x09 an unassigned method), a 2-byte token, path split on '/' into
 * Uri-Path options of any length (a leading '/' is skipped), an optional
 * Content-Format (cf < 0: none) and payload. Returns the length, or 0 if
 * out is too small.
 */
size_t hf_coap_build(uint8_t code, uint16_t mid, const char *path, int cf,
                     const uint8_t *payload, size_t len, uint8_t *out,
                     size_t cap);

/** Decode a CoAP message (any options skipped, Content-Format kept).
 * Returns 0, or -1 if it is not one. */
int hf_coap_parse(const uint8_t *p, size_t len, hf_coap_t *out);

/**
 * Start node i like cl_start() (same options), plus the NULL-terminated
 * extra arguments, and wait until its HTTP API answers. Sets cl->pid[i],
 * so cl_destroy() stops it. Fails the running test on error.
 */
void hf_start_node(cl_t *cl, size_t i, const char *const *extra);

#endif /* DSUIT_TEST_HOSTILE_FIXTURE_H */
