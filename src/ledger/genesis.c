/*
 * Genesis: encode, decode and validate the document that founds a chain
 * (docs/formats/ledger.md, "Genesis"). The layout is drawn in that page;
 * keys ascend, so writing them in order is the deterministic encoding, and
 * decoding in strict sorted mode refuses every other encoding, which keeps
 * the chain id hash (SHA-256 of the bytes) a function of the content alone.
 */
#include <stdlib.h>
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/genesis.h"

#define G_NAME       1
#define G_TIME       2
#define G_VALIDATORS 3
#define G_REGISTRARS 4
#define G_THRESHOLD  5
#define G_POLICY     6

#define V_NAME 1
#define V_KEY  2
#define V_HOST 3
#define V_RAFT 4
#define V_HTTP 5
#define V_COAP 6

#define P_QUORUM    1
#define P_CHUNK     2
#define P_REPLICAS  3
#define P_MAX_IMAGE 4
#define P_HEARTBEAT 5

#define MIN_CHUNK 4096u
#define MAX_CHUNK (16u * 1024 * 1024)

int dsuit_genesis_new(dsuit_genesis_t **out)
{
    dsuit_genesis_t *g = calloc(1, sizeof *g);
    if (g == NULL)
        return DSUIT_E_NOMEM;
    g->policy.chunk_size = DSUIT_POLICY_CHUNK_SIZE;
    g->policy.replicas = DSUIT_POLICY_REPLICAS;
    g->policy.max_image_size = DSUIT_POLICY_MAX_IMAGE_SIZE;
    g->policy.heartbeat_ms = DSUIT_POLICY_HEARTBEAT_MS;
    *out = g;
    return DSUIT_OK;
}

void dsuit_genesis_free(dsuit_genesis_t *g)
{
    free(g);
}

/* Copy only the public half of a key: a genesis never holds secrets. */
static int public_copy(const dsuit_key_t *key, dsuit_key_t *out,
                       uint8_t id[DSUIT_SHA256_LEN])
{
    if (key == NULL ||
        (key->type != DSUIT_KEY_P256 && key->type != DSUIT_KEY_ED25519))
        return DSUIT_E_KEY;
    int rc = dsuit_key_set_public(out, key->type, key->pub, key->pub_len);
    if (rc == DSUIT_OK)
        rc = dsuit_cose_key_id(out, id);
    return rc;
}

int dsuit_genesis_add_validator(dsuit_genesis_t *g, const char *name,
                                const dsuit_key_t *key, const char *host,
                                uint16_t raft_port, uint16_t http_port,
                                uint16_t coap_port)
{
    dsuit_validator_t *v;
    if (g->n_validators == DSUIT_GENESIS_MAX_VALIDATORS)
        return DSUIT_E_LIMIT;
    if (name == NULL || host == NULL || name[0] == '\0' || host[0] == '\0' ||
        strlen(name) > DSUIT_GENESIS_NAME_MAX ||
        strlen(host) > DSUIT_GENESIS_HOST_MAX)
        return DSUIT_E_INVAL;
    v = &g->validators[g->n_validators];
    memset(v, 0, sizeof *v);
    int rc = public_copy(key, &v->key, v->key_id);
    if (rc != DSUIT_OK)
        return rc;
    strcpy(v->name, name);
    strcpy(v->host, host);
    v->raft_port = raft_port;
    v->http_port = http_port;
    v->coap_port = coap_port;
    g->n_validators++;
    return DSUIT_OK;
}

int dsuit_genesis_add_registrar(dsuit_genesis_t *g, const dsuit_key_t *key)
{
    if (g->n_registrars == DSUIT_GENESIS_MAX_REGISTRARS)
        return DSUIT_E_LIMIT;
    int rc = public_copy(key, &g->registrars[g->n_registrars],
                         g->registrar_ids[g->n_registrars]);
    if (rc == DSUIT_OK)
        g->n_registrars++;
    return rc;
}

static int fail(const char **out_reason, const char *reason)
{
    if (out_reason != NULL)
        *out_reason = reason;
    return DSUIT_E_INVAL;
}

int dsuit_genesis_validate(dsuit_genesis_t *g, const char **out_reason)
{
    size_t n = g->n_validators;

    if (g->chain_name[0] == '\0')
        return fail(out_reason, "chain name is empty");
    if (n == 0 || n > DSUIT_GENESIS_MAX_VALIDATORS)
        return fail(out_reason, "there must be 1 to 64 validators");
    for (size_t i = 0; i < n; i++) {
        const dsuit_validator_t *v = &g->validators[i];
        if (v->name[0] == '\0' || v->host[0] == '\0')
            return fail(out_reason, "a validator has no name or host");
        if (v->raft_port == 0 || v->http_port == 0 || v->coap_port == 0)
            return fail(out_reason, "a validator port is 0");
        if (v->key.type != DSUIT_KEY_P256 && v->key.type != DSUIT_KEY_ED25519)
            return fail(out_reason, "a validator key is not P-256 or Ed25519");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(v->name, g->validators[j].name) == 0)
                return fail(out_reason, "two validators have the same name");
            if (memcmp(v->key_id, g->validators[j].key_id, DSUIT_SHA256_LEN) ==
                0)
                return fail(out_reason, "two validators have the same key");
        }
    }
    if (g->n_registrars == 0 || g->n_registrars > DSUIT_GENESIS_MAX_REGISTRARS)
        return fail(out_reason, "there must be 1 to 64 registrars");
    for (size_t i = 0; i < g->n_registrars; i++) {
        if (g->registrars[i].type != DSUIT_KEY_P256 &&
            g->registrars[i].type != DSUIT_KEY_ED25519)
            return fail(out_reason, "a registrar key is not P-256 or Ed25519");
        for (size_t j = 0; j < i; j++) {
            if (memcmp(g->registrar_ids[i], g->registrar_ids[j],
                       DSUIT_SHA256_LEN) == 0)
                return fail(out_reason, "two registrars have the same key");
        }
    }
    if (g->threshold == 0 || g->threshold > g->n_registrars)
        return fail(out_reason,
                    "registrar threshold must be 1 to the number of "
                    "registrars");
    if (g->policy.quorum == 0)
        g->policy.quorum = 2 * n / 3 + 1;
    /* A quorum of at most half would let two disjoint sets of validators
     * certify conflicting blocks. */
    if (g->policy.quorum < n / 2 + 1 || g->policy.quorum > n)
        return fail(out_reason, "quorum must be a majority and at most n");
    if (g->policy.replicas == 0 || g->policy.replicas > n)
        return fail(out_reason, "replicas must be 1 to the number of "
                                "validators");
    if (g->policy.chunk_size < MIN_CHUNK || g->policy.chunk_size > MAX_CHUNK)
        return fail(out_reason, "chunk size must be 4096 bytes to 16 MiB");
    if (g->policy.max_image_size == 0 || g->policy.heartbeat_ms == 0)
        return fail(out_reason, "max image size and heartbeat must be set");
    return DSUIT_OK;
}

static void put_key(dsuit_cbor_enc_t *e, const dsuit_key_t *k)
{
    uint8_t buf[DSUIT_COSE_KEY_MAX];
    size_t len = 0;
    /* Validated keys always encode; a failure leaves an empty bstr that
     * decode would refuse. */
    if (dsuit_cose_key_encode(k, buf, sizeof buf, &len) != DSUIT_OK)
        len = 0;
    dsuit_cbor_put_bstr(e, buf, len);
}

int dsuit_genesis_encode(dsuit_genesis_t *g, uint8_t *out, size_t out_cap,
                         size_t *out_len)
{
    dsuit_cbor_enc_t e;
    int rc = dsuit_genesis_validate(g, NULL);
    if (rc != DSUIT_OK)
        return rc;

    dsuit_cbor_enc_init(&e, out, out_cap);
    dsuit_cbor_put_map(&e, 6);
    dsuit_cbor_put_uint(&e, G_NAME);
    dsuit_cbor_put_tstr_z(&e, g->chain_name);
    dsuit_cbor_put_uint(&e, G_TIME);
    dsuit_cbor_put_uint(&e, g->time);
    dsuit_cbor_put_uint(&e, G_VALIDATORS);
    dsuit_cbor_put_array(&e, g->n_validators);
    for (size_t i = 0; i < g->n_validators; i++) {
        const dsuit_validator_t *v = &g->validators[i];
        dsuit_cbor_put_map(&e, 6);
        dsuit_cbor_put_uint(&e, V_NAME);
        dsuit_cbor_put_tstr_z(&e, v->name);
        dsuit_cbor_put_uint(&e, V_KEY);
        put_key(&e, &v->key);
        dsuit_cbor_put_uint(&e, V_HOST);
        dsuit_cbor_put_tstr_z(&e, v->host);
        dsuit_cbor_put_uint(&e, V_RAFT);
        dsuit_cbor_put_uint(&e, v->raft_port);
        dsuit_cbor_put_uint(&e, V_HTTP);
        dsuit_cbor_put_uint(&e, v->http_port);
        dsuit_cbor_put_uint(&e, V_COAP);
        dsuit_cbor_put_uint(&e, v->coap_port);
    }
    dsuit_cbor_put_uint(&e, G_REGISTRARS);
    dsuit_cbor_put_array(&e, g->n_registrars);
    for (size_t i = 0; i < g->n_registrars; i++)
        put_key(&e, &g->registrars[i]);
    dsuit_cbor_put_uint(&e, G_THRESHOLD);
    dsuit_cbor_put_uint(&e, g->threshold);
    dsuit_cbor_put_uint(&e, G_POLICY);
    dsuit_cbor_put_map(&e, 5);
    dsuit_cbor_put_uint(&e, P_QUORUM);
    dsuit_cbor_put_uint(&e, g->policy.quorum);
    dsuit_cbor_put_uint(&e, P_CHUNK);
    dsuit_cbor_put_uint(&e, g->policy.chunk_size);
    dsuit_cbor_put_uint(&e, P_REPLICAS);
    dsuit_cbor_put_uint(&e, g->policy.replicas);
    dsuit_cbor_put_uint(&e, P_MAX_IMAGE);
    dsuit_cbor_put_uint(&e, g->policy.max_image_size);
    dsuit_cbor_put_uint(&e, P_HEARTBEAT);
    dsuit_cbor_put_uint(&e, g->policy.heartbeat_ms);
    rc = dsuit_cbor_enc_finish(&e, out_len);
    if (rc != DSUIT_OK)
        return rc;
    return dsuit_sha256(out, *out_len, g->hash);
}

/* Read a map key and insist it is the one expected next: with every key
 * required, in ascending order, this also refuses unknown and missing
 * keys. */
static int get_text(dsuit_cbor_dec_t *d, char *out, size_t cap)
{
    const char *s;
    size_t n;
    if (dsuit_cbor_get_tstr(d, &s, &n) != DSUIT_OK || n == 0 || n >= cap ||
        !dsuit_cbor_utf8_valid((const uint8_t *)s, n))
        return DSUIT_E_INVAL;
    /* Names and hosts end up in logs and terminals: no control
     * characters, which could forge log lines or move the cursor. */
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return DSUIT_E_INVAL;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return DSUIT_OK;
}

static int get_key(dsuit_cbor_dec_t *d, dsuit_key_t *key, uint8_t id[32])
{
    const uint8_t *p;
    size_t n;
    uint8_t enc[DSUIT_COSE_KEY_MAX];
    size_t enc_len;
    if (dsuit_cbor_get_bstr(d, &p, &n) != DSUIT_OK)
        return DSUIT_E_INVAL;
    int rc = dsuit_cose_key_decode(p, n, key);
    if (rc != DSUIT_OK)
        return DSUIT_E_KEY;
    /* Only the deterministic encoding is accepted, so the key id of what
     * is stored equals the key id computed from the key. */
    rc = dsuit_cose_key_encode(key, enc, sizeof enc, &enc_len);
    if (rc != DSUIT_OK || enc_len != n || memcmp(enc, p, n) != 0)
        return DSUIT_E_KEY;
    return dsuit_sha256(p, n, id);
}

static int get_port(dsuit_cbor_dec_t *d, uint16_t *out)
{
    uint64_t v;
    if (dsuit_cbor_get_uint(d, &v) != DSUIT_OK || v == 0 || v > 65535)
        return DSUIT_E_INVAL;
    *out = (uint16_t)v;
    return DSUIT_OK;
}

static int decode_body(dsuit_cbor_dec_t *d, dsuit_genesis_t *g,
                       const char **why)
{
    size_t n;
    int rc;

    *why = "genesis is not a map of keys 1 to 6";
    if (dsuit_cbor_get_map(d, &n) != DSUIT_OK || n != 6)
        return DSUIT_E_INVAL;
    if (dsuit_cbor_expect_uint(d, G_NAME) ||
        get_text(d, g->chain_name, sizeof g->chain_name))
        return DSUIT_E_INVAL;
    if (dsuit_cbor_expect_uint(d, G_TIME) || dsuit_cbor_get_uint(d, &g->time))
        return DSUIT_E_INVAL;

    *why = "validators are malformed";
    if (dsuit_cbor_expect_uint(d, G_VALIDATORS) || dsuit_cbor_get_array(d, &n))
        return DSUIT_E_INVAL;
    if (n == 0 || n > DSUIT_GENESIS_MAX_VALIDATORS)
        return DSUIT_E_INVAL;
    g->n_validators = n;
    for (size_t i = 0; i < n; i++) {
        dsuit_validator_t *v = &g->validators[i];
        size_t m;
        if (dsuit_cbor_get_map(d, &m) != DSUIT_OK || m != 6)
            return DSUIT_E_INVAL;
        if (dsuit_cbor_expect_uint(d, V_NAME) ||
            get_text(d, v->name, sizeof v->name))
            return DSUIT_E_INVAL;
        if (dsuit_cbor_expect_uint(d, V_KEY))
            return DSUIT_E_INVAL;
        rc = get_key(d, &v->key, v->key_id);
        if (rc != DSUIT_OK) {
            *why = "a validator key is not a P-256 or Ed25519 COSE_Key";
            return rc;
        }
        if (dsuit_cbor_expect_uint(d, V_HOST) ||
            get_text(d, v->host, sizeof v->host) ||
            dsuit_cbor_expect_uint(d, V_RAFT) || get_port(d, &v->raft_port) ||
            dsuit_cbor_expect_uint(d, V_HTTP) || get_port(d, &v->http_port) ||
            dsuit_cbor_expect_uint(d, V_COAP) || get_port(d, &v->coap_port))
            return DSUIT_E_INVAL;
    }

    *why = "registrars are malformed";
    if (dsuit_cbor_expect_uint(d, G_REGISTRARS) || dsuit_cbor_get_array(d, &n))
        return DSUIT_E_INVAL;
    if (n == 0 || n > DSUIT_GENESIS_MAX_REGISTRARS)
        return DSUIT_E_INVAL;
    g->n_registrars = n;
    for (size_t i = 0; i < n; i++) {
        rc = get_key(d, &g->registrars[i], g->registrar_ids[i]);
        if (rc != DSUIT_OK) {
            *why = "a registrar key is not a P-256 or Ed25519 COSE_Key";
            return rc;
        }
    }
    *why = "threshold or policy is malformed";
    if (dsuit_cbor_expect_uint(d, G_THRESHOLD) ||
        dsuit_cbor_get_uint(d, &g->threshold))
        return DSUIT_E_INVAL;
    if (dsuit_cbor_expect_uint(d, G_POLICY) || dsuit_cbor_get_map(d, &n) ||
        n != 5 || dsuit_cbor_expect_uint(d, P_QUORUM) ||
        dsuit_cbor_get_uint(d, &g->policy.quorum) ||
        dsuit_cbor_expect_uint(d, P_CHUNK) ||
        dsuit_cbor_get_uint(d, &g->policy.chunk_size) ||
        dsuit_cbor_expect_uint(d, P_REPLICAS) ||
        dsuit_cbor_get_uint(d, &g->policy.replicas) ||
        dsuit_cbor_expect_uint(d, P_MAX_IMAGE) ||
        dsuit_cbor_get_uint(d, &g->policy.max_image_size) ||
        dsuit_cbor_expect_uint(d, P_HEARTBEAT) ||
        dsuit_cbor_get_uint(d, &g->policy.heartbeat_ms))
        return DSUIT_E_INVAL;
    /* A stored genesis states its quorum; 0 is only a default for
     * builders. */
    if (g->policy.quorum == 0)
        return DSUIT_E_INVAL;
    return DSUIT_OK;
}

int dsuit_genesis_decode(const uint8_t *buf, size_t len, dsuit_genesis_t **out,
                         const char **out_reason)
{
    dsuit_genesis_t *g;
    dsuit_cbor_dec_t d;
    const char *why = "genesis is not deterministic CBOR";
    int rc;

    if (buf == NULL || out == NULL)
        return DSUIT_E_INVAL;
    rc = dsuit_cbor_check(buf, len, DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED, 0);
    if (rc != DSUIT_OK) {
        if (out_reason != NULL)
            *out_reason = why;
        return rc;
    }
    rc = dsuit_genesis_new(&g);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED);
    rc = decode_body(&d, g, &why);
    if (rc == DSUIT_OK)
        rc = dsuit_genesis_validate(g, &why);
    if (rc == DSUIT_OK)
        rc = dsuit_sha256(buf, len, g->hash);
    if (rc != DSUIT_OK) {
        if (out_reason != NULL)
            *out_reason = why;
        dsuit_genesis_free(g);
        return rc;
    }
    *out = g;
    return DSUIT_OK;
}

int dsuit_genesis_validator_index(const dsuit_genesis_t *g,
                                  const uint8_t key_id[DSUIT_SHA256_LEN])
{
    for (size_t i = 0; i < g->n_validators; i++) {
        if (memcmp(g->validators[i].key_id, key_id, DSUIT_SHA256_LEN) == 0)
            return (int)i;
    }
    return -1;
}

int dsuit_genesis_registrar_index(const dsuit_genesis_t *g,
                                  const uint8_t key_id[DSUIT_SHA256_LEN])
{
    for (size_t i = 0; i < g->n_registrars; i++) {
        if (memcmp(g->registrar_ids[i], key_id, DSUIT_SHA256_LEN) == 0)
            return (int)i;
    }
    return -1;
}
