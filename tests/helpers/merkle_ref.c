/*
 * The naive RFC 9162 §2.1 Merkle reference of merkle_ref.h: each function
 * is the RFC's recursive definition, with k the largest power of two
 * smaller than n.
 */
#include "merkle_ref.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/crypto.h"
#include "dsuit/proof.h"

const char *const mref_ct_leaves_hex[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

const char *const mref_ct_roots_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

const mref_ct_incl_t mref_ct_inclusion[MREF_CT_N_INCLUSION] = {
    {0, 1, ""},
    {0, 8,
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {5, 8,
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
    {2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"},
    {1, 5,
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"},
};

const mref_ct_cons_t mref_ct_consistency[MREF_CT_N_CONSISTENCY] = {
    {1, 1, ""},
    {1, 8,
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {6, 8,
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
    {2, 5,
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"},
    {6, 7,
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
};

/* The largest power of two smaller than n (n >= 2). */
static size_t split(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

void mref_mth(const uint8_t (*lh)[MREF_H], size_t n, uint8_t out[MREF_H])
{
    uint8_t a[MREF_H], b[MREF_H];
    size_t k;
    if (n == 0) {
        assert_int_equal(dsuit_sha256(NULL, 0, out), DSUIT_OK);
        return;
    }
    if (n == 1) {
        memcpy(out, lh[0], MREF_H);
        return;
    }
    k = split(n);
    mref_mth(lh, k, a);
    mref_mth(lh + k, n - k, b);
    assert_int_equal(dsuit_merkle_node_hash(a, b, out), DSUIT_OK);
}

size_t mref_path(size_t m, const uint8_t (*lh)[MREF_H], size_t n, uint8_t *out)
{
    size_t k, c;
    if (n <= 1)
        return 0;
    k = split(n);
    if (m < k) {
        c = mref_path(m, lh, k, out);
        mref_mth(lh + k, n - k, out + c * MREF_H);
    } else {
        c = mref_path(m - k, lh + k, n - k, out);
        mref_mth(lh, k, out + c * MREF_H);
    }
    return c + 1;
}

/* SUBPROOF(m, D[0:n], b). */
static size_t subproof(size_t m, const uint8_t (*lh)[MREF_H], size_t n, int b,
                       uint8_t *out)
{
    size_t k, c;
    if (m == n) {
        if (b)
            return 0;
        mref_mth(lh, n, out);
        return 1;
    }
    k = split(n);
    if (m <= k) {
        c = subproof(m, lh, k, b, out);
        mref_mth(lh + k, n - k, out + c * MREF_H);
    } else {
        c = subproof(m - k, lh + k, n - k, 0, out);
        mref_mth(lh, k, out + c * MREF_H);
    }
    return c + 1;
}

size_t mref_proof(size_t m, const uint8_t (*lh)[MREF_H], size_t n, uint8_t *out)
{
    if (m == 0 || m == n)
        return 0;
    return subproof(m, lh, n, 1, out);
}

void mref_route(size_t m, size_t n, uint64_t *bits, size_t *len)
{
    *bits = 0;
    *len = 0;
    while (n > 1) {
        size_t k = split(n);
        *bits <<= 1;
        if (m >= k) {
            *bits |= 1;
            m -= k;
            n -= k;
        } else {
            n = k;
        }
        (*len)++;
    }
}
