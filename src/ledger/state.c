/*
 * Transaction validation and application: the one rule set every node runs
 * on every transaction, (state, tx) -> result code + state writes
 * (docs/formats/ledger.md, "Transactions", "Result codes").
 *
 * Each rule that can fail has its own result code. Every check runs before
 * the first write, so a rejected transaction changes nothing but its own
 * entry in the TXS table (which records every transaction's fate, so that
 * clients can ask about it). Only a transaction applied with result ok
 * counts for duplicate detection: a publish refused because its author was
 * not registered yet can succeed once the author is.
 *
 * State tables and their records (deterministic CBOR):
 *   AUTHORS   key id -> {1: key, 2: name, 3: vendor, 4: [classes],
 *                        5: status, 6: height}
 *   DEVICES   device id -> {1: vendor, 2: class, 3: key, 4: height}
 *   LATEST    vendor|class|SHA-256(components) -> [seq, manifest digest]
 *   VC        vendor|class -> [seq, manifest digest]
 *   MANIFESTS manifest digest -> {1: envelope, 2: height, 3: leaf index,
 *                        4: vendor, 5: class, 6: seq, 7: author, 8: images}
 *   MLOG      leaf index -> Leaf [digest, height, vendor, class, seq]
 *   TXS       tx id -> [height, index, result]
 */
#include <stdlib.h>
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/proof.h"
#include "dsuit/suit.h"
#include "dsuit/tx.h"
#include "ledger_int.h"

#define CLASS_STRIDE 17
#define RECORD_MAX   256 /* authors and devices; manifests are sized */

int dsuit__state_put(dsuit__apply_t *a, dsuit_table_t table, const void *key,
                     size_t key_len, const void *val, size_t val_len)
{
    uint8_t head[32];
    size_t n;
    dsuit_cbor_enc_t e;
    int rc = dsuit_store_put(a->txn, table, key, key_len, val, val_len);
    if (rc != DSUIT_OK)
        return rc;
    /* changes(h) hashes [table, key, value] for each write, in order. */
    dsuit_cbor_enc_init(&e, head, sizeof head);
    dsuit_cbor_put_array(&e, 3);
    dsuit_cbor_put_uint(&e, (uint64_t)table);
    dsuit_cbor_put_bstr_head(&e, key_len);
    dsuit_cbor_enc_finish(&e, &n);
    dsuit_sha256_update(&a->changes, head, n);
    dsuit_sha256_update(&a->changes, key, key_len);
    dsuit_cbor_enc_init(&e, head, sizeof head);
    dsuit_cbor_put_bstr_head(&e, val_len);
    dsuit_cbor_enc_finish(&e, &n);
    dsuit_sha256_update(&a->changes, head, n);
    return dsuit_sha256_update(&a->changes, val, val_len);
}

/* ---- records --------------------------------------------------------- */

static int fixed(dsuit_cbor_dec_t *d, size_t n, const uint8_t **out)
{
    size_t len;
    return dsuit_cbor_get_bstr(d, out, &len) == DSUIT_OK && len == n;
}

int dsuit_author_decode(const uint8_t *buf, size_t len, dsuit_author_t *out)
{
    dsuit_author_t a;
    dsuit_cbor_dec_t d;
    size_t n;
    memset(&a, 0, sizeof a);
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_map(&d, &n) != DSUIT_OK || n != 6 ||
        dsuit_cbor_expect_uint(&d, 1) ||
        dsuit_cbor_get_bstr(&d, &a.key, &a.key_len) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 2) ||
        dsuit_cbor_get_tstr(&d, &a.name, &a.name_len) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 3) || !fixed(&d, 16, &a.vendor) ||
        dsuit_cbor_expect_uint(&d, 4) ||
        dsuit_cbor_get_array(&d, &a.n_classes) != DSUIT_OK)
        return DSUIT_E_INVAL;
    for (size_t i = 0; i < a.n_classes; i++) {
        const uint8_t *c;
        if (!fixed(&d, 16, &c))
            return DSUIT_E_INVAL;
        if (i == 0)
            a.classes = c;
    }
    if (dsuit_cbor_expect_uint(&d, 5) ||
        dsuit_cbor_get_uint(&d, &a.status) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 6) ||
        dsuit_cbor_get_uint(&d, &a.height) != DSUIT_OK ||
        dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_INVAL;
    *out = a;
    return DSUIT_OK;
}

static int author_encode(const uint8_t *key, size_t key_len, const char *name,
                         size_t name_len, const uint8_t *vendor,
                         const uint8_t *classes, size_t n_classes,
                         uint64_t status, uint64_t height, uint8_t *out,
                         size_t cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_map(&e, 6);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, key, key_len);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_tstr(&e, name, name_len);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_bstr(&e, vendor, 16);
    dsuit_cbor_put_uint(&e, 4);
    dsuit_cbor_put_array(&e, n_classes);
    for (size_t i = 0; i < n_classes; i++)
        dsuit_cbor_put_bstr(&e, classes + i * CLASS_STRIDE, 16);
    dsuit_cbor_put_uint(&e, 5);
    dsuit_cbor_put_uint(&e, status);
    dsuit_cbor_put_uint(&e, 6);
    dsuit_cbor_put_uint(&e, height);
    return dsuit_cbor_enc_finish(&e, out_len);
}

int dsuit_manifest_rec_decode(const uint8_t *buf, size_t len,
                              dsuit_manifest_rec_t *out)
{
    dsuit_manifest_rec_t m;
    dsuit_cbor_dec_t d;
    size_t n;
    memset(&m, 0, sizeof m);
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_map(&d, &n) != DSUIT_OK || n != 8 ||
        dsuit_cbor_expect_uint(&d, 1) ||
        dsuit_cbor_get_bstr(&d, &m.envelope, &m.envelope_len) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 2) ||
        dsuit_cbor_get_uint(&d, &m.height) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 3) ||
        dsuit_cbor_get_uint(&d, &m.leaf_index) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 4) || !fixed(&d, 16, &m.vendor) ||
        dsuit_cbor_expect_uint(&d, 5) || !fixed(&d, 16, &m.class_id) ||
        dsuit_cbor_expect_uint(&d, 6) ||
        dsuit_cbor_get_uint(&d, &m.seq) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 7) || !fixed(&d, 32, &m.author) ||
        dsuit_cbor_expect_uint(&d, 8) ||
        dsuit_cbor_skip(&d, &m.images, &m.images_len) != DSUIT_OK ||
        dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_INVAL;
    *out = m;
    return DSUIT_OK;
}

int dsuit_device_rec_decode(const uint8_t *buf, size_t len,
                            dsuit_device_rec_t *out)
{
    dsuit_device_rec_t r;
    dsuit_cbor_dec_t d;
    size_t n;
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_map(&d, &n) != DSUIT_OK || n != 4 ||
        dsuit_cbor_expect_uint(&d, 1) || !fixed(&d, 16, &r.vendor) ||
        dsuit_cbor_expect_uint(&d, 2) || !fixed(&d, 16, &r.class_id) ||
        dsuit_cbor_expect_uint(&d, 3) ||
        dsuit_cbor_get_bstr(&d, &r.key, &r.key_len) != DSUIT_OK ||
        dsuit_cbor_expect_uint(&d, 4) ||
        dsuit_cbor_get_uint(&d, &r.height) != DSUIT_OK ||
        dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_INVAL;
    *out = r;
    return DSUIT_OK;
}

/* [a, b] of two uints, or [uint, bstr(32)]. */
static int pair_encode(uint64_t a, const uint8_t *digest, uint8_t out[48],
                       size_t *out_len)
{
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, out, 48);
    dsuit_cbor_put_array(&e, 2);
    dsuit_cbor_put_uint(&e, a);
    dsuit_cbor_put_bstr(&e, digest, 32);
    return dsuit_cbor_enc_finish(&e, out_len);
}

static int pair_seq(const uint8_t *buf, size_t len, uint64_t *seq)
{
    dsuit_cbor_dec_t d;
    size_t n;
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK || n != 2 ||
        dsuit_cbor_get_uint(&d, seq) != DSUIT_OK)
        return DSUIT_E_INVAL;
    return DSUIT_OK;
}

/* ---- keys and signatures --------------------------------------------- */

/* A COSE_Key field of a transaction: must decode, and be in the one
 * deterministic encoding, so its key id is the hash of these bytes. */
static int key_from_bytes(const uint8_t *p, size_t n, dsuit_key_t *key,
                          uint8_t id[32])
{
    uint8_t enc[DSUIT_COSE_KEY_MAX];
    size_t len;
    if (dsuit_cose_key_decode(p, n, key) != DSUIT_OK)
        return DSUIT_E_KEY;
    if (dsuit_cose_key_encode(key, enc, sizeof enc, &len) != DSUIT_OK ||
        len != n || memcmp(enc, p, n) != 0)
        return DSUIT_E_KEY;
    return dsuit_sha256(p, n, id);
}

/* Look up an author by key id. Returns DSUIT_E_NOTFOUND if absent. */
static int author_get(dsuit__apply_t *a, const uint8_t id[32],
                      dsuit_author_t *out, dsuit_key_t *key)
{
    const uint8_t *v;
    size_t n;
    uint8_t kid[32];
    int rc = dsuit_store_get(a->txn, DSUIT_TBL_AUTHORS, id, 32, &v, &n);
    if (rc != DSUIT_OK)
        return rc;
    if (dsuit_author_decode(v, n, out) != DSUIT_OK)
        return DSUIT_E_STORE; /* our own record: corrupt storage */
    if (key != NULL &&
        key_from_bytes(out->key, out->key_len, key, kid) != DSUIT_OK)
        return DSUIT_E_STORE;
    return DSUIT_OK;
}

/* Who signed, after every listed signature verified. Authors' records
 * borrow from the store transaction. */
typedef struct {
    size_t registrars; /* distinct registrars whose signature verified */
    size_t n_authors;  /* registered authors whose signature verified */
    const uint8_t *author_id[DSUIT_TX_MAX_SIGS];
    dsuit_author_t author[DSUIT_TX_MAX_SIGS];
} signers_t;

/*
 * Verify every listed signature: each must be by a known key (a genesis
 * registrar or a registered author) and verify; the list must ascend by key
 * id with no repeats. Returns a result code, or a negative storage error.
 */
static int check_signatures(dsuit__apply_t *a, const dsuit_tx_t *t,
                            signers_t *s)
{
    const dsuit_genesis_t *g = a->l->genesis;
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < t->n_sigs; i++) {
        const dsuit_tx_sig_t *sig = &t->sigs[i];
        dsuit_key_t key;
        int idx;
        if (i > 0 && memcmp(t->sigs[i - 1].key_id, sig->key_id, 32) >= 0)
            return DSUIT_TXR_BAD_SIGNATURE;
        idx = dsuit_genesis_registrar_index(g, sig->key_id);
        if (idx >= 0) {
            if (dsuit_tx_verify_sig(t, sig, &g->registrars[idx]) != DSUIT_OK)
                return DSUIT_TXR_BAD_SIGNATURE;
            s->registrars++;
            continue;
        }
        dsuit_author_t au;
        int rc = author_get(a, sig->key_id, &au, &key);
        if (rc == DSUIT_E_NOTFOUND)
            return DSUIT_TXR_BAD_SIGNATURE; /* a signer nobody knows */
        if (rc != DSUIT_OK)
            return rc;
        if (dsuit_tx_verify_sig(t, sig, &key) != DSUIT_OK)
            return DSUIT_TXR_BAD_SIGNATURE;
        s->author_id[s->n_authors] = sig->key_id;
        s->author[s->n_authors] = au;
        s->n_authors++;
    }
    return DSUIT_TXR_OK;
}

/* Is class in the author's scope (no classes listed = every class)? */
static int class_in_scope(const dsuit_author_t *au, const uint8_t *class_id)
{
    if (au->n_classes == 0)
        return 1;
    for (size_t i = 0; i < au->n_classes; i++) {
        if (memcmp(au->classes + i * CLASS_STRIDE, class_id, 16) == 0)
            return 1;
    }
    return 0;
}

/* ---- the rules, one function per type --------------------------------- */

static int apply_register_author(dsuit__apply_t *a, const dsuit_tx_t *t,
                                 const signers_t *s)
{
    dsuit_key_t key;
    uint8_t id[32], rec[RECORD_MAX + DSUIT_TX_MAX_CLASSES * 17];
    size_t n;
    const uint8_t *v;
    size_t vn;
    int rc;

    if (s->registrars < a->l->genesis->threshold)
        return DSUIT_TXR_BELOW_THRESHOLD;
    if (key_from_bytes(t->u.author.key, t->u.author.key_len, &key, id) !=
            DSUIT_OK ||
        (key.type != DSUIT_KEY_P256 && key.type != DSUIT_KEY_ED25519))
        return DSUIT_TXR_BAD_ENCODING;
    rc = dsuit_store_get(a->txn, DSUIT_TBL_AUTHORS, id, 32, &v, &vn);
    if (rc == DSUIT_OK)
        return DSUIT_TXR_DUPLICATE;
    if (rc != DSUIT_E_NOTFOUND)
        return rc;
    rc = author_encode(t->u.author.key, t->u.author.key_len, t->u.author.name,
                       t->u.author.name_len, t->u.author.vendor,
                       t->u.author.classes, t->u.author.n_classes,
                       DSUIT_AUTHOR_ACTIVE, a->height, rec, sizeof rec, &n);
    if (rc != DSUIT_OK)
        return rc;
    rc = dsuit__state_put(a, DSUIT_TBL_AUTHORS, id, 32, rec, n);
    return rc == DSUIT_OK ? DSUIT_TXR_OK : rc;
}

/* Rewrite an author record with a new status. */
static int set_status(dsuit__apply_t *a, const uint8_t id[32],
                      const dsuit_author_t *au, uint64_t status)
{
    uint8_t rec[RECORD_MAX + DSUIT_TX_MAX_CLASSES * 17];
    size_t n;
    int rc = author_encode(au->key, au->key_len, au->name, au->name_len,
                           au->vendor, au->classes, au->n_classes, status,
                           au->height, rec, sizeof rec, &n);
    if (rc == DSUIT_OK)
        rc = dsuit__state_put(a, DSUIT_TBL_AUTHORS, id, 32, rec, n);
    return rc;
}

static int apply_revoke_author(dsuit__apply_t *a, const dsuit_tx_t *t,
                               const signers_t *s)
{
    dsuit_author_t au;
    int rc;
    if (s->registrars < a->l->genesis->threshold)
        return DSUIT_TXR_BELOW_THRESHOLD;
    rc = author_get(a, t->u.revoke.key_id, &au, NULL);
    if (rc == DSUIT_E_NOTFOUND)
        return DSUIT_TXR_UNKNOWN_AUTHOR;
    if (rc != DSUIT_OK)
        return rc;
    if (au.status == DSUIT_AUTHOR_REVOKED)
        return DSUIT_TXR_DUPLICATE;
    rc = set_status(a, t->u.revoke.key_id, &au, DSUIT_AUTHOR_REVOKED);
    return rc == DSUIT_OK ? DSUIT_TXR_OK : rc;
}

static int apply_rotate(dsuit__apply_t *a, const dsuit_tx_t *t,
                        const signers_t *s)
{
    dsuit_author_t au;
    dsuit_key_t key;
    uint8_t id[32], rec[RECORD_MAX + DSUIT_TX_MAX_CLASSES * 17];
    const uint8_t *v;
    size_t n, vn;
    int rc;

    rc = author_get(a, t->u.rotate.old_id, &au, NULL);
    if (rc == DSUIT_E_NOTFOUND)
        return DSUIT_TXR_UNKNOWN_AUTHOR;
    if (rc != DSUIT_OK)
        return rc;
    if (au.status != DSUIT_AUTHOR_ACTIVE)
        return DSUIT_TXR_REVOKED_AUTHOR;
    /* Only the old key itself may hand over (a stolen key is revoked by the
     * registrars instead); other valid co-signatures do no harm. */
    {
        int signed_by_old = 0;
        for (size_t i = 0; i < s->n_authors; i++)
            signed_by_old |=
                memcmp(s->author_id[i], t->u.rotate.old_id, 32) == 0;
        if (!signed_by_old)
            return DSUIT_TXR_BAD_SIGNATURE;
    }
    if (key_from_bytes(t->u.rotate.key, t->u.rotate.key_len, &key, id) !=
            DSUIT_OK ||
        (key.type != DSUIT_KEY_P256 && key.type != DSUIT_KEY_ED25519))
        return DSUIT_TXR_BAD_ENCODING;
    rc = dsuit_store_get(a->txn, DSUIT_TBL_AUTHORS, id, 32, &v, &vn);
    if (rc == DSUIT_OK)
        return DSUIT_TXR_DUPLICATE;
    if (rc != DSUIT_E_NOTFOUND)
        return rc;
    rc = author_encode(t->u.rotate.key, t->u.rotate.key_len, au.name,
                       au.name_len, au.vendor, au.classes, au.n_classes,
                       DSUIT_AUTHOR_ACTIVE, a->height, rec, sizeof rec, &n);
    if (rc == DSUIT_OK)
        rc = set_status(a, t->u.rotate.old_id, &au, DSUIT_AUTHOR_ROTATED);
    if (rc == DSUIT_OK)
        rc = dsuit__state_put(a, DSUIT_TBL_AUTHORS, id, 32, rec, n);
    return rc == DSUIT_OK ? DSUIT_TXR_OK : rc;
}

/* Find the registered author whose key authenticates the envelope. */
typedef struct {
    dsuit__apply_t *a;
    dsuit_suit_envelope_t *env;
    int found; /* 1 active, 2 inactive (revoked or rotated) */
    uint8_t id[32];
    int err;
} find_author_t;

static int try_author(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                      size_t vl)
{
    find_author_t *f = arg;
    dsuit_author_t au;
    dsuit_key_t key;
    uint8_t kid[32], scratch[DSUIT_SUIT_AUTH_SCRATCH];
    if (kl != 32 || dsuit_author_decode(v, vl, &au) != DSUIT_OK ||
        key_from_bytes(au.key, au.key_len, &key, kid) != DSUIT_OK) {
        f->err = DSUIT_E_STORE;
        return 1;
    }
    if (dsuit_suit_authenticate(f->env, &key, 1, scratch, sizeof scratch,
                                NULL) != DSUIT_OK)
        return 0;
    memcpy(f->id, k, 32);
    f->found = au.status == DSUIT_AUTHOR_ACTIVE ? 1 : 2;
    return f->found == 1; /* an active author ends the search */
}

/* Leaf of the manifest log. */
static int leaf_encode(const uint8_t digest[32], uint64_t height,
                       const uint8_t *vendor, const uint8_t *class_id,
                       uint64_t seq, uint8_t out[128], size_t *out_len)
{
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, out, 128);
    dsuit_cbor_put_array(&e, 5);
    dsuit_cbor_put_bstr(&e, digest, 32);
    dsuit_cbor_put_uint(&e, height);
    dsuit_cbor_put_bstr(&e, vendor, 16);
    dsuit_cbor_put_bstr(&e, class_id, 16);
    dsuit_cbor_put_uint(&e, seq);
    return dsuit_cbor_enc_finish(&e, out_len);
}

static const uint8_t *param_digest(const dsuit_suit_params_t *p)
{
    int64_t alg;
    dsuit_bytes_t b;
    if (!(p->set & (1u << DSUIT_SUIT_PARAM_IMAGE_DIGEST)) ||
        dsuit_suit_digest_decode(p->image_digest.ptr, p->image_digest.len, &alg,
                                 &b) != DSUIT_OK ||
        alg != DSUIT_SUIT_DIGEST_SHA256 || b.len != 32)
        return NULL;
    return b.ptr;
}

static int images_match(const dsuit_tx_t *t, const dsuit_genesis_t *g,
                        const dsuit_suit_envelope_t *env,
                        const dsuit_suit_params_t *p)
{
    for (size_t i = 0; i < t->u.publish.n_images; i++) {
        const dsuit_tx_image_t *im = &t->u.publish.images[i];
        int claimed = 0;
        if (im->size > g->policy.max_image_size)
            return DSUIT_TXR_IMAGE_TOO_LARGE;
        if (im->size == 0 || im->chunk_size != g->policy.chunk_size ||
            im->n_chunks != (im->size + im->chunk_size - 1) / im->chunk_size)
            return DSUIT_TXR_CHUNKS_INCONSISTENT;
        /* The image must be one the manifest describes, with its size. */
        for (size_t c = 0; c < env->n_components; c++) {
            const uint8_t *d = param_digest(&p[c]);
            if (d != NULL && memcmp(d, im->digest, 32) == 0 &&
                (p[c].set & (1u << DSUIT_SUIT_PARAM_IMAGE_SIZE)) &&
                p[c].image_size == im->size)
                claimed = 1;
        }
        if (!claimed)
            return DSUIT_TXR_CHUNKS_INCONSISTENT;
        for (size_t j = 0; j < i; j++) {
            if (memcmp(t->u.publish.images[j].digest, im->digest, 32) == 0)
                return DSUIT_TXR_CHUNKS_INCONSISTENT;
        }
    }
    return DSUIT_TXR_OK;
}

static int images_encode(const dsuit_tx_t *t, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, out, cap);
    dsuit_cbor_put_array(&e, t->u.publish.n_images);
    for (size_t i = 0; i < t->u.publish.n_images; i++) {
        const dsuit_tx_image_t *im = &t->u.publish.images[i];
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
            dsuit_cbor_put_bstr(&e, dsuit_tx_chunk(im, c), 32);
    }
    return dsuit_cbor_enc_finish(&e, out_len);
}

/* What checking a publish's envelope established, for the write phase
 * and for registration nodes that check before taking an upload. */
typedef struct {
    dsuit_suit_envelope_t env;
    dsuit_suit_params_t p[DSUIT_MAX_COMPONENTS];
    dsuit_author_t au;
    uint8_t author_id[32];
    uint8_t digest[32];
    uint8_t latest_key[64];
} publish_ctx_t;

/* Find the registered author whose key authenticates the envelope: the
 * kid fast path first, then every author. Result code or storage error:
 * no registered key authenticates it is unknown-author, unless a kid named
 * a registered author (then the signature is what failed: bad-signature). */
static int find_publisher(dsuit__apply_t *a, publish_ctx_t *pc)
{
    find_author_t f;
    int rc, kid_registered = 0;

    memset(&f, 0, sizeof f);
    f.a = a;
    f.env = &pc->env;
    /* Fast path: an authentication block whose kid is a registered
     * author's key id names the key to try (the kid is only a hint, so a
     * block that does not verify under it changes nothing). Otherwise,
     * every registered author's key is tried in turn. */
    for (size_t i = 0; i < pc->env.n_auth && f.found != 1; i++) {
        dsuit_cose_msg_t msg;
        const uint8_t *rec_v;
        size_t rec_len;
        if (dsuit_cose_parse(pc->env.auth_blocks[i].ptr,
                             pc->env.auth_blocks[i].len, DSUIT_COSE_ANY,
                             &msg) != DSUIT_OK ||
            msg.kid == NULL || msg.kid_len != 32)
            continue;
        rc = dsuit_store_get(a->txn, DSUIT_TBL_AUTHORS, msg.kid, 32, &rec_v,
                             &rec_len);
        if (rc == DSUIT_OK) {
            kid_registered = 1;
            try_author(&f, msg.kid, 32, rec_v, rec_len);
        } else if (rc != DSUIT_E_NOTFOUND)
            return rc;
        if (f.err != DSUIT_OK)
            return f.err;
    }
    if (f.found != 1) {
        rc = dsuit_store_foreach(a->txn, DSUIT_TBL_AUTHORS, try_author, &f);
        if (f.err != DSUIT_OK)
            return f.err;
        if (rc < 0)
            return rc;
    }
    if (f.found == 0)
        return kid_registered ? DSUIT_TXR_BAD_SIGNATURE
                              : DSUIT_TXR_UNKNOWN_AUTHOR;
    if (f.found == 2)
        return DSUIT_TXR_REVOKED_AUTHOR;
    memcpy(pc->author_id, f.id, 32);
    rc = author_get(a, f.id, &pc->au, NULL);
    if (rc != DSUIT_OK)
        return rc == DSUIT_E_NOTFOUND ? DSUIT_E_STORE : rc;
    return DSUIT_TXR_OK;
}

/*
 * The envelope half of a publish's rules, reading state only: decodes,
 * authenticates by a registered author, then checks scope, rollback and
 * duplicates. Returns a result code or a negative storage error.
 */
static int check_publish(dsuit__apply_t *a, const uint8_t *envelope,
                         size_t envelope_len, publish_ctx_t *pc)
{
    dsuit_suit_envelope_t *env = &pc->env;
    dsuit_suit_params_t *p = pc->p;
    uint8_t scratch[DSUIT_SUIT_AUTH_SCRATCH];
    const uint8_t *v;
    size_t n;
    int rc;

    if (dsuit_suit_envelope_decode(envelope, envelope_len, env, NULL) !=
        DSUIT_OK)
        return DSUIT_TXR_SUIT_AUTH;
    /* The ledger keeps manifests, not payloads: images travel as chunks. */
    if (env->n_integrated != 0)
        return DSUIT_TXR_BAD_ENCODING;
    /* Digest and structure first: with no key this fails only at the
     * signature step when everything before it holds. */
    if (dsuit_suit_authenticate(env, NULL, 0, scratch, sizeof scratch, NULL) !=
        DSUIT_E_SIGNATURE)
        return DSUIT_TXR_SUIT_AUTH;
    rc = find_publisher(a, pc);
    if (rc != DSUIT_TXR_OK)
        return rc;

    /* Authenticated by the author found; now the manifest may be read. */
    if (dsuit_suit_manifest_decode(env, 0, NULL) != DSUIT_OK ||
        dsuit_suit_describe(env, p, NULL) != DSUIT_OK)
        return DSUIT_TXR_SUIT_AUTH;
    /* Scope: component 0 names the vendor and class the manifest is
     * filed under; every vendor or class any component sets must be the
     * author's. */
    if (!(p[0].set & (1u << DSUIT_SUIT_PARAM_VENDOR_ID)) ||
        !(p[0].set & (1u << DSUIT_SUIT_PARAM_CLASS_ID)))
        return DSUIT_TXR_OUT_OF_SCOPE;
    for (size_t c = 0; c < env->n_components; c++) {
        if ((p[c].set & (1u << DSUIT_SUIT_PARAM_VENDOR_ID)) &&
            (p[c].vendor_id.len != 16 ||
             memcmp(p[c].vendor_id.ptr, pc->au.vendor, 16) != 0))
            return DSUIT_TXR_OUT_OF_SCOPE;
        if ((p[c].set & (1u << DSUIT_SUIT_PARAM_CLASS_ID)) &&
            (p[c].class_id.len != 16 ||
             !class_in_scope(&pc->au, p[c].class_id.ptr)))
            return DSUIT_TXR_OUT_OF_SCOPE;
    }

    /* Rollback: per vendor, class and set of components. */
    {
        dsuit_sha256_ctx_t h;
        memcpy(pc->latest_key, p[0].vendor_id.ptr, 16);
        memcpy(pc->latest_key + 16, p[0].class_id.ptr, 16);
        dsuit_sha256_init(&h);
        for (size_t c = 0; c < env->n_components; c++)
            dsuit_sha256_update(&h, env->components[c].ptr,
                                env->components[c].len);
        dsuit_sha256_final(&h, pc->latest_key + 32);
    }
    rc = dsuit_store_get(a->txn, DSUIT_TBL_LATEST, pc->latest_key, 64, &v, &n);
    if (rc == DSUIT_OK) {
        uint64_t seq;
        if (pair_seq(v, n, &seq) != DSUIT_OK)
            return DSUIT_E_STORE;
        if (env->seq <= seq)
            return DSUIT_TXR_ROLLBACK;
    } else if (rc != DSUIT_E_NOTFOUND) {
        return rc;
    }

    memcpy(pc->digest, env->digest_bytes.ptr, 32);
    rc = dsuit_store_get(a->txn, DSUIT_TBL_MANIFESTS, pc->digest, 32, &v, &n);
    if (rc == DSUIT_OK)
        return DSUIT_TXR_DUPLICATE;
    if (rc != DSUIT_E_NOTFOUND)
        return rc;
    return DSUIT_TXR_OK;
}

static int apply_publish(dsuit__apply_t *a, const dsuit_tx_t *t)
{
    const dsuit_genesis_t *g = a->l->genesis;
    publish_ctx_t *pc;
    uint8_t pair[48], leaf[128], idx[8], leaf_hash[32];
    size_t pair_len, leaf_len, n;
    const uint8_t *v;
    uint8_t *rec = NULL;
    int rc, r;

    /* The envelope's decoded form is large (components, parameters):
     * keep it off the stack. */
    pc = calloc(1, sizeof *pc);
    if (pc == NULL)
        return DSUIT_E_NOMEM;
    r = check_publish(a, t->u.publish.envelope, t->u.publish.envelope_len, pc);
    if (r == DSUIT_TXR_OK)
        r = images_match(t, g, &pc->env, pc->p);
    if (r != DSUIT_TXR_OK) {
        free(pc);
        return r;
    }

    /* All checks passed: write. */
    {
        const dsuit_suit_params_t *p = pc->p;
        uint64_t leaf_index = a->mlog_base + a->mlog_added;
        size_t img_len, cap;
        dsuit_cbor_enc_t e;
        rc = images_encode(t, NULL, 0, &img_len);
        if (rc != DSUIT_E_LIMIT && rc != DSUIT_OK)
            goto out;
        cap = t->u.publish.envelope_len + img_len + 256;
        rec = malloc(cap);
        if (rec == NULL) {
            rc = DSUIT_E_NOMEM;
            goto out;
        }
        dsuit_cbor_enc_init(&e, rec, cap);
        dsuit_cbor_put_map(&e, 8);
        dsuit_cbor_put_uint(&e, 1);
        dsuit_cbor_put_bstr(&e, t->u.publish.envelope,
                            t->u.publish.envelope_len);
        dsuit_cbor_put_uint(&e, 2);
        dsuit_cbor_put_uint(&e, a->height);
        dsuit_cbor_put_uint(&e, 3);
        dsuit_cbor_put_uint(&e, leaf_index);
        dsuit_cbor_put_uint(&e, 4);
        dsuit_cbor_put_bstr(&e, p[0].vendor_id.ptr, 16);
        dsuit_cbor_put_uint(&e, 5);
        dsuit_cbor_put_bstr(&e, p[0].class_id.ptr, 16);
        dsuit_cbor_put_uint(&e, 6);
        dsuit_cbor_put_uint(&e, pc->env.seq);
        dsuit_cbor_put_uint(&e, 7);
        dsuit_cbor_put_bstr(&e, pc->author_id, 32);
        dsuit_cbor_put_uint(&e, 8);
        rc = images_encode(t, rec + e.len, cap - e.len, &img_len);
        e.len += img_len;
        if (rc == DSUIT_OK)
            rc = dsuit_cbor_enc_finish(&e, &n);
        if (rc == DSUIT_OK)
            rc = dsuit__state_put(a, DSUIT_TBL_MANIFESTS, pc->digest, 32, rec,
                                  n);
        if (rc != DSUIT_OK)
            goto out;

        rc = pair_encode(pc->env.seq, pc->digest, pair, &pair_len);
        if (rc == DSUIT_OK)
            rc = dsuit__state_put(a, DSUIT_TBL_LATEST, pc->latest_key, 64, pair,
                                  pair_len);
        if (rc != DSUIT_OK)
            goto out;
        /* The newest manifest for a vendor and class, whatever component
         * set, is what devices of that class are offered. */
        rc = dsuit_store_get(a->txn, DSUIT_TBL_VC, pc->latest_key, 32, &v, &n);
        uint64_t vc_seq = 0;
        int newer = rc == DSUIT_E_NOTFOUND;
        if (rc == DSUIT_OK) {
            if (pair_seq(v, n, &vc_seq) != DSUIT_OK) {
                rc = DSUIT_E_STORE;
                goto out;
            }
            newer = pc->env.seq > vc_seq;
        } else if (rc != DSUIT_E_NOTFOUND) {
            goto out;
        }
        if (newer) {
            rc = dsuit__state_put(a, DSUIT_TBL_VC, pc->latest_key, 32, pair,
                                  pair_len);
            if (rc != DSUIT_OK)
                goto out;
        }

        rc = leaf_encode(pc->digest, a->height, p[0].vendor_id.ptr,
                         p[0].class_id.ptr, pc->env.seq, leaf, &leaf_len);
        if (rc == DSUIT_OK)
            rc = dsuit_merkle_leaf_hash(leaf, leaf_len, leaf_hash);
        if (rc != DSUIT_OK)
            goto out;
        dsuit_store_u64_key(leaf_index, idx);
        rc = dsuit__state_put(a, DSUIT_TBL_MLOG, idx, 8, leaf, leaf_len);
        if (rc != DSUIT_OK)
            goto out;
        rc = dsuit_merkle_tree_append(a->l->mlog, leaf_hash);
        if (rc != DSUIT_OK)
            goto out;
        a->mlog_added++;
    }
    rc = DSUIT_TXR_OK;
out:
    free(rec);
    free(pc);
    return rc;
}

int dsuit_ledger_check_publish(dsuit_ledger_t *l, const uint8_t *envelope,
                               size_t envelope_len, dsuit_publish_check_t *out)
{
    dsuit__apply_t a;
    publish_ctx_t *pc;
    int r;

    if (l == NULL || envelope == NULL || out == NULL)
        return DSUIT_E_INVAL;
    pc = calloc(1, sizeof *pc);
    if (pc == NULL)
        return DSUIT_E_NOMEM;
    memset(&a, 0, sizeof a);
    a.l = l;
    a.height = dsuit_ledger_height(l) + 1;
    r = dsuit_store_begin(dsuit_ledger_store(l), 0, &a.txn);
    if (r != DSUIT_OK) {
        free(pc);
        return r;
    }
    r = check_publish(&a, envelope, envelope_len, pc);
    if (r == DSUIT_TXR_OK) {
        /* The images the manifest describes: each distinct digest a
         * component sets, with its size. */
        memset(out, 0, sizeof *out);
        memcpy(out->manifest_digest, pc->digest, 32);
        memcpy(out->author, pc->author_id, 32);
        memcpy(out->vendor, pc->p[0].vendor_id.ptr, 16);
        memcpy(out->class_id, pc->p[0].class_id.ptr, 16);
        out->seq = pc->env.seq;
        for (size_t c = 0; c < pc->env.n_components && r == DSUIT_TXR_OK; c++) {
            const uint8_t *d = param_digest(&pc->p[c]);
            int seen = 0;
            if (d == NULL ||
                !(pc->p[c].set & (1u << DSUIT_SUIT_PARAM_IMAGE_SIZE)))
                continue;
            for (size_t k = 0; k < out->n_images; k++)
                seen |= memcmp(out->images[k].digest, d, 32) == 0;
            if (seen)
                continue;
            if (out->n_images == DSUIT_TX_MAX_IMAGES) {
                r = DSUIT_TXR_CHUNKS_INCONSISTENT;
                break;
            }
            if (pc->p[c].image_size > l->genesis->policy.max_image_size) {
                r = DSUIT_TXR_IMAGE_TOO_LARGE;
                break;
            }
            memcpy(out->images[out->n_images].digest, d, 32);
            out->images[out->n_images].size = pc->p[c].image_size;
            out->n_images++;
        }
        if (r == DSUIT_TXR_OK && out->n_images == 0)
            r = DSUIT_TXR_CHUNKS_INCONSISTENT; /* nothing to store */
    }
    dsuit_store_abort(a.txn);
    free(pc);
    return r;
}

static int apply_register_device(dsuit__apply_t *a, const dsuit_tx_t *t,
                                 const signers_t *s)
{
    dsuit_key_t key;
    uint8_t kid[32], rec[RECORD_MAX];
    const uint8_t *v;
    size_t vn, n;
    dsuit_cbor_enc_t e;
    int rc;

    /* K registrars, or any one active author of that vendor and class
     * (other authors' co-signatures neither help nor hurt). The code of a
     * refusal names the closest miss: an author in scope but revoked, then
     * an active author out of scope. */
    if (s->registrars < a->l->genesis->threshold) {
        int best = DSUIT_TXR_BELOW_THRESHOLD;
        for (size_t i = 0; i < s->n_authors && best != DSUIT_TXR_OK; i++) {
            const dsuit_author_t *au = &s->author[i];
            int in_scope = memcmp(au->vendor, t->u.device.vendor, 16) == 0 &&
                           class_in_scope(au, t->u.device.class_id);
            if (in_scope && au->status == DSUIT_AUTHOR_ACTIVE)
                best = DSUIT_TXR_OK;
            else if (in_scope)
                best = DSUIT_TXR_REVOKED_AUTHOR;
            else if (best == DSUIT_TXR_BELOW_THRESHOLD)
                best = DSUIT_TXR_OUT_OF_SCOPE;
        }
        if (best != DSUIT_TXR_OK)
            return best;
    }
    if (key_from_bytes(t->u.device.key, t->u.device.key_len, &key, kid) !=
            DSUIT_OK ||
        (key.type != DSUIT_KEY_P256 && key.type != DSUIT_KEY_ED25519))
        return DSUIT_TXR_BAD_ENCODING;
    rc = dsuit_store_get(a->txn, DSUIT_TBL_DEVICES, t->u.device.device_id, 16,
                         &v, &vn);
    if (rc == DSUIT_OK)
        return DSUIT_TXR_DUPLICATE;
    if (rc != DSUIT_E_NOTFOUND)
        return rc;
    dsuit_cbor_enc_init(&e, rec, sizeof rec);
    dsuit_cbor_put_map(&e, 4);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, t->u.device.vendor, 16);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_bstr(&e, t->u.device.class_id, 16);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_bstr(&e, t->u.device.key, t->u.device.key_len);
    dsuit_cbor_put_uint(&e, 4);
    dsuit_cbor_put_uint(&e, a->height);
    rc = dsuit_cbor_enc_finish(&e, &n);
    if (rc == DSUIT_OK)
        rc = dsuit__state_put(a, DSUIT_TBL_DEVICES, t->u.device.device_id, 16,
                              rec, n);
    return rc == DSUIT_OK ? DSUIT_TXR_OK : rc;
}

static int validate_and_apply(dsuit__apply_t *a, const dsuit_tx_t *t)
{
    const uint8_t *v;
    size_t n;
    signers_t s;
    int rc;

    if (memcmp(t->chain, a->l->genesis->hash, 32) != 0)
        return DSUIT_TXR_WRONG_CHAIN;
    /* Replay: an id applied once is never applied again. */
    rc = dsuit_store_get(a->txn, DSUIT_TBL_TXS, t->id, 32, &v, &n);
    if (rc == DSUIT_OK) {
        dsuit_cbor_dec_t d;
        size_t m;
        uint64_t h, i, r;
        dsuit_cbor_dec_init(&d, v, n, DSUIT_CBOR_STRICT);
        if (dsuit_cbor_get_array(&d, &m) != DSUIT_OK || m != 3 ||
            dsuit_cbor_get_uint(&d, &h) || dsuit_cbor_get_uint(&d, &i) ||
            dsuit_cbor_get_uint(&d, &r))
            return DSUIT_E_STORE;
        if (r == DSUIT_TXR_OK)
            return DSUIT_TXR_DUPLICATE;
    } else if (rc != DSUIT_E_NOTFOUND) {
        return rc;
    }
    if (t->type < DSUIT_TX_REGISTER_AUTHOR ||
        t->type > DSUIT_TX_REGISTER_DEVICE)
        return DSUIT_TXR_UNKNOWN_TYPE;
    rc = check_signatures(a, t, &s);
    if (rc != DSUIT_TXR_OK)
        return rc;
    switch (t->type) {
    case DSUIT_TX_REGISTER_AUTHOR:
        return apply_register_author(a, t, &s);
    case DSUIT_TX_REVOKE_AUTHOR:
        return apply_revoke_author(a, t, &s);
    case DSUIT_TX_ROTATE_AUTHOR_KEY:
        return apply_rotate(a, t, &s);
    case DSUIT_TX_PUBLISH:
        return apply_publish(a, t);
    default:
        return apply_register_device(a, t, &s);
    }
}

int dsuit__apply_tx(dsuit__apply_t *a, const uint8_t *tx, size_t len,
                    uint64_t index, uint8_t out_id[DSUIT_SHA256_LEN])
{
    dsuit_tx_t t;
    uint8_t rec[48];
    size_t n;
    dsuit_cbor_enc_t e;
    int r, rc;

    if (dsuit_tx_decode(tx, len, &t) != DSUIT_OK) {
        /* No body to name it by: the raw bytes' hash goes in the tx root,
         * and no TXS entry is written. */
        rc = dsuit_sha256(tx, len, out_id);
        return rc == DSUIT_OK ? DSUIT_TXR_BAD_ENCODING : rc;
    }
    memcpy(out_id, t.id, 32);
    r = validate_and_apply(a, &t);
    if (r < 0)
        return r;
    dsuit_cbor_enc_init(&e, rec, sizeof rec);
    dsuit_cbor_put_array(&e, 3);
    dsuit_cbor_put_uint(&e, a->height);
    dsuit_cbor_put_uint(&e, index);
    dsuit_cbor_put_uint(&e, (uint64_t)r);
    dsuit_cbor_enc_finish(&e, &n);
    /* A failed transaction does not overwrite the record of the same id
     * having been applied (the duplicate case). */
    if (r == DSUIT_TXR_DUPLICATE) {
        const uint8_t *v;
        size_t vn;
        if (dsuit_store_get(a->txn, DSUIT_TBL_TXS, t.id, 32, &v, &vn) ==
            DSUIT_OK)
            return r;
    }
    rc = dsuit__state_put(a, DSUIT_TBL_TXS, t.id, 32, rec, n);
    return rc == DSUIT_OK ? r : rc;
}
