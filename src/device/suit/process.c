/*
 * SUIT command interpreter: the abstract machine of draft-ietf-suit-manifest
 * -37 §6.4-§6.5 and §8.4.8-§8.4.10, run over sequences that the check pass
 * (check.c) has already validated, so malformed input here is a bug in the
 * check, still answered with an error rather than trusted.
 *
 * State: parameters per component (caller-owned dsuit_suit_proc_t), the
 * current component selection (one index, a list, or all), the soft-failure
 * flag of the current sequence and strict-order.
 *
 * Control flow:
 *   - a condition that fails ends its sequence with DSUIT_E_SUIT_CONDITION;
 *     whether that is soft depends on the soft-failure flag in force;
 *   - try-each runs its sequences, soft-failure preset to true in each,
 *     until one completes; a nil last element means "none is fine";
 *   - run-sequence runs its argument with soft-failure preset to false;
 *     a soft condition failure inside halts it without error;
 *   - both run once per selected component with that single index, and the
 *     outer selection is restored afterwards (§6.5);
 *   - a directive that fails always ends processing, whatever soft-failure.
 *
 * In dry mode (the check pass) only identity conditions are evaluated
 * against the device profile; other conditions pass and directives do
 * nothing, so a dry run touches no component.
 *
 * Recursion: exec_seq() recurses for try-each and run-sequence, at most
 * DSUIT_MAX_NESTING deep (the check pass enforces it; the interpreter
 * checks again). Each level uses about 200 bytes of stack on x86-64, so the
 * worst case is about 2 KiB with the default nesting of 8, plus 320 bytes
 * for check-content's comparison buffer at the innermost level.
 */
#include <string.h>

#include "dsuit/cbor.h"
#include "dsuit/suit.h"
#include "suit_int.h"

#define PARAM_BIT(p) (1u << (p))

/* Selections are stored as bytes. */
_Static_assert(DSUIT_MAX_COMPONENTS <= 255, "component index must fit a byte");

static const dsuit_suit_params_t *params_of(const dsuit__suit_run_t *r,
                                            size_t c)
{
    return &r->params[c];
}

static void component_ref(const dsuit__suit_run_t *r, size_t c,
                          dsuit_suit_component_t *out)
{
    out->index = c;
    out->id = r->env->components[c];
    out->params = params_of(r, c);
}

static int fail_at(dsuit__suit_run_t *r, int rc, const char *reason,
                   size_t offset, int64_t command)
{
    if (r->err != NULL) {
        r->err->stage = r->section == DSUIT_SUIT_SECTION_SHARED
                            ? DSUIT_SUIT_STAGE_SHARED
                            : DSUIT_SUIT_STAGE_COMMAND;
        r->err->reason = reason;
        r->err->section = r->section;
        r->err->offset = offset;
        r->err->command = command;
    }
    return rc;
}

static void report(dsuit__suit_run_t *r, size_t offset, size_t c,
                   int64_t command, uint64_t policy, int result)
{
    dsuit_suit_record_t rec;
    if (r->dry || r->platform == NULL || r->platform->report == NULL)
        return;
    if (result == DSUIT_OK ? !(policy & DSUIT_SUIT_REP_RECORD_SUCCESS)
                           : !(policy & DSUIT_SUIT_REP_RECORD_FAILURE))
        return;
    rec.section = r->section;
    rec.offset = offset;
    rec.component = c;
    rec.command = command;
    rec.policy = policy;
    rec.result = result;
    rec.params = params_of(r, c);
    r->platform->report(r->platform->arg, &rec);
}

/* Store one parameter for component c, or the processor-wide ones. */
static int set_param(dsuit__suit_run_t *r, size_t c, int64_t key,
                     dsuit_cbor_dec_t *d)
{
    dsuit_suit_params_t *p = &r->params[c];
    dsuit_bytes_t *b = NULL;
    uint64_t *u = NULL;
    int rc, flag;

    switch (key) {
    case DSUIT_SUIT_PARAM_VENDOR_ID:
        b = &p->vendor_id;
        break;
    case DSUIT_SUIT_PARAM_CLASS_ID:
        b = &p->class_id;
        break;
    case DSUIT_SUIT_PARAM_DEVICE_ID:
        b = &p->device_id;
        break;
    case DSUIT_SUIT_PARAM_IMAGE_DIGEST:
        b = &p->image_digest;
        break;
    case DSUIT_SUIT_PARAM_CONTENT:
        b = &p->content;
        break;
    case DSUIT_SUIT_PARAM_INVOKE_ARGS:
        b = &p->invoke_args;
        break;
    case DSUIT_SUIT_PARAM_FETCH_ARGUMENTS:
        b = &p->fetch_args;
        break;
    case DSUIT_SUIT_PARAM_URI:
        rc = dsuit_cbor_get_tstr(d, (const char **)&p->uri.ptr, &p->uri.len);
        if (rc == DSUIT_OK)
            p->set |= PARAM_BIT(key);
        return rc;
    case DSUIT_SUIT_PARAM_IMAGE_SIZE:
        u = &p->image_size;
        break;
    case DSUIT_SUIT_PARAM_COMPONENT_SLOT:
        u = &p->component_slot;
        break;
    case DSUIT_SUIT_PARAM_SOURCE_COMPONENT:
        u = &p->source_component;
        break;
    case DSUIT_SUIT_PARAM_SOFT_FAILURE:
    case DSUIT_SUIT_PARAM_STRICT_ORDER:
        rc = dsuit_cbor_get_bool(d, &flag);
        if (rc != DSUIT_OK)
            return rc;
        if (key == DSUIT_SUIT_PARAM_SOFT_FAILURE)
            r->soft = flag;
        else
            r->strict_order = flag;
        return DSUIT_OK;
    default:
        return DSUIT_E_SUIT_UNSUPPORTED;
    }
    if (b != NULL)
        rc = dsuit_cbor_get_bstr(d, &b->ptr, &b->len);
    else
        rc = dsuit_cbor_get_uint(d, u);
    if (rc == DSUIT_OK)
        p->set |= PARAM_BIT(key);
    return rc;
}

/* override-parameters: apply the map to every selected component. The map
 * is re-read per component so no copy is kept. */
static int override_params(dsuit__suit_run_t *r, const uint8_t *map,
                           size_t map_len)
{
    for (size_t s = 0; s < r->n_sel; s++) {
        dsuit_cbor_dec_t d;
        size_t count;
        dsuit_cbor_dec_init(&d, map, map_len, DSUIT_CBOR_STRICT);
        int rc = dsuit_cbor_get_map(&d, &count);
        if (rc != DSUIT_OK)
            return rc;
        for (size_t i = 0; i < count; i++) {
            int64_t key;
            rc = dsuit_cbor_get_int(&d, &key);
            if (rc == DSUIT_OK)
                rc = set_param(r, r->sel[s], key, &d);
            if (rc != DSUIT_OK)
                return rc;
        }
    }
    return DSUIT_OK;
}

/* Identity conditions compare a parameter with what the device is. */
static int identity_matches(dsuit_bytes_t param, dsuit_bytes_t mine)
{
    if (mine.len != 16 || param.len != 16)
        return 0;
    return dsuit_ct_equal(param.ptr, mine.ptr, 16);
}

/* check-content: compare the component with the content parameter with no
 * early exit (§8.4.9.4), a block at a time. */
static int check_content(dsuit__suit_run_t *r, const dsuit_suit_component_t *c)
{
    const dsuit_suit_params_t *p = c->params;
    uint8_t block[64];
    uint8_t diff = 0;
    size_t got;
    int rc;

    if (r->platform->read == NULL)
        return DSUIT_E_SUIT_UNSUPPORTED;
    for (size_t off = 0; off < p->content.len; off += sizeof block) {
        size_t n = p->content.len - off;
        if (n > sizeof block)
            n = sizeof block;
        rc = r->platform->read(r->platform->arg, c, off, block, n, &got);
        if (rc != DSUIT_OK)
            return rc;
        if (got > n)
            return DSUIT_E_INVAL; /* the platform broke its contract */
        if (got < n) {
            diff |= 1; /* component shorter than the content */
            memset(block + got, 0, n - got);
        }
        for (size_t i = 0; i < n; i++)
            diff |= (uint8_t)(block[i] ^ p->content.ptr[off + i]);
    }
    /* The component must not be longer than the content either. */
    rc = r->platform->read(r->platform->arg, c, p->content.len, block, 1, &got);
    if (rc != DSUIT_OK)
        return rc;
    if (got != 0)
        diff |= 1;
    dsuit_wipe(block, sizeof block);
    return diff == 0 ? DSUIT_OK : DSUIT_E_SUIT_CONDITION;
}

/* Evaluate one condition for component c. DSUIT_E_SUIT_CONDITION when it
 * does not hold; reason says why. */
static int condition(dsuit__suit_run_t *r, int64_t code, size_t c,
                     const char **reason)
{
    dsuit_suit_component_t ref;
    const dsuit_suit_params_t *p = params_of(r, c);
    component_ref(r, c, &ref);

    if (r->assume)
        return DSUIT_OK; /* describing a manifest, not judging a device */
    switch (code) {
    case DSUIT_SUIT_COND_VENDOR_ID:
        *reason = "vendor-identifier does not match this device";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_VENDOR_ID))) {
            *reason = "vendor-identifier condition without a vendor-id";
            return DSUIT_E_SUIT_CONDITION;
        }
        return identity_matches(p->vendor_id, r->profile->vendor_id)
                   ? DSUIT_OK
                   : DSUIT_E_SUIT_CONDITION;
    case DSUIT_SUIT_COND_CLASS_ID:
        *reason = "class-identifier does not match this device";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_CLASS_ID))) {
            *reason = "class-identifier condition without a class-id";
            return DSUIT_E_SUIT_CONDITION;
        }
        return identity_matches(p->class_id, r->profile->class_id)
                   ? DSUIT_OK
                   : DSUIT_E_SUIT_CONDITION;
    case DSUIT_SUIT_COND_DEVICE_ID:
        *reason = "device-identifier does not match this device";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_DEVICE_ID))) {
            *reason = "device-identifier condition without a device-id";
            return DSUIT_E_SUIT_CONDITION;
        }
        return identity_matches(p->device_id, r->profile->device_id)
                   ? DSUIT_OK
                   : DSUIT_E_SUIT_CONDITION;
    case DSUIT_SUIT_COND_ABORT:
        *reason = "abort condition";
        return DSUIT_E_SUIT_CONDITION;
    default:
        break;
    }
    if (r->dry)
        return DSUIT_OK; /* needs the device's components: not in a dry run */

    switch (code) {
    case DSUIT_SUIT_COND_IMAGE_MATCH: {
        int64_t alg;
        dsuit_bytes_t want;
        uint8_t got[DSUIT_SHA256_LEN];
        int rc;
        *reason = "image does not match its digest";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_IMAGE_DIGEST))) {
            *reason = "image-match condition without an image-digest";
            return DSUIT_E_SUIT_CONDITION;
        }
        if (dsuit__suit_digest_decode(p->image_digest.ptr, p->image_digest.len,
                                      &alg, &want) != DSUIT_OK ||
            alg != DSUIT_SUIT_DIGEST_SHA256 || want.len != DSUIT_SHA256_LEN) {
            *reason = "image-digest is not a SHA-256 SUIT_Digest";
            return DSUIT_E_SUIT_CONDITION;
        }
        if (r->platform->digest == NULL) {
            *reason = "the platform cannot digest components";
            return DSUIT_E_SUIT_UNSUPPORTED;
        }
        rc = r->platform->digest(
            r->platform->arg, &ref, (size_t)p->image_size,
            (p->set & PARAM_BIT(DSUIT_SUIT_PARAM_IMAGE_SIZE)) != 0, got);
        if (rc != DSUIT_OK) {
            *reason = "the platform could not digest the component";
            return rc == DSUIT_E_NOTFOUND ? DSUIT_E_SUIT_CONDITION : rc;
        }
        return dsuit_ct_equal(got, want.ptr, DSUIT_SHA256_LEN)
                   ? DSUIT_OK
                   : DSUIT_E_SUIT_CONDITION;
    }
    case DSUIT_SUIT_COND_COMPONENT_SLOT: {
        uint64_t slot;
        int rc;
        *reason = "component is not in the slot the manifest names";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_COMPONENT_SLOT))) {
            *reason = "component-slot condition without a component-slot";
            return DSUIT_E_SUIT_CONDITION;
        }
        if (r->platform->slot == NULL) {
            *reason = "the platform has no slots";
            return DSUIT_E_SUIT_CONDITION;
        }
        rc = r->platform->slot(r->platform->arg, &ref, &slot);
        if (rc != DSUIT_OK)
            return rc;
        return slot == p->component_slot ? DSUIT_OK : DSUIT_E_SUIT_CONDITION;
    }
    case DSUIT_SUIT_COND_CHECK_CONTENT:
        *reason = "component content does not match";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_CONTENT))) {
            *reason = "check-content condition without content";
            return DSUIT_E_SUIT_CONDITION;
        }
        return check_content(r, &ref);
    default:
        *reason = "unknown condition";
        return DSUIT_E_SUIT_UNSUPPORTED;
    }
}

/* Run one directive that acts on component c. */
static int directive(dsuit__suit_run_t *r, int64_t code, size_t c,
                     const char **reason)
{
    const dsuit_suit_platform_t *pl = r->platform;
    const dsuit_suit_params_t *p = params_of(r, c);
    dsuit_suit_component_t ref, src;
    int rc;

    if (r->dry)
        return DSUIT_OK;
    component_ref(r, c, &ref);
    switch (code) {
    case DSUIT_SUIT_DIR_FETCH:
        *reason = "fetch failed";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_URI))) {
            *reason = "fetch without a uri";
            return DSUIT_E_SUIT_PARAM;
        }
        if (pl->fetch == NULL)
            return DSUIT_E_SUIT_UNSUPPORTED;
        rc = pl->fetch(pl->arg, &ref);
        if (rc == DSUIT_E_AGAIN)
            *reason = "fetch is not finished";
        return rc;
    case DSUIT_SUIT_DIR_WRITE:
        *reason = "write failed";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_CONTENT))) {
            *reason = "write without content";
            return DSUIT_E_SUIT_PARAM;
        }
        if (pl->write == NULL)
            return DSUIT_E_SUIT_UNSUPPORTED;
        return pl->write(pl->arg, &ref, p->content.ptr, p->content.len);
    case DSUIT_SUIT_DIR_COPY:
    case DSUIT_SUIT_DIR_SWAP:
        *reason = code == DSUIT_SUIT_DIR_COPY ? "copy failed" : "swap failed";
        if (!(p->set & PARAM_BIT(DSUIT_SUIT_PARAM_SOURCE_COMPONENT))) {
            *reason = "copy or swap without a source-component";
            return DSUIT_E_SUIT_PARAM;
        }
        if (p->source_component >= r->env->n_components) {
            *reason = "source-component out of range";
            return DSUIT_E_SUIT_COMPONENT;
        }
        component_ref(r, (size_t)p->source_component, &src);
        if (code == DSUIT_SUIT_DIR_COPY)
            return pl->copy ? pl->copy(pl->arg, &ref, &src)
                            : DSUIT_E_SUIT_UNSUPPORTED;
        return pl->swap ? pl->swap(pl->arg, &ref, &src)
                        : DSUIT_E_SUIT_UNSUPPORTED;
    case DSUIT_SUIT_DIR_INVOKE:
        *reason = "invoke failed";
        return pl->invoke ? pl->invoke(pl->arg, &ref) : DSUIT_E_SUIT_UNSUPPORTED;
    default:
        *reason = "unknown directive";
        return DSUIT_E_SUIT_UNSUPPORTED;
    }
}

static int is_condition(int64_t code)
{
    switch (code) {
    case DSUIT_SUIT_COND_VENDOR_ID:
    case DSUIT_SUIT_COND_CLASS_ID:
    case DSUIT_SUIT_COND_IMAGE_MATCH:
    case DSUIT_SUIT_COND_COMPONENT_SLOT:
    case DSUIT_SUIT_COND_CHECK_CONTENT:
    case DSUIT_SUIT_COND_ABORT:
    case DSUIT_SUIT_COND_DEVICE_ID:
        return 1;
    default:
        return 0;
    }
}

/* set-component-index: uint, true, or [+ uint]. */
static int set_index(dsuit__suit_run_t *r, dsuit_cbor_dec_t *d)
{
    dsuit_cbor_item_t it;
    int rc = dsuit_cbor_peek(d, &it);
    if (rc != DSUIT_OK)
        return rc;
    if (it.major == DSUIT_CBOR_UINT) {
        uint64_t i;
        rc = dsuit_cbor_get_uint(d, &i);
        if (rc != DSUIT_OK)
            return rc;
        if (i >= r->env->n_components)
            return DSUIT_E_SUIT_COMPONENT;
        r->sel[0] = (uint8_t)i;
        r->n_sel = 1;
        return DSUIT_OK;
    }
    if (it.major == DSUIT_CBOR_SIMPLE) {
        int all;
        rc = dsuit_cbor_get_bool(d, &all);
        if (rc != DSUIT_OK || !all)
            return DSUIT_E_SUIT_MALFORMED;
        for (size_t i = 0; i < r->env->n_components; i++)
            r->sel[i] = (uint8_t)i;
        r->n_sel = r->env->n_components;
        return DSUIT_OK;
    }
    size_t n;
    rc = dsuit_cbor_get_array(d, &n);
    if (rc != DSUIT_OK)
        return DSUIT_E_SUIT_MALFORMED;
    if (n == 0 || n > DSUIT_MAX_COMPONENTS)
        return DSUIT_E_SUIT_COMPONENT;
    for (size_t k = 0; k < n; k++) {
        uint64_t i;
        rc = dsuit_cbor_get_uint(d, &i);
        if (rc != DSUIT_OK)
            return DSUIT_E_SUIT_MALFORMED;
        if (i >= r->env->n_components)
            return DSUIT_E_SUIT_COMPONENT;
        r->sel[k] = (uint8_t)i;
    }
    r->n_sel = n;
    return DSUIT_OK;
}

static int exec_seq(dsuit__suit_run_t *r, const uint8_t *seq, size_t len,
                    unsigned depth);

/* Run a nested sequence for one component with a fresh soft-failure scope;
 * the caller's selection and soft-failure come back afterwards. */
static int nested(dsuit__suit_run_t *r, const uint8_t *seq, size_t len,
                  size_t c, int soft, unsigned depth)
{
    uint8_t saved_sel[DSUIT_MAX_COMPONENTS];
    size_t saved_n = r->n_sel;
    int saved_soft = r->soft;
    int rc;

    memcpy(saved_sel, r->sel, sizeof saved_sel);
    r->sel[0] = (uint8_t)c;
    r->n_sel = 1;
    r->soft = soft;
    rc = exec_seq(r, seq, len, depth + 1);
    memcpy(r->sel, saved_sel, sizeof saved_sel);
    r->n_sel = saved_n;
    r->soft = saved_soft;
    return rc;
}

/* try-each: for each selected component, the first sequence that completes
 * wins; a nil last element accepts "none". */
static int try_each(dsuit__suit_run_t *r, dsuit_cbor_dec_t *d, size_t off,
                    unsigned depth)
{
    const uint8_t *arg;
    size_t arg_len;
    int rc = dsuit_cbor_skip(d, &arg, &arg_len);
    if (rc != DSUIT_OK)
        return rc;
    for (size_t s = 0; s < r->n_sel; s++) {
        dsuit_cbor_dec_t a;
        size_t n;
        int done = 0;
        dsuit_cbor_dec_init(&a, arg, arg_len, DSUIT_CBOR_STRICT);
        rc = dsuit_cbor_get_array(&a, &n);
        if (rc != DSUIT_OK)
            return rc;
        for (size_t i = 0; i < n && !done; i++) {
            const uint8_t *seq;
            size_t seq_len;
            if (dsuit_cbor_get_null(&a) == DSUIT_OK) {
                done = 1; /* nil: no sequence needs to succeed */
                break;
            }
            rc = dsuit_cbor_get_bstr(&a, &seq, &seq_len);
            if (rc != DSUIT_OK)
                return rc;
            rc = nested(r, seq, seq_len, r->sel[s], 1, depth);
            if (rc == DSUIT_OK) {
                done = 1;
            } else if (rc == DSUIT_E_SUIT_CONDITION && !r->last_soft) {
                /* §8.4.8.15: a hard failure makes try-each fail with the
                 * condition's code: a condition failure of this scope,
                 * soft or not as this scope says. */
                r->last_soft = r->soft;
                return rc;
            } else if (rc != DSUIT_E_SUIT_CONDITION) {
                return rc;
            }
        }
        if (!done) {
            /* Every sequence failed: a condition failure of this scope. */
            r->last_soft = r->soft;
            return fail_at(r, DSUIT_E_SUIT_CONDITION,
                           "no sequence of try-each succeeded", off,
                           DSUIT_SUIT_DIR_TRY_EACH);
        }
    }
    return DSUIT_OK;
}

static int run_sequence(dsuit__suit_run_t *r, dsuit_cbor_dec_t *d,
                        unsigned depth)
{
    const uint8_t *seq;
    size_t seq_len;
    int rc = dsuit_cbor_get_bstr(d, &seq, &seq_len);
    if (rc != DSUIT_OK)
        return rc;
    for (size_t s = 0; s < r->n_sel; s++) {
        rc = nested(r, seq, seq_len, r->sel[s], 0, depth);
        if (rc == DSUIT_E_SUIT_CONDITION) {
            /* §8.4.10.8: with soft failure the sequence just halts;
             * without, run-sequence fails with the condition's code, which
             * is then a condition failure of the enclosing sequence. */
            if (r->last_soft)
                rc = DSUIT_OK;
            else
                r->last_soft = r->soft;
        }
        if (rc != DSUIT_OK)
            return rc;
    }
    return DSUIT_OK;
}

static int exec_seq(dsuit__suit_run_t *r, const uint8_t *seq, size_t len,
                    unsigned depth)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int rc;

    if (depth > DSUIT_MAX_NESTING)
        return fail_at(r, DSUIT_E_NESTING, "command sequences nest too deeply",
                       0, 0);
    dsuit_cbor_dec_init(&d, seq, len, DSUIT_CBOR_STRICT);
    rc = dsuit_cbor_get_array(&d, &count);
    if (rc != DSUIT_OK || count % 2 != 0)
        return fail_at(r, DSUIT_E_SUIT_MALFORMED,
                       "command sequence is not an array of pairs", 0, 0);

    for (size_t i = 0; i < count; i += 2) {
        size_t off = d.pos;
        int64_t code;
        const char *reason = "command failed";

        rc = dsuit_cbor_get_int(&d, &code);
        if (rc != DSUIT_OK)
            return fail_at(r, DSUIT_E_SUIT_MALFORMED,
                           "command code is not an integer", off, 0);
        switch (code) {
        case DSUIT_SUIT_DIR_SET_COMPONENT_INDEX:
            rc = set_index(r, &d);
            if (rc != DSUIT_OK)
                return fail_at(r, rc, "bad component index", off, code);
            continue;
        case DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS: {
            const uint8_t *map;
            size_t map_len;
            rc = dsuit_cbor_skip(&d, &map, &map_len);
            if (rc == DSUIT_OK)
                rc = override_params(r, map, map_len);
            if (rc != DSUIT_OK)
                return fail_at(r, rc, "bad parameters", off, code);
            continue;
        }
        case DSUIT_SUIT_DIR_TRY_EACH:
            rc = try_each(r, &d, off, depth);
            if (rc != DSUIT_OK)
                return rc;
            continue;
        case DSUIT_SUIT_DIR_RUN_SEQUENCE:
            rc = run_sequence(r, &d, depth);
            if (rc != DSUIT_OK)
                return rc;
            continue;
        default:
            break;
        }

        /* Conditions and the remaining directives take a reporting
         * policy and act on each selected component in turn. */
        uint64_t policy;
        rc = dsuit_cbor_get_uint(&d, &policy);
        if (rc != DSUIT_OK)
            return fail_at(r, DSUIT_E_SUIT_MALFORMED,
                           "reporting policy is not an unsigned integer", off,
                           code);
        for (size_t s = 0; s < r->n_sel; s++) {
            size_t c = r->sel[s];
            if (is_condition(code))
                rc = condition(r, code, c, &reason);
            else
                rc = directive(r, code, c, &reason);
            report(r, off, c, code, policy, rc);
            if (rc == DSUIT_E_SUIT_CONDITION)
                r->last_soft = r->soft;
            if (rc != DSUIT_OK)
                return fail_at(r, rc, reason, off, code);
        }
    }
    return DSUIT_OK;
}

void dsuit__suit_run_init(dsuit__suit_run_t *r, const dsuit_suit_envelope_t *env,
                          const dsuit_suit_profile_t *profile,
                          const dsuit_suit_platform_t *platform,
                          dsuit_suit_params_t *params, int dry,
                          dsuit_suit_error_t *err)
{
    memset(r, 0, sizeof *r);
    r->env = env;
    r->profile = profile;
    r->platform = platform;
    r->params = params;
    r->dry = dry;
    r->err = err;
    r->strict_order = 1;
    memset(params, 0, sizeof(dsuit_suit_params_t) * DSUIT_MAX_COMPONENTS);
}

int dsuit__suit_run_section(dsuit__suit_run_t *r, int64_t section,
                            dsuit_bytes_t seq)
{
    /* Each top-level sequence starts on component 0 with soft failure off;
     * with several components the check pass has made sure the sequence
     * sets its own index first. */
    r->section = section;
    r->sel[0] = 0;
    r->n_sel = 1;
    r->soft = 0;
    r->last_soft = 0;
    return exec_seq(r, seq.ptr, seq.len, 0);
}

int dsuit_suit_process(dsuit_suit_proc_t *proc,
                       const dsuit_suit_envelope_t *env,
                       const dsuit_suit_profile_t *profile,
                       const dsuit_suit_platform_t *platform,
                       unsigned procedures, dsuit_suit_error_t *err)
{
    static const struct {
        unsigned bit;
        int64_t key;
        int member; /* severable member index, or -1 */
    } order[] = {
        {DSUIT_SUIT_RUN_PAYLOAD_FETCH, DSUIT_SUIT_PAYLOAD_FETCH,
         DSUIT_SUIT_SEV_PAYLOAD_FETCH},
        {DSUIT_SUIT_RUN_INSTALL, DSUIT_SUIT_INSTALL, DSUIT_SUIT_SEV_INSTALL},
        {DSUIT_SUIT_RUN_VALIDATE, DSUIT_SUIT_VALIDATE, -1},
        {DSUIT_SUIT_RUN_LOAD, DSUIT_SUIT_LOAD, -1},
        {DSUIT_SUIT_RUN_INVOKE, DSUIT_SUIT_INVOKE, -1},
    };
    dsuit__suit_run_t r;
    int rc;

    if (proc == NULL || env == NULL || profile == NULL || platform == NULL)
        return DSUIT_E_INVAL;
    /* Nothing touches a component on the strength of a manifest that no
     * trusted key vouched for (§6.2). */
    if (!env->authenticated) {
        if (err != NULL) {
            memset(err, 0, sizeof *err);
            err->stage = DSUIT_SUIT_STAGE_AUTH;
            err->reason = "the manifest is not authenticated";
        }
        return DSUIT_E_SIGNATURE;
    }
    rc = dsuit_suit_check(env, profile, err);
    if (rc != DSUIT_OK)
        return rc;

    dsuit__suit_run_init(&r, env, profile, platform, proc->params, 0, err);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        dsuit_bytes_t seq;
        if (!(procedures & order[i].bit))
            continue;
        if (order[i].member >= 0) {
            const dsuit_suit_member_t *m = &env->members[order[i].member];
            if (m->state == DSUIT_SUIT_MEMBER_ABSENT)
                continue;
            if (m->state == DSUIT_SUIT_MEMBER_SEVERED) {
                if (err != NULL) {
                    err->stage = DSUIT_SUIT_STAGE_SEVERABLE;
                    err->reason = "the sequence is severed: fetch the full "
                                  "envelope";
                    err->section = order[i].key;
                    err->offset = 0;
                    err->command = 0;
                }
                return DSUIT_E_SUIT_SEVERED;
            }
            seq = m->body;
        } else {
            seq = order[i].key == DSUIT_SUIT_VALIDATE ? env->validate
                  : order[i].key == DSUIT_SUIT_LOAD   ? env->load
                                                      : env->invoke;
            if (seq.ptr == NULL)
                continue;
        }
        if (env->shared_seq.ptr != NULL) {
            rc = dsuit__suit_run_section(&r, DSUIT_SUIT_SECTION_SHARED,
                                         env->shared_seq);
            if (rc != DSUIT_OK)
                return rc;
        }
        rc = dsuit__suit_run_section(&r, order[i].key, seq);
        if (rc != DSUIT_OK)
            return rc;
    }
    proc->strict_order = r.strict_order;
    return DSUIT_OK;
}
