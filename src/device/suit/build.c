/*
 * SUIT builder: manifests and envelopes from a description, following the
 * templates of draft-ietf-suit-manifest-37 §7, signatures added to an
 * envelope (§8.3) and severable members removed from one (§8.4.12,
 * §8.5). The contract, and what a description becomes, is in
 * include/dsuit/suit_build.h.
 *
 * How it works without allocation: every encoder below writes into a
 * "sink", which counts bytes, hashes them, writes them into the caller's
 * encoder, or any mix of these. A bstr-wrapped item is written by running
 * its encoder once to count, then writing the head and running it again.
 * Digests of severable members and of the manifest are computed by running
 * their encoders into a hashing sink, so nothing needs a scratch buffer.
 * Signatures are the exception: a COSE block's size is learnt by asking
 * dsuit_cose_create() with no room, and in the final pass it signs straight
 * into the output. Everything is measured first, so a too-small output is
 * refused (DSUIT_E_LIMIT, size needed) before anything is written.
 *
 * Envelope written (keys 2 and 3 first, §8.3; then members ascending):
 *
 *   d8 6b                     tag 107
 *   a2..a4                    map, 2 + severable members carried
 *   02 bstr[ 8x               array: 1 + signers
 *            bstr[ 82 2f 58 20 <32> ]         SUIT_Digest of the manifest
 *            bstr[ d2 84 43 a1 01 <alg> a0|{4: kid} f6 58 40 <64> ] ...
 *          ]
 *   03 bstr[ manifest map ]
 *   14 bstr[ install sequence ]   if severable
 *   17 bstr[ text map ]           if severable
 *
 * Stack: the encoded component identifiers (DSUIT_MAX_COMPONENTS *
 * DSUIT_SUIT_BUILD_MAX_ID_LEN bytes), one SHA-256 context, one
 * Sig_structure scratch (DSUIT_SUIT_AUTH_SCRATCH); no recursion.
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/suit.h"
#include "dsuit/suit_build.h"
#include "suit_int.h"

/* Reporting policies of the draft's examples. */
#define POLICY_CONDITION 15u /* record and report success and failure */
#define POLICY_DIRECTIVE 2u  /* record failure */

/* Encoded SUIT_Digest with SHA-256: 82 2f 58 20 <32 bytes>. */
#define DIGEST_ITEM_LEN (4 + DSUIT_SHA256_LEN)

/* Text labels (§8.4.4, IANA "SUIT Text Values"). */
#define TEXT_MANIFEST_DESCRIPTION 1
#define TEXT_VENDOR_NAME          1
#define TEXT_MODEL_NAME           2
#define TEXT_VENDOR_DOMAIN        3
#define TEXT_MODEL_INFO           4
#define TEXT_COMPONENT_DESCR      5
#define TEXT_COMPONENT_VERSION    6

/* ---- sink ---------------------------------------------------------------- */

/* Where encoded bytes go. Either pointer may be NULL; len counts always. */
typedef struct {
    dsuit_cbor_enc_t *e;
    dsuit_sha256_ctx_t *h;
    size_t len;
    int err; /* first hashing error */
} sink_t;

static void sink_init(sink_t *s, dsuit_cbor_enc_t *e, dsuit_sha256_ctx_t *h)
{
    s->e = e;
    s->h = h;
    s->len = 0;
    s->err = DSUIT_OK;
}

static void s_raw(sink_t *s, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (s->e != NULL)
        (void)dsuit_cbor_put_raw(s->e, p, n); /* overflow: see enc_finish */
    if (s->h != NULL && s->err == DSUIT_OK)
        s->err = dsuit_sha256_update(s->h, p, n);
    s->len += n;
}

enum { H_UINT, H_ARRAY, H_MAP, H_TAG, H_BSTR, H_TSTR };

/* A head, encoded by the CBOR module into a small buffer. */
static void s_head(sink_t *s, int kind, uint64_t v)
{
    uint8_t t[9];
    dsuit_cbor_enc_t te;
    dsuit_cbor_enc_init(&te, t, sizeof t);
    switch (kind) {
    case H_UINT:
        dsuit_cbor_put_uint(&te, v);
        break;
    case H_ARRAY:
        dsuit_cbor_put_array(&te, (size_t)v);
        break;
    case H_MAP:
        dsuit_cbor_put_map(&te, (size_t)v);
        break;
    case H_TAG:
        dsuit_cbor_put_tag(&te, v);
        break;
    default:
        /* A text string's head is a byte string's with major type 3: the
         * CBOR module has no tstr-head writer, and the length encoding is
         * the same for both. */
        dsuit_cbor_put_bstr_head(&te, (size_t)v);
        if (kind == H_TSTR)
            t[0] = (uint8_t)((t[0] & 0x1f) | (DSUIT_CBOR_TSTR << 5));
        break;
    }
    s_raw(s, t, te.len);
}

static void s_int(sink_t *s, int64_t v)
{
    uint8_t t[9];
    dsuit_cbor_enc_t te;
    dsuit_cbor_enc_init(&te, t, sizeof t);
    dsuit_cbor_put_int(&te, v);
    s_raw(s, t, te.len);
}

static void s_bstr(sink_t *s, const uint8_t *p, size_t n)
{
    s_head(s, H_BSTR, n);
    s_raw(s, p, n);
}

static void s_tstr(sink_t *s, const char *z)
{
    size_t n = strlen(z);
    s_head(s, H_TSTR, n);
    s_raw(s, (const uint8_t *)z, n);
}

/* SUIT_Digest [-16, bstr .size 32] */
static void s_digest(sink_t *s, const uint8_t d[DSUIT_SHA256_LEN])
{
    s_head(s, H_ARRAY, 2);
    s_int(s, DSUIT_SUIT_DIGEST_SHA256);
    s_bstr(s, d, DSUIT_SHA256_LEN);
}

/* Size of a head for argument v. */
static size_t head_len(uint64_t v)
{
    return v < 24             ? 1
           : v <= 0xff        ? 2
           : v <= 0xffff      ? 3
           : v <= 0xffffffffu ? 5
                              : 9;
}

/* ---- the description, prepared ---------------------------------------------
 */

typedef struct {
    const dsuit_suit_build_desc_t *d;
    unsigned emit; /* members emitted: DSUIT_SUIT_BUILD_MEMBER_* */
    unsigned sev;  /* of those, severable */
    uint8_t member_digest[DSUIT_SUIT_SEV_COUNT][DSUIT_SHA256_LEN];
    uint8_t ids[DSUIT_MAX_COMPONENTS][DSUIT_SUIT_BUILD_MAX_ID_LEN];
    size_t id_len[DSUIT_MAX_COMPONENTS];
    uint8_t text_order[DSUIT_MAX_COMPONENTS]; /* components with text, sorted */
    size_t n_text;
} ctx_t;

typedef void (*enc_fn)(sink_t *s, const ctx_t *c);

/* Write fn's output as a byte string: count it, then write head and body. */
static void s_wrapped(sink_t *s, enc_fn fn, const ctx_t *c)
{
    sink_t m;
    sink_init(&m, NULL, NULL);
    fn(&m, c);
    s_head(s, H_BSTR, m.len);
    fn(s, c);
}

static void s_id(sink_t *s, const dsuit_suit_build_id_t *id)
{
    s_head(s, H_ARRAY, id->n_parts);
    for (size_t i = 0; i < id->n_parts; i++)
        s_bstr(s, id->parts[i].ptr, id->parts[i].len);
}

static int has_text(const dsuit_suit_build_text_t *t)
{
    return t->vendor_name || t->model_name || t->vendor_domain ||
           t->model_info || t->description || t->version;
}

static int str_ok(const char *z)
{
    return z == NULL || dsuit_cbor_utf8_valid((const uint8_t *)z, strlen(z));
}

/* 1 if encoded id a sorts before b (RFC 8949 §4.2.1 bytewise order). */
static int id_before(const ctx_t *c, size_t a, size_t b)
{
    size_t n = c->id_len[a] < c->id_len[b] ? c->id_len[a] : c->id_len[b];
    int r = memcmp(c->ids[a], c->ids[b], n);
    return r < 0 || (r == 0 && c->id_len[a] < c->id_len[b]);
}

/* Check the description's invariants and prepare the context. */
static int prepare(ctx_t *c, const dsuit_suit_build_desc_t *d)
{
    size_t n;

    memset(c, 0, sizeof *c);
    c->d = d;
    if (d == NULL || d->n_components < 1 ||
        d->n_components > DSUIT_MAX_COMPONENTS)
        return DSUIT_E_INVAL;
    n = d->n_components;
    if (d->sequences & ~(DSUIT_SUIT_BUILD_VALIDATE | DSUIT_SUIT_BUILD_INSTALL |
                         DSUIT_SUIT_BUILD_INVOKE))
        return DSUIT_E_INVAL;
    if ((d->sequences & DSUIT_SUIT_BUILD_INVOKE) && d->invoke_component >= n)
        return DSUIT_E_INVAL;
    if (!str_ok(d->reference_uri) || !str_ok(d->description) ||
        !str_ok(d->text_lang) || (d->text_lang && d->text_lang[0] == '\0'))
        return DSUIT_E_INVAL;

    for (size_t i = 0; i < n; i++) {
        const dsuit_suit_build_component_t *k = &d->components[i];
        const dsuit_suit_build_text_t *t = &k->text;
        dsuit_cbor_enc_t e;
        sink_t s;

        if (k->id.n_parts < 1 || k->id.n_parts > DSUIT_SUIT_BUILD_MAX_ID_PARTS)
            return DSUIT_E_INVAL;
        for (size_t p = 0; p < k->id.n_parts; p++)
            if (k->id.parts[p].ptr == NULL && k->id.parts[p].len != 0)
                return DSUIT_E_INVAL;
        if (!str_ok(k->uri) || !str_ok(t->vendor_name) ||
            !str_ok(t->model_name) || !str_ok(t->vendor_domain) ||
            !str_ok(t->model_info) || !str_ok(t->description) ||
            !str_ok(t->version))
            return DSUIT_E_INVAL;
        dsuit_cbor_enc_init(&e, c->ids[i], sizeof c->ids[i]);
        sink_init(&s, &e, NULL);
        s_id(&s, &k->id);
        if (e.len > e.cap)
            return DSUIT_E_LIMIT;
        c->id_len[i] = e.len;
        /* Two components with one identifier would make indices and the
         * text map ambiguous. */
        for (size_t j = 0; j < i; j++)
            if (c->id_len[j] == c->id_len[i] &&
                memcmp(c->ids[j], c->ids[i], c->id_len[i]) == 0)
                return DSUIT_E_INVAL;
        if (k->uri != NULL)
            c->emit |= DSUIT_SUIT_BUILD_MEMBER_INSTALL;
        if (has_text(t)) {
            /* Insertion sort by encoded identifier: the text map's keys
             * must be in canonical order. */
            size_t at = c->n_text;
            while (at > 0 && id_before(c, i, c->text_order[at - 1])) {
                c->text_order[at] = c->text_order[at - 1];
                at--;
            }
            c->text_order[at] = (uint8_t)i;
            c->n_text++;
        }
    }
    if (d->sequences & DSUIT_SUIT_BUILD_INSTALL) {
        if (!(c->emit & DSUIT_SUIT_BUILD_MEMBER_INSTALL))
            return DSUIT_E_INVAL; /* install with nothing to fetch */
    } else {
        c->emit &= ~DSUIT_SUIT_BUILD_MEMBER_INSTALL;
    }
    if (d->description != NULL || c->n_text > 0)
        c->emit |= DSUIT_SUIT_BUILD_MEMBER_TEXT;
    c->sev = c->emit & d->severable;
    return DSUIT_OK;
}

/* ---- manifest parts --------------------------------------------------------
 */

static int multi(const ctx_t *c)
{
    return c->d->n_components > 1;
}

/* Number of commands each component's part of a sequence adds, counting
 * the set-component-index that starts it when there are several. */
static size_t part_count(const ctx_t *c, size_t commands)
{
    return 2 * (commands + (multi(c) ? 1 : 0));
}

static void s_select(sink_t *s, const ctx_t *c, size_t i)
{
    if (multi(c)) {
        s_head(s, H_UINT, DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
        s_head(s, H_UINT, i);
    }
}

/* image-digest's value: bstr .cbor SUIT_Digest */
static void s_image_digest(sink_t *s, const uint8_t d[DSUIT_SHA256_LEN])
{
    s_head(s, H_BSTR, DIGEST_ITEM_LEN);
    s_digest(s, d);
}

static void enc_shared(sink_t *s, const ctx_t *c)
{
    size_t n = c->d->n_components;
    s_head(s, H_ARRAY, n * part_count(c, 3));
    for (size_t i = 0; i < n; i++) {
        const dsuit_suit_build_component_t *k = &c->d->components[i];
        s_select(s, c, i);
        s_head(s, H_UINT, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        s_head(s, H_MAP, 4);
        s_head(s, H_UINT, DSUIT_SUIT_PARAM_VENDOR_ID);
        s_bstr(s, k->vendor_id, DSUIT_SUIT_UUID_LEN);
        s_head(s, H_UINT, DSUIT_SUIT_PARAM_CLASS_ID);
        s_bstr(s, k->class_id, DSUIT_SUIT_UUID_LEN);
        s_head(s, H_UINT, DSUIT_SUIT_PARAM_IMAGE_DIGEST);
        s_image_digest(s, k->image_digest);
        s_head(s, H_UINT, DSUIT_SUIT_PARAM_IMAGE_SIZE);
        s_head(s, H_UINT, k->image_size);
        s_head(s, H_UINT, DSUIT_SUIT_COND_VENDOR_ID);
        s_head(s, H_UINT, POLICY_CONDITION);
        s_head(s, H_UINT, DSUIT_SUIT_COND_CLASS_ID);
        s_head(s, H_UINT, POLICY_CONDITION);
    }
}

static void enc_common(sink_t *s, const ctx_t *c)
{
    size_t n = c->d->n_components;
    s_head(s, H_MAP, 2);
    s_head(s, H_UINT, DSUIT_SUIT_COMPONENTS);
    s_head(s, H_ARRAY, n);
    for (size_t i = 0; i < n; i++)
        s_raw(s, c->ids[i], c->id_len[i]);
    s_head(s, H_UINT, DSUIT_SUIT_SHARED_SEQUENCE);
    s_wrapped(s, enc_shared, c);
}

static void enc_validate(sink_t *s, const ctx_t *c)
{
    size_t n = c->d->n_components;
    s_head(s, H_ARRAY, n * part_count(c, 1));
    for (size_t i = 0; i < n; i++) {
        s_select(s, c, i);
        s_head(s, H_UINT, DSUIT_SUIT_COND_IMAGE_MATCH);
        s_head(s, H_UINT, POLICY_CONDITION);
    }
}

static void enc_install(sink_t *s, const ctx_t *c)
{
    size_t n = c->d->n_components, with_uri = 0;
    for (size_t i = 0; i < n; i++)
        with_uri += c->d->components[i].uri != NULL;
    s_head(s, H_ARRAY, with_uri * part_count(c, 3));
    for (size_t i = 0; i < n; i++) {
        const dsuit_suit_build_component_t *k = &c->d->components[i];
        if (k->uri == NULL)
            continue;
        s_select(s, c, i);
        s_head(s, H_UINT, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        s_head(s, H_MAP, 1);
        s_head(s, H_UINT, DSUIT_SUIT_PARAM_URI);
        s_tstr(s, k->uri);
        s_head(s, H_UINT, DSUIT_SUIT_DIR_FETCH);
        s_head(s, H_UINT, POLICY_DIRECTIVE);
        s_head(s, H_UINT, DSUIT_SUIT_COND_IMAGE_MATCH);
        s_head(s, H_UINT, POLICY_CONDITION);
    }
}

static void enc_invoke(sink_t *s, const ctx_t *c)
{
    s_head(s, H_ARRAY, part_count(c, 1));
    s_select(s, c, c->d->invoke_component);
    s_head(s, H_UINT, DSUIT_SUIT_DIR_INVOKE);
    s_head(s, H_UINT, POLICY_DIRECTIVE);
}

static void s_text_entry(sink_t *s, unsigned label, const char *z)
{
    if (z == NULL)
        return;
    s_head(s, H_UINT, label);
    s_tstr(s, z);
}

/* SUIT_Text_Map {lang: {1: description, id: {label: text}}}. Integer keys
 * encode below arrays, so the description comes first; identifiers follow
 * in the order prepare() sorted them. */
static void enc_text(sink_t *s, const ctx_t *c)
{
    const dsuit_suit_build_desc_t *d = c->d;
    s_head(s, H_MAP, 1);
    s_tstr(s, d->text_lang != NULL ? d->text_lang : "en");
    s_head(s, H_MAP, (d->description != NULL) + c->n_text);
    s_text_entry(s, TEXT_MANIFEST_DESCRIPTION, d->description);
    for (size_t o = 0; o < c->n_text; o++) {
        size_t i = c->text_order[o];
        const dsuit_suit_build_text_t *t = &d->components[i].text;
        s_raw(s, c->ids[i], c->id_len[i]);
        s_head(s, H_MAP,
               (size_t)(!!t->vendor_name + !!t->model_name +
                        !!t->vendor_domain + !!t->model_info +
                        !!t->description + !!t->version));
        s_text_entry(s, TEXT_VENDOR_NAME, t->vendor_name);
        s_text_entry(s, TEXT_MODEL_NAME, t->model_name);
        s_text_entry(s, TEXT_VENDOR_DOMAIN, t->vendor_domain);
        s_text_entry(s, TEXT_MODEL_INFO, t->model_info);
        s_text_entry(s, TEXT_COMPONENT_DESCR, t->description);
        s_text_entry(s, TEXT_COMPONENT_VERSION, t->version);
    }
}

/* A severable member: its SUIT_Digest when severable, else inline. */
static void s_member(sink_t *s, const ctx_t *c, int idx, enc_fn fn)
{
    if (c->sev & (1u << idx))
        s_digest(s, c->member_digest[idx]);
    else
        s_wrapped(s, fn, c);
}

/* SUIT_Manifest: keys 1, 2, 3, 4, 7, 9, 20, 23 in that (canonical) order. */
static void enc_manifest(sink_t *s, const ctx_t *c)
{
    const dsuit_suit_build_desc_t *d = c->d;
    size_t n = 3 + (d->reference_uri != NULL) +
               !!(d->sequences & DSUIT_SUIT_BUILD_VALIDATE) +
               !!(d->sequences & DSUIT_SUIT_BUILD_INVOKE) +
               !!(c->emit & DSUIT_SUIT_BUILD_MEMBER_INSTALL) +
               !!(c->emit & DSUIT_SUIT_BUILD_MEMBER_TEXT);
    s_head(s, H_MAP, n);
    s_head(s, H_UINT, DSUIT_SUIT_VERSION);
    s_head(s, H_UINT, 1);
    s_head(s, H_UINT, DSUIT_SUIT_SEQ_NUMBER);
    s_head(s, H_UINT, d->seq);
    s_head(s, H_UINT, DSUIT_SUIT_COMMON);
    s_wrapped(s, enc_common, c);
    if (d->reference_uri != NULL) {
        s_head(s, H_UINT, DSUIT_SUIT_REFERENCE_URI);
        s_tstr(s, d->reference_uri);
    }
    if (d->sequences & DSUIT_SUIT_BUILD_VALIDATE) {
        s_head(s, H_UINT, DSUIT_SUIT_VALIDATE);
        s_wrapped(s, enc_validate, c);
    }
    if (d->sequences & DSUIT_SUIT_BUILD_INVOKE) {
        s_head(s, H_UINT, DSUIT_SUIT_INVOKE);
        s_wrapped(s, enc_invoke, c);
    }
    if (c->emit & DSUIT_SUIT_BUILD_MEMBER_INSTALL) {
        s_head(s, H_UINT, DSUIT_SUIT_INSTALL);
        s_member(s, c, DSUIT_SUIT_SEV_INSTALL, enc_install);
    }
    if (c->emit & DSUIT_SUIT_BUILD_MEMBER_TEXT) {
        s_head(s, H_UINT, DSUIT_SUIT_TEXT);
        s_member(s, c, DSUIT_SUIT_SEV_TEXT, enc_text);
    }
}

/* SHA-256 of fn's output, bstr-wrapped if wrap. */
static int hash_of(const ctx_t *c, enc_fn fn, int wrap,
                   uint8_t out[DSUIT_SHA256_LEN])
{
    dsuit_sha256_ctx_t h;
    sink_t s;
    int rc = dsuit_sha256_init(&h);
    if (rc != DSUIT_OK)
        return rc;
    sink_init(&s, NULL, &h);
    if (wrap)
        s_wrapped(&s, fn, c);
    else
        fn(&s, c);
    if (s.err != DSUIT_OK)
        return s.err;
    return dsuit_sha256_final(&h, out);
}

/* Prepare and compute the severable members' digests. */
static int prepare_all(ctx_t *c, const dsuit_suit_build_desc_t *d)
{
    int rc = prepare(c, d);
    if (rc == DSUIT_OK && (c->sev & DSUIT_SUIT_BUILD_MEMBER_INSTALL))
        rc = hash_of(c, enc_install, 1,
                     c->member_digest[DSUIT_SUIT_SEV_INSTALL]);
    if (rc == DSUIT_OK && (c->sev & DSUIT_SUIT_BUILD_MEMBER_TEXT))
        rc = hash_of(c, enc_text, 1, c->member_digest[DSUIT_SUIT_SEV_TEXT]);
    return rc;
}

void dsuit_suit_build_desc_init(dsuit_suit_build_desc_t *desc)
{
    memset(desc, 0, sizeof *desc);
    desc->sequences = DSUIT_SUIT_BUILD_VALIDATE;
}

int dsuit_suit_build_manifest(const dsuit_suit_build_desc_t *desc, uint8_t *out,
                              size_t out_cap, size_t *out_len)
{
    ctx_t c;
    dsuit_cbor_enc_t e;
    sink_t s;
    size_t len;
    int rc;

    if (out_len == NULL || (out == NULL && out_cap != 0))
        return DSUIT_E_INVAL;
    rc = prepare_all(&c, desc);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_enc_init(&e, out, out_cap);
    sink_init(&s, &e, NULL);
    enc_manifest(&s, &c);
    rc = dsuit_cbor_enc_finish(&e, &len);
    *out_len = len;
    return rc;
}

/* ---- envelope --------------------------------------------------------------
 */

/* The authentication wrapper's parts, from the digest to the signers. */
typedef struct {
    uint8_t digest_item[DIGEST_ITEM_LEN];
    const dsuit_suit_build_signer_t *signers;
    size_t n_signers;
    size_t block_len[DSUIT_SUIT_MAX_AUTH];
    uint8_t scratch[DSUIT_SUIT_AUTH_SCRATCH];
} auth_t;

static void signer_opts(const dsuit_suit_build_signer_t *sg,
                        dsuit_cose_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->kind = DSUIT_COSE_SIGN1;
    o->alg = sg->alg;
    if (o->alg == 0)
        o->alg = sg->key->type == DSUIT_KEY_ED25519 ? DSUIT_COSE_ALG_EDDSA
                                                    : DSUIT_COSE_ALG_ES256;
    o->tagged = 1;
    o->detached = 1;
    o->kid = sg->kid;
    o->kid_len = sg->kid_len;
}

/* Size of one signer's COSE_Sign1, by asking for it with no room. */
static int measure_block(auth_t *a, const dsuit_suit_build_signer_t *sg,
                         size_t *out_len)
{
    dsuit_cose_opts_t o;
    size_t n = 0;
    int rc;
    if (sg->key == NULL || (sg->kid == NULL && sg->kid_len != 0))
        return DSUIT_E_INVAL;
    signer_opts(sg, &o);
    rc = dsuit_cose_create(&o, sg->key, a->digest_item, sizeof a->digest_item,
                           NULL, 0, a->scratch, sizeof a->scratch, NULL, 0, &n);
    if (rc != DSUIT_E_LIMIT)
        return rc == DSUIT_OK ? DSUIT_E_INVAL : rc;
    *out_len = n;
    return DSUIT_OK;
}

/* Sign into the encoder at its current position. Only called once the
 * whole output is known to fit. */
static int sign_into(auth_t *a, const dsuit_suit_build_signer_t *sg,
                     dsuit_cbor_enc_t *e, size_t want)
{
    dsuit_cose_opts_t o;
    size_t n = 0;
    int rc;
    if (e->len > e->cap || e->cap - e->len < want)
        return DSUIT_E_LIMIT;
    signer_opts(sg, &o);
    rc = dsuit_cose_create(&o, sg->key, a->digest_item, sizeof a->digest_item,
                           NULL, 0, a->scratch, sizeof a->scratch,
                           e->buf + e->len, want, &n);
    if (rc != DSUIT_OK)
        return rc;
    if (n != want)
        return DSUIT_E_INVAL; /* the block changed size between passes */
    e->len += n;
    return DSUIT_OK;
}

/* Measure (e == NULL: count into *out_len) or write the envelope. */
static int assemble(const ctx_t *c, auth_t *a, dsuit_cbor_enc_t *e,
                    size_t *out_len)
{
    sink_t s;
    size_t auth_len, n_entries;
    int rc;

    auth_len = head_len(1 + a->n_signers) + head_len(DIGEST_ITEM_LEN) +
               DIGEST_ITEM_LEN;
    for (size_t i = 0; i < a->n_signers; i++)
        auth_len += head_len(a->block_len[i]) + a->block_len[i];
    n_entries = 2 + !!(c->sev & DSUIT_SUIT_BUILD_MEMBER_INSTALL) +
                !!(c->sev & DSUIT_SUIT_BUILD_MEMBER_TEXT);

    sink_init(&s, e, NULL);
    s_head(&s, H_TAG, DSUIT_SUIT_TAG_ENVELOPE);
    s_head(&s, H_MAP, n_entries);
    s_head(&s, H_UINT, DSUIT_SUIT_AUTH_WRAPPER);
    s_head(&s, H_BSTR, auth_len);
    s_head(&s, H_ARRAY, 1 + a->n_signers);
    s_bstr(&s, a->digest_item, DIGEST_ITEM_LEN);
    for (size_t i = 0; i < a->n_signers; i++) {
        s_head(&s, H_BSTR, a->block_len[i]);
        if (e != NULL) {
            rc = sign_into(a, &a->signers[i], e, a->block_len[i]);
            if (rc != DSUIT_OK)
                return rc;
        }
        s.len += a->block_len[i];
    }
    s_head(&s, H_UINT, DSUIT_SUIT_MANIFEST);
    s_wrapped(&s, enc_manifest, c);
    if (c->sev & DSUIT_SUIT_BUILD_MEMBER_INSTALL) {
        s_head(&s, H_UINT, DSUIT_SUIT_INSTALL);
        s_wrapped(&s, enc_install, c);
    }
    if (c->sev & DSUIT_SUIT_BUILD_MEMBER_TEXT) {
        s_head(&s, H_UINT, DSUIT_SUIT_TEXT);
        s_wrapped(&s, enc_text, c);
    }
    *out_len = s.len;
    return DSUIT_OK;
}

static int build(const dsuit_suit_build_desc_t *desc,
                 const dsuit_suit_build_signer_t *signers, size_t n_signers,
                 uint8_t *out, size_t out_cap, size_t *out_len)
{
    ctx_t c;
    auth_t a;
    dsuit_cbor_enc_t e, de;
    uint8_t digest[DSUIT_SHA256_LEN];
    size_t total = 0, written = 0;
    int rc;

    if (out_len == NULL || (out == NULL && out_cap != 0) ||
        n_signers > DSUIT_SUIT_MAX_AUTH || (signers == NULL && n_signers))
        return DSUIT_E_INVAL;
    rc = prepare_all(&c, desc);
    if (rc != DSUIT_OK)
        return rc;

    /* §8.3: the SUIT_Digest covers the bstr-wrapped manifest. */
    rc = hash_of(&c, enc_manifest, 1, digest);
    if (rc != DSUIT_OK)
        return rc;
    dsuit_cbor_enc_init(&de, a.digest_item, sizeof a.digest_item);
    {
        sink_t ds;
        sink_init(&ds, &de, NULL);
        s_digest(&ds, digest);
    }
    a.signers = signers;
    a.n_signers = n_signers;
    for (size_t i = 0; i < n_signers; i++) {
        rc = measure_block(&a, &signers[i], &a.block_len[i]);
        if (rc != DSUIT_OK)
            goto out;
    }
    rc = assemble(&c, &a, NULL, &total);
    if (rc != DSUIT_OK)
        goto out;
    if (total > out_cap) {
        *out_len = total;
        rc = DSUIT_E_LIMIT;
        goto out;
    }
    dsuit_cbor_enc_init(&e, out, out_cap);
    rc = assemble(&c, &a, &e, &written);
    if (rc == DSUIT_OK)
        rc = dsuit_cbor_enc_finish(&e, &written);
    if (rc == DSUIT_OK && written != total)
        rc = DSUIT_E_INVAL;
    if (rc == DSUIT_OK)
        *out_len = written;
out:
    dsuit_wipe(a.scratch, sizeof a.scratch);
    return rc;
}

int dsuit_suit_build_envelope(const dsuit_suit_build_desc_t *desc,
                              const dsuit_suit_build_signer_t *signers,
                              size_t n_signers, uint8_t *out, size_t out_cap,
                              size_t *out_len)
{
    /* An envelope without a signature is built only on purpose. */
    if (n_signers == 0)
        return DSUIT_E_INVAL;
    return build(desc, signers, n_signers, out, out_cap, out_len);
}

int dsuit_suit_build_unsigned(const dsuit_suit_build_desc_t *desc, uint8_t *out,
                              size_t out_cap, size_t *out_len)
{
    return build(desc, NULL, 0, out, out_cap, out_len);
}

/* ---- existing envelopes: sign and sever ------------------------------------
 */

#define KEY_TEXT INT64_MIN /* an integrated payload's text key */

/*
 * An envelope as a list of entries (each the encoded key and value). Points
 * into the input. Invariants after parse_envelope(): auth < n and man < n,
 * auth comes before man, every value is a byte string.
 */
typedef struct {
    int tagged;
    size_t n;
    dsuit_bytes_t entry[DSUIT_SUIT_BUILD_MAX_ENTRIES]; /* key and value */
    int64_t key[DSUIT_SUIT_BUILD_MAX_ENTRIES];
    size_t auth, man;
    dsuit_bytes_t auth_body;   /* the wrapper's bstr content */
    dsuit_bytes_t man_wrapped; /* the manifest bstr, head included */
    dsuit_bytes_t man_body;
    dsuit_bytes_t digest_item; /* the wrapper's first bstr, head included */
    dsuit_bytes_t digest_body;
    dsuit_bytes_t blocks; /* the blocks that follow, heads included */
    size_t n_blocks;
} penv_t;

static int parse_auth(penv_t *p)
{
    dsuit_cbor_dec_t d;
    size_t count, start;
    int rc;

    dsuit_cbor_dec_init(&d, p->auth_body.ptr, p->auth_body.len,
                        DSUIT_CBOR_STRICT);
    rc = dsuit_cbor_get_array(&d, &count);
    if (rc != DSUIT_OK || count < 1)
        return DSUIT_E_SUIT_MALFORMED;
    start = d.pos;
    rc = dsuit_cbor_get_bstr(&d, &p->digest_body.ptr, &p->digest_body.len);
    if (rc != DSUIT_OK)
        return DSUIT_E_SUIT_MALFORMED;
    p->digest_item.ptr = d.buf + start;
    p->digest_item.len = d.pos - start;
    start = d.pos;
    for (size_t i = 1; i < count; i++) {
        const uint8_t *b;
        size_t bl;
        if (dsuit_cbor_get_bstr(&d, &b, &bl) != DSUIT_OK)
            return DSUIT_E_SUIT_MALFORMED;
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_CBOR_TRAILING;
    p->blocks.ptr = d.buf + start;
    p->blocks.len = d.pos - start;
    p->n_blocks = count - 1;
    return DSUIT_OK;
}

static int parse_envelope(const uint8_t *buf, size_t len, penv_t *p)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int found = 0, have_auth = 0, have_man = 0, rc;

    if (buf == NULL)
        return DSUIT_E_INVAL;
    memset(p, 0, sizeof *p);
    dsuit_cbor_dec_init(&d, buf, len, DSUIT_CBOR_STRICT | DSUIT_CBOR_NODUPS);
    rc = dsuit_cbor_accept_tag(&d, DSUIT_SUIT_TAG_ENVELOPE, &found);
    if (rc != DSUIT_OK)
        return rc;
    p->tagged = found;
    rc = dsuit_cbor_get_map(&d, &count);
    if (rc != DSUIT_OK)
        return rc == DSUIT_E_CBOR_TYPE ? DSUIT_E_SUIT_MALFORMED : rc;
    if (count > DSUIT_SUIT_BUILD_MAX_ENTRIES)
        return DSUIT_E_LIMIT;
    for (size_t i = 0; i < count; i++) {
        dsuit_cbor_item_t it;
        size_t start = d.pos, vstart;
        dsuit_bytes_t val;
        int64_t k;

        rc = dsuit_cbor_peek(&d, &it);
        if (rc != DSUIT_OK)
            return rc;
        if (it.major == DSUIT_CBOR_TSTR) {
            const char *t;
            size_t tl;
            rc = dsuit_cbor_get_tstr(&d, &t, &tl);
            k = KEY_TEXT;
        } else {
            rc = dsuit_cbor_get_int(&d, &k);
            if (rc == DSUIT_OK && k == KEY_TEXT)
                rc = DSUIT_E_SUIT_MALFORMED;
        }
        if (rc != DSUIT_OK)
            return DSUIT_E_SUIT_MALFORMED;
        vstart = d.pos;
        /* Every envelope element is a byte string (§8.2). */
        if (dsuit_cbor_get_bstr(&d, &val.ptr, &val.len) != DSUIT_OK)
            return DSUIT_E_SUIT_MALFORMED;
        p->entry[i].ptr = buf + start;
        p->entry[i].len = d.pos - start;
        p->key[i] = k;
        if (k == DSUIT_SUIT_AUTH_WRAPPER) {
            p->auth = i;
            p->auth_body = val;
            have_auth = 1;
        } else if (k == DSUIT_SUIT_MANIFEST) {
            if (!have_auth)
                return DSUIT_E_SUIT_MALFORMED; /* §8.3: wrapper first */
            p->man = i;
            p->man_body = val;
            p->man_wrapped.ptr = buf + vstart;
            p->man_wrapped.len = d.pos - vstart;
            have_man = 1;
        }
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_CBOR_TRAILING;
    if (!have_auth || !have_man)
        return DSUIT_E_SUIT_MALFORMED;
    p->n = count;
    return parse_auth(p);
}

/* A block with this signer's algorithm that already verifies under its
 * key: a second one would add nothing (§8.3 wants a different algorithm
 * or authority per block). */
static int already_signed(const penv_t *p, const dsuit_cose_opts_t *o,
                          const dsuit_key_t *key, uint8_t *scratch,
                          size_t scratch_cap)
{
    dsuit_cbor_dec_t d;
    dsuit_cbor_dec_init(&d, p->blocks.ptr, p->blocks.len, 0);
    for (size_t i = 0; i < p->n_blocks; i++) {
        dsuit_cose_msg_t msg;
        const uint8_t *b;
        size_t bl;
        if (dsuit_cbor_get_bstr(&d, &b, &bl) != DSUIT_OK)
            return 0;
        if (dsuit_cose_parse(b, bl, DSUIT_COSE_ANY, &msg) != DSUIT_OK ||
            msg.alg != o->alg || msg.payload != NULL)
            continue;
        if (dsuit_cose_verify(&msg, key, p->digest_body.ptr, p->digest_body.len,
                              NULL, 0, scratch, scratch_cap) == DSUIT_OK)
            return 1;
    }
    return 0;
}

int dsuit_suit_build_sign(const uint8_t *env, size_t env_len,
                          const dsuit_suit_build_signer_t *signer, uint8_t *out,
                          size_t out_cap, size_t *out_len)
{
    penv_t p;
    auth_t a;
    dsuit_cose_opts_t o;
    int64_t alg;
    dsuit_bytes_t want;
    size_t block_len = 0, auth_len, total;
    dsuit_cbor_enc_t e;
    sink_t s;
    int rc;

    if (signer == NULL || signer->key == NULL || out_len == NULL ||
        (out == NULL && out_cap != 0))
        return DSUIT_E_INVAL;
    rc = parse_envelope(env, env_len, &p);
    if (rc != DSUIT_OK)
        return rc;
    if (p.n_blocks >= DSUIT_SUIT_MAX_AUTH)
        return DSUIT_E_LIMIT;
    /* §8.3: verify the SUIT_Digest before signing it, so that a signer is
     * never tricked into vouching for a manifest it did not see. */
    rc = dsuit__suit_digest_decode(p.digest_body.ptr, p.digest_body.len, &alg,
                                   &want);
    if (rc != DSUIT_OK)
        return DSUIT_E_SUIT_MALFORMED;
    rc = dsuit__suit_digest_match(alg, want, p.man_wrapped.ptr,
                                  p.man_wrapped.len);
    if (rc != DSUIT_OK)
        return rc;
    if (p.digest_body.len != DIGEST_ITEM_LEN)
        return DSUIT_E_SUIT_MALFORMED; /* extensions we would not sign */
    memcpy(a.digest_item, p.digest_body.ptr, DIGEST_ITEM_LEN);
    a.signers = signer;
    a.n_signers = 1;

    rc = measure_block(&a, signer, &block_len);
    if (rc != DSUIT_OK)
        goto out;
    signer_opts(signer, &o);
    if (already_signed(&p, &o, signer->key, a.scratch, sizeof a.scratch)) {
        rc = DSUIT_E_EXISTS;
        goto out;
    }

    auth_len = head_len(p.n_blocks + 2) + p.digest_item.len + p.blocks.len +
               head_len(block_len) + block_len;
    total = (p.tagged ? head_len(DSUIT_SUIT_TAG_ENVELOPE) : 0) + head_len(p.n);
    for (size_t i = 0; i < p.n; i++)
        total +=
            i == p.auth ? 1 + head_len(auth_len) + auth_len : p.entry[i].len;
    if (total > out_cap) {
        *out_len = total;
        rc = DSUIT_E_LIMIT;
        goto out;
    }

    dsuit_cbor_enc_init(&e, out, out_cap);
    sink_init(&s, &e, NULL);
    if (p.tagged)
        s_head(&s, H_TAG, DSUIT_SUIT_TAG_ENVELOPE);
    s_head(&s, H_MAP, p.n);
    for (size_t i = 0; i < p.n; i++) {
        if (i != p.auth) {
            s_raw(&s, p.entry[i].ptr, p.entry[i].len);
            continue;
        }
        s_head(&s, H_UINT, DSUIT_SUIT_AUTH_WRAPPER);
        s_head(&s, H_BSTR, auth_len);
        s_head(&s, H_ARRAY, p.n_blocks + 2);
        s_raw(&s, p.digest_item.ptr, p.digest_item.len);
        s_raw(&s, p.blocks.ptr, p.blocks.len);
        s_head(&s, H_BSTR, block_len);
        rc = sign_into(&a, signer, &e, block_len);
        if (rc != DSUIT_OK)
            goto out;
        s.len += block_len;
    }
    rc = dsuit_cbor_enc_finish(&e, &total);
    if (rc == DSUIT_OK)
        *out_len = total;
out:
    dsuit_wipe(a.scratch, sizeof a.scratch);
    return rc;
}

static int sev_bit(int64_t key)
{
    switch (key) {
    case DSUIT_SUIT_PAYLOAD_FETCH:
        return DSUIT_SUIT_SEV_PAYLOAD_FETCH;
    case DSUIT_SUIT_INSTALL:
        return DSUIT_SUIT_SEV_INSTALL;
    case DSUIT_SUIT_TEXT:
        return DSUIT_SUIT_SEV_TEXT;
    default:
        return -1;
    }
}

/* The members the manifest holds a SUIT_Digest for, as bits. */
static int severable_in_manifest(const penv_t *p, unsigned *out)
{
    dsuit_cbor_dec_t d;
    size_t count;
    unsigned bits = 0;
    int rc;

    dsuit_cbor_dec_init(&d, p->man_body.ptr, p->man_body.len,
                        DSUIT_CBOR_STRICT | DSUIT_CBOR_NODUPS);
    rc = dsuit_cbor_get_map(&d, &count);
    if (rc != DSUIT_OK)
        return rc == DSUIT_E_CBOR_TYPE ? DSUIT_E_SUIT_MALFORMED : rc;
    for (size_t i = 0; i < count; i++) {
        dsuit_cbor_item_t it;
        int64_t k;
        if (dsuit_cbor_get_int(&d, &k) != DSUIT_OK)
            return DSUIT_E_SUIT_MALFORMED;
        rc = dsuit_cbor_peek(&d, &it);
        if (rc != DSUIT_OK)
            return rc;
        if (sev_bit(k) >= 0 && it.major == DSUIT_CBOR_ARRAY)
            bits |= 1u << sev_bit(k);
        rc = dsuit_cbor_skip(&d, NULL, NULL);
        if (rc != DSUIT_OK)
            return rc;
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return DSUIT_E_CBOR_TRAILING;
    *out = bits;
    return DSUIT_OK;
}

int dsuit_suit_build_sever(const uint8_t *env, size_t env_len, unsigned members,
                           uint8_t *out, size_t out_cap, size_t *out_len)
{
    const unsigned known = DSUIT_SUIT_BUILD_MEMBER_PAYLOAD_FETCH |
                           DSUIT_SUIT_BUILD_MEMBER_INSTALL |
                           DSUIT_SUIT_BUILD_MEMBER_TEXT;
    penv_t p;
    unsigned have = 0, drop;
    size_t kept = 0, total;
    dsuit_cbor_enc_t e;
    sink_t s;
    int rc;

    if (out_len == NULL || (out == NULL && out_cap != 0) ||
        (members & ~(known | DSUIT_SUIT_BUILD_ALL_SEVERABLE)))
        return DSUIT_E_INVAL;
    rc = parse_envelope(env, env_len, &p);
    if (rc != DSUIT_OK)
        return rc;
    rc = severable_in_manifest(&p, &have);
    if (rc != DSUIT_OK)
        return rc;
    if (members & DSUIT_SUIT_BUILD_ALL_SEVERABLE)
        drop = have;
    else if ((members & have) != members)
        /* Removing an inline member, or one without a digest, would
         * change what the signature covers or drop data unauthenticated. */
        return DSUIT_E_NOTFOUND;
    else
        drop = members;

    total = p.tagged ? head_len(DSUIT_SUIT_TAG_ENVELOPE) : 0;
    for (size_t i = 0; i < p.n; i++) {
        int b = p.key[i] == KEY_TEXT ? -1 : sev_bit(p.key[i]);
        if (b >= 0 && (drop & (1u << b)))
            continue;
        kept++;
        total += p.entry[i].len;
    }
    total += head_len(kept);
    if (total > out_cap) {
        *out_len = total;
        return DSUIT_E_LIMIT;
    }
    dsuit_cbor_enc_init(&e, out, out_cap);
    sink_init(&s, &e, NULL);
    if (p.tagged)
        s_head(&s, H_TAG, DSUIT_SUIT_TAG_ENVELOPE);
    s_head(&s, H_MAP, kept);
    for (size_t i = 0; i < p.n; i++) {
        int b = p.key[i] == KEY_TEXT ? -1 : sev_bit(p.key[i]);
        if (b >= 0 && (drop & (1u << b)))
            continue;
        s_raw(&s, p.entry[i].ptr, p.entry[i].len);
    }
    rc = dsuit_cbor_enc_finish(&e, &total);
    if (rc == DSUIT_OK)
        *out_len = total;
    return rc;
}
