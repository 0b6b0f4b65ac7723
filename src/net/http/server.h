/*
 * dsuit HTTP server: a small wrapper around libmicrohttpd (MHD 0.9.75) for
 * the node's author/operator API and the internal peer API (ARCHITECTURE.md,
 * "Interfaces" and "Process model"). Node side.
 *
 * The wrapper hides MHD's multi-call access handler: it buffers the whole
 * request body (up to opts.max_body) and calls one handler once per request
 * with the method, decoded path, body, and the peer's address; the handler
 * fills a response struct and the server sends it.
 *
 * Request flow, as MHD calls the access handler for one request:
 *
 *     headers received ---> Content-Length > max_body ? 413 + close (the
 *           |               body is never read)
 *           v
 *     body slices ---------> appended to a buffer; past max_body (chunked
 *           |               upload, length unknown up front): the
 *           |               connection is closed without a response, since
 *           |               MHD cannot queue one in the middle of a body
 *           v
 *     request complete ----> handler(arg, &req, &resp) -> response queued
 *
 * Threading: MHD's internal polling threads, as a pool of opts.threads
 * threads, each running epoll over its share of the connections
 * (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL + THREAD_POOL_SIZE).
 * Chosen over thread-per-connection because an idle or slow client then
 * costs a socket and MHD's per-connection memory pool, not a thread with a
 * stack: with thread-per-connection every one of max_connections clients
 * could pin a thread for the whole timeout. The cost: a handler blocks the
 * other connections of its pool thread while it runs, so handlers must be
 * quick (LMDB read transactions, queueing work for the loop thread); long
 * work (hashing a large image, fetching chunks from peers) is handed to a
 * worker and, once streaming exists, answered through MHD's suspend/resume.
 * Handlers run on several threads at once: they must be thread-safe.
 *
 * Resource bounds against slow or hostile clients: at most
 * opts.max_connections connections in total and opts.per_ip_limit per client
 * address (more are accepted and closed at once), and a connection idle for
 * opts.timeout_s seconds is closed (a client that connects and sends nothing
 * holds its slot for at most that long). Per connection MHD keeps a 32 KiB
 * memory pool for headers; the body buffer is bounded by max_body.
 *
 * HEAD: the handler sees a HEAD request as "GET" with req->head set and
 * answers as for GET; the server sends the headers (Content-Length
 * included) and drops the body. Anything else about methods (405 for an
 * unsupported one) is the handler's job.
 *
 * Streaming: large uploads (a PUT of a firmware image) are not buffered.
 * With opts.stream set, the server asks it, once the headers of a request
 * are in and before any of its body is read, whether it wants the body in
 * slices:
 *
 *     headers received ---> stream(arg, &req_without_body, &resp)
 *           |                  resp filled: answered at once (the body is
 *           |                      never read), e.g. 404, 409, 413
 *           |                  a sink: body slices go to sink->write, in
 *           |                      order, on the server thread; max_body
 *           |                      does not apply (the sink enforces its
 *           |                      own limit); a write that fails closes
 *           |                      the connection without an answer
 *           |                  NULL: buffered, as above
 *           v
 *     request complete ----> sink->finish(sink, &resp) -> response queued
 *     always, last --------> sink->close(sink), also when the client went
 *                            away mid-body
 *
 * A sink does its work on the server thread, like a handler: writing to a
 * local spool file and hashing keep up with a network at loopback speed;
 * if that ever stops being true, the sink can return "again" and the
 * server suspend the connection (MHD_ALLOW_SUSPEND_RESUME), not built.
 */
#ifndef DSUIT_NET_HTTP_SERVER_H
#define DSUIT_NET_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/error.h"

typedef struct dsuit_http_server dsuit_http_server_t;

/* One request, borrowed by the handler for the duration of its call only:
 * every pointer in it, and every string dsuit_http_header() and
 * dsuit_http_query() return, is invalid once the handler returns. */
typedef struct {
    const char *method;  /* "GET", "POST", "PUT" ...; "GET" for HEAD */
    const char *path;    /* percent-decoded path, no query */
    const uint8_t *body; /* the whole body (never NULL; "" when empty) */
    size_t body_len;
    const char *peer; /* "ip:port" of the client ("[ip6]:port" for IPv6) */
    void *conn;       /* opaque, for dsuit_http_header / dsuit_http_query */
    int head;         /* 1 if the request was HEAD: the body will be dropped */
} dsuit_http_request_t;

/** A request header by name (case-insensitive), or NULL. */
const char *dsuit_http_header(const dsuit_http_request_t *r, const char *name);

/** A query argument by name (decoded), or NULL. An argument given with no
 * value ("?a") returns "". */
const char *dsuit_http_query(const dsuit_http_request_t *r, const char *name);

/** Number of query arguments in the request's URL. */
size_t dsuit_http_query_count(const dsuit_http_request_t *r);

/*
 * The handler's answer. The server zeroes it before the call. body is
 * malloc'd by the handler and owned by the server from then on (freed after
 * sending, also on error); NULL with len 0 sends an empty body. A status
 * outside 100..599 (0 included: the handler forgot) is answered as 500.
 * content_type and location are borrowed: string literals, or memory that
 * outlives the server (they are copied before the handler's call returns to
 * MHD).
 */
typedef struct {
    int status;
    const char *content_type; /* NULL: no Content-Type header */
    uint8_t *body;
    size_t len;
    const char *location; /* optional Location header */
    /* Instead of body: with from_file set, len bytes of the open file fd
     * from byte offset are sent (by sendfile where the system has it); the
     * server owns fd from then on and closes it, also on error. */
    int from_file;
    int fd;
    uint64_t offset;
    /* Optional headers, sent when not empty: ETag (with its quotes),
     * Content-Range; Accept-Ranges: bytes when accept_ranges is set. */
    char etag[32];
    char content_range[80];
    int accept_ranges;
} dsuit_http_response_t;

/* Called once per complete request on one of the server's threads, possibly
 * on several threads at the same time. */
typedef void (*dsuit_http_handler_fn)(void *arg,
                                      const dsuit_http_request_t *req,
                                      dsuit_http_response_t *resp);

/* A streamed request body's consumer (see "Streaming" above). */
typedef struct dsuit_http_sink dsuit_http_sink_t;
struct dsuit_http_sink {
    /** A slice of the body, in order. Return 0 to go on; anything else
     * closes the connection with no answer (one cannot be sent mid-body). */
    int (*write)(dsuit_http_sink_t *sink, const uint8_t *p, size_t n);
    /** The body is complete: fill resp as a handler does. */
    void (*finish)(dsuit_http_sink_t *sink, dsuit_http_response_t *resp);
    /** Called once, last, whether finish was called or not. */
    void (*close)(dsuit_http_sink_t *sink);
};

/* Called once per request when its headers are in, on a server thread.
 * req->body is empty. Return a sink to take the body in slices; or NULL
 * and either leave resp alone (the request is buffered and goes to the
 * handler) or fill it (resp->status != 0: that is the answer, and the body
 * is never read). */
typedef dsuit_http_sink_t *(*dsuit_http_stream_fn)(
    void *arg, const dsuit_http_request_t *req, dsuit_http_response_t *resp);

#define DSUIT_HTTP_DEFAULT_MAX_BODY        (1u << 20) /* 1 MiB */
#define DSUIT_HTTP_DEFAULT_THREADS         2u
#define DSUIT_HTTP_DEFAULT_TIMEOUT_S       30u
#define DSUIT_HTTP_DEFAULT_MAX_CONNECTIONS 256u
#define DSUIT_HTTP_DEFAULT_PER_IP_LIMIT    32u

/* Options; a 0 in a number field picks the DSUIT_HTTP_DEFAULT_ value. */
typedef struct {
    const char *host;            /* numeric IPv4 or IPv6 address to bind, e.g.
                                    "127.0.0.1"; never a wildcard unless given */
    uint16_t port;               /* 0: any free port (dsuit_http_server_port) */
    size_t max_body;             /* larger request bodies get 413 */
    unsigned threads;            /* polling threads in the pool */
    unsigned timeout_s;          /* idle connections are closed after this */
    unsigned max_connections;    /* in total */
    unsigned per_ip_limit;       /* per client address */
    dsuit_http_stream_fn stream; /* optional: takes bodies in slices */
} dsuit_http_opts_t;

/**
 * Bind o->host:o->port and start serving with h(arg, ...).
 * @param[in] o    options, read during the call only
 * @param[in] h    the handler; arg is passed to it unchanged
 * @param[out] out the server; stop it with dsuit_http_server_stop()
 * Errors: DSUIT_E_INVAL (no host, host not a numeric address, no handler,
 * per_ip_limit above max_connections), DSUIT_E_NOMEM, DSUIT_E_IO (MHD could
 * not start: the port is in use, the address is not local). On error h is
 * never called.
 */
int dsuit_http_server_start(const dsuit_http_opts_t *o, dsuit_http_handler_fn h,
                            void *arg, dsuit_http_server_t **out);

/** The port the server is bound to (the chosen one when o->port was 0). */
uint16_t dsuit_http_server_port(const dsuit_http_server_t *s);

/**
 * Stop accepting, close every connection, wait for running handlers to
 * return, and free the server. NULL does nothing. Must not be called from
 * a handler.
 */
void dsuit_http_server_stop(dsuit_http_server_t *s);

/**
 * Fill resp with a JSON error body {"error":error,"message":message} and
 * Content-Type application/json, freeing any body resp already held.
 * Strings are JSON-escaped; message may be NULL (then ""). On error resp is
 * left unchanged.
 * Errors: DSUIT_E_INVAL (status outside 100..599, error NULL),
 * DSUIT_E_NOMEM.
 */
int dsuit_http_json_error(dsuit_http_response_t *resp, int status,
                          const char *error, const char *message);

#endif /* DSUIT_NET_HTTP_SERVER_H */
