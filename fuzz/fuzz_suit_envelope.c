/*
 * libFuzzer harness for the SUIT manifest processor (include/dsuit/suit.h).
 *
 * For each input: dsuit_suit_envelope_decode(); for an envelope that
 * decodes, dsuit_suit_authenticate() with the SUIT spec key (x||y
 * hard-coded), then dsuit_suit_manifest_decode() with
 * DSUIT_SUIT_ALLOW_UNAUTHENTICATED (so that inputs without a valid
 * signature still reach the manifest decoder and the interpreter), then
 * dsuit_suit_check() against the official examples' profile (vendor
 * fa6b4a53.., class 1492af14..) and dsuit_suit_process() with every
 * procedure against a tiny in-memory platform: four components of 256
 * bytes, fetch writing a few bytes derived from the URI (or answering "not
 * yet" for some URIs), SHA-256 digests, slots, and a report sink.
 *
 * A bug is a crash, a sanitizer report, or a broken invariant (abort): a
 * decoded pointer outside the input; authenticated set without a DSUIT_OK
 * from dsuit_suit_authenticate(); a decoded manifest breaking the header's
 * invariants (version 1, 1..DSUIT_MAX_COMPONENTS components); a failure
 * without a reason; a platform callback given a component index out of
 * range, or called by dsuit_suit_check() (a dry run must make no call).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsuit/crypto.h"
#include "dsuit/suit.h"

#include "fuzz.h"

/* x||y of the SUIT spec key (keys/spec-es256-p256-public.pem). */
static const uint8_t VENDOR_ID[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                      0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                      0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t CLASS_ID[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                     0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                     0x51, 0xf2, 0xab, 0x45};

static dsuit_key_t k_spec;
static int key_ready;

/* ---- a tiny device -------------------------------------------------- */

#define SIM_COMP 4
#define SIM_CAP  256

typedef struct {
    uint8_t data[SIM_COMP][SIM_CAP];
    size_t len[SIM_COMP];
    size_t n_components; /* of the manifest being processed */
    int forbid_calls;    /* set while only a dry run may happen */
    size_t calls, records;
} sim_t;

static sim_t sim;

/* The input buffer, for the "points inside" checks. */
static const uint8_t *in_buf;
static size_t in_len;

static void inside(dsuit_bytes_t b)
{
    if (b.ptr == NULL) {
        CHECK(b.len == 0);
        return;
    }
    CHECK(b.ptr >= in_buf && b.ptr <= in_buf + in_len);
    CHECK(b.len <= (size_t)(in_buf + in_len - b.ptr));
}

static size_t comp(const dsuit_suit_component_t *c)
{
    CHECK(!sim.forbid_calls);
    CHECK(c != NULL && c->params != NULL);
    CHECK(c->index < sim.n_components);
    inside(c->id);
    sim.calls++;
    /* A manifest may declare more components than the device simulates;
     * those share the last slot. */
    return c->index < SIM_COMP ? c->index : SIM_COMP - 1;
}

static int sim_digest(void *arg, const dsuit_suit_component_t *c, size_t sz,
                      int has_size, uint8_t out[DSUIT_SHA256_LEN])
{
    (void)arg;
    size_t i = comp(c), n = sim.len[i];
    if (has_size && sz < n)
        n = sz;
    return dsuit_sha256(sim.data[i], n, out);
}

static int sim_read(void *arg, const dsuit_suit_component_t *c, size_t off,
                    uint8_t *buf, size_t len, size_t *out_len)
{
    (void)arg;
    size_t i = comp(c), n = off >= sim.len[i] ? 0 : sim.len[i] - off;
    if (n > len)
        n = len;
    if (n > 0)
        memcpy(buf, sim.data[i] + off, n);
    *out_len = n;
    return DSUIT_OK;
}

static int sim_slot(void *arg, const dsuit_suit_component_t *c, uint64_t *out)
{
    (void)arg;
    *out = comp(c) % 2;
    return DSUIT_OK;
}

static int sim_fetch(void *arg, const dsuit_suit_component_t *c)
{
    (void)arg;
    size_t i = comp(c);
    dsuit_bytes_t u = c->params->uri;
    inside(u);
    if (u.len > 0 && u.ptr[u.len - 1] == '!')
        return DSUIT_E_AGAIN; /* "not yet" */
    if (u.len > 0 && u.ptr[0] == 'x')
        return DSUIT_E_NOTFOUND;
    size_t n = u.len < SIM_CAP ? u.len : SIM_CAP;
    if (n > 0)
        memcpy(sim.data[i], u.ptr, n);
    sim.len[i] = n;
    return DSUIT_OK;
}

static int sim_write(void *arg, const dsuit_suit_component_t *c,
                     const uint8_t *p, size_t len)
{
    (void)arg;
    size_t i = comp(c);
    if (len > SIM_CAP)
        return DSUIT_E_LIMIT;
    if (len > 0)
        memcpy(sim.data[i], p, len);
    sim.len[i] = len;
    return DSUIT_OK;
}

static int sim_copy(void *arg, const dsuit_suit_component_t *dst,
                    const dsuit_suit_component_t *src)
{
    (void)arg;
    size_t d = comp(dst), s = comp(src);
    memmove(sim.data[d], sim.data[s], sim.len[s]);
    sim.len[d] = sim.len[s];
    return DSUIT_OK;
}

static int sim_swap(void *arg, const dsuit_suit_component_t *dst,
                    const dsuit_suit_component_t *src)
{
    (void)arg;
    uint8_t tmp[SIM_CAP];
    size_t d = comp(dst), s = comp(src), n = sim.len[d];
    memcpy(tmp, sim.data[d], n);
    memmove(sim.data[d], sim.data[s], sim.len[s]);
    sim.len[d] = sim.len[s];
    memcpy(sim.data[s], tmp, n);
    sim.len[s] = n;
    return DSUIT_OK;
}

static int sim_invoke(void *arg, const dsuit_suit_component_t *c)
{
    (void)arg;
    inside(c->params->invoke_args);
    (void)comp(c);
    return DSUIT_OK;
}

static void sim_report(void *arg, const dsuit_suit_record_t *rec)
{
    (void)arg;
    CHECK(!sim.forbid_calls);
    CHECK(rec != NULL && rec->component < sim.n_components);
    sim.records++;
}

static const dsuit_suit_platform_t PLATFORM = {
    .arg = &sim,
    .digest = sim_digest,
    .read = sim_read,
    .slot = sim_slot,
    .fetch = sim_fetch,
    .write = sim_write,
    .copy = sim_copy,
    .swap = sim_swap,
    .invoke = sim_invoke,
    .report = sim_report,
};

static void check_failure(int rc, const dsuit_suit_error_t *err)
{
    if (rc != DSUIT_OK)
        CHECK(err->reason != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dsuit_suit_envelope_t env;
    static dsuit_suit_proc_t proc;
    uint8_t scratch[DSUIT_SUIT_AUTH_SCRATCH];
    dsuit_suit_error_t err;
    dsuit_suit_profile_t profile;
    int rc;

    if (!key_ready) {
        CHECK(dsuit_key_set_public(&k_spec, DSUIT_KEY_P256, SPEC_XY,
                                   sizeof SPEC_XY) == DSUIT_OK);
        key_ready = 1;
    }
    in_buf = data;
    in_len = size;

    rc = dsuit_suit_envelope_decode(data, size, &env, &err);
    check_failure(rc, &err);
    if (rc != DSUIT_OK)
        return 0;
    inside(env.digest_item);
    inside(env.digest_bytes);
    inside(env.manifest);
    inside(env.manifest_wrapped);
    CHECK(env.n_auth <= DSUIT_SUIT_MAX_AUTH);
    for (size_t i = 0; i < env.n_auth; i++)
        inside(env.auth_blocks[i]);
    CHECK(env.n_integrated <= DSUIT_SUIT_MAX_INTEGRATED);
    for (size_t i = 0; i < env.n_integrated; i++) {
        inside(env.integrated_keys[i]);
        inside(env.integrated_payloads[i]);
    }
    for (size_t i = 0; i < DSUIT_SUIT_SEV_COUNT; i++)
        inside(env.envelope_members[i]);

    rc = dsuit_suit_authenticate(&env, &k_spec, 1, scratch, sizeof scratch,
                                 &err);
    check_failure(rc, &err);
    CHECK((rc == DSUIT_OK) == (env.authenticated != 0));

    rc = dsuit_suit_manifest_decode(&env, DSUIT_SUIT_ALLOW_UNAUTHENTICATED,
                                    &err);
    check_failure(rc, &err);
    if (rc != DSUIT_OK)
        return 0;
    CHECK(env.version == 1);
    CHECK(env.n_components >= 1 && env.n_components <= DSUIT_MAX_COMPONENTS);
    for (size_t i = 0; i < env.n_components; i++)
        inside(env.components[i]);
    inside(env.reference_uri);
    inside(env.shared_seq);
    inside(env.validate);
    inside(env.load);
    inside(env.invoke);
    for (size_t i = 0; i < DSUIT_SUIT_SEV_COUNT; i++) {
        inside(env.members[i].body);
        inside(env.members[i].digest);
    }

    memset(&profile, 0, sizeof profile);
    profile.vendor_id.ptr = VENDOR_ID;
    profile.vendor_id.len = sizeof VENDOR_ID;
    profile.class_id.ptr = CLASS_ID;
    profile.class_id.len = sizeof CLASS_ID;

    memset(&sim, 0, sizeof sim);
    sim.n_components = env.n_components;
    sim.forbid_calls = 1;
    rc = dsuit_suit_check(&env, &profile, &err);
    check_failure(rc, &err);
    sim.forbid_calls = 0;

    /* An unauthenticated envelope is refused before anything runs... */
    if (!env.authenticated) {
        rc = dsuit_suit_process(&proc, &env, &profile, &PLATFORM,
                                DSUIT_SUIT_UPDATE, &err);
        CHECK(rc == DSUIT_E_SIGNATURE);
        /* ...so, to reach the interpreter with inputs that carry no valid
         * signature, the harness vouches for them itself: this is the one
         * place that sets the flag by hand, on purpose. */
        env.authenticated = 1;
    }
    /* Process everything, twice (a resumed run re-runs every sequence);
     * and once more as a device that has only two components. */
    for (int pass = 0; pass < 2; pass++) {
        rc = dsuit_suit_process(&proc, &env, &profile, &PLATFORM,
                                DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err);
        check_failure(rc, &err);
    }
    profile.max_components = 2;
    rc = dsuit_suit_process(&proc, &env, &profile, &PLATFORM, DSUIT_SUIT_BOOT,
                            &err);
    check_failure(rc, &err);
    return 0;
}
