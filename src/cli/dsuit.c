/*
 * dsuit: the one command-line program of the Distributed SUIT Architecture
 * (draft-lee-suit-distarch) for authors, operators and testers. This file
 * holds main() and the table of subcommands; each subcommand lives in its
 * own src/cli/cmd_<name>.c with its own options and a page in
 * docs/cli/dsuit-<name>.md.
 *
 * main() only dispatches: "dsuit <command> <args...>" calls the command's
 * function with argv starting at <command>, so the command parses its own
 * options with getopt_long(). Commands with sub-verbs ("dsuit key show")
 * dispatch those themselves. Exit codes: docs/EXIT-CODES.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "dsuit/dsuit.h"

struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary; /* one line for `dsuit --help` */
};

/* In the order an author meets them, as `dsuit --help` lists them. */
static const struct cli_command commands[] = {
    {"keygen", cmd_keygen, "generate an author key pair (ES256 or Ed25519)"},
    {"key", cmd_key, "show a key file's algorithm, kind and key id"},
    {"manifest", cmd_manifest,
     "create, sign, verify and inspect SUIT manifests"},
    {"node", cmd_node, "set up and run a validator node"},
    {"publish", cmd_publish, "publish signed firmware through a node"},
    {"genesis", cmd_genesis, "write or show the genesis that founds a chain"},
    {"author", cmd_author, "register, revoke or re-key an author on a chain"},
    {"tx", cmd_tx, "sign, show and submit ledger transactions"},
    {"devnet", cmd_devnet, "run a local test network of validator nodes"},
    {"ledger", cmd_ledger, "verify a ledger folder or show its contents"},
    {"store", cmd_store, "show what a node's chunk store holds"},
    {"device", cmd_device,
     "provision and register devices; run the reference device"},
    {"demo", cmd_demo, "sign and verify a firmware image, with timings"},
};

static void print_usage(FILE *f)
{
    fputs("usage: dsuit <command> [<args>]\n"
          "       dsuit --help | --version\n"
          "\n"
          "Distributed SUIT: sign, publish and verify firmware updates.\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Run 'dsuit <command> --help' for the options of a command.\n"
          "Exit codes: 0 success, 1 failed, 2 usage error, 3 input "
          "rejected.\n",
          f);
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Results go to stdout; a full disk or closed pipe there must not pass for
 * success. */
static int finish_stdout(int rc)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error_subject(NULL, "cannot write", "stdout",
                          strerror(errno != 0 ? errno : EIO));
        return rc == DSUIT_EXIT_OK ? DSUIT_EXIT_FAIL : rc;
    }
    return rc;
}

int main(int argc, char **argv)
{
    const struct cli_command *cmd;
    const char *arg;

    if (argc < 2) {
        print_usage(stderr);
        return DSUIT_EXIT_USAGE;
    }
    arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        print_usage(stdout);
        return finish_stdout(DSUIT_EXIT_OK);
    }
    if (strcmp(arg, "--version") == 0) {
        printf("dsuit %s\n", DSUIT_VERSION_STRING);
        return finish_stdout(DSUIT_EXIT_OK);
    }
    if (arg[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", arg);
    cmd = find_command(arg);
    if (cmd == NULL)
        return cli_usage_error(NULL, "unknown command '%s'", arg);
    return finish_stdout(cmd->fn(argc - 1, argv + 1));
}
