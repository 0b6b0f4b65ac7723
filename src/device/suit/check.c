/*
 * SUIT check pass: a dry run over an authenticated, decoded manifest that
 * executes nothing, so that a manifest a device cannot or must not process
 * is refused before any directive touches a component
 * (draft-ietf-suit-manifest-37 §6.1 setup, §6.2 required checks, §8.4.8
 * command sequences, §8.4.8.15 soft failure, §8.4.10.2 try-each).
 *
 * Rules, each with its own reason:
 *   setup      version 1 (decode), no trust-domains dependencies, sequence
 *              number above the installed one, component count within
 *              what the device has
 *   shared     only conditions, set-component-index, override-parameters,
 *              try-each and run-sequence; no custom commands; at least one
 *              vendor-identifier and one class-identifier condition; and
 *              those conditions, run dry, pass for the device profile
 *   every      known command and parameter codes with arguments of the
 *   sequence   right type, component indices in range, try-each with at
 *              least two sequences (nil only last), nesting within
 *              DSUIT_MAX_NESTING, soft-failure set only inside try-each or
 *              run-sequence, and with several components, a first command
 *              that sets the component index
 *
 * The walk recurses into try-each and run-sequence, at most
 * DSUIT_MAX_NESTING deep; each level holds a decoder and a few locals
 * (about 150 bytes on x86-64). The dry run of the shared sequence adds a
 * parameter table on the stack (sizeof(dsuit_suit_params_t) *
 * DSUIT_MAX_COMPONENTS, about 1.6 KiB with the defaults) and the
 * interpreter's own recursion (see process.c).
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/suit.h"
#include "suit_int.h"

typedef struct {
    const dsuit_suit_envelope_t *env;
    dsuit_suit_error_t *err;
    int64_t section;
    int shared;
    int saw_vendor, saw_class;
} walk_t;

static int bad(walk_t *w, int rc, const char *reason, size_t off,
               int64_t command)
{
    if (w->err != NULL) {
        w->err->stage =
            w->shared ? DSUIT_SUIT_STAGE_SHARED : DSUIT_SUIT_STAGE_COMMAND;
        w->err->reason = reason;
        w->err->section = w->section;
        w->err->offset = off;
        w->err->command = command;
    }
    return rc;
}

static int walk_seq(walk_t *w, const uint8_t *seq, size_t len, unsigned depth,
                    int soft_ok, int top);

static int check_uuid(dsuit_cbor_dec_t *d)
{
    const uint8_t *p;
    size_t n;
    if (dsuit_cbor_get_bstr(d, &p, &n) != DSUIT_OK || n != 16)
        return DSUIT_E_SUIT_MALFORMED;
    return DSUIT_OK;
}

static int check_param(walk_t *w, dsuit_cbor_dec_t *d, int64_t key,
                       int soft_ok, size_t off)
{
    const uint8_t *p;
    size_t n;
    uint64_t u;
    int b, rc;
    dsuit_cbor_item_t it;

    switch (key) {
    case DSUIT_SUIT_PARAM_VENDOR_ID:
        rc = dsuit_cbor_peek(d, &it);
        if (rc == DSUIT_OK && it.major == DSUIT_CBOR_TAG)
            return bad(w, DSUIT_E_SUIT_UNSUPPORTED,
                       "vendor-id as a private enterprise number is not "
                       "supported",
                       off, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        /* fall through */
    case DSUIT_SUIT_PARAM_CLASS_ID:
    case DSUIT_SUIT_PARAM_DEVICE_ID:
        if (check_uuid(d) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "identifier parameter is not a 16-byte UUID", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        return DSUIT_OK;
    case DSUIT_SUIT_PARAM_IMAGE_DIGEST: {
        int64_t alg;
        dsuit_bytes_t bytes;
        if (dsuit_cbor_get_bstr(d, &p, &n) != DSUIT_OK ||
            dsuit__suit_digest_decode(p, n, &alg, &bytes) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "image-digest is not a wrapped SUIT_Digest", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        if (alg != DSUIT_SUIT_DIGEST_SHA256 || bytes.len != DSUIT_SHA256_LEN)
            return bad(w, DSUIT_E_SUIT_UNSUPPORTED,
                       "image-digest algorithm is not SHA-256", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        return DSUIT_OK;
    }
    case DSUIT_SUIT_PARAM_COMPONENT_SLOT:
    case DSUIT_SUIT_PARAM_IMAGE_SIZE:
        if (dsuit_cbor_get_uint(d, &u) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "parameter is not an unsigned integer", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        return DSUIT_OK;
    case DSUIT_SUIT_PARAM_SOURCE_COMPONENT:
        if (dsuit_cbor_get_uint(d, &u) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "source-component is not an unsigned integer", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        if (u >= w->env->n_components)
            return bad(w, DSUIT_E_SUIT_COMPONENT,
                       "source-component out of range", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        return DSUIT_OK;
    case DSUIT_SUIT_PARAM_SOFT_FAILURE:
        /* §8.4.8.15: setting soft-failure elsewhere is an Abort. */
        if (!soft_ok)
            return bad(w, DSUIT_E_SUIT_RULE,
                       "soft-failure set outside try-each or run-sequence",
                       off, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        /* fall through */
    case DSUIT_SUIT_PARAM_STRICT_ORDER:
        if (dsuit_cbor_get_bool(d, &b) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED, "parameter is not a boolean",
                       off, DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        return DSUIT_OK;
    case DSUIT_SUIT_PARAM_CONTENT:
    case DSUIT_SUIT_PARAM_INVOKE_ARGS:
    case DSUIT_SUIT_PARAM_FETCH_ARGUMENTS:
        if (dsuit_cbor_get_bstr(d, &p, &n) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "parameter is not a byte string", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        return DSUIT_OK;
    case DSUIT_SUIT_PARAM_URI: {
        const char *s;
        if (dsuit_cbor_get_tstr(d, &s, &n) != DSUIT_OK ||
            !dsuit_cbor_utf8_valid((const uint8_t *)s, n))
            return bad(w, DSUIT_E_SUIT_MALFORMED, "uri is not UTF-8 text", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        return DSUIT_OK;
    }
    default:
        if (key < 0 && w->shared)
            return bad(w, DSUIT_E_SUIT_RULE,
                       "custom parameter in the shared sequence", off,
                       DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
        return bad(w, DSUIT_E_SUIT_UNSUPPORTED, "unknown parameter", off,
                   DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS);
    }
}

static int check_index(walk_t *w, dsuit_cbor_dec_t *d, size_t off)
{
    dsuit_cbor_item_t it;
    uint64_t i;
    size_t n;
    int b;

    if (dsuit_cbor_peek(d, &it) != DSUIT_OK)
        return bad(w, DSUIT_E_SUIT_MALFORMED, "command has no argument", off,
                   DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
    if (it.major == DSUIT_CBOR_UINT) {
        dsuit_cbor_get_uint(d, &i);
        if (i >= w->env->n_components)
            return bad(w, DSUIT_E_SUIT_COMPONENT, "component index out of range",
                       off, DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
        return DSUIT_OK;
    }
    if (it.major == DSUIT_CBOR_SIMPLE) {
        if (dsuit_cbor_get_bool(d, &b) != DSUIT_OK || !b)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "component index is neither integer, true nor array",
                       off, DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
        return DSUIT_OK;
    }
    if (dsuit_cbor_get_array(d, &n) != DSUIT_OK || n == 0)
        return bad(w, DSUIT_E_SUIT_MALFORMED,
                   "component index is neither integer, true nor array", off,
                   DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
    if (n > DSUIT_MAX_COMPONENTS)
        return bad(w, DSUIT_E_SUIT_COMPONENT, "component index list too long",
                   off, DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
    for (size_t k = 0; k < n; k++) {
        if (dsuit_cbor_get_uint(d, &i) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "component index list holds a non-integer", off,
                       DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
        if (i >= w->env->n_components)
            return bad(w, DSUIT_E_SUIT_COMPONENT, "component index out of range",
                       off, DSUIT_SUIT_DIR_SET_COMPONENT_INDEX);
    }
    return DSUIT_OK;
}

static int check_try_each(walk_t *w, dsuit_cbor_dec_t *d, size_t off,
                          unsigned depth)
{
    size_t n, seqs = 0;
    if (dsuit_cbor_get_array(d, &n) != DSUIT_OK)
        return bad(w, DSUIT_E_SUIT_MALFORMED, "try-each argument is not an array",
                   off, DSUIT_SUIT_DIR_TRY_EACH);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *seq;
        size_t len;
        if (dsuit_cbor_get_null(d) == DSUIT_OK) {
            if (i != n - 1)
                return bad(w, DSUIT_E_SUIT_MALFORMED,
                           "nil is allowed only last in try-each", off,
                           DSUIT_SUIT_DIR_TRY_EACH);
            continue;
        }
        if (dsuit_cbor_get_bstr(d, &seq, &len) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "try-each holds something other than a sequence", off,
                       DSUIT_SUIT_DIR_TRY_EACH);
        int rc = walk_seq(w, seq, len, depth + 1, 1, 0);
        if (rc != DSUIT_OK)
            return rc;
        seqs++;
    }
    if (seqs < 2)
        return bad(w, DSUIT_E_SUIT_RULE, "try-each needs at least two sequences",
                   off, DSUIT_SUIT_DIR_TRY_EACH);
    return DSUIT_OK;
}

static int walk_seq(walk_t *w, const uint8_t *seq, size_t len, unsigned depth,
                    int soft_ok, int top)
{
    dsuit_cbor_dec_t d;
    size_t count;

    if (depth > DSUIT_MAX_NESTING)
        return bad(w, DSUIT_E_NESTING, "command sequences nest too deeply", 0,
                   0);
    dsuit_cbor_dec_init(&d, seq, len, DSUIT_CBOR_STRICT | DSUIT_CBOR_SORTED);
    d.max_depth = 4; /* a command's argument is shallow; sequences nest
                        through bstr wrapping, not CBOR depth */
    if (dsuit_cbor_get_array(&d, &count) != DSUIT_OK || count == 0 ||
        count % 2 != 0)
        return bad(w, DSUIT_E_SUIT_MALFORMED,
                   "command sequence is not a non-empty array of pairs", 0, 0);

    for (size_t i = 0; i < count; i += 2) {
        size_t off = d.pos;
        int64_t code;
        uint64_t policy;
        int rc;

        if (dsuit_cbor_get_int(&d, &code) != DSUIT_OK)
            return bad(w, DSUIT_E_SUIT_MALFORMED,
                       "command code is not an integer", off, 0);
        /* §6.2: with several components each sequence first says which
         * one it acts on. */
        if (top && i == 0 && w->env->n_components > 1 &&
            code != DSUIT_SUIT_DIR_SET_COMPONENT_INDEX)
            return bad(w, DSUIT_E_SUIT_RULE,
                       "with several components a sequence must start with "
                       "set-component-index",
                       off, code);
        switch (code) {
        case DSUIT_SUIT_COND_VENDOR_ID:
        case DSUIT_SUIT_COND_CLASS_ID:
        case DSUIT_SUIT_COND_IMAGE_MATCH:
        case DSUIT_SUIT_COND_COMPONENT_SLOT:
        case DSUIT_SUIT_COND_CHECK_CONTENT:
        case DSUIT_SUIT_COND_ABORT:
        case DSUIT_SUIT_COND_DEVICE_ID:
            if (w->shared && code == DSUIT_SUIT_COND_VENDOR_ID)
                w->saw_vendor = 1;
            if (w->shared && code == DSUIT_SUIT_COND_CLASS_ID)
                w->saw_class = 1;
            if (dsuit_cbor_get_uint(&d, &policy) != DSUIT_OK)
                return bad(w, DSUIT_E_SUIT_MALFORMED,
                           "reporting policy is not an unsigned integer", off,
                           code);
            break;
        case DSUIT_SUIT_DIR_WRITE:
        case DSUIT_SUIT_DIR_FETCH:
        case DSUIT_SUIT_DIR_COPY:
        case DSUIT_SUIT_DIR_INVOKE:
        case DSUIT_SUIT_DIR_SWAP:
            if (w->shared)
                return bad(w, DSUIT_E_SUIT_RULE,
                           "directive not allowed in the shared sequence", off,
                           code);
            if (dsuit_cbor_get_uint(&d, &policy) != DSUIT_OK)
                return bad(w, DSUIT_E_SUIT_MALFORMED,
                           "reporting policy is not an unsigned integer", off,
                           code);
            break;
        case DSUIT_SUIT_DIR_SET_COMPONENT_INDEX:
            rc = check_index(w, &d, off);
            if (rc != DSUIT_OK)
                return rc;
            break;
        case DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS: {
            size_t n;
            if (dsuit_cbor_get_map(&d, &n) != DSUIT_OK || n == 0)
                return bad(w, DSUIT_E_SUIT_MALFORMED,
                           "parameters are not a non-empty canonical map", off,
                           code);
            for (size_t k = 0; k < n; k++) {
                int64_t key;
                if (dsuit_cbor_get_int(&d, &key) != DSUIT_OK)
                    return bad(w, DSUIT_E_SUIT_MALFORMED,
                               "parameter key is not an integer", off, code);
                rc = check_param(w, &d, key, soft_ok, off);
                if (rc != DSUIT_OK)
                    return rc;
            }
            break;
        }
        case DSUIT_SUIT_DIR_TRY_EACH:
            rc = check_try_each(w, &d, off, depth);
            if (rc != DSUIT_OK)
                return rc;
            break;
        case DSUIT_SUIT_DIR_RUN_SEQUENCE: {
            const uint8_t *inner;
            size_t inner_len;
            if (dsuit_cbor_get_bstr(&d, &inner, &inner_len) != DSUIT_OK)
                return bad(w, DSUIT_E_SUIT_MALFORMED,
                           "run-sequence argument is not a byte string", off,
                           code);
            rc = walk_seq(w, inner, inner_len, depth + 1, 1, 0);
            if (rc != DSUIT_OK)
                return rc;
            break;
        }
        default:
            /* §6.2: custom commands are never allowed where the vendor
             * and class have not yet been checked. */
            if (code < 0 && w->shared)
                return bad(w, DSUIT_E_SUIT_RULE,
                           "custom command in the shared sequence", off, code);
            return bad(w, DSUIT_E_SUIT_UNSUPPORTED,
                       code < 0 ? "custom commands are not supported"
                                : "unknown command",
                       off, code);
        }
    }
    if (dsuit_cbor_remaining(&d) != 0)
        return bad(w, DSUIT_E_SUIT_MALFORMED,
                   "trailing bytes after the command sequence", d.pos, 0);
    return DSUIT_OK;
}

static int setup_fail(dsuit_suit_error_t *err, int rc, const char *reason)
{
    if (err != NULL) {
        memset(err, 0, sizeof *err);
        err->stage = DSUIT_SUIT_STAGE_SETUP;
        err->reason = reason;
    }
    return rc;
}

int dsuit_suit_check(const dsuit_suit_envelope_t *env,
                     const dsuit_suit_profile_t *profile,
                     dsuit_suit_error_t *err)
{
    dsuit_suit_params_t params[DSUIT_MAX_COMPONENTS];
    dsuit__suit_run_t run;
    walk_t w;
    size_t max;
    int rc;

    if (env == NULL || profile == NULL)
        return DSUIT_E_INVAL;
    if (err != NULL)
        memset(err, 0, sizeof *err);
    if (env->manifest.ptr == NULL || env->version != 1)
        return setup_fail(err, DSUIT_E_INVAL, "the manifest is not decoded");
    if (env->n_components == 0)
        return setup_fail(err, DSUIT_E_SUIT_MALFORMED,
                          "the manifest declares no components");
    if (env->has_dependencies)
        return setup_fail(err, DSUIT_E_SUIT_UNSUPPORTED,
                          "manifest dependencies (trust domains) are not "
                          "supported");
    /* §6.1: rollback before any sequence runs. */
    if (profile->has_installed_seq && env->seq <= profile->installed_seq)
        return setup_fail(err, DSUIT_E_ROLLBACK,
                          "sequence number is not newer than the installed "
                          "one");
    max = profile->max_components ? profile->max_components
                                  : DSUIT_MAX_COMPONENTS;
    if (env->n_components > max)
        return setup_fail(err, DSUIT_E_LIMIT,
                          "the manifest has more components than the device");

    memset(&w, 0, sizeof w);
    w.env = env;
    w.err = err;
    if (env->shared_seq.ptr == NULL) {
        w.shared = 1;
        return bad(&w, DSUIT_E_SUIT_RULE,
                   "no shared sequence: vendor and class conditions are "
                   "required",
                   0, 0);
    }
    w.section = DSUIT_SUIT_SECTION_SHARED;
    w.shared = 1;
    rc = walk_seq(&w, env->shared_seq.ptr, env->shared_seq.len, 0, 0, 1);
    if (rc != DSUIT_OK)
        return rc;
    if (!w.saw_vendor)
        return bad(&w, DSUIT_E_SUIT_RULE,
                   "shared sequence has no vendor-identifier condition", 0, 0);
    if (!w.saw_class)
        return bad(&w, DSUIT_E_SUIT_RULE,
                   "shared sequence has no class-identifier condition", 0, 0);

    const struct {
        int64_t key;
        dsuit_bytes_t seq;
    } seqs[] = {
        {DSUIT_SUIT_PAYLOAD_FETCH, env->members[DSUIT_SUIT_SEV_PAYLOAD_FETCH].body},
        {DSUIT_SUIT_INSTALL, env->members[DSUIT_SUIT_SEV_INSTALL].body},
        {DSUIT_SUIT_VALIDATE, env->validate},
        {DSUIT_SUIT_LOAD, env->load},
        {DSUIT_SUIT_INVOKE, env->invoke},
    };
    w.shared = 0;
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        if (seqs[i].seq.ptr == NULL)
            continue; /* absent or severed: nothing to walk */
        w.section = seqs[i].key;
        rc = walk_seq(&w, seqs[i].seq.ptr, seqs[i].seq.len, 0, 0, 1);
        if (rc != DSUIT_OK)
            return rc;
    }

    /* Evaluate the shared sequence's identity conditions for this device. */
    dsuit__suit_run_init(&run, env, profile, NULL, params, 1, err);
    return dsuit__suit_run_section(&run, DSUIT_SUIT_SECTION_SHARED,
                                   env->shared_seq);
}

int dsuit_suit_describe(const dsuit_suit_envelope_t *env,
                        dsuit_suit_params_t out[DSUIT_MAX_COMPONENTS],
                        dsuit_suit_error_t *err)
{
    static const dsuit_suit_profile_t nobody; /* no identity at all */
    dsuit__suit_run_t run;
    walk_t w;
    int rc;

    if (env == NULL || out == NULL)
        return DSUIT_E_INVAL;
    if (err != NULL)
        memset(err, 0, sizeof *err);
    if (env->manifest.ptr == NULL || env->n_components == 0)
        return setup_fail(err, DSUIT_E_INVAL, "the manifest is not decoded");
    memset(&w, 0, sizeof w);
    w.env = env;
    w.err = err;
    w.shared = 1;
    w.section = DSUIT_SUIT_SECTION_SHARED;
    if (env->shared_seq.ptr == NULL)
        return bad(&w, DSUIT_E_SUIT_RULE,
                   "no shared sequence: vendor and class conditions are "
                   "required",
                   0, 0);
    rc = walk_seq(&w, env->shared_seq.ptr, env->shared_seq.len, 0, 0, 1);
    if (rc != DSUIT_OK)
        return rc;
    dsuit__suit_run_init(&run, env, &nobody, NULL, out, 1, err);
    run.assume = 1;
    return dsuit__suit_run_section(&run, DSUIT_SUIT_SECTION_SHARED,
                                   env->shared_seq);
}
