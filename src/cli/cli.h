/*
 * Private header of the dsuit command-line program (src/cli): the exit
 * codes, the subcommand entry points and the helpers every cmd_<name>.c
 * shares, so that all subcommands word their messages, read and write files
 * and load keys the same way.
 *
 * Conventions the helpers enforce (STYLE.md, "Errors and messages"):
 *   - results go to stdout, messages to stderr;
 *   - an error is one line: "dsuit <cmd>: <what> '<subject>': <reason>",
 *     lower-case start, no full stop;
 *   - a usage error adds the hint line "try 'dsuit <cmd> --help'";
 *   - exit codes are the DSUIT_EXIT_* values below, listed in
 *     docs/EXIT-CODES.md and never reused for another meaning.
 *
 * The helpers that can fail print their own error line (naming the command
 * given as `cmd`, e.g. "keygen" or "key show") and return a DSUIT_EXIT_*
 * code, so a cmd_*.c can simply pass the code on. Only main() and cmd_*
 * functions exit; nothing here calls exit().
 *
 * Not device code: this file and its .c may allocate.
 */
#ifndef DSUIT_CLI_H
#define DSUIT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "dsuit/crypto.h"

/* Exit codes (docs/EXIT-CODES.md). */
#define DSUIT_EXIT_OK     0 /* success */
#define DSUIT_EXIT_FAIL   1 /* operation failed: I/O, network, storage, peer */
#define DSUIT_EXIT_USAGE  2 /* unknown option, missing or malformed argument */
#define DSUIT_EXIT_REJECT 3 /* input checked and rejected */

/* Largest file cli_load_key() reads; a PEM key is a few hundred bytes. */
#define DSUIT_CLI_KEY_FILE_MAX (64 * 1024)

/*
 * Subcommands. Each takes the arguments after "dsuit": argv[0] is the
 * command's own name, so getopt_long() works on them unchanged. Each returns
 * a DSUIT_EXIT_* code.
 */
int cmd_author(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_devnet(int argc, char **argv);
int cmd_genesis(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_tx(int argc, char **argv);

/* ---- messages ------------------------------------------------------------ */

/**
 * Print one error line "dsuit <cmd>: <formatted message>" to stderr.
 * @param[in] cmd  command name as the user typed it ("keygen", "key show"),
 *                 or NULL for the program itself ("dsuit: ...")
 */
void cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Print the house-format error "dsuit <cmd>: <what> '<subject>': <reason>",
 * e.g. cli_error_subject("genesis", "cannot write", "genesis.cbor",
 * strerror(errno)).
 */
void cli_error_subject(const char *cmd, const char *what, const char *subject,
                       const char *reason);

/** Print "dsuit <cmd>: warning: <formatted message>" to stderr. */
void cli_warn(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Report a usage error: the error line, then "try 'dsuit <cmd> --help'".
 * @return DSUIT_EXIT_USAGE, so callers can `return cli_usage_error(...)`.
 */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct option; /* <getopt.h> */

/**
 * Report what getopt_long() complained about, for a loop that uses an
 * optstring starting with ':' and opterr = 0: c is the value getopt_long()
 * returned ('?' for an unknown option, ':' for a missing argument), argv
 * the vector and longopts the table it parsed. Prints one of "unknown
 * option '--x'", "ambiguous option '--x'", "option '--x' needs an
 * argument", "option '--x' takes no argument" (or the '-x' forms), then
 * the hint line.
 * @return DSUIT_EXIT_USAGE
 */
int cli_getopt_error(const char *cmd, int c, char *const *argv,
                     const struct option *longopts);

/**
 * Exit code for a dsuit library error met while handling user input:
 * DSUIT_EXIT_FAIL for errors of the machine or the build (DSUIT_E_NOMEM,
 * DSUIT_E_CRYPTO, DSUIT_E_IO, DSUIT_E_UNSUPPORTED, DSUIT_E_INVAL, which
 * means a bug in the caller), DSUIT_EXIT_REJECT for everything else, which
 * says the input itself was checked and found bad (malformed, wrong key,
 * signature, limit). DSUIT_OK gives DSUIT_EXIT_OK.
 */
int cli_exit_for_err(int err);

/* ---- command line -------------------------------------------------------- */

/** A verb of a command that has verbs, as in "dsuit ledger show". */
typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv); /* gets argv from the verb on */
} cli_verb_t;

/**
 * Run the verb argv[1] of the command cmd: verbs[i].fn(argc - 1, argv + 1)
 * for the verb named so. "--help" or "-h" prints usage to stdout
 * (DSUIT_EXIT_OK). Usage errors: no verb at all (the message `missing`),
 * with dash_is_option set an argv[1] starting with '-' ("unknown option
 * '<arg>'"), any other word ("unknown verb '<arg>'").
 * @return the verb's exit code, DSUIT_EXIT_OK or DSUIT_EXIT_USAGE
 */
int cli_run_verb(const char *cmd, const char *usage, const char *missing,
                 int dash_is_option, const cli_verb_t *verbs, size_t n_verbs,
                 int argc, char **argv);

/**
 * The one operand left after getopt_long() (argv[optind]). Usage errors:
 * none (the message `missing`), or more than one ("unexpected argument
 * '<second>'").
 * @param[out] out  the operand, written only on success
 * @return DSUIT_EXIT_OK or DSUIT_EXIT_USAGE
 */
int cli_one_operand(const char *cmd, int argc, char **argv, const char *missing,
                    const char **out);

/** What cli_show_args() returns when the verb should go on. */
#define CLI_GO_ON (-1)

/**
 * Parse the command line of a verb that takes only --help (-h), --json and
 * one operand, like "dsuit key show FILE [--json]": longopts holds "help"
 * (val 'h') and "json" (val json_val). --help prints usage to stdout.
 * Usage errors as cli_getopt_error() and cli_one_operand() (`missing`).
 * @param[out] out_json     1 if --json was given, else 0
 * @param[out] out_operand  the operand
 * Both are written only when CLI_GO_ON is returned.
 * @return CLI_GO_ON, or the exit code to end with: DSUIT_EXIT_OK (help
 *         printed) or DSUIT_EXIT_USAGE
 */
int cli_show_args(const char *cmd, const char *usage,
                  const struct option *longopts, int json_val,
                  const char *missing, int argc, char **argv, int *out_json,
                  const char **out_operand);

/**
 * Parse a decimal uint64: digits only (no sign, no space), no overflow.
 * @return 0, or -1 if malformed (out untouched)
 */
int cli_parse_u64(const char *s, uint64_t *out);

/* ---- files --------------------------------------------------------------- */

/**
 * Read a whole file into memory.
 * @param[in]  cmd      command name for the error line
 * @param[in]  path     file to read; "-" reads standard input
 * @param[in]  max_len  largest size accepted, in bytes
 * @param[out] out      on success, a malloc'd buffer of *out_len + 1 bytes
 *                      whose last byte is NUL (handy for text); the caller
 *                      frees it, with cli_free_secret() if it may hold one
 * @param[out] out_len  number of bytes read, excluding the NUL
 * Prints "cannot read '<path>': <reason>" (system error, "file is larger
 * than N bytes", "is a directory") on failure; out and out_len are written
 * only on success.
 * @return DSUIT_EXIT_OK or DSUIT_EXIT_FAIL
 */
int cli_read_file(const char *cmd, const char *path, size_t max_len,
                  uint8_t **out, size_t *out_len);

/** Wipe p[0..len) and free p; p may be NULL. */
void cli_free_secret(void *p, size_t len);

/**
 * Write a file atomically: the data goes to a temporary file in the same
 * folder (created with mode 0600, so secrets are never readable by others
 * even briefly), which is fsync'd, given its mode, moved to path and then
 * the folder is fsync'd. Readers see the old file or the new one, never a
 * part; after a crash there may be a stray ".<name>.tmp-XXXXXX" file but
 * never a half-written path.
 * @param[in] mode   permission bits of the new file, reduced by the umask
 *                   as open(2) would (0600 stays 0600)
 * @param[in] force  0: refuse if path exists (checked atomically by
 *                   link(2), so a file appearing meanwhile is not replaced);
 *                   1: replace it. Only a command with a --force option
 *                   should pass 0, since the message suggests --force.
 * Prints "cannot write '<path>': <reason>" on failure, with the reason
 * "file exists (use --force to replace it)" when force is 0 and path
 * exists. On failure no temporary file is left behind.
 * @return DSUIT_EXIT_OK or DSUIT_EXIT_FAIL
 */
int cli_write_file_atomic(const char *cmd, const char *path, const void *data,
                          size_t len, mode_t mode, int force);

/* ---- encodings and keys ------------------------------------------------- */

/**
 * Lower-case hex of p[0..len), NUL-terminated. out_cap must be at least
 * 2 * len + 1; if it is not, out is set to the empty string (when out_cap
 * > 0) and -1 is returned. @return 0 on success.
 */
int cli_hex_encode(const uint8_t *p, size_t len, char *out, size_t out_cap);

/** Value of the hex digit c (either case), or -1 if c is not one. */
int cli_hex_digit(char c);

/** Decode exactly n hex digits of s (either case) into out (n / 2 bytes).
 * @return 0, or -1 if n is odd or a character is not a hex digit (out may
 *         then hold part of the bytes) */
int cli_hex_decode(const char *s, size_t n, uint8_t *out);

/** Wall-clock time, Unix milliseconds. */
uint64_t cli_wall_ms(void);

/**
 * Print s[0..n) to stdout with control characters (below 0x20, and 0x7f)
 * shown as '?', so that text from a file or the chain cannot move the
 * terminal's cursor or fake further lines.
 */
void cli_print_textn(const char *s, size_t n);

/** cli_print_textn() of the NUL-terminated string s. */
void cli_print_text(const char *s);

/**
 * Load a key from a file holding either PEM text (PKCS#8 or SEC1 private
 * key, or SubjectPublicKeyInfo public key) or a CBOR COSE_Key (public only),
 * P-256 or Ed25519. Files starting with "-----BEGIN" (after any white
 * space) are taken as PEM, all others as COSE_Key. The file's bytes are
 * wiped before they are freed, since they may hold a private key.
 * @param[out] out  the key, written only on success; the caller wipes it
 *                  with dsuit_key_wipe() when done
 * Prints "cannot read '<path>': ..." (exit 1) or "cannot load key '<path>':
 * <reason>" (exit 3 if the content is not a usable key, exit 1 if the
 * machine or build failed).
 * @return DSUIT_EXIT_OK, DSUIT_EXIT_FAIL or DSUIT_EXIT_REJECT
 */
int cli_load_key(const char *cmd, const char *path, dsuit_key_t *out);

/* ---- JSON output --------------------------------------------------------- */

/** Lower-case hex of p[0..n) as a JSON string; JSON null if out of memory. */
json_t *cli_hex_json(const uint8_t *p, size_t n);

/** A UUID in its text form (cli_uuid_format) as a JSON string. */
json_t *cli_uuid_json(const uint8_t u[16]);

/** A uint64 as a JSON integer; past JSON's int range, as a decimal string
 *  rather than a rounded number. */
json_t *cli_u64_json(uint64_t v);

/** Print root to stdout as JSON indented by 2, and a newline. */
void cli_print_json(const json_t *root);

/**
 * Print a JSON value just built, as cli_print_json(), and free it. A NULL
 * root means building it ran out of memory: prints "out of memory".
 * @return DSUIT_EXIT_OK, or DSUIT_EXIT_FAIL for a NULL root
 */
int cli_print_json_new(const char *cmd, json_t *root);

/* ---- time --------------------------------------------------------------- */

/** Monotonic clock in milliseconds, for reporting how long steps take. */
double cli_now_ms(void);

#endif /* DSUIT_CLI_H */
