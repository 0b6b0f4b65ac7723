/*
 * Ledger transactions: the wire format of docs/formats/ledger.md
 * ("Transactions"), decoded zero-copy and built into caller buffers.
 *
 *   Tx     = [ body bstr, [* [key-id bstr(32), alg int, sig bstr]] ]
 *   TxBody = { 1: type, 2: chain bstr(32), 3: nonce, 4: payload }
 *
 * Decoding insists on the deterministic encoding (strict heads, sorted
 * unique keys), so the tx id, SHA-256 of the body bytes, names exactly
 * one transaction, and signatures (outside the body) cannot change it.
 * Fixed-size byte strings then have fixed heads, which lets lists of them
 * be returned as a pointer and a stride instead of a copy:
 *   16-byte bstr = 0x50 + 16 bytes (17), 32-byte bstr = 0x58 0x20 + 32 (34).
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/tx.h"

#define CLASS_STRIDE 17
#define MAX_SIG_LEN  132 /* longest signature any accepted algorithm makes */

static const struct {
    int code;
    const char *name, *text;
} txr_table[] = {
#define DSUIT__TXR_ROW(n, code, word, text) {code, word, text},
    DSUIT_TXR_LIST(DSUIT__TXR_ROW)
#undef DSUIT__TXR_ROW
};

const char *dsuit_txr_name(int code)
{
    for (size_t i = 0; i < sizeof txr_table / sizeof txr_table[0]; i++) {
        if (txr_table[i].code == code)
            return txr_table[i].name;
    }
    return "unknown";
}

const char *dsuit_txr_message(int code)
{
    for (size_t i = 0; i < sizeof txr_table / sizeof txr_table[0]; i++) {
        if (txr_table[i].code == code)
            return txr_table[i].text;
    }
    return "unknown result";
}

const uint8_t *dsuit_tx_chunk(const dsuit_tx_image_t *img, size_t i)
{
    return img->chunks + i * DSUIT_TX_CHUNK_STRIDE;
}

const uint8_t *dsuit_tx_author_class(const dsuit_tx_t *tx, size_t i)
{
    return tx->u.author.classes + i * CLASS_STRIDE;
}

/* ---- decoding -------------------------------------------------------- */

/* A byte string of exactly n bytes. */
static int fixed(dsuit_cbor_dec_t *d, size_t n, const uint8_t **out)
{
    size_t len;
    return dsuit_cbor_get_bstr(d, out, &len) == DSUIT_OK && len == n;
}

/* A COSE_Key byte string: non-empty and not larger than any key we use. */
static int cose_key_bytes(dsuit_cbor_dec_t *d, const uint8_t **out,
                          size_t *out_len)
{
    return dsuit_cbor_get_bstr(d, out, out_len) == DSUIT_OK && *out_len > 0 &&
           *out_len <= DSUIT_COSE_KEY_MAX;
}

/* Text of 0..DSUIT_TX_NAME_MAX bytes of valid UTF-8, without NUL. */
static int text(dsuit_cbor_dec_t *d, const char **out, size_t *out_len,
                int allow_empty)
{
    if (dsuit_cbor_get_tstr(d, out, out_len) != DSUIT_OK)
        return 0;
    if ((*out_len == 0 && !allow_empty) || *out_len > DSUIT_TX_NAME_MAX)
        return 0;
    return dsuit_cbor_utf8_valid((const uint8_t *)*out, *out_len) &&
           memchr(*out, 0, *out_len) == NULL;
}

static int decode_author(dsuit_cbor_dec_t *d, dsuit_tx_t *t)
{
    size_t n;
    if (dsuit_cbor_get_map(d, &n) != DSUIT_OK || (n != 3 && n != 4))
        return DSUIT_E_INVAL;
    if (dsuit_cbor_expect_uint(d, 1) ||
        !cose_key_bytes(d, &t->u.author.key, &t->u.author.key_len) ||
        dsuit_cbor_expect_uint(d, 2) ||
        !text(d, &t->u.author.name, &t->u.author.name_len, 0) ||
        dsuit_cbor_expect_uint(d, 3) || !fixed(d, 16, &t->u.author.vendor))
        return DSUIT_E_INVAL;
    t->u.author.n_classes = 0;
    if (n == 4) {
        size_t m;
        if (dsuit_cbor_expect_uint(d, 4) ||
            dsuit_cbor_get_array(d, &m) != DSUIT_OK || m == 0)
            return DSUIT_E_INVAL;
        if (m > DSUIT_TX_MAX_CLASSES)
            return DSUIT_E_LIMIT;
        for (size_t i = 0; i < m; i++) {
            const uint8_t *c;
            if (!fixed(d, 16, &c))
                return DSUIT_E_INVAL;
            if (i == 0)
                t->u.author.classes = c;
        }
        t->u.author.n_classes = m;
    }
    return DSUIT_OK;
}

static int decode_image(dsuit_cbor_dec_t *d, dsuit_tx_image_t *img)
{
    size_t n, m;
    if (dsuit_cbor_get_map(d, &n) != DSUIT_OK || n != 4 ||
        dsuit_cbor_expect_uint(d, 1) || !fixed(d, 32, &img->digest) ||
        dsuit_cbor_expect_uint(d, 2) ||
        dsuit_cbor_get_uint(d, &img->size) != DSUIT_OK ||
        dsuit_cbor_expect_uint(d, 3) ||
        dsuit_cbor_get_uint(d, &img->chunk_size) != DSUIT_OK ||
        dsuit_cbor_expect_uint(d, 4) ||
        dsuit_cbor_get_array(d, &m) != DSUIT_OK || m == 0)
        return DSUIT_E_INVAL;
    for (size_t i = 0; i < m; i++) {
        const uint8_t *c;
        if (!fixed(d, 32, &c))
            return DSUIT_E_INVAL;
        if (i == 0)
            img->chunks = c;
    }
    img->n_chunks = m;
    return DSUIT_OK;
}

static int decode_payload(dsuit_cbor_dec_t *d, dsuit_tx_t *t)
{
    size_t n;
    switch (t->type) {
    case DSUIT_TX_REGISTER_AUTHOR:
        return decode_author(d, t);
    case DSUIT_TX_REVOKE_AUTHOR:
        if (dsuit_cbor_get_map(d, &n) != DSUIT_OK || n != 2 ||
            dsuit_cbor_expect_uint(d, 1) ||
            !fixed(d, 32, &t->u.revoke.key_id) ||
            dsuit_cbor_expect_uint(d, 2) ||
            !text(d, &t->u.revoke.reason, &t->u.revoke.reason_len, 1))
            return DSUIT_E_INVAL;
        return DSUIT_OK;
    case DSUIT_TX_ROTATE_AUTHOR_KEY:
        if (dsuit_cbor_get_map(d, &n) != DSUIT_OK || n != 2 ||
            dsuit_cbor_expect_uint(d, 1) ||
            !fixed(d, 32, &t->u.rotate.old_id) ||
            dsuit_cbor_expect_uint(d, 2) ||
            !cose_key_bytes(d, &t->u.rotate.key, &t->u.rotate.key_len))
            return DSUIT_E_INVAL;
        return DSUIT_OK;
    case DSUIT_TX_PUBLISH: {
        size_t m;
        if (dsuit_cbor_get_map(d, &n) != DSUIT_OK || n != 2 ||
            dsuit_cbor_expect_uint(d, 1) ||
            dsuit_cbor_get_bstr(d, &t->u.publish.envelope,
                                &t->u.publish.envelope_len) != DSUIT_OK ||
            dsuit_cbor_expect_uint(d, 2) ||
            dsuit_cbor_get_array(d, &m) != DSUIT_OK || m == 0)
            return DSUIT_E_INVAL;
        if (m > DSUIT_TX_MAX_IMAGES)
            return DSUIT_E_LIMIT;
        for (size_t i = 0; i < m; i++) {
            int rc = decode_image(d, &t->u.publish.images[i]);
            if (rc != DSUIT_OK)
                return rc;
        }
        t->u.publish.n_images = m;
        return DSUIT_OK;
    }
    case DSUIT_TX_REGISTER_DEVICE:
        if (dsuit_cbor_get_map(d, &n) != DSUIT_OK || n != 4 ||
            dsuit_cbor_expect_uint(d, 1) ||
            !fixed(d, 16, &t->u.device.device_id) ||
            dsuit_cbor_expect_uint(d, 2) ||
            !fixed(d, 16, &t->u.device.vendor) ||
            dsuit_cbor_expect_uint(d, 3) ||
            !fixed(d, 16, &t->u.device.class_id) ||
            dsuit_cbor_expect_uint(d, 4) ||
            !cose_key_bytes(d, &t->u.device.key, &t->u.device.key_len))
            return DSUIT_E_INVAL;
        return DSUIT_OK;
    default:
        /* Unknown types are recorded as such; their payload is only
         * required to be well-formed. */
        return dsuit_cbor_skip(d, NULL, NULL);
    }
}

int dsuit_tx_decode(const uint8_t *buf, size_t len, dsuit_tx_t *out)
{
    const unsigned flags = DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED;
    dsuit_tx_t t;
    dsuit_cbor_dec_t d, b;
    size_t n;
    int rc;

    if (buf == NULL || out == NULL)
        return DSUIT_E_INVAL;
    memset(&t, 0, sizeof t);
    rc = dsuit_cbor_check(buf, len, flags, 0);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_dec_init(&d, buf, len, flags);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK || n != 2 ||
        dsuit_cbor_get_bstr(&d, &t.body, &t.body_len) != DSUIT_OK ||
        dsuit_cbor_get_array(&d, &n) != DSUIT_OK)
        return DSUIT_E_INVAL;
    if (n > DSUIT_TX_MAX_SIGS)
        return DSUIT_E_LIMIT;
    for (size_t i = 0; i < n; i++) {
        dsuit_tx_sig_t *s = &t.sigs[i];
        size_t m;
        if (dsuit_cbor_get_array(&d, &m) != DSUIT_OK || m != 3 ||
            !fixed(&d, 32, &s->key_id) ||
            dsuit_cbor_get_int(&d, &s->alg) != DSUIT_OK ||
            dsuit_cbor_get_bstr(&d, &s->sig, &s->sig_len) != DSUIT_OK ||
            s->sig_len == 0 || s->sig_len > MAX_SIG_LEN)
            return DSUIT_E_INVAL;
    }
    t.n_sigs = n;

    rc = dsuit_cbor_check(t.body, t.body_len, flags, 0);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_dec_init(&b, t.body, t.body_len, flags);
    if (dsuit_cbor_get_map(&b, &n) != DSUIT_OK || n != 4 ||
        dsuit_cbor_expect_uint(&b, 1) ||
        dsuit_cbor_get_uint(&b, &t.type) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&b, 2) || !fixed(&b, 32, &t.chain) ||
        dsuit_cbor_expect_uint(&b, 3) ||
        dsuit_cbor_get_uint(&b, &t.nonce) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&b, 4))
        return DSUIT_E_INVAL;
    rc = decode_payload(&b, &t);
    if (rc != DSUIT_OK)
        return rc;
    if (dsuit_cbor_remaining(&b) != 0)
        return DSUIT_E_INVAL;
    rc = dsuit_sha256(t.body, t.body_len, t.id);
    if (rc != DSUIT_OK)
        return rc;
    *out = t;
    return DSUIT_OK;
}

/* ---- signatures ------------------------------------------------------ */

static void sig_message(const uint8_t id[32], uint8_t out[11 + 32])
{
    memcpy(out, DSUIT_TX_SIG_CONTEXT, 11);
    memcpy(out + 11, id, 32);
}

int dsuit_tx_verify_sig(const dsuit_tx_t *tx, const dsuit_tx_sig_t *sig,
                        const dsuit_key_t *key)
{
    uint8_t msg[11 + 32];
    if (tx == NULL || sig == NULL || key == NULL)
        return DSUIT_E_INVAL;
    if (dsuit_cose_alg_key_type(sig->alg) != key->type ||
        key->type == DSUIT_KEY_SYMMETRIC)
        return DSUIT_E_ALG;
    sig_message(tx->id, msg);
    if (key->type == DSUIT_KEY_P256)
        return dsuit_p256_verify(key, msg, sizeof msg, sig->sig, sig->sig_len);
    return dsuit_ed25519_verify(key, msg, sizeof msg, sig->sig, sig->sig_len);
}

/* A signature to write: key id, alg, bytes. */
typedef struct {
    uint8_t key_id[32];
    int64_t alg;
    const uint8_t *sig;
    size_t sig_len;
} out_sig_t;

static int make_sig(const uint8_t id[32], const dsuit_key_t *key, out_sig_t *o,
                    uint8_t sig[DSUIT_SIG_LEN])
{
    uint8_t msg[11 + 32];
    int rc;
    if (key == NULL || !key->has_private ||
        (key->type != DSUIT_KEY_P256 && key->type != DSUIT_KEY_ED25519))
        return DSUIT_E_KEY;
    rc = dsuit_cose_key_id(key, o->key_id);
    if (rc != DSUIT_OK)
        return rc;
    sig_message(id, msg);
    if (key->type == DSUIT_KEY_P256) {
        o->alg = DSUIT_COSE_ALG_ES256;
        rc = dsuit_p256_sign(key, msg, sizeof msg, sig);
    } else {
        o->alg = DSUIT_COSE_ALG_EDDSA;
        rc = dsuit_ed25519_sign(key, msg, sizeof msg, sig);
    }
    o->sig = sig;
    o->sig_len = DSUIT_SIG_LEN;
    return rc;
}

/* Sort by key id (insertion sort: at most DSUIT_TX_MAX_SIGS entries) and
 * refuse repeats. */
static int sort_sigs(out_sig_t *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        out_sig_t cur = s[i];
        size_t j = i;
        while (j > 0 && memcmp(s[j - 1].key_id, cur.key_id, 32) > 0) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = cur;
    }
    for (size_t i = 1; i < n; i++) {
        if (memcmp(s[i - 1].key_id, s[i].key_id, 32) == 0)
            return DSUIT_E_EXISTS;
    }
    return DSUIT_OK;
}

static int emit(const uint8_t *body, size_t body_len, const out_sig_t *s,
                size_t n, uint8_t *out, size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, out, out_cap);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_bstr(&e, body, body_len);
    dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++) {
        dsuit_cbor_put_array(&e, 3);
        dsuit_cbor_put_bstr(&e, s[i].key_id, 32);
        dsuit_cbor_put_int(&e, s[i].alg);
        dsuit_cbor_put_bstr(&e, s[i].sig, s[i].sig_len);
    }
    return dsuit_cbor_enc_finish(&e, out_len);
}

int dsuit_tx_assemble(const uint8_t *body, size_t body_len,
                      const dsuit_key_t *signers, size_t n_signers,
                      uint8_t *out, size_t out_cap, size_t *out_len)
{
    out_sig_t s[DSUIT_TX_MAX_SIGS];
    uint8_t sigs[DSUIT_TX_MAX_SIGS][DSUIT_SIG_LEN];
    uint8_t id[32];
    int rc;

    if (body == NULL || out_len == NULL || (signers == NULL && n_signers))
        return DSUIT_E_INVAL;
    if (n_signers > DSUIT_TX_MAX_SIGS)
        return DSUIT_E_INVAL;
    rc = dsuit_sha256(body, body_len, id);
    if (rc != DSUIT_OK)
        return rc;
    for (size_t i = 0; i < n_signers; i++) {
        rc = make_sig(id, &signers[i], &s[i], sigs[i]);
        if (rc != DSUIT_OK)
            return rc;
    }
    rc = sort_sigs(s, n_signers);
    if (rc != DSUIT_OK)
        return DSUIT_E_INVAL;
    return emit(body, body_len, s, n_signers, out, out_cap, out_len);
}

int dsuit_tx_add_signature(const uint8_t *tx, size_t tx_len,
                           const dsuit_key_t *signer, uint8_t *out,
                           size_t out_cap, size_t *out_len)
{
    dsuit_tx_t t;
    out_sig_t s[DSUIT_TX_MAX_SIGS];
    uint8_t sig[DSUIT_SIG_LEN];
    int rc = dsuit_tx_decode(tx, tx_len, &t);
    if (rc != DSUIT_OK)
        return rc;
    if (t.n_sigs == DSUIT_TX_MAX_SIGS)
        return DSUIT_E_LIMIT;
    for (size_t i = 0; i < t.n_sigs; i++) {
        memcpy(s[i].key_id, t.sigs[i].key_id, 32);
        s[i].alg = t.sigs[i].alg;
        s[i].sig = t.sigs[i].sig;
        s[i].sig_len = t.sigs[i].sig_len;
    }
    rc = make_sig(t.id, signer, &s[t.n_sigs], sig);
    if (rc != DSUIT_OK)
        return rc;
    rc = sort_sigs(s, t.n_sigs + 1);
    if (rc != DSUIT_OK)
        return rc;
    return emit(t.body, t.body_len, s, t.n_sigs + 1, out, out_cap, out_len);
}

/* ---- bodies ---------------------------------------------------------- */

static void body_head(dsuit_cbor_enc_t *e, uint64_t type,
                      const uint8_t chain[32], uint64_t nonce)
{
    dsuit_cbor_put_map(e, 4);
    dsuit_cbor_put_uint(e, 1);
    dsuit_cbor_put_uint(e, type);
    dsuit_cbor_put_uint(e, 2);
    dsuit_cbor_put_bstr(e, chain, 32);
    dsuit_cbor_put_uint(e, 3);
    dsuit_cbor_put_uint(e, nonce);
    dsuit_cbor_put_uint(e, 4);
}

static int put_key(dsuit_cbor_enc_t *e, const dsuit_key_t *key)
{
    uint8_t k[DSUIT_COSE_KEY_MAX];
    size_t n;
    int rc = dsuit_cose_key_encode(key, k, sizeof k, &n);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_put_bstr(e, k, n);
    return DSUIT_OK;
}

static int text_ok(const char *s, int allow_empty)
{
    size_t n;
    if (s == NULL)
        return 0;
    n = strlen(s);
    return (n > 0 || allow_empty) && n <= DSUIT_TX_NAME_MAX &&
           dsuit_cbor_utf8_valid((const uint8_t *)s, n);
}

int dsuit_tx_body_register_author(const uint8_t chain[32], uint64_t nonce,
                                  const dsuit_key_t *author, const char *name,
                                  const uint8_t vendor[16],
                                  const uint8_t (*classes)[16],
                                  size_t n_classes, uint8_t *out,
                                  size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    int rc;
    if (!text_ok(name, 0) || vendor == NULL ||
        n_classes > DSUIT_TX_MAX_CLASSES || (n_classes && classes == NULL))
        return DSUIT_E_INVAL;
    dsuit_cbor_enc_init(&e, out, out_cap);
    body_head(&e, DSUIT_TX_REGISTER_AUTHOR, chain, nonce);
    dsuit_cbor_put_map(&e, n_classes ? 4 : 3);
    dsuit_cbor_put_uint(&e, 1);
    rc = put_key(&e, author);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_tstr_z(&e, name);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_bstr(&e, vendor, 16);
    if (n_classes) {
        dsuit_cbor_put_uint(&e, 4);
        dsuit_cbor_put_array(&e, n_classes);
        for (size_t i = 0; i < n_classes; i++)
            dsuit_cbor_put_bstr(&e, classes[i], 16);
    }
    return dsuit_cbor_enc_finish(&e, out_len);
}

int dsuit_tx_body_revoke_author(const uint8_t chain[32], uint64_t nonce,
                                const uint8_t key_id[32], const char *reason,
                                uint8_t *out, size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    if (key_id == NULL || !text_ok(reason, 1))
        return DSUIT_E_INVAL;
    dsuit_cbor_enc_init(&e, out, out_cap);
    body_head(&e, DSUIT_TX_REVOKE_AUTHOR, chain, nonce);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, key_id, 32);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_tstr_z(&e, reason);
    return dsuit_cbor_enc_finish(&e, out_len);
}

int dsuit_tx_body_rotate_author_key(const uint8_t chain[32], uint64_t nonce,
                                    const uint8_t old_id[32],
                                    const dsuit_key_t *new_key, uint8_t *out,
                                    size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    int rc;
    if (old_id == NULL)
        return DSUIT_E_INVAL;
    dsuit_cbor_enc_init(&e, out, out_cap);
    body_head(&e, DSUIT_TX_ROTATE_AUTHOR_KEY, chain, nonce);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, old_id, 32);
    dsuit_cbor_put_uint(&e, 2);
    rc = put_key(&e, new_key);
    if (rc != DSUIT_OK)
        return rc;
    return dsuit_cbor_enc_finish(&e, out_len);
}

int dsuit_tx_body_publish(const uint8_t chain[32], uint64_t nonce,
                          const uint8_t *envelope, size_t envelope_len,
                          const dsuit_tx_image_in_t *images, size_t n_images,
                          uint8_t *out, size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    if (envelope == NULL || images == NULL || n_images == 0 ||
        n_images > DSUIT_TX_MAX_IMAGES)
        return DSUIT_E_INVAL;
    dsuit_cbor_enc_init(&e, out, out_cap);
    body_head(&e, DSUIT_TX_PUBLISH, chain, nonce);
    dsuit_cbor_put_map(&e, 2);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, envelope, envelope_len);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_array(&e, n_images);
    for (size_t i = 0; i < n_images; i++) {
        const dsuit_tx_image_in_t *im = &images[i];
        if (im->digest == NULL || im->n_chunks == 0 || im->chunks == NULL)
            return DSUIT_E_INVAL;
        dsuit_cbor_put_map(&e, 4);
        dsuit_cbor_put_uint(&e, 1);
        dsuit_cbor_put_bstr(&e, im->digest, 32);
        dsuit_cbor_put_uint(&e, 2);
        dsuit_cbor_put_uint(&e, im->size);
        dsuit_cbor_put_uint(&e, 3);
        dsuit_cbor_put_uint(&e, im->chunk_size);
        dsuit_cbor_put_uint(&e, 4);
        dsuit_cbor_put_array(&e, im->n_chunks);
        for (size_t c = 0; c < im->n_chunks; c++)
            dsuit_cbor_put_bstr(&e, im->chunks[c], 32);
    }
    return dsuit_cbor_enc_finish(&e, out_len);
}

int dsuit_tx_body_register_device(const uint8_t chain[32], uint64_t nonce,
                                  const uint8_t device_id[16],
                                  const uint8_t vendor[16],
                                  const uint8_t class_id[16],
                                  const dsuit_key_t *device_key, uint8_t *out,
                                  size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    int rc;
    if (device_id == NULL || vendor == NULL || class_id == NULL)
        return DSUIT_E_INVAL;
    dsuit_cbor_enc_init(&e, out, out_cap);
    body_head(&e, DSUIT_TX_REGISTER_DEVICE, chain, nonce);
    dsuit_cbor_put_map(&e, 4);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, device_id, 16);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_bstr(&e, vendor, 16);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_bstr(&e, class_id, 16);
    dsuit_cbor_put_uint(&e, 4);
    rc = put_key(&e, device_key);
    if (rc != DSUIT_OK)
        return rc;
    return dsuit_cbor_enc_finish(&e, out_len);
}
