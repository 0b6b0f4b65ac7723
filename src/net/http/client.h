/*
 * dsuit HTTP client: blocking requests to peer nodes over libcurl, for
 * chunk transfer and signature gossip on the internal API (ARCHITECTURE.md,
 * "Interfaces"). Node side.
 *
 * Each call uses its own curl handle, so calls from several threads at once
 * are safe; libcurl's global setup runs once (pthread_once) on the first
 * call. Only plain http:// URLs; redirects are never followed (a peer
 * answering 3xx gets the 3xx back); no signals (CURLOPT_NOSIGNAL), so
 * timeouts work on any thread. Calls block for at most timeout_ms (name
 * resolution, connect, send and receive together).
 */
#ifndef DSUIT_NET_HTTP_CLIENT_H
#define DSUIT_NET_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/error.h"

/**
 * Send one request and read the whole answer.
 *
 * @param[in] method   "GET", "HEAD", "POST", "PUT", "DELETE", ... (no
 *                     spaces or control characters)
 * @param[in] url      "http://host:port/path?query"
 * @param[in] headers  NULL-terminated array of "Name: value" lines, or NULL
 *                     (e.g. the three from dsuit_peer_sign()). Unless one
 *                     names Content-Type, a request with a body is sent
 *                     with none (curl would say form-urlencoded).
 * @param[in] body     request body, len bytes (NULL if len is 0); sent with
 *                     Content-Length for any method but GET and HEAD
 *                     (which send none)
 * @param[in] timeout_ms  whole request; 0 is refused
 * @param[out] out_status  HTTP status (any: 404 and 500 are not errors)
 * @param[out] out_body    the response body, malloc'd, caller frees, with
 *                         one NUL byte after the last (not counted), so a
 *                         text body is a C string; NULL: body discarded
 * @param[out] out_len     its length; may be NULL when out_body is NULL
 * @param[in] max_response  most response body bytes accepted
 * Out-params are written only on success.
 * Errors: DSUIT_E_INVAL (not an http:// URL, method empty or with spaces,
 * timeout 0, GET or HEAD with a body), DSUIT_E_IO (cannot resolve or
 * connect, connection lost, timeout, malformed answer), DSUIT_E_LIMIT (the
 * response body exceeds max_response), DSUIT_E_NOMEM.
 */
int dsuit_http_request(const char *method, const char *url,
                       const char *const *headers, const uint8_t *body,
                       size_t len, unsigned timeout_ms, long *out_status,
                       uint8_t **out_body, size_t *out_len,
                       size_t max_response);

#endif /* DSUIT_NET_HTTP_CLIENT_H */
