/*
 * dsuit CoAP client (client.h): one DTLS session to one node, synchronous
 * requests with block-wise transfer driven here (RFC 7959 §2.4 for Block2,
 * §2.5 for Block1), and one Observe relationship (RFC 7641) used as a
 * trigger. Node side: allocates; libcoap does too.
 *
 * How a wait works: a request gets a fresh token and is sent confirmable;
 * libcoap's handlers (response, NACK, event) only record what arrived into
 * the client, and the waiting loop runs coap_io_process() in slices of at
 * most 100 ms until the answer is there, the exchange failed, the stop flag
 * is set or the deadline passed. Answers to tokens no longer waited for
 * are dropped (and a stale notification is reset, which ends that
 * observation at the server).
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <coap3/coap.h>

#include "dsuit/crypto.h"
#include "net/coap/client.h"

#define URI_MAX            300
#define PSK_ID_MAX         128
#define PSK_KEY_MAX        64
#define RX_MAX             4096 /* one datagram's payload; blocks are 1024 */
#define SZX_1024           6
#define BLOCK_NUM_MAX      0xfffffu /* 20 bits in a 3-byte block option */
#define SLICE_MS           100
#define DEFAULT_TIMEOUT_MS 5000u
#define TOKEN_MAX          8

struct dsuit_coap_client {
    char uri[URI_MAX + 1];
    coap_context_t *ctx;
    coap_session_t *session;
    unsigned timeout_ms;
    volatile sig_atomic_t *stop;
    char psk_id[PSK_ID_MAX + 1];
    uint8_t psk_key[PSK_KEY_MAX];
    size_t psk_key_len;
    /* NUL-terminated copies; libcoap may read them at the handshake */
    uint8_t *pem, *pub_pem;
    size_t pem_len, pub_pem_len;
    int dead; /* the session closed or DTLS failed */

    /* The exchange in flight: token, then what its answer said. */
    uint8_t tok[TOKEN_MAX];
    size_t tok_len;
    int pending, answered, nacked;
    int code;
    int has_cf;
    uint16_t cf;
    uint8_t etag[8];
    size_t etag_len;
    int has_b2, b2_more;
    uint32_t b2_num;
    unsigned b2_szx;
    int has_b1;
    uint32_t b1_num;
    unsigned b1_szx;
    int has_observe;
    uint8_t rx[RX_MAX];
    size_t rx_len;
    int rx_too_big;

    /* The observation, once a 2.05 with Observe answered it. */
    uint8_t obs_tok[TOKEN_MAX];
    size_t obs_tok_len;
    int observing, obs_dead;
    unsigned notified;
};

static pthread_once_t coap_once = PTHREAD_ONCE_INIT;

static void coap_setup_once(void)
{
    coap_startup();
    /* Failures are reported by the caller, worded for the user; libcoap's
     * own lines would only repeat them less clearly. */
    coap_set_log_level(LOG_EMERG);
    coap_dtls_set_log_level(LOG_EMERG);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int token_is(const coap_pdu_t *pdu, const uint8_t *tok, size_t len)
{
    coap_bin_const_t t = coap_pdu_get_token(pdu);
    return len > 0 && t.length == len && memcmp(t.s, tok, len) == 0;
}

static int get_block(const coap_pdu_t *pdu, uint16_t number, uint32_t *num,
                     int *more, unsigned *szx)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(pdu, number, &it);
    if (opt == NULL || coap_opt_length(opt) > 3)
        return 0;
    *num = coap_opt_block_num(opt);
    *more = COAP_OPT_BLOCK_MORE(opt) ? 1 : 0;
    *szx = COAP_OPT_BLOCK_SZX(opt);
    return 1;
}

/* Record the answer to the exchange in flight. */
static void take_answer(dsuit_coap_client_t *c, const coap_pdu_t *pdu)
{
    coap_pdu_code_t rc = coap_pdu_get_code(pdu);
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    const uint8_t *data = NULL;
    size_t len = 0;
    int more;

    c->code = (int)COAP_RESPONSE_CLASS(rc) * 100 + (int)(rc & 0x1f);
    opt = coap_check_option(pdu, COAP_OPTION_CONTENT_FORMAT, &it);
    c->has_cf = opt != NULL && coap_opt_length(opt) <= 2;
    c->cf = c->has_cf ? (uint16_t)coap_decode_var_bytes(coap_opt_value(opt),
                                                        coap_opt_length(opt))
                      : 0;
    opt = coap_check_option(pdu, COAP_OPTION_ETAG, &it);
    c->etag_len = 0;
    if (opt != NULL && coap_opt_length(opt) <= sizeof(c->etag)) {
        c->etag_len = coap_opt_length(opt);
        memcpy(c->etag, coap_opt_value(opt), c->etag_len);
    }
    c->has_b2 =
        get_block(pdu, COAP_OPTION_BLOCK2, &c->b2_num, &c->b2_more, &c->b2_szx);
    c->has_b1 =
        get_block(pdu, COAP_OPTION_BLOCK1, &c->b1_num, &more, &c->b1_szx);
    c->has_observe = coap_check_option(pdu, COAP_OPTION_OBSERVE, &it) != NULL;
    c->rx_len = 0;
    c->rx_too_big = 0;
    if (coap_get_data(pdu, &len, &data) && len > 0) {
        if (len > sizeof(c->rx)) {
            c->rx_too_big = 1;
        } else {
            memcpy(c->rx, data, len);
            c->rx_len = len;
        }
    }
    c->answered = 1;
    c->pending = 0;
}

static coap_response_t on_response(coap_session_t *session,
                                   const coap_pdu_t *sent,
                                   const coap_pdu_t *received,
                                   const coap_mid_t mid)
{
    dsuit_coap_client_t *c =
        coap_get_app_data(coap_session_get_context(session));
    coap_opt_iterator_t it;
    (void)sent;
    (void)mid;
    if (c == NULL)
        return COAP_RESPONSE_OK;
    if (c->pending && token_is(received, c->tok, c->tok_len)) {
        take_answer(c, received);
        return COAP_RESPONSE_OK;
    }
    if (c->observing && token_is(received, c->obs_tok, c->obs_tok_len)) {
        coap_pdu_code_t rc = coap_pdu_get_code(received);
        /* RFC 7641 §3.2: a notification that is not 2.xx ends it. */
        if (COAP_RESPONSE_CLASS(rc) == 2 &&
            coap_check_option(received, COAP_OPTION_OBSERVE, &it) != NULL)
            c->notified++;
        else
            c->obs_dead = 1;
        return COAP_RESPONSE_OK;
    }
    /* A notification of an observation we dropped: reset it, so the server
     * stops sending (RFC 7641 §3.6). Late answers are just ignored. */
    if (coap_check_option(received, COAP_OPTION_OBSERVE, &it) != NULL)
        return COAP_RESPONSE_FAIL;
    return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    dsuit_coap_client_t *c =
        coap_get_app_data(coap_session_get_context(session));
    (void)mid;
    if (c == NULL)
        return;
    if (reason == COAP_NACK_TLS_FAILED)
        c->dead = 1;
    if (c->pending && sent != NULL && token_is(sent, c->tok, c->tok_len))
        c->nacked = 1;
    if (c->observing && sent != NULL &&
        token_is(sent, c->obs_tok, c->obs_tok_len))
        c->obs_dead = 1;
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    dsuit_coap_client_t *c =
        coap_get_app_data(coap_session_get_context(session));
    if (c == NULL)
        return 0;
    switch (event) {
    case COAP_EVENT_DTLS_CLOSED:
    case COAP_EVENT_DTLS_ERROR:
    case COAP_EVENT_SESSION_CLOSED:
    case COAP_EVENT_SESSION_FAILED:
        c->dead = 1;
        break;
    default:
        break;
    }
    return 0;
}

/* "coaps://HOST:PORT" -> host (brackets of an IPv6 literal removed), port. */
static int parse_uri(const char *uri, char *host, size_t host_cap, char port[6])
{
    static const char scheme[] = "coaps://";
    const char *h = uri, *end, *p;
    size_t n;
    unsigned long v;
    char *stop;

    if (strncmp(uri, scheme, sizeof(scheme) - 1) != 0)
        return DSUIT_E_INVAL;
    h += sizeof(scheme) - 1;
    if (*h == '[') {
        end = strchr(++h, ']');
        if (end == NULL || end[1] != ':')
            return DSUIT_E_INVAL;
        p = end + 2;
    } else {
        end = strchr(h, ':');
        if (end == NULL)
            return DSUIT_E_INVAL;
        p = end + 1;
    }
    n = (size_t)(end - h);
    if (n == 0 || n >= host_cap)
        return DSUIT_E_INVAL;
    for (size_t i = 0; i < n; i++)
        if (h[i] == '/' || h[i] == '@' || h[i] == '[' ||
            (unsigned char)h[i] <= ' ')
            return DSUIT_E_INVAL;
    if (*p < '0' || *p > '9' || strlen(p) > 5)
        return DSUIT_E_INVAL;
    errno = 0;
    v = strtoul(p, &stop, 10);
    if (errno != 0 || *stop != '\0' || v == 0 || v > 65535)
        return DSUIT_E_INVAL;
    memcpy(host, h, n);
    host[n] = '\0';
    snprintf(port, 6, "%lu", v);
    return DSUIT_OK;
}

static int resolve(const char *host, const char *port, coap_address_t *out)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return DSUIT_E_IO;
    if (res->ai_addrlen > sizeof(out->addr)) {
        freeaddrinfo(res);
        return DSUIT_E_IO;
    }
    coap_address_init(out);
    out->size = res->ai_addrlen;
    memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return DSUIT_OK;
}

int dsuit_coap_client_open(const char *uri,
                           const dsuit_coap_client_opts_t *opts,
                           dsuit_coap_client_t **out)
{
    dsuit_coap_client_t *c;
    coap_address_t addr;
    char host[URI_MAX], port[6];
    int psk, err;

    if (uri == NULL || opts == NULL || out == NULL || strlen(uri) > URI_MAX)
        return DSUIT_E_INVAL;
    psk = opts->psk_identity != NULL;
    if (psk == (opts->rpk_pem != NULL))
        return DSUIT_E_INVAL;
    if (psk &&
        (opts->psk_identity[0] == '\0' ||
         strlen(opts->psk_identity) > PSK_ID_MAX || opts->psk_key == NULL ||
         opts->psk_key_len == 0 || opts->psk_key_len > PSK_KEY_MAX))
        return DSUIT_E_INVAL;
    if (!psk && (opts->rpk_pem_len == 0 ||
                 (opts->rpk_pub_pem != NULL && opts->rpk_pub_pem_len == 0)))
        return DSUIT_E_INVAL;
    err = parse_uri(uri, host, sizeof(host), port);
    if (err != DSUIT_OK)
        return err;
    pthread_once(&coap_once, coap_setup_once);
    err = resolve(host, port, &addr);
    if (err != DSUIT_OK)
        return err;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return DSUIT_E_NOMEM;
    memcpy(c->uri, uri, strlen(uri) + 1);
    c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->stop = opts->stop;
    err = DSUIT_E_IO;
    c->ctx = coap_new_context(NULL);
    if (c->ctx == NULL)
        goto fail;
    coap_set_app_data(c->ctx, c);
    coap_register_response_handler(c->ctx, on_response);
    coap_register_nack_handler(c->ctx, on_nack);
    coap_register_event_handler(c->ctx, on_event);

    if (psk) {
        coap_dtls_cpsk_t setup;
        memset(&setup, 0, sizeof(setup));
        memcpy(c->psk_id, opts->psk_identity, strlen(opts->psk_identity) + 1);
        memcpy(c->psk_key, opts->psk_key, opts->psk_key_len);
        c->psk_key_len = opts->psk_key_len;
        setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
        setup.psk_info.identity.s = (const uint8_t *)c->psk_id;
        setup.psk_info.identity.length = strlen(c->psk_id);
        setup.psk_info.key.s = c->psk_key;
        setup.psk_info.key.length = c->psk_key_len;
        c->session = coap_new_client_session_psk2(c->ctx, NULL, &addr,
                                                  COAP_PROTO_DTLS, &setup);
    } else {
        coap_dtls_pki_t setup;
        memset(&setup, 0, sizeof(setup));
        const uint8_t *pub =
            opts->rpk_pub_pem ? opts->rpk_pub_pem : opts->rpk_pem;
        size_t pub_len =
            opts->rpk_pub_pem ? opts->rpk_pub_pem_len : opts->rpk_pem_len;
        c->pem = malloc(opts->rpk_pem_len + 1);
        c->pub_pem = malloc(pub_len + 1);
        if (c->pem == NULL || c->pub_pem == NULL) {
            err = DSUIT_E_NOMEM;
            goto fail;
        }
        memcpy(c->pem, opts->rpk_pem, opts->rpk_pem_len);
        c->pem[opts->rpk_pem_len] = '\0';
        c->pem_len = opts->rpk_pem_len + 1;
        memcpy(c->pub_pem, pub, pub_len);
        c->pub_pem[pub_len] = '\0';
        c->pub_pem_len = pub_len + 1;
        setup.version = COAP_DTLS_PKI_SETUP_VERSION;
        /* RFC 7250 raw public keys: libcoap's GnuTLS glue only negotiates
         * them with peer verification on. There is no CA to check the
         * node's key against, and none is needed: everything the device
         * accepts is verified end to end (author signature, ledger proof,
         * image digest), so the channel only has to carry bytes. */
        setup.verify_peer_cert = 1;
        setup.is_rpk_not_cert = 1;
        setup.pki_key.key_type = COAP_PKI_KEY_PEM_BUF;
        setup.pki_key.key.pem_buf.public_cert = c->pub_pem;
        setup.pki_key.key.pem_buf.public_cert_len = c->pub_pem_len;
        setup.pki_key.key.pem_buf.private_key = c->pem;
        setup.pki_key.key.pem_buf.private_key_len = c->pem_len;
        c->session = coap_new_client_session_pki(c->ctx, NULL, &addr,
                                                 COAP_PROTO_DTLS, &setup);
    }
    if (c->session == NULL)
        goto fail;
    *out = c;
    return DSUIT_OK;
fail:
    dsuit_coap_client_close(c);
    return err;
}

void dsuit_coap_client_close(dsuit_coap_client_t *c)
{
    if (c == NULL)
        return;
    if (c->session != NULL)
        coap_session_release(c->session);
    if (c->ctx != NULL) {
        coap_set_app_data(c->ctx, NULL);
        coap_free_context(c->ctx);
    }
    dsuit_wipe(c->psk_key, sizeof(c->psk_key));
    if (c->pem != NULL) {
        dsuit_wipe(c->pem, c->pem_len);
        free(c->pem);
    }
    free(c->pub_pem);
    free(c);
}

const char *dsuit_coap_client_uri(const dsuit_coap_client_t *c)
{
    return c != NULL ? c->uri : "";
}

/* ---- requests ----------------------------------------------------------- */

/* Options of a request; -1 leaves one out. Added in option-number order
 * (RFC 7252 §3.1 deltas). */
typedef struct {
    coap_pdu_code_t code;
    const char *path;
    long observe;        /* 6 */
    long content_format; /* 12 */
    long block2;         /* 23 */
    long block1;         /* 27 */
    const uint8_t *data;
    size_t len;
} request_t;

static int add_uint_option(coap_pdu_t *pdu, uint16_t number, unsigned long v)
{
    uint8_t buf[4];
    unsigned n = coap_encode_var_safe(buf, sizeof(buf), (unsigned)v);
    return coap_add_option(pdu, number, n, buf) != 0 ? DSUIT_OK : DSUIT_E_LIMIT;
}

static int add_path(coap_pdu_t *pdu, const char *path)
{
    const char *p = path, *slash;
    size_t n;
    if (*p != '/' || strlen(p) > 255)
        return DSUIT_E_INVAL;
    /* Bounded by the path's length: each round consumes a segment. */
    while (*p == '/') {
        p++;
        slash = strchr(p, '/');
        n = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (n == 0)
            return DSUIT_E_INVAL;
        if (coap_add_option(pdu, COAP_OPTION_URI_PATH, n, (const uint8_t *)p) ==
            0)
            return DSUIT_E_LIMIT;
        p += n;
    }
    return *p == '\0' ? DSUIT_OK : DSUIT_E_INVAL;
}

static int wait_until(dsuit_coap_client_t *c, double deadline, const int *done)
{
    /* Bounded by the deadline: each round takes at most SLICE_MS. */
    while (!*done) {
        double left;
        if (c->stop != NULL && *c->stop)
            return DSUIT_E_AGAIN;
        if (c->dead || c->nacked)
            return DSUIT_E_IO;
        left = deadline - now_ms();
        if (left <= 0)
            return DSUIT_E_IO;
        if (coap_io_process(c->ctx, left < SLICE_MS ? (uint32_t)left + 1
                                                    : SLICE_MS) < 0 &&
            !(c->stop != NULL && *c->stop))
            return DSUIT_E_IO;
    }
    return DSUIT_OK;
}

/* Send one request and wait for its answer, recorded in c. */
static int exchange(dsuit_coap_client_t *c, const request_t *r)
{
    coap_pdu_t *pdu;
    int err;

    if (c->dead)
        return DSUIT_E_IO;
    pdu = coap_new_pdu(COAP_MESSAGE_CON, r->code, c->session);
    if (pdu == NULL)
        return DSUIT_E_NOMEM;
    coap_session_new_token(c->session, &c->tok_len, c->tok);
    err = coap_add_token(pdu, c->tok_len, c->tok) ? DSUIT_OK : DSUIT_E_LIMIT;
    if (err == DSUIT_OK && r->observe >= 0)
        err = add_uint_option(pdu, COAP_OPTION_OBSERVE,
                              (unsigned long)r->observe);
    if (err == DSUIT_OK)
        err = add_path(pdu, r->path);
    if (err == DSUIT_OK && r->content_format >= 0)
        err = add_uint_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                              (unsigned long)r->content_format);
    if (err == DSUIT_OK && r->block2 >= 0)
        err =
            add_uint_option(pdu, COAP_OPTION_BLOCK2, (unsigned long)r->block2);
    if (err == DSUIT_OK && r->block1 >= 0)
        err =
            add_uint_option(pdu, COAP_OPTION_BLOCK1, (unsigned long)r->block1);
    if (err == DSUIT_OK && r->len > 0 && !coap_add_data(pdu, r->len, r->data))
        err = DSUIT_E_LIMIT;
    if (err != DSUIT_OK) {
        coap_delete_pdu(pdu);
        return err;
    }
    c->pending = 1;
    c->answered = 0;
    c->nacked = 0;
    if (coap_send(c->session, pdu) == COAP_INVALID_MID) {
        c->pending = 0;
        return DSUIT_E_IO;
    }
    err = wait_until(c, now_ms() + c->timeout_ms, &c->answered);
    c->pending = 0;
    return err;
}

static void fill_response(const dsuit_coap_client_t *c,
                          dsuit_coap_result_t *out, int headers)
{
    out->code = c->code;
    if (headers) {
        out->has_content_format = c->has_cf;
        out->content_format = c->cf;
        memcpy(out->etag, c->etag, c->etag_len);
        out->etag_len = c->etag_len;
    }
    out->diag[0] = '\0';
    if (c->code / 100 != 2) {
        size_t n = c->rx_len < sizeof(out->diag) - 1 ? c->rx_len
                                                     : sizeof(out->diag) - 1;
        for (size_t i = 0; i < n; i++)
            out->diag[i] =
                c->rx[i] < 0x20 || c->rx[i] == 0x7f ? '?' : (char)c->rx[i];
        out->diag[n] = '\0';
    }
}

int dsuit_coap_client_get(dsuit_coap_client_t *c, const char *path,
                          uint64_t offset, dsuit_coap_body_fn body, void *arg,
                          dsuit_coap_result_t *out)
{
    dsuit_coap_result_t resp;
    request_t r = {COAP_REQUEST_CODE_GET, path, -1, -1, -1, -1, NULL, 0};
    uint64_t want = offset, num;
    unsigned szx = SZX_1024;
    int err;

    if (c == NULL || path == NULL || body == NULL || out == NULL ||
        offset % DSUIT_COAP_BLOCK_SIZE != 0 ||
        offset / DSUIT_COAP_BLOCK_SIZE > BLOCK_NUM_MAX)
        return DSUIT_E_INVAL;
    memset(&resp, 0, sizeof(resp));
    num = offset / DSUIT_COAP_BLOCK_SIZE;
    /* Bounded: the block number grows every round and stops at 2^20. */
    for (int first = 1;; first = 0) {
        uint64_t bs, at;
        r.block2 = (long)((num << 4) | szx);
        err = exchange(c, &r);
        if (err != DSUIT_OK)
            return err;
        if (first) {
            fill_response(c, &resp, 1);
        } else if (c->code == 205 &&
                   (c->etag_len != resp.etag_len ||
                    memcmp(c->etag, resp.etag, c->etag_len) != 0)) {
            return DSUIT_E_IO; /* the resource changed under us */
        }
        if (c->code != 205) {
            fill_response(c, &resp, first);
            break;
        }
        if (c->rx_too_big)
            return DSUIT_E_IO;
        if (!c->has_b2) {
            /* The whole body in one answer: from 0, whatever we asked. */
            err = body(arg, 0, c->rx, c->rx_len, 1);
            if (err != DSUIT_OK)
                return err;
            resp.body_len += c->rx_len;
            break;
        }
        if (c->b2_szx > SZX_1024)
            return DSUIT_E_IO; /* BERT is for TCP only (RFC 8323) */
        bs = 1u << (c->b2_szx + 4);
        at = (uint64_t)c->b2_num * bs;
        /* A server may restart at block 0; any other jump is broken. */
        if (at != want && !(first && at == 0))
            return DSUIT_E_IO;
        if (c->b2_more ? c->rx_len != bs : c->rx_len > bs)
            return DSUIT_E_IO;
        err = body(arg, at, c->rx, c->rx_len, !c->b2_more);
        if (err != DSUIT_OK)
            return err;
        resp.body_len += c->rx_len;
        if (!c->b2_more)
            break;
        want = at + bs;
        szx = c->b2_szx;
        num = want / bs;
        if (num > BLOCK_NUM_MAX)
            return DSUIT_E_LIMIT;
    }
    *out = resp;
    return DSUIT_OK;
}

int dsuit_coap_client_post(dsuit_coap_client_t *c, const char *path,
                           uint16_t content_format, const uint8_t *data,
                           size_t len, dsuit_coap_result_t *out)
{
    dsuit_coap_result_t resp;
    request_t r = {
        COAP_REQUEST_CODE_POST, path, -1, content_format, -1, -1, data, len};
    uint64_t at = 0, bs = DSUIT_COAP_BLOCK_SIZE;
    unsigned szx = SZX_1024;
    int err;

    if (c == NULL || path == NULL || out == NULL || (len > 0 && data == NULL))
        return DSUIT_E_INVAL;
    memset(&resp, 0, sizeof(resp));
    if (len <= DSUIT_COAP_BLOCK_SIZE) {
        err = exchange(c, &r);
        if (err != DSUIT_OK)
            return err;
        fill_response(c, &resp, 1);
        *out = resp;
        return DSUIT_OK;
    }
    /* Bounded: `at` grows by at least 16 bytes every round. */
    while (at < len) {
        uint64_t n = len - at < bs ? len - at : bs;
        int more = at + n < len;
        if (at / bs > BLOCK_NUM_MAX)
            return DSUIT_E_LIMIT;
        r.data = data + at;
        r.len = (size_t)n;
        r.block1 = (long)(((at / bs) << 4) | ((unsigned)more << 3) | szx);
        err = exchange(c, &r);
        if (err != DSUIT_OK)
            return err;
        if (!more || c->code != 231) {
            fill_response(c, &resp, 1);
            break;
        }
        /* 2.31 Continue; the server may ask for smaller blocks. */
        if (c->has_b1 && c->b1_szx < szx) {
            szx = c->b1_szx;
            bs = 1u << (szx + 4);
            at = ((uint64_t)c->b1_num + 1) * bs;
        } else {
            at += n;
        }
    }
    *out = resp;
    return DSUIT_OK;
}

int dsuit_coap_client_observe(dsuit_coap_client_t *c, const char *path,
                              dsuit_coap_result_t *out)
{
    dsuit_coap_result_t resp;
    request_t r = {COAP_REQUEST_CODE_GET, path, 0, -1, SZX_1024, -1, NULL, 0};
    int err;

    if (c == NULL || path == NULL || out == NULL)
        return DSUIT_E_INVAL;
    c->observing = 0;
    c->obs_dead = 0;
    c->notified = 0;
    err = exchange(c, &r);
    if (err != DSUIT_OK)
        return err;
    memset(&resp, 0, sizeof(resp));
    fill_response(c, &resp, 1);
    if (c->code == 205 && !c->has_observe)
        return DSUIT_E_UNSUPPORTED;
    if (c->code == 205) {
        memcpy(c->obs_tok, c->tok, c->tok_len);
        c->obs_tok_len = c->tok_len;
        c->observing = 1;
    }
    *out = resp;
    return DSUIT_OK;
}

int dsuit_coap_client_wait(dsuit_coap_client_t *c, unsigned timeout_ms,
                           unsigned *out_notified)
{
    double deadline;
    int err;

    if (c == NULL || out_notified == NULL)
        return DSUIT_E_INVAL;
    if (!c->observing || c->obs_dead || c->dead)
        return DSUIT_E_IO;
    deadline = now_ms() + timeout_ms;
    /* Bounded by the deadline. */
    while (c->notified == 0 && now_ms() < deadline) {
        double left = deadline - now_ms();
        if (c->stop != NULL && *c->stop)
            return DSUIT_E_AGAIN;
        if (c->obs_dead || c->dead)
            return DSUIT_E_IO;
        if (coap_io_process(c->ctx, left < SLICE_MS ? (uint32_t)left + 1
                                                    : SLICE_MS) < 0 &&
            !(c->stop != NULL && *c->stop))
            return DSUIT_E_IO;
    }
    err = c->obs_dead || c->dead ? DSUIT_E_IO : DSUIT_OK;
    if (err == DSUIT_OK) {
        *out_notified = c->notified;
        c->notified = 0;
    }
    return err;
}
