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
    int json, err, rc;
    const char *path;
    dsuit_key_t key;
    uint8_t id[DSUIT_SHA256_LEN];
    char id_hex[2 * DSUIT_SHA256_LEN + 1];
    const char *alg;

    rc = cli_show_args(cmd, show_usage, show_longopts, OPT_JSON,
                       "missing key FILE", argc, argv, &json, &path);
    if (rc != CLI_GO_ON)
        return rc;

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

static const cli_verb_t verbs[] = {
    {"show", key_show},
};

int cmd_key(int argc, char **argv)
{
    return cli_run_verb("key", usage, "missing verb (try 'show')", 1, verbs,
                        sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
