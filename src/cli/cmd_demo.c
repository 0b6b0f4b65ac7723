/*
 * `dsuit demo`: walk through everything dsuit does, on one machine, and
 * time each step. Until the network exists it plays every part itself, in
 * a fresh temporary folder:
 *
 *   keys          an ES256 author key, an Ed25519 registrar and validator
 *                 key, saved as keygen would and the public keys read back
 *   firmware      a 1 MiB pseudo-random image, and its SHA-256
 *   manifest      a signed SUIT envelope from the builder (vendor
 *                 "example.com", class "demo-board", sequence 1, install,
 *                 validate and invoke), its text severed: firmware.suit
 *   author check  the envelope authenticated with the author's public key
 *   ledger        a genesis with the one validator and registrar, and a
 *                 ledger (LMDB) opened on it
 *   register      the author registered by the registrar, proposed and
 *                 applied as a block
 *   publish       the envelope and the image's 256 KiB chunk digests
 *                 published, proposed and applied
 *   certificate   the validator's vote on that block, as a certificate a
 *                 device verifies with its trust (quorum 1 of 1)
 *   device        a simulated device processes the manifest: fetch from
 *                 the uri, image-match, invoke; its report is encoded
 *   tamper        one flipped byte in the fetched image: image-match fails
 *   rollback      a device already at sequence 1 refuses the manifest
 *   replay check  the ledger replayed from genesis and compared
 *
 * The demo is a list of steps run in order; a failed step stops the run
 * and the rest are reported as skipped. The same procedure on real nodes
 * is `dsuit devnet up` plus author, publish and store commands; devices
 * over CoAP/DTLS come with the device service. Page: docs/cli/dsuit-demo.md.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_uuid.h"
#include "dsuit/block.h"
#include "dsuit/cert.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "dsuit/suit.h"
#include "dsuit/suit_build.h"
#include "dsuit/tx.h"

#define CMD "demo"

#define DEMO_IMAGE_LEN  (1024 * 1024)
#define DEMO_IMAGE_SEED 0x5d5e17c0ffee2024ULL
#define DEMO_CHUNK_SIZE DSUIT_POLICY_CHUNK_SIZE
#define DEMO_N_CHUNKS   ((DEMO_IMAGE_LEN + DEMO_CHUNK_SIZE - 1) / DEMO_CHUNK_SIZE)
/* The simulated device's one component: what it can hold. */
#define DEMO_COMPONENT_CAP (1024 * 1024)
#define DEMO_VENDOR_DOMAIN "example.com"
#define DEMO_CLASS_NAME    "demo-board"
#define DEMO_URI           "file:firmware.bin"
/* The envelope is about 500 bytes; a publish adds the chunk digests. */
#define DEMO_ENV_MAX     4096
#define DEMO_TX_MAX      8192
#define DEMO_GENESIS_MAX 4096
#define DEMO_CERT_MAX    256
#define DEMO_REPORT_MAX  2048
#define DEMO_PEM_MAX     1024

static const char usage[] =
    "usage: dsuit demo [--keep]\n"
    "\n"
    "Walk through what dsuit does, on one machine, in a temporary folder:\n"
    "author, registrar and validator keys; a 1 MiB firmware image; a signed\n"
    "SUIT manifest; a genesis and a ledger; the author registered and the\n"
    "manifest published; a commit certificate; a simulated device that\n"
    "updates and boots, refuses a tampered image and a rollback; and a\n"
    "replay check of the ledger. Prints one line per step with its time in\n"
    "milliseconds, then a summary.\n"
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

/* One party's key pair and the public key read back from its file. */
struct demo_key {
    const char *name; /* file name stem in the work folder */
    dsuit_key_type_t type;
    dsuit_key_t key; /* private, as generated */
    dsuit_key_t pub; /* public, reloaded from <name>.pub */
    uint8_t id[DSUIT_SHA256_LEN];
};

/* A simulated device: one component held in memory, and what the
 * processor's platform callbacks did to it. */
struct demo_device {
    const char *dir;    /* where "file:" uris are read from */
    uint8_t *component; /* DEMO_COMPONENT_CAP bytes */
    size_t len;         /* bytes the component holds */
    int tamper;         /* flip a byte of what fetch reads */
    size_t tamper_at;
    int invoked;
    dsuit_suit_report_t report;
};

struct demo {
    char dir[4096]; /* the work folder */
    char image_path[4200], suit_path[4200], ledger_dir[4200];
    struct demo_key author, registrar, validator;
    uint8_t *image; /* DEMO_IMAGE_LEN bytes */
    uint8_t digest[DSUIT_SHA256_LEN];
    uint8_t vendor[CLI_UUID_LEN], class_id[CLI_UUID_LEN];
    uint8_t env[DEMO_ENV_MAX]; /* firmware.suit */
    size_t env_len;
    uint8_t genesis[DEMO_GENESIS_MAX];
    size_t genesis_len;
    uint8_t chain[DSUIT_SHA256_LEN];
    dsuit_ledger_t *ledger;
    uint64_t nonce;
    dsuit_block_info_t last; /* the last block applied */
    uint8_t *component;      /* the device's buffer, DEMO_COMPONENT_CAP */
    char note[160];          /* printed after a passing step */
    char why[200];           /* reason a step failed */
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

/* ---- 1. keys ------------------------------------------------------------ */

/* Generate one key, save it as `dsuit keygen` does (PKCS#8 PEM .key,
 * COSE_Key .pub) and read the public key back, checking it is the key
 * that was generated. */
static int make_key(struct demo *d, struct demo_key *k)
{
    char path[4300], pem[DEMO_PEM_MAX];
    uint8_t cose[DSUIT_COSE_KEY_MAX], id[DSUIT_SHA256_LEN];
    size_t pem_len, cose_len;
    int err, rc = -1;

    err = dsuit_key_generate(k->type, &k->key);
    if (err == DSUIT_OK)
        err = dsuit_cose_key_id(&k->key, k->id);
    if (err == DSUIT_OK)
        err = dsuit_key_to_pem(&k->key, 1, pem, sizeof(pem), &pem_len);
    if (err == DSUIT_OK)
        err = dsuit_cose_key_encode(&k->key, cose, sizeof(cose), &cose_len);
    if (err != DSUIT_OK) {
        fail(d, "%s key: %s", k->name, dsuit_strerror(err));
        goto out;
    }
    snprintf(path, sizeof(path), "%s/%s.key", d->dir, k->name);
    if (cli_write_file_atomic(CMD, path, pem, pem_len, 0600, 0)) {
        fail(d, "cannot write '%s'", path);
        goto out;
    }
    snprintf(path, sizeof(path), "%s/%s.pub", d->dir, k->name);
    if (cli_write_file_atomic(CMD, path, cose, cose_len, 0644, 0)) {
        fail(d, "cannot write '%s'", path);
        goto out;
    }
    if (cli_load_key(CMD, path, &k->pub)) {
        fail(d, "cannot load '%s'", path);
        goto out;
    }
    err = dsuit_cose_key_id(&k->pub, id);
    if (err != DSUIT_OK) {
        fail(d, "cannot compute the key id: %s", dsuit_strerror(err));
        goto out;
    }
    if (k->pub.has_private || memcmp(id, k->id, sizeof(id)) != 0) {
        fail(d, "'%s' does not hold the public key generated", path);
        goto out;
    }
    rc = 0;
out:
    dsuit_wipe(pem, sizeof(pem));
    return rc;
}

static int step_keys(struct demo *d)
{
    if (make_key(d, &d->author) || make_key(d, &d->registrar) ||
        make_key(d, &d->validator))
        return -1;
    note(d, "%s (ES256), %s, %s (Ed25519): .key + .pub", d->author.name,
         d->registrar.name, d->validator.name);
    return 0;
}

/* ---- 2. firmware -------------------------------------------------------- */

/* xorshift64*: a fixed, fast pseudo-random sequence, so every run builds
 * the same image. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

static int step_firmware(struct demo *d)
{
    uint64_t s = DEMO_IMAGE_SEED;
    char hex[17];
    int err;

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
    err = dsuit_sha256(d->image, DEMO_IMAGE_LEN, d->digest);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    cli_hex_encode(d->digest, 8, hex, sizeof(hex));
    note(d, "firmware.bin, %d bytes, sha-256 %s...", DEMO_IMAGE_LEN, hex);
    return 0;
}

/* ---- 3. manifest -------------------------------------------------------- */

/* Build the envelope with its text severable, sign it, then sever the
 * text: the signature covers the manifest, which keeps the text's digest. */
static int step_manifest(struct demo *d)
{
    static const uint8_t id0[1] = {0x00};
    uint8_t full[DEMO_ENV_MAX];
    size_t full_len = 0;
    char hex[2 * DSUIT_SHA256_LEN + 1];
    dsuit_suit_build_desc_t desc;
    dsuit_suit_build_component_t *c = &desc.components[0];
    dsuit_suit_build_signer_t signer = {
        .key = &d->author.key,
        .alg = 0, /* ES256 for a P-256 key */
        .kid = d->author.id,
        .kid_len = sizeof(d->author.id),
    };
    dsuit_suit_envelope_t env;
    int err;

    /* UUIDv5 as `dsuit manifest create --vendor-domain --class` does. */
    if (cli_uuid5(cli_uuid_ns_dns, DEMO_VENDOR_DOMAIN,
                  strlen(DEMO_VENDOR_DOMAIN), d->vendor) != 0 ||
        cli_uuid5(d->vendor, DEMO_CLASS_NAME, strlen(DEMO_CLASS_NAME),
                  d->class_id) != 0)
        return fail(d, "cannot make the vendor and class UUIDs");

    dsuit_suit_build_desc_init(&desc);
    desc.seq = 1;
    desc.n_components = 1;
    desc.sequences = DSUIT_SUIT_BUILD_INSTALL | DSUIT_SUIT_BUILD_VALIDATE |
                     DSUIT_SUIT_BUILD_INVOKE;
    desc.invoke_component = 0;
    desc.description = "dsuit demo firmware";
    desc.severable = DSUIT_SUIT_BUILD_MEMBER_TEXT;
    c->id.parts[0].ptr = id0;
    c->id.parts[0].len = sizeof(id0);
    c->id.n_parts = 1;
    memcpy(c->vendor_id, d->vendor, sizeof(c->vendor_id));
    memcpy(c->class_id, d->class_id, sizeof(c->class_id));
    memcpy(c->image_digest, d->digest, sizeof(c->image_digest));
    c->image_size = DEMO_IMAGE_LEN;
    c->uri = DEMO_URI;
    c->text.vendor_domain = DEMO_VENDOR_DOMAIN;
    c->text.model_info = DEMO_CLASS_NAME;

    err = dsuit_suit_build_envelope(&desc, &signer, 1, full, sizeof(full),
                                    &full_len);
    if (err == DSUIT_OK)
        err =
            dsuit_suit_build_sever(full, full_len, DSUIT_SUIT_BUILD_MEMBER_TEXT,
                                   d->env, sizeof(d->env), &d->env_len);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    if (cli_write_file_atomic(CMD, d->suit_path, d->env, d->env_len, 0644, 0))
        return fail(d, "cannot write '%s'", d->suit_path);
    err = dsuit_suit_envelope_decode(d->env, d->env_len, &env, NULL);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    if (env.digest_bytes.len != DSUIT_SHA256_LEN ||
        cli_hex_encode(env.digest_bytes.ptr, env.digest_bytes.len, hex,
                       sizeof(hex)) != 0)
        return fail(d, "the envelope has no SHA-256 manifest digest");
    note(d, "firmware.suit, %zu bytes, digest %s", d->env_len, hex);
    return 0;
}

/* ---- 4. author check ---------------------------------------------------- */

static int step_author_check(struct demo *d)
{
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t where = {0};
    int err =
        dsuit_suit_parse(d->env, d->env_len, &d->author.pub, 1, &env, &where);
    if (err != DSUIT_OK)
        return fail(d, "%s (%s)", dsuit_strerror(err),
                    where.reason ? where.reason : "");
    if (env.members[DSUIT_SUIT_SEV_TEXT].state != DSUIT_SUIT_MEMBER_SEVERED)
        return fail(d, "the text is not severed");
    note(d, "authentic, sequence %llu, text severed",
         (unsigned long long)env.seq);
    return 0;
}

/* ---- 5. genesis + ledger ------------------------------------------------ */

static int step_ledger(struct demo *d)
{
    char path[4300];
    dsuit_genesis_t *g = NULL;
    dsuit_ledger_opts_t opts = {0};
    const char *why = NULL;
    int err;

    err = dsuit_genesis_new(&g);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    snprintf(g->chain_name, sizeof(g->chain_name), "dsuit-demo");
    g->time = (uint64_t)time(NULL);
    g->threshold = 1;
    g->policy.replicas = 1; /* at most the number of validators */
    err = dsuit_genesis_add_validator(g, "node-a", &d->validator.pub,
                                      "127.0.0.1", 7000, 8000, 5683);
    if (err == DSUIT_OK)
        err = dsuit_genesis_add_registrar(g, &d->registrar.pub);
    if (err == DSUIT_OK)
        err = dsuit_genesis_encode(g, d->genesis, sizeof(d->genesis),
                                   &d->genesis_len);
    if (err == DSUIT_OK)
        memcpy(d->chain, g->hash, sizeof(d->chain));
    else
        (void)dsuit_genesis_validate(g, &why);
    dsuit_genesis_free(g);
    if (err != DSUIT_OK)
        return fail(d, "genesis: %s%s%s", dsuit_strerror(err), why ? ": " : "",
                    why ? why : "");

    snprintf(path, sizeof(path), "%s/genesis.cbor", d->dir);
    if (cli_write_file_atomic(CMD, path, d->genesis, d->genesis_len, 0644, 0))
        return fail(d, "cannot write '%s'", path);
    if (mkdir(d->ledger_dir, 0755) != 0)
        return fail(d, "cannot create '%s': %s", d->ledger_dir,
                    strerror(errno));
    err = dsuit_ledger_open(d->ledger_dir, d->genesis, d->genesis_len, &opts,
                            &d->ledger, &why);
    if (err != DSUIT_OK)
        return fail(d, "cannot open the ledger: %s%s%s", dsuit_strerror(err),
                    why ? ": " : "", why ? why : "");
    note(d, "genesis.cbor (1 validator, 1 registrar), ledger/ at height %llu",
         (unsigned long long)dsuit_ledger_height(d->ledger));
    return 0;
}

/* Milliseconds since 1970, the proposer's clock for block times. */
static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* As the validator: propose a block of one transaction and apply it; the
 * transaction's result code goes to *result. d->last describes the block. */
static int commit_tx(struct demo *d, const uint8_t *tx, size_t tx_len,
                     uint64_t *result)
{
    const uint8_t *txs[1] = {tx}, *got;
    size_t lens[1] = {tx_len}, got_len, blk_len = 0;
    uint8_t *blk = NULL;
    dsuit_block_t b;
    dsuit_block_iter_t it;
    int err;

    err = dsuit_ledger_propose(d->ledger, &d->validator.key, wall_ms(), txs,
                               lens, 1, &blk, &blk_len);
    if (err != DSUIT_OK)
        return fail(d, "propose: %s", dsuit_strerror(err));
    memset(&d->last, 0, sizeof(d->last));
    err = dsuit_ledger_apply(d->ledger, blk, blk_len, &d->last);
    if (err != DSUIT_OK) {
        free(blk);
        return fail(d, "apply: %s%s%s", dsuit_strerror(err),
                    d->last.reason ? ": " : "",
                    d->last.reason ? d->last.reason : "");
    }
    err = dsuit_block_decode(blk, blk_len, &b);
    if (err == DSUIT_OK) {
        dsuit_block_iter_init(&it, &b);
        err = dsuit_block_next_tx(&it, &got, &got_len, result);
    }
    free(blk);
    if (err != DSUIT_OK)
        return fail(d, "cannot read the block back: %s", dsuit_strerror(err));
    return 0;
}

/* ---- 6. register the author --------------------------------------------- */

static int step_register(struct demo *d)
{
    uint8_t body[1024], tx[DEMO_TX_MAX];
    size_t body_len, tx_len;
    uint64_t result;
    const uint8_t(*classes)[16] = (const uint8_t(*)[16])d->class_id;
    int err;

    err = dsuit_tx_body_register_author(d->chain, d->nonce++, &d->author.pub,
                                        "demo author", d->vendor, classes, 1,
                                        body, sizeof(body), &body_len);
    if (err == DSUIT_OK)
        err = dsuit_tx_assemble(body, body_len, &d->registrar.key, 1, tx,
                                sizeof(tx), &tx_len);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    if (commit_tx(d, tx, tx_len, &result))
        return -1;
    if (result != DSUIT_TXR_OK)
        return fail(d, "result %s: %s", dsuit_txr_name((int)result),
                    dsuit_txr_message((int)result));
    note(d, "register-author signed by the registrar, block %llu: %s",
         (unsigned long long)d->last.height, dsuit_txr_name((int)result));
    return 0;
}

/* ---- 7. publish ------------------------------------------------------- */

static int step_publish(struct demo *d)
{
    uint8_t chunks[DEMO_N_CHUNKS][DSUIT_SHA256_LEN];
    uint8_t body[DEMO_TX_MAX], tx[DEMO_TX_MAX];
    size_t body_len, tx_len;
    uint64_t result, mlog;
    dsuit_tx_image_in_t img = {
        .digest = d->digest,
        .size = DEMO_IMAGE_LEN,
        .chunk_size = DEMO_CHUNK_SIZE,
        .chunks = (const uint8_t(*)[32])chunks,
        .n_chunks = DEMO_N_CHUNKS,
    };
    int err = DSUIT_OK;

    for (size_t i = 0; i < DEMO_N_CHUNKS && err == DSUIT_OK; i++) {
        size_t off = i * DEMO_CHUNK_SIZE;
        size_t n = DEMO_IMAGE_LEN - off < DEMO_CHUNK_SIZE ? DEMO_IMAGE_LEN - off
                                                          : DEMO_CHUNK_SIZE;
        err = dsuit_sha256(d->image + off, n, chunks[i]);
    }
    /* A publish carries no signature of its own: the envelope's is the
     * author's. */
    if (err == DSUIT_OK)
        err = dsuit_tx_body_publish(d->chain, d->nonce++, d->env, d->env_len,
                                    &img, 1, body, sizeof(body), &body_len);
    if (err == DSUIT_OK)
        err =
            dsuit_tx_assemble(body, body_len, NULL, 0, tx, sizeof(tx), &tx_len);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    if (commit_tx(d, tx, tx_len, &result))
        return -1;
    if (result != DSUIT_TXR_OK)
        return fail(d, "result %s: %s", dsuit_txr_name((int)result),
                    dsuit_txr_message((int)result));
    mlog = dsuit_ledger_mlog_size(d->ledger);
    if (mlog != 1)
        return fail(d, "manifest log size %llu, expected 1",
                    (unsigned long long)mlog);
    note(d, "%d chunks of 256 KiB, block %llu: %s, manifest log size %llu",
         (int)DEMO_N_CHUNKS, (unsigned long long)d->last.height,
         dsuit_txr_name((int)result), (unsigned long long)mlog);
    return 0;
}

/* ---- 8. certificate ----------------------------------------------------- */

static int step_certificate(struct demo *d)
{
    uint8_t sig[1][DSUIT_SIG_LEN], cert_buf[DEMO_CERT_MAX];
    uint64_t index[1];
    size_t cert_len, valid = 0;
    dsuit_cert_t cert;
    dsuit_trust_t trust = {
        .chain = d->chain,
        .validators = &d->validator.pub,
        .n_validators = 1,
        .quorum = 1,
    };
    int at = dsuit_genesis_validator_index(dsuit_ledger_genesis(d->ledger),
                                           d->validator.id);
    int err;

    if (at < 0)
        return fail(d, "the validator is not in the genesis");
    index[0] = (uint64_t)at;
    err = dsuit_cert_vote(&d->validator.key, d->chain, d->last.hash, sig[0]);
    if (err == DSUIT_OK)
        err = dsuit_cert_encode(d->last.height, d->last.hash, index,
                                (const uint8_t(*)[DSUIT_SIG_LEN])sig, 1,
                                cert_buf, sizeof(cert_buf), &cert_len);
    /* What a device does with it: decode, count the votes that verify. */
    if (err == DSUIT_OK)
        err = dsuit_cert_decode(cert_buf, cert_len, &cert);
    if (err == DSUIT_OK)
        err = dsuit_cert_verify(&cert, &trust, &valid);
    if (err != DSUIT_OK)
        return fail(d, "%s", dsuit_strerror(err));
    if (cert.height != d->last.height ||
        memcmp(cert.block_hash, d->last.hash, DSUIT_SHA256_LEN) != 0)
        return fail(d, "the certificate names another block");
    note(d, "certified: block %llu, %zu of %zu votes, %zu bytes",
         (unsigned long long)cert.height, valid, trust.n_validators, cert_len);
    return 0;
}

/* ---- 9-11. the simulated device ----------------------------------------- */

static int dev_check(const dsuit_suit_component_t *c)
{
    return c != NULL && c->index == 0 && c->params != NULL
               ? DSUIT_OK
               : DSUIT_E_SUIT_COMPONENT;
}

/* SHA-256 of the component's first `size` bytes (all it holds when the
 * manifest gives no size, or more than it holds, which then cannot match). */
static int dev_digest(void *arg, const dsuit_suit_component_t *c, size_t size,
                      int has_size, uint8_t out[DSUIT_SHA256_LEN])
{
    struct demo_device *dev = arg;
    size_t n = dev->len;
    int err = dev_check(c);
    if (err != DSUIT_OK)
        return err;
    if (has_size && size <= n)
        n = size;
    return dsuit_sha256(dev->component, n, out);
}

/* Fetch "file:<name>", a file in the work folder, into the component. */
static int dev_fetch(void *arg, const dsuit_suit_component_t *c)
{
    static const char scheme[] = "file:";
    struct demo_device *dev = arg;
    const dsuit_bytes_t *uri;
    char name[256], path[4400];
    FILE *f;
    size_t n, name_len;
    int err = dev_check(c), extra;

    if (err != DSUIT_OK)
        return err;
    uri = &c->params->uri;
    if (!(c->params->set & (1u << DSUIT_SUIT_PARAM_URI)) ||
        uri->len <= sizeof(scheme) - 1 ||
        memcmp(uri->ptr, scheme, sizeof(scheme) - 1) != 0)
        return DSUIT_E_UNSUPPORTED;
    name_len = uri->len - (sizeof(scheme) - 1);
    if (name_len >= sizeof(name))
        return DSUIT_E_LIMIT;
    memcpy(name, uri->ptr + sizeof(scheme) - 1, name_len);
    name[name_len] = '\0';
    /* A plain file name: nothing outside the work folder. */
    if (strlen(name) != name_len || strchr(name, '/') != NULL ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return DSUIT_E_INVAL;
    snprintf(path, sizeof(path), "%s/%s", dev->dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        return DSUIT_E_IO;
    n = fread(dev->component, 1, DEMO_COMPONENT_CAP, f);
    extra = fgetc(f);
    err = ferror(f) ? DSUIT_E_IO : extra != EOF ? DSUIT_E_LIMIT : DSUIT_OK;
    fclose(f);
    if (err != DSUIT_OK) {
        dev->len = 0;
        return err;
    }
    dev->len = n;
    /* The demo's stand-in for a corrupted transfer. */
    if (dev->tamper && dev->tamper_at < n)
        dev->component[dev->tamper_at] ^= 0x01;
    return DSUIT_OK;
}

static int dev_invoke(void *arg, const dsuit_suit_component_t *c)
{
    struct demo_device *dev = arg;
    int err = dev_check(c);
    if (err == DSUIT_OK)
        dev->invoked = 1;
    return err;
}

/* Records go into the device's report (dsuit_suit_report_add wants the
 * report as its argument, the platform passes the device). */
static void dev_report(void *arg, const dsuit_suit_record_t *rec)
{
    struct demo_device *dev = arg;
    dsuit_suit_report_add(&dev->report, rec);
}

/*
 * What a device does with firmware.suit: read it, authenticate it with the
 * author's key, then the update procedure and, if it passed, the boot
 * procedure. Returns DSUIT_OK or the error that ended processing, with
 * *where saying where. With report_out, encodes the report into it.
 */
static int run_device(struct demo *d, struct demo_device *dev,
                      uint64_t installed_seq, dsuit_suit_error_t *where,
                      uint8_t *report_out, size_t report_cap,
                      size_t *report_len)
{
    dsuit_suit_platform_t plat = {
        .arg = dev,
        .digest = dev_digest,
        .fetch = dev_fetch,
        .invoke = dev_invoke,
        .report = dev_report,
    };
    dsuit_suit_profile_t profile = {
        .vendor_id = {d->vendor, sizeof(d->vendor)},
        .class_id = {d->class_id, sizeof(d->class_id)},
        .has_installed_seq = 1,
        .installed_seq = installed_seq,
        .max_components = 1,
    };
    dsuit_suit_envelope_t env;
    dsuit_suit_proc_t proc;
    uint8_t *buf = NULL;
    size_t len = 0;
    int err, rerr, authentic = 0;

    dev->dir = d->dir;
    dev->component = d->component;
    dev->len = 0;
    dev->invoked = 0;
    dsuit_suit_report_init(&dev->report);
    memset(where, 0, sizeof(*where));

    if (cli_read_file(CMD, d->suit_path, DEMO_ENV_MAX, &buf, &len))
        return DSUIT_E_IO;
    err = dsuit_suit_parse(buf, len, &d->author.pub, 1, &env, where);
    authentic = err == DSUIT_OK;
    if (err == DSUIT_OK)
        err = dsuit_suit_process(&proc, &env, &profile, &plat,
                                 DSUIT_SUIT_UPDATE, where);
    if (err == DSUIT_OK)
        err = dsuit_suit_process(&proc, &env, &profile, &plat, DSUIT_SUIT_BOOT,
                                 where);
    if (report_out != NULL && authentic) {
        rerr = dsuit_suit_report_encode(&dev->report, &env, NULL, 0, err, where,
                                        report_out, report_cap, report_len);
        if (err == DSUIT_OK)
            err = rerr;
    }
    free(buf);
    return err;
}

static int step_device(struct demo *d)
{
    struct demo_device dev = {0};
    dsuit_suit_error_t where;
    uint8_t report[DEMO_REPORT_MAX];
    size_t report_len = 0;
    int err =
        run_device(d, &dev, 0, &where, report, sizeof(report), &report_len);
    if (err != DSUIT_OK)
        return fail(d, "%s (%s%s%s)", dsuit_strerror(err),
                    dsuit_suit_stage_name(where.stage),
                    where.reason ? ": " : "", where.reason ? where.reason : "");
    if (!dev.invoked || dev.len != DEMO_IMAGE_LEN)
        return fail(d, "the image was not installed and invoked");
    note(d, "updated and booted, report of %zu records, %zu bytes",
         dev.report.n_records, report_len);
    return 0;
}

/* Fail closed: the only acceptable outcome is image-match failing. */
static int step_tamper(struct demo *d)
{
    uint64_t s = DEMO_IMAGE_SEED ^ 0xf11bULL;
    struct demo_device dev = {0};
    dsuit_suit_error_t where;
    int err;

    dev.tamper = 1;
    dev.tamper_at = (size_t)(next_random(&s) % DEMO_IMAGE_LEN);
    err = run_device(d, &dev, 0, &where, NULL, 0, NULL);
    if (err == DSUIT_OK)
        return fail(d, "the tampered image was accepted");
    if (err != DSUIT_E_SUIT_CONDITION ||
        where.command != DSUIT_SUIT_COND_IMAGE_MATCH)
        return fail(d, "expected image-match to fail, got '%s' at %s",
                    dsuit_strerror(err),
                    dsuit_suit_command_name(where.command)
                        ? dsuit_suit_command_name(where.command)
                        : dsuit_suit_stage_name(where.stage));
    if (dev.invoked)
        return fail(d, "the tampered image was invoked");
    note(d,
         "byte %zu flipped, image-match fails in %s: rejected, as it must "
         "be",
         dev.tamper_at,
         dsuit_suit_section_name(where.section)
             ? dsuit_suit_section_name(where.section)
             : "?");
    return 0;
}

static int step_rollback(struct demo *d)
{
    struct demo_device dev = {0};
    dsuit_suit_error_t where;
    int err = run_device(d, &dev, 1, &where, NULL, 0, NULL);
    if (err == DSUIT_OK)
        return fail(d, "the device accepted sequence 1 again");
    if (err != DSUIT_E_ROLLBACK)
        return fail(d, "expected '%s', got '%s'",
                    dsuit_strerror(DSUIT_E_ROLLBACK), dsuit_strerror(err));
    if (dev.len != 0 || dev.invoked)
        return fail(d, "the device acted before refusing");
    note(d, "rejected: %s", dsuit_strerror(err));
    return 0;
}

/* ---- 12. replay check --------------------------------------------------- */

static int step_replay(struct demo *d)
{
    uint64_t h = 0;
    const char *why = NULL;
    int err;

    /* Verify opens the folder itself: one LMDB handle per process. */
    dsuit_ledger_close(d->ledger);
    d->ledger = NULL;
    err = dsuit_ledger_verify(d->ledger_dir, d->dir, &h, &why);
    if (err != DSUIT_OK)
        return fail(d, "%s at height %llu: %s", dsuit_strerror(err),
                    (unsigned long long)h, why ? why : "");
    note(d, "ledger verifies: %llu blocks replayed from genesis",
         (unsigned long long)h);
    return 0;
}

struct demo_step {
    const char *title;
    int (*run)(struct demo *d); /* 0, or -1 with d->why set */
};

static const struct demo_step steps[] = {
    {"keys", step_keys},
    {"firmware", step_firmware},
    {"manifest", step_manifest},
    {"author check", step_author_check},
    {"genesis + ledger", step_ledger},
    {"register author", step_register},
    {"publish", step_publish},
    {"certificate", step_certificate},
    {"device", step_device},
    {"tamper", step_tamper},
    {"rollback", step_rollback},
    {"replay check", step_replay},
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
    snprintf(d->suit_path, sizeof(d->suit_path), "%s/firmware.suit", d->dir);
    snprintf(d->ledger_dir, sizeof(d->ledger_dir), "%s/ledger", d->dir);
    return 0;
}

/* Remove what the demo wrote: files, and folders (the ledger) at most
 * `depth` levels down. Symbolic links are removed, never followed. */
static int remove_tree(const char *path, int depth)
{
    struct stat st;
    DIR *dh;
    struct dirent *e;
    char sub[4400];
    int rc = 0;

    if (lstat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? 0 : -1;
    if (depth <= 0 || (dh = opendir(path)) == NULL)
        return -1;
    while ((e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        if (remove_tree(sub, depth - 1) != 0)
            rc = -1;
    }
    closedir(dh);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}

static int remove_work_dir(const char *dir)
{
    int rc = remove_tree(dir, 3);
    if (rc != 0)
        cli_warn(CMD, "cannot remove '%s': %s", dir, strerror(errno));
    return rc;
}

static void demo_init(struct demo *d)
{
    memset(d, 0, sizeof(*d));
    d->author.name = "author";
    d->author.type = DSUIT_KEY_P256;
    d->registrar.name = "registrar";
    d->registrar.type = DSUIT_KEY_ED25519;
    d->validator.name = "validator";
    d->validator.type = DSUIT_KEY_ED25519;
}

static void demo_release(struct demo *d)
{
    struct demo_key *keys[] = {&d->author, &d->registrar, &d->validator};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        dsuit_key_wipe(&keys[i]->key);
        dsuit_key_wipe(&keys[i]->pub);
    }
    dsuit_ledger_close(d->ledger);
    d->ledger = NULL;
    free(d->image);
    d->image = NULL;
    free(d->component);
    d->component = NULL;
}

int cmd_demo(int argc, char **argv)
{
    const size_t n_steps = sizeof(steps) / sizeof(steps[0]);
    static struct demo d; /* about 30 KiB: not on the stack */
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
    d.component = malloc(DEMO_COMPONENT_CAP);
    if (d.component == NULL) {
        cli_error(CMD, "%s", strerror(ENOMEM));
        return DSUIT_EXIT_FAIL;
    }
    if (make_work_dir(&d) != 0) {
        demo_release(&d);
        return DSUIT_EXIT_FAIL;
    }
    printf("dsuit demo: author, ledger and device on one machine, in %s\n",
           d.dir);

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

    if (failed)
        printf("demo failed: %zu of %zu steps passed, %zu failed, %zu "
               "skipped (%.2f ms)\n",
               passed, n_steps, failed, n_steps - passed - failed, total);
    else
        printf("demo passed: %zu of %zu steps in %.2f ms\n", passed, n_steps,
               total);
    printf("on real nodes: 'dsuit devnet up' (see the README); "
           "devices over CoAP/DTLS are still to come\n");
    return failed ? DSUIT_EXIT_FAIL : DSUIT_EXIT_OK;
}
