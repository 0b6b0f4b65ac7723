/*
 * `dsuit store`: what a validator's chunk store holds, as the node reports
 * it on its public API (docs/api.md, GET /v1/store). The chunks are the
 * content-addressed pieces of published images that each validator keeps
 * for the draft's retrieval role (draft-lee-suit-distarch §4); this command
 * lets an operator see how many a node holds and whether repair is keeping
 * every chunk on the policy's R validators. Page: docs/cli/dsuit-store.md.
 *
 *   dsuit store status --node URL [--json] [--timeout S]
 *       one GET /v1/store; text: one line per field; --json: the node's
 *       object, indented like every other --json output
 *
 * The answer is checked before anything is printed: it must be a JSON
 * object with the string "node" and the non-negative integers below, so a
 * script never reads half an answer. Exit codes: 2 for the command line;
 * 1 when the node cannot be reached, answers with another status than 200,
 * or with something that is not that object (docs/EXIT-CODES.md).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_tx.h"
#include "dsuit/error.h"
#include "net/http/client.h"

#define CMD        "store"
#define CMD_STATUS "store status"

/* Default --timeout, in seconds. */
#define STORE_TIMEOUT_DEFAULT 10.0

/* Largest answer read: the object is about 150 bytes. */
#define STORE_ANSWER_MAX (64u * 1024)

/* Longest node URL accepted, so that "<url>/v1/store" always fits. */
#define STORE_URL_MAX 512

static const char usage[] =
    "usage: dsuit store status --node URL [--json] [--timeout S]\n"
    "\n"
    "Show what a validator's chunk store holds. Run 'dsuit store status\n"
    "--help' for the options.\n";

static const char status_usage[] =
    "usage: dsuit store status --node URL [--json] [--timeout S]\n"
    "\n"
    "Ask the node at URL (GET /v1/store) how many chunks of published\n"
    "images it holds and their size, the policy's number of replicas, and\n"
    "how many chunks the chain has published, are under-replicated, and\n"
    "were repaired by this node.\n"
    "\n"
    "options:\n"
    "  --help, -h    show this help\n"
    "  --json        print the node's JSON object instead of text\n"
    "  --node URL    a node's HTTP API, http://HOST:PORT\n"
    "  --timeout S   give up after S seconds (default 10)\n";

enum { OPT_JSON = 256, OPT_NODE, OPT_TIMEOUT };

/* Sorted by name. */
static const struct option status_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPT_JSON},
    {"node", required_argument, NULL, OPT_NODE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {NULL, 0, NULL, 0},
};

/* The integer members of the answer, in the order the text prints them. */
enum {
    C_CHUNKS,
    C_BYTES,
    C_REPLICAS,
    C_PUBLISHED,
    C_UNDER,
    C_REPAIRED,
    N_COUNTERS
};
static const char *const counters[N_COUNTERS] = {
    [C_CHUNKS] = "chunks",          [C_BYTES] = "bytes",
    [C_REPLICAS] = "replicas",      [C_PUBLISHED] = "published_chunks",
    [C_UNDER] = "under_replicated", [C_REPAIRED] = "repaired",
};

/* An answer that passed check_answer(). */
typedef struct {
    const char *node; /* borrowed from the JSON object */
    uint64_t v[N_COUNTERS];
} store_status_t;

/*
 * Check that j is the object of GET /v1/store: "node" a string, every
 * counter an integer >= 0. On failure, why says what is wrong.
 * @return 0, or -1 (out untouched)
 */
static int check_answer(const json_t *j, store_status_t *out, char *why,
                        size_t why_cap)
{
    store_status_t s;
    const json_t *v;

    if (!json_is_object(j)) {
        snprintf(why, why_cap, "answer is not a JSON object");
        return -1;
    }
    v = json_object_get(j, "node");
    if (!json_is_string(v)) {
        snprintf(why, why_cap, "answer has no string 'node'");
        return -1;
    }
    s.node = json_string_value(v);
    for (size_t i = 0; i < N_COUNTERS; i++) {
        v = json_object_get(j, counters[i]);
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            snprintf(why, why_cap, "answer has no non-negative integer '%s'",
                     counters[i]);
            return -1;
        }
        s.v[i] = (uint64_t)json_integer_value(v);
    }
    *out = s;
    return 0;
}

/* "N bytes" below 1 KiB, else one decimal in the largest binary unit that
 * keeps the number at 1 or more ("116.4 MiB"). */
static void format_size(uint64_t bytes, char *out, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    size_t u = 0;

    if (bytes < 1024) {
        snprintf(out, cap, "%" PRIu64 " byte%s", bytes, bytes == 1 ? "" : "s");
        return;
    }
    v /= 1024.0;
    /* 1023.96 KiB rounds to "1.0 MiB", not "1024.0 KiB". */
    while (v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, cap, "%.1f %s", v, units[u]);
}

static void print_status(const store_status_t *s)
{
    char size[32];

    format_size(s->v[C_BYTES], size, sizeof size);
    fputs("node: ", stdout);
    /* A name from the network: no control characters to the terminal. */
    cli_print_text(s->node);
    putchar('\n');
    printf("chunks: %" PRIu64 " (%s)\n", s->v[C_CHUNKS], size);
    printf("replicas: %" PRIu64 "\n", s->v[C_REPLICAS]);
    printf("published chunks: %" PRIu64 "\n", s->v[C_PUBLISHED]);
    printf("under-replicated: %" PRIu64 "\n", s->v[C_UNDER]);
    printf("repaired: %" PRIu64 "\n", s->v[C_REPAIRED]);
}

/* ": <error>: <message>" of a JSON error answer, or "" if it has none. */
static void error_text(const uint8_t *body, size_t len, char *out, size_t cap)
{
    json_t *j =
        body != NULL ? json_loadb((const char *)body, len, 0, NULL) : NULL;
    const char *e = NULL, *m = NULL;

    if (j != NULL &&
        json_unpack(j, "{s?s, s?s}", "error", &e, "message", &m) == 0 &&
        e != NULL)
        snprintf(out, cap, ": %.64s%s%.160s", e, m != NULL ? ": " : "",
                 m != NULL ? m : "");
    else
        out[0] = '\0';
    json_decref(j);
}

static int store_status(int argc, char **argv)
{
    static const char *const headers[] = {"Accept: application/json", NULL};
    const char *node = NULL;
    char base[STORE_URL_MAX + 1], url[STORE_URL_MAX + 16], why[320];
    double timeout = STORE_TIMEOUT_DEFAULT, t0;
    uint8_t *body = NULL;
    size_t len = 0, n;
    long status = 0;
    json_t *j = NULL;
    store_status_t s;
    int c, err, json = 0, rc = DSUIT_EXIT_FAIL;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", status_longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(status_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_NODE:
            node = optarg;
            break;
        case OPT_TIMEOUT:
            if (cli_tx_parse_timeout(optarg, &timeout) != 0)
                return cli_usage_error(CMD_STATUS,
                                       "option '--timeout' needs seconds "
                                       "above 0 and at most 86400, not '%s'",
                                       optarg);
            break;
        default:
            return cli_getopt_error(CMD_STATUS, c, argv, status_longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD_STATUS, "unexpected argument '%s'",
                               argv[optind]);
    if (node == NULL)
        return cli_usage_error(CMD_STATUS, "missing option '--node'");
    if (cli_tx_check_url(node) != 0)
        return cli_usage_error(CMD_STATUS,
                               "'--node' needs a URL http://HOST:PORT, not "
                               "'%s'",
                               node);
    n = strlen(node);
    while (n > 0 && node[n - 1] == '/')
        n--;
    if (n > STORE_URL_MAX)
        return cli_usage_error(
            CMD_STATUS, "'--node' URL is longer than %d bytes", STORE_URL_MAX);
    memcpy(base, node, n);
    base[n] = '\0';
    snprintf(url, sizeof url, "%s/v1/store", base);

    /* A timeout below one millisecond still gets one. */
    t0 = cli_now_ms();
    err = dsuit_http_request(
        "GET", url, headers, NULL, 0,
        timeout * 1000.0 < 1.0 ? 1u : (unsigned)(timeout * 1000.0), &status,
        &body, &len, STORE_ANSWER_MAX);
    if (err == DSUIT_E_IO) {
        /* The client does not say why; the time spent tells a node that
         * did not answer in time from a refused or lost connection. */
        if (cli_now_ms() - t0 >= timeout * 1000.0 * 0.95)
            snprintf(why, sizeof why, "no answer within %g s", timeout);
        else
            snprintf(why, sizeof why,
                     "cannot connect, or the connection was lost");
        cli_error_subject(CMD_STATUS, "cannot reach", base, why);
        goto out;
    }
    if (err == DSUIT_E_LIMIT) {
        snprintf(why, sizeof why, "answer is larger than %u bytes",
                 STORE_ANSWER_MAX);
        cli_error_subject(CMD_STATUS, "unexpected answer from", base, why);
        goto out;
    }
    if (err != DSUIT_OK) {
        cli_error_subject(CMD_STATUS, "cannot reach", base,
                          dsuit_strerror(err));
        goto out;
    }
    if (status != 200) {
        char detail[256];
        error_text(body, len, detail, sizeof detail);
        snprintf(why, sizeof why, "HTTP %ld%s", status, detail);
        cli_error_subject(CMD_STATUS, "unexpected answer from", base, why);
        goto out;
    }
    j = json_loadb((const char *)body, len, 0, NULL);
    if (j == NULL) {
        cli_error_subject(CMD_STATUS, "unexpected answer from", base,
                          "answer is not JSON");
        goto out;
    }
    if (check_answer(j, &s, why, sizeof why) != 0) {
        cli_error_subject(CMD_STATUS, "unexpected answer from", base, why);
        goto out;
    }
    if (json)
        cli_print_json(j);
    else
        print_status(&s);
    rc = DSUIT_EXIT_OK;
out:
    json_decref(j);
    free(body);
    return rc;
}

static const cli_verb_t verbs[] = {
    {"status", store_status},
};

int cmd_store(int argc, char **argv)
{
    return cli_run_verb(CMD, usage, "missing verb: status", 1, verbs,
                        sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
