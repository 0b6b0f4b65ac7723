/*
 * `dsuit node`: set up a validator's data folder (init) and run the node
 * daemon (run). The daemon itself is src/node; this file is its command
 * line. Page: docs/cli/dsuit-node.md.
 *
 *   dsuit node init --genesis G --name N --key K.key --data DIR [--force]
 *   dsuit node run --data DIR [--log FILE] [--block-interval-ms MS]
 *                  [--election-timeout-ms MS] [--http-conns-per-ip N]
 *                  [--coap-plain-port PORT]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "dsuit/cose.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "net/http/server.h"
#include "node/node.h"

#define CMD_INIT "node init"
#define CMD_RUN  "node run"

static const char usage[] =
    "usage: dsuit node init --genesis G --name N --key K.key --data DIR\n"
    "       dsuit node run --data DIR [--log FILE]\n"
    "\n"
    "Set up and run a validator node of a dsuit chain.\n"
    "\n"
    "  init   make DIR a data folder for validator N of genesis G, whose\n"
    "         private key is K.key (copied in, mode 0600)\n"
    "  run    run the node on DIR until SIGTERM or SIGINT\n"
    "\n"
    "Run 'dsuit node init --help' or 'dsuit node run --help' for options.\n";

static const char init_usage[] =
    "usage: dsuit node init --genesis G --name N --key K.key --data DIR "
    "[--force]\n"
    "\n"
    "Make DIR (created if needed) the data folder of validator N: it gets a\n"
    "copy of genesis G, the validator's private key K.key (mode 0600), and\n"
    "an empty ledger checked against the genesis. The key must be the one\n"
    "genesis lists for N.\n"
    "\n"
    "options:\n"
    "  --data DIR      the node's data folder\n"
    "  --force         reuse a folder that already holds a node\n"
    "  --genesis G     the chain's genesis (made by 'dsuit genesis')\n"
    "  --help, -h      show this help\n"
    "  --key K.key     the validator's private key (PEM)\n"
    "  --name N        the validator's name in the genesis\n";

static const char run_usage[] =
    "usage: dsuit node run --data DIR [--log FILE] [--block-interval-ms MS]\n"
    "                      [--election-timeout-ms MS] [--http-conns-per-ip N]\n"
    "                      [--coap-plain-port PORT]\n"
    "\n"
    "Run the node on DIR (made by 'dsuit node init') until SIGTERM or\n"
    "SIGINT: consensus on the validators' Raft ports, the HTTP API on this\n"
    "validator's HTTP port, the device service (CoAP over DTLS, pre-shared\n"
    "or raw public keys) on its CoAP port. Pre-shared keys are read from\n"
    "DIR/device-keys ('dsuit device provision'), again whenever it changes.\n"
    "One event per line on stderr (or FILE). A second node on the same DIR\n"
    "is refused.\n"
    "\n"
    "options:\n"
    "  --block-interval-ms MS     batching window of the leader (100)\n"
    "  --coap-plain-port PORT     also serve devices on plain, unauthenticated\n"
    "                             CoAP on this UDP port (off by default)\n"
    "  --data DIR                 the node's data folder\n"
    "  --election-timeout-ms MS   consensus election timeout (1000)\n"
    "  --help, -h                 show this help\n"
    "  --http-conns-per-ip N      HTTP connections one client address may\n"
    "                             hold at once, 1 to 256 (32)\n"
    "  --log FILE                 append events to FILE, not stderr\n";

enum {
    OPT_BLOCK_INTERVAL = 256,
    OPT_COAP_PLAIN,
    OPT_DATA,
    OPT_ELECTION,
    OPT_FORCE,
    OPT_PER_IP,
    OPT_GENESIS,
    OPT_KEY,
    OPT_LOG,
    OPT_NAME
};

/* Sorted by name. */
static const struct option init_longopts[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"force", no_argument, NULL, OPT_FORCE},
    {"genesis", required_argument, NULL, OPT_GENESIS},
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {"name", required_argument, NULL, OPT_NAME},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option run_longopts[] = {
    {"block-interval-ms", required_argument, NULL, OPT_BLOCK_INTERVAL},
    {"coap-plain-port", required_argument, NULL, OPT_COAP_PLAIN},
    {"data", required_argument, NULL, OPT_DATA},
    {"election-timeout-ms", required_argument, NULL, OPT_ELECTION},
    {"help", no_argument, NULL, 'h'},
    {"http-conns-per-ip", required_argument, NULL, OPT_PER_IP},
    {"log", required_argument, NULL, OPT_LOG},
    {NULL, 0, NULL, 0},
};

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int node_init(int argc, char **argv)
{
    const char *genesis = NULL, *name = NULL, *keyfile = NULL, *dir = NULL;
    int force = 0, c, rc = DSUIT_EXIT_FAIL, err;
    uint8_t *g = NULL, *pem = NULL, kid[32];
    size_t glen = 0, pemlen = 0;
    dsuit_genesis_t *gen = NULL;
    dsuit_key_t key;
    const char *why = NULL;
    char *path = NULL, *ledger_dir = NULL;
    struct stat st;

    memset(&key, 0, sizeof key);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", init_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA:
            dir = optarg;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case OPT_GENESIS:
            genesis = optarg;
            break;
        case 'h':
            fputs(init_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_KEY:
            keyfile = optarg;
            break;
        case OPT_NAME:
            name = optarg;
            break;
        default:
            return cli_getopt_error(CMD_INIT, c, argv, init_longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD_INIT, "unexpected argument '%s'",
                               argv[optind]);
    if (genesis == NULL || name == NULL || keyfile == NULL || dir == NULL)
        return cli_usage_error(CMD_INIT,
                               "missing option: --genesis, --name, --key and "
                               "--data are required");

    rc = cli_read_file(CMD_INIT, genesis, 1 << 20, &g, &glen);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    err = dsuit_genesis_decode(g, glen, &gen, &why);
    if (err != DSUIT_OK) {
        cli_error_subject(CMD_INIT, "cannot use", genesis,
                          why ? why : dsuit_strerror(err));
        rc = cli_exit_for_err(err);
        goto out;
    }
    rc = cli_load_key(CMD_INIT, keyfile, &key);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    if (!key.has_private) {
        cli_error_subject(CMD_INIT, "cannot use", keyfile, "not a private key");
        rc = DSUIT_EXIT_REJECT;
        goto out;
    }
    {
        int idx;
        if (dsuit_cose_key_id(&key, kid) != DSUIT_OK ||
            (idx = dsuit_genesis_validator_index(gen, kid)) < 0) {
            cli_error_subject(CMD_INIT, "cannot use", keyfile,
                              "the genesis lists no validator with this key");
            rc = DSUIT_EXIT_REJECT;
            goto out;
        }
        if (strcmp(gen->validators[idx].name, name) != 0) {
            cli_error(CMD_INIT,
                      "the key of '%s' is validator '%s' in the genesis, not "
                      "'%s'",
                      keyfile, gen->validators[idx].name, name);
            rc = DSUIT_EXIT_REJECT;
            goto out;
        }
    }

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        cli_error_subject(CMD_INIT, "cannot create", dir, strerror(errno));
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    path = join(dir, "genesis.cbor");
    ledger_dir = join(dir, "ledger");
    if (path == NULL || ledger_dir == NULL) {
        cli_error(CMD_INIT, "out of memory");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    if (!force && stat(path, &st) == 0) {
        cli_error_subject(CMD_INIT, "cannot initialise", dir,
                          "it already holds a node (use --force to reuse it)");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    rc = cli_write_file_atomic(CMD_INIT, path, g, glen, 0644, 1);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    free(path);
    path = join(dir, "node.key");
    err = path ? dsuit_key_to_pem(&key, 1, NULL, 0, &pemlen) : DSUIT_E_NOMEM;
    if (err == DSUIT_E_LIMIT) {
        pem = malloc(pemlen);
        err = pem ? dsuit_key_to_pem(&key, 1, (char *)pem, pemlen, &pemlen)
                  : DSUIT_E_NOMEM;
    }
    if (err != DSUIT_OK) {
        cli_error(CMD_INIT, "cannot encode the key: %s", dsuit_strerror(err));
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    rc = cli_write_file_atomic(CMD_INIT, path, pem, pemlen, 0600, 1);
    if (rc != DSUIT_EXIT_OK)
        goto out;

    /* Create the ledger now, so that a genesis the ledger refuses or a
     * folder that belongs to another chain is found at init, not at run. */
    if (mkdir(ledger_dir, 0700) != 0 && errno != EEXIST) {
        cli_error_subject(CMD_INIT, "cannot create", ledger_dir,
                          strerror(errno));
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    {
        dsuit_ledger_t *l = NULL;
        err = dsuit_ledger_open(ledger_dir, g, glen, NULL, &l, &why);
        dsuit_ledger_close(l);
        if (err != DSUIT_OK) {
            cli_error_subject(CMD_INIT, "cannot open the ledger in", dir,
                              why ? why : dsuit_strerror(err));
            rc = err == DSUIT_E_INVAL ? DSUIT_EXIT_REJECT : DSUIT_EXIT_FAIL;
            goto out;
        }
    }
    printf("node '%s' ready in %s\n", name, dir);
    rc = DSUIT_EXIT_OK;
out:
    if (pem != NULL)
        cli_free_secret(pem, pemlen);
    dsuit_key_wipe(&key);
    dsuit_genesis_free(gen);
    free(g);
    free(path);
    free(ledger_dir);
    return rc;
}

static int parse_ms(const char *cmd, const char *opt, const char *s,
                    unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > 600000) {
        cli_usage_error(cmd,
                        "'%s' needs milliseconds from 1 to 600000, not "
                        "'%s'",
                        opt, s);
        return 0;
    }
    *out = (unsigned)v;
    return 1;
}

static int node_run(int argc, char **argv)
{
    dsuit_node_opts_t o;
    const char *log = NULL;
    FILE *lf = NULL;
    int c, rc;

    memset(&o, 0, sizeof o);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", run_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_BLOCK_INTERVAL:
            if (!parse_ms(CMD_RUN, "--block-interval-ms", optarg,
                          &o.block_interval_ms))
                return DSUIT_EXIT_USAGE;
            break;
        case OPT_DATA:
            o.data_dir = optarg;
            break;
        case OPT_COAP_PLAIN: {
            uint64_t v;
            if (cli_parse_u64(optarg, &v) != 0 || v == 0 || v > 65535)
                return cli_usage_error(CMD_RUN,
                                       "'--coap-plain-port' needs a port "
                                       "from 1 to 65535, not '%s'",
                                       optarg);
            o.coap_plain_port = (uint16_t)v;
            break;
        }
        case OPT_ELECTION:
            if (!parse_ms(CMD_RUN, "--election-timeout-ms", optarg,
                          &o.election_timeout_ms))
                return DSUIT_EXIT_USAGE;
            break;
        case 'h':
            fputs(run_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_PER_IP: {
            uint64_t v;
            if (cli_parse_u64(optarg, &v) != 0 || v == 0 ||
                v > DSUIT_HTTP_DEFAULT_MAX_CONNECTIONS)
                return cli_usage_error(CMD_RUN,
                                       "'--http-conns-per-ip' needs a number "
                                       "from 1 to %u, not '%s'",
                                       DSUIT_HTTP_DEFAULT_MAX_CONNECTIONS,
                                       optarg);
            o.http_per_ip = (unsigned)v;
            break;
        }
        case OPT_LOG:
            log = optarg;
            break;
        default:
            return cli_getopt_error(CMD_RUN, c, argv, run_longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD_RUN, "unexpected argument '%s'",
                               argv[optind]);
    if (o.data_dir == NULL)
        return cli_usage_error(CMD_RUN, "missing option '--data'");
    if (log != NULL) {
        lf = fopen(log, "a");
        if (lf == NULL) {
            cli_error_subject(CMD_RUN, "cannot open", log, strerror(errno));
            return DSUIT_EXIT_FAIL;
        }
        o.log = lf;
    }
    rc = dsuit_node_run(&o);
    if (lf != NULL)
        fclose(lf);
    return rc == 0 ? DSUIT_EXIT_OK : DSUIT_EXIT_FAIL;
}

int cmd_node(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return DSUIT_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return DSUIT_EXIT_OK;
    }
    if (strcmp(argv[1], "init") == 0)
        return node_init(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return node_run(argc - 1, argv + 1);
    cli_error("node", "unknown verb '%s'", argv[1]);
    fputs("try 'dsuit node --help'\n", stderr);
    return DSUIT_EXIT_USAGE;
}
