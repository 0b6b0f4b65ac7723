/*
 * dsuit HTTP server on libmicrohttpd: buffers each request body, calls the
 * node's handler once per request, sends its response (server.h has the
 * request flow, the threading choice and the resource bounds).
 *
 * MHD calls on_access() several times per request and keeps our per-request
 * state in *con_cls; on_completed() frees it whatever way the request ended
 * (answered, client gone, timeout, server stopping).
 */
#include "net/http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct dsuit_http_server {
    struct MHD_Daemon *d;
    dsuit_http_handler_fn handler;
    dsuit_http_stream_fn stream;
    void *arg;
    size_t max_body;
    uint16_t port;
};

/* Per-request state: the body is buffered, or given to a sink (chosen in
 * the first call, on_headers). */
struct req {
    uint8_t *buf;
    size_t len, cap;
    dsuit_http_sink_t *sink;
    char peer[INET6_ADDRSTRLEN + 16];
};

static const uint8_t empty_body[1];

const char *dsuit_http_header(const dsuit_http_request_t *r, const char *name)
{
    if (r == NULL || r->conn == NULL || name == NULL)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *dsuit_http_query(const dsuit_http_request_t *r, const char *name)
{
    const char *v = NULL;

    if (r == NULL || r->conn == NULL || name == NULL)
        return NULL;
    /* MHD returns NULL both for "absent" and for "?name" without a value;
     * tell them apart with the _n variant's return code. */
    if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, name,
                                      strlen(name), &v, NULL) != MHD_YES)
        return NULL;
    return v != NULL ? v : "";
}

size_t dsuit_http_query_count(const dsuit_http_request_t *r)
{
    int n;

    if (r == NULL || r->conn == NULL)
        return 0;
    n = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
    return n > 0 ? (size_t)n : 0;
}

static void format_peer(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci;
    char ip[INET6_ADDRSTRLEN];

    snprintf(out, cap, "?");
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ci->client_addr;
        if (inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip)) != NULL)
            snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ci->client_addr;
        if (inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip)) != NULL)
            snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
    }
}

/* Queue a response made of a static text; used for the server's own
 * answers (413, 500). close asks MHD to close the connection after it. */
static enum MHD_Result queue_static(struct MHD_Connection *c, unsigned status,
                                    const char *text, int close)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/json") != MHD_YES ||
        (close && MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
                                          "close") != MHD_YES)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static const char too_large_json[] =
    "{\"error\":\"payload-too-large\","
    "\"message\":\"request body exceeds the server's limit\"}";
static const char bad_length_json[] =
    "{\"error\":\"bad-request\",\"message\":\"malformed Content-Length\"}";
static const char internal_json[] =
    "{\"error\":\"internal\",\"message\":\"handler gave no valid response\"}";

/* Parse a Content-Length value: decimal digits only, no overflow. */
static int parse_length(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* The request as a handler (or the stream callback) sees it. */
static void fill_request(dsuit_http_request_t *req, struct MHD_Connection *c,
                         const char *url, const char *method,
                         const struct req *r)
{
    memset(req, 0, sizeof(*req));
    req->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    req->method = req->head ? MHD_HTTP_METHOD_GET : method;
    req->path = url;
    req->body = r->len ? r->buf : empty_body;
    req->body_len = r->len;
    req->peer = r->peer;
    req->conn = c;
}

static enum MHD_Result send_response(struct MHD_Connection *c,
                                     dsuit_http_response_t *hr);

/* First call for a request: headers are in, no body read yet. Refuse a body
 * announced larger than max_body here, before reading any of it; MHD then
 * closes the connection after the answer instead of reading the rest. */
static enum MHD_Result on_headers(dsuit_http_server_t *s,
                                  struct MHD_Connection *c, const char *url,
                                  const char *method, struct req *r)
{
    const char *cl;
    uint64_t n;

    format_peer(c, r->peer, sizeof(r->peer));
    if (s->stream != NULL) {
        dsuit_http_request_t req;
        dsuit_http_response_t resp;
        fill_request(&req, c, url, method, r);
        memset(&resp, 0, sizeof(resp));
        r->sink = s->stream(s->arg, &req, &resp);
        if (r->sink != NULL)
            return MHD_YES; /* the sink enforces its own limit */
        if (resp.status != 0)
            return send_response(c, &resp);
    }
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL)
        return MHD_YES; /* no body, or chunked: checked as it arrives */
    if (parse_length(cl, &n) != 0)
        return queue_static(c, MHD_HTTP_BAD_REQUEST, bad_length_json, 1);
    if (n > s->max_body)
        return queue_static(c, MHD_HTTP_CONTENT_TOO_LARGE, too_large_json, 1);
    if (n > 0) {
        /* Announced and within the limit: one allocation, no regrowth. */
        r->buf = malloc((size_t)n);
        if (r->buf == NULL)
            return MHD_NO;
        r->cap = (size_t)n;
    }
    return MHD_YES;
}

static int append_body(dsuit_http_server_t *s, struct req *r, const char *data,
                       size_t n)
{
    if (n > s->max_body - r->len)
        return DSUIT_E_LIMIT;
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        uint8_t *nb;
        while (cap < r->len + n)
            cap = cap > s->max_body / 2 ? s->max_body : cap * 2;
        nb = realloc(r->buf, cap);
        if (nb == NULL)
            return DSUIT_E_NOMEM;
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    return DSUIT_OK;
}

static enum MHD_Result send_response(struct MHD_Connection *c,
                                     dsuit_http_response_t *hr)
{
    struct MHD_Response *mr;
    enum MHD_Result ret;

    if (hr->status < 100 || hr->status > 599) {
        free(hr->body);
        if (hr->from_file)
            close(hr->fd);
        return queue_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, internal_json,
                            0);
    }
    if (hr->from_file) {
        free(hr->body);
        /* MHD closes the descriptor once the response is destroyed. */
        mr = MHD_create_response_from_fd_at_offset64(hr->len, hr->fd,
                                                     hr->offset);
        if (mr == NULL) {
            close(hr->fd);
            return MHD_NO;
        }
    } else if (hr->body != NULL) {
        /* MHD frees the body with free() once the response is destroyed. */
        mr = MHD_create_response_from_buffer(hr->len, hr->body,
                                             MHD_RESPMEM_MUST_FREE);
        if (mr == NULL) {
            free(hr->body);
            return MHD_NO;
        }
    } else {
        mr = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (mr == NULL)
            return MHD_NO;
    }
    if ((hr->content_type != NULL &&
         MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                 hr->content_type) != MHD_YES) ||
        (hr->location != NULL &&
         MHD_add_response_header(mr, MHD_HTTP_HEADER_LOCATION, hr->location) !=
             MHD_YES) ||
        (hr->etag[0] != '\0' &&
         MHD_add_response_header(mr, MHD_HTTP_HEADER_ETAG, hr->etag) !=
             MHD_YES) ||
        (hr->content_range[0] != '\0' &&
         MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_RANGE,
                                 hr->content_range) != MHD_YES) ||
        (hr->accept_ranges &&
         MHD_add_response_header(mr, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes") !=
             MHD_YES)) {
        MHD_destroy_response(mr);
        return MHD_NO;
    }
    ret = MHD_queue_response(c, (unsigned)hr->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c,
                                 const char *url, const char *method,
                                 const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    dsuit_http_server_t *s = cls;
    struct req *r = *con_cls;
    dsuit_http_request_t req;
    dsuit_http_response_t resp;

    (void)version;
    if (r == NULL) {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return MHD_NO;
        *con_cls = r;
        return on_headers(s, c, url, method, r);
    }
    if (*upload_size != 0 && r->sink != NULL) {
        if (r->sink->write(r->sink, (const uint8_t *)upload, *upload_size))
            return MHD_NO; /* refused mid-body: close */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        /* A chunked body past the limit: MHD cannot queue an answer in the
         * middle of a body, and reading the rest to answer 413 afterwards
         * would let a client make us read without end. Close instead. */
        if (append_body(s, r, upload, *upload_size) != DSUIT_OK)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }

    memset(&resp, 0, sizeof(resp));
    if (r->sink != NULL) {
        r->sink->finish(r->sink, &resp);
        return send_response(c, &resp);
    }
    fill_request(&req, c, url, method, r);
    s->handler(s->arg, &req, &resp);
    return send_response(c, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (r == NULL)
        return;
    if (r->sink != NULL)
        r->sink->close(r->sink);
    free(r->buf);
    free(r);
    *con_cls = NULL;
}

int dsuit_http_server_start(const dsuit_http_opts_t *o, dsuit_http_handler_fn h,
                            void *arg, dsuit_http_server_t **out)
{
    struct sockaddr_storage ss;
    /* No MHD_USE_ERROR_LOG: the library never prints. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    unsigned threads, timeout, max_conn, per_ip;
    const union MHD_DaemonInfo *info;
    dsuit_http_server_t *s;

    if (o == NULL || o->host == NULL || h == NULL || out == NULL)
        return DSUIT_E_INVAL;
    threads = o->threads ? o->threads : DSUIT_HTTP_DEFAULT_THREADS;
    timeout = o->timeout_s ? o->timeout_s : DSUIT_HTTP_DEFAULT_TIMEOUT_S;
    max_conn = o->max_connections ? o->max_connections
                                  : DSUIT_HTTP_DEFAULT_MAX_CONNECTIONS;
    per_ip =
        o->per_ip_limit ? o->per_ip_limit : DSUIT_HTTP_DEFAULT_PER_IP_LIMIT;
    /* MHD splits the connection limit among the pool's threads. */
    if (per_ip > max_conn || threads > max_conn || threads > 256)
        return DSUIT_E_INVAL;

    memset(&ss, 0, sizeof(ss));
    {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, o->host, &a4->sin_addr) == 1) {
            a4->sin_family = AF_INET;
            a4->sin_port = htons(o->port);
        } else if (inet_pton(AF_INET6, o->host, &a6->sin6_addr) == 1) {
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons(o->port);
            flags |= MHD_USE_IPv6;
        } else {
            return DSUIT_E_INVAL;
        }
    }

    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return DSUIT_E_NOMEM;
    s->handler = h;
    s->stream = o->stream;
    s->arg = arg;
    s->max_body = o->max_body ? o->max_body : DSUIT_HTTP_DEFAULT_MAX_BODY;

    s->d = MHD_start_daemon(
        flags, o->port, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, (void *)s, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_END);
    if (s->d == NULL) {
        free(s);
        return DSUIT_E_IO;
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        MHD_stop_daemon(s->d);
        free(s);
        return DSUIT_E_IO;
    }
    s->port = info->port;
    *out = s;
    return DSUIT_OK;
}

uint16_t dsuit_http_server_port(const dsuit_http_server_t *s)
{
    return s != NULL ? s->port : 0;
}

void dsuit_http_server_stop(dsuit_http_server_t *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}

/* JSON string escaping (RFC 8259 §7): json_escaped_len() is the room
 * json_escape() needs to write s at p; it returns the end. */
static size_t json_escaped_len(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            n += 2;
        else if (ch < 0x20)
            n += 6;
        else
            n += 1;
    }
    return n;
}

static char *json_escape(char *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            *p++ = '\\';
            *p++ = (char)ch;
        } else if (ch < 0x20) {
            memcpy(p, "\\u00", 4);
            p[4] = hex[ch >> 4];
            p[5] = hex[ch & 15];
            p += 6;
        } else {
            *p++ = (char)ch;
        }
    }
    return p;
}

int dsuit_http_json_error(dsuit_http_response_t *resp, int status,
                          const char *error, const char *message)
{
    static const char a[] = "{\"error\":\"", b[] = "\",\"message\":\"",
                      c[] = "\"}";
    size_t n;
    char *buf, *p;

    if (resp == NULL || error == NULL || status < 100 || status > 599)
        return DSUIT_E_INVAL;
    if (message == NULL)
        message = "";
    n = sizeof(a) - 1 + json_escaped_len(error) + sizeof(b) - 1 +
        json_escaped_len(message) + sizeof(c) - 1;
    buf = malloc(n + 1);
    if (buf == NULL)
        return DSUIT_E_NOMEM;
    p = buf;
    memcpy(p, a, sizeof(a) - 1);
    p = json_escape(p + sizeof(a) - 1, error);
    memcpy(p, b, sizeof(b) - 1);
    p = json_escape(p + sizeof(b) - 1, message);
    memcpy(p, c, sizeof(c) - 1);
    p += sizeof(c) - 1;
    *p = '\0';
    free(resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = (uint8_t *)buf;
    resp->len = (size_t)(p - buf);
    return DSUIT_OK;
}
