/*
 * Helpers shared by `dsuit tx` and `dsuit author` (contracts in
 * src/cli/cli_tx.h): genesis and key loading, and submitting a transaction
 * to a node and waiting for it to be committed or certified.
 *
 * The node is a peer, not an authority: its "certified" is believed only
 * after the certificate it serves verifies against the genesis keys and
 * certifies a block that holds the transaction with result ok, so one
 * lying node cannot make the command report a registration that a quorum
 * of validators did not sign.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_tx.h"
#include "dsuit/block.h"
#include "dsuit/cert.h"
#include "dsuit/cose.h"
#include "dsuit/error.h"
#include "dsuit/tx.h"
#include "net/http/client.h"

/* Pause between polls, and the longest single request. */
#define POLL_MS        200
#define REQUEST_MAX_MS 5000
/* Largest JSON answer and largest block read back. */
#define JSON_MAX  (64u * 1024)
#define BLOCK_MAX (64u * 1024 * 1024)
#define CERT_MAX  (64u * 1024)

/* ---- loading ------------------------------------------------------------ */

int cli_tx_load_genesis(const char *cmd, const char *path,
                        dsuit_genesis_t **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *why = NULL;
    dsuit_genesis_t *g = NULL;
    int err, rc;

    rc = cli_read_file(cmd, path, CLI_GENESIS_FILE_MAX, &buf, &len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    err = dsuit_genesis_decode(buf, len, &g, &why);
    free(buf);
    if (err != DSUIT_OK) {
        cli_error_subject(cmd, "not a valid genesis", path,
                          why != NULL ? why : dsuit_strerror(err));
        return err == DSUIT_E_NOMEM ? DSUIT_EXIT_FAIL : DSUIT_EXIT_REJECT;
    }
    *out = g;
    return DSUIT_EXIT_OK;
}

static int load_ledger_key(const char *cmd, const char *path, dsuit_key_t *out)
{
    dsuit_key_t key;
    int rc = cli_load_key(cmd, path, &key);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (key.type != DSUIT_KEY_P256 && key.type != DSUIT_KEY_ED25519) {
        cli_error_subject(cmd, "cannot use key", path,
                          "not a P-256 or Ed25519 key");
        dsuit_key_wipe(&key);
        return DSUIT_EXIT_REJECT;
    }
    *out = key;
    return DSUIT_EXIT_OK;
}

int cli_tx_load_signing_key(const char *cmd, const char *path, dsuit_key_t *out)
{
    dsuit_key_t key;
    int rc = load_ledger_key(cmd, path, &key);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (!key.has_private) {
        cli_error_subject(cmd, "cannot sign with", path,
                          "not a private key (give the .key file)");
        dsuit_key_wipe(&key);
        return DSUIT_EXIT_REJECT;
    }
    *out = key;
    return DSUIT_EXIT_OK;
}

int cli_tx_load_public_key(const char *cmd, const char *path, dsuit_key_t *out)
{
    dsuit_key_t key;
    int rc = load_ledger_key(cmd, path, &key);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    /* Only the public half ever goes into a transaction. */
    dsuit_wipe(key.secret, sizeof key.secret);
    key.secret_len = 0;
    key.has_private = 0;
    *out = key;
    return DSUIT_EXIT_OK;
}

/* ---- parsing ------------------------------------------------------------ */

const char *cli_tx_type_name(uint64_t type)
{
    switch (type) {
    case DSUIT_TX_REGISTER_AUTHOR:
        return "register-author";
    case DSUIT_TX_REVOKE_AUTHOR:
        return "revoke-author";
    case DSUIT_TX_ROTATE_AUTHOR_KEY:
        return "rotate-author-key";
    case DSUIT_TX_PUBLISH:
        return "publish";
    case DSUIT_TX_REGISTER_DEVICE:
        return "register-device";
    default:
        return "unknown";
    }
}

int cli_tx_parse_timeout(const char *s, double *out)
{
    char *end;
    double v;
    /* Digits and at most one '.', so no sign, exponent, "inf" or "nan". */
    if (strspn(s, "0123456789.") != strlen(s) || *s == '\0' ||
        strchr(s, '.') != strrchr(s, '.'))
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v > 0) || v > CLI_TX_TIMEOUT_MAX)
        return -1;
    *out = v;
    return 0;
}

int cli_tx_check_url(const char *url)
{
    const char *host;
    size_t n;
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    host = url + 7;
    n = strcspn(host, "/?#");
    if (n == 0)
        return -1;
    /* Nothing but an optional '/' after the authority: paths are ours. */
    if (host[n] != '\0' && strcmp(host + n, "/") != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)host[i] <= 0x20 || host[i] == 0x7f || host[i] == '@')
            return -1;
    return 0;
}

/* ---- talking to the node ------------------------------------------------ */

typedef struct {
    const char *cmd;
    char base[512]; /* "http://host:port", no trailing '/' */
    double deadline;
} conn_t;

/* Milliseconds left before the deadline, at most REQUEST_MAX_MS, and 0
 * when none are. */
static unsigned left_ms(const conn_t *c)
{
    double left = c->deadline - cli_now_ms();
    if (left < 1)
        return 0;
    return left > REQUEST_MAX_MS ? REQUEST_MAX_MS : (unsigned)left;
}

static void nap(const conn_t *c)
{
    double left = c->deadline - cli_now_ms();
    double ms = left < POLL_MS ? left : POLL_MS;
    struct timespec ts;
    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
    nanosleep(&ts, NULL);
}

/* One request; rc is DSUIT_OK or the client's error. */
static int request(const conn_t *c, const char *method, const char *path,
                   const char *const *headers, const uint8_t *body, size_t len,
                   long *status, uint8_t **out, size_t *out_len, size_t max)
{
    char url[640];
    unsigned ms = left_ms(c);
    if (ms == 0)
        return DSUIT_E_AGAIN;
    snprintf(url, sizeof url, "%s%s", c->base, path);
    return dsuit_http_request(method, url, headers, body, len, ms, status, out,
                              out_len, max);
}

/* The "error" and "message" of a JSON error answer, for messages. */
static void error_text(const uint8_t *body, char *out, size_t cap)
{
    json_t *j = body != NULL ? json_loads((const char *)body, 0, NULL) : NULL;
    const char *e = NULL, *m = NULL;
    if (j != NULL &&
        json_unpack(j, "{s?s, s?s}", "error", &e, "message", &m) == 0 &&
        e != NULL)
        snprintf(out, cap, "%s%s%s", e, m != NULL ? ": " : "",
                 m != NULL ? m : "");
    else
        snprintf(out, cap, "no error text");
    json_decref(j);
}

/* POST /v1/tx until accepted. */
static int post_tx(conn_t *c, const uint8_t *tx, size_t tx_len,
                   const char *idhex)
{
    static const char *const headers[] = {"Content-Type: application/cbor",
                                          "Accept: application/json", NULL};
    char last[256] = "";
    for (;;) {
        uint8_t *body = NULL;
        size_t blen = 0;
        long status = 0;
        int err = request(c, "POST", "/v1/tx", headers, tx, tx_len, &status,
                          &body, &blen, JSON_MAX);
        if (err == DSUIT_E_AGAIN) {
            cli_error_subject(c->cmd, "timed out submitting", idhex,
                              last[0] ? last : "no answer in time");
            return DSUIT_EXIT_FAIL;
        }
        if (err != DSUIT_OK) {
            cli_error_subject(c->cmd, "cannot reach", c->base,
                              dsuit_strerror(err));
            return DSUIT_EXIT_FAIL;
        }
        if (status == 202) {
            json_t *j = json_loads((const char *)body, 0, NULL);
            const char *id = NULL;
            int same = j != NULL && json_unpack(j, "{s:s}", "id", &id) == 0 &&
                       strcmp(id, idhex) == 0;
            json_decref(j);
            free(body);
            if (!same) {
                cli_error_subject(c->cmd, "unexpected answer from", c->base,
                                  "accepted a transaction with another id");
                return DSUIT_EXIT_FAIL;
            }
            return DSUIT_EXIT_OK;
        }
        error_text(body, last, sizeof last);
        free(body);
        if (status == 400) {
            cli_error_subject(c->cmd, "node refused", idhex, last);
            return DSUIT_EXIT_REJECT;
        }
        if (status != 503) {
            char why[300];
            snprintf(why, sizeof why, "HTTP %ld: %s", status, last);
            cli_error_subject(c->cmd, "cannot submit", idhex, why);
            return DSUIT_EXIT_FAIL;
        }
        /* 503 no-leader or busy: an election or a full pool passes. */
        nap(c);
    }
}

typedef struct {
    int state; /* 0 pending/unknown, 1 committed, 2 certified, -1 invalid */
    uint64_t height;
    char result[64];
    char message[256];
} tx_state_t;

/* GET /v1/tx/{id} once. DSUIT_OK with st filled, or an error after
 * which to poll again (IO, 404 not yet known here, 5xx) with last set;
 * DSUIT_E_INVAL for an answer that makes no sense. */
static int get_tx_state(const conn_t *c, const char *idhex, tx_state_t *st,
                        char *last, size_t last_cap)
{
    static const char *const headers[] = {"Accept: application/json", NULL};
    char path[96];
    uint8_t *body = NULL;
    size_t blen = 0;
    long status = 0;
    json_t *j;
    const char *s = NULL, *res = NULL, *msg = NULL;
    json_int_t h = -1;
    int err;

    snprintf(path, sizeof path, "/v1/tx/%s", idhex);
    err = request(c, "GET", path, headers, NULL, 0, &status, &body, &blen,
                  JSON_MAX);
    if (err != DSUIT_OK) {
        if (err != DSUIT_E_AGAIN)
            snprintf(last, last_cap, "%s", dsuit_strerror(err));
        return err;
    }
    if (status != 200) {
        char t[200];
        error_text(body, t, sizeof t);
        snprintf(last, last_cap, "HTTP %ld: %s", status, t);
        free(body);
        return DSUIT_E_NOTFOUND;
    }
    j = json_loads((const char *)body, 0, NULL);
    free(body);
    memset(st, 0, sizeof *st);
    if (j == NULL ||
        json_unpack(j, "{s:s, s?I, s?s, s?s}", "status", &s, "height", &h,
                    "result", &res, "message", &msg) != 0) {
        json_decref(j);
        snprintf(last, last_cap, "answer is not the documented JSON");
        return DSUIT_E_INVAL;
    }
    err = DSUIT_OK;
    if (strcmp(s, "pending") == 0) {
        st->state = 0;
    } else if (strcmp(s, "committed") == 0 || strcmp(s, "certified") == 0) {
        st->state = s[1] == 'o' ? 1 : 2;
        if (h < 1) {
            snprintf(last, last_cap, "answer has no valid height");
            err = DSUIT_E_INVAL;
        }
    } else if (strcmp(s, "invalid") == 0) {
        st->state = -1;
        snprintf(st->result, sizeof st->result, "%s",
                 res != NULL ? res : "unknown");
        snprintf(st->message, sizeof st->message, "%s",
                 msg != NULL ? msg : "no message");
    } else {
        snprintf(last, last_cap, "unknown status '%.32s'", s);
        err = DSUIT_E_INVAL;
    }
    st->height = h > 0 ? (uint64_t)h : 0;
    json_decref(j);
    return err;
}

/* GET a CBOR resource, retrying while it is not there yet (404, network)
 * until the deadline. */
static int get_cbor(const conn_t *c, const char *path, size_t max,
                    uint8_t **out, size_t *out_len, char *last, size_t last_cap)
{
    static const char *const headers[] = {"Accept: application/cbor", NULL};
    for (;;) {
        uint8_t *body = NULL;
        size_t blen = 0;
        long status = 0;
        int err = request(c, "GET", path, headers, NULL, 0, &status, &body,
                          &blen, max);
        if (err == DSUIT_E_AGAIN)
            return err;
        if (err == DSUIT_OK && status == 200) {
            *out = body;
            *out_len = blen;
            return DSUIT_OK;
        }
        if (err == DSUIT_OK) {
            char t[200];
            error_text(body, t, sizeof t);
            snprintf(last, last_cap, "GET %s: HTTP %ld: %s", path, status, t);
        } else {
            snprintf(last, last_cap, "GET %s: %s", path, dsuit_strerror(err));
        }
        free(body);
        if (err == DSUIT_E_LIMIT)
            return err;
        nap(c);
    }
}

/*
 * Check that height h is certified by a quorum of g's validators and that
 * its block holds tx id with result ok. *out_valid: the votes that
 * verified. DSUIT_EXIT_REJECT with the reason in why when the node's data
 * does not verify.
 */
static int check_certified(const conn_t *c, const dsuit_genesis_t *g,
                           const uint8_t id[32], uint64_t h, size_t *out_valid,
                           char *why, size_t why_cap)
{
    char path[64];
    uint8_t *cert_buf = NULL, *blk_buf = NULL;
    size_t cert_len = 0, blk_len = 0, valid = 0;
    dsuit_key_t *keys = NULL;
    dsuit_cert_t cert;
    dsuit_block_t blk;
    dsuit_block_iter_t it;
    dsuit_trust_t trust;
    const uint8_t *tx;
    size_t tl;
    uint64_t result;
    int err, found = 0, rc = DSUIT_EXIT_REJECT;

    snprintf(path, sizeof path, "/v1/blocks/%" PRIu64 "/cert", h);
    err = get_cbor(c, path, CERT_MAX, &cert_buf, &cert_len, why, why_cap);
    if (err != DSUIT_OK) {
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    snprintf(path, sizeof path, "/v1/blocks/%" PRIu64, h);
    err = get_cbor(c, path, BLOCK_MAX, &blk_buf, &blk_len, why, why_cap);
    if (err != DSUIT_OK) {
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    err = dsuit_cert_decode(cert_buf, cert_len, &cert);
    if (err != DSUIT_OK) {
        snprintf(why, why_cap,
                 "certificate of height %" PRIu64 " does not decode: %s", h,
                 dsuit_strerror(err));
        goto out;
    }
    if (cert.height != h) {
        snprintf(why, why_cap,
                 "certificate for height %" PRIu64 " is for height %" PRIu64, h,
                 cert.height);
        goto out;
    }
    keys = calloc(g->n_validators, sizeof *keys);
    if (keys == NULL) {
        snprintf(why, why_cap, "out of memory");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < g->n_validators; i++)
        keys[i] = g->validators[i].key;
    trust.chain = g->hash;
    trust.validators = keys;
    trust.n_validators = g->n_validators;
    trust.quorum = g->policy.quorum;
    err = dsuit_cert_verify(&cert, &trust, &valid);
    if (err != DSUIT_OK) {
        snprintf(why, why_cap,
                 "certificate of height %" PRIu64 " does not verify: %s", h,
                 dsuit_strerror(err));
        goto out;
    }
    err = dsuit_block_decode(blk_buf, blk_len, &blk);
    if (err != DSUIT_OK) {
        snprintf(why, why_cap, "block %" PRIu64 " does not decode: %s", h,
                 dsuit_strerror(err));
        goto out;
    }
    if (!dsuit_ct_equal(blk.hash, cert.block_hash, 32) ||
        blk.header.height != h || memcmp(blk.header.chain, g->hash, 32) != 0) {
        snprintf(why, why_cap,
                 "block %" PRIu64 " is not the one its certificate signs", h);
        goto out;
    }
    dsuit_block_iter_init(&it, &blk);
    while (!found && dsuit_block_next_tx(&it, &tx, &tl, &result) == DSUIT_OK) {
        dsuit_tx_t t;
        if (dsuit_tx_decode(tx, tl, &t) == DSUIT_OK &&
            memcmp(t.id, id, 32) == 0)
            found = result == DSUIT_TXR_OK ? 1 : -1;
    }
    if (found != 1) {
        snprintf(why, why_cap,
                 found == 0 ? "certified block %" PRIu64
                              " does not hold the transaction"
                            : "certified block %" PRIu64
                              " records the transaction as not applied",
                 h);
        goto out;
    }
    *out_valid = valid;
    rc = DSUIT_EXIT_OK;
out:
    free(keys); /* public keys only: nothing to wipe */
    free(cert_buf);
    free(blk_buf);
    return rc;
}

int cli_tx_submit(const char *cmd, const char *node_url, const uint8_t *tx,
                  size_t tx_len, const dsuit_genesis_t *g, cli_tx_wait_t wait,
                  double timeout_s)
{
    conn_t c;
    dsuit_tx_t t;
    tx_state_t st;
    char idhex[2 * DSUIT_SHA256_LEN + 1], last[320] = "";
    size_t n, valid = 0;
    uint64_t stale = 0;
    int err, rc;

    memset(&st, 0, sizeof st);
    err = dsuit_tx_decode(tx, tx_len, &t);
    if (err != DSUIT_OK) {
        cli_error(cmd, "cannot submit: transaction does not decode: %s",
                  dsuit_strerror(err));
        return cli_exit_for_err(err);
    }
    cli_hex_encode(t.id, 32, idhex, sizeof idhex);
    if (g != NULL && memcmp(t.chain, g->hash, 32) != 0) {
        cli_error_subject(cmd, "cannot submit", idhex,
                          "transaction is for another chain than the "
                          "genesis");
        return DSUIT_EXIT_REJECT;
    }
    if (wait == CLI_TX_WAIT_CERTIFIED && g == NULL) {
        cli_error(cmd, "cannot check a certificate without the genesis");
        return DSUIT_EXIT_USAGE;
    }
    c.cmd = cmd;
    n = strlen(node_url);
    while (n > 0 && node_url[n - 1] == '/')
        n--;
    if (n >= sizeof c.base) {
        cli_error_subject(cmd, "cannot use", node_url, "URL is too long");
        return DSUIT_EXIT_USAGE;
    }
    memcpy(c.base, node_url, n);
    c.base[n] = '\0';
    c.deadline = cli_now_ms() + timeout_s * 1000.0;

    /* A transaction refused once (too few signatures, author not yet
     * registered) keeps that record in the node's index until the same id
     * is applied again, and the node answers with it even while the new
     * submission is pending. Note it, so that only a refusal at a later
     * height counts as this submission's verdict. */
    if (get_tx_state(&c, idhex, &st, last, sizeof last) == DSUIT_OK &&
        st.state < 0)
        stale = st.height;
    last[0] = '\0';

    rc = post_tx(&c, tx, tx_len, idhex);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    /* The id first, so a caller who times out still knows what to ask
     * about later. */
    printf("id: %s\n", idhex);
    fflush(stdout);

    /* Poll until the state is reached or the ledger marked it invalid. */
    for (;;) {
        err = get_tx_state(&c, idhex, &st, last, sizeof last);
        if (err == DSUIT_E_AGAIN)
            break;
        if (err == DSUIT_E_INVAL) {
            cli_error_subject(cmd, "unexpected answer from", c.base, last);
            return DSUIT_EXIT_FAIL;
        }
        if (err == DSUIT_OK && st.state < 0 && st.height <= stale)
            st.state = 0;
        if (err == DSUIT_OK && (st.state < 0 || st.state >= (int)wait))
            break;
        if (err == DSUIT_OK)
            snprintf(last, sizeof last, "still %s",
                     st.state == 0 ? "pending" : "committed");
        nap(&c);
    }
    if (err == DSUIT_E_AGAIN) {
        cli_error_subject(cmd, "timed out waiting for", idhex,
                          last[0] ? last : "no answer");
        return DSUIT_EXIT_FAIL;
    }
    if (st.state < 0) {
        char why[400];
        printf("status: invalid\n");
        printf("height: %" PRIu64 "\n", st.height);
        printf("result: %s\n", st.result);
        snprintf(why, sizeof why, "%s: %s", st.result, st.message);
        cli_error_subject(cmd, "ledger refused", idhex, why);
        return DSUIT_EXIT_REJECT;
    }
    if (wait == CLI_TX_WAIT_CERTIFIED) {
        last[0] = '\0';
        rc = check_certified(&c, g, t.id, st.height, &valid, last, sizeof last);
        if (rc != DSUIT_EXIT_OK) {
            if (rc == DSUIT_EXIT_FAIL && last[0] == '\0')
                snprintf(last, sizeof last, "no certificate in time");
            cli_error_subject(cmd,
                              rc == DSUIT_EXIT_REJECT
                                  ? "cannot verify certificate of"
                                  : "timed out fetching certificate of",
                              idhex, last);
            return rc;
        }
    }
    /* Without --wait certified, "certified" is the node's word. */
    printf("status: %s\n", st.state == 2 ? "certified" : "committed");
    printf("height: %" PRIu64 "\n", st.height);
    if (wait == CLI_TX_WAIT_CERTIFIED)
        printf("certified by %zu of %zu validators\n", valid, g->n_validators);
    return DSUIT_EXIT_OK;
}

/* ---- jobs: sign, then write and/or submit ----------------------------- */

int cli_tx_job_option(cli_tx_job_t *j, int c, const char *arg)
{
    switch (c) {
    case CLI_TX_OPT_NODE:
        j->node = arg;
        return DSUIT_EXIT_OK;
    case 'o':
        j->out = arg;
        return DSUIT_EXIT_OK;
    case CLI_TX_OPT_NONCE:
        if (cli_parse_u64(arg, &j->nonce) != 0)
            return cli_usage_error(j->cmd,
                                   "option '--nonce' needs a number from 0 "
                                   "to 2^64-1, not '%s'",
                                   arg);
        j->have_nonce = 1;
        return DSUIT_EXIT_OK;
    case CLI_TX_OPT_REGISTRAR_KEY:
        if (j->n_registrar_keys == DSUIT_TX_MAX_SIGS)
            return cli_usage_error(j->cmd,
                                   "too many '--registrar-key': at most %d",
                                   DSUIT_TX_MAX_SIGS);
        j->registrar_keys[j->n_registrar_keys++] = arg;
        return DSUIT_EXIT_OK;
    case CLI_TX_OPT_TIMEOUT:
        if (cli_tx_parse_timeout(arg, &j->timeout) != 0)
            return cli_usage_error(j->cmd,
                                   "option '--timeout' needs seconds above 0 "
                                   "and at most 86400, not '%s'",
                                   arg);
        return DSUIT_EXIT_OK;
    default:
        return -1;
    }
}

int cli_tx_job_check(const cli_tx_job_t *j)
{
    if (j->node == NULL && j->out == NULL)
        return cli_usage_error(j->cmd, "missing option '--node' or '--out'");
    if (j->out != NULL && j->out[0] == '\0')
        return cli_usage_error(j->cmd, "empty file name for '--out'");
    if (j->node != NULL && cli_tx_check_url(j->node) != 0)
        return cli_usage_error(j->cmd,
                               "'--node' needs a URL http://HOST:PORT, not "
                               "'%s'",
                               j->node);
    return DSUIT_EXIT_OK;
}

/* Registrar keys: private, registrars of g, each once. keys has room for
 * DSUIT_TX_MAX_SIGS. Wiped by the caller. */
int cli_tx_load_registrars(const cli_tx_job_t *j, const dsuit_genesis_t *g,
                           dsuit_key_t *keys)
{
    uint8_t ids[DSUIT_TX_MAX_SIGS][DSUIT_SHA256_LEN];
    for (size_t i = 0; i < j->n_registrar_keys; i++) {
        const char *path = j->registrar_keys[i];
        int rc = cli_tx_load_signing_key(j->cmd, path, &keys[i]);
        if (rc != DSUIT_EXIT_OK)
            return rc;
        if (dsuit_cose_key_id(&keys[i], ids[i]) != DSUIT_OK) {
            cli_error_subject(j->cmd, "cannot use key", path,
                              "cannot compute its key id");
            return DSUIT_EXIT_FAIL;
        }
        if (dsuit_genesis_registrar_index(g, ids[i]) < 0) {
            cli_error_subject(j->cmd, "cannot sign with", path,
                              "not a registrar of this chain");
            return DSUIT_EXIT_REJECT;
        }
        for (size_t k = 0; k < i; k++) {
            if (memcmp(ids[i], ids[k], DSUIT_SHA256_LEN) == 0) {
                char reason[600];
                snprintf(reason, sizeof reason,
                         "the same key as '%.512s' (each registrar signs "
                         "once)",
                         j->registrar_keys[k]);
                cli_error_subject(j->cmd, "cannot sign with", path, reason);
                return DSUIT_EXIT_REJECT;
            }
        }
    }
    return DSUIT_EXIT_OK;
}

/* Check the registrar options against the threshold: submitting with too
 * few signatures can only end as below-threshold. */
int cli_tx_check_registrar_count(const cli_tx_job_t *j,
                                 const dsuit_genesis_t *g)
{
    if (j->n_registrar_keys == 0)
        return cli_usage_error(j->cmd, "missing option '--registrar-key'");
    if (j->node != NULL && j->n_registrar_keys < g->threshold)
        return cli_usage_error(j->cmd,
                               "the chain needs %" PRIu64
                               " registrar signatures and %zu "
                               "'--registrar-key' were given: write the "
                               "transaction with '-o', add signatures with "
                               "'dsuit tx sign' and send it with 'dsuit tx "
                               "submit'",
                               g->threshold, j->n_registrar_keys);
    return DSUIT_EXIT_OK;
}

int cli_tx_pick_nonce(const cli_tx_job_t *j, uint64_t *out)
{
    uint8_t r[8];
    uint64_t v = 0;
    if (j->have_nonce) {
        *out = j->nonce;
        return DSUIT_EXIT_OK;
    }
    if (dsuit_random(r, sizeof r) != DSUIT_OK) {
        cli_error(j->cmd, "cannot draw a random nonce");
        return DSUIT_EXIT_FAIL;
    }
    for (size_t i = 0; i < sizeof r; i++)
        v = v << 8 | r[i];
    *out = v;
    return DSUIT_EXIT_OK;
}

/* Sign the body, write it (-o) and/or submit it (--node); build_err is
 * what building the body returned, reported here if it failed. */
int cli_tx_finish(const cli_tx_job_t *j, const dsuit_genesis_t *g,
                  int build_err, const uint8_t *body, size_t body_len,
                  const dsuit_key_t *signers, size_t n_signers)
{
    uint8_t tx[CLI_TX_JOB_TX_MAX];
    size_t tx_len = 0;
    dsuit_tx_t t;
    char hex[2 * DSUIT_SHA256_LEN + 1];
    int err, rc;

    if (build_err != DSUIT_OK) {
        cli_error(j->cmd, "cannot build the transaction: %s",
                  dsuit_strerror(build_err));
        return cli_exit_for_err(build_err);
    }

    err = dsuit_tx_assemble(body, body_len, signers, n_signers, tx, sizeof tx,
                            &tx_len);
    if (err != DSUIT_OK) {
        cli_error(j->cmd, "cannot sign the transaction: %s",
                  dsuit_strerror(err));
        return cli_exit_for_err(err);
    }
    /* What was built must decode as every node will decode it. */
    err = dsuit_tx_decode(tx, tx_len, &t);
    if (err != DSUIT_OK) {
        cli_error(j->cmd, "built a transaction that does not decode: %s",
                  dsuit_strerror(err));
        return DSUIT_EXIT_FAIL;
    }
    if (j->out != NULL) {
        rc = cli_write_file_atomic(j->cmd, j->out, tx, tx_len, 0644, 1);
        if (rc != DSUIT_EXIT_OK)
            return rc;
    }
    if (j->node == NULL) {
        cli_hex_encode(t.id, 32, hex, sizeof hex);
        printf("id: %s\n", hex);
        printf("signatures: %zu of %" PRIu64 " needed\n", t.n_sigs,
               t.type == DSUIT_TX_ROTATE_AUTHOR_KEY ? 1 : g->threshold);
        return DSUIT_EXIT_OK;
    }
    return cli_tx_submit(j->cmd, j->node, tx, tx_len, g, CLI_TX_WAIT_CERTIFIED,
                         j->timeout);
}

