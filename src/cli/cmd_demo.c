/*
 * `dsuit demo`: show the signing round trip of the Distributed SUIT
 * Architecture end to end on one machine and time each step. Today (before
 * the ledger and the network exist) it runs, in a fresh temporary folder:
 *
 *   author keys   an ES256 and an Ed25519 key pair, saved as keygen would
 *                 (PKCS#8 PEM + COSE_Key) and the public keys read back
 *   image         a 1 MiB pseudo-random "firmware image", and its SHA-256
 *   signing       the digest signed as COSE_Sign1 with a detached payload
 *                 (RFC 9052 §4.2), alg ESP256 (-9) and Ed25519 (-19)
 *   verifying     the image read back, hashed, and each signature parsed
 *                 and verified with the reloaded public key
 *   tampering     one image byte flipped; both signatures must now be
 *                 rejected with DSUIT_E_SIGNATURE (fail closed)
 *
 * The demo is a list of steps run in order; a failed step stops the run
 * and the rest are reported as skipped. It will grow into the distributed
 * demo (genesis, nodes, publishing, a device fetching and verifying) by
 * adding steps. Page: docs/cli/dsuit-demo.md.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"

#define CMD "demo"

#define DEMO_IMAGE_LEN  (1024 * 1024)
#define DEMO_IMAGE_SEED 0x5d5e17c0ffee2024ULL
/* Sig_structure for a 32-byte payload is about 50 bytes; the COSE_Sign1
 * with a 32-byte kid about 110. */
#define DEMO_SCRATCH_MAX 256
#define DEMO_COSE_MAX    256
#define DEMO_PEM_MAX     1024

static const char usage[] =
    "usage: dsuit demo [--keep]\n"
    "\n"
    "Run the signing round trip in a temporary folder: generate ES256 and\n"
    "Ed25519 author keys, hash a 1 MiB firmware image, sign the digest as\n"
    "detached COSE_Sign1, verify both signatures, then flip one image byte\n"
    "and show that verification rejects it. Prints one line per step with\n"
    "its time in milliseconds, then a summary.\n"
    "\n"
    "options:\n"
    "  --help, -h   show this help\n"
    "  --keep       keep the temporary folder and print its path\n";

enum { OPT_KEEP = 256 };

/* Sorted by name. */
static const struct option longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"keep", no_argument, NULL, OPT_KEEP},
    {NULL, 0, NULL, 0},
};

/* One author: its key pair, the public key read back from its file, and
 * its signature over the image digest. */
struct demo_author {
    const char *name; /* file name stem in the work folder */
    dsuit_key_type_t type;
    int64_t cose_alg;
    dsuit_key_t key; /* private, as generated */
    dsuit_key_t pub; /* public, reloaded from <name>.pub */
    uint8_t id[DSUIT_SHA256_LEN];
    uint8_t sign1[DEMO_COSE_MAX];
    size_t sign1_len;
};

struct demo {
    char dir[4096]; /* the work folder */
    char image_path[4200];
    struct demo_author es256, ed25519;
    uint8_t *image; /* DEMO_IMAGE_LEN bytes */
    uint8_t digest[DSUIT_SHA256_LEN];
    size_t flipped_at;
    char note[160]; /* printed after a passing step */
    char why[200];  /* reason a step failed */
};

static void note(struct demo *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct demo *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->note, sizeof(d->note), fmt, ap);
    va_end(ap);
}

static int fail(struct demo *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct demo *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof(d->why), fmt, ap);
    va_end(ap);
    return -1;
}

/* First 8 bytes of a key id in hex, enough to tell keys apart on screen. */
static const char *short_id(const uint8_t id[DSUIT_SHA256_LEN], char *buf,
                            size_t cap)
{
    cli_hex_encode(id, 8, buf, cap);
    return buf;
}

static int generate(struct demo *d, struct demo_author *a)
{
    char hex[17];
    int err = dsuit_key_generate(a->type, &a->key);
    if (err == DSUIT_OK)
        err = dsuit_cose_key_id(&a->key, a->id);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    note(d, "key id %s...", short_id(a->id, hex, sizeof(hex)));
    return 0;
}

static int step_generate_es256(struct demo *d)
{
    return generate(d, &d->es256);
}

static int step_generate_ed25519(struct demo *d)
{
    return generate(d, &d->ed25519);
}

/* Save one author's keys as `dsuit keygen` does and read the public key
 * back, checking it is the key that was generated. */
static int save_and_reload(struct demo *d, struct demo_author *a)
{
    char path[4300], pem[DEMO_PEM_MAX];
    uint8_t cose[DSUIT_COSE_KEY_MAX], id[DSUIT_SHA256_LEN];
    size_t pem_len, cose_len;
    int err, rc = -1;

    err = dsuit_key_to_pem(&a->key, 1, pem, sizeof(pem), &pem_len);
    if (err == DSUIT_OK)
        err = dsuit_cose_key_encode(&a->key, cose, sizeof(cose), &cose_len);
    if (err != DSUIT_OK) {
        fail(d, "cannot encode the %s key: %s", a->name, dsuit_strerror(err));
        goto out;
    }
    snprintf(path, sizeof(path), "%s/%s.key", d->dir, a->name);
    if (cli_write_file_atomic(CMD, path, pem, pem_len, 0600, 0)) {
        fail(d, "cannot write '%s'", path);
        goto out;
    }
    snprintf(path, sizeof(path), "%s/%s.pub", d->dir, a->name);
    if (cli_write_file_atomic(CMD, path, cose, cose_len, 0644, 0)) {
        fail(d, "cannot write '%s'", path);
        goto out;
    }
    if (cli_load_key(CMD, path, &a->pub)) {
        fail(d, "cannot load '%s'", path);
        goto out;
    }
    err = dsuit_cose_key_id(&a->pub, id);
    if (err != DSUIT_OK) {
        fail(d, "cannot compute the key id: %s", dsuit_strerror(err));
        goto out;
    }
    if (a->pub.has_private || memcmp(id, a->id, sizeof(id)) != 0) {
        fail(d, "'%s' does not hold the public key generated", path);
        goto out;
    }
    rc = 0;
out:
    dsuit_wipe(pem, sizeof(pem));
    return rc;
}

static int step_save_keys(struct demo *d)
{
    if (save_and_reload(d, &d->es256) || save_and_reload(d, &d->ed25519))
        return -1;
    note(d, "%s.{key,pub}, %s.{key,pub}", d->es256.name, d->ed25519.name);
    return 0;
}

/* xorshift64*: a fixed, fast pseudo-random sequence, so every run builds
 * the same image (and the same ECDSA signatures, RFC 6979). */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

static int step_write_image(struct demo *d)
{
    uint64_t s = DEMO_IMAGE_SEED;
    d->image = malloc(DEMO_IMAGE_LEN);
    if (d->image == NULL)
        return fail(d, "%s", strerror(ENOMEM));
    for (size_t i = 0; i < DEMO_IMAGE_LEN; i += 8) {
        uint64_t r = next_random(&s);
        for (size_t j = 0; j < 8; j++)
            d->image[i + j] = (uint8_t)(r >> (8 * j));
    }
    if (cli_write_file_atomic(CMD, d->image_path, d->image, DEMO_IMAGE_LEN,
                              0644, 0))
        return fail(d, "cannot write '%s'", d->image_path);
    note(d, "firmware.bin, %d bytes", DEMO_IMAGE_LEN);
    return 0;
}

static int step_hash_image(struct demo *d)
{
    char hex[17];
    int err = dsuit_sha256(d->image, DEMO_IMAGE_LEN, d->digest);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    cli_hex_encode(d->digest, 8, hex, sizeof(hex));
    note(d, "sha-256 %s...", hex);
    return 0;
}

/* Sign the image digest as a COSE_Sign1 with the payload detached: the
 * manifest-style signature travels without the 32 bytes it covers, and the
 * verifier supplies the digest it computed itself. */
static int sign(struct demo *d, struct demo_author *a)
{
    uint8_t scratch[DEMO_SCRATCH_MAX];
    dsuit_cose_opts_t opts = {
        .kind = DSUIT_COSE_SIGN1,
        .alg = a->cose_alg,
        .tagged = 1,
        .detached = 1,
        .kid = a->id,
        .kid_len = sizeof(a->id),
    };
    int err = dsuit_cose_create(&opts, &a->key, d->digest, sizeof(d->digest),
                                NULL, 0, scratch, sizeof(scratch), a->sign1,
                                sizeof(a->sign1), &a->sign1_len);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    note(d, "COSE_Sign1 of %zu bytes", a->sign1_len);
    return 0;
}

static int step_sign_es256(struct demo *d)
{
    return sign(d, &d->es256);
}

static int step_sign_ed25519(struct demo *d)
{
    return sign(d, &d->ed25519);
}

/* What a device does: read the image it received, hash it, parse the
 * signature and verify it over that digest with the author's public key.
 * Returns the dsuit error of the first check that fails, or DSUIT_OK. */
static int check_image(struct demo *d, const struct demo_author *a)
{
    uint8_t *image = NULL, digest[DSUIT_SHA256_LEN], scratch[DEMO_SCRATCH_MAX];
    size_t len = 0;
    dsuit_cose_msg_t msg;
    int err = DSUIT_E_IO;

    if (cli_read_file(CMD, d->image_path, 2 * DEMO_IMAGE_LEN, &image, &len))
        goto out;
    err = dsuit_sha256(image, len, digest);
    if (err != DSUIT_OK)
        goto out;
    err = dsuit_cose_parse(a->sign1, a->sign1_len, DSUIT_COSE_SIGN1, &msg);
    if (err != DSUIT_OK)
        goto out;
    /* The signature must be the kind we made: detached, with our alg. */
    if (msg.payload != NULL || msg.alg != a->cose_alg) {
        err = DSUIT_E_COSE;
        goto out;
    }
    err = dsuit_cose_verify(&msg, &a->pub, digest, sizeof(digest), NULL, 0,
                            scratch, sizeof(scratch));
out:
    free(image);
    return err;
}

static int verify(struct demo *d, const struct demo_author *a)
{
    int err = check_image(d, a);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    note(d, "signature verifies");
    return 0;
}

static int step_verify_es256(struct demo *d)
{
    return verify(d, &d->es256);
}

static int step_verify_ed25519(struct demo *d)
{
    return verify(d, &d->ed25519);
}

static int step_flip_byte(struct demo *d)
{
    uint64_t s = DEMO_IMAGE_SEED ^ 0xf11bULL;
    uint8_t before;

    d->flipped_at = (size_t)(next_random(&s) % DEMO_IMAGE_LEN);
    before = d->image[d->flipped_at];
    d->image[d->flipped_at] ^= 0xff;
    if (cli_write_file_atomic(CMD, d->image_path, d->image, DEMO_IMAGE_LEN,
                              0644, 1))
        return fail(d, "cannot write '%s'", d->image_path);
    note(d, "byte %zu: 0x%02x -> 0x%02x", d->flipped_at, before,
         d->image[d->flipped_at]);
    return 0;
}

/* Fail closed: the only acceptable outcome is "signature does not verify". */
static int reject(struct demo *d, const struct demo_author *a)
{
    int err = check_image(d, a);
    if (err == DSUIT_OK)
        return fail(d, "the tampered image was accepted");
    if (err != DSUIT_E_SIGNATURE)
        return fail(d, "expected '%s', got '%s'",
                    dsuit_strerror(DSUIT_E_SIGNATURE), dsuit_strerror(err));
    note(d, "rejected: %s", dsuit_strerror(err));
    return 0;
}

static int step_reject_es256(struct demo *d)
{
    return reject(d, &d->es256);
}

static int step_reject_ed25519(struct demo *d)
{
    return reject(d, &d->ed25519);
}

struct demo_step {
    const char *title;
    int (*run)(struct demo *d); /* 0, or -1 with d->why set */
};

static const struct demo_step steps[] = {
    {"generate ES256 author key", step_generate_es256},
    {"generate Ed25519 author key", step_generate_ed25519},
    {"save author keys, reload public keys", step_save_keys},
    {"write 1 MiB firmware image", step_write_image},
    {"hash image with SHA-256", step_hash_image},
    {"sign digest, ESP256 detached COSE_Sign1", step_sign_es256},
    {"sign digest, Ed25519 detached COSE_Sign1", step_sign_ed25519},
    {"verify image with ES256 author key", step_verify_es256},
    {"verify image with Ed25519 author key", step_verify_ed25519},
    {"flip one byte of the image", step_flip_byte},
    {"ES256 signature rejects tampered image", step_reject_es256},
    {"Ed25519 signature rejects tampered image", step_reject_ed25519},
};

/* Create the work folder under $TMPDIR (or /tmp). */
static int make_work_dir(struct demo *d)
{
    const char *tmp = getenv("TMPDIR");
    int n;
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    n = snprintf(d->dir, sizeof(d->dir), "%s/dsuit-demo-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof(d->dir)) {
        cli_error_subject(CMD, "cannot create folder in", tmp,
                          strerror(ENAMETOOLONG));
        return -1;
    }
    if (mkdtemp(d->dir) == NULL) {
        /* Name the parent: mkdtemp() may have scribbled on the template. */
        cli_error_subject(CMD, "cannot create folder in", tmp, strerror(errno));
        return -1;
    }
    snprintf(d->image_path, sizeof(d->image_path), "%s/firmware.bin", d->dir);
    return 0;
}

/* Remove the work folder: it holds only files the demo wrote, so one
 * level of entries and then the folder itself. */
static int remove_work_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    char path[4400];
    int rc = 0;

    if (dh == NULL)
        rc = -1;
    while (dh != NULL && (e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            rc = -1;
    }
    if (dh != NULL)
        closedir(dh);
    if (rmdir(dir) != 0)
        rc = -1;
    if (rc != 0)
        cli_warn(CMD, "cannot remove '%s': %s", dir, strerror(errno));
    return rc;
}

static void demo_init(struct demo *d)
{
    memset(d, 0, sizeof(*d));
    d->es256.name = "author-es256";
    d->es256.type = DSUIT_KEY_P256;
    d->es256.cose_alg = DSUIT_COSE_ALG_ESP256;
    d->ed25519.name = "author-ed25519";
    d->ed25519.type = DSUIT_KEY_ED25519;
    d->ed25519.cose_alg = DSUIT_COSE_ALG_ED25519;
}

static void demo_release(struct demo *d)
{
    dsuit_key_wipe(&d->es256.key);
    dsuit_key_wipe(&d->es256.pub);
    dsuit_key_wipe(&d->ed25519.key);
    dsuit_key_wipe(&d->ed25519.pub);
    free(d->image);
    d->image = NULL;
}

int cmd_demo(int argc, char **argv)
{
    const size_t n_steps = sizeof(steps) / sizeof(steps[0]);
    struct demo d;
    size_t passed = 0, failed = 0;
    double total = 0;
    int keep = 0, c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_KEEP:
            keep = 1;
            break;
        default:
            return cli_getopt_error(CMD, c, argv, longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);

    demo_init(&d);
    if (make_work_dir(&d) != 0)
        return DSUIT_EXIT_FAIL;
    printf("dsuit demo: signing round trip in %s\n", d.dir);

    for (size_t i = 0; i < n_steps; i++) {
        double t0, ms;
        int r;

        if (failed) {
            printf("%2zu/%zu skip  %9s  %s\n", i + 1, n_steps, "",
                   steps[i].title);
            continue;
        }
        d.note[0] = d.why[0] = '\0';
        t0 = cli_now_ms();
        r = steps[i].run(&d);
        ms = cli_now_ms() - t0;
        total += ms;
        if (r == 0) {
            passed++;
            printf("%2zu/%zu ok    %6.2f ms  %s%s%s\n", i + 1, n_steps, ms,
                   steps[i].title, d.note[0] ? ": " : "", d.note);
        } else {
            failed++;
            printf("%2zu/%zu FAIL  %6.2f ms  %s: %s\n", i + 1, n_steps, ms,
                   steps[i].title, d.why);
            cli_error_subject(CMD, "step failed", steps[i].title, d.why);
        }
        /* Keep the step lines in order with messages on stderr. */
        fflush(stdout);
    }

    demo_release(&d);
    if (keep)
        printf("kept %s\n", d.dir);
    else
        remove_work_dir(d.dir);

    if (failed) {
        printf("demo failed: %zu of %zu steps passed, %zu failed, %zu "
               "skipped (%.2f ms)\n",
               passed, n_steps, failed, n_steps - passed - failed, total);
        return DSUIT_EXIT_FAIL;
    }
    printf("demo passed: %zu of %zu steps in %.2f ms\n", passed, n_steps,
           total);
    return DSUIT_EXIT_OK;
}
