/*
 * `dsuit keygen`: generate an author (signing) key pair, ES256 (ECDSA over
 * P-256, RFC 9053 §2.1) or Ed25519 (RFC 8032), and store it as two files:
 *
 *   NAME.key  the private key, PKCS#8 PEM (RFC 5958, RFC 7468), mode 0600;
 *             any OpenSSL tool reads it
 *   NAME.pub  the public key, a deterministic COSE_Key (RFC 9052 §7),
 *             mode 0644; this is what authors hand to others
 *
 * and print the key id, SHA-256 of the NAME.pub bytes, as the one line of
 * output. Both files are written atomically; neither is replaced unless
 * --force is given. Page: docs/cli/dsuit-keygen.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"

#define CMD "keygen"

/* Room for a PKCS#8 PEM private key: P-256 needs about 250 bytes. */
#define PEM_MAX 1024

static const char usage[] =
    "usage: dsuit keygen --alg es256|ed25519 --out NAME [--force]\n"
    "\n"
    "Generate an author key pair. Writes NAME.key (private key, PKCS#8 PEM,\n"
    "mode 0600) and NAME.pub (public key, COSE_Key, mode 0644), then prints\n"
    "the key id (SHA-256 of NAME.pub) in hex.\n"
    "\n"
    "options:\n"
    "  --alg ALG    es256 (ECDSA P-256) or ed25519\n"
    "  --force      replace NAME.key and NAME.pub if they exist\n"
    "  --help, -h   show this help\n"
    "  --out NAME   write NAME.key and NAME.pub (NAME may include folders)\n";

enum { OPT_ALG = 256, OPT_FORCE, OPT_OUT };

/* Sorted by name. */
static const struct option longopts[] = {
    {"alg", required_argument, NULL, OPT_ALG},
    {"force", no_argument, NULL, OPT_FORCE},
    {"help", no_argument, NULL, 'h'},
    {"out", required_argument, NULL, OPT_OUT},
    {NULL, 0, NULL, 0},
};

/* name + suffix in a new malloc'd string, or NULL. */
static char *join(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    char *s = malloc(n + m + 1);
    if (s != NULL) {
        memcpy(s, name, n);
        memcpy(s + n, suffix, m + 1);
    }
    return s;
}

/* Refuse early, before generating anything, when a file is in the way, so
 * that a refusal never leaves a new NAME.key next to an old NAME.pub.
 * cli_write_file_atomic() checks again, atomically. */
static int refuse_existing(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    cli_error_subject(CMD, "cannot write", path,
                      "file exists (use --force to replace it)");
    return 1;
}

int cmd_keygen(int argc, char **argv)
{
    const char *alg = NULL, *name = NULL;
    dsuit_key_type_t type;
    int force = 0, c, err, rc = DSUIT_EXIT_FAIL;
    char *key_path = NULL, *pub_path = NULL;
    dsuit_key_t key;
    char pem[PEM_MAX];
    size_t pem_len = 0, cose_len = 0;
    uint8_t cose[DSUIT_COSE_KEY_MAX], id[DSUIT_SHA256_LEN];
    char id_hex[2 * DSUIT_SHA256_LEN + 1];

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ALG:
            alg = optarg;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_OUT:
            name = optarg;
            break;
        default:
            return cli_getopt_error(CMD, c, argv, longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (alg == NULL)
        return cli_usage_error(CMD, "missing option '--alg'");
    if (strcmp(alg, "es256") == 0)
        type = DSUIT_KEY_P256;
    else if (strcmp(alg, "ed25519") == 0)
        type = DSUIT_KEY_ED25519;
    else
        return cli_usage_error(
            CMD, "unknown algorithm '%s': use es256 or ed25519", alg);
    if (name == NULL)
        return cli_usage_error(CMD, "missing option '--out'");
    if (name[0] == '\0')
        return cli_usage_error(CMD, "empty name for '--out'");

    memset(&key, 0, sizeof(key));
    key_path = join(name, ".key");
    pub_path = join(name, ".pub");
    if (key_path == NULL || pub_path == NULL) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    if (!force && (refuse_existing(key_path) || refuse_existing(pub_path)))
        goto out;

    err = dsuit_key_generate(type, &key);
    if (err == DSUIT_OK)
        err = dsuit_key_to_pem(&key, 1, pem, sizeof(pem), &pem_len);
    if (err == DSUIT_OK)
        err = dsuit_cose_key_encode(&key, cose, sizeof(cose), &cose_len);
    if (err == DSUIT_OK)
        err = dsuit_cose_key_id(&key, id);
    if (err != DSUIT_OK) {
        cli_error_subject(CMD, "cannot generate key", alg, dsuit_strerror(err));
        goto out;
    }
    cli_hex_encode(id, sizeof(id), id_hex, sizeof(id_hex));

    if (cli_write_file_atomic(CMD, key_path, pem, pem_len, 0600, force))
        goto out;
    if (cli_write_file_atomic(CMD, pub_path, cose, cose_len, 0644, force)) {
        /* Without --force NAME.key did not exist before: take it back so
         * that no private key is left without its public file. With --force
         * the old pair is gone either way; keep the new private key. */
        if (!force)
            unlink(key_path);
        goto out;
    }
    printf("%s\n", id_hex);
    rc = DSUIT_EXIT_OK;
out:
    dsuit_key_wipe(&key);
    dsuit_wipe(pem, sizeof(pem));
    free(pub_path);
    free(key_path);
    return rc;
}
