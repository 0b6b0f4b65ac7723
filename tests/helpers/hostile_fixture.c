/*
 * Raw HTTP, raw UDP and raw CoAP for tests/system/test_hostile.c (see
 * hostile_fixture.h), and a cluster node started with extra options.
 */
/* prctl (Linux), struct timeval beyond POSIX 2008 C11. */
#define _DEFAULT_SOURCE

#include "hostile_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "dsuit/error.h"
#include "net/ports.h"

static void loopback(struct sockaddr_in *a, uint16_t port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int remaining_ms(uint64_t deadline)
{
    uint64_t now = cl_now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

/* ---- HTTP ---------------------------------------------------------------- */

int hf_http_raw(uint16_t port, const void *req, size_t len, unsigned timeout_ms,
                hf_http_t *out)
{
    struct sockaddr_in a;
    uint64_t deadline = cl_now_ms() + timeout_ms;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, sent = 0;
    const char *end;
    int fd;

    memset(out, 0, sizeof *out);
    out->status = -1;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    loopback(&a, port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    /* Send what the server takes; it may answer (413) and close before
     * the whole request is in. */
    while (sent < len) {
        struct pollfd p = {fd, POLLOUT, 0};
        ssize_t w;
        if (poll(&p, 1, remaining_ms(deadline)) <= 0)
            break;
        w = send(fd, (const uint8_t *)req + sent, len - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t r;
        if (n + 4096 + 1 > cap) {
            size_t nc = cap ? 2 * cap : 65536;
            uint8_t *nb = realloc(buf, nc);
            if (nb == NULL)
                break;
            buf = nb;
            cap = nc;
        }
        if (poll(&p, 1, remaining_ms(deadline)) <= 0)
            break;
        r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf == NULL || n == 0) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    end = strstr((const char *)buf, "\r\n\r\n");
    if (strncmp((const char *)buf, "HTTP/1.", 7) != 0 || n < 12 ||
        end == NULL) {
        out->status = 0;
        free(buf);
        return 0;
    }
    out->status = atoi((const char *)buf + 9);
    snprintf(out->head, sizeof out->head, "%.*s",
             (int)(end - (const char *)buf), (const char *)buf);
    out->body_len = n - (size_t)(end + 4 - (const char *)buf);
    out->body = malloc(out->body_len + 1);
    if (out->body != NULL) {
        memcpy(out->body, end + 4, out->body_len);
        out->body[out->body_len] = '\0';
    } else {
        out->body_len = 0;
    }
    free(buf);
    return out->status;
}

int hf_http(uint16_t port, const char *method, const char *path,
            const char *extra, const uint8_t *body, size_t len, hf_http_t *out)
{
    size_t pl = strlen(path), el = extra ? strlen(extra) : 0;
    size_t cap = pl + el + 512 + (body ? len : 0), n;
    char *req = malloc(cap);
    int st;
    if (req == NULL) {
        memset(out, 0, sizeof *out);
        out->status = -1;
        return -1;
    }
    n = (size_t)snprintf(req, cap,
                         "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                         "Connection: close\r\n%s%s",
                         method, path, (unsigned)port, extra ? extra : "",
                         el && extra[el - 1] != '\n' ? "\r\n" : "");
    if (body != NULL)
        n += (size_t)snprintf(req + n, cap - n, "Content-Length: %zu\r\n", len);
    n += (size_t)snprintf(req + n, cap - n, "\r\n");
    if (body != NULL && len > 0) {
        memcpy(req + n, body, len);
        n += len;
    }
    st = hf_http_raw(port, req, n, 10000, out);
    free(req);
    return st;
}

int hf_http_header(const hf_http_t *h, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = strstr(h->head, "\r\n");
    while (p != NULL) {
        const char *line = p + 2, *e = strstr(line, "\r\n");
        size_t ll = e ? (size_t)(e - line) : strlen(line);
        if (ll > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(ll - (size_t)(v - line)), v);
            return 1;
        }
        p = e;
    }
    return 0;
}

void hf_http_free(hf_http_t *h)
{
    free(h->body);
    h->body = NULL;
    h->body_len = 0;
}

/* ---- UDP and CoAP -------------------------------------------------------- */

long hf_udp(uint16_t port, const void *msg, size_t len, unsigned timeout_ms,
            uint8_t *ans, size_t cap)
{
    struct sockaddr_in a;
    struct pollfd p;
    ssize_t r;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    loopback(&a, port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        send(fd, msg, len, 0) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, (int)timeout_ms) <= 0) {
        close(fd);
        return -1;
    }
    r = recv(fd, ans, cap, 0);
    close(fd);
    return r < 0 ? -1 : (long)r;
}

/* One option: delta and length nibbles with their extensions. */
static size_t coap_option(uint8_t *out, size_t cap, size_t n, unsigned delta,
                          const uint8_t *v, size_t vl)
{
    uint8_t head[5];
    size_t h = 1;
    unsigned nib[2];
    unsigned val[2] = {delta, (unsigned)vl};
    for (int k = 0; k < 2; k++) {
        if (val[k] < 13) {
            nib[k] = val[k];
        } else if (val[k] < 269) {
            nib[k] = 13;
        } else {
            nib[k] = 14;
        }
    }
    head[0] = (uint8_t)(nib[0] << 4 | nib[1]);
    for (int k = 0; k < 2; k++) {
        if (nib[k] == 13) {
            head[h++] = (uint8_t)(val[k] - 13);
        } else if (nib[k] == 14) {
            head[h++] = (uint8_t)((val[k] - 269) >> 8);
            head[h++] = (uint8_t)(val[k] - 269);
        }
    }
    if (n + h + vl > cap)
        return 0;
    memcpy(out + n, head, h);
    if (vl > 0)
        memcpy(out + n + h, v, vl);
    return n + h + vl;
}

size_t hf_coap_build(uint8_t code, uint16_t mid, const char *path, int cf,
                     const uint8_t *payload, size_t len, uint8_t *out,
                     size_t cap)
{
    size_t n = 6;
    unsigned last = 0;
    if (cap < n)
        return 0;
    out[0] = 0x40 | 2; /* version 1, CON, token length 2 */
    out[1] = code;
    out[2] = (uint8_t)(mid >> 8);
    out[3] = (uint8_t)mid;
    out[4] = 0x7a;
    out[5] = (uint8_t)mid;
    if (path[0] == '/')
        path++;
    while (*path != '\0') {
        const char *e = strchr(path, '/');
        size_t sl = e ? (size_t)(e - path) : strlen(path);
        n = coap_option(out, cap, n, 11 - last, (const uint8_t *)path, sl);
        if (n == 0)
            return 0;
        last = 11;
        path += sl + (e != NULL);
    }
    if (cf >= 0) {
        uint8_t v[2] = {(uint8_t)(cf >> 8), (uint8_t)cf};
        n = cf < 256 ? coap_option(out, cap, n, 12 - last, v + 1, cf ? 1 : 0)
                     : coap_option(out, cap, n, 12 - last, v, 2);
        if (n == 0)
            return 0;
    }
    if (payload != NULL && len > 0) {
        if (n + 1 + len > cap)
            return 0;
        out[n++] = 0xff;
        memcpy(out + n, payload, len);
        n += len;
    }
    return n;
}

int hf_coap_parse(const uint8_t *p, size_t len, hf_coap_t *out)
{
    size_t k, tkl;
    unsigned opt = 0;
    hf_coap_t m;
    if (len < 4 || (p[0] >> 6) != 1)
        return -1;
    memset(&m, 0, sizeof m);
    m.type = (p[0] >> 4) & 3;
    tkl = p[0] & 15;
    m.code = (p[1] >> 5) * 100 + (p[1] & 31);
    m.mid = (uint16_t)(p[2] << 8 | p[3]);
    m.content_format = -1;
    if (tkl > 8 || 4 + tkl > len)
        return -1;
    k = 4 + tkl;
    while (k < len && p[k] != 0xff) {
        unsigned d = p[k] >> 4, l = p[k] & 15;
        k++;
        if (d == 15 || l == 15)
            return -1;
        if (d == 13) {
            if (k >= len)
                return -1;
            d = 13u + p[k++];
        } else if (d == 14) {
            if (k + 1 >= len)
                return -1;
            d = 269u + (unsigned)(p[k] << 8 | p[k + 1]);
            k += 2;
        }
        if (l == 13) {
            if (k >= len)
                return -1;
            l = 13u + p[k++];
        } else if (l == 14) {
            if (k + 1 >= len)
                return -1;
            l = 269u + (unsigned)(p[k] << 8 | p[k + 1]);
            k += 2;
        }
        if (k + l > len)
            return -1;
        opt += d;
        if (opt == 12) {
            m.content_format = 0;
            for (unsigned i = 0; i < l; i++)
                m.content_format = m.content_format << 8 | p[k + i];
        }
        k += l;
    }
    if (k < len) { /* the payload marker */
        m.payload = p + k + 1;
        m.payload_len = len - k - 1;
    }
    *out = m;
    return 0;
}

/* ---- nodes --------------------------------------------------------------- */

void hf_start_node(cl_t *cl, size_t i, const char *const *extra)
{
    char logfile[400], stdio[400];
    const char *argv[32];
    size_t k = 0;
    pid_t parent = getpid(), pid;
    uint64_t t0 = cl_now_ms();
    cl_status_t st;
    int status;

    assert_true(i < cl->n);
    assert_int_equal(cl->pid[i], 0);
    snprintf(logfile, sizeof logfile, "%s/node.log", cl->data[i]);
    snprintf(stdio, sizeof stdio, "%s/stdio.log", cl->data[i]);
    argv[k++] = cl->bin;
    argv[k++] = "node";
    argv[k++] = "run";
    argv[k++] = "--data";
    argv[k++] = cl->data[i];
    argv[k++] = "--log";
    argv[k++] = logfile;
    argv[k++] = "--election-timeout-ms";
    argv[k++] = "500";
    argv[k++] = "--block-interval-ms";
    argv[k++] = "20";
    for (size_t e = 0; extra != NULL && extra[e] != NULL && k < 31; e++)
        argv[k++] = extra[e];
    argv[k] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Die with the test process: no node outlives a crashed test. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(stdio, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(cl->bin, (char *const *)argv);
        _exit(127);
    }
    cl->pid[i] = pid;
    while (cl_status(cl, i, &st) != 0) {
        if (cl_exited(cl, i, &status))
            fail_msg("node n%zu exited %d at start (log: %s)", i, status,
                     stdio);
        if (cl_now_ms() - t0 > 10000)
            fail_msg("node n%zu does not answer 10 s after start", i);
        cl_sleep_ms(20);
    }
}

