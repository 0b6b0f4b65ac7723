/*
 * Block codec (docs/formats/ledger.md, "Blocks"):
 *
 *   Block  = [ header bstr, [* tx bstr], [* result uint], proposer-sig bstr ]
 *   Header = {1: chain, 2: height, 3: prev-hash, 4: time, 5: proposer,
 *             6: tx-root, 7: manifest-log-size, 8: manifest-log-root,
 *             9: state-root}
 *
 * The header's keys ascend, so writing them in order is the deterministic
 * encoding; decoding refuses any other, so the block hash (SHA-256 of the
 * header bytes) names one header. Transactions stay encoded inside the
 * block; they are decoded one by one when the block is applied.
 */
#include <string.h>

#include "dsuit/block.h"
#include "dsuit/cbor.h"

#define FLAGS (DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED)

int dsuit_block_decode(const uint8_t *buf, size_t len, dsuit_block_t *out)
{
    dsuit_block_t b;
    dsuit_cbor_dec_t d;
    size_t n, m;
    int rc;

    if (buf == NULL || out == NULL)
        return DSUIT_E_INVAL;
    memset(&b, 0, sizeof b);
    rc = dsuit_cbor_check(buf, len, FLAGS, 0);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_dec_init(&d, buf, len, FLAGS);
    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK || n != 4 ||
        dsuit_cbor_get_bstr(&d, &b.header_bytes, &b.header_len) != DSUIT_OK)
        return DSUIT_E_INVAL;
    rc = dsuit_block_header_decode(b.header_bytes, b.header_len, &b.header);
    if (rc != DSUIT_OK)
        return rc;

    if (dsuit_cbor_get_array(&d, &n) != DSUIT_OK)
        return DSUIT_E_INVAL;
    if (n > DSUIT_BLOCK_MAX_TXS)
        return DSUIT_E_LIMIT;
    b.txs = d.buf + d.pos;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p;
        size_t l;
        if (dsuit_cbor_get_bstr(&d, &p, &l) != DSUIT_OK)
            return DSUIT_E_INVAL;
    }
    b.txs_len = (size_t)(d.buf + d.pos - b.txs);
    b.n_txs = n;

    if (dsuit_cbor_get_array(&d, &m) != DSUIT_OK || m != n)
        return DSUIT_E_INVAL;
    b.results = d.buf + d.pos;
    for (size_t i = 0; i < m; i++) {
        uint64_t r;
        if (dsuit_cbor_get_uint(&d, &r) != DSUIT_OK)
            return DSUIT_E_INVAL;
    }
    b.results_len = (size_t)(d.buf + d.pos - b.results);
    if (dsuit_cbor_get_bstr(&d, &b.sig, &b.sig_len) != DSUIT_OK ||
        dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_INVAL;
    rc = dsuit_sha256(b.header_bytes, b.header_len, b.hash);
    if (rc != DSUIT_OK)
        return rc;
    *out = b;
    return DSUIT_OK;
}

void dsuit_block_iter_init(dsuit_block_iter_t *it, const dsuit_block_t *b)
{
    it->b = b;
    it->index = 0;
    it->tx_pos = 0;
    it->res_pos = 0;
}

int dsuit_block_next_tx(dsuit_block_iter_t *it, const uint8_t **tx,
                        size_t *tx_len, uint64_t *result)
{
    dsuit_cbor_dec_t t, r;
    if (it->index >= it->b->n_txs)
        return DSUIT_E_NOTFOUND;
    dsuit_cbor_dec_init(&t, it->b->txs, it->b->txs_len, FLAGS);
    t.pos = it->tx_pos;
    dsuit_cbor_dec_init(&r, it->b->results, it->b->results_len, FLAGS);
    r.pos = it->res_pos;
    if (dsuit_cbor_get_bstr(&t, tx, tx_len) != DSUIT_OK ||
        dsuit_cbor_get_uint(&r, result) != DSUIT_OK)
        return DSUIT_E_INVAL; /* cannot happen after dsuit_block_decode */
    it->tx_pos = t.pos;
    it->res_pos = r.pos;
    it->index++;
    return DSUIT_OK;
}

/* "dsuit-block-v1" || hash */
static void sig_message(const uint8_t hash[32], uint8_t out[14 + 32])
{
    memcpy(out, DSUIT_BLOCK_SIG_CONTEXT, 14);
    memcpy(out + 14, hash, 32);
}

int dsuit_block_encode(const dsuit_block_header_t *h,
                       const uint8_t *const *txs, const size_t *tx_lens,
                       const uint64_t *results, size_t n,
                       const dsuit_key_t *proposer, uint8_t *out,
                       size_t out_cap, size_t *out_len)
{
    uint8_t hdr[256], hash[32], msg[14 + 32], sig[DSUIT_SIG_LEN];
    size_t hdr_len;
    dsuit_cbor_enc_t e;
    int rc;

    if (h == NULL || out_len == NULL || (n && (!txs || !tx_lens || !results)))
        return DSUIT_E_INVAL;
    if (n > DSUIT_BLOCK_MAX_TXS)
        return DSUIT_E_LIMIT;
    rc = dsuit_block_header_encode(h, hdr, sizeof hdr, &hdr_len);
    if (rc == DSUIT_OK)
        rc = dsuit_sha256(hdr, hdr_len, hash);
    if (rc != DSUIT_OK)
        return rc;
    sig_message(hash, msg);
    rc = dsuit_sig_sign(proposer, msg, sizeof msg, sig);
    if (rc != DSUIT_OK)
        return rc;

    dsuit_cbor_enc_init(&e, out, out_cap);
    dsuit_cbor_put_array(&e, 4);
    dsuit_cbor_put_bstr(&e, hdr, hdr_len);
    dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++)
        dsuit_cbor_put_bstr(&e, txs[i], tx_lens[i]);
    dsuit_cbor_put_array(&e, n);
    for (size_t i = 0; i < n; i++)
        dsuit_cbor_put_uint(&e, results[i]);
    dsuit_cbor_put_bstr(&e, sig, sizeof sig);
    return dsuit_cbor_enc_finish(&e, out_len);
}

int dsuit_block_verify_sig(const dsuit_block_t *b, const dsuit_key_t *key)
{
    uint8_t msg[14 + 32];
    sig_message(b->hash, msg);
    return dsuit_sig_verify(key, msg, sizeof msg, b->sig, b->sig_len) ==
                   DSUIT_OK
               ? DSUIT_OK
               : DSUIT_E_SIGNATURE;
}
