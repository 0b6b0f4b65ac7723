/*
 * Ledger proofs, device side (docs/formats/ledger.md, "Blocks" and "Ledger
 * proof"): the block-header codec, and the five checks a device runs before
 * it believes that a quorum of validators recorded a manifest.
 *
 *   Header      = {1: chain, 2: height, 3: prev-hash, 4: time, 5: proposer,
 *                  6: tx-root, 7: manifest-log-size, 8: manifest-log-root,
 *                  9: state-root}
 *   LedgerProof = [ header bstr, Cert, leaf bstr, [index, size, [* hash]] ]
 *   Leaf        = [ digest bstr(32), height, vendor bstr(16),
 *                   class bstr(16), seq ]
 *
 * The header's keys ascend, so writing them in order is the deterministic
 * encoding; decoding refuses any other, so a block hash (SHA-256 of the
 * header bytes) names one header.
 *
 * Device-safe: no allocation, no recursion. Everything decoded points into
 * the caller's buffer.
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/ledger_proof.h"
#include "dsuit/proof.h"

#define FLAGS    (DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED)
#define MAX_NEST 4 /* proof array > path array > hash; cert map > votes */

int dsuit_block_header_encode(const dsuit_block_header_t *h, uint8_t *out,
                              size_t out_cap, size_t *out_len)
{
    dsuit_cbor_enc_t e;
    dsuit_cbor_enc_init(&e, out, out_cap);
    dsuit_cbor_put_map(&e, 9);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_bstr(&e, h->chain, 32);
    dsuit_cbor_put_uint(&e, 2);
    dsuit_cbor_put_uint(&e, h->height);
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_bstr(&e, h->prev_hash, 32);
    dsuit_cbor_put_uint(&e, 4);
    dsuit_cbor_put_uint(&e, h->time_ms);
    dsuit_cbor_put_uint(&e, 5);
    dsuit_cbor_put_uint(&e, h->proposer);
    dsuit_cbor_put_uint(&e, 6);
    dsuit_cbor_put_bstr(&e, h->tx_root, 32);
    dsuit_cbor_put_uint(&e, 7);
    dsuit_cbor_put_uint(&e, h->mlog_size);
    dsuit_cbor_put_uint(&e, 8);
    dsuit_cbor_put_bstr(&e, h->mlog_root, 32);
    dsuit_cbor_put_uint(&e, 9);
    dsuit_cbor_put_bstr(&e, h->state_root, 32);
    return dsuit_cbor_enc_finish(&e, out_len);
}

/* A bstr of exactly n bytes, pointed at. */
static int bstr_n(dsuit_cbor_dec_t *d, size_t n, const uint8_t **out)
{
    size_t got;
    return dsuit_cbor_get_bstr(d, out, &got) == DSUIT_OK && got == n;
}

static int hash32(dsuit_cbor_dec_t *d, uint8_t out[32])
{
    const uint8_t *p;
    if (!bstr_n(d, 32, &p))
        return 0;
    memcpy(out, p, 32);
    return 1;
}

int dsuit_block_header_decode(const uint8_t *buf, size_t len,
                              dsuit_block_header_t *out)
{
    dsuit_block_header_t h;
    dsuit_cbor_dec_t d;
    size_t n;
    int rc;

    if (buf == NULL || out == NULL)
        return DSUIT_E_INVAL;
    rc = dsuit_cbor_check(buf, len, FLAGS, 1);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_dec_init(&d, buf, len, FLAGS);
    if (dsuit_cbor_get_map(&d, &n) != DSUIT_OK || n != 9 ||
        dsuit_cbor_expect_uint(&d, 1) || !hash32(&d, h.chain) ||
        dsuit_cbor_expect_uint(&d, 2) || dsuit_cbor_get_uint(&d, &h.height) ||
        dsuit_cbor_expect_uint(&d, 3) || !hash32(&d, h.prev_hash) ||
        dsuit_cbor_expect_uint(&d, 4) || dsuit_cbor_get_uint(&d, &h.time_ms) ||
        dsuit_cbor_expect_uint(&d, 5) || dsuit_cbor_get_uint(&d, &h.proposer) ||
        dsuit_cbor_expect_uint(&d, 6) || !hash32(&d, h.tx_root) ||
        dsuit_cbor_expect_uint(&d, 7) ||
        dsuit_cbor_get_uint(&d, &h.mlog_size) ||
        dsuit_cbor_expect_uint(&d, 8) || !hash32(&d, h.mlog_root) ||
        dsuit_cbor_expect_uint(&d, 9) || !hash32(&d, h.state_root))
        return DSUIT_E_INVAL;
    *out = h;
    return DSUIT_OK;
}

/* The parts of a LedgerProof, pointing into its buffer. */
typedef struct {
    const uint8_t *header, *cert, *leaf;
    size_t header_len, cert_len, leaf_len;
    dsuit_merkle_proof_t incl;
} parts_t;

static int split(const uint8_t *buf, size_t len, parts_t *p)
{
    dsuit_cbor_dec_t d;
    const uint8_t *incl;
    size_t n, incl_len;
    int rc = dsuit_cbor_check(buf, len, FLAGS, MAX_NEST);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_dec_init(&d, buf, len, FLAGS);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK || n != 4 ||
        dsuit_cbor_get_bstr(&d, &p->header, &p->header_len) != DSUIT_OK ||
        dsuit_cbor_skip(&d, &p->cert, &p->cert_len) != DSUIT_OK ||
        dsuit_cbor_get_bstr(&d, &p->leaf, &p->leaf_len) != DSUIT_OK ||
        dsuit_cbor_skip(&d, &incl, &incl_len) != DSUIT_OK ||
        dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_INVAL;
    return dsuit_merkle_proof_decode(incl, incl_len, &p->incl);
}

typedef struct {
    const uint8_t *digest, *vendor, *class_id;
    uint64_t height, seq;
} leaf_t;

static int leaf_decode(const uint8_t *buf, size_t len, leaf_t *l)
{
    dsuit_cbor_dec_t d;
    size_t n;
    int rc = dsuit_cbor_check(buf, len, FLAGS, 1);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_dec_init(&d, buf, len, FLAGS);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK || n != 5 ||
        !bstr_n(&d, 32, &l->digest) ||
        dsuit_cbor_get_uint(&d, &l->height) != DSUIT_OK ||
        !bstr_n(&d, 16, &l->vendor) || !bstr_n(&d, 16, &l->class_id) ||
        dsuit_cbor_get_uint(&d, &l->seq) != DSUIT_OK)
        return DSUIT_E_INVAL;
    return DSUIT_OK;
}

int dsuit_ledger_proof_verify(const uint8_t *proof, size_t len,
                              const dsuit_trust_t *trust,
                              const uint8_t manifest_digest[32],
                              uint64_t now_ms, uint64_t max_age_ms,
                              dsuit_ledger_proof_info_t *out)
{
    parts_t p;
    dsuit_block_header_t h;
    dsuit_cert_t cert;
    leaf_t leaf;
    uint8_t hash[32];
    size_t votes = 0;
    int rc;

    if (proof == NULL || trust == NULL || trust->chain == NULL ||
        manifest_digest == NULL)
        return DSUIT_E_INVAL;
    rc = split(proof, len, &p);
    if (rc != DSUIT_OK)
        return rc;
    rc = dsuit_block_header_decode(p.header, p.header_len, &h);
    if (rc == DSUIT_OK)
        rc = dsuit_cert_decode(p.cert, p.cert_len, &cert);
    if (rc == DSUIT_OK)
        rc = leaf_decode(p.leaf, p.leaf_len, &leaf);
    if (rc != DSUIT_OK)
        return rc;

    /* 1. The certificate is for this header, with a quorum of votes. */
    rc = dsuit_sha256(p.header, p.header_len, hash);
    if (rc != DSUIT_OK)
        return rc;
    if (!dsuit_ct_equal(hash, cert.block_hash, 32) || cert.height != h.height)
        return DSUIT_E_DIGEST;
    rc = dsuit_cert_verify(&cert, trust, &votes);
    if (rc != DSUIT_OK)
        return rc;
    /* 2. ... of the trusted chain (the votes cover the chain id too, but a
     *    header naming another chain is wrong on its own). */
    if (!dsuit_ct_equal(h.chain, trust->chain, 32))
        return DSUIT_E_DIGEST;
    /* 3. The leaf names the manifest the device authenticated. */
    if (!dsuit_ct_equal(leaf.digest, manifest_digest, 32))
        return DSUIT_E_DIGEST;
    /* 4. The leaf is in the certified log: size and root both from the
     *    header. */
    rc = dsuit_merkle_leaf_hash(p.leaf, p.leaf_len, hash);
    if (rc != DSUIT_OK)
        return rc;
    rc = dsuit_merkle_proof_verify(&p.incl, hash, h.mlog_size, h.mlog_root);
    if (rc != DSUIT_OK)
        return rc == DSUIT_E_INVAL ? DSUIT_E_DIGEST : rc;
    if (leaf.height > h.height)
        return DSUIT_E_INVAL; /* recorded after the block that holds it */
    /* 5. Fresh enough. */
    if (max_age_ms != 0 &&
        (h.time_ms > now_ms ? 0 : now_ms - h.time_ms) > max_age_ms)
        return DSUIT_E_STALE;

    if (out != NULL) {
        out->height = h.height;
        out->time_ms = h.time_ms;
        out->votes = votes;
        out->leaf_index = p.incl.leaf_index;
        out->manifest_height = leaf.height;
        out->seq = leaf.seq;
        out->vendor = leaf.vendor;
        out->class_id = leaf.class_id;
    }
    return DSUIT_OK;
}
