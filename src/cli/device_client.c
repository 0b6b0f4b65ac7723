/*
 * The reference device of `dsuit device run` and `dsuit device once`: a
 * simulated device with two firmware slots that asks the retrieval nodes
 * of a dsuit network for its latest manifest over CoAP/DTLS
 * (src/net/coap/client.h), checks it as a constrained device would, with
 * the device library only (dsuit_suit_*, dsuit_ledger_proof_verify; no
 * allocation on that path: the envelope, proof, report and I/O scratch live
 * in fixed buffers of device_t), downloads the image into the inactive
 * slot, resumably, and swaps slots only once the SUIT update procedure
 * (draft-ietf-suit-manifest-37 §8.4.7) passed, image-match included.
 *
 * One cycle, for each --node in order until one succeeds:
 *   1. GET /fw/{vendor}/{class}/latest; authenticate with the trusted
 *      authors; check against the profile (vendor, class, installed
 *      sequence number as the rollback floor). The installed manifest again
 *      is "current"; any other sequence number not above it is a rollback.
 *   2. with --trust-genesis, GET /fw/proof/{manifest digest} and verify the
 *      ledger proof against the genesis validators (dsuit_ledger_proof_verify)
 *   3. dsuit_suit_process(DSUIT_SUIT_UPDATE): fetch is GET
 *      /fw/img/{image digest} into the inactive slot (the manifest's URI
 *      host is ignored: images are content-addressed and come from the node
 *      in use), digest is SHA-256 of that slot; then the swap, recorded
 *      atomically in `state`.
 *   4. POST /fw/report.
 * A transport failure or bad data from a node moves on to the next node.
 *
 * State folder (mode 0700):
 *
 *   slot-a.bin, slot-b.bin   the two slots; the inactive one receives
 *                            downloads
 *   state                    text, written to a temporary file, fsync'd and
 *                            renamed (cli_write_file_atomic), so it is
 *                            always the old or the new record:
 *
 *     line  content                       meaning
 *     1     dsuit-device-state 1          format and version
 *     2     active a|b                    the slot that holds the installed
 *                                         image
 *     3     seq N                         installed sequence number (0: none)
 *     4     manifest HEX64|-              installed manifest digest
 *     5     image HEX64|-                 image being downloaded into the
 *                                         inactive slot
 *     6     size N                        its size (0: not known)
 *     7     stored N                      bytes of it stored and fsync'd
 *
 * A download resumes from `stored` rounded down to a 1024-byte block (and
 * never past what the slot file holds) when the next manifest names the
 * same image digest; any node may serve the rest, since the bytes are
 * addressed by their digest. An image-match failure after a full download
 * throws the stored bytes away, so the next node starts from 0.
 *
 * Page: docs/cli/dsuit-device.md. Exit codes: see usage_once.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_uuid.h"
#include "cli/device_client.h"
#include "dsuit/cbor.h"
#include "dsuit/cert.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger_proof.h"
#include "dsuit/suit.h"
#include "net/coap/client.h"

#define MAX_NODES       16
#define MAX_AUTHORS     8
#define ENV_MAX         (64 * 1024)
#define PROOF_MAX       (16 * 1024)
#define SUIT_REPORT_MAX 2048
#define REPORT_MAX      (SUIT_REPORT_MAX + 256)
#define IMAGE_MAX       (100u * 1024 * 1024) /* DSUIT_POLICY_MAX_IMAGE_SIZE */
#define CHECKPOINT      (64 * 1024)          /* record progress this often */
#define IO_BUF          (16 * 1024)
#define STATE_MAX       512
#define GENESIS_MAX     (1024 * 1024)
#define PSK_KEY_MIN     16
#define PSK_KEY_MAX     64
#define THROTTLE_MAX_MS 10000
#define WHY_MAX         512
#define PATH_MAX_LEN    4200
#define HEX64           (2 * DSUIT_SHA256_LEN + 1)

static const char usage_run[] =
    "usage: dsuit device run --state DIR --node coaps://HOST:PORT [--node "
    "...]\n"
    "                        (--psk-id ID --psk-key HEX | --key D.key)\n"
    "                        --trust-author A.pub [--trust-author ...]\n"
    "                        --vendor-domain D --class C\n"
    "                        [--trust-genesis G.cbor] [--max-age S]\n"
    "                        [--interval S | --observe] [--timeout S]\n"
    "\n"
    "Run the reference device: a cycle on start, then one every --interval\n"
    "seconds, or, with --observe, one on each notification of a newer\n"
    "manifest from the first node that keeps an observation (falling back\n"
    "to the next node when it ends). One line per cycle on stdout. Stops\n"
    "on SIGTERM or SIGINT (exit 0).\n"
    "\n"
    "A cycle asks each --node in turn until one serves an update or says\n"
    "the device is current: the latest manifest for the device's vendor\n"
    "and class, authenticated with a --trust-author key and checked for\n"
    "rollback; with --trust-genesis its ledger proof; then the image is\n"
    "downloaded into the inactive slot (resuming an interrupted download),\n"
    "checked against the manifest's digest, and the slots are swapped.\n"
    "\n"
    "options:\n"
    "  --class C                class-id = UUIDv5(vendor-id, C)\n"
    "  --help, -h               show this help\n"
    "  --interval S             seconds between cycles (default 60); with\n"
    "                           --observe, between renewals of the\n"
    "                           observation\n"
    "  --key D.key              DTLS raw public key: the device's P-256\n"
    "                           private key, PEM (Ed25519 is refused)\n"
    "  --max-age S              refuse a ledger proof older than S seconds\n"
    "                           (default 0: no age check)\n"
    "  --node coaps://HOST:PORT a node's device service (repeat, in order)\n"
    "  --observe                wait for notifications instead of polling\n"
    "  --psk-id ID              DTLS pre-shared key identity\n"
    "  --psk-key HEX            DTLS pre-shared key, 16 to 64 bytes in hex\n"
    "  --state DIR              the device's slots and state (made if\n"
    "                           missing, mode 0700)\n"
    "  --timeout S              seconds to wait for each node request\n"
    "                           (default 5)\n"
    "  --trust-author A.pub     a firmware author's public key (repeat)\n"
    "  --trust-genesis G.cbor   require a ledger proof verified against\n"
    "                           this genesis's validators\n"
    "  --vendor-domain D        vendor-id = UUIDv5(DNS, D)\n"
    "\n"
    "environment (tests only):\n"
    "  DSUIT_DEVICE_THROTTLE_MS  sleep this long after each image block\n";

static const char usage_once[] =
    "usage: dsuit device once --state DIR --node coaps://HOST:PORT [--node "
    "...]\n"
    "                         (--psk-id ID --psk-key HEX | --key D.key)\n"
    "                         --trust-author A.pub [--trust-author ...]\n"
    "                         --vendor-domain D --class C\n"
    "                         [--trust-genesis G.cbor] [--max-age S] "
    "[--timeout S]\n"
    "\n"
    "Run one cycle of the reference device (see 'dsuit device run --help')\n"
    "and exit: 0 when updated (\"updated: sequence N, image HEX, from NODE\")\n"
    "or already current (\"current: sequence N\"); 3 when the nodes served\n"
    "something that was checked and rejected (rollback, another vendor or\n"
    "class, a 4.03, a manifest, proof or image that does not verify); 1\n"
    "when no node could be reached or none had a manifest.\n"
    "\n"
    "options:\n"
    "  --class C                class-id = UUIDv5(vendor-id, C)\n"
    "  --help, -h               show this help\n"
    "  --key D.key              DTLS raw public key: the device's P-256\n"
    "                           private key, PEM (Ed25519 is refused)\n"
    "  --max-age S              refuse a ledger proof older than S seconds\n"
    "                           (default 0: no age check)\n"
    "  --node coaps://HOST:PORT a node's device service (repeat, in order)\n"
    "  --psk-id ID              DTLS pre-shared key identity\n"
    "  --psk-key HEX            DTLS pre-shared key, 16 to 64 bytes in hex\n"
    "  --state DIR              the device's slots and state (made if\n"
    "                           missing, mode 0700)\n"
    "  --timeout S              seconds to wait for each node request\n"
    "                           (default 5)\n"
    "  --trust-author A.pub     a firmware author's public key (repeat)\n"
    "  --trust-genesis G.cbor   require a ledger proof verified against\n"
    "                           this genesis's validators\n"
    "  --vendor-domain D        vendor-id = UUIDv5(DNS, D)\n"
    "\n"
    "environment (tests only):\n"
    "  DSUIT_DEVICE_THROTTLE_MS  sleep this long after each image block\n";

enum {
    OPT_CLASS = 256,
    OPT_INTERVAL,
    OPT_KEY,
    OPT_MAX_AGE,
    OPT_NODE,
    OPT_OBSERVE,
    OPT_PSK_ID,
    OPT_PSK_KEY,
    OPT_STATE,
    OPT_TIMEOUT,
    OPT_TRUST_AUTHOR,
    OPT_TRUST_GENESIS,
    OPT_VENDOR_DOMAIN
};

/* Sorted by name. */
static const struct option run_longopts[] = {
    {"class", required_argument, NULL, OPT_CLASS},
    {"help", no_argument, NULL, 'h'},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"key", required_argument, NULL, OPT_KEY},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"node", required_argument, NULL, OPT_NODE},
    {"observe", no_argument, NULL, OPT_OBSERVE},
    {"psk-id", required_argument, NULL, OPT_PSK_ID},
    {"psk-key", required_argument, NULL, OPT_PSK_KEY},
    {"state", required_argument, NULL, OPT_STATE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"trust-author", required_argument, NULL, OPT_TRUST_AUTHOR},
    {"trust-genesis", required_argument, NULL, OPT_TRUST_GENESIS},
    {"vendor-domain", required_argument, NULL, OPT_VENDOR_DOMAIN},
    {NULL, 0, NULL, 0},
};

/* Sorted by name: run's without --interval and --observe. */
static const struct option once_longopts[] = {
    {"class", required_argument, NULL, OPT_CLASS},
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"node", required_argument, NULL, OPT_NODE},
    {"psk-id", required_argument, NULL, OPT_PSK_ID},
    {"psk-key", required_argument, NULL, OPT_PSK_KEY},
    {"state", required_argument, NULL, OPT_STATE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"trust-author", required_argument, NULL, OPT_TRUST_AUTHOR},
    {"trust-genesis", required_argument, NULL, OPT_TRUST_GENESIS},
    {"vendor-domain", required_argument, NULL, OPT_VENDOR_DOMAIN},
    {NULL, 0, NULL, 0},
};

/* The persistent record (file layout at the top). Invariants: active is 0
 * or 1; has_image == 0 implies image_size == stored == 0. */
typedef struct {
    int active; /* 0: slot-a, 1: slot-b */
    uint64_t seq;
    int has_manifest;
    uint8_t manifest[DSUIT_SHA256_LEN];
    int has_image;
    uint8_t image[DSUIT_SHA256_LEN];
    uint64_t image_size;
    uint64_t stored;
} dev_state_t;

/* How one node's attempt ended. */
typedef enum {
    R_UPDATED = 0,
    R_CURRENT,
    R_REJECTED, /* checked and refused: policy, or bad data from the node */
    R_FAILED,   /* no verdict: no answer, 5.xx, no manifest yet */
    R_LOCAL,    /* this device's own storage failed: stop the cycle */
    R_STOPPED,  /* a signal asked us to stop */
    R_PASS      /* a step passed; the cycle goes on */
} result_t;

typedef struct {
    const char *cmd; /* "device run" or "device once" */
    /* configuration */
    const char *state_dir;
    const char *nodes[MAX_NODES];
    size_t n_nodes;
    dsuit_coap_client_opts_t copts;
    uint8_t psk_key[PSK_KEY_MAX];
    uint8_t *rpk_pem; /* malloc'd by cli_read_file */
    size_t rpk_pem_len;
    char rpk_pub_pem[512];
    size_t rpk_pub_pem_len;
    dsuit_key_t authors[MAX_AUTHORS];
    size_t n_authors;
    uint8_t vendor[CLI_UUID_LEN], class_id[CLI_UUID_LEN];
    char vendor_text[CLI_UUID_TEXT_LEN + 1], class_text[CLI_UUID_TEXT_LEN + 1];
    int has_trust;
    dsuit_key_t validators[DSUIT_GENESIS_MAX_VALIDATORS];
    uint8_t chain[DSUIT_SHA256_LEN];
    dsuit_trust_t trust;
    uint64_t max_age_s;
    unsigned throttle_ms;
    char path_state[PATH_MAX_LEN], path_slot[2][PATH_MAX_LEN];

    /* persistent state, as last written */
    dev_state_t st;

    /* the cycle on one node */
    const char *node;
    dsuit_coap_client_t *cl;
    uint8_t env_buf[ENV_MAX];
    size_t env_len;
    uint8_t proof[PROOF_MAX];
    size_t proof_len;
    dsuit_suit_envelope_t env;
    dsuit_suit_proc_t proc;
    dsuit_suit_report_t report;
    uint8_t io[IO_BUF];
    /* the fetch callback's verdict, read once processing returns */
    result_t fetch_result;
    int fetch_full; /* a whole image was stored in this cycle */
    int fd;         /* the inactive slot while downloading */
    uint64_t pos, checkpoint;
    char why[WHY_MAX];
    /* what a successful cycle installed, for the summary line */
    uint8_t installed_image[DSUIT_SHA256_LEN];
} device_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void set_why(device_t *d,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof(d->why), fmt, ap);
    va_end(ap);
}

static const char *hex32(const uint8_t *p, char out[HEX64])
{
    cli_hex_encode(p, DSUIT_SHA256_LEN, out, HEX64);
    return out;
}

static int hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 != 0 || n / 2 > cap || cli_hex_decode(s, n, out) != 0)
        return -1;
    *len = n / 2;
    return 0;
}

/* Sleep ms in slices, ending early when a signal asked us to stop. */
static void nap(unsigned ms)
{
    /* Bounded: ms shrinks every round. */
    while (ms > 0 && !stop_requested) {
        unsigned slice = ms < 100 ? ms : 100;
        struct timespec ts = {0, (long)slice * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

static const char *why_suit(int err, const dsuit_suit_error_t *where, char *buf,
                            size_t cap)
{
    const char *stage = dsuit_suit_stage_name(where->stage);
    if (where->reason != NULL && stage[0] != '\0')
        snprintf(buf, cap, "%s (%s: %s)", dsuit_strerror(err), stage,
                 where->reason);
    else
        snprintf(buf, cap, "%s", dsuit_strerror(err));
    return buf;
}

/* "coaps://HOST:PORT" with a port in 1..65535; the client parses fully. */
static int node_uri_ok(const char *uri)
{
    const char *colon = strrchr(uri, ':');
    uint64_t port;
    if (strncmp(uri, "coaps://", 8) != 0 || strlen(uri) <= 8 || colon == NULL ||
        colon < uri + 9)
        return 0;
    return cli_parse_u64(colon + 1, &port) == 0 && port >= 1 && port <= 65535;
}

/* ---- state file --------------------------------------------------------- */

static int state_save(device_t *d, const dev_state_t *s)
{
    char text[STATE_MAX], m[HEX64], im[HEX64];
    int n = snprintf(
        text, sizeof(text),
        "dsuit-device-state 1\nactive %c\nseq %" PRIu64
        "\nmanifest %s\nimage %s\nsize %" PRIu64 "\nstored %" PRIu64 "\n",
        s->active ? 'b' : 'a', s->seq,
        s->has_manifest ? hex32(s->manifest, m) : "-",
        s->has_image ? hex32(s->image, im) : "-", s->image_size, s->stored);
    if (n < 0 || (size_t)n >= sizeof(text))
        return DSUIT_EXIT_FAIL;
    if (cli_write_file_atomic(d->cmd, d->path_state, text, (size_t)n, 0600,
                              1) != DSUIT_EXIT_OK)
        return DSUIT_EXIT_FAIL;
    d->st = *s;
    return DSUIT_EXIT_OK;
}

/* Take "key VALUE\n" off *p; VALUE is NUL-terminated in place. */
static const char *state_field(char **p, const char *key)
{
    size_t k = strlen(key);
    char *nl, *v;
    if (strncmp(*p, key, k) != 0 || (*p)[k] != ' ')
        return NULL;
    v = *p + k + 1;
    nl = strchr(v, '\n');
    if (nl == NULL)
        return NULL;
    *nl = '\0';
    *p = nl + 1;
    return v;
}

static int state_digest(const char *v, int *has, uint8_t out[32])
{
    size_t n;
    if (strcmp(v, "-") == 0) {
        *has = 0;
        memset(out, 0, 32);
        return 0;
    }
    if (strlen(v) != 64 || hex_decode(v, out, 32, &n) != 0)
        return -1;
    *has = 1;
    return 0;
}

static int state_parse(char *text, dev_state_t *s)
{
    char *p = text;
    const char *v;
    if ((v = state_field(&p, "dsuit-device-state")) == NULL ||
        strcmp(v, "1") != 0)
        return -1;
    if ((v = state_field(&p, "active")) == NULL ||
        (strcmp(v, "a") != 0 && strcmp(v, "b") != 0))
        return -1;
    s->active = v[0] == 'b';
    if ((v = state_field(&p, "seq")) == NULL || cli_parse_u64(v, &s->seq))
        return -1;
    if ((v = state_field(&p, "manifest")) == NULL ||
        state_digest(v, &s->has_manifest, s->manifest))
        return -1;
    if ((v = state_field(&p, "image")) == NULL ||
        state_digest(v, &s->has_image, s->image))
        return -1;
    if ((v = state_field(&p, "size")) == NULL ||
        cli_parse_u64(v, &s->image_size))
        return -1;
    if ((v = state_field(&p, "stored")) == NULL || cli_parse_u64(v, &s->stored))
        return -1;
    if (*p != '\0' || (!s->has_image && (s->image_size || s->stored)))
        return -1;
    return 0;
}

/* Make the folder if missing and read `state` (defaults if absent). */
static int state_open(device_t *d)
{
    char text[STATE_MAX + 1];
    struct stat sb;
    ssize_t n;
    int fd;

    if (mkdir(d->state_dir, 0700) != 0 && errno != EEXIST) {
        cli_error_subject(d->cmd, "cannot create", d->state_dir,
                          strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    if (stat(d->state_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cli_error_subject(d->cmd, "cannot use", d->state_dir, "not a folder");
        return DSUIT_EXIT_FAIL;
    }
    snprintf(d->path_state, sizeof(d->path_state), "%s/state", d->state_dir);
    snprintf(d->path_slot[0], sizeof(d->path_slot[0]), "%s/slot-a.bin",
             d->state_dir);
    snprintf(d->path_slot[1], sizeof(d->path_slot[1]), "%s/slot-b.bin",
             d->state_dir);
    memset(&d->st, 0, sizeof(d->st));
    fd = open(d->path_state, O_RDONLY);
    if (fd < 0 && errno == ENOENT)
        return DSUIT_EXIT_OK;
    if (fd < 0) {
        cli_error_subject(d->cmd, "cannot read", d->path_state,
                          strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    n = read(fd, text, sizeof(text));
    close(fd);
    if (n < 0 || (size_t)n > STATE_MAX) {
        cli_error_subject(d->cmd, "cannot read", d->path_state,
                          n < 0 ? strerror(errno) : "file is too large");
        return DSUIT_EXIT_FAIL;
    }
    text[n] = '\0';
    if (strlen(text) != (size_t)n || state_parse(text, &d->st) != 0) {
        memset(&d->st, 0, sizeof(d->st));
        cli_error_subject(d->cmd, "cannot read", d->path_state,
                          "not a device state record");
        return DSUIT_EXIT_FAIL;
    }
    return DSUIT_EXIT_OK;
}

/* ---- talking to the node ------------------------------------------------ */

typedef struct {
    uint8_t *buf;
    size_t cap, len;
} collect_t;

/* Body callback gathering a small answer (envelope, proof) in memory. */
static int collect(void *arg, uint64_t offset, const uint8_t *data, size_t len,
                   int last)
{
    collect_t *c = arg;
    (void)last;
    if (offset > c->len)
        return DSUIT_E_IO;
    if (offset > c->cap || len > c->cap - (size_t)offset)
        return DSUIT_E_LIMIT;
    memcpy(c->buf + offset, data, len);
    c->len = (size_t)offset + len;
    return DSUIT_OK;
}

/* What a failed request means for this node. */
static result_t request_failed(device_t *d, int err, const char *what)
{
    if (err == DSUIT_E_AGAIN)
        return R_STOPPED;
    if (err == DSUIT_E_LIMIT) {
        set_why(d, "'%s' served %s larger than this device accepts", d->node,
                what);
        return R_REJECTED;
    }
    set_why(d, "no answer from '%s' (%s)", d->node,
            err == DSUIT_E_IO ? "timeout, DTLS or transport failure"
                              : dsuit_strerror(err));
    return R_FAILED;
}

/* What a response code other than 2.05 means. */
static result_t response_refused(device_t *d, const dsuit_coap_result_t *r,
                                 const char *what)
{
    const char *diag = r->diag[0] ? r->diag : "no details";
    if (r->code == 403) {
        set_why(d, "'%s' refused %s: 4.03 this device is not allowed (%s)",
                d->node, what, diag);
        return R_REJECTED;
    }
    if (r->code == 404)
        set_why(d, "'%s' does not have %s: 4.04 (%s)", d->node, what, diag);
    else if (r->code == 503)
        set_why(d, "'%s' cannot serve %s yet: 5.03 (%s)", d->node, what, diag);
    else
        set_why(d, "'%s' answered %d.%02d for %s (%s)", d->node, r->code / 100,
                r->code % 100, what, diag);
    return R_FAILED;
}

/*
 * POST /fw/report: {1: installed seq, 2: manifest digest, 3: result,
 * 4: SUIT_Report}, keys ascending (deterministic CBOR). 2 and 4 only for an
 * authenticated manifest. A failure is a warning: it changes nothing on
 * the device.
 */
static void post_report(device_t *d, int authenticated, int err,
                        const dsuit_suit_error_t *where, const char *result)
{
    uint8_t suit[SUIT_REPORT_MAX], msg[REPORT_MAX];
    size_t suit_len = 0, msg_len = 0;
    dsuit_cbor_enc_t e;
    dsuit_coap_result_t r;
    int have_suit = 0, rc;

    if (authenticated)
        have_suit =
            dsuit_suit_report_encode(&d->report, &d->env, NULL, 0, err, where,
                                     suit, sizeof(suit), &suit_len) == DSUIT_OK;
    dsuit_cbor_enc_init(&e, msg, sizeof(msg));
    dsuit_cbor_put_map(&e, 2 + (size_t)authenticated + (size_t)have_suit);
    dsuit_cbor_put_uint(&e, 1);
    dsuit_cbor_put_uint(&e, d->st.seq);
    if (authenticated) {
        dsuit_cbor_put_uint(&e, 2);
        dsuit_cbor_put_bstr(&e, d->env.digest_bytes.ptr,
                            d->env.digest_bytes.len);
    }
    dsuit_cbor_put_uint(&e, 3);
    dsuit_cbor_put_tstr_z(&e, result);
    if (have_suit) {
        dsuit_cbor_put_uint(&e, 4);
        dsuit_cbor_put_bstr(&e, suit, suit_len);
    }
    if (dsuit_cbor_enc_finish(&e, &msg_len) != DSUIT_OK) {
        cli_warn(d->cmd, "report for '%s' not sent: too large", d->node);
        return;
    }
    rc = dsuit_coap_client_post(d->cl, "/fw/report", DSUIT_COAP_CF_CBOR, msg,
                                msg_len, &r);
    if (rc == DSUIT_E_AGAIN)
        return;
    if (rc != DSUIT_OK)
        cli_warn(d->cmd, "report to '%s' not sent: no answer", d->node);
    else if (r.code != 204 && r.code != 201)
        cli_warn(d->cmd, "report to '%s' refused: %d.%02d (%s)", d->node,
                 r.code / 100, r.code % 100, r.diag);
}

/* ---- the platform: one component, two slots ----------------------------- */

static int dev_check(const dsuit_suit_component_t *c)
{
    return c != NULL && c->index == 0 && c->params != NULL
               ? DSUIT_OK
               : DSUIT_E_SUIT_COMPONENT;
}

/* Body callback of the image download: write at the block's offset into
 * the inactive slot, record progress every CHECKPOINT bytes. */
static int store_block(void *arg, uint64_t offset, const uint8_t *data,
                       size_t len, int last)
{
    device_t *d = arg;
    uint64_t limit = d->st.image_size ? d->st.image_size : IMAGE_MAX;
    size_t done = 0;

    (void)last;
    if (stop_requested)
        return DSUIT_E_AGAIN;
    if (offset < d->pos) {
        /* The node started over: so do we. */
        if (ftruncate(d->fd, (off_t)offset) != 0)
            return DSUIT_E_IO;
        d->pos = offset;
        d->checkpoint = offset;
    }
    if (offset != d->pos)
        return DSUIT_E_IO;
    /* Never store more than the manifest announced. */
    if (len > limit || offset > limit - len)
        return DSUIT_E_LIMIT;
    /* Bounded: each round writes at least one byte or fails. */
    while (done < len) {
        ssize_t n =
            pwrite(d->fd, data + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return DSUIT_E_STORE;
        done += (size_t)n;
    }
    d->pos += len;
    if (d->pos - d->checkpoint >= CHECKPOINT) {
        dev_state_t s = d->st;
        s.stored = d->pos;
        if (fdatasync(d->fd) != 0 || state_save(d, &s) != DSUIT_EXIT_OK)
            return DSUIT_E_STORE;
        d->checkpoint = d->pos;
    }
    if (d->throttle_ms > 0)
        nap(d->throttle_ms);
    return DSUIT_OK;
}

/*
 * fetch: GET /fw/img/{image digest} into the inactive slot, resuming when
 * the stored progress is for the same digest. Returns DSUIT_OK when the
 * whole image is stored; on failure sets d->fetch_result and d->why.
 */
static int dev_fetch(void *arg, const dsuit_suit_component_t *c)
{
    device_t *d = arg;
    const dsuit_suit_params_t *p;
    dsuit_bytes_t digest;
    dsuit_coap_result_t r;
    int64_t alg;
    uint64_t size = 0, start = 0;
    char hex[HEX64], path[80];
    struct stat sb;
    dev_state_t s;
    int err = dev_check(c);

    if (err != DSUIT_OK)
        return err;
    p = c->params;
    if (!(p->set & (1u << DSUIT_SUIT_PARAM_IMAGE_DIGEST)))
        return DSUIT_E_SUIT_PARAM;
    err = dsuit_suit_digest_decode(p->image_digest.ptr, p->image_digest.len,
                                   &alg, &digest);
    if (err != DSUIT_OK)
        return err;
    if (alg != DSUIT_SUIT_DIGEST_SHA256 || digest.len != DSUIT_SHA256_LEN)
        return DSUIT_E_ALG;
    if (p->set & (1u << DSUIT_SUIT_PARAM_IMAGE_SIZE)) {
        if (p->image_size > IMAGE_MAX)
            return DSUIT_E_LIMIT;
        size = p->image_size;
    }
    hex32(digest.ptr, hex);
    d->fd = open(d->path_slot[!d->st.active], O_RDWR | O_CREAT, 0600);
    if (d->fd < 0 || fstat(d->fd, &sb) != 0) {
        set_why(d, "cannot open '%s': %s", d->path_slot[!d->st.active],
                strerror(errno));
        d->fetch_result = R_LOCAL;
        err = DSUIT_E_STORE;
        goto out;
    }
    s = d->st;
    if (s.has_image && memcmp(s.image, digest.ptr, DSUIT_SHA256_LEN) == 0) {
        /* Only what was fsync'd and recorded, and what the file holds, in
         * whole blocks. */
        start =
            s.stored < (uint64_t)sb.st_size ? s.stored : (uint64_t)sb.st_size;
        start -= start % DSUIT_COAP_BLOCK_SIZE;
        if (size != 0 && start > size)
            start = 0;
    }
    /* Cut the slot first, then record the new image: a crash between the
     * two leaves a record no longer than what the slot holds. */
    if (ftruncate(d->fd, (off_t)start) != 0) {
        set_why(d, "cannot write '%s': %s", d->path_slot[!d->st.active],
                strerror(errno));
        d->fetch_result = R_LOCAL;
        err = DSUIT_E_STORE;
        goto out;
    }
    s.has_image = 1;
    memcpy(s.image, digest.ptr, DSUIT_SHA256_LEN);
    s.image_size = size;
    s.stored = start;
    if (state_save(d, &s) != DSUIT_EXIT_OK) {
        set_why(d, "cannot record the download in '%s'", d->path_state);
        d->fetch_result = R_LOCAL;
        err = DSUIT_E_STORE;
        goto out;
    }
    if (start > 0) {
        if (size)
            printf("resuming: %" PRIu64 " of %" PRIu64 " from %s\n", start,
                   size, d->node);
        else
            printf("resuming: %" PRIu64 " of ? from %s\n", start, d->node);
        fflush(stdout);
    }
    d->pos = start;
    d->checkpoint = start;
    if (size != 0 && start == size) {
        d->fetch_full = 1; /* stored whole before an interruption */
        err = DSUIT_OK;
        goto out;
    }
    snprintf(path, sizeof(path), "/fw/img/%s", hex);
    err = dsuit_coap_client_get(d->cl, path, start, store_block, d, &r);
    if (err == DSUIT_E_STORE) {
        set_why(d, "cannot write '%s': %s", d->path_slot[!d->st.active],
                strerror(errno));
        d->fetch_result = R_LOCAL;
        goto out;
    }
    if (err != DSUIT_OK) {
        d->fetch_result = request_failed(d, err, "the image");
        goto out;
    }
    if (r.code != 205) {
        d->fetch_result = response_refused(d, &r, "the image");
        err = DSUIT_E_SUIT_DIRECTIVE;
        goto out;
    }
    s = d->st;
    s.stored = d->pos;
    if (fdatasync(d->fd) != 0 || state_save(d, &s) != DSUIT_EXIT_OK) {
        set_why(d, "cannot record the download in '%s'", d->path_state);
        d->fetch_result = R_LOCAL;
        err = DSUIT_E_STORE;
        goto out;
    }
    d->fetch_full = 1;
    err = DSUIT_OK;
out:
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    return err;
}

/* SHA-256 of the inactive slot's first `size` bytes (all of it without a
 * size). A slot shorter than size hashes what it holds, which then cannot
 * match. */
static int dev_digest(void *arg, const dsuit_suit_component_t *c, size_t size,
                      int has_size, uint8_t out[DSUIT_SHA256_LEN])
{
    device_t *d = arg;
    dsuit_sha256_ctx_t h;
    uint64_t left = has_size ? size : UINT64_MAX;
    int fd, err = dev_check(c);

    if (err != DSUIT_OK)
        return err;
    fd = open(d->path_slot[!d->st.active], O_RDONLY);
    if (fd < 0 && errno != ENOENT)
        return DSUIT_E_IO;
    err = dsuit_sha256_init(&h);
    /* Bounded by the file's size: each round reads at least one byte. */
    while (err == DSUIT_OK && fd >= 0 && left > 0) {
        size_t want = left < sizeof(d->io) ? (size_t)left : sizeof(d->io);
        ssize_t n = read(fd, d->io, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err = DSUIT_E_IO;
        if (n <= 0)
            break;
        err = dsuit_sha256_update(&h, d->io, (size_t)n);
        left -= (uint64_t)n;
    }
    if (fd >= 0)
        close(fd);
    if (err == DSUIT_OK)
        err = dsuit_sha256_final(&h, out);
    return err;
}

static void dev_report(void *arg, const dsuit_suit_record_t *rec)
{
    device_t *d = arg;
    dsuit_suit_report_add(&d->report, rec);
}

/* ---- one cycle on one node ---------------------------------------------- */

/* GET the proof and check it names this manifest, vendor and class. */
static result_t check_proof(device_t *d)
{
    collect_t col = {d->proof, sizeof(d->proof), 0};
    dsuit_coap_result_t r;
    dsuit_ledger_proof_info_t info;
    char hex[HEX64], path[80];
    int err;

    snprintf(path, sizeof(path), "/fw/proof/%s",
             hex32(d->env.digest_bytes.ptr, hex));
    err = dsuit_coap_client_get(d->cl, path, 0, collect, &col, &r);
    if (err != DSUIT_OK)
        return request_failed(d, err, "a ledger proof");
    if (r.code != 205)
        return response_refused(d, &r, "a ledger proof");
    d->proof_len = col.len;
    err = dsuit_ledger_proof_verify(d->proof, d->proof_len, &d->trust,
                                    d->env.digest_bytes.ptr, cli_wall_ms(),
                                    d->max_age_s * 1000u, &info);
    if (err != DSUIT_OK) {
        set_why(d, "'%s' served a ledger proof that does not verify: %s",
                d->node, dsuit_strerror(err));
        return R_REJECTED;
    }
    if (info.seq != d->env.seq ||
        memcmp(info.vendor, d->vendor, CLI_UUID_LEN) != 0 ||
        memcmp(info.class_id, d->class_id, CLI_UUID_LEN) != 0) {
        set_why(d,
                "'%s' served a ledger proof for another sequence number, "
                "vendor or class",
                d->node);
        return R_REJECTED;
    }
    return R_PASS;
}

/* Swap: the inactive slot becomes active with this manifest. */
static result_t install(device_t *d)
{
    dev_state_t s = d->st;
    s.active = !s.active;
    s.seq = d->env.seq;
    s.has_manifest = 1;
    memcpy(s.manifest, d->env.digest_bytes.ptr, DSUIT_SHA256_LEN);
    memcpy(d->installed_image, d->st.image, DSUIT_SHA256_LEN);
    s.has_image = 0;
    s.image_size = 0;
    s.stored = 0;
    if (state_save(d, &s) != DSUIT_EXIT_OK) {
        set_why(d, "cannot record the installation in '%s'", d->path_state);
        return R_LOCAL;
    }
    return R_UPDATED;
}

/* Throw away a full download that did not match its digest. */
static result_t discard_download(device_t *d)
{
    dev_state_t s = d->st;
    if (truncate(d->path_slot[!d->st.active], 0) != 0 && errno != ENOENT)
        return R_LOCAL;
    s.has_image = 0;
    s.image_size = 0;
    s.stored = 0;
    return state_save(d, &s) == DSUIT_EXIT_OK ? R_REJECTED : R_LOCAL;
}

static result_t cycle_on_node(device_t *d)
{
    collect_t col = {d->env_buf, sizeof(d->env_buf), 0};
    dsuit_suit_profile_t profile = {
        .vendor_id = {d->vendor, CLI_UUID_LEN},
        .class_id = {d->class_id, CLI_UUID_LEN},
        .has_installed_seq = 1,
        .installed_seq = d->st.seq,
        .max_components = 1,
    };
    dsuit_suit_platform_t plat = {
        .arg = d,
        .digest = dev_digest,
        .fetch = dev_fetch,
        .report = dev_report,
    };
    dsuit_coap_result_t r;
    dsuit_suit_error_t where;
    char path[120], buf[300];
    result_t res;
    int err;

    memset(&where, 0, sizeof(where));
    dsuit_suit_report_init(&d->report);
    d->fetch_result = R_REJECTED;
    d->fetch_full = 0;
    d->fd = -1;
    err = dsuit_coap_client_open(d->node, &d->copts, &d->cl);
    if (err != DSUIT_OK) {
        set_why(d, "cannot reach '%s': %s", d->node,
                err == DSUIT_E_IO ? "name does not resolve or DTLS setup "
                                    "failed"
                                  : dsuit_strerror(err));
        return R_FAILED;
    }

    /* 1. latest, authenticated and checked */
    snprintf(path, sizeof(path), "/fw/%s/%s/latest", d->vendor_text,
             d->class_text);
    err = dsuit_coap_client_get(d->cl, path, 0, collect, &col, &r);
    if (err != DSUIT_OK)
        return request_failed(d, err, "a manifest");
    if (r.code != 205)
        return response_refused(d, &r, "a manifest");
    d->env_len = col.len;
    err = dsuit_suit_parse(d->env_buf, d->env_len, d->authors, d->n_authors,
                           &d->env, &where);
    if (err != DSUIT_OK || d->env.digest_bytes.len != DSUIT_SHA256_LEN) {
        if (err == DSUIT_OK)
            err = DSUIT_E_ALG;
        set_why(d, "'%s' served a manifest that does not authenticate: %s",
                d->node, why_suit(err, &where, buf, sizeof(buf)));
        snprintf(buf, sizeof(buf), "rejected: %s", dsuit_strerror(err));
        post_report(d, 0, err, &where, buf);
        return R_REJECTED;
    }
    err = dsuit_suit_check(&d->env, &profile, &where);
    if (err == DSUIT_E_ROLLBACK && d->env.seq == d->st.seq &&
        d->st.has_manifest &&
        memcmp(d->env.digest_bytes.ptr, d->st.manifest, DSUIT_SHA256_LEN) ==
            0) {
        post_report(d, 1, DSUIT_OK, &where, "current");
        return R_CURRENT;
    }
    if (err != DSUIT_OK) {
        if (err == DSUIT_E_ROLLBACK)
            set_why(d,
                    "'%s' served sequence %" PRIu64
                    ", not above the installed %" PRIu64 ": rollback refused",
                    d->node, d->env.seq, d->st.seq);
        else
            set_why(d, "'%s' served a manifest this device refuses: %s",
                    d->node, why_suit(err, &where, buf, sizeof(buf)));
        snprintf(buf, sizeof(buf), "rejected: %s", dsuit_strerror(err));
        post_report(d, 1, err, &where, buf);
        return R_REJECTED;
    }

    /* 2. the ledger's word */
    if (d->has_trust) {
        res = check_proof(d);
        if (res == R_REJECTED) {
            post_report(d, 1, DSUIT_E_SIGNATURE, &where,
                        "rejected: ledger proof does not verify");
            return res;
        }
        if (res != R_PASS)
            return res;
    }

    /* 3. fetch, image-match, install */
    memset(&where, 0, sizeof(where));
    err = dsuit_suit_process(&d->proc, &d->env, &profile, &plat,
                             DSUIT_SUIT_UPDATE, &where);
    if (err == DSUIT_OK) {
        res = install(d);
        if (res == R_UPDATED)
            post_report(d, 1, DSUIT_OK, &where, "ok");
        return res;
    }
    if (stop_requested || err == DSUIT_E_AGAIN)
        return R_STOPPED;
    if (where.command == DSUIT_SUIT_DIR_FETCH && d->fetch_result != R_REJECTED)
        return d->fetch_result; /* why already set */
    if (where.command == DSUIT_SUIT_DIR_FETCH) {
        /* fetch's own checks refused the manifest's parameters */
        set_why(d, "'%s' served a manifest whose image this device refuses: %s",
                d->node, dsuit_strerror(err));
        res = R_REJECTED;
    } else if (err == DSUIT_E_SUIT_CONDITION &&
               where.command == DSUIT_SUIT_COND_IMAGE_MATCH) {
        if (d->fetch_full)
            set_why(d,
                    "'%s' served an image that does not match the manifest's "
                    "digest",
                    d->node);
        else
            set_why(d,
                    "'%s' served a manifest with no image to fetch (no "
                    "install sequence with a fetch; was it made without "
                    "--uri?), and the inactive slot does not hold it",
                    d->node);
        res = d->fetch_full ? discard_download(d) : R_REJECTED;
    } else {
        set_why(d, "'%s' served a manifest that fails to process: %s", d->node,
                why_suit(err, &where, buf, sizeof(buf)));
        res = R_REJECTED;
    }
    if (res == R_LOCAL)
        set_why(d, "cannot discard the download in '%s'", d->state_dir);
    snprintf(buf, sizeof(buf), "rejected: %s", dsuit_strerror(err));
    post_report(d, 1, err, &where, buf);
    return res;
}

/*
 * One cycle: each node in order until one ends with updated or current.
 * Prints one stderr line per node that failed. Returns the best outcome:
 * updated/current, else rejected if any node served something checked and
 * refused, else failed (local and stopped end the round at once).
 */
static result_t cycle(device_t *d, size_t *out_node)
{
    result_t worst = R_FAILED;
    for (size_t i = 0; i < d->n_nodes; i++) {
        result_t res;
        d->node = d->nodes[i];
        res = cycle_on_node(d);
        dsuit_coap_client_close(d->cl);
        d->cl = NULL;
        if (res == R_UPDATED || res == R_CURRENT) {
            *out_node = i;
            return res;
        }
        if (res == R_STOPPED || stop_requested)
            return R_STOPPED;
        cli_error(d->cmd, "%s", d->why);
        if (res == R_LOCAL)
            return R_LOCAL;
        if (res == R_REJECTED)
            worst = R_REJECTED;
    }
    return worst;
}

/* The line a cycle prints on stdout; the exit code `once` ends with. */
static int report_cycle(device_t *d, result_t res, size_t node, int once)
{
    char hex[HEX64];
    switch (res) {
    case R_UPDATED:
        printf("updated: sequence %" PRIu64 ", image %s, from %s\n", d->st.seq,
               hex32(d->installed_image, hex), d->nodes[node]);
        fflush(stdout);
        return DSUIT_EXIT_OK;
    case R_CURRENT:
        printf("current: sequence %" PRIu64 "\n", d->st.seq);
        fflush(stdout);
        return DSUIT_EXIT_OK;
    case R_REJECTED:
        if (once)
            cli_error(d->cmd, "no acceptable update from any node");
        else
            printf("rejected: %s\n", d->why);
        fflush(stdout);
        return DSUIT_EXIT_REJECT;
    case R_STOPPED:
        if (once)
            cli_error(d->cmd, "interrupted");
        return once ? DSUIT_EXIT_FAIL : DSUIT_EXIT_OK;
    case R_LOCAL:
    case R_FAILED:
    default:
        if (once && res == R_LOCAL)
            return DSUIT_EXIT_FAIL; /* its line is out already */
        if (once)
            cli_error(d->cmd, "no node could be reached or had a manifest");
        else
            printf("failed: %s\n", d->why);
        fflush(stdout);
        return DSUIT_EXIT_FAIL;
    }
}

/* ---- run: interval or observe ------------------------------------------- */

static void run_interval(device_t *d, unsigned interval_s)
{
    /* Ends on SIGTERM/SIGINT; each round is bounded by the timeouts. */
    while (!stop_requested) {
        size_t node = 0;
        result_t res = cycle(d, &node);
        if (res == R_STOPPED)
            break;
        report_cycle(d, res, node, 0);
        nap(interval_s * 1000u);
    }
}

/* Observe latest on the first node that keeps an observation. */
static dsuit_coap_client_t *observe_any(device_t *d, size_t *out_node)
{
    char path[120];
    snprintf(path, sizeof(path), "/fw/%s/%s/latest", d->vendor_text,
             d->class_text);
    for (size_t i = 0; i < d->n_nodes && !stop_requested; i++) {
        dsuit_coap_client_t *cl = NULL;
        dsuit_coap_result_t r;
        int err = dsuit_coap_client_open(d->nodes[i], &d->copts, &cl);
        if (err == DSUIT_OK)
            err = dsuit_coap_client_observe(cl, path, &r);
        if (err == DSUIT_OK && r.code == 205) {
            *out_node = i;
            return cl;
        }
        if (err == DSUIT_OK)
            cli_error(d->cmd, "'%s' keeps no observation: %d.%02d (%s)",
                      d->nodes[i], r.code / 100, r.code % 100, r.diag);
        else if (err == DSUIT_E_UNSUPPORTED)
            cli_error(d->cmd, "'%s' keeps no observation: no Observe",
                      d->nodes[i]);
        else if (err != DSUIT_E_AGAIN)
            cli_error(d->cmd, "no answer from '%s' to observe", d->nodes[i]);
        dsuit_coap_client_close(cl);
    }
    return NULL;
}

static void run_observe(device_t *d, unsigned interval_s)
{
    char path[120];
    snprintf(path, sizeof(path), "/fw/%s/%s/latest", d->vendor_text,
             d->class_text);
    /* Ends on SIGTERM/SIGINT; every wait inside is bounded. */
    while (!stop_requested) {
        size_t node = 0, on = 0;
        result_t res = cycle(d, &node);
        dsuit_coap_client_t *obs;
        if (res == R_STOPPED)
            break;
        report_cycle(d, res, node, 0);
        obs = observe_any(d, &on);
        if (obs == NULL) {
            /* Nobody keeps an observation: poll until one does. */
            nap(interval_s * 1000u);
            continue;
        }
        printf("observing: %s\n", d->nodes[on]);
        fflush(stdout);
        /* Wait for notifications; renew every interval, which also tells
         * whether the node is still there (RFC 7641 §3.3.1). */
        while (!stop_requested) {
            dsuit_coap_result_t r;
            unsigned notified = 0;
            int err =
                dsuit_coap_client_wait(obs, interval_s * 1000u, &notified);
            if (err == DSUIT_OK && notified == 0)
                err = dsuit_coap_client_observe(obs, path, &r) == DSUIT_OK &&
                              r.code == 205
                          ? DSUIT_OK
                          : DSUIT_E_IO;
            if (err != DSUIT_OK) {
                if (!stop_requested)
                    cli_error(d->cmd, "observation on '%s' ended",
                              d->nodes[on]);
                break;
            }
            if (notified == 0)
                continue;
            res = cycle(d, &node);
            if (res == R_STOPPED)
                break;
            report_cycle(d, res, node, 0);
        }
        dsuit_coap_client_close(obs);
    }
}

/* ---- command line -------------------------------------------------------- */

static int parse_seconds(const char *cmd, const char *opt, const char *v,
                         uint64_t min, uint64_t max, uint64_t *out)
{
    if (cli_parse_u64(v, out) != 0 || *out < min || *out > max)
        return cli_usage_error(cmd,
                               "bad '--%s' '%s': a number of seconds "
                               "from %" PRIu64 " to %" PRIu64,
                               opt, v, min, max);
    return DSUIT_EXIT_OK;
}

/* Load the genesis and keep what dsuit_ledger_proof_verify needs. */
static int load_trust(device_t *d, const char *path)
{
    dsuit_genesis_t *g = NULL;
    const char *why = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int err, rc = cli_read_file(d->cmd, path, GENESIS_MAX, &buf, &len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    err = dsuit_genesis_decode(buf, len, &g, &why);
    free(buf);
    if (err != DSUIT_OK) {
        char reason[200];
        snprintf(reason, sizeof(reason), "%s%s%s", dsuit_strerror(err),
                 why ? ": " : "", why ? why : "");
        cli_error_subject(d->cmd, "cannot use genesis", path, reason);
        return cli_exit_for_err(err);
    }
    for (size_t i = 0; i < g->n_validators; i++)
        d->validators[i] = g->validators[i].key;
    memcpy(d->chain, g->hash, sizeof(d->chain));
    d->trust.chain = d->chain;
    d->trust.validators = d->validators;
    d->trust.n_validators = g->n_validators;
    d->trust.quorum = g->policy.quorum;
    d->has_trust = 1;
    dsuit_genesis_free(g);
    return DSUIT_EXIT_OK;
}

/* The device's DTLS key: a P-256 private key in PEM (libcoap takes PEM). */
static int load_dtls_key(device_t *d, const char *path)
{
    dsuit_key_t key;
    int rc = cli_load_key(d->cmd, path, &key);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (key.type != DSUIT_KEY_P256 || !key.has_private) {
        cli_error_subject(d->cmd, "cannot use key", path,
                          key.type == DSUIT_KEY_ED25519
                              ? "Ed25519 keys do not work as DTLS raw public "
                                "keys: use a P-256 key ('dsuit keygen --alg "
                                "es256')"
                              : "not a P-256 private key");
        dsuit_key_wipe(&key);
        return DSUIT_EXIT_REJECT;
    }
    /* The public half in PEM, for the node to see (client.h). */
    if (dsuit_key_to_pem(&key, 0, d->rpk_pub_pem, sizeof(d->rpk_pub_pem),
                         &d->rpk_pub_pem_len) != DSUIT_OK) {
        dsuit_key_wipe(&key);
        cli_error_subject(d->cmd, "cannot use key", path,
                          "cannot write its public key as PEM");
        return DSUIT_EXIT_FAIL;
    }
    dsuit_key_wipe(&key);
    rc = cli_read_file(d->cmd, path, DSUIT_CLI_KEY_FILE_MAX, &d->rpk_pem,
                       &d->rpk_pem_len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (d->rpk_pem_len < 10 ||
        strstr((char *)d->rpk_pem, "-----BEGIN") == NULL) {
        cli_error_subject(d->cmd, "cannot use key", path,
                          "not a PEM file (DTLS needs PEM)");
        return DSUIT_EXIT_REJECT;
    }
    d->copts.rpk_pem = d->rpk_pem;
    d->copts.rpk_pem_len = d->rpk_pem_len;
    d->copts.rpk_pub_pem = (const uint8_t *)d->rpk_pub_pem;
    d->copts.rpk_pub_pem_len = d->rpk_pub_pem_len;
    return DSUIT_EXIT_OK;
}

typedef struct {
    const char *psk_id, *psk_key, *key, *vendor_domain, *class_name;
    const char *genesis;
    const char *authors[MAX_AUTHORS];
    size_t n_authors;
    uint64_t interval_s, timeout_s;
    int observe, have_max_age;
} args_t;

static int parse_args(device_t *d, int once, int argc, char **argv, args_t *a)
{
    const struct option *longopts = once ? once_longopts : run_longopts;
    int c, rc;
    a->interval_s = 60;
    a->timeout_s = 5;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CLASS:
            a->class_name = optarg;
            break;
        case 'h':
            fputs(once ? usage_once : usage_run, stdout);
            return -1;
        case OPT_INTERVAL:
            rc = parse_seconds(d->cmd, "interval", optarg, 1, 86400,
                               &a->interval_s);
            if (rc != DSUIT_EXIT_OK)
                return rc;
            break;
        case OPT_KEY:
            a->key = optarg;
            break;
        case OPT_MAX_AGE:
            rc = parse_seconds(d->cmd, "max-age", optarg, 0, UINT64_MAX / 1000u,
                               &d->max_age_s);
            if (rc != DSUIT_EXIT_OK)
                return rc;
            a->have_max_age = 1;
            break;
        case OPT_NODE:
            if (d->n_nodes == MAX_NODES)
                return cli_usage_error(d->cmd, "too many '--node': at most %d",
                                       MAX_NODES);
            if (!node_uri_ok(optarg))
                return cli_usage_error(d->cmd,
                                       "bad '--node' '%s': expected "
                                       "coaps://HOST:PORT",
                                       optarg);
            d->nodes[d->n_nodes++] = optarg;
            break;
        case OPT_OBSERVE:
            a->observe = 1;
            break;
        case OPT_PSK_ID:
            a->psk_id = optarg;
            break;
        case OPT_PSK_KEY:
            a->psk_key = optarg;
            break;
        case OPT_STATE:
            d->state_dir = optarg;
            break;
        case OPT_TIMEOUT:
            rc = parse_seconds(d->cmd, "timeout", optarg, 1, 3600,
                               &a->timeout_s);
            if (rc != DSUIT_EXIT_OK)
                return rc;
            break;
        case OPT_TRUST_AUTHOR:
            if (a->n_authors == MAX_AUTHORS)
                return cli_usage_error(d->cmd,
                                       "too many '--trust-author': at most %d",
                                       MAX_AUTHORS);
            a->authors[a->n_authors++] = optarg;
            break;
        case OPT_TRUST_GENESIS:
            a->genesis = optarg;
            break;
        case OPT_VENDOR_DOMAIN:
            a->vendor_domain = optarg;
            break;
        default:
            return cli_getopt_error(d->cmd, c, argv, longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(d->cmd, "unexpected argument '%s'",
                               argv[optind]);
    if (d->state_dir == NULL || d->state_dir[0] == '\0')
        return cli_usage_error(d->cmd, "missing option '--state'");
    if (d->n_nodes == 0)
        return cli_usage_error(d->cmd, "missing option '--node'");
    if (a->key != NULL && (a->psk_id != NULL || a->psk_key != NULL))
        return cli_usage_error(d->cmd, "'--key' and '--psk-id'/'--psk-key' "
                                       "exclude each other");
    if (a->key == NULL && (a->psk_id == NULL || a->psk_key == NULL))
        return cli_usage_error(
            d->cmd, a->psk_id == NULL && a->psk_key == NULL
                        ? "missing option '--psk-id' and '--psk-key', or "
                          "'--key'"
                    : a->psk_id == NULL ? "missing option '--psk-id'"
                                        : "missing option '--psk-key'");
    if (a->psk_id != NULL && (a->psk_id[0] == '\0' || strlen(a->psk_id) > 128))
        return cli_usage_error(d->cmd, "bad '--psk-id': 1 to 128 bytes");
    if (a->psk_key != NULL) {
        size_t n = 0;
        if (hex_decode(a->psk_key, d->psk_key, sizeof(d->psk_key), &n) != 0 ||
            n < PSK_KEY_MIN)
            return cli_usage_error(d->cmd,
                                   "bad '--psk-key': %d to %d bytes "
                                   "in hex",
                                   PSK_KEY_MIN, PSK_KEY_MAX);
        d->copts.psk_identity = a->psk_id;
        d->copts.psk_key = d->psk_key;
        d->copts.psk_key_len = n;
    }
    if (a->n_authors == 0)
        return cli_usage_error(d->cmd, "missing option '--trust-author'");
    if (a->have_max_age && a->genesis == NULL)
        return cli_usage_error(d->cmd, "'--max-age' needs '--trust-genesis'");
    if (a->vendor_domain == NULL || a->vendor_domain[0] == '\0')
        return cli_usage_error(d->cmd, "missing option '--vendor-domain'");
    if (a->class_name == NULL || a->class_name[0] == '\0')
        return cli_usage_error(d->cmd, "missing option '--class'");
    d->copts.timeout_ms = (unsigned)a->timeout_s * 1000u;
    d->copts.stop = &stop_requested;
    return DSUIT_EXIT_OK;
}

static int setup(device_t *d, const args_t *a)
{
    const char *t = getenv("DSUIT_DEVICE_THROTTLE_MS");
    int rc;

    if (t != NULL && t[0] != '\0') {
        uint64_t ms;
        if (cli_parse_u64(t, &ms) != 0 || ms > THROTTLE_MAX_MS) {
            cli_error(d->cmd, "bad DSUIT_DEVICE_THROTTLE_MS '%s': 0 to %d", t,
                      THROTTLE_MAX_MS);
            return DSUIT_EXIT_USAGE;
        }
        d->throttle_ms = (unsigned)ms;
    }
    if (cli_uuid5(cli_uuid_ns_dns, a->vendor_domain, strlen(a->vendor_domain),
                  d->vendor) != 0 ||
        cli_uuid5(d->vendor, a->class_name, strlen(a->class_name),
                  d->class_id) != 0) {
        cli_error(d->cmd, "cannot derive the vendor and class ids");
        return DSUIT_EXIT_FAIL;
    }
    cli_uuid_format(d->vendor, d->vendor_text);
    cli_uuid_format(d->class_id, d->class_text);
    for (size_t i = 0; i < a->n_authors; i++) {
        rc = cli_load_key(d->cmd, a->authors[i], &d->authors[d->n_authors]);
        if (rc != DSUIT_EXIT_OK)
            return rc;
        d->n_authors++;
    }
    if (a->key != NULL && (rc = load_dtls_key(d, a->key)) != DSUIT_EXIT_OK)
        return rc;
    if (a->genesis != NULL && (rc = load_trust(d, a->genesis)) != DSUIT_EXIT_OK)
        return rc;
    return state_open(d);
}

/* fcntl lock on DIR/lock for the life of the process. */
static int lock_state(device_t *d, int *out_fd)
{
    char path[PATH_MAX_LEN];
    struct flock fl;
    int fd;
    snprintf(path, sizeof(path), "%s/lock", d->state_dir);
    fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
        cli_error_subject(d->cmd, "cannot lock", path, strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        cli_error_subject(d->cmd, "cannot lock", path,
                          "another device runs on this state folder");
        close(fd);
        return DSUIT_EXIT_FAIL;
    }
    *out_fd = fd;
    return DSUIT_EXIT_OK;
}

int cli_device_client(int argc, char **argv, int once)
{
    struct sigaction sa, old_term, old_int;
    device_t *d;
    args_t a;
    int rc, lock_fd = -1;

    /* Big buffers (envelope, proof): on the heap once, never on the
     * verification path. */
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        cli_error(once ? "device once" : "device run", "out of memory");
        return DSUIT_EXIT_FAIL;
    }
    d->cmd = once ? "device once" : "device run";
    d->fd = -1;
    memset(&a, 0, sizeof(a));
    rc = parse_args(d, once, argc, argv, &a);
    if (rc < 0) {
        rc = DSUIT_EXIT_OK; /* --help */
        goto out;
    }
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = setup(d, &a);
    if (rc == DSUIT_EXIT_OK)
        rc = lock_state(d, &lock_fd);
    if (rc != DSUIT_EXIT_OK)
        goto out;

    stop_requested = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    if (once) {
        size_t node = 0;
        result_t res = cycle(d, &node);
        rc = report_cycle(d, res, node, 1);
    } else {
        if (a.observe)
            run_observe(d, (unsigned)a.interval_s);
        else
            run_interval(d, (unsigned)a.interval_s);
        rc = DSUIT_EXIT_OK;
    }
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
out:
    if (lock_fd >= 0)
        close(lock_fd);
    for (size_t i = 0; i < d->n_authors; i++)
        dsuit_key_wipe(&d->authors[i]);
    dsuit_wipe(d->psk_key, sizeof(d->psk_key));
    if (d->rpk_pem != NULL)
        cli_free_secret(d->rpk_pem, d->rpk_pem_len);
    free(d);
    return rc;
}
