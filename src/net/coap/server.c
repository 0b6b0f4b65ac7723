/*
 * dsuit CoAP server over libcoap3 (server.h has the design). Node side.
 */
#include "net/coap/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <coap3/coap.h>

#include "dsuit/error.h"

#define PATH_MAX_LEN   255 /* a changed() path */
#define PENDING_MAX    4096
#define PSK_KEY_MAX    64
#define SMALL_BODY     1024 /* fits one block: sent without Block2 */

typedef struct pending {
    struct pending *next;
    char path[PATH_MAX_LEN + 1];
} pending_t;

struct dsuit_coap_server {
    dsuit_coap_server_opts_t o;
    coap_context_t *ctx;
    pthread_t thread;
    int started;
    int wake_fd;
    uint8_t *key_pem; /* our copies of the server's RPK key pair */
    size_t key_pem_len;
    uint8_t *pub_pem;
    size_t pub_pem_len;

    /* What a PSK callback returns must stay valid until libcoap has copied
     * it; the callbacks run on the server thread one at a time. */
    uint8_t psk[PSK_KEY_MAX];
    coap_bin_const_t psk_ret;

    pthread_mutex_t mu;
    pending_t *pending; /* [mu] paths to (create and) notify */
    size_t n_pending;   /* [mu] */
    int stop;           /* [mu] */
};

static pthread_once_t coap_once = PTHREAD_ONCE_INIT;

static void coap_init_once(void)
{
    const char *lv = getenv("DSUIT_COAP_LOG");
    coap_log_t level = LOG_CRIT;
    coap_startup();
    /* libcoap logs every refused handshake; the node logs what matters.
     * DSUIT_COAP_LOG=0..8 (syslog levels, 7 = debug) shows libcoap's own
     * log on stderr, for debugging. */
    if (lv != NULL && lv[0] >= '0' && lv[0] <= '8' && lv[1] == '\0')
        level = (coap_log_t)(lv[0] - '0');
    coap_set_log_level(level);
    coap_dtls_set_log_level(level);
}

/* ---- credentials --------------------------------------------------------- */

static const coap_bin_const_t *on_psk_id(coap_bin_const_t *identity,
                                         coap_session_t *session, void *arg)
{
    dsuit_coap_server_t *s = arg;
    size_t len = 0;
    (void)session;
    if (identity == NULL || identity->length == 0 ||
        identity->length > DSUIT_COAP_ID_MAX || s->o.psk_key == NULL)
        return NULL;
    if (s->o.psk_key(s->o.arg, identity->s, identity->length, s->psk,
                     sizeof s->psk, &len) != 0 ||
        len == 0 || len > sizeof s->psk)
        return NULL;
    s->psk_ret.s = s->psk;
    s->psk_ret.length = len;
    return &s->psk_ret;
}

/* The peer of an RPK session is kept as the session's app data, freed when
 * the session goes (on_event). */
static int on_rpk(const char *cn, const uint8_t *der, size_t len,
                  coap_session_t *session, unsigned depth, int validated,
                  void *arg)
{
    dsuit_coap_server_t *s = arg;
    dsuit_coap_peer_t *p;
    (void)cn;
    (void)validated;
    if (depth != 0 || der == NULL || len == 0 || len > DSUIT_COAP_SPKI_MAX ||
        s->o.rpk_allowed == NULL || !s->o.rpk_allowed(s->o.arg, der, len))
        return 0;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return 0;
    p->kind = DSUIT_COAP_PEER_RPK;
    memcpy(p->spki, der, len);
    p->spki_len = len;
    free(coap_session_get_app_data(session));
    coap_session_set_app_data(session, p);
    return 1;
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    if (event == COAP_EVENT_SERVER_SESSION_DEL && session != NULL) {
        free(coap_session_get_app_data(session));
        coap_session_set_app_data(session, NULL);
    }
    return 0;
}

/* Who is on this session: RPK (app data), PSK (identity), or nobody. */
static void peer_of(coap_session_t *session, dsuit_coap_peer_t *out)
{
    const dsuit_coap_peer_t *rpk = coap_session_get_app_data(session);
    const coap_bin_const_t *id;
    memset(out, 0, sizeof *out);
    if (rpk != NULL) {
        *out = *rpk;
        return;
    }
    if (coap_session_get_proto(session) != COAP_PROTO_DTLS)
        return;
    id = coap_session_get_psk_identity(session);
    if (id != NULL && id->length > 0 && id->length <= DSUIT_COAP_ID_MAX) {
        out->kind = DSUIT_COAP_PEER_PSK;
        memcpy(out->id, id->s, id->length);
        out->id_len = id->length;
    }
}

/* ---- requests ------------------------------------------------------------ */

static const char *method_name(coap_pdu_code_t c)
{
    switch (c) {
    case COAP_REQUEST_CODE_GET:
        return "GET";
    case COAP_REQUEST_CODE_POST:
        return "POST";
    case COAP_REQUEST_CODE_PUT:
        return "PUT";
    case COAP_REQUEST_CODE_DELETE:
        return "DELETE";
    case COAP_REQUEST_CODE_FETCH:
        return "FETCH";
    case COAP_REQUEST_CODE_PATCH:
        return "PATCH";
    case COAP_REQUEST_CODE_IPATCH:
        return "iPATCH";
    default:
        return "?";
    }
}

static void release_body(coap_session_t *session, void *arg)
{
    dsuit_coap_response_t *r = arg;
    (void)session;
    if (r->release != NULL)
        r->release(r->body, r->len, r->release_arg);
    else
        free(r->body);
    free(r);
}

static void on_request(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query,
                       coap_pdu_t *response)
{
    dsuit_coap_server_t *s = coap_resource_get_userdata(resource);
    coap_string_t *uri = coap_get_uri_path(request);
    char path[PATH_MAX_LEN + 2];
    dsuit_coap_peer_t peer;
    dsuit_coap_request_t req;
    dsuit_coap_response_t *r;
    const uint8_t *data = NULL;
    size_t len = 0, off = 0, total = 0;

    if (uri == NULL || uri->length > PATH_MAX_LEN) {
        coap_delete_string(uri);
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
        return;
    }
    len = uri->length;
    path[0] = '/';
    memcpy(path + 1, uri->s, len);
    path[len + 1] = '\0';
    coap_delete_string(uri);
    if (strlen(path) != len + 1) { /* a NUL in the path */
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
        return;
    }
    len = 0;
    (void)coap_get_data_large(request, &len, &data, &off, &total);
    peer_of(session, &peer);
    memset(&req, 0, sizeof req);
    req.method = method_name(coap_pdu_get_code(request));
    req.path = path;
    req.body = data;
    req.len = len;
    req.peer = &peer;

    r = calloc(1, sizeof *r);
    if (r == NULL) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
        return;
    }
    r->content_format = -1;
    s->o.handle(s->o.arg, &req, r);
    if (r->code < 200 || r->code > 599)
        r->code = 500;
    coap_pdu_set_code(response, (coap_pdu_code_t)COAP_RESPONSE_CODE(r->code));
    if (r->len == 0) {
        release_body(session, r);
        return;
    }
    /* libcoap adds the ETag itself only to a block-wise body. */
    if (r->etag != 0 && r->len <= SMALL_BODY) {
        uint8_t b[8];
        coap_add_option(response, COAP_OPTION_ETAG,
                        coap_encode_var_safe8(b, sizeof b, r->etag), b);
    }
    /* Success bodies go block-wise when they must; error bodies are short
     * diagnostics. The response owns r from here. */
    if (!coap_add_data_large_response(
            resource, session, request, response, query,
            r->content_format < 0 ? COAP_MEDIATYPE_TEXT_PLAIN
                                  : (uint16_t)r->content_format,
            -1, r->etag, r->len, r->body, release_body, r))
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

/* ---- the server thread --------------------------------------------------- */

/* Make path an observable resource (once) and notify its observers. */
static void apply_changed(dsuit_coap_server_t *s, const char *path)
{
    coap_str_const_t key;
    coap_resource_t *r;
    key.s = (const uint8_t *)path + 1; /* libcoap paths have no leading / */
    key.length = strlen(path) - 1;
    r = coap_get_resource_from_uri_path(s->ctx, &key);
    if (r == NULL) {
        coap_str_const_t *name = coap_new_str_const(key.s, key.length);
        if (name == NULL)
            return;
        r = coap_resource_init(name, COAP_RESOURCE_FLAGS_RELEASE_URI |
                                         COAP_RESOURCE_FLAGS_NOTIFY_CON);
        if (r == NULL) {
            coap_delete_str_const(name);
            return;
        }
        coap_resource_set_userdata(r, s);
        coap_register_handler(r, COAP_REQUEST_GET, on_request);
        coap_resource_set_get_observable(r, 1);
        coap_add_resource(s->ctx, r);
        return; /* nobody can observe it yet */
    }
    coap_resource_notify_observers(r, NULL);
}

static void drain(dsuit_coap_server_t *s, int *stop)
{
    pending_t *p;
    uint64_t v;
    while (read(s->wake_fd, &v, sizeof v) > 0) {
    }
    pthread_mutex_lock(&s->mu);
    p = s->pending;
    s->pending = NULL;
    s->n_pending = 0;
    *stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    while (p != NULL) {
        pending_t *next = p->next;
        if (!*stop)
            apply_changed(s, p->path);
        free(p);
        p = next;
    }
}

static void *server_main(void *arg)
{
    dsuit_coap_server_t *s = arg;
    int fd = coap_context_get_coap_fd(s->ctx), stop = 0;
    while (!stop) {
        coap_tick_t now;
        unsigned ms;
        struct pollfd pf[2];
        coap_ticks(&now);
        ms = coap_io_prepare_epoll(s->ctx, now);
        if (ms == 0 || ms > 1000)
            ms = 1000;
        pf[0].fd = fd;
        pf[0].events = POLLIN;
        pf[1].fd = s->wake_fd;
        pf[1].events = POLLIN;
        pf[0].revents = pf[1].revents = 0;
        if (poll(pf, 2, (int)ms) < 0 && errno != EINTR)
            break;
        coap_io_process(s->ctx, COAP_IO_NO_WAIT);
        drain(s, &stop);
    }
    return NULL;
}

/* ---- start and stop ------------------------------------------------------ */

static int add_endpoint(dsuit_coap_server_t *s, uint16_t port,
                        coap_proto_t proto)
{
    coap_address_t a;
    coap_address_init(&a);
    a.addr.sin.sin_family = AF_INET;
    a.addr.sin.sin_port = htons(port);
    if (inet_pton(AF_INET, s->o.host, &a.addr.sin.sin_addr) != 1)
        return DSUIT_E_INVAL;
    a.size = sizeof(struct sockaddr_in);
    return coap_new_endpoint(s->ctx, &a, proto) != NULL ? DSUIT_OK
                                                        : DSUIT_E_IO;
}

static int setup_dtls(dsuit_coap_server_t *s)
{
    coap_dtls_spsk_t psk;
    coap_dtls_pki_t pki;
    if (!coap_dtls_is_supported())
        return DSUIT_E_IO;
    memset(&psk, 0, sizeof psk);
    psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
    psk.validate_id_call_back = on_psk_id;
    psk.id_call_back_arg = s;
    if (!coap_context_set_psk2(s->ctx, &psk))
        return DSUIT_E_IO;
    if (s->key_pem == NULL)
        return DSUIT_OK;
    memset(&pki, 0, sizeof pki);
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    /* Both are needed for GnuTLS to ask the client for its raw key. */
    pki.verify_peer_cert = 1;
    pki.is_rpk_not_cert = 1;
    pki.validate_cn_call_back = on_rpk;
    pki.cn_call_back_arg = s;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM_BUF;
    pki.pki_key.key.pem_buf.public_cert = s->pub_pem;
    pki.pki_key.key.pem_buf.public_cert_len = s->pub_pem_len;
    pki.pki_key.key.pem_buf.private_key = s->key_pem;
    pki.pki_key.key.pem_buf.private_key_len = s->key_pem_len;
    return coap_context_set_pki(s->ctx, &pki) ? DSUIT_OK : DSUIT_E_IO;
}

int dsuit_coap_server_start(const dsuit_coap_server_opts_t *o,
                            dsuit_coap_server_t **out)
{
    dsuit_coap_server_t *s;
    coap_resource_t *unknown;
    int rc;

    if (o == NULL || out == NULL || o->host == NULL || o->handle == NULL ||
        o->port == 0)
        return DSUIT_E_INVAL;
    pthread_once(&coap_once, coap_init_once);
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return DSUIT_E_NOMEM;
    s->o = *o;
    s->wake_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    if (o->rpk_key_pem != NULL && o->rpk_key_pem_len > 0) {
        if (o->rpk_pub_pem == NULL || o->rpk_pub_pem_len == 0) {
            rc = DSUIT_E_INVAL;
            goto fail;
        }
        s->key_pem = malloc(o->rpk_key_pem_len);
        s->pub_pem = malloc(o->rpk_pub_pem_len);
        if (s->key_pem == NULL || s->pub_pem == NULL) {
            rc = DSUIT_E_NOMEM;
            goto fail;
        }
        memcpy(s->key_pem, o->rpk_key_pem, o->rpk_key_pem_len);
        s->key_pem_len = o->rpk_key_pem_len;
        memcpy(s->pub_pem, o->rpk_pub_pem, o->rpk_pub_pem_len);
        s->pub_pem_len = o->rpk_pub_pem_len;
    }
    s->ctx = coap_new_context(NULL);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->ctx == NULL || s->wake_fd < 0) {
        rc = DSUIT_E_NOMEM;
        goto fail;
    }
    coap_context_set_block_mode(s->ctx, COAP_BLOCK_USE_LIBCOAP |
                                            COAP_BLOCK_SINGLE_BODY);
    coap_context_set_max_idle_sessions(s->ctx, o->max_sessions ? o->max_sessions
                                                               : 1024);
    coap_context_set_max_handshake_sessions(s->ctx, 64);
    coap_register_event_handler(s->ctx, on_event);
    rc = setup_dtls(s);
    if (rc == DSUIT_OK)
        rc = add_endpoint(s, o->port, COAP_PROTO_DTLS);
    if (rc == DSUIT_OK && o->plain_port != 0)
        rc = add_endpoint(s, o->plain_port, COAP_PROTO_UDP);
    if (rc != DSUIT_OK)
        goto fail;
    /* Every path the handler serves but no observable resource holds. */
    unknown = coap_resource_unknown_init2(on_request, 0);
    if (unknown == NULL) {
        rc = DSUIT_E_NOMEM;
        goto fail;
    }
    coap_resource_set_userdata(unknown, s);
    /* Every method reaches the handler, which answers 4.05 where a path
     * exists but not for that method (libcoap would say 4.04). */
    coap_register_handler(unknown, COAP_REQUEST_GET, on_request);
    coap_register_handler(unknown, COAP_REQUEST_POST, on_request);
    coap_register_handler(unknown, COAP_REQUEST_DELETE, on_request);
    coap_register_handler(unknown, COAP_REQUEST_FETCH, on_request);
    coap_register_handler(unknown, COAP_REQUEST_PATCH, on_request);
    coap_register_handler(unknown, COAP_REQUEST_IPATCH, on_request);
    coap_add_resource(s->ctx, unknown);
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
        rc = DSUIT_E_NOMEM;
        goto fail;
    }
    s->started = 1;
    *out = s;
    return DSUIT_OK;
fail:
    dsuit_coap_server_stop(s);
    return rc;
}

int dsuit_coap_server_changed(dsuit_coap_server_t *s, const char *path)
{
    pending_t *p;
    uint64_t one = 1;
    size_t n = strlen(path);
    if (n < 2 || n > PATH_MAX_LEN || path[0] != '/')
        return DSUIT_E_LIMIT;
    pthread_mutex_lock(&s->mu);
    for (p = s->pending; p != NULL; p = p->next)
        if (strcmp(p->path, path) == 0)
            break;
    if (p == NULL && s->n_pending < PENDING_MAX) {
        p = malloc(sizeof *p);
        if (p == NULL) {
            pthread_mutex_unlock(&s->mu);
            return DSUIT_E_NOMEM;
        }
        memcpy(p->path, path, n + 1);
        p->next = s->pending;
        s->pending = p;
        s->n_pending++;
    }
    pthread_mutex_unlock(&s->mu);
    if (write(s->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        return DSUIT_E_IO;
    return DSUIT_OK;
}

void dsuit_coap_server_stop(dsuit_coap_server_t *s)
{
    uint64_t one = 1;
    pending_t *p;
    if (s == NULL)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_mutex_unlock(&s->mu);
        if (write(s->wake_fd, &one, sizeof one) < 0) {
            /* the thread wakes within a second anyway */
        }
        pthread_join(s->thread, NULL);
    }
    if (s->ctx != NULL)
        coap_free_context(s->ctx);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    while ((p = s->pending) != NULL) {
        s->pending = p->next;
        free(p);
    }
    if (s->key_pem != NULL) {
        memset(s->key_pem, 0, s->key_pem_len);
        free(s->key_pem);
    }
    free(s->pub_pem);
    memset(s->psk, 0, sizeof s->psk);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
