/*
 * `dsuit key <verb>`: look at key files. Verbs:
 *
 *   show FILE [--json]   algorithm, private or public, and key id of a key
 *                        file: PEM (private PKCS#8/SEC1 or public SPKI) or
 *                        COSE_Key (public)
 *
 * The key id is SHA-256 of the key's deterministic public COSE_Key
 * (RFC 9052 §7), so a private key file and its public file show the same
 * id. Verbs are dispatched through a small table, so more (e.g. converting
 * between PEM and COSE_Key) can be added. Page: docs/cli/dsuit-key.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"

static const char usage[] =
    "usage: dsuit key show FILE [--json]\n"
    "\n"
    "Inspect key files.\n"
    "\n"
    "verbs:\n"
    "  show   print a key file's algorithm, whether it is private or\n"
    "         public, and its key id\n"
    "\n"
    "Run 'dsuit key <verb> --help' for the options of a verb.\n";

static const char show_usage[] =
    "usage: dsuit key show FILE [--json]\n"
    "\n"
    "Print the algorithm (es256 or ed25519), whether FILE holds a private\n"
    "or a public key, and the key id (SHA-256 of the public COSE_Key) in\n"
    "hex. FILE is PEM (private or public) or a COSE_Key (public).\n"
    "\n"
    "options:\n"
    "  --help, -h   show this help\n"
    "  --json       print one JSON object instead of text\n";

enum { OPT_JSON = 256 };

/* Sorted by name. */
static const struct option show_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

static int key_show(int argc, char **argv)
{
    static const char cmd[] = "key show";
    int json = 0, c, err, rc;
    const char *path;
    dsuit_key_t key;
    uint8_t id[DSUIT_SHA256_LEN];
    char id_hex[2 * DSUIT_SHA256_LEN + 1];
    const char *alg;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", show_longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(show_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_JSON:
            json = 1;
            break;
        default:
            return cli_getopt_error(cmd, c, argv, show_longopts);
        }
    }
    if (optind >= argc)
        return cli_usage_error(cmd, "missing key FILE");
    if (argc - optind > 1)
        return cli_usage_error(cmd, "unexpected argument '%s'",
                               argv[optind + 1]);
    path = argv[optind];

    rc = cli_load_key(cmd, path, &key);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    err = dsuit_cose_key_id(&key, id);
    if (err != DSUIT_OK) {
        cli_error_subject(cmd, "cannot compute key id", path,
                          dsuit_strerror(err));
        rc = cli_exit_for_err(err);
        goto out;
    }
    cli_hex_encode(id, sizeof(id), id_hex, sizeof(id_hex));
    alg = dsuit_key_type_name(key.type);
    /* alg and id_hex are fixed ASCII words, so no JSON escaping is due. */
    if (json)
        printf("{\"alg\":\"%s\",\"private\":%s,\"key_id\":\"%s\"}\n", alg,
               key.has_private ? "true" : "false", id_hex);
    else
        printf("alg: %s\nprivate: %s\nkey id: %s\n", alg,
               key.has_private ? "yes" : "no", id_hex);
    rc = DSUIT_EXIT_OK;
out:
    dsuit_key_wipe(&key);
    return rc;
}

struct key_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
};

static const struct key_verb verbs[] = {
    {"show", key_show},
};

int cmd_key(int argc, char **argv)
{
    const char *verb;

    if (argc < 2)
        return cli_usage_error("key", "missing verb (try 'show')");
    verb = argv[1];
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        fputs(usage, stdout);
        return DSUIT_EXIT_OK;
    }
    if (verb[0] == '-')
        return cli_usage_error("key", "unknown option '%s'", verb);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(verbs[i].name, verb) == 0)
            return verbs[i].fn(argc - 1, argv + 1);
    return cli_usage_error("key", "unknown verb '%s'", verb);
}
