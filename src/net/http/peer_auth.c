/*
 * dsuit peer authentication: signs internal requests between validators
 * and checks them, with a replay guard (peer_auth.h has the wire format and
 * the signed bytes).
 *
 * Verification fails closed: every check jumps to `out` with
 * DSUIT_E_SIGNATURE, cheap checks (headers, index, time) come before the
 * signature, and the replay table is only touched by requests whose
 * signature verified, so forged requests cannot fill it.
 */
#include "net/http/peer_auth.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOMAIN     "dsuit-peer-v1"
#define DOMAIN_LEN (sizeof(DOMAIN) - 1)
#define METHOD_MAX 32
#define TIME_MAX   20 /* digits of UINT64_MAX */
#define MSG_MAX                                                                \
    (DOMAIN_LEN + DSUIT_SHA256_LEN + METHOD_MAX + 1 + DSUIT_PEER_PATH_MAX +    \
     1 + TIME_MAX + 1 + DSUIT_SHA256_LEN)
#define KEY_LEN 16 /* bytes of the message hash a guard slot keeps */

static const char hdr_node[] = "X-Dsuit-Node";
static const char hdr_time[] = "X-Dsuit-Time";
static const char hdr_sig[] = "X-Dsuit-Sig";

/* A method is an RFC 9110 token: no separator can end it early. */
static int method_ok(const char *m)
{
    size_t n = 0;

    for (; *m; m++, n++)
        if (*m <= ' ' || *m >= 127 || strchr("()<>@,;:\\\"/[]?={}", *m))
            return 0;
    return n > 0 && n <= METHOD_MAX;
}

/* RFC 3986 path characters except '%': the decoded path the receiver sees
 * is then byte for byte the path the sender signed. */
static int path_ok(const char *p)
{
    size_t n = 0;

    if (*p != '/')
        return 0;
    for (; *p; p++, n++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || strchr("-._~!$&'()*+,;=:@/", ch)))
            return 0;
    }
    return n <= DSUIT_PEER_PATH_MAX;
}

/* Strict decimal: 1..20 digits, no leading zero (so one value has one
 * spelling), no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;

    if (s == NULL || *s == '\0' || (s[0] == '0' && s[1] != '\0'))
        return -1;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= TIME_MAX)
            return -1;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static int parse_hex_sig(const char *s, uint8_t out[DSUIT_SIG_LEN])
{
    if (s == NULL || strlen(s) != 2 * DSUIT_SIG_LEN)
        return -1;
    for (size_t i = 0; i < DSUIT_SIG_LEN; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char ch = s[2 * i + (size_t)j];
            v <<= 4;
            if (ch >= '0' && ch <= '9')
                v |= ch - '0';
            else if (ch >= 'a' && ch <= 'f')
                v |= ch - 'a' + 10;
            else
                return -1;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* Build the signed bytes (peer_auth.h) into msg[MSG_MAX]. The caller has
 * checked method and path. */
static int build_msg(const uint8_t chain[DSUIT_SHA256_LEN], const char *method,
                     const char *path, const char *time, const uint8_t *body,
                     size_t len, uint8_t *msg, size_t *out_len)
{
    size_t n = 0, ml = strlen(method), pl = strlen(path), tl = strlen(time);
    int rc;

    if (ml > METHOD_MAX || pl > DSUIT_PEER_PATH_MAX || tl > TIME_MAX)
        return DSUIT_E_INVAL;
    memcpy(msg + n, DOMAIN, DOMAIN_LEN);
    n += DOMAIN_LEN;
    memcpy(msg + n, chain, DSUIT_SHA256_LEN);
    n += DSUIT_SHA256_LEN;
    memcpy(msg + n, method, ml);
    n += ml;
    msg[n++] = '\n';
    memcpy(msg + n, path, pl);
    n += pl;
    msg[n++] = '\n';
    memcpy(msg + n, time, tl);
    n += tl;
    msg[n++] = '\n';
    rc = dsuit_sha256(len ? body : (const uint8_t *)"", len, msg + n);
    if (rc != DSUIT_OK)
        return rc;
    n += DSUIT_SHA256_LEN;
    *out_len = n;
    return DSUIT_OK;
}

int dsuit_peer_sign(const dsuit_key_t *key, uint64_t index,
                    const uint8_t chain[DSUIT_SHA256_LEN], const char *method,
                    const char *path, const uint8_t *body, size_t len,
                    uint64_t now_ms, char out_headers[3][DSUIT_PEER_HEADER_MAX])
{
    static const char hex[] = "0123456789abcdef";
    char h[3][DSUIT_PEER_HEADER_MAX], time[TIME_MAX + 1];
    uint8_t msg[MSG_MAX], sig[DSUIT_SIG_LEN];
    size_t mlen, off;
    int rc;

    if (key == NULL || chain == NULL || method == NULL || path == NULL ||
        out_headers == NULL || (body == NULL && len != 0) ||
        !method_ok(method) || !path_ok(path))
        return DSUIT_E_INVAL;
    snprintf(time, sizeof(time), "%" PRIu64, now_ms);
    rc = build_msg(chain, method, path, time, body, len, msg, &mlen);
    if (rc != DSUIT_OK)
        return rc;
    rc = dsuit_sig_sign(key, msg, mlen, sig);
    if (rc != DSUIT_OK)
        return rc;

    snprintf(h[0], sizeof(h[0]), "%s: %" PRIu64, hdr_node, index);
    snprintf(h[1], sizeof(h[1]), "%s: %s", hdr_time, time);
    off = (size_t)snprintf(h[2], sizeof(h[2]), "%s: ", hdr_sig);
    for (size_t i = 0; i < DSUIT_SIG_LEN; i++) {
        h[2][off++] = hex[sig[i] >> 4];
        h[2][off++] = hex[sig[i] & 15];
    }
    h[2][off] = '\0';
    memcpy(out_headers, h, sizeof(h));
    return DSUIT_OK;
}

/* The whole check but the replay table; on success also gives the hash of
 * the signed bytes, which the guard remembers. */
static int verify(const dsuit_genesis_t *g, const dsuit_http_request_t *req,
                  uint64_t now_ms, uint64_t max_skew_ms, uint64_t *out_index,
                  uint8_t out_hash[DSUIT_SHA256_LEN])
{
    uint8_t msg[MSG_MAX], sig[DSUIT_SIG_LEN];
    const char *time, *method;
    uint64_t index, t;
    size_t mlen;
    int rc, err = DSUIT_E_SIGNATURE;

    if (g == NULL || req == NULL || req->method == NULL || req->path == NULL ||
        (req->body == NULL && req->body_len != 0))
        return DSUIT_E_INVAL;
    method = req->head ? "HEAD" : req->method;
    time = dsuit_http_header(req, hdr_time);
    if (parse_u64(dsuit_http_header(req, hdr_node), &index) != 0 ||
        parse_u64(time, &t) != 0 ||
        parse_hex_sig(dsuit_http_header(req, hdr_sig), sig) != 0)
        goto out;
    if (index >= g->n_validators)
        goto out;
    /* A stale request may be a recorded one; a future one would outlive
     * the replay guard's memory of it. */
    if (now_ms > t ? now_ms - t > max_skew_ms : t - now_ms > max_skew_ms)
        goto out;
    /* The signature covers neither the query nor '%'-escapes. */
    if (dsuit_http_query_count(req) != 0 || !method_ok(method) ||
        !path_ok(req->path))
        goto out;
    rc = build_msg(g->hash, method, req->path, time, req->body, req->body_len,
                   msg, &mlen);
    if (rc != DSUIT_OK) {
        err = rc == DSUIT_E_INVAL ? DSUIT_E_SIGNATURE : rc;
        goto out;
    }
    rc = dsuit_sig_verify(&g->validators[index].key, msg, mlen, sig,
                          sizeof(sig));
    if (rc != DSUIT_OK) {
        err = rc == DSUIT_E_CRYPTO ? rc : DSUIT_E_SIGNATURE;
        goto out;
    }
    if (out_hash != NULL) {
        rc = dsuit_sha256(msg, mlen, out_hash);
        if (rc != DSUIT_OK) {
            err = rc;
            goto out;
        }
    }
    *out_index = index;
    err = DSUIT_OK;
out:
    return err;
}

int dsuit_peer_check(const dsuit_genesis_t *g, const dsuit_http_request_t *req,
                     uint64_t now_ms, uint64_t max_skew_ms, uint64_t *out_index)
{
    if (out_index == NULL)
        return DSUIT_E_INVAL;
    return verify(g, req, now_ms, max_skew_ms, out_index, NULL);
}

typedef struct {
    uint64_t expires; /* time + max_skew: replayable until then */
    uint8_t key[KEY_LEN];
    uint8_t used;
} slot_t;

struct dsuit_peer_guard {
    pthread_mutex_t mu;
    size_t n, window;
    slot_t *slots; /* n * window, validator i at [i * window] */
};

int dsuit_peer_guard_new(size_t n_validators, size_t window,
                         dsuit_peer_guard_t **out)
{
    dsuit_peer_guard_t *gd;

    if (window == 0)
        window = DSUIT_PEER_DEFAULT_WINDOW;
    if (out == NULL || n_validators == 0 ||
        n_validators > DSUIT_GENESIS_MAX_VALIDATORS ||
        window > SIZE_MAX / sizeof(slot_t) / DSUIT_GENESIS_MAX_VALIDATORS)
        return DSUIT_E_INVAL;
    gd = calloc(1, sizeof(*gd));
    if (gd == NULL)
        return DSUIT_E_NOMEM;
    gd->slots = calloc(n_validators * window, sizeof(slot_t));
    if (gd->slots == NULL) {
        free(gd);
        return DSUIT_E_NOMEM;
    }
    if (pthread_mutex_init(&gd->mu, NULL) != 0) {
        free(gd->slots);
        free(gd);
        return DSUIT_E_NOMEM;
    }
    gd->n = n_validators;
    gd->window = window;
    *out = gd;
    return DSUIT_OK;
}

void dsuit_peer_guard_free(dsuit_peer_guard_t *guard)
{
    if (guard == NULL)
        return;
    pthread_mutex_destroy(&guard->mu);
    free(guard->slots);
    free(guard);
}

int dsuit_peer_verify(dsuit_peer_guard_t *guard, const dsuit_genesis_t *g,
                      const dsuit_http_request_t *req, uint64_t now_ms,
                      uint64_t max_skew_ms, uint64_t *out_index)
{
    uint8_t h[DSUIT_SHA256_LEN];
    uint64_t index, expires;
    slot_t *row, *free_slot = NULL;
    int rc;

    if (guard == NULL || g == NULL || out_index == NULL)
        return DSUIT_E_INVAL;
    if (g->n_validators > guard->n)
        return DSUIT_E_INVAL;
    rc = verify(g, req, now_ms, max_skew_ms, &index, h);
    if (rc != DSUIT_OK)
        return rc;
    /* The request's time is within max_skew of now (checked), so it stays
     * replayable until time + max_skew; saturate rather than wrap. */
    {
        uint64_t t = 0;
        parse_u64(dsuit_http_header(req, hdr_time), &t);
        expires = t > UINT64_MAX - max_skew_ms ? UINT64_MAX : t + max_skew_ms;
    }

    pthread_mutex_lock(&guard->mu);
    row = guard->slots + index * guard->window;
    rc = DSUIT_OK;
    for (size_t i = 0; i < guard->window; i++) {
        slot_t *s = &row[i];
        int live = s->used && now_ms <= s->expires;
        if (live && memcmp(s->key, h, KEY_LEN) == 0) {
            rc = DSUIT_E_SIGNATURE; /* a replay */
            break;
        }
        if (!live && free_slot == NULL)
            free_slot = s;
    }
    if (rc == DSUIT_OK && free_slot == NULL)
        rc = DSUIT_E_LIMIT;
    if (rc == DSUIT_OK) {
        memcpy(free_slot->key, h, KEY_LEN);
        free_slot->expires = expires;
        free_slot->used = 1;
    }
    pthread_mutex_unlock(&guard->mu);
    if (rc == DSUIT_OK)
        *out_index = index;
    return rc;
}
