/*
 * `dsuit genesis`: found a chain (docs/formats/ledger.md, "Genesis").
 *
 *   dsuit genesis --chain-id NAME --validator SPEC... --registrar PUB...
 *                 [policy options] -o FILE
 *       build the genesis from the command line, check it with the
 *       library's rules (dsuit_genesis_validate), write it atomically and
 *       print its SHA-256, the chain id hash
 *   dsuit genesis show FILE [--json]
 *       decode a genesis (refusing anything dsuit_genesis_decode refuses)
 *       and print what it fixes
 *
 * A validator SPEC is NAME=PUB@HOST:RAFTPORT/HTTPPORT/COAPPORT. PUB is a
 * key file as cli_load_key() reads it: a COSE_Key .pub, or PEM, private or
 * public; a genesis never holds secrets, so only the public half of a
 * private key is used (dsuit_genesis_add_validator copies only that).
 * HOST is an IPv4 address, an IPv6 address in brackets (stored without
 * them), or a DNS name.
 *
 * Exit codes: 2 for anything wrong on the command line, including a
 * genesis the rules refuse for its numbers or names (threshold, quorum,
 * duplicate names); 3 for key files that are not acceptable (not a key,
 * another algorithm, the same key twice); 1 when a file cannot be read or
 * written. Page: docs/cli/dsuit-genesis.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"

#define CMD      "genesis"
#define CMD_SHOW "genesis show"

/* A genesis of 64 validators with 253-byte host names and 64 registrars
 * is about 32 KiB; refuse reading anything far larger. */
#define GENESIS_FILE_MAX (256 * 1024)

static const char usage[] =
    "usage: dsuit genesis --chain-id NAME --validator SPEC... --registrar "
    "PUB...\n"
    "                     [--registrar-threshold K] [--quorum Q]\n"
    "                     [--chunk-size BYTES] [--replicas R]\n"
    "                     [--max-image-size BYTES] [--heartbeat-ms MS]\n"
    "                     [--time UNIXSECONDS] [--force] -o FILE\n"
    "       dsuit genesis show FILE [--json]\n"
    "\n"
    "Write the genesis of a new chain to FILE and print its chain id hash\n"
    "(SHA-256 of FILE) in hex. SPEC is NAME=PUB@HOST:RAFTPORT/HTTPPORT/"
    "COAPPORT,\n"
    "PUB a key file (COSE_Key .pub or PEM; of a private key only the public\n"
    "half is used). HOST is an IPv4 address, [IPv6] or a DNS name.\n"
    "\n"
    "options:\n"
    "  --chain-id NAME            chain name (letters, digits, . _ -)\n"
    "  --chunk-size BYTES         image chunk size (default 262144)\n"
    "  --force                    replace FILE if it exists\n"
    "  --heartbeat-ms MS          empty-block interval (default 5000)\n"
    "  --help, -h                 show this help\n"
    "  --max-image-size BYTES     largest image (default 104857600)\n"
    "  --out FILE, -o FILE        write the genesis to FILE\n"
    "  --quorum Q                 certificate quorum (default 2n/3+1)\n"
    "  --registrar PUB            a registrar's key file (repeat)\n"
    "  --registrar-threshold K    registrar signatures needed (default 1)\n"
    "  --replicas R               chunk replicas (default 3, at most n)\n"
    "  --time UNIXSECONDS         creation time (default now)\n"
    "  --validator SPEC           a validator (repeat, in index order)\n"
    "\n"
    "Run 'dsuit genesis show --help' for the show verb.\n";

static const char show_usage[] =
    "usage: dsuit genesis show FILE [--json]\n"
    "\n"
    "Decode the genesis in FILE and print its chain name, time, chain id\n"
    "hash, validators, registrars, threshold and policy.\n"
    "\n"
    "options:\n"
    "  --help, -h   show this help\n"
    "  --json       print one JSON object instead of text\n";

enum {
    OPT_CHAIN_ID = 256,
    OPT_CHUNK_SIZE,
    OPT_FORCE,
    OPT_HEARTBEAT_MS,
    OPT_JSON,
    OPT_MAX_IMAGE_SIZE,
    OPT_QUORUM,
    OPT_REGISTRAR,
    OPT_REGISTRAR_THRESHOLD,
    OPT_REPLICAS,
    OPT_TIME,
    OPT_VALIDATOR
};

/* Sorted by name. */
static const struct option longopts[] = {
    {"chain-id", required_argument, NULL, OPT_CHAIN_ID},
    {"chunk-size", required_argument, NULL, OPT_CHUNK_SIZE},
    {"force", no_argument, NULL, OPT_FORCE},
    {"heartbeat-ms", required_argument, NULL, OPT_HEARTBEAT_MS},
    {"help", no_argument, NULL, 'h'},
    {"max-image-size", required_argument, NULL, OPT_MAX_IMAGE_SIZE},
    {"out", required_argument, NULL, 'o'},
    {"quorum", required_argument, NULL, OPT_QUORUM},
    {"registrar", required_argument, NULL, OPT_REGISTRAR},
    {"registrar-threshold", required_argument, NULL, OPT_REGISTRAR_THRESHOLD},
    {"replicas", required_argument, NULL, OPT_REPLICAS},
    {"time", required_argument, NULL, OPT_TIME},
    {"validator", required_argument, NULL, OPT_VALIDATOR},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option show_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

/* ---- parsing ------------------------------------------------------------ */

static int parse_port(const char *s, uint16_t *out)
{
    uint64_t v;
    if (cli_parse_u64(s, &v) != 0 || v == 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* Chain and validator names: they appear in logs and file names, so keep
 * them to a plain alphabet. */
static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > DSUIT_GENESIS_NAME_MAX)
        return 0;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* A DNS name (RFC 1123 labels) that is not all digits and dots, which
 * would be a mistyped IPv4 address. */
static int valid_dns_name(const char *s)
{
    size_t n = strlen(s), label = 0;
    int alpha = 0;
    char prev = '.';
    if (n == 0 || n > DSUIT_GENESIS_HOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || prev == '-')
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '-') {
            if ((label == 0 && c == '-') || ++label > 63)
                return 0;
            if (!(c >= '0' && c <= '9'))
                alpha = 1;
        } else {
            return 0;
        }
        prev = c;
    }
    return label > 0 && prev != '-' && alpha;
}

typedef struct {
    char name[DSUIT_GENESIS_NAME_MAX + 1];
    const char *key_path; /* points into argv */
    char host[DSUIT_GENESIS_HOST_MAX + 1];
    uint16_t raft, http, coap;
} validator_spec_t;

/*
 * Parse NAME=PUB@HOST:RAFT/HTTP/COAP. PUB is taken up to the last '@', so
 * a key path may hold '@'; HOST up to the last ':' unless it is
 * bracketed. On failure returns a static reason.
 */
static const char *parse_validator(const char *spec, validator_spec_t *out)
{
    const char *eq = strchr(spec, '='), *at, *host, *ports;
    char buf[1024], *slash1, *slash2;
    size_t name_len, host_len;

    memset(out, 0, sizeof *out);
    if (eq == NULL)
        return "expected NAME=PUB@HOST:RAFTPORT/HTTPPORT/COAPPORT";
    name_len = (size_t)(eq - spec);
    if (name_len == 0)
        return "validator name is empty";
    if (name_len > DSUIT_GENESIS_NAME_MAX)
        return "validator name is longer than 63 characters";
    memcpy(out->name, spec, name_len);
    out->name[name_len] = '\0';
    if (!valid_name(out->name))
        return "validator name may hold only letters, digits, '.', '_' "
               "and '-'";
    at = strrchr(eq + 1, '@');
    if (at == NULL)
        return "missing '@HOST:RAFTPORT/HTTPPORT/COAPPORT' after the key file";
    if (at == eq + 1)
        return "key file name is empty";
    if ((size_t)(at - (eq + 1)) >= sizeof buf)
        return "key file name is too long";
    host = at + 1;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (close == NULL || close[1] != ':')
            return "an IPv6 address must be written [ADDRESS]:PORTS";
        host_len = (size_t)(close - host - 1);
        ports = close + 2;
        if (host_len == 0 || host_len >= sizeof out->host)
            return "IPv6 address is empty or too long";
        memcpy(out->host, host + 1, host_len);
        out->host[host_len] = '\0';
        {
            struct in6_addr a6;
            if (inet_pton(AF_INET6, out->host, &a6) != 1)
                return "not a valid IPv6 address";
        }
    } else {
        const char *colon = strrchr(host, ':');
        struct in_addr a4;
        if (colon == NULL)
            return "missing ':RAFTPORT/HTTPPORT/COAPPORT' after the host";
        host_len = (size_t)(colon - host);
        ports = colon + 1;
        if (host_len == 0)
            return "host is empty";
        if (host_len > DSUIT_GENESIS_HOST_MAX)
            return "host is longer than 253 characters";
        memcpy(out->host, host, host_len);
        out->host[host_len] = '\0';
        if (inet_pton(AF_INET, out->host, &a4) != 1 &&
            !valid_dns_name(out->host))
            return strchr(out->host, ':') != NULL
                       ? "an IPv6 address must be written [ADDRESS]:PORTS"
                       : "host is not an IPv4 address or a DNS name";
    }
    if (strlen(ports) >= sizeof buf)
        return "ports are too long";
    strcpy(buf, ports);
    slash1 = strchr(buf, '/');
    slash2 = slash1 != NULL ? strchr(slash1 + 1, '/') : NULL;
    if (slash1 == NULL || slash2 == NULL || strchr(slash2 + 1, '/') != NULL)
        return "expected three ports RAFTPORT/HTTPPORT/COAPPORT";
    *slash1 = '\0';
    *slash2 = '\0';
    if (parse_port(buf, &out->raft) != 0 ||
        parse_port(slash1 + 1, &out->http) != 0 ||
        parse_port(slash2 + 1, &out->coap) != 0)
        return "a port is not a number from 1 to 65535";
    out->key_path = eq + 1; /* up to `at`: cut off by the caller */
    return NULL;
}

/* The key path of a parsed spec (between '=' and the last '@'). */
static char *spec_key_path(const validator_spec_t *v)
{
    const char *at = strrchr(v->key_path, '@');
    size_t n = (size_t)(at - v->key_path);
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, v->key_path, n);
        p[n] = '\0';
    }
    return p;
}

/* Load a key file and refuse anything but P-256 and Ed25519. */
static int load_public(const char *path, dsuit_key_t *out)
{
    int rc = cli_load_key(CMD, path, out);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    if (out->type != DSUIT_KEY_P256 && out->type != DSUIT_KEY_ED25519) {
        cli_error_subject(CMD, "cannot use key", path,
                          "not a P-256 or Ed25519 key");
        dsuit_key_wipe(out);
        return DSUIT_EXIT_REJECT;
    }
    return DSUIT_EXIT_OK;
}

/* ---- create ------------------------------------------------------------- */

typedef struct {
    const char *chain;
    const char *out;
    const char **validators; /* argv strings */
    size_t n_validators;
    const char **registrars;
    size_t n_registrars;
    int force;
    int have_time;
    uint64_t time, threshold;
    dsuit_policy_t policy;
} create_opts_t;

static int number_opt(const char *name, const char *value, uint64_t *out)
{
    if (cli_parse_u64(value, out) != 0)
        return cli_usage_error(CMD, "option '--%s' needs a number, not '%s'",
                               name, value);
    return DSUIT_EXIT_OK;
}

static int genesis_create(int argc, char **argv)
{
    create_opts_t o;
    dsuit_genesis_t *g = NULL;
    validator_spec_t spec;
    dsuit_key_t key;
    const char **vbuf = NULL, **rbuf = NULL;
    const char *why = NULL;
    char *key_path = NULL;
    char *vpaths[DSUIT_GENESIS_MAX_VALIDATORS] = {NULL};
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    char hex[2 * DSUIT_SHA256_LEN + 1];
    int c, err, rc = DSUIT_EXIT_FAIL;

    memset(&o, 0, sizeof o);
    memset(&key, 0, sizeof key);
    o.threshold = 1;
    o.policy.chunk_size = DSUIT_POLICY_CHUNK_SIZE;
    o.policy.replicas = DSUIT_POLICY_REPLICAS;
    o.policy.max_image_size = DSUIT_POLICY_MAX_IMAGE_SIZE;
    o.policy.heartbeat_ms = DSUIT_POLICY_HEARTBEAT_MS;
    /* Every option names at most one validator or registrar. */
    vbuf = calloc((size_t)argc + 1, sizeof *vbuf);
    rbuf = calloc((size_t)argc + 1, sizeof *rbuf);
    if (vbuf == NULL || rbuf == NULL) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    o.validators = vbuf;
    o.registrars = rbuf;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CHAIN_ID:
            o.chain = optarg;
            break;
        case OPT_CHUNK_SIZE:
            rc = number_opt("chunk-size", optarg, &o.policy.chunk_size);
            break;
        case OPT_FORCE:
            o.force = 1;
            break;
        case OPT_HEARTBEAT_MS:
            rc = number_opt("heartbeat-ms", optarg, &o.policy.heartbeat_ms);
            break;
        case 'h':
            fputs(usage, stdout);
            rc = DSUIT_EXIT_OK;
            goto out;
        case OPT_MAX_IMAGE_SIZE:
            rc = number_opt("max-image-size", optarg, &o.policy.max_image_size);
            break;
        case 'o':
            o.out = optarg;
            break;
        case OPT_QUORUM:
            rc = number_opt("quorum", optarg, &o.policy.quorum);
            if (rc == DSUIT_EXIT_OK && o.policy.quorum == 0)
                rc = cli_usage_error(CMD, "option '--quorum' must be at "
                                          "least 1");
            break;
        case OPT_REGISTRAR:
            o.registrars[o.n_registrars++] = optarg;
            break;
        case OPT_REGISTRAR_THRESHOLD:
            rc = number_opt("registrar-threshold", optarg, &o.threshold);
            break;
        case OPT_REPLICAS:
            rc = number_opt("replicas", optarg, &o.policy.replicas);
            break;
        case OPT_TIME:
            rc = number_opt("time", optarg, &o.time);
            o.have_time = 1;
            break;
        case OPT_VALIDATOR:
            o.validators[o.n_validators++] = optarg;
            break;
        default:
            rc = cli_getopt_error(CMD, c, argv, longopts);
            goto out;
        }
        if (rc == DSUIT_EXIT_USAGE)
            goto out;
    }
    rc = DSUIT_EXIT_USAGE;
    if (optind < argc) {
        cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (o.chain == NULL) {
        cli_usage_error(CMD, "missing option '--chain-id'");
        goto out;
    }
    if (!valid_name(o.chain)) {
        cli_usage_error(CMD,
                        "chain name '%s' must be 1 to 63 letters, digits, "
                        "'.', '_' or '-'",
                        o.chain);
        goto out;
    }
    if (o.n_validators == 0) {
        cli_usage_error(CMD, "missing option '--validator'");
        goto out;
    }
    if (o.n_validators > DSUIT_GENESIS_MAX_VALIDATORS) {
        cli_usage_error(CMD, "too many validators: at most %d",
                        DSUIT_GENESIS_MAX_VALIDATORS);
        goto out;
    }
    if (o.n_registrars == 0) {
        cli_usage_error(CMD, "missing option '--registrar'");
        goto out;
    }
    if (o.n_registrars > DSUIT_GENESIS_MAX_REGISTRARS) {
        cli_usage_error(CMD, "too many registrars: at most %d",
                        DSUIT_GENESIS_MAX_REGISTRARS);
        goto out;
    }
    if (o.out == NULL) {
        cli_usage_error(CMD, "missing option '--out'");
        goto out;
    }
    if (o.out[0] == '\0') {
        cli_usage_error(CMD, "empty file name for '--out'");
        goto out;
    }
    /* Every spec is checked before any key file is read, so a typo is
     * reported as such even when a key file is also wrong. */
    for (size_t i = 0; i < o.n_validators; i++) {
        const char *bad = parse_validator(o.validators[i], &spec);
        if (bad != NULL) {
            cli_usage_error(CMD, "bad validator '%s': %s", o.validators[i],
                            bad);
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            validator_spec_t other;
            parse_validator(o.validators[j], &other);
            if (strcmp(other.name, spec.name) == 0) {
                cli_usage_error(CMD,
                                "bad validator '%s': the name '%s' is "
                                "already used",
                                o.validators[i], spec.name);
                goto out;
            }
        }
    }

    err = dsuit_genesis_new(&g);
    if (err != DSUIT_OK) {
        cli_error(CMD, "out of memory");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    strcpy(g->chain_name, o.chain); /* valid_name: at most 63 bytes */
    g->time = o.have_time ? o.time : (uint64_t)time(NULL);
    g->threshold = o.threshold;
    g->policy = o.policy;

    for (size_t i = 0; i < o.n_validators; i++) {
        int idx;
        parse_validator(o.validators[i], &spec);
        key_path = spec_key_path(&spec);
        if (key_path == NULL) {
            cli_error(CMD, "out of memory");
            rc = DSUIT_EXIT_FAIL;
            goto out;
        }
        vpaths[i] = key_path;
        key_path = NULL;
        rc = load_public(vpaths[i], &key);
        if (rc != DSUIT_EXIT_OK)
            goto out;
        err = dsuit_genesis_add_validator(g, spec.name, &key, spec.host,
                                          spec.raft, spec.http, spec.coap);
        dsuit_key_wipe(&key);
        if (err != DSUIT_OK) {
            cli_error_subject(CMD, "cannot use key", vpaths[i],
                              dsuit_strerror(err));
            rc = cli_exit_for_err(err == DSUIT_E_INVAL ? DSUIT_E_KEY : err);
            goto out;
        }
        /* The same key for two validators would let one machine count
         * twice toward a quorum. */
        idx = dsuit_genesis_validator_index(g, g->validators[i].key_id);
        if (idx >= 0 && (size_t)idx < i) {
            char reason[128];
            snprintf(reason, sizeof reason,
                     "validator '%s' has the same key (from '%s')",
                     g->validators[idx].name, vpaths[idx]);
            cli_error_subject(CMD, "cannot use key", vpaths[i], reason);
            rc = DSUIT_EXIT_REJECT;
            goto out;
        }
    }
    for (size_t i = 0; i < o.n_registrars; i++) {
        int idx;
        rc = load_public(o.registrars[i], &key);
        if (rc != DSUIT_EXIT_OK)
            goto out;
        err = dsuit_genesis_add_registrar(g, &key);
        dsuit_key_wipe(&key);
        if (err != DSUIT_OK) {
            cli_error_subject(CMD, "cannot use key", o.registrars[i],
                              dsuit_strerror(err));
            rc = cli_exit_for_err(err);
            goto out;
        }
        /* Two copies of one key would meet a threshold of two alone. */
        idx = dsuit_genesis_registrar_index(g, g->registrar_ids[i]);
        if (idx >= 0 && (size_t)idx < i) {
            char reason[160];
            snprintf(reason, sizeof reason,
                     "registrar %d ('%s') has the same key", idx,
                     o.registrars[idx]);
            cli_error_subject(CMD, "cannot use key", o.registrars[i], reason);
            rc = DSUIT_EXIT_REJECT;
            goto out;
        }
    }

    /* What is left for the rules to refuse are numbers and names given on
     * the command line: a usage error, worded by the library. */
    err = dsuit_genesis_validate(g, &why);
    if (err != DSUIT_OK) {
        rc = cli_usage_error(CMD, "invalid genesis: %s",
                             why != NULL ? why : dsuit_strerror(err));
        goto out;
    }
    err = dsuit_genesis_encode(g, NULL, 0, &enc_len);
    if (err != DSUIT_E_LIMIT && err != DSUIT_OK) {
        cli_error(CMD, "cannot encode the genesis: %s", dsuit_strerror(err));
        rc = cli_exit_for_err(err);
        goto out;
    }
    enc = malloc(enc_len);
    if (enc == NULL) {
        cli_error(CMD, "out of memory");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    err = dsuit_genesis_encode(g, enc, enc_len, &enc_len);
    if (err != DSUIT_OK) {
        cli_error(CMD, "cannot encode the genesis: %s", dsuit_strerror(err));
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    rc = cli_write_file_atomic(CMD, o.out, enc, enc_len, 0644, o.force);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    cli_hex_encode(g->hash, sizeof g->hash, hex, sizeof hex);
    printf("%s\n", hex);
    rc = DSUIT_EXIT_OK;
out:
    dsuit_key_wipe(&key);
    for (size_t i = 0; i < DSUIT_GENESIS_MAX_VALIDATORS; i++)
        free(vpaths[i]);
    free(key_path);
    free(enc);
    dsuit_genesis_free(g);
    free(vbuf);
    free(rbuf);
    return rc;
}

/* ---- show --------------------------------------------------------------- */

/* ISO 8601 UTC of seconds since 1970, or "" if out of range. */
static void iso_time(uint64_t secs, char *out, size_t cap)
{
    struct tm tm;
    time_t t = (time_t)secs;
    out[0] = '\0';
    /* Past the year 9999 ISO 8601 needs an extended year form. */
    if (secs > 253402300799u || gmtime_r(&t, &tm) == NULL ||
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0';
}

static json_t *genesis_json(const dsuit_genesis_t *g)
{
    json_t *root = json_object(), *vals = json_array(), *regs = json_array();
    char iso[64];

    iso_time(g->time, iso, sizeof iso);
    json_object_set_new(root, "chain_name", json_string(g->chain_name));
    json_object_set_new(root, "time", cli_u64_json(g->time));
    json_object_set_new(root, "time_utc",
                        iso[0] ? json_string(iso) : json_null());
    json_object_set_new(root, "chain_id", cli_hex_json(g->hash, 32));
    for (size_t i = 0; i < g->n_validators; i++) {
        const dsuit_validator_t *v = &g->validators[i];
        json_t *j = json_object();
        json_object_set_new(j, "index", json_integer((json_int_t)i));
        json_object_set_new(j, "name", json_string(v->name));
        json_object_set_new(j, "alg",
                            json_string(dsuit_key_type_name(v->key.type)));
        json_object_set_new(j, "key_id", cli_hex_json(v->key_id, 32));
        json_object_set_new(j, "host", json_string(v->host));
        json_object_set_new(j, "raft_port", json_integer(v->raft_port));
        json_object_set_new(j, "http_port", json_integer(v->http_port));
        json_object_set_new(j, "coap_port", json_integer(v->coap_port));
        json_array_append_new(vals, j);
    }
    json_object_set_new(root, "validators", vals);
    for (size_t i = 0; i < g->n_registrars; i++) {
        json_t *j = json_object();
        json_object_set_new(j, "index", json_integer((json_int_t)i));
        json_object_set_new(
            j, "alg", json_string(dsuit_key_type_name(g->registrars[i].type)));
        json_object_set_new(j, "key_id", cli_hex_json(g->registrar_ids[i], 32));
        json_array_append_new(regs, j);
    }
    json_object_set_new(root, "registrars", regs);
    json_object_set_new(root, "threshold", cli_u64_json(g->threshold));
    json_object_set_new(
        root, "policy",
        json_pack("{s:o,s:o,s:o,s:o,s:o}", "quorum",
                  cli_u64_json(g->policy.quorum), "chunk_size",
                  cli_u64_json(g->policy.chunk_size), "replicas",
                  cli_u64_json(g->policy.replicas), "max_image_size",
                  cli_u64_json(g->policy.max_image_size), "heartbeat_ms",
                  cli_u64_json(g->policy.heartbeat_ms)));
    return root;
}

static void print_genesis(const dsuit_genesis_t *g)
{
    char hex[2 * DSUIT_SHA256_LEN + 1], iso[64];

    iso_time(g->time, iso, sizeof iso);
    cli_hex_encode(g->hash, 32, hex, sizeof hex);
    fputs("chain name: ", stdout);
    cli_print_text(g->chain_name);
    putchar('\n');
    if (iso[0])
        printf("time: %s (%" PRIu64 ")\n", iso, g->time);
    else
        printf("time: %" PRIu64 "\n", g->time);
    printf("chain id: %s\n", hex);
    printf("validators: %zu\n", g->n_validators);
    for (size_t i = 0; i < g->n_validators; i++) {
        const dsuit_validator_t *v = &g->validators[i];
        int v6 = strchr(v->host, ':') != NULL;
        cli_hex_encode(v->key_id, 32, hex, sizeof hex);
        printf("  %zu ", i);
        cli_print_text(v->name);
        printf(" %s %s %s", dsuit_key_type_name(v->key.type), hex,
               v6 ? "[" : "");
        cli_print_text(v->host);
        printf("%s raft %u http %u coap %u\n", v6 ? "]" : "", v->raft_port,
               v->http_port, v->coap_port);
    }
    printf("registrars: %zu\n", g->n_registrars);
    for (size_t i = 0; i < g->n_registrars; i++) {
        cli_hex_encode(g->registrar_ids[i], 32, hex, sizeof hex);
        printf("  %zu %s %s\n", i, dsuit_key_type_name(g->registrars[i].type),
               hex);
    }
    printf("threshold: %" PRIu64 "\n", g->threshold);
    printf("quorum: %" PRIu64 "\n", g->policy.quorum);
    printf("chunk size: %" PRIu64 "\n", g->policy.chunk_size);
    printf("replicas: %" PRIu64 "\n", g->policy.replicas);
    printf("max image size: %" PRIu64 "\n", g->policy.max_image_size);
    printf("heartbeat ms: %" PRIu64 "\n", g->policy.heartbeat_ms);
}

static int genesis_show(int argc, char **argv)
{
    dsuit_genesis_t *g = NULL;
    const char *path, *why = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int json, err, rc;

    rc = cli_show_args(CMD_SHOW, show_usage, show_longopts, OPT_JSON,
                       "missing genesis FILE", argc, argv, &json, &path);
    if (rc != CLI_GO_ON)
        return rc;

    rc = cli_read_file(CMD_SHOW, path, GENESIS_FILE_MAX, &buf, &len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    err = dsuit_genesis_decode(buf, len, &g, &why);
    free(buf);
    if (err != DSUIT_OK) {
        cli_error_subject(CMD_SHOW, "rejected", path,
                          why != NULL ? why : dsuit_strerror(err));
        return err == DSUIT_E_NOMEM ? DSUIT_EXIT_FAIL : DSUIT_EXIT_REJECT;
    }
    if (json) {
        rc = cli_print_json_new(CMD_SHOW, genesis_json(g));
    } else {
        print_genesis(g);
        rc = DSUIT_EXIT_OK;
    }
    dsuit_genesis_free(g);
    return rc;
}

int cmd_genesis(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return genesis_show(argc - 1, argv + 1);
    return genesis_create(argc, argv);
}
