/*
 * Tests of the SUIT command interpreter, dsuit_suit_process()
 * (include/dsuit/suit.h; draft-ietf-suit-manifest-37 §6.4-§6.5,
 * §8.4.8-§8.4.10 and the Examples of Appendix B), written against the
 * header contract and the spec as an independent check of
 * src/device/suit/process.c.
 *
 * A simulated device holds up to four components of up to 128 KiB each in
 * static buffers, a slot per component, and a fetch table from URI to
 * bytes. The official examples carry sample digests (0011.., 0123..) that
 * no real image hashes to, so a component may hold a "claimed digest" that
 * the digest callback returns instead of SHA-256 of its bytes: setting it
 * to the sample digest models a device whose image matches. Fetch, write,
 * copy and swap carry the claim along with the bytes, unless the test pins
 * it (example4's load, which on a real device would transform the image).
 * Every platform call is logged, so the tests compare the order of calls
 * with what the spec's semantics give for each example.
 *
 * Beyond the examples: resuming after a fetch that answers "not yet", a
 * real end-to-end run with real SHA-256 digests, the reporting policy,
 * check-content, and the soft-failure rules of try-each and run-sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsuit/cbor.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/suit.h"
#include "vectors.h"

#define SPEC_PUB "suit/keys/spec-es256-p256-public.pem"
#define ENV_MAX  8192

static const uint8_t VENDOR_ID[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad,
                                      0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63,
                                      0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t CLASS_ID[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69,
                                     0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d,
                                     0x51, 0xf2, 0xab, 0x45};

/* The examples' sample digests (README: "sample patterns"). */
static const uint8_t SAMPLE[32] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
    0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
    0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
static const uint8_t SAMPLE2[32] = {
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba,
    0x98, 0x76, 0x54, 0x32, 0x10, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

/* ------------------------------------------------------------------ */
/* The simulated device                                               */
/* ------------------------------------------------------------------ */

#define N_COMP    4
#define COMP_CAP  (128u * 1024u)
#define MAX_FETCH 8
#define MAX_LOG   64
#define MAX_REC   32

typedef struct {
    const char *uri;
    const uint8_t *data;
    size_t len;
    const uint8_t *claim; /* claimed digest of what is fetched, or NULL */
    int again;            /* answer DSUIT_E_AGAIN this many times first */
} fetch_entry_t;

typedef struct {
    uint8_t data[N_COMP][COMP_CAP];
    size_t len[N_COMP];
    int has_claim[N_COMP];
    int pinned[N_COMP]; /* claim fixed by the test */
    uint8_t claim[N_COMP][32];
    uint64_t slot[N_COMP];
    fetch_entry_t fetch[MAX_FETCH];
    size_t n_fetch;
    char log[MAX_LOG][128];
    size_t n_log;
    /* what the last digest call was asked to match */
    uint8_t want_digest[64];
    size_t want_digest_len;
    size_t last_size;
    int last_has_size;
    dsuit_suit_record_t rec[MAX_REC];
    size_t n_rec;
} device_t;

static device_t dev;

static void dev_reset(void)
{
    memset(&dev, 0, sizeof dev);
}

__attribute__((format(printf, 1, 2))) static void logf_(const char *fmt, ...)
{
    va_list ap;
    if (dev.n_log >= MAX_LOG)
        fail_msg("device log overflow");
    va_start(ap, fmt);
    vsnprintf(dev.log[dev.n_log++], sizeof dev.log[0], fmt, ap);
    va_end(ap);
}

static void dev_claim(size_t c, const uint8_t claim[32], int pin)
{
    memcpy(dev.claim[c], claim, 32);
    dev.has_claim[c] = 1;
    dev.pinned[c] = pin;
}

static void dev_add_fetch(const char *uri, const uint8_t *data, size_t len,
                          const uint8_t *claim)
{
    fetch_entry_t *f = &dev.fetch[dev.n_fetch++];
    f->uri = uri;
    f->data = data;
    f->len = len;
    f->claim = claim;
    f->again = 0;
}

static void check_component(const dsuit_suit_component_t *c)
{
    if (c == NULL || c->index >= N_COMP || c->params == NULL ||
        c->id.ptr == NULL || c->id.len == 0)
        fail_msg("platform called with a bad component");
}

static int cb_digest(void *arg, const dsuit_suit_component_t *c, size_t size,
                     int has_size, uint8_t out[DSUIT_SHA256_LEN])
{
    (void)arg;
    check_component(c);
    logf_("digest %zu", c->index);
    dev.last_size = size;
    dev.last_has_size = has_size;
    dev.want_digest_len = 0;
    if (c->params->image_digest.len <= sizeof dev.want_digest) {
        memcpy(dev.want_digest, c->params->image_digest.ptr,
               c->params->image_digest.len);
        dev.want_digest_len = c->params->image_digest.len;
    }
    if (dev.has_claim[c->index]) {
        memcpy(out, dev.claim[c->index], 32);
        return DSUIT_OK;
    }
    /* image-size bytes when the component has them, else all it has
     * (which then cannot match a digest of image-size bytes). */
    size_t n = dev.len[c->index];
    if (has_size && size <= n)
        n = size;
    return dsuit_sha256(dev.data[c->index], n, out);
}

static int cb_read(void *arg, const dsuit_suit_component_t *c, size_t offset,
                   uint8_t *buf, size_t len, size_t *out_len)
{
    (void)arg;
    check_component(c);
    logf_("read %zu", c->index);
    size_t have = dev.len[c->index];
    size_t n = offset >= have ? 0 : have - offset;
    if (n > len)
        n = len;
    memcpy(buf, dev.data[c->index] + offset, n);
    *out_len = n;
    return DSUIT_OK;
}

static int cb_slot(void *arg, const dsuit_suit_component_t *c, uint64_t *out)
{
    (void)arg;
    check_component(c);
    logf_("slot %zu", c->index);
    *out = dev.slot[c->index];
    return DSUIT_OK;
}

static void put(size_t c, const uint8_t *data, size_t len, const uint8_t *claim)
{
    if (len > COMP_CAP)
        fail_msg("component %zu: %zu bytes do not fit", c, len);
    memmove(dev.data[c], data, len);
    dev.len[c] = len;
    if (!dev.pinned[c]) {
        dev.has_claim[c] = claim != NULL;
        if (claim != NULL)
            memcpy(dev.claim[c], claim, 32);
    }
}

static int cb_fetch(void *arg, const dsuit_suit_component_t *c)
{
    (void)arg;
    check_component(c);
    const dsuit_bytes_t *u = &c->params->uri;
    if (!(c->params->set & (1u << DSUIT_SUIT_PARAM_URI)))
        fail_msg("fetch called without a uri parameter");
    logf_("fetch %zu %.*s", c->index, (int)u->len, (const char *)u->ptr);
    for (size_t i = 0; i < dev.n_fetch; i++) {
        fetch_entry_t *f = &dev.fetch[i];
        if (strlen(f->uri) != u->len || memcmp(f->uri, u->ptr, u->len) != 0)
            continue;
        if (f->again > 0) {
            f->again--;
            return DSUIT_E_AGAIN;
        }
        put(c->index, f->data, f->len, f->claim);
        return DSUIT_OK;
    }
    return DSUIT_E_NOTFOUND;
}

static int cb_write(void *arg, const dsuit_suit_component_t *c,
                    const uint8_t *data, size_t len)
{
    (void)arg;
    check_component(c);
    logf_("write %zu %zu", c->index, len);
    put(c->index, data, len, NULL);
    return DSUIT_OK;
}

static int cb_copy(void *arg, const dsuit_suit_component_t *dst,
                   const dsuit_suit_component_t *src)
{
    (void)arg;
    check_component(dst);
    check_component(src);
    logf_("copy %zu->%zu", src->index, dst->index);
    put(dst->index, dev.data[src->index], dev.len[src->index],
        dev.has_claim[src->index] ? dev.claim[src->index] : NULL);
    return DSUIT_OK;
}

static uint8_t swap_tmp[COMP_CAP];

static int cb_swap(void *arg, const dsuit_suit_component_t *dst,
                   const dsuit_suit_component_t *src)
{
    (void)arg;
    check_component(dst);
    check_component(src);
    logf_("swap %zu<->%zu", dst->index, src->index);
    size_t a = dst->index, b = src->index, n = dev.len[a];
    memcpy(swap_tmp, dev.data[a], n);
    memcpy(dev.data[a], dev.data[b], dev.len[b]);
    dev.len[a] = dev.len[b];
    memcpy(dev.data[b], swap_tmp, n);
    dev.len[b] = n;
    return DSUIT_OK;
}

static int cb_invoke(void *arg, const dsuit_suit_component_t *c)
{
    (void)arg;
    check_component(c);
    logf_("invoke %zu", c->index);
    return DSUIT_OK;
}

static void cb_report(void *arg, const dsuit_suit_record_t *rec)
{
    (void)arg;
    if (dev.n_rec >= MAX_REC)
        fail_msg("too many records");
    dev.rec[dev.n_rec] = *rec;
    dev.rec[dev.n_rec].params = NULL;
    dev.n_rec++;
}

static const dsuit_suit_platform_t PLATFORM = {
    .arg = &dev,
    .digest = cb_digest,
    .read = cb_read,
    .slot = cb_slot,
    .fetch = cb_fetch,
    .write = cb_write,
    .copy = cb_copy,
    .swap = cb_swap,
    .invoke = cb_invoke,
    .report = cb_report,
};

/* Fail unless the device log is exactly the given lines. */
static void expect_log(const char *const *want, size_t n)
{
    size_t i;
    for (i = 0; i < n && i < dev.n_log; i++)
        if (strcmp(dev.log[i], want[i]) != 0)
            break;
    if (i == n && dev.n_log == n)
        return;
    for (size_t k = 0; k < dev.n_log; k++)
        print_message("  log[%zu] = %s\n", k, dev.log[k]);
    if (i < n && i < dev.n_log)
        fail_msg("platform call %zu: got '%s', want '%s'", i, dev.log[i],
                 want[i]);
    fail_msg("%zu platform calls, want %zu", dev.n_log, n);
}
#define EXPECT_LOG(...)                                                        \
    do {                                                                       \
        static const char *const want_[] = {__VA_ARGS__};                      \
        expect_log(want_, sizeof want_ / sizeof want_[0]);                     \
    } while (0)

static int logged(const char *line)
{
    for (size_t i = 0; i < dev.n_log; i++)
        if (strcmp(dev.log[i], line) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Envelopes                                                          */
/* ------------------------------------------------------------------ */

static dsuit_key_t k_spec, k_gen;
static uint8_t env_buf[ENV_MAX];
static dsuit_suit_envelope_t env;
static dsuit_suit_proc_t proc;

static int group_setup(void **state)
{
    (void)state;
    return dsuit_key_generate(DSUIT_KEY_P256, &k_gen) == DSUIT_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    dsuit_key_wipe(&k_gen);
    return 0;
}

static dsuit_suit_profile_t profile(void)
{
    dsuit_suit_profile_t p;
    memset(&p, 0, sizeof p);
    p.vendor_id.ptr = VENDOR_ID;
    p.vendor_id.len = sizeof VENDOR_ID;
    p.class_id.ptr = CLASS_ID;
    p.class_id.len = sizeof CLASS_ID;
    return p;
}

static void load_example(const char *name)
{
    char path[128];
    size_t len;
    snprintf(path, sizeof path, "suit/manifest-37/%s.cbor", name);
    tv_key_pem(SPEC_PUB, &k_spec);
    tv_read(path, env_buf, sizeof env_buf, &len);
    int rc = dsuit_suit_parse(env_buf, len, &k_spec, 1, &env, NULL);
    if (rc != DSUIT_OK)
        fail_msg("%s: parse gave %s", path, dsuit_err_name(rc));
}

static void load_built(const char *manifest_diag)
{
    size_t len =
        tv_suit_sign_diag(manifest_diag, &k_gen, env_buf, sizeof env_buf);
    dsuit_suit_error_t err;
    int rc = dsuit_suit_parse(env_buf, len, &k_gen, 1, &env, &err);
    if (rc != DSUIT_OK)
        fail_msg("built manifest: parse gave %s (%s)", dsuit_err_name(rc),
                 err.reason ? err.reason : "-");
}

static int run(unsigned procedures, dsuit_suit_error_t *err)
{
    dsuit_suit_profile_t p = profile();
    memset(err, 0, sizeof *err);
    return dsuit_suit_process(&proc, &env, &p, &PLATFORM, procedures, err);
}

static void expect_ok(int rc, const dsuit_suit_error_t *err)
{
    if (rc != DSUIT_OK)
        fail_msg("process gave %s (stage '%s', section %lld, offset %zu: %s)",
                 dsuit_err_name(rc), dsuit_suit_stage_name(err->stage),
                 (long long)err->section, err->offset,
                 err->reason ? err->reason : "-");
}

static void expect_err(int rc, const dsuit_suit_error_t *err, int want,
                       dsuit_suit_stage_t stage, int64_t section)
{
    if (rc != want)
        fail_msg("process gave %s (%s), want %s", dsuit_err_name(rc),
                 err->reason ? err->reason : "-", dsuit_err_name(want));
    assert_non_null(err->reason);
    if (stage != DSUIT_SUIT_STAGE_NONE && err->stage != stage)
        fail_msg("stage '%s', want '%s' (%s)",
                 dsuit_suit_stage_name(err->stage),
                 dsuit_suit_stage_name(stage), err->reason);
    if (section != 0 && err->section != section)
        fail_msg("section %lld, want %lld (%s)", (long long)err->section,
                 (long long)section, err->reason);
}

/* The SUIT_Digest [-16, d] the digest callback was last asked to match. */
static void expect_wanted_digest(const uint8_t d[32])
{
    uint8_t item[40];
    item[0] = 0x82;
    item[1] = 0x2f; /* -16 */
    item[2] = 0x58;
    item[3] = 0x20;
    memcpy(item + 4, d, 32);
    assert_int_equal(dev.want_digest_len, 36);
    assert_memory_equal(dev.want_digest, item, 36);
}

static uint8_t image[64];

static void add_example_fetches(void)
{
    for (size_t i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)i;
    dev_add_fetch("http://example.com/file.bin", image, sizeof image, SAMPLE);
    dev_add_fetch("http://example.com/very/long/path/to/file/file.bin", image,
                  sizeof image, SAMPLE);
    dev_add_fetch("http://example.com/file1.bin", image, 32, SAMPLE);
    dev_add_fetch("http://example.com/file2.bin", image + 32, 32, SAMPLE2);
}

/* ------------------------------------------------------------------ */
/* The official examples                                              */
/* ------------------------------------------------------------------ */

static void example0_boots_component_0_when_its_image_matches(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    dev_claim(0, SAMPLE, 0);
    load_example("example0");
    expect_ok(run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("digest 0", "invoke 0");
    expect_wanted_digest(SAMPLE);
    assert_true(dev.last_has_size);
    assert_int_equal(dev.last_size, 34768);
}

static void example0_fails_validate_when_the_image_differs(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    uint8_t other[32];
    memcpy(other, SAMPLE, 32);
    other[31] ^= 1;
    dev_reset();
    dev_claim(0, other, 0);
    load_example("example0");
    expect_err(run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err), &err,
               DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_COMMAND,
               DSUIT_SUIT_VALIDATE);
    assert_int_equal(err.command, DSUIT_SUIT_COND_IMAGE_MATCH);
    assert_int_equal(err.offset, 1); /* [3, 15]: after the array head */
    EXPECT_LOG("digest 0");          /* never invoked */
    /* No image at all (real SHA-256 of nothing of size 34768): fails too. */
    dev_reset();
    expect_err(run(DSUIT_SUIT_BOOT, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_VALIDATE);
    assert_false(logged("invoke 0"));
}

static void
example0_refuses_another_vendor_before_any_platform_call(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dsuit_suit_profile_t p = profile();
    uint8_t other[16] = {0};
    p.vendor_id.ptr = other;
    dev_reset();
    dev_claim(0, SAMPLE, 0);
    load_example("example0");
    int rc = dsuit_suit_process(&proc, &env, &p, &PLATFORM,
                                DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err);
    expect_err(rc, &err, DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_SHARED,
               DSUIT_SUIT_SECTION_SHARED);
    assert_int_equal(dev.n_log, 0);
    /* A rollback is refused in setup, before any call too. */
    p = profile();
    p.has_installed_seq = 1;
    p.installed_seq = 0;
    rc = dsuit_suit_process(&proc, &env, &p, &PLATFORM, DSUIT_SUIT_BOOT, &err);
    expect_err(rc, &err, DSUIT_E_ROLLBACK, DSUIT_SUIT_STAGE_SETUP, 0);
    assert_int_equal(dev.n_log, 0);
}

static void
example0_invoke_without_a_platform_invoke_is_unsupported(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dsuit_suit_platform_t pl = PLATFORM;
    dsuit_suit_profile_t p = profile();
    pl.invoke = NULL;
    dev_reset();
    dev_claim(0, SAMPLE, 0);
    load_example("example0");
    int rc = dsuit_suit_process(&proc, &env, &p, &pl, DSUIT_SUIT_BOOT, &err);
    expect_err(rc, &err, DSUIT_E_SUIT_UNSUPPORTED, DSUIT_SUIT_STAGE_NONE,
               DSUIT_SUIT_INVOKE);
    pl = PLATFORM;
    pl.digest = NULL;
    rc = dsuit_suit_process(&proc, &env, &p, &pl, DSUIT_SUIT_BOOT, &err);
    expect_err(rc, &err, DSUIT_E_SUIT_UNSUPPORTED, DSUIT_SUIT_STAGE_NONE,
               DSUIT_SUIT_VALIDATE);
}

static void
example1_fetches_file_bin_into_component_0_and_never_invokes(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    load_example("example1");
    expect_ok(run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("fetch 0 http://example.com/file.bin", "digest 0", "digest 0");
    assert_int_equal(dev.len[0], sizeof image);
    assert_memory_equal(dev.data[0], image, sizeof image);
}

static void example1_fails_install_when_the_fetched_image_differs(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    /* Real SHA-256 of the fetched bytes: not the sample digest. */
    dev_add_fetch("http://example.com/file.bin", image, sizeof image, NULL);
    load_example("example1");
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    assert_int_equal(err.command, DSUIT_SUIT_COND_IMAGE_MATCH);
}

static void example1_fetch_again_stops_then_resumes(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    dev.fetch[0].again = 2;
    load_example("example1");
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_AGAIN,
               DSUIT_SUIT_STAGE_NONE, DSUIT_SUIT_INSTALL);
    EXPECT_LOG("fetch 0 http://example.com/file.bin");
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_AGAIN,
               DSUIT_SUIT_STAGE_NONE, DSUIT_SUIT_INSTALL);
    /* The platform has the data now: processing again completes. */
    dev.n_log = 0;
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("fetch 0 http://example.com/file.bin", "digest 0", "digest 0");
}

static void
example1_unknown_uri_ends_processing_with_the_fetch_error(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_example("example1");
    int rc = run(DSUIT_SUIT_UPDATE, &err);
    expect_err(rc, &err, DSUIT_E_NOTFOUND, DSUIT_SUIT_STAGE_NONE,
               DSUIT_SUIT_INSTALL);
    EXPECT_LOG("fetch 0 http://example.com/file.bin");
}

static void example2_installs_from_the_long_path(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    load_example("example2");
    expect_ok(run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("fetch 0 http://example.com/very/long/path/to/file/file.bin",
               "digest 0", "digest 0", "invoke 0");
}

static void example2_severed_cannot_install_but_boots(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    dev_claim(0, SAMPLE, 0);
    load_example("example2-severed");
    expect_err(run(DSUIT_SUIT_RUN_INSTALL, &err), &err, DSUIT_E_SUIT_SEVERED,
               DSUIT_SUIT_STAGE_NONE, DSUIT_SUIT_INSTALL);
    assert_false(
        logged("fetch 0 http://example.com/very/long/path/to/file/file.bin"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_SEVERED,
               DSUIT_SUIT_STAGE_NONE, DSUIT_SUIT_INSTALL);
    dev.n_log = 0;
    expect_ok(run(DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("digest 0", "invoke 0");
}

static void example3_picks_the_image_for_the_slot_in_use(void **state)
{
    (void)state;
    dsuit_suit_error_t err;

    /* Slot 1: the second try-each sequence applies. */
    dev_reset();
    add_example_fetches();
    dev.slot[0] = 1;
    load_example("example3");
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    assert_true(logged("fetch 0 http://example.com/file2.bin"));
    assert_false(logged("fetch 0 http://example.com/file1.bin"));
    expect_wanted_digest(SAMPLE2);
    assert_int_equal(dev.last_size, 76834);

    /* Slot 0: the first. */
    dev_reset();
    add_example_fetches();
    dev.slot[0] = 0;
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    assert_true(logged("fetch 0 http://example.com/file1.bin"));
    assert_false(logged("fetch 0 http://example.com/file2.bin"));
    expect_wanted_digest(SAMPLE);
    assert_int_equal(dev.last_size, 34768);

    /* Neither slot: the shared try-each fails as a whole. */
    dev_reset();
    add_example_fetches();
    dev.slot[0] = 2;
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_SHARED, DSUIT_SUIT_SECTION_SHARED);
    assert_int_equal(err.command, DSUIT_SUIT_DIR_TRY_EACH);
    assert_false(logged("fetch 0 http://example.com/file1.bin"));
    assert_false(logged("fetch 0 http://example.com/file2.bin"));
}

static void example4_fetches_installs_loads_and_invokes_in_order(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    /* Loading transforms the image on a real device: component 2's
     * claimed digest is the load digest whatever is copied into it. */
    dev_claim(2, SAMPLE2, 1);
    load_example("example4");
    expect_ok(run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("fetch 1 http://example.com/file.bin", "digest 1", /* fetch */
               "copy 1->0", "digest 0",                           /* install */
               "digest 0",                                        /* validate */
               "copy 0->2", "digest 2",                           /* load */
               "invoke 2");                                       /* invoke */
    assert_memory_equal(dev.data[2], image, sizeof image);
    expect_wanted_digest(SAMPLE2);
    assert_int_equal(dev.last_size, 76834);
}

static void example4_boot_alone_loads_and_invokes(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    dev_claim(0, SAMPLE, 0);
    dev_claim(2, SAMPLE2, 1);
    load_example("example4");
    expect_ok(run(DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("digest 0", "copy 0->2", "digest 2", "invoke 2");
}

static void example5_fetches_two_images_into_two_components(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    load_example("example5");
    expect_ok(run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("fetch 0 http://example.com/file1.bin", "digest 0",
               "fetch 1 http://example.com/file2.bin", "digest 1", /* install */
               "digest 0", "digest 1", /* validate */
               "invoke 0");            /* invoke */
    assert_memory_equal(dev.data[0], image, 32);
    assert_memory_equal(dev.data[1], image + 32, 32);
}

static void example5_second_image_mismatch_fails_at_its_command(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    dev.fetch[3].claim = SAMPLE; /* file2.bin is not the second image */
    load_example("example5");
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    assert_int_equal(err.command, DSUIT_SUIT_COND_IMAGE_MATCH);
    EXPECT_LOG("fetch 0 http://example.com/file1.bin", "digest 0",
               "fetch 1 http://example.com/file2.bin", "digest 1");
}

static void process_with_no_procedure_calls_nothing(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_example("example4");
    expect_ok(run(0, &err), &err);
    assert_int_equal(dev.n_log, 0);
}

/* ------------------------------------------------------------------ */
/* Built manifests                                                    */
/* ------------------------------------------------------------------ */

#define VENDOR "h'fa6b4a53d5ad5fdfbe9de663e4d41ffe'"
#define CLASS  "h'1492af1425695e48bf429b2d51f2ab45'"
#define IDS    "20, {1: " VENDOR ", 2: " CLASS "}"
#define SHARED "[" IDS ", 1, 15, 2, 15]"
#define MAN1(sections)                                                         \
    "{1: 1, 2: 1, 3: <<{2: [[h'00']], 4: <<" SHARED ">>}>>" sections "}"

static void hexify(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static uint8_t real_image[4000];

static void real_manifest(char *diag, size_t cap)
{
    uint8_t d[32];
    char hex[65];
    for (size_t i = 0; i < sizeof real_image; i++)
        real_image[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(dsuit_sha256(real_image, sizeof real_image, d), DSUIT_OK);
    hexify(d, 32, hex);
    snprintf(diag, cap,
             "{1: 1, 2: 9, 3: <<{2: [[h'00']], 4: <<[20, {1: " VENDOR
             ", 2: " CLASS ", 3: <<[-16, h'%s']>>, 14: %zu}, 1, 15, 2, 15]>>}>>"
             ", 7: <<[3, 15]>>, 9: <<[23, 2]>>, 20: <<[20, {21: "
             "\"http://example.com/real.bin\"}, 21, 2, 3, 15]>>}",
             hex, sizeof real_image);
}

static void real_digest_end_to_end_installs_and_boots(void **state)
{
    (void)state;
    static char diag[2048];
    dsuit_suit_error_t err;
    real_manifest(diag, sizeof diag);
    dev_reset();
    dev_add_fetch("http://example.com/real.bin", real_image, sizeof real_image,
                  NULL);
    load_built(diag);
    expect_ok(run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("fetch 0 http://example.com/real.bin", "digest 0", "digest 0",
               "invoke 0");
    assert_int_equal(dev.len[0], sizeof real_image);
}

static void real_digest_end_to_end_refuses_one_flipped_byte(void **state)
{
    (void)state;
    static char diag[2048];
    static uint8_t bad[sizeof real_image];
    dsuit_suit_error_t err;
    real_manifest(diag, sizeof diag);
    for (size_t at = 0; at < sizeof bad; at += 999) {
        memcpy(bad, real_image, sizeof bad);
        bad[at] ^= 0x01;
        dev_reset();
        dev_add_fetch("http://example.com/real.bin", bad, sizeof bad, NULL);
        load_built(diag);
        expect_err(run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err), &err,
                   DSUIT_E_SUIT_CONDITION, DSUIT_SUIT_STAGE_COMMAND,
                   DSUIT_SUIT_INSTALL);
        assert_int_equal(err.command, DSUIT_SUIT_COND_IMAGE_MATCH);
        assert_false(logged("invoke 0"));
    }
    /* A truncated image (one byte short of image-size) fails as well. */
    dev_reset();
    dev_add_fetch("http://example.com/real.bin", real_image,
                  sizeof real_image - 1, NULL);
    load_built(diag);
    int rc = run(DSUIT_SUIT_UPDATE | DSUIT_SUIT_BOOT, &err);
    assert_int_not_equal(rc, DSUIT_OK);
    assert_false(logged("invoke 0"));
}

/* example0's shared sequence: 86 | 14 | a4 | 01 50 <16> | 02 50 <16> |
 * 03 58 24 <82 2f 58 20 <32>> | 0e 19 87 d0 | 01 0f | 02 0f, so the vendor
 * condition is at offset 1+1+1+17+17+(1+2+36)+(1+3) = 82 and the class
 * condition at 84; validate [3, 15] has image-match at offset 1. */
#define OFF_VENDOR 82
#define OFF_CLASS  84

static void expect_record(size_t i, int64_t section, size_t offset,
                          size_t component, int64_t command, int result)
{
    if (i >= dev.n_rec)
        fail_msg("record %zu missing (%zu records)", i, dev.n_rec);
    const dsuit_suit_record_t *r = &dev.rec[i];
    if (r->section != section || r->offset != offset ||
        r->component != component || r->command != command ||
        r->result != result)
        fail_msg("record %zu: section %lld offset %zu component %zu command "
                 "%lld result %s; want %lld %zu %zu %lld %s",
                 i, (long long)r->section, r->offset, r->component,
                 (long long)r->command, dsuit_err_name(r->result),
                 (long long)section, offset, component, (long long)command,
                 dsuit_err_name(result));
}

static void reporting_policy_15_records_every_condition_that_ran(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    dev_claim(0, SAMPLE, 0);
    load_example("example0"); /* conditions 15, invoke 2 */
    expect_ok(run(DSUIT_SUIT_BOOT, &err), &err);
    /* shared + validate, then shared + invoke (whose policy 2 asks for a
     * record on failure only). */
    assert_int_equal(dev.n_rec, 5);
    expect_record(0, DSUIT_SUIT_SECTION_SHARED, OFF_VENDOR, 0,
                  DSUIT_SUIT_COND_VENDOR_ID, DSUIT_OK);
    expect_record(1, DSUIT_SUIT_SECTION_SHARED, OFF_CLASS, 0,
                  DSUIT_SUIT_COND_CLASS_ID, DSUIT_OK);
    expect_record(2, DSUIT_SUIT_VALIDATE, 1, 0, DSUIT_SUIT_COND_IMAGE_MATCH,
                  DSUIT_OK);
    expect_record(3, DSUIT_SUIT_SECTION_SHARED, OFF_VENDOR, 0,
                  DSUIT_SUIT_COND_VENDOR_ID, DSUIT_OK);
    expect_record(4, DSUIT_SUIT_SECTION_SHARED, OFF_CLASS, 0,
                  DSUIT_SUIT_COND_CLASS_ID, DSUIT_OK);
    for (size_t i = 0; i < dev.n_rec; i++)
        assert_int_equal(dev.rec[i].policy, 15);
}

static void reporting_policy_0_records_nothing(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    dev_claim(0, SAMPLE, 0);
    load_built("{1: 1, 2: 1, 3: <<{2: [[h'00']], 4: <<[20, {1: " VENDOR
               ", 2: " CLASS ", 3: <<[-16, h'00112233445566778899aabbccddeeff"
               "0123456789abcdeffedcba9876543210']>>}, 1, 0, 2, 0]>>}>>, "
               "7: <<[3, 0]>>, 9: <<[23, 0]>>}");
    expect_ok(run(DSUIT_SUIT_BOOT, &err), &err);
    EXPECT_LOG("digest 0", "invoke 0");
    assert_int_equal(dev.n_rec, 0);
    /* A failure with policy 0 is not recorded either. */
    dev_reset();
    expect_err(run(DSUIT_SUIT_BOOT, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_VALIDATE);
    assert_int_equal(dev.n_rec, 0);
}

static void reporting_policy_2_records_only_the_failure(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset(); /* no claim: the image does not match */
    load_built("{1: 1, 2: 1, 3: <<{2: [[h'00']], 4: <<[20, {1: " VENDOR
               ", 2: " CLASS ", 3: <<[-16, h'00112233445566778899aabbccddeeff"
               "0123456789abcdeffedcba9876543210']>>}, 1, 2, 2, 2]>>}>>, "
               "7: <<[3, 2]>>}");
    expect_err(run(DSUIT_SUIT_BOOT, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_VALIDATE);
    assert_int_equal(dev.n_rec, 1);
    expect_record(0, DSUIT_SUIT_VALIDATE, 1, 0, DSUIT_SUIT_COND_IMAGE_MATCH,
                  DSUIT_E_SUIT_CONDITION);
}

static void
reporting_with_index_true_records_each_component_in_order(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    dev_claim(0, SAMPLE, 0);
    dev_claim(1, SAMPLE, 0);
    load_built("{1: 1, 2: 1, 3: <<{2: [[h'00'], [h'01']], 4: <<[12, true, 20, "
               "{1: " VENDOR ", 2: " CLASS ", 3: <<[-16, h'00112233445566778899"
               "aabbccddeeff0123456789abcdeffedcba9876543210']>>}, 1, 0, 2, 0]"
               ">>}>>, 7: <<[12, true, 3, 1]>>}");
    expect_ok(run(DSUIT_SUIT_RUN_VALIDATE, &err), &err);
    EXPECT_LOG("digest 0", "digest 1");
    assert_int_equal(dev.n_rec, 2);
    expect_record(0, DSUIT_SUIT_VALIDATE, 3, 0, DSUIT_SUIT_COND_IMAGE_MATCH,
                  DSUIT_OK);
    expect_record(1, DSUIT_SUIT_VALIDATE, 3, 1, DSUIT_SUIT_COND_IMAGE_MATCH,
                  DSUIT_OK);
}

static void check_content_passes_after_writing_the_same_bytes(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    static const uint8_t content[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    dev_reset();
    load_built(MAN1(", 20: <<[20, {18: h'010203040506070809'}, 18, 2, "
                    "6, 15]>>"));
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    /* How many reads it takes is the processor's business. */
    assert_true(dev.n_log >= 2);
    assert_string_equal(dev.log[0], "write 0 9");
    for (size_t i = 1; i < dev.n_log; i++)
        assert_string_equal(dev.log[i], "read 0");
    assert_int_equal(dev.len[0], sizeof content);
    assert_memory_equal(dev.data[0], content, sizeof content);
}

static void check_content_fails_when_the_last_byte_differs(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[20, {18: h'010203040506070809'}, 18, 2, "
                    "20, {18: h'010203040506070800'}, 6, 15]>>"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    assert_int_equal(err.command, DSUIT_SUIT_COND_CHECK_CONTENT);
    /* A longer component than the content does not match either. */
    dev_reset();
    load_built(MAN1(", 20: <<[20, {18: h'010203040506070809'}, 18, 2, "
                    "20, {18: h'0102030405060708'}, 6, 15]>>"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    /* Nor a shorter one. */
    dev_reset();
    load_built(MAN1(", 20: <<[20, {18: h'0102030405060708'}, 18, 2, "
                    "20, {18: h'010203040506070809'}, 6, 15]>>"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
}

static void soft_failure_in_try_each_lets_the_next_sequence_run(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[15, [<<[14, 15, 20, {18: h'aa'}, 18, 2]>>, "
                    "<<[20, {18: h'bbbb'}, 18, 2]>>]]>>"));
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("write 0 2"); /* the first sequence stopped at abort */
    assert_int_equal(dev.data[0][0], 0xbb);
}

static void try_each_stops_at_the_first_sequence_that_completes(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[15, [<<[20, {18: h'aa'}, 18, 2]>>, "
                    "<<[20, {18: h'bbbb'}, 18, 2]>>]]>>"));
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("write 0 1");
}

static void
try_each_with_soft_failure_off_fails_at_the_first_condition(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[15, [<<[20, {13: false}, 14, 15]>>, "
                    "<<[20, {18: h'bb'}, 18, 2]>>]]>>"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    assert_int_equal(dev.n_log, 0);
}

static void
try_each_fails_when_every_sequence_fails_unless_nil_ends_it(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[15, [<<[14, 15]>>, <<[14, 15]>>], "
                    "20, {18: h'cc'}, 18, 2]>>"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    assert_int_equal(dev.n_log, 0);
    dev_reset();
    load_built(MAN1(", 20: <<[15, [<<[14, 15]>>, <<[14, 15]>>, null], "
                    "20, {18: h'cc'}, 18, 2]>>"));
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("write 0 1");
}

static void directive_failure_inside_try_each_is_not_soft(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    /* §6.4: the interpreter aborts on a failed directive whatever
     * soft-failure says; the second sequence must not run. */
    dev_reset();
    load_built(MAN1(", 20: <<[15, [<<[20, {21: \"http://nowhere/\"}, 21, 2]>>, "
                    "<<[20, {18: h'bb'}, 18, 2]>>]]>>"));
    int rc = run(DSUIT_SUIT_UPDATE, &err);
    assert_int_equal(rc, DSUIT_E_NOTFOUND);
    EXPECT_LOG("fetch 0 http://nowhere/");
}

static void run_sequence_with_soft_failure_halts_without_error(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[32, <<[20, {13: true}, 14, 15, 20, {18: h'bb'}, "
                    "18, 2]>>, 20, {18: h'cccc'}, 18, 2]>>"));
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("write 0 2"); /* only the write after the run-sequence */
    assert_int_equal(dev.data[0][0], 0xcc);
}

static void run_sequence_abort_without_soft_failure_fails(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[32, <<[14, 15]>>, 20, {18: h'cc'}, 18, 2]>>"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    assert_int_equal(err.command, DSUIT_SUIT_COND_ABORT);
    assert_int_equal(dev.n_log, 0);
}

static void soft_failure_does_not_leak_out_of_run_sequence(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    /* §8.4.8.15: soft-failure reverts when its sequence ends, so the abort
     * after the run-sequence is a hard failure. */
    dev_reset();
    load_built(MAN1(", 20: <<[32, <<[20, {13: true}]>>, 14, 15, "
                    "20, {18: h'cc'}, 18, 2]>>"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    assert_int_equal(dev.n_log, 0);
}

static void check_runs_before_any_directive(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    /* An unknown command after a fetch: refused before the fetch runs. */
    load_built(MAN1(", 20: <<[20, {21: \"http://example.com/file.bin\"}, 21, "
                    "2, 99, 15]>>"));
    expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_UNSUPPORTED,
               DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    assert_int_equal(dev.n_log, 0);
}

static void copy_and_swap_use_the_source_component(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built("{1: 1, 2: 1, 3: <<{2: [[h'00'], [h'01']], 4: <<[12, 0, " IDS
               ", 1, 15, 2, 15]>>}>>, 20: <<[12, 1, 20, {18: h'1111'}, 18, 2, "
               "12, 0, 20, {18: h'22', 22: 1}, 18, 2, 31, 2, 12, 1, 20, "
               "{22: 0}, 22, 2]>>}");
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("write 1 2", "write 0 1", "swap 0<->1", "copy 0->1");
    assert_int_equal(dev.len[0], 2);
    assert_int_equal(dev.len[1], 2);
    assert_int_equal(dev.data[1][0], 0x11);
}

static void copy_without_source_component_fails(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[22, 2]>>"));
    int rc = run(DSUIT_SUIT_UPDATE, &err);
    assert_int_not_equal(rc, DSUIT_OK);
    assert_non_null(err.reason);
    assert_int_equal(dev.n_log, 0);
    /* Fetch without a uri, write without content: likewise. */
    dev_reset();
    load_built(MAN1(", 20: <<[21, 2]>>"));
    assert_int_not_equal(run(DSUIT_SUIT_UPDATE, &err), DSUIT_OK);
    assert_int_equal(dev.n_log, 0);
    load_built(MAN1(", 20: <<[18, 2]>>"));
    assert_int_not_equal(run(DSUIT_SUIT_UPDATE, &err), DSUIT_OK);
    assert_int_equal(dev.n_log, 0);
}

static void parameters_are_per_component(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    /* content set for component 0 only: a write to component 1 has none. */
    dev_reset();
    load_built("{1: 1, 2: 1, 3: <<{2: [[h'00'], [h'01']], 4: <<[12, 0, " IDS
               ", 1, 15, 2, 15]>>}>>, 20: <<[12, 0, 20, {18: h'11'}, 18, 2, "
               "12, 1, 18, 2]>>}");
    int rc = run(DSUIT_SUIT_UPDATE, &err);
    assert_int_not_equal(rc, DSUIT_OK);
    EXPECT_LOG("write 0 1");
}

static void
run_sequence_condition_failure_inside_try_each_tries_the_next(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    /* §8.4.10.8: run-sequence forwards the condition failure of its
     * sequence; in a try-each sequence, where soft-failure is true
     * (§8.4.10.2), a condition failure moves on to the next sequence,
     * exactly as a nested try-each that fails as a whole does. */
    dev_reset();
    load_built(MAN1(", 20: <<[15, [<<[32, <<[14, 15]>>]>>, "
                    "<<[20, {18: h'bb'}, 18, 2]>>]]>>"));
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("write 0 1");
}

static void nested_try_each_failure_inside_try_each_tries_the_next(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    load_built(MAN1(", 20: <<[15, [<<[15, [<<[14, 15]>>, <<[14, 15]>>]]>>, "
                    "<<[20, {18: h'bb'}, 18, 2]>>]]>>"));
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("write 0 1");
}

static void index_true_applies_each_command_to_every_component(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    dev_reset();
    add_example_fetches();
    load_built("{1: 1, 2: 1, 3: <<{2: [[h'00'], [h'01'], [h'02']], 4: <<[12, "
               "true, " IDS ", 1, 15, 2, 15]>>}>>, 20: <<[12, true, 20, "
               "{21: \"http://example.com/file1.bin\"}, 21, 2, 12, [2, 0], "
               "23, 2]>>}");
    expect_ok(run(DSUIT_SUIT_UPDATE, &err), &err);
    EXPECT_LOG("fetch 0 http://example.com/file1.bin",
               "fetch 1 http://example.com/file1.bin",
               "fetch 2 http://example.com/file1.bin", "invoke 2", "invoke 0");
}

static void conditions_without_their_parameter_fail(void **state)
{
    (void)state;
    dsuit_suit_error_t err;
    static const char *const seqs[] = {
        MAN1(", 20: <<[3, 15]>>"),  /* image-match, no image-digest */
        MAN1(", 20: <<[5, 15]>>"),  /* component-slot, no slot */
        MAN1(", 20: <<[6, 15]>>"),  /* check-content, no content */
        MAN1(", 20: <<[24, 15]>>"), /* device-identifier, no device-id */
    };
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        dev_reset();
        dev_claim(0, SAMPLE, 0);
        load_built(seqs[i]);
        expect_err(run(DSUIT_SUIT_UPDATE, &err), &err, DSUIT_E_SUIT_CONDITION,
                   DSUIT_SUIT_STAGE_COMMAND, DSUIT_SUIT_INSTALL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example0_boots_component_0_when_its_image_matches),
        cmocka_unit_test(example0_fails_validate_when_the_image_differs),
        cmocka_unit_test(
            example0_refuses_another_vendor_before_any_platform_call),
        cmocka_unit_test(
            example0_invoke_without_a_platform_invoke_is_unsupported),
        cmocka_unit_test(
            example1_fetches_file_bin_into_component_0_and_never_invokes),
        cmocka_unit_test(example1_fails_install_when_the_fetched_image_differs),
        cmocka_unit_test(example1_fetch_again_stops_then_resumes),
        cmocka_unit_test(
            example1_unknown_uri_ends_processing_with_the_fetch_error),
        cmocka_unit_test(example2_installs_from_the_long_path),
        cmocka_unit_test(example2_severed_cannot_install_but_boots),
        cmocka_unit_test(example3_picks_the_image_for_the_slot_in_use),
        cmocka_unit_test(example4_fetches_installs_loads_and_invokes_in_order),
        cmocka_unit_test(example4_boot_alone_loads_and_invokes),
        cmocka_unit_test(example5_fetches_two_images_into_two_components),
        cmocka_unit_test(example5_second_image_mismatch_fails_at_its_command),
        cmocka_unit_test(process_with_no_procedure_calls_nothing),
        cmocka_unit_test(real_digest_end_to_end_installs_and_boots),
        cmocka_unit_test(real_digest_end_to_end_refuses_one_flipped_byte),
        cmocka_unit_test(reporting_policy_15_records_every_condition_that_ran),
        cmocka_unit_test(reporting_policy_0_records_nothing),
        cmocka_unit_test(reporting_policy_2_records_only_the_failure),
        cmocka_unit_test(
            reporting_with_index_true_records_each_component_in_order),
        cmocka_unit_test(check_content_passes_after_writing_the_same_bytes),
        cmocka_unit_test(check_content_fails_when_the_last_byte_differs),
        cmocka_unit_test(soft_failure_in_try_each_lets_the_next_sequence_run),
        cmocka_unit_test(try_each_stops_at_the_first_sequence_that_completes),
        cmocka_unit_test(
            try_each_with_soft_failure_off_fails_at_the_first_condition),
        cmocka_unit_test(
            try_each_fails_when_every_sequence_fails_unless_nil_ends_it),
        cmocka_unit_test(directive_failure_inside_try_each_is_not_soft),
        cmocka_unit_test(run_sequence_with_soft_failure_halts_without_error),
        cmocka_unit_test(run_sequence_abort_without_soft_failure_fails),
        cmocka_unit_test(soft_failure_does_not_leak_out_of_run_sequence),
        cmocka_unit_test(check_runs_before_any_directive),
        cmocka_unit_test(copy_and_swap_use_the_source_component),
        cmocka_unit_test(copy_without_source_component_fails),
        cmocka_unit_test(parameters_are_per_component),
        cmocka_unit_test(
            run_sequence_condition_failure_inside_try_each_tries_the_next),
        cmocka_unit_test(
            nested_try_each_failure_inside_try_each_tries_the_next),
        cmocka_unit_test(index_true_applies_each_command_to_every_component),
        cmocka_unit_test(conditions_without_their_parameter_fail),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
