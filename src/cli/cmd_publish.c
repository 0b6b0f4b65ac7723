/*
 * `dsuit publish`: the author's side of the draft's Figure 3. Sends a
 * signed SUIT envelope to a registration node, uploads each image the
 * manifest names, and follows the publish transaction until its block is
 * certified. The envelope is a file (--manifest), or is built and signed
 * here from `dsuit manifest create`'s options (--key), by the same code as
 * that command (cli_manifest.c), so both make the same bytes. Page:
 * docs/cli/dsuit-publish.md.
 *
 *   1. POST /v1/publish   envelope -> registration check and manifest
 *                         verification; the node answers with one upload
 *                         location per image, or names the failed check
 *   2. PUT  <location>    each image (matched by its SHA-256)
 *   3. GET  /v1/tx/{id}   until committed, then certified
 */
#define _DEFAULT_SOURCE /* usleep */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_manifest.h"
#include "net/http/client.h"

#define CMD        "publish"
#define MAX_IMAGES 8

static const char usage[] =
    "usage: dsuit publish --node URL --manifest M.suit --image FW.bin\n"
    "                     [--image ...] [--timeout S] [--no-wait]\n"
    "       dsuit publish --node URL --key A.key --image FW.bin --seq N\n"
    "                     --vendor-domain D --class NAME [manifest options]\n"
    "                     [--out M.suit] [--timeout S] [--no-wait]\n"
    "\n"
    "Publish signed firmware through a registration node: the node checks\n"
    "that the manifest's author is registered for its vendor and class and\n"
    "that the manifest is authentic and not a rollback; then each image is\n"
    "uploaded, stored as chunks on the validators, and the publish is\n"
    "committed to the ledger and certified by a quorum of validators.\n"
    "Progress goes to stderr; the manifest digest and the transaction id\n"
    "to stdout.\n"
    "\n"
    "With --key instead of --manifest, the manifest for the one --image is\n"
    "built and signed first, exactly as 'dsuit manifest create' would with\n"
    "the same options plus --kid (the key id goes in unless --no-kid).\n"
    "\n"
    "options:\n"
    "  --help, -h         show this help\n"
    "  --image FW.bin     an image the manifest names (once per image;\n"
    "                     once with --key)\n"
    "  --manifest M.suit  the signed SUIT envelope ('dsuit manifest create')\n"
    "  --no-wait          return once the publish is submitted\n"
    "  --node URL         a node's HTTP API, e.g. http://127.0.0.1:8001\n"
    "  --timeout S        give up waiting after S seconds (default 60)\n"
    "\n"
    "manifest options (with --key; as in 'dsuit manifest create --help'):\n"
    "  --alg ALG                  es256, esp256, eddsa or ed25519\n"
    "  --class NAME               class-id = UUIDv5(vendor-id, NAME)\n"
    "  --class-id UUID            class-id given directly\n"
    "  --component ID             component identifier (default 0x00)\n"
    "  --component-description T  component text: description\n"
    "  --component-version T      component text: version\n"
    "  --invoke                   add an invoke sequence\n"
    "  --key FILE                 sign with this private key (repeatable)\n"
    "  --kid                      put each key's id in its signature (the\n"
    "                             default)\n"
    "  --model-name T             component text: model name\n"
    "  --no-kid                   leave the key ids out\n"
    "  --out FILE, -o FILE        also keep the signed envelope here\n"
    "  --reference-uri URI        where the full envelope can be found\n"
    "  --seq N                    sequence number\n"
    "  --sever LIST               make install and/or text severable\n"
    "  --text-description T       manifest text: description\n"
    "  --uri URI                  add an install sequence fetching URI\n"
    "  --vendor-domain D          vendor-id = UUIDv5(DNS, D)\n"
    "  --vendor-id UUID           vendor-id given directly\n"
    "  --vendor-name T            component text: vendor name\n";

/* create's options keep their codes (cli_manifest.h); ours follow them. */
enum {
    OPT_IMAGE = CLI_MANIFEST_OPT_END,
    OPT_MANIFEST,
    OPT_NO_KID,
    OPT_NO_WAIT,
    OPT_NODE,
    OPT_TIMEOUT
};

/* Sorted by name. */
static const struct option longopts[] = {
    {"alg", required_argument, NULL, CLI_MANIFEST_OPT_ALG},
    {"class", required_argument, NULL, CLI_MANIFEST_OPT_CLASS},
    {"class-id", required_argument, NULL, CLI_MANIFEST_OPT_CLASS_ID},
    {"component", required_argument, NULL, CLI_MANIFEST_OPT_COMPONENT},
    {"component-description", required_argument, NULL,
     CLI_MANIFEST_OPT_COMPONENT_DESCRIPTION},
    {"component-version", required_argument, NULL,
     CLI_MANIFEST_OPT_COMPONENT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {"image", required_argument, NULL, OPT_IMAGE},
    {"invoke", no_argument, NULL, CLI_MANIFEST_OPT_INVOKE},
    {"key", required_argument, NULL, CLI_MANIFEST_OPT_KEY},
    {"kid", no_argument, NULL, CLI_MANIFEST_OPT_KID},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"model-name", required_argument, NULL, CLI_MANIFEST_OPT_MODEL_NAME},
    {"no-kid", no_argument, NULL, OPT_NO_KID},
    {"no-wait", no_argument, NULL, OPT_NO_WAIT},
    {"node", required_argument, NULL, OPT_NODE},
    {"out", required_argument, NULL, 'o'},
    {"reference-uri", required_argument, NULL, CLI_MANIFEST_OPT_REFERENCE_URI},
    {"seq", required_argument, NULL, CLI_MANIFEST_OPT_SEQ},
    {"sever", required_argument, NULL, CLI_MANIFEST_OPT_SEVER},
    {"text-description", required_argument, NULL,
     CLI_MANIFEST_OPT_TEXT_DESCRIPTION},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"uri", required_argument, NULL, CLI_MANIFEST_OPT_URI},
    {"vendor-domain", required_argument, NULL, CLI_MANIFEST_OPT_VENDOR_DOMAIN},
    {"vendor-id", required_argument, NULL, CLI_MANIFEST_OPT_VENDOR_ID},
    {"vendor-name", required_argument, NULL, CLI_MANIFEST_OPT_VENDOR_NAME},
    {NULL, 0, NULL, 0},
};

/* A JSON answer's "error" and "message", for the one-line report. */
static void report_refusal(const char *subject, const uint8_t *body, size_t len,
                           long status)
{
    json_error_t e;
    json_t *j = json_loadb((const char *)body, len, 0, &e);
    const char *code =
        j ? json_string_value(json_object_get(j, "error")) : NULL;
    const char *msg =
        j ? json_string_value(json_object_get(j, "message")) : NULL;
    char reason[512];
    snprintf(reason, sizeof reason, "%s: %s (HTTP %ld)",
             code ? code : "refused", msg ? msg : "no reason given", status);
    cli_error_subject(CMD, "refused", subject, reason);
    json_decref(j);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The command line, once parsed. */
typedef struct {
    const char *node, *manifest, *out;
    char *images[MAX_IMAGES];
    size_t n_images, n_keys;
    const char *create_opt; /* the first manifest option given */
    int kid, wait;
    unsigned long timeout;
} args_t;

/* Parse the command line; create's options go to m. Returns CLI_GO_ON or
 * the exit code to end with (0 after --help). */
static int parse_args(int argc, char **argv, args_t *a,
                      cli_manifest_create_t *m)
{
    int c, li = -1, rc;

    memset(a, 0, sizeof *a);
    a->kid = 1;
    a->wait = 1;
    a->timeout = 60;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, &li)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            return DSUIT_EXIT_OK;
        case 'o':
            a->out = optarg;
            if (a->create_opt == NULL)
                a->create_opt = "out";
            break;
        case OPT_IMAGE:
            if (a->n_images == MAX_IMAGES)
                return cli_usage_error(CMD, "at most %d images", MAX_IMAGES);
            a->images[a->n_images++] = optarg;
            break;
        case OPT_MANIFEST:
            a->manifest = optarg;
            break;
        case OPT_NO_KID:
            a->kid = 0;
            if (a->create_opt == NULL)
                a->create_opt = "no-kid";
            break;
        case OPT_NO_WAIT:
            a->wait = 0;
            break;
        case OPT_NODE:
            a->node = optarg;
            break;
        case OPT_TIMEOUT: {
            char *end;
            a->timeout = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || a->timeout == 0 ||
                a->timeout > 86400)
                return cli_usage_error(CMD,
                                       "'--timeout' needs 1 to 86400 "
                                       "seconds, not '%s'",
                                       optarg);
            break;
        }
        default:
            if (c < CLI_MANIFEST_OPT_ALG || c >= CLI_MANIFEST_OPT_END || li < 0)
                return cli_getopt_error(CMD, c, argv, longopts);
            if (c == CLI_MANIFEST_OPT_KEY)
                a->n_keys++;
            else if (a->create_opt == NULL)
                a->create_opt = longopts[li].name;
            if (c == CLI_MANIFEST_OPT_KID)
                a->kid = 1;
            rc = cli_manifest_create_opt(CMD, m, c, longopts[li].name, optarg);
            if (rc != DSUIT_EXIT_OK)
                return rc;
            break;
        }
        li = -1;
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (a->manifest != NULL && a->n_keys > 0)
        return cli_usage_error(CMD, "give '--manifest' or '--key', not both");
    if (a->node == NULL || a->n_images == 0 ||
        (a->manifest == NULL && a->n_keys == 0))
        return cli_usage_error(CMD, "--node, --image and --manifest (or "
                                    "--key) are required");
    if (strncmp(a->node, "http://", 7) != 0 || strlen(a->node) > 500)
        return cli_usage_error(CMD, "'--node' takes an http:// URL, not '%s'",
                               a->node);
    if (a->manifest != NULL && a->create_opt != NULL)
        return cli_usage_error(CMD,
                               "'--%s' goes with '--key' (building the "
                               "manifest), not with '--manifest'",
                               a->create_opt);
    if (a->n_keys > 0 && a->n_images != 1)
        return cli_usage_error(CMD, "with '--key', give one '--image' (for "
                                    "more, use 'dsuit manifest create --from' "
                                    "and '--manifest')");
    if (a->out != NULL && a->out[0] == '\0')
        return cli_usage_error(CMD, "empty name for '--out'");
    return CLI_GO_ON;
}

/* The --key form: build and sign the envelope for the one image as
 * `manifest create` would, and keep a copy in --out. */
static int build_envelope(const args_t *a, cli_manifest_create_t *m,
                          uint8_t **out_env, size_t *out_len)
{
    uint8_t *env = NULL;
    size_t env_len = 0;
    int rc;

    rc = cli_manifest_create_opt(CMD, m, CLI_MANIFEST_OPT_IMAGE, "image",
                                 a->images[0]);
    if (rc == DSUIT_EXIT_OK && a->kid)
        rc = cli_manifest_create_opt(CMD, m, CLI_MANIFEST_OPT_KID, "kid", NULL);
    if (rc == DSUIT_EXIT_OK)
        rc = cli_manifest_create_build(
            CMD, m, a->out != NULL ? a->out : a->images[0], &env, &env_len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (a->out != NULL) {
        rc = cli_write_file_atomic(CMD, a->out, env, env_len, 0644, 1);
        if (rc != DSUIT_EXIT_OK) {
            free(env);
            return rc;
        }
    }
    *out_env = env;
    *out_len = env_len;
    return DSUIT_EXIT_OK;
}

int cmd_publish(int argc, char **argv)
{
    args_t args;
    cli_manifest_create_t *m = NULL;
    const char *node, *subject;
    char *const *images;
    size_t n_images;
    int rc = DSUIT_EXIT_FAIL;
    uint8_t *env = NULL, *body = NULL;
    uint8_t *img[MAX_IMAGES] = {0};
    size_t env_len = 0, body_len, img_len[MAX_IMAGES];
    uint8_t img_digest[MAX_IMAGES][32];
    long status;
    char url[1024], txid[65] = "";
    json_t *j = NULL;
    double t0 = now_s();
    const char *cbor[] = {"Content-Type: application/cbor", NULL};
    const char *octets[] = {"Content-Type: application/octet-stream", NULL};

    rc = cli_manifest_create_new(CMD, &m);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    rc = parse_args(argc, argv, &args, m);
    if (rc != CLI_GO_ON) {
        cli_manifest_create_free(m);
        return rc;
    }
    node = args.node;
    images = args.images;
    n_images = args.n_images;
    /* What a refusal of the manifest names. */
    subject = args.manifest != NULL ? args.manifest
              : args.out != NULL    ? args.out
                                    : args.images[0];

    if (args.manifest != NULL)
        rc = cli_read_file(CMD, args.manifest, 1 << 20, &env, &env_len);
    else
        rc = build_envelope(&args, m, &env, &env_len);
    /* The keys are no longer needed. */
    cli_manifest_create_free(m);
    m = NULL;
    if (rc != DSUIT_EXIT_OK)
        goto out;
    for (size_t i = 0; i < n_images; i++) {
        rc = cli_read_file(CMD, images[i], (size_t)1 << 30, &img[i],
                           &img_len[i]);
        if (rc != DSUIT_EXIT_OK)
            goto out;
        dsuit_sha256(img[i], img_len[i], img_digest[i]);
    }

    /* 1. Registration check and manifest verification. */
    snprintf(url, sizeof url, "%s/v1/publish", node);
    if (dsuit_http_request("POST", url, cbor, env, env_len, 30000, &status,
                           &body, &body_len, 1 << 20) != DSUIT_OK) {
        cli_error_subject(CMD, "cannot reach", node, "no answer");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    if (status != 201) {
        report_refusal(subject, body, body_len, status);
        rc =
            status >= 400 && status < 500 ? DSUIT_EXIT_REJECT : DSUIT_EXIT_FAIL;
        goto out;
    }
    j = json_loadb((const char *)body, body_len, 0, NULL);
    free(body);
    body = NULL;
    if (j == NULL || !json_is_array(json_object_get(j, "images"))) {
        cli_error_subject(CMD, "cannot use the answer of", node,
                          "not the expected JSON");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    fprintf(stderr, "publish: manifest accepted for upload (%.2f s)\n",
            now_s() - t0);
    printf("manifest %s\n",
           json_string_value(json_object_get(j, "manifest_digest")));

    /* 2. Each image the manifest names, matched by digest. */
    {
        json_t *list = json_object_get(j, "images");
        for (size_t k = 0; k < json_array_size(list); k++) {
            json_t *e = json_array_get(list, k);
            const char *dh = json_string_value(json_object_get(e, "digest"));
            const char *loc = json_string_value(json_object_get(e, "upload"));
            size_t which = n_images;
            char hex[65];
            for (size_t i = 0; i < n_images && dh; i++) {
                cli_hex_encode(img_digest[i], 32, hex, sizeof hex);
                if (strcmp(hex, dh) == 0)
                    which = i;
            }
            if (which == n_images || loc == NULL) {
                cli_error_subject(CMD, "cannot publish", subject,
                                  "no --image matches an image the manifest "
                                  "names");
                rc = DSUIT_EXIT_USAGE;
                goto out;
            }
            snprintf(url, sizeof url, "%s%s", node, loc);
            if (dsuit_http_request("PUT", url, octets, img[which],
                                   img_len[which], 600000, &status, &body,
                                   &body_len, 1 << 20) != DSUIT_OK) {
                cli_error_subject(CMD, "cannot upload", images[which],
                                  "no answer");
                rc = DSUIT_EXIT_FAIL;
                goto out;
            }
            if (status != 202) {
                report_refusal(images[which], body, body_len, status);
                rc = status >= 400 && status < 500 ? DSUIT_EXIT_REJECT
                                                   : DSUIT_EXIT_FAIL;
                goto out;
            }
            {
                json_t *a = json_loadb((const char *)body, body_len, 0, NULL);
                const char *id =
                    a ? json_string_value(json_object_get(a, "id")) : NULL;
                fprintf(
                    stderr,
                    "publish: %s uploaded, %zu bytes, %lld chunks, %lld "
                    "replicas each (%.2f s)\n",
                    images[which], img_len[which],
                    (long long)json_integer_value(json_object_get(a, "chunks")),
                    (long long)json_integer_value(
                        json_object_get(a, "replicas")),
                    now_s() - t0);
                if (id != NULL)
                    snprintf(txid, sizeof txid, "%s", id);
                json_decref(a);
            }
            free(body);
            body = NULL;
        }
    }
    if (txid[0] == '\0') {
        cli_error_subject(CMD, "cannot publish", subject,
                          "the node submitted no transaction");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    printf("tx %s\n", txid);
    if (!args.wait) {
        rc = DSUIT_EXIT_OK;
        goto out;
    }

    /* 3. Committed, then certified. */
    {
        const char *seen = "";
        double deadline = now_s() + (double)args.timeout;
        snprintf(url, sizeof url, "%s/v1/tx/%s", node, txid);
        for (;;) {
            json_t *a;
            const char *st;
            if (now_s() > deadline) {
                cli_error_subject(CMD, "gave up waiting for", txid, "timeout");
                rc = DSUIT_EXIT_FAIL;
                goto out;
            }
            if (dsuit_http_request("GET", url, NULL, NULL, 0, 5000, &status,
                                   &body, &body_len, 1 << 16) != DSUIT_OK) {
                usleep(200000);
                continue;
            }
            a = json_loadb((const char *)body, body_len, 0, NULL);
            free(body);
            body = NULL;
            st = a ? json_string_value(json_object_get(a, "status")) : NULL;
            if (st != NULL && strcmp(st, "invalid") == 0) {
                char reason[256];
                snprintf(reason, sizeof reason, "%s: %s",
                         json_string_value(json_object_get(a, "result")),
                         json_string_value(json_object_get(a, "message")));
                cli_error_subject(CMD, "refused by the ledger", txid, reason);
                json_decref(a);
                rc = DSUIT_EXIT_REJECT;
                goto out;
            }
            if (st != NULL && strcmp(st, seen) != 0 &&
                (strcmp(st, "committed") == 0 ||
                 strcmp(st, "certified") == 0)) {
                fprintf(
                    stderr, "publish: %s at height %lld (%.2f s)\n", st,
                    (long long)json_integer_value(json_object_get(a, "height")),
                    now_s() - t0);
                seen = strcmp(st, "committed") == 0 ? "committed" : "certified";
            }
            json_decref(a);
            if (strcmp(seen, "certified") == 0)
                break;
            usleep(100000);
        }
    }
    rc = DSUIT_EXIT_OK;
out:
    json_decref(j);
    free(body);
    free(env);
    for (size_t i = 0; i < n_images; i++)
        free(img[i]);
    return rc;
}
