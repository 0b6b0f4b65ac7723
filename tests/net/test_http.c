/*
 * Tests of the node's HTTP layer on 127.0.0.1: the libmicrohttpd server
 * wrapper (echo handler: method, path, query, header, body), the libcurl
 * client, the server's bounds (413 before reading a body, slow clients cut
 * after the timeout, per-IP limit), and the peer request signatures with
 * their replay guard, through a real server.
 *
 * Every loop is bounded in count, and every wait in time (client timeouts,
 * SO_RCVTIMEO on raw sockets).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/crypto.h"
#include "dsuit/genesis.h"
#include "net/http/client.h"
#include "net/http/peer_auth.h"
#include "net/http/server.h"

#define MAX_BODY   4096
#define SKEW_MS    5000
#define TIMEOUT_MS 5000
#define N_VAL      4

static dsuit_http_server_t *srv;
static uint16_t port;
static dsuit_genesis_t *gen;
static dsuit_key_t keys[N_VAL];
static dsuit_peer_guard_t *guard;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the test handler ---------------------------------------------------- */

static void reply_text(dsuit_http_response_t *resp, int status,
                       const char *text, const uint8_t *tail, size_t tail_len)
{
    size_t n = strlen(text);
    resp->body = malloc(n + tail_len + 1);
    if (resp->body == NULL)
        return; /* status 0: the server answers 500 */
    memcpy(resp->body, text, n);
    if (tail_len)
        memcpy(resp->body + n, tail, tail_len);
    resp->len = n + tail_len;
    resp->status = status;
    resp->content_type = "text/plain";
}

static void handler(void *arg, const dsuit_http_request_t *req,
                    dsuit_http_response_t *resp)
{
    char text[1024];
    const char *q, *h;
    uint64_t index = 0;
    int rc;

    (void)arg;
    if (strncmp(req->path, "/peer/", 6) == 0 ||
        strncmp(req->path, "/peer-nog/", 10) == 0) {
        if (req->path[5] == '/')
            rc = dsuit_peer_verify(guard, gen, req, now_ms(), SKEW_MS, &index);
        else
            rc = dsuit_peer_check(gen, req, now_ms(), SKEW_MS, &index);
        if (rc == DSUIT_OK) {
            snprintf(text, sizeof(text), "index=%" PRIu64, index);
            reply_text(resp, 200, text, NULL, 0);
        } else {
            reply_text(resp, 403, dsuit_err_name(rc), NULL, 0);
        }
        return;
    }
    if (strcmp(req->path, "/file") == 0) {
        /* 100000 bytes of a pattern, sent from an unlinked file. */
        char tmpl[] = "/tmp/dsuit-test-http-XXXXXX";
        int fd = mkstemp(tmpl);
        uint8_t b[1000];
        if (fd < 0) {
            reply_text(resp, 500, "mkstemp", NULL, 0);
            return;
        }
        unlink(tmpl);
        for (int k = 0; k < 100; k++) {
            for (int j = 0; j < 1000; j++)
                b[j] = (uint8_t)((k * 1000 + j) * 31);
            if (write(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
                close(fd);
                reply_text(resp, 500, "write", NULL, 0);
                return;
            }
        }
        resp->status = 200;
        resp->content_type = "application/octet-stream";
        resp->from_file = 1;
        resp->fd = fd;
        resp->len = 100000;
        return;
    }
    if (strcmp(req->path, "/redirect") == 0) {
        reply_text(resp, 303, "see other", NULL, 0);
        resp->location = "/elsewhere";
        return;
    }
    if (strcmp(req->path, "/getonly") == 0) {
        /* A handler that knows only GET: HEAD must reach it as GET. */
        if (strcmp(req->method, "GET") != 0)
            dsuit_http_json_error(resp, 405, "method_not_allowed", NULL);
        else
            reply_text(resp, 200, "only GET here", NULL, 0);
        return;
    }
    if (strcmp(req->path, "/nostatus") == 0)
        return;
    if (strcmp(req->path, "/err") == 0) {
        reply_text(resp, 200, "replaced", NULL, 0);
        dsuit_http_json_error(resp, 404, "not_found", "no \"such\"\n\\thing");
        return;
    }
    if (strcmp(req->path, "/big") == 0) {
        resp->body = calloc(1, 10000);
        resp->len = resp->body ? 10000 : 0;
        resp->status = 200;
        return;
    }
    if (strcmp(req->path, "/sleep") == 0) {
        sleep_ms(1500);
        reply_text(resp, 200, "slept", NULL, 0);
        return;
    }
    q = dsuit_http_query(req, "q");
    h = dsuit_http_header(req, "X-Test");
    snprintf(text, sizeof(text),
             "method=%s\npath=%s\nq=%s\nhdr=%s\nhead=%d\npeer=%s\nbody=",
             req->method, req->path, q ? q : "(none)", h ? h : "(none)",
             req->head, req->peer);
    reply_text(resp, 200, text, req->body, req->body_len);
}

/* ---- streamed bodies: paths under /s/ ---------------------------------
 * /s/refuse: answered 403 from the headers alone; /s/...: a sink that
 * counts and sums the bytes, refusing past STREAM_MAX (larger than
 * MAX_BODY, which does not apply to it). */
#define STREAM_MAX (256u * 1024)

typedef struct {
    dsuit_http_sink_t base;
    uint64_t got, sum;
} test_sink_t;

static int sinks_closed; /* [stream_mu] */
static pthread_mutex_t stream_mu = PTHREAD_MUTEX_INITIALIZER;

static int closed_count(void)
{
    int n;
    pthread_mutex_lock(&stream_mu);
    n = sinks_closed;
    pthread_mutex_unlock(&stream_mu);
    return n;
}

static int sink_write(dsuit_http_sink_t *b, const uint8_t *p, size_t n)
{
    test_sink_t *k = (test_sink_t *)b;
    if (n > STREAM_MAX - k->got)
        return -1;
    k->got += n;
    for (size_t i = 0; i < n; i++)
        k->sum += p[i];
    return 0;
}

static void sink_finish(dsuit_http_sink_t *b, dsuit_http_response_t *resp)
{
    test_sink_t *k = (test_sink_t *)b;
    char text[96];
    snprintf(text, sizeof(text), "got=%llu sum=%llu",
             (unsigned long long)k->got, (unsigned long long)k->sum);
    resp->body = (uint8_t *)strdup(text);
    resp->len = resp->body ? strlen(text) : 0;
    resp->status = resp->body ? 200 : 500;
}

static void sink_close(dsuit_http_sink_t *b)
{
    pthread_mutex_lock(&stream_mu);
    sinks_closed++;
    pthread_mutex_unlock(&stream_mu);
    free(b);
}

static dsuit_http_sink_t *stream_cb(void *arg, const dsuit_http_request_t *req,
                                    dsuit_http_response_t *resp)
{
    test_sink_t *k;
    (void)arg;
    if (strncmp(req->path, "/s/", 3) != 0)
        return NULL;
    assert_int_equal(req->body_len, 0);
    if (strcmp(req->path, "/s/refuse") == 0) {
        dsuit_http_json_error(resp, 403, "refused", "not this one");
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return NULL;
    k->base.write = sink_write;
    k->base.finish = sink_finish;
    k->base.close = sink_close;
    return &k->base;
}

static int start(dsuit_http_server_t **out, unsigned per_ip)
{
    dsuit_http_opts_t o = {.host = "127.0.0.1",
                           .port = 0,
                           .max_body = MAX_BODY,
                           .threads = 2,
                           .timeout_s = 1,
                           .max_connections = 128,
                           .per_ip_limit = per_ip,
                           .stream = stream_cb};
    return dsuit_http_server_start(&o, handler, NULL, out);
}

static int setup(void **state)
{
    (void)state;
    if (start(&srv, 64) != DSUIT_OK)
        return -1;
    port = dsuit_http_server_port(srv);
    if (port == 0 || dsuit_genesis_new(&gen) != DSUIT_OK)
        return -1;
    for (int i = 0; i < N_VAL; i++) {
        char name[16];
        /* Both key types: 0 and 1 Ed25519, 2 and 3 P-256. */
        if (dsuit_key_generate(i < 2 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                               &keys[i]) != DSUIT_OK)
            return -1;
        snprintf(name, sizeof(name), "v%d", i);
        if (dsuit_genesis_add_validator(
                gen, name, &keys[i], "127.0.0.1", (uint16_t)(7000 + i),
                (uint16_t)(8000 + i), (uint16_t)(5683 + i)) != DSUIT_OK)
            return -1;
    }
    if (dsuit_random(gen->hash, sizeof(gen->hash)) != DSUIT_OK)
        return -1;
    return dsuit_peer_guard_new(N_VAL, 64, &guard) == DSUIT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dsuit_http_server_stop(srv);
    dsuit_peer_guard_free(guard);
    dsuit_genesis_free(gen);
    for (int i = 0; i < N_VAL; i++)
        dsuit_key_wipe(&keys[i]);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static int call(const char *method, const char *target,
                const char *const *headers, const void *body, size_t len,
                long *status, char **out, size_t *out_len)
{
    char url[1200];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, target);
    return dsuit_http_request(method, url, headers, body, len, TIMEOUT_MS,
                              status, (uint8_t **)out, out_len, 1u << 20);
}

/* A raw TCP connection to the server, reads bounded by secs seconds. */
static int raw_connect(uint16_t p, int secs)
{
    struct sockaddr_in a = {0};
    struct timeval tv = {.tv_sec = secs};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    a.sin_family = AF_INET;
    a.sin_port = htons(p);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read until EOF, error or timeout (at most cap-1 bytes, at most 1000
 * reads). Returns bytes read; *eof = 1 if the server closed. */
static size_t raw_read_all(int fd, char *buf, size_t cap, int *eof)
{
    size_t n = 0;
    *eof = 0;
    for (int i = 0; i < 1000 && n + 1 < cap; i++) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r == 0) {
            *eof = 1;
            break;
        }
        if (r < 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

/* ---- server and client --------------------------------------------------- */

static void http_get_echoes_method_path_query_and_header(void **state)
{
    const char *hdrs[] = {"X-Test: hello", NULL};
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(
        call("GET", "/a%20b/c?q=x%26y&z", hdrs, NULL, 0, &st, &out, &len),
        DSUIT_OK);
    assert_int_equal(st, 200);
    assert_non_null(strstr(out, "method=GET\n"));
    assert_non_null(strstr(out, "path=/a b/c\n"));
    assert_non_null(strstr(out, "q=x&y\n"));
    assert_non_null(strstr(out, "hdr=hello\n"));
    assert_non_null(strstr(out, "head=0\n"));
    assert_non_null(strstr(out, "peer=127.0.0.1:"));
    assert_int_equal(out[len], '\0');
    free(out);
}

static void http_query_without_value_is_empty_and_absent_is_null(void **state)
{
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(call("GET", "/x?q", NULL, NULL, 0, &st, &out, &len),
                     DSUIT_OK);
    assert_non_null(strstr(out, "q=\n"));
    free(out);
    assert_int_equal(call("GET", "/x", NULL, NULL, 0, &st, &out, &len),
                     DSUIT_OK);
    assert_non_null(strstr(out, "q=(none)\n"));
    assert_non_null(strstr(out, "hdr=(none)\n"));
    free(out);
}

static void http_post_echoes_binary_body(void **state)
{
    uint8_t body[3000];
    long st = 0;
    char *out = NULL, *b;
    size_t len = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 7); /* zeros included */
    assert_int_equal(
        call("POST", "/p", NULL, body, sizeof(body), &st, &out, &len),
        DSUIT_OK);
    assert_int_equal(st, 200);
    assert_non_null(strstr(out, "method=POST\n"));
    b = strstr(out, "body=");
    assert_non_null(b);
    b += 5;
    assert_int_equal(len - (size_t)(b - out), sizeof(body));
    assert_memory_equal(b, body, sizeof(body));
    free(out);
}

static void http_put_with_body_exactly_max_body_is_accepted(void **state)
{
    static uint8_t body[MAX_BODY];
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    (void)state;

    memset(body, 'a', sizeof(body));
    assert_int_equal(
        call("PUT", "/p", NULL, body, sizeof(body), &st, &out, &len), DSUIT_OK);
    assert_int_equal(st, 200);
    assert_non_null(strstr(out, "method=PUT\n"));
    free(out);
}

static void http_post_over_max_body_gets_413(void **state)
{
    static uint8_t body[MAX_BODY + 1];
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(
        call("POST", "/p", NULL, body, sizeof(body), &st, &out, &len),
        DSUIT_OK);
    assert_int_equal(st, 413);
    assert_non_null(strstr(out, "\"error\":\"payload-too-large\""));
    free(out);
}

static void http_announced_huge_body_gets_413_without_being_sent(void **state)
{
    static const char req[] = "POST /p HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 1000000000\r\n\r\n";
    char buf[4096];
    int eof, fd;
    (void)state;

    /* Only the headers are sent: the server must answer at once and close
     * rather than wait for a gigabyte. */
    fd = raw_connect(port, 3);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof(req) - 1));
    raw_read_all(fd, buf, sizeof(buf), &eof);
    close(fd);
    assert_true(strncmp(buf, "HTTP/1.1 413 ", 13) == 0);
    assert_int_equal(eof, 1);
}

static void http_malformed_content_length_gets_400(void **state)
{
    static const char req[] = "POST /p HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 12x\r\n\r\n";
    char buf[4096];
    int eof, fd;
    (void)state;

    fd = raw_connect(port, 3);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof(req) - 1));
    raw_read_all(fd, buf, sizeof(buf), &eof);
    close(fd);
    assert_true(strncmp(buf, "HTTP/1.1 400 ", 13) == 0);
}

static void http_chunked_body_within_limit_is_echoed(void **state)
{
    const char *hdrs[] = {"Transfer-Encoding: chunked", NULL};
    uint8_t body[2000];
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    (void)state;

    memset(body, 'c', sizeof(body));
    assert_int_equal(
        call("POST", "/p", hdrs, body, sizeof(body), &st, &out, &len),
        DSUIT_OK);
    assert_int_equal(st, 200);
    assert_true(len > sizeof(body));
    assert_memory_equal(out + len - sizeof(body), body, sizeof(body));
    free(out);
}

static void http_chunked_body_over_limit_closes_connection(void **state)
{
    const char *hdrs[] = {"Transfer-Encoding: chunked", NULL};
    static uint8_t body[MAX_BODY * 2];
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(
        call("POST", "/p", hdrs, body, sizeof(body), &st, &out, &len),
        DSUIT_E_IO);
    assert_null(out);
}

static void http_head_answers_like_get_without_body(void **state)
{
    static const char req[] = "HEAD /getonly HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n";
    char buf[4096], *out = NULL;
    size_t len = 99;
    long st = 0;
    int eof, fd;
    (void)state;

    assert_int_equal(call("POST", "/getonly", NULL, "", 0, &st, &out, &len),
                     DSUIT_OK);
    assert_int_equal(st, 405);
    free(out);
    assert_int_equal(call("HEAD", "/getonly", NULL, NULL, 0, &st, &out, &len),
                     DSUIT_OK);
    assert_int_equal(st, 200);
    assert_int_equal(len, 0);
    free(out);

    /* On the wire: the GET answer's Content-Length (13), then no body. */
    fd = raw_connect(port, 3);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof(req) - 1));
    raw_read_all(fd, buf, sizeof(buf), &eof);
    close(fd);
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    assert_non_null(strstr(buf, "Content-Length: 13\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\n"));
    assert_string_equal(strstr(buf, "\r\n\r\n"), "\r\n\r\n");
}

static void http_redirect_is_returned_not_followed(void **state)
{
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(call("GET", "/redirect", NULL, NULL, 0, &st, &out, &len),
                     DSUIT_OK);
    assert_int_equal(st, 303);
    assert_string_equal(out, "see other");
    free(out);
}

static void http_handler_that_sets_no_status_gets_500(void **state)
{
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(call("GET", "/nostatus", NULL, NULL, 0, &st, &out, &len),
                     DSUIT_OK);
    assert_int_equal(st, 500);
    free(out);
}

static void http_json_error_escapes_and_replaces_body(void **state)
{
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    dsuit_http_response_t r = {0};
    (void)state;

    assert_int_equal(call("GET", "/err", NULL, NULL, 0, &st, &out, &len),
                     DSUIT_OK);
    assert_int_equal(st, 404);
    assert_string_equal(out, "{\"error\":\"not_found\",\"message\":"
                             "\"no \\\"such\\\"\\u000a\\\\thing\"}");
    free(out);

    assert_int_equal(dsuit_http_json_error(&r, 99, "x", NULL), DSUIT_E_INVAL);
    assert_int_equal(dsuit_http_json_error(&r, 400, NULL, NULL), DSUIT_E_INVAL);
    assert_null(r.body);
    assert_int_equal(dsuit_http_json_error(&r, 400, "bad", NULL), DSUIT_OK);
    assert_string_equal((char *)r.body, "{\"error\":\"bad\",\"message\":\"\"}");
    free(r.body);
}

static void client_refuses_bad_arguments(void **state)
{
    long st = 7;
    char *out = NULL;
    size_t len = 0;
    const char *bad_hdr[] = {"X-A: b\r\nX-Injected: 1", NULL};
    const char *no_colon[] = {"X-A b", NULL};
    (void)state;

    assert_int_equal(dsuit_http_request("GET", "https://127.0.0.1:1/", NULL,
                                        NULL, 0, 1000, &st, NULL, NULL, 10),
                     DSUIT_E_INVAL);
    assert_int_equal(dsuit_http_request("GET", "file:///etc/passwd", NULL, NULL,
                                        0, 1000, &st, NULL, NULL, 10),
                     DSUIT_E_INVAL);
    assert_int_equal(call("G ET", "/", NULL, NULL, 0, &st, &out, &len),
                     DSUIT_E_INVAL);
    assert_int_equal(call("", "/", NULL, NULL, 0, &st, &out, &len),
                     DSUIT_E_INVAL);
    assert_int_equal(call("GET", "/", NULL, "x", 1, &st, &out, &len),
                     DSUIT_E_INVAL);
    assert_int_equal(call("GET", "/", bad_hdr, NULL, 0, &st, &out, &len),
                     DSUIT_E_INVAL);
    assert_int_equal(call("GET", "/", no_colon, NULL, 0, &st, &out, &len),
                     DSUIT_E_INVAL);
    assert_int_equal(dsuit_http_request("GET", "http://127.0.0.1:1/", NULL,
                                        NULL, 0, 0, &st, NULL, NULL, 10),
                     DSUIT_E_INVAL);
    assert_int_equal(st, 7); /* untouched on error */
    assert_null(out);
}

static void client_reports_io_error_when_nothing_listens(void **state)
{
    struct sockaddr_in a = {0};
    socklen_t al = sizeof(a);
    char url[64];
    long st = 7;
    int fd;
    (void)state;

    /* A port that was free a moment ago and is closed now. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
             (unsigned)ntohs(a.sin_port));
    assert_int_equal(dsuit_http_request("GET", url, NULL, NULL, 0, 2000, &st,
                                        NULL, NULL, 100),
                     DSUIT_E_IO);
    assert_int_equal(st, 7);
}

static void client_reports_limit_when_response_exceeds_max(void **state)
{
    char url[64];
    long st = 7;
    uint8_t *out = NULL;
    size_t len = 0;
    (void)state;

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/big", (unsigned)port);
    assert_int_equal(dsuit_http_request("GET", url, NULL, NULL, 0, TIMEOUT_MS,
                                        &st, &out, &len, 9999),
                     DSUIT_E_LIMIT);
    assert_null(out);
    assert_int_equal(dsuit_http_request("GET", url, NULL, NULL, 0, TIMEOUT_MS,
                                        &st, &out, &len, 10000),
                     DSUIT_OK);
    assert_int_equal(len, 10000);
    free(out);
}

static void client_times_out_on_a_slow_answer(void **state)
{
    char url[64];
    long st = 7;
    double t0;
    (void)state;

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/sleep", (unsigned)port);
    t0 = mono_s();
    assert_int_equal(dsuit_http_request("GET", url, NULL, NULL, 0, 300, &st,
                                        NULL, NULL, 100),
                     DSUIT_E_IO);
    assert_true(mono_s() - t0 < 1.4);
}

/* ---- concurrency and slow clients ---------------------------------------- */

#define THREADS    8
#define PER_THREAD 50

typedef struct {
    int id;
    int ok;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char body[64], *out = NULL;
        size_t len = 0, bl;
        long st = 0;
        bl = (size_t)snprintf(body, sizeof(body), "thread %d request %d", w->id,
                              i);
        if (call("POST", "/c", NULL, body, bl, &st, &out, &len) == DSUIT_OK &&
            st == 200 && len > bl && memcmp(out + len - bl, body, bl) == 0)
            w->ok++;
        free(out);
    }
    return NULL;
}

static void http_answers_8_threads_by_50_requests(void **state)
{
    pthread_t th[THREADS];
    worker_t w[THREADS];
    int total = 0;
    double t0 = mono_s();
    (void)state;

    for (int i = 0; i < THREADS; i++) {
        w[i].id = i;
        w[i].ok = 0;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        total += w[i].ok;
    }
    assert_int_equal(total, THREADS * PER_THREAD);
    assert_true(mono_s() - t0 < 120);
}

static void http_slow_clients_do_not_block_others_and_are_cut(void **state)
{
    static const char partial[] = "GET /slow HTTP/1.1\r\nHost: x\r\n";
    int idle, half, eof;
    char buf[256];
    double t0;
    (void)state;

    /* One connects and sends nothing, one sends half a request. */
    idle = raw_connect(port, 5);
    half = raw_connect(port, 5);
    assert_true(idle >= 0 && half >= 0);
    assert_int_equal(send(half, partial, sizeof(partial) - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof(partial) - 1));
    t0 = mono_s();
    for (int i = 0; i < 10; i++) {
        long st = 0;
        char *out = NULL;
        size_t len = 0;
        assert_int_equal(call("GET", "/fast", NULL, NULL, 0, &st, &out, &len),
                         DSUIT_OK);
        assert_int_equal(st, 200);
        free(out);
    }
    assert_true(mono_s() - t0 < 0.9); /* well before the 1 s timeout */

    /* Both are closed by the server after the 1 s idle timeout, without an
     * answer (reads time out after 5 s if not). */
    raw_read_all(idle, buf, sizeof(buf), &eof);
    assert_int_equal(eof, 1);
    assert_true(mono_s() - t0 > 0.5); /* cut by the timeout, not at once */
    raw_read_all(half, buf, sizeof(buf), &eof);
    assert_int_equal(eof, 1);
    assert_true(mono_s() - t0 < 4.0);
    close(idle);
    close(half);
}

static void http_per_ip_limit_refuses_extra_connections(void **state)
{
    dsuit_http_server_t *s = NULL;
    int fds[3], eof, fd;
    char buf[256];
    static const char req[] = "GET /x HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n";
    (void)state;

    assert_int_equal(start(&s, 3), DSUIT_OK);
    for (int i = 0; i < 3; i++) {
        fds[i] = raw_connect(dsuit_http_server_port(s), 3);
        assert_true(fds[i] >= 0);
    }
    sleep_ms(100); /* let the server accept the three */
    /* The fourth is accepted by the kernel and closed by MHD at once. */
    fd = raw_connect(dsuit_http_server_port(s), 3);
    assert_true(fd >= 0);
    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
    raw_read_all(fd, buf, sizeof(buf), &eof);
    assert_true(strncmp(buf, "HTTP/1.1 200", 12) != 0);
    close(fd);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    dsuit_http_server_stop(s);
}

static void http_server_start_refuses_bad_options(void **state)
{
    dsuit_http_server_t *s = NULL;
    dsuit_http_opts_t o = {.host = "localhost"};
    (void)state;

    assert_int_equal(dsuit_http_server_start(&o, handler, NULL, &s),
                     DSUIT_E_INVAL);
    o.host = NULL;
    assert_int_equal(dsuit_http_server_start(&o, handler, NULL, &s),
                     DSUIT_E_INVAL);
    o.host = "127.0.0.1";
    assert_int_equal(dsuit_http_server_start(&o, NULL, NULL, &s),
                     DSUIT_E_INVAL);
    o.max_connections = 4;
    o.per_ip_limit = 5;
    assert_int_equal(dsuit_http_server_start(&o, handler, NULL, &s),
                     DSUIT_E_INVAL);
    /* The port in use. */
    o.max_connections = 0;
    o.per_ip_limit = 0;
    o.port = port;
    assert_int_equal(dsuit_http_server_start(&o, handler, NULL, &s),
                     DSUIT_E_IO);
    assert_null(s);
    dsuit_http_server_stop(NULL);
}

/* ---- peer authentication ------------------------------------------------- */

typedef struct {
    char h[3][DSUIT_PEER_HEADER_MAX];
    const char *list[4];
} signed_t;

static void sign_req(signed_t *s, int key, uint64_t index, const uint8_t *chain,
                     const char *method, const char *path, const char *body,
                     uint64_t t)
{
    assert_int_equal(dsuit_peer_sign(&keys[key], index, chain, method, path,
                                     (const uint8_t *)body, strlen(body), t,
                                     s->h),
                     DSUIT_OK);
    for (int i = 0; i < 3; i++)
        s->list[i] = s->h[i];
    s->list[3] = NULL;
}

/* Send and return the HTTP status; *out_text gets the body. */
static long send_signed(const char *method, const char *target,
                        const char *const *hdrs, const char *body,
                        char *out_text, size_t cap)
{
    long st = 0;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(
        call(method, target, hdrs, body, strlen(body), &st, &out, &len),
        DSUIT_OK);
    snprintf(out_text, cap, "%s", out);
    free(out);
    return st;
}

static void peer_request_signed_by_validator_2_verifies_as_2(void **state)
{
    signed_t s;
    char text[128];
    (void)state;

    sign_req(&s, 2, 2, gen->hash, "POST", "/peer/chunk/ab12", "chunk bytes",
             now_ms());
    assert_int_equal(send_signed("POST", "/peer/chunk/ab12", s.list,
                                 "chunk bytes", text, sizeof(text)),
                     200);
    assert_string_equal(text, "index=2");
    /* Ed25519 too, and an empty body. */
    sign_req(&s, 0, 0, gen->hash, "GET", "/peer/sig/9", "", now_ms());
    assert_int_equal(
        send_signed("GET", "/peer/sig/9", s.list, "", text, sizeof(text)), 200);
    assert_string_equal(text, "index=0");
}

static void peer_replay_of_the_same_signed_request_is_refused(void **state)
{
    signed_t s;
    char text[128];
    (void)state;

    sign_req(&s, 3, 3, gen->hash, "POST", "/peer/gossip", "sig", now_ms());
    assert_int_equal(
        send_signed("POST", "/peer/gossip", s.list, "sig", text, sizeof(text)),
        200);
    assert_int_equal(
        send_signed("POST", "/peer/gossip", s.list, "sig", text, sizeof(text)),
        403);
    assert_string_equal(text, "DSUIT_E_SIGNATURE");
}

/* s' = n - s for P-256: the twin ECDSA signature of the same message. */
static void malleate_p256(char *sig_hdr)
{
    static const uint8_t n[32] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
        0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
    char *hex = strchr(sig_hdr, ' ') + 1 + 64; /* s starts at byte 32 */
    uint8_t s[32];
    int borrow = 0;

    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        s[i] = (uint8_t)v;
    }
    for (int i = 31; i >= 0; i--) {
        int d = n[i] - s[i] - borrow;
        borrow = d < 0;
        s[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    for (int i = 0; i < 32; i++) {
        char two[3];
        snprintf(two, sizeof(two), "%02x", s[i]);
        memcpy(hex + 2 * i, two, 2);
    }
}

static void peer_replay_with_the_twin_ecdsa_signature_is_refused(void **state)
{
    signed_t s;
    char text[128];
    (void)state;

    sign_req(&s, 2, 2, gen->hash, "POST", "/peer/twin", "b", now_ms());
    assert_int_equal(
        send_signed("POST", "/peer/twin", s.list, "b", text, sizeof(text)),
        200);
    /* The twin is a valid signature too (see the next test), so the guard
     * must key on the message, not on the signature bytes. */
    malleate_p256(s.h[2]);
    assert_int_equal(
        send_signed("POST", "/peer/twin", s.list, "b", text, sizeof(text)),
        403);
}

static void peer_twin_ecdsa_signature_verifies_statelessly(void **state)
{
    signed_t s;
    char text[128];
    (void)state;

    /* Shows the malleation above makes a valid signature, so the replay
     * test is not vacuous. */
    sign_req(&s, 2, 2, gen->hash, "POST", "/peer-nog/t", "b", now_ms());
    malleate_p256(s.h[2]);
    assert_int_equal(
        send_signed("POST", "/peer-nog/t", s.list, "b", text, sizeof(text)),
        200);
    assert_string_equal(text, "index=2");
}

/* A table of tampered requests, each refused. Each row signs with (key,
 * index, chain, method, path, body, time offset) and sends (method,
 * target, body), optionally with one header replaced. */
typedef struct {
    const char *name;
    int key;
    uint64_t index;
    int wrong_chain;
    const char *sign_method, *sign_path, *sign_body;
    int64_t dt_ms;
    const char *send_method, *send_target, *send_body;
    int replace; /* 1..3: replace that header with `header` */
    const char *header;
} tamper_t;

static const tamper_t tampers[] = {
    {"wrong key", 1, 2, 0, "POST", "/peer/x", "body", 0, "POST", "/peer/x",
     "body"},
    {"flipped body byte", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST",
     "/peer/x", "bodz"},
    {"wrong path", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST", "/peer/y",
     "body"},
    {"wrong method", 2, 2, 0, "POST", "/peer/x", "body", 0, "PUT", "/peer/x",
     "body"},
    {"wrong chain", 2, 2, 1, "POST", "/peer/x", "body", 0, "POST", "/peer/x",
     "body"},
    {"stale time", 2, 2, 0, "POST", "/peer/x", "body", -SKEW_MS - 2000, "POST",
     "/peer/x", "body"},
    {"future time", 2, 2, 0, "POST", "/peer/x", "body", SKEW_MS + 2000, "POST",
     "/peer/x", "body"},
    {"query string added", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST",
     "/peer/x?extra=1", "body"},
    {"unknown index", 2, 99, 0, "POST", "/peer/x", "body", 0, "POST", "/peer/x",
     "body"},
    {"index with leading zero", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST",
     "/peer/x", "body", 1, "X-Dsuit-Node: 02"},
    {"index not a number", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST",
     "/peer/x", "body", 1, "X-Dsuit-Node: two"},
    {"time not a number", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST",
     "/peer/x", "body", 2, "X-Dsuit-Time: 1e12"},
    {"time overflows", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST", "/peer/x",
     "body", 2, "X-Dsuit-Time: 18446744073709551616"},
    {"signature header missing", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST",
     "/peer/x", "body", 3, "X-Other: 1"},
    {"signature too short", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST",
     "/peer/x", "body", 3, "X-Dsuit-Sig: abcd"},
    {"signature upper-case hex", 2, 2, 0, "POST", "/peer/x", "body", 0, "POST",
     "/peer/x", "body", 3, "UPPER"},
    {"path with an escape", 2, 2, 0, "POST", "/peer/x y", "body", 0, "POST",
     "/peer/x%20y", "body"},
};

static void peer_tampered_requests_are_each_refused(void **state)
{
    uint8_t other[DSUIT_SHA256_LEN];
    (void)state;

    memcpy(other, gen->hash, sizeof(other));
    other[0] ^= 1;
    for (size_t i = 0; i < sizeof(tampers) / sizeof(tampers[0]); i++) {
        const tamper_t *t = &tampers[i];
        signed_t s;
        char text[128];
        long st;

        if (strchr(t->sign_path, ' ') != NULL) {
            /* The signer refuses such a path itself. */
            assert_int_equal(dsuit_peer_sign(&keys[t->key], t->index, gen->hash,
                                             t->sign_method, t->sign_path, NULL,
                                             0, now_ms(), s.h),
                             DSUIT_E_INVAL);
            sign_req(&s, t->key, t->index, gen->hash, t->sign_method, "/peer/x",
                     t->sign_body, now_ms());
        } else {
            sign_req(&s, t->key, t->index, t->wrong_chain ? other : gen->hash,
                     t->sign_method, t->sign_path, t->sign_body,
                     (uint64_t)((int64_t)now_ms() + t->dt_ms));
        }
        if (t->replace != 0 && strcmp(t->header, "UPPER") == 0) {
            for (char *p = s.h[2]; *p; p++)
                if (*p >= 'a' && *p <= 'f')
                    *p = (char)(*p - 'a' + 'A');
        } else if (t->replace != 0) {
            snprintf(s.h[t->replace - 1], DSUIT_PEER_HEADER_MAX, "%s",
                     t->header);
        }
        st = send_signed(t->send_method, t->send_target, s.list, t->send_body,
                         text, sizeof(text));
        if (st != 403 || strcmp(text, "DSUIT_E_SIGNATURE") != 0)
            fail_msg("'%s' was not refused: %ld %s", t->name, st, text);
    }
}

/* Sign the documented byte string (peer_auth.h) by hand, bypassing
 * dsuit_peer_sign()'s own checks. */
static void sign_by_hand(signed_t *s, int key, const char *method,
                         const char *path, const char *body, uint64_t t)
{
    uint8_t msg[2048], sig[DSUIT_SIG_LEN];
    char ts[32];
    size_t n = 0;

    snprintf(ts, sizeof(ts), "%" PRIu64, t);
    memcpy(msg, "dsuit-peer-v1", 13);
    n = 13;
    memcpy(msg + n, gen->hash, 32);
    n += 32;
    n += (size_t)sprintf((char *)msg + n, "%s\n%s\n%s\n", method, path, ts);
    assert_int_equal(dsuit_sha256(body, strlen(body), msg + n), DSUIT_OK);
    n += 32;
    assert_int_equal(dsuit_sig_sign(&keys[key], msg, n, sig), DSUIT_OK);
    snprintf(s->h[0], DSUIT_PEER_HEADER_MAX, "X-Dsuit-Node: %d", key);
    snprintf(s->h[1], DSUIT_PEER_HEADER_MAX, "X-Dsuit-Time: %s", ts);
    n = (size_t)snprintf(s->h[2], DSUIT_PEER_HEADER_MAX, "X-Dsuit-Sig: ");
    for (int i = 0; i < DSUIT_SIG_LEN; i++)
        n += (size_t)snprintf(s->h[2] + n, 3, "%02x", sig[i]);
    for (int i = 0; i < 3; i++)
        s->list[i] = s->h[i];
    s->list[3] = NULL;
}

static void peer_signature_covers_the_documented_bytes(void **state)
{
    signed_t s;
    char text[128];
    (void)state;

    sign_by_hand(&s, 1, "PUT", "/peer/doc/1", "payload", now_ms());
    assert_int_equal(send_signed("PUT", "/peer/doc/1", s.list, "payload", text,
                                 sizeof(text)),
                     200);
    assert_string_equal(text, "index=1");
}

static void peer_path_the_signer_could_not_sign_is_refused(void **state)
{
    signed_t s;
    char text[128];
    (void)state;

    /* A valid signature over a decoded path with a space: the receiver
     * refuses such paths whatever the signature says, since a signer's
     * "%20" and " " would otherwise be two spellings of one request. */
    sign_by_hand(&s, 1, "GET", "/peer/a b", "", now_ms());
    assert_int_equal(
        send_signed("GET", "/peer/a%20b", s.list, "", text, sizeof(text)), 403);
    assert_string_equal(text, "DSUIT_E_SIGNATURE");
}

static void peer_sign_refuses_bad_input(void **state)
{
    char h[3][DSUIT_PEER_HEADER_MAX];
    dsuit_key_t pub;
    (void)state;

    memset(h, 0x55, sizeof(h));
    assert_int_equal(
        dsuit_peer_sign(&keys[0], 0, gen->hash, "GET", "/a?b=1", NULL, 0, 1, h),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_peer_sign(&keys[0], 0, gen->hash, "GET", "/a%20b", NULL, 0, 1, h),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_peer_sign(&keys[0], 0, gen->hash, "GET", "a", NULL, 0, 1, h),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_peer_sign(&keys[0], 0, gen->hash, "GE T", "/a", NULL, 0, 1, h),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_peer_sign(&keys[0], 0, gen->hash, "GET\n", "/a", NULL, 0, 1, h),
        DSUIT_E_INVAL);
    assert_int_equal(
        dsuit_peer_sign(&keys[0], 0, gen->hash, "GET", "/a\nb", NULL, 0, 1, h),
        DSUIT_E_INVAL);
    pub = keys[0];
    pub.has_private = 0;
    assert_int_equal(
        dsuit_peer_sign(&pub, 0, gen->hash, "GET", "/a", NULL, 0, 1, h),
        DSUIT_E_KEY);
    assert_int_equal((unsigned char)h[0][0], 0x55); /* untouched */
    assert_int_equal(
        dsuit_peer_sign(&keys[0], 0, gen->hash, "GET", "/a", NULL, 0, 1, h),
        DSUIT_OK);
    assert_string_equal(h[0], "X-Dsuit-Node: 0");
    assert_string_equal(h[1], "X-Dsuit-Time: 1");
    assert_int_equal(strlen(h[2]), strlen("X-Dsuit-Sig: ") + 128);
}

static void peer_guard_refuses_when_every_slot_is_live(void **state)
{
    dsuit_peer_guard_t *small = NULL, *keep = guard;
    signed_t s;
    char text[128];
    uint64_t t = now_ms();
    (void)state;

    assert_int_equal(dsuit_peer_guard_new(0, 0, &small), DSUIT_E_INVAL);
    assert_int_equal(dsuit_peer_guard_new(65, 0, &small), DSUIT_E_INVAL);
    assert_int_equal(dsuit_peer_guard_new(N_VAL, 2, &small), DSUIT_OK);
    guard = small; /* the handler uses the global guard */
    for (int i = 0; i < 3; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/peer/n%d", i);
        sign_req(&s, 1, 1, gen->hash, "GET", path, "", t + (uint64_t)i);
        assert_int_equal(
            send_signed("GET", path, s.list, "", text, sizeof(text)),
            i < 2 ? 200 : 403);
    }
    assert_string_equal(text, "DSUIT_E_LIMIT");
    /* Other validators have their own slots. */
    sign_req(&s, 3, 3, gen->hash, "GET", "/peer/n9", "", t);
    assert_int_equal(
        send_signed("GET", "/peer/n9", s.list, "", text, sizeof(text)), 200);
    guard = keep;
    dsuit_peer_guard_free(small);
    dsuit_peer_guard_free(NULL);
}

/* Wait (bounded) until at least `want` sinks were closed. */
static int wait_closed(int want)
{
    for (int i = 0; i < 200 && closed_count() < want; i++)
        sleep_ms(10);
    return closed_count();
}

static void
http_streamed_body_reaches_the_sink_whole_past_max_body(void **state)
{
    static uint8_t body[100000];
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    uint64_t sum = 0;
    char want[96], *out = NULL;
    size_t len = 0;
    long st = 0;
    int before = closed_count();
    (void)state;

    for (size_t i = 0; i < sizeof(body); i++) {
        body[i] = (uint8_t)(i * 13 + 5);
        sum += body[i];
    }
    snprintf(want, sizeof(want), "got=%zu sum=%llu", sizeof(body),
             (unsigned long long)sum);
    assert_true(sizeof(body) > MAX_BODY);
    assert_int_equal(
        call("PUT", "/s/img", NULL, body, sizeof(body), &st, &out, &len),
        DSUIT_OK);
    assert_int_equal(st, 200);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    free(out);
    out = NULL;
    /* The same, chunked (no length announced). */
    assert_int_equal(
        call("PUT", "/s/img", chunked, body, sizeof(body), &st, &out, &len),
        DSUIT_OK);
    assert_int_equal(st, 200);
    assert_memory_equal(out, want, strlen(want));
    free(out);
    /* Each sink closed exactly once. */
    assert_int_equal(wait_closed(before + 2), before + 2);
    sleep_ms(50);
    assert_int_equal(closed_count(), before + 2);
}

static void http_stream_refusal_is_sent_before_the_body_is_read(void **state)
{
    static const char req[] = "PUT /s/refuse HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 1000000000\r\n\r\n";
    char buf[4096];
    int eof, fd, before = closed_count();
    (void)state;

    fd = raw_connect(port, 3);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof(req) - 1));
    raw_read_all(fd, buf, sizeof(buf), &eof);
    close(fd);
    assert_true(strncmp(buf, "HTTP/1.1 403 ", 13) == 0);
    assert_non_null(strstr(buf, "\"error\":\"refused\""));
    assert_int_equal(closed_count(), before); /* no sink was made */
}

static void
http_stream_write_refusal_closes_and_still_closes_the_sink(void **state)
{
    static uint8_t body[STREAM_MAX + 1];
    char *out = NULL;
    size_t len = 0;
    long st = 0;
    int before = closed_count();
    (void)state;

    assert_int_equal(
        call("PUT", "/s/img", NULL, body, sizeof(body), &st, &out, &len),
        DSUIT_E_IO);
    assert_null(out);
    assert_int_equal(wait_closed(before + 1), before + 1);
    /* Paths the stream callback declines are still buffered and bounded. */
    assert_int_equal(
        call("PUT", "/p", NULL, body, MAX_BODY + 1, &st, &out, &len), DSUIT_OK);
    assert_int_equal(st, 413);
    free(out);
}

static void http_file_response_sends_the_file_whole(void **state)
{
    char *out = NULL;
    size_t len = 0;
    long st = 0;
    (void)state;

    for (int round = 0; round < 3; round++) { /* and the fd is not leaked */
        assert_int_equal(call("GET", "/file", NULL, NULL, 0, &st, &out, &len),
                         DSUIT_OK);
        assert_int_equal(st, 200);
        assert_int_equal(len, 100000);
        for (size_t i = 0; i < len; i++)
            if ((uint8_t)out[i] != (uint8_t)(i * 31))
                fail_msg("byte %zu differs", i);
        free(out);
        out = NULL;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_get_echoes_method_path_query_and_header),
        cmocka_unit_test(http_query_without_value_is_empty_and_absent_is_null),
        cmocka_unit_test(http_post_echoes_binary_body),
        cmocka_unit_test(http_put_with_body_exactly_max_body_is_accepted),
        cmocka_unit_test(http_post_over_max_body_gets_413),
        cmocka_unit_test(http_announced_huge_body_gets_413_without_being_sent),
        cmocka_unit_test(http_malformed_content_length_gets_400),
        cmocka_unit_test(http_chunked_body_within_limit_is_echoed),
        cmocka_unit_test(http_chunked_body_over_limit_closes_connection),
        cmocka_unit_test(
            http_streamed_body_reaches_the_sink_whole_past_max_body),
        cmocka_unit_test(http_stream_refusal_is_sent_before_the_body_is_read),
        cmocka_unit_test(http_file_response_sends_the_file_whole),
        cmocka_unit_test(
            http_stream_write_refusal_closes_and_still_closes_the_sink),
        cmocka_unit_test(http_head_answers_like_get_without_body),
        cmocka_unit_test(http_redirect_is_returned_not_followed),
        cmocka_unit_test(http_handler_that_sets_no_status_gets_500),
        cmocka_unit_test(http_json_error_escapes_and_replaces_body),
        cmocka_unit_test(client_refuses_bad_arguments),
        cmocka_unit_test(client_reports_io_error_when_nothing_listens),
        cmocka_unit_test(client_reports_limit_when_response_exceeds_max),
        cmocka_unit_test(client_times_out_on_a_slow_answer),
        cmocka_unit_test(http_answers_8_threads_by_50_requests),
        cmocka_unit_test(http_slow_clients_do_not_block_others_and_are_cut),
        cmocka_unit_test(http_per_ip_limit_refuses_extra_connections),
        cmocka_unit_test(http_server_start_refuses_bad_options),
        cmocka_unit_test(peer_request_signed_by_validator_2_verifies_as_2),
        cmocka_unit_test(peer_replay_of_the_same_signed_request_is_refused),
        cmocka_unit_test(peer_replay_with_the_twin_ecdsa_signature_is_refused),
        cmocka_unit_test(peer_twin_ecdsa_signature_verifies_statelessly),
        cmocka_unit_test(peer_tampered_requests_are_each_refused),
        cmocka_unit_test(peer_signature_covers_the_documented_bytes),
        cmocka_unit_test(peer_path_the_signer_could_not_sign_is_refused),
        cmocka_unit_test(peer_sign_refuses_bad_input),
        cmocka_unit_test(peer_guard_refuses_when_every_slot_is_live),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
