/*
 * Test helpers: read official vectors from $DSUIT_VECTORS, decode hex
 * constants, encode CBOR diagnostic notation and build signed SUIT
 * envelopes (see vectors.h). Failures end the running cmocka test with a
 * message naming the file, so a missing vector can never pass silently.
 */
#include "vectors.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"

/* Read the whole file into buf; cap counts the bytes usable for content. */
static void read_file(const char *relpath, uint8_t *buf, size_t cap,
                      size_t *out_len)
{
    const char *dir = getenv("DSUIT_VECTORS");
    char path[4096];
    if (dir == NULL || dir[0] == '\0') {
        fail_msg("DSUIT_VECTORS is not set; cannot read vector '%s' "
                 "(run the test through ctest)",
                 relpath);
    }
    int n = snprintf(path, sizeof path, "%s/%s", dir, relpath);
    if (n < 0 || (size_t)n >= sizeof path)
        fail_msg("vector path too long: '%s/%s'", dir, relpath);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open vector '%s': %s", path, strerror(errno));
    size_t len = fread(buf, 1, cap, f);
    int err = ferror(f);
    int more = (len == cap && fgetc(f) != EOF);
    fclose(f);
    if (err)
        fail_msg("cannot read vector '%s'", path);
    if (more)
        fail_msg("vector '%s' is larger than the test buffer (%zu bytes)", path,
                 cap);
    *out_len = len;
}

int tv_read(const char *relpath, uint8_t *buf, size_t cap, size_t *out_len)
{
    read_file(relpath, buf, cap, out_len);
    return 0;
}

int tv_read_text(const char *relpath, char *buf, size_t cap, size_t *out_len)
{
    size_t len = 0;
    if (cap == 0)
        fail_msg("tv_read_text('%s'): no room for the NUL", relpath);
    read_file(relpath, (uint8_t *)buf, cap - 1, &len);
    buf[len] = '\0';
    *out_len = len;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t tv_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p != '\0'; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            continue;
        int d = hex_digit(*p);
        if (d < 0)
            fail_msg("tv_hex: '%c' is not a hex digit in \"%s\"", *p, hex);
        if (hi < 0) {
            hi = d;
            continue;
        }
        if (n >= cap)
            fail_msg("tv_hex: more than %zu bytes in \"%s\"", cap, hex);
        out[n++] = (uint8_t)(hi << 4 | d);
        hi = -1;
    }
    if (hi >= 0)
        fail_msg("tv_hex: odd number of hex digits in \"%s\"", hex);
    return n;
}

/* ---- CBOR from diagnostic notation ------------------------------------ */

typedef struct {
    const char *src; /* the whole text, for messages */
    const char *p;
    const tv_raw_t *raw;
    size_t n_raw;
} diag_t;

static void diag_ws(diag_t *s)
{
    for (;;) {
        while (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r')
            s->p++;
        if (*s->p != '/')
            return;
        const char *end = strchr(s->p + 1, '/');
        if (end == NULL)
            fail_msg("tv_diag: unterminated comment in \"%s\"", s->src);
        s->p = end + 1;
    }
}

static void diag_fail(const diag_t *s, const char *what)
{
    fail_msg("tv_diag: %s at offset %zu of \"%s\"", what,
             (size_t)(s->p - s->src), s->src);
}

static size_t diag_items(diag_t *s, char close, dsuit_cbor_enc_t *e,
                         size_t cap);

/* A container's children go to a scratch encoder first, since the head
 * needs their count. */
static void diag_container(diag_t *s, char close, dsuit_cbor_enc_t *e,
                           size_t cap, int kind)
{
    uint8_t *tmp = malloc(cap);
    dsuit_cbor_enc_t t;
    size_t n;
    if (tmp == NULL)
        fail_msg("tv_diag: out of memory");
    dsuit_cbor_enc_init(&t, tmp, cap);
    n = diag_items(s, close, &t, cap);
    if (t.len > cap)
        fail_msg("tv_diag: output larger than %zu bytes", cap);
    if (kind == '[')
        dsuit_cbor_put_array(e, n);
    else if (kind == '{') {
        if (n % 2 != 0)
            diag_fail(s, "map with an odd number of items");
        dsuit_cbor_put_map(e, n / 2);
    } else
        dsuit_cbor_put_bstr_head(e, t.len);
    dsuit_cbor_put_raw(e, tmp, t.len);
    free(tmp);
}

static void diag_item(diag_t *s, dsuit_cbor_enc_t *e, size_t cap)
{
    diag_ws(s);
    const char *p = s->p;
    if (*p == '[' || *p == '{') {
        s->p++;
        diag_container(s, *p == '[' ? ']' : '}', e, cap, *p);
        return;
    }
    if (p[0] == '<' && p[1] == '<') {
        s->p += 2;
        diag_container(s, '>', e, cap, '<');
        return;
    }
    if (p[0] == 'h' && p[1] == '\'') {
        const char *end = strchr(p + 2, '\'');
        if (end == NULL)
            diag_fail(s, "unterminated h''");
        char *hex = strndup(p + 2, (size_t)(end - p - 2));
        uint8_t *bytes = malloc(cap + 1);
        size_t n = tv_hex(hex, bytes, cap);
        dsuit_cbor_put_bstr(e, bytes, n);
        free(hex);
        free(bytes);
        s->p = end + 1;
        return;
    }
    if (*p == '"') {
        char *txt = malloc(strlen(p) + 1);
        size_t n = 0;
        p++;
        while (*p != '"') {
            if (*p == '\0') {
                free(txt);
                diag_fail(s, "unterminated text");
            }
            if (*p == '\\') {
                p++;
                if (*p == 'x') {
                    char h[3] = {p[1], p[2], 0};
                    uint8_t b;
                    tv_hex(h, &b, 1);
                    txt[n++] = (char)b;
                    p += 3;
                    continue;
                }
            }
            txt[n++] = *p++;
        }
        dsuit_cbor_put_tstr(e, txt, n);
        free(txt);
        s->p = p + 1;
        return;
    }
    if (*p == '$') {
        size_t i = (size_t)(p[1] - '0');
        if (p[1] < '0' || p[1] > '9' || i >= s->n_raw)
            diag_fail(s, "bad $n");
        dsuit_cbor_put_raw(e, s->raw[i].ptr, s->raw[i].len);
        s->p += 2;
        return;
    }
    if (strncmp(p, "true", 4) == 0) {
        dsuit_cbor_put_bool(e, 1);
        s->p += 4;
        return;
    }
    if (strncmp(p, "false", 5) == 0) {
        dsuit_cbor_put_bool(e, 0);
        s->p += 5;
        return;
    }
    if (strncmp(p, "null", 4) == 0) {
        dsuit_cbor_put_null(e);
        s->p += 4;
        return;
    }
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
        int neg = *p == '-';
        char *end;
        errno = 0;
        unsigned long long v = strtoull(neg ? p + 1 : p, &end, 10);
        if (errno != 0 || end == (neg ? p + 1 : p))
            diag_fail(s, "bad integer");
        s->p = end;
        diag_ws(s);
        if (!neg && *s->p == '(') { /* tag */
            s->p++;
            dsuit_cbor_put_tag(e, v);
            diag_item(s, e, cap);
            diag_ws(s);
            if (*s->p != ')')
                diag_fail(s, "missing ')'");
            s->p++;
            return;
        }
        if (neg) {
            if (v == 0 || v > (unsigned long long)INT64_MAX + 1)
                diag_fail(s, "negative integer out of range");
            dsuit_cbor_put_int(e, (int64_t)(-(long long)(v - 1)) - 1);
        } else {
            dsuit_cbor_put_uint(e, v);
        }
        return;
    }
    diag_fail(s, "unexpected character");
}

/* Items separated by commas (and the ':' of map pairs) up to close, which
 * is consumed ('\0' for the top level). Returns the item count. */
static size_t diag_items(diag_t *s, char close, dsuit_cbor_enc_t *e, size_t cap)
{
    size_t n = 0;
    diag_ws(s);
    if (close == '>' && s->p[0] == '>' && s->p[1] == '>') {
        s->p += 2;
        return 0;
    }
    if (close != '>' && *s->p == close) {
        if (close != '\0')
            s->p++;
        return 0;
    }
    for (;;) {
        diag_item(s, e, cap);
        n++;
        diag_ws(s);
        if (*s->p == ',' || *s->p == ':') {
            s->p++;
            continue;
        }
        if (close == '>' && s->p[0] == '>' && s->p[1] == '>') {
            s->p += 2;
            return n;
        }
        if (close != '>' && *s->p == close) {
            if (close != '\0')
                s->p++;
            return n;
        }
        diag_fail(s, "expected ',' or the end of a container");
    }
}

size_t tv_diag(const char *diag, const tv_raw_t *raw, size_t n_raw,
               uint8_t *out, size_t cap)
{
    diag_t s = {diag, diag, raw, n_raw};
    dsuit_cbor_enc_t e;
    size_t len;
    dsuit_cbor_enc_init(&e, out, cap);
    diag_items(&s, '\0', &e, cap);
    if (dsuit_cbor_enc_finish(&e, &len) != DSUIT_OK)
        fail_msg("tv_diag: output larger than %zu bytes for \"%s\"", cap, diag);
    return len;
}

/* ---- SUIT envelopes ----------------------------------------------------- */

size_t tv_suit_auth(const uint8_t *manifest, size_t len,
                    const tv_suit_auth_opts_t *o, uint8_t *out, size_t cap)
{
    uint8_t wrapped_head[16], digest[DSUIT_SHA256_LEN];
    uint8_t item[128], block[512], scratch[1024], inner[1024];
    size_t item_len, head_len, block_len = 0, inner_len;
    dsuit_cbor_enc_t e;
    dsuit_sha256_ctx_t h;

    /* SHA-256 over the bstr-wrapped manifest (or, as a defect, without
     * its head). */
    dsuit_cbor_enc_init(&e, wrapped_head, sizeof wrapped_head);
    dsuit_cbor_put_bstr_head(&e, len);
    if (dsuit_cbor_enc_finish(&e, &head_len) != DSUIT_OK)
        fail_msg("tv_suit_auth: head");
    if (dsuit_sha256_init(&h) != DSUIT_OK ||
        (!o->digest_unwrapped &&
         dsuit_sha256_update(&h, wrapped_head, head_len) != DSUIT_OK) ||
        dsuit_sha256_update(&h, manifest, len) != DSUIT_OK ||
        dsuit_sha256_final(&h, digest) != DSUIT_OK)
        fail_msg("tv_suit_auth: sha256");
    if (o->corrupt_digest)
        digest[5] ^= 0x01;

    dsuit_cbor_enc_init(&e, item, sizeof item);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_int(&e, o->digest_alg ? o->digest_alg : -16);
    dsuit_cbor_put_bstr(&e, digest, sizeof digest);
    if (dsuit_cbor_enc_finish(&e, &item_len) != DSUIT_OK)
        fail_msg("tv_suit_auth: digest item");

    if (o->key != NULL) {
        int sym = o->key->type == DSUIT_KEY_SYMMETRIC;
        dsuit_cose_opts_t co = {
            .kind = sym ? DSUIT_COSE_MAC0 : DSUIT_COSE_SIGN1,
            .alg = o->cose_alg ? o->cose_alg
                   : sym       ? DSUIT_COSE_ALG_HMAC256
                               : DSUIT_COSE_ALG_ES256,
            .tagged = 1,
            .detached = 1,
        };
        int rc =
            dsuit_cose_create(&co, o->key, item, item_len, NULL, 0, scratch,
                              sizeof scratch, block, sizeof block, &block_len);
        if (rc != DSUIT_OK)
            fail_msg("tv_suit_auth: dsuit_cose_create: %s", dsuit_err_name(rc));
    }

    dsuit_cbor_enc_init(&e, inner, sizeof inner);
    dsuit_cbor_put_array(&e, o->key != NULL ? 2 : 1);
    dsuit_cbor_put_bstr(&e, item, item_len);
    if (o->key != NULL)
        dsuit_cbor_put_bstr(&e, block, block_len);
    if (dsuit_cbor_enc_finish(&e, &inner_len) != DSUIT_OK)
        fail_msg("tv_suit_auth: wrapper");

    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_bstr(&e, inner, inner_len);
    if (dsuit_cbor_enc_finish(&e, &inner_len) != DSUIT_OK)
        fail_msg("tv_suit_auth: output larger than %zu bytes", cap);
    return inner_len;
}

size_t tv_suit_sign_diag(const char *manifest_diag, const dsuit_key_t *key,
                         uint8_t *out, size_t cap)
{
    uint8_t *man = malloc(cap), *auth = malloc(1024), *wrapped = malloc(cap);
    tv_suit_auth_opts_t o = {.key = key};
    dsuit_cbor_enc_t e;
    size_t man_len, auth_len, wrapped_len;
    if (man == NULL || auth == NULL || wrapped == NULL)
        fail_msg("tv_suit_sign_diag: out of memory");
    man_len = tv_diag(manifest_diag, NULL, 0, man, cap);
    auth_len = tv_suit_auth(man, man_len, &o, auth, 1024);
    dsuit_cbor_enc_init(&e, wrapped, cap);
    dsuit_cbor_put_bstr(&e, man, man_len);
    if (dsuit_cbor_enc_finish(&e, &wrapped_len) != DSUIT_OK)
        fail_msg("tv_suit_sign_diag: manifest larger than %zu bytes", cap);
    tv_raw_t raw[2] = {{auth, auth_len}, {wrapped, wrapped_len}};
    size_t n = tv_diag("107({2: $0, 3: $1})", raw, 2, out, cap);
    free(man);
    free(auth);
    free(wrapped);
    return n;
}

void tv_key_pem(const char *relpath, dsuit_key_t *key)
{
    char pem[8192];
    size_t len;
    tv_read_text(relpath, pem, sizeof pem, &len);
    int rc = dsuit_key_from_pem(pem, len, key);
    if (rc != DSUIT_OK)
        fail_msg("cannot load key '%s': %s", relpath, dsuit_err_name(rc));
}
