/*
 * `dsuit author`: build, sign and submit the ledger transactions that
 * manage authors (docs/formats/ledger.md, "Transactions", types 1 to 3).
 *
 *   dsuit author register (--node URL | -o TX) --genesis G
 *       --registrar-key R.key... --author-pub A.pub --name NAME
 *       --vendor-domain D [--class C...] [--nonce N] [--timeout S]
 *   dsuit author revoke (--node URL | -o TX) --genesis G
 *       --registrar-key R.key... (--author-pub A.pub | --key-id HEX)
 *       --reason TEXT [--nonce N] [--timeout S]
 *   dsuit author rotate (--node URL | -o TX) --genesis G --key OLD.key
 *       --new-pub NEW.pub [--nonce N] [--timeout S]
 *
 * The chain is the genesis hash; vendor-id = UUIDv5(DNS, D) and each
 * class-id = UUIDv5(vendor-id, C), as `dsuit manifest create` derives
 * them, so an author's registration covers the manifests it makes. The
 * nonce defaults to 64 random bits. With -o the signed transaction is
 * written for offline registrars (`dsuit tx sign`, then `dsuit tx
 * submit`); with --node it is submitted and the command waits for a
 * certificate it verifies against the genesis (src/cli/cli_tx.c). Both
 * may be given: the file is written first.
 *
 * Exit codes: 2 for the command line (including fewer registrar keys than
 * the threshold with --node); 3 for keys that are not acceptable (not a
 * registrar of the chain, a public key where a private one is needed, the
 * same key twice) and for a transaction the node or ledger refuses; 1 for
 * unreadable files, network failure and timeout. Page:
 * docs/cli/dsuit-author.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_tx.h"
#include "cli/cli_uuid.h"
#include "dsuit/cbor.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "dsuit/tx.h"

#define CMD          "author"
#define CMD_REGISTER "author register"
#define CMD_REVOKE   "author revoke"
#define CMD_ROTATE   "author rotate"

/* A register-author body: a COSE_Key (at most 96 bytes), a name of 128
 * bytes, 17 UUIDs and heads; revoke and rotate are smaller. */
#define BODY_MAX CLI_TX_JOB_BODY_MAX

static const char usage[] =
    "usage: dsuit author register (--node URL | -o TX) --genesis G\n"
    "                             --registrar-key R.key... --author-pub "
    "A.pub\n"
    "                             --name NAME --vendor-domain D [--class "
    "C...]\n"
    "                             [--nonce N] [--timeout S]\n"
    "       dsuit author revoke (--node URL | -o TX) --genesis G\n"
    "                           --registrar-key R.key...\n"
    "                           (--author-pub A.pub | --key-id HEX)\n"
    "                           --reason TEXT [--nonce N] [--timeout S]\n"
    "       dsuit author rotate (--node URL | -o TX) --genesis G --key "
    "OLD.key\n"
    "                           --new-pub NEW.pub [--nonce N] [--timeout "
    "S]\n"
    "\n"
    "Register, revoke or re-key a firmware author on the ledger. Run\n"
    "'dsuit author <verb> --help' for the options of a verb.\n";

static const char register_usage[] =
    "usage: dsuit author register (--node URL | -o TX) --genesis G\n"
    "                             --registrar-key R.key... --author-pub "
    "A.pub\n"
    "                             --name NAME --vendor-domain D [--class "
    "C...]\n"
    "                             [--nonce N] [--timeout S]\n"
    "\n"
    "Build a register-author transaction signed by the given registrars.\n"
    "With -o write it (others add signatures with 'dsuit tx sign'); with\n"
    "--node submit it and wait until a quorum of validators certified it.\n"
    "\n"
    "options:\n"
    "  --author-pub A.pub       the author's public key\n"
    "  --class C                class-id = UUIDv5(vendor-id, C) (repeat)\n"
    "  --genesis G              the chain's genesis\n"
    "  --help, -h               show this help\n"
    "  --name NAME              the author's name (1 to 128 bytes)\n"
    "  --node URL               submit to this node, http://HOST:PORT\n"
    "  --nonce N                transaction nonce (default random)\n"
    "  --out TX, -o TX          write the transaction to TX\n"
    "  --registrar-key R.key    a registrar's private key (repeat)\n"
    "  --timeout S              with --node, give up after S seconds "
    "(default 60)\n"
    "  --vendor-domain D        vendor-id = UUIDv5(DNS, D)\n";

static const char revoke_usage[] =
    "usage: dsuit author revoke (--node URL | -o TX) --genesis G\n"
    "                           --registrar-key R.key...\n"
    "                           (--author-pub A.pub | --key-id HEX)\n"
    "                           --reason TEXT [--nonce N] [--timeout S]\n"
    "\n"
    "Build a revoke-author transaction signed by the given registrars, and\n"
    "write it (-o) or submit it (--node).\n"
    "\n"
    "options:\n"
    "  --author-pub A.pub       the author's public key\n"
    "  --genesis G              the chain's genesis\n"
    "  --help, -h               show this help\n"
    "  --key-id HEX             the author's key id (64 hex digits)\n"
    "  --node URL               submit to this node, http://HOST:PORT\n"
    "  --nonce N                transaction nonce (default random)\n"
    "  --out TX, -o TX          write the transaction to TX\n"
    "  --reason TEXT            why (at most 128 bytes)\n"
    "  --registrar-key R.key    a registrar's private key (repeat)\n"
    "  --timeout S              with --node, give up after S seconds "
    "(default 60)\n";

static const char rotate_usage[] =
    "usage: dsuit author rotate (--node URL | -o TX) --genesis G --key "
    "OLD.key\n"
    "                           --new-pub NEW.pub [--nonce N] [--timeout "
    "S]\n"
    "\n"
    "Build a rotate-author-key transaction signed by the author's current\n"
    "key, and write it (-o) or submit it (--node).\n"
    "\n"
    "options:\n"
    "  --genesis G              the chain's genesis\n"
    "  --help, -h               show this help\n"
    "  --key OLD.key            the author's current private key\n"
    "  --new-pub NEW.pub        the author's new public key\n"
    "  --node URL               submit to this node, http://HOST:PORT\n"
    "  --nonce N                transaction nonce (default random)\n"
    "  --out TX, -o TX          write the transaction to TX\n"
    "  --timeout S              with --node, give up after S seconds "
    "(default 60)\n";

enum {
    OPT_AUTHOR_PUB = 256,
    OPT_CLASS,
    OPT_GENESIS,
    OPT_KEY,
    OPT_KEY_ID,
    OPT_NAME,
    OPT_NEW_PUB,
    OPT_REASON,
    OPT_VENDOR_DOMAIN
};

/* Sorted by name. */
static const struct option register_longopts[] = {
    {"author-pub", required_argument, NULL, OPT_AUTHOR_PUB},
    {"class", required_argument, NULL, OPT_CLASS},
    {"genesis", required_argument, NULL, OPT_GENESIS},
    {"help", no_argument, NULL, 'h'},
    {"name", required_argument, NULL, OPT_NAME},
    {"node", required_argument, NULL, CLI_TX_OPT_NODE},
    {"nonce", required_argument, NULL, CLI_TX_OPT_NONCE},
    {"out", required_argument, NULL, 'o'},
    {"registrar-key", required_argument, NULL, CLI_TX_OPT_REGISTRAR_KEY},
    {"timeout", required_argument, NULL, CLI_TX_OPT_TIMEOUT},
    {"vendor-domain", required_argument, NULL, OPT_VENDOR_DOMAIN},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option revoke_longopts[] = {
    {"author-pub", required_argument, NULL, OPT_AUTHOR_PUB},
    {"genesis", required_argument, NULL, OPT_GENESIS},
    {"help", no_argument, NULL, 'h'},
    {"key-id", required_argument, NULL, OPT_KEY_ID},
    {"node", required_argument, NULL, CLI_TX_OPT_NODE},
    {"nonce", required_argument, NULL, CLI_TX_OPT_NONCE},
    {"out", required_argument, NULL, 'o'},
    {"reason", required_argument, NULL, OPT_REASON},
    {"registrar-key", required_argument, NULL, CLI_TX_OPT_REGISTRAR_KEY},
    {"timeout", required_argument, NULL, CLI_TX_OPT_TIMEOUT},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option rotate_longopts[] = {
    {"genesis", required_argument, NULL, OPT_GENESIS},
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {"new-pub", required_argument, NULL, OPT_NEW_PUB},
    {"node", required_argument, NULL, CLI_TX_OPT_NODE},
    {"nonce", required_argument, NULL, CLI_TX_OPT_NONCE},
    {"out", required_argument, NULL, 'o'},
    {"timeout", required_argument, NULL, CLI_TX_OPT_TIMEOUT},
    {NULL, 0, NULL, 0},
};

/* Options of all three verbs; each verb's table admits its own. */
typedef struct {
    const char *cmd;
    cli_tx_job_t job; /* --node, --out, --nonce, --registrar-key, --timeout */
    const char *genesis;
    const char **classes;
    size_t n_classes;
    const char *author_pub, *key_id, *name, *vendor_domain, *reason;
    const char *key, *new_pub;
} author_opts_t;

static int parse_opts(const char *cmd, const char *help,
                      const struct option *longopts, int argc, char **argv,
                      author_opts_t *o)
{
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_AUTHOR_PUB:
            o->author_pub = optarg;
            break;
        case OPT_CLASS:
            if (o->n_classes == DSUIT_TX_MAX_CLASSES)
                return cli_usage_error(cmd, "too many '--class': at most %d",
                                       DSUIT_TX_MAX_CLASSES);
            o->classes[o->n_classes++] = optarg;
            break;
        case OPT_GENESIS:
            o->genesis = optarg;
            break;
        case 'h':
            fputs(help, stdout);
            return -1;
        case OPT_KEY:
            o->key = optarg;
            break;
        case OPT_KEY_ID:
            o->key_id = optarg;
            break;
        case OPT_NAME:
            o->name = optarg;
            break;
        case OPT_NEW_PUB:
            o->new_pub = optarg;
            break;
        case OPT_REASON:
            o->reason = optarg;
            break;
        case OPT_VENDOR_DOMAIN:
            o->vendor_domain = optarg;
            break;
        default: {
            int rc = cli_tx_job_option(&o->job, c, optarg);
            if (rc < 0)
                return cli_getopt_error(cmd, c, argv, longopts);
            if (rc != DSUIT_EXIT_OK)
                return rc;
        }
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    {
        int rc = cli_tx_job_check(&o->job);
        if (rc != DSUIT_EXIT_OK)
            return rc;
    }
    if (o->genesis == NULL)
        return cli_usage_error(cmd, "missing option '--genesis'");
    return DSUIT_EXIT_OK;
}

/* A name or reason the ledger accepts: at most 128 bytes of UTF-8. */
static int text_ok(const char *s, int allow_empty)
{
    size_t n = strlen(s);
    return (n > 0 || allow_empty) && n <= DSUIT_TX_NAME_MAX &&
           dsuit_cbor_utf8_valid((const uint8_t *)s, n);
}

static int hex_parse(const char *s, uint8_t *out, size_t n)
{
    return strlen(s) == 2 * n ? cli_hex_decode(s, 2 * n, out) : -1;
}

static int load_registrars(const author_opts_t *o, const dsuit_genesis_t *g,
                           dsuit_key_t *keys)
{
    return cli_tx_load_registrars(&o->job, g, keys);
}

static int check_registrar_count(const author_opts_t *o,
                                 const dsuit_genesis_t *g)
{
    return cli_tx_check_registrar_count(&o->job, g);
}

static int pick_nonce(const author_opts_t *o, uint64_t *out)
{
    return cli_tx_pick_nonce(&o->job, out);
}

static int finish(const author_opts_t *o, const dsuit_genesis_t *g,
                  int build_err, const uint8_t *body, size_t body_len,
                  const dsuit_key_t *signers, size_t n_signers)
{
    return cli_tx_finish(&o->job, g, build_err, body, body_len, signers,
                         n_signers);
}

/* ---- verbs -------------------------------------------------------------- */

static int author_register(author_opts_t *o, int argc, char **argv)
{
    dsuit_genesis_t *g = NULL;
    dsuit_key_t author, keys[DSUIT_TX_MAX_SIGS];
    uint8_t vendor[CLI_UUID_LEN], classes[DSUIT_TX_MAX_CLASSES][CLI_UUID_LEN];
    uint8_t body[BODY_MAX];
    size_t body_len = 0;
    uint64_t nonce;
    int err, rc;

    memset(&author, 0, sizeof author);
    memset(keys, 0, sizeof keys);
    rc = parse_opts(o->cmd, register_usage, register_longopts, argc, argv, o);
    if (rc != DSUIT_EXIT_OK)
        return rc < 0 ? DSUIT_EXIT_OK : rc;
    if (o->author_pub == NULL)
        return cli_usage_error(o->cmd, "missing option '--author-pub'");
    if (o->name == NULL)
        return cli_usage_error(o->cmd, "missing option '--name'");
    if (!text_ok(o->name, 0))
        return cli_usage_error(o->cmd,
                               "'--name' must be 1 to %d bytes of UTF-8",
                               DSUIT_TX_NAME_MAX);
    if (o->vendor_domain == NULL)
        return cli_usage_error(o->cmd, "missing option '--vendor-domain'");
    if (o->vendor_domain[0] == '\0')
        return cli_usage_error(o->cmd, "empty '--vendor-domain'");
    for (size_t i = 0; i < o->n_classes; i++) {
        if (o->classes[i][0] == '\0')
            return cli_usage_error(o->cmd, "empty '--class'");
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->classes[i], o->classes[j]) == 0)
                return cli_usage_error(o->cmd, "'--class %s' given twice",
                                       o->classes[i]);
    }

    rc = cli_tx_load_genesis(o->cmd, o->genesis, &g);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = check_registrar_count(o, g);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = cli_tx_load_public_key(o->cmd, o->author_pub, &author);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = load_registrars(o, g, keys);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = DSUIT_EXIT_FAIL;
    if (cli_uuid5(cli_uuid_ns_dns, o->vendor_domain, strlen(o->vendor_domain),
                  vendor) != 0) {
        cli_error(o->cmd, "cannot compute the vendor id");
        goto out;
    }
    for (size_t i = 0; i < o->n_classes; i++) {
        if (cli_uuid5(vendor, o->classes[i], strlen(o->classes[i]),
                      classes[i]) != 0) {
            cli_error(o->cmd, "cannot compute a class id");
            goto out;
        }
    }
    rc = pick_nonce(o, &nonce);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    err = dsuit_tx_body_register_author(
        g->hash, nonce, &author, o->name, vendor, (const uint8_t(*)[16])classes,
        o->n_classes, body, sizeof body, &body_len);
    rc = finish(o, g, err, body, body_len, keys, o->job.n_registrar_keys);
out:
    for (size_t i = 0; i < DSUIT_TX_MAX_SIGS; i++)
        dsuit_key_wipe(&keys[i]);
    dsuit_key_wipe(&author);
    dsuit_genesis_free(g);
    return rc;
}

static int author_revoke(author_opts_t *o, int argc, char **argv)
{
    dsuit_genesis_t *g = NULL;
    dsuit_key_t author, keys[DSUIT_TX_MAX_SIGS];
    uint8_t kid[DSUIT_SHA256_LEN], body[BODY_MAX];
    size_t body_len = 0;
    uint64_t nonce;
    int err, rc;

    memset(&author, 0, sizeof author);
    memset(keys, 0, sizeof keys);
    rc = parse_opts(o->cmd, revoke_usage, revoke_longopts, argc, argv, o);
    if (rc != DSUIT_EXIT_OK)
        return rc < 0 ? DSUIT_EXIT_OK : rc;
    if ((o->author_pub == NULL) == (o->key_id == NULL))
        return cli_usage_error(o->cmd,
                               "give one of '--author-pub' and '--key-id'");
    if (o->key_id != NULL && hex_parse(o->key_id, kid, sizeof kid) != 0)
        return cli_usage_error(
            o->cmd, "'--key-id' needs 64 hex digits, not '%s'", o->key_id);
    if (o->reason == NULL)
        return cli_usage_error(o->cmd, "missing option '--reason'");
    if (!text_ok(o->reason, 1))
        return cli_usage_error(o->cmd,
                               "'--reason' must be at most %d bytes of UTF-8",
                               DSUIT_TX_NAME_MAX);

    rc = cli_tx_load_genesis(o->cmd, o->genesis, &g);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = check_registrar_count(o, g);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    if (o->author_pub != NULL) {
        rc = cli_tx_load_public_key(o->cmd, o->author_pub, &author);
        if (rc != DSUIT_EXIT_OK)
            goto out;
        err = dsuit_cose_key_id(&author, kid);
        if (err != DSUIT_OK) {
            cli_error_subject(o->cmd, "cannot use key", o->author_pub,
                              dsuit_strerror(err));
            rc = cli_exit_for_err(err);
            goto out;
        }
    }
    rc = load_registrars(o, g, keys);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = pick_nonce(o, &nonce);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    err = dsuit_tx_body_revoke_author(g->hash, nonce, kid, o->reason, body,
                                      sizeof body, &body_len);
    rc = finish(o, g, err, body, body_len, keys, o->job.n_registrar_keys);
out:
    for (size_t i = 0; i < DSUIT_TX_MAX_SIGS; i++)
        dsuit_key_wipe(&keys[i]);
    dsuit_key_wipe(&author);
    dsuit_genesis_free(g);
    return rc;
}

static int author_rotate(author_opts_t *o, int argc, char **argv)
{
    dsuit_genesis_t *g = NULL;
    dsuit_key_t old, new_key;
    uint8_t old_id[DSUIT_SHA256_LEN], new_id[DSUIT_SHA256_LEN];
    uint8_t body[BODY_MAX];
    size_t body_len = 0;
    uint64_t nonce;
    int err, rc;

    memset(&old, 0, sizeof old);
    memset(&new_key, 0, sizeof new_key);
    rc = parse_opts(o->cmd, rotate_usage, rotate_longopts, argc, argv, o);
    if (rc != DSUIT_EXIT_OK)
        return rc < 0 ? DSUIT_EXIT_OK : rc;
    if (o->key == NULL)
        return cli_usage_error(o->cmd, "missing option '--key'");
    if (o->new_pub == NULL)
        return cli_usage_error(o->cmd, "missing option '--new-pub'");

    rc = cli_tx_load_genesis(o->cmd, o->genesis, &g);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = cli_tx_load_signing_key(o->cmd, o->key, &old);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = cli_tx_load_public_key(o->cmd, o->new_pub, &new_key);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = DSUIT_EXIT_FAIL;
    if (dsuit_cose_key_id(&old, old_id) != DSUIT_OK ||
        dsuit_cose_key_id(&new_key, new_id) != DSUIT_OK) {
        cli_error(o->cmd, "cannot compute key ids");
        goto out;
    }
    if (memcmp(old_id, new_id, sizeof old_id) == 0) {
        cli_error_subject(o->cmd, "cannot rotate to", o->new_pub,
                          "it is the current key");
        rc = DSUIT_EXIT_REJECT;
        goto out;
    }
    rc = pick_nonce(o, &nonce);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    err = dsuit_tx_body_rotate_author_key(g->hash, nonce, old_id, &new_key,
                                          body, sizeof body, &body_len);
    rc = finish(o, g, err, body, body_len, &old, 1);
out:
    dsuit_key_wipe(&old);
    dsuit_key_wipe(&new_key);
    dsuit_genesis_free(g);
    return rc;
}

int cmd_author(int argc, char **argv)
{
    author_opts_t o;
    const char *keys[DSUIT_TX_MAX_SIGS], *classes[DSUIT_TX_MAX_CLASSES];

    if (argc < 2)
        return cli_usage_error(CMD, "missing verb: register, revoke or rotate");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return DSUIT_EXIT_OK;
    }
    memset(&o, 0, sizeof o);
    o.job.registrar_keys = keys;
    o.classes = classes;
    o.job.timeout = CLI_TX_TIMEOUT_DEFAULT;
    if (strcmp(argv[1], "register") == 0) {
        o.cmd = o.job.cmd = CMD_REGISTER;
        return author_register(&o, argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "revoke") == 0) {
        o.cmd = o.job.cmd = CMD_REVOKE;
        return author_revoke(&o, argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "rotate") == 0) {
        o.cmd = o.job.cmd = CMD_ROTATE;
        return author_rotate(&o, argc - 1, argv + 1);
    }
    return cli_usage_error(CMD, "unknown verb '%s'", argv[1]);
}
