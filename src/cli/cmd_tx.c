/*
 * `dsuit tx`: work with ledger transaction files (docs/formats/ledger.md,
 * "Transactions"), as `dsuit author` writes them for offline registrars.
 *
 *   dsuit tx sign --key R.key TX -o TX2
 *       add one signature (dsuit_tx_add_signature); the body, and so the
 *       tx id, never changes, and signatures stay in ascending key-id order
 *   dsuit tx show TX [--json]
 *       decode and print type, chain, nonce, tx id, payload, signers
 *   dsuit tx submit --node URL TX [--wait committed|certified]
 *                   [--timeout S] [--genesis G]
 *       POST it to a node and wait (src/cli/cli_tx.c); with --wait
 *       certified the certificate is verified against the genesis
 *
 * Exit codes: 2 for the command line; 3 for a file that is not a
 * transaction, a key that cannot sign or already signed, a transaction
 * the node or ledger refuses or whose certificate does not verify; 1 for
 * unreadable or unwritable files, network failure and timeout. Page:
 * docs/cli/dsuit-tx.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_tx.h"
#include "cli/cli_uuid.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "dsuit/tx.h"

#define CMD        "tx"
#define CMD_SIGN   "tx sign"
#define CMD_SHOW   "tx show"
#define CMD_SUBMIT "tx submit"

static const char usage[] =
    "usage: dsuit tx sign --key R.key TX -o TX2\n"
    "       dsuit tx show TX [--json]\n"
    "       dsuit tx submit --node URL TX [--wait committed|certified]\n"
    "                       [--timeout S] [--genesis G]\n"
    "\n"
    "Sign, inspect and submit ledger transactions (register-author and the\n"
    "others of docs/formats/ledger.md). Run 'dsuit tx <verb> --help' for "
    "the\n"
    "options of a verb.\n";

static const char sign_usage[] =
    "usage: dsuit tx sign --key R.key TX -o TX2\n"
    "\n"
    "Add a signature by the private key R.key to the transaction in TX and\n"
    "write the result to TX2 (which may be TX). The tx id does not change.\n"
    "\n"
    "options:\n"
    "  --help, -h           show this help\n"
    "  --key R.key          the private key to sign with (PEM)\n"
    "  --out TX2, -o TX2    write the signed transaction to TX2\n";

static const char show_usage[] =
    "usage: dsuit tx show TX [--json]\n"
    "\n"
    "Decode the transaction in TX and print its type, chain, nonce, tx id,\n"
    "payload fields and the key ids of its signers. Signatures are not\n"
    "verified (that needs the ledger's state).\n"
    "\n"
    "options:\n"
    "  --help, -h   show this help\n"
    "  --json       print one JSON object instead of text\n";

static const char submit_usage[] =
    "usage: dsuit tx submit --node URL TX [--wait committed|certified]\n"
    "                       [--timeout S] [--genesis G]\n"
    "\n"
    "Send the transaction in TX to the node at URL and wait until the "
    "ledger\n"
    "has committed it (default) or a quorum of validators has certified "
    "it.\n"
    "Prints its id and final state.\n"
    "\n"
    "options:\n"
    "  --genesis G      the chain's genesis (needed by --wait certified)\n"
    "  --help, -h       show this help\n"
    "  --node URL       a node's HTTP API, http://HOST:PORT\n"
    "  --timeout S      give up after S seconds (default 60)\n"
    "  --wait STATE     committed or certified\n";

enum { OPT_GENESIS = 256, OPT_JSON, OPT_KEY, OPT_NODE, OPT_TIMEOUT, OPT_WAIT };

/* Sorted by name. */
static const struct option sign_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {"out", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option show_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option submit_longopts[] = {
    {"genesis", required_argument, NULL, OPT_GENESIS},
    {"help", no_argument, NULL, 'h'},
    {"node", required_argument, NULL, OPT_NODE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"wait", required_argument, NULL, OPT_WAIT},
    {NULL, 0, NULL, 0},
};

/* Read a transaction file and check it decodes. */
static int read_tx(const char *cmd, const char *path, uint8_t **out,
                   size_t *out_len, dsuit_tx_t *out_tx)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int err, rc = cli_read_file(cmd, path, CLI_TX_FILE_MAX, &buf, &len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    err = dsuit_tx_decode(buf, len, out_tx);
    if (err != DSUIT_OK) {
        cli_error_subject(cmd, "not a valid transaction", path,
                          dsuit_strerror(err));
        free(buf);
        return err == DSUIT_E_NOMEM ? DSUIT_EXIT_FAIL : DSUIT_EXIT_REJECT;
    }
    *out = buf;
    *out_len = len;
    return DSUIT_EXIT_OK;
}

/* The single positional TX argument of a verb. */
static int one_file(const char *cmd, int argc, char **argv, const char **out)
{
    return cli_one_operand(cmd, argc, argv, "missing transaction file TX", out);
}

/* ---- sign --------------------------------------------------------------- */

static int tx_sign(int argc, char **argv)
{
    const char *key_path = NULL, *out_path = NULL, *path = NULL;
    uint8_t *buf = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    dsuit_key_t key;
    dsuit_tx_t t;
    uint8_t kid[DSUIT_SHA256_LEN];
    char hex[2 * DSUIT_SHA256_LEN + 1];
    int c, err, rc;

    memset(&key, 0, sizeof key);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", sign_longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(sign_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_KEY:
            key_path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        default:
            return cli_getopt_error(CMD_SIGN, c, argv, sign_longopts);
        }
    }
    rc = one_file(CMD_SIGN, argc, argv, &path);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (key_path == NULL)
        return cli_usage_error(CMD_SIGN, "missing option '--key'");
    if (out_path == NULL)
        return cli_usage_error(CMD_SIGN, "missing option '--out'");
    if (out_path[0] == '\0')
        return cli_usage_error(CMD_SIGN, "empty file name for '--out'");

    rc = read_tx(CMD_SIGN, path, &buf, &len, &t);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = cli_tx_load_signing_key(CMD_SIGN, key_path, &key);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    /* One more signature array entry: a 34-byte key id, an alg and a
     * 66-byte signature, plus a longer array head. */
    out = malloc(len + 128);
    if (out == NULL) {
        cli_error(CMD_SIGN, "out of memory");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    err = dsuit_tx_add_signature(buf, len, &key, out, len + 128, &out_len);
    if (err != DSUIT_OK) {
        if (err == DSUIT_E_EXISTS) {
            cli_error_subject(CMD_SIGN, "cannot sign", path,
                              "this key has already signed it");
            rc = DSUIT_EXIT_REJECT;
        } else if (err == DSUIT_E_LIMIT) {
            cli_error_subject(CMD_SIGN, "cannot sign", path,
                              "it already has the most signatures allowed");
            rc = DSUIT_EXIT_REJECT;
        } else {
            cli_error_subject(CMD_SIGN, "cannot sign", path,
                              dsuit_strerror(err));
            rc = cli_exit_for_err(err);
        }
        goto out;
    }
    rc = cli_write_file_atomic(CMD_SIGN, out_path, out, out_len, 0644, 1);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    cli_hex_encode(t.id, 32, hex, sizeof hex);
    printf("id: %s\n", hex);
    if (dsuit_cose_key_id(&key, kid) == DSUIT_OK) {
        cli_hex_encode(kid, 32, hex, sizeof hex);
        printf("signed by: %s\n", hex);
    }
    printf("signatures: %zu\n", t.n_sigs + 1);
    rc = DSUIT_EXIT_OK;
out:
    dsuit_key_wipe(&key);
    free(buf);
    free(out);
    return rc;
}

/* ---- show --------------------------------------------------------------- */

/* A COSE_Key in a payload: its key id and algorithm, as `dsuit key show`
 * names them ("?" if it does not decode; the ledger refuses such a tx). */
static void key_info(const uint8_t *k, size_t len, uint8_t kid[32],
                     const char **alg)
{
    dsuit_key_t key;
    dsuit_sha256(k, len, kid);
    *alg = "?";
    if (dsuit_cose_key_decode(k, len, &key) == DSUIT_OK)
        *alg = dsuit_key_type_name(key.type);
    dsuit_key_wipe(&key);
}

static json_t *key_json(const uint8_t *k, size_t len)
{
    uint8_t kid[32];
    const char *alg;
    key_info(k, len, kid, &alg);
    return json_pack("{s:o, s:s}", "key_id", cli_hex_json(kid, 32), "alg", alg);
}

static json_t *payload_json(const dsuit_tx_t *t)
{
    json_t *p = json_object();
    switch (t->type) {
    case DSUIT_TX_REGISTER_AUTHOR: {
        json_t *cls = json_array();
        json_object_set_new(p, "author",
                            key_json(t->u.author.key, t->u.author.key_len));
        json_object_set_new(
            p, "name", json_stringn(t->u.author.name, t->u.author.name_len));
        json_object_set_new(p, "vendor_id", cli_uuid_json(t->u.author.vendor));
        for (size_t i = 0; i < t->u.author.n_classes; i++)
            json_array_append_new(cls,
                                  cli_uuid_json(dsuit_tx_author_class(t, i)));
        json_object_set_new(p, "class_ids", cls);
        break;
    }
    case DSUIT_TX_REVOKE_AUTHOR:
        json_object_set_new(p, "key_id", cli_hex_json(t->u.revoke.key_id, 32));
        json_object_set_new(
            p, "reason",
            json_stringn(t->u.revoke.reason, t->u.revoke.reason_len));
        break;
    case DSUIT_TX_ROTATE_AUTHOR_KEY:
        json_object_set_new(p, "old_key_id",
                            cli_hex_json(t->u.rotate.old_id, 32));
        json_object_set_new(p, "new_key",
                            key_json(t->u.rotate.key, t->u.rotate.key_len));
        break;
    case DSUIT_TX_PUBLISH: {
        json_t *imgs = json_array();
        uint8_t d[32];
        dsuit_sha256(t->u.publish.envelope, t->u.publish.envelope_len, d);
        json_object_set_new(p, "envelope_size",
                            cli_u64_json(t->u.publish.envelope_len));
        json_object_set_new(p, "envelope_sha256", cli_hex_json(d, 32));
        for (size_t i = 0; i < t->u.publish.n_images; i++) {
            const dsuit_tx_image_t *im = &t->u.publish.images[i];
            json_t *ch = json_array();
            for (size_t k = 0; k < im->n_chunks; k++)
                json_array_append_new(ch,
                                      cli_hex_json(dsuit_tx_chunk(im, k), 32));
            json_array_append_new(
                imgs, json_pack("{s:o, s:o, s:o, s:o}", "digest",
                                cli_hex_json(im->digest, 32), "size",
                                cli_u64_json(im->size), "chunk_size",
                                cli_u64_json(im->chunk_size), "chunks", ch));
        }
        json_object_set_new(p, "images", imgs);
        break;
    }
    case DSUIT_TX_REGISTER_DEVICE:
        json_object_set_new(p, "device_id",
                            cli_uuid_json(t->u.device.device_id));
        json_object_set_new(p, "vendor_id", cli_uuid_json(t->u.device.vendor));
        json_object_set_new(p, "class_id", cli_uuid_json(t->u.device.class_id));
        json_object_set_new(p, "device_key",
                            key_json(t->u.device.key, t->u.device.key_len));
        break;
    default:
        break;
    }
    return p;
}

static json_t *tx_json(const dsuit_tx_t *t)
{
    json_t *root = json_object(), *sigs = json_array();
    json_object_set_new(root, "type", json_string(cli_tx_type_name(t->type)));
    json_object_set_new(root, "type_code", cli_u64_json(t->type));
    json_object_set_new(root, "chain", cli_hex_json(t->chain, 32));
    json_object_set_new(root, "nonce", cli_u64_json(t->nonce));
    json_object_set_new(root, "id", cli_hex_json(t->id, 32));
    json_object_set_new(root, "payload", payload_json(t));
    for (size_t i = 0; i < t->n_sigs; i++) {
        const char *alg = dsuit_cose_alg_name(t->sigs[i].alg);
        json_array_append_new(sigs,
                              json_pack("{s:o, s:I, s:s}", "key_id",
                                        cli_hex_json(t->sigs[i].key_id, 32),
                                        "alg", (json_int_t)t->sigs[i].alg,
                                        "alg_name", alg != NULL ? alg : "?"));
    }
    json_object_set_new(root, "signers", sigs);
    return root;
}

static void print_hex_line(const char *label, const uint8_t *p, size_t n)
{
    char hex[2 * DSUIT_SHA256_LEN + 1];
    cli_hex_encode(p, n, hex, sizeof hex);
    printf("%s: %s\n", label, hex);
}

static void print_uuid_line(const char *label, const uint8_t *u)
{
    char s[CLI_UUID_TEXT_LEN + 1];
    cli_uuid_format(u, s);
    printf("%s: %s\n", label, s);
}

static void print_key_line(const char *label, const uint8_t *k, size_t len)
{
    uint8_t kid[32];
    char hex[2 * DSUIT_SHA256_LEN + 1];
    const char *alg;
    key_info(k, len, kid, &alg);
    cli_hex_encode(kid, 32, hex, sizeof hex);
    printf("%s: %s %s\n", label, alg, hex);
}

static void print_tx(const dsuit_tx_t *t)
{
    printf("type: %s (%" PRIu64 ")\n", cli_tx_type_name(t->type), t->type);
    print_hex_line("chain", t->chain, 32);
    printf("nonce: %" PRIu64 "\n", t->nonce);
    print_hex_line("tx id", t->id, 32);
    switch (t->type) {
    case DSUIT_TX_REGISTER_AUTHOR:
        print_key_line("author key", t->u.author.key, t->u.author.key_len);
        fputs("name: ", stdout);
        cli_print_textn(t->u.author.name, t->u.author.name_len);
        putchar('\n');
        print_uuid_line("vendor id", t->u.author.vendor);
        printf("class ids: %zu\n", t->u.author.n_classes);
        for (size_t i = 0; i < t->u.author.n_classes; i++) {
            char s[CLI_UUID_TEXT_LEN + 1];
            cli_uuid_format(dsuit_tx_author_class(t, i), s);
            printf("  %s\n", s);
        }
        break;
    case DSUIT_TX_REVOKE_AUTHOR:
        print_hex_line("author key id", t->u.revoke.key_id, 32);
        fputs("reason: ", stdout);
        cli_print_textn(t->u.revoke.reason, t->u.revoke.reason_len);
        putchar('\n');
        break;
    case DSUIT_TX_ROTATE_AUTHOR_KEY:
        print_hex_line("old key id", t->u.rotate.old_id, 32);
        print_key_line("new key", t->u.rotate.key, t->u.rotate.key_len);
        break;
    case DSUIT_TX_PUBLISH: {
        uint8_t d[32];
        dsuit_sha256(t->u.publish.envelope, t->u.publish.envelope_len, d);
        printf("envelope: %zu bytes\n", t->u.publish.envelope_len);
        print_hex_line("envelope sha256", d, 32);
        printf("images: %zu\n", t->u.publish.n_images);
        for (size_t i = 0; i < t->u.publish.n_images; i++) {
            const dsuit_tx_image_t *im = &t->u.publish.images[i];
            char hex[2 * DSUIT_SHA256_LEN + 1];
            cli_hex_encode(im->digest, 32, hex, sizeof hex);
            printf("  %zu %s size %" PRIu64 " chunk size %" PRIu64
                   " chunks %zu\n",
                   i, hex, im->size, im->chunk_size, im->n_chunks);
        }
        break;
    }
    case DSUIT_TX_REGISTER_DEVICE:
        print_uuid_line("device id", t->u.device.device_id);
        print_uuid_line("vendor id", t->u.device.vendor);
        print_uuid_line("class id", t->u.device.class_id);
        print_key_line("device key", t->u.device.key, t->u.device.key_len);
        break;
    default:
        break;
    }
    printf("signers: %zu\n", t->n_sigs);
    for (size_t i = 0; i < t->n_sigs; i++) {
        char hex[2 * DSUIT_SHA256_LEN + 1];
        const char *alg = dsuit_cose_alg_name(t->sigs[i].alg);
        cli_hex_encode(t->sigs[i].key_id, 32, hex, sizeof hex);
        printf("  %zu %s %s\n", i, hex, alg != NULL ? alg : "?");
    }
}

static int tx_show(int argc, char **argv)
{
    const char *path = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    dsuit_tx_t t;
    int json, rc;

    rc = cli_show_args(CMD_SHOW, show_usage, show_longopts, OPT_JSON,
                       "missing transaction file TX", argc, argv, &json, &path);
    if (rc != CLI_GO_ON)
        return rc;
    rc = read_tx(CMD_SHOW, path, &buf, &len, &t);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (json) {
        rc = cli_print_json_new(CMD_SHOW, tx_json(&t));
    } else {
        print_tx(&t);
        rc = DSUIT_EXIT_OK;
    }
    free(buf);
    return rc;
}

/* ---- submit ------------------------------------------------------------- */

static int tx_submit(int argc, char **argv)
{
    const char *node = NULL, *genesis = NULL, *path = NULL;
    cli_tx_wait_t wait = CLI_TX_WAIT_COMMITTED;
    double timeout = CLI_TX_TIMEOUT_DEFAULT;
    dsuit_genesis_t *g = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    dsuit_tx_t t;
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", submit_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_GENESIS:
            genesis = optarg;
            break;
        case 'h':
            fputs(submit_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_NODE:
            node = optarg;
            break;
        case OPT_TIMEOUT:
            if (cli_tx_parse_timeout(optarg, &timeout) != 0)
                return cli_usage_error(CMD_SUBMIT,
                                       "option '--timeout' needs seconds "
                                       "above 0 and at most 86400, not '%s'",
                                       optarg);
            break;
        case OPT_WAIT:
            if (strcmp(optarg, "committed") == 0)
                wait = CLI_TX_WAIT_COMMITTED;
            else if (strcmp(optarg, "certified") == 0)
                wait = CLI_TX_WAIT_CERTIFIED;
            else
                return cli_usage_error(CMD_SUBMIT,
                                       "option '--wait' takes 'committed' "
                                       "or 'certified', not '%s'",
                                       optarg);
            break;
        default:
            return cli_getopt_error(CMD_SUBMIT, c, argv, submit_longopts);
        }
    }
    rc = one_file(CMD_SUBMIT, argc, argv, &path);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (node == NULL)
        return cli_usage_error(CMD_SUBMIT, "missing option '--node'");
    if (cli_tx_check_url(node) != 0)
        return cli_usage_error(CMD_SUBMIT,
                               "'--node' needs a URL http://HOST:PORT, not "
                               "'%s'",
                               node);
    if (wait == CLI_TX_WAIT_CERTIFIED && genesis == NULL)
        return cli_usage_error(CMD_SUBMIT, "'--wait certified' needs "
                                           "'--genesis' to check the "
                                           "certificate");
    if (genesis != NULL) {
        rc = cli_tx_load_genesis(CMD_SUBMIT, genesis, &g);
        if (rc != DSUIT_EXIT_OK)
            return rc;
    }
    rc = read_tx(CMD_SUBMIT, path, &buf, &len, &t);
    if (rc == DSUIT_EXIT_OK)
        rc = cli_tx_submit(CMD_SUBMIT, node, buf, len, g, wait, timeout);
    free(buf);
    dsuit_genesis_free(g);
    return rc;
}

static const cli_verb_t verbs[] = {
    {"sign", tx_sign},
    {"show", tx_show},
    {"submit", tx_submit},
};

int cmd_tx(int argc, char **argv)
{
    /* "dsuit tx --frob" is an unknown verb, not an unknown option. */
    return cli_run_verb(CMD, usage, "missing verb: sign, show or submit", 0,
                        verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
