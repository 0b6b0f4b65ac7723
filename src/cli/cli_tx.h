/*
 * Helpers shared by the ledger transaction commands of the dsuit program
 * (`dsuit tx`, `dsuit author`): loading a genesis and signing keys,
 * reading and writing transaction files, and submitting a transaction to
 * a node's HTTP API (docs/api.md: POST /v1/tx, GET /v1/tx/{id},
 * GET /v1/blocks/{h}[/cert]) and waiting until it is committed or
 * certified, with the certificate checked against the genesis.
 *
 * Like the helpers of cli.h, every function that can fail prints its own
 * error line naming `cmd` and returns a DSUIT_EXIT_* code. Not device
 * code: allocates.
 */
#ifndef DSUIT_CLI_TX_H
#define DSUIT_CLI_TX_H

#include <stddef.h>
#include <stdint.h>

#include "dsuit/crypto.h"
#include "dsuit/genesis.h"
#include "dsuit/tx.h"

/* Largest transaction file read: the node's request body limit. */
#define CLI_TX_FILE_MAX (16u * 1024 * 1024)

/* Largest genesis file read (64 validators with long host names are about
 * 32 KiB). */
#define CLI_GENESIS_FILE_MAX (256u * 1024)

/* Default and largest --timeout, in seconds. */
#define CLI_TX_TIMEOUT_DEFAULT 60.0
#define CLI_TX_TIMEOUT_MAX     86400.0

/** What cli_tx_submit() waits for. */
typedef enum {
    CLI_TX_WAIT_COMMITTED = 1,
    CLI_TX_WAIT_CERTIFIED = 2
} cli_tx_wait_t;

/**
 * Read and decode a genesis file.
 * @param[out] out  a genesis the caller frees with dsuit_genesis_free()
 * @return DSUIT_EXIT_OK, DSUIT_EXIT_FAIL (unreadable, out of memory) or
 *         DSUIT_EXIT_REJECT (not a valid genesis)
 */
int cli_tx_load_genesis(const char *cmd, const char *path,
                        dsuit_genesis_t **out);

/**
 * Load a private P-256 or Ed25519 key to sign with. A public key file (a
 * .pub, or PEM "PUBLIC KEY") is rejected with "not a private key".
 * @param[out] out  the key; the caller wipes it with dsuit_key_wipe()
 * @return DSUIT_EXIT_OK, DSUIT_EXIT_FAIL or DSUIT_EXIT_REJECT
 */
int cli_tx_load_signing_key(const char *cmd, const char *path,
                            dsuit_key_t *out);

/**
 * Load a P-256 or Ed25519 public key (of a private key file, only the
 * public half is kept).
 * @return DSUIT_EXIT_OK, DSUIT_EXIT_FAIL or DSUIT_EXIT_REJECT
 */
int cli_tx_load_public_key(const char *cmd, const char *path, dsuit_key_t *out);

/**
 * Parse a --timeout value: seconds, a decimal number above 0 and at most
 * CLI_TX_TIMEOUT_MAX (fractions allowed). @return 0, or -1 if malformed.
 */
int cli_tx_parse_timeout(const char *s, double *out);

/**
 * The name of a transaction type as `dsuit tx show` and `dsuit ledger
 * show` print it ("register-author", ..., "unknown" for any other code).
 */
const char *cli_tx_type_name(uint64_t type);

/**
 * Check a node URL given on the command line: "http://HOST[:PORT]" with an
 * optional trailing '/', nothing after it.
 * @return 0, or -1 if it is not such a URL
 */
int cli_tx_check_url(const char *url);

/**
 * Submit an encoded transaction to the node at node_url and wait for it,
 * printing to stdout "id: <hex>", "status: <state>" and "height: <h>",
 * and, when certified, "certified by K of N validators".
 *
 * POST /v1/tx (a 503 no-leader or busy is retried until the deadline);
 * then GET /v1/tx/{id} every few hundred milliseconds until the state is
 * `wait` or further. For CLI_TX_WAIT_CERTIFIED, g is required: the
 * certificate of the transaction's height (GET /v1/blocks/{h}/cert) must
 * decode, carry a quorum of valid votes of g's validators
 * (dsuit_cert_verify), and certify the block (GET /v1/blocks/{h}, CBOR)
 * whose header hashes to the certified block hash, is for g's chain and
 * holds this transaction with result ok. Nothing the node says is taken
 * on its word.
 *
 * @param[in] g        the chain's genesis, or NULL (only for committed);
 *                     when given, a transaction for another chain is
 *                     refused before it is sent
 * @param[in] timeout_s  whole operation, seconds
 * @return DSUIT_EXIT_OK (reached), DSUIT_EXIT_REJECT (the node refused
 *         the transaction as bad-encoding or wrong-chain, the ledger marked
 *         it invalid — result name and message printed —, or the
 *         certificate or block does not verify), DSUIT_EXIT_FAIL (network
 *         failure, unexpected answer, timeout)
 */
int cli_tx_submit(const char *cmd, const char *node_url, const uint8_t *tx,
                  size_t tx_len, const dsuit_genesis_t *g, cli_tx_wait_t wait,
                  double timeout_s);

/* ---- jobs: what the transaction commands (author, device register) were
 * asked to do with the transaction they build ---------------------------- */

/* Largest transaction a job signs: a body of at most 1 KiB and 16
 * signatures of about 110 bytes each. */
#define CLI_TX_JOB_BODY_MAX 1024
#define CLI_TX_JOB_TX_MAX   (CLI_TX_JOB_BODY_MAX + DSUIT_TX_MAX_SIGS * 128)

typedef struct {
    const char *cmd;
    const char *node, *out;      /* submit to / write to (either or both) */
    const char **registrar_keys; /* paths */
    size_t n_registrar_keys;
    int have_nonce;
    uint64_t nonce;
    double timeout; /* seconds, with node */
} cli_tx_job_t;

/* getopt codes of the job options, for the option tables of the
 * transaction commands (with {"out", required_argument, NULL, 'o'}). */
enum {
    CLI_TX_OPT_NODE = 0x1000,
    CLI_TX_OPT_NONCE,
    CLI_TX_OPT_REGISTRAR_KEY,
    CLI_TX_OPT_TIMEOUT
};

/** If getopt's c is a job option (--node, -o/--out, --nonce,
 * --registrar-key, --timeout), take arg into j.
 * @return DSUIT_EXIT_OK, DSUIT_EXIT_USAGE (message printed), or -1 when c
 *         is not a job option */
int cli_tx_job_option(cli_tx_job_t *j, int c, const char *arg);

/** After the options: --node or --out given, each well-formed.
 * @return DSUIT_EXIT_OK or DSUIT_EXIT_USAGE (message printed) */
int cli_tx_job_check(const cli_tx_job_t *j);

/** Load the registrar keys: private keys of registrars of g, each once.
 * keys has room for DSUIT_TX_MAX_SIGS; the caller wipes them.
 * @return DSUIT_EXIT_OK, _FAIL or _REJECT (not a registrar, a key twice) */
int cli_tx_load_registrars(const cli_tx_job_t *j, const dsuit_genesis_t *g,
                           dsuit_key_t *keys);

/** Usage errors: no registrar key; with a node, fewer than the threshold
 * (that can only end as below-threshold). @return _OK or _USAGE */
int cli_tx_check_registrar_count(const cli_tx_job_t *j,
                                 const dsuit_genesis_t *g);

/** The job's nonce, or 64 random bits. @return _OK or _FAIL */
int cli_tx_pick_nonce(const cli_tx_job_t *j, uint64_t *out);

/**
 * Sign the body with signers, check that it decodes, then write it (out)
 * and/or submit it (node) and wait for its certificate. build_err is what
 * building the body returned, reported here if it failed. Without a node
 * it prints "id:" and "signatures: K of N needed".
 * @return a DSUIT_EXIT_* code
 */
int cli_tx_finish(const cli_tx_job_t *j, const dsuit_genesis_t *g,
                  int build_err, const uint8_t *body, size_t body_len,
                  const dsuit_key_t *signers, size_t n_signers);

#endif /* DSUIT_CLI_TX_H */
