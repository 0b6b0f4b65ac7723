/*
 * dsuit HTTP client on libcurl: one easy handle per blocking request
 * (client.h). The response body is collected into one growing buffer that
 * never exceeds the caller's max_response.
 *
 * The one piece of process-wide state is libcurl's own global setup
 * (curl_global_init), which libcurl requires once per process and which is
 * not thread-safe itself; it runs under pthread_once and is never undone
 * (the process exit releases it), so no caller has to manage it.
 */
#include "net/http/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    size_t max;
    int keep;     /* 0: count and drop the bytes */
    int overflow; /* the answer went past max */
} sink_t;

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
    sink_t *k = arg;
    size_t n = size * nmemb;

    if (n > k->max - k->len) {
        k->overflow = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (k->keep && k->len + n + 1 > k->cap) {
        size_t cap = k->cap ? k->cap : 4096;
        uint8_t *nb;
        if (k->len + n == SIZE_MAX)
            return 0;
        while (cap < k->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? k->len + n + 1 : cap * 2;
        nb = realloc(k->buf, cap);
        if (nb == NULL)
            return 0;
        k->buf = nb;
        k->cap = cap;
    }
    if (k->keep)
        memcpy(k->buf + k->len, p, n);
    k->len += n;
    return n;
}

/* An HTTP method is a token (RFC 9110 §9.1): visible characters, no
 * separators that could break the request line. */
static int method_ok(const char *m)
{
    if (m == NULL || *m == '\0' || strlen(m) > 32)
        return 0;
    for (; *m; m++)
        if (*m <= ' ' || *m >= 127 || strchr("()<>@,;:\\\"/[]?={}", *m))
            return 0;
    return 1;
}

/* A header line must not smuggle a second line into the request. */
static int header_ok(const char *h)
{
    return h != NULL && strpbrk(h, "\r\n") == NULL && strchr(h, ':') != NULL;
}

static int map_curl_error(CURLcode rc, const sink_t *k)
{
    if (k->overflow || rc == CURLE_FILESIZE_EXCEEDED)
        return DSUIT_E_LIMIT;
    switch (rc) {
    case CURLE_OUT_OF_MEMORY:
        return DSUIT_E_NOMEM;
    case CURLE_WRITE_ERROR: /* on_write could not grow the buffer */
        return DSUIT_E_NOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return DSUIT_E_INVAL;
    default:
        return DSUIT_E_IO;
    }
}

int dsuit_http_request(const char *method, const char *url,
                       const char *const *headers, const uint8_t *body,
                       size_t len, unsigned timeout_ms, long *out_status,
                       uint8_t **out_body, size_t *out_len, size_t max_response)
{
    int is_get, is_head, has_ctype = 0, err;
    struct curl_slist *hl = NULL, *t;
    sink_t k;
    CURL *c = NULL;
    CURLcode rc;
    long status = 0;

    memset(&k, 0, sizeof(k));
    if (!method_ok(method) || url == NULL || strncasecmp(url, "http://", 7) ||
        timeout_ms == 0 || out_status == NULL ||
        (out_body != NULL && out_len == NULL) || (body == NULL && len != 0))
        return DSUIT_E_INVAL;
    is_get = strcmp(method, "GET") == 0;
    is_head = strcmp(method, "HEAD") == 0;
    if ((is_get || is_head) && len != 0)
        return DSUIT_E_INVAL;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        if (!header_ok(headers[i]))
            return DSUIT_E_INVAL;
        if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
            has_ctype = 1;
    }

    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return DSUIT_E_IO;

    err = DSUIT_E_NOMEM;
    c = curl_easy_init();
    if (c == NULL)
        goto out;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        t = curl_slist_append(hl, headers[i]);
        if (t == NULL)
            goto out;
        hl = t;
    }
    if (!is_get && !is_head && !has_ctype) {
        /* "Content-Type:" with no value removes curl's default one. */
        t = curl_slist_append(hl, "Content-Type:");
        if (t == NULL)
            goto out;
        hl = t;
    }

    k.max = max_response;
    k.keep = out_body != NULL;
    err = DSUIT_E_IO;
    /* Peers are reached directly: no proxy from the environment, only
     * http, never a redirect, no signals (timeouts from any thread). */
    if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http") != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms) !=
            CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)(max_response > INT64_MAX
                                          ? INT64_MAX
                                          : max_response)) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &k) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl) != CURLE_OK)
        goto out;
    if (is_get) {
        rc = curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (is_head) {
        rc = curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                                  len ? (const void *)body : "");
        if (rc == CURLE_OK && strcmp(method, "POST") != 0)
            rc = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    if (rc != CURLE_OK)
        goto out;

    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        err = map_curl_error(rc, &k);
        goto out;
    }
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
        status < 100 || status > 999)
        goto out;
    if (k.keep && k.buf == NULL) {
        k.buf = malloc(1);
        if (k.buf == NULL) {
            err = DSUIT_E_NOMEM;
            goto out;
        }
    }
    if (k.keep) {
        k.buf[k.len] = 0;
        *out_body = k.buf;
        *out_len = k.len;
        k.buf = NULL;
    } else if (out_len != NULL) {
        *out_len = k.len;
    }
    *out_status = status;
    err = DSUIT_OK;
out:
    free(k.buf);
    curl_slist_free_all(hl);
    if (c != NULL)
        curl_easy_cleanup(c);
    return err;
}
