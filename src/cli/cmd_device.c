/*
 * `dsuit device`: devices and the node's device service.
 *
 *   dsuit device provision --data DIR --id ID --vendor-domain D --class C
 *                          [--key HEX]
 *   dsuit device register (--node URL | -o TX) --genesis G
 *                         (--registrar-key R.key... | --key A.key)
 *                         --device-pub D.pub --vendor-domain D --class C
 *                         [--device-id UUID] [--nonce N] [--timeout S]
 *   dsuit device run|once ...   the reference device (device_client.c)
 *
 * provision writes the node's device keystore (src/node/keystore.h): the
 * running node picks the key up within a fraction of a second, without a
 * restart. Page: docs/cli/dsuit-device.md.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_tx.h"
#include "cli/cli_uuid.h"
#include "cli/device_client.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "dsuit/tx.h"
#include "node/device_token.h"
#include "node/keystore.h"

#define CMD           "device"
#define CMD_PROVISION "device provision"
#define CMD_REGISTER  "device register"
#define CMD_TOKEN     "device token"
#define PSK_DEFAULT   32 /* bytes drawn when --key is not given */

static const char usage[] =
    "usage: dsuit device provision --data DIR --id ID --vendor-domain D "
    "--class C\n"
    "                              [--key HEX]\n"
    "       dsuit device register (--node URL | -o TX) --genesis G ...\n"
    "       dsuit device token --node-name NAME ... PATH\n"
    "       dsuit device run --state DIR --node coaps://HOST:PORT ...\n"
    "       dsuit device once --state DIR --node coaps://HOST:PORT ...\n"
    "\n"
    "Give devices their credentials and run the reference device:\n"
    "  provision  add a pre-shared key to a node's device keystore\n"
    "  register   record a device's public key on the ledger (every node\n"
    "             then accepts it as a DTLS raw public key)\n"
    "  token      a request token for the device resources over HTTP\n"
    "  run        the reference device: check for updates and install them\n"
    "  once       one check-and-update, then exit\n"
    "Run 'dsuit device <verb> --help' for the options of a verb.\n";

static const char provision_usage[] =
    "usage: dsuit device provision --data DIR --id ID --vendor-domain D "
    "--class C\n"
    "                              [--key HEX]\n"
    "\n"
    "Add a device's pre-shared key (DTLS-PSK) to the keystore of the node\n"
    "whose data folder is DIR (DIR/device-keys), or replace the key and\n"
    "scope of an identity already there. The device may read firmware of\n"
    "that vendor and class only. A running node takes the change within a\n"
    "second, with no restart. Run it on every node the device may use.\n"
    "Without --key a random 32-byte key is drawn; the key is printed, give\n"
    "it to the device.\n"
    "\n"
    "options:\n"
    "  --class C              class-id = UUIDv5(vendor-id, C)\n"
    "  --data DIR             the node's data folder\n"
    "  --help, -h             show this help\n"
    "  --id ID                the PSK identity: 1 to 64 of A-Z a-z 0-9 . _ "
    ": @ -\n"
    "  --key HEX              the key, 16 to 64 bytes in hex\n"
    "  --vendor-domain D      vendor-id = UUIDv5(DNS, D)\n";

static const char device_register_usage[] =
    "usage: dsuit device register (--node URL | -o TX) --genesis G\n"
    "                             (--registrar-key R.key... | --key A.key)\n"
    "                             --device-pub D.pub --vendor-domain D "
    "--class C\n"
    "                             [--device-id UUID] [--nonce N] [--timeout "
    "S]\n"
    "\n"
    "Build a register-device transaction and write it (-o) or submit it\n"
    "(--node). It records the device's public key, and the vendor and class\n"
    "of firmware it may read, on the ledger: every node then accepts the\n"
    "device's raw public key (DTLS, RFC 7250) for those. Signed by k\n"
    "registrars, or by one active author registered for that vendor and\n"
    "class. Only P-256 device keys work for DTLS raw public keys.\n"
    "\n"
    "options:\n"
    "  --class C                class-id = UUIDv5(vendor-id, C)\n"
    "  --device-id UUID         the device id (default: the first 16 bytes\n"
    "                           of the device key's key id); printed\n"
    "  --device-pub D.pub       the device's public key\n"
    "  --genesis G              the chain's genesis\n"
    "  --help, -h               show this help\n"
    "  --key A.key              sign as this author (private key)\n"
    "  --node URL               submit to this node, http://HOST:PORT\n"
    "  --nonce N                transaction nonce (default random)\n"
    "  --out TX, -o TX          write the transaction to TX\n"
    "  --registrar-key R.key    a registrar's private key (repeat)\n"
    "  --timeout S              with --node, give up after S seconds "
    "(default 60)\n"
    "  --vendor-domain D        vendor-id = UUIDv5(DNS, D)\n";


static const char token_usage[] =
    "usage: dsuit device token --node-name NAME\n"
    "                          (--psk-id ID --psk-key HEX | --key D.key "
    "[--device-id UUID])\n"
    "                          [--method M] PATH\n"
    "\n"
    "Print a single-use request token for the device resources over HTTP\n"
    "(PATH: /v1/device/fw/...), for the header\n"
    "    Authorization: DSUIT <token>\n"
    "It names the node (its validator name in the genesis), the request and\n"
    "the time, and is MACed with the device's pre-shared key or signed with\n"
    "its registered private key. A node takes it once, within 60 seconds.\n"
    "\n"
    "options:\n"
    "  --device-id UUID         with --key: the registered device id\n"
    "                           (default: as 'dsuit device register')\n"
    "  --help, -h               show this help\n"
    "  --key D.key              the device's private key (P-256 or Ed25519)\n"
    "  --method M               the request's method (default GET)\n"
    "  --node-name NAME         the validator the request goes to\n"
    "  --psk-id ID              the device's pre-shared key identity\n"
    "  --psk-key HEX            the device's pre-shared key, in hex\n";

enum {
    OPT_CLASS = 256,
    OPT_DATA,
    OPT_DEVICE_ID,
    OPT_DEVICE_PUB,
    OPT_GENESIS,
    OPT_ID,
    OPT_KEY,
    OPT_METHOD,
    OPT_NODE_NAME,
    OPT_PSK_ID,
    OPT_PSK_KEY,
    OPT_VENDOR_DOMAIN
};

/* Sorted by name. */
static const struct option register_longopts[] = {
    {"class", required_argument, NULL, OPT_CLASS},
    {"device-id", required_argument, NULL, OPT_DEVICE_ID},
    {"device-pub", required_argument, NULL, OPT_DEVICE_PUB},
    {"genesis", required_argument, NULL, OPT_GENESIS},
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {"node", required_argument, NULL, CLI_TX_OPT_NODE},
    {"nonce", required_argument, NULL, CLI_TX_OPT_NONCE},
    {"out", required_argument, NULL, 'o'},
    {"registrar-key", required_argument, NULL, CLI_TX_OPT_REGISTRAR_KEY},
    {"timeout", required_argument, NULL, CLI_TX_OPT_TIMEOUT},
    {"vendor-domain", required_argument, NULL, OPT_VENDOR_DOMAIN},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option provision_longopts[] = {
    {"class", required_argument, NULL, OPT_CLASS},
    {"data", required_argument, NULL, OPT_DATA},
    {"help", no_argument, NULL, 'h'},
    {"id", required_argument, NULL, OPT_ID},
    {"key", required_argument, NULL, OPT_KEY},
    {"vendor-domain", required_argument, NULL, OPT_VENDOR_DOMAIN},
    {NULL, 0, NULL, 0},
};

static int hex_key(const char *s, uint8_t *out, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2 != 0 || n / 2 < NODE_PSK_KEY_MIN || n / 2 > NODE_PSK_KEY_MAX ||
        cli_hex_decode(s, n, out) != 0)
        return -1;
    *len = n / 2;
    return 0;
}

static int verb_provision(int argc, char **argv)
{
    const char *data = NULL, *id = NULL, *klass = NULL, *domain = NULL,
               *key = NULL;
    node_psk_t e;
    struct stat st;
    char hex[2 * NODE_PSK_KEY_MAX + 1], v[CLI_UUID_TEXT_LEN + 1],
        c[CLI_UUID_TEXT_LEN + 1];
    int ch, rc, replaced = 0;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":h", provision_longopts, NULL)) !=
           -1) {
        switch (ch) {
        case OPT_CLASS:
            klass = optarg;
            break;
        case OPT_DATA:
            data = optarg;
            break;
        case 'h':
            fputs(provision_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_ID:
            id = optarg;
            break;
        case OPT_KEY:
            key = optarg;
            break;
        case OPT_VENDOR_DOMAIN:
            domain = optarg;
            break;
        default:
            return cli_getopt_error(CMD_PROVISION, ch, argv,
                                    provision_longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD_PROVISION, "unexpected argument '%s'",
                               argv[optind]);
    if (data == NULL)
        return cli_usage_error(CMD_PROVISION, "missing option '--data'");
    if (id == NULL)
        return cli_usage_error(CMD_PROVISION, "missing option '--id'");
    if (domain == NULL || domain[0] == '\0')
        return cli_usage_error(CMD_PROVISION,
                               "missing option '--vendor-domain'");
    if (klass == NULL || klass[0] == '\0')
        return cli_usage_error(CMD_PROVISION, "missing option '--class'");
    memset(&e, 0, sizeof e);
    e.id_len = strlen(id);
    if (!node_psk_id_valid(id, e.id_len))
        return cli_usage_error(CMD_PROVISION,
                               "'--id' needs 1 to %d of A-Z a-z 0-9 . _ : @ "
                               "-, not '%s'",
                               NODE_PSK_ID_MAX, id);
    memcpy(e.id, id, e.id_len);
    if (key != NULL && hex_key(key, e.key, &e.key_len) != 0)
        return cli_usage_error(CMD_PROVISION,
                               "'--key' needs %d to %d bytes in hex",
                               NODE_PSK_KEY_MIN, NODE_PSK_KEY_MAX);
    {
        /* A node's folder holds its key ('dsuit node init'). */
        char g[PATH_MAX];
        snprintf(g, sizeof g, "%s/node.key", data);
        if (stat(data, &st) != 0 || !S_ISDIR(st.st_mode) ||
            stat(g, &st) != 0) {
            cli_error_subject(CMD_PROVISION, "cannot use", data,
                              "not a node data folder (no node.key)");
            return DSUIT_EXIT_FAIL;
        }
    }
    if (cli_uuid5(cli_uuid_ns_dns, domain, strlen(domain), e.vendor) != 0 ||
        cli_uuid5(e.vendor, klass, strlen(klass), e.klass) != 0) {
        cli_error(CMD_PROVISION, "cannot compute the vendor and class ids");
        return DSUIT_EXIT_FAIL;
    }
    if (key == NULL) {
        e.key_len = PSK_DEFAULT;
        if (dsuit_random(e.key, e.key_len) != DSUIT_OK) {
            cli_error(CMD_PROVISION, "cannot draw a random key");
            return DSUIT_EXIT_FAIL;
        }
    }
    rc = node_keystore_put(data, &e, &replaced);
    if (rc != DSUIT_OK) {
        char reason[128];
        snprintf(reason, sizeof reason, "%s%s", dsuit_strerror(rc),
                 rc == DSUIT_E_INVAL ? " (a malformed keystore line?)" : "");
        cli_error_subject(CMD_PROVISION, "cannot write the keystore of", data,
                          reason);
        dsuit_wipe(&e, sizeof e);
        return rc == DSUIT_E_INVAL ? DSUIT_EXIT_REJECT : DSUIT_EXIT_FAIL;
    }
    cli_hex_encode(e.key, e.key_len, hex, sizeof hex);
    cli_uuid_format(e.vendor, v);
    cli_uuid_format(e.klass, c);
    printf("id: %s\nvendor id: %s\nclass id: %s\nkey: %s\n%s\n", id, v, c, hex,
           replaced ? "replaced" : "provisioned");
    dsuit_wipe(hex, sizeof hex);
    dsuit_wipe(&e, sizeof e);
    return DSUIT_EXIT_OK;
}

/* Sorted by name. */
static const struct option token_longopts[] = {
    {"device-id", required_argument, NULL, OPT_DEVICE_ID},
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {"method", required_argument, NULL, OPT_METHOD},
    {"node-name", required_argument, NULL, OPT_NODE_NAME},
    {"psk-id", required_argument, NULL, OPT_PSK_ID},
    {"psk-key", required_argument, NULL, OPT_PSK_KEY},
    {NULL, 0, NULL, 0},
};

/* ---- token ---------------------------------------------------------------- */

static int verb_token(int argc, char **argv)
{
    const char *node = NULL, *psk_id = NULL, *psk_hex = NULL, *keyf = NULL,
               *dev_id = NULL, *method = "GET", *path;
    uint8_t psk[NODE_PSK_KEY_MAX], id[CLI_UUID_LEN], kid[DSUIT_SHA256_LEN];
    size_t psk_len = 0;
    char out[DSUIT_TOKEN_TEXT_MAX];
    dsuit_key_t key;
    int ch, rc;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":h", token_longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_DEVICE_ID:
            dev_id = optarg;
            break;
        case 'h':
            fputs(token_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_KEY:
            keyf = optarg;
            break;
        case OPT_METHOD:
            method = optarg;
            break;
        case OPT_NODE_NAME:
            node = optarg;
            break;
        case OPT_PSK_ID:
            psk_id = optarg;
            break;
        case OPT_PSK_KEY:
            psk_hex = optarg;
            break;
        default:
            return cli_getopt_error(CMD_TOKEN, ch, argv, token_longopts);
        }
    }
    rc = cli_one_operand(CMD_TOKEN, argc, argv, "missing PATH", &path);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (node == NULL || node[0] == '\0')
        return cli_usage_error(CMD_TOKEN, "missing option '--node-name'");
    if ((keyf != NULL) == (psk_id != NULL))
        return cli_usage_error(CMD_TOKEN,
                               "give '--psk-id' and '--psk-key', or '--key'");
    if (psk_id != NULL && psk_hex == NULL)
        return cli_usage_error(CMD_TOKEN, "missing option '--psk-key'");
    if (psk_hex != NULL && (psk_id == NULL || hex_key(psk_hex, psk, &psk_len)))
        return cli_usage_error(CMD_TOKEN,
                               "'--psk-key' needs %d to %d bytes in hex, with "
                               "'--psk-id'",
                               NODE_PSK_KEY_MIN, NODE_PSK_KEY_MAX);
    if (dev_id != NULL && (keyf == NULL || cli_uuid_parse(dev_id, id) != 0))
        return cli_usage_error(CMD_TOKEN,
                               "'--device-id' needs a UUID, with '--key'");
    if (path[0] != '/' || strlen(path) + strlen(method) + 2 >
                              DSUIT_TOKEN_REQ_MAX)
        return cli_usage_error(CMD_TOKEN, "PATH must start with '/' and be "
                                          "shorter than %d bytes",
                               DSUIT_TOKEN_REQ_MAX - 8);
    memset(&key, 0, sizeof key);
    if (keyf != NULL) {
        rc = cli_tx_load_signing_key(CMD_TOKEN, keyf, &key);
        if (rc != DSUIT_EXIT_OK)
            return rc;
        if (dev_id == NULL) {
            if (dsuit_cose_key_id(&key, kid) != DSUIT_OK) {
                dsuit_key_wipe(&key);
                cli_error(CMD_TOKEN, "cannot compute the key's id");
                return DSUIT_EXIT_FAIL;
            }
            memcpy(id, kid, CLI_UUID_LEN);
        }
    }
    rc = dsuit_token_make(psk_id, psk_id ? psk : NULL, psk_len,
                          keyf ? id : NULL, keyf ? &key : NULL, node, method,
                          path, cli_wall_ms(), out, sizeof out);
    dsuit_key_wipe(&key);
    dsuit_wipe(psk, sizeof psk);
    if (rc != DSUIT_OK) {
        cli_error(CMD_TOKEN, "cannot make the token: %s", dsuit_strerror(rc));
        return cli_exit_for_err(rc);
    }
    printf("%s\n", out);
    return DSUIT_EXIT_OK;
}

/* ---- register ------------------------------------------------------------ */

typedef struct {
    cli_tx_job_t job;
    const char *genesis, *key, *device_pub, *device_id, *domain, *klass;
} register_opts_t;

static int register_parse(int argc, char **argv, register_opts_t *o)
{
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":ho:", register_longopts, NULL)) !=
           -1) {
        switch (ch) {
        case OPT_CLASS:
            if (o->klass != NULL)
                return cli_usage_error(CMD_REGISTER,
                                       "give exactly one '--class'");
            o->klass = optarg;
            break;
        case OPT_DEVICE_ID:
            o->device_id = optarg;
            break;
        case OPT_DEVICE_PUB:
            o->device_pub = optarg;
            break;
        case OPT_GENESIS:
            o->genesis = optarg;
            break;
        case 'h':
            fputs(device_register_usage, stdout);
            return -1;
        case OPT_KEY:
            o->key = optarg;
            break;
        case OPT_VENDOR_DOMAIN:
            o->domain = optarg;
            break;
        default: {
            int rc = cli_tx_job_option(&o->job, ch, optarg);
            if (rc < 0)
                return cli_getopt_error(CMD_REGISTER, ch, argv,
                                        register_longopts);
            if (rc != DSUIT_EXIT_OK)
                return rc;
        }
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD_REGISTER, "unexpected argument '%s'",
                               argv[optind]);
    {
        int rc = cli_tx_job_check(&o->job);
        if (rc != DSUIT_EXIT_OK)
            return rc;
    }
    if (o->genesis == NULL)
        return cli_usage_error(CMD_REGISTER, "missing option '--genesis'");
    if (o->device_pub == NULL)
        return cli_usage_error(CMD_REGISTER, "missing option '--device-pub'");
    if (o->domain == NULL || o->domain[0] == '\0')
        return cli_usage_error(CMD_REGISTER,
                               "missing option '--vendor-domain'");
    if (o->klass == NULL || o->klass[0] == '\0')
        return cli_usage_error(CMD_REGISTER, "missing option '--class'");
    if ((o->key != NULL) == (o->job.n_registrar_keys > 0))
        return cli_usage_error(CMD_REGISTER, "give '--registrar-key' or "
                                             "'--key', not both or neither");
    return DSUIT_EXIT_OK;
}

static int verb_register(int argc, char **argv)
{
    register_opts_t o;
    const char *paths[DSUIT_TX_MAX_SIGS];
    dsuit_genesis_t *g = NULL;
    dsuit_key_t dev, keys[DSUIT_TX_MAX_SIGS];
    uint8_t vendor[CLI_UUID_LEN], klass[CLI_UUID_LEN], id[CLI_UUID_LEN];
    uint8_t kid[DSUIT_SHA256_LEN], body[CLI_TX_JOB_BODY_MAX];
    char text[CLI_UUID_TEXT_LEN + 1];
    size_t body_len = 0, n_signers;
    uint64_t nonce;
    int err, rc;

    memset(&o, 0, sizeof o);
    o.job.cmd = CMD_REGISTER;
    o.job.registrar_keys = paths;
    o.job.timeout = CLI_TX_TIMEOUT_DEFAULT;
    rc = register_parse(argc, argv, &o);
    if (rc != DSUIT_EXIT_OK)
        return rc < 0 ? DSUIT_EXIT_OK : rc;
    if (o.device_id != NULL && cli_uuid_parse(o.device_id, id) != 0)
        return cli_usage_error(CMD_REGISTER,
                               "'--device-id' needs a UUID, not '%s'",
                               o.device_id);
    memset(&dev, 0, sizeof dev);
    memset(keys, 0, sizeof keys);
    rc = cli_tx_load_genesis(CMD_REGISTER, o.genesis, &g);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    if (o.key != NULL) {
        rc = cli_tx_load_signing_key(CMD_REGISTER, o.key, &keys[0]);
        n_signers = 1;
    } else {
        rc = cli_tx_check_registrar_count(&o.job, g);
        if (rc == DSUIT_EXIT_OK)
            rc = cli_tx_load_registrars(&o.job, g, keys);
        n_signers = o.job.n_registrar_keys;
    }
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = cli_tx_load_public_key(CMD_REGISTER, o.device_pub, &dev);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    rc = DSUIT_EXIT_FAIL;
    if (cli_uuid5(cli_uuid_ns_dns, o.domain, strlen(o.domain), vendor) != 0 ||
        cli_uuid5(vendor, o.klass, strlen(o.klass), klass) != 0) {
        cli_error(CMD_REGISTER, "cannot compute the vendor and class ids");
        goto out;
    }
    if (o.device_id == NULL) {
        if (dsuit_cose_key_id(&dev, kid) != DSUIT_OK) {
            cli_error(CMD_REGISTER, "cannot compute the device key's id");
            goto out;
        }
        memcpy(id, kid, CLI_UUID_LEN);
    }
    cli_uuid_format(id, text);
    printf("device id: %s\n", text);
    rc = cli_tx_pick_nonce(&o.job, &nonce);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    err = dsuit_tx_body_register_device(g->hash, nonce, id, vendor, klass,
                                        &dev, body, sizeof body, &body_len);
    rc = cli_tx_finish(&o.job, g, err, body, body_len, keys, n_signers);
out:
    for (size_t i = 0; i < DSUIT_TX_MAX_SIGS; i++)
        dsuit_key_wipe(&keys[i]);
    dsuit_key_wipe(&dev);
    dsuit_genesis_free(g);
    return rc;
}

static int verb_run(int argc, char **argv)
{
    return cli_device_client(argc, argv, 0);
}

static int verb_once(int argc, char **argv)
{
    return cli_device_client(argc, argv, 1);
}

int cmd_device(int argc, char **argv)
{
    static const cli_verb_t verbs[] = {
        {"provision", verb_provision},
        {"register", verb_register},
        {"token", verb_token},
        {"run", verb_run},
        {"once", verb_once},
    };
    return cli_run_verb(CMD, usage,
                        "missing verb: provision, register, token, run or once", 1,
                        verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
