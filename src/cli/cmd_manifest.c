/*
 * `dsuit manifest <verb>`: make, sign, sever, verify, check and look at
 * SUIT manifests (draft-ietf-suit-manifest-37). Verbs:
 *
 *   create   build a manifest from options or a JSON description, following
 *            the draft's templates (§7), and sign it (src/device/suit/build.c)
 *   sign     add a signature to an envelope (§8.3)
 *   sever    remove severable members (§8.4.12, §8.5)
 *   verify   decode and authenticate as a device would, severable members
 *            against their digests (§6.2, §8.3)
 *   check    verify, then the processor's dry run against a device profile
 *   show     decode without authenticating and print everything
 *
 * Vendor and class identifiers can be given as UUIDs or derived as the
 * draft recommends (§8.4.8.2): vendor-id = UUIDv5(DNS, domain), class-id =
 * UUIDv5(vendor-id, name). A component identifier on the command line is a
 * path: segments separated by '/', each either text (its UTF-8 bytes) or
 * 0x followed by hex digits (those bytes): "0x00" is [h'00'], "usr/bin" is
 * ['usr', 'bin'].
 *
 * Output files are written atomically and replaced if they exist, as a
 * compiler replaces its -o file: a manifest is derived data, unlike a key.
 * Verbs are dispatched through a table, as in cmd_key.c. Page:
 * docs/cli/dsuit-manifest.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_manifest.h"
#include "cli/cli_uuid.h"
#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/suit.h"
#include "dsuit/suit_build.h"

/* Deepest CBOR shown (try-each in try-each ...). */
#define SHOW_DEPTH 16

static const char usage[] =
    "usage: dsuit manifest <verb> [<options>]\n"
    "\n"
    "Make, sign and check SUIT manifests (draft-ietf-suit-manifest-37).\n"
    "\n"
    "verbs:\n"
    "  create   build (and sign) a manifest for an image\n"
    "  sign     add a signature to an envelope\n"
    "  sever    remove severable members from an envelope\n"
    "  verify   authenticate an envelope with trusted keys\n"
    "  check    verify, then check it against a device profile\n"
    "  show     print an envelope's contents (not authenticated)\n"
    "\n"
    "Run 'dsuit manifest <verb> --help' for the options of a verb.\n";

/* ---- small helpers ----------------------------------------------------------
 */

/* Append the path form of one identifier part to a json string buffer. */
static void format_id_part(const uint8_t *p, size_t n, char *out, size_t cap,
                           size_t *at)
{
    int text =
        n > 0 && !(n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'));
    for (size_t i = 0; i < n && text; i++)
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '/')
            text = 0;
    if (text) {
        for (size_t i = 0; i < n && *at + 1 < cap; i++)
            out[(*at)++] = (char)p[i];
    } else {
        static const char digits[] = "0123456789abcdef";
        if (*at + 2 < cap) {
            out[(*at)++] = '0';
            out[(*at)++] = 'x';
        }
        for (size_t i = 0; i < n && *at + 2 < cap; i++) {
            out[(*at)++] = digits[p[i] >> 4];
            out[(*at)++] = digits[p[i] & 0xf];
        }
    }
    out[*at] = '\0';
}

/* Path form of an encoded SUIT_Component_Identifier ([* bstr]), or NULL. */
static char *format_component_id(const uint8_t *buf, size_t len)
{
    dsuit_cbor_dec_t d;
    size_t count, cap = 3 * len + 8, at = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    dsuit_cbor_dec_init(&d, buf, len, 0);
    if (dsuit_cbor_get_array(&d, &count) != DSUIT_OK)
        goto bad;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p;
        size_t n;
        if (dsuit_cbor_get_bstr(&d, &p, &n) != DSUIT_OK)
            goto bad;
        if (i > 0 && at + 1 < cap) {
            out[at++] = '/';
            out[at] = '\0';
        }
        format_id_part(p, n, out, cap, &at);
    }
    return out;
bad:
    free(out);
    return NULL;
}

static const char *member_name(int idx)
{
    return idx == DSUIT_SUIT_SEV_PAYLOAD_FETCH ? "payload-fetch"
           : idx == DSUIT_SUIT_SEV_INSTALL     ? "install"
                                               : "text";
}

static const char *member_state_name(dsuit_suit_member_state_t s)
{
    switch (s) {
    case DSUIT_SUIT_MEMBER_INLINE:
        return "inline";
    case DSUIT_SUIT_MEMBER_VERIFIED:
        return "verified";
    case DSUIT_SUIT_MEMBER_SEVERED:
        return "severed";
    default:
        return "absent";
    }
}

/* ---- trusted keys and verification ------------------------------------------
 */

typedef struct {
    const char *paths[DSUIT_SUIT_MAX_AUTH * 4];
    size_t n;
    dsuit_key_t keys[DSUIT_SUIT_MAX_AUTH * 4];
} trusted_t;

static int trusted_add(const char *cmd, trusted_t *t, const char *path)
{
    if (t->n == sizeof t->paths / sizeof t->paths[0])
        return cli_usage_error(cmd, "too many '--key' options (at most %zu)",
                               sizeof t->paths / sizeof t->paths[0]);
    t->paths[t->n++] = path;
    return DSUIT_EXIT_OK;
}

static int trusted_load(const char *cmd, trusted_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        int rc = cli_load_key(cmd, t->paths[i], &t->keys[i]);
        if (rc != DSUIT_EXIT_OK)
            return rc;
    }
    return DSUIT_EXIT_OK;
}

static void trusted_wipe(trusted_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        dsuit_key_wipe(&t->keys[i]);
}

/* "rejected 'path': stage: reason (where)"; returns the exit code. */
static int report_rejected(const char *cmd, const char *path, int rc,
                           const dsuit_suit_error_t *err)
{
    char reason[256];
    const char *stage = dsuit_suit_stage_name(err->stage);
    const char *why = err->reason != NULL ? err->reason : dsuit_strerror(rc);
    int n;
    if (stage[0] != '\0')
        n = snprintf(reason, sizeof reason, "%s: %s", stage, why);
    else
        n = snprintf(reason, sizeof reason, "%s", why);
    if (err->stage == DSUIT_SUIT_STAGE_COMMAND && n > 0 &&
        (size_t)n < sizeof reason) {
        const char *sec = err->section == DSUIT_SUIT_SECTION_SHARED
                              ? "shared-sequence"
                              : dsuit_suit_section_name(err->section);
        const char *com = dsuit_suit_command_name(err->command);
        snprintf(reason + n, sizeof reason - (size_t)n, " (%s, offset %zu%s%s)",
                 sec != NULL ? sec : "sequence", err->offset,
                 com != NULL ? ", " : "", com != NULL ? com : "");
    }
    cli_error_subject(cmd, "rejected", path, reason);
    return rc == DSUIT_E_CRYPTO || rc == DSUIT_E_NOMEM ? DSUIT_EXIT_FAIL
                                                       : DSUIT_EXIT_REJECT;
}

/* Decode, authenticate (noting which key), decode the manifest. */
static int verify_envelope(const char *cmd, const char *path,
                           const uint8_t *buf, size_t len, trusted_t *t,
                           dsuit_suit_envelope_t *env, size_t *out_key)
{
    uint8_t scratch[DSUIT_SUIT_AUTH_SCRATCH];
    dsuit_suit_error_t err;
    int rc;

    memset(&err, 0, sizeof err);
    rc = dsuit_suit_envelope_decode(buf, len, env, &err);
    if (rc != DSUIT_OK)
        return report_rejected(cmd, path, rc, &err);
    /* One key at a time, to tell which one verified. */
    for (size_t k = 0; k < t->n; k++) {
        rc = dsuit_suit_authenticate(env, &t->keys[k], 1, scratch,
                                     sizeof scratch, NULL);
        if (rc == DSUIT_OK) {
            *out_key = k;
            break;
        }
    }
    if (!env->authenticated) {
        /* All keys together, for the most telling reason. */
        rc = dsuit_suit_authenticate(env, t->keys, t->n, scratch,
                                     sizeof scratch, &err);
        if (rc == DSUIT_OK) /* cannot happen: each key alone failed */
            rc = DSUIT_E_SIGNATURE;
        return report_rejected(cmd, path, rc, &err);
    }
    rc = dsuit_suit_manifest_decode(env, 0, &err);
    if (rc != DSUIT_OK)
        return report_rejected(cmd, path, rc, &err);
    return DSUIT_EXIT_OK;
}

static void print_authentic(const char *path, const dsuit_suit_envelope_t *env,
                            const trusted_t *t, size_t key)
{
    uint8_t id[DSUIT_SHA256_LEN];
    char id_hex[2 * DSUIT_SHA256_LEN + 1] = "?";
    const char *alg = dsuit_cose_alg_name(env->auth_alg);

    if (dsuit_cose_key_id(&t->keys[key], id) == DSUIT_OK)
        cli_hex_encode(id, sizeof id, id_hex, sizeof id_hex);
    printf("authentic: %s\n", path);
    printf("sequence number: %" PRIu64 "\n", env->seq);
    printf("verified by: block %d of %zu (%s), key %s (%s)\n", env->auth_index,
           env->n_auth, alg != NULL ? alg : "?", id_hex, t->paths[key]);
    for (int m = 0; m < DSUIT_SUIT_SEV_COUNT; m++)
        if (env->members[m].state != DSUIT_SUIT_MEMBER_ABSENT)
            printf("%s: %s\n", member_name(m),
                   member_state_name(env->members[m].state));
}

static int read_envelope(const char *cmd, const char *path, uint8_t **buf,
                         size_t *len)
{
    return cli_read_file(cmd, path, CLI_MANIFEST_FILE_MAX, buf, len);
}

/* ---- create -----------------------------------------------------------------
 */

static const char create_usage[] =
    "usage: dsuit manifest create --vendor-domain D --class NAME --seq N\n"
    "                             --image FILE -o OUT [options]\n"
    "       dsuit manifest create --from DESC.json -o OUT [--key K ...]\n"
    "\n"
    "Build a SUIT envelope for one image (or several components described\n"
    "in a JSON file) and sign it with each --key. Prints the manifest digest.\n"
    "Without --key the envelope is unsigned and devices refuse it.\n"
    "\n"
    "options:\n"
    "  --alg ALG                  es256, esp256 (P-256 keys), eddsa or\n"
    "                             ed25519 (Ed25519 keys); default es256/eddsa\n"
    "  --class NAME               class-id = UUIDv5(vendor-id, NAME)\n"
    "  --class-id UUID            class-id given directly\n"
    "  --component ID             component identifier (default 0x00)\n"
    "  --component-description T  component text: description\n"
    "  --component-version T      component text: version\n"
    "  --from FILE                read the description from JSON\n"
    "  --help, -h                 show this help\n"
    "  --image FILE               the image: its SHA-256 and size\n"
    "  --invoke                   add an invoke sequence\n"
    "  --key FILE                 sign with this private key (repeatable)\n"
    "  --kid                      put each key's id in its signature\n"
    "  --model-name T             component text: model name\n"
    "  --out FILE, -o FILE        write the envelope here\n"
    "  --reference-uri URI        where the full envelope can be found\n"
    "  --seq N                    sequence number\n"
    "  --sever LIST               make install and/or text severable\n"
    "  --text-description T       manifest text: description\n"
    "  --uri URI                  add an install sequence fetching URI\n"
    "  --vendor-domain D          vendor-id = UUIDv5(DNS, D)\n"
    "  --vendor-id UUID           vendor-id given directly\n"
    "  --vendor-name T            component text: vendor name\n";

/* create's options are numbered in cli_manifest.h; the other verbs' too. */
enum {
    OPT_ALG = CLI_MANIFEST_OPT_ALG,
    OPT_CLASS = CLI_MANIFEST_OPT_CLASS,
    OPT_CLASS_ID = CLI_MANIFEST_OPT_CLASS_ID,
    OPT_KEY = CLI_MANIFEST_OPT_KEY,
    OPT_KID = CLI_MANIFEST_OPT_KID,
    OPT_VENDOR_DOMAIN = CLI_MANIFEST_OPT_VENDOR_DOMAIN,
    OPT_VENDOR_ID = CLI_MANIFEST_OPT_VENDOR_ID,
    OPT_INSTALLED_SEQ = CLI_MANIFEST_OPT_END,
    OPT_JSON,
    OPT_MAX_COMPONENTS,
    OPT_MEMBER
};

/* Sorted by name. */
static const struct option create_longopts[] = {
    {"alg", required_argument, NULL, CLI_MANIFEST_OPT_ALG},
    {"class", required_argument, NULL, CLI_MANIFEST_OPT_CLASS},
    {"class-id", required_argument, NULL, CLI_MANIFEST_OPT_CLASS_ID},
    {"component", required_argument, NULL, CLI_MANIFEST_OPT_COMPONENT},
    {"component-description", required_argument, NULL,
     CLI_MANIFEST_OPT_COMPONENT_DESCRIPTION},
    {"component-version", required_argument, NULL,
     CLI_MANIFEST_OPT_COMPONENT_VERSION},
    {"from", required_argument, NULL, CLI_MANIFEST_OPT_FROM},
    {"help", no_argument, NULL, 'h'},
    {"image", required_argument, NULL, CLI_MANIFEST_OPT_IMAGE},
    {"invoke", no_argument, NULL, CLI_MANIFEST_OPT_INVOKE},
    {"key", required_argument, NULL, CLI_MANIFEST_OPT_KEY},
    {"kid", no_argument, NULL, CLI_MANIFEST_OPT_KID},
    {"model-name", required_argument, NULL, CLI_MANIFEST_OPT_MODEL_NAME},
    {"out", required_argument, NULL, 'o'},
    {"reference-uri", required_argument, NULL, CLI_MANIFEST_OPT_REFERENCE_URI},
    {"seq", required_argument, NULL, CLI_MANIFEST_OPT_SEQ},
    {"sever", required_argument, NULL, CLI_MANIFEST_OPT_SEVER},
    {"text-description", required_argument, NULL,
     CLI_MANIFEST_OPT_TEXT_DESCRIPTION},
    {"uri", required_argument, NULL, CLI_MANIFEST_OPT_URI},
    {"vendor-domain", required_argument, NULL, CLI_MANIFEST_OPT_VENDOR_DOMAIN},
    {"vendor-id", required_argument, NULL, CLI_MANIFEST_OPT_VENDOR_ID},
    {"vendor-name", required_argument, NULL, CLI_MANIFEST_OPT_VENDOR_NAME},
    {NULL, 0, NULL, 0},
};

/* Print the SUIT_Digest of the envelope just built. */
static void print_manifest_digest(const uint8_t *buf, size_t len)
{
    dsuit_suit_envelope_t env;
    char hex[2 * DSUIT_SHA256_LEN + 1];
    (void)dsuit_suit_envelope_decode(buf, len, &env, NULL);
    if (env.digest_bytes.len == DSUIT_SHA256_LEN &&
        cli_hex_encode(env.digest_bytes.ptr, env.digest_bytes.len, hex,
                       sizeof hex) == 0)
        printf("%s\n", hex);
}

static int manifest_create(int argc, char **argv)
{
    static const char cmd[] = "manifest create";
    cli_manifest_create_t *m = NULL;
    const char *out = NULL;
    int c, rc, li = -1;
    uint8_t *env = NULL;
    size_t env_len = 0;

    rc = cli_manifest_create_new(cmd, &m);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", create_longopts, &li)) != -1) {
        switch (c) {
        case 'h':
            fputs(create_usage, stdout);
            rc = DSUIT_EXIT_OK;
            goto out;
        case 'o':
            out = optarg;
            break;
        default:
            if (c >= CLI_MANIFEST_OPT_ALG && c < CLI_MANIFEST_OPT_END &&
                li >= 0) {
                rc = cli_manifest_create_opt(cmd, m, c,
                                             create_longopts[li].name, optarg);
                if (rc != DSUIT_EXIT_OK)
                    goto out;
                break;
            }
            rc = cli_getopt_error(cmd, c, argv, create_longopts);
            goto out;
        }
        li = -1;
    }
    if (optind < argc) {
        rc = cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (out == NULL) {
        rc = cli_usage_error(cmd, "missing option '--out'");
        goto out;
    }
    if (out[0] == '\0') {
        rc = cli_usage_error(cmd, "empty name for '--out'");
        goto out;
    }

    rc = cli_manifest_create_build(cmd, m, out, &env, &env_len);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = cli_write_file_atomic(cmd, out, env, env_len, 0644, 1);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    if (!cli_manifest_create_signed(m))
        cli_warn(cmd,
                 "'%s' is not signed: devices will refuse it (sign it with "
                 "'dsuit manifest sign')",
                 out);
    print_manifest_digest(env, env_len);
out:
    free(env);
    cli_manifest_create_free(m);
    return rc;
}

/* ---- sign -------------------------------------------------------------------
 */

static const char sign_usage[] =
    "usage: dsuit manifest sign --key K.key [--key ...] [--alg ALG] [--kid]\n"
    "                           IN -o OUT\n"
    "\n"
    "Add one signature per --key to the envelope IN and write OUT (which may\n"
    "be IN). The manifest digest is checked before anything is signed.\n"
    "\n"
    "options:\n"
    "  --alg ALG            es256, esp256, eddsa or ed25519 (see create)\n"
    "  --help, -h           show this help\n"
    "  --key FILE           private key to sign with (repeatable)\n"
    "  --kid                put the key's id in the signature\n"
    "  --out FILE, -o FILE  write the signed envelope here\n";

/* Sorted by name. */
static const struct option sign_longopts[] = {
    {"alg", required_argument, NULL, OPT_ALG},
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {"kid", no_argument, NULL, OPT_KID},
    {"out", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

static int manifest_sign(int argc, char **argv)
{
    static const char cmd[] = "manifest sign";
    static cli_manifest_signing_t sg;
    const char *in, *out = NULL;
    uint8_t *buf = NULL, *next = NULL;
    size_t len = 0;
    int c, rc;

    memset(&sg, 0, sizeof sg);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", sign_longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(sign_usage, stdout);
            return DSUIT_EXIT_OK;
        case 'o':
            out = optarg;
            break;
        case OPT_ALG:
            if ((rc = cli_manifest_signing_add_alg(cmd, &sg, optarg)) !=
                DSUIT_EXIT_OK)
                return rc;
            break;
        case OPT_KEY:
            if ((rc = cli_manifest_signing_add_key(cmd, &sg, optarg)) !=
                DSUIT_EXIT_OK)
                return rc;
            break;
        case OPT_KID:
            sg.kid = 1;
            break;
        default:
            return cli_getopt_error(cmd, c, argv, sign_longopts);
        }
    }
    rc = cli_one_operand(cmd, argc, argv, "missing envelope IN", &in);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (sg.n == 0)
        return cli_usage_error(cmd, "missing option '--key'");
    if (out == NULL)
        return cli_usage_error(cmd, "missing option '--out'");
    if (out[0] == '\0')
        return cli_usage_error(cmd, "empty name for '--out'");

    rc = cli_manifest_signing_load(cmd, &sg);
    if (rc == DSUIT_EXIT_OK)
        rc = read_envelope(cmd, in, &buf, &len);
    for (size_t i = 0; rc == DSUIT_EXIT_OK && i < sg.n; i++) {
        size_t need = 0, got = 0;
        int err =
            dsuit_suit_build_sign(buf, len, &sg.signers[i], NULL, 0, &need);
        if (err == DSUIT_E_LIMIT && need > 0) {
            next = malloc(need);
            err = next == NULL ? DSUIT_E_NOMEM
                               : dsuit_suit_build_sign(buf, len, &sg.signers[i],
                                                       next, need, &got);
        }
        if (err != DSUIT_OK) {
            const char *reason =
                err == DSUIT_E_EXISTS
                    ? "already signed with this key and algorithm"
                : err == DSUIT_E_LIMIT ? "it already has the most signatures a "
                                         "device looks at"
                : err == DSUIT_E_DIGEST
                    ? "the manifest digest does not match the manifest"
                    : dsuit_strerror(err);
            char what[300];
            snprintf(what, sizeof what, "cannot sign (key '%s')", sg.paths[i]);
            cli_error_subject(cmd, what, in, reason);
            rc = cli_exit_for_err(err);
            free(next);
            next = NULL;
            break;
        }
        free(buf);
        buf = next;
        len = got;
        next = NULL;
    }
    if (rc == DSUIT_EXIT_OK)
        rc = cli_write_file_atomic(cmd, out, buf, len, 0644, 1);
    free(buf);
    cli_manifest_signing_wipe(&sg);
    return rc;
}

/* ---- sever ------------------------------------------------------------------
 */

static const char sever_usage[] =
    "usage: dsuit manifest sever IN -o OUT [--member LIST]\n"
    "\n"
    "Write OUT, a copy of the envelope IN without the severable members in\n"
    "LIST (install, text, payload-fetch; default: every member whose digest\n"
    "the manifest holds). Signatures stay valid. Prints what was severed.\n"
    "\n"
    "options:\n"
    "  --help, -h           show this help\n"
    "  --member LIST        comma-separated members to sever\n"
    "  --out FILE, -o FILE  write the envelope here\n";

/* Sorted by name. */
static const struct option sever_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"member", required_argument, NULL, OPT_MEMBER},
    {"out", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

/* Decode without authenticating: for show and sever, which look only.
 * An unsigned envelope decodes fully before the decoder notices it lacks
 * an authentication block, so that one error is let through. */
static int decode_unauthenticated(const uint8_t *buf, size_t len,
                                  dsuit_suit_envelope_t *env,
                                  dsuit_suit_error_t *err)
{
    int rc = dsuit_suit_envelope_decode(buf, len, env, err);
    if (rc == DSUIT_E_SUIT_NOAUTH && env->manifest.ptr != NULL &&
        env->digest_item.ptr != NULL)
        rc = DSUIT_OK;
    if (rc != DSUIT_OK)
        return rc;
    memset(err, 0, sizeof *err);
    return dsuit_suit_manifest_decode(env, DSUIT_SUIT_ALLOW_UNAUTHENTICATED,
                                      err);
}

static int manifest_sever(int argc, char **argv)
{
    static const char cmd[] = "manifest sever";
    const char *in, *out = NULL;
    char *list = NULL;
    unsigned members = DSUIT_SUIT_BUILD_ALL_SEVERABLE;
    uint8_t *buf = NULL, *cut = NULL;
    size_t len = 0, need = 0, got = 0;
    dsuit_suit_envelope_t before;
    dsuit_suit_error_t serr;
    int c, err, rc, printed = 0;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", sever_longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(sever_usage, stdout);
            return DSUIT_EXIT_OK;
        case 'o':
            out = optarg;
            break;
        case OPT_MEMBER:
            list = optarg;
            break;
        default:
            return cli_getopt_error(cmd, c, argv, sever_longopts);
        }
    }
    rc = cli_one_operand(cmd, argc, argv, "missing envelope IN", &in);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (out == NULL)
        return cli_usage_error(cmd, "missing option '--out'");
    if (out[0] == '\0')
        return cli_usage_error(cmd, "empty name for '--out'");
    if (list != NULL) {
        const char *bad = cli_manifest_parse_members(list, &members);
        if (bad != NULL)
            return cli_usage_error(cmd,
                                   "invalid member '%s' for '--member': use "
                                   "install, text, payload-fetch",
                                   bad);
    }

    rc = read_envelope(cmd, in, &buf, &len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    memset(&serr, 0, sizeof serr);
    err = decode_unauthenticated(buf, len, &before, &serr);
    if (err != DSUIT_OK) {
        rc = report_rejected(cmd, in, err, &serr);
        goto out;
    }
    err = dsuit_suit_build_sever(buf, len, members, NULL, 0, &need);
    if (err == DSUIT_E_LIMIT) {
        cut = malloc(need);
        err = cut == NULL
                  ? DSUIT_E_NOMEM
                  : dsuit_suit_build_sever(buf, len, members, cut, need, &got);
    }
    if (err != DSUIT_OK) {
        cli_error_subject(cmd, "cannot sever", in,
                          err == DSUIT_E_NOTFOUND
                              ? "a chosen member is not severable (the "
                                "manifest holds no digest for it)"
                              : dsuit_strerror(err));
        rc = cli_exit_for_err(err);
        goto out;
    }
    rc = cli_write_file_atomic(cmd, out, cut, got, 0644, 1);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    fputs("severed:", stdout);
    for (int m = 0; m < DSUIT_SUIT_SEV_COUNT; m++) {
        unsigned bit = 1u << m;
        int chosen =
            (members & DSUIT_SUIT_BUILD_ALL_SEVERABLE) || (members & bit);
        if (chosen && before.members[m].state == DSUIT_SUIT_MEMBER_VERIFIED) {
            printf(" %s", member_name(m));
            printed = 1;
        }
    }
    fputs(printed ? "\n" : " nothing\n", stdout);
out:
    free(cut);
    free(buf);
    return rc;
}

/* ---- verify -----------------------------------------------------------------
 */

static const char verify_usage[] =
    "usage: dsuit manifest verify --key K.pub [--key ...] IN\n"
    "\n"
    "Authenticate the envelope IN as a device would: the manifest digest,\n"
    "a signature under one of the trusted keys, the manifest's structure\n"
    "and each severable member present against its digest. Exits 0 and\n"
    "prints a summary when IN is authentic, 3 when it is rejected.\n"
    "\n"
    "options:\n"
    "  --help, -h   show this help\n"
    "  --key FILE   trusted public key, COSE_Key or PEM (repeatable)\n";

/* Sorted by name. */
static const struct option verify_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {NULL, 0, NULL, 0},
};

static int manifest_verify(int argc, char **argv)
{
    static const char cmd[] = "manifest verify";
    static trusted_t t;
    dsuit_suit_envelope_t env;
    const char *in;
    uint8_t *buf = NULL;
    size_t len = 0, key = 0;
    int c, rc;

    memset(&t, 0, sizeof t);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", verify_longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(verify_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_KEY:
            if ((rc = trusted_add(cmd, &t, optarg)) != DSUIT_EXIT_OK)
                return rc;
            break;
        default:
            return cli_getopt_error(cmd, c, argv, verify_longopts);
        }
    }
    rc = cli_one_operand(cmd, argc, argv, "missing envelope IN", &in);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (t.n == 0)
        return cli_usage_error(cmd, "missing option '--key'");

    rc = trusted_load(cmd, &t);
    if (rc == DSUIT_EXIT_OK)
        rc = read_envelope(cmd, in, &buf, &len);
    if (rc == DSUIT_EXIT_OK)
        rc = verify_envelope(cmd, in, buf, len, &t, &env, &key);
    if (rc == DSUIT_EXIT_OK)
        print_authentic(in, &env, &t, key);
    free(buf);
    trusted_wipe(&t);
    return rc;
}

/* ---- check ------------------------------------------------------------------
 */

static const char check_usage[] =
    "usage: dsuit manifest check --key K.pub --vendor-id UUID --class-id UUID\n"
    "                            [--installed-seq N] [--max-components N] IN\n"
    "\n"
    "Verify IN (as 'dsuit manifest verify'), then run the processor's dry\n"
    "run for a device with this profile: rollback, component count, every\n"
    "command sequence, and the vendor and class conditions. Exits 0 when\n"
    "the device would accept IN, 3 when it would not.\n"
    "\n"
    "options:\n"
    "  --class NAME          class-id = UUIDv5(vendor-id, NAME)\n"
    "  --class-id UUID       the device's class-id\n"
    "  --help, -h            show this help\n"
    "  --installed-seq N     sequence number installed: IN must exceed it\n"
    "  --key FILE            trusted public key (repeatable)\n"
    "  --max-components N    components the device has\n"
    "  --vendor-domain D     vendor-id = UUIDv5(DNS, D)\n"
    "  --vendor-id UUID      the device's vendor-id\n";

/* Sorted by name. */
static const struct option check_longopts[] = {
    {"class", required_argument, NULL, OPT_CLASS},
    {"class-id", required_argument, NULL, OPT_CLASS_ID},
    {"help", no_argument, NULL, 'h'},
    {"installed-seq", required_argument, NULL, OPT_INSTALLED_SEQ},
    {"key", required_argument, NULL, OPT_KEY},
    {"max-components", required_argument, NULL, OPT_MAX_COMPONENTS},
    {"vendor-domain", required_argument, NULL, OPT_VENDOR_DOMAIN},
    {"vendor-id", required_argument, NULL, OPT_VENDOR_ID},
    {NULL, 0, NULL, 0},
};

static int manifest_check(int argc, char **argv)
{
    static const char cmd[] = "manifest check";
    static trusted_t t;
    dsuit_suit_envelope_t env;
    dsuit_suit_profile_t prof;
    dsuit_suit_error_t err;
    cli_manifest_ident_t io = {0};
    uint8_t vendor[CLI_UUID_LEN], class_id[CLI_UUID_LEN];
    const char *in, *installed = NULL, *maxc = NULL;
    uint8_t *buf = NULL;
    size_t len = 0, key = 0;
    uint64_t v;
    int c, rc;

    memset(&t, 0, sizeof t);
    memset(&prof, 0, sizeof prof);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", check_longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(check_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_CLASS:
            io.class_name = optarg;
            break;
        case OPT_CLASS_ID:
            io.class_uuid = optarg;
            break;
        case OPT_INSTALLED_SEQ:
            installed = optarg;
            break;
        case OPT_KEY:
            if ((rc = trusted_add(cmd, &t, optarg)) != DSUIT_EXIT_OK)
                return rc;
            break;
        case OPT_MAX_COMPONENTS:
            maxc = optarg;
            break;
        case OPT_VENDOR_DOMAIN:
            io.vendor_domain = optarg;
            break;
        case OPT_VENDOR_ID:
            io.vendor_uuid = optarg;
            break;
        default:
            return cli_getopt_error(cmd, c, argv, check_longopts);
        }
    }
    rc = cli_one_operand(cmd, argc, argv, "missing envelope IN", &in);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (t.n == 0)
        return cli_usage_error(cmd, "missing option '--key'");
    rc = cli_manifest_resolve_ident(cmd, &io, vendor, class_id);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (installed != NULL) {
        if (cli_parse_u64(installed, &prof.installed_seq) != 0)
            return cli_usage_error(cmd,
                                   "invalid number '%s' for "
                                   "'--installed-seq'",
                                   installed);
        prof.has_installed_seq = 1;
    }
    if (maxc != NULL) {
        if (cli_parse_u64(maxc, &v) != 0 || v == 0 || v > SIZE_MAX)
            return cli_usage_error(cmd,
                                   "invalid number '%s' for "
                                   "'--max-components'",
                                   maxc);
        prof.max_components = (size_t)v;
    }
    prof.vendor_id.ptr = vendor;
    prof.vendor_id.len = CLI_UUID_LEN;
    prof.class_id.ptr = class_id;
    prof.class_id.len = CLI_UUID_LEN;

    rc = trusted_load(cmd, &t);
    if (rc == DSUIT_EXIT_OK)
        rc = read_envelope(cmd, in, &buf, &len);
    if (rc == DSUIT_EXIT_OK)
        rc = verify_envelope(cmd, in, buf, len, &t, &env, &key);
    if (rc == DSUIT_EXIT_OK) {
        int e;
        memset(&err, 0, sizeof err);
        e = dsuit_suit_check(&env, &prof, &err);
        if (e != DSUIT_OK)
            rc = report_rejected(cmd, in, e, &err);
    }
    if (rc == DSUIT_EXIT_OK) {
        print_authentic(in, &env, &t, key);
        printf("accepted: %s\n", in);
    }
    free(buf);
    trusted_wipe(&t);
    return rc;
}

/* ---- show: CBOR to JSON
 * ------------------------------------------------------- */

/* A text string, or its hex if it is not UTF-8. */
static json_t *text_json(const char *p, size_t n)
{
    if (dsuit_cbor_utf8_valid((const uint8_t *)p, n) &&
        memchr(p, '\0', n) == NULL)
        return json_stringn(p, n);
    return cli_hex_json((const uint8_t *)p, n);
}

/* Any CBOR item as JSON: integers, bstr as hex, tstr, arrays, maps with
 * keys as text, tags as {"tag", "value"}. Consumes the item. */
static json_t *cbor_json(dsuit_cbor_dec_t *d, int depth)
{
    dsuit_cbor_item_t it;
    json_t *j;
    if (depth > SHOW_DEPTH || dsuit_cbor_peek(d, &it) != DSUIT_OK)
        return NULL;
    switch (it.major) {
    case DSUIT_CBOR_UINT:
    case DSUIT_CBOR_NINT: {
        int64_t v;
        if (dsuit_cbor_get_int(d, &v) == DSUIT_OK)
            return json_integer(v);
        dsuit_cbor_read(d, &it);
        return json_real(it.major == DSUIT_CBOR_UINT ? (double)it.val
                                                     : -1.0 - (double)it.val);
    }
    case DSUIT_CBOR_BSTR:
        dsuit_cbor_read(d, &it);
        return cli_hex_json(it.data, (size_t)it.val);
    case DSUIT_CBOR_TSTR:
        dsuit_cbor_read(d, &it);
        return text_json((const char *)it.data, (size_t)it.val);
    case DSUIT_CBOR_ARRAY:
        dsuit_cbor_read(d, &it);
        j = json_array();
        for (uint64_t i = 0; i < it.val; i++) {
            json_t *e = cbor_json(d, depth + 1);
            if (e == NULL) {
                json_decref(j);
                return NULL;
            }
            json_array_append_new(j, e);
        }
        return j;
    case DSUIT_CBOR_MAP:
        dsuit_cbor_read(d, &it);
        j = json_object();
        for (uint64_t i = 0; i < it.val; i++) {
            dsuit_cbor_item_t k;
            char name[64];
            json_t *kj, *v;
            if (dsuit_cbor_peek(d, &k) != DSUIT_OK)
                goto bad_map;
            if (k.major == DSUIT_CBOR_TSTR && k.val < sizeof name) {
                dsuit_cbor_read(d, &k);
                snprintf(name, sizeof name, "%.*s", (int)k.val,
                         (const char *)k.data);
            } else if (k.major <= DSUIT_CBOR_NINT) {
                int64_t kv;
                if (dsuit_cbor_get_int(d, &kv) != DSUIT_OK)
                    goto bad_map;
                snprintf(name, sizeof name, "%" PRId64, kv);
            } else {
                char *s;
                kj = cbor_json(d, depth + 1);
                s = kj != NULL ? json_dumps(kj, JSON_COMPACT | JSON_ENCODE_ANY)
                               : NULL;
                json_decref(kj);
                if (s == NULL)
                    goto bad_map;
                snprintf(name, sizeof name, "%s", s);
                free(s);
            }
            v = cbor_json(d, depth + 1);
            if (v == NULL)
                goto bad_map;
            json_object_set_new(j, name, v);
        }
        return j;
    bad_map:
        json_decref(j);
        return NULL;
    case DSUIT_CBOR_TAG: {
        json_t *v;
        dsuit_cbor_read(d, &it);
        v = cbor_json(d, depth + 1);
        if (v == NULL)
            return NULL;
        return json_pack("{s:I,s:o}", "tag", (json_int_t)it.val, "value", v);
    }
    default:
        dsuit_cbor_read(d, &it);
        if (it.ai < 24 && it.val == DSUIT_CBOR_TRUE)
            return json_true();
        if (it.ai < 24 && it.val == DSUIT_CBOR_FALSE)
            return json_false();
        return json_null();
    }
}

/* image-digest's value (bstr .cbor SUIT_Digest) as {"alg", "bytes"}. */
static json_t *digest_json(const uint8_t *p, size_t n)
{
    dsuit_cbor_dec_t d;
    size_t count;
    int64_t alg;
    const uint8_t *b;
    size_t bl;
    dsuit_cbor_dec_init(&d, p, n, 0);
    if (dsuit_cbor_get_array(&d, &count) != DSUIT_OK || count < 2 ||
        dsuit_cbor_get_int(&d, &alg) != DSUIT_OK ||
        dsuit_cbor_get_bstr(&d, &b, &bl) != DSUIT_OK)
        return cli_hex_json(p, n);
    return json_pack("{s:s,s:o}", "alg",
                     alg == DSUIT_SUIT_DIGEST_SHA256 ? "sha-256" : "other",
                     "bytes", cli_hex_json(b, bl));
}

static const char *param_name(int64_t code, char *buf, size_t cap)
{
    const char *n = dsuit_suit_parameter_name(code);
    if (n != NULL)
        return n;
    snprintf(buf, cap, "parameter %" PRId64, code);
    return buf;
}

/* A parameter value: UUIDs for vendor/class/device ids, digests decoded. */
static json_t *param_json(int64_t code, dsuit_cbor_dec_t *d)
{
    dsuit_cbor_item_t it;
    if (dsuit_cbor_peek(d, &it) != DSUIT_OK)
        return NULL;
    if (it.major == DSUIT_CBOR_BSTR) {
        if ((code == DSUIT_SUIT_PARAM_VENDOR_ID ||
             code == DSUIT_SUIT_PARAM_CLASS_ID ||
             code == DSUIT_SUIT_PARAM_DEVICE_ID) &&
            it.val == CLI_UUID_LEN) {
            char u[CLI_UUID_TEXT_LEN + 1];
            dsuit_cbor_read(d, &it);
            cli_uuid_format(it.data, u);
            return json_string(u);
        }
        if (code == DSUIT_SUIT_PARAM_IMAGE_DIGEST) {
            dsuit_cbor_read(d, &it);
            return digest_json(it.data, (size_t)it.val);
        }
    }
    return cbor_json(d, 1);
}

static json_t *sequence_json(const uint8_t *p, size_t n, int depth);

/* Does this command take a reporting policy as its argument? */
static int takes_policy(int64_t code)
{
    switch (code) {
    case DSUIT_SUIT_DIR_SET_COMPONENT_INDEX:
    case DSUIT_SUIT_DIR_TRY_EACH:
    case DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS:
    case 19: /* set-parameters */
    case DSUIT_SUIT_DIR_RUN_SEQUENCE:
        return 0;
    default:
        return dsuit_suit_command_name(code) != NULL;
    }
}

/* One command: {"command", "code", and its argument by kind}. */
static json_t *command_json(int64_t code, dsuit_cbor_dec_t *d, int depth)
{
    const char *name = dsuit_suit_command_name(code);
    json_t *cmd = json_object(), *arg = NULL;
    dsuit_cbor_item_t it;
    char buf[32];

    if (name == NULL) {
        snprintf(buf, sizeof buf, "command %" PRId64, code);
        name = buf;
    }
    json_object_set_new(cmd, "command", json_string(name));
    json_object_set_new(cmd, "code", json_integer(code));
    if (dsuit_cbor_peek(d, &it) != DSUIT_OK)
        goto bad;
    if ((code == DSUIT_SUIT_DIR_OVERRIDE_PARAMETERS || code == 19) &&
        it.major == DSUIT_CBOR_MAP) {
        json_t *params = json_object();
        dsuit_cbor_read(d, &it);
        for (uint64_t i = 0; i < it.val; i++) {
            int64_t pc;
            char pb[32];
            json_t *v;
            if (dsuit_cbor_get_int(d, &pc) != DSUIT_OK ||
                (v = param_json(pc, d)) == NULL) {
                json_decref(params);
                goto bad;
            }
            json_object_set_new(params, param_name(pc, pb, sizeof pb), v);
        }
        json_object_set_new(cmd, "parameters", params);
        return cmd;
    }
    if (code == DSUIT_SUIT_DIR_TRY_EACH && it.major == DSUIT_CBOR_ARRAY) {
        json_t *alts = json_array();
        dsuit_cbor_read(d, &it);
        for (uint64_t i = 0; i < it.val; i++) {
            dsuit_cbor_item_t s;
            json_t *seq;
            if (dsuit_cbor_peek(d, &s) != DSUIT_OK) {
                json_decref(alts);
                goto bad;
            }
            if (s.major == DSUIT_CBOR_BSTR) {
                dsuit_cbor_read(d, &s);
                seq = sequence_json(s.data, (size_t)s.val, depth + 1);
            } else {
                seq = cbor_json(d, depth + 1); /* nil: an empty choice */
            }
            if (seq == NULL) {
                json_decref(alts);
                goto bad;
            }
            json_array_append_new(alts, seq);
        }
        json_object_set_new(cmd, "sequences", alts);
        return cmd;
    }
    if (code == DSUIT_SUIT_DIR_RUN_SEQUENCE && it.major == DSUIT_CBOR_BSTR) {
        json_t *seq;
        dsuit_cbor_read(d, &it);
        seq = sequence_json(it.data, (size_t)it.val, depth + 1);
        if (seq == NULL)
            goto bad;
        json_object_set_new(cmd, "sequence", seq);
        return cmd;
    }
    arg = cbor_json(d, depth + 1);
    if (arg == NULL)
        goto bad;
    if (code == DSUIT_SUIT_DIR_SET_COMPONENT_INDEX)
        json_object_set_new(cmd, "component", arg);
    else if (takes_policy(code) && json_is_integer(arg))
        json_object_set_new(cmd, "policy", arg);
    else
        json_object_set_new(cmd, "argument", arg);
    return cmd;
bad:
    json_decref(cmd);
    return NULL;
}

/* A command sequence (bstr content) as a JSON array, or NULL. */
static json_t *sequence_json(const uint8_t *p, size_t n, int depth)
{
    dsuit_cbor_dec_t d;
    size_t count;
    json_t *seq;
    if (depth > SHOW_DEPTH)
        return NULL;
    dsuit_cbor_dec_init(&d, p, n, 0);
    if (dsuit_cbor_get_array(&d, &count) != DSUIT_OK || count % 2 != 0)
        return NULL;
    seq = json_array();
    for (size_t i = 0; i < count; i += 2) {
        int64_t code;
        json_t *c;
        if (dsuit_cbor_get_int(&d, &code) != DSUIT_OK ||
            (c = command_json(code, &d, depth)) == NULL) {
            json_decref(seq);
            return NULL;
        }
        json_array_append_new(seq, c);
    }
    return seq;
}

/* Parameters of the shared sequence's top level, per component. */
typedef struct {
    json_t *comp[DSUIT_MAX_COMPONENTS]; /* objects, parameters merged in */
    size_t n;
} walk_t;

static void walk_shared(walk_t *w, json_t *shared)
{
    int sel[DSUIT_MAX_COMPONENTS] = {1}; /* index 0 at the start */
    size_t i;
    json_t *c;
    json_array_foreach(shared, i, c)
    {
        json_t *params = json_object_get(c, "parameters");
        json_t *comp = json_object_get(c, "component");
        int64_t code = json_integer_value(json_object_get(c, "code"));
        if (code == DSUIT_SUIT_DIR_SET_COMPONENT_INDEX && comp != NULL) {
            memset(sel, 0, sizeof sel);
            if (json_is_true(comp)) {
                for (size_t k = 0; k < w->n; k++)
                    sel[k] = 1;
            } else if (json_is_integer(comp)) {
                json_int_t v = json_integer_value(comp);
                if (v >= 0 && (size_t)v < w->n)
                    sel[v] = 1;
            } else if (json_is_array(comp)) {
                size_t a;
                json_t *x;
                json_array_foreach(comp, a, x)
                {
                    json_int_t v = json_integer_value(x);
                    if (json_is_integer(x) && v >= 0 && (size_t)v < w->n)
                        sel[v] = 1;
                }
            }
        }
        if (params != NULL) {
            const char *key;
            json_t *v;
            for (size_t k = 0; k < w->n; k++) {
                if (!sel[k])
                    continue;
                json_object_foreach(params, key, v)
                {
                    /* set-parameters (19) does not replace a value. */
                    if (code == 19 && json_object_get(w->comp[k], key))
                        continue;
                    json_object_set(w->comp[k], key, v);
                }
            }
        }
    }
}

static const char *text_label(int manifest_level, long label)
{
    static const char *const top[] = {
        NULL, "manifest-description", "update-description",
        "manifest-json-source", "manifest-yaml-source"};
    static const char *const comp[] = {NULL,
                                       "vendor-name",
                                       "model-name",
                                       "vendor-domain",
                                       "model-info",
                                       "component-description",
                                       "component-version"};
    if (manifest_level && label >= 1 && label <= 4)
        return top[label];
    if (!manifest_level && label >= 1 && label <= 6)
        return comp[label];
    return NULL;
}

/* SUIT_Text_Map as {lang: {"manifest-description": ..., "components":
 * [{"id": path, "vendor-name": ...}]}}; NULL if malformed. */
static json_t *text_json_map(const uint8_t *p, size_t n)
{
    dsuit_cbor_dec_t d;
    size_t langs;
    json_t *root = json_object();
    dsuit_cbor_dec_init(&d, p, n, 0);
    if (dsuit_cbor_get_map(&d, &langs) != DSUIT_OK)
        goto bad;
    for (size_t l = 0; l < langs; l++) {
        const char *lang;
        size_t lang_len, entries;
        json_t *lm = json_object(), *comps = json_array();
        char lname[64];
        if (dsuit_cbor_get_tstr(&d, &lang, &lang_len) != DSUIT_OK ||
            dsuit_cbor_get_map(&d, &entries) != DSUIT_OK) {
            json_decref(lm);
            json_decref(comps);
            goto bad;
        }
        for (size_t e = 0; e < entries; e++) {
            dsuit_cbor_item_t k;
            if (dsuit_cbor_peek(&d, &k) != DSUIT_OK)
                break;
            if (k.major == DSUIT_CBOR_ARRAY) {
                const uint8_t *id;
                size_t id_len, m;
                char *path;
                json_t *cj = json_object();
                if (dsuit_cbor_skip(&d, &id, &id_len) != DSUIT_OK ||
                    dsuit_cbor_get_map(&d, &m) != DSUIT_OK) {
                    json_decref(cj);
                    break;
                }
                path = format_component_id(id, id_len);
                json_object_set_new(cj, "id", json_string(path ? path : "?"));
                free(path);
                for (size_t x = 0; x < m; x++) {
                    int64_t label;
                    const char *t, *ln;
                    size_t tl;
                    char lb[32];
                    if (dsuit_cbor_get_int(&d, &label) != DSUIT_OK ||
                        dsuit_cbor_get_tstr(&d, &t, &tl) != DSUIT_OK)
                        break;
                    ln = text_label(0, (long)label);
                    if (ln == NULL) {
                        snprintf(lb, sizeof lb, "%" PRId64, label);
                        ln = lb;
                    }
                    json_object_set_new(cj, ln, text_json(t, tl));
                }
                json_array_append_new(comps, cj);
            } else {
                int64_t label;
                const char *t, *ln;
                size_t tl;
                char lb[32];
                if (dsuit_cbor_get_int(&d, &label) != DSUIT_OK ||
                    dsuit_cbor_get_tstr(&d, &t, &tl) != DSUIT_OK)
                    break;
                ln = text_label(1, (long)label);
                if (ln == NULL) {
                    snprintf(lb, sizeof lb, "%" PRId64, label);
                    ln = lb;
                }
                json_object_set_new(lm, ln, text_json(t, tl));
            }
        }
        if (json_array_size(comps) > 0)
            json_object_set_new(lm, "components", comps);
        else
            json_decref(comps);
        snprintf(lname, sizeof lname, "%.*s", (int)lang_len, lang);
        json_object_set_new(root, lname, lm);
    }
    return root;
bad:
    json_decref(root);
    return NULL;
}

/* Everything show prints, as one JSON object. */
static json_t *envelope_json(const char *path, const dsuit_suit_envelope_t *e)
{
    static const int64_t seq_keys[] = {DSUIT_SUIT_VALIDATE, DSUIT_SUIT_LOAD,
                                       DSUIT_SUIT_INVOKE};
    json_t *root = json_object(), *seqs = json_object(), *comps = json_array();
    json_t *auth = json_array(), *members = json_object(), *shared = NULL;
    walk_t w;

    json_object_set_new(root, "file", json_string(path));
    json_object_set_new(root, "authenticated", json_false());
    json_object_set_new(root, "tagged", json_boolean(e->tagged));
    json_object_set_new(root, "sequence_number",
                        json_integer((json_int_t)e->seq));
    json_object_set_new(
        root, "manifest_digest",
        json_pack(
            "{s:s,s:o}", "alg",
            e->digest_alg == DSUIT_SUIT_DIGEST_SHA256 ? "sha-256" : "other",
            "bytes", cli_hex_json(e->digest_bytes.ptr, e->digest_bytes.len)));
    if (e->reference_uri.len > 0)
        json_object_set_new(root, "reference_uri",
                            text_json((const char *)e->reference_uri.ptr,
                                      e->reference_uri.len));

    /* Sequences: shared first, then in manifest key order. */
    if (e->shared_seq.ptr != NULL) {
        shared = sequence_json(e->shared_seq.ptr, e->shared_seq.len, 0);
        json_object_set_new(seqs, "shared-sequence",
                            shared != NULL ? shared : json_null());
    }
    {
        const dsuit_bytes_t *bodies[] = {&e->validate, &e->load, &e->invoke};
        const int64_t mkeys[] = {DSUIT_SUIT_PAYLOAD_FETCH, DSUIT_SUIT_INSTALL};
        const int midx[] = {DSUIT_SUIT_SEV_PAYLOAD_FETCH,
                            DSUIT_SUIT_SEV_INSTALL};
        for (size_t i = 0; i < 3; i++)
            if (bodies[i]->ptr != NULL) {
                json_t *s = sequence_json(bodies[i]->ptr, bodies[i]->len, 0);
                json_object_set_new(seqs, dsuit_suit_section_name(seq_keys[i]),
                                    s != NULL ? s : json_null());
            }
        for (size_t i = 0; i < 2; i++) {
            const dsuit_suit_member_t *m = &e->members[midx[i]];
            if (m->body.ptr != NULL &&
                (m->state == DSUIT_SUIT_MEMBER_INLINE ||
                 m->state == DSUIT_SUIT_MEMBER_VERIFIED)) {
                json_t *s = sequence_json(m->body.ptr, m->body.len, 0);
                json_object_set_new(seqs, dsuit_suit_section_name(mkeys[i]),
                                    s != NULL ? s : json_null());
            }
        }
    }

    /* Components, with what the shared sequence's top level sets. */
    memset(&w, 0, sizeof w);
    w.n = e->n_components;
    for (size_t i = 0; i < e->n_components; i++) {
        char *p =
            format_component_id(e->components[i].ptr, e->components[i].len);
        w.comp[i] = json_object();
        json_object_set_new(w.comp[i], "index", json_integer((json_int_t)i));
        json_object_set_new(w.comp[i], "id", json_string(p ? p : "?"));
        free(p);
    }
    if (shared != NULL)
        walk_shared(&w, shared);
    for (size_t i = 0; i < w.n; i++)
        json_array_append_new(comps, w.comp[i]);
    json_object_set_new(root, "components", comps);
    json_object_set_new(root, "sequences", seqs);

    if (e->members[DSUIT_SUIT_SEV_TEXT].body.ptr != NULL) {
        const dsuit_bytes_t *b = &e->members[DSUIT_SUIT_SEV_TEXT].body;
        json_t *t = text_json_map(b->ptr, b->len);
        json_object_set_new(root, "text", t != NULL ? t : json_null());
    }

    for (size_t i = 0; i < e->n_auth; i++) {
        dsuit_cose_msg_t msg;
        json_t *b = json_object();
        int rc = dsuit_cose_parse(e->auth_blocks[i].ptr, e->auth_blocks[i].len,
                                  DSUIT_COSE_ANY, &msg);
        json_object_set_new(b, "index", json_integer((json_int_t)i));
        if (rc != DSUIT_OK) {
            json_object_set_new(b, "error", json_string(dsuit_strerror(rc)));
        } else {
            const char *alg = dsuit_cose_alg_name(msg.alg);
            json_object_set_new(b, "kind",
                                json_string(msg.kind == DSUIT_COSE_MAC0
                                                ? "COSE_Mac0"
                                                : "COSE_Sign1"));
            json_object_set_new(b, "alg", json_string(alg ? alg : "?"));
            json_object_set_new(b, "alg_id", json_integer(msg.alg));
            if (msg.kid != NULL)
                json_object_set_new(b, "kid",
                                    cli_hex_json(msg.kid, msg.kid_len));
        }
        json_array_append_new(auth, b);
    }
    json_object_set_new(root, "authentication", auth);
    for (int m = 0; m < DSUIT_SUIT_SEV_COUNT; m++)
        json_object_set_new(
            members, member_name(m),
            json_string(member_state_name(e->members[m].state)));
    json_object_set_new(root, "members", members);
    return root;
}

/* ---- show: text
 * ----------------------------------------------------------------- */

/* A JSON value on one line: strings bare, the rest compact JSON. */
static void print_value(const json_t *v)
{
    if (json_is_string(v)) {
        fputs(json_string_value(v), stdout);
    } else if (json_is_object(v) && json_object_get(v, "alg") &&
               json_object_get(v, "bytes") && json_object_size(v) == 2) {
        printf("%s %s", json_string_value(json_object_get(v, "alg")),
               json_string_value(json_object_get(v, "bytes")));
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        fputs(s != NULL ? s : "?", stdout);
        free(s);
    }
}

static void print_sequence(const json_t *seq, int indent)
{
    size_t i;
    json_t *c;
    if (!json_is_array(seq)) {
        printf("%*s(malformed)\n", indent, "");
        return;
    }
    json_array_foreach(seq, i, c)
    {
        const char *key;
        json_t *v;
        printf("%*s%s", indent, "",
               json_string_value(json_object_get(c, "command")));
        if ((v = json_object_get(c, "policy")) != NULL)
            printf("  policy %" JSON_INTEGER_FORMAT, json_integer_value(v));
        if ((v = json_object_get(c, "component")) != NULL) {
            putchar(' ');
            print_value(v);
        }
        if ((v = json_object_get(c, "argument")) != NULL) {
            putchar(' ');
            print_value(v);
        }
        putchar('\n');
        if ((v = json_object_get(c, "parameters")) != NULL) {
            json_t *p;
            json_object_foreach(v, key, p)
            {
                printf("%*s%s: ", indent + 4, "", key);
                print_value(p);
                putchar('\n');
            }
        }
        if ((v = json_object_get(c, "sequences")) != NULL) {
            size_t a;
            json_t *s;
            json_array_foreach(v, a, s)
            {
                printf("%*stry %zu:\n", indent + 4, "", a + 1);
                if (json_is_null(s))
                    printf("%*s(nothing)\n", indent + 8, "");
                else
                    print_sequence(s, indent + 8);
            }
        }
        if ((v = json_object_get(c, "sequence")) != NULL)
            print_sequence(v, indent + 4);
    }
}

static void print_envelope(const json_t *root)
{
    const char *key;
    json_t *v, *x;
    size_t i;

    printf("manifest: %s (not authenticated)\n",
           json_string_value(json_object_get(root, "file")));
    printf("sequence number: %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(root, "sequence_number")));
    printf("manifest digest: ");
    print_value(json_object_get(root, "manifest_digest"));
    putchar('\n');
    if ((v = json_object_get(root, "reference_uri")) != NULL)
        printf("reference uri: %s\n", json_string_value(v));
    v = json_object_get(root, "components");
    printf("components: %zu\n", json_array_size(v));
    json_array_foreach(v, i, x)
    {
        json_t *p;
        printf("  component %zu: %s\n", i,
               json_string_value(json_object_get(x, "id")));
        json_object_foreach(x, key, p)
        {
            if (strcmp(key, "index") == 0 || strcmp(key, "id") == 0)
                continue;
            printf("    %s: ", key);
            print_value(p);
            putchar('\n');
        }
    }
    json_object_foreach(json_object_get(root, "sequences"), key, v)
    {
        printf("%s:\n", key);
        print_sequence(v, 2);
    }
    if ((v = json_object_get(root, "text")) != NULL) {
        printf("text:\n");
        if (!json_is_object(v))
            printf("  (malformed)\n");
        json_object_foreach(v, key, x)
        {
            const char *k2;
            json_t *t;
            printf("  %s:\n", key);
            json_object_foreach(x, k2, t)
            {
                size_t ci;
                json_t *cj;
                if (strcmp(k2, "components") != 0) {
                    printf("    %s: %s\n", k2, json_string_value(t));
                    continue;
                }
                json_array_foreach(t, ci, cj)
                {
                    const char *k3;
                    json_t *tv;
                    printf("    component %s:\n",
                           json_string_value(json_object_get(cj, "id")));
                    json_object_foreach(cj, k3, tv)
                    {
                        if (strcmp(k3, "id") != 0)
                            printf("      %s: %s\n", k3, json_string_value(tv));
                    }
                }
            }
        }
    }
    v = json_object_get(root, "authentication");
    printf("authentication blocks: %zu\n", json_array_size(v));
    json_array_foreach(v, i, x)
    {
        json_t *kid = json_object_get(x, "kid"),
               *e = json_object_get(x, "error");
        if (e != NULL) {
            printf("  block %zu: unreadable: %s\n", i, json_string_value(e));
            continue;
        }
        printf("  block %zu: %s %s", i,
               json_string_value(json_object_get(x, "kind")),
               json_string_value(json_object_get(x, "alg")));
        if (kid != NULL)
            printf(", kid %s", json_string_value(kid));
        putchar('\n');
    }
    printf("members:\n");
    json_object_foreach(json_object_get(root, "members"), key, v)
    {
        printf("  %s: %s\n", key, json_string_value(v));
    }
}

static const char show_usage[] =
    "usage: dsuit manifest show IN [--json]\n"
    "\n"
    "Print what the envelope IN holds, WITHOUT authenticating it: sequence\n"
    "number, components with their vendor, class, digest and size, every\n"
    "command sequence, text, authentication blocks, severable members.\n"
    "\n"
    "options:\n"
    "  --help, -h   show this help\n"
    "  --json       print one JSON object instead of text\n";

/* Sorted by name. */
static const struct option show_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

static int manifest_show(int argc, char **argv)
{
    static const char cmd[] = "manifest show";
    dsuit_suit_envelope_t env;
    dsuit_suit_error_t err;
    const char *in;
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *root;
    int json, rc;

    rc = cli_show_args(cmd, show_usage, show_longopts, OPT_JSON,
                       "missing envelope IN", argc, argv, &json, &in);
    if (rc != CLI_GO_ON)
        return rc;

    rc = read_envelope(cmd, in, &buf, &len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    memset(&err, 0, sizeof err);
    rc = decode_unauthenticated(buf, len, &env, &err);
    if (rc != DSUIT_OK) {
        rc = report_rejected(cmd, in, rc, &err);
        free(buf);
        return rc;
    }
    root = envelope_json(in, &env);
    if (root == NULL) {
        cli_error(cmd, "out of memory");
        free(buf);
        return DSUIT_EXIT_FAIL;
    }
    if (json) {
        cli_print_json(root);
    } else {
        print_envelope(root);
    }
    json_decref(root);
    free(buf);
    return DSUIT_EXIT_OK;
}

/* ---- dispatch
 * ----------------------------------------------------------------- */

static const cli_verb_t verbs[] = {
    {"create", manifest_create}, {"sign", manifest_sign},
    {"sever", manifest_sever},   {"verify", manifest_verify},
    {"check", manifest_check},   {"show", manifest_show},
};

int cmd_manifest(int argc, char **argv)
{
    return cli_run_verb("manifest", usage, "missing verb (try 'create')", 1,
                        verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
